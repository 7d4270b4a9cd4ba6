// The offsets the addon and lib/ share (scratch array, port packet, packed dispositions)
// come from the addon at load: lib/native-layout.ts holds what it exported, they fit the
// message limits of lib/constants.ts, and values land where lib/ reads them.
import { describe, expect, it } from 'vitest';
import {
  sys,
  ZX_CHANNEL_MAX_MSG_BYTES,
  ZX_CHANNEL_MAX_MSG_HANDLES,
  ZX_ERR_BAD_HANDLE,
  ZX_HANDLE_OP_DUPLICATE,
  ZX_OBJ_TYPE_EVENT,
  ZX_OK,
  ZX_RIGHT_DUPLICATE,
  ZX_RIGHT_TRANSFER,
  ZX_RIGHT_WAIT,
} from '../lib/index';
import { native } from '../lib/native';
import * as layout from '../lib/native-layout';
import type { HandleDisposition } from '../lib/sys';
import { baseline, channel, closeAll, expectBaseline, staleHandle } from './fixtures/channels';

const N = ZX_CHANNEL_MAX_MSG_HANDLES;

describe('the layout the addon shares with lib/', () => {
  it('lib/native-layout.ts holds what the addon exported', () => {
    const l = native.layout;
    expect({ ...layout }).toEqual({
      SCRATCH_HANDLES: l.scratchHandles,
      SCRATCH_TYPES: l.scratchTypes,
      SCRATCH_RIGHTS: l.scratchRights,
      SCRATCH_PACKET: l.scratchPacket,
      DISPOSITION_WORDS: l.dispositionWords,
      DISPOSITION_RESULT: l.dispositionResult,
      PACKET_KEY: l.packetKey,
      PACKET_TYPE: l.packetType,
      PACKET_STATUS: l.packetStatus,
      PACKET_USER: l.packetUser,
      PACKET_USER_BYTES: l.packetUserBytes,
      SIGNAL_TRIGGER: l.signalTrigger,
      SIGNAL_OBSERVED: l.signalObserved,
      SIGNAL_COUNT: l.signalCount,
      SIGNAL_TIMESTAMP: l.signalTimestamp,
    });
  });

  it('the scratch array has room for a message of ZX_CHANNEL_MAX_MSG_HANDLES handles, and for a packet', () => {
    const l = native.layout;
    expect([l.scratchHandles, l.scratchTypes, l.scratchRights, l.scratchLength]).toEqual([
      2,
      2 + N,
      2 + 2 * N,
      2 + 3 * N,
    ]);
    expect(native.scratch.length).toBe(l.scratchLength);
    expect(l.scratchPacket + l.packetWords).toBeLessThanOrEqual(l.scratchLength);
    expect(native.receiveBufferBytes).toBeGreaterThan(ZX_CHANNEL_MAX_MSG_BYTES);
  });

  it('a port packet is zx_port_packet_t as uint32 words, and a disposition five words', () => {
    const l = native.layout;
    expect([l.packetWords, l.packetKey, l.packetType, l.packetStatus, l.packetUser, l.packetUserBytes]).toEqual([
      12, 0, 2, 3, 4, 32,
    ]);
    expect([l.signalTrigger, l.signalObserved, l.signalCount, l.signalTimestamp]).toEqual([4, 5, 6, 8]);
    expect([l.dispositionWords, l.dispositionResult]).toEqual([5, 4]);
  });

  it('the last of ZX_CHANNEL_MAX_MSG_HANDLES handles arrives with its type and rights, and each disposition gets its own result', () => {
    const before = baseline();
    const [a, b] = channel();
    const event = sys.eventCreate(0);
    expect(event.status).toBe(ZX_OK);
    // Each entry duplicates the event with rights of its own; the last names no handle.
    const rightsOf = (i: number) => ZX_RIGHT_WAIT | (i % 2 ? ZX_RIGHT_TRANSFER : ZX_RIGHT_DUPLICATE);
    const dispositions: HandleDisposition[] = Array.from({ length: N }, (_, i) => ({
      operation: ZX_HANDLE_OP_DUPLICATE,
      handle: i === N - 1 ? staleHandle() : event.out,
      type: ZX_OBJ_TYPE_EVENT,
      rights: rightsOf(i),
      result: ZX_OK,
    }));
    expect(sys.channelWriteEtc(a, 0, Buffer.alloc(ZX_CHANNEL_MAX_MSG_BYTES, 7), dispositions)).toBe(ZX_ERR_BAD_HANDLE);
    expect(dispositions.map((d) => d.result)).toEqual([...Array(N - 1).fill(ZX_OK), ZX_ERR_BAD_HANDLE]);

    dispositions[N - 1].handle = event.out;
    expect(sys.channelWriteEtc(a, 0, Buffer.alloc(ZX_CHANNEL_MAX_MSG_BYTES, 7), dispositions)).toBe(ZX_OK);
    const r = sys.channelReadEtc(b, 0, ZX_CHANNEL_MAX_MSG_BYTES, N);
    expect([r.status, r.actualBytes, r.actualHandles]).toEqual([ZX_OK, ZX_CHANNEL_MAX_MSG_BYTES, N]);
    expect(r.handles.map((h) => [h.type, h.rights])).toEqual(
      Array.from({ length: N }, (_, i) => [ZX_OBJ_TYPE_EVENT, rightsOf(i)]),
    );
    expect(new Set(r.handles.map((h) => h.handle)).size).toBe(N);
    closeAll(a, b, event.out, ...r.handles.map((h) => h.handle));
    expectBaseline(before);
  });
});
