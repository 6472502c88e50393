/*
 * tcp_recovery.ts — RACK-TLP loss detection and recovery undo
 * (net/ipv4/tcp_recovery.c, tcp_input.c's tcp_sacktag / tcp_try_undo_*,
 * tcp_output.c's tcp_schedule_loss_probe / tcp_send_loss_probe), behind
 * FEATURE_TCP_RACK and cfg.tcpRackSegs, for connections with SACK.
 *
 * Place in the packet path: tcpXmitAt (tcp_output.ts) records every
 * transmission (tcp_seq.ts rkOnXmit); tcpAck (tcp_input.ts) marks SACKed records
 * (rackSacked), D-SACKs (rackDsack) and cumulatively acknowledged ones
 * (rackAcked); tcpFastRetransAlert (tcp_cong.ts) hands the ACK to
 * rackFastRetransAlert; the retransmit timer (tcp_timer.ts) runs
 * rackReoTimeout / tcpTlpTimeout when it is armed as those timers.
 *
 *   RFC 8985 §6  RACK: a segment is lost when a segment sent after it was
 *                delivered and RACK.rtt + reo_wnd have passed since it
 *                was sent (reo_wnd = min_RTT/4 × reo_wnd_mult, 0 before any
 *                reordering once in recovery; the multiplier grows per
 *                D-SACK round, resets after 16 recoveries; at least the
 *                lateness measured when a recovery is undone); a lost
 *                retransmission is found the same way.
 *   RFC 8985 §7  TLP: with data in flight, a probe timer of 2·SRTT (+ the
 *                RTO floor when one segment is out): new data, else the
 *                newest segment again, so a tail loss gets SACK feedback
 *                and fast recovery instead of an RTO. Up to TLP_MAX probes
 *                with the PTO doubling (tcp_output.ts), also in recovery
 *                when the ACK clock stopped; none after an RTO until data
 *                is delivered again.
 *   RFC 6675 §5  recovery transmits while pipe < cwnd: lost records first,
 *                then new data (NextSeg rules 1-2); RFC 6937 PRR sets cwnd
 *                in fast recovery (at least one segment at its start).
 *   RFC 5681 §3.1 / Linux tcp_enter_loss: after an RTO every record not
 *                SACKed is marked lost and resent by the scoreboard under a
 *                slow-starting cwnd (not go-back-N of SACKed data).
 *   RFC 3708 / RFC 2883 §5: when D-SACKs cover every retransmission of a
 *                recovery, it was spurious: cwnd and ssthresh are restored.
 *   RFC 3522 (Eifel), RFC 4015: an ACK of new data echoing a timestamp
 *                older than the first retransmission shows the original
 *                arrived: the recovery (fast or RTO) is undone. This is the
 *                detection F-RTO (RFC 5682) provides without timestamps
 *                (F-RTO itself is not implemented: without timestamps a
 *                spurious RTO is undone only by D-SACKs).
 *
 * Records (tcp.ts rkSeq/rkTime/rkFl, a ring of M per TCB, sequence order):
 * one per segment sent, start sequence, time of its latest transmission;
 * its end is the next record's start (or sndMax). No allocation.
 */
import type { Stack } from '../../stack';
import type { TcpState } from './tcp';
import { s32, after, before } from '../../core/bits';
import {
  F_SACK, F_SACK_RECOV, F_RENO_RECOV, F_FIN_QUEUED, F_TS, F_PROBE, F_REO_TMR, F_TLP_TMR, F_LOSS, F_REORD, F_UNDO,
  F_TLP_OUT, F_TLP_RTX, TX_LOSSPROBES, TX_LOSSPROBERECOVERY, TX_LOSTRETRANSMIT, TX_RACKTIMEOUTS,
  TX_DSACKUNDO, TX_FULLUNDO, TX_LOSSUNDO, TX_SACKRECOVERY, TX_FASTRETRANS, TX_SACKRENEGING, TX_SPURIOUSRTOS,
  seqDiff, tcpTimeStamp,
} from './tcp';
import { FEATURE_TCP_RACK, FEATURE_TCP_SACK, FEATURE_TCP_TIMESTAMPS } from '../../features';
import {
  tcpXmitAt, tcpWriteXmit, tcpResetXmitTimer, tcpUnsent, tcpFinPending, tcpCanSend, tcpScheduleLossProbe, TLP_MAX,
} from './tcp_output';
import { RK_SACKED, RK_LOST, RK_RETRANS, RK_EVER, rkSlot, rkEnd } from './tcp_seq';

