// A Zircon socket end: one AF_UNIX socket of a connected pair, SOCK_STREAM for
// ZX_SOCKET_STREAM and SOCK_SEQPACKET for ZX_SOCKET_DATAGRAM (a connected SOCK_DGRAM pair
// never tells a reader that its peer is gone). Where there is no SOCK_SEQPACKET (the
// portable backend) a DATAGRAM end is a SOCK_STREAM socket carrying framed datagrams
// (core/datagram_frames.h). Nothing is kept in user space but a few
// sticky facts the kernel can't be asked for (see Signals()), so the end moves between
// processes with its kernel queues, and a program outside this library can use the
// descriptor as a plain socket.
//
// Write dispositions live in the pair's shared page (user_signals.h) when every holder of
// both ends reads it (BothSidesRead): writes and reads look there, and a disposition can be
// re-enabled. Otherwise (an end sent as a bare descriptor, a peer not made here) they map to
// shutdown(2), which a program outside the library sees: disabling this end's writes is
// SHUT_WR here, disabling the peer's is SHUT_RD here (on AF_UNIX stream and seqpacket
// sockets it sets the peer's send shutdown). Linux can't undo either (docs/objects.md).
#pragma once
#include <atomic>
#include <mutex>

#include "core/object.h"
#include "core/object_kinds.h"
#include "core/read_target.h"
#include "core/user_signals.h"

namespace zxc {

class Socket;
using SocketRef = std::shared_ptr<Socket>;

class Socket : public WithUserSignals {
 public:
  // `link`: shared with the other end when both are made here (null: a new one).
  // `framed`: a DATAGRAM end on a SOCK_STREAM socket.
  Socket(int fd, bool datagram, bool framed, zx_koid_t koid, zx_koid_t related_koid,
         UserSignals::LinkRef link = nullptr);

  // A connected pair (socketpair + send buffer sizing).
  static zx_status_t CreatePair(bool datagram, SocketRef* out0, SocketRef* out1);
  // Whether `fd` can be a socket end: AF_UNIX, SOCK_STREAM or SOCK_SEQPACKET.
  static bool IsSocketEnd(int fd);
  // A socket end from elsewhere (a message, a startup handle): its kind from SO_TYPE, or
  // a DATAGRAM end of framed datagrams where the message's entry says so (`framed`).
  static SocketRef Adopt(int fd, zx_koid_t koid, zx_koid_t related_koid, bool framed = false);

  bool datagram() const { return datagram_; }
  // A socket end of framed datagrams travels with kWireDatagramFrames in its entry.
  uint32_t WireFlags() const override;

  // READABLE, WRITABLE, PEER_CLOSED, PEER_WRITE_DISABLED, WRITE_DISABLED, user signals.
  zx_signals_t Signals() override;
  short PollEventsFor(zx_signals_t wanted, zx_signals_t now) const override;
  // On the portable backend a socket is watched through the poller's edges, as macOS
  // needs: there a hangup shows only with the read filter (libuv's UV_DISCONNECT is never
  // reported without UV_READABLE, which a level-triggered watch of a socket with unread
  // bytes would report forever), and POLLPRI asks for out-of-band data, not a close.
  bool PollableFd() const override;
  zx_signals_t SignalsOnlyCallsLower() const override {
    return ZX_SOCKET_READABLE | ZX_SOCKET_WRITABLE | ZX_SOCKET_PEER_CLOSED;
  }
  // Also PEER_WRITE_DISABLED and WRITABLE where the page holds the dispositions.
  bool NeedsWaiter(zx_signals_t wanted) override;
  // Sent as a bare descriptor: the page no longer reaches every holder, so dispositions
  // held there become shutdowns (and can no longer be re-enabled).
  std::shared_ptr<Object> ForTransfer(zx_rights_t rights, bool descriptor_only) override;

  // zx_socket_write past the handle checks. STREAM writes can be short.
  zx_status_t Write(const uint8_t* bytes, size_t length, size_t* actual);
  // zx_socket_read past the handle checks; `peek` leaves the bytes queued.
  zx_status_t Read(bool peek, size_t length, ReadTarget& target, size_t* actual);
  // After a read took bytes: if the peer was seen full (kRoomWantedWord), clears its mark
  // and rings the doorbell, so that its wait for WRITABLE wakes now.
  void RoomMade();
  // zx_socket_set_disposition past the argument and handle checks (0, DISABLED, ENABLED).
  zx_status_t SetDisposition(uint32_t disposition, uint32_t disposition_peer);

