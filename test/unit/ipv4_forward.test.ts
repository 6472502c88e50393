import { describe, it, expect } from 'vitest';
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { parseIpU } from './addr_util';
import { icmpPing } from '../../src/ipv4/icmp';
import { ipBuildAndSend } from '../../src/ipv4/ip_output';
import { ifconfig } from '../../src/ipv4/devinet';
import {
  nfRegisterHook, nfUnregisterHook, NfHook, NF_DROP, NF_ACCEPT, NF_STOLEN,
  NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING,
} from '../../src/ipv4/netfilter';
import { EPERM } from '../../src/core/errno';
import { createPairLink, PairLink } from '../../drivers/pair/pairlink';
import { settle, EchoRec, addTestProto, Env, MAC_A, MAC_B, MAC_R1, MAC_R2, PROTO_TEST, twoStacks, IP_B } from './ipv4_util';

const A = parseIpU('192.0.2.2');
const R1 = parseIpU('192.0.2.1');
const R2 = parseIpU('198.18.0.1');
const B = parseIpU('198.18.0.2');

interface Chain extends Env {
  a: Stack;
  r: Stack;
  b: Stack;
  l1: PairLink;
  l2: PairLink;
}

/** A —(192.0.2.0/24)— R —(198.18.0.0/24, mtu2)— B, R forwarding. */
function chain(rOver?: Partial<StackConfig>, mtu2?: number): Chain {
  const clock = new ManualClock(1000);
  const a = new Stack('a', { seed: 1 }, clock, undefined);
  const r = new Stack('r', Object.assign({ seed: 2, ipForward: true }, rOver === undefined ? {} : rOver), clock, undefined);
  const b = new Stack('b', { seed: 3 }, clock, undefined);
  const l1 = createPairLink(a, r, MAC_A, MAC_R1, 1500);
  const l2 = createPairLink(r, b, MAC_R2, MAC_B, mtu2 === undefined ? 1500 : mtu2);
  expect(ifconfig(a, l1.devA, '192.0.2.2/24', '192.0.2.1')).toBe(0);
  expect(ifconfig(r, l1.devB, '192.0.2.1/24', null)).toBe(0);
  expect(ifconfig(r, l2.devA, '198.18.0.1/24', null)).toBe(0);
  expect(ifconfig(b, l2.devB, '198.18.0.2/24', '198.18.0.1')).toBe(0);
  l1.open();
  l2.open();
  const c: Chain = { clock, stacks: [a, r, b], a, r, b, l1, l2 };
  settle(c, 50);
  return c;
}

function clean(c: Env): void {
  settle(c, 100);
  for (const s of c.stacks) expect(s.pool.inUse()).toBe(0);
}

function sendTest(st: Stack, daddr: number, len: number, ttl: number, df: boolean): number {
  const p = st.pool;
  const skb = p.alloc(len);
  const o = p.put(skb, len);
  for (let i = 0; i < len; i++) p.buf[skb][o + i] = i & 0xff;
  return ipBuildAndSend(st, skb, 0, daddr, PROTO_TEST, ttl, 0, df);
}

