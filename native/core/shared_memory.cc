// Shared memory on each backend (shared_memory.h): memfds and seals on the linux one;
// shared-memory objects and unlinked temporary files on the portable one.
#include "core/shared_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include "core/errno_status.h"
#include "core/platform.h"

#if defined(__linux__) && !defined(F_SEAL_FUTURE_WRITE)
#define F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1; older headers lack it
#endif

namespace zxc {
namespace {

constexpr uint64_t kPage = ZX_PAGE_SIZE;

bool ReadWrite(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) == O_RDWR;
}

void CloseKeepingErrno(int fd) {
  const int err = errno;
  close(fd);
  errno = err;
}

// ---- the linux backend: memfds --------------------------------------------------------
#ifdef __linux__
constexpr int kFixedSizeSeals = F_SEAL_GROW | F_SEAL_SHRINK;
constexpr int kWriteSeals = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
constexpr int kPageSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
constexpr int kSealedFileSeals = F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;

int SealsOf(int fd) { return fcntl(fd, F_GET_SEALS); }

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

// Copies only where `src` has data (holes stay holes, reading as zeros).
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
#endif  // __linux__

// ---- the portable backend: shared-memory objects and temporary files ------------------

// Whether `st` is a POSIX shared-memory object's. macOS: pshm_stat fills st_mode with the
// permission bits alone (bsd/kern/posix_shm.c), and every other kind of descriptor has a
// type there (vnodes, sockets, pipes; kqueues say FIFO). Linux: a file of the file system
// shm_open makes its objects in (glibc: /dev/shm).
bool IsShmObject(const struct stat& st) {
#ifdef __APPLE__
  return (st.st_mode & S_IFMT) == 0;
#else
  static const dev_t shm_device = [] {
    struct stat dir;
    return stat("/dev/shm", &dir) == 0 ? dir.st_dev : static_cast<dev_t>(-1);
  }();
  return S_ISREG(st.st_mode) && st.st_dev == shm_device;
#endif
}

// Whether `st` is an anonymous file: a regular file no name leads to any more (unlinked,
// as the portable backend's temporary files are at once; a memfd is born so). A file
// that still has a name is a file, not memory shared by handles.
bool IsAnonymousFile(const struct stat& st) { return S_ISREG(st.st_mode) && st.st_nlink == 0; }

bool IsShmObject(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && IsShmObject(st);
}

// Close-on-exec, set after the call (macOS's shm_open has no O_CLOEXEC).
bool CloseOnExec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0; }

// Closes `fd` and `read_only` (if open) and answers `status`.
zx_status_t Abandon(int fd, int read_only, zx_status_t status) {
  close(fd);
  if (read_only >= 0) close(read_only);
  return status;
}

// A new shared-memory object of `size` bytes, read-write, and read-only too if `read_only`
// isn't null; its name is gone before this returns, so only descriptors reach it. The name
// is `prefix` (11 characters at most) and random, made with O_EXCL, a new one tried while
// it is taken. Mode 0400: opening it by name again (the read-only descriptor, the only
// open after creation) may read only.
zx_status_t NewShmObject(const char* prefix, uint64_t size, int* fd, int* read_only) {
  static std::atomic<uint32_t> counter{0};
  *fd = -1;
  if (read_only) *read_only = -1;
  int made = -1;
  char name[32];  // macOS: at most PSHMNAMLEN (31) characters
  for (int attempt = 0; made < 0; ++attempt) {
    uint32_t random = 0;
    RandomBytes(&random, sizeof random);
    snprintf(name, sizeof name, "/%.11s.%08x%x", prefix, random,
             counter.fetch_add(1, std::memory_order_relaxed));
    made = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0400);
    if (made < 0 && (errno != EEXIST || attempt == 100)) return CreationStatus(errno);
  }
  int ro = read_only ? shm_open(name, O_RDONLY, 0) : -1;
  const int open_error = errno;
  shm_unlink(name);
  if (read_only && ro < 0) return Abandon(made, -1, CreationStatus(open_error));
  if (!CloseOnExec(made) || (ro >= 0 && !CloseOnExec(ro)))
    return Abandon(made, ro, ZX_ERR_NO_RESOURCES);
  // Sized once: on macOS the only ftruncate this object will ever take.
  if (ftruncate(made, static_cast<off_t>(size)) != 0)
    return Abandon(made, ro, TruncateStatus(errno));
  *fd = made;
  if (read_only) *read_only = ro;
  return ZX_OK;
}

