// Constants are defined once, in lib/constants.ts; the native header is generated from it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as zx from '../lib/index';

describe('constants', () => {
  it('native/core/zx_constants.h is what scripts/gen-native-constants.mjs makes of lib/constants.ts', () => {
    const script = path.join(__dirname, '../scripts/gen-native-constants.mjs');
    // Exits non-zero (and execFileSync throws) when the header is stale.
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('have Zircon’s values, on sys and at the top level', () => {
    expect([zx.ZX_OK, zx.ZX_ERR_PEER_CLOSED, zx.ZX_ERR_SHOULD_WAIT, zx.ZX_ERR_IO_DATA_INTEGRITY]).toEqual([
      0, -24, -22, -42,
    ]);
    expect([zx.ZX_RIGHT_TRANSFER, zx.ZX_RIGHT_SAME_RIGHTS, zx.ZX_DEFAULT_CHANNEL_RIGHTS]).toEqual([
      0x2, 0x80000000, 0xf00e,
    ]);
    expect([zx.ZX_CHANNEL_READABLE, zx.ZX_CHANNEL_PEER_CLOSED, zx.ZX_SIGNAL_HANDLE_CLOSED]).toEqual([1, 4, 0x800000]);
    expect([zx.ZX_OBJ_TYPE_CHANNEL, zx.ZX_TIME_INFINITE]).toEqual([4, 2n ** 63n - 1n]);
    expect(zx.sys.ZX_ERR_BAD_HANDLE).toBe(-11);
    expect(zx.PA_HND(zx.PA_USER0, 1)).toBe(0x100f0);
    expect(zx.statusToString(-24)).toBe('ZX_ERR_PEER_CLOSED');
  });

  it('every constant of the headers for the objects this package has, with Zircon’s values', () => {
    // Values as zircon/types.h, rights.h and syscalls/{object,port,exception}.h define them.
    const expected: Record<string, number> = {
      ZX_INFO_NONE: 0,
      ZX_INFO_HANDLE_VALID: 1,
      ZX_INFO_HANDLE_BASIC: 2,
      ZX_INFO_PROCESS: 0x10000003,
      ZX_INFO_PROCESS_THREADS: 4,
      ZX_INFO_VMAR: 7,
      ZX_INFO_JOB_CHILDREN: 8,
      ZX_INFO_JOB_PROCESSES: 9,
      ZX_INFO_THREAD: 10,
      ZX_INFO_THREAD_EXCEPTION_REPORT_V1: 11,
      ZX_INFO_THREAD_EXCEPTION_REPORT: 0x1000000b,
      ZX_INFO_TASK_STATS: 12,
      ZX_INFO_PROCESS_MAPS_V1: 13,
      ZX_INFO_PROCESS_MAPS: 0x1000000d,
      ZX_INFO_PROCESS_VMOS_V1: 14,
      ZX_INFO_PROCESS_VMOS_V2: 0x1000000e,
      ZX_INFO_PROCESS_VMOS: 0x2000000e,
      ZX_INFO_THREAD_STATS: 15,
      ZX_INFO_CPU_STATS: 16,
      ZX_INFO_KMEM_STATS_V1: 17,
      ZX_INFO_KMEM_STATS: 0x10000011,
      ZX_INFO_RESOURCE: 18,
      ZX_INFO_HANDLE_COUNT: 19,
      ZX_INFO_BTI: 20,
      ZX_INFO_PROCESS_HANDLE_STATS: 21,
      ZX_INFO_SOCKET: 22,
      ZX_INFO_VMO_V1: 23,
      ZX_INFO_VMO_V2: 0x10000017,
      ZX_INFO_VMO: 0x20000017,
      ZX_INFO_JOB: 24,
      ZX_INFO_TIMER: 25,
      ZX_INFO_STREAM: 26,
      ZX_INFO_HANDLE_TABLE: 27,
      ZX_INFO_MSI: 28,
      ZX_INFO_GUEST_STATS: 29,
      ZX_INFO_TASK_RUNTIME_V1: 30,
      ZX_INFO_TASK_RUNTIME: 0x1000001e,
      ZX_INFO_KMEM_STATS_EXTENDED: 31,
      ZX_INFO_VCPU: 32,
      ZX_INFO_KMEM_STATS_COMPRESSION: 33,
      ZX_INFO_IOB: 34,
      ZX_INFO_IOB_REGIONS: 35,
      ZX_INFO_VMAR_MAPS: 36,
      ZX_INFO_VMO_TYPE_PHYSICAL: 0,
      ZX_INFO_VMO_TYPE_PAGED: 1,
      ZX_INFO_VMO_RESIZABLE: 2,
      ZX_INFO_VMO_IS_COW_CLONE: 4,
      ZX_INFO_VMO_VIA_HANDLE: 8,
      ZX_INFO_VMO_VIA_MAPPING: 0x10,
      ZX_INFO_VMO_PAGER_BACKED: 0x20,
      ZX_INFO_VMO_CONTIGUOUS: 0x40,
      ZX_INFO_VMO_DISCARDABLE: 0x80,
      ZX_INFO_VMO_IMMUTABLE: 0x100,
      ZX_INFO_VMO_VIA_IOB_HANDLE: 0x200,
      ZX_CACHE_POLICY_CACHED: 0,
      ZX_CACHE_POLICY_UNCACHED: 1,
      ZX_CACHE_POLICY_UNCACHED_DEVICE: 2,
      ZX_CACHE_POLICY_WRITE_COMBINING: 3,
      ZX_CACHE_POLICY_MASK: 3,
      ZX_PROP_NAME: 3,
      ZX_PROP_REGISTER_GS: 2,
      ZX_PROP_REGISTER_FS: 4,
      ZX_PROP_PROCESS_DEBUG_ADDR: 5,
      ZX_PROP_PROCESS_VDSO_BASE_ADDRESS: 6,
      ZX_PROP_PROCESS_BREAK_ON_LOAD: 7,
      ZX_PROP_PROCESS_HW_TRACE_CONTEXT_ID: 8,
      ZX_PROP_SOCKET_RX_THRESHOLD: 12,
      ZX_PROP_SOCKET_TX_THRESHOLD: 13,
      ZX_PROP_JOB_KILL_ON_OOM: 15,
      ZX_PROP_EXCEPTION_STATE: 16,
      ZX_PROP_VMO_CONTENT_SIZE: 17,
      ZX_PROP_EXCEPTION_STRATEGY: 18,
      ZX_PROP_STREAM_MODE_APPEND: 19,
      ZX_VMO_OP_COMMIT: 1,
      ZX_VMO_OP_DECOMMIT: 2,
      ZX_VMO_OP_LOCK: 3,
      ZX_VMO_OP_UNLOCK: 4,
      ZX_VMO_OP_CACHE_SYNC: 6,
      ZX_VMO_OP_CACHE_INVALIDATE: 7,
      ZX_VMO_OP_CACHE_CLEAN: 8,
      ZX_VMO_OP_CACHE_CLEAN_INVALIDATE: 9,
      ZX_VMO_OP_ZERO: 10,
      ZX_VMO_OP_TRY_LOCK: 11,
      ZX_VMO_OP_DONT_NEED: 12,
      ZX_VMO_OP_ALWAYS_NEED: 13,
      ZX_VMO_OP_PREFETCH: 14,
      ZX_VMO_CHILD_SNAPSHOT: 1,
      ZX_VMO_CHILD_RESIZABLE: 4,
      ZX_VMO_CHILD_SLICE: 8,
      ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE: 0x10,
      ZX_VMO_CHILD_NO_WRITE: 0x20,
      ZX_VMO_CHILD_REFERENCE: 0x40,
      ZX_VMO_CHILD_SNAPSHOT_MODIFIED: 0x80,
      ZX_VMO_RESIZABLE: 2,
      ZX_VMO_DISCARDABLE: 4,
      ZX_VMO_TRAP_DIRTY: 8,
      ZX_VMO_UNBOUNDED: 0x10,
      ZX_VMO_ZERO_CHILDREN: 8,
      ZX_TIMER_SIGNALED: 8,
      ZX_DEFAULT_TIMER_RIGHTS: 0xd00b,
      ZX_TIMER_SLACK_CENTER: 0,
      ZX_TIMER_SLACK_EARLY: 1,
      ZX_TIMER_SLACK_LATE: 2,
      ZX_CLOCK_MONOTONIC: 0,
      ZX_SOCKET_CREATE_MASK: 1,
      ZX_PKT_TYPE_GUEST_BELL: 3,
      ZX_PKT_TYPE_GUEST_MEM: 4,
      ZX_PKT_TYPE_GUEST_IO: 5,
      ZX_PKT_TYPE_GUEST_VCPU: 6,
      ZX_PKT_TYPE_INTERRUPT: 7,
      ZX_PKT_TYPE_PAGE_REQUEST: 9,
      ZX_EXCP_POLICY_CODE_PORT_TOO_MANY_PACKETS: 17,
    };
    const top = zx as unknown as Record<string, unknown>;
    const sysFace = zx.sys as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(expected)) {
      expect([name, top[name]]).toEqual([name, value]);
      expect([name, sysFace[name]]).toEqual([name, value]);
    }
    // And the native side has them, from the same source.
    const header = readFileSync(path.join(__dirname, '../native/core/zx_constants.h'), 'utf8');
    for (const name of Object.keys(expected)) expect(header).toMatch(new RegExp(`constexpr \\w+ ${name} = `));
  });
});
