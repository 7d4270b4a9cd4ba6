// The core's one blocking-wait loop, for every wait that blocks the calling thread
// (ObjectWaitMany, a call waiting for its reply, PortWait): look at the state; if there is
// nothing to answer yet, sleep in PollFor on the thread's wake flag and the
// descriptors the look named, until one of them fires, the deadline passes or the
// thread's environment is going away; then look again.
#pragma once
#include <poll.h>

#include "core/syscalls.h"

namespace zxc {

// The one sleep: PollDescriptors (poller.h) on `fds` for at most `remaining` ns (-1: no limit, as
// NsUntil gives). fds[0] is set here to the thread's wake flag (thread_wake.h) and
// cleared. ZX_OK: look again (revents show what is ready, all 0 when nothing is);
// ZX_ERR_CANCELED: nothing is ready and the process exits or the thread's environment is
// going away, seen within kTeardownCheckNs of it.
zx_status_t PollFor(pollfd* fds, size_t count, zx_time_t remaining);

// What a look is told.
struct WaitTurn {
  bool expired = false;    // the deadline has passed (a look before it still counts)
  bool polled = false;     // a sleep came just before this look (fds[] show what it saw)
  bool torn_down = false;  // the last sleep ended because the process exits or the
                           // environment is going away (PollFor's CANCELED)
};

// `look(turn, &count)` answers the wait's status; or ZX_ERR_SHOULD_WAIT, having put the
// descriptors to sleep on in fds[1 .. count) (count starts at 1: fds[0] is PollFor's); or
// ZX_ERR_NEXT to be asked again at once, without sleeping. `fds` holds as many entries
// as the largest count.
template <typename Look>
zx_status_t BlockingWait(zx_time_t deadline, pollfd* fds, Look&& look) {
  WaitTurn turn;
  for (;;) {
    const zx_time_t remaining = NsUntil(deadline);
    turn.expired = remaining == 0;
    size_t count = 1;
    const zx_status_t status = look(static_cast<const WaitTurn&>(turn), &count);
    if (status == ZX_ERR_NEXT) {
      turn.polled = false;
      continue;
    }
    if (status != ZX_ERR_SHOULD_WAIT) return status;
    turn.torn_down = PollFor(fds, count, remaining) == ZX_ERR_CANCELED;
    turn.polled = true;
  }
}

}  // namespace zxc
