// Waiting: objectWaitMany (blocking the calling thread) and objectWaitOneAsync (a promise
// settled on the event loop), with Zircon's statuses and exact signal sets.
import { closeSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fdio,
  statusToString,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_OK,
  ZX_RIGHT_WAIT,
  ZX_SIGNAL_HANDLE_CLOSED,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  ZX_USER_SIGNAL_0,
  ZX_WAIT_MANY_MAX_ITEMS,
} from '../lib/index';
import { native } from '../lib/native';
import type { WaitItem } from '../lib/sys';
import {
  type Baseline,
  baseline,
  channel,
  closeAll,
  expectBaseline,
  isValid,
  pipeFds,
  readAll,
  removeScratchDir,
  repoRoot,
  replace,
  runIsolated,
  signalsOf,
  staleHandle,
  warmUpWaits,
} from './fixtures/channels';
import { endWithin, fixture, reportOf, spawnWithFds, warmUpSpawn } from './fixtures/spawn';
import { wakeFlagFds } from './fixtures/backend';
import { inWorker } from './fixtures/threads';

const MS = 1_000_000n;

const RW = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
const RP = ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

let before: Baseline;

beforeAll(async () => {
  warmUpWaits();
  // The first async wait sets up this thread's loop state; the first worker, what lasts.
  const [a, b] = channel();
  await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(MS));
  closeAll(a, b);
  const { exited } = inWorker('parentPort.postMessage(0);', null);
  await exited;
});
afterAll(() => removeScratchDir());

beforeEach(() => {
  before = baseline();
});
afterEach(async () => {
  // A watch on an endpoint is closed through libuv (a close callback in a later phase of
  // the loop) and holds the descriptor until then: let the loop turn twice first.
  await nextTurn();
  await nextTurn();
  expectBaseline(before);
});

