/*
 * tcp_feature_keepalive.test.ts — TCP with FEATURE_TCP_KEEPALIVE off
 * (src/features.ts): SO_KEEPALIVE on a stream socket and TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT are -ENOPROTOOPT, and an idle connection never
 * sends a probe (RFC 1122 §4.2.3.6: keep-alives are optional); the FIN_WAIT2
 * timeout on the same timer still works. vi.mock replaces the features
 * module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_KEEPALIVE: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, run, expectClean } from './tcp_util';
import {
  tcpSetsockopt, tcpGetsockopt, tcpClose, tcpShutdown, SOL_SOCKET, SOL_TCP, SO_KEEPALIVE, TCP_KEEPIDLE,
  TCP_KEEPINTVL, TCP_KEEPCNT, TCP_NODELAY,
} from '../../src/transport/tcp/tcp_api';
import { socket, setsockopt, getsockopt, close, SOCK_STREAM, SOCK_DGRAM } from '../../src/socket/socket';
import { TCP_ESTABLISHED, TCP_FIN_WAIT2, TX_KEEPALIVE } from '../../src/transport/tcp/tcp';
import { ENOPROTOOPT } from '../../src/core/errno';

describe('FEATURE_TCP_KEEPALIVE off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_KEEPALIVE).toBe(false);
  });

  it('the keep-alive options are ENOPROTOOPT (TCP API and socket API); others still work', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    for (const [lvl, opt] of [[SOL_SOCKET, SO_KEEPALIVE], [SOL_TCP, TCP_KEEPIDLE], [SOL_TCP, TCP_KEEPINTVL], [SOL_TCP, TCP_KEEPCNT]]) {
      expect(tcpSetsockopt(e.a, k.c, lvl, opt, 1)).toBe(-ENOPROTOOPT);
      expect(tcpGetsockopt(e.a, k.c, lvl, opt)).toBe(-ENOPROTOOPT);
    }
    expect(tcpSetsockopt(e.a, k.c, SOL_SOCKET, SO_KEEPALIVE, 0)).toBe(-ENOPROTOOPT);
    expect(tcpSetsockopt(e.a, k.c, SOL_TCP, TCP_NODELAY, 1)).toBe(0);
    const fd = socket(e.a, SOCK_STREAM, 0);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(setsockopt(e.a, fd, SOL_SOCKET, SO_KEEPALIVE, 1)).toBe(-ENOPROTOOPT);
    expect(getsockopt(e.a, fd, SOL_SOCKET, SO_KEEPALIVE, null)).toBe(-ENOPROTOOPT);
    expect(setsockopt(e.a, fd, SOL_TCP, TCP_KEEPIDLE, 30)).toBe(-ENOPROTOOPT);
    expect(close(e.a, fd)).toBe(0);
    // a datagram socket records SO_KEEPALIVE as before (no TCP involved)
    const u = socket(e.a, SOCK_DGRAM, 0);
    expect(setsockopt(e.a, u, SOL_SOCKET, SO_KEEPALIVE, 1)).toBe(0);
    expect(close(e.a, u)).toBe(0);
    expectClean(e);
  });

  it('an idle connection sends no probes, even with a short run-time keep-alive idle; FIN_WAIT2 still times out', () => {
    const e = tcpPair({ tcpKeepIdleMs: 1000, tcpKeepIntvlMs: 1000, tcpKeepCnt: 1, tcpFinTimeoutMs: 5000 });
    const k = connectPair(e, 80);
    run(e, 300);
    e.tap.clear();
    run(e, 60000, 100);
    expect(e.tap.segs.length).toBe(0);
    expect(e.a.tcp.ext[TX_KEEPALIVE]).toBe(0);
    expect(e.a.tcp.state[k.c]).toBe(TCP_ESTABLISHED);
    // orphaned FIN_WAIT2: the shared timer still ends it (tcpFinTimeoutMs)
    expect(tcpShutdown(e.a, k.c, 1)).toBe(0);
    run(e, 300);
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT2);
    expect(tcpClose(e.a, k.c)).toBe(0);
    run(e, 6000, 100);
    expect(e.a.tcp.inUse()).toBe(0);
    expectClean(e);
  });
});
