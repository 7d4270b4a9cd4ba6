// Services (docs/processes.md): listen on a path or an abstract name, serviceConnect hands
// the server a channel end with the client's credentials; socket file modes, stale and
// live files, closing, connecting to nothing, clients and servers that are not Node, and a
// hundred concurrent clients. Every case ends with descriptors and handles at baseline.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel,
  fdio,
  listen,
  sys,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_ALREADY_EXISTS,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BAD_PATH,
  ZX_ERR_NOT_FOUND,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_WRONG_TYPE,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
  type ServiceConnection,
  type ServiceServer,
} from '../lib/index';
import { native } from '../lib/native';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';
import {
  baseline,
  basicOf,
  expectBaseline,
  fixture,
  isValid,
  start,
  startNode,
  until,
  type Proc,
} from './fixtures/proc-helpers';
import { portable } from './fixtures/backend';
import { pipeReadHandle } from './fixtures/channels';

let dir: string;
let counter = 0;
const sockPath = (name = 'svc') => path.join(dir, `${name}-${counter++}.sock`);
const abstractName = () => `zircon-ipc-test-${process.pid}-${counter++}`;
const uid = process.getuid!();
const gid = process.getgid!();

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-services-'));
  await warmUpSpawn();
  warmUpWait();
  // The first server's accept loop and handover read set up what the loop keeps: warm up.
  const warm = readdirSync('/proc/self/fd').length;
  const p = sockPath('warm');
  const server = listen(p, (c) => c.channel.close());
  const [mine, theirs] = Channel.create();
  expect(fdio.serviceConnect(p, theirs.release())).toBe(ZX_OK);
  await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 });
  mine.close();
  server.close();
  // The listening socket is let go of when the accept loop's wait ends, on a later turn of
  // the event loop: wait until the descriptor count stops falling.
  const fds = () => readdirSync('/proc/self/fd').length;
  await until(() => fds() === warm, 'the warm-up server to let go');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

function expectAlreadyExists(f: () => unknown): void {
  const error = thrownBy(f);
  expect(error).toBeInstanceOf(ZxError);
  expect((error as ZxError).status).toBe(ZX_ERR_ALREADY_EXISTS);
  expect((error as ZxError).code).toBe('ZX_ERR_ALREADY_EXISTS');
}

/** Answers every call on the channel with its txid and JSON of what the server knows. */
async function serve({ channel, pid, uid, gid }: ServiceConnection): Promise<number> {
  let calls = 0;
  for await (const { bytes } of channel) {
    const answer = JSON.stringify({ server: process.pid, pid, uid, gid, text: bytes.subarray(4).toString() });
    channel.write(Buffer.concat([bytes.subarray(0, 4), Buffer.from(answer)]));
    calls++;
  }
  channel.close();
  return calls;
}

/** Connects from this process and makes one call; returns the parsed answer. */
async function callService(address: string, text: string): Promise<any> {
  const [mine, theirs] = Channel.create();
  expect(fdio.serviceConnect(address, theirs.release())).toBe(ZX_OK);
  try {
    const reply = await mine.call(`....${text}`, [], { timeout: 20_000 });
    return JSON.parse(reply.bytes.subarray(4).toString());
  } finally {
    mine.close();
  }
}

/** serviceConnect with a fresh channel: the status, and whether the request was consumed
 *  (gone from the table, its peer seeing PEER_CLOSED). */
async function connectStatus(address: string): Promise<number> {
  const [mine, theirs] = Channel.create();
  const raw = theirs.release();
  const status = fdio.serviceConnect(address, raw);
  expect(isValid(raw)).toBe(false);
  expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
  mine.close();
  return status;
}

/** A socket file that nobody listens on (bound by a process that is gone). */
function staleSocketFile(p: string): void {
  execFileSync('python3', [
    '-c',
    'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind(sys.argv[1])',
    p,
  ]);
  expect(lstatSync(p).isSocket()).toBe(true);
}

