// Endpoints and handles moving between real processes: an endpoint moved to another process
// mid-stream (messages written before and after the move, and the mover's outbound queue
// for it full when it moved), and a relay through three processes that forwards messages
// with the handles in them.
import { mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fdio,
  sys,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READABLE,
  ZX_DEFAULT_CHANNEL_RIGHTS,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_OBJ_TYPE_CHANNEL,
  ZX_OBJ_TYPE_FD,
  ZX_OK,
  ZX_RIGHT_READ,
  ZX_RIGHT_WRITE,
  ZX_RIGHTS_BASIC,
} from '../lib/index';
import { waitSignals, warmUpSpawn, warmUpWait } from './fixtures/spawn';
import { baseline, basicOf, expectBaseline, isValid, seqMessage, startNode, user } from './fixtures/proc-helpers';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zx-relay-'));
  await warmUpSpawn();
  warmUpWait();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function channel(): [number, number] {
  const r = sys.channelCreate(0);
  expect(r.status).toBe(ZX_OK);
  return [r.out0, r.out1];
}

async function recvJson(h: number, why: () => string): Promise<any> {
  const observed = await waitSignals(h, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, why());
  if (!(observed & ZX_CHANNEL_READABLE)) throw new Error(`peer closed: ${why()}`);
  const r = sys.channelRead(h, 0, 65536, 64);
  expect(r.status).toBe(ZX_OK);
  return JSON.parse(r.bytes.toString());
}

