// zx_object_get_property / zx_object_set_property: ZX_PROP_NAME on every object and
// ZX_PROP_VMO_CONTENT_SIZE on VMOs (both kept in this process, docs/objects.md), and for
// the properties of objects this library lacks the statuses Zircon gives.
#include "core/handle_table.h"
#include "core/syscalls.h"
#include "core/vmo.h"

namespace zxc {
namespace {

// The object type a property belongs to (NONE: every type); unknown: INVALID_ARGS.
bool PropertyType(uint32_t property, bool set, zx_obj_type_t* type) {
  switch (property) {
    case ZX_PROP_NAME:
      *type = ZX_OBJ_TYPE_NONE;
      return true;
    case ZX_PROP_REGISTER_GS:
    case ZX_PROP_REGISTER_FS:
      *type = ZX_OBJ_TYPE_THREAD;
      return set;  // set only
    case ZX_PROP_PROCESS_DEBUG_ADDR:
    case ZX_PROP_PROCESS_BREAK_ON_LOAD:
      *type = ZX_OBJ_TYPE_PROCESS;
      return true;
    case ZX_PROP_PROCESS_VDSO_BASE_ADDRESS:
    case ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID:
      *type = ZX_OBJ_TYPE_PROCESS;
      return !set;  // get only
    case ZX_PROP_SOCKET_RX_THRESHOLD:
    case ZX_PROP_SOCKET_TX_THRESHOLD:
      *type = ZX_OBJ_TYPE_SOCKET;
      return true;
    case ZX_PROP_JOB_KILL_ON_OOM:
      *type = ZX_OBJ_TYPE_JOB;
      return true;
    case ZX_PROP_EXCEPTION_STATE:
    case ZX_PROP_EXCEPTION_STRATEGY:
      *type = ZX_OBJ_TYPE_EXCEPTION;
      return true;
    case ZX_PROP_VMO_CONTENT_SIZE:
      *type = ZX_OBJ_TYPE_VMO;
      return true;
    case ZX_PROP_STREAM_MODE_APPEND:
      *type = ZX_OBJ_TYPE_STREAM;
      return true;
    default:
      return false;
  }
}

// Zircon's order: the handle and the right (BAD_HANDLE → ACCESS_DENIED), then the property
// (INVALID_ARGS for one it lacks; setting the content size also needs WRITE:
// ACCESS_DENIED), then the object's type (WRONG_TYPE).
zx_status_t LookupForProperty(zx_handle_t h, uint32_t property, bool set, HandleInfo* info) {
  zx_status_t status = HandleTable::Get().LookupChecked(
      h, ZX_OBJ_TYPE_NONE, set ? ZX_RIGHT_SET_PROPERTY : ZX_RIGHT_GET_PROPERTY, info);
  if (status != ZX_OK) return status;
  zx_obj_type_t type;
  if (!PropertyType(property, set, &type)) return ZX_ERR_INVALID_ARGS;
  if (set && property == ZX_PROP_VMO_CONTENT_SIZE && !(info->rights & ZX_RIGHT_WRITE))
    return ZX_ERR_ACCESS_DENIED;
  if (type != ZX_OBJ_TYPE_NONE && info->object->type() != type) return ZX_ERR_WRONG_TYPE;
  return ZX_OK;
}

}  // namespace

zx_status_t ObjectGetProperty(zx_handle_t h, uint32_t property, PropertyValue* out) {
  *out = PropertyValue{};
  HandleInfo info;
  zx_status_t status = LookupForProperty(h, property, false, &info);
  if (status != ZX_OK) return status;
  switch (property) {
    case ZX_PROP_NAME:
      out->name = info.object->name();
      return ZX_OK;
    case ZX_PROP_VMO_CONTENT_SIZE:
      return static_cast<Vmo*>(info.object.get())->GetContentSize(&out->number);
    default:
      return ZX_ERR_NOT_SUPPORTED;  // the socket thresholds
  }
}

zx_status_t ObjectSetProperty(zx_handle_t h, uint32_t property, const PropertyValue& value) {
  HandleInfo info;
  zx_status_t status = LookupForProperty(h, property, true, &info);
  if (status != ZX_OK) return status;
  if (property == ZX_PROP_VMO_CONTENT_SIZE)
    return static_cast<Vmo*>(info.object.get())->SetContentSize(value.number);
  if (property != ZX_PROP_NAME) return ZX_ERR_NOT_SUPPORTED;  // the socket thresholds
  info.object->set_name(value.name.data(), value.name.size());
  return ZX_OK;
}

}  // namespace zxc
