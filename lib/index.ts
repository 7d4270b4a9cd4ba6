// zircon-ipc: Zircon channels and handles for Node.js on Linux.
export * from './constants';
export { statusToString } from './status';
export * as sys from './sys';
export * as fdio from './fdio';
export { ZxError } from './errors';
export { Handle } from './handle';
export type { WaitOptions } from './handle';
export { Channel } from './channel';
export type { Message, Bytes } from './channel';
export { Port } from './port';
export type { WatchOptions, QueuePacket } from './port';
export type { PortPacket, PortUserPacket, PortSignalPacket, PacketSignal, PortQueuePacket, PortWaitResult } from './sys-port';
export { spawn, takeStartupHandle, prepareStartupHandles, STARTUP_HANDLES_ENV } from './process';
export type { SpawnOptions, StartupHandle, StartupHandleEntry, PreparedHandles } from './process';
export { listen, ServiceServer } from './service';
export type { ServiceConnection, ListenOptions } from './service';
