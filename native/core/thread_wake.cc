#include "core/thread_wake.h"

#include <unistd.h>

namespace zxc {
namespace {

struct WakeFd {
  int fd = -1;
  ~WakeFd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

int ThreadWakeFd() {
  thread_local WakeFd wake;
  if (wake.fd < 0) wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return wake.fd;
}

void DrainThreadWakeFd() {
  eventfd_t value;
  eventfd_read(ThreadWakeFd(), &value);
}

}  // namespace zxc
