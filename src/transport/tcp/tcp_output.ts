/*
 * tcp_output.ts — building and sending segments (net/ipv4/tcp_output.c):
 *
 *   tcp_sendmsg ─► tcpWriteXmit ─► tcpTransmitSkb ─► ops.xmit (ip_build_and_send_pkt)
 *   timers / input ─► tcpRetransmitSkb, tcpSendAck, tcpSendProbe, tcpSendActiveReset
 *   no socket ─► tcpV4SendReset (RFC 9293 §3.10.7.1), tcpSendCtl (TIME_WAIT ACKs)
 *
 * Segments are built into fresh skbs at transmit time from the TCB's send
 * ring, so a retransmission simply re-reads the ring (no skb is held per
 * unacknowledged segment). RFC 9293 §3.8.6.2.1 (sender SWS avoidance,
 * Nagle RFC 896), §3.8.6.2.2 (receiver SWS avoidance), RFC 7323 (options),
 * RFC 2018 (SACK blocks, most recent first), RFC 2883 (a D-SACK block first),
 * RFC 1122 §4.2.2.17 (persist), RFC 1191 (DF on TCB segments: PMTU discovery).
 */
import type { Stack } from '../../stack';
import { s32, after, before } from '../../core/bits';
import { put16, put32 } from '../../core/bytes';
import { csumPartial, csumPartialCopy, csumBlockAdd, csumFinish } from '../../core/checksum';
import { SKB_NONE } from '../../core/skb';
import { ENOBUFS, EMSGSIZE } from '../../core/errno';
import {
  TcpState, TH_SPORT, TH_DPORT, TH_SEQ, TH_ACK, TH_DOFF, TH_FLAGS, TH_WIN, TH_CSUM, TH_URP, TCP_HLEN,
  TCPF_FIN, TCPF_SYN, TCPF_RST, TCPF_PSH, TCPF_ACK, TCPOPT_NOP, TCPOPT_MSS, TCPOPT_WINDOW,
  TCPOPT_SACK_PERM, TCPOPT_SACK, TCPOPT_TIMESTAMP, F_TS, F_WS, F_SACK, F_NODELAY, F_FIN_QUEUED, F_RTT_ACTIVE,
  F_ACK_PENDING, F_ACK_NOW, F_PROBE, F_ZWND_ADV, F_SACK_RECOV, F_RENO_RECOV, TCP_SYN_SENT,
  TCP_SYN_RECV, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_FIN_WAIT1, TCP_CLOSING, TCP_LAST_ACK,
  TCP_OUTSEGS, TCP_RETRANSSEGS, TCP_OUTRSTS, TX_NOSKB, TX_ORIGDATASENT, TX_TOZEROWINDOWADV,
  TX_FROMZEROWINDOWADV, TX_LIMITEDTRANSMIT, seqDiff, tcpTimeStamp, TCP_MAX_WSCALE, TCP_MIN_MSS,
  TCP_MSS_DEFAULT, F_DSACK, F_NOPMTU, TX_DSACKOLDSENT, F_REO_TMR, F_TLP_TMR, F_UNDO,
  tcpPseudoSum,
} from './tcp';
import { sbSkip, sbNextSacked, rkOnXmit } from './tcp_seq';
import {
  FEATURE_TCP_SACK, FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_WSCALE, FEATURE_TCP_PMTU, FEATURE_TCP_RACK,
} from '../../features';

/* ---------------- timers (arming only; handlers in tcp_timer.ts) ---------------- */

/** Current RTO with backoff, bounded by tcpRtoMaxMs. */
export function tcpRtoBackoff(st: Stack, t: number): number {
  const tp = st.tcp;
  let r = tp.rto[t];
  const max = st.cfg.tcpRtoMaxMs;
  for (let i = 0; i < tp.backoff[t] && r < max; i++) r = r * 2;
  return r < max ? r : max;
}

/** The retransmit timer's other roles (persist, RACK reordering, tail loss probe). */
const TMR_ROLES = F_PROBE | F_REO_TMR | F_TLP_TMR;

