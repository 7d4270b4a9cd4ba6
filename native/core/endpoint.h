// One channel endpoint: a SOCK_SEQPACKET socket, its ordered outbound queue (for when
// the socket is full) and reads of one record at a time (nothing is read ahead, so the
// kernel queue travels with the descriptor when the endpoint moves).
#pragma once
#include <sys/uio.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "core/object.h"
#include "core/wire_format.h"

namespace zxc {

class Endpoint;
using EndpointRef = std::shared_ptr<Endpoint>;

// How the event-loop layer takes part in flushing: `current_owner` names the loop of the
// calling thread (nullptr on threads without one); `arm` starts watching `endpoint` for
// writability on that loop, after the endpoint has recorded `owner` as its watcher.
struct WatchHooks {
  void* (*current_owner)() = nullptr;
  void (*arm)(const EndpointRef& endpoint, void* owner) = nullptr;
};
void SetWatchHooks(const WatchHooks& hooks);

struct ReadResult {
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  const uint8_t* payload = nullptr;  // valid until this thread's next read
  zx_handle_t handles[kMaxMsgHandles];
  zx_obj_type_t types[kMaxMsgHandles];
  zx_rights_t rights[kMaxMsgHandles];
};

class Endpoint : public Object {
 public:
  Endpoint(int fd, zx_koid_t koid, zx_koid_t related_koid);

  // A connected pair of endpoints (socketpair + buffer sizing).
  static zx_status_t CreatePair(EndpointRef* out0, EndpointRef* out1);
  // Prepares a SEQPACKET descriptor from elsewhere (CLOEXEC, send buffer) to be an endpoint.
  static void ConfigureSocket(int fd);

  // Sends one record (prefix = header + handle table, then the payload pieces) with the
  // carried objects' descriptors, or queues it behind what is already queued.
  // The carried objects are released once the record is sent or dropped.
  zx_status_t Send(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                   size_t payload_count, std::vector<ObjectRef>&& carried);

  // Called by the watcher on `owner`'s loop when the socket is writable; false when
  // the watcher should stop (nothing left it can send now; the claim is dropped).
  bool FlushForWatcher(void* owner);
  // The loop `owner` is going away: forget it as this endpoint's watcher.
  void DropWatcher(void* owner);

  size_t queued() const { return queued_.load(std::memory_order_acquire); }

  // Reads one record: ZX_ERR_SHOULD_WAIT, PEER_CLOSED, BUFFER_TOO_SMALL (with the real
  // sizes), IO_DATA_INTEGRITY (bad record dropped), NO_RESOURCES (descriptors lost).
  zx_status_t Read(uint32_t options, uint32_t max_bytes, uint32_t max_handles, ReadResult* out);

  // READABLE / WRITABLE / PEER_CLOSED as they are now.
  zx_signals_t Signals();

  // Every endpoint with queued messages, flushed until drained (or the peer is gone).
  static void FlushAllBlocking(int64_t no_progress_timeout_ms);

  // A record waiting in the outbound queue, with the objects whose descriptors it carries.
  struct OutRecord {
    std::vector<uint8_t> data;
    std::vector<ObjectRef> carried;
  };

 private:
  enum class FlushState { kEmpty, kNeedWritable, kBlocked };

  int SendRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                 size_t payload_count, const std::vector<ObjectRef>& carried);
  FlushState FlushLocked();
  bool HeadBlockedLocked(const OutRecord& head);
  void AddDependent(const EndpointRef& dependent);
  // After the queue drained: leave the registry, flush endpoints that waited on us.
  void AfterDrained();
  // Flush from outside a watcher; arms a watcher on the calling thread's loop if needed.
  void FlushAndArm();
  bool ClaimWatchLocked(void** owner);

  std::mutex mu_;  // orders sends; guards queue_, watch_owner_, peer_gone_
  std::deque<OutRecord> queue_;
  std::atomic<size_t> queued_{0};
  void* watch_owner_ = nullptr;
  bool peer_gone_ = false;

  std::mutex read_mu_;  // a size peek and the read that follows it see the same record

  std::mutex dependents_mu_;  // leaf lock
  std::vector<std::weak_ptr<Endpoint>> dependents_;
};

}  // namespace zxc
