// Zircon's own event tests (zircon/system/utest/core/events/events.c: basic_test,
// user_signals_test, wait_signals_test, reset_test, wait_many_failures_test; and the waits on
// events of object-wait/wait-test.cc, ObjectWaitOneTest.* and ObjectWaitManyTest.*; and the
// handle tests on events, handle-dup/handle-dup.cc and handle-info/handle-info.cc) through
// the sys face: the same operations and statuses. The worker threads of basic_test and
// user_signals_test are another process here (an event travels as its shared signal
// word and doorbell), ringing back and forth; the closer thread of wait_signals_test is a
// worker thread (a close is of this process's handle table).
//
// Not portable, and why: HandleDup.Replace and .Duplicate (a null out pointer),
// HandleInfoTest.DupAndInfoRights' 4-byte buffer and its `props` (objectGetInfo sizes its
// own record and has no props field), HandleInfoTest.RelatedKoid (no job, process or thread
// objects here; a socket pair's related koids are in zircon-core-socket.test.ts).
// wait-test.cc's thread-state polling is whenBlocked here (the blocked thread found in
// /proc). The original's workers sleep between rounds
// to let the others run; here each round waits for the other side's signal instead (no
// sleeps), with one worker where the original has three racing for the same signal.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_TIMED_OUT,
  ZX_EVENT_SIGNALED,
  ZX_HANDLE_INVALID,
  ZX_OK,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_TIME_INFINITE,
  ZX_USER_SIGNAL_1,
  ZX_USER_SIGNAL_2,
  ZX_USER_SIGNAL_ALL,
  ZX_ERR_OUT_OF_RANGE,
  ZX_WAIT_MANY_MAX_ITEMS,
  ZX_RIGHTS_BASIC,
  ZX_RIGHT_EXECUTE,
  ZX_ERR_INVALID_ARGS,
  ZX_INFO_HANDLE_VALID,
  ZX_OBJ_TYPE_EVENT,
  ZX_RIGHT_SIGNAL,
  ZX_RIGHT_WAIT,
  ZX_ERR_ACCESS_DENIED,
} from '../lib/index';
import { basic, closeAll, isValid } from './fixtures/channels';
import { event, keepBaseline } from './fixtures/core';
import { startPeer } from './fixtures/peer';
import { inWorker } from './fixtures/threads';

const SECOND = 1_000_000_000n;

keepBaseline();

