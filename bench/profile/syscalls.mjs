// Syscalls per message of one implementation and case, both processes together, counted
// with `strace -f -c`: two runs with different windows, the difference divided by the
// difference in messages (start-up and warm-up cancel out).
//   node bench/profile/syscalls.mjs <impl> <case-spec> [short_ms=300] [long_ms=1500]
// e.g. node bench/profile/syscalls.mjs zx-sync rtt ; node bench/profile/syscalls.mjs c-block oneway:16:256
// Run `npm run bench -- --quick` once first (it builds bench/build/seqpacket and dist/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCase } from '../impl/protocol.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));
const [impl, spec, shortMs = '300', longMs = '1500'] = process.argv.slice(2);
if (!impl || !spec) {
  console.error('usage: node bench/profile/syscalls.mjs <impl> <case-spec> [short_ms] [long_ms]');
  process.exit(2);
}

// Messages (a round trip counts as one) the main side reported for a window.
function messages(value, windowMs) {
  const c = parseCase(spec);
  if (c.kind === 'rtt') return (windowMs * 1000) / value;
  if (c.kind === 'bulk') return (windowMs / value) * (c.total / c.size);
  return (value * windowMs) / 1000;
}

function run(windowMs) {
  const dir = mkdtempSync(join(tmpdir(), 'zx-strace-'));
  const out = join(dir, 'strace.txt');
  const command = impl.startsWith('c-')
    ? [join(BENCH, 'build', 'seqpacket'), 'main', impl.slice(2), '0', String(windowMs), spec]
    : [
        process.execPath,
        join(BENCH, 'session.mjs'),
        'main',
        impl,
        JSON.stringify({ warmMs: 0, windowMs, cases: [spec] }),
      ];
  const r = spawnSync('strace', ['-f', '-c', '-o', out, ...command], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`strace failed: ${r.stderr}`);
  const value = JSON.parse(r.stdout.trim().split('\n').at(-1)).value;
  const counts = {};
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$/.exec(line);
    if (m && m[3] !== 'total') counts[m[3]] = { calls: Number(m[1]), errors: Number(m[2] ?? 0) };
  }
  rmSync(dir, { recursive: true, force: true });
  return { n: messages(value, windowMs), counts };
}

const a = run(Number(shortMs));
const b = run(Number(longMs));
const dn = b.n - a.n;
const rows = [];
for (const name of new Set([...Object.keys(a.counts), ...Object.keys(b.counts)])) {
  const calls = ((b.counts[name]?.calls ?? 0) - (a.counts[name]?.calls ?? 0)) / dn;
  const errors = ((b.counts[name]?.errors ?? 0) - (a.counts[name]?.errors ?? 0)) / dn;
  if (calls >= 0.005) rows.push({ name, calls, errors });
}
rows.sort((x, y) => y.calls - x.calls);
const total = rows.reduce((s, r) => s + r.calls, 0);
console.log(`${impl} ${spec}: ${Math.round(dn)} more messages under strace; syscalls per message (both processes):`);
for (const r of rows)
  console.log(
    `  ${r.name.padEnd(16)} ${r.calls.toFixed(2)}${r.errors >= 0.005 ? `  (${r.errors.toFixed(2)} failing)` : ''}`,
  );
console.log(`  ${'total'.padEnd(16)} ${total.toFixed(2)}`);
