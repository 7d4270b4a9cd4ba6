// ValueChannel: JavaScript values between processes — every kind structured clone takes,
// handles at any depth coming out as their class with their type, rights and koid, values
// from 0 bytes to 64 MiB (in a sealed VMO past one message), calls whose errors keep their
// name, message and code, the JSON codec read by a program that is not this library, and
// peers that die mid-value or lie in their envelopes. Every case ends with this process's
// descriptors, handles and memfd mappings back where they started.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Channel,
  Event,
  EventPair,
  type Handle,
  Socket,
  ValueChannel,
  Vmo,
  type ZxError,
  ZX_ERR_IO_DATA_INTEGRITY,
  ZX_ERR_TIMED_OUT,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_EVENT,
  ZX_OBJ_TYPE_VMO,
  ZX_RIGHT_READ,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
} from '../lib/index';
import { unpack } from '../lib/value-envelope';
import { expectZxError, rejectionOf, thrownBy } from './fixtures/errors';
import { baseline, expectBaseline, startNode, until, user, type Baseline, type Proc } from './fixtures/proc-helpers';
import { fixture, spawnWithEndpoint, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { VMO_MAPPING } from './fixtures/backend';

const KIB = 1024;
const MIB = 1024 * KIB;

let base: Baseline & { maps: number };

function memfdMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => VMO_MAPPING.test(l)).length;
}

beforeAll(async () => {
  await warmUpSpawn();
  warmUpWait();
});
beforeEach(() => {
  base = { ...baseline(), maps: memfdMappings() };
});
afterEach(async () => {
  await expectBaseline(base);
  expect(memfdMappings(), 'memfd mappings').toBe(base.maps);
});

/** A ValueChannel to a value-peer.cjs child in `mode`. */
function peer(args: string[], codec: 'v8' | 'json' = 'v8'): { vc: ValueChannel; child: Proc } {
  const [mine, theirs] = Channel.create();
  const child = startNode(
    'value-peer.cjs',
    [...args, ...(args.length === 1 ? [''] : []), codec],
    [{ id: user(0), handle: theirs }],
  );
  return { vc: new ValueChannel(mine, { codec }), child };
}

/** The next value posted on `vc` (an 'error' before it rejects). */
async function next(vc: ValueChannel): Promise<any> {
  const [value] = await once(vc, 'message');
  return value;
}

async function finish(vc: ValueChannel, child: Proc): Promise<void> {
  vc.close();
  expect(await child.closed).toEqual({ code: 0, signal: null });
}

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

function everyKind(): Record<string, unknown> {
  const cycle: Record<string, unknown> = { name: 'cycle' };
  cycle.self = cycle;
  const shared = { shared: true };
  const ab = new ArrayBuffer(5);
  new Uint8Array(ab).set([5, 4, 3, 2, 1]);
  return {
    undef: undefined,
    nul: null,
    yes: true,
    num: 1.5,
    negZero: -0,
    nan: NaN,
    inf: -Infinity,
    bigint: 2n ** 70n + 1n,
    str: 'zircon ✓',
    empty: '',
    array: [1, 'two', [3, [4]]],
    sparse: [1, , 3],
    nested: { a: { b: { c: 'deep' } } }, // eslint-disable-line no-sparse-arrays
    map: new Map<unknown, unknown>([
      ['k', 1],
      [2, { two: 2 }],
    ]),
    set: new Set([1, 'a', shared]),
    date: new Date(1_700_000_000_123),
    regexp: /zx+\d/giu,
    buffer: Buffer.from('bytes'),
    u8: new Uint8Array([1, 2, 255]),
    i8: new Int8Array([-1, 2]),
    u8c: new Uint8ClampedArray([7]),
    i16: new Int16Array([-300]),
    u16: new Uint16Array([65535]),
    i32: new Int32Array([-7e8]),
    u32: new Uint32Array([4e9]),
    f32: new Float32Array([0.5]),
    f64: new Float64Array([Math.PI]),
    i64: new BigInt64Array([-(2n ** 62n)]),
    u64: new BigUint64Array([2n ** 64n - 1n]),
    view: new DataView(new Uint8Array([9, 8, 7]).buffer),
    arrayBuffer: ab,
    error: new Error('plain'),
    rangeError: new RangeError('out of range'),
    typeError: new TypeError('bad type'),
    caused: new Error('outer', { cause: 'inner' }),
    boxed: [new Number(3), new String('s'), new Boolean(false)],
    cycle,
    pair: [shared, shared],
  };
}