/** inet_csk_reset_xmit_timer(ICSK_TIME_RETRANS) */
export function tcpResetXmitTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.flags[t] &= ~TMR_ROLES;
  st.timers.mod(tp.tRtx[t], st.now() + tcpRtoBackoff(st, t));
}

/** Arm the persist timer (zero window, RFC 1122 §4.2.2.17). */
export function tcpResetProbeTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.flags[t] = (tp.flags[t] & ~TMR_ROLES) | F_PROBE;
  st.timers.mod(tp.tRtx[t], st.now() + tcpRtoBackoff(st, t));
}

export function tcpClearXmitTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.flags[t] &= ~TMR_ROLES;
  st.timers.del(tp.tRtx[t]);
}

/**
 * Loss probes in a row without anything delivered, before the RTO is left
 * to fire; each waits twice as long as the one before (PTO backoff). RFC
 * 8985 §7 sends one probe; several with a backed-off PTO are QUIC's
 * design (RFC 9002 §6.2: probes on PTO expiry, the PTO doubling each time).
 * On a path that loses ACKs as well as data (20% each way: a probe and its
 * ACK both get through only 64% of the time) one probe often goes
 * unanswered, and the RTO's 200 ms floor costs 50-200 round trips of a LAN.
 * Four probes go within ~15 PTOs (~60 ms at a 1 ms RTT); after an RTO none
 * until something is delivered again, so a dead path sees the RTO backoff
 * alone.
 */
export const TLP_MAX = 4;

/**
 * RFC 8985 §7.2 / Linux tcp_schedule_loss_probe (FEATURE_TCP_RACK, SACK
 * connections): with data in flight, no reordering timer and fewer than
 * TLP_MAX probes since data was last delivered, the retransmit timer
 * becomes the loss probe timer, PTO = 2·SRTT (+ the RTO floor when a single
 * segment is out, for a delayed ACK; else + 2 ms), doubled per probe
 * already sent, when that is sooner than the RTO. tcpTlpTimeout
 * (tcp_recovery.ts) sends the probe. Armed in recovery too, where it stands
 * in for the ACK clock when every ACK was lost (a probe's SACK lets RACK
 * find lost retransmissions, RFC 8985 §6.2).
 */
export function tcpScheduleLossProbe(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  const fl = tp.flags[t];
  if (!FEATURE_TCP_RACK || tp.M === 0 || (fl & F_SACK) === 0) return;
  if ((fl & (F_PROBE | F_REO_TMR)) !== 0 || rk.tlpCount[t] >= TLP_MAX || tp.sndUna[t] === tp.sndMax[t]) return;
  if (tp.srtt8[t] === 0 || !tcpCanSend(tp.state[t])) return;
  let pto = tp.srtt8[t] >>> 2; // 2·SRTT in whole ms (an integer: no boxed double per ACK on V8)
  pto += seqDiff(tp.sndMax[t], tp.sndUna[t]) <= tp.smss[t] ? st.cfg.tcpRtoMinMs : 2;
  for (let i = 0; i < rk.tlpCount[t]; i++) pto *= 2;
  const now = st.now();
  const rtoAt = st.timers.pending(tp.tRtx[t]) && (fl & F_TLP_TMR) === 0
    ? st.timers.expires[tp.tRtx[t]] : now + tcpRtoBackoff(st, t);
  if (now + pto >= rtoAt) return;
  rk.tlpRtoAt[t] = rtoAt;
  tp.flags[t] |= F_TLP_TMR;
  st.timers.mod(tp.tRtx[t], now + pto);
}

/* ---------------- windows and MSS ---------------- */

/** Our window scale for a receive buffer of `buf` bytes (RFC 7323 §2.3). */
export function tcpWscaleFor(buf: number): number {
  let s = 0;
  while (s < TCP_MAX_WSCALE && Math.floor(buf / Math.pow(2, s)) > 65535) s++;
  return s;
}

/**
 * tcp_select_window: the window to advertise (bytes). The right edge
 * never moves left, and moves right only by at least min(buf/2, MSS)
 * (receiver SWS avoidance). Records the new right edge.
 */
