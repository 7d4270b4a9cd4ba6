// DATAGRAM sockets on a stream: on the portable backend, which has no SOCK_SEQPACKET (as
// macOS has none), a DATAGRAM end is a SOCK_STREAM socket and each datagram is framed
// (docs/wire-format.md, "Datagram sockets on a stream"). What a writer outside the library
// does to the stream is hostile input: pieces at every byte, descriptors attached, bytes
// that are no header, a writer killed mid-datagram. Nothing partial is ever delivered, and
// nothing is leaked (every test keeps the descriptor and handle baseline).
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { closeSync, readSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_INFO_SOCKET,
  ZX_OK,
  ZX_SOCKET_DATAGRAM,
  ZX_SOCKET_PEEK,
  ZX_SOCKET_PEER_CLOSED as PEER_CLOSED,
  ZX_SOCKET_READABLE as READABLE,
  ZX_SOCKET_WRITABLE as WRITABLE,
  ZX_TIME_INFINITE,
} from '../lib/index';
import { portable } from './fixtures/backend';
import { closeAll, signalsOf } from './fixtures/channels';
import { keepBaseline, socketPair } from './fixtures/core';
import { fixture, type Proc, watch } from './fixtures/proc-helpers';

keepBaseline();

const MAGIC = Buffer.from('ZXCD');
const MAX_DATAGRAM = 256 * 1024 - 32;

/** One datagram of `payload` as it is on the stream. */
function frame(payload: string | Buffer): Buffer {
  const bytes = Buffer.from(payload);
  const header = Buffer.alloc(8);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([header, bytes]);
}

/** A DATAGRAM pair, one end kept as a handle and the other given away as its descriptor. */
function endAndDescriptor(): { end: number; fd: number } {
  const [end, far] = socketPair(ZX_SOCKET_DATAGRAM);
  const { status, fd } = fdio.fdCreate(far);
  expect(status).toBe(ZX_OK);
  return { end, fd };
}

/** test/fixtures/datagram-frames.py in `mode` on a new pair's far end, once it has sent. */
async function outsideWriter(mode: 'fds' | 'half'): Promise<{ end: number; proc: ChildProcess; py: Proc }> {
  const { end, fd } = endAndDescriptor();
  const proc = spawnChild('python3', [fixture('datagram-frames.py'), mode], { stdio: ['pipe', 'pipe', 'pipe', fd] });
  closeSync(fd);
  const py = watch(proc);
  await py.line((l) => l === 'ok');
  return { end, proc, py };
}

function readStatus(h: number, length = 65536): number {
  return sys.socketRead(h, 0, length).status;
}

function readText(h: number, length = 65536, options = 0): string {
  const r = sys.socketRead(h, options, length);
  expect(r.status).toBe(ZX_OK);
  return r.bytes.toString();
}