describe('objectWaitMany', () => {
  it('with no items sleeps until the deadline, then TIMED_OUT', () => {
    const start = sys.clockGetMonotonic();
    const deadline = start + 60n * MS;
    expect(sys.objectWaitMany([], deadline)).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(deadline);
    // A deadline in the past: at once (a hang would fail the test by its timeout).
    expect(sys.objectWaitMany([], 0n)).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.objectWaitMany([], ZX_TIME_INFINITE_PAST)).toBe(ZX_ERR_TIMED_OUT);
  });

  it('more than 64 items: OUT_OF_RANGE, before any handle is looked at', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK); // a is satisfied
    const item = (handle: number): WaitItem => ({ handle, waitfor: ZX_CHANNEL_READABLE, pending: 0 });
    const full = Array.from({ length: ZX_WAIT_MANY_MAX_ITEMS }, () => item(a));
    expect(sys.objectWaitMany(full, sys.deadlineAfter(10n * MS))).toBe(ZX_OK);
    expect(full.every((i) => i.pending === RW)).toBe(true);

    expect(sys.objectWaitMany([...full, item(a)], ZX_TIME_INFINITE)).toBe(ZX_ERR_OUT_OF_RANGE);
    const stale = staleHandle();
    expect(
      sys.objectWaitMany(
        Array.from({ length: 65 }, () => item(stale)),
        ZX_TIME_INFINITE,
      ),
    ).toBe(ZX_ERR_OUT_OF_RANGE);
    closeAll(a, b);
  });

  it('per item in order: BAD_HANDLE, then ACCESS_DENIED (no WAIT right); the first failure wins', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    const [c, d] = channel();
    const noWait = replace(c, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WAIT);
    const stale = staleHandle();
    const item = (handle: number, waitfor = ZX_CHANNEL_READABLE): WaitItem => ({ handle, waitfor, pending: 0 });

    expect(sys.objectWaitMany([item(stale)], ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectWaitMany([item(noWait)], ZX_TIME_INFINITE)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectWaitMany([item(stale), item(noWait)], ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectWaitMany([item(noWait), item(stale)], ZX_TIME_INFINITE)).toBe(ZX_ERR_ACCESS_DENIED);
    // A satisfied item does not excuse a bad one, before or after it.
    expect(sys.objectWaitMany([item(a), item(stale)], ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectWaitMany([item(a), item(noWait)], ZX_TIME_INFINITE)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectWaitMany([item(noWait), item(a)], ZX_TIME_INFINITE)).toBe(ZX_ERR_ACCESS_DENIED);
    // Handle 0 is never valid.
    expect(sys.objectWaitMany([item(a), item(0)], ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    // The message that satisfied `a` is still there.
    expect(readAll(a).bytes.toString()).toBe('x');
    closeAll(a, b, noWait, d);
  });

  it('one satisfied item: OK, and every item gets all of its signals, not only those waited for', () => {
    const [fresh, freshPeer] = channel();
    const [full, fullPeer] = channel();
    expect(sys.channelWrite(fullPeer, 0, Buffer.from('m'), null)).toBe(ZX_OK);
    const [orphan, gone] = channel();
    closeAll(gone);
    const [lastWords, leaver] = channel();
    expect(sys.channelWrite(leaver, 0, Buffer.from('bye'), null)).toBe(ZX_OK);
    closeAll(leaver);

    const items: WaitItem[] = [
      { handle: full, waitfor: ZX_CHANNEL_PEER_CLOSED, pending: 0 }, // not met
      { handle: orphan, waitfor: ZX_CHANNEL_READABLE, pending: 0 }, // not met
      { handle: lastWords, waitfor: ZX_USER_SIGNAL_0, pending: 0 }, // not met
      { handle: fresh, waitfor: ZX_CHANNEL_WRITABLE, pending: 0 }, // met
    ];
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([RW, ZX_CHANNEL_PEER_CLOSED, RP, ZX_CHANNEL_WRITABLE]);
    closeAll(fresh, freshPeer, full, fullPeer, orphan, lastWords);
  });

  it('TIMED_OUT when nothing is met, still with every item pending filled', () => {
    const [fresh, freshPeer] = channel();
    const [full, fullPeer] = channel();
    expect(sys.channelWrite(fullPeer, 0, new Uint8Array(0), null)).toBe(ZX_OK); // zero bytes count
    const [orphan, gone] = channel();
    closeAll(gone);
    const items: WaitItem[] = [
      { handle: fresh, waitfor: ZX_CHANNEL_READABLE, pending: 0xdead },
      { handle: full, waitfor: ZX_CHANNEL_PEER_CLOSED, pending: 0xdead },
      { handle: orphan, waitfor: ZX_CHANNEL_READABLE, pending: 0xdead },
    ];
    const deadline = sys.deadlineAfter(40n * MS);
    expect(sys.objectWaitMany(items, deadline)).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(deadline);
    expect(items.map((i) => i.pending)).toEqual([ZX_CHANNEL_WRITABLE, RW, ZX_CHANNEL_PEER_CLOSED]);
    closeAll(fresh, freshPeer, full, fullPeer, orphan);
  });

  it('blocks until another thread writes to one of the items (or closes a peer)', async () => {
    const [a, aPeer] = channel();
    const [b, bPeer] = channel();
    const writer = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.channelWrite(workerData.peer, 0, Buffer.from('late'), null)));`,
      { peer: bPeer },
    );
    const items: WaitItem[] = [
      { handle: a, waitfor: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, pending: 0 },
      { handle: b, waitfor: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, pending: 0 },
    ];
    expect(sys.objectWaitMany(items, sys.deadlineAfter(20_000n * MS))).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([ZX_CHANNEL_WRITABLE, RW]);
    expect(await writer.message).toBe(ZX_OK);
    expect(await writer.exited).toBe(0);
    expect(readAll(b).bytes.toString()).toBe('late');

    const closer = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.handleClose(workerData.peer)));`,
      { peer: aPeer },
    );
    expect(sys.objectWaitMany(items, sys.deadlineAfter(20_000n * MS))).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_WRITABLE]);
    expect(await closer.message).toBe(ZX_OK);
    expect(await closer.exited).toBe(0);
    closeAll(a, b, bPeer);
  });
});

