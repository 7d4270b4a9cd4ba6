// The sys face of timers (zx_timer_*): a timerfd on the monotonic clock (docs/objects.md).
import { deadline as checkDeadline, nanoseconds, u32 } from './check';
import { native, oneHandleResult } from './native';
import type { OneHandleResult } from './native';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A new timer: options ZX_TIMER_SLACK_CENTER, _EARLY or _LATE, clockId
 *  ZX_CLOCK_MONOTONIC (anything else: INVALID_ARGS); rights ZX_DEFAULT_TIMER_RIGHTS. */
export function timerCreate(options: number, clockId: number): OneHandleResult {
  const fn = 'timerCreate';
  return oneHandleResult(native.timerCreate(u32(fn, 'options', options), u32(fn, 'clockId', clockId)));
}

/** Arms the timer for `deadline` (monotonic nanoseconds; ZX_TIME_INFINITE: never), clearing
 *  ZX_TIMER_SIGNALED, which comes on at the deadline. `slack` (nanoseconds, ≥ 0, else
 *  OUT_OF_RANGE, checked first) is recorded; Linux fires at the deadline. Needs WRITE. */
export function timerSet(h: number, deadline: bigint, slack: bigint | number): number {
  const fn = 'timerSet';
  const d = checkDeadline(fn, deadline);
  const s = nanoseconds(fn, slack);
  if (d < INT64_MIN || d > INT64_MAX || s < INT64_MIN || s > INT64_MAX)
    throw new TypeError(`${fn}: deadline and slack must fit in 64 bits`);
  return native.timerSet(u32(fn, 'handle', h), d, s);
}

/** Disarms the timer and clears ZX_TIMER_SIGNALED. Needs WRITE. */
export function timerCancel(h: number): number {
  return native.timerCancel(u32('timerCancel', 'handle', h));
}