export function tcpSelectWindow(st: Stack, t: number): number {
  const tp = st.tcp;
  const limit = tp.rcvLimit[t];
  let free = limit - tp.rcvCount[t];
  if (free < 0) free = 0;
  let cur = seqDiff(tp.rcvEdge[t], tp.rcvNxt[t]);
  if (cur < 0) cur = 0;
  const half = Math.floor(limit / 2);
  const thresh = tp.advMss[t] < half ? tp.advMss[t] : half;
  let win = free >= cur && free - cur >= thresh ? free : cur;
  const ws = tp.rcvWscale[t];
  if (ws > 0) {
    const unit = 1 << ws;
    let w2 = Math.floor(win / unit) * unit;
    if (w2 < cur) w2 = Math.floor((cur + unit - 1) / unit) * unit;
    win = w2;
  }
  const max = 65535 * (1 << ws);
  if (win > max) win = max;
  tp.rcvEdge[t] = s32(tp.rcvNxt[t] + win);
  if (win === 0) {
    if ((tp.flags[t] & F_ZWND_ADV) === 0) {
      tp.flags[t] |= F_ZWND_ADV;
      tp.ext[TX_TOZEROWINDOWADV]++;
    }
  } else if ((tp.flags[t] & F_ZWND_ADV) !== 0) {
    tp.flags[t] &= ~F_ZWND_ADV;
    tp.ext[TX_FROMZEROWINDOWADV]++;
  }
  return win;
}

/** The window field for a TCB segment (selects and scales). */
function windowField(st: Stack, t: number, syn: boolean): number {
  const tp = st.tcp;
  if (syn) {
    const w = tp.rcvLimit[t] < 65535 ? tp.rcvLimit[t] : 65535;
    tp.rcvEdge[t] = s32(tp.rcvNxt[t] + w);
    return w;
  }
  const w = tcpSelectWindow(st, t);
  return Math.floor(w / (1 << tp.rcvWscale[t])) & 0xffff;
}

/** tcp_sync_mss: payload per segment = min(peer MSS, ours) less the timestamp option. */
export function tcpSyncMss(st: Stack, t: number): void {
  const tp = st.tcp;
  let m = tp.peerMss[t] < tp.advMss[t] ? tp.peerMss[t] : tp.advMss[t];
  if (FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0) m -= 12;
  if (m < TCP_MIN_MSS) m = TCP_MIN_MSS;
  tp.smss[t] = m;
  tp.rcvMss[t] = m < TCP_MSS_DEFAULT ? m : TCP_MSS_DEFAULT;
}

/**
 * tcp_current_mss: payload that fits in this TCB's next segment — the
 * SACK blocks we are about to send take option space (RFC 2018 §3), and a
 * segment must never grow past the path MTU.
 */
export function tcpCurrentMss(st: Stack, t: number): number {
  const tp = st.tcp;
  let m = tp.smss[t];
  if (FEATURE_TCP_SACK && (tp.flags[t] & F_SACK) !== 0 && (tp.oooN[t] > 0 || (tp.flags[t] & F_DSACK) !== 0)) {
    let nb = tp.oooN[t] + ((tp.flags[t] & F_DSACK) !== 0 ? 1 : 0);
    const maxB = FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0 ? 3 : 4;
    if (nb > maxB) nb = maxB;
    m -= 4 + 8 * nb;
  }
  return m;
}

/* ---------------- building ---------------- */

/**
 * Write TCP options at b[o..]; returns their length (a multiple of 4).
 * SYN layout follows Linux: MSS, SACK_PERM+TS (or NOP NOP TS), NOP WS.
 * mss < 0: not a SYN. ws < 0: no window scale. sackT >= 0: SACK blocks of that TCB.
 */
