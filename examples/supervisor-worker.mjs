// A worker of examples/supervisor.mjs: takes its channel and log file by id, answers each
// job that comes over the channel, writes what it does to the log, and ends when the
// supervisor closes the channel.
import { closeSync, writeSync } from 'node:fs';
import zx from '../dist/index.js';

const { Channel, fdio, takeStartupHandle, PA_HND, PA_USER0 } = zx;

const n = process.argv[2];
const channel = new Channel(takeStartupHandle(PA_HND(PA_USER0, 0)));
const { fd: log } = fdio.fdCreate(takeStartupHandle(PA_HND(PA_USER0, 1)));
const note = (text) => writeSync(log, `[worker ${n} pid ${process.pid}] ${text}\n`);

function countPrimes(limit) {
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let i = 2; i < limit; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < limit; j += i) composite[j] = 1;
  }
  return count;
}

note('started');
for await (const { bytes } of channel) {
  const { limit } = JSON.parse(bytes.toString());
  note(`counting primes below ${limit}`);
  const count = countPrimes(limit);
  channel.write(JSON.stringify({ pid: process.pid, count }));
  note(`answered ${count}`);
}
note('channel closed: done');
closeSync(log);
channel.close();
