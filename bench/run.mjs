// npm run bench [-- --quick] [-- --reps=N] [-- --only=zx-sync,c-block]
// npm run bench -- --agree      quick and full in one sitting: do their ratios agree?
//
// Measures zircon-ipc and its baselines in one run on this machine: raw C over a
// SOCK_SEQPACKET socketpair (bench/native/seqpacket.c, built here with the system compiler),
// Node's child_process IPC ('json' and 'advanced'), `net` over a Unix socket, and
// worker_threads (in-process, for scale). A repetition starts one session of every
// implementation (its process pair, waiting for cases on stdin) and runs each case on all of
// them in turn, then the latency cases again with both processes of each pinned to CPU 0.
// A complete full run writes bench/results/latest.{json,md,svg} and the
// figures between README.md's bench:begin and bench:end markers (any other run:
// bench/results/partial.*). --only always keeps the baseline (config.mjs BASELINE), which
// every ratio needs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGREE_LIMIT, BASELINE, CASES, IMPLS, MODES, caseBySpec } from './config.mjs';
import { analyze, compareRuns, reanalyze, renderMarkdown, renderSvg, updateReadme } from './report.mjs';

const require = createRequire(import.meta.url);

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const BUILD = join(BENCH, 'build');
const RESULTS = join(BENCH, 'results');
const C_SOURCE = join(BENCH, 'native', 'seqpacket.c');
const C_BINARY = join(BUILD, 'seqpacket');

function parseArgs(argv) {
  const options = { mode: 'full', reps: null, only: null, agree: false };
  for (const arg of argv) {
    if (arg === '--quick') options.mode = 'quick';
    else if (arg === '--full') options.mode = 'full';
    else if (arg === '--agree') options.agree = true;
    else if (arg.startsWith('--reps=')) options.reps = Number(arg.slice(7));
    else if (arg.startsWith('--only=')) options.only = arg.slice(7).split(',');
    else throw new Error(`unknown argument ${arg} (use --quick, --full, --agree, --reps=N, --only=a,b)`);
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
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'lib', 'native', 'bench/*.mjs', 'bench/impl', 'bench/native'],
      { cwd: ROOT, encoding: 'utf8' },
    ).trim();
    return dirty ? `${rev} + uncommitted changes in lib/, native/ or bench/` : rev;
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

// Which addon the sessions load: what node-gyp-build picks for the package root (a local
// build in build/Release before prebuilds/, README.md "Installing").
function addonBinary() {
  let path;
  try {
    path = require('node-gyp-build').resolve(ROOT);
  } catch {
    return null;
  }
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
  return { path: relative(ROOT, path), sha256: sha, built: statSync(path).mtime.toISOString() };
}

