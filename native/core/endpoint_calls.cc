// An endpoint's pending channel_calls: their txids, the routing of each reply read off
// the socket to its caller (whoever reads it), and the stash of the messages a call had
// to step over, bounded and returned first by reads (endpoint_inbound.cc).
#include <algorithm>
#include <atomic>

#include "core/endpoint.h"

namespace zxc {
namespace {

// Txids of calls have the high bit set: a message whose first word is below is never a
// reply.
constexpr uint32_t kMinKernelTxid = 0x80000000u;

// Endpoints in the process with a non-empty stash: writes skip looking for one when 0.
std::atomic<size_t> g_stashes{0};

}  // namespace

bool Endpoint::CallPendingLocked(uint32_t txid) const {
  if (txid < kMinKernelTxid) return false;  // not a call's
  for (const CallWaiter* waiter : calls_)
    if (waiter->txid == txid) return true;
  return false;
}

void Endpoint::RegisterCall(CallWaiter* waiter) {
  std::lock_guard<std::mutex> lock(inbound_mu_);
  uint32_t txid;
  do txid = (++txid_counter_) | kMinKernelTxid;
  while (CallPendingLocked(txid));
  waiter->txid = txid;
  waiter->done_ = false;
  calls_.push_back(waiter);
  has_calls_.store(true);
  ever_called_.store(true);
}

bool Endpoint::UnregisterCall(CallWaiter* waiter) {
  std::lock_guard<std::mutex> lock(inbound_mu_);
  auto it = std::find(calls_.begin(), calls_.end(), waiter);
  if (it == calls_.end()) return false;
  calls_.erase(it);
  has_calls_.store(!calls_.empty());
  return true;
}

bool Endpoint::CallDone(const CallWaiter* waiter) {
  std::lock_guard<std::mutex> lock(inbound_mu_);
  return waiter->done_;
}

bool Endpoint::RouteLocked(InboundMessage& message) {
  const uint32_t txid = message.txid();
  if (txid < kMinKernelTxid) return false;
  for (auto it = calls_.begin(); it != calls_.end(); ++it) {
    CallWaiter* waiter = *it;
    if (waiter->txid != txid) continue;
    calls_.erase(it);
    has_calls_.store(!calls_.empty());
    message.Own();
    waiter->reply = std::move(message);
    waiter->status = ZX_OK;
    waiter->done_ = true;
    waiter->Notify();
    return true;
  }
  return false;
}

bool Endpoint::StashHasRoomLocked() {
  // Far from either bound (the usual case) there is room for any record, no need to look.
  if (stash_.size() < ZX_CALL_STASH_LIMIT &&
      stash_bytes_ + kMaxRecordBytes <= ZX_CALL_STASH_BYTES_LIMIT)
    return true;
  WireHeader header;
  uint32_t txid;
  zx_status_t status = PeekHeadLocked(&header, &txid);
  if (status != ZX_OK) return true;          // nothing there, or what the read drops or fails on
  if (CallPendingLocked(txid)) return true;  // a reply: routed
  return stash_.size() < ZX_CALL_STASH_LIMIT &&
         stash_bytes_ + RecordPrefixSize(header.num_handles) + header.num_bytes <=
             ZX_CALL_STASH_BYTES_LIMIT;
}

void Endpoint::PopStashLocked() {
  const InboundMessage& head = stash_.front();
  stash_bytes_ -= RecordPrefixSize(head.handles.size()) + head.num_bytes;
  stash_.pop_front();
  if (stash_.empty()) SetHasStash(false);
  ClearStashFullLocked();
}

void Endpoint::ClearStashFullLocked() {
  // Whoever stopped waiting for the socket because of the stash's bounds looks again.
  if (stash_full_.load(std::memory_order_relaxed) && stash_full_.exchange(false))
    for (CallWaiter* waiter : calls_) waiter->Notify();
}

void Endpoint::PumpLocked(size_t max_records) {
  for (size_t i = 0; i < max_records && !calls_.empty(); ++i) {
    if (!StashHasRoomLocked()) {
      // Past the stash's bounds the socket is left as it is: its sender is made to wait
      // by the kernel, and the calls until a read makes room (PopStashLocked).
      stash_full_.store(true);
      return;
    }
    ClearStashFullLocked();
    InboundMessage message;
    zx_status_t status = ReceiveLocked(&message, nullptr);
    if (status == ZX_ERR_SHOULD_WAIT) return;
    if (status == ZX_ERR_PEER_CLOSED) {
      FailCallsLocked(ZX_ERR_PEER_CLOSED);
      return;
    }
    if (status != ZX_OK) continue;  // a bad record is dropped, its descriptors closed
    if (RouteLocked(message)) continue;
    message.Own();
    stash_bytes_ += RecordPrefixSize(message.handles.size()) + message.num_bytes;
    stash_.push_back(std::move(message));
    if (SetHasStash(true)) {
      std::lock_guard<std::mutex> observers_lock(signal_observers_mu_);
      for (SignalObserver* observer : signal_observers_) observer->OnSignalsChanged();
    }
  }
}

void Endpoint::AddSignalObserver(SignalObserver* observer) {
  std::lock_guard<std::mutex> lock(signal_observers_mu_);
  signal_observers_.push_back(observer);
}

void Endpoint::RemoveSignalObserver(SignalObserver* observer) {
  std::lock_guard<std::mutex> lock(signal_observers_mu_);
  auto& v = signal_observers_;
  v.erase(std::remove(v.begin(), v.end(), observer), v.end());
}

void Endpoint::FailCallsLocked(zx_status_t status) {
  std::vector<CallWaiter*> failed;
  failed.swap(calls_);
  has_calls_.store(false);
  for (CallWaiter* waiter : failed) {
    waiter->status = status;
    waiter->done_ = true;
    waiter->Notify();
  }
}

// No port looks around this (ObservedChange): a pump lowers no signal a port has seen.
// While calls are pending every look (Signals) pumps first, so a reply or a record the
// pump drops never showed as READABLE; a message stepped over keeps READABLE up in the
// stash, whose rise observers hear of (OnSignalsChanged). Test: port.test.ts, "a sync call
// pumping its reply past ...".
void Endpoint::PumpForCalls(size_t max_records) {
  std::lock_guard<std::mutex> lock(inbound_mu_);
  PumpLocked(max_records);
}

bool Endpoint::SetHasStash(bool value) {
  if (has_stash_.exchange(value) == value) return false;
  if (value)
    g_stashes.fetch_add(1);
  else
    g_stashes.fetch_sub(1);
  return true;
}

Endpoint::~Endpoint() { SetHasStash(false); }

bool Endpoint::HasStash() { return has_stash_.load(); }
bool Endpoint::StashFull() { return stash_full_.load(); }
bool Endpoint::AnyHasStash() { return g_stashes.load() != 0; }
bool Endpoint::HasPendingCalls() { return has_calls_.load(); }

}  // namespace zxc