describe('listen', () => {
  it('makes a socket file with mode 0600, or the mode asked for; closing removes it', async () => {
    const base = baseline();
    const p = sockPath();
    const server = listen(p);
    expect(server.path).toBe(p);
    expect(server.closed).toBe(false);
    expect(lstatSync(p).isSocket()).toBe(true);
    expect(lstatSync(p).mode & 0o777).toBe(0o600);
    server.close();
    expect(server.closed).toBe(true);
    expect(existsSync(p)).toBe(false);
    server.close(); // twice is harmless

    for (const mode of [0o666, 0o640, 0o700]) {
      const q = sockPath();
      const s = listen(q, undefined, { mode });
      expect(lstatSync(q).mode & 0o777).toBe(mode); // exactly, whatever the umask
      s.close();
      expect(existsSync(q)).toBe(false);
    }
    expect(await connectStatus(p)).toBe(ZX_ERR_NOT_FOUND);
    await expectBaseline(base);
  });

  it("hands the server the request end whole, with this process's pid, uid and gid (async iterator)", async () => {
    const base = baseline();
    const p = sockPath();
    const server = listen(p);
    const [mine, theirs] = Channel.create();
    const sent = basicOf(theirs.raw);
    const raw = theirs.release();
    expect(fdio.serviceConnect(p, raw)).toBe(ZX_OK);
    expect(isValid(raw)).toBe(false); // consumed

    const iterator = server[Symbol.asyncIterator]();
    const { value: connection, done } = await iterator.next();
    expect(done).toBe(false);
    const { channel, ...peer } = connection as ServiceConnection;
    expect(peer).toEqual({ pid: process.pid, uid, gid });
    expect(channel).toBeInstanceOf(Channel);
    expect(basicOf(channel.raw)).toEqual(sent);
    expect(sent).toMatchObject({
      type: ZX_OBJ_TYPE_CHANNEL,
      rights: ZX_DEFAULT_CHANNEL_RIGHTS,
      relatedKoid: basicOf(mine.raw).koid,
    });
    channel.write('from the server');
    expect((await mine.read({ timeout: 20_000 })).bytes.toString()).toBe('from the server');
    mine.write('from the client');
    expect((await channel.read({ timeout: 20_000 })).bytes.toString()).toBe('from the client');

    // Closing the server ends the iteration; the channels it handed out are the caller's.
    const ended = iterator.next();
    server.close();
    expect(await ended).toEqual({ value: undefined, done: true });
    channel.write('still open');
    expect((await mine.read({ timeout: 20_000 })).bytes.toString()).toBe('still open');
    channel.close();
    mine.close();
    await expectBaseline(base);
  });

  it('a client child: the callback gets its pid, uid and gid', async () => {
    const base = baseline();
    const p = sockPath();
    const seen: Omit<ServiceConnection, 'channel'>[] = [];
    const server = listen(p, (connection) => {
      const { channel, ...peer } = connection;
      seen.push(peer);
      void serve(connection);
    });
    const client = startNode('proc-clients.cjs', [p, '2']);
    const { statuses, replies } = await client.json('replies');
    expect(statuses).toEqual([ZX_OK, ZX_OK]);
    expect(replies).toEqual(
      [0, 1].map((i) => ({ server: process.pid, pid: client.pid, uid, gid, text: `client ${client.pid} #${i}` })),
    );
    expect(seen).toEqual([
      { pid: client.pid, uid, gid },
      { pid: client.pid, uid, gid },
    ]);
    expect(await client.closed).toEqual({ code: 0, signal: null });
    server.close();
    await expectBaseline(base);
  });
});

