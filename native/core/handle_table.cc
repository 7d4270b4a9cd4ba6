#include "core/handle_table.h"

#include <algorithm>

#include "core/object_kinds.h"

namespace zxc {
namespace {

// value = generation(10 bits) << 22 | index(20 bits) << 2 | 0b11
constexpr uint32_t kIndexBits = 20;
constexpr uint32_t kMaxSlots = 1u << kIndexBits;
constexpr uint32_t kGenerationMask = (1u << 10) - 1;

zx_handle_t Encode(uint32_t index, uint32_t generation) {
  return ((generation & kGenerationMask) << (kIndexBits + 2)) | (index << 2) | 3u;
}

}  // namespace

HandleTable& HandleTable::Get() {
  // Never destroyed: exit-time flushing and late threads may still use it.
  static HandleTable* table = new HandleTable();
  return *table;
}

bool HandleTable::AllocateLocked(uint32_t* index) {
  // Reuse a slot only once a good number are free, so stale values stay stale longer.
  if (!free_.empty() && (free_.size() > 1024 || slots_.size() >= kMaxSlots)) {
    *index = free_.front();
    free_.pop_front();
  } else if (slots_.size() < kMaxSlots) {
    *index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    return false;
  }
  return true;
}

zx_handle_t HandleTable::Add(ObjectRef object, zx_rights_t rights, bool rights_unchecked) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t index;
  if (!AllocateLocked(&index)) return ZX_HANDLE_INVALID;
  Slot& slot = slots_[index];
  slot.info.object = std::move(object);
  slot.info.rights = rights;
  slot.rights_unchecked = rights_unchecked;
  slot.used = true;
  ++used_;
  return Encode(index, slot.generation);
}

HandleTable::Slot* HandleTable::FindLocked(zx_handle_t h) {
  if ((h & 3u) != 3u) return nullptr;
  uint32_t index = (h >> 2) & (kMaxSlots - 1);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  if (!slot.used || Encode(index, slot.generation) != h) return nullptr;
  return &slot;
}

void HandleTable::CheckRightsLocked(Slot* slot) {
  if (!slot->rights_unchecked) return;
  slot->rights_unchecked = false;
  slot->info.rights &= EnforcedRights(*slot->info.object);
}

zx_status_t HandleTable::Lookup(zx_handle_t h, HandleInfo* out) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLocked(h);
  if (!slot) return ZX_ERR_BAD_HANDLE;
  CheckRightsLocked(slot);
  *out = slot->info;
  return ZX_OK;
}

zx_status_t HandleTable::AddPair(ObjectRef object0, ObjectRef object1, zx_rights_t rights,
                                 zx_handle_t* out0, zx_handle_t* out1) {
  zx_handle_t h0 = Add(std::move(object0), rights);
  zx_handle_t h1 = h0 ? Add(std::move(object1), rights) : ZX_HANDLE_INVALID;
  if (!h1) {
    HandleInfo gone;
    if (h0) Close(h0, &gone);
    return ZX_ERR_NO_RESOURCES;
  }
  *out0 = h0;
  *out1 = h1;
  return ZX_OK;
}

zx_status_t HandleTable::LookupChecked(zx_handle_t h, zx_obj_type_t type, zx_rights_t required,
                                       HandleInfo* out) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLocked(h);
  if (!slot) return ZX_ERR_BAD_HANDLE;
  if (type != ZX_OBJ_TYPE_NONE && slot->info.object->type() != type) return ZX_ERR_WRONG_TYPE;
  CheckRightsLocked(slot);
  if ((slot->info.rights & required) != required) return ZX_ERR_ACCESS_DENIED;
  *out = slot->info;
  return ZX_OK;
}

size_t HandleTable::LookersIn(const std::vector<HandleObserver*>& observers) {
  size_t n = 0;
  for (const HandleObserver* o : observers) n += o->LooksBeforeRemoval();
  return n;
}

void HandleTable::LookBeforeRemoval(zx_handle_t h) {
  if (lookers_.load(std::memory_order_relaxed) == 0) return;
  const RemovalLook look = removal_look_.load();
  zx_koid_t koid = ZX_KOID_INVALID;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Slot* slot = FindLocked(h);
    if (!slot || !LookersIn(slot->observers)) return;
    koid = slot->info.object->koid();
  }
  if (look) look(koid);
}

