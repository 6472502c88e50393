/*
 * tcp_feature_timestamps.test.ts — TCP with FEATURE_TCP_TIMESTAMPS off
 * (src/features.ts): TSopt is never offered nor echoed (RFC 7323 §3.2), the
 * full MSS carries payload, and the RTT comes from one timed segment at a
 * time (RFC 6298 §3, Karn). vi.mock replaces the features module as the
 * Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_TIMESTAMPS: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, injectB, tcpFrame, runUntil, lcg } from './tcp_util';
import { optKinds, SYN_OPTS_ALL } from './tcp_feature_util';
import { tcpSocket, tcpBind, tcpListen, tcpGetsockopt, SOL_TCP, TCP_MAXSEG } from '../../src/transport/tcp/tcp_api';
import { TCPF_SYN, TCPF_ACK, TCPOPT_TIMESTAMP, TCPOPT_SACK_PERM, F_TS, F_SACK } from '../../src/transport/tcp/tcp';

describe('FEATURE_TCP_TIMESTAMPS off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_TIMESTAMPS).toBe(false);
    expect(features.FEATURE_TCP_SACK).toBe(true);
  });

  it('no TSopt in our SYN or SYN-ACK, although cfg.tcpTimestamps is true; the whole MSS is payload', () => {
    const e = tcpPair();
    expect(e.a.cfg.tcpTimestamps).toBe(true);
    const k = connectPair(e, 80);
    const syn = optKinds(e.tap.with('A', TCPF_SYN)[0].opts);
    expect(syn).not.toContain(TCPOPT_TIMESTAMP);
    expect(syn).toContain(TCPOPT_SACK_PERM); // SACK-permitted stands alone (NOP NOP SACK_PERM)
    expect(optKinds(e.tap.with('B', TCPF_SYN | TCPF_ACK)[0].opts)).not.toContain(TCPOPT_TIMESTAMP);
    expect(e.a.tcp.flags[k.c] & F_TS).toBe(0);
    expect(e.a.tcp.flags[k.c] & F_SACK).not.toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_MAXSEG)).toBe(1460);
    expectClean(e);
  });

  it('a peer offering timestamps (Linux SYN options) gets a SYN-ACK without TSopt', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 81)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    injectB(e, tcpFrame({ toB: true, sport: 40000, dport: 81, seq: 1000, flags: TCPF_SYN, opts: SYN_OPTS_ALL }));
    runUntil(e, () => e.tap.with('B', TCPF_SYN | TCPF_ACK).length > 0, 100);
    const kinds = optKinds(e.tap.with('B', TCPF_SYN | TCPF_ACK)[0].opts);
    expect(kinds).not.toContain(TCPOPT_TIMESTAMP);
    expect(kinds).toContain(TCPOPT_SACK_PERM);
    expect(kinds).toContain(3); // window scale: its own switch
    expectClean(e);
  });

  it('a transfer under loss completes with no TSopt on the wire; the RTT is sampled (RFC 6298)', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    const rnd = lcg(3);
    e.tap.rule = (s) => s.len > 0 && rnd() < 0.05;
    const d = pattern(200000, 9);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 120000), d)).toBe(true);
    e.tap.rule = null;
    expect(e.tap.segs.some((s) => s.dropped)).toBe(true);
    for (const s of e.tap.segs) expect(optKinds(s.opts)).not.toContain(TCPOPT_TIMESTAMP);
    expect(e.a.tcp.srtt8[k.c]).toBeGreaterThan(0);
    expect(Math.max(...e.tap.segs.map((s) => s.len))).toBe(1460);
    expectClean(e);
  });
});
