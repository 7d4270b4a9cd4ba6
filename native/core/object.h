// A kernel object as this process holds it: one file descriptor plus the Zircon
// identity (type, koid, related koid) that travels with it in the wire header.
#pragma once
#include <memory>

#include "core/types.h"

namespace zxc {

class Object : public std::enable_shared_from_this<Object> {
 public:
  Object(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid);
  virtual ~Object();  // closes the descriptor
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  zx_obj_type_t type() const { return type_; }
  int fd() const { return fd_; }
  zx_koid_t koid() const { return koid_; }
  zx_koid_t related_koid() const { return related_koid_; }

  // Gives the descriptor away (the object no longer closes it).
  int ReleaseFd();

 private:
  const zx_obj_type_t type_;
  int fd_;
  const zx_koid_t koid_;
  const zx_koid_t related_koid_;
};

using ObjectRef = std::shared_ptr<Object>;

// Rights a plain descriptor's handle gets from its access mode (O_RDONLY → READ, ...).
zx_rights_t RightsForDescriptor(int fd);

}  // namespace zxc
