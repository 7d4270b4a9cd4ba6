// Zircon sockets: zx_socket_create / write / read / set_disposition with every status in
// Zircon's order, STREAM and DATAGRAM semantics, signals and waits (also across
// processes), socket ends moving through channels and as startup handles, the Socket
// class and the SocketStream Duplex. Real socketpairs, real processes.
import { createHash } from 'node:crypto';
import { spawn as spawnChild } from 'node:child_process';
import { closeSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  Channel,
  fdio,
  Port,
  Socket,
  SocketStream,
  sys,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_EVENT_SIGNALED,
  ZX_DEFAULT_SOCKET_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BAD_STATE,
  ZX_ERR_CANCELED,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_WRONG_TYPE,
  ZX_OBJ_TYPE_SOCKET,
  ZX_OK,
  ZX_RIGHT_MANAGE_SOCKET,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_SOCKET_DATAGRAM,
  ZX_SOCKET_DISPOSITION_WRITE_DISABLED as DISABLED,
  ZX_SOCKET_DISPOSITION_WRITE_ENABLED as ENABLED,
  ZX_SOCKET_PEEK,
  ZX_SOCKET_PEER_CLOSED as PEER_CLOSED,
  ZX_SOCKET_PEER_WRITE_DISABLED as PEER_WRITE_DISABLED,
  ZX_SOCKET_READABLE as READABLE,
  ZX_SOCKET_STREAM,
  ZX_SOCKET_WRITABLE as WRITABLE,
  ZX_SOCKET_WRITE_DISABLED as WRITE_DISABLED,
  ZX_TIME_INFINITE,
  ZX_INFO_SOCKET,
  ZX_PKT_TYPE_SIGNAL_ONE,
  ZX_RIGHT_INSPECT,
} from '../lib/index';
import { native } from '../lib/native';
import { basic, channel, closeAll, isValid, replace, signalsOf, staleHandle } from './fixtures/channels';
import { expectZxError, thrownBy } from './fixtures/errors';
import { openFdCount } from './fixtures/fds';
import { pattern } from './fixtures/pattern.cjs';
import { fixture, type Proc, startNode, until, user, watch } from './fixtures/proc-helpers';
import { keepBaseline, socketPair } from './fixtures/core';
import { inWorker } from './fixtures/threads';
import { datagramKindInDescriptor } from './fixtures/backend';

const KINDS = [
  ['STREAM', ZX_SOCKET_STREAM],
  ['DATAGRAM', ZX_SOCKET_DATAGRAM],
] as const;
// The kinds an end keeps when taken back from its bare descriptor (fixtures/backend.ts).
const KINDS_AS_DESCRIPTORS = KINDS.filter(([, options]) => options === ZX_SOCKET_STREAM || datagramKindInDescriptor);
const SECOND = 1_000_000_000n;

function write(h: number, text: string | Uint8Array): number {
  const r = sys.socketWrite(h, 0, typeof text === 'string' ? Buffer.from(text) : text);
  expect(r.status).toBe(ZX_OK);
  return r.actual;
}

function readText(h: number, length = 65536, options = 0): string {
  const r = sys.socketRead(h, options, length);
  expect(r.status).toBe(ZX_OK);
  expect(r.actual).toBe(r.bytes.length);
  return r.bytes.toString();
}

// The end as a program outside the library gets it (fdio.fdCreate: the descriptor alone),
// taken back as a socket end.
function viaBareDescriptor(h: number): number {
  const { koid, relatedKoid, rights } = basic(h);
  const { status, fd } = fdio.fdCreate(h);
  expect(status).toBe(ZX_OK);
  expect(native.handleImport(fd, ZX_OBJ_TYPE_SOCKET, rights, koid, relatedKoid)).toBe(ZX_OK);
  return native.scratch[0];
}

function readStatus(h: number, length = 65536): number {
  const r = sys.socketRead(h, 0, length);
  if (r.status !== ZX_OK) {
    expect(r.bytes.length).toBe(0);
    expect(r.actual).toBe(0);
  }
  return r.status;
}

function writeStatus(h: number, bytes: Uint8Array = Buffer.from('x')): number {
  const r = sys.socketWrite(h, 0, bytes);
  if (r.status !== ZX_OK) expect(r.actual).toBe(0);
  return r.status;
}

/** Every byte queued at `h` (reads until SHOULD_WAIT). */
function drain(h: number): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const r = sys.socketRead(h, 0, 1 << 20);
    if (r.status !== ZX_OK) {
      expect(r.status).toBe(ZX_ERR_SHOULD_WAIT);
      return Buffer.concat(parts);
    }
    parts.push(r.bytes);
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Resolves once `stream` has emitted 'close' (at once if it already has). */
function streamClosed(stream: SocketStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve()));
}

/** BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED for `op`, which needs `right`. */
function expectHandleChecks(op: (h: number) => number, right: number): void {
  const [a, b] = socketPair(ZX_SOCKET_STREAM);
  const [c0, c1] = channel();
  expect(op(0)).toBe(ZX_ERR_BAD_HANDLE);
  expect(op(staleHandle())).toBe(ZX_ERR_BAD_HANDLE);
  expect(op(c0)).toBe(ZX_ERR_WRONG_TYPE);
  const bare = replace(c1, 0); // a channel without rights: the type is checked first
  expect(op(bare)).toBe(ZX_ERR_WRONG_TYPE);
  const lacking = replace(a, ZX_DEFAULT_SOCKET_RIGHTS & ~right);
  expect(op(lacking)).toBe(ZX_ERR_ACCESS_DENIED);
  closeAll(lacking, b, c0, bare);
}

// Every test leaves descriptors and handles as it found them.
keepBaseline();

describe('socketCreate', () => {
  it.each(KINDS)('makes a connected %s pair with the default socket rights and related koids', (_, options) => {
    const fds = openFdCount();
    const [a, b] = socketPair(options);
    expect(openFdCount()).toBe(fds + 2); // one descriptor per end
    const ia = basic(a);
    const ib = basic(b);
    expect(ia.type).toBe(ZX_OBJ_TYPE_SOCKET);
    expect(ib.type).toBe(ZX_OBJ_TYPE_SOCKET);
    expect(ia.rights).toBe(ZX_DEFAULT_SOCKET_RIGHTS);
    expect(ib.rights).toBe(0x10f0cf);
    expect(ia.relatedKoid).toBe(ib.koid);
    expect(ib.relatedKoid).toBe(ia.koid);
    expect(signalsOf(a)).toBe(WRITABLE);
    expect(signalsOf(b)).toBe(WRITABLE);
    closeAll(a, b);
    expect(openFdCount()).toBe(fds);
  });

  it('answers INVALID_ARGS for any other option, making nothing', () => {
    const handles = native.handleCount();
    const fds = openFdCount();
    for (const options of [2, 3, 8, 0x80000000, 0xffffffff]) {
      expect(sys.socketCreate(options)).toEqual({ status: ZX_ERR_INVALID_ARGS, out0: 0, out1: 0 });
    }
    expect(native.handleCount()).toBe(handles);
    expect(openFdCount()).toBe(fds);
  });

  it('throws TypeError for options that are not a uint32', () => {
    for (const options of ['0', -1, 1.5, null]) expect(() => sys.socketCreate(options as never)).toThrow(TypeError);
  });
});

