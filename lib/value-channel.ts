// ValueChannel: JavaScript values over a Channel, with handles anywhere inside them, of any
// size, as one-way posts or as calls and replies (zx_channel_call's txids). The bytes layer
// stays the Channel's; docs/wire-format.md ("Values") says what a message holds.
import { EventEmitter, on } from 'node:events';
import { Channel } from './channel';
import type { Message } from './channel';
import { ZxError } from './errors';
import type { Handle, WaitOptions } from './handle';
import { CODEC_JSON, CODEC_V8, encodeValue, envelopeError } from './value-codec';
import type { CodecName } from './value-codec';
import { FLAG_VMO, KIND_ERROR, KIND_POST, KIND_REPLY, KIND_REQUEST, pack, unpack } from './value-envelope';
import type { Unpacked } from './value-envelope';

export interface ValueChannelOptions {
  /** How values this side sends are encoded: 'v8' (structured clone, the default) or
   *  'json' (UTF-8 JSON text, for peers in other languages). Both are read. */
  codec?: CodecName;
}

/** Replies to one call: a value, or an Error that rejects the caller's promise. Once. */
export type Respond = (value: unknown) => void;

const STANDARD_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// What of an Error travels in an error reply: name, message, code.
function errorValue(error: unknown): { name: string; message: string; code?: unknown } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return code === undefined
    ? { name: error.name, message: error.message }
    : { name: error.name, message: error.message, code };
}

function remoteError(value: unknown): Error {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { message?: unknown }).message !== 'string' ||
    typeof (value as { name?: unknown }).name !== 'string'
  ) {
    return envelopeError('an error reply without a name and a message');
  }
  const { name, message, code } = value as { name: string; message: string; code?: unknown };
  const error = new (STANDARD_ERRORS[name] ?? Error)(message);
  if (error.name !== name) error.name = name;
  if (code !== undefined) (error as { code?: unknown }).code = code;
  return error;
}

// The VMO pack() made for a large body, if a write or call failed before taking it (its
// checks come before any handle moves); the value's own handles stay the caller's then.
function closeOwnBody(bytes: Buffer, handles: Handle[]): void {
  const body = handles[handles.length - 1];
  if ((bytes[7] & FLAG_VMO) !== 0 && body.valid) body.close();
}

export class ValueChannel extends EventEmitter {
  readonly #channel: Channel;
  readonly #codec: number;
  #listening = false;
  readonly #onMessage = (message: Message) => this.#received(message);

  /** Two connected ends. */
  static create(options: ValueChannelOptions = {}): [ValueChannel, ValueChannel] {
    const [a, b] = Channel.create();
    return [new ValueChannel(a, options), new ValueChannel(b, options)];
  }

  /** Values over `channel` (an endpoint from anywhere), which this object now uses: read
   *  it only through this object. */
  constructor(channel: Channel, options: ValueChannelOptions = {}) {
    super();
    if (!(channel instanceof Channel)) throw new TypeError('ValueChannel: channel must be a Channel');
    const { codec = 'v8' } = options;
    if (codec !== 'v8' && codec !== 'json')
      throw new TypeError(`ValueChannel: codec must be 'v8' or 'json', got ${String(codec)}`);
    this.#channel = channel;
    this.#codec = codec === 'json' ? CODEC_JSON : CODEC_V8;
    channel.on('close', () => this.emit('close'));
    channel.on('error', (error: Error) => this.emit('error', error));
    channel.on('drain', () => this.emit('drain'));
    // Reading starts with the first 'message' or 'call' listener and stops with the last.
    this.on('newListener', (event) => {
      if (event === 'message' || event === 'call') this.#listen(true);
    });
    this.on('removeListener', (event) => {
      if ((event === 'message' || event === 'call') && this.listenerCount('message') + this.listenerCount('call') === 0)
        this.#listen(false);
    });
  }

  /** The endpoint underneath. */
  get channel(): Channel {
    return this.#channel;
  }

