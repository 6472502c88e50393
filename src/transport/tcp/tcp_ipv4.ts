/*
 * tcp_ipv4.ts — TCP over IPv4 (net/ipv4/tcp_ipv4.c):
 *
 *   ip_local_deliver ─► tcpV4Rcv: header + checksum checks, options,
 *     lookup established → request sock → TIME_WAIT → listener,
 *     ─► tcpRcvEstablished | tcpRcvStateProcess | tcpCheckReq (+ child) |
 *        tcpTwProcess | tcpConnRequest | tcpV4SendReset (no socket)
 *   icmp_rcv ─► tcpV4Err (RFC 5927 / RFC 1122 §4.2.3.9: hard errors abort a
 *     connection attempt, soft errors are remembered; frag-needed lowers the MSS:
 *     RFC 1191 path MTU discovery, tcpV4MtuReduced)
 *   tcpV4Connect: source selection, ephemeral port, RFC 6528 ISN, SYN.
 *
 * initTcp(st) builds the state, registers the timers and the protocol.
 */
import type { Stack } from '../../stack';
import { s32, after, before } from '../../core/bits';
import { get16 } from '../../core/bytes';
import { csumPartial, csumPartialCopy, csumBlockAdd, csumFold } from '../../core/checksum';
import { EADDRNOTAVAIL, ENETUNREACH, EHOSTUNREACH, ECONNREFUSED } from '../../core/errno';
import { ipBuildAndSend, ipSelectSrc, ipRouteOutput } from '../../ipv4/ip_output';
import { inetAddProtocol } from '../../ipv4/protocol';
import { getAddr, inAddr, isMulticast, isLimitedBroadcast } from '../../core/inaddr';
import { getDev } from '../../link/dev';
import {
  TcpState, TcpIpOps, TH_SPORT, TH_DPORT, TH_SEQ, TH_ACK, TH_DOFF, TH_FLAGS, TH_WIN, TCP_HLEN,
  TCPF_SYN, TCPF_FIN, TCPF_RST, TCPF_ACK, TCP_LISTEN, TCP_CLOSE, TCP_FREE, TCP_ESTABLISHED, TCP_SYN_SENT,
  TCP_SYN_RECV, TCP_INSEGS, TCP_INERRS, TCP_INCSUMERRORS, TCP_ACTIVEOPENS, TX_OUTOFWINDOWICMPS,
  F_WS_OFFERED, F_TS, F_NOPMTU, F_SACK_RECOV, F_RENO_RECOV, TT_RTX, TT_DACK, TT_KEEP, tcpSecureIsn, tcpTsOffset, tcpSetState, tcpDone,
  getSeq, tcpPseudoSum,
} from './tcp';
import { tcpParseOptions, tcpRcvEstablished, tcpRcvStateProcess } from './tcp_input';
import {
  tcpV4SendReset, tcpSendSyn, tcpResetXmitTimer, tcpWscaleFor, tcpSyncMss, tcpXmitAt, tcpWriteXmit,
  tcpCanSend,
} from './tcp_output';
import {
  tcpTwProcess, TW_SYN, reqLookup, tcpCheckReq, tcpConnRequest, tcpAdvMss,
} from './tcp_minisocks';
import { TcpTimerHandler } from './tcp_timer';
import { tcpCookieChild, tcpSendCookieSynAck } from './tcp_syncookies';
import { FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_WSCALE, FEATURE_TCP_SYNCOOKIES, FEATURE_TCP_PMTU } from '../../features';

const IPPROTO_TCP = 6;
const ICMP_DEST_UNREACH = 3;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_PARAMETERPROB = 12;
const ICMP_FRAG_NEEDED = 4;
const ICMP_PROT_UNREACH = 2;
const ICMP_PORT_UNREACH = 3;

