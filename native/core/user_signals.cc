#include "core/user_signals.h"

#include <errno.h>
#include <unistd.h>

#include "core/poller.h"

namespace zxc {

zx_signals_t UserSignals::Load() const { return LoadWord(side_) & ZX_USER_SIGNAL_ALL; }

uint32_t UserSignals::LoadWord(int index) const {
  SharedSignals* shared = page();
  return shared ? shared->Load(index) : 0;
}

bool UserSignals::Ensure() {
  if (page()) return true;
  std::lock_guard<std::mutex> lock(link_->mu);
  if (link_->owner) return true;
  zx_status_t status;
  SharedSignalsRef made = SharedSignals::Create(&status);
  if (!made) return false;
  // Before anyone sees it: an end alone here can't tell whether its peer will read it.
  const uint32_t outside = link_->outside | (link_->both_ends ? 0 : 1u << (1 - side_));
  if (outside) made->Update(kOutsideWord, 0, outside);
  link_->owner = std::move(made);
  link_->page.store(link_->owner.get(), std::memory_order_release);
  return true;
}

void UserSignals::Attach(SharedSignalsRef page) {
  if (!page) return;
  std::lock_guard<std::mutex> lock(link_->mu);
  if (link_->owner) return;  // (a received object's link is new: never so)
  link_->owner = std::move(page);
  link_->page.store(link_->owner.get(), std::memory_order_release);
}

zx_status_t UserSignals::Update(bool peer, zx_signals_t clear, zx_signals_t set) {
  if (!set && !page()) return ZX_OK;  // every word is still 0
  if (!Ensure()) return ZX_ERR_NO_RESOURCES;
  page()->Update(peer ? 1 - side_ : side_, clear, set);
  return ZX_OK;
}

void UserSignals::UpdateWord(int index, uint32_t clear, uint32_t set, bool ring_on_clear) {
  if (!set && !page()) return;
  if (Ensure()) page()->Update(index, clear, set, ring_on_clear);
}

bool UserSignals::MarkWord(int index, uint32_t bits) {
  SharedSignals* shared = page();
  if (shared) shared->Mark(index, bits);
  return shared != nullptr;
}

void UserSignals::MarkOutside() {
  std::lock_guard<std::mutex> lock(link_->mu);
  link_->outside |= 1u << side_;
  if (link_->owner) link_->owner->Update(kOutsideWord, 0, 1u << side_);
}

bool UserSignals::BothSidesRead() const {
  SharedSignals* shared = page();
  return shared && shared->Load(kOutsideWord) == 0;
}

size_t UserSignals::Descriptors(int* out) const {
  SharedSignals* shared = page();
  if (!shared) return 0;
  out[0] = shared->memfd();
  out[1] = shared->doorbell();
  return kUserSignalsFds;
}

bool UserSignals::WatchIn(int epfd, uint64_t data) const {
  SharedSignals* shared = page();
  return !shared || shared->WatchIn(epfd, data) || errno == EEXIST;
}

int UserSignals::OpenBell() const {
  SharedSignals* shared = page();
  if (!shared) return -1;
  const int poller = PollerCreate();
  if (poller >= 0 && !shared->WatchIn(poller, 0)) {
    close(poller);
    return -1;
  }
  return poller;
}

WithUserSignals::WithUserSignals(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid,
                                 UserSignals::LinkRef link)
    : Object(type, fd, koid, related_koid),
      user_(link ? std::move(link) : UserSignals::NewLink(),
            UserSignals::PairSide(koid, related_koid)) {}

bool WithUserSignals::NeedsWaiter(zx_signals_t wanted) {
  const bool user = (wanted & PageSignals()) && user_.Ensure();
  return user || !PollableFd();
}

bool WithUserSignals::WatchIn(int epfd, uint64_t data) const {
  // A VMO's file tells nothing (pollers refuse regular files): only its doorbell is watched.
  // (A framed channel end is not PollableFd either, yet its socket's edges are what tell.)
  return (type() == ZX_OBJ_TYPE_VMO || Object::WatchIn(epfd, data)) && user_.WatchIn(epfd, data);
}

size_t WithUserSignals::Descriptors(int* out) const {
  out[0] = fd();
  return 1 + user_.Descriptors(out + 1);
}

std::shared_ptr<Object> WithUserSignals::ForTransfer(zx_rights_t, bool descriptor_only) {
  if (!descriptor_only) user_.Ensure();
  return shared_from_this();
}

}  // namespace zxc
