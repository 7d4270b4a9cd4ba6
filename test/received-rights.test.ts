// Rights of plain descriptors received from another process. The sender (a script that
// is not this library) claims every right for an O_RDONLY and an O_WRONLY descriptor; the
// receiver bounds them by the access mode. channelRead leaves that bound (an fcntl per
// descriptor) until the rights are first looked at: every way of looking must see the
// bounded rights, and a receiver that only closes must lose nothing.
import { closeSync, readSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_READABLE,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_TIMED_OUT,
  ZX_HANDLE_OP_MOVE,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
} from '../lib/index';
import { native } from '../lib/native';
import { type Baseline, baseline, basic, expectBaseline } from './fixtures/channels';
import { openFdCount } from './fixtures/fds';
import {
  type Child,
  fixture,
  reportOf,
  spawnWithEndpoint,
  waitSignals,
  warmUpSpawn,
  warmUpWait,
} from './fixtures/spawn';

const READ_ONLY = ZX_RIGHTS_BASIC | ZX_RIGHT_READ;
const WRITE_ONLY = ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE;
const BOUNDS = [READ_ONLY, WRITE_ONLY];

let before: Baseline;

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});
beforeEach(() => {
  before = baseline();
});
afterEach(() => {
  expectBaseline(before);
});

const rightsOf = (h: number): number => basic(h).rights;

/** A script sending `count` records, each with [O_RDONLY, O_WRONLY] claiming every right. */
function claimer(count: number): {
  ch: number;
  child: Child;
  next(etc?: boolean): Promise<any>;
  finish(): Promise<void>;
} {
  const { status, out0: ch, out1 } = sys.channelCreate(0);
  expect(status).toBe(ZX_OK);
  const child = spawnWithEndpoint(
    'python3',
    [fixture('raw-records.py'), ...Array(count).fill('claims-all-rights')],
    out1,
  );
  return {
    ch,
    child,
    async next(etc = false) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const r = etc ? sys.channelReadEtc(ch, 0, 65536, 64) : sys.channelRead(ch, 0, 65536, 64);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.toString()).toBe('claims');
      expect(r.handles).toHaveLength(2);
      return r.handles;
    },
    async finish() {
      expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
      expect(await child.closed).toEqual({ code: 0, signal: null });
      expect(child.stderr()).toBe('');
      expect(reportOf(child)).toEqual({ pipes: {} });
      expect(sys.handleClose(ch)).toBe(ZX_OK);
    },
  };
}

describe('plain descriptors from another process claiming every right', () => {
  it('channelReadEtc reports the rights bounded by the access mode', async () => {
    const c = claimer(1);
    const handles = await c.next(true);
    expect(handles.map((h: any) => ({ type: h.type, rights: h.rights }))).toEqual([
      { type: ZX_OBJ_TYPE_FD, rights: READ_ONLY },
      { type: ZX_OBJ_TYPE_FD, rights: WRITE_ONLY },
    ]);
    expect(handles.map((h: any) => rightsOf(h.handle))).toEqual(BOUNDS);
    expect(sys.handleCloseMany(handles.map((h: any) => h.handle))).toBe(ZX_OK);
    await c.finish();
  });

  it('after channelRead: objectGetInfo, a wait, duplicate and replace see the bound', async () => {
    const c = claimer(3);
    // Looked at first by objectGetInfo.
    const first: number[] = await c.next();
    expect(first.map(rightsOf)).toEqual(BOUNDS);
    // First by a wait (WAIT is a basic right), then objectGetInfo.
    const second: number[] = await c.next();
    for (const h of second) expect(sys.objectWaitOne(h, 0, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    expect(second.map(rightsOf)).toEqual(BOUNDS);
    // First by duplicate and replace: asking for a right the descriptor lacks is refused,
    // SAME_RIGHTS gives the bounded ones.
    const [readOnly, writeOnly]: number[] = await c.next();
    expect(sys.handleDuplicate(readOnly, ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE)).toEqual({
      status: ZX_ERR_INVALID_ARGS,
      out: 0,
    });
    const dup = sys.handleDuplicate(readOnly, ZX_RIGHT_SAME_RIGHTS);
    expect(dup.status).toBe(ZX_OK);
    expect(rightsOf(dup.out)).toBe(READ_ONLY);
    expect(sys.handleReplace(writeOnly, ZX_RIGHTS_BASIC | ZX_RIGHT_READ)).toEqual({
      status: ZX_ERR_INVALID_ARGS,
      out: 0,
    });
    // (The refused replace consumed writeOnly, as in Zircon.)
    expect(sys.handleCloseMany([...first, ...second, readOnly, dup.out])).toBe(ZX_OK);
    await c.finish();
  });

  it('after channelRead: passing them on checks and carries the bounded rights', async () => {
    const c = claimer(2);
    const { out0: a, out1: b } = sys.channelCreate(0);
    // A disposition asking for a right the descriptor lacks: INVALID_ARGS, both consumed.
    const [readOnly, writeOnly]: number[] = await c.next();
    const refused = [
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: readOnly,
        type: ZX_OBJ_TYPE_FD,
        rights: ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE,
        result: ZX_OK,
      },
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: writeOnly,
        type: ZX_OBJ_TYPE_FD,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
    ];
    expect(sys.channelWriteEtc(a, 0, null, refused)).toBe(ZX_ERR_INVALID_ARGS);
    expect(refused.map((d) => d.result)).toEqual([ZX_ERR_INVALID_ARGS, ZX_OK]);
    expect(sys.objectGetInfo(readOnly, ZX_INFO_HANDLE_BASIC).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.objectGetInfo(writeOnly, ZX_INFO_HANDLE_BASIC).status).toBe(ZX_ERR_BAD_HANDLE);
    // Moved as they are: what arrives on the other side has the bounded rights.
    const moved: number[] = await c.next();
    expect(sys.channelWrite(a, 0, Buffer.from('on'), moved)).toBe(ZX_OK);
    const r = sys.channelReadEtc(b, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.handles.map((h) => h.rights)).toEqual(BOUNDS);
    // The read-only one really is the file, opened for reading.
    const { status, fd } = fdio.fdCreate(r.handles[0].handle);
    expect(status).toBe(ZX_OK);
    const buf = Buffer.alloc(64);
    expect(buf.toString('utf8', 0, readSync(fd, buf))).toBe('file contents');
    closeSync(fd);
    expect(sys.handleCloseMany([a, b, r.handles[1].handle])).toBe(ZX_OK);
    await c.finish();
  });

  it('after channelRead: exporting them (as spawn does) gives the bounded rights', async () => {
    const c = claimer(1);
    const handles: number[] = await c.next();
    for (const [i, h] of handles.entries()) {
      const exported = native.handleExport(h);
      expect(Array.isArray(exported)).toBe(true);
      const [fd, type, rights] = exported as [number, number, number, bigint, bigint];
      expect({ type, rights }).toEqual({ type: ZX_OBJ_TYPE_FD, rights: BOUNDS[i] });
      closeSync(fd);
    }
    await c.finish();
  });

  it('after channelRead: closing without looking closes the descriptors', async () => {
    const c = claimer(4);
    for (let i = 0; i < 4; i++) {
      const fds = openFdCount();
      const handles: number[] = await c.next();
      expect(openFdCount()).toBe(fds + 2);
      expect(i % 2 ? sys.handleCloseMany(handles) : sys.handleClose(handles[0]) || sys.handleClose(handles[1])).toBe(
        ZX_OK,
      );
      expect(openFdCount()).toBe(fds);
    }
    await c.finish();
  });
});
