// The handle and object functions: close, duplicate, replace, objectGetInfo, properties,
// the handle count, and the export and import of startup handles.
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

// objectGetInfo(h, topic) → status; for HANDLE_BASIC, [status, koid, rights, type,
// relatedKoid]; for another topic with a record, [status, Buffer] (Zircon's layout).
Napi::Value ObjectGetInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const zx_handle_t h = U32(info[0]);
  const uint32_t topic = U32(info[1]);
  if (topic == ZX_INFO_HANDLE_VALID) return Status(env, ObjectGetInfoValid(h));
  if (topic != ZX_INFO_HANDLE_BASIC) {
    std::vector<uint8_t> record;
    zx_status_t status = ObjectGetInfo(h, topic, &record);
    if (status != ZX_OK) return Status(env, status);
    auto out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::Number::New(env, status));
    out.Set(1u, Napi::Buffer<uint8_t>::Copy(env, record.data(), record.size()));
    return out;
  }
  HandleBasicInfo basic;
  zx_status_t status = ObjectGetInfoBasic(h, &basic);
  if (status != ZX_OK) return Status(env, status);
  auto out = Napi::Array::New(env, 5);
  out.Set(0u, Napi::Number::New(env, status));
  out.Set(1u, Napi::BigInt::New(env, static_cast<uint64_t>(basic.koid)));
  out.Set(2u, Napi::Number::New(env, basic.rights));
  out.Set(3u, Napi::Number::New(env, basic.type));
  out.Set(4u, Napi::BigInt::New(env, static_cast<uint64_t>(basic.related_koid)));
  return out;
}

// objectGetProperty(h, property) → a status, or [status, value] (a string for
// ZX_PROP_NAME, a bigint otherwise).
Napi::Value ObjectGetPropertyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t property = U32(info[1]);
  PropertyValue value;
  zx_status_t status = ObjectGetProperty(U32(info[0]), property, &value);
  if (status != ZX_OK) return Status(env, status);
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, status));
  if (property == ZX_PROP_NAME)
    out.Set(1u, Napi::String::New(env, value.name));
  else
    out.Set(1u, Napi::BigInt::New(env, value.number));
  return out;
}

// objectSetProperty(h, property, value: Buffer (the name's bytes) or a bigint (below 2^64,
// checked by the caller)) → status.
Napi::Value ObjectSetPropertyJs(const Napi::CallbackInfo& info) {
  PropertyValue value;
  iovec bytes{nullptr, 0};
  if (info[2].IsBigInt()) {
    bool lossless;
    value.number = info[2].As<Napi::BigInt>().Uint64Value(&lossless);
  } else if (BytesOf(info.Env(), info[2], &bytes))
    value.name.assign(static_cast<const char*>(bytes.iov_base), bytes.iov_len);
  return Status(info.Env(), ObjectSetProperty(U32(info[0]), U32(info[1]), value));
}

Napi::Value HandleCloseJs(const Napi::CallbackInfo& info) {
  zx_status_t status = HandleClose(U32(info[0]));
  Data(info).loop->SettleNow();  // waits on it end now, and its descriptor closes
  return Status(info.Env(), status);
}

Napi::Value HandleCloseManyJs(const Napi::CallbackInfo& info) {
  auto array = info[0].As<Napi::Array>();
  std::vector<zx_handle_t> handles(array.Length());
  for (uint32_t i = 0; i < handles.size(); ++i) handles[i] = U32(array.Get(i));
  zx_status_t status = HandleCloseMany(handles.data(), handles.size());
  Data(info).loop->SettleNow();
  return Status(info.Env(), status);
}

Napi::Value HandleDuplicateJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), HandleDuplicate(U32(info[0]), U32(info[1]), &s[0]));
}

Napi::Value HandleReplaceJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), HandleReplace(U32(info[0]), U32(info[1]), &s[0]));
}

// handleExport(h) → status, or [fd, type, rights, koid, relatedKoid] (the handle is consumed).
Napi::Value HandleExportJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ExportedHandle exported;
  zx_status_t status = HandleExport(U32(info[0]), &exported);
  if (status != ZX_OK) return Status(env, status);
  auto out = Napi::Array::New(env, 5);
  out.Set(0u, Napi::Number::New(env, exported.fd));
  out.Set(1u, Napi::Number::New(env, exported.type));
  out.Set(2u, Napi::Number::New(env, exported.rights));
  out.Set(3u, Napi::BigInt::New(env, static_cast<uint64_t>(exported.koid)));
  out.Set(4u, Napi::BigInt::New(env, static_cast<uint64_t>(exported.related_koid)));
  return out;
}

// handleImport(fd, type, rights, koid, relatedKoid) → status; scratch[0] = handle.
Napi::Value HandleImportJs(const Napi::CallbackInfo& info) {
  ExportedHandle in{info[0].As<Napi::Number>().Int32Value(), U32(info[1]), U32(info[2]),
                    U64(info[3]), U64(info[4])};
  return Status(info.Env(), HandleImport(in, &Data(info).scratch[0]));
}

// handleImportCheck(fd, type) → status: whether handleImport would take it.
Napi::Value HandleImportCheckJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(),
                HandleImportCheck(info[0].As<Napi::Number>().Int32Value(), U32(info[1])));
}

// How many handles the process holds (diagnostics and leak tests).
Napi::Value HandleCountJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(HandleTable::Get().size()));
}

}  // namespace

void InitHandleBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "objectGetInfo", ObjectGetInfoJs);
  AddFunction(exports, data, "objectGetProperty", ObjectGetPropertyJs);
  AddFunction(exports, data, "objectSetProperty", ObjectSetPropertyJs);
  AddFunction(exports, data, "handleClose", HandleCloseJs);
  AddFunction(exports, data, "handleCloseMany", HandleCloseManyJs);
  AddFunction(exports, data, "handleDuplicate", HandleDuplicateJs);
  AddFunction(exports, data, "handleReplace", HandleReplaceJs);
  AddFunction(exports, data, "handleCount", HandleCountJs);
  AddFunction(exports, data, "handleExport", HandleExportJs);
  AddFunction(exports, data, "handleImport", HandleImportJs);
  AddFunction(exports, data, "handleImportCheck", HandleImportCheckJs);
}

}  // namespace zxb
