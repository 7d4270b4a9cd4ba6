#include "binding/env_loop.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "binding/addon_data.h"
#include "core/handle_table.h"

namespace zxb {

using namespace zxc;

namespace {
thread_local EnvLoop* current_loop = nullptr;
constexpr size_t kRecordsPerTurn = 32;  // a busy channel yields to the loop after this many

// The poll events an outbound queue's watch starts with. A hangup (DISCONNECT, or
// POLLHUP/POLLERR, which come unasked) is all that can move a queue held back.
int FlushEvents(QueueWatch what) {
  return what == QueueWatch::kWritable ? UV_WRITABLE : what == QueueWatch::kHangup ? UV_DISCONNECT : 0;
}
}  // namespace

class EnvLoop::CallWaiter final : public zxc::CallWaiter {
 public:
  CallWaiter(EnvLoop* loop, uint32_t id) : loop_(loop), id_(id) {}
  void Notify() override { loop_->Post(id_); }

 private:
  EnvLoop* loop_;
  uint32_t id_;
};

// A pending async wait, call or port wait. Told (from any thread) when its handle leaves the table.
struct EnvLoop::Op final : HandleObserver, SignalObserver {
  uint32_t id = 0;
  bool is_call = false;
  bool is_port = false;  // a port wait: settled by a packet of the watched port
  EnvLoop* loop = nullptr;
  Watch* watch = nullptr;
  napi_deferred deferred = nullptr;
  zx_handle_t handle = ZX_HANDLE_INVALID;
  zx_signals_t signals = 0;
  zx_time_t deadline = ZX_TIME_INFINITE;
  uv_timer_t* timer = nullptr;
  bool observing = false;
  std::atomic<bool> handle_removed{false};
  // calls
  std::unique_ptr<EnvLoop::CallWaiter> waiter;
  EndpointRef endpoint;
  uint32_t num_bytes = 0, num_handles = 0;

  bool observing_signals = false;  // registered with the endpoint for stashed messages

  void OnHandleRemoved() override {
    handle_removed.store(true);
    loop->Post(id);
  }
  void OnSignalsChanged() override { loop->Post(id); }
};

// A channel's listener: the function its messages go to. Told (from any thread) when a
// call on the endpoint stashed a message, which no poll would report, and when its handle
// leaves the table (closed or moved without the listener's Channel): then it ends at once,
// and lets go of the endpoint.
struct EnvLoop::Listener final : SignalObserver, HandleObserver {
  uint32_t id = 0;
  EnvLoop* loop = nullptr;
  zx_handle_t handle = ZX_HANDLE_INVALID;
  EndpointRef endpoint;
  Watch* watch = nullptr;
  Napi::FunctionReference callback;
  ListenRead read = nullptr;
  void* context = nullptr;
  bool refed = true;
  bool observing = false;  // registered with the handle table
  std::atomic<bool> handle_removed{false};

  void OnSignalsChanged() override {
    {
      std::lock_guard<std::mutex> lock(loop->posted_mu_);
      loop->listeners_poked_ = true;
    }
    uv_async_send(&loop->wakeup_);
  }
  void OnHandleRemoved() override {
    handle_removed.store(true);
    OnSignalsChanged();
  }
};

struct EnvLoop::Watch {
  uv_poll_t poll{};
  ObjectRef object;  // kept alive, its descriptor open, while watched
  int waiter = -1;   // our own epoll instance, for objects whose state is in shared memory
  uint64_t updated_at = 0;  // EnvLoop::update_serial_ at its last UpdateWatch
  EnvLoop* loop = nullptr;
  int flush_events = 0;  // what an outbound queue waits for (FlushEvents); 0: nothing
  std::vector<Op*> ops;
  Listener* listener = nullptr;  // this loop's listener of the channel, if any
  int events = 0;  // what the poll is started with; 0 = stopped
};

// ---- life cycle -----------------------------------------------------------------------

EnvLoop* EnvLoop::Create(napi_env env) { return new EnvLoop(env); }

EnvLoop::EnvLoop(napi_env env) : env_(env) {
  napi_value name;
  napi_create_string_utf8(env, "zircon-ipc", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &context_);
  // Result keys made once: a C-string key would be created and internalized per property.
  static const char* const kNames[kKeyCount] = {"status", "observed", "bytes", "handles",
                                                "actualBytes", "actualHandles", "handle",
                                                "type", "rights"};
  // (Held in an array: Node 20 can't reference a string directly.)
  auto keys = Napi::Array::New(env, kKeyCount);
  for (uint32_t i = 0; i < kKeyCount; ++i) keys.Set(i, Napi::String::New(env, kNames[i]));
  keys_ = Napi::Persistent(keys);
  napi_get_uv_event_loop(env, &loop_);
  uv_async_init(loop_, &wakeup_, OnWakeup);
  wakeup_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&wakeup_));
  idle_check_ = new uv_check_t;
  uv_check_init(loop_, idle_check_);
  idle_check_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(idle_check_));
  open_handles_ = 2;  // wakeup_ and idle_check_
  current_loop = this;
  napi_add_async_cleanup_hook(env, OnEnvCleanup, this, nullptr);
}

