// fdio-style bridges between plain descriptors and handles.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/handle_table.h"
#include "core/koid.h"
#include "core/syscalls.h"
#include "core/wire_format.h"

namespace zxc {

zx_status_t FdTransfer(int fd, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return ZX_ERR_INVALID_ARGS;
  ObjectRef object;
  zx_rights_t rights;
  if (IsSeqpacketSocket(fd)) {
    // A SEQPACKET socket from anywhere is a channel endpoint; its peer's koid is unknown.
    Endpoint::ConfigureSocket(fd);
    object = std::make_shared<Endpoint>(fd, NewKoid(), ZX_KOID_INVALID);
    rights = ZX_DEFAULT_CHANNEL_RIGHTS;
  } else {
    object = std::make_shared<Object>(ZX_OBJ_TYPE_FD, fd, NewKoid(), ZX_KOID_INVALID);
    rights = RightsForDescriptor(fd);
  }
  zx_handle_t h = HandleTable::Get().Add(object, rights);
  if (!h) {
    object->ReleaseFd();  // still the caller's
    return ZX_ERR_NO_RESOURCES;
  }
  *out = h;
  return ZX_OK;
}

zx_status_t FdClone(int fd, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (fd < 0) return ZX_ERR_INVALID_ARGS;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return errno == EBADF ? ZX_ERR_INVALID_ARGS : ZX_ERR_NO_RESOURCES;
  zx_status_t status = FdTransfer(copy, out);
  if (status != ZX_OK) close(copy);
  return status;
}

zx_status_t FdCreate(zx_handle_t h, int* out_fd) {
  *out_fd = -1;
  HandleTable& table = HandleTable::Get();
  HandleInfo info;
  zx_status_t status = table.Lookup(h, &info);
  if (status != ZX_OK) return status;
  // Messages still queued in this process would be overtaken by writes on the raw
  // descriptor: the handle stays until they are sent.
  if (info.object->type() == ZX_OBJ_TYPE_CHANNEL) {
    auto* endpoint = static_cast<Endpoint*>(info.object.get());
    if (endpoint->queued()) return ZX_ERR_SHOULD_WAIT;
    // Messages a call stepped over live in this process only: they would be left behind.
    if (endpoint->HasStash()) return ZX_ERR_BAD_STATE;
  }
  info = HandleInfo();
  status = table.Remove(h, &info);
  if (status != ZX_OK) return status;
  // The last reference gives its descriptor away; a shared object keeps its own.
  int fd = info.object.use_count() == 1 ? info.object->ReleaseFd()
                                        : fcntl(info.object->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ZX_ERR_NO_RESOURCES;
  *out_fd = fd;
  return ZX_OK;
}

}  // namespace zxc
