// The physical limit: the same benchmark protocol as bench/impl/*.mjs, in C, over an
// AF_UNIX SOCK_SEQPACKET socketpair between two processes. Built by bench/run.mjs with the
// system compiler into bench/build/.
//
//   seqpacket main <block|epoll> <warm_ms>[,<first_warm_ms>] <window_ms> [<case>...]
//                                                 prints one JSON line a case; without cases,
//                                                 prints {"ready":true} and reads one a line
//                                                 from stdin until its end: <case> [<warm_ms>]
//   seqpacket peer <block|epoll>                                   the echo/sink side, socket on fd 3
//
// The main side makes the socketpair, sets SO_SNDBUF as zircon-ipc does (1 MiB, doubled by the
// kernel), and runs its peer as a child process (this program again, socket on descriptor 3).
// `block`: blocking recvmsg/sendmsg. `epoll`: non-blocking socket, recvmsg until EAGAIN, then
// epoll_wait, like an event loop. `zxsim`, `zxsim-old` (profiling aids, not part of the run):
// `block` plus the syscalls zircon-ipc's blocking objectWaitOne makes before each read (see
// zx_style_wait).
//
// Protocol (shared with the JavaScript implementations): byte 4 of every message is a tag:
// 'D' data, 'C' command (text from byte 8: "echo" or "sink K"), 'A' ack, 'K' credit (the
// sink sends one after every K data messages). Bytes 0-3 are free for a transaction id.
//
// Cases:
//   rtt                 one 16-byte message echoed at a time; value µs per round trip
//   call:K              K requests in flight, echoed; value calls/s (K=1 is the round trip)
//   oneway:SIZE:W       SIZE-byte messages, at most W unacknowledged; value msgs/s
//   batch:SIZE:W        the same here: one sendmsg a message, the baseline zircon-ipc's
//                       batched writes and reads (writeMany / readMany) are compared with
//   fds:N:W             16-byte messages carrying N descriptors (the same one N times, as
//                       SCM_RIGHTS; the receiver gets new descriptors and closes them)
//   bulk:TOTAL:SIZE:W   TOTAL bytes as SIZE-byte messages; value ms per transfer
//   vbig:SIZE           SIZE bytes through a memfd, as ValueChannel sends a large value: a
//                       new memfd written with pwrite and sealed, its descriptor sent with an
//                       'M' message (SIZE in bytes 8-15); the peer maps it read-only, copies
//                       it into new memory of its own and answers with a credit; value ms each
//   pin                 not a case: both processes run on CPU 0 from here on
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAG 4
#define MAX_MSG (65536 + 64)
#define MAX_FDS 64

static int sock = -1;
static int use_epoll = 0;
static int use_zxsim = 0;
static int wake_fd = -1;
static int ep = -1;

static void die(const char* what) {
  fprintf(stderr, "seqpacket: %s: %s\n", what, strerror(errno));
  exit(2);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// What zircon-ipc's blocking objectWaitOne asks of the kernel before a read (revision
// 74ee9d2): a poll(2) of the signals, then ppoll on the socket and the thread's eventfd.
// Profiling aid, variant "zxsim"; "zxsim-old" is the pattern before 1fb96e5 (a re-check once
// registered, a check after the wake-up and an eventfd read besides).
static int zxsim_old = 0;
static void zx_style_wait(void) {
  struct pollfd p = {sock, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) == 1) return;
  if (zxsim_old) poll(&p, 1, 0);
  struct pollfd both[2] = {{wake_fd, POLLIN, 0}, {sock, POLLIN | POLLRDHUP, 0}};
  ppoll(both, 2, NULL, NULL);
  if (zxsim_old) {
    poll(&p, 1, 0);
    eventfd_t value;
    eventfd_read(wake_fd, &value);
  }
}

// One message, with its descriptors. Blocks (block) or waits in epoll_wait (epoll).
static ssize_t rx(uint8_t* buf, size_t cap, int* fds, int* nfds) {
  if (use_zxsim) zx_style_wait();
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(MAX_FDS * sizeof(int))];
  } control;
  for (;;) {
    struct iovec iov = {buf, cap};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (use_epoll ? MSG_DONTWAIT : 0));
    if (n >= 0) {
      *nfds = 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds + *nfds, CMSG_DATA(c), count * sizeof(int));
        *nfds += count;
      }
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && use_epoll) {
      struct epoll_event ev;
      if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR) die("epoll_wait");
      continue;
    }
    die("recvmsg");
  }
}

