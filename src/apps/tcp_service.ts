/*
 * tcp_service.ts — the common body of the small TCP servers (echo,
 * discard, http): one listening socket, a fixed number of connection
 * slots (per-slot state lives in typed arrays the subclass allocates in
 * its constructor), serve every open slot after each poll, and a slot
 * policy that no client can hold hostage (issue 10):
 *
 *   header deadline  a request must arrive within headerMs of accept or
 *                    of the previous response being acknowledged; bytes
 *                    trickling in do not extend it (slowloris)  → dropHeaderTimeout
 *   stall            data queued for the peer, its window zero and nothing
 *                    acknowledged for stallMs (sockstress: it never reads)  → dropStall
 *   idle             no byte read or acknowledged for idleMs (a peer that
 *                    vanished); with data outstanding and the window open
 *                    for IDLE_SENDING_FACTOR × idleMs: a peer that stops
 *                    ACKing is bounded here, not by stallMs, and a lossy
 *                    path in RTO backoff (seconds to tens of seconds without
 *                    an ACK at 20% loss) is not cut; when the slot is wanted
 *                    sooner, eviction takes it  → idleClosed
 *   eviction         all slots busy and a connection waits in the accept
 *                    queue: the slot that has waited longest for a request
 *                    or been without progress longest (at least evictMs),
 *                    or one of an address over its cap, is given to the
 *                    newcomer (a server that prefers fresh clients)  → evicted
 *   per-peer cap     an address may hold more than perPeer slots only while
 *                    slots are free; with all busy, its newcomer may only
 *                    replace one of its own idle slots, else it is refused
 *                    (RST), and another address's newcomer displaces its
 *                    longest-idle slot  → dropPerPeer (refused newcomers)
 *
 * Every drop above is abortive (SO_LINGER 0: RST, the TCB freed at once;
 * a vanished peer would otherwise keep an orphan retransmitting its FIN).
 * Progress is measured from the socket, not from the service's calls:
 * bytes read, and bytes acknowledged (SIOCOUTQ falling between runs).
 *
 * Place in the packet path: an application on the stream adapter
 * (stream.ts → tcp_api.ts). Driven by ServiceMux.run() after each
 * st.poll(); socket events only mark the service busy. Time is st.now().
 * Portable (Espruino, Lua): nothing is allocated after the constructor.
 */
import type { Stack } from '../stack';

/** idleMs is multiplied by this while data waits for the peer's ACK (RTO backoff) */
export const IDLE_SENDING_FACTOR = 4;
import { EAGAIN, EMFILE } from '../core/errno';
import { NetService } from './service';
import {
  streamListen, streamAccept, streamClose, streamAbort, streamAcceptReady, streamPeer, streamOutq, streamPeerWindow,
} from './stream';

/** serve() results besides "progress made" (> 0) and "nothing to do" (0) */
export const SERVE_CLOSE = -1; // graceful close (FIN after queued data)
export const SERVE_ABORT = -2; // abortive close (RST) / connection already dead

/** The slot limits every TCP service takes (times in ms of st.now()). */
export interface TcpLimits {
  /** connection slots (more wait in the listener's accept queue) */
  maxConns: number;
  /** drop a connection with no byte read or acknowledged for this long */
  idleMs: number;
  /** drop a connection with data queued, a zero window and nothing acknowledged for this long */
  stallMs: number;
  /** a request must arrive within this long (0: the protocol has no requests) */
  headerMs: number;
  /** a slot can be given to a newcomer after waiting for a request / without progress this long */
  evictMs: number;
  /** slots one peer address may keep when others want them; 0 = auto: max(2, ceil(maxConns / 2)) */
  perPeer: number;
}

/**
 * Board-sized defaults: few slots, so they are reclaimed sooner than on a
 * host (`slabnet up` uses UP_TCP_LIMITS-like values from src/cli/up.ts).
 */
export function defaultTcpLimits(): TcpLimits {
  return { maxConns: 4, idleMs: 15000, stallMs: 5000, headerMs: 0, evictMs: 1000, perPeer: 0 };
}

/** Copy of base with the fields of o that are set. */
export function tcpLimits(base: TcpLimits, o: Partial<TcpLimits> | null | undefined): TcpLimits {
  const r: TcpLimits = {
    maxConns: base.maxConns, idleMs: base.idleMs, stallMs: base.stallMs,
    headerMs: base.headerMs, evictMs: base.evictMs, perPeer: base.perPeer,
  };
  if (o !== null && o !== undefined) {
    if (o.maxConns !== undefined) r.maxConns = o.maxConns;
    if (o.idleMs !== undefined) r.idleMs = o.idleMs;
    if (o.stallMs !== undefined) r.stallMs = o.stallMs;
    if (o.headerMs !== undefined) r.headerMs = o.headerMs;
    if (o.evictMs !== undefined) r.evictMs = o.evictMs;
    if (o.perPeer !== undefined) r.perPeer = o.perPeer;
  }
  return r;
}

