// The core's syscall surface, the one header the binding includes for it: plain
// functions returning Zircon statuses, one per zx_* call, in Zircon's order of checks,
// knowing nothing of JavaScript. Each section names the file that implements it; the
// objects' own classes stay in their headers (event.h, port.h, socket.h, vmo.h, timer.h).
#pragma once
#include <poll.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/endpoint.h"
#include "core/read_target.h"
#include "core/types.h"

namespace zxc {

class Port;
struct PortPacket;

struct HandleDisposition {
  uint32_t operation;  // ZX_HANDLE_OP_MOVE / ZX_HANDLE_OP_DUPLICATE
  zx_handle_t handle;
  zx_obj_type_t type;
  zx_rights_t rights;
  zx_status_t result;
};

struct HandleBasicInfo {
  zx_koid_t koid;
  zx_rights_t rights;
  zx_obj_type_t type;
  zx_koid_t related_koid;
};

// channel.cc
zx_status_t ChannelCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1);
// `payload` holds the message bytes as pieces (one piece unless ZX_CHANNEL_WRITE_USE_IOVEC).
// Every disposition's handle is consumed (moved) or left (duplicated) per Zircon.
// *above_high_water (if given, on ZX_OK): as Endpoint::Send says (backpressure).
// `make_pages` false: no user signals' page is made for the objects sent (those that have
// one still carry it): for a peer that expects one descriptor (ServiceSendRequest).
zx_status_t ChannelWriteEtc(zx_handle_t h, uint32_t options, const iovec* payload,
                            size_t payload_count, HandleDisposition* dispositions,
                            size_t num_dispositions, bool* above_high_water = nullptr,
                            bool make_pages = true);
// Removes every handle in the list from the table (a write that failed before looking).
void ConsumeDispositions(const HandleDisposition* dispositions, size_t count);
// `buffer`: where a record read off the socket lands; `into`: a caller's buffer of
// `num_bytes` that takes the payload (zx_channel_read's own shape; see Endpoint::Read).
zx_status_t ChannelRead(zx_handle_t h, uint32_t options, uint32_t num_bytes, uint32_t num_handles,
                        ReadResult* out, uint8_t* buffer = nullptr, uint8_t* into = nullptr);

// channel_batch.cc: batched I/O, an extension Zircon lacks (docs/performance.md).
struct BatchMessage {
  iovec bytes;
  HandleDisposition* dispositions;
  size_t num_dispositions;
};
// Takes the messages in order, each as ChannelWriteEtc takes it, and stops at the first
// one not accepted: its status is returned and its handles are consumed; the handles of
// the messages after it are left untouched. *accepted: how many were sent or queued.
// Options must be 0 (else INVALID_ARGS, as if the first message failed); an empty batch
// still checks the handle. *above_high_water: as ChannelWriteEtc's, after the last one.
zx_status_t ChannelWriteMany(zx_handle_t h, uint32_t options, BatchMessage* messages, size_t count,
                             size_t* accepted, bool* above_high_water = nullptr);
// Endpoint::ReadMany for `h` (READ right; options 0; 1 ≤ max ≤ ZX_CHANNEL_READ_MANY_MAX).
zx_status_t ChannelReadMany(zx_handle_t h, uint32_t options, size_t max,
                            std::vector<BatchRead>* out);
// zx_channel_call_etc, blocking the calling thread until the reply or the deadline.
zx_status_t ChannelCallEtc(zx_handle_t h, uint32_t options, zx_time_t deadline,
                           const iovec* payload, size_t payload_count,
                           HandleDisposition* dispositions, size_t num_dispositions,
                           uint32_t num_bytes, uint32_t num_handles, ReadResult* out);
// The two halves of a call, for callers that wait their own way (the event loop):
// checks, txid and send; then, once `waiter` is done, the reply's delivery.
zx_status_t ChannelCallStart(zx_handle_t h, uint32_t options, const iovec* payload,
                             size_t payload_count, HandleDisposition* dispositions,
                             size_t num_dispositions, CallWaiter* waiter, EndpointRef* endpoint);
zx_status_t ChannelCallFinish(CallWaiter& waiter, uint32_t num_bytes, uint32_t num_handles,
                              ReadResult* out);