/** RFC 6675 DupThresh in segments (RACK's reo_wnd is 0 beyond it before reordering is seen) */
const DUPTHRESH = 3;
/** recoveries without D-SACK before reo_wnd_mult returns to 1 (RFC 8985 §6.2 step 4) */
const REO_PERSIST = 16;

/** RACK runs on this TCB: compiled in, records configured, SACK negotiated. */
export function rackActive(st: Stack, t: number): boolean {
  const tp = st.tcp;
  return FEATURE_TCP_RACK && FEATURE_TCP_SACK && tp.M > 0 && (tp.flags[t] & F_SACK) !== 0;
}

/** Reset the per-connection RACK state (tcpEstablish). */
export function rackInit(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if (!FEATURE_TCP_RACK || tp.M === 0) return;
  rk.rkN[t] = 0;
  rk.rkHead[t] = 0;
  rk.rackXmit[t] = 0;
  rk.rackEnd[t] = tp.sndUna[t];
  rk.rackRtt[t] = 0;
  rk.rackMinRtt[t] = 0;
  rk.rackFack[t] = tp.sndUna[t];
  rk.reoMult[t] = 1;
  rk.reoRound[t] = tp.sndUna[t];
  rk.reoPersist[t] = 0;
  rk.reoSeen[t] = 0;
  rk.undoRetrans[t] = 0;
  rk.tlpHigh[t] = tp.sndUna[t];
  rk.tlpCount[t] = 0;
  rk.frto[t] = 0;
}

/**
 * A segment RACK had declared lost arrived after all, rtt ms after it was
 * sent (dated by the timestamp the undoing ACK echoes), where the fastest
 * round trip is rackMinRtt: the difference is reordering the window must
 * absorb. RFC 8985 §6.2 step 4 grows reo_wnd one min_RTT/4 step per D-SACK
 * round; the measured degree covers a path's jitter after one spurious
 * retransmission instead of one per step (20 ms of jitter on a 10 ms path:
 * 8 steps, 8 spurious recoveries). Kept as long as reo_wnd_mult is
 * (reoPersist recoveries).
 */
function reoMeasured(tp: TcpState, t: number, rtt: number): void {
  const rk = tp.rk!;
  const lat = rtt - rk.rackMinRtt[t];
  if (lat > rk.reoSeen[t]) rk.reoSeen[t] = lat;
  rk.reoPersist[t] = REO_PERSIST;
}

/** RFC 8985 §6.2 step 2 (RACK_update): record k (ending at end) was delivered by this ACK. */
function rackUpdate(st: Stack, t: number, k: number, end: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  const now = st.now();
  const xt = rk.rkTime[k];
  const rtt = now - xt;
  const fl = rk.rkFl[k];
  if ((fl & RK_EVER) !== 0) {
    // ambiguous: the ACK may be for the original transmission when it came back faster than
    // any round trip (Linux tcp_rack_advance; RFC 8985 §6.2 step 2 also compares TSecr, but a
    // receiver echoes the TSval of its last in-order segment (RFC 7323 §4.3), so a SACK of a
    // retransmission that arrived out of order would never count). min_RTT is the least sample
    // so far, not the path's floor: a retransmission's SACK a little faster is still its own
    // (taking it as the original's froze RACK.xmit_ts, and every lost retransmission waited for
    // the RTO), so only one back in under half of it is for the original
    if (rtt * 2 < rk.rackMinRtt[t]) return;
  } else {
    if (rk.rackMinRtt[t] === 0 || rtt < rk.rackMinRtt[t]) rk.rackMinRtt[t] = rtt > 0.001 ? rtt : 0.001;
    // step 3: a never-retransmitted segment delivered below one delivered earlier: reordering
    // (or lost ACKs: its degree is measured only from an undone recovery, below)
    if (before(end, rk.rackFack[t])) tp.flags[t] |= F_REORD;
  }
  if (after(end, rk.rackFack[t])) rk.rackFack[t] = end;
  if (xt > rk.rackXmit[t] || (xt === rk.rackXmit[t] && after(end, rk.rackEnd[t]))) {
    rk.rackXmit[t] = xt;
    rk.rackEnd[t] = end;
    rk.rackRtt[t] = rtt;
  }
}

