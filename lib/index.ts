// zircon-ipc: Zircon channels and handles for Node.js on Linux.
export * from './constants';
export { statusToString } from './status';
export * as sys from './sys';
export * as fdio from './fdio';
