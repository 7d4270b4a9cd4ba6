// One benchmark session of one JavaScript implementation: spawns its peer, runs the cases
// in order, prints one JSON line per case on stdout. bench/run.mjs runs many of these,
// interleaved, and aggregates them.
//
//   node bench/session.mjs main <impl> '{"warmMs":..,"firstWarmMs":..,"windowMs":..,"cases":["rtt",...]}'
// Without "cases", it prints {"ready":true} and reads one case a line from stdin until its end:
// "<case> [<warm-up ms>]".
// The case "pin" moves both processes to CPU 0 (taskset -a -p -c 0) for the cases after it.
//   node bench/session.mjs peer <impl> [args...]     (started by the main side)
// A worker_threads peer starts here too, with workerData.impl.
import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isMainThread, workerData } from 'node:worker_threads';

const ZX = new Set(['zx-sync', 'zx-async', 'zx-events', 'zx-sys-async']);
const NODE = new Set(['node-json', 'node-advanced', 'worker', 'net-unix']);

// `<impl>-portable`: that implementation on the portable backend (docs/architecture.md,
// "Backends"), chosen before the addon loads; its peer inherits the choice.
const PORTABLE = '-portable';
function chooseBackend(impl) {
  if (!impl.endsWith(PORTABLE)) return impl;
  process.env.ZIRCON_IPC_BACKEND = 'portable';
  return impl.slice(0, -PORTABLE.length);
}

async function load(impl) {
  if (ZX.has(impl)) return import('./impl/zx.mjs');
  if (NODE.has(impl)) return import('./impl/node.mjs');
  if (impl === 'zx-values') return import('./impl/values.mjs');
  throw new Error(`unknown implementation ${impl}`);
}

async function main() {
  if (!isMainThread) {
    const impl = await load(workerData.impl);
    return impl.runPeer(workerData.impl, []);
  }
  const [role, chosen, ...args] = process.argv.slice(2);
  const name = chooseBackend(chosen);
  const impl = await load(name);
  if (role === 'peer') return impl.runPeer(name, args);
  if (role !== 'main') throw new Error('usage: session.mjs main|peer <impl> ...');
  const config = JSON.parse(args[0]);
  const session = await impl.openMain(name);
  let first = true;
  // A case, and (from stdin) its warm-up in ms, which the driver chooses.
  const run = async (spec, warmOverride) => {
    let value = null;
    if (spec === 'pin') {
      // Both processes (every thread of each) on CPU 0 from here on.
      for (const pid of [process.pid, session.peerPid]) {
        if (pid) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
      }
    } else {
      // The first case warms up longer: the JIT and the caches start cold in a new process.
      const warmMs = warmOverride ?? (first ? Math.max(config.warmMs, config.firstWarmMs ?? 0) : config.warmMs);
      first = false;
      value = await session.runCase(spec, { ...config, warmMs });
    }
    process.stdout.write(`${JSON.stringify({ case: spec, value })}\n`);
  };
  if (config.cases) {
    for (const spec of config.cases) await run(spec);
  } else {
    // No cases in the configuration: one a line from stdin, until its end (bench/run.mjs).
    process.stdout.write('{"ready":true}\n');
    for await (const line of createInterface({ input: process.stdin })) {
      const [spec, warm] = line.split(' ');
      if (spec) await run(spec, warm === undefined ? undefined : Number(warm));
    }
  }
  await session.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
