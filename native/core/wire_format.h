// The record format inside every SOCK_SEQPACKET record (docs/wire-format.md):
//   header (16 bytes) | num_handles × handle entry (24 bytes) | payload (num_bytes)
// The descriptors travel beside it as one SCM_RIGHTS control message, in entry order,
// as many per entry as its type carries (object_kinds.h).
// All fields little-endian. A record is never empty: a 0-byte record reads like EOF.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace zxc {

constexpr uint32_t kWireMagic = 0x4D43585Au;  // bytes "ZXCM"
constexpr uint16_t kWireVersion = 1;

struct WireHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t num_handles;
  uint32_t num_bytes;
  uint32_t flags;  // 0; reserved for control records
};
static_assert(sizeof(WireHeader) == 16, "wire header is 16 bytes");

// Set in a handle entry's type when the object's user signals travel with it: its page and
// doorbell follow its own descriptors (a channel endpoint, socket end or VMO; object_kinds.h).
constexpr uint32_t kWireUserSignals = 0x80000000u;

// Set in a socket end's entry type when it is a DATAGRAM end on a SOCK_STREAM socket, its
// datagrams framed (below): the descriptor alone can't tell it from a STREAM end.
constexpr uint32_t kWireDatagramFrames = 0x40000000u;

struct WireHandle {
  uint32_t type;  // zx_obj_type_t, | kWireUserSignals, | kWireDatagramFrames (a socket)
  uint32_t rights;
  uint64_t koid;
  uint64_t related_koid;
};
static_assert(sizeof(WireHandle) == 24, "wire handle entry is 24 bytes");

constexpr size_t kMaxHandleTable = sizeof(WireHandle) * kMaxMsgHandles;
constexpr size_t kMaxRecordBytes = sizeof(WireHeader) + kMaxHandleTable + kMaxMsgBytes;

constexpr size_t RecordPrefixSize(size_t num_handles) {
  return sizeof(WireHeader) + num_handles * sizeof(WireHandle);
}

// Writes the header and handle table into `out` (RecordPrefixSize(n) bytes).
void EncodeRecordPrefix(uint8_t* out, uint32_t num_bytes, const WireHandle* handles,
                        uint16_t num_handles);

struct ParsedRecord {
  WireHeader header;
  const uint8_t* handle_table;  // num_handles × WireHandle, possibly unaligned
  const uint8_t* payload;
};

// Checks a received record's header and sizes; ZX_ERR_IO_DATA_INTEGRITY on any mismatch.
// (The descriptors are checked against the entries by the receiver: object_kinds.h.)
zx_status_t ParseRecord(const uint8_t* data, size_t length, ParsedRecord* out);

// Reads a header from the first 16 bytes (for the size-only peek); false if malformed.
bool PeekHeader(const uint8_t* data, size_t length, WireHeader* out);

WireHandle HandleEntryAt(const ParsedRecord& record, size_t index);

// A DATAGRAM socket's datagrams where there is no SOCK_SEQPACKET (the portable backend):
// on a SOCK_STREAM socket, each is this header and then its num_bytes, back to back
// (docs/wire-format.md, "Datagram sockets on a stream"; core/datagram_frames.h).
constexpr uint32_t kDatagramMagic = 0x4443585Au;  // bytes "ZXCD"
struct DatagramHeader {
  uint32_t magic;
  uint32_t num_bytes;
};
static_assert(sizeof(DatagramHeader) == 8, "datagram header is 8 bytes");
// The largest datagram, as a SEQPACKET socket end holds (its 256 KiB send buffer less the
// kernel's 32 bytes).
constexpr size_t kMaxDatagramBytes = 256 * 1024 - 32;

// Whether this descriptor can be a channel endpoint: an AF_UNIX socket of the channels'
// type (platform.h: SEQPACKET, or a framed stream) that is connected (its peer may since
// have closed). A listening or never-connected one has no peer and never had one, which no
// endpoint is (docs/objects.md).
bool IsConnectedChannelSocket(int fd);

}  // namespace zxc