function expectEveryKind(got: any, sent: any): void {
  expect(got).toEqual(sent);
  expect(Object.is(got.negZero, -0)).toBe(true);
  expect(got.nan).toBeNaN();
  expect(Object.keys(got.sparse)).toEqual(['0', '2']);
  expect(Buffer.isBuffer(got.buffer)).toBe(true);
  expect(Buffer.isBuffer(got.u8)).toBe(false);
  for (const key of [
    'u8',
    'i8',
    'u8c',
    'i16',
    'u16',
    'i32',
    'u32',
    'f32',
    'f64',
    'i64',
    'u64',
    'view',
    'date',
    'regexp',
    'map',
    'set',
  ]) {
    expect(Object.getPrototypeOf(got[key]), key).toBe(Object.getPrototypeOf(sent[key]));
  }
  expect(got.regexp.flags).toBe('giu');
  if ('arrayBuffer' in sent) expect(got.arrayBuffer).toBeInstanceOf(ArrayBuffer);
  for (const key of ['error', 'rangeError', 'typeError', 'caused']) {
    expect(got[key]).toBeInstanceOf(sent[key].constructor);
    expect([got[key].name, got[key].message]).toEqual([sent[key].name, sent[key].message]);
  }
  expect(got.caused.cause).toBe('inner');
  expect(got.cycle.self).toBe(got.cycle);
  expect(got.pair[0]).toBe(got.pair[1]);
  expect(got.set.has(got.pair[0])).toBe(true);
}

