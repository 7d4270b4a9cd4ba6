// A timer: a timerfd on CLOCK_MONOTONIC (the clock deadlines use). ZX_TIMER_SIGNALED is the
// timerfd's readability (its expiration count above 0): it comes on at the deadline, and
// timerfd_settime (a new deadline, or a cancel) sets the count back to 0. Nobody reads the
// timerfd, so the signal stays on until then, as on Zircon. The timerfd travels in
// messages, and every process that holds it shares one timer (docs/objects.md, Timers).
// On macOS (no timerfd) the descriptor is a kqueue holding one EVFILT_TIMER at the
// deadline on CLOCK_UPTIME_RAW: readable once the timer has fired (the fired knote stays
// queued, nobody takes it); set and cancel delete the knote. A kqueue can't travel.
// Its user signals (ZX_USER_SIGNAL_0..7) live in a page made on first need, which travels
// with the timerfd (user_signals.h; docs/objects.md, "User signals").
#pragma once
#include <mutex>
#include <vector>

#include "core/object_kinds.h"
#include "core/user_signals.h"

namespace zxc {

class Timer final : public WithUserSignals {
 public:
  Timer(int fd, zx_koid_t koid, zx_koid_t related_koid, uint32_t options = ZX_TIMER_SLACK_CENTER);
  // SIGNALED is the descriptor's; the user signals are the page's.
  zx_signals_t Signals() override;
  short PollEventsFor(zx_signals_t wanted, zx_signals_t now) const override;
  bool WatchIn(int poller, uint64_t data) const override;

  // The deadline it will fire at (0 when not armed) and the slack it was set with: as set,
  // when this process armed it last; else as the timerfd tells (slack 0). On macOS only
  // this process can have armed it.
  void Deadline(zx_time_t* deadline, zx_time_t* slack) const;
  uint32_t options() const { return options_; }
  zx_status_t Set(zx_time_t deadline, zx_time_t slack);
  zx_status_t Cancel();

 private:
  const uint32_t options_;  // the slack mode it was created with (kept in this process)
  // The last deadline and slack this process armed it with (a timerfd holds neither: it
  // tells the time left). Guarded by mu_, with the timerfd_settime they go with.
  mutable std::mutex mu_;
  zx_time_t set_deadline_ = 0;
  zx_time_t slack_ = 0;
};

extern const ObjectKind kTimerKind;
// Whether timers travel in messages and to children. Not on macOS: XNU refuses to send a
// kqueue (bsd/kern/kern_descrip.c fg_sendable: only vnodes, sockets, pipes, POSIX shared
// memory and net policies; unp_internalize then fails the sendmsg with EINVAL), so there
// a timer is no kind that travels and sending one answers NOT_SUPPORTED.
#ifdef __APPLE__
constexpr bool kTimersTravel = false;
#else
constexpr bool kTimersTravel = true;
#endif

// Its syscalls are declared in core/syscalls.h.
// ZX_INFO_TIMER's record (zx_info_timer_t, 24 bytes) of the timer behind `object`.
void TimerInfo(const Object& object, std::vector<uint8_t>* record);

}  // namespace zxc
