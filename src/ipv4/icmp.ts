/*
 * icmp.ts — ICMP (net/ipv4/icmp.c): RFC 792, RFC 1122 §3.2.2, RFC 1812
 * §4.3.2 (error size, rate limiting).
 *
 * Receive: ip_local_deliver ─► icmp_rcv (checksum, per-type counters)
 *   ─► icmp_echo (reply in place, reusing the skb: a reassembled large
 *      skb is answered with a large reply that ip_output fragments)
 *   ─► icmp_unreach (dest unreachable / time exceeded / param problem /
 *      source quench): validate the quoted header, call that protocol's
 *      errHandler with data at the quoted IP header.
 *   ─► echo reply ─► st.icmp.echoHandler (the ping application).
 * Send: icmp_send (errors about a received datagram: never about an ICMP
 *   error, a non-first fragment, a broadcast/multicast or a bogus source;
 *   token-bucket limited), icmpPing (echo requests).
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { get16, put16, put32, copyBytes } from '../core/bytes';
import { ipCompute, csumReplace2 } from '../core/checksum';
import { EINVAL, ENOBUFS } from '../core/errno';
import {
  ICMP_INMSGS, ICMP_INERRORS, ICMP_INCSUMERRORS, ICMP_INDESTUNREACHS, ICMP_INTIMEEXCDS,
  ICMP_INPARMPROBS, ICMP_INSRCQUENCHS, ICMP_INREDIRECTS, ICMP_INECHOS, ICMP_INECHOREPS,
  ICMP_INTIMESTAMPS, ICMP_INTIMESTAMPREPS, ICMP_OUTMSGS, ICMP_OUTERRORS, ICMP_OUTDESTUNREACHS,
  ICMP_OUTTIMEEXCDS, ICMP_OUTPARMPROBS, ICMP_OUTECHOS, ICMP_OUTECHOREPS, ICMP_OUTRATELIMITGLOBAL,
  ICMP_INUNKNOWNTYPES,
} from '../core/mib';
import { PACKET_HOST, PACKET_BROADCAST } from '../link/ether';
import {
  IP_VERIHL, IP_TOS, IP_FRAGOFF, IP_TTL, IP_PROTO, IP_HLEN, IP_OFFSET, IP_MIN_REASM, IP_MAX_PACKET,
  IPPROTO_ICMP, IPTOS_TOS_MASK, IPTOS_PREC_INTERNETCONTROL, INADDR_BROADCAST,
  ICMP_HLEN, ICMP_TYPE, ICMP_CODE, ICMP_CSUM, ICMP_ID, ICMP_SEQ, ICMP_UN,
  ICMP_ECHOREPLY, ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_ECHO,
  ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, ICMP_ADDRESSREPLY,
  ICMP_FRAG_NEEDED,
  icmpIsError, isMulticastAddr, isZeroNet, isReservedAddr, ipSaddr, ipDaddr,
} from './ip';
import { InetProtocol, inetAddProtocol } from './protocol';
import { ipBuildAndSend } from './ip_output';
import { RUNTIME_ESPRUINO } from '../features';

/* Espruino built-in (RUNTIME_ESPRUINO): sum of a1[i] * a2[(i + offset) % a2.length] over a1, a double. */
declare const E: { convolve(a1: Uint8Array, a2: Uint8Array, offset: number): number };

/** The ping application: told about every echo reply received (saddr in the s32 form, src/core/inaddr.ts). */
export interface IcmpEchoHandler {
  onEchoReply(saddr: number, ident: number, seq: number, payloadLen: number, ttl: number): void;
}

class IcmpProto implements InetProtocol {
  constructor(readonly st: Stack) {}
  handler(skb: number): void {
    icmpRcv(this.st, skb);
  }
  errHandler(skb: number, type: number, code: number, info: number): void {
    // errors about our own ICMP messages need no action (RFC 1122 §3.2.2)
    this.st.icmp.errorsAboutIcmp++;
  }
}

export class IcmpState {
  echoHandler: IcmpEchoHandler | null = null;
  /** token bucket for icmp_send, in thousandths of a token */
  tokens: number;
  lastRefill = -1;
  /** echo replies whose payload did not match icmpPing's pattern */
  echoPatternErrors = 0;
  /** ICMP errors received about ICMP messages we sent */
  errorsAboutIcmp = 0;
  /** icmp_send calls suppressed by the RFC 1122 "never about" rules */
  suppressed = 0;
  constructor(burst: number) {
    this.tokens = burst * 1000;
  }
}

export function initIcmp(st: Stack): IcmpState {
  const s = new IcmpState(st.cfg.icmpRateBurst);
  inetAddProtocol(st, IPPROTO_ICMP, new IcmpProto(st));
  return s;
}

