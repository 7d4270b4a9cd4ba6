// The receive side of an endpoint: one recvmsg per message (or per batch one recvmmsg on
// the linux backend, which only Linux has; frame by frame on the portable one),
// validated; the stash (endpoint_calls.cc) returned first by reads.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/endpoint.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/object_kinds.h"
#include "core/platform.h"
#include "core/socket_util.h"
#include "core/transport_stream.h"

namespace zxc {
namespace {

// Room for the kernel's per-message maximum (platform.h), so a peer can never make the
// kernel drop descriptors for lack of control space.
constexpr size_t kMaxFdsPerRecvmsg = kMaxFdsPerMessage;
constexpr size_t kControlBytes = CMSG_SPACE(kMaxFdsPerRecvmsg * sizeof(int));

uint8_t* ReceiveBuffer() {
  thread_local std::unique_ptr<uint8_t[]> buffer(new uint8_t[kReceiveBufferBytes]);
  return buffer.get();
}

// The record at the head is consumed and thrown away, its descriptors closed.
void DiscardHead(int sock) {
  alignas(cmsghdr) uint8_t control[kControlBytes];
  uint8_t byte;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, ReceiveFlags());
  while (n < 0 && errno == EINTR);
  if (n < 0) return;
  int fds[kMaxFdsPerRecvmsg];
  CloseAll(fds, CollectFds(&msg, fds, kMaxFdsPerRecvmsg));
}

// A record received in three pieces, head | into | spill, where `head` was sized for the
// prefix we expected. When it was right and `into` took the whole payload, the record is
// read in place (the payload stays in `into`). Otherwise it is put together in `spill`
// (kReceiveBufferBytes long, the record's tail already at its start) and parsed there.
zx_status_t ParseScattered(const uint8_t* head, size_t head_size, const uint8_t* into,
                           size_t into_capacity, uint8_t* spill, size_t length, ParsedRecord* out) {
  if (length > kMaxRecordBytes) return ZX_ERR_IO_DATA_INTEGRITY;  // longer than any record
  WireHeader header;
  if (length >= head_size && PeekHeader(head, head_size, &header) &&
      RecordPrefixSize(header.num_handles) == head_size && length == head_size + header.num_bytes &&
      header.num_bytes <= into_capacity) {
    out->header = header;
    out->handle_table = head + sizeof(WireHeader);
    out->payload = into;
    return ZX_OK;
  }
  const size_t in_head = std::min(length, head_size);
  const size_t in_into = std::min(length - in_head, into_capacity);
  const size_t in_spill = length - in_head - in_into;
  std::memmove(spill + in_head + in_into, spill, in_spill);
  std::memcpy(spill + in_head, into, in_into);
  std::memcpy(spill, head, in_head);
  return ParseRecord(spill, length, out);
}

bool TooBig(uint32_t num_bytes, size_t num_handles, uint32_t max_bytes, uint32_t max_handles) {
  return num_bytes > max_bytes || num_handles > max_handles;
}

// What one recvmsg (or one slot of a recvmmsg, or the reads of one frame) on `sock`
// returned: `n` bytes, checked by `parse(length, &record)`, the descriptors `fds`, and
// whether the kernel cut them (`ctrunc`) or the record (`trunc`); every check of the
// record and its descriptors, and its objects adopted into `out`. On failure every
// descriptor received is closed.
template <typename Parse>
zx_status_t TakeRecord(int sock, int* fds, size_t num_fds, bool ctrunc, bool trunc, ssize_t n,
                       Parse parse, InboundMessage* out) {
  // 0 bytes is the end of the stream, unless the peer is alive: then it was an (invalid)
  // empty record.
  if (n == 0 && num_fds == 0 && PeerHasShutDown(sock)) return ZX_ERR_PEER_CLOSED;
  if (ctrunc) {
    CloseAll(fds, num_fds);
    return ZX_ERR_NO_RESOURCES;  // the kernel could not install every descriptor
  }
  ParsedRecord record;
  if (trunc || parse(static_cast<size_t>(n), &record) != ZX_OK) {
    CloseAll(fds, num_fds);
    return ZX_ERR_IO_DATA_INTEGRITY;
  }
  // Every entry's descriptors, in order, of the kind its type says; none left over.
  const uint32_t count = record.header.num_handles;
  WireHandle entries[kMaxMsgHandles];
  const ObjectKind* kinds[kMaxMsgHandles];
  size_t entry_fds[kMaxMsgHandles];
  size_t used = 0;
  for (uint32_t i = 0; i < count; ++i) {
    entries[i] = HandleEntryAt(record, i);
    kinds[i] = KindOfEntry(entries[i].type, &entry_fds[i]);
    if (!kinds[i] || used + entry_fds[i] > num_fds ||
        !EntryMatches(*kinds[i], entries[i].type, fds + used)) {
      CloseAll(fds, num_fds);
      return ZX_ERR_IO_DATA_INTEGRITY;
    }
    used += entry_fds[i];
  }
  if (used != num_fds) {
    CloseAll(fds, num_fds);
    return ZX_ERR_IO_DATA_INTEGRITY;
  }
  out->handles.clear();
  out->handles.reserve(count);
  used = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const WireHandle& e = entries[i];
    const ObjectKind& kind = *kinds[i];
    // A descriptor's access-mode bound costs a syscall: some kinds apply it on first use.
    const bool unchecked = kind.enforced_on_first_use;
    const zx_rights_t rights = unchecked ? e.rights : e.rights & kind.enforced(fds + used);
    ObjectRef object = AdoptEntry(kind, e.type, fds + used, e.koid, e.related_koid);
    used += entry_fds[i];
    if (!object) {  // no memory to map it: its descriptors are closed, and so are the rest
      CloseAll(fds + used, num_fds - used);
      out->handles.clear();
      return ZX_ERR_NO_RESOURCES;
    }
    out->handles.push_back(ReceivedHandle{std::move(object), kind.type, rights, unchecked});
  }
  out->owned.clear();
  out->payload = record.payload;
  out->num_bytes = record.header.num_bytes;
  return ZX_OK;
}

