// Every kind of object together, with real processes: one port observing all of them, a
// shared-memory producer/consumer, every type in one message, rights reduction for every
// type, waits on every type (blocking, async, from other processes), closes in the middle of
// waits, and startup handles of every type. Exact statuses and signals; descriptors and
// handles back at their baseline after each test.
import { closeSync, readSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  Event,
  EventPair,
  fdio,
  Handle,
  Port,
  Socket,
  spawn,
  sys,
  Vmo,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_DEFAULT_EVENT_RIGHTS,
  ZX_DEFAULT_EVENTPAIR_RIGHTS,
  ZX_DEFAULT_PORT_RIGHTS,
  ZX_DEFAULT_SOCKET_RIGHTS,
  ZX_DEFAULT_VMO_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_CANCELED,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_UNAVAILABLE,
  ZX_ERR_WRONG_TYPE,
  ZX_EVENT_SIGNALED,
  ZX_EVENTPAIR_PEER_CLOSED,
  ZX_EVENTPAIR_SIGNALED,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_HANDLE_OP_MOVE,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_EVENT,
  ZX_OBJ_TYPE_EVENTPAIR,
  ZX_OBJ_TYPE_FD,
  ZX_OBJ_TYPE_NONE,
  ZX_OBJ_TYPE_PORT,
  ZX_OBJ_TYPE_SOCKET,
  ZX_OBJ_TYPE_VMO,
  ZX_OK,
  ZX_PKT_TYPE_SIGNAL_ONE,
  ZX_PKT_TYPE_USER,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_MANAGE_SOCKET,
  ZX_RIGHT_MAP,
  ZX_RIGHT_READ,
  ZX_RIGHT_RESIZE,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_SIGNAL,
  ZX_RIGHT_SIGNAL_PEER,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  ZX_SIGNAL_HANDLE_CLOSED,
  ZX_SOCKET_DISPOSITION_WRITE_DISABLED,
  ZX_SOCKET_PEER_CLOSED,
  ZX_SOCKET_PEER_WRITE_DISABLED,
  ZX_SOCKET_DATAGRAM,
  ZX_SOCKET_READABLE,
  ZX_SOCKET_STREAM,
  ZX_SOCKET_WRITABLE,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  ZX_USER_SIGNAL_0,
  ZX_USER_SIGNAL_1,
  ZX_USER_SIGNAL_7,
  ZX_VMO_RESIZABLE,
  ZX_VMO_ZERO_CHILDREN,
} from '../lib/index';
import type { PortPacket, PortWaitResult } from '../lib/sys';
import { native } from '../lib/native';
import { pipeFds, removeScratchDir } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import { type Baseline, baseline, expectBaseline, fixture, isValid, start, until, user } from './fixtures/proc-helpers';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { blockedInPoll } from './fixtures/blocked.cjs';
import { startPeer } from './fixtures/peer';

const SECOND = 1_000_000_000n;
const LONG = () => sys.deadlineAfter(20n * SECOND);
const RW = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
const NOTHING: PortWaitResult = { status: ZX_ERR_TIMED_OUT, packet: null };
const USER_SIGNAL = (n: number) => (ZX_USER_SIGNAL_0 << n) >>> 0;

function basicOf(h: number | Handle) {
  const r = sys.objectGetInfo(h instanceof Handle ? h.raw : h, ZX_INFO_HANDLE_BASIC);
  expect(r.status).toBe(ZX_OK);
  const { type, rights, koid, relatedKoid } = r.info!;
  return { type, rights, koid: String(koid), relatedKoid: String(relatedKoid) };
}

function signalsOf(h: number | Handle): number {
  const r = sys.objectWaitOne(h instanceof Handle ? h.raw : h, 0, ZX_TIME_INFINITE_PAST);
  expect(r.status).toBe(ZX_ERR_TIMED_OUT);
  return r.observed;
}

/** The bytes queued in a non-blocking pipe's read end now. */
function drainPipe(fd: number): string {
  const buffer = Buffer.alloc(4096);
  try {
    return buffer.toString('utf8', 0, readSync(fd, buffer));
  } catch (e: any) {
    if (e.code === 'EAGAIN') return '';
    throw e;
  }
}

/** A pipe: its read end as an FD handle (the descriptor kept to read it) and its write
 *  end as an FD handle. */
function pipe(): { readFd: number; reader: number; writer: number } {
  const [readFd, writeFd] = pipeFds();
  const reader = fdio.fdClone(readFd);
  const writer = fdio.fdTransfer(writeFd);
  expect([reader.status, writer.status]).toEqual([ZX_OK, ZX_OK]);
  return { readFd, reader: reader.handle, writer: writer.handle };
}

// ---- ports -------------------------------------------------------------------------------

interface Fired {
  trigger: number;
  observed: number;
}

/** The next `count` packets (each a signal packet, count 1, no timestamp), by key. */
async function packets(port: Port, count: number): Promise<Record<string, Fired>> {
  const got: Record<string, Fired> = {};
  for (let i = 0; i < count; i++) {
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet.type).toBe(ZX_PKT_TYPE_SIGNAL_ONE);
    if (packet.type !== ZX_PKT_TYPE_SIGNAL_ONE) continue;
    expect(packet.status).toBe(ZX_OK);
    expect([packet.signal.count, packet.signal.timestamp]).toEqual([1, 0n]);
    expect(got[String(packet.key)], `key ${packet.key} fired twice`).toBeUndefined();
    got[String(packet.key)] = { trigger: packet.signal.trigger, observed: packet.signal.observed };
  }
  return got;
}

const fired = (trigger: number, observed: number): Fired => ({ trigger, observed });

// ---- threads -----------------------------------------------------------------------------

type WaiterRound =
  | { many: { handle: number; waitfor: number }[] }
  | { one: number; signals: number }
  | { port: number };

/** A worker (test/fixtures/objects-waiter.cjs) blocking in one wait per round. `blocked(r)`
 *  starts round r and resolves once the worker sleeps in it; `result(r)` is what it gave. */
function waiter(rounds: WaiterRound[]) {
  const go = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(fixture('objects-waiter.cjs'), { workerData: { rounds, go } });
  const messages: any[] = [];
  let failure: Error | undefined;
  worker.on('message', (m) => messages.push(m));
  worker.on('error', (e) => (failure = e));
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  const message = async (match: (m: any) => boolean, what: string) => {
    await until(() => failure !== undefined || messages.some(match), what);
    if (failure) throw failure;
    return messages.find(match);
  };
  return {
    async blocked(r: number): Promise<void> {
      Atomics.store(go, 0, r + 1);
      Atomics.notify(go, 0);
      const { tid } = await message((m) => m.ready === r, `round ${r} to start`);
      await until(() => blockedInPoll(tid), `round ${r} to block`);
    },
    result: (r: number) => message((m) => m.round === r, `round ${r} to end`),
    exited,
  };
}

beforeAll(async () => {
  warmUpWait();
  await warmUpSpawn();
});
afterAll(() => removeScratchDir());

let before: Baseline;
beforeEach(() => {
  before = baseline();
});
afterEach(async () => {
  await expectBaseline(before);
});

// ---- 1 -----------------------------------------------------------------------------------

