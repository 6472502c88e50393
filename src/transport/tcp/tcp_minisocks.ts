/*
 * tcp_minisocks.ts — the small per-connection records that are not full
 * TCBs (net/ipv4/tcp_minisocks.c, inet_connection_sock.c):
 *
 *   request socks (the SYN queue): a SYN at a listener makes one
 *     (tcpConnRequest, tcp_v4_conn_request) and answers with a SYN-ACK;
 *     the final ACK turns it into a child TCB on the listener's accept
 *     queue (tcpCheckReq → tcpCreateOpenreqChild); tcp_ipv4.ts then runs
 *     tcp_rcv_state_process on the child, as tcp_child_process does.
 *   TIME_WAIT socks (inet_timewait_sock): a TCB entering TIME_WAIT hands
 *     its 4-tuple and sequence state to a slot here and is freed at once;
 *     tcpTwProcess answers for it for 2*MSL (RFC 9293 §3.6.1, RFC 1337:
 *     RSTs are ignored in TIME_WAIT; RFC 6191-style reuse by a SYN with a
 *     higher sequence number / timestamp).
 *
 * SYN queue full (the shared table of cfg.tcpSynQueue, or the listener's
 * own share: as many requests as its backlog): with cfg.tcpSyncookies (the
 * default, as Linux's tcp_syncookies=1) the SYN is answered with a SYN
 * cookie (tcp_syncookies.ts); without, the SYN is dropped and counted
 * (TCPReqQFullDrop, ListenDrops) and the client's SYN retransmission
 * retries (a full accept queue drops SYNs either way: ListenOverflows).
 * A cookie carries window scale and SACK only through the timestamp
 * option, as Linux's does.
 */
import type { Stack } from '../../stack';
import { s32, after, before } from '../../core/bits';
import {
  TCPF_FIN, TCPF_SYN, TCPF_RST, TCPF_ACK, F_TS, F_SACK, F_WS, F_NODELAY, F_KEEPALIVE, F_LINGER0, F_LINGER,
  TCP_SYN_RECV, OWN_ACCEPTQ, TCP_PASSIVEOPENS, TX_LISTENOVERFLOWS, TX_LISTENDROPS,
  TX_REQQFULLDROP, TX_EMBRYONICRSTS, TX_TW, TX_TIMEWAITOVERFLOW, TX_TIMEWAITKILLED, TX_PAWSESTAB,
  TCP_MSS_DEFAULT, tcpTimeStamp, tcpSecureIsn, tcpTsOffset, tcbAlloc, tcpSetState, tcpDone,
} from './tcp';
import { tcpSendCtl, tcpV4SendReset, tcpSyncMss, tcpWscaleFor } from './tcp_output';
import { FEATURE_TCP_SACK, FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_WSCALE, FEATURE_TCP_SYNCOOKIES } from '../../features';

/* ---------------- MSS we advertise ---------------- */

/** MSS to advertise toward raddr: device MTU - 40 (RFC 9293 §3.7.1, RFC 879). */
export function tcpAdvMss(st: Stack, raddr: number): number {
  const mtu = st.tcp.ops.mtuTo(st, raddr);
  const m = (mtu > 0 ? mtu : st.cfg.mtu) - 40;
  return m > 88 ? m : 88;
}

/* ---------------- TIME_WAIT ---------------- */

function twArm(st: Stack): void {
  const tp = st.tcp;
  let best = -1;
  for (let i = 0; i < tp.twN; i++) {
    if (tp.twUsed[i] !== 0 && (best < 0 || tp.twExpire[i] < best)) best = tp.twExpire[i];
  }
  if (best >= 0) st.timers.mod(tp.tTw, best);
  else st.timers.del(tp.tTw);
}

export function twKill(st: Stack, w: number): void {
  const tp = st.tcp;
  if (tp.twUsed[w] === 0) return;
  tp.twUsed[w] = 0;
  tp.twCount--;
}

