// Backpressure, Node's way: channel.write() answers false once the endpoint's outbound
// queue is at or above its high-water mark (the message is queued all the same), and
// 'drain' follows, once per crossing, when the queue is back below its low-water mark.
// A producer that follows them never meets the hard limit (SHOULD_WAIT).
import { once } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  backend,
  Channel,
  ZX_ERR_SHOULD_WAIT,
  ZX_PENDING_WRITE_HIGH_WATER,
  ZX_PENDING_WRITE_HIGH_WATER_BYTES,
  ZX_PENDING_WRITE_LIMIT,
  ZX_PENDING_WRITE_LOW_WATER,
  ZxError,
} from '../lib/index';
import { baseline, expectBaseline, runIsolated, warmUpWaits } from './fixtures/channels';
import { endWithin, reportOf, spawnNode, warmUpSpawn } from './fixtures/spawn';
import { inWorker } from './fixtures/threads';

const RECORD_HEADER = 16; // docs/wire-format.md: a record is its message plus 16 bytes

/** Message `seq`: its first 4 bytes hold seq (what queue-reader.cjs checks). */
function message(seq: number, size = 64): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b.writeUInt32LE(seq >>> 0, 0);
  return b;
}

/** Reads what the socket holds now, without yielding (so nothing flushes meanwhile). */
function readHeld(ch: Channel): number[] {
  const seqs: number[] = [];
  for (let m = ch.tryRead(); m; m = ch.tryRead()) seqs.push(m.bytes.readUInt32LE(0));
  return seqs;
}

