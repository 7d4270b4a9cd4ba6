// DATAGRAM socket ends on a SOCK_STREAM socket: what heads the stream, whole-datagram
// reads, whole-datagram sends (datagram_frames.h).
#include "core/datagram_frames.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/platform.h"
#include "core/socket_util.h"
#include "core/syscalls.h"
#include "core/transport_stream.h"

namespace zxc {
namespace {

constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
// How long the rest of a datagram the kernel cut short may take to go (see SendDatagram).
constexpr zx_time_t kTailNs = 5'000'000'000;

bool ValidStart(const uint8_t* bytes, size_t n) {
  const uint32_t magic = kDatagramMagic;
  return std::memcmp(bytes, &magic, std::min(n, sizeof magic)) == 0;
}

}  // namespace

zx_status_t DatagramAtHead(int sock, size_t* num_bytes) {
  *num_bytes = 0;
  // One look at the head: a small datagram seen whole in it needs no count of the queue.
  uint8_t bytes[256];
  ssize_t n;
  do n = recv(sock, bytes, sizeof bytes, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n > 0 && static_cast<size_t>(n) < sizeof(DatagramHeader))
    n = StreamPeek(sock, bytes, sizeof(DatagramHeader));  // past descriptors, on Linux
  if (n <= 0) return ZX_ERR_SHOULD_WAIT;                  // nothing (or the end: the caller asks)
  if (!ValidStart(bytes, static_cast<size_t>(n))) return ZX_ERR_IO_DATA_INTEGRITY;
  if (static_cast<size_t>(n) < sizeof(DatagramHeader)) return ZX_ERR_SHOULD_WAIT;
  DatagramHeader header;
  std::memcpy(&header, bytes, sizeof header);
  if (header.num_bytes > kMaxDatagramBytes) return ZX_ERR_IO_DATA_INTEGRITY;
  const size_t length = sizeof header + header.num_bytes;
  // Only this end's reader takes bytes, so what was seen stays queued.
  if (static_cast<size_t>(n) < length && QueuedToRead(sock) < length) return ZX_ERR_SHOULD_WAIT;
  *num_bytes = header.num_bytes;
  return ZX_OK;
}

ssize_t ReceiveDatagram(int sock, size_t num_bytes, uint8_t* out, size_t length, bool peek) {
  const size_t give = std::min(length, num_bytes);
  if (peek) {
    // A peek can't start past the header: look at both, give the datagram's part.
    std::vector<uint8_t> seen(sizeof(DatagramHeader) + give);
    const ssize_t n = StreamPeek(sock, seen.data(), seen.size());
    if (n < 0) return -errno;
    if (static_cast<size_t>(n) < seen.size()) return -EAGAIN;
    if (give > 0) std::memcpy(out, seen.data() + sizeof(DatagramHeader), give);
    return static_cast<ssize_t>(give);
  }
  DatagramHeader header;
  iovec iov[3] = {{&header, sizeof header}, {out, give}, {nullptr, 0}};
  std::unique_ptr<uint8_t[]> rest;
  if (num_bytes > give) {
    rest.reset(new uint8_t[num_bytes - give]);
    iov[2] = iovec{rest.get(), num_bytes - give};
  }
  int none[1];
  size_t num_fds;
  bool ctrunc;
  // No descriptor is kept (capacity 0): a socket carries none, so any that came are closed.
  const ssize_t n =
      StreamReceiveFrame(sock, iov, 3, sizeof header + num_bytes, none, 0, &num_fds, &ctrunc);
  if (n < 0) return n;
  return static_cast<ssize_t>(give);
}

ssize_t SendDatagram(int sock, const uint8_t* bytes, size_t length) {
  DatagramHeader header{kDatagramMagic, static_cast<uint32_t>(length)};
  iovec iov[2] = {{&header, sizeof header}, {const_cast<uint8_t*>(bytes), length}};
  const size_t total = sizeof header + length;
  size_t done = 0;
  zx_time_t give_up = 0;
  while (done < total) {
    msghdr msg{};
    // The pieces not yet sent.
    iovec left[2];
    size_t count = 0, skip = done;
    for (const iovec& piece : iov) {
      if (skip >= piece.iov_len) {
        skip -= piece.iov_len;
        continue;
      }
      left[count++] = iovec{static_cast<uint8_t*>(piece.iov_base) + skip, piece.iov_len - skip};
      skip = 0;
    }
    msg.msg_iov = left;
    msg.msg_iovlen = count;
    ssize_t n;
    do n = sendmsg(sock, &msg, kSendFlags);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const int err = n < 0 ? errno : EPIPE;
    if (done == 0) return -err;  // nothing went: the caller's status
    // Part of a datagram is on the stream: the rest must follow before anything else.
    if (IsFullErrno(err)) {
      if (give_up == 0) give_up = MonotonicNow() + kTailNs;
      const zx_time_t left = NsUntil(give_up);
      pollfd p{sock, POLLOUT, 0};
      if (left > 0 && poll(&p, 1, static_cast<int>(left / 1'000'000 + 1)) >= 0 &&
          !(p.revents & POLLHUP))
        continue;
    }
    shutdown(sock, SHUT_WR);  // the reader sees the part at the end of the stream, and drops it
    return -EPIPE;
  }
  return static_cast<ssize_t>(length);
}

size_t QueuedDatagramBytes(int sock) {
  const size_t queued = QueuedToRead(sock);
  if (queued == 0) return 0;
  std::vector<uint8_t> seen(queued);
  const ssize_t n = StreamPeek(sock, seen.data(), seen.size());
  if (n <= 0) return 0;
  size_t at = 0, bytes = 0;
  while (at + sizeof(DatagramHeader) <= static_cast<size_t>(n)) {
    DatagramHeader header;
    std::memcpy(&header, seen.data() + at, sizeof header);
    if (header.magic != kDatagramMagic || header.num_bytes > kMaxDatagramBytes) break;
    at += sizeof header;
    const size_t here = std::min<size_t>(header.num_bytes, static_cast<size_t>(n) - at);
    bytes += here;
    at += here;
  }
  return bytes;
}

}  // namespace zxc
