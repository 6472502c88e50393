/*
 * tcp_input.ts — segment arrival for a TCB (net/ipv4/tcp_input.c):
 *
 *   tcp_v4_rcv (tcp_ipv4.ts) ─► tcpRcvEstablished        (ESTABLISHED)
 *                           ─► tcpRcvStateProcess        (every other state)
 *                                 ─► tcpRcvSynSentStateProcess (SYN_SENT)
 *   both ─► tcpValidateIncoming (PAWS, sequence check, RST, SYN)
 *        ─► tcpAck (SACK, window update, RTT, congestion) ─► tcpDataQueue ─► tcpFin
 *        ─► tcpWriteXmit / tcpAckSndCheck
 *
 * RFC 9293 §3.10.7 (SEGMENT ARRIVES), §3.8.6.3 (delayed ACK: every second
 * full-sized segment, RFC 5681 §4.2 immediate ACK for out-of-order data),
 * RFC 5961 (RST/SYN/ACK mitigations, challenge ACK), RFC 7323 §5 (PAWS),
 * RFC 2018 (SACK), RFC 2883 (D-SACK for duplicate data). Input functions
 * never free the skb (tcpV4Rcv does).
 */
import type { Stack } from '../../stack';
import { s32, after, before } from '../../core/bits';
import { get16, copyToRing } from '../../core/bytes';
import { ECONNREFUSED, ECONNRESET, EPIPE } from '../../core/errno';
import {
  TcpState, TCPF_FIN, TCPF_SYN, TCPF_RST, TCPF_ACK, TCPOPT_EOL, TCPOPT_NOP, TCPOPT_MSS, TCPOPT_WINDOW,
  TCPOPT_SACK_PERM, TCPOPT_SACK, TCPOPT_TIMESTAMP, TCP_MAX_SACK_IN, TCP_MAX_WSCALE, TCP_MSS_DEFAULT,
  TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
  TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING, TCP_FREE, F_TS, F_SACK, F_WS, F_KEEPALIVE,
  F_RTT_ACTIVE, F_ACK_PENDING, F_ACK_NOW, F_PROBE, F_OOO_FIN, F_RCV_SHUT, F_FIN_QUEUED, F_CLOSED_APP,
  F_WS_OFFERED, F_RTO_TS, F_DSACK, OWN_ACCEPTQ, OWN_ORPHAN, TCP_ATTEMPTFAILS, TX_CHALLENGEACK, TX_SYNCHALLENGE,
  TX_ACKSKIPPEDCHALLENGE, TX_DELAYEDACKS, TX_OFOQUEUE, TX_OFODROP, TX_OFOMERGE, TX_PAWSESTAB,
  TX_ABORTONDATA, TX_SACKDISCARD, TX_DSACKRECV, TX_ZEROWINDOWDROP, TX_PUREACKS, TX_SACKBLOCKSRECV,
  TX_EMBRYONICRSTS, TX_SPURIOUSRTOS, TX_RCVQDROP, TX_ACKSKIPPEDSEQ, TX_ACKSKIPPEDPAWS, TEV_READABLE, TEV_WRITABLE, TEV_CONNECTED, seqDiff, seqMin,
  tcpTimeStamp, tcpEmit, tcpSetState, tcpDone,
  getSeq,
} from './tcp';
import { oooAdd, oooAdvance, sbAdd, sbTrim } from './tcp_seq';
import {
  tcpSendAck, tcpSendSyn, tcpWriteXmit, tcpAckSndCheck, tcpResetXmitTimer, tcpClearXmitTimer,
  tcpSendActiveReset, tcpV4SendReset, tcpSyncMss, tcpScheduleLossProbe,
} from './tcp_output';
import { tcpInitCwnd, tcpRttEstimator, tcpFastRetransAlert, tcpCheckSackReneging } from './tcp_cong';
import { tcpTimeWait } from './tcp_minisocks';
import { rackActive, rackInit, rackSacked, rackDsack, rackAcked } from './tcp_recovery';
import {
  FEATURE_TCP_SACK, FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_WSCALE, FEATURE_TCP_OOO, FEATURE_TCP_KEEPALIVE,
  FEATURE_TCP_RACK,
} from '../../features';

/* RFC 7323 §5.5: ts_recent older than 24 days is invalid for PAWS */
const PAWS_24DAYS_MS = 24 * 24 * 3600 * 1000;

/**
 * tcp_parse_options: fill tp.opt* and the SACK blocks from the header at
 * b[o..o+hlen). Returns false when an option is malformed (length < 2 or
 * past the header): the caller drops the segment.
 */
