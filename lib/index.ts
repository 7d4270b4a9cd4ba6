// zircon-ipc: Zircon channels and handles for Node.js on Linux.
export * from './constants';
export { statusToString } from './status';
export { backend } from './backend';
export * as sys from './sys';
export * as fdio from './fdio';
export { ZxError } from './errors';
export { Handle } from './handle';
export type { WaitOptions } from './handle';
export { Channel } from './channel';
export type { Message, Bytes, OutgoingMessage } from './channel';
export { Event, EventPair } from './event';
export { Timer } from './timer';
export { Vmo } from './vmo';
export type { VmoOptions } from './vmo';
export { Socket } from './socket';
export type { SocketReadOptions, SocketTryReadOptions, SocketReadAsyncOptions } from './socket';
export { SocketStream } from './socket-stream';
export { Port } from './port';
export type { WatchOptions, QueuePacket } from './port';
export type {
  PortPacket,
  PortUserPacket,
  PortSignalPacket,
  PacketSignal,
  PortQueuePacket,
  PortWaitResult,
} from './sys-port';
export { spawn, takeStartupHandle, prepareStartupHandles, STARTUP_HANDLES_ENV } from './process';
export type { SpawnOptions, StartupHandle, StartupHandleEntry, PreparedHandles } from './process';
export { listen, ServiceServer } from './service';
export type { ServiceConnection, ListenOptions } from './service';
export type { ConnectOptions } from './fdio';
export { ValueChannel } from './value-channel';
export type { ValueChannelOptions, Respond } from './value-channel';
