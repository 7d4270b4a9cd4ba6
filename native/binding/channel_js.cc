// The channel functions: create, write (one, many, with dispositions), read (into the read
// pool, into a caller's buffer, many), call (blocking and as a promise), the listener behind
// Channel's reader ('message', read, call) and 'drain'. Out-values go into the environment's
// scratch array (addon_data.h), which lib/ reads.
#include <napi.h>

#include <cstring>
#include <vector>

#include "binding/addon_data.h"
#include "binding/env_loop.h"
#include "core/handle_table.h"
#include "core/syscalls.h"

namespace zxb {
namespace {

using namespace zxc;

// Payload pieces: null, one Uint8Array, or (iovec mode) an array of Uint8Array.
bool PayloadOf(const Napi::Value& v, uint32_t options, std::vector<iovec>* out) {
  // Unknown option bits: the write answers INVALID_ARGS before looking at the bytes.
  if (v.IsNull() || v.IsUndefined() || (options & ~ZX_CHANNEL_WRITE_USE_IOVEC)) return true;
  const bool iovec_mode = options & ZX_CHANNEL_WRITE_USE_IOVEC;
  iovec piece;
  if (!iovec_mode) {
    if (!BytesOf(v.Env(), v, &piece)) return false;
    out->push_back(piece);
    return true;
  }
  if (!v.IsArray()) return false;
  auto chunks = v.As<Napi::Array>();
  out->reserve(chunks.Length());
  for (uint32_t i = 0; i < chunks.Length(); ++i) {
    if (!BytesOf(v.Env(), chunks.Get(i), &piece)) return false;
    out->push_back(piece);
  }
  return true;
}

Napi::Value ChannelCreateJs(const Napi::CallbackInfo& info) {
  uint32_t* s = Data(info).scratch;
  return Status(info.Env(), ChannelCreate(U32(info[0]), &s[0], &s[1]));
}

// A write's status, ZX_OK_ABOVE_HIGH_WATER for ZX_OK with the queue at or above its
// high-water mark: the bit rides on what is returned anyway (lib/channel.ts).
Napi::Value WriteStatus(Napi::Env env, zx_status_t status, bool above_high_water) {
  return Status(env, status == ZX_OK && above_high_water
                         ? static_cast<zx_status_t>(ZX_OK_ABOVE_HIGH_WATER)
                         : status);
}

// channelWrite(h, options, bytes, handles: number[] | null) → a status, or ZX_OK_ABOVE_HIGH_WATER
Napi::Value ChannelWriteJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const zx_handle_t h = U32(info[0]);
  const uint32_t options = U32(info[1]);
  HandleDisposition dispositions[kMaxMsgHandles + 1];
  std::vector<HandleDisposition> many;
  HandleDisposition* list = dispositions;
  size_t count = 0;
  if (info[3].IsArray()) {
    auto handles = info[3].As<Napi::Array>();
    count = handles.Length();
    if (count > kMaxMsgHandles + 1) {
      many.resize(count);
      list = many.data();
    }
    for (size_t i = 0; i < count; ++i)
      list[i] = HandleDisposition{ZX_HANDLE_OP_MOVE, U32(handles.Get(i)), ZX_OBJ_TYPE_NONE,
                                  ZX_RIGHT_SAME_RIGHTS, ZX_OK};
  }
  iovec single;
  std::vector<iovec> pieces;
  bool above = false;
  zx_status_t status;
  if (!(options & ZX_CHANNEL_WRITE_USE_IOVEC) &&
      BytesOf(env, info[2], &single)) {  // the common case
    status = ChannelWriteEtc(h, options, &single, 1, list, count, &above);
    return WriteStatus(env, status, above);
  }
  if (!PayloadOf(info[2], options, &pieces)) {
    ConsumeDispositions(list, count);
    Napi::TypeError::New(env,
                         "channelWrite: bytes must be a Uint8Array (or, with "
                         "ZX_CHANNEL_WRITE_USE_IOVEC, an array of them)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  status = ChannelWriteEtc(h, options, pieces.data(), pieces.size(), list, count, &above);
  return WriteStatus(env, status, above);
}

// An outgoing message's arguments: the payload pieces and the handle list, given either
// as handle values (moved as they are) or, packed by lib/sys.ts, as dispositions
// [operation, handle, type, rights, result] × n in a Uint32Array (`result` is filled).
struct Outgoing {
  std::vector<iovec> pieces;
  std::vector<HandleDisposition> dispositions;
  uint32_t* packed = nullptr;

  bool Parse(Napi::Env env, const char* fn, uint32_t options, const Napi::Value& bytes,
             const Napi::Value& handles, bool as_dispositions) {
    if (as_dispositions && handles.IsTypedArray()) {
      auto array = handles.As<Napi::Uint32Array>();
      packed = array.Data();
      dispositions.resize(array.ElementLength() / kDispositionWords);
      for (size_t i = 0; i < dispositions.size(); ++i) {
        const uint32_t* d = packed + i * kDispositionWords;
        dispositions[i] = HandleDisposition{d[0], d[1], d[2], d[3], ZX_OK};
      }
    } else if (!as_dispositions && handles.IsArray()) {
      auto list = handles.As<Napi::Array>();
      dispositions.resize(list.Length());
      for (uint32_t i = 0; i < list.Length(); ++i)
        dispositions[i] = HandleDisposition{ZX_HANDLE_OP_MOVE, U32(list.Get(i)), ZX_OBJ_TYPE_NONE,
                                            ZX_RIGHT_SAME_RIGHTS, ZX_OK};
    }
    if (PayloadOf(bytes, options, &pieces)) return true;
    ConsumeDispositions(dispositions.data(), dispositions.size());
    Napi::TypeError::New(env, std::string(fn) +
                                  ": bytes must be a Uint8Array (or, with "
                                  "ZX_CHANNEL_WRITE_USE_IOVEC, an array of them)")
        .ThrowAsJavaScriptException();
    return false;
  }

  void WriteResults() {
    if (!packed) return;
    for (size_t i = 0; i < dispositions.size(); ++i)
      packed[i * kDispositionWords + kDispositionResult] =
          static_cast<uint32_t>(dispositions[i].result);
  }
};

// channelWriteEtc(h, options, bytes, dispositions: {operation, handle, type, rights, result}[])
Napi::Value ChannelWriteEtcJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t options = U32(info[1]);
  Outgoing out;
  if (!out.Parse(env, "channelWriteEtc", options, info[2], info[3], true)) return env.Undefined();
  zx_status_t status = ChannelWriteEtc(U32(info[0]), options, out.pieces.data(), out.pieces.size(),
                                       out.dispositions.data(), out.dispositions.size());
  out.WriteResults();
  return Status(env, status);
}

// Sizes (and on ZX_OK the handles) of a read or call into scratch.
void ScratchOf(uint32_t* s, zx_status_t status, const ReadResult& result) {
  s[0] = result.actual_bytes;
  s[1] = result.actual_handles;
  if (status != ZX_OK) return;
  for (uint32_t i = 0; i < result.actual_handles; ++i) {
    s[kScratchHandles + i] = result.handles[i];
    s[kScratchTypes + i] = result.types[i];
    if (result.want_rights) s[kScratchRights + i] = result.rights[i];
  }
}

Napi::Value ReadResultJs(Napi::Env env, uint32_t* s, zx_status_t status, const ReadResult& result) {
  ScratchOf(s, status, result);
  if (status != ZX_OK) return Status(env, status);
  return Napi::Buffer<uint8_t>::Copy(env, result.payload, result.actual_bytes);
}

// channelCall(h, options, deadline, bytes, handles, etc, readNumBytes, readNumHandles)
//   → Buffer (ZX_OK) or status, like channelRead. Blocks the calling thread.
Napi::Value ChannelCallJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t options = U32(info[1]);
  Outgoing out;
  if (!out.Parse(env, "channelCall", options, info[3], info[4], Bool(info[5])))
    return env.Undefined();
  ReadResult result;
  result.want_rights = Bool(info[5]);  // the etc form reports them
  zx_status_t status = ChannelCallEtc(U32(info[0]), options, Deadline(info[2]), out.pieces.data(),
                                      out.pieces.size(), out.dispositions.data(),
                                      out.dispositions.size(), U32(info[6]), U32(info[7]), &result);
  out.WriteResults();
  return ReadResultJs(env, Data(info).scratch, status, result);
}

// channelCallAsync(h, options, deadline, bytes, handles, etc, readNumBytes, readNumHandles)
//   → Promise; scratch[0] = id for cancelAsync.
Napi::Value ChannelCallAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t options = U32(info[1]);
  Outgoing out;
  if (!out.Parse(env, "channelCallAsync", options, info[3], info[4], Bool(info[5])))
    return env.Undefined();
  AddonData& data = Data(info);
  Napi::Value promise =
      data.loop->CallAsync(U32(info[0]), options, Deadline(info[2]), out.pieces.data(),
                           out.pieces.size(), out.dispositions.data(), out.dispositions.size(),
                           U32(info[6]), U32(info[7]), &data.scratch[0]);
  out.WriteResults();
  return promise;
}