/** The TcpLimits of a stream service without requests (echo, discard): headerMs 0. */
export function echoLimits(maxConns: number, idleMs: number, lim?: Partial<TcpLimits>): TcpLimits {
  const l = tcpLimits(defaultTcpLimits(), lim);
  l.maxConns = maxConns;
  l.idleMs = idleMs;
  l.headerMs = 0;
  return l;
}

function isNum(v: number): boolean {
  return typeof v === 'number' && v === v;
}

/** '' when the limits are usable, else what is wrong (for a clear error at construction). */
export function checkTcpLimits(l: TcpLimits): string {
  if (!isNum(l.maxConns) || Math.floor(l.maxConns) !== l.maxConns || l.maxConns < 1 || l.maxConns > 4096) {
    return 'maxConns must be an integer 1..4096 (got ' + l.maxConns + ')';
  }
  if (!isNum(l.idleMs) || l.idleMs <= 0) return 'idleMs must be > 0 (got ' + l.idleMs + ')';
  if (!isNum(l.stallMs) || l.stallMs <= 0) return 'stallMs must be > 0 (got ' + l.stallMs + ')';
  if (!isNum(l.headerMs) || l.headerMs < 0) return 'headerMs must be >= 0, 0 = none (got ' + l.headerMs + ')';
  if (!isNum(l.evictMs) || l.evictMs < 0) return 'evictMs must be >= 0 (got ' + l.evictMs + ')';
  if (!isNum(l.perPeer) || Math.floor(l.perPeer) !== l.perPeer || l.perPeer < 0) {
    return 'perPeer must be an integer >= 0, 0 = auto (got ' + l.perPeer + ')';
  }
  return '';
}

/** The per-peer cap perPeer stands for. */
export function perPeerCap(l: TcpLimits): number {
  if (l.perPeer > 0) return l.perPeer;
  const half = Math.ceil(l.maxConns / 2);
  return half > 2 ? half : 2;
}

export abstract class TcpService implements NetService {
  abstract readonly name: string;
  readonly lim: TcpLimits;
  readonly maxConns: number;
  /** slots one address keeps when others want them */
  readonly cap: number;
  /** listener fd */
  lh = -1;
  /** connection fd per slot, -1 = free */
  readonly conn: Int32Array;
  /** st.now() of the last progress per slot (a byte read or acknowledged) */
  readonly lastActive: Float64Array;
  /** st.now() since which slot i waits for a request (header deadline clock), -1 = not waiting */
  readonly waitSince: Float64Array;
  /** SIOCOUTQ after the last serve() per slot */
  protected readonly outq: Int32Array;
  /** st.now() since which the slot's queued data has had no acknowledgement */
  private readonly stallFrom: Float64Array;
  /** peer address per slot */
  readonly peer: Int32Array;
  private readonly peerOut = new Int32Array(2);
  /* counters */
  accepted = 0;
  closed = 0;
  aborted = 0;
  idleClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  active = 0;
  maxActive = 0;
  /** no request within headerMs */
  dropHeaderTimeout = 0;
  /** queued data unacknowledged for stallMs */
  dropStall = 0;
  /** slots given to a newcomer */
  evicted = 0;
  /** newcomers refused: their address was at its cap with all slots busy */
  dropPerPeer = 0;

  constructor(
    readonly st: Stack,
    readonly port: number,
    lim: TcpLimits,
    readonly backlog: number,
  ) {
    const bad = checkTcpLimits(lim);
    if (bad !== '') throw new Error('tcp service on port ' + port + ': ' + bad);
    this.lim = lim;
    const n = lim.maxConns;
    this.maxConns = n;
    this.cap = perPeerCap(lim);
    this.conn = new Int32Array(n);
    this.conn.fill(-1);
    this.lastActive = new Float64Array(n);
    this.waitSince = new Float64Array(n);
    this.outq = new Int32Array(n);
    this.stallFrom = new Float64Array(n);
    this.peer = new Int32Array(n);
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
    let work = this.acceptNew(now);
    for (let i = 0; i < c.length; i++) {
      const h = c[i];
      if (h < 0) continue;
      // acknowledgements since the last run: SIOCOUTQ fell (only serve() adds to it)
      let q = streamOutq(st, h);
      if (q < 0) q = 0;
      if (q < this.outq[i]) {
        this.lastActive[i] = now;
        this.stallFrom[i] = now;
      }
      this.outq[i] = q;
      const r = this.serve(i, h);
      if (r === SERVE_CLOSE || r === SERVE_ABORT) {
        this.release(i, r === SERVE_ABORT);
        work++;
        continue;
      }
      if (r > 0) {
        this.lastActive[i] = now;
        work += r;
      }
      q = streamOutq(st, h);
      if (q < 0) q = 0;
      if (q === 0 || this.outq[i] === 0) this.stallFrom[i] = now; // nothing queued, or newly queued
      this.outq[i] = q;
      const lim = this.lim;
      if (lim.headerMs > 0 && this.waitSince[i] >= 0 && now - this.waitSince[i] > lim.headerMs) {
        this.dropHeaderTimeout++;
        this.release(i, true);
      } else if (q > 0 && now - this.stallFrom[i] > lim.stallMs && streamPeerWindow(st, h) === 0) {
        this.dropStall++;
        this.release(i, true);
      } else if (now - this.lastActive[i] > (q > 0 ? IDLE_SENDING_FACTOR * lim.idleMs : lim.idleMs)) {
        this.idleClosed++;
        this.release(i, true);
      }
    }
    return work;
  }

