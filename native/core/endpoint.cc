#include "core/endpoint.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "core/handle_table.h"
#include "core/koid.h"

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

// Room for the kernel's per-message maximum (SCM_MAX_FD = 253), so a peer can never make
// the kernel drop descriptors for lack of control space.
constexpr size_t kMaxFdsPerRecvmsg = 253;
constexpr size_t kControlBytes = CMSG_SPACE(kMaxFdsPerRecvmsg * sizeof(int));
constexpr int kSendBufferRequest = 1 << 20;  // the kernel doubles it: 2 MiB of records

uint8_t* ReceiveBuffer() {
  // One spare byte: an oversized record shows up as MSG_TRUNC, not a silent cut.
  thread_local std::unique_ptr<uint8_t[]> buffer(new uint8_t[kMaxRecordBytes + 1]);
  return buffer.get();
}

bool IsPeerGoneErrno(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }
bool IsFullErrno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

zx_status_t StatusForSendErrno(int err) {
  if (IsPeerGoneErrno(err)) return ZX_ERR_PEER_CLOSED;
  switch (err) {
    case ETOOMANYREFS: return ZX_ERR_NO_RESOURCES;  // too many descriptors in flight
    case EPERM: return ZX_ERR_ACCESS_DENIED;        // the receiver refuses descriptors
    case ENOMEM: return ZX_ERR_NO_MEMORY;
    case EMSGSIZE: return ZX_ERR_OUT_OF_RANGE;
    default: return ZX_ERR_INTERNAL;
  }
}

void CloseAll(const int* fds, size_t count) {
  for (size_t i = 0; i < count; ++i) close(fds[i]);
}

// Descriptors of one received record, from every SCM_RIGHTS message in the control data.
size_t CollectFds(msghdr* msg, int* fds, size_t capacity) {
  size_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const uint8_t* data = CMSG_DATA(c);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      if (count < capacity) fds[count++] = fd; else close(fd);
    }
  }
  return count;
}

// The record at the head is consumed and thrown away, its descriptors closed.
void DiscardHead(int fd) {
  alignas(cmsghdr) uint8_t control[kControlBytes];
  uint8_t byte;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return;
  int fds[kMaxFdsPerRecvmsg];
  CloseAll(fds, CollectFds(&msg, fds, kMaxFdsPerRecvmsg));
}

bool PeerHasShutDown(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

Endpoint::OutRecord MakeRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                              size_t payload_count, std::vector<ObjectRef>&& carried) {
  size_t total = prefix_size;
  for (size_t i = 0; i < payload_count; ++i) total += payload[i].iov_len;
  Endpoint::OutRecord record;
  record.data.resize(total);
  uint8_t* out = record.data.data();
  std::memcpy(out, prefix, prefix_size);
  out += prefix_size;
  for (size_t i = 0; i < payload_count; ++i) {
    if (payload[i].iov_len) std::memcpy(out, payload[i].iov_base, payload[i].iov_len);
    out += payload[i].iov_len;
  }
  record.carried = std::move(carried);
  return record;
}

ObjectRef WrapReceived(const WireHandle& entry, int fd) {
  zx_koid_t koid = entry.koid ? entry.koid : NewKoid();
  if (entry.type == ZX_OBJ_TYPE_CHANNEL)
    return std::make_shared<Endpoint>(fd, koid, entry.related_koid);
  return std::make_shared<Object>(entry.type, fd, koid, entry.related_koid);
}

}  // namespace

void SetWatchHooks(const WatchHooks& hooks) { g_hooks = hooks; }

Endpoint::Endpoint(int fd, zx_koid_t koid, zx_koid_t related_koid)
    : Object(ZX_OBJ_TYPE_CHANNEL, fd, koid, related_koid) {}

void Endpoint::ConfigureSocket(int fd) {
  int size = kSendBufferRequest;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

zx_status_t Endpoint::CreatePair(EndpointRef* out0, EndpointRef* out1) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0)
    return errno == EMFILE || errno == ENFILE ? ZX_ERR_NO_RESOURCES : ZX_ERR_NO_MEMORY;
  ConfigureSocket(fds[0]);
  ConfigureSocket(fds[1]);
  zx_koid_t k0 = NewKoid(), k1 = NewKoid();
  *out0 = std::make_shared<Endpoint>(fds[0], k0, k1);
  *out1 = std::make_shared<Endpoint>(fds[1], k1, k0);
  return ZX_OK;
}

// ---- outbound -------------------------------------------------------------------------

