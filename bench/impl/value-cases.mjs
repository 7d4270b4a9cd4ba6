// The value cases (ValueChannel against child_process IPC, and a raw memfd in C): a
// transport here is { post(value), onValue: (value) => void }. The peer of a value case
// echoes every value back, except one holding `big`, which it answers with { ok: true } once
// it has it.
import { pacer } from './protocol.mjs';

export const SMALL = { id: 12345, name: 'zircon', tags: ['ipc', 'values', 'handles'] };

/** Whether a message of a child_process IPC transport is a value (the byte cases send a
 *  Buffer, or a base64 string with 'json'). */
export const isValue = (m) => typeof m === 'object' && m !== null && !(m instanceof Uint8Array);

export function valuePeer(post) {
  return (value) => post(value.big ? { ok: true } : value);
}

// µs per round trip of SMALL.
function rtt(t, warmMs, windowMs) {
  return new Promise((resolve) => {
    const done = pacer(warmMs, windowMs, 16);
    t.onValue = () => {
      const w = done();
      if (w) resolve((w.ms * 1000) / w.n);
      else t.post(SMALL);
    };
    t.post(SMALL);
  });
}

// Milliseconds per value { big: a Buffer of `size` bytes } delivered (until the peer's { ok }).
function big(t, size, warmMs, windowMs) {
  const value = { name: 'big', big: Buffer.alloc(size, 0x5a) };
  return new Promise((resolve) => {
    const done = pacer(warmMs, windowMs, 1, 3);
    t.onValue = () => {
      const w = done();
      if (w) resolve(w.ms / w.n);
      else t.post(value);
    };
    t.post(value);
  });
}

export function runValueCase(t, c, { warmMs, windowMs }) {
  if (c.kind === 'vrtt') return rtt(t, warmMs, windowMs);
  return big(t, c.size, warmMs, windowMs);
}
