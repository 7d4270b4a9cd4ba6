// The class face: Handle, Channel and ZxError. Promises, async iteration, timeouts,
// AbortSignal, channel_call against a server written with the classes, `using`, and the
// FinalizationRegistry safety net, with descriptor and handle counts checked every time.
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  fdio,
  Handle,
  type Message,
  Socket,
  statusToString,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_TIMED_OUT,
  ZX_INFO_HANDLE_VALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  ZxError,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import {
  endWithin,
  fixture,
  repoRoot,
  reportOf,
  spawnNode,
  spawnWithFds,
  warmUpSpawn,
  warmUpWait,
} from './fixtures/spawn';
import { expectZxError, rejectionOf, thrownBy } from './fixtures/errors';

const FIRST_TXID = 0x80000001;

let fdsBefore: number;
let handlesBefore: number;

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
  // The first worker of a process may set up things that last; later ones are measured.
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(`require(${JSON.stringify(path.join(repoRoot, 'dist/index.js'))});`, { eval: true });
    worker.on('error', reject);
    worker.on('exit', () => resolve());
  });
  // One async wait and one async call, in case the first of each sets something up.
  const [a, b] = Channel.create();
  await expect(a.wait(ZX_CHANNEL_READABLE, { timeout: 1 })).rejects.toBeInstanceOf(ZxError);
  const call = a.call('\0\0\0\0warm-up');
  const request = await b.read();
  b.write(request.bytes);
  await call;
  a.close();
  b.close();
});

/** A few turns of the event loop: descriptors under a libuv poll are closed by the loop. */
async function settleLoop(): Promise<void> {
  for (let i = 0; i < 3; i++) await turn();
}

beforeEach(async () => {
  await settleLoop();
  fdsBefore = openFdCount();
  handlesBefore = native.handleCount();
});

afterEach(async () => {
  await settleLoop();
  expect({ fds: openFdCount(), handles: native.handleCount() }).toEqual({ fds: fdsBefore, handles: handlesBefore });
});

// ---- helpers ---------------------------------------------------------------------------

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A ZxError with this status and its C name in code and message (any operation). */
function expectZxStatus(error: unknown, status: number): void {
  expect(error).toBeInstanceOf(ZxError);
  const e = error as ZxError;
  expect(e.status).toBe(status);
  expect(e.code).toBe(statusToString(status));
  expect(e.message).toContain(e.code);
}

function rawIsValid(raw: number): boolean {
  return sys.objectGetInfo(raw, ZX_INFO_HANDLE_VALID).status === ZX_OK;
}

/** Current signals, without blocking. */
function signalsOf(h: Handle): number {
  return sys.objectWaitOne(h.raw, 0, 0n).observed;
}

/** A ZX_OBJ_TYPE_FD handle for /dev/null, as a Handle. */
function fdHandle(): Handle {
  const fd = openSync('/dev/null', 'r+');
  const t = fdio.fdTransfer(fd);
  expect(t.status).toBe(ZX_OK);
  return new Handle(t.handle);
}

/** Request bytes: 4 bytes the call replaces with its txid, then `text`. */
function request(text: string): Buffer {
  return Buffer.concat([Buffer.alloc(4), Buffer.from(text)]);
}

const txidOf = (m: Message) => m.bytes.readUInt32LE(0);
const textOf = (m: Message) => m.bytes.subarray(4).toString();

/** The reply to `m`: its txid, then `text`. */
function replyTo(m: Message, text: string): Buffer {
  return Buffer.concat([m.bytes.subarray(0, 4), Buffer.from(text)]);
}

/** A server on `ch`, written as an async iteration: every request gets the answer
 *  `re: <text>` with its txid echoed (handles moved back). Ends when the peer goes. */
async function echoServer(ch: Channel): Promise<number> {
  let served = 0;
  for await (const m of ch) {
    ch.write(replyTo(m, `re: ${textOf(m)}`), m.handles);
    served++;
  }
  return served;
}

// ---- tests -----------------------------------------------------------------------------