describe('socketWrite', () => {
  it('checks options first (INVALID_ARGS), then BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED (WRITE)', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    for (const options of [1, 8, 0x80000000]) {
      expect(sys.socketWrite(a, options, Buffer.from('x'))).toEqual({ status: ZX_ERR_INVALID_ARGS, actual: 0 });
      expect(sys.socketWrite(0, options, Buffer.from('x')).status).toBe(ZX_ERR_INVALID_ARGS);
    }
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT); // nothing was written
    expectHandleChecks((h) => sys.socketWrite(h, 0, Buffer.from('x')).status, ZX_RIGHT_WRITE);
    closeAll(a, b);
  });

  it('throws TypeError for bytes that are not a Uint8Array, writing nothing', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    for (const bytes of ['text', [1, 2], 7]) expect(() => sys.socketWrite(a, 0, bytes as never)).toThrow(TypeError);
    expect(() => sys.socketWrite('1' as never, 0, Buffer.from('x'))).toThrow(TypeError);
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });

  it.each(KINDS)('%s: PEER_CLOSED once the peer is gone, before BAD_STATE; 0-byte writes too', (_, options) => {
    const [a, b] = socketPair(options);
    closeAll(b);
    expect(writeStatus(a)).toBe(ZX_ERR_PEER_CLOSED);
    expect(writeStatus(a, Buffer.alloc(0))).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
    expect(writeStatus(a)).toBe(ZX_ERR_PEER_CLOSED); // PEER_CLOSED wins over BAD_STATE
    expect(writeStatus(a, Buffer.alloc(300_000))).toBe(ZX_ERR_PEER_CLOSED); // and over OUT_OF_RANGE
    closeAll(a);
  });

  it.each(KINDS)("%s: BAD_STATE once this end's writes are disabled, by itself or by its peer", (_, options) => {
    const [a, b] = socketPair(options);
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
    expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(a, Buffer.alloc(0))).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(b)).toBe(ZX_OK); // the other direction still works
    expect(readText(a)).toBe('x');

    const [c, d] = socketPair(options);
    expect(sys.socketSetDisposition(d, 0, DISABLED)).toBe(ZX_OK); // d stops c's writes
    expect(writeStatus(c)).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(c, Buffer.alloc(0))).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(c, Buffer.alloc(300_000))).toBe(ZX_ERR_BAD_STATE); // before OUT_OF_RANGE
    expect(signalsOf(c) & (WRITE_DISABLED | WRITABLE)).toBe(WRITE_DISABLED);
    closeAll(a, b, c, d);
  });

  it.each(KINDS)('%s: a 0-byte write answers OK with 0 written and queues nothing', (_, options) => {
    const [a, b] = socketPair(options);
    expect(sys.socketWrite(a, 0, Buffer.alloc(0))).toEqual({ status: ZX_OK, actual: 0 });
    expect(sys.socketWrite(a, 0, null)).toEqual({ status: ZX_OK, actual: 0 });
    expect(signalsOf(b)).toBe(WRITABLE); // not READABLE
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    expect(write(a, 'after')).toBe(5);
    expect(readText(b)).toBe('after');
    closeAll(a, b);
  });

  it('STREAM: takes what fits (a short write), SHOULD_WAIT only when full; WRITABLE means "not full"', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    const data = pattern(1 << 20, 1);
    const first = write(a, data);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(data.length); // short
    expect(signalsOf(a) & WRITABLE).toBe(0); // full
    expect(sys.socketWrite(a, 0, data.subarray(first))).toEqual({ status: ZX_ERR_SHOULD_WAIT, actual: 0 });
    expect(signalsOf(b)).toBe(READABLE | WRITABLE);

    // Reading part of it makes room: WRITABLE again, and a write takes more.
    const head = sys.socketRead(b, 0, 150_000);
    expect(head.status).toBe(ZX_OK);
    expect(signalsOf(a) & WRITABLE).toBe(WRITABLE);
    const second = write(a, data.subarray(first));
    expect(second).toBeGreaterThan(0);
    const rest = drain(b);
    expect(Buffer.concat([head.bytes, rest]).equals(data.subarray(0, first + second))).toBe(true);
    expect(signalsOf(a)).toBe(WRITABLE);
    closeAll(a, b);
  });

  it('DATAGRAM: whole datagrams or nothing: SHOULD_WAIT when full, OUT_OF_RANGE past the capacity', () => {
    const [a, b] = socketPair(ZX_SOCKET_DATAGRAM);
    expect(sys.socketWrite(a, 0, Buffer.alloc(300_000))).toEqual({ status: ZX_ERR_OUT_OF_RANGE, actual: 0 });
    const sent: Buffer[] = [];
    for (let i = 0; ; i++) {
      const datagram = pattern(50_000, i + 10);
      const r = sys.socketWrite(a, 0, datagram);
      if (r.status === ZX_ERR_SHOULD_WAIT) {
        expect(r.actual).toBe(0);
        break;
      }
      expect(r).toEqual({ status: ZX_OK, actual: 50_000 }); // never short
      sent.push(datagram);
    }
    expect(sent.length).toBeGreaterThan(2);
    expect(signalsOf(a) & WRITABLE).toBe(0);
    // Full: Zircon answers SHOULD_WAIT before looking at the size.
    expect(sys.socketWrite(a, 0, Buffer.alloc(300_000)).status).toBe(ZX_ERR_SHOULD_WAIT);
    for (const datagram of sent) {
      const r = sys.socketRead(b, 0, 65536);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.equals(datagram)).toBe(true);
    }
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    expect(write(a, Buffer.alloc(200_000, 3))).toBe(200_000); // one large datagram
    const big = sys.socketRead(b, 0, 1 << 20);
    expect(big.actual).toBe(200_000);
    expect(big.bytes.equals(Buffer.alloc(200_000, 3))).toBe(true);
    closeAll(a, b);
  });
});

