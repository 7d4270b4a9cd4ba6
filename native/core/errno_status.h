// The one errno→status decision of the core: what a failed Linux call means as a Zircon
// status, and the errno classes the objects' files branch on.
#pragma once
#include <errno.h>

#include <initializer_list>

#include "core/types.h"

namespace zxc {

inline bool IsPeerGoneErrno(int err) {
  return err == EPIPE || err == ECONNRESET || err == ENOTCONN;
}
inline bool IsFullErrno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

// One errno a call answers in its own way.
struct ErrnoStatus {
  int err;
  zx_status_t status;
};

// The status of a call that failed with `err`. Whichever the call, out of descriptors
// (EMFILE, ENFILE) is NO_RESOURCES and out of memory (ENOMEM) is NO_MEMORY. `overrides`,
// looked at first, are where Zircon's status for this call differs (a size out of range,
// a right the handle lacks, a path that isn't there...); `otherwise` is the call's status
// for every other errno.
inline zx_status_t StatusForErrno(int err, zx_status_t otherwise,
                                  std::initializer_list<ErrnoStatus> overrides = {}) {
  for (const ErrnoStatus& o : overrides)
    if (o.err == err) return o.status;
  if (err == EMFILE || err == ENFILE) return ZX_ERR_NO_RESOURCES;
  if (err == ENOMEM) return ZX_ERR_NO_MEMORY;
  return otherwise;
}

// Why a call that makes descriptors (socketpair, memfd_create, eventfd, epoll_create,
// timerfd_create) failed: out of descriptors, or else out of memory.
inline zx_status_t CreationStatus(int err) { return StatusForErrno(err, ZX_ERR_NO_MEMORY); }

}  // namespace zxc