/** The real IP layer (ip_output.ts). */
class IpOps implements TcpIpOps {
  xmit(st: Stack, skb: number, saddr: number, daddr: number, tos: number, ttl: number, df: boolean): number {
    // DF on TCB segments: RFC 1191 path MTU discovery (frag-needed lowers the MSS, tcpV4Err)
    return ipBuildAndSend(st, skb, saddr, daddr, IPPROTO_TCP, ttl, tos, df);
  }
  selectSource(st: Stack, daddr: number): number {
    return ipSelectSrc(st, daddr); // s32: an unsigned result would be boxed (HeapNumber) per connect
  }
  mtuTo(st: Stack, daddr: number): number {
    const r = ipRouteOutput(st, daddr, -1);
    if (r < 0) return 0;
    const d = st.ip.outDev;
    if (d < 0) return st.cfg.mtu; // local (loopback)
    const dev = getDev(st, d);
    return dev !== null ? dev.mtu : 0;
  }
}

/** inet_protos[IPPROTO_TCP] */
class TcpProtocol {
  constructor(readonly st: Stack) {}
  handler(skb: number): void {
    tcpV4Rcv(this.st, skb);
  }
  errHandler(skb: number, type: number, code: number, info: number): void {
    tcpV4Err(this.st, skb, type, code, info);
  }
}

/** Build the TCP state of a stack: TCB table, timers, counters, protocol handler. */
export function initTcp(st: Stack): TcpState {
  const tp = new TcpState(st, new IpOps());
  // available as st.tcp at once (stack.ts assigns the same object)
  (st as unknown as { tcp: TcpState }).tcp = tp;
  const hR = new TcpTimerHandler(st, TT_RTX);
  const hD = new TcpTimerHandler(st, TT_DACK);
  const hK = new TcpTimerHandler(st, TT_KEEP);
  for (let t = 0; t < tp.n; t++) {
    tp.tRtx[t] = st.timers.register(hR, t);
    tp.tDack[t] = st.timers.register(hD, t);
    tp.tKeep[t] = st.timers.register(hK, t);
    if (tp.tKeep[t] < 0) throw new Error('initTcp: timer table too small (cfg.timerMax)');
  }
  tp.tReq = st.timers.register(new TcpTimerHandler(st, 3), 0);
  tp.tTw = st.timers.register(new TcpTimerHandler(st, 4), 0);
  if (tp.tTw < 0) throw new Error('initTcp: timer table too small (cfg.timerMax)');
  for (let i = 0; i < 4; i++) tp.secret[i] = s32(st.rng.next32());
  tp.cookieKeyMin[0] = -1; // no SYN cookie key drawn yet (tcp_syncookies.ts)
  tp.cookieKeyMin[1] = -1;
  tp.nextEphemeral = st.rng.next32();
  st.mib.addBlock(tp.mibB);
  st.mib.addBlock(tp.extB);
  inetAddProtocol(st, IPPROTO_TCP, new TcpProtocol(st));
  return tp;
}

/* ---------------- lookup ---------------- */

/** __inet_lookup_established: a synchronized (or SYN_SENT) TCB for the 4-tuple, or -1. */
export function tcpLookupEstablished(st: Stack, saddr: number, sport: number, daddr: number, dport: number): number {
  const tp = st.tcp;
  for (let t = 0; t < tp.n; t++) {
    const s = tp.state[t];
    if (s === TCP_FREE || s === TCP_CLOSE || s === TCP_LISTEN) continue;
    if (tp.lport[t] === dport && tp.rport[t] === sport && tp.raddr[t] === saddr && tp.laddr[t] === daddr) return t;
  }
  return -1;
}

/** __inet_lookup_listener: exact local address beats a wildcard. */
export function tcpLookupListener(st: Stack, daddr: number, dport: number): number {
  const tp = st.tcp;
  let wild = -1;
  for (let t = 0; t < tp.n; t++) {
    if (tp.state[t] !== TCP_LISTEN || tp.lport[t] !== dport) continue;
    if (tp.laddr[t] === daddr) return t;
    if (tp.laddr[t] === 0) wild = t;
  }
  return wild;
}

export function tcpLookupTimeWait(st: Stack, saddr: number, sport: number, daddr: number, dport: number): number {
  const tp = st.tcp;
  for (let w = 0; w < tp.twN; w++) {
    if (
      tp.twUsed[w] !== 0 && tp.twLport[w] === dport && tp.twRport[w] === sport &&
      tp.twRaddr[w] === saddr && tp.twLaddr[w] === daddr
    ) return w;
  }
  return -1;
}

