// Ports: packets and observers of objects (zx_object_wait_async). The syscalls that use
// them: port_syscalls.cc; how a port travels: port_transfer.cc.
#include "core/port.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "core/blocking_wait.h"
#include "core/endpoint.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/platform.h"
#include "core/poller.h"
#include "core/socket_util.h"
#include "core/syscalls.h"
#include "core/thread_wake.h"

namespace zxc {
namespace {

constexpr uint64_t kWakeId = 0;  // epoll data of the wake flag; watches count from 1
constexpr int kEventsPerLook = 64;

// Why the poller refused to watch a descriptor: EPERM (a regular file, a directory) and
// ELOOP or EINVAL (pollers nested too deep) mean it can't be watched at all. ENOSPC:
// fs.epoll.max_user_watches.
zx_status_t WatchErrnoStatus() {
  return StatusForErrno(errno, ZX_ERR_NOT_SUPPORTED, {{ENOSPC, ZX_ERR_NO_RESOURCES}});
}

zx_time_t BootNow() {
  timespec ts;
  clock_gettime(kBootClock, &ts);
  return static_cast<zx_time_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The packet of an observer that fires: `observed` is every signal of the object now; the
// timestamp is the one its options ask for.
PortPacket SignalPacket(uint64_t key, zx_signals_t trigger, zx_signals_t observed,
                        uint32_t options) {
  PortPacket packet;
  packet.key = key;
  packet.type = ZX_PKT_TYPE_SIGNAL_ONE;
  packet.status = ZX_OK;
  zx_time_t timestamp = 0;
  if (options & ZX_WAIT_ASYNC_TIMESTAMP)
    timestamp = MonotonicNow();
  else if (options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP)
    timestamp = BootNow();
  packet.signal = PacketSignal{trigger, observed, 1, timestamp, 0};
  return packet;
}

// Descriptor activity that can have raised one of `trigger` on `object`, given its state
// `seen`. Only objects whose state lives in fd() can say; for the others any activity counts.
uint32_t RelevantActivity(const Object& object, zx_signals_t trigger, zx_signals_t seen) {
  if (!object.PollableFd()) return ~0u;
  uint32_t relevant = kPollerErr;
  const short events = object.PollEventsFor(trigger, seen);
  if (events & POLLIN) relevant |= kPollerIn;
  if (events & POLLOUT) relevant |= kPollerOut;
  if (events & kPollHangupEvent) relevant |= kPollerHup;
  return relevant;
}

// Which ports watch which koids, so that a call of this process that changes an object's
// signals can have them look (LookAtObservers). Never destroyed: late threads may use it.
struct WatchRegistry {
  std::mutex mu;
  std::unordered_multimap<zx_koid_t, std::pair<Port*, std::weak_ptr<Port>>> ports;
};

WatchRegistry& Registry() {
  static WatchRegistry* registry = new WatchRegistry();
  return *registry;
}

void RegisterWatch(zx_koid_t koid, Port* port, std::weak_ptr<Port> weak) {
  WatchRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.ports.emplace(koid, std::make_pair(port, std::move(weak)));
  g_port_watches[koid % kWatchBuckets].fetch_add(1, std::memory_order_relaxed);
}

void UnregisterWatch(zx_koid_t koid, Port* port) {
  WatchRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto range = r.ports.equal_range(koid);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.first != port) continue;
    r.ports.erase(it);
    g_port_watches[koid % kWatchBuckets].fetch_sub(1, std::memory_order_relaxed);
    return;
  }
}

}  // namespace

// One zx_object_wait_async: fires once, then is gone. The table has the port look before
// its handle leaves (closed, replaced, moved), then tells it: it ends without a packet.
struct Port::Observer final : HandleObserver {
  Port* port = nullptr;
  zx_handle_t handle = ZX_HANDLE_INVALID;
  uint64_t key = 0;
  zx_signals_t trigger = 0;
  uint32_t options = 0;
  zx_signals_t seen = 0;  // the object's signals at the last look (or when it began)
  std::atomic<bool> handle_removed{false};

