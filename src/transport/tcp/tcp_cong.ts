/*
 * tcp_cong.ts — RTT estimation and congestion control (tcp_input.c's
 * tcp_ack / tcp_fastretrans_alert / tcp_enter_loss, tcp_cong.c's Reno):
 *
 *   RFC 6298  RTO: SRTT/RTTVAR, Karn (no samples from retransmissions;
 *             timestamps give unambiguous samples, RFC 7323 §4), backoff
 *   RFC 5681  slow start, congestion avoidance, fast retransmit
 *   RFC 6582  NewReno fast recovery (partial ACKs, `recover`)
 *   RFC 6675  SACK-based loss recovery (pipe, NextSeg, HighRxt, rescue retransmission)
 *   RFC 3042  limited transmit (tcpWriteXmit allows 2 extra segments)
 *   RFC 6928  initial window min(10*MSS, max(2*MSS, 14600))
 *
 * Windows are in bytes.
 */
import type { Stack } from '../../stack';
import { s32, after, before } from '../../core/bits';
import {
  F_RENO_RECOV, F_SACK_RECOV, F_SACK, TX_SACKRECOVERY, TX_RENORECOVERY, TX_FASTRETRANS,
  TX_PARTIALACKS, TX_SACKRESCUE, TX_SACKRENEGING, F_PROBE, F_REO_TMR, F_TLP_TMR, seqDiff,
} from './tcp';
import { sbSacked, sbSackedIn, sbLostEdge, sbSkip, sbNextSacked, sbHighest } from './tcp_seq';
import {
  tcpXmitAt, tcpWriteXmit, tcpResetXmitTimer, tcpUnsent, tcpFinPending, tcpCanSend,
} from './tcp_output';
import { FEATURE_TCP_SACK, FEATURE_TCP_RACK } from '../../features';
import { rackActive, rackFastRetransAlert, rackEnterLoss } from './tcp_recovery';

const SSTHRESH_INF = 0x7fffffff;

/** RFC 6928 initial window. */
export function tcpInitCwnd(st: Stack, t: number): void {
  const tp = st.tcp;
  const smss = tp.smss[t];
  const segs = st.cfg.tcpInitCwndSegs;
  let iw = segs * smss;
  const cap = 2 * smss > 14600 ? 2 * smss : 14600;
  if (iw > cap) iw = cap;
  if (iw < smss) iw = smss;
  tp.cwnd[t] = iw;
  tp.ssthresh[t] = SSTHRESH_INF;
}

/** tcp_rtt_estimator + tcp_set_rto (RFC 6298 §2). m: a sample in ms. */
export function tcpRttEstimator(st: Stack, t: number, m0: number): void {
  const tp = st.tcp;
  const m = m0 < 1 ? 1 : Math.floor(m0);
  if (tp.srtt8[t] === 0) {
    tp.srtt8[t] = m * 8;
    tp.rttvar4[t] = m * 2;
  } else {
    const srtt = Math.floor(tp.srtt8[t] / 8);
    const err = m - srtt;
    tp.srtt8[t] = tp.srtt8[t] + err;
    const aerr = err < 0 ? -err : err;
    tp.rttvar4[t] = tp.rttvar4[t] - Math.floor(tp.rttvar4[t] / 4) + aerr;
    if (tp.srtt8[t] < 8) tp.srtt8[t] = 8;
  }
  const g = st.cfg.timerTickMs;
  const v = tp.rttvar4[t] > g ? tp.rttvar4[t] : g;
  let rto = Math.floor(tp.srtt8[t] / 8) + v;
  if (rto < st.cfg.tcpRtoMinMs) rto = st.cfg.tcpRtoMinMs;
  if (rto > st.cfg.tcpRtoMaxMs) rto = st.cfg.tcpRtoMaxMs;
  tp.rto[t] = rto;
}

function flightSize(st: Stack, t: number): number {
  const tp = st.tcp;
  return seqDiff(tp.sndMax[t], tp.sndUna[t]);
}

function halfFlight(st: Stack, t: number): number {
  const tp = st.tcp;
  const h = Math.floor(flightSize(st, t) / 2);
  const m = 2 * tp.smss[t];
  return h > m ? h : m;
}

