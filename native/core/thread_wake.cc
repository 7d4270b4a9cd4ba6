#include "core/thread_wake.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace zxc {
namespace {

// Every thread's wake flag, for CancelBlockedWaits. Never destroyed: threads may still end
// (and unregister) while the process runs its exit handlers.
std::mutex registry_mutex;
std::vector<WakeFlag>& Registry() {
  static auto* flags = new std::vector<WakeFlag>();
  return *flags;
}

std::atomic<bool> process_exiting{false};
thread_local bool exit_caller = false;  // the thread that called CancelBlockedWaits

struct ThreadWakeFlag {
  WakeFlag flag;
  void Open() {
    flag = WakeFlag::Open();
    if (!flag.valid()) return;
    std::lock_guard<std::mutex> lock(registry_mutex);
    Registry().push_back(flag);
  }
  ~ThreadWakeFlag() {
    if (!flag.valid()) return;
    {
      std::lock_guard<std::mutex> lock(registry_mutex);
      auto& flags = Registry();
      flags.erase(std::find_if(flags.begin(), flags.end(),
                               [&](const WakeFlag& f) { return f.wait_fd() == flag.wait_fd(); }));
    }
    flag.Close();
  }
};

struct InstalledCheck {
  TeardownCheck check = nullptr;
  void* context = nullptr;
};
thread_local InstalledCheck installed;

}  // namespace

WakeFlag ThreadWake() {
  thread_local ThreadWakeFlag wake;
  if (!wake.flag.valid()) wake.Open();
  return wake.flag;
}

void ClearThreadWake() { ThreadWake().Clear(); }

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
  for (const WakeFlag& flag : Registry()) flag.Set();
}

}  // namespace zxc