/** A (validated, non-D-SACK) SACK block [s, e): records inside it are delivered. */
export function rackSacked(st: Stack, t: number, s: number, e: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  const n = rk.rkN[t];
  for (let i = 0; i < n; i++) {
    const k = rkSlot(tp, t, i);
    const rs = rk.rkSeq[k];
    if (!before(rs, e)) break;
    if ((rk.rkFl[k] & RK_SACKED) !== 0 || before(rs, s)) continue;
    const re = rkEnd(tp, t, i);
    // a SACK block covers data only: the record that carries our FIN is SACKed up to it
    const fin = re === tp.sndMax[t] && (tp.flags[t] & F_FIN_QUEUED) !== 0 && re === s32(tp.writeSeq[t] + 1);
    if (after(fin ? s32(re - 1) : re, e)) break;
    rk.rkFl[k] = (rk.rkFl[k] | RK_SACKED) & ~(RK_LOST | RK_RETRANS);
    rk.rackNewSack = true;
    rk.rackDelivered += seqDiff(re, rs);
    rackUpdate(st, t, k, re);
  }
}

/**
 * SND.UNA moved to una: records wholly below it are delivered and leave
 * the ring; one it cuts starts at una.
 */
export function rackAcked(st: Stack, t: number, una: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  while (rk.rkN[t] > 0) {
    const k = rkSlot(tp, t, 0);
    const re = rkEnd(tp, t, 0);
    if (after(re, una)) {
      if (before(rk.rkSeq[k], una)) rk.rkSeq[k] = una;
      break;
    }
    if ((rk.rkFl[k] & RK_SACKED) === 0) rackUpdate(st, t, k, re);
    else rk.rackDelivered -= seqDiff(re, rk.rkSeq[k]); // counted when it was SACKed
    rk.rkHead[t] = (rk.rkHead[t] + 1) % tp.M;
    rk.rkN[t]--;
  }
}

/**
 * A D-SACK block [s, e) (RFC 2883): data arrived twice. Counts against
 * the recovery's retransmissions (undo, RFC 3708) and, once per round
 * trip, widens the reordering window (RFC 8985 §6.2 step 4).
 */
export function rackDsack(st: Stack, t: number, s: number, e: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if ((tp.flags[t] & F_UNDO) !== 0 && after(e, rk.undoMarker[t]) && rk.undoRetrans[t] > 0) {
    rk.undoRetrans[t]--;
    if (rk.undoRetrans[t] === 0) rk.rackUndoDsack = true;
  }
  if ((tp.flags[t] & F_TLP_OUT) !== 0 && !before(s, s32(rk.tlpHigh[t] - tp.smss[t] - 1)) && !after(e, rk.tlpHigh[t])) {
    // the probe itself was a duplicate: nothing was lost at the tail (RFC 8985 §7.4.2)
    tp.flags[t] &= ~(F_TLP_OUT | F_TLP_RTX);
  }
  if (after(tp.sndUna[t], rk.reoRound[t]) || rk.reoRound[t] === tp.sndUna[t]) {
    if (rk.reoMult[t] < 255) rk.reoMult[t]++;
    rk.reoRound[t] = tp.sndMax[t];
    rk.reoPersist[t] = REO_PERSIST;
  }
  tp.flags[t] |= F_REORD;
}

/**
 * RFC 8985 §6.2 step 5 (RACK_detect_loss): mark lost every record sent
 * before the most recently delivered one whose time is up; arm the
 * reordering timer for the first one not yet due. Returns the number of
 * records newly marked lost.
 */
