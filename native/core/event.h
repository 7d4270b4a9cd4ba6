// Events and eventpairs. Their signals must be the same in every process holding a
// handle, and waitable there, so they live in shared memory: a one-page memfd sealed
// against shrinking (a shared-memory object on the portable backend, shared_memory.h)
// holding one signal word per side, plus a "doorbell" (doorbell.h: an eventfd, or on the
// portable backend a datagram socket connected to itself) rung whenever a signal comes on
// (waits and observers only ever wait for that).
// Nobody reads the doorbell: each waiter watches it edge-triggered through an epoll
// instance of its own (Object::WatchIn / OpenWaiter), so one ring wakes every waiter in
// every process and none can take the wake-up from another. An eventpair side also holds
// one end of a socketpair, whose hangup is PEER_CLOSED once every handle to the other
// side, in any process, is gone.
// On the wire: an event is [memfd, doorbell]; an eventpair side [socket, memfd, doorbell].
#pragma once
#include <atomic>

#include "core/object.h"
#include "core/object_kinds.h"

namespace zxc {

// The shared page and doorbell of one event or eventpair.
class SharedSignals {
 public:
  // A new page (both words 0) and doorbell; nullptr if the OS refuses.
  static std::shared_ptr<SharedSignals> Create(zx_status_t* status);
  // Maps received descriptors (owning them from now on, also on failure).
  static std::shared_ptr<SharedSignals> Adopt(int memfd, int doorbell);
  // Whether received descriptors are a signal page (IsSignalPage: read-write, at least a
  // page, that no holder can shrink) and a doorbell a ring wakes through (IsDoorbell).
  static bool Matches(int memfd, int doorbell);
  ~SharedSignals();

  zx_signals_t Load(int side) const { return words_[side].load(std::memory_order_acquire); }
  // Clears, then sets; rings the doorbell if a signal came on (`ring_on_clear`: if anything
  // changed, for a word whose clearing raises a signal, as a re-enabled socket write does).
  void Update(int side, zx_signals_t clear, zx_signals_t set, bool ring_on_clear = false);
  // Sets bits of a word and rings nobody (a mark for a reader to find: kRoomWantedWord).
  void Mark(int index, uint32_t bits) { words_[index].fetch_or(bits, std::memory_order_seq_cst); }
  int memfd() const { return memfd_; }
  int doorbell() const { return doorbell_; }
  bool WatchIn(int epfd, uint64_t data) const;

 private:
  SharedSignals(int memfd, int doorbell, std::atomic<uint32_t>* words)
      : memfd_(memfd), doorbell_(doorbell), words_(words) {}
  void Ring() const;
  int memfd_;
  int doorbell_;
  std::atomic<uint32_t>* words_;  // in the mapped page: [side 0, side 1]
};
using SharedSignalsRef = std::shared_ptr<SharedSignals>;

class Event : public Object {
 public:
  Event(SharedSignalsRef shared, zx_koid_t koid);
  zx_signals_t Signals() override { return shared_->Load(0); }
  bool PollableFd() const override { return false; }
  bool WatchIn(int epfd, uint64_t data) const override { return shared_->WatchIn(epfd, data); }
  size_t Descriptors(int* out) const override;
  void Signal(zx_signals_t clear, zx_signals_t set) { shared_->Update(0, clear, set); }

 private:
  SharedSignalsRef shared_;
};

// One side of an eventpair. Its word is side 0 when its koid is the lower of the two, so
// both sides agree in every process without saying so on the wire.
class EventPairSide : public Object {
 public:
  EventPairSide(int socket, SharedSignalsRef shared, zx_koid_t koid, zx_koid_t peer_koid);
  zx_signals_t Signals() override;
  bool PollableFd() const override { return false; }
  bool WatchIn(int epfd, uint64_t data) const override;
  size_t Descriptors(int* out) const override;
  void Signal(zx_signals_t clear, zx_signals_t set) { shared_->Update(side_, clear, set); }
  // PEER_CLOSED when the other side is gone.
  zx_status_t SignalPeer(zx_signals_t clear, zx_signals_t set);

 private:
  bool PeerClosed() const;
  SharedSignalsRef shared_;
  int side_;
};

extern const ObjectKind kEventKind;
extern const ObjectKind kEventPairKind;

// Its syscalls are declared in core/syscalls.h.

}  // namespace zxc
