// The addon's entry point: the per-environment data (scratch array, read pool, event loop,
// addon_data.h), the exit flush, and each binding file's functions (one file per object
// family). Out-values go into the scratch array that lib/native.ts reads, so a hot call
// returns a number or a Buffer and builds no objects.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/env_loop.h"
#include "core/endpoint.h"
#include "core/platform.h"
#include "core/syscalls.h"

namespace {

using namespace zxc;
using namespace zxb;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  auto scratch = Napi::Uint32Array::New(env, kScratchLength);
  data->scratch = scratch.Data();
  data->scratch_ref = Napi::Persistent(scratch);
  env.SetInstanceData<AddonData>(data);  // deleted with the environment

  zxb::EnvLoop::InstallHooks();
  data->loop = zxb::EnvLoop::Create(env);
  InstallExitFlush();

  exports.Set("scratch", scratch);
  exports.Set("backend", Napi::String::New(env, BackendName()));
  exports.Set("receiveBufferBytes",
              Napi::Number::New(env, static_cast<double>(kReceiveBufferBytes)));
  InitLayout(exports);
  InitChannelBinding(exports, data);
  InitWaitBinding(exports, data);
  InitHandleBinding(exports, data);
  InitFdioBinding(exports, data);
  // Objects beyond channels: one binding file each.
  InitEventBinding(exports, data);
  InitVmoBinding(exports, data);
  InitTimerBinding(exports, data);
  InitSocketBinding(exports, data);
  InitPortBinding(exports, data);
  // Blocking waits end when this environment, or the process, goes away.
  InitTeardownBinding(exports, data);
  return exports;
}

}  // namespace

NODE_API_MODULE(zircon_ipc, Init)
