#include "core/thread_wake.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace zxc {
namespace {

// Every thread's eventfd, for CancelBlockedWaits. Never destroyed: threads may still end
// (and unregister) while the process runs its exit handlers.
std::mutex registry_mutex;
std::vector<int>& Registry() {
  static auto* fds = new std::vector<int>();
  return *fds;
}

std::atomic<bool> process_exiting{false};
thread_local bool exit_caller = false;  // the thread that called CancelBlockedWaits

struct WakeFd {
  int fd = -1;
  void Open() {
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return;
    std::lock_guard<std::mutex> lock(registry_mutex);
    Registry().push_back(fd);
  }
  ~WakeFd() {
    if (fd < 0) return;
    {
      std::lock_guard<std::mutex> lock(registry_mutex);
      auto& fds = Registry();
      fds.erase(std::find(fds.begin(), fds.end(), fd));
    }
    close(fd);
  }
};

struct InstalledCheck {
  TeardownCheck check = nullptr;
  void* context = nullptr;
};
thread_local InstalledCheck installed;

}  // namespace

int ThreadWakeFd() {
  thread_local WakeFd wake;
  if (wake.fd < 0) wake.Open();
  return wake.fd;
}

void DrainThreadWakeFd() {
  eventfd_t value;
  eventfd_read(ThreadWakeFd(), &value);
}

void SetTeardownCheck(TeardownCheck check, void* context) { installed = {check, context}; }

void ClearTeardownCheck(void* context) {
  if (installed.context == context) installed = {};
}

bool HasTeardownCheck() { return installed.check != nullptr; }

bool AskTeardownCheck() { return installed.check && installed.check(installed.context); }

bool ProcessExitingForThread() { return process_exiting.load() && !exit_caller; }

void CancelBlockedWaits() {
  exit_caller = true;
  process_exiting.store(true);
  std::lock_guard<std::mutex> lock(registry_mutex);
  for (int fd : Registry()) eventfd_write(fd, 1);
}

}  // namespace zxc
