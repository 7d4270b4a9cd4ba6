// zircon-ipc, three ways:
//   zx-sync       the sync face: blocking sys.objectWaitOne + sys.channelReadInto (one buffer
//                 per process, as zx_channel_read takes one); sys.channelCall; the batch
//                 case with sys.channelWriteMany and (the peer) sys.channelReadMany
//   zx-async      the classes: Channel.write, for-await over the Channel, Channel.call
//   zx-sys-async  the sys face with promises: sys.objectWaitOneAsync + sys.channelRead,
//                 sys.channelCallAsync
//   zx-events     the event face: Channel.write, channel.on('message'); calls matched by id
//                 in JavaScript (as over net)
// The peer is another Node process that takes its endpoint as descriptor 3
// (fdio.fdCreate here, fdio.fdTransfer there).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import zx from '../../dist/index.js';
import { runCase as runAsyncCase, command as asyncCommand } from './async-cases.mjs';
import { A, ACK, D, K, TAG, commandMessage, dataMessage, now, parseCase, peerHandler } from './protocol.mjs';

const {
  sys,
  fdio,
  Channel,
  statusToString,
  ZX_OK,
  ZX_ERR_SHOULD_WAIT,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READ_MANY_MAX,
  ZX_TIME_INFINITE,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_OBJ_TYPE_NONE,
  ZX_RIGHT_SAME_RIGHTS,
} = zx;

const SESSION = fileURLToPath(new URL('../session.mjs', import.meta.url));
const READ = ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED;
const INF = ZX_TIME_INFINITE;
const MAX_BYTES = 65536;
const MAX_HANDLES = 64;

function check(status, what) {
  if (status !== ZX_OK) throw new Error(`${what}: ${statusToString(status)}`);
}

// A handle to /dev/null, sent as `n` duplicates per message (the sender keeps it, like the C
// baseline sending the same descriptor n times; the receiver gets n new descriptors).
function fdDispositions(n) {
  const { status, handle } = fdio.fdTransfer(openSync('/dev/null', 'r+'));
  check(status, 'fdTransfer');
  const list = [];
  for (let i = 0; i < n; i++) {
    list.push({
      operation: ZX_HANDLE_OP_DUPLICATE,
      handle,
      type: ZX_OBJ_TYPE_NONE,
      rights: ZX_RIGHT_SAME_RIGHTS,
      result: ZX_OK,
    });
  }
  return { list, close: () => sys.handleClose(handle) };
}

export function spawnPeer(impl) {
  const { status, out0, out1 } = sys.channelCreate(0);
  check(status, 'channelCreate');
  const exported = fdio.fdCreate(out1);
  check(exported.status, 'fdCreate');
  const child = spawn(process.execPath, [SESSION, 'peer', impl], {
    stdio: ['ignore', 'ignore', 'inherit', exported.fd],
  });
  closeSync(exported.fd);
  return { h: out0, pid: child.pid, exited: once(child, 'exit') };
}

// ---- sync face ------------------------------------------------------------------------------

// The sync face receives into one buffer, as C does: the bytes are the receiver's until
// its next read.
function receiveBuffers() {
  return { bytes: Buffer.alloc(MAX_BYTES), handles: new Uint32Array(MAX_HANDLES) };
}

