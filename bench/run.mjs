// npm run bench [-- --quick] [-- --reps=N] [-- --only=zx-sync,c-block]
//
// Measures zircon-ipc and its baselines in one run on this machine: raw C over a
// SOCK_SEQPACKET socketpair (bench/native/seqpacket.c, built here with the system compiler),
// Node's child_process IPC ('json' and 'advanced'), `net` over a Unix socket, and
// worker_threads (in-process, for scale). Every implementation runs as sessions — one
// process pair running every case, then the latency cases again with both processes pinned
// to CPU 0 — and the sessions of all implementations are interleaved, repetition after
// repetition. Writes bench/results/latest.{json,md,svg}.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, IMPLS, MODES, caseBySpec } from './config.mjs';
import { analyze, renderMarkdown, renderSvg } from './report.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const BUILD = join(BENCH, 'build');
const RESULTS = join(BENCH, 'results');
const C_SOURCE = join(BENCH, 'native', 'seqpacket.c');
const C_BINARY = join(BUILD, 'seqpacket');

function parseArgs(argv) {
  const options = { mode: 'full', reps: null, only: null };
  for (const arg of argv) {
    if (arg === '--quick') options.mode = 'quick';
    else if (arg === '--full') options.mode = 'full';
    else if (arg.startsWith('--reps=')) options.reps = Number(arg.slice(7));
    else if (arg.startsWith('--only=')) options.only = arg.slice(7).split(',');
    else throw new Error(`unknown argument ${arg} (use --quick, --full, --reps=N, --only=a,b)`);
  }
  return options;
}

const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

function buildC() {
  mkdirSync(BUILD, { recursive: true });
  if (existsSync(C_BINARY) && statSync(C_BINARY).mtimeMs > statSync(C_SOURCE).mtimeMs) return true;
  for (const cc of ['cc', 'gcc', 'clang']) {
    const r = spawnSync(cc, ['-O2', '-Wall', '-o', C_BINARY, C_SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status === 0) {
      log(`built ${relative(ROOT, C_BINARY)} with ${cc}`);
      return true;
    }
  }
  log('no C compiler (cc, gcc, clang) worked: the raw C baselines are skipped');
  return false;
}

const hasTaskset = () => spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;

function compilerVersion() {
  const r = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

function gitRevision() {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'native'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${rev} + uncommitted changes in lib/ or native/` : rev;
  } catch {
    return null;
  }
}

// The share of CPU time not idle over half a second (from /proc/stat), before anything runs.
async function busyShare() {
  const sample = () => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: fields[3] + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = sample();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const b = sample();
  if (!a || !b || b.total === a.total) return 0;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

// Which addon the sessions load (node-gyp-build prefers prebuilds/ over build/Release).
function addonBinary() {
  const candidates = [join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`), join(ROOT, 'build', 'Release')];
  for (const dir of candidates) {
    if (!existsSync(dir)) continue;
    const file = readdirSync(dir).find((f) => f.endsWith('.node'));
    if (!file) continue;
    const path = join(dir, file);
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
    return { path: relative(ROOT, path), sha256: sha, built: statSync(path).mtime.toISOString() };
  }
  return null;
}

// The specs a session of `impl` runs: every case, then "pin" and the latency cases again.
function sessionSpecs(impl, pinning) {
  const specs = CASES.filter((c) => c.impls.includes(impl)).map((c) => c.spec);
  if (pinning) specs.push('pin', ...CASES.filter((c) => c.pinned && c.impls.includes(impl)).map((c) => c.spec));
  return specs;
}

function runSession(impl, specs, mode) {
  const { warmMs, firstWarmMs, windowMs, timeoutMs } = mode;
  const [file, args] = impl.startsWith('c-')
    ? [C_BINARY, ['main', impl.slice(2), `${warmMs},${firstWarmMs}`, String(windowMs), ...specs]]
    : [process.execPath, [join(BENCH, 'session.mjs'), 'main', impl, JSON.stringify({ warmMs, firstWarmMs, windowMs, cases: specs })]];
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ lines, ok: code === 0, error: code === 0 ? null : `${impl}: exit ${code ?? signal}\n${err.trim()}` });
    });
  });
}

async function main() {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  const mode = { ...MODES[options.mode] };
  if (options.reps) mode.reps = options.reps;
  const haveC = buildC();
  const pinning = hasTaskset();
  if (!pinning) log('taskset (util-linux) not found: the pinned latency cases are skipped');
  let impls = IMPLS.map((i) => i.id).filter((id) => haveC || !id.startsWith('c-'));
  if (options.only) impls = impls.filter((id) => options.only.includes(id));

  const loadBefore = os.loadavg()[0];
  const busyBefore = await busyShare();
  if (busyBefore > 0.1) {
    log(`note: the CPUs are ${Math.round(busyBefore * 100)}% busy before the run — other work on this machine will show in the figures`);
  }
  const addon = addonBinary();
  const revision = gitRevision();
  const samples = {}; // "case|impl|pinned" → values
  const errors = [];
  log(`${options.mode} mode: ${mode.reps} repetitions of ${impls.length} implementations, ` +
    `${mode.warmMs} ms warm-up (${mode.firstWarmMs} ms for a session's first case) + ${mode.windowMs} ms window a case`);
  for (let rep = 0; rep < mode.reps; rep++) {
    // Interleaved: every implementation once per repetition, starting one further each time.
    const order = impls.map((_, i) => impls[(i + rep) % impls.length]);
    for (const impl of order) {
      const specs = sessionSpecs(impl, pinning);
      const t0 = Date.now();
      const { lines, error } = await runSession(impl, specs, mode);
      if (error) {
        errors.push(`repetition ${rep + 1}: ${error}`);
        log(error);
      }
      let pinned = false;
      let next = 0;
      for (const spec of specs) {
        if (spec === 'pin') {
          pinned = true;
          continue;
        }
        const line = lines[next++];
        if (!line || line.case !== spec) break;
        const key = `${caseBySpec[spec].id}|${impl}|${pinned}`;
        (samples[key] ??= []).push(line.value);
      }
      log(`[${rep + 1}/${mode.reps}] ${impl.padEnd(13)} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }

  const cpus = os.cpus();
  const raw = {
    mode: options.mode,
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    compiler: compilerVersion(),
    revision,
    addon,
    loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(os.loadavg()[0] * 100) / 100 },
    busyBefore: Math.round(busyBefore * 100) / 100,
    method: {
      repetitions: mode.reps,
      warmMs: mode.warmMs,
      firstWarmMs: mode.firstWarmMs,
      windowMs: mode.windowMs,
      pinned: pinning ? 'latency cases again with both processes on CPU 0 (taskset -a -p -c 0)' : 'skipped: no taskset',
      interleaving: 'each repetition runs one session of every implementation, in an order rotated by one each time',
    },
    errors,
    samples,
  };
  raw.durationS = Math.round((Date.now() - started) / 100) / 10;
  const report = analyze(raw);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = renderMarkdown(report);
  writeFileSync(join(RESULTS, 'latest.md'), md);
  writeFileSync(join(RESULTS, 'latest.svg'), renderSvg(report));
  process.stdout.write(md);
  log(`\n${options.mode} run took ${raw.durationS} s; wrote bench/results/latest.{json,md,svg}`);
  if (errors.length) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