describe('objectWaitOne (blocking) on a channel: the ppoll is the first look', () => {
  // With a deadline in the future, a channel with no pending calls and no stash is not
  // sampled before the ppoll; what a wait reports must not change for it.
  const FAR = () => sys.deadlineAfter(10_000n * MS);
  const wait = (h: number, signals: number, deadline: bigint) => sys.objectWaitOne(h, signals, deadline);
  const READ = ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED;

  it('a queued message: OK with every signal of the channel, whatever was waited for', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(b, 0, Buffer.from('m'), null)).toBe(ZX_OK);
    expect(wait(a, ZX_CHANNEL_READABLE, FAR())).toEqual({ status: ZX_OK, observed: RW });
    expect(wait(a, READ, ZX_TIME_INFINITE)).toEqual({ status: ZX_OK, observed: RW });
    closeAll(b);
    expect(wait(a, ZX_CHANNEL_READABLE, FAR())).toEqual({ status: ZX_OK, observed: RP });
    expect(wait(a, ZX_CHANNEL_PEER_CLOSED, FAR())).toEqual({ status: ZX_OK, observed: RP });
    expect(readAll(a).bytes.toString()).toBe('m');
    expect(wait(a, READ, FAR())).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED });
    closeAll(a);
  });

  it('a deadline in the past samples: TIMED_OUT with the current signals, or OK', () => {
    const [a, b] = channel();
    for (const past of [0n, ZX_TIME_INFINITE_PAST, sys.clockGetMonotonic() - MS]) {
      expect(wait(a, READ, past)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    }
    expect(sys.channelWrite(b, 0, Buffer.from('m'), null)).toBe(ZX_OK);
    expect(wait(a, READ, 0n)).toEqual({ status: ZX_OK, observed: RW });
    closeAll(a, b);
  });

  it('TIMED_OUT at a future deadline, not before, with the signals sampled then', () => {
    const [a, b] = channel();
    const deadline = sys.deadlineAfter(30n * MS);
    expect(wait(a, READ, deadline)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(deadline);
    // Peer gone, queue empty: READABLE can never come; the wait neither spins nor lies.
    closeAll(b);
    const later = sys.deadlineAfter(30n * MS);
    expect(wait(a, ZX_CHANNEL_READABLE, later)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_PEER_CLOSED });
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(later);
    closeAll(a);
  });

  it('WRITABLE among the wanted signals is met at once (no socket event announces it)', () => {
    const [a, b] = channel();
    const deadline = FAR();
    expect(wait(a, ZX_CHANNEL_WRITABLE, deadline)).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_WRITABLE });
    expect(wait(a, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE, deadline)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_WRITABLE,
    });
    // Met by the first look, not by the deadline's final sampling.
    expect(sys.clockGetMonotonic()).toBeLessThan(deadline);
    closeAll(a, b);
  });

  it('a message from another thread wakes it with READABLE|WRITABLE', async () => {
    const [a, b] = channel();
    const writer = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.channelWrite(workerData.b, 0, Buffer.from('late'), null)));`,
      { b },
    );
    expect(wait(a, READ, FAR())).toEqual({ status: ZX_OK, observed: RW });
    expect(await writer.message).toBe(ZX_OK);
    expect(await writer.exited).toBe(0);
    expect(readAll(a).bytes.toString()).toBe('late');
    closeAll(a, b);
  });

  it('the peer closed by another thread wakes it with PEER_CLOSED', async () => {
    const [a, b] = channel();
    const closer = inWorker(`whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.handleClose(workerData.b)));`, {
      b,
    });
    expect(wait(a, READ, FAR())).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED });
    expect(await closer.message).toBe(ZX_OK);
    expect(await closer.exited).toBe(0);
    closeAll(a);
  });

  it('the handle closed by another thread: CANCELED with ZX_SIGNAL_HANDLE_CLOSED', async () => {
    const [a, b] = channel();
    const closer = inWorker(`whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.handleClose(workerData.a)));`, {
      a,
    });
    expect(wait(a, READ, FAR())).toEqual({
      status: ZX_ERR_CANCELED,
      observed: ZX_CHANNEL_WRITABLE | ZX_SIGNAL_HANDLE_CLOSED,
    });
    expect(await closer.message).toBe(ZX_OK);
    expect(await closer.exited).toBe(0);
    expect(isValid(a)).toBe(false);
    closeAll(b);
  });

  it('objectWaitMany over such channels fills every item when one is met', () => {
    const [a, aPeer] = channel();
    const [b, bPeer] = channel();
    const [c, cPeer] = channel();
    expect(sys.channelWrite(bPeer, 0, Buffer.from('m'), null)).toBe(ZX_OK);
    closeAll(cPeer);
    const items: WaitItem[] = [a, b, c].map((handle) => ({ handle, waitfor: ZX_CHANNEL_READABLE, pending: 0xdead }));
    expect(sys.objectWaitMany(items, FAR())).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([ZX_CHANNEL_WRITABLE, RW, ZX_CHANNEL_PEER_CLOSED]);
    expect(readAll(b).bytes.toString()).toBe('m');
    closeAll(a, aPeer, b, bPeer, c);
  });
});

describe('objectWaitOneAsync', () => {
  it('resolves OK when a message arrives later (from a timer)', async () => {
    const [a, b] = channel();
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000n * MS));
    setTimeout(() => expect(sys.channelWrite(b, 0, Buffer.from('later'), null)).toBe(ZX_OK), 20);
    expect(await p).toEqual({ status: ZX_OK, observed: RW });
    expect(readAll(a).bytes.toString()).toBe('later');
    closeAll(a, b);
  });

  it('resolves OK when a worker thread writes', async () => {
    const [a, b] = channel();
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const worker = inWorker(
      `parentPort.postMessage(sys.channelWrite(workerData.b, 0, Buffer.from('from a worker'), null));`,
      {
        b,
      },
    );
    expect(await p).toEqual({ status: ZX_OK, observed: RW });
    expect(await worker.message).toBe(ZX_OK);
    expect(await worker.exited).toBe(0);
    expect(readAll(a).bytes.toString()).toBe('from a worker');
    closeAll(a, b);
  });

  it('TIMED_OUT at the deadline, not before, with the current signals', async () => {
    const [a, b] = channel();
    const deadline = sys.deadlineAfter(80n * MS);
    const r = await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, deadline);
    expect(sys.clockGetMonotonic()).toBeGreaterThanOrEqual(deadline);
    expect(r).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    closeAll(a, b);
  });

  it('a deadline already past: TIMED_OUT at once when not satisfied, OK when satisfied', async () => {
    const [a, b] = channel();
    for (const deadline of [0n, ZX_TIME_INFINITE_PAST, sys.clockGetMonotonic() - 1n]) {
      const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, deadline);
      expect(native.scratch[0]).toBe(0); // nothing pending to cancel
      // Settled before the loop even turns.
      const first = await Promise.race([p.then(() => 'wait'), nextTurn().then(() => 'loop')]);
      expect(first).toBe('wait');
      expect(await p).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    }
    // signals = 0 samples the state.
    expect(await sys.objectWaitOneAsync(a, 0, 0n)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    expect(await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, 0n)).toEqual({ status: ZX_OK, observed: RW });
    closeAll(a, b);
  });

  it('the handle closed while waited on: CANCELED with ZX_SIGNAL_HANDLE_CLOSED in observed', async () => {
    // Closed on this thread right away.
    const [a, b] = channel();
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    closeAll(a);
    const r = await p;
    expect(r.status).toBe(ZX_ERR_CANCELED);
    expect(r.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
    closeAll(b);

    // Closed later from a timer.
    const [c, d] = channel();
    const q = sys.objectWaitOneAsync(c, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20_000n * MS));
    setTimeout(() => closeAll(c), 20);
    const s = await q;
    expect(s.status).toBe(ZX_ERR_CANCELED);
    expect(s.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
    expect(signalsOf(d)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(d);

    // Closed by another thread.
    const [e, f] = channel();
    const w = sys.objectWaitOneAsync(e, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const worker = inWorker('parentPort.postMessage(sys.handleClose(workerData.e));', { e });
    const t = await w;
    expect(t.status).toBe(ZX_ERR_CANCELED);
    expect(t.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
    expect(await worker.message).toBe(ZX_OK);
    expect(await worker.exited).toBe(0);
    expect(isValid(e)).toBe(false);
    closeAll(f);

    // Moved away in a message, or replaced: the waited-on handle is gone all the same.
    const [g, h] = channel();
    const [o1, o2] = channel();
    const moved = sys.objectWaitOneAsync(g, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    expect(sys.channelWrite(o1, 0, null, [g])).toBe(ZX_OK);
    const m = await moved;
    expect(m.status).toBe(ZX_ERR_CANCELED);
    expect(m.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
    const [g2] = readAll(o2).handles;
    const replaced = sys.objectWaitOneAsync(g2, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const g3 = replace(g2, ZX_DEFAULT_CHANNEL_RIGHTS);
    const n = await replaced;
    expect(n.status).toBe(ZX_ERR_CANCELED);
    expect(n.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
    expect(signalsOf(g3)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(g3, h, o1, o2);
  });

  it('BAD_HANDLE and ACCESS_DENIED resolve (never reject)', async () => {
    await expect(sys.objectWaitOneAsync(staleHandle(), ZX_CHANNEL_READABLE, ZX_TIME_INFINITE)).resolves.toEqual({
      status: ZX_ERR_BAD_HANDLE,
      observed: 0,
    });
    await expect(sys.objectWaitOneAsync(0, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE)).resolves.toEqual({
      status: ZX_ERR_BAD_HANDLE,
      observed: 0,
    });
    const [a, b] = channel();
    const noWait = replace(a, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WAIT);
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK); // satisfied, still denied
    await expect(sys.objectWaitOneAsync(noWait, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE)).resolves.toEqual({
      status: ZX_ERR_ACCESS_DENIED,
      observed: 0,
    });
    closeAll(noWait, b);
  });

  it('does not block the event loop: setImmediate and timers run while a wait is pending', async () => {
    const [a, b] = channel();
    let settled = false;
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000n * MS)).then((r) => {
      settled = true;
      return r;
    });
    let immediates = 0;
    for (let i = 0; i < 5; i++) {
      await nextTurn();
      immediates++;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(immediates).toBe(5);
    expect(settled).toBe(false);
    expect(sys.channelWrite(b, 0, Buffer.from('now'), null)).toBe(ZX_OK);
    expect(await p).toEqual({ status: ZX_OK, observed: RW });
    closeAll(a, b);
  });

  it('several waits on one handle settle independently', async () => {
    const [a, b] = channel();
    const readable = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const closed = sys.objectWaitOneAsync(a, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE);
    const timed = sys.objectWaitOneAsync(a, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20n * MS));
    expect(await timed).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.channelWrite(b, 0, Buffer.from('1'), null)).toBe(ZX_OK);
    expect(await readable).toEqual({ status: ZX_OK, observed: RW });
    let closedYet = false;
    closed.then(() => (closedYet = true));
    await nextTurn();
    expect(closedYet).toBe(false);
    closeAll(b);
    expect(await closed).toEqual({ status: ZX_OK, observed: RP });
    closeAll(a);
  });

  it('native.cancelAsync settles a pending wait with CANCELED, once', async () => {
    const [a, b] = channel();
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const id = native.scratch[0];
    expect(id).not.toBe(0);
    expect(native.cancelAsync(id)).toBe(true);
    expect((await p).status).toBe(ZX_ERR_CANCELED);
    expect(native.cancelAsync(id)).toBe(false);
    // The handle is untouched and can be waited on again.
    expect(isValid(a)).toBe(true);
    const q = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    expect(await q).toEqual({ status: ZX_OK, observed: RW });
    closeAll(a, b);
  });

  it('waits on a plain descriptor handle (pipe read end) too', async () => {
    const [r, w] = pipeFds();
    const t = fdio.fdTransfer(r);
    expect(t.status).toBe(ZX_OK);
    const p = sys.objectWaitOneAsync(t.handle, ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000n * MS));
    setTimeout(() => writeSync(w, 'data'), 10);
    const res = await p;
    expect(res.status).toBe(ZX_OK);
    expect(res.observed & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
    closeSync(w);
    closeAll(t.handle);
  });

  it('works in a worker thread on its own loop', async () => {
    const [a, b] = channel();
    const worker = inWorker(
      `(async () => {
        const p = sys.objectWaitOneAsync(workerData.a, zx.ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000_000_000n));
        parentPort.postMessage('waiting');
        const r = await p;
        const m = sys.channelRead(workerData.a, 0, 100, 0);
        parentPort.postMessage({ ...r, text: m.bytes.toString() });
      })();`,
      { a },
    );
    expect(await worker.message).toBe('waiting');
    expect(sys.channelWrite(b, 0, Buffer.from('to the worker'), null)).toBe(ZX_OK);
    expect(await worker.exited).toBe(0);
    expect(worker.messages).toEqual(['waiting', { status: ZX_OK, observed: RW, text: 'to the worker' }]);
    closeAll(a, b);
  });
});

describe('signals are exact', () => {
  it('READABLE only while a message is queued; peer gone with messages left = READABLE|PEER_CLOSED', () => {
    const [a, b] = channel();
    expect(signalsOf(a)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.channelWrite(b, 0, new Uint8Array(0), null)).toBe(ZX_OK);
    expect(signalsOf(a)).toBe(RW);
    expect(readAll(a).bytes.length).toBe(0);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.channelWrite(b, 0, Buffer.from('one'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(b, 0, Buffer.from('two'), null)).toBe(ZX_OK);
    closeAll(b);
    expect(signalsOf(a)).toBe(RP);
    expect(readAll(a).bytes.toString()).toBe('one');
    expect(signalsOf(a)).toBe(RP);
    expect(readAll(a).bytes.toString()).toBe('two');
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(a, 0, 100, 0).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(a);
  });

  it('never READABLE on an empty queue: a wait for READABLE after the peer left times out', async () => {
    const [a, b] = channel();
    closeAll(b);
    expect(await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(30n * MS))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(30n * MS))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    closeAll(a);

    // An empty queue whose peer closes later: PEER_CLOSED alone.
    const [c, d] = channel();
    const p = sys.objectWaitOneAsync(c, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE);
    setTimeout(() => closeAll(d), 10);
    expect(await p).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_PEER_CLOSED });
    expect(sys.channelRead(c, 0, 100, 0).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(c);
  });

  it('a wait for PEER_CLOSED with unread messages in the socket resolves when the peer closes', async () => {
    const [a, b] = channel();
    for (const text of ['m1', 'm2', 'm3']) expect(sys.channelWrite(b, 0, Buffer.from(text), null)).toBe(ZX_OK);
    let settled = false;
    const p = sys.objectWaitOneAsync(a, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20_000n * MS)).then((r) => {
      settled = true;
      return r;
    });
    // The loop keeps turning and the wait stays pending while the messages sit there.
    for (let i = 0; i < 20; i++) await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(signalsOf(a)).toBe(RW);
    closeAll(b);
    expect(await p).toEqual({ status: ZX_OK, observed: RP });
    // Nothing was taken off the queue by the wait.
    expect(['m1', 'm2', 'm3'].map(() => readAll(a).bytes.toString())).toEqual(['m1', 'm2', 'm3']);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(a, 0, 100, 0).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
  });

  it('a wait for READABLE is satisfied at once by queued messages and reads see them all', async () => {
    const [a, b] = channel();
    expect(sys.channelWrite(b, 0, Buffer.from('q'), null)).toBe(ZX_OK);
    expect(await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: RW,
    });
    expect(readAll(a).bytes.toString()).toBe('q');
    expect(sys.channelRead(a, 0, 100, 0).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });
});

describe('a wait while a call on the same endpoint stashes a message', () => {
  // A server worker answers each request with a plain message and then the reply; a caller
  // worker makes one blocking channelCall per 'go' on a control channel. To reach its reply
  // the call reads the plain message off the socket into the endpoint's stash: READABLE is
  // then set, and a wait on this thread for READABLE must see it.
  const ROUNDS = 200;
  const plain = Buffer.concat([Buffer.alloc(4), Buffer.from('plain')]);

  function start() {
    const [a, b] = channel();
    const [ctl, ctlPeer] = channel();
    const server = new Worker(fixture('server-script.cjs'), {
      workerData: { handle: b, steps: [{ op: 'echo', plainFirst: true }] },
    });
    const serverExited = new Promise<number>((resolve) => server.on('exit', resolve));
    const caller = inWorker(
      `let bad = 0;
       for (;;) {
         const w = sys.objectWaitOne(workerData.ctl, zx.ZX_CHANNEL_READABLE | zx.ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20_000_000_000n));
         if (sys.channelRead(workerData.ctl, 0, 64, 0).status !== zx.ZX_OK) break;
         const r = sys.channelCall(workerData.a, 0, sys.deadlineAfter(20_000_000_000n),
           { bytes: Buffer.from('request!'), readNumBytes: 64, readNumHandles: 0 });
         if (r.status !== zx.ZX_OK || r.bytes.subarray(4).toString() !== 'est!') bad++;
       }
       sys.handleClose(workerData.ctl);
       parentPort.postMessage({ bad });`,
      { a, ctl: ctlPeer },
    );
    async function stop() {
      closeAll(ctl);
      expect(await caller.message).toEqual({ bad: 0 });
      expect(await caller.exited).toBe(0);
      closeAll(a);
      expect(await serverExited).toBe(0);
    }
    return { a, ctl, stop };
  }

  function outcome(round: number, w: { status: number; observed: number }, deadline: bigint): string {
    const when = sys.clockGetMonotonic() < deadline ? 'before' : 'at';
    return `round ${round}: ${statusToString(w.status)}, observed 0x${w.observed.toString(16)}, ${when} the deadline`;
  }

  it("an async wait pending on this thread wakes for a message that this thread's own blocking call stashed", async () => {
    const [a, b] = channel();
    const server = new Worker(fixture('server-script.cjs'), {
      workerData: {
        handle: b,
        steps: [
          { op: 'recv' },
          { op: 'send', txid: 0, text: 'plain' },
          { op: 'reply', to: 0, text: 'reply' },
          { op: 'peerClosed' },
        ],
      },
    });
    const serverExited = new Promise<number>((resolve) => server.on('exit', resolve));
    try {
      const deadline = sys.deadlineAfter(2_000n * MS);
      const wait = sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, deadline);
      const r = sys.channelCall(a, 0, sys.deadlineAfter(20_000n * MS), {
        bytes: Buffer.alloc(8),
        readNumBytes: 64,
        readNumHandles: 0,
      });
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.subarray(4).toString()).toBe('reply');
      // 'plain' is in the stash now: READABLE is set, the pending wait must see it.
      expect(signalsOf(a) & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
      expect(outcome(0, await wait, deadline)).toBe('round 0: ZX_OK, observed 0x3, before the deadline');
      expect(readAll(a).bytes).toEqual(plain);
    } finally {
      closeAll(a); // the server stays until this
    }
    expect(await serverExited).toBe(0);
  });

  it("objectWaitOneAsync for READABLE wakes for a message that the other thread's call stashed", async () => {
    const { a, ctl, stop } = start();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        expect(sys.channelWrite(ctl, 0, Buffer.from('go'), null)).toBe(ZX_OK);
        const deadline = sys.deadlineAfter(2_000n * MS);
        const w = await sys.objectWaitOneAsync(a, ZX_CHANNEL_READABLE, deadline);
        expect(outcome(round, w, deadline)).toBe(`round ${round}: ZX_OK, observed 0x3, before the deadline`);
        expect(readAll(a).bytes).toEqual(plain);
      }
    } finally {
      await stop();
    }
  });

  it('a blocking objectWaitOne for READABLE wakes for it too', async () => {
    const { a, ctl, stop } = start();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        expect(sys.channelWrite(ctl, 0, Buffer.from('go'), null)).toBe(ZX_OK);
        const deadline = sys.deadlineAfter(2_000n * MS);
        const w = sys.objectWaitOne(a, ZX_CHANNEL_READABLE, deadline);
        // Woken by the message, not by the deadline (which re-samples the signals).
        expect(outcome(round, w, deadline)).toBe(`round ${round}: ZX_OK, observed 0x3, before the deadline`);
        expect(readAll(a).bytes).toEqual(plain);
      }
    } finally {
      await stop();
    }
  });
});

describe('the process lifetime', () => {
  it('an idle open channel does not keep a process alive', () => {
    const r = runIsolated(
      `const { sys } = zx;
       const c = sys.channelCreate(0);
       sys.channelWrite(c.out1, 0, Buffer.from('unread'), null);
       console.log(c.status);`,
    );
    expect(r.timedOut).toBe(false);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('0');
  });

  it('nor do channels whose waits have settled (OK, canceled)', () => {
    const r = runIsolated(
      `const { sys } = zx;
       const c = sys.channelCreate(0);
       (async () => {
         const p = sys.objectWaitOneAsync(c.out0, zx.ZX_CHANNEL_READABLE, zx.ZX_TIME_INFINITE);
         setTimeout(() => sys.channelWrite(c.out1, 0, Buffer.from('x'), null), 10);
         const first = await p;
         const q = sys.objectWaitOneAsync(c.out1, zx.ZX_CHANNEL_READABLE, zx.ZX_TIME_INFINITE);
         require(${JSON.stringify(`${repoRoot}/dist/native.js`)}).native.cancelAsync(
           require(${JSON.stringify(`${repoRoot}/dist/native.js`)}).native.scratch[0]);
         const second = await q;
         console.log(JSON.stringify([first.status, second.status]));
       })();`,
    );
    expect(r.timedOut).toBe(false);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([ZX_OK, ZX_ERR_CANCELED]);
  });

  it('a pending wait keeps the process alive until it settles', () => {
    const r = runIsolated(
      `const { sys } = zx;
       const c = sys.channelCreate(0);
       const start = sys.clockGetMonotonic();
       sys.objectWaitOneAsync(c.out0, zx.ZX_CHANNEL_READABLE, sys.deadlineAfter(300_000_000n)).then((r) => {
         console.log(JSON.stringify({ status: r.status, observed: r.observed, ms: Number((sys.clockGetMonotonic() - start) / 1_000_000n) }));
       });`,
    );
    expect(r.timedOut).toBe(false);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.status).toBe(ZX_ERR_TIMED_OUT);
    expect(out.observed).toBe(ZX_CHANNEL_WRITABLE);
    expect(out.ms).toBeGreaterThanOrEqual(300);
  });
});

describe('a thread whose wake flag cannot be opened (no descriptor free at its first blocking wait)', () => {
  beforeAll(warmUpSpawn);

  it('waits that would sleep answer NO_RESOURCES (no crash), one that needs no sleep works; with descriptors free again, all work', async () => {
    // In the child, the endpoint waited on holds a stashed message: a wait for PEER_CLOSED
    // registers for stash wake-ups and looks again, 100 times per kind of wait.
    const c = spawnWithFds('sh', [
      '-c',
      'ulimit -n 64 && exec "$0" "$@"',
      process.execPath,
      fixture('wake-fd-limit.cjs'),
    ]);
    expect(await endWithin(c, 30_000), c.stderr()).toEqual({ code: 0, signal: null });
    expect(reportOf(c)).toEqual({
      call: ZX_OK,
      filled: 'EMFILE',
      crowded: {
        peerClosed: [ZX_ERR_NO_RESOURCES],
        many: [ZX_ERR_NO_RESOURCES],
        call: [ZX_ERR_NO_RESOURCES],
        port: [ZX_ERR_NO_RESOURCES],
        readable: [ZX_OK],
      },
      freed: {
        peerClosed: ZX_ERR_TIMED_OUT,
        many: ZX_ERR_TIMED_OUT,
        call: ZX_ERR_TIMED_OUT,
        port: ZX_ERR_TIMED_OUT,
        closed: ZX_OK,
      },
      stash: 'plain',
      fdsAdded: wakeFlagFds, // the thread's wake flag, open from then on
    });
  });
});
