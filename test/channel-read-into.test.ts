// channelReadInto: zx_channel_read's own shape, the payload into the caller's buffer and
// the handle values into the caller's array. Every status in Zircon's order, sizes,
// BUFFER_TOO_SMALL with and without MAY_DISCARD, handles, what the buffer holds around the
// payload, records from another process, and descriptor counts. Also: large messages read
// by channelRead as views of one slab keep their bytes.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  statusToString,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_READ_MAY_DISCARD,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BUFFER_TOO_SMALL,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHTS_BASIC,
} from '../lib/index';
import type { ReadIntoResult } from '../lib/sys';
import {
  baseline,
  basic,
  channel,
  closeAll,
  expectBaseline,
  isValid,
  pipeReadHandle,
  pipeWriteHandle,
  readAll,
  removeScratchDir,
  replace,
  signalsOf,
  staleHandle,
  warmUpWaits,
} from './fixtures/channels';
import { fixture, reportOf, spawnWithEndpoint, waitSignals, warmUpSpawn } from './fixtures/spawn';
import { portable } from './fixtures/backend';

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWaits();
});
afterAll(() => removeScratchDir());

const SENTINEL = 0xa5;
const result = (status: number, actualBytes = 0, actualHandles = 0): ReadIntoResult => ({
  status,
  actualBytes,
  actualHandles,
});

/** Result comparison that names the status on mismatch. */
function expectResult(r: ReadIntoResult, want: ReadIntoResult): void {
  expect({ ...r, status: statusToString(r.status) }).toEqual({ ...want, status: statusToString(want.status) });
}

/** A buffer of `n` sentinel bytes, so what a read wrote (and did not) shows. */
const sentinel = (n: number) => Buffer.alloc(n, SENTINEL);
const untouched = (b: Uint8Array, from = 0) => b.subarray(from).every((x) => x === SENTINEL);

describe('channelReadInto: arguments', () => {
  it.each([
    ['a string', 'bytes'],
    ['an array of numbers', [1, 2, 3]],
    ['null', null],
    ['a Uint16Array', new Uint16Array(4)],
    ['an ArrayBuffer', new ArrayBuffer(4)],
  ])('bytes as %s: TypeError, the message stays queued', (_n, bytes) => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('kept'), null)).toBe(ZX_OK);
    expect(() => sys.channelReadInto(b, 0, bytes as any, null)).toThrow(TypeError);
    expect(readAll(b).bytes.toString()).toBe('kept');
    closeAll(a, b);
  });

  it.each([
    ['a string', 'handles'],
    ['a number', 4],
    ['an object', { length: 4 }],
    ['an Int32Array', new Int32Array(4)],
  ])('handles as %s: TypeError', (_n, handles) => {
    const [a, b] = channel();
    expect(() => sys.channelReadInto(b, 0, sentinel(8), handles as any)).toThrow(TypeError);
    closeAll(a, b);
  });

  it('a handle or options that are not unsigned 32-bit integers: TypeError', () => {
    const [a, b] = channel();
    expect(() => sys.channelReadInto('1' as any, 0, sentinel(8), null)).toThrow(TypeError);
    expect(() => sys.channelReadInto(-1, 0, sentinel(8), null)).toThrow(TypeError);
    expect(() => sys.channelReadInto(b, 1.5, sentinel(8), null)).toThrow(TypeError);
    closeAll(a, b);
  });
});

