// The native outbound queue behind a full socket (SPEC §3, "Writes and full sockets" and
// "Moving an endpoint never loses or reorders a message"): writes past the socket's
// capacity, the 3500-message limit, flushing by later writes, by the event loop and at
// process exit, endpoints carried while their own queue is non-empty, closes with
// messages queued. Every case ends with descriptors and handles back to baseline.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  backend,
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
  ZX_PENDING_WRITE_BYTES_LIMIT,
  ZX_PENDING_WRITE_LIMIT,
} from '../lib/index';
import { native } from '../lib/native';
import { basic as basicInfo, channel as createChannel, isValid } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import { spawnWithEndpoint, warmUpSpawn } from './fixtures/spawn';

const SECOND = 1_000_000_000n;
const PENDING_WRITE_LIMIT = ZX_PENDING_WRITE_LIMIT;
const WRITER = path.join(__dirname, 'fixtures', 'queue-writer.cjs');
const READER = path.join(__dirname, 'fixtures', 'queue-reader.cjs');

interface Baseline {
  fds: number;
  handles: number;
  links: Map<string, string>;
}

/** Descriptor number → what it points at, to name a leak. */
function fdLinks(): Map<string, string> {
  const links = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      links.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own descriptor, already gone
    }
  }
  return links;
}

function baseline(): Baseline {
  return { fds: openFdCount(), handles: native.handleCount(), links: fdLinks() };
}

function fdChanges(b: Baseline): string {
  const now = fdLinks();
  const changes: string[] = [];
  for (const [fd, link] of now) if (b.links.get(fd) !== link) changes.push(`+${fd}:${link}`);
  for (const [fd, link] of b.links) if (now.get(fd) !== link) changes.push(`-${fd}:${link}`);
  return changes.join(' ');
}

function expectBaseline(b: Baseline): void {
  expect(native.handleCount()).toBe(b.handles);
  expect(openFdCount(), fdChanges(b)).toBe(b.fds);
}