function syncMain(h) {
  const write = (bytes) => check(sys.channelWrite(h, 0, bytes, null), 'channelWrite');
  const into = receiveBuffers();
  const recv = () => {
    sys.objectWaitOne(h, READ, INF);
    const r = sys.channelReadInto(h, 0, into.bytes, into.handles);
    check(r.status, 'channelReadInto');
    return into.bytes.subarray(0, r.actualBytes);
  };
  const command = (text) => {
    write(commandMessage(text));
    if (recv()[TAG] !== A) throw new Error('expected an ack');
  };

  function rtt(warmMs, windowMs) {
    command('echo');
    const ping = dataMessage(16);
    const round = () => {
      check(sys.channelWrite(h, 0, ping, null), 'channelWrite');
      sys.objectWaitOne(h, READ, INF);
      const r = sys.channelReadInto(h, 0, into.bytes, into.handles);
      if (r.status !== ZX_OK) check(r.status, 'channelReadInto');
    };
    const start = now();
    while (now() - start < warmMs) for (let i = 0; i < 16; i++) round();
    let n = 0;
    const t0 = now();
    let t1;
    do {
      for (let i = 0; i < 16; i++) round();
      n += 16;
      t1 = now();
    } while (t1 - t0 < windowMs);
    return ((t1 - t0) * 1000) / n;
  }

  function call(inFlight, warmMs, windowMs) {
    if (inFlight !== 1) throw new Error('a blocking call has one call in flight');
    command('echo');
    const args = { bytes: dataMessage(16), handles: null, readNumBytes: MAX_BYTES, readNumHandles: MAX_HANDLES };
    const one = () => {
      const r = sys.channelCall(h, 0, INF, args);
      if (r.status !== ZX_OK) check(r.status, 'channelCall');
    };
    const start = now();
    while (now() - start < warmMs) for (let i = 0; i < 16; i++) one();
    let n = 0;
    const t0 = now();
    let t1;
    do {
      for (let i = 0; i < 16; i++) one();
      n += 16;
      t1 = now();
    } while (t1 - t0 < windowMs);
    return n / ((t1 - t0) / 1000);
  }

  let inflight = 0;
  const awaitCredit = (k) => {
    if (recv()[TAG] !== K) throw new Error('expected a credit');
    inflight -= k;
  };
  const stream = (send, count, w, k) => {
    for (let i = 0; i < count; i++) {
      while (inflight >= w) awaitCredit(k);
      send();
      inflight++;
    }
  };
  const drain = (k) => {
    while (inflight > 0) awaitCredit(k);
  };
  const sender = (size, fds) => {
    const message = dataMessage(size);
    if (!fds) return { send: () => check(sys.channelWrite(h, 0, message, null), 'channelWrite'), close() {} };
    const d = fdDispositions(fds);
    return { send: () => check(sys.channelWriteEtc(h, 0, message, d.list), 'channelWriteEtc'), close: d.close };
  };

  function oneWay(size, fds, w, warmMs, windowMs) {
    const k = w / 2;
    command(`sink ${k}`);
    const { send, close } = sender(size, fds);
    inflight = 0;
    const start = now();
    while (now() - start < warmMs) stream(send, k, w, k);
    drain(k);
    let sent = 0;
    const t0 = now();
    do {
      stream(send, k, w, k);
      sent += k;
    } while (now() - t0 < windowMs);
    drain(k);
    const rate = sent / ((now() - t0) / 1000);
    close();
    return rate;
  }

  // W/2 messages a channelWriteMany; the peer reads them with channelReadMany.
  function oneWayBatched(size, w, warmMs, windowMs) {
    const k = w / 2;
    command(`sinkmany ${k}`);
    const bytes = Buffer.alloc(size * k);
    const ends = new Uint32Array(k);
    for (let i = 0; i < k; i++) {
      bytes[i * size + TAG] = D;
      ends[i] = (i + 1) * size;
    }
    const send = () => {
      const r = sys.channelWriteMany(h, 0, bytes, ends, null);
      if (r.status !== ZX_OK || r.accepted !== k) check(r.status || ZX_ERR_SHOULD_WAIT, 'channelWriteMany');
    };
    const batches = () => {
      while (inflight >= w) awaitCredit(k);
      send();
      inflight += k;
    };
    inflight = 0;
    const start = now();
    while (now() - start < warmMs) batches();
    drain(k);
    let sent = 0;
    const t0 = now();
    do {
      batches();
      sent += k;
    } while (now() - t0 < windowMs);
    drain(k);
    return sent / ((now() - t0) / 1000);
  }

  function bulk(total, size, w, warmMs, windowMs) {
    const k = w / 2;
    command(`sink ${k}`);
    const { send } = sender(size, 0);
    const count = total / size;
    inflight = 0;
    const start = now();
    do {
      stream(send, count, w, k);
      drain(k);
    } while (now() - start < warmMs);
    let transfers = 0;
    const t0 = now();
    let t1;
    do {
      stream(send, count, w, k);
      drain(k);
      transfers++;
      t1 = now();
    } while (t1 - t0 < windowMs);
    return (t1 - t0) / transfers;
  }

  return {
    runCase(spec, { warmMs, windowMs }) {
      const c = parseCase(spec);
      switch (c.kind) {
        case 'rtt':
          return rtt(warmMs, windowMs);
        case 'call':
          return call(c.inFlight, warmMs, windowMs);
        case 'oneway':
          return oneWay(c.size, 0, c.window, warmMs, windowMs);
        case 'batch':
          return oneWayBatched(c.size, c.window, warmMs, windowMs);
        case 'fds':
          return oneWay(16, c.fds, c.window, warmMs, windowMs);
        case 'bulk':
          return bulk(c.total, c.size, c.window, warmMs, windowMs);
      }
    },
    quit() {
      command('quit');
    },
  };
}

function syncPeer(h) {
  const t = {
    echo: true,
    send: (bytes) => check(sys.channelWrite(h, 0, bytes, null), 'channelWrite'),
    closeHandles: (handles) => sys.handleCloseMany(handles),
  };
  const handle = peerHandler(t);
  const into = receiveBuffers();
  t.send(ACK); // hello
  for (;;) {
    sys.objectWaitOne(h, READ, INF);
    // Echo: one message per wait. Sink: everything queued, then wait again.
    if (t.many && !t.echo) {
      if (!readBatches(h, handle)) return;
      continue;
    }
    for (;;) {
      const r = sys.channelReadInto(h, 0, into.bytes, into.handles);
      if (r.status === ZX_ERR_SHOULD_WAIT) break;
      if (r.status !== ZX_OK) return; // PEER_CLOSED: the main side is done
      handle(into.bytes.subarray(0, r.actualBytes), into.handles.subarray(0, r.actualHandles));
      if (t.echo) break;
    }
  }
}

