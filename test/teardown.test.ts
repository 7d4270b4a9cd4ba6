// A synchronous wait blocked forever (ZX_TIME_INFINITE) in a worker thread does not outlive
// its environment: process.exit() and worker.terminate() end it (ZX_ERR_CANCELED, seen
// within kTeardownCheckNs while asleep), so the process exits, or carries on without the
// worker. Each case runs in a child process (test/fixtures/teardown-child.cjs).
import { beforeAll, describe, expect, it } from 'vitest';
import { ZX_ERR_CANCELED, ZX_OK } from '../lib/index';
import { endWithin, fixture, reportOf, spawnWithFds, warmUpSpawn } from './fixtures/spawn';

beforeAll(warmUpSpawn);

const WAITS = ['waitOne', 'waitMany', 'call', 'portWait'];
// Far above the promise (a blocked thread looks every 50 ms), far below a hang.
const DEADLINE_MS = 20_000;

function child(op: string, how: string, workerOnly: boolean) {
  return spawnWithFds(process.execPath, [
    fixture('teardown-child.cjs'),
    op,
    how,
    ...(workerOnly ? ['workerOnly'] : []),
  ]);
}

describe.each(WAITS)('a worker blocked forever in %s', (op) => {
  it('process.exit() in the main thread: the wait answers CANCELED during the exit event, the process exits with its code', async () => {
    const c = child(op, 'exit', false);
    expect(await endWithin(c, DEADLINE_MS), c.stderr()).toEqual({ code: 7, signal: null });
    expect(reportOf(c)).toEqual({ status: ZX_ERR_CANCELED });
  });

  it('process.exit() when only the worker loaded the package (no exit hook): the same', async () => {
    const c = child(op, 'exit', true);
    expect(await endWithin(c, DEADLINE_MS), c.stderr()).toEqual({ code: 7, signal: null });
  });

  it('worker.terminate() resolves promptly, and the process carries on', async () => {
    const c = child(op, 'terminate', false);
    expect(await endWithin(c, DEADLINE_MS), c.stderr()).toEqual({ code: 0, signal: null });
    const { terminated, ms, after } = reportOf(c);
    expect({ terminated, after }).toEqual({ terminated: 1, after: ZX_OK });
    expect(ms).toBeLessThan(2_000); // measured 50–85 ms idle; slack for a loaded machine
  });

  it('worker.terminate() when only the worker loaded the package: the same', async () => {
    const c = child(op, 'terminate', true);
    expect(await endWithin(c, DEADLINE_MS), c.stderr()).toEqual({ code: 0, signal: null });
    const { terminated, ms } = reportOf(c);
    expect(terminated).toBe(1);
    expect(ms).toBeLessThan(2_000);
  });
});
