// Zircon's own channel tests (zircon/system/utest/core/channel/channel.cc, ChannelTest.*;
// channel-write-etc/write_etc.cc, ChannelWriteEtcTest.*; channel-iovec/iovec.cc, IOVecTest.*;
// channel-call-etc/call_etc.cc, ChannelCallEtcTest.*; handle-transfer/handle-transfer.cc,
// HandleTransferTest.*) as the sys face can express them: the same operations and the same statuses, in
// Zircon's order; the threads of the original are other processes here wherever the
// channel end can travel to one (a child running test/fixtures/objects-child.cjs).
//
// Not portable, and why:
// - CallNullptrNumBytesIsInvalidArgs, CallNullptrNumHandlesInvalidArgs: JS has no null out
//   pointers; every call returns its sizes.
// - ReadEtcHandleInfoValidation's FIFO handles: there are no FIFOs here (the event cases
//   are kept).
// - ChannelWriteEtcTest.NullptrArgWhenSizeNonZeroShouldFail and
//   MaximumNumberHandlesWithZeroCountArrayArgShouldSucceed: a JS array has its own length
//   (no count apart from the buffer). IOVecTest's WriteNonZeroReservedIovec,
//   WriteNullBufferNonnullSize, CallNonZeroReservedIovec, CallNullBufferNonnullSize and
//   CallIovecBytesLessThanTxidSize's byte count: an iovec here is a Uint8Array, with no
//   reserved field, null buffer or size of its own (the txid case is kept with 3 bytes).
// - ChannelCallEtcTest's handles are events, not ports (ports travel in messages with the
//   ports' own work; the checks are the same for any type).
// - HandleTransferTest.CancelsWait's look at the waiting thread between the write and the
//   read: here the wait ends (CANCELED) when the write takes the handle out of the table,
//   not when the read takes it out of the message; the end result is the same.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_MAX_MSG_BYTES,
  ZX_CHANNEL_MAX_MSG_HANDLES,
  ZX_CHANNEL_PEER_CLOSED,
  ZX_CHANNEL_READ_MAY_DISCARD,
  ZX_CHANNEL_READABLE,
  ZX_CHANNEL_WRITABLE,
  ZX_DEFAULT_EVENT_RIGHTS,
  ZX_ERR_ACCESS_DENIED,
  ZX_ERR_BAD_HANDLE,
  ZX_ERR_BUFFER_TOO_SMALL,
  ZX_ERR_INVALID_ARGS,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_OUT_OF_RANGE,
  ZX_ERR_PEER_CLOSED,
  ZX_ERR_SHOULD_WAIT,
  ZX_ERR_TIMED_OUT,
  ZX_EVENT_SIGNALED,
  ZX_INFO_HANDLE_COUNT,
  ZX_OBJ_TYPE_EVENT,
  ZX_OK,
  ZX_RIGHT_SAME_RIGHTS,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
  ZX_RIGHTS_BASIC,
  ZX_TIME_INFINITE,
  ZX_TIME_INFINITE_PAST,
  ZX_HANDLE_OP_MOVE,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_OBJ_TYPE_PORT,
  ZX_OBJ_TYPE_NONE,
  ZX_OBJ_TYPE_SOCKET,
  ZX_HANDLE_INVALID,
  ZX_RIGHT_WRITE,
  ZX_ERR_WRONG_TYPE,
  ZX_CHANNEL_WRITE_USE_IOVEC,
  ZX_RIGHT_MANAGE_PROCESS,
  ZX_OBJ_TYPE_VMO,
  ZX_ERR_CANCELED,
  ZX_USER_SIGNAL_0,
} from '../lib/index';
import { basic, channel, closeAll, isValid, signalsOf } from './fixtures/channels';
import { event, keepBaseline, socketPair } from './fixtures/core';
import { blockedInPoll } from './fixtures/blocked.cjs';
import { give, peerWithChannel, startPeer } from './fixtures/peer';
import { until } from './fixtures/proc-helpers';
import { inWorker } from './fixtures/threads';

const DATA = Buffer.from([0xef, 0xbe, 0xad, 0xde]); // kChannelData, 0xdeadbeef
const SECOND = 1_000_000_000n;

keepBaseline();

/** Reads one message, asserting OK. */
function readOne(h: number, numBytes = 65536, numHandles = 64) {
  const r = sys.channelRead(h, 0, numBytes, numHandles);
  expect(r.status).toBe(ZX_OK);
  return r;
}

