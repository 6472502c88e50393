/*
 * tcp.ts — the compact stack's TCP: one input path, one output path, one
 * timer pass (src/compact/net.ts calls tcpInput for every TCP segment to
 * us, tcpTick from netTick, tcpKick when an ARP reply arrives; the
 * NetworkJS adapter calls the tcpListen/Connect/Accept/Recv/Send/Close
 * API). For the small boards' `full` profile: none of the general stack's
 * optional machinery (SACK, timestamps, window scaling, out-of-order
 * queue, SYN cookies, keep-alive, PMTU discovery), each of which the
 * Linux kernel does without.
 *
 * State: one Float64Array (n.tcb), TCB_FIELDS numbers per control block,
 * grouped by concern with one reset (tcbReset): identity (F_STATE..F_ERR),
 * send side (F_ISS..F_MAXWND), receive side (F_RCV_NXT..F_UNACKED),
 * timers (F_RTO..F_RETRIES). Each block has a send ring and a receive ring
 * of cfg.tcpBuf bytes in n.tbuf. The segment being processed is parsed into
 * locals of tcpInput (its fields passed explicitly, never kept in state).
 * Sequence numbers are stored as signed 32-bit values; comparisons use
 * (a - b) | 0 (RFC 9293 §3.4 modular arithmetic).
 *
 * Implements (RFC 9293 unless noted): the state machine of §3.3.2 and the
 * event processing of §3.10.7 (LISTEN, SYN-SENT, synchronized states:
 * sequence check, RST, SYN, ACK, data, FIN), RST generation §3.10.7.1,
 * MSS option §3.7.1 (sent in SYNs, other options skipped §3.1),
 * RFC 5961 (§3 RST and §4 SYN challenge ACKs, §5 ACK range check),
 * RFC 6298 retransmission timer (Karn, backoff, 200 ms floor as Linux),
 * RFC 5681 slow start, congestion avoidance and fast retransmit on three
 * duplicate ACKs (no fast-recovery window inflation), RFC 1122 §4.2.3.2
 * delayed ACKs (every second full segment, 40 ms), §4.2.3.3 receiver
 * window-update rule (SWS avoidance), §4.2.2.17 zero-window probing (a
 * probe with SEG.SEQ = SND.UNA - 1, as Linux), RFC 2525 §2.17 (close with
 * unread data sends RST), TIME-WAIT blocks reused oldest-first when none is
 * free (lwIP's tcp_kill_timewait). Out-of-order data is dropped and
 * answered with an immediate duplicate ACK (RFC 5681 §4.2).
 */
import type { Net } from './net';
import { TCB_FIELDS, L4_OFF, rand, get16, put16, get32, put32, l4Csum, ipSend, C_TCP_RST_TX, C_TCP_RETRANS, C_TCP_DROP, copy } from './net';
import { IPPROTO_TCP } from '../ipv4/ip';
import {
  TH_SEQ, TH_ACK, TH_DOFF, TH_FLAGS, TH_WIN, TH_CSUM, TH_URP, TCP_HLEN,
  TCPF_FIN, TCPF_SYN, TCPF_RST, TCPF_PSH, TCPF_ACK, TCPOPT_EOL, TCPOPT_NOP, TCPOPT_MSS, TCP_MSS_DEFAULT, TCP_MIN_MSS,
  TCP_FREE, TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_CLOSE,
  TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING,
} from '../transport/tcp/tcp';
import { ECONNRESET, ECONNREFUSED, ETIMEDOUT, EPIPE, EADDRINUSE, ENOBUFS } from '../core/errno';

/* Control block fields (n.tcb[t * TCB_FIELDS + F_x]). Identity: */
const F_STATE = 0;
const F_LPORT = 1;
const F_RPORT = 2;
const F_RIP = 3;
/** listener a passive connection came from (-1 = none) */
const F_PARENT = 4;
const F_FLAGS = 5;
/** positive errno once the connection failed (reset, refused, timed out) */
const F_ERR = 6;
/* Send side: */
const F_ISS = 7;
const F_SND_UNA = 8;
const F_SND_NXT = 9;
const F_SND_WND = 10;
const F_SND_WL1 = 11;
const F_SND_WL2 = 12;
/** send ring: position of the byte at SND.UNA, bytes held (unacknowledged + unsent) */
const F_SB_HEAD = 13;
const F_SB_LEN = 14;
/** segment size we send (peer's MSS, our MTU and buffer) */
const F_MSS = 15;
const F_CWND = 16;
const F_SSTHRESH = 17;
const F_DUPACKS = 18;
/** largest window the peer offered (RFC 5961 §5 MAX.SND.WND) */
const F_MAXWND = 19;
/* Receive side: */
const F_RCV_NXT = 20;
/** receive ring: position of the first unread byte, bytes held */
const F_RB_HEAD = 21;
const F_RB_LEN = 22;
/** right edge of the window last advertised (RCV.NXT + RCV.WND when sent) */
const F_RCV_ADV = 23;
/** delayed ACK due (ms, 0 = none) */
const F_ACK_DUE = 24;
/** bytes received since the last ACK we sent */
const F_UNACKED = 25;
/* Timers: */
const F_RTO = 26;
const F_SRTT = 27;
const F_RTTVAR = 28;
/** RTT sample: the sequence that ends it and when it started (0 = none running) */
const F_RTT_SEQ = 29;
const F_RTT_T = 30;
/** retransmission / persist / TIME-WAIT / FIN-WAIT-2 deadline (ms, 0 = none) */
const F_RTX_DUE = 31;
const F_RETRIES = 32;
/** highest sequence sent (SND.NXT goes back to SND.UNA on a timeout; ACKs up to here are valid) */
const F_SND_MAX = 33;
/** the largest segment received (Linux's rcv_mss estimate): the delayed-ACK rule counts in these */
const F_RCV_MSS = 34;

