// Plain descriptors as handles and back, named after Fuchsia's fdio (SPEC §4).
import { ZX_HANDLE_INVALID, ZX_OK } from './constants';
import { type Handle, takeHandle } from './handle';
import { native } from './native';

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

export { serviceConnect } from './service';