  // Runs under the table's lock; DropObserverLocked takes that lock before the observer
  // is deleted, so this call has returned by then.
  void OnHandleRemoved() override {
    handle_removed.store(true);
    port->Notify();
  }
  bool LooksBeforeRemoval() const override { return true; }

  // Level: a requested signal is up. Edge: one rose since the last look, or one that can
  // fall unseen is up after activity that can have raised it (`activity`: news from
  // elsewhere since the last look).
  bool Fires(const Object& object, zx_signals_t now, uint32_t activity) const {
    const zx_signals_t active = now & trigger;
    if (!(options & ZX_WAIT_ASYNC_EDGE)) return active != 0;
    if (active & ~seen) return true;
    return (active & ~object.SignalsOnlyCallsLower()) &&
           (activity & RelevantActivity(object, trigger, seen));
  }
};

// Every observer of one object on this port, and how the port hears about the object:
// a poller of its own watching the object's descriptors, nested in the port's,
// plus (a channel endpoint) news of messages a call stashed. The object is not kept alive:
// closing its last handle closes it at once.
struct Port::Watch final : SignalObserver {
  Port* port = nullptr;
  uint64_t id = 0;
  Object* key = nullptr;  // never dereferenced
  zx_koid_t koid = ZX_KOID_INVALID;
  std::weak_ptr<Object> object;
  std::weak_ptr<Endpoint> endpoint;
  int waiter = -1;
  uint32_t activity = 0;  // poller events (kPoller*) since the last evaluation
  std::atomic<bool> stashed{false};
  std::vector<std::unique_ptr<Observer>> observers;

  void OnSignalsChanged() override {
    stashed.store(true);
    port->Notify();
  }
};

// ---- life cycle ---------------------------------------------------------------------

zx_status_t Port::Create(uint32_t options, std::shared_ptr<Port>* out, zx_koid_t koid) {
  if (options != 0 && options != ZX_PORT_BIND_TO_INTERRUPT) return ZX_ERR_INVALID_ARGS;
  const int epoll_fd = PollerCreate();
  if (epoll_fd < 0) return CreationStatus(errno);
  WakeFlag wake = WakeFlag::Open();
  if (!wake.valid()) {
    const zx_status_t status = CreationStatus(errno);
    close(epoll_fd);
    return status;
  }
  // Level-triggered: readable while packets are queued.
  if (PollerAdd(epoll_fd, wake.wait_fd(), kPollerIn, false, kWakeId) != 0) {
    wake.Close();
    close(epoll_fd);
    return ZX_ERR_NO_MEMORY;
  }
  *out = std::make_shared<Port>(epoll_fd, wake, koid ? koid : NewKoid());
  return ZX_OK;
}

Port::Port(int epoll_fd, WakeFlag wake, zx_koid_t koid)
    : Object(ZX_OBJ_TYPE_PORT, epoll_fd, koid, ZX_KOID_INVALID), wake_(wake) {}

Port::~Port() {
  // The last reference is gone, so no port call runs; the table and endpoints may still
  // call observers until each is unregistered below.
  while (!watches_.empty()) CloseWatchLocked(watches_.begin()->second.get());
  wake_.Close();
}

void Port::Notify() {
  notified_.store(true);
  wake_.Set();
}

// ---- packets --------------------------------------------------------------------------

void Port::PushLocked(const PortPacket& packet, zx_handle_t source) {
  if (!wake_set_) {
    wake_.Set();
    wake_set_ = true;
  }
  packets_.push_back(Queued{packet, source});
}

zx_status_t Port::QueueUser(const PortPacket& packet) {
  std::lock_guard<std::mutex> lock(mu_);
  if (user_packets_ > kMaxUserPackets) return ZX_ERR_SHOULD_WAIT;
  // A signal that rose before this call is queued ahead of the packet.
  if (!watches_.empty()) CollectLocked();
  PushLocked(packet, ZX_HANDLE_INVALID);
  packets_.back().packet.type = ZX_PKT_TYPE_USER;
  ++user_packets_;
  return ZX_OK;
}

