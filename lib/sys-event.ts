// The sys face of events and eventpairs, and of user signals on any object (SPEC §2).
import { ZX_HANDLE_INVALID, ZX_OK } from './constants';
import { u32 } from './check';
import { native } from './native';

const scratch = native.scratch;

/** A new event (options must be 0). */
export function eventCreate(options: number): { status: number; out: number } {
  const status = native.eventCreate(u32('eventCreate', 'options', options));
  return { status, out: status === ZX_OK ? scratch[0] : ZX_HANDLE_INVALID };
}

/** A new eventpair (options must be 0: anything else answers ZX_ERR_NOT_SUPPORTED). */
export function eventpairCreate(options: number): { status: number; out0: number; out1: number } {
  const status = native.eventpairCreate(u32('eventpairCreate', 'options', options));
  return status === ZX_OK
    ? { status, out0: scratch[0], out1: scratch[1] }
    : { status, out0: ZX_HANDLE_INVALID, out1: ZX_HANDLE_INVALID };
}

/** Clears, then sets, signals of the object: ZX_EVENT_SIGNALED and the user signals on
 *  events and eventpairs. Other objects answer ZX_ERR_NOT_SUPPORTED after the checks. */
export function objectSignal(h: number, clear: number, set: number): number {
  const fn = 'objectSignal';
  return native.objectSignal(u32(fn, 'handle', h), u32(fn, 'clear', clear), u32(fn, 'set', set));
}

/** objectSignal on the other side of an eventpair; ZX_ERR_PEER_CLOSED once it is gone. */
export function objectSignalPeer(h: number, clear: number, set: number): number {
  const fn = 'objectSignalPeer';
  return native.objectSignalPeer(u32(fn, 'handle', h), u32(fn, 'clear', clear), u32(fn, 'set', set));
}
