// Wherever a handle goes (fdio, spawn's handles, serviceConnect, Channel.write...), a Handle
// object is taken as well as a raw value; a Handle given away becomes invalid, and a wrong
// argument is a TypeError naming the function the user called.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Channel,
  Event,
  fdio,
  listen,
  Port,
  prepareStartupHandles,
  spawn,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_ERR_BAD_HANDLE,
  ZX_EVENT_SIGNALED,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OK,
  ZxError,
  type Handle,
  type ServiceConnection,
} from '../lib/index';
import { expectZxError, thrownBy } from './fixtures/errors';
import { baseline, expectBaseline, isValid } from './fixtures/proc-helpers';
import { warmUpSpawn, warmUpWait } from './fixtures/spawn';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-handle-args-'));
  await warmUpSpawn();
  warmUpWait();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Handle given away: invalid, its close a no-op, its raw value gone from the table. */
function expectGivenAway(handle: Channel | Event, raw: number): void {
  expect(handle.valid).toBe(false);
  expect(handle.raw).toBe(0);
  expect(() => handle.close()).not.toThrow();
  expect(isValid(raw)).toBe(false);
}

function expectTypeError(f: () => unknown, message: string): void {
  const error = thrownBy(f);
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toBe(message);
}

describe('fdio.fdCreate', () => {
  it('takes a Channel: the descriptor carries its messages and the Channel is given away', async () => {
    const before = baseline();
    const [mine, theirs] = Channel.create();
    const raw = theirs.raw;
    const { status, fd } = fdio.fdCreate(theirs);
    expect(status).toBe(ZX_OK);
    expectGivenAway(theirs, raw);
    mine.write('through the descriptor');
    const back = fdio.fdTransfer(fd);
    expect(back.status).toBe(ZX_OK);
    const again = new Channel(back.handle);
    expect(again.tryRead()!.bytes.toString()).toBe('through the descriptor');
    again.close();
    mine.close();
    await expectBaseline(before);
  });

  it('refuses anything else with a TypeError naming fdio.fdCreate, consuming nothing', () => {
    expectTypeError(
      () => fdio.fdCreate('3' as any),
      'fdio.fdCreate: handle must be a Handle or a number, got string 3',
    );
    expectTypeError(
      () => fdio.fdCreate({ raw: 3 } as any),
      'fdio.fdCreate: handle must be a Handle or a number, got Object',
    );
  });

  it('a Handle already given away is ZxError BAD_HANDLE naming fdio.fdCreate', () => {
    const [a, b] = Channel.create();
    a.close();
    expectZxError(
      thrownBy(() => fdio.fdCreate(a)),
      ZX_ERR_BAD_HANDLE,
      'fdio.fdCreate',
    );
    b.close();
  });
});

describe('Channel.write / writeMany / callSync', () => {
  it('write takes raw values as well as Handles; the Handles become invalid', async () => {
    const before = baseline();
    const [a, b] = Channel.create();
    const event = Event.create();
    const [c, d] = Channel.create();
    const eventRaw = event.raw;
    const cRaw = c.raw;
    a.write('two', [event, c.release()]);
    expectGivenAway(event, eventRaw);
    const m = b.tryRead()!;
    expect(m.handles.map((h) => h.constructor.name)).toEqual(['Event', 'Channel']);
    expect(isValid(cRaw)).toBe(false);
    m.handles.forEach((h) => h.close());
    for (const h of [a, b, d]) h.close();
    await expectBaseline(before);
  });

  it('a wrong entry is a TypeError naming the call, and nothing is given away', () => {
    const [a, b] = Channel.create();
    const event = Event.create();
    expectTypeError(
      () => a.write('x', [event, -1 as any]),
      'Channel.write: handles[1] must be a Handle or a number, got number -1',
    );
    expect(event.valid).toBe(true);
    expectTypeError(
      () => a.writeMany([{ bytes: 'x', handles: [event, null as any] }]),
      'Channel.writeMany: messages[0].handles[1] must be a Handle or a number, got null',
    );
    expect(event.valid).toBe(true);
    expectTypeError(
      () => a.callSync('....', [event, 'h' as any]),
      'Channel.callSync: handles[1] must be a Handle or a number, got string h',
    );
    expect(event.valid).toBe(true);
    // A Handle already closed among them: BAD_HANDLE, and the others stay theirs.
    const closed = Event.create();
    closed.close();
    expectZxError(
      thrownBy(() => a.write('x', [event, closed])),
      ZX_ERR_BAD_HANDLE,
      'Channel.write',
    );
    expect(event.valid).toBe(true);
    expect(b.tryRead()).toBeNull();
    for (const h of [a, b, event]) h.close();
  });

  it('writeMany takes raw values and gives the Handles of the messages sent away', () => {
    const [a, b] = Channel.create();
    const event = Event.create();
    const other = Event.create();
    const otherRaw = other.release();
    expect(
      a.writeMany([
        { bytes: 'one', handles: [event] },
        { bytes: 'two', handles: [otherRaw] },
      ]),
    ).toBe(2);
    expect(event.valid).toBe(false);
    const got = b.tryReadMany();
    expect(got.map((m) => (m as { bytes: Buffer }).bytes.toString())).toEqual(['one', 'two']);
    for (const m of got) (m as { handles: Handle[] }).handles.forEach((h) => h.close());
    a.close();
    b.close();
  });
});