function isReadable(h: number): boolean {
  return sys.objectWaitOne(h, ZX_CHANNEL_READABLE, 0n).status === ZX_OK;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A message whose first 4 bytes are `seq` and the rest `seq & 0xff`. */
function message(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b.writeUInt32LE(seq >>> 0, 0);
  return b;
}

function expectMessage(bytes: Buffer, seq: number, size: number): void {
  expect(bytes.length).toBe(size);
  if (bytes.readUInt32LE(0) !== seq) throw new Error(`expected message ${seq}, got ${bytes.readUInt32LE(0)}`);
  if (!bytes.equals(message(seq, size))) throw new Error(`message ${seq} is corrupted`);
}

/** Reads what is in the socket now, without yielding; returns how many. */
function readAvailable(h: number, onMessage: (bytes: Buffer) => void): number {
  let n = 0;
  for (;;) {
    const r = sys.channelRead(h, 0, 65536, 64);
    if (r.status === ZX_ERR_SHOULD_WAIT) return n;
    expect(r.status).toBe(ZX_OK);
    expect(r.actualHandles).toBe(0);
    onMessage(r.bytes);
    n++;
  }
}

/** Reads `count` messages, yielding to the event loop whenever the socket is empty. */
async function drain(h: number, count: number, onMessage: (bytes: Buffer, i: number) => void, timeout = 30n * SECOND) {
  const deadline = sys.deadlineAfter(timeout);
  let i = 0;
  while (i < count) {
    const r = sys.channelRead(h, 0, 65536, 64);
    if (r.status === ZX_OK) {
      expect(r.actualHandles).toBe(0);
      onMessage(r.bytes, i++);
      continue;
    }
    expect(r.status).toBe(ZX_ERR_SHOULD_WAIT);
    if (sys.clockGetMonotonic() > deadline) throw new Error(`only ${i} of ${count} messages arrived`);
    await tick();
  }
}

/** Yields to the loop until `cond()` holds; fails past the deadline. */
async function until(cond: () => boolean, what: string, timeout = 10n * SECOND): Promise<void> {
  const deadline = sys.deadlineAfter(timeout);
  while (!cond()) {
    if (sys.clockGetMonotonic() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** An endpoint whose queue drained is released once the loop has turned (its watcher
 *  lets go in the loop's close phase): yield until the counts are back, then check. */
async function settle(b: Baseline): Promise<void> {
  const deadline = sys.deadlineAfter(5n * SECOND);
  while (openFdCount() !== b.fds || native.handleCount() !== b.handles) {
    if (sys.clockGetMonotonic() > deadline) break;
    await tick();
  }
  expectBaseline(b);
}

/** How many `size`-byte messages a channel's socket holds: a write answers SHOULD_WAIT
 *  after exactly that many plus the queue limit. */
async function socketCapacity(size: number): Promise<number> {
  const base = baseline();
  const [w, r] = createChannel();
  let ok = 0;
  while (sys.channelWrite(w, 0, message(ok, size), null) === ZX_OK) ok++;
  const held = readAvailable(r, () => {});
  expect(ok).toBe(held + PENDING_WRITE_LIMIT);
  expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
  await settle(base); // the dropped queue lets go of its endpoint on the loop
  return held;
}

beforeAll(() => {
  // The first blocking wait opens this thread's wake descriptor for good.
  const [a, b] = createChannel();
  expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(1_000_000n)).status).toBe(ZX_ERR_TIMED_OUT);
  expect(sys.handleCloseMany([a, b])).toBe(ZX_OK);
});

describe('writing past the socket capacity', () => {
  it('64 KiB messages until more than 4 MiB: every write OK, every message once, in order', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const SIZE = 65536;
    const N = (4 * 1024 * 1024) / SIZE + 1;
    for (let i = 0; i < N; i++) expect(sys.channelWrite(w, 0, message(i, SIZE), null)).toBe(ZX_OK);

    // Without yielding, only what the socket holds is readable: the rest is queued.
    let seq = 0;
    const inSocket = readAvailable(r, (b) => expectMessage(b, seq++, SIZE));
    expect(inSocket).toBeGreaterThan(0);
    expect(inSocket).toBeLessThan(N);

    await drain(r, N - inSocket, (b) => expectMessage(b, seq++, SIZE));
    expect(seq).toBe(N);
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
    await settle(base);
  });

  it('16-byte messages x3000: every write OK, every message once, in order', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const N = 3000;
    for (let i = 0; i < N; i++) expect(sys.channelWrite(w, 0, message(i, 16), null)).toBe(ZX_OK);

    let seq = 0;
    const inSocket = readAvailable(r, (b) => expectMessage(b, seq++, 16));
    expect(inSocket).toBeGreaterThan(0);
    expect(inSocket).toBeLessThan(N);
    await drain(r, N - inSocket, (b) => expectMessage(b, seq++, 16));
    expect(seq).toBe(N);
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
    await settle(base);
  });
});

describe('the 3500-message limit', () => {
  it('SHOULD_WAIT after (socket capacity + 3500) writes; handles consumed; writes resume as the queue moves', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const [x, y] = createChannel();

    // Fill without reading: each message carries its sequence number.
    const okSeqs: number[] = [];
    let seq = 0;
    let status: number;
    while ((status = sys.channelWrite(w, 0, message(seq, 16), null)) === ZX_OK) {
      okSeqs.push(seq++);
      if (okSeqs.length > 100_000) throw new Error('no SHOULD_WAIT after 100000 writes');
    }
    expect(status).toBe(ZX_ERR_SHOULD_WAIT);
    seq++; // never arrives
    // At the limit, a write that carries endpoint X fails too, and X is consumed:
    // its peer Y sees PEER_CLOSED.
    expect(sys.channelWrite(w, 0, message(seq++, 16), [x])).toBe(ZX_ERR_SHOULD_WAIT);
    expect(isValid(x)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5n * SECOND)).status).toBe(ZX_OK);
    const okBeforeLimit = okSeqs.length;

    // Read what the socket holds, without yielding: nothing has moved since the socket
    // filled, so everything else written OK is in the native queue, exactly the limit.
    const received: number[] = [];
    const take = (b: Buffer) => {
      expect(b.length).toBe(16);
      received.push(b.readUInt32LE(0));
    };
    const socketHeld = readAvailable(r, take);
    expect(socketHeld).toBeGreaterThan(0);
    expect(okBeforeLimit).toBe(socketHeld + PENDING_WRITE_LIMIT);
    expect(isReadable(r)).toBe(false);

    // The event loop flushes the queue once the socket has room.
    await until(() => isReadable(r), 'the queue to move on the event loop');
    expect(sys.channelWrite(w, 0, message(seq, 16), null)).toBe(ZX_OK);
    okSeqs.push(seq++);

    await drain(r, okSeqs.length - received.length, take);
    expect(received).toEqual(okSeqs);
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([w, r, y])).toBe(ZX_OK);
    await settle(base);
  });

  it('at the limit, reading one message lets exactly one more write through, with no yield', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const okSeqs: number[] = [];
    let seq = 0;
    while (sys.channelWrite(w, 0, message(seq, 16), null) === ZX_OK) {
      okSeqs.push(seq++);
      if (okSeqs.length > 100_000) throw new Error('no SHOULD_WAIT after 100000 writes');
    }
    seq++; // that one failed
    const received: number[] = [];
    const take = (b: Buffer) => received.push(b.readUInt32LE(0));

    for (let round = 0; round < 5; round++) {
      const one = sys.channelRead(r, 0, 65536, 64);
      expect(one.status).toBe(ZX_OK);
      take(one.bytes);
      // The write flushes one queued message into the freed room, then queues itself.
      expect(sys.channelWrite(w, 0, message(seq, 16), null)).toBe(ZX_OK);
      okSeqs.push(seq++);
      expect(sys.channelWrite(w, 0, message(seq++, 16), null)).toBe(ZX_ERR_SHOULD_WAIT);
    }
    await drain(r, okSeqs.length - received.length, take);
    expect(received).toEqual(okSeqs);
    expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
    await settle(base);
  });
});