int Endpoint::SendRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                         size_t payload_count, const std::vector<ObjectRef>& carried) {
  iovec iov_stack[8];
  std::vector<iovec> iov_heap;
  iovec* iov = iov_stack;
  if (payload_count + 1 > 8) {
    iov_heap.resize(payload_count + 1);
    iov = iov_heap.data();
  }
  iov[0] = iovec{const_cast<uint8_t*>(prefix), prefix_size};
  for (size_t i = 0; i < payload_count; ++i) iov[i + 1] = payload[i];

  alignas(cmsghdr) uint8_t control[CMSG_SPACE(kMaxMsgHandles * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload_count + 1;
  if (!carried.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(carried.size() * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(carried.size() * sizeof(int));
    for (size_t i = 0; i < carried.size(); ++i) {
      int fd = carried[i]->fd();
      std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
    }
  }
  ssize_t n;
  do n = sendmsg(fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
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

Endpoint::FlushState Endpoint::FlushLocked() {
  while (!queue_.empty()) {
    OutRecord& head = queue_.front();
    if (HeadBlockedLocked(head)) return FlushState::kBlocked;
    iovec none{nullptr, 0};
    int err = SendRecord(head.data.data(), head.data.size(), &none, 0, head.carried);
    if (IsFullErrno(err)) return FlushState::kNeedWritable;
    if (IsPeerGoneErrno(err)) {
      peer_gone_ = true;
      queue_.clear();  // releases every carried object: their peers see PEER_CLOSED
      break;
    }
    // Sent, or failed for a reason retrying can't fix (it is dropped, descriptors closed).
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_release);
  }
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

bool Endpoint::ClaimWatchLocked(void** owner) {
  if (watch_owner_ || !g_hooks.current_owner || g_exiting.load()) return false;
  void* current = g_hooks.current_owner();
  if (!current) return false;
  watch_owner_ = current;
  *owner = current;
  return true;
}

void Endpoint::FlushAndArm() {
  void* owner = nullptr;
  bool arm = false;
  FlushState state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = FlushLocked();
    if (state == FlushState::kNeedWritable) arm = ClaimWatchLocked(&owner);
  }
  if (state == FlushState::kEmpty) AfterDrained();
  if (arm) g_hooks.arm(std::static_pointer_cast<Endpoint>(shared_from_this()), owner);
}

zx_status_t Endpoint::Send(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                           size_t payload_count, std::vector<ObjectRef>&& carried) {
  void* owner = nullptr;
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
    if (peer_gone_) err = EPIPE;
    else if (queue_.empty() && !carried_busy)
      err = SendRecord(prefix, prefix_size, payload, payload_count, carried);
    if (err == 0) {
      status = ZX_OK;
    } else if (!IsFullErrno(err)) {
      if (IsPeerGoneErrno(err)) peer_gone_ = true;
      status = StatusForSendErrno(err);  // `carried` is released by the caller
    } else if (queue_.size() >= ZX_PENDING_WRITE_LIMIT) {
      status = ZX_ERR_SHOULD_WAIT;
    } else {
      queue_.push_back(MakeRecord(prefix, prefix_size, payload, payload_count, std::move(carried)));
      queued_.store(queue_.size(), std::memory_order_release);
      // A new head waits for the endpoints it carries (or goes now if they just drained).
      state = queue_.size() == 1 && carried_busy ? FlushLocked()
              : queue_.size() == 1              ? FlushState::kNeedWritable
                                                : state;
    }
    now_queued = !queue_.empty();
    if (now_queued && state == FlushState::kNeedWritable) arm = ClaimWatchLocked(&owner);
  }
  if (was_queued == now_queued && !arm) return status;  // the common case: sent at once
  EndpointRef self = std::static_pointer_cast<Endpoint>(shared_from_this());
  if (!was_queued && now_queued) {
    std::lock_guard<std::mutex> lock(registry_mu);
    Registry().insert(self);
  }
  if (was_queued && !now_queued) AfterDrained();
  if (arm) g_hooks.arm(self, owner);
  return status;
}

bool Endpoint::FlushForWatcher(void* owner) {
  FlushState state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = FlushLocked();
    if (state == FlushState::kNeedWritable) return true;
    if (watch_owner_ == owner) watch_owner_ = nullptr;
  }
  if (state == FlushState::kEmpty) AfterDrained();
  return false;
}

void Endpoint::DropWatcher(void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (watch_owner_ == owner) watch_owner_ = nullptr;
}

void Endpoint::FlushAllBlocking(int64_t no_progress_timeout_ms) {
  g_exiting.store(true);
  int64_t waited_ms = 0;
  for (;;) {
    std::vector<EndpointRef> pending;
    {
      std::lock_guard<std::mutex> lock(registry_mu);
      pending.assign(Registry().begin(), Registry().end());
    }
    if (pending.empty()) return;
    size_t before = 0, after = 0;
    for (auto& ep : pending) before += ep->queued();
    for (auto& ep : pending) ep->FlushAndArm();
    std::vector<pollfd> fds;
    for (auto& ep : pending) {
      after += ep->queued();
      if (ep->queued()) fds.push_back(pollfd{ep->fd(), POLLOUT, 0});
    }
    if (after < before) waited_ms = 0;
    if (fds.empty()) continue;
    if (waited_ms >= no_progress_timeout_ms) return;
    constexpr int kSliceMs = 100;
    poll(fds.data(), fds.size(), kSliceMs);
    waited_ms += kSliceMs;
  }
}

// ---- inbound --------------------------------------------------------------------------

zx_status_t Endpoint::Read(uint32_t options, uint32_t max_bytes, uint32_t max_handles,
                           ReadResult* out) {
  std::lock_guard<std::mutex> lock(read_mu_);
  const int sock = fd();
  if (max_bytes < kMaxMsgBytes || max_handles < kMaxMsgHandles) {
    // Strict sizes: peek the header only. No control buffer, so no descriptor is
    // installed and the record stays whole in the kernel.
    uint8_t head[sizeof(WireHeader)];
    ssize_t n;
    do n = recv(sock, head, sizeof head, MSG_PEEK | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
    if (n < 0) return IsFullErrno(errno) ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;
    WireHeader header;
    if (n > 0 && PeekHeader(head, static_cast<size_t>(n), &header) &&
        (header.num_bytes > max_bytes || header.num_handles > max_handles)) {
      out->actual_bytes = header.num_bytes;
      out->actual_handles = header.num_handles;
      if (options & ZX_CHANNEL_READ_MAY_DISCARD) DiscardHead(sock);
      return ZX_ERR_BUFFER_TOO_SMALL;
    }
    // Otherwise fall through: the real read validates (and drops a bad record).
  }

  uint8_t* buffer = ReceiveBuffer();
  alignas(cmsghdr) uint8_t control[kControlBytes];
  iovec iov{buffer, kMaxRecordBytes + 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return IsFullErrno(errno) ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;

  int fds[kMaxFdsPerRecvmsg];
  size_t num_fds = CollectFds(&msg, fds, kMaxFdsPerRecvmsg);
  if (n == 0 && num_fds == 0 && PeerHasShutDown(sock)) return ZX_ERR_PEER_CLOSED;
  if (msg.msg_flags & MSG_CTRUNC) {
    CloseAll(fds, num_fds);
    return ZX_ERR_NO_RESOURCES;  // the kernel could not install every descriptor
  }
  ParsedRecord record;
  if ((msg.msg_flags & MSG_TRUNC) ||
      ParseRecord(buffer, static_cast<size_t>(n), num_fds, &record) != ZX_OK) {
    CloseAll(fds, num_fds);
    return ZX_ERR_IO_DATA_INTEGRITY;
  }
  const uint32_t count = record.header.num_handles;
  WireHandle entries[kMaxMsgHandles];
  for (uint32_t i = 0; i < count; ++i) {
    entries[i] = HandleEntryAt(record, i);
    if (!DescriptorMatchesType(fds[i], entries[i].type)) {
      CloseAll(fds, num_fds);
      return ZX_ERR_IO_DATA_INTEGRITY;
    }
  }
  if (record.header.num_bytes > max_bytes || count > max_handles) {
    // Only reachable when a record arrived between the peek and this read from another
    // holder of the socket: the message is gone, as with MAY_DISCARD.
    out->actual_bytes = record.header.num_bytes;
    out->actual_handles = count;
    CloseAll(fds, num_fds);
    return ZX_ERR_BUFFER_TOO_SMALL;
  }

  HandleTable& table = HandleTable::Get();
  for (uint32_t i = 0; i < count; ++i) {
    zx_rights_t rights = entries[i].rights;
    if (entries[i].type == ZX_OBJ_TYPE_FD) rights &= RightsForDescriptor(fds[i]);
    ObjectRef object = WrapReceived(entries[i], fds[i]);
    fds[i] = -1;  // owned by the object now
    zx_handle_t h = table.Add(std::move(object), rights);
    if (h == ZX_HANDLE_INVALID) {
      for (uint32_t j = 0; j < i; ++j) {
        HandleInfo gone;
        table.Remove(out->handles[j], &gone);
      }
      CloseAll(fds + i + 1, count - i - 1);
      return ZX_ERR_NO_RESOURCES;
    }
    out->handles[i] = h;
    out->types[i] = entries[i].type;
    out->rights[i] = rights;
  }
  out->actual_bytes = record.header.num_bytes;
  out->actual_handles = count;
  out->payload = record.payload;
  return ZX_OK;
}

zx_signals_t Endpoint::Signals() {
  const int sock = fd();
  pollfd p{sock, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) < 0) return 0;
  bool peer_closed = peer_gone_ || (p.revents & (POLLHUP | POLLRDHUP));
  bool readable = false;
  if (p.revents & POLLIN) {
    if (!peer_closed) {
      readable = true;
    } else {
      // At EOF POLLIN is set too: is a record still there? (No control buffer: nothing
      // is installed by this peek.)
      uint8_t byte;
      ssize_t n = recv(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
      readable = n > 0;
    }
  }
  zx_signals_t signals = 0;
  if (readable) signals |= ZX_CHANNEL_READABLE;
  if (peer_closed) signals |= ZX_CHANNEL_PEER_CLOSED;
  else signals |= ZX_CHANNEL_WRITABLE;
  return signals;
}

}  // namespace zxc
