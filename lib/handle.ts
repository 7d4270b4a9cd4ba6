// Handle: an owned zx_handle_t with close, duplicate, replace, waits and `using` support.
import {
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_BASIC,
  ZX_OK,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_ERR_TIMED_OUT,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
} from './constants';
import * as constants from './constants';
import { describe, isU32 } from './check';
import { check, ZxError } from './errors';
// The addon directly only for cancelAsync and the op id in scratch (withAbort): no sys face.
import { native } from './native';
import { renamedMethod } from './renamed';
import { statusToString } from './status';
import * as sys from './sys';

export interface WaitOptions {
  /** Milliseconds; settles with ZX_ERR_TIMED_OUT once they pass. */
  timeout?: number;
  /** Aborting rejects with the signal's reason and ends the native wait. */
  signal?: AbortSignal;
}

// A safety net for handles nobody closed: the value is closed once its Handle is collected.
// Explicit close() (or `using`) is the design; this only keeps a forgotten one from leaking.
const forgotten = new FinalizationRegistry<number>((raw) => {
  sys.handleClose(raw);
});

export function deadlineFromTimeout(timeout: number | undefined, operation: string): bigint {
  if (timeout === undefined) return ZX_TIME_INFINITE;
  if (typeof timeout !== 'number' || !(timeout >= 0)) {
    throw new TypeError(`${operation}: timeout must be a non-negative number of milliseconds`);
  }
  return sys.deadlineAfter(BigInt(Math.round(timeout * 1e6)));
}

/** Awaits a native async op (wait or call), ending it on abort. `start` returns the op's
 *  promise; its id is in native.scratch[0] right after. */
export async function withAbort<T extends { status: number }>(
  start: () => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal?.aborted) throw signal.reason;
  const pending = start();
  const id = native.scratch[0];
  if (!signal || id === 0) return pending;
  const onAbort = () => native.cancelAsync(id);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await pending;
    if (signal.aborted && result.status === ZX_ERR_CANCELED) throw signal.reason;
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

// The class each object type's handles come as when received (Channel, Event, Vmo, ...);
// each class module registers itself.
const classes = new Map<number, new (raw: number) => Handle>();

export function registerHandleClass(type: number, cls: new (raw: number) => Handle): void {
  classes.set(type, cls);
}

/** A received handle as its class: a channel endpoint as a Channel, an event as an Event... */
export function wrapHandle(info: { handle: number; type: number }): Handle {
  return new (classes.get(info.type) ?? Handle)(info.handle);
}

/** The raw value of a handle argument (a Handle or a zx_handle_t number), checked but not
 *  consumed: a TypeError naming `fn` for anything else, ZxError BAD_HANDLE for a Handle
 *  already closed or given away. Functions taking several check them all first. */
export function handleValue(fn: string, name: string, value: unknown): number {
  if (value instanceof Handle) {
    if (!value.valid) throw new ZxError(ZX_ERR_BAD_HANDLE, fn, `${name} is closed or was given away`);
    return value.raw;
  }
  if (isU32(value)) return value;
  throw new TypeError(`${fn}: ${name} must be a Handle or a number, got ${describe(value)}`);
}

/** A handle argument given away: its raw value; a Handle becomes invalid (release()), so
 *  its close() is a no-op and it is never closed by the garbage collector. Call once every
 *  argument is checked (handleValue), so a TypeError loses nothing. */
export function takeHandle(fn: string, name: string, value: unknown): number {
  const raw = handleValue(fn, name, value);
  if (value instanceof Handle) value.release();
  return raw;
}

// The single-bit rights by name (without ZX_RIGHT_), for util.inspect.
const RIGHTS = Object.entries(constants)
  .filter(
    ([name, value]) =>
      name.startsWith('ZX_RIGHT_') &&
      name !== 'ZX_RIGHT_SAME_RIGHTS' &&
      typeof value === 'number' &&
      value > 0 &&
      (value & (value - 1)) === 0,
  )
  .map(([name, value]) => [name.slice('ZX_RIGHT_'.length), value as number] as const);

function rightNames(rights: number): string {
  const names = RIGHTS.filter(([, bit]) => (rights & bit) !== 0).map(([name]) => name);
  return names.length > 0 ? names.join('|') : 'NONE';
}

export class Handle {
  #raw: number;

