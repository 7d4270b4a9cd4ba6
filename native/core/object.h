// A kernel object as this process holds it: its descriptor(s) plus the Zircon identity
// (type, koid, related koid) that travels with it in the wire header. Each kind of object
// says what its signals are and how a waiter learns that they may have changed.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "core/types.h"

namespace zxc {

class UserSignals;

// The most descriptors one object carries in a message (an eventpair side, and a channel
// endpoint, socket end or VMO with its user signals' page: three).
constexpr size_t kMaxObjectFds = 3;

class Object : public std::enable_shared_from_this<Object> {
 public:
  Object(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid);
  virtual ~Object();  // closes the descriptor
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  zx_obj_type_t type() const { return type_; }
  int fd() const { return fd_; }
  zx_koid_t koid() const { return koid_; }
  zx_koid_t related_koid() const { return related_koid_; }

  // Gives the descriptor away (the object no longer closes it).
  int ReleaseFd();

  // ZX_PROP_NAME: kept by the object in this process (it does not travel; docs/objects.md).
  std::string name() const;
  // At most ZX_MAX_NAME_LEN - 1 bytes are kept, as Zircon keeps them.
  void set_name(const char* name, size_t length);

  // The signals now. The base: a plain descriptor as poll(2) sees it (READABLE, WRITABLE,
  // PEER_CLOSED on hangup).
  virtual zx_signals_t Signals();
  // The poll(2) events on fd() that can bring about one of `wanted`, given the state
  // `now`; 0 when only a close can (a hangup would report itself forever).
  virtual short PollEventsFor(zx_signals_t wanted, zx_signals_t now) const;
  // False when the state lives in shared memory, not in fd(): a waiter then watches
  // through an edge-triggered poller of its own (OpenWaiter; core/poller.h).
  virtual bool PollableFd() const { return true; }
  // Whether a wait for `wanted` must start watching through a poller of its own
  // (OpenWaiter) rather than poll fd(): !PollableFd(), or user signals wanted of an object
  // that keeps them in a shared page (made here if there is none yet, so that the waiter
  // watches its doorbell; docs/objects.md, "User signals").
  virtual bool NeedsWaiter(zx_signals_t wanted) { return !PollableFd(); }
  // Whether a wait that polled fd() and saw `revents`, the signals being `now`, must watch
  // through a waiter from then on (a poll would spin: a framed channel's part of a frame).
  virtual bool NeedsWaiterAfter(short revents, zx_signals_t now) const { return false; }
  // Whether a watch polls fd() itself, level-triggered, until NeedsWaiterAfter calls for
  // edges: PollableFd(), or a framed channel end, whose socket tells readiness except while
  // part of a frame heads it. Otherwise the watch goes through a waiter from the start.
  virtual bool PollsFdFirst() const { return PollableFd(); }
  // Registers in the poller `poller`, edge-triggered with `data`, every descriptor
  // whose activity may change Signals() (one already there is left as it is). Ports and
  // private waiters use it.
  virtual bool WatchIn(int poller, uint64_t data) const;
  // The signals that only calls of this process can take down (a read, a write): a port
  // looks around each such call, so it sees every fall of these and a message arriving
  // while READABLE is up is no rise. The others (a signal word another process may clear,
  // a descriptor anyone may read) can fall unseen: fresh activity that can raise one, with
  // it up, is taken as a rise (docs/objects.md, "Ports").
  virtual zx_signals_t SignalsOnlyCallsLower() const { return 0; }
  // The user signals of a channel, socket, VMO or timer; nullptr for objects without them
  // (events and eventpairs keep theirs in their own page).
  virtual UserSignals* user_signals() { return nullptr; }
  // The descriptors that travel with the object in a message, fd() first.
  virtual size_t Descriptors(int* out) const;
  // Bits its handle entry's type carries beside the type, for a variant the descriptors
  // alone can't tell (a socket end of framed datagrams: kWireDatagramFrames; wire_format.h).
  virtual uint32_t WireFlags() const { return 0; }
  // What travels for a handle with `rights`: this object, or a twin with the same identity
  // whose descriptors enforce the rights (a VMO without WRITE goes as a read-only file).
  // The caller holds the one reference it sends. `descriptor_only`: no user signals' page
  // is made for it (a peer expecting one descriptor; fdio takes fd() alone).
  virtual std::shared_ptr<Object> ForTransfer(zx_rights_t rights, bool descriptor_only = false) {
    return shared_from_this();
  }

 private:
  const zx_obj_type_t type_;
  int fd_;
  const zx_koid_t koid_;
  const zx_koid_t related_koid_;
  mutable std::mutex name_mu_;
  char name_[ZX_MAX_NAME_LEN] = {};
};

using ObjectRef = std::shared_ptr<Object>;

// Rights a plain descriptor's handle gets from its access mode (O_RDONLY → READ, ...).
zx_rights_t RightsForDescriptor(int fd);

// A waiter's own poller watching `object` (WatchIn); -1 if none could be made.
int OpenWaiter(const Object& object);
// Takes the edges a waiter has seen, so that its descriptor polls quiet until the next.
void DrainWaiter(int waiter_fd);

}  // namespace zxc
