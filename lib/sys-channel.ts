// The sys face of channels: create, write, read (also batched and into a caller's buffer)
// and call, one function per syscall returning statuses (README.md, API).
import { ZX_CHANNEL_WRITE_USE_IOVEC, ZX_ERR_BUFFER_TOO_SMALL, ZX_OK, ZX_OK_ABOVE_HIGH_WATER } from './constants';
import { bytesOrNull, deadline as checkDeadline, handleList, isU32, u32 } from './check';
import { native, pairResult } from './native';
import { DISPOSITION_RESULT, DISPOSITION_WORDS, SCRATCH_HANDLES } from './native-layout';
import type { CreatePairResult, NativeCallArgs } from './native';
import { handleInfoAt, handleValueAt, readResult, receive, receiveMany } from './receive';
import type { HandleInfo, ReadManyResult, ReadResult } from './receive';

// Held here once: the addon's exports object is slow to load properties from.
const scratch = native.scratch;
const nativeChannelWrite = native.channelWrite;
const nativeChannelReadInto = native.channelReadInto;

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

// channelRead and channelReadEtc: the same checks; `withRights`: the rights are looked at
// and reported by `handleAt`.
function checkedRead<H>(fn: string, withRights: boolean, handleAt: (i: number) => H) {
  return (h: number, options: number, numBytes: number, numHandles: number): ReadResult<H> =>
    receive(
      u32(fn, 'handle', h),
      u32(fn, 'options', options),
      u32(fn, 'numBytes', numBytes),
      u32(fn, 'numHandles', numHandles),
      withRights,
      handleAt,
    );
}

export const channelRead = checkedRead('channelRead', false, handleValueAt);
export const channelReadEtc = checkedRead('channelReadEtc', true, handleInfoAt);

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

// A call through `call` (the addon's channelCall or channelCallAsync) with checked
// arguments; the dispositions' results are written back once it returns (the request is
// written by then).
function checkedCall<R>(
  call: (...args: NativeCallArgs) => R,
  fn: string,
  h: number,
  options: number,
  deadline: bigint,
  args: CallArgs | CallEtcArgs,
  etc: boolean,
): R {
  if (typeof args !== 'object' || args === null)
    throw new TypeError(`${fn}: args must be { bytes, handles, readNumBytes, readNumHandles }`);
  const list = etc ? dispositionList(fn, args.handles) : null;
  const r = call(
    u32(fn, 'handle', h),
    u32(fn, 'options', options),
    checkDeadline(fn, deadline),
    payload(fn, options, args.bytes),
    etc ? (list?.packed ?? null) : handleList(fn, args.handles),
    etc,
    u32(fn, 'readNumBytes', args.readNumBytes),
    u32(fn, 'readNumHandles', args.readNumHandles),
  );
  list?.writeResults();
  return r;
}

/** Writes a request (its first 4 bytes become the txid) and blocks the calling thread
 *  until the matching reply, the deadline, the peer's end or the handle's close. */
export function channelCall(h: number, options: number, deadline: bigint, args: CallArgs): ReadResult {
  return readResult(checkedCall(native.channelCall, 'channelCall', h, options, deadline, args, false), handleValueAt);
}

/** channelCall with handle dispositions out and handle infos back. */
export function channelCallEtc(
  h: number,
  options: number,
  deadline: bigint,
  args: CallEtcArgs,
): ReadResult<HandleInfo> {
  return readResult(checkedCall(native.channelCall, 'channelCallEtc', h, options, deadline, args, true), handleInfoAt);
}

/** channelCall without blocking the event loop: a promise of the channelCall shape. */
export function channelCallAsync(h: number, options: number, deadline: bigint, args: CallArgs): Promise<ReadResult> {
  return checkedCall(native.channelCallAsync, 'channelCallAsync', h, options, deadline, args, false).then((r) => ({
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
  return checkedCall(native.channelCallAsync, 'channelCallEtcAsync', h, options, deadline, args, true);
}