/** tcp_time_wait: move TCB t to a TIME_WAIT slot and finish the TCB. */
export function tcpTimeWait(st: Stack, t: number): void {
  const tp = st.tcp;
  let w = -1;
  for (let i = 0; i < tp.twN; i++) {
    if (tp.twUsed[i] === 0) {
      w = i;
      break;
    }
  }
  if (w < 0) {
    tp.ext[TX_TIMEWAITOVERFLOW]++; // "time wait bucket table overflow": closed at once
  } else {
    tp.twUsed[w] = 1;
    tp.twCount++;
    tp.twLaddr[w] = tp.laddr[t];
    tp.twRaddr[w] = tp.raddr[t];
    tp.twLport[w] = tp.lport[t];
    tp.twRport[w] = tp.rport[t];
    tp.twSndNxt[w] = tp.sndNxt[t];
    tp.twRcvNxt[w] = tp.rcvNxt[t];
    tp.twTsRecent[w] = tp.tsRecent[t];
    tp.twTsOffset[w] = tp.tsOffset[t];
    tp.twFlags[w] = FEATURE_TCP_TIMESTAMPS ? tp.flags[t] & F_TS : 0;
    let win = tp.rcvLimit[t] - tp.rcvCount[t];
    if (win < 0) win = 0;
    tp.twWnd[w] = Math.floor(win / (1 << tp.rcvWscale[t])) & 0xffff;
    tp.twExpire[w] = st.now() + 2 * st.cfg.tcpMslMs;
    twArm(st);
  }
  tp.err[t] = 0;
  tcpDone(st, t);
}

function twSendAck(st: Stack, w: number): void {
  const tp = st.tcp;
  const ts = FEATURE_TCP_TIMESTAMPS && (tp.twFlags[w] & F_TS) !== 0;
  tcpSendCtl(st, tp.twLaddr[w], tp.twRaddr[w], tp.twLport[w], tp.twRport[w], tp.twSndNxt[w],
    tp.twRcvNxt[w], TCPF_ACK, tp.twWnd[w], ts, s32(tcpTimeStamp(st) + tp.twTsOffset[w]),
    tp.twTsRecent[w], -1, -1, false);
}

export const TW_DROP = 0;
/** a new SYN may reuse the 4-tuple: the slot is gone, look up a listener */
export const TW_SYN = 1;

/** tcp_timewait_state_process for the segment in tp.seg*. */
export function tcpTwProcess(st: Stack, w: number): number {
  const tp = st.tcp;
  const f = tp.segFlags;
  if ((f & TCPF_RST) !== 0) return TW_DROP; // RFC 1337
  const ts = FEATURE_TCP_TIMESTAMPS && (tp.twFlags[w] & F_TS) !== 0 && tp.optTs;
  if ((f & TCPF_SYN) !== 0 && (f & TCPF_ACK) === 0) {
    const newer = ts ? after(tp.optTsval, tp.twTsRecent[w]) : after(tp.segSeq, tp.twRcvNxt[w]);
    if (newer) {
      tp.isnHint = s32(tp.twSndNxt[w] + 65535 + 2);
      tp.ext[TX_TIMEWAITKILLED]++;
      twKill(st, w);
      twArm(st);
      return TW_SYN;
    }
  }
  if (ts && before(tp.optTsval, tp.twTsRecent[w])) {
    tp.ext[TX_PAWSESTAB]++;
    twSendAck(st, w);
    return TW_DROP;
  }
  const end = s32(tp.segSeq + tp.segLen + ((f & TCPF_FIN) !== 0 ? 1 : 0));
  if ((f & TCPF_FIN) !== 0 && end === tp.twRcvNxt[w]) {
    // the peer's FIN again: our last ACK was lost. ACK it and restart 2*MSL
    tp.twExpire[w] = st.now() + 2 * st.cfg.tcpMslMs;
    twArm(st);
    twSendAck(st, w);
    return TW_DROP;
  }
  if (tp.segLen === 0 && (f & TCPF_ACK) !== 0 && tp.segSeq === tp.twRcvNxt[w] && (f & TCPF_SYN) === 0) {
    return TW_DROP; // an in-window pure ACK
  }
  twSendAck(st, w);
  return TW_DROP;
}

/** The TIME_WAIT timer: free every expired slot. */
export function tcpTwTimer(st: Stack): void {
  const tp = st.tcp;
  const now = st.now();
  for (let i = 0; i < tp.twN; i++) {
    if (tp.twUsed[i] !== 0 && tp.twExpire[i] <= now) {
      tp.ext[TX_TW]++; // Linux "TW": TIME_WAIT sockets that ran their full 2*MSL
      twKill(st, i);
    }
  }
  twArm(st);
}

/* ---------------- request socks ---------------- */

