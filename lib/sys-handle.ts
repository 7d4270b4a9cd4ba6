// The sys face of handles and of what every object has: close, duplicate, replace, waits,
// info and properties (README.md, API).
import {
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_FOUND,
  ZX_ERR_OUT_OF_RANGE,
  ZX_HANDLE_FIXED_BITS_MASK,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_COUNT,
  ZX_INFO_HANDLE_VALID,
  ZX_INFO_SOCKET,
  ZX_INFO_TIMER,
  type ZX_INFO_VMO,
  type ZX_INFO_VMO_V1,
  type ZX_INFO_VMO_V2,
  ZX_OK,
} from './constants';
import { deadline as checkDeadline, handleList, u32, u64 } from './check';
import { native, oneHandleResult } from './native';
import type { OneHandleResult } from './native';

// Held here once: the addon's exports object is slow to load properties from.
const scratch = native.scratch;
const nativeObjectWaitOne = native.objectWaitOne;
const nativeObjectWaitOneAsync = native.objectWaitOneAsync;

export interface HandleBasicInfo {
  koid: bigint;
  rights: number;
  type: number;
  relatedKoid: bigint;
}

/** objectWaitOne without blocking the event loop. Never rejects: the status says it all
 *  (TIMED_OUT at the deadline; CANCELED with ZX_SIGNAL_HANDLE_CLOSED if the handle is closed). */
export function objectWaitOneAsync(
  h: number,
  signals: number,
  deadline: bigint,
): Promise<{ status: number; observed: number }> {
  const fn = 'objectWaitOneAsync';
  return nativeObjectWaitOneAsync(u32(fn, 'handle', h), u32(fn, 'signals', signals), checkDeadline(fn, deadline));
}

/** Blocks the calling thread until a signal in `signals` is set or `deadline` passes. */
export function objectWaitOne(h: number, signals: number, deadline: bigint): { status: number; observed: number } {
  const fn = 'objectWaitOne';
  const status = nativeObjectWaitOne(u32(fn, 'handle', h), u32(fn, 'signals', signals), checkDeadline(fn, deadline));
  return { status, observed: scratch[0] };
}

export interface WaitItem {
  handle: number;
  waitfor: number;
  pending: number;
}

/** Blocks the calling thread until one item's signals are met; every item's `pending`
 *  gets that object's signals. Up to ZX_WAIT_MANY_MAX_ITEMS (64) items. */
export function objectWaitMany(items: WaitItem[], deadline: bigint): number {
  const fn = 'objectWaitMany';
  if (!Array.isArray(items)) throw new TypeError(`${fn}: items must be an array of { handle, waitfor, pending }`);
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null) throw new TypeError(`${fn}: items[${i}] must be an object`);
    u32(fn, `items[${i}].handle`, item.handle);
    u32(fn, `items[${i}].waitfor`, item.waitfor);
  });
  return native.objectWaitMany(items, checkDeadline(fn, deadline));
}

/** zx_info_handle_count_t: the handles to the object in this process's table. */
export interface InfoHandleCount {
  handleCount: number;
}

/** zx_info_socket_t (sizes in bytes, as Linux reports them: docs/objects.md). */
export interface InfoSocket {
  options: number;
  rxBufMax: bigint;
  rxBufSize: bigint;
  rxBufAvailable: bigint;
  txBufMax: bigint;
  txBufSize: bigint;
}

/** zx_info_vmo_t; ZX_INFO_VMO_V1 leaves out the last three fields, ZX_INFO_VMO_V2 the last. */
export interface InfoVmo {
  koid: bigint;
  name: string;
  sizeBytes: bigint;
  parentKoid: bigint;
  numChildren: bigint;
  numMappings: bigint;
  shareCount: bigint;
  flags: number;
  committedBytes: bigint;
  handleRights: number;
  cachePolicy: number;
  metadataBytes?: bigint;
  committedChangeEvents?: bigint;
  populatedBytes?: bigint;
}

/** zx_info_timer_t: the slack mode it was created with (in this process; 0 elsewhere),
 *  the clock, the deadline it will fire at (0n when not armed) and the slack it was set with. */
export interface InfoTimer {
  options: number;
  clockId: number;
  deadline: bigint;
  slack: bigint;
}

const u64At = (b: Buffer, at: number) => b.readBigUInt64LE(at);

// A record in Zircon's layout (LP64, little-endian) as an object with camelCase fields.
function infoRecord(topic: number, b: Buffer): InfoHandleCount | InfoSocket | InfoVmo | InfoTimer {
  if (topic === ZX_INFO_HANDLE_COUNT) return { handleCount: b.readUInt32LE(0) };
  if (topic === ZX_INFO_TIMER)
    return {
      options: b.readUInt32LE(0),
      clockId: b.readUInt32LE(4),
      deadline: b.readBigInt64LE(8),
      slack: b.readBigInt64LE(16),
    };
  if (topic === ZX_INFO_SOCKET) {
    return {
      options: b.readUInt32LE(0),
      rxBufMax: u64At(b, 8),
      rxBufSize: u64At(b, 16),
      rxBufAvailable: u64At(b, 24),
      txBufMax: u64At(b, 32),
      txBufSize: u64At(b, 40),
    };
  }
  const name = b.subarray(8, 40);
  const end = name.indexOf(0);
  const vmo: InfoVmo = {
    koid: u64At(b, 0),
    name: name.subarray(0, end < 0 ? name.length : end).toString(),
    sizeBytes: u64At(b, 40),
    parentKoid: u64At(b, 48),
    numChildren: u64At(b, 56),
    numMappings: u64At(b, 64),
    shareCount: u64At(b, 72),
    flags: b.readUInt32LE(80),
    committedBytes: u64At(b, 88),
    handleRights: b.readUInt32LE(96),
    cachePolicy: b.readUInt32LE(100),
  };
  if (b.length >= 120) Object.assign(vmo, { metadataBytes: u64At(b, 104), committedChangeEvents: u64At(b, 112) });
  if (b.length >= 128) vmo.populatedBytes = u64At(b, 120);
  return vmo;
}

