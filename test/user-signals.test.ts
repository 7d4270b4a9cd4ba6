// User signals (ZX_USER_SIGNAL_0..7) on channels, sockets, VMOs and timers: objectSignal on
// the object itself, objectSignalPeer on a channel's or socket's peer, with Zircon's statuses
// in Zircon's order; seen by sync waits, async waits and ports in this process and in every
// other process holding the object or its peer, also after the object moved on to a third.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  Event,
  EventPair,
  Port,
  Socket,
  sys,
  Timer,
  Vmo,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_CLOCK_MONOTONIC,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BAD_STATE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_TIMED_OUT,
  ZX_EVENT_SIGNALED,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_SOCKET,
  ZX_OBJ_TYPE_TIMER,
  ZX_OBJ_TYPE_VMO,
  ZX_OK,
  ZX_PKT_TYPE_SIGNAL_ONE,
  ZX_RIGHT_MAP,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_SIGNAL,
  ZX_RIGHT_SIGNAL_PEER,
  ZX_RIGHTS_BASIC,
  ZX_SOCKET_DATAGRAM,
  ZX_SOCKET_DISPOSITION_WRITE_DISABLED,
  ZX_SOCKET_PEER_CLOSED,
  ZX_SOCKET_PEER_WRITE_DISABLED,
  ZX_SOCKET_STREAM,
  ZX_SOCKET_WRITABLE,
  ZX_SOCKET_WRITE_DISABLED,
  ZX_TIMER_SIGNALED,
  ZX_USER_SIGNAL_0,
  ZX_USER_SIGNAL_1,
  ZX_USER_SIGNAL_2,
  ZX_USER_SIGNAL_3,
  ZX_USER_SIGNAL_4,
  ZX_USER_SIGNAL_5,
  ZX_USER_SIGNAL_6,
  ZX_USER_SIGNAL_7,
  ZX_USER_SIGNAL_ALL,
  ZX_VMO_ZERO_CHILDREN,
} from '../lib/index';
import { staleHandle } from './fixtures/channels';
import { expectZxError, thrownBy } from './fixtures/errors';
import { type Baseline, baseline, expectBaseline } from './fixtures/proc-helpers';
import { give, peerWithChannel, startPeer } from './fixtures/peer';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { inWorker } from './fixtures/threads';

const SECOND = 1_000_000_000n;
const soon = () => sys.deadlineAfter(20n * SECOND);
const signalsOf = (h: number) => sys.objectWaitOne(h, 0, 0n).observed;

beforeAll(async () => {
  warmUpWait();
  await warmUpSpawn();
});

let before: Baseline;
beforeEach(() => {
  before = baseline();
});
afterEach(async () => {
  await expectBaseline(before);
});

// ---- the objects ---------------------------------------------------------------------------

interface Kind {
  name: string;
  /** [this end, its peer] (a VMO or a timer: [the object, a duplicate of it]). */
  make(): [number, number];
  peered: boolean;
  /** Its signals with nothing raised, as this end sees them. */
  rest: number;
}

const kinds: Kind[] = [
  {
    name: 'channel',
    make: () => {
      const { out0, out1 } = sys.channelCreate(0);
      return [out0, out1];
    },
    peered: true,
    rest: ZX_CHANNEL_WRITABLE,
  },
  ...[ZX_SOCKET_STREAM, ZX_SOCKET_DATAGRAM].map((options) => ({
    name: options ? 'socket (datagram)' : 'socket (stream)',
    make: (): [number, number] => {
      const { out0, out1 } = sys.socketCreate(options);
      return [out0, out1];
    },
    peered: true,
    rest: ZX_SOCKET_WRITABLE,
  })),
  {
    name: 'VMO',
    make: () => {
      const vmo = sys.vmoCreate(4096, 0).out;
      return [vmo, sys.handleDuplicate(vmo, ZX_RIGHT_SAME_RIGHTS).out];
    },
    peered: false,
    rest: ZX_VMO_ZERO_CHILDREN,
  },
  {
    name: 'timer',
    make: () => {
      const timer = sys.timerCreate(0, ZX_CLOCK_MONOTONIC).out;
      return [timer, sys.handleDuplicate(timer, ZX_RIGHT_SAME_RIGHTS).out];
    },
    peered: false,
    rest: 0, // not armed: SIGNALED (the timerfd's, not settable) is down
  },
];

