/*
 * tcp_feature_wscale.test.ts — TCP with FEATURE_TCP_WSCALE off
 * (src/features.ts): the window scale option is never offered nor echoed
 * (RFC 7323 §2.2), so both shifts are 0 and every window is at most 65535
 * bytes, even with a larger receive buffer and a peer that offers a shift.
 * vi.mock replaces the features module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_WSCALE: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, injectB, tcpFrame, runUntil } from './tcp_util';
import { optKinds, SYN_OPTS_ALL } from './tcp_feature_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept } from '../../src/transport/tcp/tcp_api';
import { TCPF_SYN, TCPF_ACK, TCPOPT_WINDOW, TCPOPT_TIMESTAMP, F_WS } from '../../src/transport/tcp/tcp';

describe('FEATURE_TCP_WSCALE off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_WSCALE).toBe(false);
    expect(features.FEATURE_TCP_TIMESTAMPS).toBe(true);
  });

  it('no WSopt in our SYN or SYN-ACK; a 200 KB receive buffer is announced as 65535; transfer completes', () => {
    const e = tcpPair({ tcpRcvBuf: 200000, tcpSndBuf: 200000 });
    expect(e.a.cfg.tcpWindowScaling).toBe(true);
    const k = connectPair(e, 80);
    expect(optKinds(e.tap.with('A', TCPF_SYN)[0].opts)).not.toContain(TCPOPT_WINDOW);
    expect(optKinds(e.tap.with('B', TCPF_SYN | TCPF_ACK)[0].opts)).not.toContain(TCPOPT_WINDOW);
    for (const [st, t] of [[e.a, k.c], [e.b, k.s]] as const) {
      expect(st.tcp.flags[t] & F_WS).toBe(0);
      expect(st.tcp.rcvWscale[t]).toBe(0);
      expect(st.tcp.sndWscale[t]).toBe(0);
    }
    const d = pattern(400000, 2);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 60000), d)).toBe(true);
    const fromB = e.tap.segs.filter((s) => s.from === 'B');
    expect(Math.max(...fromB.map((s) => s.win))).toBe(65535);
    expect(e.a.tcp.maxSndWnd[k.c]).toBe(65535);
    expectClean(e);
  });

  it('a peer offering window scale 7 gets a SYN-ACK without WSopt; its window field is taken unscaled', () => {
    const e = tcpPair({ tcpRcvBuf: 200000 });
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 81)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    injectB(e, tcpFrame({ toB: true, sport: 40000, dport: 81, seq: 1000, flags: TCPF_SYN, opts: SYN_OPTS_ALL }));
    runUntil(e, () => e.tap.with('B', TCPF_SYN | TCPF_ACK).length > 0, 100);
    const sa = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    const kinds = optKinds(sa.opts);
    expect(kinds).not.toContain(TCPOPT_WINDOW);
    expect(kinds).toContain(TCPOPT_TIMESTAMP);
    expect(sa.win).toBe(65535);
    // the peer completes the handshake announcing 1000 (its shift is not in effect: RFC 7323 §2.2)
    const tsecr = sa.opts.slice(sa.opts.indexOf(TCPOPT_TIMESTAMP) + 2, sa.opts.indexOf(TCPOPT_TIMESTAMP) + 6);
    injectB(e, tcpFrame({
      toB: true, sport: 40000, dport: 81, seq: 1001, ack: (sa.seq + 1) >>> 0, flags: TCPF_ACK, win: 1000,
      opts: [1, 1, 8, 10, 0, 0, 0x03, 0xe9, ...tsecr],
    }));
    const s = tcpAccept(e.b, l);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(e.b.tcp.sndWnd[s]).toBe(1000);
    expectClean(e);
  });
});
