// A value's body (docs/wire-format.md, "Values"): the value encoded by V8's structured
// clone, or as JSON text (for peers in other languages, and for values JSON says exactly);
// every Handle in it becomes an index into the message's handle list, and the bytes of
// every typed array, Buffer and ArrayBuffer in it travel beside the encoding ("blobs"), so
// that they are copied once on each side whatever their size.
import { isUtf8 } from 'node:buffer';
import { types } from 'node:util';
import { Deserializer, Serializer } from 'node:v8';
import { ZX_ERR_IO_DATA_INTEGRITY } from './constants';
import { ZxError } from './errors';
import { Handle } from './handle';

export const CODEC_V8 = 0;
export const CODEC_JSON = 1;
export type CodecName = 'v8' | 'json';

// Host records inside a V8 encoding: a tag, then what the tag says.
const TAG_HANDLE = 0; // u32 index into the handle list
const TAG_VIEW = 1; // u32 view type, u64 byte length: the next blob
const TAG_BUFFER = 2; // u64 byte length: the next blob, as an ArrayBuffer

// The view types, by their index on the wire.
const VIEWS = [
  Buffer,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;
const VIEW_INDEX = new Map<string, number>(VIEWS.map((v, i) => [`[object ${v.name}]`, i]));

/** The error a value that cannot be sent throws, as structuredClone's. */
export function dataCloneError(message: string): Error {
  return new DOMException(message, 'DataCloneError');
}

/** A value envelope that does not hold what it claims. */
export function envelopeError(detail: string): ZxError {
  return new ZxError(ZX_ERR_IO_DATA_INTEGRITY, 'ValueChannel receive', detail);
}

// ---- what goes out -------------------------------------------------------------------------

/** A value encoded: its body as parts laid end to end (text as UTF-8), and its handles in
 *  the order their indices name them. Nothing is taken from the value. */
export interface Encoded {
  /** CODEC_V8 or CODEC_JSON: the V8 codec writes JSON-exact values as JSON. */
  codec: number;
  parts: (Uint8Array | string)[];
  length: number;
  handles: Handle[];
}

// Stand-ins V8 hands to the host hook (typed arrays are host objects to this serializer;
// a Handle is a plain object to V8, so a value holding one is copied with these in place).
class HandleSlot extends Uint8Array {
  constructor(readonly index: number) {
    super(0);
  }
}
class ArrayBufferSlot extends Uint8Array {}

// Objects copied as they are: those holding nothing, and those V8 refuses (a WeakMap, a
// Promise, a Proxy...), which it then refuses the same way.
function isLeaf(v: object): boolean {
  if (ArrayBuffer.isView(v) || types.isDate(v) || types.isRegExp(v) || types.isBoxedPrimitive(v) || types.isProxy(v))
    return true;
  if (Array.isArray(v) || v instanceof Map || v instanceof Set || v instanceof Error) return false;
  return Object.prototype.toString.call(v) !== '[object Object]';
}

// How a value is best encoded: SLOTS when it holds a Handle or a bare ArrayBuffer anywhere
// (then V8 sees a copy with stand-ins); JSON when JSON text says exactly what structured
// clone would (plain objects and dense arrays, each reached once, of strings, finite
// numbers other than -0, booleans and null), which is several times cheaper to encode and
// decode; V8 for the rest, as it is.
const JSON_EXACT = 0;
const SLOTS = 1;
const AS_IS = 2;

function jsonPrimitive(v: unknown): boolean {
  const type = typeof v;
  return (
    type === 'string' ||
    type === 'boolean' ||
    v === null ||
    (type === 'number' && Number.isFinite(v) && !Object.is(v, -0))
  );
}

interface Walk {
  seen: Set<object>;
  json: boolean;
  slots: boolean;
}

function walk(v: unknown, w: Walk): void {
  if (typeof v !== 'object' || v === null) {
    if (w.json && !jsonPrimitive(v)) w.json = false;
    return;
  }
  if (v instanceof Handle || v instanceof ArrayBuffer) {
    w.slots = true;
    return;
  }
  if (w.seen.has(v)) {
    w.json = false; // shared or a cycle: JSON would repeat it
    return;
  }
  w.seen.add(v);
  const proto = Object.getPrototypeOf(v);
  const plain = (proto === Object.prototype || proto === Array.prototype || proto === null) && !types.isProxy(v);
  if (!plain && isLeaf(v)) {
    w.json = false;
    return;
  }
  if (!plain && v instanceof Map) {
    w.json = false;
    for (const [key, item] of v) {
      walk(key, w);
      walk(item, w);
    }
    return;
  }
  if (!plain && v instanceof Set) {
    w.json = false;
    for (const item of v) walk(item, w);
    return;
  }
  if (w.json && !plain) w.json = false; // a class instance (a toJSON could be there), an Error...
  const keys = Object.keys(v);
  if (w.json && Array.isArray(v) && keys.length !== v.length) w.json = false; // holes, or more than indices
  for (let i = 0; i < keys.length && !w.slots; i++) walk((v as Record<string, unknown>)[keys[i]], w);
  if (v instanceof Error && Object.hasOwn(v, 'cause')) walk(v.cause, w);
}

function classify(root: unknown): number {
  if (typeof root !== 'object' || root === null) return jsonPrimitive(root) ? JSON_EXACT : AS_IS;
  const w: Walk = { seen: new Set(), json: true, slots: false };
  walk(root, w);
  return w.slots ? SLOTS : w.json ? JSON_EXACT : AS_IS;
}

// A copy of the value's containers with every Handle and ArrayBuffer replaced by its
// stand-in; sharing and cycles are kept (each object is copied once).
function withSlots(v: unknown, memo: Map<object, unknown>, handles: Handle[]): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const done = memo.get(v);
  if (done !== undefined) return done;
  // biome-ignore lint/suspicious/noExplicitAny: a copy of any container, filled below by its kind
  let out: any;
  if (v instanceof Handle) out = new HandleSlot(handles.push(v) - 1);
  else if (v instanceof ArrayBuffer) out = new ArrayBufferSlot(v);
  else if (isLeaf(v)) out = v;
  else if (v instanceof Map) out = new Map();
  else if (v instanceof Set) out = new Set();
  else if (v instanceof Error) out = Object.setPrototypeOf(new Error(), Object.getPrototypeOf(v));
  else out = Array.isArray(v) ? new Array(v.length) : {};
  memo.set(v, out);
  if (out === v || out instanceof Uint8Array) return out;
  if (v instanceof Map) {
    for (const [key, item] of v) out.set(withSlots(key, memo, handles), withSlots(item, memo, handles));
  } else if (v instanceof Set) {
    for (const item of v) out.add(withSlots(item, memo, handles));
  } else if (v instanceof Error) {
    // What V8 keeps of an Error: its prototype's name, message, stack and cause.
    for (const key of ['message', 'stack', 'cause']) {
      if (!Object.hasOwn(v, key)) continue;
      const value = withSlots((v as unknown as Record<string, unknown>)[key], memo, handles);
      Object.defineProperty(out, key, { value, writable: true, configurable: true, enumerable: false });
    }
  } else {
    for (const key of Object.keys(v)) {
      const value = withSlots((v as unknown as Record<string, unknown>)[key], memo, handles);
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, writable: true, configurable: true, enumerable: true });
      else out[key] = value;
    }
  }
  return out;
}

