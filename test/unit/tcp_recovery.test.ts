/*
 * tcp_recovery.test.ts — loss recovery details, one regression test per
 * bug found: RTT sampling after an RTO (RFC 6298 §5 Karn, RFC 7323 §4),
 * RFC 6675 recovery, RFC 2883 D-SACK, the behaviour under heavy loss, and
 * the one-pass copy + checksum of segments out of a wrapping send ring.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, transfer, sameBytes, lcg } from './tcp_util';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import { sbLostEdge, sbAdd } from '../../src/transport/tcp/tcp_seq';
import { TX_SPURIOUSRTOS, TCP_INCSUMERRORS, TCP_INERRS, TCPF_ACK, TX_TIMEOUTS, TX_DSACKOLDSENT, TX_DSACKRECV, TX_SACKRESCUE, TX_SACKRECOVERY, TCP_RETRANSSEGS } from '../../src/transport/tcp/tcp';

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

/**
 * The RFC 6675 path (DupThresh loss detection, rescue retransmission,
 * go-back-N after an RTO), which connections use with RACK off
 * (FEATURE_TCP_RACK off, as on boards that turn it off, or cfg.tcpRackSegs
 * 0). The RACK-TLP path has its own tests (tcp_rack.test.ts).
 */
const RFC6675 = { tcpRackSegs: 0 };

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
    // RFC 3522 detection: the original had arrived; the path works, the backoff is cleared
    expect(tp.ext[TX_SPURIOUSRTOS]).toBe(1);
    expect(tp.backoff[k.c]).toBe(0);
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
    const e = tcpPair(RFC6675);
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
    const e = tcpPair(RFC6675);
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

  it('segments copied out of a wrapping send ring at odd offsets carry correct checksums (copy + sum in one pass)', () => {
    // an odd ring size and odd write sizes: segments split across the wrap at odd positions
    const e = tcpPair({ tcpSndBuf: 4001 });
    const k = connectPair(e, 82);
    const d = pattern(60007, 7);
    const out = new Uint8Array(d.length);
    let off = 0;
    let got = 0;
    const rnd = lcg(9);
    for (let i = 0; i < 20000 && got < d.length; i++) {
      if (off < d.length) {
        let n = 1 + Math.floor(rnd() * 999);
        if (n > d.length - off) n = d.length - off;
        const r = tcpSend(e.a, k.c, d, off, n);
        if (r > 0) off += r;
      }
      const r = tcpRecv(e.b, k.s, out, got, d.length - got);
      if (r > 0) got += r;
      run(e, 1);
    }
    expect(got).toBe(d.length);
    expect(sameBytes(out, d)).toBe(true);
    expect(e.b.tcp.mib[TCP_INCSUMERRORS]).toBe(0);
    expect(e.b.tcp.mib[TCP_INERRS]).toBe(0);
    expectClean(e);
  });

  it('RFC 6675 IsLost: more than (DupThresh - 1) * SMSS SACKed bytes above, or DupThresh SACKed ranges', () => {
    const e = tcpPair();
    const tp = e.a.tcp;
    const smss = 1000;
    const una = 5000;
    tp.sbN[0] = 0;
    // one range of exactly 2 * SMSS above the hole: not lost yet
    sbAdd(tp, 0, 6000, 8000);
    expect(sbLostEdge(tp, 0, una, smss)).toBe(una);
    // one byte more: the hole below it is lost
    sbAdd(tp, 0, 8000, 8001);
    expect(sbLostEdge(tp, 0, una, smss)).toBe(6000);
    // three small discontiguous ranges
    tp.sbN[0] = 0;
    sbAdd(tp, 0, 5100, 5200);
    sbAdd(tp, 0, 5300, 5400);
    expect(sbLostEdge(tp, 0, una, smss)).toBe(una);
    sbAdd(tp, 0, 5500, 5600);
    expect(sbLostEdge(tp, 0, una, smss)).toBe(5100);
    tp.sbN[0] = 0;
    expectClean(e);
  });

  it('without timestamps (Karn, RFC 6298 §5): the backed-off RTO stays until a segment that was never retransmitted is acknowledged', () => {
    const e = tcpPair({ tcpTimestamps: false });
    const k = connectPair(e, 83);
    run(e, 100);
    const tp = e.a.tcp;
    const rto0 = tp.rto[k.c];
    e.tap.rule = (s) => s.from === 'B' && (s.flags & TCPF_ACK) !== 0 && tp.ext[TX_TIMEOUTS] < 2;
    expect(tcpSend(e.a, k.c, pattern(100, 8), 0, 100)).toBe(100);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 5000)).toBe(true);
    expect(tp.ext[TX_TIMEOUTS]).toBe(2);
    expect(tp.backoff[k.c]).toBe(2); // the ACK of a retransmission is no sample
    expect(tp.rto[k.c]).toBe(rto0);
    e.tap.rule = null;
    expect(tcpSend(e.a, k.c, pattern(100, 9), 0, 100)).toBe(100);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 1000)).toBe(true);
    expect(tp.backoff[k.c]).toBe(0);
    const out = new Uint8Array(200);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, 200 - got))) === 200, 1000)).toBe(true);
    expectClean(e);
  });

  it('after a timeout the go-back-N resend skips what the receiver SACKs again (RFC 2018 §8: prior SACKs are forgotten)', () => {
    const e = tcpPair(RFC6675);
    const k = connectPair(e, 84);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const n = 10 * smss;
    // segments 1 and 2 are lost twice (original and fast retransmission): only the RTO gets them through
    const seen = new Map<number, number>();
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      const c = (seen.get(off) ?? 0) + 1;
      seen.set(off, c);
      return (off === 0 || off === smss) && c <= 2;
    };
    const d = pattern(n, 10);
    expect(tcpSend(e.a, k.c, d, 0, n)).toBe(n);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 3000)).toBe(true);
    expect(tp.ext[TX_TIMEOUTS]).toBe(1);
    // 2 fast retransmissions + the rescue of the last segment + 2 after the timeout: the ACK of
    // the first resend SACKs 3..10 again, so go-back-N does not send them a second time
    expect(tp.ext[TX_SACKRESCUE]).toBe(1);
    expect(tp.mib[TCP_RETRANSSEGS]).toBe(5);
    for (let i = 2; i < 9; i++) expect(seen.get(i * smss)).toBe(1);
    e.tap.rule = null;
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 1000)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });
});
