/*
 * link.ts — the simulated wire (not part of the stack's packet path; it
 * sits below every SimNic). Two pieces:
 *
 *  - FramePool: every frame "in flight" anywhere in the simulation lives
 *    in one of a fixed number of byte slots of one preallocated
 *    Uint8Array, with its virtual arrival time and where it goes next.
 *    No allocation per frame: when the slots run out the frame is dropped
 *    and counted (like a switch running out of packet buffers).
 *
 *  - LinkDir: one direction of one cable (host→switch or switch→host)
 *    with its fault model: fixed delay + jitter, rate limit (a frame
 *    cannot start before the previous one finished serialising),
 *    random loss, duplication, reordering (extra random delay),
 *    corruption (one random byte flipped) and outages ("down for N ms").
 *    Every random decision comes from the simulation's SimRng, in a fixed
 *    order, so a seed replays exactly.
 */
import type { SimRng } from './prng';

export const SLOT_FREE = 0;
export const SLOT_SCHED = 1;
export const SLOT_HELD = 2;

/** Where a scheduled frame goes when its time comes. */
export const KIND_TO_SWITCH = 1;
export const KIND_TO_HOST = 2;

export class FramePool {
  readonly slots: number;
  readonly slotSize: number;
  /** all slot bytes: slot s occupies [s*slotSize, (s+1)*slotSize) */
  readonly data: Uint8Array;
  readonly len: Int32Array;
  readonly time: Float64Array;
  /** scheduling order for equal times */
  readonly seq: Float64Array;
  readonly state: Uint8Array;
  readonly kind: Int32Array;
  readonly target: Int32Array;
  /** free list / FIFO link */
  readonly next: Int32Array;
  private freeHead: number;
  private seqCounter = 0;
  /** slots in SLOT_SCHED */
  scheduled = 0;
  inUse = 0;
  high = 0;
  /** allocations refused: every slot busy */
  exhausted = 0;

  constructor(slots: number, slotSize: number) {
    this.slots = slots;
    this.slotSize = slotSize;
    this.data = new Uint8Array(slots * slotSize);
    this.len = new Int32Array(slots);
    this.time = new Float64Array(slots);
    this.seq = new Float64Array(slots);
    this.state = new Uint8Array(slots);
    this.kind = new Int32Array(slots);
    this.target = new Int32Array(slots);
    this.next = new Int32Array(slots);
    this.freeHead = -1;
    for (let i = slots - 1; i >= 0; i--) {
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
  }

  off(s: number): number {
    return s * this.slotSize;
  }

  /** A free slot (state HELD), or -1 (counted in `exhausted`). */
  alloc(): number {
    const s = this.freeHead;
    if (s < 0) {
      this.exhausted++;
      return -1;
    }
    this.freeHead = this.next[s];
    this.next[s] = -1;
    this.state[s] = SLOT_HELD;
    this.len[s] = 0;
    this.inUse++;
    if (this.inUse > this.high) this.high = this.inUse;
    return s;
  }

  free(s: number): void {
    if (s < 0 || s >= this.slots || this.state[s] === SLOT_FREE) return;
    if (this.state[s] === SLOT_SCHED) this.scheduled--;
    this.state[s] = SLOT_FREE;
    this.next[s] = this.freeHead;
    this.freeHead = s;
    this.inUse--;
  }

  /** Make a HELD slot due at virtual time `at`, then handled by kind/target. */
  schedule(s: number, at: number, kind: number, target: number): void {
    this.time[s] = at;
    this.seq[s] = this.seqCounter++;
    this.kind[s] = kind;
    this.target[s] = target;
    this.state[s] = SLOT_SCHED;
    this.scheduled++;
  }

  /** The scheduled slot due first (time, then scheduling order) if due at `now`; else -1. Unschedules it (HELD). */
  takeDue(now: number): number {
    if (this.scheduled === 0) return -1;
    let best = -1;
    let bt = 0;
    let bs = 0;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] !== SLOT_SCHED) continue;
      const t = this.time[s];
      if (t > now) continue;
      if (best < 0 || t < bt || (t === bt && this.seq[s] < bs)) {
        best = s;
        bt = t;
        bs = this.seq[s];
      }
    }
    if (best >= 0) {
      this.state[best] = SLOT_HELD;
      this.scheduled--;
    }
    return best;
  }

  /** Earliest scheduled time, or -1 when nothing is in flight. */
  nextTime(): number {
    if (this.scheduled === 0) return -1;
    let bt = -1;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] === SLOT_SCHED && (bt < 0 || this.time[s] < bt)) bt = this.time[s];
    }
    return bt;
  }
}

