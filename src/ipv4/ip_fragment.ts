/*
 * ip_fragment.ts — IPv4 reassembly (net/ipv4/ip_fragment.c, ip_defrag /
 * ip_frag_queue / ip_frag_reasm / ip_expire), RFC 791 §3.2, RFC 815-style
 * hole tracking, RFC 1122 §3.3.2, overlap rejection in the spirit of
 * RFC 5722.
 *
 * Position: ip_local_deliver ─► ip_defrag ─► (complete) ─► LOCAL_IN ─► transport.
 *
 * cfg.reasmSlots fixed slots, keyed by (saddr, daddr, id, proto). Each
 * slot owns one large skb into which every fragment's payload is copied
 * at its final offset (BASE + offset); the first fragment's header is
 * copied just in front of BASE, so the finished datagram is contiguous
 * and leaves as that same skb. Received ranges are kept in a small fixed
 * array per slot (cfg.reasmMaxFrags). Exact duplicates are ignored; any
 * other overlap kills the whole datagram (ReasmOverlaps). Datagrams over
 * cfg.reasmMaxBytes are refused. A slot times out after
 * cfg.reasmTimeoutMs (ReasmTimeout; ICMP time exceeded code 1 when
 * fragment 0 had arrived). When all slots are busy the oldest is evicted.
 */
import type { Stack } from '../stack';
import type { TimerHandler } from '../core/timer';
import { SKB_NONE } from '../core/skb';
import { get16, put16, copyBytes } from '../core/bytes';
import { getAddr } from '../core/inaddr';
import {
  IP_REASMREQDS, IP_REASMOKS, IP_REASMFAILS, IP_REASMTIMEOUT, IP_REASMOVERLAPS,
} from '../core/mib';
import {
  IP_VERIHL, IP_TOTLEN, IP_ID, IP_FRAGOFF, IP_PROTO, IP_SADDR, IP_DADDR, IP_MAX_HLEN,
  IP_MF, IP_DF, IP_OFFSET, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME,
} from './ip';
import { ipSendCheck } from './ip_output';
import { icmpSend } from './icmp';
import { FEATURE_REASSEMBLY } from '../features';

class ReasmTimer implements TimerHandler {
  constructor(readonly st: Stack) {}
  onTimer(slot: number): void {
    ipFragExpire(this.st, slot);
  }
}

export class ReasmTable {
  readonly n: number;
  readonly maxFrags: number;
  /** offset in the slot skb where payload byte 0 goes */
  readonly base: number;
  readonly used: Uint8Array;
  readonly saddr: Int32Array;
  readonly daddr: Int32Array;
  readonly id: Int32Array;
  readonly proto: Int32Array;
  readonly skb: Int32Array;
  /** header length of fragment 0, 0 until it arrives */
  readonly hlen: Int32Array;
  /** end of fragment 0's payload (for the ICMP quote on timeout) */
  readonly firstEnd: Int32Array;
  /** total payload length, known once the last fragment (MF=0) arrives; -1 before */
  readonly total: Int32Array;
  /** payload bytes received (ranges never overlap, so this measures coverage) */
  readonly recv: Int32Array;
  readonly nfrags: Int32Array;
  readonly created: Float64Array;
  readonly dev: Int32Array;
  readonly pktType: Int32Array;
  /** received ranges [rs, re) per slot: slot * maxFrags + k */
  readonly rs: Int32Array;
  readonly re: Int32Array;
  readonly timer: Int32Array;
  active = 0;
  evictions = 0;
  duplicates = 0;

  constructor(st: Stack) {
    const c = st.cfg;
    const n = c.reasmSlots;
    this.n = n;
    this.maxFrags = c.reasmMaxFrags;
    this.base = st.pool.headroom + IP_MAX_HLEN;
    this.used = new Uint8Array(n);
    this.saddr = new Int32Array(n);
    this.daddr = new Int32Array(n);
    this.id = new Int32Array(n);
    this.proto = new Int32Array(n);
    this.skb = new Int32Array(n);
    this.hlen = new Int32Array(n);
    this.firstEnd = new Int32Array(n);
    this.total = new Int32Array(n);
    this.recv = new Int32Array(n);
    this.nfrags = new Int32Array(n);
    this.created = new Float64Array(n);
    this.dev = new Int32Array(n);
    this.pktType = new Int32Array(n);
    this.rs = new Int32Array(n * c.reasmMaxFrags);
    this.re = new Int32Array(n * c.reasmMaxFrags);
    this.timer = new Int32Array(n);
    if (FEATURE_REASSEMBLY) {
      const h = new ReasmTimer(st);
      for (let i = 0; i < n; i++) this.timer[i] = st.timers.register(h, i);
    }
  }
}

