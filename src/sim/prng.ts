/*
 * prng.ts — the simulation's seeded pseudo-random source (not part of the
 * packet path). xorshift128 (Marsaglia 2003) on four 32-bit words, using
 * only shifts, xor and u32() wrapping, so the very same sequence comes out
 * of JavaScript and of Lua 5.3 (no Math.imul, no float tricks). Every fault
 * the simulation injects (loss, duplication, reordering, corruption,
 * jitter) and every seed handed to a simulated stack is drawn from one
 * SimRng: a run is fully determined by its seed.
 */
import { u32 } from '../core/bits';
import type { Rng } from '../core/rng';

export class SimRng implements Rng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = u32(seed);
    // expand the seed with xorshift32 (never all-zero)
    let s = this.seed === 0 ? 0x9e3779b9 : this.seed;
    s = xs32(s);
    this.x = s;
    s = xs32(s);
    this.y = s;
    s = xs32(s);
    this.z = s;
    s = xs32(s);
    this.w = s;
    // warm up: decorrelate neighbouring seeds
    for (let i = 0; i < 16; i++) this.next32();
  }

  /** uniform 32-bit unsigned integer */
  next32(): number {
    const t = u32(this.x ^ (this.x << 11));
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    const w = this.w;
    this.w = u32(w ^ (w >>> 19) ^ (t ^ (t >>> 8)));
    return this.w;
  }

  /** uniform float in [0, 1) */
  next(): number {
    return this.next32() / 4294967296;
  }

  /** uniform integer in [0, n) (n >= 1) */
  below(n: number): number {
    if (n <= 1) return 0;
    return Math.floor(this.next() * n);
  }

  /** true with probability p (no draw when p <= 0 or p >= 1) */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** uniform float in [a, b) */
  range(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
}

function xs32(v: number): number {
  let x = v;
  x = u32(x ^ (x << 13));
  x = u32(x ^ (x >>> 17));
  x = u32(x ^ (x << 5));
  return x;
}
