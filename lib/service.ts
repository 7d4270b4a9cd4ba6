// Services: a server listens on a filesystem path (or a Linux abstract name, written with a
// leading '\0' as in Node's net module); fdio.serviceConnect hands it a channel end.
import { lstatSync, type Stats, unlinkSync } from 'node:fs';
import {
  ZX_CHANNEL_READABLE,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
} from './constants';
import { Channel, type Message } from './channel';
import { u32 } from './check';
import { check, ZxError } from './errors';
import { Handle, handleValue, takeHandle } from './handle';
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

function address(path: string, fn: string): { name: string; abstract: boolean } {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string`);
  return path.startsWith('\0') ? { name: path.slice(1), abstract: true } : { name: path, abstract: false };
}

// How long a connection may take to send its channel end before it is dropped.
const HANDOVER_TIMEOUT_MS = 10_000;
// How long the accept loop waits before trying again when accepting fails (out of
// descriptors): doubling from the first to the last, until no connection is left waiting.
const ACCEPT_RETRY_MIN_MS = 10;
const ACCEPT_RETRY_MAX_MS = 1000;

export class ServiceServer implements AsyncIterable<ServiceConnection> {
  readonly path: string;
  #listener: Handle;
  #file: Stats | undefined;
  #onConnection: ((connection: ServiceConnection) => void) | undefined;
  #queue: ServiceConnection[] = [];
  #waiting: ((result: IteratorResult<ServiceConnection>) => void)[] = [];
  #closed = false;
  #unpause: (() => void) | undefined;

  constructor(path: string, onConnection?: (connection: ServiceConnection) => void, options: ListenOptions = {}) {
    const { name, abstract } = address(path, 'listen');
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
    this.#unpause?.();
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
    let backoff = 0;
    while (!this.#closed) {
      try {
        await this.#listener.wait(ZX_CHANNEL_READABLE);
      } catch {
        return; // closed
      }
      const status = this.#acceptAll();
      if (status === ZX_ERR_SHOULD_WAIT) {
        backoff = 0;
        continue;
      }
      // Out of descriptors (or memory): the listener stays readable, so waiting on it again
      // would answer at once and spin. Wait a while, longer each time, and try again.
      if (backoff === 0) {
        process.emitWarning(
          new ZxError(
            status,
            'ServiceServer accept',
            `${JSON.stringify(this.path)}: connections wait until there is room`,
          ),
        );
      }
      backoff = Math.min(backoff === 0 ? ACCEPT_RETRY_MIN_MS : backoff * 2, ACCEPT_RETRY_MAX_MS);
      await this.#pause(backoff);
    }
  }

  // Accepts every waiting connection: SHOULD_WAIT once there are none, or why accepting failed.
  #acceptAll(): number {
    for (;;) {
      const status = native.serviceAccept(this.#listener.raw);
      if (status !== ZX_OK) return status;
      const [connection, pid, uid, gid] = native.scratch.slice(0, 4);
      void this.#receive(new Channel(connection), { pid: pid | 0, uid, gid });
    }
  }

  // Resolves after `ms`, or at once when the server closes.
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#unpause = undefined;
        resolve();
      }, ms);
      this.#unpause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // The client sends one message carrying the channel end it wants served.
  async #receive(connection: Channel, peer: { pid: number; uid: number; gid: number }): Promise<void> {
    let message: Message;
    try {
      message = await connection.read({ timeout: HANDOVER_TIMEOUT_MS });
    } catch {
      return; // the client went away or sent nothing: nothing to serve
    } finally {
      connection.close();
    }
    const [channel, ...extra] = message.handles;
    extra.forEach((h) => h.close());
    if (!(channel instanceof Channel)) {
      channel?.close();
      return;
    }
    this.#deliver({ channel, ...peer });
  }

  #deliver(connection: ServiceConnection): void {
    if (this.#closed) {
      connection.channel.close();
      return;
    }
    if (this.#onConnection) {
      try {
        this.#onConnection(connection);
      } catch (error) {
        // As Node does for a 'connection' listener of net.Server that throws: the error is
        // uncaught (it would be lost in the accept loop's promise otherwise), and the
        // channel it was handed is closed, so the client sees PEER_CLOSED.
        connection.channel.close();
        process.nextTick(() => {
          throw error;
        });
      }
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

export interface ConnectOptions {
  /** Hand the request over only if the listener's user id is this one. */
  uid?: number;
  /** Hand the request over only if the listener's process id is this one. */
  pid?: number;
}

// The options, checked before anything is consumed (a TypeError loses nothing).
function expectedListener(options: ConnectOptions): ConnectOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError('fdio.serviceConnect: options must be an object');
  const { uid, pid } = options;
  if (uid !== undefined) u32('fdio.serviceConnect', 'options.uid', uid);
  if (pid !== undefined) u32('fdio.serviceConnect', 'options.pid', pid);
  return { uid, pid };
}

/** Hands the server at `path` the channel end `request` (consumed, also on failure).
 *  ZX_ERR_NOT_FOUND: nothing at that path; ZX_ERR_PEER_CLOSED: a socket file nobody
 *  listens on; ZX_ERR_BAD_PATH: not a usable address; ZX_ERR_ACCESS_DENIED: the listener
 *  is not the `uid`/`pid` asked for (nothing was sent to it). */
export function serviceConnect(path: string, request: Channel | number, options: ConnectOptions = {}): number {
  const fn = 'fdio.serviceConnect';
  const { name, abstract } = address(path, fn);
  const expected = expectedListener(options);
  const info = sys.objectGetInfo(handleValue(fn, 'request', request), ZX_INFO_HANDLE_BASIC);
  if (info.status !== ZX_OK) return info.status;
  const raw = takeHandle(fn, 'request', request);
  if (info.info?.type !== ZX_OBJ_TYPE_CHANNEL) {
    sys.handleClose(raw);
    return ZX_ERR_WRONG_TYPE;
  }
  const status = native.serviceConnect(name, abstract);
  if (status !== ZX_OK) {
    sys.handleClose(raw);
    return status;
  }
  const [connection, pid, uid] = native.scratch.slice(0, 3);
  // SO_PEERCRED: who called listen(2) on the socket we reached. Anyone may bind an
  // abstract name first, so this is the only way to know who is there (docs/processes.md).
  if ((expected.uid !== undefined && uid !== expected.uid) || (expected.pid !== undefined && pid !== expected.pid)) {
    sys.handleCloseMany([connection, raw]);
    return ZX_ERR_ACCESS_DENIED;
  }
  const wrote = sys.channelWrite(connection, 0, null, [raw]);
  sys.handleClose(connection);
  return wrote;
}
