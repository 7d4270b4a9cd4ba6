// A virtual memory object: shared memory (shared_memory.h): a memfd, or on the portable
// backend a shared-memory object (fixed size) or an unlinked temporary file (resizable).
// Its size is the memory's size (a multiple of the page size for VMOs made here); a VMO
// created without ZX_VMO_RESIZABLE can't grow or shrink (sealed; on macOS sized once), so
// its size is fixed for every process that holds it. Rights the descriptor itself can
// enforce travel that way: a handle without WRITE goes as a read-only descriptor.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>

#include "core/handle_table.h"
#include "core/object_kinds.h"
#include "core/user_signals.h"

namespace zxc {

class Vmo final : public WithUserSignals {
 public:
  // Adopts `fd`; asks once whether it can change size (FixedSizeMemory).
  // `link`: a twin's, shared with the VMO it stands for (null: a new one).
  Vmo(int fd, zx_koid_t koid, zx_koid_t related_koid, UserSignals::LinkRef link = nullptr);
  ~Vmo() override;

  // ZX_VMO_ZERO_CHILDREN, always (there are no children), and the user signals; a memfd
  // polls readable and writable, which must not show through.
  zx_signals_t Signals() override { return ZX_VMO_ZERO_CHILDREN | user_.Load(); }
  short PollEventsFor(zx_signals_t, zx_signals_t) const override { return 0; }
  // Only user signals change: waiters get an epoll instance that watches the page's
  // doorbell, if there is one, and otherwise never fires (a regular file can't be
  // registered with epoll or uv_poll).
  bool PollableFd() const override { return false; }
  // Without WRITE: a twin whose descriptor is read-only (ReopenReadOnly, or a duplicate of
  // the read-only descriptor kept from creation on the portable backend). The page goes
  // with it unless no holder could ever raise a user signal: a handle without SIGNAL, and
  // none left in this process (a value's body, docs/wire-format.md).
  std::shared_ptr<Object> ForTransfer(zx_rights_t rights, bool descriptor_only) override;

  bool resizable() const { return resizable_; }
  // The VMO this one was made from (vmoCreateChild), in this process; 0 for none.
  zx_koid_t parent_koid() const { return parent_koid_; }
  void set_parent_koid(zx_koid_t koid) { parent_koid_ = koid; }
  // The same memory opened read-only at creation (owned from now on), where the backend
  // can't reopen a descriptor read-only later; -1 for none.
  void set_read_only_fd(int fd) { read_only_fd_ = fd; }
  // The size now, in bytes (for a sealed VMO, the size it was adopted with).
  zx_status_t GetSize(uint64_t* size) const;
  // ZX_PROP_VMO_CONTENT_SIZE, kept in this process (docs/objects.md): the size asked of
  // vmoCreate, vmoCreateChild or vmoSetSize here, or the property as set here; the VMO's
  // size until then (one from another process).
  zx_status_t GetContentSize(uint64_t* size) const;
  void set_content_size(uint64_t size) {
    content_size_.store(size, std::memory_order_relaxed);
    has_content_size_.store(true, std::memory_order_release);
  }
  // zx_object_set_property(ZX_PROP_VMO_CONTENT_SIZE) past the checks: as Zircon, the bytes
  // from `size` to the VMO's end read as zeros from now on.
  zx_status_t SetContentSize(uint64_t size);

 private:
  const bool resizable_;
  const bool writable_fd_;
  uint64_t fixed_size_ = 0;  // when !resizable_: it can't change, so read once
  int read_only_fd_ = -1;
  zx_koid_t parent_koid_ = ZX_KOID_INVALID;
  std::atomic<bool> has_content_size_{false};
  std::atomic<uint64_t> content_size_{0};
};

extern const ObjectKind kVmoKind;

// The largest VMO: the largest page multiple a file offset (off_t) can hold.
constexpr uint64_t kMaxVmoSize = (static_cast<uint64_t>(INT64_MAX) / ZX_PAGE_SIZE) * ZX_PAGE_SIZE;

// Rounds up to the page size; false when the result would be too large.
bool RoundSize(uint64_t size, uint64_t* rounded);
// Whether [offset, offset + length) lies within `size` (an overflowing end does not).
bool InRange(uint64_t offset, uint64_t length, uint64_t size);
zx_status_t LookupVmo(zx_handle_t h, zx_rights_t required, HandleInfo* info, Vmo** vmo);
// A new VMO of `rounded` bytes (a page multiple), its memory's descriptor given to `fill`
// before it is sealed (fixed size unless `resizable`).
zx_status_t NewVmo(uint64_t rounded, bool resizable, const std::function<zx_status_t(int)>& fill,
                   ObjectRef* out, zx_koid_t parent_koid = ZX_KOID_INVALID);

// Its syscalls are declared in core/syscalls.h.

}  // namespace zxc