  // zx_info_socket_t (ZX_INFO_SOCKET), as Linux reports it: both buffers' limits are
  // SO_SNDBUF (AF_UNIX bounds what is queued by the sender's); rx_buf_size is the bytes
  // queued here (SIOCINQ), rx_buf_available the same for a STREAM end and the next
  // datagram's size for a DATAGRAM end; tx_buf_size the kernel memory that what was sent
  // from here and not yet read takes (SIOCOUTQ: the bytes and their per-message overhead;
  // 0 on macOS, which can't tell), measured against tx_buf_max. The tx fields are 0 once
  // the peer is gone.
  struct Info {
    uint32_t options;
    uint64_t rx_buf_max, rx_buf_size, rx_buf_available, tx_buf_max, tx_buf_size;
  };
  Info GetInfo();

 private:
  // A disposition set from the other end shows in the page at once (Look): a wait for it
  // watches the doorbell.
  zx_signals_t PageSignals() const override {
    return ZX_USER_SIGNAL_ALL | ZX_SOCKET_WRITE_DISABLED | ZX_SOCKET_PEER_WRITE_DISABLED;
  }
  // What poll(2) and the sticky facts say now.
  struct State {
    bool readable;
    bool writable;
    bool peer_closed;
    bool write_disabled;
    bool peer_write_disabled;
  };
  State Look(bool probe_datagram);
  // One sample of the kernel's view: poll(2)'s `revents` for `events`, and whether this
  // end's writes are shut down. The send side is asked first: a peer that closes between
  // the two looks then shows as a close (HUP), never as this end's writes disabled.
  struct Sample {
    bool ok;  // poll(2) answered
    short revents;
    bool send_shut;
  };
  Sample Take(short events, bool probe_datagram);
  zx_signals_t SignalsOf(const State& state) const;
  // Both directions shut down: the peer is gone, or both ends' writes are disabled.
  bool PeerGone(bool hup);
  // Whether this end's writes are shut down (by us, by the peer, or by its close).
  // `probe_datagram`: also ask a SEQPACKET socket, which wakes its writers (see .cc).
  bool SendShutDown(bool probe_datagram);
  size_t QueuedBytes() const;  // bytes waiting to be read here (QueuedToRead, platform.h)
  // What was sent from here and not yet read by the peer (SentNotRead, platform.h), or
  // `if_unknown` where the system can't tell (macOS).
  size_t UnreadBytes(size_t if_unknown = 0) const;
  zx_status_t EmptyStatus();  // a read of an empty socket: PEER_CLOSED, BAD_STATE or SHOULD_WAIT
  zx_status_t WriteState();   // PEER_CLOSED, BAD_STATE or OK: may this end write?
  // Whether the page says `side`'s writes are disabled (by either end, this process or not).
  bool DisabledInPage(int side) const;
  // zx_socket_set_disposition on the page alone (BothSidesRead), or through shutdown(2).
  zx_status_t SetDispositionInPage(uint32_t disposition, uint32_t disposition_peer);
  zx_status_t SetDispositionByShutdown(uint32_t disposition, uint32_t disposition_peer);

  // A record-keeping SOCK_SEQPACKET socket: a DATAGRAM end that isn't framed.
  bool seqpacket() const { return datagram_ && !framed_; }
  // Framed datagrams (datagram_frames.h): whether one is whole at the head (breaking a
  // stream that lost its framing, which is the peer's end from then on); a write and a read.
  bool FramedReadable();
  zx_status_t FramedWrite(const uint8_t* bytes, size_t length, size_t* actual);
  zx_status_t FramedRead(bool peek, size_t length, ReadTarget& target, size_t* actual);
  // Whether a framed end has room for any datagram (datagram_frames.h, kDatagramRoom).
  bool FramedRoom() const;
  // Whether a write would find room, `revents` being poll(2)'s (POLLOUT) (see Look).
  bool Room(short revents) const;
  // This end is full: marks it in the page (kRoomWantedWord) where every holder of both
  // ends reads it, so that a read at the other end rings the doorbell; false without.
  bool WantRoom();

  const bool datagram_;
  const bool framed_;
  int send_buffer_ = 0;  // SO_SNDBUF: a write succeeds while fewer bytes are unread
  std::mutex read_mu_;   // a peek and the read that consumes the same record
  // A STREAM write's pieces stay together, and a write and a disposition set in this
  // process are ordered (a write that passed the page's check is sent before a disable).
  std::mutex write_mu_;
  // Sticky facts (they never become false again).
  std::atomic<bool> send_shut_{false};
  std::atomic<bool> peer_gone_{false};
  // Seen while the peer was alive: what a closed peer leaves showing, as in Zircon.
  std::atomic<bool> seen_write_disabled_{false};
  std::atomic<bool> seen_peer_write_disabled_{false};
};

extern const ObjectKind kSocketKind;

// Its syscalls are declared in core/syscalls.h.

}  // namespace zxc
