#include "core/object.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/platform.h"
#include "core/poller.h"

namespace zxc {

Object::Object(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid)
    : type_(type), fd_(fd), koid_(koid), related_koid_(related_koid) {}

Object::~Object() {
  if (fd_ >= 0) close(fd_);
}

int Object::ReleaseFd() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string Object::name() const {
  std::lock_guard<std::mutex> lock(name_mu_);
  return std::string(name_);
}

void Object::set_name(const char* name, size_t length) {
  std::lock_guard<std::mutex> lock(name_mu_);
  length = std::min<size_t>(length, ZX_MAX_NAME_LEN - 1);
  memcpy(name_, name, length);
  memset(name_ + length, 0, ZX_MAX_NAME_LEN - length);
}

zx_signals_t Object::Signals() {
  pollfd p{fd_, POLLIN | POLLOUT | kPollHangupEvent, 0};
  if (poll(&p, 1, 0) < 0) return 0;
  zx_signals_t s = 0;
  if (p.revents & POLLIN) s |= ZX_CHANNEL_READABLE;
  if (p.revents & POLLOUT) s |= ZX_CHANNEL_WRITABLE;
  if (p.revents & (POLLHUP | kPollHangupEvent)) s |= ZX_CHANNEL_PEER_CLOSED;
  return s;
}

short Object::PollEventsFor(zx_signals_t wanted, zx_signals_t now) const {
  if (now & ZX_CHANNEL_PEER_CLOSED) return 0;
  short events = 0;
  if (wanted & ZX_CHANNEL_READABLE) events |= POLLIN;
  if (wanted & ZX_CHANNEL_WRITABLE) events |= POLLOUT;
  if (wanted & ZX_CHANNEL_PEER_CLOSED) events |= kPollHangupEvent;
  return events;
}

bool Object::WatchIn(int poller, uint64_t data) const {
  return PollerAdd(poller, fd_, kPollerIn | kPollerOut | kPollerHup, true, data) == 0 ||
         errno == EEXIST;
}

size_t Object::Descriptors(int* out) const {
  out[0] = fd_;
  return 1;
}

zx_rights_t RightsForDescriptor(int fd) {
  zx_rights_t rights = ZX_RIGHTS_BASIC;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return rights;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return rights | ZX_RIGHT_READ;
    case O_WRONLY:
      return rights | ZX_RIGHT_WRITE;
    default:
      return rights | ZX_RIGHT_READ | ZX_RIGHT_WRITE;
  }
}

int OpenWaiter(const Object& object) {
  const int poller = PollerCreate();
  if (poller < 0) return -1;
  if (!object.WatchIn(poller, 0)) {
    close(poller);
    return -1;
  }
  return poller;
}

void DrainWaiter(int waiter_fd) {
  constexpr int kMax = kPollerEventsPerFd * kMaxObjectFds;
  PollerEvent events[kMax];
  while (PollerTake(waiter_fd, events, kMax) == kMax) {
  }
}

}  // namespace zxc
