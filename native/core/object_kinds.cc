#include "core/object_kinds.h"

#include "core/endpoint.h"
#include "core/event.h"
#include "core/koid.h"
#include "core/port.h"
#include "core/socket.h"
#include "core/socket_util.h"
#include "core/timer.h"
#include "core/user_signals.h"
#include "core/vmo.h"
#include "core/wire_format.h"

namespace zxc {
namespace {

constexpr zx_rights_t kAllRights = ~0u;

const ObjectKind kChannel{
    ZX_OBJ_TYPE_CHANNEL,
    1,
    [](const int* fds) { return IsConnectedChannelSocket(fds[0]); },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      return std::make_shared<Endpoint>(fds[0], koid, related);
    },
    [](const int*) { return kAllRights; },
};

const ObjectKind kDescriptor{
    ZX_OBJ_TYPE_FD,
    1,
    [](const int*) { return true; },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) {
      return std::make_shared<Object>(ZX_OBJ_TYPE_FD, fds[0], koid, related);
    },
    [](const int* fds) { return RightsForDescriptor(fds[0]); },
    true,  // fcntl(F_GETFL): 64 a message would double the syscalls of receiving them
};

}  // namespace

const ObjectKind* KindOf(zx_obj_type_t type) {
  switch (type) {
    case ZX_OBJ_TYPE_CHANNEL:
      return &kChannel;
    case ZX_OBJ_TYPE_FD:
      return &kDescriptor;
    case ZX_OBJ_TYPE_EVENT:
      return &kEventKind;
    case ZX_OBJ_TYPE_EVENTPAIR:
      return &kEventPairKind;
    case ZX_OBJ_TYPE_VMO:
      return &kVmoKind;
    case ZX_OBJ_TYPE_SOCKET:
      return &kSocketKind;
    case ZX_OBJ_TYPE_TIMER:
      return kTimersTravel ? &kTimerKind : nullptr;
    case ZX_OBJ_TYPE_PORT:
      return &kPortKind;
    default:
      return nullptr;
  }
}

uint32_t WireTypeOf(const Object& object) {
  const ObjectKind* kind = KindOf(object.type());
  int fds[kMaxObjectFds];
  const size_t n = object.Descriptors(fds);
  return object.type() | (kind && n > kind->num_fds ? kWireUserSignals : 0) | object.WireFlags();
}

const ObjectKind* KindOfEntry(uint32_t wire_type, size_t* num_fds) {
  const uint32_t type = wire_type & ~(kWireUserSignals | kWireDatagramFrames);
  const ObjectKind* kind = KindOf(type);
  if (wire_type & kWireDatagramFrames)
    kind = type == ZX_OBJ_TYPE_SOCKET ? &kFramedSocketKind : nullptr;
  if (!kind) return nullptr;
  *num_fds = kind->num_fds;
  if (!(wire_type & kWireUserSignals)) return kind;
  if (type != ZX_OBJ_TYPE_CHANNEL && type != ZX_OBJ_TYPE_SOCKET && type != ZX_OBJ_TYPE_VMO &&
      type != ZX_OBJ_TYPE_TIMER)
    return nullptr;
  *num_fds += kUserSignalsFds;
  return kind;
}

bool EntryMatches(const ObjectKind& kind, uint32_t wire_type, const int* fds) {
  if (!kind.matches(fds)) return false;
  if (!(wire_type & kWireUserSignals)) return true;
  const int* page = fds + kind.num_fds;
  return SharedSignals::Matches(page[0], page[1]);
}

ObjectRef AdoptEntry(const ObjectKind& kind, uint32_t wire_type, const int* fds, zx_koid_t koid,
                     zx_koid_t related_koid) {
  const bool with_page = wire_type & kWireUserSignals;
  ObjectRef object = AdoptDescriptors(kind, fds, koid, related_koid);
  if (!with_page) return object;
  const int* page_fds = fds + kind.num_fds;
  if (!object) {
    CloseAll(page_fds, kUserSignalsFds);
    return nullptr;
  }
  SharedSignalsRef page = SharedSignals::Adopt(page_fds[0], page_fds[1]);
  if (!page) return nullptr;  // (the object closes its own)
  object->user_signals()->Attach(std::move(page));
  return object;
}

ObjectRef AdoptDescriptors(const ObjectKind& kind, const int* fds, zx_koid_t koid,
                           zx_koid_t related_koid) {
  return kind.adopt(fds, koid ? koid : NewKoid(), related_koid);
}

zx_rights_t EnforcedRights(const Object& object) {
  const ObjectKind* kind = KindOf(object.type());
  if (!kind) return kAllRights;
  int fds[kMaxObjectFds];
  object.Descriptors(fds);
  return kind->enforced(fds);
}

ObjectRef WrapDescriptor(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid) {
  return AdoptDescriptors(*KindOf(type), &fd, koid, related_koid);
}

}  // namespace zxc
