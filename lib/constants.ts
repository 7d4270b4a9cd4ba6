// Zircon constants under their C names, with Zircon's numeric values (as in
// zircon/errors.h, rights.h, types.h and syscalls/{object,port}.h).
//
// This file is the single source of truth: scripts/gen-native-constants.mjs reads
// every `export const ZX_… = <literal>;` / `export const PA_… = <literal>;` line
// below and generates native/core/zx_constants.h from it, and lib/status.ts builds
// statusToString() from the ZX_OK / ZX_ERR_* exports. Rules for these lines:
//   * one constant per line, value a plain literal (no expressions: `1 << 31` is
//     negative in JS);
//   * statuses are negative decimal literals; everything else is a non-negative
//     literal (rights and signals in hex); times are bigint literals.
// Lines of the form `// --- title ---` become section comments in the header.

// --- Status codes (zx_status_t, int32) ---
export const ZX_OK = 0;
export const ZX_ERR_INTERNAL = -1;
export const ZX_ERR_NOT_SUPPORTED = -2;
export const ZX_ERR_NO_RESOURCES = -3;
export const ZX_ERR_NO_MEMORY = -4;
export const ZX_ERR_INTERNAL_INTR_RETRY = -6;
export const ZX_ERR_INVALID_ARGS = -10;
export const ZX_ERR_BAD_HANDLE = -11;
export const ZX_ERR_WRONG_TYPE = -12;
export const ZX_ERR_BAD_SYSCALL = -13;
export const ZX_ERR_OUT_OF_RANGE = -14;
export const ZX_ERR_BUFFER_TOO_SMALL = -15;
export const ZX_ERR_BAD_STATE = -20;
export const ZX_ERR_TIMED_OUT = -21;
export const ZX_ERR_SHOULD_WAIT = -22;
export const ZX_ERR_CANCELED = -23;
export const ZX_ERR_PEER_CLOSED = -24;
export const ZX_ERR_NOT_FOUND = -25;
export const ZX_ERR_ALREADY_EXISTS = -26;
export const ZX_ERR_ALREADY_BOUND = -27;
export const ZX_ERR_UNAVAILABLE = -28;
export const ZX_ERR_ACCESS_DENIED = -30;
export const ZX_ERR_IO = -40;
export const ZX_ERR_IO_REFUSED = -41;
export const ZX_ERR_IO_DATA_INTEGRITY = -42;
export const ZX_ERR_IO_DATA_LOSS = -43;
export const ZX_ERR_IO_NOT_PRESENT = -44;
export const ZX_ERR_IO_OVERRUN = -45;
export const ZX_ERR_IO_MISSED_DEADLINE = -46;
export const ZX_ERR_IO_INVALID = -47;
export const ZX_ERR_BAD_PATH = -50;
export const ZX_ERR_NOT_DIR = -51;
export const ZX_ERR_NOT_FILE = -52;
export const ZX_ERR_FILE_BIG = -53;
export const ZX_ERR_NO_SPACE = -54;
export const ZX_ERR_NOT_EMPTY = -55;
export const ZX_ERR_STOP = -60;
export const ZX_ERR_NEXT = -61;
export const ZX_ERR_ASYNC = -62;
export const ZX_ERR_PROTOCOL_NOT_SUPPORTED = -70;
export const ZX_ERR_ADDRESS_UNREACHABLE = -71;
export const ZX_ERR_ADDRESS_IN_USE = -72;
export const ZX_ERR_NOT_CONNECTED = -73;
export const ZX_ERR_CONNECTION_REFUSED = -74;
export const ZX_ERR_CONNECTION_RESET = -75;
export const ZX_ERR_CONNECTION_ABORTED = -76;
export const ZX_ERR_INTERNAL_INTR_KILLED = -502;

