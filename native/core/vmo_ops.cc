// zx_vmo_op_range and zx_vmo_create_child (docs/objects.md, VMOs): pages are committed,
// decommitted and zeroed by shared_memory.h (on a memfd: fallocate(2), and punched holes,
// which read as zeros), and a snapshot child is new memory holding a copy of the parent's
// range, made at creation: Linux can't share copy-on-write pages between two memfds.
#include <algorithm>

#include "core/handle_table.h"
#include "core/shared_memory.h"
#include "core/syscalls.h"
#include "core/vmo.h"

namespace zxc {
namespace {

constexpr uint64_t kPage = ZX_PAGE_SIZE;

}  // namespace

zx_status_t VmoOpRange(zx_handle_t h, uint32_t op, uint64_t offset, uint64_t size) {
  HandleInfo info;
  Vmo* vmo;
  zx_status_t status = LookupVmo(h, ZX_RIGHT_NONE, &info, &vmo);
  if (status != ZX_OK) return status;
  const bool can_read = info.rights & ZX_RIGHT_READ, can_write = info.rights & ZX_RIGHT_WRITE;
  bool allowed;
  switch (op) {
    case ZX_VMO_OP_COMMIT:
    case ZX_VMO_OP_DECOMMIT:
    case ZX_VMO_OP_ZERO:
    case ZX_VMO_OP_CACHE_INVALIDATE:
      allowed = can_write;
      break;
    case ZX_VMO_OP_LOCK:
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
      allowed = can_read && can_write;
      break;
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
      allowed = can_read;
      break;
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED:
    case ZX_VMO_OP_PREFETCH:
      allowed = can_read || can_write;
      break;
    default:
      return ZX_ERR_INVALID_ARGS;
  }
  if (!allowed) return ZX_ERR_ACCESS_DENIED;
  // Locking is for discardable VMOs, whose pages the kernel may drop; these never are.
  if (op == ZX_VMO_OP_LOCK || op == ZX_VMO_OP_TRY_LOCK || op == ZX_VMO_OP_UNLOCK)
    return ZX_ERR_NOT_SUPPORTED;
  const bool cache_op = op == ZX_VMO_OP_CACHE_SYNC || op == ZX_VMO_OP_CACHE_CLEAN ||
                        op == ZX_VMO_OP_CACHE_CLEAN_INVALIDATE || op == ZX_VMO_OP_CACHE_INVALIDATE;
  if (cache_op && size == 0) return ZX_ERR_INVALID_ARGS;  // Zircon: before the range
  uint64_t vmo_size;
  if ((status = vmo->GetSize(&vmo_size)) != ZX_OK) return status;
  if (!InRange(offset, size, vmo_size)) return ZX_ERR_OUT_OF_RANGE;
  // Zircon decommits whole pages only (an empty range is fine wherever it is).
  if (op == ZX_VMO_OP_DECOMMIT && size != 0 && (offset % kPage != 0 || size % kPage != 0))
    return ZX_ERR_INVALID_ARGS;
  // Whole pages around the range (the last one cut at the size, for a foreign memfd).
  const uint64_t first = offset / kPage * kPage;
  const uint64_t last = std::min(vmo_size, (offset + size + kPage - 1) / kPage * kPage);
  const bool fixed = !vmo->resizable();
  switch (op) {
    case ZX_VMO_OP_COMMIT:
      return size ? CommitMemory(vmo->fd(), fixed, first, last - first) : ZX_OK;
    case ZX_VMO_OP_DECOMMIT:
      return size ? ZeroMemory(vmo->fd(), fixed, first, last - first) : ZX_OK;
    case ZX_VMO_OP_ZERO:
      return size ? ZeroMemory(vmo->fd(), fixed, offset, size) : ZX_OK;
    default:
      return ZX_OK;  // cache maintenance and hints: nothing to do on shared memory
  }
}

zx_status_t VmoCreateChild(zx_handle_t h, uint32_t options, uint64_t offset, uint64_t size,
                           zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  HandleInfo info;
  Vmo* parent;
  zx_status_t status = LookupVmo(h, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &info, &parent);
  if (status != ZX_OK) return status;
  constexpr uint32_t kKinds = ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE |
                              ZX_VMO_CHILD_SNAPSHOT_MODIFIED | ZX_VMO_CHILD_SLICE |
                              ZX_VMO_CHILD_REFERENCE;
  const uint32_t kind = options & kKinds;
  if (options & ~(kKinds | ZX_VMO_CHILD_RESIZABLE | ZX_VMO_CHILD_NO_WRITE))
    return ZX_ERR_INVALID_ARGS;
  if (kind == 0 || (kind & (kind - 1))) return ZX_ERR_INVALID_ARGS;  // exactly one kind
  // Slices and references share the parent's pages, and a partial snapshot its untouched
  // ones: separate memory can't.
  if (kind != ZX_VMO_CHILD_SNAPSHOT && kind != ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE)
    return ZX_ERR_NOT_SUPPORTED;
  uint64_t rounded;
  if (!RoundSize(size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  uint64_t end;
  if (__builtin_add_overflow(offset, rounded, &end)) return ZX_ERR_OUT_OF_RANGE;
  uint64_t parent_size;
  if ((status = parent->GetSize(&parent_size)) != ZX_OK) return status;
  const uint64_t copied = offset < parent_size ? std::min(rounded, parent_size - offset) : 0;
  const int parent_fd = parent->fd();
  const bool resizable = options & ZX_VMO_CHILD_RESIZABLE;
  ObjectRef child;
  status = NewVmo(
      rounded, resizable, [&](int fd) { return CopyMemory(parent_fd, offset, copied, fd, 0); },
      &child, parent->koid());
  if (status != ZX_OK) return status;
  static_cast<Vmo*>(child.get())->set_content_size(size);  // as Zircon: the size asked
  const std::string name = parent->name();  // a child is named as its parent, as on Zircon
  child->set_name(name.data(), name.size());
  // As Zircon: the parent handle's rights and GET_PROPERTY and SET_PROPERTY (to name the
  // child); WRITE added and EXECUTE taken (a snapshot is the child's own memory) unless
  // NO_WRITE, which takes WRITE; RESIZE only for a resizable child.
  zx_rights_t rights =
      (info.rights & ~ZX_RIGHT_RESIZE) | ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  if (options & ZX_VMO_CHILD_NO_WRITE)
    rights &= ~ZX_RIGHT_WRITE;
  else
    rights = (rights & ~ZX_RIGHT_EXECUTE) | ZX_RIGHT_WRITE;
  if (resizable) rights |= ZX_RIGHT_RESIZE;
  zx_handle_t child_handle = HandleTable::Get().Add(std::move(child), rights);
  if (!child_handle) return ZX_ERR_NO_RESOURCES;
  *out = child_handle;
  return ZX_OK;
}

}  // namespace zxc
