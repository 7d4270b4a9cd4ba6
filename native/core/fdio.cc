// fdio-style bridges between plain descriptors and handles.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/errno_status.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/object_kinds.h"
#include "core/syscalls.h"
#include "core/wire_format.h"

namespace zxc {

namespace {

// A close-on-exec descriptor as a handle: a connected socket of the channels' type
// (SEQPACKET; SOCK_STREAM under the portable backend, docs/architecture.md) from anywhere is
// a channel endpoint (its peer's koid unknown), anything else (a listening socket
// too) a plain descriptor.
zx_status_t Adopt(int fd, zx_handle_t* out) {
  const bool endpoint = IsConnectedChannelSocket(fd);
  if (endpoint) Endpoint::ConfigureSocket(fd);
  const zx_obj_type_t type = endpoint ? ZX_OBJ_TYPE_CHANNEL : ZX_OBJ_TYPE_FD;
  ObjectRef object = WrapDescriptor(type, fd, NewKoid(), ZX_KOID_INVALID);
  zx_handle_t h = HandleTable::Get().Add(
      object, endpoint ? ZX_DEFAULT_CHANNEL_RIGHTS : RightsForDescriptor(fd));
  if (!h) {
    object->ReleaseFd();  // still the caller's
    return ZX_ERR_NO_RESOURCES;
  }
  *out = h;
  return ZX_OK;
}

}  // namespace

zx_status_t FdTransfer(int fd, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return ZX_ERR_INVALID_ARGS;
  return Adopt(fd, out);
}

zx_status_t FdClone(int fd, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (fd < 0) return ZX_ERR_INVALID_ARGS;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return StatusForErrno(errno, ZX_ERR_NO_RESOURCES, {{EBADF, ZX_ERR_INVALID_ARGS}});
  zx_status_t status = Adopt(copy, out);
  if (status != ZX_OK) close(copy);
  return status;
}

zx_status_t HandleExport(zx_handle_t h, ExportedHandle* out, bool bare) {
  out->fd = -1;
  HandleTable& table = HandleTable::Get();
  HandleInfo info;
  zx_status_t status = table.Lookup(h, &info);
  if (status != ZX_OK) return status;
  if (info.object->type() == ZX_OBJ_TYPE_CHANNEL) {
    auto* endpoint = static_cast<Endpoint*>(info.object.get());
    // Messages still queued here would be overtaken by writes on the raw descriptor.
    if (endpoint->queued()) return ZX_ERR_SHOULD_WAIT;
    // Messages a call stepped over live in this process only: they would be left behind.
    if (endpoint->HasStash()) return ZX_ERR_BAD_STATE;
  }
  // Objects of more than one descriptor don't fit one descriptor (spawn boxes them). Nor
  // do the user signals of one whose page is made, or a variant its descriptor can't tell
  // (a DATAGRAM socket end of framed datagrams), unless only its descriptor is asked for.
  const ObjectKind* kind = KindOf(info.object->type());
  if (!kind || kind->num_fds != 1) return ZX_ERR_NOT_SUPPORTED;
  int fds[kMaxObjectFds];
  if (!bare && (info.object->Descriptors(fds) > kind->num_fds || info.object->WireFlags() != 0))
    return ZX_ERR_NOT_SUPPORTED;
  info = HandleInfo();
  status = table.Remove(h, &info);
  if (status != ZX_OK) return status;
  // One descriptor goes: no page is made for it.
  info.object = info.object->ForTransfer(info.rights, true);
  const Object& object = *info.object;
  *out = ExportedHandle{-1, object.type(), info.rights, object.koid(), object.related_koid()};
  // The last reference gives its descriptor away; a shared object keeps its own.
  out->fd = info.object.use_count() == 1 ? info.object->ReleaseFd()
                                         : fcntl(object.fd(), F_DUPFD_CLOEXEC, 0);
  return out->fd < 0 ? ZX_ERR_NO_RESOURCES : ZX_OK;
}

zx_status_t HandleImportCheck(int fd, zx_obj_type_t type) {
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return ZX_ERR_INVALID_ARGS;
  const ObjectKind* kind = KindOf(type);
  if (!kind || kind->num_fds != 1) return ZX_ERR_NOT_SUPPORTED;
  // The check a receiver makes of each descriptor that arrives in a message.
  return kind->matches(&fd) ? ZX_OK : ZX_ERR_WRONG_TYPE;
}

zx_status_t HandleImport(const ExportedHandle& in, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  zx_status_t status = HandleImportCheck(in.fd, in.type);
  if (status != ZX_OK) return status;
  if (fcntl(in.fd, F_SETFD, FD_CLOEXEC) != 0) return ZX_ERR_INVALID_ARGS;
  const ObjectKind* kind = KindOf(in.type);
  if (in.type == ZX_OBJ_TYPE_CHANNEL) Endpoint::ConfigureSocket(in.fd);
  const zx_rights_t rights = in.rights & kind->enforced(&in.fd);
  ObjectRef object = AdoptDescriptors(*kind, &in.fd, in.koid, in.related_koid);
  if (!object) return ZX_ERR_NO_RESOURCES;  // (the descriptor is closed)
  zx_handle_t h = HandleTable::Get().Add(object, rights);
  if (!h) {
    object->ReleaseFd();  // still the caller's
    return ZX_ERR_NO_RESOURCES;
  }
  *out = h;
  return ZX_OK;
}

zx_status_t FdCreate(zx_handle_t h, int* out_fd) {
  ExportedHandle exported;
  zx_status_t status = HandleExport(h, &exported, true);
  *out_fd = exported.fd;
  return status;
}

}  // namespace zxc
