// channelWriteEtc: MOVE and DUPLICATE dispositions, the per-entry order of checks, the
// latched first error, per-entry results, and which sources survive a failure
// (SPEC §2, reference §4.3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_WRITABLE,
  ZX_CHANNEL_WRITE_USE_IOVEC,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_HANDLE_OP_MOVE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_EVENT,
  ZX_OBJ_TYPE_FD,
  ZX_OBJ_TYPE_NONE,
  ZX_OK,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  statusToString,
} from '../lib/index';
import type { HandleDisposition } from '../lib/sys';
import {
  baseline,
  basic,
  channel,
  closeAll,
  expectBaseline,
  fileHandle,
  isValid,
  pipeReadHandle,
  removeScratchDir,
  replace,
  signalsOf,
  staleHandle,
  warmUpWaits,
} from './fixtures/channels';

beforeAll(() => warmUpWaits());
afterAll(() => removeScratchDir());

/** Pre-set on every entry: a result the library must leave alone on success. */
const UNTOUCHED = 12345;
const PIPE_READ_RIGHTS = ZX_RIGHTS_BASIC | ZX_RIGHT_READ;
const WAIT_5S = () => sys.deadlineAfter(5_000_000_000n);

function move(handle: number, type = ZX_OBJ_TYPE_NONE, rights = ZX_RIGHT_SAME_RIGHTS): HandleDisposition {
  return { operation: ZX_HANDLE_OP_MOVE, handle, type, rights, result: UNTOUCHED };
}

function dup(handle: number, type = ZX_OBJ_TYPE_NONE, rights = ZX_RIGHT_SAME_RIGHTS): HandleDisposition {
  return { operation: ZX_HANDLE_OP_DUPLICATE, handle, type, rights, result: UNTOUCHED };
}

const names = (statuses: number[]) => statuses.map(statusToString);

function expectResults(ds: HandleDisposition[], want: number[]): void {
  expect(ds.map((d) => (d.result === UNTOUCHED ? 'untouched' : statusToString(d.result)))).toEqual(
    want.map((s) => (s === UNTOUCHED ? 'untouched' : statusToString(s))),
  );
}

/** Reads one message asserting OK; returns its handle infos. */
function readEtc(h: number) {
  const r = sys.channelReadEtc(h, 0, 65536, 64);
  expect(statusToString(r.status)).toBe('ZX_OK');
  return r;
}

function expectNothingArrived(h: number): void {
  expect(statusToString(sys.channelRead(h, 0, 65536, 64).status)).toBe(statusToString(ZX_ERR_SHOULD_WAIT));
}

