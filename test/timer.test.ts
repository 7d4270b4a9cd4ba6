// Timers (zx_timer_create / set / cancel, ZX_INFO_TIMER): a timerfd whose readability is
// ZX_TIMER_SIGNALED, shared by every process that holds it (docs/objects.md, Timers).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Port,
  sys,
  Timer,
  ZX_CHANNEL_READABLE,
  ZX_CLOCK_MONOTONIC,
  ZX_DEFAULT_TIMER_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_COUNT,
  ZX_INFO_TIMER,
  ZX_OBJ_TYPE_TIMER,
  ZX_OK,
  ZX_RIGHT_WRITE,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  ZX_TIMER_SIGNALED,
  ZX_TIMER_SLACK_LATE,
} from '../lib/index';
import { basic, channel, closeAll, replace, signalsOf, staleHandle } from './fixtures/channels';
import { expectZxError, thrownBy } from './fixtures/errors';
import { baseline, expectBaseline, start, fixture, user, type Baseline } from './fixtures/proc-helpers';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';

const MS = 1_000_000n;
const LONG = () => sys.deadlineAfter(20_000n * MS);

let base: Baseline;
beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});
beforeEach(() => {
  base = baseline();
});
afterEach(async () => {
  await expectBaseline(base);
});

function newTimer(options = 0): number {
  const r = sys.timerCreate(options, ZX_CLOCK_MONOTONIC);
  expect(r.status).toBe(ZX_OK);
  return r.out;
}

function timerInfo(h: number) {
  const r = sys.objectGetInfo(h, ZX_INFO_TIMER);
  expect(r.status).toBe(ZX_OK);
  return r.info!;
}

describe('timerCreate', () => {
  it('a timer: type TIMER, rights ZX_DEFAULT_TIMER_RIGHTS, not signaled, not armed; options and clock checked', () => {
    const h = newTimer();
    expect(basic(h)).toMatchObject({ type: ZX_OBJ_TYPE_TIMER, rights: ZX_DEFAULT_TIMER_RIGHTS, relatedKoid: 0n });
    expect(signalsOf(h)).toBe(0);
    expect(timerInfo(h)).toEqual({ options: 0, clockId: ZX_CLOCK_MONOTONIC, deadline: 0n, slack: 0n });
    expect(sys.timerCreate(3, ZX_CLOCK_MONOTONIC)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    expect(sys.timerCreate(0, 1).status).toBe(ZX_ERR_INVALID_ARGS);
    closeAll(h);
  });
});

describe('timerSet and timerCancel', () => {
  it("check in Zircon's order: the slack (set), then BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED (WRITE)", () => {
    const h = newTimer();
    const [a, b] = channel();
    const readOnly = replace(
      sys.handleDuplicate(h, ZX_DEFAULT_TIMER_RIGHTS).out,
      ZX_DEFAULT_TIMER_RIGHTS & ~ZX_RIGHT_WRITE,
    );
    expect(sys.timerSet(0, 0n, -1n)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.timerSet(staleHandle(), 0n, 0n)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.timerSet(a, 0n, 0n)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.timerSet(readOnly, 0n, 0n)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.timerCancel(staleHandle())).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.timerCancel(a)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.timerCancel(readOnly)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(() => sys.timerSet(h, 5 as unknown as bigint, 0n)).toThrow(TypeError);
    expect(signalsOf(h)).toBe(0);
    closeAll(h, a, b, readOnly);
  });

  it('a deadline past fires at once; a new deadline and a cancel clear SIGNALED; INFINITE never fires', () => {
    const h = newTimer();
    for (const past of [0n, ZX_TIME_INFINITE_PAST, sys.clockGetMonotonic()]) {
      expect(sys.timerSet(h, past, 0n)).toBe(ZX_OK);
      expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, LONG())).toEqual({ status: ZX_OK, observed: ZX_TIMER_SIGNALED });
      expect(signalsOf(h)).toBe(ZX_TIMER_SIGNALED); // stays on
    }
    expect(sys.timerSet(h, sys.deadlineAfter(3_600_000n * MS), 0n)).toBe(ZX_OK);
    expect(signalsOf(h)).toBe(0);
    expect(sys.timerSet(h, 0n, 0n)).toBe(ZX_OK);
    expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, LONG()).status).toBe(ZX_OK);
    expect(sys.timerCancel(h)).toBe(ZX_OK);
    expect(signalsOf(h)).toBe(0);
    expect(timerInfo(h).deadline).toBe(0n);
    expect(sys.timerSet(h, ZX_TIME_INFINITE, 0n)).toBe(ZX_OK);
    expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, sys.deadlineAfter(20n * MS)).status).toBe(ZX_ERR_TIMED_OUT);
    closeAll(h);
  });

  it('fires at its deadline, not before; ZX_INFO_TIMER reports the deadline and slack while armed', () => {
    const h = newTimer(ZX_TIMER_SLACK_LATE);
    const far = sys.deadlineAfter(3_600_000n * MS);
    expect(sys.timerSet(h, far, 5n * MS)).toBe(ZX_OK);
    const info = timerInfo(h);
    expect(info.options).toBe(ZX_TIMER_SLACK_LATE);
    expect(info.slack).toBe(5n * MS);
    expect(info.deadline >= far && info.deadline - far < 1000n * MS).toBe(true);
    const soon = sys.deadlineAfter(30n * MS);
    expect(sys.timerSet(h, soon, 0n)).toBe(ZX_OK);
    expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, LONG()).status).toBe(ZX_OK);
    expect(sys.clockGetMonotonic() >= soon).toBe(true);
    expect(timerInfo(h)).toMatchObject({ deadline: 0n, slack: 0n }); // fired: no longer armed
    expect(sys.objectGetInfo(h, ZX_INFO_HANDLE_COUNT).info).toEqual({ handleCount: 1 });
    closeAll(h);
  });

  it('async waits, port observers and the Timer class see it fire', async () => {
    const timer = Timer.create({ slack: 'early' });
    expect(timerInfo(timer.raw).options).toBe(1);
    const waited = sys.objectWaitOneAsync(timer.raw, ZX_TIMER_SIGNALED, LONG());
    const port = Port.create();
    port.watch(timer, ZX_TIMER_SIGNALED, { key: 7n });
    timer.set(sys.deadlineAfter(10n * MS));
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_TIMER_SIGNALED });
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet).toMatchObject({ key: 7n, signal: { trigger: ZX_TIMER_SIGNALED, observed: ZX_TIMER_SIGNALED } });
    timer.cancel();
    expect(timer.signals).toBe(0);
    expect(() => Timer.create({ slack: 'sideways' as 'early' })).toThrow(TypeError);
    expectZxError(
      thrownBy(() => timer.set(0n, -1n)),
      ZX_ERR_OUT_OF_RANGE,
      'Timer.set',
    );
    timer.close();
    port.close();
  });
});

