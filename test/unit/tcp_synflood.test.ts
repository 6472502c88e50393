/*
 * tcp_synflood.test.ts — a SYN flood from spoofed addresses in the subnet
 * (issue 10): nobody answers B's SYN-ACKs nor its ARP requests for those
 * addresses. With SYN cookies on (the default, RFC 4987 §3.6) a legitimate
 * client connects during the flood and at once after it, an established
 * transfer keeps going, the flooded listener's requests stay within its
 * backlog (another port keeps its share of the SYN queue), the queue falls
 * below half its backlog within seconds (reqsk_timer_handler's pruning), and nothing
 * leaks. The confirmed neighbour's ARP entry survives the churn of
 * unresolved ones (arp.ts neighAlloc).
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, run, runUntil, expectClean, injectB, tcpFrame, pattern, sameBytes, connectPair, lcg, IP_B, TEnv,
} from './tcp_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCP_ESTABLISHED, TX_SYNCOOKIESSENT, TX_SYNCOOKIESRECV, TX_REQQFULLDROP,
} from '../../src/transport/tcp/tcp';
import { StackConfig } from '../../src/config';
import { EINPROGRESS } from '../../src/core/errno';
import { parseIpU } from './addr_util';

const B_CFG: Partial<StackConfig> = {
  tcpSynQueue: 32, tcpAcceptQueue: 16, tcpMaxSockets: 24, maxSockets: 32, arpTableSize: 16,
  tcpSndBuf: 65536, tcpRcvBuf: 65536, timerMax: 256, skbSmallCount: 128,
};

/** Inject `n` SYNs to B:port from random unowned addresses 192.0.2.100-249 and ports. */
function flood(e: TEnv, rnd: () => number, n: number, port: number): void {
  for (let i = 0; i < n; i++) {
    const saddr = parseIpU('192.0.2.' + (100 + Math.floor(rnd() * 150)));
    const sport = 1024 + Math.floor(rnd() * 60000);
    injectB(e, tcpFrame({
      toB: true, saddr, sport, dport: port, seq: Math.floor(rnd() * 0x7fffffff), flags: TCPF_SYN,
      opts: [2, 4, 5, 0xb4, 4, 2, 1, 1],
    }));
  }
}

/** A connects to B:port; returns [client, accepted] once both are established within maxMs, else [-1, -1]. */
function connectWithin(e: TEnv, l: number, port: number, maxMs: number): [number, number] {
  const c = tcpSocket(e.a);
  expect(tcpConnect(e.a, c, IP_B, port)).toBe(-EINPROGRESS);
  let s = -1;
  const ok = runUntil(e, () => (s >= 0 || (s = tcpAccept(e.b, l)) >= 0) && e.a.tcp.state[c] === TCP_ESTABLISHED, maxMs);
  return ok ? [c, s] : [-1, -1];
}

/** Request socks (SYN queue entries) of listener l. */
function reqLen(e: TEnv, l: number): number {
  const tb = e.b.tcp;
  let n = 0;
  for (let r = 0; r < tb.rqN; r++) if (tb.rqUsed[r] !== 0 && tb.rqListener[r] === l) n++;
  return n;
}

function listenOn(e: TEnv, port: number, backlog: number): number {
  const l = tcpSocket(e.b);
  expect(tcpBind(e.b, l, 0, port)).toBe(0);
  expect(tcpListen(e.b, l, backlog)).toBe(0);
  return l;
}

