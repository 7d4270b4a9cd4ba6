// Generated from lib/constants.ts by scripts/gen-native-constants.mjs — do not edit.
// Run `node scripts/gen-native-constants.mjs` after changing lib/constants.ts.
#pragma once

#include <cstdint>

// Status codes (zx_status_t, int32)
constexpr int32_t ZX_OK = 0;
constexpr int32_t ZX_ERR_INTERNAL = -1;
constexpr int32_t ZX_ERR_NOT_SUPPORTED = -2;
constexpr int32_t ZX_ERR_NO_RESOURCES = -3;
constexpr int32_t ZX_ERR_NO_MEMORY = -4;
constexpr int32_t ZX_ERR_INTERNAL_INTR_RETRY = -6;
constexpr int32_t ZX_ERR_INVALID_ARGS = -10;
constexpr int32_t ZX_ERR_BAD_HANDLE = -11;
constexpr int32_t ZX_ERR_WRONG_TYPE = -12;
constexpr int32_t ZX_ERR_BAD_SYSCALL = -13;
constexpr int32_t ZX_ERR_OUT_OF_RANGE = -14;
constexpr int32_t ZX_ERR_BUFFER_TOO_SMALL = -15;
constexpr int32_t ZX_ERR_BAD_STATE = -20;
constexpr int32_t ZX_ERR_TIMED_OUT = -21;
constexpr int32_t ZX_ERR_SHOULD_WAIT = -22;
constexpr int32_t ZX_ERR_CANCELED = -23;
constexpr int32_t ZX_ERR_PEER_CLOSED = -24;
constexpr int32_t ZX_ERR_NOT_FOUND = -25;
constexpr int32_t ZX_ERR_ALREADY_EXISTS = -26;
constexpr int32_t ZX_ERR_ALREADY_BOUND = -27;
constexpr int32_t ZX_ERR_UNAVAILABLE = -28;
constexpr int32_t ZX_ERR_ACCESS_DENIED = -30;
constexpr int32_t ZX_ERR_IO = -40;
constexpr int32_t ZX_ERR_IO_REFUSED = -41;
constexpr int32_t ZX_ERR_IO_DATA_INTEGRITY = -42;
constexpr int32_t ZX_ERR_IO_DATA_LOSS = -43;
constexpr int32_t ZX_ERR_IO_NOT_PRESENT = -44;
constexpr int32_t ZX_ERR_IO_OVERRUN = -45;
constexpr int32_t ZX_ERR_IO_MISSED_DEADLINE = -46;
constexpr int32_t ZX_ERR_IO_INVALID = -47;
constexpr int32_t ZX_ERR_BAD_PATH = -50;
constexpr int32_t ZX_ERR_NOT_DIR = -51;
constexpr int32_t ZX_ERR_NOT_FILE = -52;
constexpr int32_t ZX_ERR_FILE_BIG = -53;
constexpr int32_t ZX_ERR_NO_SPACE = -54;
constexpr int32_t ZX_ERR_NOT_EMPTY = -55;
constexpr int32_t ZX_ERR_STOP = -60;
constexpr int32_t ZX_ERR_NEXT = -61;
constexpr int32_t ZX_ERR_ASYNC = -62;
constexpr int32_t ZX_ERR_PROTOCOL_NOT_SUPPORTED = -70;
constexpr int32_t ZX_ERR_ADDRESS_UNREACHABLE = -71;
constexpr int32_t ZX_ERR_ADDRESS_IN_USE = -72;
constexpr int32_t ZX_ERR_NOT_CONNECTED = -73;
constexpr int32_t ZX_ERR_CONNECTION_REFUSED = -74;
constexpr int32_t ZX_ERR_CONNECTION_RESET = -75;
constexpr int32_t ZX_ERR_CONNECTION_ABORTED = -76;
constexpr int32_t ZX_ERR_INTERNAL_INTR_KILLED = -502;

