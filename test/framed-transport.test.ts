// Fault injection into the framed SOCK_STREAM transport of the portable backend
// (docs/architecture.md, "Backends"; docs/wire-format.md, "Framed streams"). A raw peer
// (fixtures/frame-writer.py, not this library) writes frames in the pieces the test asks
// for: a frame cut at every byte, descriptors that come with its first byte only, a frame's
// tail queued together with the next frame, bytes that are no header, a writer killed
// mid-frame. And this library's own writer meeting a full socket mid-frame. Nothing partial
// is ever delivered or READABLE, descriptors come back to baseline. Runs under
// `npm run test:portable` (the Linux backend has no frames).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backend,
  Channel,
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_TIME_INFINITE,
} from '../lib/index';
import { type Baseline, baseline, channel, closeAll, expectBaseline, signalsOf } from './fixtures/channels';
import { fdLinks } from './fixtures/fds';
import { fixture, waitSignals } from './fixtures/spawn';

/** The payload frame-writer.py sends for frame `seq`. */
function pattern(seq: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(seq);
  head.copy(out, 0, 0, Math.min(4, length));
  for (let j = 4; j < length; j++) out[j] = ((seq + j) * 31) & 0xff;
  return out;
}

/** The raw peer, holding the other end of a fresh channel; commands answered line by line. */
class RawPeer {
  readonly proc: ChildProcess;
  private out = '';
  private err = '';
  private waiting: ((line: string) => void) | null = null;
  readonly exited: Promise<void>;

  constructor(endpoint: number) {
    const { status, fd } = fdio.fdCreate(endpoint);
    expect(status).toBe(ZX_OK);
    try {
      this.proc = spawn('python3', [fixture('frame-writer.py')], { stdio: ['pipe', 'pipe', 'pipe', fd] });
    } finally {
      closeSync(fd);
    }
    this.proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.out += s;
      this.deliver();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => (this.err += s));
    this.exited = new Promise((resolve) => this.proc.on('close', () => resolve()));
  }

  private deliver(): void {
    const at = this.out.indexOf('\n');
    if (at < 0 || !this.waiting) return;
    const line = this.out.slice(0, at);
    this.out = this.out.slice(at + 1);
    const resolve = this.waiting;
    this.waiting = null;
    resolve(line);
  }

  /** Sends one command and resolves with its answer (rejects if the peer dies first). */
  ask(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const died = () => reject(new Error(`the raw peer exited: ${this.err}`));
      this.proc.once('close', died);
      this.waiting = (line) => {
        this.proc.off('close', died);
        resolve(line);
      };
      this.proc.stdin!.write(`${command}\n`);
      this.deliver();
    });
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async end(): Promise<void> {
    this.proc.stdin!.end();
    await this.exited;
  }
}

let peers: RawPeer[] = [];
afterEach(async () => {
  for (const peer of peers) if (peer.proc.exitCode === null && peer.proc.signalCode === null) await peer.kill();
  peers = [];
});

function rawPeer(): { h: number; peer: RawPeer } {
  const [h, other] = channel();
  const peer = new RawPeer(other);
  peers.push(peer);
  return { h, peer };
}

/** Nothing to read yet: not READABLE, a read waits, nothing installed. */
function expectNothingYet(h: number, base: Baseline, why: string): void {
  expect(signalsOf(h) & ZX_CHANNEL_READABLE, why).toBe(0);
  expect(sys.channelRead(h, 0, 65536, 64).status, why).toBe(ZX_ERR_SHOULD_WAIT);
  expectBaseline(base);
}

/** Reads frame `seq` (`nbytes`, `nfds` plain descriptors), checks it, closes its handles. */
function expectFrame(h: number, seq: number, nbytes: number, nfds: number, why = ''): void {
  const m = sys.channelReadEtc(h, 0, 65536, 64);
  expect(m.status, why).toBe(ZX_OK);
  expect(m.bytes.equals(pattern(seq, nbytes)), why).toBe(true);
  expect(
    m.handles.map((x) => x.type),
    why,
  ).toEqual(new Array(nfds).fill(ZX_OBJ_TYPE_FD));
  if (nfds) expect(sys.handleCloseMany(m.handles.map((x) => x.handle))).toBe(ZX_OK);
}

