// A Zircon port as a poller (core/poller.h: epoll, or kqueue on macOS), and the syscalls
// that use one.
//
// fd() is the port's epoll descriptor. It polls readable while packets are queued (a
// wake flag in it, doorbell.h, level-triggered, set whenever a packet is queued and reset by the
// first look that finds the queue empty) or while an observed object shows activity nobody has
// looked at yet: each observed object is watched through a poller of its own
// (Object::WatchIn, edge-triggered) nested in fd(). Objects are never assumed to be
// channels.
//
// Linux tells nobody when a signal rises, so the port looks (Object::Signals()) whenever
// an observer could tell the difference: at every wait and every wake of a waiter, before
// every user packet is queued, before an observed handle leaves the table, and before and
// after each call of this process that changes an observed object's signals (LookAtObservers).
// A signal packet is queued at the look that first sees its signal up (docs/objects.md,
// "Ports": what that guarantees).
//
// Locks: the port's lock is taken before the handle table's and an endpoint's, never
// after. What the table or an endpoint calls back (HandleObserver, SignalObserver) only
// sets a flag and sets the wake flag.
#pragma once
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/doorbell.h"
#include "core/object.h"
#include "core/object_kinds.h"

namespace zxc {

// zx_packet_signal_t
struct PacketSignal {
  zx_signals_t trigger;
  zx_signals_t observed;
  uint64_t count;
  zx_time_t timestamp;
  uint64_t reserved1;
};

// zx_port_packet_t
struct PortPacket {
  uint64_t key = 0;
  uint32_t type = ZX_PKT_TYPE_USER;
  zx_status_t status = ZX_OK;
  union {
    uint8_t user[32];
    PacketSignal signal;
  };
  PortPacket() : user{} {}
};
static_assert(sizeof(PortPacket) == 48, "zx_port_packet_t is 48 bytes");
// The packet as uint32 words (how it reaches JavaScript): key lo/hi, type, status, then
// the 32 bytes of user or signal.
constexpr uint32_t kPortPacketWords = sizeof(PortPacket) / 4;

// Zircon's per-port limit of user packets: zx_port_queue answers SHOULD_WAIT when it finds
// more than this many waiting (so 4097 fit, as in Zircon's kernel; signal packets don't count).
constexpr size_t kMaxUserPackets = 4096;

class Port final : public Object {
 public:
  // options: 0, or ZX_PORT_BIND_TO_INTERRUPT (no interrupt objects exist: the same port).
  // `koid`: one that arrived with the port (0: a new one).
  static zx_status_t Create(uint32_t options, std::shared_ptr<Port>* out,
                            zx_koid_t koid = ZX_KOID_INVALID);
  Port(int epoll_fd, WakeFlag wake, zx_koid_t koid);
  ~Port() override;

  // Ports have no signals, and their handles no WAIT right: they can't be observed.
  zx_signals_t Signals() override { return 0; }
  short PollEventsFor(zx_signals_t, zx_signals_t) const override { return 0; }
  bool WatchIn(int, uint64_t) const override { return false; }
  // A port travels as its queued user packets (docs/wire-format.md, port_transfer.cc):
  // a sealed memfd holding them and the read end of a pipe whose write end this process
  // keeps, with the port, until the receiver closes it. nullptr when out of descriptors.
  std::shared_ptr<Object> ForTransfer(zx_rights_t rights, bool descriptor_only) override;

  // zx_port_queue past the handle checks: at the back, type forced to ZX_PKT_TYPE_USER.
  zx_status_t QueueUser(const PortPacket& packet);
  // Looks at what changed since the last look, then takes the front packet (false: none).
  bool TryDequeue(PortPacket* out);
  // zx_object_wait_async past the handle checks: a one-shot observer of `object`, held
  // through handle `h` (its removal ends the observer). NOT_SUPPORTED when the object's
  // descriptors can't be watched (a regular file); NO_RESOURCES when out of descriptors.
  zx_status_t Observe(const ObjectRef& object, zx_handle_t h, uint64_t key, zx_signals_t signals,
                      uint32_t options);
  // zx_port_cancel past the handle checks: ends the observers made through `source` with
  // `key` and drops the signal packets they queued. False when there was neither.
  bool Cancel(zx_handle_t source, uint64_t key);
  // Looks at the watches of objects with this koid (LookAtObservers). `own`: right after a
  // change made by this process, whose activity is no news.
  void LookAt(zx_koid_t koid, bool own);
  // The user packets queued now, oldest first (what travels in a message).
  std::vector<PortPacket> UserPackets();
  // A port made from packets that arrived in a message: they are queued in order.
  static std::shared_ptr<Port> FromPackets(const PortPacket* packets, size_t count, zx_koid_t koid);

