// channelRead / channelReadEtc: every status, the order of checks, BUFFER_TOO_SMALL with
// and without MAY_DISCARD, result shapes, FIFO order and what received handles look like
// (README.md, "API").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_READ_MAY_DISCARD,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BUFFER_TOO_SMALL,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  statusToString,
} from '../lib/index';
import type { ReadResult } from '../lib/sys';
import {
  baseline,
  basic,
  channel,
  closeAll,
  expectBaseline,
  fileHandle,
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

beforeAll(() => warmUpWaits());
afterAll(() => removeScratchDir());

const EMPTY = Buffer.alloc(0);
const failed = (status: number): ReadResult => ({
  status,
  bytes: EMPTY,
  handles: [],
  actualBytes: 0,
  actualHandles: 0,
});
const tooSmall = (actualBytes: number, actualHandles: number): ReadResult => ({
  status: ZX_ERR_BUFFER_TOO_SMALL,
  bytes: EMPTY,
  handles: [],
  actualBytes,
  actualHandles,
});
const WAIT_5S = () => sys.deadlineAfter(5_000_000_000n);

/** Result comparison that names the status on mismatch. */
function expectRead(r: ReadResult<unknown>, want: ReadResult<unknown>): void {
  expect({ ...r, status: statusToString(r.status) }).toEqual({ ...want, status: statusToString(want.status) });
}

describe('channelRead: handle lookup (BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED)', () => {
  it.each([
    ['0', () => 0],
    ['a stale value', staleHandle],
    ['a value never handed out', () => 0x5a5a5a5b],
    ['a value with low bits 00', () => 0x100],
  ])('%s → BAD_HANDLE', (_n, make) => {
    expectRead(sys.channelRead(make(), 0, 65536, 64), failed(ZX_ERR_BAD_HANDLE));
    expectRead(sys.channelReadEtc(make(), 0, 65536, 64), failed(ZX_ERR_BAD_HANDLE));
  });

  it('an FD handle (pipe read end, which has READ) → WRONG_TYPE', () => {
    const f = pipeReadHandle();
    expect(basic(f).rights & ZX_RIGHT_READ).toBe(ZX_RIGHT_READ);
    expectRead(sys.channelRead(f, 0, 65536, 64), failed(ZX_ERR_WRONG_TYPE));
    expectRead(sys.channelReadEtc(f, 0, 65536, 64), failed(ZX_ERR_WRONG_TYPE));
    expect(isValid(f)).toBe(true);
    closeAll(f);
  });

  it('an FD handle without READ (pipe write end) → WRONG_TYPE, type before rights', () => {
    const f = pipeWriteHandle();
    expect(basic(f).rights & ZX_RIGHT_READ).toBe(0);
    expectRead(sys.channelRead(f, 0, 65536, 64), failed(ZX_ERR_WRONG_TYPE));
    closeAll(f);
  });

  it('an endpoint without READ → ACCESS_DENIED, and the message stays queued', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('kept'), null)).toBe(ZX_OK);
    const noRead = replace(b, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    expectRead(sys.channelRead(noRead, 0, 65536, 64), failed(ZX_ERR_ACCESS_DENIED));
    expectRead(sys.channelReadEtc(noRead, 0, 65536, 64), failed(ZX_ERR_ACCESS_DENIED));
    expect(signalsOf(noRead) & ZX_CHANNEL_READABLE).toBe(ZX_CHANNEL_READABLE);
    const back = replace(noRead, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    expect(basic(back).rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    closeAll(a, back);
  });
});

describe('channelRead: options → NOT_SUPPORTED, checked after the handle', () => {
  it.each([2, 0xff, 0xfe, 0x80000000])('options %s on a good handle → NOT_SUPPORTED, nothing consumed', (options) => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('still here'), null)).toBe(ZX_OK);
    expectRead(sys.channelRead(b, options, 65536, 64), failed(ZX_ERR_NOT_SUPPORTED));
    expectRead(sys.channelReadEtc(b, options, 65536, 64), failed(ZX_ERR_NOT_SUPPORTED));
    expect(readAll(b).bytes.toString()).toBe('still here');
    closeAll(a, b);
  });

  it('options on an empty channel → NOT_SUPPORTED (before SHOULD_WAIT)', () => {
    const [a, b] = channel();
    expectRead(sys.channelRead(b, 2, 65536, 64), failed(ZX_ERR_NOT_SUPPORTED));
    closeAll(a, b);
  });

  it('bad handle + bad options → BAD_HANDLE', () => {
    expectRead(sys.channelRead(staleHandle(), 2, 65536, 64), failed(ZX_ERR_BAD_HANDLE));
    expectRead(sys.channelRead(0, 0xff, 0, 0), failed(ZX_ERR_BAD_HANDLE));
  });

  it('wrong type + bad options → WRONG_TYPE', () => {
    const f = pipeReadHandle();
    expectRead(sys.channelRead(f, 2, 65536, 64), failed(ZX_ERR_WRONG_TYPE));
    closeAll(f);
  });

  it('no READ + bad options → ACCESS_DENIED', () => {
    const [a, b] = channel();
    const noRead = replace(b, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ);
    expectRead(sys.channelRead(noRead, 2, 65536, 64), failed(ZX_ERR_ACCESS_DENIED));
    closeAll(a, noRead);
  });
});

