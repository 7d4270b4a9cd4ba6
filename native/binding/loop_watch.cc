#include "binding/loop_watch.h"

#include <mutex>

namespace zxb {

struct EnvLoop::Watcher {
  uv_poll_t poll;
  zxc::EndpointRef endpoint;  // kept alive (and its descriptor open) while watched
  EnvLoop* owner;
};

namespace {
thread_local EnvLoop* current_loop = nullptr;
}

void EnvLoop::Create(napi_env env) { new EnvLoop(env); }

EnvLoop::EnvLoop(napi_env env) {
  napi_get_uv_event_loop(env, &loop_);
  current_loop = this;
  napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
}

EnvLoop::~EnvLoop() {
  StopAll();
  if (current_loop == this) current_loop = nullptr;
}

void EnvLoop::OnEnvCleanup(void* data) { delete static_cast<EnvLoop*>(data); }

void EnvLoop::InstallHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    zxc::WatchHooks hooks;
    hooks.current_owner = &EnvLoop::CurrentOwner;
    hooks.arm = &EnvLoop::Arm;
    zxc::SetWatchHooks(hooks);
  });
}

void* EnvLoop::CurrentOwner() { return current_loop; }

void EnvLoop::Arm(const zxc::EndpointRef& endpoint, void* owner) {
  auto* self = static_cast<EnvLoop*>(owner);
  if (self != current_loop || self->watchers_.count(endpoint.get())) return;
  auto* watcher = new Watcher{uv_poll_t{}, endpoint, self};
  if (uv_poll_init(self->loop_, &watcher->poll, endpoint->fd()) != 0) {
    endpoint->DropWatcher(self);
    delete watcher;
    return;
  }
  watcher->poll.data = watcher;
  uv_poll_start(&watcher->poll, UV_WRITABLE, OnWritable);
  // An idle queue does not keep the process alive: exit flushes what is left.
  uv_unref(reinterpret_cast<uv_handle_t*>(&watcher->poll));
  self->watchers_[endpoint.get()] = watcher;
}

void EnvLoop::OnWritable(uv_poll_t* poll, int status, int events) {
  auto* watcher = static_cast<Watcher*>(poll->data);
  if (watcher->endpoint->FlushForWatcher(watcher->owner)) return;
  watcher->owner->Stop(watcher);
}

void EnvLoop::Stop(Watcher* watcher) {
  watchers_.erase(watcher->endpoint.get());
  uv_poll_stop(&watcher->poll);  // removes the epoll registration before any close
  watcher->endpoint->DropWatcher(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&watcher->poll), [](uv_handle_t* handle) {
    delete static_cast<Watcher*>(handle->data);
  });
}

void EnvLoop::StopAll() {
  while (!watchers_.empty()) Stop(watchers_.begin()->second);
}

}  // namespace zxb
