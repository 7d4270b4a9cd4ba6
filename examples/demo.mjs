// Two processes passing messages and handles. The parent starts a child with one end of a
// channel as a startup handle, sends it a message carrying an open file, and gets back a
// message carrying a new channel, over which the two then measure round trips.
import { mkdtempSync, readSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { Channel, fdio, spawn, takeStartupHandle, PA_HND, PA_USER0 } = zx;
const CHANNEL_ID = PA_HND(PA_USER0, 0);
const ROUNDS = 2000;

if (process.argv[2] === 'child') {
  const parent = new Channel(takeStartupHandle(CHANNEL_ID));
  const {
    bytes,
    handles: [file],
  } = await parent.read({ timeout: 10_000 });
  const { fd } = fdio.fdCreate(file.release());
  const text = Buffer.alloc(256);
  const n = readSync(fd, text, 0, text.length, 0);
  closeSync(fd);
  // Answer with what we found, and a channel of our own for the round trips.
  const [mine, theirs] = Channel.create();
  parent.write(`child ${process.pid} got "${bytes}" and a file saying "${text.subarray(0, n)}"`, [theirs]);
  for await (const ping of mine) mine.write(ping.bytes); // echo until the parent closes
  parent.close();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'zircon-ipc-demo-'));
  const path = join(dir, 'note.txt');
  writeFileSync(path, 'a file handed over as a handle');

  const [mine, theirs] = Channel.create();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child'], {
    stdio: 'inherit',
    handles: [{ id: CHANNEL_ID, handle: theirs }],
  });
  console.log(`parent ${process.pid} started child ${child.pid} with a channel end as a startup handle`);

  const file = fdio.fdTransfer(openSync(path, 'r')).handle;
  mine.write('hello from the parent', [new zx.Handle(file)]);
  console.log('parent sent a message carrying the open file');

  const reply = await mine.read({ timeout: 10_000 });
  const echo = reply.handles[0];
  console.log(`parent received: ${reply.bytes}`);
  console.log(`parent received a ${echo instanceof Channel ? 'channel' : 'handle'} from the child`);

  // Round trips of 16 bytes over the channel the child sent, through its echo loop.
  const ping = Buffer.alloc(16);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    echo.write(ping);
    await echo.read();
  }
  const micros = Number(process.hrtime.bigint() - start) / ROUNDS / 1000;
  console.log(`round trip of 16 bytes between the processes (async): ${micros.toFixed(1)} µs, mean of ${ROUNDS}`);
  echo.close();
  mine.close();
  child.on('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    console.log(`child exited with code ${code}`);
    process.exitCode = code ?? 1;
  });
}