/* F_FLAGS bits */
/** handed to the application (connect, or accept of a passive one) */
const FL_OWNED = 1;
/** the application closed it: free once the protocol is done */
const FL_CLOSED = 2;
/** a FIN is to follow the data in the send ring (the application closed) */
const FL_FIN_Q = 4;
/** our FIN has been sent: SND.NXT counts it */
const FL_FIN_SENT = 8;
/** send an ACK now */
const FL_ACK_NOW = 16;
/** the peer's FIN arrived (end of stream after the ring drains) */
const FL_FIN_RCVD = 32;

/** our MSS: Ethernet MTU 1500 - 40 */
export const TCP_OUR_MSS = 1460;
export const TCP_RTO_INIT = 1000;
export const TCP_RTO_MIN = 200;
export const TCP_RTO_MAX = 60000;
export const TCP_DELACK_MS = 40;
/** TIME-WAIT (2 MSL) and the FIN-WAIT-2 timeout of an orphaned connection (Linux tcp_fin_timeout) */
export const TCP_TIMEWAIT_MS = 30000;
export const TCP_SYN_RETRIES = 5;
export const TCP_DATA_RETRIES = 10;

function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Reset every field of block t (state FREE). */
function tcbReset(n: Net, t: number): void {
  n.tcb.fill(0, t * TCB_FIELDS, (t + 1) * TCB_FIELDS);
}

/**
 * A free block: a FREE one, else the TIME-WAIT one closest to expiry
 * (lwIP's tcp_kill_timewait). -1 when every block is busy.
 */
function tcbAlloc(n: Net): number {
  const c = n.tcb;
  let tw = -1;
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const b = t * TCB_FIELDS;
    if (c[b + F_STATE] === TCP_FREE) {
      tcbReset(n, t);
      return t;
    }
    if (c[b + F_STATE] === TCP_TIME_WAIT && (tw < 0 || c[b + F_RTX_DUE] < c[tw * TCB_FIELDS + F_RTX_DUE])) tw = t;
  }
  if (tw >= 0) tcbReset(n, tw);
  return tw;
}

/** Start a block's send side: ISS (RFC 6528-like: clock + random), RTO, MSS. */
function tcbStart(n: Net, t: number, state: number, lport: number, rip: number, rport: number): void {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  const iss = ((n.clock.now() * 250) + rand(n)) | 0;
  c[b + F_STATE] = state;
  c[b + F_LPORT] = lport;
  c[b + F_RPORT] = rport;
  c[b + F_RIP] = rip;
  c[b + F_PARENT] = -1;
  c[b + F_ISS] = iss;
  c[b + F_SND_UNA] = iss;
  c[b + F_SND_NXT] = iss;
  c[b + F_MSS] = TCP_MSS_DEFAULT;
  c[b + F_RTO] = TCP_RTO_INIT;
  c[b + F_SSTHRESH] = 65535;
}

/** Give a block back: FREE (its rings need no clearing). */
function tcbFree(n: Net, t: number): void {
  tcbReset(n, t);
}

/**
 * Send one segment of block t: seq, flags, `dlen` bytes of the send ring
 * starting `doff` bytes after SND.UNA's byte, ACK = RCV.NXT, our window.
 * SYNs carry our MSS (RFC 9293 §3.7.1). Returns ipSend's result.
 */
function tcpXmit(n: Net, t: number, seq: number, flags: number, doff: number, dlen: number): number {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  const tx = n.tx;
  const B = n.cfg.tcpBuf;
  const h = L4_OFF;
  const hl = (flags & TCPF_SYN) !== 0 ? TCP_HLEN + 4 : TCP_HLEN;
  put16(tx, h, c[b + F_LPORT]);
  put16(tx, h + 2, c[b + F_RPORT]);
  put32(tx, h + TH_SEQ, seq);
  put32(tx, h + TH_ACK, (flags & TCPF_ACK) !== 0 ? c[b + F_RCV_NXT] : 0);
  tx[h + TH_DOFF] = hl << 2;
  tx[h + TH_FLAGS] = flags;
  // receive window (RFC 1122 §4.2.3.3): move the right edge only by at least min(buffer/2, MSS)
  const space = B - c[b + F_RB_LEN];
  const nxt = c[b + F_RCV_NXT];
  let wnd = space;
  const adv = (c[b + F_RCV_ADV] - nxt) | 0;
  if ((flags & TCPF_SYN) === 0 && adv >= 0 && adv <= space && space - adv < (B >>> 1 < TCP_OUR_MSS ? B >>> 1 : TCP_OUR_MSS)) wnd = adv;
  else c[b + F_RCV_ADV] = (nxt + wnd) | 0;
  put16(tx, h + TH_WIN, wnd > 65535 ? 65535 : wnd);
  put16(tx, h + TH_CSUM, 0);
  put16(tx, h + TH_URP, 0);
  if (hl > TCP_HLEN) put32(tx, h + TCP_HLEN, (TCPOPT_MSS << 24) | (4 << 16) | (TCP_OUR_MSS < B ? TCP_OUR_MSS : B));
  if (dlen > 0) {
    // the send ring from SB_HEAD + doff, in at most two pieces
    const base = t * 2 * B;
    let p = (c[b + F_SB_HEAD] + doff) % B;
    const first = B - p < dlen ? B - p : dlen;
    copy(tx, h + hl, n.tbuf, base + p, first);
    if (first < dlen) copy(tx, h + hl + first, n.tbuf, base, dlen - first);
  }
  put16(tx, h + TH_CSUM, l4Csum(tx, h, hl + dlen, n.ip, c[b + F_RIP], IPPROTO_TCP));
  if ((flags & TCPF_ACK) !== 0) {
    c[b + F_ACK_DUE] = 0;
    c[b + F_UNACKED] = 0;
    c[b + F_FLAGS] &= ~FL_ACK_NOW;
  }
  return ipSend(n, c[b + F_RIP], IPPROTO_TCP, hl + dlen, false);
}

/**
 * RST for the segment in rx that found no connection (RFC 9293 §3.10.7.1):
 * <SEQ=SEG.ACK><CTL=RST> when it had an ACK, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never for a RST.
 */