// Rights (zx_rights_t, uint32)
constexpr uint32_t ZX_RIGHT_NONE = 0x0u;
constexpr uint32_t ZX_RIGHT_DUPLICATE = 0x1u;
constexpr uint32_t ZX_RIGHT_TRANSFER = 0x2u;
constexpr uint32_t ZX_RIGHT_READ = 0x4u;
constexpr uint32_t ZX_RIGHT_WRITE = 0x8u;
constexpr uint32_t ZX_RIGHT_EXECUTE = 0x10u;
constexpr uint32_t ZX_RIGHT_MAP = 0x20u;
constexpr uint32_t ZX_RIGHT_GET_PROPERTY = 0x40u;
constexpr uint32_t ZX_RIGHT_SET_PROPERTY = 0x80u;
constexpr uint32_t ZX_RIGHT_ENUMERATE = 0x100u;
constexpr uint32_t ZX_RIGHT_DESTROY = 0x200u;
constexpr uint32_t ZX_RIGHT_SET_POLICY = 0x400u;
constexpr uint32_t ZX_RIGHT_GET_POLICY = 0x800u;
constexpr uint32_t ZX_RIGHT_SIGNAL = 0x1000u;
constexpr uint32_t ZX_RIGHT_SIGNAL_PEER = 0x2000u;
constexpr uint32_t ZX_RIGHT_WAIT = 0x4000u;
constexpr uint32_t ZX_RIGHT_INSPECT = 0x8000u;
constexpr uint32_t ZX_RIGHT_MANAGE_JOB = 0x10000u;
constexpr uint32_t ZX_RIGHT_MANAGE_PROCESS = 0x20000u;
constexpr uint32_t ZX_RIGHT_MANAGE_THREAD = 0x40000u;
constexpr uint32_t ZX_RIGHT_APPLY_PROFILE = 0x80000u;
constexpr uint32_t ZX_RIGHT_MANAGE_SOCKET = 0x100000u;
constexpr uint32_t ZX_RIGHT_OP_CHILDREN = 0x200000u;
constexpr uint32_t ZX_RIGHT_RESIZE = 0x400000u;
constexpr uint32_t ZX_RIGHT_ATTACH_VMO = 0x800000u;
constexpr uint32_t ZX_RIGHT_MANAGE_VMO = 0x1000000u;
constexpr uint32_t ZX_RIGHT_SAME_RIGHTS = 0x80000000u;

// Rights groups and default rights of new handles
constexpr uint32_t ZX_RIGHTS_BASIC = 0xC003u;
constexpr uint32_t ZX_RIGHTS_IO = 0xCu;
constexpr uint32_t ZX_RIGHTS_PROPERTY = 0xC0u;
constexpr uint32_t ZX_RIGHTS_POLICY = 0xC00u;
constexpr uint32_t ZX_DEFAULT_CHANNEL_RIGHTS = 0xF00Eu;
constexpr uint32_t ZX_DEFAULT_EVENT_RIGHTS = 0xD003u;
constexpr uint32_t ZX_DEFAULT_EVENTPAIR_RIGHTS = 0xF003u;
constexpr uint32_t ZX_DEFAULT_FIFO_RIGHTS = 0xF00Fu;
constexpr uint32_t ZX_DEFAULT_PORT_RIGHTS = 0x800Fu;
constexpr uint32_t ZX_DEFAULT_SOCKET_RIGHTS = 0x10F0CFu;
constexpr uint32_t ZX_DEFAULT_VMO_RIGHTS = 0xD0EFu;

