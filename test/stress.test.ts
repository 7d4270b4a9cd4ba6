// Stress: many messages with handles, deep nesting of endpoints inside unread queues,
// fire-and-forget writes and the recursive close of endpoints still in flight.
// Every case ends where it started: descriptors and handle-table size back to baseline.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
} from '../lib/index';
import { native } from '../lib/native';
import { baseline, basic as basicInfo, channel as createChannel, expectBaseline, isValid } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import { fixture, reportOf, spawnWithFds } from './fixtures/spawn';

// Seeded so a failure reproduces: STRESS_SEED=<n> npx vitest run test/stress.test.ts
const SEED = Number(process.env.STRESS_SEED ?? 0x5eed2024) >>> 0;

/** mulberry32: a small, fast 32-bit PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const SECOND = 1_000_000_000n;
const FD_RIGHTS = ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One message; waits (yielding to the loop) while the channel is empty. */
async function readOne(h: number, deadline: bigint) {
  for (;;) {
    const r = sys.channelReadEtc(h, 0, 65536, 64);
    if (r.status !== ZX_ERR_SHOULD_WAIT) return r;
    if (sys.clockGetMonotonic() > deadline) throw new Error(`no message on ${h} before the deadline`);
    await tick();
  }
}

let fifoDir = '';
let fifoPath = '';

beforeAll(() => {
  // The first blocking wait opens this thread's wake descriptor for good: do it before
  // any baseline is taken.
  const [a, b] = createChannel();
  expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(1_000_000n)).status).toBe(ZX_ERR_TIMED_OUT);
  expect(sys.handleCloseMany([a, b])).toBe(ZX_OK);
  fifoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxc-stress-'));
  fifoPath = path.join(fifoDir, 'pipe');
  execFileSync('mkfifo', [fifoPath]);
});

afterAll(() => {
  if (fifoDir) fs.rmSync(fifoDir, { recursive: true, force: true });
});

/** A new descriptor on the FIFO (O_RDWR: never blocks), as a ZX_OBJ_TYPE_FD handle. */
function pipeHandle(): number {
  const fd = fs.openSync(fifoPath, 'r+');
  const r = fdio.fdTransfer(fd);
  expect(r.status).toBe(ZX_OK);
  return r.handle;
}

