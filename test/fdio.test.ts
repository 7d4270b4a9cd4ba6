// fdio: plain descriptors become handles (fdTransfer, fdClone) and handles become plain
// descriptors again (fdCreate), with types and rights from what the descriptor really is.
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
  constants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_BASIC,
  ZX_INFO_HANDLE_VALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  ZX_RIGHT_SAME_RIGHTS,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import { fixture, reportOf, spawnWithFds, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';

const CONTENTS = 'known contents of a regular file';
let dir: string;
let file: string;
let fdsBefore: number;
let handlesBefore: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-fdio-'));
  file = path.join(dir, 'file.txt');
  writeFileSync(file, CONTENTS);
  await warmUpSpawn();
  warmUpWait();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every case ends with the descriptors and handles it started with.
beforeEach(() => {
  fdsBefore = openFdCount();
  handlesBefore = native.handleCount();
});
afterEach(() => {
  expect(native.handleCount()).toBe(handlesBefore);
  expect(openFdCount()).toBe(fdsBefore);
});

function basicInfo(h: number) {
  const { status, info } = sys.objectGetInfo(h, ZX_INFO_HANDLE_BASIC);
  expect(status).toBe(ZX_OK);
  return info!;
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(256);
  return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
}

function isValid(h: number): boolean {
  return sys.objectGetInfo(h, ZX_INFO_HANDLE_VALID).status === ZX_OK;
}

describe('fdTransfer and fdClone', () => {
  it('a socketpair of the channels’ kind made outside the library becomes a working channel; a listening or unconnected one a plain descriptor', async () => {
    // The channels' kind: SOCK_SEQPACKET, or SOCK_STREAM on the portable backend
    // (docs/architecture.md, "Backends"); the socket of the other kind is the other one.
    const child = spawnWithFds('python3', [
      fixture('raw-socketpairs.py'),
      process.execPath,
      fixture('child-foreign-sockets.cjs'),
    ]);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const report = reportOf(child);
    expect(report.transfers).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK, ZX_OK]);
    // Its peer's koid is unknown: relatedKoid 0.
    const channel = { status: ZX_OK, type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS, related: '0' };
    expect(report.a).toEqual(channel);
    expect(report.b).toEqual(channel);
    // A socket of the other kind is just a descriptor, read-write.
    const rw = ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE;
    expect(report.other).toEqual({ status: ZX_OK, type: ZX_OBJ_TYPE_FD, rights: rw, related: '0' });
    // A listening or never-connected socket has no peer: not an endpoint.
    expect(report.listening).toEqual({ status: ZX_OK, type: ZX_OBJ_TYPE_FD, rights: rw, related: '0' });
    expect(report.unconnected).toEqual({ status: ZX_OK, type: ZX_OBJ_TYPE_FD, rights: rw, related: '0' });
    expect(report.write).toBe(ZX_OK);
    expect(report.read).toEqual({
      status: ZX_OK,
      bytes: 'across a foreign pair',
      handles: [{ type: ZX_OBJ_TYPE_FD, rights: rw }],
    });
    expect(report.peerClosed).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED });
  });

  it.each([
    ['O_RDONLY', constants.O_RDONLY, ZX_RIGHT_READ],
    ['O_WRONLY', constants.O_WRONLY, ZX_RIGHT_WRITE],
    ['O_RDWR', constants.O_RDWR, ZX_RIGHT_READ | ZX_RIGHT_WRITE],
  ])('a regular file opened %s becomes a descriptor handle with rights from its mode', (_name, mode, access) => {
    for (const take of [fdio.fdTransfer, fdio.fdClone]) {
      const fd = openSync(file, mode);
      const { status, handle } = take(fd);
      expect(status).toBe(ZX_OK);
      expect(handle & 3).toBe(3);
      const info = basicInfo(handle);
      expect(info.type).toBe(ZX_OBJ_TYPE_FD);
      expect(info.rights).toBe(ZX_RIGHTS_BASIC | access);
      expect(info.koid).toBeGreaterThan(0n);
      expect(info.relatedKoid).toBe(0n);
      if (take === fdio.fdClone) closeSync(fd);
      // The handle owns its descriptor: closing it closes the descriptor.
      expect(sys.handleClose(handle)).toBe(ZX_OK);
      expect(openFdCount()).toBe(fdsBefore);
    }
  });

  it('fdTransfer takes the descriptor itself; fdClone leaves the caller its own', () => {
    const fd = openSync(file, 'r');
    const cloned = fdio.fdClone(fd);
    expect(cloned.status).toBe(ZX_OK);
    expect(openFdCount()).toBe(fdsBefore + 2);
    expect(sys.handleClose(cloned.handle)).toBe(ZX_OK);
    // Still usable after the clone's handle is gone.
    expect(readAll(fd)).toBe(CONTENTS);

    const moved = fdio.fdTransfer(fd);
    expect(moved.status).toBe(ZX_OK);
    expect(openFdCount()).toBe(fdsBefore + 1); // the same descriptor, now the handle's
    expect(sys.handleClose(moved.handle)).toBe(ZX_OK);
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  it('a negative or closed descriptor is ZX_ERR_INVALID_ARGS', () => {
    const closed = openSync(file, 'r');
    closeSync(closed);
    for (const take of [fdio.fdTransfer, fdio.fdClone]) {
      expect(take(-1)).toEqual({ status: ZX_ERR_INVALID_ARGS, handle: ZX_HANDLE_INVALID });
      expect(take(closed)).toEqual({ status: ZX_ERR_INVALID_ARGS, handle: ZX_HANDLE_INVALID });
      expect(take(1_000_000)).toEqual({ status: ZX_ERR_INVALID_ARGS, handle: ZX_HANDLE_INVALID });
    }
  });

  it('a descriptor that is not an integer is a TypeError', () => {
    expect(() => fdio.fdTransfer('3' as unknown as number)).toThrow(TypeError);
    expect(() => fdio.fdClone(1.5)).toThrow(TypeError);
  });
});