describe('values between processes', () => {
  it('every kind of value structured clone takes makes the round trip, as it was', async () => {
    const { vc, child } = peer(['echo']);
    // With a bare ArrayBuffer the value is copied with stand-ins before V8 sees it; without
    // one (and without handles) it goes to V8 as it is.
    const { arrayBuffer, ...rest } = everyKind();
    for (const sent of [{ ...rest, arrayBuffer }, rest]) {
      expect(vc.post(sent)).toBe(true);
      const back = await next(vc);
      expectEveryKind(back.value, sent);
      expect(back.handles).toEqual([]);
    }
    await finish(vc, child);
  });

  it('the same value arrives the same through the JSON codec, where JSON can say it', async () => {
    const { vc, child } = peer(['echo'], 'json');
    const sent = { id: 7, name: 'seven', tags: ['a', 'b', 'c'], nested: { list: [1, null, true] } };
    vc.post(sent);
    expect((await next(vc)).value).toEqual(sent);
    // Past one message, the JSON text travels in a VMO too; handles as {"$handle": n}.
    const event = Event.create();
    const koid = event.koid;
    const large = { text: 'é'.repeat(50_000), event };
    vc.post(large);
    const back = await next(vc);
    expect(back.value.text).toBe(large.text);
    expect(back.value.event).toBeInstanceOf(Event);
    expect(back.value.event.koid).toBe(koid);
    expect(back.handles).toEqual([
      { path: '$.event', class: 'Event', type: ZX_OBJ_TYPE_EVENT, rights: back.value.event.rights, koid: String(koid) },
    ]);
    back.value.event.close();
    await finish(vc, child);
  });

  it('a handle at depth 10 and 64 handles in one value come out as their class, with type, rights and koid', async () => {
    const { vc, child } = peer(['echo']);
    const event = Event.create();
    const [socket, socketPeer] = Socket.create();
    let deep: Record<string, unknown> = { event };
    for (let i = 0; i < 9; i++) deep = { [`level${9 - i}`]: deep };
    const many: Handle[] = [];
    for (let i = 0; i < 59; i++) many.push(Event.create());
    const [pair0, pair1] = EventPair.create();
    const [channel, channelPeer] = Channel.create();
    const vmo = Vmo.create(4096);
    vmo.write('in the vmo');
    const readOnly = vmo.duplicate(ZX_RIGHT_READ | ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT);
    const value = { deep, many, inMap: new Map([['s', socket]]), inSet: new Set([pair0]), channel, readOnly };
    const handles = [event, ...many, socket, pair0, channel, readOnly];
    expect(handles).toHaveLength(64);
    const before = handles.map((h) => ({ class: h.constructor.name, ...h.info() }));
    vc.post(value);
    for (const h of handles) expect(h.valid).toBe(false); // moved

    const back = await next(vc);
    // What the child saw: every handle, in place, as its class, with its type, rights, koid.
    const seen = new Map<string, any>(back.handles.map((h: any) => [h.path, h]));
    const place = (i: number): string => {
      if (i === 0) return `$.deep${Array.from({ length: 9 }, (_, k) => `.level${k + 1}`).join('')}.event`;
      if (i <= 59) return `$.many.${i - 1}`;
      return ['$.inMap.get("s")', '$.inSet.set[0]', '$.channel', '$.readOnly'][i - 60];
    };
    expect(back.handles).toHaveLength(64);
    before.forEach((info, i) => {
      expect(seen.get(place(i)), place(i)).toEqual({
        path: place(i),
        class: info.class,
        type: info.type,
        rights: info.rights,
        koid: String(info.koid),
      });
    });
    // And back here again, through the echo.
    let got = back.value.deep;
    for (let i = 1; i <= 9; i++) got = got[`level${i}`];
    expect(got.event).toBeInstanceOf(Event);
    expect(got.event.koid).toBe(before[0].koid);
    expect(got.event.type).toBe(ZX_OBJ_TYPE_EVENT);
    expect(back.value.many.map((h: Handle) => h.koid)).toEqual(before.slice(1, 60).map((i) => i.koid));
    expect(back.value.inMap.get('s')).toBeInstanceOf(Socket);
    expect(back.value.inSet.values().next().value).toBeInstanceOf(EventPair);
    expect(back.value.channel).toBeInstanceOf(Channel);
    expect(back.value.channel.type).toBe(ZX_OBJ_TYPE_CHANNEL);
    expect(back.value.readOnly).toBeInstanceOf(Vmo);
    expect(back.value.readOnly.type).toBe(ZX_OBJ_TYPE_VMO);
    expect(back.value.readOnly.rights).toBe(ZX_RIGHT_READ | ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT);
    expect(back.value.readOnly.read(10).toString()).toBe('in the vmo');
    // The channel still reaches its peer.
    back.value.channel.write('through');
    expect((await channelPeer.read({ timeout: 5000 })).bytes.toString()).toBe('through');

    for (const h of [
      ...back.value.many,
      got.event,
      back.value.inMap.get('s'),
      back.value.inSet.values().next().value,
      back.value.channel,
      back.value.readOnly,
    ])
      h.close();
    for (const h of [socketPeer, pair1, channelPeer, vmo]) h.close();
    await finish(vc, child);
  });

  it('values of 0 bytes, 65 KiB and 64 MiB arrive intact; the large ones through a VMO mapped only while read', async () => {
    const { vc, child } = peer(['large', String(64 * MIB)]);
    const first = await next(vc); // the child's 64 MiB
    expect(first.n).toBe(64 * MIB);
    expect(Buffer.isBuffer(first.big)).toBe(true);
    expect(first.big.equals(pattern(64 * MIB))).toBe(true);
    expect(memfdMappings()).toBe(base.maps);

    for (const sent of [Buffer.alloc(0), new Uint8Array(0), '', undefined, { b: Buffer.alloc(0) }]) {
      vc.post(sent);
      expect((await next(vc)).value).toEqual(sent);
    }
    const kib65 = { bytes: pattern(65 * KIB) };
    vc.post(kib65);
    const back65 = await next(vc);
    expect(back65.value.bytes.equals(kib65.bytes)).toBe(true);

    const mib64 = { label: 'large', bytes: first.big, also: new Float64Array(8).fill(2.5) };
    vc.post(mib64);
    const back64 = await next(vc);
    expect(back64.value.label).toBe('large');
    expect(back64.value.bytes.equals(first.big)).toBe(true);
    expect(back64.value.also).toEqual(mib64.also);
    await finish(vc, child);
  }, 60_000);

  it('a peer killed while large values are in flight, either way, leaves nothing behind', async () => {
    // The child posts 8 MiB values, one more for each one we post; it dies between two.
    const { vc, child } = peer(['stream', String(8 * MIB)]);
    for (let seq = 0; seq < 4; seq++) {
      const got = await next(vc);
      expect([got.seq, got.big.length]).toEqual([seq, 8 * MIB]);
      vc.post('more');
    }
    vc.on('message', () => {}); // what was in flight is read (and let go) until the end
    child.proc.kill('SIGKILL');
    await once(vc, 'close');
    expect((await child.closed).signal).toBe('SIGKILL');
    vc.close();

    // And the other way: values queued to a child that never reads them when it dies.
    const [mine, theirs] = Channel.create();
    const holder = startNode('value-peer.cjs', ['hold', '', 'v8'], [{ id: user(0), handle: theirs }]);
    await holder.json('ready');
    const out = new ValueChannel(mine);
    const big = { bytes: pattern(8 * MIB) };
    for (let i = 0; i < 4; i++) out.post(big);
    holder.proc.kill('SIGKILL');
    await holder.closed;
    out.close();
  }, 60_000);
});

