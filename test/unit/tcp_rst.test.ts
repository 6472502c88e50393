/*
 * tcp_rst.test.ts — resets and RFC 5961 mitigations: connection refused,
 * RST exactly at RCV.NXT vs in-window (challenge ACK) vs out of window,
 * SYN in ESTABLISHED, ACK of unsent data, challenge-ACK rate limit,
 * abortive closes (unread data, SO_LINGER 0, data to a closed socket),
 * TIME_WAIT (RST ignored per RFC 1337, FIN retransmission, SYN reuse).
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, run, runUntil, expectClean, injectA, injectB, tcpFrame, pattern, IP_B, TEnv, Conn,
} from './tcp_util';
import {
  tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpSetsockopt, tcpGetsockopt, tcpAccept,
  SOL_SOCKET, SO_LINGER, SO_ERROR, tcpBind,
} from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_ACK, TCPF_RST, TCPF_FIN, TCP_ESTABLISHED, TCP_CLOSE, TCP_FREE,
  TCP_ATTEMPTFAILS, TCP_OUTRSTS, TCP_ESTABRESETS, TCP_CURRESTAB, TX_CHALLENGEACK, TX_SYNCHALLENGE,
  TX_ACKSKIPPEDCHALLENGE, TX_ACKSKIPPEDSEQ, TX_ABORTONCLOSE, TX_ABORTONLINGER, TX_ABORTONDATA, TX_TIMEWAITKILLED,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS, ECONNREFUSED, ECONNRESET, EPIPE } from '../../src/core/errno';

/** A crafted segment from B's side of connection k, injected into A. */
function fromB(e: TEnv, k: Conn, flags: number, seq: number, ack: number, payload?: Uint8Array) {
  return tcpFrame({
    sport: e.b.tcp.lport[k.s], dport: e.a.tcp.lport[k.c], seq, ack, flags, win: 16384, payload,
  });
}