/** Byte i of an icmpPing payload (deterministic, checked on the reply). */
export function icmpPatternByte(i: number): number {
  return (i + 0x10) & 0xff;
}

/** One period (256 bytes) of the pattern, for the native paths (RUNTIME_ESPRUINO); made on the first ping. */
let patternTable: Uint8Array | null = null;

function icmpPatternTable(): Uint8Array {
  let t = patternTable;
  if (t === null) {
    t = new Uint8Array(256);
    for (let i = 0; i < 256; i++) t[i] = icmpPatternByte(i);
    patternTable = t;
  }
  return t;
}

/** Write the pattern's first len bytes at b[o..]: native set() per 256-byte period on Espruino. */
function icmpPatternFill(b: Uint8Array, o: number, len: number): void {
  if (RUNTIME_ESPRUINO) {
    const t = icmpPatternTable();
    for (let i = 0; i < len; i += 256) b.set(len - i < 256 ? t.subarray(0, len - i) : t, o + i);
    return;
  }
  for (let i = 0; i < len; i++) b[o + i] = icmpPatternByte(i);
}

/**
 * Do b[o..o+len) hold the pattern's first len bytes? On Espruino without a
 * byte loop: for each period, sum(p*p) + sum(q*q) - 2 sum(p*q) = sum((p-q)^2)
 * is 0 exactly when p = q, and E.convolve computes each sum natively (exact:
 * integers below 2^33 in a double).
 */
function icmpPatternOk(b: Uint8Array, o: number, len: number): boolean {
  if (RUNTIME_ESPRUINO) {
    const t = icmpPatternTable();
    for (let i = 0; i < len; i += 256) {
      const k = len - i < 256 ? len - i : 256;
      const p = b.subarray(o + i, o + i + k);
      const q = k < 256 ? t.subarray(0, k) : t;
      if (E.convolve(p, p, 0) + E.convolve(q, q, 0) !== 2 * E.convolve(p, q, 0)) return false;
    }
    return true;
  }
  for (let i = 0; i < len; i++) if (b[o + i] !== icmpPatternByte(i)) return false;
  return true;
}

/** icmp_rcv: skb data = ICMP header, nh = IP header. Consumes skb. */
export function icmpRcv(st: Stack, skb: number): void {
  const p = st.pool;
  const mib = st.mib.icmp;
  const b = p.buf[skb];
  const d = p.data[skb];
  const len = p.tail[skb] - d;
  mib[ICMP_INMSGS]++;
  if (len < ICMP_HLEN) {
    mib[ICMP_INERRORS]++;
    p.free(skb);
    return;
  }
  if (ipCompute(b, d, len) !== 0) {
    mib[ICMP_INCSUMERRORS]++;
    mib[ICMP_INERRORS]++;
    p.free(skb);
    return;
  }
  const type = b[d + ICMP_TYPE];
  switch (type) {
    case ICMP_ECHO:
      mib[ICMP_INECHOS]++;
      icmpEcho(st, skb);
      return;
    case ICMP_ECHOREPLY:
      mib[ICMP_INECHOREPS]++;
      icmpEchoReply(st, skb);
      return;
    case ICMP_DEST_UNREACH:
      mib[ICMP_INDESTUNREACHS]++;
      icmpUnreach(st, skb);
      return;
    case ICMP_TIME_EXCEEDED:
      mib[ICMP_INTIMEEXCDS]++;
      icmpUnreach(st, skb);
      return;
    case ICMP_PARAMETERPROB:
      mib[ICMP_INPARMPROBS]++;
      icmpUnreach(st, skb);
      return;
    case ICMP_SOURCE_QUENCH:
      mib[ICMP_INSRCQUENCHS]++;
      icmpUnreach(st, skb);
      return;
    case ICMP_REDIRECT:
      // hosts may ignore redirects; we keep a static table (RFC 1122 §3.2.2.2 allows)
      mib[ICMP_INREDIRECTS]++;
      break;
    case ICMP_TIMESTAMP:
      mib[ICMP_INTIMESTAMPS]++;
      break;
    case ICMP_TIMESTAMPREPLY:
      mib[ICMP_INTIMESTAMPREPS]++;
      break;
    default:
      if (type > ICMP_ADDRESSREPLY) mib[ICMP_INERRORS]++;
      mib[ICMP_INUNKNOWNTYPES]++;
      break;
  }
  p.free(skb);
}

