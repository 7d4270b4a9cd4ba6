#include "core/thread_wake.h"

#include <unistd.h>

namespace zxc {
namespace {

struct WakeFd {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~WakeFd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

int ThreadWakeFd() {
  thread_local WakeFd wake;
  return wake.fd;
}

void DrainThreadWakeFd() {
  eventfd_t value;
  eventfd_read(ThreadWakeFd(), &value);
}

}  // namespace zxc
