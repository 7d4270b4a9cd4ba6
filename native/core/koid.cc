#include "core/koid.h"

#include <mutex>

#include "core/platform.h"

namespace zxc {
namespace {

std::mutex mu;
uint64_t prefix = 0;   // bit 63 plus 31 random bits in 32..62
uint32_t counter = 0;  // low 32 bits

uint64_t DrawPrefix() {
  uint32_t r = 0;
  if (!RandomBytes(&r, sizeof r)) r = 0x5eed1234u;
  return (static_cast<uint64_t>(r & 0x7FFFFFFFu) << 32) | (1ull << 63);
}

}  // namespace

zx_koid_t NewKoid() {
  std::lock_guard<std::mutex> lock(mu);
  if (prefix == 0 || counter == UINT32_MAX) {
    prefix = DrawPrefix();
    counter = 0;
  }
  return prefix | ++counter;
}

}  // namespace zxc
