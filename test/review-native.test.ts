// Races and lifetimes in the native core, each shown by what a user sees: a waiter that
// must wake, a descriptor that must close, a status Zircon gives.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_READABLE,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_EVENT_SIGNALED,
  ZX_OK,
  ZX_TIME_INFINITE,
} from '../lib/index';
import type { PortWaitResult } from '../lib/sys';
import { baseline, expectBaseline } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import { spawnWithEndpoint, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { inWorker } from './fixtures/threads';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('port observers', () => {
  // objectWaitAsync looks at the object, then starts watching it. A signal that comes on
  // between the two must still wake a waiter already asleep on the port: the port has to
  // look again once the watch is in place, not at some later wake-up.
  it('a signal raised while objectWaitAsync sets up its watch wakes a pending portWaitAsync', async () => {
    const before = baseline();
    const port = sys.portCreate(0).out;
    // Word 0: the round (the signaller starts it when it changes; -1: stop); 1: the event;
    // 2: how long to spin first; 3: the round whose signal is done.
    const shared = new Int32Array(new SharedArrayBuffer(16));
    const signaller = inWorker(
      `const s = new Int32Array(workerData);
       let last = 0;
       parentPort.postMessage('ready');
       for (;;) {
         let round;
         while ((round = Atomics.load(s, 0)) === last) {}
         if (round < 0) break;
         last = round;
         for (let i = 0, n = s[2]; i < n; i++) {}
         sys.objectSignal(s[1], 0, zx.ZX_EVENT_SIGNALED);
         Atomics.store(s, 3, round);
       }`,
      shared.buffer,
    );
    await signaller.message;
    let missed = 0;
    const rounds = 1000;
    let round = 1;
    for (; round <= rounds && missed === 0; round++) {
      const event = sys.eventCreate(0).out;
      shared[1] = event;
      shared[2] = Math.floor(Math.random() * 200);
      let settled: PortWaitResult | null = null;
      const waiting = sys.portWaitAsync(port, ZX_TIME_INFINITE).then((r) => (settled = r));
      Atomics.store(shared, 0, round); // the signal lands before, during or after the call below
      expect(sys.objectWaitAsync(event, port, BigInt(round), ZX_EVENT_SIGNALED, 0)).toBe(ZX_OK);
      while (Atomics.load(shared, 3) !== round) {}
      // The port is readable by now if it was told. One turn reaches the check phase, the
      // next passes through the poll phase, where a readable port settles the wait.
      await nextTurn();
      await nextTurn();
      if (settled === null) {
        missed = round;
        expect(sys.handleClose(port)).toBe(ZX_OK); // ends the wait (CANCELED)
      }
      await waiting;
      expect(sys.handleClose(event)).toBe(ZX_OK);
    }
    Atomics.store(shared, 0, -1);
    await signaller.exited;
    if (!missed) expect(sys.handleClose(port)).toBe(ZX_OK);
    expectBaseline(before);
    expect({ missed, rounds: round - 1 }).toEqual({ missed: 0, rounds });
  });
});

// Records a program outside the library writes on the endpoint it inherited as fd 3: an
// EVENT whose page is a read-only memfd, an EVENT whose page is sealed against writes, an
// EVENTPAIR side whose page is read-only, then a valid record. The page of an event is
// written by every holder, so neither can be one: the records are bad input.
const UNWRITABLE_PAGES = String.raw`
import array, fcntl, os, socket, struct
F_SEAL_FUTURE_WRITE = 0x10
def header(handles, size): return struct.pack('<IHHII', 0x4D43585A, 1, handles, size, 0)
def entry(obj_type, rights): return struct.pack('<IIQQ', obj_type, rights, 0, 0)
def page(seals, read_only):
    fd = os.memfd_create('page', os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, 4096)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    if not read_only: return fd
    copy = os.open('/proc/self/fd/%d' % fd, os.O_RDONLY)
    os.close(fd)
    return copy
def send(data, fds):
    sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))] if fds else [])
    for fd in fds: os.close(fd)
sock = socket.socket(fileno=3)
sock.setblocking(True)
pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
send(header(1, 3) + entry(5, 0xD003) + b'one', [page(fcntl.F_SEAL_SHRINK, True), os.eventfd(0)])
send(header(1, 3) + entry(5, 0xD003) + b'two', [page(fcntl.F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, False), os.eventfd(0)])
send(header(1, 5) + entry(16, 0xF003) + b'three', [pair[0].detach(), page(fcntl.F_SEAL_SHRINK, True), os.eventfd(0)])
send(header(0, 5) + b'valid', [])
sock.recv(16)
`;

describe('events from the wire', () => {
  it('an event or eventpair whose page cannot be written is a bad record (IO_DATA_INTEGRITY), not a lack of resources', async () => {
    await warmUpSpawn();
    warmUpWait();
    const before = baseline();
    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnWithEndpoint('python3', ['-c', UNWRITABLE_PAGES], out1);
    const seen: { status: number; bytes: string; handles: number }[] = [];
    for (let i = 0; i < 4; i++) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const fds = openFdCount();
      const r = sys.channelReadEtc(ch, 0, 65536, 64);
      seen.push({ status: r.status, bytes: r.bytes.toString(), handles: r.handles.length });
      expect(openFdCount()).toBe(fds); // whatever came with a bad record is closed
    }
    expect(seen).toEqual([
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_ERR_IO_DATA_INTEGRITY, bytes: '', handles: 0 },
      { status: ZX_OK, bytes: 'valid', handles: 0 },
    ]);
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleClose(ch)).toBe(ZX_OK);
    expectBaseline(before);
  });
});
