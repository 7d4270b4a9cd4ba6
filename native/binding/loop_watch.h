// The event-loop side of outbound queues: when an endpoint's socket is full, the loop of
// the thread that queued watches it for writability (uv_poll) and flushes as it drains.
// One EnvLoop per Node environment (main thread, each worker), deleted by the
// environment's cleanup hook: what it watched is then flushed by later writes or at exit.
#pragma once
#include <node_api.h>
#include <uv.h>

#include <unordered_map>

#include "core/endpoint.h"

namespace zxb {

class EnvLoop {
 public:
  static void Create(napi_env env);
  EnvLoop(const EnvLoop&) = delete;
  EnvLoop& operator=(const EnvLoop&) = delete;

  // Connects the core's outbound queues to the loops of Node environments (once).
  static void InstallHooks();

 private:
  struct Watcher;
  static void* CurrentOwner();
  static void Arm(const zxc::EndpointRef& endpoint, void* owner);
  static void OnWritable(uv_poll_t* poll, int status, int events);
  static void OnEnvCleanup(void* data);
  explicit EnvLoop(napi_env env);
  ~EnvLoop();
  void Stop(Watcher* watcher);
  void StopAll();

  uv_loop_t* loop_ = nullptr;
  std::unordered_map<zxc::Endpoint*, Watcher*> watchers_;
};

}  // namespace zxb