// A new temporary file of `size` bytes in $TMPDIR (or /tmp), named `prefix` and six
// random characters, unlinked at once: read-write,
// and read-only too if `read_only` isn't null. Mode 0400 once the read-only descriptor is
// open, so a holder of that one can't open it for writing again (/proc/self/fd on Linux).
zx_status_t NewTempFile(const char* prefix, uint64_t size, int* fd, int* read_only) {
  *fd = -1;
  if (read_only) *read_only = -1;
  const char* tmpdir = getenv("TMPDIR");
  std::string dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  std::string path;
  int made;
  for (;;) {
    path = dir + "/" + prefix + ".XXXXXX";
    made = mkostemp(&path[0], O_CLOEXEC);
    if (made < 0) return CreationStatus(errno);
    // A file in shm_open's own directory (Linux: TMPDIR=/dev/shm) would pass for a
    // shared-memory object, of fixed size: /tmp then.
    struct stat st;
    if (dir == "/tmp" || fstat(made, &st) != 0 || !IsShmObject(st)) break;
    unlink(path.c_str());
    close(made);
    dir = "/tmp";
  }
  const int ro = read_only ? open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1;
  const int open_error = errno;
  unlink(path.c_str());
  if (read_only && ro < 0) return Abandon(made, -1, CreationStatus(open_error));
  if (fchmod(made, 0400) != 0 || ftruncate(made, static_cast<off_t>(size)) != 0)
    return Abandon(made, ro, TruncateStatus(errno));
  *fd = made;
  if (read_only) *read_only = ro;
  return ZX_OK;
}

enum class Access { kRead, kWrite, kZero };

// Reads [offset, offset + length) of `fd` into `bytes`, writes `bytes` there or zeros it,
// through a mapping of the pages around it: the only way into a macOS shared-memory object
// (no pread/pwrite). Its size is checked first: on macOS nobody can shrink it, but on
// Linux (the portable backend's imitation) another holder can, and touching a mapping
// past the end would be SIGBUS; a shrink racing the copy still would (docs/objects.md).
zx_status_t AccessMapped(int fd, Access access, uint8_t* bytes, uint64_t length, uint64_t offset) {
  if (length == 0) return ZX_OK;
  struct stat st;
  if (fstat(fd, &st) != 0) return ZX_ERR_IO;
  if (static_cast<uint64_t>(st.st_size) < offset + length) return ZX_ERR_OUT_OF_RANGE;
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t start = offset / page * page;
  const uint64_t span = offset + length - start;
  if (span > SIZE_MAX) return ZX_ERR_NO_MEMORY;
  const int protection = PROT_READ | (access == Access::kRead ? 0 : PROT_WRITE);
  void* mapped = mmap(nullptr, static_cast<size_t>(span), protection, MAP_SHARED, fd,
                      static_cast<off_t>(start));
  if (mapped == MAP_FAILED) return StatusForErrno(errno, ZX_ERR_IO);
  uint8_t* at = static_cast<uint8_t*>(mapped) + (offset - start);
  const size_t n = static_cast<size_t>(length);
  if (access == Access::kRead)
    memcpy(bytes, at, n);
  else if (access == Access::kWrite)
    memcpy(at, bytes, n);
  else
    memset(at, 0, n);
  munmap(mapped, static_cast<size_t>(span));
  return ZX_OK;
}

// Writes zeros over [offset, offset + length) of a file.
zx_status_t WriteZeros(int fd, uint64_t offset, uint64_t length) {
  static const uint8_t zeros[64 * 1024] = {};
  for (uint64_t done = 0; done < length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof zeros, length - done));
    const ssize_t w = pwrite(fd, zeros, n, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return StatusForErrno(errno, ZX_ERR_BAD_STATE, {{ENOSPC, ZX_ERR_NO_MEMORY}});
    done += static_cast<uint64_t>(w);
  }
  return ZX_OK;
}

