// The send side of an endpoint. A write is one sendmsg of one record (a batch of records
// without handles: sendmmsg on the linux backend, which only Linux has; one sendmsg a
// frame on the portable one). When the socket is full, records wait in an ordered
// per-endpoint queue (native memory, at most
// ZX_PENDING_WRITE_LIMIT records and ZX_PENDING_WRITE_BYTES_LIMIT bytes of them) that every
// later write, the event loop of the thread that queued (via WatchHooks) and process exit
// flush. Backpressure (docs/performance.md): a send says whether the queue is at or above
// its high-water mark, and drain observers hear when it falls below the low-water mark.
// A record that carries endpoint E waits until E's own queue is empty; meanwhile the loop
// watches only for the peer's hangup, which drops the queue.
// On a framed stream (transport_stream.h) a send can take part of a record: the unsent
// tail then heads the queue (its descriptors went with its first byte), so nothing else
// goes out before it.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <unordered_set>

#include "core/endpoint.h"
#include "core/platform.h"
#include "core/socket_util.h"

namespace zxc {
namespace {

WatchHooks g_hooks;
std::atomic<bool> g_exiting{false};  // no event loop runs any more: flush synchronously

// Endpoints whose outbound queue is not empty. The strong reference keeps an endpoint
// alive after its last handle is closed until what it was asked to send is sent.
std::mutex registry_mu;
std::unordered_set<EndpointRef>& Registry() {
  static auto* set = new std::unordered_set<EndpointRef>();
  return *set;
}

// A snapshot of the registry, to work on without holding its lock.
std::vector<EndpointRef> RegisteredEndpoints() {
  std::lock_guard<std::mutex> lock(registry_mu);
  return {Registry().begin(), Registry().end()};
}

size_t PayloadSize(const iovec* payload, size_t count) {
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += payload[i].iov_len;
  return total;
}

void CopyPayload(const iovec* payload, size_t count, uint8_t* out) {
  for (size_t i = 0; i < count; ++i) {
    if (payload[i].iov_len) std::memcpy(out, payload[i].iov_base, payload[i].iov_len);
    out += payload[i].iov_len;
  }
}

zx_status_t StatusForSendErrno(int err) {
  if (IsPeerGoneErrno(err)) return ZX_ERR_PEER_CLOSED;
  // ETOOMANYREFS: too many descriptors in flight; EPERM: the receiver refuses descriptors.
  return StatusForErrno(err, ZX_ERR_INTERNAL,
                        {{ETOOMANYREFS, ZX_ERR_NO_RESOURCES},
                         {EPERM, ZX_ERR_ACCESS_DENIED},
                         {EMSGSIZE, ZX_ERR_OUT_OF_RANGE}});
}

}  // namespace

void SetWatchHooks(const WatchHooks& hooks) { g_hooks = hooks; }

Endpoint::OutRecord MakeRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                               size_t payload_count, std::vector<ObjectRef>&& carried) {
  Endpoint::OutRecord record;
  record.data.resize(prefix_size + PayloadSize(payload, payload_count));
  std::memcpy(record.data.data(), prefix, prefix_size);
  CopyPayload(payload, payload_count, record.data.data() + prefix_size);
  record.carried = std::move(carried);
  return record;
}

// The tail of a record that went out in part: its first `written` bytes are gone, and with
// them its descriptors (the carried objects are released).
void DropSentPart(Endpoint::OutRecord* record, size_t written) {
  record->data.erase(record->data.begin(), record->data.begin() + written);
  record->carried.clear();
}