/* ---------------- receive ---------------- */

/** tcp_v4_rcv: skb data = TCP header, pool.nh = IP header. Consumes skb. */
export function tcpV4Rcv(st: Stack, skb: number): void {
  const tp = st.tcp;
  const p = st.pool;
  const b = p.buf[skb];
  const o = p.data[skb];
  const len = p.tail[skb] - o;
  const nh = p.nh[skb];
  if (len < TCP_HLEN) {
    tp.mib[TCP_INERRS]++;
    p.free(skb);
    return;
  }
  const hlen = (b[o + TH_DOFF] >>> 4) * 4;
  if (hlen < TCP_HLEN || hlen > len) {
    tp.mib[TCP_INERRS]++;
    p.free(skb);
    return;
  }
  const saddr = getAddr(b, nh + 12);
  const daddr = getAddr(b, nh + 16);
  // RFC 9293 §3.1: the checksum covers the pseudo-header
  let sum = csumPartial(b, o, hlen, tcpPseudoSum(saddr, daddr, len));
  const plen = len - hlen;
  tp.segPreLen = 0;
  let t = -2; // not looked up yet
  if (plen > 0) {
    // in-order data for an ESTABLISHED TCB: checksum while copying into the ring's free space
    t = tcpLookupEstablished(st, saddr, get16(b, o + TH_SPORT), daddr, get16(b, o + TH_DPORT));
    sum = t >= 0 ? tcpRcvPrecopy(tp, t, b, o, hlen, plen, sum) : csumPartial(b, o + hlen, plen, sum);
  }
  if (csumFold(sum) !== 0xffff) {
    // nothing is committed: bytes written beyond rcvCount are free space
    tp.segPreLen = 0;
    tp.mib[TCP_INCSUMERRORS]++;
    tp.mib[TCP_INERRS]++;
    p.free(skb);
    return;
  }
  // never to or from a broadcast/multicast address (RFC 1122 §4.2.3.10)
  if (
    isMulticast(daddr) || isLimitedBroadcast(daddr) || isMulticast(saddr) || isLimitedBroadcast(saddr) ||
    saddr === 0 || st.ifaddr.isBroadcast(p.dev[skb], daddr)
  ) {
    tp.mib[TCP_INERRS]++;
    tp.segPreLen = 0;
    p.free(skb);
    return;
  }
  const flags = b[o + TH_FLAGS];
  if (!tcpParseOptions(tp, b, o, hlen, (flags & TCPF_SYN) !== 0)) {
    tp.mib[TCP_INERRS]++;
    tp.segPreLen = 0;
    p.free(skb);
    return;
  }
  if (get16(b, o + TH_SPORT) === 0 || get16(b, o + TH_DPORT) === 0) {
    tp.mib[TCP_INERRS]++;
    tp.segPreLen = 0;
    p.free(skb);
    return;
  }
  tp.mib[TCP_INSEGS]++;
  tp.segSaddr = saddr;
  tp.segDaddr = daddr;
  tp.segSport = get16(b, o + TH_SPORT);
  tp.segDport = get16(b, o + TH_DPORT);
  tp.segSeq = getSeq(b, o + TH_SEQ);
  tp.segAck = getSeq(b, o + TH_ACK);
  tp.segFlags = flags;
  tp.segWnd = get16(b, o + TH_WIN);
  tp.segSynWnd = (flags & TCPF_SYN) !== 0;
  tp.segLen = len - hlen;
  tp.segOff = o + hlen;
  tcpV4Dispatch(st, skb, t);
  tp.segPreLen = 0;
  p.free(skb);
}

/**
 * The receive fast path's copy (csum_and_copy_to_user on the way in,
 * tcp_v4_rcv + tcp_rcv_established): when the payload is the next
 * in-order data of an ESTABLISHED TCB and fits the ring's free space,
 * copy it to where tcpDataQueue would put it (rcvHead + rcvCount) and
 * add it to the running checksum `sum` in the same pass. Nothing is
 * committed here: rcvCount/rcvNxt move only in tcpDataQueue, after the
 * checksum has been verified and the header processed; a bad segment
 * leaves the bytes in free space. Out-of-order data also lives beyond
 * rcvCount, so a payload reaching into a held range takes the plain
 * path. Returns the sum including the payload.
 */
