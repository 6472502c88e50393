/*
 * events.ts — application-side event plumbing for the socket facades
 * (dgram.ts now, net later). Not on the packet path: the stack has ONE
 * readiness callback (st.events.onSocketEvent(fd, ev)); EventMux takes
 * that slot and forwards each event to the listener registered for that
 * fd, or to whatever handler was installed before it.
 *
 * Also a tiny EventEmitter (on/once/off/emit with up to two arguments)
 * that runs on Espruino: no Map/Set, no rest/spread, no node:events.
 */
import type { Stack, StackEventHandler } from '../stack';

export interface SocketEventListener {
  onSocketEvent(fd: number, events: number): void;
}

/** Placeholder for an unclaimed fd (arrays hold no nulls: a Lua table would lose them). */
class NoListener implements SocketEventListener {
  onSocketEvent(_fd: number, _events: number): void {}
}
const NONE = new NoListener();

export class EventMux implements StackEventHandler {
  readonly per: SocketEventListener[] = [];
  /** the handler that held st.events before the mux (gets unclaimed fds) */
  fallback: StackEventHandler | null;
  constructor(max: number, fallback: StackEventHandler | null) {
    for (let i = 0; i < max; i++) this.per.push(NONE);
    this.fallback = fallback;
  }
  onSocketEvent(fd: number, events: number): void {
    const h = fd >= 0 && fd < this.per.length ? this.per[fd] : NONE;
    if (h !== NONE) h.onSocketEvent(fd, events);
    else if (this.fallback !== null) this.fallback.onSocketEvent(fd, events);
  }
  /** Claim fd for l (null releases it). */
  set(fd: number, l: SocketEventListener | null): void {
    if (fd >= 0 && fd < this.per.length) this.per[fd] = l !== null ? l : NONE;
  }
}

/** The stack's EventMux, installed on first use (keeps any previous handler as fallback). */
export function eventMux(st: Stack): EventMux {
  const cur = st.events;
  if (cur instanceof EventMux) return cur;
  const m = new EventMux(st.cfg.maxSockets, cur);
  st.events = m;
  return m;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Listener = (a?: any, b?: any) => void;

interface Entry {
  name: string;
  fn: Listener;
  once: boolean;
}

/** A minimal EventEmitter (node's on/once/off/emit/listenerCount). */
export class Emitter {
  private ls: Entry[] = [];

  on(name: string, fn: Listener): this {
    this.ls.push({ name: name, fn: fn, once: false });
    return this;
  }
  addListener(name: string, fn: Listener): this {
    return this.on(name, fn);
  }
  once(name: string, fn: Listener): this {
    this.ls.push({ name: name, fn: fn, once: true });
    return this;
  }
  off(name: string, fn: Listener): this {
    for (let i = 0; i < this.ls.length; i++) {
      const e = this.ls[i];
      if (e.name === name && e.fn === fn) {
        this.ls.splice(i, 1);
        break;
      }
    }
    return this;
  }
  removeListener(name: string, fn: Listener): this {
    return this.off(name, fn);
  }
  removeAllListeners(name?: string): this {
    if (name === undefined) {
      this.ls = [];
      return this;
    }
    const keep: Entry[] = [];
    for (let i = 0; i < this.ls.length; i++) if (this.ls[i].name !== name) keep.push(this.ls[i]);
    this.ls = keep;
    return this;
  }
  listenerCount(name: string): number {
    let n = 0;
    for (let i = 0; i < this.ls.length; i++) if (this.ls[i].name === name) n++;
    return n;
  }
  /** Call the listeners of name in order; true when there was one. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  emit(name: string, a?: any, b?: any): boolean {
    // snapshot: listeners added or removed during emit do not disturb this round
    const run: Entry[] = [];
    for (let i = 0; i < this.ls.length; i++) if (this.ls[i].name === name) run.push(this.ls[i]);
    if (run.length === 0) return false;
    for (let i = 0; i < run.length; i++) {
      const e = run[i];
      if (e.once) this.off(name, e.fn);
      e.fn.call(this, a, b);
    }
    return true;
  }
}