EnvLoop::~EnvLoop() = default;

void EnvLoop::OnEnvCleanup(napi_async_cleanup_hook_handle done, void* data) {
  auto* self = static_cast<EnvLoop*>(data);
  self->cleanup_done_ = done;
  // Unhook every op first: after this nothing posts to us from another thread.
  for (auto& entry : self->ops_) {
    Op* op = entry.second;
    if (op->observing) HandleTable::Get().RemoveObserver(op->handle, op);
    if (op->observing_signals) op->endpoint->RemoveSignalObserver(op);
    if (op->is_call) op->endpoint->UnregisterCall(op->waiter.get());
  }
  for (auto& entry : self->ops_) {
    Op* op = entry.second;
    if (op->timer) self->CloseTimer(op->timer);
    delete op;  // its promise is abandoned with the environment
  }
  self->ops_.clear();
  for (auto& entry : self->listeners_) {
    Listener* listener = entry.second;
    if (listener->observing) HandleTable::Get().RemoveObserver(listener->handle, listener);
    listener->endpoint->RemoveSignalObserver(listener);
    listener->watch->listener = nullptr;
    listener->callback.Reset();  // its function is abandoned with the environment
    delete listener;
  }
  self->listeners_.clear();
  self->refed_listeners_ = 0;
  std::vector<Watch*> watches;
  for (auto& entry : self->watches_) watches.push_back(entry.second);
  for (Watch* watch : watches) {
    watch->ops.clear();
    watch->flush_events = 0;
    self->CloseWatch(watch);
  }
  self->idle_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(self->idle_check_), [](uv_handle_t* check) {
    auto* loop = static_cast<EnvLoop*>(check->data);
    delete reinterpret_cast<uv_check_t*>(check);
    loop->HandleClosed();
  });
  if (current_loop == self) current_loop = nullptr;
  napi_async_destroy(self->env_, self->context_);  // while the environment still exists
  self->keys_.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&self->wakeup_), [](uv_handle_t* handle) {
    static_cast<EnvLoop*>(handle->data)->HandleClosed();
  });
}

void EnvLoop::HandleClosed() {
  if (--open_handles_ != 0 || !cleanup_done_) return;
  napi_remove_async_cleanup_hook(cleanup_done_);  // the environment may go on ending now
  delete this;
}

void EnvLoop::CloseTimer(uv_timer_t* timer) {
  timer->data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(timer), OnTimerClosed);
}

void EnvLoop::OnTimerClosed(uv_handle_t* timer) {
  auto* self = static_cast<EnvLoop*>(timer->data);
  delete reinterpret_cast<uv_timer_t*>(timer);
  self->HandleClosed();
}

void EnvLoop::InstallHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    WatchHooks hooks;
    hooks.current_owner = &EnvLoop::CurrentOwner;
    hooks.arm = &EnvLoop::Arm;
    hooks.disarm = &EnvLoop::Disarm;
    hooks.poke = &EnvLoop::Poke;
    SetWatchHooks(hooks);
  });
}

void* EnvLoop::CurrentOwner() { return current_loop; }

void EnvLoop::UpdateRef() {
  auto* handle = reinterpret_cast<uv_handle_t*>(&wakeup_);
  if (ops_.empty() && refed_listeners_ == 0) uv_unref(handle); else uv_ref(handle);
}

// ---- watches --------------------------------------------------------------------------

EnvLoop::Watch* EnvLoop::WatchFor(const ObjectRef& object) {
  auto it = watches_.find(object.get());
  if (it != watches_.end()) return it->second;
  auto* watch = new Watch();
  watch->object = object;
  watch->loop = this;
  if (!object->PollableFd() && (watch->waiter = OpenWaiter(*object)) < 0) {
    delete watch;
    return nullptr;
  }
  if (uv_poll_init(loop_, &watch->poll, watch->waiter >= 0 ? watch->waiter : object->fd()) != 0) {
    if (watch->waiter >= 0) close(watch->waiter);
    delete watch;
    return nullptr;
  }
  ++open_handles_;
  watch->poll.data = watch;
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch->poll));
  watches_[object.get()] = watch;
  return watch;
}