function tcpRcvPrecopy(tp: TcpState, t: number, b: Uint8Array, o: number, hlen: number, plen: number, sum: number): number {
  const soff = o + hlen;
  if (
    tp.state[t] !== TCP_ESTABLISHED || (b[o + TH_FLAGS] & (TCPF_SYN | TCPF_RST)) !== 0 ||
    plen > tp.rcvLimit[t] - tp.rcvCount[t] || getSeq(b, o + TH_SEQ) !== tp.rcvNxt[t]
  ) return csumPartial(b, soff, plen, sum);
  const end = s32(tp.rcvNxt[t] + plen);
  const base = t * tp.K;
  for (let i = 0; i < tp.oooN[t]; i++) {
    if (after(end, tp.oooS[base + i])) return csumPartial(b, soff, plen, sum);
  }
  const ring = tp.rcvRing[t];
  const size = ring.length;
  const pos = (tp.rcvHead[t] + tp.rcvCount[t]) % size;
  let first = size - pos;
  if (first > plen) first = plen;
  // hlen is a multiple of 4: the payload starts at an even offset of the checksummed range
  let s = csumPartialCopy(ring, pos, b, soff, first, sum);
  if (plen > first) s = csumBlockAdd(s, csumPartialCopy(ring, 0, b, soff + first, plen - first, 0), first);
  tp.segPreTcb = t;
  tp.segPrePos = pos;
  tp.segPreLen = plen;
  return s;
}

function tcpV4Dispatch(st: Stack, skb: number, t0: number): void {
  const tp = st.tcp;
  const sa = tp.segSaddr;
  const sp = tp.segSport;
  const da = tp.segDaddr;
  const dp = tp.segDport;
  const t = t0 !== -2 ? t0 : tcpLookupEstablished(st, sa, sp, da, dp);
  if (t >= 0) {
    if (tp.state[t] === TCP_ESTABLISHED) tcpRcvEstablished(st, t, skb);
    else tcpRcvStateProcess(st, t, skb);
    return;
  }
  const r = reqLookup(st, sa, sp, da, dp);
  if (r >= 0) {
    const c = tcpCheckReq(st, r);
    if (c >= 0) tcpRcvStateProcess(st, c, skb); // tcp_child_process
    return;
  }
  const w = tcpLookupTimeWait(st, sa, sp, da, dp);
  if (w >= 0) {
    if (tcpTwProcess(st, w) !== TW_SYN) return;
  }
  const l = tcpLookupListener(st, da, dp);
  if (l >= 0) {
    const f = tp.segFlags;
    if ((f & TCPF_RST) !== 0) return;
    if ((f & TCPF_ACK) !== 0) {
      // a SYN cookie's final ACK, else RFC 9293 §3.10.7.2: an ACK at a listener draws a RST
      const c = FEATURE_TCP_SYNCOOKIES && (f & TCPF_SYN) === 0 ? tcpCookieChild(st, l) : -1;
      if (c >= 0) tcpRcvStateProcess(st, c, skb);
      else if (c === -1) tcpV4SendReset(st);
      return;
    }
    if ((f & (TCPF_SYN | TCPF_FIN)) === (TCPF_SYN | TCPF_FIN)) {
      // SYN+FIN is no valid opening (a scanner's probe): dropped, as Linux's
      // tcp_rcv_state_process does in LISTEN; counted in Tcp InErrs
      tp.mib[TCP_INERRS]++;
    } else if ((f & TCPF_SYN) !== 0) {
      // < 0: SYN queue full with cookies on (FEATURE_TCP_SYNCOOKIES off: tcpConnRequest dropped and counted it)
      const q = tcpConnRequest(st, l);
      if (FEATURE_TCP_SYNCOOKIES && q < 0) tcpSendCookieSynAck(st, l);
    }
    tp.isnHint = -1;
    return;
  }
  tp.isnHint = -1;
  tcpV4SendReset(st);
}

/* ---------------- ICMP errors ---------------- */