describe('socketRead', () => {
  it('checks options first (INVALID_ARGS, PEEK alone allowed), then BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED (READ)', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    write(a, 'kept');
    for (const options of [1, 2, 4, 0x10, ZX_SOCKET_PEEK | 1, 0x80000000]) {
      expect(sys.socketRead(b, options, 10)).toEqual({
        status: ZX_ERR_INVALID_ARGS,
        bytes: Buffer.alloc(0),
        actual: 0,
      });
      expect(sys.socketRead(0, options, 10).status).toBe(ZX_ERR_INVALID_ARGS);
    }
    expect(readText(b)).toBe('kept');
    expectHandleChecks((h) => sys.socketRead(h, 0, 10).status, ZX_RIGHT_READ);
    expect(() => sys.socketRead(b, 0, -1)).toThrow(TypeError);
    expect(() => sys.socketRead(b, 0, '10' as never)).toThrow(TypeError);
    closeAll(a, b);
  });

  it.each(KINDS)(
    '%s: SHOULD_WAIT when empty; the bytes written before the peer closed, then PEER_CLOSED',
    (_, options) => {
      const [a, b] = socketPair(options);
      expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
      write(a, 'last words');
      closeAll(a);
      expect(signalsOf(b)).toBe(READABLE | PEER_CLOSED);
      expect(readText(b)).toBe('last words');
      expect(signalsOf(b)).toBe(PEER_CLOSED);
      expect(readStatus(b)).toBe(ZX_ERR_PEER_CLOSED);
      expect(sys.socketRead(b, ZX_SOCKET_PEEK, 10).status).toBe(ZX_ERR_PEER_CLOSED);
      closeAll(b);
    },
  );

  it.each(KINDS)("%s: BAD_STATE once the peer's writes are disabled and everything is read", (_, options) => {
    const [a, b] = socketPair(options);
    write(a, 'xy');
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
    expect(readText(b)).toBe('xy');
    expect(readStatus(b)).toBe(ZX_ERR_BAD_STATE);
    // The same when the reader itself stopped its peer's writes.
    const [c, d] = socketPair(options);
    write(c, 'z');
    expect(sys.socketSetDisposition(d, 0, DISABLED)).toBe(ZX_OK);
    expect(readText(d)).toBe('z');
    expect(readStatus(d)).toBe(ZX_ERR_BAD_STATE);
    closeAll(a, c); // and PEER_CLOSED once the peer is gone
    expect(readStatus(b)).toBe(ZX_ERR_PEER_CLOSED);
    expect(readStatus(d)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(b, d);
  });

  it('STREAM: a read takes up to `length` across writes and leaves the rest; PEEK leaves everything', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    write(a, 'hello');
    write(a, ' wor');
    write(a, 'ld');
    expect(readText(b, 5, ZX_SOCKET_PEEK)).toBe('hello');
    expect(readText(b, 100, ZX_SOCKET_PEEK)).toBe('hello world');
    expect(readText(b, 7)).toBe('hello w');
    expect(readText(b, 100)).toBe('orld');
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });

  it('DATAGRAM: one datagram per read, cut to `length` with the rest discarded; PEEK leaves it whole', () => {
    const [a, b] = socketPair(ZX_SOCKET_DATAGRAM);
    write(a, 'first datagram');
    write(a, 'second');
    expect(readText(b, 5, ZX_SOCKET_PEEK)).toBe('first');
    expect(readText(b, 100, ZX_SOCKET_PEEK)).toBe('first datagram');
    expect(readText(b, 5)).toBe('first'); // " datagram" is gone
    expect(readText(b, 100)).toBe('second');
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });

  it.each(KINDS)('%s: a 0-length read answers OK without consuming, or why the socket is empty', (_, options) => {
    const [a, b] = socketPair(options);
    expect(readStatus(b, 0)).toBe(ZX_ERR_SHOULD_WAIT);
    write(a, 'stays');
    expect(sys.socketRead(b, 0, 0)).toEqual({ status: ZX_OK, bytes: Buffer.alloc(0), actual: 0 });
    expect(sys.socketRead(b, ZX_SOCKET_PEEK, 0).status).toBe(ZX_OK);
    expect(readText(b)).toBe('stays');
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
    expect(readStatus(b, 0)).toBe(ZX_ERR_BAD_STATE);
    closeAll(a);
    expect(readStatus(b, 0)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(b);
  });

  it.each(KINDS)(
    '%s: a length of 2^32 or more is a size_t, as Zircon’s: the read takes what is queued',
    (_, options) => {
      const [a, b] = socketPair(options);
      for (const length of [2 ** 32, 2 ** 53 - 1, 2n ** 64n - 1n]) {
        write(a, 'big enough');
        expect(sys.socketRead(b, ZX_SOCKET_PEEK, length)).toEqual({
          status: ZX_OK,
          bytes: Buffer.from('big enough'),
          actual: 10,
        });
        expect(sys.socketRead(b, 0, length)).toEqual({ status: ZX_OK, bytes: Buffer.from('big enough'), actual: 10 });
        expect(sys.socketRead(b, 0, length)).toEqual({ status: ZX_ERR_SHOULD_WAIT, bytes: Buffer.alloc(0), actual: 0 });
      }
      expect(() => sys.socketRead(b, 0, 2n ** 64n)).toThrow(TypeError);
      closeAll(a, b);
    },
  );

  it('reads longer than 64 KiB get exactly the bytes (STREAM) or the datagram (DATAGRAM) queued', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    const data = pattern(200_000, 5);
    let sent = 0;
    while (sent < data.length) sent += write(a, data.subarray(sent));
    const peeked = sys.socketRead(b, ZX_SOCKET_PEEK, 1 << 20);
    expect(peeked.actual).toBe(200_000);
    const r = sys.socketRead(b, 0, 1 << 20);
    expect(r.actual).toBe(200_000);
    expect(r.bytes.length).toBe(200_000);
    expect(r.bytes.equals(data)).toBe(true);

    const [c, d] = socketPair(ZX_SOCKET_DATAGRAM);
    write(c, data);
    write(c, 'small');
    write(c, data.subarray(0, 150_000));
    expect(sys.socketRead(d, ZX_SOCKET_PEEK, 1 << 20).actual).toBe(200_000);
    const whole = sys.socketRead(d, 0, 1 << 20);
    expect(whole.actual).toBe(200_000);
    expect(whole.bytes.equals(data)).toBe(true);
    expect(readText(d, 1 << 20)).toBe('small');
    const cut = sys.socketRead(d, 0, 100_000); // cut, the rest discarded
    expect(cut.bytes.equals(data.subarray(0, 100_000))).toBe(true);
    expect(readStatus(d, 1 << 20)).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b, c, d);
  });

  it('socket and channel reads land in the same read pool: no read overwrites the bytes another one handed out', () => {
    const [a, b] = socketPair(ZX_SOCKET_DATAGRAM);
    const [c, d] = Channel.create();
    const kept: Buffer[] = [];
    const expected: Buffer[] = [];
    // Large reads (handed out as views of the pool) and small ones (copied out), taken in
    // turns from the socket and the channel, more than one slab's worth.
    for (let i = 0; i < 24; i++) {
      const size = i % 3 === 2 ? 100 : 40_000 + i;
      const bytes = pattern(size, i);
      expected.push(bytes, bytes);
      expect(write(a, bytes)).toBe(size);
      c.write(bytes);
      const r = sys.socketRead(b, 0, 65536);
      expect(r.status).toBe(ZX_OK);
      kept.push(r.bytes, d.tryRead()!.bytes);
    }
    kept.forEach((bytes, i) => expect(bytes.equals(expected[i])).toBe(true));
    closeAll(a, b);
    c.close();
    d.close();
  });

  it('a 0-byte record from a writer outside the library is skipped, never taken for the end', async () => {
    const [mine, theirs] = socketPair(ZX_SOCKET_DATAGRAM);
    const { status, fd } = fdio.fdCreate(theirs);
    expect(status).toBe(ZX_OK);
    const proc = spawnChild('python3', [fixture('socket-raw-records.py')], { stdio: ['pipe', 'pipe', 'pipe', fd] });
    closeSync(fd);
    const py = watch(proc);
    let answers = 0;
    const run = async (command: string) => {
      proc.stdin!.write(`${command}\n`);
      answers++;
      await until(
        () =>
          py
            .stdout()
            .split('\n')
            .filter((l) => l === 'ok').length === answers,
        `python: ${command}; ${py.stderr()}`,
      );
    };
    await run('empty');
    await run('send abc');
    await run('empty');
    expect(readText(mine)).toBe('abc'); // the empty record before it is skipped
    expect(readStatus(mine)).toBe(ZX_ERR_SHOULD_WAIT); // so is the one after: the writer is alive
    expect(signalsOf(mine)).toBe(WRITABLE);
    await run('empty');
    await run('send de');
    await run('empty');
    await run('shutdown');
    // Empty records, then the writer's end: the record between them is still read.
    expect(signalsOf(mine) & PEER_WRITE_DISABLED).toBe(PEER_WRITE_DISABLED);
    expect(readText(mine, 10, ZX_SOCKET_PEEK)).toBe('de');
    expect(readText(mine)).toBe('de');
    expect(readStatus(mine)).toBe(ZX_ERR_BAD_STATE);
    await run('exit');
    await py.closed;
    expect(readStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(mine);
  });
});

