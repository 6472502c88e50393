/*
 * ipv4_util.ts — fixtures for the ipv4 and icmp tests: stacks joined by
 * PairLinks on one virtual clock, a poll loop, a hand-made IPv4 frame
 * builder, and a test transport protocol (253, RFC 3692 experimental)
 * that records what IP delivers to it.
 */
import { u32 } from '../../src/core/bits';
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { put16, put32, get32 } from '../../src/core/bytes';
import { ipCompute } from '../../src/core/checksum';
import { rxFrame } from '../../src/link/dev';
import { parseIpU } from './addr_util';
import { ifconfig } from '../../src/ipv4/devinet';
import { inetAddProtocol, InetProtocol } from '../../src/ipv4/protocol';
import { IcmpEchoHandler } from '../../src/ipv4/icmp';
import { createPairLink, PairLink } from '../../drivers/pair/pairlink';

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);
export const MAC_R1 = new Uint8Array([0x02, 0, 0, 0, 1, 0x01]);
export const MAC_R2 = new Uint8Array([0x02, 0, 0, 0, 1, 0x02]);
export const IP_A = parseIpU('192.0.2.2');
export const IP_B = parseIpU('192.0.2.3');
export const PROTO_TEST = 253;

export interface Env {
  clock: ManualClock;
  stacks: Stack[];
}

export function settle(e: Env, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    e.clock.advance(10);
    for (const s of e.stacks) s.poll();
  }
}

export interface Two extends Env {
  a: Stack;
  b: Stack;
  link: PairLink;
}

/** A = 192.0.2.2/24, B = 192.0.2.3/24 on one cable. */
export function twoStacks(over?: Partial<StackConfig>, mtu?: number): Two {
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', Object.assign({}, over === undefined ? {} : over, { seed: 7 }), clock, undefined);
  const link = createPairLink(a, b, MAC_A, MAC_B, mtu === undefined ? 1500 : mtu);
  if (ifconfig(a, link.devA, '192.0.2.2/24', null) !== 0) throw new Error('ifconfig a');
  if (ifconfig(b, link.devB, '192.0.2.3/24', null) !== 0) throw new Error('ifconfig b');
  link.open();
  const e: Two = { clock, stacks: [a, b], a, b, link };
  settle(e, 50);
  return e;
}

/** Records echo replies. */
export class EchoRec implements IcmpEchoHandler {
  replies: { saddr: number; ident: number; seq: number; len: number; ttl: number }[] = [];
  onEchoReply(saddr: number, ident: number, seq: number, payloadLen: number, ttl: number): void {
    // saddr arrives in the internal s32 form (src/core/inaddr.ts)
    this.replies.push({ saddr: u32(saddr), ident, seq, len: payloadLen, ttl });
  }
}

/** A transport on protocol 253: records deliveries and ICMP errors. */
export class TestProto implements InetProtocol {
  got: { len: number; saddr: number; daddr: number; data: number[]; thOk: boolean; ttl: number }[] = [];
  errs: { type: number; code: number; info: number; innerDaddr: number; innerProto: number }[] = [];
  constructor(readonly st: Stack) {}
  handler(skb: number): void {
    const p = this.st.pool;
    const b = p.buf[skb];
    const d = p.data[skb];
    const nh = p.nh[skb];
    const data: number[] = [];
    for (let i = d; i < p.tail[skb]; i++) data.push(b[i]);
    this.got.push({
      len: p.len(skb),
      saddr: get32(b, nh + 12),
      daddr: get32(b, nh + 16),
      data,
      thOk: p.th[skb] === d && d - nh === (b[nh] & 15) * 4,
      ttl: b[nh + 8],
    });
    p.free(skb);
  }
  errHandler(skb: number, type: number, code: number, info: number): void {
    const p = this.st.pool;
    const b = p.buf[skb];
    const d = p.data[skb];
    this.errs.push({ type, code, info, innerDaddr: get32(b, d + 16), innerProto: b[d + 9] });
  }
}

export function addTestProto(st: Stack): TestProto {
  const t = new TestProto(st);
  if (inetAddProtocol(st, PROTO_TEST, t) !== 0) throw new Error('inetAddProtocol');
  return t;
}

export interface IpFrameOpts {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  saddr: number;
  daddr: number;
  proto?: number;
  id?: number;
  ttl?: number;
  /** fragment offset in bytes (multiple of 8) */
  offset?: number;
  mf?: boolean;
  df?: boolean;
  payload: Uint8Array;
  /** raw option bytes (padded by the caller to a multiple of 4) */
  options?: Uint8Array;
  /* malformations */
  version?: number;
  ihl?: number;
  totLen?: number;
  badCsum?: boolean;
  /** pad the frame to at least this many bytes (Ethernet minimum) */
  padTo?: number;
  /** cut the frame to this many bytes after building */
  cutTo?: number;
}

/** Build an Ethernet + IPv4 frame. */
export function ipFrame(o: IpFrameOpts): Uint8Array {
  const opt = o.options === undefined ? new Uint8Array(0) : o.options;
  const hl = 20 + opt.length;
  const tot = hl + o.payload.length;
  let flen = 14 + tot;
  if (o.padTo !== undefined && flen < o.padTo) flen = o.padTo;
  const f = new Uint8Array(flen);
  f.set(o.dstMac, 0);
  f.set(o.srcMac, 6);
  put16(f, 12, 0x0800);
  const h = 14;
  const ihl = o.ihl === undefined ? hl / 4 : o.ihl;
  f[h] = ((o.version === undefined ? 4 : o.version) << 4) | (ihl & 15);
  f[h + 1] = 0;
  put16(f, h + 2, o.totLen === undefined ? tot : o.totLen);
  put16(f, h + 4, o.id === undefined ? 0x1234 : o.id);
  put16(f, h + 6, (o.df === true ? 0x4000 : 0) | (o.mf === true ? 0x2000 : 0) | ((o.offset === undefined ? 0 : o.offset) >> 3));
  f[h + 8] = o.ttl === undefined ? 64 : o.ttl;
  f[h + 9] = o.proto === undefined ? PROTO_TEST : o.proto;
  put32(f, h + 12, o.saddr);
  put32(f, h + 16, o.daddr);
  f.set(opt, h + 20);
  f.set(o.payload, h + hl);
  const csumLen = Math.min(ihl * 4, f.length - h);
  put16(f, h + 10, ipCompute(f, h, csumLen));
  if (o.badCsum === true) f[h + 10] ^= 0x55;
  return o.cutTo === undefined ? f : f.subarray(0, o.cutTo);
}

/** Inject a frame into stack st on device dev as if it came off the wire. */
export function inject(st: Stack, dev: number, f: Uint8Array): number {
  return rxFrame(st, dev, f, 0, f.length);
}

export function pattern(n: number, seed: number): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed) & 0xff;
  return u;
}
