// Two processes talking over endpoints they inherited as plain descriptors: bytes both
// ways, and descriptors (a file, a channel, a pipe end) travelling inside messages.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_INFO_HANDLE_BASIC,
  ZX_INFO_HANDLE_VALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import { type Child, reportOf, spawnNode, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-processes-'));
  await warmUpSpawn();
  warmUpWait();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits (without blocking the event loop) for the next message on `h` and reads it. */
async function recv(h: number, child: Child) {
  const observed = await waitSignals(h, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, child.stderr());
  if (!(observed & ZX_CHANNEL_READABLE)) throw new Error(`peer closed; child stderr: ${child.stderr()}`);
  const r = sys.channelReadEtc(h, 0, 65536, 64);
  expect(r.status).toBe(ZX_OK);
  return r;
}

function koidsOf(h: number) {
  const { status, info } = sys.objectGetInfo(h, ZX_INFO_HANDLE_BASIC);
  expect(status).toBe(ZX_OK);
  return info!;
}

describe('two processes with inherited endpoints', () => {
  it('exchange bytes, a file, a second channel and a pipe end, then the child exits', async () => {
    const fdsBefore = openFdCount();
    const handlesBefore = native.handleCount();

    const filePath = path.join(dir, 'contents.txt');
    writeFileSync(filePath, 'the contents of a file, read by another process');
    const fifoPath = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifoPath]);

    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnNode('child-peer.cjs', [fifoPath], out1);
    // The child holds the only copy of the other endpoint now.
    expect(sys.objectGetInfo(out1, ZX_INFO_HANDLE_VALID).status).toBe(ZX_ERR_BAD_HANDLE);

    // 1. Plain bytes, both ways.
    expect(sys.channelWrite(ch, 0, Buffer.from('hello'), null)).toBe(ZX_OK);
    const back = await recv(ch, child);
    expect(back.bytes.toString()).toBe('hello back');
    expect(back.handles).toEqual([]);

    // 2. A file: the child reads it through the handle it received.
    const fileFd = openSync(filePath, 'r');
    const file = fdio.fdClone(fileFd);
    expect(file.status).toBe(ZX_OK);
    closeSync(fileFd);
    expect(sys.channelWrite(ch, 0, Buffer.from('file'), [file.handle])).toBe(ZX_OK);
    expect(sys.objectGetInfo(file.handle, ZX_INFO_HANDLE_VALID).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(JSON.parse((await recv(ch, child)).bytes.toString())).toEqual({
      type: ZX_OBJ_TYPE_FD,
      rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ,
      contents: 'the contents of a file, read by another process',
    });

    // 3. A new channel's endpoint inside a message; koids travel with it.
    const second = sys.channelCreate(0);
    expect(second.status).toBe(ZX_OK);
    const sent = koidsOf(second.out1);
    const near = koidsOf(second.out0);
    expect(sys.channelWrite(ch, 0, Buffer.from('channel'), [second.out1])).toBe(ZX_OK);
    expect(JSON.parse((await recv(ch, child)).bytes.toString())).toEqual({
      type: ZX_OBJ_TYPE_CHANNEL,
      rights: ZX_DEFAULT_CHANNEL_RIGHTS,
      koid: String(sent.koid),
      related: String(near.koid),
    });
    expect(sys.channelWrite(second.out0, 0, Buffer.from('over the second channel'), null)).toBe(ZX_OK);
    expect((await recv(second.out0, child)).bytes.toString()).toBe('echo: over the second channel');
    // The child closed its end of the second channel.
    expect(await waitSignals(second.out0, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.handleClose(second.out0)).toBe(ZX_OK);

    // 4. The child sends the write end of a pipe; this side writes into it.
    const pipeMsg = await recv(ch, child);
    expect(pipeMsg.bytes.toString()).toBe('pipe');
    expect(pipeMsg.handles).toHaveLength(1);
    const [pipeEnd] = pipeMsg.handles;
    expect(pipeEnd.type).toBe(ZX_OBJ_TYPE_FD);
    expect(pipeEnd.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE);
    const made = fdio.fdCreate(pipeEnd.handle);
    expect(made.status).toBe(ZX_OK);
    expect(fstatSync(made.fd).isFIFO()).toBe(true);
    expect(writeSync(made.fd, 'through the pipe')).toBe(16);
    closeSync(made.fd);
    expect(sys.channelWrite(ch, 0, Buffer.from('written'), null)).toBe(ZX_OK);
    expect((await recv(ch, child)).bytes.toString()).toBe('pipe said: through the pipe');

    // 5. The child ends: its endpoint goes with it.
    expect(await waitSignals(ch, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.channelWrite(ch, 0, Buffer.from('anyone?'), null)).toBe(ZX_ERR_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');

    expect(sys.handleClose(ch)).toBe(ZX_OK);
    expect(native.handleCount()).toBe(handlesBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('messages a child queued past the socket capacity arrive in order after it exits', async () => {
    const fdsBefore = openFdCount();
    const handlesBefore = native.handleCount();
    const count = 60; // 3.75 MiB: more than the socket holds, within the queue's byte limit

    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnNode('child-flood.cjs', [String(count)], out1);

    let received = 0;
    for (;;) {
      const observed = await waitSignals(ch, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, child.stderr());
      if (!(observed & ZX_CHANNEL_READABLE)) break;
      for (;;) {
        const r = sys.channelRead(ch, 0, 65536, 64);
        if (r.status === ZX_ERR_SHOULD_WAIT || r.status === ZX_ERR_PEER_CLOSED) break;
        expect(r.status).toBe(ZX_OK);
        expect(r.actualBytes).toBe(65536);
        expect(r.bytes.readUInt32LE(0)).toBe(received);
        expect(r.bytes[65535]).toBe(0x5a);
        received++;
      }
    }
    expect(received).toBe(count);
    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(reportOf(child)).toEqual({ written: count });

    expect(sys.handleClose(ch)).toBe(ZX_OK);
    expect(native.handleCount()).toBe(handlesBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });
});
