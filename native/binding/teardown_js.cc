// How a blocking wait (objectWaitOne/Many, channelCall, portWait) learns that it must give
// up: its thread's environment is going away (worker.terminate(), or the process exiting
// stops every worker), or the process exits (the main thread's 'exit' event). A thread
// blocked in native code runs none of its own cleanup hooks, so it asks, every
// kTeardownCheckNs while asleep, whether it may still call into JavaScript.
#include <node_api.h>

#include "binding/addon_data.h"
#include "core/thread_wake.h"

namespace zxb {

bool EnvironmentStopping(napi_env env) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
  napi_value undefined;
  bool same = false;
  const bool can_run = napi_get_undefined(env, &undefined) == napi_ok &&
                       napi_strict_equals(env, undefined, undefined, &same) == napi_ok;
  napi_close_handle_scope(env, scope);
  return !can_run;
}

namespace {

bool TeardownCheck(void* env) { return EnvironmentStopping(static_cast<napi_env>(env)); }

// cancelBlockedWaits(): the process exits (lib/native.ts calls it from the main thread's
// 'exit' event); every other thread's blocking wait ends with ZX_ERR_CANCELED.
Napi::Value CancelBlockedWaitsJs(const Napi::CallbackInfo& info) {
  zxc::CancelBlockedWaits();
  return info.Env().Undefined();
}

}  // namespace

void InitTeardownBinding(Napi::Object exports, AddonData* data) {
  napi_env env = exports.Env();
  zxc::SetTeardownCheck(TeardownCheck, env);
  // Run on this thread as the environment ends: no check is left to a dead environment.
  napi_add_env_cleanup_hook(env, zxc::ClearTeardownCheck, env);
  AddFunction(exports, data, "cancelBlockedWaits", CancelBlockedWaitsJs);
}

}  // namespace zxb
