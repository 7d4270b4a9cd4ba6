// The `sys` face: one function per Zircon syscall, returning statuses (README.md, API).
// This module only gathers them: one module per object family.
export * from './constants';
export { statusToString } from './status';
export type { CreatePairResult, OneHandleResult } from './native';
export type { HandleInfo, ReadManyResult, ReadResult } from './receive';
export * from './sys-channel';
export * from './sys-handle';
export * from './sys-clock';
export * from './sys-event';
export * from './sys-vmo';
export * from './sys-socket';
export * from './sys-port';
export * from './sys-timer';