bool Port::TryDequeue(PortPacket* out) {
  std::lock_guard<std::mutex> lock(mu_);
  CollectLocked();
  if (packets_.empty()) return false;
  *out = packets_.front().packet;
  packets_.pop_front();
  if (out->type == ZX_PKT_TYPE_USER) --user_packets_;
  // The wake flag stays set until the next look finds the queue empty: one reset there.
  return true;
}

std::vector<PortPacket> Port::UserPackets() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PortPacket> out;
  out.reserve(user_packets_);
  for (const Queued& q : packets_)
    if (q.packet.type == ZX_PKT_TYPE_USER) out.push_back(q.packet);
  return out;
}

std::shared_ptr<Port> Port::FromPackets(const PortPacket* packets, size_t count, zx_koid_t koid) {
  std::shared_ptr<Port> received;
  // The koid the message gave: the port keeps its identity across processes.
  if (Create(0, &received, koid) != ZX_OK) return nullptr;
  std::lock_guard<std::mutex> lock(received->mu_);
  for (size_t i = 0; i < count; ++i) {
    received->PushLocked(packets[i], ZX_HANDLE_INVALID);
    received->packets_.back().packet.type = ZX_PKT_TYPE_USER;
    ++received->user_packets_;
  }
  return received;
}

// ---- looking --------------------------------------------------------------------------

void Port::CollectLocked() {
  // Watches idle since the previous look and not reused: let them go.
  if (!idle_.empty()) {
    std::vector<uint64_t> idle;
    idle.swap(idle_);
    for (uint64_t id : idle) {
      auto it = watch_ids_.find(id);
      if (it != watch_ids_.end() && it->second->observers.empty()) CloseWatchLocked(it->second);
    }
  }
  PollerEvent events[kEventsPerLook];
  uint64_t ready[kEventsPerLook];
  bool woken = false;
  for (;;) {
    const int n = PollerTake(fd(), events, kEventsPerLook);
    int num_ready = 0;
    for (int i = 0; i < n; ++i) {
      if (events[i].data == kWakeId)
        woken = true;
      else
        ready[num_ready++] = events[i].data;
    }
    for (int i = 0; i < num_ready; ++i) {
      auto it = watch_ids_.find(ready[i]);
      if (it != watch_ids_.end()) EvaluateLocked(it->second);
    }
    if (n < kEventsPerLook) break;
  }
  // Reset before reading the news: a notice that lands after the reset sets it again.
  if (woken && packets_.empty()) {
    wake_.Clear();
    wake_set_ = false;
  }
  if (notified_.exchange(false)) {
    DropRemovedObserversLocked();
    for (auto& entry : watches_)
      if (entry.second->stashed.load()) dirty_.push_back(entry.second->id);
  }
  if (!dirty_.empty()) {
    std::vector<uint64_t> dirty;
    dirty.swap(dirty_);
    for (uint64_t id : dirty) {
      auto it = watch_ids_.find(id);
      if (it != watch_ids_.end()) EvaluateLocked(it->second);
    }
  }
}

void Port::DropRemovedObserversLocked() {
  for (auto& entry : watches_) {
    Watch& watch = *entry.second;
    auto& list = watch.observers;
    const size_t before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [this](const std::unique_ptr<Observer>& o) {
                                if (!o->handle_removed.load()) return false;
                                DropObserverLocked(*o);
                                return true;
                              }),
               list.end());
    if (before && list.empty()) idle_.push_back(watch.id);
  }
}

void Port::HarvestLocked(Watch* watch) {
  constexpr int kMax = kPollerEventsPerFd * kMaxObjectFds;
  PollerEvent events[kMax];
  int n;
  while ((n = PollerTake(watch->waiter, events, kMax)) > 0) {
    for (int i = 0; i < n; ++i) watch->activity |= events[i].ready;
    if (n < kMax) break;
  }
}

