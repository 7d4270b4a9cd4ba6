// zx_channel_create / write / write_etc / read / call / call_etc, with Zircon's order of
// checks (README.md, "API": the sys face's statuses; docs/wire-format.md for the record).
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "core/blocking_wait.h"
#include "core/handle_table.h"
#include "core/object_kinds.h"
#include "core/platform.h"
#include "core/port.h"
#include "core/syscalls.h"
#include "core/thread_wake.h"
#include "core/wire_format.h"

namespace zxc {
namespace {

constexpr size_t kTxidBytes = sizeof(uint32_t);

// One disposition entry, as zx_channel_write_etc treats it (README.md, channelWriteEtc).
zx_status_t TakeForTransfer(HandleDisposition& d, const Object* target, HandleInfo* out) {
  HandleTable& table = HandleTable::Get();
  const bool duplicate = d.operation == ZX_HANDLE_OP_DUPLICATE;
  HandleInfo info;
  zx_status_t status = duplicate ? table.Lookup(d.handle, &info) : table.Remove(d.handle, &info);
  if (status != ZX_OK) return status;
  if (!duplicate && d.operation != ZX_HANDLE_OP_MOVE) return ZX_ERR_INVALID_ARGS;
  if (!(info.rights & ZX_RIGHT_TRANSFER)) return ZX_ERR_ACCESS_DENIED;
  if (info.object.get() == target) return ZX_ERR_NOT_SUPPORTED;
  if (!KindOf(info.object->type())) return ZX_ERR_NOT_SUPPORTED;
  if (d.type != ZX_OBJ_TYPE_NONE && d.type != info.object->type()) return ZX_ERR_WRONG_TYPE;
  if (!RightsSubset(d.rights, info.rights)) return ZX_ERR_INVALID_ARGS;
  if (duplicate && !(info.rights & ZX_RIGHT_DUPLICATE)) return ZX_ERR_ACCESS_DENIED;
  info.rights = ResolveRights(d.rights, info.rights);
  *out = std::move(info);
  return ZX_OK;
}

// An endpoint holding messages a call stepped over can't move: they would stay behind.
bool MovesEndpointWithStash(const HandleDisposition* dispositions, size_t count) {
  if (!Endpoint::AnyHasStash()) return false;  // the usual case: no table lookups
  for (size_t i = 0; i < count; ++i) {
    HandleInfo info;
    if (HandleTable::Get().Lookup(dispositions[i].handle, &info) != ZX_OK) continue;
    if (info.object->type() == ZX_OBJ_TYPE_CHANNEL &&
        static_cast<Endpoint*>(info.object.get())->HasStash())
      return true;
  }
  return false;
}

// A message checked and ready to send: the target endpoint, the record prefix and the
// objects whose descriptors go with it.
struct OutgoingMessage {
  EndpointRef endpoint;
  uint8_t prefix[RecordPrefixSize(kMaxMsgHandles)];
  size_t prefix_size = 0;
  std::vector<ObjectRef> carried;
};

// The checks and handle transfer shared by write, write_etc, call and call_etc. Handles
// are consumed on every failure but BAD_STATE.
zx_status_t PrepareMessage(zx_handle_t h, uint32_t options, zx_rights_t required,
                           const iovec* payload, size_t payload_count, size_t min_bytes,
                           HandleDisposition* dispositions, size_t num_dispositions,
                           OutgoingMessage* out, bool make_pages = true) {
  auto fail = [&](zx_status_t status) {
    ConsumeDispositions(dispositions, num_dispositions);
    return status;
  };
  if (options & ~ZX_CHANNEL_WRITE_USE_IOVEC) return fail(ZX_ERR_INVALID_ARGS);
  HandleInfo target;
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, required, &target);
  if (status != ZX_OK) return fail(status);
  if ((options & ZX_CHANNEL_WRITE_USE_IOVEC) && payload_count > ZX_CHANNEL_MAX_MSG_IOVECS)
    return fail(ZX_ERR_OUT_OF_RANGE);
  uint64_t num_bytes = 0;
  for (size_t i = 0; i < payload_count; ++i) num_bytes += payload[i].iov_len;
  if (num_bytes > kMaxMsgBytes || num_dispositions > kMaxMsgHandles)
    return fail(ZX_ERR_OUT_OF_RANGE);
  if (num_bytes < min_bytes) return fail(ZX_ERR_INVALID_ARGS);
  if (MovesEndpointWithStash(dispositions, num_dispositions)) return ZX_ERR_BAD_STATE;

