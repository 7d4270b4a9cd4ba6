// The one module that loads the compiled addon and declares its exact surface. Everything
// else imports from here. node-gyp-build picks the binary: a local build in build/Release
// (what the install script or `npm rebuild` compiles) when there is one, else the
// prebuilt binary in prebuilds/<platform>-<arch>/ that fits this libc.
// ZIRCON_IPC_PREBUILD=<dir> (node-gyp-build's own variable) makes it look in <dir> first:
// scripts/sanitize.sh points it at the sanitized build.
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { ZX_HANDLE_INVALID, ZX_OK } from './constants';

// node-gyp-build ships no types: it takes the package root and returns the addon.
const nodeGypBuild = require('node-gyp-build') as (root: string) => unknown;

/** Statuses are numbers; out-values land in `scratch` (layout below). */
export interface NativeBinding {
  /** [0] actualBytes / out0 / out / observed / fd, [1] actualHandles / out1, then a
   *  read's handle values, types and rights (where: `layout`, lib/native-layout.ts). */
  readonly scratch: Uint32Array;
  /** Offsets in the words the addon shares with lib/ (read by lib/native-layout.ts). */
  readonly layout: NativeLayout;
  channelCreate(options: number): number;
  /** A status, or ZX_OK_ABOVE_HIGH_WATER: taken, and the outbound queue is at or above its
   *  high-water mark (so are channelWriteMany's). */
  channelWrite(h: number, options: number, bytes: Uint8Array | Uint8Array[] | null, handles: number[] | null): number;
  /** ZX_OK once the outbound queue is below its low-water mark (at once if it is);
   *  ZX_ERR_CANCELED if the handle is closed or moved first. Never rejected; undefined
   *  once the environment is going away. */
  channelDrainAsync(h: number): Promise<number> | undefined;
  /** How many messages wait in the endpoint's outbound queue, or a status (< 0). */
  channelQueued(h: number): number;
  /** dispositions: [operation, handle, type, rights, result] × n; `result` is filled. */
  channelWriteEtc(
    h: number,
    options: number,
    bytes: Uint8Array | Uint8Array[] | null,
    dispositions: Uint32Array | null,
  ): number;
  /** On ZX_OK the payload's offset in the read pool (≥ 0; its length in scratch[0]), or a
   *  Buffer when it did not come through the pool; else a status (< 0). */
  channelRead(h: number, options: number, numBytes: number, numHandles: number): Buffer | number;
  /** channelRead, with the handles' rights in scratch too (channelRead leaves them out). */
  channelReadEtc(h: number, options: number, numBytes: number, numHandles: number): Buffer | number;
  /** The payload into `bytes` (numBytes = its length); a status, sizes and handle values
   *  in scratch as for channelRead. */
  channelReadInto(h: number, options: number, bytes: Uint8Array, numHandles: number): number;
  /** Reads the channel from this thread's event loop: while `messages`, `fn` gets each
   *  message (or failed read) as channelRead answers it, until PEER_CLOSED or BAD_HANDLE
   *  (the last it gets; BAD_HANDLE whatever `messages` says); and the reply to each call
   *  made by channelListenCall (as channelCall answers it) with the call's txid.
   *  → a listener id (> 0) or a status (< 0). */
  channelListen(h: number, fn: (r: Buffer | number, txid?: number) => void, messages: boolean): number;
  /** Ends a listener at once (its pending calls are taken back); false if it had ended. */
  channelUnlisten(id: number): boolean;
  /** Whether the listener reads messages. */
  channelListenMessages(id: number, messages: boolean): void;
  /** Messages the listener reads besides, for pending reads: +1 a read, -1 one given up;
   *  each message (or failed read) it passes on uses one. */
  channelListenCredit(id: number, delta: number): void;
  /** Whether the listener keeps the event loop alive while it reads messages (it does at
   *  first); pending calls keep it alive in any case. */
  channelListenRef(id: number, ref: boolean): void;
  /** A call through the listener (the handles move with it) → its txid (> 0), or a status
   *  (< 0): then no call was made. */
  channelListenCall(id: number, bytes: Uint8Array, handles: number[] | null): number;
  /** Takes a pending call back: true if it was still pending; false if its reply (or
   *  failure) is on its way to the listener. */
  channelListenCancel(id: number, txid: number): boolean;
  channelWriteMany(
    h: number,
    options: number,
    bytes: Uint8Array,
    ends: Uint32Array,
    handles: (number[] | null)[] | null,
  ): number;
  channelReadMany(h: number, options: number, max: number): number | [Buffer, Uint32Array];
  /** Where channelRead receives from now on (at its start): at least receiveBufferBytes long. */
  setReadPool(pool: Buffer): void;
  /** Later reads receive at `start` in the pool; false (nothing moves) without the room. */
  moveReadPool(start: number): boolean;
  /** The largest record plus one byte. */
  readonly receiveBufferBytes: number;
  /** The system-call backend chosen at load (docs/architecture.md, "Backends"). */
  readonly backend: 'linux' | 'portable';
  channelCall(...args: NativeCallArgs): Buffer | number;
  /** Settles with handles as { handle, type, rights }; scratch[0] = id for cancelAsync. */
  channelCallAsync(...args: NativeCallArgs): Promise<NativeCallResult>;
  objectWaitOne(h: number, signals: number, deadline: bigint): number;
  /** scratch[0] = id for cancelAsync (0 when already settled). */
  objectWaitOneAsync(h: number, signals: number, deadline: bigint): Promise<{ status: number; observed: number }>;
  /** Settles a pending async wait or call with ZX_ERR_CANCELED. */
  cancelAsync(id: number): boolean;
  objectWaitMany(items: { handle: number; waitfor: number; pending: number }[], deadline: bigint): number;
  /** A status; for HANDLE_BASIC [status, koid, rights, type, relatedKoid]; for another topic with a record [status, record in Zircon's layout]. */
  objectGetInfo(h: number, topic: number): number | [number, bigint, number, number, bigint] | [number, Buffer];
  /** A status, or [status, value]: a string for ZX_PROP_NAME, a bigint otherwise. */
  objectGetProperty(h: number, property: number): number | [number, string | bigint];
  /** `value`: the name's bytes. */
  objectSetProperty(h: number, property: number, value: Uint8Array | bigint | null): number;
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
  /** Whether handleImport would take `fd` as `type` (ZX_OK, or the status it would answer). */
  handleImportCheck(fd: number, type: number): number;
  /** scratch[0] = the listening socket's handle. */
  serviceListen(name: string, abstract: boolean, mode: number): number;
  /** scratch[0..3] = connection channel handle, pid, uid, gid. */
  serviceAccept(listener: number): number;
  /** scratch[0] = the connection's channel handle. */
  serviceConnect(name: string, abstract: boolean): number;
  serviceSendRequest(connection: number, request: number): number;

