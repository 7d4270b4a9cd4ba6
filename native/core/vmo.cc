// VMOs: creation, reads and writes, sizes with fstat, shared mappings, and the kind that
// lets them travel. Their memory (a memfd, or on the portable backend a shared-memory
// object or a temporary file) is shared_memory.h's.
#include "core/vmo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errno_status.h"
#include "core/handle_table.h"
#include "core/koid.h"
#include "core/shared_memory.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

bool WritableFd(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

uint64_t FileSize(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// The rights a VMO's descriptor (and, on the linux backend, its seals) allow.
zx_rights_t EnforcedRights(const int* fds) {
  zx_rights_t rights = ~0u;
  int flags = fcntl(fds[0], F_GETFL);
  if (flags < 0) return 0;
  if ((flags & O_ACCMODE) == O_RDONLY) rights &= ~(ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
  // mmap needs a readable descriptor, whatever the protection asked for.
  if ((flags & O_ACCMODE) == O_WRONLY) rights &= ~(ZX_RIGHT_READ | ZX_RIGHT_MAP);
  // Sealed against writes: no holder can write. (A size seal is the object's own
  // property, not a right: setSize then answers UNAVAILABLE, as for a VMO created fixed.)
  if (WriteSealedMemory(fds[0])) rights &= ~(ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
  return rights;
}

}  // namespace

bool RoundSize(uint64_t size, uint64_t* rounded) {
  if (size > kMaxVmoSize) return false;
  *rounded = (size + ZX_PAGE_SIZE - 1) / ZX_PAGE_SIZE * ZX_PAGE_SIZE;
  return *rounded <= kMaxVmoSize;
}

zx_status_t LookupVmo(zx_handle_t h, zx_rights_t required, HandleInfo* info, Vmo** vmo) {
  zx_status_t status = HandleTable::Get().LookupChecked(h, ZX_OBJ_TYPE_VMO, required, info);
  if (status == ZX_OK) *vmo = static_cast<Vmo*>(info->object.get());
  return status;
}

bool InRange(uint64_t offset, uint64_t length, uint64_t size) {
  uint64_t end;
  return !__builtin_add_overflow(offset, length, &end) && end <= size;
}

const ObjectKind kVmoKind{
    ZX_OBJ_TYPE_VMO,
    1,
    [](const int* fds) { return IsVmoMemory(fds[0]); },
    [](const int* fds, zx_koid_t koid, zx_koid_t related) -> ObjectRef {
      return std::make_shared<Vmo>(fds[0], koid, related);
    },
    EnforcedRights,
};

Vmo::Vmo(int fd, zx_koid_t koid, zx_koid_t related_koid, UserSignals::LinkRef link)
    : WithUserSignals(ZX_OBJ_TYPE_VMO, fd, koid, related_koid, std::move(link)),
      // Otherwise another holder can change its size: it must be asked each time.
      resizable_(!FixedSizeMemory(fd)),
      writable_fd_(WritableFd(fd)) {
  if (!resizable_) fixed_size_ = FileSize(fd);
}

Vmo::~Vmo() {
  if (read_only_fd_ >= 0) close(read_only_fd_);
}

zx_status_t Vmo::GetSize(uint64_t* size) const {
  if (!resizable_) {
    *size = fixed_size_;
    return ZX_OK;
  }
  struct stat st;
  if (fstat(fd(), &st) != 0) return ZX_ERR_BAD_STATE;
  *size = static_cast<uint64_t>(st.st_size);
  return ZX_OK;
}

zx_status_t Vmo::GetContentSize(uint64_t* size) const {
  if (!has_content_size_.load(std::memory_order_acquire)) return GetSize(size);
  *size = content_size_.load(std::memory_order_relaxed);
  return ZX_OK;
}

zx_status_t Vmo::SetContentSize(uint64_t size) {
  uint64_t vmo_size;
  zx_status_t status = GetSize(&vmo_size);
  if (status != ZX_OK) return status;
  if (size < vmo_size && (status = ZeroMemory(fd(), !resizable_, size, vmo_size - size)) != ZX_OK)
    return status;
  set_content_size(size);
  return ZX_OK;
}

std::shared_ptr<Object> Vmo::ForTransfer(zx_rights_t rights, bool descriptor_only) {
  // The caller holds the one reference it sends; any other (a handle in the table among
  // them) is a holder here.
  if (!descriptor_only && ((rights & ZX_RIGHT_SIGNAL) || weak_from_this().use_count() > 1))
    user_.Ensure();
  if ((rights & ZX_RIGHT_WRITE) || !writable_fd_) return shared_from_this();
  // A read-only descriptor of the same memory: the receiver's mmap can't ask for
  // PROT_WRITE, its writes and ftruncate fail. The one kept from creation, or the
  // descriptor reopened; without either the rights still travel in the header, enforced
  // by the library only.
  int read_only =
      read_only_fd_ >= 0 ? fcntl(read_only_fd_, F_DUPFD_CLOEXEC, 0) : ReopenReadOnly(fd());
  if (read_only < 0) return shared_from_this();
  return std::make_shared<Vmo>(read_only, koid(), related_koid(), user_.link());
}

zx_status_t VmoCreate(uint64_t size, uint32_t options, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  // Zircon's order: the size is rounded (and checked) before leftover option bits.
  uint64_t rounded;
  if (!RoundSize(size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  // DISCARDABLE is accepted: the kernel may discard such pages, and never doing so is allowed.
  if (options & ~(ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE)) return ZX_ERR_INVALID_ARGS;
  const bool resizable = options & ZX_VMO_RESIZABLE;
  ObjectRef vmo;
  zx_status_t status = NewVmo(
      rounded, resizable, [](int) { return ZX_OK; }, &vmo);
  if (status != ZX_OK) return status;
  static_cast<Vmo*>(vmo.get())->set_content_size(size);
  zx_handle_t h =
      HandleTable::Get().Add(vmo, ZX_DEFAULT_VMO_RIGHTS | (resizable ? ZX_RIGHT_RESIZE : 0));
  if (!h) return ZX_ERR_NO_RESOURCES;  // the object closes its memfd
  *out = h;
  return ZX_OK;
}

zx_status_t NewVmo(uint64_t rounded, bool resizable, const std::function<zx_status_t(int)>& fill,
                   ObjectRef* out, zx_koid_t parent_koid) {
  int fd, read_only;
  zx_status_t status = NewVmoMemory(rounded, resizable, &fd, &read_only);
  if (status != ZX_OK) return status;
  status = fill(fd);
  if (status == ZX_OK && !SealVmoMemory(fd, resizable)) status = ZX_ERR_NO_MEMORY;
  if (status != ZX_OK) {
    close(fd);
    if (read_only >= 0) close(read_only);
    return status;
  }
  auto vmo = std::make_shared<Vmo>(fd, NewKoid(), ZX_KOID_INVALID);
  vmo->set_parent_koid(parent_koid);
  vmo->set_read_only_fd(read_only);
  *out = std::move(vmo);
  return ZX_OK;
}

namespace {

// zx_vmo_read's and zx_vmo_write's checks, in Zircon's order: the handle with `required`,
// then [offset, offset + length) within the VMO's size.
zx_status_t LookupVmoRange(zx_handle_t h, zx_rights_t required, uint64_t offset, uint64_t length,
                           HandleInfo* info, Vmo** vmo) {
  zx_status_t status = LookupVmo(h, required, info, vmo);
  if (status != ZX_OK) return status;
  uint64_t size;
  if ((status = (*vmo)->GetSize(&size)) != ZX_OK) return status;
  return InRange(offset, length, size) ? ZX_OK : ZX_ERR_OUT_OF_RANGE;
}

}  // namespace

zx_status_t VmoRead(zx_handle_t h, uint64_t length, uint64_t offset, ReadTarget& target) {
  HandleInfo info;
  Vmo* vmo;
  zx_status_t status = LookupVmoRange(h, ZX_RIGHT_READ, offset, length, &info, &vmo);
  if (status != ZX_OK) return status;
  if (length > SIZE_MAX) return ZX_ERR_NO_MEMORY;
  uint8_t* bytes = target.Get(static_cast<size_t>(length));
  if (!bytes && length) return ZX_ERR_NO_MEMORY;
  return ReadMemory(vmo->fd(), !vmo->resizable(), bytes, length, offset);
}

zx_status_t VmoWrite(zx_handle_t h, const uint8_t* bytes, size_t length, uint64_t offset) {
  HandleInfo info;
  Vmo* vmo;
  zx_status_t status = LookupVmoRange(h, ZX_RIGHT_WRITE, offset, length, &info, &vmo);
  if (status != ZX_OK) return status;
  return WriteMemory(vmo->fd(), !vmo->resizable(), bytes, length, offset);
}

zx_status_t VmoGetSize(zx_handle_t h, uint64_t* size) {
  *size = 0;
  HandleInfo info;
  Vmo* vmo;
  zx_status_t status = LookupVmo(h, ZX_RIGHT_NONE, &info, &vmo);
  return status == ZX_OK ? vmo->GetSize(size) : status;
}

zx_status_t VmoSetSize(zx_handle_t h, uint64_t size) {
  HandleInfo info;
  Vmo* vmo;
  // As Zircon's kernel: WRITE always, RESIZE only of a VMO that can change size (one that
  // can't answers UNAVAILABLE, whatever the handle's rights).
  zx_status_t status = LookupVmo(h, ZX_RIGHT_WRITE, &info, &vmo);
  if (status != ZX_OK) return status;
  if (vmo->resizable() && !(info.rights & ZX_RIGHT_RESIZE)) return ZX_ERR_ACCESS_DENIED;
  // Then a size whose rounding wraps, then resizability, then the largest size.
  if (size > UINT64_MAX - (ZX_PAGE_SIZE - 1)) return ZX_ERR_OUT_OF_RANGE;
  if (!vmo->resizable()) return ZX_ERR_UNAVAILABLE;
  uint64_t rounded;
  if (!RoundSize(size, &rounded)) return ZX_ERR_OUT_OF_RANGE;
  if ((status = ResizeMemory(vmo->fd(), size, rounded)) != ZX_OK) return status;
  vmo->set_content_size(size);
  return ZX_OK;
}

zx_status_t VmoMap(zx_handle_t h, uint64_t max_length, bool allow_faults, void** address,
                   size_t* length) {
  *address = nullptr;
  *length = 0;
  HandleInfo info;
  Vmo* vmo;
  zx_status_t status = LookupVmo(h, ZX_RIGHT_READ | ZX_RIGHT_MAP, &info, &vmo);
  if (status != ZX_OK) return status;
  // A mapping must not outlive its pages unless the caller accepts that it may: only memory
  // of fixed size (sealed; on macOS a shared-memory object, sized once) stops every holder
  // (a program outside the library too, whatever rights its header claimed) from
  // truncating it under the mapping. docs/objects.md
  if (vmo->resizable() && !allow_faults) return ZX_ERR_NOT_SUPPORTED;
  uint64_t size;
  if ((status = vmo->GetSize(&size)) != ZX_OK) return status;
  if (size == 0) return ZX_ERR_INVALID_ARGS;  // as mapping zero bytes on Zircon
  if (size > max_length || size > SIZE_MAX) return ZX_ERR_NO_MEMORY;
  const int protection = PROT_READ | ((info.rights & ZX_RIGHT_WRITE) ? PROT_WRITE : 0);
  void* mapped = mmap(nullptr, static_cast<size_t>(size), protection, MAP_SHARED, vmo->fd(), 0);
  // Every failure but a read-only mapping refused is out of memory, as on Zircon (ENFILE too).
  if (mapped == MAP_FAILED)
    return StatusForErrno(errno, ZX_ERR_NO_MEMORY,
                          {{EACCES, ZX_ERR_ACCESS_DENIED}, {ENFILE, ZX_ERR_NO_MEMORY}});
  *address = mapped;
  *length = static_cast<size_t>(size);
  return ZX_OK;
}

}  // namespace zxc
