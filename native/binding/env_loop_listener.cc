// Channel listeners (Channel's 'message' event, and Channel.call's replies): a channel's
// messages read and handed to a JavaScript function as they come, one call per message,
// and the replies to the calls made through the listener, one call per reply.
#include <algorithm>

#include "binding/addon_data.h"
#include "binding/env_loop.h"
#include "binding/env_loop_parts.h"

namespace zxb {

using namespace zxc;

// ---- listeners ------------------------------------------------------------------------

int32_t EnvLoop::Listen(zx_handle_t h, Napi::Function callback, ListenRead read, ListenReply reply,
                        void* context, bool messages) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  Watch* watch = WatchFor(info.object);
  if (!watch) return ZX_ERR_NO_RESOURCES;
  if (watch->listener) return ZX_ERR_ALREADY_BOUND;  // one reader per endpoint and loop
  auto* listener = new Listener();
  do listener->id = ++next_id_;
  while (listener->id == 0 || listeners_.count(listener->id));
  listener->loop = this;
  listener->handle = h;
  listener->endpoint = std::static_pointer_cast<Endpoint>(info.object);
  listener->watch = watch;
  listener->callback = Napi::Persistent(callback);
  listener->read = read;
  listener->reply = reply;
  listener->context = context;
  listener->messages = messages;
  listeners_[listener->id] = listener;
  watch->listener = listener;
  UpdateListenerRef(listener);
  listener->endpoint->AddSignalObserver(listener);
  listener->observing = HandleTable::Get().AddObserver(h, listener) == ZX_OK;
  // A message a call stashed is no poll's news, nor is a handle already gone: look at once.
  if (!listener->observing) listener->handle_removed.store(true);
  if (listener->endpoint->HasStash() || !listener->observing) listener->OnSignalsChanged();
  UpdateWatch(watch);
  return static_cast<int32_t>(listener->id);
}

bool EnvLoop::Unlisten(uint32_t id) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return false;
  Watch* watch = it->second->watch;
  EndListener(it->second);
  // The handle is typically given away or closed next: the watch must not keep the
  // endpoint's descriptor open here until the loop turn ends.
  if (watch->Idle()) CloseWatch(watch);
  return true;
}

void EnvLoop::ListenMessages(uint32_t id, bool messages) {
  auto it = listeners_.find(id);
  if (it == listeners_.end() || it->second->messages == messages) return;
  Listener* listener = it->second;
  listener->messages = messages;
  UpdateListenerRef(listener);
  UpdateWatch(listener->watch);
  // Messages that came while it was not reading, and no poll reports again (a stash, or
  // an edge already consumed): look at once.
  if (messages) listener->OnSignalsChanged();
}

void EnvLoop::ListenCredit(uint32_t id, int32_t delta) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  Listener* listener = it->second;
  const bool reads = listener->Reads();
  listener->credit =
      delta < 0 && listener->credit < static_cast<uint32_t>(-delta) ? 0 : listener->credit + delta;
  UpdateListenerRef(listener);
  UpdateWatch(listener->watch);
  // A message stashed by a call is no poll's news: look at once.
  if (!reads && listener->Reads() && listener->endpoint->HasStash()) listener->OnSignalsChanged();
}

void EnvLoop::RefListener(uint32_t id, bool ref) {
  auto it = listeners_.find(id);
  if (it == listeners_.end() || it->second->refed == ref) return;
  it->second->refed = ref;
  UpdateListenerRef(it->second);
}

void EnvLoop::UpdateListenerRef(Listener* listener) {
  const bool busy = listener->Busy();
  if (busy != listener->strong) {
    listener->strong = busy;
    if (busy)
      listener->callback.Ref();
    else
      listener->callback.Unref();
  }
  const bool keeps = listener->KeepsLoop();
  if (keeps == listener->counted) return;
  listener->counted = keeps;
  if (keeps)
    ++refed_listeners_;
  else
    --refed_listeners_;
  UpdateRef();
}

void EnvLoop::EndListener(Listener* listener) {
  listeners_.erase(listener->id);
  if (listener->counted) --refed_listeners_;
  // Taken back before the waiters go: nothing routes a reply to them after.
  for (auto& call : listener->calls) listener->endpoint->UnregisterCall(call.get());
  if (listener->observing) HandleTable::Get().RemoveObserver(listener->handle, listener);
  listener->endpoint->RemoveSignalObserver(listener);
  Watch* watch = listener->watch;
  watch->listener = nullptr;
  delete listener;
  UpdateWatch(watch);
  UpdateRef();
}

// ---- calls ----------------------------------------------------------------------------

int64_t EnvLoop::ListenCall(uint32_t id, uint32_t options, const iovec* payload,
                            size_t payload_count, HandleDisposition* dispositions,
                            size_t num_dispositions, uint32_t num_bytes, uint32_t num_handles) {
  auto it = listeners_.find(id);
  if (it == listeners_.end() || it->second->handle_removed.load()) {
    ConsumeDispositions(dispositions, num_dispositions);
    return ZX_ERR_BAD_HANDLE;
  }
  Listener* listener = it->second;
  auto call = std::make_unique<ListenerCall>(listener, num_bytes, num_handles);
  EndpointRef endpoint;
  zx_status_t status = ChannelCallStart(listener->handle, options, payload, payload_count,
                                        dispositions, num_dispositions, call.get(), &endpoint);
  if (status != ZX_OK) return status;
  if (endpoint != listener->endpoint) {
    // The handle was closed and its value taken by another channel since the listener
    // looked (its removal not yet seen): the reply is not the listener's to wait for.
    endpoint->UnregisterCall(call.get());
    return ZX_ERR_BAD_HANDLE;
  }
  const uint32_t txid = call->txid;
  listener->calls.push_back(std::move(call));
  UpdateListenerRef(listener);
  UpdateWatch(listener->watch);
  return txid;
}