function reqArm(st: Stack): void {
  const tp = st.tcp;
  let best = -1;
  for (let i = 0; i < tp.rqN; i++) {
    if (tp.rqUsed[i] !== 0 && (best < 0 || tp.rqExpire[i] < best)) best = tp.rqExpire[i];
  }
  if (best >= 0) st.timers.mod(tp.tReq, best);
  else st.timers.del(tp.tReq);
}

export function reqFree(st: Stack, r: number): void {
  const tp = st.tcp;
  if (tp.rqUsed[r] === 0) return;
  tp.rqUsed[r] = 0;
  tp.rqCount--;
}

/** Drop every request sock of listener l (listener closed). */
export function reqPurgeListener(st: Stack, l: number): void {
  const tp = st.tcp;
  for (let i = 0; i < tp.rqN; i++) if (tp.rqUsed[i] !== 0 && tp.rqListener[i] === l) reqFree(st, i);
  reqArm(st);
}

/** tcp_v4_send_synack for request sock r. */
export function tcpSendSynAckReq(st: Stack, r: number): void {
  const tp = st.tcp;
  const l = tp.rqListener[r];
  const fl = tp.rqFlags[r];
  const ts = FEATURE_TCP_TIMESTAMPS && (fl & F_TS) !== 0;
  const ws = FEATURE_TCP_WSCALE && (fl & F_WS) !== 0 ? tcpWscaleFor(tp.rcvLimit[l]) : -1;
  const win = tp.rcvLimit[l] < 65535 ? tp.rcvLimit[l] : 65535;
  tcpSendCtl(st, tp.rqLaddr[r], tp.rqRaddr[r], tp.rqLport[r], tp.rqRport[r], tp.rqIss[r],
    s32(tp.rqIrs[r] + 1), TCPF_SYN | TCPF_ACK, win, ts, s32(tcpTimeStamp(st) + tp.rqTsOffset[r]),
    tp.rqTsRecent[r], tcpAdvMss(st, tp.rqRaddr[r]), ws, (fl & F_SACK) !== 0);
}

/**
 * tcp_conn_request: a SYN (no ACK, no RST) for listener l, segment in
 * tp.seg*. Returns 0, or -1 when the SYN queue is full and SYN cookies
 * are on (the caller answers with a cookie; otherwise the SYN is dropped
 * and counted here).
 */
export function tcpConnRequest(st: Stack, l: number): number {
  const tp = st.tcp;
  const c = st.cfg;
  if (tp.acceptLen[l] >= tp.backlog[l]) {
    tp.ext[TX_LISTENOVERFLOWS]++;
    tp.ext[TX_LISTENDROPS]++;
    return 0;
  }
  // inet_csk_reqsk_queue_is_full: a listener's requests are bounded by its
  // backlog as well as by the shared table, so a flood at one port leaves
  // the table to the others (and, with cookies, is answered statelessly)
  let r = -1;
  let qlen = 0;
  for (let i = 0; i < tp.rqN; i++) {
    if (tp.rqUsed[i] === 0) {
      if (r < 0) r = i;
    } else if (tp.rqListener[i] === l) qlen++;
  }
  if (r < 0 || qlen >= tp.backlog[l]) {
    if (FEATURE_TCP_SYNCOOKIES && c.tcpSyncookies) return -1;
    tp.ext[TX_REQQFULLDROP]++;
    tp.ext[TX_LISTENDROPS]++;
    return 0;
  }
  tp.rqUsed[r] = 1;
  tp.rqCount++;
  tp.rqLaddr[r] = tp.segDaddr;
  tp.rqRaddr[r] = tp.segSaddr;
  tp.rqLport[r] = tp.segDport;
  tp.rqRport[r] = tp.segSport;
  tp.rqListener[r] = l;
  tp.rqIrs[r] = tp.segSeq;
  if (tp.isnHint >= 0) {
    tp.rqIss[r] = s32(tp.isnHint);
    tp.isnHint = -1;
  } else {
    tp.rqIss[r] = tcpSecureIsn(st, tp.segDaddr, tp.segDport, tp.segSaddr, tp.segSport);
  }
  tp.rqMss[r] = tp.optMss > 0 ? tp.optMss : TCP_MSS_DEFAULT;
  let fl = 0;
  if (FEATURE_TCP_WSCALE && tp.optWs >= 0 && c.tcpWindowScaling) fl |= F_WS;
  if (FEATURE_TCP_SACK && tp.optSackOk && c.tcpSack) fl |= F_SACK;
  if (FEATURE_TCP_TIMESTAMPS && tp.optTs && c.tcpTimestamps) fl |= F_TS;
  tp.rqFlags[r] = fl;
  tp.rqWs[r] = tp.optWs;
  tp.rqTsRecent[r] = tp.optTsval;
  tp.rqTsOffset[r] = FEATURE_TCP_TIMESTAMPS ? tcpTsOffset(st, tp.segDaddr, tp.segSaddr) : 0;
  tp.rqRetries[r] = 0;
  tp.rqExpire[r] = st.now() + c.tcpRtoInitMs;
  tcpSendSynAckReq(st, r);
  reqArm(st);
  return 0;
}

