// objectWaitOne, handleClose / handleCloseMany / handleDuplicate / handleReplace,
// objectGetInfo and statusToString (SPEC §2, reference §4.6–4.8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as constants from '../lib/constants';
import {
  fdio,
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
  ZX_ERR_NOT_FOUND,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_WRONG_TYPE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_TIMED_OUT,
  ZX_HANDLE_INVALID,
  ZX_INFO_HANDLE_BASIC,
  ZX_INFO_HANDLE_COUNT,
  ZX_INFO_HANDLE_TABLE,
  ZX_INFO_JOB,
  ZX_INFO_KMEM_STATS,
  ZX_INFO_NONE,
  ZX_INFO_PROCESS,
  ZX_INFO_PROCESS_HANDLE_STATS,
  ZX_INFO_SOCKET,
  ZX_INFO_STREAM,
  ZX_INFO_TASK_RUNTIME,
  ZX_INFO_THREAD,
  ZX_INFO_VMAR,
  ZX_INFO_VMO,
  ZX_INFO_HANDLE_VALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_NONE,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
  ZX_SIGNAL_HANDLE_CLOSED,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
} from '../lib/index';
import {
  baseline,
  basic,
  channel,
  closeAll,
  expectBaseline,
  fileHandle,
  isValid,
  pipeFds,
  pipeReadHandle,
  removeScratchDir,
  replace,
  runIsolated,
  signalsOf,
  staleHandle,
  warmUpWaits,
} from './fixtures/channels';
import { inWorker } from './fixtures/threads';
import { closeSync, writeSync } from 'node:fs';

beforeAll(() => warmUpWaits());
afterAll(() => removeScratchDir());

const PIPE_READ_RIGHTS = ZX_RIGHTS_BASIC | ZX_RIGHT_READ;

