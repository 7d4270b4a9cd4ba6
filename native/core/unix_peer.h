// Whether the peer of a connected AF_UNIX socket still exists, asked of the kernel's socket
// diagnostics (NETLINK_SOCK_DIAG, the interface `ss -x` uses). poll(2) can't tell: a socket
// whose two directions are both shut down looks the same whether its peer has closed or
// both ends have merely stopped writing.
#pragma once

namespace zxc {

enum class UnixPeer { kAlive, kGone, kUnknown };

// kUnknown when the diagnostics can't be asked (no unix_diag, out of descriptors).
UnixPeer UnixPeerOf(int fd);

}  // namespace zxc
