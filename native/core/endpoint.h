// One channel endpoint: a SOCK_SEQPACKET socket (or, under the portable backend, a
// SOCK_STREAM socket carrying frames: transport_stream.h) plus the little user-space state
// the kernel forces on us. Implemented in four files:
//   endpoint.cc           creation and signals
//   endpoint_outbound.cc  sends, and the ordered queue for when the socket is full
//   endpoint_inbound.cc   reads (one record, or a batch)
//   endpoint_calls.cc     channel_call: txids, replies routed to their callers, the stash
// Nothing is read ahead: the kernel queue travels with the descriptor when the endpoint
// moves. The only inbound state is the stash of messages a call had to step over, and it
// is bounded (ZX_CALL_STASH_LIMIT, ZX_CALL_STASH_BYTES_LIMIT).
#pragma once
#include <poll.h>
#include <sys/uio.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "core/object.h"
#include "core/transport_stream.h"
#include "core/user_signals.h"
#include "core/wire_format.h"

namespace zxc {

class Endpoint;
using EndpointRef = std::shared_ptr<Endpoint>;

// Room a receive needs: the largest record plus one byte (so an oversized one shows up as
// MSG_TRUNC, not a silent cut).
constexpr size_t kReceiveBufferBytes = kMaxRecordBytes + 1;

// What the watch of an endpoint with queued messages waits for: its socket to be writable
// or, while the head of the queue is held back behind a carried endpoint's own queue,
// only the peer's hangup (which drops the queue).
enum class QueueWatch { kNone, kWritable, kHangup };

// How the event-loop layer takes part in flushing: `current_owner` names the loop of the
// calling thread (nullptr on threads without one); `arm` starts watching `endpoint` on
// that loop for what Endpoint::WatchedBy says, after the endpoint has recorded `owner` as
// its watcher (armed again, the watch takes up what it says now); `disarm` stops that
// watch (on the owner's thread); `poke` asks the loop `owner`, from another thread, to
// look again at what each of its watches is for (WatchedBy).
struct WatchHooks {
  void* (*current_owner)() = nullptr;
  void (*arm)(const EndpointRef& endpoint, void* owner) = nullptr;
  void (*disarm)(const EndpointRef& endpoint, void* owner) = nullptr;
  void (*poke)(void* owner) = nullptr;
};
void SetWatchHooks(const WatchHooks& hooks);

// A handle received in a message, not yet in the handle table.
struct ReceivedHandle {
  ObjectRef object;
  zx_obj_type_t type;
  zx_rights_t rights;
  bool rights_unchecked;  // `rights` as claimed: the kind's bound comes on first use
};

// One received message. `payload` points into `owned` or, until this thread's next read,
// into the thread's receive buffer.
struct InboundMessage {
  std::vector<uint8_t> owned;
  const uint8_t* payload = nullptr;
  uint32_t num_bytes = 0;
  std::vector<ReceivedHandle> handles;

  void Own();             // copies the payload into `owned`
  uint32_t txid() const;  // the first 4 payload bytes, or 0
};

// One message of a batched read: ZX_OK with the message, or the status of a record that
// failed (IO_DATA_INTEGRITY, NO_RESOURCES), in its place in the batch.
struct BatchRead {
  zx_status_t status = ZX_OK;
  InboundMessage message;
};

// What a read hands back: handles are in the table by now.
struct ReadResult {
  // Set by the caller: whether `rights` is wanted. Without it, rights whose bound costs a
  // syscall are left for the handle table to check on first use and `rights` is not set.
  bool want_rights = true;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  const uint8_t* payload = nullptr;  // valid while `message` lives (and, if not owned,
                                     // until this thread's next read)
  InboundMessage message;
  zx_handle_t handles[kMaxMsgHandles];
  zx_obj_type_t types[kMaxMsgHandles];
  zx_rights_t rights[kMaxMsgHandles];
};

// Told when an endpoint becomes READABLE without its socket becoming readable: a call
// moved messages into the stash. Called under the endpoint's inbound lock: must only wake.
class SignalObserver {
 public:
  virtual void OnSignalsChanged() = 0;

 protected:
  ~SignalObserver() = default;
};

// One pending zx_channel_call on an endpoint. Whoever reads its reply off the socket
// (the caller, another reader, a signal check, an event loop) fills it, marks it done and
// calls Notify, all in one hold of the endpoint's inbound lock. So the caller learns that
// it is done only from Endpoint::CallDone (or UnregisterCall), which take that lock: by
// then nobody touches the waiter any more, and the caller may free it.
class CallWaiter {
 public:
  uint32_t txid = 0;
  zx_status_t status = ZX_OK;  // read by the caller once CallDone says so
  InboundMessage reply;

