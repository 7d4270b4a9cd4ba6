// util.inspect of a Handle (any class): its class, handle value, koid, rights and whether
// it is valid; an invalid one (closed, given away, or closed behind its back) never throws.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Channel, Event, Handle, sys, Vmo, ZX_OK } from '../lib/index';

describe('util.inspect(handle)', () => {
  it('a Channel: class, handle value, koid, rights by name, valid', () => {
    const [a, b] = Channel.create();
    a.on('message', () => {}); // listeners are not what inspect shows
    expect(inspect(a)).toBe(
      `Channel { handle: ${a.raw}, koid: ${a.koid}, rights: TRANSFER|READ|WRITE|SIGNAL|SIGNAL_PEER|WAIT|INSPECT, valid: true }`,
    );
    a.removeAllListeners();
    a.close();
    b.close();
  });

  it('other classes, rights reduced by replace, and a plain Handle', () => {
    const event = Event.create();
    expect(inspect(event)).toBe(
      `Event { handle: ${event.raw}, koid: ${event.koid}, rights: DUPLICATE|TRANSFER|SIGNAL|WAIT|INSPECT, valid: true }`,
    );
    const vmo = Vmo.create(4096).replace(0);
    expect(inspect(vmo)).toBe(`Vmo { handle: ${vmo.raw}, koid: ${vmo.koid}, rights: NONE, valid: true }`);
    const plain = new Handle(event.duplicate().release());
    expect(inspect(plain)).toMatch(
      /^Handle \{ handle: \d+, koid: \d+, rights: DUPLICATE\|TRANSFER\|SIGNAL\|WAIT\|INSPECT, valid: true \}$/,
    );
    for (const h of [event, vmo, plain]) h.close();
  });

  it('closed or given away: handle 0, valid false; closed behind its back: the status', () => {
    const [a, b] = Channel.create();
    a.close();
    expect(inspect(a)).toBe('Channel { handle: 0, valid: false }');
    const raw = b.raw;
    expect(sys.handleClose(raw)).toBe(ZX_OK);
    expect(inspect(b)).toBe(`Channel { handle: ${raw}, info: ZX_ERR_BAD_HANDLE, valid: true }`);
    b.release();
  });

  it('nested in an object or array, as Node shows values there', () => {
    const event = Event.create();
    expect(inspect({ event }, { breakLength: Infinity })).toBe(`{ event: ${inspect(event)} }`);
    expect(inspect([event], { colors: true })).toContain('\u001b[33m'); // numbers in colour
    event.close();
  });
});
