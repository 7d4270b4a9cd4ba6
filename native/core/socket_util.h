// Small helpers shared by the objects' files: descriptor cleanup, hangups (and, through
// core/errno_status.h, the errno classes and statuses).
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/errno_status.h"
#include "core/platform.h"
#include "core/types.h"

namespace zxc {

// Whether a connected socket's peer has shut down its sending side (closed, or SHUT_WR),
// bytes still queued or not.
inline bool PeerHasShutDown(int sock) {
  const int revents = PollSocket(sock, 0);
  return revents > 0 && (revents & (kPollReceiveShut | POLLHUP));
}

inline void CloseAll(const int* fds, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (fds[i] >= 0) close(fds[i]);
}

// The descriptors a recvmsg brought, from every SCM_RIGHTS message in its control data, in
// order (close-on-exec, platform.h): at most `capacity` into `fds`, the rest closed.
inline size_t CollectFds(msghdr* msg, int* fds, size_t capacity) {
  size_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const uint8_t* data = CMSG_DATA(c);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      if (count < capacity)
        fds[count++] = fd;
      else
        close(fd);
    }
  }
  AfterReceive(fds, count);
  return count;
}

}  // namespace zxc
