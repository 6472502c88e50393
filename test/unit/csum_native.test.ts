/*
 * csum_native.test.ts — csumNative, the Espruino checksum path (E.sum over
 * a little-endian Uint16Array view, src/core/checksum.ts), run under Node
 * with an E.sum shim that sums like Espruino's: against the JavaScript
 * loop (csumPartial as Node runs it) and a word-by-word RFC 1071
 * reference, on random data, at every parity of the view's byte offset,
 * of the range's start and of its length, with running sums carried in.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { csumNative, csumPartial, csumPartialCopy, csumFold, csumFinish, csumBlockAdd } from '../../src/core/checksum';
import { RUNTIME_ESPRUINO } from '../../src/features';
import { installEspruinoE } from './espruino_e';
import { lcg } from './tcp_util';

/** RFC 1071 §4.1, a 16-bit word at a time (big-endian words, odd byte padded with zero), folded. */
function refSum(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  return csumFold(s);
}

function randomBytes(n: number, rnd: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

describe('csumNative (Espruino: E.sum over a Uint16Array view)', () => {
  let restore: () => void = () => {};
  beforeAll(() => {
    restore = installEspruinoE();
  });
  afterAll(() => restore());

  it('this file runs the Node build (csumPartial is the JavaScript loop)', () => {
    expect(RUNTIME_ESPRUINO).toBe(false);
  });

  it('equals the JavaScript loop and the reference after folding: every parity of view offset, start and length', () => {
    const rnd = lcg(1071);
    const backing = randomBytes(4200, rnd);
    let cases = 0;
    for (const viewOff of [0, 1, 2, 3]) {
      // a view at an odd byte offset of its buffer, as an skb's subarray can be
      const b = backing.subarray(viewOff, viewOff + 4000);
      for (const start of [0, 1, 2, 3, 14, 33]) {
        for (let len = 0; len <= 67; len++) {
          const sum = Math.floor(rnd() * 0x3fffffff);
          const want = refSum(b, start, len, sum);
          expect(csumFold(csumPartial(b, start, len, sum))).toBe(want);
          expect(csumFold(csumNative(b, start, len, sum)), `view+${viewOff} start ${start} len ${len}`).toBe(want);
          cases++;
        }
        for (const len of [1448, 1459, 1460, 1480, 1499, 1500, 3000, 3001]) {
          const want = refSum(b, start, len, 0);
          expect(csumFold(csumNative(b, start, len, 0))).toBe(want);
          expect(csumFinish(csumNative(b, start, len, 0))).toBe(csumFinish(csumPartial(b, start, len, 0)));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(1500);
  });

  it('random ranges of random buffers', () => {
    const rnd = lcg(9293);
    for (let k = 0; k < 2000; k++) {
      const n = 1 + Math.floor(rnd() * 1600);
      const buf = randomBytes(n + 8, rnd);
      const view = buf.subarray(Math.floor(rnd() * 8));
      const off = Math.floor(rnd() * (view.length + 1));
      const len = Math.floor(rnd() * (view.length - off + 1));
      const sum = Math.floor(rnd() * 0x40000000);
      expect(csumFold(csumNative(view, off, len, sum))).toBe(csumFold(csumPartial(view, off, len, sum)));
    }
  });

  it('all-0xff and all-zero data: the fold never turns a nonzero sum into 0 (0x0000 vs 0xffff stays exact)', () => {
    for (const fill of [0x00, 0xff]) {
      for (const viewOff of [0, 1]) {
        const b = new Uint8Array(3100).fill(fill).subarray(viewOff);
        for (const len of [0, 1, 2, 3, 20, 1500, 1501, 3000]) {
          for (const start of [0, 1]) {
            expect(csumFold(csumNative(b, start, len, 0))).toBe(refSum(b, start, len, 0));
            expect(csumFinish(csumNative(b, start, len, 0))).toBe(csumFinish(csumPartial(b, start, len, 0)));
          }
        }
      }
    }
  });

  it('ranges longer than one E.sum call (32768 words) stay exact: the double sum never exceeds 2^31', () => {
    const rnd = lcg(7);
    const b = new Uint8Array(140011).fill(0xff);
    for (let i = 0; i < 5000; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    for (const [off, len] of [[0, 140011], [1, 140010], [3, 131072], [0, 65536], [0, 65537], [1, 65537]]) {
      expect(csumFold(csumNative(b, off, len, 0x3fffffff))).toBe(refSum(b, off, len, 0x3fffffff));
    }
  });

  it('a payload summed in two pieces (ring wrap, odd first piece) with csumBlockAdd matches the whole', () => {
    const rnd = lcg(5);
    const b = randomBytes(1600, rnd).subarray(1);
    for (const first of [0, 1, 2, 7, 700, 1459]) {
      const whole = csumFold(csumPartial(b, 3, 1460, 0x1234));
      const s = csumBlockAdd(csumNative(b, 3, first, 0x1234), csumNative(b, 3 + first, 1460 - first, 0), first);
      expect(csumFold(s)).toBe(whole);
    }
  });

  it('csumPartialCopy (the Node loop) agrees with copy + csumNative', () => {
    const rnd = lcg(11);
    const src = randomBytes(2000, rnd);
    for (const [soff, doff, len] of [[0, 0, 1460], [1, 2, 1459], [3, 1, 64], [2, 3, 1]]) {
      const d1 = new Uint8Array(1600);
      const d2 = new Uint8Array(1600);
      const s1 = csumPartialCopy(d1, doff, src, soff, len, 99);
      d2.set(src.subarray(soff, soff + len), doff);
      expect(Array.from(d1)).toEqual(Array.from(d2));
      expect(csumFold(s1)).toBe(csumFold(csumNative(d2, doff, len, 99)));
    }
  });
});
