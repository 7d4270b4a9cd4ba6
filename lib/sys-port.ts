// The `sys` face of ports: zx_port_create, zx_port_queue, zx_port_wait (blocking and as a
// promise), zx_object_wait_async and zx_port_cancel.
import { ZX_OK, ZX_PKT_TYPE_SIGNAL_ONE, ZX_PKT_TYPE_USER } from './constants';
import { deadline as checkDeadline, i32, u32, u64 } from './check';
import { native, oneHandleResult } from './native';
import type { OneHandleResult } from './native';
import {
  PACKET_KEY,
  PACKET_STATUS,
  PACKET_TYPE,
  PACKET_USER,
  PACKET_USER_BYTES,
  SCRATCH_PACKET,
  SIGNAL_COUNT,
  SIGNAL_OBSERVED,
  SIGNAL_TIMESTAMP,
  SIGNAL_TRIGGER,
} from './native-layout';

const scratch = native.scratch;

/** zx_packet_signal_t: what an observer saw when it fired. */
export interface PacketSignal {
  /** The signals the observer asked for. */
  trigger: number;
  /** Every signal of the object when it fired. */
  observed: number;
  /** Always 1. */
  count: number;
  /** Monotonic (ZX_WAIT_ASYNC_TIMESTAMP) or boot (ZX_WAIT_ASYNC_BOOT_TIMESTAMP) time of
   *  the firing, in nanoseconds; 0n without either option. */
  timestamp: bigint;
}

/** A packet from portQueue. */
export interface PortUserPacket {
  key: bigint;
  type: typeof ZX_PKT_TYPE_USER;
  status: number;
  /** 32 bytes. */
  user: Buffer;
}

/** A packet from an observer (objectWaitAsync). */
export interface PortSignalPacket {
  key: bigint;
  type: typeof ZX_PKT_TYPE_SIGNAL_ONE;
  status: number;
  signal: PacketSignal;
}

export type PortPacket = PortUserPacket | PortSignalPacket;

/** What portQueue takes: `user` is at most 32 bytes (zero-padded; absent: zeros). Any
 *  `type` is queued as ZX_PKT_TYPE_USER, as Zircon does. */
export interface PortQueuePacket {
  key: bigint | number;
  type: number;
  status: number;
  user?: Uint8Array | null;
}

export interface PortWaitResult {
  status: number;
  /** null unless status is ZX_OK. */
  packet: PortPacket | null;
}

/** A 64-bit key: a bigint below 2^64, or a non-negative safe integer. */
const checkedKey = (fn: string, name: string, value: unknown): bigint => BigInt(u64(fn, name, value));

export function portCreate(options: number): OneHandleResult {
  const status = native.portCreate(u32('portCreate', 'options', options));
  return oneHandleResult(status);
}

/** Queues a user packet at the back: ZX_ERR_SHOULD_WAIT once more than 4096 user packets wait. */
export function portQueue(port: number, packet: PortQueuePacket): number {
  const fn = 'portQueue';
  if (typeof packet !== 'object' || packet === null)
    throw new TypeError(`${fn}: packet must be { key, type, status, user }`);
  const { user } = packet;
  if (user !== undefined && user !== null && !(user instanceof Uint8Array && user.length <= PACKET_USER_BYTES)) {
    throw new TypeError(`${fn}: packet.user must be a Uint8Array of at most 32 bytes`);
  }
  return native.portQueue(
    u32(fn, 'port', port),
    checkedKey(fn, 'packet.key', packet.key),
    u32(fn, 'packet.type', packet.type),
    i32(fn, 'packet.status', packet.status),
    user ?? null,
  );
}

function u64Of(lo: number, hi: number): bigint {
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** A packet from zx_port_packet_t's uint32 words, from `at` on (see native.portWait). */
function packetFrom(words: ArrayLike<number>, at: number): PortPacket {
  const key = u64Of(words[at + PACKET_KEY], words[at + PACKET_KEY + 1]);
  const type = words[at + PACKET_TYPE];
  const status = words[at + PACKET_STATUS] | 0;
  if (type === ZX_PKT_TYPE_SIGNAL_ONE) {
    const signal: PacketSignal = {
      trigger: words[at + SIGNAL_TRIGGER],
      observed: words[at + SIGNAL_OBSERVED],
      count: words[at + SIGNAL_COUNT] + words[at + SIGNAL_COUNT + 1] * 2 ** 32,
      timestamp: BigInt.asIntN(64, u64Of(words[at + SIGNAL_TIMESTAMP], words[at + SIGNAL_TIMESTAMP + 1])),
    };
    return { key, type, status, signal };
  }
  const user = Buffer.allocUnsafe(PACKET_USER_BYTES);
  for (let i = 0; i < PACKET_USER_BYTES / 4; i++) user.writeUInt32LE(words[at + PACKET_USER + i], i * 4);
  return { key, type: ZX_PKT_TYPE_USER, status, user };
}

/** Blocks the calling thread until a packet comes (FIFO), the deadline passes
 *  (ZX_ERR_TIMED_OUT) or the port handle is closed (ZX_ERR_CANCELED). */
export function portWait(port: number, deadline: bigint): PortWaitResult {
  const fn = 'portWait';
  const status = native.portWait(u32(fn, 'port', port), checkDeadline(fn, deadline));
  return { status, packet: status === ZX_OK ? packetFrom(scratch, SCRATCH_PACKET) : null };
}

const waitResultOf = (r: number[]): PortWaitResult => ({
  status: r[0],
  packet: r.length > 1 ? packetFrom(r, 1) : null,
});

/** portWait without blocking the event loop. Never rejects: the status says it all. */
export function portWaitAsync(port: number, deadline: bigint): Promise<PortWaitResult> {
  const fn = 'portWaitAsync';
  // The native call happens now (scratch[0] is the id for cancelAsync right after).
  const r = native.portWaitAsync(u32(fn, 'port', port), checkDeadline(fn, deadline));
  if (typeof r !== 'number') return r.then(waitResultOf);
  return Promise.resolve({ status: r, packet: r === ZX_OK ? packetFrom(scratch, SCRATCH_PACKET) : null });
}

/** One packet on `port` when one of `signals` is active on `h` (now or later; with
 *  ZX_WAIT_ASYNC_EDGE only after it comes on). `key` is a bigint (a non-negative safe
 *  integer is taken too). */
export function objectWaitAsync(
  h: number,
  port: number,
  key: bigint | number,
  signals: number,
  options: number,
): number {
  const fn = 'objectWaitAsync';
  return native.objectWaitAsync(
    u32(fn, 'handle', h),
    u32(fn, 'port', port),
    checkedKey(fn, 'key', key),
    u32(fn, 'signals', signals),
    u32(fn, 'options', options),
  );
}

/** Ends the observers made through `source` with `key` on `port` and drops the signal
 *  packets they queued: ZX_OK, or ZX_ERR_NOT_FOUND when there was neither. Zircon's order:
 *  the port (BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED without WRITE), then `source`
 *  (BAD_HANDLE, ACCESS_DENIED without WAIT). */
export function portCancel(port: number, source: number, key: bigint | number): number {
  const fn = 'portCancel';
  return native.portCancel(u32(fn, 'port', port), u32(fn, 'source', source), checkedKey(fn, 'key', key));
}
