// libFuzzer target for the record parser and the receive path (docs/wire-format.md):
// each input is up to four records, each with real descriptors of a chosen kind beside
// it, sent over a real SOCK_SEQPACKET pair and read back by an Endpoint the way the addon
// reads (with or without the caller's buffer, tight limits, MAY_DISCARD, a pending
// call, a peer that hung up, a reader with only a few descriptors left). After each
// input every handle it produced is closed, and the process must hold exactly the
// descriptors and handles it held before.
// Built and run by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
//
// Input: flags (1 byte), limits (1 byte), descriptors left (1 byte: with bit 3, the reader
// may open only `low 3 bits` more descriptors while it reads), then per record: a
// descriptor count (1 byte), that many descriptor kinds (1 byte each), a length (2 bytes,
// little-endian) and the record's bytes (as many as are left, if fewer).
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/endpoint.h"
#include "core/handle_table.h"
#include "core/socket_util.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

enum Flag : uint8_t {
  kInto = 1 << 0,         // read into a caller's buffer of max_bytes
  kMayDiscard = 1 << 1,   // ZX_CHANNEL_READ_MAY_DISCARD
  kTightLimits = 1 << 2,  // max_bytes and max_handles from the limits byte
  kPendingCall = 1 << 3,  // a call waits on txid 0x80000001 while the records arrive
  kFixHeader = 1 << 4,    // magic, version, flags and num_bytes made valid
  kPeerClosed = 1 << 5,   // the writer hangs up before the reads
  kNoRights = 1 << 6,     // ReadResult::want_rights = false
  kOversize = 1 << 7,     // the last record padded past the largest valid one
};

constexpr size_t kMaxRecords = 4;
constexpr size_t kMaxDescriptorsPerRecord = 8;
constexpr size_t kPage = 4096;

void Fail(const char* what) {
  std::fprintf(stderr, "wire_format_fuzzer: %s\n", what);
  std::abort();
}

// The open descriptors.
std::vector<int> OpenDescriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) Fail("opendir /proc/self/fd");
  std::vector<int> fds;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') fds.push_back(std::atoi(entry->d_name));
  const int own = dirfd(dir);
  closedir(dir);
  fds.erase(std::remove(fds.begin(), fds.end(), own), fds.end());
  return fds;
}

// While it lives, the process may open only `spare` more descriptors (RLIMIT_NOFILE set
// just above the spare-th free number), so a receive runs out: MSG_CTRUNC.
class FewDescriptorsLeft {
 public:
  explicit FewDescriptorsLeft(uint8_t setting) {
    if (!(setting & 8) || getrlimit(RLIMIT_NOFILE, &saved_) != 0) return;
    std::vector<int> open = OpenDescriptors();
    std::sort(open.begin(), open.end());
    size_t spare = setting & 7, next = 0;
    int limit = 0;
    for (;; ++limit) {
      if (next < open.size() && open[next] == limit) {
        ++next;
        continue;
      }
      if (spare-- == 0) break;
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(limit);
    active_ = setrlimit(RLIMIT_NOFILE, &low) == 0;
  }
  ~FewDescriptorsLeft() {
    if (active_ && setrlimit(RLIMIT_NOFILE, &saved_) != 0) Fail("setrlimit");
  }

 private:
  rlimit saved_{};
  bool active_ = false;
};

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), left_(size) {}
  uint8_t Byte() {
    if (!left_) return 0;
    --left_;
    return *data_++;
  }
  const uint8_t* Take(size_t* n) {
    *n = std::min(*n, left_);
    const uint8_t* at = data_;
    data_ += *n;
    left_ -= *n;
    return at;
  }
  bool empty() const { return left_ == 0; }

 private:
  const uint8_t* data_;
  size_t left_;
};

int Memfd(unsigned seals, off_t size) {
  const int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (ftruncate(fd, size) != 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
    close(fd);
    return -1;
  }
  return fd;
}