function tcpRstReply(n: Net, off: number, seglen: number, src: number): void {
  const r = n.rx;
  const tx = n.tx;
  const fl = r[off + TH_FLAGS];
  if ((fl & TCPF_RST) !== 0) return;
  const h = L4_OFF;
  put16(tx, h, get16(r, off + 2));
  put16(tx, h + 2, get16(r, off));
  if ((fl & TCPF_ACK) !== 0) {
    put32(tx, h + TH_SEQ, get32(r, off + TH_ACK));
    put32(tx, h + TH_ACK, 0);
    tx[h + TH_FLAGS] = TCPF_RST;
  } else {
    put32(tx, h + TH_SEQ, 0);
    put32(tx, h + TH_ACK, (get32(r, off + TH_SEQ) + seglen) | 0);
    tx[h + TH_FLAGS] = TCPF_RST | TCPF_ACK;
  }
  tx[h + TH_DOFF] = TCP_HLEN << 2;
  put32(tx, h + TH_WIN, 0); // window 0, checksum 0
  put16(tx, h + TH_URP, 0);
  put16(tx, h + TH_CSUM, l4Csum(tx, h, TCP_HLEN, n.ip, src, IPPROTO_TCP));
  n.cnt[C_TCP_RST_TX]++;
  ipSend(n, src, IPPROTO_TCP, TCP_HLEN, true);
}

/** Arm the retransmission timer if it is not running. */
function rtxArm(n: Net, b: number): void {
  const c = n.tcb;
  if (c[b + F_RTX_DUE] === 0) c[b + F_RTX_DUE] = n.clock.now() + c[b + F_RTO];
}

/**
 * Send what block t may send now: its SYN (or SYN-ACK), new data within
 * min(SND.WND, cwnd) in MSS-sized segments, the FIN after the data, or a
 * bare ACK when one is owed. Sender SWS avoidance (RFC 9293 §3.8.6.2.1):
 * a segment shorter than the MSS goes only when it carries all the data
 * there is; a closed window arms the persist timer.
 */
function tcpOutput(n: Net, t: number): void {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  const st = c[b + F_STATE];
  if (st === TCP_SYN_SENT || st === TCP_SYN_RECV) {
    if (c[b + F_SND_NXT] === c[b + F_ISS]) {
      tcpXmit(n, t, c[b + F_ISS], st === TCP_SYN_SENT ? TCPF_SYN : TCPF_SYN | TCPF_ACK, 0, 0);
      c[b + F_SND_NXT] = (c[b + F_ISS] + 1) | 0;
      c[b + F_SND_MAX] = c[b + F_SND_NXT];
      if (c[b + F_RTT_T] === 0) {
        c[b + F_RTT_SEQ] = c[b + F_SND_NXT];
        c[b + F_RTT_T] = n.clock.now();
      }
      rtxArm(n, b);
    } else if ((c[b + F_FLAGS] & FL_ACK_NOW) !== 0 && st === TCP_SYN_RECV) {
      tcpXmit(n, t, c[b + F_ISS], TCPF_SYN | TCPF_ACK, 0, 0);
    }
    return;
  }
  if (st !== TCP_ESTABLISHED && st !== TCP_CLOSE_WAIT && st !== TCP_FIN_WAIT1 && st !== TCP_CLOSING && st !== TCP_LAST_ACK) {
    if ((c[b + F_FLAGS] & FL_ACK_NOW) !== 0 && st !== TCP_FREE && st !== TCP_LISTEN && st !== TCP_CLOSE) tcpXmit(n, t, c[b + F_SND_NXT], TCPF_ACK, 0, 0);
    return;
  }
  const mss = c[b + F_MSS];
  const wnd = c[b + F_SND_WND] < c[b + F_CWND] ? c[b + F_SND_WND] : c[b + F_CWND];
  for (let guard = 0; guard < 64; guard++) {
    const fl = c[b + F_FLAGS];
    if ((fl & FL_FIN_SENT) !== 0) break;
    const off = (c[b + F_SND_NXT] - c[b + F_SND_UNA]) | 0;
    const avail = c[b + F_SB_LEN] - off;
    let len = avail < mss ? avail : mss;
    if (len > wnd - off) len = wnd - off;
    const fin = (fl & FL_FIN_Q) !== 0 && len === avail;
    if (len <= 0 && !(fin && avail === 0)) {
      // zero window with data waiting and nothing in flight: the persist timer probes (§3.8.6.1)
      if (avail > 0 && off === 0) rtxArm(n, b);
      break;
    }
    // RFC 1122 §4.2.3.4: a full segment, all the data there is, or at least half the largest window offered
    if (len < mss && len < avail && len * 2 < c[b + F_MAXWND]) break;
    const seq = c[b + F_SND_NXT];
    if (tcpXmit(n, t, seq, TCPF_ACK | (len === avail && len > 0 ? TCPF_PSH : 0) | (fin ? TCPF_FIN : 0), off, len) !== 0 && off === 0) {
      // next hop being resolved: the ARP reply kicks us (tcpKick); the timer covers a lost one
      rtxArm(n, b);
      break;
    }
    c[b + F_SND_NXT] = (seq + len + (fin ? 1 : 0)) | 0;
    if (fin) c[b + F_FLAGS] |= FL_FIN_SENT;
    if (seqLt(c[b + F_SND_MAX], c[b + F_SND_NXT])) c[b + F_SND_MAX] = c[b + F_SND_NXT];
    if (c[b + F_RTT_T] === 0) {
      c[b + F_RTT_SEQ] = c[b + F_SND_NXT];
      c[b + F_RTT_T] = n.clock.now();
    }
    rtxArm(n, b);
  }
  if ((c[b + F_FLAGS] & FL_ACK_NOW) !== 0) tcpXmit(n, t, c[b + F_SND_NXT], TCPF_ACK, 0, 0);
}

