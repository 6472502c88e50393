/*
 * tcp_feature_sack.test.ts — TCP with FEATURE_TCP_SACK off (src/features.ts),
 * as a small board's Espruino bundle compiles it: SACK-permitted is never
 * offered nor echoed (RFC 2018 §2), no SACK blocks are sent, and a transfer
 * under loss completes through NewReno recovery (RFC 6582). vi.mock replaces
 * the features module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_SACK: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, injectB, tcpFrame, runUntil, lcg } from './tcp_util';
import { optKinds, SYN_OPTS_ALL } from './tcp_feature_util';
import { tcpSocket, tcpBind, tcpListen } from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_ACK, TCPOPT_SACK_PERM, TCPOPT_SACK, F_SACK, TX_RENORECOVERY, TX_SACKRECOVERY,
} from '../../src/transport/tcp/tcp';

describe('FEATURE_TCP_SACK off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_SACK).toBe(false);
    expect(features.FEATURE_TCP).toBe(true);
  });

  it('our SYN does not offer SACK-permitted, although cfg.tcpSack is true', () => {
    const e = tcpPair();
    expect(e.a.cfg.tcpSack).toBe(true);
    const k = connectPair(e, 80);
    expect(optKinds(e.tap.with('A', TCPF_SYN)[0].opts)).not.toContain(TCPOPT_SACK_PERM);
    expect(optKinds(e.tap.with('B', TCPF_SYN | TCPF_ACK)[0].opts)).not.toContain(TCPOPT_SACK_PERM);
    expect(e.a.tcp.flags[k.c] & F_SACK).toBe(0);
    expect(e.b.tcp.flags[k.s] & F_SACK).toBe(0);
    expectClean(e);
  });

  it('a SACK-offering peer (Linux SYN options) gets a SYN-ACK without SACK-permitted', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 81)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    injectB(e, tcpFrame({ toB: true, sport: 40000, dport: 81, seq: 1000, flags: TCPF_SYN, opts: SYN_OPTS_ALL }));
    runUntil(e, () => e.tap.with('B', TCPF_SYN | TCPF_ACK).length > 0, 100);
    const sa = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    expect(sa.dport).toBe(40000);
    const kinds = optKinds(sa.opts);
    expect(kinds).not.toContain(TCPOPT_SACK_PERM);
    expect(kinds).toContain(8); // timestamps still negotiated (their own switch)
    // the crafted peer never completes: the request expires
    expectClean(e);
  });

  it('a transfer under loss completes by NewReno recovery; no SACK option on the wire', () => {
    const e = tcpPair({ tcpSndBuf: 32768, tcpRcvBuf: 32768 });
    const k = connectPair(e, 80);
    const rnd = lcg(11);
    e.tap.rule = (s) => s.from === 'A' && s.len > 0 && rnd() < 0.03;
    const d = pattern(300000, 5);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 120000), d)).toBe(true);
    e.tap.rule = null;
    expect(e.tap.segs.some((s) => s.dropped)).toBe(true);
    expect(e.a.tcp.ext[TX_RENORECOVERY]).toBeGreaterThan(0);
    expect(e.a.tcp.ext[TX_SACKRECOVERY]).toBe(0);
    for (const s of e.tap.segs) expect(optKinds(s.opts)).not.toContain(TCPOPT_SACK);
    expectClean(e);
  });
});
