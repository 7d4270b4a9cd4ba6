// Socket: one end of a Zircon socket, a byte stream (ZX_SOCKET_STREAM) or a pipe of
// datagrams (ZX_SOCKET_DATAGRAM) that moves only bytes: read and write (promises, with
// timeouts and AbortSignal), tryRead and tryWrite (now, never waiting), write disposition,
// and a Node Duplex over a stream socket.
import type { DuplexOptions } from 'node:stream';
import {
  ZX_ERR_BAD_STATE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_OBJ_TYPE_SOCKET,
  ZX_OK,
  ZX_SOCKET_DATAGRAM,
  ZX_SOCKET_PEEK,
  ZX_SOCKET_STREAM,
} from './constants';
import { check, ZxError } from './errors';
import { deadlineFromTimeout, Handle, registerHandleClass, type WaitOptions, withAbort } from './handle';
import { renamedMethod } from './renamed';
import { READ_WAKE, SocketStream, WRITE_WAKE } from './socket-stream';
import * as sys from './sys';

export interface SocketTryReadOptions {
  /** Leave the bytes queued (ZX_SOCKET_PEEK). */
  peek?: boolean;
}

export type SocketReadOptions = SocketTryReadOptions & WaitOptions;
/** @deprecated The options of `read()`: SocketReadOptions. */
export type SocketReadAsyncOptions = SocketReadOptions;

function toBytes(bytes: Uint8Array | string, operation: string): Uint8Array {
  if (typeof bytes === 'string') return Buffer.from(bytes);
  if (bytes instanceof Uint8Array) return bytes;
  throw new TypeError(`${operation}: bytes must be a Uint8Array or a string`);
}

export class Socket extends Handle {
  /** A new socket: two connected ends. `datagram` keeps each write a whole message. */
  static create(options: { datagram?: boolean } = {}): [Socket, Socket] {
    const { status, out0, out1 } = sys.socketCreate(options.datagram ? ZX_SOCKET_DATAGRAM : ZX_SOCKET_STREAM);
    check(status, 'Socket.create');
    return [new Socket(out0), new Socket(out1)];
  }

  /** Clears, then sets user signals on the peer end, wherever it is; ZxError PEER_CLOSED
   *  once it is gone (docs/objects.md, "User signals"). */
  signalPeer(clear: number, set: number): void {
    this.signalPeerOf(clear, set);
  }

  /** Writes what fits now and returns how many bytes that was: a datagram goes whole or
   *  not at all, a stream write may be short; 0 when the socket is full. Throws ZxError
   *  PEER_CLOSED, BAD_STATE (writes disabled), OUT_OF_RANGE (a datagram larger than the
   *  socket can hold). */
  tryWrite(bytes: Uint8Array | string): number {
    const { status, actual } = sys.socketWrite(this.raw, 0, toBytes(bytes, 'Socket.tryWrite'));
    if (status === ZX_ERR_SHOULD_WAIT) return 0;
    check(status, 'Socket.tryWrite');
    return actual;
  }

  /** Up to `length` bytes queued now (one datagram, cut to `length`), or null when none
   *  are. Throws ZxError PEER_CLOSED (peer gone) or BAD_STATE (peer's writes disabled)
   *  once everything sent before has been read. */
  tryRead(length: number, options: SocketTryReadOptions = {}): Buffer | null {
    const r = sys.socketRead(this.raw, options.peek ? ZX_SOCKET_PEEK : 0, length);
    if (r.status === ZX_ERR_SHOULD_WAIT) return null;
    check(r.status, 'Socket.tryRead');
    return r.bytes;
  }

