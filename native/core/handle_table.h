// The process-wide handle table: zx_handle_t values → (object, rights).
// Shared by every thread and every Node environment (workers) of the process.
#pragma once
#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "core/object.h"

namespace zxc {

struct HandleInfo {
  ObjectRef object;
  zx_rights_t rights = 0;
};

// Told when the handle it watches leaves the table (closed, replaced or moved), so a
// wait on that handle can end with ZX_ERR_CANCELED. Called under the table lock: it
// must only set a flag or wake a thread, never call back into the table.
class HandleObserver {
 public:
  virtual void OnHandleRemoved() = 0;
  // Whether it follows the object when its handle is replaced (handleReplace), moving to
  // the new value instead of being told of a removal: a call in progress, which Zircon
  // lets complete. Such an observer unregisters with RemoveObserver(observer).
  virtual bool FollowsReplace() const { return false; }
  // Whether the table calls its RemovalLook (SetRemovalLook) with the object's koid,
  // outside the lock, before the handle it watches leaves: a port observer, so that a
  // signal already up is queued before the handle goes.
  virtual bool LooksBeforeRemoval() const { return false; }

 protected:
  ~HandleObserver() = default;

 private:
  friend class HandleTable;
  zx_handle_t observed_ = ZX_HANDLE_INVALID;  // the value it is registered with (table lock)
};

// Rights a handle op asks for: ZX_RIGHT_SAME_RIGHTS, or a subset of what the source has.
inline bool RightsSubset(zx_rights_t wanted, zx_rights_t have) {
  return wanted == ZX_RIGHT_SAME_RIGHTS || (wanted & ~have) == 0;
}
inline zx_rights_t ResolveRights(zx_rights_t wanted, zx_rights_t have) {
  return wanted == ZX_RIGHT_SAME_RIGHTS ? have : wanted;
}

class HandleTable {
 public:
  static HandleTable& Get();

  // A new handle for `object`; ZX_HANDLE_INVALID when the table is full. With
  // `rights_unchecked`, `rights` are a sender's claim not yet bounded by what the object's
  // descriptors allow (ObjectKind::enforced_on_first_use): every call below that hands
  // out or checks the rights applies EnforcedRights() first, once.
  zx_handle_t Add(ObjectRef object, zx_rights_t rights, bool rights_unchecked = false);

  // Handles for the two sides of a new pair (channel, socket, eventpair), both or neither:
  // NO_RESOURCES when the table is full.
  zx_status_t AddPair(ObjectRef object0, ObjectRef object1, zx_rights_t rights, zx_handle_t* out0,
                      zx_handle_t* out1);

  // BAD_HANDLE for 0, a stale value or one never handed out.
  zx_status_t Lookup(zx_handle_t h, HandleInfo* out);

  // Lookup in Zircon's order: BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED.
  zx_status_t LookupChecked(zx_handle_t h, zx_obj_type_t type, zx_rights_t required,
                            HandleInfo* out);

  // Takes the handle out of the table; its observers are told.
  zx_status_t Remove(zx_handle_t h, HandleInfo* out);
  // Remove for a close: the rights are not looked at (so never bounded). `gone` keeps the
  // object until the caller lets it go, outside the table's lock.
  zx_status_t Close(zx_handle_t h, HandleInfo* gone);

  // zx_handle_replace: the source leaves the table (also when the rights are refused:
  // INVALID_ARGS), and the object comes back under a new value with `rights`. Observers
  // that follow the object move to it; the others are told of a removal.
  zx_status_t Replace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out);

  zx_status_t AddObserver(zx_handle_t h, HandleObserver* observer);
  void RemoveObserver(zx_handle_t h, HandleObserver* observer);
  // Unregisters `observer` from the value it observes now (it may have followed a replace).
  void RemoveObserver(HandleObserver* observer);

  // What runs before the removal of a handle that an observer with LooksBeforeRemoval()
  // watches (set once, by the ports).
  using RemovalLook = void (*)(zx_koid_t koid);
  void SetRemovalLook(RemovalLook look) { removal_look_.store(look); }

  size_t size();
  // The handles in this table to `object` (ZX_INFO_HANDLE_COUNT).
  uint32_t CountOf(const Object* object);

 private:
  struct Slot {
    HandleInfo info;
    uint32_t generation = 0;
    bool used = false;
    bool rights_unchecked = false;
    std::vector<HandleObserver*> observers;
  };

  Slot* FindLocked(zx_handle_t h);
  // A free slot's index (a new one if need be); false when the table is full.
  bool AllocateLocked(uint32_t* index);
  // The slot's rights bounded by its object's descriptors, if that was left for now.
  static void CheckRightsLocked(Slot* slot);
  zx_status_t RemoveLocked(zx_handle_t h, HandleInfo* out, bool check_rights);
  // Runs the RemovalLook if an observer of `h` asks for it (not under the lock).
  void LookBeforeRemoval(zx_handle_t h);
  void EraseObserverLocked(Slot* slot, HandleObserver* observer);
  static size_t LookersIn(const std::vector<HandleObserver*>& observers);

  std::mutex mu_;
  std::vector<Slot> slots_;
  std::deque<uint32_t> free_;  // FIFO, so a closed value comes back as late as possible
  size_t used_ = 0;
  std::atomic<RemovalLook> removal_look_{nullptr};
  std::atomic<size_t> lookers_{0};  // registered observers with LooksBeforeRemoval()
};

}  // namespace zxc
