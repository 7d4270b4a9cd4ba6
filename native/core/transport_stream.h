// Channels as frames on a SOCK_STREAM socket (the portable backend, platform.h;
// docs/wire-format.md, "Framed streams"). A frame is one record, back to back with the
// next: its header says how long it is (RecordPrefixSize(num_handles) + num_bytes), and
// its descriptors ride with its first byte. A frame is read only once all of it is queued
// in the kernel, so nothing is ever buffered here and an endpoint moves to another process
// with its whole queue; a sender's unsent tail waits in the endpoint's outbound queue.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

#include "core/types.h"
#include "core/wire_format.h"

namespace zxc {

// What a reader knows of its stream's head without asking the kernel again (it alone
// reads the socket): how many bytes are queued, and the headers of the next frames, all
// from one look. On Linux a peek (and FIONREAD) walks the whole receive queue, whatever
// it asks for, so asking once for many frames keeps a read at one recvmsg. Only a copy of
// what the kernel holds: the bytes stay queued, and a process the endpoint moves to starts
// with nothing known.
class StreamHead {
 public:
  // A frame of `length` bytes, the first known, was read.
  void Consumed(size_t length);

 private:
  friend zx_status_t StreamFrameAtHead(int sock, StreamHead* head, WireHeader* header,
                                       size_t* length);
  static constexpr size_t kHeaders = 64;
  size_t known_ = 0;  // bytes queued, at least
  WireHeader headers_[kHeaders];
  size_t first_ = 0, count_ = 0;
};

// What heads the stream `sock`: ZX_OK, a whole frame (*header, *length); SHOULD_WAIT,
// nothing or only part of one; PEER_CLOSED, the end of the stream (a part of a frame
// before it is never delivered); IO_DATA_INTEGRITY, bytes that are no record's header (the
// stream can't be read on). Nothing is consumed and no descriptor installed.
zx_status_t StreamFrameAtHead(int sock, StreamHead* head, WireHeader* header, size_t* length);

// Looks at up to `length` bytes at the head without taking them (or installing any
// descriptor); the bytes seen, or -1 with errno.
ssize_t StreamPeek(int sock, uint8_t* out, size_t length);

// Reads exactly `length` bytes, all queued (StreamFrameAtHead said so), into `iov` (at
// least `length` long), with the descriptors that came with them (at most `capacity`
// kept, the rest closed; *ctrunc when the kernel could not install them all). The bytes
// read, or -errno.
ssize_t StreamReceiveFrame(int sock, const iovec* iov, size_t iov_count, size_t length, int* fds,
                           size_t capacity, size_t* num_fds, bool* ctrunc);

// Reads the frame at the head (`length` bytes) and throws it away, its descriptors closed.
void StreamDiscardFrame(int sock, size_t length);

// Ends a stream that can't be read on (bytes that are no header): shut both ways, and
// whatever is queued thrown away, its descriptors closed, as closing the channel would.
// (XNU flushes the queue at shutdown already; Linux keeps it until the socket is closed.)
void StreamBreak(int sock);

// Asks for room for frames in both directions (SO_SNDBUF, SO_RCVBUF): two of the largest
// at least, so that a frame larger than the default buffers (8 KiB on macOS) never stalls
// half sent. As much as a SEQPACKET endpoint asks for (Linux doubles it: 2 MiB), so both
// backends hold as many messages in the kernel; on macOS (8 KiB by default, not doubled,
// at most kern.ipc.maxsockbuf = 8 MiB) 1 MiB, 15 of the largest frames.
constexpr int kStreamBufferBytes = 1 << 20;
void StreamConfigureBuffers(int sock);

}  // namespace zxc
