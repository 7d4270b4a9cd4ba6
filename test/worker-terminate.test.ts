// worker.terminate() at a random moment, while the worker waits and calls asynchronously
// with short deadlines (timers firing as the environment goes away) and makes synchronous
// calls in between (N-API refusing calls mid-way): the process lives on, and what the
// workers used is back where it was. Run in a child process, which a failure kills.
import { describe, expect, it } from 'vitest';
import { fixture, reportOf, spawnWithFds } from './fixtures/spawn';

const ROUNDS = 50;

function terminateWorkers(main: 'loads' | 'bare') {
  return spawnWithFds(process.execPath, [fixture('worker-terminate.cjs'), String(ROUNDS), main]);
}

describe('worker.terminate() at a random moment', () => {
  it(`${ROUNDS} workers, the package loaded on the main thread too: the process lives on; descriptors and handles back to baseline`, async () => {
    const child = terminateWorkers('loads');
    expect(await child.closed, child.stderr()).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const report = reportOf(child);
    expect(report.rounds).toBe(ROUNDS);
    expect(report.fds[1]).toBe(report.fds[0]);
    expect(report.handles[1]).toBe(report.handles[0]);
  });

  it(`${ROUNDS} workers, the package loaded only by them (each one's end unloads it): the process lives on`, async () => {
    const child = terminateWorkers('bare');
    expect(await child.closed, child.stderr()).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(reportOf(child).rounds).toBe(ROUNDS);
  });
});
