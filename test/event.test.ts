// Events and eventpairs: statuses of every call in Zircon's order, signals shared by every
// handle in every process and thread, PEER_CLOSED across processes, and no leaks.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Event,
  EventPair,
  PA_HND,
  PA_USER0,
  sys,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_EVENT_RIGHTS,
  ZX_DEFAULT_EVENTPAIR_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_WRONG_TYPE,
  ZX_EVENT_SIGNALED,
  ZX_EVENTPAIR_PEER_CLOSED,
  ZX_EVENTPAIR_SIGNALED,
  ZX_HANDLE_INVALID,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_HANDLE_OP_MOVE,
  ZX_OBJ_TYPE_EVENT,
  ZX_OBJ_TYPE_EVENTPAIR,
  ZX_OK,
  ZX_RIGHT_SIGNAL,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_SIGNAL_HANDLE_CLOSED,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  ZX_USER_SIGNAL_0,
  ZX_USER_SIGNAL_1,
  ZX_USER_SIGNAL_2,
  ZX_USER_SIGNAL_7,
  ZX_USER_SIGNAL_ALL,
  ZxError,
  fdio,
} from '../lib/index';
import { basic, channel, pipeReadHandle, signalsOf } from './fixtures/channels';
import { portable } from './fixtures/backend';
import { type Baseline, baseline, expectBaseline, startNode, until } from './fixtures/proc-helpers';
import { blockedInPoll } from './fixtures/blocked.cjs';
import { inWorker } from './fixtures/threads';
import { fixture, spawnWithEndpoint, warmUpWait } from './fixtures/spawn';

const SECOND = 1_000_000_000n;
const user = (n: number) => PA_HND(PA_USER0, n);

// This thread's wake descriptor, made by its first blocking wait, lives as long as the thread.
beforeAll(() => warmUpWait());

let before: Baseline;
beforeEach(() => {
  before = baseline();
});
afterEach(async () => {
  await expectBaseline(before);
});