describe('one port observing every kind of object', () => {
  it('level, edge and peer-closed packets, keyed apart, from changes made by another process', async () => {
    const port = Port.create();
    const event = Event.create();
    const [pair, pairPeer] = EventPair.create();
    const [socket, socketPeer] = Socket.create();
    const vmo = Vmo.create(4096);
    const [channel, channelPeer] = Channel.create();
    const { readFd, reader, writer } = pipe();
    const peer = startPeer({
      event: event.duplicate(),
      pair: pairPeer,
      socket: socketPeer,
      channel: channelPeer,
      pipe: writer,
    });
    await peer.request({ op: 'started' });
    const watch = (h: Handle | number, key: number, signals: number, edge = false) =>
      port.watch(h, signals, { key, edge });

    // A VMO's ZERO_CHILDREN is always on: a level observer fires before the call returns.
    watch(vmo, 4, ZX_VMO_ZERO_CHILDREN);
    expect(sys.portWait(port.raw, 0n)).toEqual({
      status: ZX_OK,
      packet: {
        key: 4n,
        type: ZX_PKT_TYPE_SIGNAL_ONE,
        status: ZX_OK,
        signal: { trigger: ZX_VMO_ZERO_CHILDREN, observed: ZX_VMO_ZERO_CHILDREN, count: 1, timestamp: 0n },
      },
    });

    // Level: one change to each object, made over there.
    watch(event, 1, ZX_USER_SIGNAL_0);
    watch(pair, 2, ZX_EVENTPAIR_SIGNALED);
    watch(socket, 3, ZX_SOCKET_READABLE);
    watch(channel, 5, ZX_CHANNEL_READABLE);
    watch(reader, 6, ZX_CHANNEL_READABLE);
    expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING);
    expect(
      await peer.do(
        { signal: 'event', clear: 0, set: ZX_USER_SIGNAL_0 },
        { signalPeer: 'pair', clear: 0, set: ZX_EVENTPAIR_SIGNALED },
        { socketWrite: 'socket', text: 'socket' },
        { write: 'channel', text: 'channel' },
        { fdWrite: 'pipe', text: 'pipe' },
      ),
    ).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK, 4]);
    expect(await packets(port, 5)).toEqual({
      1: fired(ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_0),
      2: fired(ZX_EVENTPAIR_SIGNALED, ZX_EVENTPAIR_SIGNALED),
      3: fired(ZX_SOCKET_READABLE, ZX_SOCKET_READABLE | ZX_SOCKET_WRITABLE),
      5: fired(ZX_CHANNEL_READABLE, RW),
      6: fired(ZX_CHANNEL_READABLE, ZX_CHANNEL_READABLE),
    });
    expect(socket.tryRead(100)!.toString()).toBe('socket');
    expect(channel.tryRead()!.bytes.toString()).toBe('channel');
    expect(drainPipe(readFd)).toBe('pipe');

    // Edge: signals already on don't fire; each comes on again over there.
    watch(event, 11, ZX_USER_SIGNAL_0, true);
    watch(pair, 12, ZX_EVENTPAIR_SIGNALED, true);
    watch(socket, 13, ZX_SOCKET_READABLE, true);
    watch(vmo, 14, ZX_VMO_ZERO_CHILDREN, true); // never comes on again
    watch(channel, 15, ZX_CHANNEL_READABLE, true);
    watch(reader, 16, ZX_CHANNEL_READABLE, true);
    expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING);
    expect(
      await peer.do(
        { signal: 'event', clear: ZX_USER_SIGNAL_0, set: 0 },
        { signal: 'event', clear: 0, set: ZX_USER_SIGNAL_0 },
        { signalPeer: 'pair', clear: ZX_EVENTPAIR_SIGNALED, set: 0 },
        { signalPeer: 'pair', clear: 0, set: ZX_EVENTPAIR_SIGNALED },
        { socketWrite: 'socket', text: 'again' },
        { write: 'channel', text: 'again' },
        { fdWrite: 'pipe', text: 'again' },
      ),
    ).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK, ZX_OK, ZX_OK, 5]);
    expect(await packets(port, 5)).toEqual({
      11: fired(ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_0),
      12: fired(ZX_EVENTPAIR_SIGNALED, ZX_EVENTPAIR_SIGNALED),
      13: fired(ZX_SOCKET_READABLE, ZX_SOCKET_READABLE | ZX_SOCKET_WRITABLE),
      15: fired(ZX_CHANNEL_READABLE, RW),
      16: fired(ZX_CHANNEL_READABLE, ZX_CHANNEL_READABLE),
    });
    expect(socket.tryRead(100)!.toString()).toBe('again');
    expect(channel.tryRead()!.bytes.toString()).toBe('again');
    expect(drainPipe(readFd)).toBe('again');

    // The other process disables its socket writes, then exits: every peer goes.
    watch(pair, 21, ZX_EVENTPAIR_PEER_CLOSED);
    watch(socket, 22, ZX_SOCKET_PEER_WRITE_DISABLED);
    watch(channel, 23, ZX_CHANNEL_PEER_CLOSED);
    watch(reader, 24, ZX_CHANNEL_PEER_CLOSED);
    expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING);
    expect(await peer.do({ disposition: 'socket', own: ZX_SOCKET_DISPOSITION_WRITE_DISABLED, peer: 0 })).toEqual([
      ZX_OK,
    ]);
    expect(await packets(port, 1)).toEqual({
      22: fired(ZX_SOCKET_PEER_WRITE_DISABLED, ZX_SOCKET_WRITABLE | ZX_SOCKET_PEER_WRITE_DISABLED),
    });
    watch(socket, 25, ZX_SOCKET_PEER_CLOSED);
    await peer.exit();
    expect(await packets(port, 4)).toEqual({
      21: fired(ZX_EVENTPAIR_PEER_CLOSED, ZX_EVENTPAIR_SIGNALED | ZX_EVENTPAIR_PEER_CLOSED),
      23: fired(ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_PEER_CLOSED),
      24: fired(ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_PEER_CLOSED),
      25: fired(ZX_SOCKET_PEER_CLOSED, ZX_SOCKET_PEER_CLOSED | ZX_SOCKET_PEER_WRITE_DISABLED),
    });
    // The VMO's edge observer is still there, and never fires.
    expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING);
    // The event outlives the process that set it.
    expect(event.signals).toBe(ZX_USER_SIGNAL_0);
    for (const h of [port, event, pair, socket, vmo, channel]) h.close();
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    closeSync(readFd);
  });
});

// ---- 2 -----------------------------------------------------------------------------------

/** Record i as the producer writes it (test/fixtures/objects-child.cjs): at (i % 16) * 256,
 *  u32 i, u32 length, then `length` bytes (i * 7 + j) & 0xff. */
function recordMatches(bytes: Uint8Array, i: number): boolean {
  const at = (i % 16) * 256;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const length = ((i * 13) % 200) + 1;
  if (view.getUint32(at, true) !== i || view.getUint32(at + 4, true) !== length) return false;
  for (let j = 0; j < length; j++) if (bytes[at + 8 + j] !== ((i * 7 + j) & 0xff)) return false;
  return true;
}

