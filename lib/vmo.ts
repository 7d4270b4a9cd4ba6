// Vmo: shared memory (a memfd) as a handle: read and write by offset, resize, and map it
// into an ArrayBuffer that every process mapping the same VMO sees.
import { constants as bufferConstants } from 'node:buffer';
import {
  ZX_OBJ_TYPE_VMO,
  ZX_OK,
  ZX_VMO_CHILD_NO_WRITE,
  ZX_VMO_CHILD_RESIZABLE,
  ZX_VMO_CHILD_SNAPSHOT,
  ZX_VMO_DISCARDABLE,
  ZX_VMO_RESIZABLE,
} from './constants';
import { check, ZxError } from './errors';
import { Handle, registerHandleClass } from './handle';
// The addon directly only for vmoMap / vmoUnmap: mappings are the class's, no sys face.
import { native } from './native';
import * as sys from './sys';

export interface VmoOptions {
  /** The VMO can change size (setSize); its handle gets ZX_RIGHT_RESIZE. */
  resizable?: boolean;
  /** Accepted for Zircon compatibility; the memory is never discarded. */
  discardable?: boolean;
}

// The longest ArrayBuffer this Node can make over outside memory.
const MAX_MAPPING = bufferConstants.MAX_LENGTH;

export class Vmo extends Handle {
  /** A zero-filled VMO of `size` bytes, rounded up to ZX_PAGE_SIZE. */
  static create(size: number | bigint, options: VmoOptions = {}): Vmo {
    const flags = (options.resizable ? ZX_VMO_RESIZABLE : 0) | (options.discardable ? ZX_VMO_DISCARDABLE : 0);
    const { status, out } = sys.vmoCreate(size, flags);
    check(status, 'Vmo.create');
    return new Vmo(out);
  }

  /** Unmaps a buffer that map() returned: it is detached first (byteLength 0, every view
   *  over it empty), so nothing can reach the memory afterwards. Works after the handle
   *  is closed, as a mapping outlives its handle. */
  static unmap(buffer: ArrayBuffer): void {
    if (!(buffer instanceof ArrayBuffer))
      throw new TypeError('Vmo.unmap: buffer must be the ArrayBuffer map() returned');
    const status = native.vmoUnmap(buffer);
    if (status !== ZX_OK) throw new ZxError(status, 'Vmo.unmap', 'not a live mapping');
  }

  /** Exactly `length` bytes from `offset` (a new Buffer). */
  read(length: number | bigint, offset: number | bigint = 0): Buffer {
    const { status, bytes } = sys.vmoRead(this.raw, length, offset);
    check(status, 'Vmo.read');
    return bytes;
  }

  /** Writes all of `bytes` (a string as UTF-8) at `offset`; never past the size. */
  write(bytes: Uint8Array | string, offset: number | bigint = 0): void {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    check(sys.vmoWrite(this.raw, data, offset), 'Vmo.write');
  }

  /** The size in bytes, a multiple of ZX_PAGE_SIZE. */
  getSize(): bigint {
    const { status, size } = sys.vmoGetSize(this.raw);
    check(status, 'Vmo.getSize');
    return size;
  }

  get size(): bigint {
    return this.getSize();
  }

  /** Resizes (only a VMO created resizable, through a handle with WRITE and RESIZE). */
  setSize(size: number | bigint): void {
    check(sys.vmoSetSize(this.raw, size), 'Vmo.setSize');
  }

  /** The whole VMO (at its current size) mapped shared into this process: writes through
   *  it are seen by every process that maps or reads the VMO, and theirs here. Needs READ
   *  and MAP; without WRITE the memory is read-only and a write through it faults (the
   *  process dies of SIGSEGV, as a Zircon thread would fault). Unmapped when the buffer is
   *  collected, or at once with unmap().
   *
   *  A resizable VMO (created `resizable`, or received without size seals) maps only with
   *  `allowFaults` (ZX_ERR_NOT_SUPPORTED otherwise, as Zircon without ZX_VM_ALLOW_FAULTS):
   *  any holder can shrink it, and touching a mapped page past the new end kills this
   *  process with SIGBUS. */
  map(options: { allowFaults?: boolean } = {}): ArrayBuffer {
    const r = native.vmoMap(this.raw, MAX_MAPPING, options.allowFaults === true);
    if (typeof r === 'number') throw new ZxError(r, 'Vmo.map');
    return r;
  }

  /** A snapshot child (sys.vmoCreateChild): a new VMO of `size` bytes (default: the
   *  parent's size less `offset`) holding a copy of this one's bytes from `offset`, taken
   *  now. `{ noWrite }` leaves WRITE out of its rights, `{ resizable }` makes it resizable. */
  createChild(
    options: { offset?: number | bigint; size?: number | bigint; resizable?: boolean; noWrite?: boolean } = {},
  ): Vmo {
    const offset = options.offset ?? 0;
    let size = options.size;
    if (size === undefined) {
      const whole = this.getSize();
      size = BigInt(offset) < whole ? whole - BigInt(offset) : 0n;
    }
    const flags =
      ZX_VMO_CHILD_SNAPSHOT |
      (options.resizable ? ZX_VMO_CHILD_RESIZABLE : 0) |
      (options.noWrite ? ZX_VMO_CHILD_NO_WRITE : 0);
    const { status, out } = sys.vmoCreateChild(this.raw, flags, offset, size);
    check(status, 'Vmo.createChild');
    return new Vmo(out);
  }

  /** sys.vmoOpRange: `op` one of ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO, ... */
  opRange(op: number, offset: number | bigint, size: number | bigint): void {
    check(sys.vmoOpRange(this.raw, op, offset, size), 'Vmo.opRange');
  }

  /** Vmo.unmap(buffer). */
  unmap(buffer: ArrayBuffer): void {
    Vmo.unmap(buffer);
  }
}

registerHandleClass(ZX_OBJ_TYPE_VMO, Vmo);
