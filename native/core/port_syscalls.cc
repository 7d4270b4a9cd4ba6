// The port syscalls past the Port object (port.cc): zx_port_create, zx_port_queue,
// zx_port_wait, zx_object_wait_async and zx_port_cancel, with Zircon's checks in Zircon's
// order (docs/objects.md, "Ports").
#include <poll.h>

#include "core/blocking_wait.h"
#include "core/handle_table.h"
#include "core/port.h"
#include "core/syscalls.h"
#include "core/thread_wake.h"

namespace zxc {

zx_status_t PortCreate(uint32_t options, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  static const bool hooked = [] {
    HandleTable::Get().SetRemovalLook([](zx_koid_t koid) { LookAtObserversNow(koid, false); });
    return true;
  }();
  (void)hooked;
  std::shared_ptr<Port> port;
  zx_status_t status = Port::Create(options, &port);
  if (status != ZX_OK) return status;
  zx_handle_t h = HandleTable::Get().Add(port, ZX_DEFAULT_PORT_RIGHTS);
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t PortQueue(zx_handle_t port, const PortPacket& packet) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &info);
  if (status != ZX_OK) return status;
  return static_cast<Port&>(*info.object).QueueUser(packet);
}

zx_status_t LookupPortToWait(zx_handle_t port, std::shared_ptr<Port>* out) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_READ, &info);
  if (status != ZX_OK) return status;
  *out = std::static_pointer_cast<Port>(info.object);
  return ZX_OK;
}

zx_status_t PortWait(zx_handle_t h, zx_time_t deadline, PortPacket* out) {
  std::shared_ptr<Port> port;
  zx_status_t status = LookupPortToWait(h, &port);
  if (status != ZX_OK) return status;
  if (port->TryDequeue(out)) return ZX_OK;
  if (NsUntil(deadline) == 0) return ZX_ERR_TIMED_OUT;

  HandleTable& table = HandleTable::Get();
  const WakeFlag wake = ThreadWake();
  if (!wake.valid()) return ZX_ERR_NO_RESOURCES;  // nothing could wake this thread
  CloseWaker waker(wake);
  if (table.AddObserver(h, &waker) != ZX_OK) return ZX_ERR_CANCELED;  // closed since the lookup
  pollfd fds[2];
  status = BlockingWait(deadline, fds, [&](const WaitTurn& turn, size_t* count) {
    if (turn.polled) {
      if (turn.torn_down || waker.closed()) return ZX_ERR_CANCELED;
      // Several waiters may wake for one packet: one gets it, the others sleep again.
      if (port->TryDequeue(out)) return ZX_OK;
      if (turn.expired) return ZX_ERR_TIMED_OUT;
    }
    fds[1] = pollfd{port->fd(), POLLIN, 0};
    *count = 2;
    return ZX_ERR_SHOULD_WAIT;
  });
  table.RemoveObserver(h, &waker);
  return status;
}

namespace {

constexpr uint32_t kWaitAsyncOptions =
    ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_EDGE | ZX_WAIT_ASYNC_BOOT_TIMESTAMP;

// The port (WRITE) and then the observed object (WAIT, not a port) of objectWaitAsync and
// portCancel, in Zircon's order.
zx_status_t LookupPortAndSource(zx_handle_t port, zx_handle_t source, std::shared_ptr<Port>* out,
                                ObjectRef* object) {
  HandleTable& table = HandleTable::Get();
  HandleInfo port_info;
  zx_status_t status = table.LookupChecked(port, ZX_OBJ_TYPE_PORT, ZX_RIGHT_WRITE, &port_info);
  if (status != ZX_OK) return status;
  HandleInfo info;
  status = table.LookupChecked(source, ZX_OBJ_TYPE_NONE, ZX_RIGHT_WAIT, &info);
  if (status != ZX_OK) return status;
  if (info.object->type() == ZX_OBJ_TYPE_PORT) return ZX_ERR_NOT_SUPPORTED;
  *out = std::static_pointer_cast<Port>(std::move(port_info.object));
  *object = std::move(info.object);
  return ZX_OK;
}

}  // namespace

zx_status_t ObjectWaitAsync(zx_handle_t h, zx_handle_t port, uint64_t key, zx_signals_t signals,
                            uint32_t options) {
  if (options & ~kWaitAsyncOptions) return ZX_ERR_INVALID_ARGS;
  // A packet carries one timestamp: monotonic or boot, not both.
  if ((options & ZX_WAIT_ASYNC_TIMESTAMP) && (options & ZX_WAIT_ASYNC_BOOT_TIMESTAMP))
    return ZX_ERR_INVALID_ARGS;
  std::shared_ptr<Port> target;
  ObjectRef object;
  zx_status_t status = LookupPortAndSource(port, h, &target, &object);
  if (status != ZX_OK) return status;
  return target->Observe(object, h, key, signals, options);
}

zx_status_t PortCancel(zx_handle_t port, zx_handle_t source, uint64_t key) {
  std::shared_ptr<Port> target;
  ObjectRef object;
  zx_status_t status = LookupPortAndSource(port, source, &target, &object);
  if (status != ZX_OK) return status;
  return target->Cancel(source, key) ? ZX_OK : ZX_ERR_NOT_FOUND;
}

}  // namespace zxc
