// Zircon's own VMO tests (zircon/system/utest/core/vmo/vmo.cc, VmoTestCase.*; vmo-zero.cc,
// VmoZeroTestCase.*; vmo-clone2.cc, VmoClone2TestCase.*, its first, content-level cases)
// through the sys face and Vmo mappings: the same operations and statuses. A child is
// ZX_VMO_CHILD_SNAPSHOT (Zircon's COPY_ON_WRITE of those tests), an eager copy here. Where the original maps the
// VMO twice to see one write through both, the second mapping is in another process (a VMO
// travels as its memfd).
//
// Not portable, and why:
// - Map, NoPermMap, NoPermProtect, ReadOnlyMap's probes, ResizeHazard, MapRead, ParallelRead:
//   they place, protect and probe mappings in a VMAR (fixed addresses, zx_vmar_protect,
//   reads into a mapping); a mapping here is a whole-VMO ArrayBuffer, and a fault kills
//   the process.
// - Rights' ZX_VM_PERM_EXECUTE and replace_as_executable cases, Cache, PhysicalSlice,
//   CacheFlush, the contiguous and physical halves of Info and CacheOp: no executable
//   mappings, cache policies, physical or contiguous VMOs here (docs/objects.md, VMOs).
// - VmoZeroTestCase's Contiguous and its copy-on-write cases (EmptyCowChildren,
//   MergeZeroChildren, AllocateAfterMerge*, WriteCowParent, ChildZeroThenWrite, Nested):
//   they count which of parent and child a shared page is attributed to; a child here is
//   an eager copy that shares no page (ContentInParentAndChild's contents are kept).
// - VmoClone2TestCase.ObjMemAccounting: a fresh clone commits nothing on Zircon; an eager
//   copy holds the pages it copied (ZeroPageWrite, SplitPageClosure and Offset, whose counts
//   agree, are kept). The rest of vmo-clone2.cc (hidden-parent merges, pager, contiguous
//   and physical VMOs, resizable clones' page sharing) tests sharing a copy doesn't have.
// - ChildPermsTestHelper's SLICE children: slices share pages with their parent, which a
//   memfd can't give a second size and offset (vmoCreateChild answers NOT_SUPPORTED).
import { describe, expect, it } from 'vitest';
import {
  sys,
  Vmo,
  ZX_CACHE_POLICY_CACHED,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_UNAVAILABLE,
  ZX_ERR_WRONG_TYPE,
  ZX_INFO_VMO,
  ZX_INFO_VMO_IS_COW_CLONE,
  ZX_INFO_VMO_RESIZABLE,
  ZX_INFO_VMO_TYPE_PAGED,
  ZX_INFO_VMO_VIA_HANDLE,
  ZX_OK,
  ZX_PAGE_SIZE as PAGE,
  ZX_PROP_NAME,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_EXECUTE,
  ZX_RIGHT_GET_PROPERTY,
  ZX_RIGHT_MAP,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_SET_PROPERTY,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHT_WRITE,
  ZX_VMO_CHILD_NO_WRITE,
  ZX_VMO_CHILD_SLICE,
  ZX_VMO_CHILD_SNAPSHOT,
  ZX_VMO_OP_CACHE_CLEAN,
  ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
  ZX_VMO_OP_CACHE_INVALIDATE,
  ZX_VMO_OP_CACHE_SYNC,
  ZX_VMO_OP_COMMIT,
  ZX_VMO_OP_DECOMMIT,
  ZX_VMO_OP_ZERO,
  ZX_VMO_RESIZABLE,
} from '../lib/index';
import { native } from '../lib/native';
import { countsFixedVmoPages } from './fixtures/backend';
import { basic, closeAll } from './fixtures/channels';
import { duplicate, keepBaseline, sizeOf, vmo } from './fixtures/core';
import { startPeer } from './fixtures/peer';

// committedBytes of these (fixed-size) VMOs where the backend counts them as Zircon does,
// else the same placeholder on both sides of each expectation (countsFixedVmoPages).
const ifCounted = (bytes: bigint) => (countsFixedVmoPages ? bytes : 'not counted');

const U64_MAX = 2n ** 64n - 1n;

keepBaseline();

const roundUp = (s: number) => Math.ceil(s / PAGE) * PAGE;

