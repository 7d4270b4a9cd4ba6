// Basic Zircon scalar types used across the core. Values come from zx_constants.h,
// which is generated from lib/constants.ts (the one place constants are defined).
#pragma once
#include <cstdint>

#include "core/zx_constants.h"

namespace zxc {

using zx_status_t = int32_t;
using zx_handle_t = uint32_t;
using zx_rights_t = uint32_t;
using zx_signals_t = uint32_t;
using zx_obj_type_t = uint32_t;
using zx_koid_t = uint64_t;
using zx_time_t = int64_t;

// Largest record on the wire: header + 64 handle entries + 65536 payload bytes.
constexpr uint32_t kMaxMsgBytes = ZX_CHANNEL_MAX_MSG_BYTES;
constexpr uint32_t kMaxMsgHandles = ZX_CHANNEL_MAX_MSG_HANDLES;

}  // namespace zxc