describe('tcp SYN flood from spoofed addresses', () => {
  it('2,000 spoofed SYNs at 1,500/s: a transfer keeps going, new clients connect during and right after', () => {
    const e = tcpPair({}, B_CFG);
    const tb = e.b.tcp;
    const conn = connectPair(e, 9, 16);
    const l80 = listenOn(e, 80, 16);
    const l7 = listenOn(e, 7, 16);
    const rnd = lcg(42);
    const data = pattern(2000000, 3);
    const out = new Uint8Array(data.length);
    let off = 0;
    let got = 0;
    let sent = 0;
    /** B sends what the socket takes, A reads what arrived */
    const pump = (): void => {
      if (off < data.length) {
        const r = tcpSend(e.b, conn.s, data, off, data.length - off);
        if (r > 0) off += r;
      }
      for (;;) {
        const r = tcpRecv(e.a, conn.c, out, got, out.length - got);
        if (r <= 0) break;
        got += r;
      }
    };
    let during: [number, number] = [-1, -1];
    let maxReq80 = 0;
    // 3 SYNs every 2 ms = 1,500/s, while B sends 2 MB to A
    for (let ms = 0; sent < 2000 && ms < 5000; ms += 2) {
      flood(e, rnd, 3, 80);
      sent += 3;
      pump();
      const q80 = reqLen(e, l80);
      if (q80 > maxReq80) maxReq80 = q80;
      if (ms === 400) during = connectWithin(e, l80, 80, 50); // through a cookie
      run(e, 2);
    }
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(during[0]).toBeGreaterThanOrEqual(0);
    // the flooded listener holds at most its backlog of requests; port 7 keeps its share
    expect(maxReq80).toBeLessThanOrEqual(16);
    expect(tb.ext[TX_SYNCOOKIESSENT]).toBeGreaterThan(1000);
    expect(tb.ext[TX_SYNCOOKIESRECV]).toBeGreaterThanOrEqual(1);
    expect(tb.ext[TX_REQQFULLDROP]).toBe(0);
    const [c7, s7] = connectWithin(e, l7, 7, 50);
    expect(c7).toBeGreaterThanOrEqual(0);
    // right after the flood: a new connection at once
    const [c80, s80] = connectWithin(e, l80, 80, 50);
    expect(c80).toBeGreaterThanOrEqual(0);
    // the transfer finishes
    for (let ms = 0; ms < 60000 && got < data.length; ms++) {
      pump();
      run(e, 1);
    }
    expect(sameBytes(out.subarray(0, got), data)).toBe(true);
    // requests from addresses that never answer are pruned within seconds (not after 63 s) to below
    // half the backlog, where new SYNs get a request sock again
    expect(runUntil(e, () => reqLen(e, l80) < 8, 8000, 10)).toBe(true);
    for (const [a, b] of [during, [c7, s7], [c80, s80]]) {
      tcpClose(e.a, a);
      tcpClose(e.b, b);
    }
    tcpClose(e.a, conn.c);
    tcpClose(e.b, conn.s);
    tcpClose(e.b, l80);
    tcpClose(e.b, l7);
    tcpClose(e.b, conn.l);
    run(e, 2000, 10);
    expectClean(e);
  });

  it('without cookies a flooded listener still leaves the other ports their share of the SYN queue', () => {
    const e = tcpPair({}, Object.assign({}, B_CFG, { tcpSyncookies: false }));
    const tb = e.b.tcp;
    const l80 = listenOn(e, 80, 8);
    const l7 = listenOn(e, 7, 8);
    flood(e, lcg(5), 200, 80);
    expect(reqLen(e, l80)).toBe(8);
    expect(tb.ext[TX_REQQFULLDROP]).toBe(192);
    const [c7, s7] = connectWithin(e, l7, 7, 50);
    expect(c7).toBeGreaterThanOrEqual(0);
    // the pruned queue lets port 80 in again within seconds, not after 63 s
    expect(runUntil(e, () => reqLen(e, l80) < 4, 8000, 10)).toBe(true);
    const [c80, s80] = connectWithin(e, l80, 80, 50);
    expect(c80).toBeGreaterThanOrEqual(0);
    tcpClose(e.a, c7);
    tcpClose(e.b, s7);
    tcpClose(e.a, c80);
    tcpClose(e.b, s80);
    tcpClose(e.b, l80);
    tcpClose(e.b, l7);
    run(e, 2000, 10);
    expectClean(e);
  });
});
