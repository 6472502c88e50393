/*
 * tcp_util.ts — fixtures for the TCP tests: two stacks on a PairLink
 * (A = 192.0.2.1, B = 192.0.2.2) with TCP initialised, a wire tap that
 * decodes (and can drop, delay-free) TCP segments, crafted-segment
 * injection, and the end-of-test cleanliness check. Not a test file.
 */
import { expect } from 'vitest';
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { get16, get32, put16, put32 } from '../../src/core/bytes';
import { csumPartial, csumFinish, csumTcpUdpMagic, ipCompute } from '../../src/core/checksum';
import { rxFrame } from '../../src/link/dev';
import { neighAddStatic } from '../../src/link/arp';
import { s32 } from '../../src/core/bits';
import { ifconfig } from '../../src/ipv4/devinet';
import { createPairLink, PairLink, PairEnd } from '../../drivers/pair/pairlink';
import { TcpState } from '../../src/transport/tcp/tcp';
import { initTcp } from '../../src/transport/tcp/tcp_ipv4';
import {
  tcpClose, tcpSocket, tcpBind, tcpListen, tcpConnect, tcpAccept, tcpSend, tcpRecv,
} from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { EINPROGRESS } from '../../src/core/errno';

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);
/** 192.0.2.1 / 192.0.2.2 as the stack holds addresses (s32) */
export const IP_A = s32(0xc0000201);
export const IP_B = s32(0xc0000202);

export function ensureTcp(st: Stack): TcpState {
  const s = st as unknown as { tcp: TcpState | undefined };
  if (s.tcp === undefined) initTcp(st);
  return st.tcp;
}

/** One decoded segment seen on the wire. */
export interface Seg {
  at: number;
  from: 'A' | 'B';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  len: number;
  hlen: number;
  opts: number[];
  dropped: boolean;
}

export type DropRule = (s: Seg, n: number) => boolean;

/** Taps both directions; records TCP segments and applies drop rules. */
export class Tap {
  segs: Seg[] = [];
  rule: DropRule | null = null;
  log = false;
  count = 0;
  constructor(readonly e: { clock: ManualClock; link: PairLink }) {}
  onFrame(end: PairEnd, b: Uint8Array, o: number, len: number): boolean {
    if (len < 34 || get16(b, o + 12) !== 0x0800) return true;
    const ip = o + 14;
    if (b[ip + 9] !== 6) return true;
    const ihl = (b[ip] & 15) * 4;
    const tot = get16(b, ip + 2);
    const th = ip + ihl;
    const hlen = (b[th + 12] >> 4) * 4;
    const opts: number[] = [];
    for (let i = 20; i < hlen; i++) opts.push(b[th + i]);
    const s: Seg = {
      at: this.e.clock.now(),
      from: end === this.e.link.a ? 'A' : 'B',
      sport: get16(b, th),
      dport: get16(b, th + 2),
      seq: get32(b, th + 4),
      ack: get32(b, th + 8),
      flags: b[th + 13],
      win: get16(b, th + 14),
      len: tot - ihl - hlen,
      hlen,
      opts,
      dropped: false,
    };
    this.count++;
    if (this.rule !== null && this.rule(s, this.count)) s.dropped = true;
    this.segs.push(s);
    if (this.log) console.log(fmtSeg(s));
    return !s.dropped;
  }
  clear(): void {
    this.segs = [];
  }
  /** segments with all `mask` flag bits set, from one side */
  with(from: 'A' | 'B', mask: number): Seg[] {
    return this.segs.filter((s) => s.from === from && (s.flags & mask) === mask);
  }
}

export function fmtSeg(s: Seg): string {
  const f = s.flags;
  const fl = (f & 2 ? 'S' : '') + (f & 1 ? 'F' : '') + (f & 4 ? 'R' : '') + (f & 8 ? 'P' : '') + (f & 16 ? '.' : '');
  return `${s.at} ${s.from} ${fl} seq=${s.seq} ack=${s.ack} win=${s.win} len=${s.len}${s.dropped ? ' DROPPED' : ''}`;
}

export class EventLog {
  ev: { fd: number; ev: number }[] = [];
  onSocketEvent(fd: number, ev: number): void {
    this.ev.push({ fd, ev });
  }
  any(fd: number, mask: number): boolean {
    return this.ev.some((x) => x.fd === fd && (x.ev & mask) !== 0);
  }
}

export interface TEnv {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  link: PairLink;
  tap: Tap;
  evA: EventLog;
  evB: EventLog;
}