/** tcp_v4_err: skb data at the quoted IP header (not freed here). */
export function tcpV4Err(st: Stack, skb: number, type: number, code: number, info: number): void {
  const tp = st.tcp;
  const p = st.pool;
  const b = p.buf[skb];
  const o = p.data[skb];
  const ihl = (b[o] & 0x0f) * 4;
  if (ihl < 20 || p.tail[skb] - o < ihl + 8) return;
  const saddr = getAddr(b, o + 12); // our address
  const daddr = getAddr(b, o + 16);
  const th = o + ihl;
  const sport = get16(b, th);
  const dport = get16(b, th + 2);
  const seq = getSeq(b, th + 4);
  const t = tcpLookupEstablished(st, daddr, dport, saddr, sport);
  if (t < 0) return;
  // RFC 5927 §4.1: the quoted sequence number must be outstanding
  if (before(seq, tp.sndUna[t]) || after(seq, tp.sndMax[t])) {
    tp.ext[TX_OUTOFWINDOWICMPS]++;
    return;
  }
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) {
    // FEATURE_TCP_PMTU off: our segments never carry DF, so this can only be stale or forged:
    // ignored (RFC 1122 §4.2.3.9 asks for it to be acted on only by PMTU discovery)
    if (FEATURE_TCP_PMTU) tcpV4MtuReduced(st, t, info, get16(b, o + 2));
    return;
  }
  let err = 0;
  let hard = false;
  if (type === ICMP_DEST_UNREACH) {
    hard = code === ICMP_PROT_UNREACH || code === ICMP_PORT_UNREACH;
    err = hard ? ECONNREFUSED : code === 0 ? ENETUNREACH : EHOSTUNREACH;
  } else if (type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETERPROB) {
    err = EHOSTUNREACH;
  } else {
    return;
  }
  const s = tp.state[t];
  if (hard && (s === TCP_SYN_SENT || s === TCP_SYN_RECV)) {
    tp.err[t] = err;
    tcpDone(st, t);
    return;
  }
  // soft error: reported if the connection later times out (sk_err_soft)
  tp.softErr[t] = err;
}

/** RFC 1191 §7 plateau table: MTUs to try when a router does not report one. */
const MTU_PLATEAUS = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];
/** Linux ip_rt_min_pmtu: below this the path is not trusted; DF is cleared instead. */
const PMTU_MIN = 552;

/**
 * tcp_v4_mtu_reduced (RFC 1191 §6.1, RFC 1122 §4.2.2.6): a router could not
 * forward a segment of ours (quoted IP length `tooBig`) without fragmenting
 * it; its next-hop MTU is `mtu` (0 from an RFC 792 router: the next lower
 * plateau is used). The MSS drops and the segments in flight are sent again
 * at the new size (tcp_simple_retransmit: they were dropped, not congested,
 * so cwnd and ssthresh stay).
 */
export function tcpV4MtuReduced(st: Stack, t: number, mtu0: number, tooBig: number): void {
  const tp = st.tcp;
  let mtu = mtu0;
  if (mtu < 68) {
    const sent = tooBig >= 68 ? tooBig : tp.smss[t] + 40;
    mtu = 68;
    for (let i = 0; i < MTU_PLATEAUS.length; i++) {
      if (MTU_PLATEAUS[i] < sent) {
        mtu = MTU_PLATEAUS[i];
        break;
      }
    }
  }
  if (mtu < PMTU_MIN) {
    mtu = PMTU_MIN;
    tp.flags[t] |= F_NOPMTU; // let the routers fragment from now on
  }
  const mss = mtu - 40 > 88 ? mtu - 40 : 88;
  if (mss >= tp.advMss[t]) {
    if ((tp.flags[t] & F_NOPMTU) === 0) return;
  } else {
    tp.advMss[t] = mss;
    tcpSyncMss(st, t);
  }
  if (!tcpCanSend(tp.state[t]) || tp.sndUna[t] === tp.sndMax[t]) return;
  if ((tp.flags[t] & (F_SACK_RECOV | F_RENO_RECOV)) === 0) {
    tp.sndNxt[t] = tp.sndUna[t];
    tcpWriteXmit(st, t);
  }
  if (tp.sndNxt[t] === tp.sndUna[t]) tcpXmitAt(st, t, tp.sndUna[t], tp.smss[t], true);
}