// channelQueued(h) → how many messages wait in the endpoint's outbound queue, or a status.
Napi::Value ChannelQueuedJs(const Napi::CallbackInfo& info) {
  HandleInfo target;
  zx_status_t status =
      HandleTable::Get().LookupChecked(U32(info[0]), ZX_OBJ_TYPE_CHANNEL, 0, &target);
  if (status != ZX_OK) return Status(info.Env(), status);
  const size_t queued = static_cast<Endpoint*>(target.object.get())->queued();
  return Napi::Number::New(info.Env(), static_cast<double>(queued));
}

// channelDrainAsync(h) → Promise<status>: ZX_OK once the outbound queue is below the
// low-water mark (at once if it is), ZX_ERR_CANCELED if the handle goes first.
Napi::Value ChannelDrainAsyncJs(const Napi::CallbackInfo& info) {
  return Data(info).loop->DrainAsync(U32(info[0]));
}

// setReadPool(slab): where channelRead receives from now on (at least
// kReceiveBufferBytes long).
Napi::Value SetReadPoolJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pool = info[0].As<Napi::Buffer<uint8_t>>();
  if (pool.Length() < kReceiveBufferBytes) {
    Napi::RangeError::New(env, "setReadPool: the buffer is too small").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  AddonData& data = Data(info);
  data.pool_ref = Napi::Persistent(pool);
  data.pool = pool.Data();
  data.pool_size = pool.Length();
  data.pool_start = 0;
  return env.Undefined();
}