describe('socketSetDisposition', () => {
  it('INVALID_ARGS for anything but 0, WRITE_DISABLED, WRITE_ENABLED, checked before the handle', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    for (const [d, dp] of [
      [3, 0],
      [0, 3],
      [4, 0],
      [0, 0x80000000],
      [DISABLED, 3],
      [3, DISABLED],
    ]) {
      expect(sys.socketSetDisposition(a, d, dp)).toBe(ZX_ERR_INVALID_ARGS);
      expect(sys.socketSetDisposition(0, d, dp)).toBe(ZX_ERR_INVALID_ARGS);
    }
    expect(signalsOf(a)).toBe(WRITABLE); // nothing was done
    expect(signalsOf(b)).toBe(WRITABLE);
    expectHandleChecks((h) => sys.socketSetDisposition(h, DISABLED, 0), ZX_RIGHT_MANAGE_SOCKET);
    expectHandleChecks((h) => sys.socketSetDisposition(h, 0, 0), ZX_RIGHT_MANAGE_SOCKET);
    expect(() => sys.socketSetDisposition(a, -1, 0)).toThrow(TypeError);
    closeAll(a, b);
  });

  it.each(KINDS)('%s: (0, 0) and WRITE_ENABLED on enabled sides change nothing', (_, options) => {
    const [a, b] = socketPair(options);
    expect(sys.socketSetDisposition(a, 0, 0)).toBe(ZX_OK);
    expect(sys.socketSetDisposition(a, ENABLED, ENABLED)).toBe(ZX_OK);
    expect(signalsOf(a)).toBe(WRITABLE);
    expect(signalsOf(b)).toBe(WRITABLE);
    write(a, 'still');
    expect(readText(b)).toBe('still');
    closeAll(a, b);
  });

  it.each(KINDS)('%s: WRITE_DISABLED for this end: WRITE_DISABLED here, PEER_WRITE_DISABLED there', (_, options) => {
    const [a, b] = socketPair(options);
    write(a, 'queued');
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
    expect(signalsOf(a)).toBe(WRITE_DISABLED);
    expect(signalsOf(b)).toBe(READABLE | WRITABLE | PEER_WRITE_DISABLED);
    expect(readText(b)).toBe('queued');
    expect(signalsOf(b)).toBe(WRITABLE | PEER_WRITE_DISABLED);
    expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK); // again: nothing new
    expect(signalsOf(a)).toBe(WRITE_DISABLED);
    closeAll(a, b);
  });

  it('STREAM: WRITE_DISABLED for the peer: PEER_WRITE_DISABLED here, WRITE_DISABLED there at once', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    expect(sys.socketSetDisposition(b, 0, DISABLED)).toBe(ZX_OK);
    expect(signalsOf(b)).toBe(WRITABLE | PEER_WRITE_DISABLED);
    expect(signalsOf(a)).toBe(WRITE_DISABLED);
    expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
    closeAll(a, b);
  });

  it('DATAGRAM: WRITE_DISABLED for the peer shows there at once (the shared page tells it), and wakes a wait for it', async () => {
    const [a, b] = socketPair(ZX_SOCKET_DATAGRAM);
    const waited = sys.objectWaitOneAsync(a, WRITE_DISABLED, sys.deadlineAfter(20_000_000_000n));
    expect(sys.socketSetDisposition(b, 0, DISABLED)).toBe(ZX_OK);
    expect(signalsOf(b)).toBe(WRITABLE | PEER_WRITE_DISABLED);
    expect(signalsOf(a)).toBe(WRITE_DISABLED);
    expect(await waited).toEqual({ status: ZX_OK, observed: WRITE_DISABLED });
    expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
    // What it set stays after it is gone, as in Zircon.
    closeAll(b);
    expect(signalsOf(a)).toBe(PEER_CLOSED | WRITE_DISABLED);
    closeAll(a);
  });

  it.each(KINDS)('%s: both directions disabled is not PEER_CLOSED; the close that follows is', (_, options) => {
    const fds = openFdCount();
    const [a, b] = socketPair(options);
    write(b, 'to a');
    expect(sys.socketSetDisposition(a, DISABLED, DISABLED)).toBe(ZX_OK);
    expect(signalsOf(a)).toBe(READABLE | WRITE_DISABLED | PEER_WRITE_DISABLED);
    expect(signalsOf(b)).toBe(WRITE_DISABLED | PEER_WRITE_DISABLED);
    expect(readText(a)).toBe('to a');
    expect(readStatus(a)).toBe(ZX_ERR_BAD_STATE);
    expect(readStatus(b)).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
    expect(writeStatus(b)).toBe(ZX_ERR_BAD_STATE);
    closeAll(b);
    expect(signalsOf(a)).toBe(PEER_CLOSED | WRITE_DISABLED | PEER_WRITE_DISABLED);
    expect(readStatus(a)).toBe(ZX_ERR_PEER_CLOSED);
    expect(writeStatus(a)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
    expect(openFdCount()).toBe(fds); // the kernel's diagnostics left nothing open
  });

  it.each(KINDS)(
    '%s: WRITE_ENABLED after a disable: BAD_STATE while bytes are unread (Zircon), then re-enabled both ways',
    (_, options) => {
      const [a, b] = socketPair(options);
      write(a, 'unread');
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      expect(sys.socketSetDisposition(a, ENABLED, 0)).toBe(ZX_ERR_BAD_STATE);
      expect(sys.socketSetDisposition(b, 0, ENABLED)).toBe(ZX_ERR_BAD_STATE);
      // All or nothing: b's own disable is not done when the rest is refused.
      expect(sys.socketSetDisposition(b, DISABLED, ENABLED)).toBe(ZX_ERR_BAD_STATE);
      expect(signalsOf(b)).toBe(READABLE | WRITABLE | PEER_WRITE_DISABLED);
      expect(readText(b)).toBe('unread');
      expect(readStatus(b)).toBe(ZX_ERR_BAD_STATE);
      expect(sys.socketSetDisposition(b, 0, ENABLED)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(WRITABLE);
      expect(signalsOf(b)).toBe(WRITABLE);
      expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
      write(a, 'again');
      expect(readText(b)).toBe('again');
      // And from the disabled end itself, for both sides at once.
      expect(sys.socketSetDisposition(a, DISABLED, DISABLED)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(WRITE_DISABLED | PEER_WRITE_DISABLED);
      expect(writeStatus(b)).toBe(ZX_ERR_BAD_STATE);
      expect(sys.socketSetDisposition(a, ENABLED, ENABLED)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(WRITABLE);
      expect(signalsOf(b)).toBe(WRITABLE);
      write(b, 'back');
      expect(readText(a)).toBe('back');
      closeAll(a, b);
    },
  );

  it.each(KINDS_AS_DESCRIPTORS)(
    '%s: an end that left as a bare descriptor makes dispositions shutdowns: WRITE_ENABLED after a disable is NOT_SUPPORTED',
    (_, options) => {
      const [a, far] = socketPair(options);
      const b = viaBareDescriptor(far);
      write(a, 'unread');
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      expect(sys.socketSetDisposition(a, ENABLED, 0)).toBe(ZX_ERR_BAD_STATE);
      expect(sys.socketSetDisposition(b, 0, ENABLED)).toBe(ZX_ERR_BAD_STATE);
      expect(readText(b)).toBe('unread');
      expect(sys.socketSetDisposition(a, ENABLED, 0)).toBe(ZX_ERR_NOT_SUPPORTED);
      expect(sys.socketSetDisposition(b, 0, ENABLED)).toBe(ZX_ERR_NOT_SUPPORTED);
      // All or nothing: b's own disable is not done when the rest is refused.
      expect(sys.socketSetDisposition(b, DISABLED, ENABLED)).toBe(ZX_ERR_NOT_SUPPORTED);
      expect(signalsOf(b)).toBe(WRITABLE | PEER_WRITE_DISABLED);
      expect(signalsOf(a)).toBe(WRITE_DISABLED);
      expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
      expect(writeStatus(b)).toBe(ZX_OK);
      closeAll(a, b);
    },
  );

  it.each(KINDS_AS_DESCRIPTORS)(
    "%s: writes disabled in the page alone become the kernel's shutdown when an end leaves as a bare descriptor",
    (_, options) => {
      const [a, far] = socketPair(options);
      write(a, 'before');
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      const b = viaBareDescriptor(far);
      // b has no page: what it sees is the kernel's.
      expect(signalsOf(b)).toBe(READABLE | WRITABLE | PEER_WRITE_DISABLED);
      expect(readText(b)).toBe('before');
      expect(readStatus(b)).toBe(ZX_ERR_BAD_STATE);
      expect(sys.socketSetDisposition(a, ENABLED, 0)).toBe(ZX_ERR_NOT_SUPPORTED);
      expect(writeStatus(a)).toBe(ZX_ERR_BAD_STATE);
      closeAll(a, b);
    },
  );

  it.each(KINDS)(
    '%s: after the peer is gone dispositions still answer OK; what was set before stays shown',
    (_, options) => {
      const [a, b] = socketPair(options);
      closeAll(b);
      expect(signalsOf(a)).toBe(PEER_CLOSED);
      expect(sys.socketSetDisposition(a, 0, DISABLED)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(PEER_CLOSED);
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(PEER_CLOSED | WRITE_DISABLED);
      // Its own disposition still changes (in the page), as in Zircon; writes say the peer is gone.
      expect(sys.socketSetDisposition(a, ENABLED, 0)).toBe(ZX_OK);
      expect(signalsOf(a)).toBe(PEER_CLOSED);
      expect(writeStatus(a)).toBe(ZX_ERR_PEER_CLOSED);

      const [c, d] = socketPair(options);
      expect(sys.socketSetDisposition(d, DISABLED, 0)).toBe(ZX_OK);
      expect(signalsOf(c)).toBe(WRITABLE | PEER_WRITE_DISABLED);
      closeAll(d);
      expect(signalsOf(c)).toBe(PEER_CLOSED | PEER_WRITE_DISABLED);
      closeAll(a, c);
    },
  );
});

describe('waits', () => {
  it.each(KINDS)(
    '%s: objectWaitOneAsync wakes for READABLE, WRITABLE, PEER_WRITE_DISABLED and PEER_CLOSED',
    async (_, options) => {
      // Infinite deadlines: a wake-up that never comes fails the test (by its timeout)
      // instead of passing at the deadline. Each action comes a loop turn after its wait
      // started, so the poll must report it.
      const [a, b] = socketPair(options);
      const readable = sys.objectWaitOneAsync(b, READABLE, ZX_TIME_INFINITE);
      await tick();
      write(a, 'wake');
      expect(await readable).toEqual({ status: ZX_OK, observed: READABLE | WRITABLE });
      readText(b);

      let filled = 0;
      while (sys.socketWrite(a, 0, Buffer.alloc(60_000)).status === ZX_OK) filled++;
      expect(filled).toBeGreaterThan(0);
      const writable = sys.objectWaitOneAsync(a, WRITABLE, ZX_TIME_INFINITE);
      await tick();
      drain(b);
      expect(await writable).toEqual({ status: ZX_OK, observed: WRITABLE });

      const disabled = sys.objectWaitOneAsync(b, PEER_WRITE_DISABLED, ZX_TIME_INFINITE);
      await tick();
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      expect(await disabled).toEqual({ status: ZX_OK, observed: WRITABLE | PEER_WRITE_DISABLED });

      // PEER_WRITE_DISABLED is on for good now: the close is still heard.
      const closed = sys.objectWaitOneAsync(b, PEER_CLOSED, ZX_TIME_INFINITE);
      await tick();
      closeAll(a);
      expect(await closed).toEqual({ status: ZX_OK, observed: PEER_CLOSED | PEER_WRITE_DISABLED });
      closeAll(b);
    },
  );

  it.each(KINDS)(
    '%s: with unread bytes waiting, an async wait for the peer hanging up alone wakes at its SHUT_WR, then at its close',
    async (_, options) => {
      // The wait wants no READABLE, yet the end is readable throughout: on the portable
      // backend it is watched through edges (macOS's kqueue reports a hangup only with the
      // read filter, which unread bytes keep firing).
      const [a, b] = socketPair(options);
      write(a, 'unread');
      const disabled = sys.objectWaitOneAsync(b, PEER_WRITE_DISABLED, ZX_TIME_INFINITE);
      await tick();
      expect(sys.socketSetDisposition(a, DISABLED, 0)).toBe(ZX_OK);
      expect(await disabled).toEqual({
        status: ZX_OK,
        observed: READABLE | WRITABLE | PEER_WRITE_DISABLED,
      });
      const closed = sys.objectWaitOneAsync(b, PEER_CLOSED, ZX_TIME_INFINITE);
      await tick();
      closeAll(a);
      expect(await closed).toEqual({
        status: ZX_OK,
        observed: READABLE | PEER_CLOSED | PEER_WRITE_DISABLED,
      });
      expect(readText(b)).toBe('unread');
      closeAll(b);
    },
  );

  it.each(KINDS)(
    '%s: a peer closing while this end looks shows PEER_CLOSED alone, never WRITE_DISABLED',
    async (_, options) => {
      // A look asks poll(2) and the send side; a close landing between the two must read as
      // the close. Another thread closes the peer while this one looks, many times over.
      const turn = new Int32Array(new SharedArrayBuffer(8)); // [round, handle to close]
      const closer = inWorker(
        `const turn = new Int32Array(workerData);
       for (let round = 1; ; round++) {
         Atomics.wait(turn, 0, round - 1);
         if (turn[1] === 0) break;
         sys.handleClose(turn[1]);
       }
       parentPort.postMessage('done');`,
        turn.buffer,
      );
      const seen = new Map<number, number>();
      for (let round = 1; round <= 2000; round++) {
        const [a, b] = socketPair(options);
        turn[1] = b;
        Atomics.store(turn, 0, round);
        Atomics.notify(turn, 0);
        let signals: number;
        do signals = signalsOf(a);
        while (!(signals & PEER_CLOSED));
        signals = signalsOf(a);
        seen.set(signals, (seen.get(signals) ?? 0) + 1);
        closeAll(a);
      }
      turn[1] = 0;
      Atomics.store(turn, 0, 2001);
      Atomics.notify(turn, 0);
      expect(await closer.message).toBe('done');
      expect(await closer.exited).toBe(0);
      expect([...seen.keys()]).toEqual([PEER_CLOSED]);
    },
  );

  it('sync waits see the state at once, time out, and sample with deadline 0', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    expect(sys.objectWaitOne(b, READABLE, sys.deadlineAfter(5_000_000n))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: WRITABLE,
    });
    write(a, 'x');
    expect(sys.objectWaitOne(b, READABLE, ZX_TIME_INFINITE)).toEqual({ status: ZX_OK, observed: READABLE | WRITABLE });
    const items = [
      { handle: a, waitfor: READABLE, pending: 0 },
      { handle: b, waitfor: READABLE, pending: 0 },
    ];
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([WRITABLE, READABLE | WRITABLE]);
    closeAll(a, b);
  });

  it('an async wait ends CANCELED when its handle is closed; WAIT right is needed', async () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    const pending = sys.objectWaitOneAsync(b, READABLE, ZX_TIME_INFINITE);
    closeAll(b);
    expect((await pending).status).toBe(ZX_ERR_CANCELED);
    const noWait = replace(a, ZX_DEFAULT_SOCKET_RIGHTS & ~ZX_RIGHT_WAIT);
    expect(sys.objectWaitOne(noWait, READABLE, 0n).status).toBe(ZX_ERR_ACCESS_DENIED);
    closeAll(noWait);
  });
});

