// Channel: one endpoint of a channel, in the style of a Node socket: write, tryRead,
// read (promise), call, async iteration, and the events of an EventEmitter ('message',
// 'close', 'error'), read by the event loop itself while a 'message' listener is attached
// (the reader behind read(), call() and 'message': lib/channel-reader.ts).
import { EventEmitter } from 'node:events';
import {
  ZX_CHANNEL_MAX_MSG_BYTES,
  ZX_CHANNEL_MAX_MSG_HANDLES,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_READ_MANY_MAX,
  ZX_ERR_BAD_STATE,
  ZX_ERR_SHOULD_WAIT,
  ZX_HANDLE_OP_MOVE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_NONE,
  ZX_OK,
  ZX_OK_ABOVE_HIGH_WATER,
  ZX_RIGHT_SAME_RIGHTS,
} from './constants';
import { check, ZxError } from './errors';
import {
  deadlineFromTimeout,
  Handle,
  handleValue,
  registerHandleClass,
  takeHandle,
  type WaitOptions,
  withAbort,
  wrapHandle,
} from './handle';
import { ChannelReader, type Message, messageIterator, toMessage } from './channel-reader';
// The addon directly, not through sys, for the queue and the writes of write()/writeMany():
// no sys face, and the write hot path (docs/performance.md).
import { native } from './native';
import { handleTypeAt, receive, receiveMany } from './receive';
import * as sys from './sys';

export type { Message } from './channel-reader';

// Held here once: the addon's exports object is slow to load properties from.
const nativeChannelWrite = native.channelWrite;
const nativeChannelWriteMany = native.channelWriteMany;
const scratch = native.scratch;

export type Bytes = Uint8Array | string;

/** A message for writeMany: its bytes and the handles that move with it. */
export interface OutgoingMessage {
  bytes: Bytes;
  handles?: readonly (Handle | number)[];
}

function toBytes(bytes: Bytes, operation: string): Uint8Array {
  if (typeof bytes === 'string') return Buffer.from(bytes);
  if (bytes instanceof Uint8Array) return bytes;
  throw new TypeError(`${operation}: bytes must be a Uint8Array or a string`);
}

// Handles leave their owners as the write starts: Zircon consumes them even on failure.
// Everything is checked before anything is released, so a TypeError loses nothing.
function releaseAll(handles: readonly (Handle | number)[] | undefined, operation: string): number[] | null {
  if (!handles || handles.length === 0) return null;
  if (!Array.isArray(handles)) throw new TypeError(`${operation}: handles must be an array`);
  handles.forEach((h, i) => handleValue(operation, `handles[${i}]`, h));
  return handles.map((h, i) => takeHandle(operation, `handles[${i}]`, h));
}