  // Every entry is processed; the first failure is latched and returned.
  out->carried.reserve(num_dispositions);
  WireHandle entries[kMaxMsgHandles];
  zx_status_t first_error = ZX_OK;
  for (size_t i = 0; i < num_dispositions; ++i) {
    HandleInfo moved;
    zx_status_t result = TakeForTransfer(dispositions[i], target.object.get(), &moved);
    if (result != ZX_OK) {
      dispositions[i].result = result;
      if (first_error == ZX_OK) first_error = result;
      continue;
    }
    ObjectRef carried = moved.object->ForTransfer(moved.rights, !make_pages);
    if (!carried) {  // out of descriptors (a port's copy)
      dispositions[i].result = ZX_ERR_NO_RESOURCES;
      if (first_error == ZX_OK) first_error = ZX_ERR_NO_RESOURCES;
      continue;
    }
    moved.object.reset();
    const Object& object = *carried;
    entries[out->carried.size()] =
        WireHandle{WireTypeOf(object), moved.rights, object.koid(), object.related_koid()};
    out->carried.push_back(std::move(carried));
  }
  if (first_error != ZX_OK) {
    out->carried.clear();  // moved objects are released: closed unless held elsewhere
    return first_error;
  }
  out->prefix_size = RecordPrefixSize(out->carried.size());
  EncodeRecordPrefix(out->prefix, static_cast<uint32_t>(num_bytes), entries,
                     static_cast<uint16_t>(out->carried.size()));
  out->endpoint = std::static_pointer_cast<Endpoint>(std::move(target.object));
  return ZX_OK;
}

// The payload with its first 4 bytes replaced by `txid` (no copy: the pieces are re-cut).
std::vector<iovec> WithTxid(const uint32_t* txid, const iovec* payload, size_t payload_count) {
  std::vector<iovec> pieces;
  pieces.reserve(payload_count + 1);
  pieces.push_back(iovec{const_cast<uint32_t*>(txid), kTxidBytes});
  size_t skip = kTxidBytes;
  for (size_t i = 0; i < payload_count; ++i) {
    size_t len = payload[i].iov_len;
    size_t cut = skip < len ? skip : len;
    skip -= cut;
    if (len > cut)
      pieces.push_back(iovec{static_cast<uint8_t*>(payload[i].iov_base) + cut, len - cut});
  }
  return pieces;
}

class SyncCallWaiter final : public CallWaiter {
 public:
  explicit SyncCallWaiter(WakeFlag wake) : wake_(wake), caller_(std::this_thread::get_id()) {}
  // The caller routing its own reply asks CallDone next: no need to wake itself.
  void Notify() override {
    if (std::this_thread::get_id() != caller_) wake_.Set();
  }

 private:
  WakeFlag wake_;
  std::thread::id caller_;
};

// Blocks until the call's reply, its deadline, its peer's end or its handle's close.
zx_status_t AwaitReply(zx_handle_t h, Endpoint& endpoint, SyncCallWaiter& waiter,
                       zx_time_t deadline, WakeFlag wake) {
  CloseWaker waker(wake, true);  // a replace of the handle lets the call go on
  HandleTable& table = HandleTable::Get();
  const bool observing = table.AddObserver(h, &waker) == ZX_OK;
  if (!observing) waker.OnHandleRemoved();
  int edges = -1;             // a framed endpoint's, once its socket showed part of a frame
  size_t polled_count = 1;    // how many of fds[] the last sleep watched
  bool sent_just_now = true;  // the reply can't be there yet: wait before reading
  pollfd fds[2];
  const zx_status_t status = BlockingWait(deadline, fds, [&](const WaitTurn& turn, size_t* count) {
    bool socket_readable = false;  // what the last sleep saw of the socket itself
    if (turn.polled) {
      if (edges >= 0) {
        DrainWaiter(edges);
      } else {
        socket_readable = polled_count == 2 && (fds[1].revents & POLLIN);
      }
    }
    if (!sent_just_now) endpoint.PumpForCalls(SIZE_MAX);  // our reply, or others' for them
    sent_just_now = false;
    if (endpoint.CallDone(&waiter)) return waiter.status;  // the reply, or PEER_CLOSED
    // Readable, yet the pump left it so: part of a frame (Endpoint::PollableFd). Edges
    // from now on, or the poll would spin.
    if (socket_readable && edges < 0 && !endpoint.PollableFd()) edges = OpenWaiter(endpoint);
    // torn_down: the process exits, or this thread's environment goes away.
    if (waker.closed() || turn.torn_down || turn.expired) {
      // A late reply then lands in the normal queue. If the call completed meanwhile,
      // the next turn takes its result.
      if (endpoint.UnregisterCall(&waiter))
        return waker.closed() || turn.torn_down ? ZX_ERR_CANCELED : ZX_ERR_TIMED_OUT;
      return ZX_ERR_NEXT;
    }
    // With the stash full, the socket stays readable until a read makes room (which
    // wakes us). A framed stream is watched through edges (Endpoint::PollableFd).
    fds[1] =
        edges >= 0 ? pollfd{edges, POLLIN, 0} : pollfd{endpoint.fd(), POLLIN | kPollHangupEvent, 0};
    *count = polled_count = endpoint.StashFull() ? 1 : 2;
    return ZX_ERR_SHOULD_WAIT;
  });
  if (edges >= 0) close(edges);
  if (observing) table.RemoveObserver(&waker);
  return status;
}

}  // namespace

