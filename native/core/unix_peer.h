// Whether the peer of a connected AF_UNIX socket still exists. poll(2) can't tell: a
// socket whose two directions are both shut down looks the same whether its peer has
// closed or both ends have merely stopped writing. Linux: the kernel's socket diagnostics
// (NETLINK_SOCK_DIAG, the interface `ss -x` uses), on both backends; macOS: LOCAL_PEERPID,
// which fails with ENOTCONN once the peer has closed (Linux keeps the peer's credentials
// after its close, so only the diagnostics tell there).
#pragma once

namespace zxc {

enum class UnixPeer { kAlive, kGone, kUnknown };

// kUnknown when the diagnostics can't be asked (no unix_diag, out of descriptors).
UnixPeer UnixPeerOf(int fd);

}  // namespace zxc