describe('shared memory: a producer in another process, a consumer here', () => {
  const ROUNDS = 1000;

  it.each([
    ['event', 'objectWaitOneAsync'],
    ['eventpair', 'objectWaitOne'],
    ['eventpair', 'a port, awaited'],
    ['event', 'a port, blocking'],
  ])('records through a VMO, each announced on an %s and awaited with %s: 1000 rounds', async (mode, how) => {
    const vmo = Vmo.create(16 * 256);
    let mine: Handle;
    let theirs: Handle;
    if (mode === 'event') {
      mine = Event.create();
      theirs = mine.duplicate();
    } else {
      [mine, theirs] = EventPair.create();
    }
    const port = how.startsWith('a port') ? Port.create() : undefined;
    const peer = startPeer({ vmo: vmo.duplicate(), sync: theirs });
    const mapping = vmo.map();
    const bytes = new Uint8Array(mapping);
    const produced = peer.request({ op: 'produce', vmo: 'vmo', sync: 'sync', mode, rounds: ROUNDS });
    let matched = 0;
    const seen = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      let status: number;
      let observed: number;
      if (how === 'objectWaitOneAsync') {
        ({ status, observed } = await sys.objectWaitOneAsync(mine.raw, ZX_USER_SIGNAL_0, LONG()));
      } else if (how === 'objectWaitOne') {
        ({ status, observed } = sys.objectWaitOne(mine.raw, ZX_USER_SIGNAL_0, LONG()));
      } else {
        expect(sys.objectWaitAsync(mine.raw, port!.raw, BigInt(i), ZX_USER_SIGNAL_0, 0)).toBe(ZX_OK);
        const r =
          how === 'a port, awaited' ? await sys.portWaitAsync(port!.raw, LONG()) : sys.portWait(port!.raw, LONG());
        status = r.status;
        const packet = r.packet as PortPacket & { signal: Fired };
        observed = packet.key === BigInt(i) && packet.signal.trigger === ZX_USER_SIGNAL_0 ? packet.signal.observed : -1;
      }
      seen.add(`${status}/${observed}`);
      if (recordMatches(bytes, i)) matched++;
      // Clear our signal before the ack: the next record sets it again.
      if (mode === 'event') {
        expect(sys.objectSignal(mine.raw, ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
      } else {
        expect(sys.objectSignal(mine.raw, ZX_USER_SIGNAL_0, 0)).toBe(ZX_OK);
        expect(sys.objectSignalPeer(mine.raw, 0, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
      }
    }
    // Every wake saw exactly the producer's signal, and every record was whole.
    expect([...seen]).toEqual([`${ZX_OK}/${ZX_USER_SIGNAL_0}`]);
    expect(matched).toBe(ROUNDS);
    expect(await produced).toEqual({ rounds: ROUNDS });
    if (port) expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING); // one packet per observer
    await peer.exit();
    Vmo.unmap(mapping);
    for (const h of [vmo, mine, port]) h?.close();
  });
});

// ---- 3 -----------------------------------------------------------------------------------

describe('every object type through one message', () => {
  it('channelWriteEtc with type checks and fewer rights; read in another process with those types, rights and koids, and each used there', async () => {
    const [data, dataPeer] = Channel.create();
    const peer = startPeer({ data: dataPeer });
    const event = Event.create();
    const [pair, pairPeer] = EventPair.create();
    const vmo = Vmo.create(4096);
    vmo.write('from the parent');
    const vmoRw = vmo.duplicate();
    const [socket, socketPeer] = Socket.create();
    const [channel, channelPeer] = Channel.create();
    const { readFd, reader, writer } = pipe();
    const sent = [event, event, pairPeer, vmo, vmoRw, socketPeer, channelPeer, writer].map((h) => basicOf(h));
    const rights = {
      eventRo: ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_SIGNAL,
      vmoRo: ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE,
      socket: ZX_DEFAULT_SOCKET_RIGHTS & ~ZX_RIGHT_MANAGE_SOCKET,
    };
    const dispositions = [
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: event.raw,
        type: ZX_OBJ_TYPE_EVENT,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: event.raw,
        type: ZX_OBJ_TYPE_NONE,
        rights: rights.eventRo,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: pairPeer.release(),
        type: ZX_OBJ_TYPE_EVENTPAIR,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: vmo.raw,
        type: ZX_OBJ_TYPE_VMO,
        rights: rights.vmoRo,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: vmoRw.release(),
        type: ZX_OBJ_TYPE_NONE,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: socketPeer.release(),
        type: ZX_OBJ_TYPE_SOCKET,
        rights: rights.socket,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: channelPeer.release(),
        type: ZX_OBJ_TYPE_CHANNEL,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: writer,
        type: ZX_OBJ_TYPE_FD,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
    ];
    const moved = dispositions.filter((d) => d.operation === ZX_HANDLE_OP_MOVE).map((d) => d.handle);
    expect(sys.channelWriteEtc(data.raw, 0, Buffer.from('every type'), dispositions)).toBe(ZX_OK);
    expect(dispositions.map((d) => d.result)).toEqual(dispositions.map(() => ZX_OK));
    expect(moved.map(isValid)).toEqual(moved.map(() => false));
    expect([isValid(event.raw), isValid(vmo.raw)]).toEqual([true, true]);

    const names = ['event', 'eventRo', 'pair', 'vmoRo', 'vmoRw', 'socket', 'channel', 'pipe'];
    const got = await peer.request({ op: 'receive', from: 'data', names });
    expect([got.status, got.text]).toEqual([ZX_OK, 'every type']);
    const asSent = (i: number, rightsThere: number) => ({
      ...sent[i],
      rights: rightsThere,
      readType: sent[i].type,
      readRights: rightsThere,
    });
    expect(got.handles).toEqual([
      asSent(0, ZX_DEFAULT_EVENT_RIGHTS),
      asSent(1, rights.eventRo),
      asSent(2, ZX_DEFAULT_EVENTPAIR_RIGHTS),
      asSent(3, rights.vmoRo),
      asSent(4, ZX_DEFAULT_VMO_RIGHTS),
      asSent(5, rights.socket),
      asSent(6, ZX_DEFAULT_CHANNEL_RIGHTS),
      asSent(7, ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE),
    ]);
    expect(got.handles.map((h: { relatedKoid: string }) => h.relatedKoid)).toEqual(
      ['0', '0', pair.koid, '0', '0', socket.koid, channel.koid, '0'].map(String),
    );
    // Descriptors: an event is two, an eventpair side three; a VMO, a socket end and a
    // channel endpoint three too (their own and their user signals' page, made as they
    // leave: docs/wire-format.md); a plain descriptor one.
    expect([got.after.fds - got.before.fds, got.after.handles - got.before.handles]).toEqual([
      2 + 2 + 3 + 3 + 3 + 3 + 3 + 1,
      8,
    ]);

    expect(
      await peer.do(
        { signal: 'event', clear: 0, set: ZX_USER_SIGNAL_0 },
        { signal: 'eventRo', clear: 0, set: ZX_USER_SIGNAL_1 },
        { signals: 'eventRo' },
        { signalPeer: 'pair', clear: 0, set: ZX_USER_SIGNAL_1 },
        { vmoRead: 'vmoRo', offset: 0, length: 15 },
        { vmoWrite: 'vmoRo', offset: 0, text: 'x' },
        { mapRead: 'vmoRo', offset: 0, length: 15 },
        { vmoWrite: 'vmoRw', offset: 100, text: 'from the child' },
        { mapWrite: 'vmoRw', offset: 200, text: 'mapped there' },
        { socketWrite: 'socket', text: 'over the socket' },
        { disposition: 'socket', own: ZX_SOCKET_DISPOSITION_WRITE_DISABLED, peer: 0 },
        { write: 'channel', text: 'over the channel' },
        { fdWrite: 'pipe', text: 'over the pipe' },
      ),
    ).toEqual([
      ZX_OK,
      ZX_ERR_ACCESS_DENIED,
      ZX_USER_SIGNAL_0,
      ZX_OK,
      { status: ZX_OK, text: 'from the parent' },
      ZX_ERR_ACCESS_DENIED,
      { status: ZX_OK, text: 'from the parent' },
      ZX_OK,
      ZX_OK,
      ZX_OK,
      ZX_ERR_ACCESS_DENIED,
      ZX_OK,
      13,
    ]);
    expect(event.signals).toBe(ZX_USER_SIGNAL_0);
    expect(pair.signals).toBe(ZX_USER_SIGNAL_1);
    expect(vmo.read(14, 100).toString()).toBe('from the child');
    expect(vmo.read(12, 200).toString()).toBe('mapped there');
    expect(socket.tryRead(100)!.toString()).toBe('over the socket');
    expect(channel.tryRead()!.bytes.toString()).toBe('over the channel');
    expect(drainPipe(readFd)).toBe('over the pipe');

    await peer.exit();
    expect(await pair.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 })).toBe(
      ZX_USER_SIGNAL_1 | ZX_EVENTPAIR_PEER_CLOSED,
    );
    expect(await socket.wait(ZX_SOCKET_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_SOCKET_PEER_CLOSED);
    expect(await channel.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(await sys.objectWaitOneAsync(reader, ZX_CHANNEL_PEER_CLOSED, LONG())).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    for (const h of [data, event, pair, vmo, socket, channel]) h.close();
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    closeSync(readFd);
  });

  it('a disposition naming the wrong type: WRONG_TYPE for it, every moved handle consumed (their peers see PEER_CLOSED), duplicated ones kept, nothing sent', () => {
    const [data, dataPeer] = Channel.create();
    const event = Event.create();
    const [pair, pairPeer] = EventPair.create();
    const [socket, socketPeer] = Socket.create();
    const [channel, channelPeer] = Channel.create();
    const vmo = Vmo.create(4096);
    const dispositions = [
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: socketPeer.release(),
        type: ZX_OBJ_TYPE_SOCKET,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: pairPeer.release(),
        type: ZX_OBJ_TYPE_EVENT,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: event.raw,
        type: ZX_OBJ_TYPE_NONE,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: channelPeer.release(),
        type: ZX_OBJ_TYPE_NONE,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: vmo.raw,
        type: ZX_OBJ_TYPE_SOCKET,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
    ];
    expect(sys.channelWriteEtc(data.raw, 0, Buffer.from('no'), dispositions)).toBe(ZX_ERR_WRONG_TYPE);
    expect(dispositions.map((d) => d.result)).toEqual([ZX_OK, ZX_ERR_WRONG_TYPE, ZX_OK, ZX_OK, ZX_ERR_WRONG_TYPE]);
    expect(dispositions.map((d) => isValid(d.handle))).toEqual([false, false, true, false, true]);
    expect(pair.signals).toBe(ZX_EVENTPAIR_PEER_CLOSED);
    expect(socket.signals).toBe(ZX_SOCKET_PEER_CLOSED);
    expect(channel.signals).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(dataPeer.raw, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    for (const h of [data, dataPeer, event, pair, socket, channel, vmo]) h.close();
  });

  it('64 eventpair sides in one message (192 descriptors) arrive in another process, and each one works there', async () => {
    const pairs = Array.from({ length: 64 }, () => EventPair.create());
    const [data, dataPeer] = Channel.create();
    const peer = startPeer({ data: dataPeer });
    const sides = pairs.map(([, side]) => basicOf(side));
    data.write(
      '64 sides',
      pairs.map(([, side]) => side),
    );
    const names = pairs.map((_, i) => `side${i}`);
    const got = await peer.request({ op: 'receive', from: 'data', names });
    expect([got.status, got.text, got.after.fds - got.before.fds, got.after.handles - got.before.handles]).toEqual([
      ZX_OK,
      '64 sides',
      192,
      64,
    ]);
    expect(got.handles).toEqual(
      sides.map((s) => ({ ...s, readType: ZX_OBJ_TYPE_EVENTPAIR, readRights: ZX_DEFAULT_EVENTPAIR_RIGHTS })),
    );
    expect(sides.map((s, i) => s.relatedKoid === String(pairs[i][0].koid))).toEqual(sides.map(() => true));
    const results = await peer.do(...names.map((name, i) => ({ signalPeer: name, clear: 0, set: USER_SIGNAL(i % 8) })));
    expect(results).toEqual(names.map(() => ZX_OK));
    expect(pairs.map(([mine]) => mine.signals)).toEqual(pairs.map((_, i) => USER_SIGNAL(i % 8)));
    await peer.exit();
    const closed = await Promise.all(pairs.map(([mine]) => mine.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 })));
    expect(closed).toEqual(pairs.map((_, i) => (USER_SIGNAL(i % 8) | ZX_EVENTPAIR_PEER_CLOSED) >>> 0));
    for (const [mine] of pairs) mine.close();
    data.close();
  });

  it('more descriptors than the receiver may open: NO_RESOURCES, nothing installed, the sides close (PEER_CLOSED here), the next message reads', async () => {
    const pairs = Array.from({ length: 64 }, () => EventPair.create());
    const [data, dataPeer] = Channel.create();
    const peer = startPeer({ data: dataPeer }, 64);
    data.write(
      'too many',
      pairs.map(([, side]) => side),
    );
    const event = Event.create();
    data.write('next', [event.duplicate()]);
    const crowded = await peer.request({ op: 'receive', from: 'data', names: [] });
    expect([crowded.status, crowded.text, crowded.handles]).toEqual([ZX_ERR_NO_RESOURCES, '', []]);
    expect(crowded.after).toEqual(crowded.before);
    const closed = await Promise.all(pairs.map(([mine]) => mine.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 })));
    expect(closed).toEqual(pairs.map(() => ZX_EVENTPAIR_PEER_CLOSED));
    const next = await peer.request({ op: 'receive', from: 'data', names: ['event'] });
    expect([next.status, next.text, next.handles]).toEqual([
      ZX_OK,
      'next',
      [{ ...basicOf(event), readType: ZX_OBJ_TYPE_EVENT, readRights: ZX_DEFAULT_EVENT_RIGHTS }],
    ]);
    expect([next.after.fds - next.before.fds, next.after.handles - next.before.handles]).toEqual([2, 1]);
    expect(await peer.do({ signal: 'event', clear: 0, set: ZX_EVENT_SIGNALED })).toEqual([ZX_OK]);
    expect(event.signals).toBe(ZX_EVENT_SIGNALED);
    await peer.exit();
    for (const [mine] of pairs) mine.close();
    for (const h of [data, event]) h.close();
  });
});

