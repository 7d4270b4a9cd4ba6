// zx_object_wait_one (blocking the calling thread) and the monotonic clock.
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "core/handle_table.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

// Woken when the handle being waited on leaves the table.
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

// One per thread that has blocked in a wait, closed when the thread ends (workers).
struct WakeFd {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~WakeFd() { if (fd >= 0) close(fd); }
};

int ThreadWakeFd() {
  thread_local WakeFd wake;
  return wake.fd;
}

// A plain descriptor's signals: readable / writable / hung up, as poll(2) says.
zx_signals_t DescriptorSignals(int fd) {
  pollfd p{fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  if (poll(&p, 1, 0) < 0) return 0;
  zx_signals_t s = 0;
  if (p.revents & POLLIN) s |= ZX_CHANNEL_READABLE;
  if (p.revents & POLLOUT) s |= ZX_CHANNEL_WRITABLE;
  if (p.revents & (POLLHUP | POLLRDHUP)) s |= ZX_CHANNEL_PEER_CLOSED;
  return s;
}

zx_signals_t SignalsOf(Object& object) {
  if (object.type() == ZX_OBJ_TYPE_CHANNEL) return static_cast<Endpoint&>(object).Signals();
  return DescriptorSignals(object.fd());
}

// Which poll events can bring one of `wanted` about, given the state `now`. None when
// nothing can change but a close (e.g. the peer is gone: POLLHUP would fire forever).
short EventsFor(const Object& object, zx_signals_t wanted, zx_signals_t now) {
  if (now & ZX_CHANNEL_PEER_CLOSED) return 0;
  short events = 0;
  if (wanted & ZX_CHANNEL_READABLE) events |= POLLIN;
  if (wanted & ZX_CHANNEL_PEER_CLOSED) events |= POLLRDHUP;
  if (object.type() != ZX_OBJ_TYPE_CHANNEL && (wanted & ZX_CHANNEL_WRITABLE)) events |= POLLOUT;
  return events;
}

}  // namespace

zx_time_t MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<zx_time_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

zx_status_t ObjectWaitOne(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                          zx_signals_t* observed) {
  *observed = 0;
  HandleTable& table = HandleTable::Get();
  HandleInfo info;
  zx_status_t status = table.Lookup(h, &info);
  if (status != ZX_OK) return status;
  if (!(info.rights & ZX_RIGHT_WAIT)) return ZX_ERR_ACCESS_DENIED;

  Object& object = *info.object;
  zx_signals_t now = SignalsOf(object);
  *observed = now;
  if (now & signals) return ZX_OK;
  if (deadline != ZX_TIME_INFINITE && deadline <= MonotonicNow()) return ZX_ERR_TIMED_OUT;

  // Going to block: a close of this handle from another thread must wake us.
  const int wake_fd = ThreadWakeFd();
  CloseWaker waker(wake_fd);
  if (table.AddObserver(h, &waker) != ZX_OK) {
    *observed |= ZX_SIGNAL_HANDLE_CLOSED;
    return ZX_ERR_CANCELED;
  }
  for (;;) {
    now = SignalsOf(object);
    *observed = now;
    if (waker.closed()) {
      *observed |= ZX_SIGNAL_HANDLE_CLOSED;
      status = ZX_ERR_CANCELED;
      break;
    }
    if (now & signals) {
      status = ZX_OK;
      break;
    }
    zx_time_t remaining = deadline == ZX_TIME_INFINITE ? -1 : deadline - MonotonicNow();
    if (deadline != ZX_TIME_INFINITE && remaining <= 0) {
      status = ZX_ERR_TIMED_OUT;
      break;
    }
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {object.fd(), EventsFor(object, signals, now), 0}};
    timespec ts{static_cast<time_t>(remaining / 1000000000), static_cast<long>(remaining % 1000000000)};
    ppoll(fds, fds[1].events ? 2 : 1, remaining < 0 ? nullptr : &ts, nullptr);
  }
  table.RemoveObserver(h, &waker);
  eventfd_t drained;
  eventfd_read(wake_fd, &drained);
  return status;
}

}  // namespace zxc
