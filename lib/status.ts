// statusToString(), built from the ZX_OK / ZX_ERR_* exports of ./constants so
// there is no second list of status names to keep in sync.
import * as constants from './constants';

const STATUS_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(constants)) {
    if ((name === 'ZX_OK' || name.startsWith('ZX_ERR_')) && typeof value === 'number' && !names.has(value)) {
      names.set(value, name);
    }
  }
  return names;
})();

/** The C name of a status (`'ZX_OK'`, `'ZX_ERR_PEER_CLOSED'`), or `'ZX_ERR_UNKNOWN(<n>)'`. */
export function statusToString(status: number): string {
  return STATUS_NAMES.get(status) ?? `ZX_ERR_UNKNOWN(${status})`;
}