describe('channelRead: empty queue', () => {
  it('empty → SHOULD_WAIT (with any sizes and with MAY_DISCARD)', () => {
    const [a, b] = channel();
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_SHOULD_WAIT));
    expectRead(sys.channelRead(b, 0, 0, 0), failed(ZX_ERR_SHOULD_WAIT));
    expectRead(sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 0, 0), failed(ZX_ERR_SHOULD_WAIT));
    expectRead(sys.channelReadEtc(b, 0, 65536, 64), failed(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b);
  });

  it('empty with the peer closed → PEER_CLOSED (with any sizes and with MAY_DISCARD)', () => {
    const [a, b] = channel();
    closeAll(a);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_PEER_CLOSED));
    expectRead(sys.channelRead(b, 0, 0, 0), failed(ZX_ERR_PEER_CLOSED));
    expectRead(sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 0, 0), failed(ZX_ERR_PEER_CLOSED));
    expectRead(sys.channelReadEtc(b, 0, 65536, 64), failed(ZX_ERR_PEER_CLOSED));
    closeAll(b);
  });
});

describe('channelRead: fire and forget', () => {
  it('messages written before the peer closed stay readable; then PEER_CLOSED', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('one'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, null, null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('three'), [x])).toBe(ZX_OK);
    closeAll(a);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(signalsOf(b)).toBe(0x5);

    expect(readAll(b).bytes.toString()).toBe('one');
    expect(signalsOf(b)).toBe(0x5);
    expectRead(sys.channelRead(b, 0, 0, 0), {
      status: ZX_OK,
      bytes: EMPTY,
      handles: [],
      actualBytes: 0,
      actualHandles: 0,
    });
    expect(signalsOf(b)).toBe(0x5);
    const third = readAll(b);
    expect(third.bytes.toString()).toBe('three');
    expect(third.handles).toHaveLength(1);
    expect(basic(third.handles[0]).relatedKoid).toBe(basic(y).koid);

    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(signalsOf(b)).toBe(0x4);
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_PEER_CLOSED));
    // The carried endpoint still works.
    expect(sys.channelWrite(third.handles[0], 0, Buffer.from('via moved end'), null)).toBe(ZX_OK);
    expect(readAll(y).bytes.toString()).toBe('via moved end');
    closeAll(b, y, third.handles[0]);
    expectBaseline(before);
  });
});

