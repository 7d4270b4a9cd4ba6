// How the addon's answer to a read or a call becomes a result: the read pool the addon
// receives into and the scratch array where it leaves sizes and handles. Shared by the
// sys face and the classes.
import { ZX_ERR_BUFFER_TOO_SMALL, ZX_OK } from './constants';
import { native } from './native';
import { SCRATCH_HANDLES, SCRATCH_RIGHTS, SCRATCH_TYPES } from './native-layout';

export interface ReadResult<H = number> {
  status: number;
  bytes: Buffer;
  handles: H[];
  actualBytes: number;
  actualHandles: number;
}

export interface HandleInfo {
  handle: number;
  type: number;
  rights: number;
}

// Held here once: the addon's exports object is slow to load properties from.
const scratch = native.scratch;
const nativeChannelRead = native.channelRead;
const nativeChannelReadEtc = native.channelReadEtc;
const RECEIVE_BYTES = native.receiveBufferBytes;
export const EMPTY = Buffer.alloc(0);

// channelRead (and socketRead) receive straight into the read pool, so a message's bytes
// are copied once, by the kernel. Smaller messages are then copied out (Node's own
// small-buffer pool makes that cheap) and the same room serves the next read; larger ones are handed out as a
// view and the next read starts after them. The pool is a slab of several records'
// room, replaced when what is left can't take a whole record: one allocation for
// several large messages, and a view never shares bytes with another message.
const COPY_OUT_BELOW = 32 * 1024;
const SLAB_BYTES = 8 * RECEIVE_BYTES;
const nativeMoveReadPool = native.moveReadPool;
let slab = newSlab();

function newSlab(): Buffer {
  const fresh = Buffer.allocUnsafeSlow(SLAB_BYTES);
  native.setReadPool(fresh);
  return fresh;
}

/** The `length` bytes a read (of a channel or a socket) left at `offset` in the read pool. */
export function pooledBytes(offset: number, length: number): Buffer {
  if (length < COPY_OUT_BELOW) {
    const bytes = Buffer.allocUnsafe(length);
    slab.copy(bytes, 0, offset, offset + length);
    return bytes;
  }
  const view = slab.subarray(offset, offset + length);
  // The next record lands past it (payloads stay 8-byte aligned), or in a new slab.
  if (!nativeMoveReadPool((offset + length + 7) & ~7)) slab = newSlab();
  return view;
}

export const handleValueAt = (i: number): number => scratch[SCRATCH_HANDLES + i];
export const handleInfoAt = (i: number): HandleInfo => ({
  handle: scratch[SCRATCH_HANDLES + i],
  type: scratch[SCRATCH_TYPES + i],
  rights: scratch[SCRATCH_RIGHTS + i],
});
/** For reads that don't ask for rights (the classes wrap handles by type). */
export const handleTypeAt = (i: number): { handle: number; type: number } => ({
  handle: scratch[SCRATCH_HANDLES + i],
  type: scratch[SCRATCH_TYPES + i],
});

/** A read's (or call's) native answer: on ZX_OK a Buffer or an offset in the read pool
 *  (≥ 0), with the rest in scratch; else a status (< 0). */
export function readResult<H>(r: Buffer | number, handleAt: (i: number) => H): ReadResult<H> {
  if (typeof r === 'number') {
    if (r >= 0) r = pooledBytes(r, scratch[0]);
    else
      return r === ZX_ERR_BUFFER_TOO_SMALL
        ? { status: r, bytes: EMPTY, handles: [], actualBytes: scratch[0], actualHandles: scratch[1] }
        : { status: r, bytes: EMPTY, handles: [], actualBytes: 0, actualHandles: 0 };
  }
  const count = scratch[1];
  const handles = new Array<H>(count);
  for (let i = 0; i < count; i++) handles[i] = handleAt(i);
  return { status: ZX_OK, bytes: r, handles, actualBytes: r.length, actualHandles: count };
}

/** channelRead with checked arguments; `withRights`: the rights are looked at (and
 *  reported by `handleAt`), as channelReadEtc does. */
export function receive<H>(
  h: number,
  options: number,
  numBytes: number,
  numHandles: number,
  withRights: boolean,
  handleAt: (i: number) => H,
): ReadResult<H> {
  const read = withRights ? nativeChannelReadEtc : nativeChannelRead;
  return readResult(read(h, options, numBytes, numHandles), handleAt);
}

/** A batched read (channelReadMany): `count` messages, packed. Message i's bytes are
 *  bytes[ends[i - 1] (0 for the first), ends[i]); its status is statuses[i] — ZX_OK, or the
 *  failure of a record in its place (IO_DATA_INTEGRITY, NO_RESOURCES: no bytes, no
 *  handles); its handles are the next handleCounts[i] values of `handles` (with their
 *  object types in `handleTypes`), in message order. */
export interface ReadManyResult {
  status: number;
  count: number;
  bytes: Buffer;
  statuses: Int32Array;
  ends: Uint32Array;
  handleCounts: Uint32Array;
  handles: Uint32Array;
  handleTypes: Uint32Array;
}

const nativeChannelReadMany = native.channelReadMany;
const NONE = new Uint32Array(0);

/** channelReadMany with checked arguments. */
export function receiveMany(h: number, options: number, max: number): ReadManyResult {
  const r = nativeChannelReadMany(h, options, max);
  if (typeof r === 'number') {
    return {
      status: r,
      count: 0,
      bytes: EMPTY,
      statuses: new Int32Array(0),
      ends: NONE,
      handleCounts: NONE,
      handles: NONE,
      handleTypes: NONE,
    };
  }
  const [bytes, info] = r;
  const n = info[0];
  const total = (info.length - 1 - 3 * n) / 2;
  const at = (word: number) => info.byteOffset + 4 * word;
  return {
    status: ZX_OK,
    count: n,
    bytes,
    statuses: new Int32Array(info.buffer, at(1), n),
    ends: info.subarray(1 + n, 1 + 2 * n),
    handleCounts: info.subarray(1 + 2 * n, 1 + 3 * n),
    handles: info.subarray(1 + 3 * n, 1 + 3 * n + total),
    handleTypes: info.subarray(1 + 3 * n + total),
  };
}
