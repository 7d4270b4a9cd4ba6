// DATAGRAM socket ends where AF_UNIX has no SOCK_SEQPACKET (macOS, and so the portable
// backend): a SOCK_STREAM socket on which each datagram is a DatagramHeader and then its
// bytes, back to back (core/wire_format.h; docs/wire-format.md, "Datagram sockets on a
// stream"). As with framed channels (core/transport_stream.h), a datagram is read only
// once all of it is queued, so nothing is kept here and an end moves between processes
// with its queue; a datagram is sent only when the socket has room for all of it, so a
// send never stops halfway (DatagramRoom).
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "core/transport_stream.h"
#include "core/types.h"
#include "core/wire_format.h"

namespace zxc {

// What heads the stream `sock`: ZX_OK, a whole datagram of *num_bytes; SHOULD_WAIT,
// nothing or only part of one (whether more can come is the caller's question);
// IO_DATA_INTEGRITY, bytes that are no datagram's header (the stream can't be read on).
// Nothing is consumed.
zx_status_t DatagramAtHead(int sock, size_t* num_bytes);

// Takes the whole datagram at the head (`num_bytes` long, all queued: DatagramAtHead said
// so) and gives its first `length` bytes to `out`; the rest is thrown away, and so is
// every descriptor a writer outside this library attached. `peek`: copies them and takes
// nothing. The bytes given, or -errno.
ssize_t ReceiveDatagram(int sock, size_t num_bytes, uint8_t* out, size_t length, bool peek);

// The free send space every datagram fits in whole: the largest frame, and what the
// kernel may charge for cutting it into buffers (Linux takes at most 32 KiB and a few
// hundred bytes of bookkeeping per buffer, and accepts each while its charge is below
// SO_SNDBUF). A socket with less room than this is full (not WRITABLE). Its buffers are a
// framed stream's (StreamConfigureBuffers): this room and as many queued bytes again.
constexpr size_t kDatagramRoom = sizeof(DatagramHeader) + kMaxDatagramBytes + 128 * 1024;
static_assert(2 * kDatagramRoom <= static_cast<size_t>(kStreamBufferBytes),
              "a framed stream's buffers hold the room for a datagram and as much queued");

// Sends one datagram of `length` (at most kMaxDatagramBytes) bytes, whole, on a socket
// with kDatagramRoom free: the payload's bytes sent, or -errno (EAGAIN: none went). If the
// kernel took only part of it all the same (another process writing the same end at once),
// the rest is sent as room comes, for a few seconds at most; after that the stream's
// writes are shut (-EPIPE), since a datagram cut short can't be taken back.
ssize_t SendDatagram(int sock, const uint8_t* bytes, size_t length);

// The bytes of the datagrams queued at `sock` (headers not counted; a datagram still
// arriving counts with what of it has come).
size_t QueuedDatagramBytes(int sock);

}  // namespace zxc