zx_status_t HandleTable::Remove(zx_handle_t h, HandleInfo* out) {
  LookBeforeRemoval(h);
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveLocked(h, out, true);
}

zx_status_t HandleTable::Close(zx_handle_t h, HandleInfo* gone) {
  LookBeforeRemoval(h);
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveLocked(h, gone, false);
}

zx_status_t HandleTable::RemoveLocked(zx_handle_t h, HandleInfo* out, bool check_rights) {
  Slot* slot = FindLocked(h);
  if (!slot) return ZX_ERR_BAD_HANDLE;
  if (check_rights) CheckRightsLocked(slot);
  *out = std::move(slot->info);
  slot->info = HandleInfo();
  slot->used = false;
  slot->rights_unchecked = false;
  slot->generation = (slot->generation + 1) & kGenerationMask;
  // Told under the lock, so an observer that unregisters itself afterwards is never
  // called once gone. Observers only set a flag or wake a thread.
  for (HandleObserver* o : slot->observers) o->OnHandleRemoved();
  lookers_ -= LookersIn(slot->observers);
  slot->observers.clear();
  free_.push_back((h >> 2) & (kMaxSlots - 1));
  --used_;
  return ZX_OK;
}

zx_status_t HandleTable::Replace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  LookBeforeRemoval(h);
  HandleInfo gone;  // let go of outside the lock (declared first: destroyed last)
  std::lock_guard<std::mutex> lock(mu_);
  Slot* source = FindLocked(h);
  if (!source) return ZX_ERR_BAD_HANDLE;
  CheckRightsLocked(source);
  uint32_t index;
  if (!RightsSubset(rights, source->info.rights) || !AllocateLocked(&index)) {
    const bool refused = !RightsSubset(rights, source->info.rights);
    RemoveLocked(h, &gone, false);  // the source is gone either way
    return refused ? ZX_ERR_INVALID_ARGS : ZX_ERR_NO_RESOURCES;
  }
  source = FindLocked(h);  // the slots may have moved
  std::vector<HandleObserver*> observers = std::move(source->observers);
  source->observers.clear();
  const zx_rights_t resolved = ResolveRights(rights, source->info.rights);
  ObjectRef object = source->info.object;
  RemoveLocked(h, &gone, false);  // tells nobody now: the observers were taken out
  Slot& slot = slots_[index];
  slot.info.object = std::move(object);
  slot.info.rights = resolved;
  slot.used = true;
  ++used_;
  *out = Encode(index, slot.generation);
  for (HandleObserver* o : observers) {
    if (o->FollowsReplace()) {
      o->observed_ = *out;
      slot.observers.push_back(o);
    } else {
      o->OnHandleRemoved();
      lookers_ -= o->LooksBeforeRemoval();
    }
  }
  return ZX_OK;
}

zx_status_t HandleTable::AddObserver(zx_handle_t h, HandleObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLocked(h);
  if (!slot) return ZX_ERR_BAD_HANDLE;
  observer->observed_ = h;
  slot->observers.push_back(observer);
  lookers_ += observer->LooksBeforeRemoval();
  return ZX_OK;
}

void HandleTable::RemoveObserver(HandleObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLocked(observer->observed_);
  if (!slot) return;
  EraseObserverLocked(slot, observer);
}

void HandleTable::RemoveObserver(zx_handle_t h, HandleObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLocked(h);
  if (!slot) return;
  EraseObserverLocked(slot, observer);
}

void HandleTable::EraseObserverLocked(Slot* slot, HandleObserver* observer) {
  auto& v = slot->observers;
  const auto end = std::remove(v.begin(), v.end(), observer);
  if (end == v.end()) return;
  lookers_ -= observer->LooksBeforeRemoval();
  v.erase(end, v.end());
}

uint32_t HandleTable::CountOf(const Object* object) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t count = 0;
  for (const Slot& slot : slots_)
    if (slot.used && slot.info.object.get() == object) ++count;
  return count;
}

size_t HandleTable::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

}  // namespace zxc
