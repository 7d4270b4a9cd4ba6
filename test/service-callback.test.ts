// listen(): an exception thrown by the connection callback is not swallowed: it becomes an
// uncaught exception on a later tick, as Node does for a throwing 'connection' listener of
// net.Server, and the channel it was given is closed (the client sees PEER_CLOSED).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, fdio, ZX_CHANNEL_PEER_CLOSED, ZX_OK } from '../lib/index';
import { startNode, until } from './fixtures/proc-helpers';
import { warmUpSpawn } from './fixtures/spawn';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-service-callback-'));
  await warmUpSpawn();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function connect(address: string): Channel {
  const [mine, theirs] = Channel.create();
  expect(fdio.serviceConnect(address, theirs)).toBe(ZX_OK);
  return mine;
}

describe('listen(): a connection callback that throws', () => {
  it('is an uncaught exception (the channel already closed) and the server serves on', async () => {
    const address = path.join(dir, `svc-${counter++}.sock`);
    const child = startNode('service-throws.cjs', [address, 'report'], [], { stdio: ['pipe', 'pipe', 'pipe'] });
    await child.json('listening');
    const uncaught = () =>
      child
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"uncaught"'))
        .map((l) => JSON.parse(l));
    for (let i = 0; i < 2; i++) {
      const mine = connect(address);
      expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
      mine.close();
      await until(() => uncaught().length === i + 1, 'the uncaught exception to be reported');
    }
    expect(uncaught()).toEqual([
      { uncaught: 'the connection callback failed', channelValid: false },
      { uncaught: 'the connection callback failed', channelValid: false },
    ]);
    child.proc.stdin!.end();
    expect(await child.closed).toEqual({ code: 0, signal: null });
  });

  it('without an uncaughtException handler, ends the process as Node does (code 1, the error on stderr)', async () => {
    const address = path.join(dir, `svc-${counter++}.sock`);
    const child = startNode('service-throws.cjs', [address], [], { stdio: ['pipe', 'pipe', 'pipe'] });
    await child.json('listening');
    const mine = connect(address);
    expect(await child.closed).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toContain('Error: the connection callback failed');
    expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    mine.close();
  });
});
