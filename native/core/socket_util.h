// Small helpers shared by the objects' files: errno classes, descriptor cleanup, hangups.
#pragma once
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstddef>

#include "core/types.h"

namespace zxc {

inline bool IsPeerGoneErrno(int err) {
  return err == EPIPE || err == ECONNRESET || err == ENOTCONN;
}
inline bool IsFullErrno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

// Why a call that makes descriptors (socketpair, memfd_create, eventfd, epoll_create)
// failed: out of descriptors, or else out of memory.
inline zx_status_t CreationStatus(int err) {
  return err == EMFILE || err == ENFILE ? ZX_ERR_NO_RESOURCES : ZX_ERR_NO_MEMORY;
}

// Whether a connected socket's peer has shut down its sending side (closed, or SHUT_WR).
inline bool PeerHasShutDown(int sock) {
  pollfd p{sock, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

inline void CloseAll(const int* fds, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (fds[i] >= 0) close(fds[i]);
}

}  // namespace zxc