function writeOptions(
  tp: TcpState, b: Uint8Array, o: number, mss: number, ws: number, sackPerm: boolean,
  ts: boolean, tsval: number, tsecr: number, sackT: number,
): number {
  let p = o;
  if (mss >= 0) {
    b[p] = TCPOPT_MSS;
    b[p + 1] = 4;
    put16(b, p + 2, mss);
    p += 4;
  }
  if (FEATURE_TCP_TIMESTAMPS && ts) {
    if (sackPerm) {
      b[p] = TCPOPT_SACK_PERM;
      b[p + 1] = 2;
    } else {
      b[p] = TCPOPT_NOP;
      b[p + 1] = TCPOPT_NOP;
    }
    b[p + 2] = TCPOPT_TIMESTAMP;
    b[p + 3] = 10;
    put32(b, p + 4, tsval);
    put32(b, p + 8, tsecr);
    p += 12;
  } else if (sackPerm) {
    b[p] = TCPOPT_NOP;
    b[p + 1] = TCPOPT_NOP;
    b[p + 2] = TCPOPT_SACK_PERM;
    b[p + 3] = 2;
    p += 4;
  }
  if (FEATURE_TCP_WSCALE && ws >= 0) {
    b[p] = TCPOPT_NOP;
    b[p + 1] = TCPOPT_WINDOW;
    b[p + 2] = 3;
    b[p + 3] = ws & 0xff;
    p += 4;
  }
  if (FEATURE_TCP_SACK && sackT >= 0) {
    const ds = (tp.flags[sackT] & F_DSACK) !== 0;
    let nb = tp.oooN[sackT] + (ds ? 1 : 0);
    const maxB = ts ? 3 : 4;
    if (nb > maxB) nb = maxB;
    if (nb > 0) {
      b[p] = TCPOPT_NOP;
      b[p + 1] = TCPOPT_NOP;
      b[p + 2] = TCPOPT_SACK;
      b[p + 3] = 2 + 8 * nb;
      p += 4;
      let i = 0;
      if (ds) {
        // RFC 2883 §4: the D-SACK block comes first
        put32(b, p, tp.dsS[sackT]);
        put32(b, p + 4, tp.dsE[sackT]);
        p += 8;
        i = 1;
      }
      const base = sackT * tp.K - (ds ? 1 : 0);
      for (; i < nb; i++) {
        put32(b, p, tp.oooS[base + i]);
        put32(b, p + 4, tp.oooE[base + i]);
        p += 8;
      }
    }
  }
  return p - o;
}

function optionsLen(tp: TcpState, mss: number, ws: number, sackPerm: boolean, ts: boolean, sackT: number): number {
  let n = 0;
  if (mss >= 0) n += 4;
  if (FEATURE_TCP_TIMESTAMPS && ts) n += 12;
  else if (sackPerm) n += 4;
  if (FEATURE_TCP_WSCALE && ws >= 0) n += 4;
  if (FEATURE_TCP_SACK && sackT >= 0) {
    let nb = tp.oooN[sackT] + ((tp.flags[sackT] & F_DSACK) !== 0 ? 1 : 0);
    const maxB = ts ? 3 : 4;
    if (nb > maxB) nb = maxB;
    if (nb > 0) n += 4 + 8 * nb;
  }
  return n;
}

function writeHeader(
  b: Uint8Array, o: number, sport: number, dport: number, seq: number, ack: number, hlen: number,
  flags: number, win: number,
): void {
  put16(b, o + TH_SPORT, sport);
  put16(b, o + TH_DPORT, dport);
  put32(b, o + TH_SEQ, seq);
  put32(b, o + TH_ACK, ack);
  b[o + TH_DOFF] = ((hlen >>> 2) << 4) & 0xff;
  b[o + TH_FLAGS] = flags & 0xff;
  put16(b, o + TH_WIN, win);
  put16(b, o + TH_CSUM, 0);
  put16(b, o + TH_URP, 0);
}

/** tcp_v4_send_check: checksum over the pseudo-header and the whole segment. */
export function tcpV4SendCheck(b: Uint8Array, o: number, len: number, saddr: number, daddr: number): void {
  const sum = csumPartial(b, o, len, tcpPseudoSum(saddr, daddr, len));
  put16(b, o + TH_CSUM, csumFinish(sum));
}

/**
 * tcp_transmit_skb: build one segment of the TCB (payload = len bytes of
 * the send ring starting at seq) and hand it to IP. flags: TCPF_*.
 * Returns 0, or -ENOBUFS when no skb was free (nothing changes then).
 */