// Frees whole pages of a file, which then read as zeros (false: the file system can't).
bool PunchHole(int fd, uint64_t offset, uint64_t length) {
#ifdef __APPLE__
  fpunchhole_t hole{};
  hole.fp_offset = static_cast<off_t>(offset);
  hole.fp_length = static_cast<off_t>(length);
  return fcntl(fd, F_PUNCHHOLE, &hole) == 0;
#else
  return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                   static_cast<off_t>(length)) == 0;
#endif
}

// A file's range to zeros: the whole pages inside it punched out, zeros written at the
// ends (and everywhere if punching isn't supported there).
zx_status_t ZeroFile(int fd, uint64_t offset, uint64_t length) {
  const uint64_t end = offset + length;
  const uint64_t first = std::min(end, (offset + kPage - 1) / kPage * kPage);
  const uint64_t last = std::max(first, end / kPage * kPage);
  if (last > first && !PunchHole(fd, first, last - first)) {
    zx_status_t status = WriteZeros(fd, first, last - first);
    if (status != ZX_OK) return status;
  }
  zx_status_t status = WriteZeros(fd, offset, first - offset);
  return status == ZX_OK ? WriteZeros(fd, last, end - last) : status;
}

bool AllZero(const uint8_t* bytes, size_t length) {
  for (size_t i = 0; i < length; ++i)
    if (bytes[i]) return false;
  return true;
}

}  // namespace

zx_status_t TruncateStatus(int err) {
  return StatusForErrno(err, ZX_ERR_NO_MEMORY,
                        {{EFBIG, ZX_ERR_OUT_OF_RANGE},
                         {EINVAL, ZX_ERR_OUT_OF_RANGE},
                         {EPERM, ZX_ERR_UNAVAILABLE},
                         {EBADF, ZX_ERR_ACCESS_DENIED}});
}

// ---- VMOs ----