static void tx(const uint8_t* buf, size_t len, const int* fds, int nfds) {
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(MAX_FDS * sizeof(int))];
  } control;
  struct iovec iov = {(void*)buf, len};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | (use_epoll ? MSG_DONTWAIT : 0));
    if (n >= 0) return;
    if (errno == EINTR) continue;
    if (errno == EAGAIN && use_epoll) {  // never in these cases (windows fit the buffer)
      struct pollfd p = {sock, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    die("sendmsg");
  }
}

static void close_all(const int* fds, int nfds) {
  for (int i = 0; i < nfds; ++i) close(fds[i]);
}

static uint8_t rbuf[MAX_MSG];
static int rfds[256];

// A message with `tag` at byte 4; `len` bytes (at least 16).
static void tagged(uint8_t* buf, size_t len, uint8_t tag) {
  memset(buf, 0, len);
  buf[TAG] = tag;
}

static void send_small(uint8_t tag) {
  uint8_t m[16];
  tagged(m, sizeof m, tag);
  tx(m, sizeof m, NULL, 0);
}

// Receives until a message with `tag`; anything else is a protocol error.
static void expect(uint8_t tag) {
  int nfds;
  ssize_t n = rx(rbuf, sizeof rbuf, rfds, &nfds);
  close_all(rfds, nfds);
  if (n < 16 || rbuf[TAG] != tag) {
    fprintf(stderr, "seqpacket: expected '%c', got %zd bytes tag %d\n", tag, n, n > TAG ? rbuf[TAG] : -1);
    exit(2);
  }
}

static void command(const char* text) {
  uint8_t m[64];
  size_t len = 8 + strlen(text) + 1;
  if (len < 16) len = 16;
  tagged(m, len, 'C');
  memcpy(m + 8, text, strlen(text));
  tx(m, len, NULL, 0);
  expect('A');
}

// ---- peer -------------------------------------------------------------------------------

static int run_peer(void) {
  int echo = 1, k = 1, count = 0;
  for (;;) {
    int nfds;
    ssize_t n = rx(rbuf, sizeof rbuf, rfds, &nfds);
    if (n == 0) return 0;  // the main side closed
    uint8_t tag = n > TAG ? rbuf[TAG] : 0;
    if (tag == 'D') {
      if (echo) {
        tx(rbuf, (size_t)n, NULL, 0);
        close_all(rfds, nfds);
      } else {
        close_all(rfds, nfds);
        if (++count == k) {
          count = 0;
          send_small('K');
        }
      }
    } else if (tag == 'M' && nfds == 1) {
      uint64_t size;
      memcpy(&size, rbuf + 8, sizeof size);
      void* map = mmap(NULL, size, PROT_READ, MAP_SHARED, rfds[0], 0);
      if (map == MAP_FAILED) die("mmap");
      // Into new memory each time, as a receiver that hands the bytes over must (malloc
      // would reuse the pages of the last transfer: glibc raises its mmap threshold).
      void* copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (copy == MAP_FAILED) die("mmap");
      memcpy(copy, map, size);
      munmap(map, size);
      close(rfds[0]);
      munmap(copy, size);
      send_small('K');
    } else if (tag == 'C') {
      close_all(rfds, nfds);
      rbuf[n < MAX_MSG ? n : MAX_MSG - 1] = 0;
      const char* text = (const char*)rbuf + 8;
      if (strncmp(text, "echo", 4) == 0) {
        echo = 1;
      } else if (sscanf(text, "sink %d", &k) == 1) {
        echo = 0;
      } else {
        send_small('A');  // "quit"
        return 0;
      }
      count = 0;
      send_small('A');
    } else {
      fprintf(stderr, "seqpacket peer: unexpected tag %d\n", tag);
      return 2;
    }
  }
}

// ---- main side --------------------------------------------------------------------------

static double warm_ms, window_ms;