/** A socket-peer.cjs child and the channel the test drives it with. */
class Peer {
  readonly proc: Proc;
  readonly channel: number;

  constructor(extra: { id: number; handle: number }[] = []) {
    const [mine, theirs] = channel();
    this.channel = mine;
    this.proc = startNode('socket-peer.cjs', [], [{ id: user(0), handle: theirs }, ...extra]);
  }

  send(command: object, handles: number[] | null = null): void {
    expect(sys.channelWrite(this.channel, 0, Buffer.from(JSON.stringify(command)), handles)).toBe(ZX_OK);
  }

  async reply(): Promise<any> {
    const { observed } = await sys.objectWaitOneAsync(
      this.channel,
      ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
      sys.deadlineAfter(30n * SECOND),
    );
    if (!(observed & ZX_CHANNEL_READABLE)) throw new Error(`no reply; child stderr: ${this.proc.stderr()}`);
    const r = sys.channelRead(this.channel, 0, 65536, 0);
    expect(r.status).toBe(ZX_OK);
    return JSON.parse(r.bytes.toString());
  }

  async call(command: object, handles: number[] | null = null): Promise<any> {
    this.send(command, handles);
    return this.reply();
  }

  async exit(): Promise<void> {
    this.send({ op: 'exit' });
    expect((await this.proc.closed).code).toBe(0);
    closeAll(this.channel);
  }
}