describe('eventCreate / eventpairCreate', () => {
  it('eventCreate: INVALID_ARGS for any option, else an event with rights 0xD003 and no signals', () => {
    expect(sys.eventCreate(1)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    const { status, out } = sys.eventCreate(0);
    expect(status).toBe(ZX_OK);
    expect(out & 3).toBe(3);
    const info = basic(out);
    expect(info.type).toBe(ZX_OBJ_TYPE_EVENT);
    expect(info.rights).toBe(ZX_DEFAULT_EVENT_RIGHTS);
    expect(info.relatedKoid).toBe(0n);
    expect(signalsOf(out)).toBe(0);
    expect(sys.handleClose(out)).toBe(ZX_OK);
  });

  it('eventpairCreate: NOT_SUPPORTED (not INVALID_ARGS) for any option, else two sides naming each other', () => {
    expect(sys.eventpairCreate(1)).toEqual({ status: ZX_ERR_NOT_SUPPORTED, out0: 0, out1: 0 });
    const { status, out0, out1 } = sys.eventpairCreate(0);
    expect(status).toBe(ZX_OK);
    const a = basic(out0);
    const b = basic(out1);
    expect([a.type, b.type]).toEqual([ZX_OBJ_TYPE_EVENTPAIR, ZX_OBJ_TYPE_EVENTPAIR]);
    expect([a.rights, b.rights]).toEqual([ZX_DEFAULT_EVENTPAIR_RIGHTS, ZX_DEFAULT_EVENTPAIR_RIGHTS]);
    expect(a.relatedKoid).toBe(b.koid);
    expect(b.relatedKoid).toBe(a.koid);
    expect([signalsOf(out0), signalsOf(out1)]).toEqual([0, 0]);
    expect(sys.handleCloseMany([out0, out1])).toBe(ZX_OK);
  });

  it('a thousand events and eventpairs made and closed leave no descriptor behind', () => {
    for (let i = 0; i < 500; i++) {
      const e = sys.eventCreate(0);
      const p = sys.eventpairCreate(0);
      expect(sys.handleCloseMany([e.out, p.out0, p.out1])).toBe(ZX_OK);
    }
  });
});

describe('objectSignal', () => {
  it('checks the handle, then SIGNAL, then the mask; clear goes before set', () => {
    const { out: e } = sys.eventCreate(0);
    expect(sys.objectSignal(ZX_HANDLE_INVALID, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_BAD_HANDLE);
    // A bad mask on a handle without SIGNAL: the right is checked first.
    const noSignal = sys.handleDuplicate(e, ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_SIGNAL).out;
    expect(sys.objectSignal(noSignal, 0, ZX_CHANNEL_READABLE)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectSignal(e, ZX_CHANNEL_READABLE, 0)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.objectSignal(e, 0, ZX_EVENTPAIR_PEER_CLOSED)).toBe(ZX_ERR_INVALID_ARGS);
    expect(signalsOf(e)).toBe(0);
    expect(sys.objectSignal(e, 0, (ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0)).toBe(ZX_OK);
    expect(signalsOf(noSignal)).toBe((ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0);
    // The same bit in clear and set ends up set.
    expect(sys.objectSignal(e, (ZX_USER_SIGNAL_ALL | ZX_EVENT_SIGNALED) >>> 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(signalsOf(e)).toBe(ZX_USER_SIGNAL_0);
    expect(sys.handleCloseMany([e, noSignal])).toBe(ZX_OK);
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_BAD_HANDLE);
  });

  it('on a channel: SIGNALED is INVALID_ARGS, user signals are set (test/user-signals.test.ts)', () => {
    const { out0, out1 } = sys.channelCreate(0);
    expect(sys.objectSignal(out0, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.objectSignal(out0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(sys.objectSignalPeer(out0, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.objectSignalPeer(out0, 0, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
    expect(signalsOf(out1)).toBe(ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_1);
    expect(sys.handleCloseMany([out0, out1])).toBe(ZX_OK);
  });

  it('on a plain descriptor: no SIGNAL right, ACCESS_DENIED', () => {
    // Descriptor 0 here is a connected stream socket, which the portable backend takes for
    // a channel (docs/architecture.md, "Backends"): there, a pipe is the descriptor.
    const { status, handle } = portable ? { status: ZX_OK, handle: pipeReadHandle() } : fdio.fdClone(0);
    expect(status).toBe(ZX_OK);
    expect(sys.objectSignal(handle, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleClose(handle)).toBe(ZX_OK);
  });
});

describe('objectSignalPeer', () => {
  it('an event has no peer and no SIGNAL_PEER right: ACCESS_DENIED', () => {
    const { out } = sys.eventCreate(0);
    expect(sys.objectSignalPeer(out, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleClose(out)).toBe(ZX_OK);
  });

  it('sets the other side; the mask is checked before the peer; PEER_CLOSED once every handle to the peer is gone', () => {
    const { out0, out1 } = sys.eventpairCreate(0);
    expect(sys.objectSignalPeer(out0, 0, ZX_EVENTPAIR_SIGNALED | ZX_USER_SIGNAL_1)).toBe(ZX_OK);
    expect(signalsOf(out1)).toBe(ZX_EVENTPAIR_SIGNALED | ZX_USER_SIGNAL_1);
    expect(signalsOf(out0)).toBe(0);
    expect(sys.objectSignal(out1, ZX_EVENTPAIR_SIGNALED, ZX_USER_SIGNAL_2)).toBe(ZX_OK);
    expect(signalsOf(out1)).toBe(ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2);
    // A duplicate of side 1 keeps it alive.
    const dup = sys.handleDuplicate(out1, 0x80000000);
    expect(dup.status).toBe(ZX_OK);
    expect(sys.handleClose(out1)).toBe(ZX_OK);
    expect(signalsOf(out0) & ZX_EVENTPAIR_PEER_CLOSED).toBe(0);
    expect(sys.objectSignalPeer(out0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(signalsOf(dup.out)).toBe(ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2);
    expect(sys.handleClose(dup.out)).toBe(ZX_OK);
    expect(signalsOf(out0)).toBe(ZX_EVENTPAIR_PEER_CLOSED);
    expect(sys.objectSignalPeer(out0, 0, ZX_CHANNEL_READABLE)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.objectSignalPeer(out0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
    // Its own signals still work.
    expect(sys.objectSignal(out0, 0, ZX_USER_SIGNAL_7)).toBe(ZX_OK);
    expect(signalsOf(out0)).toBe((ZX_EVENTPAIR_PEER_CLOSED | ZX_USER_SIGNAL_7) >>> 0);
    expect(sys.handleClose(out0)).toBe(ZX_OK);
  });
});

describe('waiting in one process', () => {
  it('objectWaitOne: satisfied at once, TIMED_OUT with the state, woken by another thread', async () => {
    const { out: e } = sys.eventCreate(0);
    expect(sys.objectSignal(e, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(sys.objectWaitOne(e, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE_PAST)).toEqual({
      status: ZX_OK,
      observed: ZX_USER_SIGNAL_0,
    });
    expect(sys.objectWaitOne(e, ZX_EVENT_SIGNALED, sys.deadlineAfter(1_000_000n))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_USER_SIGNAL_0,
    });
    // A worker blocks on the event; once it sleeps in its wait, this thread sets it.
    const worker = inWorker(
      `parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       parentPort.postMessage(sys.objectWaitOne(workerData.e, zx.ZX_EVENT_SIGNALED, sys.deadlineAfter(20_000_000_000n)));`,
      { e },
    );
    const tid: number = await worker.message;
    await until(() => blockedInPoll(tid), 'the worker to block in its wait');
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(await worker.exited).toBe(0); // the worker's wake descriptor goes with its thread
    expect(worker.messages).toEqual([tid, { status: ZX_OK, observed: ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_0 }]);
    expect(sys.handleClose(e)).toBe(ZX_OK);
  });

  it('one signal wakes every waiter: two async waits on duplicates and a wait-many', async () => {
    const { out: e } = sys.eventCreate(0);
    const dup = sys.handleDuplicate(e, ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER).out;
    const deadline = sys.deadlineAfter(20n * SECOND);
    const first = sys.objectWaitOneAsync(e, ZX_USER_SIGNAL_1, deadline);
    const second = sys.objectWaitOneAsync(dup, ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2, deadline);
    expect(sys.objectSignal(e, 0, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
    expect(await first).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_1 });
    expect(await second).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_1 });
    const { out0, out1 } = sys.eventpairCreate(0);
    const items = [
      { handle: out0, waitfor: ZX_EVENTPAIR_SIGNALED, pending: 0 },
      { handle: dup, waitfor: ZX_USER_SIGNAL_2, pending: 0 },
    ];
    expect(sys.objectSignalPeer(out1, 0, ZX_EVENTPAIR_SIGNALED)).toBe(ZX_OK);
    expect(sys.objectWaitMany(items, deadline)).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([ZX_EVENTPAIR_SIGNALED, ZX_USER_SIGNAL_1]);
    expect(sys.handleCloseMany([e, dup, out0, out1])).toBe(ZX_OK);
  });

  it('an async wait ends CANCELED with HANDLE_CLOSED when its handle is closed, and TIMED_OUT at its deadline', async () => {
    const { out: e } = sys.eventCreate(0);
    const pending = sys.objectWaitOneAsync(e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE);
    const timed = sys.objectWaitOneAsync(e, ZX_EVENT_SIGNALED, sys.deadlineAfter(5_000_000n));
    expect(await timed).toEqual({ status: ZX_ERR_TIMED_OUT, observed: 0 });
    expect(sys.handleClose(e)).toBe(ZX_OK);
    const r = await pending;
    expect(r.status).toBe(ZX_ERR_CANCELED);
    expect(r.observed & ZX_SIGNAL_HANDLE_CLOSED).toBe(ZX_SIGNAL_HANDLE_CLOSED);
  });

  it('an eventpair wait ends with PEER_CLOSED when the other side is closed', async () => {
    const { out0, out1 } = sys.eventpairCreate(0);
    const pending = sys.objectWaitOneAsync(out0, ZX_EVENTPAIR_PEER_CLOSED, sys.deadlineAfter(20n * SECOND));
    expect(sys.handleClose(out1)).toBe(ZX_OK);
    expect(await pending).toEqual({ status: ZX_OK, observed: ZX_EVENTPAIR_PEER_CLOSED });
    expect(sys.handleClose(out0)).toBe(ZX_OK);
  });
});

describe('through channels', () => {
  it('channelReadEtc gives each type with the rights sent; a duplicate sent without SIGNAL arrives without it', () => {
    const { out: e } = sys.eventCreate(0);
    const pair = sys.eventpairCreate(0);
    const ch = sys.channelCreate(0);
    const reduced = ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_SIGNAL;
    expect(
      sys.channelWriteEtc(ch.out0, 0, Buffer.from('x'), [
        { operation: ZX_HANDLE_OP_DUPLICATE, handle: e, type: ZX_OBJ_TYPE_EVENT, rights: reduced, result: ZX_OK },
        {
          operation: ZX_HANDLE_OP_MOVE,
          handle: pair.out1,
          type: ZX_OBJ_TYPE_EVENTPAIR,
          rights: 0x80000000,
          result: ZX_OK,
        },
      ]),
    ).toBe(ZX_OK);
    const r = sys.channelReadEtc(ch.out1, 0, 1, 2);
    expect(r.status).toBe(ZX_OK);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_EVENT, rights: reduced },
      { type: ZX_OBJ_TYPE_EVENTPAIR, rights: ZX_DEFAULT_EVENTPAIR_RIGHTS },
    ]);
    const [got, side] = r.handles.map((h) => h.handle);
    expect(basic(got).koid).toBe(basic(e).koid);
    expect(basic(side).relatedKoid).toBe(basic(pair.out0).koid);
    expect(sys.objectSignal(got, 0, ZX_EVENT_SIGNALED)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(signalsOf(got)).toBe(ZX_EVENT_SIGNALED);
    expect(sys.objectSignalPeer(side, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(signalsOf(pair.out0)).toBe(ZX_USER_SIGNAL_0);
    expect(sys.handleClose(side)).toBe(ZX_OK);
    expect(signalsOf(pair.out0)).toBe(ZX_USER_SIGNAL_0 | ZX_EVENTPAIR_PEER_CLOSED);
    expect(sys.handleCloseMany([e, got, pair.out0, ch.out0, ch.out1])).toBe(ZX_OK);
  });

  it('a write naming the wrong type consumes the event (WRONG_TYPE)', () => {
    const { out: e } = sys.eventCreate(0);
    const ch = sys.channelCreate(0);
    const d = [
      { operation: ZX_HANDLE_OP_MOVE, handle: e, type: ZX_OBJ_TYPE_EVENTPAIR, rights: 0x80000000, result: ZX_OK },
    ];
    expect(sys.channelWriteEtc(ch.out0, 0, null, d)).toBe(ZX_ERR_WRONG_TYPE);
    expect(d[0].result).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.handleClose(e)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleCloseMany([ch.out0, ch.out1])).toBe(ZX_OK);
  });

  it('an eventpair side in an unread message is closed with the channel: the other side sees PEER_CLOSED', () => {
    const pair = sys.eventpairCreate(0);
    const ch = sys.channelCreate(0);
    expect(sys.channelWrite(ch.out0, 0, null, [pair.out1])).toBe(ZX_OK);
    expect(signalsOf(pair.out0) & ZX_EVENTPAIR_PEER_CLOSED).toBe(0);
    expect(sys.handleCloseMany([ch.out0, ch.out1])).toBe(ZX_OK);
    expect(signalsOf(pair.out0)).toBe(ZX_EVENTPAIR_PEER_CLOSED);
    expect(sys.handleClose(pair.out0)).toBe(ZX_OK);
  });
});

describe('across processes', () => {
  it('an event and an eventpair side as startup handles: signalled in one process, awaited in the other', async () => {
    const event = Event.create();
    const [mine, theirs] = EventPair.create();
    const second = Event.create();
    const ch = sys.channelCreate(0);
    const eventKoid = event.koid;
    const theirsInfo = theirs.info();
    const keep = event.duplicate(); // the event stays here too: same object
    const child = startNode(
      'event-peer.cjs',
      ['relay'],
      [
        { id: user(0), handle: event },
        { id: user(1), handle: theirs },
        { id: user(2), handle: ch.out1 },
      ],
    );
    const { ready } = await child.json('ready');
    expect(ready.event).toEqual({
      type: ZX_OBJ_TYPE_EVENT,
      rights: ZX_DEFAULT_EVENT_RIGHTS,
      koid: String(eventKoid),
      relatedKoid: '0',
    });
    expect(ready.pair).toEqual({
      type: ZX_OBJ_TYPE_EVENTPAIR,
      rights: ZX_DEFAULT_EVENTPAIR_RIGHTS,
      koid: String(theirsInfo.koid),
      relatedKoid: String(theirsInfo.relatedKoid),
    });
    // The child blocks on USER_SIGNAL_0; it answers on our side of the pair.
    const answered = mine.wait(ZX_EVENTPAIR_SIGNALED, { timeout: 20_000 });
    keep.signal(0, ZX_USER_SIGNAL_0);
    expect(await answered).toBe(ZX_EVENTPAIR_SIGNALED);
    // A second event, sent through the channel, is set there and seen here.
    const secondSet = second.wait(ZX_USER_SIGNAL_1, { timeout: 20_000 });
    expect(sys.channelWrite(ch.out0, 0, null, [second.duplicate().release()])).toBe(ZX_OK);
    expect(await secondSet).toBe(ZX_USER_SIGNAL_1);
    expect(await keep.wait(ZX_USER_SIGNAL_2, { timeout: 20_000 })).toBe(ZX_USER_SIGNAL_2);
    const { done } = await child.json('done');
    expect(done.second.type).toBe(ZX_OBJ_TYPE_EVENT);
    expect(done.second.koid).toBe(String(second.koid));
    // The child exits; its side of the pair goes with it.
    expect(await mine.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 })).toBe(
      ZX_EVENTPAIR_SIGNALED | ZX_EVENTPAIR_PEER_CLOSED,
    );
    expect((await child.closed).code).toBe(0);
    expect(() => mine.signalPeer(0, ZX_USER_SIGNAL_0)).toThrow(ZxError);
    for (const h of [keep, mine, second]) h.close();
    expect(sys.handleClose(ch.out0)).toBe(ZX_OK);
  });

  it('a killed process lets go of its side: PEER_CLOSED here', async () => {
    const [mine, theirs] = EventPair.create();
    const event = Event.create();
    const ch = sys.channelCreate(0);
    const child = startNode(
      'event-peer.cjs',
      ['hold'],
      [
        { id: user(0), handle: event },
        { id: user(1), handle: theirs },
        { id: user(2), handle: ch.out1 },
      ],
    );
    await child.json('ready');
    expect(mine.signals & ZX_EVENTPAIR_PEER_CLOSED).toBe(0);
    child.proc.kill('SIGKILL');
    expect(await mine.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_EVENTPAIR_PEER_CLOSED);
    expect((await child.closed).signal).toBe('SIGKILL');
    mine.close();
    expect(sys.handleClose(ch.out0)).toBe(ZX_OK);
  });
});

describe('a holder that is not this library', () => {
  // Sends a duplicate of `event` to event-hostile.py, which fills the shared doorbell's
  // counter (and, 'blocking', clears O_NONBLOCK on its open file description, which every
  // holder shares); resolves once it has. `finish` lets it exit.
  async function attacked(event: Event, how: 'blocking' | 'nonblocking') {
    const [ch, theirs] = channel();
    const hostile = spawnWithEndpoint('python3', [fixture('event-hostile.py'), how], theirs);
    expect(sys.channelWrite(ch, 0, null, [event.duplicate().release()])).toBe(ZX_OK);
    const ready = await sys.objectWaitOneAsync(ch, ZX_CHANNEL_READABLE, sys.deadlineAfter(20n * SECOND));
    expect(ready.status, hostile.stderr()).toBe(ZX_OK);
    expect(sys.channelRead(ch, 0, 64, 0).bytes.toString()).toBe(`saturated, ${how}`);
    return async () => {
      expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
      expect(await hostile.closed).toEqual({ code: 0, signal: null });
      expect(hostile.stderr()).toBe('');
      expect(sys.handleClose(ch)).toBe(ZX_OK);
    };
  }

  it('one that fills the doorbell and makes it blocking stalls no signaler: objectSignal in another process returns, a waiter here wakes at once', async () => {
    const event = Event.create();
    const finish = await attacked(event, 'blocking');
    const [mine, theirs] = EventPair.create();
    const ch = sys.channelCreate(0);
    const started = process.hrtime.bigint();
    const woke = sys.objectWaitOneAsync(event.raw, ZX_USER_SIGNAL_0, sys.deadlineAfter(30n * SECOND));
    const victim = startNode(
      'event-peer.cjs',
      ['signal'],
      [
        { id: user(0), handle: event.duplicate() },
        { id: user(1), handle: theirs },
        { id: user(2), handle: ch.out1 },
      ],
    );
    try {
      // Before: the victim's write(2) to the full, blocking doorbell never returned.
      expect(await victim.json('signaled', 10_000)).toEqual({ signaled: true });
      expect(await woke).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_0 });
      expect(process.hrtime.bigint() - started).toBeLessThan(10n * SECOND); // not at the deadline
    } finally {
      victim.proc.kill('SIGKILL');
      await victim.closed;
    }
    await finish();
    event.close();
    mine.close();
    expect(sys.handleClose(ch.out0)).toBe(ZX_OK);
  });

  it('one that fills the doorbell loses no ring: a blocked waiter in another thread wakes at the signal, again and again', async () => {
    const event = Event.create();
    const finish = await attacked(event, 'nonblocking');
    const worker = inWorker(
      `parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       for (const s of [zx.ZX_USER_SIGNAL_0, zx.ZX_USER_SIGNAL_1]) {
         const started = process.hrtime.bigint();
         const r = sys.objectWaitOne(workerData.e, s, sys.deadlineAfter(30_000_000_000n));
         parentPort.postMessage({ ...r, soon: process.hrtime.bigint() - started < 10_000_000_000n });
       }`,
      { e: event.raw },
    );
    const tid: number = await worker.message;
    for (const [round, s] of [ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_1].entries()) {
      await until(() => blockedInPoll(tid), 'the worker to block in its wait');
      // Before: the write(2) failed (EAGAIN) and the worker slept on to its deadline.
      event.signal(0, s);
      // This round's wait has returned: the next look at the worker sees its next wait.
      await until(() => worker.messages.length === 2 + round, 'the worker to report its wake-up');
    }
    expect(await worker.exited).toBe(0);
    expect(worker.messages).toEqual([
      tid,
      { status: ZX_OK, observed: ZX_USER_SIGNAL_0, soon: true },
      { status: ZX_OK, observed: ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_1, soon: true },
    ]);
    await finish();
    event.close();
  });
});

describe('classes', () => {
  it('Event.set/clear/signal and EventPair.signalPeer, errors as ZxError', () => {
    using e = Event.create();
    e.set();
    expect(e.signals).toBe(ZX_EVENT_SIGNALED);
    e.signal(0, ZX_USER_SIGNAL_0);
    e.clear();
    expect(e.signals).toBe(ZX_USER_SIGNAL_0);
    e.clear(ZX_USER_SIGNAL_0);
    expect(e.signals).toBe(0);
    expect(() => e.signal(0, ZX_CHANNEL_READABLE)).toThrow(
      expect.objectContaining({ code: 'ZX_ERR_INVALID_ARGS', operation: 'Event.signal' }),
    );
    const [a, b] = EventPair.create();
    a.signalPeer(0, ZX_USER_SIGNAL_1);
    expect(b.signals).toBe(ZX_USER_SIGNAL_1);
    b.close();
    expect(() => a.signalPeer(0, ZX_USER_SIGNAL_1)).toThrow(expect.objectContaining({ status: ZX_ERR_PEER_CLOSED }));
    a.close();
  });

  it('received events and eventpairs come as their classes', async () => {
    const { Channel } = await import('../lib/index');
    const [x, y] = Channel.create();
    const [p, q] = EventPair.create();
    x.write('objects', [Event.create(), q]);
    const m = y.tryRead()!;
    expect(m.handles[0]).toBeInstanceOf(Event);
    expect(m.handles[1]).toBeInstanceOf(EventPair);
    (m.handles[1] as EventPair).signalPeer(0, ZX_USER_SIGNAL_2);
    expect(p.signals).toBe(ZX_USER_SIGNAL_2);
    for (const h of [...m.handles, p, x, y]) h.close();
  });
});
