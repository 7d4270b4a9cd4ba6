// zx_object_wait_one / wait_many (blocking the calling thread), object signals and the
// monotonic clock.
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <new>
#include <optional>
#include <utility>

#include "core/blocking_wait.h"
#include "core/handle_table.h"
#include "core/platform.h"
#include "core/poller.h"
#include "core/syscalls.h"
#include "core/thread_wake.h"

namespace zxc {
zx_signals_t SignalsOf(Object& object) { return object.Signals(); }

zx_time_t MonotonicNow() {
  timespec ts;
  clock_gettime(kMonotonicClock, &ts);
  return static_cast<zx_time_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

zx_time_t NsUntil(zx_time_t deadline) {
  if (deadline == ZX_TIME_INFINITE) return -1;
  const zx_time_t now = MonotonicNow();
  return deadline <= now ? 0 : deadline - now;
}

namespace {

// Up to N objects on the stack, built one at a time: a wait on one handle (once per
// message for a blocked reader) doesn't build and destroy N of them. Full, it builds
// nothing more (emplace_back answers null).
template <typename T, size_t N>
class StackList {
 public:
  StackList() = default;
  StackList(const StackList&) = delete;
  StackList& operator=(const StackList&) = delete;
  ~StackList() {
    while (size_ > 0) (*this)[--size_].~T();
  }
  template <typename... Args>
  T* emplace_back(Args&&... args) {
    if (size_ == N) return nullptr;
    return new (slots_[size_++].bytes) T(std::forward<Args>(args)...);
  }
  T& operator[](size_t i) { return *std::launder(reinterpret_cast<T*>(slots_[i].bytes)); }
  size_t size() const { return size_; }

 private:
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  Slot slots_[N];
  size_t size_ = 0;
};

}  // namespace

zx_status_t PollFor(pollfd* fds, size_t count, zx_time_t remaining) {
  fds[0] = pollfd{ThreadWake().wait_fd(), POLLIN, 0};
  // Once the process exits, a look but no sleep; with a teardown check, sleeps of at most
  // kTeardownCheckNs, the check asked after each that ended with nothing ready.
  const bool exiting = ProcessExitingForThread();
  zx_time_t sleep = remaining;
  if (exiting)
    sleep = 0;
  else if (HasTeardownCheck() && (remaining < 0 || remaining > kTeardownCheckNs))
    sleep = kTeardownCheckNs;
  const int ready = PollDescriptors(fds, count, sleep);
  if (ready <= 0)
    for (size_t i = 0; i < count; ++i) fds[i].revents = 0;
  if (fds[0].revents & POLLIN)
    ClearThreadWake();  // now, or it would wake every later poll (a stale set is harmless)
  for (size_t i = 1; i < count; ++i)
    if (fds[i].revents) return ZX_OK;
  const bool slept_out = ready == 0 && sleep != remaining;
  if (exiting || ProcessExitingForThread() || (slept_out && AskTeardownCheck()))
    return ZX_ERR_CANCELED;
  return ZX_OK;
}

zx_status_t ObjectWaitMany(WaitItem* items, size_t count, zx_time_t deadline) {
  if (count > ZX_WAIT_MANY_MAX_ITEMS) return ZX_ERR_OUT_OF_RANGE;
  HandleTable& table = HandleTable::Get();
  StackList<HandleInfo, ZX_WAIT_MANY_MAX_ITEMS> infos;
  for (size_t i = 0; i < count; ++i) {
    items[i].pending = 0;
    zx_status_t status =
        table.LookupChecked(items[i].handle, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, infos.emplace_back());
    if (status != ZX_OK) return status;
  }

  // Registered only once we have to block: a close from another thread, or a call that
  // stashes a message, sets the thread's wake flag.
  bool registered = false;
  StackList<CloseWaker, ZX_WAIT_MANY_MAX_ITEMS> wakers;
  std::optional<StashWaker> stash_waker;
  auto endpoint_at = [&](size_t i) -> Endpoint* {
    return infos[i].object->type() == ZX_OBJ_TYPE_CHANNEL
               ? static_cast<Endpoint*>(infos[i].object.get())
               : nullptr;
  };
  // Objects whose state is in shared memory are watched through epoll instances of our own.
  int waiters[ZX_WAIT_MANY_MAX_ITEMS];
  auto unregister = [&] {
    for (size_t i = 0; i < wakers.size(); ++i) {
      table.RemoveObserver(items[i].handle, &wakers[i]);
      if (waiters[i] >= 0) close(waiters[i]);
    }
    if (stash_waker)
      for (size_t i = 0; i < count; ++i)
        if (Endpoint* endpoint = endpoint_at(i)) endpoint->RemoveSignalObserver(&*stash_waker);
  };
  // The first look can be the ppoll itself when every item is a channel whose signals its
  // socket tells at once (READABLE, PEER_CLOSED; no WRITABLE, which needs no event, no
  // pending calls, whose replies are routed first, and no stash): a ppoll returns at once
  // when the socket is readable or hung up. A deadline already past still looks first.
  // (Not a framed stream's: its socket is readable with only part of a frame.)
  auto socket_tells_first = [&] {
    for (size_t i = 0; i < count; ++i) {
      Endpoint* endpoint = endpoint_at(i);
      if (!endpoint || !endpoint->PollableFd() ||
          (items[i].waitfor & (ZX_CHANNEL_WRITABLE | ZX_USER_SIGNAL_ALL)) ||
          endpoint->HasPendingCalls() || endpoint->HasStash())
        return false;
    }
    return true;
  };
  pollfd fds[ZX_WAIT_MANY_MAX_ITEMS + 1];
  bool first = true;
  return BlockingWait(deadline, fds, [&](const WaitTurn& turn, size_t* n) -> zx_status_t {
    if (turn.torn_down) {
      unregister();
      return ZX_ERR_CANCELED;
    }
    if (turn.polled)
      for (size_t i = 0; i < count; ++i)
        if (waiters[i] >= 0 && (fds[i + 1].revents & POLLIN)) DrainWaiter(waiters[i]);
    const bool look = !first || turn.expired || !socket_tells_first();
    first = false;
    bool satisfied = false, canceled = false, no_waiter = false;
    for (size_t i = 0; look && i < count; ++i) {
      // A channel whose socket just showed a record, and no hangup, is READABLE|WRITABLE:
      // no need to ask again, unless calls were ever made on it (the record may have been
      // a reply, routed to its caller since), or its own waiter (the doorbell) was polled.
      const short revents = turn.polled && waiters[i] < 0 ? fds[i + 1].revents : 0;
      Endpoint* endpoint = endpoint_at(i);
      if (endpoint && endpoint->PollableFd() && (revents & POLLIN) &&
          !(revents & (POLLHUP | kPollHangupEvent | POLLERR)) && !endpoint->EverCalled())
        items[i].pending = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
      else
        items[i].pending = SignalsOf(*infos[i].object);
      if (i < wakers.size() && wakers[i].closed()) {
        items[i].pending |= ZX_SIGNAL_HANDLE_CLOSED;
        canceled = true;
      }
      if (items[i].pending & items[i].waitfor) satisfied = true;
      // What the poll showed may call for edges from now on (a framed endpoint's part of a
      // frame), or the poll would spin.
      if (waiters[i] < 0 && !satisfied &&
          infos[i].object->NeedsWaiterAfter(revents, items[i].pending) &&
          (waiters[i] = OpenWaiter(*infos[i].object)) < 0)
        canceled = no_waiter = true;
    }
    zx_status_t status = ZX_ERR_SHOULD_WAIT;
    if (no_waiter)
      status = ZX_ERR_NO_RESOURCES;
    else if (canceled)
      status = ZX_ERR_CANCELED;
    else if (satisfied)
      status = ZX_OK;
    else if (look && turn.expired)
      status = ZX_ERR_TIMED_OUT;
    if (status != ZX_ERR_SHOULD_WAIT) {
      unregister();
      return status;
    }
    if (!registered) {
      registered = true;
      const WakeFlag wake = ThreadWake();
      if (!wake.valid()) return ZX_ERR_NO_RESOURCES;  // nothing could wake this thread
      stash_waker.emplace(wake);
      bool look_again = false;
      for (size_t i = 0; i < count; ++i) {
        CloseWaker* waker = wakers.emplace_back(wake);
        if (!waker) {
          unregister();
          return ZX_ERR_NO_RESOURCES;
        }
        // (A waiter may also come later: NeedsWaiterAfter, above.)
        const bool own = infos[i].object->NeedsWaiter(items[i].waitfor);
        waiters[i] = own ? OpenWaiter(*infos[i].object) : -1;
        if (own && waiters[i] < 0) {
          unregister();
          return ZX_ERR_NO_RESOURCES;
        }
        if (table.AddObserver(items[i].handle, waker) != ZX_OK) {
          waker->OnHandleRemoved();  // closed since the lookup
          look_again = true;
        }
        if (Endpoint* endpoint = endpoint_at(i)) {
          endpoint->AddSignalObserver(&*stash_waker);
          look_again |= endpoint->HasStash();  // stashed before we were listening
        }
      }
      if (look_again) return ZX_ERR_NEXT;
    }
    for (size_t i = 0; i < count; ++i) {
      const Object& object = *infos[i].object;
      if (waiters[i] >= 0) {
        fds[i + 1] = pollfd{waiters[i], POLLIN, 0};
        continue;
      }
      short events = object.PollEventsFor(items[i].waitfor, items[i].pending);
      fds[i + 1] = pollfd{events ? object.fd() : -1, events, 0};  // fd -1: ignored
    }
    *n = count + 1;
    return ZX_ERR_SHOULD_WAIT;
  });
}

zx_status_t ObjectWaitOne(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                          zx_signals_t* observed) {
  WaitItem item{h, signals, 0};
  zx_status_t status = ObjectWaitMany(&item, 1, deadline);
  *observed = item.pending;
  return status;
}

}  // namespace zxc
