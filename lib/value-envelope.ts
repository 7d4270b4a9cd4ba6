// The value envelope (docs/wire-format.md, "Values"): a value's body as one channel
// message, inline after a 16-byte header, or, when it does not fit, in a sealed VMO sent
// read-only as the message's last handle.
import { constants as bufferConstants } from 'node:buffer';
import type { Message } from './channel';
import {
  ZX_CHANNEL_MAX_MSG_BYTES,
  ZX_CHANNEL_MAX_MSG_HANDLES,
  ZX_RIGHT_MAP,
  ZX_RIGHT_READ,
  ZX_RIGHTS_BASIC,
} from './constants';
import type { ZxError } from './errors';
import type { Handle } from './handle';
import { CODEC_JSON, dataCloneError, decodeValue, envelopeError } from './value-codec';
import type { Encoded } from './value-codec';
import { Vmo } from './vmo';

export const VALUE_ENVELOPE_VERSION = 1;
/** txid (4), version, kind, codec, flags (1 each), body length (8). */
export const ENVELOPE_BYTES = 16;

export const KIND_POST = 0;
export const KIND_REQUEST = 1;
export const KIND_REPLY = 2;
export const KIND_ERROR = 3;

/** The body is in a VMO, the message's last handle. */
export const FLAG_VMO = 1;

// The longest body a receiver maps (an ArrayBuffer's limit).
const MAX_BODY = bufferConstants.MAX_LENGTH;
// A body's VMO travels without WRITE: as a read-only descriptor (docs/objects.md).
const BODY_RIGHTS = ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP;

export interface Packed {
  bytes: Buffer;
  handles: Handle[];
}

/** The message that carries `encoded`. A body that does not fit in the message is written
 *  into a new VMO (fixed size, hence sealed against growing and shrinking) whose handle
 *  goes last, read-only. Throws a DataCloneError for more handles than a message holds. */
export function pack(kind: number, encoded: Encoded): Packed {
  const inline = ENVELOPE_BYTES + encoded.length <= ZX_CHANNEL_MAX_MSG_BYTES;
  const room = inline ? ZX_CHANNEL_MAX_MSG_HANDLES : ZX_CHANNEL_MAX_MSG_HANDLES - 1;
  if (encoded.handles.length > room) {
    throw dataCloneError(
      `a value holds at most ${room} handles${inline ? '' : ' when it travels in a VMO'}, this one ${encoded.handles.length}.`,
    );
  }
  const bytes = Buffer.allocUnsafe(inline ? ENVELOPE_BYTES + encoded.length : ENVELOPE_BYTES);
  bytes.writeUInt32LE(0, 0); // the txid: a call's is set by zx_channel_call, a reply's echoes it
  bytes[4] = VALUE_ENVELOPE_VERSION;
  bytes[5] = kind;
  bytes[6] = encoded.codec;
  bytes[7] = inline ? 0 : FLAG_VMO;
  bytes.writeUInt32LE(encoded.length >>> 0, 8);
  bytes.writeUInt32LE(Math.floor(encoded.length / 2 ** 32), 12);
  let at = inline ? ENVELOPE_BYTES : 0;
  if (inline) {
    for (const part of encoded.parts) {
      if (typeof part === 'string') at += bytes.write(part, at);
      else {
        bytes.set(part, at);
        at += part.length;
      }
    }
    return { bytes, handles: encoded.handles };
  }
  const vmo = Vmo.create(encoded.length);
  try {
    for (const part of encoded.parts) {
      const data = typeof part === 'string' ? Buffer.from(part) : part;
      if (data.length > 0) vmo.write(data, at);
      at += data.length;
    }
    return { bytes, handles: [...encoded.handles, vmo.replace(BODY_RIGHTS)] };
  } finally {
    vmo.close(); // replaced (so already invalid), unless a write failed
  }
}

export interface Unpacked {
  kind: number;
  txid: number;
  value: unknown;
}

/** The value a message carries, its handles in place; the handles it does not name are
 *  closed. Throws a ZxError IO_DATA_INTEGRITY (every handle closed) for an envelope that
 *  does not hold what it claims. A body in a VMO is read through a mapping that is gone
 *  on return: everything taken from it is copied. */
export function unpack(message: Message): Unpacked {
  const { bytes, handles } = message;
  const used = new Array<boolean>(handles.length).fill(false);
  let vmo: Vmo | undefined;
  let mapping: ArrayBuffer | undefined;
  let ok = false;
  try {
    if (bytes.length < ENVELOPE_BYTES) throw envelopeError(`a message of ${bytes.length} bytes`);
    const [version, kind, codec, flags] = [bytes[4], bytes[5], bytes[6], bytes[7]];
    if (version !== VALUE_ENVELOPE_VERSION) throw envelopeError(`envelope version ${version}`);
    if (kind > KIND_ERROR) throw envelopeError(`kind ${kind}`);
    if (codec > CODEC_JSON) throw envelopeError(`codec ${codec}`);
    if ((flags & ~FLAG_VMO) !== 0) throw envelopeError(`flags 0x${flags.toString(16)}`);
    const length = bytes.readUInt32LE(8) + bytes.readUInt32LE(12) * 2 ** 32;
    let body: Uint8Array;
    let valueHandles: readonly Handle[] = handles;
    if (flags & FLAG_VMO) {
      if (bytes.length !== ENVELOPE_BYTES)
        throw envelopeError(`${bytes.length - ENVELOPE_BYTES} bytes after the header of a body in a VMO`);
      const last = handles[handles.length - 1];
      if (!(last instanceof Vmo)) throw envelopeError('no VMO as the last handle for the body');
      vmo = last;
      used[handles.length - 1] = true;
      valueHandles = handles.slice(0, -1);
      if (length === 0 || length > MAX_BODY) throw envelopeError(`a body of ${length} bytes in a VMO`);
      const size = vmo.getSize();
      if (BigInt(length) > size) throw envelopeError(`a body of ${length} bytes in a VMO of ${size}`);
      try {
        mapping = vmo.map(); // never allowFaults: a VMO its sender could shrink is refused
      } catch (error) {
        throw envelopeError(`the body's VMO does not map: ${(error as ZxError).code ?? error}`);
      }
      body = new Uint8Array(mapping, 0, length);
    } else {
      if (length !== bytes.length - ENVELOPE_BYTES)
        throw envelopeError(`a body of ${length} bytes in a message of ${bytes.length}`);
      body = bytes.subarray(ENVELOPE_BYTES);
    }
    const value = decodeValue(body, codec, valueHandles, used);
    ok = true;
    return { kind, txid: bytes.readUInt32LE(0), value };
  } finally {
    if (mapping) Vmo.unmap(mapping);
    handles.forEach((h, i) => {
      if (!ok || !used[i] || h === vmo) h.close();
    });
  }
}