  /* ---------------- slot policy ---------------- */

  /** How long slot i has waited for a request, or been without progress (ms). */
  protected age(i: number, now: number): number {
    const w = this.waitSince[i];
    return now - (w >= 0 ? w : this.lastActive[i]);
  }

  /** Slots held by address a. */
  private peerCount(a: number): number {
    let n = 0;
    const c = this.conn;
    for (let i = 0; i < c.length; i++) if (c[i] >= 0 && this.peer[i] === a) n++;
    return n;
  }

  private freeSlot(): number {
    const c = this.conn;
    for (let i = 0; i < c.length; i++) if (c[i] < 0) return i;
    return -1;
  }

  /**
   * The slot to give to a newcomer from address a (a = 0 with own = false:
   * address not known yet), or -1. own: only a's own slots that have been
   * waiting / without progress for evictMs. Otherwise: a slot of an address
   * over its cap (longest idle first), else the longest-waiting slot of at
   * least evictMs.
   */
  private victim(a: number, own: boolean, now: number): number {
    const c = this.conn;
    const min = this.lim.evictMs;
    let best = -1;
    let bestOver = false;
    let bestAge = -1;
    for (let i = 0; i < c.length; i++) {
      if (c[i] < 0) continue;
      const age = this.age(i, now);
      if (own) {
        if (this.peer[i] !== a || age < min) continue;
        if (age > bestAge) {
          best = i;
          bestAge = age;
        }
        continue;
      }
      const over = this.peer[i] !== a && this.peerCount(this.peer[i]) > this.cap;
      if (!over && age < min) continue;
      if ((over && !bestOver) || (over === bestOver && age > bestAge)) {
        best = i;
        bestOver = over;
        bestAge = age;
      }
    }
    return best;
  }

  /**
   * Take connections from the accept queue while a slot is free or one can
   * be reclaimed for them (bounded: maxConns per run).
   */
  private acceptNew(now: number): number {
    const st = this.st;
    let work = 0;
    for (let k = 0; k < this.maxConns; k++) {
      if (!streamAcceptReady(st, this.lh)) break;
      let slot = this.freeSlot();
      if (slot < 0 && this.victim(0, false, now) < 0) break; // all busy and making progress: it waits
      let h = streamAccept(st, this.lh);
      if (h === -EMFILE && slot < 0) {
        // no fd for the newcomer while every slot holds one: reclaim first
        const v = this.victim(0, false, now);
        this.evicted++;
        this.release(v, true);
        slot = v;
        h = streamAccept(st, this.lh);
      }
      if (h < 0) break; // -EAGAIN: gone meanwhile; -EMFILE: fd table full, it stays queued
      const a = streamPeer(st, h, this.peerOut) === 0 ? this.peerOut[0] : 0;
      if (slot < 0) {
        const own = this.peerCount(a) >= this.cap;
        const v = this.victim(a, own, now);
        if (v < 0) {
          // its address is at its cap and has nothing idle to give up: refused
          this.dropPerPeer++;
          streamAbort(st, h);
          work++;
          continue;
        }
        this.evicted++;
        this.release(v, true);
        slot = v;
      }
      this.conn[slot] = h;
      this.peer[slot] = a;
      this.lastActive[slot] = now;
      this.stallFrom[slot] = now;
      this.outq[slot] = 0;
      this.waitSince[slot] = -1; // onOpen() starts the request clock if the protocol has requests
      this.accepted++;
      this.active++;
      if (this.active > this.maxActive) this.maxActive = this.active;
      this.onOpen(slot);
      work++;
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
      dropHeaderTimeout: this.dropHeaderTimeout,
      dropStall: this.dropStall,
      evicted: this.evicted,
      dropPerPeer: this.dropPerPeer,
    };
    this.addStats(o);
    return o;
  }
}

/** -EAGAIN, as a constant the subclasses compare with. */
export const NEG_EAGAIN = -EAGAIN;