export function tcpParseOptions(tp: TcpState, b: Uint8Array, o: number, hlen: number, syn: boolean): boolean {
  tp.optMss = 0;
  tp.optWs = -1;
  tp.optSackOk = false;
  tp.optTs = false;
  tp.optTsval = 0;
  tp.optTsecr = 0;
  tp.sackN = 0;
  let p = o + 20;
  const end = o + hlen;
  while (p < end) {
    const kind = b[p];
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return false;
    const len = b[p + 1];
    if (len < 2 || p + len > end) return false;
    if (kind === TCPOPT_MSS) {
      if (len === 4 && syn) {
        const m = get16(b, p + 2);
        if (m > 0) tp.optMss = m;
      }
    } else if (FEATURE_TCP_WSCALE && kind === TCPOPT_WINDOW) {
      // FEATURE_TCP_WSCALE off: WSopt is skipped as an unknown option (RFC 7323 §2.2: both shifts 0)
      if (len === 3 && syn) {
        let w = b[p + 2];
        if (w > TCP_MAX_WSCALE) w = TCP_MAX_WSCALE; // RFC 7323 §2.3
        tp.optWs = w;
      }
    } else if (FEATURE_TCP_SACK && kind === TCPOPT_SACK_PERM) {
      // FEATURE_TCP_SACK off: SACK-permitted and SACK options are skipped as unknown (RFC 2018 §2, RFC 9293 §3.1)
      if (len === 2 && syn) tp.optSackOk = true;
    } else if (FEATURE_TCP_TIMESTAMPS && kind === TCPOPT_TIMESTAMP) {
      // FEATURE_TCP_TIMESTAMPS off: TSopt is skipped as an unknown option (RFC 7323 §3.2: not negotiated)
      if (len === 10) {
        tp.optTs = true;
        tp.optTsval = getSeq(b, p + 2);
        tp.optTsecr = getSeq(b, p + 6);
      }
    } else if (FEATURE_TCP_SACK && kind === TCPOPT_SACK) {
      if (len >= 10 && (len - 2) % 8 === 0 && !syn) {
        let nb = (len - 2) >>> 3;
        if (nb > TCP_MAX_SACK_IN) nb = TCP_MAX_SACK_IN;
        for (let i = 0; i < nb; i++) {
          tp.sackS[i] = getSeq(b, p + 2 + 8 * i);
          tp.sackE[i] = getSeq(b, p + 6 + 8 * i);
        }
        tp.sackN = nb;
      }
    }
    p += len;
  }
  return true;
}

/* ---------------- helpers ---------------- */

/** RFC 5961 §3.2/§4.2/§5.2 challenge ACK, rate limited for the whole stack. */
export function tcpSendChallengeAck(st: Stack, t: number): void {
  const tp = st.tcp;
  const now = st.now();
  if (now - tp.chalWindow >= 1000) {
    tp.chalWindow = now;
    tp.chalCount = 0;
  }
  if (tp.chalCount >= st.cfg.tcpChallengeAckLimit) {
    tp.ext[TX_ACKSKIPPEDCHALLENGE]++;
    return;
  }
  tp.chalCount++;
  tp.ext[TX_CHALLENGEACK]++;
  tcpSendAck(st, t);
}

/** Common work on entering ESTABLISHED (tcp_finish_connect / child ready). */
export function tcpEstablish(st: Stack, t: number): void {
  const tp = st.tcp;
  tcpSetState(st, t, TCP_ESTABLISHED);
  tcpInitCwnd(st, t);
  if (FEATURE_TCP_RACK) rackInit(st, t);
  tp.rcvTstamp[t] = st.now();
  tp.backoff[t] = 0;
  tp.retransmits[t] = 0;
  tcpClearXmitTimer(st, t);
  if (FEATURE_TCP_KEEPALIVE && (tp.flags[t] & F_KEEPALIVE) !== 0) st.timers.mod(tp.tKeep[t], st.now() + tp.keepIdle[t]);
}

/** tcp_reset: a valid RST arrived (RFC 9293 §3.10.7.4 second check). */
function tcpReset(st: Stack, t: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if (s === TCP_SYN_SENT || s === TCP_SYN_RECV) {
    if (s === TCP_SYN_RECV && tp.owner[t] === OWN_ACCEPTQ) tp.ext[TX_EMBRYONICRSTS]++;
    tp.err[t] = ECONNREFUSED;
    if (s === TCP_SYN_SENT) tp.mib[TCP_ATTEMPTFAILS]++;
  } else if (s === TCP_CLOSE_WAIT) {
    tp.err[t] = EPIPE;
  } else if (s === TCP_CLOSING || s === TCP_LAST_ACK) {
    tp.err[t] = 0;
  } else {
    tp.err[t] = ECONNRESET;
  }
  tcpDone(st, t);
}

