// The pieces EnvLoop is made of, shared by its files:
//  - env_loop.cc: its life cycle (the environment's cleanup hook), the wakeup that brings
//    other threads' news to the loop, settling what was posted;
//  - env_loop_watch.cc: the watches (one uv_poll per object) and what a readiness does,
//    including the write watch that flushes outbound queues;
//  - env_loop_ops.cc: the promises pending on the loop (Wait, Call, PortWait);
//  - env_loop_listener.cc: channel listeners (Channel's 'message' event);
//  - env_loop_drain.cc: waits for an outbound queue to drain (Channel's 'drain' event).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "binding/env_loop.h"
#include "binding/uv_handle.h"
#include "core/handle_table.h"

namespace zxb {

// The loop of the environment running on this thread, if any.
extern thread_local EnvLoop* current_loop;
constexpr size_t kRecordsPerTurn = 32;  // a busy channel yields to the loop after this many

// How a call's reply (or its end) reaches the loop: posted, from whichever thread routed it.
class EnvLoop::CallWaiter final : public zxc::CallWaiter {
 public:
  CallWaiter(EnvLoop* loop, uint32_t id) : loop_(loop), id_(id) {}
  void Notify() override { loop_->Post(id_); }

 private:
  EnvLoop* loop_;
  uint32_t id_;
};

// One object watched on the loop: its poll, and who waits on it.
struct EnvLoop::Watch {
  Watch(EnvLoop* loop, zxc::ObjectRef object) : loop(loop), object(std::move(object)) {}
  ~Watch();

  EnvLoop* const loop;
  zxc::ObjectRef object;  // kept alive, its descriptor open, while watched
  // Our own epoll instance (edges), for objects whose state is in shared memory, from the
  // start; for a framed stream, only while part of a frame heads it (EnvLoop::SetEdges).
  int waiter = -1;
  UvHandle<uv_poll_t> poll;       // on the object's descriptor, or on `waiter` if made with one
  UvHandle<uv_poll_t> edge_poll;  // a framed stream's, on `waiter` while it has one
  // For waits on user signals of an object watched on its descriptor (a channel, a socket):
  // our own epoll instance watching the object and its page's doorbell, and its poll.
  int bell = -1;
  UvHandle<uv_poll_t> bell_poll;
  bool bell_on = false;     // bell_poll started: a wait wants user signals
  uint64_t updated_at = 0;  // EnvLoop::update_serial_ at its last UpdateWatch
  int flush_events = 0;     // what an outbound queue waits for (FlushEvents); 0: nothing
  std::vector<Op*> ops;
  Listener* listener = nullptr;  // this loop's listener of the channel, if any
  int events = 0;                // what the active() poll is started with; 0 = stopped
  bool part_at_head = false;     // a framed stream's: its last look found part of a frame

  bool Idle() const { return ops.empty() && !flush_events && !listener; }
  // The poll that watches now: `poll`, or `edge_poll` while a framed stream has edges.
  uv_poll_t* active() const { return edge_poll ? edge_poll.get() : poll.get(); }
};

// A pending promise on the loop, settled once: registered by id, watching its object,
// with a timer for its deadline. Told (from any thread) when its handle leaves the table.
struct EnvLoop::Op : zxc::HandleObserver, zxc::SignalObserver {
  Op(EnvLoop* loop, zxc::zx_handle_t h, zxc::zx_time_t deadline);
  virtual ~Op() = default;

  // Lets go of what tells it news from other threads (settled, or the environment ending).
  virtual void StopObserving();
  // The environment ends with it pending: its promise is dropped.
  virtual void Abandon() {}
  // Settles it with ZX_ERR_CANCELED, or with what has come if it was already there.
  virtual void Cancel() = 0;
  // Something was posted for it (its handle's removal, a stashed message, a reply).
  virtual void OnPosted() = 0;
  // Its deadline has come.
  virtual void OnDeadline() = 0;
  // A wait, or nullptr: only waits are settled by the object's signals.
  virtual Wait* AsWait() { return nullptr; }
  // Whether it reads the channel itself (a call, unless its stash is full).
  virtual bool ReadsForItself() const { return false; }

  void OnHandleRemoved() override {
    handle_removed.store(true);
    loop->Post(id);
  }
  void OnSignalsChanged() override { loop->Post(id); }
  // The object's signals now (none if it could not be watched).
  zxc::zx_signals_t Observed() const;

  uint32_t id = 0;
  EnvLoop* const loop;
  Watch* watch = nullptr;
  napi_deferred deferred = nullptr;
  const zxc::zx_handle_t handle;
  const zxc::zx_time_t deadline;
  UvHandle<uv_timer_t> timer;  // for a deadline
  bool observing = false;      // registered with the handle table
  std::atomic<bool> handle_removed{false};
};

// objectWaitOneAsync: settled by readiness, deadline, close or cancel.
struct EnvLoop::Wait final : Op {
  Wait(EnvLoop* loop, zxc::zx_handle_t h, zxc::zx_time_t deadline, zxc::zx_signals_t signals)
      : Op(loop, h, deadline), signals(signals) {}
  void StopObserving() override;
  void Cancel() override;
  void OnPosted() override;
  void OnDeadline() override;
  Wait* AsWait() override { return this; }
  void Settle(zxc::zx_status_t status, zxc::zx_signals_t observed);