/** The whole VMO mapped here, through a duplicate closed at once (the mapping stays). */
function mapOf(h: number): ArrayBuffer {
  const v = new Vmo(duplicate(h, ZX_RIGHT_SAME_RIGHTS));
  try {
    return v.map();
  } finally {
    v.close();
  }
}

describe('VmoTestCase', () => {
  it('Create', () => {
    const vmos = Array.from({ length: 16 }, (_, i) => vmo(i * PAGE));
    for (const h of vmos) expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('ReadWriteBadLen', () => {
    const len = PAGE * 4;
    const h = vmo(len);
    for (const i of [1n, 2n]) {
      const bad = U64_MAX - BigInt(PAGE) / i;
      expect(sys.vmoRead(h, bad, 0).status).toBe(ZX_ERR_OUT_OF_RANGE);
      // A write's length is its bytes': the longest a Uint8Array can be is past the end too.
      expect(sys.vmoWrite(h, Buffer.alloc(len + 1), 0)).toBe(ZX_ERR_OUT_OF_RANGE);
    }
    expect(sys.vmoRead(h, len, 0).status).toBe(ZX_OK);
    expect(sys.vmoWrite(h, Buffer.alloc(len), 0)).toBe(ZX_OK);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('ReadWrite (the mapping in another process)', async () => {
    const len = PAGE * 4;
    const h = vmo(len);
    const r = sys.vmoRead(h, len, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.every((b) => b === 0)).toBe(true);
    expect(sys.vmoWrite(h, Buffer.alloc(len, 0x99), 0)).toBe(ZX_OK);
    // Mapped here and in another process, both see what was written.
    const mapped = new Uint8Array(mapOf(h));
    expect(mapped.every((b) => b === 0x99)).toBe(true);
    const peer = startPeer({ vmo: duplicate(h, ZX_RIGHT_SAME_RIGHTS) });
    expect(await peer.do({ mapRead: 'vmo', offset: len - 3, length: 3 })).toEqual([
      { status: ZX_OK, text: Buffer.alloc(3, 0x99).toString() },
    ]);
    await peer.exit();
    Vmo.unmap(mapped.buffer as ArrayBuffer);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('ReadWriteRange', () => {
    const len = PAGE * 4;
    const h = vmo(len);
    expect(sys.vmoRead(h, len * 2, 0).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoRead(h, 0, len).status).toBe(ZX_OK);
    expect(sys.vmoRead(h, 0, len + 1).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, Buffer.alloc(len * 2), 0)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, Buffer.alloc(0), len)).toBe(ZX_OK);
    expect(sys.vmoWrite(h, Buffer.alloc(0), len + 1)).toBe(ZX_ERR_OUT_OF_RANGE);
    // Unsigned wraparound of offset + length.
    expect(sys.vmoRead(h, len, U64_MAX - BigInt(len / 2)).status).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoWrite(h, Buffer.alloc(len), U64_MAX - BigInt(len / 2))).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('Resize', () => {
    let len = PAGE * 4;
    const h = vmo(len, ZX_VMO_RESIZABLE);
    expect(sizeOf(h)).toBe(BigInt(len));
    len += PAGE;
    expect(sys.vmoSetSize(h, len)).toBe(ZX_OK);
    expect(sizeOf(h)).toBe(BigInt(len));
    expect(sys.vmoSetSize(h, U64_MAX)).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.vmoSetSize(h, len + 1)).toBe(ZX_OK);
    expect(sizeOf(h)).toBe(BigInt(roundUp(len + 1)));
    // A resizable VMO maps only with faults allowed (ZX_VM_REQUIRE_NON_RESIZABLE's refusal).
    expect(native.vmoMap(h, 1 << 30, false)).toBe(ZX_ERR_NOT_SUPPORTED);
    const mapped = native.vmoMap(h, 1 << 30, true);
    expect(mapped).toBeInstanceOf(ArrayBuffer);
    expect(sys.vmoSetSize(h, sizeOf(h))).toBe(ZX_OK); // resized while mapped
    Vmo.unmap(mapped as ArrayBuffer);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('NoResize', () => {
    const len = PAGE * 4;
    const h = vmo(len);
    expect(sys.vmoSetSize(h, len + PAGE)).toBe(ZX_ERR_UNAVAILABLE);
    expect(sys.vmoSetSize(h, len - PAGE)).toBe(ZX_ERR_UNAVAILABLE);
    expect(sizeOf(h)).toBe(BigInt(len));
    const mapped = native.vmoMap(h, 1 << 30, false);
    expect(mapped).toBeInstanceOf(ArrayBuffer);
    Vmo.unmap(mapped as ArrayBuffer);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('Info (paged VMOs)', () => {
    for (const [len, options, flags] of [
      [PAGE * 4, 0, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE],
      [PAGE * 8, ZX_VMO_RESIZABLE, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE | ZX_INFO_VMO_RESIZABLE],
    ]) {
      const h = vmo(len, options);
      const r = sys.objectGetInfo(h, ZX_INFO_VMO);
      expect(sys.handleClose(h)).toBe(ZX_OK);
      expect(r.status).toBe(ZX_OK);
      expect([r.info!.sizeBytes, r.info!.flags, r.info!.cachePolicy]).toEqual([
        BigInt(len),
        flags,
        ZX_CACHE_POLICY_CACHED,
      ]);
    }
  });

  it('SizeAlign', () => {
    for (let s = 0; s < PAGE * 4; s++) {
      const h = vmo(s);
      expect(sizeOf(h)).toBe(BigInt(roundUp(s)));
      expect(sys.handleClose(h)).toBe(ZX_OK);
    }
  });

  it('ResizeAlign', () => {
    const h = vmo(0, ZX_VMO_RESIZABLE);
    for (let s = 0; s < PAGE * 4; s++) {
      expect(sys.vmoSetSize(h, s)).toBe(ZX_OK);
      expect(sizeOf(h)).toBe(BigInt(roundUp(s)));
    }
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('Rights (no executable mappings)', () => {
    const len = PAGE * 4;
    const h = vmo(len);
    const expected =
      ZX_RIGHT_DUPLICATE |
      ZX_RIGHT_TRANSFER |
      ZX_RIGHT_WAIT |
      ZX_RIGHT_READ |
      ZX_RIGHT_WRITE |
      ZX_RIGHT_MAP |
      ZX_RIGHT_GET_PROPERTY |
      ZX_RIGHT_SET_PROPERTY;
    expect(basic(h).rights & expected).toBe(expected);
    expect(sys.vmoRead(h, 0, 0).status).toBe(ZX_OK);
    expect(sys.vmoWrite(h, Buffer.alloc(0), 0)).toBe(ZX_OK);
    for (const [rights, read, write] of [
      [ZX_RIGHT_READ, ZX_OK, ZX_ERR_ACCESS_DENIED],
      [ZX_RIGHT_WRITE, ZX_ERR_ACCESS_DENIED, ZX_OK],
      [0, ZX_ERR_ACCESS_DENIED, ZX_ERR_ACCESS_DENIED],
    ]) {
      const d = duplicate(h, rights);
      expect([sys.vmoRead(d, 0, 0).status, sys.vmoWrite(d, Buffer.alloc(0), 0)]).toEqual([read, write]);
      expect(sys.handleClose(d)).toBe(ZX_OK);
    }

    // ChildPermsTestHelper: the rights of snapshot children.
    const childPerms = (parent: number) => {
      const parentRights = basic(parent).rights;
      const child = sys.vmoCreateChild(parent, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE);
      expect(child.status).toBe(ZX_OK);
      expect(basic(child.out).rights).toBe(
        (parentRights | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY | ZX_RIGHT_WRITE) & ~ZX_RIGHT_EXECUTE,
      );
      const noWrite = sys.vmoCreateChild(parent, ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, PAGE);
      expect(noWrite.status).toBe(ZX_OK);
      expect(basic(noWrite.out).rights).toBe(
        (parentRights | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY) & ~ZX_RIGHT_WRITE,
      );
      expect(sys.vmoCreateChild(parent, ZX_VMO_CHILD_SLICE, 0, PAGE).status).toBe(ZX_ERR_NOT_SUPPORTED);
      closeAll(child.out, noWrite.out);
    };
    // RightsTestMapHelper: a mapping takes READ and MAP; WRITE makes it writable.
    const mapStatus = (handle: number) => {
      const mapped = native.vmoMap(handle, 1 << 30, false);
      if (typeof mapped === 'number') return mapped;
      Vmo.unmap(mapped);
      return ZX_OK;
    };
    childPerms(h);
    expect(mapStatus(h)).toBe(ZX_OK);
    for (const [rights, mapped, children] of [
      [ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_DUPLICATE, ZX_ERR_ACCESS_DENIED, true],
      [ZX_RIGHT_READ | ZX_RIGHT_MAP | ZX_RIGHT_DUPLICATE, ZX_OK, true],
      [ZX_RIGHT_WRITE | ZX_RIGHT_MAP | ZX_RIGHT_DUPLICATE, ZX_ERR_ACCESS_DENIED, false],
      [ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_MAP | ZX_RIGHT_DUPLICATE, ZX_OK, true],
    ] as const) {
      const d = duplicate(h, rights);
      if (children) childPerms(d);
      expect(mapStatus(d)).toBe(mapped);
      expect(sys.handleClose(d)).toBe(ZX_OK);
    }

    expect(sys.objectSetProperty(h, ZX_PROP_NAME, 'test vmo')).toBe(ZX_OK);
    expect(sys.objectGetProperty(h, ZX_PROP_NAME)).toEqual({ status: ZX_OK, value: 'test vmo' });
    expect(sys.handleClose(h)).toBe(ZX_OK);

    // A handle of another type without rights: WRONG_TYPE, not ACCESS_DENIED.
    const port = sys.portCreate(0);
    expect(port.status).toBe(ZX_OK);
    const noRights = duplicate(port.out, 0);
    expect(sys.vmoRead(noRights, 0, 0).status).toBe(ZX_ERR_WRONG_TYPE);
    closeAll(port.out, noRights);
  });

  it('Commit (the aliasing mapping in another process)', async () => {
    const size = 16384;
    const h = vmo(size);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_COMMIT, 0, size)).toBe(ZX_OK);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_DECOMMIT, 0, size)).toBe(ZX_OK);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_COMMIT, 0, size)).toBe(ZX_OK);
    const mapped = new Uint32Array(mapOf(h));
    const peer = startPeer({ vmo: duplicate(h, ZX_RIGHT_SAME_RIGHTS) });
    const u32At = PAGE / 4;
    mapped[u32At] = 99;
    expect(mapped[u32At]).toBe(99);
    const aliased = async () => (await peer.do({ mapRead: 'vmo', offset: PAGE, length: 2 }))[0].text;
    expect(await aliased()).toBe('c\0');
    // Decommitting page 0 leaves page 1 as it was, in both mappings.
    expect(sys.vmoOpRange(h, ZX_VMO_OP_DECOMMIT, 0, PAGE)).toBe(ZX_OK);
    expect(mapped[u32At]).toBe(99);
    expect(await aliased()).toBe('c\0');
    // Decommitting page 1 makes it read as zeros in both.
    expect(sys.vmoOpRange(h, ZX_VMO_OP_DECOMMIT, PAGE, PAGE)).toBe(ZX_OK);
    expect(mapped[u32At]).toBe(0);
    expect(await aliased()).toBe('\0\0');
    await peer.exit();
    Vmo.unmap(mapped.buffer as ArrayBuffer);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('ZeroPage', () => {
    const size = PAGE * 4;
    const h = vmo(size);
    const maps = [0, 1, 2].map(() => new Uint32Array(mapOf(h)));
    expect(maps[0][0]).toBe(0);
    maps[1][0] = 99;
    expect(maps[1][0]).toBe(99);
    expect(maps[2][0]).toBe(99);
    expect(maps[0][0]).toBe(99);
    const page1 = PAGE / 4;
    expect(maps[0][page1]).toBe(0);
    const v = Buffer.alloc(4);
    v.writeUInt32LE(100);
    expect(sys.vmoWrite(h, v, PAGE)).toBe(ZX_OK);
    expect(maps[0][page1]).toBe(100);
    expect(maps[0][2 * page1]).toBe(0);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_COMMIT, PAGE * 2, PAGE)).toBe(ZX_OK);
    expect(sys.vmoWrite(h, v, PAGE * 2)).toBe(ZX_OK);
    expect(maps[0][2 * page1]).toBe(100);
    for (const m of maps) Vmo.unmap(m.buffer as ArrayBuffer);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('CacheOp (a paged VMO)', () => {
    const size = 0x8000;
    const h = vmo(size);
    for (const op of [
      ZX_VMO_OP_CACHE_SYNC,
      ZX_VMO_OP_CACHE_CLEAN,
      ZX_VMO_OP_CACHE_CLEAN_INVALIDATE,
      ZX_VMO_OP_CACHE_INVALIDATE,
    ]) {
      for (const [offset, length] of [
        [0, 1],
        [0, 1],
        [1, 1],
        [0, size],
        [1, size - 1],
        [0x5200, 1],
        [0x5200, 0x800],
        [0x5200, 0x1000],
        [0x5200, 0x1200],
      ])
        expect(sys.vmoOpRange(h, op, offset, length)).toBe(ZX_OK);
      expect(sys.vmoOpRange(h, op, 0, 0)).toBe(ZX_ERR_INVALID_ARGS);
      for (const [offset, length] of [
        [1n, BigInt(size)],
        [BigInt(size), 1n],
        [BigInt(size + 1), 1n],
        [U64_MAX - 1n, 1n],
        [U64_MAX, 1n],
        [U64_MAX, U64_MAX],
      ])
        expect(sys.vmoOpRange(h, op, offset, length)).toBe(ZX_ERR_OUT_OF_RANGE);
    }
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });

  it('DecommitMisaligned', () => {
    const h = vmo(PAGE * 2);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_DECOMMIT, 0x10, 0x100)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_COMMIT, 0x10, 0x100)).toBe(ZX_OK);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_DECOMMIT, 0x10, 0x100)).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.handleClose(h)).toBe(ZX_OK);
  });
});