describe('ChannelTest: create, signals, reads', () => {
  it('CreateIsOkAndEndpointsAreRelated', () => {
    const [local, remote] = channel();
    const [a, b] = [basic(local), basic(remote)];
    expect(a.koid).not.toBe(0n);
    expect(b.koid).not.toBe(0n);
    expect([a.relatedKoid, b.relatedKoid]).toEqual([b.koid, a.koid]);
    closeAll(local, remote);
  });

  it('IsWriteableByDefault', () => {
    const [local, remote] = channel();
    expect(sys.objectWaitOne(local, ZX_CHANNEL_WRITABLE, ZX_TIME_INFINITE_PAST)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_WRITABLE,
    });
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_WRITABLE, ZX_TIME_INFINITE_PAST)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_WRITABLE,
    });
    closeAll(local, remote);
  });

  it('WriteToEndpointCausesOtherToBecomeReadable', () => {
    const [local, remote] = channel();
    expect(sys.channelWrite(local, 0, DATA, null)).toBe(ZX_OK);
    expect(sys.objectWaitOne(local, ZX_CHANNEL_WRITABLE, ZX_TIME_INFINITE_PAST).observed).toBe(ZX_CHANNEL_WRITABLE);
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE, ZX_TIME_INFINITE_PAST)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE,
    });
    closeAll(local, remote);
  });

  it('WriteConsumesAllHandles', () => {
    const [local, remote] = channel();
    const handles = Array.from({ length: ZX_CHANNEL_MAX_MSG_HANDLES + 1 }, event);
    expect(sys.channelWrite(local, 0, null, handles)).toBe(ZX_ERR_OUT_OF_RANGE);
    for (const h of handles) expect(sys.handleClose(h)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(local, remote);
  });

  // The worker thread of the original waits on both remotes with wait_many; here it is
  // another process, which holds the remotes and reports what each wait saw.
  it.each([
    ['WaitManyIsSignaledOnAnyElementWrite', ['one']],
    ['WaitManyIsSignaledForBothWrites', ['two', 'one']],
  ])('%s (the waiter in another process)', async (_, writes) => {
    const [local1, remote1] = channel();
    const [local2, remote2] = channel();
    const peer = startPeer({ remote1, remote2 });
    const local = { one: local1, two: local2 } as Record<string, number>;
    const waitMany = {
      waitMany: ['remote1', 'remote2'],
      waitfor: [ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED],
      ms: 20_000,
    };
    const pending = writes.map(() => 0);
    for (const [i, which] of writes.entries()) {
      expect(sys.channelWrite(local[which], 0, DATA, null)).toBe(ZX_OK);
      // Wait until the write shows, then read it as the worker does.
      const [wait] = await peer.do(waitMany);
      expect(wait.status).toBe(ZX_OK);
      pending[i] = wait.pending[which === 'one' ? 0 : 1];
      const [read] = await peer.do({ read: which === 'one' ? 'remote1' : 'remote2' });
      expect(read.status).toBe(ZX_OK);
    }
    expect(pending).toEqual(writes.map(() => ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE));
    closeAll(local1, local2);
    const [closed] = await peer.do(waitMany);
    expect(closed).toEqual({ status: ZX_OK, pending: [ZX_CHANNEL_PEER_CLOSED, ZX_CHANNEL_PEER_CLOSED] });
    expect(await peer.do({ signals: 'remote1' }, { signals: 'remote2' })).toEqual([
      ZX_CHANNEL_PEER_CLOSED,
      ZX_CHANNEL_PEER_CLOSED,
    ]);
    await peer.exit();
  });

  it('ReadWhenEmptyReturnsShouldWait', () => {
    const [local, remote] = channel();
    expect(sys.channelRead(remote, 0, 0, 0).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(local, remote);
  });

  it('ReadWhenEmptyAndClosedReturnsPeerClosed', () => {
    const [local, remote] = channel();
    closeAll(local);
    expect(sys.channelRead(remote, 0, 0, 0).status).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(remote);
  });

  it('ReadRemainingMessagesWhenPeerIsClosed (written by a process that then exits)', async () => {
    const [local, remote] = channel();
    const peer = startPeer({ local });
    const results = await peer.do(...Array.from({ length: 4 }, () => ({ write: 'local', text: 'data' })));
    expect(results).toEqual([ZX_OK, ZX_OK, ZX_OK, ZX_OK]);
    await peer.exit(); // `local` goes with the process
    expect(signalsOf(remote)).toBe(ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
    for (let i = 0; i < 4; i++) {
      const r = readOne(remote, 4, 0);
      expect([r.actualBytes, r.bytes.toString()]).toEqual([4, 'data']);
    }
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE_PAST).status).toBe(ZX_ERR_TIMED_OUT);
    closeAll(remote);
  });

  it('CloseSignalsPeerClosed (the peer closed in another process)', async () => {
    const [local, remote] = channel();
    const peer = startPeer({ local });
    expect(await peer.do({ close: 'local' })).toEqual([ZX_OK]);
    const r = sys.objectWaitOne(remote, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20n * SECOND));
    expect(r.status).toBe(ZX_OK);
    expect(r.observed & ZX_CHANNEL_PEER_CLOSED).toBe(ZX_CHANNEL_PEER_CLOSED);
    await peer.exit();
    closeAll(remote);
  });

  it('CloseSignalsPeerReturnsPeerClosed', () => {
    const [local, remote] = channel();
    closeAll(remote);
    expect(sys.objectSignalPeer(local, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(local);
  });

  it('CloseSignalsPeerReturnsPeerClosed (the peer gone with its process, after a user signal reached it)', async () => {
    const [local, remote] = channel();
    const { peer, ch } = peerWithChannel();
    await give(peer, ch, [remote], ['remote']);
    expect(sys.objectSignalPeer(local, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(await peer.do({ signals: 'remote' })).toEqual([ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_0]);
    await peer.exit(); // `remote` goes with the process
    expect(sys.objectSignalPeer(local, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(local, ch);
  });

  it('CloseClearsSignalsWriteable', () => {
    const [local, remote] = channel();
    expect(signalsOf(remote) & ZX_CHANNEL_WRITABLE).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(local);
    const r = sys.objectWaitOne(remote, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE);
    expect(r.status).toBe(ZX_OK);
    expect(r.observed & ZX_CHANNEL_WRITABLE).toBe(0);
    closeAll(remote);
  });

  it('OnFlightHandlesSignalledWhenPeerIsClosed', () => {
    const [local, remote] = channel();
    const [flightLocal0, flightRemote0] = channel();
    const [flightLocal1, flightRemote1] = channel();
    expect(sys.channelWrite(local, 0, null, [flightRemote0])).toBe(ZX_OK);
    expect(sys.channelWrite(remote, 0, null, [flightRemote1])).toBe(ZX_OK);
    // Closing `local` closes the handles queued for it.
    closeAll(local);
    expect(sys.objectWaitOne(flightLocal1, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
    // The one queued for `remote` can still be read: its peer is writable.
    expect(signalsOf(flightLocal0) & ZX_CHANNEL_WRITABLE).toBe(ZX_CHANNEL_WRITABLE);
    closeAll(remote);
    expect(sys.objectWaitOne(flightLocal0, ZX_CHANNEL_PEER_CLOSED, sys.deadlineAfter(20n * SECOND)).status).toBe(ZX_OK);
    closeAll(flightLocal0, flightLocal1);
  });

  it('WriteNonTransferableHandleReturnsAccessDeniedAndClosesHandle', () => {
    const [local, remote] = channel();
    const e = event();
    const { status, out } = sys.handleDuplicate(e, basic(e).rights & ~ZX_RIGHT_TRANSFER);
    expect(status).toBe(ZX_OK);
    expect(sys.channelWrite(local, 0, null, [out])).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleClose(out)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(local, remote, e);
  });

  it('WriteRepeatedHandlesReturnsBadHandlesAndClosesHandle', () => {
    const [local, remote] = channel();
    const e = event();
    expect(sys.channelWrite(local, 0, null, [e, e])).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(e)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(local, remote);
  });

  it('WriteSelfHandleReturnsNotSupported', () => {
    const [local, remote] = channel();
    expect(sys.channelWrite(local, 0, null, [local])).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(isValid(local)).toBe(false);
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_PEER_CLOSED, ZX_TIME_INFINITE_PAST)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_PEER_CLOSED,
    });
    closeAll(remote);
  });

  // Two readers take all the messages between them, each in order. A channel handle has no
  // DUPLICATE right, so, as in Zircon, the readers are two threads of one process. Unlike
  // Zircon's, a read may find nothing yet: 5000 messages don't fit in the socket, and the
  // rest are readable only once the writing thread's event loop has flushed them.
  it('ConcurrentReadsConsumeUniqueElements (readers in two worker threads)', async () => {
    const COUNT = 5000;
    const [local, remote] = channel();
    for (let i = 1; i <= COUNT; i++) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(i));
      expect(sys.channelWrite(local, 0, b, null)).toBe(ZX_OK);
    }
    const start = event();
    const reader = `
      const { h, start, count } = workerData;
      const got = [];
      sys.objectWaitOne(start, zx.ZX_EVENT_SIGNALED, zx.ZX_TIME_INFINITE);
      for (let i = 0; i < count; i++) {
        let r = sys.channelRead(h, 0, 8, 0);
        // Messages past the socket's room wait in the writer's outbound queue until its
        // event loop flushes them (README.md, Differences): wait for them to show.
        while (r.status === zx.ZX_ERR_SHOULD_WAIT) {
          sys.objectWaitOne(h, zx.ZX_CHANNEL_READABLE, sys.deadlineAfter(20_000_000_000n));
          r = sys.channelRead(h, 0, 8, 0);
        }
        got.push(r.status === zx.ZX_OK ? Number(r.bytes.readBigUInt64LE()) : r.status);
      }
      parentPort.postMessage(got);`;
    const workers = [0, 1].map(() => inWorker(reader, { h: remote, start, count: COUNT / 2 }));
    expect(sys.objectSignal(start, 0, ZX_EVENT_SIGNALED)).toBe(ZX_OK);
    const got: number[][] = await Promise.all(workers.map((w) => w.message));
    await Promise.all(workers.map((w) => w.exited));
    const seen = new Set<number>();
    for (const values of got) {
      let previous = 0;
      for (const value of values) {
        expect(value).toBeGreaterThan(previous);
        expect(value).toBeLessThanOrEqual(COUNT);
        previous = value;
        seen.add(value);
      }
    }
    expect(seen.size).toBe(COUNT);
    closeAll(local, remote, start);
  });
});

describe('ChannelTest: ZX_CHANNEL_READ_MAY_DISCARD with buffers too small', () => {
  // PerformChannelCallWithSmallBuffer: a message of `bytes` and `handles` (duplicates of one
  // event) read with room for less: BUFFER_TOO_SMALL with the sizes, the message gone and
  // only the event's own handle left.
  it.each([
    ['ReadMayDiscardWithNullBuffersReturnsBufferTooSmall', 0, 0, 1, 1],
    ['ReadMayDiscardWithNullBufferDiscardsDataReturnsBufferTooSmall', 1, 0, 2, 0],
    ['ReadMayDiscardWithNullBufferDiscardHandlesReturnsBufferTooSmall', 0, 1, 0, 2],
    ['ReadMayDiscardWithZeroSizeBuffersDiscardHandlesAndDataReturnsBufferTooSmall', 0, 0, 1, 1],
    ['ReadMayDiscardWithSmallerBufferDiscardHandlesAndDateReturnsBufferTooSmall', 10, 1, 11, 2],
  ])('%s', (_, roomBytes, roomHandles, bytes, handles) => {
    const [local, remote] = channel();
    const e = event();
    const dups = Array.from({ length: handles }, () => sys.handleDuplicate(e, ZX_RIGHT_SAME_RIGHTS).out);
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE_PAST).status).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.channelWrite(local, 0, Buffer.alloc(bytes), dups)).toBe(ZX_OK);
    const r = sys.channelRead(remote, ZX_CHANNEL_READ_MAY_DISCARD, roomBytes, roomHandles);
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_ERR_BUFFER_TOO_SMALL, bytes, handles]);
    expect(sys.objectWaitOne(remote, ZX_CHANNEL_READABLE, ZX_TIME_INFINITE_PAST).status).toBe(ZX_ERR_TIMED_OUT);
    expect(sys.objectGetInfo(e, ZX_INFO_HANDLE_COUNT)).toEqual({ status: ZX_OK, info: { handleCount: 1 } });
    closeAll(local, remote, e);
  });
});

