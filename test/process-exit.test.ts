// How a peer process ending shows on the survivor's side: a writer that exits normally
// delivers everything it wrote (queued messages included) before PEER_CLOSED, without its
// exit waiting for the reader (the exit flusher, and its bound); a peer killed with
// SIGKILL gives PEER_CLOSED, and pending calls, reads and the endpoints it held unread all
// learn of it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel,
  sys,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_OK,
  ZX_PENDING_WRITE_LIMIT,
  ZX_TIME_INFINITE,
} from '../lib/index';
import { waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { baseline, expectBaseline, processGroup, startNode, until, user, type Proc } from './fixtures/proc-helpers';

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('did not reject');
}

function expectZxError(error: unknown, status: number, operation: string): void {
  expect(error).toBeInstanceOf(ZxError);
  expect((error as ZxError).status).toBe(status);
  expect((error as ZxError).operation).toBe(operation);
}

describe('a writer that exits normally', () => {
  it('10 000 messages: the reader gets every one, in order, then PEER_CLOSED', async () => {
    const base = baseline();
    const COUNT = 10_000;
    const { status, out0: reader, out1: theirs } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = startNode('proc-writer.cjs', [String(COUNT)], [{ id: user(0), handle: theirs }]);

    // Read all but the last 5000 while it writes, then stop: the rest fits in the socket
    // plus its outbound queue (a few thousand small records + 3500), so it finishes writing
    // with messages still queued and exits; the exit flush sends them as we read.
    const TAIL = 5000;
    let received = 0;
    const take = (r: { status: number; bytes: Buffer }) => {
      expect(r.status).toBe(ZX_OK);
      const i = received++;
      const want = Buffer.alloc(8 + ((i * 131) % 56), i & 0xff);
      want.writeUInt32LE(i, 0);
      if (!r.bytes.equals(want))
        throw new Error(`message ${i}: got #${r.bytes.readUInt32LE(0)} of ${r.bytes.length} bytes`);
    };
    while (received < COUNT - TAIL) {
      await waitSignals(reader, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      take(sys.channelRead(reader, 0, 65536, 64));
    }
    const report = await child.json('written');
    expect(report).toMatchObject({ written: COUNT, queuedAtExit: true });
    for (;;) {
      const observed = await waitSignals(reader, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, child.stderr());
      const r = sys.channelRead(reader, 0, 65536, 64);
      if (r.status === ZX_ERR_PEER_CLOSED) break;
      if (r.status === ZX_ERR_SHOULD_WAIT) {
        expect(observed & ZX_CHANNEL_PEER_CLOSED).toBe(0);
        continue;
      }
      take(r);
    }
    expect(received).toBe(COUNT);
    // PEER_CLOSED stays: every later read says so.
    expect(sys.channelRead(reader, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    await expectBaseline(base);
  });
});

describe('a writer that exits with messages queued for a reader that is not reading', () => {
  /** The message proc-writer.cjs writes i-th. */
  const message = (i: number) => {
    const b = Buffer.alloc(8 + ((i * 131) % 56), i & 0xff);
    b.writeUInt32LE(i, 0);
    return b;
  };

  // Whatever a failed case left running (a writer still in its exit, a flusher) ends with it.
  const groups: number[] = [];
  afterEach(() => {
    for (const pgid of groups.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // the group is gone, as it should be
      }
    }
  });

  /** A writer that fills its queue (nobody reads) and calls process.exit(0), in a process
   *  group of its own: the flusher it leaves is then that group's one member. */
  async function fillAndExit(timeoutMs: number): Promise<{ reader: number; child: Proc; written: number }> {
    const { status, out0: reader, out1: theirs } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = startNode('proc-writer.cjs', ['fill'], [{ id: user(0), handle: theirs }], {
      detached: true,
      env: { ...process.env, ZIRCON_IPC_EXIT_FLUSH_TIMEOUT_MS: String(timeoutMs) },
    });
    groups.push(child.pid);
    const report = await child.json('written');
    expect(report).toMatchObject({ shouldWait: 0, queuedAtExit: true });
    expect(report.written).toBeGreaterThan(ZX_PENDING_WRITE_LIMIT);
    // The exit and the end of its stdio wait for nobody: 15 s, whatever the flush bound.
    const ended = await Promise.race([
      child.closed,
      new Promise((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000).unref()),
    ]);
    if (ended !== 'still running after 15 s') expect(child.stderr()).toBe('');
    expect(ended).toEqual({ code: 0, signal: null });
    const group = processGroup(child.pid);
    expect(group.map((p) => p.comm)).toEqual(['zircon-flush']);
    return { reader, child, written: report.written };
  }

  /** Reads messages from `first` on, in order, until PEER_CLOSED; returns how many came. */
  async function readToEnd(reader: number, first = 0): Promise<number> {
    let next = first;
    for (;;) {
      await waitSignals(reader, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000);
      const r = sys.channelRead(reader, 0, 65536, 64);
      if (r.status === ZX_ERR_PEER_CLOSED) return next - first;
      expect(r.status).toBe(ZX_OK);
      if (!r.bytes.equals(message(next)))
        throw new Error(`message ${next}: got #${r.bytes.readUInt32LE(0)} of ${r.bytes.length} bytes`);
      next++;
    }
  }

  const gone = (pgid: number) => until(() => processGroup(pgid).length === 0, `process group ${pgid} to end`, 20_000);

  it('the exit does not wait; a reader that starts after it gets every message in order, then PEER_CLOSED; the flusher ends', async () => {
    const base = baseline();
    const { reader, child, written } = await fillAndExit(60_000);
    expect(await readToEnd(reader)).toBe(written);
    await gone(child.pid);
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    await expectBaseline(base);
  });

  it('a reader that never reads: the flusher gives up once nothing has moved for ZIRCON_IPC_EXIT_FLUSH_TIMEOUT_MS; the reader gets what reached its socket, then PEER_CLOSED', async () => {
    const base = baseline();
    const { reader, child, written } = await fillAndExit(3_000);
    await gone(child.pid);
    // The flusher's end of the socket closed with it: what the socket held, then the end.
    const got = await readToEnd(reader);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(written);
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    await expectBaseline(base);
  });

  it('a reader that closes its end: the flusher drops the queue and ends at once', async () => {
    const base = baseline();
    const { reader, child } = await fillAndExit(60_000);
    expect(sys.handleClose(reader)).toBe(ZX_OK);
    await gone(child.pid);
    await expectBaseline(base);
  });
});

describe('a peer killed with SIGKILL', () => {
  it('PEER_CLOSED; pending calls (Channel.call, sys.channelCallAsync) and reads fail with PEER_CLOSED', async () => {
    const base = baseline();
    const [mine, theirs] = Channel.create();
    const [idle, idleChild] = Channel.create();
    const child = startNode(
      'proc-hang.cjs',
      ['2'],
      [
        { id: user(0), handle: theirs },
        { id: user(1), handle: idleChild },
      ],
    );

    const call = rejection(mine.call('....first call'));
    const request = Buffer.from('....second call');
    const rawCall = sys.channelCallAsync(mine.raw, 0, ZX_TIME_INFINITE, {
      bytes: request,
      handles: null,
      readNumBytes: 65536,
      readNumHandles: 64,
    });
    const read = rejection(idle.read());
    // The child has both requests and will answer neither.
    expect(await child.json('got')).toEqual({ got: 2, idle: true });
    // A channel end inside a message the child will never read.
    const [x, y] = Channel.create();
    mine.write('....unread, with an endpoint', [x]);

    expect(child.proc.kill('SIGKILL')).toBe(true);

    expectZxError(await call, ZX_ERR_PEER_CLOSED, 'Channel.call');
    const raw = await rawCall;
    expect(raw.status).toBe(ZX_ERR_PEER_CLOSED);
    expect(raw.bytes.length).toBe(0);
    expect(raw.handles).toEqual([]);
    expectZxError(await read, ZX_ERR_PEER_CLOSED, 'Channel.read');
    // The endpoint it held unread was closed with it.
    expect(await y.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: null, signal: 'SIGKILL' });

    // What it wrote before it died is still readable, then PEER_CLOSED for good.
    const notes = [mine.tryRead(), mine.tryRead()].map((m) => m?.bytes.subarray(4).toString());
    expect(notes).toEqual(['got 1', 'got 2']);
    expectZxError(await rejection(Promise.resolve().then(() => mine.tryRead())), ZX_ERR_PEER_CLOSED, 'Channel.tryRead');
    expectZxError(
      await rejection(Promise.resolve().then(() => mine.write('anyone?'))),
      ZX_ERR_PEER_CLOSED,
      'Channel.write',
    );
    expectZxError(await rejection(mine.call('....too late')), ZX_ERR_PEER_CLOSED, 'Channel.call');
    expect(mine.waitSync(ZX_CHANNEL_PEER_CLOSED, { timeout: 0 }) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);

    for (const h of [mine, idle, y]) h.close();
    await expectBaseline(base);
  });
});