describe('VmoZeroTestCase', () => {
  const committed = (h: number) => {
    const r = sys.objectGetInfo(h, ZX_INFO_VMO);
    expect(r.status).toBe(ZX_OK);
    return ifCounted(r.info!.committedBytes);
  };
  const allSame = (bytes: Uint8Array, value: number) => bytes.every((b) => b === value);

  it('UnalignedSubPage', () => {
    const h = vmo(PAGE);
    const bytes = new Uint8Array(mapOf(h));
    bytes.fill(0xff);
    expect(sys.vmoOpRange(h, ZX_VMO_OP_ZERO, 42, 91)).toBe(ZX_OK);
    expect(allSame(bytes.subarray(0, 42), 0xff)).toBe(true);
    expect(allSame(bytes.subarray(42, 42 + 91), 0)).toBe(true);
    expect(allSame(bytes.subarray(42 + 91), 0xff)).toBe(true);
    Vmo.unmap(bytes.buffer as ArrayBuffer);
    closeAll(h);
  });

  it('UnalignedCommitted (the mapping in another process)', async () => {
    const h = vmo(PAGE * 2);
    const bytes = new Uint8Array(mapOf(h));
    bytes.fill(0xff);
    const peer = startPeer({ vmo: duplicate(h, ZX_RIGHT_SAME_RIGHTS) });
    expect(await peer.do({ vmoZero: 'vmo', offset: PAGE / 2, length: PAGE })).toEqual([ZX_OK]);
    expect(allSame(bytes.subarray(0, PAGE / 2), 0xff)).toBe(true);
    expect(allSame(bytes.subarray(PAGE / 2, PAGE / 2 + PAGE), 0)).toBe(true);
    expect(allSame(bytes.subarray(PAGE + PAGE / 2), 0xff)).toBe(true);
    await peer.exit();
    Vmo.unmap(bytes.buffer as ArrayBuffer);
    closeAll(h);
  });

  it('UnalignedUnCommitted', () => {
    const h = vmo(PAGE * 2);
    expect(committed(h)).toBe(ifCounted(0n));
    expect(sys.vmoOpRange(h, ZX_VMO_OP_ZERO, PAGE / 2, PAGE)).toBe(ZX_OK);
    expect(committed(h)).toBe(ifCounted(0n));
    closeAll(h);
  });

  it('DecommitMiddle', () => {
    const h = vmo(PAGE * 3);
    const bytes = new Uint8Array(mapOf(h));
    bytes.fill(0xff);
    expect(committed(h)).toBe(ifCounted(BigInt(PAGE * 3)));
    expect(sys.vmoOpRange(h, ZX_VMO_OP_ZERO, PAGE / 2, PAGE * 2)).toBe(ZX_OK);
    expect(committed(h)).toBe(ifCounted(BigInt(PAGE * 2)));
    Vmo.unmap(bytes.buffer as ArrayBuffer);
    closeAll(h);
  });

  it('ContentInParentAndChild (contents)', () => {
    const parent = vmo(PAGE * 2);
    expect(sys.vmoWrite(parent, Buffer.from([1]), 0)).toBe(ZX_OK);
    const child = sys.vmoCreateChild(parent, ZX_VMO_CHILD_SNAPSHOT, 0, PAGE * 2);
    expect(child.status).toBe(ZX_OK);
    expect(sys.vmoWrite(child.out, Buffer.from([2]), 0)).toBe(ZX_OK);
    expect(sys.vmoOpRange(child.out, ZX_VMO_OP_ZERO, 0, PAGE)).toBe(ZX_OK);
    expect(sys.vmoRead(child.out, 1, 0).bytes[0]).toBe(0);
    expect(sys.vmoRead(parent, 1, 0).bytes[0]).toBe(1);
    closeAll(parent, child.out);
  });

  it('ZeroLengths', () => {
    const h = vmo(PAGE);
    for (const offset of [0, 10, PAGE]) expect(sys.vmoOpRange(h, ZX_VMO_OP_ZERO, offset, 0)).toBe(ZX_OK);
    closeAll(h);
  });
});

