// A seeded hostile writer (fixtures/hostile-writer.py, not this library) sends hundreds of
// random records over a real SOCK_SEQPACKET socket: valid ones with descriptors of every
// kind that travels, and ones broken in one of many ways. Each read answers exactly what
// the writer planned, and descriptors and handles come back to where they were after
// every record. Reproduce a failure with HOSTILE_SEED=<n> npx vitest run test/hostile-writer.test.ts
// On the portable backend the records are frames on a stream, where a header that is no
// header can't be skipped (docs/architecture.md, "Backends"): the records before the last
// are valid or broken in their descriptors only, and the last, broken in its header,
// answers IO_DATA_INTEGRITY and ends the channel (PEER_CLOSED).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  statusToString,
  sys,
  ZX_CHANNEL_READABLE,
  ZX_ERR_BUFFER_TOO_SMALL,
  ZX_ERR_PEER_CLOSED,
  ZX_OK,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import { type Child, fixture, spawnWithEndpoint, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { portable } from './fixtures/backend';

const SEED = Number(process.env.HOSTILE_SEED ?? 0x5eed0010) >>> 0;
const COUNT = 400;

interface Planned {
  status: string;
  how?: string;
  bytes?: number;
  types?: number[];
  /** A framed stream ends after it. */
  ends?: boolean;
}

/** What valid record `index` carries: its index (little-endian), then checkable bytes. */
function pattern(index: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(index);
  head.copy(out, 0, 0, Math.min(4, length));
  for (let j = 4; j < length; j++) out[j] = ((index + j) * 31) & 0xff;
  return out;
}

/** The first line the child prints, or a rejection once it exits or `timeoutMs` passes. */
function firstLine(child: Child, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = child.proc.stdout!;
    const timer = setTimeout(() => done(new Error(`no line from the writer: ${child.stderr()}`)), timeoutMs);
    const check = () => {
      const text = child.stdout();
      if (text.includes('\n')) done(null, text.slice(0, text.indexOf('\n')));
    };
    const exited = () => done(new Error(`the writer exited: ${child.stderr()}`));
    function done(error: Error | null, line = '') {
      clearTimeout(timer);
      stdout.off('data', check);
      child.proc.off('exit', exited);
      if (error) reject(error);
      else resolve(line);
    }
    stdout.on('data', check);
    child.proc.on('exit', exited);
    check();
  });
}

const named = (status: number) => statusToString(status);

/** Reads record `index` one of four ways (by index), asserts it, closes what it carried. */
function readAndCheck(h: number, index: number, planned: Planned): void {
  const mode = index % 4;
  const expectOk = planned.status === 'ZX_OK';
  if (mode === 3 && expectOk && planned.bytes! > 0) {
    // One byte short first: BUFFER_TOO_SMALL with the real sizes, the message stays.
    const small = sys.channelRead(h, 0, planned.bytes! - 1, 64);
    expect({ index, status: named(small.status), bytes: small.actualBytes, handles: small.actualHandles }).toEqual({
      index,
      status: named(ZX_ERR_BUFFER_TOO_SMALL),
      bytes: planned.bytes,
      handles: planned.types!.length,
    });
  }
  let status: number;
  let bytes: Buffer = Buffer.alloc(0);
  let handles: number[] = [];
  let types: number[] | undefined;
  if (mode === 2) {
    const into = Buffer.alloc(65536);
    const values = new Uint32Array(64);
    const r = sys.channelReadInto(h, 0, into, values);
    status = r.status;
    bytes = into.subarray(0, r.actualBytes);
    handles = Array.from(values.subarray(0, r.actualHandles));
  } else if (mode === 1) {
    const r = sys.channelRead(h, 0, 65536, 64);
    ({ status, bytes, handles } = r);
  } else {
    const r = sys.channelReadEtc(h, 0, 65536, 64);
    status = r.status;
    bytes = r.bytes;
    handles = r.handles.map((info) => info.handle);
    types = r.handles.map((info) => info.type);
  }
  if (handles.length) expect(sys.handleCloseMany(handles)).toBe(ZX_OK);
  if (!expectOk) {
    expect({ index, how: planned.how, status: named(status), bytes: bytes.length, handles: handles.length }).toEqual({
      index,
      how: planned.how,
      status: planned.status,
      bytes: 0,
      handles: 0,
    });
    return;
  }
  expect({ index, status: named(status), handles: handles.length }).toEqual({
    index,
    status: 'ZX_OK',
    handles: planned.types!.length,
  });
  if (types) expect({ index, types }).toEqual({ index, types: planned.types });
  // toEqual on 64 KiB buffers is slow: compare, and show where they differ.
  const want = pattern(index, planned.bytes!);
  if (!bytes.equals(want)) {
    const at = (b: Buffer) => ({ index, length: b.length, head: b.subarray(0, 16) });
    expect(at(bytes)).toEqual(at(want));
  }
}

describe(`a hostile writer (seed ${SEED})`, () => {
  beforeAll(async () => {
    await warmUpSpawn();
    warmUpWait();
  });

  it(`${COUNT} random records, valid and broken: each read answers what was planned, and nothing leaks`, async () => {
    const handlesBefore = native.handleCount();
    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnWithEndpoint('python3', [fixture('hostile-writer.py'), String(SEED), String(COUNT)], out1);
    const plan: Planned[] = JSON.parse(await firstLine(child, 20_000));
    expect(plan).toHaveLength(COUNT);
    // Both kinds, and every way of breaking a record, are in the plan: on a stream those
    // that keep its frames, and one that ends it.
    expect(new Set(plan.map((p) => p.how ?? p.status)).size).toBe(portable ? 7 : 16);
    expect(plan.map((p) => p.ends ?? false).lastIndexOf(true)).toBe(portable ? COUNT - 1 : -1);
    const fds = openFdCount();
    for (let index = 0; index < COUNT; index++) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, `record ${index}: ${child.stderr()}`);
      readAndCheck(ch, index, plan[index]);
      expect({ index, fds: openFdCount(), handles: native.handleCount() }).toEqual({
        index,
        fds,
        handles: handlesBefore + 1,
      });
    }
    if (portable) expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    // The writer's word to go (on a stream that ended, it learns that instead).
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(portable ? ZX_ERR_PEER_CLOSED : ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleClose(ch)).toBe(ZX_OK);
    expect(native.handleCount()).toBe(handlesBefore);
  });
});
