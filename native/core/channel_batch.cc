// Batched I/O, an extension Zircon lacks (docs/performance.md): many messages written in
// one call and read in one call, with the rules of the single calls for each message. On
// the linux backend one sendmmsg / recvmmsg moves a batch; the portable backend (and
// macOS, which has neither) moves it frame by frame inside the one call.
#include "core/handle_table.h"
#include "core/port.h"
#include "core/syscalls.h"
#include "core/wire_format.h"

namespace zxc {
namespace {

// Messages sent together: no handles, a size channel_write accepts.
bool Plain(const BatchMessage& m) {
  return m.num_dispositions == 0 && m.bytes.iov_len <= kMaxMsgBytes;
}

constexpr size_t kGroup = 256;  // plain messages handed to Endpoint::SendMany at a time

}  // namespace

zx_status_t ChannelWriteMany(zx_handle_t h, uint32_t options, BatchMessage* messages, size_t count,
                             size_t* accepted, bool* above_high_water) {
  *accepted = 0;
  if (options != 0) {
    if (count > 0) ConsumeDispositions(messages[0].dispositions, messages[0].num_dispositions);
    return ZX_ERR_INVALID_ARGS;
  }
  if (count == 0) {  // nothing to write: the handle is still checked, as by a write
    HandleInfo target;
    return HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &target);
  }
  size_t i = 0;
  while (i < count) {
    if (!Plain(messages[i])) {
      // With handles (or too long): taken alone, exactly as a channel_write takes it.
      BatchMessage& m = messages[i];
      zx_status_t status =
          ChannelWriteEtc(h, 0, &m.bytes, 1, m.dispositions, m.num_dispositions, above_high_water);
      if (status != ZX_OK) return status;
      ++*accepted;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < count && end - i < kGroup && Plain(messages[end])) ++end;
    HandleInfo target;
    zx_status_t status =
        HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &target);
    if (status != ZX_OK) return status;
    uint8_t headers[kGroup * sizeof(WireHeader)];
    iovec payloads[kGroup];
    for (size_t k = i; k < end; ++k) {
      payloads[k - i] = messages[k].bytes;
      EncodeRecordPrefix(headers + (k - i) * sizeof(WireHeader),
                         static_cast<uint32_t>(messages[k].bytes.iov_len), nullptr, 0);
    }
    size_t sent = 0;
    ObservedChange change(*target.object);
    auto* endpoint = static_cast<Endpoint*>(target.object.get());
    status = endpoint->SendMany(headers, payloads, end - i, &sent, above_high_water);
    *accepted += sent;
    if (status != ZX_OK) return status;
    i = end;
  }
  return ZX_OK;
}

zx_status_t ChannelReadMany(zx_handle_t h, uint32_t options, size_t max,
                            std::vector<BatchRead>* out) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  if (options != 0) return ZX_ERR_NOT_SUPPORTED;
  if (max == 0 || max > ZX_CHANNEL_READ_MANY_MAX) return ZX_ERR_INVALID_ARGS;
  ObservedChange change(*info.object);
  return static_cast<Endpoint*>(info.object.get())->ReadMany(max, out);
}

}  // namespace zxc
