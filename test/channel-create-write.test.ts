// channelCreate and channelWrite: every status, the order in which errors are checked,
// and "handles are consumed on success and on every failure" (README.md, "API").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
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
  ZX_ERR_TIMED_OUT,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_INVALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WRITE,
  statusToString,
} from '../lib/index';
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

const KOID_TOP_BIT = 1n << 63n;

beforeAll(() => warmUpWaits());
afterAll(() => removeScratchDir());

describe('channelCreate', () => {
  it.each([1, 2, 0xff, 0x80000000])('options %s → INVALID_ARGS with both out handles 0', (options) => {
    const before = baseline();
    expect(sys.channelCreate(options)).toEqual({
      status: ZX_ERR_INVALID_ARGS,
      out0: ZX_HANDLE_INVALID,
      out1: ZX_HANDLE_INVALID,
    });
    expectBaseline(before);
  });

  it('makes two distinct handles with the fixed bits set, default rights and paired koids', () => {
    const before = baseline();
    const r = sys.channelCreate(0);
    expect(r.status).toBe(ZX_OK);
    const { out0, out1 } = r;
    expect(out0).not.toBe(0);
    expect(out1).not.toBe(0);
    expect(out0 & 3).toBe(3);
    expect(out1 & 3).toBe(3);
    expect(out0).not.toBe(out1);

    const i0 = basic(out0);
    const i1 = basic(out1);
    expect(i0.rights).toBe(0xf00e);
    expect(i1.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(i0.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(i1.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(typeof i0.koid).toBe('bigint');
    expect(i0.koid).not.toBe(i1.koid);
    expect(i0.relatedKoid).toBe(i1.koid);
    expect(i1.relatedKoid).toBe(i0.koid);
    expect(i0.koid & KOID_TOP_BIT).toBe(KOID_TOP_BIT);
    expect(i1.koid & KOID_TOP_BIT).toBe(KOID_TOP_BIT);
    closeAll(out0, out1);
    expectBaseline(before);
  });

  it('gives every endpoint of many channels its own koid and handle value', () => {
    const koids = new Set<bigint>();
    const values = new Set<number>();
    const all: number[] = [];
    for (let i = 0; i < 50; i++) {
      const [a, b] = channel();
      all.push(a, b);
      values.add(a).add(b);
      koids.add(basic(a).koid).add(basic(b).koid);
    }
    expect(values.size).toBe(100);
    expect(koids.size).toBe(100);
    closeAll(...all);
  });

  it('a fresh endpoint signals exactly WRITABLE', () => {
    const [a, b] = channel();
    expect(sys.objectWaitOne(a, 0, 0n)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.objectWaitOne(b, 0, 0n)).toEqual({ status: ZX_ERR_TIMED_OUT, observed: ZX_CHANNEL_WRITABLE });
    closeAll(a, b);
  });
});

describe('channelWrite: delivery', () => {
  it('zero-byte, zero-handle messages are real messages (null and empty bytes)', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, null, null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, new Uint8Array(0), [])).toBe(ZX_OK);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
    for (let i = 0; i < 2; i++) {
      expect(sys.channelRead(b, 0, 0, 0)).toEqual({
        status: ZX_OK,
        bytes: Buffer.alloc(0),
        handles: [],
        actualBytes: 0,
        actualHandles: 0,
      });
    }
    expect(sys.channelRead(b, 0, 0, 0).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(a, b);
  });

  it.each([1, 2, 3])('a %s-byte message is delivered as written', (n) => {
    const [a, b] = channel();
    const payload = Uint8Array.from({ length: n }, (_, i) => 0xa0 + i);
    expect(sys.channelWrite(a, 0, payload, null)).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, n, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualBytes).toBe(n);
    expect([...r.bytes]).toEqual([...payload]);
    closeAll(a, b);
  });

  it('works in both directions', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('ping'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(b, 0, Buffer.from('pong'), null)).toBe(ZX_OK);
    expect(readAll(b).bytes.toString()).toBe('ping');
    expect(readAll(a).bytes.toString()).toBe('pong');
    closeAll(a, b);
  });

  it('65536 bytes and 64 handles fit in one message', () => {
    const before = baseline();
    const [a, b] = channel();
    const payload = Buffer.alloc(65536);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const sent: number[] = [];
    const kept: number[] = [];
    for (let i = 0; i < 32; i++) {
      const [x, y] = channel();
      sent.push(x, y);
    }
    expect(sent.length).toBe(64);
    const koids = sent.map((h) => basic(h).koid);
    expect(sys.channelWrite(a, 0, payload, sent)).toBe(ZX_OK);
    for (const h of sent) expect(isValid(h)).toBe(false);
    const r = sys.channelRead(b, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualBytes).toBe(65536);
    expect(r.actualHandles).toBe(64);
    expect(r.bytes.equals(payload)).toBe(true);
    expect(r.handles.map((h) => basic(h).koid)).toEqual(koids);
    kept.push(...r.handles);
    closeAll(a, b, ...kept);
    expectBaseline(before);
  });

  it('writing the peer endpoint into the channel is allowed', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('x'), [b])).toBe(ZX_OK);
    expect(isValid(b)).toBe(false);
    expect(isValid(a)).toBe(true);
    closeAll(a);
    expectBaseline(before);
  });

  it('an FD handle travels too', () => {
    const before = baseline();
    const [a, b] = channel();
    const f = pipeWriteHandle();
    const info = basic(f);
    expect(sys.channelWrite(a, 0, null, [f])).toBe(ZX_OK);
    expect(isValid(f)).toBe(false);
    const { handles } = readAll(b);
    expect(handles).toHaveLength(1);
    expect(handles[0]).not.toBe(f);
    expect(basic(handles[0])).toEqual(info);
    closeAll(a, b, handles[0]);
    expectBaseline(before);
  });
});

