// Wake flags and shared doorbells on both backends (doorbell.h).
//
// The portable shared doorbell is an AF_UNIX SOCK_DGRAM socket connected to itself: one
// descriptor that any holder can both ring (send a datagram) and watch (readable), as an
// eventfd is, so an event still carries two descriptors and an eventpair side three.
// A pipe would need both ends to travel (a ringer that finds it full must read some
// back), and its O_NONBLOCK, like an eventfd's, belongs to the one open file description
// every holder shares: a holder could clear it and fill the pipe, and every ring would
// then block. A socket takes MSG_DONTWAIT per call, whatever the file's flags.
//
// Edge-triggered watchers wake at every datagram, queued or not: each send wakes the
// receiving socket's waiters (Linux net/unix/af_unix.c, unix_dgram_sendmsg: sk_data_ready
// for every datagram; XNU bsd/kern/uipc_usrreq.c, uipc_send SOCK_DGRAM: sowakeup after
// each sbappendaddr, which KNOTEs the socket's EVFILT_READ knotes, re-activated with
// EV_CLEAR since filt_soread finds data). XNU accepts a datagram socket connected to
// itself, and only a datagram one (unp_connect: "possible only for SOCK_DGRAM sockets").
// Connecting needs a name for a moment: a random one in $TMPDIR (or /tmp), unlinked at
// once; the socket keeps its connection, and its name for getsockname/getpeername.
//
// The wake flags' pipes are level-triggered and never leave the process: a full pipe is
// set already, so a write that can't go in loses nothing.
#include "core/doorbell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <cstddef>
#include <cstdio>
#include <cstring>

#include "core/platform.h"

namespace zxc {
namespace {

#ifdef __linux__
// An eventfd doorbell: recognised by its /proc/self/fd link.
bool IsEventFd(int fd) {
  char path[32], target[32];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return false;
  target[n] = '\0';
  return std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

// Whether adding 0 to an eventfd doorbell wakes its watchers: only while its counter is
// not 0 (epoll reports an eventfd only while it is readable).
bool Rings(int doorbell) {
  pollfd p{doorbell, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
#endif

// Datagrams a ringer that found the doorbell full takes back before sending again: room
// for its own and for as many rings after it.
constexpr int kDrainPerRing = 64;

// A name for a new doorbell to connect to itself through, in $TMPDIR (macOS: a per-user
// directory) or /tmp; false with errno.
bool DoorbellName(sockaddr_un* addr, socklen_t* len) {
  unsigned char random[8];
  if (!RandomBytes(random, sizeof random)) {
    errno = EAGAIN;
    return false;
  }
  char tag[2 * sizeof random + 1];
  for (size_t i = 0; i < sizeof random; ++i) std::snprintf(tag + 2 * i, 3, "%02x", random[i]);
  const char* dirs[] = {getenv("TMPDIR"), "/tmp"};
  for (const char* dir : dirs) {
    if (!dir || !*dir) continue;
    const int n = std::snprintf(addr->sun_path, sizeof addr->sun_path, "%s/zircon-ipc-%d-%s", dir,
                                static_cast<int>(getpid()), tag);
    if (n > 0 && static_cast<size_t>(n) < sizeof addr->sun_path) {
      addr->sun_family = AF_UNIX;
      *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
      return true;
    }
  }
  errno = ENAMETOOLONG;
  return false;
}

int OpenSocketDoorbell() {
  const int fd = NewSocket(SOCK_DGRAM, true);  // (and every call on it says MSG_DONTWAIT)
  if (fd < 0) return -1;
  for (int attempt = 0; attempt < 4; ++attempt) {
    sockaddr_un addr{};
    socklen_t len;
    if (!DoorbellName(&addr, &len)) break;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      if (errno == EADDRINUSE) continue;
      break;
    }
    const int connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
    const int err = errno;
    unlink(addr.sun_path);
    if (connected == 0) return fd;
    errno = err;
    break;
  }
  const int err = errno;
  close(fd);
  errno = err;
  return -1;
}

// A datagram to itself. When the socket's queue is full (EAGAIN on Linux, ENOBUFS from
// XNU's sbappendaddr), the ringer takes some back and sends again. Should that send find
// it full again, another ringer sent after our drain, so after our signal change: its
// wake-up carries ours. Any other failure (a holder shut the socket down) leaves nothing
// to wake, as a holder that reads the doorbell takes the rings (docs/objects.md).
void RingSocket(int fd) {
  const char token = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (send(fd, &token, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) return;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) return;
    char sink[8];
    for (int i = 0; i < kDrainPerRing && recv(fd, sink, sizeof sink, MSG_DONTWAIT) >= 0; ++i) {
    }
  }
}

// A datagram socket connected to itself: its peer's name is its own. What can't be told:
// that the peer is this very socket, not another one bound later to the same name after
// the first one's was unlinked (its rings would go there: the sender's own loss).
bool IsSocketDoorbell(int fd) {
  int type = 0;
  socklen_t type_len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_DGRAM)
    return false;
  sockaddr_un self{}, peer{};
  socklen_t self_len = sizeof self, peer_len = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_len) != 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0)
    return false;
  return self.sun_family == AF_UNIX && self_len > offsetof(sockaddr_un, sun_path) &&
         self_len == peer_len && self_len <= sizeof self && memcmp(&self, &peer, self_len) == 0;
}

}  // namespace