// K requests in flight (txid in bytes 0-3, echoed); calls per second.
static double case_call(int k) {
  command("echo");
  uint8_t req[16];
  tagged(req, sizeof req, 'D');
  uint32_t txid = 0;
  int nfds;
  for (int i = 0; i < k; ++i) {
    ++txid;
    memcpy(req, &txid, 4);
    tx(req, sizeof req, NULL, 0);
  }
  double start = now_ms();
  while (now_ms() - start < warm_ms) {
    for (int i = 0; i < 16; ++i) {
      rx(rbuf, sizeof rbuf, rfds, &nfds);
      ++txid;
      memcpy(req, &txid, 4);
      tx(req, sizeof req, NULL, 0);
    }
  }
  long done = 0;
  double t0 = now_ms(), t1;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      rx(rbuf, sizeof rbuf, rfds, &nfds);
      ++txid;
      memcpy(req, &txid, 4);
      tx(req, sizeof req, NULL, 0);
    }
    done += 16;
    t1 = now_ms();
    if (t1 - t0 >= window_ms) break;
  }
  for (int i = 0; i < k; ++i) rx(rbuf, sizeof rbuf, rfds, &nfds);
  return done / ((t1 - t0) / 1e3);
}

static long inflight;

static void await_credit(int k) {
  int nfds;
  ssize_t n = rx(rbuf, sizeof rbuf, rfds, &nfds);
  if (n < 16 || rbuf[TAG] != 'K') {
    fprintf(stderr, "seqpacket: expected a credit\n");
    exit(2);
  }
  inflight -= k;
}

// Sends `count` messages (a multiple of k) keeping at most w unacknowledged.
static void stream(const uint8_t* msg, size_t size, const int* fds, int nfds, long count, int w, int k) {
  for (long i = 0; i < count; ++i) {
    while (inflight >= w) await_credit(k);
    tx(msg, size, fds, nfds);
    ++inflight;
  }
}

static void drain(int k) {
  while (inflight > 0) await_credit(k);
}

// Messages per second over the window, with the final credits.
static double case_stream(size_t size, int nfds, int w) {
  int k = w / 2;
  char text[32];
  snprintf(text, sizeof text, "sink %d", k);
  command(text);
  static uint8_t msg[MAX_MSG];
  tagged(msg, size, 'D');
  int fds[MAX_FDS];
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) die("open /dev/null");
  for (int i = 0; i < nfds; ++i) fds[i] = devnull;
  inflight = 0;
  double start = now_ms();
  while (now_ms() - start < warm_ms) stream(msg, size, fds, nfds, k, w, k);
  drain(k);
  long sent = 0;
  double t0 = now_ms();
  do {
    stream(msg, size, fds, nfds, k, w, k);
    sent += k;
  } while (now_ms() - t0 < window_ms);
  drain(k);
  double t1 = now_ms();
  close(devnull);
  return sent / ((t1 - t0) / 1e3);
}

// Milliseconds per transfer of `total` bytes as `size`-byte messages.
static double case_bulk(long total, size_t size, int w) {
  int k = w / 2;
  char text[32];
  snprintf(text, sizeof text, "sink %d", k);
  command(text);
  static uint8_t msg[MAX_MSG];
  tagged(msg, size, 'D');
  long count = total / (long)size;
  inflight = 0;
  double start = now_ms();
  do {
    stream(msg, size, NULL, 0, count, w, k);
    drain(k);
  } while (now_ms() - start < warm_ms);
  long transfers = 0;
  double t0 = now_ms(), t1;
  do {
    stream(msg, size, NULL, 0, count, w, k);
    drain(k);
    ++transfers;
    t1 = now_ms();
  } while (t1 - t0 < window_ms);
  return (t1 - t0) / transfers;
}

// Milliseconds per SIZE bytes through a new memfd (see vbig above).
static double case_memfd(size_t size) {
  uint8_t* data = malloc(size);
  if (!data) die("malloc");
  memset(data, 0x5a, size);
  uint8_t m[16];
  tagged(m, sizeof m, 'M');
  uint64_t size64 = size;
  memcpy(m + 8, &size64, sizeof size64);
  long transfers = 0;
  double start = now_ms(), t0 = 0, t1;
  for (int measuring = 0;;) {
    int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) die("memfd");
    if (pwrite(fd, data, size, 0) != (ssize_t)size) die("pwrite");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) die("F_ADD_SEALS");
    tx(m, sizeof m, &fd, 1);
    close(fd);
    expect('K');
    t1 = now_ms();
    if (!measuring) {
      if (t1 - start >= warm_ms) measuring = 1, t0 = t1;
      continue;
    }
    ++transfers;
    if (t1 - t0 >= window_ms && transfers >= 3) break;
  }
  free(data);
  return (t1 - t0) / transfers;
}