export function tcpPair(over?: Partial<StackConfig>, overB?: Partial<StackConfig>, mtu = 1500): TEnv {
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const ob = Object.assign({ seed: 7 }, over === undefined ? {} : over, overB === undefined ? {} : overB);
  const b = new Stack('b', ob, clock, undefined);
  ensureTcp(a);
  ensureTcp(b);
  const link = createPairLink(a, b, MAC_A, MAC_B, mtu);
  ifconfig(a, link.devA, '192.0.2.1/24', null);
  ifconfig(b, link.devB, '192.0.2.2/24', null);
  link.open();
  // static neighbours: segments are not held back by ARP resolution
  neighAddStatic(a, link.devA, IP_B, MAC_B, 0);
  neighAddStatic(b, link.devB, IP_A, MAC_A, 0);
  const evA = new EventLog();
  const evB = new EventLog();
  a.events = evA;
  b.events = evB;
  const e: TEnv = { clock, a, b, link, tap: null as unknown as Tap, evA, evB };
  e.tap = new Tap(e);
  link.a.filter = e.tap;
  link.b.filter = e.tap;
  run(e, 50);
  e.tap.clear();
  return e;
}

/** Advance virtual time in `stepMs` steps for `ms`, polling both stacks. */
export function run(e: TEnv, ms: number, stepMs = 1): void {
  for (let t = 0; t < ms; t += stepMs) {
    e.clock.advance(stepMs);
    e.a.poll();
    e.b.poll();
  }
}

/** Run until cond() holds (checked every step) or maxMs passes. */
export function runUntil(e: TEnv, cond: () => boolean, maxMs: number, stepMs = 1): boolean {
  for (let t = 0; t < maxMs; t += stepMs) {
    if (cond()) return true;
    e.clock.advance(stepMs);
    e.a.poll();
    e.b.poll();
  }
  return cond();
}

/** Close every TCB the application still holds, let TIME_WAIT and all timers expire, assert all free. */
export function expectClean(e: TEnv): void {
  for (const st of [e.a, e.b]) {
    const tp = st.tcp;
    for (let t = 0; t < tp.n; t++) if (tp.state[t] !== 0 && tp.owner[t] === 1) tcpClose(st, t);
  }
  const msl = Math.max(e.a.cfg.tcpMslMs, e.b.cfg.tcpMslMs);
  const fin = Math.max(e.a.cfg.tcpFinTimeoutMs, e.b.cfg.tcpFinTimeoutMs);
  run(e, 2 * msl + fin + 130000, 100);
  for (const st of [e.a, e.b]) {
    expect(st.tcp.inUse()).toBe(0);
    expect(st.tcp.twCount).toBe(0);
    expect(st.tcp.rqCount).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  }
}

/* ---------------- crafted segments ---------------- */

export interface SegOpts {
  saddr?: number;
  daddr?: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  win?: number;
  opts?: number[];
  payload?: Uint8Array;
  /** corrupt the checksum */
  badCsum?: boolean;
  /** override data offset (32-bit words) */
  doff?: number;
  /** cut the TCP segment to this many bytes (IP length adjusted) */
  truncate?: number;
  /** frame for B (A's MAC as source); addresses default to A → B */
  toB?: boolean;
}

/** Ethernet + IPv4 + TCP frame from B's MAC to A's (default 192.0.2.2 → 192.0.2.1). */
export function tcpFrame(o: SegOpts): Uint8Array {
  const opts = o.opts !== undefined ? o.opts : [];
  const pl = o.payload !== undefined ? o.payload : new Uint8Array(0);
  const hlen = 20 + opts.length;
  const f = new Uint8Array(14 + 20 + hlen + pl.length);
  const toB = o.toB === true;
  for (let i = 0; i < 6; i++) {
    f[i] = toB ? MAC_B[i] : MAC_A[i];
    f[6 + i] = toB ? MAC_A[i] : MAC_B[i];
  }
  put16(f, 12, 0x0800);
  const ip = 14;
  const saddr = o.saddr !== undefined ? o.saddr : toB ? IP_A : IP_B;
  const daddr = o.daddr !== undefined ? o.daddr : toB ? IP_B : IP_A;
  f[ip] = 0x45;
  put16(f, ip + 2, 20 + hlen + pl.length);
  put16(f, ip + 4, 0x4321);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  put32(f, ip + 12, saddr);
  put32(f, ip + 16, daddr);
  put16(f, ip + 10, ipCompute(f, ip, 20));
  const th = ip + 20;
  put16(f, th, o.sport);
  put16(f, th + 2, o.dport);
  put32(f, th + 4, o.seq >>> 0);
  put32(f, th + 8, (o.ack !== undefined ? o.ack : 0) >>> 0);
  f[th + 12] = ((o.doff !== undefined ? o.doff : hlen / 4) << 4) & 0xff;
  f[th + 13] = o.flags;
  put16(f, th + 14, o.win !== undefined ? o.win : 65535);
  for (let i = 0; i < opts.length; i++) f[th + 20 + i] = opts[i];
  for (let i = 0; i < pl.length; i++) f[th + hlen + i] = pl[i];
  const tl = hlen + pl.length;
  let c = csumFinish(csumPartial(f, th, tl, csumTcpUdpMagic(saddr, daddr, tl, 6)));
  if (o.badCsum === true) c = (c + 1) & 0xffff;
  put16(f, th + 16, c);
  if (o.truncate !== undefined) {
    const g = f.slice(0, 14 + 20 + o.truncate);
    put16(g, ip + 2, 20 + o.truncate);
    put16(g, ip + 10, 0);
    put16(g, ip + 10, ipCompute(g, ip, 20));
    return g;
  }
  return f;
}

