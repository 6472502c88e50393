/*
 * timer.ts — a hashed timer wheel driven by an injected clock (the
 * kernel's timer_list / mod_timer / del_timer, without allocation).
 *
 * Timers are registered once at start-up (register → id). Arming is
 * mod(id, expiresAtMs); disarming is del(id). run(now) fires every timer
 * whose expiry is <= now, in expiry-slot order. A timer may re-arm
 * itself from its callback. Nothing is allocated after construction.
 */

export interface TimerHandler {
  onTimer(arg: number): void;
}

const NIL = -1;

export class TimerWheel {
  readonly max: number;
  readonly slots: number;
  readonly tickMs: number;
  private readonly handlers: TimerHandler[] = [];
  private readonly args: Int32Array;
  readonly expires: Float64Array;
  private readonly nextT: Int32Array;
  private readonly prevT: Int32Array;
  /** slot index the timer is linked in, -1 when not pending */
  private readonly slotOf: Int32Array;
  /** runTick at the time of arming (-1 outside run): a timer re-armed while its
   *  own slot is being walked is left for the next run (no same-slot spin). */
  private readonly armTick: Float64Array;
  private readonly slotHead: Int32Array;
  private registered = 0;
  private curTick = 0;
  private started = false;
  /** earliest tick armed before the first run(), so that run starts its walk there */
  private firstTick = -1;
  private runTick = -1;
  active = 0;
  fired = 0;

  constructor(maxTimers: number, slots: number, tickMs: number) {
    this.max = maxTimers;
    this.slots = slots;
    this.tickMs = tickMs;
    this.args = new Int32Array(maxTimers);
    this.expires = new Float64Array(maxTimers);
    this.nextT = new Int32Array(maxTimers);
    this.prevT = new Int32Array(maxTimers);
    this.slotOf = new Int32Array(maxTimers);
    this.slotOf.fill(NIL);
    this.armTick = new Float64Array(maxTimers);
    this.slotHead = new Int32Array(slots);
    this.slotHead.fill(NIL);
  }

  /** Register a timer (start-up only). Returns its id, or -1 when the table is full. */
  register(h: TimerHandler, arg: number): number {
    if (this.registered >= this.max) return -1;
    const id = this.registered++;
    this.handlers.push(h);
    this.args[id] = arg;
    return id;
  }

  pending(id: number): boolean {
    return this.slotOf[id] !== NIL;
  }

  /** Arm (or re-arm) timer id to fire at absolute time `at` (ms). */
  mod(id: number, at: number): void {
    if (this.slotOf[id] !== NIL) this.unlink(id);
    let tick = Math.floor(at / this.tickMs);
    if (this.started && tick < this.curTick) tick = this.curTick;
    if (!this.started && (this.firstTick < 0 || tick < this.firstTick)) this.firstTick = tick;
    // re-armed from a callback for a slot already walked: the next slot,
    // so a timer that keeps re-arming itself in the past cannot spin.
    if (this.runTick >= 0 && tick <= this.runTick) tick = this.runTick + 1;
    const s = tick % this.slots;
    this.expires[id] = at;
    this.armTick[id] = this.runTick;
    this.slotOf[id] = s;
    this.prevT[id] = NIL;
    const h = this.slotHead[s];
    this.nextT[id] = h;
    if (h !== NIL) this.prevT[h] = id;
    this.slotHead[s] = id;
    this.active++;
  }

  /** Disarm; harmless when not pending. */
  del(id: number): void {
    if (this.slotOf[id] !== NIL) this.unlink(id);
  }

  private unlink(id: number): void {
    const s = this.slotOf[id];
    const p = this.prevT[id];
    const n = this.nextT[id];
    if (p !== NIL) this.nextT[p] = n;
    else this.slotHead[s] = n;
    if (n !== NIL) this.prevT[n] = p;
    this.slotOf[id] = NIL;
    this.active--;
  }

  /** Fire all timers due at `now`. Returns how many fired. */
  run(now: number): number {
    const nowTick = Math.floor(now / this.tickMs);
    if (!this.started) {
      this.started = true;
      // timers armed before the first run may sit in slots behind "now":
      // start the walk at the earliest of them (bounded to one revolution below)
      this.curTick = this.firstTick >= 0 && this.firstTick < nowTick ? this.firstTick : nowTick;
    }
    let count = 0;
    if (this.active === 0) {
      if (nowTick > this.curTick) this.curTick = nowTick;
      return 0;
    }
    // walk at most one full revolution, then the current slot
    let t = this.curTick;
    const last = nowTick - t >= this.slots ? t + this.slots - 1 : nowTick;
    for (; t <= last; t++) {
      this.runTick = t;
      const s = t % this.slots;
      let id = this.slotHead[s];
      while (id !== NIL) {
        const nx = this.nextT[id];
        if (this.expires[id] <= now && this.armTick[id] !== t) {
          this.unlink(id);
          count++;
          this.fired++;
          this.handlers[id].onTimer(this.args[id]);
          // the callback may have changed this slot's list: restart it
          id = this.slotHead[s];
          continue;
        }
        id = nx;
      }
    }
    this.runTick = -1;
    this.curTick = nowTick;
    return count;
  }

  /** Earliest pending expiry (ms), or -1 when none. O(max): for simulators skipping idle time. */
  nextExpiry(): number {
    let best = -1;
    for (let id = 0; id < this.registered; id++) {
      if (this.slotOf[id] !== NIL) {
        const e = this.expires[id];
        if (best < 0 || e < best) best = e;
      }
    }
    return best;
  }
}
