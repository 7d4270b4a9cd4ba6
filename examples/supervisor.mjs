// A supervisor: starts worker processes, handing each one end of a channel and the shared
// log file (opened for appending) as startup handles. It gives every worker a job over its
// channel, prints what they answered, closes the channels (the workers' cue to finish) and
// prints the log they wrote.
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zx from '../dist/index.js';

const { Channel, fdio, spawn, PA_HND, PA_USER0, ZX_OK, ZxError } = zx;

const WORKERS = 3;
const workerScript = fileURLToPath(new URL('./supervisor-worker.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'zircon-ipc-supervisor-'));
const logPath = join(dir, 'workers.log');

const workers = [];
for (let n = 1; n <= WORKERS; n++) {
  const [mine, theirs] = Channel.create();
  const { status, handle: log } = fdio.fdTransfer(openSync(logPath, 'a'));
  if (status !== ZX_OK) throw new ZxError(status, 'fdTransfer');
  const child = spawn(process.execPath, [workerScript, String(n)], {
    stdio: 'inherit',
    // Both move into the worker: after this call they are gone from this process.
    handles: [
      { id: PA_HND(PA_USER0, 0), handle: theirs },
      { id: PA_HND(PA_USER0, 1), handle: log },
    ],
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  workers.push({ n, pid: child.pid, channel: mine, exited });
}
console.log(`supervisor ${process.pid} started ${WORKERS} workers: pids ${workers.map((w) => w.pid).join(', ')}`);

// One job each: count the primes below a limit.
const answers = await Promise.all(
  workers.map(async ({ n, channel }) => {
    const limit = 20_000 * n;
    channel.write(JSON.stringify({ limit }));
    const { bytes } = await channel.read({ timeout: 10_000 });
    return { n, limit, ...JSON.parse(bytes.toString()) };
  }),
);
for (const { n, pid, count, limit } of answers) console.log(`worker ${n} (pid ${pid}): ${count} primes below ${limit}`);

for (const { channel } of workers) channel.close();
const codes = await Promise.all(workers.map((w) => w.exited));
console.log(`workers exited with codes ${codes.join(', ')}`);
console.log('the log they shared:');
console.log(readFileSync(logPath, 'utf8').trimEnd().replace(/^/gm, '  '));
rmSync(dir, { recursive: true, force: true });
process.exitCode = codes.every((code) => code === 0) ? 0 : 1;