// Everything queued, ZX_CHANNEL_READ_MANY_MAX messages a call; false once the peer is gone.
// A sink only looks at a data message's tag: it is read where it lies, in the batch's one
// Buffer (as C reads it in its buffer), and the handler sees a stand-in with that tag.
const DATA = dataMessage(16);
function readBatches(h, handle) {
  for (;;) {
    const r = sys.channelReadMany(h, 0, ZX_CHANNEL_READ_MANY_MAX);
    if (r.status === ZX_ERR_SHOULD_WAIT) return true;
    if (r.status !== ZX_OK) return false;
    const { bytes, ends, handleCounts } = r;
    let start = 0;
    for (let i = 0; i < r.count; i++) {
      const end = ends[i];
      if (bytes[start + TAG] === D && handleCounts[i] === 0) handle(DATA, undefined);
      else handle(bytes.subarray(start, end), r.handles.subarray(0, handleCounts[i]));
      start = end;
    }
  }
}

// ---- async faces ------------------------------------------------------------------------------

// A Channel as a transport; `call` left to the caller.
function channelTransport(channel) {
  return {
    onMessage: null,
    send: (bytes) => channel.write(bytes),
    sendFds: null,
    closeHandles: (handles) => {
      for (const handle of handles) handle.close();
    },
    close: () => channel.close(),
    raw: channel.raw,
  };
}

function classTransport(raw) {
  const channel = new Channel(raw);
  const t = channelTransport(channel);
  t.call = (bytes) => channel.call(bytes);
  t.done = (async () => {
    try {
      for await (const m of channel) t.onMessage(m.bytes, m.handles);
    } catch (error) {
      if (error?.code !== 'ZX_ERR_CANCELED') throw error; // closed here at the end
    }
  })();
  return t;
}

function eventTransport(raw) {
  const channel = new Channel(raw);
  const t = channelTransport(channel);
  channel.on('message', (m) => t.onMessage(m.bytes, m.handles));
  t.done = new Promise((resolve) => channel.once('close', resolve));
  return t;
}

function sysTransport(h) {
  const callArgs = { bytes: null, handles: null, readNumBytes: MAX_BYTES, readNumHandles: MAX_HANDLES };
  const t = {
    onMessage: null,
    send: (bytes) => check(sys.channelWrite(h, 0, bytes, null), 'channelWrite'),
    sendFds: null,
    call: async (bytes) => {
      callArgs.bytes = bytes;
      const r = await sys.channelCallAsync(h, 0, INF, callArgs);
      if (r.status !== ZX_OK) check(r.status, 'channelCallAsync');
      return r;
    },
    closeHandles: (handles) => sys.handleCloseMany(handles),
    close: () => sys.handleClose(h),
  };
  t.done = (async () => {
    for (;;) {
      const w = await sys.objectWaitOneAsync(h, READ, INF);
      if (w.status !== ZX_OK) return; // CANCELED: closed here at the end
      for (;;) {
        const r = sys.channelRead(h, 0, MAX_BYTES, MAX_HANDLES);
        if (r.status === ZX_OK) {
          t.onMessage(r.bytes, r.handles);
          continue;
        }
        if (r.status === ZX_ERR_SHOULD_WAIT) break;
        return; // PEER_CLOSED
      }
    }
  })();
  t.raw = h;
  return t;
}

function withFds(t) {
  let cached = null;
  t.sendFds = (bytes, n) => {
    if (!cached || cached.list.length !== n) {
      cached?.close();
      cached = fdDispositions(n);
    }
    check(sys.channelWriteEtc(t.raw, 0, bytes, cached.list), 'channelWriteEtc');
  };
  return t;
}

const TRANSPORTS = { 'zx-async': classTransport, 'zx-events': eventTransport, 'zx-sys-async': sysTransport };
const makeTransport = (impl, h) => withFds(TRANSPORTS[impl](h));

export async function openMain(impl) {
  const { h, pid, exited } = spawnPeer(impl);
  if (impl === 'zx-sync') {
    const main = syncMain(h);
    // the peer's hello
    sys.objectWaitOne(h, READ, INF);
    const hello = sys.channelRead(h, 0, MAX_BYTES, MAX_HANDLES);
    check(hello.status, 'hello');
    return {
      peerPid: pid,
      runCase: main.runCase,
      async close() {
        main.quit();
        sys.handleClose(h);
        await exited;
      },
    };
  }
  const t = makeTransport(impl, h);
  await new Promise((resolve) => {
    t.onMessage = resolve; // the peer's hello
  });
  return {
    peerPid: pid,
    runCase: (spec, options) => runAsyncCase(t, spec, options),
    async close() {
      await asyncCommand(t, 'quit');
      t.close();
      await t.done;
      await exited;
    },
  };
}

export async function runPeer(impl) {
  const { status, handle } = fdio.fdTransfer(3);
  check(status, 'fdTransfer');
  if (impl === 'zx-sync') return syncPeer(handle);
  const t = makeTransport(impl, handle);
  t.onMessage = peerHandler(t);
  t.send(ACK); // hello
  await t.done;
  t.close();
}
