/*
 * tcp_syncookies.test.ts — with cfg.tcpSyncookies a full SYN queue answers
 * with a SYN cookie (RFC 4987 §3.6): no state until the final ACK, whose
 * cookie is checked and decoded (MSS index; window scale and SACK from the
 * timestamp echo). Bad cookies are reset and counted.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, run, runUntil, expectClean, injectB, tcpFrame, transfer, sameBytes, pattern, IP_B, TEnv,
} from './tcp_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect } from '../../src/transport/tcp/tcp_api';
import { tcpCookieInitSeq, tcpCookieCheck } from '../../src/transport/tcp/tcp_syncookies';
import {
  TCPF_SYN, TCPF_ACK, TCPF_RST, TCP_ESTABLISHED, F_TS, F_SACK, F_WS, TX_SYNCOOKIESSENT,
  TX_SYNCOOKIESRECV, TX_SYNCOOKIESFAILED, TX_REQQFULLDROP, TX_PAWSESTAB,
} from '../../src/transport/tcp/tcp';
import { StackConfig } from '../../src/config';
import { EINPROGRESS } from '../../src/core/errno';

/** B listens on 80 with a one-entry SYN queue that a stray SYN keeps full. */
function fullQueue(over: Partial<StackConfig>): { e: TEnv; l: number } {
  const e = tcpPair(over, { tcpSyncookies: true, tcpSynQueue: 1 });
  const l = tcpSocket(e.b);
  expect(tcpBind(e.b, l, 0, 80)).toBe(0);
  expect(tcpListen(e.b, l, 4)).toBe(0);
  // A would reset the stray SYN-ACK and free the slot: lose A's RSTs
  e.tap.rule = (s) => s.from === 'A' && (s.flags & TCPF_RST) !== 0;
  injectB(e, tcpFrame({ toB: true, sport: 3000, dport: 80, seq: 1, flags: TCPF_SYN }));
  expect(e.b.tcp.rqCount).toBe(1);
  e.tap.clear();
  return { e, l };
}

describe('tcp SYN cookies', () => {
  it('a full SYN queue answers with a cookie; the connection negotiates TS, SACK and window scale through it', () => {
    const { e, l } = fullQueue({ tcpRcvBuf: 200000 });
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    let s = -1;
    expect(runUntil(e, () => (s = tcpAccept(e.b, l)) >= 0, 100)).toBe(true);
    const tb = e.b.tcp;
    expect(tb.ext[TX_SYNCOOKIESSENT]).toBe(1);
    expect(tb.ext[TX_SYNCOOKIESRECV]).toBe(1);
    expect(tb.ext[TX_REQQFULLDROP]).toBe(0);
    expect(tb.rqCount).toBe(1); // only the stray one: the cookie kept no state
    expect(e.a.tcp.state[c]).toBe(TCP_ESTABLISHED);
    expect(tb.state[s]).toBe(TCP_ESTABLISHED);
    expect(tb.flags[s] & (F_TS | F_SACK | F_WS)).toBe(F_TS | F_SACK | F_WS);
    expect(tb.sndWscale[s]).toBe(e.a.tcp.rcvWscale[c]);
    expect(tb.rcvWscale[s]).toBe(e.a.tcp.sndWscale[c]);
    expect(tb.peerMss[s]).toBe(1460);
    // the cookie SYN-ACK's timestamp did not run ahead: A keeps accepting B's segments (no PAWS drops)
    const d = pattern(300000, 1);
    expect(sameBytes(transfer(e, e.a, c, e.b, s, d, 20000), d)).toBe(true);
    expect(sameBytes(transfer(e, e.b, s, e.a, c, d, 20000), d)).toBe(true);
    expect(e.a.tcp.ext[TX_PAWSESTAB] + tb.ext[TX_PAWSESTAB]).toBe(0);
    e.tap.rule = null;
    expectClean(e);
  });

  it('without timestamps a cookie connection has no window scale or SACK, and still works', () => {
    const { e, l } = fullQueue({ tcpTimestamps: false });
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    let s = -1;
    expect(runUntil(e, () => (s = tcpAccept(e.b, l)) >= 0, 100)).toBe(true);
    expect(e.b.tcp.flags[s] & (F_TS | F_SACK | F_WS)).toBe(0);
    expect(e.a.tcp.flags[c] & (F_SACK | F_WS)).toBe(0);
    const d = pattern(50000, 2);
    expect(sameBytes(transfer(e, e.a, c, e.b, s, d, 20000), d)).toBe(true);
    e.tap.rule = null;
    expectClean(e);
  });

  it('an ACK with a forged cookie is reset and counted; the genuine cookie ACK creates the child', () => {
    const { e } = fullQueue({});
    const c = tcpSocket(e.a);
    expect(tcpConnect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    e.tap.rule = (s) => s.from === 'A'; // swallow A's real ACK
    run(e, 3);
    const sa = e.tap.with('B', TCPF_SYN | TCPF_ACK)[0];
    injectB(e, tcpFrame({ toB: true, sport: e.a.tcp.lport[c], dport: 80, seq: sa.ack, ack: sa.seq + 2, flags: TCPF_ACK }));
    expect(e.b.tcp.ext[TX_SYNCOOKIESFAILED]).toBe(1);
    expect(e.tap.with('B', TCPF_RST).length).toBe(1);
    expect(e.b.tcp.inUse()).toBe(1); // just the listener
    // the real cookie ACK works
    injectB(e, tcpFrame({ toB: true, sport: e.a.tcp.lport[c], dport: 80, seq: sa.ack, ack: sa.seq + 1, flags: TCPF_ACK }));
    expect(e.b.tcp.ext[TX_SYNCOOKIESRECV]).toBe(1);
    expect(e.b.tcp.inUse()).toBe(2);
    e.tap.rule = null;
    expectClean(e);
  });
  it('the key behind a cookie rotates every minute; a cookie is good for its minute and the next only', () => {
    const e = tcpPair({}, { tcpSyncookies: true });
    const b = e.b;
    const tp = b.tcp;
    const A = IP_B + 1;
    const mk = () => tcpCookieInitSeq(b, A, IP_B, 4000, 80, 1234, 3);
    // no cookie made yet: no key, so no value validates
    for (let v = 0; v < 0x1000000; v += 0x10001) expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, v)).toBe(-1);
    const m0 = Math.floor(b.now() / 60000);
    const k0 = Array.from(tp.cookieKey.subarray(2 * (m0 & 1), 2 * (m0 & 1) + 2));
    const c0 = mk();
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c0)).toBe(3);
    e.clock.advance(60000);
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c0)).toBe(3); // the previous minute's cookie
    const c1 = mk(); // a new key for the new minute
    const k1 = Array.from(tp.cookieKey.subarray(2 * ((m0 + 1) & 1), 2 * ((m0 + 1) & 1) + 2));
    expect(k1).not.toEqual(k0);
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c1)).toBe(3);
    e.clock.advance(60000);
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c0)).toBe(-1); // two minutes old
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c1)).toBe(3);
    // minute m0+2 made no key: a cookie claiming it (c1's value re-aged) does not validate
    e.clock.advance(60000);
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, c1)).toBe(-1);
    expect(tcpCookieCheck(b, A, IP_B, 4000, 80, 1234, (c1 + 0x2000000) | 0)).toBe(-1);
  });
});