export function rackDetectLoss(st: Stack, t: number): number {
  const tp = st.tcp;
  const rk = tp.rk!;
  const now = st.now();
  const n = rk.rkN[t];
  if (rk.rackXmit[t] === 0) return 0;
  let sacked = 0;
  for (let i = 0; i < n; i++) if ((rk.rkFl[rkSlot(tp, t, i)] & RK_SACKED) !== 0) sacked++;
  // RFC 8985 §6.2 step 4, the reordering window: 0 before any reordering was seen once in
  // recovery or DupThresh segments are SACKed; else min_RTT/4 × reo_wnd_mult, at most SRTT
  // (computed here, not returned by a helper: a fractional double returned would be boxed on V8)
  let reo = 0;
  if ((tp.flags[t] & F_REORD) !== 0 || ((tp.flags[t] & F_SACK_RECOV) === 0 && sacked < DUPTHRESH)) {
    reo = (rk.rackMinRtt[t] / 4) * rk.reoMult[t];
    if (rk.reoSeen[t] > reo) reo = rk.reoSeen[t];
    const srtt = tp.srtt8[t] / 8;
    if (srtt > 0 && reo > srtt) reo = srtt;
  }
  const rx = rk.rackXmit[t];
  const re = rk.rackEnd[t];
  let wait = 0;
  let marked = 0;
  for (let i = 0; i < n; i++) {
    const k = rkSlot(tp, t, i);
    const fl = rk.rkFl[k];
    if ((fl & RK_SACKED) !== 0 || (fl & (RK_LOST | RK_RETRANS)) === RK_LOST) continue;
    const xt = rk.rkTime[k];
    if (!(xt < rx || (xt === rx && before(rkEnd(tp, t, i), re)))) continue;
    const rem = xt + rk.rackRtt[t] + reo - now;
    if (rem <= 0) {
      if ((fl & RK_RETRANS) !== 0) tp.ext[TX_LOSTRETRANSMIT]++;
      rk.rkFl[k] = (fl | RK_LOST) & ~RK_RETRANS;
      marked++;
    } else if (rem > wait) {
      wait = rem;
    }
  }
  if (wait > 0) {
    tp.flags[t] = (tp.flags[t] & ~(F_PROBE | F_TLP_TMR)) | F_REO_TMR;
    st.timers.mod(tp.tRtx[t], Math.ceil(now + wait));
  }
  return marked;
}

/** A lost record not yet resent, or -1. */
function firstLost(st: Stack, t: number): number {
  const tp = st.tcp;
  const rk = tp.rk!;
  const n = rk.rkN[t];
  for (let i = 0; i < n; i++) if ((rk.rkFl[rkSlot(tp, t, i)] & (RK_LOST | RK_RETRANS | RK_SACKED)) === RK_LOST) return i;
  return -1;
}

/**
 * Resend record i whole: a record covers one segment, or several when all
 * M were in use as they were sent (rkOnXmit), and the new time applies to
 * all of it, so all of it must go (a segment at a time). Returns the
 * sequence space sent, <= 0 when nothing could be.
 */
function rackRetransmit(st: Stack, t: number, i: number): number {
  const tp = st.tcp;
  const rk = tp.rk!;
  let s = rk.rkSeq[rkSlot(tp, t, i)];
  if (before(s, tp.sndUna[t])) s = tp.sndUna[t];
  const e = rkEnd(tp, t, i);
  let sent = 0;
  for (let guard = 0; guard < 64 && before(s, e); guard++) {
    const r = tcpXmitAt(st, t, s, seqDiff(e, s), true);
    if (r <= 0) return sent > 0 ? sent : r;
    sent += r;
    s = s32(s + r);
  }
  return sent;
}

/** Linux tcp_packets_in_flight in bytes: outstanding - SACKed - lost + retransmitted (RFC 6675 pipe). */
export function rackPipe(st: Stack, t: number): number {
  const tp = st.tcp;
  const rk = tp.rk!;
  const n = rk.rkN[t];
  let p = 0;
  for (let i = 0; i < n; i++) {
    const fl = rk.rkFl[rkSlot(tp, t, i)];
    if ((fl & RK_SACKED) !== 0 || (fl & (RK_LOST | RK_RETRANS)) === RK_LOST) continue;
    p += seqDiff(rkEnd(tp, t, i), rk.rkSeq[rkSlot(tp, t, i)]);
  }
  return p;
}

/**
 * RFC 6675 §5 (C) over the records: while cwnd - pipe allows a segment,
 * resend the first lost record, else send new data.
 */
export function rackXmit(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  const smss = tp.smss[t];
  let pipe = rackPipe(st, t);
  // fast recovery: PRR's budget (rackPrr set cwnd = pipe + sndcnt), spent a segment at a time;
  // otherwise whole segments within cwnd (RFC 6675 §5 (C))
  const prr = (tp.flags[t] & (F_SACK_RECOV | F_LOSS)) === F_SACK_RECOV;
  for (let guard = 0; guard < 256; guard++) {
    const room = tp.cwnd[t] - pipe;
    if (prr ? room <= 0 : room < smss && !(pipe === 0 && tp.cwnd[t] > 0)) return;
    const i = firstLost(st, t);
    if (i >= 0) {
      const r = rackRetransmit(st, t, i);
      if (r <= 0) return;
      pipe += r;
      if (prr) rk.prrOut[t] += r;
      continue;
    }
    const avail = tcpUnsent(st, t);
    if (avail === 0 && !tcpFinPending(st, t)) return;
    const wndRoom = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), tp.sndNxt[t]);
    let len = avail < smss ? avail : smss;
    if (len > wndRoom) len = wndRoom > 0 ? wndRoom : 0;
    if (len === 0 && !(avail === 0 && tcpFinPending(st, t))) return;
    const r = tcpXmitAt(st, t, tp.sndNxt[t], len, true);
    if (r <= 0) return;
    pipe += r;
    if (prr) rk.prrOut[t] += r;
  }
}