// A failed receive from an endpoint: nothing queued yet, or else the peer is gone.
zx_status_t ReceiveStatus(int err) {
  return IsFullErrno(err) ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;
}

// One recvmsg's record (SEQPACKET): its descriptors out of the control data, then TakeRecord.
template <typename Parse>
zx_status_t TakeReceived(int sock, msghdr* msg, ssize_t n, Parse parse, InboundMessage* out) {
  int fds[kMaxFdsPerRecvmsg];
  const size_t num_fds = CollectFds(msg, fds, kMaxFdsPerRecvmsg);
  return TakeRecord(sock, fds, num_fds, msg->msg_flags & MSG_CTRUNC, msg->msg_flags & MSG_TRUNC, n,
                    parse, out);
}

// The whole frame at the head of a stream endpoint (`length` bytes, all queued) into
// `iov`, then TakeRecord. The stream stays aligned whatever the frame held.
template <typename Parse>
zx_status_t TakeFrame(int sock, const iovec* iov, size_t iov_count, size_t length, Parse parse,
                      InboundMessage* out) {
  int fds[kMaxFdsPerRecvmsg];
  size_t num_fds;
  bool ctrunc;
  const ssize_t n =
      StreamReceiveFrame(sock, iov, iov_count, length, fds, kMaxFdsPerRecvmsg, &num_fds, &ctrunc);
  if (n < 0) return ReceiveStatus(static_cast<int>(-n));
  return TakeRecord(sock, fds, num_fds, ctrunc, false, n, parse, out);
}

}  // namespace

void InboundMessage::Own() {
  if (num_bytes && payload != owned.data()) {
    owned.assign(payload, payload + num_bytes);
    payload = owned.data();
  }
}

uint32_t InboundMessage::txid() const {
  uint32_t txid = 0;
  if (num_bytes >= sizeof txid) std::memcpy(&txid, payload, sizeof txid);
  return txid;
}

