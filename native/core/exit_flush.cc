// Normal process exit sends what outbound queues still hold (Zircon's writes are
// "fire and forget": a message written before exit is delivered).
#include <cstdlib>
#include <mutex>

#include "core/endpoint.h"
#include "core/syscalls.h"

namespace zxc {
namespace {

// Give up when no queue has moved for this long (a peer that is alive but never reads).
int64_t NoProgressTimeoutMs() {
  const char* value = std::getenv("ZIRCON_IPC_EXIT_FLUSH_TIMEOUT_MS");
  if (value && *value) return std::strtoll(value, nullptr, 10);
  return 30000;
}

void FlushAtExit() { Endpoint::FlushAllBlocking(NoProgressTimeoutMs()); }

}  // namespace

void InstallExitFlush() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(FlushAtExit); });
}

}  // namespace zxc
