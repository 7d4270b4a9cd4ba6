#include "core/event.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/doorbell.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/platform.h"
#include "core/poller.h"
#include "core/port.h"
#include "core/shared_memory.h"
#include "core/socket_util.h"
#include "core/syscalls.h"
#include "core/user_signals.h"
#include "core/wire_format.h"

namespace zxc {
namespace {

constexpr size_t kPageBytes = ZX_PAGE_SIZE;
constexpr zx_signals_t kEventSignals = ZX_USER_SIGNAL_ALL | ZX_EVENT_SIGNALED;

std::atomic<uint32_t>* MapWords(int memfd) {
  void* page = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  return page == MAP_FAILED ? nullptr : static_cast<std::atomic<uint32_t>*>(page);
}

static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "signal words are shared across processes: they must be lock-free");

}  // namespace

// ---- shared page and doorbell ---------------------------------------------------------

std::shared_ptr<SharedSignals> SharedSignals::Create(zx_status_t* status) {
  // One page no process can shrink under another's mapping (SIGBUS).
  int memfd = NewSignalPage(status);
  if (memfd < 0) return nullptr;
  int doorbell = OpenDoorbell();
  if (doorbell < 0) {
    *status = CreationStatus(errno);
    close(memfd);
    return nullptr;
  }
  auto shared = Adopt(memfd, doorbell);
  *status = shared ? ZX_OK : ZX_ERR_NO_MEMORY;
  return shared;
}

std::shared_ptr<SharedSignals> SharedSignals::Adopt(int memfd, int doorbell) {
  std::atomic<uint32_t>* words = MapWords(memfd);
  if (!words) {
    close(memfd);
    close(doorbell);
    return nullptr;
  }
  return std::shared_ptr<SharedSignals>(new SharedSignals(memfd, doorbell, words));
}

bool SharedSignals::Matches(int memfd, int doorbell) {
  return IsSignalPage(memfd) && IsDoorbell(doorbell);
}

SharedSignals::~SharedSignals() {
  munmap(words_, kPageBytes);
  close(memfd_);
  close(doorbell_);
}

void SharedSignals::Update(int side, zx_signals_t clear, zx_signals_t set, bool ring_on_clear) {
  std::atomic<uint32_t>& word = words_[side];
  uint32_t old = word.load(std::memory_order_relaxed);
  uint32_t next;
  do next = (old & ~clear) | set;
  while (!word.compare_exchange_weak(old, next, std::memory_order_acq_rel));
  // Only a signal coming on can satisfy a wait or fire an observer: a clear rings nobody
  // (unless the clear itself raises one).
  if ((next & ~old) || (ring_on_clear && next != old)) Ring();
}

void SharedSignals::Ring() const { RingDoorbell(doorbell_); }

bool SharedSignals::WatchIn(int epfd, uint64_t data) const {
  return PollerAdd(epfd, doorbell_, kPollerIn, true, data) == 0;
}

// ---- objects --------------------------------------------------------------------------

Event::Event(SharedSignalsRef shared, zx_koid_t koid)
    : Object(ZX_OBJ_TYPE_EVENT, -1, koid, ZX_KOID_INVALID), shared_(std::move(shared)) {}

size_t Event::Descriptors(int* out) const {
  out[0] = shared_->memfd();
  out[1] = shared_->doorbell();
  return 2;
}

EventPairSide::EventPairSide(int socket, SharedSignalsRef shared, zx_koid_t koid,
                             zx_koid_t peer_koid)
    : Object(ZX_OBJ_TYPE_EVENTPAIR, socket, koid, peer_koid),
      shared_(std::move(shared)),
      side_(koid < peer_koid ? 0 : 1) {}

bool EventPairSide::PeerClosed() const { return PeerHasShutDown(fd()); }

zx_signals_t EventPairSide::Signals() {
  return shared_->Load(side_) | (PeerClosed() ? ZX_EVENTPAIR_PEER_CLOSED : 0);
}

bool EventPairSide::WatchIn(int epfd, uint64_t data) const {
  return shared_->WatchIn(epfd, data) && PollerAdd(epfd, fd(), kPollerHup, true, data) == 0;
}

size_t EventPairSide::Descriptors(int* out) const {
  out[0] = fd();
  out[1] = shared_->memfd();
  out[2] = shared_->doorbell();
  return 3;
}

zx_status_t EventPairSide::SignalPeer(zx_signals_t clear, zx_signals_t set) {
  if (PeerClosed()) return ZX_ERR_PEER_CLOSED;
  shared_->Update(1 - side_, clear, set);
  return ZX_OK;
}

const ObjectKind kEventKind{
    ZX_OBJ_TYPE_EVENT,
    2,
    [](const int* fds) { return SharedSignals::Matches(fds[0], fds[1]); },
    [](const int* fds, zx_koid_t koid, zx_koid_t) -> ObjectRef {
      SharedSignalsRef shared = SharedSignals::Adopt(fds[0], fds[1]);
      if (!shared) return nullptr;
      return std::make_shared<Event>(std::move(shared), koid);
    },
    [](const int*) { return ~0u; },
};

