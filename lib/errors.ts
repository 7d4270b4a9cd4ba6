// ZxError: a Zircon status as a JavaScript exception, for the class face.
import { ZX_OK } from './constants';
import { statusToString } from './status';

export class ZxError extends Error {
  /** The Zircon status, e.g. -24. */
  readonly status: number;
  /** Its C name, e.g. 'ZX_ERR_PEER_CLOSED'. */
  readonly code: string;
  /** What was being done, e.g. 'Channel.write'. */
  readonly operation: string;

  constructor(status: number, operation: string, detail?: string) {
    const code = statusToString(status);
    super(`${operation} failed: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'ZxError';
    this.status = status;
    this.code = code;
    this.operation = operation;
  }
}

/** Throws a ZxError unless `status` is ZX_OK. */
export function check(status: number, operation: string): void {
  if (status !== ZX_OK) throw new ZxError(status, operation);
}
