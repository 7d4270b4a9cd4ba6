// Zircon sockets over AF_UNIX socketpairs: creation, the kind that travels in messages,
// signals, and zx_socket_create / write / read / set_disposition with Zircon's order of
// checks (options, then BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED, then the socket's state).
#include "core/socket.h"

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/datagram_frames.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/port.h"
#include "core/socket_util.h"
#include "core/syscalls.h"
#include "core/transport_stream.h"
#include "core/unix_peer.h"

namespace zxc {
namespace {

// Zircon holds 128 buffers of about 2 KiB per direction; the kernel doubles the request,
// so a datagram may be up to 256 KiB - 32 bytes.
constexpr int kSendBufferRequest = 128 * 1024;
// Reads of up to this many bytes are received at once; a longer one first learns what is
// queued, so that it asks for no more memory than the bytes (or the record) need.
constexpr size_t kDirectReadBytes = 64 * 1024;
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;

bool IsShutdownErrno(int err) { return err == EPIPE || err == ECONNRESET; }

// An address whose bytes can't be read: a one-byte send from it on a SEQPACKET socket
// fails with EFAULT after the kernel's shutdown check and before anything is queued.
const void* UnreadableByte() {
  static void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return page == MAP_FAILED ? nullptr : page;
}

int SocketOption(int fd, int option) {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, SOL_SOCKET, option, &value, &len) == 0 ? value : -1;
}

}  // namespace

const ObjectKind kSocketKind{
    ZX_OBJ_TYPE_SOCKET,
    1,
    [](const int* fds) { return Socket::IsSocketEnd(fds[0]); },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      return Socket::Adopt(fds[0], koid, related);
    },
    [](const int*) { return ~0u; },  // the OS enforces none of a socket's rights
};

const ObjectKind kFramedSocketKind{
    ZX_OBJ_TYPE_SOCKET,
    1,
    [](const int* fds) {
      return Socket::IsSocketEnd(fds[0]) && SocketOption(fds[0], SO_TYPE) == SOCK_STREAM;
    },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      return Socket::Adopt(fds[0], koid, related, true);
    },
    [](const int*) { return ~0u; },
};

Socket::Socket(int fd, bool datagram, bool framed, zx_koid_t koid, zx_koid_t related_koid,
               UserSignals::LinkRef link)
    : WithUserSignals(ZX_OBJ_TYPE_SOCKET, fd, koid, related_koid, std::move(link)),
      datagram_(datagram),
      framed_(framed),
      send_buffer_(SocketOption(fd, SO_SNDBUF)) {}

zx_status_t Socket::CreatePair(bool datagram, SocketRef* out0, SocketRef* out1) {
  int fds[2];
  // The portable backend uses only what macOS has, which is no SOCK_SEQPACKET for AF_UNIX
  // (docs/architecture.md, "Backends"): a DATAGRAM pair frames its datagrams on a stream.
  const bool framed = datagram && PortableBackend();
  if (SocketPair(datagram && !framed ? SOCK_SEQPACKET : SOCK_STREAM, fds) != 0)
    return StatusForErrno(errno, ZX_ERR_NO_MEMORY);
  for (int fd : fds) {
    if (framed)
      StreamConfigureBuffers(fd);  // a framed stream's, as a framed channel's
    else
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSendBufferRequest, sizeof kSendBufferRequest);
  }
  zx_koid_t k0 = NewKoid(), k1 = NewKoid();
  UserSignals::LinkRef link = UserSignals::NewLink(true);
  *out0 = std::make_shared<Socket>(fds[0], datagram, framed, k0, k1, link);
  *out1 = std::make_shared<Socket>(fds[1], datagram, framed, k1, k0, std::move(link));
  return ZX_OK;
}

bool Socket::IsSocketEnd(int fd) {
  const int type = SocketOption(fd, SO_TYPE);
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) return false;
  // Its own address's family is its domain (macOS has no SO_DOMAIN).
  sockaddr_storage address;
  socklen_t len = sizeof address;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len) == 0 &&
         address.ss_family == AF_UNIX;
}

