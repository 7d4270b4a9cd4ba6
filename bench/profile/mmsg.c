// The kernel's floor for batched I/O: in one process, on one SOCK_SEQPACKET socketpair,
// BATCH records sent then received, either one sendmsg/recvmsg each or one
// sendmmsg/recvmmsg for the batch (receive slots as large as zircon-ipc's). Prints ns per
// record (send + receive) for both. cc -O2 -o bench/build/mmsg bench/profile/mmsg.c
//   mmsg <records> [size] [batch]      e.g. taskset -c 1 bench/build/mmsg 1000000 32 64
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum { kMaxBatch = 1024, kSlot = 65536 + 64 * 24 + 17 };

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 32;
  int batch = argc > 3 ? atoi(argv[3]) : 64;
  if (batch < 1 || batch > kMaxBatch || size > 4096) return 2;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) != 0) return 1;
  int sndbuf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  static char out[4096];
  char* in = malloc((size_t)kMaxBatch * kSlot);
  static char control[kMaxBatch][1040];
  static struct mmsghdr msgs[kMaxBatch];
  static struct iovec iov[kMaxBatch];
  for (int way = 0; way < 2; way++) {
    double t0 = now_ns();
    for (long done = 0; done < n; done += batch) {
      if (way == 0) {
        for (int i = 0; i < batch; i++) send(sv[0], out, size, 0);
        for (int i = 0; i < batch; i++) recv(sv[1], in, kSlot, 0);
        continue;
      }
      for (int i = 0; i < batch; i++) {
        iov[i] = (struct iovec){out, size};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
      }
      if (sendmmsg(sv[0], msgs, batch, 0) != batch) return 3;
      for (int i = 0; i < batch; i++) {
        iov[i] = (struct iovec){in + (size_t)i * kSlot, kSlot};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1,
                                               .msg_control = control[i], .msg_controllen = sizeof control[i]}};
      }
      if (recvmmsg(sv[1], msgs, batch, MSG_CMSG_CLOEXEC, NULL) != batch) return 4;
    }
    printf("%s: %.0f ns a record\n", way ? "sendmmsg+recvmmsg" : "sendmsg+recvmsg", (now_ns() - t0) / n);
  }
  return 0;
}
