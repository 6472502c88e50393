import { describe, it, expect } from 'vitest';
import { parseIpU } from './addr_util';
import { twoStacks, settle, ipFrame, inject, pattern, addTestProto, Two, MAC_A, MAC_B, IP_A, IP_B, IpFrameOpts } from './ipv4_util';

function base(over: Partial<IpFrameOpts>): Uint8Array {
  const o: IpFrameOpts = { dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, payload: pattern(16, 1) };
  return ipFrame(Object.assign(o, over));
}

function finish(e: Two): void {
  settle(e, 50);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

describe('ip_rcv validation', () => {
  const cases: [string, Partial<IpFrameOpts>, string][] = [
    ['bad version', { version: 6 }, 'InHdrErrors'],
    ['IHL < 5', { ihl: 4 }, 'InHdrErrors'],
    ['IHL beyond the packet', { ihl: 15 }, 'InHdrErrors'],
    ['total length < IHL', { totLen: 12 }, 'InHdrErrors'],
    ['total length > frame', { totLen: 400 }, 'InTruncatedPkts'],
    ['bad header checksum', { badCsum: true }, 'InCsumErrors'],
    ['truncated below 20 bytes', { cutTo: 14 + 12 }, 'InHdrErrors'],
    ['broadcast source', { saddr: 0xffffffff }, 'InAddrErrors'],
    ['multicast source', { saddr: parseIpU('224.0.0.1') }, 'InAddrErrors'],
    ['directed-broadcast source', { saddr: parseIpU('192.0.2.255') }, 'InAddrErrors'],
    ['zero source to unicast', { saddr: 0 }, 'InAddrErrors'],
    ['loopback source from the wire', { saddr: parseIpU('127.0.0.1') }, 'InAddrErrors'],
    ['not for us (host, no forwarding)', { daddr: parseIpU('192.0.2.77') }, 'InAddrErrors'],
  ];
  for (const [name, over, counter] of cases) {
    it(name + ' is dropped and counted', () => {
      const e = twoStacks();
      const t = addTestProto(e.b);
      expect(inject(e.b, e.link.devB, base(over))).toBe(0);
      settle(e, 20);
      expect(e.b.mib.ipB.get(counter)).toBe(1);
      expect(e.b.mib.ipB.get('InReceives')).toBe(1);
      expect(e.b.mib.ipB.get('InDelivers')).toBe(0);
      expect(t.got.length).toBe(0);
      if (counter === 'InCsumErrors') expect(e.b.mib.ipB.get('InHdrErrors')).toBe(1);
      finish(e);
    });
  }

  it('trims Ethernet padding and delivers', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    inject(e.b, e.link.devB, base({ payload: new Uint8Array([9, 8, 7]), padTo: 60 }));
    settle(e, 20);
    expect(t.got.length).toBe(1);
    expect(t.got[0].data).toEqual([9, 8, 7]);
    expect(t.got[0].thOk).toBe(true);
    expect(e.b.mib.ipB.get('InDelivers')).toBe(1);
    finish(e);
  });

  it('accepts and skips options (RFC 1122 3.2.1.8)', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    // NOP, router alert (4 bytes), NOP, NOP, EOL pad → 8 bytes
    const opts = new Uint8Array([1, 0x94, 4, 0, 0, 1, 1, 0]);
    inject(e.b, e.link.devB, base({ options: opts, payload: new Uint8Array([1, 2, 3, 4]) }));
    settle(e, 20);
    expect(t.got.length).toBe(1);
    expect(t.got[0].data).toEqual([1, 2, 3, 4]);
    expect(t.got[0].thOk).toBe(true);
    finish(e);
  });

  it('drops source-routed datagrams', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const lsrr = new Uint8Array([0x83, 7, 4, 192, 0, 2, 9, 0]);
    inject(e.b, e.link.devB, base({ options: lsrr }));
    settle(e, 20);
    expect(t.got.length).toBe(0);
    expect(e.b.ip.srrDrops).toBe(1);
    expect(e.b.mib.ipB.get('InDiscards')).toBe(1);
    finish(e);
  });

  it('malformed options: parameter problem', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const ta = addTestProto(e.a);
    const bad = new Uint8Array([0x94, 9, 0, 0]); // length runs past the header
    inject(e.b, e.link.devB, base({ options: bad }));
    settle(e, 50);
    expect(t.got.length).toBe(0);
    expect(e.b.mib.ipB.get('InHdrErrors')).toBe(1);
    expect(e.b.mib.icmpB.get('OutParmProbs')).toBe(1);
    expect(ta.errs.length).toBe(1);
    expect(ta.errs[0].type).toBe(12);
    expect(ta.errs[0].info).toBe(21); // pointer at the bad length octet
    finish(e);
  });

  it('unknown protocol: ICMP protocol unreachable + InUnknownProtos', () => {
    const e = twoStacks();
    const ta = addTestProto(e.a);
    // B has no handler for 253
    inject(e.b, e.link.devB, base({}));
    settle(e, 50);
    expect(e.b.mib.ipB.get('InUnknownProtos')).toBe(1);
    expect(e.b.mib.icmpB.get('OutDestUnreachs')).toBe(1);
    expect(e.a.mib.icmpB.get('InDestUnreachs')).toBe(1);
    expect(ta.errs).toEqual([{ type: 3, code: 2, info: 0, innerDaddr: IP_B, innerProto: 253 }]);
    finish(e);
  });

  it('limited and directed broadcasts are delivered locally', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const bmac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    inject(e.b, e.link.devB, base({ dstMac: bmac, daddr: 0xffffffff }));
    inject(e.b, e.link.devB, base({ dstMac: bmac, daddr: parseIpU('192.0.2.255') }));
    settle(e, 20);
    expect(t.got.length).toBe(2);
    finish(e);
  });

  it('a raw taker suppresses protocol unreachable', () => {
    const e = twoStacks();
    let seen = 0;
    e.b.ip.raw = {
      deliver(skb: number, proto: number): boolean {
        const p = e.b.pool;
        if (proto === 253 && p.data[skb] - p.nh[skb] === 20) seen++;
        return true;
      },
    };
    inject(e.b, e.link.devB, base({}));
    settle(e, 50);
    expect(seen).toBe(1);
    expect(e.b.mib.ipB.get('InUnknownProtos')).toBe(0);
    expect(e.b.mib.ipB.get('InDelivers')).toBe(1);
    expect(e.b.mib.icmpB.get('OutMsgs')).toBe(0);
    e.b.ip.raw = null;
    finish(e);
  });

  it('fuzz: random garbage never throws or leaks', () => {
    const e = twoStacks();
    addTestProto(e.b);
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 8;
    };
    for (let i = 0; i < 500; i++) {
      const f = base({ payload: pattern(rnd() % 64, i), mf: rnd() % 4 === 0, offset: (rnd() % 4) * 8 });
      const n = 1 + (rnd() % 4);
      for (let k = 0; k < n; k++) {
        const at = 14 + (rnd() % (f.length - 14));
        f[at] = rnd() & 0xff;
      }
      inject(e.b, e.link.devB, f);
      if (i % 16 === 0) settle(e, 10);
    }
    settle(e, e.b.cfg.reasmTimeoutMs + 100);
    expect(e.b.mib.ipB.get('InReceives')).toBeGreaterThan(400);
    finish(e);
  });
});