// Call arguments moving every handle as it is.
function callArgs(data: Uint8Array, raws: number[] | null): sys.CallEtcArgs {
  const handles = raws?.map((handle) => ({
    operation: ZX_HANDLE_OP_MOVE,
    handle,
    type: ZX_OBJ_TYPE_NONE,
    rights: ZX_RIGHT_SAME_RIGHTS,
    result: ZX_OK,
  }));
  return {
    bytes: data,
    handles: handles ?? null,
    readNumBytes: ZX_CHANNEL_MAX_MSG_BYTES,
    readNumHandles: ZX_CHANNEL_MAX_MSG_HANDLES,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own listener type
type Listener = (...args: any[]) => void;
const emitter = EventEmitter.prototype;

export class Channel extends Handle {
  // The reader of this endpoint on this thread ('message' listeners, read(), call()),
  // made the first time it is needed.
  #reader: ChannelReader | null = null;
  #closeEmitted = false;
  #needDrain = false; // a write answered above the high-water mark: 'drain' is to come

  /** A new channel: two connected endpoints. */
  static create(): [Channel, Channel] {
    const { status, out0, out1 } = sys.channelCreate(0);
    check(status, 'Channel.create');
    return [new Channel(out0), new Channel(out1)];
  }

  /** Clears, then sets user signals on the peer endpoint, wherever it is; ZxError PEER_CLOSED
   *  once it is gone (docs/objects.md, "User signals"). */
  signalPeer(clear: number, set: number): void {
    this.signalPeerOf(clear, set);
  }

  /** Sends one message; the handles move with it (they are gone here, even on failure).
   *  Returns false when the endpoint's outbound queue is at or above its high-water mark
   *  (the message is queued all the same): write more after 'drain', emitted once the
   *  queue is below its low-water mark (docs/performance.md, "Backpressure"). */
  write(bytes: Bytes, handles?: readonly (Handle | number)[]): boolean {
    const data = toBytes(bytes, 'Channel.write');
    const self = this.raw; // before the handles go: this channel may be among them
    const raws = releaseAll(handles, 'Channel.write');
    const status = nativeChannelWrite(self, 0, data, raws);
    if (status === ZX_OK) return true;
    // At the queue's bounds too: a writer that meets them may wait for 'drain' as well.
    if (status === ZX_OK_ABOVE_HIGH_WATER || status === ZX_ERR_SHOULD_WAIT) this.#aboveHighWater(self);
    check(status === ZX_OK_ABOVE_HIGH_WATER ? ZX_OK : status, 'Channel.write');
    return false;
  }

  /** How many messages wait in this endpoint's outbound queue: those written while its
   *  socket was full (as Node's writables in object mode). */
  get writableLength(): number {
    const queued = native.channelQueued(this.raw);
    check(queued < 0 ? queued : ZX_OK, 'Channel.writableLength');
    return queued;
  }

  /** Whether a write answered false and 'drain' has not come yet (as Node's writables). */
  get writableNeedDrain(): boolean {
    return this.#needDrain;
  }

  // 'drain' comes once per crossing, on this thread, unless the handle goes first.
  #aboveHighWater(self: number): void {
    if (!this.#needDrain) {
      this.#needDrain = true;
      // (No promise only while the environment is going away.)
      native.channelDrainAsync(self)?.then((status) => {
        this.#needDrain = false;
        if (status === ZX_OK) this.emit('drain');
      });
    }
  }

  /** Sends many messages in one native call (sendmmsg), in order: an extension Zircon
   *  lacks, for producers of many small messages (docs/performance.md). Returns how many
   *  were accepted: all, unless the outbound queue's bounds were reached (SHOULD_WAIT);
   *  then the messages from that index on were not sent, the handles of the first of them
   *  are gone (as write() consumes them) and those of the later ones are still theirs.
   *  Any other failure throws ZxError, the messages before it having been sent.
   *  Backpressure as write()'s: when it leaves the queue at or above the high-water mark
   *  (or at its bounds), writableNeedDrain is true and 'drain' follows. */
  writeMany(messages: readonly (Bytes | OutgoingMessage)[]): number {
    const operation = 'Channel.writeMany';
    if (!Array.isArray(messages)) throw new TypeError(`${operation}: messages must be an array`);
    const parts: Uint8Array[] = [];
    const ends = new Uint32Array(messages.length);
    let lists: (number[] | null)[] | null = null;
    let total = 0;
    messages.forEach((m, i) => {
      const isMessage = typeof m === 'object' && !(m instanceof Uint8Array);
      const data = toBytes(isMessage ? (m as OutgoingMessage).bytes : (m as Bytes), operation);
      const handles = isMessage ? (m as OutgoingMessage).handles : undefined;
      if (handles && handles.length > 0) {
        if (!Array.isArray(handles)) throw new TypeError(`${operation}: messages[${i}].handles must be an array`);
        (lists ??= new Array(messages.length).fill(null))[i] = handles.map((h, k) =>
          handleValue(operation, `messages[${i}].handles[${k}]`, h),
        );
      }
      parts.push(data);
      total += data.length;
      ends[i] = total;
    });
    const self = this.raw;
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
    let status = nativeChannelWriteMany(self, 0, bytes, ends, lists);
    const accepted = scratch[0];
    if (status === ZX_OK_ABOVE_HIGH_WATER || status === ZX_ERR_SHOULD_WAIT) this.#aboveHighWater(self);
    if (status === ZX_OK_ABOVE_HIGH_WATER) status = ZX_OK;
    // The handles of the messages taken (sent, queued, or consumed by the failure) are gone.
    const taken = status === ZX_OK || status === ZX_ERR_BAD_STATE ? accepted : accepted + 1;
    for (let i = 0; i < taken && i < messages.length; i++) {
      const m = messages[i];
      if (typeof m === 'object' && !(m instanceof Uint8Array))
        (m as OutgoingMessage).handles?.forEach((h) => h instanceof Handle && h.valid && h.release());
    }
    if (status === ZX_ERR_SHOULD_WAIT) return accepted;
    check(status, operation);
    return accepted;
  }

  /** Up to `max` (at most ZX_CHANNEL_READ_MANY_MAX) queued messages in one native call
   *  (recvmmsg), in order; [] when none is queued. A record that failed its checks
   *  (IO_DATA_INTEGRITY, NO_RESOURCES) is a ZxError in its place. Throws ZxError
   *  PEER_CLOSED once the peer is gone and everything it sent has been read. An
   *  extension Zircon lacks (docs/performance.md). */
  tryReadMany(max: number = ZX_CHANNEL_READ_MANY_MAX): (Message | ZxError)[] {
    const r = receiveMany(this.raw, 0, max);
    if (r.status === ZX_ERR_SHOULD_WAIT) return [];
    check(r.status, 'Channel.tryReadMany');
    const out = new Array<Message | ZxError>(r.count);
    let start = 0;
    let h = 0;
    for (let i = 0; i < r.count; i++) {
      const end = r.ends[i];
      if (r.statuses[i] !== ZX_OK) {
        out[i] = new ZxError(r.statuses[i], 'Channel.tryReadMany');
        continue;
      }
      const handles = new Array<Handle>(r.handleCounts[i]);
      for (let k = 0; k < handles.length; k++, h++)
        handles[k] = wrapHandle({ handle: r.handles[h], type: r.handleTypes[h] });
      out[i] = { bytes: r.bytes.subarray(start, end), handles };
      start = end;
    }
    return out;
  }

  /** The next message, or null when none is queued. Throws ZxError PEER_CLOSED once the
   *  peer is gone and everything it sent has been read. */
  tryRead(): Message | null {
    return this.#readNow('Channel.tryRead');
  }

  #readNow(operation: string): Message | null {
    // Handles are wrapped by type: their rights are left to be looked at when asked for.
    const r = receive(this.raw, 0, ZX_CHANNEL_MAX_MSG_BYTES, ZX_CHANNEL_MAX_MSG_HANDLES, false, handleTypeAt);
    if (r.status === ZX_ERR_SHOULD_WAIT) return null;
    check(r.status, operation);
    return toMessage(r);
  }

  /** The next message, waiting for it without blocking the event loop. */
  read(options: WaitOptions = {}): Promise<Message> {
    try {
      return this.#read(options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // A message queued now is taken at once; else the read waits for the native listener to
  // read one for it (after those of the reads already waiting), or, where there can be no
  // listener, for the channel to be readable.
  #read(options: WaitOptions): Promise<Message> {
    const operation = 'Channel.read';
    const deadline = deadlineFromTimeout(options.timeout, operation);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.#reader?.readsWaiting) {
      const message = this.#readNow(operation);
      if (message) return Promise.resolve(message);
    }
    const reader = this.#readerNow();
    const id = reader.startForReply();
    if (id <= 0) return this.#readAsync(deadline, signal);
    return reader.read(id, options, operation);
  }

  async #readAsync(deadline: bigint, signal: AbortSignal | undefined): Promise<Message> {
    for (;;) {
      const { status } = await withAbort(
        () => sys.objectWaitOneAsync(this.raw, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, deadline),
        signal,
      );
      check(status, 'Channel.read');
      const message = this.#readNow('Channel.read');
      if (message) return message;
    }
  }

  /** Sends a request and resolves with the reply (zx_channel_call): the first 4 bytes of
   *  `bytes` are replaced by a transaction id that the reply must echo. */
  call(bytes: Bytes, handles?: readonly (Handle | number)[], options: WaitOptions = {}): Promise<Message> {
    try {
      return this.#call(bytes, handles, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // The reply comes through the native listener (one JavaScript call, no native promise),
  // or, where there can be none (this object's handle is not usable by one), through a
  // native async call, which reports why.
  #call(bytes: Bytes, handles: readonly (Handle | number)[] | undefined, options: WaitOptions): Promise<Message> {
    const operation = 'Channel.call';
    const data = toBytes(bytes, operation);
    const deadline = deadlineFromTimeout(options.timeout, operation);
    const self = this.raw;
    const reader = this.#readerNow();
    const id = reader.startForReply();
    const raws = releaseAll(handles, operation);
    const signal = options.signal;
    if (signal?.aborted) {
      // Nothing is sent; the handles are consumed, as by every call that fails.
      if (raws) sys.handleCloseMany(raws);
      return Promise.reject(signal.reason);
    }
    // (Gone if this channel is among the handles: the native call says what that means.)
    if (id <= 0 || !reader.listening(id)) return this.#callAsync(self, data, raws, deadline, signal);
    return reader.call(id, data, raws, options, operation);
  }

  async #callAsync(
    self: number,
    data: Uint8Array,
    raws: number[] | null,
    deadline: bigint,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const r = await withAbort(() => sys.channelCallEtcAsync(self, 0, deadline, callArgs(data, raws)), signal);
    check(r.status, 'Channel.call');
    return toMessage(r);
  }

  /** call() that blocks the calling thread (for scripts and worker threads). */
  callSync(bytes: Bytes, handles?: readonly (Handle | number)[], options: { timeout?: number } = {}): Message {
    const data = toBytes(bytes, 'Channel.callSync');
    const deadline = deadlineFromTimeout(options.timeout, 'Channel.callSync');
    const self = this.raw;
    const raws = releaseAll(handles, 'Channel.callSync');
    const r = sys.channelCallEtc(self, 0, deadline, callArgs(data, raws));
    check(r.status, 'Channel.callSync');
    return toMessage(r);
  }

  // ---- events: an EventEmitter's contract (the rest of its methods are mixed in below) ----
  // Reading starts with the first 'message' listener and stops with the last one.

  on(event: string | symbol, listener: Listener): this {
    emitter.on.call(this, event, listener);
    return this.#listenersChanged(event, listener);
  }

  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  prependListener(event: string | symbol, listener: Listener): this {
    emitter.prependListener.call(this, event, listener);
    return this.#listenersChanged(event, listener);
  }

  removeListener(event: string | symbol, listener: Listener): this {
    emitter.removeListener.call(this, event, listener);
    return this.#listenersChanged(event, listener);
  }

  off(event: string | symbol, listener: Listener): this {
    return this.removeListener(event, listener);
  }

  removeAllListeners(event?: string | symbol): this {
    emitter.removeAllListeners.call(this, event);
    this.#setReading(this.listenerCount('message') > 0);
    return this;
  }

  /** While reading for 'message' listeners, whether the event loop is kept alive (it is
   *  by default), as in `net`. */
  ref(): this {
    this.#readerNow().ref(true);
    return this;
  }

  unref(): this {
    this.#readerNow().ref(false);
    return this;
  }

  /** Closing twice is harmless; 'close' is emitted (on the next tick) if it was not yet. */
  override close(): void {
    const open = this.valid;
    super.close();
    if (open) process.nextTick(() => this.#emitClose());
  }

  /** Gives the raw value away; reading for 'message' listeners stops here at once, so
   *  every message not yet emitted goes with the endpoint. Pending calls end with ZxError
   *  CANCELED (a late reply lands in the endpoint's queue). */
  override release(): number {
    this.#reader?.stop();
    return super.release();
  }

  #listenersChanged(event: string | symbol, listener: Listener): this {
    if (event !== 'message') return this;
    try {
      this.#setReading(this.listenerCount('message') > 0);
    } catch (error) {
      emitter.removeListener.call(this, event, listener);
      throw error;
    }
    return this;
  }

  // Reading starts with the first 'message' listener and stops with the last one.
  #setReading(reading: boolean): void {
    if (reading || this.#reader) this.#readerNow().setReading(reading);
  }

  #readerNow(): ChannelReader {
    this.#reader ??= new ChannelReader(this, () => this.#emitClose());
    return this.#reader;
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close');
  }

  /** Every message until the peer is gone (then the iteration ends cleanly). Each step is
   *  one read() and one promise: no async generator between the reader and the loop. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return messageIterator(() => this.read());
  }
}

type Emitting =
  | 'emit'
  | 'listeners'
  | 'rawListeners'
  | 'listenerCount'
  | 'eventNames'
  | 'once'
  | 'prependOnceListener'
  | 'setMaxListeners'
  | 'getMaxListeners';
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Channel extends Pick<EventEmitter, Emitting> {}
// EventEmitter's own methods for the rest (once and prependOnceListener add through on
// and prependListener, so reading starts for them too).
for (const name of [
  'emit',
  'listeners',
  'rawListeners',
  'listenerCount',
  'eventNames',
  'once',
  'prependOnceListener',
  'setMaxListeners',
  'getMaxListeners',
] as const) {
  Object.defineProperty(Channel.prototype, name, { value: emitter[name], writable: true, configurable: true });
}

registerHandleClass(ZX_OBJ_TYPE_CHANNEL, Channel);
