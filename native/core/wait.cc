// zx_object_wait_one / wait_many (blocking the calling thread), object signals and the
// monotonic clock.
#include <errno.h>
#include <poll.h>
#include <time.h>

#include <memory>
#include <vector>

#include "core/handle_table.h"
#include "core/thread_wake.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

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

zx_signals_t SignalsOf(Object& object) {
  if (object.type() == ZX_OBJ_TYPE_CHANNEL) return static_cast<Endpoint&>(object).Signals();
  return DescriptorSignals(object.fd());
}

zx_time_t MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<zx_time_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

zx_time_t NsUntil(zx_time_t deadline) {
  if (deadline == ZX_TIME_INFINITE) return -1;
  const zx_time_t now = MonotonicNow();
  return deadline <= now ? 0 : deadline - now;
}

zx_status_t ObjectWaitMany(WaitItem* items, size_t count, zx_time_t deadline) {
  if (count > ZX_WAIT_MANY_MAX_ITEMS) return ZX_ERR_OUT_OF_RANGE;
  HandleTable& table = HandleTable::Get();
  HandleInfo infos[ZX_WAIT_MANY_MAX_ITEMS];
  for (size_t i = 0; i < count; ++i) {
    items[i].pending = 0;
    zx_status_t status = table.Lookup(items[i].handle, &infos[i]);
    if (status != ZX_OK) return status;
    if (!(infos[i].rights & ZX_RIGHT_WAIT)) return ZX_ERR_ACCESS_DENIED;
  }

  // Registered only once we have to block: a close from another thread must wake us.
  int wake_fd = -1;
  std::vector<std::unique_ptr<CloseWaker>> wakers;
  std::unique_ptr<StashWaker> stash_waker;
  auto unregister = [&] {
    for (size_t i = 0; i < wakers.size(); ++i) table.RemoveObserver(items[i].handle, wakers[i].get());
    if (stash_waker)
      for (size_t i = 0; i < count; ++i)
        if (infos[i].object->type() == ZX_OBJ_TYPE_CHANNEL)
          static_cast<Endpoint*>(infos[i].object.get())->RemoveSignalObserver(stash_waker.get());
    if (!wakers.empty()) DrainThreadWakeFd();
  };
  pollfd fds[ZX_WAIT_MANY_MAX_ITEMS + 1];
  for (;;) {
    bool satisfied = false, canceled = false;
    for (size_t i = 0; i < count; ++i) {
      items[i].pending = SignalsOf(*infos[i].object);
      if (i < wakers.size() && wakers[i]->closed()) {
        items[i].pending |= ZX_SIGNAL_HANDLE_CLOSED;
        canceled = true;
      }
      if (items[i].pending & items[i].waitfor) satisfied = true;
    }
    zx_status_t status = ZX_ERR_SHOULD_WAIT;
    const zx_time_t remaining = NsUntil(deadline);
    if (canceled) status = ZX_ERR_CANCELED;
    else if (satisfied) status = ZX_OK;
    else if (remaining == 0) status = ZX_ERR_TIMED_OUT;
    if (status != ZX_ERR_SHOULD_WAIT) {
      unregister();
      return status;
    }
    if (wakers.empty() && count > 0) {
      wake_fd = ThreadWakeFd();
      stash_waker = std::make_unique<StashWaker>(wake_fd);
      for (size_t i = 0; i < count; ++i) {
        wakers.push_back(std::make_unique<CloseWaker>(wake_fd));
        if (table.AddObserver(items[i].handle, wakers[i].get()) != ZX_OK)
          wakers[i]->OnHandleRemoved();  // closed since the lookup
        // A call on another thread may stash a message: the socket won't say so.
        if (infos[i].object->type() == ZX_OBJ_TYPE_CHANNEL)
          static_cast<Endpoint*>(infos[i].object.get())->AddSignalObserver(stash_waker.get());
      }
      continue;
    }
    if (wake_fd < 0) wake_fd = ThreadWakeFd();  // nothing to watch: sleep to the deadline
    fds[0] = pollfd{wake_fd, POLLIN, 0};
    for (size_t i = 0; i < count; ++i) {
      const Object& object = *infos[i].object;
      short events = EventsFor(object, items[i].waitfor, items[i].pending);
      fds[i + 1] = pollfd{events ? object.fd() : -1, events, 0};  // fd -1: ignored
    }
    timespec ts{static_cast<time_t>(remaining / 1000000000), static_cast<long>(remaining % 1000000000)};
    ppoll(fds, count + 1, remaining < 0 ? nullptr : &ts, nullptr);
  }
}

zx_status_t ObjectWaitOne(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                          zx_signals_t* observed) {
  WaitItem item{h, signals, 0};
  zx_status_t status = ObjectWaitMany(&item, 1, deadline);
  *observed = item.pending;
  return status;
}

}  // namespace zxc