void EnvLoop::CloseWatch(Watch* watch) {
  watches_.erase(watch->object.get());
  if (watch->object->type() == ZX_OBJ_TYPE_CHANNEL)
    static_cast<Endpoint*>(watch->object.get())->DropWatcher(this);
  // uv_close takes the descriptor out of the loop's epoll set, by its number, before it
  // returns: the descriptor must still be open then (closed, its number may be another
  // file's already). After it, libuv no longer looks at the descriptor.
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), OnWatchClosed);
  watch->object.reset();  // now: a closed handle's descriptor closes with its last reference
}

void EnvLoop::OnWatchClosed(uv_handle_t* poll) {
  auto* watch = static_cast<Watch*>(poll->data);
  EnvLoop* self = watch->loop;
  if (watch->waiter >= 0) close(watch->waiter);
  delete watch;
  self->HandleClosed();
}

// The poll events that can bring a pending op closer, given the object's state now.
// None once the peer is gone (HUP would fire forever): only a deadline or close is left.
void EnvLoop::UpdateWatch(Watch* watch, const zx_signals_t* known) {
  watch->updated_at = ++update_serial_;
  if (watch->ops.empty() && !watch->flush_events && !watch->listener) {
    // Idle: keep it (and its epoll registration) until this loop turn ends, so that the
    // next wait, typically started by the promise reaction of the last one, reuses it.
    idle_.push_back(watch->object.get());
    uv_check_start(idle_check_, OnIdleCheck);
    return;
  }
  int events = watch->flush_events;
  // A listener reads until the peer's end, which makes the socket readable too.
  if (watch->listener) events |= UV_READABLE;
  if (!watch->ops.empty()) {
    const zx_signals_t now = known ? *known : SignalsOf(*watch->object);
    const bool is_channel = watch->object->type() == ZX_OBJ_TYPE_CHANNEL;
    for (Op* op : watch->ops)
      if (!op->is_call && (now & op->signals)) Post(op->id);  // settled from a proper scope
    if (watch->waiter >= 0) {
      events |= UV_READABLE;  // an edge of the object's own descriptors: look again
    } else if (watch->object->type() == ZX_OBJ_TYPE_PORT) {
      events |= UV_READABLE;  // its epoll instance: packets queued, or objects to look at
    } else if (is_channel) {
      if (!(now & ZX_CHANNEL_PEER_CLOSED)) {
        for (Op* op : watch->ops) {
          // DISCONNECT comes with READABLE: a hangup then says so (OnPoll).
          // A call reads for itself, unless the stash is full: then it waits for a read.
          const bool call_reads = op->is_call && !op->endpoint->StashFull();
          if (call_reads || (op->signals & ZX_CHANNEL_READABLE)) events |= UV_READABLE | UV_DISCONNECT;
          if (op->signals & ZX_CHANNEL_PEER_CLOSED) events |= UV_DISCONNECT;
        }
      }
    } else {
      for (Op* op : watch->ops) {
        const short wanted = watch->object->PollEventsFor(op->signals, now);
        if (wanted & POLLIN) events |= UV_READABLE;
        if (wanted & POLLOUT) events |= UV_WRITABLE;
        if (wanted & POLLRDHUP) events |= UV_DISCONNECT;
        if (wanted & POLLPRI) events |= UV_PRIORITIZED;  // asked only for the POLLHUP it brings
      }
    }
  }
  if (events == watch->events) return;
  watch->events = events;
  if (events) uv_poll_start(&watch->poll, events, OnPoll);
  else uv_poll_stop(&watch->poll);
}

void EnvLoop::CloseIdleWatches() {
  std::vector<Object*> keys;
  keys.swap(idle_);
  uv_check_stop(idle_check_);
  for (Object* key : keys) {
    auto it = watches_.find(key);
    if (it != watches_.end() && it->second->ops.empty() && !it->second->flush_events &&
        !it->second->listener)
      CloseWatch(it->second);
  }
}

void EnvLoop::OnIdleCheck(uv_check_t* check) { static_cast<EnvLoop*>(check->data)->CloseIdleWatches(); }

void EnvLoop::Arm(const EndpointRef& endpoint, void* owner) {
  auto* self = static_cast<EnvLoop*>(owner);
  if (self != current_loop) return;
  Watch* watch = self->WatchFor(endpoint);
  if (!watch) {
    endpoint->DropWatcher(self);
    return;
  }
  watch->flush_events = FlushEvents(endpoint->WatchedBy(self));
  self->UpdateWatch(watch);
}

void EnvLoop::StopFlushing(Watch* watch) {
  watch->flush_events = 0;
  static_cast<Endpoint*>(watch->object.get())->DropWatcher(this);
  UpdateWatch(watch);
}

