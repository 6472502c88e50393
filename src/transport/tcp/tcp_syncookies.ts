/*
 * tcp_syncookies.ts — SYN cookies (RFC 4987 §3.6; net/ipv4/syncookies.c),
 * used only when cfg.tcpSyncookies is on and the SYN queue is full.
 *
 * The SYN-ACK's ISN carries the connection state instead of a request
 * sock: ISN = H0(4-tuple) + SEG.SEQ + (minute counter << 24)
 *             + ((H1(4-tuple, counter) + MSS index) mod 2^24).
 * The final ACK (ACK - 1 = ISN) is checked against the last two minutes
 * and decoded to the MSS index (536/1300/1440/1460). Window scale and
 * SACK-permitted travel in the low 6 bits of our timestamp (Linux's
 * encoding: bits 0-3 wscale or 0xf, bit 4 SACK) and come back in TSecr;
 * without timestamps a cookie connection has neither. H0 is keyed with
 * the stack's RFC 6528 secret; H1 also with a random key pair drawn for
 * each minute in which cookies are sent (kept for two minutes), so the
 * secret behind the counter-dependent half rotates every minute.
 * Cookies are accepted only within two minutes of the last overflow, so
 * an idle listener ignores forged ACKs.
 * Not on the hot path: only SYN floods reach this code.
 */
import type { Stack } from '../../stack';
import { u32, s32, after } from '../../core/bits';
import {
  TCPF_SYN, TCPF_ACK, F_TS, F_SACK, F_WS, TX_SYNCOOKIESSENT, TX_SYNCOOKIESRECV, TX_SYNCOOKIESFAILED,
  TX_REQQFULLDOCOOKIES, TX_LISTENOVERFLOWS, TX_LISTENDROPS, TCP_MSS_DEFAULT, fmix32, add32, tcpTimeStamp,
  tcpTsOffset, tcbAlloc,
} from './tcp';
import { tcpSendCtl, tcpWscaleFor } from './tcp_output';
import { tcpAdvMss, tcpCreateOpenreqChild } from './tcp_minisocks';
import { FEATURE_TCP_SACK, FEATURE_TCP_TIMESTAMPS, FEATURE_TCP_WSCALE } from '../../features';

const MSS0 = 536;
const MSS1 = 1300;
const MSS2 = 1440;
const MSS3 = 1460;
const COOKIE_MASK = 0xffffff;
const MAX_AGE = 2;
const TS_BITS = 6;
const TS_WS_NONE = 0xf;
const TS_SACK = 0x10;
const COOKIE_WINDOW_MS = 120000;

function mssOf(ind: number): number {
  return ind === 0 ? MSS0 : ind === 1 ? MSS1 : ind === 2 ? MSS2 : MSS3;
}

function mssIndex(mss: number): number {
  if (mss >= MSS3) return 3;
  if (mss >= MSS2) return 2;
  if (mss >= MSS1) return 1;
  return 0;
}

/**
 * The key pair of minute m (the cookie's counter), or -1 when none was made
 * for it. `make`: draw a fresh pair from the stack's random source when the
 * minute has none yet (sending); checking never makes one, so a cookie for
 * a minute in which no cookie was sent is invalid. Two slots (by the
 * minute's parity) hold the current and the previous minute's keys: the
 * secret behind the counter-dependent half of a cookie rotates every minute.
 */
function cookieKeyFor(st: Stack, m: number, make: boolean): number {
  const tp = st.tcp;
  const p = m & 1;
  if (tp.cookieKeyMin[p] !== m) {
    if (!make) return -1;
    tp.cookieKey[2 * p] = s32(st.rng.next32());
    tp.cookieKey[2 * p + 1] = s32(st.rng.next32());
    tp.cookieKeyMin[p] = m;
  }
  return 2 * p;
}

