// Waits for an outbound queue to drain (Channel's 'drain' event, docs/performance.md,
// "Backpressure"): one op per channel whose write answered above the high-water mark,
// settled on the loop of the thread that wrote, whichever thread flushed the queue.
#include "binding/env_loop.h"
#include "binding/env_loop_parts.h"

namespace zxb {

using namespace zxc;

Napi::Value EnvLoop::DrainAsync(zx_handle_t h) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_CHANNEL, ZX_RIGHT_WRITE, &info);
  if (status != ZX_OK) return Resolved(Napi::Number::New(env_, status));
  auto drain = std::make_unique<Drain>(this, h, std::static_pointer_cast<Endpoint>(info.object));
  // Registered before the op is: a drain from now on posts to an id ProcessPosted finds
  // (it runs on this thread, after StartOp).
  if (!drain->endpoint->AddDrainObserver(drain.get()))
    return Resolved(Napi::Number::New(env_, ZX_OK));
  uint32_t id;  // (nothing cancels it but the handle's removal)
  return StartOp(std::move(drain), info.object, nullptr, &id);
}

void EnvLoop::Drain::StopObserving() {
  Op::StopObserving();
  endpoint->RemoveDrainObserver(this);
}

void EnvLoop::Drain::Abandon() { endpoint->RemoveDrainObserver(this); }

void EnvLoop::Drain::Settle(zx_status_t status) {
  loop->Finish(this, Napi::Number::New(loop->env_, status));
}

void EnvLoop::Drain::Cancel() { Settle(ZX_ERR_CANCELED); }

void EnvLoop::Drain::OnPosted() {
  if (handle_removed.load()) return Settle(ZX_ERR_CANCELED);
  // Told it drained, and filled again since (a write, from any thread): wait on.
  if (!endpoint->AddDrainObserver(this)) Settle(ZX_OK);
}

}  // namespace zxb