describe('encodings', () => {
  it('a value JSON says exactly travels as JSON text, anything more as structured clone, and both arrive as structured clone would', () => {
    const [mine, theirs] = Channel.create();
    const vc = new ValueChannel(mine);
    const shared = { s: 1 };
    class WithToJSON {
      x = 1;
      toJSON() {
        return 'not what structured clone keeps';
      }
    }
    const extra: any = [1, 2];
    extra.more = 'kept';
    const JSON_CODEC = 1;
    const V8_CODEC = 0;
    const cases: [unknown, number, unknown][] = [
      [{ id: 1, name: 'n', tags: ['a', 'b', 'c'] }, JSON_CODEC, { id: 1, name: 'n', tags: ['a', 'b', 'c'] }],
      ['text', JSON_CODEC, 'text'],
      [{ $handle: 0 }, JSON_CODEC, { $handle: 0 }],
      [{ nested: [[{ n: null, t: true, f: 0.25 }]] }, JSON_CODEC, { nested: [[{ n: null, t: true, f: 0.25 }]] }],
      [[shared, shared], V8_CODEC, [{ s: 1 }, { s: 1 }]],
      [{ z: -0 }, V8_CODEC, { z: -0 }],
      [{ u: undefined }, V8_CODEC, { u: undefined }],
      [[1, , 3], V8_CODEC, [1, , 3]], // eslint-disable-line no-sparse-arrays
      [new WithToJSON(), V8_CODEC, { x: 1 }],
      [extra, V8_CODEC, Object.assign([1, 2], { more: 'kept' })],
      [undefined, V8_CODEC, undefined],
      [NaN, V8_CODEC, NaN],
    ];
    for (const [value, codec, expected] of cases) {
      vc.post(value);
      const message = theirs.tryRead()!;
      expect(message.bytes[6], JSON.stringify(value) ?? String(value)).toBe(codec);
      const got = unpack(message).value as any;
      expect(got).toStrictEqual(expected);
      if (Array.isArray(value) && value[0] === shared) expect(got[0]).toBe(got[1]);
    }
    vc.close();
    theirs.close();
  });
});

