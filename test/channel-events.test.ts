// Channel's event face: 'message' read by the event loop itself, 'close', 'error',
// ref/unref, worker threads, and no message lost when a listener moves the endpoint.
import { once } from 'node:events';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  Handle,
  type Message,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_OK,
  ZxError,
} from '../lib/index';
import { type Baseline, baseline, expectBaseline, until } from './fixtures/proc-helpers';
import { endWithin, fixture, reportOf, spawnNode, spawnWithEndpoint, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { inWorker } from './fixtures/threads';
import { badRecord } from './fixtures/backend';

let before: Baseline;

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});

beforeEach(() => {
  before = baseline();
});
// A closed channel's descriptor goes with its watch at the end of a loop turn, and a
// terminated worker's own descriptors with its thread.
afterEach(() => expectBaseline(before));

const seq = (i: number): Buffer => {
  const bytes = Buffer.alloc(8, i & 0xff);
  bytes.writeUInt32LE(i, 0);
  return bytes;
};

/** The next `count` messages of `ch`, through a 'message' listener removed after them. */
function messages(ch: Channel, count: number): Promise<Message[]> {
  return new Promise((resolve) => {
    const got: Message[] = [];
    const listener = (m: Message) => {
      got.push(m);
      if (got.length === count) {
        ch.off('message', listener);
        resolve(got);
      }
    };
    ch.on('message', listener);
  });
}

