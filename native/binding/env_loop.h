// Everything that waits on a Node environment's event loop (main thread or a worker):
//  - flushing outbound queues when their socket becomes writable (dropping them when the
//    peer hangs up, also while held back behind a carried endpoint's queue);
//  - objectWaitOneAsync: promises settled by readiness, deadline, close or cancel;
//  - channelCallAsync: promises settled by the reply, deadline, peer's end, close or cancel;
//  - portWaitAsync: promises settled by a packet, deadline, the port's close or cancel;
//  - channelDrainAsync: promises settled when an outbound queue falls below its low-water
//    mark, or the handle goes (Channel's 'drain' event);
//  - channel listeners: a channel's messages read and handed to a JavaScript function as
//    they come (Channel's 'message' event), one call per message, and the replies to the
//    calls made through them (Channel.call), one call per reply.
// One uv_poll per object per environment (libuv allows one per descriptor per loop),
// taken from napi_get_uv_event_loop. Pending waits and calls, and listeners
// unless unref'd, keep the loop alive; idle channels and queues don't. The environment's
// cleanup hook tears it all down, and the environment waits until the close callbacks of
// every libuv handle made here have run (a worker's environment unloads this library
// after it): each is held by a UvHandle (uv_handle.h), which counts them.
// Its parts, one file each: env_loop_parts.h says which.
#pragma once
#include <napi.h>
#include <uv.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "binding/uv_handle.h"
#include "core/endpoint.h"
#include "core/port.h"
#include "core/syscalls.h"

namespace zxb {

class EnvLoop final : UvHandleOwner {
 public:
  static EnvLoop* Create(napi_env env);
  // Connects the core's outbound queues to the loops of Node environments (once).
  static void InstallHooks();

  // A promise of { status, observed }; never rejected. `*id` names it for Cancel.
  Napi::Value WaitAsync(zxc::zx_handle_t h, zxc::zx_signals_t signals, zxc::zx_time_t deadline,
                        uint32_t* id);
  // A promise of { status, bytes, handles: [{ handle, type, rights }], actualBytes,
  // actualHandles }; the write happens now. `*id` names it for Cancel.
  Napi::Value CallAsync(zxc::zx_handle_t h, uint32_t options, zxc::zx_time_t deadline,
                        const iovec* payload, size_t payload_count,
                        zxc::HandleDisposition* dispositions, size_t num_dispositions,
                        uint32_t num_bytes, uint32_t num_handles, uint32_t* id);
  // A promise of [status], or [ZX_OK, ...the packet as 12 uint32 words] (lib/sys-port.ts
  // decodes them); never rejected. Settled at once (a packet was there, a failure, a
  // deadline past): the status instead, with the packet's words in `*now` on ZX_OK.
  // Waits on the port's epoll descriptor; the oldest pending wait gets the first packet.
  Napi::Value PortWaitAsync(zxc::zx_handle_t port, zxc::zx_time_t deadline, uint32_t* id,
                            uint32_t* now);
  // A promise of a status: ZX_OK once the outbound queue of the channel `h` holds fewer
  // than ZX_PENDING_WRITE_LOW_WATER messages and _BYTES bytes (or was dropped, its peer
  // gone); ZX_ERR_CANCELED if the handle is closed or moved first. Settled at once if so
  // already, or with the lookup's failure.
  Napi::Value DrainAsync(zxc::zx_handle_t h);
  // How a listener reads one message and makes the value its function is called with
  // (lib/receive.ts's readResult takes it): `*status` says what the read answered.
  using ListenRead = Napi::Value (*)(void* context, zxc::zx_handle_t h, zxc::zx_status_t* status);
  // The same for a call's reply (ChannelCallFinish's answer).
  using ListenReply = Napi::Value (*)(void* context, zxc::zx_status_t status,
                                      const zxc::ReadResult& result);
  // Starts a listener of the channel `h` on this loop. While `messages`, each message (or
  // failed read) read is passed to `callback` as `read` makes it, in order, until the read
  // answers ZX_ERR_PEER_CLOSED or the handle no longer names the endpoint (both passed on
  // too, then the listener ends by itself; the end of the handle is passed on whatever
  // `messages` says). → a listener id (> 0), or a status (< 0).
  int32_t Listen(zxc::zx_handle_t h, Napi::Function callback, ListenRead read, ListenReply reply,
                 void* context, bool messages);
  // Ends a listener (at once: no message is read for it after; its pending calls are taken
  // back, their replies left to land in the channel's queue); false if it had ended.
  bool Unlisten(uint32_t id);
  // Whether the listener reads messages.
  void ListenMessages(uint32_t id, bool messages);
  // Adds `delta` (a pending read, +1; one given up, -1) to the messages the listener reads
  // besides: while it has credit it reads, and each message (or failed read) passed on
  // uses one.
  void ListenCredit(uint32_t id, int32_t delta);
  // Whether the listener keeps the loop alive while it reads messages (it does when it
  // starts). Pending calls keep it alive in any case.
  void RefListener(uint32_t id, bool ref);
  // Writes a call's request (as ChannelCallStart) on the listener's channel; the reply (or
  // the call's failure: PEER_CLOSED, CANCELED when the handle goes) is passed to its
  // function, as `reply` makes it, with the txid as a second argument. → the txid (> 0),
  // or a status (< 0): then the call was not made (the dispositions are consumed).
  int64_t ListenCall(uint32_t id, uint32_t options, const iovec* payload, size_t payload_count,
                     zxc::HandleDisposition* dispositions, size_t num_dispositions,
                     uint32_t num_bytes, uint32_t num_handles);
  // Takes a pending call back (deadline, abort): true if it was still pending (a late reply
  // then lands in the channel's queue); false if its reply or failure is on its way.
  bool ListenCancel(uint32_t id, uint32_t txid);
  // Settles a pending wait, call or port wait with ZX_ERR_CANCELED; false if it is already settled.
  bool Cancel(uint32_t id);
  // Settles now what is ready to settle (from JavaScript, e.g. right after a close: the
  // waits, calls and listeners on that handle end, and the loop lets go of its descriptor
  // at once).
  void SettleNow();