  // ---- events and eventpairs (native/binding/event_js.cc) ----
  /** scratch[0] = the event. */
  eventCreate(options: number): number;
  /** scratch[0], scratch[1] = the two sides. */
  eventpairCreate(options: number): number;
  objectSignal(h: number, clear: number, set: number): number;
  objectSignalPeer(h: number, clear: number, set: number): number;
  // ---- VMOs (native/binding/vmo_js.cc); sizes and offsets: a safe integer or a bigint ----
  /** scratch[0] = the new VMO's handle. */
  vmoCreate(size: number | bigint, options: number): number;
  /** The bytes read, or a status. */
  vmoRead(h: number, length: number | bigint, offset: number | bigint): Buffer | number;
  vmoWrite(h: number, bytes: Uint8Array, offset: number | bigint): number;
  /** The size, or a status (a number). */
  vmoGetSize(h: number): bigint | number;
  vmoSetSize(h: number, size: number | bigint): number;
  vmoOpRange(h: number, op: number, offset: number | bigint, size: number | bigint): number;
  /** scratch[0] = the child's handle. */
  vmoCreateChild(h: number, options: number, offset: number | bigint, size: number | bigint): number;
  /** The whole VMO mapped shared, or a status; a VMO longer than maxLength: NO_MEMORY; a
   *  resizable one without allowFaults: NOT_SUPPORTED. */
  vmoMap(h: number, maxLength: number, allowFaults: boolean): ArrayBuffer | number;
  /** Detaches then unmaps a buffer vmoMap made; NOT_FOUND for anything else. */
  vmoUnmap(buffer: ArrayBuffer): number;
  // ---- timers (native/binding/timer_js.cc) ----
  /** scratch[0] = the new timer's handle. */
  timerCreate(options: number, clockId: number): number;
  timerSet(h: number, deadline: bigint, slack: bigint): number;
  timerCancel(h: number): number;
  // ---- sockets (native/binding/socket_js.cc) ----
  /** scratch[0], scratch[1] = the two ends. */
  socketCreate(options: number): number;
  /** scratch[0] = bytes written. */
  socketWrite(h: number, options: number, bytes: Uint8Array): number;
  /** On ZX_OK, as channelRead: the bytes' offset in the read pool (≥ 0), or a Buffer holding
   *  them when they did not fit there; their count in scratch[0]. Else a status (< 0). */
  socketRead(h: number, options: number, length: number | bigint): Buffer | number;
  socketSetDisposition(h: number, disposition: number, dispositionPeer: number): number;
  // ---- ports (native/binding/port_js.cc) ----
  /** scratch[0] = the port. */
  portCreate(options: number): number;
  /** `user`: at most 32 bytes, zero-padded; null for zeros. */
  portQueue(port: number, key: bigint, type: number, status: number, user: Uint8Array | null): number;
  /** Blocks the calling thread; on ZX_OK scratch from layout.scratchPacket on = the packet
   *  as zx_port_packet_t's uint32 words (key lo, key hi, type, status, then the 32 bytes of
   *  user or signal; layout.packet*, layout.signal*). */
  portWait(port: number, deadline: bigint): number;
  /** A promise of [status] or [ZX_OK, ...the packet's words], with scratch[0] = id for
   *  cancelAsync; or, settled at once, the status (scratch[0] = 0; on ZX_OK the words in
   *  scratch as for portWait). */
  portWaitAsync(port: number, deadline: bigint): Promise<number[]> | number;
  objectWaitAsync(h: number, port: number, key: bigint, signals: number, options: number): number;
  portCancel(port: number, source: number, key: bigint): number;
  // ---- teardown (native/binding/teardown_js.cc) ----
  /** The process exits: blocking waits on other threads end with ZX_ERR_CANCELED. */
  cancelBlockedWaits(): void;
}

