// zx_channel_create / write / write_etc / read, with Zircon's order of checks.
#include <cstring>
#include <vector>

#include "core/handle_table.h"
#include "core/syscalls.h"
#include "core/wire_format.h"

namespace zxc {
namespace {

bool RightsSubset(zx_rights_t wanted, zx_rights_t have) {
  return wanted == ZX_RIGHT_SAME_RIGHTS || (wanted & ~have) == 0;
}

// One disposition entry, as zx_channel_write_etc treats it (reference §4.3).
zx_status_t TakeForTransfer(HandleDisposition& d, const Object* target, HandleInfo* out) {
  HandleTable& table = HandleTable::Get();
  const bool duplicate = d.operation == ZX_HANDLE_OP_DUPLICATE;
  HandleInfo info;
  zx_status_t status = duplicate ? table.Lookup(d.handle, &info) : table.Remove(d.handle, &info);
  if (status != ZX_OK) return status;
  if (!duplicate && d.operation != ZX_HANDLE_OP_MOVE) return ZX_ERR_INVALID_ARGS;
  if (!(info.rights & ZX_RIGHT_TRANSFER)) return ZX_ERR_ACCESS_DENIED;
  if (info.object.get() == target) return ZX_ERR_NOT_SUPPORTED;
  if (d.type != ZX_OBJ_TYPE_NONE && d.type != info.object->type()) return ZX_ERR_WRONG_TYPE;
  if (!RightsSubset(d.rights, info.rights)) return ZX_ERR_INVALID_ARGS;
  if (duplicate && !(info.rights & ZX_RIGHT_DUPLICATE)) return ZX_ERR_ACCESS_DENIED;
  if (d.rights != ZX_RIGHT_SAME_RIGHTS) info.rights = d.rights;
  *out = std::move(info);
  return ZX_OK;
}

}  // namespace

zx_status_t ChannelCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1) {
  *out0 = *out1 = ZX_HANDLE_INVALID;
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  EndpointRef e0, e1;
  zx_status_t status = Endpoint::CreatePair(&e0, &e1);
  if (status != ZX_OK) return status;
  HandleTable& table = HandleTable::Get();
  zx_handle_t h0 = table.Add(e0, ZX_DEFAULT_CHANNEL_RIGHTS);
  zx_handle_t h1 = h0 ? table.Add(e1, ZX_DEFAULT_CHANNEL_RIGHTS) : ZX_HANDLE_INVALID;
  if (!h1) {
    HandleInfo gone;
    if (h0) table.Remove(h0, &gone);
    return ZX_ERR_NO_RESOURCES;
  }
  *out0 = h0;
  *out1 = h1;
  return ZX_OK;
}

void ConsumeDispositions(const HandleDisposition* dispositions, size_t count) {
  HandleTable& table = HandleTable::Get();
  for (size_t i = 0; i < count; ++i) {
    if (dispositions[i].operation == ZX_HANDLE_OP_DUPLICATE) continue;
    HandleInfo gone;
    table.Remove(dispositions[i].handle, &gone);
  }
}

zx_status_t ChannelWriteEtc(zx_handle_t h, uint32_t options, const iovec* payload,
                            size_t payload_count, HandleDisposition* dispositions,
                            size_t num_dispositions) {
  auto fail = [&](zx_status_t status) {
    ConsumeDispositions(dispositions, num_dispositions);
    return status;
  };
  if (options & ~ZX_CHANNEL_WRITE_USE_IOVEC) return fail(ZX_ERR_INVALID_ARGS);
  HandleInfo target;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &target);
  if (status != ZX_OK) return fail(status);
  if ((options & ZX_CHANNEL_WRITE_USE_IOVEC) && payload_count > ZX_CHANNEL_MAX_MSG_IOVECS)
    return fail(ZX_ERR_OUT_OF_RANGE);
  uint64_t num_bytes = 0;
  for (size_t i = 0; i < payload_count; ++i) num_bytes += payload[i].iov_len;
  if (num_bytes > kMaxMsgBytes || num_dispositions > kMaxMsgHandles)
    return fail(ZX_ERR_OUT_OF_RANGE);

  // Every entry is processed; the first failure is latched and returned.
  std::vector<ObjectRef> carried;
  carried.reserve(num_dispositions);
  WireHandle entries[kMaxMsgHandles];
  zx_status_t first_error = ZX_OK;
  for (size_t i = 0; i < num_dispositions; ++i) {
    HandleInfo moved;
    zx_status_t result = TakeForTransfer(dispositions[i], target.object.get(), &moved);
    if (result != ZX_OK) {
      dispositions[i].result = result;
      if (first_error == ZX_OK) first_error = result;
      continue;
    }
    const Object& object = *moved.object;
    entries[carried.size()] = WireHandle{object.type(), moved.rights, object.koid(),
                                         object.related_koid()};
    carried.push_back(std::move(moved.object));
  }
  if (first_error != ZX_OK) return first_error;  // moved objects are released here

  uint8_t prefix[RecordPrefixSize(kMaxMsgHandles)];
  const size_t prefix_size = RecordPrefixSize(carried.size());
  EncodeRecordPrefix(prefix, static_cast<uint32_t>(num_bytes), entries,
                     static_cast<uint16_t>(carried.size()));
  auto* endpoint = static_cast<Endpoint*>(target.object.get());
  return endpoint->Send(prefix, prefix_size, payload, payload_count, std::move(carried));
}

zx_status_t ChannelRead(zx_handle_t h, uint32_t options, uint32_t num_bytes,
                        uint32_t num_handles, ReadResult* out) {
  out->actual_bytes = out->actual_handles = 0;
  HandleInfo info;
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  if (options & ~ZX_CHANNEL_READ_MAY_DISCARD) return ZX_ERR_NOT_SUPPORTED;
  return static_cast<Endpoint*>(info.object.get())->Read(options, num_bytes, num_handles, out);
}

}  // namespace zxc
