// The reader behind a Channel on this thread: the native listener (one per endpoint and
// thread, driven by the event loop) that reads messages for 'message' listeners, for the
// read() calls waiting for one (credit, oldest first) and routes the replies of call() by
// txid; and the async iterator over read(). Channel (lib/channel.ts) owns one, made the
// first time it is needed.
import {
  ZX_ERR_CANCELED,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_TIMED_OUT,
} from './constants';
import { ZxError } from './errors';
import { type Handle, type WaitOptions, wrapHandle } from './handle';
// The addon directly, not through sys: the listener has no sys face, and its calls are the
// read and call hot path (docs/performance.md).
import { native } from './native';
import { handleTypeAt, type ReadResult, readResult } from './receive';

// Held here once: the addon's exports object is slow to load properties from.
const nativeListenCall = native.channelListenCall;
const nativeListenCredit = native.channelListenCredit;

export interface Message {
  bytes: Buffer;
  handles: Handle[];
}

export function toMessage(r: ReadResult<{ handle: number; type: number }>): Message {
  return { bytes: r.bytes, handles: r.handles.map(wrapHandle) };
}

/** What the reader needs of its channel: the handle, and the events it emits. */
export interface ReaderHost {
  readonly raw: number;
  readonly valid: boolean;
  emit(event: 'message' | 'error', value: unknown): boolean;
}

// A read, or a call (by txid), waiting for the native listener.
interface Pending {
  resolve(message: Message): void;
  reject(error: unknown): void;
  done?(): void; // lets go of its timer and abort listener
}

// Arms the deadline and abort of a pending read or call: at either, `withdraw` takes it
// back from the listener (false: its answer is already on its way, and it waits for that),
// then it rejects with TIMED_OUT or the signal's reason.
function armEnd(pending: Pending, options: WaitOptions, operation: string, withdraw: () => boolean): void {
  const signal = options.signal;
  if (options.timeout === undefined && !signal) return;
  const end = (error: () => unknown) => () => {
    if (!withdraw()) return;
    pending.done!();
    pending.reject(error());
  };
  const onAbort = end(() => signal!.reason);
  const timer =
    options.timeout === undefined
      ? undefined
      : setTimeout(
          end(() => new ZxError(ZX_ERR_TIMED_OUT, operation)),
          options.timeout,
        );
  signal?.addEventListener('abort', onAbort, { once: true });
  pending.done = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
}