/**
 * RFC 6937 PRR (Linux tcp_cwnd_reduction), once per ACK in fast recovery:
 * while pipe is above ssthresh, send in proportion to what was delivered
 * (ssthresh / RecoverFS of it); below, slow-start back up to ssthresh
 * (PRR-SSRB); at least one segment once recovery starts. Sets cwnd to
 * pipe + the allowance.
 */
function rackPrr(st: Stack, t: number, delivered: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  const smss = tp.smss[t];
  const pipe = rackPipe(st, t);
  rk.prrDelivered[t] += delivered;
  const ss = tp.ssthresh[t];
  let sndcnt: number;
  if (pipe > ss) {
    const fs = rk.recoverFs[t] > 0 ? rk.recoverFs[t] : 1;
    sndcnt = Math.ceil((rk.prrDelivered[t] * ss) / fs) - rk.prrOut[t];
  } else {
    const a = rk.prrDelivered[t] - rk.prrOut[t];
    sndcnt = (a > delivered ? a : delivered) + smss;
    if (sndcnt > ss - pipe) sndcnt = ss - pipe;
  }
  if (rk.prrOut[t] === 0 && sndcnt < smss) sndcnt = smss;
  if (sndcnt < 0) sndcnt = 0;
  tp.cwnd[t] = pipe + sndcnt;
}

function halfFlight(st: Stack, t: number): number {
  const tp = st.tcp;
  const h = Math.floor(seqDiff(tp.sndMax[t], tp.sndUna[t]) / 2);
  const m = 2 * tp.smss[t];
  return h > m ? h : m;
}

/** Save what an undo restores (Linux tcp_init_undo), unless this recovery continues one already undoable. */
function undoArm(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if ((tp.flags[t] & F_UNDO) !== 0 && before(tp.sndUna[t], tp.recover[t])) return;
  tp.flags[t] |= F_UNDO;
  rk.priorCwnd[t] = tp.cwnd[t];
  rk.priorSsthresh[t] = tp.ssthresh[t];
  rk.undoMarker[t] = tp.sndUna[t];
  rk.undoRetrans[t] = -1; // no retransmission yet (Linux undo_retrans = -1)
  rk.undoTs[t] = s32(tcpTimeStamp(st) + tp.tsOffset[t]);
}

/** Linux tcp_undo_cwnd_reduction + leaving recovery: the retransmissions were not needed. */
function undoRecovery(st: Stack, t: number, counter: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if (rk.priorCwnd[t] > tp.cwnd[t]) tp.cwnd[t] = rk.priorCwnd[t];
  if (rk.priorSsthresh[t] > tp.ssthresh[t]) tp.ssthresh[t] = rk.priorSsthresh[t];
  const n = rk.rkN[t];
  for (let i = 0; i < n; i++) {
    const k = rkSlot(tp, t, i);
    rk.rkFl[k] &= ~RK_LOST;
  }
  tp.flags[t] = (tp.flags[t] & ~(F_SACK_RECOV | F_LOSS | F_UNDO)) | F_REORD;
  rk.frto[t] = 0;
  tp.dupAcks[t] = 0;
  tp.backoff[t] = 0;
  tp.ext[counter]++;
}

/** Linux tcp_packet_delayed: this ACK echoes a TSval from before the recovery's first retransmission. */
function packetDelayed(st: Stack, t: number): boolean {
  const tp = st.tcp;
  const rk = tp.rk!;
  return FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0 && tp.optTs && tp.optTsecr !== 0 &&
    before(tp.optTsecr, rk.undoTs[t]);
}