describe('objectWaitOne', () => {
  it.each([
    ['0', () => 0],
    ['a stale value', staleHandle],
    ['a value never handed out', () => 0x7ffffff7],
  ])('%s → BAD_HANDLE', (_n, make) => {
    expect(sys.objectWaitOne(make(), ZX_CHANNEL_READABLE, 0n).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectWaitOne(make(), ZX_CHANNEL_READABLE, ZX_TIME_INFINITE).status).toBe(ZX_ERR_BAD_HANDLE);
  });

  it('a handle without WAIT → ACCESS_DENIED, even when the signal is already set', () => {
    const [a, b] = channel();
    const noWait = replace(a, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WAIT);
    expect(sys.objectWaitOne(noWait, ZX_CHANNEL_WRITABLE, 0n).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectWaitOne(noWait, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE).status).toBe(ZX_ERR_ACCESS_DENIED);
    const f = replace(pipeReadHandle(), PIPE_READ_RIGHTS & ~ZX_RIGHT_WAIT);
    expect(sys.objectWaitOne(f, 0, 0n).status).toBe(ZX_ERR_ACCESS_DENIED);
    closeAll(noWait, b, f);
  });

  it('an already-satisfied wait returns OK at once, with any deadline (0, past, infinite)', () => {
    const [a, b] = channel();
    for (const deadline of [0n, ZX_TIME_INFINITE_PAST, -1n, ZX_TIME_INFINITE, sys.deadlineAfter(1_000_000n)]) {
      expect(sys.objectWaitOne(a, ZX_CHANNEL_WRITABLE, deadline)).toEqual({
        status: ZX_OK,
        observed: ZX_CHANNEL_WRITABLE,
      });
    }
    expect(sys.channelWrite(b, 0, null, null)).toBe(ZX_OK);
    expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE,
    });
    // Any one of several wanted signals is enough.
    expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_OK);
    closeAll(b);
    expect(sys.objectWaitOne(a, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
    });
    closeAll(a);
  });

  it('signals = 0 → TIMED_OUT with observed = the current state', () => {
    const [a, b] = channel();
    expect(sys.objectWaitOne(a, 0, 0n)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.channelWrite(b, 0, Buffer.from('x'), null)).toBe(ZX_OK);
    expect(sys.objectWaitOne(a, 0, 0n)).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE,
    });
    closeAll(b);
    expect(sys.objectWaitOne(a, 0, 0n)).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
    });
    closeAll(a);
  });

  it('ZX_TIME_INFINITE_PAST (and other far-past deadlines) only samples: TIMED_OUT at once', () => {
    // In a child process: a wait that wrongly blocks must not hang this file.
    const out = runIsolated(
      `
      const { sys } = zx;
      const results = [];
      for (const deadline of [zx.ZX_TIME_INFINITE_PAST, zx.ZX_TIME_INFINITE_PAST + 1n, -(2n ** 62n)]) {
        const { out0: a, out1: b } = sys.channelCreate(0);
        results.push(sys.objectWaitOne(a, 0, deadline));
        results.push(sys.objectWaitOne(a, zx.ZX_CHANNEL_READABLE, deadline));
        sys.channelWrite(b, 0, null, null);
        sys.handleClose(b);
        results.push(sys.objectWaitOne(a, 0, deadline));
        sys.handleClose(a);
      }
      console.log(JSON.stringify(results));
    `,
      5_000,
    );
    expect(out.timedOut).toBe(false);
    const one = [
      { status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE },
      { status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE },
      { status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED },
    ];
    expect(JSON.parse(out.stdout.trim())).toEqual([...one, ...one, ...one]);
  });

  it('an unsatisfied wait with a deadline in the past samples the state and times out', () => {
    const [a, b] = channel();
    expect(sys.objectWaitOne(a, ZX_CHANNEL_READABLE, 0n)).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_CHANNEL_WRITABLE,
    });
    expect(sys.objectWaitOne(a, ZX_CHANNEL_PEER_CLOSED, sys.clockGetMonotonic() - 1n).status).toBe(ZX_ERR_TIMED_OUT);
    closeAll(a, b);
  });

  it('a deadline in the near future → TIMED_OUT, no earlier than the deadline', () => {
    const [a, b] = channel();
    for (const timeout of [20_000_000n, 5_000_000n, 1n]) {
      const start = sys.clockGetMonotonic();
      const r = sys.objectWaitOne(a, ZX_CHANNEL_READABLE, sys.deadlineAfter(timeout));
      const elapsed = sys.clockGetMonotonic() - start;
      expect(r).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
      expect(elapsed >= timeout).toBe(true);
    }
    closeAll(a, b);
  });

  it('works on an FD handle (a pipe read end becomes readable once written)', () => {
    const [r, w] = pipeFds();
    const c = fdio.fdClone(r);
    expect(c.status).toBe(ZX_OK);
    expect(sys.objectWaitOne(c.handle, ZX_CHANNEL_READABLE, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    writeSync(w, 'x');
    expect(sys.objectWaitOne(c.handle, ZX_CHANNEL_READABLE, sys.deadlineAfter(5_000_000_000n)).status).toBe(ZX_OK);
    closeSync(r);
    closeSync(w);
    closeAll(c.handle);
  });

  it('deadlineAfter is now plus the delay, saturating at ZX_TIME_INFINITE', () => {
    const before = sys.clockGetMonotonic();
    const d = sys.deadlineAfter(1_000_000_000n);
    const after = sys.clockGetMonotonic();
    expect(d >= before + 1_000_000_000n && d <= after + 1_000_000_000n).toBe(true);
    expect(sys.deadlineAfter(ZX_TIME_INFINITE)).toBe(ZX_TIME_INFINITE);
    expect(typeof sys.clockGetMonotonic()).toBe('bigint');
  });

  it('JS misuse throws TypeError', () => {
    const [a, b] = channel();
    expect(() => sys.objectWaitOne('1' as unknown as number, 0, 0n)).toThrow(TypeError);
    expect(() => sys.objectWaitOne(a, 0, 1.5 as unknown as bigint)).toThrow(TypeError);
    expect(() => sys.objectWaitOne(a, 0, '0' as unknown as bigint)).toThrow(TypeError);
    closeAll(a, b);
  });
});

