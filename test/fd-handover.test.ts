// Plain descriptors handed to a child as startup handles and used there: a listening socket
// (created by this process's net.Server, taken with fdio.fdClone) that the child accepts a
// connection on, a file it reads and a log file it appends to.
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdio, ZX_OBJ_TYPE_FD, ZX_OK, ZX_RIGHT_READ, ZX_RIGHT_WRITE, ZX_RIGHTS_BASIC } from '../lib/index';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { baseline, basicOf, expectBaseline, fixture, isValid, start, startNode, user } from './fixtures/proc-helpers';

let dir: string;
const CONTENTS = 'written by the parent';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-handover-'));
  writeFileSync(path.join(dir, 'contents.txt'), CONTENTS);
  await warmUpSpawn();
  warmUpWait();
  // The first server and connection of a process open descriptors libuv keeps: warm up.
  const server = net.createServer((c) => c.end('x'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await fetchText({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  await new Promise((resolve) => server.close(resolve));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileHandle(name: string, flags: 'r' | 'a'): number {
  const t = fdio.fdTransfer(openSync(path.join(dir, name), flags));
  expect(t.status).toBe(ZX_OK);
  return t.handle;
}

/** Connects, reads until the other side ends, resolves with what it sent. */
function fetchText(options: net.NetConnectOpts): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(options);
    socket.setEncoding('utf8').on('data', (s: string) => (text += s));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** A listening net.Server and a handle for a duplicate of its descriptor. */
async function listeningHandle(
  listen: (server: net.Server, ready: () => void) => void,
): Promise<{ server: net.Server; handle: number }> {
  const server = net.createServer(() => {
    throw new Error('the parent must not accept');
  });
  await new Promise<void>((resolve) => listen(server, resolve));
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const cloned = fdio.fdClone(fd);
  expect(cloned.status).toBe(ZX_OK);
  return { server, handle: cloned.handle };
}

describe('a listening socket and files handed to a child', () => {
  it('a Node child accepts a TCP connection on the socket, reads one file and appends to another', async () => {
    writeFileSync(path.join(dir, 'log.txt'), 'first line\n');
    const base = baseline();
    const { server, handle: listener } = await listeningHandle((s, ready) => s.listen(0, '127.0.0.1', ready));
    const { port } = server.address() as net.AddressInfo;
    const file = fileHandle('contents.txt', 'r');
    const log = fileHandle('log.txt', 'a');
    expect(basicOf(listener)).toMatchObject({
      type: ZX_OBJ_TYPE_FD,
      rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE,
    });

    const child = startNode(
      'proc-listener.cjs',
      [],
      [
        { id: user(0), handle: listener },
        { id: user(1), handle: file },
        { id: user(2), handle: log },
      ],
    );
    expect([listener, file, log].filter(isValid)).toEqual([]);
    // Only the child holds the listening socket now.
    await new Promise((resolve) => server.close(resolve));

    const ready = await child.json('listening');
    expect(ready).toEqual({
      listening: { address: '127.0.0.1', family: 'IPv4', port },
      handles: [
        { type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ | ZX_RIGHT_WRITE },
        { type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ },
        { type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE },
      ],
    });
    expect(await fetchText({ port, host: '127.0.0.1' })).toBe(
      `child ${child.pid} accepted; the file says: ${CONTENTS}`,
    );
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(readFileSync(path.join(dir, 'log.txt'), 'utf8')).toBe(`first line\nchild ${child.pid} served 127.0.0.1\n`);
    await expectBaseline(base);
  });

  it('a Python child accepts on a listening Unix socket (abstract name) and reads a file', async () => {
    const base = baseline();
    const name = `\0zircon-ipc-handover-${process.pid}`;
    const { server, handle: listener } = await listeningHandle((s, ready) => s.listen(name, ready));
    const file = fileHandle('contents.txt', 'r');
    const child = start(
      'python3',
      [fixture('proc-accept.py')],
      [
        { id: user(0), handle: listener },
        { id: user(1), handle: file },
      ],
    );
    expect([listener, file].filter(isValid)).toEqual([]);
    await new Promise((resolve) => server.close(resolve));

    expect(await child.json('ready')).toEqual({ ready: true });
    expect(await fetchText({ path: name })).toBe(`python ${child.pid} accepted; the file says: ${CONTENTS}`);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    await expectBaseline(base);
  });
});
