/*
 * tcp_timer.ts — TCP timers (net/ipv4/tcp_timer.c). Three timers per TCB,
 * registered once at start-up (initTcp): 
 *
 *   TT_RTX   tcp_retransmit_timer: RTO with exponential backoff and Karn
 *            (RFC 6298 §5), SYN / SYN-ACK retries, tcp_retries2 and
 *            TCP_USER_TIMEOUT (RFC 5482) give-up; in persist mode
 *            tcp_probe_timer: zero-window probes (RFC 9293 §3.8.6.1,
 *            RFC 1122 §4.2.2.17) that never give up while the peer answers.
 *   TT_DACK  tcp_delack_timer (RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3)
 *   TT_KEEP  tcp_keepalive_timer (RFC 1122 §4.2.3.6) and the orphaned
 *            FIN_WAIT2 timeout (tcp_fin_timeout)
 *
 * Plus one timer each for the SYN queue and the TIME_WAIT table
 * (tcp_minisocks.ts). Handlers are objects created once; arg = TCB number.
 */
import type { Stack } from '../../stack';
import type { TimerHandler } from '../../core/timer';
import { ETIMEDOUT } from '../../core/errno';
import { s32 } from '../../core/bits';
import {
  TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED, TCP_CLOSE_WAIT, TCP_FIN_WAIT2, F_PROBE, F_KEEPALIVE,
  TCP_FIN_WAIT1, TCP_CLOSING, TCP_LAST_ACK, F_LINGER, TX_ABORTONLINGER, F_REO_TMR, F_TLP_TMR,
  OWN_ORPHAN, TCP_ATTEMPTFAILS, TCP_OUTSEGS, TX_TIMEOUTS, TX_SYNRETRANS, TX_WINPROBE, TX_KEEPALIVE,
  TX_ABORTONTIMEOUT, F_TS, F_RTO_TS, seqDiff, tcpDone, tcpTimeStamp,
} from './tcp';
import {
  tcpSendSyn, tcpSendProbe, tcpWriteXmit, tcpXmitAt, tcpResetXmitTimer, tcpResetProbeTimer, tcpScheduleLossProbe,
  tcpUnsent, tcpFinPending, tcpCanSend, tcpSendActiveReset,
} from './tcp_output';
import { tcpEnterLoss } from './tcp_cong';
import { rackActive, rackXmit, rackReoTimeout, tcpTlpTimeout } from './tcp_recovery';
import { tcpDelackTimer } from './tcp_input';
import { tcpTwTimer, tcpReqTimer } from './tcp_minisocks';
import { FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_KEEPALIVE, FEATURE_TCP_RACK } from '../../features';

/** tcp_write_err: give up on the connection. */
function tcpWriteErr(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.err[t] = tp.softErr[t] !== 0 ? tp.softErr[t] : ETIMEDOUT;
  tp.ext[TX_ABORTONTIMEOUT]++;
  tcpDone(st, t);
}

function backoffUp(st: Stack, t: number): void {
  const tp = st.tcp;
  if (tp.backoff[t] < 16) tp.backoff[t]++;
}

/** tcp_retransmit_timer */
export function tcpRetransmitTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  const c = st.cfg;
  const s = tp.state[t];
  if (s === TCP_SYN_SENT || s === TCP_SYN_RECV) {
    const max = s === TCP_SYN_SENT ? c.tcpSynRetries : c.tcpSynAckRetries;
    if (tp.retransmits[t] >= max) {
      if (s === TCP_SYN_SENT) tp.mib[TCP_ATTEMPTFAILS]++;
      tcpWriteErr(st, t);
      return;
    }
    tp.retransmits[t]++;
    backoffUp(st, t);
    tp.ext[TX_SYNRETRANS]++;
    tp.ext[TX_TIMEOUTS]++;
    tcpSendSyn(st, t);
    tcpResetXmitTimer(st, t);
    return;
  }
  if (!tcpCanSend(s)) return;
  if (tp.sndUna[t] === tp.sndMax[t]) {
    // nothing outstanding (an skb shortage stopped a send): try again
    tcpWriteXmit(st, t);
    return;
  }
  const now = st.now();
  if (tp.sndWnd[t] === 0 && tp.owner[t] !== OWN_ORPHAN) {
    // Data in flight and the window is zero: the peer shrank its window
    // (RFC 9293 §3.8.6 discourages it, but it happens). The retransmissions
    // are window probes now; a peer that answers is alive and is not given up on
    // until it has been silent for tcpRtoMaxMs (Linux tcp_retransmit_timer,
    // "receiver dastardly shrinks window"). An orphan times out normally.
    if (now - tp.rcvTstamp[t] > c.tcpRtoMaxMs) {
      tcpWriteErr(st, t);
      return;
    }
    tp.ext[TX_TIMEOUTS]++;
    tcpEnterLoss(st, t);
    if (tcpXmitAt(st, t, tp.sndUna[t], tp.smss[t], true) <= 0) {
      tp.ext[TX_WINPROBE]++;
      tcpSendProbe(st, t);
    }
    backoffUp(st, t);
    tcpResetXmitTimer(st, t);
    return;
  }
  if (tp.retransmits[t] === 0) tp.rtxStart[t] = now;
  if (
    tp.retransmits[t] >= c.tcpRetries2 ||
    (tp.userTimeout[t] > 0 && now - tp.rtxStart[t] >= tp.userTimeout[t])
  ) {
    tcpWriteErr(st, t);
    return;
  }
  tp.ext[TX_TIMEOUTS]++;
  tp.retransmits[t]++;
  backoffUp(st, t);
  tcpEnterLoss(st, t);
  if (FEATURE_TCP_TIMESTAMPS && (tp.flags[t] & F_TS) !== 0) {
    tp.flags[t] |= F_RTO_TS;
    tp.rtxTs[t] = s32(tcpTimeStamp(st) + tp.tsOffset[t]);
  }
  const before0 = tp.sndNxt[t];
  const out0 = tp.mib[TCP_OUTSEGS];
  const rack = FEATURE_TCP_RACK && rackActive(st, t);
  if (rack) rackXmit(st, t); // FEATURE_TCP_RACK: the lost records, under cwnd
  else tcpWriteXmit(st, t);
  if (rack ? tp.mib[TCP_OUTSEGS] === out0 : tp.sndNxt[t] === before0) {
    // window closed or Nagle held it: the oldest segment goes anyway (within
    // the peer's window); with no room at all, a window probe asks for an ACK
    if (tcpXmitAt(st, t, tp.sndUna[t], tp.smss[t], true) <= 0) tcpSendProbe(st, t);
  }
  tcpResetXmitTimer(st, t);
  // RACK: a probe 2·SRTT on, should this retransmission or its ACK be lost too (tcp_recovery.ts)
  if (rack) tcpScheduleLossProbe(st, t);
}

