// Argument checks for the JS-level misuse that README.md ("API") answers with TypeError (Zircon
// statuses are returned, never thrown).

export function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export function u32(fn: string, name: string, value: unknown): number {
  if (!isU32(value)) {
    throw new TypeError(`${fn}: ${name} must be an unsigned 32-bit integer, got ${describe(value)}`);
  }
  return value;
}

export function i32(fn: string, name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) return value;
  throw new TypeError(`${fn}: ${name} must be a signed 32-bit integer, got ${describe(value)}`);
}

export function bytesOrNull(fn: string, value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`${fn}: bytes must be a Uint8Array or null, got ${describe(value)}`);
}

export function handleList(fn: string, value: unknown): number[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) && !(value instanceof Uint32Array)) {
    throw new TypeError(`${fn}: handles must be an array of handle values or null, got ${describe(value)}`);
  }
  const list = (Array.isArray(value) ? value : Array.from(value as Uint32Array)) as unknown[];
  // The name of a bad entry is built only when there is one (this runs on every write).
  for (let i = 0; i < list.length; i++) if (!isU32(list[i])) u32(fn, `handles[${i}]`, list[i]);
  return list as number[];
}

/** A deadline: an absolute time in nanoseconds on the monotonic clock, as a bigint. A
 *  number is refused: 1000 would mean 1 µs after boot, never what was meant (the classes
 *  take timeouts in milliseconds). */
export function deadline(fn: string, value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  throw new TypeError(
    `${fn}: deadline must be a bigint of nanoseconds on the monotonic clock (sys.deadlineAfter), got ${describe(value)}`,
  );
}

/** A duration in nanoseconds: a bigint, or an integer number. */
export function nanoseconds(fn: string, value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw new TypeError(`${fn}: ns must be a bigint or an integer number of nanoseconds, got ${describe(value)}`);
}

const U64_LIMIT = 1n << 64n;

/** A size or an offset (uint64_t): a non-negative safe integer or a bigint below 2^64. */
export function u64(fn: string, name: string, value: unknown): number | bigint {
  if (
    typeof value === 'number'
      ? Number.isSafeInteger(value) && value >= 0
      : typeof value === 'bigint' && value >= 0n && value < U64_LIMIT
  ) {
    return value as number | bigint;
  }
  throw new TypeError(
    `${fn}: ${name} must be a non-negative safe integer or a bigint below 2^64, got ${describe(value)}`,
  );
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}
