// zx_vmo_op_range and zx_vmo_create_child on a memfd (docs/objects.md, VMOs): pages are
// committed with fallocate(2), decommitted and zeroed by punching holes (which read as
// zeros), and a snapshot child is a new memfd holding a copy of the parent's range, made
// at creation: Linux can't share copy-on-write pages between two memfds.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "core/errno_status.h"
#include "core/handle_table.h"
#include "core/syscalls.h"
#include "core/vmo.h"

namespace zxc {
namespace {

constexpr uint64_t kPage = ZX_PAGE_SIZE;

zx_status_t Fallocate(int fd, int mode, uint64_t offset, uint64_t length) {
  if (length == 0) return ZX_OK;
  int r;
  do
    r = fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length));
  while (r != 0 && errno == EINTR);
  if (r == 0) return ZX_OK;
  return StatusForErrno(errno, ZX_ERR_BAD_STATE, {{ENOSPC, ZX_ERR_NO_MEMORY}});
}

// Copies [from, from + length) of `src` to `dst` at `to`, only where `src` has data
// (holes stay holes in the new memfd, reading as zeros).
zx_status_t CopyData(int src, uint64_t from, uint64_t length, int dst, uint64_t to) {
  const uint64_t end = from + length;
  uint64_t at = from;
  while (at < end) {
    off_t data = lseek(src, static_cast<off_t>(at), SEEK_DATA);
    if (data < 0) return errno == ENXIO ? ZX_OK : ZX_ERR_BAD_STATE;  // ENXIO: no data after
    if (static_cast<uint64_t>(data) >= end) return ZX_OK;
    off_t hole = lseek(src, data, SEEK_HOLE);
    if (hole < 0) return ZX_ERR_BAD_STATE;
    uint64_t stop = std::min<uint64_t>(static_cast<uint64_t>(hole), end);
    off_t in = data;
    off_t out = static_cast<off_t>(to + (static_cast<uint64_t>(data) - from));
    while (static_cast<uint64_t>(in) < stop) {
      ssize_t n = copy_file_range(src, &in, dst, &out, stop - static_cast<uint64_t>(in), 0);
      if (n > 0) continue;
      if (n == 0) return ZX_OK;  // the parent shrank meanwhile: the rest reads as zeros
      if (errno == EINTR) continue;
      // No copy_file_range between these files: copy through a buffer.
      uint8_t buffer[64 * 1024];
      ssize_t r = pread(src, buffer, std::min<uint64_t>(sizeof(buffer), stop - in), in);
      if (r == 0) return ZX_OK;  // the parent shrank meanwhile: the rest reads as zeros
      if (r < 0) return ZX_ERR_BAD_STATE;
      if (pwrite(dst, buffer, static_cast<size_t>(r), out) != r) return ZX_ERR_NO_MEMORY;
      in += r;
      out += r;
    }
    at = stop;
  }
  return ZX_OK;
}

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
  switch (op) {
    case ZX_VMO_OP_COMMIT:
      return size ? Fallocate(vmo->fd(), 0, first, last - first) : ZX_OK;
    case ZX_VMO_OP_DECOMMIT:
      return size ? Fallocate(vmo->fd(), FALLOC_FL_PUNCH_HOLE, first, last - first) : ZX_OK;
    case ZX_VMO_OP_ZERO:  // tmpfs zeroes the partial pages at the ends of a punched range
      return Fallocate(vmo->fd(), FALLOC_FL_PUNCH_HOLE, offset, size);
    default:
      return ZX_OK;  // cache maintenance and hints: nothing to do on a memfd
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
  // ones: a separate memfd can't.
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
      rounded, resizable, [&](int fd) { return CopyData(parent_fd, offset, copied, fd, 0); },
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