// --- Rights (zx_rights_t, uint32) ---
export const ZX_RIGHT_NONE = 0x0;
export const ZX_RIGHT_DUPLICATE = 0x1;
export const ZX_RIGHT_TRANSFER = 0x2;
export const ZX_RIGHT_READ = 0x4;
export const ZX_RIGHT_WRITE = 0x8;
export const ZX_RIGHT_EXECUTE = 0x10;
export const ZX_RIGHT_MAP = 0x20;
export const ZX_RIGHT_GET_PROPERTY = 0x40;
export const ZX_RIGHT_SET_PROPERTY = 0x80;
export const ZX_RIGHT_ENUMERATE = 0x100;
export const ZX_RIGHT_DESTROY = 0x200;
export const ZX_RIGHT_SET_POLICY = 0x400;
export const ZX_RIGHT_GET_POLICY = 0x800;
export const ZX_RIGHT_SIGNAL = 0x1000;
export const ZX_RIGHT_SIGNAL_PEER = 0x2000;
export const ZX_RIGHT_WAIT = 0x4000;
export const ZX_RIGHT_INSPECT = 0x8000;
export const ZX_RIGHT_MANAGE_JOB = 0x10000;
export const ZX_RIGHT_MANAGE_PROCESS = 0x20000;
export const ZX_RIGHT_MANAGE_THREAD = 0x40000;
export const ZX_RIGHT_APPLY_PROFILE = 0x80000;
export const ZX_RIGHT_MANAGE_SOCKET = 0x100000;
export const ZX_RIGHT_OP_CHILDREN = 0x200000;
export const ZX_RIGHT_RESIZE = 0x400000;
export const ZX_RIGHT_ATTACH_VMO = 0x800000;
export const ZX_RIGHT_MANAGE_VMO = 0x1000000;
export const ZX_RIGHT_SAME_RIGHTS = 0x80000000;

// --- Rights groups and default rights of new handles ---
export const ZX_RIGHTS_BASIC = 0xc003;
export const ZX_RIGHTS_IO = 0xc;
export const ZX_RIGHTS_PROPERTY = 0xc0;
export const ZX_RIGHTS_POLICY = 0xc00;
export const ZX_DEFAULT_CHANNEL_RIGHTS = 0xf00e;
export const ZX_DEFAULT_EVENT_RIGHTS = 0xd003;
export const ZX_DEFAULT_EVENTPAIR_RIGHTS = 0xf003;
export const ZX_DEFAULT_FIFO_RIGHTS = 0xf00f;
export const ZX_DEFAULT_PORT_RIGHTS = 0x800f;
export const ZX_DEFAULT_SOCKET_RIGHTS = 0x10f0cf;
export const ZX_DEFAULT_VMO_RIGHTS = 0xd0ef;
export const ZX_DEFAULT_TIMER_RIGHTS = 0xd00b;

// --- Signals (zx_signals_t, uint32) ---
export const ZX_SIGNAL_NONE = 0x0;
export const ZX_CHANNEL_READABLE = 0x1;
export const ZX_CHANNEL_WRITABLE = 0x2;
export const ZX_CHANNEL_PEER_CLOSED = 0x4;
export const ZX_EVENT_SIGNALED = 0x8;
export const ZX_EVENTPAIR_SIGNALED = 0x8;
export const ZX_EVENTPAIR_PEER_CLOSED = 0x4;
export const ZX_FIFO_PEER_CLOSED = 0x4;
export const ZX_SOCKET_READABLE = 0x1;
export const ZX_SOCKET_WRITABLE = 0x2;
export const ZX_SOCKET_PEER_CLOSED = 0x4;
export const ZX_SOCKET_PEER_WRITE_DISABLED = 0x10;
export const ZX_SOCKET_WRITE_DISABLED = 0x20;
export const ZX_SOCKET_READ_THRESHOLD = 0x400;
export const ZX_SOCKET_WRITE_THRESHOLD = 0x800;
export const ZX_TIMER_SIGNALED = 0x8;
export const ZX_VMO_ZERO_CHILDREN = 0x8;
export const ZX_SIGNAL_HANDLE_CLOSED = 0x800000;
export const ZX_USER_SIGNAL_0 = 0x1000000;
export const ZX_USER_SIGNAL_1 = 0x2000000;
export const ZX_USER_SIGNAL_2 = 0x4000000;
export const ZX_USER_SIGNAL_3 = 0x8000000;
export const ZX_USER_SIGNAL_4 = 0x10000000;
export const ZX_USER_SIGNAL_5 = 0x20000000;
export const ZX_USER_SIGNAL_6 = 0x40000000;
export const ZX_USER_SIGNAL_7 = 0x80000000;
export const ZX_USER_SIGNAL_ALL = 0xff000000;