describe('handleClose / handleCloseMany', () => {
  it('handleClose(0) → OK', () => {
    expect(sys.handleClose(ZX_HANDLE_INVALID)).toBe(ZX_OK);
  });

  it('a stale value → BAD_HANDLE; closing twice → BAD_HANDLE the second time', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.handleClose(a)).toBe(ZX_OK);
    expect(sys.handleClose(a)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(staleHandle())).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(0x5a5a5a5b)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(0x4)).toBe(ZX_ERR_BAD_HANDLE);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.handleClose(b)).toBe(ZX_OK);
    expectBaseline(before);
  });

  it('handleCloseMany closes every valid entry even with bad ones in the list and answers BAD_HANDLE', () => {
    const before = baseline();
    const [a, b] = channel();
    const [c, d] = channel();
    const f = pipeReadHandle();
    expect(sys.handleCloseMany([a, staleHandle(), b, 0x5a5a5a5b, c, f])).toBe(ZX_ERR_BAD_HANDLE);
    for (const h of [a, b, c, f]) expect(isValid(h)).toBe(false);
    expect(signalsOf(d)).toBe(ZX_CHANNEL_PEER_CLOSED);
    closeAll(d);
    expectBaseline(before);
  });

  it('a duplicated entry is closed once and counts as bad', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.handleCloseMany([a, a, b])).toBe(ZX_ERR_BAD_HANDLE);
    expect(isValid(a)).toBe(false);
    expect(isValid(b)).toBe(false);
    expectBaseline(before);
  });

  it('ZX_HANDLE_INVALID entries are ignored; an empty list is OK', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.handleCloseMany([0, a, 0, b, 0])).toBe(ZX_OK);
    expect(sys.handleCloseMany([0, 0])).toBe(ZX_OK);
    expect(sys.handleCloseMany([])).toBe(ZX_OK);
    expect(isValid(a)).toBe(false);
    expect(isValid(b)).toBe(false);
    expectBaseline(before);
  });

  it('accepts a Uint32Array', () => {
    const [a, b] = channel();
    expect(sys.handleCloseMany(Uint32Array.of(a, b))).toBe(ZX_OK);
    expect(isValid(a) || isValid(b)).toBe(false);
  });

  it('a closed value is not handed out again soon', () => {
    const [a, b] = channel();
    closeAll(a, b);
    const made: number[] = [];
    for (let i = 0; i < 100; i++) made.push(...channel());
    expect(made).not.toContain(a);
    expect(made).not.toContain(b);
    expect(isValid(a)).toBe(false);
    expect(sys.handleClose(a)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(...made);
    // Nor after those are closed as well.
    const again: number[] = [];
    for (let i = 0; i < 100; i++) again.push(...channel());
    for (const old of [a, b, ...made]) expect(again).not.toContain(old);
    closeAll(...again);
  });

  it('JS misuse throws TypeError', () => {
    expect(() => sys.handleClose('3' as unknown as number)).toThrow(TypeError);
    expect(() => sys.handleCloseMany(['3'] as unknown as number[])).toThrow(TypeError);
    expect(() => sys.handleCloseMany(3 as unknown as number[])).toThrow(TypeError);
  });
});

describe('handleDuplicate', () => {
  it('a channel endpoint has no DUPLICATE right → ACCESS_DENIED, the source stays', () => {
    const [a, b] = channel();
    expect(basic(a).rights & ZX_RIGHT_DUPLICATE).toBe(0);
    expect(sys.handleDuplicate(a, ZX_RIGHT_SAME_RIGHTS)).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
      out: ZX_HANDLE_INVALID,
    });
    expect(sys.handleDuplicate(a, ZX_RIGHT_READ)).toEqual({ status: ZX_ERR_ACCESS_DENIED, out: ZX_HANDLE_INVALID });
    // No DUPLICATE is checked before the rights subset.
    expect(sys.handleDuplicate(a, ZX_RIGHT_DUPLICATE)).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
      out: ZX_HANDLE_INVALID,
    });
    expect(isValid(a)).toBe(true);
    closeAll(a, b);
  });

  it('BAD_HANDLE for 0 and stale values', () => {
    expect(sys.handleDuplicate(0, ZX_RIGHT_SAME_RIGHTS)).toEqual({ status: ZX_ERR_BAD_HANDLE, out: ZX_HANDLE_INVALID });
    expect(sys.handleDuplicate(staleHandle(), ZX_RIGHT_SAME_RIGHTS)).toEqual({
      status: ZX_ERR_BAD_HANDLE,
      out: ZX_HANDLE_INVALID,
    });
  });

  it('an FD handle (pipe end) duplicates with SAME_RIGHTS: a new value for the same object', () => {
    const before = baseline();
    const f = pipeReadHandle();
    const info = basic(f);
    expect(info.type).toBe(ZX_OBJ_TYPE_FD);
    expect(info.rights).toBe(PIPE_READ_RIGHTS);
    const d = sys.handleDuplicate(f, ZX_RIGHT_SAME_RIGHTS);
    expect(d.status).toBe(ZX_OK);
    expect(d.out).not.toBe(f);
    expect(d.out & 3).toBe(3);
    expect(basic(d.out)).toEqual(info);
    // Both stay valid, each closes on its own.
    closeAll(f);
    expect(isValid(d.out)).toBe(true);
    closeAll(d.out);
    expectBaseline(before);
  });

  it('a subset of the rights is OK and gives exactly those rights', () => {
    const f = pipeReadHandle();
    const d = sys.handleDuplicate(f, ZX_RIGHT_READ | ZX_RIGHT_TRANSFER);
    expect(d.status).toBe(ZX_OK);
    expect(basic(d.out).rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_TRANSFER);
    const none = sys.handleDuplicate(f, ZX_RIGHT_NONE);
    expect(none.status).toBe(ZX_OK);
    expect(basic(none.out).rights).toBe(0);
    closeAll(f, d.out, none.out);
  });

  it('rights not a subset → INVALID_ARGS, the source stays', () => {
    const f = pipeReadHandle();
    expect(sys.handleDuplicate(f, ZX_RIGHT_WRITE)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    expect(sys.handleDuplicate(f, PIPE_READ_RIGHTS | ZX_RIGHT_WRITE)).toEqual({
      status: ZX_ERR_INVALID_ARGS,
      out: ZX_HANDLE_INVALID,
    });
    expect(isValid(f)).toBe(true);
    expect(basic(f).rights).toBe(PIPE_READ_RIGHTS);
    closeAll(f);
  });

  it('an FD handle whose DUPLICATE was dropped → ACCESS_DENIED', () => {
    const f = replace(fileHandle('r'), PIPE_READ_RIGHTS & ~ZX_RIGHT_DUPLICATE);
    expect(sys.handleDuplicate(f, ZX_RIGHT_SAME_RIGHTS).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleDuplicate(f, ZX_RIGHT_WRITE).status).toBe(ZX_ERR_ACCESS_DENIED);
    closeAll(f);
  });
});