/** Congestion window growth for `acked` newly acknowledged bytes (RFC 5681 §3.1). */
export function tcpCongAvoid(st: Stack, t: number, acked: number): void {
  const tp = st.tcp;
  const smss = tp.smss[t];
  if (tp.cwnd[t] < tp.ssthresh[t]) {
    tp.cwnd[t] += acked < smss ? acked : smss;
  } else {
    const inc = Math.floor((smss * smss) / tp.cwnd[t]);
    tp.cwnd[t] += inc > 0 ? inc : 1;
  }
  if (tp.cwnd[t] > 0x3fffffff) tp.cwnd[t] = 0x3fffffff;
}

/* ---------------- RFC 6675 SACK recovery ---------------- */

/** RFC 6675 §4 pipe: octets believed to be in the network. */
export function tcpSackPipe(st: Stack, t: number): number {
  const tp = st.tcp;
  const una = tp.sndUna[t];
  const high = tp.sndMax[t];
  const unsacked = seqDiff(high, una) - sbSacked(tp, t);
  const lostEdge = sbLostEdge(tp, t, una, tp.smss[t]);
  const lost = seqDiff(lostEdge, una) - sbSackedIn(tp, t, una, lostEdge);
  let rxt = 0;
  const hr = tp.highRxt[t];
  if (after(hr, una)) rxt = seqDiff(hr, una) - sbSackedIn(tp, t, una, hr);
  const p = unsacked - lost + rxt;
  return p > 0 ? p : 0;
}

/** Retransmit from the first unSACKed byte >= from, below limit. Returns bytes sent, 0 none, <0 error. */
function sackRetransmitFrom(st: Stack, t: number, from: number, limit: number): number {
  const tp = st.tcp;
  const s = sbSkip(tp, t, from);
  if (!before(s, limit)) return 0;
  const holeEnd = sbNextSacked(tp, t, s, limit);
  const r = tcpXmitAt(st, t, s, seqDiff(holeEnd, s), true);
  if (r > 0) tp.highRxt[t] = s32(s + r);
  return r;
}

/**
 * RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send NextSeg():
 * (1) lost unSACKed data above HighRxt, (2) new data, (3) other unSACKed
 * data above HighRxt below the highest SACKed byte.
 */
export function tcpSackXmit(st: Stack, t: number): void {
  const tp = st.tcp;
  const smss = tp.smss[t];
  for (let guard = 0; guard < 256; guard++) {
    if (tp.cwnd[t] - tcpSackPipe(st, t) < smss) return;
    const una = tp.sndUna[t];
    let hr = tp.highRxt[t];
    if (before(hr, una)) {
      hr = una;
      tp.highRxt[t] = s32(una);
    }
    const lostEdge = sbLostEdge(tp, t, una, smss);
    let r = sackRetransmitFrom(st, t, hr, lostEdge);
    if (r < 0) return;
    if (r > 0) continue;
    // (2) new data within the peer's window
    const avail = tcpUnsent(st, t);
    if (avail > 0 || tcpFinPending(st, t)) {
      const wndRoom = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), tp.sndNxt[t]);
      let len = avail < smss ? avail : smss;
      if (len > wndRoom) len = wndRoom > 0 ? wndRoom : 0;
      if (len > 0 || (avail === 0 && tcpFinPending(st, t))) {
        r = tcpXmitAt(st, t, tp.sndNxt[t], len, true);
        if (r < 0) return;
        if (r > 0) continue;
      }
    }
    // (3)
    r = sackRetransmitFrom(st, t, hr, sbHighest(tp, t, una));
    if (r < 0) return;
    if (r > 0) continue;
    // (4) rescue retransmission
    if (tcpSackRescue(st, t) <= 0) return;
  }
}

/**
 * RFC 6675 §4 NextSeg() rule (4): nothing lost, no new data, no hole
 * below the highest SACK: once per recovery (while HighACK > RescueRxt)
 * resend the segment holding the highest unSACKed sequence number, so a
 * loss at the tail of the window does not wait for the RTO. RescueRxt
 * becomes the recovery point; HighRxt is not moved. Returns bytes sent.
 */
