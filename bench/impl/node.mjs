// The Node alternatives, each used the way its documentation shows:
//   node-json      child_process IPC, process.send with serialization 'json' (bytes as base64)
//   node-advanced  child_process IPC with serialization 'advanced' (bytes as a Buffer)
//   worker         worker_threads MessageChannel, in one process (postMessage copies the bytes)
//   net-unix       `net` over a Unix domain socket, each message framed by a 4-byte length
// All speak bench/impl/protocol.mjs through the message-driven cases in async-cases.mjs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, workerData } from 'node:worker_threads';
import { runCase as runAsyncCase, command } from './async-cases.mjs';
import { ACK, peerHandler } from './protocol.mjs';
import { isValue, valuePeer } from './value-cases.mjs';

const SESSION = fileURLToPath(new URL('../session.mjs', import.meta.url));

// ---- child_process IPC --------------------------------------------------------------------

const encoders = {
  'node-json': {
    encode: (b) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64'),
    decode: (m) => Buffer.from(m, 'base64'),
  },
  'node-advanced': { encode: (b) => b, decode: (m) => m },
};

function ipcMain(impl) {
  const { encode, decode } = encoders[impl];
  const child = spawn(process.execPath, [SESSION, 'peer', impl], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: impl === 'node-json' ? 'json' : 'advanced',
  });
  const t = { onMessage: null, send: (b) => child.send(encode(b)), onValue: null, post: (v) => child.send(v) };
  child.on('message', (m) => (isValue(m) ? t.onValue(m) : t.onMessage(decode(m))));
  const exited = once(child, 'exit');
  return {
    t,
    pid: child.pid,
    close: async () => {
      child.disconnect();
      await exited;
    },
  };
}

function ipcPeer(impl) {
  const { encode, decode } = encoders[impl];
  const t = { send: (b) => process.send(encode(b)) };
  const handle = peerHandler(t);
  const handleValue = valuePeer((v) => process.send(v));
  process.on('message', (m) => (isValue(m) ? handleValue(m) : handle(decode(m))));
  t.send(ACK);
}

// ---- worker_threads -------------------------------------------------------------------------

function workerMain() {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(SESSION, {
    workerData: { impl: 'worker', port: port2 },
    transferList: [port2],
    stdout: true,
  });
  const t = { onMessage: null, send: (b) => port1.postMessage(b) };
  port1.on('message', (m) => t.onMessage(m));
  const exited = once(worker, 'exit');
  return {
    t,
    pid: null,
    close: async () => {
      port1.close();
      await exited;
    },
  };
}

function workerPeer() {
  const port = workerData.port;
  const t = { send: (b) => port.postMessage(b) };
  const handle = peerHandler(t);
  port.on('message', handle);
  t.send(ACK);
}

// ---- net over a Unix domain socket ------------------------------------------------------------

function framedWriter(socket) {
  return (b) => {
    const frame = Buffer.allocUnsafe(4 + b.length);
    frame.writeUInt32LE(b.length, 0);
    frame.set(b, 4);
    socket.write(frame);
  };
}

// Calls deliver(payload) for every frame; chunks are joined only when a frame spans them.
function framedReader(socket, deliver) {
  let chunks = [];
  let buffered = 0;
  let need = 4; // bytes to collect before the next step can run
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    if (buffered < need) return;
    let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
    let off = 0;
    for (;;) {
      if (buf.length - off < 4) {
        need = 4;
        break;
      }
      const len = buf.readUInt32LE(off);
      if (buf.length - off - 4 < len) {
        need = 4 + len;
        break;
      }
      deliver(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    buf = off === buf.length ? null : buf.subarray(off);
    chunks = buf ? [buf] : [];
    buffered = buf ? buf.length : 0;
    if (!buf) need = 4;
  });
}

async function netMain() {
  const path = join(tmpdir(), `zircon-ipc-bench-${process.pid}.sock`);
  rmSync(path, { force: true });
  const server = net.createServer();
  server.listen(path);
  await once(server, 'listening');
  const child = spawn(process.execPath, [SESSION, 'peer', 'net-unix', path], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  const [socket] = await once(server, 'connection');
  server.close();
  rmSync(path, { force: true });
  const t = { onMessage: null, send: framedWriter(socket) };
  framedReader(socket, (b) => t.onMessage(b));
  return {
    t,
    pid: child.pid,
    close: async () => {
      socket.end();
      await exited;
    },
  };
}

function netPeer(path) {
  const socket = net.connect(path);
  const t = { send: framedWriter(socket) };
  const handle = peerHandler(t);
  framedReader(socket, handle);
  socket.on('end', () => socket.end());
  t.send(ACK);
}

// ---- entry points -------------------------------------------------------------------------

export async function openMain(impl) {
  let opened;
  if (impl === 'worker') opened = workerMain();
  else if (impl === 'net-unix') opened = await netMain();
  else opened = ipcMain(impl);
  const { t, pid, close } = opened;
  await new Promise((resolve) => {
    t.onMessage = resolve; // the peer's hello
  });
  return {
    peerPid: pid, // null: the worker is a thread of this process
    runCase: (spec, options) => runAsyncCase(t, spec, options),
    async close() {
      await command(t, 'quit');
      await close();
    },
  };
}

export function runPeer(impl, args) {
  if (impl === 'worker') return workerPeer();
  if (impl === 'net-unix') return netPeer(args[0]);
  return ipcPeer(impl);
}