/** Deliver a crafted frame to A as if it came from B (A's device). */
export function injectA(e: TEnv, f: Uint8Array): void {
  expect(rxFrame(e.a, e.link.devA, f, 0, f.length)).toBe(0);
  e.a.poll();
}

/**
 * An ICMP error from B to A quoting the start of a TCP segment A sent
 * (saddr A → daddr B, sport → dport, seq). info: next-hop MTU for frag-needed.
 */
export function icmpErrorFrame(type: number, code: number, info: number, sport: number, dport: number, seq: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 20 + 8);
  for (let i = 0; i < 6; i++) {
    f[i] = MAC_A[i];
    f[6 + i] = MAC_B[i];
  }
  put16(f, 12, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  put16(f, ip + 2, 20 + 8 + 28);
  f[ip + 8] = 64;
  f[ip + 9] = 1;
  put32(f, ip + 12, IP_B);
  put32(f, ip + 16, IP_A);
  put16(f, ip + 10, ipCompute(f, ip, 20));
  const ic = ip + 20;
  f[ic] = type;
  f[ic + 1] = code;
  put16(f, ic + 6, info);
  const q = ic + 8;
  f[q] = 0x45;
  put16(f, q + 2, 40);
  f[q + 8] = 64;
  f[q + 9] = 6;
  put32(f, q + 12, IP_A);
  put32(f, q + 16, IP_B);
  put16(f, q + 10, ipCompute(f, q, 20));
  put16(f, q + 20, sport);
  put16(f, q + 22, dport);
  put32(f, q + 24, seq >>> 0);
  put16(f, ic + 2, ipCompute(f, ic, 8 + 28));
  return f;
}

/** Deliver a crafted frame (built with toB: true) to B. */
export function injectB(e: TEnv, f: Uint8Array): void {
  expect(rxFrame(e.b, e.link.devB, f, 0, f.length)).toBe(0);
  e.b.poll();
}

export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** A deterministic PRNG for drop rules. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/* ---------------- connection helpers ---------------- */

export interface Conn {
  /** listener on B */
  l: number;
  /** client TCB on A */
  c: number;
  /** accepted TCB on B */
  s: number;
}

/** Listener on B:port, A connects, B accepts. Fails the test when it does not establish. */
export function connectPair(e: TEnv, port: number, backlog = 4): Conn {
  const l = tcpSocket(e.b);
  expect(l).toBeGreaterThanOrEqual(0);
  expect(tcpBind(e.b, l, 0, port)).toBe(0);
  expect(tcpListen(e.b, l, backlog)).toBe(0);
  const c = tcpSocket(e.a);
  expect(c).toBeGreaterThanOrEqual(0);
  expect(tcpConnect(e.a, c, IP_B, port)).toBe(-EINPROGRESS);
  let s = -1;
  expect(runUntil(e, () => (s = tcpAccept(e.b, l)) >= 0, 5000)).toBe(true);
  expect(runUntil(e, () => e.a.tcp.state[c] === TCP_ESTABLISHED, 5000)).toBe(true);
  return { l, c, s };
}

/**
 * Push `data` from (sSt, sT) to (rSt, rT), reading as it arrives, for at
 * most maxMs of virtual time. Returns the bytes received.
 */
export function transfer(
  e: TEnv, sSt: Stack, sT: number, rSt: Stack, rT: number, data: Uint8Array, maxMs: number, stepMs = 1,
): Uint8Array {
  const len = data.length;
  const out = new Uint8Array(len);
  let off = 0;
  let got = 0;
  for (let t = 0; t < maxMs && got < len; t += stepMs) {
    if (off < len) {
      const r = tcpSend(sSt, sT, data, off, len - off);
      if (r > 0) off += r;
    }
    for (;;) {
      const r = tcpRecv(rSt, rT, out, got, len - got);
      if (r <= 0) break;
      got += r;
    }
    if (got >= len) break;
    e.clock.advance(stepMs);
    e.a.poll();
    e.b.poll();
  }
  return out.subarray(0, got);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