describe('ChannelTest: calls answered by another process', () => {
  /** A request of `bytes` bytes (txid first) and `handles` new events. */
  const request = (bytes: number, handles: number) => ({
    bytes: Buffer.alloc(bytes, 7),
    handles: Array.from({ length: handles }, event),
  });

  it('CallWrittenBytesSmallerThanZxTxIdReturnsInvalidArgs', () => {
    const [local, remote] = channel();
    const r = sys.channelCall(local, 0, ZX_TIME_INFINITE, {
      bytes: Buffer.alloc(3),
      readNumBytes: 64,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_ERR_INVALID_ARGS);
    closeAll(local, remote);
  });

  it.each([
    // name, request bytes, request handles, reply bytes past the txid, reply handles, room
    ['CallResponseBiggerThanRdNumBytesReturnsBufferTooSmall', 24, 0, 2, 0, [4 + 1, 0], ZX_ERR_BUFFER_TOO_SMALL],
    ['CallResponseBiggerThanRdNumHandlesReturnsBufferTooSmall', 4, 1, 0, 2, [4, 1], ZX_ERR_BUFFER_TOO_SMALL],
    ['CallBytesFitIsOk', 8, 0, 5, 0, [4 + 5, 0], ZX_OK],
    ['CallHandlesFitIsOk', 4, 1, 0, 2, [4, 2], ZX_OK],
    ['CallHandleAndBytesFitsIsOk', 6, 1, 2, 2, [4 + 2, 2], ZX_OK],
  ] as const)('%s', async (_, reqBytes, reqHandles, replyBytes, replyHandles, room, expected) => {
    const [local, remote] = channel();
    const peer = startPeer({ remote });
    const served = peer.do({ serve: 'remote', count: 1, replyBytes, replyHandles });
    const args = { ...request(reqBytes, reqHandles), readNumBytes: room[0], readNumHandles: room[1] };
    const r = await sys.channelCallAsync(local, 0, sys.deadlineAfter(20n * SECOND), args);
    expect(r.status).toBe(expected);
    for (const h of args.handles) expect(isValid(h)).toBe(false); // consumed
    if (expected === ZX_OK) {
      expect([r.actualBytes, r.actualHandles]).toEqual([4 + replyBytes, replyHandles]);
      for (const h of r.handles) expect(basic(h).type).toBe(ZX_OBJ_TYPE_EVENT);
      closeAll(...r.handles);
    } else {
      expect([r.actualBytes, r.actualHandles]).toEqual([4 + replyBytes, replyHandles]);
    }
    expect((await served)[0].txids).toHaveLength(1);
    await peer.exit();
    closeAll(local);
  });

  it('CallPendingTransactionsUseDifferentIds', async () => {
    const CALLS = 20;
    const [local, remote] = channel();
    const peer = startPeer({ remote });
    const served = peer.do({ serve: 'remote', count: CALLS, replyBytes: 0, replyHandles: 0 });
    const calls = Array.from({ length: CALLS }, () =>
      sys.channelCallAsync(local, 0, sys.deadlineAfter(20n * SECOND), {
        bytes: Buffer.alloc(6),
        readNumBytes: 4,
        readNumHandles: 0,
      }),
    );
    for (const r of await Promise.all(calls)) expect(r.status).toBe(ZX_OK);
    const [{ txids }] = await served;
    expect(new Set(txids).size).toBe(CALLS);
    await peer.exit();
    closeAll(local);
  });

  it('CallDeadlineExceededReturnsTimedOut', () => {
    const [local, remote] = channel();
    const r = sys.channelCall(local, 0, ZX_TIME_INFINITE_PAST, {
      bytes: Buffer.alloc(6),
      readNumBytes: 4,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_ERR_TIMED_OUT);
    closeAll(local, remote);
  });

  it('CallConsumesHandlesOnSuccess', async () => {
    const [local, remote] = channel();
    const peer = startPeer({ remote });
    const served = peer.do({ serve: 'remote', count: 1, replyBytes: 0, replyHandles: 0 });
    const args = { ...request(4, 2), readNumBytes: 4, readNumHandles: 0 };
    expect((await sys.channelCallAsync(local, 0, sys.deadlineAfter(20n * SECOND), args)).status).toBe(ZX_OK);
    for (const h of args.handles) expect(sys.handleClose(h)).toBe(ZX_ERR_BAD_HANDLE);
    await served;
    await peer.exit();
    closeAll(local);
  });

  it('CallConsumesHandlesOnError', () => {
    const [local, remote] = channel();
    closeAll(remote);
    const args = { ...request(4, 2), readNumBytes: 4, readNumHandles: 0 };
    expect(sys.channelCall(local, 0, ZX_TIME_INFINITE, args).status).toBe(ZX_ERR_PEER_CLOSED);
    expect(args.handles).toHaveLength(2);
    for (const h of args.handles) expect(sys.handleClose(h)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(local);
  });

  it('CallNotifiedOnPeerClosed', async () => {
    const [local, remote] = channel();
    const peer = startPeer({ remote });
    const closed = peer.do({ awaitReadable: 'remote' }, { close: 'remote' });
    const r = await sys.channelCallAsync(local, 0, ZX_TIME_INFINITE, {
      bytes: Buffer.alloc(4),
      readNumBytes: 4,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_ERR_PEER_CLOSED);
    expect(await closed).toEqual([ZX_OK, ZX_OK]);
    await peer.exit();
    closeAll(local);
  });
});

describe('ChannelTest: nesting, handle infos, sizes', () => {
  it('NestingIsOk', () => {
    const NESTED = 200;
    const pairs = Array.from({ length: NESTED }, channel);
    for (let i = NESTED - 1; i > 0; i--) expect(sys.channelWrite(pairs[i - 1][0], 0, null, pairs[i])).toBe(ZX_OK);
    expect(isValid(pairs[0][0]) && isValid(pairs[0][1])).toBe(true);
    closeAll(...pairs[0]);
  });

  it('ReadEtcHandleInfoValidation (events)', () => {
    const [local, remote] = channel();
    const e = event();
    const fewer = sys.handleDuplicate(e, ZX_RIGHTS_BASIC & ~ZX_RIGHT_WAIT);
    expect(fewer.status).toBe(ZX_OK);
    expect(sys.channelWrite(local, 0, null, [e, fewer.out])).toBe(ZX_OK);
    const r = sys.channelReadEtc(remote, 0, 0, 4);
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, 0, 2]);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual([
      { type: ZX_OBJ_TYPE_EVENT, rights: ZX_DEFAULT_EVENT_RIGHTS },
      { type: ZX_OBJ_TYPE_EVENT, rights: ZX_RIGHTS_BASIC & ~ZX_RIGHT_WAIT },
    ]);
    closeAll(local, remote, ...r.handles.map((info) => info.handle));
  });

  it('ReadAndWriteWithMultipleSizes', () => {
    const [local, remote] = channel();
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let i = 0; i < 1000; i++) {
      const numBytes = random() % ZX_CHANNEL_MAX_MSG_BYTES;
      const numHandles = random() % ZX_CHANNEL_MAX_MSG_HANDLES;
      const data = Buffer.alloc(numBytes);
      if (numBytes > 0) data[0] = i % 255;
      const handles = Array.from({ length: numHandles }, event);
      expect(sys.channelWrite(local, 0, data, handles)).toBe(ZX_OK);
      const r = sys.channelRead(remote, 0, numBytes, numHandles);
      expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, numBytes, numHandles]);
      if (numBytes > 0) expect(r.bytes[0]).toBe(data[0]);
      if (numHandles > 0) closeAll(...r.handles);
    }
    closeAll(local, remote);
  });
});

