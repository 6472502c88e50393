/*
 * rng.ts — the stack's injected random source (ISNs, ARP jitter, IP IDs,
 * ephemeral ports). Deterministic when seeded, so a simulation replays
 * exactly. xorshift32: integer-only, same sequence in JavaScript and Lua.
 */
import { u32 } from './bits';

export interface Rng {
  /** uniform 32-bit unsigned integer */
  next32(): number;
}

export class XorShift32 implements Rng {
  private s: number;
  constructor(seed: number) {
    this.s = u32(seed) === 0 ? 0x9e3779b9 : u32(seed);
  }
  next32(): number {
    let x = this.s;
    x = u32(x ^ (x << 13));
    x = u32(x ^ (x >>> 17));
    x = u32(x ^ (x << 5));
    this.s = x;
    return x;
  }
  /** uniform integer in [0, n) */
  below(n: number): number {
    return this.next32() % n;
  }
}
