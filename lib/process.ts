// Startup handles: spawn a child with handles moved into it, and take them there by id,
// as Fuchsia's processargs do (PA_HND(PA_USER0, n)). docs/processes.md has the format.
import {
  type ChildProcess,
  spawn as spawnChild,
  type SpawnOptions as NodeSpawnOptions,
  type StdioOptions,
} from 'node:child_process';
import { closeSync, fstatSync } from 'node:fs';
import {
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_NOT_SUPPORTED,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
  ZX_RIGHT_TRANSFER,
} from './constants';
import { isU32, u32 } from './check';
import { ZxError } from './errors';
import { type Handle, handleValue, takeHandle } from './handle';
// The addon directly only for handleExport / handleImport(Check): startup handles are this
// module's extension and have no sys face (docs/processes.md).
import { native, type NativeBinding } from './native';
import * as sys from './sys';

/** The environment variable that describes a child's startup handles. */
export const STARTUP_HANDLES_ENV = 'ZIRCON_IPC_HANDLES';

// Descriptors 0-2 are the process's stdio (Node's own): never startup handles.
const FIRST_STARTUP_FD = 3;

// The description this process was started with, taken out of the environment as soon as
// the library loads: no child of this one, however spawned, inherits it.
const startupText = process.env[STARTUP_HANDLES_ENV];
delete process.env[STARTUP_HANDLES_ENV];

export interface StartupHandle {
  /** PA_HND(type, arg), e.g. PA_HND(PA_USER0, 0). */
  id: number;
  /** Moved into the child: gone from this process once spawn returns. */
  handle: number | Handle;
}

/** One entry of ZIRCON_IPC_HANDLES (JSON array): the descriptor `fd` in the child and the
 *  identity it had here. Koids are decimal strings (64-bit). */
export interface StartupHandleEntry {
  id: number;
  fd: number;
  type: number;
  rights: number;
  koid: string;
  relatedKoid: string;
  /** Present (true) when the descriptor is a channel holding one message that carries the
   *  handle: objects of more than one descriptor (events, eventpairs) travel this way. */
  boxed?: boolean;
  /** The descriptor's device and inode numbers (fstat in the parent), decimal strings:
   *  the child takes only the descriptor the parent described. */
  dev: string;
  ino: string;
}

export interface PreparedHandles {
  /** Descriptors to put in the child's stdio, in order, from `firstFd` on. */
  fds: number[];
  /** Environment entries for the child. */
  env: Record<string, string>;
  /** Closes this process's copies of the descriptors (after the child is spawned). */
  close(): void;
}

/** Turns handles into descriptors plus their description, for a child spawned by any
 *  means: put `fds` at stdio positions firstFd, firstFd+1, ... and merge `env`. The handles
 *  are consumed, also on failure (then every one is closed and a ZxError thrown). */
export function prepareStartupHandles(handles: readonly StartupHandle[], firstFd = 3): PreparedHandles {
  return prepare('prepareStartupHandles', handles, firstFd);
}