/**
 * tcp_oow_rate_limited: answer an unacceptable segment with an ACK, but a
 * data-less one at most every 500 ms per connection, so two desynchronized
 * ends cannot ping-pong ACKs forever (RFC 5961 §7 ACK-war concern).
 */
function tcpSendDupAckLimited(st: Stack, t: number, counter: number): void {
  const tp = st.tcp;
  if (tp.segLen === 0 && (tp.segFlags & TCPF_SYN) === 0) {
    const now = st.now();
    if (now - tp.oowLast[t] < 500) {
      tp.ext[counter]++;
      return;
    }
    tp.oowLast[t] = now;
  }
  tcpSendAck(st, t);
}

/**
 * tcp_dsack_set: report duplicate data [s, e) in the first SACK block of
 * the next ACK (RFC 2883 §4), so the sender can tell a spurious
 * retransmission (lost ACK, reordering) from a lost segment.
 */
function tcpDsackSet(tp: TcpState, t: number, s: number, e: number): void {
  if (!FEATURE_TCP_SACK || (tp.flags[t] & F_SACK) === 0 || !after(e, s)) return;
  tp.dsS[t] = s;
  tp.dsE[t] = e;
  tp.flags[t] |= F_DSACK;
}

/** [s, e) lies inside one out-of-order range already held. */
function oooCovers(tp: TcpState, t: number, s: number, e: number): boolean {
  const base = t * tp.K;
  for (let i = 0; i < tp.oooN[t]; i++) {
    if (!before(s, tp.oooS[base + i]) && !after(e, tp.oooE[base + i])) return true;
  }
  return false;
}

/** RFC 9293 §3.10.7.4 first check (Linux-style tcp_sequence: lenient at the left edge). */
function tcpSequenceOk(tp: TcpState, t: number, seq: number, endSeq: number): boolean {
  let wnd = seqDiff(tp.rcvEdge[t], tp.rcvNxt[t]);
  if (wnd < 0) wnd = 0;
  return !before(endSeq, tp.rcvNxt[t]) && !after(seq, s32(tp.rcvNxt[t] + wnd));
}

/** Linux TCP_MAX_QUICKACKS: segments ACKed at once after out-of-order or duplicate data */
const TCP_MAX_QUICKACKS = 16;

/**
 * Owe an ACK: immediately (F_ACK_NOW) or delayed: at once when more than
 * one full-sized segment's worth is unacknowledged (Linux
 * __tcp_ack_snd_check: a full segment and a runt after it count, so the
 * sender's tail does not wait for the delack timer, which its tail loss
 * probe would beat), else the delack timer. In quick-ACK mode (Linux tcp_in_quickack_mode,
 * entered on out-of-order or duplicate data) every segment is ACKed at once
 * (RFC 5681 §4.2 allows it; a sender recovering from loss gets twice the
 * ACKs, so a lost ACK costs it less).
 */
function tcpScheduleAck(st: Stack, t: number, now: boolean): void {
  const tp = st.tcp;
  if (now || tp.rcvUnacked[t] > tp.rcvMss[t] || tp.quickAcks[t] > 0) {
    if (tp.quickAcks[t] > 0) tp.quickAcks[t]--;
    tp.flags[t] |= F_ACK_NOW;
    return;
  }
  tp.flags[t] |= F_ACK_PENDING;
  if (!st.timers.pending(tp.tDack[t])) st.timers.mod(tp.tDack[t], st.now() + st.cfg.tcpDelAckMs);
}

/** The delayed-ACK timer fired (tcp_delack_timer). */
export function tcpDelackTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  if ((tp.flags[t] & F_ACK_PENDING) === 0) return;
  const s = tp.state[t];
  if (s === TCP_CLOSE || s === TCP_FREE || s === TCP_SYN_SENT) return;
  tp.ext[TX_DELAYEDACKS]++;
  tcpSendAck(st, t);
}

/* ---------------- FIN ---------------- */

/** tcp_fin: the peer's FIN is in sequence (RFC 9293 §3.10.7.4 eighth check). */
function tcpFin(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.rcvNxt[t] = s32(tp.rcvNxt[t] + 1);
  tp.flags[t] = (tp.flags[t] | F_RCV_SHUT) & ~F_OOO_FIN;
  tp.oooN[t] = 0;
  const s = tp.state[t];
  if (s === TCP_SYN_RECV || s === TCP_ESTABLISHED) {
    tcpSetState(st, t, TCP_CLOSE_WAIT);
    // Linux tcp_fin enters pingpong mode here: the FIN's ACK is delayed, so an application
    // that closes at once sends one FIN+ACK (tcpTransmitSkb cancels the delayed ACK) instead
    // of a pure ACK followed by the FIN — a pair a jittery path may deliver in swapped order,
    // drawing a TIME_WAIT re-ACK and then our RST (bug R4, test/unit/tcp_r4.test.ts). Pingpong
    // mode ends quick-ACK mode (Linux tcp_in_quickack_mode)
    tp.quickAcks[t] = 0;
    tcpScheduleAck(st, t, false);
  } else if (s === TCP_FIN_WAIT1) {
    tp.flags[t] |= F_ACK_NOW;
    tcpSetState(st, t, TCP_CLOSING);
  } else if (s === TCP_FIN_WAIT2) {
    tcpSendAck(st, t);
    tcpEmit(st, t, TEV_READABLE);
    tcpTimeWait(st, t);
    return;
  }
  tcpEmit(st, t, TEV_READABLE);
}