class ValueSerializer extends Serializer {
  readonly blobs: Uint8Array[] = [];
  blobBytes = 0;

  constructor() {
    super();
    // Node's own serializer does this too; the method is missing from its type declarations.
    (
      this as unknown as { _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void }
    )._setTreatArrayBufferViewsAsHostObjects(true);
  }

  _getDataCloneError(message: string): Error {
    return dataCloneError(message);
  }

  #blob(view: ArrayBufferView): void {
    const bytes =
      view instanceof Uint8Array && view.constructor === Uint8Array
        ? view
        : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    this.writeUint64(Math.floor(bytes.length / 2 ** 32), bytes.length >>> 0);
    this.blobs.push(bytes);
    this.blobBytes += bytes.length;
  }

  _writeHostObject(object: object): void {
    if (object instanceof HandleSlot) {
      this.writeUint32(TAG_HANDLE);
      this.writeUint32(object.index);
    } else if (object instanceof ArrayBufferSlot) {
      this.writeUint32(TAG_BUFFER);
      this.#blob(object);
    } else if (ArrayBuffer.isView(object)) {
      const type = Buffer.isBuffer(object) ? 0 : VIEW_INDEX.get(Object.prototype.toString.call(object));
      if (type === undefined) throw dataCloneError(`${Object.prototype.toString.call(object)} could not be cloned.`);
      this.writeUint32(TAG_VIEW);
      this.writeUint32(type);
      this.#blob(object);
    } else {
      throw dataCloneError(`${Object.prototype.toString.call(object)} could not be cloned.`);
    }
  }
}

function encodeV8(value: unknown): Encoded {
  const kind = classify(value);
  if (kind === JSON_EXACT) return encodeJson(value, true);
  const handles: Handle[] = [];
  const root = kind === SLOTS ? withSlots(value, new Map(), handles) : value;
  const s = new ValueSerializer();
  s.writeHeader();
  s.writeValue(root);
  const skeleton = s.releaseBuffer();
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(skeleton.length, 0);
  return { codec: CODEC_V8, parts: [prefix, skeleton, ...s.blobs], length: 4 + skeleton.length + s.blobBytes, handles };
}

