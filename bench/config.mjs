// What the benchmark measures: implementations, cases, modes. Shared by run.mjs and report.mjs.

// The one baseline of the chart, the README's figures and the "vs C epoll" column: raw C with
// an event loop's pattern (non-blocking recvmsg until EAGAIN, then epoll_wait). Each target in
// report.mjs names its own baseline (`baseline` below: zx-sync's blocking calls against C
// blocking, as the targets phrase them).
export const BASELINE = 'c-epoll';

export const IMPLS = [
  { id: 'c-block', label: 'raw C, blocking', short: 'C block', family: 'c' },
  { id: 'c-epoll', label: 'raw C, epoll', short: 'C epoll', family: 'c' },
  {
    id: 'zx-sync',
    label: 'zircon-ipc, sync face (objectWaitOne + channelRead, channelCall)',
    short: 'zx sync',
    family: 'zx',
    baseline: 'c-block',
  },
  {
    id: 'zx-async',
    label: 'zircon-ipc, async face (Channel: for-await, read, call)',
    short: 'zx async',
    family: 'zx',
    baseline: 'c-epoll',
  },
  {
    id: 'zx-events',
    label: "zircon-ipc, event face (Channel: on('message'), calls matched in JS)",
    short: 'zx events',
    family: 'zx',
    baseline: 'c-epoll',
  },
  {
    id: 'zx-values',
    label: "zircon-ipc, ValueChannel (post, on('message')): the value cases only",
    short: 'zx values',
    family: 'zx',
    valuesOnly: true,
  },
  {
    id: 'zx-sys-async',
    label: 'zircon-ipc, sys promises (objectWaitOneAsync + channelRead, channelCallAsync)',
    short: 'zx sys-async',
    family: 'zx',
    baseline: 'c-epoll',
  },
  // The Linux backend's baselines for the portable one (docs/performance.md, "Portable backend").
  {
    id: 'zx-sync-portable',
    label: 'zircon-ipc, sync face, portable backend (framed SOCK_STREAM)',
    short: 'zx sync portable',
    family: 'zx',
    baseline: 'c-block',
    portable: true,
  },
  {
    id: 'zx-async-portable',
    label: 'zircon-ipc, async face, portable backend (framed SOCK_STREAM)',
    short: 'zx async portable',
    family: 'zx',
    baseline: 'c-epoll',
    portable: true,
  },
  {
    id: 'node-json',
    label: "child_process IPC, serialization 'json'",
    short: 'IPC json',
    family: 'node',
    baseline: 'c-epoll',
  },
  {
    id: 'node-advanced',
    label: "child_process IPC, serialization 'advanced'",
    short: 'IPC advanced',
    family: 'node',
    baseline: 'c-epoll',
  },
  {
    id: 'net-unix',
    label: 'net, Unix domain socket, 4-byte length prefix',
    short: 'net unix',
    family: 'node',
    baseline: 'c-epoll',
  },
  {
    id: 'worker',
    label: 'worker_threads MessageChannel (in-process, for scale)',
    short: 'worker (in-proc)',
    family: 'inproc',
    baseline: 'c-epoll',
  },
];

const ALL = IMPLS.filter((i) => !i.valuesOnly && !i.portable).map((i) => i.id);
const PORTABLE = IMPLS.filter((i) => i.portable).map((i) => i.id);
const DESCRIPTORS = ['c-block', 'c-epoll', 'zx-sync', 'zx-async', 'zx-events', 'zx-sys-async'];
const MIB16 = 16 * 1024 * 1024;

