// The C counterpart of loop.mjs: send then recv on one SOCK_SEQPACKET socketpair, in one
// process, as tight as it gets. cc -O2 -o bench/build/loop bench/profile/loop.c
//   loop <iterations> [size] [fds]
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 16;
  int nfds = argc > 3 ? atoi(argv[3]) : 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) return 1;
  static char out[65536 + 64], in[65536 + 64];
  union { struct cmsghdr align; char bytes[CMSG_SPACE(64 * sizeof(int))]; } control, rcontrol;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; ++i) {
    struct iovec iov = {out, size};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (nfds) {
      m.msg_control = control.bytes;
      m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
      struct cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
      for (int k = 0; k < nfds; ++k) memcpy(CMSG_DATA(c) + k * sizeof(int), &devnull, sizeof(int));
    }
    if (sendmsg(sv[0], &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return 2;
    struct iovec riov = {in, sizeof in};
    struct msghdr r = {0};
    r.msg_iov = &riov;
    r.msg_iovlen = 1;
    r.msg_control = rcontrol.bytes;
    r.msg_controllen = sizeof rcontrol.bytes;
    if (recvmsg(sv[1], &r, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0) return 3;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&r); c; c = CMSG_NXTHDR(&r, c)) {
      int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int k = 0; k < count; ++k) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
        close(fd);
      }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
  printf("C send+recv %ld × %zu B, %d fds: %.3f µs per iteration\n", n, size, nfds, us);
  return 0;
}
