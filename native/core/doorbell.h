// The descriptors that wake a sleeping thread, and how they are rung, behind the backend
// (docs/architecture.md, "Backends"; macOS has no eventfd):
//
//   WakeFlag         one process's flag: a thread's wake (thread_wake.h), a port's queued
//                    packets (port.h). Polled level-triggered: readable while set.
//                      linux     an eventfd (its counter; set adds 1, clear reads it);
//                      portable  a pipe (set writes a byte, clear reads them all).
//   shared doorbell  an event's or a user-signal page's, in every process that holds the
//                    object, watched edge-triggered by every waiter and read by none
//                    (event.h; docs/objects.md, "Events and eventpairs"). One descriptor.
//                      linux     an eventfd whose counter is never 0, rung by adding 0;
//                      portable  a datagram socket connected to itself (below).
#pragma once
#include <stddef.h>

namespace zxc {

class WakeFlag {
 public:
  // A cleared flag, close-on-exec and non-blocking; !valid() with errno when the OS
  // refuses (no descriptor free).
  static WakeFlag Open();
  WakeFlag() = default;
  bool valid() const { return wait_fd_ >= 0; }
  // What a waiter polls (POLLIN / a poller's kPollerIn).
  int wait_fd() const { return wait_fd_; }
  // Sets it, from any thread; never blocks (a pipe too full for a byte is set already).
  void Set() const;
  // Clears it (its owner, after a look).
  void Clear() const;
  // Closes its descriptors; the flag is !valid() after.
  void Close();

 private:
  WakeFlag(int wait_fd, int set_fd) : wait_fd_(wait_fd), set_fd_(set_fd) {}
  int wait_fd_ = -1;
  int set_fd_ = -1;  // the same eventfd on the linux backend; the pipe's write end
};

// ---- shared doorbell ----
// A new doorbell, close-on-exec; -1 with errno.
int OpenDoorbell();
// Wakes every waiter watching `doorbell`, in every process. Never blocks and loses no
// wake-up, whatever another holder did to the descriptor's file flags or queue.
void RingDoorbell(int doorbell);
// Whether a received descriptor is a doorbell a ring wakes waiters through (hostile
// input: a peer may send anything).
bool IsDoorbell(int fd);

}  // namespace zxc
