// The VMO functions: create, read, write, get/set size, and mappings as ArrayBuffers.
// A mapping is unmapped exactly once: when its ArrayBuffer is collected, or by vmoUnmap,
// which first detaches the ArrayBuffer so no JavaScript can reach the memory afterwards.
#include <napi.h>
#include <sys/mman.h>

#include <mutex>
#include <unordered_map>

#include "binding/addon_data.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

Napi::Value VmoCreateJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), VmoCreate(SizeOf(info[0]), U32(info[1]), &Data(info).scratch[0]));
}

// vmoRead(h, length, offset) → a Buffer of the bytes, or a status. The Buffer is made
// only once the checks have passed, and the kernel copies straight into it.
Napi::Value VmoReadJs(const Napi::CallbackInfo& info) {
  JsReadTarget target(info.Env(), iovec{nullptr, 0});
  zx_status_t status = VmoRead(U32(info[0]), SizeOf(info[1]), SizeOf(info[2]), target);
  if (status != ZX_OK) return Status(info.Env(), status);
  return Napi::Value(info.Env(), target.own());
}

// vmoWrite(h, bytes, offset) → status.
Napi::Value VmoWriteJs(const Napi::CallbackInfo& info) {
  iovec bytes{};
  if (!BytesOf(info.Env(), info[1], &bytes)) return Status(info.Env(), ZX_ERR_INVALID_ARGS);
  return Status(info.Env(), VmoWrite(U32(info[0]), static_cast<const uint8_t*>(bytes.iov_base),
                                     bytes.iov_len, SizeOf(info[2])));
}

// vmoGetSize(h) → the size as a BigInt, or a status.
Napi::Value VmoGetSizeJs(const Napi::CallbackInfo& info) {
  uint64_t size;
  zx_status_t status = VmoGetSize(U32(info[0]), &size);
  if (status != ZX_OK) return Status(info.Env(), status);
  return Napi::BigInt::New(info.Env(), size);
}

Napi::Value VmoSetSizeJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), VmoSetSize(U32(info[0]), SizeOf(info[1])));
}

// vmoOpRange(h, op, offset, size) → status.
Napi::Value VmoOpRangeJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(),
                VmoOpRange(U32(info[0]), U32(info[1]), SizeOf(info[2]), SizeOf(info[3])));
}

// vmoCreateChild(h, options, offset, size) → status; scratch[0] = the child.
Napi::Value VmoCreateChildJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), VmoCreateChild(U32(info[0]), U32(info[1]), SizeOf(info[2]),
                                           SizeOf(info[3]), &Data(info).scratch[0]));
}

// ---- mappings -------------------------------------------------------------------------

struct Mapping {
  void* address;
  size_t length;
};

// Live mappings by address, process-wide (an address is unique while it is mapped). An
// entry leaves when its memory is unmapped, by whichever of collection and vmoUnmap
// comes first; the other then finds nothing to do. Never destroyed: finalizers run as
// environments end, which may be after static destructors.
std::mutex mappings_mu;
std::unordered_map<void*, Mapping*>* live_mappings = new std::unordered_map<void*, Mapping*>();

// Takes `address` out of the live set: its mapping if it was there (the caller unmaps it).
// `only`: that mapping and no other (the address may since have been mapped again).
Mapping* TakeLive(void* address, size_t length, const Mapping* only = nullptr) {
  std::lock_guard<std::mutex> lock(mappings_mu);
  auto it = live_mappings->find(address);
  if (it == live_mappings->end() || it->second->length != length) return nullptr;
  if (only && it->second != only) return nullptr;
  Mapping* mapping = it->second;
  live_mappings->erase(it);
  return mapping;
}

void PutLive(Mapping* mapping) {
  std::lock_guard<std::mutex> lock(mappings_mu);
  (*live_mappings)[mapping->address] = mapping;
}

// The ArrayBuffer's finalizer: it was collected (or its environment is ending).
void OnMappingCollected(napi_env, void*, void* hint) {
  auto* mapping = static_cast<Mapping*>(hint);
  if (TakeLive(mapping->address, mapping->length, mapping))
    munmap(mapping->address, mapping->length);
  delete mapping;
}

// vmoMap(h, maxLength, allowFaults) → an ArrayBuffer over the whole VMO, or a status.
Napi::Value VmoMapJs(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  void* address;
  size_t length;
  const bool allow_faults = Bool(info[2]);
  zx_status_t status = VmoMap(U32(info[0]), SizeOf(info[1]), allow_faults, &address, &length);
  if (status != ZX_OK) return Status(env, status);
  auto* mapping = new Mapping{address, length};
  PutLive(mapping);
  napi_value buffer;
  napi_status made =
      napi_create_external_arraybuffer(env, address, length, OnMappingCollected, mapping, &buffer);
  if (made != napi_ok) {
    ClearPendingException(env);
    TakeLive(address, length, mapping);
    munmap(address, length);
    delete mapping;
    return Status(
        env, made == napi_no_external_buffers_allowed ? ZX_ERR_NOT_SUPPORTED : ZX_ERR_NO_MEMORY);
  }
  return Napi::Value(env, buffer);
}

// vmoUnmap(arrayBuffer) → status: NOT_FOUND unless it is a live mapping made by vmoMap.
// Detached first (byteLength 0 from then on), then unmapped.
Napi::Value VmoUnmapJs(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  void* address = nullptr;
  size_t length = 0;
  Mapping* mapping = nullptr;
  if (napi_get_arraybuffer_info(env, info[0], &address, &length) != napi_ok || !address ||
      !(mapping = TakeLive(address, length)))
    return Status(env, ZX_ERR_NOT_FOUND);
  if (napi_detach_arraybuffer(env, info[0]) != napi_ok) {
    ClearPendingException(env);
    PutLive(mapping);  // still reachable from JavaScript: it stays mapped
    return Status(env, ZX_ERR_BAD_STATE);
  }
  munmap(address, length);
  return Status(env, ZX_OK);
}

}  // namespace

void InitVmoBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "vmoCreate", VmoCreateJs);
  AddFunction(exports, data, "vmoRead", VmoReadJs);
  AddFunction(exports, data, "vmoWrite", VmoWriteJs);
  AddFunction(exports, data, "vmoGetSize", VmoGetSizeJs);
  AddFunction(exports, data, "vmoSetSize", VmoSetSizeJs);
  AddFunction(exports, data, "vmoOpRange", VmoOpRangeJs);
  AddFunction(exports, data, "vmoCreateChild", VmoCreateChildJs);
  AddFunction(exports, data, "vmoMap", VmoMapJs);
  AddFunction(exports, data, "vmoUnmap", VmoUnmapJs);
}

}  // namespace zxb