// moveReadPool(start): later records land at `start` in the slab (past a message handed
// out as a view); false, and nothing moves, when there is no room there for one.
Napi::Value MoveReadPoolJs(const Napi::CallbackInfo& info) {
  AddonData& data = Data(info);
  const size_t start = U32(info[0]);
  const bool room = data.pool && data.pool_size >= kReceiveBufferBytes &&
                    start <= data.pool_size - kReceiveBufferBytes;
  if (room) data.pool_start = start;
  return Napi::Boolean::New(info.Env(), room);
}

// A read into the read pool: on ZX_OK the payload's offset in it (≥ 0), or a Buffer when
// it came from elsewhere (the stash); else a status (< 0). Sizes and handles in scratch.
Napi::Value ReadToPool(Napi::Env env, AddonData& data, zx_handle_t h, uint32_t options,
                       uint32_t num_bytes, uint32_t num_handles, bool want_rights,
                       zx_status_t* status) {
  uint8_t* window = data.pool ? data.pool + data.pool_start : nullptr;
  ReadResult result;
  result.want_rights = want_rights;
  *status = ChannelRead(h, options, num_bytes, num_handles, &result, window);
  if (*status == ZX_OK && window && result.payload >= window &&
      result.payload < window + kReceiveBufferBytes) {
    ScratchOf(data.scratch, *status, result);
    return Napi::Number::New(env, static_cast<double>(result.payload - data.pool));
  }
  return ReadResultJs(env, data.scratch, *status, result);
}

