// Event and EventPair: signals shared by every handle to the object, in every process
// (`signal(clear, set)` is every Handle's).
import { ZX_EVENT_SIGNALED, ZX_OBJ_TYPE_EVENT, ZX_OBJ_TYPE_EVENTPAIR } from './constants';
import { check } from './errors';
import { Handle, registerHandleClass } from './handle';
import * as sys from './sys';

export class Event extends Handle {
  static create(): Event {
    const { status, out } = sys.eventCreate(0);
    check(status, 'Event.create');
    return new Event(out);
  }

  /** Sets ZX_EVENT_SIGNALED (or the signals given). */
  set(signals: number = ZX_EVENT_SIGNALED): void {
    check(sys.objectSignal(this.raw, 0, signals), 'Event.set');
  }

  /** Clears ZX_EVENT_SIGNALED (or the signals given). */
  clear(signals: number = ZX_EVENT_SIGNALED): void {
    check(sys.objectSignal(this.raw, signals, 0), 'Event.clear');
  }
}

export class EventPair extends Handle {
  /** Two connected sides: each can signal itself and the other. */
  static create(): [EventPair, EventPair] {
    const { status, out0, out1 } = sys.eventpairCreate(0);
    check(status, 'EventPair.create');
    return [new EventPair(out0), new EventPair(out1)];
  }

  /** Clears, then sets signals on the other side; ZxError PEER_CLOSED once it is gone. */
  signalPeer(clear: number, set: number): void {
    this.signalPeerOf(clear, set);
  }
}

registerHandleClass(ZX_OBJ_TYPE_EVENT, Event);
registerHandleClass(ZX_OBJ_TYPE_EVENTPAIR, EventPair);