int Endpoint::SendRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                         size_t payload_count, const std::vector<ObjectRef>& carried,
                         size_t* written) {
  iovec iov_stack[8];
  std::vector<iovec> iov_heap;
  iovec* iov = iov_stack;
  if (payload_count + 1 > 8) {
    iov_heap.resize(payload_count + 1);
    iov = iov_heap.data();
  }
  iov[0] = iovec{const_cast<uint8_t*>(prefix), prefix_size};
  for (size_t i = 0; i < payload_count; ++i) iov[i + 1] = payload[i];
  std::vector<uint8_t> joined;
  if (payload_count + 1 > IOV_MAX) {
    // sendmsg takes at most IOV_MAX pieces; ZX_CHANNEL_WRITE_USE_IOVEC allows 8192.
    joined.resize(PayloadSize(payload, payload_count));
    CopyPayload(payload, payload_count, joined.data());
    iov[1] = iovec{joined.data(), joined.size()};
    payload_count = 1;
  }

  alignas(cmsghdr) uint8_t control[CMSG_SPACE(kMaxMsgHandles * kMaxObjectFds * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload_count + 1;
  if (!carried.empty()) {
    int fds[kMaxMsgHandles * kMaxObjectFds];
    size_t num_fds = 0;
    for (const ObjectRef& object : carried) num_fds += object->Descriptors(fds + num_fds);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(num_fds * sizeof(int));
    // CMSG_SPACE pads the descriptors to a multiple of 8 bytes: no stack garbage goes out.
    std::memset(control, 0, msg.msg_controllen);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(num_fds * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, num_fds * sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  *written = n < 0 ? 0 : static_cast<size_t>(n);
  return n < 0 ? errno : 0;
}

bool Endpoint::HeadBlockedLocked(const OutRecord& head) {
  for (const ObjectRef& object : head.carried) {
    if (object->type() != ZX_OBJ_TYPE_CHANNEL) continue;
    auto* carried = static_cast<Endpoint*>(object.get());
    if (carried->queued() == 0) continue;
    // Register first, then look again: a drain in between still finds us.
    carried->AddDependent(std::static_pointer_cast<Endpoint>(shared_from_this()));
    if (carried->queued() != 0) return true;
  }
  return false;
}

bool Endpoint::AboveHighWaterLocked() const {
  return queue_.size() >= ZX_PENDING_WRITE_HIGH_WATER ||
         queued_bytes_ >= ZX_PENDING_WRITE_HIGH_WATER_BYTES;
}

bool Endpoint::BelowLowWaterLocked() const {
  return queue_.size() < ZX_PENDING_WRITE_LOW_WATER &&
         queued_bytes_ < ZX_PENDING_WRITE_LOW_WATER_BYTES;
}

bool Endpoint::AddDrainObserver(SignalObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (BelowLowWaterLocked()) return false;
  if (std::find(drain_observers_.begin(), drain_observers_.end(), observer) ==
      drain_observers_.end())
    drain_observers_.push_back(observer);
  return true;
}

void Endpoint::RemoveDrainObserver(SignalObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  drain_observers_.erase(std::remove(drain_observers_.begin(), drain_observers_.end(), observer),
                         drain_observers_.end());
}

Endpoint::FlushState Endpoint::FlushLocked() {
  const FlushState state = FlushQueueLocked();
  if (!drain_observers_.empty() && BelowLowWaterLocked()) {
    for (SignalObserver* observer : drain_observers_) observer->OnSignalsChanged();
    drain_observers_.clear();
  }
  return state;
}

Endpoint::FlushState Endpoint::FlushQueueLocked() {
  while (!queue_.empty()) {
    OutRecord& head = queue_.front();
    int err = EPIPE;
    if (HeadBlockedLocked(head)) {
      // Held back, unless the peer is gone (as PEER_CLOSED reads it): then it is dropped.
      if (!PeerHasShutDown(fd())) return FlushState::kBlocked;
    } else {
      iovec none{nullptr, 0};
      size_t written;
      err = SendRecord(head.data.data(), head.data.size(), &none, 0, head.carried, &written);
      if (err == 0 && written < head.data.size()) {  // a framed stream took part of it
        queued_bytes_ -= written;
        DropSentPart(&head, written);
        return FlushState::kNeedWritable;
      }
    }
    if (IsFullErrno(err)) return FlushState::kNeedWritable;
    if (IsPeerGoneErrno(err)) {
      peer_gone_ = true;
      // Releases every carried object, as a close does: their peers see PEER_CLOSED (a
      // carried endpoint's own queue, if any, is sent first).
      queue_.clear();
      break;
    }
    // Sent, or failed for a reason retrying can't fix (it is dropped, descriptors closed).
    queued_bytes_ -= head.data.size();
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_release);
  }
  queued_bytes_ = 0;
  queued_.store(0, std::memory_order_release);
  return FlushState::kEmpty;
}

void Endpoint::AddDependent(const EndpointRef& dependent) {
  std::lock_guard<std::mutex> lock(dependents_mu_);
  for (auto& weak : dependents_)
    if (weak.lock() == dependent) return;
  dependents_.push_back(dependent);
}

void Endpoint::AfterDrained() {
  EndpointRef self = std::static_pointer_cast<Endpoint>(shared_from_this());
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    Registry().erase(self);
  }
  std::vector<std::weak_ptr<Endpoint>> waiting;
  {
    std::lock_guard<std::mutex> lock(dependents_mu_);
    waiting.swap(dependents_);
  }
  for (auto& weak : waiting)
    if (EndpointRef dependent = weak.lock()) dependent->FlushAndArm();
}

// Under mu_. The loop that watches is this thread's if none is yet, or is told what to
// watch for now if that changed: true when `*owner` (this thread's loop) must be armed.
bool Endpoint::WatchLocked(bool held, void** owner) {
  // Already watched for this (every write while queued): nothing to ask.
  if (watch_owner_ && watch_held_ == held) return false;
  void* current = g_hooks.current_owner ? g_hooks.current_owner() : nullptr;
  if (watch_owner_) {
    watch_held_ = held;
    if (watch_owner_ != current) {
      if (g_hooks.poke) g_hooks.poke(watch_owner_);
      return false;
    }
  } else if (!current || g_exiting.load()) {
    return false;
  }
  watch_owner_ = current;
  watch_held_ = held;
  *owner = current;
  return true;
}

// Under mu_: nothing left for a watch to do. The loop that watches stops now if it is
// this thread's, else it is told (it can't be gone: its cleanup takes mu_).
void Endpoint::ReleaseWatchLocked(void** stop_here) {
  if (!watch_owner_) return;
  void* owner = watch_owner_;
  watch_owner_ = nullptr;
  if (g_hooks.current_owner && g_hooks.current_owner() == owner)
    *stop_here = owner;
  else if (g_hooks.poke)
    g_hooks.poke(owner);
}

QueueWatch Endpoint::WatchedBy(void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (watch_owner_ != owner) return QueueWatch::kNone;
  return watch_held_ ? QueueWatch::kHangup : QueueWatch::kWritable;
}

void Endpoint::FlushAndArm() {
  void* owner = nullptr;
  void* stop_here = nullptr;
  bool arm = false;
  FlushState state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = FlushLocked();
    if (state == FlushState::kEmpty)
      ReleaseWatchLocked(&stop_here);
    else
      arm = WatchLocked(state == FlushState::kBlocked, &owner);
  }
  EndpointRef self = std::static_pointer_cast<Endpoint>(shared_from_this());
  if (stop_here) g_hooks.disarm(self, stop_here);
  if (state == FlushState::kEmpty) AfterDrained();
  if (arm) g_hooks.arm(self, owner);
}

bool Endpoint::AfterSendLocked(bool was_queued, FlushState state, bool* arm, void** owner,
                               void** stop_here, bool* above_high_water) {
  const bool now_queued = !queue_.empty();
  if (now_queued)
    *arm = WatchLocked(state == FlushState::kBlocked, owner);
  else if (was_queued)
    ReleaseWatchLocked(stop_here);
  if (above_high_water) *above_high_water = now_queued && AboveHighWaterLocked();
  return now_queued;
}

zx_status_t Endpoint::Send(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                           size_t payload_count, std::vector<ObjectRef>&& carried,
                           bool* above_high_water) {
  void* owner = nullptr;
  void* stop_here = nullptr;
  bool arm = false, was_queued, now_queued;
  zx_status_t status = ZX_OK;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_queued = !queue_.empty();
    // Every write first tries to move what is already queued.
    FlushState state = was_queued ? FlushLocked() : FlushState::kEmpty;
    bool carried_busy = false;
    for (const ObjectRef& object : carried)
      if (object->type() == ZX_OBJ_TYPE_CHANNEL && static_cast<Endpoint*>(object.get())->queued())
        carried_busy = true;
    int err = EAGAIN;
    size_t written = 0;
    if (peer_gone_)
      err = EPIPE;
    else if (queue_.empty() && !carried_busy)
      err = SendRecord(prefix, prefix_size, payload, payload_count, carried, &written);
    const size_t size = prefix_size + PayloadSize(payload, payload_count);
    if (err == 0 && written < size) {
      // A framed stream took part of it: the rest heads the (empty) queue, whatever its
      // bounds, as the write has happened.
      queue_.push_back(MakeRecord(prefix, prefix_size, payload, payload_count, {}));
      DropSentPart(&queue_.back(), written);
      queued_bytes_ += queue_.back().data.size();
      queued_.store(queue_.size(), std::memory_order_release);
      state = FlushState::kNeedWritable;
    } else if (err == 0) {
      status = ZX_OK;
    } else if (!IsFullErrno(err)) {
      if (IsPeerGoneErrno(err)) peer_gone_ = true;
      status = StatusForSendErrno(err);  // `carried` is released by the caller
    } else if (queue_.size() >= ZX_PENDING_WRITE_LIMIT ||
               queued_bytes_ + prefix_size + PayloadSize(payload, payload_count) >
                   ZX_PENDING_WRITE_BYTES_LIMIT) {
      status = ZX_ERR_SHOULD_WAIT;
    } else {
      queue_.push_back(MakeRecord(prefix, prefix_size, payload, payload_count, std::move(carried)));
      queued_bytes_ += queue_.back().data.size();
      queued_.store(queue_.size(), std::memory_order_release);
      // A new head waits for the endpoints it carries (or goes now if they just drained).
      state = queue_.size() == 1 && carried_busy ? FlushLocked()
              : queue_.size() == 1               ? FlushState::kNeedWritable
                                                 : state;
    }
    now_queued = AfterSendLocked(was_queued, state, &arm, &owner, &stop_here, above_high_water);
  }
  if (was_queued == now_queued && !arm && !stop_here) return status;  // the common case
  SettleAfterSend(was_queued, now_queued, arm ? owner : nullptr, stop_here);
  return status;
}

