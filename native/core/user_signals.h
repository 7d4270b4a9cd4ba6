// User signals (ZX_USER_SIGNAL_0..7) of channels, sockets, VMOs and timers, the same in every
// process that holds the object or its peer: a SharedSignals page and doorbell (event.h),
// made on first need: the first time a user signal is raised or waited for, or when the
// object leaves for another process (docs/objects.md, "User signals"). Until then the
// object costs nothing more than an empty link, and its messages or bytes nothing at all.
// The page's words: [side 0, side 1] user signals (a pair's end is side 0 when its koid is
// the lower; a VMO or a timer is side 0), then [side 0, side 1] socket dispositions
// (socket.cc), then the sides held outside, then the socket ends that want room (below).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>

#include "core/event.h"
#include "core/object.h"

namespace zxc {

// Word indices in the page: a socket end's disposition is word kDispositionWords + side,
// holding kWritesDisabled once that end's writes are disabled (socket.cc).
constexpr int kDispositionWords = 2;
constexpr uint32_t kWritesDisabled = 1;
// Word kOutsideWord holds bit (1 << side) once that side's descriptor may be used where the
// page is not read: sent alone (a startup handle, fdio), or a peer whose ends were not made
// together here (an end received without a page knows nothing of its peer's). Never cleared.
constexpr int kOutsideWord = 4;
// Word kRoomWantedWord holds bit (1 << side) while that socket end has been seen full: a
// read at the other end, in any process, clears it and rings the doorbell, so a wait for
// WRITABLE wakes when room comes, not only when the kernel wakes writers (socket.cc).
constexpr int kRoomWantedWord = 5;

class UserSignals {
 public:
  // What the ends of one pair made here share: they find the same page whichever makes it.
  struct Link {
    explicit Link(bool both_ends) : both_ends(both_ends) {}
    const bool both_ends;                       // both ends of the pair were made with it
    std::mutex mu;                              // makes the page once
    std::atomic<SharedSignals*> page{nullptr};  // set once, never cleared
    SharedSignalsRef owner;                     // keeps it mapped (under mu)
    uint32_t outside = 0;                       // kOutsideWord's bits before the page (under mu)
  };
  using LinkRef = std::shared_ptr<Link>;

  // `both_ends`: the link of a pair made here (the page then starts with no side outside).
  static LinkRef NewLink(bool both_ends = false) { return std::make_shared<Link>(both_ends); }
  // `side`: 0 or 1 (PairSide), 0 for an object without a peer (a VMO, a timer).
  UserSignals(LinkRef link, int side) : link_(std::move(link)), side_(side) {}
  static int PairSide(zx_koid_t koid, zx_koid_t peer_koid) {
    return peer_koid == ZX_KOID_INVALID || koid < peer_koid ? 0 : 1;
  }

  const LinkRef& link() const { return link_; }
  int side() const { return side_; }
  SharedSignals* page() const { return link_->page.load(std::memory_order_acquire); }
  // This side's user signals (0 while there is no page).
  zx_signals_t Load() const;
  // The page, made if there is none yet; false when the OS refuses one.
  bool Ensure();
  // A received page (nullptr: none came).
  void Attach(SharedSignalsRef page);
  // Clears then sets user signals on this side, or the peer's; a page is made only when a
  // signal comes on (clearing on a page that does not exist changes nothing).
  // ZX_ERR_NO_RESOURCES when the OS refuses the page.
  zx_status_t Update(bool peer, zx_signals_t clear, zx_signals_t set);
  // A word of the page other than the user signals (dispositions); 0 without a page.
  uint32_t LoadWord(int index) const;
  void UpdateWord(int index, uint32_t clear, uint32_t set, bool ring_on_clear = false);
  // Sets bits of a word of an existing page without ringing; false without a page.
  bool MarkWord(int index, uint32_t bits);
  // This side's descriptor goes where the page is not read: kOutsideWord, now or once made.
  void MarkOutside();
  // Whether every holder of both sides reads the page: it exists and no side is outside.
  bool BothSidesRead() const;

  // The page's descriptors that travel after the object's own: memfd, doorbell (none
  // without a page).
  size_t Descriptors(int* out) const;
  // Adds the doorbell to `epfd` (edge-triggered, `data`) if there is a page; already
  // there is fine (a port's watch made before the page was).
  bool WatchIn(int epfd, uint64_t data) const;
  // A waiter (OpenWaiter) watching the doorbell alone, for a watch that polls the object's
  // descriptor already; -1 if there is no page or the OS refuses.
  int OpenBell() const;

 private:
  LinkRef link_;
  int side_;
};

// The extra descriptors of a wire entry that carries a page (docs/wire-format.md).
constexpr size_t kUserSignalsFds = 2;

// A channel endpoint, socket end, VMO or timer: an object with its own descriptor(s) and
// user signals. Its Signals() adds user_.Load() to what its descriptor says.
class WithUserSignals : public Object {
 public:
  // `link`: shared with the other end of a pair made here (null: a new one).
  WithUserSignals(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid,
                  UserSignals::LinkRef link);
  // A waiter for signals the page holds (PageSignals) watches its doorbell too (made now if
  // need be).
  bool NeedsWaiter(zx_signals_t wanted) override;
  bool WatchIn(int epfd, uint64_t data) const override;
  // The object's descriptor, then the page's if it has one.
  size_t Descriptors(int* out) const override;
  // The peer, or the other holders, may be in another process or go there: they must find
  // the page, so it goes now (docs/wire-format.md). Without one (the OS refused) the
  // object still goes.
  std::shared_ptr<Object> ForTransfer(zx_rights_t rights, bool descriptor_only) override;
  UserSignals* user_signals() override { return &user_; }

 protected:
  // The signals the page can change: the user signals (a socket adds its dispositions).
  virtual zx_signals_t PageSignals() const { return ZX_USER_SIGNAL_ALL; }
  UserSignals user_;
};

}  // namespace zxc