  /** Takes ownership of a raw handle value. */
  constructor(raw: number) {
    this.#raw = raw >>> 0;
    if (this.#raw !== ZX_HANDLE_INVALID) forgotten.register(this, this.#raw, this);
  }

  /** The zx_handle_t, or 0 once closed or given away. */
  get raw(): number {
    return this.#raw;
  }

  get valid(): boolean {
    return this.#raw !== ZX_HANDLE_INVALID;
  }

  /** ZX_INFO_HANDLE_BASIC: koid, rights, type, relatedKoid. */
  info(): sys.HandleBasicInfo {
    const { status, info } = sys.objectGetInfo(this.#raw, ZX_INFO_HANDLE_BASIC);
    if (status !== ZX_OK || !info) throw new ZxError(status, `${this.constructor.name}.info`);
    return info;
  }

  get type(): number {
    return this.info().type;
  }

  get rights(): number {
    return this.info().rights;
  }

  get koid(): bigint {
    return this.info().koid;
  }

  /** Gives the raw value away (it is about to be moved or consumed); this becomes invalid. */
  release(): number {
    const raw = this.#raw;
    if (raw === ZX_HANDLE_INVALID)
      throw new ZxError(ZX_ERR_BAD_HANDLE, `${this.constructor.name}.release`, 'already closed');
    forgotten.unregister(this);
    this.#raw = ZX_HANDLE_INVALID;
    return raw;
  }

  /** Closing twice is harmless. */
  close(): void {
    if (this.#raw === ZX_HANDLE_INVALID) return;
    sys.handleClose(this.release());
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** What util.inspect shows: the class, handle value, koid, rights and whether it is
   *  valid. Never throws: a handle closed behind this object's back shows the status. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: { stylize(text: string, style: string): string },
  ): string {
    const name = this.constructor.name;
    const number = (value: number | bigint) => options.stylize(String(value), 'number');
    const valid = `valid: ${options.stylize(String(this.valid), 'boolean')}`;
    if (!this.valid) return `${name} { handle: ${number(0)}, ${valid} }`;
    const { status, info } = sys.objectGetInfo(this.#raw, ZX_INFO_HANDLE_BASIC);
    if (status !== ZX_OK || !info)
      return `${name} { handle: ${number(this.#raw)}, info: ${statusToString(status)}, ${valid} }`;
    return `${name} { handle: ${number(this.#raw)}, koid: ${number(info.koid)}, rights: ${rightNames(info.rights)}, ${valid} }`;
  }

  /** A second handle to the same object (needs ZX_RIGHT_DUPLICATE; channels have none). */
  duplicate(rights: number = ZX_RIGHT_SAME_RIGHTS): this {
    const { status, out } = sys.handleDuplicate(this.#raw, rights);
    check(status, `${this.constructor.name}.duplicate`);
    return new (this.constructor as new (raw: number) => this)(out);
  }

  /** This handle, with (fewer) rights; this one becomes invalid, even on failure. */
  replace(rights: number): this {
    const { status, out } = sys.handleReplace(this.release(), rights);
    check(status, `${this.constructor.name}.replace`);
    return new (this.constructor as new (raw: number) => this)(out);
  }

  /** The object's signals now (a wait that only samples). */
  get signals(): number {
    const { status, observed } = sys.objectWaitOne(this.#raw, 0, ZX_TIME_INFINITE_PAST);
    if (status !== ZX_ERR_TIMED_OUT) throw new ZxError(status, `${this.constructor.name}.signals`);
    return observed;
  }

  /** Clears, then sets the object's user signals (ZX_USER_SIGNAL_0..7; an event's also
   *  ZX_EVENT_SIGNALED, an eventpair side's ZX_EVENTPAIR_SIGNALED) on this end: every handle
   *  to it, in every process, sees them (docs/objects.md, "User signals"). ZxError:
   *  ACCESS_DENIED without ZX_RIGHT_SIGNAL (a port's handles never have it, as on Zircon),
   *  INVALID_ARGS for another bit, NOT_SUPPORTED for a plain descriptor. */
  signal(clear: number, set: number): void {
    check(sys.objectSignal(this.#raw, clear, set), `${this.constructor.name}.signal`);
  }

  /** Clears, then sets the peer's user signals: `signalPeer` of the classes whose objects
   *  have a peer (Channel, Socket, EventPair). ZxError as `signal`, and PEER_CLOSED once the
   *  peer is gone. */
  protected signalPeerOf(clear: number, set: number): void {
    check(sys.objectSignalPeer(this.#raw, clear, set), `${this.constructor.name}.signalPeer`);
  }

  /** The object's name (ZX_PROP_NAME; needs ZX_RIGHT_GET_PROPERTY, which a VMO's and a
   *  socket's handles have): kept by the object in this process, up to 31 bytes of UTF-8. */
  get name(): string {
    const { status, value } = sys.objectGetProperty(this.#raw, constants.ZX_PROP_NAME);
    check(status, `${this.constructor.name}.name`);
    return value as string;
  }

  set name(name: string) {
    check(sys.objectSetProperty(this.#raw, constants.ZX_PROP_NAME, name), `${this.constructor.name}.name`);
  }

  /** Waits without blocking the event loop; resolves with the signals seen. Rejects with
   *  ZxError (TIMED_OUT, CANCELED when the handle is closed) or the abort reason. */
  async wait(signals: number, options: WaitOptions = {}): Promise<number> {
    const operation = `${this.constructor.name}.wait`;
    const deadline = deadlineFromTimeout(options.timeout, operation);
    const { status, observed } = await withAbort(
      () => sys.objectWaitOneAsync(this.#raw, signals, deadline),
      options.signal,
    );
    check(status, operation);
    return observed;
  }

  /** Blocks the calling thread until one of `signals` is set; returns the signals seen. */
  waitSync(signals: number, options: { timeout?: number } = {}): number {
    const operation = `${this.constructor.name}.waitSync`;
    const { status, observed } = sys.objectWaitOne(this.#raw, signals, deadlineFromTimeout(options.timeout, operation));
    check(status, operation);
    return observed;
  }
}

export interface Handle {
  /** @deprecated Renamed `wait()`, which returns the same promise; goes at 1.0. */
  waitAsync(signals: number, options?: WaitOptions): Promise<number>;
}
renamedMethod(Handle.prototype, 'Handle', 'waitAsync', 'wait');
