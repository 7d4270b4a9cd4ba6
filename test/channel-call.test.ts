// channelCall / channelCallEtc, blocking the calling thread: Zircon's checks and their
// order, txids, routing of the reply past other messages, deadlines, the peer's end,
// oversized replies and handles both ways. The server is a worker thread or a child
// process running test/fixtures/server-script.cjs.
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_CHANNEL_WRITE_USE_IOVEC,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BUFFER_TOO_SMALL,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_OP_MOVE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
} from '../lib/index';
import type { HandleDisposition } from '../lib/sys';
import {
  type Baseline,
  baseline,
  basic,
  channel,
  closeAll,
  expectBaseline,
  fileHandle,
  isValid,
  readAll,
  removeScratchDir,
  replace,
  signalsOf,
  staleHandle,
  warmUpWaits,
} from './fixtures/channels';
import { serve } from './fixtures/server';
import { repoRoot, reportOf, spawnNode, warmUpSpawn } from './fixtures/spawn';

const MS = 1_000_000n;
const LONG = 20_000n * MS; // a deadline that only a broken test reaches
const FIRST_TXID = 0x80000001;

type Step =
  | { op: 'recv' }
  | { op: 'reply'; to: number; text: string; size?: number; handles?: 'back' | 'new' }
  | { op: 'send'; txid: number; text: string }
  | { op: 'spareClosed' }
  | { op: 'peerClosed' }
  | { op: 'close' }
  | { op: 'ready'; tag?: string }
  | { op: 'echo' };

/** A message: 4-byte little-endian txid, then `text`. */
function msg(txid: number, text: string): Buffer {
  const b = Buffer.alloc(4 + Buffer.byteLength(text));
  b.writeUInt32LE(txid >>> 0, 0);
  b.write(text, 4);
  return b;
}

const txidOf = (b: Buffer) => b.readUInt32LE(0);
const textOf = (b: Buffer) => b.subarray(4).toString('latin1');

function call(
  h: number,
  bytes: Uint8Array | Uint8Array[] | null,
  handles: number[] | null = null,
  opts: {
    options?: number;
    deadline?: bigint;
    readNumBytes?: number;
    readNumHandles?: number;
  } = {},
) {
  return sys.channelCall(h, opts.options ?? 0, opts.deadline ?? sys.deadlineAfter(LONG), {
    bytes,
    handles,
    readNumBytes: opts.readNumBytes ?? 65536,
    readNumHandles: opts.readNumHandles ?? 64,
  });
}

const FAILED = { bytes: Buffer.alloc(0), handles: [], actualBytes: 0, actualHandles: 0 };

/** Handle x of a fresh pair, to send along; its peer y shows whether x was closed. */
function witness(): { x: number; y: number } {
  const [x, y] = channel();
  return { x, y };
}

function expectConsumed(w: { x: number; y: number }) {
  expect(isValid(w.x)).toBe(false);
  expect(signalsOf(w.y)).toBe(ZX_CHANNEL_PEER_CLOSED);
  closeAll(w.y);
}

let before: Baseline;

beforeAll(async () => {
  warmUpWaits();
  await warmUpSpawn();
  // The first worker of a process may set up things that last.
  const [a, b] = channel();
  const s = serve(b, [{ op: 'recv' }, { op: 'reply', to: 0, text: 'warm' }]);
  expect(call(a, msg(0, 'warm')).status).toBe(ZX_OK);
  await s.finished();
  closeAll(a);
});
afterAll(() => removeScratchDir());

beforeEach(() => {
  before = baseline();
});
afterEach(() => {
  expectBaseline(before);
});