export function tcpTransmitSkb(st: Stack, t: number, seq: number, len: number, flags: number): number {
  const tp = st.tcp;
  const syn = (flags & TCPF_SYN) !== 0;
  const fl = tp.flags[t];
  const ts = FEATURE_TCP_TIMESTAMPS && (fl & F_TS) !== 0;
  let mss = -1;
  let ws = -1;
  let sackPerm = false;
  if (syn) {
    mss = tp.advMss[t];
    if (tp.state[t] === TCP_SYN_SENT) {
      ws = FEATURE_TCP_WSCALE && st.cfg.tcpWindowScaling ? tp.rcvWscale[t] : -1; // off: never offered (RFC 7323 §2.2)
      sackPerm = FEATURE_TCP_SACK && st.cfg.tcpSack; // off: never offered (RFC 2018 §2)
    } else {
      ws = FEATURE_TCP_WSCALE && (fl & F_WS) !== 0 ? tp.rcvWscale[t] : -1;
      sackPerm = FEATURE_TCP_SACK && (fl & F_SACK) !== 0;
    }
  }
  const sackT = FEATURE_TCP_SACK && !syn && (fl & F_SACK) !== 0 && (tp.oooN[t] > 0 || (fl & F_DSACK) !== 0) ? t : -1;
  const olen = optionsLen(tp, mss, ws, sackPerm, ts, sackT);
  const hlen = TCP_HLEN + olen;
  const p = st.pool;
  const skb = p.alloc(hlen + len);
  if (skb === SKB_NONE) {
    tp.ext[TX_NOSKB]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, hlen + len);
  const b = p.buf[skb];
  const ackFlag = (flags & TCPF_ACK) !== 0;
  const win = windowField(st, t, syn);
  writeHeader(b, o, tp.lport[t], tp.rport[t], seq, ackFlag ? tp.rcvNxt[t] : 0, hlen, flags, win);
  writeOptions(tp, b, o + TCP_HLEN, mss, ws, sackPerm, ts, s32(tcpTimeStamp(st) + tp.tsOffset[t]),
    tp.tsRecent[t], sackT);
  // checksum the header, then copy the payload out of the send ring and sum it in the
  // same pass (csum_partial_copy; an odd first piece of a wrapped copy swaps the second's bytes)
  let sum = csumPartial(b, o, hlen, tcpPseudoSum(tp.laddr[t], tp.raddr[t], hlen + len));
  if (len > 0) {
    const ring = tp.sndRing[t];
    const size = ring.length;
    const pos = (tp.sndHead[t] + seqDiff(seq, tp.sndBase[t])) % size;
    let first = size - pos;
    if (first > len) first = len;
    sum = csumPartialCopy(b, o + hlen, ring, pos, first, sum);
    if (len > first) sum = csumBlockAdd(sum, csumPartialCopy(b, o + hlen + first, ring, 0, len - first, 0), first);
  }
  put16(b, o + TH_CSUM, csumFinish(sum));
  if (ackFlag) {
    if ((fl & F_DSACK) !== 0 && sackT >= 0) tp.ext[TX_DSACKOLDSENT]++;
    tp.flags[t] &= ~(F_ACK_PENDING | F_ACK_NOW | F_DSACK);
    tp.rcvUnacked[t] = 0;
    st.timers.del(tp.tDack[t]);
  }
  tp.mib[TCP_OUTSEGS]++;
  // DF: RFC 1191 PMTU discovery; FEATURE_TCP_PMTU off: DF clear, routers fragment (RFC 791, RFC 1122 §3.3.3)
  const r = tp.ops.xmit(st, skb, tp.laddr[t], tp.raddr[t], 0, st.cfg.ipDefaultTtl, FEATURE_TCP_PMTU && (fl & F_NOPMTU) === 0);
  if (r === -EMSGSIZE) {
    // our own device MTU is below the segment (it was lowered): as a local frag-needed,
    // the MSS follows it; the segment counts as lost and is resent at the new size
    const mtu = tp.ops.mtuTo(st, tp.raddr[t]);
    if (mtu >= 68 && mtu - 40 < tp.advMss[t]) {
      tp.advMss[t] = mtu - 40 > 88 ? mtu - 40 : 88;
      tcpSyncMss(st, t);
    }
  }
  return 0;
}

/**
 * tcp_send_ctl: a segment without a TCB (RST, TIME_WAIT ACK, SYN-ACK of a
 * request sock). mss/ws/sackPerm as in writeOptions (-1/-1/false for none).
 */