/**
 * reqsk_timer_handler's pruning: the SYN-ACK retries request r may still
 * have. While r's listener holds at least half its backlog in requests,
 * the limit falls towards 2 unless at least half of them are still
 * young (not yet retransmitted): requests from addresses that never
 * answer (a SYN flood from spoofed sources, whose SYN-ACKs may not even
 * leave because ARP fails) make room in seconds, not after 63 s, while
 * new SYNs keep their full retries.
 */
function reqMaxRetries(st: Stack, r: number): number {
  const tp = st.tcp;
  const l = tp.rqListener[r];
  let thresh = st.cfg.tcpSynAckRetries;
  let qlen = 0;
  let young = 0;
  for (let i = 0; i < tp.rqN; i++) {
    if (tp.rqUsed[i] !== 0 && tp.rqListener[i] === l) {
      qlen++;
      if (tp.rqRetries[i] === 0) young++;
    }
  }
  if (2 * qlen >= tp.backlog[l]) {
    young *= 2;
    while (thresh > 2) {
      if (qlen < young) break;
      thresh--;
      young *= 2;
    }
  }
  return thresh;
}

/** The SYN queue timer: retransmit SYN-ACKs with backoff, expire old requests. */
export function tcpReqTimer(st: Stack): void {
  const tp = st.tcp;
  const now = st.now();
  for (let r = 0; r < tp.rqN; r++) {
    if (tp.rqUsed[r] === 0 || tp.rqExpire[r] > now) continue;
    if (tp.rqRetries[r] >= reqMaxRetries(st, r)) {
      reqFree(st, r);
      continue;
    }
    tp.rqRetries[r]++;
    let to = st.cfg.tcpRtoInitMs;
    for (let i = 0; i < tp.rqRetries[r]; i++) to *= 2;
    if (to > st.cfg.tcpRtoMaxMs) to = st.cfg.tcpRtoMaxMs;
    tp.rqExpire[r] = now + to;
    tcpSendSynAckReq(st, r);
  }
  reqArm(st);
}

/** Request sock matching the segment's 4-tuple, or -1. */
export function reqLookup(st: Stack, saddr: number, sport: number, daddr: number, dport: number): number {
  const tp = st.tcp;
  for (let r = 0; r < tp.rqN; r++) {
    if (
      tp.rqUsed[r] !== 0 && tp.rqRport[r] === sport && tp.rqLport[r] === dport &&
      tp.rqRaddr[r] === saddr && tp.rqLaddr[r] === daddr
    ) return r;
  }
  return -1;
}

/**
 * tcp_check_req: a segment for request sock r. Returns the new child TCB
 * (in SYN_RECV, queued on the listener; the caller runs
 * tcpRcvStateProcess on it), or -1 when the segment was consumed here.
 */