  // Called under the endpoint's inbound lock when the call is done, or when it may read
  // on (Endpoint::StashFull went false): must only wake the caller.
  virtual void Notify() = 0;

 protected:
  ~CallWaiter() = default;

 private:
  friend class Endpoint;
  bool done_ = false;  // under the endpoint's inbound lock
};

class Endpoint : public WithUserSignals {
 public:
  // `link`: shared with the other end when both are made here (null: a new one).
  Endpoint(int fd, zx_koid_t koid, zx_koid_t related_koid, UserSignals::LinkRef link = nullptr);
  ~Endpoint() override;

  // A connected pair of endpoints (socketpair + buffer sizing).
  static zx_status_t CreatePair(EndpointRef* out0, EndpointRef* out1);
  // Prepares a SEQPACKET descriptor from elsewhere (send buffer) to be an endpoint.
  static void ConfigureSocket(int fd);

  // READABLE / WRITABLE / PEER_CLOSED as they are now (routing any call replies first).
  zx_signals_t Signals() override;
  // WRITABLE only means "the peer is open": never a reason to poll for POLLOUT.
  short PollEventsFor(zx_signals_t wanted, zx_signals_t now) const override;
  zx_signals_t SignalsOnlyCallsLower() const override {
    return ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE | ZX_CHANNEL_PEER_CLOSED;
  }
  // A framed stream is readable (POLLIN) while only part of a frame has come, which is not
  // READABLE: a level-triggered poll would spin. Its waiters watch edges instead (Object::
  // WatchIn: data, hangup, and room to write, for the outbound queue's watch).
  bool PollableFd() const override;
  // A sync wait on a framed stream polls its socket first, which answers at once for a
  // whole frame or a hangup; it watches edges only once the socket shows part of a frame
  // (NeedsWaiterAfter), or from the start if user signals (the doorbell) are wanted.
  bool NeedsWaiter(zx_signals_t wanted) override {
    return (wanted & PageSignals()) && WithUserSignals::NeedsWaiter(wanted);
  }
  bool NeedsWaiterAfter(short revents, zx_signals_t now) const override {
    return !PollableFd() && (revents & POLLIN) && !(now & ZX_CHANNEL_READABLE);
  }
  // An event loop's watch follows the same rule: the socket, then edges while part of a
  // frame heads it (docs/architecture.md, "Backends").
  bool PollsFdFirst() const override { return true; }
  // A framed stream's: whether a read would take something now (a stashed message, or a
  // whole frame at the head), in one look at the socket.
  bool WholeFrameAtHead();

  // ---- outbound (endpoint_outbound.cc) ----
  // Sends one record (prefix = header + handle table, then the payload pieces) with the
  // carried objects' descriptors, or queues it behind what is already queued.
  // The carried objects are released once the record is sent or dropped.
  // *above_high_water (if given, on ZX_OK): whether the queue is now at or above the
  // high-water mark (ZX_PENDING_WRITE_HIGH_WATER messages or _BYTES bytes).
  zx_status_t Send(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                   size_t payload_count, std::vector<ObjectRef>&& carried,
                   bool* above_high_water = nullptr);
  // Sends `count` records without handles (headers: count × 16 bytes, then payloads[i])
  // in as few sendmmsg calls as the socket allows; what does not go out is queued, in
  // order, behind what is already queued, up to the queue's bounds. *accepted: how many
  // records were sent or queued, a prefix of the batch. The status is ZX_OK when all
  // were; else the reason the next one was not: SHOULD_WAIT (the queue's bounds),
  // PEER_CLOSED, or as Send.
  // *above_high_water as Send's.
  zx_status_t SendMany(const uint8_t* headers, const iovec* payloads, size_t count,
                       size_t* accepted, bool* above_high_water = nullptr);
  // Backpressure: `observer` is told once (OnSignalsChanged, from whichever thread
  // flushes, under the outbound lock: it must only wake) when the queue holds fewer than
  // ZX_PENDING_WRITE_LOW_WATER messages and _BYTES bytes, or is dropped (the peer is
  // gone). False, and nothing registered, if that is already so.
  bool AddDrainObserver(SignalObserver* observer);
  void RemoveDrainObserver(SignalObserver* observer);
  // Called by the watcher on `owner`'s loop when the socket is writable or hung up: what
  // to watch for next; kNone when the watcher should stop (the queue is empty, or another
  // loop watches it; the claim is dropped).
  QueueWatch FlushForWatcher(void* owner);
  // The loop `owner` is going away: forget it as this endpoint's watcher.
  void DropWatcher(void* owner);
  // What the loop `owner` should watch this endpoint for now (kNone: not its watch).
  QueueWatch WatchedBy(void* owner);
  size_t queued() const { return queued_.load(std::memory_order_acquire); }
  // At exit (no event loop runs any more): one pass over every endpoint with queued
  // messages. For each that still has some, `wait` gets what to poll for: POLLOUT, or only
  // the peer's hangup while its head is held back. Returns how many messages are queued.
  static size_t FlushAllForExit(std::vector<pollfd>* wait);
  // The descriptors the queues still need: each queued endpoint's socket, and the
  // descriptors its queued records carry.
  static void QueuedDescriptors(std::vector<int>* out);