void EnvLoop::Disarm(const EndpointRef& endpoint, void* owner) {
  auto* self = static_cast<EnvLoop*>(owner);
  if (self != current_loop) return;
  auto it = self->watches_.find(endpoint.get());
  if (it != self->watches_.end() && it->second->flush_events) self->StopFlushing(it->second);
}

void EnvLoop::Poke(void* owner) {
  auto* self = static_cast<EnvLoop*>(owner);
  {
    std::lock_guard<std::mutex> lock(self->posted_mu_);
    self->poked_ = true;
  }
  uv_async_send(&self->wakeup_);
}

void EnvLoop::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* watch = static_cast<Watch*>(poll->data);
  EnvLoop* self = watch->loop;
  Object* const key = watch->object.get();  // the watch may close below
  // An error (POLLERR) has stopped the poll: UpdateWatch below starts it again if needed.
  // On a socket it is an error the next send reports and clears (ECONNRESET: the reader
  // died with records unread), so a flush learns of the peer's death from it.
  if (status < 0) watch->events = 0;
  if (watch->flush_events && (status < 0 || (events & watch->flush_events))) {
    watch->flush_events = FlushEvents(static_cast<Endpoint*>(key)->FlushForWatcher(self));
    if (!watch->flush_events && watch->ops.empty() && !watch->listener) {
      self->CloseWatch(watch);  // done: the endpoint may close as soon as its handle does
      return;
    }
  }
  if (watch->waiter >= 0) DrainWaiter(watch->waiter);
  uint64_t settled_at = 0;
  if (!watch->ops.empty() || watch->listener) {
    // Settling runs promise reactions: inside a callback scope, like any callback. The
    // reference below is dropped before they run, so a close() in them closes at once.
    Napi::HandleScope handles(self->env_);
    Napi::CallbackScope scope(self->env_, self->context_);
    const uint32_t listener = watch->listener ? watch->listener->id : 0;
    if (!watch->ops.empty()) {
      ObjectRef object = watch->object;
      const zx_signals_t* known = nullptr;
      zx_signals_t derived;
      if (object->type() == ZX_OBJ_TYPE_CHANNEL) {
        auto* endpoint = static_cast<Endpoint*>(object.get());
        if (endpoint->HasPendingCalls()) {
          // Replies routed here are settled just below, without a wakeup of our own.
          self->dispatching_ = true;
          endpoint->PumpForCalls(kRecordsPerTurn);
          self->dispatching_ = false;
        } else if (status == 0 && (events & UV_READABLE) && !(events & UV_DISCONNECT) &&
                   !endpoint->EverCalled()) {
          // A record, no hangup, and no call that could have taken it (Endpoint::EverCalled).
          derived = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
          known = &derived;
        }
      }
      self->ProcessPosted();
      auto it = self->watches_.find(key);
      if (it != self->watches_.end()) self->CheckWaits(it->second, known);
    }
    // After the calls have taken their replies: what is left is the listener's.
    if (listener) self->Dispatch(listener);
    settled_at = self->update_serial_;
  }  // promise reactions run here
  // A reaction that started a wait here (the usual next step) has just looked at the
  // object and set the poll: looking again would only cost a poll(2).
  auto it = self->watches_.find(key);
  if (it != self->watches_.end() && !(settled_at && it->second->updated_at > settled_at))
    self->UpdateWatch(it->second);
}

void EnvLoop::CheckWaits(Watch* watch, const zx_signals_t* known) {
  if (watch->ops.empty()) return;
  if (watch->object->type() == ZX_OBJ_TYPE_PORT) return DeliverPackets(watch);
  const zx_signals_t now = known ? *known : SignalsOf(*watch->object);
  std::vector<Op*> satisfied;
  for (Op* op : watch->ops)
    if (!op->is_call && (now & op->signals)) satisfied.push_back(op);
  for (Op* op : satisfied) SettleWait(op, ZX_OK, now);
}

// One packet per pending port wait, oldest first, while packets last.
void EnvLoop::DeliverPackets(Watch* watch) {
  auto* port = static_cast<Port*>(watch->object.get());
  const std::vector<Op*> waiting = watch->ops;  // settling edits watch->ops
  for (Op* op : waiting) {
    PortPacket packet;
    if (!port->TryDequeue(&packet)) break;
    SettlePortWait(op, ZX_OK, &packet);
  }
}

// ---- ops ------------------------------------------------------------------------------

Napi::Value EnvLoop::Resolved(Napi::Value value) {
  napi_deferred deferred;
  napi_value promise = nullptr;
  if (napi_create_promise(env_, &deferred, &promise) != napi_ok) return env_.Undefined();  // see StartOp
  napi_resolve_deferred(env_, deferred, value);
  return Napi::Value(env_, promise);
}