// --- Object types (zx_obj_type_t, uint32) ---
export const ZX_OBJ_TYPE_NONE = 0;
export const ZX_OBJ_TYPE_PROCESS = 1;
export const ZX_OBJ_TYPE_THREAD = 2;
export const ZX_OBJ_TYPE_VMO = 3;
export const ZX_OBJ_TYPE_CHANNEL = 4;
export const ZX_OBJ_TYPE_EVENT = 5;
export const ZX_OBJ_TYPE_PORT = 6;
export const ZX_OBJ_TYPE_INTERRUPT = 9;
export const ZX_OBJ_TYPE_PCI_DEVICE = 11;
export const ZX_OBJ_TYPE_DEBUGLOG = 12;
export const ZX_OBJ_TYPE_LOG = 12;
export const ZX_OBJ_TYPE_SOCKET = 14;
export const ZX_OBJ_TYPE_RESOURCE = 15;
export const ZX_OBJ_TYPE_EVENTPAIR = 16;
export const ZX_OBJ_TYPE_JOB = 17;
export const ZX_OBJ_TYPE_VMAR = 18;
export const ZX_OBJ_TYPE_FIFO = 19;
export const ZX_OBJ_TYPE_GUEST = 20;
export const ZX_OBJ_TYPE_VCPU = 21;
export const ZX_OBJ_TYPE_TIMER = 22;
export const ZX_OBJ_TYPE_IOMMU = 23;
export const ZX_OBJ_TYPE_BTI = 24;
export const ZX_OBJ_TYPE_PROFILE = 25;
export const ZX_OBJ_TYPE_PMT = 26;
export const ZX_OBJ_TYPE_SUSPEND_TOKEN = 27;
export const ZX_OBJ_TYPE_PAGER = 28;
export const ZX_OBJ_TYPE_EXCEPTION = 29;
export const ZX_OBJ_TYPE_CLOCK = 30;
export const ZX_OBJ_TYPE_STREAM = 31;
export const ZX_OBJ_TYPE_MSI = 32;
export const ZX_OBJ_TYPE_IOB = 33;
export const ZX_OBJ_TYPE_COUNTER = 34;
export const ZX_OBJ_TYPE_IOB_SHARED_REGION = 35;
export const ZX_OBJ_TYPE_UPPER_BOUND = 64;

// --- Channel options and limits ---
export const ZX_CHANNEL_READ_MAY_DISCARD = 1;
export const ZX_CHANNEL_WRITE_USE_IOVEC = 2;
export const ZX_CHANNEL_MAX_MSG_BYTES = 65536;
export const ZX_CHANNEL_MAX_MSG_HANDLES = 64;
export const ZX_CHANNEL_MAX_MSG_IOVECS = 8192;

// --- Handles, koids and handle operations ---
export const ZX_HANDLE_INVALID = 0;
export const ZX_HANDLE_FIXED_BITS_MASK = 0x3;
export const ZX_HANDLE_OP_MOVE = 0;
export const ZX_HANDLE_OP_DUPLICATE = 1;
export const ZX_KOID_INVALID = 0;
export const ZX_KOID_KERNEL = 1;
export const ZX_KOID_FIRST = 1024;
export const ZX_MAX_NAME_LEN = 32;