/** icmp_echo: answer in place (RFC 792, RFC 1122 §3.2.2.6). Consumes skb. */
function icmpEcho(st: Stack, skb: number): void {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  const nh = p.nh[skb];
  const saddr = ipSaddr(b, nh);
  const daddr = ipDaddr(b, nh);
  const bcast =
    p.cb3[skb] === PACKET_BROADCAST ||
    daddr === INADDR_BROADCAST ||
    isMulticastAddr(daddr) ||
    st.ifaddr.isBroadcast(p.dev[skb], daddr);
  if (bcast && st.cfg.icmpEchoIgnoreBroadcasts) {
    p.free(skb);
    return;
  }
  const tos = b[nh + IP_TOS];
  const code = b[d + ICMP_CODE];
  const old = (ICMP_ECHO << 8) | code;
  b[d + ICMP_TYPE] = ICMP_ECHOREPLY;
  put16(b, d + ICMP_CSUM, csumReplace2(get16(b, d + ICMP_CSUM), old, (ICMP_ECHOREPLY << 8) | code));
  p.cb3[skb] = PACKET_HOST;
  const mib = st.mib.icmp;
  mib[ICMP_OUTMSGS]++;
  mib[ICMP_OUTECHOREPS]++;
  const rc = ipBuildAndSend(st, skb, bcast ? 0 : daddr, saddr, IPPROTO_ICMP, st.cfg.ipDefaultTtl, tos, false);
  if (rc < 0) mib[ICMP_OUTERRORS]++;
}

function icmpEchoReply(st: Stack, skb: number): void {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  const nh = p.nh[skb];
  const plen = p.tail[skb] - d - ICMP_HLEN;
  const ic = st.icmp;
  if (!icmpPatternOk(b, d + ICMP_HLEN, plen)) ic.echoPatternErrors++;
  const h = ic.echoHandler;
  if (h !== null) {
    h.onEchoReply(ipSaddr(b, nh), get16(b, d + ICMP_ID), get16(b, d + ICMP_SEQ), plen, b[nh + IP_TTL]);
  }
  p.free(skb);
}

/**
 * icmp_unreach: hand an ICMP error to the protocol of the quoted datagram
 * (RFC 1122 §3.2.2.1 / §4.2.3.9). Consumes skb.
 */
function icmpUnreach(st: Stack, skb: number): void {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  const len = p.tail[skb] - d;
  const inner = d + ICMP_HLEN;
  if (len < ICMP_HLEN + IP_HLEN || b[inner + IP_VERIHL] >>> 4 !== 4) {
    st.mib.icmp[ICMP_INERRORS]++;
    p.free(skb);
    return;
  }
  const ihl = (b[inner + IP_VERIHL] & 0x0f) * 4;
  if (ihl < IP_HLEN || len < ICMP_HLEN + ihl + 8) {
    st.mib.icmp[ICMP_INERRORS]++;
    p.free(skb);
    return;
  }
  const type = b[d + ICMP_TYPE];
  const code = b[d + ICMP_CODE];
  let info = 0;
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) info = get16(b, d + ICMP_SEQ);
  else if (type === ICMP_PARAMETERPROB) info = b[d + ICMP_UN];
  const h = st.ip.protos[b[inner + IP_PROTO]];
  if (h !== null) {
    p.pull(skb, ICMP_HLEN);
    h.errHandler(skb, type, code, info);
  }
  p.free(skb);
}

/** icmp_global_allow: token bucket, cfg.icmpRatePerSec refill, cfg.icmpRateBurst deep. */
function icmpAllow(st: Stack): boolean {
  const s = st.icmp;
  const now = st.now();
  const cap = st.cfg.icmpRateBurst * 1000;
  if (s.lastRefill < 0) s.lastRefill = now;
  const el = Math.floor(now - s.lastRefill);
  if (el > 0) {
    let t = s.tokens + el * st.cfg.icmpRatePerSec;
    if (t > cap) t = cap;
    s.tokens = t;
    s.lastRefill = now;
  }
  if (s.tokens < 1000) return false;
  s.tokens -= 1000;
  return true;
}

/**
 * icmp_send: send an ICMP error of type/code about skbIn (nh = its IP
 * header). info is the 32-bit word after the checksum (next-hop MTU for
 * ICMP_FRAG_NEEDED, pointer << 24 for ICMP_PARAMETERPROB, gateway for a
 * redirect). Quotes the header and as much data as fits in 576 bytes
 * (RFC 1812 §4.3.2.3). Does not consume skbIn.
 */