 private:
  struct Observer;
  struct Watch;

  // A packet with the handle whose observer queued it (ZX_HANDLE_INVALID: a user packet),
  // for zx_port_cancel.
  struct Queued {
    PortPacket packet;
    zx_handle_t source;
  };

  // From other threads, under their locks: something to look at (a handle gone, a
  // message stashed).
  void Notify();
  void CollectLocked();
  void DropRemovedObserversLocked();
  // Takes the events the watch's own poller has seen (what EDGE observers go by,
  // for signals that can fall unseen).
  void HarvestLocked(Watch* watch);
  // Fires what is due (`own`: as LookAt's). May close the watch (its object is gone).
  void EvaluateLocked(Watch* watch, bool own = false);
  Watch* FindWatchLocked(Object* object);
  zx_status_t CreateWatchLocked(const ObjectRef& object, Watch** out);
  void CloseWatchLocked(Watch* watch);
  // Unregisters it from the table; always before it is deleted.
  void DropObserverLocked(Observer& observer);
  void PushLocked(const PortPacket& packet, zx_handle_t source);

  std::mutex mu_;
  WakeFlag wake_;  // set while packets are queued (in the epoll set, level-triggered)
  // Whether we have set the wake flag since we last reset it (notices may set it too): a
  // packet pushed while it is set needs no write.
  bool wake_set_ = false;
  std::atomic<bool> notified_{false};
  std::deque<Queued> packets_;
  size_t user_packets_ = 0;
  // Keyed by object address; an entry whose object has died is stale (checked on use).
  std::unordered_map<Object*, std::unique_ptr<Watch>> watches_;
  std::unordered_map<uint64_t, Watch*> watch_ids_;  // poller data → watch
  uint64_t next_watch_id_ = 0;
  std::vector<uint64_t> dirty_;  // watches to evaluate at the next look
  std::vector<uint64_t> idle_;   // watches left without observers: closed at the next look
                                 // unless an observer joined meanwhile
};

// How a port travels in messages (port_transfer.cc).
extern const ObjectKind kPortKind;
// Lets go of the ports whose message was received elsewhere or dropped unread (after a
// close, which may have dropped one). One relaxed load when no port is in a message.
extern std::atomic<size_t> g_ports_in_transit;
void ReleaseDeliveredPortsNow();
inline void ReleaseDeliveredPorts() {
  if (g_ports_in_transit.load(std::memory_order_relaxed) != 0) ReleaseDeliveredPortsNow();
}

// Its syscalls are declared in core/syscalls.h.

// Every port watching an object with this koid looks at it now. Called, with no lock held,
// before and after a call of this process that changes the object's signals (a read, a
// write to its peer, objectSignal, a close), so that a rise gets its packet, in its place,
// before anything that follows can see or undo it. One relaxed load when no port watches
// that object.
// `own`: right after this process changed the object (its activity is no news).
// Watches of every port in the process, counted by koid % kWatchBuckets: a koid whose
// bucket is 0 is watched by no port, known without a lock.
constexpr size_t kWatchBuckets = 256;
extern std::atomic<uint32_t> g_port_watches[kWatchBuckets];
void LookAtObserversNow(zx_koid_t koid, bool own);
inline void LookAtObservers(zx_koid_t koid, bool own) {
  if (g_port_watches[koid % kWatchBuckets].load(std::memory_order_relaxed) != 0)
    LookAtObserversNow(koid, own);
}

// For the length of a call that may change an object's signals (and its peer's): its
// observers look before (a rise not yet seen keeps its place ahead of the change), and
// its and its peer's after (the change is seen, with its time, before the call returns).
class ObservedChange {
 public:
  explicit ObservedChange(const Object& object)
      : koid_(object.koid()), peer_(object.related_koid()) {
    LookAtObservers(koid_, false);
  }
  ~ObservedChange() {
    LookAtObservers(koid_, true);
    LookAtObservers(peer_, true);
  }
  ObservedChange(const ObservedChange&) = delete;
  ObservedChange& operator=(const ObservedChange&) = delete;

 private:
  const zx_koid_t koid_;
  const zx_koid_t peer_;
};

}  // namespace zxc
