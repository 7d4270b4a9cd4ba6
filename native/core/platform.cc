// The backend switch and the descriptor-flag functions of platform.h.
#include "core/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h>
#include <sys/prctl.h>
#endif
#ifdef __APPLE__
#include <sys/event.h>
#include <sys/un.h>
#endif

namespace zxc {
namespace {

Backend ReadBackend() {
#ifdef __linux__
  const char* value = getenv("ZIRCON_IPC_BACKEND");
  return value && strcmp(value, "portable") == 0 ? Backend::kPortable : Backend::kLinux;
#else
  return Backend::kPortable;
#endif
}

// Close-on-exec and non-blocking, set after the call that made `fd` (the portable way: a
// fork+exec on another thread in between can inherit it; Node's own children can't, libuv
// spawns with every descriptor close-on-exec by default on macOS).
bool SetFlags(int fd, bool nonblock) {
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return false;
  if (!nonblock) return true;
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

void CloseKeepingErrno(int fd) {
  const int err = errno;
  close(fd);
  errno = err;
}

// Both of a new pair's descriptors close-on-exec and non-blocking; on failure both closed.
int SetPairFlags(int fds[2]) {
  if (SetFlags(fds[0], true) && SetFlags(fds[1], true)) return 0;
  CloseKeepingErrno(fds[0]);
  CloseKeepingErrno(fds[1]);
  return -1;
}

}  // namespace

Backend CurrentBackend() {
  static const Backend backend = ReadBackend();
  return backend;
}

const char* BackendName() { return PortableBackend() ? "portable" : "linux"; }

int ChannelSocketType() { return PortableBackend() ? SOCK_STREAM : SOCK_SEQPACKET; }

int SocketPair(int type, int fds[2]) {
#ifdef __linux__
  if (!PortableBackend()) return socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds);
#endif
  if (socketpair(AF_UNIX, type, 0, fds) != 0) return -1;
  return SetPairFlags(fds);
}

int NewSocket(int type, bool nonblock) {
#ifdef __linux__
  if (!PortableBackend())
    return socket(AF_UNIX, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
#endif
  const int fd = socket(AF_UNIX, type, 0);
  if (fd < 0 || SetFlags(fd, nonblock)) return fd;
  CloseKeepingErrno(fd);
  return -1;
}

int AcceptConnection(int listener) {
  int fd;
#ifdef __linux__
  if (!PortableBackend()) {
    do fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
    return fd;
  }
#endif
  do fd = accept(listener, nullptr, nullptr);
  while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0 || SetFlags(fd, true)) return fd;
  CloseKeepingErrno(fd);
  return -1;
}

int PipePair(int fds[2]) {
#ifdef __linux__
  if (!PortableBackend()) return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
#endif
  if (pipe(fds) != 0) return -1;  // (macOS has no pipe2)
  return SetPairFlags(fds);
}

void PeerIdentity(int sock, int* pid, unsigned* uid, unsigned* gid) {
#ifdef __APPLE__
  pid_t peer_pid = 0;
  socklen_t len = sizeof peer_pid;
  getsockopt(sock, SOL_LOCAL, LOCAL_PEERPID, &peer_pid, &len);
  uid_t u = 0;
  gid_t g = 0;
  getpeereid(sock, &u, &g);
  *pid = peer_pid;
  *uid = u;
  *gid = g;
#else
  ucred cred{};
  socklen_t len = sizeof cred;
  getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len);
  *pid = cred.pid;
  *uid = cred.uid;
  *gid = cred.gid;
#endif
}

int ReceiveFlags() {
#ifdef __linux__
  if (!PortableBackend()) return MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
#endif
  return MSG_DONTWAIT;
}

int PollSocket(int sock, short events) {
#ifdef __APPLE__
  // Each filter's EOF comes back as POLLHUP: ask them apart (platform.h).
  pollfd in{sock, POLLIN, 0};
  pollfd out{sock, POLLOUT, 0};
  if (poll(&in, 1, 0) < 0 || poll(&out, 1, 0) < 0) return -1;
  int revents = ((in.revents & POLLIN) | (out.revents & POLLOUT)) & events;
  if (in.revents & POLLHUP) revents |= kPollReceiveShut;
  if ((in.revents & POLLHUP) && (out.revents & POLLHUP)) revents |= POLLHUP;
  return revents;
#else
  pollfd p{sock, static_cast<short>(events | POLLRDHUP), 0};
  if (poll(&p, 1, 0) < 0) return -1;
  return p.revents;
#endif
}

size_t QueuedToRead(int sock) {
  int n = 0;
#ifdef __APPLE__
  socklen_t len = sizeof n;
  if (getsockopt(sock, SOL_SOCKET, SO_NREAD, &n, &len) != 0) return 0;
#else
  if (ioctl(sock, FIONREAD, &n) != 0) return 0;
#endif
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool SentNotRead(int sock, size_t* bytes) {
  *bytes = 0;
#ifdef __linux__
  int n = 0;
  if (ioctl(sock, SIOCOUTQ, &n) != 0) return false;
  *bytes = n > 0 ? static_cast<size_t>(n) : 0;
  return true;
#else
  return false;
#endif
}

bool SendSpace(int sock, size_t send_buffer, size_t* bytes) {
  *bytes = 0;
#ifdef __APPLE__
  (void)send_buffer;
  const int kq = kqueue();
  if (kq < 0) return false;
  // Active once a single byte fits (NOTE_LOWAT 1): no event back means no room at all.
  struct kevent change;
  EV_SET(&change, sock, EVFILT_WRITE, EV_ADD | EV_ONESHOT, NOTE_LOWAT, 1, nullptr);
  struct kevent event;
  const timespec now{0, 0};
  const int n = kevent(kq, &change, 1, &event, 1, &now);
  close(kq);
  if (n < 0 || (n == 1 && (event.flags & EV_ERROR))) return false;
  if (n == 1 && event.data > 0) *bytes = static_cast<size_t>(event.data);
  return true;
#else
  size_t unread;
  if (!SentNotRead(sock, &unread)) return false;
  *bytes = send_buffer > unread ? send_buffer - unread : 0;
  return true;
#endif
}

void NameThisThread(const char* name) {
#ifdef __APPLE__
  pthread_setname_np(name);  // the calling thread only, there
#else
  prctl(PR_SET_NAME, name, 0, 0, 0);
#endif
}

bool RandomBytes(void* out, size_t size) {
#ifdef __linux__
  return getrandom(out, size, 0) == static_cast<ssize_t>(size);
#else
  return getentropy(out, size) == 0;
#endif
}

void AfterReceive(const int* fds, size_t count) {
  if (!PortableBackend()) return;
  for (size_t i = 0; i < count; ++i) fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

}  // namespace zxc
