/*
 * clock.ts — the injected time source. The stack never reads wall time
 * itself: the simulation hands it virtual milliseconds, a board hands it
 * getTime()*1000, the host process hands it performance.now().
 */
export interface Clock {
  /** monotonic milliseconds */
  now(): number;
}

/** A clock the owner advances by hand (tests, simulation). */
export class ManualClock implements Clock {
  t: number;
  constructor(start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