Napi::Value EnvLoop::Key(ResultKey key) { return keys_.Value().Get(static_cast<uint32_t>(key)); }

Napi::Value EnvLoop::WaitResult(zx_status_t status, zx_signals_t observed) {
  auto result = Napi::Object::New(env_);
  result.Set(Key(kStatus), Napi::Number::New(env_, status));
  result.Set(Key(kObserved), Napi::Number::New(env_, observed));
  return result;
}

EnvLoop::Op* EnvLoop::NewOp(bool is_call, zx_handle_t h, zx_time_t deadline) {
  auto* op = new Op();
  do op->id = ++next_id_; while (op->id == 0 || ops_.count(op->id));
  op->is_call = is_call;
  op->loop = this;
  op->handle = h;
  op->deadline = deadline;
  return op;
}

// Makes the promise of `op`, registers it, watches its object, arms its deadline; `*id`
// names it. N-API refuses to make a promise once the environment is going away: then the
// op is dropped (a call's request is out: its reply will land in the normal queue).
Napi::Value EnvLoop::StartOp(Op* op, const ObjectRef& object, const zx_signals_t* known,
                             uint32_t* id) {
  napi_value promise = nullptr;
  if (napi_create_promise(env_, &op->deferred, &promise) != napi_ok) {
    if (op->is_call) op->endpoint->UnregisterCall(op->waiter.get());
    delete op;
    return env_.Undefined();
  }
  ops_[op->id] = op;
  op->observing = HandleTable::Get().AddObserver(op->handle, op) == ZX_OK;
  if (!op->is_call && object->type() == ZX_OBJ_TYPE_CHANNEL) {
    op->endpoint = std::static_pointer_cast<Endpoint>(object);
    op->endpoint->AddSignalObserver(op);
    op->observing_signals = true;
    // A message stashed between the first look and now told nobody: look again.
    if (op->endpoint->HasStash()) Post(op->id);
  }
  if (!op->observing) op->handle_removed.store(true);
  if (op->deadline != ZX_TIME_INFINITE) {
    op->timer = new uv_timer_t;
    uv_timer_init(loop_, op->timer);
    ++open_handles_;
    op->timer->data = op;
    uv_unref(reinterpret_cast<uv_handle_t*>(op->timer));
    const zx_time_t remaining = NsUntil(op->deadline);
    uint64_t ms = static_cast<uint64_t>((remaining + 999999) / 1000000);
    uv_timer_start(op->timer, OnTimer, ms, 0);
  }
  Watch* watch = WatchFor(object);
  op->watch = watch;
  if (watch) {
    watch->ops.push_back(op);
    UpdateWatch(watch, watch->ops.size() == 1 ? known : nullptr);
  }
  UpdateRef();
  if (op->handle_removed.load()) Post(op->id);
  *id = op->id;
  return Napi::Value(env_, promise);
}

Napi::Value EnvLoop::WaitAsync(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                               uint32_t* id) {
  *id = 0;
  HandleInfo info;
  zx_status_t status = HandleTable::Get().Lookup(h, &info);
  if (status == ZX_OK && !(info.rights & ZX_RIGHT_WAIT)) status = ZX_ERR_ACCESS_DENIED;
  if (status != ZX_OK) return Resolved(WaitResult(status, 0));
  const zx_signals_t now = SignalsOf(*info.object);
  if (now & signals) return Resolved(WaitResult(ZX_OK, now));
  if (NsUntil(deadline) == 0)
    return Resolved(WaitResult(ZX_ERR_TIMED_OUT, now));
  // An object whose state is in shared memory is watched through a descriptor of our own
  // (OpenWaiter); without one nothing would ever look at its signals again.
  if (!info.object->PollableFd() && !WatchFor(info.object))
    return Resolved(WaitResult(ZX_ERR_NO_RESOURCES, now));

  Op* op = NewOp(false, h, deadline);
  op->signals = signals;
  return StartOp(op, info.object, &now, id);
}

Napi::Value EnvLoop::PortWaitAsync(zx_handle_t h, zx_time_t deadline, uint32_t* id, uint32_t* now) {
  *id = 0;
  std::shared_ptr<Port> port;
  zx_status_t status = LookupPortToWait(h, &port);
  PortPacket packet;
  // Settled now: a status, no promise and no array (lib/sys-port.ts makes the promise).
  if (status == ZX_OK && port->TryDequeue(&packet)) {
    std::memcpy(now, &packet, sizeof packet);
    return Napi::Number::New(env_, ZX_OK);
  }
  if (status == ZX_OK && NsUntil(deadline) == 0) status = ZX_ERR_TIMED_OUT;
  if (status != ZX_OK) return Napi::Number::New(env_, status);

  Op* op = NewOp(false, h, deadline);
  op->is_port = true;
  return StartOp(op, port, nullptr, id);
}

