// Timers as timerfds (a kqueue's EVFILT_TIMER on macOS): creation, set and cancel, the
// signal from poll(2), and the kind that lets them travel.
#include "core/timer.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#ifdef __APPLE__
#include <mach/mach_time.h>
#include <sys/event.h>
#else
#include <sys/timerfd.h>
#endif

#include <cstring>

#include "core/handle_table.h"
#include "core/koid.h"
#include "core/poller.h"
#include "core/port.h"
#include "core/socket_util.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

// Whether the timer has fired (and not been set or cancelled since): its descriptor is
// readable.
bool Fired(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// ---- the OS timer: a timerfd, or on macOS a kqueue with one EVFILT_TIMER ----------------
#ifdef __APPLE__

// A timer's deadline (CLOCK_UPTIME_RAW ns) in mach_absolute_time units, rounded up: the
// two are one clock ("identical to the result of mach_absolute_time() after the
// appropriate mach_timebase conversion", clock_gettime(3)), so it never fires early.
uint64_t MachTicksAtLeast(zx_time_t ns) {
  static const mach_timebase_info_data_t timebase = [] {
    mach_timebase_info_data_t tb;
    mach_timebase_info(&tb);
    return tb;
  }();
  const unsigned __int128 scaled = static_cast<unsigned __int128>(ns) * timebase.denom;
  return static_cast<uint64_t>((scaled + timebase.numer - 1) / timebase.numer);
}

int NewOsTimer() { return kqueue(); }

// Arms it at `deadline` (ZX_TIME_INFINITE: disarmed). The knote goes first, fired or not,
// so the kqueue is no longer readable; an absolute one on mach time (NOTE_ABSOLUTE |
// NOTE_MACHTIME, XNU filt_timervalidate) fires once, at once when the time is past (XNU
// filt_timer_is_ready: a deadline of 0 or one already reached), and stays queued.
bool ArmOsTimer(int kq, zx_time_t deadline) {
  struct kevent change;
  EV_SET(&change, 0, EVFILT_TIMER, EV_DELETE, 0, 0, nullptr);
  if (kevent(kq, &change, 1, nullptr, 0, nullptr) != 0 && errno != ENOENT) return false;
  if (deadline == ZX_TIME_INFINITE) return true;
  EV_SET(&change, 0, EVFILT_TIMER, EV_ADD, NOTE_ABSOLUTE | NOTE_MACHTIME,
         deadline > 0 ? MachTicksAtLeast(deadline) : 0, nullptr);
  return kevent(kq, &change, 1, nullptr, 0, nullptr) == 0;
}

#else

constexpr zx_time_t kNsPerSecond = 1000000000;

timespec TimespecOf(zx_time_t ns) {
  return timespec{static_cast<time_t>(ns / kNsPerSecond), static_cast<long>(ns % kNsPerSecond)};
}

int NewOsTimer() { return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK); }

bool ArmOsTimer(int fd, zx_time_t deadline) {
  itimerspec when{};  // all zero: disarmed
  // A deadline now or past fires at once (an absolute 0 would disarm instead). Either way
  // the expiration count goes back to 0.
  if (deadline != ZX_TIME_INFINITE) when.it_value = TimespecOf(deadline > 0 ? deadline : 1);
  return timerfd_settime(fd, TFD_TIMER_ABSTIME, &when, nullptr) == 0;
}

// Whether `fd` is a timerfd: the anonymous inode's name says so. (Only Linux needs to ask:
// timers travel nowhere else, kTimersTravel.)
bool IsTimerfd(int fd) {
  char path[32], target[32] = {};
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  return n > 0 && strcmp(target, "anon_inode:[timerfd]") == 0;
}

#endif

zx_status_t LookupTimer(zx_handle_t h, zx_rights_t rights, HandleInfo* info, Timer** timer) {
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_TIMER, rights, info);
  if (status == ZX_OK) *timer = static_cast<Timer*>(info->object.get());
  return status;
}

}  // namespace

const ObjectKind kTimerKind{
    ZX_OBJ_TYPE_TIMER,
    1,
#ifdef __APPLE__
    [](const int*) { return false; },  // never asked (kTimersTravel)
#else
    [](const int* fds) { return IsTimerfd(fds[0]); },
#endif
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      return std::make_shared<Timer>(fds[0], koid, related);
    },
    [](const int*) { return ~0u; },  // any holder can set a timerfd: rights are the library's
};