/** Drop a slot and its partial datagram. */
function ipqKill(st: Stack, i: number): void {
  const t = st.ip.reasm;
  if (t.used[i] === 0) return;
  st.timers.del(t.timer[i]);
  st.pool.free(t.skb[i]);
  t.skb[i] = SKB_NONE;
  t.used[i] = 0;
  t.active--;
}

function ipqFind(st: Stack, saddr: number, daddr: number, id: number, proto: number): number {
  const t = st.ip.reasm;
  for (let i = 0; i < t.n; i++) {
    if (
      t.used[i] !== 0 &&
      t.id[i] === id &&
      t.saddr[i] === saddr &&
      t.daddr[i] === daddr &&
      t.proto[i] === proto
    ) {
      return i;
    }
  }
  return -1;
}

/** Find a free slot, evicting the oldest when all are busy. -1 without slots (reasmSlots 0) or a large skb. */
function ipqCreate(st: Stack, saddr: number, daddr: number, id: number, proto: number): number {
  const t = st.ip.reasm;
  if (t.n === 0) return -1; // no reassembly configured: nothing to evict either
  let i = -1;
  for (let k = 0; k < t.n; k++) {
    if (t.used[k] === 0) {
      i = k;
      break;
    }
  }
  if (i < 0) {
    // ip_evictor: the oldest queue goes
    let old = 0;
    for (let k = 1; k < t.n; k++) if (t.created[k] < t.created[old]) old = k;
    ipqKill(st, old);
    st.mib.ip[IP_REASMFAILS]++;
    t.evictions++;
    i = old;
  }
  const p = st.pool;
  // ask for a buffer big enough to hold the largest datagram: a large skb
  const s = p.alloc(p.largeSize - p.headroom);
  if (s === SKB_NONE) return -1;
  p.data[s] = t.base;
  p.tail[s] = t.base;
  t.used[i] = 1;
  t.saddr[i] = saddr;
  t.daddr[i] = daddr;
  t.id[i] = id;
  t.proto[i] = proto;
  t.skb[i] = s;
  t.hlen[i] = 0;
  t.firstEnd[i] = 0;
  t.total[i] = -1;
  t.recv[i] = 0;
  t.nfrags[i] = 0;
  t.created[i] = st.now();
  t.active++;
  st.timers.mod(t.timer[i], st.now() + st.cfg.reasmTimeoutMs);
  return i;
}

/**
 * ip_defrag: skb is a fragment (data = nh = IP header, trimmed to
 * tot_len). Consumes it. Returns the reassembled datagram (a large skb,
 * data = nh = IP header, MF/offset cleared, checksum valid) when this
 * fragment completed one, else SKB_NONE.
 */
