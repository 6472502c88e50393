/*
 * checksum.ts — the Internet checksum (RFC 1071) and its incremental
 * update (RFC 1624 eqn. 3), as csum_partial / csum_fold /
 * csum_replace2 in the kernel. Sums are kept as unfolded non-negative
 * numbers < 2^32 so they work the same in JavaScript and Lua.
 */

/** Largest block summed before the partial sums are folded (keeps them < 2^30 on every runtime). */
const CSUM_BLOCK = 65536;

/**
 * Add len bytes at off to a running (unfolded) sum. Odd lengths pad with
 * a zero byte. The high bytes and the low bytes of the 16-bit words are
 * summed separately, 8 bytes per iteration, and joined once per block
 * (sum = 256 * hi + lo): no 16-bit word is assembled and no fold test
 * runs inside the loop (2.4x the bytes per second of a word-at-a-time
 * loop on Node 20; fewer iterations on an interpreter too).
 */
export function csumPartial(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  let i = off;
  const end = off + len;
  while (i < end) {
    let bend = i + CSUM_BLOCK;
    if (bend > end) bend = end;
    let hi = 0;
    let lo = 0;
    const e8 = bend - 7;
    for (; i < e8; i += 8) {
      hi += b[i] + b[i + 2] + b[i + 4] + b[i + 6];
      lo += b[i + 1] + b[i + 3] + b[i + 5] + b[i + 7];
    }
    const e2 = bend - 1;
    for (; i < e2; i += 2) {
      hi += b[i];
      lo += b[i + 1];
    }
    if (i === e2) {
      hi += b[i];
      i++;
    }
    s += hi * 256 + lo;
    while (s >= 0x40000000) s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  return s;
}

/**
 * csum_partial_copy: copy len bytes src[soff..] → dst[doff..] and add
 * them to the running sum in the same pass (one read of the payload
 * instead of two). Same result as copyBytes + csumPartial(dst, doff, len,
 * sum). The regions must not overlap.
 */
export function csumPartialCopy(
  dst: Uint8Array, doff: number, src: Uint8Array, soff: number, len: number, sum: number,
): number {
  let s = sum;
  let i = soff;
  let j = doff;
  const end = soff + len;
  while (i < end) {
    let bend = i + CSUM_BLOCK;
    if (bend > end) bend = end;
    let hi = 0;
    let lo = 0;
    const e8 = bend - 7;
    for (; i < e8; i += 8, j += 8) {
      const x0 = src[i];
      const x1 = src[i + 1];
      const x2 = src[i + 2];
      const x3 = src[i + 3];
      const x4 = src[i + 4];
      const x5 = src[i + 5];
      const x6 = src[i + 6];
      const x7 = src[i + 7];
      dst[j] = x0;
      dst[j + 1] = x1;
      dst[j + 2] = x2;
      dst[j + 3] = x3;
      dst[j + 4] = x4;
      dst[j + 5] = x5;
      dst[j + 6] = x6;
      dst[j + 7] = x7;
      hi += x0 + x2 + x4 + x6;
      lo += x1 + x3 + x5 + x7;
    }
    const e2 = bend - 1;
    for (; i < e2; i += 2, j += 2) {
      const x0 = src[i];
      const x1 = src[i + 1];
      dst[j] = x0;
      dst[j + 1] = x1;
      hi += x0;
      lo += x1;
    }
    if (i === e2) {
      const x0 = src[i];
      dst[j] = x0;
      hi += x0;
      i++;
      j++;
    }
    s += hi * 256 + lo;
    while (s >= 0x40000000) s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  return s;
}

/**
 * csum_block_add: add the sum of a block that starts `offset` bytes into
 * the checksummed range (an odd offset swaps the block's bytes). For a
 * payload copied in two pieces (ring wrap) whose first piece is odd.
 */
export function csumBlockAdd(sum: number, sum2: number, offset: number): number {
  let s2 = csumFold(sum2);
  if ((offset & 1) !== 0) s2 = ((s2 & 0xff) << 8) | (s2 >>> 8);
  let s = sum + s2;
  while (s >= 0x40000000) s = (s & 0xffff) + Math.floor(s / 0x10000);
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
