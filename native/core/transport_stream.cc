// Framed SOCK_STREAM channels: what heads the stream, and whole-frame reads
// (transport_stream.h).
#include "core/transport_stream.h"

#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/platform.h"
#include "core/socket_util.h"

namespace zxc {
namespace {

constexpr size_t kControlBytes = CMSG_SPACE(kMaxFdsPerMessage * sizeof(int));

ssize_t PeekOnce(int sock, uint8_t* out, size_t length) {
  ssize_t n;
  do n = recv(sock, out, length, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n;
}

// Reads `length` bytes (at most a record's) and throws them away, with the descriptors
// that came with them; false once the stream ended first.
bool ReadAndClose(int sock, size_t length) {
  thread_local std::unique_ptr<uint8_t[]> sink(new uint8_t[kMaxRecordBytes]);
  iovec iov{sink.get(), std::min(length, kMaxRecordBytes)};
  int fds[kMaxFdsPerMessage];
  size_t num_fds;
  bool ctrunc;
  const ssize_t n =
      StreamReceiveFrame(sock, &iov, 1, iov.iov_len, fds, kMaxFdsPerMessage, &num_fds, &ctrunc);
  if (n <= 0) return false;  // what it took is closed
  CloseAll(fds, num_fds);
  return true;
}

}  // namespace

ssize_t StreamPeek(int sock, uint8_t* out, size_t length) {
  ssize_t n = PeekOnce(sock, out, length);
  if (n <= 0 || static_cast<size_t>(n) == length) return n;
#ifdef SO_PEEK_OFF
  // Linux ends a read, a peek too, after bytes that carried descriptors; XNU keeps a
  // frame's pieces in one record. Past that point Linux peeks on from an offset.
  if (QueuedToRead(sock) <= static_cast<size_t>(n)) return n;
  int offset = static_cast<int>(n);
  if (setsockopt(sock, SOL_SOCKET, SO_PEEK_OFF, &offset, sizeof offset) != 0) return n;
  size_t got = static_cast<size_t>(n);
  while (got < length) {
    const ssize_t more = PeekOnce(sock, out + got, length - got);
    if (more <= 0) break;
    got += static_cast<size_t>(more);
  }
  offset = -1;  // off again: reads don't move a peek offset
  setsockopt(sock, SOL_SOCKET, SO_PEEK_OFF, &offset, sizeof offset);
  return static_cast<ssize_t>(got);
#else
  return n;
#endif
}

void StreamHead::Consumed(size_t length) {
  known_ = known_ > length ? known_ - length : 0;
  if (count_) {
    first_ = (first_ + 1) % kHeaders;
    --count_;
  }
}

zx_status_t StreamFrameAtHead(int sock, StreamHead* head, WireHeader* header, size_t* length) {
  if (head->count_ == 0) {
    // One look for many headers (see StreamHead): as many as a page of the stream holds.
    uint8_t bytes[4096];
    ssize_t n = PeekOnce(sock, bytes, sizeof bytes);
    if (n > 0 && static_cast<size_t>(n) < sizeof(WireHeader))
      n = StreamPeek(sock, bytes, sizeof(WireHeader));  // past descriptors, on Linux
    if (n < 0) return IsFullErrno(errno) ? ZX_ERR_SHOULD_WAIT : ZX_ERR_PEER_CLOSED;
    if (n == 0) return ZX_ERR_PEER_CLOSED;
    if (static_cast<size_t>(n) < sizeof(WireHeader)) {
      // The start of a header already says whether it is one (magic, version).
      const WireHeader expected{kWireMagic, kWireVersion, 0, 0, 0};
      const size_t known = std::min<size_t>(static_cast<size_t>(n), 6);
      if (std::memcmp(bytes, &expected, known) != 0) return ZX_ERR_IO_DATA_INTEGRITY;
      return PeerHasShutDown(sock) ? ZX_ERR_PEER_CLOSED : ZX_ERR_SHOULD_WAIT;
    }
    size_t at = 0;
    while (head->count_ < StreamHead::kHeaders &&
           at + sizeof(WireHeader) <= static_cast<size_t>(n)) {
      WireHeader h;
      if (!PeekHeader(bytes + at, sizeof(WireHeader), &h)) break;
      head->headers_[(head->first_ + head->count_++) % StreamHead::kHeaders] = h;
      at += RecordPrefixSize(h.num_handles) + h.num_bytes;
    }
    if (head->count_ == 0) return ZX_ERR_IO_DATA_INTEGRITY;
    head->known_ = std::max(head->known_, static_cast<size_t>(n));  // seen, so queued
  }
  *header = head->headers_[head->first_];
  *length = RecordPrefixSize(header->num_handles) + header->num_bytes;
  if (head->known_ >= *length) return ZX_OK;
  head->known_ = QueuedToRead(sock);
  if (head->known_ >= *length) return ZX_OK;
  // Only part of it: the rest comes, unless the writer is gone.
  return PeerHasShutDown(sock) ? ZX_ERR_PEER_CLOSED : ZX_ERR_SHOULD_WAIT;
}

ssize_t StreamReceiveFrame(int sock, const iovec* iov, size_t iov_count, size_t length, int* fds,
                           size_t capacity, size_t* num_fds, bool* ctrunc) {
  // The pieces cut to `length`: a read never goes past the frame, so it never takes the
  // next frame's bytes or the descriptors that ride on its first byte.
  iovec pieces[4];
  size_t count = 0, left = length;
  for (size_t i = 0; i < iov_count && count < 4 && left > 0; ++i) {
    const size_t take = std::min(left, iov[i].iov_len);
    if (take) pieces[count++] = iovec{iov[i].iov_base, take};
    left -= take;
  }
  *num_fds = 0;
  *ctrunc = false;
  alignas(cmsghdr) uint8_t control[kControlBytes];
  size_t done = 0, first = 0;
  while (done < length) {
    msghdr msg{};
    msg.msg_iov = pieces + first;
    msg.msg_iovlen = count - first;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do n = recvmsg(sock, &msg, ReceiveFlags());
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
      const int err = n < 0 ? errno : EPIPE;
      CloseAll(fds, *num_fds);
      *num_fds = 0;
      return -err;
    }
    *num_fds += CollectFds(&msg, fds + *num_fds, capacity - *num_fds);
    if (msg.msg_flags & MSG_CTRUNC) *ctrunc = true;
    done += static_cast<size_t>(n);
    // Linux ends a read after the bytes that carried descriptors: read on from there.
    for (size_t got = static_cast<size_t>(n); got > 0;) {
      const size_t step = std::min(got, pieces[first].iov_len);
      pieces[first].iov_base = static_cast<uint8_t*>(pieces[first].iov_base) + step;
      pieces[first].iov_len -= step;
      got -= step;
      if (pieces[first].iov_len == 0) ++first;
    }
  }
  return static_cast<ssize_t>(done);
}

void StreamDiscardFrame(int sock, size_t length) { ReadAndClose(sock, length); }

void StreamBreak(int sock) {
  // Nothing more can come once reading is shut (the peer's sends fail): read to the end,
  // then shut writing, so that the peer sees the end only once all it sent is closed.
  shutdown(sock, SHUT_RD);
  while (ReadAndClose(sock, kMaxRecordBytes)) {
  }
  shutdown(sock, SHUT_WR);
}

void StreamConfigureBuffers(int sock) {
  int size = kStreamBufferBytes;
  setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace zxc