/* ---------------- connect ---------------- */

/** inet_hash_connect's port choice: a random start, then linear probing. */
export function tcpPickEphemeral(st: Stack, laddr: number): number {
  const tp = st.tcp;
  const lo = st.cfg.ephemeralLow;
  const span = st.cfg.ephemeralHigh - lo + 1;
  for (let i = 0; i < span; i++) {
    tp.nextEphemeral = (tp.nextEphemeral + 1) % span;
    const port = lo + tp.nextEphemeral;
    if (!tcpPortInUse(st, laddr, port, -1)) return port;
  }
  return 0;
}

/** Another TCB (not `self`) bound to port on an overlapping local address. */
export function tcpPortInUse(st: Stack, laddr: number, port: number, self: number): boolean {
  const tp = st.tcp;
  for (let t = 0; t < tp.n; t++) {
    if (t === self || tp.state[t] === TCP_FREE || tp.lport[t] !== port) continue;
    if (tp.laddr[t] === 0 || laddr === 0 || tp.laddr[t] === laddr) return true;
  }
  return false;
}

/** tcp_v4_connect + tcp_connect: SYN_SENT and the SYN. 0 or -errno. */
export function tcpV4Connect(st: Stack, t: number, daddr: number, dport: number): number {
  const tp = st.tcp;
  const c = st.cfg;
  let saddr = tp.laddr[t];
  if (saddr === 0) {
    saddr = inAddr(tp.ops.selectSource(st, daddr));
    if (saddr === 0) return -ENETUNREACH;
  }
  if (tp.lport[t] === 0) {
    const port = tcpPickEphemeral(st, saddr);
    if (port === 0) return -EADDRNOTAVAIL;
    tp.lport[t] = port;
  }
  // the 4-tuple must be unique
  for (let k = 0; k < tp.n; k++) {
    if (k === t || tp.state[k] === TCP_FREE || tp.state[k] === TCP_LISTEN) continue;
    if (tp.lport[k] === tp.lport[t] && tp.rport[k] === dport && tp.raddr[k] === daddr && tp.laddr[k] === saddr) {
      return -EADDRNOTAVAIL;
    }
  }
  tp.laddr[t] = saddr;
  tp.raddr[t] = inAddr(daddr);
  tp.rport[t] = dport;
  const iss = tcpSecureIsn(st, saddr, tp.lport[t], daddr, dport);
  tp.iss[t] = iss;
  tp.sndUna[t] = iss;
  tp.sndNxt[t] = s32(iss + 1);
  tp.sndMax[t] = s32(iss + 1);
  tp.sndBase[t] = s32(iss + 1);
  tp.writeSeq[t] = s32(iss + 1);
  tp.sndHead[t] = 0;
  tp.recover[t] = iss;
  tp.highRxt[t] = iss;
  tp.rcvWscale[t] = FEATURE_TCP_WSCALE && c.tcpWindowScaling ? tcpWscaleFor(tp.rcvLimit[t]) : 0;
  let fl = tp.flags[t] | F_WS_OFFERED;
  // offered; cleared if the SYN-ACK lacks it (FEATURE_TCP_TIMESTAMPS off: never offered, RFC 7323 §3.2)
  if (FEATURE_TCP_TIMESTAMPS && c.tcpTimestamps) fl |= F_TS;
  tp.flags[t] = fl;
  tp.tsOffset[t] = FEATURE_TCP_TIMESTAMPS ? tcpTsOffset(st, saddr, daddr) : 0;
  tp.advMss[t] = tcpAdvMss(st, daddr);
  tp.peerMss[t] = tp.advMss[t];
  tcpSyncMss(st, t);
  tp.rto[t] = c.tcpRtoInitMs;
  tp.backoff[t] = 0;
  tp.retransmits[t] = 0;
  tp.rttTime[t] = st.now();
  tcpSetState(st, t, TCP_SYN_SENT);
  tp.mib[TCP_ACTIVEOPENS]++;
  tcpSendSyn(st, t);
  tcpResetXmitTimer(st, t);
  return 0;
}