Timer::Timer(int fd, zx_koid_t koid, zx_koid_t related_koid, uint32_t options)
    : WithUserSignals(ZX_OBJ_TYPE_TIMER, fd, koid, related_koid, nullptr), options_(options) {}

zx_signals_t Timer::Signals() { return (Fired(fd()) ? ZX_TIMER_SIGNALED : 0) | user_.Load(); }

short Timer::PollEventsFor(zx_signals_t wanted, zx_signals_t) const {
  return (wanted & ZX_TIMER_SIGNALED) ? POLLIN : 0;
}

bool Timer::WatchIn(int poller, uint64_t data) const {
  // Readability alone (a kqueue takes no write filter); then the page's doorbell, if any.
  return (PollerAdd(poller, fd(), kPollerIn, true, data) == 0 || errno == EEXIST) &&
         user_.WatchIn(poller, data);
}

void Timer::Deadline(zx_time_t* deadline, zx_time_t* slack) const {
  *deadline = *slack = 0;
  std::lock_guard<std::mutex> lock(mu_);
#ifdef __APPLE__
  // Only this process armed it: as set, until it fires.
  if (set_deadline_ == ZX_TIME_INFINITE || Fired(fd())) return;
  *deadline = set_deadline_;
  *slack = slack_;
#else
  // The timerfd tells the time left, measured between `before` and `after`: the deadline
  // lies in [before + remaining, after + remaining]. The one this process set, if it lies
  // there, is the timer's (another process's set since would have to land in that window).
  itimerspec left{};
  const zx_time_t before = MonotonicNow();
  if (timerfd_gettime(fd(), &left) != 0) return;
  const zx_time_t after = MonotonicNow();
  const zx_time_t remaining = left.it_value.tv_sec * kNsPerSecond + left.it_value.tv_nsec;
  if (remaining == 0) return;  // not armed (or already fired)
  if (set_deadline_ >= before + remaining && set_deadline_ <= after + remaining) {
    *deadline = set_deadline_;
    *slack = slack_;
  } else {
    *deadline = after + remaining;
  }
#endif
}

zx_status_t Timer::Set(zx_time_t deadline, zx_time_t slack) {
  // A deadline now or past fires at once; INFINITE never fires. Either way SIGNALED clears.
  std::lock_guard<std::mutex> lock(mu_);
  if (!ArmOsTimer(fd(), deadline)) return ZX_ERR_BAD_STATE;
  set_deadline_ = deadline;
  slack_ = slack;
  return ZX_OK;
}

zx_status_t Timer::Cancel() { return Set(ZX_TIME_INFINITE, 0); }

zx_status_t TimerCreate(uint32_t options, uint32_t clock_id, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (options > ZX_TIMER_SLACK_LATE) return ZX_ERR_INVALID_ARGS;
  if (clock_id != ZX_CLOCK_MONOTONIC) return ZX_ERR_INVALID_ARGS;
  int fd = NewOsTimer();
  if (fd < 0) return CreationStatus(errno);
  auto timer = std::make_shared<Timer>(fd, NewKoid(), ZX_KOID_INVALID, options);
  zx_handle_t h = HandleTable::Get().Add(std::move(timer), ZX_DEFAULT_TIMER_RIGHTS);
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t TimerSet(zx_handle_t h, zx_time_t deadline, zx_time_t slack) {
  if (slack < 0) return ZX_ERR_OUT_OF_RANGE;
  HandleInfo info;
  Timer* timer;
  zx_status_t status = LookupTimer(h, ZX_RIGHT_WRITE, &info, &timer);
  if (status != ZX_OK) return status;
  ObservedChange change(*timer);
  return timer->Set(deadline, slack);
}

zx_status_t TimerCancel(zx_handle_t h) {
  HandleInfo info;
  Timer* timer;
  zx_status_t status = LookupTimer(h, ZX_RIGHT_WRITE, &info, &timer);
  if (status != ZX_OK) return status;
  ObservedChange change(*timer);
  return timer->Cancel();
}

void TimerInfo(const Object& object, std::vector<uint8_t>* record) {
  const auto& timer = static_cast<const Timer&>(object);
  zx_time_t deadline, slack;
  timer.Deadline(&deadline, &slack);
  const uint32_t head[2] = {timer.options(), ZX_CLOCK_MONOTONIC};
  const zx_time_t tail[2] = {deadline, slack};
  auto put = [&](const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    record->insert(record->end(), b, b + n);
  };
  put(head, sizeof(head));
  put(tail, sizeof(tail));
}

}  // namespace zxc