export function tcpSackRescue(st: Stack, t: number): number {
  const tp = st.tcp;
  const una = tp.sndUna[t];
  if (!after(una, tp.rescueRxt[t])) return 0;
  // highest unSACKed byte + 1: below the SACKed range that reaches HighData, if any
  let h = tp.sndMax[t];
  const n = tp.sbN[t];
  const base = t * tp.K;
  if (n > 0 && tp.sbE[base + n - 1] === h) h = tp.sbS[base + n - 1];
  if (!after(h, una)) return 0;
  // never rescue what this recovery already resent (<= HighRxt, possibly earlier in
  // this same tcpSackXmit pass), nor data first sent after loss was detected (above
  // RecoveryPoint): both gave duplicate transmissions (tcp_repro.md R3)
  if (!after(h, tp.highRxt[t]) || after(h, tp.recover[t])) return 0;
  let s = s32(h - tp.smss[t]);
  if (before(s, una)) s = una;
  if (before(s, tp.highRxt[t])) s = tp.highRxt[t];
  // start after the SACKed data below it (sorted ascending: the range just under h)
  for (let i = 0; i < n; i++) {
    const e = tp.sbE[base + i];
    if (after(e, s) && !after(e, h)) s = e;
  }
  const r = tcpXmitAt(st, t, s, seqDiff(h, s), true);
  if (r > 0) {
    tp.rescueRxt[t] = tp.recover[t];
    tp.ext[TX_SACKRESCUE]++;
  }
  return r;
}

/* ---------------- the recovery state machine ---------------- */

function enterRecovery(st: Stack, t: number): void {
  const tp = st.tcp;
  // FEATURE_TCP_SACK off: NewReno only (RFC 6582)
  const sack = FEATURE_TCP_SACK && (tp.flags[t] & F_SACK) !== 0 && tp.sbN[t] > 0;
  tp.ssthresh[t] = halfFlight(st, t);
  tp.recover[t] = tp.sndMax[t];
  tp.ext[TX_FASTRETRANS]++;
  if (sack) {
    tp.flags[t] |= F_SACK_RECOV;
    tp.ext[TX_SACKRECOVERY]++;
    tp.cwnd[t] = tp.ssthresh[t];
    tp.highRxt[t] = tp.sndUna[t];
    tp.rescueRxt[t] = s32(tp.sndUna[t] - 1); // undefined: a rescue is allowed
    // the first unSACKed segment goes out regardless of pipe (RFC 6675 §5 step 4.3)
    sackRetransmitFrom(st, t, tp.sndUna[t], tp.sndMax[t]);
    tcpSackXmit(st, t);
  } else {
    tp.flags[t] |= F_RENO_RECOV;
    tp.ext[TX_RENORECOVERY]++;
    tp.cwnd[t] = tp.ssthresh[t] + 3 * tp.smss[t];
    tcpXmitAt(st, t, tp.sndUna[t], tp.smss[t], true);
    tcpWriteXmit(st, t);
  }
}

/**
 * tcp_fastretrans_alert, called for every ACK in a synchronized state
 * after sndUna/scoreboard were updated. acked: bytes newly cumulatively
 * acknowledged; dup: the ACK is a duplicate (RFC 5681 §2 / RFC 6675 §2).
 */
export function tcpFastRetransAlert(st: Stack, t: number, acked: number, dup: boolean): void {
  const tp = st.tcp;
  const fl = tp.flags[t];
  if (!tcpCanSend(tp.state[t])) return;
  if (FEATURE_TCP_RACK && rackActive(st, t)) {
    // FEATURE_TCP_RACK: time-based loss detection and undo (tcp_recovery.ts)
    rackFastRetransAlert(st, t, acked, dup, tcpCongAvoid);
    return;
  }
  if (FEATURE_TCP_SACK && (fl & F_SACK_RECOV) !== 0) {
    if (!before(tp.sndUna[t], tp.recover[t])) {
      tp.flags[t] &= ~F_SACK_RECOV;
      tp.dupAcks[t] = 0;
      tp.cwnd[t] = tp.ssthresh[t];
      tcpWriteXmit(st, t);
      return;
    }
    if (acked > 0) tp.ext[TX_PARTIALACKS]++;
    tcpSackXmit(st, t);
    return;
  }
  if ((fl & F_RENO_RECOV) !== 0) {
    if (acked > 0) {
      if (!before(tp.sndUna[t], tp.recover[t])) {
        // full ACK (RFC 6582 §3.2 step 3)
        tp.flags[t] &= ~F_RENO_RECOV;
        tp.dupAcks[t] = 0;
        const f = flightSize(st, t);
        const v = (f > tp.smss[t] ? f : tp.smss[t]) + tp.smss[t];
        tp.cwnd[t] = v < tp.ssthresh[t] ? v : tp.ssthresh[t];
        tcpWriteXmit(st, t);
        return;
      }
      // partial ACK (step 4): retransmit the next hole, deflate
      tp.ext[TX_PARTIALACKS]++;
      tcpXmitAt(st, t, tp.sndUna[t], tp.smss[t], true);
      let c = tp.cwnd[t] - acked;
      if (acked >= tp.smss[t]) c += tp.smss[t];
      tp.cwnd[t] = c > tp.smss[t] ? c : tp.smss[t];
      tcpResetXmitTimer(st, t);
      tcpWriteXmit(st, t);
      return;
    }
    if (dup) {
      tp.cwnd[t] += tp.smss[t];
      tcpWriteXmit(st, t);
    }
    return;
  }
  // open state
  if (acked > 0) {
    tp.dupAcks[t] = 0;
    tcpCongAvoid(st, t, acked);
    tcpWriteXmit(st, t);
    return;
  }
  if (!dup) {
    tcpWriteXmit(st, t);
    return;
  }
  tp.dupAcks[t]++;
  const lost =
    FEATURE_TCP_SACK && (tp.flags[t] & F_SACK) !== 0 && after(sbLostEdge(tp, t, tp.sndUna[t], tp.smss[t]), tp.sndUna[t]);
  if ((tp.dupAcks[t] >= 3 || lost) && after(tp.sndUna[t], tp.recover[t])) {
    enterRecovery(st, t);
    return;
  }
  tcpWriteXmit(st, t); // limited transmit (RFC 3042) for the first two
}

