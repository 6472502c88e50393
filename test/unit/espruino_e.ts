/*
 * espruino_e.ts — Espruino's `E` object, the parts the stack's native paths
 * (src/features.ts RUNTIME_ESPRUINO) and the NetworkJS adapter call, for
 * running them under Node: in unit tests, and when an Espruino bundle runs
 * in Node (test/build/espruino-check.test.ts). Each behaves as Espruino
 * 2v29's does for the arguments the stack passes:
 *   E.sum(a)           the sum of a's elements as numbers (a double; Espruino
 *                      iterates the array and adds each element as a float)
 *   E.convolve(a1, a2, offset)  sum of a1[i] * a2[(i + offset) % a2.length]
 *                      over a1 (Espruino divides by a2's length: never pass
 *                      an empty a2)
 *   E.toString(u8)     a binary string, one char per byte
 *   E.toUint8Array(s)  the string's chars as bytes (& 0xff)
 */

import { espruinoGlobals } from '../../src/host/bundle';

export interface EspruinoE {
  sum(a: ArrayLike<number>): number;
  convolve(a1: ArrayLike<number>, a2: ArrayLike<number>, offset: number): number;
  toString(b: Uint8Array): string;
  toUint8Array(s: string): Uint8Array;
}

/** The one Node version of Espruino's E (src/host/bundle.ts, also what `slabnet up --board` gives a bundle). */
export const espruinoE: EspruinoE = espruinoGlobals().E;

/** Install globalThis.E (unless one is there); returns the function that removes it again. */
export function installEspruinoE(): () => void {
  const g = globalThis as unknown as { E?: EspruinoE };
  if (g.E !== undefined) return () => {};
  g.E = espruinoE;
  return () => {
    delete g.E;
  };
}