describe('live and stale socket files', () => {
  it('a live server, here or in another process, is not replaced: ZxError ALREADY_EXISTS', async () => {
    const base = baseline();
    const p = sockPath();
    const server = listen(p, (c) => void serve(c));
    expectAlreadyExists(() => listen(p));
    expect(lstatSync(p).isSocket()).toBe(true);
    expect(await callService(p, 'still here')).toMatchObject({ server: process.pid, text: 'still here' });
    server.close();

    const q = sockPath();
    const child = startNode('proc-server.cjs', [q]);
    expect(await child.json('listening')).toEqual({ listening: q });
    expectAlreadyExists(() => listen(q));
    expect(await callService(q, 'to the child')).toEqual({
      server: child.pid,
      pid: process.pid,
      uid,
      gid,
      text: 'to the child',
    });
    child.proc.kill('SIGKILL');
    expect(await child.closed).toEqual({ code: null, signal: 'SIGKILL' });

    // Something that is not a socket is never touched.
    const r = path.join(dir, `regular-${counter++}`);
    writeFileSync(r, 'not a socket');
    expectAlreadyExists(() => listen(r));
    expect(readFileSync(r, 'utf8')).toBe('not a socket');
    await expectBaseline(base);
  });

  it('a socket file left by a server killed with SIGKILL: PEER_CLOSED for clients, then replaced by a new listen', async () => {
    const base = baseline();
    const p = sockPath();
    const child = startNode('proc-server.cjs', [p]);
    expect(await child.json('listening')).toEqual({ listening: p });
    child.proc.kill('SIGKILL');
    expect(await child.closed).toEqual({ code: null, signal: 'SIGKILL' });
    expect(lstatSync(p).isSocket()).toBe(true); // nobody removed it

    expect(await connectStatus(p)).toBe(ZX_ERR_PEER_CLOSED);
    const server = listen(p, (c) => void serve(c));
    expect(lstatSync(p).mode & 0o777).toBe(0o600);
    expect(await callService(p, 'after the restart')).toEqual({
      server: process.pid,
      pid: process.pid,
      uid,
      gid,
      text: 'after the restart',
    });
    server.close();
    expect(existsSync(p)).toBe(false);
    await expectBaseline(base);
  });
});

describe('connecting to nothing', () => {
  it('NOT_FOUND without a file, PEER_CLOSED with a file nobody listens on; the request is consumed, nothing leaks', async () => {
    const base = baseline();
    expect(await connectStatus(path.join(dir, 'nothing-here.sock'))).toBe(ZX_ERR_NOT_FOUND);
    expect(await connectStatus(path.join(dir, 'no-such-dir', 'x.sock'))).toBe(ZX_ERR_NOT_FOUND);
    expect(await connectStatus(`\0${abstractName()}`)).toBe(ZX_ERR_PEER_CLOSED);
    const stale = sockPath('stale');
    staleSocketFile(stale);
    expect(await connectStatus(stale)).toBe(ZX_ERR_PEER_CLOSED);
    const regular = path.join(dir, `regular-${counter++}`);
    writeFileSync(regular, '');
    expect(await connectStatus(regular)).toBe(ZX_ERR_PEER_CLOSED);
    expect(await connectStatus(path.join(dir, 'x'.repeat(120)))).toBe(ZX_ERR_BAD_PATH);
    await expectBaseline(base);
  });

  it('a request that is not a channel: WRONG_TYPE, consumed; a closed handle: BAD_HANDLE', async () => {
    const base = baseline();
    const p = sockPath();
    const served: ServiceConnection[] = [];
    const server = listen(p, (c) => served.push(c));
    // Descriptor 0 here is a connected stream socket, which the portable backend takes for
    // a channel (docs/architecture.md, "Backends"): there, a pipe is the request.
    const t = portable ? { status: ZX_OK, handle: pipeReadHandle() } : fdio.fdClone(0);
    expect(t.status).toBe(ZX_OK);
    expect(fdio.serviceConnect(p, t.handle)).toBe(ZX_ERR_WRONG_TYPE);
    expect(isValid(t.handle)).toBe(false);
    const [a, b] = Channel.create();
    const stale = a.release();
    expect(sys.handleClose(stale)).toBe(ZX_OK);
    expect(fdio.serviceConnect(p, stale)).toBe(ZX_ERR_BAD_HANDLE);
    b.close();
    server.close();
    expect(served).toEqual([]);
    await expectBaseline(base);
  });
});