// --- Waiting, time (zx_time_t, int64 nanoseconds) and ports ---
export const ZX_WAIT_MANY_MAX_ITEMS = 64;
export const ZX_TIME_INFINITE = 0x7fffffffffffffffn;
export const ZX_TIME_INFINITE_PAST = -0x8000000000000000n;
export const ZX_WAIT_ASYNC_ONCE = 0;
export const ZX_WAIT_ASYNC_TIMESTAMP = 1;
export const ZX_WAIT_ASYNC_EDGE = 2;
export const ZX_WAIT_ASYNC_BOOT_TIMESTAMP = 4;
export const ZX_PKT_TYPE_USER = 0;
export const ZX_PKT_TYPE_SIGNAL_ONE = 1;
export const ZX_PKT_TYPE_GUEST_BELL = 3;
export const ZX_PKT_TYPE_GUEST_MEM = 4;
export const ZX_PKT_TYPE_GUEST_IO = 5;
export const ZX_PKT_TYPE_GUEST_VCPU = 6;
export const ZX_PKT_TYPE_INTERRUPT = 7;
export const ZX_PKT_TYPE_PAGE_REQUEST = 9;
export const ZX_PORT_BIND_TO_INTERRUPT = 1;
export const ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS = 17;

// --- zx_object_get_info topics (syscalls/object.h; versioned ones carry the version in bits 28..31) ---
export const ZX_INFO_NONE = 0;
export const ZX_INFO_HANDLE_VALID = 1;
export const ZX_INFO_HANDLE_BASIC = 2;
export const ZX_INFO_PROCESS = 0x10000003;
export const ZX_INFO_PROCESS_THREADS = 4;
export const ZX_INFO_VMAR = 7;
export const ZX_INFO_JOB_CHILDREN = 8;
export const ZX_INFO_JOB_PROCESSES = 9;
export const ZX_INFO_THREAD = 10;
export const ZX_INFO_THREAD_EXCEPTION_REPORT_V1 = 11;
export const ZX_INFO_THREAD_EXCEPTION_REPORT = 0x1000000b;
export const ZX_INFO_TASK_STATS = 12;
export const ZX_INFO_PROCESS_MAPS_V1 = 13;
export const ZX_INFO_PROCESS_MAPS = 0x1000000d;
export const ZX_INFO_PROCESS_VMOS_V1 = 14;
export const ZX_INFO_PROCESS_VMOS_V2 = 0x1000000e;
export const ZX_INFO_PROCESS_VMOS = 0x2000000e;
export const ZX_INFO_THREAD_STATS = 15;
export const ZX_INFO_CPU_STATS = 16;
export const ZX_INFO_KMEM_STATS_V1 = 17;
export const ZX_INFO_KMEM_STATS = 0x10000011;
export const ZX_INFO_RESOURCE = 18;
export const ZX_INFO_HANDLE_COUNT = 19;
export const ZX_INFO_BTI = 20;
export const ZX_INFO_PROCESS_HANDLE_STATS = 21;
export const ZX_INFO_SOCKET = 22;
export const ZX_INFO_VMO_V1 = 23;
export const ZX_INFO_VMO_V2 = 0x10000017;
export const ZX_INFO_VMO = 0x20000017;
export const ZX_INFO_JOB = 24;
export const ZX_INFO_TIMER = 25;
export const ZX_INFO_STREAM = 26;
export const ZX_INFO_HANDLE_TABLE = 27;
export const ZX_INFO_MSI = 28;
export const ZX_INFO_GUEST_STATS = 29;
export const ZX_INFO_TASK_RUNTIME_V1 = 30;
export const ZX_INFO_TASK_RUNTIME = 0x1000001e;
export const ZX_INFO_KMEM_STATS_EXTENDED = 31;
export const ZX_INFO_VCPU = 32;
export const ZX_INFO_KMEM_STATS_COMPRESSION = 33;
export const ZX_INFO_IOB = 34;
export const ZX_INFO_IOB_REGIONS = 35;
export const ZX_INFO_VMAR_MAPS = 36;
// zx_info_vmo_t.flags
export const ZX_INFO_VMO_TYPE_PHYSICAL = 0x0;
export const ZX_INFO_VMO_TYPE_PAGED = 0x1;
export const ZX_INFO_VMO_RESIZABLE = 0x2;
export const ZX_INFO_VMO_IS_COW_CLONE = 0x4;
export const ZX_INFO_VMO_VIA_HANDLE = 0x8;
export const ZX_INFO_VMO_VIA_MAPPING = 0x10;
export const ZX_INFO_VMO_PAGER_BACKED = 0x20;
export const ZX_INFO_VMO_CONTIGUOUS = 0x40;
export const ZX_INFO_VMO_DISCARDABLE = 0x80;
export const ZX_INFO_VMO_IMMUTABLE = 0x100;
export const ZX_INFO_VMO_VIA_IOB_HANDLE = 0x200;
export const ZX_CACHE_POLICY_CACHED = 0;
export const ZX_CACHE_POLICY_UNCACHED = 1;
export const ZX_CACHE_POLICY_UNCACHED_DEVICE = 2;
export const ZX_CACHE_POLICY_WRITE_COMBINING = 3;
export const ZX_CACHE_POLICY_MASK = 3;

