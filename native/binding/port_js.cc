// The port functions: portCreate, portQueue, portWait, portWaitAsync, objectWaitAsync,
// portCancel.
#include <napi.h>

#include <algorithm>
#include <cstring>

#include "binding/addon_data.h"
#include "core/port.h"  // PortPacket
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// portCreate(options) → status; scratch[0] = the port.
Napi::Value PortCreateJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), PortCreate(U32(info[0]), &Data(info).scratch[0]));
}

// portQueue(port, key: bigint, type, status, user: Uint8Array | null) → status. lib/sys-port.ts
// has checked the arguments; `user` (at most 32 bytes) is zero-padded.
Napi::Value PortQueueJs(const Napi::CallbackInfo& info) {
  PortPacket packet;
  packet.key = U64(info[1]);
  packet.type = U32(info[2]);
  packet.status = info[3].As<Napi::Number>().Int32Value();
  iovec user;
  // An empty Uint8Array may have no storage at all: memcpy must not get its null pointer.
  if (BytesOf(info.Env(), info[4], &user) && user.iov_len != 0)
    std::memcpy(packet.user, user.iov_base, std::min(user.iov_len, sizeof packet.user));
  return Status(info.Env(), PortQueue(U32(info[0]), packet));
}

// portWait(port, deadline) → status; on ZX_OK scratch from kScratchPacket on = the packet's
// kPortPacketWords words.
// Blocks the calling thread.
Napi::Value PortWaitJs(const Napi::CallbackInfo& info) {
  PortPacket packet;
  zx_status_t status = PortWait(U32(info[0]), Deadline(info[1]), &packet);
  if (status == ZX_OK) std::memcpy(Data(info).scratch + kScratchPacket, &packet, sizeof packet);
  return Status(info.Env(), status);
}

// portWaitAsync(port, deadline) → Promise<[status] | [ZX_OK, ...words]> with scratch[0] =
// id for cancelAsync; or, settled at once, the status (scratch[0] = 0, the packet's words
// in scratch from kScratchPacket on, on ZX_OK).
Napi::Value PortWaitAsyncJs(const Napi::CallbackInfo& info) {
  AddonData& data = Data(info);
  return data.loop->PortWaitAsync(U32(info[0]), Deadline(info[1]), &data.scratch[0],
                                  data.scratch + kScratchPacket);
}

// objectWaitAsync(h, port, key: bigint, signals, options) → status.
Napi::Value ObjectWaitAsyncJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), ObjectWaitAsync(U32(info[0]), U32(info[1]), U64(info[2]), U32(info[3]),
                                            U32(info[4])));
}

// portCancel(port, source, key: bigint) → status.
Napi::Value PortCancelJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), PortCancel(U32(info[0]), U32(info[1]), U64(info[2])));
}

}  // namespace

void InitPortBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "portCreate", PortCreateJs);
  AddFunction(exports, data, "portQueue", PortQueueJs);
  AddFunction(exports, data, "portWait", PortWaitJs);
  AddFunction(exports, data, "portWaitAsync", PortWaitAsyncJs);
  AddFunction(exports, data, "objectWaitAsync", ObjectWaitAsyncJs);
  AddFunction(exports, data, "portCancel", PortCancelJs);
}

}  // namespace zxb
