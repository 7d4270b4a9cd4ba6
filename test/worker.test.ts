// Worker threads: handle values are process-wide, a worker's descriptors go when it
// ends, and messages a terminated worker queued are still delivered.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_INFO_HANDLE_BASIC,
  ZX_INFO_HANDLE_VALID,
  ZX_OK,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import { wakeFlagFds } from './fixtures/backend';
import { fixture, waitSignals, warmUpWait } from './fixtures/spawn';

let dir: string;
let fdsBefore: number;
let handlesBefore: number;

/** Runs a worker fixture; resolves with its first message and once it has exited. */
function startWorker(script: string, workerData: unknown = {}) {
  const worker = new Worker(fixture(script), { workerData });
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  const message = new Promise<any>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, message, exited };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-worker-'));
  warmUpWait();
  // The first worker of a process may set up things that last; later ones are measured.
  const { message, exited } = startWorker('child-worker-channels.cjs');
  const { kept } = await message;
  await exited;
  sys.handleCloseMany([kept.out0, kept.out1]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  fdsBefore = openFdCount();
  handlesBefore = native.handleCount();
});
afterEach(() => {
  expect(native.handleCount()).toBe(handlesBefore);
  expect(openFdCount()).toBe(fdsBefore);
});

describe('channels and worker threads', () => {
  it('a worker uses an endpoint made on the main thread, by its handle value', async () => {
    const file = path.join(dir, 'for-the-worker.txt');
    writeFileSync(file, 'read in a worker');
    const { status, out0, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const fd = openSync(file, 'r');
    const fileHandle = fdio.fdClone(fd).handle;
    closeSync(fd);
    expect(sys.channelWrite(out0, 0, Buffer.from('file'), [fileHandle])).toBe(ZX_OK);

    const { message, exited } = startWorker('child-worker-echo.cjs', { handle: out1 });
    await waitSignals(out0, ZX_CHANNEL_READABLE);
    const reply = sys.channelRead(out0, 0, 65536, 64);
    expect(reply.status).toBe(ZX_OK);
    expect(reply.bytes.toString()).toBe('file: read in a worker');

    const report = await message;
    expect(await exited).toBe(0);
    // The same object under the same value on both threads.
    const koid = sys.objectGetInfo(out0, ZX_INFO_HANDLE_BASIC).info!.relatedKoid;
    expect(report).toEqual({ koid, wait: ZX_OK, read: ZX_OK, written: ZX_OK, closed: ZX_OK });
    // The worker closed out1: gone for the whole process.
    expect(sys.objectGetInfo(out1, ZX_INFO_HANDLE_VALID).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectWaitOne(out0, ZX_CHANNEL_PEER_CLOSED, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    expect(sys.handleClose(out0)).toBe(ZX_OK);
  });

  it('a worker that makes channels and ends leaves no descriptor behind', async () => {
    const { message, exited } = startWorker('child-worker-channels.cjs');
    const report = await message;
    expect(await exited).toBe(0);
    expect(report.statuses).toEqual(new Array(64).fill(ZX_OK));
    expect(report.blocked).toBe(ZX_ERR_TIMED_OUT);
    // The worker's first wait opened its wake flag...
    expect(report.wakeFds).toBe(wakeFlagFds);
    // ...and the pair it left open is still there, usable from this thread.
    const { out0, out1 } = report.kept;
    expect(report.kept.written).toBe(ZX_OK);
    expect(native.handleCount()).toBe(handlesBefore + 2);
    expect(openFdCount()).toBe(fdsBefore + 2); // the pair's sockets; the wake flag is closed
    expect(sys.channelRead(out1, 0, 65536, 64).bytes.toString()).toBe('left for main');
    expect(sys.handleCloseMany([out0, out1])).toBe(ZX_OK);
  });

  it('messages a terminated worker left queued are delivered after a later write', async () => {
    const count = 60; // 3.75 MiB: what the socket can't hold waits in the native queue
    const { status, out0: writer, out1: reader } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const { worker, message, exited } = startWorker('child-worker-flood.cjs', { handle: writer, count });
    expect(await message).toEqual({ statuses: [ZX_OK] });
    await worker.terminate();
    await exited;

    // What fit in the socket is readable at once, in order.
    let received = 0;
    const readAvailable = () => {
      for (;;) {
        const r = sys.channelRead(reader, 0, 65536, 64);
        if (r.status !== ZX_OK) return r.status;
        if (received < count) {
          expect(r.actualBytes).toBe(65536);
          expect(r.bytes.readUInt32LE(0)).toBe(received);
        } else {
          expect(r.bytes.toString()).toBe('after the worker');
        }
        received++;
      }
    };
    expect(readAvailable()).toBe(ZX_ERR_SHOULD_WAIT);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(count);

    // The queue belongs to the endpoint, not to the worker: this thread's write sends
    // it first, and this thread's loop keeps flushing as the reader drains.
    expect(sys.channelWrite(writer, 0, Buffer.from('after the worker'), null)).toBe(ZX_OK);
    while (received < count + 1) {
      await waitSignals(reader, ZX_CHANNEL_READABLE);
      expect(readAvailable()).toBe(ZX_ERR_SHOULD_WAIT);
    }
    expect(received).toBe(count + 1);

    expect(sys.handleClose(writer)).toBe(ZX_OK);
    // (That the peer sees this close at once is the next case's subject.)
    await waitSignals(reader, ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(reader)).toBe(ZX_OK);
  });

  it('closing a drained endpoint is seen by its peer once the loop that watched it runs', async () => {
    const count = 60; // more than the socket holds: the worker's loop watches the endpoint
    const { out0: writer, out1: reader } = sys.channelCreate(0);
    const go = sys.channelCreate(0);
    const { message, exited, worker } = startWorker('child-worker-blocked.cjs', { handle: writer, go: go.out1, count });
    expect(await message).toEqual({ statuses: [ZX_OK] });
    const released = new Promise((resolve) => worker.once('message', resolve));

    // The worker is blocked: this thread drains the queue with writes of its own (each
    // write sends what is queued first) and reads until its last small message arrives.
    let big = 0;
    let small = 0;
    let sent = 0;
    for (;;) {
      for (
        let r = sys.channelRead(reader, 0, 65536, 64);
        r.status === ZX_OK;
        r = sys.channelRead(reader, 0, 65536, 64)
      ) {
        if (r.actualBytes === 65536) big++;
        else small++;
      }
      if (big === count && small === sent) break;
      expect(sys.channelWrite(writer, 0, Buffer.from('flush'), null)).toBe(ZX_OK);
      sent++;
    }
    // Nothing is queued any more and `writer` is the endpoint's only handle. The worker's
    // loop still watches the socket (it is blocked in a synchronous wait): the socket
    // closes when that loop next runs (README: "Differences from Zircon").
    expect(sys.handleClose(writer)).toBe(ZX_OK);
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    expect(sys.channelWrite(go.out0, 0, Buffer.from('go'), null)).toBe(ZX_OK);
    expect(await released).toEqual({ waited: ZX_OK });
    await waitSignals(reader, ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(await exited).toBe(0);
    expect(sys.handleCloseMany([reader, go.out0, go.out1])).toBe(ZX_OK);
  });

  it('closing an endpoint whose queue this thread drained is seen by its peer at once', () => {
    const { out0: writer, out1: reader } = sys.channelCreate(0);
    const big = Buffer.alloc(65536, 1);
    let queued = 0;
    while (queued < 60) {
      expect(sys.channelWrite(writer, 0, big, null)).toBe(ZX_OK);
      queued++;
    }
    // Read everything, writing a small message each time so that queued ones go out.
    let got = 0;
    let sent = 0;
    while (got < queued + sent) {
      for (let r = sys.channelRead(reader, 0, 65536, 64); r.status === ZX_OK; r = sys.channelRead(reader, 0, 65536, 64))
        got++;
      if (got < queued + sent) {
        expect(sys.channelWrite(writer, 0, Buffer.from('x'), null)).toBe(ZX_OK);
        sent++;
      }
    }
    expect(sys.handleClose(writer)).toBe(ZX_OK);
    expect(sys.objectWaitOne(reader, ZX_CHANNEL_PEER_CLOSED, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    expect(sys.handleClose(reader)).toBe(ZX_OK);
  });

  it('a worker terminated with an async wait and an async call pending shuts down cleanly', async () => {
    const waited = sys.channelCreate(0);
    const called = sys.channelCreate(0);
    const { message, exited, worker } = startWorker('child-worker-pending.cjs', {
      wait: waited.out0,
      call: called.out0,
    });
    expect(await message).toEqual({ pending: true });
    // The request went out; nothing answers it before the worker is stopped.
    await waitSignals(called.out1, ZX_CHANNEL_READABLE);
    expect(sys.channelRead(called.out1, 0, 64, 0).bytes.subarray(4).toString()).toBe('request');

    const settled: unknown[] = [];
    worker.on('message', (m) => settled.push(m));
    await worker.terminate();
    expect(await exited).toBe(1);
    expect(settled).toEqual([]);

    // The handles are the process's: still valid here, and the channels still work.
    expect(sys.objectGetInfo(waited.out0, ZX_INFO_HANDLE_VALID).status).toBe(ZX_OK);
    expect(sys.channelWrite(waited.out1, 0, Buffer.from('late'), null)).toBe(ZX_OK);
    expect(sys.channelRead(waited.out0, 0, 64, 0).bytes.toString()).toBe('late');
    const reply = Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x80]), Buffer.from('reply')]); // txid 0x80000001
    expect(sys.channelWrite(called.out1, 0, reply, null)).toBe(ZX_OK);
    // The abandoned call's reply is an ordinary message now.
    expect(sys.channelRead(called.out0, 0, 64, 0).bytes.subarray(4).toString()).toBe('reply');
    expect(sys.handleCloseMany([waited.out0, waited.out1, called.out0, called.out1])).toBe(ZX_OK);
  });
});
