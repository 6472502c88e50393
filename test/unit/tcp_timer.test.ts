/*
 * tcp_timer.test.ts — the TCP timers in virtual time: retransmission with
 * exponential backoff (RFC 6298 §5), giving up (tcp_retries2, SYN
 * retries, TCP_USER_TIMEOUT), zero window and the persist timer
 * (RFC 9293 §3.8.6.1), keepalive (RFC 1122 §4.2.3.6), delayed ACK, Nagle.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, run, runUntil, expectClean, sameBytes, pattern, IP_B, Seg,
} from './tcp_util';
import {
  tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpSetsockopt, tcpGetsockopt,
  SOL_SOCKET, SOL_TCP, SO_KEEPALIVE, SO_ERROR, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_NODELAY,
  TCP_USER_TIMEOUT,
} from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_ACK, TCPF_RST, TCP_ESTABLISHED, TCP_CLOSE, TCP_RETRANSSEGS,
  TCP_ATTEMPTFAILS, TX_TIMEOUTS, TX_WINPROBE, TX_KEEPALIVE, TX_DELAYEDACKS, TX_TOZEROWINDOWADV,
  TX_ABORTONTIMEOUT, TX_SYNRETRANS, TX_ACKSKIPPEDSEQ,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS, ETIMEDOUT } from '../../src/core/errno';

function gaps(s: Seg[]): number[] {
  const g: number[] = [];
  for (let i = 1; i < s.length; i++) g.push(s[i].at - s[i - 1].at);
  return g;
}

describe('tcp timers', () => {
  it('retransmission timer backs off exponentially and resets after an ACK', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    expect(tp.rto[k.c]).toBe(e.a.cfg.tcpRtoMinMs); // tiny RTT on the pair link
    e.tap.clear();
    e.tap.rule = (s) => s.from === 'A' && s.len > 0;
    expect(tcpSend(e.a, k.c, pattern(100, 1), 0, 100)).toBe(100);
    run(e, 200 + 400 + 800 + 1600 + 50, 5);
    const tx = e.tap.segs.filter((s) => s.from === 'A' && s.len > 0);
    expect(tx.length).toBe(5);
    const g = gaps(tx);
    const want = [200, 400, 800, 1600];
    for (let i = 0; i < 4; i++) {
      expect(g[i]).toBeGreaterThanOrEqual(want[i]);
      expect(g[i]).toBeLessThanOrEqual(want[i] + 15);
    }
    expect(tp.ext[TX_TIMEOUTS]).toBe(4);
    expect(tp.mib[TCP_RETRANSSEGS]).toBe(4);
    expect(tp.backoff[k.c]).toBe(4);
    e.tap.rule = null;
    const buf = new Uint8Array(200);
    expect(runUntil(e, () => tcpRecv(e.b, k.s, buf, 0, 200) === 100, 4000)).toBe(true);
    run(e, 50);
    expect(tp.backoff[k.c]).toBe(0);
    expect(tp.sndUna[k.c]).toBe(tp.sndMax[k.c]);
    expectClean(e);
  });

  it('gives up after tcp_retries2 retransmissions: ETIMEDOUT', () => {
    const e = tcpPair({ tcpRetries2: 3 });
    const k = connectPair(e, 81);
    e.link.a.carrier = false;
    expect(tcpSend(e.a, k.c, pattern(10, 1), 0, 10)).toBe(10);
    run(e, 200 + 400 + 800 + 1600 + 100, 10);
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.ext[TX_ABORTONTIMEOUT]).toBe(1);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_ERROR)).toBe(ETIMEDOUT);
    expect(e.evA.any(k.c, 16)).toBe(true);
    e.link.a.carrier = true;
    expectClean(e);
  });

  it('TCP_USER_TIMEOUT aborts sooner than tcp_retries2', () => {
    const e = tcpPair();
    const k = connectPair(e, 82);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_USER_TIMEOUT, 1000)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_USER_TIMEOUT)).toBe(1000);
    e.link.a.carrier = false;
    expect(tcpSend(e.a, k.c, pattern(10, 1), 0, 10)).toBe(10);
    run(e, 2000, 10);
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.err[k.c]).toBe(ETIMEDOUT);
    e.link.a.carrier = true;
    expectClean(e);
  });

  it('SYN retries back off (1, 2, 4 s) and the connect fails with ETIMEDOUT', () => {
    const e = tcpPair({ tcpSynRetries: 3 });
    e.tap.rule = () => true;
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    run(e, 1000 + 2000 + 4000 + 8000 + 100, 10);
    const syns = e.tap.with('A', TCPF_SYN);
    expect(syns.length).toBe(4);
    const g = gaps(syns);
    expect(g[0]).toBeGreaterThanOrEqual(1000);
    expect(g[0]).toBeLessThanOrEqual(1010);
    expect(g[1]).toBeGreaterThanOrEqual(2000);
    expect(g[2]).toBeGreaterThanOrEqual(4000);
    expect(syns.every((s) => s.seq === syns[0].seq)).toBe(true);
    expect(e.a.tcp.state[c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.err[c]).toBe(ETIMEDOUT);
    expect(e.a.tcp.mib[TCP_ATTEMPTFAILS]).toBe(1);
    expect(e.a.tcp.ext[TX_SYNRETRANS]).toBe(3);
    e.tap.rule = null;
    expectClean(e);
  });

  it('zero window: persist probes back off; reading reopens the window; a lost update is recovered by a probe', () => {
    const e = tcpPair();
    const k = connectPair(e, 83);
    const data = pattern(60000, 7);
    let off = 0;
    for (let i = 0; i < 300; i++) {
      const r = tcpSend(e.a, k.c, data, off, data.length - off);
      if (r > 0) off += r;
      run(e, 1);
    }
    const tb = e.b.tcp;
    expect(tb.rcvCount[k.s]).toBe(16384); // B's ring full, nothing read
    expect(tb.ext[TX_TOZEROWINDOWADV]).toBeGreaterThan(0);
    expect(e.a.tcp.sndWnd[k.c]).toBe(0);
    e.tap.clear();
    run(e, 200 + 400 + 800 + 1600 + 50, 5);
    const probes = e.tap.segs.filter((s) => s.from === 'A' && s.len === 0 && s.flags === TCPF_ACK);
    expect(probes.length).toBe(4);
    // window probes carry SEG.SEQ = SND.UNA - 1 so the receiver must answer
    expect(probes[0].seq).toBe((e.a.tcp.sndUna[k.c] - 1) >>> 0);
    const g = gaps(probes);
    expect(g[1]).toBeGreaterThanOrEqual(2 * g[0] - 10);
    expect(g[2]).toBeGreaterThanOrEqual(2 * g[1] - 10);
    expect(e.a.tcp.ext[TX_WINPROBE]).toBe(4);
    // answered, except a probe within 500 ms of the previous answer (tcp_oow_rate_limited)
    expect(e.tap.segs.filter((s) => s.from === 'B').length).toBe(3);
    expect(e.b.tcp.ext[TX_ACKSKIPPEDSEQ]).toBe(1);
    // drop B's window update: the next probe finds the open window
    e.tap.rule = (s) => s.from === 'B' && s.win > 0;
    const got = new Uint8Array(data.length);
    let n = tcpRecv(e.b, k.s, got, 0, data.length);
    expect(n).toBe(16384);
    e.tap.rule = null;
    const t0 = e.clock.now();
    for (let i = 0; i < 20000 && n < data.length; i++) {
      if (off < data.length) {
        const r = tcpSend(e.a, k.c, data, off, data.length - off);
        if (r > 0) off += r;
      }
      const r = tcpRecv(e.b, k.s, got, n, data.length - n);
      if (r > 0) n += r;
      run(e, 1);
    }
    expect(n).toBe(data.length);
    expect(sameBytes(got, data)).toBe(true);
    expect(e.clock.now() - t0).toBeGreaterThan(1000); // waited for the backed-off probe
    expectClean(e);
  });

  it('keepalive: probes after idle, answered; then the peer vanishes → ETIMEDOUT', () => {
    const e = tcpPair();
    const k = connectPair(e, 84);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_KEEPIDLE, 10)).toBe(0);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_KEEPINTVL, 2)).toBe(0);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_KEEPCNT, 3)).toBe(0);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_KEEPALIVE, 1)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_KEEPALIVE)).toBe(1);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_KEEPIDLE)).toBe(10);
    e.tap.clear();
    run(e, 9900, 100);
    expect(e.tap.segs.length).toBe(0);
    run(e, 200, 10);
    const p1 = e.tap.with('A', TCPF_ACK);
    expect(p1.length).toBe(1);
    expect(p1[0].seq).toBe((e.a.tcp.sndUna[k.c] - 1) >>> 0);
    expect(e.tap.with('B', TCPF_ACK).length).toBe(1); // answered
    expect(e.a.tcp.ext[TX_KEEPALIVE]).toBe(1);
    // idle again for 10 s → another probe, still fine
    run(e, 10100, 100);
    expect(e.a.tcp.ext[TX_KEEPALIVE]).toBe(2);
    expect(e.a.tcp.state[k.c]).toBe(TCP_ESTABLISHED);
    // cut the wire: 3 unanswered probes 2 s apart, then reset + ETIMEDOUT
    e.tap.rule = () => true;
    run(e, 10000 + 3 * 2000 + 500, 100);
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.err[k.c]).toBe(ETIMEDOUT);
    expect(e.a.tcp.ext[TX_KEEPALIVE]).toBe(2 + 3);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    e.tap.rule = null;
    expectClean(e);
  });

  it('delayed ACK: one segment is ACKed after tcpDelAckMs, two full segments at once', () => {
    const e = tcpPair();
    const k = connectPair(e, 85);
    run(e, 100);
    e.tap.clear();
    expect(tcpSend(e.a, k.c, pattern(100, 1), 0, 100)).toBe(100);
    run(e, 100);
    const acks = e.tap.with('B', TCPF_ACK);
    expect(acks.length).toBe(1);
    const sent = e.tap.with('A', TCPF_ACK)[0];
    expect(acks[0].at - sent.at).toBeGreaterThanOrEqual(e.b.cfg.tcpDelAckMs);
    expect(acks[0].at - sent.at).toBeLessThanOrEqual(e.b.cfg.tcpDelAckMs + 10);
    expect(e.b.tcp.ext[TX_DELAYEDACKS]).toBe(1);
    e.tap.clear();
    const mss = e.a.tcp.smss[k.c];
    expect(tcpSend(e.a, k.c, pattern(2 * mss, 2), 0, 2 * mss)).toBe(2 * mss);
    run(e, 3);
    const a2 = e.tap.with('B', TCPF_ACK);
    expect(a2.length).toBe(1);
    expect(a2[0].at - e.tap.segs[0].at).toBeLessThan(3);
    expect(e.b.tcp.ext[TX_DELAYEDACKS]).toBe(1);
    expectClean(e);
  });

  it('Nagle holds a second small segment until the ACK; TCP_NODELAY sends it at once', () => {
    const e = tcpPair({ tcpDelAckMs: 100 });
    const k = connectPair(e, 86);
    run(e, 200);
    const d = pattern(10, 3);
    e.tap.clear();
    expect(tcpSend(e.a, k.c, d, 0, 10)).toBe(10);
    expect(tcpSend(e.a, k.c, d, 0, 10)).toBe(10);
    run(e, 50);
    expect(e.tap.segs.filter((s) => s.from === 'A' && s.len > 0).length).toBe(1);
    run(e, 100);
    expect(e.tap.segs.filter((s) => s.from === 'A' && s.len > 0).length).toBe(2);
    run(e, 300);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_NODELAY, 1)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_NODELAY)).toBe(1);
    e.tap.clear();
    expect(tcpSend(e.a, k.c, d, 0, 10)).toBe(10);
    expect(tcpSend(e.a, k.c, d, 0, 10)).toBe(10);
    expect(e.tap.segs.filter((s) => s.from === 'A' && s.len > 0).length).toBe(2);
    expectClean(e);
  });
});