/** `h` replaced by a handle without `right` (channels can't be duplicated). */
const without = (h: number, right: number) => {
  const rights = sys.objectGetInfo(h, ZX_INFO_HANDLE_BASIC).info!.rights;
  const { status, out } = sys.handleReplace(h, (rights & ~right) >>> 0);
  expect(status).toBe(ZX_OK);
  return out;
};

describe.each(kinds)('$name: statuses in Zircon’s order', (kind) => {
  it('objectSignal: BAD_HANDLE, then ACCESS_DENIED without SIGNAL, then INVALID_ARGS for a bit that is not a user signal', () => {
    const [h, other] = kind.make();
    expect(sys.objectSignal(staleHandle(), 0x1, 0)).toBe(ZX_ERR_BAD_HANDLE);
    for (const bad of [ZX_CHANNEL_READABLE, ZX_EVENT_SIGNALED, 0x1, 1 << 23]) {
      expect(sys.objectSignal(h, 0, bad)).toBe(ZX_ERR_INVALID_ARGS);
      expect(sys.objectSignal(h, bad, 0)).toBe(ZX_ERR_INVALID_ARGS);
    }
    expect(signalsOf(h)).toBe(kind.rest);
    const noSignal = without(h, ZX_RIGHT_SIGNAL);
    expect(sys.objectSignal(noSignal, 0x1, 0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectSignal(noSignal, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleCloseMany([noSignal, other])).toBe(ZX_OK);
  });

  it('objectSignal: clears, then sets, as every handle of the object sees; a clear of nothing is OK', () => {
    const [h, other] = kind.make();
    const all = (s: number) => (kind.rest | s) >>> 0;
    expect(sys.objectSignal(h, ZX_USER_SIGNAL_ALL, 0)).toBe(ZX_OK);
    expect(sys.objectSignal(h, 0, (ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0)).toBe(ZX_OK);
    expect(signalsOf(h)).toBe(all(ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7));
    // The same bit in clear and set ends up set.
    expect(sys.objectSignal(h, ZX_USER_SIGNAL_ALL, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
    expect(signalsOf(h)).toBe(all(ZX_USER_SIGNAL_1));
    // A peer's are its own; a VMO's or a timer's duplicate is the same object.
    expect(signalsOf(other) & ZX_USER_SIGNAL_ALL).toBe(kind.peered ? 0 : ZX_USER_SIGNAL_1);
    expect(sys.handleCloseMany([h, other])).toBe(ZX_OK);
  });

  it(
    kind.peered
      ? 'objectSignalPeer: ACCESS_DENIED without SIGNAL_PEER, INVALID_ARGS, then PEER_CLOSED once the peer is gone'
      : 'objectSignalPeer: ACCESS_DENIED (a VMO or a timer has no SIGNAL_PEER right, and no peer)',
    () => {
      const [h, other] = kind.make();
      if (!kind.peered) {
        expect(sys.objectSignalPeer(h, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_ACCESS_DENIED);
        expect(sys.objectSignalPeer(h, 0x1, 0)).toBe(ZX_ERR_ACCESS_DENIED);
        expect(sys.handleCloseMany([h, other])).toBe(ZX_OK);
        return;
      }
      expect(sys.objectSignalPeer(h, 0, ZX_CHANNEL_READABLE)).toBe(ZX_ERR_INVALID_ARGS);
      expect(sys.objectSignalPeer(h, 0, ZX_USER_SIGNAL_2)).toBe(ZX_OK);
      expect(signalsOf(other)).toBe(kind.rest | ZX_USER_SIGNAL_2);
      expect(signalsOf(h)).toBe(kind.rest);
      expect(sys.objectSignalPeer(other, 0, ZX_USER_SIGNAL_3)).toBe(ZX_OK);
      expect(sys.objectSignalPeer(h, ZX_USER_SIGNAL_2, 0)).toBe(ZX_OK);
      expect(signalsOf(other)).toBe(kind.rest);
      expect(signalsOf(h)).toBe(kind.rest | ZX_USER_SIGNAL_3);
      expect(sys.handleClose(other)).toBe(ZX_OK);
      // The mask first, then the peer.
      expect(sys.objectSignalPeer(h, 0, ZX_CHANNEL_READABLE)).toBe(ZX_ERR_INVALID_ARGS);
      expect(sys.objectSignalPeer(h, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
      // What the peer set before it went stays, as in Zircon.
      expect(signalsOf(h) & ZX_USER_SIGNAL_ALL).toBe(ZX_USER_SIGNAL_3);
      expect(sys.objectSignal(h, ZX_USER_SIGNAL_3, ZX_USER_SIGNAL_4)).toBe(ZX_OK);
      expect(signalsOf(h) & ZX_USER_SIGNAL_ALL).toBe(ZX_USER_SIGNAL_4);
      const noPeerRight = without(h, ZX_RIGHT_SIGNAL_PEER);
      expect(sys.objectSignalPeer(noPeerRight, 0x1, 0)).toBe(ZX_ERR_ACCESS_DENIED);
      expect(sys.handleClose(noPeerRight)).toBe(ZX_OK);
    },
  );
});

// ---- waits in this process -----------------------------------------------------------------

describe.each(kinds)('$name: waits in this process wake when a user signal is raised', (kind) => {
  it('an async wait, a port and objectWaitMany (another thread raising) see it', async () => {
    const [h, other] = kind.make();
    const raiser = kind.peered ? other : h;
    const raise = (clear: number, set: number) =>
      kind.peered ? sys.objectSignalPeer(raiser, clear, set) : sys.objectSignal(raiser, clear, set);
    // Async: pending before anything was ever raised (no page yet).
    const waited = sys.objectWaitOneAsync(h, ZX_USER_SIGNAL_5, soon());
    expect(raise(0, ZX_USER_SIGNAL_5)).toBe(ZX_OK);
    expect(await waited).toEqual({ status: ZX_OK, observed: kind.rest | ZX_USER_SIGNAL_5 });
    // A port.
    const port = Port.create();
    expect(sys.objectWaitAsync(h, port.raw, 7n, ZX_USER_SIGNAL_6, 0)).toBe(ZX_OK);
    expect(raise(ZX_USER_SIGNAL_5, ZX_USER_SIGNAL_6)).toBe(ZX_OK);
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet.type).toBe(ZX_PKT_TYPE_SIGNAL_ONE);
    expect(packet.key).toBe(7n);
    if (packet.type === ZX_PKT_TYPE_SIGNAL_ONE) {
      expect(packet.signal.trigger).toBe(ZX_USER_SIGNAL_6);
      expect(packet.signal.observed & ZX_USER_SIGNAL_ALL).toBe(ZX_USER_SIGNAL_6);
    }
    port.close();
    // A blocking wait on this thread; a worker raises once it sleeps.
    const worker = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(
         workerData.peered ? sys.objectSignalPeer(workerData.h, 0, zx.ZX_USER_SIGNAL_7)
                           : sys.objectSignal(workerData.h, 0, zx.ZX_USER_SIGNAL_7)));`,
      { h: raiser, peered: kind.peered },
    );
    const items = [{ handle: h, waitfor: ZX_USER_SIGNAL_7, pending: 0 }];
    expect(sys.objectWaitMany(items, soon())).toBe(ZX_OK);
    expect(items[0].pending).toBe((kind.rest | ZX_USER_SIGNAL_6 | ZX_USER_SIGNAL_7) >>> 0);
    expect(await worker.message).toBe(ZX_OK);
    await worker.exited;
    expect(sys.handleCloseMany([h, other])).toBe(ZX_OK);
  });
});

it('a channel end read by a listener also takes async waits on user signals, and its messages still come', async () => {
  const [mine, theirs] = Channel.create();
  const got: string[] = [];
  mine.on('message', (m) => got.push(m.bytes.toString()));
  const waited = mine.wait(ZX_USER_SIGNAL_1, { timeout: 20_000 });
  expect(theirs.write('one')).toBe(true);
  expect(sys.objectSignalPeer(theirs.raw, 0, ZX_USER_SIGNAL_1)).toBe(ZX_OK);
  // READABLE too if the wait settled before the listener took 'one' (the order differs
  // between the backends: docs/architecture.md, "Backends").
  expect((await waited) & ~ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_1);
  expect(theirs.write('two')).toBe(true);
  const deadline = Date.now() + 20_000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  expect(got).toEqual(['one', 'two']);
  mine.close();
  theirs.close();
});

it('a port watch and an async watch made before the page was: a user-signal wait joining them is woken by its doorbell', async () => {
  const { out0: h, out1: peer } = sys.channelCreate(0);
  const port = Port.create();
  // Both watch the socket alone at first.
  expect(sys.objectWaitAsync(h, port.raw, 1n, ZX_CHANNEL_READABLE, 0)).toBe(ZX_OK);
  const readable = sys.objectWaitOneAsync(h, ZX_CHANNEL_READABLE, soon());
  expect(sys.objectWaitAsync(h, port.raw, 2n, ZX_USER_SIGNAL_2, 0)).toBe(ZX_OK);
  const user = sys.objectWaitOneAsync(h, ZX_USER_SIGNAL_3, soon());
  expect(sys.objectSignalPeer(peer, 0, ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3)).toBe(ZX_OK);
  const packet = await port.wait({ timeout: 20_000 });
  expect(packet.key).toBe(2n);
  expect(await user).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3 });
  expect(sys.channelWrite(peer, 0, Buffer.from('x'), null)).toBe(ZX_OK);
  expect((await readable).status).toBe(ZX_OK);
  expect((await port.wait({ timeout: 20_000 })).key).toBe(1n);
  port.close();
  expect(sys.handleCloseMany([h, peer])).toBe(ZX_OK);
});

it('waits without user signals wait as before: a channel never given a user signal waits on its socket alone', () => {
  const { out0, out1 } = sys.channelCreate(0);
  expect(sys.objectWaitOne(out0, ZX_CHANNEL_READABLE, sys.deadlineAfter(1_000_000n)).status).toBe(ZX_ERR_TIMED_OUT);
  expect(sys.handleClose(out1)).toBe(ZX_OK);
  expect(sys.objectWaitOne(out0, ZX_CHANNEL_PEER_CLOSED, soon())).toEqual({
    status: ZX_OK,
    observed: ZX_CHANNEL_PEER_CLOSED,
  });
  expect(sys.handleClose(out0)).toBe(ZX_OK);
});

// ---- the classes ---------------------------------------------------------------------------

describe('the classes: handle.signal(clear, set); signalPeer(clear, set) on Channel, Socket and EventPair', () => {
  const READABLE = ZX_CHANNEL_READABLE; // 0x1: no user signal, and settable on none of them
  const pairs = [
    { name: 'Channel', make: (): [Channel, Channel] => Channel.create(), rest: ZX_CHANNEL_WRITABLE },
    { name: 'Socket', make: (): [Socket, Socket] => Socket.create(), rest: ZX_SOCKET_WRITABLE },
    { name: 'EventPair', make: (): [EventPair, EventPair] => EventPair.create(), rest: 0 },
  ];

  it.each(pairs)(
    '$name: signal on this end, signalPeer on the other; ZxError INVALID_ARGS for a bit that is not a user signal, PEER_CLOSED once the peer is gone',
    ({ name, make, rest }) => {
      const [a, b] = make();
      a.signal(0, ZX_USER_SIGNAL_0);
      a.signalPeer(0, ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2);
      b.signal(ZX_USER_SIGNAL_2, 0);
      expect([a.signals, b.signals]).toEqual([rest | ZX_USER_SIGNAL_0, rest | ZX_USER_SIGNAL_1]);
      expectZxError(
        thrownBy(() => a.signal(0, READABLE)),
        ZX_ERR_INVALID_ARGS,
        `${name}.signal`,
      );
      expectZxError(
        thrownBy(() => a.signalPeer(READABLE, 0)),
        ZX_ERR_INVALID_ARGS,
        `${name}.signalPeer`,
      );
      b.close();
      expectZxError(
        thrownBy(() => a.signalPeer(0, ZX_USER_SIGNAL_3)),
        ZX_ERR_PEER_CLOSED,
        `${name}.signalPeer`,
      );
      a.signal(ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_4); // this end's own stay its own
      expect(a.signals & ZX_USER_SIGNAL_ALL).toBe(ZX_USER_SIGNAL_4);
      a.close();
    },
  );

  it('Vmo, Event and Timer: signal, seen through every handle; ACCESS_DENIED without ZX_RIGHT_SIGNAL, and on a port (its handles never have it, as in Zircon)', () => {
    const vmo = Vmo.create(4096);
    const other = vmo.duplicate();
    vmo.signal(0, ZX_USER_SIGNAL_6);
    expect(other.signals).toBe(ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_6);
    const weak = other.replace(other.info().rights & ~ZX_RIGHT_SIGNAL);
    expectZxError(
      thrownBy(() => weak.signal(ZX_USER_SIGNAL_6, 0)),
      ZX_ERR_ACCESS_DENIED,
      'Vmo.signal',
    );
    expectZxError(
      thrownBy(() => vmo.signal(0, READABLE)),
      ZX_ERR_INVALID_ARGS,
      'Vmo.signal',
    );
    const event = Event.create();
    event.signal(0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_5);
    expect(event.signals).toBe(ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_5);
    const timer = Timer.create();
    timer.signal(0, ZX_USER_SIGNAL_0);
    expect(timer.signals).toBe(ZX_USER_SIGNAL_0);
    expectZxError(
      thrownBy(() => timer.signal(0, ZX_TIMER_SIGNALED)),
      ZX_ERR_INVALID_ARGS,
      'Timer.signal',
    );
    const port = Port.create();
    expectZxError(
      thrownBy(() => port.signal(0, ZX_USER_SIGNAL_0)),
      ZX_ERR_ACCESS_DENIED,
      'Port.signal',
    ); // no SIGNAL right
    expect(sys.objectSignal(port.raw, 0, 0)).toBe(ZX_ERR_ACCESS_DENIED);
    for (const h of [vmo, weak, event, timer, port]) h.close();
  });

  it('Timer: SIGNALED stays the timerfd’s, the user signals the page’s; set and cancel leave them, and one never fired stays', () => {
    const timer = Timer.create();
    const twin = timer.duplicate();
    timer.signal(0, (ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0);
    timer.set(0n);
    expect(sys.objectWaitOne(twin.raw, ZX_TIMER_SIGNALED, soon())).toEqual({
      status: ZX_OK,
      observed: (ZX_TIMER_SIGNALED | ZX_USER_SIGNAL_0 | ZX_USER_SIGNAL_7) >>> 0,
    });
    twin.signal(ZX_USER_SIGNAL_7, 0);
    timer.cancel();
    expect(twin.signals).toBe(ZX_USER_SIGNAL_0);
    timer.set(sys.deadlineAfter(3600n * SECOND));
    expect(sys.objectWaitOne(timer.raw, ZX_USER_SIGNAL_0 | ZX_TIMER_SIGNALED, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_USER_SIGNAL_0,
    });
    timer.signal(ZX_USER_SIGNAL_0, 0);
    expect(sys.objectWaitOne(timer.raw, ZX_USER_SIGNAL_0 | ZX_TIMER_SIGNALED, 0n)).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: 0,
    });
    timer.close();
    twin.close();
  });
});

// ---- across processes ----------------------------------------------------------------------

describe('across processes', () => {
  it('a channel end in another process: its raises are seen here by a sync wait, an async wait and a port; ours there; moved on to a third process it keeps them', async () => {
    const { out0: mine, out1: theirs } = sys.channelCreate(0);
    const first = peerWithChannel();
    // The end travels with its socket, the page and the doorbell: three descriptors there.
    const got = await give(first.peer, first.ch, [theirs], ['end']);
    expect(got.handles[0].type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(got.after.fds - got.before.fds).toBe(3);

    // A sync wait here, the child raising meanwhile (its request is already on its way).
    const raised = first.peer.do({ signalPeer: 'end', clear: 0, set: ZX_USER_SIGNAL_1 });
    expect(sys.objectWaitOne(mine, ZX_USER_SIGNAL_1, soon())).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_1,
    });
    expect(await raised).toEqual([ZX_OK]);
    // An async wait.
    const waited = sys.objectWaitOneAsync(mine, ZX_USER_SIGNAL_2, soon());
    expect(await first.peer.do({ signalPeer: 'end', clear: ZX_USER_SIGNAL_1, set: ZX_USER_SIGNAL_2 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_2 });
    // A port.
    const port = Port.create();
    expect(sys.objectWaitAsync(mine, port.raw, 3n, ZX_USER_SIGNAL_3, 0)).toBe(ZX_OK);
    expect(await first.peer.do({ signalPeer: 'end', clear: 0, set: ZX_USER_SIGNAL_3 })).toEqual([ZX_OK]);
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && [packet.key, packet.signal.observed]).toEqual([
      3n,
      ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3,
    ]);
    port.close();
    // Ours, seen there; and the child's own, on its end.
    expect(sys.objectSignalPeer(mine, 0, ZX_USER_SIGNAL_5)).toBe(ZX_OK);
    expect(await first.peer.do({ signal: 'end', clear: 0, set: ZX_USER_SIGNAL_4 }, { signals: 'end' })).toEqual([
      ZX_OK,
      ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_4 | ZX_USER_SIGNAL_5,
    ]);
    expect(signalsOf(mine)).toBe(ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3);

    // The end comes back here, goes on to a third process, and the first child exits.
    expect(await first.peer.do({ write: 'ch', text: 'back', handles: ['end'] })).toEqual([ZX_OK]);
    const back = sys.channelReadEtc(first.ch, 0, 64, 1);
    expect(back.status).toBe(ZX_OK);
    await first.peer.exit();
    expect(sys.handleClose(first.ch)).toBe(ZX_OK);
    const third = peerWithChannel();
    await give(third.peer, third.ch, [back.handles[0].handle], ['end']);
    expect(await third.peer.do({ signals: 'end' })).toEqual([
      ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_4 | ZX_USER_SIGNAL_5,
    ]);
    const fromThird = sys.objectWaitOneAsync(mine, ZX_USER_SIGNAL_7, soon());
    expect(await third.peer.do({ signalPeer: 'end', clear: ZX_USER_SIGNAL_ALL, set: ZX_USER_SIGNAL_7 })).toEqual([
      ZX_OK,
    ]);
    expect(await fromThird).toEqual({ status: ZX_OK, observed: (ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_7) >>> 0 });
    // The peer's close ends it all: PEER_CLOSED for us, what it set stays.
    expect(await third.peer.do({ close: 'end' })).toEqual([ZX_OK]);
    expect(sys.objectWaitOne(mine, ZX_CHANNEL_PEER_CLOSED, soon()).observed).toBe(
      (ZX_CHANNEL_PEER_CLOSED | ZX_USER_SIGNAL_7) >>> 0,
    );
    expect(sys.objectSignalPeer(mine, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
    await third.peer.exit();
    expect(sys.handleCloseMany([third.ch, mine])).toBe(ZX_OK);
  });

  it('a socket end in another process: raises both ways, waits here and there', async () => {
    const { out0: mine, out1: theirs } = sys.socketCreate(ZX_SOCKET_STREAM);
    const { peer, ch } = peerWithChannel();
    const got = await give(peer, ch, [theirs], ['end']);
    expect(got.handles[0].type).toBe(ZX_OBJ_TYPE_SOCKET);
    const raised = peer.do({ signalPeer: 'end', clear: 0, set: ZX_USER_SIGNAL_0 });
    expect(sys.objectWaitOne(mine, ZX_USER_SIGNAL_0, soon()).observed).toBe(ZX_SOCKET_WRITABLE | ZX_USER_SIGNAL_0);
    expect(await raised).toEqual([ZX_OK]);
    const waited = sys.objectWaitOneAsync(mine, ZX_USER_SIGNAL_1, soon());
    expect(await peer.do({ signalPeer: 'end', clear: ZX_USER_SIGNAL_0, set: ZX_USER_SIGNAL_1 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_SOCKET_WRITABLE | ZX_USER_SIGNAL_1 });
    expect(sys.objectSignalPeer(mine, 0, ZX_USER_SIGNAL_6)).toBe(ZX_OK);
    expect(await peer.do({ signals: 'end' })).toEqual([ZX_SOCKET_WRITABLE | ZX_USER_SIGNAL_6]);
    await peer.exit();
    expect(sys.handleCloseMany([ch, mine])).toBe(ZX_OK);
  });

  it('a DATAGRAM end here learns at once that its peer in another process disabled its writes: the page carries dispositions too', async () => {
    const { out0: mine, out1: theirs } = sys.socketCreate(ZX_SOCKET_DATAGRAM);
    const { peer, ch } = peerWithChannel();
    await give(peer, ch, [theirs], ['end']);
    const waited = sys.objectWaitOneAsync(mine, ZX_SOCKET_WRITE_DISABLED, soon());
    expect(
      await peer.do({ disposition: 'end', own: 0, peer: ZX_SOCKET_DISPOSITION_WRITE_DISABLED }, { signals: 'end' }),
    ).toEqual([ZX_OK, ZX_SOCKET_WRITABLE | ZX_SOCKET_PEER_WRITE_DISABLED]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_SOCKET_WRITE_DISABLED });
    expect(sys.socketWrite(mine, 0, Buffer.from('x')).status).toBe(ZX_ERR_BAD_STATE);
    await peer.exit();
    // Gone, it leaves what it set showing, as in Zircon.
    expect(signalsOf(mine)).toBe(ZX_SOCKET_PEER_CLOSED | ZX_SOCKET_WRITE_DISABLED);
    expect(sys.handleCloseMany([ch, mine])).toBe(ZX_OK);
  });

  it('a VMO in two processes: raised in either, seen in both; sent without SIGNAL as its last handle here, it goes without a page', async () => {
    const vmo = sys.vmoCreate(4096, 0).out;
    const { peer, ch } = peerWithChannel();
    const dup = sys.handleDuplicate(vmo, ZX_RIGHT_SAME_RIGHTS).out;
    const got = await give(peer, ch, [dup], ['vmo']);
    expect(got.handles[0].type).toBe(ZX_OBJ_TYPE_VMO);
    expect(got.after.fds - got.before.fds).toBe(3);
    const waited = sys.objectWaitOneAsync(vmo, ZX_USER_SIGNAL_2, soon());
    expect(await peer.do({ signal: 'vmo', clear: 0, set: ZX_USER_SIGNAL_2 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_2 });
    const port = Port.create();
    expect(sys.objectWaitAsync(vmo, port.raw, 9n, ZX_USER_SIGNAL_3, 0)).toBe(ZX_OK);
    expect(await peer.do({ signal: 'vmo', clear: ZX_USER_SIGNAL_2, set: ZX_USER_SIGNAL_3 })).toEqual([ZX_OK]);
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && packet.signal.observed).toBe(
      ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_3,
    );
    port.close();
    expect(sys.objectSignal(vmo, ZX_USER_SIGNAL_3, ZX_USER_SIGNAL_4)).toBe(ZX_OK);
    expect(await peer.do({ signals: 'vmo' })).toEqual([ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_4]);
    expect(sys.handleClose(vmo)).toBe(ZX_OK);

    // Nobody could ever raise one on this one (no SIGNAL there, no handle left here): its
    // memfd goes alone, as a value's body does.
    const lone = sys.vmoCreate(4096, 0).out;
    const readOnly = sys.handleReplace(lone, ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_MAP).out;
    const alone = await give(peer, ch, [readOnly], ['lone']);
    expect(alone.after.fds - alone.before.fds).toBe(1);
    expect(await peer.do({ signals: 'lone' }, { signal: 'lone', clear: 0, set: ZX_USER_SIGNAL_0 })).toEqual([
      ZX_VMO_ZERO_CHILDREN,
      ZX_ERR_ACCESS_DENIED,
    ]);
    await peer.exit();
    expect(sys.handleClose(ch)).toBe(ZX_OK);
  });

  it('a timer in two processes: raised in either, seen in both by sync and async waits and a port; SIGNALED stays the timerfd’s', async () => {
    const timer = sys.timerCreate(0, ZX_CLOCK_MONOTONIC).out;
    const { peer, ch } = peerWithChannel();
    // The timerfd travels with the page and the doorbell: three descriptors there.
    const got = await give(peer, ch, [sys.handleDuplicate(timer, ZX_RIGHT_SAME_RIGHTS).out], ['timer']);
    expect(got.handles[0].type).toBe(ZX_OBJ_TYPE_TIMER);
    expect(got.after.fds - got.before.fds).toBe(3);
    // A sync wait here, the child raising meanwhile.
    const raised = peer.do({ signal: 'timer', clear: 0, set: ZX_USER_SIGNAL_1 });
    expect(sys.objectWaitOne(timer, ZX_USER_SIGNAL_1, soon())).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_1 });
    expect(await raised).toEqual([ZX_OK]);
    // An async wait.
    const waited = sys.objectWaitOneAsync(timer, ZX_USER_SIGNAL_2, soon());
    expect(await peer.do({ signal: 'timer', clear: ZX_USER_SIGNAL_1, set: ZX_USER_SIGNAL_2 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_2 });
    // A port.
    const port = Port.create();
    expect(sys.objectWaitAsync(timer, port.raw, 4n, ZX_USER_SIGNAL_3, 0)).toBe(ZX_OK);
    expect(await peer.do({ signal: 'timer', clear: 0, set: ZX_USER_SIGNAL_3 })).toEqual([ZX_OK]);
    const packet = await port.wait({ timeout: 20_000 });
    expect(packet.type === ZX_PKT_TYPE_SIGNAL_ONE && [packet.key, packet.signal.observed]).toEqual([
      4n,
      ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3,
    ]);
    port.close();
    // Ours, seen there; the child arms it and SIGNALED comes from the timerfd, in both.
    expect(sys.objectSignal(timer, ZX_USER_SIGNAL_2 | ZX_USER_SIGNAL_3, ZX_USER_SIGNAL_4)).toBe(ZX_OK);
    const fired = sys.objectWaitOneAsync(timer, ZX_TIMER_SIGNALED, soon());
    expect(await peer.do({ timerSet: 'timer', ms: 0 })).toEqual([ZX_OK]);
    expect(await fired).toEqual({ status: ZX_OK, observed: ZX_TIMER_SIGNALED | ZX_USER_SIGNAL_4 });
    expect(await peer.do({ signals: 'timer' })).toEqual([ZX_TIMER_SIGNALED | ZX_USER_SIGNAL_4]);
    // A cancel here takes SIGNALED down there, and leaves the user signals.
    expect(sys.timerCancel(timer)).toBe(ZX_OK);
    expect(await peer.do({ signals: 'timer' })).toEqual([ZX_USER_SIGNAL_4]);
    await peer.exit();
    expect(signalsOf(timer)).toBe(ZX_USER_SIGNAL_4);
    expect(sys.handleCloseMany([ch, timer])).toBe(ZX_OK);
  });

  it('a timer whose user signals are in use goes to a spawned child inside a channel message, keeping them', async () => {
    const timer = sys.timerCreate(0, ZX_CLOCK_MONOTONIC).out;
    expect(sys.objectSignal(timer, 0, ZX_USER_SIGNAL_5)).toBe(ZX_OK);
    const peer = startPeer({ timer: sys.handleDuplicate(timer, ZX_RIGHT_SAME_RIGHTS).out });
    expect((await peer.request({ op: 'started' })).handles.timer.type).toBe(ZX_OBJ_TYPE_TIMER);
    expect(await peer.do({ signals: 'timer' })).toEqual([ZX_USER_SIGNAL_5]);
    const waited = sys.objectWaitOneAsync(timer, ZX_USER_SIGNAL_6, soon());
    expect(await peer.do({ signal: 'timer', clear: ZX_USER_SIGNAL_5, set: ZX_USER_SIGNAL_6 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_6 });
    await peer.exit();
    expect(sys.handleClose(timer)).toBe(ZX_OK);
  });

  it('a channel end whose user signals are in use goes to a spawned child inside a channel message, keeping them', async () => {
    const { out0: mine, out1: theirs } = sys.channelCreate(0);
    expect(sys.objectSignalPeer(mine, 0, ZX_USER_SIGNAL_3)).toBe(ZX_OK);
    const peer = startPeer({ end: theirs });
    expect((await peer.request({ op: 'started' })).handles.end.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(await peer.do({ signals: 'end' })).toEqual([ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_3]);
    const waited = sys.objectWaitOneAsync(mine, ZX_USER_SIGNAL_4, soon());
    expect(await peer.do({ signalPeer: 'end', clear: 0, set: ZX_USER_SIGNAL_4 })).toEqual([ZX_OK]);
    expect(await waited).toEqual({ status: ZX_OK, observed: ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_4 });
    await peer.exit();
    expect(sys.handleClose(mine)).toBe(ZX_OK);
  });
});