// Signals (zx_signals_t, uint32)
constexpr uint32_t ZX_SIGNAL_NONE = 0x0u;
constexpr uint32_t ZX_CHANNEL_READABLE = 0x1u;
constexpr uint32_t ZX_CHANNEL_WRITABLE = 0x2u;
constexpr uint32_t ZX_CHANNEL_PEER_CLOSED = 0x4u;
constexpr uint32_t ZX_EVENT_SIGNALED = 0x8u;
constexpr uint32_t ZX_EVENTPAIR_SIGNALED = 0x8u;
constexpr uint32_t ZX_EVENTPAIR_PEER_CLOSED = 0x4u;
constexpr uint32_t ZX_FIFO_PEER_CLOSED = 0x4u;
constexpr uint32_t ZX_SOCKET_READABLE = 0x1u;
constexpr uint32_t ZX_SOCKET_WRITABLE = 0x2u;
constexpr uint32_t ZX_SOCKET_PEER_CLOSED = 0x4u;
constexpr uint32_t ZX_SOCKET_PEER_WRITE_DISABLED = 0x10u;
constexpr uint32_t ZX_SOCKET_WRITE_DISABLED = 0x20u;
constexpr uint32_t ZX_SOCKET_READ_THRESHOLD = 0x400u;
constexpr uint32_t ZX_SOCKET_WRITE_THRESHOLD = 0x800u;
constexpr uint32_t ZX_SIGNAL_HANDLE_CLOSED = 0x800000u;
constexpr uint32_t ZX_USER_SIGNAL_0 = 0x1000000u;
constexpr uint32_t ZX_USER_SIGNAL_1 = 0x2000000u;
constexpr uint32_t ZX_USER_SIGNAL_2 = 0x4000000u;
constexpr uint32_t ZX_USER_SIGNAL_3 = 0x8000000u;
constexpr uint32_t ZX_USER_SIGNAL_4 = 0x10000000u;
constexpr uint32_t ZX_USER_SIGNAL_5 = 0x20000000u;
constexpr uint32_t ZX_USER_SIGNAL_6 = 0x40000000u;
constexpr uint32_t ZX_USER_SIGNAL_7 = 0x80000000u;
constexpr uint32_t ZX_USER_SIGNAL_ALL = 0xFF000000u;

// Object types (zx_obj_type_t, uint32)
constexpr uint32_t ZX_OBJ_TYPE_NONE = 0;
constexpr uint32_t ZX_OBJ_TYPE_PROCESS = 1;
constexpr uint32_t ZX_OBJ_TYPE_THREAD = 2;
constexpr uint32_t ZX_OBJ_TYPE_VMO = 3;
constexpr uint32_t ZX_OBJ_TYPE_CHANNEL = 4;
constexpr uint32_t ZX_OBJ_TYPE_EVENT = 5;
constexpr uint32_t ZX_OBJ_TYPE_PORT = 6;
constexpr uint32_t ZX_OBJ_TYPE_INTERRUPT = 9;
constexpr uint32_t ZX_OBJ_TYPE_PCI_DEVICE = 11;
constexpr uint32_t ZX_OBJ_TYPE_DEBUGLOG = 12;
constexpr uint32_t ZX_OBJ_TYPE_LOG = 12;
constexpr uint32_t ZX_OBJ_TYPE_SOCKET = 14;
constexpr uint32_t ZX_OBJ_TYPE_RESOURCE = 15;
constexpr uint32_t ZX_OBJ_TYPE_EVENTPAIR = 16;
constexpr uint32_t ZX_OBJ_TYPE_JOB = 17;
constexpr uint32_t ZX_OBJ_TYPE_VMAR = 18;
constexpr uint32_t ZX_OBJ_TYPE_FIFO = 19;
constexpr uint32_t ZX_OBJ_TYPE_GUEST = 20;
constexpr uint32_t ZX_OBJ_TYPE_VCPU = 21;
constexpr uint32_t ZX_OBJ_TYPE_TIMER = 22;
constexpr uint32_t ZX_OBJ_TYPE_IOMMU = 23;
constexpr uint32_t ZX_OBJ_TYPE_BTI = 24;
constexpr uint32_t ZX_OBJ_TYPE_PROFILE = 25;
constexpr uint32_t ZX_OBJ_TYPE_PMT = 26;
constexpr uint32_t ZX_OBJ_TYPE_SUSPEND_TOKEN = 27;
constexpr uint32_t ZX_OBJ_TYPE_PAGER = 28;
constexpr uint32_t ZX_OBJ_TYPE_EXCEPTION = 29;
constexpr uint32_t ZX_OBJ_TYPE_CLOCK = 30;
constexpr uint32_t ZX_OBJ_TYPE_STREAM = 31;
constexpr uint32_t ZX_OBJ_TYPE_MSI = 32;
constexpr uint32_t ZX_OBJ_TYPE_IOB = 33;
constexpr uint32_t ZX_OBJ_TYPE_COUNTER = 34;
constexpr uint32_t ZX_OBJ_TYPE_IOB_SHARED_REGION = 35;
constexpr uint32_t ZX_OBJ_TYPE_UPPER_BOUND = 64;

