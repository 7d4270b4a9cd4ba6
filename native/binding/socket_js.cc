// The socket functions. Out-values go into scratch, as for channels; a read lands in the
// read pool, as a channel read does (or, when longer than its room, in a Buffer made to
// its size).
#include "binding/addon_data.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// socketCreate(options) → status; scratch[0], scratch[1] = the two ends.
Napi::Value SocketCreateJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), SocketCreate(U32(info[0]), &s[0], &s[1]));
}

// socketWrite(h, options, bytes: Uint8Array) → status; scratch[0] = bytes written.
Napi::Value SocketWriteJs(const Napi::CallbackInfo& info) {
  iovec bytes{nullptr, 0};
  BytesOf(info.Env(), info[2], &bytes);
  size_t actual = 0;
  zx_status_t status =
      SocketWrite(U32(info[0]), U32(info[1]), static_cast<const uint8_t*>(bytes.iov_base),
                  bytes.iov_len, &actual);
  Data(info).scratch[0] = static_cast<uint32_t>(actual);
  return Status(info.Env(), status);
}

// socketRead(h, options, length) → on ZX_OK, as channelRead answers: the bytes' offset in
// the read pool (≥ 0), or a Buffer holding them when they did not fit there; their count
// in scratch[0]. Else a status (< 0).
Napi::Value SocketReadJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = Data(info);
  // The window past pool_start always has room for kReceiveBufferBytes (moveReadPool).
  const iovec window =
      data.pool ? iovec{data.pool + data.pool_start, kReceiveBufferBytes} : iovec{nullptr, 0};
  JsReadTarget target(env, window);
  size_t actual = 0;
  zx_status_t status =
      SocketRead(U32(info[0]), U32(info[1]), static_cast<size_t>(SizeOf(info[2])), target, &actual);
  if (status != ZX_OK) return Status(env, status);
  data.scratch[0] = static_cast<uint32_t>(actual);
  if (napi_value own = target.own()) return Napi::Value(env, own);
  return Napi::Number::New(env, static_cast<double>(data.pool_start));
}

// socketSetDisposition(h, disposition, dispositionPeer) → status.
Napi::Value SocketSetDispositionJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), SocketSetDisposition(U32(info[0]), U32(info[1]), U32(info[2])));
}

}  // namespace

void InitSocketBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "socketCreate", SocketCreateJs);
  AddFunction(exports, data, "socketWrite", SocketWriteJs);
  AddFunction(exports, data, "socketRead", SocketReadJs);
  AddFunction(exports, data, "socketSetDisposition", SocketSetDispositionJs);
}

}  // namespace zxb
