/*
 * tcp_opts.test.ts — MSS clamping to the device MTU, ICMP errors
 * (RFC 5927: port unreachable aborts a connection attempt, out-of-window
 * quotes are ignored, frag-needed lowers the MSS), SO_SNDBUF/SO_RCVBUF
 * limits, tcpPoll readiness and EV_WRITABLE after the send ring drains.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, run, runUntil, expectClean, injectA, icmpErrorFrame, transfer, sameBytes, pattern, IP_B,
} from './tcp_util';
import {
  tcpSocket, tcpConnect, tcpSend, tcpSetsockopt, tcpGetsockopt, tcpPoll, tcpListen, tcpBind,
  SOL_SOCKET, SOL_TCP, SO_SNDBUF, SO_RCVBUF, TCP_MAXSEG,
} from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCP_CLOSE, TCP_ESTABLISHED, TX_OUTOFWINDOWICMPS,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS, ECONNREFUSED, EAGAIN, EHOSTUNREACH, ETIMEDOUT } from '../../src/core/errno';

describe('tcp options, ICMP, buffers', () => {
  it('MSS is clamped to the device MTU - 40 on both sides', () => {
    const e = tcpPair({}, {}, 1000);
    const k = connectPair(e, 80);
    const syn = e.tap.with('A', TCPF_SYN)[0];
    expect(syn.opts.slice(0, 4)).toEqual([2, 4, 960 >> 8, 960 & 255]);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_MAXSEG)).toBe(960 - 12);
    const d = pattern(50000, 1);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 10000), d)).toBe(true);
    expect(Math.max(...e.tap.segs.map((s) => s.len))).toBe(948);
    expectClean(e);
  });

  it('ICMP port unreachable during SYN_SENT: ECONNREFUSED; a quote outside the window is ignored', () => {
    const e = tcpPair();
    e.tap.rule = (s) => s.from === 'A'; // the SYN never arrives
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    const sport = e.a.tcp.lport[c];
    const iss = e.a.tcp.iss[c];
    injectA(e, icmpErrorFrame(3, 3, 0, sport, 80, iss + 5000));
    expect(e.a.tcp.ext[TX_OUTOFWINDOWICMPS]).toBe(1);
    expect(e.a.tcp.state[c]).not.toBe(TCP_CLOSE);
    injectA(e, icmpErrorFrame(3, 3, 0, sport, 80, iss));
    expect(e.a.tcp.state[c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.err[c]).toBe(ECONNREFUSED);
    e.tap.rule = null;
    expectClean(e);
  });

  it('ICMP host unreachable is soft: reported when the connection attempt times out', () => {
    const e = tcpPair({ tcpSynRetries: 1 });
    e.tap.rule = (s) => s.from === 'A';
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    injectA(e, icmpErrorFrame(3, 1, 0, e.a.tcp.lport[c], 80, e.a.tcp.iss[c]));
    expect(e.a.tcp.state[c]).not.toBe(TCP_CLOSE);
    run(e, 3500, 10);
    expect(e.a.tcp.state[c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.err[c]).toBe(EHOSTUNREACH);
    expect(e.a.tcp.err[c]).not.toBe(ETIMEDOUT);
    e.tap.rule = null;
    expectClean(e);
  });

  it('ICMP fragmentation needed lowers the MSS and the data still arrives', () => {
    const e = tcpPair();
    const k = connectPair(e, 81);
    const tp = e.a.tcp;
    injectA(e, icmpErrorFrame(3, 4, 1200, tp.lport[k.c], 81, tp.sndUna[k.c]));
    expect(tp.smss[k.c]).toBe(1200 - 40 - 12);
    e.tap.clear();
    const d = pattern(30000, 2);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 10000), d)).toBe(true);
    expect(Math.max(...e.tap.segs.filter((s) => s.from === 'A').map((s) => s.len))).toBe(1148);
    expectClean(e);
  });

  it('SO_SNDBUF / SO_RCVBUF bounded by the rings; the receive buffer is the advertised window', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpSetsockopt(e.b, l, SOL_SOCKET, SO_RCVBUF, 4000)).toBe(0);
    expect(tcpGetsockopt(e.b, l, SOL_SOCKET, SO_RCVBUF)).toBe(4000);
    expect(tcpSetsockopt(e.b, l, SOL_SOCKET, SO_RCVBUF, 1 << 30)).toBe(0);
    expect(tcpGetsockopt(e.b, l, SOL_SOCKET, SO_RCVBUF)).toBe(e.b.cfg.tcpRcvBuf);
    expect(tcpSetsockopt(e.b, l, SOL_SOCKET, SO_RCVBUF, 4000)).toBe(0);
    expect(tcpBind(e.b, l, 0, 82)).toBe(0);
    expect(tcpListen(e.b, l, 2)).toBe(0);
    const c = tcpSocket(e.a);
    expect(tcpSetsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, 3000)).toBe(0);
    expect(tcpConnect(e.a, c, IP_B, 82)).toBe(-EINPROGRESS);
    run(e, 5);
    expect(e.a.tcp.state[c]).toBe(TCP_ESTABLISHED);
    // the SYN-ACK announced 4000 (the child inherits the listener's limit)
    const sa = e.tap.segs.find((s) => s.from === 'B' && (s.flags & TCPF_SYN) !== 0)!;
    expect(sa.win).toBe(4000);
    const d = pattern(10000, 5);
    expect(tcpSend(e.a, c, d, 0, d.length)).toBe(3000);
    expect(tcpSend(e.a, c, d, 0, d.length)).toBe(-EAGAIN);
    expect(tcpPoll(e.a, c) & 2).toBe(0);
    e.evA.ev = [];
    run(e, 100);
    expect(e.evA.any(c, 2)).toBe(true); // EV_WRITABLE once acked
    expect(tcpPoll(e.a, c) & 2).toBe(2);
    expectClean(e);
  });

  it('tcpPoll: listener readable with a pending child, socket readable with data', () => {
    const e = tcpPair();
    const k = connectPair(e, 83);
    expect(tcpPoll(e.b, k.l)).toBe(0);
    expect(tcpPoll(e.b, k.s) & 1).toBe(0);
    expect(tcpSend(e.a, k.c, pattern(10, 1), 0, 10)).toBe(10);
    expect(runUntil(e, () => (tcpPoll(e.b, k.s) & 1) !== 0, 100)).toBe(true);
    expectClean(e);
  });
});