void Port::EvaluateLocked(Watch* watch, bool own) {
  watch->stashed.store(false);
  // Only EDGE observers care what the activity was. Left unread, the events still wake
  // the port at the next activity where a nested poller passes on every wakeup (epoll);
  // a kqueue must be emptied for its next activity to be heard.
  bool harvest = !kNestedPollerPassesEveryWakeup;
  for (const auto& observer : watch->observers)
    if (observer->options & ZX_WAIT_ASYNC_EDGE) harvest = true;
  if (harvest) HarvestLocked(watch);
  const uint32_t activity = own ? 0 : watch->activity;
  watch->activity = 0;
  if (watch->observers.empty()) return;
  ObjectRef object = watch->object.lock();
  if (!object) {
    CloseWatchLocked(watch);  // its last handle is closed: its observers are all ending
    return;
  }
  const zx_signals_t now = object->Signals();
  auto& list = watch->observers;
  for (auto it = list.begin(); it != list.end();) {
    Observer& observer = **it;
    if (observer.handle_removed.load()) {
      DropObserverLocked(observer);
      it = list.erase(it);
      continue;
    }
    if (!observer.Fires(*object, now, activity)) {
      observer.seen = now;
      ++it;
      continue;
    }
    PushLocked(SignalPacket(observer.key, observer.trigger, now, observer.options),
               observer.handle);
    DropObserverLocked(observer);
    it = list.erase(it);
  }
  if (list.empty()) idle_.push_back(watch->id);
}

// ---- watches and observers ------------------------------------------------------------

Port::Watch* Port::FindWatchLocked(Object* object) {
  auto it = watches_.find(object);
  if (it == watches_.end()) return nullptr;
  // Same address, but the object it watched may have died and another been made there.
  if (it->second->object.expired()) {
    CloseWatchLocked(it->second.get());
    return nullptr;
  }
  return it->second.get();
}

zx_status_t Port::CreateWatchLocked(const ObjectRef& object, Watch** out) {
  const int waiter = PollerCreate();
  if (waiter < 0) return CreationStatus(errno);
  const uint64_t id = ++next_watch_id_;
  auto nest = [&] { return PollerAdd(fd(), waiter, kPollerIn, true, id) == 0; };
  // Registering reports the present state, which is not activity: drained. Nested in the
  // port's poller after it is filled, or before where pollers need it (a kqueue).
  bool watching = (kPollerNestBeforeFilling ? nest() : true) && object->WatchIn(waiter, 0);
  if (watching) DrainWaiter(waiter);
  if (watching && !kPollerNestBeforeFilling) watching = nest();
  if (!watching) {
    const zx_status_t status = WatchErrnoStatus();
    close(waiter);
    return status;
  }
  auto watch = std::make_unique<Watch>();
  watch->port = this;
  watch->id = id;
  watch->key = object.get();
  watch->koid = object->koid();
  watch->object = object;
  watch->waiter = waiter;
  if (object->type() == ZX_OBJ_TYPE_CHANNEL) {
    auto endpoint = std::static_pointer_cast<Endpoint>(object);
    endpoint->AddSignalObserver(watch.get());
    watch->endpoint = endpoint;
  }
  RegisterWatch(watch->koid, this, std::static_pointer_cast<Port>(shared_from_this()));
  *out = watch.get();
  watch_ids_[watch->id] = watch.get();
  watches_[object.get()] = std::move(watch);
  return ZX_OK;
}

// Always through the table's lock, even once the handle is gone: the table may be telling
// this observer right now (OnHandleRemoved), and must be done before it is deleted.
void Port::DropObserverLocked(Observer& observer) {
  HandleTable::Get().RemoveObserver(observer.handle, &observer);
}

void Port::CloseWatchLocked(Watch* watch) {
  for (auto& observer : watch->observers) DropObserverLocked(*observer);
  watch->observers.clear();
  if (auto endpoint = watch->endpoint.lock()) endpoint->RemoveSignalObserver(watch);
  // Explicitly: a forked child may hold a copy of the waiter for a moment.
  PollerRemove(fd(), watch->waiter);
  close(watch->waiter);
  UnregisterWatch(watch->koid, this);
  watch_ids_.erase(watch->id);
  watches_.erase(watch->key);  // destroys the watch
}