export function icmpSend(st: Stack, skbIn: number, type: number, code: number, info: number): void {
  const p = st.pool;
  const ic = st.icmp;
  const b = p.buf[skbIn];
  const nh = p.nh[skbIn];
  const tail = p.tail[skbIn];
  if (nh < 0 || nh + IP_HLEN > tail || b[nh + IP_VERIHL] >>> 4 !== 4) {
    ic.suppressed++;
    return;
  }
  const ihl = (b[nh + IP_VERIHL] & 0x0f) * 4;
  if (ihl < IP_HLEN || nh + ihl > tail) {
    ic.suppressed++;
    return;
  }
  const saddr = ipSaddr(b, nh);
  const daddr = ipDaddr(b, nh);
  const dev = p.dev[skbIn];
  const ifa = st.ifaddr;
  if (
    p.cb3[skbIn] !== PACKET_HOST ||
    daddr === INADDR_BROADCAST ||
    isMulticastAddr(daddr) ||
    ifa.isBroadcast(dev, daddr) ||
    isZeroNet(saddr) ||
    isMulticastAddr(saddr) ||
    isReservedAddr(saddr) ||
    ifa.isBroadcast(dev, saddr) ||
    (get16(b, nh + IP_FRAGOFF) & IP_OFFSET) !== 0
  ) {
    ic.suppressed++;
    return;
  }
  if (b[nh + IP_PROTO] === IPPROTO_ICMP) {
    // never about an ICMP error (or a message we cannot classify)
    if (nh + ihl + 1 > tail) {
      ic.suppressed++;
      return;
    }
    const it = b[nh + ihl + ICMP_TYPE];
    if (it > ICMP_ADDRESSREPLY || icmpIsError(it)) {
      ic.suppressed++;
      return;
    }
  }
  const mib = st.mib.icmp;
  // fragmentation-needed is exempt: path MTU discovery depends on it
  if (!(type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) && !icmpAllow(st)) {
    mib[ICMP_OUTRATELIMITGLOBAL]++;
    return;
  }
  let qlen = tail - nh;
  const room = IP_MIN_REASM - IP_HLEN - ICMP_HLEN;
  if (qlen > room) qlen = room;
  const r = p.alloc(ICMP_HLEN + qlen);
  if (r === SKB_NONE) {
    mib[ICMP_OUTERRORS]++;
    return;
  }
  const o = p.put(r, ICMP_HLEN + qlen);
  const rb = p.buf[r];
  rb[o + ICMP_TYPE] = type & 0xff;
  rb[o + ICMP_CODE] = code & 0xff;
  put16(rb, o + ICMP_CSUM, 0);
  put32(rb, o + ICMP_UN, info);
  copyBytes(rb, o + ICMP_HLEN, b, nh, qlen);
  put16(rb, o + ICMP_CSUM, ipCompute(rb, o, ICMP_HLEN + qlen));
  const tos = (b[nh + IP_TOS] & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;
  const src = ifa.isLocal(daddr) ? daddr : 0;
  mib[ICMP_OUTMSGS]++;
  if (type === ICMP_DEST_UNREACH) mib[ICMP_OUTDESTUNREACHS]++;
  else if (type === ICMP_TIME_EXCEEDED) mib[ICMP_OUTTIMEEXCDS]++;
  else if (type === ICMP_PARAMETERPROB) mib[ICMP_OUTPARMPROBS]++;
  const rc = ipBuildAndSend(st, r, src, saddr, IPPROTO_ICMP, st.cfg.ipDefaultTtl, tos, false);
  if (rc < 0) mib[ICMP_OUTERRORS]++;
}

/**
 * Send an echo request (ping) to daddr with payloadLen bytes of
 * icmpPatternByte. Large payloads go out in a large skb and are
 * fragmented by ip_output. 0 or -errno.
 */
export function icmpPing(st: Stack, daddr: number, ident: number, seq: number, payloadLen: number): number {
  if (payloadLen < 0 || payloadLen > IP_MAX_PACKET - IP_HLEN - ICMP_HLEN) return -EINVAL;
  const p = st.pool;
  const mib = st.mib.icmp;
  const skb = p.alloc(ICMP_HLEN + payloadLen);
  if (skb === SKB_NONE) {
    mib[ICMP_OUTERRORS]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, ICMP_HLEN + payloadLen);
  const b = p.buf[skb];
  b[o + ICMP_TYPE] = ICMP_ECHO;
  b[o + ICMP_CODE] = 0;
  put16(b, o + ICMP_CSUM, 0);
  put16(b, o + ICMP_ID, ident);
  put16(b, o + ICMP_SEQ, seq);
  icmpPatternFill(b, o + ICMP_HLEN, payloadLen);
  put16(b, o + ICMP_CSUM, ipCompute(b, o, ICMP_HLEN + payloadLen));
  mib[ICMP_OUTMSGS]++;
  mib[ICMP_OUTECHOS]++;
  const rc = ipBuildAndSend(st, skb, 0, daddr, IPPROTO_ICMP, st.cfg.ipDefaultTtl, 0, false);
  if (rc < 0) mib[ICMP_OUTERRORS]++;
  return rc;
}