describe('Channel.create, write, tryRead, read', () => {
  it('creates two connected Channel endpoints with default rights and related koids', () => {
    const [a, b] = Channel.create();
    for (const end of [a, b]) {
      expect(end).toBeInstanceOf(Channel);
      expect(end).toBeInstanceOf(Handle);
      expect(end.valid).toBe(true);
      expect(end.raw).not.toBe(0);
      expect(end.raw & 3).toBe(3);
      expect(end.type).toBe(ZX_OBJ_TYPE_CHANNEL);
      expect(end.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    }
    expect(a.raw).not.toBe(b.raw);
    expect(a.koid).not.toBe(b.koid);
    expect(a.info().relatedKoid).toBe(b.koid);
    expect(b.info().relatedKoid).toBe(a.koid);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_WRITABLE);
    a.close();
    b.close();
  });

  it('writes bytes and strings; tryRead returns them in order as Buffers, then null', () => {
    const [a, b] = Channel.create();
    expect(b.tryRead()).toBeNull();
    a.write(Buffer.from([1, 2, 3]));
    a.write('héllo, wörld');
    a.write(new Uint8Array([250, 251]));
    a.write('');
    a.write(new Uint8Array(65536).fill(7));
    b.write('the other way');

    const first = b.tryRead()!;
    expect(Buffer.isBuffer(first.bytes)).toBe(true);
    expect([...first.bytes]).toEqual([1, 2, 3]);
    expect(first.handles).toEqual([]);
    expect(b.tryRead()!.bytes.toString('utf8')).toBe('héllo, wörld');
    expect([...b.tryRead()!.bytes]).toEqual([250, 251]);
    const empty = b.tryRead()!; // a zero-byte message is a real message
    expect(empty.bytes.length).toBe(0);
    expect(empty.handles).toEqual([]);
    const big = b.tryRead()!;
    expect(big.bytes.length).toBe(65536);
    expect(big.bytes.every((x) => x === 7)).toBe(true);
    expect(b.tryRead()).toBeNull();
    expect(signalsOf(b) & ZX_CHANNEL_READABLE).toBe(0);

    expect(a.tryRead()!.bytes.toString()).toBe('the other way');
    expect(a.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('rejects a message over 65536 bytes with OUT_OF_RANGE and a non-byte payload with TypeError', () => {
    const [a, b] = Channel.create();
    const e = thrownBy(() => a.write(new Uint8Array(65537)));
    expectZxError(e, -14 /* ZX_ERR_OUT_OF_RANGE */, 'Channel.write');
    expect((e as ZxError).code).toBe('ZX_ERR_OUT_OF_RANGE');
    expect(thrownBy(() => a.write(42 as unknown as string))).toBeInstanceOf(TypeError);
    expect(b.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('read() resolves at once with a queued message, and later with one written after it started', async () => {
    const [a, b] = Channel.create();
    a.write('already there');
    expect((await b.read()).bytes.toString()).toBe('already there');

    let settled = false;
    const pending = b.read().then((m) => {
      settled = true;
      return m;
    });
    await turn();
    await turn();
    expect(settled).toBe(false);
    a.write('arrived later');
    const m = await pending;
    expect(m.bytes.toString()).toBe('arrived later');
    expect(m.handles).toEqual([]);
    expect(b.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('a setImmediate runs while a read is pending (the event loop is free)', async () => {
    const [a, b] = Channel.create();
    const pending = b.read();
    let ran = 0;
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        ran++;
        resolve();
      }),
    );
    expect(ran).toBe(1);
    a.write('done');
    expect((await pending).bytes.toString()).toBe('done');
    a.close();
    b.close();
  });

  it('two pending reads each get one of two messages', async () => {
    const [a, b] = Channel.create();
    const r1 = b.read({ timeout: 10_000 });
    const r2 = b.read({ timeout: 10_000 });
    await turn();
    a.write('one');
    a.write('two');
    const got = (await Promise.all([r1, r2])).map((m) => m.bytes.toString()).sort();
    expect(got).toEqual(['one', 'two']);
    expect(b.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('pending reads get messages in the order they were asked for; a timed-out one leaves its message to the next', async () => {
    const [a, b] = Channel.create();
    const gaveUp = b.read({ timeout: 1 });
    const reads = [b.read(), b.read({ timeout: 10_000 }), b.read()];
    expectZxError(await rejectionOf(gaveUp), ZX_ERR_TIMED_OUT, 'Channel.read');
    for (const text of ['one', 'two', 'three', 'four']) a.write(text);
    expect((await Promise.all(reads)).map((m) => m.bytes.toString())).toEqual(['one', 'two', 'three']);
    expect(b.tryRead()!.bytes.toString()).toBe('four');
    a.close();
    b.close();
  });

  it('a pending read takes one message: the rest stay with the endpoint when it moves right after', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const pending = b.read();
    for (let i = 0; i < 100; i++) a.write(`m${i}`);
    expect((await pending).bytes.toString()).toBe('m0');
    c.write('carrying b', [b]);
    const moved = d.tryRead()!.handles[0] as Channel;
    for (let i = 1; i < 100; i++) expect(moved.tryRead()!.bytes.toString()).toBe(`m${i}`);
    expect(moved.tryRead()).toBeNull();
    for (const ch of [a, c, d, moved]) ch.close();
  });

  it('messages written before the peer closed stay readable; then tryRead and read throw PEER_CLOSED', async () => {
    const [a, b] = Channel.create();
    a.write('first');
    a.write('second');
    a.close();
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(b.tryRead()!.bytes.toString()).toBe('first');
    expect((await b.read()).bytes.toString()).toBe('second');
    expectZxError(
      thrownBy(() => b.tryRead()),
      ZX_ERR_PEER_CLOSED,
      'Channel.tryRead',
    );
    expectZxStatus(await rejectionOf(b.read()), ZX_ERR_PEER_CLOSED);
    b.close();
  });

  it('a pending read rejects with PEER_CLOSED when the peer closes', async () => {
    const [a, b] = Channel.create();
    const pending = b.read();
    await turn();
    a.close();
    expectZxStatus(await rejectionOf(pending), ZX_ERR_PEER_CLOSED);
    b.close();
  });

  it('errors from read() name the operation the caller used: Channel.read', async () => {
    const [a, b] = Channel.create();
    const pending = b.read();
    await turn();
    a.close();
    const errors = [await rejectionOf(pending), await rejectionOf(b.read())];
    b.close();
    errors.push(await rejectionOf(b.read()));
    expectZxError(errors[0], ZX_ERR_PEER_CLOSED, 'Channel.read');
    expectZxError(errors[1], ZX_ERR_PEER_CLOSED, 'Channel.read');
    expectZxError(errors[2], ZX_ERR_BAD_HANDLE, 'Channel.read');
  });
});

describe('handles moved by write', () => {
  it('are invalid after the write; a received endpoint arrives as a Channel and works, an fd as a Handle', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const file = fdHandle();
    const cKoid = c.koid;
    const fileKoid = file.koid;
    const cRaw = c.raw;
    const fileRaw = file.raw;

    a.write('two handles', [c, file]);
    for (const h of [c, file]) {
      expect(h.raw).toBe(0);
      expect(h.valid).toBe(false);
    }
    expect(rawIsValid(cRaw)).toBe(false);
    expect(rawIsValid(fileRaw)).toBe(false);
    expectZxError(
      thrownBy(() => c.info()),
      ZX_ERR_BAD_HANDLE,
      'Channel.info',
    );

    const m = (await b.read())!;
    expect(m.bytes.toString()).toBe('two handles');
    expect(m.handles.length).toBe(2);
    const [gotChannel, gotFile] = m.handles;
    expect(gotChannel).toBeInstanceOf(Channel);
    expect(gotChannel.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(gotChannel.koid).toBe(cKoid);
    expect(gotChannel.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(gotFile).toBeInstanceOf(Handle);
    expect(gotFile).not.toBeInstanceOf(Channel);
    expect(gotFile.type).toBe(ZX_OBJ_TYPE_FD);
    expect(gotFile.koid).toBe(fileKoid);
    expect(gotFile.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE);

    // The received endpoint is the same channel: both directions work.
    const received = gotChannel as Channel;
    received.write('from the moved end');
    expect((await d.read()).bytes.toString()).toBe('from the moved end');
    d.write('to the moved end');
    expect((await received.read()).bytes.toString()).toBe('to the moved end');

    // The fd handle is a real descriptor again.
    const { status, fd } = fdio.fdCreate(gotFile.release());
    expect(status).toBe(ZX_OK);
    closeSync(fd);

    received.close();
    expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    for (const h of [a, b, d]) h.close();
  });

  it('are gone even when the write fails: PEER_CLOSED consumes them, and their peers see PEER_CLOSED', () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const file = fdHandle();
    const raws = [c.raw, file.raw];
    b.close();

    const e = thrownBy(() => a.write('nobody listens', [c, file]));
    expectZxError(e, ZX_ERR_PEER_CLOSED, 'Channel.write');
    expect((e as ZxError).code).toBe('ZX_ERR_PEER_CLOSED');
    for (const h of [c, file]) {
      expect(h.raw).toBe(0);
      expect(h.valid).toBe(false);
    }
    for (const raw of raws) expect(rawIsValid(raw)).toBe(false);
    expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    a.close();
    d.close();
  });

  it('a write with a handle that is already closed fails with BAD_HANDLE and still consumes the others', () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const stale = fdHandle();
    const staleRaw = stale.raw;
    expect(sys.handleClose(stale.release())).toBe(ZX_OK);
    const e = thrownBy(() => a.write('bad', [c, new Handle(staleRaw)]));
    expectZxError(e, ZX_ERR_BAD_HANDLE, 'Channel.write');
    expect(c.valid).toBe(false);
    expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(b.tryRead()).toBeNull();
    for (const h of [a, b, d]) h.close();
  });

  it('a channel written into itself: NOT_SUPPORTED, the endpoint consumed', () => {
    const [a, b] = Channel.create();
    const raw = a.raw;
    try {
      const e = thrownBy(() => a.write('myself', [a]));
      expect(a.valid).toBe(false);
      expect(rawIsValid(raw)).toBe(false);
      expect(signalsOf(b) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
      expectZxError(
        thrownBy(() => b.tryRead()),
        ZX_ERR_PEER_CLOSED,
        'Channel.tryRead',
      );
      expectZxError(e, ZX_ERR_NOT_SUPPORTED, 'Channel.write');
    } finally {
      if (rawIsValid(raw)) sys.handleClose(raw);
      b.close();
    }
  });

  it('a call carrying its own endpoint: NOT_SUPPORTED, the endpoint consumed', async () => {
    const [a, b] = Channel.create();
    const raw = a.raw;
    try {
      const e = await rejectionOf(a.call(request('myself'), [a]));
      expect(a.valid).toBe(false);
      expect(rawIsValid(raw)).toBe(false);
      expectZxError(
        thrownBy(() => b.tryRead()),
        ZX_ERR_PEER_CLOSED,
        'Channel.tryRead',
      );
      expectZxError(e, ZX_ERR_NOT_SUPPORTED, 'Channel.call');
    } finally {
      if (rawIsValid(raw)) sys.handleClose(raw);
      b.close();
    }
  });

  it('a handles list with a non-Handle in it throws TypeError and leaks nothing', () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const cRaw = c.raw;
    const before = native.handleCount();
    try {
      expect(thrownBy(() => a.write('bad list', [c, { raw: 5 } as unknown as Handle]))).toBeInstanceOf(TypeError);
      expect(b.tryRead()).toBeNull();
      // Either nothing was consumed (c still usable) or c was closed: never a value nobody owns.
      c.close();
      expect(native.handleCount()).toBe(before - 1);
      expect(rawIsValid(cRaw)).toBe(false);
    } finally {
      if (rawIsValid(cRaw)) sys.handleClose(cRaw); // what the bug leaves behind
      for (const h of [a, b, d]) h.close();
    }
  });
});

describe('ZxError', () => {
  it('carries status, code, operation and a message naming them', () => {
    const e = new ZxError(ZX_ERR_TIMED_OUT, 'Thing.op', 'some detail');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ZxError');
    expect(e.status).toBe(-21);
    expect(e.code).toBe('ZX_ERR_TIMED_OUT');
    expect(e.operation).toBe('Thing.op');
    expect(e.message).toContain('Thing.op');
    expect(e.message).toContain('ZX_ERR_TIMED_OUT');
    expect(e.message).toContain('some detail');
    expect(typeof e.stack).toBe('string');

    const [a, b] = Channel.create();
    b.close();
    const w = thrownBy(() => a.write('x')) as ZxError;
    expect(w).toBeInstanceOf(ZxError);
    expect(w.status).toBe(ZX_ERR_PEER_CLOSED);
    expect(w.status).toBe(-24);
    expect(w.code).toBe('ZX_ERR_PEER_CLOSED');
    expect(w.operation).toBe('Channel.write');
    expect(w.message).toMatch(/Channel\.write/);
    expect(w.message).toMatch(/ZX_ERR_PEER_CLOSED/);
    a.close();
  });
});

describe('timeouts and AbortSignal', () => {
  it('read with a timeout rejects with TIMED_OUT; a message written later is still read', async () => {
    const [a, b] = Channel.create();
    const started = Date.now();
    const e = await rejectionOf(b.read({ timeout: 30 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expectZxError(e, ZX_ERR_TIMED_OUT, 'Channel.read');
    expect((e as ZxError).code).toBe('ZX_ERR_TIMED_OUT');

    // A zero timeout with nothing queued also times out; with a message queued it reads.
    expectZxError(await rejectionOf(b.read({ timeout: 0 })), ZX_ERR_TIMED_OUT, 'Channel.read');
    a.write('late');
    expect((await b.read({ timeout: 0 })).bytes.toString()).toBe('late');
    await expect(b.read({ timeout: -1 })).rejects.toBeInstanceOf(TypeError);
    await expect(b.read({ timeout: Number.NaN })).rejects.toBeInstanceOf(TypeError);
    a.close();
    b.close();
  });

  it('an aborted read rejects with the signal reason; the channel keeps working', async () => {
    const [a, b] = Channel.create();
    const controller = new AbortController();
    const pending = b.read({ signal: controller.signal });
    await turn();
    controller.abort();
    const e = await rejectionOf(pending);
    expect(e).toBe(controller.signal.reason);
    expect((e as Error).name).toBe('AbortError');

    // Already aborted, nothing queued: rejects at once with the reason.
    const custom = new Error('custom reason');
    expect(await rejectionOf(b.read({ signal: AbortSignal.abort(custom) }))).toBe(custom);

    // Nothing was lost and the next read works.
    a.write('kept');
    expect((await b.read({ timeout: 5000 })).bytes.toString()).toBe('kept');
    const next = b.read({ signal: new AbortController().signal });
    a.write('next');
    expect((await next).bytes.toString()).toBe('next');
    a.close();
    b.close();
  });

  it('an already-aborted signal rejects read() even with a message queued, which stays queued', async () => {
    const [a, b] = Channel.create();
    a.write('queued');
    const reason = new Error('aborted before the read');
    const outcome = await b.read({ signal: AbortSignal.abort(reason) }).then(
      (m) => `resolved with ${m.bytes.toString()}`,
      (e) => e,
    );
    try {
      expect(outcome).toBe(reason);
    } finally {
      if (outcome === reason) expect(b.tryRead()!.bytes.toString()).toBe('queued');
      a.close();
      b.close();
    }
  });

  it('an aborted read leaves nothing pending: a child aborts reads, a wait and a call, then exits by itself', async () => {
    const child = spawnWithFds(process.execPath, [fixture('class-abort.cjs')]);
    const ended = await endWithin(child, 15_000);
    expect(ended, `stderr: ${child.stderr()}`).toEqual({ code: 0, signal: null });
    expect(reportOf(child)).toEqual({
      read: { name: 'AbortError', isReason: true },
      timeoutRead: { name: 'TimeoutError', isReason: true },
      wait: { name: 'AbortError', isReason: true },
      call: { name: 'Error', isReason: true },
      callMessage: 'caller gave up',
      after: 'after the aborts',
      requestSeen: true,
    });
  });

  it('wait resolves with the observed signals, times out, and aborts', async () => {
    const [a, b] = Channel.create();
    const pending = b.wait(ZX_CHANNEL_READABLE);
    await turn();
    a.write('x');
    expect(await pending).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    expectZxError(await rejectionOf(a.wait(ZX_CHANNEL_READABLE, { timeout: 10 })), ZX_ERR_TIMED_OUT, 'Channel.wait');

    const controller = new AbortController();
    const aborted = a.wait(ZX_CHANNEL_READABLE, { signal: controller.signal });
    controller.abort();
    expect(await rejectionOf(aborted)).toBe(controller.signal.reason);

    b.close();
    expect(await a.wait(ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    a.close();
  });

  it('waitSync (blocking) returns the observed signals or throws TIMED_OUT', () => {
    const [a, b] = Channel.create();
    expectZxError(
      thrownBy(() => b.waitSync(ZX_CHANNEL_READABLE, { timeout: 5 })),
      ZX_ERR_TIMED_OUT,
      'Channel.waitSync',
    );
    a.write('x');
    expect(b.waitSync(ZX_CHANNEL_READABLE, { timeout: 1000 })).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    a.close();
    expect(b.waitSync(ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    b.close();
  });
});

describe('the 0.x names', () => {
  it('waitAsync, and Socket readAsync and writeAsync, do what the new names do and warn once each', async () => {
    const warnings: { message: string; code?: string }[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.name === 'DeprecationWarning') warnings.push({ message: w.message, code: w.code });
    };
    process.on('warning', onWarning);
    try {
      const [a, b] = Channel.create();
      a.write('x');
      expect(await b.waitAsync(ZX_CHANNEL_READABLE)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
      expectZxError(
        await rejectionOf(b.waitAsync(ZX_CHANNEL_PEER_CLOSED, { timeout: 1 })),
        ZX_ERR_TIMED_OUT,
        'Channel.wait',
      );
      a.close();
      b.close();
      const [s, t] = Socket.create();
      await s.writeAsync('hello');
      await s.writeAsync('!');
      expect((await t.readAsync(10))?.toString()).toBe('hello!');
      s.close();
      expect(await t.readAsync(10)).toBeNull();
      t.close();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([
      { message: 'Handle.waitAsync() is deprecated: it is now Handle.wait()', code: 'ZIRCON_IPC_DEP_WAITASYNC' },
      { message: 'Socket.writeAsync() is deprecated: it is now Socket.write()', code: 'ZIRCON_IPC_DEP_WRITEASYNC' },
      { message: 'Socket.readAsync() is deprecated: it is now Socket.read()', code: 'ZIRCON_IPC_DEP_READASYNC' },
    ]);
  });
});

describe('closing settles what is pending', () => {
  it('closing a channel settles its pending read with CANCELED', async () => {
    const [a, b] = Channel.create();
    const pending = b.read();
    await turn();
    b.close();
    expectZxError(await rejectionOf(pending), ZX_ERR_CANCELED, 'Channel.read');
    expect(signalsOf(a) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    a.close();
  });

  it('closing a channel settles its pending wait with CANCELED', async () => {
    const [a, b] = Channel.create();
    const pending = b.wait(ZX_CHANNEL_READABLE);
    await turn();
    b.close();
    expectZxError(await rejectionOf(pending), ZX_ERR_CANCELED, 'Channel.wait');
    a.close();
  });

  it('closing a channel settles its pending call with CANCELED', async () => {
    const [a, b] = Channel.create();
    const pending = a.call(request('will be dropped'));
    const req = await b.read();
    expect(txidOf(req)).toBe(FIRST_TXID);
    expect(textOf(req)).toBe('will be dropped');
    a.close();
    expectZxError(await rejectionOf(pending), ZX_ERR_CANCELED, 'Channel.call');
    expectZxError(
      thrownBy(() => b.write(replyTo(req, 'too late'))),
      ZX_ERR_PEER_CLOSED,
      'Channel.write',
    );
    b.close();
  });

  it("closing the raw handle behind the Channel's back settles its pending calls with CANCELED, replies that came first are delivered", async () => {
    const [a, b] = Channel.create();
    const answered = a.call(request('answered'));
    const dropped = [a.call(request('one')), a.call(request('two'))];
    const first = await b.read();
    b.write(replyTo(first, 'in time'));
    await b.read();
    await b.read();
    expect(textOf(await answered)).toBe('in time');
    sys.handleClose(a.raw);
    for (const pending of dropped) expectZxError(await rejectionOf(pending), ZX_ERR_CANCELED, 'Channel.call');
    expectZxError(
      thrownBy(() => b.write('nobody there')),
      ZX_ERR_PEER_CLOSED,
      'Channel.write',
    );
    b.close();
  });

  it('the peer closing settles a pending call with PEER_CLOSED', async () => {
    const [a, b] = Channel.create();
    const pending = a.call(request('unanswered'));
    await b.read();
    b.close();
    expectZxError(await rejectionOf(pending), ZX_ERR_PEER_CLOSED, 'Channel.call');
    a.close();
  });
});

describe('async iteration', () => {
  it('yields every message in order, with handles, and ends when the peer closes', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const received: string[] = [];
    let handles: Handle[] = [];
    const reader = (async () => {
      for await (const m of b) {
        received.push(m.bytes.toString());
        handles = handles.concat(m.handles);
      }
    })();
    for (let i = 0; i < 50; i++) {
      a.write(`message ${i}`);
      if (i % 7 === 0) await turn();
    }
    a.write('with an endpoint', [c]);
    a.write('last words');
    a.close(); // written before the close: still delivered
    await reader;
    expect(received).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `message ${i}`),
      'with an endpoint',
      'last words',
    ]);
    expect(handles.length).toBe(1);
    expect(handles[0]).toBeInstanceOf(Channel);
    (handles[0] as Channel).write('hello d');
    expect(d.tryRead()!.bytes.toString()).toBe('hello d');
    handles[0].close();
    b.close();
    d.close();
  });

  it('ends at once on a channel whose peer is already gone and empty; break closes nothing', async () => {
    const [a, b] = Channel.create();
    a.close();
    let n = 0;
    for await (const _ of b) n++;
    expect(n).toBe(0);
    b.close();

    const [x, y] = Channel.create();
    x.write('1');
    x.write('2');
    for await (const m of y) {
      expect(m.bytes.toString()).toBe('1');
      break;
    }
    expect(y.valid).toBe(true);
    expect(y.tryRead()!.bytes.toString()).toBe('2');
    x.close();
    y.close();
  });

  it('an iteration ends after a failure it throws, and after return(); concurrent next() calls take messages in order', async () => {
    const [a, b] = Channel.create();
    const it = b[Symbol.asyncIterator]();
    a.write('1');
    a.write('2');
    const [first, second] = await Promise.all([it.next(), it.next()]);
    expect([first.value?.bytes.toString(), second.value?.bytes.toString()]).toEqual(['1', '2']);
    expect(await it.return!()).toEqual({ done: true, value: undefined });
    a.write('3');
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(b.tryRead()!.bytes.toString()).toBe('3');

    const failing = b[Symbol.asyncIterator]();
    const pending = failing.next();
    b.close();
    expectZxError(await rejectionOf(pending), ZX_ERR_CANCELED, 'Channel.read');
    expect(await failing.next()).toEqual({ done: true, value: undefined });
    a.close();
  });

  it('reads everything a child wrote (more than the socket holds) before it closed and exited', async () => {
    const [a, b] = Channel.create();
    const count = 3000;
    const size = 1000;
    const child = spawnNode('class-writer.cjs', [String(count), String(size)], b.release());
    let next = 0;
    let bad = 0;
    for await (const m of a) {
      if (m.bytes.length !== size || m.bytes.readUInt32LE(0) !== next || m.bytes[size - 1] !== (next & 0xff)) bad++;
      next++;
    }
    expect(bad).toBe(0);
    expect(next).toBe(count);
    expect(await endWithin(child, 20_000)).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    a.close();
  });
});

describe('call', () => {
  it('resolves with the reply from an async-iteration server that echoes the txid', async () => {
    const [a, b] = Channel.create();
    const server = echoServer(b);
    const reply = await a.call(request('ping'));
    expect(txidOf(reply)).toBe(FIRST_TXID);
    expect(textOf(reply)).toBe('re: ping');
    expect(reply.handles).toEqual([]);
    const second = await a.call('\0\0\0\0as a string');
    expect(txidOf(second)).toBe(FIRST_TXID + 1);
    expect(textOf(second)).toBe('re: as a string');
    // Replies never land in the normal queue.
    expect(a.tryRead()).toBeNull();
    a.close();
    expect(await server).toBe(2);
    b.close();
  });

  it('moves handles both ways: the sent ones are gone, the returned endpoint is a Channel', async () => {
    const [a, b] = Channel.create();
    const server = echoServer(b);
    const [c, d] = Channel.create();
    const koid = c.koid;
    const reply = await a.call(request('carry'), [c]);
    expect(c.valid).toBe(false);
    expect(reply.handles.length).toBe(1);
    const back = reply.handles[0];
    expect(back).toBeInstanceOf(Channel);
    expect(back.koid).toBe(koid);
    (back as Channel).write('round trip');
    expect(d.tryRead()!.bytes.toString()).toBe('round trip');
    back.close();
    d.close();
    a.close();
    await server;
    b.close();
  });

  it('20 concurrent calls answered in reverse order each get their own reply', async () => {
    const [a, b] = Channel.create();
    const server = (async () => {
      const requests: Message[] = [];
      for await (const m of b) {
        requests.push(m);
        if (requests.length === 20) break;
      }
      for (const m of requests.reverse()) b.write(replyTo(m, `reply to ${textOf(m)}`));
      return requests.map(txidOf);
    })();
    const calls = Array.from({ length: 20 }, (_, i) => a.call(request(`request ${i}`), undefined, { timeout: 20_000 }));
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => expect(textOf(r)).toBe(`reply to request ${i}`));
    const txids = replies.map(txidOf);
    expect(new Set(txids).size).toBe(20);
    for (const t of txids) expect(t >>> 31).toBe(1); // kernel-range txids: top bit set
    expect((await server).sort()).toEqual([...txids].sort());
    expect(a.tryRead()).toBeNull();
    expect(b.tryRead()).toBeNull();
    a.close();
    b.close();
  });

  it('20 concurrent calls against the echo server, interleaved with plain messages that stay readable in order', async () => {
    const [a, b] = Channel.create();
    const calls: Promise<Message>[] = [];
    for (let i = 0; i < 20; i++) calls.push(a.call(request(`c${i}`)));
    // The server also sends plain (non-reply, txid 0) messages between the replies.
    let served = 0;
    for await (const m of b) {
      b.write(Buffer.concat([Buffer.alloc(4), Buffer.from(`plain ${served}`)]));
      b.write(replyTo(m, `re: ${textOf(m)}`));
      if (++served === 20) break;
    }
    const replies = await Promise.all(calls);
    expect(replies.map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `re: c${i}`));
    const plain: string[] = [];
    for (let m = a.tryRead(); m; m = a.tryRead()) plain.push(textOf(m));
    expect(plain).toEqual(Array.from({ length: 20 }, (_, i) => `plain ${i}`));
    a.close();
    b.close();
  });

  it('a call with a timeout rejects with TIMED_OUT; the late reply lands in the normal queue', async () => {
    const [a, b] = Channel.create();
    const pending = a.call(request('slow'), undefined, { timeout: 30 });
    const req = await b.read();
    const e = await rejectionOf(pending);
    expectZxError(e, ZX_ERR_TIMED_OUT, 'Channel.call');
    expect((e as ZxError).code).toBe('ZX_ERR_TIMED_OUT');
    b.write(replyTo(req, 'late reply'));
    const late = await a.read({ timeout: 5000 });
    expect(txidOf(late)).toBe(txidOf(req));
    expect(textOf(late)).toBe('late reply');
    a.close();
    b.close();
  });

  it('an aborted call rejects with the signal reason; the channel keeps serving calls', async () => {
    const [a, b] = Channel.create();
    const controller = new AbortController();
    const pending = a.call(request('abandoned'), undefined, { signal: controller.signal });
    const req = await b.read();
    controller.abort();
    const e = await rejectionOf(pending);
    expect(e).toBe(controller.signal.reason);
    expect((e as Error).name).toBe('AbortError');
    // Its reply, when it comes, is an ordinary message; the next call gets its own reply.
    b.write(replyTo(req, 'for nobody'));
    const server = echoServer(b);
    const next = await a.call(request('next'));
    expect(textOf(next)).toBe('re: next');
    expect(txidOf(next)).not.toBe(txidOf(req));
    expect(textOf(await a.read({ timeout: 5000 }))).toBe('for nobody');
    // Already aborted: nothing is sent.
    const reason = new Error('never sent');
    expect(await rejectionOf(a.call(request('x'), undefined, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    a.close();
    expect(await server).toBe(1);
    b.close();
  });

  it('a call with an already-aborted signal rejects with the reason, sends nothing and consumes its handles', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    const cRaw = c.raw;
    const reason = new Error('never sent');
    try {
      expect(await rejectionOf(a.call(request('x'), [c], { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(b.tryRead()).toBeNull();
      expect(c.valid).toBe(false);
      // Consumed as on every failed call: closed, its peer sees PEER_CLOSED, nothing leaks.
      expect(rawIsValid(cRaw)).toBe(false);
      expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    } finally {
      if (rawIsValid(cRaw)) sys.handleClose(cRaw); // what the bug leaves behind
      for (const h of [a, b, d]) h.close();
    }
  });

  it('a call with fewer than 4 bytes is INVALID_ARGS and consumes its handles; a call to a closed peer is PEER_CLOSED', async () => {
    const [a, b] = Channel.create();
    const [c, d] = Channel.create();
    expectZxError(await rejectionOf(a.call('abc', [c])), ZX_ERR_INVALID_ARGS, 'Channel.call');
    expect(c.valid).toBe(false);
    expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(b.tryRead()).toBeNull();
    b.close();
    expectZxError(await rejectionOf(a.call(request('anyone?'))), ZX_ERR_PEER_CLOSED, 'Channel.call');
    a.close();
    d.close();
  });

  it('callSync from a worker thread against an async-iteration server on the main thread', async () => {
    const [a, b] = Channel.create();
    const server = (async () => {
      const seen: string[] = [];
      for await (const m of b) {
        seen.push(textOf(m));
        if (textOf(m) === 'ignore me') {
          for (const h of m.handles) h.close();
          continue;
        }
        b.write(replyTo(m, `re: ${textOf(m)}`), m.handles);
      }
      return seen;
    })();
    const worker = new Worker(fixture('class-worker-caller.cjs'), { workerData: { handle: a.release() } });
    const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
    const report = await new Promise<any>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(await exited).toBe(0);
    expect(report.replies).toEqual(
      Array.from({ length: 5 }, (_, i) => ({ txid: FIRST_TXID + i, text: `re: sync ${i}`, handles: 0 })),
    );
    expect(report.handleCall).toEqual({
      text: 're: bring it back',
      sentInvalid: true,
      count: 1,
      isChannel: true,
      sameKoid: true,
      peerGot: 'through the returned end',
    });
    expect(report.timeout).toEqual({
      isZxError: true,
      name: 'ZxError',
      status: ZX_ERR_TIMED_OUT,
      code: 'ZX_ERR_TIMED_OUT',
      operation: 'Channel.callSync',
      message: expect.stringMatching(/Channel\.callSync.*ZX_ERR_TIMED_OUT/),
    });
    // The worker closed its end: the server's iteration ended cleanly.
    expect(await server).toEqual([...Array.from({ length: 5 }, (_, i) => `sync ${i}`), 'bring it back', 'ignore me']);
    b.close();
  });
});

describe('Handle life cycle', () => {
  it('`using` closes at the end of the block, also when it throws', () => {
    const [a, b] = Channel.create();
    {
      using held = a;
      expect(held.valid).toBe(true);
    }
    expect(a.valid).toBe(false);
    expect(a.raw).toBe(0);
    expect(signalsOf(b) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);

    const [c, d] = Channel.create();
    expect(() => {
      using held = c;
      held.write('inside');
      throw new Error('boom');
    }).toThrow('boom');
    expect(c.valid).toBe(false);
    expect(d.tryRead()!.bytes.toString()).toBe('inside');
    expect(signalsOf(d) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);

    // Symbol.dispose directly, twice.
    b[Symbol.dispose]();
    expect(b.valid).toBe(false);
    b[Symbol.dispose]();
    d[Symbol.dispose]();
  });

  it('close() twice is harmless; operations on a closed handle throw BAD_HANDLE', async () => {
    const [a, b] = Channel.create();
    const raw = a.raw;
    a.close();
    expect(a.valid).toBe(false);
    expect(a.raw).toBe(0);
    expect(rawIsValid(raw)).toBe(false);
    expect(() => a.close()).not.toThrow();
    expectZxError(
      thrownBy(() => a.write('x')),
      ZX_ERR_BAD_HANDLE,
      'Channel.write',
    );
    expectZxError(
      thrownBy(() => a.tryRead()),
      ZX_ERR_BAD_HANDLE,
      'Channel.tryRead',
    );
    expectZxStatus(await rejectionOf(a.read()), ZX_ERR_BAD_HANDLE);
    expectZxError(await rejectionOf(a.call(request('x'))), ZX_ERR_BAD_HANDLE, 'Channel.call');
    expectZxError(
      thrownBy(() => a.info()),
      ZX_ERR_BAD_HANDLE,
      'Channel.info',
    );
    expectZxError(
      thrownBy(() => a.release()),
      ZX_ERR_BAD_HANDLE,
      'Channel.release',
    );
    expectZxError(await rejectionOf(a.wait(ZX_CHANNEL_READABLE)), ZX_ERR_BAD_HANDLE, 'Channel.wait');
    b.close();
    b.close();
  });

  it('release() gives the raw value away and invalidates the object', () => {
    const [a, b] = Channel.create();
    const expected = a.raw;
    const raw = a.release();
    expect(raw).toBe(expected);
    expect(a.valid).toBe(false);
    expect(a.raw).toBe(0);
    expect(rawIsValid(raw)).toBe(true);
    a.close(); // harmless: it owns nothing now
    expect(rawIsValid(raw)).toBe(true);
    // The value still names the endpoint; a new Channel can own it again.
    const again = new Channel(raw);
    again.write('still me');
    expect(b.tryRead()!.bytes.toString()).toBe('still me');
    again.close();
    b.close();
  });

  it('duplicate() of a channel is ACCESS_DENIED (no DUPLICATE right) and leaves it valid', () => {
    const [a, b] = Channel.create();
    expect(a.rights & ZX_RIGHT_DUPLICATE).toBe(0);
    const e = thrownBy(() => a.duplicate());
    expectZxError(e, ZX_ERR_ACCESS_DENIED, 'Channel.duplicate');
    expect((e as ZxError).code).toBe('ZX_ERR_ACCESS_DENIED');
    expect(a.valid).toBe(true);
    a.write('still works');
    expect(b.tryRead()!.bytes.toString()).toBe('still works');
    a.close();
    b.close();
  });

  it('duplicate() of a handle with DUPLICATE gives a second handle of the same class and object', () => {
    const h = fdHandle();
    expect(h.rights & ZX_RIGHT_DUPLICATE).toBe(ZX_RIGHT_DUPLICATE);
    const same = h.duplicate();
    const fewer = h.duplicate(ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER);
    for (const d of [same, fewer]) {
      expect(d).toBeInstanceOf(Handle);
      expect(d.raw).not.toBe(h.raw);
      expect(d.koid).toBe(h.koid);
      expect(d.type).toBe(ZX_OBJ_TYPE_FD);
    }
    expect(same.rights).toBe(h.rights);
    expect(fewer.rights).toBe(ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER);
    h.close();
    expect(same.valid).toBe(true);
    expect(same.koid).toBe(fewer.koid);
    same.close();
    fewer.close();
  });

  it('replace(rights) gives a new Channel with those rights and invalidates the old', () => {
    const [a, b] = Channel.create();
    const koid = a.koid;
    const oldRaw = a.raw;
    const readOnly = a.replace(ZX_RIGHT_READ | ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER);
    expect(readOnly).toBeInstanceOf(Channel);
    expect(a.valid).toBe(false);
    expect(a.raw).toBe(0);
    expect(rawIsValid(oldRaw)).toBe(false);
    expect(readOnly.valid).toBe(true);
    expect(readOnly.koid).toBe(koid);
    expect(readOnly.rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER);
    b.write('readable');
    expect(readOnly.tryRead()!.bytes.toString()).toBe('readable');
    expectZxError(
      thrownBy(() => readOnly.write('no WRITE right')),
      ZX_ERR_ACCESS_DENIED,
      'Channel.write',
    );

    // SAME_RIGHTS keeps them; asking for more than held is INVALID_ARGS and still
    // invalidates the source.
    const same = readOnly.replace(ZX_RIGHT_SAME_RIGHTS);
    expect(same.rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_WAIT | ZX_RIGHT_TRANSFER);
    expect(readOnly.valid).toBe(false);
    const sameRaw = same.raw;
    expectZxError(
      thrownBy(() => same.replace(ZX_DEFAULT_CHANNEL_RIGHTS)),
      ZX_ERR_INVALID_ARGS,
      'Channel.replace',
    );
    expect(same.valid).toBe(false);
    expect(rawIsValid(sameRaw)).toBe(false);
    expect(signalsOf(b) & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    b.close();
  });

  it('a forgotten Handle is closed by the FinalizationRegistry once collected (child with --expose-gc)', async () => {
    const child = spawnWithFds(process.execPath, ['--expose-gc', fixture('class-gc.cjs')]);
    const ended = await endWithin(child, 40_000);
    expect(ended, `stderr: ${child.stderr()}`).toEqual({ code: 0, signal: null });
    const report = reportOf(child);
    expect(report).toMatchObject({
      createdHandles: 6,
      fdOpened: 1,
      receivedIsChannel: true,
      forgottenRawInvalid: true,
      callerRawInvalid: true,
      releasedStillValid: true,
      releasedPeerOpen: true,
      handlesBack: true,
      fdsBack: true,
    });
    for (const key of ['forgottenRounds', 'receivedRounds', 'callerRounds', 'fdRounds']) {
      expect(report[key], key).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('counts', () => {
  it('1000 async round trips through the classes leave descriptors and handles at baseline', async () => {
    const [a, b] = Channel.create();
    const server = echoServer(b);
    for (let i = 0; i < 1000; i++) {
      const [c, d] = Channel.create();
      const reply = await a.call(request(`n${i}`), i % 10 === 0 ? [c] : undefined);
      expect(textOf(reply)).toBe(`re: n${i}`);
      for (const h of reply.handles) h.close();
      c.close();
      d.close();
    }
    a.close();
    expect(await server).toBe(1000);
    b.close();
    await settleLoop();
    expect(native.handleCount()).toBe(handlesBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });
});
