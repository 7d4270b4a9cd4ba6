// Waking a thread blocked in a wait or a call: one eventfd per thread, and an observer
// that fires it when the handle being waited on leaves the table. And the teardown that
// ends such a wait: the process exiting, or the thread's environment going away.
#pragma once
#include <sys/eventfd.h>

#include <atomic>

#include "core/endpoint.h"
#include "core/handle_table.h"

namespace zxc {

// The calling thread's eventfd: opened on first use, and on a later use again while it
// could not be (no descriptor free); -1 then, and a blocking wait answers NO_RESOURCES.
// Closed when the thread ends.
int ThreadWakeFd();
// Empties the calling thread's eventfd after a wait.
void DrainThreadWakeFd();

// ---- teardown ----
// What a thread asks, while blocked, whether the environment it runs is going away (the
// binding installs one per JavaScript thread: can that thread still call into JS?).
using TeardownCheck = bool (*)(void* context);
void SetTeardownCheck(TeardownCheck check, void* context);
// Removes the calling thread's check if it is the one installed with `context`.
void ClearTeardownCheck(void* context);
// How long a thread with a check sleeps at most between two looks at it.
constexpr zx_time_t kTeardownCheckNs = 50'000'000;
// The process is exiting: every other thread's blocking waits end now (woken through
// their eventfds), and any later one ends at once when it would have to sleep.
void CancelBlockedWaits();

// For the blocking wait (PollFor): the calling thread's check, if any, and whether the
// process exits under it.
bool HasTeardownCheck();
bool AskTeardownCheck();
bool ProcessExitingForThread();

class CloseWaker final : public HandleObserver {
 public:
  // `follows_replace`: for a call, which a replace of its handle lets go on.
  explicit CloseWaker(int efd, bool follows_replace = false)
      : efd_(efd), follows_replace_(follows_replace) {}
  void OnHandleRemoved() override {
    closed_.store(true);
    eventfd_write(efd_, 1);
  }
  bool FollowsReplace() const override { return follows_replace_; }
  bool closed() const { return closed_.load(); }

 private:
  int efd_;
  const bool follows_replace_;
  std::atomic<bool> closed_{false};
};

// Wakes a blocked thread when a channel it waits on gains stashed messages.
class StashWaker final : public SignalObserver {
 public:
  explicit StashWaker(int efd) : efd_(efd) {}
  void OnSignalsChanged() override { eventfd_write(efd_, 1); }

 private:
  int efd_;
};

}  // namespace zxc
