// The `sys` face: one function per Zircon syscall, returning statuses (SPEC §2).
import {
  ZX_CHANNEL_WRITE_USE_IOVEC,
  ZX_ERR_BUFFER_TOO_SMALL,
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
  ZX_OK_ABOVE_HIGH_WATER,
  ZX_TIME_INFINITE,
} from './constants';
import { bytesOrNull, deadline as checkDeadline, handleList, isU32, nanoseconds, u32 } from './check';
import { native, oneHandleResult, pairResult } from './native';
import { DISPOSITION_RESULT, DISPOSITION_WORDS, SCRATCH_HANDLES } from './native-layout';
import type { CreatePairResult, OneHandleResult } from './native';
export type { CreatePairResult, OneHandleResult } from './native';
import { handleInfoAt, handleValueAt, readResult, receive, receiveMany } from './receive';
import type { HandleInfo, ReadManyResult, ReadResult } from './receive';

export * from './constants';
export { statusToString } from './status';
// Objects beyond channels: one module each.
export * from './sys-event';
export * from './sys-vmo';
export * from './sys-socket';
export * from './sys-port';
export * from './sys-timer';
export type { HandleInfo, ReadManyResult, ReadResult } from './receive';

// Held here once: the addon's exports object is slow to load properties from.
const scratch = native.scratch;
const nativeChannelWrite = native.channelWrite;
const nativeChannelReadInto = native.channelReadInto;
const nativeObjectWaitOne = native.objectWaitOne;
const nativeObjectWaitOneAsync = native.objectWaitOneAsync;

export interface ReadIntoResult {
  status: number;
  actualBytes: number;
  actualHandles: number;
}

export interface HandleDisposition {
  operation: number;
  handle: number;
  type: number;
  rights: number;
  result: number;
}

export interface HandleBasicInfo {
  koid: bigint;
  rights: number;
  type: number;
  relatedKoid: bigint;
}

export function channelCreate(options: number): CreatePairResult {
  const status = native.channelCreate(u32('channelCreate', 'options', options));
  return pairResult(status);
}

// Unknown option bits: INVALID_ARGS from the options (handles consumed) before the bytes
// are looked at, as Zircon does, so they go to the addon as none.
function payload(fn: string, options: number, bytes: unknown): Uint8Array | Uint8Array[] | null {
  if (options & ~ZX_CHANNEL_WRITE_USE_IOVEC) return null;
  if (!(options & ZX_CHANNEL_WRITE_USE_IOVEC)) return bytesOrNull(fn, bytes);
  if (bytes === null || bytes === undefined) return null;
  if (!Array.isArray(bytes) || !bytes.every((b) => b instanceof Uint8Array)) {
    throw new TypeError(`${fn}: with ZX_CHANNEL_WRITE_USE_IOVEC, bytes must be an array of Uint8Array`);
  }
  return bytes;
}

/** Handles are consumed on success and on every failure. */
export function channelWrite(
  h: number,
  options: number,
  bytes: Uint8Array | Uint8Array[] | null,
  handles: ArrayLike<number> | null,
): number {
  const fn = 'channelWrite';
  const status = nativeChannelWrite(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    payload(fn, options, bytes),
    handleList(fn, handles),
  );
  return status === ZX_OK_ABOVE_HIGH_WATER ? ZX_OK : status;
}

/** Each failing disposition gets its `result` set; moved handles are consumed. */
export function channelWriteEtc(
  h: number,
  options: number,
  bytes: Uint8Array | Uint8Array[] | null,
  dispositions: HandleDisposition[] | null,
): number {
  const fn = 'channelWriteEtc';
  const list = dispositionList(fn, dispositions);
  const status = native.channelWriteEtc(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    payload(fn, options, bytes),
    list?.packed ?? null,
  );
  list?.writeResults();
  return status;
}

export function channelRead(h: number, options: number, numBytes: number, numHandles: number): ReadResult {
  const fn = 'channelRead';
  return receive(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    u32(fn, 'numBytes', numBytes),
    u32(fn, 'numHandles', numHandles),
    false,
    handleValueAt,
  );
}

export function channelReadEtc(
  h: number,
  options: number,
  numBytes: number,
  numHandles: number,
): ReadResult<HandleInfo> {
  const fn = 'channelReadEtc';
  return receive(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    u32(fn, 'numBytes', numBytes),
    u32(fn, 'numHandles', numHandles),
    true,
    handleInfoAt,
  );
}

/** zx_channel_read's own shape: the payload goes into `bytes` (numBytes is its length),
 *  the handle values into `handles` (numHandles is its length; null: none). Statuses and
 *  sizes as channelRead: BUFFER_TOO_SMALL leaves the message queued (unless
 *  ZX_CHANNEL_READ_MAY_DISCARD) and writes nothing. Past actualBytes (or after a failed
 *  read, IO_DATA_INTEGRITY for one) the buffer's bytes are unspecified. */