describe('ChannelWriteEtcTest', () => {
  const DATA_ETC = Buffer.from([0xfe, 0xca, 0xad, 0xba]); // kChannelData, 0xbaadcafe
  const OPS = [
    ['MOVE', ZX_HANDLE_OP_MOVE, ZX_ERR_BAD_HANDLE],
    ['DUPLICATE', ZX_HANDLE_OP_DUPLICATE, ZX_OK],
  ] as const;
  const entry = (operation: number, handle: number, type = ZX_OBJ_TYPE_NONE, rights = ZX_RIGHT_SAME_RIGHTS) => ({
    operation,
    handle,
    type,
    rights,
    result: ZX_OK,
  });

  it('MultipleHandlesSomeInvalidResultsReportedCorrectly', () => {
    const [local, remote] = channel();
    const [argLocal, argRemote] = channel();
    const [s0, s1] = socketPair();
    const e = event();
    const list = [
      entry(ZX_HANDLE_OP_MOVE, s0, ZX_OBJ_TYPE_PORT),
      entry(ZX_HANDLE_OP_MOVE, s1),
      entry(ZX_HANDLE_OP_DUPLICATE, argLocal),
      entry(ZX_HANDLE_OP_MOVE, e),
    ];
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, list)).toBe(ZX_ERR_WRONG_TYPE);
    expect(list.map((d) => d.result)).toEqual([ZX_ERR_WRONG_TYPE, ZX_OK, ZX_ERR_ACCESS_DENIED, ZX_OK]);
    expect(sys.handleClose(argLocal)).toBe(ZX_OK);
    closeAll(local, remote, argRemote);
  });

  it('ImproperlyInitalizedResultsArgReportedBackAsOriginallyInitalized', () => {
    const [local, remote] = channel();
    const list = [{ ...entry(ZX_HANDLE_OP_MOVE, event()), result: ZX_ERR_WRONG_TYPE }];
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, list)).toBe(ZX_OK);
    expect(list[0].result).toBe(ZX_ERR_WRONG_TYPE);
    const r = readOne(remote);
    closeAll(local, remote, ...r.handles);
  });

  it('FailureDoesNotResultInReceivedPacket', () => {
    const [local, remote] = channel();
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(ZX_HANDLE_OP_MOVE, event(), ZX_OBJ_TYPE_SOCKET)])).toBe(
      ZX_ERR_WRONG_TYPE,
    );
    expect(sys.channelRead(remote, 0, 4, 1).status).toBe(ZX_ERR_SHOULD_WAIT);
    closeAll(local, remote);
  });

  it.each(OPS)('SentHandleReferrsToSameObject (%s)', (_, op, closeResult) => {
    const [local, remote] = channel();
    const e = event();
    const before = basic(e);
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, e)])).toBe(ZX_OK);
    expect(sys.handleClose(e)).toBe(closeResult);
    const r = readOne(remote, 4, 1);
    const after = basic(r.handles[0]);
    expect([after.koid, after.rights, after.type]).toEqual([before.koid, before.rights, before.type]);
    closeAll(local, remote, r.handles[0]);
  });

  it.each([0xffffffff, 2])('InvalidOpArgShouldFail (op %d)', (op) => {
    const [s0, s1] = socketPair();
    const [local, remote] = channel();
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0)])).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.handleClose(s0)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(s1, local, remote);
  });

  it.each(OPS)('HandleArgNotAChannelHandleShouldFail (%s)', (_, op, closeResult) => {
    const [s0, s1] = socketPair();
    expect(sys.channelWriteEtc(s0, 0, DATA_ETC, [entry(op, s1)])).toBe(ZX_ERR_WRONG_TYPE);
    expect(sys.handleClose(s0)).toBe(ZX_OK);
    expect(sys.handleClose(s1)).toBe(closeResult);
  });

  it.each(OPS)('ChannelHandleNotValidShouldFail (%s)', (_, op, closeResult) => {
    const [s0, s1] = socketPair();
    const [local, remote] = channel();
    closeAll(local);
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0)])).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(s0)).toBe(closeResult);
    closeAll(s1, remote);
  });

  it.each(OPS)('ChannelHandleWithoutWriteRightShouldFail (%s)', (_, op, closeResult) => {
    const [s0, s1] = socketPair();
    const [local, remote] = channel();
    const noWrite = sys.handleReplace(local, basic(local).rights & ~ZX_RIGHT_WRITE).out;
    expect(sys.channelWriteEtc(noWrite, 0, DATA_ETC, [entry(op, s0)])).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleClose(s0)).toBe(closeResult);
    closeAll(s1, noWrite, remote);
  });

  it.each(OPS)('HandleWithoutTransferRightShouldFail (%s)', (_, op, closeResult) => {
    const [s0, s1] = socketPair();
    const [local, remote] = channel();
    const noTransfer = sys.handleReplace(s0, basic(s0).rights & ~ZX_RIGHT_TRANSFER).out;
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, noTransfer)])).toBe(ZX_ERR_ACCESS_DENIED);
    expect(sys.handleClose(noTransfer)).toBe(closeResult);
    closeAll(s1, local, remote);
  });

  it('InvalidHandleInTransferredHandlesShouldFail', () => {
    const [s0, s1] = socketPair();
    closeAll(s0);
    for (const bad of [s0, ZX_HANDLE_INVALID, 0xffffffff]) {
      const [local, remote] = channel();
      expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(ZX_HANDLE_OP_DUPLICATE, bad)])).toBe(ZX_ERR_BAD_HANDLE);
      closeAll(local, remote);
    }
    closeAll(s1);
  });

  it('RepeatedHandlesWithOpMoveHandlesShouldFail', () => {
    const [local, remote] = channel();
    const [s0, s1] = socketPair();
    const list = [entry(ZX_HANDLE_OP_MOVE, s0), entry(ZX_HANDLE_OP_MOVE, s0)];
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, list)).toBe(ZX_ERR_BAD_HANDLE);
    expect(sys.handleClose(s0)).toBe(ZX_ERR_BAD_HANDLE);
    closeAll(local, remote, s1);
  });

  it.each(OPS)('DuplicateHandlesInTransferredHandlesShouldSucceed (%s)', (_, op, closeResult) => {
    const [local, remote] = channel();
    const [s0, s1] = socketPair();
    const dup = sys.handleDuplicate(s0, ZX_RIGHT_SAME_RIGHTS).out;
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0), entry(op, dup)])).toBe(ZX_OK);
    expect(sys.handleClose(s0)).toBe(closeResult);
    expect(sys.handleClose(dup)).toBe(closeResult);
    const r = readOne(remote);
    closeAll(local, remote, s1, ...r.handles);
  });

  it.each(OPS)('HandleDoesNotMatchTypeShouldFail (%s, every type but SOCKET and NONE)', (_, op, closeResult) => {
    for (let type = 0; type < 256; type++) {
      if (type === ZX_OBJ_TYPE_SOCKET || type === ZX_OBJ_TYPE_NONE) continue;
      const [local, remote] = channel();
      const [s0, s1] = socketPair();
      expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0, type)])).toBe(ZX_ERR_WRONG_TYPE);
      expect(sys.handleClose(s0)).toBe(closeResult);
      closeAll(local, remote, s1);
    }
  });

  it.each(OPS)('OptionsArgNonZeroShouldFail (%s)', (_, op, closeResult) => {
    const [local, remote] = channel();
    const [s0, s1] = socketPair();
    expect(sys.channelWriteEtc(local, 1, DATA_ETC, [entry(op, s0)])).toBe(ZX_ERR_INVALID_ARGS);
    expect(sys.handleClose(s0)).toBe(closeResult);
    closeAll(local, remote, s1);
  });

  it.each(OPS)('ChannelHandleInTransferredHandlesShouldFail (%s)', (_, op, closeResult) => {
    const [local, remote] = channel();
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, local)])).toBe(ZX_ERR_NOT_SUPPORTED);
    expect(sys.handleClose(local)).toBe(closeResult);
    expect(sys.handleClose(remote)).toBe(ZX_OK);
  });

  it.each(OPS)('OppositeChannelEndClosedShouldFail (%s)', (_, op, closeResult) => {
    const [local, remote] = channel();
    const [s0, s1] = socketPair();
    closeAll(remote);
    expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0)])).toBe(ZX_ERR_PEER_CLOSED);
    expect(sys.handleClose(s0)).toBe(closeResult);
    closeAll(local, s1);
  });

  it.each(OPS)('HandleCountBoundaryChecks (%s)', (_, op) => {
    for (const [count, expected] of [
      [0, ZX_OK],
      [ZX_CHANNEL_MAX_MSG_HANDLES, ZX_OK],
      [ZX_CHANNEL_MAX_MSG_HANDLES + 1, ZX_ERR_OUT_OF_RANGE],
    ]) {
      const [local, remote] = channel();
      const events = Array.from({ length: count }, event);
      expect(
        sys.channelWriteEtc(
          local,
          0,
          DATA_ETC,
          events.map((e) => entry(op, e)),
        ),
      ).toBe(expected);
      for (const e of events)
        expect(sys.handleClose(e)).toBe(op === ZX_HANDLE_OP_DUPLICATE ? ZX_OK : ZX_ERR_BAD_HANDLE);
      if (expected === ZX_OK) {
        const r = readOne(remote);
        if (r.handles.length > 0) closeAll(...r.handles);
      }
      closeAll(local, remote);
    }
  });

  it('HandleCountAndDataCountBothZeroShouldSucceed', () => {
    const [local, remote] = channel();
    expect(sys.channelWriteEtc(local, 0, null, null)).toBe(ZX_OK);
    closeAll(local, remote);
  });

  it('ByteCountIsMaxShouldSucceed / ByteCountIsMaxPlusOneShouldFail', () => {
    const [local, remote] = channel();
    expect(sys.channelWriteEtc(local, 0, Buffer.alloc(ZX_CHANNEL_MAX_MSG_BYTES), null)).toBe(ZX_OK);
    expect(sys.channelWriteEtc(local, 0, Buffer.alloc(ZX_CHANNEL_MAX_MSG_BYTES + 1), null)).toBe(ZX_ERR_OUT_OF_RANGE);
    closeAll(local, remote);
  });

  it.each(OPS)('RemoveAllHandleRights / RemovingSomeHandleRights / SameHandleRights* (%s)', (_, op, closeResult) => {
    for (const reduce of [() => 0, (r: number) => r & ~ZX_RIGHT_WRITE, (r: number) => r, () => ZX_RIGHT_SAME_RIGHTS]) {
      const [local, remote] = channel();
      const [s0, s1] = socketPair();
      const before = basic(s0).rights;
      const rights = reduce(before);
      expect(sys.channelWriteEtc(local, 0, DATA_ETC, [entry(op, s0, ZX_OBJ_TYPE_NONE, rights)])).toBe(ZX_OK);
      if (op === ZX_HANDLE_OP_DUPLICATE) expect(basic(s0).rights).toBe(before);
      expect(sys.handleClose(s0)).toBe(closeResult);
      const r = readOne(remote, 4, 1);
      const after = basic(r.handles[0]);
      expect([after.type, after.rights]).toEqual([
        ZX_OBJ_TYPE_SOCKET,
        rights === ZX_RIGHT_SAME_RIGHTS ? before : rights,
      ]);
      closeAll(local, remote, s1, r.handles[0]);
    }
  });
});