// --- zx_object_get_property / set_property ---
export const ZX_PROP_NAME = 3;
export const ZX_PROP_REGISTER_GS = 2;
export const ZX_PROP_REGISTER_FS = 4;
export const ZX_PROP_PROCESS_DEBUG_ADDR = 5;
export const ZX_PROP_PROCESS_VDSO_BASE_ADDRESS = 6;
export const ZX_PROP_PROCESS_BREAK_ON_LOAD = 7;
export const ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID = 8;
export const ZX_PROP_SOCKET_RX_THRESHOLD = 12;
export const ZX_PROP_SOCKET_TX_THRESHOLD = 13;
export const ZX_PROP_JOB_KILL_ON_OOM = 15;
export const ZX_PROP_EXCEPTION_STATE = 16;
export const ZX_PROP_VMO_CONTENT_SIZE = 17;
export const ZX_PROP_EXCEPTION_STRATEGY = 18;
export const ZX_PROP_STREAM_MODE_APPEND = 19;

// --- Socket and VMO options ---
export const ZX_SOCKET_STREAM = 0;
export const ZX_SOCKET_DATAGRAM = 1;
export const ZX_SOCKET_CREATE_MASK = 1;
export const ZX_SOCKET_PEEK = 8;
export const ZX_SOCKET_DISPOSITION_WRITE_DISABLED = 1;
export const ZX_SOCKET_DISPOSITION_WRITE_ENABLED = 2;
export const ZX_VMO_RESIZABLE = 2;
export const ZX_VMO_DISCARDABLE = 4;
export const ZX_VMO_TRAP_DIRTY = 8;
export const ZX_VMO_UNBOUNDED = 0x10;
// zx_vmo_op_range opcodes
export const ZX_VMO_OP_COMMIT = 1;
export const ZX_VMO_OP_DECOMMIT = 2;
export const ZX_VMO_OP_LOCK = 3;
export const ZX_VMO_OP_UNLOCK = 4;
export const ZX_VMO_OP_CACHE_SYNC = 6;
export const ZX_VMO_OP_CACHE_INVALIDATE = 7;
export const ZX_VMO_OP_CACHE_CLEAN = 8;
export const ZX_VMO_OP_CACHE_CLEAN_INVALIDATE = 9;
export const ZX_VMO_OP_ZERO = 10;
export const ZX_VMO_OP_TRY_LOCK = 11;
export const ZX_VMO_OP_DONT_NEED = 12;
export const ZX_VMO_OP_ALWAYS_NEED = 13;
export const ZX_VMO_OP_PREFETCH = 14;
// zx_vmo_create_child options
export const ZX_VMO_CHILD_SNAPSHOT = 0x1;
export const ZX_VMO_CHILD_RESIZABLE = 0x4;
export const ZX_VMO_CHILD_SLICE = 0x8;
export const ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE = 0x10;
export const ZX_VMO_CHILD_NO_WRITE = 0x20;
export const ZX_VMO_CHILD_REFERENCE = 0x40;
export const ZX_VMO_CHILD_SNAPSHOT_MODIFIED = 0x80;

