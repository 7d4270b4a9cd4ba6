// The sys face of the monotonic clock, the one deadlines use.
import { ZX_TIME_INFINITE } from './constants';
import { nanoseconds } from './check';

/** Nanoseconds on the monotonic clock (the clock deadlines use). */
export function clockGetMonotonic(): bigint {
  return process.hrtime.bigint();
}

/** Now plus `ns`, saturating at ZX_TIME_INFINITE. */
export function deadlineAfter(ns: bigint | number): bigint {
  const delta = nanoseconds('deadlineAfter', ns);
  const sum = clockGetMonotonic() + delta;
  // biome-ignore lint/complexity/useMathMinMax: Math.min takes no bigints
  return sum > ZX_TIME_INFINITE ? ZX_TIME_INFINITE : sum;
}