describe('IOVecTest (ZX_CHANNEL_WRITE_USE_IOVEC; the echo server in another process)', () => {
  /** `count` iovecs of `size` bytes, iovec i filled with i + i / 256 (as a byte). */
  const iovecs = (count: number, size: number) =>
    Array.from({ length: count }, (_, i) => Buffer.alloc(size, (i + Math.floor(i / 256)) & 0xff));

  it('WriteZeroIovecs', () => {
    const [readCh, writeCh] = channel();
    expect(sys.channelWrite(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, [], null)).toBe(ZX_OK);
    const r = readOne(readCh, 0, 0);
    expect([r.actualBytes, r.actualHandles]).toEqual([0, 0]);
    closeAll(readCh, writeCh);
  });

  it.each([
    ['WriteFewLargeIovecs', 3, 8000],
    ['WriteManySmallIovecs', 1000, 10],
  ])('%s', (_, count, size) => {
    const [readCh, writeCh] = channel();
    const inputs = iovecs(count, size);
    expect(sys.channelWrite(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, inputs, null)).toBe(ZX_OK);
    const r = readOne(readCh, 65536, 0);
    expect([r.actualBytes, r.actualHandles]).toEqual([count * size, 0]);
    expect(r.bytes).toEqual(Buffer.concat(inputs));
    closeAll(readCh, writeCh);
  });

  it('WriteWithHandle / WriteEtcWithHandle', () => {
    const [readCh, writeCh] = channel();
    expect(sys.channelWrite(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, [Buffer.alloc(8)], [event()])).toBe(ZX_OK);
    const etc = [
      {
        operation: ZX_HANDLE_OP_MOVE,
        handle: event(),
        type: ZX_OBJ_TYPE_EVENT,
        rights: ZX_RIGHT_SAME_RIGHTS,
        result: ZX_OK,
      },
    ];
    expect(sys.channelWriteEtc(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, [Buffer.alloc(8)], etc)).toBe(ZX_OK);
    for (let i = 0; i < 2; i++) {
      const r = readOne(readCh, 8, 1);
      expect([r.actualBytes, r.bytes, r.actualHandles]).toEqual([8, Buffer.alloc(8), 1]);
      expect(isValid(r.handles[0])).toBe(true);
      closeAll(r.handles[0]);
    }
    closeAll(readCh, writeCh);
  });

  it.each([
    ['WriteTooManyIovecs', 9000, 1],
    ['WriteTooManyBytes', 1000, 100],
  ])('%s / Call%s', (_, count, size) => {
    const [readCh, writeCh] = channel();
    expect(sys.channelWrite(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, iovecs(count, size), null)).toBe(ZX_ERR_OUT_OF_RANGE);
    const call = sys.channelCallEtc(writeCh, ZX_CHANNEL_WRITE_USE_IOVEC, ZX_TIME_INFINITE, {
      bytes: iovecs(count, size),
      handles: null,
      readNumBytes: 0,
      readNumHandles: 0,
    });
    expect(call.status).toBe(ZX_ERR_OUT_OF_RANGE);
    closeAll(readCh, writeCh);
  });

  it('CallIovecBytesLessThanTxidSize', () => {
    const [client, server] = channel();
    const r = sys.channelCall(client, ZX_CHANNEL_WRITE_USE_IOVEC, ZX_TIME_INFINITE, {
      bytes: [Buffer.alloc(3)],
      readNumBytes: 0,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_ERR_INVALID_ARGS);
    closeAll(client, server);
  });

  it.each([
    ['CallFewLargeIovecs', 3, 8000],
    ['CallManySmallIovecs', 1000, 10],
  ])('%s', async (_, count, size) => {
    const [client, server] = channel();
    const peer = startPeer({ server });
    const echoed = peer.do({ echo: 'server' });
    const inputs = iovecs(count, size);
    const r = await sys.channelCallAsync(client, ZX_CHANNEL_WRITE_USE_IOVEC, ZX_TIME_INFINITE, {
      bytes: inputs,
      readNumBytes: count * size,
      readNumHandles: 0,
    });
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, count * size, 0]);
    expect(r.bytes.subarray(4)).toEqual(Buffer.concat(inputs).subarray(4));
    expect(await echoed).toEqual([ZX_OK]);
    await peer.exit();
    closeAll(client);
  });

  it.each([
    ['CallWithHandle', false],
    ['CallEtcWithHandle', true],
  ])('%s', async (_, etc) => {
    const [client, server] = channel();
    const peer = startPeer({ server });
    const echoed = peer.do({ echo: 'server' });
    const e = event();
    const args = { bytes: [Buffer.alloc(8)], readNumBytes: 8, readNumHandles: 1 };
    const r = etc
      ? await sys.channelCallEtcAsync(client, ZX_CHANNEL_WRITE_USE_IOVEC, ZX_TIME_INFINITE, {
          ...args,
          handles: [
            {
              operation: ZX_HANDLE_OP_MOVE,
              handle: e,
              type: ZX_OBJ_TYPE_EVENT,
              rights: ZX_RIGHT_SAME_RIGHTS,
              result: ZX_OK,
            },
          ],
        })
      : await sys.channelCallAsync(client, ZX_CHANNEL_WRITE_USE_IOVEC, ZX_TIME_INFINITE, { ...args, handles: [e] });
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, 8, 1]);
    expect(r.bytes.subarray(4)).toEqual(Buffer.alloc(4));
    const got = r.handles[0] as number | { handle: number; type: number };
    const h = typeof got === 'number' ? got : got.handle;
    if (typeof got !== 'number') expect(got.type).toBe(ZX_OBJ_TYPE_EVENT);
    expect(basic(h).type).toBe(ZX_OBJ_TYPE_EVENT);
    expect(await echoed).toEqual([ZX_OK]);
    await peer.exit();
    closeAll(client, h);
  });
});

