// Small helpers shared by the endpoint's files: errno classes and descriptor cleanup.
#pragma once
#include <errno.h>
#include <unistd.h>

#include <cstddef>

namespace zxc {

inline bool IsPeerGoneErrno(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }
inline bool IsFullErrno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

inline void CloseAll(const int* fds, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (fds[i] >= 0) close(fds[i]);
}

}  // namespace zxc
