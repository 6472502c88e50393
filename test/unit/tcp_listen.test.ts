/*
 * tcp_listen.test.ts — passive open: listen backlog (accept queue
 * overflow drops the SYN and the client's retransmission gets in later),
 * SYN queue full (dropped and counted, no cookies), SYN-ACK
 * retransmission with backoff and expiry, RST to a request sock,
 * listener close resetting unaccepted children, bind errors.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, run, runUntil, expectClean, injectB, tcpFrame, IP_A, IP_B } from './tcp_util';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpClose, tcpRecv,
} from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_ACK, TCPF_RST, TCP_ESTABLISHED, TCP_CLOSE, TX_LISTENOVERFLOWS, TX_LISTENDROPS,
  TX_REQQFULLDROP, TX_EMBRYONICRSTS, TCP_PASSIVEOPENS,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS, EAGAIN, EADDRINUSE, EADDRNOTAVAIL, ECONNRESET, EINVAL } from '../../src/core/errno';

describe('tcp listen', () => {
  it('backlog 1: the second SYN is dropped until accept makes room', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 80)).toBe(0);
    expect(tcpListen(e.b, l, 1)).toBe(0);
    expect(tcpAccept(e.b, l)).toBe(-EAGAIN);
    const c1 = tcpSocket(e.a);
    const c2 = tcpSocket(e.a);
    expect(tcpConnect(e.a, c1, IP_B, 80)).toBe(-EINPROGRESS);
    run(e, 5);
    expect(e.a.tcp.state[c1]).toBe(TCP_ESTABLISHED);
    expect(tcpConnect(e.a, c2, IP_B, 80)).toBe(-EINPROGRESS);
    run(e, 5);
    expect(e.b.tcp.ext[TX_LISTENOVERFLOWS]).toBe(1);
    expect(e.b.tcp.ext[TX_LISTENDROPS]).toBe(1);
    expect(e.a.tcp.state[c2]).not.toBe(TCP_ESTABLISHED);
    const s1 = tcpAccept(e.b, l);
    expect(s1).toBeGreaterThanOrEqual(0);
    // the client's SYN retransmission (after the 1 s initial RTO) now gets in
    expect(runUntil(e, () => e.a.tcp.state[c2] === TCP_ESTABLISHED, 1500)).toBe(true);
    const s2 = tcpAccept(e.b, l);
    expect(s2).toBeGreaterThanOrEqual(0);
    expect(e.b.tcp.mib[TCP_PASSIVEOPENS]).toBe(2);
    expectClean(e);
  });

  it('SYN queue full: dropped and counted; SYN-ACKs retransmitted with backoff, then expired', () => {
    const e = tcpPair({ tcpSynQueue: 2, tcpSynAckRetries: 3, tcpSyncookies: false });
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 81)).toBe(0);
    expect(tcpListen(e.b, l, 8)).toBe(0);
    const t0 = e.clock.now();
    for (let i = 0; i < 3; i++) {
      injectB(e, tcpFrame({ toB: true, sport: 3000 + i, dport: 81, seq: 1000 * i, flags: TCPF_SYN, opts: [2, 4, 5, 0xb4] }));
    }
    expect(e.b.tcp.rqCount).toBe(2);
    expect(e.b.tcp.ext[TX_REQQFULLDROP]).toBe(1);
    expect(e.b.tcp.ext[TX_LISTENDROPS]).toBe(1);
    // the stray SYN-ACKs reach A, which has no such connection and resets them (A's RSTs are lost here)
    e.tap.rule = (s) => s.from === 'A';
    run(e, 20000, 10);
    const synacks = e.tap.with('B', TCPF_SYN | TCPF_ACK).filter((s) => s.dport === 3000);
    expect(synacks.length).toBe(4); // first + 3 retries
    const gaps = [];
    for (let i = 1; i < synacks.length; i++) gaps.push(synacks[i].at - synacks[i - 1].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[0]).toBeLessThan(1100);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeGreaterThanOrEqual(4000);
    expect(synacks[0].at - t0).toBeLessThan(5);
    expect(e.b.tcp.rqCount).toBe(0);
    e.tap.rule = null;
    expectClean(e);
  });

  it('RST for a request sock removes it (EmbryonicRsts); bad ACK for a request sock draws a RST', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 82)).toBe(0);
    expect(tcpListen(e.b, l, 8)).toBe(0);
    e.tap.rule = (s) => s.from === 'A'; // A would reset the stray SYN-ACK
    injectB(e, tcpFrame({ toB: true, sport: 3333, dport: 82, seq: 5000, flags: TCPF_SYN }));
    expect(e.b.tcp.rqCount).toBe(1);
    const sa = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    expect(sa.ack).toBe(5001);
    injectB(e, tcpFrame({ toB: true, sport: 3333, dport: 82, seq: 5001, ack: sa.seq + 7, flags: TCPF_ACK }));
    const r = e.tap.with('B', TCPF_RST);
    expect(r.length).toBe(1);
    expect(r[0].seq).toBe((sa.seq + 7) >>> 0);
    expect(e.b.tcp.rqCount).toBe(1);
    injectB(e, tcpFrame({ toB: true, sport: 3333, dport: 82, seq: 5001, flags: TCPF_RST }));
    expect(e.b.tcp.rqCount).toBe(0);
    expect(e.b.tcp.ext[TX_EMBRYONICRSTS]).toBe(1);
    e.tap.rule = null;
    expectClean(e);
  });

  it('closing a listener resets the children it never accepted', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 83)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 83)).toBe(-EINPROGRESS);
    run(e, 5);
    expect(e.a.tcp.state[c]).toBe(TCP_ESTABLISHED);
    expect(e.b.tcp.inUse()).toBe(2);
    expect(tcpClose(e.b, l)).toBe(0);
    expect(e.b.tcp.inUse()).toBe(0);
    run(e, 5);
    expect(e.a.tcp.state[c]).toBe(TCP_CLOSE);
    const buf = new Uint8Array(1);
    expect(tcpRecv(e.a, c, buf, 0, 1)).toBe(-ECONNRESET);
    expectClean(e);
  });

  it('bind and listen errors', () => {
    const e = tcpPair();
    const a = tcpSocket(e.b);
    const b = tcpSocket(e.b);
    expect(tcpBind(e.b, a, 0, 84)).toBe(0);
    expect(tcpBind(e.b, b, 0, 84)).toBe(-EADDRINUSE);
    expect(tcpBind(e.b, b, IP_B, 84)).toBe(-EADDRINUSE);
    expect(tcpBind(e.b, b, IP_A, 85)).toBe(-EADDRNOTAVAIL); // not ours
    expect(tcpBind(e.b, b, IP_B, 85)).toBe(0);
    expect(tcpBind(e.b, b, IP_B, 86)).toBe(-EINVAL); // already bound
    expect(tcpListen(e.b, a, 1000)).toBe(0);
    expect(e.b.tcp.backlog[a]).toBe(e.b.cfg.tcpAcceptQueue);
    expect(tcpConnect(e.b, a, IP_A, 80)).toBe(-EINVAL);
    // ephemeral bind
    const c = tcpSocket(e.b);
    expect(tcpBind(e.b, c, 0, 0)).toBe(0);
    expect(e.b.tcp.lport[c]).toBeGreaterThanOrEqual(e.b.cfg.ephemeralLow);
    // table full
    const n = e.b.tcp.n - e.b.tcp.inUse();
    for (let i = 0; i < n; i++) expect(tcpSocket(e.b)).toBeGreaterThanOrEqual(0);
    expect(tcpSocket(e.b)).toBeLessThan(0);
    expectClean(e);
  });
});
