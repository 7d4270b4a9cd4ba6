// Startup handles (docs/processes.md): spawn moves handles into a child, which takes them
// by id with takeStartupHandle; a program that is not Node takes them from
// ZIRCON_IPC_HANDLES; a plain child_process.spawn user passes them with
// prepareStartupHandles. Every case ends with this process's descriptors and handles back
// where they started.
import { spawn as nodeSpawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel,
  fdio,
  Handle,
  prepareStartupHandles,
  statusToString,
  spawn,
  sys,
  PA_HND,
  PA_USER0,
  STARTUP_HANDLES_ENV,
  ZxError,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_WRONG_TYPE,
  ZX_HANDLE_INVALID,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHTS_BASIC,
  ZX_OBJ_TYPE_VMO,
} from '../lib/index';
import { native } from '../lib/native';
import { waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import {
  baseline,
  basicOf,
  expectBaseline,
  fixture,
  isValid,
  seqMessage,
  startNode,
  start,
  user,
  watch,
} from './fixtures/proc-helpers';
import { portable } from './fixtures/backend';

let dir: string;
let filePath: string;
const CONTENTS = 'a file the parent opened, read by the child';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-spawn-'));
  filePath = path.join(dir, 'contents.txt');
  writeFileSync(filePath, CONTENTS);
  await warmUpSpawn();
  warmUpWait();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An entry's dev and ino: those of the test file, or of some socket (made by spawn). */
function fileIdentity(): { dev: string; ino: string } {
  const { dev, ino } = statSync(filePath, { bigint: true });
  return { dev: String(dev), ino: String(ino) };
}
const someIdentity = { dev: expect.stringMatching(/^[0-9]+$/), ino: expect.stringMatching(/^[0-9]+$/) };

/** A ZX_OBJ_TYPE_FD handle for the test file, opened read-only. */
function fileHandle(): number {
  const t = fdio.fdTransfer(openSync(filePath, 'r'));
  expect(t.status).toBe(ZX_OK);
  return t.handle;
}

function channel(): [number, number] {
  const r = sys.channelCreate(0);
  expect(r.status).toBe(ZX_OK);
  return [r.out0, r.out1];
}

/** The next message on `h`, waiting without blocking the event loop. */
async function recv(
  h: number,
  why = '',
): Promise<{ bytes: Buffer; handles: { handle: number; type: number; rights: number }[] }> {
  const observed = await waitSignals(h, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, why);
  if (!(observed & ZX_CHANNEL_READABLE)) throw new Error(`peer closed ${why}`);
  const r = sys.channelReadEtc(h, 0, 65536, 64);
  expect(r.status).toBe(ZX_OK);
  return r;
}

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('PA_HND', () => {
  it('packs type and arg as Fuchsia does', () => {
    expect(PA_USER0).toBe(0xf0);
    expect(PA_HND(PA_USER0, 0)).toBe(0xf0);
    expect(PA_HND(PA_USER0, 1)).toBe(0x100f0);
    expect(PA_HND(PA_USER0, 0xffff)).toBe(0xffff00f0);
    expect(PA_HND(0x1ff, 0x1ffff)).toBe(0xffff00ff); // both fields masked; the result is unsigned
    expect(PA_HND(0, 0)).toBe(0);
  });
});

describe('spawn with startup handles', () => {
  it('moves a channel end and a file into a Node child: gone here, intact there', async () => {
    const base = baseline();
    const [mine, theirs] = channel();
    const file = fileHandle();
    const sentChannel = basicOf(theirs);
    const sentFile = basicOf(file);
    expect(sentChannel.relatedKoid).toBe(basicOf(mine).koid);

    const child = startNode(
      'proc-startup.cjs',
      [String(user(0)), String(user(1))],
      [
        { id: user(0), handle: theirs },
        { id: user(1), handle: file },
      ],
    );
    // Moved: neither value names anything in this process any more.
    expect(isValid(theirs)).toBe(false);
    expect(isValid(file)).toBe(false);

    const { report } = await child.json('report');
    expect(JSON.parse(report.env)).toEqual([
      { id: 0xf0, fd: 3, ...sentChannel, ...someIdentity },
      { id: 0x100f0, fd: 4, ...sentFile, ...fileIdentity() },
    ]);
    expect(report.handles).toEqual({
      [user(0)]: { taken: true, again: ZX_HANDLE_INVALID, ...sentChannel },
      [user(1)]: { taken: true, again: ZX_HANDLE_INVALID, ...sentFile, contents: CONTENTS },
    });
    expect(sentChannel.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(sentChannel.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
    expect(sentFile).toMatchObject({ type: ZX_OBJ_TYPE_FD, rights: ZX_RIGHTS_BASIC | ZX_RIGHT_READ, relatedKoid: '0' });
    expect(report.absent).toBe(ZX_HANDLE_INVALID);
    expect(report.envAfter).toBeNull(); // not passed on to the child's own children

    // The channel works between the two processes.
    expect((await recv(mine, child.stderr())).bytes.toString()).toBe(`hello from ${child.pid}`);
    expect(sys.channelWrite(mine, 0, Buffer.from('ping'), null)).toBe(ZX_OK);
    expect((await recv(mine, child.stderr())).bytes.toString()).toBe('got: ping');
    expect(await waitSignals(mine, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(sys.channelRead(mine, 0, 65536, 64).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');

    expect(sys.handleClose(mine)).toBe(ZX_OK);
    await expectBaseline(base);
  });

  it('takes Handle objects too; with a fourth stdio entry the handles start at fd 4', async () => {
    const base = baseline();
    const [mine, theirs] = Channel.create();
    const sent = basicOf(theirs.raw);
    const child = startNode('proc-startup.cjs', [String(user(7))], [{ id: user(7), handle: theirs }], {
      stdio: ['ignore', 'pipe', 'pipe', 'ignore'],
    });
    expect(theirs.valid).toBe(false);
    const { report } = await child.json('report');
    expect(JSON.parse(report.env)).toEqual([{ id: user(7), fd: 4, ...sent, ...someIdentity }]);
    expect(report.handles[user(7)]).toEqual({ taken: true, again: ZX_HANDLE_INVALID, ...sent });

    expect((await mine.read({ timeout: 20_000 })).bytes.toString()).toBe(`hello from ${child.pid}`);
    mine.write('pong');
    expect((await mine.read({ timeout: 20_000 })).bytes.toString()).toBe('got: pong');
    expect(await child.closed).toEqual({ code: 0, signal: null });
    mine.close();
    await expectBaseline(base);
  });

  it('a child given no handles: no ZIRCON_IPC_HANDLES, every take answers ZX_HANDLE_INVALID', async () => {
    const base = baseline();
    const env = { ...process.env };
    delete env[STARTUP_HANDLES_ENV];
    const child = startNode('proc-startup.cjs', [String(user(0))], [], { env });
    const { report } = await child.json('report');
    expect(report).toEqual({
      env: '[]',
      handles: { [user(0)]: { taken: false, again: ZX_HANDLE_INVALID } },
      absent: ZX_HANDLE_INVALID,
      envAfter: null,
    });
    expect(await child.closed).toEqual({ code: 0, signal: null });
    await expectBaseline(base);
  });

  it('a Python child takes them from ZIRCON_IPC_HANDLES, reads the file and sends it back in a record', async () => {
    const base = baseline();
    const [mine, theirs] = channel();
    const file = fileHandle();
    const sentChannel = basicOf(theirs);
    const sentFile = basicOf(file);
    const child = start(
      'python3',
      [fixture('proc-startup.py')],
      [
        { id: user(0), handle: theirs },
        { id: user(1), handle: file },
      ],
    );
    expect(isValid(theirs)).toBe(false);
    expect(isValid(file)).toBe(false);

    const m = await recv(mine, child.stderr());
    expect(JSON.parse(m.bytes.toString())).toEqual({
      entries: [
        { id: user(0), fd: 3, ...sentChannel, ...someIdentity },
        { id: user(1), fd: 4, ...sentFile, ...fileIdentity() },
      ],
      contents: CONTENTS,
      // A channel end is a socket of the channels' kind (docs/architecture.md, "Backends").
      socket: portable ? 'SOCK_STREAM' : 'SOCK_SEQPACKET',
    });
    // The file came back as a handle with the identity it left with.
    expect(m.handles).toHaveLength(1);
    const back = m.handles[0];
    expect(basicOf(back.handle)).toEqual(sentFile);
    const made = fdio.fdCreate(back.handle);
    expect(made.status).toBe(ZX_OK);
    const buf = Buffer.alloc(256);
    expect(buf.toString('utf8', 0, readSync(made.fd, buf, 0, buf.length, 0))).toBe(CONTENTS);
    closeSync(made.fd);

    expect(sys.channelWrite(mine, 0, Buffer.from('hi'), null)).toBe(ZX_OK);
    expect((await recv(mine, child.stderr())).bytes.toString()).toBe('python got: hi');
    expect(await waitSignals(mine, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    expect(sys.handleClose(mine)).toBe(ZX_OK);
    await expectBaseline(base);
  });

  it('a plain child_process.spawn user passes them with prepareStartupHandles', async () => {
    const base = baseline();
    const [mine, theirs] = channel();
    const file = fileHandle();
    const sentChannel = basicOf(theirs);
    const sentFile = basicOf(file);
    // Descriptors 3 and 4 are something else in this child: the handles go from fd 5 on.
    const prepared = prepareStartupHandles(
      [
        { id: user(2), handle: file },
        { id: user(3), handle: theirs },
      ],
      5,
    );
    expect(isValid(theirs)).toBe(false); // consumed at once
    expect(isValid(file)).toBe(false);
    expect(prepared.fds).toHaveLength(2);
    expect(JSON.parse(prepared.env[STARTUP_HANDLES_ENV])).toEqual([
      { id: user(2), fd: 5, ...sentFile, ...fileIdentity() },
      { id: user(3), fd: 6, ...sentChannel, ...someIdentity },
    ]);
    const proc = nodeSpawn(process.execPath, [fixture('proc-startup.cjs'), String(user(2)), String(user(3))], {
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', ...prepared.fds],
      env: { ...process.env, ...prepared.env },
    });
    prepared.close(); // the child has its own copies
    const child = watch(proc);
    const { report } = await child.json('report');
    expect(report.handles).toEqual({
      [user(2)]: { taken: true, again: ZX_HANDLE_INVALID, ...sentFile, contents: CONTENTS },
      [user(3)]: { taken: true, again: ZX_HANDLE_INVALID, ...sentChannel },
    });
    expect((await recv(mine, child.stderr())).bytes.toString()).toBe(`hello from ${proc.pid}`);
    expect(sys.channelWrite(mine, 0, Buffer.from('plain'), null)).toBe(ZX_OK);
    expect((await recv(mine, child.stderr())).bytes.toString()).toBe('got: plain');
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(sys.handleClose(mine)).toBe(ZX_OK);
    await expectBaseline(base);
  });

  it('an endpoint with queued outbound messages: ZxError SHOULD_WAIT, every handle consumed, nothing lost', async () => {
    const base = baseline();
    const [e, peer] = channel();
    const [before, beforePeer] = channel();
    const after = fileHandle();
    const SIZE = 65536;
    const N = 48; // 3 MiB: more than the socket holds, so E has a queue
    for (let i = 0; i < N; i++) expect(sys.channelWrite(e, 0, seqMessage(i, SIZE), null)).toBe(ZX_OK);
    expect(fdio.fdCreate(e).status).toBe(ZX_ERR_SHOULD_WAIT); // the probe keeps the handle

    const error = thrownBy(() =>
      spawn(process.execPath, ['-e', 'process.exit(3)'], {
        stdio: 'ignore',
        handles: [
          { id: user(0), handle: before },
          { id: user(1), handle: e },
          { id: user(2), handle: after },
        ],
      }),
    );
    expect(error).toBeInstanceOf(ZxError);
    expect((error as ZxError).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect((error as ZxError).operation).toBe('spawn');
    // Consumed, as on every failure: the handles are gone from this process. (Any left
    // behind are closed here so that the rest of the case still runs; asserted at the end.)
    const leftBehind = [before, e, after].filter(isValid);
    for (const h of leftBehind) sys.handleClose(h);
    expect(await waitSignals(beforePeer, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);
    // E's queued messages still reach its peer, in order, then PEER_CLOSED.
    let seq = 0;
    for (;;) {
      const observed = await waitSignals(peer, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
      const r = sys.channelRead(peer, 0, 65536, 64);
      if (r.status === ZX_ERR_PEER_CLOSED) break;
      if (r.status === ZX_ERR_SHOULD_WAIT) {
        expect(observed & ZX_CHANNEL_PEER_CLOSED).toBe(0);
        continue;
      }
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.equals(seqMessage(seq, SIZE))).toBe(true);
      seq++;
    }
    expect(seq).toBe(N);
    expect(sys.handleCloseMany([peer, beforePeer])).toBe(ZX_OK);
    await expectBaseline(base);
    expect(leftBehind, 'handles spawn neither moved nor closed').toEqual([]);
  });

  it('a bad handle: BAD_HANDLE, nothing spawned, every handle consumed; a repeated id: TypeError, no handle left unowned', async () => {
    const base = baseline();
    const [a, aPeer] = channel();
    const [stale, stalePeer] = channel();
    expect(sys.handleClose(stale)).toBe(ZX_OK);
    const error = thrownBy(() =>
      spawn(process.execPath, ['-e', ''], {
        stdio: 'ignore',
        handles: [
          { id: user(0), handle: a },
          { id: user(1), handle: stale },
        ],
      }),
    );
    expect(error).toBeInstanceOf(ZxError);
    expect((error as ZxError).status).toBe(ZX_ERR_BAD_HANDLE);
    expect(isValid(a)).toBe(false);
    expect(await waitSignals(aPeer, ZX_CHANNEL_PEER_CLOSED)).toBe(ZX_CHANNEL_PEER_CLOSED);

    expect(sys.handleCloseMany([aPeer, stalePeer])).toBe(ZX_OK);

    // A TypeError (misuse) may consume the handles or leave them to their owners, but never
    // leaves a value that nobody owns: closing the Handle objects closes them.
    const [b, bPeer] = Channel.create();
    const f = new Handle(fileHandle());
    const raws = [b.raw, f.raw];
    try {
      expect(
        thrownBy(() =>
          prepareStartupHandles([
            { id: user(0), handle: b },
            { id: user(0), handle: f },
          ]),
        ),
      ).toBeInstanceOf(TypeError);
      b.close();
      f.close();
      expect(raws.filter(isValid)).toEqual([]);
    } finally {
      for (const raw of raws.filter(isValid)) sys.handleClose(raw); // what a leak leaves behind
      bPeer.close();
    }
    await expectBaseline(base);
  });
});

describe('a ZIRCON_IPC_HANDLES that does not describe the child', () => {
  interface Described {
    id: number;
    fd: number;
    type: number;
    /** The descriptor whose device and inode the entry gives (default: the one at `fd`). */
    like?: number;
  }

  /** The entries a parent would write for descriptors of this process given to the child
   *  at `fd` (`fds[fd - 3]`); `extra` fields replace or add to each. */
  function describeFds(fds: number[], entries: Described[], extra: Record<string, unknown>[] = []): string {
    return JSON.stringify(
      entries.map(({ id, fd, type, like }, i) => {
        const { dev, ino } = fstatSync(like ?? fds[fd - 3], { bigint: true });
        return {
          id,
          fd,
          type,
          rights: 0xf00e,
          koid: '1',
          relatedKoid: '0',
          dev: String(dev),
          ino: String(ino),
          ...extra[i],
        };
      }),
    );
  }

  /** Runs startup-refused.cjs with `fds` as its descriptors 3, 4, ... and `text` as the
   *  variable; returns its report. */
  async function run(text: string, fds: number[], args: string[]): Promise<any> {
    const proc = nodeSpawn(process.execPath, [fixture('startup-refused.cjs'), ...args], {
      stdio: ['pipe', 'pipe', 'pipe', ...fds],
      env: { ...process.env, [STARTUP_HANDLES_ENV]: text },
    });
    const child = watch(proc);
    const { report } = await child.json('report');
    proc.stdin!.end();
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(report.received).toBe(text);
    expect(report.afterLoad).toBeNull();
    return report;
  }

  const refused = (status: number, message: RegExp | string) => ({
    error: 'ZxError',
    code: statusToString(status),
    message: expect.stringMatching(message),
  });

  /** Every take threw `status`, and nothing was adopted: descriptors, handles and stdin as
   *  before. */
  function expectRefused(report: any, ids: number[], status: number, message: RegExp | string): void {
    for (const id of ids) expect(report.taken[id]).toEqual([refused(status, message), refused(status, message)]);
    expect(report.fds[1]).toBe(report.fds[0]);
    expect(report.handles).toEqual([0, 0]);
    expect(report.stdinOpen).toBe(true);
  }

  it('malformed: not JSON, not an array, a bad field, stdio, an id or fd given twice: ZxError INVALID_ARGS, nothing taken', async () => {
    const base = baseline();
    const file = openSync(filePath, 'r');
    const fds = [file];
    const good = { id: user(0), fd: 3, type: ZX_OBJ_TYPE_FD };
    const cases: [string, RegExp][] = [
      ['{"id": 240', /is not JSON/],
      ['{}', /is not an array/],
      // A good first entry is not taken because the second is bad.
      [
        describeFds(fds, [good, { ...good, id: user(1) }], [{}, { koid: 'x' }]),
        /entry 1: koid is not a decimal string/,
      ],
      [describeFds(fds, [good, { ...good, id: user(1) }], [{}, { rights: -1 }]), /entry 1: rights/],
      [describeFds(fds, [good, { ...good, id: user(1) }], [{}, { boxed: 'yes' }]), /entry 1: boxed/],
      [describeFds(fds, [good], [{ dev: undefined }]), /entry 0: dev/],
      [
        describeFds(fds, [good, { ...good, id: user(1), fd: 0, like: 0 }]),
        /entry 1: fd is not a descriptor number from 3/,
      ],
      [describeFds(fds, [good, good]), /entry 1: id 240 is given twice/],
      [describeFds(fds, [good, { ...good, id: user(1) }]), /entry 1: fd 3 is given twice/],
    ];
    for (const [text, message] of cases) {
      const report = await run(text, fds, [String(user(0)), String(user(1))]);
      expectRefused(report, [user(0), user(1)], ZX_ERR_INVALID_ARGS, message);
    }
    closeSync(file);
    await expectBaseline(base);
  });

  it('a descriptor of another kind than its entry says (a file as a channel or VMO, a listening socket as a channel): ZxError WRONG_TYPE', async () => {
    const base = baseline();
    const file = openSync(filePath, 'r');
    expect(native.serviceListen(`zircon-ipc-test-startup-${process.pid}`, true, 0o600)).toBe(ZX_OK);
    const made = fdio.fdCreate(native.scratch[0]);
    expect(made.status).toBe(ZX_OK);
    const fds = [file, made.fd];
    for (const [fd, type] of [
      [3, ZX_OBJ_TYPE_CHANNEL],
      [3, ZX_OBJ_TYPE_VMO],
      [4, ZX_OBJ_TYPE_CHANNEL],
    ]) {
      // A true entry first, for the other descriptor: it is not taken either.
      const text = describeFds(fds, [
        { id: user(0), fd: fd === 3 ? 4 : 3, type: ZX_OBJ_TYPE_FD },
        { id: user(1), fd, type },
      ]);
      const report = await run(text, fds, [String(user(0)), String(user(1))]);
      expectRefused(
        report,
        [user(0), user(1)],
        ZX_ERR_WRONG_TYPE,
        `entry 1: fd ${fd} is not an open descriptor of type ${type}`,
      );
    }
    // The same descriptors described truly are taken.
    const text = describeFds(fds, [
      { id: user(0), fd: 3, type: ZX_OBJ_TYPE_FD },
      { id: user(1), fd: 4, type: ZX_OBJ_TYPE_FD },
    ]);
    const report = await run(text, fds, [String(user(0)), String(user(1))]);
    expect(report.taken).toEqual({
      [user(0)]: [{ type: ZX_OBJ_TYPE_FD }, { handle: 'invalid' }],
      [user(1)]: [{ type: ZX_OBJ_TYPE_FD }, { handle: 'invalid' }],
    });
    closeSync(file);
    closeSync(made.fd);
    await expectBaseline(base);
  });

  it("a descriptor that is not the one described (one of Node's own, another file, none): refused, nothing taken", async () => {
    const base = baseline();
    const file = openSync(filePath, 'r');
    const other = openSync(path.join(dir, 'other.txt'), 'w');
    const fds = [file];
    const given = { id: user(0), fd: 3, type: ZX_OBJ_TYPE_FD };
    const cases: [Described[], number, string][] = [
      // Descriptor 4 is not given: in a Node child it is one of Node's own (its epoll).
      [
        [given, { id: user(1), fd: 4, type: ZX_OBJ_TYPE_FD, like: file }],
        ZX_ERR_BAD_HANDLE,
        'entry 1: fd 4 is not the descriptor described',
      ],
      [[{ ...given, like: other }], ZX_ERR_BAD_HANDLE, 'entry 0: fd 3 is not the descriptor described'],
      [
        [given, { id: user(1), fd: 999, type: ZX_OBJ_TYPE_FD, like: file }],
        ZX_ERR_INVALID_ARGS,
        'entry 1: fd 999 is not an open descriptor',
      ],
    ];
    for (const [entries, status, message] of cases) {
      const report = await run(describeFds(fds, entries), fds, [String(user(0)), String(user(1))]);
      expectRefused(
        report,
        entries.map((e) => e.id),
        status,
        message,
      );
    }
    closeSync(file);
    closeSync(other);
    await expectBaseline(base);
  });

  it('prepareStartupHandles will not number them below 3 (stdio): TypeError, the handle kept', () => {
    const [a, b] = channel();
    for (const firstFd of [0, 2, 3.5, -1])
      expect(() => prepareStartupHandles([{ id: user(0), handle: a }], firstFd)).toThrow(TypeError);
    expect(isValid(a)).toBe(true);
    expect(sys.handleCloseMany([a, b])).toBe(ZX_OK);
  });

  it('is gone from process.env once the library loads: a grandchild started before any take does not see it', async () => {
    const base = baseline();
    const file = openSync(filePath, 'r');
    const text = describeFds([file], [{ id: user(0), fd: 3, type: ZX_OBJ_TYPE_FD }]);
    const report = await run(text, [file], ['--grandchild', String(user(0))]);
    expect(report.grandchild).toBeNull();
    expect(report.taken[user(0)]).toEqual([{ type: ZX_OBJ_TYPE_FD }, { handle: 'invalid' }]);
    closeSync(file);
    await expectBaseline(base);
  });
});