/* ---------------- data ---------------- */

/**
 * tcp_data_queue: copy the (already sequence-checked) payload into the
 * receive ring: in order at rcvNxt, or out of order at its offset with a
 * range recorded. seqOrig/lenOrig: the segment as received; fin: FIN flag.
 */
function tcpDataQueue(st: Stack, t: number, skb: number, fin: boolean): void {
  const tp = st.tcp;
  const b = st.pool.buf[skb];
  let seq = tp.segSeq;
  let len = tp.segLen;
  let off = tp.segOff;
  const finSeq = s32(seq + len);
  let finOk = fin;
  // trim data already received
  const dup = seqDiff(tp.rcvNxt[t], seq);
  if (dup > 0) {
    if (len > 0) tcpDsackSet(tp, t, seq, s32(seq + (dup < len ? dup : len)));
    if (dup >= len) {
      if (len > 0) {
        tp.flags[t] |= F_ACK_NOW; // a duplicate: ACK at once (RFC 5681 §4.2)
        tp.quickAcks[t] = TCP_MAX_QUICKACKS; // the sender is retransmitting (Linux tcp_data_queue)
      }
      len = 0;
      seq = tp.rcvNxt[t];
    } else {
      len -= dup;
      off += dup;
      seq = tp.rcvNxt[t];
    }
  }
  // trim to the ring's free space beyond rcvNxt
  let room = tp.rcvLimit[t] - tp.rcvCount[t];
  if (room < 0) room = 0;
  const ahead = seqDiff(seq, tp.rcvNxt[t]);
  if (!FEATURE_TCP_OOO && ahead > 0) {
    // no out-of-order queue: the segment is dropped (counted) and answered at once with a
    // duplicate ACK for RCV.NXT (RFC 5681 §4.2, RFC 9293 §3.10.7.4: segments beyond RCV.NXT
    // may be held or dropped), so the sender's fast retransmit still fills the hole
    if (len > 0) tp.ext[TX_OFODROP]++;
    tp.flags[t] |= F_ACK_NOW;
    len = 0;
    finOk = false;
  }
  if (len > 0 && ahead + len > room) {
    const keep = room - ahead;
    if (keep <= 0) {
      tp.ext[room === 0 ? TX_ZEROWINDOWDROP : TX_RCVQDROP]++;
      len = 0;
    } else {
      len = keep;
    }
    finOk = false;
    tp.flags[t] |= F_ACK_NOW;
  }
  if (len > 0) {
    const ring = tp.rcvRing[t];
    const pos = (tp.rcvHead[t] + tp.rcvCount[t] + ahead) % ring.length;
    // tcpV4Rcv's fast path may have put these very bytes there while checksumming them
    if (
      tp.segPreLen !== len || tp.segPreTcb !== t || tp.segPrePos !== pos || ahead !== 0 || off !== tp.segOff
    ) copyToRing(ring, pos, b, off, len);
    tp.segPreLen = 0;
    if (len > tp.rcvMss[t]) tp.rcvMss[t] = len < tp.smss[t] + 12 ? len : tp.smss[t] + 12;
    if (ahead === 0) {
      let nxt = s32(tp.rcvNxt[t] + len);
      let added = len;
      if (FEATURE_TCP_OOO && tp.oooN[t] > 0) {
        const n2 = oooAdvance(tp, t, nxt);
        if (n2 !== nxt) {
          added += seqDiff(n2, nxt);
          nxt = n2;
          tp.ext[TX_OFOMERGE]++;
        }
        tp.flags[t] |= F_ACK_NOW; // filled (part of) a hole
      }
      tp.rcvNxt[t] = nxt;
      tp.rcvCount[t] += added;
      tp.rcvUnacked[t] += len;
      tcpScheduleAck(st, t, false);
      tcpEmit(st, t, TEV_READABLE);
    } else if (FEATURE_TCP_OOO) {
      if (oooCovers(tp, t, seq, s32(seq + len))) tcpDsackSet(tp, t, seq, s32(seq + len));
      if (oooAdd(tp, t, seq, s32(seq + len))) tp.ext[TX_OFOQUEUE]++;
      else tp.ext[TX_OFODROP]++;
      tp.flags[t] |= F_ACK_NOW; // out of order: duplicate ACK with SACK at once
      tp.quickAcks[t] = TCP_MAX_QUICKACKS; // and every segment until well after the hole is filled
    }
  }
  if (finOk) {
    if (finSeq === tp.rcvNxt[t]) {
      tcpFin(st, t);
      return;
    }
    if (FEATURE_TCP_OOO && after(finSeq, tp.rcvNxt[t])) {
      tp.flags[t] |= F_OOO_FIN;
      tp.rcvFinSeq[t] = finSeq;
    }
  }
  if (FEATURE_TCP_OOO && (tp.flags[t] & F_OOO_FIN) !== 0 && tp.rcvFinSeq[t] === tp.rcvNxt[t]) tcpFin(st, t);
}