describe('Port.watch', () => {
  it('takes a Handle or a raw value (not given away); a TypeError names Port.watch', async () => {
    const port = Port.create();
    const event = Event.create();
    port.watch(event.raw, ZX_EVENT_SIGNALED, { key: 1n });
    port.watch(event, ZX_EVENT_SIGNALED, { key: 2n });
    expect(event.valid).toBe(true);
    event.signal(0, ZX_EVENT_SIGNALED);
    const keys = [(await port.wait({ timeout: 20_000 })).key, (await port.wait({ timeout: 20_000 })).key];
    expect(keys.sort()).toEqual([1n, 2n]);
    expectTypeError(
      () => port.watch(undefined as any, ZX_EVENT_SIGNALED),
      'Port.watch: handle must be a Handle or a number, got undefined undefined',
    );
    event.close();
    port.close();
  });
});

describe('spawn and prepareStartupHandles', () => {
  it('a wrong handle is a TypeError naming the function called, consuming nothing', () => {
    const event = Event.create();
    const handles = [
      { id: 1, handle: event },
      { id: 2, handle: 1.5 as any },
    ];
    expectTypeError(
      () => spawn(process.execPath, ['-e', ''], { handles }),
      'spawn: handles[1].handle must be a Handle or a number, got number 1.5',
    );
    expectTypeError(
      () => prepareStartupHandles(handles),
      'prepareStartupHandles: handles[1].handle must be a Handle or a number, got number 1.5',
    );
    expect(event.valid).toBe(true);
    event.close();
  });

  it('a Handle passed is given away once the child is spawned', async () => {
    const [mine, theirs] = Channel.create();
    const raw = theirs.raw;
    const child = spawn(process.execPath, ['-e', ''], { handles: [{ id: 1, handle: theirs }], stdio: 'ignore' });
    expectGivenAway(theirs, raw);
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(await mine.wait(ZX_CHANNEL_PEER_CLOSED, { timeout: 20_000 })).toBe(ZX_CHANNEL_PEER_CLOSED);
    mine.close();
  });
});

describe('fdio.serviceConnect', () => {
  it('takes the request as a Channel, which is given away; the server receives it', async () => {
    const address = path.join(dir, 'svc.sock');
    const connected = new Promise<ServiceConnection>((resolve) => {
      const server = listen(address, (c) => {
        server.close();
        resolve(c);
      });
    });
    const [mine, theirs] = Channel.create();
    const raw = theirs.raw;
    expect(fdio.serviceConnect(address, theirs)).toBe(ZX_OK);
    expectGivenAway(theirs, raw);
    const { channel } = await connected;
    expect(channel.info().type).toBe(ZX_OBJ_TYPE_CHANNEL);
    mine.write('hello');
    expect((await channel.read({ timeout: 20_000 })).bytes.toString()).toBe('hello');
    channel.close();
    mine.close();
  });

  it('a wrong request or path is a TypeError naming fdio.serviceConnect', () => {
    const [mine, theirs] = Channel.create();
    expectTypeError(
      () => fdio.serviceConnect(path.join(dir, 'none'), {} as any),
      'fdio.serviceConnect: request must be a Handle or a number, got Object',
    );
    expectTypeError(() => fdio.serviceConnect('', theirs), 'fdio.serviceConnect: path must be a non-empty string');
    expect(theirs.valid).toBe(true);
    mine.close();
    theirs.close();
  });

  it('a ZxError from a Handle already closed names fdio.serviceConnect', () => {
    const [mine, theirs] = Channel.create();
    theirs.close();
    const error = thrownBy(() => fdio.serviceConnect(path.join(dir, 'none'), theirs));
    expect(error).toBeInstanceOf(ZxError);
    expectZxError(error, ZX_ERR_BAD_HANDLE, 'fdio.serviceConnect');
    mine.close();
  });
});