export function tcpCheckReq(st: Stack, r: number): number {
  const tp = st.tcp;
  const f = tp.segFlags;
  if ((f & TCPF_RST) !== 0) {
    if (tp.segSeq === s32(tp.rqIrs[r] + 1)) {
      tp.ext[TX_EMBRYONICRSTS]++;
      reqFree(st, r);
      reqArm(st);
    }
    return -1;
  }
  if ((f & TCPF_SYN) !== 0) {
    if (tp.segSeq === tp.rqIrs[r] && (f & TCPF_ACK) === 0) tcpSendSynAckReq(st, r); // retransmitted SYN
    return -1;
  }
  if ((f & TCPF_ACK) === 0) return -1;
  if (tp.segAck !== s32(tp.rqIss[r] + 1)) {
    tcpV4SendReset(st); // RFC 9293 §3.10.7.4: bad ACK in SYN-RECEIVED → RST
    return -1;
  }
  const l = tp.rqListener[r];
  const win = tp.rcvLimit[l];
  if (before(tp.segSeq, s32(tp.rqIrs[r] + 1)) || after(tp.segSeq, s32(tp.rqIrs[r] + 1 + win))) {
    return -1;
  }
  if (tp.acceptLen[l] >= tp.backlog[l]) {
    // keep the request: the client's retransmission may find room (Linux drops the ACK too)
    tp.ext[TX_LISTENOVERFLOWS]++;
    tp.ext[TX_LISTENDROPS]++;
    return -1;
  }
  const c = tcbAlloc(st);
  if (c < 0) {
    tp.ext[TX_LISTENDROPS]++;
    return -1;
  }
  tcpCreateOpenreqChild(st, r, c);
  reqFree(st, r);
  reqArm(st);
  return c;
}

/** tcp_create_openreq_child: fill child c from request r and queue it on the listener. */
export function tcpCreateOpenreqChild(st: Stack, r: number, c: number): void {
  const tp = st.tcp;
  const l = tp.rqListener[r];
  tp.owner[c] = OWN_ACCEPTQ;
  tp.parent[c] = l;
  tp.laddr[c] = tp.rqLaddr[r];
  tp.raddr[c] = tp.rqRaddr[r];
  tp.lport[c] = tp.rqLport[r];
  tp.rport[c] = tp.rqRport[r];
  const iss = tp.rqIss[r];
  tp.iss[c] = iss;
  tp.sndUna[c] = iss;
  tp.sndNxt[c] = s32(iss + 1);
  tp.sndMax[c] = s32(iss + 1);
  tp.sndBase[c] = s32(iss + 1);
  tp.writeSeq[c] = s32(iss + 1);
  tp.recover[c] = iss;
  tp.highRxt[c] = iss;
  tp.irs[c] = tp.rqIrs[r];
  tp.rcvNxt[c] = s32(tp.rqIrs[r] + 1);
  // inherit socket options and buffer limits from the listener
  tp.rcvLimit[c] = tp.rcvLimit[l] < tp.rcvRing[c].length ? tp.rcvLimit[l] : tp.rcvRing[c].length;
  tp.sndLimit[c] = tp.sndLimit[l] < tp.sndRing[c].length ? tp.sndLimit[l] : tp.sndRing[c].length;
  tp.keepIdle[c] = tp.keepIdle[l];
  tp.keepIntvl[c] = tp.keepIntvl[l];
  tp.keepCnt[c] = tp.keepCnt[l];
  tp.userTimeout[c] = tp.userTimeout[l];
  const fl = tp.rqFlags[r];
  tp.flags[c] = fl | (tp.flags[l] & (F_NODELAY | F_KEEPALIVE | F_LINGER0 | F_LINGER));
  tp.lingerMs[c] = tp.lingerMs[l];
  if (FEATURE_TCP_WSCALE && (fl & F_WS) !== 0) {
    tp.sndWscale[c] = tp.rqWs[r];
    tp.rcvWscale[c] = tcpWscaleFor(tp.rcvLimit[l]);
  }
  const synWin = tp.rcvLimit[l] < 65535 ? tp.rcvLimit[l] : 65535;
  tp.rcvEdge[c] = s32(tp.rcvNxt[c] + synWin);
  tp.tsRecent[c] = tp.rqTsRecent[r];
  tp.tsRecentStamp[c] = st.now();
  tp.tsOffset[c] = tp.rqTsOffset[r];
  tp.peerMss[c] = tp.rqMss[r];
  tp.advMss[c] = tcpAdvMss(st, tp.raddr[c]);
  tcpSyncMss(st, c);
  tcpSetState(st, c, TCP_SYN_RECV);
  // append to the accept queue
  tp.acceptNext[c] = -1;
  let x = tp.acceptHead[l];
  if (x < 0) tp.acceptHead[l] = c;
  else {
    while (tp.acceptNext[x] >= 0) x = tp.acceptNext[x];
    tp.acceptNext[x] = c;
  }
  tp.acceptLen[l]++;
  tp.mib[TCP_PASSIVEOPENS]++;
}
