// Pollers: epoll on Linux, kqueue on macOS (poller.h). The macOS half can only be
// compiled here, not run: it is kept to the calls kqueue(2) documents.
#include "core/poller.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

#ifdef __linux__
#include <sys/epoll.h>
#else
#include <sys/event.h>
#include <sys/stat.h>
#endif

#include <algorithm>

namespace zxc {
namespace {
// The most events one PollerTake returns (its callers ask for at most this many).
constexpr int kMaxTake = 64;
}  // namespace

#ifdef __linux__

int PollerCreate() { return epoll_create1(EPOLL_CLOEXEC); }

int PollerAdd(int poller, int fd, uint32_t interest, bool edge, uint64_t data) {
  epoll_event ev{};
  if (interest & kPollerIn) ev.events |= EPOLLIN;
  if (interest & kPollerOut) ev.events |= EPOLLOUT;
  if (interest & kPollerHup) ev.events |= EPOLLRDHUP;
  if (edge) ev.events |= EPOLLET;
  ev.data.u64 = data;
  return epoll_ctl(poller, EPOLL_CTL_ADD, fd, &ev);
}

void PollerRemove(int poller, int fd) { epoll_ctl(poller, EPOLL_CTL_DEL, fd, nullptr); }

int PollerTake(int poller, PollerEvent* out, int max) {
  epoll_event events[kMaxTake];
  const int n = epoll_wait(poller, events, std::min(max, kMaxTake), 0);
  for (int i = 0; i < n; ++i) {
    const uint32_t e = events[i].events;
    uint32_t ready = 0;
    if (e & EPOLLIN) ready |= kPollerIn;
    if (e & EPOLLOUT) ready |= kPollerOut;
    if (e & (EPOLLRDHUP | EPOLLHUP)) ready |= kPollerHup;
    if (e & EPOLLERR) ready |= kPollerErr;
    out[i] = PollerEvent{events[i].data.u64, ready};
  }
  return n;
}

int PollDescriptors(pollfd* fds, size_t count, zx_time_t timeout_ns) {
  timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
              static_cast<long>(timeout_ns % 1000000000)};
  return ppoll(fds, count, timeout_ns < 0 ? nullptr : &ts, nullptr);
}

#else  // kqueue

// kqueue() descriptors are close-on-exec (and close-on-fork) from the start (XNU
// kqueue_internal sets FP_CLOEXEC | FP_CLOFORK).
int PollerCreate() { return kqueue(); }

int PollerAdd(int poller, int fd, uint32_t interest, bool edge, uint64_t data) {
  // kqueue accepts regular files and directories (always readable); epoll refuses them,
  // and so does this, so that a port refuses the same objects everywhere.
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    errno = EPERM;
    return -1;
  }
  struct kevent changes[2];
  int n = 0;
  const uint16_t flags = EV_ADD | (edge ? EV_CLEAR : 0);
  void* udata = reinterpret_cast<void*>(static_cast<uintptr_t>(data));
  // A hangup comes as EV_EOF on the read filter.
  if (interest & (kPollerIn | kPollerHup))
    EV_SET(&changes[n++], fd, EVFILT_READ, flags, 0, 0, udata);
  if (interest & kPollerOut) EV_SET(&changes[n++], fd, EVFILT_WRITE, flags, 0, 0, udata);
  return kevent(poller, changes, n, nullptr, 0, nullptr) < 0 ? -1 : 0;
}

void PollerRemove(int poller, int fd) {
  // EV_RECEIPT: each change answers in the event list (ENOENT for a filter never added)
  // instead of the first failure stopping the call.
  struct kevent changes[2], answers[2];
  EV_SET(&changes[0], fd, EVFILT_READ, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
  EV_SET(&changes[1], fd, EVFILT_WRITE, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
  kevent(poller, changes, 2, answers, 2, nullptr);
}

int PollerTake(int poller, PollerEvent* out, int max) {
  struct kevent events[kMaxTake];
  const timespec zero{0, 0};
  const int n = kevent(poller, nullptr, 0, events, std::min(max, kMaxTake), &zero);
  for (int i = 0; i < n; ++i) {
    const struct kevent& e = events[i];
    uint32_t ready = 0;
    if (e.filter == EVFILT_READ) ready |= kPollerIn;
    if (e.filter == EVFILT_WRITE) ready |= kPollerOut;
    if (e.flags & EV_EOF) ready |= kPollerHup;
    if (e.flags & EV_ERROR) ready |= kPollerErr;
    out[i] = PollerEvent{static_cast<uint64_t>(reinterpret_cast<uintptr_t>(e.udata)), ready};
  }
  return n;
}

// No ppoll on macOS.
int PollDescriptors(pollfd* fds, size_t count, zx_time_t timeout_ns) {
  int ms = -1;
  if (timeout_ns >= 0) {
    const zx_time_t up = timeout_ns / 1000000 + (timeout_ns % 1000000 != 0);
    ms = static_cast<int>(std::min<zx_time_t>(up, INT_MAX));
  }
  return poll(fds, static_cast<nfds_t>(count), ms);
}

#endif

}  // namespace zxc
