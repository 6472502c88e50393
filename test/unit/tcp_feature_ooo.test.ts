/*
 * tcp_feature_ooo.test.ts — TCP with FEATURE_TCP_OOO off (src/features.ts):
 * a segment beyond RCV.NXT is dropped (TCPOFODrop) and answered at once with
 * a duplicate ACK for RCV.NXT (RFC 5681 §4.2), no SACK blocks; a transfer
 * under loss still completes. vi.mock replaces the features module as the
 * Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_OOO: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, injectB, tcpFrame, run, lcg } from './tcp_util';
import { optKinds } from './tcp_feature_util';
import {
  TCPF_ACK, TCPF_PSH, TCPF_FIN, TCPOPT_SACK, TX_OFODROP, TX_OFOQUEUE, F_SACK, TCP_ESTABLISHED,
} from '../../src/transport/tcp/tcp';

describe('FEATURE_TCP_OOO off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_OOO).toBe(false);
    expect(features.FEATURE_TCP_SACK).toBe(true);
  });

  it('a reordered segment is dropped and draws an immediate duplicate ACK without SACK blocks', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 300);
    const tb = e.b.tcp;
    expect(tb.flags[k.s] & F_SACK).not.toBe(0); // SACK negotiated: blocks would be sent if data were held
    const nxt = tb.rcvNxt[k.s];
    const ack = tb.sndNxt[k.s];
    e.tap.clear();
    const seg = (seq: number, n: number, fl: number) => tcpFrame({
      toB: true, sport: e.a.tcp.lport[k.c], dport: 80, seq, ack, flags: fl, win: 65535,
      payload: pattern(n, seq & 0xff),
    });
    injectB(e, seg(nxt + 100, 50, TCPF_ACK | TCPF_PSH));
    injectB(e, seg(nxt + 150, 50, TCPF_ACK | TCPF_PSH | TCPF_FIN)); // an out-of-order FIN is dropped too
    const acks = e.tap.segs.filter((s) => s.from === 'B' && (s.flags & TCPF_ACK) !== 0);
    expect(acks.length).toBe(2); // at once, not delayed
    for (const a of acks) {
      expect(a.ack).toBe(nxt >>> 0);
      expect(a.len).toBe(0);
      expect(optKinds(a.opts)).not.toContain(TCPOPT_SACK);
    }
    expect(tb.ext[TX_OFODROP]).toBe(2);
    expect(tb.ext[TX_OFOQUEUE]).toBe(0);
    expect(tb.rcvNxt[k.s]).toBe(nxt);
    expect(tb.rcvCount[k.s]).toBe(0);
    expect(tb.oooN[k.s]).toBe(0);
    expect(tb.state[k.s]).toBe(TCP_ESTABLISHED);
    // the hole filled in order is taken
    injectB(e, seg(nxt, 100, TCPF_ACK | TCPF_PSH));
    expect(tb.rcvNxt[k.s]).toBe((nxt + 100) | 0);
    expect(tb.rcvCount[k.s]).toBe(100);
    expectClean(e);
  });

  it('a transfer under loss completes; no SACK blocks are ever sent', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    const rnd = lcg(7);
    e.tap.rule = (s) => s.from === 'A' && s.len > 0 && rnd() < 0.04;
    const d = pattern(200000, 4);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 120000), d)).toBe(true);
    e.tap.rule = null;
    expect(e.tap.segs.some((s) => s.dropped)).toBe(true);
    expect(e.b.tcp.ext[TX_OFODROP]).toBeGreaterThan(0);
    expect(e.b.tcp.ext[TX_OFOQUEUE]).toBe(0);
    for (const s of e.tap.segs) expect(optKinds(s.opts)).not.toContain(TCPOPT_SACK);
    expectClean(e);
  });
});