void Endpoint::SettleAfterSend(bool was_queued, bool now_queued, void* arm_owner, void* stop_here) {
  EndpointRef self = std::static_pointer_cast<Endpoint>(shared_from_this());
  if (stop_here) g_hooks.disarm(self, stop_here);
  if (!was_queued && now_queued) {
    std::lock_guard<std::mutex> lock(registry_mu);
    Registry().insert(self);
  }
  if (was_queued && !now_queued) AfterDrained();
  if (arm_owner) g_hooks.arm(self, arm_owner);
}

int Endpoint::SendBatch(const uint8_t* headers, const iovec* payloads, size_t count, size_t* sent,
                        size_t* tail_written) {
  *tail_written = 0;
#ifdef __linux__
  if (PortableBackend()) return SendFrames(headers, payloads, count, sent, tail_written);
  constexpr size_t kChunk = 256;  // what ChannelWriteMany hands over at a time
  mmsghdr msgs[kChunk];
  iovec iov[kChunk][2];
  *sent = 0;
  while (*sent < count) {
    const size_t n = std::min(count - *sent, kChunk);
    for (size_t i = 0; i < n; ++i) {
      const size_t k = *sent + i;
      iov[i][0] = iovec{const_cast<uint8_t*>(headers + k * sizeof(WireHeader)), sizeof(WireHeader)};
      iov[i][1] = payloads[k];
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_iov = iov[i];
      msgs[i].msg_hdr.msg_iovlen = 2;
    }
    int r;
    do r = sendmmsg(fd(), msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) return errno;  // a short count comes back here with the reason next turn
    *sent += static_cast<size_t>(r);
  }
  return 0;
#else
  return SendFrames(headers, payloads, count, sent, tail_written);  // no sendmmsg
#endif
}

