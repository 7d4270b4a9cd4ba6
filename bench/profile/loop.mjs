// Tight single-process loops over one channel, for strace and callgrind:
//   node bench/profile/loop.mjs <variant> <iterations> [size]
// Variants:
//   write-read        channelWrite then channelRead (the message is already there)
//   write-read-into   channelWrite then channelReadInto one 64 KiB buffer and a handle array
//   write-wait-read   channelWrite, objectWaitOne(READABLE), channelRead (the sync face's receive)
//   write-etc-fds1    channelWriteEtc with 1 duplicated /dev/null handle, channelRead, handleCloseMany
//   write-etc-fds64   the same with 64
//   write-async-read  channelWrite, await objectWaitOneAsync, channelRead (resolves at once)
//   class-write-read  Channel.write, Channel.tryRead
//   class-call16      Channel.call, 16 in flight, answered by a 'message' listener that echoes
//   class-read-echo   Channel.write, await Channel.read() (it waits), the other end echoing
//                     from a 'message' listener
//   class-call16-iter class-call16 answered by a for-await loop that echoes (the bench's
//                     zx-async peer)
//   noop              nothing: the baseline of the process itself
// Prints the time per iteration; compare counts between two iteration numbers to subtract
// start-up (see docs/performance.md).
import { openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import zx from '../../dist/index.js';

const {
  sys,
  fdio,
  Channel,
  ZX_OK,
  ZX_CHANNEL_READABLE,
  ZX_TIME_INFINITE,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_OBJ_TYPE_NONE,
  ZX_RIGHT_SAME_RIGHTS,
} = zx;
const [variant = 'write-read', iterations = '100000', size = '16'] = process.argv.slice(2);
const n = Number(iterations);
const bytes = Buffer.alloc(Number(size));
const { out0: a, out1: b } = sys.channelCreate(0);

function fail(what, status) {
  throw new Error(`${what}: ${zx.statusToString(status)}`);
}

// channelWriteEtc with `count` ZX_HANDLE_OP_DUPLICATE dispositions of one /dev/null handle,
// channelRead, handleCloseMany (the receiver closes what it got).
function writeEtcFds(count) {
  const { handle } = fdio.fdTransfer(openSync('/dev/null', 'r+'));
  const list = [];
  for (let k = 0; k < count; k++) {
    list.push({
      operation: ZX_HANDLE_OP_DUPLICATE,
      handle,
      type: ZX_OBJ_TYPE_NONE,
      rights: ZX_RIGHT_SAME_RIGHTS,
      result: ZX_OK,
    });
  }
  for (let i = 0; i < n; i++) {
    const s = sys.channelWriteEtc(a, 0, bytes, list);
    if (s !== ZX_OK) fail('write', s);
    const r = sys.channelRead(b, 0, 65536, 64);
    if (r.status !== ZX_OK) fail('read', r.status);
    sys.handleCloseMany(r.handles);
  }
}

const variants = {
  noop() {},
  'write-read'() {
    for (let i = 0; i < n; i++) {
      const s = sys.channelWrite(a, 0, bytes, null);
      if (s !== ZX_OK) fail('write', s);
      const r = sys.channelRead(b, 0, 65536, 64);
      if (r.status !== ZX_OK) fail('read', r.status);
    }
  },
  'write-read-into'() {
    const into = Buffer.alloc(65536);
    const handles = new Uint32Array(64);
    for (let i = 0; i < n; i++) {
      const s = sys.channelWrite(a, 0, bytes, null);
      if (s !== ZX_OK) fail('write', s);
      const r = sys.channelReadInto(b, 0, into, handles);
      if (r.status !== ZX_OK) fail('read', r.status);
    }
  },
  'write-wait-read'() {
    for (let i = 0; i < n; i++) {
      const s = sys.channelWrite(a, 0, bytes, null);
      if (s !== ZX_OK) fail('write', s);
      sys.objectWaitOne(b, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
      const r = sys.channelRead(b, 0, 65536, 64);
      if (r.status !== ZX_OK) fail('read', r.status);
    }
  },
  'write-etc-fds1'() {
    writeEtcFds(1);
  },
  'write-etc-fds64'() {
    writeEtcFds(64);
  },
  async 'write-async-read'() {
    for (let i = 0; i < n; i++) {
      const s = sys.channelWrite(a, 0, bytes, null);
      if (s !== ZX_OK) fail('write', s);
      await sys.objectWaitOneAsync(b, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
      const r = sys.channelRead(b, 0, 65536, 64);
      if (r.status !== ZX_OK) fail('read', r.status);
    }
  },
  'class-write-read'() {
    const ca = new Channel(a);
    const cb = new Channel(b);
    for (let i = 0; i < n; i++) {
      ca.write(bytes);
      if (!cb.tryRead()) throw new Error('nothing read');
    }
  },
  async 'class-call16'() {
    const client = new Channel(a);
    const server = new Channel(b);
    server.on('message', (m) => server.write(m.bytes));
    const caller = async (count) => {
      const request = Buffer.alloc(Number(size));
      for (let i = 0; i < count; i++) await client.call(request);
    };
    await Promise.all(Array.from({ length: 16 }, () => caller(n / 16)));
    server.removeAllListeners('message');
  },
  async 'class-call16-iter'() {
    const client = new Channel(a);
    const server = new Channel(b);
    const serving = (async () => {
      for await (const m of server) server.write(m.bytes);
    })();
    const caller = async (count) => {
      const request = Buffer.alloc(Number(size));
      for (let i = 0; i < count; i++) await client.call(request);
    };
    await Promise.all(Array.from({ length: 16 }, () => caller(n / 16)));
    client.close();
    await serving;
  },
  async 'class-read-echo'() {
    const client = new Channel(a);
    const server = new Channel(b);
    server.on('message', (m) => server.write(m.bytes));
    for (let i = 0; i < n; i++) {
      client.write(bytes);
      await client.read();
    }
    server.removeAllListeners('message');
  },
};

const run = variants[variant];
if (!run) throw new Error(`unknown variant ${variant}: ${Object.keys(variants).join(', ')}`);
const t0 = performance.now();
await run();
const t1 = performance.now();
console.log(`${variant} ${n} × ${size} B: ${(((t1 - t0) * 1000) / Math.max(n, 1)).toFixed(3)} µs per iteration`);