describe('handleReplace', () => {
  it('BAD_HANDLE for 0 and stale values', () => {
    expect(sys.handleReplace(0, ZX_RIGHT_SAME_RIGHTS)).toEqual({ status: ZX_ERR_BAD_HANDLE, out: ZX_HANDLE_INVALID });
    expect(sys.handleReplace(staleHandle(), ZX_RIGHT_SAME_RIGHTS)).toEqual({
      status: ZX_ERR_BAD_HANDLE,
      out: ZX_HANDLE_INVALID,
    });
  });

  it('SAME_RIGHTS keeps the rights; the old value is invalid afterwards', () => {
    const before = baseline();
    const [a, b] = channel();
    const info = basic(a);
    const r = sys.handleReplace(a, ZX_RIGHT_SAME_RIGHTS);
    expect(r.status).toBe(ZX_OK);
    expect(r.out).not.toBe(a);
    expect(r.out & 3).toBe(3);
    expect(isValid(a)).toBe(false);
    expect(sys.channelWrite(a, 0, null, null)).toBe(ZX_ERR_BAD_HANDLE);
    expect(basic(r.out)).toEqual(info);
    // Same endpoint: the peer did not see a close.
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.channelWrite(r.out, 0, Buffer.from('same'), null)).toBe(ZX_OK);
    expect(sys.channelRead(b, 0, 65536, 64).bytes.toString()).toBe('same');
    closeAll(r.out, b);
    expectBaseline(before);
  });

  it('a subset of the rights (no rights needed to replace) gives exactly those rights', () => {
    const [a, b] = channel();
    const r1 = sys.handleReplace(a, ZX_RIGHT_READ | ZX_RIGHT_WAIT);
    expect(r1.status).toBe(ZX_OK);
    expect(basic(r1.out).rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_WAIT);
    const r2 = sys.handleReplace(r1.out, ZX_RIGHT_NONE);
    expect(r2.status).toBe(ZX_OK);
    expect(basic(r2.out).rights).toBe(0);
    const r3 = sys.handleReplace(r2.out, ZX_RIGHT_SAME_RIGHTS);
    expect(r3.status).toBe(ZX_OK);
    expect(basic(r3.out)).toEqual({
      koid: basic(b).relatedKoid,
      rights: 0,
      type: ZX_OBJ_TYPE_CHANNEL,
      relatedKoid: basic(b).koid,
    });
    closeAll(r3.out, b);
  });

  it('rights not a subset → INVALID_ARGS and the source is gone (the peer sees PEER_CLOSED)', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.handleReplace(a, ZX_RIGHT_DUPLICATE)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    expect(isValid(a)).toBe(false);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelWrite(b, 0, null, null)).toBe(ZX_ERR_PEER_CLOSED);
    const f = pipeReadHandle();
    expect(sys.handleReplace(f, ZX_RIGHT_WRITE).status).toBe(ZX_ERR_INVALID_ARGS);
    expect(isValid(f)).toBe(false);
    closeAll(b);
    expectBaseline(before);
  });

  it('replacing an FD handle keeps the type and koid', () => {
    const f = fileHandle('r+');
    const info = basic(f);
    const r = sys.handleReplace(f, ZX_RIGHT_READ | ZX_RIGHT_TRANSFER);
    expect(r.status).toBe(ZX_OK);
    expect(basic(r.out)).toEqual({ ...info, rights: ZX_RIGHT_READ | ZX_RIGHT_TRANSFER });
    closeAll(r.out);
  });
});