zx_status_t Endpoint::ReceiveLocked(InboundMessage* out, uint8_t* buffer, uint8_t* into,
                                    size_t into_capacity, uint32_t expected_handles) {
  const int sock = fd();
  if (!buffer) buffer = ReceiveBuffer();
  alignas(cmsghdr) uint8_t control[kControlBytes];
  // With `into`: the expected prefix, the payload, then room for any surprise.
  uint8_t head[RecordPrefixSize(kMaxMsgHandles)];
  const size_t head_size = RecordPrefixSize(expected_handles);
  iovec iov[3] = {{buffer, kReceiveBufferBytes}};
  if (into) {
    iov[0] = iovec{head, head_size};
    iov[1] = iovec{into, into_capacity};
    iov[2] = iovec{buffer, kReceiveBufferBytes};
  }
  auto parse = [&](size_t length, ParsedRecord* record) {
    return into ? ParseScattered(head, head_size, into, into_capacity, buffer, length, record)
                : ParseRecord(buffer, length, record);
  };
  if (PortableBackend()) {
    WireHeader header;
    size_t length;
    zx_status_t status = FrameAtHeadLocked(&header, &length);
    if (status != ZX_OK) return status;
    stream_head_.Consumed(length);  // read now, whatever it holds
    return TakeFrame(sock, iov, into ? 3 : 1, length, parse, out);
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = into ? 3 : 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, ReceiveFlags());
  while (n < 0 && errno == EINTR);
  if (n < 0) return ReceiveStatus(errno);
  return TakeReceived(sock, &msg, n, parse, out);
}

void Endpoint::DiscardHeadLocked() {
  if (!PortableBackend()) return DiscardHead(fd());
  WireHeader header;
  size_t length;
  if (FrameAtHeadLocked(&header, &length) != ZX_OK) return;
  stream_head_.Consumed(length);
  StreamDiscardFrame(fd(), length);
}

zx_status_t Endpoint::FrameAtHeadLocked(WireHeader* header, size_t* length) {
  if (stream_broken_.load(std::memory_order_relaxed)) return ZX_ERR_PEER_CLOSED;
  zx_status_t status = StreamFrameAtHead(fd(), &stream_head_, header, length);
  if (status == ZX_ERR_IO_DATA_INTEGRITY) {
    // A stream can't find the next frame after bytes that are no header: this read says
    // so, and from now on the channel is closed both ways (the peer sees PEER_CLOSED),
    // what was queued thrown away.
    stream_broken_.store(true);
    StreamBreak(fd());
    FailCallsLocked(ZX_ERR_PEER_CLOSED);
  }
  return status;
}