// A session of `impl`: its process pair, started and waiting for cases. run(spec) resolves
// with the case's value (null for "pin", or once the session has failed: see `error`).
function openSession(impl, mode) {
  const { warmMs, firstWarmMs, windowMs, timeoutMs } = mode;
  const [file, args] = impl.startsWith('c-')
    ? [C_BINARY, ['main', impl.slice(2), `${warmMs},${firstWarmMs}`, String(windowMs)]]
    : [process.execPath, [join(BENCH, 'session.mjs'), 'main', impl, JSON.stringify({ warmMs, firstWarmMs, windowMs })]];
  const child = spawn(file, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const waiting = []; // resolvers of the lines asked for, in order
  const session = { impl, error: null };
  const fail = (why) => {
    if (!session.error) session.error = `${impl}: ${why}${err.trim() ? `\n${err.trim()}` : ''}`;
    for (const resolve of waiting.splice(0)) resolve(null);
  };
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  child.on('exit', (code, signal) => {
    if (code !== 0 || waiting.length) fail(`exit ${code ?? signal}`);
  });
  child.stdin.on('error', () => {}); // a session that died is reported by 'exit'
  const next = () =>
    new Promise((resolve) => {
      if (session.error) return resolve(null);
      waiting.push(resolve);
    });
  const withTimeout = async (promise, what) => {
    let timer;
    const line = await Promise.race([
      promise,
      new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (line !== 'timeout') return line;
    fail(`no answer to ${what} within ${timeoutMs} ms`);
    child.kill('SIGKILL');
    return null;
  };
  session.ready = withTimeout(next(), 'start');
  let first = true;
  // A case's warm-up: the mode's, the case's own if longer, the first case's if longer still.
  const warmFor = (spec) => {
    const c = caseBySpec[spec];
    if (!c) return '';
    const ms = Math.max(warmMs, c.warmMs ?? 0, first ? firstWarmMs : 0);
    first = false;
    return ` ${ms}`;
  };
  session.run = async (spec) => {
    if (session.error) return null;
    const answer = next();
    child.stdin.write(`${spec}${warmFor(spec)}\n`);
    const line = await withTimeout(answer, spec);
    if (line && line.case !== spec) fail(`answered ${line.case} to ${spec}`);
    return session.error ? null : (line?.value ?? null);
  };
  session.close = () => {
    child.stdin.end();
    return new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve),
    );
  };
  return session;
}

// One run of every implementation in `modeName`: the raw samples and what the run was.
async function measure(modeName, options, context) {
  const started = Date.now();
  const mode = { ...MODES[modeName] };
  if (options.reps) mode.reps = options.reps;
  const { impls, pinning } = context;
  const loadBefore = os.loadavg()[0];
  const busyBefore = await busyShare();
  if (busyBefore > 0.1) {
    log(
      `note: the CPUs are ${Math.round(busyBefore * 100)}% busy before the run — other work on this machine will show in the figures`,
    );
  }
  // "case|impl|pinned" → one value a repetition (null where that session failed), so that a
  // ratio can pair each value with its baseline's from the same repetition.
  const samples = {};
  const errors = [];
  log(
    `${modeName} mode: ${mode.reps} repetitions of ${impls.length} implementations, ` +
      `${mode.warmMs} ms warm-up (${mode.firstWarmMs} ms for a session's first case) + ${mode.windowMs} ms window a case`,
  );
  // A repetition starts a session of every implementation; each case then runs on all of
  // them in turn, in an order rotated by one each repetition, so that the values a ratio
  // pairs are measured seconds apart. Then "pin" and the latency cases again.
  const phases = [{ pinned: false, cases: CASES }];
  if (pinning) phases.push({ pinned: true, cases: CASES.filter((c) => c.pinned) });
  for (let rep = 0; rep < mode.reps; rep++) {
    const t0 = Date.now();
    const order = impls.map((_, i) => impls[(i + rep) % impls.length]);
    const sessions = order.map((impl) => openSession(impl, mode));
    await Promise.all(sessions.map((s) => s.ready));
    for (const { pinned, cases } of phases) {
      if (pinned) await Promise.all(sessions.map((s) => s.run('pin')));
      for (const c of cases) {
        for (const session of sessions) {
          if (!c.impls.includes(session.impl)) continue;
          const value = await session.run(c.spec);
          if (value !== null)
            (samples[`${c.id}|${session.impl}|${pinned}`] ??= Array(mode.reps).fill(null))[rep] = value;
        }
      }
    }
    await Promise.all(sessions.map((s) => s.close()));
    for (const s of sessions) {
      if (!s.error) continue;
      errors.push(`repetition ${rep + 1}: ${s.error}`);
      log(s.error);
    }
    log(`[${rep + 1}/${mode.reps}] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const cpus = os.cpus();
  const raw = {
    mode: modeName,
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    compiler: compilerVersion(),
    revision: context.revision,
    addon: context.addon,
    loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(os.loadavg()[0] * 100) / 100 },
    busyBefore: Math.round(busyBefore * 100) / 100,
    method: {
      repetitions: mode.reps,
      warmMs: mode.warmMs,
      firstWarmMs: mode.firstWarmMs,
      caseWarmMs: Object.fromEntries(CASES.filter((c) => c.warmMs > mode.warmMs).map((c) => [c.id, c.warmMs])),
      windowMs: mode.windowMs,
      pinned: pinning ? 'latency cases again with both processes on CPU 0 (taskset -a -p -c 0)' : 'skipped: no taskset',
      interleaving:
        'each repetition starts one session of every implementation and runs each case on all of them in turn, in an order rotated by one each repetition',
      ratios: `each against ${BASELINE} in the same repetition; the median of those ratios`,
    },
    only: options.only,
    errors,
    samples,
  };
  raw.durationS = Math.round((Date.now() - started) / 100) / 10;
  return analyze(raw);
}

function writeResults(report, name) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const md = renderMarkdown(report);
  writeFileSync(join(RESULTS, `${name}.md`), md);
  writeFileSync(join(RESULTS, `${name}.svg`), renderSvg(report));
  return md;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const haveC = buildC();
  const pinning = hasTaskset();
  if (!pinning) log('taskset (util-linux) not found: the pinned latency cases are skipped');
  let impls = IMPLS.map((i) => i.id).filter((id) => haveC || !id.startsWith('c-'));
  if (options.only) impls = impls.filter((id) => options.only.includes(id) || id === BASELINE);
  const context = { impls, pinning, addon: addonBinary(), revision: gitRevision() };

  if (options.agree) {
    // Quick then full in the same sitting; every ratio of the quick run against the full one.
    const quick = await measure('quick', options, context);
    writeResults(quick, 'agree-quick');
    const full = await measure('full', options, context);
    writeResults(full, 'agree-full');
    const { markdown, worst, pass } = compareRuns(quick, full, AGREE_LIMIT);
    // The noise floor: the full run's even repetitions against its odd ones, the same method
    // on both sides. Where they differ by more than the limit, the machine is too busy for
    // this check to say anything about the method.
    const self = compareRuns(
      reanalyze(full, (i) => i % 2 === 0),
      reanalyze(full, (i) => i % 2 === 1),
      AGREE_LIMIT,
    );
    const floor =
      `\nThe full run against itself (its odd-numbered repetitions against its even-numbered ones): the largest difference ` +
      `${Math.round(self.worst * 100)}%, ${self.rows.filter((r) => Math.abs(r.diff) > AGREE_LIMIT).length} of ${self.rows.length} ` +
      `figures outside ±${Math.round(AGREE_LIMIT * 100)}%.\n`;
    writeFileSync(join(RESULTS, 'agree.md'), markdown + floor);
    process.stdout.write(markdown + floor);
    log(
      `\nquick against full: the largest difference is ${Math.round(worst * 100)}% ` +
        `(limit ${Math.round(AGREE_LIMIT * 100)}%): ${pass ? 'they agree' : 'they DO NOT agree'}; ` +
        `the full run against itself: ${Math.round(self.worst * 100)}%; wrote bench/results/agree{,-quick,-full}.*`,
    );
    if (!pass) process.exitCode = 1;
    return;
  }

  const report = await measure(options.mode, options, context);
  // What README.md and the docs link to is a complete full run's; anything else goes beside it.
  const complete = options.mode === 'full' && !options.only;
  const name = complete ? 'latest' : 'partial';
  process.stdout.write(writeResults(report, name));
  log(`\n${options.mode} run took ${report.durationS} s; wrote bench/results/${name}.{json,md,svg}`);
  log(updateReadme(report, ROOT));
  if (report.errors.length) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
