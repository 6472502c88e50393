/*
 * tcp_linger.test.ts — SO_LINGER with a timeout (l_linger > 0). close()
 * never blocks here: the data and the FIN are sent as in a graceful
 * close, and whatever the peer has not acknowledged l_linger seconds
 * later is abandoned with a RST (the TCB is freed: bounded lifetime).
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern } from './tcp_util';
import {
  tcpSend, tcpRecv, tcpClose, tcpSetsockopt, tcpGetsockopt, SOL_SOCKET, SO_LINGER,
} from '../../src/transport/tcp/tcp_api';
import {
  TCPF_RST, TCPF_FIN, TCP_FREE, TCP_FIN_WAIT1, TCP_CLOSE, TX_ABORTONLINGER,
} from '../../src/transport/tcp/tcp';
import { ECONNRESET } from '../../src/core/errno';

describe('tcp SO_LINGER with a timeout', () => {
  it('the peer stops reading: after l_linger seconds the orphan is reset and freed', () => {
    const e = tcpPair(undefined, { tcpRcvBuf: 4096 });
    const k = connectPair(e, 95);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER, 2)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER)).toBe(1);
    const d = pattern(8000, 1);
    expect(tcpSend(e.a, k.c, d, 0, d.length)).toBe(8000);
    run(e, 50); // B's window fills (nobody reads)
    e.tap.clear();
    const t0 = e.clock.now();
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    run(e, 1900);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    expect(e.tap.with('A', TCPF_RST).length).toBe(0);
    expect(runUntil(e, () => e.a.tcp.state[k.c] === TCP_FREE, 200)).toBe(true);
    expect(e.clock.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(e.a.tcp.ext[TX_ABORTONLINGER]).toBe(1);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    run(e, 5);
    expect(e.b.tcp.state[k.s]).toBe(TCP_CLOSE);
    const buf = new Uint8Array(9000);
    let got = 0;
    for (;;) {
      const r = tcpRecv(e.b, k.s, buf, got, 9000 - got);
      if (r <= 0) {
        expect(r).toBe(-ECONNRESET);
        break;
      }
      got += r;
    }
    expect(got).toBeLessThan(8000);
    expect(tcpClose(e.b, k.s)).toBe(0);
    expectClean(e);
  });

  it('a peer that takes everything in time: a normal FIN close, no RST', () => {
    const e = tcpPair();
    const k = connectPair(e, 96);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER, 1)).toBe(0);
    const d = pattern(5000, 2);
    expect(tcpSend(e.a, k.c, d, 0, d.length)).toBe(5000);
    expect(tcpClose(e.a, k.c)).toBe(0);
    const buf = new Uint8Array(6000);
    let got = 0;
    expect(runUntil(e, () => {
      const r = tcpRecv(e.b, k.s, buf, got, 6000 - got);
      if (r > 0) got += r;
      return r === 0;
    }, 1000)).toBe(true);
    expect(got).toBe(5000);
    run(e, 3000); // past the linger time: nothing happens
    expect(e.a.tcp.ext[TX_ABORTONLINGER]).toBe(0);
    expect(e.tap.with('A', TCPF_RST).length).toBe(0);
    expect(e.tap.with('A', TCPF_FIN).length).toBe(1);
    expect(tcpClose(e.b, k.s)).toBe(0);
    expectClean(e);
  });

  it('SO_LINGER -1 turns it off again', () => {
    const e = tcpPair();
    const k = connectPair(e, 97);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER, 3)).toBe(0);
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER, -1)).toBe(0);
    expect(tcpGetsockopt(e.a, k.c, SOL_SOCKET, SO_LINGER)).toBe(0);
    expect(tcpClose(e.a, k.c)).toBe(0);
    expect(tcpClose(e.b, k.s)).toBe(0);
    expectClean(e);
  });
});