describe('tcp resets', () => {
  it('connect to a closed port: RST|ACK, ECONNREFUSED', () => {
    const e = tcpPair();
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 9)).toBe(-EINPROGRESS);
    run(e, 5);
    const rst = e.tap.with('B', TCPF_RST | TCPF_ACK);
    expect(rst.length).toBe(1);
    expect(rst[0].ack).toBe((e.tap.with('A', TCPF_SYN)[0].seq + 1) >>> 0);
    expect(e.a.tcp.state[c]).toBe(TCP_CLOSE);
    expect(e.evA.any(c, 16)).toBe(true);
    expect(e.a.tcp.mib[TCP_ATTEMPTFAILS]).toBe(1);
    expect(e.b.tcp.mib[TCP_OUTRSTS]).toBe(1);
    const buf = new Uint8Array(4);
    expect(tcpRecv(e.a, c, buf, 0, 4)).toBe(-ECONNREFUSED);
    expect(tcpRecv(e.a, c, buf, 0, 4)).toBe(0);
    expect(tcpSend(e.a, c, buf, 0, 4)).toBe(-EPIPE);
    expectClean(e);
  });

  it('RST at RCV.NXT resets (ECONNRESET, EstabResets); off by one gets a challenge ACK; outside the window nothing', () => {
    const e = tcpPair();
    const k = connectPair(e, 90);
    const tp = e.a.tcp;
    const nxt = tp.rcvNxt[k.c];
    e.tap.clear();
    injectA(e, fromB(e, k, TCPF_RST, nxt + 1, 0));
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    expect(tp.ext[TX_CHALLENGEACK]).toBe(1);
    const ch = e.tap.with('A', TCPF_ACK);
    expect(ch.length).toBe(1);
    expect(ch[0].ack).toBe(nxt >>> 0);
    injectA(e, fromB(e, k, TCPF_RST, nxt + 100000, 0));
    expect(e.tap.with('A', TCPF_ACK).length).toBe(1);
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    injectA(e, fromB(e, k, TCPF_RST, nxt, 0));
    expect(tp.state[k.c]).toBe(TCP_CLOSE);
    expect(tp.mib[TCP_ESTABRESETS]).toBe(1);
    expect(tp.mib[TCP_CURRESTAB]).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_ERROR)).toBe(ECONNRESET);
    // B still thinks it is connected: its next segment draws a RST from A
    expect(tcpSend(e.b, k.s, pattern(10, 1), 0, 10)).toBe(10);
    run(e, 5);
    expect(e.b.tcp.state[k.s]).toBe(TCP_CLOSE);
    expect(e.evB.any(k.s, 16)).toBe(true);
    expectClean(e);
  });

  it('SYN in ESTABLISHED and ACK of unsent data get (rate-limited) challenge ACKs', () => {
    const e = tcpPair({ tcpChallengeAckLimit: 2 });
    const k = connectPair(e, 91);
    const tp = e.a.tcp;
    const nxt = tp.rcvNxt[k.c];
    const una = tp.sndUna[k.c];
    e.tap.clear();
    injectA(e, fromB(e, k, TCPF_SYN, nxt + 5, 0));
    expect(tp.ext[TX_SYNCHALLENGE]).toBe(1);
    expect(tp.ext[TX_CHALLENGEACK]).toBe(1);
    injectA(e, fromB(e, k, TCPF_ACK, nxt, una + 50000));
    expect(tp.ext[TX_CHALLENGEACK]).toBe(2);
    injectA(e, fromB(e, k, TCPF_ACK, nxt, una + 50000));
    injectA(e, fromB(e, k, TCPF_SYN, nxt, 0));
    expect(tp.ext[TX_CHALLENGEACK]).toBe(2);
    expect(tp.ext[TX_ACKSKIPPEDCHALLENGE]).toBe(2);
    expect(e.tap.with('A', TCPF_ACK).length).toBe(2);
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    run(e, 1100);
    injectA(e, fromB(e, k, TCPF_ACK, nxt, una + 50000));
    expect(tp.ext[TX_CHALLENGEACK]).toBe(3); // a new second
    expect(tp.sndUna[k.c]).toBe(una);
    expectClean(e);
  });

  it('close() with unread data sends RST (RFC 2525), peer sees ECONNRESET', () => {
    const e = tcpPair();
    const k = connectPair(e, 92);
    expect(tcpSend(e.b, k.s, pattern(100, 1), 0, 100)).toBe(100);
    run(e, 10);
    e.tap.clear();
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FREE);
    expect(e.a.tcp.ext[TX_ABORTONCLOSE]).toBe(1);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    run(e, 5);
    const buf = new Uint8Array(4);
    expect(tcpRecv(e.b, k.s, buf, 0, 4)).toBe(-ECONNRESET);
    expectClean(e);
  });

  it('SO_LINGER 0: abortive close', () => {
    const e = tcpPair();
    const k = connectPair(e, 93);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER, 0)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER)).toBe(1);
    e.tap.clear();
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(e.a.tcp.ext[TX_ABORTONLINGER]).toBe(1);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    expect(e.tap.with('A', TCPF_FIN).length).toBe(0);
    run(e, 5);
    expect(e.b.tcp.state[k.s]).toBe(TCP_CLOSE);
    expectClean(e);
  });

  it('data for a closed (orphaned) socket in FIN_WAIT2 is answered with RST', () => {
    const e = tcpPair();
    const k = connectPair(e, 94);
    expect(tcpClose(e.a, k.c)).toBe(0);
    run(e, 5);
    e.tap.clear();
    expect(tcpSend(e.b, k.s, pattern(100, 2), 0, 100)).toBe(100);
    run(e, 5);
    expect(e.a.tcp.ext[TX_ABORTONDATA]).toBe(1);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FREE);
    expectClean(e);
  });

  it('ACK at a listener draws a RST; an unacceptable ACK in SYN-SENT too', () => {
    const e = tcpPair();
    connectPair(e, 95);
    // to B's listener port from an unknown 4-tuple
    e.tap.clear();
    injectB(e, tcpFrame({ toB: true, sport: 4444, dport: 95, seq: 1, ack: 777, flags: TCPF_ACK }));
    const rst = e.tap.with('B', TCPF_RST);
    expect(rst.length).toBe(1);
    expect(rst[0].seq).toBe(777);
    expect(e.b.tcp.rqCount).toBe(0);
    // SYN-SENT: a SYN-ACK acknowledging something we never sent → RST, connection attempt continues
    const c2 = tcpSocket(e.a);
    expect(tcpConnect(e.a, c2, IP_B, 7777)).toBe(-EINPROGRESS); // B's RST will come on the next poll
    const ap = e.a.tcp.lport[c2];
    e.tap.clear();
    injectA(e, tcpFrame({ sport: 7777, dport: ap, seq: 5, ack: e.a.tcp.iss[c2] + 10, flags: TCPF_SYN | TCPF_ACK }));
    const r2 = e.tap.with('A', TCPF_RST);
    expect(r2.length).toBe(1);
    expect(r2[0].seq).toBe((e.a.tcp.iss[c2] + 10) >>> 0);
    expectClean(e);
  });

  it('TIME_WAIT: RST ignored (RFC 1337), FIN retransmission re-ACKed, new SYN reuses the tuple', () => {
    const e = tcpPair();
    const k = connectPair(e, 96);
    const aport = e.a.tcp.lport[k.c];
    // B closes first so B ends in TIME_WAIT
    expect(tcpClose(e.b, k.s)).toBe(0);
    run(e, 5);
    expect(tcpClose(e.a, k.c)).toBe(0);
    run(e, 5);
    const tb = e.b.tcp;
    expect(tb.twCount).toBe(1);
    const w = 0;
    const finA = e.tap.with('A', TCPF_FIN)[0];
    e.tap.clear();
    // RST at B's TIME_WAIT: ignored, no answer
    const toB = (flags: number, seq: number, ack: number) => {
      injectB(e, tcpFrame({ toB: true, sport: aport, dport: 96, seq, ack, flags }));
    };
    toB(TCPF_RST, finA.seq + 1, 0);
    expect(tb.twCount).toBe(1);
    expect(e.tap.segs.length).toBe(0);
    // the FIN again: ACKed
    toB(TCPF_FIN | TCPF_ACK, finA.seq, finA.ack);
    expect(e.tap.with('B', TCPF_ACK).length).toBe(1);
    expect(e.tap.with('B', TCPF_ACK)[0].ack).toBe((finA.seq + 1) >>> 0);
    expect(tb.twUsed[w] + tb.twUsed[1]).toBe(1);
    // a new connection from the same port: A's SYN with a higher sequence number reuses the TIME_WAIT tuple
    const l2 = k.l;
    const c2 = tcpSocket(e.a);
    expect(tcpBind(e.a, c2, 0, aport)).toBe(0);
    e.a.tcp.isnOverride = (finA.seq + 100000) >>> 0;
    expect(tcpConnect(e.a, c2, IP_B, 96)).toBe(-EINPROGRESS);
    e.a.tcp.isnOverride = -1;
    expect(runUntil(e, () => tcpAccept(e.b, l2) >= 0, 100)).toBe(true);
    expect(tb.ext[TX_TIMEWAITKILLED]).toBe(1);
    expect(tb.twCount).toBe(0);
    expect(e.a.tcp.state[c2]).toBe(TCP_ESTABLISHED);
    expectClean(e);
  });

  it('no ACK war: two ends desynchronized by injected data exchange a bounded number of ACKs', () => {
    const e = tcpPair();
    const k = connectPair(e, 97);
    run(e, 100);
    const junk = pattern(100, 9);
    // blind in-window data into both ends: each now expects bytes the other never sent
    injectA(e, fromB(e, k, TCPF_ACK, e.a.tcp.rcvNxt[k.c], e.a.tcp.sndUna[k.c], junk));
    injectB(e, tcpFrame({
      toB: true, sport: e.a.tcp.lport[k.c], dport: 97, seq: e.b.tcp.rcvNxt[k.s], ack: e.b.tcp.sndUna[k.s],
      flags: TCPF_ACK, payload: junk,
    }));
    e.tap.clear();
    run(e, 2000);
    // without rate limits this ping-pongs every poll (~2000 segments per side)
    expect(e.tap.segs.length).toBeGreaterThan(0);
    expect(e.tap.segs.length).toBeLessThan(40);
    expect(e.a.tcp.ext[TX_ACKSKIPPEDSEQ] + e.b.tcp.ext[TX_ACKSKIPPEDSEQ] + e.a.tcp.ext[TX_ACKSKIPPEDCHALLENGE] +
      e.b.tcp.ext[TX_ACKSKIPPEDCHALLENGE]).toBeGreaterThan(0);
    expectClean(e);
  });
});
