// What wakes a sleeping thread, by backend (native/core/doorbell.h; docs/architecture.md,
// "Backends"): the Linux backend's eventfds, and on the portable backend (run with
// `npm run test:portable`) what a Mac has instead: pipes for a thread's and a port's wake
// flag, and for an event's doorbell a datagram socket connected to itself. Seen through
// the descriptors each object adds (/proc/self/fd and /proc/net/unix).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Event,
  Port,
  sys,
  ZX_CHANNEL_READABLE,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_TIMED_OUT,
  ZX_OBJ_TYPE_EVENT,
  ZX_OK,
  ZX_USER_SIGNAL_0,
} from '../lib/index';
import { isWakeFlagLink, portable } from './fixtures/backend';
import { fdLinks, openFdCount } from './fixtures/fds';
import { fixture, spawnWithEndpoint, waitSignals } from './fixtures/spawn';
import { inWorker } from './fixtures/threads';

/** The /proc/self/fd links of the descriptors `make` leaves open, sorted. */
function linksAdded(make: () => void): string[] {
  const before = fdLinks();
  make();
  const added: string[] = [];
  for (const [fd, link] of fdLinks()) if (before.get(fd) !== link) added.push(link);
  return added.sort();
}

/** A socket link's /proc/net/unix entry: its type (1 STREAM, 2 DGRAM, 5 SEQPACKET) and the
 *  name it was bound to (kept after the name is unlinked). */
function unixSocket(link: string): { type: number; path: string } | undefined {
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[6] === inode) return { type: Number.parseInt(cols[4], 16), path: cols[7] ?? '' };
  }
  return undefined;
}

const kind = (link: string) => link.replace(/\[\d+\]$/, '');

describe('wake flags and doorbells, by backend', () => {
  it(`a port: an epoll instance and its wake flag (${portable ? 'a pipe' : 'an eventfd'})`, () => {
    let port: Port | undefined;
    const added = linksAdded(() => {
      port = Port.create();
    });
    expect(added.map(kind)).toEqual(
      portable ? ['anon_inode:[eventpoll]', 'pipe:', 'pipe:'] : ['anon_inode:[eventfd]', 'anon_inode:[eventpoll]'],
    );
    port!.close();
  });

  it(`a thread's first blocking wait opens its wake flag (${portable ? 'a pipe' : 'an eventfd'}), closed when the thread ends`, async () => {
    const wakeFlagLinks = () => [...fdLinks().values()].filter(isWakeFlagLink).length;
    const wakeFlagsBefore = wakeFlagLinks();
    const worker = inWorker(
      `const { readdirSync, readlinkSync } = require('node:fs');
       const links = () => new Map(readdirSync('/proc/self/fd').map((fd) => { try { return [fd, readlinkSync('/proc/self/fd/' + fd)]; } catch { return [fd, '']; } }));
       const { out0, out1 } = sys.channelCreate(0);
       const before = links();
       const { status } = sys.objectWaitOne(out0, zx.ZX_CHANNEL_READABLE, sys.deadlineAfter(5_000_000n));
       const added = [...links()].filter(([fd, link]) => link && before.get(fd) !== link).map(([, link]) => link);
       sys.handleCloseMany([out0, out1]);
       parentPort.postMessage({ status, added });`,
      {},
    );
    const { status, added } = await worker.message;
    expect(await worker.exited).toBe(0);
    expect(status).toBe(ZX_ERR_TIMED_OUT);
    expect(added.map(kind)).toEqual(portable ? ['pipe:', 'pipe:'] : ['anon_inode:[eventfd]']);
    expect(added.every(isWakeFlagLink)).toBe(true);
    // The worker has ended: its wake flag is closed.
    expect(wakeFlagLinks()).toBe(wakeFlagsBefore);
  });

  it(`an event's doorbell: ${portable ? 'a datagram socket connected to itself, its name already unlinked' : 'an eventfd'}; no eventfd on the portable backend`, async () => {
    let event: Event | undefined;
    const added = linksAdded(() => {
      event = Event.create();
    });
    expect(added).toHaveLength(2); // the page and the doorbell
    const eventfds = added.filter((link) => link === 'anon_inode:[eventfd]');
    const sockets = added.filter((link) => link.startsWith('socket:'));
    if (!portable) {
      expect(eventfds).toHaveLength(1);
    } else {
      expect(eventfds).toEqual([]);
      expect(sockets).toHaveLength(1);
      const socket = unixSocket(sockets[0]);
      expect(socket?.type).toBe(2); // SOCK_DGRAM
      expect(socket?.path).toMatch(new RegExp(`/zircon-ipc-${process.pid}-[0-9a-f]{16}$`));
      expect(existsSync(socket!.path)).toBe(false);
    }
    // It rings: this thread, blocked in its wait, wakes at another thread's signal.
    const worker = inWorker(
      `whenBlocked(MAIN_THREAD, () => parentPort.postMessage(sys.objectSignal(workerData.e, 0, zx.ZX_USER_SIGNAL_0)));`,
      { e: event!.raw },
    );
    const started = process.hrtime.bigint();
    expect(sys.objectWaitOne(event!.raw, ZX_USER_SIGNAL_0, sys.deadlineAfter(30_000_000_000n))).toEqual({
      status: ZX_OK,
      observed: ZX_USER_SIGNAL_0,
    });
    expect(process.hrtime.bigint() - started).toBeLessThan(20_000_000_000n); // not at the deadline
    expect(await worker.message).toBe(ZX_OK);
    expect(await worker.exited).toBe(0);
    event!.close();
  });
});

