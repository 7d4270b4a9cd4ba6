// The listening sockets behind services (docs/processes.md), at the level of sys: a path
// or abstract name as the addon takes it, and the addon's listen, accept and connect as
// statuses and raw handle values. No classes: `listen` (service.ts) and
// `fdio.serviceConnect` (fdio.ts) both sit on this.
import { ZX_HANDLE_INVALID, ZX_OK } from './constants';
import { native } from './native';

/** A path, or a Linux abstract name written with a leading '\0' as in Node's net module. */
export function serviceAddress(path: string, fn: string): { name: string; abstract: boolean } {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string`);
  return path.startsWith('\0') ? { name: path.slice(1), abstract: true } : { name: path, abstract: false };
}

/** A listening socket at the address, as a handle (ZX_HANDLE_INVALID on failure). */
export function serviceListen(name: string, abstract: boolean, mode: number): { status: number; handle: number } {
  const status = native.serviceListen(name, abstract, mode);
  return { status, handle: status === ZX_OK ? native.scratch[0] : ZX_HANDLE_INVALID };
}

export interface ServicePeer {
  status: number;
  /** The connection's channel end (ZX_HANDLE_INVALID unless status is ZX_OK). */
  connection: number;
  /** SO_PEERCRED of the other side. */
  pid: number;
  uid: number;
  gid: number;
}

/** The next waiting connection, with the client's credentials; SHOULD_WAIT if none waits. */
export function serviceAccept(listener: number): ServicePeer {
  const status = native.serviceAccept(listener);
  if (status !== ZX_OK) return { status, connection: ZX_HANDLE_INVALID, pid: 0, uid: 0, gid: 0 };
  const [connection, pid, uid, gid] = native.scratch.slice(0, 4);
  return { status, connection, pid: pid | 0, uid, gid };
}

/** A connection to the listener at the address, with the listener's credentials (gid 0). */
export function serviceDial(name: string, abstract: boolean): ServicePeer {
  const status = native.serviceConnect(name, abstract);
  if (status !== ZX_OK) return { status, connection: ZX_HANDLE_INVALID, pid: 0, uid: 0, gid: 0 };
  const [connection, pid, uid] = native.scratch.slice(0, 3);
  return { status, connection, pid, uid, gid: 0 };
}
