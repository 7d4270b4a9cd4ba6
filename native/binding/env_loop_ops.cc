// The promises pending on an environment's loop, one type each (env_loop_parts.h):
//  - Wait (objectWaitOneAsync): settled by readiness, deadline, close or cancel;
//  - Call (channelCallAsync): settled by the reply, deadline, peer's end, close or cancel;
//  - PortWait (portWaitAsync): settled by a packet, deadline, the port's close or cancel.
#include <algorithm>
#include <cstring>

#include "binding/env_loop.h"
#include "binding/env_loop_parts.h"

namespace zxb {

using namespace zxc;

// ---- results --------------------------------------------------------------------------

Napi::Value EnvLoop::Resolved(Napi::Value value) {
  napi_deferred deferred;
  napi_value promise = nullptr;
  if (napi_create_promise(env_, &deferred, &promise) != napi_ok)
    return env_.Undefined();  // see StartOp
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

// [status], or [ZX_OK, words...]: numbers only, which is far cheaper to make here than
// objects, bigints and a Buffer.
Napi::Value EnvLoop::PortWaitResult(zx_status_t status, const PortPacket* packet) {
  uint32_t words[kPortPacketWords];
  if (packet) std::memcpy(words, packet, sizeof words);
  auto result = Napi::Array::New(env_, packet ? 1 + kPortPacketWords : 1);
  result.Set(0u, Napi::Number::New(env_, status));
  for (uint32_t i = 0; packet && i < kPortPacketWords; ++i)
    result.Set(i + 1, Napi::Number::New(env_, words[i]));
  return result;
}

// ---- every op -------------------------------------------------------------------------

EnvLoop::Op::Op(EnvLoop* loop, zx_handle_t h, zx_time_t deadline)
    : id(loop->NewId()), loop(loop), handle(h), deadline(deadline) {}

uint32_t EnvLoop::NewId() {
  uint32_t id;
  do id = ++next_id_;
  while (id == 0 || ops_.count(id));
  return id;
}

void EnvLoop::Op::StopObserving() {
  if (observing) HandleTable::Get().RemoveObserver(this);  // a call's may have followed a replace
  observing = false;
}

zx_signals_t EnvLoop::Op::Observed() const { return watch ? SignalsOf(*watch->object) : 0; }

// Makes the promise of `op`, registers it, watches its object, arms its deadline; `*id`
// names it. N-API refuses to make a promise once the environment is going away: then the
// op is dropped (a call's request is out: its reply will land in the normal queue).
Napi::Value EnvLoop::StartOp(std::unique_ptr<Op> owned, const ObjectRef& object,
                             const zx_signals_t* known, uint32_t* id) {
  napi_value promise = nullptr;
  if (napi_create_promise(env_, &owned->deferred, &promise) != napi_ok) {
    owned->Abandon();
    return env_.Undefined();
  }
  Op* op = owned.release();
  ops_[op->id] = op;
  op->observing = HandleTable::Get().AddObserver(op->handle, op) == ZX_OK;
  if (Wait* wait = op->AsWait(); wait && object->type() == ZX_OBJ_TYPE_CHANNEL) {
    wait->endpoint = std::static_pointer_cast<Endpoint>(object);
    wait->endpoint->AddSignalObserver(wait);
    // A message stashed between the first look and now told nobody: look again.
    if (wait->endpoint->HasStash()) Post(op->id);
  }
  if (!op->observing) op->handle_removed.store(true);
  if (op->deadline != ZX_TIME_INFINITE) {
    op->timer.Open(this, loop_, uv_timer_init);
    op->timer->data = op;
    uv_unref(op->timer.base());
    const zx_time_t remaining = NsUntil(op->deadline);
    uint64_t ms = static_cast<uint64_t>((remaining + 999999) / 1000000);
    uv_timer_start(op->timer.get(), OnTimer, ms, 0);
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

bool EnvLoop::Cancel(uint32_t id) {
  auto it = ops_.find(id);
  if (it == ops_.end()) return false;
  it->second->Cancel();
  return true;
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
  op->OnDeadline();
}

void EnvLoop::Finish(Op* op, Napi::Value result) {
  ops_.erase(op->id);
  op->StopObserving();
  Watch* watch = op->watch;
  if (watch) watch->ops.erase(std::find(watch->ops.begin(), watch->ops.end(), op));
  napi_resolve_deferred(env_, op->deferred, result);
  delete op;  // its timer closes with it
  if (watch) UpdateWatch(watch);
  UpdateRef();
}

// ---- waits ----------------------------------------------------------------------------

Napi::Value EnvLoop::WaitAsync(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                               uint32_t* id) {
  *id = 0;
  HandleInfo info;
  zx_status_t status = HandleTable::Get().Lookup(h, &info);
  if (status == ZX_OK && !(info.rights & ZX_RIGHT_WAIT)) status = ZX_ERR_ACCESS_DENIED;
  if (status != ZX_OK) return Resolved(WaitResult(status, 0));
  const zx_signals_t now = SignalsOf(*info.object);
  if (now & signals) return Resolved(WaitResult(ZX_OK, now));
  if (NsUntil(deadline) == 0) return Resolved(WaitResult(ZX_ERR_TIMED_OUT, now));
  // An object whose state is in shared memory is watched through a descriptor of our own
  // (OpenWaiter); without one nothing would ever look at its signals again.
  if (info.object->NeedsWaiter(signals) && !WatchFor(info.object, signals))
    return Resolved(WaitResult(ZX_ERR_NO_RESOURCES, now));
  return StartOp(std::make_unique<Wait>(this, h, deadline, signals), info.object, &now, id);
}

void EnvLoop::Wait::StopObserving() {
  Op::StopObserving();
  if (endpoint) endpoint->RemoveSignalObserver(this);
}

void EnvLoop::Wait::Settle(zx_status_t status, zx_signals_t observed) {
  loop->Finish(this, loop->WaitResult(status, observed));
}

void EnvLoop::Wait::Cancel() { Settle(ZX_ERR_CANCELED, Observed()); }

void EnvLoop::Wait::OnPosted() {
  if (handle_removed.load()) return Settle(ZX_ERR_CANCELED, Observed() | ZX_SIGNAL_HANDLE_CLOSED);
  const zx_signals_t now = Observed();  // a call stashed a message
  if (now & signals) Settle(ZX_OK, now);
}

void EnvLoop::Wait::OnDeadline() {
  const zx_signals_t now = Observed();
  Settle((now & signals) ? ZX_OK : ZX_ERR_TIMED_OUT, now);
}

// ---- calls ----------------------------------------------------------------------------

EnvLoop::Call::Call(EnvLoop* loop, zx_handle_t h, zx_time_t deadline, uint32_t num_bytes,
                    uint32_t num_handles)
    : Op(loop, h, deadline),
      waiter(std::make_unique<CallWaiter>(loop, id)),
      num_bytes(num_bytes),
      num_handles(num_handles) {}

Napi::Value EnvLoop::CallAsync(zx_handle_t h, uint32_t options, zx_time_t deadline,
                               const iovec* payload, size_t payload_count,
                               HandleDisposition* dispositions, size_t num_dispositions,
                               uint32_t num_bytes, uint32_t num_handles, uint32_t* id) {
  *id = 0;
  auto call = std::make_unique<Call>(this, h, deadline, num_bytes, num_handles);
  zx_status_t status = ChannelCallStart(h, options, payload, payload_count, dispositions,
                                        num_dispositions, call->waiter.get(), &call->endpoint);
  if (status != ZX_OK) {
    auto result = Napi::Object::New(env_);
    result.Set(Key(kStatus), Napi::Number::New(env_, status));
    result.Set(Key(kBytes), Napi::Buffer<uint8_t>::New(env_, 0));
    result.Set(Key(kHandles), Napi::Array::New(env_));
    result.Set(Key(kActualBytes), Napi::Number::New(env_, 0));
    result.Set(Key(kActualHandles), Napi::Number::New(env_, 0));
    return Resolved(result);
  }
  EndpointRef endpoint = call->endpoint;
  return StartOp(std::move(call), endpoint, nullptr, id);
}

void EnvLoop::Call::Abandon() { endpoint->UnregisterCall(waiter.get()); }

void EnvLoop::Call::Cancel() {
  Settle(endpoint->UnregisterCall(waiter.get()) ? ZX_ERR_CANCELED : ZX_OK);
}

void EnvLoop::Call::OnPosted() {
  if (endpoint->CallDone(waiter.get())) {
    Settle(ZX_OK);
  } else if (handle_removed.load()) {
    // Closed (or moved) while waiting, unless the reply beat the close.
    Settle(endpoint->UnregisterCall(waiter.get()) ? ZX_ERR_CANCELED : ZX_OK);
  } else if (watch) {
    loop->UpdateWatch(watch);  // the stash has room again: read on
  }
}

void EnvLoop::Call::OnDeadline() {
  // A late reply then lands in the normal queue; one that just came is delivered.
  const bool pending = endpoint->UnregisterCall(waiter.get());
  Settle(pending ? ZX_ERR_TIMED_OUT : ZX_OK);
}

void EnvLoop::Call::Settle(zx_status_t status) {
  Napi::Env env = loop->env_;
  ReadResult read;
  if (status == ZX_OK) status = ChannelCallFinish(*waiter, num_bytes, num_handles, &read);
  auto result = Napi::Object::New(env);
  const bool ok = status == ZX_OK;
  result.Set(loop->Key(kStatus), Napi::Number::New(env, status));
  result.Set(loop->Key(kBytes),
             ok ? Napi::Buffer<uint8_t>::Copy(env, read.payload, read.actual_bytes)
                : Napi::Buffer<uint8_t>::New(env, 0));
  auto handles = Napi::Array::New(env, ok ? read.actual_handles : 0);
  for (uint32_t i = 0; ok && i < read.actual_handles; ++i) {
    auto info = Napi::Object::New(env);
    info.Set(loop->Key(kHandle), Napi::Number::New(env, read.handles[i]));
    info.Set(loop->Key(kType), Napi::Number::New(env, read.types[i]));
    info.Set(loop->Key(kRights), Napi::Number::New(env, read.rights[i]));
    handles.Set(i, info);
  }
  result.Set(loop->Key(kHandles), handles);
  const bool sized = ok || status == ZX_ERR_BUFFER_TOO_SMALL;
  result.Set(loop->Key(kActualBytes), Napi::Number::New(env, sized ? read.actual_bytes : 0));
  result.Set(loop->Key(kActualHandles), Napi::Number::New(env, sized ? read.actual_handles : 0));
  loop->Finish(this, result);
}

// ---- port waits -----------------------------------------------------------------------

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
  return StartOp(std::make_unique<PortWait>(this, h, deadline), port, nullptr, id);
}

void EnvLoop::PortWait::Settle(zx_status_t status, const PortPacket* packet) {
  loop->Finish(this, loop->PortWaitResult(status, packet));
}

void EnvLoop::PortWait::Cancel() { Settle(ZX_ERR_CANCELED, nullptr); }

void EnvLoop::PortWait::OnPosted() {
  if (handle_removed.load()) Settle(ZX_ERR_CANCELED, nullptr);
}

void EnvLoop::PortWait::OnDeadline() {
  // A packet that is there at the deadline is still taken.
  PortPacket packet;
  const bool got = watch && static_cast<Port*>(watch->object.get())->TryDequeue(&packet);
  Settle(got ? ZX_OK : ZX_ERR_TIMED_OUT, got ? &packet : nullptr);
}

}  // namespace zxb
