/*
 * rng.ts — the stack's injected random source (ISNs, ARP jitter, IP IDs,
 * ephemeral ports). Deterministic when seeded, so a simulation replays
 * exactly. xorshift32: integer-only, same sequence in JavaScript and Lua.
 */
import { u32 } from './bits';

export interface Rng {
  /** uniform 32-bit unsigned integer */
  next32(): number;
  /**
   * Optional: the low 16 bits of the next next32(), computed inside, so the
   * value crossing the call is always a small integer (in V8 an unsigned
   * 32-bit result >= 2^31 is a heap-allocated number whenever the call is
   * not inlined). rand16() falls back to next32() & 0xffff.
   */
  next16?(): number;
}

/** 16 random bits (DNS IDs and ports, RFC 5452): rng.next16() when it has one. */
export function rand16(r: Rng): number {
  return r.next16 !== undefined ? r.next16() : r.next32() & 0xffff;
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
  /** next32() & 0xffff (the same step of the sequence), never a boxed number */
  next16(): number {
    let x = this.s;
    x = u32(x ^ (x << 13));
    x = u32(x ^ (x >>> 17));
    x = u32(x ^ (x << 5));
    this.s = x;
    return x & 0xffff;
  }
  /** uniform integer in [0, n) */
  below(n: number): number {
    return this.next32() % n;
  }
}