  // ---- inbound (endpoint_inbound.cc) ----
  // Reads one message: ZX_ERR_SHOULD_WAIT, PEER_CLOSED, BUFFER_TOO_SMALL (with the real
  // sizes), IO_DATA_INTEGRITY (bad record dropped), NO_RESOURCES (descriptors lost).
  // A record read off the socket lands in `buffer` (kReceiveBufferBytes long; null: this
  // thread's own), so a caller can receive straight into memory it hands out. With `into`
  // (a caller's buffer of `max_bytes`), a read that answers ZX_OK leaves the payload there
  // (out->payload == into): received straight into it when the record's prefix is the
  // size expected, copied there otherwise (ReceiveLocked). Only a read that answers ZX_OK,
  // IO_DATA_INTEGRITY, NO_RESOURCES or (another process racing for the same socket)
  // BUFFER_TOO_SMALL writes there, and never past max_bytes.
  zx_status_t Read(uint32_t options, uint32_t max_bytes, uint32_t max_handles, ReadResult* out,
                   uint8_t* buffer = nullptr, uint8_t* into = nullptr);
  // Reads up to `max` messages (at most ZX_CHANNEL_READ_MANY_MAX): the stash's first, then
  // one recvmmsg, whole records only (never BUFFER_TOO_SMALL). Each record gets the checks
  // of Read; replies to pending calls go to their callers and take no place in `out`.
  // ZX_OK with at least one entry, else SHOULD_WAIT or PEER_CLOSED. A payload not owned
  // stays valid until this thread's next ReadMany.
  zx_status_t ReadMany(size_t max, std::vector<BatchRead>* out);
  // ---- calls and the stash (endpoint_calls.cc) ----
  // Registers a call and gives it a txid, (++counter) | 0x80000000, unique among pending calls.
  void RegisterCall(CallWaiter* waiter);
  // Takes a call back (timed out, canceled); false if it was completed meanwhile.
  bool UnregisterCall(CallWaiter* waiter);
  // Whether the call has its reply or its failure (then its waiter may be freed).
  bool CallDone(const CallWaiter* waiter);
  // Reads up to `max_records` off the socket for pending calls: replies go to their
  // callers, other messages to the stash. Stops when the socket is empty, no call waits,
  // or the next record is not a reply and would take the stash past its bounds
  // (ZX_CALL_STASH_LIMIT messages, ZX_CALL_STASH_BYTES_LIMIT bytes of records).
  void PumpForCalls(size_t max_records);
  bool HasStash();
  // Whether the last pump stopped at the stash's bounds: waiting for the socket to be
  // readable is then pointless until a read takes a message from the stash, which
  // notifies every pending call's waiter.
  bool StashFull();
  static bool AnyHasStash();  // any endpoint of the process
  bool HasPendingCalls();
  // Whether a call was ever made on this endpoint. Until then a waiter that saw the socket
  // readable may take it as READABLE without looking again; after, the record it saw may
  // have been a reply routed to its caller since (by another thread, or between the poll
  // and the look), and a reply is never READABLE.
  bool EverCalled() const { return ever_called_.load(std::memory_order_relaxed); }
  // Waiters that sleep on the socket register here to hear of stashed messages.
  void AddSignalObserver(SignalObserver* observer);
  void RemoveSignalObserver(SignalObserver* observer);

  // Installs out->message's handles in the table and fills `out` (NO_RESOURCES if full).
  static zx_status_t Deliver(ReadResult* out);

 private:
  // A record waiting in the outbound queue, with the objects whose descriptors it carries.
  struct OutRecord {
    std::vector<uint8_t> data;
    std::vector<ObjectRef> carried;
  };
  enum class FlushState { kEmpty, kNeedWritable, kBlocked };
  friend OutRecord MakeRecord(const uint8_t*, size_t, const iovec*, size_t,
                              std::vector<ObjectRef>&&);
  friend void DropSentPart(OutRecord* record, size_t written);

