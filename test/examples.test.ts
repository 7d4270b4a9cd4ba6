// Every example runs to completion with exit code 0 and prints what it promises.
// (They load dist/index.js: `npm test` builds it first.)
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const examples = path.join(__dirname, '..', 'examples');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-examples-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(examples, script), ...args],
      { timeout: 20_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
      },
    );
  });
}

describe('examples', () => {
  it('demo.mjs: a message, a file and round trips between two processes', async () => {
    const { code, stdout, stderr } = await run('demo.mjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /parent received: child \d+ got "hello from the parent" and a file saying "a file handed over as a handle"/,
    );
    expect(stdout).toMatch(/round trip of 16 bytes between the (two )?processes.*: [\d.]+ µs/);
    expect(stdout).toContain('child exited with code 0');
  });

  it('shared-memory.mjs: a VMO mapped by two processes, turns passed with an eventpair', async () => {
    const { code, stdout, stderr } = await run('shared-memory.mjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('the child squared 1000 numbers in shared memory; sum 333833500 (expected 333833500)');
    expect(stdout).toMatch(/one turn there and back: [\d.]+ µs/);
    expect(stdout).toContain('child exited with code 0');
  });

  it('supervisor.mjs: three workers, each with a channel and the log file', async () => {
    const { code, stdout, stderr } = await run('supervisor.mjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const pids = stdout.match(/started 3 workers: pids (\d+), (\d+), (\d+)/)!.slice(1);
    expect(pids).toHaveLength(3);
    const counts = [2262, 4203, 6057];
    pids.forEach((pid, i) => {
      expect(stdout).toContain(`worker ${i + 1} (pid ${pid}): ${counts[i]} primes below ${20_000 * (i + 1)}`);
      for (const line of [
        'started',
        `counting primes below ${20_000 * (i + 1)}`,
        `answered ${counts[i]}`,
        'channel closed: done',
      ]) {
        expect(stdout).toContain(`  [worker ${i + 1} pid ${pid}] ${line}\n`);
      }
    });
    expect(stdout).toContain('workers exited with codes 0, 0, 0');
  });

  it('service.mjs: three client processes call the service by name', async () => {
    const p = path.join(dir, 'service.sock');
    const { code, stdout, stderr } = await run('service.mjs', [p]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const service = stdout.match(/^service (\d+) listening on (.*) \(mode 0600\)$/m)!;
    expect(service[2]).toBe(p);
    for (const n of [1, 2, 3]) {
      expect(stdout).toMatch(
        new RegExp(
          `client ${n} \\(pid \\d+\\): "hello from client ${n}" -> "HELLO FROM CLIENT ${n} \\(request \\d, answered by pid ${service[1]}\\)"`,
        ),
      );
    }
    expect(stdout.match(/service: a channel from pid \d+/g)).toHaveLength(3);
    expect(stdout).toContain(`service: 6 requests answered; clients exited with 0, 0, 0; ${p} removed`);
    expect(existsSync(p)).toBe(false);
  });

  it('client.mjs: with nothing at the path it starts the service, calls it and stops it', async () => {
    const p = path.join(dir, 'client.sock');
    const { code, stdout, stderr } = await run('client.mjs', [p, 'tester']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`tester: nothing serves ${p} (ZX_ERR_NOT_FOUND): starting the service`);
    expect(stdout).toMatch(
      /tester \(pid \d+\): "hello from tester" -> "HELLO FROM TESTER \(request 1, answered by pid \d+\)"/,
    );
    expect(stdout).toMatch(/tester \(pid \d+\): "how are you\?" -> "HOW ARE YOU\? \(request 2, answered by pid \d+\)"/);
    expect(stdout).toContain(`service: stopped after 2 requests; ${p} removed`);
    expect(stdout).toContain('tester: the service exited with code 0');
    expect(existsSync(p)).toBe(false);
  });
});