// channelRead(h, options, numBytes, numHandles) → ReadToPool's answer.
// channelReadEtc: the same, with the handles' rights in scratch too.
Napi::Value ChannelReadAnyJs(const Napi::CallbackInfo& info, bool want_rights) {
  zx_status_t status;
  return ReadToPool(info.Env(), Data(info), U32(info[0]), U32(info[1]), U32(info[2]), U32(info[3]),
                    want_rights, &status);
}

Napi::Value ChannelReadJs(const Napi::CallbackInfo& info) { return ChannelReadAnyJs(info, false); }

Napi::Value ChannelReadEtcJs(const Napi::CallbackInfo& info) {
  return ChannelReadAnyJs(info, true);
}

// What a listener's function is called with: a whole message as channelRead answers it.
Napi::Value ListenRead(void* context, zx_handle_t h, zx_status_t* status) {
  auto& data = *static_cast<AddonData*>(context);
  return ReadToPool(data.scratch_ref.Env(), data, h, 0, kMaxMsgBytes, kMaxMsgHandles, false,
                    status);
}

// What it is called with for a call's reply: as a read into the read pool answers (the
// payload copied there: lib/receive.ts copies small ones out of it into Node's own pool,
// which is far cheaper than a Buffer of its own).
Napi::Value ListenReply(void* context, zx_status_t status, const ReadResult& result) {
  auto& data = *static_cast<AddonData*>(context);
  Napi::Env env = data.scratch_ref.Env();
  if (status != ZX_OK || !data.pool) return ReadResultJs(env, data.scratch, status, result);
  // The window past pool_start always has room for a whole record (moveReadPool).
  std::memcpy(data.pool + data.pool_start, result.payload, result.actual_bytes);
  ScratchOf(data.scratch, status, result);
  return Napi::Number::New(env, static_cast<double>(data.pool_start));
}

// channelListen(h, fn, messages) → a listener id (> 0) or a status (< 0). fn is called from
// this thread's event loop with each message read (while `messages`), as channelRead
// answers it, and with each reply to a call made by channelListenCall, and its txid.
Napi::Value ChannelListenJs(const Napi::CallbackInfo& info) {
  AddonData& data = Data(info);
  return Status(info.Env(), data.loop->Listen(U32(info[0]), info[1].As<Napi::Function>(),
                                              ListenRead, ListenReply, &data, Bool(info[2])));
}

// channelListenMessages(id, messages): whether the listener reads messages.
Napi::Value ChannelListenMessagesJs(const Napi::CallbackInfo& info) {
  Data(info).loop->ListenMessages(U32(info[0]), Bool(info[1]));
  return info.Env().Undefined();
}

// channelListenCredit(id, delta): messages for the listener to read besides (±1).
Napi::Value ChannelListenCreditJs(const Napi::CallbackInfo& info) {
  Data(info).loop->ListenCredit(U32(info[0]), info[1].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// channelListenCall(id, bytes, handles: number[] | null) → the call's txid (> 0), or a
// status (< 0). The handles move with the request (consumed on failure).
Napi::Value ChannelListenCallJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Outgoing out;
  if (!out.Parse(env, "channelListenCall", 0, info[1], info[2], false)) return env.Undefined();
  const int64_t r = Data(info).loop->ListenCall(
      U32(info[0]), 0, out.pieces.data(), out.pieces.size(), out.dispositions.data(),
      out.dispositions.size(), kMaxMsgBytes, kMaxMsgHandles);
  return Napi::Number::New(env, static_cast<double>(r));
}

// channelListenCancel(id, txid) → whether the call was still pending (now taken back).
Napi::Value ChannelListenCancelJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Data(info).loop->ListenCancel(U32(info[0]), U32(info[1])));
}