describe('ChannelCallEtcTest (the echo server in another process)', () => {
  const move = (handle: number, type = ZX_OBJ_TYPE_NONE, rights = ZX_RIGHT_SAME_RIGHTS) => ({
    operation: ZX_HANDLE_OP_MOVE,
    handle,
    type,
    rights,
    result: ZX_OK,
  });
  async function echoCall(bytes: Buffer, handles: ReturnType<typeof move>[], room: [number, number]) {
    const [client, server] = channel();
    const peer = startPeer({ server });
    const echoed = peer.do({ echo: 'server' });
    const r = await sys.channelCallEtcAsync(client, 0, ZX_TIME_INFINITE, {
      bytes,
      handles,
      readNumBytes: room[0],
      readNumHandles: room[1],
    });
    expect(await echoed).toEqual([ZX_OK]);
    await peer.exit();
    closeAll(client);
    return r;
  }

  it('BytesOnlySuccessCase', async () => {
    const request = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const r = await echoCall(request, [], [512, 0]);
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, 512, 0]);
    expect(r.bytes.subarray(4)).toEqual(request.subarray(4));
  });

  it('HandlesSuccessCase', async () => {
    const events = [event(), event()];
    const infos = events.map(basic);
    const r = await echoCall(
      Buffer.alloc(4),
      events.map((e) => move(e)),
      [4, 2],
    );
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, 4, 2]);
    expect(r.handles.map(({ type, rights }) => ({ type, rights }))).toEqual(
      infos.map(({ type, rights }) => ({ type, rights })),
    );
    closeAll(...r.handles.map((info) => info.handle));
  });

  it('ReducedRightsSuccessCase', async () => {
    const r = await echoCall(Buffer.alloc(4), [move(event(), ZX_OBJ_TYPE_EVENT, ZX_RIGHT_TRANSFER)], [4, 1]);
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, 4, 1]);
    expect([r.handles[0].type, r.handles[0].rights]).toEqual([ZX_OBJ_TYPE_EVENT, ZX_RIGHT_TRANSFER]);
    closeAll(r.handles[0].handle);
  });

  it.each([
    ['IncreasedRightsFailureCase', ZX_OBJ_TYPE_EVENT, ZX_RIGHT_TRANSFER | ZX_RIGHT_MANAGE_PROCESS, ZX_ERR_INVALID_ARGS],
    ['WrongObjectTypeFailureCase', ZX_OBJ_TYPE_VMO, ZX_RIGHT_SAME_RIGHTS, ZX_ERR_WRONG_TYPE],
  ])('%s', (_, type, rights, expected) => {
    const [client, server] = channel();
    const e = event();
    const r = sys.channelCallEtc(client, 0, ZX_TIME_INFINITE, {
      bytes: Buffer.alloc(4),
      handles: [move(e, type, rights)],
      readNumBytes: 4,
      readNumHandles: 1,
    });
    expect(r.status).toBe(expected);
    expect(sys.handleClose(e)).toBe(ZX_ERR_BAD_HANDLE); // consumed, as every call's handles
    closeAll(client, server);
  });

  it('BadChannelFailureCase', () => {
    const r = sys.channelCallEtc(ZX_HANDLE_INVALID, 0, ZX_TIME_INFINITE, {
      bytes: Buffer.alloc(4),
      handles: null,
      readNumBytes: 4,
      readNumHandles: 0,
    });
    expect(r.status).toBe(ZX_ERR_BAD_HANDLE);
  });
});