// handle_ops.cc
zx_status_t HandleClose(zx_handle_t h);
zx_status_t HandleCloseMany(const zx_handle_t* handles, size_t count);
zx_status_t HandleDuplicate(zx_handle_t h, zx_rights_t rights, zx_handle_t* out);
zx_status_t HandleReplace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out);
zx_status_t ObjectGetInfoValid(zx_handle_t h);
zx_status_t ObjectGetInfoBasic(zx_handle_t h, HandleBasicInfo* out);
// object_info.cc: every other topic, its record in Zircon's layout (LP64) in `record`.
zx_status_t ObjectGetInfo(zx_handle_t h, uint32_t topic, std::vector<uint8_t>* record);

// property.cc: a property's value, a name or a number as the property is.
struct PropertyValue {
  std::string name;
  uint64_t number = 0;
};
zx_status_t ObjectGetProperty(zx_handle_t h, uint32_t property, PropertyValue* out);
zx_status_t ObjectSetProperty(zx_handle_t h, uint32_t property, const PropertyValue& value);

struct WaitItem {
  zx_handle_t handle;
  zx_signals_t waitfor;
  zx_signals_t pending;
};

// wait.cc
zx_signals_t SignalsOf(Object& object);
zx_status_t ObjectWaitMany(WaitItem* items, size_t count, zx_time_t deadline);
zx_status_t ObjectWaitOne(zx_handle_t h, zx_signals_t signals, zx_time_t deadline,
                          zx_signals_t* observed);
zx_time_t MonotonicNow();
// Nanoseconds left until `deadline`: -1 for ZX_TIME_INFINITE, 0 once it has passed
// (ZX_TIME_INFINITE_PAST included: no overflow).
zx_time_t NsUntil(zx_time_t deadline);

// event.cc: zx_event_create, zx_eventpair_create, zx_object_signal, zx_object_signal_peer.
zx_status_t EventCreate(uint32_t options, zx_handle_t* out);
zx_status_t EventpairCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1);
zx_status_t ObjectSignal(zx_handle_t h, zx_signals_t clear, zx_signals_t set);
zx_status_t ObjectSignalPeer(zx_handle_t h, zx_signals_t clear, zx_signals_t set);

// port.cc (PortPacket: port.h)
zx_status_t PortCreate(uint32_t options, zx_handle_t* out);
zx_status_t PortQueue(zx_handle_t port, const PortPacket& packet);
// Blocks the calling thread: ZX_OK with `*out`, TIMED_OUT, or CANCELED once the port
// handle is closed.
zx_status_t PortWait(zx_handle_t port, zx_time_t deadline, PortPacket* out);
zx_status_t ObjectWaitAsync(zx_handle_t h, zx_handle_t port, uint64_t key, zx_signals_t signals,
                            uint32_t options);
// Zircon's order: the port (BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED: WRITE), then the source
// (BAD_HANDLE → ACCESS_DENIED: WAIT → NOT_SUPPORTED: a port), then NOT_FOUND when no
// observer or queued packet matched.
zx_status_t PortCancel(zx_handle_t port, zx_handle_t source, uint64_t key);
// The port behind a handle that may be waited on (READ), for waiters with a loop of their own.
zx_status_t LookupPortToWait(zx_handle_t port, std::shared_ptr<Port>* out);

// socket.cc
zx_status_t SocketCreate(uint32_t options, zx_handle_t* out0, zx_handle_t* out1);
zx_status_t SocketWrite(zx_handle_t h, uint32_t options, const uint8_t* bytes, size_t length,
                        size_t* actual);
zx_status_t SocketRead(zx_handle_t h, uint32_t options, size_t length, ReadTarget& target,
                       size_t* actual);
zx_status_t SocketSetDisposition(zx_handle_t h, uint32_t disposition, uint32_t disposition_peer);