describe('timers travel', () => {
  it('in a message: the received handle is the same timer (same koid, set through either)', () => {
    const h = newTimer();
    const [a, b] = channel();
    const koid = basic(h).koid;
    expect(sys.channelWrite(a, 0, null, [sys.handleDuplicate(h, ZX_DEFAULT_TIMER_RIGHTS).out])).toBe(ZX_OK);
    const r = sys.channelReadEtc(b, 0, 0, 1);
    expect(r.status).toBe(ZX_OK);
    const got = r.handles[0];
    expect(got).toMatchObject({ type: ZX_OBJ_TYPE_TIMER, rights: ZX_DEFAULT_TIMER_RIGHTS });
    expect(basic(got.handle).koid).toBe(koid);
    expect(sys.timerSet(got.handle, 0n, 0n)).toBe(ZX_OK);
    expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, LONG()).status).toBe(ZX_OK);
    expect(sys.timerCancel(h)).toBe(ZX_OK);
    expect(signalsOf(got.handle)).toBe(0);
    closeAll(h, got.handle, a, b);
  });

  it('to another process: it sees our set fire, and our handle sees its set and cancel', async () => {
    const h = newTimer();
    const koid = basic(h).koid;
    const [ours, theirs] = channel();
    const child = start(
      process.execPath,
      [fixture('timer-child.cjs')],
      [
        { id: user(0), handle: sys.handleDuplicate(h, ZX_DEFAULT_TIMER_RIGHTS).out },
        { id: user(1), handle: theirs },
      ],
    );
    const ask = async (request: object) => {
      expect(sys.channelWrite(ours, 0, Buffer.from(JSON.stringify(request)), null)).toBe(ZX_OK);
      const seen = await sys.objectWaitOneAsync(ours, ZX_CHANNEL_READABLE, LONG());
      if (seen.status !== ZX_OK) throw new Error(`no reply: ${child.stderr()}`);
      return JSON.parse(sys.channelRead(ours, 0, 65536, 0).bytes.toString());
    };
    expect(await ask({ op: 'info' })).toEqual({
      type: ZX_OBJ_TYPE_TIMER,
      rights: ZX_DEFAULT_TIMER_RIGHTS,
      koid: String(koid),
    });
    expect(sys.timerSet(h, sys.deadlineAfter(10n * MS), 0n)).toBe(ZX_OK);
    expect(await ask({ op: 'wait', ms: 20_000 })).toEqual({ status: ZX_OK, observed: ZX_TIMER_SIGNALED });
    expect(await ask({ op: 'cancel' })).toEqual({ status: ZX_OK });
    expect(signalsOf(h)).toBe(0);
    expect(await ask({ op: 'set', ms: 0 })).toEqual({ status: ZX_OK });
    expect(sys.objectWaitOne(h, ZX_TIMER_SIGNALED, LONG()).status).toBe(ZX_OK);
    expect(await ask({ op: 'exit' })).toEqual({});
    expect(await child.closed).toEqual({ code: 0, signal: null });
    closeAll(h, ours);
  });
});