/** The connection failed (err > 0) or ended: wake the application, free it if it already let go. */
function tcpDrop(n: Net, t: number, err: number): void {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  if ((c[b + F_FLAGS] & (FL_OWNED | FL_CLOSED)) !== FL_OWNED) {
    // closed by the application, or a passive one nobody accepted yet
    tcbFree(n, t);
    return;
  }
  c[b + F_STATE] = TCP_CLOSE;
  c[b + F_ERR] = err;
  c[b + F_RTX_DUE] = 0;
  c[b + F_ACK_DUE] = 0;
}

/** Enter TIME-WAIT (2 MSL), or free at once when the application is gone and asked for nothing more. */
function timeWait(n: Net, b: number): void {
  n.tcb[b + F_STATE] = TCP_TIME_WAIT;
  n.tcb[b + F_RTX_DUE] = n.clock.now() + TCP_TIMEWAIT_MS;
}

/** Parse the MSS option from the segment's options (RFC 9293 §3.1: unknown kinds skipped by length). */
function optMss(r: Uint8Array, o: number, end: number): number {
  let p = o;
  while (p < end) {
    const k = r[p];
    if (k === TCPOPT_EOL) break;
    if (k === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end || r[p + 1] < 2 || p + r[p + 1] > end) break;
    if (k === TCPOPT_MSS && r[p + 1] === 4) return get16(r, p + 2);
    p += r[p + 1];
  }
  return TCP_MSS_DEFAULT;
}

/**
 * The segment size to send: the peer's MSS, at most ours and half our send
 * ring, at least TCP_MIN_MSS. Half the ring: a full ring is then at least
 * two segments in flight, so a receiver that ACKs every second segment
 * (RFC 1122 §4.2.3.2; Linux, Windows, us) answers at once instead of after
 * its delayed-ACK timer (uIP's uip-split; lwIP asks TCP_SND_BUF >= 2 * TCP_MSS).
 */
function sendMss(n: Net, peer: number): number {
  let m = peer < TCP_OUR_MSS ? peer : TCP_OUR_MSS;
  if (m > n.cfg.tcpBuf >>> 1) m = n.cfg.tcpBuf >>> 1;
  return m < TCP_MIN_MSS ? TCP_MIN_MSS : m;
}

/** Start of congestion control (RFC 5681 §3.1 initial window). */
function congStart(c: Float64Array, b: number): void {
  const m = c[b + F_MSS];
  c[b + F_CWND] = m > 2190 ? 2 * m : m > 1095 ? 3 * m : 4 * m;
  c[b + F_SSTHRESH] = 65535;
}

/**
 * One TCP segment in rx at off (len bytes, from src): checksum, demultiplex,
 * then RFC 9293 §3.10.7 for the block's state.
 */
