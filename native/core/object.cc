#include "core/object.h"

#include <fcntl.h>
#include <unistd.h>

namespace zxc {

Object::Object(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid)
    : type_(type), fd_(fd), koid_(koid), related_koid_(related_koid) {}

Object::~Object() {
  if (fd_ >= 0) close(fd_);
}

int Object::ReleaseFd() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

zx_rights_t RightsForDescriptor(int fd) {
  zx_rights_t rights = ZX_RIGHTS_BASIC;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return rights;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return rights | ZX_RIGHT_READ;
    case O_WRONLY: return rights | ZX_RIGHT_WRITE;
    default: return rights | ZX_RIGHT_READ | ZX_RIGHT_WRITE;
  }
}

}  // namespace zxc