/** tcp_probe_timer: the persist timer (peer window zero, data waiting). */
export function tcpProbeTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  tp.flags[t] &= ~F_PROBE;
  if (!tcpCanSend(tp.state[t])) return;
  if (tp.sndUna[t] !== tp.sndMax[t]) {
    tcpResetXmitTimer(st, t);
    return;
  }
  if (tcpUnsent(st, t) === 0 && !tcpFinPending(st, t)) return;
  const room = seqDiff(tp.sndUna[t] + tp.sndWnd[t], tp.sndNxt[t]);
  if (room > 0 || tcpUnsent(st, t) === 0) {
    // the window is open (but small: SWS avoidance held the data) or only the FIN waits
    tcpXmitAt(st, t, tp.sndNxt[t], room > 0 ? room : 0, true);
    return;
  }
  if (tp.probesOut[t] >= st.cfg.tcpRetries2 ||
      (tp.userTimeout[t] > 0 && tp.rtxStart[t] > 0 && st.now() - tp.rtxStart[t] >= tp.userTimeout[t])) {
    tcpWriteErr(st, t);
    return;
  }
  if (tp.probesOut[t] === 0) tp.rtxStart[t] = st.now();
  tp.probesOut[t]++;
  tp.ext[TX_WINPROBE]++;
  tcpSendProbe(st, t);
  backoffUp(st, t);
  tcpResetProbeTimer(st, t);
}

/** tcp_keepalive_timer (also the orphaned FIN_WAIT2 timeout). */
export function tcpKeepaliveTimer(st: Stack, t: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if (s === TCP_FIN_WAIT2 && tp.owner[t] === OWN_ORPHAN) {
    tcpDone(st, t);
    return;
  }
  if (
    tp.owner[t] === OWN_ORPHAN && (tp.flags[t] & F_LINGER) !== 0 &&
    (s === TCP_FIN_WAIT1 || s === TCP_CLOSING || s === TCP_LAST_ACK)
  ) {
    // SO_LINGER timeout: the peer did not take the data and FIN in time
    tp.ext[TX_ABORTONLINGER]++;
    tcpSendActiveReset(st, t);
    tp.err[t] = ETIMEDOUT;
    tcpDone(st, t);
    return;
  }
  // FEATURE_TCP_KEEPALIVE off: no keep-alive probes (RFC 1122 §4.2.3.6 makes them optional)
  if (!FEATURE_TCP_KEEPALIVE || (tp.flags[t] & F_KEEPALIVE) === 0 || (s !== TCP_ESTABLISHED && s !== TCP_CLOSE_WAIT)) return;
  const now = st.now();
  if (tp.sndUna[t] !== tp.sndMax[t] || tcpUnsent(st, t) > 0) {
    // the retransmit/persist machinery watches the peer
    st.timers.mod(tp.tKeep[t], now + tp.keepIdle[t]);
    return;
  }
  const idle = now - tp.rcvTstamp[t];
  if (idle < tp.keepIdle[t] && tp.probesOut[t] === 0) {
    st.timers.mod(tp.tKeep[t], tp.rcvTstamp[t] + tp.keepIdle[t]);
    return;
  }
  if (tp.probesOut[t] >= tp.keepCnt[t]) {
    tcpSendActiveReset(st, t);
    tcpWriteErr(st, t);
    return;
  }
  tp.probesOut[t]++;
  tp.ext[TX_KEEPALIVE]++;
  tcpSendProbe(st, t);
  st.timers.mod(tp.tKeep[t], now + tp.keepIntvl[t]);
}

/** One handler object per timer kind (created once by initTcp). */
export class TcpTimerHandler implements TimerHandler {
  constructor(
    readonly st: Stack,
    readonly kind: number,
  ) {}
  onTimer(t: number): void {
    const st = this.st;
    const k = this.kind;
    if (k === 0) {
      const fl = st.tcp.flags[t];
      if ((fl & F_PROBE) !== 0) tcpProbeTimer(st, t);
      else if (FEATURE_TCP_RACK && (fl & F_REO_TMR) !== 0) rackReoTimeout(st, t);
      else if (FEATURE_TCP_RACK && (fl & F_TLP_TMR) !== 0) tcpTlpTimeout(st, t);
      else tcpRetransmitTimer(st, t);
    } else if (k === 1) {
      tcpDelackTimer(st, t);
    } else if (k === 2) {
      tcpKeepaliveTimer(st, t);
    } else if (k === 3) {
      tcpReqTimer(st);
    } else {
      tcpTwTimer(st);
    }
  }
}
