// Services: a server listens on a filesystem path (or a Linux abstract name, written with a
// leading '\0' as in Node's net module); fdio.serviceConnect hands it a channel end.
import { lstatSync, Stats, unlinkSync } from 'node:fs';
import {
  ZX_CHANNEL_READABLE,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
} from './constants';
import { Channel } from './channel';
import { check } from './errors';
import { Handle } from './handle';
import { native } from './native';
import * as sys from './sys';

export interface ServiceConnection {
  /** The channel end the client handed over. */
  channel: Channel;
  /** The client process, from SO_PEERCRED at connect time. */
  pid: number;
  uid: number;
  gid: number;
}

export interface ListenOptions {
  /** File mode of the socket file (default 0o600: only this user may connect). */
  mode?: number;
}

function address(path: string): { name: string; abstract: boolean } {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('service path must be a non-empty string');
  return path.startsWith('\0') ? { name: path.slice(1), abstract: true } : { name: path, abstract: false };
}

// How long a connection may take to send its channel end before it is dropped.
const HANDOVER_TIMEOUT_MS = 10_000;

export class ServiceServer implements AsyncIterable<ServiceConnection> {
  readonly path: string;
  #listener: Handle;
  #file: Stats | undefined;
  #onConnection: ((connection: ServiceConnection) => void) | undefined;
  #queue: ServiceConnection[] = [];
  #waiting: ((result: IteratorResult<ServiceConnection>) => void)[] = [];
  #closed = false;

  constructor(path: string, onConnection?: (connection: ServiceConnection) => void, options: ListenOptions = {}) {
    const { name, abstract } = address(path);
    check(native.serviceListen(name, abstract, options.mode ?? 0o600), `listen(${JSON.stringify(path)})`);
    this.path = path;
    this.#listener = new Handle(native.scratch[0]);
    this.#file = abstract ? undefined : lstatSync(path);
    this.#onConnection = onConnection;
    void this.#acceptLoop();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops listening and removes the socket file (if it is still ours). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    if (this.#file) {
      try {
        const now = lstatSync(this.path);
        if (now.ino === this.#file.ino && now.dev === this.#file.dev) unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
    for (const resolve of this.#waiting.splice(0)) resolve({ value: undefined, done: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ServiceConnection, void, undefined> {
    for (;;) {
      const next = this.#queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      const result = await new Promise<IteratorResult<ServiceConnection>>((resolve) => this.#waiting.push(resolve));
      if (result.done) return;
      yield result.value;
    }
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#listener.waitAsync(ZX_CHANNEL_READABLE);
      } catch {
        return;  // closed
      }
      for (;;) {
        const status = native.serviceAccept(this.#listener.raw);
        if (status === ZX_ERR_SHOULD_WAIT) break;
        if (status !== ZX_OK) break;  // e.g. out of descriptors: try again on the next wakeup
        const [connection, pid, uid, gid] = native.scratch.slice(0, 4);
        void this.#receive(new Channel(connection), { pid: pid | 0, uid, gid });
      }
    }
  }

  // The client sends one message carrying the channel end it wants served.
  async #receive(connection: Channel, peer: { pid: number; uid: number; gid: number }): Promise<void> {
    try {
      const message = await connection.read({ timeout: HANDOVER_TIMEOUT_MS });
      const [channel, ...extra] = message.handles;
      extra.forEach((h) => h.close());
      if (!(channel instanceof Channel)) {
        channel?.close();
        return;
      }
      this.#deliver({ channel, ...peer });
    } catch {
      // The client went away or sent nothing: nothing to serve.
    } finally {
      connection.close();
    }
  }

  #deliver(connection: ServiceConnection): void {
    if (this.#closed) {
      connection.channel.close();
      return;
    }
    if (this.#onConnection) {
      this.#onConnection(connection);
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: connection, done: false });
    else this.#queue.push(connection);
  }
}

/** Listens on `path` (mode 0600 unless asked). A stale socket file left by a dead server is
 *  replaced; a live server there makes this throw ZxError ZX_ERR_ALREADY_EXISTS. */
export function listen(
  path: string,
  onConnection?: (connection: ServiceConnection) => void,
  options?: ListenOptions,
): ServiceServer {
  return new ServiceServer(path, onConnection, options);
}

/** Hands the server at `path` the channel end `request` (consumed, also on failure).
 *  ZX_ERR_NOT_FOUND: nothing at that path; ZX_ERR_PEER_CLOSED: a socket file nobody
 *  listens on; ZX_ERR_BAD_PATH: not a usable address. */
export function serviceConnect(path: string, request: number): number {
  const { name, abstract } = address(path);
  const info = sys.objectGetInfo(request, ZX_INFO_HANDLE_BASIC);
  if (info.status !== ZX_OK) return info.status;
  if (info.info?.type !== ZX_OBJ_TYPE_CHANNEL) {
    sys.handleClose(request);
    return ZX_ERR_WRONG_TYPE;
  }
  const status = native.serviceConnect(name, abstract);
  if (status !== ZX_OK) {
    sys.handleClose(request);
    return status;
  }
  const connection = native.scratch[0];
  const wrote = sys.channelWrite(connection, 0, null, [request]);
  sys.handleClose(connection);
  return wrote;
}
