// The package loads a prebuilt binary from prebuilds/<platform>-<arch>/ when one is there
// (what `npm run prebuild` makes), and that binary works like the local build.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'zircon-ipc-prebuild-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading from a prebuild', () => {
  it('node-gyp-build finds prebuilds/<platform>-<arch>/zircon-ipc.node and it works', () => {
    // A package with a prebuild and no build/ folder.
    const target = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(target, { recursive: true });
    copyFileSync(path.join(root, 'build/Release/zircon_ipc.node'), path.join(target, 'zircon-ipc.node'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'zircon-ipc', version: '0.0.0' }));
    const script = `
      const load = require(${JSON.stringify(require.resolve('node-gyp-build'))});
      const where = load.resolve(${JSON.stringify(dir)});
      const addon = load(${JSON.stringify(dir)});
      const status = addon.channelCreate(0);
      const [a, b] = addon.scratch;
      const wrote = addon.channelWrite(a, 0, Buffer.from('hi'), null);
      const bytes = addon.channelRead(b, 0, 65536, 64);
      console.log(JSON.stringify({ where, status, wrote, text: bytes.toString(), closed: addon.handleCloseMany([a, b]) }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({
      where: path.join(target, 'zircon-ipc.node'),
      status: 0,
      wrote: 0,
      text: 'hi',
      closed: 0,
    });
  });
});