zx_status_t NewVmoMemory(uint64_t size, bool resizable, int* fd, int* read_only) {
  *fd = *read_only = -1;
#ifdef __linux__
  if (!PortableBackend()) {
    int memfd = memfd_create("zircon-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0) return CreationStatus(errno);
    if (ftruncate(memfd, static_cast<off_t>(size)) != 0) {
      const int error = errno;
      close(memfd);
      return TruncateStatus(error);
    }
    *fd = memfd;
    return ZX_OK;
  }
#endif
  // Fixed: an object nobody can shrink under a mapping (macOS). Resizable: a file, which
  // can change size as often as asked (a macOS shared-memory object can't).
  // (Their names, gone at once, still show in /proc/self/maps on Linux.)
  return resizable ? NewTempFile("zircon-vmo", size, fd, read_only)
                   : NewShmObject("zircon-vmo", size, fd, read_only);
}

bool SealVmoMemory(int fd, bool resizable) {
#ifdef __linux__
  // Seal what no holder may change: the size unless resizable, and the seals themselves
  // (nobody can later seal writes away from the others). Mode 0444: a read-only receiver
  // that is not root can't reopen /proc/self/fd/N for writing.
  if (!PortableBackend()) {
    const int seals = F_SEAL_SEAL | (resizable ? 0 : kFixedSizeSeals);
    return fchmod(fd, 0444) == 0 && fcntl(fd, F_ADD_SEALS, seals) == 0;
  }
#endif
  return true;
}

bool IsVmoMemory(int fd) {
#ifdef __linux__
  // A memfd (or other sealable shared-memory file): F_GET_SEALS answers for no other.
  if (!PortableBackend()) return SealsOf(fd) >= 0;
#endif
  // No seals to ask: memory is what can be mapped MAP_SHARED and has a size, an anonymous
  // file or a shared-memory object (fstat); sockets, pipes, devices, directories and named
  // files are not.
  struct stat st;
  return fstat(fd, &st) == 0 && (IsAnonymousFile(st) || IsShmObject(st));
}

bool FixedSizeMemory(int fd) {
#ifdef __linux__
  // Fixed only when both seals are there: with one, another holder can still shrink (or
  // grow) it.
  if (!PortableBackend()) return (SealsOf(fd) & kFixedSizeSeals) == kFixedSizeSeals;
#endif
  return IsShmObject(fd);
}

bool WriteSealedMemory(int fd) {
#ifdef __linux__
  if (!PortableBackend()) return SealsOf(fd) & kWriteSeals;
#endif
  return false;
}

int ReopenReadOnly(int fd) {
#ifdef __linux__
  // A new open file description on the same memory, read-only.
  if (!PortableBackend()) {
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return open(path, O_RDONLY | O_CLOEXEC);
  }
#endif
  // macOS's /dev/fd/N is no such reopen: it duplicates the descriptor, sharing its open
  // file and so its write access (fdesc_open answers ENODEV, then dupfdopen: XNU
  // bsd/miscfs/devfs/devfs_fdesc_support.c, bsd/kern/kern_descrip.c). The portable
  // backend keeps a read-only descriptor from creation instead (NewVmoMemory).
  return -1;
}

zx_status_t ReadMemory(int fd, bool fixed, uint8_t* out, uint64_t length, uint64_t offset) {
  if (fixed && PortableBackend()) return AccessMapped(fd, Access::kRead, out, length, offset);
  for (uint64_t done = 0; done < length;) {
    ssize_t n = pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ZX_ERR_IO;
    if (n == 0) return ZX_ERR_OUT_OF_RANGE;  // shrunk by another holder meanwhile
    done += static_cast<uint64_t>(n);
  }
  return ZX_OK;
}

zx_status_t WriteMemory(int fd, bool fixed, const uint8_t* bytes, size_t length, uint64_t offset) {
  if (fixed && PortableBackend())
    return AccessMapped(fd, Access::kWrite, const_cast<uint8_t*>(bytes), length, offset);
  for (size_t done = 0; done < length;) {
    ssize_t n = pwrite(fd, bytes + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return StatusForErrno(errno, ZX_ERR_IO, {{ENOSPC, ZX_ERR_NO_MEMORY}});
    done += static_cast<size_t>(n);
  }
  return ZX_OK;
}

zx_status_t ZeroMemory(int fd, bool fixed, uint64_t offset, uint64_t length) {
#ifdef __linux__
  // tmpfs zeroes the partial pages at the ends of a punched range.
  if (!PortableBackend()) return Fallocate(fd, FALLOC_FL_PUNCH_HOLE, offset, length);
#endif
  // A shared-memory object can only be written through a mapping: its pages stay.
  return fixed ? AccessMapped(fd, Access::kZero, nullptr, length, offset)
               : ZeroFile(fd, offset, length);
}

zx_status_t CommitMemory(int fd, bool fixed, uint64_t offset, uint64_t length) {
#ifdef __linux__
  if (!PortableBackend() || !fixed) return Fallocate(fd, 0, offset, length);
#endif
  // macOS has no call that gives a file or a shared-memory object its memory ahead of
  // use (F_PREALLOCATE reserves disk blocks): its pages come as they are written.
  return ZX_OK;
}

zx_status_t CopyMemory(int src, uint64_t from, uint64_t length, int dst, uint64_t to) {
#ifdef __linux__
  if (!PortableBackend()) return CopyData(src, from, length, dst, to);
#endif
  // No copy_file_range and no holes to find in a shared-memory object: through a buffer,
  // leaving what reads as zeros unwritten (the new memory is zeros already).
  const bool src_fixed = IsShmObject(src), dst_fixed = IsShmObject(dst);
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<uint8_t[]> buffer(new (std::nothrow) uint8_t[kChunk]);
  if (!buffer) return ZX_ERR_NO_MEMORY;
  for (uint64_t done = 0; done < length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, length - done));
    zx_status_t status = ReadMemory(src, src_fixed, buffer.get(), n, from + done);
    if (status == ZX_ERR_OUT_OF_RANGE) return ZX_OK;  // shrunk meanwhile: the rest is zeros
    if (status != ZX_OK) return ZX_ERR_BAD_STATE;
    // Each run of pages that aren't all zeros, written at once.
    size_t run = 0;
    for (size_t at = 0;;) {
      const bool end = at >= n;
      const size_t next = std::min<size_t>(n, at + kPage);
      if (!end && !AllZero(buffer.get() + at, next - at)) {
        at = next;
        continue;
      }
      if (at > run && (status = WriteMemory(dst, dst_fixed, buffer.get() + run, at - run,
                                            to + done + run)) != ZX_OK)
        return status;
      if (end) break;
      run = at = next;
    }
    done += n;
  }
  return ZX_OK;
}

