// Port: one queue of packets from handles it watches and from queue(), in the style of an
// event queue: watch, cancel, queue, wait (promise), waitSync (blocking), async iteration.
import {
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_NOT_FOUND,
  ZX_OK,
  ZX_PKT_TYPE_USER,
  ZX_WAIT_ASYNC_EDGE,
  ZX_WAIT_ASYNC_TIMESTAMP,
} from './constants';
import { check, ZxError } from './errors';
import { deadlineFromTimeout, Handle, handleValue, type WaitOptions, withAbort } from './handle';
import * as sys from './sys';

export interface WatchOptions {
  /** Comes back as the packet's key; 0n by default. */
  key?: bigint | number;
  /** ZX_WAIT_ASYNC_EDGE: only once a signal comes on after this call, not for one already on. */
  edge?: boolean;
  /** ZX_WAIT_ASYNC_TIMESTAMP: the packet carries the monotonic time it fired. */
  timestamp?: boolean;
}

export interface QueuePacket {
  /** 0n by default. */
  key?: bigint | number;
  /** ZX_OK by default. */
  status?: number;
  /** At most 32 bytes (zero-padded). */
  user?: Uint8Array;
}

export class Port extends Handle {
  /** A new port. It can be sent in a message: to this process it arrives as the same port;
   *  to another, as a port with its koid, rights and queued user packets (docs/objects.md). */
  static create(): Port {
    const { status, out } = sys.portCreate(0);
    check(status, 'Port.create');
    return new Port(out);
  }

  /** Queues one packet here when one of `signals` is active on `handle`, now or later
   *  (with `edge`: only once one comes on). One packet, then the watch is over: call again
   *  for the next. Closing `handle` ends the watch; packets already queued stay. */
  watch(handle: Handle | number, signals: number, options: WatchOptions = {}): void {
    const raw = handleValue('Port.watch', 'handle', handle);
    const flags = (options.edge ? ZX_WAIT_ASYNC_EDGE : 0) | (options.timestamp ? ZX_WAIT_ASYNC_TIMESTAMP : 0);
    check(sys.objectWaitAsync(raw, this.raw, options.key ?? 0n, signals, flags), 'Port.watch');
  }

  /** Ends the watches made through `handle` with `key` and drops the packets they queued
   *  and nobody took yet. Returns false (Zircon's ZX_ERR_NOT_FOUND) when there was neither. */
  cancel(handle: Handle | number, key: bigint | number = 0n): boolean {
    const raw = handleValue('Port.cancel', 'handle', handle);
    const status = sys.portCancel(this.raw, raw, key);
    if (status === ZX_ERR_NOT_FOUND) return false;
    check(status, 'Port.cancel');
    return true;
  }

  /** Queues a user packet at the back (ZxError SHOULD_WAIT when more than 4096 are waiting). */
  queue(packet: QueuePacket = {}): void {
    const status = sys.portQueue(this.raw, {
      key: packet.key ?? 0n,
      type: ZX_PKT_TYPE_USER,
      status: packet.status ?? ZX_OK,
      user: packet.user,
    });
    check(status, 'Port.queue');
  }

  /** Handle's signal wait: a port has no signals (and no WAIT right): ZxError ACCESS_DENIED. */
  override wait(signals: number, options?: WaitOptions): Promise<number>;
  /** The next packet, without blocking the event loop. Rejects with ZxError (TIMED_OUT;
   *  CANCELED when the port is closed) or the abort reason. */
  override wait(options?: WaitOptions): Promise<sys.PortPacket>;
  override wait(first?: number | WaitOptions, second?: WaitOptions): Promise<number> | Promise<sys.PortPacket> {
    if (typeof first === 'number') return super.wait(first, second);
    return this.#next(first ?? {});
  }

  async #next(options: WaitOptions): Promise<sys.PortPacket> {
    const deadline = deadlineFromTimeout(options.timeout, 'Port.wait');
    const { status, packet } = await withAbort(() => sys.portWaitAsync(this.raw, deadline), options.signal);
    check(status, 'Port.wait');
    return packet!;
  }

  /** A port has no signals to wait for, and a number here is most likely a deadline of
   *  old: TypeError. */
  override waitSync(signals: number, options?: { timeout?: number }): never;
  /** The next packet, blocking the calling thread (for worker threads and scripts); ZxError
   *  TIMED_OUT once `timeout` milliseconds pass. */
  override waitSync(options?: { timeout?: number }): sys.PortPacket;
  override waitSync(options: number | { timeout?: number } = {}): sys.PortPacket {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('Port.waitSync: options must be an object ({ timeout } in milliseconds)');
    }
    const { status, packet } = sys.portWait(this.raw, deadlineFromTimeout(options.timeout, 'Port.waitSync'));
    check(status, 'Port.waitSync');
    return packet!;
  }

  /** Every packet until the port is closed (then the iteration ends cleanly). */
  async *[Symbol.asyncIterator](): AsyncGenerator<sys.PortPacket, void, undefined> {
    for (;;) {
      try {
        yield await this.wait();
      } catch (error) {
        if (error instanceof ZxError && (error.status === ZX_ERR_CANCELED || error.status === ZX_ERR_BAD_HANDLE))
          return;
        throw error;
      }
    }
  }
}