describe('abstract names', () => {
  it('listen on \\0name: no file; clients connect by name; a second listen is refused', async () => {
    const base = baseline();
    const name = abstractName();
    const server = listen(`\0${name}`);
    expect(existsSync(name)).toBe(false);
    expectAlreadyExists(() => listen(`\0${name}`));
    const served = (async () => {
      let calls = 0;
      const peers: Omit<ServiceConnection, 'channel'>[] = [];
      for await (const connection of server) {
        const { channel, ...peer } = connection;
        peers.push(peer);
        calls += await serve(connection);
        if (peers.length === 3) break;
      }
      return { calls, peers };
    })();
    const client = startNode('proc-clients.cjs', [`@${name}`, '3']);
    const { statuses, replies } = await client.json('replies');
    expect(statuses).toEqual([ZX_OK, ZX_OK, ZX_OK]);
    expect(replies.map((r: any) => r.text)).toEqual([0, 1, 2].map((i) => `client ${client.pid} #${i}`));
    expect(replies.every((r: any) => r.pid === client.pid && r.uid === uid && r.gid === gid)).toBe(true);
    expect(await served).toEqual({ calls: 3, peers: [0, 1, 2].map(() => ({ pid: client.pid, uid, gid })) });
    expect(await client.closed).toEqual({ code: 0, signal: null });
    server.close();
    // Once the loop has let go of the listening socket, nobody answers at the name.
    await expectBaseline(base);
    expect(await connectStatus(`\0${name}`)).toBe(ZX_ERR_PEER_CLOSED);
    await expectBaseline(base);
  });

  it('close() frees the name at once: a connect right after answers PEER_CLOSED, a new listen on it works', async () => {
    const base = baseline();
    const name = `\0${abstractName()}`;
    listen(name).close();
    const [mine, theirs] = Channel.create();
    const status = fdio.serviceConnect(name, theirs.release());
    mine.close();
    let relisten: unknown = null;
    let again: ServiceServer | undefined;
    try {
      again = listen(name, (c) => void serve(c));
    } catch (error) {
      relisten = error;
    }
    const answer = again ? await callService(name, 'restarted') : null;
    again?.close();
    await expectBaseline(base); // cleaned up before asserting, so that a failure here stays here
    expect(status).toBe(ZX_ERR_PEER_CLOSED);
    expect(relisten).toBeNull();
    expect(answer).toMatchObject({ server: process.pid, text: 'restarted' });
  });
});