bool EnvLoop::ListenCancel(uint32_t id, uint32_t txid) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return false;
  Listener* listener = it->second;
  auto& calls = listener->calls;
  auto call = std::find_if(calls.begin(), calls.end(), [txid](auto& c) { return c->txid == txid; });
  if (call == calls.end() || !listener->endpoint->UnregisterCall(call->get())) return false;
  calls.erase(call);
  UpdateListenerRef(listener);
  UpdateWatch(listener->watch);
  return true;
}

bool EnvLoop::DeliverCalls(uint32_t id, bool cancel) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return false;
  Listener* listener = it->second;
  if (!cancel && !listener->calls_poked.exchange(false)) return true;
  // Taken out first: the function may make new calls, or end the listener.
  std::vector<std::unique_ptr<ListenerCall>> ready;
  auto& calls = listener->calls;
  for (auto call = calls.begin(); call != calls.end();) {
    bool done = listener->endpoint->CallDone(call->get());
    if (!done && cancel && listener->endpoint->UnregisterCall(call->get())) {
      (*call)->status = ZX_ERR_CANCELED;
      done = true;
    }
    if (!done) {
      ++call;
      continue;
    }
    ready.push_back(std::move(*call));
    call = calls.erase(call);
  }
  // A call done, or the stash with room again (the calls may read on): watch anew.
  UpdateWatch(listener->watch);
  if (ready.empty()) return true;
  UpdateListenerRef(listener);
  napi_value fn = listener->callback.Value();
  const ListenReply reply = listener->reply;
  void* const context = listener->context;
  bool called = true;
  for (auto& call : ready) {
    ReadResult read;
    read.want_rights = false;  // as the listener's reads: handles are wrapped by type
    const zx_status_t status = ChannelCallFinish(*call, call->num_bytes, call->num_handles, &read);
    napi_value args[2] = {reply(context, status, read), Napi::Number::New(env_, call->txid)};
    called = CallListener(fn, args, 2) && called;
  }
  return called && listeners_.count(id) != 0;
}

// ---- dispatch -------------------------------------------------------------------------

bool EnvLoop::CallListener(napi_value fn, napi_value* args, size_t argc) {
  if (!fn) return false;  // held weakly, and collected: its Channel is gone
  napi_value undefined, ignored;
  napi_get_undefined(env_, &undefined);
  const napi_status called = napi_call_function(env_, undefined, fn, argc, args, &ignored);
  if (called == napi_pending_exception) {
    // Thrown by a listener (or an 'error' nobody listens to): uncaught, as Node does
    // with an exception thrown by any event listener.
    napi_value error;
    napi_get_and_clear_last_exception(env_, &error);
    napi_fatal_exception(env_, error);
    return false;
  }
  return called == napi_ok;
}

// Done calls first, then messages, one record at a time, each passed on before the next
// is read (see the header). The listener is looked up again after each call: the function
// may have ended it, closed or moved the endpoint, or started another.
void EnvLoop::Dispatch(uint32_t id) {
  if (EnvironmentStopping(env_)) return;
  for (size_t i = 0; i < kRecordsPerTurn; ++i) {
    // Replies routed by the last read (or before) are delivered without a wakeup.
    if (!DeliverCalls(id, false)) return;
    auto it = listeners_.find(id);
    if (it == listeners_.end()) return;
    Listener* listener = it->second;
    HandleInfo info;
    zx_status_t status = HandleTable::Get().Lookup(listener->handle, &info);
    // The handle no longer names the endpoint (closed or moved behind the listener's
    // back): nothing is read for it any more, and its calls end.
    if (status == ZX_OK && info.object != listener->endpoint) status = ZX_ERR_BAD_HANDLE;
    if (status != ZX_OK && !listener->calls.empty()) {
      if (!DeliverCalls(id, true)) return;
      continue;
    }
    if (status == ZX_OK && !listener->Reads()) return;
    Napi::Value value;
    if (status == ZX_OK) {
      listener_reading_ = true;
      value = listener->read(listener->context, listener->handle, &status);
      listener_reading_ = false;
    } else {
      value = Napi::Number::New(env_, status);
    }
    if (status == ZX_ERR_SHOULD_WAIT) {
      DeliverCalls(id, false);
      return;
    }
    // A bad record or lost descriptors are reported and reading goes on; anything else
    // (the peer's end, the handle gone) is the last thing the function hears.
    const bool last =
        status != ZX_OK && status != ZX_ERR_IO_DATA_INTEGRITY && status != ZX_ERR_NO_RESOURCES;
    // Used up: the watch follows after the function has run (OnPoll, DispatchPoked), when
    // a read it made may have given the credit back.
    if (!last && listener->credit > 0 && --listener->credit == 0) UpdateListenerRef(listener);
    napi_value fn = listener->callback.Value();
    // Ended first: the function may start another listener on the endpoint.
    if (last) EndListener(listener);
    napi_value args[1] = {value};
    if (!CallListener(fn, args, 1) || last) return;
  }
}

void EnvLoop::DispatchPoked() {
  std::vector<uint32_t> ids;
  for (auto& entry : listeners_) {
    Listener* listener = entry.second;
    if (listener->handle_removed.load() || listener->calls_poked.load() ||
        (listener->Reads() && listener->endpoint->HasStash()))
      ids.push_back(entry.first);
  }
  for (uint32_t id : ids) {
    Dispatch(id);
    auto it = listeners_.find(id);
    if (it != listeners_.end()) UpdateWatch(it->second->watch);
  }
}

}  // namespace zxb
