import { describe, it, expect } from 'vitest';
import { ipDefragFlush } from '../../src/ipv4/ip_fragment';
import { ipBuildAndSend } from '../../src/ipv4/ip_output';
import { icmpPing } from '../../src/ipv4/icmp';
import {
  twoStacks, settle, ipFrame, inject, pattern, addTestProto, Two, MAC_A, MAC_B, IP_A, IP_B, PROTO_TEST,
} from './ipv4_util';
import { StackConfig } from '../../src/config';

/** Fragment `data` of datagram `id` at [off, off+len) from A to B. */
function frag(id: number, data: Uint8Array, off: number, len: number, mf: boolean, proto?: number): Uint8Array {
  return ipFrame({
    dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id, offset: off, mf,
    payload: data.subarray(off, off + len), proto,
  });
}

function setup(over?: Partial<StackConfig>): { e: Two; t: ReturnType<typeof addTestProto> } {
  const e = twoStacks(over);
  const t = addTestProto(e.b);
  return { e, t };
}

function done(e: Two): void {
  ipDefragFlush(e.a);
  ipDefragFlush(e.b);
  settle(e, 20);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

const ip = (e: Two, n: string): number => e.b.mib.ipB.get(n);

describe('ipv4 reassembly', () => {
  it('in order', () => {
    const { e, t } = setup();
    const d = pattern(3000, 1);
    inject(e.b, e.link.devB, frag(1, d, 0, 1480, true));
    inject(e.b, e.link.devB, frag(1, d, 1480, 1480, true));
    inject(e.b, e.link.devB, frag(1, d, 2960, 40, false));
    settle(e, 20);
    expect(t.got.length).toBe(1);
    expect(t.got[0].len).toBe(3000);
    expect(t.got[0].thOk).toBe(true);
    expect(Uint8Array.from(t.got[0].data)).toEqual(d);
    expect(ip(e, 'ReasmReqds')).toBe(3);
    expect(ip(e, 'ReasmOKs')).toBe(1);
    expect(e.b.ip.reasm.active).toBe(0);
    done(e);
  });

  it('out of order, with duplicates ignored', () => {
    const { e, t } = setup();
    const d = pattern(2000, 9);
    inject(e.b, e.link.devB, frag(7, d, 1600, 400, false));
    inject(e.b, e.link.devB, frag(7, d, 800, 800, true));
    inject(e.b, e.link.devB, frag(7, d, 800, 800, true)); // duplicate
    inject(e.b, e.link.devB, frag(7, d, 0, 800, true));
    settle(e, 20);
    expect(t.got.length).toBe(1);
    expect(Uint8Array.from(t.got[0].data)).toEqual(d);
    expect(e.b.ip.reasm.duplicates).toBe(1);
    expect(ip(e, 'ReasmOKs')).toBe(1);
    expect(ip(e, 'ReasmFails')).toBe(0);
    done(e);
  });

  it('interleaved datagrams from the same source stay apart', () => {
    const { e, t } = setup();
    const d1 = pattern(1600, 1);
    const d2 = pattern(1600, 2);
    inject(e.b, e.link.devB, frag(1, d1, 0, 800, true));
    inject(e.b, e.link.devB, frag(2, d2, 800, 800, false));
    inject(e.b, e.link.devB, frag(2, d2, 0, 800, true));
    inject(e.b, e.link.devB, frag(1, d1, 800, 800, false));
    settle(e, 20);
    expect(t.got.length).toBe(2);
    expect(Uint8Array.from(t.got[0].data)).toEqual(d2);
    expect(Uint8Array.from(t.got[1].data)).toEqual(d1);
    done(e);
  });

  it('overlapping fragments kill the datagram', () => {
    const { e, t } = setup();
    const d = pattern(2000, 3);
    inject(e.b, e.link.devB, frag(3, d, 0, 800, true));
    inject(e.b, e.link.devB, frag(3, d, 400, 800, true)); // overlaps [0,800)
    inject(e.b, e.link.devB, frag(3, d, 1200, 800, false));
    settle(e, 20);
    expect(ip(e, 'ReasmOverlaps')).toBe(1);
    expect(ip(e, 'ReasmFails')).toBeGreaterThanOrEqual(1);
    expect(t.got.length).toBe(0);
    // the tail fragment started a fresh queue that can never complete; it times out
    settle(e, e.b.cfg.reasmTimeoutMs + 100);
    expect(e.b.ip.reasm.active).toBe(0);
    expect(ip(e, 'ReasmTimeout')).toBe(1);
    // no fragment 0 in that queue: no ICMP time exceeded
    expect(e.b.mib.icmpB.get('OutTimeExcds')).toBe(0);
    done(e);
  });

  it('inconsistent last fragments are rejected', () => {
    const { e, t } = setup();
    const d = pattern(2000, 4);
    inject(e.b, e.link.devB, frag(4, d, 0, 800, true));
    inject(e.b, e.link.devB, frag(4, d, 1600, 400, false)); // says total 2000
    inject(e.b, e.link.devB, frag(4, d, 800, 800, false)); // says total 1600
    settle(e, 20);
    expect(t.got.length).toBe(0);
    expect(ip(e, 'ReasmFails')).toBe(1);
    expect(e.b.ip.reasm.active).toBe(0);
    // a non-last fragment whose length is not a multiple of 8
    inject(e.b, e.link.devB, frag(5, d, 0, 801, true));
    settle(e, 20);
    expect(ip(e, 'ReasmFails')).toBe(2);
    expect(e.b.ip.reasm.active).toBe(0);
    done(e);
  });

  it('timeout sends ICMP time exceeded (code 1) when fragment 0 arrived', () => {
    const { e, t } = setup();
    const ta = addTestProto(e.a);
    const d = pattern(2000, 5);
    inject(e.b, e.link.devB, frag(9, d, 0, 800, true));
    inject(e.b, e.link.devB, frag(9, d, 1600, 400, false));
    settle(e, 1000);
    expect(e.b.ip.reasm.active).toBe(1);
    settle(e, e.b.cfg.reasmTimeoutMs);
    expect(t.got.length).toBe(0);
    expect(ip(e, 'ReasmTimeout')).toBe(1);
    expect(ip(e, 'ReasmFails')).toBe(1);
    expect(e.b.ip.reasm.active).toBe(0);
    expect(e.b.mib.icmpB.get('OutTimeExcds')).toBe(1);
    expect(e.a.mib.icmpB.get('InTimeExcds')).toBe(1);
    expect(ta.errs).toEqual([{ type: 11, code: 1, info: 0, innerDaddr: IP_B, innerProto: PROTO_TEST }]);
    done(e);
  });

  it('datagrams over 65535 bytes are refused', () => {
    const { e, t } = setup();
    const d = pattern(1480, 6);
    inject(e.b, e.link.devB, frag(11, d, 0, 1480, true));
    // a last fragment at offset 65000 with 600 bytes: 20 + 65600 > 65535
    const tail = ipFrame({
      dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id: 11, offset: 65000, mf: false,
      payload: pattern(600, 1),
    });
    inject(e.b, e.link.devB, tail);
    settle(e, 20);
    expect(t.got.length).toBe(0);
    expect(ip(e, 'ReasmFails')).toBe(1);
    expect(e.b.ip.reasm.active).toBe(0);
    done(e);
  });

  it('slot exhaustion evicts the oldest queue', () => {
    const { e, t } = setup({ reasmSlots: 2 });
    const d = pattern(1600, 7);
    inject(e.b, e.link.devB, frag(21, d, 0, 800, true));
    settle(e, 10);
    inject(e.b, e.link.devB, frag(22, d, 0, 800, true));
    settle(e, 10);
    inject(e.b, e.link.devB, frag(23, d, 0, 800, true)); // evicts 21
    settle(e, 10);
    expect(e.b.ip.reasm.evictions).toBe(1);
    expect(ip(e, 'ReasmFails')).toBe(1);
    inject(e.b, e.link.devB, frag(22, d, 800, 800, false));
    inject(e.b, e.link.devB, frag(23, d, 800, 800, false));
    settle(e, 10);
    expect(t.got.length).toBe(2);
    expect(ip(e, 'ReasmOKs')).toBe(2);
    done(e);
  });

  it('no large skb left: fragments are dropped and counted', () => {
    const { e, t } = setup({ skbLargeCount: 1, reasmSlots: 4 });
    const d = pattern(1600, 8);
    inject(e.b, e.link.devB, frag(31, d, 0, 800, true));
    inject(e.b, e.link.devB, frag(32, d, 0, 800, true)); // no buffer for a second queue
    settle(e, 10);
    expect(ip(e, 'ReasmFails')).toBe(1);
    inject(e.b, e.link.devB, frag(31, d, 800, 800, false));
    settle(e, 10);
    expect(t.got.length).toBe(1);
    done(e);
  });

  it('reasmSlots 0 (and no large skb, as a board bundle without reassembly runs): every fragment dropped and counted, no crash', () => {
    for (const over of [{ reasmSlots: 0 }, { reasmSlots: 0, skbLargeCount: 0 }]) {
      const { e, t } = setup(over);
      const d = pattern(3000, 5);
      inject(e.b, e.link.devB, frag(51, d, 0, 1480, true));
      inject(e.b, e.link.devB, frag(51, d, 1480, 1480, true));
      inject(e.b, e.link.devB, frag(51, d, 2960, 40, false));
      settle(e, 10);
      expect(ip(e, 'ReasmReqds')).toBe(3);
      expect(ip(e, 'ReasmFails')).toBe(3);
      expect(t.got.length).toBe(0);
      done(e);
    }
  });

  it('too many fragments for one slot', () => {
    const { e, t } = setup({ reasmMaxFrags: 4 });
    const d = pattern(80, 9);
    for (let i = 0; i < 5; i++) inject(e.b, e.link.devB, frag(41, d, i * 8, 8, true));
    settle(e, 10);
    expect(ip(e, 'ReasmFails')).toBe(1);
    expect(t.got.length).toBe(0);
    done(e);
  });

  it('a locally sent large datagram is fragmented and reassembled end to end', () => {
    const { e, t } = setup();
    icmpPing(e.a, IP_B, 1, 1, 0); // resolve ARP: 7 fragments exceed the ARP queue
    settle(e, 50);
    const p = e.a.pool;
    const skb = p.alloc(9000);
    const o = p.put(skb, 9000);
    const d = pattern(9000, 11);
    for (let i = 0; i < 9000; i++) p.buf[skb][o + i] = d[i];
    expect(ipBuildAndSend(e.a, skb, 0, IP_B, PROTO_TEST, 64, 0, false)).toBe(0);
    settle(e, 50);
    expect(t.got.length).toBe(1);
    expect(Uint8Array.from(t.got[0].data)).toEqual(d);
    expect(e.a.mib.ipB.get('FragCreates')).toBe(7);
    done(e);
  });
});