describe('channelRead: BUFFER_TOO_SMALL', () => {
  /** A 10-byte message with two channel endpoints; returns the peers of those endpoints. */
  function writeTen(a: number): { peers: number[]; koids: bigint[] } {
    const [x1, y1] = channel();
    const [x2, y2] = channel();
    const koids = [basic(x1).koid, basic(x2).koid];
    expect(sys.channelWrite(a, 0, Buffer.from('0123456789'), [x1, x2])).toBe(ZX_OK);
    return { peers: [y1, y2], koids };
  }

  it.each([
    ['bytes too small', 9, 64],
    ['bytes zero', 0, 2],
    ['handles too small', 65536, 1],
    ['handles zero', 10, 0],
    ['both too small', 0, 0],
  ])('%s: reports the real sizes and leaves the message queued, intact', (_n, numBytes, numHandles) => {
    const before = baseline();
    const [a, b] = channel();
    const { peers, koids } = writeTen(a);
    expectRead(sys.channelRead(b, 0, numBytes, numHandles), tooSmall(10, 2));
    expectRead(sys.channelReadEtc(b, 0, numBytes, numHandles), tooSmall(10, 2));
    expectRead(sys.channelRead(b, 0, numBytes, numHandles), tooSmall(10, 2));
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    // The carried endpoints are alive.
    for (const y of peers) expect(signalsOf(y)).toBe(ZX_CHANNEL_WRITABLE);

    // Exactly enough room.
    const r = sys.channelRead(b, 0, 10, 2);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.toString()).toBe('0123456789');
    expect(r.actualBytes).toBe(10);
    expect(r.actualHandles).toBe(2);
    expect(r.handles.map((h) => basic(h).koid)).toEqual(koids);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b, ...peers, ...r.handles);
    expectBaseline(before);
  });

  it('a zero-byte message with one handle: (0, 0) is too small, (0, 1) fits', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, null, [x])).toBe(ZX_OK);
    expectRead(sys.channelRead(b, 0, 0, 0), tooSmall(0, 1));
    expectRead(sys.channelRead(b, 0, 65536, 0), tooSmall(0, 1));
    const r = sys.channelRead(b, 0, 0, 1);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualBytes).toBe(0);
    expect(r.handles).toHaveLength(1);
    closeAll(a, b, y, r.handles[0]);
  });

  it('a 65536-byte message with 64 handles: one short on either side is too small', () => {
    const before = baseline();
    const [a, b] = channel();
    const hs: number[] = [];
    const peers: number[] = [];
    for (let i = 0; i < 64; i++) {
      const [x, y] = channel();
      hs.push(x);
      peers.push(y);
    }
    expect(sys.channelWrite(a, 0, Buffer.alloc(65536, 7), hs)).toBe(ZX_OK);
    expectRead(sys.channelRead(b, 0, 65535, 64), tooSmall(65536, 64));
    expectRead(sys.channelRead(b, 0, 65536, 63), tooSmall(65536, 64));
    const r = sys.channelRead(b, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualHandles).toBe(64);
    expect(r.bytes.equals(Buffer.alloc(65536, 7))).toBe(true);
    closeAll(a, b, ...peers, ...r.handles);
    expectBaseline(before);
  });

  it('with MAY_DISCARD the message is dropped, its handles closed, and the next one reads', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const f = pipeWriteHandle();
    expect(sys.channelWrite(a, 0, Buffer.from('too big for you'), [x, f])).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('next'), null)).toBe(ZX_OK);
    expect(signalsOf(y)).toBe(ZX_CHANNEL_WRITABLE);

    expectRead(sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 4, 64), tooSmall(15, 2));
    // The endpoint carried in the dropped message was closed: its peer sees PEER_CLOSED.
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S())).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    const r = sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 4, 0);
    expectRead(r, { status: ZX_OK, bytes: Buffer.from('next'), handles: [], actualBytes: 4, actualHandles: 0 });
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b, y);
    expectBaseline(before);
  });

  it('MAY_DISCARD of the only message clears READABLE; with handles too small as well', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('ab'), [x])).toBe(ZX_OK);
    expectRead(sys.channelReadEtc(b, ZX_CHANNEL_READ_MAY_DISCARD, 65536, 0), tooSmall(2, 1));
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b, y);
    expectBaseline(before);
  });

  it('MAY_DISCARD with enough room is a normal read', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('fits'), null)).toBe(ZX_OK);
    const r = sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 4, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.toString()).toBe('fits');
    closeAll(a, b);
  });

  it('MAY_DISCARD after the peer closed still drops only the head, then PEER_CLOSED', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('dropped'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('kept'), null)).toBe(ZX_OK);
    closeAll(a);
    expectRead(sys.channelRead(b, ZX_CHANNEL_READ_MAY_DISCARD, 1, 0), tooSmall(7, 0));
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(readAll(b).bytes.toString()).toBe('kept');
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_PEER_CLOSED));
    closeAll(b);
  });
});

