/*
 * tcp_seq.ts — sequence ranges: the receiver's out-of-order ranges
 * (data already sits in the receive ring at its offset; the ranges say
 * which parts are present and are the SACK blocks we send, most recent
 * first, RFC 2018 §4) and the sender's SACK scoreboard (RFC 6675 §3,
 * sorted ascending). K ranges per TCB, fixed arrays, no allocation.
 */
import { after, before, s32 } from '../../core/bits';
import { TcpState, seqDiff } from './tcp';

/* ---------------- receiver: out-of-order ranges ---------------- */

/**
 * Record [s, e) as received out of order and make it the most recent
 * range (merged with any it touches). Returns false when a new range
 * was needed and all K slots are taken (the caller drops the data).
 */
export function oooAdd(tp: TcpState, t: number, s0: number, e0: number): boolean {
  const K = tp.K;
  const base = t * K;
  let s = s0;
  let e = e0;
  let n = tp.oooN[t];
  // absorb every range that overlaps or touches [s, e)
  let i = 0;
  let merged = false;
  while (i < n) {
    const rs = tp.oooS[base + i];
    const re = tp.oooE[base + i];
    if (!after(rs, e) && !before(re, s)) {
      if (before(rs, s)) s = rs;
      if (after(re, e)) e = re;
      // remove range i
      for (let j = i; j < n - 1; j++) {
        tp.oooS[base + j] = tp.oooS[base + j + 1];
        tp.oooE[base + j] = tp.oooE[base + j + 1];
      }
      n--;
      merged = true;
      continue;
    }
    i++;
  }
  if (n >= K) {
    tp.oooN[t] = n;
    return merged; // merged ones were removed: cannot happen with n >= K unless nothing merged
  }
  // insert at the front
  for (let j = n; j > 0; j--) {
    tp.oooS[base + j] = tp.oooS[base + j - 1];
    tp.oooE[base + j] = tp.oooE[base + j - 1];
  }
  tp.oooS[base] = s32(s);
  tp.oooE[base] = s32(e);
  tp.oooN[t] = n + 1;
  return true;
}

/** rcvNxt advanced to nxt: absorb ranges it reaches. Returns the new rcvNxt. */
export function oooAdvance(tp: TcpState, t: number, nxt0: number): number {
  const base = t * tp.K;
  let nxt = nxt0;
  let again = true;
  while (again) {
    again = false;
    let n = tp.oooN[t];
    let i = 0;
    while (i < n) {
      const rs = tp.oooS[base + i];
      const re = tp.oooE[base + i];
      if (!after(rs, nxt)) {
        if (after(re, nxt)) {
          nxt = re;
          again = true;
        }
        for (let j = i; j < n - 1; j++) {
          tp.oooS[base + j] = tp.oooS[base + j + 1];
          tp.oooE[base + j] = tp.oooE[base + j + 1];
        }
        n--;
        tp.oooN[t] = n;
        continue;
      }
      i++;
    }
  }
  return nxt;
}

/** Highest sequence held out of order, or nxt when none. */
export function oooHighest(tp: TcpState, t: number, nxt: number): number {
  const base = t * tp.K;
  let h = nxt;
  for (let i = 0; i < tp.oooN[t]; i++) if (after(tp.oooE[base + i], h)) h = tp.oooE[base + i];
  return h;
}

/* ---------------- sender: SACK scoreboard ---------------- */

/** Total bytes SACKed. */
export function sbSacked(tp: TcpState, t: number): number {
  const base = t * tp.K;
  let sum = 0;
  for (let i = 0; i < tp.sbN[t]; i++) sum += seqDiff(tp.sbE[base + i], tp.sbS[base + i]);
  return sum;
}

/**
 * Merge a SACK block [s, e) (already validated to lie in [sndUna, sndMax]).
 * Returns the number of bytes newly SACKed (0 when the block was old or
 * had to be discarded for lack of a slot).
 */
export function sbAdd(tp: TcpState, t: number, s0: number, e0: number): number {
  const K = tp.K;
  const base = t * K;
  const before0 = sbSacked(tp, t);
  let s = s0;
  let e = e0;
  let n = tp.sbN[t];
  let i = 0;
  while (i < n) {
    const rs = tp.sbS[base + i];
    const re = tp.sbE[base + i];
    if (!after(rs, e) && !before(re, s)) {
      if (before(rs, s)) s = rs;
      if (after(re, e)) e = re;
      for (let j = i; j < n - 1; j++) {
        tp.sbS[base + j] = tp.sbS[base + j + 1];
        tp.sbE[base + j] = tp.sbE[base + j + 1];
      }
      n--;
      continue;
    }
    i++;
  }
  if (n >= K) {
    // no room: keep the lowest ranges (they bound the holes we retransmit)
    if (!before(s, tp.sbS[base + n - 1])) {
      tp.sbN[t] = n;
      return 0;
    }
    n = n - 1; // forget the highest range
  }
  // insert sorted ascending
  let pos = n;
  while (pos > 0 && after(tp.sbS[base + pos - 1], s)) {
    tp.sbS[base + pos] = tp.sbS[base + pos - 1];
    tp.sbE[base + pos] = tp.sbE[base + pos - 1];
    pos--;
  }
  tp.sbS[base + pos] = s32(s);
  tp.sbE[base + pos] = s32(e);
  tp.sbN[t] = n + 1;
  const d = sbSacked(tp, t) - before0;
  return d > 0 ? d : 0;
}

