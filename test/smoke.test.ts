import { describe, expect, it } from 'vitest';
import { sys, ZX_OK, ZX_ERR_SHOULD_WAIT, ZX_CHANNEL_READABLE, ZX_CHANNEL_WRITABLE } from '../lib/index';
import { openFdCount } from './fixtures/fds';

describe('a channel between two handles of one process', () => {
  it('carries a message from one endpoint to the other', () => {
    const before = openFdCount();
    const { status, out0, out1 } = sys.channelCreate(0);
    expect(status).toBe(ZX_OK);
    expect(out0 & 3).toBe(3);
    expect(sys.objectWaitOne(out1, 0, 0n)).toEqual({ status: -21, observed: ZX_CHANNEL_WRITABLE });
    expect(sys.channelWrite(out0, 0, Buffer.from('hello'), null)).toBe(ZX_OK);
    expect(sys.objectWaitOne(out1, ZX_CHANNEL_READABLE, 0n)).toEqual({
      status: ZX_OK,
      observed: ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE,
    });
    const r = sys.channelRead(out1, 0, 65536, 64);
    expect(r.status).toBe(ZX_OK);
    expect(r.bytes.toString()).toBe('hello');
    expect(sys.channelRead(out1, 0, 65536, 64).status).toBe(ZX_ERR_SHOULD_WAIT);
    expect(sys.handleCloseMany([out0, out1])).toBe(ZX_OK);
    expect(openFdCount()).toBe(before);
  });
});