/** Writes to a peer that does not read until a write throws: what each write answered. */
function fillUntilShouldWait(w: Channel, size: number): boolean[] {
  const answers: boolean[] = [];
  for (;;) {
    try {
      answers.push(w.write(message(answers.length, size)));
    } catch (error) {
      expect(error).toBeInstanceOf(ZxError);
      expect((error as ZxError).status).toBe(ZX_ERR_SHOULD_WAIT);
      return answers;
    }
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets the event loop turn until `done()`; fails past `ms`. */
async function until(done: () => boolean, what: string, ms = 20_000): Promise<void> {
  const giveUp = Date.now() + ms;
  while (!done()) {
    if (Date.now() > giveUp) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** Reads messages `from` to `to - 1` as they come, checking that each arrives once, in order. */
async function readInOrder(r: Channel, from: number, to: number): Promise<void> {
  let next = from;
  await until(
    () => {
      for (const seq of readHeld(r)) expect(seq).toBe(next++);
      return next >= to;
    },
    `message ${to - 1}`,
  );
}

/** Closes the channels and checks descriptors and handles are back at `base`. */
async function closeAndCheck(base: ReturnType<typeof baseline>, ...channels: Channel[]): Promise<void> {
  for (const ch of channels) ch.close();
  await tick();
  expectBaseline(base);
}

beforeAll(async () => {
  warmUpWaits();
  await warmUpSpawn();
});

describe('write() answers false at the high-water mark', () => {
  it.each([
    // [size, the mark that comes first, in records queued, and the hard limit]
    ['64-byte messages: the message mark', 64, ZX_PENDING_WRITE_HIGH_WATER, ZX_PENDING_WRITE_LIMIT],
    [
      '64 KiB messages: the byte mark',
      65536,
      Math.ceil(ZX_PENDING_WRITE_HIGH_WATER_BYTES / (65536 + RECORD_HEADER)),
      Math.floor(0x400000 / (65536 + RECORD_HEADER)),
    ],
  ])('%s', async (_name, size, mark, limit) => {
    const base = baseline();
    const [w, r] = Channel.create();
    const drains: number[] = [];
    w.on('drain', () => drains.push(w.writableLength));
    const answers = fillUntilShouldWait(w, size);
    const held = readHeld(r).length; // what the socket took: the rest was queued
    expect(w.writableLength).toBe(answers.length - held);
    // true while fewer than `mark` records were queued after the write, then false
    // until the hard limit.
    // A framed stream may hold the start of one more record, whose tail counts only its own
    // bytes in the queue: a mark in bytes may then come one record later (docs/architecture.md,
    // "Backends").
    const later = (actual: number, expected: number) =>
      backend === 'portable' && size > 64
        ? expect([expected, expected + 1]).toContain(actual)
        : expect(actual).toBe(expected);
    later(answers.indexOf(false), held + mark - 1);
    expect(answers.slice(answers.indexOf(false)).every((a) => a === false)).toBe(true);
    later(answers.length, held + limit);
    expect(w.writableNeedDrain).toBe(true);
    expect(drains).toEqual([]); // nothing has drained yet

    // Read everything, in order; 'drain' comes once, below the low-water mark.
    await readInOrder(r, held, answers.length);
    const next = answers.length;
    await until(() => drains.length > 0, "'drain'");
    expect(drains).toHaveLength(1);
    expect(drains[0]).toBeLessThan(ZX_PENDING_WRITE_LOW_WATER);
    expect(w.writableNeedDrain).toBe(false);

    // Below the mark again: true, and no 'drain' for it.
    expect(w.write(message(next))).toBe(true);
    expect(r.tryRead()!.bytes.readUInt32LE(0)).toBe(next);
    // A second crossing: a second 'drain'.
    const again = fillUntilShouldWait(w, size);
    expect(again.includes(false)).toBe(true);
    await until(() => {
      readHeld(r);
      return drains.length === 2;
    }, "the second 'drain'");
    readHeld(r);
    expect(drains).toHaveLength(2);
    await closeAndCheck(base, w, r);
  });

  it('writeMany follows the same rule: writableNeedDrain after a batch that leaves the queue above the mark, then one drain', async () => {
    const base = baseline();
    const [w, r] = Channel.create();
    let drains = 0;
    w.on('drain', () => drains++);
    // Below the mark: no drain to come.
    expect(w.writeMany([message(0), message(1)])).toBe(2);
    expect(w.writableNeedDrain).toBe(false);
    const batch = Array.from({ length: 20_000 }, (_, i) => message(i + 2));
    const accepted = w.writeMany(batch);
    expect(accepted).toBeLessThan(batch.length); // the hard limit stopped it
    expect(w.writableNeedDrain).toBe(true);
    await readInOrder(r, 0, accepted + 2);
    await until(() => drains > 0, "'drain'");
    expect(drains).toBe(1);
    expect(w.writableNeedDrain).toBe(false);
    await closeAndCheck(base, w, r);
  });
});

describe('a producer that follows false and drain', () => {
  it('sends 100 000 messages to a slow reader in another process: never SHOULD_WAIT, every message once, in order', async () => {
    const base = baseline();
    const N = 100_000;
    const [w, remote] = Channel.create();
    let drains = 0;
    w.on('drain', () => drains++);
    let waits = 0;
    let mismatches = 0;
    let i = 0;
    // The reader starts once the queue is past the mark: at least one crossing.
    const produce = async () => {
      while (i < N) {
        const ok = w.write(message(i++));
        // false exactly when the queue is at or above the mark (64-byte messages: the
        // message mark comes first).
        if (ok !== w.writableLength < ZX_PENDING_WRITE_HIGH_WATER || ok === w.writableNeedDrain) mismatches++;
        if (!ok) {
          waits++;
          if (waits === 1) child = spawnNode('queue-reader.cjs', ['60000', '50'], remote.release());
          await once(w, 'drain');
        }
      }
    };
    let child: ReturnType<typeof spawnNode> | undefined;
    await produce();
    w.close();
    expect(child).toBeDefined();
    expect(await endWithin(child!, 60_000)).toEqual({ code: 0, signal: null });
    const report = reportOf(child!);
    expect(report).toMatchObject({ count: N, firstBad: -1, peerClosed: true });
    expect(mismatches).toBe(0);
    expect(waits).toBeGreaterThanOrEqual(1);
    expect(drains).toBe(waits);
    expectBaseline(base);
  }, 120_000);

  it('in a worker thread: drain comes on the thread that wrote', async () => {
    const base = baseline();
    const N = 20_000;
    const [w, r] = Channel.create();
    // The worker writes until false, says so, then follows false and drain; this thread
    // reads only once told (so the queue does pass the mark). The worker's loop flushes
    // its queue: it closes its end and ends only when told, after the last message.
    const t = inWorker(
      `
      const { threadId } = require('node:worker_threads');
      const { once } = require('node:events');
      const w = new zx.Channel(workerData.h);
      parentPort.once('message', () => w.close());
      (async () => {
        let waits = 0, drains = 0, drainThreads = new Set();
        w.on('drain', () => { drains++; drainThreads.add(threadId); });
        for (let i = 0; i < workerData.n; i++) {
          const b = Buffer.alloc(64); b.writeUInt32LE(i, 0);
          if (!w.write(b)) {
            if (waits++ === 0) parentPort.postMessage('above');
            await once(w, 'drain');
          }
        }
        parentPort.postMessage({ waits, drains, threads: [...drainThreads], threadId });
      })();
    `,
      { h: w.release(), n: N },
    );
    expect(await t.message).toBe('above');
    const seqs: number[] = [];
    r.on('message', (m) => seqs.push(m.bytes.readUInt32LE(0)));
    await until(() => seqs.length >= N && t.messages.length >= 2, 'every message and the report');
    t.worker.postMessage('close');
    await once(r, 'close');
    const report = t.messages[1];
    expect(report.waits).toBeGreaterThanOrEqual(1);
    expect(report.drains).toBe(report.waits);
    expect(report.threads).toEqual([report.threadId]);
    expect(seqs).toHaveLength(N);
    expect(seqs.every((s, k) => s === k)).toBe(true);
    expect(await t.exited).toBe(0);
    await closeAndCheck(base, r);
  });
});

describe('closing with a drain pending', () => {
  it('a worker terminated with a drain pending: the process carries on, another thread takes the queue over', async () => {
    const base = baseline();
    const [w, r] = Channel.create();
    const raw = w.release();
    const t = inWorker(
      `
      const w = new zx.Channel(workerData.h);
      w.on('drain', () => parentPort.postMessage('drain'));
      let n = 0;
      for (;;) {
        const b = Buffer.alloc(64); b.writeUInt32LE(n++, 0);
        if (!w.write(b)) break;
      }
      parentPort.postMessage(n);
    `,
      { h: raw },
    );
    const written = await t.message;
    await t.worker.terminate();
    expect(t.messages).toEqual([written]); // no 'drain' there
    // The handle is the process's: a write here flushes the queue and this loop watches it.
    const mine = new Channel(raw);
    let drains = 0;
    mine.on('drain', () => drains++);
    expect(mine.write(message(written))).toBe(false);
    await readInOrder(r, 0, written + 1);
    await until(() => drains === 1, "'drain' on this thread");
    await closeAndCheck(base, mine, r);
  });

  it('no drain, nothing leaked, and the queue still reaches the reader', async () => {
    const base = baseline();
    const [w, r] = Channel.create();
    let drains = 0;
    w.on('drain', () => drains++);
    const answers = fillUntilShouldWait(w, 64);
    expect(w.writableNeedDrain).toBe(true);
    w.close();
    // Everything accepted arrives, then PEER_CLOSED; the drain never fires.
    let next = 0;
    for (;;) {
      const m = await r.read().catch((error: ZxError) => error);
      if (m instanceof ZxError) break;
      expect(m.bytes.readUInt32LE(0)).toBe(next++);
    }
    expect(next).toBe(answers.length);
    await tick();
    expect(drains).toBe(0);
    expect(w.writableNeedDrain).toBe(false);
    await closeAndCheck(base, r);
  });

  it('a process whose only pending thing is a canceled drain exits', () => {
    const r = runIsolated(
      `
      const [w, r] = zx.Channel.create();
      let n = 0;
      while (w.write(Buffer.alloc(64))) n++;
      w.on('drain', () => console.log('drain'));
      w.close();
      r.close();
      console.log('closed', n > 0);
    `,
      20_000,
    );
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toBe('closed true\n');
    expect(r.status).toBe(0);
  });

  it('a write below the mark keeps nothing alive', () => {
    const r = runIsolated(
      `
      const [w, r] = zx.Channel.create();
      console.log(w.write('one'), w.writableNeedDrain);
    `,
      20_000,
    );
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toBe('true false\n');
  });
});