/* ---------------- ACK ---------------- */

/**
 * tcp_ack: process SEG.ACK in a synchronized state. Returns false when
 * the segment must be dropped (an ACK for data never sent).
 */
function tcpAck(st: Stack, t: number): boolean {
  const tp = st.tcp;
  const ack = tp.segAck;
  if (after(ack, tp.sndMax[t])) {
    // RFC 9293: ACK for something not yet sent → ACK, drop (RFC 5961 §5.2: rate limited)
    tcpSendChallengeAck(st, t);
    return false;
  }
  if (before(ack, s32(tp.sndUna[t] - tp.maxSndWnd[t])) && tp.maxSndWnd[t] > 0) {
    tcpSendChallengeAck(st, t); // RFC 5961 §5.2: too old
    return false;
  }
  const fl = tp.flags[t];
  // SACK blocks (RFC 2018 §4; blocks below SND.UNA are D-SACKs, RFC 2883)
  let newlySacked = 0;
  const rack = FEATURE_TCP_RACK && rackActive(st, t);
  if (rack) {
    const rk = tp.rk!;
    rk.rackUndoDsack = false;
    rk.rackNewSack = false;
    rk.rackDelivered = 0;
  }
  if (FEATURE_TCP_SACK && (fl & F_SACK) !== 0 && tp.sackN > 0) {
    tp.ext[TX_SACKBLOCKSRECV] += tp.sackN;
    for (let i = 0; i < tp.sackN; i++) {
      const s = tp.sackS[i];
      const e = tp.sackE[i];
      if (!after(e, s)) {
        tp.ext[TX_SACKDISCARD]++;
      } else if (
        before(s, ack) || before(s, tp.sndUna[t]) ||
        (i === 0 && tp.sackN > 1 && !before(s, tp.sackS[1]) && !after(e, tp.sackE[1]))
      ) {
        // RFC 2883 §4: below the ACK, or the first block inside the second: a D-SACK
        tp.ext[TX_DSACKRECV]++;
        if (rack) rackDsack(st, t, s, e);
      } else if (after(e, tp.sndMax[t])) {
        tp.ext[TX_SACKDISCARD]++;
      } else {
        newlySacked += sbAdd(tp, t, s, e);
        if (rack) rackSacked(st, t, s, e);
      }
    }
  }
  const oldWnd = tp.sndWnd[t];
  const acceptable = !before(ack, tp.sndUna[t]);
  // window update (RFC 9293 §3.10.7.4 fifth check)
  if (
    acceptable &&
    (before(tp.sndWl1[t], tp.segSeq) || (tp.sndWl1[t] === tp.segSeq && !before(ack, tp.sndWl2[t])))
  ) {
    const w = tp.segSynWnd ? tp.segWnd : tp.segWnd * (1 << tp.sndWscale[t]);
    tp.sndWnd[t] = w;
    tp.sndWl1[t] = tp.segSeq;
    tp.sndWl2[t] = ack;
    if (w > tp.maxSndWnd[t]) tp.maxSndWnd[t] = w;
  }
  let acked = acceptable ? seqDiff(ack, tp.sndUna[t]) : 0;
  const flightBefore = seqDiff(tp.sndMax[t], tp.sndUna[t]);
  if (acked > 0) {
    // data bytes leave the send ring
    const dataEnd = seqMin(ack, tp.writeSeq[t]);
    const d = seqDiff(dataEnd, tp.sndBase[t]);
    const ring = tp.sndRing[t];
    const wasFull = seqDiff(tp.writeSeq[t], tp.sndBase[t]) >= tp.sndLimit[t];
    if (d > 0) {
      tp.sndHead[t] = (tp.sndHead[t] + d) % ring.length;
      tp.sndBase[t] = s32(tp.sndBase[t] + d);
    }
    tp.sndUna[t] = ack;
    if (before(tp.sndNxt[t], ack)) tp.sndNxt[t] = ack;
    sbTrim(tp, t, ack);
    if (rack) rackAcked(st, t, ack);
    // RTT sample (RFC 6298 §3 / RFC 7323 §4). After an RTO, an echo older
    // than the retransmission means the receiver already held the data and
    // our ACK for it was lost (RFC 3522 Eifel detection): the sample would
    // measure the timeout, not the path (it inflated the RTO to its 120 s
    // maximum under 20% loss), so it is not taken. With timestamps every
    // ACK of new data shows the path works and clears the backoff (Linux
    // always has a sample there); without them the backed-off RTO stays
    // until a valid sample (RFC 6298 §5, Karn).
    if (FEATURE_TCP_TIMESTAMPS && (fl & F_TS) !== 0 && tp.optTs && tp.optTsecr !== 0) {
      if ((fl & F_RTO_TS) !== 0 && before(tp.optTsecr, tp.rtxTs[t])) {
        if (tp.retransmits[t] !== 0) tp.ext[TX_SPURIOUSRTOS]++;
      } else {
        const m = seqDiff(s32(tcpTimeStamp(st) + tp.tsOffset[t]), tp.optTsecr);
        if (m >= 0 && m < 0x7fffffff) {
          tcpRttEstimator(st, t, m);
          tp.flags[t] &= ~F_RTO_TS;
        }
      }
      tp.backoff[t] = 0;
    } else if ((fl & F_RTT_ACTIVE) !== 0 && !before(ack, tp.rttSeq[t])) {
      tp.flags[t] &= ~F_RTT_ACTIVE;
      tcpRttEstimator(st, t, st.now() - tp.rttTime[t]);
      tp.backoff[t] = 0;
    }
    tp.retransmits[t] = 0;
    tp.rtxStart[t] = 0;
    if (tp.sndUna[t] === tp.sndMax[t]) tcpClearXmitTimer(st, t);
    else if (!(FEATURE_TCP_SACK && tcpCheckSackReneging(st, t))) tcpResetXmitTimer(st, t);
    if (wasFull || d > 0) tcpEmit(st, t, TEV_WRITABLE);
  } else {
    acked = 0;
  }
  if (tp.segLen === 0 && acked === 0) tp.ext[TX_PUREACKS]++;
  tp.probesOut[t] = 0;
  // zero-window probing ends when the window opens
  if ((tp.flags[t] & F_PROBE) !== 0 && tp.sndWnd[t] > 0) {
    tp.backoff[t] = 0;
    tcpClearXmitTimer(st, t);
  }
  const dup =
    acked === 0 && acceptable && ack === tp.sndUna[t] && flightBefore > 0 &&
    ((tp.segLen === 0 && (tp.segFlags & (TCPF_SYN | TCPF_FIN)) === 0 && tp.sndWnd[t] === oldWnd) ||
      newlySacked > 0);
  tcpFastRetransAlert(st, t, acked, dup);
  if (rack) tcpScheduleLossProbe(st, t);
  return true;
}