// channelUnlisten(id) → whether the listener was still there.
Napi::Value ChannelUnlistenJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Data(info).loop->Unlisten(U32(info[0])));
}

// channelListenRef(id, ref): whether the listener keeps the event loop alive.
Napi::Value ChannelListenRefJs(const Napi::CallbackInfo& info) {
  Data(info).loop->RefListener(U32(info[0]), Bool(info[1]));
  return info.Env().Undefined();
}

// channelReadInto(h, options, bytes: Uint8Array, numHandles) → status; the payload in
// `bytes` (numBytes is its length), sizes and handle values in scratch as for channelRead.
Napi::Value ChannelReadIntoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  iovec bytes;
  if (!BytesOf(env, info[2], &bytes)) {
    Napi::TypeError::New(env, "channelReadInto: bytes must be a Uint8Array")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t num_bytes =
      bytes.iov_len > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(bytes.iov_len);
  ReadResult result;
  result.want_rights = false;
  zx_status_t status = ChannelRead(U32(info[0]), U32(info[1]), num_bytes, U32(info[3]), &result,
                                   nullptr, static_cast<uint8_t*>(bytes.iov_base));
  ScratchOf(Data(info).scratch, status, result);
  return Status(env, status);
}

// channelWriteMany(h, options, bytes: Uint8Array, ends: Uint32Array, handles: (number[] |
// null)[] | null) → status (ZX_OK_ABOVE_HIGH_WATER as channelWrite's); scratch[0] = how
// many messages were accepted. Message i is
// bytes[ends[i - 1] (0 for the first), ends[i]) with handles[i] moved.
Napi::Value ChannelWriteManyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  iovec bytes;
  napi_typedarray_type type;
  size_t count = 0;
  void* ends_data = nullptr;
  if (!BytesOf(env, info[2], &bytes) ||
      napi_get_typedarray_info(env, info[3], &type, &count, &ends_data, nullptr, nullptr) !=
          napi_ok ||
      type != napi_uint32_array) {
    Napi::TypeError::New(env, "channelWriteMany: bytes must be a Uint8Array and ends a Uint32Array")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t* ends = static_cast<const uint32_t*>(ends_data);
  std::vector<BatchMessage> messages(count);
  std::vector<HandleDisposition> dispositions;
  const bool with_handles = info[4].IsArray();
  if (with_handles) {  // every list converted first: the pointers below stay put
    auto lists = info[4].As<Napi::Array>();
    for (uint32_t i = 0; i < lists.Length() && i < count; ++i) {
      Napi::Value list = lists.Get(i);
      if (list.IsEmpty() || !list.IsArray()) continue;
      auto handles = list.As<Napi::Array>();
      for (uint32_t k = 0; k < handles.Length(); ++k)
        dispositions.push_back(HandleDisposition{ZX_HANDLE_OP_MOVE, U32(handles.Get(k)),
                                                 ZX_OBJ_TYPE_NONE, ZX_RIGHT_SAME_RIGHTS, ZX_OK});
      messages[i].num_dispositions = handles.Length();
    }
  }
  size_t start = 0, next_disposition = 0;
  for (size_t i = 0; i < count; ++i) {
    if (ends[i] < start || ends[i] > bytes.iov_len) {  // lib/sys.ts checks first
      Napi::RangeError::New(env, "channelWriteMany: ends must rise within bytes")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    messages[i].bytes = iovec{static_cast<uint8_t*>(bytes.iov_base) + start, ends[i] - start};
    messages[i].dispositions = dispositions.data() + next_disposition;
    next_disposition += messages[i].num_dispositions;
    start = ends[i];
  }
  size_t accepted = 0;
  bool above = false;
  zx_status_t status =
      ChannelWriteMany(U32(info[0]), U32(info[1]), messages.data(), count, &accepted, &above);
  Data(info).scratch[0] = static_cast<uint32_t>(accepted);
  return WriteStatus(env, status, above);
}

// channelReadMany(h, options, max) → a status, or on ZX_OK [payloads: Buffer, info:
// Uint32Array]: the payloads back to back, and info = [n, then n statuses, n ends (each
// payload's end in `payloads`), n handle counts, then every handle value, then their types].
Napi::Value ChannelReadManyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<BatchRead> batch;
  zx_status_t status = ChannelReadMany(U32(info[0]), U32(info[1]), U32(info[2]), &batch);
  if (status != ZX_OK) return Status(env, status);
  const size_t n = batch.size();
  size_t total = 0, handles = 0;
  for (BatchRead& entry : batch) {
    if (entry.status != ZX_OK) continue;
    total += entry.message.num_bytes;
    handles += entry.message.handles.size();
  }
  auto payloads = Napi::Buffer<uint8_t>::New(env, total);
  auto words = Napi::Uint32Array::New(env, 1 + 3 * n + 2 * handles);
  uint8_t* out = payloads.Data();
  uint32_t* w = words.Data();
  uint32_t* statuses = w + 1;
  uint32_t* ends = statuses + n;
  uint32_t* counts = ends + n;
  uint32_t* values = counts + n;
  uint32_t* types = values + handles;
  w[0] = static_cast<uint32_t>(n);
  ReadResult delivered;
  delivered.want_rights = false;
  size_t end = 0, h = 0;
  for (size_t i = 0; i < n; ++i) {
    BatchRead& entry = batch[i];
    uint32_t count = 0;
    if (entry.status == ZX_OK) {
      delivered.message = std::move(entry.message);
      entry.status = Endpoint::Deliver(&delivered);  // NO_RESOURCES: the table is full
    }
    if (entry.status == ZX_OK) {
      if (delivered.actual_bytes) std::memcpy(out + end, delivered.payload, delivered.actual_bytes);
      end += delivered.actual_bytes;
      count = delivered.actual_handles;
      for (uint32_t k = 0; k < count; ++k, ++h) {
        values[h] = delivered.handles[k];
        types[h] = delivered.types[k];
      }
    }
    statuses[i] = static_cast<uint32_t>(entry.status);
    ends[i] = static_cast<uint32_t>(end);
    counts[i] = count;
  }
  auto result = Napi::Array::New(env, 2);
  result.Set(0u, payloads);
  result.Set(1u, words);
  return result;
}

}  // namespace