describe("Channel's events", () => {
  it('on, once, off and events.once deliver each message to the listeners attached then', async () => {
    const [a, b] = Channel.create();
    a.write('one');
    a.write('two');
    a.write('three');
    const seen: string[] = [];
    const onceOnly = (m: Message) => seen.push(`once:${m.bytes}`);
    b.once('message', onceOnly);
    const [first] = (await once(b, 'message')) as [Message];
    expect(first.bytes.toString()).toBe('one');
    expect(seen).toEqual(['once:one']);
    expect(b.listenerCount('message')).toBe(0);
    // Nobody listened: 'two' stayed queued, and is the next message.
    const [two, three] = await messages(b, 2);
    expect([two.bytes.toString(), three.bytes.toString()]).toEqual(['two', 'three']);
    expect(b.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('delivers 10 000 messages from another process in order, then "close" after the last', async () => {
    const [mine, theirs] = Channel.create();
    const child = spawnNode('events-peer.cjs', ['write', '10000'], theirs.release());
    const seqs: number[] = [];
    mine.on('message', ({ bytes }: Message) => {
      const n = seqs.push(bytes.readUInt32LE(0));
      if (n % 1000 === 0 && n < 10000) mine.write('ack');
    });
    await once(mine, 'close');
    const ended = await child.closed;
    expect(child.stderr()).toBe('');
    expect(ended).toEqual({ code: 0, signal: null });
    expect(seqs).toEqual(Array.from({ length: 10000 }, (_, i) => i));
    mine.close();
  });

  it('gives handles in messages as their classes', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    a.write('carries', [c]);
    const [m] = (await once(b, 'message')) as [Message];
    expect(m.bytes.toString()).toBe('carries');
    expect(m.handles).toHaveLength(1);
    const [carried] = m.handles as Channel[];
    expect(carried).toBeInstanceOf(Channel);
    carried.write('through it');
    expect(d.tryRead()!.bytes.toString()).toBe('through it');
    for (const h of [a, b, carried, d]) h.close();
  });

  it("emits 'close' once when this handle is closed", async () => {
    const [a, b] = Channel.create();
    let closes = 0;
    b.on('message', () => {});
    b.on('close', () => closes++);
    b.close();
    b.close();
    await once(b, 'close');
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toBe(1);
    a.close();
  });

  it("emits 'error' for a bad record, then delivery goes on", async () => {
    const [mine, theirs] = Channel.create();
    const child = spawnWithEndpoint('python3', [fixture('raw-records.py'), badRecord, 'valid'], theirs.release());
    const errors: unknown[] = [];
    mine.on('error', (e) => errors.push(e));
    const [m] = await messages(mine, 1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ZxError);
    expect((errors[0] as ZxError).status).toBe(ZX_ERR_IO_DATA_INTEGRITY);
    expect(m.bytes.toString()).toBe('hello');
    expect(m.handles.map((h) => h.constructor)).toEqual([Handle, Channel]);
    const closed = once(mine, 'close');
    mine.on('message', () => {}); // the script's end is seen while listening
    mine.write('done');
    expect(await child.closed).toEqual({ code: 0, signal: null });
    await closed;
    for (const h of m.handles) h.close();
    mine.close();
  });

  it("an 'error' nobody listens to is an uncaught exception, as for any EventEmitter", async () => {
    const [forScript, forNode] = Channel.create();
    const script = spawnWithEndpoint('python3', [fixture('raw-records.py'), badRecord, 'valid'], forScript.release());
    const node = spawnNode('events-peer.cjs', ['no-error-listener'], forNode.release());
    expect(await endWithin(node, 20_000)).toEqual({ code: 1, signal: null });
    expect(node.stderr()).toContain('ZxError: Channel receive failed: ZX_ERR_IO_DATA_INTEGRITY');
    expect(node.stdout()).toBe('');
    // (The script's last message finds no reader: the record that was to carry it a
    // channel died unread with the reader.)
    expect(await endWithin(script, 20_000)).not.toBe('deadline');
  });

  it('a listener that closes the endpoint destroys the rest, the handles in them closed', async () => {
    const [a, b] = Channel.create();
    const peers: Channel[] = [];
    for (let i = 0; i < 100; i++) {
      const [carried, peer] = Channel.create();
      peers.push(peer);
      a.write(seq(i), [carried]);
    }
    const seen: number[] = [];
    b.on('message', ({ bytes, handles }: Message) => {
      seen.push(bytes.readUInt32LE(0));
      for (const h of handles) h.close();
      b.close();
    });
    await once(b, 'close');
    expect(seen).toEqual([0]);
    expect(() => a.write('x')).toThrow(expect.objectContaining({ code: 'ZX_ERR_PEER_CLOSED' }));
    await until(() => peers.every((p) => (p.signals & ZX_CHANNEL_PEER_CLOSED) !== 0), 'the carried ends closed');
    for (const h of [a, ...peers]) h.close();
  });

  it('a listening handle closed behind its Channel lets go of the endpoint at once', async () => {
    const [a, b] = Channel.create();
    b.on('message', () => {});
    expect(sys.handleClose(b.raw)).toBe(ZX_OK);
    // Nothing is readable, so no poll would tell the listener: its peer still sees the close.
    expect(await a.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 10_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(b.release()).toBeGreaterThan(0); // the stale value, given away unused
    a.close();
  });

  it('keeps the process alive while listening, unless unref()ed', async () => {
    const [mine, theirs] = Channel.create();
    const child = spawnNode('events-peer.cjs', ['ref'], theirs.release());
    expect((await messages(mine, 1))[0].bytes.toString()).toBe('ready');
    mine.write('ping');
    expect((await messages(mine, 1))[0].bytes.toString()).toBe('pong');
    mine.close(); // the child's 'close', and its listener ends: it exits
    expect(await endWithin(child, 20_000)).toEqual({ code: 0, signal: null });
    expect(
      child
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ closed: true }, { exit: true }]);

    const [mine2, theirs2] = Channel.create();
    const unrefd = spawnNode('events-peer.cjs', ['unref'], theirs2.release());
    // It exits with its peer (here) still open.
    expect(await endWithin(unrefd, 20_000)).toEqual({ code: 0, signal: null });
    expect(reportOf(unrefd)).toEqual({ exit: true });
    expect(mine2.tryRead()!.bytes.toString()).toBe('ready');
    mine2.close();
  });

  it('delivers on the worker thread that attached the listener', async () => {
    const [a, b] = Channel.create();
    const w = inWorker(
      `const ch = new zx.Channel(workerData.h);
       const seqs = [];
       ch.on('message', ({ bytes }) => {
         seqs.push(bytes.readUInt32LE(0));
         if (seqs.length === 1000) { ch.close(); parentPort.postMessage(seqs); }
       });`,
      { h: b.release() },
    );
    for (let i = 0; i < 1000; i++) a.write(seq(i));
    expect(await w.message).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(await w.exited).toBe(0);
    a.close();
  });

  it('worker.terminate() with a listener attached and messages flowing', async () => {
    const [a, b] = Channel.create();
    const raw = b.release();
    const w = inWorker(
      `const ch = new zx.Channel(workerData.h);
       let n = 0;
       ch.on('message', () => { if (++n === 10) parentPort.postMessage('busy'); });`,
      { h: raw },
    );
    // A producer that follows backpressure: a worker slow to start (a loaded machine) must
    // not make it meet the queue's bounds (SHOULD_WAIT).
    const flowing = setInterval(() => {
      for (let i = 0; i < 50 && !a.writableNeedDrain; i++) a.write(seq(i));
    }, 1);
    expect(await w.message).toBe('busy');
    await w.worker.terminate();
    clearInterval(flowing);
    // Handles are the process's: the endpoint outlives the worker, and is closed here.
    expect(sys.handleClose(raw)).toBe(ZX_OK);
    a.close();
  });
});

describe('a listener moving the endpoint', () => {
  it('leaves every message it has not seen with the endpoint, in order', async () => {
    const [writer, reader] = Channel.create();
    for (let i = 0; i < 1000; i++) writer.write(seq(i));
    const [toChild, childEnd] = Channel.create();
    const child = spawnNode('events-peer.cjs', ['receive-moved'], childEnd.release());
    const here: number[] = [];
    reader.on('message', ({ bytes }: Message) => {
      here.push(bytes.readUInt32LE(0));
      if (here.length === 10) {
        toChild.write('take it', [reader]);
        writer.close(); // the child sees 'close' after the last message
      }
    });
    expect(await child.closed).toEqual({ code: 0, signal: null });
    const there: number[] = reportOf(child).seqs;
    expect(here).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect([...here, ...there]).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    toChild.close();
  });
});