export class ChannelReader {
  // The native listener: once started it stays, idle (keeping neither the loop nor the
  // channel alive), until the handle is closed or given away.
  #listener = 0;
  #reading = false; // whether it reads messages
  #refed = true;
  #calls: Map<number, Pending> | null = null;
  #reads: Pending[] | null = null; // oldest first; the listener has as much credit
  #onNative = (r: Buffer | number, txid?: number): void => {
    if (txid === undefined) this.#received(r);
    else this.#replied(txid, r);
  };

  // `onClose`: the peer is gone and every message was read while reading for listeners.
  constructor(
    readonly host: ReaderHost,
    readonly onClose: () => void,
  ) {}

  /** Whether reads wait for the listener (a new read queues behind them). */
  get readsWaiting(): boolean {
    return !!this.#reads?.length;
  }

  /** The listener, reading messages (for 'message' listeners) or not: its id, or 0 when
   *  there can be none (the handle closed or given away), or a status < 0 when the handle
   *  is not usable by one. */
  start(reading: boolean): number {
    if (this.#listener) {
      if (reading !== this.#reading) native.channelListenMessages(this.#listener, reading);
      this.#reading = reading;
      return this.#listener;
    }
    if (!this.host.valid) return 0; // closed or moved: nothing more comes
    const id = native.channelListen(this.host.raw, this.#onNative, reading);
    if (id < 0) {
      if (reading) throw new ZxError(id, "Channel.on('message')");
      return id;
    }
    this.#listener = id;
    this.#reading = reading;
    if (!this.#refed) native.channelListenRef(id, false);
    return id;
  }

  /** The listener as it is, for a read or a call (one is started, not reading, if none). */
  startForReply(): number {
    return this.start(this.#reading);
  }

  /** Reading starts with the first 'message' listener and stops with the last one. */
  setReading(reading: boolean): void {
    if (this.#listener || reading) this.start(reading);
  }

  /** Whether the listener `id` still stands (releasing this channel ends it). */
  listening(id: number): boolean {
    return this.#listener === id;
  }

  /** While reading for 'message' listeners, whether the event loop is kept alive. */
  ref(refed: boolean): void {
    this.#refed = refed;
    if (this.#listener) native.channelListenRef(this.#listener, refed);
  }

  /** The handle is given away: the listener stops at once, and what waits for it ends
   *  with CANCELED. */
  stop(): void {
    if (!this.#listener) return;
    native.channelUnlisten(this.#listener);
    this.#ended(ZX_ERR_CANCELED);
  }

  /** A read waiting for listener `id` to read a message for it. */
  read(id: number, options: WaitOptions, operation: string): Promise<Message> {
    nativeListenCredit(id, 1);
    return new Promise<Message>((resolve, reject) => {
      const read: Pending = { resolve, reject };
      (this.#reads ??= []).push(read);
      armEnd(read, options, operation, () => {
        const at = this.#reads ? this.#reads.indexOf(read) : -1;
        if (at < 0) return false;
        this.#reads!.splice(at, 1);
        nativeListenCredit(this.#listener, -1);
        return true;
      });
    });
  }

  /** A call written through listener `id`, its reply handed back by txid (one JavaScript
   *  call, no native promise). */
  call(id: number, data: Uint8Array, raws: number[] | null, options: WaitOptions, operation: string): Promise<Message> {
    const txid = nativeListenCall(id, data, raws);
    if (txid < 0) return Promise.reject(new ZxError(txid, operation));
    return new Promise<Message>((resolve, reject) => {
      const call: Pending = { resolve, reject };
      (this.#calls ??= new Map()).set(txid, call);
      armEnd(
        call,
        options,
        operation,
        () => native.channelListenCancel(this.#listener, txid) && this.#calls!.delete(txid),
      );
    });
  }

  // A reply (or the failure of a call) from the native listener.
  #replied(txid: number, r: Buffer | number): void {
    const call = this.#calls?.get(txid);
    if (!call) return;
    this.#calls!.delete(txid);
    call.done?.();
    if (typeof r === 'number' && r < 0) call.reject(new ZxError(r, 'Channel.call'));
    else call.resolve(toMessage(readResult(r, handleTypeAt)));
  }

  // The native listener has ended: what waited for it ends with `status`.
  #ended(status: number): void {
    this.#listener = 0;
    this.#reading = false;
    const calls = this.#calls;
    const reads = this.#reads;
    this.#calls = null;
    this.#reads = null;
    calls?.forEach((call) => {
      call.done?.();
      call.reject(new ZxError(status, 'Channel.call'));
    });
    reads?.forEach((read) => {
      read.done?.();
      read.reject(new ZxError(status, 'Channel.read'));
    });
  }

  // One message read by the event loop (or why none was).
  // Pending reads come first: the listener read it for the oldest, if there is one.
  #received(r: Buffer | number): void {
    if (typeof r === 'number' && r < 0) {
      if (r === ZX_ERR_IO_DATA_INTEGRITY || r === ZX_ERR_NO_RESOURCES) {
        const read = this.#reads?.shift();
        if (!read) {
          this.host.emit('error', new ZxError(r, 'Channel receive'));
          return;
        }
        read.done?.();
        read.reject(new ZxError(r, 'Channel.read'));
        return;
      }
      // The listener has ended: the peer is gone and everything it sent was delivered, or
      // the handle was closed or moved without the channel.
      const reading = this.#reading;
      this.#ended(r === ZX_ERR_PEER_CLOSED ? r : ZX_ERR_CANCELED);
      if (r === ZX_ERR_PEER_CLOSED && reading) this.onClose();
      return;
    }
    const message = toMessage(readResult(r, handleTypeAt));
    const read = this.#reads?.shift();
    if (!read) {
      this.host.emit('message', message);
      return;
    }
    read.done?.();
    read.resolve(message);
  }
}

/** Every message `read` gives until the peer is gone (then the iteration ends cleanly).
 *  Each step is one read() and one promise: no async generator between the reader and the
 *  loop. */
export function messageIterator(read: () => Promise<Message>): AsyncIterableIterator<Message> {
  let ended = false;
  const end = (): IteratorResult<Message> => {
    ended = true;
    return { done: true, value: undefined };
  };
  const step = (value: Message): IteratorResult<Message> => ({ done: false, value });
  const failed = (error: unknown): IteratorResult<Message> => {
    if (error instanceof ZxError && error.status === ZX_ERR_PEER_CLOSED) return end();
    ended = true;
    throw error;
  };
  return {
    next: () => (ended ? Promise.resolve(end()) : read().then(step, failed)),
    return: () => Promise.resolve(end()),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