describe('channelWrite: ZX_CHANNEL_WRITE_USE_IOVEC', () => {
  it('concatenates the chunks into one message', () => {
    const [a, b] = channel();
    const chunks = [Buffer.from('he'), new Uint8Array(0), Buffer.from('llo'), Buffer.from(' '), Buffer.from('world')];
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, chunks, null)).toBe(ZX_OK);
    expect(readAll(b).bytes.toString()).toBe('hello world');
    closeAll(a, b);
  });

  it('an empty chunk list or null is a zero-byte message', () => {
    const [a, b] = channel();
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, [], null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, null, null)).toBe(ZX_OK);
    expect(sys.channelRead(b, 0, 0, 0).status).toBe(ZX_OK);
    expect(sys.channelRead(b, 0, 0, 0).status).toBe(ZX_OK);
    expect(sys.channelRead(b, 0, 0, 0).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });

  it('carries handles like a plain write', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, [Buffer.from('a'), Buffer.from('b')], [x])).toBe(ZX_OK);
    const r = readAll(b);
    expect(r.bytes.toString()).toBe('ab');
    expect(r.handles).toHaveLength(1);
    expect(basic(r.handles[0]).relatedKoid).toBe(basic(y).koid);
    closeAll(a, b, y, r.handles[0]);
  });

  it('accepts exactly 8192 chunks (ZX_CHANNEL_MAX_MSG_IOVECS)', () => {
    const before = baseline();
    const [a, b] = channel();
    const chunks = Array.from({ length: 8192 }, (_, i) => Uint8Array.of(i & 0xff));
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, chunks, null)).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 65536, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.actualBytes).toBe(8192);
    expect(r.bytes.equals(Buffer.from(chunks.map((c) => c[0])))).toBe(true);
    closeAll(a, b);
    expectBaseline(before);
  });

  it('accepts 1024 chunks (as many as Linux takes in one sendmsg, plus our header)', () => {
    const [a, b] = channel();
    const chunks = Array.from({ length: 1024 }, (_, i) => Uint8Array.of(i & 0xff, 0xee));
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, chunks, null)).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 65536, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.equals(Buffer.concat(chunks))).toBe(true);
    closeAll(a, b);
  });

  it('accepts 2048 chunks totalling 65536 bytes', () => {
    const [a, b] = channel();
    const chunks = Array.from({ length: 2048 }, (_, i) => new Uint8Array(32).fill(i & 0xff));
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, chunks, null)).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 65536, 0);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.equals(Buffer.concat(chunks))).toBe(true);
    closeAll(a, b);
  });
});

