/*
 * bits.ts — integer helpers that behave the same in JavaScript (int32
 * bit operators, float numbers) and in Lua 5.3 (64-bit integers, where
 * `>>> 0` and `| 0` do NOT wrap to 32 bits). Use these instead of bare
 * `>>> 0` / `| 0` wherever a value may leave the 32-bit range.
 * Sequence-number comparisons (RFC 9293 §3.4, RFC 1982) live here too.
 */

/** Wrap to an unsigned 32-bit value (0 .. 2^32-1). */
export function u32(x: number): number {
  return (x & 0xffffffff) >>> 0;
}

/** Wrap to a signed 32-bit value (-2^31 .. 2^31-1). */
export function s32(x: number): number {
  const y = x & 0xffffffff; // JS: already signed; Lua: 0 .. 2^32-1
  return y >= 0x80000000 ? y - 0x100000000 : y;
}

/** a precedes b in 32-bit sequence space. */
export function before(a: number, b: number): boolean {
  return s32(a - b) < 0;
}

/** a follows b in 32-bit sequence space. */
export function after(a: number, b: number): boolean {
  return s32(b - a) < 0;
}

/** Integer division that yields an integer in Lua too (operands >= 0). */
export function idiv(a: number, b: number): number {
  return Math.floor(a / b);
}
