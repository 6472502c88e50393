/*
 * tcp_recovery.test.ts — loss recovery details, one regression test per
 * bug found: RTT sampling after an RTO (RFC 6298 §5 Karn, RFC 7323 §4),
 * RFC 6675 recovery and the scenario-level behaviour under heavy loss.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, transfer, sameBytes, lcg } from './tcp_util';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import { TCPF_ACK, TX_TIMEOUTS, TX_DSACKOLDSENT, TX_DSACKRECV, TX_SACKRESCUE, TX_SACKRECOVERY, TCP_RETRANSSEGS } from '../../src/transport/tcp/tcp';

/** The SACK option's block bytes in a segment's options ([] when none). */
function sackOption(o: number[]): number[] {
  for (let i = 0; i < o.length;) {
    if (o[i] === 0) break;
    if (o[i] === 1) {
      i++;
      continue;
    }
    if (o[i] === 5) return o.slice(i + 2, i + o[i + 1]);
    i += o[i + 1];
  }
  return [];
}

describe('tcp loss recovery', () => {
  it('an ACK echoing a timestamp older than the RTO retransmission is not an RTT sample (lost ACKs do not inflate the RTO)', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const rto0 = tp.rto[k.c];
    expect(rto0).toBe(e.a.cfg.tcpRtoMinMs);
    // B receives the data, but its ACKs are lost until A has timed out three times
    e.tap.rule = (s) => s.from === 'B' && (s.flags & TCPF_ACK) !== 0 && tp.ext[TX_TIMEOUTS] < 3;
    // two full segments: after go-back-N the retransmitted first one ends below B's rcvNxt
    const n1 = 2 * tp.smss[k.c];
    expect(tcpSend(e.a, k.c, pattern(n1, 1), 0, n1)).toBe(n1);
    // the third retransmission is a duplicate at B: its ACK echoes the original's TSval (1.4 s old)
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 5000)).toBe(true);
    expect(tp.ext[TX_TIMEOUTS]).toBe(3);
    expect(tp.rto[k.c]).toBe(rto0);
    e.tap.rule = null;
    // the next exchange gives a clean sample: backoff cleared, RTO still small
    expect(tcpSend(e.a, k.c, pattern(100, 2), 0, 100)).toBe(100);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 1000)).toBe(true);
    expect(tp.backoff[k.c]).toBe(0);
    expect(tp.rto[k.c]).toBeLessThanOrEqual(rto0 + 10);
    const buf = new Uint8Array(n1 + 200);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, buf, got, n1 + 200 - got))) === n1 + 100, 1000)).toBe(true);
    expectClean(e);
  });

  it('200 KB at 20% loss both ways completes and the RTO stays near its minimum', () => {
    const e = tcpPair({ tcpSndBuf: 32768, tcpRcvBuf: 32768 });
    const k = connectPair(e, 80);
    const rnd = lcg(503);
    e.tap.rule = () => rnd() < 0.2;
    const d = pattern(200000, 3);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 3600000), d)).toBe(true);
    expect(e.a.tcp.rto[k.c]).toBeLessThan(2000);
    e.tap.rule = null;
    expectClean(e);
  });

  it('RFC 6675 rescue retransmission: a lost last segment in SACK recovery is resent without waiting for the RTO', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const n = 10 * smss; // exactly the initial window, nothing queued behind it
    const dropped = new Set<number>();
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      if ((off === smss || off === 9 * smss) && !dropped.has(off)) {
        dropped.add(off);
        return true;
      }
      return false;
    };
    const d = pattern(n, 4);
    expect(tcpSend(e.a, k.c, d, 0, n)).toBe(n);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 150)).toBe(true);
    expect(dropped.size).toBe(2);
    expect(tp.ext[TX_SACKRECOVERY]).toBe(1);
    expect(tp.ext[TX_SACKRESCUE]).toBe(1);
    expect(tp.ext[TX_TIMEOUTS]).toBe(0);
    expect(tp.mib[TCP_RETRANSSEGS]).toBe(2);
    e.tap.rule = null;
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 1000)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });

  it('RFC 2883 D-SACK: a duplicate segment is reported in the first SACK block, below the cumulative ACK', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    // B gets both segments, its ACKs are lost until A has timed out once
    e.tap.rule = (s) => s.from === 'B' && tp.ext[TX_TIMEOUTS] < 1;
    const n = 2 * smss;
    expect(tcpSend(e.a, k.c, pattern(n, 5), 0, n)).toBe(n);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 1000)).toBe(true);
    expect(e.b.tcp.ext[TX_DSACKOLDSENT]).toBe(1);
    expect(tp.ext[TX_DSACKRECV]).toBe(1);
    // the ACK B sent for the duplicate: ack = base + 2 smss, SACK block [base, base + smss)
    const acks = e.tap.segs.filter((s) => s.from === 'B' && !s.dropped && s.ack === ((base + n) >>> 0));
    expect(acks.length).toBeGreaterThan(0);
    const blk = sackOption(acks[0].opts);
    expect(blk.length).toBe(8);
    const rd = (j: number) => ((blk[j] << 24) | (blk[j + 1] << 16) | (blk[j + 2] << 8) | blk[j + 3]) >>> 0;
    expect(rd(0)).toBe(base);
    expect(rd(4)).toBe((base + smss) >>> 0);
    // the D-SACK is one-shot: later ACKs carry no SACK option
    e.tap.clear();
    expect(tcpSend(e.a, k.c, pattern(100, 6), 0, 100)).toBe(100);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 1000)).toBe(true);
    run(e, 100);
    for (const s of e.tap.segs.filter((x) => x.from === 'B')) expect(sackOption(s.opts).length).toBe(0);
    const out = new Uint8Array(n + 100);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n + 100 - got))) === n + 100, 1000)).toBe(true);
    expectClean(e);
  });
});