describe('calls', () => {
  it('call resolves with the value the peer responds with; its errors keep name, message and code', async () => {
    const { vc, child } = peer(['echo']);
    const event = Event.create();
    const koid = event.koid;
    const reply: any = await vc.call({ question: 42, event, bytes: pattern(100 * KIB) }, { timeout: 10_000 });
    expect(reply.echo.question).toBe(42);
    expect(reply.echo.event).toBeInstanceOf(Event);
    expect(reply.echo.event.koid).toBe(koid);
    expect(reply.echo.bytes.equals(pattern(100 * KIB))).toBe(true);
    reply.echo.event.close();

    const thrown: any = await rejectionOf(
      vc.call({ throw: { name: 'RangeError', message: 'too far', code: 'E_FAR' } }),
    );
    expect(thrown).toBeInstanceOf(RangeError);
    expect([thrown.name, thrown.message, thrown.code]).toEqual(['RangeError', 'too far', 'E_FAR']);
    const responded: any = await rejectionOf(
      vc.call({ throw: { name: 'Error', message: 'no', code: 17 }, respond: true }),
    );
    expect([responded.name, responded.message, responded.code]).toEqual(['Error', 'no', 17]);

    // Calls from both sides and posts interleave; a slow reply does not hold the others.
    const slow = vc.call({ later: 50, n: 1 });
    const fast = vc.call({ n: 2 });
    expect(await fast).toEqual({ echo: { n: 2 } });
    expect(await slow).toEqual({ echo: { later: 50, n: 1 } });

    expectZxError(await rejectionOf(vc.call({ later: 2000 }, { timeout: 20 })), ZX_ERR_TIMED_OUT, 'Channel.call');
    const controller = new AbortController();
    const aborted = vc.call({ later: 2000 }, { signal: controller.signal });
    controller.abort(new Error('stop'));
    expect(((await rejectionOf(aborted)) as Error).message).toBe('stop');
    await finish(vc, child);
  });

  it("on('call') answers with respond(); a listener that throws rejects the caller; no listener is an error too", async () => {
    const [a, b] = ValueChannel.create();
    b.on('call', (value: any, respond) => {
      if (value.fail) throw Object.assign(new TypeError('refused'), { code: 'E_REFUSED' });
      respond({ sum: value.x + value.y });
      expect(() => respond(1)).toThrow('already answered');
    });
    expect(await a.call({ x: 2, y: 3 })).toEqual({ sum: 5 });
    const error: any = await rejectionOf(a.call({ fail: true }));
    expect([error.name, error.message, error.code]).toEqual(['TypeError', 'refused', 'E_REFUSED']);
    a.on('message', () => {}); // reading, with no 'call' listener
    const none: any = await rejectionOf(b.call('anyone?'));
    expect(none.message).toBe("ValueChannel: no 'call' listener");
    // A reply that can't be sent: the responder's respond() throws, the caller learns why.
    b.removeAllListeners('call');
    let thrown: unknown;
    b.on('call', (_value, respond) => {
      thrown = thrownBy(() => respond({ f: () => 1 }));
    });
    const unsent: any = await rejectionOf(a.call('give me a function'));
    expect(unsent.name).toBe('DataCloneError');
    expect((thrown as DOMException).name).toBe('DataCloneError');
    a.close();
    b.close();
  });
});

describe('what is not sent', () => {
  it('a value that cannot be cloned throws DataCloneError before anything is sent, its handles untouched', async () => {
    const [a, b] = ValueChannel.create();
    const event = Event.create();
    const koid = event.koid;
    for (const bad of [
      { event, f: () => 1 },
      { event, s: Symbol('no') },
      [event, new WeakMap()],
      { event, big: Buffer.alloc(70 * KIB), f() {} },
    ]) {
      const error = thrownBy(() => a.post(bad)) as DOMException;
      expect(error).toBeInstanceOf(DOMException);
      expect(error.name).toBe('DataCloneError');
      expect(event.valid).toBe(true);
      expect(event.koid).toBe(koid);
    }
    const tooMany = Array.from({ length: 65 }, () => Event.create());
    expect((thrownBy(() => a.post(tooMany)) as DOMException).name).toBe('DataCloneError');
    expect(tooMany.every((h) => h.valid)).toBe(true);
    // A value in a VMO leaves room for 63 handles: the VMO is the 64th.
    const large = { handles: tooMany.slice(0, 64), bytes: Buffer.alloc(70 * KIB) };
    const inVmo = thrownBy(() => a.post(large)) as DOMException;
    expect([inVmo.name, inVmo.message]).toEqual([
      'DataCloneError',
      'a value holds at most 63 handles when it travels in a VMO, this one 64.',
    ]);
    expect(tooMany.every((h) => h.valid)).toBe(true);
    expect(base.maps).toBe(memfdMappings());
    const [jsonEnd, jsonPeer] = Channel.create();
    const json = new ValueChannel(jsonEnd, { codec: 'json' });
    expect((thrownBy(() => json.post({ n: 1n, event })) as DOMException).name).toBe('DataCloneError');
    expect(event.valid).toBe(true);
    json.close();
    jsonPeer.close();
    // Nothing reached the peer: the next value is the first it sees.
    a.post({ event });
    const got = await next(b);
    expect(got.event.koid).toBe(koid);
    got.event.close();
    tooMany.forEach((h) => h.close());
    a.close();
    b.close();
  });

  it('a peer whose envelopes lie about their size or handles: an error for each, and the channel goes on', async () => {
    const { vc, child } = peer(['lie'], 'json');
    const errors: ZxError[] = [];
    const values: unknown[] = [];
    vc.on('error', (e: ZxError) => errors.push(e));
    const collect = (v: unknown) => values.push(v);
    vc.on('message', collect);
    await until(() => values.length === 1, 'the good value after the lies');
    vc.off('message', collect);
    expect(values).toEqual([{ good: true, lies: 11 }]);
    expect(errors).toHaveLength(11);
    for (const e of errors) expectZxError(e, ZX_ERR_IO_DATA_INTEGRITY, 'ValueChannel receive');
    expect(errors.map((e) => e.message.replace(/^.*\((.*)\)$/, '$1'))).toEqual(
      [
        'a message of 5 bytes',
        'envelope version 9',
        'a body of 8 bytes in a message of 23',
        'a body of 1000000 bytes in a message of 23',
        'a body of 7 bytes in a message of 21',
        'handle index 1 with 1 handles',
        'handle index -1 with 1 handles',
        'no VMO as the last handle for the body',
        'a body of 8192 bytes in a VMO of 4096',
        "the body's VMO does not map: ZX_ERR_NOT_SUPPORTED",
        'a typed array of 7 bytes runs past the body',
      ].map((m) => expect.stringContaining(m)),
    );
    // And the channel goes on: values both ways.
    vc.post({ after: 'lies' });
    expect((await next(vc)).value).toEqual({ after: 'lies' });
    await finish(vc, child);
  });
});