 private:
  // Their definitions: env_loop_parts.h.
  struct Watch;
  struct Op;
  struct Wait;
  struct Call;
  struct PortWait;
  struct Drain;
  struct Listener;
  struct ListenerCall;
  class CallWaiter;

  explicit EnvLoop(napi_env env);
  ~EnvLoop();
  static void OnEnvCleanup(napi_async_cleanup_hook_handle done, void* data);
  // The last close callback after the cleanup hook ends it all.
  void HandleClosed(size_t open) override;
  static void* CurrentOwner();
  static void Arm(const zxc::EndpointRef& endpoint, void* owner);
  static void Disarm(const zxc::EndpointRef& endpoint, void* owner);
  static void Poke(void* owner);
  void StopFlushing(Watch* watch);
  // Watches flushing an outbound queue, told by another thread that it changed.
  void UpdateFlushing();
  static void OnPoll(uv_poll_t* poll, int status, int events);
  static void OnTimer(uv_timer_t* timer);
  static void OnWakeup(uv_async_t* async);
  static void OnIdleCheck(uv_check_t* check);
  void CloseIdleWatches();
  // A framed stream's watch polls its socket, level-triggered, except while part of a frame
  // heads it (a poll would spin until the rest came; UpdateWatch says when): then it hears
  // edges through a waiter of its own (Object::PollsFdFirst, NeedsWaiterAfter). Stops the
  // poll watching now. False if no waiter could be made (the socket stays polled), or,
  // back on the socket, no bell for user signals.
  bool SetEdges(Watch* watch, bool edges);
  // Opens one of the watch's polls (`poll`, `edge_poll`, `bell_poll`) on `fd`, not keeping
  // the loop alive (pending ops do, through their timers and promises); false if libuv
  // refuses it (the caller still owns `fd`).
  bool OpenPoll(Watch* watch, UvHandle<uv_poll_t>* poll, int fd);
  // Opens the watch's bell (user signals' doorbell, for an object whose poll watches its
  // descriptor) if it has none; false if it can't.
  bool OpenBell(Watch* watch);
  // While a framed stream's watch hears edges: a whole frame waiting for a reader that
  // stopped at kRecordsPerTurn, or that starts now, is looked at again on the next turn,
  // as a level-triggered poll would have it.
  void LookAgainIfReadable(Watch* watch);
  void LookAgain();

