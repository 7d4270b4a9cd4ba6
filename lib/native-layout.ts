// Where the addon leaves or finds each value in the uint32 words it shares with lib/: the
// scratch array, a port packet, packed dispositions. The addon exports the offsets at load
// (native/binding/layout_js.cc); they are read here once, into plain constants.
import { native } from './native';

const layout = native.layout;

/** scratch[SCRATCH_HANDLES + i]: a read's handle i (then its type, its rights). */
export const SCRATCH_HANDLES = layout.scratchHandles;
export const SCRATCH_TYPES = layout.scratchTypes;
export const SCRATCH_RIGHTS = layout.scratchRights;
/** Where portWait (and portWaitAsync settled at once) leaves the packet's words. */
export const SCRATCH_PACKET = layout.scratchPacket;

/** A packed disposition's words: operation, handle, type, rights, result (filled by the addon). */
export const DISPOSITION_WORDS = layout.dispositionWords;
export const DISPOSITION_RESULT = layout.dispositionResult;

/** zx_port_packet_t as uint32 words: the key (two words, low first), type, status, then
 *  the user bytes or the signal (its count and timestamp two words each, low first). */
export const PACKET_KEY = layout.packetKey;
export const PACKET_TYPE = layout.packetType;
export const PACKET_STATUS = layout.packetStatus;
export const PACKET_USER = layout.packetUser;
export const PACKET_USER_BYTES = layout.packetUserBytes;
export const SIGNAL_TRIGGER = layout.signalTrigger;
export const SIGNAL_OBSERVED = layout.signalObserved;
export const SIGNAL_COUNT = layout.signalCount;
export const SIGNAL_TIMESTAMP = layout.signalTimestamp;