  const zxc::zx_signals_t signals;
  zxc::EndpointRef endpoint;  // a channel's: told of messages a call stashed
};

// channelCallAsync: settled by the reply, deadline, the peer's end, close or cancel.
struct EnvLoop::Call final : Op {
  Call(EnvLoop* loop, zxc::zx_handle_t h, zxc::zx_time_t deadline, uint32_t num_bytes,
       uint32_t num_handles);
  void Abandon() override;
  void Cancel() override;
  void OnPosted() override;
  void OnDeadline() override;
  bool ReadsForItself() const override { return !endpoint->StashFull(); }
  bool FollowsReplace() const override { return true; }  // Zircon lets the call complete
  // `status` is the call's own outcome; ZX_OK means "the waiter is done: look at it".
  void Settle(zxc::zx_status_t status);

  std::unique_ptr<CallWaiter> waiter;
  zxc::EndpointRef endpoint;
  const uint32_t num_bytes, num_handles;
};

// portWaitAsync: settled by a packet of the watched port, deadline, the port's close or
// cancel.
struct EnvLoop::PortWait final : Op {
  using Op::Op;
  void Cancel() override;
  void OnPosted() override;
  void OnDeadline() override;
  void Settle(zxc::zx_status_t status, const zxc::PortPacket* packet);
};

// A call made through a listener (Channel.call): its reply is handed to the listener's
// function with the call's txid, like a message, with no promise or op of its own.
struct EnvLoop::ListenerCall final : zxc::CallWaiter {
  ListenerCall(Listener* listener, uint32_t num_bytes, uint32_t num_handles)
      : listener(listener), num_bytes(num_bytes), num_handles(num_handles) {}
  void Notify() override;

  Listener* const listener;
  const uint32_t num_bytes, num_handles;
};

// channelDrainAsync: settled when the endpoint's outbound queue falls below the low-water
// mark (told by the endpoint, from whichever thread flushed), or its handle's close.
struct EnvLoop::Drain final : Op {
  Drain(EnvLoop* loop, zxc::zx_handle_t h, zxc::EndpointRef endpoint)
      : Op(loop, h, ZX_TIME_INFINITE), endpoint(std::move(endpoint)) {}
  void StopObserving() override;
  void Abandon() override;
  void Cancel() override;
  void OnPosted() override;
  void OnDeadline() override {}
  void Settle(zxc::zx_status_t status);

  zxc::EndpointRef endpoint;
};

// A channel's listener: the function its messages (while `messages`, or for as many as
// its credit says) and the replies to its calls go to. Told (from any thread) when a call on the
// endpoint stashed a message, which no poll would report, when one of its calls is done, and when
// its handle leaves the table (closed or moved without the listener's Channel): then it ends at
// once, and lets go of the endpoint. Its function is held weakly while it has nothing to do, so an
// idle listener keeps neither the loop nor its Channel alive.
struct EnvLoop::Listener final : zxc::SignalObserver, zxc::HandleObserver {
  uint32_t id = 0;
  EnvLoop* loop = nullptr;
  zxc::zx_handle_t handle = ZX_HANDLE_INVALID;
  zxc::EndpointRef endpoint;
  Watch* watch = nullptr;
  Napi::FunctionReference callback;
  ListenRead read = nullptr;
  ListenReply reply = nullptr;
  void* context = nullptr;
  bool messages = true;    // reads messages (Channel's 'message' listeners)
  uint32_t credit = 0;     // messages to read besides (Channel.read's pending reads)
  bool refed = true;       // keeps the loop alive while reading messages
  bool counted = false;    // counted in EnvLoop::refed_listeners_
  bool strong = true;      // its function held strongly (while Busy)
  bool observing = false;  // registered with the handle table
  std::vector<std::unique_ptr<ListenerCall>> calls;  // pending, oldest first
  std::atomic<bool> calls_poked{false};              // a call may be done, or may read on
  std::atomic<bool> handle_removed{false};

  bool Reads() const { return messages || credit > 0; }
  bool Busy() const { return Reads() || !calls.empty(); }
  bool KeepsLoop() const { return (messages && refed) || credit > 0 || !calls.empty(); }
  // Whether its watch should wait for the socket to be readable.
  bool WantsReadable() const { return Reads() || (!calls.empty() && !endpoint->StashFull()); }
  // Asks the loop to look at it again (from any thread). While the loop's own poll
  // callback routes call replies, or a listener's read does, it looks right after
  // without being asked.
  void Poke() {
    if (current_loop != loop || !(loop->dispatching_ || loop->listener_reading_))
      OnSignalsChanged();
  }
  void OnSignalsChanged() override {
    {
      std::lock_guard<std::mutex> lock(loop->posted_mu_);
      loop->listeners_poked_ = true;
    }
    uv_async_send(loop->wakeup_.get());
  }
  void OnHandleRemoved() override {
    handle_removed.store(true);
    OnSignalsChanged();
  }
};

inline void EnvLoop::ListenerCall::Notify() {
  listener->calls_poked.store(true);
  listener->Poke();
}

}  // namespace zxb