/** Forget everything below una (cumulatively acknowledged). */
export function sbTrim(tp: TcpState, t: number, una: number): void {
  const base = t * tp.K;
  let n = tp.sbN[t];
  let i = 0;
  while (i < n) {
    if (!after(tp.sbE[base + i], una)) {
      for (let j = i; j < n - 1; j++) {
        tp.sbS[base + j] = tp.sbS[base + j + 1];
        tp.sbE[base + j] = tp.sbE[base + j + 1];
      }
      n--;
      continue;
    }
    if (before(tp.sbS[base + i], una)) tp.sbS[base + i] = s32(una);
    i++;
  }
  tp.sbN[t] = n;
}

/** seq is inside a SACKed range. */
export function sbIsSacked(tp: TcpState, t: number, seq: number): boolean {
  const base = t * tp.K;
  for (let i = 0; i < tp.sbN[t]; i++) {
    if (!before(seq, tp.sbS[base + i]) && before(seq, tp.sbE[base + i])) return true;
  }
  return false;
}

/** End of the SACKed range containing seq, or seq itself. */
export function sbSkip(tp: TcpState, t: number, seq: number): number {
  const base = t * tp.K;
  let s = seq;
  for (let i = 0; i < tp.sbN[t]; i++) {
    if (!before(s, tp.sbS[base + i]) && before(s, tp.sbE[base + i])) s = tp.sbE[base + i];
  }
  return s;
}

/** Start of the first SACKed range above seq, or limit. */
export function sbNextSacked(tp: TcpState, t: number, seq: number, limit: number): number {
  const base = t * tp.K;
  let r = limit;
  for (let i = 0; i < tp.sbN[t]; i++) {
    const s = tp.sbS[base + i];
    if (after(s, seq) && before(s, r)) r = s;
  }
  return r;
}

/** Highest SACKed sequence (end of the top range), or una when none. */
export function sbHighest(tp: TcpState, t: number, una: number): number {
  const n = tp.sbN[t];
  return n > 0 ? tp.sbE[t * tp.K + n - 1] : una;
}

/**
 * RFC 6675 IsLost boundary: every unSACKed byte below the returned
 * sequence has more than (DupThresh - 1) * SMSS SACKed bytes above it (or
 * DupThresh discontiguous SACKed ranges). Returns una when nothing is lost.
 */
export function sbLostEdge(tp: TcpState, t: number, una: number, smss: number): number {
  const base = t * tp.K;
  const n = tp.sbN[t];
  let acc = 0;
  for (let i = n - 1; i >= 0; i--) {
    acc += seqDiff(tp.sbE[base + i], tp.sbS[base + i]);
    if (acc > 2 * smss || n - i >= 3) return tp.sbS[base + i];
  }
  return una;
}

/** SACKed bytes inside [a, b). */
export function sbSackedIn(tp: TcpState, t: number, a: number, b: number): number {
  const base = t * tp.K;
  let sum = 0;
  for (let i = 0; i < tp.sbN[t]; i++) {
    let s = tp.sbS[base + i];
    let e = tp.sbE[base + i];
    if (before(s, a)) s = a;
    if (after(e, b)) e = b;
    if (after(e, s)) sum += seqDiff(e, s);
  }
  return sum;
}

/* ---------------- sender: RACK transmission records (tcp_recovery.ts) ---------------- */

/** record flags: covered by a SACK block */
export const RK_SACKED = 1;
/** marked lost (RACK, or every unSACKed record at an RTO) */
export const RK_LOST = 2;
/** a retransmission of this lost record is in flight */
export const RK_RETRANS = 4;
/** retransmitted at least once (its RTT samples are ambiguous) */
export const RK_EVER = 8;

/** Slot of TCB t's i-th record (0 = oldest) in rkSeq/rkTime/rkFl. */
export function rkSlot(tp: TcpState, t: number, i: number): number {
  const rk = tp.rk!;
  const M = tp.M;
  return t * M + ((rk.rkHead[t] + i) % M);
}

/** End sequence of the i-th record: the next record's start, or sndMax. */
export function rkEnd(tp: TcpState, t: number, i: number): number {
  const rk = tp.rk!;
  return i + 1 < rk.rkN[t] ? rk.rkSeq[rkSlot(tp, t, i + 1)] : tp.sndMax[t];
}

/**
 * tcpXmitAt sent [seq, end) at time now (called before sndMax moves): the
 * records it resent take the new time (RK_RETRANS, RK_EVER) and count as
 * retransmissions of an undoable recovery (undoRetrans); data beyond
 * sndMax gets a new record or, all M in use, joins the newest one, which
 * takes the new time.
 */
export function rkOnXmit(tp: TcpState, t: number, seq: number, end: number, now: number, undo: boolean): void {
  const rk = tp.rk!;
  const max = tp.sndMax[t];
  const n = rk.rkN[t];
  if (before(seq, max)) {
    const lim = before(end, max) ? end : max;
    for (let i = 0; i < n; i++) {
      const k = rkSlot(tp, t, i);
      if (!before(rk.rkSeq[k], lim)) break;
      if (!after(rkEnd(tp, t, i), seq)) continue;
      rk.rkTime[k] = now;
      rk.rkFl[k] = (rk.rkFl[k] | RK_RETRANS | RK_EVER) & ~RK_SACKED;
      if (undo) rk.undoRetrans[t] = rk.undoRetrans[t] < 0 ? 1 : rk.undoRetrans[t] + 1;
    }
  }
  if (after(end, max)) {
    if (n < tp.M) {
      const k = rkSlot(tp, t, n);
      rk.rkSeq[k] = before(seq, max) ? max : seq;
      rk.rkTime[k] = now;
      rk.rkFl[k] = 0;
      rk.rkN[t] = n + 1;
    } else {
      const k = rkSlot(tp, t, n - 1);
      rk.rkTime[k] = now;
      rk.rkFl[k] = rk.rkFl[k] & RK_EVER;
    }
  }
}
