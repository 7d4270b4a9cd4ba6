// Endpoint creation and signals. Sends: endpoint_outbound.cc; reads: endpoint_inbound.cc;
// calls and the stash: endpoint_calls.cc.
#include "core/endpoint.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "core/koid.h"
#include "core/platform.h"
#include "core/socket_util.h"
#include "core/transport_stream.h"

namespace zxc {
namespace {
constexpr int kSendBufferRequest = 1 << 20;  // the kernel doubles it: 2 MiB of records
}

Endpoint::Endpoint(int fd, zx_koid_t koid, zx_koid_t related_koid, UserSignals::LinkRef link)
    : WithUserSignals(ZX_OBJ_TYPE_CHANNEL, fd, koid, related_koid, std::move(link)) {}

void Endpoint::ConfigureSocket(int fd) {
  if (PortableBackend()) {
    StreamConfigureBuffers(fd);
    return;
  }
  int size = kSendBufferRequest;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

zx_status_t Endpoint::CreatePair(EndpointRef* out0, EndpointRef* out1) {
  int fds[2];
  if (SocketPair(ChannelSocketType(), fds) != 0) return CreationStatus(errno);
  ConfigureSocket(fds[0]);
  ConfigureSocket(fds[1]);
  zx_koid_t k0 = NewKoid(), k1 = NewKoid();
  UserSignals::LinkRef link = UserSignals::NewLink();
  *out0 = std::make_shared<Endpoint>(fds[0], k0, k1, link);
  *out1 = std::make_shared<Endpoint>(fds[1], k1, k0, std::move(link));
  return ZX_OK;
}

zx_signals_t Endpoint::Signals() {
  const int sock = fd();
  std::lock_guard<std::mutex> lock(inbound_mu_);
  // Replies to pending calls never count as READABLE: hand them over first.
  if (!calls_.empty()) PumpLocked(SIZE_MAX);
  const int revents = PollSocket(sock, POLLIN);
  if (revents < 0) return 0;
  bool peer_closed = revents & (POLLHUP | kPollReceiveShut);
  if (!peer_closed) {
    std::lock_guard<std::mutex> out_lock(mu_);
    peer_closed = peer_gone_;
  }
  bool readable = !stash_.empty();
  if (PortableBackend()) {
    // A whole frame at the head (or bytes that are no header: the read says so); a part
    // of one is not READABLE, nor, at the end of the stream, ever will be.
    WireHeader header;
    size_t length;
    if (stream_broken_.load()) {
      peer_closed = true;
    } else if (!readable && (revents & POLLIN)) {
      const zx_status_t head = StreamFrameAtHead(sock, &stream_head_, &header, &length);
      readable = head == ZX_OK || head == ZX_ERR_IO_DATA_INTEGRITY;
    }
  } else if (!readable && (revents & POLLIN)) {
    if (!peer_closed) {
      readable = true;
    } else {
      // At EOF POLLIN is set too: is a record still there? (No control buffer: nothing
      // is installed by this peek.)
      uint8_t byte;
      readable = recv(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC) > 0;
    }
  }
  zx_signals_t signals = peer_closed ? ZX_CHANNEL_PEER_CLOSED : ZX_CHANNEL_WRITABLE;
  if (readable) signals |= ZX_CHANNEL_READABLE;
  return signals | user_.Load();
}

short Endpoint::PollEventsFor(zx_signals_t wanted, zx_signals_t now) const {
  return Object::PollEventsFor(wanted & ~ZX_CHANNEL_WRITABLE, now);
}

bool Endpoint::PollableFd() const { return !PortableBackend(); }

bool Endpoint::WholeFrameAtHead() {
  std::lock_guard<std::mutex> lock(inbound_mu_);
  if (!stash_.empty()) return true;
  if (stream_broken_.load()) return false;
  WireHeader header;
  size_t length;
  const zx_status_t head = StreamFrameAtHead(fd(), &stream_head_, &header, &length);
  return head == ZX_OK || head == ZX_ERR_IO_DATA_INTEGRITY;  // the read says what is wrong
}

}  // namespace zxc