describe('channelWrite: JS misuse throws TypeError', () => {
  it('a string as handle', () => {
    const [a, b] = channel();
    expect(() => sys.channelWrite('1' as unknown as number, 0, null, null)).toThrow(TypeError);
    expect(() => sys.channelWrite(a, 0, null, ['x'] as unknown as number[])).toThrow(TypeError);
    expect(() => sys.channelWrite(-1, 0, null, null)).toThrow(TypeError);
    expect(() => sys.channelWrite(1.5, 0, null, null)).toThrow(TypeError);
    closeAll(a, b);
  });

  it('a number or a string as bytes', () => {
    const [a, b] = channel();
    expect(() => sys.channelWrite(a, 0, 5 as unknown as Uint8Array, null)).toThrow(TypeError);
    expect(() => sys.channelWrite(a, 0, 'hello' as unknown as Uint8Array, null)).toThrow(TypeError);
    expect(() => sys.channelWrite(a, 0, [Buffer.from('x')], null)).toThrow(TypeError);
    expect(() => sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, Buffer.from('x'), null)).toThrow(TypeError);
    expect(() =>
      sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, [Buffer.from('x'), 3] as unknown as Uint8Array[], null),
    ).toThrow(TypeError);
    // Nothing was sent by any of those.
    expect(sys.channelRead(b, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b);
  });
});

// ---- failure paths ----------------------------------------------------------------------

interface Built {
  target: number;
  options: number;
  bytes: Uint8Array | Uint8Array[] | null;
  handles: number[];
}

interface FailureCase {
  name: string;
  expected: number;
  /** `ctx` creates the usual cargo and remembers what to check and close afterwards. */
  build(ctx: Ctx): Built;
}

class Ctx {
  /** Channel endpoints created by the case that are not passed to the write. */
  readonly live: number[] = [];
  /** Endpoints whose peer was passed to the write: they must see PEER_CLOSED. */
  readonly watchPeerClosed: number[] = [];
  /** The target's peer, when the target is a channel: nothing may arrive there. */
  targetPeer: number | null = null;
  /** Whether the case consumes the target itself (it is in its own handle list). */
  targetConsumed = false;

  /** A channel to write on; its peer stays here. */
  target(): number {
    const [a, b] = channel();
    this.live.push(a, b);
    this.targetPeer = b;
    return a;
  }

  /** A channel endpoint to carry; its peer is kept and watched. */
  carriedEndpoint(): number {
    const [x, y] = channel();
    this.live.push(y);
    this.watchPeerClosed.push(y);
    return x;
  }

  /** An FD handle to carry (a pipe end). */
  carriedFd(): number {
    return pipeReadHandle();
  }

  /** A carried endpoint without TRANSFER. */
  noTransfer(): number {
    return replace(this.carriedEndpoint(), ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_TRANSFER);
  }

  /** A channel endpoint handle that is not the target and not carried (stays open). */
  keep(h: number): number {
    this.live.push(h);
    return h;
  }
}

const bytes = (n: number) => new Uint8Array(n).fill(0x5a);
const RANDOM_11 = 0x5a5a5a5b; // low bits 11, never handed out
const LOW_00 = 0b100;