// ---- 4 -----------------------------------------------------------------------------------

/** One object to reduce the rights of: `h` (default rights), what else was made with it. */
interface Subject {
  h: number;
  others: number[];
  /** Descriptors to close at the end. */
  fds?: number[];
}

/** An operation on a handle, the rights it needs and its status when it has them. */
interface RightsOp {
  name: string;
  needs: number;
  ok: number;
  run(h: number, subject: Subject, port: number): number | Promise<number>;
}

interface RightsCase {
  name: string;
  type: number;
  rights: number;
  make(): Subject;
  ops: RightsOp[];
  /** The rights a handle with `rights` arrives with in another message (default: the same). */
  arrives?(rights: number): number;
}

/** Operations every handle has; `signal` and `signalPeer` answer per type once allowed. */
function commonOps(signalOk: number, signalPeerOk: number): RightsOp[] {
  return [
    { name: 'info', needs: 0, ok: ZX_OK, run: (h) => sys.objectGetInfo(h, ZX_INFO_HANDLE_BASIC).status },
    { name: 'wait', needs: ZX_RIGHT_WAIT, ok: ZX_ERR_TIMED_OUT, run: (h) => sys.objectWaitOne(h, 0, 0n).status },
    {
      name: 'waitMany',
      needs: ZX_RIGHT_WAIT,
      ok: ZX_ERR_TIMED_OUT,
      run: (h) => sys.objectWaitMany([{ handle: h, waitfor: 0, pending: 0 }], 0n),
    },
    {
      name: 'waitAsync',
      needs: ZX_RIGHT_WAIT,
      ok: ZX_ERR_TIMED_OUT,
      run: async (h) => (await sys.objectWaitOneAsync(h, 0, 0n)).status,
    },
    {
      name: 'observe',
      needs: ZX_RIGHT_WAIT,
      ok: ZX_OK,
      run: (h, _, port) => sys.objectWaitAsync(h, port, 1n, ZX_USER_SIGNAL_7, 0),
    },
    {
      name: 'duplicate',
      needs: ZX_RIGHT_DUPLICATE,
      ok: ZX_OK,
      run: (h) => {
        const { status, out } = sys.handleDuplicate(h, ZX_RIGHT_SAME_RIGHTS);
        if (status === ZX_OK) expect(sys.handleClose(out)).toBe(ZX_OK);
        return status;
      },
    },
    { name: 'signal', needs: ZX_RIGHT_SIGNAL, ok: signalOk, run: (h) => sys.objectSignal(h, 0, ZX_USER_SIGNAL_0) },
    {
      name: 'signalPeer',
      needs: ZX_RIGHT_SIGNAL_PEER,
      ok: signalPeerOk,
      run: (h) => sys.objectSignalPeer(h, 0, ZX_USER_SIGNAL_0),
    },
  ];
}