describe('VmoClone2TestCase', () => {
  const ORIGINAL = 0xdeadbeef;
  const NEW = 0xc0ffee;
  /** VmoWrite / VmoCheck: a uint32 at `offset`. */
  const write32 = (h: number, value: number, offset = 0) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    expect(sys.vmoWrite(h, b, offset)).toBe(ZX_OK);
  };
  const read32 = (h: number, offset = 0) => {
    const r = sys.vmoRead(h, 4, offset);
    expect(r.status).toBe(ZX_OK);
    return r.bytes.readUInt32LE(0);
  };
  /** InitPageTaggedVmo: page i holds i + 1. */
  const pageTagged = (pages: number) => {
    const h = vmo(pages * PAGE);
    for (let i = 0; i < pages; i++) write32(h, i + 1, i * PAGE);
    return h;
  };
  const clone = (h: number, offset: number, size: number) => {
    const r = sys.vmoCreateChild(h, ZX_VMO_CHILD_SNAPSHOT, offset, size);
    expect(r.status).toBe(ZX_OK);
    return r.out;
  };
  const committed = (h: number) => ifCounted(sys.objectGetInfo(h, ZX_INFO_VMO).info!.committedBytes);

  it('Info', () => {
    const h = vmo(PAGE);
    const before = sys.objectGetInfo(h, ZX_INFO_VMO).info!;
    const c = clone(h, 0, PAGE);
    const after = sys.objectGetInfo(h, ZX_INFO_VMO).info!;
    const child = sys.objectGetInfo(c, ZX_INFO_VMO).info!;
    expect(before.koid).toBe(after.koid);
    expect(child.koid).not.toBe(before.koid);
    expect(child.parentKoid).toBe(before.koid);
    expect([before.flags, after.flags]).toEqual([
      ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE,
      ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE,
    ]);
    expect(child.flags).toBe(ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_IS_COW_CLONE | ZX_INFO_VMO_VIA_HANDLE);
    closeAll(h, c);
  });

  it('Read', () => {
    const h = vmo(PAGE);
    write32(h, ORIGINAL);
    const c = clone(h, 0, PAGE);
    expect([read32(h), read32(c)]).toEqual([ORIGINAL, ORIGINAL]);
    closeAll(h, c);
  });

  it.each([
    ['CloneVmoWrite', true],
    ['ParentVmoWrite', false],
  ])('%s', (_, cloneWrite) => {
    const h = vmo(PAGE);
    write32(h, ORIGINAL);
    const c = clone(h, 0, PAGE);
    write32(cloneWrite ? c : h, NEW);
    expect(read32(h)).toBe(cloneWrite ? ORIGINAL : NEW);
    expect(read32(c)).toBe(cloneWrite ? NEW : ORIGINAL);
    closeAll(h, c);
  });

  it.each([
    ['CloneVmarWrite', true],
    ['ParentVmarWrite', false],
  ])('%s', (_, cloneWrite) => {
    const h = vmo(PAGE);
    const parentMap = new Uint32Array(mapOf(h));
    parentMap[0] = ORIGINAL;
    const c = clone(h, 0, PAGE);
    const cloneMap = new Uint32Array(mapOf(c));
    (cloneWrite ? cloneMap : parentMap)[0] = NEW;
    expect(parentMap[0]).toBe(cloneWrite ? ORIGINAL : NEW);
    expect(cloneMap[0]).toBe(cloneWrite ? NEW : ORIGINAL);
    Vmo.unmap(parentMap.buffer as ArrayBuffer);
    Vmo.unmap(cloneMap.buffer as ArrayBuffer);
    closeAll(h, c);
  });

  it.each([
    ['CloseOriginal', true],
    ['CloseClone', false],
  ])('%s', (_, closeOriginal) => {
    const h = vmo(PAGE);
    write32(h, ORIGINAL);
    const c = clone(h, 0, PAGE);
    closeAll(closeOriginal ? h : c);
    expect(read32(closeOriginal ? c : h)).toBe(ORIGINAL);
    closeAll(closeOriginal ? c : h);
  });

  it('ZeroPageWrite', () => {
    const vmos = [vmo(PAGE)];
    vmos.push(clone(vmos[0], 0, PAGE), clone(vmos[0], 0, PAGE));
    vmos.push(clone(vmos[1], 0, PAGE));
    for (let i = 0; i < 4; i++) {
      write32(vmos[i], i + 1);
      for (let j = 0; j < 4; j++) {
        expect(read32(vmos[j])).toBe(j <= i ? j + 1 : 0);
        expect(committed(vmos[j])).toBe(ifCounted(j <= i ? BigInt(PAGE) : 0n));
      }
    }
    closeAll(...vmos);
  });

  it('SplitPageClosure', () => {
    const h = pageTagged(1);
    const clone1 = clone(h, 0, PAGE);
    const clone2 = clone(clone1, 0, PAGE);
    write32(clone1, 3);
    write32(clone2, 4);
    for (const v of [h, clone1, clone2]) expect(committed(v)).toBe(ifCounted(BigInt(PAGE)));
    closeAll(h);
    expect([read32(clone1), read32(clone2)]).toEqual([3, 4]);
    expect([committed(clone1), committed(clone2)]).toEqual([ifCounted(BigInt(PAGE)), ifCounted(BigInt(PAGE))]);
    closeAll(clone1);
    expect([read32(clone2), committed(clone2)]).toEqual([4, ifCounted(BigInt(PAGE))]);
    closeAll(clone2);
  });

  it('Offset (and in another process)', async () => {
    const h = pageTagged(3);
    const c = clone(h, PAGE, 3 * PAGE);
    expect([read32(c), read32(c, PAGE), read32(c, 2 * PAGE)]).toEqual([2, 3, 0]);
    write32(c, 4, PAGE);
    closeAll(h);
    expect([read32(c), read32(c, PAGE), read32(c, 2 * PAGE)]).toEqual([2, 4, 0]);
    expect(committed(c)).toBe(ifCounted(BigInt(2 * PAGE)));
    // The child is an ordinary VMO: another process reads the same.
    const peer = startPeer({ c: duplicate(c, ZX_RIGHT_SAME_RIGHTS) });
    const [got] = await peer.do({ vmoRead: 'c', offset: PAGE, length: 1 });
    expect(got).toEqual({ status: ZX_OK, text: '\x04' });
    await peer.exit();
    closeAll(c);
  });

  it('OffsetTest2', () => {
    const h = pageTagged(4);
    const offsetClone = clone(h, PAGE, 3 * PAGE);
    const clone1 = clone(offsetClone, 0, 2 * PAGE);
    const clone2 = clone(offsetClone, 2 * PAGE, PAGE);
    expect([read32(clone1), read32(clone1, PAGE), read32(clone2)]).toEqual([2, 3, 4]);
    write32(offsetClone, 4, PAGE);
    closeAll(offsetClone);
    expect([read32(clone1), read32(clone1, PAGE), read32(clone2)]).toEqual([2, 3, 4]);
    closeAll(h, clone1, clone2);
  });
});