export function channelReadInto(
  h: number,
  options: number,
  bytes: Uint8Array,
  handles: Uint32Array | number[] | null,
): ReadIntoResult {
  const fn = 'channelReadInto';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array`);
  if (handles !== null && handles !== undefined && !Array.isArray(handles) && !(handles instanceof Uint32Array))
    throw new TypeError(`${fn}: handles must be a Uint32Array, an array or null`);
  const status = nativeChannelReadInto(u32(fn, 'handle', h), u32(fn, 'options', options), bytes, handles?.length ?? 0);
  if (status === ZX_OK) {
    const count = scratch[1];
    for (let i = 0; i < count; i++) handles![i] = scratch[SCRATCH_HANDLES + i];
    return { status, actualBytes: scratch[0], actualHandles: count };
  }
  return status === ZX_ERR_BUFFER_TOO_SMALL
    ? { status, actualBytes: scratch[0], actualHandles: scratch[1] }
    : { status, actualBytes: 0, actualHandles: 0 };
}

export interface WriteManyResult {
  status: number;
  /** How many messages, from the first, were sent or queued. */
  accepted: number;
}

/** Batched write, an extension Zircon lacks (docs/performance.md). Message i is
 *  bytes[ends[i - 1] (0 for the first), ends[i]) with handles[i] (moved). The messages are
 *  taken in order, each as channelWrite takes it; the call stops at the first one not
 *  accepted, whose status it returns and whose handles it consumes. The handles of the
 *  messages after it are left untouched. */
export function channelWriteMany(
  h: number,
  options: number,
  bytes: Uint8Array,
  ends: Uint32Array | readonly number[],
  handles?: readonly (ArrayLike<number> | null | undefined)[] | null,
): WriteManyResult {
  const fn = 'channelWriteMany';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array`);
  if (!(ends instanceof Uint32Array)) {
    if (!Array.isArray(ends)) throw new TypeError(`${fn}: ends must be a Uint32Array or an array`);
    ends.forEach((end, i) => u32(fn, `ends[${i}]`, end));
    ends = Uint32Array.from(ends);
  }
  let previous = 0;
  for (let i = 0; i < ends.length; i++) {
    if (ends[i] < previous || ends[i] > bytes.length)
      throw new TypeError(`${fn}: ends[${i}] must be between ends[${i - 1}] (or 0) and bytes.length`);
    previous = ends[i];
  }
  let lists: (number[] | null)[] | null = null;
  if (handles !== null && handles !== undefined) {
    if (!Array.isArray(handles)) throw new TypeError(`${fn}: handles must be an array of handle lists or null`);
    lists = handles.map((list, i) => handleList(`${fn}: handles[${i}]`, list));
  }
  const status = native.channelWriteMany(u32(fn, 'handle', h), u32(fn, 'options', options), bytes, ends, lists);
  return { status: status === ZX_OK_ABOVE_HIGH_WATER ? ZX_OK : status, accepted: scratch[0] };
}

/** Batched read, an extension Zircon lacks (docs/performance.md): up to `max` messages
 *  (1 to ZX_CHANNEL_READ_MANY_MAX) in one call (one recvmmsg), whole (never
 *  BUFFER_TOO_SMALL), packed into one Buffer (see ReadManyResult). A record that fails
 *  its checks takes its place with its status. ZX_OK with at least one message, else
 *  SHOULD_WAIT, PEER_CLOSED, or the handle's status. */
export function channelReadMany(h: number, options: number, max: number): ReadManyResult {
  const fn = 'channelReadMany';
  return receiveMany(u32(fn, 'handle', h), u32(fn, 'options', options), u32(fn, 'max', max));
}

export interface CallArgs {
  bytes: Uint8Array | Uint8Array[] | null;
  handles?: ArrayLike<number> | null;
  readNumBytes: number;
  readNumHandles: number;
}

export interface CallEtcArgs {
  bytes: Uint8Array | Uint8Array[] | null;
  handles?: HandleDisposition[] | null;
  readNumBytes: number;
  readNumHandles: number;
}

// Dispositions go to the addon packed, DISPOSITION_WORDS numbers each: operation, handle, type, rights,
// result (which the addon fills). `writeResults` copies failures back to the objects.
interface PackedDispositions {
  packed: Uint32Array;
  writeResults(): void;
}

const DISPOSITION_FIELDS = ['operation', 'handle', 'type', 'rights'] as const;

function dispositionList(fn: string, dispositions: unknown): PackedDispositions | null {
  if (dispositions === null || dispositions === undefined) return null;
  if (!Array.isArray(dispositions)) throw new TypeError(`${fn}: dispositions must be an array or null`);
  const list = dispositions as HandleDisposition[];
  const packed = new Uint32Array(list.length * DISPOSITION_WORDS);
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (typeof d !== 'object' || d === null) throw new TypeError(`${fn}: dispositions[${i}] must be an object`);
    for (let f = 0; f < 4; f++) {
      const value = d[DISPOSITION_FIELDS[f]];
      if (!isU32(value)) u32(fn, `dispositions[${i}].${DISPOSITION_FIELDS[f]}`, value);
      packed[i * DISPOSITION_WORDS + f] = value;
    }
  }
  return {
    packed,
    writeResults() {
      for (let i = 0; i < list.length; i++) {
        const result = packed[i * DISPOSITION_WORDS + DISPOSITION_RESULT] | 0;
        if (result !== ZX_OK) list[i].result = result;
      }
    },
  };
}

