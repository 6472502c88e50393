/*
 * tcp_feature_syncookies.test.ts — TCP with FEATURE_TCP_SYNCOOKIES off
 * (src/features.ts), even with cfg.tcpSyncookies true: a SYN at a full SYN
 * queue is dropped and counted (TCPReqQFullDrop), no cookie SYN-ACK; the
 * client's SYN retransmission gets in once the queue has room; an ACK at
 * the listener is reset. vi.mock replaces the features module as the
 * Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_SYNCOOKIES: false,
}));

import * as features from '../../src/features';
import { tcpPair, run, runUntil, expectClean, injectB, tcpFrame, IP_B } from './tcp_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect } from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_ACK, TCPF_RST, TCP_ESTABLISHED, TX_SYNCOOKIESSENT, TX_SYNCOOKIESFAILED, TX_REQQFULLDROP,
  TX_LISTENDROPS, TX_REQQFULLDOCOOKIES,
} from '../../src/transport/tcp/tcp';
import { EINPROGRESS } from '../../src/core/errno';

describe('FEATURE_TCP_SYNCOOKIES off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_SYNCOOKIES).toBe(false);
  });

  it('a full SYN queue drops the SYN (counted), sends no cookie; the retransmitted SYN gets in later', () => {
    const e = tcpPair({}, { tcpSyncookies: true, tcpSynQueue: 1 });
    expect(e.b.cfg.tcpSyncookies).toBe(true);
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 80)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    // a stray SYN fills the one-entry queue (A's RSTs to its SYN-ACK are lost)
    e.tap.rule = (s) => s.from === 'A' && (s.flags & TCPF_RST) !== 0;
    injectB(e, tcpFrame({ toB: true, sport: 3000, dport: 80, seq: 1, flags: TCPF_SYN }));
    expect(e.b.tcp.rqCount).toBe(1);
    e.tap.clear();
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    run(e, 5);
    const tb = e.b.tcp;
    expect(tb.ext[TX_REQQFULLDROP]).toBe(1);
    expect(tb.ext[TX_LISTENDROPS]).toBe(1);
    expect(tb.ext[TX_SYNCOOKIESSENT]).toBe(0);
    expect(tb.ext[TX_REQQFULLDOCOOKIES]).toBe(0);
    expect(e.tap.segs.filter((s) => s.from === 'B' && s.dport === e.a.tcp.lport[c]).length).toBe(0);
    // an ACK at the listener (a would-be cookie) is reset, not checked
    injectB(e, tcpFrame({ toB: true, sport: 3001, dport: 80, seq: 100, ack: 12345, flags: TCPF_ACK }));
    expect(tb.ext[TX_SYNCOOKIESFAILED]).toBe(0);
    expect(e.tap.segs.some((s) => s.from === 'B' && s.dport === 3001 && (s.flags & TCPF_RST) !== 0)).toBe(true);
    // the stray request expires; A's SYN retransmission then gets a normal SYN-ACK
    let s = -1;
    expect(runUntil(e, () => (s = tcpAccept(e.b, l)) >= 0, 70000, 10)).toBe(true);
    expect(e.a.tcp.state[c]).toBe(TCP_ESTABLISHED);
    expect(tb.ext[TX_SYNCOOKIESSENT]).toBe(0);
    e.tap.rule = null;
    expectClean(e);
  });
});
