/*
 * tcp_zerowin.test.ts — retransmissions and a closing window (regressions
 * for test/scenario/tcp_repro.md R2): a retransmission is cut to the
 * peer's window (tcp_retransmit_skb), and a peer that shrank its window
 * to zero with data in flight is probed, not aborted after tcp_retries2,
 * while it keeps answering (Linux tcp_retransmit_timer).
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, sameBytes, injectA, tcpFrame } from './tcp_util';
import { tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';
import { TCPF_ACK, TCP_ESTABLISHED, TCP_CLOSE, TX_TIMEOUTS, TX_WINPROBE } from '../../src/transport/tcp/tcp';
import { ETIMEDOUT } from '../../src/core/errno';

describe('tcp retransmission and the peer window', () => {
  it('the lost window-filling segment is retransmitted within the window, then the persist timer keeps a stalled reader alive for 30 min', () => {
    const e = tcpPair(undefined, { tcpRcvBuf: 4096 });
    const k = connectPair(e, 80);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    let dropped = 0;
    // lose the first runt: the segment that fills B's last bit of window
    e.tap.rule = (s) => s.from === 'A' && s.len > 0 && s.len < smss && dropped++ === 0;
    const d = pattern(16000, 1);
    expect(tcpSend(e.a, k.c, d, 0, d.length)).toBe(16000);
    run(e, 3000, 5);
    expect(dropped).toBeGreaterThan(0);
    // nothing was ever sent past B's window edge (una + wnd, both taken from B's last ACK)
    const edge = (tp.sndUna[k.c] + tp.sndWnd[k.c]) | 0;
    expect(tp.sndWnd[k.c]).toBe(0);
    expect(tp.sndMax[k.c]).toBe(edge);
    for (const s of e.tap.segs.filter((x) => x.from === 'A' && x.len > 0)) {
      expect(((s.seq + s.len - (edge >>> 0)) | 0) <= 0).toBe(true);
    }
    // B does not read for 30 minutes: A persists
    run(e, 30 * 60000, 100);
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    expect(tp.err[k.c]).toBe(0);
    expect(tp.ext[TX_WINPROBE]).toBeGreaterThan(0);
    const out = new Uint8Array(16000);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, 16000 - got))) === 16000, 300000, 5)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });

  it('a peer that shrinks its window to zero with data in flight: probed while it answers, ETIMEDOUT once silent', () => {
    const e = tcpPair();
    const k = connectPair(e, 81);
    const tp = e.a.tcp;
    const bSeq = e.b.tcp.sndNxt[k.s];
    // from here on the wire is cut: the test plays B
    e.tap.rule = () => true;
    expect(tcpSend(e.a, k.c, pattern(3000, 2), 0, 3000)).toBe(3000);
    run(e, 5);
    const una = tp.sndUna[k.c];
    expect(tp.sndMax[k.c]).not.toBe(una);
    const zeroWin = () => injectA(e, tcpFrame({ sport: 81, dport: tp.lport[k.c], seq: bSeq, ack: una, flags: TCPF_ACK, win: 0 }));
    zeroWin();
    expect(tp.sndWnd[k.c]).toBe(0);
    // 30 minutes: "B" answers every 20 s
    for (let i = 0; i < 90; i++) {
      run(e, 20000, 100);
      zeroWin();
    }
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    expect(tp.ext[TX_TIMEOUTS]).toBeGreaterThan(e.a.cfg.tcpRetries2);
    // silence: given up once nothing was heard for tcpRtoMaxMs (plus one backed-off RTO)
    expect(runUntil(e, () => tp.state[k.c] === TCP_CLOSE, 2 * e.a.cfg.tcpRtoMaxMs + 1000, 100)).toBe(true);
    expect(tp.err[k.c]).toBe(ETIMEDOUT);
    expect(tcpClose(e.a, k.c)).toBe(0);
    e.tap.rule = null;
    expect(tcpClose(e.b, k.s)).toBe(0);
    expectClean(e);
  });
});