describe('HandleTransferTest', () => {
  const MESSAGE = [0, 1, 2];

  it('OverChannelThenRead', () => {
    const [aClient, aRemote] = channel();
    const [bClient, bRemote] = channel();
    expect(sys.channelWrite(aClient, 0, Buffer.from([MESSAGE[0]]), null)).toBe(ZX_OK);
    expect(sys.channelWrite(bClient, 0, null, [aRemote])).toBe(ZX_OK);
    expect(sys.channelWrite(aClient, 0, Buffer.from([MESSAGE[1]]), null)).toBe(ZX_OK);
    const moved = readOne(bRemote, 0, 1);
    expect(moved.actualHandles).toBe(1);
    const a = moved.handles[0];
    expect(isValid(a)).toBe(true);
    expect(sys.channelWrite(aClient, 0, Buffer.from([MESSAGE[2]]), null)).toBe(ZX_OK);
    for (const byte of MESSAGE) {
      const r = readOne(a, 1, 0);
      expect([r.actualHandles, r.bytes[0]]).toEqual([0, byte]);
    }
    closeAll(aClient, bClient, bRemote, a);
  });

  it('OverChannelThenRead (read in another process)', async () => {
    const [aClient, aRemote] = channel();
    const [bClient, bRemote] = channel();
    const peer = startPeer({ bRemote });
    expect(sys.channelWrite(aClient, 0, Buffer.from('0'), null)).toBe(ZX_OK);
    expect(sys.channelWrite(bClient, 0, null, [aRemote])).toBe(ZX_OK);
    expect(sys.channelWrite(aClient, 0, Buffer.from('1'), null)).toBe(ZX_OK);
    const received = await peer.request({ op: 'receive', from: 'bRemote', names: ['a'] });
    expect([received.status, received.handles.length]).toEqual([ZX_OK, 1]);
    expect(sys.channelWrite(aClient, 0, Buffer.from('2'), null)).toBe(ZX_OK);
    expect(await peer.do({ read: 'a' }, { read: 'a' }, { read: 'a' })).toEqual(
      ['0', '1', '2'].map((text) => ({ status: ZX_OK, text })),
    );
    await peer.exit();
    closeAll(aClient, bClient);
  });

  it('CancelsWait (the waiter a worker thread)', async () => {
    const [a0, a1] = channel();
    const [b0, b1] = channel();
    const waiter = inWorker(
      `parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       parentPort.postMessage(sys.objectWaitOne(workerData.h, zx.ZX_CHANNEL_PEER_CLOSED, zx.ZX_TIME_INFINITE).status);`,
      { h: a0 },
    );
    // Once the worker is blocked in the wait, send a0 through b and take it out again.
    const tid: number = await waiter.message;
    await until(() => blockedInPoll(tid), 'the worker to block in its wait');
    expect(sys.channelWrite(b0, 0, null, [a0])).toBe(ZX_OK);
    const r = readOne(b1, 0, 1);
    expect(r.actualHandles).toBe(1);
    expect(await waiter.exited).toBe(0);
    expect(waiter.messages).toEqual([tid, ZX_ERR_CANCELED]);
    closeAll(a1, b0, b1, r.handles[0]);
  });
});
