// Normal process exit and the messages still queued (Zircon's writes are "fire and
// forget": a message written before exit is delivered, docs/processes.md "A process that
// exits normally"). The exit does not wait for the readers: what one non-blocking pass
// can't send is handed to a flusher, a child forked at exit that keeps only the
// descriptors those queues need, sends them as their peers read, and exits when each
// queue is sent or dropped (its peer gone), or once none has moved for the bound.
#include <dirent.h>
#include <signal.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/endpoint.h"
#include "core/platform.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

// How long the queues may go without a message moving before they are given up.
int64_t NoProgressTimeoutMs() {
  const char* value = std::getenv("ZIRCON_IPC_EXIT_FLUSH_TIMEOUT_MS");
  if (value && *value) return std::max<int64_t>(0, std::strtoll(value, nullptr, 10));
  return 30000;
}

int64_t NowMs() { return MonotonicNow() / 1'000'000; }

// Flushes until every queue is sent or dropped, or nothing has moved for `timeout_ms`.
// `on_progress` runs after each pass that moved something.
template <typename OnProgress>
void FlushUntilDone(int64_t timeout_ms, OnProgress on_progress) {
  size_t last = SIZE_MAX;
  int64_t give_up = NowMs() + timeout_ms;
  for (;;) {
    std::vector<pollfd> wait;
    const size_t queued = Endpoint::FlushAllForExit(&wait);
    if (queued == 0) return;
    if (queued < last) {
      last = queued;
      give_up = NowMs() + timeout_ms;
      on_progress();
      continue;  // a drained queue may have let others move: look again before sleeping
    }
    const int64_t left = give_up - NowMs();
    if (left <= 0) return;
    poll(wait.data(), wait.size(), static_cast<int>(std::min<int64_t>(left, 1000)));
  }
}

// Closes every descriptor not in `keep` (sorted).
void CloseAllExcept(const std::vector<int>& keep) {
#ifdef SYS_close_range
  unsigned from = 0;
  bool ranges = true;
  for (size_t i = 0; i <= keep.size() && ranges; ++i) {
    const unsigned to = i < keep.size() ? static_cast<unsigned>(keep[i]) : ~0u;
    if (to > from) ranges = syscall(SYS_close_range, from, to - 1, 0) == 0;
    if (i < keep.size()) from = to + 1;
  }
  if (ranges) return;
#endif
  // A kernel before 5.9 (or not Linux): what the system lists.
  DIR* dir = opendir(kOpenDescriptorsDir);
  if (!dir) return;
  std::vector<int> open;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != dirfd(dir)) open.push_back(fd);
  }
  closedir(dir);
  for (int fd : open)
    if (!std::binary_search(keep.begin(), keep.end(), fd)) close(fd);
}

std::vector<int> NeededDescriptors() {
  std::vector<int> fds;
  Endpoint::QueuedDescriptors(&fds);
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  return fds;
}

// The no-progress bound, enforced by the kernel as well: SIGALRM's default action ends
// the flusher even if it were stuck.
void ArmAlarm(int64_t timeout_ms) {
  const int64_t ms = timeout_ms + 1000;
  itimerval timer{};
  timer.it_value.tv_sec = ms / 1000;
  timer.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &timer, nullptr);
}

// In the forked child: this thread is all there is, and nothing but the queues runs.
[[noreturn]] void RunFlusher(int64_t timeout_ms) {
  SetWatchHooks(WatchHooks{});  // the event loops stayed in the parent
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  NameThisThread("zircon-flush");
  std::vector<int> kept = NeededDescriptors();
  CloseAllExcept(kept);
  ArmAlarm(timeout_ms);
  FlushUntilDone(timeout_ms, [&kept, timeout_ms] {
    ArmAlarm(timeout_ms);
    // A socket no queue needs any more closes now: its reader sees PEER_CLOSED.
    std::vector<int> needed = NeededDescriptors();
    for (int fd : kept)
      if (!std::binary_search(needed.begin(), needed.end(), fd)) close(fd);
    kept.swap(needed);
  });
  _exit(0);
}

void FlushAtExit() {
  std::vector<pollfd> unused;
  if (Endpoint::FlushAllForExit(&unused) == 0) return;
  const int64_t timeout_ms = NoProgressTimeoutMs();
  if (timeout_ms == 0) return;
  const pid_t pid = fork();
  if (pid == 0) RunFlusher(timeout_ms);
  // No flusher (out of processes or memory): the exit itself waits, as long as the bound.
  if (pid < 0) FlushUntilDone(timeout_ms, [] {});
}

}  // namespace

void InstallExitFlush() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(FlushAtExit); });
}

}  // namespace zxc
