// Readiness sets that are themselves descriptors ("pollers"): what ports, private waiters
// and the objects' WatchIn use to hear about activity on several descriptors through one
// (docs/architecture.md, "Backends"). A poller's descriptor polls readable while it holds
// events nobody has taken, so it nests in another poller, in poll(2) and in a uv_poll.
//   Linux (both backends): epoll.
//   macOS: kqueue. EVFILT_READ / EVFILT_WRITE knotes, EV_CLEAR for edge-triggered, udata
//   for the data; EV_EOF is the hangup. A kqueue polls readable while its queue holds
//   knotes (XNU bsd/kern/kern_event.c: kqueue_select answers kqf_count; kqueue_kqfilter
//   lets a kqueue be watched with EVFILT_READ from another kqueue, nested at most
//   MAX_NESTED_KQ = 10 deep; libuv's uv_poll_init accepts one since libuv 1.9).
// Also the one blocking readiness wait of the core (PollFor's): ppoll on Linux, poll off it.
#pragma once
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

namespace zxc {

// What a registration listens for and what a taken event reports.
constexpr uint32_t kPollerIn = 1u << 0;
constexpr uint32_t kPollerOut = 1u << 1;
constexpr uint32_t kPollerHup = 1u << 2;  // the peer hung up or shut down its write side
constexpr uint32_t kPollerErr = 1u << 3;  // reported whether asked for or not

struct PollerEvent {
  uint64_t data;
  uint32_t ready;  // kPoller* bits
};

// The most events one registered descriptor gives at a time: epoll reports a descriptor
// as one event, kqueue its read and write filters apart.
#ifdef __linux__
constexpr int kPollerEventsPerFd = 1;
#else
constexpr int kPollerEventsPerFd = 2;
#endif

// Whether a poller nested in another tells it of every new activity even while it still
// holds events nobody took (epoll does: each wakeup is passed on). A kqueue tells its
// parent only when its queue goes from empty to non-empty (XNU knote_enqueue), so a
// nested one must be emptied at every look for the next activity to be heard.
#ifdef __linux__
constexpr bool kNestedPollerPassesEveryWakeup = true;
#else
constexpr bool kNestedPollerPassesEveryWakeup = false;
#endif

// Whether a poller that will hold pollers must be nested in its parent before it is
// filled. A kqueue refuses to take in a kqueue holding another once it is itself nested
// (XNU kqueue_kqfilter's ceiling on kq_level: EINVAL when the parent's level is above 0
// and below the child's), and a timer is a kqueue there: a port's watch kqueue goes into
// the port's (already in the event loop's, perhaps) while empty, which keeps every level
// at 1 below the port. epoll has no such rule; there the order is fill, then nest.
#ifdef __linux__
constexpr bool kPollerNestBeforeFilling = false;
#else
constexpr bool kPollerNestBeforeFilling = true;
#endif

// A new poller, close-on-exec; -1 with errno.
int PollerCreate();
// Registers `fd` for `interest` (kPoller* bits), edge-triggered (`edge`: reported once per
// new activity) or level-triggered, tagged with `data`. 0, or -1 with errno: EEXIST when it
// is there already (epoll only), EPERM for a descriptor that can't be watched (a regular
// file or a directory, refused on every system alike).
int PollerAdd(int poller, int fd, uint32_t interest, bool edge, uint64_t data);
// Unregisters `fd` (no error if it was not there).
void PollerRemove(int poller, int fd);
// Takes up to `max` events without sleeping (callers sleep in poll(2) on the poller's
// descriptor): how many, 0 when none, -1 with errno.
int PollerTake(int poller, PollerEvent* out, int max);

// The one sleep on descriptors: poll(2) of `fds` for at most `timeout_ns` (-1: no limit).
// Linux: ppoll, to the nanosecond. Elsewhere: poll, the timeout rounded up to the next
// millisecond (never early; callers look at the clock again after it).
int PollDescriptors(pollfd* fds, size_t count, zx_time_t timeout_ns);

}  // namespace zxc
