/*
 * service.ts — the small-server framework the demo services share
 * (echo, discard, later TCP echo/discard and http).
 *
 * Place in the packet path: the application on top of the socket API.
 * A stack has one readiness callback (st.events); ServiceMux is that
 * callback and routes each socket event to the service that owns the fd.
 * Services also get run() after every st.poll(), so a board's main loop
 * (or the host process) can drive them without events at all.
 *
 * Portable (Espruino, Lua): no allocation after start(), no Node APIs.
 */
import type { Stack, StackEventHandler } from '../stack';

export interface NetService {
  /** short name used on the command line and in counters ("echo", "discard", ...) */
  readonly name: string;
  /** Open sockets. Returns 0 or -errno. */
  start(): number;
  /** Does this service own socket fd? */
  owns(fd: number): boolean;
  /** Readiness for one of its sockets (EV_* bits from stack.ts). */
  onSocketEvent(fd: number, events: number): void;
  /** Do pending work (drain sockets). Returns the number of datagrams/bytes-chunks handled. */
  run(): number;
  /** Close its sockets. */
  stop(): void;
  /** Counters for reports (allocates: reports only). */
  stats(): { [k: string]: number };
}

export class ServiceMux implements StackEventHandler {
  readonly services: NetService[] = [];
  constructor(readonly st: Stack) {}

  add(s: NetService): void {
    this.services.push(s);
  }

  /** Start every service and install the mux as the stack's event handler. Returns 0 or the first -errno. */
  start(): number {
    this.st.events = this;
    for (let i = 0; i < this.services.length; i++) {
      const rc = this.services[i].start();
      if (rc < 0) return rc;
    }
    return 0;
  }

  onSocketEvent(fd: number, events: number): void {
    const ss = this.services;
    for (let i = 0; i < ss.length; i++) {
      if (ss[i].owns(fd)) {
        ss[i].onSocketEvent(fd, events);
        return;
      }
    }
  }

  run(): number {
    let n = 0;
    const ss = this.services;
    for (let i = 0; i < ss.length; i++) n += ss[i].run();
    return n;
  }

  stop(): void {
    const ss = this.services;
    for (let i = 0; i < ss.length; i++) ss[i].stop();
    if (this.st.events === this) this.st.events = null;
  }
}