zx_status_t Endpoint::PeekHeadLocked(WireHeader* header, uint32_t* txid) {
  if (PortableBackend()) {
    // Only a whole frame is looked at, as only a whole frame is read.
    size_t length;
    zx_status_t status = FrameAtHeadLocked(header, &length);
    if (status != ZX_OK) return status;
    *txid = 0;
    const size_t offset = RecordPrefixSize(header->num_handles);
    uint8_t head[RecordPrefixSize(kMaxMsgHandles) + sizeof(uint32_t)];
    if (header->num_bytes >= sizeof *txid &&
        StreamPeek(fd(), head, offset + sizeof *txid) == static_cast<ssize_t>(offset + 4))
      std::memcpy(txid, head + offset, sizeof *txid);
    return ZX_OK;
  }
  // No control buffer: nothing is installed and the record stays whole in the kernel.
  uint8_t head[RecordPrefixSize(kMaxMsgHandles) + sizeof(uint32_t)];
  ssize_t n;
  do n = recv(fd(), head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return ReceiveStatus(errno);
  if (!PeekHeader(head, static_cast<size_t>(n), header)) return ZX_ERR_IO_DATA_INTEGRITY;
  *txid = 0;
  const size_t offset = RecordPrefixSize(header->num_handles);
  if (header->num_bytes >= sizeof *txid && static_cast<size_t>(n) >= offset + sizeof *txid)
    std::memcpy(txid, head + offset, sizeof *txid);
  return ZX_OK;
}

zx_status_t Endpoint::Read(uint32_t options, uint32_t max_bytes, uint32_t max_handles,
                           ReadResult* out, uint8_t* buffer, uint8_t* into) {
  InboundMessage& message = out->message;
  // A valid record is never larger: room past it would only ever take a bad one.
  const size_t into_capacity = std::min<size_t>(max_bytes, kMaxMsgBytes);
  uint32_t expected_handles = 0;  // what a peek saw, else the usual case
  {
    std::lock_guard<std::mutex> lock(inbound_mu_);
    for (;;) {
      if (!stash_.empty()) {
        InboundMessage& head = stash_.front();
        const bool too_big = TooBig(head.num_bytes, head.handles.size(), max_bytes, max_handles);
        if (too_big) {
          out->actual_bytes = head.num_bytes;
          out->actual_handles = static_cast<uint32_t>(head.handles.size());
          if (!(options & ZX_CHANNEL_READ_MAY_DISCARD)) return ZX_ERR_BUFFER_TOO_SMALL;
        } else {
          message = std::move(head);
        }
        PopStashLocked();
        if (too_big) return ZX_ERR_BUFFER_TOO_SMALL;
        break;
      }
      const bool strict = max_bytes < kMaxMsgBytes || max_handles < kMaxMsgHandles;
      if (strict || (into && !calls_.empty())) {
        // Look before taking: the record stays queued if it is too big, and a reply
        // to a pending call goes to its caller without touching `into`. (Otherwise a
        // reply is taken and routed below: one syscall, not a peek and a read.)
        WireHeader header;
        uint32_t txid;
        zx_status_t status = PeekHeadLocked(&header, &txid);
        if (status == ZX_ERR_SHOULD_WAIT) return status;
        if (status == ZX_OK) {
          expected_handles = header.num_handles;
          if (CallPendingLocked(txid)) {
            PumpLocked(1);
            continue;
          }
          if (TooBig(header.num_bytes, header.num_handles, max_bytes, max_handles)) {
            out->actual_bytes = header.num_bytes;
            out->actual_handles = header.num_handles;
            if (options & ZX_CHANNEL_READ_MAY_DISCARD) DiscardHeadLocked();
            return ZX_ERR_BUFFER_TOO_SMALL;
          }
        }
        // Otherwise the read below says what is wrong with the record.
      }
      zx_status_t status = ReceiveLocked(&message, buffer, into, into_capacity, expected_handles);
      if (status == ZX_ERR_PEER_CLOSED) FailCallsLocked(ZX_ERR_PEER_CLOSED);
      if (status != ZX_OK) return status;
      if (!calls_.empty() && RouteLocked(message)) continue;
      if (TooBig(message.num_bytes, message.handles.size(), max_bytes, max_handles)) {
        // Only when another holder of the socket raced us between peek and read.
        out->actual_bytes = message.num_bytes;
        out->actual_handles = static_cast<uint32_t>(message.handles.size());
        message = InboundMessage();
        return ZX_ERR_BUFFER_TOO_SMALL;
      }
      break;
    }
  }
  zx_status_t status = Deliver(out);
  // From the stash, or put together elsewhere: into the caller's buffer now (it fits).
  if (status == ZX_OK && into && out->payload != into) {
    if (out->actual_bytes) std::memcpy(into, out->payload, out->actual_bytes);
    out->payload = into;
  }
  return status;
}

zx_status_t Endpoint::ReadMany(size_t max, std::vector<BatchRead>* out) {
  // Per thread: a whole record's room for each slot. Only the pages records land on are
  // ever touched.
  thread_local std::unique_ptr<uint8_t[]> data(
      new uint8_t[ZX_CHANNEL_READ_MANY_MAX * kReceiveBufferBytes]);
  max = std::min<size_t>(max, ZX_CHANNEL_READ_MANY_MAX);
  std::lock_guard<std::mutex> lock(inbound_mu_);
  while (out->size() < max && !stash_.empty()) {
    out->push_back(BatchRead{ZX_OK, std::move(stash_.front())});
    PopStashLocked();
  }
  const size_t slots = max - out->size();
  if (slots == 0) return ZX_OK;
#ifdef __linux__
  if (PortableBackend()) return ReadFramesLocked(slots, data.get(), out);
  // A control buffer for each slot too.
  thread_local std::unique_ptr<uint8_t[]> controls(
      new uint8_t[ZX_CHANNEL_READ_MANY_MAX * kControlBytes]);
  const int sock = fd();
  mmsghdr msgs[ZX_CHANNEL_READ_MANY_MAX];
  iovec iov[ZX_CHANNEL_READ_MANY_MAX];
  for (size_t i = 0; i < slots; ++i) {
    iov[i] = iovec{data.get() + i * kReceiveBufferBytes, kReceiveBufferBytes};
    msgs[i] = mmsghdr{};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = controls.get() + i * kControlBytes;
    msgs[i].msg_hdr.msg_controllen = kControlBytes;
  }
  int n;
  do n = recvmmsg(sock, msgs, slots, ReceiveFlags(), nullptr);
  while (n < 0 && errno == EINTR);
  zx_status_t status = ZX_OK;
  if (n < 0) status = ReceiveStatus(errno);
  for (int i = 0; i < n; ++i) {
    BatchRead entry;
    const uint8_t* record = static_cast<const uint8_t*>(iov[i].iov_base);
    entry.status = TakeReceived(
        sock, &msgs[i].msg_hdr, msgs[i].msg_len,
        [&](size_t length, ParsedRecord* parsed) { return ParseRecord(record, length, parsed); },
        &entry.message);
    if (entry.status == ZX_ERR_PEER_CLOSED) {  // the end: every slot after is the end too
      status = ZX_ERR_PEER_CLOSED;
      break;
    }
    if (entry.status == ZX_OK && !calls_.empty() && RouteLocked(entry.message)) continue;
    out->push_back(std::move(entry));
  }
  if (status == ZX_ERR_PEER_CLOSED) FailCallsLocked(ZX_ERR_PEER_CLOSED);
  if (!out->empty()) return ZX_OK;
  // Every record read was a reply: nothing for this reader yet.
  return status == ZX_OK ? ZX_ERR_SHOULD_WAIT : status;
#else
  return ReadFramesLocked(slots, data.get(), out);  // no recvmmsg
#endif
}

zx_status_t Endpoint::ReadFramesLocked(size_t slots, uint8_t* data, std::vector<BatchRead>* out) {
  const int sock = fd();
  zx_status_t status = ZX_OK;
  for (size_t i = 0; i < slots;) {
    WireHeader header;
    size_t length;
    status = FrameAtHeadLocked(&header, &length);
    if (status == ZX_ERR_IO_DATA_INTEGRITY) {
      out->push_back(BatchRead{status, InboundMessage()});
      status = ZX_ERR_PEER_CLOSED;  // what the stream says from now on
    }
    if (status != ZX_OK) break;
    stream_head_.Consumed(length);
    uint8_t* record = data + i * kReceiveBufferBytes;
    const iovec iov{record, kReceiveBufferBytes};
    BatchRead entry;
    entry.status = TakeFrame(
        sock, &iov, 1, length,
        [&](size_t n, ParsedRecord* parsed) { return ParseRecord(record, n, parsed); },
        &entry.message);
    if (entry.status == ZX_ERR_PEER_CLOSED) {
      status = ZX_ERR_PEER_CLOSED;
      break;
    }
    if (entry.status == ZX_OK && !calls_.empty() && RouteLocked(entry.message)) continue;
    out->push_back(std::move(entry));
    ++i;
  }
  if (status == ZX_ERR_PEER_CLOSED) FailCallsLocked(ZX_ERR_PEER_CLOSED);
  if (!out->empty()) return ZX_OK;
  return status == ZX_OK ? ZX_ERR_SHOULD_WAIT : status;
}

zx_status_t Endpoint::Deliver(ReadResult* out) {
  InboundMessage& message = out->message;
  HandleTable& table = HandleTable::Get();
  const uint32_t count = static_cast<uint32_t>(message.handles.size());
  for (uint32_t i = 0; i < count; ++i) {
    ReceivedHandle& received = message.handles[i];
    if (received.rights_unchecked && out->want_rights) {
      received.rights &= EnforcedRights(*received.object);
      received.rights_unchecked = false;
    }
    zx_handle_t h =
        table.Add(std::move(received.object), received.rights, received.rights_unchecked);
    if (h == ZX_HANDLE_INVALID) {
      for (uint32_t j = 0; j < i; ++j) {
        HandleInfo gone;
        table.Close(out->handles[j], &gone);
      }
      message = InboundMessage();  // closes the rest
      return ZX_ERR_NO_RESOURCES;
    }
    out->handles[i] = h;
    out->types[i] = received.type;
    out->rights[i] = received.rights;
  }
  message.handles.clear();
  out->actual_bytes = message.num_bytes;
  out->actual_handles = count;
  out->payload = message.payload;
  return ZX_OK;
}

}  // namespace zxc