// prepareStartupHandles, for `fn` (the function the user called).
function prepare(fn: string, handles: readonly StartupHandle[], firstFd: number): PreparedHandles {
  // Everything is checked before anything is released, so a TypeError loses nothing.
  if (!Number.isInteger(firstFd) || firstFd < FIRST_STARTUP_FD || firstFd > 0x7fffffff) {
    throw new TypeError(`${fn}: firstFd must be an integer from ${FIRST_STARTUP_FD} (0-2 are stdio)`);
  }
  if (!Array.isArray(handles)) throw new TypeError(`${fn}: handles must be an array`);
  const ids = new Set<number>();
  handles.forEach(({ id, handle }, i) => {
    u32(fn, `handles[${i}].id`, id);
    if (ids.has(id)) throw new TypeError(`${fn}: id ${id} is given twice`);
    ids.add(id);
    handleValue(fn, `handles[${i}].handle`, handle);
  });
  const raws = handles.map(({ handle }, i) => takeHandle(fn, `handles[${i}].handle`, handle));
  const fds: number[] = [];
  const entries: StartupHandleEntry[] = [];
  const close = () => fds.splice(0).forEach((fd) => closeSync(fd));
  for (let i = 0; i < raws.length; i++) {
    let exported = transferable(raws[i]) ? native.handleExport(raws[i]) : ZX_ERR_ACCESS_DENIED;
    let boxed = false;
    if (exported === ZX_ERR_NOT_SUPPORTED) {
      exported = boxedExport(raws[i]);
      boxed = true;
    }
    if (typeof exported === 'number') {
      close();
      sys.handleCloseMany(raws.slice(i)); // the refused one too: all are consumed
      throw new ZxError(exported, fn, `startup handle ${handles[i].id}`);
    }
    const [fd, type, rights, koid, relatedKoid] = exported;
    fds.push(fd);
    const { dev, ino } = fstatSync(fd, { bigint: true });
    const entry: StartupHandleEntry = {
      id: handles[i].id,
      fd: firstFd + i,
      type,
      rights,
      koid: String(koid),
      relatedKoid: String(relatedKoid),
      dev: String(dev),
      ino: String(ino),
    };
    if (boxed) entry.boxed = true;
    entries.push(entry);
  }
  return { fds, env: { [STARTUP_HANDLES_ENV]: JSON.stringify(entries) }, close };
}

// Moving a handle into another process is a transfer, as a channel write is: it needs
// ZX_RIGHT_TRANSFER whatever the type. (A value that is no handle is left to handleExport,
// which says BAD_HANDLE.)
function transferable(raw: number): boolean {
  const { status, info } = sys.objectGetInfo(raw, ZX_INFO_HANDLE_BASIC);
  return status !== ZX_OK || (info!.rights & ZX_RIGHT_TRANSFER) !== 0;
}

// A handle that is not one descriptor goes inside a message on a new channel, whose other
// end is exported instead. Consumes the handle; a status when that fails.
function boxedExport(raw: number): ReturnType<NativeBinding['handleExport']> {
  const box = sys.channelCreate(0);
  if (box.status !== ZX_OK) {
    sys.handleClose(raw);
    return box.status;
  }
  const status = sys.channelWrite(box.out0, 0, null, [raw]);
  sys.handleClose(box.out0); // the message stays readable at the other end
  if (status !== ZX_OK) {
    sys.handleClose(box.out1);
    return status;
  }
  return native.handleExport(box.out1);
}

export interface SpawnOptions extends NodeSpawnOptions {
  handles?: StartupHandle[];
}

function stdioArray(stdio: StdioOptions | undefined): unknown[] {
  if (Array.isArray(stdio)) return [...stdio];
  const mode = stdio ?? 'pipe';
  return [mode, mode, mode];
}

/** child_process.spawn, plus `handles` moved into the child (taken there with
 *  takeStartupHandle); each needs ZX_RIGHT_TRANSFER (else ZxError ACCESS_DENIED, and
 *  nothing is started). Returns Node's ChildProcess. */
export function spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  const { handles = [], ...nodeOptions } = options;
  const stdio = stdioArray(nodeOptions.stdio);
  while (stdio.length < 3) stdio.push('pipe');
  const prepared = prepare('spawn', handles, stdio.length);
  try {
    return spawnChild(command, args, {
      ...nodeOptions,
      stdio: [...stdio, ...prepared.fds] as StdioOptions,
      env: { ...(nodeOptions.env ?? process.env), ...prepared.env },
    });
  } finally {
    prepared.close(); // the child has its own copies now
  }
}

// The entries not taken yet, or why the description was refused (then nothing is taken).
let startupHandles: Map<number, StartupHandleEntry> | ZxError | undefined;

function readStartupHandles(): Map<number, StartupHandleEntry> {
  startupHandles ??= parseStartupHandles(startupText ?? '[]');
  if (startupHandles instanceof ZxError) throw startupHandles;
  return startupHandles;
}

const isDecimalU64 = (value: unknown): boolean =>
  typeof value === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(value) && BigInt(value) < 1n << 64n;