// Channel options and limits
constexpr uint32_t ZX_CHANNEL_READ_MAY_DISCARD = 1;
constexpr uint32_t ZX_CHANNEL_WRITE_USE_IOVEC = 2;
constexpr uint32_t ZX_CHANNEL_MAX_MSG_BYTES = 65536;
constexpr uint32_t ZX_CHANNEL_MAX_MSG_HANDLES = 64;
constexpr uint32_t ZX_CHANNEL_MAX_MSG_IOVECS = 8192;

// Handles, koids and handle operations
constexpr uint32_t ZX_HANDLE_INVALID = 0;
constexpr uint32_t ZX_HANDLE_FIXED_BITS_MASK = 0x3u;
constexpr uint32_t ZX_HANDLE_OP_MOVE = 0;
constexpr uint32_t ZX_HANDLE_OP_DUPLICATE = 1;
constexpr uint32_t ZX_KOID_INVALID = 0;
constexpr uint32_t ZX_KOID_KERNEL = 1;
constexpr uint32_t ZX_KOID_FIRST = 1024;
constexpr uint32_t ZX_MAX_NAME_LEN = 32;

// Waiting, time (zx_time_t, int64 nanoseconds) and ports
constexpr uint32_t ZX_WAIT_MANY_MAX_ITEMS = 64;
constexpr int64_t ZX_TIME_INFINITE = INT64_MAX;
constexpr int64_t ZX_TIME_INFINITE_PAST = (-INT64_MAX - 1);
constexpr uint32_t ZX_WAIT_ASYNC_ONCE = 0;
constexpr uint32_t ZX_WAIT_ASYNC_TIMESTAMP = 1;
constexpr uint32_t ZX_WAIT_ASYNC_EDGE = 2;
constexpr uint32_t ZX_WAIT_ASYNC_BOOT_TIMESTAMP = 4;
constexpr uint32_t ZX_PKT_TYPE_USER = 0;
constexpr uint32_t ZX_PKT_TYPE_SIGNAL_ONE = 1;
constexpr uint32_t ZX_PORT_BIND_TO_INTERRUPT = 1;

// zx_object_get_info topics
constexpr uint32_t ZX_INFO_NONE = 0;
constexpr uint32_t ZX_INFO_HANDLE_VALID = 1;
constexpr uint32_t ZX_INFO_HANDLE_BASIC = 2;
constexpr uint32_t ZX_INFO_HANDLE_COUNT = 19;
constexpr uint32_t ZX_INFO_HANDLE_TABLE = 27;

// Socket and VMO options
constexpr uint32_t ZX_SOCKET_STREAM = 0;
constexpr uint32_t ZX_SOCKET_DATAGRAM = 1;
constexpr uint32_t ZX_SOCKET_PEEK = 8;
constexpr uint32_t ZX_SOCKET_DISPOSITION_WRITE_DISABLED = 1;
constexpr uint32_t ZX_SOCKET_DISPOSITION_WRITE_ENABLED = 2;
constexpr uint32_t ZX_VMO_RESIZABLE = 2;
constexpr uint32_t ZX_VMO_DISCARDABLE = 4;
constexpr uint32_t ZX_VMO_ZERO_CHILDREN = 0x8u;
constexpr uint32_t ZX_PAGE_SIZE = 4096;

// zircon-ipc's own constants (this library's, not Zircon's)
constexpr uint32_t ZX_OBJ_TYPE_FD = 0x1000u;
constexpr uint32_t ZX_PENDING_WRITE_LIMIT = 3500;
constexpr uint32_t ZX_PENDING_WRITE_BYTES_LIMIT = 0x400000u;
constexpr uint32_t ZX_CALL_STASH_LIMIT = 3500;
constexpr uint32_t ZX_CALL_STASH_BYTES_LIMIT = 0x400000u;
constexpr uint32_t ZX_CHANNEL_READ_MANY_MAX = 64;

// Fuchsia process-args handle ids (for spawn / takeStartupHandle)
constexpr uint32_t PA_USER0 = 0xF0u;
