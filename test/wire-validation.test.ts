// Records from a writer that is not this library: each bad one is dropped with its
// descriptors closed (ZX_ERR_IO_DATA_INTEGRITY) and the next reads normally; a reader
// out of descriptors gets ZX_ERR_NO_RESOURCES and leaks nothing. On the portable backend
// (frames on a stream) bytes that are no header can't be skipped: that read answers
// IO_DATA_INTEGRITY and the channel ends there (docs/architecture.md, "Backends").
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_NO_RESOURCES,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_INFO_HANDLE_BASIC,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHTS_BASIC,
  ZX_USER_SIGNAL_3,
  ZX_USER_SIGNAL_4,
} from '../lib/index';
import { native } from '../lib/native';
import { openFdCount } from './fixtures/fds';
import { fixture, reportOf, spawnWithEndpoint, waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { portable } from './fixtures/backend';

let fdsBefore: number;
let handlesBefore: number;

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});

beforeEach(() => {
  fdsBefore = openFdCount();
  handlesBefore = native.handleCount();
});
afterEach(() => {
  expect(native.handleCount()).toBe(handlesBefore);
  expect(openFdCount()).toBe(fdsBefore);
});

// What raw-records.py sends, in order; the ones marked with a pipe carry the read end of
// a pipe whose write end the script keeps, so it can tell whether the reader closed it.
// Each breaks one rule: pages and doorbells are the backend's own kind
// (test/fixtures/zx_memory.py, zx_doorbell.py) unless the name says otherwise. A page that
// could be shrunk is an unsealed memfd, or on the portable backend a regular file (not a
// shared-memory object); a page no holder can write is sealed against writes, or there
// opened read-only; a silent doorbell is an eventfd whose counter is 0, on the portable
// backend not its kind at all (docs/wire-format.md; docs/objects.md, "VMOs on the portable
// backend").
const BAD_RECORDS = [
  'garbage', //            bad magic (with a pipe)
  'short', //              shorter than a header
  'bad-version', //        version 2
  'bad-flags', //          flags 1
  'length-mismatch', //    num_bytes 10, 5 bytes follow (with a pipe)
  'missing-fd', //         2 handles declared, 1 descriptor attached
  'extra-fd', //           0 handles declared, 1 descriptor attached
  'channel-not-socket', // a CHANNEL entry, a pipe attached
  'channel-listening', //  a CHANNEL entry, a listening SEQPACKET socket attached
  'channel-unconnected', // a CHANNEL entry, a SEQPACKET socket never connected attached
  'unknown-type', //       an entry of type 0xBEEF (with a pipe)
  'event-one-fd', //       an EVENT entry (2 descriptors) with 1 (a pipe)
  'event-pipes', //        an EVENT entry with two pipes instead of a page and a doorbell
  'event-unsealed', //     an EVENT entry whose page could be shrunk under a mapping
  'event-silent-doorbell', // an EVENT entry whose eventfd's counter is 0: a ring would wake nobody
  'port', //               a PORT entry: ports never travel (with a pipe)
  'signals-missing', //    a CHANNEL entry with its user signals' page (0x80000000), no page attached
  'signals-pipes', //      ... two pipes instead of the page and doorbell
  'signals-unsealed', //   ... a page that could be shrunk under a mapping
  'signals-small', //      ... a page shorter than a page
  'signals-write-sealed', // ... a page no holder can write
  'signals-silent-doorbell', // ... a doorbell whose counter is 0
  'signals-on-fd', //      a plain descriptor's entry with a page: only channels, sockets and VMOs carry one
  'oversized', //          num_bytes 65536 but 70000 bytes follow: longer than any record
  'empty', //              0 bytes
];
// Those broken in their header or their length, which only a record's boundary shows: a
// stream can't find the next frame after them (each ends a framed channel, below).
const NO_HEADER = ['garbage', 'short', 'bad-version', 'bad-flags', 'length-mismatch', 'oversized', 'empty'];
const SENT = portable ? BAD_RECORDS.filter((name) => !NO_HEADER.includes(name)) : BAD_RECORDS;
const WITH_PIPE = [
  'garbage',
  'length-mismatch',
  'missing-fd',
  'extra-fd',
  'channel-not-socket',
  'unknown-type',
  'event-one-fd',
  'event-pipes',
  'event-pipes-second',
  'port',
  'signals-pipes',
  'signals-pipes-second',
  'signals-on-fd',
].filter((name) => SENT.includes(name.replace(/-second$/, '')));