describe('channelWriteEtc: MOVE', () => {
  it('moves channel endpoints and FD handles unchanged; results stay untouched', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const f = pipeReadHandle();
    const infos = [basic(x), basic(f)];
    const ds = [move(x), move(f, ZX_OBJ_TYPE_FD)];
    expect(sys.channelWriteEtc(a, 0, Buffer.from('etc'), ds)).toBe(ZX_OK);
    expectResults(ds, [UNTOUCHED, UNTOUCHED]);
    expect(isValid(x)).toBe(false);
    expect(isValid(f)).toBe(false);
    const r = readEtc(b);
    expect(r.bytes.toString()).toBe('etc');
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_CHANNEL, rights: ZX_DEFAULT_CHANNEL_RIGHTS },
      { type: ZX_OBJ_TYPE_FD, rights: PIPE_READ_RIGHTS },
    ]);
    r.handles.forEach((h, i) => expect(basic(h.handle)).toEqual(infos[i]));
    expect(basic(r.handles[0].handle).relatedKoid).toBe(basic(y).koid);
    closeAll(a, b, y, ...r.handles.map((h) => h.handle));
    expectBaseline(before);
  });

  it('a matching type is accepted (CHANNEL for an endpoint)', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWriteEtc(a, 0, null, [move(x, ZX_OBJ_TYPE_CHANNEL)])).toBe(ZX_OK);
    const r = readEtc(b);
    expect(r.handles[0].type).toBe(ZX_OBJ_TYPE_CHANNEL);
    closeAll(a, b, y, r.handles[0].handle);
  });

  it('MOVE with reduced rights arrives with exactly those rights', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const f = fileHandle('r+');
    const endpointRights = ZX_RIGHT_TRANSFER | ZX_RIGHT_READ | ZX_RIGHT_WAIT;
    const fileRights = ZX_RIGHT_TRANSFER | ZX_RIGHT_READ;
    expect(
      sys.channelWriteEtc(a, 0, null, [
        move(x, ZX_OBJ_TYPE_CHANNEL, endpointRights),
        move(f, ZX_OBJ_TYPE_FD, fileRights),
      ]),
    ).toBe(ZX_OK);
    expect(isValid(x)).toBe(false);
    expect(isValid(f)).toBe(false);
    const r = readEtc(b);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_CHANNEL, rights: endpointRights },
      { type: ZX_OBJ_TYPE_FD, rights: fileRights },
    ]);
    expect(basic(r.handles[0].handle).rights).toBe(endpointRights);
    expect(basic(r.handles[1].handle).rights).toBe(fileRights);
    // No WRITE on the received endpoint.
    expect(sys.channelWrite(r.handles[0].handle, 0, null, null)).toBe(ZX_ERR_ACCESS_DENIED);
    closeAll(a, b, y, ...r.handles.map((h) => h.handle));
    expectBaseline(before);
  });

  it('rights may drop TRANSFER: the receiver gets a handle it cannot send on', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWriteEtc(a, 0, null, [move(x, ZX_OBJ_TYPE_NONE, ZX_RIGHT_READ | ZX_RIGHT_WAIT)])).toBe(ZX_OK);
    const got = readEtc(b).handles[0];
    expect(got.rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_WAIT);
    expect(sys.channelWrite(a, 0, null, [got.handle])).toBe(ZX_ERR_ACCESS_DENIED);
    expect(isValid(got.handle)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    closeAll(a, b, y);
  });

  it('moving the same handle twice → BAD_HANDLE on the second entry', () => {
    const before = baseline();
    const [a, b] = channel();
    const [x, y] = channel();
    const ds = [move(x), move(x)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectResults(ds, [UNTOUCHED, ZX_ERR_BAD_HANDLE]);
    expect(isValid(x)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expectNothingArrived(b);
    closeAll(a, b, y);
    expectBaseline(before);
  });

  it('the endpoint itself → NOT_SUPPORTED and the endpoint is consumed', () => {
    const before = baseline();
    const [a, b] = channel();
    const ds = [move(a)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_NOT_SUPPORTED);
    expectResults(ds, [ZX_ERR_NOT_SUPPORTED]);
    expect(isValid(a)).toBe(false);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(b);
    expectBaseline(before);
  });

  it('without TRANSFER → ACCESS_DENIED and the source is gone', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    const xr = replace(x, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_TRANSFER);
    const ds = [move(xr)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectResults(ds, [ZX_ERR_ACCESS_DENIED]);
    expect(isValid(xr)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expectNothingArrived(b);
    closeAll(a, b, y);
  });
});

describe('channelWriteEtc: DUPLICATE', () => {
  it('sends a copy and leaves the source in place', () => {
    const before = baseline();
    const [a, b] = channel();
    const f = pipeReadHandle();
    const info = basic(f);
    const ds = [dup(f)];
    expect(sys.channelWriteEtc(a, 0, Buffer.from('dup'), ds)).toBe(ZX_OK);
    expectResults(ds, [UNTOUCHED]);
    expect(isValid(f)).toBe(true);
    expect(basic(f)).toEqual(info);
    const r = readEtc(b);
    expect(r.handles).toHaveLength(1);
    expect(r.handles[0].handle).not.toBe(f);
    expect(r.handles[0].type).toBe(ZX_OBJ_TYPE_FD);
    expect(r.handles[0].rights).toBe(info.rights);
    expect(basic(r.handles[0].handle).koid).toBe(info.koid);
    closeAll(a, b, f, r.handles[0].handle);
    expectBaseline(before);
  });

  it('with reduced rights and a matching type', () => {
    const [a, b] = channel();
    const f = fileHandle('r+');
    expect(sys.channelWriteEtc(a, 0, null, [dup(f, ZX_OBJ_TYPE_FD, ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER)])).toBe(ZX_OK);
    const got = readEtc(b).handles[0];
    expect(got.rights).toBe(ZX_RIGHT_WRITE | ZX_RIGHT_TRANSFER);
    expect(basic(f).rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE);
    closeAll(a, b, f, got.handle);
  });

  it('a repeated handle is fine unless it is moved twice: [DUP h, DUP h, MOVE h] → OK, three copies', () => {
    const before = baseline();
    const [a, b] = channel();
    const f = pipeReadHandle();
    const koid = basic(f).koid;
    const ds = [dup(f), dup(f), move(f)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_OK);
    expectResults(ds, [UNTOUCHED, UNTOUCHED, UNTOUCHED]);
    expect(isValid(f)).toBe(false);
    const r = readEtc(b);
    expect(r.handles).toHaveLength(3);
    expect(r.handles.map((h) => basic(h.handle).koid)).toEqual([koid, koid, koid]);
    expect(new Set(r.handles.map((h) => h.handle)).size).toBe(3);
    closeAll(a, b, ...r.handles.map((h) => h.handle));
    expectBaseline(before);
  });

  it('[MOVE h, DUP h] → BAD_HANDLE on the second entry', () => {
    const [a, b] = channel();
    const f = pipeReadHandle();
    const ds = [move(f), dup(f)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectResults(ds, [UNTOUCHED, ZX_ERR_BAD_HANDLE]);
    expect(isValid(f)).toBe(false);
    expectNothingArrived(b);
    closeAll(a, b);
  });

  it('a channel endpoint has no DUPLICATE right → ACCESS_DENIED and the source stays', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    const ds = [dup(x)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectResults(ds, [ZX_ERR_ACCESS_DENIED]);
    expect(isValid(x)).toBe(true);
    expect(signalsOf(y)).toBe(ZX_CHANNEL_WRITABLE);
    expectNothingArrived(b);
    closeAll(a, b, x, y);
  });

  it('an FD handle without DUPLICATE → ACCESS_DENIED and the source stays', () => {
    const [a, b] = channel();
    const f = replace(pipeReadHandle(), PIPE_READ_RIGHTS & ~ZX_RIGHT_DUPLICATE);
    const ds = [dup(f)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectResults(ds, [ZX_ERR_ACCESS_DENIED]);
    expect(isValid(f)).toBe(true);
    closeAll(a, b, f);
  });

  it('without TRANSFER → ACCESS_DENIED and the source stays', () => {
    const [a, b] = channel();
    const f = replace(pipeReadHandle(), PIPE_READ_RIGHTS & ~ZX_RIGHT_TRANSFER);
    const ds = [dup(f)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectResults(ds, [ZX_ERR_ACCESS_DENIED]);
    expect(isValid(f)).toBe(true);
    closeAll(a, b, f);
  });

  it('the endpoint itself → NOT_SUPPORTED, and a duplicate source is not consumed', () => {
    const [a, b] = channel();
    const ds = [dup(a)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_NOT_SUPPORTED);
    expectResults(ds, [ZX_ERR_NOT_SUPPORTED]);
    expect(isValid(a)).toBe(true);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b);
  });
});

describe('channelWriteEtc: per-entry checks and their order', () => {
  const endpointWithPeer = (): number[] => channel();
  const fdAlone = (): number[] => [pipeReadHandle()];
  it.each([
    ['MOVE endpoint declared FD', endpointWithPeer, ZX_HANDLE_OP_MOVE, ZX_OBJ_TYPE_FD],
    ['MOVE FD declared CHANNEL', fdAlone, ZX_HANDLE_OP_MOVE, ZX_OBJ_TYPE_CHANNEL],
    ['MOVE FD declared EVENT', fdAlone, ZX_HANDLE_OP_MOVE, ZX_OBJ_TYPE_EVENT],
    ['DUPLICATE FD declared CHANNEL', fdAlone, ZX_HANDLE_OP_DUPLICATE, ZX_OBJ_TYPE_CHANNEL],
  ])('type mismatch (%s) → WRONG_TYPE; MOVE sources gone, DUPLICATE sources stay', (_n, make, operation, type) => {
    const before = baseline();
    const [a, b] = channel();
    const [h, ...others] = make();
    const ds: HandleDisposition[] = [{ operation, handle: h, type, rights: ZX_RIGHT_SAME_RIGHTS, result: UNTOUCHED }];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_WRONG_TYPE);
    expectResults(ds, [ZX_ERR_WRONG_TYPE]);
    const duplicate = operation === ZX_HANDLE_OP_DUPLICATE;
    expect(isValid(h)).toBe(duplicate);
    expectNothingArrived(b);
    closeAll(a, b, ...others, ...(duplicate ? [h] : []));
    expectBaseline(before);
  });

  it('rights not a subset → INVALID_ARGS: MOVE source gone, DUPLICATE source stays', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    const f = pipeReadHandle();
    const ds = [move(x, ZX_OBJ_TYPE_NONE, ZX_RIGHT_DUPLICATE), dup(f, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WRITE)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_INVALID_ARGS);
    expectResults(ds, [ZX_ERR_INVALID_ARGS, ZX_ERR_INVALID_ARGS]);
    expect(isValid(x)).toBe(false);
    expect(isValid(f)).toBe(true);
    expect(basic(f).rights).toBe(PIPE_READ_RIGHTS);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expectNothingArrived(b);
    closeAll(a, b, y, f);
  });

  it.each([2, 7, 0x80000000, 0xffffffff])(
    'invalid operation %s → INVALID_ARGS and the source is closed anyway',
    (operation) => {
      const before = baseline();
      const [a, b] = channel();
      const [x, y] = channel();
      const f = pipeReadHandle();
      const ds: HandleDisposition[] = [
        { operation, handle: x, type: ZX_OBJ_TYPE_NONE, rights: ZX_RIGHT_SAME_RIGHTS, result: UNTOUCHED },
        { operation, handle: f, type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHT_SAME_RIGHTS, result: UNTOUCHED },
      ];
      expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_INVALID_ARGS);
      expectResults(ds, [ZX_ERR_INVALID_ARGS, ZX_ERR_INVALID_ARGS]);
      expect(isValid(x)).toBe(false);
      expect(isValid(f)).toBe(false);
      expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
      expectNothingArrived(b);
      closeAll(a, b, y);
      expectBaseline(before);
    },
  );

  it('invalid operation on a bad handle → BAD_HANDLE (lookup first)', () => {
    const [a, b] = channel();
    const ds: HandleDisposition[] = [
      { operation: 7, handle: staleHandle(), type: 0, rights: ZX_RIGHT_SAME_RIGHTS, result: UNTOUCHED },
    ];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectResults(ds, [ZX_ERR_BAD_HANDLE]);
    closeAll(a, b);
  });

  it('invalid operation on a handle without TRANSFER → INVALID_ARGS (operation before rights)', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    const xr = replace(x, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_TRANSFER);
    const ds: HandleDisposition[] = [
      { operation: 5, handle: xr, type: 0, rights: ZX_RIGHT_SAME_RIGHTS, result: UNTOUCHED },
    ];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_INVALID_ARGS);
    expect(isValid(xr)).toBe(false);
    closeAll(a, b, y);
  });

  it('no TRANSFER is checked before the type and the rights subset', () => {
    const [a, b] = channel();
    const f = replace(pipeReadHandle(), PIPE_READ_RIGHTS & ~ZX_RIGHT_TRANSFER);
    const ds = [dup(f, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectResults(ds, [ZX_ERR_ACCESS_DENIED]);
    closeAll(a, b, f);
  });

  it('the endpoint itself is checked before the type', () => {
    const [a, b] = channel();
    const ds = [move(a, ZX_OBJ_TYPE_FD)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(isValid(a)).toBe(false);
    closeAll(b);
  });

  it('the type is checked before the rights subset', () => {
    const [a, b] = channel();
    const f = pipeReadHandle();
    const ds = [dup(f, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_WRONG_TYPE);
    closeAll(a, b, f);
  });

  it('for DUPLICATE, the rights subset is checked before the DUPLICATE right', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    const ds = [dup(x, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_DUPLICATE)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_INVALID_ARGS);
    expect(isValid(x)).toBe(true);
    closeAll(a, b, x, y);
  });
});

describe('channelWriteEtc: the first error is latched, every entry is processed', () => {
  it.each([
    ['0b100', () => 0b100],
    ['a stale value', staleHandle],
  ])(
    '[ok, no TRANSFER, bad handle %s] → ACCESS_DENIED with results [untouched, ACCESS_DENIED, BAD_HANDLE]',
    (_n, bad) => {
      const before = baseline();
      const [a, b] = channel();
      const f = pipeReadHandle();
      const [x, y] = channel();
      const xr = replace(x, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_TRANSFER);
      const ds = [move(f), move(xr), move(bad())];
      expect(statusToString(sys.channelWriteEtc(a, 0, Buffer.from('never'), ds))).toBe('ZX_ERR_ACCESS_DENIED');
      expectResults(ds, [UNTOUCHED, ZX_ERR_ACCESS_DENIED, ZX_ERR_BAD_HANDLE]);
      // No message; the moved sources are gone (the ok one too).
      expectNothingArrived(b);
      expect(isValid(f)).toBe(false);
      expect(isValid(xr)).toBe(false);
      expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
      closeAll(a, b, y);
      expectBaseline(before);
    },
  );

  it('on failure MOVE sources are gone and DUPLICATE sources remain', () => {
    const before = baseline();
    const [a, b] = channel();
    const f1 = pipeReadHandle();
    const f2 = fileHandle('r');
    const [x, y] = channel();
    const ds = [dup(f1), move(x), dup(f2, ZX_OBJ_TYPE_FD), move(staleHandle()), dup(f1)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectResults(ds, [UNTOUCHED, UNTOUCHED, UNTOUCHED, ZX_ERR_BAD_HANDLE, UNTOUCHED]);
    expect(isValid(f1)).toBe(true);
    expect(isValid(f2)).toBe(true);
    expect(isValid(x)).toBe(false);
    expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    expectNothingArrived(b);
    closeAll(a, b, y, f1, f2);
    expectBaseline(before);
  });

  it('later failures still get their result written after the first', () => {
    const [a, b] = channel();
    const f = pipeReadHandle();
    const [x, y] = channel();
    const ds = [move(staleHandle()), dup(x), move(f, ZX_OBJ_TYPE_CHANNEL), move(0)];
    expect(sys.channelWriteEtc(a, 0, null, ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectResults(ds, [ZX_ERR_BAD_HANDLE, ZX_ERR_ACCESS_DENIED, ZX_ERR_WRONG_TYPE, ZX_ERR_BAD_HANDLE]);
    expect(isValid(x)).toBe(true);
    expect(isValid(f)).toBe(false);
    closeAll(a, b, x, y);
  });
});

describe('channelWriteEtc: errors before the dispositions', () => {
  /** MOVE of an endpoint (peer watched) and of an FD, DUPLICATE of an FD. */
  function cargo() {
    const [x, y] = channel();
    const moved = pipeReadHandle();
    const kept = fileHandle('r');
    const ds = [move(x), move(moved), dup(kept)];
    return { ds, x, y, moved, kept };
  }

  function expectCargoOutcome(c: ReturnType<typeof cargo>): void {
    expect(isValid(c.x)).toBe(false);
    expect(isValid(c.moved)).toBe(false);
    expect(isValid(c.kept)).toBe(true);
    expect(sys.objectWaitOne(c.y, ZX_CHANNEL_PEER_CLOSED, WAIT_5S()).status).toBe(ZX_OK);
    closeAll(c.y, c.kept);
  }

  it.each([1, 4, 0xfd])('options %s → INVALID_ARGS, before the handle', (options) => {
    const before = baseline();
    const [a, b] = channel();
    const c = cargo();
    expect(sys.channelWriteEtc(a, options, null, c.ds)).toBe(ZX_ERR_INVALID_ARGS);
    expectNothingArrived(b);
    expectCargoOutcome(c);
    const c2 = cargo();
    expect(sys.channelWriteEtc(staleHandle(), options, null, c2.ds)).toBe(ZX_ERR_INVALID_ARGS);
    expectCargoOutcome(c2);
    closeAll(a, b);
    expectBaseline(before);
  });

  it.each([
    ['0', () => 0],
    ['a stale value', staleHandle],
  ])('handle %s → BAD_HANDLE', (_n, make) => {
    const before = baseline();
    const c = cargo();
    expect(sys.channelWriteEtc(make(), 0, null, c.ds)).toBe(ZX_ERR_BAD_HANDLE);
    expectCargoOutcome(c);
    expectBaseline(before);
  });

  it('an FD handle as target → WRONG_TYPE', () => {
    const before = baseline();
    const t = fileHandle('r+');
    const c = cargo();
    expect(sys.channelWriteEtc(t, 0, null, c.ds)).toBe(ZX_ERR_WRONG_TYPE);
    expectCargoOutcome(c);
    closeAll(t);
    expectBaseline(before);
  });

  it('a target without WRITE → ACCESS_DENIED', () => {
    const before = baseline();
    const [a, b] = channel();
    const t = replace(a, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WRITE);
    const c = cargo();
    expect(sys.channelWriteEtc(t, 0, null, c.ds)).toBe(ZX_ERR_ACCESS_DENIED);
    expectCargoOutcome(c);
    expectNothingArrived(b);
    closeAll(t, b);
    expectBaseline(before);
  });

  it('65537 bytes → OUT_OF_RANGE', () => {
    const before = baseline();
    const [a, b] = channel();
    const c = cargo();
    expect(sys.channelWriteEtc(a, 0, new Uint8Array(65537), c.ds)).toBe(ZX_ERR_OUT_OF_RANGE);
    expectCargoOutcome(c);
    expectNothingArrived(b);
    closeAll(a, b);
    expectBaseline(before);
  });

  it('65 dispositions → OUT_OF_RANGE (64 are fine)', () => {
    const before = baseline();
    const [a, b] = channel();
    const f = pipeReadHandle();
    const ok = Array.from({ length: 64 }, () => dup(f));
    expect(sys.channelWriteEtc(a, 0, null, ok)).toBe(ZX_OK);
    const r = readEtc(b);
    expect(r.handles).toHaveLength(64);
    closeAll(...r.handles.map((h) => h.handle));

    const c = cargo();
    const tooMany = [...c.ds, ...Array.from({ length: 62 }, () => dup(f))];
    expect(tooMany).toHaveLength(65);
    expect(sys.channelWriteEtc(a, 0, null, tooMany)).toBe(ZX_ERR_OUT_OF_RANGE);
    expectCargoOutcome(c);
    expect(isValid(f)).toBe(true);
    expectNothingArrived(b);
    closeAll(a, b, f);
    expectBaseline(before);
  });

  it('iovec: 8193 chunks or more than 65536 bytes → OUT_OF_RANGE', () => {
    const [a, b] = channel();
    const c1 = cargo();
    const chunks = Array.from({ length: 8193 }, () => new Uint8Array(0));
    expect(sys.channelWriteEtc(a, ZX_CHANNEL_WRITE_USE_IOVEC, chunks, c1.ds)).toBe(ZX_ERR_OUT_OF_RANGE);
    expectCargoOutcome(c1);
    const c2 = cargo();
    expect(
      sys.channelWriteEtc(a, ZX_CHANNEL_WRITE_USE_IOVEC, [new Uint8Array(40000), new Uint8Array(25537)], c2.ds),
    ).toBe(ZX_ERR_OUT_OF_RANGE);
    expectCargoOutcome(c2);
    expectNothingArrived(b);
    closeAll(a, b);
  });

  it('the peer closed → PEER_CLOSED; MOVE sources gone, DUPLICATE sources stay', () => {
    const before = baseline();
    const [a, b] = channel();
    closeAll(b);
    const c = cargo();
    expect(sys.channelWriteEtc(a, 0, Buffer.from('lost'), c.ds)).toBe(ZX_ERR_PEER_CLOSED);
    expectCargoOutcome(c);
    closeAll(a);
    expectBaseline(before);
  });
});

describe('channelWriteEtc: payloads', () => {
  it('iovec chunks are concatenated', () => {
    const [a, b] = channel();
    const f = pipeReadHandle();
    expect(
      sys.channelWriteEtc(
        a,
        ZX_CHANNEL_WRITE_USE_IOVEC,
        [Buffer.from('wri'), Buffer.from('te_'), Buffer.from('etc')],
        [dup(f)],
      ),
    ).toBe(ZX_OK);
    const r = readEtc(b);
    expect(r.bytes.toString()).toBe('write_etc');
    expect(r.handles).toHaveLength(1);
    closeAll(a, b, f, r.handles[0].handle);
  });

  it('null bytes and null or empty dispositions send zero-byte messages', () => {
    const [a, b] = channel();
    expect(sys.channelWriteEtc(a, 0, null, null)).toBe(ZX_OK);
    expect(sys.channelWriteEtc(a, 0, new Uint8Array(0), [])).toBe(ZX_OK);
    for (let i = 0; i < 2; i++) {
      const r = readEtc(b);
      expect(r.actualBytes).toBe(0);
      expect(r.actualHandles).toBe(0);
    }
    expectNothingArrived(b);
    closeAll(a, b);
  });
});

describe('channelWriteEtc: JS misuse throws TypeError', () => {
  it('bad dispositions and bad bytes', () => {
    const [a, b] = channel();
    const f = pipeReadHandle();
    expect(() => sys.channelWriteEtc(a, 0, null, {} as unknown as HandleDisposition[])).toThrow(TypeError);
    expect(() => sys.channelWriteEtc(a, 0, null, [null as unknown as HandleDisposition])).toThrow(TypeError);
    expect(() =>
      sys.channelWriteEtc(a, 0, null, [
        { operation: 0, handle: 'x', type: 0, rights: 0, result: 0 } as unknown as HandleDisposition,
      ]),
    ).toThrow(TypeError);
    expect(() => sys.channelWriteEtc(a, 0, null, [{ handle: f } as unknown as HandleDisposition])).toThrow(TypeError);
    expect(() => sys.channelWriteEtc('1' as unknown as number, 0, null, null)).toThrow(TypeError);
    expect(() => sys.channelWriteEtc(a, 0, 7 as unknown as Uint8Array, null)).toThrow(TypeError);
    expectNothingArrived(b);
    expect(names([sys.channelWriteEtc(a, 0, null, null)])).toEqual(['ZX_OK']);
    closeAll(a, b);
    if (isValid(f)) closeAll(f);
  });
});
