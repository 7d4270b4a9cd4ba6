// What every binding file shares: the per-environment data (scratch array, read pool,
// event loop) and the conversions of arguments and results. addon.cc holds only Init,
// which calls each binding file (one per family: channel_js, wait_js, handle_js, fdio_js,
// event_js, vmo_js, timer_js, socket_js, port_js) to add its functions.
#pragma once
#include <napi.h>
#include <sys/uio.h>

#include "binding/env_loop.h"
#include "core/read_target.h"
#include "core/types.h"

namespace zxb {

// What the binding and lib/ share as uint32 words: the offsets below are exported at load
// as `layout` (layout_js.cc), and lib/native-layout.ts takes them from there.
// The scratch array: [0], [1] out-values; then a read's handle values, types and rights.
constexpr size_t kScratchHandles = 2;
constexpr size_t kScratchTypes = kScratchHandles + zxc::kMaxMsgHandles;
constexpr size_t kScratchRights = kScratchTypes + zxc::kMaxMsgHandles;
constexpr size_t kScratchLength = kScratchRights + zxc::kMaxMsgHandles;
// Where portWait leaves a packet's words in scratch (after the id slot of the async form).
constexpr size_t kScratchPacket = 2;
// A disposition packed by lib/ in a Uint32Array: operation, handle, type, rights, result
// (the one word the binding writes back).
constexpr size_t kDispositionWords = 5;
constexpr size_t kDispositionResult = 4;

struct AddonData {
  Napi::Reference<Napi::Uint32Array> scratch_ref;
  uint32_t* scratch = nullptr;
  // Where channelRead and socketRead receive: a slab Buffer of lib/receive.ts's, so that
  // the bytes of a message are copied once (by the kernel) and handed out as a view or a
  // small copy.
  // Records land at pool + pool_start (kReceiveBufferBytes of room there, at least).
  Napi::Reference<Napi::Buffer<uint8_t>> pool_ref;
  uint8_t* pool = nullptr;
  size_t pool_size = 0;
  size_t pool_start = 0;
  EnvLoop* loop = nullptr;  // owned by the environment's cleanup hook
};

inline AddonData& Data(const Napi::CallbackInfo& info) {
  return *static_cast<AddonData*>(info.Data());
}

inline Napi::Value Status(Napi::Env env, zxc::zx_status_t status) {
  return Napi::Number::New(env, status);
}

// Conversions of arguments. An argument itself is always a value; a value read out of one
// (an array's element) is empty when N-API refused the read because the environment is
// going away (a worker being terminated): it converts to 0 or false, and nothing the call
// returns reaches JavaScript then. (A conversion of an empty value, or a coercion, would
// be a fatal error.)
inline uint32_t U32(const Napi::Value& v) {
  return v.IsEmpty() ? 0 : v.As<Napi::Number>().Uint32Value();
}

// A boolean lib/ passes (never coerced: a coercion can run JavaScript).
inline bool Bool(const Napi::Value& v) {
  bool out = false;
  return !v.IsEmpty() && napi_get_value_bool(v.Env(), v, &out) == napi_ok && out;
}

// A koid, a key: a bigint lib/check.ts has checked.
inline uint64_t U64(const Napi::Value& v) {
  bool lossless;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

// A size or an offset: a Number (lib/check.ts made it a safe non-negative integer) or a BigInt.
inline uint64_t SizeOf(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

// A deadline (lib/check.ts has made it a bigint in range).
inline zxc::zx_time_t Deadline(const Napi::Value& v) {
  bool lossless;
  return v.As<Napi::BigInt>().Int64Value(&lossless);
}

// The bytes of a Uint8Array (a Buffer is one), with one N-API query; false otherwise.
inline bool BytesOf(napi_env env, const Napi::Value& v, iovec* out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array)
    return false;
  *out = iovec{data, length};
  return true;
}

// A failed N-API allocation may leave a JavaScript exception pending: the status says it.
inline void ClearPendingException(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

// Where a socket or VMO read lands: the caller's pool when one is given and the bytes fit,
// else a Buffer of the size the read needs (none: ZX_ERR_NO_MEMORY, no exception left).
class JsReadTarget final : public zxc::ReadTarget {
 public:
  JsReadTarget(napi_env env, const iovec& pool) : env_(env), pool_(pool) {}

  uint8_t* Get(size_t size) override {
    own_ = nullptr;
    if (pool_.iov_base && size <= pool_.iov_len) return static_cast<uint8_t*>(pool_.iov_base);
    void* data = nullptr;
    if (napi_create_buffer(env_, size, &data, &own_) != napi_ok) {
      ClearPendingException(env_);  // longer than a Buffer can be
      own_ = nullptr;
      return nullptr;
    }
    return static_cast<uint8_t*>(data);
  }

  // The Buffer the bytes went to, if not the pool (nullptr).
  napi_value own() const { return own_; }

 private:
  napi_env env_;
  iovec pool_;
  napi_value own_ = nullptr;
};

using JsFunction = Napi::Value (*)(const Napi::CallbackInfo&);

// exports[name] = fn, called with the environment's AddonData.
inline void AddFunction(Napi::Object exports, AddonData* data, const char* name, JsFunction fn) {
  exports.Set(name, Napi::Function::New(exports.Env(), fn, name, data));
}

// Each family of functions adds its own (one binding file each).
void InitChannelBinding(Napi::Object exports, AddonData* data);
void InitWaitBinding(Napi::Object exports, AddonData* data);
void InitHandleBinding(Napi::Object exports, AddonData* data);
void InitFdioBinding(Napi::Object exports, AddonData* data);
void InitEventBinding(Napi::Object exports, AddonData* data);
void InitVmoBinding(Napi::Object exports, AddonData* data);
void InitTimerBinding(Napi::Object exports, AddonData* data);
void InitSocketBinding(Napi::Object exports, AddonData* data);
void InitPortBinding(Napi::Object exports, AddonData* data);
// exports.layout: the offsets above and the port packet's words (layout_js.cc).
void InitLayout(Napi::Object exports);
// Blocking waits giving up when the environment or the process goes away (teardown_js.cc).
void InitTeardownBinding(Napi::Object exports, AddonData* data);
// Whether `env` (this thread's) is being torn down: N-API then refuses every call that
// could run JavaScript, and a binding must make none (node-addon-api would abort).
bool EnvironmentStopping(napi_env env);

}  // namespace zxb
