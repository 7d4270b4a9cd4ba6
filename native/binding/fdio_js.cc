// Descriptors as handles (fdTransfer, fdClone, fdCreate) and services (listen, accept,
// connect, with the peer's credentials in scratch).
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

Napi::Value FdTransferJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), FdTransfer(info[0].As<Napi::Number>().Int32Value(), &s[0]));
}

Napi::Value FdCloneJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), FdClone(info[0].As<Napi::Number>().Int32Value(), &s[0]));
}

Napi::Value FdCreateJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  int fd = -1;
  zx_status_t status = FdCreate(U32(info[0]), &fd);
  s[0] = static_cast<uint32_t>(fd);
  return Status(info.Env(), status);
}

// serviceListen(name, abstract, mode) → status; scratch[0] = listener handle.
Napi::Value ServiceListenJs(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Status(info.Env(),
                ServiceListen(name, Bool(info[1]), U32(info[2]), &Data(info).scratch[0]));
}

// scratch[offset..offset+2] = pid, uid, gid.
void PutCredentials(uint32_t* s, const PeerCredentials& peer) {
  s[0] = static_cast<uint32_t>(peer.pid);
  s[1] = peer.uid;
  s[2] = peer.gid;
}

// serviceAccept(listener) → status; scratch[0..3] = channel handle, pid, uid, gid.
Napi::Value ServiceAcceptJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  PeerCredentials peer{};
  zx_status_t status = ServiceAccept(U32(info[0]), &s[0], &peer);
  PutCredentials(s + 1, peer);
  return Status(info.Env(), status);
}

// serviceConnect(name, abstract) → status; scratch[0..3] = channel handle of the
// connection, and the listener's pid, uid, gid.
Napi::Value ServiceConnectJs(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint32_t* s = Data(info).scratch;
  PeerCredentials listener{};
  zx_status_t status = ServiceConnect(name, Bool(info[1]), &s[0], &listener);
  PutCredentials(s + 1, listener);
  return Status(info.Env(), status);
}

// serviceSendRequest(connection, request) → status (the request is consumed).
Napi::Value ServiceSendRequestJs(const Napi::CallbackInfo& info) {
  return Status(info.Env(), ServiceSendRequest(U32(info[0]), U32(info[1])));
}

}  // namespace

void InitFdioBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "fdTransfer", FdTransferJs);
  AddFunction(exports, data, "fdClone", FdCloneJs);
  AddFunction(exports, data, "fdCreate", FdCreateJs);
  AddFunction(exports, data, "serviceListen", ServiceListenJs);
  AddFunction(exports, data, "serviceAccept", ServiceAcceptJs);
  AddFunction(exports, data, "serviceConnect", ServiceConnectJs);
  AddFunction(exports, data, "serviceSendRequest", ServiceSendRequestJs);
}

}  // namespace zxb