describe('the byte limit', () => {
  it('64 KiB messages: SHOULD_WAIT once ZX_PENDING_WRITE_BYTES_LIMIT bytes of records are queued; writes resume as the reader drains', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const SIZE = 65536;
    const queueHolds = Math.floor(ZX_PENDING_WRITE_BYTES_LIMIT / (16 + SIZE)); // a record: header + bytes
    expect(queueHolds).toBeLessThan(PENDING_WRITE_LIMIT); // this limit comes first

    let ok = 0;
    let status: number;
    while ((status = sys.channelWrite(w, 0, message(ok, SIZE), null)) === ZX_OK) {
      if (++ok > 1000) throw new Error('no SHOULD_WAIT after 1000 writes of 64 KiB');
    }
    expect(status).toBe(ZX_ERR_SHOULD_WAIT);
    // Nothing has moved since the socket filled: what it holds, then exactly the limit.
    let received = 0;
    const take = (b: Buffer) => expectMessage(b, received++, SIZE);
    const socketHeld = readAvailable(r, take);
    expect(socketHeld).toBeGreaterThan(0);
    if (backend === 'portable') {
      // A framed stream may hold the start of one more record, whose tail heads the queue
      // and counts only its own bytes there (docs/architecture.md, "Backends").
      expect([socketHeld + queueHolds, socketHeld + queueHolds + 1]).toContain(ok);
    } else {
      expect(ok).toBe(socketHeld + queueHolds);
    }

    // The socket has room now: the next write moves queued records there, then is queued.
    expect(sys.channelWrite(w, 0, message(ok++, SIZE), null)).toBe(ZX_OK);
    await drain(r, ok - received, (b) => take(b));
    expect(received).toBe(ok);
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
    await settle(base);
  });
});