describe('1000 messages of random sizes with random handles', () => {
  it(`arrive whole, in order, with their handles (seed ${SEED})`, async () => {
    const base = baseline();
    const next = prng(SEED);
    const below = (n: number) => next() % n;
    const [writer, reader] = createChannel();

    interface Sent {
      type: number;
      koid: bigint;
      relatedKoid: bigint;
      kept: number; // our end of a sent channel, else 0
    }
    const kept: number[] = [];
    const receivedChannels: { handle: number; kept: number }[] = [];
    const receivedFds: number[] = [];
    const TOTAL = 1000;
    let seq = 0;
    let handlesSent = 0;
    let bytesSent = 0;
    const deadline = sys.deadlineAfter(50n * SECOND);

    while (seq < TOTAL) {
      // A batch of 1..8 messages (at most ~530 KiB of records: the socket never fills),
      // then read them all back.
      const batch: { bytes: Buffer; sent: Sent[] }[] = [];
      const batchSize = 1 + below(8);
      for (let k = 0; k < batchSize && seq < TOTAL; k++, seq++) {
        const size = below(65537);
        const bytes = Buffer.allocUnsafe(size);
        let i = 0;
        for (; i + 4 <= size; i += 4) bytes.writeUInt32LE(next(), i);
        for (; i < size; i++) bytes[i] = next() & 0xff;
        if (size >= 4) bytes.writeUInt32LE(seq, 0);

        const count = below(9);
        const handles: number[] = [];
        const sent: Sent[] = [];
        for (let j = 0; j < count; j++) {
          if (below(2) === 0) {
            const [e0, e1] = createChannel();
            const [give, keep] = below(2) === 0 ? [e0, e1] : [e1, e0];
            const info = basicInfo(give);
            kept.push(keep);
            handles.push(give);
            sent.push({ type: ZX_OBJ_TYPE_CHANNEL, koid: info.koid, relatedKoid: info.relatedKoid, kept: keep });
          } else {
            const h = pipeHandle();
            const info = basicInfo(h);
            expect(info.type).toBe(ZX_OBJ_TYPE_FD);
            handles.push(h);
            sent.push({ type: ZX_OBJ_TYPE_FD, koid: info.koid, relatedKoid: 0n, kept: 0 });
          }
        }
        expect(sys.channelWrite(writer, 0, bytes, handles)).toBe(ZX_OK);
        for (const h of handles) expect(isValid(h)).toBe(false); // moved
        handlesSent += count;
        bytesSent += size;
        batch.push({ bytes, sent });
      }

      for (const { bytes, sent } of batch) {
        const r = await readOne(reader, deadline);
        expect(r.status).toBe(ZX_OK);
        expect(r.actualBytes).toBe(bytes.length);
        expect(r.actualHandles).toBe(sent.length);
        if (!r.bytes.equals(bytes)) {
          throw new Error(`message ${bytes.length >= 4 ? bytes.readUInt32LE(0) : '?'} differs (${bytes.length} bytes)`);
        }
        expect(r.handles.map((x) => x.type)).toEqual(sent.map((s) => s.type));
        r.handles.forEach((got, i) => {
          const want = sent[i];
          const info = basicInfo(got.handle);
          expect(info.koid).toBe(want.koid);
          expect(info.type).toBe(want.type);
          if (want.type === ZX_OBJ_TYPE_CHANNEL) {
            expect(got.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
            expect(info.relatedKoid).toBe(want.relatedKoid);
            expect(info.relatedKoid).toBe(basicInfo(want.kept).koid);
            receivedChannels.push({ handle: got.handle, kept: want.kept });
          } else {
            expect(got.rights).toBe(FD_RIGHTS);
            receivedFds.push(got.handle);
          }
        });
      }
    }
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(receivedChannels.length + receivedFds.length).toBe(handlesSent);
    expect(native.handleCount()).toBe(base.handles + 2 + kept.length + handlesSent);

    // Each received endpoint is connected to the end we kept.
    for (const { handle, kept: peer } of receivedChannels) {
      const ping = Buffer.from(`ping ${handle}`);
      expect(sys.channelWrite(handle, 0, ping, null)).toBe(ZX_OK);
      const r = sys.channelRead(peer, 0, 64, 0);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.equals(ping)).toBe(true);
    }
    // Each received descriptor is the FIFO.
    for (const h of receivedFds) {
      const r = fdio.fdCreate(h);
      expect(r.status).toBe(ZX_OK);
      expect(fs.fstatSync(r.fd).isFIFO()).toBe(true);
      fs.closeSync(r.fd);
    }

    expect(sys.handleCloseMany(receivedChannels.map((c) => c.handle))).toBe(ZX_OK);
    expect(sys.handleCloseMany(kept)).toBe(ZX_OK);
    expect(sys.handleCloseMany([writer, reader])).toBe(ZX_OK);
    expectBaseline(base);
    console.log(
      `stress: ${TOTAL} messages, ${(bytesSent / 1048576).toFixed(1)} MiB, ${handlesSent} handles ` +
        `(${receivedChannels.length} endpoints, ${receivedFds.length} pipe descriptors), seed ${SEED}`,
    );
  });
});