/** End of a recovery whose retransmissions were needed (or could not be judged). */
function endRecovery(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if ((tp.flags[t] & F_LOSS) === 0) tp.cwnd[t] = tp.ssthresh[t]; // Linux tcp_end_cwnd_reduction
  tp.flags[t] &= ~(F_SACK_RECOV | F_LOSS | F_UNDO);
  rk.frto[t] = 0;
  tp.dupAcks[t] = 0;
  if (rk.reoPersist[t] > 0) {
    rk.reoPersist[t]--;
    if (rk.reoPersist[t] === 0) {
      rk.reoMult[t] = 1;
      rk.reoSeen[t] = 0;
    }
  }
}

/** Enter fast recovery on RACK-detected loss (RFC 6675 §5 step 4, RFC 8985 §6). */
function rackEnterRecovery(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  undoArm(st, t);
  rk.recoverFs[t] = tp.cwnd[t];
  rk.prrDelivered[t] = 0;
  rk.prrOut[t] = 0;
  tp.ssthresh[t] = halfFlight(st, t);
  tp.recover[t] = tp.sndMax[t];
  tp.flags[t] = (tp.flags[t] | F_SACK_RECOV) & ~(F_RENO_RECOV | F_LOSS);
  tp.ext[TX_FASTRETRANS]++;
  tp.ext[TX_SACKRECOVERY]++;
}

/**
 * A tail loss probe was outstanding and SND.UNA passed it (RFC 8985 §7.4):
 * with no D-SACK for the probe (rackDsack clears F_TLP_OUT), a
 * retransmitted probe repaired a loss: reduce cwnd as a recovery would.
 */
function tlpCheckRecovery(st: Stack, t: number, delivered: boolean): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if (delivered) rk.tlpCount[t] = 0; // the ACK clock runs again: probes may follow a later silence
  if ((tp.flags[t] & F_TLP_OUT) === 0) return;
  if ((tp.flags[t] & F_SACK_RECOV) !== 0) {
    tp.flags[t] &= ~(F_TLP_OUT | F_TLP_RTX); // recovery repairs (and accounts for) the tail now
    return;
  }
  if (before(tp.sndUna[t], rk.tlpHigh[t])) return;
  if ((tp.flags[t] & F_TLP_RTX) !== 0 && (tp.flags[t] & F_SACK_RECOV) === 0) {
    tp.ssthresh[t] = halfFlight(st, t);
    if (tp.cwnd[t] > tp.ssthresh[t]) tp.cwnd[t] = tp.ssthresh[t];
    tp.ext[TX_LOSSPROBERECOVERY]++;
  }
  tp.flags[t] &= ~(F_TLP_OUT | F_TLP_RTX);
}

/**
 * tcp_fastretrans_alert for a RACK connection, after tcpAck updated the
 * records: undo checks, loss detection, recovery entry and exit, and the
 * transmissions the congestion window allows.
 */
export function rackFastRetransAlert(st: Stack, t: number, acked: number, dup: boolean, congAvoid: (st: Stack, t: number, acked: number) => void): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  if (!tcpCanSend(tp.state[t])) return;
  tlpCheckRecovery(st, t, acked > 0 || rk.rackNewSack);
  let fl = tp.flags[t];
  if ((fl & F_SACK_RECOV) !== 0 && (fl & F_UNDO) !== 0) {
    // RFC 3522 / RFC 4015: the original transmission was delivered; RFC 3708: every retransmission D-SACKed
    if (acked > 0 && packetDelayed(st, t)) {
      // the echoed TSval dates the original: how late it was is the reordering to allow for
      if ((fl & F_LOSS) === 0) reoMeasured(tp, t, seqDiff(s32(tcpTimeStamp(st) + tp.tsOffset[t]), tp.optTsecr));
      undoRecovery(st, t, (fl & F_LOSS) !== 0 ? TX_LOSSUNDO : TX_FULLUNDO);
    }
    else if (rk.rackUndoDsack) {
      undoRecovery(st, t, TX_DSACKUNDO);
    }
    fl = tp.flags[t];
  }
  rk.rackUndoDsack = false;
  if ((fl & F_LOSS) !== 0 && rk.frto[t] !== 0) {
    if (tcpFrto(st, t, acked, congAvoid)) return;
    fl = tp.flags[t];
  }
  if ((fl & F_SACK_RECOV) !== 0 && !before(tp.sndUna[t], tp.recover[t])) {
    if ((fl & F_UNDO) !== 0 && rk.undoRetrans[t] === 0) undoRecovery(st, t, TX_DSACKUNDO);
    else endRecovery(st, t);
    fl = tp.flags[t];
  }
  if ((fl & F_LOSS) !== 0 && acked > 0) congAvoid(st, t, acked);
  else if ((fl & F_SACK_RECOV) === 0 && acked > 0) {
    tp.dupAcks[t] = 0;
    congAvoid(st, t, acked);
  }
  if ((fl & F_SACK_RECOV) === 0 && dup) tp.dupAcks[t]++;
  rackDetectLoss(st, t);
  if ((tp.flags[t] & F_SACK_RECOV) === 0) {
    if (firstLost(st, t) < 0) {
      tcpWriteXmit(st, t);
      return;
    }
    rackEnterRecovery(st, t);
  }
  if ((tp.flags[t] & F_LOSS) === 0) {
    const d = acked + rk.rackDelivered;
    rackPrr(st, t, d > 0 ? d : 0);
  }
  rackXmit(st, t);
}

