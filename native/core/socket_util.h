// Small helpers shared by the objects' files: descriptor cleanup, hangups (and, through
// core/errno_status.h, the errno classes and statuses).
#pragma once
#include <poll.h>
#include <unistd.h>

#include <cstddef>

#include "core/errno_status.h"
#include "core/types.h"

namespace zxc {

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