const failures: FailureCase[] = [
  ...[1, 4, 0xfd, 0xff, 0x80000000].map<FailureCase>((options) => ({
    name: `options ${options.toString(16)} → INVALID_ARGS`,
    expected: ZX_ERR_INVALID_ARGS,
    build: (c) => ({
      target: c.target(),
      options,
      // Unknown bits: the bytes are not looked at, whatever the iovec bit says.
      bytes: bytes(3),
      handles: [c.carriedEndpoint(), c.carriedFd()],
    }),
  })),
  {
    name: 'bad options are checked before the handle: bad options + handle 0 → INVALID_ARGS',
    expected: ZX_ERR_INVALID_ARGS,
    build: (c) => ({ target: 0, options: 1, bytes: bytes(3), handles: [c.carriedEndpoint(), c.carriedFd()] }),
  },
  {
    name: 'bad options + stale handle → INVALID_ARGS',
    expected: ZX_ERR_INVALID_ARGS,
    build: (c) => ({ target: staleHandle(), options: 0xff, bytes: null, handles: [c.carriedEndpoint()] }),
  },
  {
    name: 'bad options + FD target → INVALID_ARGS',
    expected: ZX_ERR_INVALID_ARGS,
    build: (c) => {
      const fd = pipeWriteHandle();
      c.live.push(fd);
      return { target: fd, options: 1, bytes: null, handles: [c.carriedEndpoint()] };
    },
  },
  {
    name: 'bad options + oversized payload → INVALID_ARGS',
    expected: ZX_ERR_INVALID_ARGS,
    build: (c) => ({ target: c.target(), options: 1, bytes: bytes(65537), handles: [c.carriedEndpoint()] }),
  },
  {
    name: 'handle 0 → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({ target: 0, options: 0, bytes: bytes(1), handles: [c.carriedEndpoint(), c.carriedFd()] }),
  },
  {
    name: 'a stale (closed) handle → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({
      target: staleHandle(),
      options: 0,
      bytes: bytes(1),
      handles: [c.carriedEndpoint(), c.carriedFd()],
    }),
  },
  {
    name: 'a value never handed out (low bits 11) → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({ target: RANDOM_11, options: 0, bytes: bytes(1), handles: [c.carriedEndpoint()] }),
  },
  {
    name: 'a value with low bits 00 → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({ target: LOW_00, options: 0, bytes: bytes(1), handles: [c.carriedEndpoint()] }),
  },
  {
    name: 'bad handle + oversized payload → BAD_HANDLE (handle before size)',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({ target: staleHandle(), options: 0, bytes: bytes(65537), handles: [c.carriedEndpoint()] }),
  },
  {
    name: 'an FD handle (pipe write end) as target → WRONG_TYPE',
    expected: ZX_ERR_WRONG_TYPE,
    build: (c) => {
      const fd = pipeWriteHandle();
      c.live.push(fd);
      return { target: fd, options: 0, bytes: bytes(2), handles: [c.carriedEndpoint(), c.carriedFd()] };
    },
  },
  {
    name: 'an FD handle without WRITE (pipe read end) as target → WRONG_TYPE before ACCESS_DENIED',
    expected: ZX_ERR_WRONG_TYPE,
    build: (c) => {
      const fd = pipeReadHandle();
      c.live.push(fd);
      return { target: fd, options: 0, bytes: bytes(2), handles: [c.carriedEndpoint()] };
    },
  },
  {
    name: 'an FD handle of a file as target → WRONG_TYPE',
    expected: ZX_ERR_WRONG_TYPE,
    build: (c) => {
      const fd = fileHandle('r+');
      c.live.push(fd);
      return { target: fd, options: 0, bytes: null, handles: [c.carriedFd()] };
    },
  },
  {
    name: 'a target without WRITE → ACCESS_DENIED',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => {
      const t = c.target();
      c.live.splice(c.live.indexOf(t), 1);
      const reduced = c.keep(replace(t, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WRITE));
      return { target: reduced, options: 0, bytes: bytes(2), handles: [c.carriedEndpoint(), c.carriedFd()] };
    },
  },
  {
    name: 'no WRITE + oversized payload → ACCESS_DENIED (handle before size)',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => {
      const t = c.target();
      c.live.splice(c.live.indexOf(t), 1);
      const reduced = c.keep(replace(t, ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WRITE));
      return { target: reduced, options: 0, bytes: bytes(65537), handles: [c.carriedEndpoint()] };
    },
  },
  {
    name: '65537 bytes → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(65537),
      handles: [c.carriedEndpoint(), c.carriedFd()],
    }),
  },
  {
    name: '65 handles → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(8),
      handles: Array.from({ length: 65 }, (_, i) => (i % 2 ? c.carriedFd() : c.carriedEndpoint())),
    }),
  },
  {
    name: '100 handles → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: null,
      handles: Array.from({ length: 100 }, () => c.carriedEndpoint()),
    }),
  },
  {
    name: 'oversized payload + a stale handle in the list → OUT_OF_RANGE (size before handles)',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(65537),
      handles: [c.carriedEndpoint(), staleHandle()],
    }),
  },
  {
    name: 'iovec: 8193 chunks → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: ZX_CHANNEL_WRITE_USE_IOVEC,
      bytes: Array.from({ length: 8193 }, () => new Uint8Array(0)),
      handles: [c.carriedEndpoint()],
    }),
  },
  {
    name: 'iovec: chunks totalling 65537 bytes → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: ZX_CHANNEL_WRITE_USE_IOVEC,
      bytes: [bytes(32768), bytes(32768), bytes(1)],
      handles: [c.carriedEndpoint(), c.carriedFd()],
    }),
  },
  {
    name: 'iovec: one chunk of 65537 bytes → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => ({
      target: c.target(),
      options: ZX_CHANNEL_WRITE_USE_IOVEC,
      bytes: [bytes(65537)],
      handles: [c.carriedEndpoint()],
    }),
  },
  {
    name: 'the endpoint itself in its handles → NOT_SUPPORTED',
    expected: ZX_ERR_NOT_SUPPORTED,
    build: (c) => {
      const t = c.target();
      c.targetConsumed = true;
      return { target: t, options: 0, bytes: bytes(2), handles: [c.carriedEndpoint(), t, c.carriedFd()] };
    },
  },
  {
    name: 'a handle repeated in the list → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => {
      const x = c.carriedEndpoint();
      return { target: c.target(), options: 0, bytes: bytes(2), handles: [x, c.carriedFd(), x] };
    },
  },
  {
    name: 'a stale handle in the list → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(2),
      handles: [c.carriedEndpoint(), staleHandle(), c.carriedFd()],
    }),
  },
  {
    name: 'handle 0 in the list → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({ target: c.target(), options: 0, bytes: null, handles: [c.carriedEndpoint(), 0] }),
  },
  {
    name: 'a handle without TRANSFER in the list → ACCESS_DENIED',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(2),
      handles: [c.carriedFd(), c.noTransfer(), c.carriedEndpoint()],
    }),
  },
  {
    name: 'an FD handle without TRANSFER in the list → ACCESS_DENIED',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: bytes(2),
      handles: [replace(c.carriedFd(), 0xc007 & ~ZX_RIGHT_TRANSFER)],
    }),
  },
  {
    name: 'first error is latched: [no TRANSFER, stale] → ACCESS_DENIED',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: null,
      handles: [c.carriedEndpoint(), c.noTransfer(), staleHandle()],
    }),
  },
  {
    name: 'first error is latched: [stale, no TRANSFER] → BAD_HANDLE',
    expected: ZX_ERR_BAD_HANDLE,
    build: (c) => ({
      target: c.target(),
      options: 0,
      bytes: null,
      handles: [staleHandle(), c.noTransfer(), c.carriedEndpoint()],
    }),
  },
  {
    name: 'first error is latched: [self, no TRANSFER] → NOT_SUPPORTED',
    expected: ZX_ERR_NOT_SUPPORTED,
    build: (c) => {
      const t = c.target();
      c.targetConsumed = true;
      return { target: t, options: 0, bytes: null, handles: [t, c.noTransfer()] };
    },
  },
  {
    name: 'the peer closed → PEER_CLOSED',
    expected: ZX_ERR_PEER_CLOSED,
    build: (c) => {
      const t = c.target();
      expect(sys.handleClose(c.targetPeer!)).toBe(ZX_OK);
      c.live.splice(c.live.indexOf(c.targetPeer!), 1);
      c.targetPeer = null;
      return { target: t, options: 0, bytes: bytes(5), handles: [c.carriedEndpoint(), c.carriedFd()] };
    },
  },
  {
    name: 'peer closed + a handle without TRANSFER → ACCESS_DENIED (handles before peer)',
    expected: ZX_ERR_ACCESS_DENIED,
    build: (c) => {
      const t = c.target();
      expect(sys.handleClose(c.targetPeer!)).toBe(ZX_OK);
      c.live.splice(c.live.indexOf(c.targetPeer!), 1);
      c.targetPeer = null;
      return { target: t, options: 0, bytes: bytes(5), handles: [c.carriedEndpoint(), c.noTransfer()] };
    },
  },
  {
    name: 'peer closed + oversized payload → OUT_OF_RANGE',
    expected: ZX_ERR_OUT_OF_RANGE,
    build: (c) => {
      const t = c.target();
      expect(sys.handleClose(c.targetPeer!)).toBe(ZX_OK);
      c.live.splice(c.live.indexOf(c.targetPeer!), 1);
      c.targetPeer = null;
      return { target: t, options: 0, bytes: bytes(65537), handles: [c.carriedEndpoint()] };
    },
  },
];