export function tcpSendCtl(
  st: Stack, saddr: number, daddr: number, sport: number, dport: number, seq: number, ack: number,
  flags: number, win: number, ts: boolean, tsval: number, tsecr: number, mss: number, ws: number,
  sackPerm: boolean,
): number {
  const tp = st.tcp;
  const olen = optionsLen(tp, mss, ws, sackPerm, ts, -1);
  const hlen = TCP_HLEN + olen;
  const p = st.pool;
  const skb = p.alloc(hlen);
  if (skb === SKB_NONE) {
    tp.ext[TX_NOSKB]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, hlen);
  const b = p.buf[skb];
  writeHeader(b, o, sport, dport, seq, ack, hlen, flags, win);
  writeOptions(tp, b, o + TCP_HLEN, mss, ws, sackPerm, ts, tsval, tsecr, -1);
  tcpV4SendCheck(b, o, hlen, saddr, daddr);
  tp.mib[TCP_OUTSEGS]++;
  if ((flags & TCPF_RST) !== 0) tp.mib[TCP_OUTRSTS]++;
  tp.ops.xmit(st, skb, saddr, daddr, 0, st.cfg.ipDefaultTtl, false);
  return 0;
}

/**
 * tcp_v4_send_reset: answer the segment parsed in st.tcp.seg* (no TCB, or
 * a TCB that must not see it) with a RST, RFC 9293 §3.10.7.1. Never a RST
 * for a RST.
 */
export function tcpV4SendReset(st: Stack): void {
  const tp = st.tcp;
  const f = tp.segFlags;
  if ((f & TCPF_RST) !== 0) return;
  if ((f & TCPF_ACK) !== 0) {
    tcpSendCtl(st, tp.segDaddr, tp.segSaddr, tp.segDport, tp.segSport, tp.segAck, 0, TCPF_RST, 0,
      false, 0, 0, -1, -1, false);
  } else {
    let l = tp.segLen;
    if ((f & TCPF_SYN) !== 0) l++;
    if ((f & TCPF_FIN) !== 0) l++;
    tcpSendCtl(st, tp.segDaddr, tp.segSaddr, tp.segDport, tp.segSport, 0, s32(tp.segSeq + l),
      TCPF_RST | TCPF_ACK, 0, false, 0, 0, -1, -1, false);
  }
}

/**
 * tcp_acceptable_seq: the sequence number for a segment without data.
 * After a go-back-N (RTO) sndNxt is behind what the peer may already
 * hold; an ACK carrying that old number would fail the peer's sequence
 * check and its ACK field would be ignored. Use the highest sequence
 * sent, bounded by the peer's window.
 */
export function tcpAcceptableSeq(st: Stack, t: number): number {
  const tp = st.tcp;
  const wndEnd = s32(tp.sndUna[t] + tp.sndWnd[t]);
  return !before(wndEnd, tp.sndMax[t]) ? tp.sndMax[t] : wndEnd;
}

/** tcp_send_ack (in SYN_RECV: the SYN-ACK again). */
export function tcpSendAck(st: Stack, t: number): number {
  const tp = st.tcp;
  if (tp.state[t] === TCP_SYN_RECV) return tcpTransmitSkb(st, t, tp.iss[t], 0, TCPF_SYN | TCPF_ACK);
  return tcpTransmitSkb(st, t, tcpAcceptableSeq(st, t), 0, TCPF_ACK);
}

/** SYN (SYN_SENT) or SYN-ACK (SYN_RECV, simultaneous open). */
export function tcpSendSyn(st: Stack, t: number): number {
  const tp = st.tcp;
  const fl = tp.state[t] === TCP_SYN_SENT ? TCPF_SYN : TCPF_SYN | TCPF_ACK;
  return tcpTransmitSkb(st, t, tp.iss[t], 0, fl);
}

/** tcp_xmit_probe_skb: an ACK with an old sequence (snd_una - 1) to elicit an ACK. */
export function tcpSendProbe(st: Stack, t: number): number {
  const tp = st.tcp;
  return tcpTransmitSkb(st, t, s32(tp.sndUna[t] - 1), 0, TCPF_ACK);
}