// A descriptor of one of the kinds a record may carry, right or wrong for its entry.
// The other end of a pair is closed at once (a peer that is gone).
int MakeDescriptor(uint8_t kind) {
  int pair[2];
  switch (kind % 11) {
    case 0:
    case 1: {  // a channel end; an eventpair's or a datagram socket's first descriptor
      const int type = kind % 11 == 0 ? SOCK_SEQPACKET : SOCK_STREAM;
      if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) != 0) return -1;
      close(pair[1]);
      return pair[0];
    }
    case 2:
      return Memfd(F_SEAL_SHRINK, kPage);  // an event's signal page
    case 3:
      return eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);  // an event's doorbell
    case 4:
      return Memfd(0, kPage);  // a resizable VMO
    case 5:
      return Memfd(F_SEAL_SHRINK | F_SEAL_GROW, kPage);  // a fixed-size VMO
    case 6:
      return Memfd(F_SEAL_SHRINK | F_SEAL_WRITE, kPage);  // write-sealed
    case 7:
      return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);  // never connected
    case 8:
      if (pipe2(pair, O_CLOEXEC) != 0) return -1;
      close(pair[1]);
      return pair[0];
    case 9:
      return open("/dev/null", O_RDONLY | O_CLOEXEC);
    default:
      return eventfd(0, EFD_CLOEXEC);  // a doorbell that never rings
  }
}

bool SendRecord(int sock, const uint8_t* bytes, size_t length, const std::vector<int>& fds) {
  iovec iov{const_cast<uint8_t*>(bytes), length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int) * kMaxDescriptorsPerRecord)];
  std::memset(control, 0, sizeof control);
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

// The parser alone: what it accepts is consistent and inside the record.
void CheckParse(const uint8_t* data, size_t length) {
  ParsedRecord record;
  if (ParseRecord(data, length, &record) != ZX_OK) return;
  const WireHeader& h = record.header;
  if (h.num_handles > kMaxMsgHandles || h.num_bytes > kMaxMsgBytes ||
      record.payload != data + RecordPrefixSize(h.num_handles) ||
      record.payload + h.num_bytes != data + length)
    Fail("ParseRecord accepted an inconsistent record");
  for (size_t i = 0; i < h.num_handles; ++i) (void)HandleEntryAt(record, i);
}

class FuzzCall final : public CallWaiter {
 public:
  void Notify() override {}
};

// Each received object is looked at once (its signals, its descriptors), then closed.
void UseAndClose(const ReadResult& result) {
  for (uint32_t i = 0; i < result.actual_handles; ++i) {
    HandleInfo info;
    if (HandleTable::Get().Lookup(result.handles[i], &info) != ZX_OK)
      Fail("a received handle is not in the table");
    (void)info.object->Signals();
    int fds[kMaxObjectFds];
    (void)info.object->Descriptors(fds);
    info = HandleInfo();
    if (HandleClose(result.handles[i]) != ZX_OK) Fail("a received handle could not be closed");
  }
}