Napi::Value EnvLoop::CallAsync(zx_handle_t h, uint32_t options, zx_time_t deadline,
                               const iovec* payload, size_t payload_count,
                               HandleDisposition* dispositions, size_t num_dispositions,
                               uint32_t num_bytes, uint32_t num_handles, uint32_t* id) {
  *id = 0;
  Op* op = NewOp(true, h, deadline);
  op->waiter = std::make_unique<CallWaiter>(this, op->id);
  op->num_bytes = num_bytes;
  op->num_handles = num_handles;
  zx_status_t status = ChannelCallStart(h, options, payload, payload_count, dispositions,
                                        num_dispositions, op->waiter.get(), &op->endpoint);
  if (status != ZX_OK) {
    delete op;
    auto result = Napi::Object::New(env_);
    result.Set(Key(kStatus), Napi::Number::New(env_, status));
    result.Set(Key(kBytes), Napi::Buffer<uint8_t>::New(env_, 0));
    result.Set(Key(kHandles), Napi::Array::New(env_));
    result.Set(Key(kActualBytes), Napi::Number::New(env_, 0));
    result.Set(Key(kActualHandles), Napi::Number::New(env_, 0));
    return Resolved(result);
  }
  return StartOp(op, op->endpoint, nullptr, id);
}

bool EnvLoop::Cancel(uint32_t id) {
  auto it = ops_.find(id);
  if (it == ops_.end()) return false;
  Op* op = it->second;
  if (op->is_port) SettlePortWait(op, ZX_ERR_CANCELED, nullptr);
  else if (!op->is_call) SettleWait(op, ZX_ERR_CANCELED, Observed(op));
  else SettleCall(op, op->endpoint->UnregisterCall(op->waiter.get()) ? ZX_ERR_CANCELED : ZX_OK);
  return true;
}

void EnvLoop::Post(uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(id);
  }
  // OnPoll processes it right after. (The thread check first: `dispatching_` is this
  // loop's own, read only on its thread.)
  if (current_loop == this && dispatching_) return;
  uv_async_send(&wakeup_);
}

void EnvLoop::OnWakeup(uv_async_t* async) {
  auto* self = static_cast<EnvLoop*>(async->data);
  bool poked, listeners_poked;
  {
    std::lock_guard<std::mutex> lock(self->posted_mu_);
    poked = self->poked_;
    self->poked_ = false;
    listeners_poked = self->listeners_poked_;
    self->listeners_poked_ = false;
  }
  if (poked) {
    // Queues drained, held back or moving again by another thread's doing: watch them for
    // what they wait for now, or no more.
    std::vector<std::pair<Watch*, int>> changed;
    for (auto& entry : self->watches_) {
      Watch* watch = entry.second;
      if (!watch->flush_events) continue;
      const int events = FlushEvents(static_cast<Endpoint*>(watch->object.get())->WatchedBy(self));
      if (events != watch->flush_events) changed.emplace_back(watch, events);
    }
    for (auto& [watch, events] : changed) {
      if (!events) {
        self->StopFlushing(watch);
        continue;
      }
      watch->flush_events = events;
      self->UpdateWatch(watch);
    }
  }
  Napi::HandleScope handles(self->env_);
  Napi::CallbackScope scope(self->env_, self->context_);
  self->ProcessPosted();
  if (listeners_poked) self->DispatchPoked();
}

void EnvLoop::SettleNow() {
  ProcessPosted();
  CloseIdleWatches();  // now: a closed handle's descriptor closes with it
}

void EnvLoop::ProcessPosted() {
  std::vector<uint32_t> ids;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    ids.swap(posted_);
  }
  for (uint32_t id : ids) {
    auto it = ops_.find(id);
    if (it == ops_.end()) continue;
    Op* op = it->second;
    if (op->is_port) {
      if (op->handle_removed.load()) SettlePortWait(op, ZX_ERR_CANCELED, nullptr);
    } else if (op->is_call) {
      if (op->endpoint->CallDone(op->waiter.get())) {
        SettleCall(op, ZX_OK);
      } else if (op->handle_removed.load()) {
        // Closed (or moved) while waiting, unless the reply beat the close.
        SettleCall(op, op->endpoint->UnregisterCall(op->waiter.get()) ? ZX_ERR_CANCELED : ZX_OK);
      } else if (op->watch) {
        UpdateWatch(op->watch);  // the stash has room again: read on
      }
    } else if (op->handle_removed.load()) {
      SettleWait(op, ZX_ERR_CANCELED, Observed(op) | ZX_SIGNAL_HANDLE_CLOSED);
    } else {
      const zx_signals_t now = Observed(op);  // a call stashed a message
      if (now & op->signals) SettleWait(op, ZX_OK, now);
    }
  }
}