describe('event_tests', () => {
  // events[0] ends the rounds; the test sets `ping` on events[1], the worker (another
  // process) answers with `pong` on events[2].
  it.each([
    ['basic_test', ZX_EVENT_SIGNALED, ZX_EVENT_SIGNALED],
    ['user_signals_test', ZX_USER_SIGNAL_1, ZX_USER_SIGNAL_2],
  ])('%s (the worker in another process)', async (_, ping, pong) => {
    const ROUNDS = 50;
    const events = [event(), event(), event()];
    const dup = (h: number) => sys.handleDuplicate(h, ZX_RIGHT_SAME_RIGHTS).out;
    const peer = startPeer({ quit: dup(events[0]), ping: dup(events[1]), pong: dup(events[2]) });
    const relayed = peer.do({ relay: 'ping', awaiting: ping, to: 'pong', set: pong, quit: 'quit' });
    for (let i = 0; i < ROUNDS; i++) {
      const clear = ping === ZX_EVENT_SIGNALED ? 0 : ZX_USER_SIGNAL_ALL;
      expect(sys.objectSignal(events[1], clear, ping)).toBe(ZX_OK);
      const r = await sys.objectWaitOneAsync(events[2], pong, sys.deadlineAfter(20n * SECOND));
      expect(r).toEqual({ status: ZX_OK, observed: pong });
      expect(sys.objectSignal(events[2], pong, 0)).toBe(ZX_OK);
    }
    expect(sys.objectSignal(events[0], 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(await relayed).toEqual([{ rounds: ROUNDS }]);
    await peer.exit();
    closeAll(...events);
  });

  it('wait_signals_test', async () => {
    const events = [event(), event(), event()];
    const items = () => events.map((handle) => ({ handle, waitfor: ZX_EVENT_SIGNALED, pending: 0 }));
    const pendings = (list: { pending: number }[]) => list.map((item) => item.pending);

    expect(sys.objectWaitOne(events[0], ZX_EVENT_SIGNALED, sys.deadlineAfter(1n))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: 0,
    });
    let list = items();
    expect(sys.objectWaitMany(list, sys.deadlineAfter(1n))).toBe(ZX_ERR_TIMED_OUT);
    expect(pendings(list)).toEqual([0, 0, 0]);
    expect(sys.objectWaitOne(events[0], ZX_EVENT_SIGNALED, 0n)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: 0 });
    list = items();
    expect(sys.objectWaitMany(list, 0n)).toBe(ZX_ERR_TIMED_OUT);
    expect(pendings(list)).toEqual([0, 0, 0]);

    expect(sys.objectSignal(events[0], 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(sys.objectWaitOne(events[0], ZX_EVENT_SIGNALED, sys.deadlineAfter(1n))).toEqual({
      status: ZX_OK,
      observed: ZX_EVENT_SIGNALED,
    });
    list = items();
    expect(sys.objectWaitMany(list, sys.deadlineAfter(1n))).toBe(ZX_OK);
    expect(list[0].pending).toBe(ZX_EVENT_SIGNALED);
    expect(sys.objectWaitOne(events[0], ZX_EVENT_SIGNALED, 0n)).toEqual({ status: ZX_OK, observed: ZX_EVENT_SIGNALED });

    expect(sys.objectSignal(events[0], ZX_EVENT_SIGNALED, 0)).toBe(ZX_OK);
    expect(sys.objectSignal(events[2], 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    list = items();
    expect(sys.objectWaitMany(list, sys.deadlineAfter(1n))).toBe(ZX_OK);
    expect(list[2].pending).toBe(ZX_EVENT_SIGNALED);

    // The closer: another thread closes events[1] while this one waits on it.
    const closer = inWorker('whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.handleClose(workerData.h)));', {
      h: events[1],
    });
    expect(sys.objectWaitOne(events[1], ZX_EVENT_SIGNALED, ZX_TIME_INFINITE).status).toBe(ZX_ERR_CANCELED);
    expect(await closer.message).toBe(ZX_OK);
    await closer.exited;
    closeAll(events[0], events[2]);
  });

  it('reset_test', () => {
    const e = event();
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(sys.objectSignal(e, ZX_EVENT_SIGNALED, 0)).toBe(ZX_OK);
    expect(sys.objectWaitOne(e, ZX_EVENT_SIGNALED, sys.deadlineAfter(1n)).status).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.handleClose(e)).toBe(ZX_OK);
  });

  it('wait_many_failures_test', () => {
    expect(sys.objectWaitMany([], sys.deadlineAfter(1n))).toBe(ZX_ERR_TIMED_OUT);
    const e = event();
    const items = [
      { handle: e, waitfor: ZX_EVENT_SIGNALED, pending: 0 },
      { handle: ZX_HANDLE_INVALID, waitfor: ZX_EVENT_SIGNALED, pending: 0 },
    ];
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    // The failed wait left nothing behind: the event still signals and closes.
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(isValid(e)).toBe(true);
    expect(sys.handleClose(e)).toBe(ZX_OK);
  });
});

describe('ObjectWaitOneTest / ObjectWaitManyTest (object-wait/wait-test.cc)', () => {
  it('WaitForEventSignaled', () => {
    const e = event();
    expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    expect(sys.objectWaitOne(e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: ZX_EVENT_SIGNALED,
    });
    closeAll(e);
  });

  it('WaitForEventTimeout / WaitForEventTimeoutPreSignalClear', () => {
    for (const preSignal of [false, true]) {
      const e = event();
      if (preSignal) {
        expect(sys.objectSignal(e, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
        expect(sys.objectSignal(e, ZX_EVENT_SIGNALED, 0)).toBe(ZX_OK);
      }
      expect(sys.objectWaitOne(e, ZX_EVENT_SIGNALED, sys.deadlineAfter(1_000_000n))).toEqual({
        status: ZX_ERR_TIMED_OUT,
        observed: 0,
      });
      closeAll(e);
    }
  });

  it('WaitForEventThenSignal (the signal from another thread once this one blocks)', async () => {
    const e = event();
    const signaler = inWorker(
      'whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.objectSignal(workerData.h, 0, zx.ZX_EVENT_SIGNALED)));',
      { h: e },
    );
    expect(sys.objectWaitOne(e, ZX_EVENT_SIGNALED, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: ZX_EVENT_SIGNALED,
    });
    expect(await signaler.message).toBe(ZX_OK);
    await signaler.exited;
    closeAll(e);
  });

  it('TooManyObjects', () => {
    const items = Array.from({ length: ZX_WAIT_MANY_MAX_ITEMS + 1 }, () => ({
      handle: event(),
      waitfor: ZX_EVENT_SIGNALED,
      pending: 0,
    }));
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_ERR_OUT_OF_RANGE);
    for (const item of items) expect(sys.handleClose(item.handle)).toBe(ZX_OK);
  });

  it('InvalidHandle', () => {
    const items = [0, 1, 2].map(() => ({ handle: event(), waitfor: ZX_EVENT_SIGNALED, pending: 0 }));
    expect(sys.handleClose(items[1].handle)).toBe(ZX_OK);
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_ERR_BAD_HANDLE);
    items[1].handle = event();
    for (const item of items) expect(sys.handleClose(item.handle)).toBe(ZX_OK);
  });

  it('WaitForEventsSignaled', () => {
    const toSignal = [0, 0, ZX_EVENT_SIGNALED, 0, 0, ZX_EVENT_SIGNALED, 0, 0];
    const items = toSignal.map(() => ({ handle: event(), waitfor: ZX_EVENT_SIGNALED, pending: 0 }));
    toSignal.forEach((signal, i) => {
      if (signal) expect(sys.objectSignal(items[i].handle, 0, signal)).toBe(ZX_OK);
    });
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_OK);
    expect(items.map((item) => item.pending)).toEqual(toSignal);
    for (const item of items) expect(sys.handleClose(item.handle)).toBe(ZX_OK);
  });

  it('WaitForEventsThenSignal (the signals from another thread once this one blocks)', async () => {
    const toSignal = [0, ZX_EVENT_SIGNALED, 0, 0, 0, 0, ZX_EVENT_SIGNALED, 0];
    const items = toSignal.map(() => ({ handle: event(), waitfor: ZX_EVENT_SIGNALED, pending: 0 }));
    const signaler = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(
         workerData.handles.map((h, i) => (workerData.toSignal[i] ? sys.objectSignal(h, 0, workerData.toSignal[i]) : 0))));`,
      { handles: items.map((item) => item.handle), toSignal },
    );
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_OK);
    expect(await signaler.message).toEqual(toSignal.map(() => ZX_OK));
    await signaler.exited;
    // The wait may end before the second signal: at least one shows.
    expect(items.filter((item) => item.pending === ZX_EVENT_SIGNALED).length).toBeGreaterThan(0);
    for (const item of items) expect(sys.handleClose(item.handle)).toBe(ZX_OK);
  });
});

describe('HandleDup / HandleInfoTest (handle-dup.cc, handle-info.cc)', () => {
  it('ReplaceSuccessOrigInvalid', () => {
    const e = event();
    const r = sys.handleReplace(e, ZX_RIGHTS_BASIC);
    expect(r.status).toBe(ZX_OK);
    expect([isValid(e), isValid(r.out)]).toEqual([false, true]);
    closeAll(r.out);
  });

  it('ReplaceFailureBothInvalid', () => {
    const e = event();
    expect(sys.handleReplace(e, ZX_RIGHT_EXECUTE)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    expect(isValid(e)).toBe(false); // even on failure, the replaced handle is gone
  });

  it('DupAndInfoRights', () => {
    const e = event();
    const dup = sys.handleDuplicate(e, ZX_RIGHT_SAME_RIGHTS).out;
    expect(sys.objectGetInfo(e, ZX_INFO_HANDLE_VALID).status).toBe(ZX_OK);
    closeAll(e);
    expect(sys.objectGetInfo(e, ZX_INFO_HANDLE_VALID).status).toBe(ZX_ERR_BAD_HANDLE);
    const info = basic(dup);
    expect(info.koid).toBeGreaterThan(0n);
    expect([info.type, info.rights, info.relatedKoid]).toEqual([
      ZX_OBJ_TYPE_EVENT,
      ZX_RIGHTS_BASIC | ZX_RIGHT_SIGNAL,
      0n,
    ]);
    closeAll(dup);
  });

  it('DuplicateRights', () => {
    const e = event();
    const ro1 = sys.handleDuplicate(e, ZX_RIGHT_WAIT);
    const ro2 = sys.handleDuplicate(e, ZX_RIGHT_WAIT);
    expect([ro1.status, ro2.status]).toEqual([ZX_OK, ZX_OK]);
    expect(basic(ro1.out).rights).toBe(ZX_RIGHT_WAIT);
    expect(sys.handleDuplicate(ro1.out, ZX_RIGHT_SAME_RIGHTS)).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
      out: ZX_HANDLE_INVALID,
    });
    expect(sys.handleDuplicate(e, ZX_RIGHT_EXECUTE | ZX_RIGHT_WAIT)).toEqual({
      status: ZX_ERR_INVALID_ARGS,
      out: ZX_HANDLE_INVALID,
    });
    expect([isValid(e), isValid(ro1.out), isValid(ro2.out)]).toEqual([true, true, true]);
    closeAll(e, ro1.out, ro2.out);
  });

  it('ReplaceRights', () => {
    const e1 = event();
    const e2 = sys.handleReplace(e1, ZX_RIGHT_WAIT);
    expect(e2.status).toBe(ZX_OK);
    expect(basic(e2.out).rights).toBe(ZX_RIGHT_WAIT);
    expect(isValid(e1)).toBe(false);
    expect(sys.handleReplace(e2.out, ZX_RIGHT_SIGNAL | ZX_RIGHT_WAIT).status).toBe(ZX_ERR_INVALID_ARGS);
    expect(isValid(e2.out)).toBe(false); // gone on failure too
  });
});