  /** Sends `value`; its handles move with it (gone here once it is sent). A value that
   *  cannot be sent throws a DataCloneError, and then nothing was sent or taken. Returns
   *  what the channel's write returns: false once the outbound queue is above its
   *  high-water mark ('drain' follows), true otherwise. */
  post(value: unknown): boolean {
    const { bytes, handles } = pack(KIND_POST, encodeValue(value, this.#codec));
    return this.#write(bytes, handles);
  }

  /** Sends `value` as a request; resolves with the value the peer's 'call' listener
   *  responds with, or rejects with the Error it threw or responded with (its name,
   *  message and code). Failures of the channel reject with ZxError (TIMED_OUT, ...). */
  async call(value: unknown, options: WaitOptions = {}): Promise<unknown> {
    const { bytes, handles } = pack(KIND_REQUEST, encodeValue(value, this.#codec));
    let reply: Message;
    try {
      reply = await this.#channel.call(bytes, handles, options);
    } finally {
      closeOwnBody(bytes, handles);
    }
    const { kind, value: result } = unpack(reply);
    if (kind === KIND_REPLY) return result;
    if (kind === KIND_ERROR) throw remoteError(result);
    throw envelopeError(`a reply of kind ${kind}`);
  }

  /** Closes the endpoint; 'close' follows. */
  close(): void {
    this.#channel.close();
  }

  ref(): this {
    this.#channel.ref();
    return this;
  }

  unref(): this {
    this.#channel.unref();
    return this;
  }

  /** Every value posted until the peer is gone. */
  async *[Symbol.asyncIterator](): AsyncGenerator<unknown, void, undefined> {
    for await (const [value] of on(this, 'message', { close: ['close'] } as Parameters<typeof on>[2])) yield value;
  }

  #write(bytes: Buffer, handles: Handle[]): boolean {
    try {
      return (this.#channel.write(bytes, handles) as unknown) !== false;
    } finally {
      closeOwnBody(bytes, handles);
    }
  }

  #listen(wanted: boolean): void {
    if (wanted === this.#listening) return;
    this.#listening = wanted;
    if (wanted) this.#channel.on('message', this.#onMessage);
    else this.#channel.off('message', this.#onMessage);
  }

  #received(message: Message): void {
    let unpacked: Unpacked;
    try {
      unpacked = unpack(message);
    } catch (error) {
      this.emit('error', error);
      return;
    }
    const { kind, txid, value } = unpacked;
    if (kind === KIND_POST) this.emit('message', value);
    else if (kind === KIND_REQUEST) this.#answer(txid, value);
    // A reply nobody waits for any more (its call timed out) is dropped; its handles were
    // closed by unpack unless the value holds them, and then they close with it.
  }

  // Runs the 'call' listeners for one request; the first response (or throw) is the reply.
  #answer(txid: number, value: unknown): void {
    if (txid === 0) {
      this.emit('error', envelopeError('a request without a txid'));
      return;
    }
    let replied = false;
    const reply = (kind: number, result: unknown) => {
      const { bytes, handles } = pack(kind, encodeValue(result, this.#codec));
      bytes.writeUInt32LE(txid, 0);
      try {
        this.#write(bytes, handles);
      } catch (error) {
        // The caller is gone (PEER_CLOSED) or its channel was closed: nobody to answer.
        if (!(error instanceof ZxError)) throw error;
      }
    };
    const respond: Respond = (result) => {
      if (replied) throw new Error('ValueChannel: this call was already answered');
      replied = true;
      if (result instanceof Error) return reply(KIND_ERROR, errorValue(result));
      try {
        reply(KIND_REPLY, result);
      } catch (error) {
        reply(KIND_ERROR, errorValue(error)); // a value that can't be sent: the caller learns why
        throw error;
      }
    };
    if (this.listenerCount('call') === 0) {
      respond(new Error("ValueChannel: no 'call' listener"));
      return;
    }
    try {
      this.emit('call', value, respond);
    } catch (error) {
      if (!replied) respond(error instanceof Error ? error : new Error(String(error)));
      else throw error;
    }
  }
}
