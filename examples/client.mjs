// A client: opens a channel to a service by name (fdio.serviceConnect) and calls it.
//   node examples/client.mjs [path] [name]
// When nothing serves that path, it starts examples/service.mjs --forever for the occasion
// and stops it afterwards.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { Channel, fdio, statusToString, ZxError, ZX_OK, ZX_ERR_NOT_FOUND, ZX_ERR_PEER_CLOSED } = zx;

const path = process.argv[2] ?? join(tmpdir(), `zircon-ipc-example-${process.getuid()}.sock`);
const name = process.argv[3] ?? 'client';

// Hands the service one end of a new channel and keeps the other.
function connect() {
  const [mine, theirs] = Channel.create();
  const status = fdio.serviceConnect(path, theirs.release()); // `theirs` is consumed
  if (status !== ZX_OK) mine.close();
  return { status, channel: mine };
}

let { status, channel } = connect();
let service;
if (status === ZX_ERR_NOT_FOUND || status === ZX_ERR_PEER_CLOSED) {
  console.log(`${name}: nothing serves ${path} (${statusToString(status)}): starting the service`);
  const script = fileURLToPath(new URL('./service.mjs', import.meta.url));
  service = spawn(process.execPath, [script, '--forever', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  service.stdout.pipe(process.stdout);
  await new Promise((resolve, reject) => {
    let out = '';
    service.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('listening')) resolve();
    });
    service.once('exit', () => reject(new Error('the service exited')));
  });
  ({ status, channel } = connect());
}
if (status !== ZX_OK) throw new ZxError(status, 'serviceConnect');

for (const text of [`hello from ${name}`, 'how are you?']) {
  const start = performance.now();
  const reply = await channel.call(`....${text}`, [], { timeout: 5_000 }); // bytes 0-3: the txid
  const ms = (performance.now() - start).toFixed(2);
  console.log(`${name} (pid ${process.pid}): "${text}" -> "${reply.bytes.subarray(4)}" (${ms} ms)`);
}
channel.close();

if (service) {
  const exited = new Promise((resolve) => service.once('exit', resolve));
  service.kill('SIGTERM');
  console.log(`${name}: the service exited with code ${await exited}`);
}