describe('ip_forward across A–R–B', () => {
  it('forwards pings both ways and decrements the TTL', () => {
    const c = chain();
    const ra = new EchoRec();
    const rb = new EchoRec();
    c.a.icmp.echoHandler = ra;
    c.b.icmp.echoHandler = rb;
    expect(icmpPing(c.a, B, 1, 1, 100)).toBe(0);
    settle(c, 100);
    expect(icmpPing(c.b, A, 2, 1, 100)).toBe(0);
    settle(c, 100);
    expect(ra.replies).toEqual([{ saddr: B, ident: 1, seq: 1, len: 100, ttl: 63 }]);
    expect(rb.replies).toEqual([{ saddr: A, ident: 2, seq: 1, len: 100, ttl: 63 }]);
    expect(c.r.mib.ipB.get('ForwDatagrams')).toBe(4);
    expect(c.r.mib.ipB.get('InDelivers')).toBe(0);
    expect(c.a.icmp.echoPatternErrors).toBe(0);
    clean(c);
  });

  it('TTL expiry: ICMP time exceeded from the router', () => {
    const c = chain();
    const ta = addTestProto(c.a);
    const tb = addTestProto(c.b);
    expect(sendTest(c.a, B, 40, 1, false)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(0);
    expect(c.r.mib.icmpB.get('OutTimeExcds')).toBe(1);
    expect(c.r.mib.ipB.get('InHdrErrors')).toBe(1);
    expect(ta.errs).toEqual([{ type: 11, code: 0, info: 0, innerDaddr: B, innerProto: PROTO_TEST }]);
    // TTL 2 still arrives, with TTL 1
    expect(sendTest(c.a, B, 40, 2, false)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(1);
    expect(tb.got[0].ttl).toBe(1);
    clean(c);
  });

  it('fragments on a smaller next-hop MTU; reassembled at B', () => {
    const c = chain(undefined, 576);
    const ra = new EchoRec();
    c.a.icmp.echoHandler = ra;
    icmpPing(c.a, B, 1, 1, 0); // warm up ARP on both hops
    settle(c, 100);
    expect(icmpPing(c.a, B, 1, 2, 1400)).toBe(0);
    settle(c, 100);
    expect(ra.replies.map((r) => r.len)).toEqual([0, 1400]);
    expect(c.r.mib.ipB.get('FragOKs')).toBe(1);
    expect(c.r.mib.ipB.get('FragCreates')).toBe(3);
    expect(c.b.mib.ipB.get('ReasmOKs')).toBe(1);
    // B's reply was fragmented by B (mtu 576) and forwarded as fragments, reassembled by A
    expect(c.b.mib.ipB.get('FragCreates')).toBe(3);
    expect(c.a.mib.ipB.get('ReasmOKs')).toBe(1);
    expect(c.a.icmp.echoPatternErrors).toBe(0);
    clean(c);
  });

  it('DF and too big: ICMP fragmentation needed with the next-hop MTU', () => {
    const c = chain(undefined, 576);
    const ta = addTestProto(c.a);
    const tb = addTestProto(c.b);
    expect(sendTest(c.a, B, 1000, 64, true)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(0);
    expect(c.r.mib.ipB.get('FragFails')).toBe(1);
    expect(ta.errs).toEqual([{ type: 3, code: 4, info: 576, innerDaddr: B, innerProto: PROTO_TEST }]);
    clean(c);
  });

  it('no route at the router: ICMP net unreachable', () => {
    const c = chain();
    const ta = addTestProto(c.a);
    expect(sendTest(c.a, parseIpU('203.0.113.5'), 20, 64, false)).toBe(0);
    settle(c, 100);
    expect(ta.errs.length).toBe(1);
    expect(ta.errs[0].type).toBe(3);
    expect(ta.errs[0].code).toBe(0);
    expect(c.r.mib.ipB.get('InAddrErrors')).toBe(1);
    clean(c);
  });

  it('directed broadcasts are not forwarded', () => {
    const c = chain();
    const tb = addTestProto(c.b);
    expect(sendTest(c.a, parseIpU('198.18.0.255'), 20, 64, false)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(0);
    expect(c.r.mib.ipB.get('InAddrErrors')).toBe(1);
    expect(c.r.mib.ipB.get('ForwDatagrams')).toBe(0);
    clean(c);
  });

  it('with forwarding off the router drops (InAddrErrors) silently', () => {
    const c = chain({ ipForward: false });
    const tb = addTestProto(c.b);
    addTestProto(c.a);
    expect(sendTest(c.a, B, 20, 64, false)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(0);
    expect(c.r.mib.ipB.get('InAddrErrors')).toBe(1);
    expect(c.r.mib.icmpB.get('OutMsgs')).toBe(0);
    clean(c);
  });
});

class Verdict implements NfHook {
  calls = 0;
  order: number[];
  constructor(
    public verdict: number,
    readonly tag: number,
    order: number[],
    public st: Stack | null,
  ) {
    this.order = order;
  }
  hook(skb: number, hooknum: number, indev: number, outdev: number): number {
    this.calls++;
    this.order.push(this.tag * 10 + hooknum + (indev < -1 || outdev < -1 ? 100 : 0));
    if (this.verdict === NF_STOLEN && this.st !== null) this.st.pool.free(skb);
    return this.verdict;
  }
}

describe('netfilter hooks', () => {
  it('DROP at PRE_ROUTING and LOCAL_IN is counted as InDiscards', () => {
    for (const hn of [NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN]) {
      const e = twoStacks();
      const ra = new EchoRec();
      e.a.icmp.echoHandler = ra;
      const h = new Verdict(NF_DROP, 1, [], null);
      expect(nfRegisterHook(e.b, hn, h, 0)).toBe(0);
      icmpPing(e.a, IP_B, 1, 1, 8);
      settle(e, 100);
      expect(ra.replies.length).toBe(0);
      expect(h.calls).toBe(1);
      expect(e.b.ip.nf.drops[hn]).toBe(1);
      expect(e.b.mib.ipB.get('InDiscards')).toBe(1);
      // unregister: traffic flows again
      expect(nfUnregisterHook(e.b, hn, h)).toBe(0);
      icmpPing(e.a, IP_B, 1, 2, 8);
      settle(e, 100);
      expect(ra.replies.length).toBe(1);
      clean(e);
    }
  });

  it('DROP at LOCAL_OUT and POST_ROUTING fails the send with -EPERM', () => {
    for (const hn of [NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING]) {
      const e = twoStacks();
      const h = new Verdict(NF_DROP, 1, [], null);
      nfRegisterHook(e.a, hn, h, 0);
      expect(icmpPing(e.a, IP_B, 1, 1, 8)).toBe(-EPERM);
      expect(e.a.ip.nf.drops[hn]).toBe(1);
      expect(e.a.mib.ipB.get('OutDiscards')).toBe(1);
      expect(e.link.a.txFrames).toBe(1); // only the gratuitous ARP at open
      clean(e);
    }
  });

  it('DROP at FORWARD on the router', () => {
    const c = chain();
    const tb = addTestProto(c.b);
    const h = new Verdict(NF_DROP, 1, [], null);
    nfRegisterHook(c.r, NF_INET_FORWARD, h, 0);
    expect(sendTest(c.a, B, 20, 64, false)).toBe(0);
    settle(c, 100);
    expect(tb.got.length).toBe(0);
    expect(c.r.ip.nf.drops[NF_INET_FORWARD]).toBe(1);
    expect(c.r.mib.ipB.get('InDiscards')).toBe(1);
    expect(c.r.mib.ipB.get('ForwDatagrams')).toBe(0);
    clean(c);
  });

  it('hooks run in priority order; STOLEN ends the traversal; table is bounded', () => {
    const e = twoStacks({ nfHookSlots: 3 });
    const order: number[] = [];
    const h1 = new Verdict(NF_ACCEPT, 1, order, null);
    const h2 = new Verdict(NF_ACCEPT, 2, order, null);
    const h3 = new Verdict(NF_ACCEPT, 3, order, null);
    nfRegisterHook(e.b, NF_INET_LOCAL_IN, h2, 10);
    nfRegisterHook(e.b, NF_INET_LOCAL_IN, h3, 20);
    nfRegisterHook(e.b, NF_INET_LOCAL_IN, h1, -5);
    expect(nfRegisterHook(e.b, NF_INET_LOCAL_IN, new Verdict(NF_ACCEPT, 4, order, null), 0)).toBeLessThan(0);
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    icmpPing(e.a, IP_B, 1, 1, 8);
    settle(e, 100);
    expect(order).toEqual([11, 21, 31]);
    expect(ra.replies.length).toBe(1);
    // h2 steals (and frees) the packet: h3 is not called, nothing delivered
    h2.verdict = NF_STOLEN;
    h2.st = e.b;
    order.length = 0;
    icmpPing(e.a, IP_B, 1, 2, 8);
    settle(e, 100);
    expect(order).toEqual([11, 21]);
    expect(ra.replies.length).toBe(1);
    expect(e.b.ip.nf.stolen[NF_INET_LOCAL_IN]).toBe(1);
    clean(e);
  });
});
