// Services: a listening socket of the channels' type (platform.h) on a filesystem path or a Linux
// abstract name. Each accepted connection is a channel endpoint over which a client hands the
// server the channel end it wants served (fdio.serviceConnect), with the client's credentials.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "core/errno_status.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/object_kinds.h"
#include "core/platform.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

// sockaddr_un for a path, or for an abstract name when `abstract` (no file, leading NUL).
bool MakeAddress(const std::string& name, bool abstract, sockaddr_un* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  // A path needs room for its trailing NUL; an abstract name goes after a leading NUL.
  if (name.empty() || name.size() > sizeof addr->sun_path - 1) return false;
  if (name.find('\0') != std::string::npos) return false;
  const size_t offset = abstract ? 1 : 0;
  std::memcpy(addr->sun_path + offset, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset + name.size() +
                                (abstract ? 0 : 1));
  return true;
}

int NewChannelSocket() { return NewSocket(ChannelSocketType(), true); }

// Why bind or connect failed. ENOENT: nothing at that path; ECONNREFUSED: a socket file
// nobody listens on; EAGAIN: the server's backlog is full; EPROTOTYPE: a socket of another
// type than channels'; the kernel out of memory is an I/O error here.
zx_status_t StatusForConnectErrno(int err) {
  return StatusForErrno(err, ZX_ERR_IO,
                        {{ENOENT, ZX_ERR_NOT_FOUND},
                         {ECONNREFUSED, ZX_ERR_PEER_CLOSED},
                         {EAGAIN, ZX_ERR_SHOULD_WAIT},
                         {EACCES, ZX_ERR_ACCESS_DENIED},
                         {EPERM, ZX_ERR_ACCESS_DENIED},
                         {ENOTDIR, ZX_ERR_BAD_PATH},
                         {ENAMETOOLONG, ZX_ERR_BAD_PATH},
                         {EPROTOTYPE, ZX_ERR_WRONG_TYPE},
                         {ENOMEM, ZX_ERR_IO}});
}

// Whether a live server answers at `addr` (a refused connection means a stale file).
bool SomeoneListens(const sockaddr_un& addr, socklen_t len) {
  int probe = NewSocket(ChannelSocketType(), false);
  if (probe < 0) return true;  // can't tell: don't touch it
  int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  close(probe);
  return rc == 0 || err != ECONNREFUSED;
}

// The peer's credentials as the kernel recorded them when the connection was made (for a
// client, those of the listener's listen(2) call).
PeerCredentials PeerOf(int fd) {
  int pid;
  unsigned uid, gid;
  PeerIdentity(fd, &pid, &uid, &gid);
  return PeerCredentials{pid, uid, gid};
}

zx_handle_t AddEndpoint(int fd) {
  Endpoint::ConfigureSocket(fd);
  ObjectRef endpoint = WrapDescriptor(ZX_OBJ_TYPE_CHANNEL, fd, NewKoid(), ZX_KOID_INVALID);
  zx_handle_t h = HandleTable::Get().Add(endpoint, ZX_DEFAULT_CHANNEL_RIGHTS);
  if (!h) endpoint.reset();  // closes fd
  return h;
}

}  // namespace

zx_status_t ServiceListen(const std::string& name, bool abstract, uint32_t mode, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  sockaddr_un addr;
  socklen_t len;
  if (!MakeAddress(name, abstract, &addr, &len)) return ZX_ERR_BAD_PATH;
  int fd = NewChannelSocket();
  if (fd < 0) return ZX_ERR_NO_RESOURCES;
  // The file is created with the socket inode's mode (less the umask): set it first, so
  // there is no moment when it is open to more than `mode`.
  if (!abstract) fchmod(fd, mode);
  int rc = bind(fd, reinterpret_cast<const sockaddr*>(&addr), len);
  if (rc != 0 && errno == EADDRINUSE && !abstract) {
    struct stat st;
    if (lstat(name.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && !SomeoneListens(addr, len)) {
      unlink(name.c_str());  // left by a server that died
      rc = bind(fd, reinterpret_cast<const sockaddr*>(&addr), len);
    } else {
      errno = EADDRINUSE;
    }
  }
  if (rc != 0) {
    int err = errno;
    close(fd);
    if (err == EADDRINUSE) return ZX_ERR_ALREADY_EXISTS;
    return StatusForConnectErrno(err);
  }
  if (!abstract) chmod(name.c_str(), mode);  // exactly `mode`, whatever the umask
  if (listen(fd, SOMAXCONN) != 0) {
    close(fd);
    if (!abstract) unlink(name.c_str());
    return ZX_ERR_IO;
  }
  ObjectRef listener = WrapDescriptor(ZX_OBJ_TYPE_FD, fd, NewKoid(), ZX_KOID_INVALID);
  zx_handle_t h = HandleTable::Get().Add(listener, RightsForDescriptor(fd));
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t ServiceAccept(zx_handle_t listener, zx_handle_t* out, PeerCredentials* peer) {
  *out = ZX_HANDLE_INVALID;
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(listener, ZX_OBJ_TYPE_FD, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  const int fd = AcceptConnection(info.object->fd());
  if (fd < 0)
    return StatusForErrno(errno, ZX_ERR_IO,
                          {{EAGAIN, ZX_ERR_SHOULD_WAIT},
                           {EWOULDBLOCK, ZX_ERR_SHOULD_WAIT},
                           {ENOBUFS, ZX_ERR_NO_RESOURCES},
                           {ENOMEM, ZX_ERR_NO_RESOURCES},
                           {EINVAL, ZX_ERR_WRONG_TYPE},
                           {ENOTSOCK, ZX_ERR_WRONG_TYPE},
                           {EOPNOTSUPP, ZX_ERR_WRONG_TYPE}});
  *peer = PeerOf(fd);
  zx_handle_t h = AddEndpoint(fd);
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t ServiceConnect(const std::string& name, bool abstract, zx_handle_t* out,
                           PeerCredentials* listener) {
  *out = ZX_HANDLE_INVALID;
  sockaddr_un addr;
  socklen_t len;
  if (!MakeAddress(name, abstract, &addr, &len)) return ZX_ERR_BAD_PATH;
  int fd = NewChannelSocket();
  if (fd < 0) return ZX_ERR_NO_RESOURCES;
  int rc;
  do rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    close(fd);
    return StatusForConnectErrno(err);
  }
  *listener = PeerOf(fd);
  zx_handle_t h = AddEndpoint(fd);
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t ServiceSendRequest(zx_handle_t connection, zx_handle_t request) {
  HandleDisposition moved{ZX_HANDLE_OP_MOVE, request, ZX_OBJ_TYPE_NONE, ZX_RIGHT_SAME_RIGHTS,
                          ZX_OK};
  return ChannelWriteEtc(connection, 0, nullptr, 0, &moved, 1, nullptr, false);
}

}  // namespace zxc