type CallNativeArgs = Parameters<typeof native.channelCall>;

// Checked arguments of a call, and what to do with dispositions' results after it.
function callArgs(
  fn: string,
  h: number,
  options: number,
  deadline: bigint,
  args: CallArgs | CallEtcArgs,
  etc: boolean,
): { native: CallNativeArgs; after(): void } {
  if (typeof args !== 'object' || args === null)
    throw new TypeError(`${fn}: args must be { bytes, handles, readNumBytes, readNumHandles }`);
  const list = etc ? dispositionList(fn, args.handles) : null;
  return {
    native: [
      u32(fn, 'handle', h),
      u32(fn, 'options', options),
      checkDeadline(fn, deadline),
      payload(fn, options, args.bytes),
      etc ? (list?.packed ?? null) : handleList(fn, args.handles),
      etc,
      u32(fn, 'readNumBytes', args.readNumBytes),
      u32(fn, 'readNumHandles', args.readNumHandles),
    ],
    after: () => list?.writeResults(),
  };
}

function callSync<H>(
  fn: string,
  h: number,
  options: number,
  deadline: bigint,
  args: CallArgs | CallEtcArgs,
  etc: boolean,
  handleAt: (i: number) => H,
) {
  const call = callArgs(fn, h, options, deadline, args, etc);
  const r = native.channelCall(...call.native);
  call.after();
  return readResult(r, handleAt);
}

function callAsync(
  fn: string,
  h: number,
  options: number,
  deadline: bigint,
  args: CallArgs | CallEtcArgs,
  etc: boolean,
) {
  const call = callArgs(fn, h, options, deadline, args, etc);
  const pending = native.channelCallAsync(...call.native); // the request is written now
  call.after();
  return pending;
}

/** Writes a request (its first 4 bytes become the txid) and blocks the calling thread
 *  until the matching reply, the deadline, the peer's end or the handle's close. */
export function channelCall(h: number, options: number, deadline: bigint, args: CallArgs): ReadResult {
  return callSync('channelCall', h, options, deadline, args, false, handleValueAt);
}

/** channelCall with handle dispositions out and handle infos back. */
export function channelCallEtc(
  h: number,
  options: number,
  deadline: bigint,
  args: CallEtcArgs,
): ReadResult<HandleInfo> {
  return callSync('channelCallEtc', h, options, deadline, args, true, handleInfoAt);
}

/** channelCall without blocking the event loop: a promise of the channelCall shape. */
export function channelCallAsync(h: number, options: number, deadline: bigint, args: CallArgs): Promise<ReadResult> {
  return callAsync('channelCallAsync', h, options, deadline, args, false).then((r) => ({
    ...r,
    handles: r.handles.map((info) => info.handle),
  }));
}

/** channelCallEtc without blocking the event loop. */
export function channelCallEtcAsync(
  h: number,
  options: number,
  deadline: bigint,
  args: CallEtcArgs,
): Promise<ReadResult<HandleInfo>> {
  return callAsync('channelCallEtcAsync', h, options, deadline, args, true);
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
 *  ZX_RIGHT_GET_PROPERTY; ZX_PROP_VMO_CONTENT_SIZE (a bigint: a VMO's size). Zircon's
 *  order: BAD_HANDLE → ACCESS_DENIED → INVALID_ARGS (a property Zircon lacks) →
 *  WRONG_TYPE (one of another type of object); the socket thresholds: NOT_SUPPORTED. */
export function objectGetProperty(h: number, property: number): { status: number; value: string | bigint | null } {
  const fn = 'objectGetProperty';
  const r = native.objectGetProperty(u32(fn, 'handle', h), u32(fn, 'property', property));
  return typeof r === 'number' ? { status: r, value: null } : { status: r[0], value: r[1] };
}

/** zx_object_set_property: ZX_PROP_NAME (a string; its first ZX_MAX_NAME_LEN - 1 bytes of
 *  UTF-8 are kept) on any object whose handle has ZX_RIGHT_SET_PROPERTY. The name stays
 *  with the object in this process (docs/objects.md). Checks as objectGetProperty; the
 *  other properties Zircon sets here: NOT_SUPPORTED. */
export function objectSetProperty(h: number, property: number, value: string | bigint): number {
  const fn = 'objectSetProperty';
  let bytes: Uint8Array | null = null;
  if (typeof value === 'string') bytes = Buffer.from(value);
  else if (typeof value !== 'bigint') throw new TypeError(`${fn}: value must be a string (a name) or a bigint`);
  return native.objectSetProperty(u32(fn, 'handle', h), u32(fn, 'property', property), bytes);
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