SocketRef Socket::Adopt(int fd, zx_koid_t koid, zx_koid_t related_koid, bool framed) {
  // The wire says "socket" (and whether its datagrams are framed); the descriptor says
  // which kind otherwise.
  const bool seqpacket = SocketOption(fd, SO_TYPE) == SOCK_SEQPACKET;
  auto socket =
      std::make_shared<Socket>(fd, seqpacket || framed, framed && !seqpacket, koid, related_koid);
  // Writes disabled before the move show from the start (Signals() can't ask a datagram
  // socket; see SendShutDown). Nobody here watches it yet, so the probe disturbs no one.
  socket->SendShutDown(true);
  return socket;
}

uint32_t Socket::WireFlags() const { return framed_ ? kWireDatagramFrames : 0; }

// ---- state ----------------------------------------------------------------------------

size_t Socket::QueuedBytes() const { return QueuedToRead(fd()); }

size_t Socket::UnreadBytes(size_t if_unknown) const {
  size_t n;
  return SentNotRead(fd(), &n) ? n : if_unknown;
}

Socket::Info Socket::GetInfo() {
  Info info{datagram_ ? ZX_SOCKET_DATAGRAM : ZX_SOCKET_STREAM, 0, 0, 0, 0, 0};
  // What can queue here is bounded by the peer's SO_SNDBUF (AF_UNIX charges queued bytes
  // to the sender; SO_RCVBUF bounds nothing), which this end can't ask: both ends of a
  // pair are sized alike, so this end's own stands for it. A framed end keeps room for
  // one more datagram above what it holds (kDatagramRoom).
  const size_t buffer = static_cast<size_t>(std::max(send_buffer_, 0));
  const size_t capacity = !framed_ ? buffer : buffer > kDatagramRoom ? buffer - kDatagramRoom : 0;
  info.rx_buf_max = capacity;
  if (framed_) {  // the datagrams' bytes, and the head one's size
    size_t head = 0;
    info.rx_buf_size = QueuedDatagramBytes(fd());
    info.rx_buf_available = DatagramAtHead(fd(), &head) == ZX_OK ? head : 0;
  } else {
    info.rx_buf_size = info.rx_buf_available = QueuedBytes();
  }
  if (seqpacket() && info.rx_buf_size > 0) {  // the head record's size
    ssize_t n;
    do n = recv(fd(), nullptr, 0, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    info.rx_buf_available = n > 0 ? static_cast<uint64_t>(n) : 0;
  }
  if (!Look(false).peer_closed) {
    info.tx_buf_max = capacity;
    info.tx_buf_size = UnreadBytes();
  }
  return info;
}

bool Socket::PeerGone(bool hup) {
  if (peer_gone_.load(std::memory_order_acquire)) return true;
  if (!hup) return false;  // a closed peer shuts both directions down
  // Both directions shut down: the peer closed, or both ends disabled their writes.
  if (UnixPeerOf(fd()) == UnixPeer::kAlive) return false;
  peer_gone_.store(true, std::memory_order_release);  // gone (or, unanswerable, taken as gone)
  return true;
}

// poll(2) never shows a socket's own send shutdown (only its receive side: RDHUP), so it
// is asked of a send that can't queue anything. On a STREAM socket that is a 0-byte send:
// side-effect free. On a SEQPACKET socket a 0-byte send would queue an empty record, so it
// is a one-byte send from an unreadable address, which allocates and frees a buffer and
// so wakes this socket's writers: done only when a caller acts (writes, sets a
// disposition, adopts the socket), never from Signals(), or edge-triggered watchers
// (ports) would be woken by their own look.
bool Socket::SendShutDown(bool probe_datagram) {
  if (send_shut_.load(std::memory_order_acquire)) return true;
  ssize_t n;
  if (!seqpacket()) {
    n = send(fd(), nullptr, 0, kSendFlags);
  } else if (probe_datagram && UnreadableByte()) {
    n = send(fd(), UnreadableByte(), 1, kSendFlags);
  } else {
    return false;
  }
  if (n < 0 && IsShutdownErrno(errno)) {
    send_shut_.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

Socket::Sample Socket::Take(short events, bool probe_datagram) {
  const bool send_shut = SendShutDown(probe_datagram);
  const int revents = PollSocket(fd(), events);
  if (revents < 0) return {false, 0, send_shut};
  return {true, static_cast<short>(revents), send_shut || (revents & POLLHUP)};
}

Socket::State Socket::Look(bool probe_datagram) {
  State s{};
  const Sample sample = Take(POLLIN | POLLOUT, probe_datagram);
  if (!sample.ok) return s;
  const bool hup = sample.revents & POLLHUP;
  const bool receive_shut = sample.revents & (kPollReceiveShut | POLLHUP);
  // At a receive shutdown POLLIN stays on: are bytes still there? (A framed end: is a
  // whole datagram?)
  s.readable = (sample.revents & POLLIN) &&
               (framed_ ? FramedReadable() : !receive_shut || QueuedBytes() > 0);
  s.peer_closed = PeerGone(hup);
  // What either end set, wherever it is, once the page is there (docs/objects.md).
  const bool mine_in_page = DisabledInPage(user_.side());
  const bool peer_in_page = DisabledInPage(1 - user_.side());
  if (s.peer_closed) {
    // Zircon keeps what was set before the close; the kernel now shows everything shut.
    s.write_disabled = mine_in_page || seen_write_disabled_.load(std::memory_order_relaxed);
    s.peer_write_disabled =
        peer_in_page || seen_peer_write_disabled_.load(std::memory_order_relaxed);
    return s;
  }
  // The kernel's shutdowns are final: remembered for after the peer's close. The page's
  // dispositions stay there, and may be re-enabled.
  if (sample.send_shut) seen_write_disabled_.store(true, std::memory_order_relaxed);
  if (receive_shut) seen_peer_write_disabled_.store(true, std::memory_order_relaxed);
  // A DATAGRAM end's send shutdown shows nowhere else without a probe (SendShutDown).
  s.write_disabled = sample.send_shut || mine_in_page;
  s.peer_write_disabled = receive_shut || peer_in_page;
  // Zircon's WRITABLE means "not full" (Room). A wait for it watches POLLOUT, which Linux
  // gives back only once a quarter of the send buffer is used; where every holder of both
  // ends reads the page the wait also watches its doorbell, and a full end is marked there
  // for the reader to ring (RoomMade). Marked first, then looked at again: a read between
  // the two looks shows in the second, one after it finds the mark.
  s.writable = !s.write_disabled && Room(sample.revents);
  if (!s.write_disabled && !s.writable && WantRoom()) {
    const int revents = PollSocket(fd(), POLLOUT);
    s.writable = revents >= 0 && Room(static_cast<short>(revents));
  }
  return s;
}

bool Socket::Room(short revents) const {
  if (framed_) return FramedRoom();
  // A write succeeds while the unread bytes are below the buffer's size. (Where they can't
  // be asked, POLLOUT alone: macOS's measures the peer's free space, and XNU wakes writers
  // at every read.)
  return (revents & POLLOUT) ||
         UnreadBytes(SIZE_MAX) < static_cast<size_t>(std::max(send_buffer_, 0));
}

bool Socket::WantRoom() {
  if (!user_.BothSidesRead()) return false;
  const uint32_t mine = 1u << user_.side();
  if (!(user_.LoadWord(kRoomWantedWord) & mine)) user_.MarkWord(kRoomWantedWord, mine);
  return true;
}

void Socket::RoomMade() {
  const uint32_t theirs = 1u << (1 - user_.side());
  if (!user_.page()) return;
  // The mark is looked for after the read took bytes: the writer marks, then looks.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (user_.LoadWord(kRoomWantedWord) & theirs) user_.UpdateWord(kRoomWantedWord, theirs, 0, true);
}

bool Socket::FramedRoom() const {
  size_t space;
  return !SendSpace(fd(), static_cast<size_t>(std::max(send_buffer_, 0)), &space) ||
         space >= kDatagramRoom;
}

bool Socket::FramedReadable() {
  size_t num_bytes;
  // Bytes that are no datagram read as READABLE: the read tells (IO_DATA_INTEGRITY).
  return DatagramAtHead(fd(), &num_bytes) != ZX_ERR_SHOULD_WAIT;
}

bool Socket::DisabledInPage(int side) const {
  return user_.LoadWord(kDispositionWords + side) & kWritesDisabled;
}

zx_signals_t Socket::SignalsOf(const State& s) const {
  zx_signals_t signals = 0;
  if (s.readable) signals |= ZX_SOCKET_READABLE;
  if (s.writable) signals |= ZX_SOCKET_WRITABLE;
  if (s.peer_closed) signals |= ZX_SOCKET_PEER_CLOSED;
  if (s.write_disabled) signals |= ZX_SOCKET_WRITE_DISABLED;
  if (s.peer_write_disabled) signals |= ZX_SOCKET_PEER_WRITE_DISABLED;
  return signals;
}

bool Socket::PollableFd() const { return !PortableBackend() && !framed_; }

zx_signals_t Socket::Signals() { return SignalsOf(Look(false)) | user_.Load(); }

bool Socket::NeedsWaiter(zx_signals_t wanted) {
  if (WithUserSignals::NeedsWaiter(wanted)) return true;
  // PEER_WRITE_DISABLED, and WRITABLE when re-enabled, rise through the page where both
  // sides read it: a wait for them watches its doorbell then. For PEER_WRITE_DISABLED the
  // page is made now for a pair made here, where a disposition would go to the page.
  if (!(wanted & (ZX_SOCKET_PEER_WRITE_DISABLED | ZX_SOCKET_WRITABLE))) return false;
  if (!user_.page() && !((wanted & ZX_SOCKET_PEER_WRITE_DISABLED) && user_.link()->both_ends))
    return false;
  return user_.Ensure() && user_.BothSidesRead();
}

short Socket::PollEventsFor(zx_signals_t wanted, zx_signals_t now) const {
  if (now & ZX_SOCKET_PEER_CLOSED) return 0;  // nothing more can come
  // Dispositions held in the page alone leave the kernel's view open: poll(2) still tells
  // of bytes, room and the close.
  if (user_.BothSidesRead()) now &= ~(ZX_SOCKET_WRITE_DISABLED | ZX_SOCKET_PEER_WRITE_DISABLED);
  short events = 0;
  // After the peer's writes are disabled no byte arrives, and POLLIN stays on for good.
  if ((wanted & ZX_SOCKET_READABLE) && !(now & ZX_SOCKET_PEER_WRITE_DISABLED)) events |= POLLIN;
  // POLLOUT comes back once the peer has read all but a quarter of the buffer.
  if ((wanted & ZX_SOCKET_WRITABLE) && !(now & ZX_SOCKET_WRITE_DISABLED)) events |= POLLOUT;
  if ((wanted & (ZX_SOCKET_PEER_WRITE_DISABLED | ZX_SOCKET_PEER_CLOSED)) &&
      !(now & ZX_SOCKET_PEER_WRITE_DISABLED))
    events |= kPollHangupEvent;  // the peer's SHUT_WR, or its close
  if ((wanted & ZX_SOCKET_PEER_CLOSED) && (now & ZX_SOCKET_PEER_WRITE_DISABLED) &&
      !(now & ZX_SOCKET_WRITE_DISABLED))
    events |= POLLPRI;  // RDHUP is on for good: only the close's POLLHUP (always reported) can come
  // With both directions disabled the close changes nothing poll(2) shows; and a
  // WRITE_DISABLED set by the peer shows nowhere: neither can wake a wait.
  return events;
}

zx_status_t Socket::EmptyStatus() {
  const int revents = PollSocket(fd(), 0);
  if (revents < 0) return ZX_ERR_SHOULD_WAIT;
  if (PeerGone(revents & POLLHUP)) return ZX_ERR_PEER_CLOSED;
  if (revents & (kPollReceiveShut | POLLHUP)) {
    seen_peer_write_disabled_.store(true, std::memory_order_relaxed);
    return ZX_ERR_BAD_STATE;
  }
  return DisabledInPage(1 - user_.side()) ? ZX_ERR_BAD_STATE : ZX_ERR_SHOULD_WAIT;
}

zx_status_t Socket::WriteState() {
  const Sample sample = Take(0, true);
  if (!sample.ok) return ZX_OK;
  if (PeerGone(sample.revents & POLLHUP)) return ZX_ERR_PEER_CLOSED;
  if (sample.send_shut) {
    seen_write_disabled_.store(true, std::memory_order_relaxed);
    return ZX_ERR_BAD_STATE;
  }
  return DisabledInPage(user_.side()) ? ZX_ERR_BAD_STATE : ZX_OK;
}

// ---- operations -----------------------------------------------------------------------

zx_status_t Socket::Write(const uint8_t* bytes, size_t length, size_t* actual) {
  *actual = 0;
  // A STREAM write may go out in pieces: another thread's must not come between them; nor
  // a disposition set here between the page's check and the send.
  std::lock_guard<std::mutex> lock(write_mu_);
  // Zircon writes nothing for 0 bytes, after the same checks; writes disabled in the page
  // alone leave the kernel's socket open.
  if (length == 0 || DisabledInPage(user_.side())) return WriteState();
  if (framed_) return FramedWrite(bytes, length, actual);
  // Never more at once than the buffer holds (ZX_INFO_SOCKET's rx/tx_buf_max), as on
  // Zircon: Linux would take a send buffer's worth and one more piece.
  if (!datagram_ && send_buffer_ > 0) length = std::min(length, static_cast<size_t>(send_buffer_));
  ssize_t n;
  do n = send(fd(), bytes, length, kSendFlags);
  while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *actual = static_cast<size_t>(n);
    return ZX_OK;
  }
  const int err = errno;
  if (IsFullErrno(err)) return ZX_ERR_SHOULD_WAIT;  // (a shut-down end fails earlier: EPIPE)
  if (IsShutdownErrno(err)) {
    send_shut_.store(true, std::memory_order_release);
    return WriteState();
  }
  if (err == EMSGSIZE) {
    // A datagram larger than the socket can hold: Zircon says so after its other checks.
    zx_status_t state = WriteState();
    if (state != ZX_OK) return state;
    return UnreadBytes() >= static_cast<size_t>(std::max(send_buffer_, 0)) ? ZX_ERR_SHOULD_WAIT
                                                                           : ZX_ERR_OUT_OF_RANGE;
  }
  return StatusForErrno(err, ZX_ERR_INTERNAL);
}

zx_status_t Socket::Read(bool peek, size_t length, ReadTarget& target, size_t* actual) {
  *actual = 0;
  // One reader at a time: a peek and the read that takes the same record see one head.
  std::lock_guard<std::mutex> lock(read_mu_);
  if (length == 0) return Look(false).readable ? ZX_OK : EmptyStatus();  // Zircon consumes nothing
  if (framed_) return FramedRead(peek, length, target, actual);
  const int sock = fd();
  const int flags = MSG_DONTWAIT | (peek ? MSG_PEEK : 0);
  for (;;) {
    size_t want = std::min(length, kDirectReadBytes);
    ssize_t n = 1;
    bool peeked = peek;
    if (length > kDirectReadBytes) {
      if (datagram_) {
        // The head record's full size (0: an empty record, or the end).
        do n = recv(sock, nullptr, 0, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n > 0) want = std::min(length, static_cast<size_t>(n));
        peeked = true;
      } else if (size_t queued = QueuedBytes()) {
        want = std::min(length, queued);
      }
    }
    if (n > 0) {
      uint8_t* buffer = target.Get(want);
      if (!buffer) return ZX_ERR_NO_MEMORY;
      do n = recv(sock, buffer, want, flags);
      while (n < 0 && errno == EINTR);
      peeked = peek;
    }
    if (n > 0) {
      *actual = static_cast<size_t>(n);
      return ZX_OK;
    }
    if (n < 0) {
      if (IsFullErrno(errno)) {  // empty, the peer alive: may it still write?
        if (!DisabledInPage(1 - user_.side())) return ZX_ERR_SHOULD_WAIT;
        if (QueuedBytes() > 0) continue;  // written just before the disable
        return ZX_ERR_BAD_STATE;
      }
      if (errno == ECONNRESET) continue;  // the peer closed with bytes of ours unread: said once
      return StatusForErrno(errno, ZX_ERR_INTERNAL);
    }
    // 0 bytes: the end of the stream, or on a SEQPACKET socket an empty record (ours
    // never sends one; a program outside this library may), which is skipped.
    if (!datagram_) return EmptyStatus();
    const int revents = PollSocket(sock, 0);
    if (revents < 0) return ZX_ERR_INTERNAL;
    if ((revents & (kPollReceiveShut | POLLHUP)) && QueuedBytes() == 0) return EmptyStatus();
    if (peeked) recv(sock, nullptr, 0, MSG_DONTWAIT);  // take the empty head record
  }
}

zx_status_t Socket::FramedWrite(const uint8_t* bytes, size_t length, size_t* actual) {
  // Zircon's order: full (SHOULD_WAIT) before too large (OUT_OF_RANGE), both after the
  // end's state. A datagram goes only when any datagram would go whole.
  if (!FramedRoom() || length > kMaxDatagramBytes) {
    const zx_status_t state = WriteState();
    if (state != ZX_OK) return state;
    return FramedRoom() ? ZX_ERR_OUT_OF_RANGE : ZX_ERR_SHOULD_WAIT;
  }
  const ssize_t n = SendDatagram(fd(), bytes, length);
  if (n >= 0) {
    *actual = static_cast<size_t>(n);
    return ZX_OK;
  }
  if (IsFullErrno(static_cast<int>(-n))) return ZX_ERR_SHOULD_WAIT;
  if (IsShutdownErrno(static_cast<int>(-n))) {
    send_shut_.store(true, std::memory_order_release);
    return WriteState();
  }
  return StatusForErrno(static_cast<int>(-n), ZX_ERR_INTERNAL);
}

zx_status_t Socket::FramedRead(bool peek, size_t length, ReadTarget& target, size_t* actual) {
  for (;;) {
    size_t num_bytes;
    const zx_status_t head = DatagramAtHead(fd(), &num_bytes);
    if (head == ZX_ERR_IO_DATA_INTEGRITY) {
      // Bytes that are no datagram can't be skipped on a stream: said once, and from then
      // on the end reads as its peer's close (docs/wire-format.md).
      StreamBreak(fd());
      peer_gone_.store(true, std::memory_order_release);
      return ZX_ERR_IO_DATA_INTEGRITY;
    }
    // Nothing, or only part of a datagram: the end's state says why.
    if (head != ZX_OK) return EmptyStatus();
    const size_t want = std::min(length, num_bytes);
    uint8_t* buffer = nullptr;
    if (want > 0 && !(buffer = target.Get(want))) return ZX_ERR_NO_MEMORY;
    const ssize_t n = ReceiveDatagram(fd(), num_bytes, buffer, want, peek);
    if (n < 0)
      return IsFullErrno(static_cast<int>(-n))
                 ? EmptyStatus()
                 : StatusForErrno(static_cast<int>(-n), ZX_ERR_INTERNAL);
    if (num_bytes > 0) {
      *actual = static_cast<size_t>(n);
      return ZX_OK;
    }
    // An empty datagram (ours never sends one; a writer outside this library may) is
    // skipped, as on a SEQPACKET socket.
    if (peek) ReceiveDatagram(fd(), 0, nullptr, 0, false);
  }
}

namespace {
constexpr uint32_t kEnabled = ZX_SOCKET_DISPOSITION_WRITE_ENABLED;
constexpr uint32_t kDisabled = ZX_SOCKET_DISPOSITION_WRITE_DISABLED;
}  // namespace

zx_status_t Socket::SetDisposition(uint32_t disposition, uint32_t disposition_peer) {
  // The page is made here if need be: a pair made here and never sent away as a bare
  // descriptor keeps its dispositions there.
  std::lock_guard<std::mutex> lock(write_mu_);
  return user_.Ensure() && user_.BothSidesRead()
             ? SetDispositionInPage(disposition, disposition_peer)
             : SetDispositionByShutdown(disposition, disposition_peer);
}

zx_status_t Socket::SetDispositionInPage(uint32_t disposition, uint32_t disposition_peer) {
  const int revents = PollSocket(fd(), 0);
  if (revents < 0) return ZX_ERR_INTERNAL;
  const bool peer_closed = PeerGone(revents & POLLHUP);
  const int mine = kDispositionWords + user_.side();
  const int theirs = kDispositionWords + 1 - user_.side();
  // Zircon's refusals: re-enabling writes whose earlier bytes are still unread.
  if (disposition_peer == kEnabled && DisabledInPage(1 - user_.side()) && QueuedBytes() > 0)
    return ZX_ERR_BAD_STATE;
  if (!peer_closed && disposition == kEnabled && DisabledInPage(user_.side()) && UnreadBytes() > 0)
    return ZX_ERR_BAD_STATE;
  // Each change rings the doorbell: a wait for WRITE_DISABLED, PEER_WRITE_DISABLED or (when
  // re-enabled) WRITABLE wakes, in every process. With the peer gone Zircon changes only
  // this end's own disposition.
  if (disposition != 0)
    user_.UpdateWord(mine, kWritesDisabled, disposition == kDisabled ? kWritesDisabled : 0, true);
  if (disposition_peer != 0 && !peer_closed)
    user_.UpdateWord(theirs, kWritesDisabled, disposition_peer == kDisabled ? kWritesDisabled : 0,
                     true);
  return ZX_OK;
}

zx_status_t Socket::SetDispositionByShutdown(uint32_t disposition, uint32_t disposition_peer) {
  const Sample sample = Take(0, true);
  if (!sample.ok) return ZX_ERR_INTERNAL;
  const bool peer_closed = PeerGone(sample.revents & POLLHUP);
  bool write_off, peer_write_off;
  if (peer_closed) {
    write_off = seen_write_disabled_.load(std::memory_order_relaxed);
    peer_write_off = seen_peer_write_disabled_.load(std::memory_order_relaxed);
  } else {
    write_off = sample.send_shut;
    peer_write_off = sample.revents & (kPollReceiveShut | POLLHUP);
  }
  // Zircon's own refusals: re-enabling writes whose earlier bytes are still unread.
  if (disposition_peer == kEnabled && peer_write_off && QueuedBytes() > 0) return ZX_ERR_BAD_STATE;
  if (!peer_closed && disposition == kEnabled && write_off && UnreadBytes() > 0)
    return ZX_ERR_BAD_STATE;
  // Linux can't undo a shutdown.
  if ((disposition == kEnabled && write_off) || (disposition_peer == kEnabled && peer_write_off))
    return ZX_ERR_NOT_SUPPORTED;
  int how = -1;
  if (disposition == kDisabled)
    how = disposition_peer == kDisabled ? SHUT_RDWR : SHUT_WR;
  else if (disposition_peer == kDisabled)
    how = SHUT_RD;
  if (how >= 0 && shutdown(fd(), how) != 0) return ZX_ERR_INTERNAL;
  if (disposition == kDisabled) {
    send_shut_.store(true, std::memory_order_release);
    seen_write_disabled_.store(true, std::memory_order_relaxed);
  }
  // With the peer gone Zircon leaves this end's signals as they were.
  if (disposition_peer == kDisabled && !peer_closed)
    seen_peer_write_disabled_.store(true, std::memory_order_relaxed);
  // Also in the page, which rings its doorbell: the peer sees it at once and keeps it after
  // our close, wherever it is (a DATAGRAM end can't otherwise tell; docs/objects.md).
  if (!peer_closed) {
    if (disposition == kDisabled)
      user_.UpdateWord(kDispositionWords + user_.side(), 0, kWritesDisabled);
    if (disposition_peer == kDisabled)
      user_.UpdateWord(kDispositionWords + 1 - user_.side(), 0, kWritesDisabled);
  }
  return ZX_OK;
}

std::shared_ptr<Object> Socket::ForTransfer(zx_rights_t rights, bool descriptor_only) {
  if (descriptor_only) {
    std::lock_guard<std::mutex> lock(write_mu_);
    user_.MarkOutside();  // from now on every disposition is a shutdown
    // What the page alone held becomes the kernel's, which the new holder sees.
    const bool mine = DisabledInPage(user_.side());
    const bool theirs = DisabledInPage(1 - user_.side());
    if (mine || theirs) {
      shutdown(fd(), mine && theirs ? SHUT_RDWR : mine ? SHUT_WR : SHUT_RD);
      if (mine) send_shut_.store(true, std::memory_order_release);
    }
  }
  return WithUserSignals::ForTransfer(rights, descriptor_only);
}

// ---- syscalls -------------------------------------------------------------------------

namespace {

zx_status_t LookupSocket(zx_handle_t h, zx_rights_t rights, SocketRef* out) {
  HandleInfo info;
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_SOCKET, rights, &info);
  if (status == ZX_OK) *out = std::static_pointer_cast<Socket>(std::move(info.object));
  return status;
}

bool ValidDisposition(uint32_t value) {
  return value == 0 || value == ZX_SOCKET_DISPOSITION_WRITE_DISABLED ||
         value == ZX_SOCKET_DISPOSITION_WRITE_ENABLED;
}

}  // namespace

zx_status_t SocketCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1) {
  *out0 = *out1 = ZX_HANDLE_INVALID;
  if (options & ~ZX_SOCKET_DATAGRAM) return ZX_ERR_INVALID_ARGS;
  SocketRef s0, s1;
  zx_status_t status = Socket::CreatePair(options == ZX_SOCKET_DATAGRAM, &s0, &s1);
  if (status != ZX_OK) return status;
  return HandleTable::Get().AddPair(std::move(s0), std::move(s1), ZX_DEFAULT_SOCKET_RIGHTS, out0,
                                    out1);
}