/** Our FIN has been acknowledged. */
function finAcked(tp: TcpState, t: number): boolean {
  return (tp.flags[t] & F_FIN_QUEUED) !== 0 && after(tp.sndUna[t], tp.writeSeq[t]);
}

/* ---------------- the synchronized states ---------------- */

/**
 * tcp_validate_incoming: PAWS, the sequence check, RST and SYN
 * processing (RFC 9293 §3.10.7.4 checks 1, 2, 4 with RFC 5961).
 * Returns false when the segment has been dealt with.
 */
export function tcpValidateIncoming(st: Stack, t: number): boolean {
  const tp = st.tcp;
  const f = tp.segFlags;
  const rst = (f & TCPF_RST) !== 0;
  // PAWS (RFC 7323 §5.3)
  if (
    FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0 && tp.optTs && !rst && before(tp.optTsval, tp.tsRecent[t]) &&
    st.now() - tp.tsRecentStamp[t] < PAWS_24DAYS_MS
  ) {
    tp.ext[TX_PAWSESTAB]++;
    tcpSendDupAckLimited(st, t, TX_ACKSKIPPEDPAWS);
    return false;
  }
  let slen = tp.segLen;
  if ((f & TCPF_SYN) !== 0) slen++;
  if ((f & TCPF_FIN) !== 0) slen++;
  const endSeq = s32(tp.segSeq + slen);
  if (!tcpSequenceOk(tp, t, tp.segSeq, endSeq)) {
    if (!rst) {
      // an old duplicate: D-SACK it (tcp_send_dupack)
      if (tp.segLen > 0 && before(tp.segSeq, tp.rcvNxt[t])) {
        const e = s32(tp.segSeq + tp.segLen);
        tcpDsackSet(tp, t, tp.segSeq, before(e, tp.rcvNxt[t]) ? e : tp.rcvNxt[t]);
      }
      tcpSendDupAckLimited(st, t, TX_ACKSKIPPEDSEQ); // RFC 9293: ACK an unacceptable segment
    }
    return false;
  }
  if (rst) {
    // RFC 5961 §3.2: exact match resets; anywhere else in the window gets a challenge ACK
    if (tp.segSeq === tp.rcvNxt[t]) tcpReset(st, t);
    else tcpSendChallengeAck(st, t);
    return false;
  }
  // RFC 7323 §4.3: remember the timestamp of a segment covering the last ACK sent
  if (FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0 && tp.optTs && !after(tp.segSeq, tp.rcvNxt[t]) &&
      !before(tp.optTsval, tp.tsRecent[t])) {
    tp.tsRecent[t] = tp.optTsval;
    tp.tsRecentStamp[t] = st.now();
  }
  if (
    (f & TCPF_SYN) !== 0 && tp.state[t] === TCP_SYN_RECV && (f & TCPF_ACK) !== 0 && tp.segLen === 0 &&
    s32(tp.segSeq + 1) === tp.rcvNxt[t] && tp.segAck === tp.sndNxt[t]
  ) {
    // simultaneous open: the peer's SYN-ACK repeats the SYN we already hold (tcp_validate_incoming)
    tp.segFlags = f & ~TCPF_SYN;
    tp.segSeq = tp.rcvNxt[t];
    return true;
  }
  if ((f & TCPF_SYN) !== 0) {
    // RFC 5961 §4.2: any SYN in a synchronized state → challenge ACK
    tp.ext[TX_SYNCHALLENGE]++;
    tcpSendChallengeAck(st, t);
    return false;
  }
  return true;
}