describe('channelRead: result shapes and order', () => {
  it('on OK: bytes.length === actualBytes, handles.length === actualHandles, bytes is a Buffer', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('shape'), [x])).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 100, 5);
    expect(r.status).toBe(ZX_OK);
    expect(Buffer.isBuffer(r.bytes)).toBe(true);
    expect(r.bytes.length).toBe(r.actualBytes);
    expect(r.handles.length).toBe(r.actualHandles);
    expect(Object.keys(r).sort()).toEqual(['actualBytes', 'actualHandles', 'bytes', 'handles', 'status']);
    expect(r.actualBytes).toBe(5);
    expect(r.actualHandles).toBe(1);
    closeAll(a, b, y, r.handles[0]);
  });

  it('the result of one read is not changed by the next one', () => {
    const [a, b] = channel();
    const [x1, y1] = channel();
    const [x2, y2] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('first'), [x1])).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('second!'), [x2])).toBe(ZX_OK);
    const r1 = sys.channelReadEtc(b, 0, 65536, 64);
    const r2 = sys.channelReadEtc(b, 0, 65536, 64);
    expect(r1.bytes.toString()).toBe('first');
    expect(r2.bytes.toString()).toBe('second!');
    expect(r1.handles[0].handle).not.toBe(r2.handles[0].handle);
    expect(basic(r1.handles[0].handle).relatedKoid).toBe(basic(y1).koid);
    expect(basic(r2.handles[0].handle).relatedKoid).toBe(basic(y2).koid);
    closeAll(a, b, y1, y2, r1.handles[0].handle, r2.handles[0].handle);
  });

  it('messages come out in FIFO order, with their own handles', () => {
    const before = baseline();
    const [a, b] = channel();
    const expected: { text: string; count: number; koids: bigint[] }[] = [];
    const keep: number[] = [];
    for (let i = 0; i < 300; i++) {
      const count = i % 3;
      const hs: number[] = [];
      for (let k = 0; k < count; k++) {
        const [x, y] = channel();
        hs.push(x);
        keep.push(y);
      }
      const text = `message ${i} ${'.'.repeat(i % 17)}`;
      expected.push({ text, count, koids: hs.map((h) => basic(h).koid) });
      expect(sys.channelWrite(a, 0, Buffer.from(text), hs)).toBe(ZX_OK);
    }
    for (const want of expected) {
      const r = readAll(b);
      expect(r.bytes.toString()).toBe(want.text);
      expect(r.handles.map((h) => basic(h).koid)).toEqual(want.koids);
      keep.push(...r.handles);
    }
    expectRead(sys.channelRead(b, 0, 65536, 64), failed(ZX_ERR_SHOULD_WAIT));
    closeAll(a, b, ...keep);
    expectBaseline(before);
  });
});