int Endpoint::SendFrames(const uint8_t* headers, const iovec* payloads, size_t count, size_t* sent,
                         size_t* tail_written) {
  // One sendmsg a frame, as sendmmsg sends one record a message: the socket holds as many
  // messages as a SEQPACKET one (the kernel buffers each send apart), and a short count
  // stops at the record the socket took in part.
  *sent = 0;
  for (; *sent < count; ++*sent) {
    const size_t k = *sent;
    iovec iov[2] = {{const_cast<uint8_t*>(headers + k * sizeof(WireHeader)), sizeof(WireHeader)},
                    payloads[k]};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t r;
    do r = sendmsg(fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) return errno;
    if (static_cast<size_t>(r) < sizeof(WireHeader) + payloads[k].iov_len) {
      *tail_written = static_cast<size_t>(r);
      return EAGAIN;
    }
  }
  return 0;
}

zx_status_t Endpoint::SendMany(const uint8_t* headers, const iovec* payloads, size_t count,
                               size_t* accepted, bool* above_high_water) {
  void* owner = nullptr;
  void* stop_here = nullptr;
  bool arm = false, was_queued, now_queued;
  zx_status_t status = ZX_OK;
  size_t done = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_queued = !queue_.empty();
    FlushState state = was_queued ? FlushLocked() : FlushState::kEmpty;
    int err = EAGAIN;
    size_t tail_written = 0;
    if (peer_gone_)
      err = EPIPE;
    else if (queue_.empty())
      err = SendBatch(headers, payloads, count, &done, &tail_written);
    if (tail_written) {
      // A framed stream took part of record `done`: its rest heads the queue, as in Send.
      queue_.push_back(MakeRecord(headers + done * sizeof(WireHeader), sizeof(WireHeader),
                                  &payloads[done], 1, {}));
      DropSentPart(&queue_.back(), tail_written);
      queued_bytes_ += queue_.back().data.size();
      ++done;
      state = FlushState::kNeedWritable;
    }
    if (err != 0 && !IsFullErrno(err)) {
      if (IsPeerGoneErrno(err)) peer_gone_ = true;
      status = StatusForSendErrno(err);
    } else {
      // The socket is full: the rest waits in the queue, in order, as far as its bounds go.
      for (; done < count; ++done) {
        const size_t size = sizeof(WireHeader) + payloads[done].iov_len;
        if (queue_.size() >= ZX_PENDING_WRITE_LIMIT ||
            queued_bytes_ + size > ZX_PENDING_WRITE_BYTES_LIMIT) {
          status = ZX_ERR_SHOULD_WAIT;
          break;
        }
        queue_.push_back(MakeRecord(headers + done * sizeof(WireHeader), sizeof(WireHeader),
                                    &payloads[done], 1, {}));
        queued_bytes_ += size;
        if (queue_.size() == 1) state = FlushState::kNeedWritable;
      }
      queued_.store(queue_.size(), std::memory_order_release);
    }
    now_queued = AfterSendLocked(was_queued, state, &arm, &owner, &stop_here, above_high_water);
  }
  *accepted = done;
  if (was_queued != now_queued || arm || stop_here)
    SettleAfterSend(was_queued, now_queued, arm ? owner : nullptr, stop_here);
  return status;
}