/**
 * tcp_check_sack_reneging: a cumulative ACK that ends at (or inside) data
 * the scoreboard holds as SACKed is inconsistent with it: a receiver that
 * still held that data would have acknowledged past it, so it has reneged
 * (RFC 2018 §8 allows it to discard SACKed data). As Linux does, the RTO is
 * brought forward (max(SRTT/16, 10 ms), so a reordered later ACK can still
 * cancel it); tcpEnterLoss then sees the SACKed head and clears the
 * scoreboard. Called by tcpAck after SND.UNA advanced. Returns true when
 * reneging is suspected.
 */
export function tcpCheckSackReneging(st: Stack, t: number): boolean {
  const tp = st.tcp;
  if (tp.sbN[t] === 0 || after(tp.sbS[t * tp.K], tp.sndUna[t])) return false;
  let d = Math.floor(tp.srtt8[t] / 128);
  if (d < 10) d = 10;
  if (d < st.cfg.timerTickMs) d = st.cfg.timerTickMs;
  tp.flags[t] &= ~(F_PROBE | F_REO_TMR | F_TLP_TMR);
  st.timers.mod(tp.tRtx[t], st.now() + d);
  return true;
}

/**
 * tcp_enter_loss: the retransmission timer expired (RFC 5681 §3.1 eq. 4,
 * RFC 6582 §4). The SACK scoreboard is kept (RFC 6675 §5.1, RFC 2018
 * errata 1610, Linux tcp_timeout_mark_lost): the go-back-N resend
 * (tcpWriteXmit) then fills only the holes from SND.UNA and skips what the
 * receiver reported holding. It is cleared when reneging is suspected: the
 * range at SND.UNA is marked SACKed (the peer acknowledged up to SACKed data
 * without covering it), or this is a further timeout with no cumulative
 * progress since the previous one (what the scoreboard claims may be gone).
 */
export function tcpEnterLoss(st: Stack, t: number): void {
  const tp = st.tcp;
  if (FEATURE_TCP_RACK && rackActive(st, t)) {
    rackEnterLoss(st, t); // FEATURE_TCP_RACK: mark lost, resend by the scoreboard (tcp_recovery.ts)
    return;
  }
  tp.ssthresh[t] = halfFlight(st, t);
  tp.cwnd[t] = tp.smss[t];
  tp.flags[t] &= ~(F_RENO_RECOV | F_SACK_RECOV);
  tp.dupAcks[t] = 0;
  tp.recover[t] = tp.sndMax[t];
  if (FEATURE_TCP_SACK && tp.sbN[t] > 0 && (!after(tp.sbS[t * tp.K], tp.sndUna[t]) || tp.retransmits[t] > 1)) {
    tp.sbN[t] = 0;
    tp.ext[TX_SACKRENEGING]++;
  }
  tp.sndNxt[t] = tp.sndUna[t];
  tp.highRxt[t] = tp.sndUna[t];
}