// vmo.cc: zx_vmo_create / read / write / get_size / set_size.
zx_status_t VmoCreate(uint64_t size, uint32_t options, zx_handle_t* out);
zx_status_t VmoRead(zx_handle_t h, uint64_t length, uint64_t offset, ReadTarget& target);
zx_status_t VmoWrite(zx_handle_t h, const uint8_t* bytes, size_t length, uint64_t offset);
zx_status_t VmoGetSize(zx_handle_t h, uint64_t* size);
zx_status_t VmoSetSize(zx_handle_t h, uint64_t size);
// The whole VMO mapped shared into this process: readable with READ and MAP, writable too
// with WRITE. `max_length`: the most the caller can use (a larger VMO: ZX_ERR_NO_MEMORY).
// A resizable VMO (one whose memory isn't of fixed size: FixedSizeMemory, shared_memory.h)
// maps only with `allow_faults` (Zircon's ZX_VM_ALLOW_FAULTS; ZX_ERR_NOT_SUPPORTED
// otherwise): any holder can shrink it, and touching a mapped page past the end is SIGBUS.
zx_status_t VmoMap(zx_handle_t h, uint64_t max_length, bool allow_faults, void** address,
                   size_t* length);
// vmo_ops.cc: zx_vmo_op_range (COMMIT, DECOMMIT and ZERO: shared_memory.h; the cache ops
// and hints check and do nothing; LOCK, TRY_LOCK, UNLOCK: NOT_SUPPORTED) and
// zx_vmo_create_child (snapshots as eager copies of the parent's range).
zx_status_t VmoOpRange(zx_handle_t h, uint32_t op, uint64_t offset, uint64_t size);
zx_status_t VmoCreateChild(zx_handle_t h, uint32_t options, uint64_t offset, uint64_t size,
                           zx_handle_t* out);

// timer.cc: zx_timer_create / set / cancel.
zx_status_t TimerCreate(uint32_t options, uint32_t clock_id, zx_handle_t* out);
zx_status_t TimerSet(zx_handle_t h, zx_time_t deadline, zx_time_t slack);
zx_status_t TimerCancel(zx_handle_t h);

// fdio.cc
// A handle as a descriptor plus the identity that the header would carry (startup handles).
struct ExportedHandle {
  int fd;
  zx_obj_type_t type;
  zx_rights_t rights;
  zx_koid_t koid;
  zx_koid_t related_koid;
};
// Consumes the handle; SHOULD_WAIT (queued messages) or BAD_STATE (stash) consume nothing.
// A channel, socket or VMO whose user signals' page is made is NOT_SUPPORTED (spawn boxes
// it) unless `bare`: then its descriptor goes alone (docs/objects.md, "User signals").
zx_status_t HandleExport(zx_handle_t h, ExportedHandle* out, bool bare = false);
// Whether HandleImport would take `fd` as `type`: INVALID_ARGS (not an open descriptor),
// NOT_SUPPORTED (a type that is not one descriptor), WRONG_TYPE (not that kind of object).
zx_status_t HandleImportCheck(int fd, zx_obj_type_t type);
// Adopts the descriptor with that identity; its kind must match the type.
zx_status_t HandleImport(const ExportedHandle& in, zx_handle_t* out);
zx_status_t FdTransfer(int fd, zx_handle_t* out);
zx_status_t FdClone(int fd, zx_handle_t* out);
zx_status_t FdCreate(zx_handle_t h, int* out_fd);

// service.cc: `name` is a path, or with `abstract` a Linux abstract socket name.
struct PeerCredentials {
  int32_t pid;
  uint32_t uid;
  uint32_t gid;
};
// A listening socket (a ZX_OBJ_TYPE_FD handle; READABLE while connections wait). A stale
// socket file left by a dead server is replaced; a live one answers ALREADY_EXISTS.
zx_status_t ServiceListen(const std::string& name, bool abstract, uint32_t mode, zx_handle_t* out);
// One waiting connection as a channel endpoint, with the client's credentials.
zx_status_t ServiceAccept(zx_handle_t listener, zx_handle_t* out, PeerCredentials* peer);
// A connection to a service as a channel endpoint, with the credentials the listener had
// when it called listen(2): NOT_FOUND (no such path), PEER_CLOSED (nobody listens),
// SHOULD_WAIT (backlog full).
zx_status_t ServiceConnect(const std::string& name, bool abstract, zx_handle_t* out,
                           PeerCredentials* listener);
// Moves the channel end `request` into the connection as one record of no bytes, a plain
// channel entry of one descriptor unless its user signals' page is already made (what a
// server outside this library reads: docs/processes.md). As channelWrite's statuses.
zx_status_t ServiceSendRequest(zx_handle_t connection, zx_handle_t request);

// exit_flush.cc: flush every outbound queue when the process exits normally.
void InstallExitFlush();

}  // namespace zxc