/** tcp_send_active_reset */
export function tcpSendActiveReset(st: Stack, t: number): void {
  const tp = st.tcp;
  if (tcpTransmitSkb(st, t, tcpAcceptableSeq(st, t), 0, TCPF_RST | TCPF_ACK) === 0) tp.mib[TCP_OUTRSTS]++;
}

/* ---------------- data ---------------- */

/** Data bytes queued and not yet sent. */
export function tcpUnsent(st: Stack, t: number): number {
  const tp = st.tcp;
  const d = seqDiff(tp.writeSeq[t], tp.sndNxt[t]);
  return d > 0 ? d : 0;
}

/** The FIN is queued and has not been sent in the current pass. */
export function tcpFinPending(st: Stack, t: number): boolean {
  const tp = st.tcp;
  return (tp.flags[t] & F_FIN_QUEUED) !== 0 && !after(tp.sndNxt[t], tp.writeSeq[t]);
}

/**
 * Send (or resend) one segment starting at seq, at most maxLen payload
 * bytes (bounded by the MSS and the queued data), with the FIN when it
 * reaches the end of the queue. Updates sndNxt/sndMax and statistics.
 * Returns the sequence space sent (0 when nothing), or -ENOBUFS.
 */
export function tcpXmitAt(st: Stack, t: number, seq: number, maxLen: number, push: boolean): number {
  const tp = st.tcp;
  let len = seqDiff(tp.writeSeq[t], seq);
  if (len < 0) len = 0;
  const cur = tcpCurrentMss(st, t);
  if (len > cur) len = cur;
  if (len > maxLen) len = maxLen;
  // never past the peer's window, retransmissions included (tcp_retransmit_skb's avail_wnd)
  const room = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), seq);
  if (len > room) len = room > 0 ? room : 0;
  let flags = TCPF_ACK;
  const end = s32(seq + len);
  if ((tp.flags[t] & F_FIN_QUEUED) !== 0 && end === tp.writeSeq[t]) flags |= TCPF_FIN;
  if (len === 0 && (flags & TCPF_FIN) === 0) return 0;
  if (push || (flags & TCPF_FIN) !== 0 || end === tp.writeSeq[t]) flags |= TCPF_PSH;
  const r = tcpTransmitSkb(st, t, seq, len, flags);
  if (r < 0) return r;
  const used = len + ((flags & TCPF_FIN) !== 0 ? 1 : 0);
  const e2 = s32(seq + used);
  const rack = FEATURE_TCP_RACK && tp.M > 0 && (tp.flags[t] & F_SACK) !== 0;
  const fresh = after(e2, tp.sndMax[t]);
  if (rack) rkOnXmit(tp, t, seq, e2, st.now(), (tp.flags[t] & F_UNDO) !== 0);
  if (before(seq, tp.sndMax[t])) {
    tp.mib[TCP_RETRANSSEGS]++;
    tp.flags[t] &= ~F_RTT_ACTIVE; // Karn: never time a retransmission
  } else if (len > 0) {
    tp.ext[TX_ORIGDATASENT]++;
  }
  if (!after(seq, tp.sndNxt[t]) && after(e2, tp.sndNxt[t])) tp.sndNxt[t] = e2;
  if (after(e2, tp.sndMax[t])) {
    tp.sndMax[t] = e2;
    if ((tp.flags[t] & (F_TS | F_RTT_ACTIVE)) === 0) {
      tp.flags[t] |= F_RTT_ACTIVE;
      tp.rttSeq[t] = e2;
      tp.rttTime[t] = st.now();
    }
  }
  if (!st.timers.pending(tp.tRtx[t]) || (tp.flags[t] & F_PROBE) !== 0) tcpResetXmitTimer(st, t);
  if (rack && fresh) tcpScheduleLossProbe(st, t);
  return used;
}

/** States in which data (and the FIN) may be sent. */
export function tcpCanSend(state: number): boolean {
  return state === TCP_ESTABLISHED || state === TCP_CLOSE_WAIT || state === TCP_FIN_WAIT1 ||
    state === TCP_CLOSING || state === TCP_LAST_ACK;
}

