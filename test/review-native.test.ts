// Races and lifetimes in the native core, each shown by what a user sees: a waiter that
// must wake, a descriptor that must close, a status Zircon gives.
import { afterAll, describe, expect, it } from 'vitest';
import { sys, ZX_EVENT_SIGNALED, ZX_OK, ZX_TIME_INFINITE } from '../lib/index';
import type { PortWaitResult } from '../lib/sys';
import { baseline, expectBaseline } from './fixtures/channels';
import { inWorker } from './fixtures/threads';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('port observers', () => {
  // objectWaitAsync looks at the object, then starts watching it. A signal that comes on
  // between the two must still wake a waiter already asleep on the port: the port has to
  // look again once the watch is in place, not at some later wake-up.
  it('a signal raised while objectWaitAsync sets up its watch wakes a pending portWaitAsync', async () => {
    const before = baseline();
    const port = sys.portCreate(0).out;
    // Word 0: the round (the signaller starts it when it changes; -1: stop); 1: the event;
    // 2: how long to spin first; 3: the round whose signal is done.
    const shared = new Int32Array(new SharedArrayBuffer(16));
    const signaller = inWorker(
      `const s = new Int32Array(workerData);
       let last = 0;
       parentPort.postMessage('ready');
       for (;;) {
         let round;
         while ((round = Atomics.load(s, 0)) === last) {}
         if (round < 0) break;
         last = round;
         for (let i = 0, n = s[2]; i < n; i++) {}
         sys.objectSignal(s[1], 0, zx.ZX_EVENT_SIGNALED);
         Atomics.store(s, 3, round);
       }`,
      shared.buffer,
    );
    await signaller.message;
    let missed = 0;
    const rounds = 1000;
    let round = 1;
    for (; round <= rounds && missed === 0; round++) {
      const event = sys.eventCreate(0).out;
      shared[1] = event;
      shared[2] = Math.floor(Math.random() * 200);
      let settled: PortWaitResult | null = null;
      const waiting = sys.portWaitAsync(port, ZX_TIME_INFINITE).then((r) => (settled = r));
      Atomics.store(shared, 0, round); // the signal lands before, during or after the call below
      expect(sys.objectWaitAsync(event, port, BigInt(round), ZX_EVENT_SIGNALED, 0)).toBe(ZX_OK);
      while (Atomics.load(shared, 3) !== round) {}
      // The port is readable by now if it was told. One turn reaches the check phase, the
      // next passes through the poll phase, where a readable port settles the wait.
      await nextTurn();
      await nextTurn();
      if (settled === null) {
        missed = round;
        expect(sys.handleClose(port)).toBe(ZX_OK); // ends the wait (CANCELED)
      }
      await waiting;
      expect(sys.handleClose(event)).toBe(ZX_OK);
    }
    Atomics.store(shared, 0, -1);
    await signaller.exited;
    if (!missed) expect(sys.handleClose(port)).toBe(ZX_OK);
    expectBaseline(before);
    expect({ missed, rounds: round - 1 }).toEqual({ missed: 0, rounds });
  });
});
