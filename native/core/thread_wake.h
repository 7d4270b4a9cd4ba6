// Waking a thread blocked in a wait or a call: one wake flag per thread (doorbell.h), and
// an observer that sets it when the handle being waited on leaves the table. And the teardown that
// ends such a wait: the process exiting, or the thread's environment going away.
#pragma once
#include <atomic>

#include "core/doorbell.h"
#include "core/endpoint.h"
#include "core/handle_table.h"

namespace zxc {

// The calling thread's wake flag: opened on first use, and on a later use again while it
// could not be (no descriptor free); !valid() then, and a blocking wait answers
// NO_RESOURCES. Closed when the thread ends.
WakeFlag ThreadWake();
// Clears the calling thread's wake flag after a wait.
void ClearThreadWake();

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
// their wake flags), and any later one ends at once when it would have to sleep.
void CancelBlockedWaits();

// For the blocking wait (PollFor): the calling thread's check, if any, and whether the
// process exits under it.
bool HasTeardownCheck();
bool AskTeardownCheck();
bool ProcessExitingForThread();

class CloseWaker final : public HandleObserver {
 public:
  // `follows_replace`: for a call, which a replace of its handle lets go on.
  explicit CloseWaker(WakeFlag wake, bool follows_replace = false)
      : wake_(wake), follows_replace_(follows_replace) {}
  void OnHandleRemoved() override {
    closed_.store(true);
    wake_.Set();
  }
  bool FollowsReplace() const override { return follows_replace_; }
  bool closed() const { return closed_.load(); }

 private:
  WakeFlag wake_;
  const bool follows_replace_;
  std::atomic<bool> closed_{false};
};

// Wakes a blocked thread when a channel it waits on gains stashed messages.
class StashWaker final : public SignalObserver {
 public:
  explicit StashWaker(WakeFlag wake) : wake_(wake) {}
  void OnSignalsChanged() override { wake_.Set(); }

 private:
  WakeFlag wake_;
};

}  // namespace zxc