const ObjectKind kEventPairKind{
    ZX_OBJ_TYPE_EVENTPAIR,
    3,
    [](const int* fds) {
      return IsConnectedChannelSocket(fds[0]) && SharedSignals::Matches(fds[1], fds[2]);
    },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      SharedSignalsRef shared = SharedSignals::Adopt(fds[1], fds[2]);
      if (!shared) {
        close(fds[0]);
        return nullptr;
      }
      return std::make_shared<EventPairSide>(fds[0], std::move(shared), koid, related);
    },
    [](const int*) { return ~0u; },
};

// ---- syscalls -------------------------------------------------------------------------

zx_status_t EventCreate(uint32_t options, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  zx_status_t status;
  SharedSignalsRef shared = SharedSignals::Create(&status);
  if (!shared) return status;
  zx_handle_t h = HandleTable::Get().Add(std::make_shared<Event>(std::move(shared), NewKoid()),
                                         ZX_DEFAULT_EVENT_RIGHTS);
  if (!h) return ZX_ERR_NO_RESOURCES;
  *out = h;
  return ZX_OK;
}

zx_status_t EventpairCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1) {
  *out0 = *out1 = ZX_HANDLE_INVALID;
  if (options != 0) return ZX_ERR_NOT_SUPPORTED;
  zx_status_t status;
  SharedSignalsRef shared = SharedSignals::Create(&status);
  if (!shared) return status;
  int sockets[2];
  // Its liveness socket: nobody writes to it, so any type that reports a hangup would do;
  // the channels' (platform.h) is one both backends and every system have.
  if (SocketPair(ChannelSocketType(), sockets) != 0) return CreationStatus(errno);
  const zx_koid_t k0 = NewKoid(), k1 = NewKoid();
  auto side0 = std::make_shared<EventPairSide>(sockets[0], shared, k0, k1);
  auto side1 = std::make_shared<EventPairSide>(sockets[1], shared, k1, k0);
  return HandleTable::Get().AddPair(std::move(side0), std::move(side1), ZX_DEFAULT_EVENTPAIR_RIGHTS,
                                    out0, out1);
}

// Zircon's order: handle, right, mask (user signals, plus SIGNALED for events), object.
// Events and eventpairs keep their signals in their own page; channels, sockets, VMOs and
// timers their user signals in one made on first need (user_signals.h); plain descriptors
// answer NOT_SUPPORTED after the checks. (A port's handle never has ZX_RIGHT_SIGNAL: the
// right check answers ACCESS_DENIED, as Zircon's does.)
zx_status_t ObjectSignal(zx_handle_t h, zx_signals_t clear, zx_signals_t set) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_SIGNAL, &info);
  if (status != ZX_OK) return status;
  const zx_obj_type_t type = info.object->type();
  const bool event_like = type == ZX_OBJ_TYPE_EVENT || type == ZX_OBJ_TYPE_EVENTPAIR;
  const zx_signals_t allowed = event_like ? kEventSignals : ZX_USER_SIGNAL_ALL;
  if ((clear | set) & ~allowed) return ZX_ERR_INVALID_ARGS;
  ObservedChange change(*info.object);
  if (type == ZX_OBJ_TYPE_EVENT) {
    static_cast<Event&>(*info.object).Signal(clear, set);
  } else if (type == ZX_OBJ_TYPE_EVENTPAIR) {
    static_cast<EventPairSide&>(*info.object).Signal(clear, set);
  } else if (UserSignals* user = info.object->user_signals()) {
    return user->Update(false, clear, set);
  } else {
    return ZX_ERR_NOT_SUPPORTED;
  }
  return ZX_OK;
}

zx_status_t ObjectSignalPeer(zx_handle_t h, zx_signals_t clear, zx_signals_t set) {
  HandleInfo info;
  zx_status_t status =
      HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_SIGNAL_PEER, &info);
  if (status != ZX_OK) return status;
  const zx_obj_type_t type = info.object->type();
  const bool peered =
      type == ZX_OBJ_TYPE_EVENTPAIR || type == ZX_OBJ_TYPE_CHANNEL || type == ZX_OBJ_TYPE_SOCKET;
  if (!peered) return ZX_ERR_NOT_SUPPORTED;
  const zx_signals_t allowed = type == ZX_OBJ_TYPE_EVENTPAIR ? kEventSignals : ZX_USER_SIGNAL_ALL;
  if ((clear | set) & ~allowed) return ZX_ERR_INVALID_ARGS;
  ObservedChange change(*info.object);
  if (type == ZX_OBJ_TYPE_EVENTPAIR)
    return static_cast<EventPairSide&>(*info.object).SignalPeer(clear, set);
  // (ZX_CHANNEL_PEER_CLOSED and ZX_SOCKET_PEER_CLOSED are the same bit.)
  if (info.object->Signals() & ZX_CHANNEL_PEER_CLOSED) return ZX_ERR_PEER_CLOSED;
  return info.object->user_signals()->Update(true, clear, set);
}

}  // namespace zxc