// ---- wake flags -----------------------------------------------------------------------

WakeFlag WakeFlag::Open() {
#ifdef __linux__
  if (!PortableBackend()) {
    const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd < 0 ? WakeFlag() : WakeFlag(fd, fd);
  }
#endif
  int fds[2];
  if (PipePair(fds) != 0) return WakeFlag();
  return WakeFlag(fds[0], fds[1]);
}

void WakeFlag::Set() const {
#ifdef __linux__
  if (!PortableBackend()) {
    eventfd_write(set_fd_, 1);
    return;
  }
#endif
  const char byte = 1;
  ssize_t n;
  do n = write(set_fd_, &byte, 1);
  while (n < 0 && errno == EINTR);
}

void WakeFlag::Clear() const {
#ifdef __linux__
  if (!PortableBackend()) {
    eventfd_t value;
    eventfd_read(wait_fd_, &value);
    return;
  }
#endif
  char sink[256];
  ssize_t n;
  do n = read(wait_fd_, sink, sizeof sink);
  while (n == static_cast<ssize_t>(sizeof sink) || (n < 0 && errno == EINTR));
}

void WakeFlag::Close() {
  if (set_fd_ >= 0 && set_fd_ != wait_fd_) close(set_fd_);
  if (wait_fd_ >= 0) close(wait_fd_);
  wait_fd_ = set_fd_ = -1;
}

// ---- shared doorbells -----------------------------------------------------------------

int OpenDoorbell() {
#ifdef __linux__
  // The counter starts at 1 and nobody reads it, so it is never 0: a ring adds 0.
  if (!PortableBackend()) return eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
#endif
  return OpenSocketDoorbell();
}

// Linux backend: adding 0 to an eventfd wakes every watcher (each ring is an edge for
// every waiter's epoll, which then finds the doorbell readable: its counter is never 0)
// and can neither block nor fail: the counter never exceeds 2^64 - 2, so 0 always fits.
// Adding anything more would block once any holder has filled the counter, if that holder
// also cleared O_NONBLOCK, which belongs to the open file description every holder shares
// (and with O_NONBLOCK set it would fail, the ring lost). So no holder can stall or
// silence a signaler through the doorbell's count or flags. docs/objects.md
void RingDoorbell(int doorbell) {
#ifdef __linux__
  if (!PortableBackend()) {
    const uint64_t zero = 0;
    ssize_t n;
    do n = write(doorbell, &zero, sizeof zero);
    while (n < 0 && errno == EINTR);
    return;
  }
#endif
  RingSocket(doorbell);
}

bool IsDoorbell(int fd) {
#ifdef __linux__
  if (!PortableBackend()) return IsEventFd(fd) && Rings(fd);
#endif
  return IsSocketDoorbell(fd);
}

}  // namespace zxc
