#include "core/wire_format.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "core/platform.h"

namespace zxc {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian");

void EncodeRecordPrefix(uint8_t* out, uint32_t num_bytes, const WireHandle* handles,
                        uint16_t num_handles) {
  WireHeader header{kWireMagic, kWireVersion, num_handles, num_bytes, 0};
  std::memcpy(out, &header, sizeof header);
  if (num_handles) std::memcpy(out + sizeof header, handles, num_handles * sizeof(WireHandle));
}

bool PeekHeader(const uint8_t* data, size_t length, WireHeader* out) {
  if (length < sizeof(WireHeader)) return false;
  std::memcpy(out, data, sizeof *out);
  return out->magic == kWireMagic && out->version == kWireVersion && out->flags == 0 &&
         out->num_bytes <= kMaxMsgBytes && out->num_handles <= kMaxMsgHandles;
}

zx_status_t ParseRecord(const uint8_t* data, size_t length, ParsedRecord* out) {
  if (!PeekHeader(data, length, &out->header)) return ZX_ERR_IO_DATA_INTEGRITY;
  const WireHeader& h = out->header;
  if (length != RecordPrefixSize(h.num_handles) + h.num_bytes) return ZX_ERR_IO_DATA_INTEGRITY;
  out->handle_table = data + sizeof(WireHeader);
  out->payload = data + RecordPrefixSize(h.num_handles);
  return ZX_OK;
}

WireHandle HandleEntryAt(const ParsedRecord& record, size_t index) {
  WireHandle entry;
  std::memcpy(&entry, record.handle_table + index * sizeof(WireHandle), sizeof entry);
  return entry;
}

bool IsConnectedUnixSocket(int fd, int type) {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0 || value != type) return false;
  // The peer's address says both: its family is the socket's domain, and a socket that is
  // not connected (listening, or never connected) has none (ENOTCONN).
  sockaddr_un peer;
  len = sizeof peer;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
         peer.sun_family == AF_UNIX;
}

bool IsConnectedChannelSocket(int fd) { return IsConnectedUnixSocket(fd, ChannelSocketType()); }

}  // namespace zxc