// --- Timers and clocks ---
export const ZX_TIMER_SLACK_CENTER = 0;
export const ZX_TIMER_SLACK_EARLY = 1;
export const ZX_TIMER_SLACK_LATE = 2;
export const ZX_CLOCK_MONOTONIC = 0;
// Page size VMO sizes round up to.
export const ZX_PAGE_SIZE = 4096;

// --- zircon-ipc's own constants (this library's, not Zircon's) ---
// Object type of a handle to a plain Linux file descriptor (a file, a pipe, a socket
// that is not AF_UNIX SOCK_SEQPACKET). Outside Zircon's range (< ZX_OBJ_TYPE_UPPER_BOUND).
export const ZX_OBJ_TYPE_FD = 0x1000;
// Outbound messages an endpoint may hold in its native queue before channelWrite
// answers ZX_ERR_SHOULD_WAIT (Zircon's kMaxPendingMessageCount).
export const ZX_PENDING_WRITE_LIMIT = 3500;
// Bytes of records an endpoint may hold in that queue before channelWrite answers
// ZX_ERR_SHOULD_WAIT, whichever of the two limits comes first. A record is its message's
// bytes plus a 16-byte header and 24 bytes per handle (docs/wire-format.md).
export const ZX_PENDING_WRITE_BYTES_LIMIT = 0x400000;
// Backpressure (docs/performance.md, "Backpressure"): channel.write() returns false once
// that queue holds at least ZX_PENDING_WRITE_HIGH_WATER messages or
// ZX_PENDING_WRITE_HIGH_WATER_BYTES bytes of records, and 'drain' follows once it holds
// fewer than ZX_PENDING_WRITE_LOW_WATER messages and ZX_PENDING_WRITE_LOW_WATER_BYTES
// bytes. Why these values: docs/performance.md.
export const ZX_PENDING_WRITE_HIGH_WATER = 1024;
export const ZX_PENDING_WRITE_HIGH_WATER_BYTES = 0x100000;
export const ZX_PENDING_WRITE_LOW_WATER = 256;
export const ZX_PENDING_WRITE_LOW_WATER_BYTES = 0x40000;
// What the addon's channelWrite and channelWriteMany answer instead of ZX_OK when the
// messages were taken and the queue is at or above the high-water mark (the sys face
// answers ZX_OK).
export const ZX_OK_ABOVE_HIGH_WATER = 1;
// While a channelCall waits, the messages that arrive before its reply are set aside in
// the endpoint's stash (read first by later reads): at most this many, and at most
// ZX_CALL_STASH_BYTES_LIMIT bytes of records. Past either, nothing more is read off the
// socket until a read makes room, so the kernel makes the sender wait.
export const ZX_CALL_STASH_LIMIT = 3500;
export const ZX_CALL_STASH_BYTES_LIMIT = 0x400000;
// The most messages one channelReadMany takes (one recvmmsg). channelWriteMany takes
// any number (docs/performance.md, batched I/O: an extension Zircon lacks).
export const ZX_CHANNEL_READ_MANY_MAX = 64;

// --- Fuchsia process-args handle ids (for spawn / takeStartupHandle) ---
export const PA_USER0 = 0xf0;

/** A startup-handle id, as Fuchsia's `PA_HND(type, arg)`: `(type & 0xFF) | ((arg & 0xFFFF) << 16)`. */
export function PA_HND(type: number, arg: number): number {
  return ((type & 0xff) | ((arg & 0xffff) << 16)) >>> 0;
}
