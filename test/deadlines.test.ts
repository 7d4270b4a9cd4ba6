// Deadlines: the sys functions take an absolute bigint of nanoseconds on the monotonic
// clock and refuse a number (1000 would mean 1 µs after boot); the classes take timeouts
// in milliseconds, Port included.
import { describe, expect, it } from 'vitest';
import { Channel, Port, sys, ZX_CHANNEL_READABLE, ZX_ERR_TIMED_OUT, ZX_OK } from '../lib/index';
import { expectZxError, thrownBy } from './fixtures/errors';

const message = (fn: string, got: string) =>
  `${fn}: deadline must be a bigint of nanoseconds on the monotonic clock (sys.deadlineAfter), got ${got}`;

function expectRefused(fn: string, call: (deadline: any) => unknown): void {
  for (const [value, got] of [
    [1000, 'number 1000'],
    [0, 'number 0'],
    [undefined, 'undefined undefined'],
  ] as const) {
    const error = thrownBy(() => call(value));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(message(fn, got));
  }
}

describe('sys deadlines are bigints', () => {
  it('every sys function with a deadline refuses a number with a TypeError naming it', () => {
    const [a, b] = Channel.create();
    const port = Port.create();
    const call = { bytes: Buffer.alloc(4), handles: null, readNumBytes: 64, readNumHandles: 0 };
    expectRefused('objectWaitOne', (d) => sys.objectWaitOne(a.raw, ZX_CHANNEL_READABLE, d));
    expectRefused('objectWaitOneAsync', (d) => sys.objectWaitOneAsync(a.raw, ZX_CHANNEL_READABLE, d));
    expectRefused('objectWaitMany', (d) =>
      sys.objectWaitMany([{ handle: a.raw, waitfor: ZX_CHANNEL_READABLE, pending: 0 }], d),
    );
    expectRefused('channelCall', (d) => sys.channelCall(a.raw, 0, d, call));
    expectRefused('channelCallEtc', (d) => sys.channelCallEtc(a.raw, 0, d, call));
    expectRefused('channelCallAsync', (d) => sys.channelCallAsync(a.raw, 0, d, call));
    expectRefused('channelCallEtcAsync', (d) => sys.channelCallEtcAsync(a.raw, 0, d, call));
    expectRefused('portWait', (d) => sys.portWait(port.raw, d));
    expectRefused('portWaitAsync', (d) => sys.portWaitAsync(port.raw, d));
    // Nothing was sent by the refused calls.
    expect(sys.channelRead(b.raw, 0, 64, 0).status).not.toBe(ZX_OK);
    for (const h of [a, b, port]) h.close();
  });

  it('a bigint deadline works as before; deadlineAfter still takes a duration as a number', () => {
    const [a, b] = Channel.create();
    expect(sys.objectWaitOne(a.raw, ZX_CHANNEL_READABLE, 0n).status).toBe(ZX_ERR_TIMED_OUT);
    const start = sys.clockGetMonotonic();
    const after = sys.deadlineAfter(5_000_000);
    expect(after - start >= 5_000_000n).toBe(true);
    expect(sys.deadlineAfter(5_000_000n) >= after).toBe(true);
    expect(() => sys.deadlineAfter(1.5)).toThrow(TypeError);
    a.close();
    b.close();
  });
});

describe('Port takes milliseconds', () => {
  it('waitSync({ timeout }) waits that many milliseconds, then TIMED_OUT', () => {
    const port = Port.create();
    const start = sys.clockGetMonotonic();
    expectZxError(
      thrownBy(() => port.waitSync({ timeout: 20 })),
      ZX_ERR_TIMED_OUT,
      'Port.waitSync',
    );
    expect(sys.clockGetMonotonic() - start >= 20_000_000n).toBe(true);
    port.queue({ key: 3n });
    expect(port.waitSync({ timeout: 20_000 }).key).toBe(3n);
    port.close();
  });

  it('waitSync refuses a deadline (a bigint or a number) with a TypeError', () => {
    const port = Port.create();
    port.queue({ key: 1n });
    for (const wrong of [0n, 1000, { timeout: 5n }]) {
      const error = thrownBy(() => port.waitSync(wrong as any));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^Port\.waitSync: /);
    }
    // The packet is still there: nothing was taken by the refused calls.
    expect(port.waitSync({ timeout: 0 }).key).toBe(1n);
    port.close();
  });
});
