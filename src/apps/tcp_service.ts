/*
 * tcp_service.ts — the common body of the small TCP servers (echo,
 * discard, http): one listening socket, a fixed number of connection
 * slots (per-slot state lives in typed arrays the subclass allocates in
 * its constructor), accept while a slot is free (the rest wait in the
 * listener's accept queue, bounded by the backlog), serve every open slot
 * after each poll, close connections idle for longer than idleMs.
 *
 * Place in the packet path: an application on the stream adapter
 * (stream.ts → tcp_api.ts). Driven by ServiceMux.run() after each
 * st.poll(); socket events only mark the service busy.
 * Portable (Espruino, Lua): nothing is allocated after the constructor.
 */
import type { Stack } from '../stack';
import { EAGAIN } from '../core/errno';
import { NetService } from './service';
import { streamListen, streamAccept, streamClose, streamAbort } from './stream';

/** serve() results besides "progress made" (> 0) and "nothing to do" (0) */
export const SERVE_CLOSE = -1; // graceful close (FIN after queued data)
export const SERVE_ABORT = -2; // abortive close (RST) / connection already dead

export abstract class TcpService implements NetService {
  abstract readonly name: string;
  /** listener fd */
  lh = -1;
  /** connection fd per slot, -1 = free */
  readonly conn: Int32Array;
  /** st.now() of the last progress per slot */
  readonly lastActive: Float64Array;
  /* counters */
  accepted = 0;
  closed = 0;
  aborted = 0;
  idleClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  active = 0;
  maxActive = 0;

  constructor(
    readonly st: Stack,
    readonly port: number,
    readonly maxConns: number,
    /** close a connection after this long without progress */
    public idleMs: number,
    readonly backlog: number,
  ) {
    this.conn = new Int32Array(maxConns);
    this.conn.fill(-1);
    this.lastActive = new Float64Array(maxConns);
  }

  /** A new connection in slot i (reset its per-slot state). */
  protected abstract onOpen(i: number): void;
  /** Work on slot i: > 0 progress, 0 nothing to do now, SERVE_CLOSE / SERVE_ABORT to end it. */
  protected abstract serve(i: number, h: number): number;
  /** Extra counters of the subclass for stats(). */
  protected abstract addStats(o: { [k: string]: number }): void;

  start(): number {
    const h = streamListen(this.st, this.port, this.backlog);
    if (h < 0) return h;
    this.lh = h;
    return 0;
  }

  owns(fd: number): boolean {
    if (this.lh < 0 || fd < 0) return false;
    if (fd === this.lh) return true;
    const c = this.conn;
    for (let i = 0; i < c.length; i++) if (c[i] === fd) return true;
    return false;
  }

  onSocketEvent(_fd: number, _events: number): void {
    // nothing: run() looks at every open slot after each poll (sending from
    // inside the receive path would re-enter the stack)
  }

  run(): number {
    if (this.lh < 0) return 0;
    const st = this.st;
    const c = this.conn;
    const now = st.now();
    let work = 0;
    for (let i = 0; i < c.length; i++) {
      if (c[i] >= 0) continue;
      const h = streamAccept(st, this.lh);
      if (h < 0) break; // -EAGAIN: nobody waiting (-EMFILE: fd table full, it stays queued)
      c[i] = h;
      this.lastActive[i] = now;
      this.accepted++;
      this.active++;
      if (this.active > this.maxActive) this.maxActive = this.active;
      this.onOpen(i);
      work++;
    }
    for (let i = 0; i < c.length; i++) {
      const h = c[i];
      if (h < 0) continue;
      const r = this.serve(i, h);
      if (r > 0) {
        this.lastActive[i] = now;
        work += r;
      } else if (r === SERVE_CLOSE || r === SERVE_ABORT) {
        this.release(i, r === SERVE_ABORT);
        work++;
      } else if (now - this.lastActive[i] > this.idleMs) {
        this.idleClosed++;
        this.release(i, true);
      }
    }
    return work;
  }

  /** Let go of slot i's connection. */
  protected release(i: number, abort: boolean): void {
    const h = this.conn[i];
    if (h < 0) return;
    if (abort) {
      streamAbort(this.st, h);
      this.aborted++;
    } else {
      streamClose(this.st, h);
      this.closed++;
    }
    this.conn[i] = -1;
    this.active--;
  }

  stop(): void {
    for (let i = 0; i < this.conn.length; i++) this.release(i, true);
    if (this.lh >= 0) streamClose(this.st, this.lh);
    this.lh = -1;
  }

  stats(): { [k: string]: number } {
    const o: { [k: string]: number } = {
      accepted: this.accepted,
      closed: this.closed,
      aborted: this.aborted,
      idleClosed: this.idleClosed,
      active: this.active,
      maxActive: this.maxActive,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
    this.addStats(o);
    return o;
  }
}

/** -EAGAIN, as a constant the subclasses compare with. */
export const NEG_EAGAIN = -EAGAIN;
