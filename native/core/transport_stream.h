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

// What heads the stream `sock`: ZX_OK, a whole frame (*header, *length); SHOULD_WAIT,
// nothing or only part of one; PEER_CLOSED, the end of the stream (a part of a frame
// before it is never delivered); IO_DATA_INTEGRITY, bytes that are no record's header (the
// stream can't be read on). Nothing is consumed and no descriptor installed.
zx_status_t StreamFrameAtHead(int sock, WireHeader* header, size_t* length);

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

// Asks for room for frames in both directions: two of the largest at least, so that a
// frame larger than the default buffers (8 KiB on macOS) never stalls half sent.
void StreamConfigureBuffers(int sock);

}  // namespace zxc