describe("channelReadInto: statuses in Zircon's order", () => {
  it('BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED → NOT_SUPPORTED (options after the handle)', () => {
    const bytes = sentinel(16);
    for (const h of [0, staleHandle(), 0x5a5a5a5b]) {
      expectResult(sys.channelReadInto(h, 0, bytes, null), result(ZX_ERR_BAD_HANDLE));
      expectResult(sys.channelReadInto(h, 2, bytes, null), result(ZX_ERR_BAD_HANDLE));
    }
    const f = pipeReadHandle();
    expect(basic(f).rights & ZX_RIGHT_READ).toBe(ZX_RIGHT_READ);
    expectResult(sys.channelReadInto(f, 0, bytes, null), result(ZX_ERR_WRONG_TYPE));
    expectResult(sys.channelReadInto(f, 2, bytes, null), result(ZX_ERR_WRONG_TYPE));
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    const noRead = replace(b, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    expectResult(sys.channelReadInto(noRead, 0, bytes, null), result(ZX_ERR_ACCESS_DENIED));
    expectResult(sys.channelReadInto(noRead, 2, bytes, null), result(ZX_ERR_ACCESS_DENIED));
    const [c, d] = channel();
    expect(sys.channelWrite(c, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    for (const options of [2, ZX_CHANNEL_READ_MAY_DISCARD | 2, 0x80000000])
      expectResult(sys.channelReadInto(d, options, bytes, null), result(ZX_ERR_NOT_SUPPORTED));
    expect(untouched(bytes)).toBe(true);
    expect(signalsOf(d)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    closeAll(f, a, noRead, c, d);
  });

  it('SHOULD_WAIT on an empty channel; after the peer left, its messages, then PEER_CLOSED', () => {
    const before = baseline();
    const [a, b] = channel();
    const bytes = sentinel(16);
    expectResult(sys.channelReadInto(b, 0, bytes, null), result(ZX_ERR_SHOULD_WAIT));
    expect(sys.channelWrite(a, 0, Buffer.from('last words'), null)).toBe(ZX_OK);
    closeAll(a);
    expectResult(sys.channelReadInto(b, 0, bytes, null), result(ZX_OK, 10));
    expect(bytes.subarray(0, 10).toString()).toBe('last words');
    expect(untouched(bytes, 10)).toBe(true);
    expectResult(sys.channelReadInto(b, 0, bytes, null), result(ZX_ERR_PEER_CLOSED));
    expectResult(
      sys.channelReadInto(b, ZX_CHANNEL_READ_MAY_DISCARD, bytes, new Uint32Array(4)),
      result(ZX_ERR_PEER_CLOSED),
    );
    closeAll(b);
    expectBaseline(before);
  });
});

describe('channelReadInto: ZX_OK', () => {
  it('the payload lands at the start of the buffer; the rest is left as it was', () => {
    const [a, b] = channel();
    for (const size of [0, 1, 15, 1000, 40_000, 65536]) {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 7 + size) & 0x7f;
      expect(sys.channelWrite(a, 0, payload, null)).toBe(ZX_OK);
      // Exactly the size (a size-checking read) and room for anything (no check needed).
      for (const [k, room] of [...new Set([size, 65536, 70_000])].entries()) {
        if (k > 0) expect(sys.channelWrite(a, 0, payload, null)).toBe(ZX_OK);
        const bytes = sentinel(room);
        expectResult(sys.channelReadInto(b, 0, bytes, null), result(ZX_OK, size));
        expect(Buffer.compare(bytes.subarray(0, size), payload)).toBe(0);
        expect(untouched(bytes, size)).toBe(true);
      }
    }
    expectResult(sys.channelReadInto(b, 0, sentinel(65536), null), result(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b);
  });

  it('into a view in the middle of a larger buffer: nothing outside the view is written', () => {
    const [a, b] = channel();
    const whole = sentinel(300);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 100, 100);
    expect(sys.channelWrite(a, 0, Buffer.alloc(100, 1), null)).toBe(ZX_OK);
    expectResult(sys.channelReadInto(b, 0, view, null), result(ZX_OK, 100));
    expect(untouched(whole.subarray(0, 100))).toBe(true);
    expect(whole.subarray(100, 200).every((x) => x === 1)).toBe(true);
    expect(untouched(whole, 200)).toBe(true);
    closeAll(a, b);
  });

  it('handle values go into a Uint32Array or an array; entries past them are left alone', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const f = pipeWriteHandle();
    const koids = [basic(x).koid, basic(f).koid];
    const fileRights = basic(f).rights;
    expect(sys.channelWrite(a, 0, Buffer.from('two'), [x, f])).toBe(ZX_OK);
    const typed = new Uint32Array([9, 9, 9, 9]);
    const bytes = sentinel(8);
    expectResult(sys.channelReadInto(b, 0, bytes, typed), result(ZX_OK, 3, 2));
    expect(bytes.subarray(0, 3).toString()).toBe('two');
    expect(typed[2]).toBe(9);
    expect(typed[3]).toBe(9);
    const got = Array.from(typed.subarray(0, 2));
    expect(got.map((h) => basic(h).koid)).toEqual(koids);
    expect(got.map((h) => basic(h).type)).toEqual([ZX_OBJ_TYPE_CHANNEL, ZX_OBJ_TYPE_FD]);
    expect(basic(got[1]).rights).toBe(fileRights);

    expect(sys.channelWrite(a, 0, null, got)).toBe(ZX_OK); // back they go
    const list = [7, 7, 7];
    expectResult(sys.channelReadInto(b, 0, sentinel(0), list), result(ZX_OK, 0, 2));
    expect(list).toHaveLength(3);
    expect(list[2]).toBe(7);
    expect(list.slice(0, 2).map((h) => basic(h).koid)).toEqual(koids);
    // The endpoint that travelled twice still reaches its peer.
    expect(sys.channelWrite(list[0], 0, Buffer.from('hi'), null)).toBe(ZX_OK);
    expect(readAll(y).bytes.toString()).toBe('hi');
    closeAll(a, b, y, list[0], list[1]);
    expectBaseline(before);
  });

  it('65536 bytes with 64 handles, into exactly that room', () => {
    const before = baseline();
    const [a, b] = channel();
    const hs: number[] = [];
    const peers: number[] = [];
    for (let i = 0; i < 64; i++) {
      const [x, y] = channel();
      hs.push(x);
      peers.push(y);
    }
    const payload = Buffer.alloc(65536);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    for (let round = 0; round < 2; round++) {
      expect(sys.channelWrite(a, 0, payload, hs)).toBe(ZX_OK);
      const bytes = sentinel(65536);
      const handles = new Uint32Array(64);
      expectResult(sys.channelReadInto(b, 0, bytes, handles), result(ZX_OK, 65536, 64));
      expect(bytes.equals(payload)).toBe(true);
      expect(Array.from(handles).every(isValid)).toBe(true);
      hs.splice(0, 64, ...handles);
    }
    closeAll(a, b, ...peers, ...hs);
    expectBaseline(before);
  });

  it('a message a call stepped over (the stash) is read into the buffer too', async () => {
    const [a, b] = channel();
    const server = new Worker(fixture('server-script.cjs'), {
      workerData: { handle: b, steps: [{ op: 'echo', plainFirst: true }] },
    });
    const exited = new Promise<number>((resolve) => server.on('exit', resolve));
    const r = sys.channelCall(a, 0, sys.deadlineAfter(20_000_000_000n), {
      bytes: Buffer.from('request!'),
      readNumBytes: 64,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.subarray(4).toString()).toBe('est!');
    // The plain message that came first waits in the stash: too small, then read.
    expect(signalsOf(a)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    const small = sentinel(4);
    expectResult(sys.channelReadInto(a, 0, small, null), result(ZX_ERR_BUFFER_TOO_SMALL, 9, 0));
    expect(untouched(small)).toBe(true);
    const bytes = sentinel(16);
    expectResult(sys.channelReadInto(a, 0, bytes, null), result(ZX_OK, 9));
    expect(bytes.subarray(4, 9).toString()).toBe('plain');
    expect(untouched(bytes, 9)).toBe(true);
    closeAll(a);
    expect(await exited).toBe(0);
  });
});

describe('channelReadInto: BUFFER_TOO_SMALL', () => {
  /** A 10-byte message carrying two channel endpoints; returns their peers. */
  function writeTen(a: number): number[] {
    const [x1, y1] = channel();
    const [x2, y2] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('0123456789'), [x1, x2])).toBe(ZX_OK);
    return [y1, y2];
  }

  it.each([
    ['bytes too small', 9, 64],
    ['bytes empty', 0, 2],
    ['handles too small', 65536, 1],
    ['no handles array', 10, -1],
    ['both too small', 0, 0],
  ])('%s: the real sizes, nothing written, the message stays queued', (_n, numBytes, numHandles) => {
    const before = baseline();
    const [a, b] = channel();
    const peers = writeTen(a);
    const bytes = sentinel(numBytes);
    const handles = numHandles < 0 ? null : new Uint32Array(numHandles).fill(5);
    for (let i = 0; i < 2; i++)
      expectResult(sys.channelReadInto(b, 0, bytes, handles), result(ZX_ERR_BUFFER_TOO_SMALL, 10, 2));
    expect(untouched(bytes)).toBe(true);
    if (handles) expect(handles.every((h) => h === 5)).toBe(true);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    for (const y of peers) expect(signalsOf(y)).toBe(ZX_CHANNEL_WRITABLE);
    const exact = sentinel(10);
    const got = new Uint32Array(2);
    expectResult(sys.channelReadInto(b, 0, exact, got), result(ZX_OK, 10, 2));
    expect(exact.toString()).toBe('0123456789');
    closeAll(a, b, ...peers, ...got);
    expectBaseline(before);
  });

  it('with MAY_DISCARD the message is dropped, its handles and descriptors closed; the next reads', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('too big for you'), [x, pipeWriteHandle()])).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('next'), null)).toBe(ZX_OK);
    const bytes = sentinel(4);
    expectResult(
      sys.channelReadInto(b, ZX_CHANNEL_READ_MAY_DISCARD, bytes, new Uint32Array(64)),
      result(ZX_ERR_BUFFER_TOO_SMALL, 15, 2),
    );
    expect(untouched(bytes)).toBe(true);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5_000_000_000n))).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    expectResult(sys.channelReadInto(b, ZX_CHANNEL_READ_MAY_DISCARD, bytes, null), result(ZX_OK, 4));
    expect(bytes.toString()).toBe('next');
    expectResult(sys.channelReadInto(b, 0, bytes, null), result(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b, y);
    expectBaseline(before);
  });

  it('MAY_DISCARD with handles too small (and room for the bytes) drops it too', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('ab'), [x])).toBe(ZX_OK);
    expectResult(
      sys.channelReadInto(b, ZX_CHANNEL_READ_MAY_DISCARD, sentinel(65536), null),
      result(ZX_ERR_BUFFER_TOO_SMALL, 2, 1),
    );
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5_000_000_000n)).status).toBe(ZX_OK);
    closeAll(a, b, y);
    expectBaseline(before);
  });
});

