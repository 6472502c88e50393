/*
 * checksum.ts — the Internet checksum (RFC 1071) and its incremental
 * update (RFC 1624 eqn. 3), as csum_partial / csum_fold /
 * csum_replace2 in the kernel. Sums are kept as unfolded non-negative
 * numbers < 2^32 so they work the same in JavaScript and Lua.
 */

/** Add len bytes at off to a running (unfolded) sum. Odd lengths pad with a zero byte. */
export function csumPartial(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) {
    s += (b[i] << 8) | b[i + 1];
    if (s >= 0x40000000) s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  if (i === end) s += b[i] << 8;
  return s;
}

/** Fold a running sum to 16 bits (not complemented). */
export function csumFold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Final one's-complement checksum of a running sum. */
export function csumFinish(sum: number): number {
  return ~csumFold(sum) & 0xffff;
}

/** Checksum of a byte range, ready to store. */
export function ipCompute(b: Uint8Array, off: number, len: number): number {
  return csumFinish(csumPartial(b, off, len, 0));
}

/** Pseudo-header sum for TCP/UDP over IPv4 (RFC 768, RFC 9293 §3.1). */
export function csumTcpUdpMagic(saddr: number, daddr: number, len: number, proto: number): number {
  return (
    ((saddr >>> 16) & 0xffff) + (saddr & 0xffff) + ((daddr >>> 16) & 0xffff) + (daddr & 0xffff) + proto + len
  );
}

/**
 * RFC 1624 incremental update: the checksum field value after a 16-bit
 * word changes from oldW to newW. HC' = ~(~HC + ~m + m').
 */
export function csumReplace2(check: number, oldW: number, newW: number): number {
  const s = (~check & 0xffff) + (~oldW & 0xffff) + (newW & 0xffff);
  return ~csumFold(s) & 0xffff;
}

/** Incremental update for a 32-bit field (an address) changing. */
export function csumReplace4(check: number, oldV: number, newV: number): number {
  const c = csumReplace2(check, oldV >>> 16, newV >>> 16);
  return csumReplace2(c, oldV & 0xffff, newV & 0xffff);
}