/**
 * RFC 5682 F-RTO (SACK-enhanced, §4; Linux tcp_process_loss with frto): after
 * an RTO whose retransmission the first ACK covers, send up to two new
 * segments instead of more retransmissions; if the next ACK also
 * acknowledges data sent before the timeout, the timeout was spurious (a
 * delay spike, not loss): undo it (RFC 4015). A duplicate ACK at either
 * step means the timeout was genuine: the lost records are resent as
 * usual. With timestamps the Eifel check (packetDelayed) usually decides
 * first. Returns true when this ACK's sending is done.
 */
function tcpFrto(st: Stack, t: number, acked: number, congAvoid: (st: Stack, t: number, acked: number) => void): boolean {
  const tp = st.tcp;
  const rk = tp.rk!;
  if (acked === 0 || !before(tp.sndUna[t], tp.recover[t])) {
    rk.frto[t] = 0; // a duplicate ACK (step 2a / 3a), or all acknowledged: conventional
    return false;
  }
  if (rk.frto[t] === 2) {
    rk.frto[t] = 0; // step 3b: data sent before the timeout acknowledged as well
    tp.ext[TX_SPURIOUSRTOS]++;
    undoRecovery(st, t, TX_LOSSUNDO);
    return false;
  }
  // step 2b: up to two new segments, if there are any and the peer's window takes them
  congAvoid(st, t, acked);
  const smss = tp.smss[t];
  let sent = 0;
  for (let i = 0; i < 2; i++) {
    const avail = tcpUnsent(st, t);
    const wndRoom = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), tp.sndNxt[t]);
    let len = avail < smss ? avail : smss;
    if (len > wndRoom) len = wndRoom;
    if (len <= 0 || tcpXmitAt(st, t, tp.sndNxt[t], len, true) <= 0) break;
    sent++;
  }
  if (sent === 0) {
    rk.frto[t] = 0; // nothing new to send: F-RTO cannot tell, conventional recovery
    return false;
  }
  rk.frto[t] = 2;
  return true;
}

/**
 * tcp_enter_loss for a RACK connection (the RTO fired): every record not
 * SACKed is lost (all of them when the receiver may have reneged), cwnd
 * restarts at one segment and grows by slow start while rackXmit resends
 * the lost records; RACK goes on finding lost retransmissions meanwhile.
 */
export function rackEnterLoss(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  // F-RTO on the first timeout of an episode outside recovery (RFC 5682 §2: not in fast recovery)
  rk.frto[t] = tp.retransmits[t] <= 1 && (tp.flags[t] & F_SACK_RECOV) === 0 ? 1 : 0;
  undoArm(st, t);
  tp.ssthresh[t] = halfFlight(st, t);
  tp.cwnd[t] = tp.smss[t];
  tp.recover[t] = tp.sndMax[t];
  tp.dupAcks[t] = 0;
  tp.flags[t] = (tp.flags[t] | F_SACK_RECOV | F_LOSS) & ~(F_RENO_RECOV | F_TLP_OUT | F_TLP_RTX);
  // no probes after a timeout until something is delivered again: a dead path sees
  // only the RTO's exponential backoff (RFC 6298 §5.5), as without RACK
  rk.tlpCount[t] = TLP_MAX;
  const reneged = tp.sbN[t] > 0 && (!after(tp.sbS[t * tp.K], tp.sndUna[t]) || tp.retransmits[t] > 1);
  if (reneged) {
    tp.sbN[t] = 0;
    tp.ext[TX_SACKRENEGING]++;
  }
  const n = rk.rkN[t];
  for (let i = 0; i < n; i++) {
    const k = rkSlot(tp, t, i);
    if (reneged || (rk.rkFl[k] & RK_SACKED) === 0) rk.rkFl[k] = (rk.rkFl[k] & RK_EVER) | RK_LOST;
  }
  tp.highRxt[t] = tp.sndUna[t];
}

