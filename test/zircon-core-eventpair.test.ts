// Zircon's own eventpair tests (zircon/system/utest/core/event-pair/event-pair.cc:
// create_test, signal_test, signal_peer_test, signal_peer_closed_test; and
// handle-close/handle-close.cc, HandleCloseTest.*, which closes eventpair ends) through the sys face:
// the same operations and statuses, with one end in another process where the test looks
// at it from the far side (an eventpair end travels as its shared signal words and
// doorbells).
//
// Not portable, and why: nothing is left out.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_ERR_NOT_SUPPORTED,
  ZX_ERR_PEER_CLOSED,
  ZX_EVENTPAIR_PEER_CLOSED,
  ZX_HANDLE_INVALID,
  ZX_OBJ_TYPE_EVENTPAIR,
  ZX_OK,
  ZX_RIGHT_SIGNAL,
  ZX_RIGHT_SIGNAL_PEER,
  ZX_RIGHTS_BASIC,
  ZX_USER_SIGNAL_0,
  ZX_USER_SIGNAL_1,
  ZX_USER_SIGNAL_2,
  ZX_USER_SIGNAL_3,
  ZX_USER_SIGNAL_4,
  ZX_ERR_BAD_HANDLE,
} from '../lib/index';
import { basic, closeAll, signalsOf } from './fixtures/channels';
import { eventpair, keepBaseline } from './fixtures/core';
import { startPeer } from './fixtures/peer';

keepBaseline();

describe('eventpair_tests', () => {
  it('create_test', async () => {
    const [h0, h1] = eventpair();
    expect(h0).not.toBe(ZX_HANDLE_INVALID);
    expect(h1).not.toBe(ZX_HANDLE_INVALID);
    const [a, b] = [basic(h0), basic(h1)];
    for (const info of [a, b]) {
      expect(info.rights).toBe(ZX_RIGHTS_BASIC | ZX_RIGHT_SIGNAL | ZX_RIGHT_SIGNAL_PEER);
      expect(info.type).toBe(ZX_OBJ_TYPE_EVENTPAIR);
      expect(info.koid).not.toBe(0n);
      expect(info.relatedKoid).not.toBe(0n);
    }
    expect([a.koid, b.koid]).toEqual([b.relatedKoid, a.relatedKoid]);
    // The koids hold in another process too.
    const peer = startPeer({ h1 });
    expect(await peer.do({ info: 'h1' })).toEqual([
      { type: ZX_OBJ_TYPE_EVENTPAIR, rights: b.rights, koid: String(b.koid), relatedKoid: String(a.koid) },
    ]);
    expect(await peer.do({ close: 'h1' })).toEqual([ZX_OK]);
    await peer.exit();
    expect(sys.handleClose(h0)).toBe(ZX_OK);

    // No options are supported.
    expect(sys.eventpairCreate(1)).toEqual({
      status: ZX_ERR_NOT_SUPPORTED,
      out0: ZX_HANDLE_INVALID,
      out1: ZX_HANDLE_INVALID,
    });
  });

  it('signal_test (the other end in another process)', async () => {
    const [h0, h1] = eventpair();
    const peer = startPeer({ h1 });
    const far = async () => (await peer.do({ signals: 'h1' }))[0];
    expect(signalsOf(h0)).toBe(0);
    expect(await far()).toBe(0);
    expect(sys.objectSignal(h0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(await far()).toBe(0);
    expect(signalsOf(h0)).toBe(ZX_USER_SIGNAL_0);
    expect(sys.objectSignal(h0, ZX_USER_SIGNAL_0, 0)).toBe(ZX_OK);
    expect(await far()).toBe(0);
    expect(signalsOf(h0)).toBe(0);
    expect(sys.handleClose(h0)).toBe(ZX_OK);
    expect(await far()).toBe(ZX_EVENTPAIR_PEER_CLOSED);
    await peer.exit();
  });

  it('signal_peer_test (the other end in another process)', async () => {
    const [h0, h1] = eventpair();
    const peer = startPeer({ h1 });
    const far = async () => (await peer.do({ signals: 'h1' }))[0];
    expect(sys.objectSignalPeer(h0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_OK);
    expect(signalsOf(h0)).toBe(0);
    expect(await far()).toBe(ZX_USER_SIGNAL_0);

    expect(await peer.do({ signalPeer: 'h1', clear: 0, set: ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2 })).toEqual([ZX_OK]);
    expect(signalsOf(h0)).toBe(ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2);
    expect(await far()).toBe(ZX_USER_SIGNAL_0);

    expect(sys.objectSignalPeer(h0, ZX_USER_SIGNAL_0, ZX_USER_SIGNAL_3 | ZX_USER_SIGNAL_4)).toBe(ZX_OK);
    expect(signalsOf(h0)).toBe(ZX_USER_SIGNAL_1 | ZX_USER_SIGNAL_2);
    expect(await far()).toBe(ZX_USER_SIGNAL_3 | ZX_USER_SIGNAL_4);

    // The signals set stay; PEER_CLOSED joins them.
    expect(sys.handleClose(h0)).toBe(ZX_OK);
    expect(await far()).toBe(ZX_EVENTPAIR_PEER_CLOSED | ZX_USER_SIGNAL_3 | ZX_USER_SIGNAL_4);
    await peer.exit();
  });

  it('signal_peer_closed_test (the other end closed by its process exiting)', async () => {
    const [h0, h1] = eventpair();
    const peer = startPeer({ h1 });
    await peer.exit();
    expect(sys.objectSignalPeer(h0, 0, ZX_USER_SIGNAL_0)).toBe(ZX_ERR_PEER_CLOSED);
    closeAll(h0);
  });
});

describe('HandleCloseTest', () => {
  const COMBOS = 4;
  const peerWasClosed = (h: number) =>
    expect(sys.objectWaitOne(h, ZX_EVENTPAIR_PEER_CLOSED, 0n).observed & ZX_EVENTPAIR_PEER_CLOSED).toBe(
      ZX_EVENTPAIR_PEER_CLOSED,
    );

  it('Many', () => {
    const pairs = Array.from({ length: COMBOS }, eventpair);
    expect(sys.handleCloseMany(pairs.map(([h0]) => h0))).toBe(ZX_OK);
    for (const [, h1] of pairs) peerWasClosed(h1);
    closeAll(...pairs.map(([, h1]) => h1));
  });

  it('ManyInvalidHandlesShouldNotFail', () => {
    const pairs = Array.from({ length: COMBOS }, eventpair);
    expect(sys.handleCloseMany([...pairs.map(([h0]) => h0), ZX_HANDLE_INVALID, ZX_HANDLE_INVALID])).toBe(ZX_OK);
    for (const [, h1] of pairs) peerWasClosed(h1);
    closeAll(...pairs.map(([, h1]) => h1));
  });

  it('ManyDuplicateTest', () => {
    const pairs = Array.from({ length: COMBOS }, eventpair);
    const firsts = pairs.map(([h0]) => h0);
    // The same values twice: BAD_HANDLE, and every handle closed all the same.
    expect(sys.handleCloseMany([firsts[0], firsts[1], ...firsts])).toBe(ZX_ERR_BAD_HANDLE);
    for (const [, h1] of pairs) peerWasClosed(h1);
    closeAll(...pairs.map(([, h1]) => h1));
  });
});
