/*
 * inaddr.ts — IPv4 addresses as the stack holds them internally: the
 * SIGNED 32-bit pattern of the address in host order, i.e. what
 * `(b0 << 24) | (b1 << 16) | (b2 << 8) | b3` gives in JavaScript (a __be32
 * read as int32). 192.0.2.1 is -1073741311, 255.255.255.255 is -1.
 * Why: on V8 an integer >= 2^31 is not a Smi, so unsigned addresses such
 * as 192.0.2.x are boxed as HeapNumbers whenever they are returned from,
 * or passed to, a non-inlined function or stored in an object field; the
 * signed pattern always fits a Smi. See docs/CODING.md "IPv4 addresses".
 *
 * Rules: compare addresses with === only when both sides are normalized
 * (s32); compare masked values only with masked values
 * ((a & m) === (n & m)); classify with `>>> 24` / `>>> 28` plus a mask,
 * never with < or >= on the raw value (the sign!). Store them in Int32Array
 * or Float64Array, never in Uint32Array. In Lua (64-bit integers) the s32
 * value is sign-extended, so the same expressions hold there too.
 */
import { s32, u32 } from './bits';

export const INADDR_ANY = 0;
/** 255.255.255.255 */
export const INADDR_BROADCAST = -1;
/** "no address" result (Linux INADDR_NONE): the same bits as the broadcast, never a valid source. */
export const INADDR_NONE = -1;
/** 127.0.0.1 */
export const INADDR_LOOPBACK = 0x7f000001;

/** Normalize an address given as unsigned (old convention) or signed. */
export function inAddr(a: number): number {
  return s32(a);
}

/** The unsigned form (0 .. 2^32-1), for applications and printing. */
export function inAddrU(a: number): number {
  return u32(a);
}

/** Read a network-order address at b[o] as s32 (portable: s32 wraps in Lua). */
export function getAddr(b: Uint8Array, o: number): number {
  return s32((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

/** Write an address (signed or unsigned form) in network order. */
export function putAddr(b: Uint8Array, o: number, a: number): void {
  b[o] = (a >>> 24) & 0xff;
  b[o + 1] = (a >>> 16) & 0xff;
  b[o + 2] = (a >>> 8) & 0xff;
  b[o + 3] = a & 0xff;
}

/** First octet (0..255) of a signed or unsigned address. */
export function addrOctet0(a: number): number {
  return (a >>> 24) & 0xff;
}

/** 224.0.0.0/4 */
export function isMulticast(a: number): boolean {
  return ((a >>> 28) & 0xf) === 0xe;
}

/** 127.0.0.0/8 */
export function isLoopback(a: number): boolean {
  return ((a >>> 24) & 0xff) === 127;
}

/** 0.0.0.0/8 "this network" */
export function isZeronet(a: number): boolean {
  return ((a >>> 24) & 0xff) === 0;
}

/** Class E 240.0.0.0/4, including the limited broadcast. */
export function isReserved(a: number): boolean {
  return ((a >>> 28) & 0xf) === 0xf;
}

/** 255.255.255.255, in either form. */
export function isLimitedBroadcast(a: number): boolean {
  return (a & 0xffffffff) === (INADDR_BROADCAST & 0xffffffff);
}

/** a and n lie in the same subnet under mask m (all three s32-normalized). */
export function sameNet(a: number, n: number, m: number): boolean {
  return (a & m) === (n & m);
}

/** Netmask for a prefix length, as s32 (/0 = 0, /32 = -1). */
export function prefixMask(len: number): number {
  if (len <= 0) return 0;
  if (len >= 32) return INADDR_BROADCAST;
  return s32(0xffffffff - (Math.pow(2, 32 - len) - 1));
}
