import { describe, it, expect } from 'vitest';
import { icmpPing, icmpSend } from '../../src/ipv4/icmp';
import { put16, put32 } from '../../src/core/bytes';
import { ipCompute } from '../../src/core/checksum';
import { PACKET_BROADCAST } from '../../src/link/ether';
import { parseIpU } from './addr_util';
import { Stack } from '../../src/stack';
import {
  twoStacks, settle, ipFrame, inject, pattern, addTestProto, EchoRec, Two, MAC_A, MAC_B, IP_A, IP_B,
} from './ipv4_util';

function finish(e: Two): void {
  settle(e, 50);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

/** An ICMP message from A to B, checksummed unless bad. */
function icmpFrame(type: number, code: number, body: Uint8Array, bad?: boolean, dst?: number, dmac?: Uint8Array): Uint8Array {
  const m = new Uint8Array(4 + body.length);
  m[0] = type;
  m[1] = code;
  m.set(body, 4);
  put16(m, 2, ipCompute(m, 0, m.length));
  if (bad === true) m[2] ^= 0xff;
  return ipFrame({
    dstMac: dmac === undefined ? MAC_B : dmac, srcMac: MAC_A, saddr: IP_A, daddr: dst === undefined ? IP_B : dst,
    proto: 1, payload: m,
  });
}

/** A received-looking skb on st holding an IPv4 header + 8 bytes, for direct icmpSend checks. */
function fakeRx(st: Stack, saddr: number, daddr: number, proto: number, fragOff: number, firstByte: number): number {
  const p = st.pool;
  const skb = p.alloc(28);
  const o = p.put(skb, 28);
  const b = p.buf[skb];
  b.fill(0, o, o + 28);
  b[o] = 0x45;
  put16(b, o + 2, 28);
  put16(b, o + 6, fragOff);
  b[o + 8] = 64;
  b[o + 9] = proto;
  put32(b, o + 12, saddr);
  put32(b, o + 16, daddr);
  put16(b, o + 10, ipCompute(b, o, 20));
  b[o + 20] = firstByte;
  p.nh[skb] = o;
  p.dev[skb] = 0;
  return skb;
}

describe('icmp', () => {
  it('bad checksum and truncated messages are counted', () => {
    const e = twoStacks();
    inject(e.b, e.link.devB, icmpFrame(8, 0, pattern(12, 1), true));
    const short = ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, proto: 1, payload: new Uint8Array([8, 0, 0xf7]) });
    inject(e.b, e.link.devB, short);
    settle(e, 20);
    const m = e.b.mib.icmpB;
    expect(m.get('InMsgs')).toBe(2);
    expect(m.get('InCsumErrors')).toBe(1);
    expect(m.get('InErrors')).toBe(2);
    expect(m.get('OutEchoReps')).toBe(0);
    finish(e);
  });

  it('errors with a short or bogus quoted header are InErrors', () => {
    const e = twoStacks();
    inject(e.b, e.link.devB, icmpFrame(3, 3, pattern(10, 1))); // quote shorter than 20
    const q = new Uint8Array(4 + 28);
    q[4] = 0x65; // version 6
    inject(e.b, e.link.devB, icmpFrame(3, 3, q));
    const q2 = new Uint8Array(4 + 24);
    q2[4] = 0x45; // header ok, but only 4 bytes of transport header
    inject(e.b, e.link.devB, icmpFrame(11, 0, q2));
    settle(e, 20);
    const m = e.b.mib.icmpB;
    expect(m.get('InDestUnreachs')).toBe(2);
    expect(m.get('InTimeExcds')).toBe(1);
    expect(m.get('InErrors')).toBe(3);
    finish(e);
  });

  it('unknown types are counted, redirects ignored', () => {
    const e = twoStacks();
    inject(e.b, e.link.devB, icmpFrame(42, 0, pattern(4, 0)));
    inject(e.b, e.link.devB, icmpFrame(5, 1, pattern(32, 0)));
    settle(e, 20);
    expect(e.b.mib.icmpB.get('InUnknownTypes')).toBe(1);
    expect(e.b.mib.icmpB.get('InRedirects')).toBe(1);
    expect(e.b.route.count).toBe(1);
    finish(e);
  });

  it('never sends errors about errors, non-first fragments, broadcasts or bogus sources', () => {
    const e = twoStacks();
    const st = e.b;
    const before = st.mib.icmpB.get('OutMsgs');
    const cases: number[] = [
      fakeRx(st, IP_A, IP_B, 1, 0, 3), // about an ICMP dest unreachable
      fakeRx(st, IP_A, IP_B, 1, 0, 11), // about an ICMP time exceeded
      fakeRx(st, IP_A, IP_B, 253, 0x0002, 0), // non-first fragment (offset 16)
      fakeRx(st, IP_A, 0xffffffff, 253, 0, 0), // limited broadcast
      fakeRx(st, IP_A, parseIpU('192.0.2.255'), 253, 0, 0), // directed broadcast
      fakeRx(st, IP_A, parseIpU('224.0.0.9'), 253, 0, 0), // multicast
      fakeRx(st, 0, IP_B, 253, 0, 0), // source 0
      fakeRx(st, 0xffffffff, IP_B, 253, 0, 0), // source broadcast
    ];
    const lb = fakeRx(st, IP_A, IP_B, 253, 0, 0);
    st.pool.cb3[lb] = PACKET_BROADCAST; // arrived as a link-layer broadcast
    cases.push(lb);
    for (const s of cases) icmpSend(st, s, 3, 2, 0);
    expect(st.icmp.suppressed).toBe(cases.length);
    expect(st.mib.icmpB.get('OutMsgs')).toBe(before);
    // the control: about an ICMP echo request an error IS allowed, and skbIn is not consumed
    const ok = fakeRx(st, IP_A, IP_B, 1, 0, 8);
    icmpSend(st, ok, 3, 2, 0);
    expect(st.mib.icmpB.get('OutDestUnreachs')).toBe(1);
    cases.push(ok);
    for (const s of cases) st.pool.free(s);
    expect(st.pool.badFrees).toBe(0);
    settle(e, 50);
    expect(e.a.mib.icmpB.get('InDestUnreachs')).toBe(1);
    finish(e);
  });

  it('ICMP errors are rate limited by a token bucket', () => {
    const e = twoStacks({ icmpRateBurst: 3, icmpRatePerSec: 2 });
    const ta = addTestProto(e.a);
    const f = ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, proto: 253, payload: pattern(8, 0) });
    for (let i = 0; i < 10; i++) inject(e.b, e.link.devB, f);
    settle(e, 50);
    const m = e.b.mib.icmpB;
    expect(m.get('OutDestUnreachs')).toBe(3);
    expect(m.get('OutRateLimitGlobal')).toBe(7);
    expect(e.b.mib.ipB.get('InUnknownProtos')).toBe(10);
    settle(e, 1000); // two tokens come back
    for (let i = 0; i < 5; i++) inject(e.b, e.link.devB, f);
    settle(e, 50);
    expect(m.get('OutDestUnreachs')).toBe(5);
    expect(ta.errs.length).toBe(5);
    finish(e);
  });

  it('echo to a broadcast is ignored by default, answered when enabled', () => {
    const bm = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const body = pattern(12, 0);
    const e = twoStacks();
    inject(e.b, e.link.devB, icmpFrame(8, 0, body, false, 0xffffffff, bm));
    inject(e.b, e.link.devB, icmpFrame(8, 0, body, false, parseIpU('192.0.2.255'), bm));
    settle(e, 50);
    expect(e.b.mib.icmpB.get('InEchos')).toBe(2);
    expect(e.b.mib.icmpB.get('OutEchoReps')).toBe(0);
    finish(e);

    const e2 = twoStacks({ icmpEchoIgnoreBroadcasts: false });
    const ra = new EchoRec();
    e2.a.icmp.echoHandler = ra;
    expect(icmpPing(e2.a, 0xffffffff, 3, 4, 0)).toBe(0);
    settle(e2, 50);
    expect(e2.b.mib.icmpB.get('OutEchoReps')).toBe(1);
    expect(ra.replies.length).toBe(1);
    expect(ra.replies[0].saddr).toBe(IP_B); // answered from the interface address
    finish(e2);
  });

  it('echo replies carry the original payload (pattern checked)', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    // the first ping resolves ARP (only cfg.arpQueueLen datagrams wait for it)
    for (let s = 0; s < 5; s++) {
      icmpPing(e.a, IP_B, 0x4242, s, s * 100);
      if (s === 0) settle(e, 20);
    }
    settle(e, 100);
    expect(ra.replies.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(ra.replies.map((r) => r.len)).toEqual([0, 100, 200, 300, 400]);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    // a reply with a wrong pattern is still delivered, and noticed
    const body = new Uint8Array(4 + 8);
    put16(body, 0, 0x4242);
    inject(e.a, e.link.devA, ipFrame({
      dstMac: MAC_A, srcMac: MAC_B, saddr: IP_B, daddr: IP_A, proto: 1,
      payload: (() => { const m = new Uint8Array(16); m[0] = 0; put16(m, 4, 7); m[8] = 0x99; put16(m, 2, ipCompute(m, 0, 16)); return m; })(),
    }));
    settle(e, 20);
    expect(e.a.icmp.echoPatternErrors).toBe(1);
    expect(ra.replies.length).toBe(6);
    finish(e);
  });
});