export function tcpInput(n: Net, off: number, len: number, src: number): void {
  const r = n.rx;
  const c = n.tcb;
  const B = n.cfg.tcpBuf;
  const hl = (r[off + TH_DOFF] >>> 4) * 4;
  if (len < TCP_HLEN || hl < TCP_HLEN || hl > len || l4Csum(r, off, len, src, n.ip, IPPROTO_TCP) !== 0) {
    n.cnt[C_TCP_DROP]++;
    return;
  }
  const sport = get16(r, off);
  const dport = get16(r, off + 2);
  let seq = get32(r, off + TH_SEQ);
  const ack = get32(r, off + TH_ACK);
  const fl = r[off + TH_FLAGS];
  const wnd = get16(r, off + TH_WIN);
  let doff = off + hl;
  let dlen = len - hl;
  const seglen = dlen + ((fl & TCPF_SYN) !== 0 ? 1 : 0) + ((fl & TCPF_FIN) !== 0 ? 1 : 0);
  const now = n.clock.now();
  // demultiplex: an exact match, else a listener on the port
  let t = -1;
  let l = -1;
  for (let i = 0; i < n.cfg.tcbs; i++) {
    const b = i * TCB_FIELDS;
    const s = c[b + F_STATE];
    if (s === TCP_FREE || c[b + F_LPORT] !== dport) continue;
    if (s === TCP_LISTEN) l = i;
    else if (c[b + F_RPORT] === sport && c[b + F_RIP] === src && s !== TCP_CLOSE) t = i;
  }
  if (t < 0) {
    // SYN+FIN is no valid opening (a scanner's probe): dropped, as Linux does in LISTEN
    if (l < 0 || (fl & (TCPF_RST | TCPF_ACK | TCPF_SYN | TCPF_FIN)) !== TCPF_SYN) {
      // no connection (§3.10.7.1); a listener ignores RST and resets an ACK (§3.10.7.2)
      if (l < 0 || (fl & TCPF_ACK) !== 0) tcpRstReply(n, off, seglen, src);
      else n.cnt[C_TCP_DROP]++;
      return;
    }
    // LISTEN + SYN: a new SYN-RECEIVED block (no room: drop, the peer retries)
    t = tcbAlloc(n);
    if (t < 0) {
      n.cnt[C_TCP_DROP]++;
      return;
    }
    const b = t * TCB_FIELDS;
    tcbStart(n, t, TCP_SYN_RECV, dport, src, sport);
    c[b + F_PARENT] = l;
    c[b + F_RCV_NXT] = (seq + 1) | 0;
    c[b + F_MSS] = sendMss(n, optMss(r, off + TCP_HLEN, off + hl));
    c[b + F_SND_WND] = wnd;
    c[b + F_SND_WL1] = seq;
    c[b + F_MAXWND] = wnd;
    tcpOutput(n, t);
    return;
  }
  const b = t * TCB_FIELDS;
  let st = c[b + F_STATE];
  if (st === TCP_SYN_SENT) {
    // §3.10.7.3
    const ackOk = (fl & TCPF_ACK) !== 0 && seqLt(c[b + F_ISS], ack) && !seqLt(c[b + F_SND_NXT], ack);
    if ((fl & TCPF_ACK) !== 0 && !ackOk) {
      tcpRstReply(n, off, seglen, src);
      return;
    }
    if ((fl & TCPF_RST) !== 0) {
      if (ackOk) tcpDrop(n, t, ECONNREFUSED);
      return;
    }
    if ((fl & TCPF_SYN) === 0) return;
    c[b + F_RCV_NXT] = (seq + 1) | 0;
    c[b + F_MSS] = sendMss(n, optMss(r, off + TCP_HLEN, off + hl));
    c[b + F_SND_WND] = wnd;
    c[b + F_SND_WL1] = seq;
    c[b + F_SND_WL2] = ack;
    c[b + F_MAXWND] = wnd;
    c[b + F_FLAGS] |= FL_ACK_NOW;
    if (ackOk) {
      c[b + F_SND_UNA] = ack;
      c[b + F_STATE] = TCP_ESTABLISHED;
      c[b + F_RTX_DUE] = 0;
      c[b + F_RETRIES] = 0;
      congStart(c, b);
      if (c[b + F_RTT_T] !== 0) rttSample(c, b, now - c[b + F_RTT_T]);
      c[b + F_RTT_T] = 0;
    } else {
      // simultaneous open: SYN-RECEIVED, our SYN again with an ACK
      c[b + F_STATE] = TCP_SYN_RECV;
      c[b + F_SND_NXT] = c[b + F_ISS];
    }
    tcpOutput(n, t);
    return;
  }
  // §3.10.7.4 first: is the segment acceptable? (receive window = free ring space)
  const rwnd = B - c[b + F_RB_LEN];
  const rnxt = c[b + F_RCV_NXT];
  const d0 = (seq - rnxt) | 0;
  const ok = seglen === 0
    ? (rwnd === 0 ? d0 === 0 : d0 >= 0 && d0 < rwnd)
    : rwnd > 0 && ((d0 >= 0 && d0 < rwnd) || (((d0 + seglen - 1) | 0) >= 0 && ((d0 + seglen - 1) | 0) < rwnd));
  if (!ok) {
    if ((fl & TCPF_RST) === 0) {
      if (st === TCP_TIME_WAIT && (fl & TCPF_FIN) !== 0) c[b + F_RTX_DUE] = now + TCP_TIMEWAIT_MS;
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
    }
    n.cnt[C_TCP_DROP]++;
    return;
  }
  // second: RST (RFC 5961 §3.2: exact RCV.NXT resets, elsewhere in the window a challenge ACK)
  if ((fl & TCPF_RST) !== 0) {
    if (d0 !== 0) {
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
      return;
    }
    if (st === TCP_SYN_RECV && c[b + F_PARENT] >= 0 && (c[b + F_FLAGS] & FL_OWNED) === 0) tcbFree(n, t);
    else if (st === TCP_TIME_WAIT || st === TCP_LAST_ACK || st === TCP_CLOSING) tcbFree(n, t);
    else tcpDrop(n, t, st === TCP_SYN_RECV ? ECONNREFUSED : ECONNRESET);
    return;
  }
  // fourth: a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4)
  if ((fl & TCPF_SYN) !== 0) {
    if (st === TCP_SYN_RECV && seq === ((rnxt - 1) | 0)) {
      // the peer's SYN again: our SYN-ACK was lost
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
      return;
    }
    c[b + F_FLAGS] |= FL_ACK_NOW;
    tcpOutput(n, t);
    return;
  }
  // fifth: ACK
  if ((fl & TCPF_ACK) === 0) {
    n.cnt[C_TCP_DROP]++;
    return;
  }
  const una = c[b + F_SND_UNA];
  const nxt = c[b + F_SND_MAX];
  if (st === TCP_SYN_RECV) {
    if (!seqLt(una, ack) || seqLt(nxt, ack)) {
      tcpRstReply(n, off, seglen, src);
      return;
    }
    // a simultaneous open the application already closed goes on to FIN-WAIT-1
    st = (c[b + F_FLAGS] & FL_FIN_Q) !== 0 ? TCP_FIN_WAIT1 : TCP_ESTABLISHED;
    c[b + F_STATE] = st;
    c[b + F_SND_WND] = wnd;
    c[b + F_SND_WL1] = seq;
    c[b + F_SND_WL2] = ack;
    congStart(c, b);
  }
  // RFC 5961 §5: an ACK beyond SND.NXT or older than SND.UNA - MAX.SND.WND is answered and dropped
  if (seqLt(nxt, ack) || seqLt(ack, (una - c[b + F_MAXWND]) | 0)) {
    c[b + F_FLAGS] |= FL_ACK_NOW;
    tcpOutput(n, t);
    return;
  }
  if (seqLt(una, ack)) {
    // new data (or our SYN / FIN) acknowledged
    let acked = (ack - una) | 0;
    if (una === c[b + F_ISS]) acked--; // our SYN
    // our FIN follows the last byte of the ring (RFC 9293 §3.10.7.4: "if our FIN is now acknowledged")
    const finAcked = (c[b + F_FLAGS] & FL_FIN_Q) !== 0 && acked === c[b + F_SB_LEN] + 1;
    if (finAcked) acked--;
    if (acked > c[b + F_SB_LEN]) acked = c[b + F_SB_LEN];
    // after going back to SND.UNA on a timeout, an ACK for more than we resent moves SND.NXT on
    if (seqLt(c[b + F_SND_NXT], ack)) {
      c[b + F_SND_NXT] = ack;
      if (finAcked) c[b + F_FLAGS] |= FL_FIN_SENT;
    }
    c[b + F_SB_HEAD] = (c[b + F_SB_HEAD] + acked) % B;
    c[b + F_SB_LEN] -= acked;
    c[b + F_SND_UNA] = ack;
    c[b + F_DUPACKS] = 0;
    c[b + F_RETRIES] = 0;
    // RFC 6298 §5: restart the timer, or stop it when everything is acknowledged
    c[b + F_RTX_DUE] = ack === nxt ? 0 : now + c[b + F_RTO];
    // Karn: time only segments never retransmitted (F_RTT_T is cleared on retransmission)
    if (c[b + F_RTT_T] !== 0 && !seqLt(ack, c[b + F_RTT_SEQ])) {
      rttSample(c, b, now - c[b + F_RTT_T]);
      c[b + F_RTT_T] = 0;
    }
    // RFC 5681 §3.1: slow start below ssthresh, then about one MSS per RTT
    const m = c[b + F_MSS];
    const cw = c[b + F_CWND];
    c[b + F_CWND] = cw + (cw < c[b + F_SSTHRESH] ? (acked < m ? acked : m) : ((m * m / cw) | 0) || 1);
    if (c[b + F_CWND] > 65535) c[b + F_CWND] = 65535;
    if (finAcked) {
      if (st === TCP_FIN_WAIT1) {
        st = TCP_FIN_WAIT2;
        c[b + F_STATE] = st;
        // an orphan does not wait forever for the peer's FIN (Linux tcp_fin_timeout)
        if ((c[b + F_FLAGS] & FL_CLOSED) !== 0) c[b + F_RTX_DUE] = now + TCP_TIMEWAIT_MS;
      } else if (st === TCP_CLOSING) {
        timeWait(n, b);
        return;
      } else if (st === TCP_LAST_ACK) {
        tcbFree(n, t);
        return;
      }
    }
  } else if (ack === una && dlen === 0 && (fl & TCPF_FIN) === 0 && wnd === c[b + F_SND_WND] && una !== nxt) {
    // RFC 5681 §3.2: the third duplicate ACK retransmits the first unacknowledged segment
    if (++c[b + F_DUPACKS] === 3) {
      const m = c[b + F_MSS];
      const flight = (nxt - una) | 0;
      c[b + F_SSTHRESH] = flight / 2 > 2 * m ? (flight / 2) | 0 : 2 * m;
      c[b + F_CWND] = c[b + F_SSTHRESH];
      c[b + F_RTT_T] = 0;
      const sl = c[b + F_SB_LEN];
      tcpXmit(n, t, una, TCPF_ACK, 0, sl < m ? sl : m);
      n.cnt[C_TCP_RETRANS]++;
    }
  }
  // window update (§3.10.7.4: only from a newer segment)
  if (seqLt(c[b + F_SND_WL1], seq) || (c[b + F_SND_WL1] === seq && !seqLt(ack, c[b + F_SND_WL2]))) {
    c[b + F_SND_WND] = wnd;
    c[b + F_SND_WL1] = seq;
    c[b + F_SND_WL2] = ack;
    if (wnd > c[b + F_MAXWND]) c[b + F_MAXWND] = wnd;
  }
  if (st === TCP_TIME_WAIT) {
    if ((fl & TCPF_FIN) !== 0) {
      c[b + F_RTX_DUE] = now + TCP_TIMEWAIT_MS;
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
    }
    return;
  }
  // seventh: data, in order only (§3.10.7.4; out of order: dropped, duplicate ACK at once)
  if (st === TCP_ESTABLISHED || st === TCP_FIN_WAIT1 || st === TCP_FIN_WAIT2) {
    let fin = (fl & TCPF_FIN) !== 0;
    if (d0 < 0) {
      // the front was received already
      const skip = -d0 < dlen ? -d0 : dlen;
      doff += skip;
      dlen -= skip;
      seq = (seq + skip) | 0;
    }
    if (seq !== c[b + F_RCV_NXT]) {
      n.cnt[C_TCP_DROP]++;
      c[b + F_FLAGS] |= FL_ACK_NOW;
      fin = false;
      dlen = 0;
    }
    if (dlen > 0) {
      const space = B - c[b + F_RB_LEN];
      const k = dlen < space ? dlen : space;
      if (k < dlen) fin = false; // the FIN comes after what did not fit
      const base = t * 2 * B + B;
      const p = (c[b + F_RB_HEAD] + c[b + F_RB_LEN]) % B;
      const first = B - p < k ? B - p : k;
      copy(n.tbuf, base + p, r, doff, first);
      if (first < k) copy(n.tbuf, base, r, doff + first, k - first);
      c[b + F_RB_LEN] += k;
      c[b + F_RCV_NXT] = (c[b + F_RCV_NXT] + k) | 0;
      c[b + F_UNACKED] += k;
      // RFC 1122 §4.2.3.2: ACK at least every second full-sized segment (sized by the largest
      // received so far, as Linux does); else within TCP_DELACK_MS
      if (k > c[b + F_RCV_MSS]) c[b + F_RCV_MSS] = k;
      if (c[b + F_UNACKED] >= 2 * c[b + F_RCV_MSS] || k < dlen) c[b + F_FLAGS] |= FL_ACK_NOW;
      else if (c[b + F_ACK_DUE] === 0) c[b + F_ACK_DUE] = now + TCP_DELACK_MS;
    }
    if (fin) {
      // eighth: FIN
      c[b + F_RCV_NXT] = (c[b + F_RCV_NXT] + 1) | 0;
      c[b + F_FLAGS] |= FL_FIN_RCVD | FL_ACK_NOW;
      if (st === TCP_ESTABLISHED) c[b + F_STATE] = TCP_CLOSE_WAIT;
      else if (st === TCP_FIN_WAIT2 || (c[b + F_SND_UNA] === c[b + F_SND_NXT] && (c[b + F_FLAGS] & FL_FIN_SENT) !== 0)) {
        tcpOutput(n, t);
        timeWait(n, b);
        return;
      } else c[b + F_STATE] = TCP_CLOSING;
    }
  } else if ((fl & TCPF_FIN) !== 0 && seq === c[b + F_RCV_NXT] && dlen === 0) {
    // a FIN retransmitted into CLOSE-WAIT, CLOSING or LAST-ACK: acknowledge again
    c[b + F_FLAGS] |= FL_ACK_NOW;
  }
  tcpOutput(n, t);
}

