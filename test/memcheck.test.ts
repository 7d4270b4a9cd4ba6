// What valgrind's memcheck sees of the addon in a child process: every byte handed to the
// kernel is initialised (the control data of a write with descriptors included). Skipped
// where valgrind is not installed.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ZX_OK } from '../lib/index';
import { fixture } from './fixtures/spawn';

const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;

describe.skipIf(!hasValgrind)('under valgrind memcheck', () => {
  it('writes carrying 1 to 4 descriptors hand sendmsg no uninitialised byte', () => {
    // Valgrind and ASan exclude each other: under scripts/sanitize.sh memcheck looks at the
    // normal build (build/Release), without the preloaded ASan runtime.
    const env = { ...process.env };
    delete env.LD_PRELOAD;
    delete env.ZIRCON_IPC_PREBUILD;
    const run = spawnSync('valgrind', ['--error-exitcode=99', process.execPath, fixture('send-descriptors.cjs')], {
      env,
      encoding: 'utf8',
      timeout: 110_000,
    });
    const errors = run.stderr.split('\n').filter((l) => /uninitialised|Invalid (read|write)/.test(l));
    expect(errors, run.stderr).toEqual([]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      written: [ZX_OK, ZX_OK, ZX_OK, ZX_OK],
      read: [
        [ZX_OK, 1],
        [ZX_OK, 2],
        [ZX_OK, 3],
        [ZX_OK, 4],
      ],
    });
  }, 120_000);
});