  // 0 or errno; *written: the bytes that went (all of them but on a framed stream).
  int SendRecord(const uint8_t* prefix, size_t prefix_size, const iovec* payload,
                 size_t payload_count, const std::vector<ObjectRef>& carried, size_t* written);
  // *sent: whole records that went; *tail_written: bytes of the next that did (a framed
  // stream's partial write, then EAGAIN).
  int SendBatch(const uint8_t* headers, const iovec* payloads, size_t count, size_t* sent,
                size_t* tail_written);
  int SendFrames(const uint8_t* headers, const iovec* payloads, size_t count, size_t* sent,
                 size_t* tail_written);
  // The end of a send under mu_: the queue's watch armed (*arm, *owner) or released
  // (*stop_here) for what is queued now, and *above_high_water (if given). Whether
  // anything is queued.
  bool AfterSendLocked(bool was_queued, FlushState state, bool* arm, void** owner, void** stop_here,
                       bool* above_high_water);
  // After a send changed the queue or its watch (outside mu_).
  void SettleAfterSend(bool was_queued, bool now_queued, void* arm_owner, void* stop_here);
  // Sends what it can of the queue, then tells the drain observers if it fell below
  // the low-water mark.
  FlushState FlushLocked();
  FlushState FlushQueueLocked();
  bool AboveHighWaterLocked() const;
  bool BelowLowWaterLocked() const;
  bool HeadBlockedLocked(const OutRecord& head);
  void AddDependent(const EndpointRef& dependent);
  // After the queue drained: leave the registry, flush endpoints that waited on us.
  void AfterDrained();
  // Flush from outside a watcher; arms a watcher on the calling thread's loop if needed.
  void FlushAndArm();
  // After a flush that left records queued, `held` (the head held back) or not.
  bool WatchLocked(bool held, void** owner);
  void ReleaseWatchLocked(void** stop_here);

  // Into `buffer` (kReceiveBufferBytes long), or this thread's buffer if null. With `into`
  // (`into_capacity` bytes), a record whose handle table has `expected_handles` entries
  // lands with its payload in `into`, and `buffer` takes only what does not fit.
  zx_status_t ReceiveLocked(InboundMessage* out, uint8_t* buffer, uint8_t* into = nullptr,
                            size_t into_capacity = 0, uint32_t expected_handles = 0);
  zx_status_t PeekHeadLocked(WireHeader* header, uint32_t* txid);
  // The record at the head is consumed and thrown away, its descriptors closed.
  void DiscardHeadLocked();
  // Framed streams: StreamFrameAtHead, and after bytes that are no header, the end.
  zx_status_t FrameAtHeadLocked(WireHeader* header, size_t* length);
  // ReadMany's reads for a framed stream: up to `slots` frames, one per slot of `data`.
  zx_status_t ReadFramesLocked(size_t slots, uint8_t* data, std::vector<BatchRead>* out);
  bool RouteLocked(InboundMessage& message);
  // Whether the record at the head of the socket may be read for the pending calls.
  bool StashHasRoomLocked();
  void PopStashLocked();
  void ClearStashFullLocked();
  void PumpLocked(size_t max_records);
  void FailCallsLocked(zx_status_t status);
  // Whether `txid` is a pending call's (only txids a call can have are looked for).
  bool CallPendingLocked(uint32_t txid) const;
  bool SetHasStash(bool value);  // true if it changed

  // Outbound state.
  std::mutex mu_;  // orders sends; guards queue_, queued_bytes_, watch_*, peer_gone_,
                   // drain_observers_
  std::deque<OutRecord> queue_;
  size_t queued_bytes_ = 0;  // the records' sizes in queue_
  std::atomic<size_t> queued_{0};
  void* watch_owner_ = nullptr;
  bool watch_held_ = false;  // watch_owner_ waits only for the peer's hangup
  bool peer_gone_ = false;
  std::vector<SignalObserver*> drain_observers_;  // told once below the low-water mark
  std::mutex dependents_mu_;                      // leaf lock
  std::vector<std::weak_ptr<Endpoint>> dependents_;

  // Inbound state, under inbound_mu_ (a peek and the read that follows see one record).
  std::mutex inbound_mu_;
  std::deque<InboundMessage> stash_;
  size_t stash_bytes_ = 0;  // the sizes of stash_'s messages as records
  std::vector<CallWaiter*> calls_;
  // A leaf lock of its own: an observer may unregister while this endpoint's inbound_mu_
  // is held by its thread (a port in a message dropped during a read goes then).
  std::mutex signal_observers_mu_;
  std::vector<SignalObserver*> signal_observers_;
  uint32_t txid_counter_ = 0;
  std::atomic<bool> has_stash_{false};
  std::atomic<bool> stash_full_{false};
  std::atomic<bool> has_calls_{false};
  std::atomic<bool> ever_called_{false};
  std::atomic<bool> stream_broken_{false};  // a framed stream lost its framing: closed
  StreamHead stream_head_;                  // under inbound_mu_
};

}  // namespace zxc
