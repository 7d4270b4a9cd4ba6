// The sys face of events and eventpairs, and of user signals on any object (README.md, "API").
import { u32 } from './check';
import { native, oneHandleResult, pairResult } from './native';
import type { CreatePairResult, OneHandleResult } from './native';

/** A new event (options must be 0). */
export function eventCreate(options: number): OneHandleResult {
  const status = native.eventCreate(u32('eventCreate', 'options', options));
  return oneHandleResult(status);
}

/** A new eventpair (options must be 0: anything else answers ZX_ERR_NOT_SUPPORTED). */
export function eventpairCreate(options: number): CreatePairResult {
  const status = native.eventpairCreate(u32('eventpairCreate', 'options', options));
  return pairResult(status);
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
