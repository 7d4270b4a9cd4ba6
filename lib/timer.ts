// Timer: ZX_TIMER_SIGNALED at a deadline on the monotonic clock, for every handle to it in
// every process (a timerfd).
import {
  ZX_CLOCK_MONOTONIC,
  ZX_OBJ_TYPE_TIMER,
  ZX_TIMER_SLACK_CENTER,
  ZX_TIMER_SLACK_EARLY,
  ZX_TIMER_SLACK_LATE,
} from './constants';
import { check } from './errors';
import { Handle, registerHandleClass } from './handle';
import * as sys from './sys';

const SLACK = { center: ZX_TIMER_SLACK_CENTER, early: ZX_TIMER_SLACK_EARLY, late: ZX_TIMER_SLACK_LATE } as const;

export class Timer extends Handle {
  /** A new timer, not armed. `slack` is the mode ZX_INFO_TIMER reports. */
  static create(options: { slack?: keyof typeof SLACK } = {}): Timer {
    const mode = SLACK[options.slack ?? 'center'];
    if (mode === undefined) throw new TypeError("Timer.create: slack must be 'center', 'early' or 'late'");
    const { status, out } = sys.timerCreate(mode, ZX_CLOCK_MONOTONIC);
    check(status, 'Timer.create');
    return new Timer(out);
  }

  /** Arms it for `deadline` (monotonic nanoseconds, sys.deadlineAfter), clearing
   *  ZX_TIMER_SIGNALED until then. */
  set(deadline: bigint, slack: bigint | number = 0n): void {
    check(sys.timerSet(this.raw, deadline, slack), 'Timer.set');
  }

  /** Disarms it and clears ZX_TIMER_SIGNALED. */
  cancel(): void {
    check(sys.timerCancel(this.raw), 'Timer.cancel');
  }
}

registerHandleClass(ZX_OBJ_TYPE_TIMER, Timer);
