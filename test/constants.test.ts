// Constants are defined once, in lib/constants.ts; the native header is generated from it.
import { execFileSync } from 'node:child_process';
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
    expect([zx.ZX_OK, zx.ZX_ERR_PEER_CLOSED, zx.ZX_ERR_SHOULD_WAIT, zx.ZX_ERR_IO_DATA_INTEGRITY]).toEqual([0, -24, -22, -42]);
    expect([zx.ZX_RIGHT_TRANSFER, zx.ZX_RIGHT_SAME_RIGHTS, zx.ZX_DEFAULT_CHANNEL_RIGHTS]).toEqual([0x2, 0x80000000, 0xf00e]);
    expect([zx.ZX_CHANNEL_READABLE, zx.ZX_CHANNEL_PEER_CLOSED, zx.ZX_SIGNAL_HANDLE_CLOSED]).toEqual([1, 4, 0x800000]);
    expect([zx.ZX_OBJ_TYPE_CHANNEL, zx.ZX_TIME_INFINITE]).toEqual([4, 2n ** 63n - 1n]);
    expect(zx.sys.ZX_ERR_BAD_HANDLE).toBe(-11);
    expect(zx.PA_HND(zx.PA_USER0, 1)).toBe(0x100f0);
    expect(zx.statusToString(-24)).toBe('ZX_ERR_PEER_CLOSED');
  });
});