  // The object's watch, made if need be; ready for waits on `wanted` (with user signals of
  // an object whose descriptor can't tell them: its bell).
  Watch* WatchFor(const zxc::ObjectRef& object, zxc::zx_signals_t wanted = 0);
  // `known`: the object's signals if just read (saves a look).
  void UpdateWatch(Watch* watch, const zxc::zx_signals_t* known = nullptr);
  void CloseWatch(Watch* watch);
  uint32_t NewId();
  Napi::Value StartOp(std::unique_ptr<Op> op, const zxc::ObjectRef& object,
                      const zxc::zx_signals_t* known, uint32_t* id);
  void CheckWaits(Watch* watch, const zxc::zx_signals_t* known = nullptr);
  void DeliverPackets(Watch* watch);
  // Reads and passes on up to kRecordsPerTurn messages for the listener `id`, one at a
  // time: nothing read is ever held while JavaScript runs, so a listener that moves or
  // closes the endpoint leaves every message not yet read with it.
  void Dispatch(uint32_t id);
  void EndListener(Listener* listener);
  // Hands the done calls of the listener `id` (`cancel`: all of them, the pending ones
  // taken back as CANCELED) to its function, oldest first. False if the listener has
  // ended or its function threw.
  bool DeliverCalls(uint32_t id, bool cancel);
  // Calls a listener's function; false if it threw (reported as uncaught) or could not be called.
  bool CallListener(napi_value fn, napi_value* args, size_t argc);
  // Counts the listener in refed_listeners_ (and holds its function strongly) or not,
  // as it is now.
  void UpdateListenerRef(Listener* listener);
  // Dispatches the listeners told of a stashed message or of their handle's removal.
  void DispatchPoked();
  void ProcessPosted();
  void Post(uint32_t id);
  // Resolves the promise of `op` with `result`, and lets go of it.
  void Finish(Op* op, Napi::Value result);
  void UpdateRef();
  Napi::Value Resolved(Napi::Value value);
  enum ResultKey {
    kStatus,
    kObserved,
    kBytes,
    kHandles,
    kActualBytes,
    kActualHandles,
    kHandle,
    kType,
    kRights,
    kKeyCount
  };
  Napi::Value Key(ResultKey key);
  Napi::Value WaitResult(zxc::zx_status_t status, zxc::zx_signals_t observed);
  Napi::Value PortWaitResult(zxc::zx_status_t status, const zxc::PortPacket* packet);

  Napi::Env env_;
  uv_loop_t* loop_ = nullptr;
  UvHandle<uv_async_t> wakeup_;  // cross-thread: calls completed, handles closed
  napi_async_cleanup_hook_handle cleanup_done_ = nullptr;  // set by the cleanup hook
  UvHandle<uv_check_t> idle_check_;       // closes watches left idle at the end of a loop turn
  std::vector<zxc::Object*> idle_;        // watches that went idle this turn
  std::vector<zxc::Object*> look_again_;  // watches to run again next turn (LookAgainIfReadable)
  bool dispatching_ = false;              // OnPoll is routing call replies on this thread
  bool listener_reading_ = false;         // Dispatch is reading (and may route replies)
  napi_async_context context_ = nullptr;  // callbacks that settle promises run in it
  Napi::Reference<Napi::Array> keys_;     // the result keys, by ResultKey
  std::mutex posted_mu_;
  std::vector<uint32_t> posted_;
  bool poked_ = false;            // under posted_mu_: some flushing watch may be stale
  bool listeners_poked_ = false;  // under posted_mu_: some listener must look again
  std::unordered_map<zxc::Object*, Watch*> watches_;
  std::unordered_map<uint32_t, Op*> ops_;
  std::unordered_map<uint32_t, Listener*> listeners_;
  size_t refed_listeners_ = 0;
  uint32_t next_id_ = 0;
  uint64_t update_serial_ = 0;  // counts UpdateWatch calls (see OnPoll)
};

}  // namespace zxb
