// The calls that differ between Linux and the other POSIX systems this package is built
// for (macOS), one small function per concern, behind the backend chosen when the addon
// loads (docs/architecture.md, "Backends"):
//   linux     SOCK_SEQPACKET channels, atomic close-on-exec and non-blocking flags
//             (SOCK_CLOEXEC, MSG_CMSG_CLOEXEC, accept4), the kernel's own limits;
//   portable  only what macOS has too: framed SOCK_STREAM channels (transport_stream.h),
//             flags set with fcntl right after the call, macOS's limits (at most 254
//             descriptors per message, 8 KiB default socket buffers raised per endpoint).
// On Linux the backend is `linux` unless ZIRCON_IPC_BACKEND=portable is set when the
// addon loads; elsewhere it is always `portable`.
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cstddef>

namespace zxc {

enum class Backend { kLinux, kPortable };

// Read once, at the first call (the addon's load asks first).
Backend CurrentBackend();
inline bool PortableBackend() { return CurrentBackend() == Backend::kPortable; }
const char* BackendName();

// ---- transport ----
// The socket type channel endpoints (and service connections) are: SOCK_SEQPACKET, or
// SOCK_STREAM carrying frames.
int ChannelSocketType();
// The most descriptors the receiving kernel hands over with one message: Linux's
// SCM_MAX_FD (253), or macOS's 254 (its control buffer limit, MCLBYTES after the cmsg
// is widened for LP64). A send of more fails; receive buffers are sized for this.
constexpr size_t kMaxFdsPerMessage = 254;

// ---- socket queues and hangups (connected AF_UNIX sockets) ----
// The bit PollSocket reports when the socket's receive side is shut: its peer closed, or
// shut its writes; bytes may still be queued. Linux's poll(2) has it (POLLRDHUP). macOS
// has none: its poll(2) is kqueue underneath and reports the EOF of the read filter and of
// the write filter alike as POLLHUP (XNU bsd/kern/sys_generic.c, poll_nocancel and
// poll_callback); the read filter's EOF is SS_CANTRCVMORE, with bytes queued or not
// (bsd/kern/uipc_socket.c, filt_soread_common), set by the peer's SHUT_WR or close
// (bsd/kern/uipc_usrreq.c, unp_shutdown, unp_disconnect). There PollSocket asks the two
// filters apart and reports that EOF as this bit, a bit poll(2) uses for nothing else.
#ifdef POLLRDHUP
constexpr short kPollReceiveShut = POLLRDHUP;
#else
constexpr short kPollReceiveShut = 0x2000;
#endif
// poll(2) of `sock` now for `events` (POLLIN, POLLOUT), with the hangups in Linux's terms
// on every system: kPollReceiveShut when the receive side is shut, POLLHUP when both sides
// are. The revents, or -1 with errno.
int PollSocket(int sock, short events);
// The event to give poll(2) (and so PollEventsFor) to wake when a descriptor's receive
// side is shut, which a raw poll(2) then reports: POLLRDHUP on Linux; on macOS POLLHUP,
// whose asking registers the read filter even without POLLIN (XNU poll_nocancel), and
// which comes back at its EOF (or the write filter's, if POLLOUT was asked too).
#ifdef POLLRDHUP
constexpr short kPollHangupEvent = POLLRDHUP;
#else
constexpr short kPollHangupEvent = POLLHUP;
#endif
// The data bytes queued to be read (descriptors' control messages not counted): SIOCINQ
// (FIONREAD) on Linux; SO_NREAD on macOS, whose FIONREAD counts the control messages'
// bytes too (XNU bsd/kern/sys_socket.c soioctl: so_rcv.sb_cc, which sballoc in
// uipc_socket2.c grows by control mbufs as well; SO_NREAD on a stream subtracts sb_ctl).
size_t QueuedToRead(int sock);
// What this end has sent that the peer hasn't read yet, in kernel memory (the bytes and
// their per-message overhead): SIOCOUTQ on Linux (both backends). False where the system
// can't be asked: on macOS SO_NWRITE is so_snd.sb_cc, which an AF_UNIX socket never
// fills (XNU bsd/kern/uipc_usrreq.c uipc_send appends to the peer's receive buffer and
// shrinks the sender's sb_hiwat instead; bsd/kern/uipc_socket.c sogetopt), so it would
// always say 0.
bool SentNotRead(int sock, size_t* bytes);
// The bytes a send on this end may still queue before it would block or go short: on
// Linux `send_buffer` (its SO_SNDBUF, as read once) less SentNotRead; on macOS the write
// filter's free space (EVFILT_WRITE's data is sbspace(so_snd), whose sb_hiwat uipc_send
// shrinks by what the peer holds unread: XNU bsd/kern/uipc_socket.c filt_sowrite_common,
// bsd/kern/uipc_usrreq.c uipc_send). False where it can't be asked.
bool SendSpace(int sock, size_t send_buffer, size_t* bytes);

// ---- descriptor flags ----
// A connected pair / a socket / an accepted connection, close-on-exec and non-blocking
// (`nonblock` false: blocking). -1 with errno on failure (no descriptor left open).
int SocketPair(int type, int fds[2]);
int NewSocket(int type, bool nonblock);
int AcceptConnection(int listener);
// A pipe, both ends close-on-exec and non-blocking: 0, or -1 with errno (none left open).
int PipePair(int fds[2]);
// A connected AF_UNIX socket's peer as the kernel recorded it at connection time:
// SO_PEERCRED on Linux, LOCAL_PEERPID and getpeereid on macOS (0s if unknown).
void PeerIdentity(int sock, int* pid, unsigned* uid, unsigned* gid);
// The flags a recvmsg that may carry descriptors is called with, and what to do with the
// descriptors it brought (close-on-exec where the call could not set it).
int ReceiveFlags();
void AfterReceive(const int* fds, size_t count);

// ---- clock ----
// Zircon's monotonic clock: it stops while the system sleeps (CLOCK_MONOTONIC on Linux,
// CLOCK_UPTIME_RAW on macOS, whose CLOCK_MONOTONIC counts sleep; libuv's uv_hrtime counts
// the same there, so deadlines and loop timers stay on one clock).
#ifdef __APPLE__
constexpr clockid_t kMonotonicClock = CLOCK_UPTIME_RAW;
#else
constexpr clockid_t kMonotonicClock = CLOCK_MONOTONIC;
#endif
// Zircon's boot clock: it counts the time asleep too (CLOCK_BOOTTIME on Linux; on macOS
// CLOCK_MONOTONIC, which is mach_continuous_time: it counts sleep).
#ifdef __APPLE__
constexpr clockid_t kBootClock = CLOCK_MONOTONIC;
#else
constexpr clockid_t kBootClock = CLOCK_BOOTTIME;
#endif

// ---- descriptors ----
// Where the process's open descriptors are listed, one entry each.
#ifdef __linux__
constexpr const char* kOpenDescriptorsDir = "/proc/self/fd";
#else
constexpr const char* kOpenDescriptorsDir = "/dev/fd";
#endif

// ---- threads ----
// Names the calling thread (what ps and debuggers show; at most 15 characters).
void NameThisThread(const char* name);

// ---- randomness ----
// `size` (at most 256) random bytes; false if the system has none to give.
bool RandomBytes(void* out, size_t size);

}  // namespace zxc
