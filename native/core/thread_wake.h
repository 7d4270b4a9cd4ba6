// Waking a thread blocked in a wait or a call: one eventfd per thread, and an observer
// that fires it when the handle being waited on leaves the table.
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

class CloseWaker final : public HandleObserver {
 public:
  explicit CloseWaker(int efd) : efd_(efd) {}
  void OnHandleRemoved() override {
    closed_.store(true);
    eventfd_write(efd_, 1);
  }
  bool closed() const { return closed_.load(); }

 private:
  int efd_;
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
