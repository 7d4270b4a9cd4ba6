// The `sys` face of VMOs (zx_vmo_*). Sizes and offsets go in as a number or a bigint and
// come back as a bigint (uint64_t, like koids). Mappings are on the Vmo class (lib/vmo.ts).
import { ZX_OK } from './constants';
import { u32, u64 } from './check';
import { native, oneHandleResult } from './native';
import type { OneHandleResult } from './native';

const EMPTY = Buffer.alloc(0);

/** A new VMO of `size` bytes rounded up to ZX_PAGE_SIZE, zero-filled. Options: 0,
 *  ZX_VMO_RESIZABLE (the handle also gets ZX_RIGHT_RESIZE), ZX_VMO_DISCARDABLE. */
export function vmoCreate(size: number | bigint, options: number): OneHandleResult {
  const fn = 'vmoCreate';
  const status = native.vmoCreate(u64(fn, 'size', size), u32(fn, 'options', options));
  return oneHandleResult(status);
}

/** Exactly `length` bytes from `offset` (needs ZX_RIGHT_READ); `bytes` is empty on failure. */
export function vmoRead(
  h: number,
  length: number | bigint,
  offset: number | bigint,
): { status: number; bytes: Buffer } {
  const fn = 'vmoRead';
  const r = native.vmoRead(u32(fn, 'handle', h), u64(fn, 'length', length), u64(fn, 'offset', offset));
  return typeof r === 'number' ? { status: r, bytes: EMPTY } : { status: ZX_OK, bytes: r };
}

/** Writes all of `bytes` at `offset` (needs ZX_RIGHT_WRITE); never past the size. */
export function vmoWrite(h: number, bytes: Uint8Array, offset: number | bigint): number {
  const fn = 'vmoWrite';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array`);
  return native.vmoWrite(u32(fn, 'handle', h), bytes, u64(fn, 'offset', offset));
}

/** The size in bytes (a multiple of ZX_PAGE_SIZE); 0n on failure. */
export function vmoGetSize(h: number): { status: number; size: bigint } {
  const r = native.vmoGetSize(u32('vmoGetSize', 'handle', h));
  return typeof r === 'bigint' ? { status: ZX_OK, size: r } : { status: r, size: 0n };
}

/** Resizes a VMO created ZX_VMO_RESIZABLE (needs ZX_RIGHT_WRITE and ZX_RIGHT_RESIZE); the
 *  size rounds up to ZX_PAGE_SIZE and the bytes past `size` in its last page read as zero. */
export function vmoSetSize(h: number, size: number | bigint): number {
  const fn = 'vmoSetSize';
  return native.vmoSetSize(u32(fn, 'handle', h), u64(fn, 'size', size));
}

/** zx_vmo_op_range: ZX_VMO_OP_COMMIT, DECOMMIT and ZERO (needs WRITE; fallocate(2) on the
 *  memfd: decommitted and zeroed pages read as zeros and give their memory back); the
 *  cache operations and the hints (DONT_NEED, ALWAYS_NEED, PREFETCH) check their rights and
 *  range and do nothing; LOCK, TRY_LOCK and UNLOCK: NOT_SUPPORTED (no VMO here is
 *  discardable). OUT_OF_RANGE past the size; another op: INVALID_ARGS. */
export function vmoOpRange(h: number, op: number, offset: number | bigint, size: number | bigint): number {
  const fn = 'vmoOpRange';
  return native.vmoOpRange(u32(fn, 'handle', h), u32(fn, 'op', op), u64(fn, 'offset', offset), u64(fn, 'size', size));
}

/** zx_vmo_create_child: ZX_VMO_CHILD_SNAPSHOT or ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE
 *  (with ZX_VMO_CHILD_RESIZABLE, ZX_VMO_CHILD_NO_WRITE): a new VMO of `size` (rounded up
 *  to a page) holding a copy of the parent's bytes from `offset`, made now (zeros past the
 *  parent's end). Needs DUPLICATE and READ. SLICE, REFERENCE and SNAPSHOT_MODIFIED, which
 *  share pages with the parent, answer NOT_SUPPORTED (docs/objects.md). */
export function vmoCreateChild(
  h: number,
  options: number,
  offset: number | bigint,
  size: number | bigint,
): OneHandleResult {
  const fn = 'vmoCreateChild';
  const status = native.vmoCreateChild(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    u64(fn, 'offset', offset),
    u64(fn, 'size', size),
  );
  return oneHandleResult(status);
}