describe.runIf(portable)('DATAGRAM sockets on a stream (the portable backend)', () => {
  it('each datagram goes framed: its 8-byte header (magic, length), then its bytes', () => {
    const { end, fd } = endAndDescriptor();
    expect(sys.socketWrite(end, 0, Buffer.from('abc'))).toEqual({ status: ZX_OK, actual: 3 });
    expect(sys.socketWrite(end, 0, Buffer.from('defgh'))).toEqual({ status: ZX_OK, actual: 5 });
    const out = Buffer.alloc(64);
    const n = readSync(fd, out);
    expect(out.subarray(0, n).equals(Buffer.concat([frame('abc'), frame('defgh')]))).toBe(true);
    closeSync(fd);
    closeAll(end);
  });

  it('a datagram written in two pieces, cut at every byte, is neither READABLE nor read until whole', () => {
    const { end, fd } = endAndDescriptor();
    const whole = frame('hello, datagram');
    for (let cut = 1; cut < whole.length; cut++) {
      expect(writeSync(fd, whole.subarray(0, cut))).toBe(cut);
      expect(signalsOf(end)).toBe(WRITABLE);
      expect(readStatus(end)).toBe(ZX_ERR_SHOULD_WAIT);
      expect(sys.socketRead(end, ZX_SOCKET_PEEK, 100).status).toBe(ZX_ERR_SHOULD_WAIT);
      expect(writeSync(fd, whole.subarray(cut))).toBe(whole.length - cut);
      expect(signalsOf(end)).toBe(READABLE | WRITABLE);
      expect(readText(end, 100, ZX_SOCKET_PEEK)).toBe('hello, datagram');
      expect(readText(end, 5)).toBe('hello'); // cut to the read's length, the rest discarded
      expect(readStatus(end)).toBe(ZX_ERR_SHOULD_WAIT);
    }
    closeSync(fd);
    closeAll(end);
  });

  it('an async wait started while part of a datagram is queued ends only when the rest comes', async () => {
    const { end, fd } = endAndDescriptor();
    const whole = frame('late');
    writeSync(fd, whole.subarray(0, 10));
    let done = false;
    const wait = sys.objectWaitOneAsync(end, READABLE, ZX_TIME_INFINITE).then((r) => {
      done = true;
      return r;
    });
    // Turns of the loop pass with the part queued: the wait is not woken for it.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    writeSync(fd, whole.subarray(10));
    expect(await wait).toEqual({ status: ZX_OK, observed: READABLE | WRITABLE });
    expect(readText(end)).toBe('late');
    closeSync(fd);
    closeAll(end);
  });

  it('a writer gone in the middle of a datagram: PEER_CLOSED, and the part is never delivered', () => {
    const { end, fd } = endAndDescriptor();
    writeSync(fd, frame('first'));
    writeSync(fd, frame('cut short').subarray(0, 12));
    closeSync(fd);
    expect(signalsOf(end)).toBe(READABLE | PEER_CLOSED);
    expect(readText(end)).toBe('first');
    expect(signalsOf(end)).toBe(PEER_CLOSED);
    expect(readStatus(end)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(end);
  });

  it('bytes that are no header: IO_DATA_INTEGRITY once, then the end reads as closed; what is queued behind is dropped', () => {
    for (const bad of [
      Buffer.from('nonsense, not a header'),
      Buffer.concat([MAGIC, Buffer.from([0xff, 0xff, 0xff, 0x7f])]), // past the largest datagram
      Buffer.from('ZXQQ'), // wrong from its third byte
    ]) {
      const { end, fd } = endAndDescriptor();
      writeSync(fd, frame('kept'));
      writeSync(fd, bad);
      writeSync(fd, frame('behind'));
      expect(readText(end)).toBe('kept');
      expect(signalsOf(end) & READABLE).toBe(READABLE); // the read tells what it is
      expect(readStatus(end)).toBe(ZX_ERR_IO_DATA_INTEGRITY);
      expect(signalsOf(end) & PEER_CLOSED).toBe(PEER_CLOSED);
      expect(readStatus(end)).toBe(ZX_ERR_PEER_CLOSED);
      expect(sys.socketWrite(end, 0, Buffer.from('x')).status).toBe(ZX_ERR_PEER_CLOSED);
      closeSync(fd);
      closeAll(end);
    }
  });

  it('an empty datagram from outside is skipped; a header alone waits for its bytes', () => {
    const { end, fd } = endAndDescriptor();
    writeSync(fd, frame(''));
    expect(readStatus(end)).toBe(ZX_ERR_SHOULD_WAIT);
    writeSync(fd, Buffer.concat([frame(''), frame('after')]));
    expect(readText(end)).toBe('after');
    writeSync(fd, frame('x'.repeat(1000)).subarray(0, 8));
    expect(readStatus(end)).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.objectGetInfo(end, ZX_INFO_SOCKET).info).toMatchObject({ rxBufSize: 0n, rxBufAvailable: 0n });
    writeSync(fd, Buffer.from('x'.repeat(1000)));
    expect(sys.objectGetInfo(end, ZX_INFO_SOCKET).info).toMatchObject({ rxBufSize: 1000n, rxBufAvailable: 1000n });
    expect(readText(end, 2000)).toBe('x'.repeat(1000));
    closeSync(fd);
    closeAll(end);
  });

  it('the largest datagram goes whole; one byte more is OUT_OF_RANGE; WRITABLE only while any datagram would go whole', () => {
    const [a, b] = socketPair(ZX_SOCKET_DATAGRAM);
    const largest = Buffer.alloc(MAX_DATAGRAM, 7);
    expect(sys.socketWrite(a, 0, Buffer.alloc(MAX_DATAGRAM + 1)).status).toBe(ZX_ERR_OUT_OF_RANGE);
    let sent = 0;
    for (;;) {
      const r = sys.socketWrite(a, 0, largest);
      if (r.status === ZX_ERR_SHOULD_WAIT) break;
      expect(r).toEqual({ status: ZX_OK, actual: MAX_DATAGRAM });
      sent++;
      expect(sent).toBeLessThan(100);
    }
    expect(sent).toBeGreaterThan(0);
    expect(signalsOf(a) & WRITABLE).toBe(0);
    // A small one waits too: a datagram goes only where any would go whole.
    expect(sys.socketWrite(a, 0, Buffer.from('small')).status).toBe(ZX_ERR_SHOULD_WAIT);
    const r = sys.socketRead(b, 0, MAX_DATAGRAM);
    expect(r.actual).toBe(MAX_DATAGRAM);
    expect(r.bytes.equals(largest)).toBe(true);
    expect(signalsOf(a) & WRITABLE).toBe(WRITABLE);
    for (let i = 1; i < sent; i++) expect(sys.socketRead(b, 0, MAX_DATAGRAM).actual).toBe(MAX_DATAGRAM);
    expect(readStatus(b)).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });

  it('descriptors a writer outside attaches to a datagram are closed, never kept; the datagrams read whole', async () => {
    const { end, proc, py } = await outsideWriter('fds');
    expect(readText(end)).toBe('one');
    expect(readText(end, 100, ZX_SOCKET_PEEK)).toBe('two');
    expect(readText(end)).toBe('two');
    proc.stdin!.end();
    await py.closed;
    expect(readStatus(end)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(end);
  });

  it('a writer killed in the middle of a datagram: PEER_CLOSED, nothing delivered', async () => {
    const { end, proc, py } = await outsideWriter('half');
    expect(readStatus(end)).toBe(ZX_ERR_SHOULD_WAIT);
    const closed = sys.objectWaitOneAsync(end, PEER_CLOSED, ZX_TIME_INFINITE);
    proc.kill('SIGKILL');
    expect(await closed).toEqual({ status: ZX_OK, observed: PEER_CLOSED });
    expect(readStatus(end)).toBe(ZX_ERR_PEER_CLOSED);
    await py.closed;
    closeAll(end);
  });
});
