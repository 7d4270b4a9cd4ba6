// exports.layout: where the binding leaves or finds each value in the uint32 words it
// shares with lib/ (the scratch array, a port packet, packed dispositions). lib/native-layout.ts
// reads it once at load, so the offsets are written only here and in addon_data.h.
#include <napi.h>

#include <cstddef>

#include "binding/addon_data.h"
#include "core/port.h"

namespace zxb {

using zxc::PacketSignal;
using zxc::PortPacket;

namespace {

// A field's offset in uint32 words.
constexpr double Word(size_t byte_offset) { return static_cast<double>(byte_offset / 4); }

}  // namespace

void InitLayout(Napi::Object exports) {
  Napi::Env env = exports.Env();
  auto layout = Napi::Object::New(env);
  auto set = [&](const char* name, double value) {
    layout.Set(name, Napi::Number::New(env, value));
  };
  set("scratchLength", kScratchLength);
  set("scratchHandles", kScratchHandles);
  set("scratchTypes", kScratchTypes);
  set("scratchRights", kScratchRights);
  set("scratchPacket", kScratchPacket);
  set("dispositionWords", kDispositionWords);
  set("dispositionResult", kDispositionResult);
  // zx_port_packet_t as uint32 words: the key is two (low first), the count and the
  // timestamp of a signal packet two each.
  constexpr size_t kSignal = offsetof(PortPacket, signal);
  set("packetWords", zxc::kPortPacketWords);
  set("packetKey", Word(offsetof(PortPacket, key)));
  set("packetType", Word(offsetof(PortPacket, type)));
  set("packetStatus", Word(offsetof(PortPacket, status)));
  set("packetUser", Word(offsetof(PortPacket, user)));
  set("packetUserBytes", sizeof(PortPacket::user));
  set("signalTrigger", Word(kSignal + offsetof(PacketSignal, trigger)));
  set("signalObserved", Word(kSignal + offsetof(PacketSignal, observed)));
  set("signalCount", Word(kSignal + offsetof(PacketSignal, count)));
  set("signalTimestamp", Word(kSignal + offsetof(PacketSignal, timestamp)));
  exports.Set("layout", layout);
}

}  // namespace zxb