// Runs one case (or "pin") and prints its JSON line; nonzero for an unknown case.
static int run_spec(const char* spec, pid_t pid, double case_warm_ms) {
  double value;
  long a, b, c;
  if (strcmp(spec, "pin") == 0) {
    // Both processes on CPU 0 from here on (what `taskset -c 0` does).
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0 || sched_setaffinity(pid, sizeof set, &set) != 0)
      die("sched_setaffinity");
    printf("{\"case\":\"pin\",\"value\":null}\n");
    fflush(stdout);
    return 0;
  }
  if (strcmp(spec, "rtt") == 0) {
    value = 1e6 / case_call(1);  // microseconds per round trip
  } else if (sscanf(spec, "call:%ld", &a) == 1) {
    value = case_call((int)a);
  } else if (sscanf(spec, "oneway:%ld:%ld", &a, &b) == 2 || sscanf(spec, "batch:%ld:%ld", &a, &b) == 2) {
    value = case_stream((size_t)a, 0, (int)b);
  } else if (sscanf(spec, "fds:%ld:%ld", &a, &b) == 2) {
    value = case_stream(16, (int)a, (int)b);
  } else if (sscanf(spec, "bulk:%ld:%ld:%ld", &a, &b, &c) == 3) {
    value = case_bulk(a, (size_t)b, (int)c);
  } else if (sscanf(spec, "vbig:%ld", &a) == 1) {
    value = case_memfd((size_t)a);
  } else {
    fprintf(stderr, "seqpacket: unknown case %s\n", spec);
    return 2;
  }
  warm_ms = case_warm_ms;  // the first case's longer warm-up is over
  printf("{\"case\":\"%s\",\"value\":%.6g}\n", spec, value);
  fflush(stdout);
  return 0;
}

static int run_main(int argc, char** argv) {
  // warm_ms may be "W,F": W ms of warm-up a case, F for the first case (caches, page faults).
  double first_warm_ms = 0;
  if (sscanf(argv[3], "%lf,%lf", &warm_ms, &first_warm_ms) < 2) first_warm_ms = warm_ms;
  const double case_warm_ms = warm_ms;
  warm_ms = first_warm_ms > case_warm_ms ? first_warm_ms : case_warm_ms;
  window_ms = atof(argv[4]);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  int size = 1 << 20;  // as zircon-ipc's endpoints
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (dup2(sv[1], 3) < 0) die("dup2");  // dup2 clears close-on-exec on 3
    char* args[] = {argv[0], "peer", argv[2], NULL};
    execv("/proc/self/exe", args);
    die("execv");
  }
  close(sv[1]);
  sock = sv[0];
  if (use_epoll) {
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = sock}};
    epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev);
  }
  expect('A');  // the peer's hello
  if (argc > 5) {
    for (int i = 5; i < argc; ++i)
      if (run_spec(argv[i], pid, case_warm_ms) != 0) return 2;
  } else {
    // No cases on the command line: one a line from stdin, until its end (bench/run.mjs).
    printf("{\"ready\":true}\n");
    fflush(stdout);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
      // "<case> [<warm-up ms>]": the driver chooses each case's warm-up.
      line[strcspn(line, "\r\n")] = 0;
      char* warm = strchr(line, ' ');
      if (warm) {
        *warm++ = 0;
        warm_ms = atof(warm);
      }
      if (line[0] && run_spec(line, pid, case_warm_ms) != 0) return 2;
    }
  }
  command("quit");
  close(sock);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

int main(int argc, char** argv) {
  // Descriptors in flight count against RLIMIT_NOFILE, as for Node (which raises it).
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (argc >= 3 && strcmp(argv[2], "epoll") == 0) use_epoll = 1;
  if (argc >= 3 && strncmp(argv[2], "zxsim", 5) == 0) {
    use_zxsim = 1;
    zxsim_old = strcmp(argv[2], "zxsim-old") == 0;
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  if (argc >= 5 && strcmp(argv[1], "main") == 0) return run_main(argc, argv);
  if (argc >= 3 && strcmp(argv[1], "peer") == 0) {
    sock = 3;
    if (use_epoll) {
      fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
      ep = epoll_create1(EPOLL_CLOEXEC);
      struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = sock}};
      epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev);
    }
    send_small('A');  // hello
    return run_peer();
  }
  fprintf(stderr, "usage: seqpacket main <block|epoll|zxsim> <warm_ms> <window_ms> <case>... | peer <block|epoll|zxsim>\n");
  return 2;
}