/**
 * Keyed hash of the 4-tuple (remote saddr/sport, local daddr/dport) and
 * count; c = 0: the stack's fixed secret (the count-independent half),
 * otherwise c - 1 is the index of a rotating minute key pair.
 */
function cookieHash(st: Stack, saddr: number, daddr: number, sport: number, dport: number, count: number, c: number): number {
  const k = st.tcp.secret;
  const r = st.tcp.cookieKey;
  const k0 = c === 0 ? k[0] : k[2] ^ r[c - 1];
  const k1 = c === 0 ? k[1] : k[3] ^ r[c];
  let h = fmix32(k0 ^ saddr);
  h = fmix32(h ^ daddr ^ k1);
  h = fmix32(h ^ (((sport & 0xffff) << 16) | (dport & 0xffff)));
  return fmix32(add32(h, count + (c === 0 ? 0 : 1))); // s32: stays a Smi
}

/** The minute number (the cookie counter is its low 8 bits). */
function cookieMinute(st: Stack): number {
  return Math.floor(st.now() / 60000);
}

/** cookie_v4_init_sequence: the ISN of a cookie SYN-ACK. */
export function tcpCookieInitSeq(st: Stack, saddr: number, daddr: number, sport: number, dport: number, sseq: number, mssInd: number): number {
  const m = cookieMinute(st);
  const count = m & 0xff;
  const key = cookieKeyFor(st, m, true);
  const v = cookieHash(st, saddr, daddr, sport, dport, 0, 0) + u32(sseq) + count * 0x1000000 +
    ((cookieHash(st, saddr, daddr, sport, dport, count, key + 1) + mssInd) & COOKIE_MASK);
  return s32(v);
}

/** cookie_v4_check: the MSS index encoded in `cookie` (= ACK - 1), or -1. */
export function tcpCookieCheck(st: Stack, saddr: number, daddr: number, sport: number, dport: number, sseq: number, cookie: number): number {
  const c = u32(u32(cookie) - cookieHash(st, saddr, daddr, sport, dport, 0, 0) - u32(sseq));
  const m = cookieMinute(st);
  const diff = ((m & 0xff) - (c >>> 24)) & 0xff;
  if (diff >= MAX_AGE) return -1;
  const key = cookieKeyFor(st, m - diff, false);
  if (key < 0) return -1;
  const data = u32(c - cookieHash(st, saddr, daddr, sport, dport, (m - diff) & 0xff, key + 1)) & COOKIE_MASK;
  return data <= 3 ? data : -1;
}

/** SYN queue full: answer the SYN in tp.seg* (listener l) with a cookie SYN-ACK. */
export function tcpSendCookieSynAck(st: Stack, l: number): void {
  const tp = st.tcp;
  const c = st.cfg;
  const peerMss = tp.optMss > 0 ? tp.optMss : TCP_MSS_DEFAULT;
  const adv = tcpAdvMss(st, tp.segSaddr);
  const ind = mssIndex(peerMss < adv ? peerMss : adv);
  const iss = tcpCookieInitSeq(st, tp.segSaddr, tp.segDaddr, tp.segSport, tp.segDport, tp.segSeq, ind);
  // FEATURE_TCP_TIMESTAMPS off: no TSopt, so the cookie carries the MSS only (no window scale, no SACK)
  const ts = FEATURE_TCP_TIMESTAMPS && tp.optTs && c.tcpTimestamps;
  let ws = -1;
  let peerWs = -1;
  let sack = false;
  let tsval = 0;
  if (ts) {
    // the peer's window scale and SACK-permitted ride in the low bits of our
    // timestamp (echoed in TSecr), which never runs ahead of the real clock
    if (FEATURE_TCP_WSCALE && tp.optWs >= 0 && c.tcpWindowScaling) {
      peerWs = tp.optWs;
      ws = tcpWscaleFor(tp.rcvLimit[l]);
    }
    sack = FEATURE_TCP_SACK && tp.optSackOk && c.tcpSack;
    const now = s32(tcpTimeStamp(st) + tcpTsOffset(st, tp.segDaddr, tp.segSaddr));
    let v = s32((now & ~((1 << TS_BITS) - 1)) | (peerWs >= 0 ? peerWs : TS_WS_NONE) | (sack ? TS_SACK : 0));
    if (after(v, now)) v = s32(v - (1 << TS_BITS));
    tsval = v;
  }
  const win = tp.rcvLimit[l] < 65535 ? tp.rcvLimit[l] : 65535;
  tcpSendCtl(st, tp.segDaddr, tp.segSaddr, tp.segDport, tp.segSport, iss, s32(tp.segSeq + 1),
    TCPF_SYN | TCPF_ACK, win, ts, tsval, tp.optTsval, mssOf(ind), ws, sack);
  tp.ext[TX_SYNCOOKIESSENT]++;
  tp.ext[TX_REQQFULLDOCOOKIES]++;
  tp.lastCookieMs = st.now();
}

