import { describe, it, expect } from 'vitest';
import { icmpPing } from '../../src/ipv4/icmp';
import { ipBuildAndSend, ipSelectSource, ipSendHdrincl } from '../../src/ipv4/ip_output';
import { ifconfig, ipAddrAdd, ipAddrDel, ipRouteAdd } from '../../src/ipv4/devinet';
import { parseIpU } from './addr_util';
import { parseIpStrict } from '../../src/link/ifaddr';
import { put16, put32 } from '../../src/core/bytes';
import { EINVAL, ENETUNREACH, EEXIST, EMSGSIZE } from '../../src/core/errno';
import { twoStacks, settle, EchoRec, IP_A, IP_B, addTestProto, PROTO_TEST } from './ipv4_util';

describe('ipv4 ping over a pair link', () => {
  it('pings both ways', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    const rb = new EchoRec();
    e.a.icmp.echoHandler = ra;
    e.b.icmp.echoHandler = rb;
    expect(icmpPing(e.a, IP_B, 0x77, 1, 56)).toBe(0);
    settle(e, 100);
    expect(icmpPing(e.b, IP_A, 0x88, 9, 0)).toBe(0);
    settle(e, 100);
    expect(ra.replies).toEqual([{ saddr: IP_B, ident: 0x77, seq: 1, len: 56, ttl: 64 }]);
    expect(rb.replies).toEqual([{ saddr: IP_A, ident: 0x88, seq: 9, len: 0, ttl: 64 }]);
    expect(e.b.mib.icmpB.get('InEchos')).toBe(1);
    expect(e.b.mib.icmpB.get('OutEchoReps')).toBe(1);
    expect(e.a.mib.ipB.get('InDelivers')).toBe(2);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('ping -s 4000 is fragmented both ways and reassembled', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    expect(icmpPing(e.a, IP_B, 1, 1, 4000)).toBe(0);
    settle(e, 200);
    expect(ra.replies.length).toBe(1);
    expect(ra.replies[0].len).toBe(4000);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    for (const s of [e.a, e.b]) {
      expect(s.mib.ipB.get('FragOKs')).toBe(1);
      expect(s.mib.ipB.get('FragCreates')).toBe(3);
      expect(s.mib.ipB.get('ReasmReqds')).toBe(3);
      expect(s.mib.ipB.get('ReasmOKs')).toBe(1);
      expect(s.ip.reasm.active).toBe(0);
      expect(s.pool.inUse()).toBe(0);
    }
  });

  it('near-maximum ping (60000 bytes, 41 fragments)', () => {
    const e = twoStacks({ rxRingSize: 128, txQueueLen: 128 });
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    icmpPing(e.a, IP_B, 1, 1, 8); // resolve ARP first
    settle(e, 50);
    expect(icmpPing(e.a, IP_B, 1, 2, 60000)).toBe(0);
    settle(e, 200);
    expect(ra.replies.map((r) => r.len)).toEqual([8, 60000]);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    expect(e.b.mib.ipB.get('ReasmOKs')).toBe(1);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('a ping whose datagram would exceed 65535 bytes is refused', () => {
    const e = twoStacks();
    expect(icmpPing(e.a, IP_B, 1, 1, 65535 - 27)).toBe(-EINVAL);
    expect(e.a.pool.inUse()).toBe(0);
  });

  it('pings itself and 127.0.0.1 through the loopback queue', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    const wire0 = e.link.a.txFrames;
    expect(icmpPing(e.a, IP_A, 5, 1, 32)).toBe(0);
    expect(icmpPing(e.a, parseIpU('127.0.0.1'), 5, 2, 32)).toBe(0);
    expect(icmpPing(e.a, IP_A, 5, 3, 5000)).toBe(0);
    // nothing processed inside the sender's call
    expect(ra.replies.length).toBe(0);
    settle(e, 30);
    expect(ra.replies.map((r) => [r.saddr, r.seq, r.len])).toEqual([
      [IP_A, 1, 32],
      [parseIpU('127.0.0.1'), 2, 32],
      [IP_A, 3, 5000],
    ]);
    expect(e.link.a.txFrames).toBe(wire0); // nothing went on the wire
    expect(e.a.mib.ipB.get('FragCreates')).toBe(0);
    expect(e.a.pool.inUse()).toBe(0);
  });

  it('no route: -ENETUNREACH and OutNoRoutes', () => {
    const e = twoStacks();
    expect(icmpPing(e.a, parseIpU('203.0.113.9'), 1, 1, 8)).toBe(-ENETUNREACH);
    expect(e.a.mib.ipB.get('OutNoRoutes')).toBe(1);
    expect(ipSelectSource(e.a, parseIpU('203.0.113.9'))).toBe(0);
    expect(ipSelectSource(e.a, IP_B)).toBe(IP_A);
    expect(e.a.pool.inUse()).toBe(0);
  });

  it('default gateway and static routes', () => {
    const e = twoStacks();
    const far = parseIpU('203.0.113.9');
    expect(ipRouteAdd(e.a, parseIpU('203.0.113.0'), 24, IP_B, -1)).toBe(0);
    expect(ipSelectSource(e.a, far)).toBe(IP_A);
    // B has no route back, but the datagram reaches B's link: B is not a router
    const t = addTestProto(e.b);
    const skb = e.a.pool.alloc(10);
    e.a.pool.put(skb, 10);
    expect(ipBuildAndSend(e.a, skb, 0, far, PROTO_TEST, 64, 0, false)).toBe(0);
    settle(e, 50);
    expect(t.got.length).toBe(0);
    expect(e.b.mib.ipB.get('InAddrErrors')).toBe(1);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('ifconfig parses and validates', () => {
    const e = twoStacks();
    const dev = e.link.devA;
    expect(ifconfig(e.a, dev, '192.0.2.300/24', null)).toBe(-EINVAL);
    expect(ifconfig(e.a, dev, '192.0.2.9/33', null)).toBe(-EINVAL);
    expect(ifconfig(e.a, dev, '192.0.2.9/', null)).toBe(-EINVAL);
    expect(ifconfig(e.a, dev, '192.0.2.9/24', 'x')).toBe(-EINVAL);
    expect(ifconfig(e.a, dev, '192.0.2.2/24', null)).toBe(-EEXIST);
    expect(ifconfig(e.a, dev, '198.18.0.5/16', '198.18.0.1')).toBe(0);
    expect(e.a.ifaddr.isLocal(parseIpU('198.18.0.5'))).toBe(true);
    const r = e.a.route.lookup(parseIpU('8.8.8.8'));
    expect(r).toBeGreaterThanOrEqual(0);
    expect(e.a.route.gw[r]).toBe(parseIpStrict('198.18.0.1')); // tables hold the s32 form
    expect(ipAddrAdd(e.a, 99, parseIpU('10.0.0.1'), 8)).toBeLessThan(0);
    expect(ipAddrDel(e.a, dev, parseIpU('198.18.0.5'))).toBe(0);
    expect(e.a.ifaddr.isLocal(parseIpU('198.18.0.5'))).toBe(false);
    const r2 = e.a.route.lookup(parseIpU('198.18.3.3')); // only the default is left
    expect(e.a.route.prefix[r2]).toBe(0);
    expect(e.a.route.gw[r2]).toBe(parseIpStrict('198.18.0.1'));
    settle(e, 20);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('ipSendHdrincl fills id, length, source and checksum; rejects bad headers', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const p = e.a.pool;
    const skb = p.alloc(28);
    const o = p.put(skb, 28);
    const b = p.buf[skb];
    b.fill(0, o, o + 28);
    b[o] = 0x45;
    b[o + 8] = 33;
    b[o + 9] = PROTO_TEST;
    put32(b, o + 16, IP_B);
    for (let i = 0; i < 8; i++) b[o + 20 + i] = i + 1;
    expect(ipSendHdrincl(e.a, skb)).toBe(0);
    settle(e, 50);
    expect(t.got.length).toBe(1);
    expect(t.got[0].saddr).toBe(IP_A);
    expect(t.got[0].ttl).toBe(33);
    expect(t.got[0].data).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // IHL beyond the buffer
    const bad = p.alloc(20);
    const bo = p.put(bad, 20);
    p.buf[bad].fill(0, bo, bo + 20);
    p.buf[bad][bo] = 0x46;
    put32(p.buf[bad], bo + 16, IP_B);
    expect(ipSendHdrincl(e.a, bad)).toBe(-EINVAL);
    // too short
    const s = p.alloc(10);
    p.put(s, 10);
    expect(ipSendHdrincl(e.a, s)).toBe(-EINVAL);
    // bigger than the MTU
    const big = p.alloc(2000);
    const go = p.put(big, 2000);
    p.buf[big].fill(0, go, go + 2000);
    p.buf[big][go] = 0x45;
    put32(p.buf[big], go + 16, IP_B);
    put16(p.buf[big], go + 2, 0);
    expect(ipSendHdrincl(e.a, big)).toBe(-EMSGSIZE);
    expect(p.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });
});
