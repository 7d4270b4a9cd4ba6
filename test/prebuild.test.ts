// Which binary the package loads: a local build in build/Release before a prebuilt one in
// prebuilds/<platform>-<arch>/ (node-gyp-build's order, as README.md says), the prebuild
// only for its own libc, on a Mac the one for its architecture, and with neither an error
// that says what to run.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const localBuild = path.join(root, 'build/Release/zircon_ipc.node');
const dirs: string[] = [];

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A copy of the package (package.json, dist/) with the given binaries and nothing else. */
function packageWith(binaries: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zircon-ipc-load-'));
  dirs.push(dir);
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  for (const binary of binaries) {
    mkdirSync(path.dirname(path.join(dir, binary)), { recursive: true });
    copyFileSync(localBuild, path.join(dir, binary));
  }
  return dir;
}

/** Requires the copy in a new process: the .node files it mapped and a message's round trip. */
function load(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { Channel } = require(${JSON.stringify(path.join(dir, 'dist/index.js'))});
    const [a, b] = Channel.create();
    a.write('hi');
    const text = Buffer.from(b.tryRead().bytes).toString();
    a.close(); b.close();
    const mapped = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
      .map((line) => line.split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node'));
    console.log(JSON.stringify({ text, mapped: [...new Set(mapped)] }));
  `;
  return new Promise((resolve) => {
    // Nothing steers node-gyp-build: it decides from the package folder and the machine.
    const env = { ...process.env };
    delete env.LIBC;
    delete env.ZIRCON_IPC_PREBUILD;
    execFile(process.execPath, ['-e', script], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const prebuild = `prebuilds/${process.platform}-${process.arch}/zircon-ipc.glibc.node`;

describe('which binary loads', () => {
  it('a local build in build/Release is loaded before a prebuild', async () => {
    const dir = packageWith(['build/Release/zircon_ipc.node', prebuild]);
    const { code, stdout, stderr } = await load(dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ text: 'hi', mapped: [path.join(dir, 'build/Release/zircon_ipc.node')] });
  });

  it('without a local build, the prebuild for this platform and libc is loaded', async () => {
    const dir = packageWith([prebuild, `prebuilds/${process.platform}-${process.arch}/zircon-ipc.musl.node`]);
    const { code, stdout, stderr } = await load(dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ text: 'hi', mapped: [path.join(dir, prebuild)] });
  });

  it("on a Mac, node-gyp-build picks the macOS prebuild for the Mac's architecture", async () => {
    // What the package ships (prebuilds/darwin-*/zircon-ipc.node carry no libc tag: on
    // macOS node-gyp-build takes the libc to be "glibc"). npm's platform and arch variables,
    // which node-gyp-build reads instead of the machine's, make this machine a Mac.
    const dir = packageWith([
      'prebuilds/darwin-x64/zircon-ipc.node',
      'prebuilds/darwin-arm64/zircon-ipc.node',
      prebuild,
      `prebuilds/${process.platform}-${process.arch}/zircon-ipc.musl.node`,
    ]);
    const resolved = await Promise.all(
      ['x64', 'arm64'].map(async (arch) => {
        const env: NodeJS.ProcessEnv = { ...process.env, npm_config_platform: 'darwin', npm_config_arch: arch };
        delete env.LIBC;
        delete env.ZIRCON_IPC_PREBUILD;
        const { stdout } = await run(
          process.execPath,
          ['-p', `require('node-gyp-build').path(${JSON.stringify(dir)})`],
          {
            cwd: root,
            env,
          },
        );
        return stdout.trim();
      }),
    );
    expect(resolved).toEqual([
      path.join(dir, 'prebuilds/darwin-x64/zircon-ipc.node'),
      path.join(dir, 'prebuilds/darwin-arm64/zircon-ipc.node'),
    ]);
  });

  it('with no local build and no fitting prebuild, the error says what happened and what to run', async () => {
    // Only another libc's and another architecture's prebuilds: nothing fits this machine.
    const other = process.arch === 'arm64' ? 'x64' : 'arm64';
    const dir = packageWith([
      `prebuilds/${process.platform}-${process.arch}/zircon-ipc.musl.node`,
      `prebuilds/${process.platform}-${other}/zircon-ipc.glibc.node`,
    ]);
    const { code, stdout, stderr } = await load(dir);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const message = stderr.match(/^Error: (zircon-ipc: .*)$/m)![1];
    expect(message).toBe(
      `zircon-ipc: its native addon was never built here. No prebuilt binary in the package fits ` +
        `this platform (${process.platform}-${process.arch}), and no local build exists because ` +
        `the package's install script did not run (npm's allowScripts policy, --ignore-scripts, ` +
        `or pnpm skip it until approved). Approve it and build: \`npm install-scripts approve ` +
        `zircon-ipc && npm rebuild zircon-ipc\` (pnpm: \`pnpm approve-builds\`, then ` +
        `\`pnpm rebuild zircon-ipc\`). Building needs a C++17 compiler, make and Python 3 ` +
        `(README.md, "Installing"). node-gyp-build said: No native build was found for ` +
        `platform=${process.platform} arch=${process.arch} runtime=node abi=${process.versions.modules} ` +
        `uv=${process.versions.uv.split('.')[0]} ${process.arch === 'arm64' ? 'armv=8 ' : ''}libc=glibc ` +
        `node=${process.versions.node}`,
    );
    expect(stderr).toContain(`    loaded from: ${dir}`);
  });
});