/**
 * cookie_v4_check + tcp_get_cookie_sock: an ACK (no SYN/RST) at listener
 * l for no known connection. Returns the child TCB (SYN_RECV, queued; the
 * caller runs tcpRcvStateProcess on it), -1 when this is no valid cookie
 * (the caller resets), -2 when valid but there is no room (dropped).
 */
export function tcpCookieChild(st: Stack, l: number): number {
  const tp = st.tcp;
  if (!st.cfg.tcpSyncookies || tp.lastCookieMs < 0 || st.now() - tp.lastCookieMs > COOKIE_WINDOW_MS) return -1;
  const f = tp.segFlags;
  if ((f & TCPF_ACK) === 0 || (f & TCPF_SYN) !== 0) return -1;
  const iss = s32(tp.segAck - 1);
  const irs = s32(tp.segSeq - 1);
  const ind = tcpCookieCheck(st, tp.segSaddr, tp.segDaddr, tp.segSport, tp.segDport, irs, iss);
  if (ind < 0) {
    tp.ext[TX_SYNCOOKIESFAILED]++;
    return -1;
  }
  tp.ext[TX_SYNCOOKIESRECV]++;
  if (tp.acceptLen[l] >= tp.backlog[l]) {
    tp.ext[TX_LISTENOVERFLOWS]++;
    tp.ext[TX_LISTENDROPS]++;
    return -2;
  }
  const c = tcbAlloc(st);
  if (c < 0) {
    tp.ext[TX_LISTENDROPS]++;
    return -2;
  }
  const r = tp.rqScratch;
  tp.rqLaddr[r] = tp.segDaddr;
  tp.rqRaddr[r] = tp.segSaddr;
  tp.rqLport[r] = tp.segDport;
  tp.rqRport[r] = tp.segSport;
  tp.rqListener[r] = l;
  tp.rqIss[r] = iss;
  tp.rqIrs[r] = irs;
  tp.rqMss[r] = mssOf(ind);
  let fl = 0;
  let ws = -1;
  if (FEATURE_TCP_TIMESTAMPS && tp.optTs && st.cfg.tcpTimestamps) {
    fl |= F_TS;
    const bits = tp.optTsecr & ((1 << TS_BITS) - 1);
    if (FEATURE_TCP_SACK && (bits & TS_SACK) !== 0) fl |= F_SACK;
    if (FEATURE_TCP_WSCALE && (bits & 0xf) !== TS_WS_NONE) {
      fl |= F_WS;
      ws = bits & 0xf;
    }
  }
  tp.rqFlags[r] = fl;
  tp.rqWs[r] = ws >= 0 ? ws : 0; // the peer's shift, from TSecr
  tp.rqTsRecent[r] = tp.optTsval;
  tp.rqTsOffset[r] = FEATURE_TCP_TIMESTAMPS ? tcpTsOffset(st, tp.segDaddr, tp.segSaddr) : 0;
  tcpCreateOpenreqChild(st, r, c);
  return c;
}
