// Channel listeners (Channel's 'message' event): a channel's messages read and handed to
// a JavaScript function as they come, one call per message.
#include "binding/env_loop.h"

#include "binding/addon_data.h"
#include "binding/env_loop_parts.h"

namespace zxb {

using namespace zxc;

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
