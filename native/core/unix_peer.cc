#include "core/unix_peer.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#else
#include <sys/un.h>
#endif

namespace zxc {

#ifdef __linux__
namespace {

enum class Lookup { kFound, kAbsent, kFailed };

// One exact lookup of the unix socket with inode `ino`; `*peer` gets its peer's inode
// (0 when it reports none: a released peer reports inode 0).
Lookup Query(int nl, uint32_t ino, uint32_t* peer) {
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.request.sdiag_family = AF_UNIX;
  message.request.udiag_ino = ino;
  message.request.udiag_show = UDIAG_SHOW_PEER;
  message.request.udiag_cookie[0] = message.request.udiag_cookie[1] = ~0u;  // no cookie check
  if (send(nl, &message, sizeof message, 0) != static_cast<ssize_t>(sizeof message))
    return Lookup::kFailed;

  alignas(nlmsghdr) uint8_t reply[1024];
  ssize_t n;
  do n = recv(nl, reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  auto* h = reinterpret_cast<nlmsghdr*>(reply);
  if (n < 0 || !NLMSG_OK(h, static_cast<uint32_t>(n))) return Lookup::kFailed;
  if (h->nlmsg_type == NLMSG_ERROR) {
    auto* error = static_cast<nlmsgerr*>(NLMSG_DATA(h));
    return error->error == -ENOENT ? Lookup::kAbsent : Lookup::kFailed;
  }
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) return Lookup::kFailed;
  *peer = 0;
  auto* found = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
  int length = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *found));
  for (auto* a = reinterpret_cast<rtattr*>(found + 1); RTA_OK(a, length); a = RTA_NEXT(a, length))
    if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t))
      std::memcpy(peer, RTA_DATA(a), sizeof(uint32_t));
  return Lookup::kFound;
}

}  // namespace

UnixPeer UnixPeerOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return UnixPeer::kUnknown;
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return UnixPeer::kUnknown;
  UnixPeer result = UnixPeer::kUnknown;
  uint32_t peer = 0, unused;
  if (Query(nl, static_cast<uint32_t>(st.st_ino), &peer) == Lookup::kFound) {
    if (peer == 0) {
      result = UnixPeer::kGone;
    } else {
      // A released socket leaves the table: looking the peer up is the definite answer.
      switch (Query(nl, peer, &unused)) {
        case Lookup::kFound:
          result = UnixPeer::kAlive;
          break;
        case Lookup::kAbsent:
          result = UnixPeer::kGone;
          break;
        case Lookup::kFailed:
          break;
      }
    }
  }
  close(nl);
  return result;
}

#else

// XNU keeps a connected stream socket's peer until the peer closes: a shutdown, either way,
// leaves it (bsd/kern/uipc_usrreq.c, unp_shutdown), the close clears it for both ends
// (unp_disconnect), and LOCAL_PEERPID answers ENOTCONN from then on (uipc_ctloutput).
UnixPeer UnixPeerOf(int fd) {
  pid_t pid;
  socklen_t len = sizeof pid;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0) return UnixPeer::kAlive;
  return errno == ENOTCONN ? UnixPeer::kGone : UnixPeer::kUnknown;
}

#endif

}  // namespace zxc
