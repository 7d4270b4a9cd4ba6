// How the addon's answer to a read or a call becomes a result: the read pool the addon
// receives into and the scratch array where it leaves sizes and handles. Shared by the
// sys face and the classes.
import { ZX_ERR_BUFFER_TOO_SMALL, ZX_OK } from './constants';
import { native, SCRATCH_HANDLES, SCRATCH_RIGHTS, SCRATCH_TYPES } from './native';

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

// channelRead receives straight into the read pool, so a message's bytes are copied once,
// by the kernel. Smaller messages are then copied out (Node's own small-buffer pool makes
// that cheap) and the same room serves the next read; larger ones are handed out as a
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

function pooledBytes(offset: number, length: number): Buffer {
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

/** One message of a batched read: `status` ZX_OK, or a record's failure in its place
 *  (IO_DATA_INTEGRITY, NO_RESOURCES: no bytes, no handles). */
export interface ReadManyMessage<H = number> {
  status: number;
  bytes: Buffer;
  handles: H[];
}

export interface ReadManyResult<H = number> {
  status: number;
  messages: ReadManyMessage<H>[];
}

const nativeChannelReadMany = native.channelReadMany;

/** channelReadMany with checked arguments: every message's bytes a view into one Buffer. */
export function receiveMany<H>(
  h: number,
  options: number,
  max: number,
  handleAt: (handle: number, type: number) => H,
): ReadManyResult<H> {
  const r = nativeChannelReadMany(h, options, max);
  if (typeof r === 'number') return { status: r, messages: [] };
  const [payloads, entries] = r;
  const messages: ReadManyMessage<H>[] = [];
  let start = 0;
  for (let e = 0; e < entries.length; ) {
    const status = entries[e] | 0;
    const end = entries[e + 1];
    const count = entries[e + 2];
    e += 3;
    const handles = new Array<H>(count);
    for (let i = 0; i < count; i++, e += 2) handles[i] = handleAt(entries[e], entries[e + 1]);
    messages.push({ status, bytes: status === ZX_OK ? payloads.subarray(start, end) : EMPTY, handles });
    start = end;
  }
  return { status: ZX_OK, messages };
}