describe('across processes', () => {
  it.each(KINDS)(
    "%s: an end sent through a channel keeps type, rights and koids, works both ways, and the child's exit is PEER_CLOSED",
    async (_, options) => {
      const [mine, theirs] = socketPair(options);
      const koids = basic(theirs);
      const peer = new Peer();
      const info = await peer.call({ op: 'take' }, [theirs]);
      expect(isValid(theirs)).toBe(false); // moved
      expect(info).toEqual({
        type: ZX_OBJ_TYPE_SOCKET,
        rights: ZX_DEFAULT_SOCKET_RIGHTS,
        koid: String(koids.koid),
        relatedKoid: String(koids.relatedKoid),
      });

      write(mine, 'to the child');
      expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_OK, text: 'to the child' });
      expect(await peer.call({ op: 'write', text: 'to the parent' })).toEqual({ status: ZX_OK, actual: 13 });
      expect(sys.objectWaitOne(mine, READABLE, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
      expect(readText(mine)).toBe('to the parent');
      if (options === ZX_SOCKET_DATAGRAM) {
        // The received end is a datagram end (the descriptor says so): records are cut.
        write(mine, 'one whole datagram');
        expect(await peer.call({ op: 'read', length: 3 })).toEqual({ status: ZX_OK, text: 'one' });
        expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_ERR_SHOULD_WAIT, text: '' });
      }

      expect(await peer.call({ op: 'write', text: 'bye' })).toEqual({ status: ZX_OK, actual: 3 });
      const closed = sys.objectWaitOneAsync(mine, PEER_CLOSED, ZX_TIME_INFINITE);
      await peer.exit();
      expect(await closed).toEqual({ status: ZX_OK, observed: READABLE | PEER_CLOSED });
      expect(readText(mine)).toBe('bye');
      expect(readStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
      expect(writeStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
      closeAll(mine);
    },
  );

  it('reduced rights travel with the end; a write there answers ACCESS_DENIED', async () => {
    const [mine, theirs] = socketPair(ZX_SOCKET_STREAM);
    const rights = ZX_RIGHT_READ | ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT;
    const readOnly = replace(theirs, rights);
    const peer = new Peer();
    expect((await peer.call({ op: 'take' }, [readOnly])).rights).toBe(rights);
    expect(await peer.call({ op: 'write', text: 'no' })).toEqual({ status: ZX_ERR_ACCESS_DENIED, actual: 0 });
    expect(await peer.call({ op: 'disposition', d: DISABLED, dp: 0 })).toEqual({ status: ZX_ERR_ACCESS_DENIED });
    write(mine, 'yes');
    expect(await peer.call({ op: 'read', length: 10 })).toEqual({ status: ZX_OK, text: 'yes' });
    await peer.exit();
    closeAll(mine);
  });

  it.each(KINDS)(
    '%s: waits for WRITABLE started when full (sync, async, a port) wake as soon as the peer in another process makes room (the shared page rings)',
    async (_, options) => {
      const [mine, theirs] = socketPair(options);
      const peer = new Peer();
      await peer.call({ op: 'take' }, [theirs]); // in a message: with the pair's page
      const chunk = Buffer.alloc(16384, 'a');
      for (;;) {
        const r = sys.socketWrite(mine, 0, chunk);
        if (r.status === ZX_ERR_SHOULD_WAIT) break;
        expect(r.status).toBe(ZX_OK);
      }
      expect(signalsOf(mine) & WRITABLE).toBe(0);
      const port = Port.create();
      expect(sys.objectWaitAsync(mine, port.raw, 3n, WRITABLE, 0)).toBe(ZX_OK);
      const wait = sys.objectWaitOneAsync(mine, WRITABLE, ZX_TIME_INFINITE);
      // One read there leaves the socket far above a quarter full, where Linux wakes no
      // writer. The sync wait must end before its deadline (a look at the deadline would
      // answer OK too, so the clock is asked), the async wait before a 5-second deadline on
      // an idle event, and the port's packet must come.
      peer.send({ op: 'read', length: 16384 });
      const deadline = sys.deadlineAfter(5n * SECOND);
      expect(sys.objectWaitOne(mine, WRITABLE, deadline)).toEqual({ status: ZX_OK, observed: WRITABLE });
      expect(sys.clockGetMonotonic()).toBeLessThan(deadline);
      expect(await peer.reply()).toMatchObject({ status: ZX_OK });
      const idle = sys.eventCreate(0).out;
      const asleep = sys.objectWaitOneAsync(idle, ZX_EVENT_SIGNALED, sys.deadlineAfter(5n * SECOND));
      expect(await Promise.race([wait, asleep.then(() => 'still asleep')])).toEqual({
        status: ZX_OK,
        observed: WRITABLE,
      });
      const packet = await port.wait({ timeout: 5_000 });
      expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && [packet.key, packet.signal.observed]).toEqual([3n, WRITABLE]);
      port.close();
      closeAll(idle);
      await peer.exit();
      closeAll(mine);
    },
  );

  it.each(KINDS)('%s: an end given to a child as a startup handle keeps its kind', async (_, options) => {
    const [mine, theirs] = socketPair(options);
    // (On the portable backend a DATAGRAM end goes boxed, in a message: docs/processes.md.)
    const peer = new Peer([{ id: user(1), handle: theirs }]);
    write(mine, 'one whole datagram');
    write(mine, 'and another');
    const expected =
      options === ZX_SOCKET_DATAGRAM
        ? [
            { status: ZX_OK, text: 'one' },
            { status: ZX_OK, text: 'and' },
          ]
        : [
            { status: ZX_OK, text: 'one' },
            { status: ZX_OK, text: ' wh' },
          ];
    expect(await peer.call({ op: 'read', length: 3 })).toEqual(expected[0]);
    expect(await peer.call({ op: 'read', length: 3 })).toEqual(expected[1]);
    expect(await peer.call({ op: 'write', text: 'back' })).toEqual({ status: ZX_OK, actual: 4 });
    expect(sys.objectWaitOne(mine, READABLE, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
    expect(readText(mine)).toBe('back');
    await peer.exit();
    closeAll(mine);
  });

  it('dispositions and their signals across processes, sync waits woken by the other side', async () => {
    const [mine, theirs] = socketPair(ZX_SOCKET_STREAM);
    const peer = new Peer([{ id: user(1), handle: theirs }]); // as a startup handle
    expect(await peer.call({ op: 'info' })).toMatchObject({
      type: ZX_OBJ_TYPE_SOCKET,
      rights: ZX_DEFAULT_SOCKET_RIGHTS,
    });

    // The child blocks in objectWaitOne until this process disables its own writes.
    peer.send({ op: 'wait', signals: PEER_WRITE_DISABLED, ms: 20_000 });
    expect(sys.socketSetDisposition(mine, DISABLED, 0)).toBe(ZX_OK);
    expect(await peer.reply()).toEqual({ status: ZX_OK, observed: WRITABLE | PEER_WRITE_DISABLED });
    expect(await peer.call({ op: 'read', length: 10 })).toEqual({ status: ZX_ERR_BAD_STATE, text: '' });

    // This process blocks in objectWaitOne until the child disables its own writes.
    expect(await peer.call({ op: 'write', text: 'last' })).toEqual({ status: ZX_OK, actual: 4 });
    peer.send({ op: 'disposition', d: DISABLED, dp: 0 });
    expect(sys.objectWaitOne(mine, PEER_WRITE_DISABLED, sys.deadlineAfter(20n * SECOND))).toEqual({
      status: ZX_OK,
      observed: READABLE | WRITE_DISABLED | PEER_WRITE_DISABLED,
    });
    expect(await peer.reply()).toEqual({ status: ZX_OK });
    // Both directions are disabled, and both processes are alive: not PEER_CLOSED.
    expect(await peer.call({ op: 'signals' })).toEqual({ observed: WRITE_DISABLED | PEER_WRITE_DISABLED });
    expect(readText(mine)).toBe('last');
    expect(readStatus(mine)).toBe(ZX_ERR_BAD_STATE);
    await peer.exit();
    expect(signalsOf(mine)).toBe(PEER_CLOSED | WRITE_DISABLED | PEER_WRITE_DISABLED);
    expect(readStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(mine);
  });

  it.each(KINDS)(
    '%s: an end sent in a message: dispositions in the shared page, re-enabled from either process; sync waits, async waits and ports on both sides see them',
    async (_, options) => {
      const soon = () => sys.deadlineAfter(20n * SECOND);
      const [mine, theirs] = socketPair(options);
      const peer = new Peer();
      await peer.call({ op: 'take' }, [theirs]);
      write(mine, 'before');
      // The child blocks in objectWaitOne until this process disables its own writes.
      peer.send({ op: 'wait', signals: PEER_WRITE_DISABLED, ms: 20_000 });
      expect(sys.socketSetDisposition(mine, DISABLED, 0)).toBe(ZX_OK);
      expect(await peer.reply()).toEqual({ status: ZX_OK, observed: READABLE | WRITABLE | PEER_WRITE_DISABLED });
      expect(writeStatus(mine)).toBe(ZX_ERR_BAD_STATE);
      // Written before the disable: still read there, then BAD_STATE.
      expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_OK, text: 'before' });
      expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_ERR_BAD_STATE, text: '' });

      // The child re-enables this end's writes: WRITABLE comes back for a sync wait, an async
      // wait and a port here.
      const port = Port.create();
      expect(sys.objectWaitAsync(mine, port.raw, 1n, WRITABLE, 0)).toBe(ZX_OK);
      const writable = sys.objectWaitOneAsync(mine, WRITABLE, soon());
      peer.send({ op: 'disposition', d: 0, dp: ENABLED });
      expect(sys.objectWaitOne(mine, WRITABLE, soon())).toEqual({ status: ZX_OK, observed: WRITABLE });
      expect(await peer.reply()).toEqual({ status: ZX_OK });
      expect(await writable).toEqual({ status: ZX_OK, observed: WRITABLE });
      const packet = await port.wait({ timeout: 20_000 });
      expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && [packet.key, packet.signal.observed]).toEqual([1n, WRITABLE]);
      port.close();
      write(mine, 'after');
      expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_OK, text: 'after' });

      // A port there sees PEER_WRITE_DISABLED come again; this process re-enables its writes.
      expect(await peer.call({ op: 'portObserve', signals: PEER_WRITE_DISABLED })).toEqual({ status: ZX_OK });
      expect(sys.socketSetDisposition(mine, DISABLED, 0)).toBe(ZX_OK);
      expect(await peer.call({ op: 'portWait', ms: 20_000 })).toEqual({
        status: ZX_OK,
        observed: WRITABLE | PEER_WRITE_DISABLED,
      });
      expect(sys.socketSetDisposition(mine, ENABLED, 0)).toBe(ZX_OK);
      expect(await peer.call({ op: 'signals' })).toEqual({ observed: WRITABLE });

      // The child's writes, disabled from here (its blocked wait wakes), re-enabled there.
      peer.send({ op: 'wait', signals: WRITE_DISABLED, ms: 20_000 });
      expect(sys.socketSetDisposition(mine, 0, DISABLED)).toBe(ZX_OK);
      expect(await peer.reply()).toEqual({ status: ZX_OK, observed: WRITE_DISABLED });
      expect(await peer.call({ op: 'write', text: 'no' })).toEqual({ status: ZX_ERR_BAD_STATE, actual: 0 });
      expect(readStatus(mine)).toBe(ZX_ERR_BAD_STATE);
      expect(signalsOf(mine)).toBe(WRITABLE | PEER_WRITE_DISABLED);
      const readable = sys.objectWaitOneAsync(mine, READABLE, soon());
      expect(await peer.call({ op: 'disposition', d: ENABLED, dp: 0 })).toEqual({ status: ZX_OK });
      expect(signalsOf(mine)).toBe(WRITABLE);
      expect(readStatus(mine)).toBe(ZX_ERR_SHOULD_WAIT);
      expect(await peer.call({ op: 'write', text: 'yes' })).toEqual({ status: ZX_OK, actual: 3 });
      expect(await readable).toEqual({ status: ZX_OK, observed: READABLE | WRITABLE });
      expect(readText(mine)).toBe('yes');
      await peer.exit();
      expect(signalsOf(mine)).toBe(PEER_CLOSED);
      closeAll(mine);
    },
  );

  it.each(KINDS)(
    '%s: a peer killed while both directions are disabled in the page: PEER_CLOSED wakes a sync wait, an async wait and a port here',
    async (_, options) => {
      const soon = () => sys.deadlineAfter(20n * SECOND);
      const [mine, theirs] = socketPair(options);
      const peer = new Peer();
      await peer.call({ op: 'take' }, [theirs]);
      write(mine, 'unread');
      expect(sys.socketSetDisposition(mine, DISABLED, DISABLED)).toBe(ZX_OK);
      expect(await peer.call({ op: 'signals' })).toEqual({
        observed: READABLE | WRITE_DISABLED | PEER_WRITE_DISABLED,
      });
      const port = Port.create();
      expect(sys.objectWaitAsync(mine, port.raw, 2n, PEER_CLOSED, 0)).toBe(ZX_OK);
      const closed = sys.objectWaitOneAsync(mine, PEER_CLOSED, soon());
      peer.proc.proc.kill('SIGKILL');
      const all = PEER_CLOSED | WRITE_DISABLED | PEER_WRITE_DISABLED;
      expect(sys.objectWaitOne(mine, PEER_CLOSED, soon())).toEqual({ status: ZX_OK, observed: all });
      expect(await closed).toEqual({ status: ZX_OK, observed: all });
      const packet = await port.wait({ timeout: 20_000 });
      expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && [packet.key, packet.signal.observed]).toEqual([2n, all]);
      port.close();
      expect(await peer.proc.closed).toEqual({ code: null, signal: 'SIGKILL' });
      expect(readStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
      expect(writeStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
      closeAll(peer.channel, mine);
    },
  );

  it("the child disables this end's writes (dispositionPeer): WRITE_DISABLED and BAD_STATE here; its close wakes a blocked wait", async () => {
    const [mine, theirs] = socketPair(ZX_SOCKET_STREAM);
    const peer = new Peer([{ id: user(1), handle: theirs }]);
    expect(await peer.call({ op: 'disposition', d: 0, dp: DISABLED })).toEqual({ status: ZX_OK });
    expect(signalsOf(mine)).toBe(WRITE_DISABLED);
    expect(writeStatus(mine)).toBe(ZX_ERR_BAD_STATE);
    expect(await peer.call({ op: 'signals' })).toEqual({ observed: WRITABLE | PEER_WRITE_DISABLED });
    // The child's writes still arrive; then it disables them and exits.
    expect(await peer.call({ op: 'write', text: 'ok' })).toEqual({ status: ZX_OK, actual: 2 });
    expect(readText(mine)).toBe('ok');
    peer.send({ op: 'exit' });
    expect(sys.objectWaitOne(mine, PEER_CLOSED, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
    await peer.proc.closed;
    closeAll(peer.channel, mine);
  });
});

describe('handles and descriptors', () => {
  it('a duplicate keeps the end open: PEER_CLOSED once every handle to it is closed', () => {
    const [a, b] = socketPair(ZX_SOCKET_STREAM);
    const dup = sys.handleDuplicate(b, ZX_RIGHT_SAME_RIGHTS);
    expect(dup.status).toBe(ZX_OK);
    expect(basic(dup.out).koid).toBe(basic(b).koid);
    write(a, 'x');
    closeAll(b);
    expect(signalsOf(a)).toBe(WRITABLE);
    expect(readText(dup.out)).toBe('x');
    closeAll(dup.out);
    expect(signalsOf(a)).toBe(PEER_CLOSED);
    closeAll(a);
  });

  it('fdio.fdCreate hands a STREAM end out as a plain socket that a net.Socket can use', async () => {
    const [mine, theirs] = socketPair(ZX_SOCKET_STREAM);
    const { status, fd } = fdio.fdCreate(theirs);
    expect(status).toBe(ZX_OK);
    expect(isValid(theirs)).toBe(false);
    const outside = new net.Socket({ fd, readable: true, writable: true });
    const received: Buffer[] = [];
    outside.on('data', (chunk: Buffer) => received.push(chunk));
    outside.write('from outside');
    expect((await sys.objectWaitOneAsync(mine, READABLE, ZX_TIME_INFINITE)).status).toBe(ZX_OK);
    expect(readText(mine)).toBe('from outside');
    write(mine, 'from inside');
    await until(() => Buffer.concat(received).toString() === 'from inside', 'the net.Socket to read');
    outside.end(); // shutdown(SHUT_WR)
    expect((await sys.objectWaitOneAsync(mine, PEER_WRITE_DISABLED, ZX_TIME_INFINITE)).status).toBe(ZX_OK);
    expect(readStatus(mine)).toBe(ZX_ERR_BAD_STATE);
    outside.destroy();
    expect((await sys.objectWaitOneAsync(mine, PEER_CLOSED, ZX_TIME_INFINITE)).status).toBe(ZX_OK);
    expect(readStatus(mine)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(mine);
  });
});

describe('Socket', () => {
  it('tryWrite, tryRead with peek, read and write waiting for the peer', async () => {
    const [a, b] = Socket.create();
    expect(a.type).toBe(ZX_OBJ_TYPE_SOCKET);
    expect(a.tryWrite('hello')).toBe(5);
    expect(b.tryRead(3, { peek: true })?.toString()).toBe('hel');
    expect(b.tryRead(10)?.toString()).toBe('hello');
    expect(b.tryRead(10)).toBeNull();
    const later = b.read(100, { timeout: 20_000 });
    setImmediate(() => a.tryWrite('later'));
    expect((await later)?.toString()).toBe('later');

    // write waits for room: 1 MiB through a 256 KiB socket while b reads.
    const data = pattern(1 << 20, 7);
    const writing = a.write(data, { timeout: 20_000 });
    const parts: Buffer[] = [];
    let got = 0;
    while (got < data.length) {
      const part = await b.read(1 << 20, { timeout: 20_000 });
      parts.push(part!);
      got += part!.length;
    }
    await writing;
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    a.close();
    expect(await b.read(10)).toBeNull(); // the end
    expectZxError(
      thrownBy(() => b.tryWrite('x')),
      ZX_ERR_PEER_CLOSED,
      'Socket.tryWrite',
    );
    b.close();
  });

  it('read times out, aborts (ending its native wait), ends at a disable and goes on after a re-enable', async () => {
    const [a, b] = Socket.create({ datagram: true });
    await expect(b.read(10, { timeout: 20 })).rejects.toMatchObject({ status: ZX_ERR_TIMED_OUT });
    const controller = new AbortController();
    const reading = b.read(10, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    await expect(b.read(10, { signal: controller.signal })).rejects.toThrow('stop');
    a.tryWrite('datagram');
    a.setDisposition(DISABLED);
    expect((await b.read(4))?.toString()).toBe('data'); // cut
    expect(await b.read(4)).toBeNull();
    expectZxError(
      thrownBy(() => b.tryRead(4, { peek: true })),
      ZX_ERR_BAD_STATE,
      'Socket.tryRead',
    );
    expectZxError(
      thrownBy(() => a.tryWrite('x')),
      ZX_ERR_BAD_STATE,
      'Socket.tryWrite',
    );
    a.setDisposition(ENABLED);
    const resumed = b.read(4);
    expect(a.tryWrite('next')).toBe(4);
    expect((await resumed)?.toString()).toBe('next');
    a.close();
    b.close();
  });

  it('write rejects a datagram larger than the socket; tryWrite returns 0 when full', async () => {
    const [a, b] = Socket.create({ datagram: true });
    await expect(a.write(Buffer.alloc(300_000))).rejects.toMatchObject({ status: ZX_ERR_OUT_OF_RANGE });
    let n = 0;
    while (a.tryWrite(Buffer.alloc(60_000)) === 60_000) n++;
    expect(a.tryWrite(Buffer.alloc(60_000))).toBe(0);
    await expect(a.write(Buffer.alloc(60_000), { timeout: 20 })).rejects.toMatchObject({ status: ZX_ERR_TIMED_OUT });
    const chunks: number[] = [];
    a.setDisposition(DISABLED);
    for await (const chunk of b) chunks.push(chunk.length);
    expect(chunks).toEqual(new Array(n).fill(60_000));
    a.close();
    b.close();
  });

  it('a socket end read from a Channel comes as a Socket', async () => {
    const [c0, c1] = Channel.create();
    const [a, b] = Socket.create();
    c0.write('here', [b]);
    const message = await c1.read();
    const [received] = message.handles;
    expect(received).toBeInstanceOf(Socket);
    a.write('through');
    expect((received as Socket).tryRead(100)?.toString()).toBe('through');
    for (const h of [c0, c1, a, received]) h.close();
  });
});

describe('SocketStream', () => {
  it('pipes a few MiB each way across processes, content checked, then ends and closes', async () => {
    const [a, b] = Socket.create();
    const toChild = pattern(3 * 1024 * 1024 + 123, 1);
    const fromChild = 2 * 1024 * 1024 + 7;
    const child = startNode('socket-stream.cjs', [String(fromChild)], [{ id: user(0), handle: b }]);
    const stream = a.toStream();
    expect(a.valid).toBe(false); // taken by the stream
    expect(stream).toBeInstanceOf(SocketStream);
    const received: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    let offset = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      const pump = () => {
        while (offset < toChild.length) {
          const piece = toChild.subarray(offset, offset + 100_000);
          offset += piece.length;
          if (!stream.write(piece)) return void stream.once('drain', pump);
        }
        stream.end(resolve);
      };
      pump();
    });
    await ended;
    const report = await child.json('sha256');
    expect(report).toEqual({ received: toChild.length, sha256: sha256(toChild), sent: fromChild });
    const all = Buffer.concat(received);
    expect(all.length).toBe(fromChild);
    expect(all.equals(pattern(fromChild, 2))).toBe(true);
    expect((await child.closed).code).toBe(0);
    await streamClosed(stream);
  });

  it("backpressure: a writer with no reader stops at the kernel's capacity; a paused consumer stops the reading", async () => {
    const [a, b] = Socket.create();
    const stream = a.toStream({ highWaterMark: 64 * 1024 });
    const data = pattern(2 * 1024 * 1024, 9);
    let drained = false;
    stream.on('drain', () => (drained = true));
    for (let offset = 0; offset < data.length; offset += 65536) stream.write(data.subarray(offset, offset + 65536));
    await until(() => !(signalsOf(stream.handle) & WRITABLE), 'the socket to fill');
    for (let i = 0; i < 20; i++) await tick();
    expect(drained).toBe(false); // nobody reads: the stream keeps what the kernel can't take
    expect(stream.writableLength).toBeGreaterThan(1024 * 1024);
    const got: Buffer[] = [];
    let total = 0;
    while (total < data.length) {
      const part = await b.read(1 << 20, { timeout: 20_000 });
      got.push(part!);
      total += part!.length;
    }
    expect(Buffer.concat(got).equals(data)).toBe(true);
    await until(() => drained, 'drain');

    // Reading side: the consumer pauses at its first chunk; the stream then reads no more
    // than its buffer holds, and b's writes stop at the kernel's capacity.
    const chunks: Buffer[] = [];
    let paused = false;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (!paused) {
        paused = true;
        stream.pause();
      }
    });
    let written = 0;
    const fill = () => {
      while (written < data.length) {
        const n = b.tryWrite(data.subarray(written));
        if (n === 0) return;
        written += n;
      }
    };
    fill();
    await until(() => paused, 'the first chunk');
    for (let i = 0; i < 20; i++) {
      await tick();
      fill();
    }
    expect(written).toBeLessThan(data.length);
    expect(b.tryWrite('more')).toBe(0); // full
    expect(stream.readableLength).toBeLessThanOrEqual(64 * 1024);
    stream.resume();
    await b.write(data.subarray(written), { timeout: 20_000 });
    b.setDisposition(DISABLED);
    await new Promise((resolve) => stream.on('end', resolve));
    expect(Buffer.concat(chunks).equals(data)).toBe(true);

    // end() is the peer's PEER_WRITE_DISABLED; destroy() its PEER_CLOSED.
    // ('finish' listeners run before the stream, ended both ways, destroys itself.)
    const atFinish = new Promise<number>((resolve) => stream.once('finish', () => resolve(signalsOf(b.raw))));
    stream.end();
    expect((await atFinish) & (PEER_WRITE_DISABLED | PEER_CLOSED)).toBe(PEER_WRITE_DISABLED);
    stream.destroy();
    await streamClosed(stream);
    expect(signalsOf(b.raw) & PEER_CLOSED).toBe(PEER_CLOSED);
    b.close();
  });

  it('a write after the peer is gone fails the stream with ZxError PEER_CLOSED', async () => {
    const [a, b] = Socket.create();
    const stream = a.toStream();
    b.close();
    const error = await new Promise<ZxError>((resolve) => {
      stream.on('error', resolve);
      stream.write('lost');
    });
    expect(error).toBeInstanceOf(ZxError);
    expect(error.status).toBe(ZX_ERR_PEER_CLOSED);
    await streamClosed(stream);
    expect(stream.handle).toBe(0);
  });
});