void EnvLoop::OnTimer(uv_timer_t* timer) {
  auto* op = static_cast<Op*>(timer->data);
  EnvLoop* self = op->loop;
  const zx_time_t remaining = NsUntil(op->deadline);
  if (remaining > 0) {  // the loop's clock ran ahead of the monotonic one
    uv_timer_start(timer, OnTimer, static_cast<uint64_t>((remaining + 999999) / 1000000), 0);
    return;
  }
  Napi::HandleScope handles(self->env_);
  Napi::CallbackScope scope(self->env_, self->context_);
  if (op->is_port) {
    // A packet that is there at the deadline is still taken.
    PortPacket packet;
    const bool got = op->watch && static_cast<Port*>(op->watch->object.get())->TryDequeue(&packet);
    self->SettlePortWait(op, got ? ZX_OK : ZX_ERR_TIMED_OUT, got ? &packet : nullptr);
  } else if (!op->is_call) {
    const zx_signals_t now = self->Observed(op);
    self->SettleWait(op, (now & op->signals) ? ZX_OK : ZX_ERR_TIMED_OUT, now);
  } else {
    // A late reply then lands in the normal queue; one that just came is delivered.
    bool pending = op->endpoint->UnregisterCall(op->waiter.get());
    self->SettleCall(op, pending ? ZX_ERR_TIMED_OUT : ZX_OK);
  }
}

zx_signals_t EnvLoop::Observed(Op* op) {
  return op->watch ? SignalsOf(*op->watch->object) : 0;
}

void EnvLoop::SettleWait(Op* op, zx_status_t status, zx_signals_t observed) {
  Finish(op, WaitResult(status, observed));
}

// [status], or [ZX_OK, words...]: numbers only, which is far cheaper to make here than
// objects, bigints and a Buffer.
Napi::Value EnvLoop::PortWaitResult(zx_status_t status, const PortPacket* packet) {
  uint32_t words[kPortPacketWords];
  if (packet) std::memcpy(words, packet, sizeof words);
  auto result = Napi::Array::New(env_, packet ? 1 + kPortPacketWords : 1);
  result.Set(0u, Napi::Number::New(env_, status));
  for (uint32_t i = 0; packet && i < kPortPacketWords; ++i) result.Set(i + 1, Napi::Number::New(env_, words[i]));
  return result;
}

void EnvLoop::SettlePortWait(Op* op, zx_status_t status, const PortPacket* packet) {
  Finish(op, PortWaitResult(status, packet));
}

// `status` is the call's own outcome; ZX_OK means "the waiter is done: look at it".
void EnvLoop::SettleCall(Op* op, zx_status_t status) {
  ReadResult read;
  if (status == ZX_OK) status = ChannelCallFinish(*op->waiter, op->num_bytes, op->num_handles, &read);
  auto result = Napi::Object::New(env_);
  const bool ok = status == ZX_OK;
  result.Set(Key(kStatus), Napi::Number::New(env_, status));
  result.Set(Key(kBytes), ok ? Napi::Buffer<uint8_t>::Copy(env_, read.payload, read.actual_bytes)
                         : Napi::Buffer<uint8_t>::New(env_, 0));
  auto handles = Napi::Array::New(env_, ok ? read.actual_handles : 0);
  for (uint32_t i = 0; ok && i < read.actual_handles; ++i) {
    auto info = Napi::Object::New(env_);
    info.Set(Key(kHandle), Napi::Number::New(env_, read.handles[i]));
    info.Set(Key(kType), Napi::Number::New(env_, read.types[i]));
    info.Set(Key(kRights), Napi::Number::New(env_, read.rights[i]));
    handles.Set(i, info);
  }
  result.Set(Key(kHandles), handles);
  const bool sized = ok || status == ZX_ERR_BUFFER_TOO_SMALL;
  result.Set(Key(kActualBytes), Napi::Number::New(env_, sized ? read.actual_bytes : 0));
  result.Set(Key(kActualHandles), Napi::Number::New(env_, sized ? read.actual_handles : 0));
  Finish(op, result);
}

void EnvLoop::Finish(Op* op, Napi::Value result) {
  ops_.erase(op->id);
  if (op->observing) HandleTable::Get().RemoveObserver(op->handle, op);
  if (op->observing_signals) op->endpoint->RemoveSignalObserver(op);
  if (op->timer) CloseTimer(op->timer);
  Watch* watch = op->watch;
  if (watch) watch->ops.erase(std::find(watch->ops.begin(), watch->ops.end(), op));
  napi_resolve_deferred(env_, op->deferred, result);
  delete op;
  if (watch) UpdateWatch(watch);
  UpdateRef();
}