/** Epoll instances open in this process: the loop's own, and any watch's waiter (edges). */
function epollInstances(): number {
  return [...fdLinks().values()].filter((link) => link === 'anon_inode:[eventpoll]').length;
}

/** The event loop's turns so far (libuv's metrics), where Node tells them (20.18, 22.8). */
const timing = performance.nodeTiming as unknown as { uvMetricsInfo?: { loopCount: number } };
const hasLoopMetrics = timing.uvMetricsInfo !== undefined;
function loopTurns(): number {
  return timing.uvMetricsInfo?.loopCount ?? 0;
}

describe.runIf(backend === 'portable')('framed stream transport, faults injected', () => {
  it('a frame cut at every byte: nothing READABLE or installed until its last byte, then it whole with its descriptors', async () => {
    const { h, peer } = rawPeer();
    const NBYTES = 9;
    const NFDS = 2;
    const length = Number((await peer.ask(`frame 0 ${NBYTES} ${NFDS}`)).split(' ')[1]);
    expect(length).toBe(16 + 24 * NFDS + NBYTES);
    const base = baseline(); // the endpoint's, before any descriptor travels
    for (let cut = 1; cut < length; cut++) {
      expect(await peer.ask(`frame ${cut} ${NBYTES} ${NFDS}`)).toBe(`frame ${length}`);
      expect(await peer.ask(`send ${cut}`)).toBe(`sent ${cut}`);
      // The descriptors came with the first byte: they sit in the kernel's queue, not here.
      expectNothingYet(h, base, `cut at ${cut}`);
      expect(await peer.ask('rest')).toBe(`sent ${length}`);
      await waitSignals(h, ZX_CHANNEL_READABLE, 20_000, `cut at ${cut}`);
      expectFrame(h, cut, NBYTES, NFDS, `cut at ${cut}`);
      expectNothingYet(h, base, `after the frame cut at ${cut}`);
    }
    closeAll(h);
    await peer.end();
  });

  it("a frame's tail and the next frame queued together: each read takes its own bytes and only its own descriptors", async () => {
    const { h, peer } = rawPeer();
    const base = baseline();
    await peer.ask('frame 1 100 3');
    await peer.ask('send 20'); // the header, part of the table, and the 3 descriptors
    expectNothingYet(h, base, 'first piece');
    await peer.ask('rest');
    await peer.ask('frame 2 50 1');
    await peer.ask('rest');
    await peer.ask('frame 3 0 0');
    await peer.ask('rest');
    await waitSignals(h, ZX_CHANNEL_READABLE);
    expectFrame(h, 1, 100, 3);
    expectFrame(h, 2, 50, 1);
    // A header-only frame: no payload, no descriptors.
    const empty = sys.channelRead(h, 0, 65536, 64);
    expect(empty.status).toBe(ZX_OK);
    expect(empty.bytes.length).toBe(0);
    expect(empty.handles).toEqual([]);
    expectNothingYet(h, base, 'all read');
    closeAll(h);
    await peer.end();
  });

  it('a batched read takes whole frames only and stops at a partial one', async () => {
    const { h, peer } = rawPeer();
    const base = baseline();
    for (let seq = 0; seq < 5; seq++) {
      await peer.ask(`frame ${seq} ${seq * 7} 0`);
      await peer.ask('rest');
    }
    await peer.ask('frame 5 40 1');
    await peer.ask('send 30');
    await waitSignals(h, ZX_CHANNEL_READABLE);
    const batch = sys.channelReadMany(h, 0, 16);
    expect(batch.status).toBe(ZX_OK);
    expect(Array.from(batch.statuses)).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK, ZX_OK]);
    let start = 0;
    for (let seq = 0; seq < 5; seq++) {
      expect(batch.bytes.subarray(start, batch.ends[seq]).equals(pattern(seq, seq * 7))).toBe(true);
      start = batch.ends[seq];
    }
    expectNothingYet(h, base, 'the partial frame');
    await peer.ask('rest');
    await waitSignals(h, ZX_CHANNEL_READABLE);
    expectFrame(h, 5, 40, 1);
    closeAll(h);
    await peer.end();
  });

  it('a writer killed mid-frame: the whole frames before it are read, then PEER_CLOSED, the partial frame never, nothing leaked', async () => {
    for (const cut of [1, 15, 16, 17, 40, 64]) {
      const base = baseline();
      const { h, peer } = rawPeer();
      await peer.ask('frame 7 24 1');
      await peer.ask('rest');
      await peer.ask('frame 8 24 2'); // 16 + 48 + 24 = 88 bytes
      await peer.ask(`send ${cut}`);
      await peer.kill();
      await waitSignals(h, ZX_CHANNEL_PEER_CLOSED);
      expect(signalsOf(h) & ZX_CHANNEL_READABLE, `cut at ${cut}`).toBe(ZX_CHANNEL_READABLE);
      expectFrame(h, 7, 24, 1, `cut at ${cut}`);
      expect(signalsOf(h) & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED), `cut at ${cut}`).toBe(
        ZX_CHANNEL_PEER_CLOSED,
      );
      expect(sys.channelRead(h, 0, 65536, 64).status, `cut at ${cut}`).toBe(ZX_ERR_PEER_CLOSED);
      expect(sys.channelReadMany(h, 0, 8).status, `cut at ${cut}`).toBe(ZX_ERR_PEER_CLOSED);
      // The partial frame's descriptors went with the socket's queue.
      closeAll(h);
      expectBaseline(base);
    }
  });

  it('bytes that are no header: IO_DATA_INTEGRITY once, then PEER_CLOSED both ways', async () => {
    const base = baseline();
    const { h, peer } = rawPeer();
    await peer.ask('frame 1 8 1');
    await peer.ask('rest');
    await peer.ask('garbage');
    await peer.ask('frame 2 8 0');
    await peer.ask('rest');
    await waitSignals(h, ZX_CHANNEL_READABLE);
    expectFrame(h, 1, 8, 1);
    expect(sys.channelRead(h, 0, 65536, 64).status).toBe(ZX_ERR_IO_DATA_INTEGRITY);
    expect(signalsOf(h) & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(h, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.channelWrite(h, 0, Buffer.from('x'), null)).toBe(ZX_ERR_PEER_CLOSED);
    expect(await peer.ask('read')).toBe('read closed');
    closeAll(h);
    await peer.end();
    expectBaseline(base);
  });

  it("this library's writer meeting a full socket mid-frame: the tail waits at the head of the queue, the reader never sees a part, nothing is lost or reordered", async () => {
    const base = baseline();
    const [w, r] = channel();
    const SIZE = 65536 - 100; // not a divisor of the socket's room: frames get cut
    const N = 64; // about 4 MiB: more than the socket holds
    const carried: number[] = [];
    for (let i = 0; i < N; i++) {
      let handles: number[] | null = null;
      if (i % 8 === 0) {
        const [a, b] = channel();
        carried.push(b);
        handles = [a];
      }
      expect(sys.channelWrite(w, 0, pattern(i, SIZE), handles)).toBe(ZX_OK);
    }
    // Synchronously (the loop can't flush meanwhile): read every whole frame there is.
    let seq = 0;
    const take = () => {
      for (;;) {
        const m = sys.channelReadEtc(r, 0, 65536, 64);
        if (m.status === ZX_ERR_SHOULD_WAIT) return;
        expect(m.status).toBe(ZX_OK);
        expect(m.bytes.equals(pattern(seq, SIZE)), `message ${seq}`).toBe(true);
        expect(m.handles.map((x) => x.type)).toEqual(seq % 8 === 0 ? [ZX_OBJ_TYPE_CHANNEL] : []);
        if (m.handles.length) closeAll(m.handles[0].handle);
        seq++;
      }
    };
    take();
    expect(seq).toBeGreaterThan(0);
    expect(seq).toBeLessThan(N);
    expect(sys.objectWaitOne(r, ZX_CHANNEL_READABLE, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    while (seq < N) {
      await waitSignals(r, ZX_CHANNEL_READABLE);
      take();
    }
    closeAll(w, r, ...carried);
    expectBaseline(base);
  });

  it.runIf(hasLoopMetrics)(
    'the event loop polls the socket, and hears edges only while part of a frame heads it: that part neither spins the loop nor is delivered',
    async () => {
      const base = baseline();
      const { h, peer } = rawPeer();
      const ch = new Channel(h);
      const loopPollers = epollInstances();
      // A few loop turns: round trips to the peer, with nothing for the channel.
      const ROUNDS = 20;
      const quiet = async () => {
        const before = loopTurns();
        for (let i = 0; i < ROUNDS; i++) expect(await peer.ask('read')).toBe('read 0');
        return loopTurns() - before;
      };
      for (const cut of [1, 15, 16, 17, 63]) {
        let delivered = false;
        // Both ways the loop reads: the channel's reader (a listener) and a wait.
        const reading = ch.read().then((m) => {
          delivered = true;
          return m;
        });
        const waiting = sys.objectWaitOneAsync(h, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE).then((w) => {
          delivered = true;
          return w;
        });
        const idleTurns = await quiet();
        // Nothing at the head: the socket itself is polled, no epoll instance of the watch's.
        expect(epollInstances(), `cut at ${cut}`).toBe(loopPollers);
        const length = Number((await peer.ask(`frame ${cut} 40 1`)).split(' ')[1]);
        expect(length).toBe(16 + 24 + 40);
        expect(await peer.ask(`send ${cut}`)).toBe(`sent ${cut}`);
        // Seen by now (a turn at the latest with the answer above): edges, through a waiter.
        const partTurns = await quiet();
        expect(epollInstances(), `cut at ${cut}`).toBe(loopPollers + 1);
        // One turn a round trip either way (a stray wake or two allowed). A socket polled
        // readable would make every turn return at once, as often as the round trips let it.
        expect(partTurns, `cut at ${cut}: loop turns, against ${idleTurns} with nothing queued`).toBeLessThanOrEqual(
          idleTurns + 3,
        );
        expect(delivered, `cut at ${cut}`).toBe(false);
        expect(signalsOf(h) & ZX_CHANNEL_READABLE, `cut at ${cut}`).toBe(0);
        expect(await peer.ask('rest')).toBe(`sent ${length}`);
        const m = await reading;
        expect(m.bytes.equals(pattern(cut, 40)), `cut at ${cut}`).toBe(true);
        expect(m.handles.length, `cut at ${cut}`).toBe(1);
        for (const handle of m.handles) handle.close();
        const w = await waiting;
        expect(w.status).toBe(ZX_OK);
        expect(w.observed & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
        // A whole frame was found: the socket is polled again.
        expect(epollInstances(), `after the frame cut at ${cut}`).toBe(loopPollers);
      }
      ch.close();
      await peer.end();
      expectBaseline(base);
    },
  );

  it('a wait for PEER_CLOSED alone, a whole frame unread: the loop hears the hangup through edges (on macOS, polled, it comes only with READABLE)', async () => {
    const base = baseline();
    const { h, peer } = rawPeer();
    const loopPollers = epollInstances();
    await peer.ask('frame 1 8 0');
    await peer.ask('rest');
    await waitSignals(h, ZX_CHANNEL_READABLE);
    let settled = false;
    const waiting = sys.objectWaitOneAsync(h, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE).then((w) => {
      settled = true;
      return w;
    });
    expect(await peer.ask('read')).toBe('read 0');
    expect(epollInstances()).toBe(loopPollers + 1);
    expect(settled).toBe(false);
    await peer.kill();
    const w = await waiting;
    expect(w.status).toBe(ZX_OK);
    expect(w.observed & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED)).toBe(
      ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
    );
    expectFrame(h, 1, 8, 0);
    closeAll(h);
    expectBaseline(base);
  });
});
