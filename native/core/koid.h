// Kernel-object ids for objects this process creates or receives without one.
#pragma once
#include "core/types.h"

namespace zxc {

// A fresh koid: top bit set (Zircon leaves those to user space), a random per-process
// prefix so two processes practically never collide, and a per-process counter.
zx_koid_t NewKoid();

}  // namespace zxc