// JSON: a Handle is {"$handle": index}. A value known to hold none is written without a
// replacer (JSON.stringify is several times faster without one).
function encodeJson(value: unknown, plain = false): Encoded {
  const handles: Handle[] = [];
  const indices = new Map<Handle, number>();
  let text: string | undefined;
  try {
    text = plain
      ? JSON.stringify(value)
      : JSON.stringify(value, (_key, v) => {
          if (!(v instanceof Handle)) return v;
          let index = indices.get(v);
          if (index === undefined) indices.set(v, (index = handles.push(v) - 1));
          return { $handle: index };
        });
  } catch (error) {
    throw dataCloneError(`the value could not be written as JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw dataCloneError(`${typeof value} could not be written as JSON.`);
  return { codec: CODEC_JSON, parts: [text], length: Buffer.byteLength(text), handles };
}

/** The body of `value` in `codec`; throws a DataCloneError (taking nothing) when the value
 *  cannot be sent. */
export function encodeValue(value: unknown, codec: number): Encoded {
  return codec === CODEC_JSON ? encodeJson(value) : encodeV8(value);
}

// ---- what comes in -------------------------------------------------------------------------

// Reads a V8 encoding whose blobs follow it in `body`, from `offset` on; every blob is
// copied out of `body` into memory of its own (body may be a read-only mapping).
class ValueDeserializer extends Deserializer {
  offset: number;

  constructor(
    skeleton: Uint8Array,
    private readonly body: Uint8Array,
    offset: number,
    private readonly handles: readonly Handle[],
    private readonly used: boolean[],
  ) {
    super(skeleton);
    this.offset = offset;
  }

  #blob(): Uint8Array {
    const [hi, lo] = this.readUint64();
    const length = hi * 2 ** 32 + lo;
    if (length > this.body.length - this.offset)
      throw envelopeError(`a typed array of ${length} bytes runs past the body`);
    const bytes = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === TAG_HANDLE) {
      const index = this.readUint32();
      if (index >= this.handles.length)
        throw envelopeError(`handle index ${index} with ${this.handles.length} handles`);
      this.used[index] = true;
      return this.handles[index];
    }
    if (tag === TAG_BUFFER) {
      const bytes = this.#blob();
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      return copy.buffer;
    }
    if (tag !== TAG_VIEW) throw envelopeError(`unknown host record ${tag}`);
    const type = this.readUint32();
    const View = VIEWS[type];
    if (View === undefined) throw envelopeError(`unknown typed array type ${type}`);
    const bytes = this.#blob();
    if (View === Buffer) return Buffer.from(bytes);
    const size = (View as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    if (bytes.length % size !== 0) throw envelopeError(`${View.name} of ${bytes.length} bytes`);
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    return View === DataView ? new DataView(copy) : new (View as Uint8ArrayConstructor)(copy);
  }
}

function decodeV8(body: Uint8Array, handles: readonly Handle[], used: boolean[]): unknown {
  if (body.length < 4) throw envelopeError(`a body of ${body.length} bytes`);
  const skeletonLength = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (skeletonLength > body.length - 4)
    throw envelopeError(`an encoding of ${skeletonLength} bytes in a body of ${body.length}`);
  const skeletonEnd = 4 + skeletonLength;
  const d = new ValueDeserializer(body.subarray(4, skeletonEnd), body, skeletonEnd, handles, used);
  let value: unknown;
  try {
    d.readHeader();
    value = d.readValue();
  } catch (error) {
    if (error instanceof ZxError) throw error;
    throw envelopeError(`the encoding does not read: ${(error as Error).message}`);
  }
  if (d.offset !== body.length) throw envelopeError(`${body.length - d.offset} bytes past the value`);
  return value;
}

// In JSON, an object whose only key is $handle names a handle when the message has any.
function decodeJson(body: Uint8Array, handles: readonly Handle[], used: boolean[]): unknown {
  if (!isUtf8(body)) throw envelopeError('JSON text that is not UTF-8');
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
  try {
    if (handles.length === 0) return JSON.parse(text);
    return JSON.parse(text, (_key, v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
      const keys = Object.keys(v);
      if (keys.length !== 1 || keys[0] !== '$handle') return v;
      const index = v.$handle;
      if (!Number.isInteger(index) || index < 0 || index >= handles.length)
        throw envelopeError(`handle index ${index} with ${handles.length} handles`);
      used[index] = true;
      return handles[index];
    });
  } catch (error) {
    if (error instanceof ZxError) throw error;
    throw envelopeError(`JSON that does not parse: ${(error as Error).message}`);
  }
}

/** The value in `body`; the handles it names are marked in `used`. Throws a ZxError
 *  IO_DATA_INTEGRITY for a body that does not hold what it claims. */
export function decodeValue(body: Uint8Array, codec: number, handles: readonly Handle[], used: boolean[]): unknown {
  return codec === CODEC_JSON ? decodeJson(body, handles, used) : decodeV8(body, handles, used);
}
