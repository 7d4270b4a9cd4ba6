// Where the bytes of a socket or VMO read land (a channel read lands in a receive buffer
// of known size instead: Endpoint::Read).
#pragma once
#include <cstddef>
#include <cstdint>

namespace zxc {

// Memory for `size` bytes (never more than the read's length), asked for only once every
// check has passed and before the bytes are received; nullptr: ZX_ERR_NO_MEMORY.
class ReadTarget {
 public:
  virtual uint8_t* Get(size_t size) = 0;

 protected:
  ~ReadTarget() = default;
};

}  // namespace zxc