describe('fdCreate', () => {
  it('consumes the handle and returns a working descriptor', () => {
    const { handle } = fdio.fdTransfer(openSync(file, 'r'));
    const { status, fd } = fdio.fdCreate(handle);
    expect(status).toBe(ZX_OK);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(readAll(fd)).toBe(CONTENTS);
    expect(isValid(handle)).toBe(false);
    expect(sys.handleClose(handle)).toBe(ZX_ERR_BAD_HANDLE);
    expect(fdio.fdCreate(handle)).toEqual({ status: ZX_ERR_BAD_HANDLE, fd: -1 });
    expect(openFdCount()).toBe(fdsBefore + 1);
    closeSync(fd);
  });

  it('a stale or invalid handle is ZX_ERR_BAD_HANDLE', () => {
    const { handle } = fdio.fdTransfer(openSync(file, 'r'));
    expect(sys.handleClose(handle)).toBe(ZX_OK);
    expect(fdio.fdCreate(handle)).toEqual({ status: ZX_ERR_BAD_HANDLE, fd: -1 });
    expect(fdio.fdCreate(ZX_HANDLE_INVALID)).toEqual({ status: ZX_ERR_BAD_HANDLE, fd: -1 });
    expect(() => fdio.fdCreate(-1)).toThrow(TypeError);
  });

  it('of one of two handles to the same descriptor leaves the other working', () => {
    const { handle } = fdio.fdTransfer(openSync(file, 'r'));
    const dup = sys.handleDuplicate(handle, ZX_RIGHT_SAME_RIGHTS);
    expect(dup.status).toBe(ZX_OK);
    const first = fdio.fdCreate(handle);
    expect(first.status).toBe(ZX_OK);
    expect(readAll(first.fd)).toBe(CONTENTS);
    closeSync(first.fd);
    const second = fdio.fdCreate(dup.out);
    expect(second.status).toBe(ZX_OK);
    expect(readAll(second.fd)).toBe(CONTENTS);
    closeSync(second.fd);
  });

  it('a channel endpoint leaves as a plain descriptor and comes back as a working channel', async () => {
    const { out0, out1 } = sys.channelCreate(0);
    // Written before the move: it waits in the kernel and travels with the descriptor.
    expect(sys.channelWrite(out0, 0, Buffer.from('before'), null)).toBe(ZX_OK);

    const out = fdio.fdCreate(out1);
    expect(out.status).toBe(ZX_OK);
    expect(isValid(out1)).toBe(false);
    expect(fstatSync(out.fd).isSocket()).toBe(true);
    expect(sys.channelWrite(out0, 0, Buffer.from('while away'), null)).toBe(ZX_OK);

    const back = fdio.fdTransfer(out.fd);
    expect(back.status).toBe(ZX_OK);
    const info = basicInfo(back.handle);
    expect(info.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(info.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(sys.objectWaitOne(back.handle, ZX_CHANNEL_READABLE, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE,
    });
    expect(sys.channelRead(back.handle, 0, 65536, 64).bytes.toString()).toBe('before');
    expect(sys.channelRead(back.handle, 0, 65536, 64).bytes.toString()).toBe('while away');
    expect(sys.channelRead(back.handle, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    // Both ways, with a handle inside.
    const fileHandle = fdio.fdTransfer(openSync(file, 'r')).handle;
    expect(sys.channelWrite(back.handle, 0, Buffer.from('reply'), [fileHandle])).toBe(ZX_OK);
    const r = sys.channelReadEtc(out0, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.toString()).toBe('reply');
    expect(r.handles).toHaveLength(1);
    expect(r.handles[0].type).toBe(ZX_OBJ_TYPE_FD);
    const made = fdio.fdCreate(r.handles[0].handle);
    expect(readAll(made.fd)).toBe(CONTENTS);
    closeSync(made.fd);

    expect(sys.handleClose(back.handle)).toBe(ZX_OK);
    expect(await waitSignals(out0, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(out0, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(out0)).toBe(ZX_OK);
  });

  it('a plain write on the descriptor of an endpoint reaches the peer as bytes, not a message', () => {
    // What a program outside the library sees: the socket. Its records are checked.
    const { out0, out1 } = sys.channelCreate(0);
    const { fd } = fdio.fdCreate(out1);
    expect(writeSync(fd, Buffer.from('not a record'))).toBe(12);
    closeSync(fd);
    expect(sys.channelRead(out0, 0, 65536, 64).status).toBe(ZX_ERR_IO_DATA_INTEGRITY);
    expect(sys.channelRead(out0, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(out0)).toBe(ZX_OK);
  });

  it("waits for an endpoint's queued messages to be sent before giving its descriptor away", async () => {
    const { out0, out1 } = sys.channelCreate(0);
    const count = 64; // 4 MiB: more than the socket holds, so some wait in the queue
    const message = Buffer.alloc(65536);
    for (let i = 0; i < count; i++) {
      message.writeUInt32LE(i, 0);
      expect(sys.channelWrite(out0, 0, message, null)).toBe(ZX_OK);
    }
    expect(fdio.fdCreate(out0)).toEqual({ status: ZX_ERR_SHOULD_WAIT, fd: -1 });
    expect(isValid(out0)).toBe(true);

    let received = 0;
    while (received < count) {
      await waitSignals(out1, ZX_CHANNEL_READABLE);
      for (let r = sys.channelRead(out1, 0, 65536, 64); r.status === ZX_OK; r = sys.channelRead(out1, 0, 65536, 64)) {
        expect(r.bytes.readUInt32LE(0)).toBe(received++);
      }
    }
    const fds = openFdCount();
    const { status, fd } = fdio.fdCreate(out0);
    expect(status).toBe(ZX_OK);
    // The handle was the endpoint's only one: its descriptor is handed over, no copy
    // stays behind, so closing it is the end of the endpoint.
    const fdsAfterCreate = openFdCount();
    closeSync(fd);
    const seen = sys.objectWaitOne(out1, ZX_CHANNEL_PEER_CLOSED, 0n);
    await waitSignals(out1, ZX_CHANNEL_PEER_CLOSED);
    expect(sys.handleClose(out1)).toBe(ZX_OK);
    expect(fdsAfterCreate).toBe(fds);
    expect(seen).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED });
  });
});
