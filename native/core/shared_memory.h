// Shared memory between processes, one place for the whole concern (docs/architecture.md,
// "Backends"; docs/objects.md, "VMOs"): the memory of VMOs, the one-page signal words of
// events and user signals, and the packet file a port travels as.
//   linux     memfds, sealed: a VMO of fixed size against growing and shrinking, a page
//             against shrinking, a port's packets against everything;
//   portable  what macOS has (no memfd, no seals): a POSIX shared-memory object
//             (shm_open, then shm_unlink at once) where the size must never change: pages
//             and VMOs of fixed size; an unlinked temporary file where it must: resizable
//             VMOs, and a port's packets (read with pread, which macOS's shared-memory
//             objects don't answer).
// macOS's shared-memory objects (XNU bsd/kern/posix_shm.c): pshm_truncate sizes an object
// once in its life (a second ftruncate, by any holder, is EINVAL), so nobody can shrink one
// under another's mapping; their fileops have no read or write (fo_no_read/fo_no_write:
// ENXIO; pread/pwrite: ESPIPE, bsd/kern/sys_generic.c), so they are read and written
// through a mapping; fstat gives the mode's permission bits only (no S_IFMT type) and the
// size rounded up to the system's page (16 KiB on arm64).
// On Linux the portable backend makes the same objects (shm_open in /dev/shm, temporary
// files) and runs the same code on them, but Linux lets any holder resize either: the
// protection "sized once" gives on macOS is not imitated there (docs/objects.md).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

namespace zxc {

// ---- VMOs ----
// New memory of `size` bytes (a multiple of ZX_PAGE_SIZE) reading as zeros, in *fd,
// read-write; ZX_OK or why not. *read_only: where the backend can't reopen a descriptor
// read-only later (portable), the same memory opened read-only now, else -1.
zx_status_t NewVmoMemory(uint64_t size, bool resizable, int* fd, int* read_only);
// After the new memory is filled: what no holder may change from now on (linux: mode 0444
// and the seals; portable: nothing more to do).
bool SealVmoMemory(int fd, bool resizable);
// Whether a received descriptor is memory a VMO can be: linux, a memfd (F_GET_SEALS
// answers for no other file); portable, an anonymous file (regular, unlinked) or a
// shared-memory object.
bool IsVmoMemory(int fd);
// Whether no holder can change its size: linux, sealed both ways; portable, a
// shared-memory object (sized once on macOS).
bool FixedSizeMemory(int fd);
// Whether it is sealed against writes, so no holder can write (linux only).
bool WriteSealedMemory(int fd);
// `fd` opened again, read-only: a new open file description on the same memory
// (/proc/self/fd; -1 where that can't be done: then the caller keeps one made at
// creation, NewVmoMemory's `read_only`).
int ReopenReadOnly(int fd);

// `fixed` below: what FixedSizeMemory(fd) answered (the caller keeps it); on the portable
// backend such memory is a shared-memory object, read and written through a mapping.
// Reads and writes exactly [offset, offset + length), which the caller checked is within
// the size: OUT_OF_RANGE if the memory shrank meanwhile (another holder), IO otherwise.
zx_status_t ReadMemory(int fd, bool fixed, uint8_t* out, uint64_t length, uint64_t offset);
zx_status_t WriteMemory(int fd, bool fixed, const uint8_t* bytes, size_t length, uint64_t offset);
// Makes [offset, offset + length) read as zeros, keeping the size; whole pages inside the
// range give their memory back where the system can (not a shared-memory object's).
zx_status_t ZeroMemory(int fd, bool fixed, uint64_t offset, uint64_t length);
// Gives [offset, offset + length) memory now, where the system can (zx_vmo_op_range COMMIT).
zx_status_t CommitMemory(int fd, bool fixed, uint64_t offset, uint64_t length);
// Sets the size of resizable memory to `rounded` (`size` rounded up to a page), the bytes
// from `size` on reading as zeros.
zx_status_t ResizeMemory(int fd, uint64_t size, uint64_t rounded);
// Why ftruncate failed: a size the file can't have, a size sealed by another holder
// (EPERM), a descriptor opened read-only (EBADF); else out of memory.
zx_status_t TruncateStatus(int err);
// Copies [from, from + length) of `src` to `dst` at `to` (a new VMO's memory, all zeros),
// skipping what reads as zeros; the part `src` no longer has (shrunk meanwhile) stays zero.
zx_status_t CopyMemory(int src, uint64_t from, uint64_t length, int dst, uint64_t to);

// ---- signal pages ----
// A new page of ZX_PAGE_SIZE bytes, zeros, that no holder can shrink (linux: sealed; macOS:
// a shared-memory object, sized once); -1 with `*status` on failure.
int NewSignalPage(zx_status_t* status);
// Whether a received descriptor is such a page, read-write, at least ZX_PAGE_SIZE long.
bool IsSignalPage(int fd);

// ---- sealed files ----
// A new file holding `a` then `b`, that no holder can change (linux: sealed against
// everything; portable: an unlinked file whose reader copies it once); -1 on failure.
int NewSealedFile(const void* a, size_t a_size, const void* b, size_t b_size);
// Whether a received descriptor can be one (linux: all four seals; portable: an anonymous
// file, regular and unlinked); its reader checks what it holds.
bool IsSealedFile(int fd);

}  // namespace zxc
