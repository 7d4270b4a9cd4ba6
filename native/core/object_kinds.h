// The kinds of object that travel in messages and as startup handles: how many
// descriptors a handle entry of each type carries on the wire, how a receiver checks them
// and turns them back into an object, and which rights the OS itself enforces.
#pragma once
#include "core/object.h"

namespace zxc {

struct ObjectKind {
  zx_obj_type_t type;
  size_t num_fds;  // descriptors per handle entry, in Object::Descriptors() order
  // Whether received descriptors really are this kind of object.
  bool (*matches)(const int* fds);
  // The object owning received descriptors, with the identity the header gave; nullptr
  // when the OS refuses what it needs (the descriptors are closed then).
  ObjectRef (*adopt)(const int* fds, zx_koid_t koid, zx_koid_t related_koid);
  // The rights these descriptors allow; a received handle gets claimed & this.
  zx_rights_t (*enforced)(const int* fds);
  // True when `enforced` costs a syscall per handle (a descriptor's access mode): a
  // received handle then enters the table with the claimed rights marked unchecked, and
  // the bound is applied when its rights are first looked at (HandleTable), so a
  // receiver that only closes or passes on what it got never pays for it.
  bool enforced_on_first_use = false;
};

// nullptr for a type that can't travel (anything unknown).
const ObjectKind* KindOf(zx_obj_type_t type);
// A socket end's entry with kWireDatagramFrames: a DATAGRAM end on a SOCK_STREAM socket.
extern const ObjectKind kFramedSocketKind;

// A handle entry's type on the wire: the object's, with kWireUserSignals when the page of
// its user signals goes with it (user_signals.h; docs/wire-format.md).
uint32_t WireTypeOf(const Object& object);
// The kind of a received entry's type and how many descriptors the entry carries; nullptr
// for a type that can't travel, kWireUserSignals on one without user signals, or
// kWireDatagramFrames on anything but a socket end.
const ObjectKind* KindOfEntry(uint32_t wire_type, size_t* num_fds);
// Whether an entry's descriptors are what its type says (the page checked as an event's).
bool EntryMatches(const ObjectKind& kind, uint32_t wire_type, const int* fds);
// The object for an entry's descriptors, which belong to it from now on (closed if it
// can't be made: nullptr).
ObjectRef AdoptEntry(const ObjectKind& kind, uint32_t wire_type, const int* fds, zx_koid_t koid,
                     zx_koid_t related_koid);

// The object for descriptors that arrived with this identity (koid 0: a new one).
// The kind must exist; the descriptors belong to the object from now on.
ObjectRef AdoptDescriptors(const ObjectKind& kind, const int* fds, zx_koid_t koid,
                           zx_koid_t related_koid);
// The rights the descriptors of `object` allow: its kind's `enforced` (all rights for a
// type that can't travel).
zx_rights_t EnforcedRights(const Object& object);
// One-descriptor shorthand for the channel and plain-descriptor kinds.
ObjectRef WrapDescriptor(zx_obj_type_t type, int fd, zx_koid_t koid, zx_koid_t related_koid);

}  // namespace zxc