/** RFC 6298 §2: a round-trip sample (ms) updates SRTT, RTTVAR and the RTO. */
function rttSample(c: Float64Array, b: number, r: number): void {
  if (c[b + F_SRTT] === 0) {
    c[b + F_SRTT] = r > 0 ? r : 1;
    c[b + F_RTTVAR] = r / 2;
  } else {
    const e = c[b + F_SRTT] - r;
    c[b + F_RTTVAR] = 0.75 * c[b + F_RTTVAR] + 0.25 * (e < 0 ? -e : e);
    c[b + F_SRTT] = 0.875 * c[b + F_SRTT] + 0.125 * r;
  }
  let rto = c[b + F_SRTT] + 4 * c[b + F_RTTVAR];
  if (rto < TCP_RTO_MIN) rto = TCP_RTO_MIN;
  c[b + F_RTO] = rto > TCP_RTO_MAX ? TCP_RTO_MAX : rto;
}

/**
 * Timers of every block: delayed ACKs, retransmission (RFC 6298 §5: back
 * off, go back to SND.UNA, cwnd to one segment), zero-window probes,
 * TIME-WAIT and orphaned FIN-WAIT-2 expiry, giving up after too many
 * retransmissions (ETIMEDOUT).
 */
export function tcpTick(n: Net, now: number): void {
  const c = n.tcb;
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const b = t * TCB_FIELDS;
    const st = c[b + F_STATE];
    if (st === TCP_FREE || st === TCP_LISTEN || st === TCP_CLOSE) continue;
    if (c[b + F_ACK_DUE] !== 0 && now >= c[b + F_ACK_DUE]) {
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
    }
    const due = c[b + F_RTX_DUE];
    if (due === 0 || now < due) continue;
    if (st === TCP_TIME_WAIT || st === TCP_FIN_WAIT2) {
      tcbFree(n, t);
      continue;
    }
    const una = c[b + F_SND_UNA];
    const m = c[b + F_MSS];
    let rto = c[b + F_RTO] * 2;
    c[b + F_RTO] = rto > TCP_RTO_MAX ? TCP_RTO_MAX : rto;
    c[b + F_RTX_DUE] = now + c[b + F_RTO];
    c[b + F_RTT_T] = 0;
    if (una === c[b + F_SND_NXT] && c[b + F_SB_LEN] > 0 && c[b + F_SND_WND] === 0) {
      // zero-window probe: SEQ = SND.UNA - 1 makes the peer answer with its window (Linux)
      tcpXmit(n, t, (una - 1) | 0, TCPF_ACK, 0, 0);
      continue;
    }
    if (++c[b + F_RETRIES] > (st === TCP_SYN_SENT || st === TCP_SYN_RECV ? TCP_SYN_RETRIES : TCP_DATA_RETRIES)) {
      tcpDrop(n, t, ETIMEDOUT);
      continue;
    }
    const flight = (c[b + F_SND_NXT] - una) | 0;
    c[b + F_SSTHRESH] = flight / 2 > 2 * m ? (flight / 2) | 0 : 2 * m;
    c[b + F_CWND] = m;
    c[b + F_SND_NXT] = una;
    c[b + F_FLAGS] &= ~FL_FIN_SENT;
    n.cnt[C_TCP_RETRANS]++;
    tcpOutput(n, t);
  }
}