describe('channelReadInto: records from another process', () => {
  it('bad records: IO_DATA_INTEGRITY, descriptors closed; the valid one reads with its handles', async () => {
    const { out0: ch, out1 } = sys.channelCreate(0);
    // Each with a pipe but 'oversized'. On a framed stream a record broken in its header or
    // length ends the channel (docs/architecture.md, "Backends"): there they are broken in
    // their descriptors.
    const bad = portable ? ['extra-fd', 'missing-fd', 'port'] : ['garbage', 'length-mismatch', 'oversized'];
    const child = spawnWithEndpoint('python3', [fixture('raw-records.py'), ...bad, 'valid'], out1);
    const before = baseline();
    for (const room of [65536, 65536, 65536]) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      expectResult(sys.channelReadInto(ch, 0, sentinel(room), new Uint32Array(64)), result(ZX_ERR_IO_DATA_INTEGRITY));
      expectBaseline(before);
    }
    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
    // Exactly the room it needs: a peek, then the payload straight into the buffer.
    const bytes = sentinel(5);
    const handles = new Uint32Array(2);
    expectResult(sys.channelReadInto(ch, 0, bytes, handles), result(ZX_OK, 5, 2));
    expect(bytes.toString()).toBe('hello');
    expect(basic(handles[0])).toMatchObject({ type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ });
    expect(basic(handles[1]).type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    const closed = Object.fromEntries(bad.filter((name) => name !== 'oversized').map((name) => [name, 'closed']));
    expect(reportOf(child).pipes).toEqual({ ...closed, valid: 'open' });
    await waitSignals(handles[1], ZX_CHANNEL_READABLE);
    const over = sentinel(65536);
    expectResult(sys.channelReadInto(handles[1], 0, over, null), result(ZX_OK, 20));
    expect(over.subarray(0, 20).toString()).toBe('over the new channel');
    expect(sys.handleCloseMany([ch, ...handles])).toBe(ZX_OK);
  });

  it('a reader out of descriptors: NO_RESOURCES, nothing leaked, the next message reads', async () => {
    const { out0: ch, out1 } = sys.channelCreate(0);
    const clones = Array.from({ length: 16 }, () => pipeReadHandle());
    expect(sys.channelWrite(ch, 0, Buffer.from('crowded'), clones)).toBe(ZX_OK);
    expect(sys.channelWrite(ch, 0, Buffer.from('next'), [pipeReadHandle()])).toBe(ZX_OK);
    const child = spawnWithEndpoint(
      'bash',
      ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, fixture('child-fd-limit.cjs'), '4', 'into'],
      out1,
    );
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const report = reportOf(child);
    expect(report).toMatchObject({
      ready: ZX_OK,
      filled: 'EMFILE',
      crowded: ZX_ERR_NO_RESOURCES,
      fdsAfter: report.fdsBefore,
    });
    expect(report.next).toMatchObject({ status: ZX_OK, bytes: 'next', handles: 1 });
    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(ch)).toBe(ZX_OK);
  });
});

