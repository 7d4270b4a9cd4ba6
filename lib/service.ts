// Services: a server listens on a filesystem path (or a Linux abstract name, written with a
// leading '\0' as in Node's net module); fdio.serviceConnect (fdio.ts) hands it a channel end.
import { lstatSync, type Stats, unlinkSync } from 'node:fs';
import { ZX_CHANNEL_READABLE, ZX_ERR_SHOULD_WAIT, ZX_OK } from './constants';
import { Channel, type Message } from './channel';
import { check, ZxError } from './errors';
import { Handle } from './handle';
import { serviceAccept, serviceAddress, serviceListen } from './service-socket';

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
    const { name, abstract } = serviceAddress(path, 'listen');
    const listening = serviceListen(name, abstract, options.mode ?? 0o600);
    check(listening.status, `listen(${JSON.stringify(path)})`);
    this.path = path;
    this.#listener = new Handle(listening.handle);
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
      const { status, connection, pid, uid, gid } = serviceAccept(this.#listener.raw);
      if (status !== ZX_OK) return status;
      void this.#receive(new Channel(connection), { pid, uid, gid });
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