describe('doorbells from a program that is not this library (test/fixtures/doorbell-records.py)', () => {
  // The backend's own kind of doorbell is taken; anything else is a bad record
  // (IO_DATA_INTEGRITY, its descriptors closed): docs/wire-format.md, event (type 5).
  // What the portable backend can't tell: that a datagram socket whose peer name is its
  // own is connected to itself, not to another socket bound to that name after its own
  // name was unlinked (its rings would then go there: the sender's own loss).
  const valid = portable ? 'dgram-self' : 'eventfd';
  const bad = [
    'eventfd',
    'eventfd-silent',
    'pipe',
    'dgram-unconnected',
    'dgram-elsewhere',
    'stream',
    'dgram-self',
  ].filter((name) => name !== valid);

  it(`only a ${portable ? 'datagram socket connected to itself' : 'ringing eventfd'} is taken for a doorbell, and a waiter here wakes when that program rings it`, async () => {
    const { out0: ch, out1 } = sys.channelCreate(0);
    const child = spawnWithEndpoint('python3', [fixture('doorbell-records.py'), ...bad, valid], out1);
    sys.handleClose(out1);
    for (const name of bad) {
      await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
      const fds = openFdCount();
      const r = sys.channelReadEtc(ch, 0, 65536, 64);
      expect({ name, status: r.status, handles: r.handles.length }).toEqual({
        name,
        status: ZX_ERR_IO_DATA_INTEGRITY,
        handles: 0,
      });
      expect(openFdCount()).toBe(fds);
    }
    await waitSignals(ch, ZX_CHANNEL_READABLE, 20_000, child.stderr());
    const r = sys.channelReadEtc(ch, 0, 65536, 64);
    expect({ status: r.status, bytes: r.bytes.toString(), type: r.handles[0]?.type }).toEqual({
      status: ZX_OK,
      bytes: valid,
      type: ZX_OBJ_TYPE_EVENT,
    });
    const event = r.handles[0].handle;
    const woke = sys.objectWaitOneAsync(event, ZX_USER_SIGNAL_0, sys.deadlineAfter(20_000_000_000n));
    expect(sys.channelWrite(ch, 0, Buffer.from('ring'), null)).toBe(ZX_OK);
    expect(await woke).toEqual({ status: ZX_OK, observed: ZX_USER_SIGNAL_0 });
    expect(sys.channelWrite(ch, 0, Buffer.from('done'), null)).toBe(ZX_OK);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleCloseMany([event, ch])).toBe(ZX_OK);
  });
});
