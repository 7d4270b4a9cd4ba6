// eventCreate, eventpairCreate, objectSignal, objectSignalPeer.
#include "binding/addon_data.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// eventCreate(options) → status; scratch[0] = the event.
Napi::Value EventCreateJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), EventCreate(U32(info[0]), &Data(info).scratch[0]));
}

// eventpairCreate(options) → status; scratch[0], scratch[1] = the two sides.
Napi::Value EventpairCreateJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), EventpairCreate(U32(info[0]), &s[0], &s[1]));
}

Napi::Value ObjectSignalJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), ObjectSignal(U32(info[0]), U32(info[1]), U32(info[2])));
}

Napi::Value ObjectSignalPeerJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), ObjectSignalPeer(U32(info[0]), U32(info[1]), U32(info[2])));
}

}  // namespace

void InitEventBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "eventCreate", EventCreateJs);
  AddFunction(exports, data, "eventpairCreate", EventpairCreateJs);
  AddFunction(exports, data, "objectSignal", ObjectSignalJs);
  AddFunction(exports, data, "objectSignalPeer", ObjectSignalPeerJs);
}

}  // namespace zxb