zx_status_t Port::Observe(const ObjectRef& object, zx_handle_t h, uint64_t key,
                          zx_signals_t signals, uint32_t options) {
  // User signals of a channel, socket or VMO: their page made now if need be, and its
  // doorbell added to a watch made before it was (docs/objects.md, "User signals").
  const bool user = object->user_signals() && object->NeedsWaiter(signals);
  std::lock_guard<std::mutex> lock(mu_);
  Watch* watch = FindWatchLocked(object.get());
  if (watch && user && !object->WatchIn(watch->waiter, 0)) return WatchErrnoStatus();
  const bool edge = options & ZX_WAIT_ASYNC_EDGE;
  // Activity from before this call belongs to the observers already there.
  if (watch && edge) {
    const uint64_t id = watch->id;
    EvaluateLocked(watch);
    auto it = watch_ids_.find(id);
    watch = it == watch_ids_.end() ? nullptr : it->second;
    if (watch) {
      HarvestLocked(watch);
      watch->activity = 0;
    }
  }
  const zx_signals_t now = object->Signals();
  if (!edge && (now & signals)) {
    // Fires at once: no observer is left behind.
    PushLocked(SignalPacket(key, signals, now, options), h);
    return ZX_OK;
  }
  const bool new_watch = !watch;
  if (new_watch) {
    zx_status_t status = CreateWatchLocked(object, &watch);
    if (status != ZX_OK) return status;
  }
  auto observer = std::make_unique<Observer>();
  observer->port = this;
  observer->handle = h;
  observer->key = key;
  observer->trigger = signals;
  observer->options = options;
  observer->seen = now;
  // Closed since the lookup: as if the close came right after this call (dropped at the
  // next look).
  if (HandleTable::Get().AddObserver(h, observer.get()) != ZX_OK) {
    observer->handle_removed.store(true);
    notified_.store(true);
  }
  watch->observers.push_back(std::move(observer));
  // What changed between the look above and the watch's registration told nobody, and a
  // waiter may already sleep on the port: look again now, so a packet due wakes it.
  if (new_watch) EvaluateLocked(watch);
  return ZX_OK;
}

bool Port::Cancel(zx_handle_t source, uint64_t key) {
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  for (auto& entry : watches_) {
    auto& list = entry.second->observers;
    const size_t before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const std::unique_ptr<Observer>& o) {
                                if (o->handle != source || o->key != key) return false;
                                DropObserverLocked(*o);
                                return true;
                              }),
               list.end());
    if (list.size() != before) {
      found = true;
      if (list.empty()) idle_.push_back(entry.second->id);
    }
  }
  const size_t queued = packets_.size();
  packets_.erase(std::remove_if(packets_.begin(), packets_.end(),
                                [&](const Queued& q) {
                                  return q.source == source && q.packet.key == key &&
                                         q.packet.type == ZX_PKT_TYPE_SIGNAL_ONE;
                                }),
                 packets_.end());
  return found || packets_.size() != queued;
}

void Port::LookAt(zx_koid_t koid, bool own) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> ids;
  for (auto& entry : watches_)
    if (entry.second->koid == koid) ids.push_back(entry.second->id);
  for (uint64_t id : ids) {
    auto it = watch_ids_.find(id);
    if (it != watch_ids_.end()) EvaluateLocked(it->second, own);
  }
}

std::atomic<uint32_t> g_port_watches[kWatchBuckets];

void LookAtObserversNow(zx_koid_t koid, bool own) {
  WatchRegistry& r = Registry();
  if (koid == ZX_KOID_INVALID) return;
  std::vector<std::shared_ptr<Port>> ports;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto range = r.ports.equal_range(koid);
    for (auto it = range.first; it != range.second; ++it)
      if (auto port = it->second.second.lock()) ports.push_back(std::move(port));
  }
  for (const auto& port : ports) port->LookAt(koid, own);
}

}  // namespace zxc
