// VMOs (memfds): every status of zx_vmo_create/read/write/get_size/set_size in Zircon's
// order, mappings shared between processes and unmapped on collection or on request,
// rights the OS enforces (a read-only descriptor, a read-only mapping that faults), and
// VMOs travelling through channels and as startup handles. Every case ends with this
// process's descriptors and handles back where they started.
import { spawn as nodeSpawn } from 'node:child_process';
import { closeSync, fstatSync, readdirSync, readFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  fdio,
  prepareStartupHandles,
  sys,
  Vmo,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_SOCKET_RIGHTS,
  ZX_DEFAULT_VMO_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_CANCELED,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_NO_MEMORY,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_NOT_FOUND,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_TIMED_OUT,
  ZX_ERR_UNAVAILABLE,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_INVALID,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_HANDLE_OP_MOVE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_VMO,
  ZX_OK,
  ZX_PAGE_SIZE,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_MAP,
  ZX_RIGHT_NONE,
  ZX_RIGHT_READ,
  ZX_RIGHT_RESIZE,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_WRITE,
  ZX_TIME_INFINITE,
  ZX_VMO_DISCARDABLE,
  ZX_VMO_RESIZABLE,
  ZX_VMO_ZERO_CHILDREN,
  ZX_INFO_VMO,
  ZX_PROP_NAME,
  ZX_PROP_PROCESS_DEBUG_ADDR,
  ZX_PROP_REGISTER_FS,
  ZX_PROP_SOCKET_RX_THRESHOLD,
  ZX_PROP_VMO_CONTENT_SIZE,
  ZX_RIGHT_GET_PROPERTY,
  ZX_RIGHT_SET_PROPERTY,
  ZX_INFO_VMO_IS_COW_CLONE,
  ZX_INFO_VMO_RESIZABLE,
  ZX_INFO_VMO_TYPE_PAGED,
  ZX_VMO_CHILD_NO_WRITE,
  ZX_VMO_CHILD_REFERENCE,
  ZX_VMO_CHILD_SLICE,
  ZX_VMO_CHILD_SNAPSHOT,
  ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE,
  ZX_VMO_CHILD_SNAPSHOT_MODIFIED,
  ZX_VMO_OP_CACHE_CLEAN,
  ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
  ZX_VMO_OP_CACHE_INVALIDATE,
  ZX_VMO_OP_CACHE_SYNC,
  ZX_VMO_OP_COMMIT,
  ZX_VMO_OP_DECOMMIT,
  ZX_VMO_OP_DONT_NEED,
  ZX_VMO_OP_LOCK,
  ZX_VMO_OP_TRY_LOCK,
  ZX_VMO_OP_UNLOCK,
  ZX_VMO_OP_ZERO,
} from '../lib/index';
import { native } from '../lib/native';
import { basic, channel } from './fixtures/channels';
import { duplicate as dup, sizeOf, vmo as create } from './fixtures/core';
import { expectZxError, thrownBy } from './fixtures/errors';
import { fixture, spawnWithEndpoint, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { baseline, expectBaseline, type Proc, start, user, watch, type Baseline } from './fixtures/proc-helpers';
import { countsFixedVmoPages, portable, VMO_MAPPING } from './fixtures/backend';

const PAGE = ZX_PAGE_SIZE;
const READ_ONLY = ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE;
const RESIZABLE_RIGHTS = ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE;
// The largest VMO: the largest page multiple a file offset (off_t) can hold.
const MAX_VMO = 2n ** 63n - BigInt(PAGE);
const MAX_MAPPING = bufferConstants.MAX_LENGTH;
const O_RDONLY = 0;
const O_RDWR = 2;

let base: Baseline;

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});
beforeEach(() => {
  base = baseline();
});
afterEach(async () => {
  await expectBaseline(base);
});

function text(h: number, length: number, offset: number | bigint): string {
  const r = sys.vmoRead(h, length, offset);
  expect(r.status).toBe(ZX_OK);
  return r.bytes.toString();
}

/** The access modes (O_RDONLY, O_RDWR) of every descriptor this process holds on the
 *  memory behind a VMO handle (found by inode; fdCreate of a duplicate names it). */