void ReadAll(Endpoint& endpoint, uint8_t flags, uint8_t limits, size_t records) {
  uint32_t max_bytes = kMaxMsgBytes, max_handles = kMaxMsgHandles;
  if (flags & kTightLimits) {
    max_bytes = (limits >> 3) * 512u;
    max_handles = limits & 7u;
  }
  const uint32_t options = (flags & kMayDiscard) ? ZX_CHANNEL_READ_MAY_DISCARD : 0;
  std::vector<uint8_t> into(flags & kInto ? max_bytes + 1 : 0);
  for (size_t i = 0; i <= records; ++i) {
    ReadResult result;
    result.want_rights = !(flags & kNoRights);
    const zx_status_t status = endpoint.Read(options, max_bytes, max_handles, &result, nullptr,
                                             flags & kInto ? into.data() : nullptr);
    switch (status) {
      case ZX_OK:
        if (result.actual_bytes > max_bytes || result.actual_handles > max_handles)
          Fail("a read returned more than its limits");
        if ((flags & kInto) && result.payload != into.data())
          Fail("a read with a buffer left the payload elsewhere");
        if (result.actual_bytes && !result.payload) Fail("a payload without bytes");
        UseAndClose(result);
        break;
      case ZX_ERR_BUFFER_TOO_SMALL:
        if (result.actual_bytes <= max_bytes && result.actual_handles <= max_handles)
          Fail("BUFFER_TOO_SMALL for a message that fits");
        break;
      case ZX_ERR_IO_DATA_INTEGRITY:
      case ZX_ERR_NO_RESOURCES:
        break;
      case ZX_ERR_SHOULD_WAIT:
      case ZX_ERR_PEER_CLOSED:
        return;
      default:
        Fail("a read answered a status it never should");
    }
    if (flags & kInto) {
      // Never written past max_bytes.
      if (into[max_bytes] != 0) Fail("a read wrote past the caller's buffer");
    }
  }
}

void RunOne(const uint8_t* data, size_t size) {
  Cursor in(data, size);
  const uint8_t flags = in.Byte();
  const uint8_t limits = in.Byte();
  const uint8_t descriptors_left = in.Byte();

  EndpointRef reader, writer;
  if (Endpoint::CreatePair(&reader, &writer) != ZX_OK) Fail("no endpoint pair");

  size_t records = 0;
  std::vector<uint8_t> record;
  while (!in.empty() && records < kMaxRecords) {
    std::vector<int> fds;
    const size_t count = in.Byte() % (kMaxDescriptorsPerRecord + 1);
    for (size_t i = 0; i < count; ++i) {
      const int fd = MakeDescriptor(in.Byte());
      if (fd >= 0) fds.push_back(fd);
    }
    size_t length = in.Byte();
    length |= static_cast<size_t>(in.Byte()) << 8;
    const uint8_t* bytes = in.Take(&length);
    record.assign(bytes, bytes + length);
    if ((flags & kFixHeader) && record.size() >= sizeof(WireHeader)) {
      WireHeader header;
      std::memcpy(&header, record.data(), sizeof header);
      header.magic = kWireMagic;
      header.version = kWireVersion;
      header.flags = 0;
      header.num_handles %= kMaxMsgHandles + 1;
      const size_t prefix = RecordPrefixSize(header.num_handles);
      if (record.size() >= prefix) header.num_bytes = static_cast<uint32_t>(record.size() - prefix);
      std::memcpy(record.data(), &header, sizeof header);
    }
    if ((flags & kOversize) && (in.empty() || records + 1 == kMaxRecords))
      record.resize(kReceiveBufferBytes + 1);
    CheckParse(record.data(), record.size());
    if (SendRecord(writer->fd(), record.data(), record.size(), fds)) ++records;
    CloseAll(fds.data(), fds.size());
  }
  if (flags & kPeerClosed) writer.reset();

  FewDescriptorsLeft few(descriptors_left);
  FuzzCall call;
  if (flags & kPendingCall) {
    reader->RegisterCall(&call);
    if (call.txid != 0x80000001u) Fail("the first call on an endpoint is not txid 0x80000001");
    (void)reader->Signals();  // routes a reply, stashes what comes before it
    reader->PumpForCalls(kMaxRecords);
    (void)reader->UnregisterCall(&call);  // false when it was done: then nobody holds it
  }
  ReadAll(*reader, flags, limits, records);
}

}  // namespace
}  // namespace zxc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t descriptors = zxc::OpenDescriptors().size();
  const size_t handles = zxc::HandleTable::Get().size();
  zxc::RunOne(data, size);
  if (zxc::HandleTable::Get().size() != handles) zxc::Fail("handles leaked");
  if (zxc::OpenDescriptors().size() != descriptors) zxc::Fail("descriptors leaked");
  return 0;
}