describe('bad records from the wire', () => {
  it('each is dropped with its descriptors closed, and the valid one after them reads normally', async () => {
    const { status, out0: ch, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    const child = spawnWithEndpoint('python3', [fixture('raw-records.py'), ...SENT, 'valid'], out1);

    for (const name of SENT) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const fds = openFdCount();
      // The garbage one through the size-checking path (a read too small for any record).
      const r = name === 'garbage' ? sys.channelRead(ch, 0, 0, 0) : sys.channelReadEtc(ch, 0, 65536, 64);
      expect({ name, status: r.status, bytes: r.bytes.length, handles: r.handles.length }).toEqual({
        name,
        status: ZX_ERR_IO_DATA_INTEGRITY,
        bytes: 0,
        handles: 0,
      });
      expect(openFdCount()).toBe(fds);
      expect(native.handleCount()).toBe(handlesBefore + 1);
    }

    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
    const valid = sys.channelReadEtc(ch, 0, 65536, 64);
    expect(valid.status).toBe(ZX_OK);
    expect(valid.bytes.toString()).toBe('hello');
    expect(valid.handles).toHaveLength(2);
    const [pipe, channel] = valid.handles;
    // The entry claimed read-write; the descriptor is a pipe's read end: read only.
    expect(pipe.type).toBe(ZX_OBJ_TYPE_FD);
    expect(pipe.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_READ);
    expect(sys.objectGetInfo(pipe.handle, ZX_INFO_HANDLE_BASIC).info!.koid).toBe(0x8000000000c0ffeen);
    expect(channel.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(channel.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);

    // Tell the script to look at its pipes.
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const expected = Object.fromEntries(WITH_PIPE.map((name) => [name, 'closed']));
    expect(reportOf(child)).toEqual({ pipes: { ...expected, valid: 'open' } });

    // The valid record's handles work.
    const { fd } = fdio.fdCreate(pipe.handle);
    const buf = Buffer.alloc(64);
    expect(buf.toString('utf8', 0, readSync(fd, buf))).toBe('through the pipe');
    closeSync(fd);
    await waitSignals(channel.handle, ZX_CHANNEL_READABLE);
    const over = sys.channelRead(channel.handle, 0, 65536, 64);
    expect(over.status).toBe(ZX_OK);
    expect(over.bytes.toString()).toBe('over the new channel');
    // The script has exited: both channels' peers are gone.
    expect(sys.objectWaitOne(channel.handle, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_OK);
    expect(sys.objectWaitOne(ch, ZX_CHANNEL_PEER_CLOSED, 0n).status).toBe(ZX_OK);
    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleCloseMany([ch, channel.handle])).toBe(ZX_OK);
  });
});

describe('a record whose header is no header', () => {
  it.each(['garbage', 'bad-version', 'bad-flags', 'past-limits'])(
    '%s: IO_DATA_INTEGRITY, its descriptors closed; then the next record reads, or on a framed stream the channel ends',
    async (name) => {
      const { out0: ch, out1 } = sys.channelCreate(0);
      const child = spawnWithEndpoint('python3', [fixture('raw-records.py'), name, 'valid'], out1);
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const fds = openFdCount();
      const r = sys.channelReadEtc(ch, 0, 65536, 64);
      expect({ status: r.status, bytes: r.bytes.length, handles: r.handles.length }).toEqual({
        status: ZX_ERR_IO_DATA_INTEGRITY,
        bytes: 0,
        handles: 0,
      });
      expect(openFdCount()).toBe(fds);
      if (portable) {
        // The stream can't be read on: the channel is closed both ways, and what was queued
        // behind (the valid record and its descriptors) is thrown away with it.
        expect(sys.objectWaitOne(ch, 0, 0n).observed).toBe(ZX_CHANNEL_PEER_CLOSED);
        expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
        expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_ERR_PEER_CLOSED);
      }
      const handles: number[] = [];
      if (!portable) {
        await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
        const valid = sys.channelReadEtc(ch, 0, 65536, 64);
        expect([valid.status, valid.bytes.toString(), valid.handles.length]).toEqual([ZX_OK, 'hello', 2]);
        handles.push(...valid.handles.map((info) => info.handle));
        expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
      }
      expect(await child.closed).toEqual({ code: 0, signal: null });
      expect(child.stderr()).toBe('');
      const pipe = name === 'garbage' || name === 'past-limits' ? { [name]: 'closed' } : {};
      expect(reportOf(child)).toEqual({ pipes: { ...pipe, valid: portable ? 'closed' : 'open' } });
      expect(sys.handleCloseMany([ch, ...handles])).toBe(ZX_OK);
    },
  );
});