zx_status_t SocketWrite(zx_handle_t h, uint32_t options, const uint8_t* bytes, size_t length,
                        size_t* actual) {
  *actual = 0;
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  SocketRef socket;
  zx_status_t status = LookupSocket(h, ZX_RIGHT_WRITE, &socket);
  if (status != ZX_OK) return status;
  ObservedChange change(*socket);
  return socket->Write(bytes, length, actual);
}

zx_status_t SocketRead(zx_handle_t h, uint32_t options, size_t length, ReadTarget& target,
                       size_t* actual) {
  *actual = 0;
  if (options & ~ZX_SOCKET_PEEK) return ZX_ERR_INVALID_ARGS;
  SocketRef socket;
  zx_status_t status = LookupSocket(h, ZX_RIGHT_READ, &socket);
  if (status != ZX_OK) return status;
  ObservedChange change(*socket);
  status = socket->Read(options & ZX_SOCKET_PEEK, length, target, actual);
  if (status == ZX_OK && *actual > 0 && !(options & ZX_SOCKET_PEEK)) socket->RoomMade();
  return status;
}

zx_status_t SocketSetDisposition(zx_handle_t h, uint32_t disposition, uint32_t disposition_peer) {
  if (!ValidDisposition(disposition) || !ValidDisposition(disposition_peer))
    return ZX_ERR_INVALID_ARGS;
  SocketRef socket;
  zx_status_t status = LookupSocket(h, ZX_RIGHT_MANAGE_SOCKET, &socket);
  if (status != ZX_OK) return status;
  if (disposition == 0 && disposition_peer == 0) return ZX_OK;
  ObservedChange change(*socket);
  return socket->SetDisposition(disposition, disposition_peer);
}

}  // namespace zxc
