/*
 * udp_util.ts — shared fixtures for the udp/raw/socket/dgram tests: two
 * stacks on a PairLink (A = 192.0.2.1, B = 192.0.2.2), a driver loop in
 * virtual time, and a builder for hand-made IPv4/UDP frames injected into
 * a stack as if they came off the wire.
 */
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { put16, put32 } from '../../src/core/bytes';
import { csumPartial, csumFinish, csumTcpUdpMagic, ipCompute } from '../../src/core/checksum';
import { rxFrame } from '../../src/link/dev';
import { parseIpU } from './addr_util';
import { ifconfig } from '../../src/ipv4/devinet';
import { createPairLink, PairLink } from '../../drivers/pair/pairlink';

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);
export const IP_A = parseIpU('192.0.2.1');
export const IP_B = parseIpU('192.0.2.2');
export const BCAST = parseIpU('192.0.2.255');

export interface Env {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  link: PairLink;
}

export function twoStacks(over?: Partial<StackConfig>): Env {
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', over === undefined ? { seed: 7 } : Object.assign({}, over, { seed: 7 }), clock, undefined);
  const link = createPairLink(a, b, MAC_A, MAC_B, 1500);
  ifconfig(a, link.devA, '192.0.2.1/24', null);
  ifconfig(b, link.devB, '192.0.2.2/24', null);
  link.open();
  run({ clock, a, b, link }, 50);
  return { clock, a, b, link };
}

/** Advance virtual time in 10 ms steps for `ms`, polling both stacks. */
export function run(e: Env, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    e.clock.advance(10);
    e.a.poll();
    e.b.poll();
  }
}

export interface UdpFrameOpts {
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
  payload: Uint8Array;
  /** override the UDP length field */
  ulen?: number;
  /** override the UDP checksum field (0 = none) */
  check?: number;
  /** Ethernet destination (default MAC_A) */
  dmac?: Uint8Array;
  proto?: number;
}

/** An Ethernet + IPv4 + UDP frame with correct checksums unless overridden. */
export function udpFrame(o: UdpFrameOpts): Uint8Array {
  const plen = o.payload.length;
  const f = new Uint8Array(14 + 20 + 8 + plen);
  const dmac = o.dmac !== undefined ? o.dmac : MAC_A;
  for (let i = 0; i < 6; i++) {
    f[i] = dmac[i];
    f[6 + i] = MAC_B[i];
  }
  put16(f, 12, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  put16(f, ip + 2, 20 + 8 + plen);
  put16(f, ip + 4, 0x1234);
  f[ip + 8] = 64;
  f[ip + 9] = o.proto !== undefined ? o.proto : 17;
  put32(f, ip + 12, o.saddr);
  put32(f, ip + 16, o.daddr);
  put16(f, ip + 10, ipCompute(f, ip, 20));
  const u = ip + 20;
  const ulen = 8 + plen;
  put16(f, u, o.sport);
  put16(f, u + 2, o.dport);
  put16(f, u + 4, o.ulen !== undefined ? o.ulen : ulen);
  for (let i = 0; i < plen; i++) f[u + 8 + i] = o.payload[i];
  if (o.check !== undefined) {
    put16(f, u + 6, o.check);
  } else {
    let c = csumFinish(csumPartial(f, u, ulen, csumTcpUdpMagic(o.saddr, o.daddr, ulen, 17)));
    if (c === 0) c = 0xffff;
    put16(f, u + 6, c);
  }
  return f;
}

/** Inject a frame into stack st on device dev as if received from the wire. */
export function inject(st: Stack, dev: number, f: Uint8Array): number {
  return rxFrame(st, dev, f, 0, f.length);
}

export function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}