describe('the event face, iteration and backpressure', () => {
  it('for await yields every value until the peer closes; post() returns what write() returns and drain is passed on', async () => {
    const [a, b] = ValueChannel.create();
    for (let i = 0; i < 5; i++) expect(a.post({ i })).toBe(true);
    a.close();
    const seen: unknown[] = [];
    for await (const value of b) seen.push(value);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    let drained = 0;
    b.on('drain', () => drained++);
    b.channel.emit('drain');
    expect(drained).toBe(1);
    b.close();
  });

  it("post() returns false above the channel's high-water mark and 'drain' follows once the reader has caught up; nothing lost", async () => {
    const [a, b] = ValueChannel.create();
    let posted = 0;
    while (a.post({ n: posted, pad: 'x'.repeat(200) })) posted++;
    posted++; // the one that answered false was queued all the same
    expect(a.channel.writableNeedDrain).toBe(true);
    const drained = once(a, 'drain');
    const seen: number[] = [];
    b.on('message', (v) => seen.push((v as { n: number }).n));
    await drained;
    await until(() => seen.length === posted, `${posted} values`);
    expect(seen).toEqual(Array.from({ length: posted }, (_, i) => i));
    expect(a.post({ n: posted })).toBe(true);
    a.close();
    b.close();
  });

  it('reads only while a message or call listener is attached', async () => {
    const [a, b] = ValueChannel.create();
    a.post(1);
    a.post(2);
    const onMessage = (v: unknown) => seen.push(v);
    const seen: unknown[] = [];
    b.on('message', onMessage);
    await until(() => seen.length === 2, 'two values');
    b.off('message', onMessage);
    a.post(3); // stays in the channel
    expect((await b.channel.read({ timeout: 5000 })).bytes.length).toBeGreaterThan(16);
    expect(seen).toEqual([1, 2]);
    a.close();
    b.close();
  });
});

describe('ref and unref', () => {
  it("an unref()'d ValueChannel that listens does not keep its process alive", async () => {
    const { vc, child } = peer(['unref']);
    expect(await child.json('exiting')).toEqual({ exiting: true });
    expect(await child.closed).toEqual({ code: 0, signal: null });
    vc.close();
  });
});

describe('the JSON codec, read by a program that is not this library', () => {
  it('a Python peer reads JSON envelopes and answers posts and calls', async () => {
    const [mine, theirs] = Channel.create();
    const child = spawnWithEndpoint('python3', [fixture('value-json-peer.py')], theirs.release());
    const vc = new ValueChannel(mine, { codec: 'json' });
    const sent = { id: 1, name: 'one', tags: ['x', 'y', 'z'] };
    vc.post(sent);
    expect(await next(vc)).toEqual({ seen: sent, from: 'python' });
    expect(await vc.call([1, 'two', { three: 3 }], { timeout: 10_000 })).toEqual({
      seen: [1, 'two', { three: 3 }],
      from: 'python',
    });
    vc.close();
    expect(await child.closed).toEqual({ code: 0, signal: null });
  });
});
