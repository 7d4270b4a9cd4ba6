// zx_handle_close / close_many / duplicate / replace and zx_object_get_info.
#include "core/handle_table.h"
#include "core/port.h"
#include "core/syscalls.h"

namespace zxc {
zx_status_t HandleClose(zx_handle_t h) {
  if (h == ZX_HANDLE_INVALID) return ZX_OK;
  zx_koid_t peer = ZX_KOID_INVALID;
  zx_status_t status;
  {
    HandleInfo gone;
    status = HandleTable::Get().Close(h, &gone);
    if (gone.object) peer = gone.object->related_koid();
  }
  // Closed (if that was its last handle): its peer's observers see PEER_CLOSED now, and
  // a port in a message it dropped unread is let go.
  LookAtObservers(peer, true);
  ReleaseDeliveredPorts();
  return status;
}

zx_status_t HandleCloseMany(const zx_handle_t* handles, size_t count) {
  zx_status_t status = ZX_OK;
  for (size_t i = 0; i < count; ++i)
    if (HandleClose(handles[i]) != ZX_OK) status = ZX_ERR_BAD_HANDLE;
  return status;
}

zx_status_t HandleDuplicate(zx_handle_t h, zx_rights_t rights, zx_handle_t* out) {
  *out = ZX_HANDLE_INVALID;
  HandleTable& table = HandleTable::Get();
  HandleInfo info;
  zx_status_t status = table.LookupChecked(h, ZX_OBJ_TYPE_NONE, ZX_RIGHT_DUPLICATE, &info);
  if (status != ZX_OK) return status;
  if (!RightsSubset(rights, info.rights)) return ZX_ERR_INVALID_ARGS;
  zx_handle_t dup = table.Add(info.object, ResolveRights(rights, info.rights));
  if (!dup) return ZX_ERR_NO_RESOURCES;
  *out = dup;
  return ZX_OK;
}

zx_status_t HandleReplace(zx_handle_t h, zx_rights_t rights, zx_handle_t* out) {
  return HandleTable::Get().Replace(h, rights, out);
}

zx_status_t ObjectGetInfoValid(zx_handle_t h) {
  HandleInfo info;
  return HandleTable::Get().Lookup(h, &info);
}

zx_status_t ObjectGetInfoBasic(zx_handle_t h, HandleBasicInfo* out) {
  HandleInfo info;
  zx_status_t status = HandleTable::Get().Lookup(h, &info);
  if (status != ZX_OK) return status;
  *out = HandleBasicInfo{info.object->koid(), info.rights, info.object->type(),
                         info.object->related_koid()};
  return ZX_OK;
}

}  // namespace zxc