describe('objectGetInfo', () => {
  it('HANDLE_VALID → OK for a live handle, BAD_HANDLE otherwise; info is null', () => {
    const [a, b] = channel();
    expect(sys.objectGetInfo(a, ZX_INFO_HANDLE_VALID)).toEqual({ status: ZX_OK, info: null });
    // Needs no rights.
    const bare = replace(b, ZX_RIGHT_NONE);
    expect(sys.objectGetInfo(bare, ZX_INFO_HANDLE_VALID)).toEqual({ status: ZX_OK, info: null });
    expect(sys.objectGetInfo(0, ZX_INFO_HANDLE_VALID)).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
    expect(sys.objectGetInfo(staleHandle(), ZX_INFO_HANDLE_VALID)).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
    closeAll(a, bare);
    expect(sys.objectGetInfo(a, ZX_INFO_HANDLE_VALID)).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
  });

  it('HANDLE_BASIC gives koid, rights, type and relatedKoid (koids are bigint)', () => {
    const [a, b] = channel();
    const r = sys.objectGetInfo(a, ZX_INFO_HANDLE_BASIC);
    expect(r.status).toBe(ZX_OK);
    expect(Object.keys(r.info!).sort()).toEqual(['koid', 'relatedKoid', 'rights', 'type']);
    expect(typeof r.info!.koid).toBe('bigint');
    expect(typeof r.info!.relatedKoid).toBe('bigint');
    expect(r.info!.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(r.info!.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(r.info!.koid >> 63n).toBe(1n);
    expect(r.info!.relatedKoid).toBe(basic(b).koid);
    closeAll(a, b);
  });

  it('HANDLE_BASIC works on a handle with no rights, and on FD handles (relatedKoid 0)', () => {
    const [a, b] = channel();
    const bare = replace(a, ZX_RIGHT_NONE);
    expect(basic(bare).rights).toBe(0);
    expect(basic(bare).type).toBe(ZX_OBJ_TYPE_CHANNEL);
    const f = fileHandle('r');
    const info = basic(f);
    expect(info.type).toBe(ZX_OBJ_TYPE_FD);
    expect(info.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_READ);
    expect(info.koid >> 63n).toBe(1n);
    expect(info.relatedKoid).toBe(0n);
    closeAll(bare, b, f);
  });

  it('HANDLE_BASIC on a bad handle → BAD_HANDLE with info null', () => {
    expect(sys.objectGetInfo(0, ZX_INFO_HANDLE_BASIC)).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
    expect(sys.objectGetInfo(staleHandle(), ZX_INFO_HANDLE_BASIC)).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
  });

  it('an unknown topic → NOT_SUPPORTED, before the handle is looked at (as Zircon)', () => {
    const [a, b] = channel();
    for (const topic of [ZX_INFO_NONE, 5, 6, 37, 9999, 0x7fffffff, ZX_INFO_HANDLE_BASIC | 0x10000000]) {
      expect(sys.objectGetInfo(a, topic)).toEqual({ status: ZX_ERR_NOT_SUPPORTED, info: null });
      expect(sys.objectGetInfo(0, topic)).toEqual({ status: ZX_ERR_NOT_SUPPORTED, info: null });
      expect(sys.objectGetInfo(staleHandle(), topic)).toEqual({ status: ZX_ERR_NOT_SUPPORTED, info: null });
    }
    closeAll(a, b);
  });

  it('a topic Zircon knows for objects this library lacks: BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED, as Zircon looks them up', () => {
    const [a, b] = channel();
    const bare = replace(b, ZX_RIGHT_NONE);
    for (const topic of [
      ZX_INFO_PROCESS,
      ZX_INFO_PROCESS_HANDLE_STATS, // no handle names a process: README.md, Differences
      ZX_INFO_THREAD,
      ZX_INFO_JOB,
      ZX_INFO_VMAR,
      ZX_INFO_HANDLE_TABLE,
      ZX_INFO_KMEM_STATS,
      ZX_INFO_STREAM,
    ]) {
      expect(sys.objectGetInfo(staleHandle(), topic).status).toBe(ZX_ERR_BAD_HANDLE);
      expect(sys.objectGetInfo(a, topic).status).toBe(ZX_ERR_WRONG_TYPE);
      expect(sys.objectGetInfo(bare, topic).status).toBe(ZX_ERR_WRONG_TYPE); // the type before the rights
    }
    // A typed topic on another type: WRONG_TYPE before the missing right.
    expect(sys.objectGetInfo(bare, ZX_INFO_SOCKET).status).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.objectGetInfo(bare, ZX_INFO_VMO).status).toBe(ZX_ERR_WRONG_TYPE);
    // TASK_RUNTIME takes any handle with INSPECT, then wants a task.
    expect(sys.objectGetInfo(staleHandle(), ZX_INFO_TASK_RUNTIME).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectGetInfo(bare, ZX_INFO_TASK_RUNTIME).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectGetInfo(a, ZX_INFO_TASK_RUNTIME).status).toBe(ZX_ERR_WRONG_TYPE);
    // HANDLE_COUNT takes any handle with INSPECT.
    expect(sys.objectGetInfo(bare, ZX_INFO_HANDLE_COUNT).status).toBe(ZX_ERR_ACCESS_DENIED);
    closeAll(a, bare);
  });

  it('JS misuse throws TypeError', () => {
    expect(() => sys.objectGetInfo('1' as unknown as number, ZX_INFO_HANDLE_VALID)).toThrow(TypeError);
    expect(() => sys.objectGetInfo(3, '1' as unknown as number)).toThrow(TypeError);
  });
});

describe('statusToString', () => {
  it('names statuses by their C names', () => {
    expect(statusToString(ZX_OK)).toBe('ZX_OK');
    expect(statusToString(ZX_ERR_PEER_CLOSED)).toBe('ZX_ERR_PEER_CLOSED');
    expect(statusToString(-11)).toBe('ZX_ERR_BAD_HANDLE');
    expect(statusToString(-21)).toBe('ZX_ERR_TIMED_OUT');
    expect(statusToString(-15)).toBe('ZX_ERR_BUFFER_TOO_SMALL');
    expect(statusToString(-42)).toBe('ZX_ERR_IO_DATA_INTEGRITY');
  });

  it('every exported status maps back to its own name', () => {
    const entries = Object.entries(constants).filter(([n]) => n === 'ZX_OK' || n.startsWith('ZX_ERR_'));
    expect(entries.length).toBeGreaterThan(30);
    for (const [name, value] of entries) expect(statusToString(value as number)).toBe(name);
    expect(sys.statusToString).toBe(statusToString);
  });

  it('an unknown value is described, not thrown', () => {
    expect(statusToString(-9999)).toBe('ZX_ERR_UNKNOWN(-9999)');
    expect(statusToString(12345)).toBe('ZX_ERR_UNKNOWN(12345)');
  });
});

describe('handleReplace with a channelCall pending on the endpoint', () => {
  // Zircon: the handle's value changes, the object does not; the call completes. A wait
  // on the old value ends (CANCELED), as for any handle leaving the table.
  const reply = (server: number, text: string) => {
    const request = sys.channelRead(server, 0, 64, 0);
    expect(request.status).toBe(ZX_OK);
    const bytes = Buffer.concat([request.bytes.subarray(0, 4), Buffer.from(text)]);
    expect(sys.channelWrite(server, 0, bytes, null)).toBe(ZX_OK);
  };
  const args = { bytes: Buffer.from('....ask'), handles: null, readNumBytes: 64, readNumHandles: 0 };

  it('channelCallAsync completes with the reply; a wait on the old value is CANCELED', async () => {
    const before = baseline();
    const [client, server] = channel();
    const call = sys.channelCallAsync(client, 0, ZX_TIME_INFINITE, args);
    const wait = sys.objectWaitOneAsync(client, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    const replaced = replace(client, ZX_RIGHT_SAME_RIGHTS);
    expect(await wait).toEqual({ status: ZX_ERR_CANCELED, observed: ZX_SIGNAL_HANDLE_CLOSED | ZX_CHANNEL_WRITABLE });
    reply(server, 'answer');
    const r = await call;
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.subarray(4).toString()).toBe('answer');
    expect(signalsOf(replaced)).toBe(ZX_CHANNEL_WRITABLE); // the reply went to the call, not the queue
    closeAll(replaced, server);
    expectBaseline(before);
  });

  it('channelCallAsync after a replace still ends CANCELED when the new value is closed', async () => {
    const [client, server] = channel();
    const call = sys.channelCallAsync(client, 0, ZX_TIME_INFINITE, args);
    const replaced = replace(client, ZX_RIGHT_SAME_RIGHTS);
    const again = replace(replaced, ZX_DEFAULT_CHANNEL_RIGHTS);
    closeAll(again);
    expect((await call).status).toBe(ZX_ERR_CANCELED);
    closeAll(server);
  });

  it('channelCall (blocking) completes when another thread replaces its handle and answers', async () => {
    const [client, server] = channel();
    const helper = inWorker(
      `whenBlocked(MAIN_THREAD, () => {
         const r = sys.handleReplace(workerData.client, zx.ZX_RIGHT_SAME_RIGHTS);
         const request = sys.channelRead(workerData.server, 0, 64, 0);
         const bytes = Buffer.concat([request.bytes.subarray(0, 4), Buffer.from('answer')]);
         parentPort.postMessage({ replaced: r, wrote: sys.channelWrite(workerData.server, 0, bytes, null) });
       });`,
      { client, server },
    );
    const r = sys.channelCall(client, 0, sys.deadlineAfter(20_000_000_000n), args);
    const done = await helper.message;
    expect(await helper.exited).toBe(0);
    expect(done.replaced.status).toBe(ZX_OK);
    expect(done.wrote).toBe(ZX_OK);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.subarray(4).toString()).toBe('answer');
    expect(isValid(client)).toBe(false);
    closeAll(done.replaced.out, server);
  });
});

