/*
 * bytes.ts — big-endian (network order) field access and byte copies on
 * Uint8Array. Every write masks its value: a Lua byte-array shim does not
 * truncate like a JavaScript typed array does (DESIGN.md zero-GC rule 5).
 *
 * Copies and fills pick their path at build time (src/features.ts
 * RUNTIME_ESPRUINO): on Node and Lua, JavaScript loops (no view is
 * created: a view is an allocation); in Espruino's interpreter, where a
 * loop step costs microseconds, the native Uint8Array.prototype.set over a
 * subarray view (a 1460-byte copy: ~0.1 ms instead of ~9 ms) and fill. The
 * view is a few JsVars freed as soon as the call returns (Espruino counts
 * references; there is no collector to wake).
 */
import { u32 } from './bits';
import { RUNTIME_ESPRUINO } from '../features';

export function get8(b: Uint8Array, o: number): number {
  return b[o];
}

export function put8(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
}

export function get16(b: Uint8Array, o: number): number {
  return ((b[o] << 8) | b[o + 1]) & 0xffff;
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function get32(b: Uint8Array, o: number): number {
  return u32(b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]));
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/**
 * Copy len bytes; regions may overlap (memmove semantics). The forward
 * copy is unrolled by 8: on V8 this halves the cost per byte (fewer
 * bounds checks and loop branches), on Lua it saves 7 of 8 loop
 * iterations. Measured by `npm run bench -- --only tcp_bulk` (every
 * segment is copied at least 4 times).
 *
 * Espruino: one native set(). TypedArray.prototype.set copies as if
 * through a temporary when source and target share a buffer (ECMA-262,
 * %TypedArray%.prototype.set: SetTypedArrayFromTypedArray clones the
 * source's bytes first), so it is memmove-safe, and
 * Espruino 2v29's set() does the same (both directions checked in the
 * interpreter). It also avoids `dst === src`: Espruino 2v29 compares two
 * typed arrays by converting both to strings ("0,0,0,...": jsvMathsOp in
 * its src/jsvar.c), ~1.5 ms and kilobytes of transient JsVars per
 * 1600-byte skb buffer, more than the copy itself.
 */
export function copyBytes(dst: Uint8Array, doff: number, src: Uint8Array, soff: number, len: number): void {
  if (RUNTIME_ESPRUINO) {
    if (len > 0) dst.set(src.subarray(soff, soff + len), doff);
    return;
  }
  if (dst === src && doff > soff && doff < soff + len) {
    for (let i = len - 1; i >= 0; i--) dst[doff + i] = src[soff + i];
    return;
  }
  let i = soff;
  let j = doff;
  const end = soff + len;
  const e8 = end - 7;
  for (; i < e8; i += 8, j += 8) {
    dst[j] = src[i];
    dst[j + 1] = src[i + 1];
    dst[j + 2] = src[i + 2];
    dst[j + 3] = src[i + 3];
    dst[j + 4] = src[i + 4];
    dst[j + 5] = src[i + 5];
    dst[j + 6] = src[i + 6];
    dst[j + 7] = src[i + 7];
  }
  for (; i < end; i++, j++) dst[j] = src[i];
}

/**
 * Copy len bytes of src[off..] into the ring buffer `ring` at position
 * pos (wrapping at ring.length; len <= ring.length). Returns the position
 * after the last byte written. Two linear copies instead of a per-byte
 * wrap test (for socket send/receive rings).
 */
export function copyToRing(ring: Uint8Array, pos: number, src: Uint8Array, off: number, len: number): number {
  const size = ring.length;
  let first = size - pos;
  if (first > len) first = len;
  copyBytes(ring, pos, src, off, first);
  if (len > first) copyBytes(ring, 0, src, off + first, len - first);
  let p = pos + len;
  if (p >= size) p -= size;
  return p;
}

/** Copy len bytes out of the ring buffer from position pos into dst[off..]; returns the position after them. */
export function copyFromRing(dst: Uint8Array, off: number, ring: Uint8Array, pos: number, len: number): number {
  const size = ring.length;
  let first = size - pos;
  if (first > len) first = len;
  copyBytes(dst, off, ring, pos, first);
  if (len > first) copyBytes(dst, off + first, ring, 0, len - first);
  let p = pos + len;
  if (p >= size) p -= size;
  return p;
}

export function fillBytes(dst: Uint8Array, off: number, len: number, v: number): void {
  const x = v & 0xff;
  if (RUNTIME_ESPRUINO) {
    if (len > 0) dst.fill(x, off, off + len);
    return;
  }
  for (let i = 0; i < len; i++) dst[off + i] = x;
}

export function equalBytes(a: Uint8Array, aoff: number, b: Uint8Array, boff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aoff + i] !== b[boff + i]) return false;
  return true;
}