// better: 'lower' (a time) or 'higher' (a rate). bytes: payload per message, for MB/s.
export const CASES = [
  {
    id: 'rtt',
    spec: 'rtt',
    title: 'Round trip, 16 B',
    unit: 'µs',
    better: 'lower',
    pinned: true,
    impls: [...ALL, ...PORTABLE],
  },
  {
    id: 'call1',
    spec: 'call:1',
    title: 'Calls, 1 in flight',
    unit: 'calls/s',
    better: 'higher',
    pinned: true,
    impls: ALL,
  },
  {
    id: 'call16',
    spec: 'call:16',
    title: 'Calls, 16 in flight',
    unit: 'calls/s',
    better: 'higher',
    pinned: true,
    impls: ALL.filter((i) => i !== 'zx-sync'),
  },
  {
    id: 'oneway16',
    spec: 'oneway:16:256',
    title: 'One-way 16 B',
    unit: 'msg/s',
    better: 'higher',
    bytes: 16,
    impls: [...ALL, ...PORTABLE],
  },
  // zircon-ipc's batched I/O (channelWriteMany / channelReadMany, W/2 messages a write)
  // against raw C's one sendmsg / recvmsg a message (the oneway case there).
  {
    id: 'batch16',
    spec: 'batch:16:256',
    title: 'One-way 16 B, batched (zx: writeMany/readMany; C: one sendmsg a message)',
    unit: 'msg/s',
    better: 'higher',
    bytes: 16,
    pinned: true,
    impls: ['c-block', 'c-epoll', 'zx-sync'],
  },
  {
    id: 'oneway1k',
    spec: 'oneway:1024:256',
    title: 'One-way 1 KiB',
    unit: 'msg/s',
    better: 'higher',
    bytes: 1024,
    impls: ALL,
  },
  // warmMs: this case's warm-up in every mode, when longer than the mode's. Receiving 64 KiB
  // messages into new buffers runs slowly for a few hundred ms while the receiver's memory
  // grows (docs/performance.md, "Quick and full").
  {
    id: 'oneway64k',
    spec: 'oneway:65536:16',
    title: 'One-way 64 KiB',
    unit: 'msg/s',
    better: 'higher',
    bytes: 65536,
    warmMs: 600,
    impls: ALL,
  },
  {
    id: 'fds1',
    spec: 'fds:1:256',
    title: '1 descriptor a message',
    unit: 'msg/s',
    better: 'higher',
    impls: DESCRIPTORS,
  },
  {
    id: 'fds64',
    spec: 'fds:64:32',
    title: '64 descriptors a message',
    unit: 'msg/s',
    better: 'higher',
    impls: DESCRIPTORS,
  },
  {
    id: 'bulk',
    spec: `bulk:${MIB16}:65536:16`,
    title: '16 MiB as 64 KiB messages',
    unit: 'ms',
    better: 'lower',
    bytes: MIB16,
    warmMs: 600,
    impls: ALL,
  },
  // JavaScript values (bench/impl/value-cases.mjs): ValueChannel against child_process IPC;
  // the large value also against raw C sending a sealed memfd (the C peer maps and copies it).
  {
    id: 'value-rtt',
    spec: 'vrtt',
    title: 'Value round trip, { id, name, tags: [3 strings] }',
    unit: 'µs',
    better: 'lower',
    pinned: true,
    impls: ['zx-values', 'node-advanced', 'node-json'],
  },
  {
    id: 'value16m',
    spec: `vbig:${MIB16}`,
    title: 'A 16 MiB Buffer inside a value, one way',
    unit: 'ms',
    better: 'lower',
    bytes: MIB16,
    warmMs: 600,
    pinned: true,
    impls: ['zx-values', 'node-advanced', 'c-block'],
  },
];

// warmMs: iterations before each case's window (firstWarmMs for a session's first case, while
// the JIT and the caches are cold); windowMs: the window timed; reps: sessions of every
// implementation, interleaved. Quick differs from full only in the number of repetitions
// and a shorter window: see docs/performance.md "Method" for why its warm-up is not shorter.
export const MODES = {
  quick: { reps: 3, warmMs: 150, firstWarmMs: 500, windowMs: 150, timeoutMs: 60_000 },
  full: { reps: 7, warmMs: 200, firstWarmMs: 500, windowMs: 600, timeoutMs: 120_000 },
};

export const implById = Object.fromEntries(IMPLS.map((i) => [i.id, i]));
export const caseById = Object.fromEntries(CASES.map((c) => [c.id, c]));
export const caseBySpec = Object.fromEntries(CASES.map((c) => [c.spec, c]));

// `npm run bench -- --agree`: quick and full agree when every relative speed of the quick run
// is within this share of the full run's.
export const AGREE_LIMIT = 0.15;
