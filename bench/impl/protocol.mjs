// The benchmark protocol every implementation speaks (bench/native/seqpacket.c too):
// byte 4 of a message is its tag — 'D' data, 'C' command (text from byte 8: "echo",
// "sink K", "sinkmany K" or "quit"), 'A' ack, 'K' credit. Bytes 0-3 are free for a transaction id.
// A peer in "echo" mode sends every data message back as it came; in "sink K" mode it
// drops data messages (closing any handles they carry) and sends one credit after every K.
// The main side keeps at most W = 2K data messages unacknowledged, so every transport runs
// with the same bounded amount in flight.
import { performance } from 'node:perf_hooks';

export const TAG = 4;
export const D = 0x44;
export const C = 0x43;
export const A = 0x41;
export const K = 0x4b;

export const now = () => performance.now();

/** Paces a measured loop: call the returned function once per unit of work done; it returns
 *  null while warming up (`warmMs`) and measuring, then, once `windowMs` has passed, the
 *  window's { n, ms } (the units done in it and its length). The clock is read every
 *  `every` units (and the window holds at least `min`). */
export function pacer(warmMs, windowMs, every = 1, min = 1) {
  let measuring = false;
  let n = 0;
  let t0 = now();
  return () => {
    if (++n % every !== 0) return null;
    const t1 = now();
    if (!measuring) {
      if (t1 - t0 >= warmMs) {
        measuring = true;
        n = 0;
        t0 = t1;
      }
      return null;
    }
    return t1 - t0 >= windowMs && n >= min ? { n, ms: t1 - t0 } : null;
  };
}

export function tagged(tag, size = 16) {
  const b = Buffer.alloc(size);
  b[TAG] = tag;
  return b;
}

export const dataMessage = (size) => tagged(D, size);
export const ACK = tagged(A);
export const CREDIT = tagged(K);

export function commandMessage(text) {
  const b = Buffer.alloc(Math.max(16, 8 + text.length + 1));
  b[TAG] = C;
  b.write(text, 8, 'latin1');
  return b;
}

export function commandText(bytes) {
  let end = 8;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + 8, end - 8).toString('latin1');
}

export function txidOf(b) {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** A case spec as the C program and the sessions take it: rtt, call:K, oneway:SIZE:W,
 *  batch:SIZE:W, fds:N:W, bulk:TOTAL:SIZE:W; the value cases vrtt and vbig:SIZE
 *  (value-cases.mjs). */
export function parseCase(spec) {
  const [kind, ...rest] = spec.split(':');
  const n = rest.map(Number);
  switch (kind) {
    case 'rtt':
      return { kind };
    case 'call':
      return { kind, inFlight: n[0] };
    case 'oneway':
      return { kind, size: n[0], window: n[1] };
    case 'batch':
      return { kind, size: n[0], window: n[1] };
    case 'fds':
      return { kind, fds: n[0], window: n[1] };
    case 'bulk':
      return { kind, total: n[0], size: n[1], window: n[2] };
    case 'vrtt':
      return { kind };
    case 'vbig':
      return { kind, size: n[0] };
    default:
      throw new Error(`unknown case ${spec}`);
  }
}

/** The peer's side of the protocol: t.send(bytes), t.closeHandles(handles), t.onQuit();
 *  t.echo says which mode it is in. */
export function peerHandler(t) {
  let echo = true;
  let k = 1;
  let count = 0;
  return (bytes, handles) => {
    const tag = bytes[TAG];
    if (tag === D) {
      if (echo) {
        t.send(bytes);
        return;
      }
      if (handles !== undefined && handles.length !== 0) t.closeHandles(handles);
      if (++count === k) {
        count = 0;
        t.send(CREDIT);
      }
    } else if (tag === C) {
      const text = commandText(bytes);
      count = 0;
      if (text.startsWith('echo')) {
        t.echo = echo = true;
      } else if (text.startsWith('sink ') || text.startsWith('sinkmany ')) {
        // sinkmany: the same, the peer reading in batches where it can (t.many).
        t.echo = echo = false;
        t.many = text.startsWith('sinkmany ');
        k = Number(text.slice(text.indexOf(' ') + 1));
      } else {
        t.send(ACK);
        t.onQuit?.();
        return;
      }
      t.send(ACK);
    } else {
      throw new Error(`peer: unexpected tag ${tag}`);
    }
  };
}