describe('channelRead: received handles', () => {
  it('are new values with the sent type and rights; channelReadEtc reports both', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const ro = fileHandle('r');
    const wo = pipeWriteHandle();
    const sent = [x, ro, wo];
    const infos = sent.map(basic);
    expect(infos.map((i) => i.type)).toEqual([ZX_OBJ_TYPE_CHANNEL, ZX_OBJ_TYPE_FD, ZX_OBJ_TYPE_FD]);
    expect(infos.map((i) => i.rights)).toEqual([
      ZX_DEFAULT_CHANNEL_RIGHTS,
      ZX_RIGHTS_BASIC | ZX_RIGHT_READ,
      ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE,
    ]);
    expect(sys.channelWrite(a, 0, Buffer.from('h'), sent)).toBe(ZX_OK);
    for (const h of sent) expect(isValid(h)).toBe(false);

    const r = sys.channelReadEtc(b, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualHandles).toBe(3);
    expect(r.handles).toEqual([
      { handle: expect.any(Number), type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS },
      { handle: expect.any(Number), type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ },
      { handle: expect.any(Number), type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE },
    ]);
    const got = r.handles.map((h) => h.handle);
    for (const h of got) {
      expect(h & 3).toBe(3);
      expect(sent).not.toContain(h);
    }
    expect(new Set(got).size).toBe(3);
    // Koids and related koids are kept across the move.
    got.forEach((h, i) => expect(basic(h)).toEqual(infos[i]));
    const received = basic(got[0]);
    expect(received.koid).toBe(basic(y).relatedKoid);
    expect(received.relatedKoid).toBe(basic(y).koid);
    closeAll(a, b, y, ...got);
    expectBaseline(before);
  });

  it('keep rights reduced with handleReplace before sending', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const reduced = ZX_RIGHT_TRANSFER | ZX_RIGHT_READ | ZX_RIGHT_WAIT;
    const xr = replace(x, reduced);
    const f = replace(fileHandle('r+'), ZX_RIGHT_TRANSFER | ZX_RIGHT_WRITE);
    expect(sys.channelWrite(a, 0, null, [xr, f])).toBe(ZX_OK);

    const r = sys.channelReadEtc(b, 0, 0, 2);
    expect(r.status).toBe(ZX_OK);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_CHANNEL, rights: reduced },
      { type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHT_TRANSFER | ZX_RIGHT_WRITE },
    ]);
    const [moved, file] = r.handles.map((h) => h.handle);
    expect(basic(moved).rights).toBe(reduced);
    expect(basic(file).rights).toBe(ZX_RIGHT_TRANSFER | ZX_RIGHT_WRITE);
    // The reduced rights are enforced on the received handle.
    expect(sys.channelWrite(moved, 0, null, null)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.channelWrite(y, 0, Buffer.from('in'), null)).toBe(ZX_OK);
    expect(sys.channelRead(moved, 0, 65536, 64).bytes.toString()).toBe('in');
    closeAll(a, b, y, moved, file);
    expectBaseline(before);
  });

  it('channelRead gives plain handle values that channelReadEtc would describe', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, null, [x])).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 0, 1);
    expect(r.status).toBe(ZX_OK);
    expect(typeof r.handles[0]).toBe('number');
    expect(basic(r.handles[0]).type).toBe(ZX_OBJ_TYPE_CHANNEL);
    closeAll(a, b, y, r.handles[0]);
  });
});

describe('closing an endpoint destroys its unread messages', () => {
  it('handles inside them are closed, recursively: their peers see PEER_CLOSED', () => {
    const before = baseline();
    const [a, b] = channel();
    const [p, q] = channel();
    const [m, n] = channel();
    // m travels to q (unread there); q travels to b (unread there).
    expect(sys.channelWrite(p, 0, Buffer.from('inner'), [m])).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('outer'), [q])).toBe(ZX_OK);
    expect(signalsOf(n)).toBe(ZX_CHANNEL_WRITABLE);
    expect(signalsOf(p)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(b);
    expect(sys.objectWaitOne(p, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expect(sys.objectWaitOne(n, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(a, p, n);
    expectBaseline(before);
  });
});

describe('channelRead: JS misuse throws TypeError', () => {
  it('strings, negatives and fractions', () => {
    const [a, b] = channel();
    expect(() => sys.channelRead('1' as unknown as number, 0, 0, 0)).toThrow(TypeError);
    expect(() => sys.channelRead(b, '0' as unknown as number, 0, 0)).toThrow(TypeError);
    expect(() => sys.channelRead(b, 0, -1, 0)).toThrow(TypeError);
    expect(() => sys.channelRead(b, 0, 0, 1.5)).toThrow(TypeError);
    expect(() => sys.channelReadEtc(b, 0, null as unknown as number, 0)).toThrow(TypeError);
    closeAll(a, b);
  });
});