describe('channelWrite: failures consume the handles passed and leak nothing', () => {
  it.each(failures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const before = baseline();
    const ctx = new Ctx();
    const built = f.build(ctx);
    // Handles that are live before the call must all be gone after it.
    const passedLive = built.handles.filter((h) => h !== 0 && isValid(h));
    const status = sys.channelWrite(built.target, built.options, built.bytes, built.handles);
    expect(statusToString(status)).toBe(statusToString(f.expected));
    for (const h of passedLive) expect(isValid(h)).toBe(false);
    // Carried endpoints were destroyed, not leaked: their peers see PEER_CLOSED now.
    for (const y of ctx.watchPeerClosed) {
      expect(sys.objectWaitOne(y, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(5_000_000_000n)).status).toBe(ZX_OK);
    }
    // Nothing was delivered.
    if (ctx.targetPeer !== null) {
      const r = sys.channelRead(ctx.targetPeer, 0, 65536, 64);
      expect(statusToString(r.status)).toBe(
        statusToString(ctx.targetConsumed ? ZX_ERR_PEER_CLOSED : ZX_ERR_SHOULD_WAIT),
      );
    }
    if (ctx.targetConsumed) expect(isValid(built.target)).toBe(false);
    closeAll(...ctx.live.filter((h) => !(ctx.targetConsumed && h === built.target)));
    expectBaseline(before);
  });
});

