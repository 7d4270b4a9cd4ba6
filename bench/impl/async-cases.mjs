// The main side of every case for message-driven (event loop) transports. A transport is
//   { send(bytes), sendFds?(bytes, n), call?(bytes) → Promise, onMessage: (bytes, handles) => void }
// and calls its current `onMessage` for every message that arrives. Each case installs its
// own handler, so the hot path is one closure call per message.
import { A, K, TAG, commandMessage, dataMessage, now, pacer, parseCase, txidOf } from './protocol.mjs';
import { runValueCase } from './value-cases.mjs';

export function command(t, text) {
  return new Promise((resolve, reject) => {
    t.onMessage = (bytes) => {
      if (bytes[TAG] === A) resolve();
      else reject(new Error(`expected an ack, got tag ${bytes[TAG]}`));
    };
    t.send(commandMessage(text));
  });
}

// µs per round trip of one 16-byte message.
async function rtt(t, warmMs, windowMs) {
  await command(t, 'echo');
  const ping = dataMessage(16);
  return new Promise((resolve) => {
    const done = pacer(warmMs, windowMs, 16);
    t.onMessage = () => {
      const w = done();
      if (w) resolve((w.ms * 1000) / w.n);
      else t.send(ping);
    };
    t.send(ping);
  });
}

// A call on top of plain messages, for transports without one: the id goes in bytes 0-3 and
// the reply (the echo) settles the promise waiting under that id.
function messageCaller(t) {
  const pending = new Map();
  let next = 0;
  t.onMessage = (bytes) => {
    const id = txidOf(bytes);
    const resolve = pending.get(id);
    pending.delete(id);
    resolve(bytes);
  };
  return (request) => {
    const id = (next = (next + 1) >>> 0);
    request[0] = id;
    request[1] = id >>> 8;
    request[2] = id >>> 16;
    request[3] = id >>> 24;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      t.send(request); // every transport here copies the bytes before returning
    });
  };
}

// Calls per second with `inFlight` callers, each awaiting its reply before the next call.
async function calls(t, inFlight, warmMs, windowMs) {
  await command(t, 'echo');
  const call = t.call ?? messageCaller(t);
  let measuring = false;
  let stop = false;
  let n = 0;
  let t0 = now();
  let t1 = 0;
  const caller = async () => {
    const request = dataMessage(16);
    for (;;) {
      await call(request);
      if (stop) return; // replies after the window closed don't count
      if ((++n & 15) === 0) {
        const t2 = now();
        if (!measuring) {
          if (t2 - t0 >= warmMs) {
            measuring = true;
            n = 0;
            t0 = t2;
          }
        } else if (t2 - t0 >= windowMs) {
          stop = true;
          t1 = t2;
        }
      }
    }
  };
  const callers = [];
  for (let i = 0; i < inFlight; i++) callers.push(caller());
  await Promise.all(callers);
  return n / ((t1 - t0) / 1000);
}

// Sends batches of k while `keepGoing(sent)`, never more than w unacknowledged; resolves with
// the number sent once every credit is back.
function stream(t, send, w, k, keepGoing) {
  return new Promise((resolve) => {
    let inflight = 0;
    let sent = 0;
    let stopping = false;
    const pump = () => {
      while (!stopping && inflight + k <= w) {
        for (let i = 0; i < k; i++) send();
        inflight += k;
        sent += k;
        if (!keepGoing(sent)) stopping = true;
      }
      if (stopping && inflight === 0) resolve(sent);
    };
    t.onMessage = (bytes) => {
      if (bytes[TAG] !== K) throw new Error(`expected a credit, got tag ${bytes[TAG]}`);
      inflight -= k;
      pump();
    };
    pump();
  });
}

function sender(t, size, fds) {
  const message = dataMessage(size);
  return fds ? () => t.sendFds(message, fds) : () => t.send(message);
}

// Messages per second (the final credits included).
async function oneWay(t, size, fds, w, warmMs, windowMs) {
  const k = w / 2;
  await command(t, `sink ${k}`);
  const send = sender(t, size, fds);
  const start = now();
  await stream(t, send, w, k, () => now() - start < warmMs);
  const t0 = now();
  const sent = await stream(t, send, w, k, () => now() - t0 < windowMs);
  return sent / ((now() - t0) / 1000);
}

// Milliseconds per transfer of `total` bytes as `size`-byte messages.
async function bulk(t, total, size, w, warmMs, windowMs) {
  const k = w / 2;
  await command(t, `sink ${k}`);
  const send = sender(t, size, 0);
  const count = total / size;
  const start = now();
  do await stream(t, send, w, k, (sent) => sent < count);
  while (now() - start < warmMs);
  let transfers = 0;
  const t0 = now();
  let t1;
  do {
    await stream(t, send, w, k, (sent) => sent < count);
    transfers++;
    t1 = now();
  } while (t1 - t0 < windowMs);
  return (t1 - t0) / transfers;
}

export async function runCase(t, spec, { warmMs, windowMs }) {
  const c = parseCase(spec);
  switch (c.kind) {
    case 'rtt':
      return rtt(t, warmMs, windowMs);
    case 'call':
      return calls(t, c.inFlight, warmMs, windowMs);
    case 'oneway':
      return oneWay(t, c.size, 0, c.window, warmMs, windowMs);
    case 'fds':
      return oneWay(t, 16, c.fds, c.window, warmMs, windowMs);
    case 'bulk':
      return bulk(t, c.total, c.size, c.window, warmMs, windowMs);
    case 'vrtt':
    case 'vbig':
      return runValueCase(t, c, { warmMs, windowMs });
  }
}