zx_status_t ChannelCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1) {
  *out0 = *out1 = ZX_HANDLE_INVALID;
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  EndpointRef e0, e1;
  zx_status_t status = Endpoint::CreatePair(&e0, &e1);
  if (status != ZX_OK) return status;
  return HandleTable::Get().AddPair(std::move(e0), std::move(e1), ZX_DEFAULT_CHANNEL_RIGHTS, out0,
                                    out1);
}

void ConsumeDispositions(const HandleDisposition* dispositions, size_t count) {
  HandleTable& table = HandleTable::Get();
  for (size_t i = 0; i < count; ++i) {
    if (dispositions[i].operation == ZX_HANDLE_OP_DUPLICATE) continue;
    HandleInfo gone;
    table.Close(dispositions[i].handle, &gone);
  }
}

zx_status_t ChannelWriteEtc(zx_handle_t h, uint32_t options, const iovec* payload,
                            size_t payload_count, HandleDisposition* dispositions,
                            size_t num_dispositions, bool* above_high_water, bool make_pages) {
  OutgoingMessage message;
  zx_status_t status = PrepareMessage(h, options, ZX_RIGHT_WRITE, payload, payload_count, 0,
                                      dispositions, num_dispositions, &message, make_pages);
  if (status != ZX_OK) return status;
  ObservedChange change(*message.endpoint);
  return message.endpoint->Send(message.prefix, message.prefix_size, payload, payload_count,
                                std::move(message.carried), above_high_water);
}

zx_status_t ChannelRead(zx_handle_t h, uint32_t options, uint32_t num_bytes, uint32_t num_handles,
                        ReadResult* out, uint8_t* buffer, uint8_t* into) {
  out->actual_bytes = out->actual_handles = 0;
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  if (options & ~ZX_CHANNEL_READ_MAY_DISCARD) return ZX_ERR_NOT_SUPPORTED;
  ObservedChange change(*info.object);
  return static_cast<Endpoint*>(info.object.get())
      ->Read(options, num_bytes, num_handles, out, buffer, into);
}

zx_status_t ChannelCallStart(zx_handle_t h, uint32_t options, const iovec* payload,
                             size_t payload_count, HandleDisposition* dispositions,
                             size_t num_dispositions, CallWaiter* waiter, EndpointRef* endpoint) {
  OutgoingMessage message;
  zx_status_t status =
      PrepareMessage(h, options, ZX_RIGHT_READ | ZX_RIGHT_WRITE, payload, payload_count, kTxidBytes,
                     dispositions, num_dispositions, &message);
  if (status != ZX_OK) return status;
  ObservedChange change(*message.endpoint);
  message.endpoint->RegisterCall(waiter);
  const uint32_t txid = waiter->txid;
  std::vector<iovec> pieces = WithTxid(&txid, payload, payload_count);
  status = message.endpoint->Send(message.prefix, message.prefix_size, pieces.data(), pieces.size(),
                                  std::move(message.carried));
  if (status != ZX_OK) {
    message.endpoint->UnregisterCall(waiter);
    return status;
  }
  *endpoint = std::move(message.endpoint);
  return ZX_OK;
}

zx_status_t ChannelCallFinish(CallWaiter& waiter, uint32_t num_bytes, uint32_t num_handles,
                              ReadResult* out) {
  out->actual_bytes = out->actual_handles = 0;
  if (waiter.status != ZX_OK) return waiter.status;
  InboundMessage& reply = waiter.reply;
  if (reply.num_bytes > num_bytes || reply.handles.size() > num_handles) {
    out->actual_bytes = reply.num_bytes;
    out->actual_handles = static_cast<uint32_t>(reply.handles.size());
    reply = InboundMessage();  // discarded, its handles closed
    return ZX_ERR_BUFFER_TOO_SMALL;
  }
  out->message = std::move(reply);
  return Endpoint::Deliver(out);
}

zx_status_t ChannelCallEtc(zx_handle_t h, uint32_t options, zx_time_t deadline,
                           const iovec* payload, size_t payload_count,
                           HandleDisposition* dispositions, size_t num_dispositions,
                           uint32_t num_bytes, uint32_t num_handles, ReadResult* out) {
  out->actual_bytes = out->actual_handles = 0;
  const WakeFlag wake = ThreadWake();
  if (!wake.valid()) {  // nothing could wake this thread for its reply
    ConsumeDispositions(dispositions, num_dispositions);
    return ZX_ERR_NO_RESOURCES;
  }
  SyncCallWaiter waiter(wake);
  EndpointRef endpoint;
  zx_status_t status = ChannelCallStart(h, options, payload, payload_count, dispositions,
                                        num_dispositions, &waiter, &endpoint);
  if (status != ZX_OK) return status;
  status = AwaitReply(h, *endpoint, waiter, deadline, wake);
  if (status != ZX_OK) return status;
  return ChannelCallFinish(waiter, num_bytes, num_handles, out);
}

}  // namespace zxc
