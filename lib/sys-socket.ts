// The socket syscalls of the `sys` face (README.md, "API"): zx_socket_create, write, read and
// set_disposition, returning statuses.
import { ZX_OK } from './constants';
import { bytesOrNull, u32, u64 } from './check';
import { native, pairResult } from './native';
import { EMPTY, pooledBytes } from './receive';
import type { CreatePairResult } from './native';

const scratch = native.scratch;
const nativeSocketWrite = native.socketWrite;
const nativeSocketRead = native.socketRead;

export interface SocketWriteResult {
  status: number;
  /** Bytes written: all of them for a datagram, possibly fewer for a stream. */
  actual: number;
}

export interface SocketReadResult {
  status: number;
  bytes: Buffer;
  actual: number;
}

/** options: ZX_SOCKET_STREAM (0) or ZX_SOCKET_DATAGRAM (1). */
export function socketCreate(options: number): CreatePairResult {
  const status = native.socketCreate(u32('socketCreate', 'options', options));
  return pairResult(status);
}

/** `bytes` may be null (nothing to write: the checks still run). */
export function socketWrite(h: number, options: number, bytes: Uint8Array | null): SocketWriteResult {
  const fn = 'socketWrite';
  const status = nativeSocketWrite(u32(fn, 'handle', h), u32(fn, 'options', options), bytesOrNull(fn, bytes) ?? EMPTY);
  return { status, actual: status === ZX_OK ? scratch[0] : 0 };
}

/** Up to `length` bytes (a size_t, as Zircon's: a safe integer or a bigint below 2^64; a
 *  read never takes more than is queued); ZX_SOCKET_PEEK leaves them queued. A datagram
 *  longer than `length` is cut to it and the rest discarded. */
export function socketRead(h: number, options: number, length: number | bigint): SocketReadResult {
  const fn = 'socketRead';
  // Into the read pool, as a channel read (lib/receive.ts: one copy, by the kernel).
  const r = nativeSocketRead(u32(fn, 'handle', h), u32(fn, 'options', options), u64(fn, 'length', length));
  if (typeof r === 'number' && r < 0) return { status: r, bytes: EMPTY, actual: 0 };
  const actual = scratch[0];
  if (typeof r === 'number') return { status: ZX_OK, bytes: pooledBytes(r, actual), actual };
  return { status: ZX_OK, bytes: actual === r.length ? r : r.subarray(0, actual), actual };
}

/** disposition / dispositionPeer: 0 (no change), ZX_SOCKET_DISPOSITION_WRITE_DISABLED or
 *  ZX_SOCKET_DISPOSITION_WRITE_ENABLED, for this end's writes and for the peer's. */
export function socketSetDisposition(h: number, disposition: number, dispositionPeer: number): number {
  const fn = 'socketSetDisposition';
  return native.socketSetDisposition(
    u32(fn, 'handle', h),
    u32(fn, 'disposition', disposition),
    u32(fn, 'dispositionPeer', dispositionPeer),
  );
}