const rightsCases: RightsCase[] = [
  {
    name: 'event',
    type: ZX_OBJ_TYPE_EVENT,
    rights: ZX_DEFAULT_EVENT_RIGHTS,
    make: () => ({ h: sys.eventCreate(0).out, others: [] }),
    ops: commonOps(ZX_OK, ZX_ERR_NOT_SUPPORTED),
  },
  {
    name: 'eventpair',
    type: ZX_OBJ_TYPE_EVENTPAIR,
    rights: ZX_DEFAULT_EVENTPAIR_RIGHTS,
    make: () => {
      const { out0, out1 } = sys.eventpairCreate(0);
      return { h: out0, others: [out1] };
    },
    ops: commonOps(ZX_OK, ZX_OK),
  },
  {
    name: 'channel',
    type: ZX_OBJ_TYPE_CHANNEL,
    rights: ZX_DEFAULT_CHANNEL_RIGHTS,
    make: () => {
      const { out0, out1 } = sys.channelCreate(0);
      expect(sys.channelWrite(out1, 0, Buffer.from('to read'), null)).toBe(ZX_OK);
      return { h: out0, others: [out1] };
    },
    ops: [
      ...commonOps(ZX_OK, ZX_OK),
      { name: 'write', needs: ZX_RIGHT_WRITE, ok: ZX_OK, run: (h) => sys.channelWrite(h, 0, Buffer.from('w'), null) },
      { name: 'read', needs: ZX_RIGHT_READ, ok: ZX_OK, run: (h) => sys.channelRead(h, 0, 64, 0).status },
    ],
  },
  ...[ZX_SOCKET_STREAM, ZX_SOCKET_DATAGRAM].map((kind) => ({
    name: kind === ZX_SOCKET_STREAM ? 'socket (stream)' : 'socket (datagram)',
    type: ZX_OBJ_TYPE_SOCKET,
    rights: ZX_DEFAULT_SOCKET_RIGHTS,
    make: () => {
      const { out0, out1 } = sys.socketCreate(kind);
      expect(sys.socketWrite(out1, 0, Buffer.from('r')).status).toBe(ZX_OK);
      return { h: out0, others: [out1] };
    },
    ops: [
      ...commonOps(ZX_OK, ZX_OK),
      {
        name: 'socketWrite',
        needs: ZX_RIGHT_WRITE,
        ok: ZX_OK,
        run: (h: number) => sys.socketWrite(h, 0, Buffer.from('w')).status,
      },
      { name: 'socketRead', needs: ZX_RIGHT_READ, ok: ZX_OK, run: (h: number) => sys.socketRead(h, 0, 1).status },
      {
        name: 'setDisposition',
        needs: ZX_RIGHT_MANAGE_SOCKET,
        ok: ZX_OK,
        run: (h: number) => sys.socketSetDisposition(h, 0, 0),
      },
    ],
  })),
  ...[ZX_VMO_RESIZABLE, 0].map((options) => ({
    name: options ? 'VMO (resizable)' : 'VMO (fixed size)',
    type: ZX_OBJ_TYPE_VMO,
    // RESIZE only when created resizable; a fixed one can't change size (UNAVAILABLE).
    rights: ZX_DEFAULT_VMO_RIGHTS | (options ? ZX_RIGHT_RESIZE : 0),
    make: () => ({ h: sys.vmoCreate(4096, options).out, others: [] }),
    // Without WRITE it travels as a read-only descriptor, which can't be resized either:
    // RESIZE is cut on arrival (docs: "Rights the OS enforces").
    arrives: (rights: number) => (rights & ZX_RIGHT_WRITE ? rights : rights & ~ZX_RIGHT_RESIZE),
    ops: [
      ...commonOps(ZX_OK, ZX_ERR_NOT_SUPPORTED),
      { name: 'vmoRead', needs: ZX_RIGHT_READ, ok: ZX_OK, run: (h: number) => sys.vmoRead(h, 16, 0).status },
      { name: 'vmoWrite', needs: ZX_RIGHT_WRITE, ok: ZX_OK, run: (h: number) => sys.vmoWrite(h, Buffer.from('w'), 0) },
      { name: 'getSize', needs: 0, ok: ZX_OK, run: (h: number) => sys.vmoGetSize(h).status },
      // RESIZE is asked for only of a VMO that can change size (as Zircon's kernel does).
      {
        name: 'setSize',
        needs: options ? ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE : ZX_RIGHT_WRITE,
        ok: options ? ZX_OK : ZX_ERR_UNAVAILABLE,
        run: (h: number) => sys.vmoSetSize(h, 8192),
      },
      {
        name: 'map',
        needs: ZX_RIGHT_READ | ZX_RIGHT_MAP,
        ok: ZX_OK,
        run: (h: number) => {
          const r = native.vmoMap(h, 1 << 20, true); // (resizable or not: rights are the point)
          if (typeof r === 'number') return r;
          Vmo.unmap(r);
          return ZX_OK;
        },
      },
    ],
  })),
  {
    name: 'port',
    type: ZX_OBJ_TYPE_PORT,
    rights: ZX_DEFAULT_PORT_RIGHTS,
    make: () => ({ h: sys.portCreate(0).out, others: [sys.eventCreate(0).out] }),
    ops: [
      ...commonOps(ZX_ERR_NOT_SUPPORTED, ZX_ERR_NOT_SUPPORTED),
      // Before portQueue: nothing is queued yet.
      { name: 'portWait', needs: ZX_RIGHT_READ, ok: ZX_ERR_TIMED_OUT, run: (h) => sys.portWait(h, 0n).status },
      {
        name: 'portWaitAsync',
        needs: ZX_RIGHT_READ,
        ok: ZX_ERR_TIMED_OUT,
        run: async (h) => (await sys.portWaitAsync(h, 0n)).status,
      },
      {
        name: 'portQueue',
        needs: ZX_RIGHT_WRITE,
        ok: ZX_OK,
        run: (h) => sys.portQueue(h, { key: 1n, type: ZX_PKT_TYPE_USER, status: 0 }),
      },
      {
        name: 'observeInto',
        needs: ZX_RIGHT_WRITE,
        ok: ZX_OK,
        run: (h, subject) => sys.objectWaitAsync(subject.others[0], h, 2n, ZX_USER_SIGNAL_7, 0),
      },
    ],
  },
  {
    name: 'pipe (a plain descriptor)',
    type: ZX_OBJ_TYPE_FD,
    rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ,
    make: () => {
      const [readFd, writeFd] = pipeFds();
      const h = fdio.fdTransfer(readFd).handle;
      return { h, others: [], fds: [writeFd] };
    },
    ops: commonOps(ZX_ERR_NOT_SUPPORTED, ZX_ERR_NOT_SUPPORTED),
  },
];

/** Moves `h` through a channel (the last operation: it consumes `h`). ZX_OK only if it
 *  arrives with the same type and rights. */
function transfer(h: number, type: number, rights: number): number {
  const { out0, out1 } = sys.channelCreate(0);
  const status = sys.channelWriteEtc(out0, 0, null, [
    { operation: ZX_HANDLE_OP_MOVE, handle: h, type: ZX_OBJ_TYPE_NONE, rights: ZX_RIGHT_SAME_RIGHTS, result: ZX_OK },
  ]);
  if (status === ZX_OK) {
    const r = sys.channelReadEtc(out1, 0, 0, 1);
    expect(r.handles.map(({ type: t, rights: got }) => ({ type: t, rights: got }))).toEqual([{ type, rights }]);
    expect(sys.handleClose(r.handles[0].handle)).toBe(ZX_OK);
  }
  expect(sys.handleCloseMany([out0, out1])).toBe(ZX_OK);
  return status;
}