describe('every write first flushes the queue', () => {
  it('a loop that never yields still makes progress: read 100, write 1', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    let written = 0;
    while (sys.channelWrite(w, 0, message(written, 16), null) === ZX_OK) written++;
    expect(written).toBeGreaterThan(PENDING_WRITE_LIMIT);

    let received = 0;
    let iterations = 0;
    const take = (b: Buffer) => expectMessage(b, received++, 16);
    while (received < written) {
      if (++iterations > 100_000) throw new Error(`stuck: ${received} of ${written} received`);
      for (let k = 0; k < 100; k++) {
        const m = sys.channelRead(r, 0, 65536, 64);
        if (m.status === ZX_ERR_SHOULD_WAIT) break;
        expect(m.status).toBe(ZX_OK);
        take(m.bytes);
      }
      // Never SHOULD_WAIT: the 100 just read made room for 100 queued messages.
      expect(sys.channelWrite(w, 0, message(written, 16), null)).toBe(ZX_OK);
      written++;
      // Pick up the last one (the queue is empty by then) so the loop ends.
      if (received === written - 1) readAvailable(r, take);
    }
    expect(received).toBe(written);
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([w, r])).toBe(ZX_OK);
    await settle(base);
  });

  it('a writer that never yields gets 20000 messages to a reading child process', async () => {
    const N = 20_000;
    // More than the socket and the queue hold together: only flushing writes get there.
    expect(N).toBeGreaterThan((await socketCapacity(64)) + PENDING_WRITE_LIMIT);
    const base = baseline();
    const [w, remote] = createChannel();
    const created = fdio.fdCreate(remote);
    expect(created.status).toBe(ZX_OK);
    const child = spawn(process.execPath, [READER, '30000'], { stdio: ['ignore', 'pipe', 'pipe', created.fd] });
    fs.closeSync(created.fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => err.push(d));
    const closed = new Promise<string>((resolve) =>
      child.on('close', (code, signal) => resolve(`code ${code} signal ${signal}`)),
    );

    // No yield in this loop: a SHOULD_WAIT write is retried, and each retry flushes what
    // the child has read meanwhile. Without that, the loop would never leave 3500.
    const deadline = sys.deadlineAfter(30n * SECOND);
    let retries = 0;
    for (let i = 0; i < N; i++) {
      const bytes = message(i, 64);
      let status: number;
      while ((status = sys.channelWrite(w, 0, bytes, null)) === ZX_ERR_SHOULD_WAIT) {
        retries++;
        if ((retries & 1023) === 0 && sys.clockGetMonotonic() > deadline) throw new Error(`stuck at message ${i}`);
      }
      expect(status).toBe(ZX_OK);
    }
    // Queued messages survive the close and arrive before PEER_CLOSED.
    expect(sys.handleClose(w)).toBe(ZX_OK);
    const exit = await closed;
    expect(Buffer.concat(err).toString()).toBe('');
    expect(exit).toBe('code 0 signal null');
    const report = JSON.parse(Buffer.concat(out).toString());
    expect(report).toEqual({ count: N, firstBad: -1, lastStatus: ZX_ERR_PEER_CLOSED, peerClosed: true });
    console.log(`tight writer: ${N} messages, ${retries} SHOULD_WAIT retries`);
    await settle(base);
  });
});