describe('200-deep nesting of endpoints in unread queues', () => {
  const DEPTH = 200;

  /** Channel i+1's unread queue holds B_i; B_0's holds one message. Returns A_0..A_n,
   *  B_n and the koids of B_0..B_n. */
  function buildChain(keepAll: boolean) {
    const as: number[] = [];
    const bKoids: bigint[] = [];
    const [a0, b0] = createChannel();
    expect(sys.channelWrite(a0, 0, Buffer.from('innermost'), null)).toBe(ZX_OK);
    as.push(a0);
    bKoids.push(basicInfo(b0).koid);
    let inner = b0;
    for (let i = 1; i <= DEPTH; i++) {
      const [a, b] = createChannel();
      expect(sys.channelWrite(a, 0, Buffer.from(`level ${i}`), [inner])).toBe(ZX_OK);
      expect(isValid(inner)).toBe(false);
      if (keepAll) as.push(a);
      else expect(sys.handleClose(a)).toBe(ZX_OK);
      bKoids.push(basicInfo(b).koid);
      inner = b;
    }
    return { as, outer: inner, bKoids };
  }

  it('closing the outermost endpoint from outside tears the whole chain down', () => {
    const base = baseline();
    const { as, outer } = buildChain(false);
    const [a0] = as;
    // Only A_0 and B_200 are left in this process; the other 200 endpoints are in flight.
    // A_0 also holds its pair's user signals' page and doorbell, made when B_0 was sent.
    expect(native.handleCount()).toBe(base.handles + 2);
    expect(openFdCount()).toBe(base.fds + 4);
    expect(sys.objectWaitOne(a0, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

    expect(sys.handleClose(outer)).toBe(ZX_OK);
    const w = sys.objectWaitOne(a0, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(10n * SECOND));
    expect(w.status).toBe(ZX_OK);
    expect(w.observed & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.handleClose(a0)).toBe(ZX_OK);
    expectBaseline(base);
  });

  it('every level sees PEER_CLOSED when the outermost endpoint closes', () => {
    const base = baseline();
    const { as, outer } = buildChain(true);
    expect(as.length).toBe(DEPTH + 1);
    for (const a of as) expect(sys.objectWaitOne(a, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

    expect(sys.handleClose(outer)).toBe(ZX_OK);
    const deadline = sys.deadlineAfter(10n * SECOND);
    for (const a of as) {
      expect(sys.objectWaitOne(a, ZX_CHANNEL_PEER_CLOSED, deadline).status).toBe(ZX_OK);
      // The unread message went with the closed endpoint's queue; nothing from a's side.
      expect(sys.channelRead(a, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    }
    expect(sys.handleCloseMany(as)).toBe(ZX_OK);
    expectBaseline(base);
  });

  it('the chain can be unwound by reading from the outside in', () => {
    const base = baseline();
    const { as, outer, bKoids } = buildChain(true);
    let current = outer;
    for (let i = DEPTH; i >= 1; i--) {
      const r = sys.channelReadEtc(current, 0, 65536, 64);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.toString()).toBe(`level ${i}`);
      expect(r.handles.length).toBe(1);
      expect(r.handles[0].type).toBe(ZX_OBJ_TYPE_CHANNEL);
      const info = basicInfo(r.handles[0].handle);
      expect(info.koid).toBe(bKoids[i - 1]);
      expect(info.relatedKoid).toBe(basicInfo(as[i - 1]).koid);
      expect(sys.channelRead(current, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
      expect(sys.handleClose(current)).toBe(ZX_OK);
      current = r.handles[0].handle;
    }
    const last = sys.channelRead(current, 0, 65536, 64);
    expect(last.status).toBe(ZX_OK);
    expect(last.bytes.toString()).toBe('innermost');
    expect(sys.handleClose(current)).toBe(ZX_OK);
    expect(sys.handleCloseMany(as)).toBe(ZX_OK);
    expectBaseline(base);
  });
});

describe('fire and forget', () => {
  it('messages written before the writer closed are all read, then PEER_CLOSED', () => {
    const base = baseline();
    const [writer, reader] = createChannel();
    const N = 500;
    const [x, y] = createChannel();
    const xKoid = basicInfo(x).koid;
    for (let i = 0; i < N; i++) {
      const bytes = Buffer.alloc(i % 97, i & 0xff);
      if (bytes.length >= 4) bytes.writeUInt32LE(i, 0);
      expect(sys.channelWrite(writer, 0, bytes, i === N - 1 ? [x] : null)).toBe(ZX_OK);
    }
    expect(sys.handleClose(writer)).toBe(ZX_OK);
    // The peer is gone, yet every message is still there.
    const w = sys.objectWaitOne(reader, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5n * SECOND));
    expect(w.status).toBe(ZX_OK);
    expect(w.observed & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
    for (let i = 0; i < N; i++) {
      const r = sys.channelReadEtc(reader, 0, 65536, 64);
      expect(r.status).toBe(ZX_OK);
      const want = Buffer.alloc(i % 97, i & 0xff);
      if (want.length >= 4) want.writeUInt32LE(i, 0);
      expect(r.bytes.equals(want)).toBe(true);
      if (i === N - 1) {
        expect(r.handles.length).toBe(1);
        expect(basicInfo(r.handles[0].handle).koid).toBe(xKoid);
        expect(sys.handleClose(r.handles[0].handle)).toBe(ZX_OK);
      } else {
        expect(r.handles.length).toBe(0);
      }
    }
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.objectWaitOne(reader, ZX_CHANNEL_READABLE, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5n * SECOND)).status).toBe(ZX_OK);
    expect(sys.handleCloseMany([reader, y])).toBe(ZX_OK);
    expectBaseline(base);
  });
});

describe('closing an endpoint closes the endpoints in its unread messages', () => {
  it('one level: Y sees PEER_CLOSED when the channel holding X is closed unread', () => {
    const base = baseline();
    const [x, y] = createChannel();
    const [cw, cr] = createChannel();
    expect(sys.channelWrite(cw, 0, Buffer.from('carrier'), [x])).toBe(ZX_OK);
    expect(isValid(x)).toBe(false);
    // Closing the writer side does not touch the message.
    expect(sys.handleClose(cw)).toBe(ZX_OK);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20_000_000n)).status).toBe(ZX_ERR_TIMED_OUT);

    expect(sys.handleClose(cr)).toBe(ZX_OK);
    const w = sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5n * SECOND));
    expect(w.status).toBe(ZX_OK);
    expect(w.observed & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(y, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(y)).toBe(ZX_OK);
    expectBaseline(base);
  });

  it('two levels: X inside D inside C; closing C reaches Y', () => {
    const base = baseline();
    const [x, y] = createChannel();
    const [dw, dr] = createChannel();
    const [cw, cr] = createChannel();
    expect(sys.channelWrite(dw, 0, Buffer.from('inner'), [x])).toBe(ZX_OK);
    expect(sys.channelWrite(cw, 0, Buffer.from('outer'), [dr])).toBe(ZX_OK);
    expect(isValid(x)).toBe(false);
    expect(isValid(dr)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.objectWaitOne(dw, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

    expect(sys.handleClose(cr)).toBe(ZX_OK);
    const deadline = sys.deadlineAfter(5n * SECOND);
    expect(sys.objectWaitOne(cw, ZX_CHANNEL_PEER_CLOSED, deadline).status).toBe(ZX_OK);
    expect(sys.objectWaitOne(dw, ZX_CHANNEL_PEER_CLOSED, deadline).status).toBe(ZX_OK);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, deadline).status).toBe(ZX_OK);
    expect(sys.handleCloseMany([y, dw, cw])).toBe(ZX_OK);
    expectBaseline(base);
  });
});

describe('concurrent calls on one endpoint from several threads', () => {
  // Each thread routes replies for the others while its own are routed by them. A reply's
  // waiter is freed by its caller as soon as the caller learns of the reply, so this is
  // the run to repeat under ThreadSanitizer/AddressSanitizer (see the fixture's header).
  it('6 workers × 1500 calls, sync and async: every caller gets its own reply', async () => {
    const child = spawnWithFds(process.execPath, [fixture('call-stress.cjs'), '6', '1500']);
    expect(await child.closed, child.stderr()).toEqual({ code: 0, signal: null });
    expect(reportOf(child)).toEqual({ calls: 9000, echoed: 9000, wrong: 0 });
  });
});