describe('channelWrite: NOT_SUPPORTED for the endpoint itself', () => {
  it('consumes the endpoint; its peer still reads what came before, then PEER_CLOSED', () => {
    const before = baseline();
    const [a, b] = channel();
    expect(sys.channelWrite(a, 0, Buffer.from('first'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(a, 0, Buffer.from('second'), [a])).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(isValid(a)).toBe(false);
    expect(sys.channelWrite(a, 0, null, null)).toBe(ZX_ERR_BAD_HANDLE);
    expect(signalsOf(b)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    expect(readAll(b).bytes.toString()).toBe('first');
    expect(signalsOf(b)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(b, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(b);
    expectBaseline(before);
  });
});

describe('channelWrite: PEER_CLOSED', () => {
  it('after the peer closed, every write answers PEER_CLOSED and the signals say so', () => {
    const before = baseline();
    const [a, b] = channel();
    closeAll(b);
    expect(signalsOf(a)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelWrite(a, 0, null, null)).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.channelWrite(a, 0, Buffer.from('x'), null)).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.channelWrite(a, ZX_CHANNEL_WRITE_USE_IOVEC, [Buffer.from('x')], null)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(a);
    expectBaseline(before);
  });
});

describe('channelWrite: a failed write leaves the channel usable', () => {
  it('a later good write on the same endpoint is delivered, alone', () => {
    const [a, b] = channel();
    const [x, y] = channel();
    expect(sys.channelWrite(a, 0, bytes(65537), [x])).toBe(ZX_ERR_OUT_OF_RANGE);
    expect(sys.channelWrite(a, 0, Buffer.from('ok'), null)).toBe(ZX_OK);
    const r = sys.channelRead(b, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.toString()).toBe('ok');
    expect(r.handles).toEqual([]);
    expect(sys.channelRead(b, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(a, b, y);
  });
});

describe('unknown option bits on every writing call', () => {
  // Zircon answers INVALID_ARGS from the options before it looks at the handle or the
  // bytes, and consumes the handles all the same; 0xff includes ZX_CHANNEL_WRITE_USE_IOVEC,
  // so the bytes given (one Uint8Array, or a chunk list without that bit) must not matter.
  const calls: [
    string,
    (h: number, options: number, payload: Uint8Array | Uint8Array[], carried: number) => Promise<number> | number,
  ][] = [
    ['channelWrite', (h, o, p, c) => sys.channelWrite(h, o, p, [c])],
    [
      'channelWriteEtc',
      (h, o, p, c) =>
        sys.channelWriteEtc(h, o, p, [{ operation: 0, handle: c, type: 0, rights: 0x80000000, result: ZX_OK }]),
    ],
    [
      'channelCall',
      (h, o, p, c) => sys.channelCall(h, o, 0n, { bytes: p, handles: [c], readNumBytes: 64, readNumHandles: 0 }).status,
    ],
    [
      'channelCallEtc',
      (h, o, p, c) =>
        sys.channelCallEtc(h, o, 0n, {
          bytes: p,
          handles: [{ operation: 0, handle: c, type: 0, rights: 0x80000000, result: ZX_OK }],
          readNumBytes: 64,
          readNumHandles: 0,
        }).status,
    ],
    [
      'channelCallAsync',
      async (h, o, p, c) =>
        (await sys.channelCallAsync(h, o, 0n, { bytes: p, handles: [c], readNumBytes: 64, readNumHandles: 0 })).status,
    ],
    [
      'channelCallEtcAsync',
      async (h, o, p, c) =>
        (
          await sys.channelCallEtcAsync(h, o, 0n, {
            bytes: p,
            handles: [{ operation: 0, handle: c, type: 0, rights: 0x80000000, result: ZX_OK }],
            readNumBytes: 64,
            readNumHandles: 0,
          })
        ).status,
    ],
  ];
  const shapes: [string, number, Uint8Array | Uint8Array[]][] = [
    ['0xff with one Uint8Array', 0xff, new Uint8Array(8)],
    ['0x4 with a chunk list', 0x4, [new Uint8Array(8)]],
    ['0x80000002 with one Uint8Array', 0x80000002, new Uint8Array(8)],
  ];
  for (const [fn, call] of calls) {
    it.each(shapes)(
      `${fn}: options %s → INVALID_ARGS, the handle consumed, nothing sent`,
      async (_, options, payload) => {
        const before = baseline();
        const [a, b] = channel();
        const [carried, carriedPeer] = channel();
        expect(await call(a, options, payload, carried)).toBe(ZX_ERR_INVALID_ARGS);
        expect(isValid(carried)).toBe(false);
        expect(signalsOf(carriedPeer)).toBe(ZX_CHANNEL_PEER_CLOSED);
        expect(signalsOf(b)).toBe(ZX_CHANNEL_WRITABLE);
        closeAll(a, b, carriedPeer);
        expectBaseline(before);
      },
    );
  }
});