void InitChannelBinding(Napi::Object exports, AddonData* data) {
  AddFunction(exports, data, "channelCreate", ChannelCreateJs);
  AddFunction(exports, data, "channelWrite", ChannelWriteJs);
  AddFunction(exports, data, "channelWriteEtc", ChannelWriteEtcJs);
  AddFunction(exports, data, "channelRead", ChannelReadJs);
  AddFunction(exports, data, "channelReadEtc", ChannelReadEtcJs);
  AddFunction(exports, data, "channelReadInto", ChannelReadIntoJs);
  AddFunction(exports, data, "channelListen", ChannelListenJs);
  AddFunction(exports, data, "channelUnlisten", ChannelUnlistenJs);
  AddFunction(exports, data, "channelListenRef", ChannelListenRefJs);
  AddFunction(exports, data, "channelListenMessages", ChannelListenMessagesJs);
  AddFunction(exports, data, "channelListenCredit", ChannelListenCreditJs);
  AddFunction(exports, data, "channelListenCall", ChannelListenCallJs);
  AddFunction(exports, data, "channelListenCancel", ChannelListenCancelJs);
  AddFunction(exports, data, "channelWriteMany", ChannelWriteManyJs);
  AddFunction(exports, data, "channelReadMany", ChannelReadManyJs);
  AddFunction(exports, data, "setReadPool", SetReadPoolJs);
  AddFunction(exports, data, "moveReadPool", MoveReadPoolJs);
  AddFunction(exports, data, "channelCall", ChannelCallJs);
  AddFunction(exports, data, "channelCallAsync", ChannelCallAsyncJs);
  AddFunction(exports, data, "channelDrainAsync", ChannelDrainAsyncJs);
  AddFunction(exports, data, "channelQueued", ChannelQueuedJs);
}

}  // namespace zxb