describe('channelCall: checks, in Zircon order, handles always consumed', () => {
  it('needs READ and WRITE: ACCESS_DENIED without either, nothing sent', () => {
    for (const missing of [ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_RIGHT_READ | ZX_RIGHT_WRITE]) {
      const [a, b] = channel();
      const limited = replace(a, ZX_DEFAULT_CHANNEL_RIGHTS & ~missing);
      const w = witness();
      expect(call(limited, msg(0, 'request'), [w.x])).toEqual({ status: ZX_ERR_ACCESS_DENIED, ...FAILED });
      expectConsumed(w);
      expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE); // nothing was sent
      closeAll(limited, b);
    }
  });

  it('BAD_HANDLE and WRONG_TYPE, with the handles consumed', () => {
    const w1 = witness();
    expect(call(staleHandle(), msg(0, 'request'), [w1.x]).status).toBe(ZX_ERR_BAD_HANDLE);
    expectConsumed(w1);
    const file = fileHandle('r+');
    const w2 = witness();
    expect(call(file, msg(0, 'request'), [w2.x]).status).toBe(ZX_ERR_WRONG_TYPE);
    expectConsumed(w2);
    expect(isValid(file)).toBe(true);
    closeAll(file);
  });

  it('fewer than 4 bytes: INVALID_ARGS, handles consumed, nothing sent', () => {
    const [a, b] = channel();
    const small: [number, Uint8Array | Uint8Array[] | null][] = [
      [0, null],
      [0, new Uint8Array(0)],
      [0, new Uint8Array(3)],
      [ZX_CHANNEL_WRITE_USE_IOVEC, [new Uint8Array(1), new Uint8Array(2)]],
      [ZX_CHANNEL_WRITE_USE_IOVEC, []],
    ];
    for (const [options, bytes] of small) {
      const w = witness();
      expect(call(a, bytes, [w.x], { options })).toEqual({ status: ZX_ERR_INVALID_ARGS, ...FAILED });
      expectConsumed(w);
    }
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b);
  });

  it('bad options: INVALID_ARGS, handles consumed, nothing sent', () => {
    const [a, b] = channel();
    for (const options of [1, 42, 0x80000000, ZX_CHANNEL_WRITE_USE_IOVEC | 1]) {
      const w = witness();
      const bytes = options & ZX_CHANNEL_WRITE_USE_IOVEC ? [msg(0, 'request')] : msg(0, 'request');
      expect(call(a, bytes, [w.x], { options })).toEqual({ status: ZX_ERR_INVALID_ARGS, ...FAILED });
      expectConsumed(w);
    }
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b);
  });

  it('the order: options, then the handle and its rights, then the sizes', () => {
    const w1 = witness();
    expect(call(staleHandle(), new Uint8Array(1), [w1.x], { options: 1 }).status).toBe(ZX_ERR_INVALID_ARGS);
    expectConsumed(w1);
    const [a, b] = channel();
    const noRead = replace(a, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    const w2 = witness();
    expect(call(noRead, new Uint8Array(2), [w2.x]).status).toBe(ZX_ERR_ACCESS_DENIED);
    expectConsumed(w2);
    const w3 = witness();
    expect(call(noRead, new Uint8Array(65537), [w3.x]).status).toBe(ZX_ERR_ACCESS_DENIED);
    expectConsumed(w3);
    closeAll(noRead, b);
  });

  it('OUT_OF_RANGE past 65536 bytes or 64 handles; NOT_SUPPORTED for its own endpoint', () => {
    const [a, b] = channel();
    const w = witness();
    expect(call(a, new Uint8Array(65537), [w.x]).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expectConsumed(w);
    const many = Array.from({ length: 65 }, () => witness());
    expect(
      call(
        a,
        msg(0, 'request'),
        many.map((m) => m.x),
      ).status,
    ).toBe(ZX_ERR_OUT_OF_RANGE);
    many.forEach(expectConsumed);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    // A channel can't carry its own endpoint: that endpoint goes too.
    expect(call(a, msg(0, 'request'), [a]).status).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(isValid(a)).toBe(false);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(b);
  });

  it('the peer already gone: PEER_CLOSED, handles consumed', () => {
    const [a, b] = channel();
    closeAll(b);
    const w = witness();
    expect(call(a, msg(0, 'request'), [w.x])).toEqual({ status: ZX_ERR_PEER_CLOSED, ...FAILED });
    expectConsumed(w);
    closeAll(a);
  });

  it('channelCallEtc: a failing disposition gets its result, all handles are consumed', () => {
    const [a, b] = channel();
    const w1 = witness();
    const w2 = witness();
    const dispositions: HandleDisposition[] = [
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: w1.x,
        type: ZX_OBJ_TYPE_CHANNEL,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      { operation: ZX_HANDLE_OP_MOVE, handle: w2.x, type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHT_SAME_RIGHTS, result: ZX_OK },
    ];
    const r = sys.channelCallEtc(a, 0, sys.deadlineAfter(LONG), {
      bytes: msg(0, 'request'),
      handles: dispositions,
      readNumBytes: 64,
      readNumHandles: 0,
    });
    expect(r).toEqual({ status: ZX_ERR_WRONG_TYPE, ...FAILED });
    expect(dispositions.map((d) => d.result)).toEqual([ZX_OK, ZX_ERR_WRONG_TYPE]);
    expectConsumed(w1);
    expectConsumed(w2);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b);
  });
});