/** ZX_INFO_HANDLE_VALID (info null), ZX_INFO_HANDLE_BASIC, ZX_INFO_HANDLE_COUNT,
 *  ZX_INFO_SOCKET, ZX_INFO_TIMER and ZX_INFO_VMO (also _V1, _V2), in Zircon's order of checks: a topic
 *  Zircon doesn't know is NOT_SUPPORTED before the handle is looked at; one it knows for
 *  objects this library lacks checks the handle as Zircon does (docs/objects.md). */
export function objectGetInfo(
  h: number,
  topic: typeof ZX_INFO_HANDLE_COUNT,
): { status: number; info: InfoHandleCount | null };
export function objectGetInfo(h: number, topic: typeof ZX_INFO_SOCKET): { status: number; info: InfoSocket | null };
export function objectGetInfo(h: number, topic: typeof ZX_INFO_TIMER): { status: number; info: InfoTimer | null };
export function objectGetInfo(
  h: number,
  topic: typeof ZX_INFO_VMO | typeof ZX_INFO_VMO_V1 | typeof ZX_INFO_VMO_V2,
): { status: number; info: InfoVmo | null };
export function objectGetInfo(h: number, topic: number): { status: number; info: HandleBasicInfo | null };
export function objectGetInfo(
  h: number,
  topic: number,
): { status: number; info: HandleBasicInfo | InfoHandleCount | InfoSocket | InfoVmo | InfoTimer | null } {
  const fn = 'objectGetInfo';
  const r = native.objectGetInfo(u32(fn, 'handle', h), u32(fn, 'topic', topic));
  if (typeof r === 'number') return { status: r, info: null };
  if (r.length === 2) return { status: r[0] as number, info: infoRecord(topic, r[1] as Buffer) };
  const [status, koid, rights, type, relatedKoid] = r as [number, bigint, number, number, bigint];
  return { status, info: { koid, rights, type, relatedKoid } };
}

/** zx_handle_check_valid: INVALID_ARGS for ZX_HANDLE_INVALID, OUT_OF_RANGE for a value
 *  whose two low bits are not both set, NOT_FOUND for one that names no handle, else OK. */
export function handleCheckValid(h: number): number {
  u32('handleCheckValid', 'handle', h);
  if (h === ZX_HANDLE_INVALID) return ZX_ERR_INVALID_ARGS;
  if ((h & ZX_HANDLE_FIXED_BITS_MASK) !== ZX_HANDLE_FIXED_BITS_MASK) return ZX_ERR_OUT_OF_RANGE;
  return native.objectGetInfo(h, ZX_INFO_HANDLE_VALID) === ZX_OK ? ZX_OK : ZX_ERR_NOT_FOUND;
}

/** zx_object_get_property: ZX_PROP_NAME (a string) on any object whose handle has
 *  ZX_RIGHT_GET_PROPERTY; ZX_PROP_VMO_CONTENT_SIZE (a bigint: the size asked at creation,
 *  by vmoSetSize or by the property, in this process). Zircon's order: BAD_HANDLE →
 *  ACCESS_DENIED → INVALID_ARGS (a property Zircon lacks) → WRONG_TYPE (one of another type
 *  of object); the socket thresholds: NOT_SUPPORTED (docs/objects.md). */
export function objectGetProperty(h: number, property: number): { status: number; value: string | bigint | null } {
  const fn = 'objectGetProperty';
  const r = native.objectGetProperty(u32(fn, 'handle', h), u32(fn, 'property', property));
  return typeof r === 'number' ? { status: r, value: null } : { status: r[0], value: r[1] };
}

/** zx_object_set_property: ZX_PROP_NAME (a string; its first ZX_MAX_NAME_LEN - 1 bytes of
 *  UTF-8 are kept) on any object whose handle has ZX_RIGHT_SET_PROPERTY;
 *  ZX_PROP_VMO_CONTENT_SIZE (a bigint below 2^64; also needs ZX_RIGHT_WRITE, checked before
 *  the type; the bytes past it read as zeros). Both stay with the object in this process
 *  (docs/objects.md). Checks as objectGetProperty; the socket thresholds: NOT_SUPPORTED. */
export function objectSetProperty(h: number, property: number, value: string | bigint): number {
  const fn = 'objectSetProperty';
  let checked: Uint8Array | bigint;
  if (typeof value === 'string') checked = Buffer.from(value);
  else if (typeof value === 'bigint') checked = u64(fn, 'value', value) as bigint;
  else throw new TypeError(`${fn}: value must be a string (a name) or a bigint`);
  return native.objectSetProperty(u32(fn, 'handle', h), u32(fn, 'property', property), checked);
}

export function handleClose(h: number): number {
  return native.handleClose(u32('handleClose', 'handle', h));
}

export function handleCloseMany(handles: ArrayLike<number>): number {
  return native.handleCloseMany(handleList('handleCloseMany', handles) ?? []);
}

export function handleDuplicate(h: number, rights: number): OneHandleResult {
  const fn = 'handleDuplicate';
  const status = native.handleDuplicate(u32(fn, 'handle', h), u32(fn, 'rights', rights));
  return oneHandleResult(status);
}

export function handleReplace(h: number, rights: number): OneHandleResult {
  const fn = 'handleReplace';
  const status = native.handleReplace(u32(fn, 'handle', h), u32(fn, 'rights', rights));
  return oneHandleResult(status);
}