describe('who listens: serviceConnect(path, request, { uid, pid })', () => {
  // Anyone may bind an abstract name first. The squatter runs as nobody (65534) when this
  // runs as root; otherwise as this user, and the test asks for a uid it doesn't have.
  const squatterUid = uid === 0 ? 65534 : uid;
  const notSquatter = uid === 0 ? 0 : uid + 1;

  it('a listener that is not the uid asked for: ACCESS_DENIED, nothing sent to it, the request closed', async () => {
    const base = baseline();
    const name = abstractName();
    const squatter = start('python3', [fixture('service-squatter.py'), name, String(squatterUid)]);
    const { uid: squatting, pid } = await squatter.json('ready');
    expect(squatting).toBe(squatterUid);
    const [mine, theirs] = Channel.create();
    const raw = theirs.release();
    expect(fdio.serviceConnect(`\0${name}`, raw, { uid: notSquatter })).toBe(ZX_ERR_ACCESS_DENIED);
    expect(isValid(raw)).toBe(false);
    expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    mine.close();
    // The squatter saw a connection that ended with nothing in it.
    expect(await squatter.json('records')).toEqual({ records: 0, fds: 0 });
    expect(await squatter.closed).toEqual({ code: 0, signal: null });
    expect(squatter.stderr()).toBe('');
    await expectBaseline(base);
    expect(pid).toBe(squatter.pid);
  });

  it('the same listener with its own uid, or its pid: the request is handed over', async () => {
    const base = baseline();
    for (const options of [{ uid: squatterUid }, { pid: -1 }, { uid: squatterUid, pid: -1 }]) {
      const name = abstractName();
      const squatter = start('python3', [fixture('service-squatter.py'), name, String(squatterUid)]);
      await squatter.json('ready');
      const expected = options.pid ? { ...options, pid: squatter.pid } : options;
      const [mine, theirs] = Channel.create();
      expect(fdio.serviceConnect(`\0${name}`, theirs.release(), expected)).toBe(ZX_OK);
      expect(await squatter.json('records')).toEqual({ records: 1, fds: 1 });
      expect(await squatter.closed).toEqual({ code: 0, signal: null });
      expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
      mine.close();
    }
    // In this process: a pid that is not the listener's is refused as a uid is.
    const served: number[] = [];
    const server = listen(`\0${abstractName()}`, (c) => {
      served.push(c.pid);
      c.channel.close();
    });
    const [denied, refused] = Channel.create();
    expect(fdio.serviceConnect(server.path, refused.release(), { uid, pid: process.pid + 1 })).toBe(
      ZX_ERR_ACCESS_DENIED,
    );
    expect(await denied.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    const [mine, theirs] = Channel.create();
    expect(fdio.serviceConnect(server.path, theirs.release(), { uid, pid: process.pid })).toBe(ZX_OK);
    expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(served).toEqual([process.pid]);
    denied.close();
    mine.close();
    server.close();
    await expectBaseline(base);
  });

  it('options are checked before anything is consumed: a TypeError keeps the request', () => {
    const [mine, theirs] = Channel.create();
    for (const options of [{ uid: -1 }, { pid: 1.5 }, { uid: '0' }, null]) {
      expect(() => fdio.serviceConnect('\0x', theirs.raw, options as any)).toThrow(TypeError);
      expect(isValid(theirs.raw)).toBe(true);
    }
    mine.close();
    theirs.close();
  });
});

describe('out of descriptors', () => {
  it('a service at its descriptor limit keeps its loop turning, says so once, and serves again once clients leave', async () => {
    const base = baseline();
    const name = abstractName();
    const service = start('sh', [
      '-c',
      'ulimit -n 64 && exec "$0" "$@"',
      process.execPath,
      fixture('service-fd-limit.cjs'),
      name,
    ]);
    try {
      await outOfDescriptors(service, name);
    } finally {
      service.proc.kill('SIGKILL'); // a service stuck in its accept loop would spin on
    }
    await expectBaseline(base);
  });
});

async function outOfDescriptors(service: Proc, name: string): Promise<void> {
  await service.json('ready');
  // Idle clients: connections that never hand anything over, more than the service has
  // descriptors for. Each one the service accepts holds a descriptor there.
  const idle: number[] = [];
  for (let i = 0; i < 100; i++) {
    expect(native.serviceConnect(name, true)).toBe(ZX_OK);
    idle.push(native.scratch[0]);
  }
  expect(await service.json('warning')).toEqual({ warning: 'ZX_ERR_NO_RESOURCES' });
  // Its timers still fire: five more ticks after the warning.
  const ticks = () =>
    service
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{"tick"')).length;
  const then = ticks();
  await service.line((l) => l === JSON.stringify({ tick: then + 5 }));
  sys.handleCloseMany(idle);
  // With room again, a new client is served (after the idle ones it accepts and drops).
  const [mine, theirs] = Channel.create();
  expect(fdio.serviceConnect(`\0${name}`, theirs.release())).toBe(ZX_OK);
  try {
    expect((await mine.call('....served again', [], { timeout: 20_000 })).bytes.subarray(4).toString()).toBe(
      'served again',
    );
  } finally {
    mine.close();
  }
  expect(await service.closed).toEqual({ code: 0, signal: null });
  expect(
    service
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{"warning"')),
  ).toEqual(['{"warning":"ZX_ERR_NO_RESOURCES"}']);
}

describe('clients and servers that are not Node', () => {
  it('a Python client hands over a socketpair end in a zero-byte record with one channel handle', async () => {
    const base = baseline();
    const p = sockPath();
    const seen: Omit<ServiceConnection, 'channel'>[] = [];
    const server = listen(p, (connection) => {
      const { channel, ...peer } = connection;
      seen.push(peer);
      void serve(connection);
    });
    const client = start('python3', [fixture('proc-raw-client.py'), p]);
    const answer = await client.json('server');
    expect(answer).toEqual({ server: process.pid, pid: client.pid, uid, gid, text: 'from python' });
    expect(seen).toEqual([{ pid: client.pid, uid, gid }]);
    expect(await client.closed).toEqual({ code: 0, signal: null });
    expect(client.stderr()).toBe('');
    server.close();
    await expectBaseline(base);
  });

  it('what serviceConnect sends: one record of zero bytes carrying the request, then the connection ends', async () => {
    const base = baseline();
    const p = sockPath();
    const server = start('python3', [fixture('proc-raw-server.py'), p]);
    expect(await server.json('ready')).toEqual({ ready: true });
    const [mine, theirs] = Channel.create();
    const sent = basicOf(theirs.raw);
    expect(fdio.serviceConnect(p, theirs.release())).toBe(ZX_OK);
    expect(await server.json('header')).toEqual({
      header: { magic: 0x4d43585a, version: 1, num_handles: 1, num_bytes: 0, flags: 0 },
      length: 16 + 24,
      entries: [
        {
          type: ZX_OBJ_TYPE_CHANNEL,
          rights: ZX_DEFAULT_CHANNEL_RIGHTS,
          koid: sent.koid,
          relatedKoid: sent.relatedKoid,
        },
      ],
      fds: 1,
      // A channel end is a socket of the channels' kind (docs/architecture.md, "Backends").
      socket: portable ? 'SOCK_STREAM' : 'SOCK_SEQPACKET',
      then: '',
    });
    expect((await mine.read({ timeout: 20_000 })).bytes.toString()).toBe('hello from python');
    expect(await server.closed).toEqual({ code: 0, signal: null });
    expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    mine.close();
    await expectBaseline(base);
  });
});

describe('a hundred concurrent clients', () => {
  it('4 processes x 25 connections, all open at once: each served on its channel, nothing leaked', async () => {
    const base = baseline();
    const PROCESSES = 4;
    const EACH = 25;
    const p = sockPath();
    const server = listen(p);
    const peers: number[] = [];
    const serving: Promise<number>[] = [];
    const open = new Set<Channel>(); // served channels whose client has not gone yet
    const accepting = (async () => {
      for await (const connection of server) {
        expect([connection.uid, connection.gid]).toEqual([uid, gid]);
        peers.push(connection.pid);
        open.add(connection.channel);
        serving.push(serve(connection).finally(() => open.delete(connection.channel)));
      }
    })();
    const clients: Proc[] = [];
    for (let k = 0; k < PROCESSES; k++) clients.push(startNode('proc-clients.cjs', [p, String(EACH)]));
    for (const client of clients) {
      const { statuses, replies } = await client.json('replies');
      expect(statuses).toEqual(Array(EACH).fill(ZX_OK));
      expect(replies).toEqual(
        Array.from({ length: EACH }, (_, i) => ({
          server: process.pid,
          pid: client.pid,
          uid,
          gid,
          text: `client ${client.pid} #${i}`,
        })),
      );
    }
    for (const client of clients) expect(await client.closed).toEqual({ code: 0, signal: null });
    await until(() => serving.length === PROCESSES * EACH, 'every connection');
    // Every client is gone: each served channel's read ends with PEER_CLOSED. Give up after
    // a deadline and say which were left waiting, and what their signals are now.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => (timer = setTimeout(() => resolve('gave up'), 10_000)));
    const calls = await Promise.race([Promise.all(serving), gaveUp]);
    clearTimeout(timer);
    const stuck = [...open].map(
      (c) => `handle ${c.raw}: signals now 0x${sys.objectWaitOne(c.raw, 0, 0n).observed.toString(16)}`,
    );
    expect(stuck, 'served channels whose pending read never settled').toEqual([]);
    expect(calls).toEqual(Array(PROCESSES * EACH).fill(1)); // each channel: one call, then closed
    expect(peers.sort((a, b) => a - b)).toEqual(clients.flatMap((c) => Array(EACH).fill(c.pid)).sort((a, b) => a - b));
    server.close();
    await accepting;
    expect(existsSync(p)).toBe(false);
    await expectBaseline(base);
  });
});
