/*
 * tcp_state.test.ts — RFC 9293 §3.3.2 state transitions between two
 * stacks: three-way handshake, data both ways, active and passive close,
 * TIME_WAIT for 2*MSL, simultaneous open and close, half-close,
 * getsockname/getpeername, options negotiated on the SYN.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, run, runUntil, expectClean, transfer, sameBytes, pattern, IP_A, IP_B,
} from './tcp_util';
import {
  tcpSocket, tcpBind, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, tcpGetsockname,
  tcpGetpeername, tcpGetsockopt, SHUT_WR, SOL_TCP, TCP_MAXSEG,
} from '../../src/transport/tcp/tcp_api';
import {
  TCP_ESTABLISHED, TCP_SYN_SENT, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT, TCP_LAST_ACK,
  TCP_CLOSE, TCP_CLOSING, TCP_FREE, TCP_SYN_RECV, TCPF_SYN, TCPF_ACK, TCPF_FIN, F_TS, F_SACK, F_WS,
  TCP_ACTIVEOPENS, TCP_PASSIVEOPENS, TCP_CURRESTAB, TX_TW,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS, ENOTCONN, EPIPE } from '../../src/core/errno';

describe('tcp states', () => {
  it('three-way handshake negotiates MSS, window scale, SACK, timestamps', () => {
    const e = tcpPair({ tcpRcvBuf: 200000 });
    const k = connectPair(e, 80);
    const syn = e.tap.with('A', TCPF_SYN)[0];
    const synack = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    expect(syn.flags & TCPF_ACK).toBe(0);
    expect(synack.ack).toBe((syn.seq + 1) >>> 0);
    // MSS option 2,4,0x05,0xb4 = 1460 first on both SYNs
    expect(syn.opts.slice(0, 4)).toEqual([2, 4, 5, 0xb4]);
    expect(synack.opts.slice(0, 4)).toEqual([2, 4, 5, 0xb4]);
    const third = e.tap.segs.find((s) => s.from === 'A' && s.flags === TCPF_ACK)!;
    expect(third.seq).toBe((syn.seq + 1) >>> 0);
    expect(third.ack).toBe((synack.seq + 1) >>> 0);
    for (const [st, t] of [[e.a, k.c], [e.b, k.s]] as const) {
      const f = st.tcp.flags[t];
      expect(f & F_TS).not.toBe(0);
      expect(f & F_SACK).not.toBe(0);
      expect(f & F_WS).not.toBe(0);
      expect(st.tcp.rcvWscale[t]).toBe(2); // 200000 >> 2 <= 65535
      expect(st.tcp.sndWscale[t]).toBe(2);
      expect(tcpGetsockopt(st, t, SOL_TCP, TCP_MAXSEG)).toBe(1460 - 12);
    }
    expect(e.a.tcp.mib[TCP_ACTIVEOPENS]).toBe(1);
    expect(e.b.tcp.mib[TCP_PASSIVEOPENS]).toBe(1);
    expect(e.a.tcp.mib[TCP_CURRESTAB]).toBe(1);
    expect(e.evA.any(k.c, 4)).toBe(true); // EV_CONNECTED
    expect(e.evB.any(k.l, 1)).toBe(true); // listener readable
    const out = [0, 0];
    expect(tcpGetsockname(e.a, k.c, out)).toBe(0);
    expect(out[0]).toBe(IP_A);
    expect(out[1]).toBeGreaterThanOrEqual(e.a.cfg.ephemeralLow);
    const cport = out[1];
    expect(tcpGetpeername(e.a, k.c, out)).toBe(0);
    expect(out).toEqual([IP_B, 80]);
    expect(tcpGetpeername(e.b, k.s, out)).toBe(0);
    expect(out).toEqual([IP_A, cport]);
    expect(tcpGetpeername(e.b, k.l, out)).toBe(-ENOTCONN);
    // scaled windows: a large transfer must use more than 64 KB in flight
    const data = pattern(400000, 5);
    const got = transfer(e, e.a, k.c, e.b, k.s, data, 20000);
    expect(sameBytes(got, data)).toBe(true);
    expect(e.a.tcp.maxSndWnd[k.c]).toBeGreaterThan(65535);
    expectClean(e);
  });

  it('options off: no TS/SACK/WS, MSS still clamped', () => {
    const e = tcpPair({ tcpTimestamps: false, tcpSack: false, tcpWindowScaling: false });
    const k = connectPair(e, 81);
    const syn = e.tap.with('A', TCPF_SYN)[0];
    expect(syn.hlen).toBe(24);
    expect(e.a.tcp.flags[k.c] & (F_TS | F_SACK | F_WS)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_TCP, TCP_MAXSEG)).toBe(1460);
    expectClean(e);
  });

  it('data both ways, active close A (FIN_WAIT1/2, TIME_WAIT 2*MSL), passive close B (CLOSE_WAIT, LAST_ACK)', () => {
    const e = tcpPair();
    const k = connectPair(e, 82);
    const d1 = pattern(3000, 1);
    const d2 = pattern(7000, 2);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d1, 5000), d1)).toBe(true);
    expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d2, 5000), d2)).toBe(true);
    e.tap.clear();
    expect(tcpShutdown(e.a, k.c, SHUT_WR)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    expect(tcpSend(e.a, k.c, d1, 0, 10)).toBe(-EPIPE);
    run(e, 50); // B ACKs the FIN when its delayed-ACK timer fires (tcpDelAckMs; R4)
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT2);
    expect(e.b.tcp.state[k.s]).toBe(TCP_CLOSE_WAIT);
    const buf = new Uint8Array(10);
    expect(tcpRecv(e.b, k.s, buf, 0, 10)).toBe(0); // EOF
    // B can still send in CLOSE_WAIT
    expect(tcpSend(e.b, k.s, d1, 0, 100)).toBe(100);
    run(e, 5);
    expect(tcpRecv(e.a, k.c, buf, 0, 10)).toBe(10);
    expect(tcpClose(e.b, k.s)).toBe(0);
    expect(e.b.tcp.state[k.s]).toBe(TCP_LAST_ACK);
    run(e, 5);
    // B got the last ACK: its TCB is gone; A is in TIME_WAIT (TCB closed, minisock holds the tuple)
    expect(e.b.tcp.state[k.s]).toBe(TCP_FREE);
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSE);
    expect(e.a.tcp.twCount).toBe(1);
    expect(e.a.tcp.ext[TX_TW]).toBe(0);
    const fins = e.tap.segs.filter((s) => (s.flags & TCPF_FIN) !== 0);
    expect(fins.map((s) => s.from)).toEqual(['A', 'B']);
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FREE);
    run(e, 2 * e.a.cfg.tcpMslMs - 1000, 100);
    expect(e.a.tcp.twCount).toBe(1);
    run(e, 2000, 100);
    expect(e.a.tcp.twCount).toBe(0);
    expect(e.a.tcp.ext[TX_TW]).toBe(1);
    expect(e.a.tcp.mib[TCP_CURRESTAB]).toBe(0);
    expect(e.b.tcp.mib[TCP_CURRESTAB]).toBe(0);
    expectClean(e);
  });

  it('close() with the FIN after queued data; the orphan finishes the job', () => {
    const e = tcpPair();
    const k = connectPair(e, 83);
    const d = pattern(20000, 9);
    let off = 0;
    off += tcpSend(e.a, k.c, d, 0, d.length);
    expect(off).toBe(16384); // send ring size
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    const got = new Uint8Array(off);
    let n = 0;
    runUntil(e, () => {
      const r = tcpRecv(e.b, k.s, got, n, off - n);
      if (r > 0) n += r;
      return n === off;
    }, 5000);
    expect(sameBytes(got, d.subarray(0, off))).toBe(true);
    run(e, 10);
    expect(tcpRecv(e.b, k.s, got, 0, 1)).toBe(0);
    expectClean(e);
  });

  it('simultaneous open: SYN_SENT → SYN_RECV → ESTABLISHED on both sides', () => {
    const e = tcpPair({ tcpRcvBuf: 200000 });
    const a = tcpSocket(e.a);
    const b = tcpSocket(e.b);
    expect(tcpBind(e.a, a, 0, 1111)).toBe(0);
    expect(tcpBind(e.b, b, 0, 2222)).toBe(0);
    expect(tcpConnect(e.a, a, IP_B, 2222)).toBe(-EINPROGRESS);
    expect(tcpConnect(e.b, b, IP_A, 1111)).toBe(-EINPROGRESS);
    expect(e.a.tcp.state[a]).toBe(TCP_SYN_SENT);
    e.clock.advance(1);
    e.a.poll(); // B's SYN crossed ours
    expect(e.a.tcp.state[a]).toBe(TCP_SYN_RECV);
    expect(e.b.tcp.state[b]).toBe(TCP_SYN_SENT);
    e.b.poll(); // A's SYN (→ SYN_RECV) then A's SYN-ACK (→ ESTABLISHED)
    expect(e.b.tcp.state[b]).toBe(TCP_ESTABLISHED);
    expect(e.a.tcp.state[a]).toBe(TCP_SYN_RECV);
    run(e, 5);
    expect(e.a.tcp.state[a]).toBe(TCP_ESTABLISHED);
    expect(e.b.tcp.state[b]).toBe(TCP_ESTABLISHED);
    expect(e.tap.with('A', TCPF_SYN | TCPF_ACK).length).toBe(1);
    expect(e.tap.with('B', TCPF_SYN | TCPF_ACK).length).toBe(1);
    // windows in SYN segments are never scaled (RFC 7323 §2.2): 65535, not 65535 << 2
    expect(e.a.tcp.sndWscale[a]).toBe(2);
    expect(e.a.tcp.sndWnd[a]).toBeLessThanOrEqual(65535);
    expect(e.b.tcp.sndWnd[b]).toBeLessThanOrEqual(65535);
    const d = pattern(5000, 3);
    expect(sameBytes(transfer(e, e.a, a, e.b, b, d, 3000), d)).toBe(true);
    expect(sameBytes(transfer(e, e.b, b, e.a, a, d, 3000), d)).toBe(true);
    expectClean(e);
  });

  it('simultaneous close: FIN_WAIT1 → CLOSING → TIME_WAIT on both sides', () => {
    const e = tcpPair();
    const k = connectPair(e, 84);
    run(e, 100);
    expect(tcpShutdown(e.a, k.c, SHUT_WR)).toBe(0);
    expect(tcpShutdown(e.b, k.s, SHUT_WR)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    expect(e.b.tcp.state[k.s]).toBe(TCP_FIN_WAIT1);
    e.clock.advance(1);
    e.a.poll(); // B's FIN crossed ours
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSING);
    expect(e.b.tcp.state[k.s]).toBe(TCP_FIN_WAIT1);
    e.b.poll(); // A's FIN (→ CLOSING) then A's ACK of our FIN (→ TIME_WAIT)
    expect(e.b.tcp.state[k.s]).toBe(TCP_CLOSE);
    expect(e.b.tcp.twCount).toBe(1);
    run(e, 5);
    expect(e.a.tcp.twCount).toBe(1);
    expect(e.b.tcp.twCount).toBe(1);
    expect(e.a.tcp.state[k.c]).toBe(TCP_CLOSE);
    const buf = new Uint8Array(4);
    expect(tcpRecv(e.a, k.c, buf, 0, 4)).toBe(0);
    expectClean(e);
  });

  it('half-close: A shuts down writing, B keeps sending 100 KB that A reads', () => {
    const e = tcpPair();
    const k = connectPair(e, 85);
    expect(tcpShutdown(e.a, k.c, SHUT_WR)).toBe(0);
    run(e, 50); // B ACKs the FIN when its delayed-ACK timer fires (tcpDelAckMs; R4)
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT2);
    const d = pattern(100000, 4);
    expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d, 20000), d)).toBe(true);
    expect(tcpClose(e.b, k.s)).toBe(0);
    run(e, 10);
    const buf = new Uint8Array(4);
    expect(tcpRecv(e.a, k.c, buf, 0, 4)).toBe(0);
    expect(e.a.tcp.twCount).toBe(1);
    expectClean(e);
  });

  it('orphaned FIN_WAIT2 is reaped after tcpFinTimeoutMs', () => {
    const e = tcpPair({ tcpFinTimeoutMs: 5000 });
    const k = connectPair(e, 86);
    expect(tcpClose(e.a, k.c)).toBe(0);
    run(e, 50); // B ACKs the FIN when its delayed-ACK timer fires (tcpDelAckMs; R4)
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT2);
    run(e, 4900, 10);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT2);
    run(e, 200, 10);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FREE);
    expectClean(e);
  });
});