describe("a message carrying endpoint E waits for E's own queue", () => {
  it("is held until E's queued messages are sent; none lost, none reordered", async () => {
    const base = baseline();
    const SIZE = 65536;
    const N = 48; // 3 MiB: more than the socket holds
    const [e, ePeer] = createChannel();
    const eKoid = basicInfo(e).koid;
    const ePeerKoid = basicInfo(ePeer).koid;
    for (let i = 0; i < N; i++) expect(sys.channelWrite(e, 0, message(i, SIZE), null)).toBe(ZX_OK);
    // E has queued messages: it can't become a descriptor yet.
    expect(fdio.fdCreate(e).status).toBe(ZX_ERR_SHOULD_WAIT);

    const [cw, cr] = createChannel();
    expect(sys.channelWrite(cw, 0, Buffer.from('carrier'), [e])).toBe(ZX_OK);
    expect(isValid(e)).toBe(false);
    expect(sys.channelWrite(cw, 0, Buffer.from('after'), null)).toBe(ZX_OK);

    // Nobody reads E's peer: the loop can't move E's queue, so C's messages stay held.
    for (let k = 0; k < 20; k++) await tick();
    expect(isReadable(cr)).toBe(false);

    let seq = 0;
    const take = (b: Buffer) => expectMessage(b, seq++, SIZE);
    const firstBatch = readAvailable(ePeer, take);
    expect(firstBatch).toBeGreaterThan(0);
    expect(firstBatch).toBeLessThan(N);
    expect(isReadable(cr)).toBe(false);

    // Read E's peer and yield until the carrier is released.
    await until(() => {
      if (isReadable(cr)) return true;
      readAvailable(ePeer, take);
      return false;
    }, 'the carrier message');
    // When the carrier left, every message E queued before the move was in E's socket.
    readAvailable(ePeer, take);
    expect(seq).toBe(N);

    const carrier = sys.channelReadEtc(cr, 0, 65536, 64);
    expect(carrier.status).toBe(ZX_OK);
    expect(carrier.bytes.toString()).toBe('carrier');
    expect(carrier.handles.length).toBe(1);
    expect(carrier.handles[0].type).toBe(ZX_OBJ_TYPE_CHANNEL);
    const moved = carrier.handles[0].handle;
    const info = basicInfo(moved);
    expect(info.koid).toBe(eKoid);
    expect(info.relatedKoid).toBe(ePeerKoid);
    const after = sys.channelRead(cr, 0, 65536, 64);
    expect(after.status).toBe(ZX_OK);
    expect(after.bytes.toString()).toBe('after');
    expect(sys.channelRead(cr, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    // The received endpoint is E: what it writes follows E's earlier messages.
    expect(sys.channelWrite(moved, 0, Buffer.from('through the moved endpoint'), null)).toBe(ZX_OK);
    const last = sys.channelRead(ePeer, 0, 65536, 64);
    expect(last.status).toBe(ZX_OK);
    expect(last.bytes.toString()).toBe('through the moved endpoint');
    expect(sys.channelRead(ePeer, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    expect(sys.handleCloseMany([moved, ePeer, cw, cr])).toBe(ZX_OK);
    await settle(base);
  });

  it('held back at the head, then sent into a full socket when E drains: the loop goes back to watching for room; none lost, none reordered', async () => {
    const base = baseline();
    const SIZE = 65536;
    const N = 48; // 3 MiB: more than E's socket holds
    const BEFORE = 3000; // more than the carrier's socket holds: the rest is queued
    const AFTER = 3000;
    const [e, ePeer] = createChannel();
    for (let i = 0; i < N; i++) expect(sys.channelWrite(e, 0, message(i, SIZE), null)).toBe(ZX_OK);
    const [cw, cr] = createChannel();
    for (let i = 0; i < BEFORE; i++) expect(sys.channelWrite(cw, 0, message(i, 16), null)).toBe(ZX_OK);
    expect(sys.channelWrite(cw, 0, Buffer.from('carrier'), [e])).toBe(ZX_OK);
    for (let i = 0; i < AFTER; i++) expect(sys.channelWrite(cw, 0, message(BEFORE + i, 16), null)).toBe(ZX_OK);

    // The loop moves what is before the carrier; then the carrier waits for E.
    let seq = 0;
    await drain(cr, BEFORE, (b) => expectMessage(b, seq++, 16));
    for (let k = 0; k < 20; k++) await tick();
    expect(isReadable(cr)).toBe(false);

    // E drains; the carrier and what follows it fill the socket again.
    let eSeq = 0;
    await drain(ePeer, N, (b) => expectMessage(b, eSeq++, SIZE));
    await until(() => isReadable(cr), 'the carrier message');
    const carrier = sys.channelReadEtc(cr, 0, 65536, 64);
    expect(carrier.status).toBe(ZX_OK);
    expect(carrier.bytes.toString()).toBe('carrier');
    expect(carrier.handles.length).toBe(1);
    await drain(cr, AFTER, (b) => expectMessage(b, seq++, 16));
    expect(sys.channelRead(cr, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    expect(sys.handleCloseMany([carrier.handles[0].handle, ePeer, cw, cr])).toBe(ZX_OK);
    await settle(base);
  });
});

describe('closing with messages queued', () => {
  it('closing the writer: every queued message is delivered, then PEER_CLOSED', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const N = 5000;
    const SIZE = 100;
    const [x, y] = createChannel();
    const xKoid = basicInfo(x).koid;
    for (let i = 0; i < N; i++) {
      // The last message carries an endpoint; it is deep in the queue when w closes.
      expect(sys.channelWrite(w, 0, message(i, SIZE), i === N - 1 ? [x] : null)).toBe(ZX_OK);
    }
    expect(sys.handleClose(w)).toBe(ZX_OK);
    expect(isValid(w)).toBe(false);
    expect(sys.objectWaitOne(r, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

    const deadline = sys.deadlineAfter(30n * SECOND);
    let seq = 0;
    let carried = 0;
    for (;;) {
      const m = sys.channelReadEtc(r, 0, 65536, 64);
      if (m.status === ZX_OK) {
        expect(seq).toBeLessThan(N);
        expectMessage(m.bytes, seq, SIZE);
        if (seq === N - 1) {
          expect(m.handles.length).toBe(1);
          carried = m.handles[0].handle;
          expect(basicInfo(carried).koid).toBe(xKoid);
        } else {
          expect(m.handles.length).toBe(0);
        }
        seq++;
        continue;
      }
      if (m.status === ZX_ERR_PEER_CLOSED) break;
      expect(m.status).toBe(ZX_ERR_SHOULD_WAIT);
      // PEER_CLOSED must not show before the last queued message was read.
      if (seq < N) expect(sys.objectWaitOne(r, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);
      if (sys.clockGetMonotonic() > deadline) throw new Error(`only ${seq} of ${N} messages arrived`);
      await tick();
    }
    expect(seq).toBe(N);
    // The carried endpoint still works.
    expect(sys.channelWrite(carried, 0, Buffer.from('ok'), null)).toBe(ZX_OK);
    expect(sys.channelRead(y, 0, 64, 0).bytes.toString()).toBe('ok');
    expect(sys.handleCloseMany([r, carried, y])).toBe(ZX_OK);
    await settle(base);
  });

  // Once nothing is queued, closing the last handle is a plain close: the peer sees
  // PEER_CLOSED at once, even from a wait that blocks this thread (as in Zircon).
  it('closing the writer after later writes drained its queue: the peer sees PEER_CLOSED at once', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    let written = 0;
    for (; written < 3000; written++) expect(sys.channelWrite(w, 0, message(written, 16), null)).toBe(ZX_OK);
    let received = 0;
    const take = (b: Buffer) => expectMessage(b, received++, 16);
    // No yield: each write flushes what the reads made room for.
    while (received < written) {
      readAvailable(r, take);
      expect(sys.channelWrite(w, 0, message(written, 16), null)).toBe(ZX_OK);
      written++;
      readAvailable(r, take);
    }
    expect(sys.channelRead(r, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleClose(w)).toBe(ZX_OK);
    const closed = sys.objectWaitOne(r, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(SECOND));
    // (Clean up before asserting so a failure here doesn't spill into the next case.)
    expect(sys.handleClose(r)).toBe(ZX_OK);
    await settle(base);
    expect(closed.status).toBe(ZX_OK);
  });

  it('closing the writer after the event loop drained its queue: the peer sees PEER_CLOSED at once', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const N = 3000;
    for (let i = 0; i < N; i++) expect(sys.channelWrite(w, 0, message(i, 16), null)).toBe(ZX_OK);
    let seq = 0;
    await drain(r, N, (b) => expectMessage(b, seq++, 16));
    expect(sys.handleClose(w)).toBe(ZX_OK);
    const closed = sys.objectWaitOne(r, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(SECOND));
    // (Clean up before asserting so a failure here doesn't spill into the next case.)
    expect(sys.handleClose(r)).toBe(ZX_OK);
    await settle(base);
    expect(closed.status).toBe(ZX_OK);
  });

  it('closing the reader: queued messages are dropped and the endpoints inside them closed', async () => {
    const base = baseline();
    const [w, r] = createChannel();
    const [x, y] = createChannel();
    let i = 0;
    for (; i < 3000; i++) expect(sys.channelWrite(w, 0, message(i, 16), null)).toBe(ZX_OK);
    // Behind ~2700 in the socket and the rest in the native queue.
    expect(sys.channelWrite(w, 0, message(i, 16), [x])).toBe(ZX_OK);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

    expect(sys.handleClose(r)).toBe(ZX_OK);
    const closed = sys.objectWaitOne(w, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5n * SECOND));
    expect(closed.status).toBe(ZX_OK);
    // The queue is dropped when the flush finds the peer gone (on the loop or the next write).
    await until(() => sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, 0n).status === ZX_OK, 'Y to see PEER_CLOSED');
    expect(sys.channelWrite(w, 0, Buffer.from('late'), null)).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleCloseMany([w, y])).toBe(ZX_OK);
    await settle(base);
  });
});

describe('a reader process that dies with messages unread', () => {
  it("the writer's loop drops the queue on its own: a carried endpoint's peer sees PEER_CLOSED; descriptors back to baseline", async () => {
    await warmUpSpawn();
    const base = baseline();
    const [w, r] = createChannel();
    const [x, y] = createChannel();
    // A process that holds the other end and never reads.
    const reader = spawnWithEndpoint(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], r);
    let i = 0;
    for (; i < 3000; i++) expect(sys.channelWrite(w, 0, message(i, 16), null)).toBe(ZX_OK);
    // Behind ~2700 in the socket and the rest in the native queue, with X.
    expect(sys.channelWrite(w, 0, message(i, 16), [x])).toBe(ZX_OK);
    expect(isValid(x)).toBe(false);
    // The writer lets go of its handle and does nothing more: the queue still holds the socket.
    expect(sys.handleClose(w)).toBe(ZX_OK);

    expect(reader.proc.kill('SIGKILL')).toBe(true);
    expect(await reader.closed).toEqual({ code: null, signal: 'SIGKILL' });
    // Its socket went with ~2700 records unread (the writer's socket reports ECONNRESET).
    const closed = await sys.objectWaitOneAsync(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(10n * SECOND));
    expect(sys.handleClose(y)).toBe(ZX_OK);
    expect(closed.status).toBe(ZX_OK);
    await settle(base);
  });

  // A message carrying endpoint E is held back until E's own queue drains (see "a message
  // carrying endpoint E waits for E's own queue"); here E's peer reads nothing until the end.
  it.each([
    ['records unread in its socket', 10],
    ['nothing in its socket', 0],
  ])(
    "while the queue is held back behind a carried endpoint E that can't drain (%s): the loop drops it on its own; E's peer reads every message E queued, then sees PEER_CLOSED",
    async (_, unread) => {
      await warmUpSpawn();
      const base = baseline();
      const SIZE = 65536;
      const N = 48; // 3 MiB: more than E's socket holds
      const [w, r] = createChannel();
      const [e, f] = createChannel();
      const [x, y] = createChannel();
      const reader = spawnWithEndpoint(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], r);
      // With records unread, the reader's death is a socket error (ECONNRESET) too, not just a hangup.
      for (let i = 0; i < unread; i++) expect(sys.channelWrite(w, 0, message(i, 16), null)).toBe(ZX_OK);
      for (let i = 0; i < N; i++) expect(sys.channelWrite(e, 0, message(i, SIZE), null)).toBe(ZX_OK);
      expect(fdio.fdCreate(e).status).toBe(ZX_ERR_SHOULD_WAIT); // E has queued messages
      expect(sys.channelWrite(w, 0, Buffer.from('carrier'), [e, x])).toBe(ZX_OK);
      expect(isValid(e)).toBe(false);
      expect(isValid(x)).toBe(false);
      // The writer lets go of its handle and does nothing more: the queue still holds the socket.
      expect(sys.handleClose(w)).toBe(ZX_OK);
      expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

      expect(reader.proc.kill('SIGKILL')).toBe(true);
      expect(await reader.closed).toEqual({ code: null, signal: 'SIGKILL' });
      // No write, and E's queue still full: only the writer's loop watching for the hangup
      // can drop the queue and close X.
      const xClosed = await sys.objectWaitOneAsync(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(10n * SECOND));
      expect(sys.handleClose(y)).toBe(ZX_OK);
      expect(xClosed.status).toBe(ZX_OK);
      expect(isReadable(f)).toBe(true);
      expect(sys.objectWaitOne(f, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_ERR_TIMED_OUT);

      // E is closed as a close of its handle would: what it queued still goes out, then its socket.
      let seq = 0;
      await drain(f, N, (b) => expectMessage(b, seq++, SIZE));
      const eClosed = await sys.objectWaitOneAsync(f, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(10n * SECOND));
      expect(sys.channelRead(f, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
      expect(sys.handleClose(f)).toBe(ZX_OK);
      expect(eClosed.status).toBe(ZX_OK);
      await settle(base);
    },
  );
});

describe('exit flush', () => {
  const N = 10_000;
  const SIZE = 1024;
  let HOLD = 0;

  beforeAll(async () => {
    HOLD = (await socketCapacity(SIZE)) + 1000;
  });

  async function runWriter(mode: 'exit' | 'end') {
    const base = baseline();
    const [p, remote] = createChannel();
    const created = fdio.fdCreate(remote);
    expect(created.status).toBe(ZX_OK);
    const child = spawn(process.execPath, [WRITER, mode, String(N), String(SIZE)], {
      stdio: ['ignore', 'pipe', 'pipe', created.fd],
    });
    fs.closeSync(created.fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => err.push(d));
    const closed = new Promise<string>((resolve) =>
      child.on('close', (code, signal) => resolve(`code ${code} signal ${signal}`)),
    );

    const reported = new Promise<void>((resolve) => child.stdout!.on('data', () => resolve()));

    // Read concurrently (blocking this thread between messages; the child is another
    // process), but stop HOLD messages short: then the child's last writes fill the socket
    // and leave HOLD - capacity (< 3500) in its native queue, and it reports and exits with
    // them queued. Then read the rest: all N in order, then PEER_CLOSED.
    const deadline = sys.deadlineAfter(45n * SECOND);
    let seq = 0;
    let end = 'none';
    let paused = false;
    for (;;) {
      if (!paused && seq === N - HOLD) {
        paused = true;
        await reported; // the child is now in its exit flush, waiting for us
      }
      const m = sys.channelRead(p, 0, 65536, 64);
      if (m.status === ZX_OK) {
        if (seq >= N || m.bytes.length !== SIZE || !m.bytes.equals(message(seq, SIZE))) {
          end = `message ${seq} wrong (seq field ${m.bytes.readUInt32LE(0)}, ${m.bytes.length} bytes)`;
          break;
        }
        seq++;
        continue;
      }
      if (m.status !== ZX_ERR_SHOULD_WAIT) {
        end = `read status ${m.status}`;
        break;
      }
      const w = sys.objectWaitOne(p, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, deadline);
      if (w.status !== ZX_OK) {
        end = `wait status ${w.status}`;
        break;
      }
    }
    // How the child ended first: a crash explains a short count.
    const exit = await closed;
    expect(sys.handleClose(p)).toBe(ZX_OK);
    expect(Buffer.concat(err).toString()).toBe('');
    expect(exit).toBe('code 0 signal null');
    expect({ received: seq, end }).toEqual({ received: N, end: `read status ${ZX_ERR_PEER_CLOSED}` });
    const report = JSON.parse(Buffer.concat(out).toString());
    expect(report.written).toBe(N);
    // The child left with messages in its native queue: the exit flush sent them.
    expect(report.queuedAtExit).toBe(true);
    console.log(`exit flush (${mode}): ${N} messages, child retried ${report.shouldWait} SHOULD_WAIT writes`);
    await settle(base);
  }

  it('process.exit(0) with messages queued: all 10000 arrive in order, then PEER_CLOSED', async () => {
    await runWriter('exit');
  });

  it('falling off the end with messages queued: all 10000 arrive in order, then PEER_CLOSED', async () => {
    await runWriter('end');
  });
});

describe('the exit flush with a peer that never reads', () => {
  it('a reader in the same process: the exit does not wait for it, and the flusher drops the queue as the exit closes the reader', () => {
    // The reader is in the same process and never reads: nothing can drain the queue, and
    // the exit (default bound: 30 s without progress) must not wait for it.
    const script = `
      const { sys } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
      const { out0 } = sys.channelCreate(0);
      let queued = 0;
      while (sys.channelWrite(out0, 0, Buffer.alloc(1024), null) === 0) queued++;
      console.log(queued);
    `;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 20_000, // only a hang reaches this
      killSignal: 'SIGKILL',
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(PENDING_WRITE_LIMIT); // the queue was full
  });
});