/** Fault model of one link direction. All probabilities in [0, 1]; times in ms. */
export class LinkFaults {
  /** probability a frame is lost */
  loss = 0;
  /** probability a frame is delivered twice */
  dup = 0;
  /** probability a frame gets an extra random delay in [0, reorderMs) */
  reorder = 0;
  reorderMs = 5;
  /** probability one random byte (at offset >= corruptFrom) is flipped */
  corrupt = 0;
  corruptFrom = 0;
  /** fixed propagation delay */
  delayMs = 0;
  /** extra uniform random delay in [0, jitterMs) */
  jitterMs = 0;
  /** serialisation rate in bits/s; 0 = infinitely fast */
  rateBps = 0;
  /** with a rate: drop when the transmit backlog exceeds this many ms (0 = unbounded) */
  queueLimitMs = 0;

  /** Copy fields from a partial description (configuration time). */
  set(f: Partial<LinkFaultsInit>): LinkFaults {
    const src = f as { [k: string]: unknown };
    const dst = this as unknown as { [k: string]: unknown };
    for (const k in src) if (src[k] !== undefined && typeof dst[k] === 'number') dst[k] = src[k];
    return this;
  }
}

export interface LinkFaultsInit {
  loss: number;
  dup: number;
  reorder: number;
  reorderMs: number;
  corrupt: number;
  corruptFrom: number;
  delayMs: number;
  jitterMs: number;
  rateBps: number;
  queueLimitMs: number;
}

/** One direction of a cable: faults, serialiser state, counters. */
export class LinkDir {
  readonly faults = new LinkFaults();
  /** the serialiser is busy until this time */
  busyUntil = 0;
  /** frames entering before this time are lost (outage) */
  downUntil = -1;
  /* counters */
  frames = 0;
  bytes = 0;
  scheduled = 0;
  lost = 0;
  duplicated = 0;
  reordered = 0;
  corrupted = 0;
  outageDrops = 0;
  queueDrops = 0;
  noSlot = 0;
  tooBig = 0;

  constructor(readonly name: string) {}

  /** Take the link down for ms (from now). */
  outage(now: number, ms: number): void {
    this.downUntil = now + ms;
  }

  /**
   * Put a frame on this direction at time `now`: copy src[off..off+len)
   * into pool slot(s) scheduled at their arrival time for (kind, target).
   * Returns the number of copies scheduled (0 = lost/dropped, counted).
   */
  send(pool: FramePool, rng: SimRng, now: number, src: Uint8Array, off: number, len: number, kind: number, target: number): number {
    const f = this.faults;
    this.frames++;
    this.bytes += len;
    if (len > pool.slotSize || len <= 0) {
      this.tooBig++;
      return 0;
    }
    if (now < this.downUntil) {
      this.outageDrops++;
      return 0;
    }
    let t = now;
    if (f.rateBps > 0) {
      const start = this.busyUntil > now ? this.busyUntil : now;
      if (f.queueLimitMs > 0 && start - now > f.queueLimitMs) {
        this.queueDrops++;
        return 0;
      }
      t = start + (len * 8 * 1000) / f.rateBps;
      this.busyUntil = t;
    }
    if (rng.chance(f.loss)) {
      this.lost++;
      return 0;
    }
    let copies = 1;
    if (rng.chance(f.dup)) {
      copies = 2;
      this.duplicated++;
    }
    let n = 0;
    for (let c = 0; c < copies; c++) {
      const s = pool.alloc();
      if (s < 0) {
        this.noSlot++;
        continue;
      }
      const d = pool.data;
      const o = pool.off(s);
      if (d === src) {
        for (let i = 0; i < len; i++) d[o + i] = d[off + i];
      } else {
        for (let i = 0; i < len; i++) d[o + i] = src[off + i];
      }
      pool.len[s] = len;
      if (rng.chance(f.corrupt) && len > f.corruptFrom) {
        const pos = f.corruptFrom + rng.below(len - f.corruptFrom);
        d[o + pos] = (d[o + pos] ^ (1 + rng.below(255))) & 0xff;
        this.corrupted++;
      }
      let at = t + f.delayMs;
      if (f.jitterMs > 0) at += rng.next() * f.jitterMs;
      if (rng.chance(f.reorder)) {
        at += rng.next() * f.reorderMs;
        this.reordered++;
      }
      pool.schedule(s, at, kind, target);
      this.scheduled++;
      n++;
    }
    return n;
  }

  /** Counters as a plain object (reports). */
  stats(): { [k: string]: number } {
    return {
      frames: this.frames,
      bytes: this.bytes,
      scheduled: this.scheduled,
      lost: this.lost,
      duplicated: this.duplicated,
      reordered: this.reordered,
      corrupted: this.corrupted,
      outageDrops: this.outageDrops,
      queueDrops: this.queueDrops,
      noSlot: this.noSlot,
      tooBig: this.tooBig,
    };
  }
}