function tcpSynchronized(st: Stack, t: number, skb: number): void {
  const tp = st.tcp;
  if (!tcpValidateIncoming(st, t)) return;
  const f = tp.segFlags;
  tp.rcvTstamp[t] = st.now();
  if ((f & TCPF_ACK) === 0) return; // RFC 9293: no ACK, drop
  if (tp.state[t] === TCP_SYN_RECV) {
    const ack = tp.segAck;
    if (after(ack, tp.sndUna[t]) && !after(ack, tp.sndNxt[t])) {
      tp.sndWnd[t] = tp.segSynWnd ? tp.segWnd : tp.segWnd * (1 << tp.sndWscale[t]);
      tp.maxSndWnd[t] = tp.sndWnd[t];
      tp.sndWl1[t] = tp.segSeq;
      tp.sndWl2[t] = ack;
      tcpEstablish(st, t);
      if (tp.owner[t] === OWN_ACCEPTQ) {
        const l = tp.parent[t];
        if (l >= 0) tcpEmit(st, l, TEV_READABLE);
      } else {
        tcpEmit(st, t, TEV_CONNECTED | TEV_WRITABLE);
      }
    } else {
      tcpV4SendReset(st); // RFC 9293: unacceptable ACK in SYN-RECEIVED → RST
      return;
    }
  }
  if (!tcpAck(st, t)) return;
  let s = tp.state[t];
  if (s === TCP_FIN_WAIT1 && finAcked(tp, t)) {
    tcpSetState(st, t, TCP_FIN_WAIT2);
    s = TCP_FIN_WAIT2;
    tcpClearXmitTimer(st, t);
    if (tp.owner[t] === OWN_ORPHAN) st.timers.mod(tp.tKeep[t], st.now() + st.cfg.tcpFinTimeoutMs);
  } else if (s === TCP_CLOSING && finAcked(tp, t)) {
    tcpTimeWait(st, t);
    return;
  } else if (s === TCP_LAST_ACK && finAcked(tp, t)) {
    tp.err[t] = 0;
    tcpDone(st, t);
    return;
  }
  // data and FIN (seventh and eighth checks)
  const fin = (f & TCPF_FIN) !== 0;
  if (tp.segLen > 0 || fin) {
    if (s === TCP_ESTABLISHED || s === TCP_FIN_WAIT1 || s === TCP_FIN_WAIT2 || s === TCP_SYN_RECV) {
      if (tp.segLen > 0 && (tp.flags[t] & F_CLOSED_APP) !== 0 && after(s32(tp.segSeq + tp.segLen), tp.rcvNxt[t])) {
        // nobody will ever read it: abort (RFC 9293 §3.10.4 / Linux tcp_rcv_state_process)
        tp.ext[TX_ABORTONDATA]++;
        tcpSendActiveReset(st, t);
        tcpDone(st, t);
        return;
      }
      tcpDataQueue(st, t, skb, fin);
    } else if (tp.segLen > 0 || fin) {
      // CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent its FIN; a retransmission gets an ACK
      tp.flags[t] |= F_ACK_NOW;
    }
  }
  s = tp.state[t];
  if (s === TCP_CLOSE || s === TCP_FREE) return;
  tcpWriteXmit(st, t);
  tcpAckSndCheck(st, t);
}