describe('an endpoint moved between processes mid-stream', () => {
  it("the new owner gets every message written before and after the move, in order, even with the mover's queue full", async () => {
    const base = baseline();
    const N1 = 2000; // written by W before the move
    const N2 = 2000; // written by W after the move
    const K = 500; // read here before the move; the rest is still in E's socket when it moves
    const R_WRITES = 1000; // written on E by its new owner

    const [e, p] = channel();
    const eInfo = basicOf(e);
    const [control, controlChild] = channel();
    const writer = startNode(
      'proc-move-writer.cjs',
      [String(N1), String(N2)],
      [
        { id: user(0), handle: p },
        { id: user(1), handle: controlChild },
      ],
    );
    const why = () => writer.stderr();
    expect(await recvJson(control, why)).toEqual({ phase1: N1 });

    // Read part of what W wrote; the rest stays in E's socket.
    for (let i = 0; i < K; i++) {
      await waitSignals(e, ZX_CHANNEL_READABLE);
      const r = sys.channelRead(e, 0, 65536, 64);
      expect(r.status).toBe(ZX_OK);
      expect(r.bytes.equals(seqMessage(i, 16))).toBe(true);
    }
    // Fill E's outbound queue to its limit (W reads nothing yet).
    let mine = 0;
    let status: number;
    while ((status = sys.channelWrite(e, 0, seqMessage(mine, 16), null)) === ZX_OK) mine++;
    expect(status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(fdio.fdCreate(e).status).toBe(ZX_ERR_SHOULD_WAIT); // queued: the probe keeps E

    // Move E to R inside a message; the message waits until E's queue has drained.
    const [carrier, carrierChild] = channel();
    const reader = startNode('proc-move-reader.cjs', [], [{ id: user(0), handle: carrierChild }]);
    const plan = { from: K, total: N1 + N2, start: mine, count: R_WRITES };
    expect(sys.channelWrite(carrier, 0, Buffer.from(JSON.stringify(plan)), [e])).toBe(ZX_OK);
    expect(isValid(e)).toBe(false);
    // W writes the rest now (after the move) and then reads what E's owners wrote.
    expect(sys.channelWrite(control, 0, Buffer.from(JSON.stringify({ expect: mine + R_WRITES })), null)).toBe(ZX_OK);

    // W got this process's messages, then R's, all in order.
    expect(await recvJson(control, why)).toEqual({ received: mine + R_WRITES, outOfOrder: [] });
    // R got every message W wrote that this process had not read, in order.
    const { report } = await reader.json('report');
    expect(report).toEqual({
      koid: eInfo.koid,
      relatedKoid: eInfo.relatedKoid,
      first: K,
      received: N1 + N2 - K,
      outOfOrder: [],
      total: N1 + N2,
    });
    expect(await writer.closed).toEqual({ code: 0, signal: null });
    expect(await reader.closed).toEqual({ code: 0, signal: null });
    expect(writer.stderr() + reader.stderr()).toBe('');
    expect(sys.handleCloseMany([control, carrier])).toBe(ZX_OK);
    await expectBaseline(base);
  });
});

describe('a relay through three processes', () => {
  it('keeps the order of messages and the types, rights and koids of the handles in them', async () => {
    const base = baseline();
    const COUNT = 300;
    const [source, aIn] = channel();
    const [aOut, bIn] = channel();
    const [bOut, cIn] = channel();
    const [cOut, sink] = channel();
    const stages = [
      startNode(
        'proc-relay.cjs',
        [],
        [
          { id: user(0), handle: aIn },
          { id: user(1), handle: aOut },
        ],
      ),
      startNode(
        'proc-relay.cjs',
        [],
        [
          { id: user(0), handle: bIn },
          { id: user(1), handle: bOut },
        ],
      ),
      startNode(
        'proc-relay.cjs',
        [],
        [
          { id: user(0), handle: cIn },
          { id: user(1), handle: cOut },
        ],
      ),
    ];
    const why = () => stages.map((s) => s.stderr()).join('');

    const readOnly = path.join(dir, 'read-only.txt');
    writeFileSync(readOnly, 'read me');
    const writeOnly = path.join(dir, 'write-only.txt');
    writeFileSync(writeOnly, '');

    // What each message carried: kind and identity of each handle, and what to keep here.
    type Sent = { type: number; rights: number; koid: string; relatedKoid: string; keep?: number };
    const sent: Sent[][] = [];
    const fileHandle = (p: string, flags: 'r' | 'w') => {
      const t = fdio.fdTransfer(openSync(p, flags));
      expect(t.status).toBe(ZX_OK);
      return t.handle;
    };
    for (let i = 0; i < COUNT; i++) {
      const handles: number[] = [];
      const meta: Sent[] = [];
      const addChannel = () => {
        const [travelling, kept] = channel();
        meta.push({ ...basicOf(travelling), keep: kept });
        handles.push(travelling);
      };
      const addFile = (p: string, flags: 'r' | 'w') => {
        const h = fileHandle(p, flags);
        meta.push(basicOf(h));
        handles.push(h);
      };
      if (i % 4 === 1) addChannel();
      if (i % 4 === 2) addFile(readOnly, 'r');
      if (i % 4 === 3) {
        addFile(writeOnly, 'w');
        addChannel();
      }
      const size = 16 + ((i * 977) % 3000);
      expect(sys.channelWrite(source, 0, seqMessage(i, size), handles.length ? handles : null)).toBe(ZX_OK);
      // A message into each travelling endpoint while it is on its way: it travels with it.
      for (const m of meta) if (m.keep) expect(sys.channelWrite(m.keep, 0, Buffer.from(`note ${i}`), null)).toBe(ZX_OK);
      sent.push(meta);
    }
    expect(sys.handleClose(source)).toBe(ZX_OK);

    let i = 0;
    for (;;) {
      const observed = await waitSignals(sink, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, 20_000, why());
      const r = sys.channelReadEtc(sink, 0, 65536, 64);
      if (r.status === ZX_ERR_PEER_CLOSED) break;
      if (r.status === ZX_ERR_SHOULD_WAIT) {
        expect(observed & ZX_CHANNEL_PEER_CLOSED).toBe(0);
        continue;
      }
      expect(r.status).toBe(ZX_OK);
      const size = 16 + ((i * 977) % 3000);
      if (!r.bytes.equals(seqMessage(i, size))) throw new Error(`message ${i}: got ${r.bytes.readUInt32LE(0)}`);
      expect(r.handles.map((h) => basicOf(h.handle))).toEqual(sent[i].map(({ keep, ...identity }) => identity));
      for (const [k, got] of r.handles.entries()) {
        const meta = sent[i][k];
        expect(got.type).toBe(meta.type);
        expect(got.rights).toBe(meta.rights);
        if (meta.type === ZX_OBJ_TYPE_CHANNEL) {
          expect(got.rights).toBe(ZX_DEFAULT_CHANNEL_RIGHTS);
          // The note written into it while it travelled is there, and it still talks to its peer.
          const note = sys.channelRead(got.handle, 0, 65536, 64);
          expect(note.status).toBe(ZX_OK);
          expect(note.bytes.toString()).toBe(`note ${i}`);
          expect(sys.channelWrite(got.handle, 0, Buffer.from(`back ${i}`), null)).toBe(ZX_OK);
          const back = sys.channelRead(meta.keep!, 0, 65536, 64);
          expect(back.status).toBe(ZX_OK);
          expect(back.bytes.toString()).toBe(`back ${i}`);
          expect(sys.handleCloseMany([got.handle, meta.keep!])).toBe(ZX_OK);
        } else {
          expect(got.type).toBe(ZX_OBJ_TYPE_FD);
          const made = fdio.fdCreate(got.handle);
          expect(made.status).toBe(ZX_OK);
          if (got.rights & ZX_RIGHT_WRITE) {
            expect(got.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_WRITE);
            writeSync(made.fd, `${i}\n`);
          } else {
            expect(got.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_READ);
            const buf = Buffer.alloc(64);
            expect(buf.toString('utf8', 0, readSync(made.fd, buf, 0, 64, 0))).toBe('read me');
          }
          closeSync(made.fd);
        }
      }
      i++;
    }
    expect(i).toBe(COUNT);
    for (const stage of stages) {
      expect(await stage.json('relayed')).toEqual({ relayed: COUNT });
      expect(await stage.closed).toEqual({ code: 0, signal: null });
      expect(stage.stderr()).toBe('');
    }
    // Each write-only file arrived writable and in order (each was opened at offset 0 and
    // written once, so the last one wins).
    expect(readFileSync(writeOnly, 'utf8')).toBe(`${COUNT - 1}\n`);
    expect(sys.handleClose(sink)).toBe(ZX_OK);
    await expectBaseline(base);
  });
});
