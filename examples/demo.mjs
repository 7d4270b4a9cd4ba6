// Two processes passing messages and handles: the parent hands a child one end of a
// channel (as its descriptor 3), then sends it a message carrying an open file; the child
// reads the file through the handle it received and answers with what it found.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readSync, writeFileSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { sys, fdio, ZX_OK, ZX_CHANNEL_READABLE, ZX_CHANNEL_PEER_CLOSED } = zx;

// Blocking wait with a deadline, then one read.
function receive(handle, seconds = 10) {
  const deadline = sys.deadlineAfter(BigInt(seconds) * 1_000_000_000n);
  const wait = sys.objectWaitOne(handle, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, deadline);
  if (wait.status !== ZX_OK) throw new Error(`wait: ${zx.statusToString(wait.status)}`);
  return sys.channelRead(handle, 0, 65536, 64);
}

function check(status, what) {
  if (status !== ZX_OK) throw new Error(`${what}: ${zx.statusToString(status)}`);
}

if (process.argv[2] === 'child') {
  // The child: descriptor 3 is our end of the channel.
  const { status, handle } = fdio.fdTransfer(3);
  check(status, 'fdTransfer');
  const msg = receive(handle);
  check(msg.status, 'read');
  const { fd } = fdio.fdCreate(msg.handles[0]);
  const buf = Buffer.alloc(256);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const answer = `child ${process.pid} got "${msg.bytes}" and a file saying "${buf.subarray(0, n)}"`;
  check(sys.channelWrite(handle, 0, Buffer.from(answer), null), 'write');
  // Then echo every message back until the parent closes its end.
  for (;;) {
    const ping = receive(handle);
    if (ping.status !== ZX_OK) break;
    check(sys.channelWrite(handle, 0, ping.bytes, null), 'echo');
  }
  sys.handleClose(handle);
} else {
  const { out0: mine, out1: theirs } = sys.channelCreate(0);
  const { fd: childEnd } = fdio.fdCreate(theirs);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child'], {
    stdio: ['ignore', 'inherit', 'inherit', childEnd],
  });
  closeSync(childEnd);

  const dir = mkdtempSync(join(tmpdir(), 'zircon-ipc-demo-'));
  const path = join(dir, 'note.txt');
  writeFileSync(path, 'a file handed over as a handle');
  const { handle: file } = fdio.fdTransfer(openSync(path, 'r'));
  check(sys.channelWrite(mine, 0, Buffer.from('hello from the parent'), [file]), 'write');
  console.log(`parent ${process.pid} sent a message carrying a file handle`);

  const reply = receive(mine);
  check(reply.status, 'read');
  console.log(`parent received: ${reply.bytes}`);

  // A measured figure: round trips of 16 bytes through the child, which echoes them.
  const rounds = 2000;
  const ping = Buffer.alloc(16);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    check(sys.channelWrite(mine, 0, ping, null), 'ping');
    check(receive(mine).status, 'pong');
  }
  const micros = Number(process.hrtime.bigint() - start) / rounds / 1000;
  console.log(`round trip of 16 bytes between the two processes: ${micros.toFixed(1)} µs (mean of ${rounds})`);
  sys.handleClose(mine);
  child.on('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    console.log(`child exited with code ${code}`);
    process.exitCode = code ?? 1;
  });
}
