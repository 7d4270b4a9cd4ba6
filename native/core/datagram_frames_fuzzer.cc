// libFuzzer target for DATAGRAM socket ends on a stream (datagram_frames.h; docs/wire-format.md,
// "Datagram sockets on a stream"): each input is what a writer outside the library puts on
// the stream, written in pieces over a real SOCK_STREAM pair (with descriptors attached, if
// asked), read after every piece the way a socket end reads. What is delivered must be
// exactly what a model parse of the bytes gives: whole datagrams only, in order, cut to the
// read's length, none after bytes that are no header. After each input the process must
// hold exactly the descriptors it held before.
// Built and run by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
//
// Input: flags (1 byte: bit 0 peek before each read, bit 1 the writer closes at the end,
// bit 2 a pipe's two descriptors ride on each of the first 64 pieces (more would
// pass the kernel's bound on descriptors in flight), bits 4..7 the piece size, 1 << n
// bytes), the read length (1 byte: 1 + 97 × n bytes), then the stream's bytes.
#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/datagram_frames.h"
#include "core/platform.h"
#include "core/socket_util.h"
#include "core/transport_stream.h"

namespace zxc {
namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "datagram_frames_fuzzer: %s\n", what);
  std::abort();
}

size_t OpenDescriptorCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) Fail("opendir /proc/self/fd");
  size_t count = 0;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  closedir(dir);
  return count - 1;  // the listing's own
}

// What a reader must see of `bytes` so far: the whole datagrams from `at` on, and whether
// the stream went bad (bytes that are no header) after them.
struct Model {
  std::vector<std::vector<uint8_t>> datagrams;
  bool broken = false;
};

Model Parse(const std::vector<uint8_t>& bytes) {
  Model model;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t left = bytes.size() - at;
    const uint32_t magic = kDatagramMagic;
    if (std::memcmp(bytes.data() + at, &magic, std::min(left, sizeof magic)) != 0) {
      model.broken = true;
      break;
    }
    if (left < sizeof(DatagramHeader)) break;
    DatagramHeader header;
    std::memcpy(&header, bytes.data() + at, sizeof header);
    if (header.num_bytes > kMaxDatagramBytes) {
      model.broken = true;
      break;
    }
    if (left < sizeof header + header.num_bytes) break;
    const uint8_t* payload = bytes.data() + at + sizeof header;
    model.datagrams.emplace_back(payload, payload + header.num_bytes);
    at += sizeof header + header.num_bytes;
  }
  return model;
}

// Sends what the socket takes now of a piece (a small piece costs the kernel far more than
// its bytes, so a stream of them fills the buffer): the bytes sent.
size_t SendPiece(int sock, const uint8_t* bytes, size_t length, bool with_fds) {
  iovec iov{const_cast<uint8_t*>(bytes), length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  int pipe_fds[2] = {-1, -1};
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(2 * sizeof(int))];
  if (with_fds && pipe(pipe_fds) == 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    std::memcpy(CMSG_DATA(c), pipe_fds, sizeof pipe_fds);
  }
  size_t done = 0;
  while (done < length) {
    iov = iovec{const_cast<uint8_t*>(bytes) + done, length - done};
    const ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && IsFullErrno(errno)) break;
    if (n <= 0) {
      std::perror("sendmsg");
      Fail("sendmsg");
    }
    done += static_cast<size_t>(n);
    msg.msg_control = nullptr;  // the descriptors ride on the first byte only
    msg.msg_controllen = 0;
  }
  CloseAll(pipe_fds, 2);
  return done;
}

}  // namespace
}  // namespace zxc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zxc;
  if (size < 2) return 0;
  const size_t before = OpenDescriptorCount();
  const uint8_t flags = data[0];
  const size_t read_length = 1 + 97 * static_cast<size_t>(data[1]);
  const size_t piece = size_t{1} << (flags >> 4);
  const std::vector<uint8_t> input(data + 2, data + size);

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) Fail("socketpair");
  const int reader = pair[0];
  std::vector<uint8_t> written;
  size_t delivered = 0;
  bool broken = false;
  std::vector<uint8_t> out(read_length), peeked(read_length);
  // Reads what is whole now, checking each datagram against the model.
  auto read_all = [&]() {
    const Model model = Parse(written);
    while (!broken) {
      size_t num_bytes;
      const zx_status_t head = DatagramAtHead(reader, &num_bytes);
      if (head == ZX_ERR_IO_DATA_INTEGRITY) {
        if (!model.broken || delivered != model.datagrams.size()) Fail("broken too early");
        StreamBreak(reader);
        broken = true;
        return;
      }
      if (head == ZX_ERR_SHOULD_WAIT) {
        if (delivered != model.datagrams.size()) Fail("a whole datagram not seen");
        return;
      }
      if (head != ZX_OK) Fail("unexpected status");
      if (delivered >= model.datagrams.size()) Fail("a datagram the model has not");
      const std::vector<uint8_t>& expected = model.datagrams[delivered];
      if (num_bytes != expected.size()) Fail("wrong size");
      const size_t give = std::min(read_length, num_bytes);
      if (flags & 1) {
        if (ReceiveDatagram(reader, num_bytes, peeked.data(), read_length, true) !=
            static_cast<ssize_t>(give))
          Fail("peek length");
      }
      if (ReceiveDatagram(reader, num_bytes, out.data(), read_length, false) !=
          static_cast<ssize_t>(give))
        Fail("read length");
      if (!std::equal(out.begin(), out.begin() + give, expected.begin())) Fail("wrong bytes");
      if ((flags & 1) && !std::equal(out.begin(), out.begin() + give, peeked.begin()))
        Fail("peek differs");
      ++delivered;
    }
  };
  for (size_t at = 0; at < input.size() && !broken; at += piece) {
    const size_t n = std::min(piece, input.size() - at);
    const size_t sent = SendPiece(pair[1], input.data() + at, n, (flags & 4) && at / piece < 64);
    written.insert(written.end(), input.begin() + at, input.begin() + at + sent);
    read_all();
    if (sent < n) break;  // full: the writer stops there
  }
  if (flags & 2) {
    close(pair[1]);
    pair[1] = -1;
    read_all();
    if (!broken && QueuedDatagramBytes(reader) > 0 && !PeerHasShutDown(reader)) Fail("no end seen");
  } else if (!broken) {
    // What is queued counts as the model's incomplete tail: never a whole datagram.
    read_all();
  }
  CloseAll(pair, 2);
  if (OpenDescriptorCount() != before) Fail("descriptors leaked");
  return 0;
}