  /** tryRead(), waiting for bytes without blocking the event loop. Resolves null at the
   *  end (the peer is gone or has disabled its writes, and everything it sent is read).
   *  Rejects with ZxError TIMED_OUT, CANCELED (handle closed) or the abort reason. */
  async read(length: number, options: SocketReadOptions = {}): Promise<Buffer | null> {
    const operation = 'Socket.read';
    const deadline = deadlineFromTimeout(options.timeout, operation);
    const flags = options.peek ? ZX_SOCKET_PEEK : 0;
    if (options.signal?.aborted) throw options.signal.reason;
    for (;;) {
      const r = sys.socketRead(this.raw, flags, length);
      if (r.status === ZX_OK) return r.bytes;
      if (r.status === ZX_ERR_PEER_CLOSED || r.status === ZX_ERR_BAD_STATE) return null;
      if (r.status !== ZX_ERR_SHOULD_WAIT) throw new ZxError(r.status, operation);
      const { status } = await withAbort(() => sys.objectWaitOneAsync(this.raw, READ_WAKE, deadline), options.signal);
      check(status, operation);
    }
  }

  /** Writes every byte, waiting for room as needed without blocking the event loop (a
   *  datagram goes whole, once it fits). Rejects with ZxError PEER_CLOSED, BAD_STATE,
   *  OUT_OF_RANGE, TIMED_OUT, CANCELED, or the abort reason; a stream may then have taken
   *  a part. */
  async write(bytes: Uint8Array | string, options: WaitOptions = {}): Promise<void> {
    const operation = 'Socket.write';
    const data = toBytes(bytes, operation);
    const deadline = deadlineFromTimeout(options.timeout, operation);
    if (options.signal?.aborted) throw options.signal.reason;
    let offset = 0;
    do {
      const { status, actual } = sys.socketWrite(this.raw, 0, offset ? data.subarray(offset) : data);
      if (status === ZX_OK) {
        offset += actual;
        continue;
      }
      if (status !== ZX_ERR_SHOULD_WAIT) throw new ZxError(status, operation);
      const waited = await withAbort(() => sys.objectWaitOneAsync(this.raw, WRITE_WAKE, deadline), options.signal);
      check(waited.status, operation);
    } while (offset < data.length);
  }

  /** zx_socket_set_disposition: ZX_SOCKET_DISPOSITION_WRITE_DISABLED stops this end's
   *  writes (`disposition`) or the peer's (`dispositionPeer`); the reader then gets what
   *  was written, then the end. WRITE_ENABLED re-enables them once that is read (BAD_STATE
   *  before). Where an end went out as a bare descriptor, dispositions are shutdowns, which
   *  Linux can't undo: WRITE_ENABLED on a disabled side then throws NOT_SUPPORTED
   *  (docs/objects.md, "Write dispositions"). */
  setDisposition(disposition: number, dispositionPeer = 0): void {
    check(sys.socketSetDisposition(this.raw, disposition, dispositionPeer), 'Socket.setDisposition');
  }

  /** A Node Duplex over this (stream) socket, which it takes: this Socket becomes invalid.
   *  end() disables the stream's writes (the peer reads to the end), destroy() closes the
   *  handle (the peer sees PEER_CLOSED). */
  toStream(options: DuplexOptions = {}): SocketStream {
    return new SocketStream(new Socket(this.release()), options);
  }

  /** Chunks of up to `chunkBytes` (whole datagrams, if shorter) until the end. */
  async *chunks(chunkBytes = 65536, options: WaitOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const bytes = await this.read(chunkBytes, options);
      if (bytes === null) return;
      yield bytes;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return this.chunks();
  }
}

export interface Socket {
  /** @deprecated Renamed `read()`, which returns the same promise; goes at 1.0. */
  readAsync(length: number, options?: SocketReadOptions): Promise<Buffer | null>;
  /** @deprecated Renamed `write()`, which returns the same promise; goes at 1.0. */
  writeAsync(bytes: Uint8Array | string, options?: WaitOptions): Promise<void>;
}
renamedMethod(Socket.prototype, 'Socket', 'readAsync', 'read');
renamedMethod(Socket.prototype, 'Socket', 'writeAsync', 'write');

registerHandleClass(ZX_OBJ_TYPE_SOCKET, Socket);
