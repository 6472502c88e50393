/*
 * tcp_bulk.test.ts — bulk transfers byte-exact over the PairLink, clean
 * and under seeded random loss, with SACK (RFC 6675), without SACK
 * (NewReno, RFC 6582), without timestamps, and across the 2^32 wrap.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, lcg, run } from './tcp_util';
import { tcpClose } from '../../src/transport/tcp/tcp_api';
import {
  TCP_RETRANSSEGS, TX_NOSKB, TX_SACKRECOVERY, TX_RENORECOVERY,
} from '../../src/transport/tcp/tcp';

const MB = 1024 * 1024;

describe('tcp bulk transfer', () => {
  it('1 MB A→B clean, byte-exact', () => {
    const e = tcpPair();
    const k = connectPair(e, 5001);
    const data = pattern(MB, 11);
    const got = transfer(e, e.a, k.c, e.b, k.s, data, 60000);
    expect(got.length).toBe(MB);
    expect(sameBytes(got, data)).toBe(true);
    expect(e.a.tcp.mib[TCP_RETRANSSEGS]).toBe(0);
    expectClean(e);
  });

  for (const seed of [1, 2, 3]) {
    for (const mode of ['sack', 'nosack', 'nots']) {
      it(`1 MB under 2% loss both ways, seed ${seed}, ${mode}`, () => {
        const over = mode === 'sack' ? {} : mode === 'nosack' ? { tcpSack: false } : { tcpTimestamps: false };
        const e = tcpPair(over);
        const k = connectPair(e, 5002);
        const rnd = lcg(seed * 7919);
        e.tap.rule = () => rnd() < 0.02;
        const data = pattern(MB, seed);
        const got = transfer(e, e.a, k.c, e.b, k.s, data, 600000);
        expect(got.length).toBe(MB);
        expect(sameBytes(got, data)).toBe(true);
        const tx = e.a.tcp;
        expect(tx.mib[TCP_RETRANSSEGS]).toBeGreaterThan(0);
        if (mode === 'nosack') expect(tx.ext[TX_SACKRECOVERY]).toBe(0);
        else expect(tx.ext[TX_SACKRECOVERY]).toBeGreaterThan(0);
        if (mode === 'nosack') expect(tx.ext[TX_RENORECOVERY]).toBeGreaterThan(0);
        e.tap.rule = null;
        tcpClose(e.a, k.c);
        run(e, 1000);
        expectClean(e);
      });
    }
  }

  for (const seed of [4, 5]) {
    it(`sequence numbers across 2^32 both ways under loss (ISN forced near the wrap), seed ${seed}`, () => {
      const e = tcpPair();
      e.a.tcp.isnOverride = 0xffffffff - 3000;
      e.b.tcp.isnOverride = 0xfffffff0;
      const k = connectPair(e, 5003);
      e.a.tcp.isnOverride = -1;
      e.b.tcp.isnOverride = -1;
      expect(e.a.tcp.iss[k.c] >>> 0).toBe(0xffffffff - 3000);
      expect(e.b.tcp.iss[k.s] >>> 0).toBe(0xfffffff0);
      const rnd = lcg(seed);
      e.tap.rule = () => rnd() < 0.03;
      const d1 = pattern(300000, seed);
      const d2 = pattern(200000, seed + 100);
      expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d1, 300000), d1)).toBe(true);
      expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d2, 300000), d2)).toBe(true);
      // both directions really wrapped
      expect(e.tap.segs.some((x) => x.from === 'A' && x.seq < 100000 && x.len > 0)).toBe(true);
      expect(e.tap.segs.some((x) => x.from === 'A' && x.seq > 0xfffff000 && x.len > 0)).toBe(true);
      expect(e.tap.segs.some((x) => x.from === 'B' && x.seq < 100000 && x.len > 0)).toBe(true);
      expect(e.a.tcp.mib[TCP_RETRANSSEGS] + e.b.tcp.mib[TCP_RETRANSSEGS]).toBeGreaterThan(0);
      e.tap.rule = null;
      expectClean(e);
    });
  }

  it('bulk through a tiny skb pool: exhaustion is survived (TCPNoSkb) and the data is exact', () => {
    const e = tcpPair({ skbSmallCount: 6 });
    const k = connectPair(e, 5004);
    const data = pattern(200000, 9);
    const got = transfer(e, e.a, k.c, e.b, k.s, data, 120000);
    expect(sameBytes(got, data)).toBe(true);
    expect(e.a.pool.allocFails + e.b.pool.allocFails).toBeGreaterThan(0);
    expect(e.a.tcp.ext[TX_NOSKB] + e.b.tcp.ext[TX_NOSKB]).toBeGreaterThan(0);
    expectClean(e);
  });
});