/** An ARP reply for `ip` arrived: blocks whose next hop it is send again at once (no backoff). */
export function tcpKick(n: Net, ip: number): void {
  const c = n.tcb;
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const b = t * TCB_FIELDS;
    const rip = c[b + F_RIP];
    const hop = ((rip ^ n.ip) & n.mask) === 0 ? rip : n.gw;
    const st = c[b + F_STATE];
    if (hop !== ip || st === TCP_FREE || st === TCP_LISTEN || st === TCP_CLOSE || st === TCP_TIME_WAIT) continue;
    if (c[b + F_SND_UNA] !== c[b + F_SND_NXT] && c[b + F_RETRIES] === 0) {
      c[b + F_SND_NXT] = c[b + F_SND_UNA];
      c[b + F_FLAGS] &= ~FL_FIN_SENT;
      c[b + F_RTT_T] = 0;
    }
    tcpOutput(n, t);
  }
}

/** A free ephemeral port (49152–65535) no block uses. */
function ephemeral(n: Net): number {
  for (let k = 0; k < 64; k++) {
    const p = 49152 + (rand(n) & 0x3fff);
    let used = false;
    for (let t = 0; t < n.cfg.tcbs; t++) if (n.tcb[t * TCB_FIELDS + F_STATE] !== TCP_FREE && n.tcb[t * TCB_FIELDS + F_LPORT] === p) used = true;
    if (!used) return p;
  }
  return 49152;
}

/** Listen on port. Returns the listener's block, -EADDRINUSE, or -ENOBUFS (no block). */
export function tcpListen(n: Net, port: number): number {
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const b = t * TCB_FIELDS;
    if (n.tcb[b + F_STATE] === TCP_LISTEN && n.tcb[b + F_LPORT] === port) return -EADDRINUSE;
  }
  const t = tcbAlloc(n);
  if (t < 0) return -ENOBUFS;
  n.tcb[t * TCB_FIELDS + F_STATE] = TCP_LISTEN;
  n.tcb[t * TCB_FIELDS + F_LPORT] = port;
  n.tcb[t * TCB_FIELDS + F_PARENT] = -1;
  n.tcb[t * TCB_FIELDS + F_FLAGS] = FL_OWNED;
  return t;
}

/** Active open to ip:port (the SYN goes now, or after ARP). Returns the block or -ENOBUFS. */
export function tcpConnect(n: Net, ip: number, port: number): number {
  const t = tcbAlloc(n);
  if (t < 0) return -ENOBUFS;
  tcbStart(n, t, TCP_SYN_SENT, ephemeral(n), ip | 0, port);
  n.tcb[t * TCB_FIELDS + F_FLAGS] = FL_OWNED;
  tcpOutput(n, t);
  return t;
}

/** The next connection of listener l that completed its handshake, or -1. */
export function tcpAccept(n: Net, l: number): number {
  const c = n.tcb;
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const b = t * TCB_FIELDS;
    const st = c[b + F_STATE];
    if (c[b + F_PARENT] === l && st !== TCP_FREE && st !== TCP_SYN_RECV && (c[b + F_FLAGS] & FL_OWNED) === 0) {
      c[b + F_FLAGS] |= FL_OWNED;
      c[b + F_PARENT] = -1;
      return t;
    }
  }
  return -1;
}