describe('a channel entry with its user signals’ page, from a peer that is not this library', () => {
  it('is read with the signals its page holds, and signals on it are set there', async () => {
    const { out0: ch, out1 } = sys.channelCreate(0);
    const child = spawnWithEndpoint('python3', [fixture('raw-records.py'), 'valid-signals'], out1);
    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
    const fds = openFdCount();
    const r = sys.channelReadEtc(ch, 0, 65536, 64);
    expect([r.status, r.bytes.toString(), r.handles.length]).toEqual([ZX_OK, 'signals', 1]);
    expect(openFdCount()).toBe(fds + 3);
    const [end] = r.handles;
    expect(end.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    // Side 0 (koid 5 < 6): the word the script wrote at offset 0.
    expect(sys.objectWaitOne(end.handle, 0, 0n).observed).toBe(ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_3);
    expect(sys.objectSignal(end.handle, ZX_USER_SIGNAL_3, ZX_USER_SIGNAL_4)).toBe(ZX_OK);
    expect(sys.objectWaitOne(end.handle, 0, 0n).observed).toBe(ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_4);
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(reportOf(child)).toEqual({ pipes: {} });
    expect(sys.handleCloseMany([ch, end.handle])).toBe(ZX_OK);
  });
});

describe('a reader out of descriptors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zx-wire-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gets ZX_ERR_NO_RESOURCES for a message with more descriptors than it has room for, and leaks none', async () => {
    const file = path.join(dir, 'file.txt');
    writeFileSync(file, 'the next message is fine');
    const { out0: ch, out1 } = sys.channelCreate(0);

    const fileFd = openSync(file, 'r');
    const clones = Array.from({ length: 16 }, () => fdio.fdClone(fileFd).handle);
    expect(sys.channelWrite(ch, 0, Buffer.from('crowded'), clones)).toBe(ZX_OK);
    expect(sys.channelWrite(ch, 0, Buffer.from('next'), [fdio.fdClone(fileFd).handle])).toBe(ZX_OK);
    closeSync(fileFd);

    // Node raises its soft limit to the hard limit at startup: lower both.
    const child = spawnWithEndpoint(
      'bash',
      ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, fixture('child-fd-limit.cjs'), '4'],
      out1,
    );
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const report = reportOf(child);
    expect(report).toEqual({
      ready: ZX_OK,
      filled: 'EMFILE',
      fdsBefore: report.fdsBefore,
      crowded: ZX_ERR_NO_RESOURCES,
      fdsAfter: report.fdsBefore, // nothing leaked
      next: { status: ZX_OK, bytes: 'next', handles: 1, contents: 'the next message is fine' },
    });

    expect(sys.channelRead(ch, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(ch)).toBe(ZX_OK);
  });
});
