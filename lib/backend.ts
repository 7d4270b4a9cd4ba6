// Which system-call backend the addon uses (docs/architecture.md, "Backends"): 'linux'
// (SOCK_SEQPACKET channels), or 'portable' (what macOS has too: framed SOCK_STREAM
// channels), chosen on Linux by ZIRCON_IPC_BACKEND=portable when the addon loads.
import { native } from './native';

export const backend: 'linux' | 'portable' = native.backend;
