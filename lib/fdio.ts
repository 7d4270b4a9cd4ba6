// Plain descriptors as handles and back, named after Fuchsia's fdio (README.md, "Descriptors as handles").
import {
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
} from './constants';
// Below the classes: Channel as a type only; handle.ts for its argument helpers (a Handle
// object is taken as well as a raw value), which need the base class alone.
import type { Channel } from './channel';
import { u32 } from './check';
import { type Handle, handleValue, takeHandle } from './handle';
import { native } from './native';
import { serviceAddress, serviceDial } from './service-socket';
import * as sys from './sys';

function fdArg(fn: string, fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw new TypeError(`${fn}: fd must be an integer file descriptor`);
  }
  return fd;
}

/** The descriptor now belongs to the handle. A SEQPACKET AF_UNIX socket becomes a
 *  channel endpoint; anything else a ZX_OBJ_TYPE_FD handle with rights from its mode. */
export function fdTransfer(fd: number): { status: number; handle: number } {
  const status = native.fdTransfer(fdArg('fdio.fdTransfer', fd));
  return { status, handle: status === ZX_OK ? native.scratch[0] : ZX_HANDLE_INVALID };
}

/** Like fdTransfer on a duplicate: the caller keeps its descriptor. */
export function fdClone(fd: number): { status: number; handle: number } {
  const status = native.fdClone(fdArg('fdio.fdClone', fd));
  return { status, handle: status === ZX_OK ? native.scratch[0] : ZX_HANDLE_INVALID };
}

/** Consumes the handle (a Handle becomes invalid) and returns a descriptor for its object
 *  (close-on-exec). */
export function fdCreate(handle: Handle | number): { status: number; fd: number } {
  const status = native.fdCreate(takeHandle('fdio.fdCreate', 'handle', handle));
  return { status, fd: status === ZX_OK ? native.scratch[0] | 0 : -1 };
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
  const { name, abstract } = serviceAddress(path, fn);
  const expected = expectedListener(options);
  const info = sys.objectGetInfo(handleValue(fn, 'request', request), ZX_INFO_HANDLE_BASIC);
  if (info.status !== ZX_OK) return info.status;
  const raw = takeHandle(fn, 'request', request);
  if (info.info?.type !== ZX_OBJ_TYPE_CHANNEL) {
    sys.handleClose(raw);
    return ZX_ERR_WRONG_TYPE;
  }
  const { status, connection, pid, uid } = serviceDial(name, abstract);
  if (status !== ZX_OK) {
    sys.handleClose(raw);
    return status;
  }
  // SO_PEERCRED: who called listen(2) on the socket we reached. Anyone may bind an
  // abstract name first, so this is the only way to know who is there (docs/processes.md).
  if ((expected.uid !== undefined && uid !== expected.uid) || (expected.pid !== undefined && pid !== expected.pid)) {
    sys.handleCloseMany([connection, raw]);
    return ZX_ERR_ACCESS_DENIED;
  }
  // One descriptor, for servers outside this library (docs/processes.md).
  const wrote = native.serviceSendRequest(connection, raw);
  sys.handleClose(connection);
  return wrote;
}