/** tcp_rcv_established (the fast path is the general path here: it is short). */
export function tcpRcvEstablished(st: Stack, t: number, skb: number): void {
  tcpSynchronized(st, t, skb);
}

/** Negotiated options from a SYN or SYN-ACK (tcp_parse_options → rx_opt). */
function tcpApplySynOptions(st: Stack, t: number, weOffered: boolean): void {
  const tp = st.tcp;
  const c = st.cfg;
  let fl = tp.flags[t] & ~(F_TS | F_SACK | F_WS);
  if (FEATURE_TCP_TIMESTAMPS && tp.optTs && c.tcpTimestamps && weOffered) {
    fl |= F_TS;
    tp.tsRecent[t] = tp.optTsval;
    tp.tsRecentStamp[t] = st.now();
  }
  if (FEATURE_TCP_SACK && tp.optSackOk && c.tcpSack && weOffered) fl |= F_SACK;
  if (FEATURE_TCP_WSCALE && tp.optWs >= 0 && c.tcpWindowScaling && (weOffered || (fl & F_WS_OFFERED) !== 0)) {
    fl |= F_WS;
    tp.sndWscale[t] = tp.optWs;
  } else {
    tp.sndWscale[t] = 0;
    tp.rcvWscale[t] = 0;
  }
  tp.flags[t] = fl;
  tp.peerMss[t] = tp.optMss > 0 ? tp.optMss : TCP_MSS_DEFAULT;
  tcpSyncMss(st, t);
}

/** tcp_rcv_synsent_state_process (RFC 9293 §3.10.7.3). */
function tcpRcvSynSentStateProcess(st: Stack, t: number): void {
  const tp = st.tcp;
  const f = tp.segFlags;
  const ack = tp.segAck;
  const hasAck = (f & TCPF_ACK) !== 0;
  if (hasAck && (!after(ack, tp.iss[t]) || after(ack, tp.sndMax[t]))) {
    if ((f & TCPF_RST) === 0) tcpV4SendReset(st);
    return;
  }
  if ((f & TCPF_RST) !== 0) {
    if (hasAck) tcpReset(st, t); // RFC 5961 §3.2: in SYN-SENT the ACK check suffices
    return;
  }
  if ((f & TCPF_SYN) === 0) return;
  tp.irs[t] = tp.segSeq;
  tp.rcvNxt[t] = s32(tp.segSeq + 1);
  tp.rcvEdge[t] = tp.rcvNxt[t]; // the window is announced from here on
  tcpApplySynOptions(st, t, true);
  if (hasAck) {
    tp.sndUna[t] = ack;
    tp.sndWnd[t] = tp.segWnd; // never scaled in a SYN (RFC 7323 §2.2)
    tp.maxSndWnd[t] = tp.sndWnd[t];
    tp.sndWl1[t] = tp.segSeq;
    tp.sndWl2[t] = ack;
    if (tp.retransmits[t] === 0) tcpRttEstimator(st, t, st.now() - tp.rttTime[t]);
    tcpEstablish(st, t);
    tp.recover[t] = tp.iss[t];
    tcpEmit(st, t, TEV_CONNECTED | TEV_WRITABLE);
    tp.flags[t] |= F_ACK_NOW;
    tcpWriteXmit(st, t); // queued data goes with (or instead of) the ACK
    tcpAckSndCheck(st, t);
    return;
  }
  // simultaneous open (RFC 9293 §3.5 figure 7)
  tcpSetState(st, t, TCP_SYN_RECV);
  tp.sndWnd[t] = tp.segWnd;
  tp.maxSndWnd[t] = tp.sndWnd[t];
  tp.sndWl1[t] = tp.segSeq;
  tp.sndWl2[t] = tp.iss[t];
  tp.backoff[t] = 0;
  tp.retransmits[t] = 0;
  tcpSendSyn(st, t);
  tcpResetXmitTimer(st, t);
}

/** tcp_rcv_state_process: every state but ESTABLISHED, LISTEN and TIME_WAIT (minisocks). */
export function tcpRcvStateProcess(st: Stack, t: number, skb: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if (s === TCP_SYN_SENT) {
    tcpRcvSynSentStateProcess(st, t);
    return;
  }
  if (s === TCP_CLOSE || s === TCP_FREE) {
    tcpV4SendReset(st);
    return;
  }
  tcpSynchronized(st, t, skb);
}

