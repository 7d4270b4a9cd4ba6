// One libuv handle made on an environment's loop, owned: allocated on the heap (libuv
// needs it in place until its close callback has run), closed through uv_close when let
// go of, and freed by that close callback, which then tells its owner. The owner counts
// its handles whose close callback has not run yet: an environment's teardown waits for
// every one (a worker's environment unloads this library after it, and the callback's
// code must still be there).
#pragma once
#include <uv.h>

#include <cstddef>
#include <utility>

namespace zxb {

class UvHandleOwner {
 protected:
  ~UvHandleOwner() = default;
  // The close callback of one of this owner's handles has run; `open` are left.
  virtual void HandleClosed(size_t open) = 0;

 private:
  template <typename T>
  friend class UvHandle;
  size_t open_handles_ = 0;  // made through UvHandle::Open, until their close callback
};

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { Close(); }

  // Makes the handle on `loop` with `init` (uv_timer_init, uv_poll_init, ...) and `args`;
  // → init's answer. On failure nothing is left to close.
  template <typename Init, typename... Args>
  int Open(UvHandleOwner* owner, uv_loop_t* loop, Init init, Args&&... args) {
    auto* box = new Box{};
    box->owner = owner;
    const int status = init(loop, &box->handle, std::forward<Args>(args)...);
    if (status != 0) {
      delete box;
      return status;
    }
    ++owner->open_handles_;
    box_ = box;
    return 0;
  }

  T* get() const { return box_ ? &box_->handle : nullptr; }
  T* operator->() const { return &box_->handle; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(get()); }
  explicit operator bool() const { return box_ != nullptr; }

  // uv_close now: libuv lets go of the handle at once (a poll's descriptor leaves the
  // loop's epoll set before this returns; no callback of the handle runs after it).
  void Close() {
    if (!box_) return;
    uv_close(base(), &OnClosed);
    box_ = nullptr;
  }

 private:
  struct Box {
    T handle;  // first: the close callback finds the box from it
    UvHandleOwner* owner;
  };

  static void OnClosed(uv_handle_t* handle) {
    auto* box = reinterpret_cast<Box*>(handle);
    UvHandleOwner* owner = box->owner;
    delete box;
    owner->HandleClosed(--owner->open_handles_);  // may delete the owner
  }

  Box* box_ = nullptr;
};

}  // namespace zxb