/**
 * Read up to max bytes into dst[0..]. Returns the count; 0 when nothing is
 * there yet; -1 at the end of the stream; a negative errno once the
 * connection failed. Sends a window update only when the window opens
 * by at least min(buffer/2, MSS) (RFC 1122 §4.2.3.3), not per call.
 */
export function tcpRecv(n: Net, t: number, dst: Uint8Array, max: number): number {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  const B = n.cfg.tcpBuf;
  const have = c[b + F_RB_LEN];
  if (have === 0) {
    if (c[b + F_ERR] !== 0) return -c[b + F_ERR];
    if ((c[b + F_FLAGS] & FL_FIN_RCVD) !== 0 || c[b + F_STATE] === TCP_FREE || c[b + F_STATE] === TCP_CLOSE) return -1;
    return 0;
  }
  const k = have < max ? have : max;
  const base = t * 2 * B + B;
  const p = c[b + F_RB_HEAD];
  const first = B - p < k ? B - p : k;
  copy(dst, 0, n.tbuf, base + p, first);
  if (first < k) copy(dst, first, n.tbuf, base, k - first);
  c[b + F_RB_HEAD] = (p + k) % B;
  c[b + F_RB_LEN] = have - k;
  const st = c[b + F_STATE];
  if (st === TCP_ESTABLISHED || st === TCP_FIN_WAIT1 || st === TCP_FIN_WAIT2) {
    const edge = (c[b + F_RCV_NXT] + B - have + k) | 0;
    if (((edge - c[b + F_RCV_ADV]) | 0) >= (B >>> 1 < TCP_OUR_MSS ? B >>> 1 : TCP_OUR_MSS)) {
      c[b + F_FLAGS] |= FL_ACK_NOW;
      tcpOutput(n, t);
    }
  }
  return k;
}

/**
 * Queue len bytes of src at off. Returns the bytes taken (0: no room, or
 * still connecting), or a negative errno (-EPIPE after close or FIN).
 */
export function tcpSend(n: Net, t: number, src: Uint8Array, off: number, len: number): number {
  const c = n.tcb;
  const b = t * TCB_FIELDS;
  const B = n.cfg.tcpBuf;
  const st = c[b + F_STATE];
  if (c[b + F_ERR] !== 0) return -c[b + F_ERR];
  if (st === TCP_SYN_SENT || st === TCP_SYN_RECV) return 0;
  if ((st !== TCP_ESTABLISHED && st !== TCP_CLOSE_WAIT) || (c[b + F_FLAGS] & FL_FIN_Q) !== 0) return -EPIPE;
  const room = B - c[b + F_SB_LEN];
  const k = len < room ? len : room;
  if (k <= 0) return 0;
  const base = t * 2 * B;
  const p = (c[b + F_SB_HEAD] + c[b + F_SB_LEN]) % B;
  const first = B - p < k ? B - p : k;
  copy(n.tbuf, base + p, src, off, first);
  if (first < k) copy(n.tbuf, base, src, off + first, k - first);
  c[b + F_SB_LEN] += k;
  tcpOutput(n, t);
  return k;
}

/**
 * The application is done with block t: a listener, a connection not yet
 * established, or one that failed is freed at once (a listener's
 * unaccepted connections are reset); an open connection sends its FIN after
 * the data (RST instead when unread data would be lost, RFC 2525 §2.17) and
 * is freed by the protocol later.
 */
export function tcpClose(n: Net, t: number): void {
  const c = n.tcb;
  if (t < 0 || t >= n.cfg.tcbs) return;
  const b = t * TCB_FIELDS;
  const st = c[b + F_STATE];
  c[b + F_FLAGS] |= FL_CLOSED;
  if (st === TCP_LISTEN) {
    // its connections nobody accepted yet (a block's parent is -1 once owned)
    for (let i = 0; i < n.cfg.tcbs; i++) {
      const st2 = c[i * TCB_FIELDS + F_STATE];
      if (i !== t && c[i * TCB_FIELDS + F_PARENT] === t && st2 !== TCP_FREE && st2 !== TCP_LISTEN) tcpAbort(n, i);
    }
    tcbFree(n, t);
  } else if (st === TCP_SYN_SENT || st === TCP_CLOSE || st === TCP_FREE) {
    tcbFree(n, t);
  } else if ((st === TCP_ESTABLISHED || st === TCP_CLOSE_WAIT) && c[b + F_RB_LEN] > 0) {
    tcpAbort(n, t);
  } else if (st === TCP_ESTABLISHED || st === TCP_CLOSE_WAIT || st === TCP_SYN_RECV) {
    c[b + F_FLAGS] |= FL_FIN_Q;
    c[b + F_STATE] = st === TCP_CLOSE_WAIT ? TCP_LAST_ACK : st === TCP_SYN_RECV ? TCP_SYN_RECV : TCP_FIN_WAIT1;
    tcpOutput(n, t);
  } else if (st === TCP_FIN_WAIT2) {
    c[b + F_RTX_DUE] = n.clock.now() + TCP_TIMEWAIT_MS;
  }
}

/** Send a RST for block t (SEQ = SND.NXT) and free it (RFC 9293 §3.10.4 ABORT). */
function tcpAbort(n: Net, t: number): void {
  const b = t * TCB_FIELDS;
  const st = n.tcb[b + F_STATE];
  if (st !== TCP_SYN_SENT && st !== TCP_TIME_WAIT && st !== TCP_CLOSE) {
    tcpXmit(n, t, n.tcb[b + F_SND_NXT], TCPF_RST | TCPF_ACK, 0, 0);
    n.cnt[C_TCP_RST_TX]++;
  }
  tcbFree(n, t);
}

/** State of block t (the TCP_* numbers of src/transport/tcp/tcp.ts; TCP_FREE when gone). */
export function tcpState(n: Net, t: number): number {
  return t >= 0 && t < n.cfg.tcbs ? n.tcb[t * TCB_FIELDS + F_STATE] : TCP_FREE;
}
