/*
 * tcp_feature_all.test.ts — TCP with every optional TCP switch off at once
 * (FEATURE_TCP_SACK, _RACK, _TIMESTAMPS, _WSCALE, _OOO, _SYNCOOKIES, _KEEPALIVE,
 * _PMTU; src/features.ts), the smallest TCP a board can compile: a SYN with
 * every Linux option gets a SYN-ACK carrying the MSS alone (RFC 9293
 * §3.7.1), and transfers under loss complete both ways through NewReno,
 * duplicate ACKs and retransmission timeouts. vi.mock replaces the features
 * module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_SACK: false,
  FEATURE_TCP_RACK: false,
  FEATURE_TCP_TIMESTAMPS: false,
  FEATURE_TCP_WSCALE: false,
  FEATURE_TCP_OOO: false,
  FEATURE_TCP_SYNCOOKIES: false,
  FEATURE_TCP_KEEPALIVE: false,
  FEATURE_TCP_PMTU: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, injectB, tcpFrame, runUntil, lcg } from './tcp_util';
import { optKinds, SYN_OPTS_ALL } from './tcp_feature_util';
import { tcpSocket, tcpBind, tcpListen } from '../../src/transport/tcp/tcp_api';
import { TCPF_SYN, TCPF_ACK, TCPOPT_MSS, TX_RENORECOVERY, TX_SACKRECOVERY, TX_OFODROP } from '../../src/transport/tcp/tcp';

describe('every optional TCP switch off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP).toBe(true);
    expect(features.FEATURE_TCP_SACK || features.FEATURE_TCP_OOO || features.FEATURE_TCP_PMTU).toBe(false);
  });

  it('a SYN with every Linux option gets a SYN-ACK with the MSS alone; so does our SYN', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 81)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    injectB(e, tcpFrame({ toB: true, sport: 40000, dport: 81, seq: 1000, flags: TCPF_SYN, opts: SYN_OPTS_ALL }));
    runUntil(e, () => e.tap.with('B', TCPF_SYN | TCPF_ACK).length > 0, 100);
    const sa = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    expect(sa.opts).toEqual([TCPOPT_MSS, 4, 0x05, 0xb4]);
    e.tap.clear();
    connectPair(e, 80);
    expect(e.tap.with('A', TCPF_SYN)[0].opts).toEqual([TCPOPT_MSS, 4, 0x05, 0xb4]);
    expectClean(e);
  });

  it('transfers under 3% loss complete both ways (NewReno, dup ACKs, RTO)', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    const rnd = lcg(21);
    e.tap.rule = (s) => s.len > 0 && rnd() < 0.03;
    const d = pattern(150000, 8);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 300000), d)).toBe(true);
    expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d, 300000), d)).toBe(true);
    e.tap.rule = null;
    expect(e.a.tcp.ext[TX_RENORECOVERY] + e.b.tcp.ext[TX_RENORECOVERY]).toBeGreaterThan(0);
    expect(e.a.tcp.ext[TX_SACKRECOVERY] + e.b.tcp.ext[TX_SACKRECOVERY]).toBe(0);
    expect(e.b.tcp.ext[TX_OFODROP]).toBeGreaterThan(0);
    for (const s of e.tap.segs) expect(optKinds(s.opts).filter((x) => x !== TCPOPT_MSS)).toEqual([]);
    expectClean(e);
  });
});