describe('objectGetInfo ZX_INFO_SOCKET', () => {
  it.each(KINDS)(
    '%s: options and the bytes each way, the peer in another process; needs INSPECT; 0 for tx once the peer is gone',
    async (_, options) => {
      const [mine, theirs] = socketPair(options);
      const infoOf = (h: number) => {
        const r = sys.objectGetInfo(h, ZX_INFO_SOCKET);
        expect(r.status).toBe(ZX_OK);
        return r.info!;
      };
      const fresh = infoOf(mine);
      expect(fresh).toMatchObject({ options, rxBufSize: 0n, rxBufAvailable: 0n, txBufSize: 0n });
      expect(fresh.rxBufMax).toBeGreaterThan(0n);
      expect(fresh.txBufMax).toBeGreaterThan(0n);
      const peer = new Peer();
      await peer.call({ op: 'take' }, [theirs]);
      write(mine, 'twelve bytes');
      // Linux counts what the peer holds in kernel memory, message overhead included.
      expect(infoOf(mine).txBufSize).toBeGreaterThanOrEqual(12n);
      expect(await peer.call({ op: 'write', text: 'seven b' })).toEqual({ status: ZX_OK, actual: 7 });
      expect(await peer.call({ op: 'write', text: 'two' })).toEqual({ status: ZX_OK, actual: 3 });
      expect(sys.objectWaitOne(mine, READABLE, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
      // Ten bytes wait; a datagram end can read the next datagram's seven at once.
      const next = options === ZX_SOCKET_STREAM ? 10n : 7n;
      expect(infoOf(mine)).toMatchObject({ rxBufSize: 10n, rxBufAvailable: next });
      expect(await peer.call({ op: 'read', length: 100 })).toEqual({ status: ZX_OK, text: 'twelve bytes' });
      expect(infoOf(mine).txBufSize).toBe(0n);
      await peer.exit();
      expect(infoOf(mine)).toMatchObject({ txBufMax: 0n, txBufSize: 0n, rxBufSize: 10n, rxBufAvailable: next });
      const bare = replace(mine, ZX_DEFAULT_SOCKET_RIGHTS & ~ZX_RIGHT_INSPECT);
      expect(sys.objectGetInfo(bare, ZX_INFO_SOCKET)).toEqual({ status: ZX_ERR_ACCESS_DENIED, info: null });
      const [c, d] = channel();
      expect(sys.objectGetInfo(c, ZX_INFO_SOCKET)).toEqual({ status: ZX_ERR_WRONG_TYPE, info: null });
      closeAll(bare, c, d);
    },
  );
});
