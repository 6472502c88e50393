/*
 * tcp_smoke.test.ts — the shortest end-to-end check: handshake, 5000 bytes
 * A→B byte-exact through the real IP layer and PairLink, EAGAIN when
 * drained, close, EOF, everything freed.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, run, runUntil, expectClean, IP_B, pattern } from './tcp_util';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose,
} from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { EINPROGRESS, EAGAIN } from '../../src/core/errno';

describe('tcp smoke', () => {
  it('handshake + data', () => {
    const e = tcpPair();
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 80)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    let s = -1;
    expect(runUntil(e, () => (s = tcpAccept(e.b, l)) >= 0, 1000)).toBe(true);
    expect(e.a.tcp.state[c]).toBe(TCP_ESTABLISHED);
    const data = pattern(5000, 3);
    expect(tcpSend(e.a, c, data, 0, data.length)).toBe(5000);
    const got = new Uint8Array(6000);
    let n = 0;
    runUntil(e, () => { const r = tcpRecv(e.b, s, got, n, 6000 - n); if (r > 0) n += r; return n >= 5000; }, 2000);
    expect(n).toBe(5000);
    expect(Buffer.from(got.subarray(0, 5000)).equals(Buffer.from(data))).toBe(true);
    expect(tcpRecv(e.b, s, got, 0, 10)).toBe(-EAGAIN);
    tcpClose(e.a, c);
    run(e, 100);
    expect(tcpRecv(e.b, s, got, 0, 10)).toBe(0);
    tcpClose(e.b, s);
    tcpClose(e.b, l);
    run(e, 100);
    expectClean(e);
  });
});