function accessModes(h: number): number[] {
  const { status, fd } = fdio.fdCreate(dup(h, ZX_RIGHT_SAME_RIGHTS));
  expect(status).toBe(ZX_OK);
  const { ino, dev } = fstatSync(fd);
  closeSync(fd);
  const modes: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    let same = false;
    try {
      const st = fstatSync(Number(name));
      same = st.ino === ino && st.dev === dev;
    } catch {
      // the directory's own descriptor, already gone
    }
    if (!same) continue;
    const flags = /flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${name}`, 'utf8'))![1];
    modes.push(parseInt(flags, 8) & 3);
  }
  return modes.sort();
}

/** The permissions ('rw-s', 'r--s') of this process's VMO mappings. */
function mappingPerms(): string[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => VMO_MAPPING.test(l))
    .map((l) => l.split(/\s+/)[1]);
}

/** The next message on `h`, waiting without blocking the event loop. */
async function receive(h: number, why: () => string) {
  const { status, observed } = await sys.objectWaitOneAsync(
    h,
    ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED,
    sys.deadlineAfter(20_000_000_000n),
  );
  if (status !== ZX_OK || !(observed & ZX_CHANNEL_READABLE))
    throw new Error(`no message (${status}, ${observed}): ${why()}`);
  const r = sys.channelReadEtc(h, 0, 65536, 64);
  expect(r.status).toBe(ZX_OK);
  return r;
}

// A child running fixtures/vmo-child.cjs, driven over a channel.
interface VmoChild {
  proc: Proc;
  /** Sends one request (moving `handles` with it) and resolves with the reply. */
  ask(request: object, handles?: number[]): Promise<any>;
  /** Asks the child to exit and resolves with how it ended. */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ch: number;
}

function driven(proc: Proc, ch: number): VmoChild {
  return {
    proc,
    ch,
    async ask(request, handles = []) {
      expect(sys.channelWrite(ch, 0, Buffer.from(JSON.stringify(request)), handles)).toBe(ZX_OK);
      const r = await receive(ch, proc.stderr);
      return JSON.parse(r.bytes.toString());
    },
    async exit() {
      expect(sys.channelWrite(ch, 0, Buffer.from(JSON.stringify({ op: 'exit' })), null)).toBe(ZX_OK);
      const end = await proc.closed;
      expect(sys.handleClose(ch)).toBe(ZX_OK);
      return end;
    },
  };
}

/** Starts vmo-child.cjs with a channel (and `vmo`, moved, as its "startup" VMO). */
function startChild(vmo?: number, nodeArgs: string[] = []): VmoChild {
  const [ours, theirs] = channel();
  const handles = [{ id: user(0), handle: theirs }];
  if (vmo !== undefined) handles.push({ id: user(1), handle: vmo });
  return driven(start(process.execPath, [...nodeArgs, fixture('vmo-child.cjs')], handles), ours);
}

describe('vmoCreate', () => {
  it('makes a zero-filled VMO with the default rights, its size rounded up to the page size', () => {
    const cases: [number | bigint, bigint][] = [
      [0, 0n],
      [1, BigInt(PAGE)],
      [PAGE, BigInt(PAGE)],
      [PAGE + 1, 2n * BigInt(PAGE)],
      [3n * BigInt(PAGE) + 1n, 4n * BigInt(PAGE)],
    ];
    for (const [size, rounded] of cases) {
      const h = create(size);
      expect(h & 3).toBe(3);
      const { type, rights, koid, relatedKoid } = basic(h);
      expect({ type, rights, relatedKoid }).toEqual({
        type: ZX_OBJ_TYPE_VMO,
        rights: ZX_DEFAULT_VMO_RIGHTS,
        relatedKoid: 0n,
      });
      expect(koid >> 63n).toBe(1n);
      expect(sizeOf(h)).toBe(rounded);
      const all = sys.vmoRead(h, rounded, 0);
      expect(all.status).toBe(ZX_OK);
      expect(all.bytes.equals(Buffer.alloc(Number(rounded)))).toBe(true);
      expect(sys.handleClose(h)).toBe(ZX_OK);
    }
  });

  it('gives ZX_RIGHT_RESIZE only with ZX_VMO_RESIZABLE, and accepts ZX_VMO_DISCARDABLE', () => {
    const resizable = create(PAGE, ZX_VMO_RESIZABLE);
    expect(basic(resizable).rights).toBe(RESIZABLE_RIGHTS);
    const discardable = create(PAGE, ZX_VMO_DISCARDABLE);
    expect(basic(discardable).rights).toBe(ZX_DEFAULT_VMO_RIGHTS);
    const both = create(PAGE, ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE);
    expect(basic(both).rights).toBe(RESIZABLE_RIGHTS);
    expect(sys.handleCloseMany([resizable, discardable, both])).toBe(ZX_OK);
  });

  it('answers OUT_OF_RANGE for a size too large, before it looks at the options', () => {
    // The largest size is fine (memory is only used as it is written).
    const largest = create(MAX_VMO);
    expect(sizeOf(largest)).toBe(MAX_VMO);
    expect(sys.handleClose(largest)).toBe(ZX_OK);
    for (const size of [MAX_VMO + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(sys.vmoCreate(size, 0)).toEqual({ status: ZX_ERR_OUT_OF_RANGE, out: ZX_HANDLE_INVALID });
      expect(sys.vmoCreate(size, 0x80)).toEqual({ status: ZX_ERR_OUT_OF_RANGE, out: ZX_HANDLE_INVALID });
    }
  });

  it('answers INVALID_ARGS for any option bit it does not know', () => {
    for (const options of [1, 0x8, 0x80, 0x80000000, ZX_VMO_RESIZABLE | 0x10]) {
      expect(sys.vmoCreate(PAGE, options)).toEqual({ status: ZX_ERR_INVALID_ARGS, out: ZX_HANDLE_INVALID });
    }
  });

  it('answers NO_RESOURCES when the process has no descriptor left for the memfd', async () => {
    const [ours, theirs] = channel();
    const proc = start(
      'sh',
      ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, fixture('vmo-child.cjs')],
      [{ id: user(0), handle: theirs }],
    );
    const child = driven(proc, ours);
    expect(await child.ask({ op: 'crowded' })).toEqual({ status: ZX_ERR_NO_RESOURCES, out: ZX_HANDLE_INVALID });
    expect(await child.exit()).toEqual({ code: 0, signal: null });
  });

  it('throws TypeError for a size or options that are not numbers of the right kind', () => {
    for (const size of [-1, 1.5, 2 ** 53, NaN, '4096', null, -1n, 2n ** 64n]) {
      expect(() => sys.vmoCreate(size as never, 0)).toThrow(TypeError);
    }
    for (const options of [-1, 1.5, '0', 2 ** 32]) {
      expect(() => sys.vmoCreate(PAGE, options as never)).toThrow(TypeError);
    }
  });
});

describe('vmoRead and vmoWrite', () => {
  it('move bytes at any offset within the size; offsets and lengths may be bigints', () => {
    const h = create(3 * PAGE);
    expect(sys.vmoWrite(h, Buffer.from('at the start'), 0)).toBe(ZX_OK);
    expect(sys.vmoWrite(h, Buffer.from('across a page boundary'), PAGE - 6)).toBe(ZX_OK);
    expect(sys.vmoWrite(h, Buffer.from('the very end'), 3n * BigInt(PAGE) - 12n)).toBe(ZX_OK);
    expect(sys.vmoWrite(h, new Uint8Array(0), 3 * PAGE)).toBe(ZX_OK);
    expect(text(h, 12, 0)).toBe('at the start');
    expect(text(h, 22, BigInt(PAGE - 6))).toBe('across a page boundary');
    const end = sys.vmoRead(h, 12n, 3 * PAGE - 12);
    expect(end.bytes.toString()).toBe('the very end');
    const empty = sys.vmoRead(h, 0, 3 * PAGE);
    expect(empty.status).toBe(ZX_OK);
    expect(empty.bytes.length).toBe(0);
    // A large write and read in one call each.
    const big = Buffer.alloc(3 * PAGE, 0x5a);
    expect(sys.vmoWrite(h, big, 0)).toBe(ZX_OK);
    expect(sys.vmoRead(h, 3 * PAGE, 0).bytes.equals(big)).toBe(true);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('check BAD_HANDLE, then WRONG_TYPE, then ACCESS_DENIED, then OUT_OF_RANGE', () => {
    const h = create(PAGE);
    const [c0, c1] = channel();
    const noRead = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
    const noWrite = dup(h, READ_ONLY);
    const closed = create(PAGE);
    expect(sys.handleClose(closed)).toBe(ZX_OK);
    const byte = Buffer.from('x');
    const failedRead = (status: number) => ({ status, bytes: Buffer.alloc(0) });

    for (const bad of [ZX_HANDLE_INVALID, closed, 0x7ffffff3]) {
      expect(sys.vmoRead(bad, 1, PAGE)).toEqual(failedRead(ZX_ERR_BAD_HANDLE));
      expect(sys.vmoWrite(bad, byte, PAGE)).toBe(ZX_ERR_BAD_HANDLE);
    }
    // Each request below is also out of range: the earlier check wins.
    expect(sys.vmoRead(c0, 1, PAGE)).toEqual(failedRead(ZX_ERR_WRONG_TYPE));
    expect(sys.vmoWrite(c0, byte, PAGE)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.vmoRead(noRead, 1, PAGE)).toEqual(failedRead(ZX_ERR_ACCESS_DENIED));
    expect(sys.vmoWrite(noWrite, byte, PAGE)).toBe(ZX_ERR_ACCESS_DENIED);
    // The right ones pass.
    expect(sys.vmoWrite(noRead, byte, 0)).toBe(ZX_OK);
    expect(text(noWrite, 1, 0)).toBe('x');

    // Out of range: past the end, an offset past the size even for zero bytes, and an end
    // that would wrap around 2^64.
    expect(sys.vmoRead(h, PAGE + 1, 0)).toEqual(failedRead(ZX_ERR_OUT_OF_RANGE));
    expect(sys.vmoRead(h, 1, PAGE)).toEqual(failedRead(ZX_ERR_OUT_OF_RANGE));
    expect(sys.vmoRead(h, 0, PAGE + 1)).toEqual(failedRead(ZX_ERR_OUT_OF_RANGE));
    expect(sys.vmoRead(h, 2, 2n ** 64n - 1n)).toEqual(failedRead(ZX_ERR_OUT_OF_RANGE));
    expect(sys.vmoWrite(h, byte, PAGE)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, Buffer.alloc(PAGE + 1), 0)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, new Uint8Array(0), PAGE + 1)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, Buffer.from('xy'), 2n ** 64n - 1n)).toBe(ZX_ERR_OUT_OF_RANGE);
    // Nothing was written by the failures; the size did not change.
    expect(sys.vmoRead(h, PAGE, 0).bytes.equals(Buffer.concat([byte, Buffer.alloc(PAGE - 1)]))).toBe(true);
    expect(sizeOf(h)).toBe(BigInt(PAGE));
    expect(sys.handleCloseMany([h, c0, c1, noRead, noWrite])).toBe(ZX_OK);
  });

  it('read answers NO_MEMORY for a valid range longer than any Buffer can be', () => {
    const h = create(BigInt(MAX_MAPPING) + BigInt(PAGE));
    expect(sys.vmoRead(h, MAX_MAPPING + 1, 0)).toEqual({ status: ZX_ERR_NO_MEMORY, bytes: Buffer.alloc(0) });
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('throw TypeError for misuse, and read nothing', () => {
    const h = create(PAGE);
    expect(() => sys.vmoWrite(h, 'text' as never, 0)).toThrow(TypeError);
    expect(() => sys.vmoWrite(h, null as never, 0)).toThrow(TypeError);
    expect(() => sys.vmoWrite(h, Buffer.from('x'), -1)).toThrow(TypeError);
    expect(() => sys.vmoRead(h, -1, 0)).toThrow(TypeError);
    expect(() => sys.vmoRead(h, 1, 0.5)).toThrow(TypeError);
    expect(() => sys.vmoRead('3' as never, 1, 0)).toThrow(TypeError);
    expect(text(h, 1, 0)).toBe('\0');
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });
});

describe('vmoGetSize and vmoSetSize', () => {
  it('getSize needs no right; it answers BAD_HANDLE, then WRONG_TYPE', () => {
    const h = create(2 * PAGE);
    const bare = dup(h, ZX_RIGHT_NONE);
    expect(basic(bare).rights).toBe(0);
    expect(sys.vmoGetSize(bare)).toEqual({ status: ZX_OK, size: 2n * BigInt(PAGE) });
    const [c0, c1] = channel();
    expect(sys.vmoGetSize(ZX_HANDLE_INVALID)).toEqual({ status: ZX_ERR_BAD_HANDLE, size: 0n });
    expect(sys.vmoGetSize(c0)).toEqual({ status: ZX_ERR_WRONG_TYPE, size: 0n });
    expect(sys.handleCloseMany([h, bare, c0, c1])).toBe(ZX_OK);
  });

  it('setSize resizes a resizable VMO, rounding up; what lies past the size in its last page reads as zero', () => {
    const h = create(2 * PAGE, ZX_VMO_RESIZABLE);
    expect(sys.vmoWrite(h, Buffer.alloc(2 * PAGE, 0xff), 0)).toBe(ZX_OK);
    expect(sys.vmoSetSize(h, 100)).toBe(ZX_OK);
    expect(sizeOf(h)).toBe(BigInt(PAGE));
    const page = sys.vmoRead(h, PAGE, 0).bytes;
    expect(page.subarray(0, 100).equals(Buffer.alloc(100, 0xff))).toBe(true);
    expect(page.subarray(100).equals(Buffer.alloc(PAGE - 100))).toBe(true);
    // Growing: the new pages are zero and usable.
    expect(sys.vmoSetSize(h, 3n * BigInt(PAGE) - 1n)).toBe(ZX_OK);
    expect(sizeOf(h)).toBe(3n * BigInt(PAGE));
    expect(sys.vmoRead(h, 2 * PAGE, PAGE).bytes.equals(Buffer.alloc(2 * PAGE))).toBe(true);
    expect(sys.vmoWrite(h, Buffer.from('end'), 3 * PAGE - 3)).toBe(ZX_OK);
    expect(sys.vmoSetSize(h, 0)).toBe(ZX_OK);
    expect(sizeOf(h)).toBe(0n);
    expect(sys.vmoRead(h, 1, 0).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('setSize answers BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED without WRITE (or RESIZE on a resizable VMO), UNAVAILABLE, then OUT_OF_RANGE', () => {
    const resizable = create(PAGE, ZX_VMO_RESIZABLE);
    const fixed = create(PAGE);
    const noWrite = dup(resizable, RESIZABLE_RIGHTS & ~ZX_RIGHT_WRITE);
    const noResize = dup(resizable, ZX_DEFAULT_VMO_RIGHTS);
    const [c0, c1] = channel();
    expect(sys.vmoSetSize(ZX_HANDLE_INVALID, 2n ** 64n - 1n)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.vmoSetSize(c0, 2n ** 64n - 1n)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.vmoSetSize(noWrite, 2n ** 64n - 1n)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.vmoSetSize(noResize, 2n ** 64n - 1n)).toBe(ZX_ERR_ACCESS_DENIED);
    // A VMO created without ZX_VMO_RESIZABLE has no RESIZE right, as on Zircon, and answers
    // UNAVAILABLE (Zircon asks for RESIZE only of a VMO that can change size).
    expect(sys.vmoSetSize(fixed, 2 * PAGE)).toBe(ZX_ERR_UNAVAILABLE);
    // Too large: a size whose rounding wraps, one past the largest file.
    expect(sys.vmoSetSize(resizable, 2n ** 64n - 1n)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoSetSize(resizable, MAX_VMO + 1n)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sizeOf(resizable)).toBe(BigInt(PAGE));
    expect(sizeOf(fixed)).toBe(BigInt(PAGE));
    // The largest size. On the portable backend a resizable VMO is a temporary file, whose
    // file system may hold less (ext4: 16 TiB, EFBIG: OUT_OF_RANGE): a TiB there.
    const largest = portable ? 2n ** 40n : MAX_VMO;
    expect(sys.vmoSetSize(resizable, largest)).toBe(ZX_OK);
    expect(sizeOf(noResize)).toBe(largest);
    expect(() => sys.vmoSetSize(resizable, -1)).toThrow(TypeError);
    expect(sys.handleCloseMany([resizable, fixed, noWrite, noResize, c0, c1])).toBe(ZX_OK);
  });
});

describe('mappings', () => {
  it('map gives an ArrayBuffer over the whole VMO, the same memory as vmoRead/vmoWrite and every other mapping', () => {
    const vmo = Vmo.create(2 * PAGE);
    const a = vmo.map();
    const b = vmo.map();
    expect(a).toBeInstanceOf(ArrayBuffer);
    expect(a.byteLength).toBe(2 * PAGE);
    expect(mappingPerms()).toEqual(['rw-s', 'rw-s']);
    new Uint8Array(a).set(Buffer.from('through a'), PAGE - 2);
    expect(Buffer.from(b, PAGE - 2, 9).toString()).toBe('through a');
    expect(vmo.read(9, PAGE - 2).toString()).toBe('through a');
    vmo.write('through vmoWrite', 10);
    expect(Buffer.from(a, 10, 16).toString()).toBe('through vmoWrite');
    vmo.unmap(a);
    vmo.unmap(b);
    expect(mappingPerms()).toEqual([]);
    vmo.close();
  });

  it('through a handle without WRITE the mapping is read-only', () => {
    const h = create(PAGE);
    expect(sys.vmoWrite(h, Buffer.from('shared'), 0)).toBe(ZX_OK);
    const readOnly = new Vmo(dup(h, READ_ONLY));
    const buffer = readOnly.map();
    expect(mappingPerms()).toEqual(['r--s']);
    expect(Buffer.from(buffer, 0, 6).toString()).toBe('shared');
    // (A write through it faults: proven in a child below.)
    Vmo.unmap(buffer);
    readOnly.close();
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('map answers BAD_HANDLE, WRONG_TYPE, ACCESS_DENIED without MAP or READ, NOT_SUPPORTED for a resizable VMO without allowFaults, INVALID_ARGS for an empty VMO, NO_MEMORY past the longest ArrayBuffer', () => {
    const h = create(PAGE);
    const [c0, c1] = channel();
    const noMap = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_MAP);
    const noRead = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
    const resizable = create(0, ZX_VMO_RESIZABLE);
    const resizableNoMap = dup(resizable, RESIZABLE_RIGHTS & ~ZX_RIGHT_MAP);
    const empty = create(0);
    const huge = create(BigInt(MAX_MAPPING) + 1n);
    expect(native.vmoMap(ZX_HANDLE_INVALID, MAX_MAPPING, false)).toBe(ZX_ERR_BAD_HANDLE);
    expect(native.vmoMap(c0, MAX_MAPPING, false)).toBe(ZX_ERR_WRONG_TYPE);
    expect(native.vmoMap(noMap, MAX_MAPPING, false)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(native.vmoMap(noRead, MAX_MAPPING, false)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(native.vmoMap(resizableNoMap, MAX_MAPPING, false)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(native.vmoMap(resizable, MAX_MAPPING, false)).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(native.vmoMap(resizable, MAX_MAPPING, true)).toBe(ZX_ERR_INVALID_ARGS); // empty
    expect(native.vmoMap(empty, MAX_MAPPING, false)).toBe(ZX_ERR_INVALID_ARGS);
    expect(native.vmoMap(huge, MAX_MAPPING, false)).toBe(ZX_ERR_NO_MEMORY);
    // The class throws them as ZxError.
    const noMapVmo = new Vmo(noMap);
    expect(() => noMapVmo.map()).toThrow(
      expect.objectContaining({ status: ZX_ERR_ACCESS_DENIED, code: 'ZX_ERR_ACCESS_DENIED', operation: 'Vmo.map' }),
    );
    noMapVmo.close();
    expect(mappingPerms()).toEqual([]);
    expect(sys.handleCloseMany([h, c0, c1, noRead, resizable, resizableNoMap, empty, huge])).toBe(ZX_OK);
  });

  it('unmap detaches the buffer (every view goes empty) and removes the mapping; anything else is refused', () => {
    const vmo = Vmo.create(PAGE);
    const buffer = vmo.map();
    const view = new Uint8Array(buffer);
    const words = new Int32Array(buffer, 8, 4);
    view[0] = 7;
    expect(mappingPerms()).toHaveLength(1);
    vmo.unmap(buffer);
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(words.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(mappingPerms()).toEqual([]);
    expect(vmo.read(1, 0)[0]).toBe(7);
    // Twice, an ArrayBuffer of our own, or something else entirely.
    expect(() => vmo.unmap(buffer)).toThrow(expect.objectContaining({ status: ZX_ERR_NOT_FOUND }));
    expect(native.vmoUnmap(new ArrayBuffer(PAGE))).toBe(ZX_ERR_NOT_FOUND);
    expect(() => Vmo.unmap(new Uint8Array(8) as never)).toThrow(TypeError);
    expect(() => Vmo.unmap({} as never)).toThrow(TypeError);
    vmo.close();
  });

  it('a mapping outlives the handle it came from', () => {
    const vmo = Vmo.create(PAGE);
    vmo.write('still here', 0);
    const buffer = vmo.map();
    vmo.close();
    expect(Buffer.from(buffer, 0, 10).toString()).toBe('still here');
    new Uint8Array(buffer)[0] = 'S'.charCodeAt(0);
    expect(Buffer.from(buffer, 0, 10).toString()).toBe('Still here');
    Vmo.unmap(buffer);
    expect(mappingPerms()).toEqual([]);
  });

  it('a mapping is unmapped when its buffer is collected (a child run with --expose-gc)', async () => {
    const child = startChild(create(PAGE), ['--expose-gc']);
    expect(await child.ask({ op: 'mapAndDrop', count: 3 })).toEqual({ lines: 3 });
    expect(await child.ask({ op: 'collect' })).toEqual({ lines: 0 });
    // An explicit unmap there too: the buffer is empty at once and its line is gone.
    expect(await child.ask({ op: 'map', name: 'startup' })).toEqual({ byteLength: PAGE, perms: ['rw-s'] });
    expect(await child.ask({ op: 'unmap', name: 'startup' })).toEqual({ byteLength: 0, lines: 0 });
    expect(await child.exit()).toEqual({ code: 0, signal: null });
  });
});

describe('signals', () => {
  it('a VMO asserts ZX_VMO_ZERO_CHILDREN and nothing else, however it is waited on', async () => {
    const h = create(PAGE);
    expect(sys.objectWaitOne(h, ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: ZX_VMO_ZERO_CHILDREN,
    });
    // A memfd polls readable and writable: that must not show.
    expect(sys.objectWaitOne(h, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE, sys.deadlineAfter(1_000_000n))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_VMO_ZERO_CHILDREN,
    });
    expect(await sys.objectWaitOneAsync(h, ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE)).toEqual({
      status: ZX_OK,
      observed: ZX_VMO_ZERO_CHILDREN,
    });
    expect(await sys.objectWaitOneAsync(h, ZX_CHANNEL_READABLE, sys.deadlineAfter(5_000_000n))).toEqual({
      status: ZX_ERR_TIMED_OUT,
      observed: ZX_VMO_ZERO_CHILDREN,
    });
    const [c0, c1] = channel();
    const items = [
      { handle: h, waitfor: ZX_CHANNEL_READABLE, pending: 0 },
      { handle: c0, waitfor: ZX_CHANNEL_WRITABLE, pending: 0 },
    ];
    expect(sys.objectWaitMany(items, ZX_TIME_INFINITE)).toBe(ZX_OK);
    expect(items.map((i) => i.pending)).toEqual([ZX_VMO_ZERO_CHILDREN, ZX_CHANNEL_WRITABLE]);
    // A wait that can't be satisfied ends when the handle is closed.
    const pending = sys.objectWaitOneAsync(h, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
    expect(sys.handleClose(h)).toBe(ZX_OK);
    expect((await pending).status).toBe(ZX_ERR_CANCELED);
    expect(sys.handleCloseMany([c0, c1])).toBe(ZX_OK);
  });
});

describe('VMO handles', () => {
  it('handleDuplicate and handleReplace reduce rights on the same object', () => {
    const h = create(PAGE);
    const koid = basic(h).koid;
    const reader = dup(h, READ_ONLY);
    expect(basic(reader)).toMatchObject({ koid, rights: READ_ONLY, type: ZX_OBJ_TYPE_VMO });
    const replaced = sys.handleReplace(reader, ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
    expect(replaced.status).toBe(ZX_OK);
    expect(basic(replaced.out)).toMatchObject({ koid, rights: ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE });
    expect(sys.vmoWrite(h, Buffer.from('same object'), 0)).toBe(ZX_OK);
    expect(text(replaced.out, 11, 0)).toBe('same object');
    expect(sys.vmoWrite(replaced.out, Buffer.from('x'), 0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(native.vmoMap(replaced.out, MAX_MAPPING, false)).toBe(ZX_ERR_ACCESS_DENIED);
    // More rights than the source has: INVALID_ARGS (and replace consumed its source).
    expect(sys.handleDuplicate(replaced.out, ZX_RIGHT_READ | ZX_RIGHT_WRITE).status).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.handleReplace(dup(h, READ_ONLY), ZX_DEFAULT_VMO_RIGHTS).status).toBe(ZX_ERR_INVALID_ARGS);
    // As a plain descriptor (fdio.fdCreate), a handle without WRITE is a read-only one.
    for (const [rights, mode] of [
      [READ_ONLY, O_RDONLY],
      [ZX_DEFAULT_VMO_RIGHTS, O_RDWR],
    ]) {
      const { status, fd } = fdio.fdCreate(dup(h, rights));
      expect(status).toBe(ZX_OK);
      const flags = /flags:\s*([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1];
      expect(parseInt(flags, 8) & 3).toBe(mode);
      closeSync(fd);
    }
    expect(sys.handleCloseMany([h, replaced.out])).toBe(ZX_OK);
  });

  it('travel through channels with type checks; channelReadEtc shows their type and rights; one sent without WRITE arrives read-only', () => {
    const h = create(PAGE);
    const koid = basic(h).koid;
    const [a, b] = channel();
    const [c0, c1] = channel();
    const disposition = (
      handle: number,
      type: number,
      rights = ZX_RIGHT_SAME_RIGHTS,
      operation = ZX_HANDLE_OP_MOVE,
    ) => ({
      operation,
      handle,
      type,
      rights,
      result: ZX_OK,
    });
    // Wrong types: refused, and the moved handle is consumed.
    const victim = dup(h, ZX_RIGHT_SAME_RIGHTS);
    const wrong = [disposition(victim, ZX_OBJ_TYPE_CHANNEL)];
    expect(sys.channelWriteEtc(a, 0, null, wrong)).toBe(ZX_ERR_WRONG_TYPE);
    expect(wrong[0].result).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.vmoGetSize(victim).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.channelWriteEtc(a, 0, null, [disposition(c1, ZX_OBJ_TYPE_VMO)])).toBe(ZX_ERR_WRONG_TYPE);
    // Rights the handle doesn't have: INVALID_ARGS.
    expect(
      sys.channelWriteEtc(a, 0, null, [disposition(dup(h, READ_ONLY), ZX_OBJ_TYPE_VMO, ZX_DEFAULT_VMO_RIGHTS)]),
    ).toBe(ZX_ERR_INVALID_ARGS);

    // A duplicate without WRITE, and the original moved as it is.
    expect(sys.vmoWrite(h, Buffer.from('before'), 0)).toBe(ZX_OK);
    const sent = [disposition(h, ZX_OBJ_TYPE_VMO, READ_ONLY, ZX_HANDLE_OP_DUPLICATE)];
    expect(sys.channelWriteEtc(a, 0, Buffer.from('ro'), sent)).toBe(ZX_OK);
    expect(sys.channelWriteEtc(a, 0, Buffer.from('rw'), [disposition(h, ZX_OBJ_TYPE_VMO)])).toBe(ZX_OK);
    expect(sys.vmoGetSize(h).status).toBe(ZX_ERR_BAD_HANDLE);
    const ro = sys.channelReadEtc(b, 0, 64, 4);
    const rw = sys.channelReadEtc(b, 0, 64, 4);
    expect(ro.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_VMO, rights: READ_ONLY },
    ]);
    expect(rw.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_VMO, rights: ZX_DEFAULT_VMO_RIGHTS },
    ]);
    const reader = ro.handles[0].handle;
    const writer = rw.handles[0].handle;
    expect(basic(reader).koid).toBe(koid);
    expect(basic(writer).koid).toBe(koid);
    // Both see the same memory; the read-only one can't write.
    expect(accessModes(writer)).toEqual([O_RDONLY, O_RDWR]);
    expect(sys.vmoWrite(reader, Buffer.from('x'), 0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.vmoWrite(writer, Buffer.from('after!'), 0)).toBe(ZX_OK);
    expect(text(reader, 6, 0)).toBe('after!');

    // Plain channelWrite moves a VMO with its rights; the class face gives a Vmo.
    const [x, y] = [new Channel(a), new Channel(b)];
    x.write('vmo', [new Vmo(writer)]);
    const message = y.tryRead()!;
    expect(message.handles[0]).toBeInstanceOf(Vmo);
    const received = message.handles[0] as Vmo;
    expect(received.rights).toBe(ZX_DEFAULT_VMO_RIGHTS);
    expect(received.read(6, 0).toString()).toBe('after!');
    received.close();
    // With the writable one gone, what is left here on that memory is one read-only descriptor.
    expect(accessModes(reader)).toEqual([O_RDONLY]);
    x.close();
    y.close();
    expect(sys.handleCloseMany([reader, c0])).toBe(ZX_OK);
  });
});

describe('VMOs between processes', () => {
  it('a VMO written by one process is read through a mapping in another, and the other way round', async () => {
    const vmo = Vmo.create(3 * PAGE);
    vmo.write('from the parent', 5000);
    const child = startChild();
    expect(await child.ask({ op: 'take', name: 'v' }, [vmo.duplicate().release()])).toEqual({
      type: ZX_OBJ_TYPE_VMO,
      rights: ZX_DEFAULT_VMO_RIGHTS,
      koid: String(vmo.koid),
    });
    expect(await child.ask({ op: 'fdFlags', name: 'v' })).toEqual({ accmodes: [O_RDWR] });
    expect(await child.ask({ op: 'map', name: 'v' })).toEqual({ byteLength: 3 * PAGE, perms: ['rw-s'] });
    expect(await child.ask({ op: 'mapRead', name: 'v', offset: 5000, length: 15 })).toEqual({
      text: 'from the parent',
    });
    expect(await child.ask({ op: 'mapWrite', name: 'v', offset: 9000, text: 'from the child' })).toEqual({
      written: true,
    });
    expect(vmo.read(14, 9000).toString()).toBe('from the child');
    // And a mapping here against a plain read there.
    const mine = vmo.map();
    expect(Buffer.from(mine, 9000, 14).toString()).toBe('from the child');
    new Uint8Array(mine).set(Buffer.from('parent mapping'), 100);
    expect(await child.ask({ op: 'read', name: 'v', length: 14, offset: '100' })).toEqual({
      status: ZX_OK,
      text: 'parent mapping',
    });
    expect(await child.ask({ op: 'write', name: 'v', text: 'child vmoWrite', offset: '200' })).toEqual({
      status: ZX_OK,
    });
    expect(Buffer.from(mine, 200, 14).toString()).toBe('child vmoWrite');
    vmo.unmap(mine);
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    vmo.close();
  });

  it('a duplicate without WRITE sent to a child is read-only there: ACCESS_DENIED, an O_RDONLY descriptor, a read-only mapping', async () => {
    const h = create(PAGE, ZX_VMO_RESIZABLE);
    expect(sys.vmoWrite(h, Buffer.from('look, no writes'), 0)).toBe(ZX_OK);
    const child = startChild();
    // Sent with RESIZE but without WRITE: a read-only descriptor allows neither.
    const readOnly = RESIZABLE_RIGHTS & ~ZX_RIGHT_WRITE;
    expect(await child.ask({ op: 'take', name: 'ro' }, [dup(h, readOnly)])).toMatchObject({
      type: ZX_OBJ_TYPE_VMO,
      rights: readOnly & ~ZX_RIGHT_RESIZE,
    });
    expect(await child.ask({ op: 'write', name: 'ro', text: 'x', offset: '0' })).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
    });
    expect(await child.ask({ op: 'setSize', name: 'ro', size: String(2 * PAGE) })).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
    });
    expect(await child.ask({ op: 'read', name: 'ro', length: 15, offset: '0' })).toEqual({
      status: ZX_OK,
      text: 'look, no writes',
    });
    expect(await child.ask({ op: 'fdFlags', name: 'ro' })).toEqual({ accmodes: [O_RDONLY] });
    expect(await child.ask({ op: 'map', name: 'ro', allowFaults: true })).toEqual({
      byteLength: PAGE,
      perms: ['r--s'],
    });
    expect(await child.ask({ op: 'mapRead', name: 'ro', offset: 6, length: 3 })).toEqual({ text: 'no ' });
    // Its own duplicates there are read-only too.
    expect(await child.ask({ op: 'dup', name: 'ro', as: 'again', rights: ZX_RIGHT_SAME_RIGHTS })).toEqual({
      status: ZX_OK,
    });
    expect(await child.ask({ op: 'fdFlags', name: 'again' })).toEqual({ accmodes: [O_RDONLY] });
    expect(await child.ask({ op: 'write', name: 'again', text: 'x', offset: '0' })).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
    });
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    expect(text(h, 15, 0)).toBe('look, no writes');
    expect(sizeOf(h)).toBe(BigInt(PAGE));
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('writing through a read-only mapping kills the child with SIGSEGV, received read-only or reduced there', async () => {
    const h = create(PAGE);
    // Received without WRITE (an O_RDONLY descriptor).
    const first = startChild();
    await first.ask({ op: 'take', name: 'ro' }, [dup(h, READ_ONLY)]);
    expect(await first.ask({ op: 'map', name: 'ro' })).toEqual({ byteLength: PAGE, perms: ['r--s'] });
    expect(
      sys.channelWrite(
        first.ch,
        0,
        Buffer.from(JSON.stringify({ op: 'mapWrite', name: 'ro', offset: 0, text: 'boom' })),
        null,
      ),
    ).toBe(ZX_OK);
    expect(await first.proc.closed).toEqual({ code: null, signal: 'SIGSEGV' });
    // Received with WRITE, duplicated there without it (a read-write descriptor, mapped
    // PROT_READ).
    const second = startChild();
    await second.ask({ op: 'take', name: 'rw' }, [dup(h, ZX_RIGHT_SAME_RIGHTS)]);
    expect(await second.ask({ op: 'dup', name: 'rw', as: 'ro', rights: READ_ONLY })).toEqual({ status: ZX_OK });
    expect(await second.ask({ op: 'fdFlags', name: 'ro' })).toEqual({ accmodes: [O_RDWR] });
    expect(await second.ask({ op: 'map', name: 'ro' })).toEqual({ byteLength: PAGE, perms: ['r--s'] });
    expect(
      sys.channelWrite(
        second.ch,
        0,
        Buffer.from(JSON.stringify({ op: 'mapWrite', name: 'ro', offset: 0, text: 'boom' })),
        null,
      ),
    ).toBe(ZX_OK);
    expect(await second.proc.closed).toEqual({ code: null, signal: 'SIGSEGV' });
    expect(sys.vmoRead(h, PAGE, 0).bytes.equals(Buffer.alloc(PAGE))).toBe(true);
    expect(sys.handleCloseMany([h, first.ch, second.ch])).toBe(ZX_OK);
  });

  it('a resize is seen by every process that holds the VMO', async () => {
    const h = create(PAGE, ZX_VMO_RESIZABLE);
    const child = startChild();
    await child.ask({ op: 'take', name: 'v' }, [dup(h, ZX_RIGHT_SAME_RIGHTS)]);
    expect(await child.ask({ op: 'setSize', name: 'v', size: String(3 * PAGE + 1) })).toEqual({ status: ZX_OK });
    expect(sizeOf(h)).toBe(4n * BigInt(PAGE));
    expect(await child.ask({ op: 'write', name: 'v', text: 'in the new pages', offset: String(3 * PAGE) })).toEqual({
      status: ZX_OK,
    });
    expect(text(h, 16, 3 * PAGE)).toBe('in the new pages');
    expect(sys.vmoSetSize(h, PAGE)).toBe(ZX_OK);
    expect(await child.ask({ op: 'getSize', name: 'v' })).toEqual({ status: ZX_OK, size: String(PAGE) });
    expect(await child.ask({ op: 'read', name: 'v', length: 1, offset: String(PAGE) })).toEqual({
      status: ZX_ERR_OUT_OF_RANGE,
      text: '',
    });
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('a mapping of a resizable VMO, asked for with allowFaults, keeps its length: touching what a shrink took away kills the process (SIGBUS)', async () => {
    const h = create(2 * PAGE, ZX_VMO_RESIZABLE);
    const child = startChild();
    await child.ask({ op: 'take', name: 'v' }, [dup(h, ZX_RIGHT_SAME_RIGHTS)]);
    expect(await child.ask({ op: 'map', name: 'v' })).toEqual({ status: ZX_ERR_NOT_SUPPORTED });
    expect(await child.ask({ op: 'map', name: 'v', allowFaults: true })).toEqual({
      byteLength: 2 * PAGE,
      perms: ['rw-s'],
    });
    expect(sys.vmoSetSize(h, PAGE)).toBe(ZX_OK);
    // Still mapped below the new size.
    expect(await child.ask({ op: 'mapWrite', name: 'v', offset: 10, text: 'kept' })).toEqual({ written: true });
    expect(text(h, 4, 10)).toBe('kept');
    expect(
      sys.channelWrite(
        child.ch,
        0,
        Buffer.from(JSON.stringify({ op: 'mapRead', name: 'v', offset: PAGE + 10, length: 4 })),
        null,
      ),
    ).toBe(ZX_OK);
    expect(await child.proc.closed).toEqual({ code: null, signal: 'SIGBUS' });
    expect(sys.handleCloseMany([h, child.ch])).toBe(ZX_OK);
  });

  it('a VMO travels as a startup handle, with its identity and contents; a read-only one as a read-only descriptor', async () => {
    const h = create(PAGE);
    const koid = String(basic(h).koid);
    expect(sys.vmoWrite(h, Buffer.from('startup contents'), 0)).toBe(ZX_OK);
    const reader = dup(h, READ_ONLY);
    const child = startChild(h);
    expect(await child.ask({ op: 'info', name: 'startup' })).toEqual({
      type: ZX_OBJ_TYPE_VMO,
      rights: ZX_DEFAULT_VMO_RIGHTS,
      koid,
    });
    expect(await child.ask({ op: 'read', name: 'startup', length: 16, offset: '0' })).toEqual({
      status: ZX_OK,
      text: 'startup contents',
    });
    expect(await child.ask({ op: 'fdFlags', name: 'startup' })).toEqual({ accmodes: [O_RDWR] });
    expect(await child.exit()).toEqual({ code: 0, signal: null });

    const second = startChild(reader);
    expect(await second.ask({ op: 'info', name: 'startup' })).toEqual({
      type: ZX_OBJ_TYPE_VMO,
      rights: READ_ONLY,
      koid,
    });
    expect(await second.ask({ op: 'fdFlags', name: 'startup' })).toEqual({ accmodes: [O_RDONLY] });
    expect(await second.ask({ op: 'write', name: 'startup', text: 'x', offset: '0' })).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
    });
    expect(await second.exit()).toEqual({ code: 0, signal: null });
  });

  it('rights a launcher claims are cut to what the descriptor allows; a VMO of fixed size claimed resizable answers UNAVAILABLE', async () => {
    const fixed = create(PAGE);
    const reader = dup(fixed, READ_ONLY);
    const [ours, theirs] = channel();
    const prepared = prepareStartupHandles([
      { id: user(0), handle: theirs },
      { id: user(1), handle: fixed },
      { id: user(2), handle: reader },
    ]);
    // A launcher that is not this library claims every VMO right for both.
    const entries = JSON.parse(Object.values(prepared.env)[0]);
    for (const entry of entries.slice(1)) entry.rights = RESIZABLE_RIGHTS;
    const proc = nodeSpawn(process.execPath, [fixture('vmo-child.cjs')], {
      stdio: ['ignore', 'pipe', 'pipe', ...prepared.fds],
      env: { ...process.env, [Object.keys(prepared.env)[0]]: JSON.stringify(entries) },
    });
    prepared.close();
    const child = driven(watch(proc), ours);
    expect(await child.ask({ op: 'info', name: 'startup' })).toMatchObject({ rights: RESIZABLE_RIGHTS });
    // Zircon's order: a size whose rounding wraps, then resizability.
    expect(await child.ask({ op: 'setSize', name: 'startup', size: String(2n ** 64n - 1n) })).toEqual({
      status: ZX_ERR_OUT_OF_RANGE,
    });
    expect(await child.ask({ op: 'setSize', name: 'startup', size: String(2 ** 63) })).toEqual({
      status: ZX_ERR_UNAVAILABLE,
    });
    expect(await child.ask({ op: 'setSize', name: 'startup', size: String(2 * PAGE) })).toEqual({
      status: ZX_ERR_UNAVAILABLE,
    });
    expect(await child.ask({ op: 'getSize', name: 'startup' })).toEqual({ status: ZX_OK, size: String(PAGE) });
    // The read-only descriptor allows neither WRITE nor RESIZE, whatever was claimed.
    expect(await child.ask({ op: 'info', name: 'startup2' })).toMatchObject({
      rights: RESIZABLE_RIGHTS & ~(ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE),
    });
    expect(await child.ask({ op: 'write', name: 'startup2', text: 'x', offset: '0' })).toEqual({
      status: ZX_ERR_ACCESS_DENIED,
    });
    expect(await child.ask({ op: 'close', name: 'startup' })).toEqual({ status: ZX_OK });
    expect(await child.ask({ op: 'fdFlags', name: 'startup2' })).toEqual({ accmodes: [O_RDONLY] });
    expect(await child.exit()).toEqual({ code: 0, signal: null });
  });
});

describe('a holder that shrinks the memory', () => {
  it('of fixed size: refused by the seals on the linux backend; on the portable one Linux lets it (macOS would not), and vmoRead/vmoWrite here answer OUT_OF_RANGE, never SIGBUS', async () => {
    const fixed = Vmo.create(2 * PAGE);
    fixed.write('second page', PAGE);
    const child = startChild();
    await child.ask({ op: 'take', name: 'v' }, [fixed.duplicate().release()]);
    // The linux backend's memfd is sealed against shrinking (EPERM). The portable backend's
    // shared-memory object can be sized once only on macOS (EINVAL); its Linux imitation, a
    // file in /dev/shm, can't refuse (docs/objects.md, "VMOs on the portable backend").
    expect(await child.ask({ op: 'truncate', name: 'v', size: '0' })).toEqual({
      error: portable ? null : 'EPERM',
    });
    const expected = portable ? ZX_ERR_OUT_OF_RANGE : ZX_OK;
    const r = sys.vmoRead(fixed.raw, 11, PAGE);
    expect(r.status).toBe(expected);
    if (!portable) expect(r.bytes.toString()).toBe('second page');
    expect(sys.vmoWrite(fixed.raw, Buffer.from('x'), 0)).toBe(expected);
    expect(sys.vmoOpRange(fixed.raw, ZX_VMO_OP_ZERO, 0, PAGE)).toBe(expected);
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    fixed.close();
  });

  it('resizable: on both backends reads answer OUT_OF_RANGE past the new end and map() is refused', async () => {
    const resizable = Vmo.create(2 * PAGE, { resizable: true });
    const child = startChild();
    await child.ask({ op: 'take', name: 'v' }, [resizable.duplicate().release()]);
    expect(await child.ask({ op: 'truncate', name: 'v', size: String(PAGE) })).toEqual({ error: null });
    expect(resizable.size).toBe(BigInt(PAGE));
    expect(sys.vmoRead(resizable.raw, 1, PAGE).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(resizable.raw, Buffer.from('x'), PAGE)).toBe(ZX_ERR_OUT_OF_RANGE);
    expectZxError(
      thrownBy(() => resizable.map()),
      ZX_ERR_NOT_SUPPORTED,
      'Vmo.map',
    );
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    resizable.close();
  });
});

describe('a writer that is not this library', () => {
  // Its VMOs' memory is what the backend makes (test/fixtures/zx_memory.py): memfds, or on
  // the portable backend a shared-memory object (fixed size) or an unlinked temporary file
  // (resizable), with no seals there: what a write seal takes away on the linux backend
  // stays (docs/objects.md, "VMOs on the portable backend").
  it('a pipe sent as a VMO is refused; memory arrives with the rights its descriptors and (linux backend) seals allow', async () => {
    const [ch, theirs] = channel();
    const writer = spawnWithEndpoint('python3', [fixture('vmo-foreign.py')], theirs);
    const why = () => writer.stderr();
    await sys.objectWaitOneAsync(ch, ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000_000_000n));
    expect(sys.channelReadEtc(ch, 0, 64, 4)).toMatchObject({ status: ZX_ERR_IO_DATA_INTEGRITY, handles: [] });

    const r = await receive(ch, why);
    expect(r.bytes.toString()).toBe('memory');
    const all = RESIZABLE_RIGHTS;
    const readOnly = all & ~(ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_VMO, rights: all }, // open
      { type: ZX_OBJ_TYPE_VMO, rights: readOnly }, // rdonly
      { type: ZX_OBJ_TYPE_VMO, rights: all }, // fixed: its size can't change, but RESIZE claimed
      { type: ZX_OBJ_TYPE_VMO, rights: portable ? all : readOnly }, // sealed against writes (linux)
    ]);
    const [open, rdonly, fixed, sealed] = r.handles.map((h) => h.handle);
    expect(basic(rdonly).koid).toBe(0x8000000000f00003n);
    for (const h of [open, rdonly, fixed, sealed]) expect(text(h, 7, 0)).toBe('foreign');

    // open and rdonly are the same memory.
    expect(sys.vmoWrite(open, Buffer.from('FOREIGN'), 0)).toBe(ZX_OK);
    expect(text(rdonly, 7, 0)).toBe('FOREIGN');
    expect(sys.vmoWrite(rdonly, Buffer.from('x'), 0)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.vmoSetSize(open, 2 * PAGE)).toBe(ZX_OK);
    expect(sizeOf(rdonly)).toBe(2n * BigInt(PAGE));

    // fixed: writable, but its size is sealed (portable: a shared-memory object).
    expect(sys.vmoWrite(fixed, Buffer.from('F'), 0)).toBe(ZX_OK);
    expect(sys.vmoSetSize(fixed, 2n ** 64n - 1n)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoSetSize(fixed, 2 * PAGE)).toBe(ZX_ERR_UNAVAILABLE);
    expect(sizeOf(fixed)).toBe(BigInt(PAGE));

    // fixed maps as it is; the others could be shrunk under the mapping by any holder.
    const fixedVmo = new Vmo(dup(fixed, ZX_RIGHT_SAME_RIGHTS));
    Vmo.unmap(fixedVmo.map());
    fixedVmo.close();
    for (const h of [open, rdonly, sealed]) expect(native.vmoMap(h, MAX_MAPPING, false)).toBe(ZX_ERR_NOT_SUPPORTED);
    // sealed: readable and mappable read-only; on the portable backend, no seal: writable.
    expect(sys.vmoWrite(sealed, Buffer.from('x'), PAGE - 1)).toBe(portable ? ZX_OK : ZX_ERR_ACCESS_DENIED);
    const mapping = new Vmo(dup(sealed, ZX_RIGHT_SAME_RIGHTS));
    const buffer = mapping.map({ allowFaults: true });
    expect(mappingPerms()).toEqual([portable ? 'rw-s' : 'r--s']);
    expect(Buffer.from(buffer, 0, 7).toString()).toBe('foreign');
    mapping.unmap(buffer);
    mapping.close();

    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await writer.closed).toEqual({ code: 0, signal: null });
    expect(writer.stderr()).toBe('');
    expect(sys.handleCloseMany([ch, open, rdonly, fixed, sealed])).toBe(ZX_OK);
  });

  it('a memfd without size seals, claimed to be of fixed size, maps only with allowFaults; truncated by its sender, it reads OUT_OF_RANGE and nothing faults', async () => {
    const [ch, theirs] = channel();
    const writer = spawnWithEndpoint('python3', [fixture('vmo-foreign.py'), 'truncate'], theirs);
    const why = () => writer.stderr();
    const r = await receive(ch, why);
    expect(r.bytes.toString()).toBe('unsealed');
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_VMO, rights: ZX_DEFAULT_VMO_RIGHTS },
    ]);
    const vmo = new Vmo(r.handles[0].handle);
    // Before: mapped, and touching it after the truncation below was SIGBUS.
    expect(() => vmo.map()).toThrow(expect.objectContaining({ status: ZX_ERR_NOT_SUPPORTED, operation: 'Vmo.map' }));
    expect(sys.vmoSetSize(vmo.raw, 0)).toBe(ZX_ERR_ACCESS_DENIED); // RESIZE was not claimed
    expect(text(vmo.raw, 7, 0)).toBe('foreign');
    expect(sys.channelWrite(ch, 0, Buffer.from('truncate it'), null)).toBe(ZX_OK);
    expect((await receive(ch, why)).bytes.toString()).toBe('truncated');
    expect(sys.vmoRead(vmo.raw, 1, 0)).toMatchObject({ status: ZX_ERR_OUT_OF_RANGE });
    expect(vmo.size).toBe(0n);
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await writer.closed).toEqual({ code: 0, signal: null });
    expect(writer.stderr()).toBe('');
    vmo.close();
    expect(sys.handleClose(ch)).toBe(ZX_OK);
  });

  it('a descriptor that is not a memfd is refused as a VMO startup handle', () => {
    const [c0, c1] = channel();
    const { status, fd } = fdio.fdCreate(c1);
    expect(status).toBe(ZX_OK);
    expect(native.handleImport(fd, ZX_OBJ_TYPE_VMO, ZX_DEFAULT_VMO_RIGHTS, 0n, 0n)).toBe(ZX_ERR_WRONG_TYPE);
    closeSync(fd);
    expect(sys.handleClose(c0)).toBe(ZX_OK);
  });
});

describe('the Vmo class', () => {
  it('creates, writes, reads, sizes and maps; failures throw ZxError', () => {
    using vmo = Vmo.create(100);
    expect(vmo.size).toBe(BigInt(PAGE));
    expect(vmo.getSize()).toBe(BigInt(PAGE));
    expect(vmo.type).toBe(ZX_OBJ_TYPE_VMO);
    vmo.write('hello', 10);
    vmo.write(Buffer.from([1, 2, 3]), 20n);
    expect(vmo.read(5, 10).toString()).toBe('hello');
    expect([...vmo.read(3, 20n)]).toEqual([1, 2, 3]);
    expect(() => vmo.read(1, PAGE)).toThrow(
      expect.objectContaining({ status: ZX_ERR_OUT_OF_RANGE, operation: 'Vmo.read' }),
    );
    expect(() => vmo.setSize(2 * PAGE)).toThrow(ZxError);
    const copy = vmo.duplicate(READ_ONLY);
    expect(copy).toBeInstanceOf(Vmo);
    expect(() => copy.write('x')).toThrow(
      expect.objectContaining({ code: 'ZX_ERR_ACCESS_DENIED', operation: 'Vmo.write' }),
    );
    copy.close();
    expect(() => Vmo.create(2n ** 64n - 1n)).toThrow(
      expect.objectContaining({ status: ZX_ERR_OUT_OF_RANGE, operation: 'Vmo.create' }),
    );

    using growing = Vmo.create(1, { resizable: true });
    expect(growing.rights).toBe(RESIZABLE_RIGHTS);
    growing.setSize(5n * BigInt(PAGE));
    expect(growing.size).toBe(5n * BigInt(PAGE));
    expect(() => growing.map()).toThrow(
      expect.objectContaining({ status: ZX_ERR_NOT_SUPPORTED, operation: 'Vmo.map' }),
    );
    const buffer = growing.map({ allowFaults: true });
    expect(buffer.byteLength).toBe(5 * PAGE);
    growing.unmap(buffer);
    using empty = Vmo.create(0, { discardable: true });
    expect(empty.size).toBe(0n);
  });
});

/** objectGetInfo(ZX_INFO_VMO), asserted OK. */
function vmoInfo(h: number) {
  const r = sys.objectGetInfo(h, ZX_INFO_VMO);
  expect(r.status).toBe(ZX_OK);
  return r.info!;
}

describe('vmoOpRange', () => {
  const info = vmoInfo;

  it("checks in Zircon's order: the handle, the op, its rights, the range; LOCK is NOT_SUPPORTED", () => {
    const h = create(2 * PAGE);
    const [a, b] = channel();
    const readOnly = dup(h, READ_ONLY);
    const writeOnly = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
    expect(sys.vmoOpRange(0, 99, 0, 2n ** 60n)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.vmoOpRange(a, 99, 0, 2n ** 60n)).toBe(ZX_ERR_WRONG_TYPE);
    for (const op of [0, 5, 15, 99]) expect(sys.vmoOpRange(readOnly, op, 0, 2n ** 60n)).toBe(ZX_ERR_INVALID_ARGS);
    for (const op of [ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO, ZX_VMO_OP_CACHE_INVALIDATE])
      expect(sys.vmoOpRange(readOnly, op, 0, 2n ** 60n)).toBe(ZX_ERR_ACCESS_DENIED);
    for (const op of [ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_CLEAN, ZX_VMO_OP_CACHE_CLEAN_INVALIDATE])
      expect(sys.vmoOpRange(writeOnly, op, 0, 2n ** 60n)).toBe(ZX_ERR_ACCESS_DENIED);
    for (const op of [ZX_VMO_OP_LOCK, ZX_VMO_OP_TRY_LOCK, ZX_VMO_OP_UNLOCK]) {
      expect(sys.vmoOpRange(readOnly, op, 0, PAGE)).toBe(ZX_ERR_ACCESS_DENIED);
      expect(sys.vmoOpRange(h, op, 0, PAGE)).toBe(ZX_ERR_NOT_SUPPORTED);
    }
    // A cache operation on an empty range: INVALID_ARGS, before the range.
    for (const op of [ZX_VMO_OP_CACHE_SYNC, ZX_VMO_OP_CACHE_CLEAN, ZX_VMO_OP_CACHE_CLEAN_INVALIDATE])
      expect(sys.vmoOpRange(h, op, 2n ** 64n - 1n, 0)).toBe(ZX_ERR_INVALID_ARGS);
    for (const op of [ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO, ZX_VMO_OP_DONT_NEED]) {
      expect(sys.vmoOpRange(h, op, 0, 2 * PAGE + 1)).toBe(ZX_ERR_OUT_OF_RANGE);
      expect(sys.vmoOpRange(h, op, 2 * PAGE + 1, 0)).toBe(ZX_ERR_OUT_OF_RANGE);
      expect(sys.vmoOpRange(h, op, 2n ** 64n - 1n, 2)).toBe(ZX_ERR_OUT_OF_RANGE);
      expect(sys.vmoOpRange(h, op, 2 * PAGE, 0)).toBe(ZX_OK);
    }
    expect(() => sys.vmoOpRange(h, ZX_VMO_OP_ZERO, -1, 0)).toThrow(TypeError);
    expect(sys.handleCloseMany([h, a, b, readOnly, writeOnly])).toBe(ZX_OK);
  });

  it('ZERO clears exactly the range (partial pages too); DECOMMIT and COMMIT give back and take whole pages', () => {
    const vmo = Vmo.create(3 * PAGE);
    vmo.write(Buffer.alloc(3 * PAGE, 0x61));
    // (The page counts on the backends that keep them: countsFixedVmoPages.)
    const committed = () => (countsFixedVmoPages ? info(vmo.raw).committedBytes : 'not counted');
    const pages = (n: number) => (countsFixedVmoPages ? BigInt(n * PAGE) : 'not counted');
    expect(committed()).toBe(pages(3));
    vmo.opRange(ZX_VMO_OP_ZERO, 10, PAGE); // bytes 10 .. PAGE + 9
    const all = vmo.read(3 * PAGE);
    expect(all.subarray(0, 10).every((x) => x === 0x61)).toBe(true);
    expect(all.subarray(10, PAGE + 10).every((x) => x === 0)).toBe(true);
    expect(all.subarray(PAGE + 10).every((x) => x === 0x61)).toBe(true);
    // DECOMMIT takes whole pages only.
    for (const [offset, size] of [
      [PAGE + 1, 1],
      [PAGE, 1],
      [1, PAGE],
    ])
      expectZxError(
        thrownBy(() => vmo.opRange(ZX_VMO_OP_DECOMMIT, offset, size)),
        ZX_ERR_INVALID_ARGS,
        'Vmo.opRange',
      );
    vmo.opRange(ZX_VMO_OP_DECOMMIT, PAGE, PAGE); // the second page
    expect(vmo.read(PAGE, PAGE).every((x) => x === 0)).toBe(true);
    expect(vmo.read(PAGE, 2 * PAGE).every((x) => x === 0x61)).toBe(true);
    expect(committed()).toBe(pages(2));
    vmo.opRange(ZX_VMO_OP_DECOMMIT, 0, 3 * PAGE);
    expect(committed()).toBe(pages(0));
    vmo.opRange(ZX_VMO_OP_COMMIT, PAGE - 1, 2); // touches two pages
    expect(committed()).toBe(pages(2));
    expect(vmo.read(3 * PAGE).every((x) => x === 0)).toBe(true);
    expectZxError(
      thrownBy(() => vmo.opRange(ZX_VMO_OP_ZERO, 0, 3 * PAGE + 1)),
      ZX_ERR_OUT_OF_RANGE,
      'Vmo.opRange',
    );
    vmo.close();
  });

  it('across processes: a range zeroed in one process reads as zeros in the other', async () => {
    const h = create(2 * PAGE);
    expect(sys.vmoWrite(h, Buffer.from('hello, other side'), 0)).toBe(ZX_OK);
    const child = startChild();
    await child.ask({ op: 'take', name: 'v' }, [dup(h, ZX_RIGHT_SAME_RIGHTS)]);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_ZERO, 0, 5)).toBe(ZX_OK);
    expect(await child.ask({ op: 'read', name: 'v', length: 17, offset: '0' })).toEqual({
      status: ZX_OK,
      text: `${'\0'.repeat(5)}, other side`,
    });
    expect(
      await child.ask({ op: 'opRange', name: 'v', opcode: ZX_VMO_OP_DECOMMIT, offset: '0', size: String(PAGE) }),
    ).toEqual({
      status: ZX_OK,
    });
    expect(text(h, 17, 0)).toBe('\0'.repeat(17));
    expect(await child.exit()).toEqual({ code: 0, signal: null });
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });
});

describe('vmoCreateChild', () => {
  const infoOf = vmoInfo;

  it("checks in Zircon's order: the handle (DUPLICATE and READ), the options, the size", () => {
    const h = create(PAGE);
    const [a, b] = channel();
    const noDup = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_DUPLICATE);
    const noRead = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_READ);
    const child = (v: number, options: number, offset: number | bigint, size: number | bigint) =>
      sys.vmoCreateChild(v, options, offset, size);
    expect(child(0, 0xffff, 0, 2n ** 64n - 1n)).toEqual({ status: ZX_ERR_BAD_HANDLE, out: ZX_HANDLE_INVALID });
    expect(child(a, 0xffff, 0, 0).status).toBe(ZX_ERR_WRONG_TYPE);
    expect(child(noDup, 0xffff, 0, 0).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(child(noRead, 0xffff, 0, 0).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(child(h, 0, 0, PAGE).status).toBe(ZX_ERR_INVALID_ARGS); // no kind
    expect(child(h, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SLICE, 0, PAGE).status).toBe(ZX_ERR_INVALID_ARGS);
    expect(child(h, ZX_VMO_CHILD_SNAPSHOT | 0x100, 0, PAGE).status).toBe(ZX_ERR_INVALID_ARGS);
    for (const kind of [ZX_VMO_CHILD_SLICE, ZX_VMO_CHILD_REFERENCE, ZX_VMO_CHILD_SNAPSHOT_MODIFIED])
      expect(child(h, kind, 0, PAGE).status).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(child(h, ZX_VMO_CHILD_SNAPSHOT, 0, 2n ** 64n - 1n).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(child(h, ZX_VMO_CHILD_SNAPSHOT, 2n ** 64n - BigInt(PAGE), 2 * PAGE).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.handleCloseMany([h, a, b, noDup, noRead])).toBe(ZX_OK);
  });

  it.each([
    ['SNAPSHOT', ZX_VMO_CHILD_SNAPSHOT],
    ['SNAPSHOT_AT_LEAST_ON_WRITE', ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE],
  ])('%s: a copy of the range taken now, written apart from the parent; zeros past its end', (_, kind) => {
    const parent = create(2 * PAGE);
    expect(sys.vmoWrite(parent, Buffer.from('first page'), 0)).toBe(ZX_OK);
    expect(sys.vmoWrite(parent, Buffer.from('second page'), PAGE)).toBe(ZX_OK);
    const readOnlyParent = dup(parent, READ_ONLY | ZX_RIGHT_DUPLICATE);
    const r = sys.vmoCreateChild(readOnlyParent, kind, PAGE, 2 * PAGE - 1);
    expect(r.status).toBe(ZX_OK);
    const c = r.out;
    // The parent handle's rights and WRITE (the child's memory is its own).
    expect(basic(c)).toMatchObject({
      type: ZX_OBJ_TYPE_VMO,
      rights: READ_ONLY | ZX_RIGHT_DUPLICATE | ZX_RIGHT_WRITE,
      relatedKoid: 0n,
    });
    expect(sizeOf(c)).toBe(BigInt(2 * PAGE));
    expect(text(c, 11, 0)).toBe('second page');
    expect(text(c, 4, PAGE)).toBe('\0\0\0\0');
    expect(sys.vmoWrite(parent, Buffer.from('SECOND'), PAGE)).toBe(ZX_OK);
    expect(text(c, 11, 0)).toBe('second page');
    expect(sys.vmoWrite(c, Buffer.from('child'), 0)).toBe(ZX_OK);
    expect(text(parent, 11, PAGE)).toBe('SECOND page');
    const info = infoOf(c);
    expect(info.parentKoid).toBe(basic(parent).koid);
    expect(info.flags & (ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_TYPE_PAGED)).toBe(
      ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_TYPE_PAGED,
    );
    expect(infoOf(parent).parentKoid).toBe(0n);
    // Holes stay holes: only the copied page is committed (where counted).
    if (countsFixedVmoPages) expect(info.committedBytes).toBe(BigInt(PAGE));
    expect(sys.vmoSetSize(c, 3 * PAGE)).toBe(ZX_ERR_UNAVAILABLE); // not resizable
    expect(sys.handleCloseMany([parent, readOnlyParent, c])).toBe(ZX_OK);
  });

  it('NO_WRITE leaves WRITE out; RESIZABLE gives RESIZE and a child that resizes; vmo.createChild()', () => {
    const parent = Vmo.create(PAGE);
    parent.write('parent');
    const ro = sys.vmoCreateChild(parent.raw, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, PAGE);
    expect(ro.status).toBe(ZX_OK);
    expect(basic(ro.out).rights).toBe(ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    expect(sys.vmoWrite(ro.out, Buffer.from('x'), 0)).toBe(ZX_ERR_ACCESS_DENIED);
    const grown = parent.createChild({ resizable: true });
    expect(basic(grown.raw).rights).toBe(ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
    grown.setSize(3 * PAGE);
    expect(grown.read(6).toString()).toBe('parent');
    expect(infoOf(grown.raw).flags & ZX_INFO_VMO_RESIZABLE).toBe(ZX_INFO_VMO_RESIZABLE);
    const tail = parent.createChild({ offset: 3 });
    expect(tail.size).toBe(BigInt(PAGE));
    expect(tail.read(3).toString()).toBe('ent');
    expect(sys.handleClose(ro.out)).toBe(ZX_OK);
    for (const v of [parent, grown, tail]) v.close();
  });

  it('across processes: a child made here travels and stays apart from its parent; one made there from a VMO sent', async () => {
    const parent = Vmo.create(PAGE);
    parent.write('original');
    const snapshot = parent.createChild();
    parent.write('CHANGED!');
    const other = startChild();
    await other.ask({ op: 'take', name: 'snap' }, [snapshot.release()]);
    expect(await other.ask({ op: 'read', name: 'snap', length: 8, offset: '0' })).toEqual({
      status: ZX_OK,
      text: 'original',
    });
    expect(await other.ask({ op: 'write', name: 'snap', text: 'there', offset: '0' })).toEqual({ status: ZX_OK });
    expect(parent.read(8).toString()).toBe('CHANGED!');
    await other.ask({ op: 'take', name: 'p' }, [parent.duplicate().release()]);
    expect(
      await other.ask({
        op: 'child',
        name: 'p',
        options: ZX_VMO_CHILD_SNAPSHOT,
        offset: '0',
        size: String(PAGE),
        as: 'c',
      }),
    ).toEqual({ status: ZX_OK });
    parent.write('later');
    expect(await other.ask({ op: 'read', name: 'c', length: 8, offset: '0' })).toEqual({
      status: ZX_OK,
      text: 'CHANGED!',
    });
    expect(await other.exit()).toEqual({ code: 0, signal: null });
    parent.close();
  });
});

describe('ZX_PROP_NAME (objectGetProperty / objectSetProperty, handle.name)', () => {
  it("checks in Zircon's order: the handle and its right, the property, the object's type", () => {
    const h = create(PAGE);
    const [a, b] = channel();
    const noGet = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_GET_PROPERTY);
    const noSet = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_SET_PROPERTY);
    expect(sys.objectGetProperty(0, 999)).toEqual({ status: ZX_ERR_BAD_HANDLE, value: null });
    expect(sys.objectGetProperty(noGet, 999).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectSetProperty(noSet, 999, 'x')).toBe(ZX_ERR_ACCESS_DENIED);
    // A channel has no property rights at all (ZX_DEFAULT_CHANNEL_RIGHTS), as on Zircon.
    expect(sys.objectGetProperty(a, ZX_PROP_NAME).status).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectGetProperty(h, 999).status).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.objectGetProperty(h, ZX_PROP_REGISTER_FS).status).toBe(ZX_ERR_INVALID_ARGS); // set only
    expect(sys.objectGetProperty(h, ZX_PROP_PROCESS_DEBUG_ADDR).status).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.objectGetProperty(h, ZX_PROP_SOCKET_RX_THRESHOLD).status).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.objectSetProperty(h, ZX_PROP_REGISTER_FS, 0n)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.objectGetProperty(h, ZX_PROP_VMO_CONTENT_SIZE)).toEqual({ status: ZX_OK, value: BigInt(PAGE) });
    expect(() => sys.objectSetProperty(h, ZX_PROP_NAME, 5 as unknown as string)).toThrow(TypeError);
    expect(sys.handleCloseMany([h, a, b, noGet, noSet])).toBe(ZX_OK);
  });

  it('ZX_PROP_VMO_CONTENT_SIZE: the size asked (create, child, setSize) until set; setting it zeroes what lies past it; WRITE checked before the type; kept in this process', async () => {
    const content = (handle: number) => sys.objectGetProperty(handle, ZX_PROP_VMO_CONTENT_SIZE);
    const h = create(100);
    expect([content(h), sizeOf(h)]).toEqual([{ status: ZX_OK, value: 100n }, BigInt(PAGE)]);
    const child = sys.vmoCreateChild(h, ZX_VMO_CHILD_SNAPSHOT, 0, 10);
    expect(child.status).toBe(ZX_OK);
    expect(content(child.out)).toEqual({ status: ZX_OK, value: 10n });
    const grows = create(0, ZX_VMO_RESIZABLE);
    expect(content(grows)).toEqual({ status: ZX_OK, value: 0n });
    expect(sys.vmoSetSize(grows, PAGE + 5)).toBe(ZX_OK);
    expect(content(grows)).toEqual({ status: ZX_OK, value: BigInt(PAGE + 5) });

    // Set: the bytes from it to the end read as zeros; past the size is allowed.
    expect(sys.vmoWrite(h, Buffer.alloc(PAGE, 0x61), 0)).toBe(ZX_OK);
    expect(sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, 10n)).toBe(ZX_OK);
    expect(content(h)).toEqual({ status: ZX_OK, value: 10n });
    expect(text(h, 12, 0)).toBe(`${'a'.repeat(10)}\0\0`);
    expect(
      sys
        .vmoRead(h, PAGE, 0)
        .bytes.subarray(10)
        .every((x) => x === 0),
    ).toBe(true);
    expect(sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, BigInt(3 * PAGE))).toBe(ZX_OK);
    expect([content(h), sizeOf(h)]).toEqual([{ status: ZX_OK, value: BigInt(3 * PAGE) }, BigInt(PAGE)]);
    expect(sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, 2n ** 64n - 1n)).toBe(ZX_OK);
    expect(content(h)).toEqual({ status: ZX_OK, value: 2n ** 64n - 1n });

    // Zircon's order: SET_PROPERTY, then WRITE (for this property), then the type.
    const noWrite = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_WRITE);
    const noSet = dup(h, ZX_DEFAULT_VMO_RIGHTS & ~ZX_RIGHT_SET_PROPERTY);
    expect(sys.objectSetProperty(noWrite, ZX_PROP_VMO_CONTENT_SIZE, 1n)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectSetProperty(noSet, ZX_PROP_VMO_CONTENT_SIZE, 1n)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(content(noWrite)).toEqual({ status: ZX_OK, value: 2n ** 64n - 1n });
    const { out0: s0, out1: s1 } = sys.socketCreate(0);
    const socketNoWrite = dup(s0, ZX_DEFAULT_SOCKET_RIGHTS & ~ZX_RIGHT_WRITE);
    expect(sys.objectSetProperty(s0, ZX_PROP_VMO_CONTENT_SIZE, 1n)).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.objectSetProperty(socketNoWrite, ZX_PROP_VMO_CONTENT_SIZE, 1n)).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.objectGetProperty(s0, ZX_PROP_VMO_CONTENT_SIZE).status).toBe(ZX_ERR_WRONG_TYPE);
    expect(() => sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, 2n ** 64n)).toThrow(TypeError);
    expect(() => sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, -1n)).toThrow(TypeError);

    // Another process sees the VMO's size (the content size stays here), and the zeros.
    expect(sys.objectSetProperty(h, ZX_PROP_VMO_CONTENT_SIZE, 10n)).toBe(ZX_OK);
    const other = startChild();
    await other.ask({ op: 'take', name: 'v' }, [dup(h, ZX_RIGHT_SAME_RIGHTS)]);
    expect(await other.ask({ op: 'read', name: 'v', length: 12, offset: '0' })).toEqual({
      status: ZX_OK,
      text: `${'a'.repeat(10)}\0\0`,
    });
    expect(await other.exit()).toEqual({ code: 0, signal: null });
    expect(sys.handleCloseMany([h, child.out, grows, noWrite, noSet, s0, s1, socketNoWrite])).toBe(ZX_OK);
  });

  it('every handle to the object sees one name, cut to 31 bytes; a child takes its parent’s; it stays in this process', async () => {
    const vmo = Vmo.create(PAGE);
    expect(vmo.name).toBe('');
    const other = vmo.duplicate();
    vmo.name = 'frame buffer';
    expect(other.name).toBe('frame buffer');
    expect(vmoInfo(vmo.raw).name).toBe('frame buffer');
    other.name = 'x'.repeat(40);
    expect(vmo.name).toBe('x'.repeat(31));
    vmo.name = 'pixels';
    const child = vmo.createChild();
    expect(child.name).toBe('pixels');
    const sockets = sys.socketCreate(0);
    expect(sys.objectSetProperty(sockets.out0, ZX_PROP_NAME, 'end')).toBe(ZX_OK);
    expect(sys.objectGetProperty(sockets.out0, ZX_PROP_NAME)).toEqual({ status: ZX_OK, value: 'end' });
    expect(sys.objectGetProperty(sockets.out1, ZX_PROP_NAME)).toEqual({ status: ZX_OK, value: '' });
    // Sent to another process, the VMO arrives nameless: names don't travel.
    const far = startChild();
    await far.ask({ op: 'take', name: 'v' }, [other.release()]);
    expect(await far.ask({ op: 'name', name: 'v' })).toEqual({ status: ZX_OK, value: '' });
    expect(await far.exit()).toEqual({ code: 0, signal: null });
    expect(vmo.name).toBe('pixels');
    expect(sys.handleCloseMany([sockets.out0, sockets.out1])).toBe(ZX_OK);
    vmo.close();
    child.close();
  });
});