describe('rights reduction, every type', () => {
  it('a handle without DUPLICATE can not be duplicated: channels never (also not by a DUPLICATE disposition)', () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    expect(sys.handleDuplicate(a.raw, ZX_RIGHT_SAME_RIGHTS)).toEqual({ status: ZX_ERR_ACCESS_DENIED, out: 0 });
    expect(sys.handleDuplicate(a.raw, ZX_RIGHT_WAIT)).toEqual({ status: ZX_ERR_ACCESS_DENIED, out: 0 });
    const d0 = [
      {
        operation: ZX_HANDLE_OP_DUPLICATE,
        handle: a.raw,
        type: ZX_OBJ_TYPE_CHANNEL,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
    ];
    expect(sys.channelWriteEtc(c.raw, 0, null, d0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(d0[0].result).toBe(ZX_ERR_ACCESS_DENIED);
    expect(isValid(a.raw)).toBe(true); // a refused duplicate leaves its source
    expect(() => a.duplicate()).toThrow(expect.objectContaining({ status: ZX_ERR_ACCESS_DENIED }));
    for (const h of [a, b, c, d]) h.close();
  });

  for (const c of rightsCases) {
    const bits = Array.from({ length: 32 }, (_, i) => (1 << i) >>> 0).filter((bit) => c.rights & bit);
    const ways = c.rights & ZX_RIGHT_DUPLICATE ? (['duplicate', 'replace'] as const) : (['replace'] as const);
    it(`${c.name}: without each right of ${c.rights.toString(16)} (by ${ways.join(' and ')}), exactly the operations needing it are ACCESS_DENIED`, async () => {
      for (const way of ways) {
        for (const removed of [0, ...bits]) {
          const rights = (c.rights & ~removed) >>> 0;
          const subject = c.make();
          const port = sys.portCreate(0).out;
          expect(basicOf(subject.h).rights).toBe(c.rights);
          let h: number;
          if (way === 'duplicate') {
            const r = sys.handleDuplicate(subject.h, rights);
            expect(r.status).toBe(ZX_OK);
            h = r.out;
          } else {
            const r = sys.handleReplace(subject.h, rights);
            expect(r.status).toBe(ZX_OK);
            expect(isValid(subject.h)).toBe(false);
            h = r.out;
          }
          expect(basicOf(h)).toMatchObject({ type: c.type, rights });
          const expected: Record<string, number> = {};
          const actual: Record<string, number> = {};
          for (const op of c.ops) {
            expected[op.name] = op.needs & ~rights ? ZX_ERR_ACCESS_DENIED : op.ok;
            actual[op.name] = await op.run(h, subject, port);
          }
          expected.transfer = rights & ZX_RIGHT_TRANSFER ? ZX_OK : ZX_ERR_ACCESS_DENIED;
          actual.transfer = transfer(h, c.type, c.arrives?.(rights) ?? rights);
          expect(actual, `${c.name} by ${way} without 0x${removed.toString(16)}`).toEqual(expected);
          expect(isValid(h)).toBe(false); // moved (or consumed by the refusal)
          const rest = [...(way === 'duplicate' ? [subject.h] : []), ...subject.others, port];
          expect(sys.handleCloseMany(rest)).toBe(ZX_OK);
          for (const fd of subject.fds ?? []) closeSync(fd);
        }
      }
    });
  }
});

// ---- 5 -----------------------------------------------------------------------------------

/** One of each waitable type, with what shows while nothing happens, how to make its
 *  signal come on from here, what it then shows, and how to undo that. */
function oneOfEach() {
  const event = Event.create();
  const [pair, pairPeer] = EventPair.create();
  const [socket, socketPeer] = Socket.create();
  const vmo = Vmo.create(4096);
  const [channel, channelPeer] = Channel.create();
  const { readFd, reader, writer } = pipe();
  const writeFd = fdio.fdCreate(writer).fd;
  const items = [
    {
      name: 'event',
      handle: event.raw,
      waitfor: ZX_EVENT_SIGNALED,
      idle: 0,
      cause: () => event.set(),
      shows: ZX_EVENT_SIGNALED,
      undo: () => event.clear(),
    },
    {
      name: 'eventpair',
      handle: pair.raw,
      waitfor: ZX_EVENTPAIR_SIGNALED | ZX_EVENTPAIR_PEER_CLOSED,
      idle: 0,
      cause: () => pairPeer.signalPeer(0, ZX_EVENTPAIR_SIGNALED),
      shows: ZX_EVENTPAIR_SIGNALED,
      undo: () => pair.signal(ZX_EVENTPAIR_SIGNALED, 0),
    },
    {
      name: 'socket',
      handle: socket.raw,
      waitfor: ZX_SOCKET_READABLE | ZX_SOCKET_PEER_CLOSED,
      idle: ZX_SOCKET_WRITABLE,
      cause: () => expect(socketPeer.tryWrite('x')).toBe(1),
      shows: ZX_SOCKET_READABLE | ZX_SOCKET_WRITABLE,
      undo: () => expect(socket.tryRead(10)!.toString()).toBe('x'),
    },
    {
      name: 'VMO',
      handle: vmo.raw,
      waitfor: ZX_USER_SIGNAL_0, // never comes: a VMO shows ZERO_CHILDREN only
      idle: ZX_VMO_ZERO_CHILDREN,
    },
    {
      name: 'channel',
      handle: channel.raw,
      waitfor: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
      idle: ZX_CHANNEL_WRITABLE,
      cause: () => channelPeer.write('x'),
      shows: RW,
      undo: () => expect(channel.tryRead()!.bytes.toString()).toBe('x'),
    },
    {
      name: 'pipe',
      handle: reader,
      waitfor: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
      idle: 0,
      cause: () => expect(writeSync(writeFd, 'x')).toBe(1),
      shows: ZX_CHANNEL_READABLE,
      undo: () => expect(drainPipe(readFd)).toBe('x'),
    },
  ];
  let writerOpen = true;
  // Each peer goes: the eventpair's, the socket's and the channel's other ends, the pipe's writer.
  const closePeers = () => {
    for (const h of [pairPeer, socketPeer, channelPeer]) h.close();
    closeSync(writeFd);
    writerOpen = false;
  };
  const close = () => {
    for (const h of [event, pair, pairPeer, socket, socketPeer, vmo, channel, channelPeer]) h.close();
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    closeSync(readFd);
    if (writerOpen) closeSync(writeFd);
  };
  return { items, closePeers, close, vmo };
}

describe('waiting on one of each type', () => {
  it('objectWaitMany in a worker: woken by each object in turn from this event loop, every pending exact', async () => {
    const all = oneOfEach();
    const { items } = all;
    const triggers = items.filter((item) => item.cause);
    const rounds = [...triggers, 'peer closed'].map(() => ({
      many: items.map(({ handle, waitfor }) => ({ handle, waitfor })),
    }));
    const worker = waiter(rounds);
    for (const [r, item] of triggers.entries()) {
      await worker.blocked(r);
      item.cause!();
      const { status, pending } = await worker.result(r);
      expect({ round: item.name, status, pending }).toEqual({
        round: item.name,
        status: ZX_OK,
        pending: items.map((other) => (other === item ? other.shows : other.idle)),
      });
      item.undo!();
    }
    // Last: every peer goes at once.
    await worker.blocked(triggers.length);
    all.closePeers();
    const last = await worker.result(triggers.length);
    expect(last.status).toBe(ZX_OK);
    // At least one of them woke it; by now every one shows its peer gone.
    const gone = [
      0,
      ZX_EVENTPAIR_PEER_CLOSED,
      ZX_SOCKET_PEER_CLOSED,
      ZX_VMO_ZERO_CHILDREN,
      ZX_CHANNEL_PEER_CLOSED,
      ZX_CHANNEL_PEER_CLOSED,
    ];
    expect(last.pending.map((p: number, i: number) => p & ~gone[i] & ~items[i].idle)).toEqual(items.map(() => 0));
    expect(items.map((item) => signalsOf(item.handle))).toEqual(gone);
    expect(await worker.exited).toBe(0);
    all.close();
  });

  it('objectWaitOneAsync on each type, settled by changes another process makes; then by its exit', async () => {
    const event = Event.create();
    const [pair, pairPeer] = EventPair.create();
    const [socket, socketPeer] = Socket.create();
    const vmo = Vmo.create(4096);
    const [channel, channelPeer] = Channel.create();
    const { readFd, reader, writer } = pipe();
    const peer = startPeer({
      event: event.duplicate(),
      pair: pairPeer,
      socket: socketPeer,
      channel: channelPeer,
      pipe: writer,
      vmo: vmo.duplicate(),
    });
    await peer.request({ op: 'started' });
    const wait = (h: Handle | number, signals: number) =>
      sys.objectWaitOneAsync(h instanceof Handle ? h.raw : h, signals, LONG());
    // A VMO's only signal is on already: settled at once.
    expect(await wait(vmo, ZX_VMO_ZERO_CHILDREN)).toEqual({ status: ZX_OK, observed: ZX_VMO_ZERO_CHILDREN });
    const pending = [
      wait(event, ZX_USER_SIGNAL_1),
      wait(pair, ZX_EVENTPAIR_SIGNALED),
      wait(socket, ZX_SOCKET_READABLE),
      wait(channel, ZX_CHANNEL_READABLE),
      wait(reader, ZX_CHANNEL_READABLE),
    ];
    // A change to the VMO's bytes is no signal: a wait for one times out.
    const vmoWait = sys.objectWaitOneAsync(vmo.raw, ZX_USER_SIGNAL_0, sys.deadlineAfter(50_000_000n));
    expect(
      await peer.do(
        { vmoWrite: 'vmo', offset: 0, text: 'written there' },
        { signal: 'event', clear: 0, set: ZX_USER_SIGNAL_1 },
        { signalPeer: 'pair', clear: 0, set: ZX_EVENTPAIR_SIGNALED },
        { socketWrite: 'socket', text: 's' },
        { write: 'channel', text: 'c' },
        { fdWrite: 'pipe', text: 'p' },
      ),
    ).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK, ZX_OK, 1]);
    expect(await Promise.all(pending)).toEqual(
      [ZX_USER_SIGNAL_1, ZX_EVENTPAIR_SIGNALED, ZX_SOCKET_READABLE | ZX_SOCKET_WRITABLE, RW, ZX_CHANNEL_READABLE].map(
        (observed) => ({ status: ZX_OK, observed }),
      ),
    );
    expect(await vmoWait).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_VMO_ZERO_CHILDREN });
    expect(vmo.read(13).toString()).toBe('written there');
    expect([socket.tryRead(10)!.toString(), channel.tryRead()!.bytes.toString(), drainPipe(readFd)]).toEqual([
      's',
      'c',
      'p',
    ]);
    const gone = [
      wait(pair, ZX_EVENTPAIR_PEER_CLOSED),
      wait(socket, ZX_SOCKET_PEER_CLOSED),
      wait(channel, ZX_CHANNEL_PEER_CLOSED),
      wait(reader, ZX_CHANNEL_PEER_CLOSED),
    ];
    await peer.exit();
    expect(await Promise.all(gone)).toEqual(
      [
        ZX_EVENTPAIR_SIGNALED | ZX_EVENTPAIR_PEER_CLOSED,
        ZX_SOCKET_PEER_CLOSED,
        ZX_CHANNEL_PEER_CLOSED,
        ZX_CHANNEL_PEER_CLOSED,
      ].map((observed) => ({ status: ZX_OK, observed })),
    );
    expect(event.signals).toBe(ZX_USER_SIGNAL_1);
    for (const h of [event, pair, socket, vmo, channel]) h.close();
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    closeSync(readFd);
  });
});