/** The reordering timer fired (RFC 8985 §6.3 RACK_reo_timeout). */
export function rackReoTimeout(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.flags[t] &= ~F_REO_TMR;
  if (!tcpCanSend(tp.state[t]) || tp.sndUna[t] === tp.sndMax[t]) return;
  tp.ext[TX_RACKTIMEOUTS]++;
  tcpResetXmitTimer(st, t);
  rackDetectLoss(st, t);
  if ((tp.flags[t] & F_SACK_RECOV) === 0) {
    if (firstLost(st, t) < 0) {
      tcpScheduleLossProbe(st, t);
      return;
    }
    rackEnterRecovery(st, t);
  }
  if ((tp.flags[t] & F_LOSS) === 0) rackPrr(st, t, 0);
  rackXmit(st, t);
  tcpScheduleLossProbe(st, t);
}

/**
 * The probe timer fired (RFC 8985 §7.3 / Linux tcp_send_loss_probe): send
 * one segment of new data when the window allows, else the last segment
 * again; then the RTO guards the probe.
 */
export function tcpTlpTimeout(st: Stack, t: number): void {
  const tp = st.tcp;
  const rk = tp.rk!;
  tp.flags[t] &= ~F_TLP_TMR;
  if (!tcpCanSend(tp.state[t])) return;
  // the RTO stays due when it was before the probe timer took its place
  const now = st.now();
  st.timers.mod(tp.tRtx[t], rk.tlpRtoAt[t] > now ? rk.tlpRtoAt[t] : now);
  if (tp.sndUna[t] === tp.sndMax[t]) return;
  const smss = tp.smss[t];
  const avail = tcpUnsent(st, t);
  const wndRoom = seqDiff(s32(tp.sndUna[t] + tp.sndWnd[t]), tp.sndNxt[t]);
  let r = 0;
  let rtx = false;
  rk.tlpCount[t]++; // before sending: the probe's own transmission arms the next one, not this
  const open = (tp.flags[t] & F_SACK_RECOV) === 0;
  if ((tp.flags[t] & F_SACK_RECOV) !== 0) {
    // in recovery with no ACK clock (cwnd full, nothing coming back): a lost
    // segment not yet resent goes first, else the probe below (new data or
    // the newest segment), whose SACK lets RACK judge the retransmissions
    // sent before it instead of the RTO
    rackDetectLoss(st, t);
    const i = firstLost(st, t);
    if (i >= 0) {
      r = rackRetransmit(st, t, i);
      rtx = true;
    }
  }
  if (r <= 0 && avail > 0 && wndRoom > 0) {
    r = tcpXmitAt(st, t, tp.sndNxt[t], avail < smss ? avail : smss, true);
  }
  if (r <= 0) {
    // no new data: the newest segment not SACKed goes again, by the first probe only (a
    // second one with no ACK in between would be a duplicate the RTO may as well send)
    if (rk.tlpCount[t] > 1) return;
    let i = rk.rkN[t] - 1;
    while (i >= 0 && (rk.rkFl[rkSlot(tp, t, i)] & RK_SACKED) !== 0) i--;
    if (i < 0) return;
    const k = rkSlot(tp, t, i);
    // in recovery, not a segment whose retransmission is still out: RACK judges that one
    // once anything sent after it is delivered, else the RTO resends it
    if (!open && (rk.rkFl[k] & RK_RETRANS) !== 0) return;
    let s = rk.rkSeq[k];
    const e = rkEnd(tp, t, i);
    if (seqDiff(e, s) > smss) s = s32(e - smss);
    if (before(s, tp.sndUna[t])) s = tp.sndUna[t];
    r = tcpXmitAt(st, t, s, seqDiff(e, s), true);
    rtx = true;
  }
  if (r <= 0) return;
  tp.ext[TX_LOSSPROBES]++;
  if (open && (tp.flags[t] & F_TLP_OUT) === 0) {
    // RFC 8985 §7.3: remember the first probe of an episode, to see if it repaired a loss (§7.4)
    tp.flags[t] |= F_TLP_OUT | (rtx ? F_TLP_RTX : 0);
    rk.tlpHigh[t] = tp.sndMax[t];
  }
  tcpScheduleLossProbe(st, t);
}