/**
 * tcp_write_xmit: send new data as the peer's window, the congestion
 * window (plus RFC 3042 limited transmit), Nagle and sender SWS
 * avoidance allow; arms the persist timer on a zero window.
 * In SACK recovery new data is sent by the recovery loop (tcp_cong.ts).
 */
export function tcpWriteXmit(st: Stack, t: number): void {
  const tp = st.tcp;
  if (!tcpCanSend(tp.state[t])) return;
  if (FEATURE_TCP_SACK && (tp.flags[t] & F_SACK_RECOV) !== 0) return;
  const smss = tp.smss[t];
  let allowance = tp.cwnd[t];
  const da = tp.dupAcks[t];
  const limited = da > 0 && da < 3 && (tp.flags[t] & F_RENO_RECOV) === 0;
  if (limited) allowance += da * smss;
  for (let guard = 0; guard < 1024; guard++) {
    // resending after a timeout (sndNxt < sndMax): skip data the receiver SACKed
    let sackLim = -1;
    if (FEATURE_TCP_SACK && tp.sbN[t] > 0 && before(tp.sndNxt[t], tp.sndMax[t])) {
      tp.sndNxt[t] = sbSkip(tp, t, tp.sndNxt[t]);
      if (before(tp.sndNxt[t], tp.sndMax[t])) sackLim = seqDiff(sbNextSacked(tp, t, tp.sndNxt[t], tp.sndMax[t]), tp.sndNxt[t]);
    }
    const avail = tcpUnsent(st, t);
    const fin = tcpFinPending(st, t);
    if (avail === 0 && !fin) return;
    const flight = seqDiff(tp.sndNxt[t], tp.sndUna[t]);
    const wndRoom = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), tp.sndNxt[t]);
    const cwRoom = allowance - flight;
    let len = avail < smss ? avail : smss;
    const hole = sackLim > 0 && len > sackLim;
    if (hole) len = sackLim;
    if (len > wndRoom) len = wndRoom > 0 ? wndRoom : 0;
    if (len > cwRoom) len = cwRoom > 0 ? Math.floor(cwRoom) : 0;
    const all = len === avail;
    if (len === 0 && !(all && fin)) {
      // nothing fits: the peer's window is closed (persist) or cwnd is full (ACKs will clock)
      if (flight === 0 && !st.timers.pending(tp.tRtx[t])) tcpResetProbeTimer(st, t);
      return;
    }
    if (len < smss && !(all && fin) && !(hole && len === sackLim)) {
      if (!all) {
        // window- or cwnd-limited runt: RFC 9293 §3.8.6.2.1 sender SWS avoidance
        if (len < Math.floor(tp.maxSndWnd[t] / 2) || flight > 0) {
          if (flight === 0 && !st.timers.pending(tp.tRtx[t])) tcpResetProbeTimer(st, t);
          return;
        }
      } else if (flight > 0 && (tp.flags[t] & F_NODELAY) === 0) {
        return; // Nagle (RFC 896)
      }
    }
    if (limited && flight + len > tp.cwnd[t]) tp.ext[TX_LIMITEDTRANSMIT]++;
    const r = tcpXmitAt(st, t, tp.sndNxt[t], len, all);
    if (r <= 0) {
      if (!st.timers.pending(tp.tRtx[t])) tcpResetXmitTimer(st, t);
      return;
    }
  }
}

/** tcp_retransmit_skb: resend the segment at seq (at most maxLen bytes). */
export function tcpRetransmitSkb(st: Stack, t: number, seq: number, maxLen: number): number {
  const tp = st.tcp;
  if (tp.state[t] === TCP_SYN_SENT || tp.state[t] === TCP_SYN_RECV) {
    const r = tcpSendSyn(st, t);
    if (r === 0) tp.mib[TCP_RETRANSSEGS]++;
    return r;
  }
  return tcpXmitAt(st, t, seq, maxLen, true);
}

/** Send an ACK now if one is owed with F_ACK_NOW (end of input processing). */
export function tcpAckSndCheck(st: Stack, t: number): void {
  const tp = st.tcp;
  if ((tp.flags[t] & F_ACK_NOW) !== 0) tcpSendAck(st, t);
}
