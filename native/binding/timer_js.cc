// timerCreate, timerSet, timerCancel.
#include "binding/addon_data.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// timerCreate(options, clockId) → status; scratch[0] = the timer.
Napi::Value TimerCreateJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), TimerCreate(U32(info[0]), U32(info[1]), &Data(info).scratch[0]));
}

// timerSet(h, deadline: bigint, slack: bigint) → status.
Napi::Value TimerSetJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), TimerSet(U32(info[0]), Deadline(info[1]), Deadline(info[2])));
}

Napi::Value TimerCancelJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), TimerCancel(U32(info[0])));
}

}  // namespace

void InitTimerBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "timerCreate", TimerCreateJs);
  AddFunction(exports, data, "timerSet", TimerSetJs);
  AddFunction(exports, data, "timerCancel", TimerCancelJs);
}

}  // namespace zxb