describe('channelRead: large messages are views of one slab', () => {
  it('each keeps its own bytes while later messages, small and large, are read', () => {
    const [a, b] = channel();
    const sizes = [
      40_000,
      100,
      65536,
      32 * 1024,
      5,
      65536,
      50_000,
      65536,
      65536,
      33_000,
      65536,
      65536,
      65536,
      65536,
      65536,
      40_000,
    ];
    const read: Buffer[] = [];
    for (const [i, size] of sizes.entries()) {
      expect(sys.channelWrite(a, 0, Buffer.alloc(size, i + 1), null)).toBe(ZX_OK);
      const r = sys.channelRead(b, 0, 65536, 0);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.length).toBe(size);
      read.push(r.bytes);
    }
    for (const [i, bytes] of read.entries()) expect(bytes.every((x) => x === i + 1)).toBe(true);
    // No two share memory: writing one changes no other.
    read.forEach((bytes, i) => bytes.fill(100 + i));
    for (const [i, bytes] of read.entries()) expect(bytes.every((x) => x === 100 + i)).toBe(true);
    const large = read.filter((bytes) => bytes.length >= 32 * 1024);
    for (const x of large)
      for (const y of large)
        if (x !== y && x.buffer === y.buffer)
          expect(x.byteOffset + x.length <= y.byteOffset || y.byteOffset + y.length <= x.byteOffset).toBe(true);
    // Several of them came out of one allocation.
    expect(new Set(large.map((bytes) => bytes.buffer)).size).toBeLessThan(large.length);
    closeAll(a, b);
  });
});