// ---- 6 -----------------------------------------------------------------------------------

/** One object of `type` to close under a waiter: `h` is closed; `signals` never come on by
 *  themselves; `shows` is what `h` shows meanwhile; `keep` (a duplicate, the peer, the
 *  pipe's writer) makes them come on later; `after` what the peer sees once `h` is gone. */
interface CloseCase {
  name: string;
  make(): {
    h: number;
    signals: number;
    shows: number;
    /** Makes `signals` come on (through a duplicate or the peer), if anything can. */
    cause?(): void;
    /** What the peer (if any) shows once `h` is closed. */
    peerAfter?(): Promise<number>;
    peerExpected?: number;
    /** A second handle to the object, still open after `h` is closed (or none). */
    dup?: number;
    /** Descriptors of the user signals' page the watch makes (kept by the object). */
    pageFds?: number;
    cleanup(): void;
  };
}

const closeCases: CloseCase[] = [
  {
    name: 'event',
    make: () => {
      const e = Event.create();
      const dup = e.duplicate();
      return {
        h: e.release(),
        signals: ZX_USER_SIGNAL_0,
        shows: 0,
        dup: dup.raw,
        cause: () => dup.set(ZX_USER_SIGNAL_0),
        cleanup: () => dup.close(),
      };
    },
  },
  {
    name: 'eventpair',
    make: () => {
      const [a, b] = EventPair.create();
      return {
        h: a.release(),
        signals: ZX_EVENTPAIR_SIGNALED,
        shows: 0,
        cause: () => expect(sys.objectSignalPeer(b.raw, 0, ZX_EVENTPAIR_SIGNALED)).toBe(ZX_ERR_PEER_CLOSED),
        peerAfter: () => b.wait(ZX_EVENTPAIR_PEER_CLOSED, { timeout: 20_000 }),
        peerExpected: ZX_EVENTPAIR_PEER_CLOSED,
        cleanup: () => b.close(),
      };
    },
  },
  {
    name: 'socket',
    make: () => {
      const [a, b] = Socket.create();
      return {
        h: a.release(),
        signals: ZX_SOCKET_READABLE,
        shows: ZX_SOCKET_WRITABLE,
        cause: () => expect(() => b.tryWrite('x')).toThrow(expect.objectContaining({ status: ZX_ERR_PEER_CLOSED })),
        peerAfter: () => b.wait(ZX_SOCKET_PEER_CLOSED, { timeout: 20_000 }),
        peerExpected: ZX_SOCKET_PEER_CLOSED,
        cleanup: () => b.close(),
      };
    },
  },
  {
    name: 'VMO',
    make: () => {
      const v = Vmo.create(4096);
      const dup = v.duplicate();
      return {
        h: v.release(),
        signals: ZX_USER_SIGNAL_0,
        shows: ZX_VMO_ZERO_CHILDREN,
        dup: dup.raw,
        pageFds: 2, // watching a user signal makes the page (and doorbell) of the VMO's
        cause: () => expect(sys.objectSignal(dup.raw, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK),
        cleanup: () => dup.close(),
      };
    },
  },
  {
    name: 'channel',
    make: () => {
      const [a, b] = Channel.create();
      return {
        h: a.release(),
        signals: ZX_CHANNEL_READABLE,
        shows: ZX_CHANNEL_WRITABLE,
        cause: () => expect(() => b.write('x')).toThrow(expect.objectContaining({ status: ZX_ERR_PEER_CLOSED })),
        peerAfter: () => b.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 }),
        peerExpected: ZX_CHANNEL_PEER_CLOSED,
        cleanup: () => b.close(),
      };
    },
  },
  {
    name: 'pipe',
    make: () => {
      const [readFd, writeFd] = pipeFds();
      const h = fdio.fdTransfer(readFd).handle;
      const dup = sys.handleDuplicate(h, ZX_RIGHT_SAME_RIGHTS).out;
      return {
        h,
        signals: ZX_CHANNEL_READABLE,
        shows: 0,
        dup,
        cause: () => expect(writeSync(writeFd, 'x')).toBe(1),
        cleanup: () => {
          expect(sys.handleClose(dup)).toBe(ZX_OK);
          closeSync(writeFd);
        },
      };
    },
  },
];

describe('closing a handle in the middle of a wait', () => {
  it('a blocking wait in another thread ends CANCELED with HANDLE_CLOSED and the signals shown, on every type; a port wait ends CANCELED', async () => {
    const made = closeCases.map((c) => c.make());
    const port = sys.portCreate(0).out;
    const all = oneOfEach();
    const many = { many: all.items.map(({ handle, waitfor }) => ({ handle, waitfor })) };
    const worker = waiter([...made.map(({ h, signals }) => ({ one: h, signals })), { port }, many]);
    for (const [r, m] of made.entries()) {
      await worker.blocked(r);
      expect(sys.handleClose(m.h)).toBe(ZX_OK);
      const { status, observed } = await worker.result(r);
      expect({ type: closeCases[r].name, status, observed }).toEqual({
        type: closeCases[r].name,
        status: ZX_ERR_CANCELED,
        observed: (m.shows | ZX_SIGNAL_HANDLE_CLOSED) >>> 0,
      });
      if (m.peerAfter) expect(await m.peerAfter()).toBe(m.peerExpected);
    }
    await worker.blocked(made.length);
    expect(sys.handleClose(port)).toBe(ZX_OK);
    expect(await worker.result(made.length)).toEqual({ round: made.length, status: ZX_ERR_CANCELED, packet: null });
    // A wait on one of each: the VMO's handle closed ends it, every other item as it was.
    await worker.blocked(made.length + 1);
    all.vmo.close();
    const last = await worker.result(made.length + 1);
    expect(last).toEqual({
      round: made.length + 1,
      status: ZX_ERR_CANCELED,
      pending: all.items.map((item) =>
        item.name === 'VMO' ? ZX_VMO_ZERO_CHILDREN | ZX_SIGNAL_HANDLE_CLOSED : item.idle,
      ),
    });
    expect(await worker.exited).toBe(0);
    for (const m of made) m.cleanup();
    all.close();
  });

  it('an async wait ends CANCELED with HANDLE_CLOSED and the signals shown, on every type; an async port wait ends CANCELED', async () => {
    for (const c of closeCases) {
      const m = c.make();
      const waiting = sys.objectWaitOneAsync(m.h, m.signals, ZX_TIME_INFINITE);
      await new Promise((resolve) => setImmediate(resolve));
      expect(sys.handleClose(m.h)).toBe(ZX_OK);
      expect({ type: c.name, ...(await waiting) }).toEqual({
        type: c.name,
        status: ZX_ERR_CANCELED,
        observed: (m.shows | ZX_SIGNAL_HANDLE_CLOSED) >>> 0,
      });
      if (m.peerAfter) expect(await m.peerAfter()).toBe(m.peerExpected);
      m.cleanup();
    }
    const port = sys.portCreate(0).out;
    const waiting = sys.portWaitAsync(port, ZX_TIME_INFINITE);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sys.handleClose(port)).toBe(ZX_OK);
    expect(await waiting).toEqual({ status: ZX_ERR_CANCELED, packet: null });
  });

  it('a port observation ends without a packet on every type, even when the signal comes on afterwards; its descriptor goes at the next looks', async () => {
    const port = Port.create();
    const look = () => expect(sys.portWait(port.raw, 0n)).toEqual(NOTHING);
    look();
    for (const c of closeCases) {
      const m = c.make();
      const fds = openFdCount();
      port.watch(m.h, m.signals, { key: 1 });
      port.watch(m.h, m.signals, { key: 2, edge: true });
      expect(openFdCount()).toBe(fds + 1 + (m.pageFds ?? 0)); // the object's watch
      look();
      expect(sys.handleClose(m.h)).toBe(ZX_OK);
      m.cause?.();
      if (m.peerAfter) expect(await m.peerAfter()).toBe(m.peerExpected);
      look();
      look();
      // Without the watch, and without the object's own descriptors where `h` was its
      // only handle (the port does not keep it alive).
      expect(openFdCount(), c.name).toBe(fds - (m.dup === undefined ? 1 : 0) + (m.pageFds ?? 0));
      // The object (through its other handle) is still observed as ever.
      if (m.dup !== undefined && m.cause) {
        port.watch(m.dup, m.signals, { key: 3 });
        expect(await packets(port, 1)).toEqual({ 3: fired(m.signals, (m.signals | m.shows) >>> 0) });
      }
      port.queue({ key: 4 });
      const next = await port.wait({ timeout: 20_000 });
      expect([c.name, next.key, next.type]).toEqual([c.name, 4n, ZX_PKT_TYPE_USER]);
      look();
      m.cleanup();
    }
    port.close();
  });
});

