// EnvLoop's watches: one uv_poll per object per environment (libuv allows one per
// descriptor per loop), what each readiness does (settle waits, route call replies,
// deliver port packets, feed a listener), and the write watch that flushes outbound
// queues when their socket becomes writable (dropping them when the peer hangs up, also
// while held back behind a carried endpoint's queue).
#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "binding/env_loop.h"
#include "binding/env_loop_parts.h"
#include "core/platform.h"

namespace zxb {

using namespace zxc;

namespace {
// The poll events an outbound queue's watch starts with. A hangup (DISCONNECT, or
// POLLHUP/POLLERR, which come unasked) is all that can move a queue held back. (While a
// framed stream's watch hears edges, any of them: room to write, a hangup.)
int FlushEvents(QueueWatch what) {
  return what == QueueWatch::kWritable ? UV_WRITABLE
         : what == QueueWatch::kHangup ? UV_DISCONNECT
                                       : 0;
}
}  // namespace

// ---- watches --------------------------------------------------------------------------

EnvLoop::Watch::~Watch() {
  // uv_close takes the descriptor out of the loop's epoll set, by its number, before it
  // returns: the descriptor must still be open then (closed, its number may be another
  // file's already). After it, libuv no longer looks at the descriptor. So the poll is
  // closed first, then our own epoll instance, and last the object (a closed handle's
  // descriptor closes with its last reference).
  poll.Close();
  edge_poll.Close();
  bell_poll.Close();
  if (waiter >= 0) close(waiter);
  if (bell >= 0) close(bell);
}

EnvLoop::Watch* EnvLoop::WatchFor(const ObjectRef& object, zx_signals_t wanted) {
  // First: a page for user signals is made here if there is none yet.
  const bool own_waiter = object->NeedsWaiter(wanted);
  Watch* watch;
  auto it = watches_.find(object.get());
  if (it != watches_.end()) {
    watch = it->second;
    // A page made since the watch began: its doorbell joins.
    const bool user = object->user_signals() && own_waiter;
    if (user && watch->waiter >= 0 && !object->WatchIn(watch->waiter, 0)) return nullptr;
  } else {
    auto made = std::make_unique<Watch>(this, object);
    if (!object->PollsFdFirst() && (made->waiter = OpenWaiter(*object)) < 0) return nullptr;
    if (!OpenPoll(made.get(), &made->poll, made->waiter >= 0 ? made->waiter : object->fd()))
      return nullptr;
    watches_[object.get()] = made.get();
    watch = made.release();
  }
  if (own_waiter && watch->waiter < 0 && !OpenBell(watch)) return nullptr;
  return watch;
}

bool EnvLoop::OpenBell(Watch* watch) {
  if (watch->bell >= 0) return true;
  // The doorbell alone: the poll watches the descriptor.
  Object& object = *watch->object;
  const int bell = object.user_signals() ? object.user_signals()->OpenBell() : OpenWaiter(object);
  if (bell < 0) return false;
  if (!OpenPoll(watch, &watch->bell_poll, bell)) {
    close(bell);
    return false;
  }
  watch->bell = bell;
  return true;
}

bool EnvLoop::OpenPoll(Watch* watch, UvHandle<uv_poll_t>* poll, int fd) {
  if (poll->Open(this, loop_, uv_poll_init, fd) != 0) return false;
  (*poll)->data = watch;
  uv_unref(poll->base());
  return true;
}

bool EnvLoop::SetEdges(Watch* watch, bool edges) {
  if (edges == bool(watch->edge_poll)) return true;
  // The poll watching now stops; UpdateWatch goes on to start the other.
  if (watch->events) uv_poll_stop(watch->active());
  watch->events = 0;
  if (edges) {
    // Registered edge-triggered while the socket is readable, the waiter reports once at
    // first: one look more, which finds the same part of a frame, and then edges only.
    const int waiter = OpenWaiter(*watch->object);
    if (waiter < 0) return false;
    if (!OpenPoll(watch, &watch->edge_poll, waiter)) {
      close(waiter);
      return false;
    }
    watch->waiter = waiter;
  } else {
    watch->edge_poll.Close();  // before its descriptor closes (~Watch)
    close(watch->waiter);
    watch->waiter = -1;
    // User signals wanted came through the waiter (the page's doorbell is in it): now the bell.
    if (watch->object->user_signals() && !OpenBell(watch)) return false;
  }
  return true;
}

void EnvLoop::CloseWatch(Watch* watch) {
  watches_.erase(watch->object.get());
  if (watch->object->type() == ZX_OBJ_TYPE_CHANNEL)
    static_cast<Endpoint*>(watch->object.get())->DropWatcher(this);
  delete watch;  // its poll closed before its descriptors (~Watch)
}

// The poll events that can bring a pending op closer, given the object's state now.
// None once the peer is gone (HUP would fire forever): only a deadline or close is left.
void EnvLoop::UpdateWatch(Watch* watch, const zx_signals_t* known) {
  watch->updated_at = ++update_serial_;
  // The bell rings for waits on what the object's page holds (user signals) only. Between
  // two waits (no op) it stays as it is: a loop that waits again and again doesn't start
  // and stop it each time.
  if (watch->bell >= 0 && !watch->ops.empty()) {
    bool user = false;
    for (Op* op : watch->ops)
      if (Wait* wait = op->AsWait()) user |= watch->object->NeedsWaiter(wait->signals);
    if (user != watch->bell_on) {
      watch->bell_on = user;
      if (user)
        uv_poll_start(watch->bell_poll.get(), UV_READABLE, OnPoll);
      else
        uv_poll_stop(watch->bell_poll.get());
    }
  }
  if (watch->Idle()) {
    // Idle: keep it (and its epoll registration) until this loop turn ends, so that the
    // next wait, typically started by the promise reaction of the last one, reuses it.
    idle_.push_back(watch->object.get());
    uv_check_start(idle_check_.get(), OnIdleCheck);
    return;
  }
  int events = watch->flush_events;
  // A listener reads until the peer's end, which makes the socket readable too.
  if (watch->listener && watch->listener->WantsReadable()) events |= UV_READABLE;
  if (!watch->ops.empty()) {
    const zx_signals_t now = known ? *known : SignalsOf(*watch->object);
    const bool is_channel = watch->object->type() == ZX_OBJ_TYPE_CHANNEL;
    for (Op* op : watch->ops) {
      Wait* wait = op->AsWait();
      if (wait && (now & wait->signals)) Post(op->id);  // settled from a proper scope
    }
    if (watch->waiter >= 0 && !watch->edge_poll) {
      events |= UV_READABLE;  // an edge of the object's own descriptors: look again
    } else if (watch->object->type() == ZX_OBJ_TYPE_PORT) {
      events |= UV_READABLE;  // its epoll instance: packets queued, or objects to look at
    } else if (is_channel) {
      if (!(now & ZX_CHANNEL_PEER_CLOSED)) {
        for (Op* op : watch->ops) {
          // DISCONNECT comes with READABLE: a hangup then says so (OnPoll).
          // A call reads for itself, unless the stash is full: then it waits for a read.
          Wait* wait = op->AsWait();
          const zx_signals_t signals = wait ? wait->signals : 0;
          if (op->ReadsForItself() || (signals & ZX_CHANNEL_READABLE))
            events |= UV_READABLE | UV_DISCONNECT;
          if (signals & ZX_CHANNEL_PEER_CLOSED) events |= UV_DISCONNECT;
        }
      }
    } else {
      for (Op* op : watch->ops) {
        Wait* wait = op->AsWait();
        const short wanted = watch->object->PollEventsFor(wait ? wait->signals : 0, now);
        if (wanted & POLLIN) events |= UV_READABLE;
        if (wanted & POLLOUT) events |= UV_WRITABLE;
        if (wanted & kPollHangupEvent) events |= UV_DISCONNECT;
        if (wanted & POLLPRI) events |= UV_PRIORITIZED;  // asked only for the POLLHUP it brings
      }
    }
  }
  if (watch->object->type() == ZX_OBJ_TYPE_CHANNEL && !watch->object->PollableFd()) {
    // A framed stream hears edges while part of a frame heads it, and while it must hear a
    // hangup without reading (libuv's kqueue backend tells a hangup only with READABLE,
    // which a level-triggered poll would report forever while a whole frame waits unread).
    // Its waiter hears everything: data, a hangup, room to write.
    const bool edges = watch->part_at_head || ((events & UV_DISCONNECT) && !(events & UV_READABLE));
    // (Without a waiter, it stays polled: busy, not stuck, until the frame is whole.)
    SetEdges(watch, edges);
    if (watch->edge_poll) LookAgainIfReadable(watch);
    if (watch->edge_poll && events) events = UV_READABLE;
  }
  if (events == watch->events) return;
  watch->events = events;
  if (events)
    uv_poll_start(watch->active(), events, OnPoll);
  else
    uv_poll_stop(watch->active());
}

void EnvLoop::LookAgainIfReadable(Watch* watch) {
  bool reads = watch->listener && watch->listener->WantsReadable();
  for (Op* op : watch->ops) reads |= op->ReadsForItself();
  Object* key = watch->object.get();
  if (!reads || std::find(look_again_.begin(), look_again_.end(), key) != look_again_.end() ||
      !static_cast<Endpoint*>(key)->WholeFrameAtHead())
    return;
  look_again_.push_back(key);
  uv_async_send(wakeup_.get());
}

void EnvLoop::LookAgain() {
  std::vector<Object*> keys;
  keys.swap(look_again_);
  for (Object* key : keys) {
    auto it = watches_.find(key);
    // (Polled again since, the socket tells by itself.)
    if (it != watches_.end() && it->second->edge_poll)
      OnPoll(it->second->edge_poll.get(), 0, UV_READABLE);
  }
}

void EnvLoop::CloseIdleWatches() {
  std::vector<Object*> keys;
  keys.swap(idle_);
  uv_check_stop(idle_check_.get());
  for (Object* key : keys) {
    auto it = watches_.find(key);
    if (it != watches_.end() && it->second->Idle()) CloseWatch(it->second);
  }
}

void EnvLoop::OnIdleCheck(uv_check_t* check) {
  static_cast<EnvLoop*>(check->data)->CloseIdleWatches();
}

void EnvLoop::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* watch = static_cast<Watch*>(poll->data);
  EnvLoop* self = watch->loop;
  Object* const key = watch->object.get();  // the watch may close below
  // An error (POLLERR) has stopped the poll: UpdateWatch below starts it again if needed.
  // On a socket it is an error the next send reports and clears (ECONNRESET: the reader
  // died with records unread), so a flush learns of the peer's death from it.
  if (status < 0) watch->events = 0;
  // Edges are taken before anything looks: one that comes after is not lost.
  if (watch->waiter >= 0) DrainWaiter(watch->waiter);
  const bool edge = watch->edge_poll && poll == watch->edge_poll.get();  // of anything
  if (watch->flush_events && (status < 0 || edge || (events & watch->flush_events))) {
    watch->flush_events = FlushEvents(static_cast<Endpoint*>(key)->FlushForWatcher(self));
    if (watch->Idle()) {
      self->CloseWatch(watch);  // done: the endpoint may close as soon as its handle does
      return;
    }
  }
  const bool rang = poll == watch->bell_poll.get();  // the bell: no news of the socket
  if (rang) DrainWaiter(watch->bell);
  uint64_t settled_at = 0;
  if (!watch->ops.empty() || watch->listener) {
    // Settling runs promise reactions: inside a callback scope, like any callback. The
    // reference below is dropped before they run, so a close() in them closes at once.
    Napi::HandleScope handles(self->env_);
    Napi::CallbackScope scope(self->env_, self->context_);
    const uint32_t listener = watch->listener ? watch->listener->id : 0;
    ObjectRef object = watch->object;
    auto* endpoint =
        object->type() == ZX_OBJ_TYPE_CHANNEL ? static_cast<Endpoint*>(object.get()) : nullptr;
    const bool pumped = endpoint && endpoint->HasPendingCalls();
    if (pumped) {
      // Replies routed here are settled just below, without a wakeup of our own.
      self->dispatching_ = true;
      endpoint->PumpForCalls(kRecordsPerTurn);
      self->dispatching_ = false;
    }
    const zx_signals_t* known = nullptr;
    zx_signals_t derived;
    if (endpoint && !endpoint->PollableFd() && !rang && status == 0) {
      // A framed stream: one look says what the socket holds, and so how to watch it. Its
      // socket polled readable, no hangup, no call to route replies to: a whole frame at
      // the head is READABLE (one peek, which the read then needs no more: StreamHead).
      const bool polled = !watch->edge_poll && (events & UV_READABLE) && !(events & UV_DISCONNECT);
      if (polled && !pumped && endpoint->WholeFrameAtHead())
        derived = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
      else
        derived = SignalsOf(*endpoint);
      known = &derived;
      // Part of a frame: polled, the socket would spin (edges from now on, UpdateWatch). A
      // whole frame, or the end: the socket tells again.
      if (polled && endpoint->NeedsWaiterAfter(POLLIN, derived))
        watch->part_at_head = true;
      else if (derived & (ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED))
        watch->part_at_head = false;
    }
    if (!watch->ops.empty()) {
      if (endpoint && endpoint->PollableFd() && !pumped && !rang && status == 0 &&
          (events & UV_READABLE) && !(events & UV_DISCONNECT) && !endpoint->EverCalled()) {
        // A record, no hangup, and no call that could have taken it (Endpoint::EverCalled).
        // (Not through a waiter: its readiness is an edge, not a record.)
        derived = ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE;
        known = &derived;
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
  std::vector<Wait*> satisfied;
  for (Op* op : watch->ops) {
    Wait* wait = op->AsWait();
    if (wait && (now & wait->signals)) satisfied.push_back(wait);
  }
  for (Wait* wait : satisfied) wait->Settle(ZX_OK, now);
}

// One packet per pending port wait, oldest first, while packets last. (Only port waits
// wait on a port: a port's handle has no ZX_RIGHT_WAIT.)
void EnvLoop::DeliverPackets(Watch* watch) {
  auto* port = static_cast<Port*>(watch->object.get());
  const std::vector<Op*> waiting = watch->ops;  // settling edits watch->ops
  for (Op* op : waiting) {
    PortPacket packet;
    if (!port->TryDequeue(&packet)) break;
    static_cast<PortWait*>(op)->Settle(ZX_OK, &packet);
  }
}

// ---- the write watch: flushing outbound queues ----------------------------------------

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
  uv_async_send(self->wakeup_.get());
}

// Queues drained, held back or moving again by another thread's doing: watch them for
// what they wait for now, or no more.
void EnvLoop::UpdateFlushing() {
  std::vector<std::pair<Watch*, int>> changed;
  for (auto& entry : watches_) {
    Watch* watch = entry.second;
    if (!watch->flush_events) continue;
    const int events = FlushEvents(static_cast<Endpoint*>(watch->object.get())->WatchedBy(this));
    if (events != watch->flush_events) changed.emplace_back(watch, events);
  }
  for (auto& [watch, events] : changed) {
    if (!events) {
      StopFlushing(watch);
      continue;
    }
    watch->flush_events = events;
    UpdateWatch(watch);
  }
}

}  // namespace zxb
