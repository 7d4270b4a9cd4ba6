// zx_object_get_info past HANDLE_VALID and HANDLE_BASIC (handle_ops.cc): which object type
// and rights each topic Zircon knows asks of the handle, checked in Zircon's order, and the
// records of the topics this library's objects answer.
#include <sys/stat.h>

#include "core/handle_table.h"
#include "core/socket.h"
#include "core/syscalls.h"
#include "core/timer.h"
#include "core/vmo.h"

namespace zxc {
namespace {

// What a topic asks of the handle: an object type (NONE: any) and rights. Zircon looks up
// a typed handle BAD_HANDLE → WRONG_TYPE → ACCESS_DENIED, an untyped one BAD_HANDLE →
// ACCESS_DENIED; a topic it does not know is NOT_SUPPORTED before the handle is looked at.
struct TopicRule {
  uint32_t topic;
  zx_obj_type_t type;
  zx_rights_t rights;
};

constexpr TopicRule kTopics[] = {
    {ZX_INFO_PROCESS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_THREADS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_ENUMERATE},
    {ZX_INFO_VMAR, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_INSPECT},
    {ZX_INFO_JOB_CHILDREN, ZX_OBJ_TYPE_JOB, ZX_RIGHT_ENUMERATE},
    {ZX_INFO_JOB_PROCESSES, ZX_OBJ_TYPE_JOB, ZX_RIGHT_ENUMERATE},
    {ZX_INFO_THREAD, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_INSPECT},
    {ZX_INFO_THREAD_EXCEPTION_REPORT_V1, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_INSPECT},
    {ZX_INFO_THREAD_EXCEPTION_REPORT, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_INSPECT},
    {ZX_INFO_TASK_STATS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_MAPS_V1, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_MAPS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_VMOS_V1, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_VMOS_V2, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_VMOS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_THREAD_STATS, ZX_OBJ_TYPE_THREAD, ZX_RIGHT_INSPECT},
    {ZX_INFO_CPU_STATS, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    {ZX_INFO_KMEM_STATS_V1, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    {ZX_INFO_KMEM_STATS, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    {ZX_INFO_RESOURCE, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_INSPECT},
    {ZX_INFO_HANDLE_COUNT, ZX_OBJ_TYPE_NONE, ZX_RIGHT_INSPECT},
    {ZX_INFO_BTI, ZX_OBJ_TYPE_BTI, ZX_RIGHT_INSPECT},
    {ZX_INFO_PROCESS_HANDLE_STATS, ZX_OBJ_TYPE_PROCESS, ZX_RIGHT_INSPECT},
    {ZX_INFO_SOCKET, ZX_OBJ_TYPE_SOCKET, ZX_RIGHT_INSPECT},
    {ZX_INFO_VMO_V1, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE},
    {ZX_INFO_VMO_V2, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE},
    {ZX_INFO_VMO, ZX_OBJ_TYPE_VMO, ZX_RIGHT_NONE},
    {ZX_INFO_JOB, ZX_OBJ_TYPE_JOB, ZX_RIGHT_INSPECT},
    {ZX_INFO_TIMER, ZX_OBJ_TYPE_TIMER, ZX_RIGHT_INSPECT},
    {ZX_INFO_STREAM, ZX_OBJ_TYPE_STREAM, ZX_RIGHT_INSPECT},
    {ZX_INFO_HANDLE_TABLE, ZX_OBJ_TYPE_PROCESS,
     ZX_RIGHT_INSPECT | ZX_RIGHT_MANAGE_PROCESS | ZX_RIGHT_MANAGE_THREAD},
    {ZX_INFO_MSI, ZX_OBJ_TYPE_MSI, ZX_RIGHT_INSPECT},
    {ZX_INFO_GUEST_STATS, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    // Any task with INSPECT, then WRONG_TYPE for what is not a thread, process or job.
    {ZX_INFO_TASK_RUNTIME_V1, ZX_OBJ_TYPE_NONE, ZX_RIGHT_INSPECT},
    {ZX_INFO_TASK_RUNTIME, ZX_OBJ_TYPE_NONE, ZX_RIGHT_INSPECT},
    {ZX_INFO_KMEM_STATS_EXTENDED, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    {ZX_INFO_VCPU, ZX_OBJ_TYPE_VCPU, ZX_RIGHT_INSPECT},
    {ZX_INFO_KMEM_STATS_COMPRESSION, ZX_OBJ_TYPE_RESOURCE, ZX_RIGHT_NONE},
    {ZX_INFO_IOB, ZX_OBJ_TYPE_IOB, ZX_RIGHT_INSPECT},
    {ZX_INFO_IOB_REGIONS, ZX_OBJ_TYPE_IOB, ZX_RIGHT_INSPECT},
    {ZX_INFO_VMAR_MAPS, ZX_OBJ_TYPE_VMAR, ZX_RIGHT_INSPECT},
};

// Appends little-endian fields in a record's layout.
struct Record {
  std::vector<uint8_t>* out;
  void U32(uint32_t v) { Bytes(&v, 4); }
  void U64(uint64_t v) { Bytes(&v, 8); }
  void Bytes(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    out->insert(out->end(), b, b + n);
  }
};

// zx_info_vmo_t (128 bytes; V1 is its first 104, V2 its first 120).
zx_status_t VmoRecord(const HandleInfo& info, uint32_t topic, std::vector<uint8_t>* out) {
  auto* vmo = static_cast<Vmo*>(info.object.get());
  uint64_t size;
  zx_status_t status = vmo->GetSize(&size);
  if (status != ZX_OK) return status;
  struct stat st;
  const uint64_t committed =
      fstat(vmo->fd(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  uint32_t flags = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE;
  if (vmo->resizable()) flags |= ZX_INFO_VMO_RESIZABLE;
  if (vmo->parent_koid()) flags |= ZX_INFO_VMO_IS_COW_CLONE;
  Record r{out};
  r.U64(vmo->koid());
  char name[ZX_MAX_NAME_LEN] = {};
  const std::string own = vmo->name();
  own.copy(name, sizeof(name) - 1);
  r.Bytes(name, sizeof(name));
  r.U64(size);
  r.U64(vmo->parent_koid());
  r.U64(0);  // num_children: children are copies, not tied to the parent
  r.U64(0);  // num_mappings: not counted
  r.U64(0);  // share_count
  r.U32(flags);
  r.U32(0);
  r.U64(committed);
  r.U32(info.rights);
  r.U32(ZX_CACHE_POLICY_CACHED);
  if (topic == ZX_INFO_VMO_V1) return ZX_OK;
  r.U64(0);  // metadata_bytes
  r.U64(0);  // committed_change_events
  if (topic == ZX_INFO_VMO_V2) return ZX_OK;
  r.U64(committed);  // populated_bytes
  return ZX_OK;
}

// zx_info_socket_t (48 bytes).
void SocketRecord(const HandleInfo& info, std::vector<uint8_t>* out) {
  const Socket::Info s = static_cast<Socket*>(info.object.get())->GetInfo();
  Record r{out};
  r.U32(s.options);
  r.U32(0);
  for (uint64_t v : {s.rx_buf_max, s.rx_buf_size, s.rx_buf_available, s.tx_buf_max, s.tx_buf_size})
    r.U64(v);
}

const TopicRule* RuleFor(uint32_t topic) {
  for (const TopicRule& rule : kTopics)
    if (rule.topic == topic) return &rule;
  return nullptr;
}

}  // namespace

zx_status_t ObjectGetInfo(zx_handle_t h, uint32_t topic, std::vector<uint8_t>* record) {
  record->clear();
  const TopicRule* rule = RuleFor(topic);
  if (!rule) return ZX_ERR_NOT_SUPPORTED;
  HandleInfo info;
  zx_status_t status = HandleTable::Get().LookupChecked(h, rule->type, rule->rights, &info);
  if (status != ZX_OK) return status;
  switch (topic) {
    case ZX_INFO_HANDLE_COUNT:
      Record{record}.U32(HandleTable::Get().CountOf(info.object.get()));
      return ZX_OK;
    case ZX_INFO_SOCKET:
      SocketRecord(info, record);
      return ZX_OK;
    case ZX_INFO_VMO_V1:
    case ZX_INFO_VMO_V2:
    case ZX_INFO_VMO:
      return VmoRecord(info, topic, record);
    case ZX_INFO_TIMER:
      TimerInfo(*info.object, record);
      return ZX_OK;
    case ZX_INFO_TASK_RUNTIME_V1:
    case ZX_INFO_TASK_RUNTIME:
      return ZX_ERR_WRONG_TYPE;  // no tasks here
    default:
      return ZX_ERR_NOT_SUPPORTED;
  }
}

}  // namespace zxc