describe('channelCall with a server', () => {
  it('txids: 0x80000001 first, then increasing, written over the first 4 bytes', async () => {
    const [a, b] = channel();
    const s = serve(b, [
      { op: 'recv' },
      { op: 'reply', to: 0, text: 'r1' },
      { op: 'recv' },
      { op: 'reply', to: 1, text: 'r2' },
      { op: 'recv' },
      { op: 'reply', to: 2, text: 'r3' },
    ]);
    const requests = [msg(0xdeadbeef, 'q1'), msg(0, 'q2'), msg(0x80000001, 'q3')];
    const copies = requests.map((r) => Buffer.from(r));
    const replies = requests.map((r) => call(a, r));
    for (const [i, r] of replies.entries()) {
      expect(r.status).toBe(ZX_OK);
      expect(txidOf(r.bytes)).toBe(FIRST_TXID + i);
      expect(textOf(r.bytes)).toBe(`r${i + 1}`);
      expect(r.actualBytes).toBe(6);
      expect(r.handles).toEqual([]);
      expect(r.actualHandles).toBe(0);
    }
    // The caller's buffers are not written to.
    expect(requests).toEqual(copies);
    const report = await s.finished();
    expect(report.received.map((m) => [m.txid, m.text])).toEqual([
      [FIRST_TXID, 'q1'],
      [FIRST_TXID + 1, 'q2'],
      [FIRST_TXID + 2, 'q3'],
    ]);
    expect(report.writes).toEqual([ZX_OK, ZX_OK, ZX_OK]);
    // Nothing else was queued for the caller.
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(a);
  });

  it('the counter is per endpoint; exactly 4 bytes and iovec requests work', async () => {
    const [a, b] = channel();
    const s = serve(b, [{ op: 'echo' }]);
    const r1 = call(a, new Uint8Array(4));
    expect(r1.status).toBe(ZX_OK);
    expect(r1.bytes).toEqual(msg(FIRST_TXID, ''));
    // The txid spans the first chunks; the rest is the payload.
    const r2 = call(a, [Buffer.from([9, 9]), Buffer.from([9]), Buffer.from('\u0009abc'), Buffer.from('de')], null, {
      options: ZX_CHANNEL_WRITE_USE_IOVEC,
    });
    expect(r2.status).toBe(ZX_OK);
    expect(r2.bytes).toEqual(msg(FIRST_TXID + 1, 'abcde'));
    closeAll(a);
    const report = await s.finished();
    expect(report.echoTxids).toEqual([FIRST_TXID, FIRST_TXID + 1]);

    // Another endpoint starts from 0x80000001 on its own.
    const [c, d] = channel();
    const t = serve(d, [{ op: 'echo' }]);
    const r3 = call(c, msg(0, 'other'));
    expect(r3.status).toBe(ZX_OK);
    expect(r3.bytes).toEqual(msg(FIRST_TXID, 'other'));
    closeAll(c);
    await t.finished();
  });

  it('the reply is routed past other messages, which stay readable in order', async () => {
    const [a, b] = channel();
    expect(sys.channelWrite(b, 0, msg(0, 'early'), null)).toBe(ZX_OK); // queued before the call
    const s = serve(b, [
      { op: 'recv' },
      { op: 'send', txid: 0, text: 'one' },
      { op: 'send', txid: 7, text: 'two' },
      { op: 'send', txid: 0x80000999, text: 'stray' }, // kernel range, but no call has it
      { op: 'reply', to: 0, text: 'answer' },
      { op: 'send', txid: 0, text: 'after' },
    ]);
    const r = call(a, msg(0, 'request'));
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID, 'answer'));
    expect(signalsOf(a) & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
    const read = () => {
      expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(LONG)).status).toBe(ZX_OK);
      const m = readAll(a).bytes;
      return [txidOf(m), textOf(m)];
    };
    expect([read(), read(), read(), read(), read()]).toEqual([
      [0, 'early'],
      [0, 'one'],
      [7, 'two'],
      [0x80000999, 'stray'],
      [0, 'after'],
    ]);
    const report = await s.finished();
    expect(report.received.map((m) => [m.txid, m.text])).toEqual([[FIRST_TXID, 'request']]);
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
  });

  it("a kernel-range txid that matches no pending call is queued, even the next call's", async () => {
    const [a, b] = channel();
    const s = serve(b, [
      { op: 'recv' },
      { op: 'send', txid: 0x80000999, text: 'mismatched' },
      { op: 'send', txid: FIRST_TXID + 1, text: 'too early' }, // the next call's txid, before it exists
      { op: 'reply', to: 0, text: 'first' },
      { op: 'recv' },
      { op: 'reply', to: 1, text: 'second' },
    ]);
    const r1 = call(a, msg(0, 'q1'));
    expect(r1.status).toBe(ZX_OK);
    expect(r1.bytes).toEqual(msg(FIRST_TXID, 'first'));
    const r2 = call(a, msg(0, 'q2'));
    expect(r2.status).toBe(ZX_OK);
    expect(r2.bytes).toEqual(msg(FIRST_TXID + 1, 'second'));
    expect(readAll(a).bytes).toEqual(msg(0x80000999, 'mismatched'));
    expect(readAll(a).bytes).toEqual(msg(FIRST_TXID + 1, 'too early'));
    const report = await s.finished();
    expect(report.received.map((m) => [m.txid, m.text])).toEqual([
      [FIRST_TXID, 'q1'],
      [FIRST_TXID + 1, 'q2'],
    ]);
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
  });

  it('TIMED_OUT (the request was sent, even with a past deadline); the late reply is read with channelRead', async () => {
    const [a, b] = channel();
    const s = serve(b, [
      { op: 'recv' },
      { op: 'recv' },
      { op: 'recv' }, // 'go'
      { op: 'reply', to: 0, text: 'late 1' },
      { op: 'reply', to: 1, text: 'late 2' },
      { op: 'recv' },
      { op: 'reply', to: 3, text: 'in time' },
    ]);
    const deadline = sys.deadlineAfter(100n * MS);
    expect(call(a, msg(0, 'q1'), null, { deadline })).toEqual({ status: ZX_ERR_TIMED_OUT, ...FAILED });
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(deadline);
    expect(call(a, msg(0, 'q2'), null, { deadline: 0n })).toEqual({ status: ZX_ERR_TIMED_OUT, ...FAILED });
    expect(sys.channelWrite(a, 0, msg(0, 'go'), null)).toBe(ZX_OK);
    for (const [i, text] of ['late 1', 'late 2'].entries()) {
      expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(LONG)).status).toBe(ZX_OK);
      expect(readAll(a).bytes).toEqual(msg(FIRST_TXID + i, text));
    }
    const r = call(a, msg(0, 'q3'));
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID + 2, 'in time'));
    const report = await s.finished();
    expect(report.received.map((m) => [m.txid, m.text])).toEqual([
      [FIRST_TXID, 'q1'],
      [FIRST_TXID + 1, 'q2'],
      [0, 'go'],
      [FIRST_TXID + 2, 'q3'],
    ]);
    closeAll(a);
  });

  it("PEER_CLOSED when the server closes without replying; the request's handles went to it", async () => {
    const [a, b] = channel();
    const s = serve(b, [{ op: 'recv' }, { op: 'close' }]);
    const w = witness();
    expect(call(a, msg(0, 'request'), [w.x])).toEqual({ status: ZX_ERR_PEER_CLOSED, ...FAILED });
    const report = await s.finished();
    expect(report.received).toEqual([
      {
        txid: FIRST_TXID,
        text: 'request',
        actualBytes: 11,
        handles: [{ type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS }],
      },
    ]);
    expectConsumed(w); // the server closed it
    expect(call(a, msg(0, 'again')).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(a);
  });

  it('a reply too large for readNumBytes/readNumHandles: BUFFER_TOO_SMALL, discarded with its handles', async () => {
    const [a, b] = channel();
    const s = serve(b, [
      { op: 'recv' },
      { op: 'reply', to: 0, text: 'big', size: 100, handles: 'new' },
      { op: 'spareClosed' },
      { op: 'recv' },
      { op: 'reply', to: 1, text: 'one handle', handles: 'new' },
      { op: 'spareClosed' },
      { op: 'recv' },
      { op: 'reply', to: 2, text: 'fits' },
    ]);
    expect(call(a, msg(0, 'q1'), null, { readNumBytes: 99, readNumHandles: 1 })).toEqual({
      status: ZX_ERR_BUFFER_TOO_SMALL,
      bytes: Buffer.alloc(0),
      handles: [],
      actualBytes: 100,
      actualHandles: 1,
    });
    expect(signalsOf(a)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(call(a, msg(0, 'q2'), null, { readNumBytes: 100, readNumHandles: 0 })).toEqual({
      status: ZX_ERR_BUFFER_TOO_SMALL,
      bytes: Buffer.alloc(0),
      handles: [],
      actualBytes: 14,
      actualHandles: 1,
    });
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    const r = call(a, msg(0, 'q3'), null, { readNumBytes: 8, readNumHandles: 0 });
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID + 2, 'fits'));
    const report = await s.finished();
    // The handles in the discarded replies were closed: their peers saw PEER_CLOSED.
    expect(report.waits).toEqual([
      { status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED },
      { status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED },
    ]);
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
  });

  it('handles travel in the request and come back in the reply', async () => {
    const [a, b] = channel();
    const s = serve(b, [{ op: 'recv' }, { op: 'reply', to: 0, text: 'yours back', handles: 'back' }]);
    const [x, y] = channel();
    const koid = basic(x).koid;
    const file = fileHandle('r+');
    const fileKoid = basic(file).koid;
    const r = call(a, msg(0, 'take these'), [x, file]);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID, 'yours back'));
    expect(r.actualHandles).toBe(2);
    const [x2, file2] = r.handles;
    expect(isValid(x)).toBe(false);
    expect(basic(x2)).toMatchObject({ koid, type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS });
    expect(basic(file2)).toMatchObject({ koid: fileKoid, type: ZX_OBJ_TYPE_FD });
    // The endpoint still talks to its peer.
    expect(sys.channelWrite(y, 0, Buffer.from('still paired'), null)).toBe(ZX_OK);
    expect(readAll(x2).bytes.toString()).toBe('still paired');
    const report = await s.finished();
    expect(report.received[0].handles.map((h) => h.type)).toEqual([ZX_OBJ_TYPE_CHANNEL, ZX_OBJ_TYPE_FD]);
    closeAll(a, x2, y, file2);
  });

  it('channelCallEtc: dispositions out (rights reduced), handle infos back', async () => {
    const [a, b] = channel();
    const s = serve(b, [{ op: 'recv' }, { op: 'reply', to: 0, text: 'infos', handles: 'back' }]);
    const [x, y] = channel();
    const koid = basic(x).koid;
    const rights = ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT;
    const dispositions: HandleDisposition[] = [
      { operation: ZX_HANDLE_OP_MOVE, handle: x, type: ZX_OBJ_TYPE_CHANNEL, rights, result: ZX_OK },
    ];
    const r = sys.channelCallEtc(a, 0, sys.deadlineAfter(LONG), {
      bytes: msg(0, 'etc'),
      handles: dispositions,
      readNumBytes: 64,
      readNumHandles: 4,
    });
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID, 'infos'));
    expect(r.actualBytes).toBe(9);
    expect(r.actualHandles).toBe(1);
    expect(r.handles).toEqual([{ handle: r.handles[0].handle, type: ZX_OBJ_TYPE_CHANNEL, rights }]);
    expect(basic(r.handles[0].handle)).toMatchObject({ koid, rights });
    expect(dispositions[0].result).toBe(ZX_OK);
    const report = await s.finished();
    expect(report.received[0].handles).toEqual([{ type: ZX_OBJ_TYPE_CHANNEL, rights }]);
    closeAll(a, r.handles[0].handle, y);
  });

  it('a reply written just before the server closes is the reply; plain messages stay readable', async () => {
    const [a, b] = channel();
    const s = serve(b, [
      { op: 'recv' },
      { op: 'send', txid: 0, text: 'plain' },
      { op: 'reply', to: 0, text: 'last words' },
      { op: 'close' },
    ]);
    const r = call(a, msg(0, 'q'));
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes).toEqual(msg(FIRST_TXID, 'last words'));
    await s.finished();
    expect(signalsOf(a)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(readAll(a).bytes).toEqual(msg(0, 'plain'));
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);

    // No reply at all, only plain messages: PEER_CLOSED, and the messages are kept.
    const [c, d] = channel();
    const t = serve(d, [
      { op: 'recv' },
      { op: 'send', txid: 0, text: 'm1' },
      { op: 'send', txid: 5, text: 'm2' },
      { op: 'close' },
    ]);
    expect(call(c, msg(0, 'q')).status).toBe(ZX_ERR_PEER_CLOSED);
    await t.finished();
    expect(signalsOf(c)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(readAll(c).bytes).toEqual(msg(0, 'm1'));
    expect(readAll(c).bytes).toEqual(msg(5, 'm2'));
    expect(signalsOf(c)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(c);
  });

  it('a worker thread calls; this thread serves on its event loop', async () => {
    const [a, b] = channel();
    const worker = new Worker(
      `const zx = require(${JSON.stringify(`${repoRoot}/dist/index.js`)});
       const { parentPort, workerData } = require('node:worker_threads');
       const r = zx.sys.channelCall(workerData, 0, zx.sys.deadlineAfter(20_000_000_000n),
         { bytes: Buffer.from('....from the worker'), readNumBytes: 64, readNumHandles: 0 });
       parentPort.postMessage({ status: r.status, bytes: r.bytes.toString('hex') });
       zx.sys.handleClose(workerData);`,
      { eval: true, workerData: a },
    );
    const answer = new Promise<any>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
    const w = await sys.objectWaitOneAsync(b, ZX_CHANNEL_READABLE, sys.deadlineAfter(LONG));
    expect(w.status).toBe(ZX_OK);
    const request = readAll(b).bytes;
    expect(request).toEqual(msg(FIRST_TXID, 'from the worker'));
    expect(sys.channelWrite(b, 0, msg(txidOf(request), 'from the main thread'), null)).toBe(ZX_OK);
    expect(await answer).toEqual({ status: ZX_OK, bytes: msg(FIRST_TXID, 'from the main thread').toString('hex') });
    expect(await exited).toBe(0);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(b);
  });

  it('4 worker threads calling on one endpoint at once: distinct txids, every reply to its caller', async () => {
    const [a, b] = channel();
    const s = serve(b, [{ op: 'echo' }]);
    const CALLS = 200;
    const code = `const zx = require(${JSON.stringify(`${repoRoot}/dist/index.js`)});
      const { parentPort, workerData } = require('node:worker_threads');
      const txids = [];
      let wrong = 0;
      for (let i = 0; i < ${CALLS}; i++) {
        const text = 'worker ' + workerData.id + ' call ' + i;
        const req = Buffer.concat([Buffer.alloc(4), Buffer.from(text)]);
        const r = zx.sys.channelCall(workerData.h, 0, zx.sys.deadlineAfter(20_000_000_000n),
          { bytes: req, readNumBytes: 256, readNumHandles: 0 });
        if (r.status !== zx.ZX_OK || r.bytes.subarray(4).toString() !== text) wrong++;
        else txids.push(r.bytes.readUInt32LE(0));
      }
      parentPort.postMessage({ wrong, txids });`;
    const workers = [0, 1, 2, 3].map((id) => {
      const worker = new Worker(code, { eval: true, workerData: { h: a, id } });
      const report = new Promise<any>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
      return { report, exited };
    });
    const reports = await Promise.all(workers.map((w) => w.report));
    for (const w of workers) expect(await w.exited).toBe(0);
    expect(reports.map((r) => r.wrong)).toEqual([0, 0, 0, 0]);
    const all = reports.flatMap((r) => r.txids as number[]);
    expect(all.length).toBe(4 * CALLS);
    expect(new Set(all).size).toBe(4 * CALLS);
    expect(Math.min(...all)).toBe(FIRST_TXID);
    expect(Math.max(...all)).toBe(FIRST_TXID + 4 * CALLS - 1);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a);
    expect((await s.finished()).echoed).toBe(4 * CALLS);
  });

  it('a child process serves calls on an inherited endpoint, handles included', async () => {
    const [a, b] = channel();
    const steps: Step[] = [
      { op: 'recv' },
      { op: 'reply', to: 0, text: 'from a child', handles: 'back' },
      { op: 'recv' },
      { op: 'reply', to: 1, text: 'second' },
    ];
    const child = spawnNode('server-script.cjs', [JSON.stringify(steps)], b);
    const [x, y] = channel();
    const koid = basic(x).koid;
    const r1 = call(a, msg(0, 'hello child'), [x]);
    expect(r1.status).toBe(ZX_OK);
    expect(r1.bytes).toEqual(msg(FIRST_TXID, 'from a child'));
    expect(r1.handles.length).toBe(1);
    expect(basic(r1.handles[0]).koid).toBe(koid);
    const r2 = call(a, msg(0, 'again'));
    expect(r2.bytes).toEqual(msg(FIRST_TXID + 1, 'second'));
    const exit = await child.closed;
    expect(exit).toEqual({ code: 0, signal: null });
    const report = reportOf(child);
    expect(report.error).toBeUndefined();
    expect(report.received.map((m: any) => [m.txid, m.text])).toEqual([
      [FIRST_TXID, 'hello child'],
      [FIRST_TXID + 1, 'again'],
    ]);
    expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a, r1.handles[0], y);
  });
});
