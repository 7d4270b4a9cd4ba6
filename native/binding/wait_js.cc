// The wait functions: objectWaitOne / objectWaitMany (blocking the calling thread),
// objectWaitOneAsync (a promise on the event loop) and cancelAsync.
#include <napi.h>

#include <cstring>
#include <vector>

#include "binding/addon_data.h"
#include "binding/env_loop.h"
#include "core/handle_table.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// objectWaitOneAsync(h, signals, deadline) → Promise<{status, observed}>; scratch[0] = id.
Napi::Value ObjectWaitOneAsyncJs(const Napi::CallbackInfo& info) {
  AddonData& data = Data(info);
  return data.loop->WaitAsync(U32(info[0]), U32(info[1]), Deadline(info[2]), &data.scratch[0]);
}

// cancelAsync(id) → whether a pending wait or call was settled with ZX_ERR_CANCELED.
Napi::Value CancelAsyncJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Data(info).loop->Cancel(U32(info[0])));
}

Napi::Value ObjectWaitOneJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), ObjectWaitOne(U32(info[0]), U32(info[1]), Deadline(info[2]), &s[0]));
}

// objectWaitMany(items: {handle, waitfor, pending}[], deadline) → status; fills `pending`.
Napi::Value ObjectWaitManyJs(const Napi::CallbackInfo& info) {
  auto array = info[0].As<Napi::Array>();
  zx_time_t deadline = Deadline(info[1]);
  std::vector<WaitItem> items(array.Length());
  for (uint32_t i = 0; i < items.size(); ++i) {
    Napi::Value value = array.Get(i);
    if (value.IsEmpty()) return Status(info.Env(), ZX_ERR_CANCELED);  // going away (see U32)
    auto item = value.As<Napi::Object>();
    items[i] = WaitItem{U32(item.Get("handle")), U32(item.Get("waitfor")), 0};
  }
  zx_status_t status = ObjectWaitMany(items.data(), items.size(), deadline);
  if (status == ZX_ERR_CANCELED && EnvironmentStopping(info.Env()))
    return Status(info.Env(), status);
  if (status == ZX_OK || status == ZX_ERR_TIMED_OUT || status == ZX_ERR_CANCELED)
    for (uint32_t i = 0; i < items.size(); ++i) {
      Napi::Value item = array.Get(i);
      if (!item.IsEmpty()) item.As<Napi::Object>().Set("pending", items[i].pending);
    }
  return Status(info.Env(), status);
}

}  // namespace

void InitWaitBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "objectWaitOne", ObjectWaitOneJs);
  AddFunction(exports, data, "objectWaitOneAsync", ObjectWaitOneAsyncJs);
  AddFunction(exports, data, "cancelAsync", CancelAsyncJs);
  AddFunction(exports, data, "objectWaitMany", ObjectWaitManyJs);
}

}  // namespace zxb