// ---- 7 -----------------------------------------------------------------------------------

describe('startup handles of every type', () => {
  it('a channel, a pipe, an event and an eventpair (boxed), a VMO (also read-only) and a socket, taken with takeStartupHandle and used there', async () => {
    const event = Event.create();
    const [pair, pairPeer] = EventPair.create();
    const vmo = Vmo.create(4096);
    vmo.write('before the spawn');
    const [socket, socketPeer] = Socket.create();
    const [channel, channelPeer] = Channel.create();
    const { readFd, reader, writer } = pipe();
    const named: Record<string, Handle | number> = {
      channel: channelPeer,
      pipe: writer,
      event: event.duplicate(),
      pair: pairPeer,
      vmo: vmo.duplicate(),
      vmoRo: vmo.duplicate(ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE),
      socket: socketPeer,
    };
    const infos = Object.fromEntries(Object.entries(named).map(([name, h]) => [name, basicOf(h)]));
    const raws = Object.values(named).map((h) => (h instanceof Handle ? h.raw : h));
    const peer = startPeer(named);
    expect(raws.map(isValid)).toEqual(raws.map(() => false)); // moved into the child
    expect((await peer.request({ op: 'started' })).handles).toEqual(infos);
    expect(infos.vmoRo.rights).toBe(ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    expect(
      await peer.do(
        { write: 'channel', text: 'channel' },
        { fdWrite: 'pipe', text: 'pipe' },
        { signal: 'event', clear: 0, set: ZX_USER_SIGNAL_1 },
        { signalPeer: 'pair', clear: 0, set: ZX_USER_SIGNAL_1 },
        { mapRead: 'vmo', offset: 0, length: 16 },
        { mapWrite: 'vmo', offset: 100, text: 'after the spawn' },
        { vmoRead: 'vmoRo', offset: 100, length: 15 },
        { vmoWrite: 'vmoRo', offset: 0, text: 'x' },
        { socketWrite: 'socket', text: 'socket' },
      ),
    ).toEqual([
      ZX_OK,
      4,
      ZX_OK,
      ZX_OK,
      { status: ZX_OK, text: 'before the spawn' },
      ZX_OK,
      { status: ZX_OK, text: 'after the spawn' },
      ZX_ERR_ACCESS_DENIED,
      ZX_OK,
    ]);
    expect(channel.tryRead()!.bytes.toString()).toBe('channel');
    expect(drainPipe(readFd)).toBe('pipe');
    expect([event.signals, pair.signals]).toEqual([ZX_USER_SIGNAL_1, ZX_USER_SIGNAL_1]);
    expect(vmo.read(15, 100).toString()).toBe('after the spawn');
    expect(socket.tryRead(10)!.toString()).toBe('socket');
    await peer.exit();
    expect(pair.signals).toBe(ZX_USER_SIGNAL_1 | ZX_EVENTPAIR_PEER_CLOSED);
    expect([socket.signals, channel.signals, signalsOf(reader)]).toEqual([
      ZX_SOCKET_PEER_CLOSED,
      ZX_CHANNEL_PEER_CLOSED,
      ZX_CHANNEL_PEER_CLOSED,
    ]);
    for (const h of [event, pair, vmo, socket, channel]) h.close();
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    closeSync(readFd);
  });

  it('a handle without TRANSFER stays in its process, whatever its type: spawn throws ACCESS_DENIED and consumes every handle given', async () => {
    const makers: Record<string, () => { h: number; peer?: Handle }> = {
      channel: () => {
        const [a, b] = Channel.create();
        return { h: a.release(), peer: b };
      },
      event: () => ({ h: Event.create().release() }),
      eventpair: () => {
        const [a, b] = EventPair.create();
        return { h: a.release(), peer: b };
      },
      VMO: () => ({ h: Vmo.create(4096).release() }),
      socket: () => {
        const [a, b] = Socket.create();
        return { h: a.release(), peer: b };
      },
      pipe: () => {
        const [readFd, writeFd] = pipeFds();
        closeSync(writeFd);
        return { h: fdio.fdTransfer(readFd).handle };
      },
    };
    for (const [name, make] of Object.entries(makers)) {
      const { h, peer } = make();
      const kept = sys.handleReplace(h, basicOf(h).rights & ~ZX_RIGHT_TRANSFER).out;
      const [mine, theirs] = Channel.create();
      const given = [theirs.raw, kept];
      let outcome: string;
      try {
        const child = spawn(process.execPath, ['-e', ''], {
          stdio: 'ignore',
          handles: [
            { id: user(0), handle: theirs },
            { id: user(1), handle: kept },
          ],
        });
        await new Promise((resolve) => child.on('close', resolve));
        outcome = 'started';
      } catch (e) {
        outcome = e instanceof ZxError ? `${e.operation} ${e.code}` : String(e);
      }
      expect({ type: name, outcome }).toEqual({ type: name, outcome: 'spawn ZX_ERR_ACCESS_DENIED' });
      expect(given.map(isValid)).toEqual([false, false]);
      expect(mine.signals).toBe(ZX_CHANNEL_PEER_CLOSED);
      if (peer) expect(peer.signals & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
      mine.close();
      peer?.close();
    }
  });
});

// ---- descriptors running out -------------------------------------------------------------

describe('out of descriptors', () => {
  it('objectWaitOneAsync on an event, an eventpair or a VMO (whose waiters need a descriptor): NO_RESOURCES at once, as objectWaitOne', async () => {
    const proc = start('sh', [
      '-c',
      'ulimit -n 64 && exec "$0" "$@"',
      process.execPath,
      fixture('objects-crowded.cjs'),
    ]);
    expect(await proc.closed).toEqual({ code: 0, signal: null });
    const report = JSON.parse(proc.stdout());
    const refused = (observed: number) => ({
      first: 'wait',
      sync: ZX_ERR_NO_RESOURCES,
      async: { status: ZX_ERR_NO_RESOURCES, observed },
    });
    expect(report).toEqual({ event: refused(0), eventpair: refused(0), vmo: refused(ZX_VMO_ZERO_CHILDREN) });
  });
});
