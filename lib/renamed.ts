// The 0.x names of methods renamed to the one naming convention (README, "Naming"): each
// still works as the new name does, warns once (a DeprecationWarning), and goes at 1.0.
import { deprecate } from 'node:util';

/** Defines `proto[old]` as a deprecated alias of `proto[now]` (looked up on each call, so
 *  subclasses' overrides apply). */
export function renamedMethod(proto: object, className: string, old: string, now: string): void {
  const alias = function (this: Record<string, (...args: unknown[]) => unknown>, ...args: unknown[]): unknown {
    return this[now](...args);
  };
  Object.defineProperty(proto, old, {
    value: deprecate(
      alias,
      `${className}.${old}() is deprecated: it is now ${className}.${now}()`,
      `ZIRCON_IPC_DEP_${old.toUpperCase()}`,
    ),
    writable: true,
    configurable: true,
  });
}
