// A port in a message (docs/wire-format.md, "Ports in a message"): what travels is a
// sealed file holding the port's queued user packets (a memfd; on the portable backend an
// unlinked temporary file, NewSealedFile), and the read end of a pipe. The
// sender keeps the port, with the pipe's write end, in a registry until the read end is
// closed: by a receiver in this process, which takes the very port back (its packets and
// observers with it), or by one in another process, which makes a port of its own from
// the packets, or by the kernel, when the message is dropped unread.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/errno_status.h"
#include "core/platform.h"
#include "core/port.h"
#include "core/shared_memory.h"

namespace zxc {
namespace {

// The memfd's header; the packets (zx_port_packet_t, 48 bytes each) follow.
struct TransferHeader {
  uint32_t magic;  // kTransferMagic
  uint32_t count;  // user packets
  uint64_t pid;    // the sending process
  uint64_t token;  // the sender's registry entry
};
static_assert(sizeof(TransferHeader) == 24, "the header is 24 bytes");
constexpr uint32_t kTransferMagic = 0x5450585A;  // "ZXPT"

struct InTransit {
  int lifeline;  // the pipe's write end
  std::shared_ptr<Port> port;
};

// Ports in messages not yet received. Never destroyed: late threads may use it.
struct TransitRegistry {
  std::mutex mu;
  std::unordered_map<uint64_t, InTransit> entries;
  std::atomic<uint64_t> next_token{0};
};

TransitRegistry& Transits() {
  static TransitRegistry* registry = new TransitRegistry();
  return *registry;
}

// Lets go of the ports whose message was received elsewhere or dropped (the read end is
// closed: the write end polls POLLERR). The ports are released by the caller, outside
// the registry's lock (their release closes watches, which takes other locks).
void SweepTransits(std::vector<std::shared_ptr<Port>>* released) {
  TransitRegistry& r = Transits();
  std::lock_guard<std::mutex> lock(r.mu);
  for (auto it = r.entries.begin(); it != r.entries.end();) {
    pollfd p{it->second.lifeline, 0, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) {
      close(it->second.lifeline);
      released->push_back(std::move(it->second.port));
      it = r.entries.erase(it);
      g_ports_in_transit.fetch_sub(1, std::memory_order_relaxed);
    } else {
      ++it;
    }
  }
}

bool ReadHeader(int memfd, TransferHeader* header) {
  struct stat st;
  if (fstat(memfd, &st) != 0) return false;
  if (pread(memfd, header, sizeof *header, 0) != static_cast<ssize_t>(sizeof *header)) return false;
  return header->magic == kTransferMagic && header->count <= kMaxUserPackets + 1 &&
         static_cast<uint64_t>(st.st_size) ==
             sizeof *header + uint64_t{header->count} * sizeof(PortPacket);
}

bool IsPipe(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// What travels for a port: the memfd (fd()) and the pipe's read end.
class PortInTransit final : public Object {
 public:
  PortInTransit(int memfd, int read_end, zx_koid_t koid)
      : Object(ZX_OBJ_TYPE_PORT, memfd, koid, ZX_KOID_INVALID), read_end_(read_end) {}
  ~PortInTransit() override { close(read_end_); }
  size_t Descriptors(int* out) const override {
    out[0] = fd();
    out[1] = read_end_;
    return 2;
  }
  zx_signals_t Signals() override { return 0; }

 private:
  const int read_end_;
};

ObjectRef AdoptPort(const int* fds, zx_koid_t koid, zx_koid_t) {
  TransferHeader header;
  ObjectRef port;
  if (ReadHeader(fds[0], &header)) {
    if (header.pid == static_cast<uint64_t>(getpid())) {
      // Sent by this process: the port itself, if it is still in the registry.
      TransitRegistry& r = Transits();
      std::lock_guard<std::mutex> lock(r.mu);
      auto it = r.entries.find(header.token);
      if (it != r.entries.end() && it->second.port->koid() == koid) {
        close(it->second.lifeline);
        port = std::move(it->second.port);
        r.entries.erase(it);
        g_ports_in_transit.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (!port) {
      std::vector<PortPacket> packets(header.count);
      const size_t bytes = packets.size() * sizeof(PortPacket);
      if (pread(fds[0], packets.data(), bytes, sizeof header) == static_cast<ssize_t>(bytes))
        port = Port::FromPackets(packets.data(), packets.size(), koid);
    }
  }
  close(fds[0]);
  close(fds[1]);  // the sender lets its copy go
  return port;
}

}  // namespace

std::atomic<size_t> g_ports_in_transit{0};

void ReleaseDeliveredPortsNow() {
  std::vector<std::shared_ptr<Port>> released;
  SweepTransits(&released);
}

const ObjectKind kPortKind{
    ZX_OBJ_TYPE_PORT,
    2,
    [](const int* fds) {
      TransferHeader header;
      return IsSealedFile(fds[0]) && ReadHeader(fds[0], &header) && IsPipe(fds[1]);
    },
    AdoptPort,
    [](const int*) { return ~zx_rights_t{0}; },
};

std::shared_ptr<Object> Port::ForTransfer(zx_rights_t, bool) {
  std::vector<std::shared_ptr<Port>> released;
  SweepTransits(&released);
  const std::vector<PortPacket> packets = UserPackets();
  TransitRegistry& r = Transits();
  const uint64_t token = r.next_token.fetch_add(1) + 1;
  const TransferHeader header{kTransferMagic, static_cast<uint32_t>(packets.size()),
                              static_cast<uint64_t>(getpid()), token};
  const int memfd =
      NewSealedFile(&header, sizeof header, packets.data(), packets.size() * sizeof(PortPacket));
  if (memfd < 0) return nullptr;
  int pipe_fds[2];
  if (PipePair(pipe_fds) != 0) {
    close(memfd);
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(r.mu);
    r.entries.emplace(token,
                      InTransit{pipe_fds[1], std::static_pointer_cast<Port>(shared_from_this())});
    g_ports_in_transit.fetch_add(1, std::memory_order_relaxed);
  }
  return std::make_shared<PortInTransit>(memfd, pipe_fds[0], koid());
}

}  // namespace zxc
