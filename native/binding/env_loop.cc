// EnvLoop's core: its life cycle, the wakeup that brings other threads' news to the loop,
// and settling what was posted. (Its other parts: env_loop_parts.h.)
#include "binding/env_loop.h"

#include "binding/addon_data.h"
#include "binding/env_loop_parts.h"

namespace zxb {

using namespace zxc;

thread_local EnvLoop* current_loop = nullptr;

// ---- life cycle -----------------------------------------------------------------------

EnvLoop* EnvLoop::Create(napi_env env) { return new EnvLoop(env); }

EnvLoop::EnvLoop(napi_env env) : env_(env) {
  napi_value name;
  napi_create_string_utf8(env, "zircon-ipc", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &context_);
  // Result keys made once: a C-string key would be created and internalized per property.
  static const char* const kNames[kKeyCount] = {"status",  "observed",    "bytes",
                                                "handles", "actualBytes", "actualHandles",
                                                "handle",  "type",        "rights"};
  // (Held in an array: Node 20 can't reference a string directly.)
  auto keys = Napi::Array::New(env, kKeyCount);
  for (uint32_t i = 0; i < kKeyCount; ++i) keys.Set(i, Napi::String::New(env, kNames[i]));
  keys_ = Napi::Persistent(keys);
  napi_get_uv_event_loop(env, &loop_);
  wakeup_.Open(this, loop_, uv_async_init, OnWakeup);
  wakeup_->data = this;
  uv_unref(wakeup_.base());
  idle_check_.Open(this, loop_, uv_check_init);
  idle_check_->data = this;
  uv_unref(idle_check_.base());
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
    op->StopObserving();
    op->Abandon();
  }
  for (auto& entry : self->ops_)
    delete entry.second;  // its promise is abandoned with the environment
  self->ops_.clear();
  for (auto& entry : self->listeners_) {
    Listener* listener = entry.second;
    for (auto& call : listener->calls) listener->endpoint->UnregisterCall(call.get());
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
  self->idle_check_.Close();
  if (current_loop == self) current_loop = nullptr;
  napi_async_destroy(self->env_, self->context_);  // while the environment still exists
  self->keys_.Reset();
  self->wakeup_.Close();
}

void EnvLoop::HandleClosed(size_t open) {
  if (open != 0 || !cleanup_done_) return;
  napi_remove_async_cleanup_hook(cleanup_done_);  // the environment may go on ending now
  delete this;
}

void EnvLoop::UpdateRef() {
  if (ops_.empty() && refed_listeners_ == 0)
    uv_unref(wakeup_.base());
  else
    uv_ref(wakeup_.base());
}

// ---- news from other threads ----------------------------------------------------------

void EnvLoop::Post(uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(id);
  }
  // OnPoll processes it right after. (The thread check first: `dispatching_` is this
  // loop's own, read only on its thread.)
  if (current_loop == this && dispatching_) return;
  uv_async_send(wakeup_.get());
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
  if (poked) self->UpdateFlushing();
  self->LookAgain();
  Napi::HandleScope handles(self->env_);
  Napi::CallbackScope scope(self->env_, self->context_);
  self->ProcessPosted();
  if (listeners_poked) self->DispatchPoked();
}

void EnvLoop::SettleNow() {
  ProcessPosted();
  // Listeners whose handle has gone end now (nothing is read for them: their pending
  // calls end and their function hears BAD_HANDLE), so their watches go too.
  std::vector<uint32_t> removed;
  for (auto& entry : listeners_)
    if (entry.second->handle_removed.load()) removed.push_back(entry.first);
  for (uint32_t id : removed) Dispatch(id);
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
    if (it != ops_.end()) it->second->OnPosted();
  }
}

}  // namespace zxb