describe('handleCheckValid', () => {
  it('INVALID_ARGS for 0, OUT_OF_RANGE without both low bits, NOT_FOUND for no handle, else OK', () => {
    const [a, b] = channel();
    expect(sys.handleCheckValid(a)).toBe(ZX_OK);
    expect(sys.handleCheckValid(replace(b, ZX_RIGHT_NONE))).toBe(ZX_OK);
    expect(sys.handleCheckValid(ZX_HANDLE_INVALID)).toBe(ZX_ERR_INVALID_ARGS);
    for (const low of [0b100, a & ~1, a & ~2]) expect(sys.handleCheckValid(low)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.handleCheckValid(staleHandle())).toBe(ZX_ERR_NOT_FOUND);
    expect(sys.handleCheckValid(0x5a5a5a5b)).toBe(ZX_ERR_NOT_FOUND);
    expect(() => sys.handleCheckValid(-1)).toThrow(TypeError);
    closeAll(a);
    expect(sys.handleCheckValid(a)).toBe(ZX_ERR_NOT_FOUND);
  });
});

describe('objectGetInfo ZX_INFO_HANDLE_COUNT', () => {
  it('counts the handles to the object in this process; needs INSPECT', () => {
    const [a, b] = channel();
    const count = (h: number) => sys.objectGetInfo(h, ZX_INFO_HANDLE_COUNT);
    expect(count(a)).toEqual({ status: ZX_OK, info: { handleCount: 1 } });
    const f = fileHandle('r');
    const f2 = sys.handleDuplicate(f, ZX_RIGHT_SAME_RIGHTS).out;
    const f3 = sys.handleDuplicate(f, ZX_RIGHT_WAIT).out;
    expect(count(f)).toEqual({ status: ZX_OK, info: { handleCount: 3 } });
    expect(count(f3)).toEqual({ status: ZX_ERR_ACCESS_DENIED, info: null });
    closeAll(f2);
    expect(count(f)).toEqual({ status: ZX_OK, info: { handleCount: 2 } });
    expect(count(staleHandle())).toEqual({ status: ZX_ERR_BAD_HANDLE, info: null });
    closeAll(a, b, f, f3);
  });
});