QueueWatch Endpoint::FlushForWatcher(void* owner) {
  FlushState state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = FlushLocked();
    if (state != FlushState::kEmpty && (watch_owner_ == owner || !watch_owner_)) {
      watch_owner_ = owner;
      watch_held_ = state == FlushState::kBlocked;
      return watch_held_ ? QueueWatch::kHangup : QueueWatch::kWritable;
    }
    if (watch_owner_ == owner) watch_owner_ = nullptr;
  }
  if (state == FlushState::kEmpty) AfterDrained();
  return QueueWatch::kNone;
}

void Endpoint::DropWatcher(void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (watch_owner_ == owner) watch_owner_ = nullptr;
}

size_t Endpoint::FlushAllForExit(std::vector<pollfd>* wait) {
  g_exiting.store(true);
  const std::vector<EndpointRef> pending = RegisteredEndpoints();
  size_t total = 0;
  for (const EndpointRef& ep : pending) {
    FlushState state;
    {
      std::lock_guard<std::mutex> lock(ep->mu_);
      state = ep->FlushLocked();
      ep->watch_owner_ = nullptr;  // no loop runs any more
    }
    if (state == FlushState::kEmpty) {
      ep->AfterDrained();
      continue;
    }
    total += ep->queued();
    const short events = state == FlushState::kBlocked ? kPollHangupEvent : POLLOUT;
    wait->push_back(pollfd{ep->fd(), events, 0});
  }
  return total;
}

void Endpoint::QueuedDescriptors(std::vector<int>* out) {
  const std::vector<EndpointRef> pending = RegisteredEndpoints();
  for (const EndpointRef& ep : pending) {
    std::lock_guard<std::mutex> lock(ep->mu_);
    out->push_back(ep->fd());
    int fds[kMaxMsgHandles * kMaxObjectFds];
    for (const OutRecord& record : ep->queue_) {
      size_t n = 0;
      for (const ObjectRef& object : record.carried) n += object->Descriptors(fds + n);
      out->insert(out->end(), fds, fds + n);
    }
  }
}

}  // namespace zxc
