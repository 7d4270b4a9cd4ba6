// The one module that loads the compiled addon (a prebuild from prebuilds/ when present,
// else build/Release) and declares its exact surface. Everything else imports from here.
import path from 'node:path';

// node-gyp-build ships no types: it takes the package root and returns the addon.
const nodeGypBuild = require('node-gyp-build') as (root: string) => unknown;

/** Statuses are numbers; out-values land in `scratch` (layout below). */
export interface NativeBinding {
  /** [0] actualBytes / out0 / out / observed / fd, [1] actualHandles / out1,
   *  [2..66) handle values, [66..130) types, [130..194) rights of a read. */
  readonly scratch: Uint32Array;
  channelCreate(options: number): number;
  channelWrite(h: number, options: number, bytes: Uint8Array | Uint8Array[] | null, handles: number[] | null): number;
  /** dispositions: [operation, handle, type, rights, result] × n; `result` is filled. */
  channelWriteEtc(h: number, options: number, bytes: Uint8Array | Uint8Array[] | null, dispositions: Uint32Array | null): number;
  /** On ZX_OK the payload's offset in the read pool (≥ 0; its length in scratch[0]), or a
   *  Buffer when it did not come through the pool; else a status (< 0). */
  channelRead(h: number, options: number, numBytes: number, numHandles: number): Buffer | number;
  /** channelRead, with the handles' rights in scratch too (channelRead leaves them out). */
  channelReadEtc(h: number, options: number, numBytes: number, numHandles: number): Buffer | number;
  /** The payload into `bytes` (numBytes = its length); a status, sizes and handle values
   *  in scratch as for channelRead. */
  channelReadInto(h: number, options: number, bytes: Uint8Array, numHandles: number): number;
  /** Where channelRead receives from now on (at its start): at least receiveBufferBytes long. */
  setReadPool(pool: Buffer): void;
  /** Later reads receive at `start` in the pool; false (nothing moves) without the room. */
  moveReadPool(start: number): boolean;
  /** The largest record plus one byte. */
  readonly receiveBufferBytes: number;
  channelCall(
    h: number, options: number, deadline: bigint, bytes: Uint8Array | Uint8Array[] | null,
    handles: number[] | Uint32Array | null, etc: boolean, readNumBytes: number, readNumHandles: number,
  ): Buffer | number;
  /** Settles with handles as { handle, type, rights }; scratch[0] = id for cancelAsync. */
  channelCallAsync(
    h: number, options: number, deadline: bigint, bytes: Uint8Array | Uint8Array[] | null,
    handles: number[] | Uint32Array | null, etc: boolean, readNumBytes: number, readNumHandles: number,
  ): Promise<NativeCallResult>;
  objectWaitOne(h: number, signals: number, deadline: bigint): number;
  /** scratch[0] = id for cancelAsync (0 when already settled). */
  objectWaitOneAsync(h: number, signals: number, deadline: bigint): Promise<{ status: number; observed: number }>;
  /** Settles a pending async wait or call with ZX_ERR_CANCELED. */
  cancelAsync(id: number): boolean;
  objectWaitMany(items: { handle: number; waitfor: number; pending: number }[], deadline: bigint): number;
  objectGetInfo(h: number, topic: number): number | [number, bigint, number, number, bigint];
  handleClose(h: number): number;
  handleCloseMany(handles: number[]): number;
  handleDuplicate(h: number, rights: number): number;
  handleReplace(h: number, rights: number): number;
  fdTransfer(fd: number): number;
  fdClone(fd: number): number;
  fdCreate(h: number): number;
  handleCount(): number;
  /** Consumes the handle: [fd, type, rights, koid, relatedKoid], or a status. */
  handleExport(h: number): number | [number, number, number, bigint, bigint];
  /** scratch[0] = the handle adopting `fd` with that identity. */
  handleImport(fd: number, type: number, rights: number, koid: bigint, relatedKoid: bigint): number;
  /** scratch[0] = the listening socket's handle. */
  serviceListen(name: string, abstract: boolean, mode: number): number;
  /** scratch[0..3] = connection channel handle, pid, uid, gid. */
  serviceAccept(listener: number): number;
  /** scratch[0] = the connection's channel handle. */
  serviceConnect(name: string, abstract: boolean): number;
}

export interface NativeCallResult {
  status: number;
  bytes: Buffer;
  handles: { handle: number; type: number; rights: number }[];
  actualBytes: number;
  actualHandles: number;
}

export const SCRATCH_HANDLES = 2;
export const SCRATCH_TYPES = SCRATCH_HANDLES + 64;
export const SCRATCH_RIGHTS = SCRATCH_TYPES + 64;

export const native = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