/** The arguments of channelCall and channelCallAsync. */
export type NativeCallArgs = [
  h: number,
  options: number,
  deadline: bigint,
  bytes: Uint8Array | Uint8Array[] | null,
  handles: number[] | Uint32Array | null,
  etc: boolean,
  readNumBytes: number,
  readNumHandles: number,
];

export interface NativeCallResult {
  status: number;
  bytes: Buffer;
  handles: { handle: number; type: number; rights: number }[];
  actualBytes: number;
  actualHandles: number;
}

/** Offsets in uint32 words (native/binding/layout_js.cc). */
export interface NativeLayout {
  readonly scratchLength: number;
  readonly scratchHandles: number;
  readonly scratchTypes: number;
  readonly scratchRights: number;
  readonly scratchPacket: number;
  readonly dispositionWords: number;
  readonly dispositionResult: number;
  readonly packetWords: number;
  readonly packetKey: number;
  readonly packetType: number;
  readonly packetStatus: number;
  readonly packetUser: number;
  readonly packetUserBytes: number;
  readonly signalTrigger: number;
  readonly signalObserved: number;
  readonly signalCount: number;
  readonly signalTimestamp: number;
}

export const native = loadAddon(path.join(__dirname, '..'));

/** node-gyp-build's loader, with its bare "No native build was found" (no local build and
 *  no prebuild for this platform) turned into what happened and what to run. */
function loadAddon(root: string): NativeBinding {
  try {
    return nodeGypBuild(root) as NativeBinding;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('No native build was found')) throw error;
    throw new Error(
      `zircon-ipc: its native addon was never built here. No prebuilt binary in the package fits ` +
        `this platform (${process.platform}-${process.arch}), and no local build exists because ` +
        `the package's install script did not run (npm's allowScripts policy, --ignore-scripts, ` +
        `or pnpm skip it until approved). Approve it and build: \`npm install-scripts approve ` +
        `zircon-ipc && npm rebuild zircon-ipc\` (pnpm: \`pnpm approve-builds\`, then ` +
        `\`pnpm rebuild zircon-ipc\`). Building needs a C++17 compiler, make and Python 3 ` +
        `(README.md, "Installing"). node-gyp-build said: ${error.message.trim()}`,
      { cause: error },
    );
  }
}

// Exiting (process.exit(), or the end of the main thread's loop) Node stops the workers
// one at a time and waits for each: end every blocking wait at once instead (README.md,
// "Blocking waits end with their thread's environment").
if (isMainThread) process.on('exit', () => native.cancelBlockedWaits());

export interface OneHandleResult {
  status: number;
  out: number;
}

export interface CreatePairResult {
  status: number;
  out0: number;
  out1: number;
}

/** The result of a call that made one handle (in scratch[0]), ZX_HANDLE_INVALID unless ZX_OK. */
export function oneHandleResult(status: number): OneHandleResult {
  return { status, out: status === ZX_OK ? native.scratch[0] : ZX_HANDLE_INVALID };
}

/** The result of a call that made two handles (scratch[0], scratch[1]), likewise. */
export function pairResult(status: number): CreatePairResult {
  return status === ZX_OK
    ? { status, out0: native.scratch[0], out1: native.scratch[1] }
    : { status, out0: ZX_HANDLE_INVALID, out1: ZX_HANDLE_INVALID };
}
