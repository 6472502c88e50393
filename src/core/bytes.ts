/*
 * bytes.ts — big-endian (network order) field access and byte copies on
 * Uint8Array. Every write masks its value: a Lua byte-array shim does not
 * truncate like a JavaScript typed array does (DESIGN.md zero-GC rule 5).
 * No subarray views are created: a view is an allocation.
 */
import { u32 } from './bits';

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

/** Copy len bytes; regions may overlap (memmove semantics). */
export function copyBytes(dst: Uint8Array, doff: number, src: Uint8Array, soff: number, len: number): void {
  if (dst === src && doff > soff && doff < soff + len) {
    for (let i = len - 1; i >= 0; i--) dst[doff + i] = src[soff + i];
    return;
  }
  for (let i = 0; i < len; i++) dst[doff + i] = src[soff + i];
}

export function fillBytes(dst: Uint8Array, off: number, len: number, v: number): void {
  const x = v & 0xff;
  for (let i = 0; i < len; i++) dst[off + i] = x;
}

export function equalBytes(a: Uint8Array, aoff: number, b: Uint8Array, boff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aoff + i] !== b[boff + i]) return false;
  return true;
}