export function ipDefrag(st: Stack, skb: number): number {
  const p = st.pool;
  const mib = st.mib.ip;
  const t = st.ip.reasm;
  const b = p.buf[skb];
  const nh = p.data[skb];
  mib[IP_REASMREQDS]++;
  const ihl = (b[nh + IP_VERIHL] & 0x0f) * 4;
  const plen = get16(b, nh + IP_TOTLEN) - ihl;
  const foff = get16(b, nh + IP_FRAGOFF);
  const mf = (foff & IP_MF) !== 0;
  const start = (foff & IP_OFFSET) * 8;
  const end = start + plen;
  const saddr = getAddr(b, nh + IP_SADDR);
  const daddr = getAddr(b, nh + IP_DADDR);
  const id = get16(b, nh + IP_ID);
  const proto = b[nh + IP_PROTO];
  let i = ipqFind(st, saddr, daddr, id, proto);
  // bad fragment: empty, or a non-last fragment not a multiple of 8 (RFC 791)
  if (plen <= 0 || (mf && (plen & 7) !== 0)) {
    mib[IP_REASMFAILS]++;
    p.free(skb);
    return SKB_NONE;
  }
  // oversized datagram ("ping of death"): refuse the whole thing
  if (end + ihl > st.cfg.reasmMaxBytes || t.base + end > p.largeSize) {
    if (i >= 0) ipqKill(st, i);
    mib[IP_REASMFAILS]++;
    p.free(skb);
    return SKB_NONE;
  }
  if (i < 0) {
    i = ipqCreate(st, saddr, daddr, id, proto);
    if (i < 0) {
      mib[IP_REASMFAILS]++;
      p.free(skb);
      return SKB_NONE;
    }
  }
  const tot = t.total[i];
  if (!mf) {
    // the last fragment fixes the length; it must agree with everything seen
    if (tot >= 0 && tot !== end) return ipqFail(st, i, skb);
    if (tot < 0) {
      const base = i * t.maxFrags;
      for (let k = 0; k < t.nfrags[i]; k++) if (t.re[base + k] > end) return ipqFail(st, i, skb);
    }
  } else if (tot >= 0 && end > tot) {
    return ipqFail(st, i, skb);
  }
  const rbase = i * t.maxFrags;
  const nf = t.nfrags[i];
  for (let k = 0; k < nf; k++) {
    const rs = t.rs[rbase + k];
    const re = t.re[rbase + k];
    if (rs === start && re === end) {
      // exact duplicate (a retransmitted fragment): ignore it
      t.duplicates++;
      p.free(skb);
      return SKB_NONE;
    }
    if (start < re && end > rs) {
      mib[IP_REASMOVERLAPS]++;
      return ipqFail(st, i, skb);
    }
  }
  if (nf >= t.maxFrags) return ipqFail(st, i, skb);
  const s = t.skb[i];
  const sb = p.buf[s];
  copyBytes(sb, t.base + start, b, nh + ihl, plen);
  if (start === 0) {
    copyBytes(sb, t.base - ihl, b, nh, ihl);
    t.hlen[i] = ihl;
    t.firstEnd[i] = end;
  }
  if (!mf) t.total[i] = end;
  t.rs[rbase + nf] = start;
  t.re[rbase + nf] = end;
  t.nfrags[i] = nf + 1;
  t.recv[i] += plen;
  t.dev[i] = p.dev[skb];
  t.pktType[i] = p.cb3[skb];
  p.free(skb);
  if (t.hlen[i] === 0 || t.total[i] < 0 || t.recv[i] !== t.total[i]) return SKB_NONE;
  return ipFragReasm(st, i);
}

/** Kill slot i (ReasmFails) and drop the offending fragment. */
function ipqFail(st: Stack, i: number, skb: number): number {
  ipqKill(st, i);
  st.mib.ip[IP_REASMFAILS]++;
  st.pool.free(skb);
  return SKB_NONE;
}

/** ip_frag_reasm: detach slot i's skb as the finished datagram. */
function ipFragReasm(st: Stack, i: number): number {
  const t = st.ip.reasm;
  const p = st.pool;
  const s = t.skb[i];
  const b = p.buf[s];
  const hl = t.hlen[i];
  const h = t.base - hl;
  p.data[s] = h;
  p.nh[s] = h;
  p.tail[s] = t.base + t.total[i];
  put16(b, h + IP_TOTLEN, hl + t.total[i]);
  put16(b, h + IP_FRAGOFF, get16(b, h + IP_FRAGOFF) & IP_DF);
  ipSendCheck(b, h);
  p.dev[s] = t.dev[i];
  p.cb3[s] = t.pktType[i];
  st.timers.del(t.timer[i]);
  t.skb[i] = SKB_NONE;
  t.used[i] = 0;
  t.active--;
  st.mib.ip[IP_REASMOKS]++;
  return s;
}

/** ip_expire: the reassembly timer of slot i ran out (RFC 1122 §3.3.2). */
export function ipFragExpire(st: Stack, i: number): void {
  const t = st.ip.reasm;
  if (t.used[i] === 0) return;
  const mib = st.mib.ip;
  mib[IP_REASMTIMEOUT]++;
  mib[IP_REASMFAILS]++;
  const hl = t.hlen[i];
  if (hl > 0) {
    // quote fragment 0 (header + its data) in ICMP time exceeded, code 1
    const p = st.pool;
    const s = t.skb[i];
    const h = t.base - hl;
    p.data[s] = h;
    p.nh[s] = h;
    p.tail[s] = t.base + t.firstEnd[i];
    p.dev[s] = t.dev[i];
    p.cb3[s] = t.pktType[i];
    icmpSend(st, s, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
  }
  ipqKill(st, i);
}

/** Drop every partial datagram (interface down, tests, shutdown). */
export function ipDefragFlush(st: Stack): void {
  const t = st.ip.reasm;
  for (let i = 0; i < t.n; i++) ipqKill(st, i);
}