// ---- listeners ------------------------------------------------------------------------

int32_t EnvLoop::Listen(zx_handle_t h, Napi::Function callback, ListenRead read, void* context) {
  HandleInfo info;
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  Watch* watch = WatchFor(info.object);
  if (!watch) return ZX_ERR_NO_RESOURCES;
  if (watch->listener) return ZX_ERR_ALREADY_BOUND;  // one reader per endpoint and loop
  auto* listener = new Listener();
  do listener->id = ++next_id_; while (listener->id == 0 || listeners_.count(listener->id));
  listener->loop = this;
  listener->handle = h;
  listener->endpoint = std::static_pointer_cast<Endpoint>(info.object);
  listener->watch = watch;
  listener->callback = Napi::Persistent(callback);
  listener->read = read;
  listener->context = context;
  listeners_[listener->id] = listener;
  watch->listener = listener;
  ++refed_listeners_;
  listener->endpoint->AddSignalObserver(listener);
  listener->observing = HandleTable::Get().AddObserver(h, listener) == ZX_OK;
  // A message a call stashed is no poll's news, nor is a handle already gone: look at once.
  if (!listener->observing) listener->handle_removed.store(true);
  if (listener->endpoint->HasStash() || !listener->observing) listener->OnSignalsChanged();
  UpdateWatch(watch);
  UpdateRef();
  return static_cast<int32_t>(listener->id);
}

bool EnvLoop::Unlisten(uint32_t id) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return false;
  EndListener(it->second);
  return true;
}

void EnvLoop::RefListener(uint32_t id, bool ref) {
  auto it = listeners_.find(id);
  if (it == listeners_.end() || it->second->refed == ref) return;
  it->second->refed = ref;
  if (ref) ++refed_listeners_; else --refed_listeners_;
  UpdateRef();
}

void EnvLoop::EndListener(Listener* listener) {
  listeners_.erase(listener->id);
  if (listener->refed) --refed_listeners_;
  if (listener->observing) HandleTable::Get().RemoveObserver(listener->handle, listener);
  listener->endpoint->RemoveSignalObserver(listener);
  Watch* watch = listener->watch;
  watch->listener = nullptr;
  delete listener;
  UpdateWatch(watch);
  UpdateRef();
}

// One record at a time, each passed on before the next is read (see the header). The
// listener is looked up again after each call: the function may have ended it, closed
// or moved the endpoint, or started another.
void EnvLoop::Dispatch(uint32_t id) {
  if (EnvironmentStopping(env_)) return;
  for (size_t i = 0; i < kRecordsPerTurn; ++i) {
    auto it = listeners_.find(id);
    if (it == listeners_.end()) return;
    Listener* listener = it->second;
    HandleInfo info;
    zx_status_t status = HandleTable::Get().Lookup(listener->handle, &info);
    // The handle no longer names the endpoint (closed or moved behind the listener's
    // back): nothing is read for it any more.
    if (status == ZX_OK && info.object != listener->endpoint) status = ZX_ERR_BAD_HANDLE;
    Napi::Value value = status == ZX_OK
                            ? listener->read(listener->context, listener->handle, &status)
                            : Napi::Number::New(env_, status);
    if (status == ZX_ERR_SHOULD_WAIT) return;
    // A bad record or lost descriptors are reported and reading goes on; anything else
    // (the peer's end, the handle gone) is the last thing the function hears.
    const bool last = status != ZX_OK && status != ZX_ERR_IO_DATA_INTEGRITY &&
                      status != ZX_ERR_NO_RESOURCES;
    napi_value fn = listener->callback.Value();
    // Ended first: the function may start another listener on the endpoint.
    if (last) EndListener(listener);
    napi_value args[1] = {value};
    napi_value undefined, ignored;
    napi_get_undefined(env_, &undefined);
    const napi_status called = napi_call_function(env_, undefined, fn, 1, args, &ignored);
    if (called == napi_pending_exception) {
      // Thrown by a listener (or an 'error' nobody listens to): uncaught, as Node does
      // with an exception thrown by any event listener.
      napi_value error;
      napi_get_and_clear_last_exception(env_, &error);
      napi_fatal_exception(env_, error);
      return;
    }
    if (called != napi_ok || last) return;
  }
}

void EnvLoop::DispatchPoked() {
  std::vector<uint32_t> ids;
  for (auto& entry : listeners_)
    if (entry.second->handle_removed.load() || entry.second->endpoint->HasStash())
      ids.push_back(entry.first);
  for (uint32_t id : ids) Dispatch(id);
}

}  // namespace zxb