// Why an entry is not well formed, or undefined when it is.
function malformed(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'not an object';
  const { id, fd, type, rights, koid, relatedKoid, boxed, dev, ino } = entry as Record<string, unknown>;
  if (!isU32(id)) return 'id is not an unsigned 32-bit integer';
  if (!Number.isInteger(fd) || (fd as number) < FIRST_STARTUP_FD || (fd as number) > 0x7fffffff) {
    return `fd is not a descriptor number from ${FIRST_STARTUP_FD} (0-2 are stdio)`;
  }
  if (!isU32(type)) return 'type is not an unsigned 32-bit integer';
  if (!isU32(rights)) return 'rights is not an unsigned 32-bit integer';
  const numbers = { koid, relatedKoid, dev, ino };
  for (const [name, value] of Object.entries(numbers)) {
    if (!isDecimalU64(value)) return `${name} is not a decimal string of a 64-bit number`;
  }
  if (boxed !== undefined && boxed !== true) return 'boxed is not true';
  if (boxed && type !== ZX_OBJ_TYPE_CHANNEL) return 'a boxed entry is not a channel';
  return undefined;
}

// The whole description is checked before anything is adopted: each entry well formed,
// ids and descriptors given once, and each descriptor open, of the kind its type says (the
// check a descriptor arriving in a message gets) and the very one the parent described.
function parseStartupHandles(text: string): Map<number, StartupHandleEntry> | ZxError {
  const refuse = (status: number, why: string) =>
    new ZxError(status, 'takeStartupHandle', `${STARTUP_HANDLES_ENV} ${why}; no startup handle is taken`);
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return refuse(ZX_ERR_INVALID_ARGS, 'is not JSON');
  }
  if (!Array.isArray(list)) return refuse(ZX_ERR_INVALID_ARGS, 'is not an array');
  const entries = new Map<number, StartupHandleEntry>();
  const fds = new Set<number>();
  for (const [i, entry] of list.entries()) {
    const why =
      malformed(entry) ??
      (entries.has(entry.id)
        ? `id ${entry.id} is given twice`
        : fds.has(entry.fd)
          ? `fd ${entry.fd} is given twice`
          : undefined);
    if (why) return refuse(ZX_ERR_INVALID_ARGS, `entry ${i}: ${why}`);
    entries.set(entry.id, entry);
    fds.add(entry.fd);
  }
  for (const [i, { fd, type, dev, ino }] of [...entries.values()].entries()) {
    const status = native.handleImportCheck(fd, type);
    if (status !== ZX_OK) return refuse(status, `entry ${i}: fd ${fd} is not an open descriptor of type ${type}`);
    const now = fstatSync(fd, { bigint: true });
    if (String(now.dev) !== dev || String(now.ino) !== ino) {
      return refuse(
        ZX_ERR_BAD_HANDLE,
        `entry ${i}: fd ${fd} is not the descriptor described (device ${now.dev}, inode ${now.ino})`,
      );
    }
  }
  return entries;
}

/** The handle the parent passed under `id`, or ZX_HANDLE_INVALID when there is none or it
 *  was already taken. Throws ZxError, and takes nothing, when ZIRCON_IPC_HANDLES is not a
 *  true description of this process's descriptors (docs/processes.md). */
export function takeStartupHandle(id: number): number {
  u32('takeStartupHandle', 'id', id);
  const entries = readStartupHandles();
  const entry = entries.get(id);
  if (!entry) return ZX_HANDLE_INVALID;
  entries.delete(id);
  const status = native.handleImport(entry.fd, entry.type, entry.rights, BigInt(entry.koid), BigInt(entry.relatedKoid));
  if (status !== ZX_OK) throw new ZxError(status, 'takeStartupHandle', `id ${id}`);
  const handle = native.scratch[0];
  return entry.boxed ? unbox(handle, id) : handle;
}

// The handle inside a boxed entry's channel (the channel is closed).
function unbox(channel: number, id: number): number {
  const r = sys.channelRead(channel, 0, 0, 1);
  sys.handleClose(channel);
  if (r.status !== ZX_OK || r.handles.length !== 1) {
    sys.handleCloseMany(r.handles);
    throw new ZxError(
      r.status !== ZX_OK ? r.status : ZX_ERR_IO_DATA_INTEGRITY,
      'takeStartupHandle',
      `id ${id}: the box holds no handle`,
    );
  }
  return r.handles[0];
}
