// SocketStream: a Node Duplex over a STREAM socket end, driven by socketRead/socketWrite
// and async waits on the event loop. Reading stops while the consumer is full (the bytes
// stay in the kernel, and the writer's side fills up and waits); a write's callback comes
// once the kernel has taken all of it. end() disables this end's writes, so the peer reads
// to the end; destroy() closes the handle, so the peer sees PEER_CLOSED.
import { Duplex, type DuplexOptions } from 'node:stream';
import {
  ZX_ERR_BAD_STATE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_OK,
  ZX_SOCKET_DISPOSITION_WRITE_DISABLED,
  ZX_SOCKET_PEER_CLOSED,
  ZX_SOCKET_PEER_WRITE_DISABLED,
  ZX_SOCKET_READABLE,
  ZX_SOCKET_WRITABLE,
  ZX_SOCKET_WRITE_DISABLED,
  ZX_TIME_INFINITE,
} from './constants';
import { ZxError } from './errors';
import type { Socket } from './socket';
import * as sys from './sys';

/** What a reader waits for: bytes, or a reason there will be none. */
export const READ_WAKE = ZX_SOCKET_READABLE | ZX_SOCKET_PEER_CLOSED | ZX_SOCKET_PEER_WRITE_DISABLED;
/** What a writer waits for: room, or a reason a write can't succeed. */
export const WRITE_WAKE = ZX_SOCKET_WRITABLE | ZX_SOCKET_PEER_CLOSED | ZX_SOCKET_WRITE_DISABLED;

// Fits the read pool's room for one read (lib/receive.ts): one native call and no extra
// copy per chunk.
const CHUNK_BYTES = 64 * 1024;

export class SocketStream extends Duplex {
  readonly #socket: Socket;
  #reading = false;

  /** Takes `socket` (closed with the stream). Use Socket.toStream(). */
  constructor(socket: Socket, options: DuplexOptions = {}) {
    super(options);
    this.#socket = socket;
  }

  /** The socket's handle value (0 once the stream is destroyed). */
  get handle(): number {
    return this.#socket.raw;
  }

  override _read(): void {
    if (!this.#reading) void this.#pump();
  }

  // Reads until the consumer is full, the socket is empty (then waits) or the end.
  async #pump(): Promise<void> {
    this.#reading = true;
    try {
      for (;;) {
        const h = this.#socket.raw;
        const r = sys.socketRead(h, 0, CHUNK_BYTES);
        if (r.status === ZX_OK) {
          if (!this.push(r.bytes)) return;
          continue;
        }
        if (r.status === ZX_ERR_PEER_CLOSED || r.status === ZX_ERR_BAD_STATE) {
          this.push(null); // everything the peer wrote has been read
          return;
        }
        if (r.status !== ZX_ERR_SHOULD_WAIT) return this.#fail(r.status, 'read');
        const { status } = await sys.objectWaitOneAsync(h, READ_WAKE, ZX_TIME_INFINITE);
        if (status !== ZX_OK) return this.#fail(status, 'read');
      }
    } finally {
      this.#reading = false;
    }
  }

  #fail(status: number, what: string): void {
    // Once the stream is destroyed its handle is closed: a wait then ends CANCELED.
    if (this.destroyed) return;
    this.destroy(new ZxError(status, `SocketStream.${what}`));
  }

  // Socket.write: every byte, waiting for room; the callback once the kernel has it all.
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const data = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#socket.write(data).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const status = sys.socketSetDisposition(this.#socket.raw, ZX_SOCKET_DISPOSITION_WRITE_DISABLED, 0);
    callback(status === ZX_OK ? null : new ZxError(status, 'SocketStream.end'));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.close();
    callback(error);
  }
}