zx_status_t ResizeMemory(int fd, uint64_t size, uint64_t rounded) {
  if (ftruncate(fd, static_cast<off_t>(rounded)) != 0) return TruncateStatus(errno);
  // As on Zircon, the bytes between the size asked for and the page boundary read as zero
  // (a shrink to mid-page would otherwise keep them).
  if (rounded > size) ZeroMemory(fd, false, size, rounded - size);
  return ZX_OK;
}

// ---- signal pages ----

int NewSignalPage(zx_status_t* status) {
#ifdef __linux__
  if (!PortableBackend()) {
    int memfd = memfd_create("zircon-ipc-signals", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0) {
      *status = CreationStatus(errno);
      return -1;
    }
    // Sealed at one page: no process can shrink it under another's mapping (SIGBUS).
    if (ftruncate(memfd, kPage) != 0 || fcntl(memfd, F_ADD_SEALS, kPageSeals) != 0) {
      *status = CreationStatus(errno);
      close(memfd);
      return -1;
    }
    return memfd;
  }
#endif
  int fd;
  *status = NewShmObject("zircon-sig", kPage, &fd, nullptr);
  return *status == ZX_OK ? fd : -1;
}

bool IsSignalPage(int fd) {
  struct stat st;
  // Every holder writes the page: a read-only descriptor can't be one.
  if (!ReadWrite(fd) || fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kPage)) return false;
#ifdef __linux__
  if (!PortableBackend()) {
    const int seals = SealsOf(fd);  // fails on anything but a memfd
    return seals >= 0 && (seals & F_SEAL_SHRINK) && !(seals & kWriteSeals);
  }
#endif
  // A shared-memory object: on macOS sized once, so nobody can shrink it under our
  // mapping. (A regular file could be: refused.)
  return IsShmObject(st);
}

// ---- sealed files ----

int NewSealedFile(const void* a, size_t a_size, const void* b, size_t b_size) {
  int fd = -1;
#ifdef __linux__
  if (!PortableBackend()) fd = memfd_create("zircon-ipc-port", MFD_CLOEXEC | MFD_ALLOW_SEALING);
#endif
  // A file, not a shared-memory object: its reader uses pread.
  if (PortableBackend() && NewTempFile("zircon-port", 0, &fd, nullptr) != ZX_OK) return -1;
  if (fd < 0) return -1;
  const bool written =
      pwrite(fd, a, a_size, 0) == static_cast<ssize_t>(a_size) &&
      pwrite(fd, b, b_size, static_cast<off_t>(a_size)) == static_cast<ssize_t>(b_size);
  bool sealed = written;
#ifdef __linux__
  if (!PortableBackend()) sealed = written && fcntl(fd, F_ADD_SEALS, kSealedFileSeals) == 0;
#endif
  if (sealed) return fd;
  CloseKeepingErrno(fd);
  return -1;
}

bool IsSealedFile(int fd) {
#ifdef __linux__
  if (!PortableBackend()) return (SealsOf(fd) & kSealedFileSeals) == kSealedFileSeals;
#endif
  // Nothing to seal it with: its reader copies it out once and checks what it read.
  struct stat st;
  return fstat(fd, &st) == 0 && IsAnonymousFile(st);
}

}  // namespace zxc
