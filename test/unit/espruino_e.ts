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

export interface EspruinoE {
  sum(a: ArrayLike<number>): number;
  convolve(a1: ArrayLike<number>, a2: ArrayLike<number>, offset: number): number;
  toString(b: Uint8Array): string;
  toUint8Array(s: string): Uint8Array;
}

export const espruinoE: EspruinoE = {
  sum(a: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s;
  },
  convolve(a1: ArrayLike<number>, a2: ArrayLike<number>, offset: number): number {
    const l = a2.length;
    if (l === 0) throw new Error('E.convolve: empty second array (a division by zero in Espruino)');
    let o = offset % l;
    if (o < 0) o += l;
    let v = 0;
    for (let i = 0; i < a1.length; i++) v += a1[i] * a2[(i + o) % l];
    return v;
  },
  toString(b: Uint8Array): string {
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  },
  toUint8Array(s: string): Uint8Array {
    const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 0xff;
    return u;
  },
};

/** Install globalThis.E (unless one is there); returns the function that removes it again. */
export function installEspruinoE(): () => void {
  const g = globalThis as unknown as { E?: EspruinoE };
  if (g.E !== undefined) return () => {};
  g.E = espruinoE;
  return () => {
    delete g.E;
  };
}
