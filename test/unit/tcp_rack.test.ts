/*
 * tcp_rack.test.ts — RACK-TLP and recovery undo (src/transport/tcp/tcp_recovery.ts,
 * FEATURE_TCP_RACK): a tail loss repaired by a loss probe instead of the
 * RTO (RFC 8985 §7), a lost retransmission found by RACK (§6.2) instead of
 * the RTO, the RTO resending only what the receiver does not hold (Linux
 * tcp_enter_loss marks, not go-back-N), a recovery undone when the
 * original segment arrives after all (RFC 3522 / RFC 3708), the probe
 * limit on a dead path, and the transmission records staying in step with
 * the send queue.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, sameBytes, TEnv, Conn } from './tcp_util';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import {
  TX_TIMEOUTS, TX_LOSSPROBES, TX_LOSTRETRANSMIT, TX_SACKRECOVERY, TX_SACKRESCUE, TCP_RETRANSSEGS,
} from '../../src/transport/tcp/tcp';
import { rkSlot, rkEnd } from '../../src/transport/tcp/tcp_seq';
import { TLP_MAX } from '../../src/transport/tcp/tcp_output';

/** Send n bytes A → B under the tap's drop rule; B reads; returns what B got. */
function push(e: TEnv, k: Conn, n: number, seed: number, maxMs: number): Uint8Array {
  const d = pattern(n, seed);
  const out = new Uint8Array(n);
  let sent = 0;
  let got = 0;
  runUntil(e, () => {
    if (sent < n) {
      const r = tcpSend(e.a, k.c, d, sent, n - sent);
      if (r > 0) sent += r;
    }
    const r = tcpRecv(e.b, k.s, out, got, n - got);
    if (r > 0) got += r;
    return got === n;
  }, maxMs);
  expect(got).toBe(n);
  expect(sameBytes(out, d)).toBe(true);
  return out;
}

/** Records of TCB t cover exactly [sndUna, sndMax) in order. */
function expectRecordsInStep(e: TEnv, t: number): void {
  const tp = e.a.tcp;
  const n = tp.rk!.rkN[t];
  if (tp.sndUna[t] === tp.sndMax[t]) return;
  expect(n).toBeGreaterThan(0);
  expect(tp.rk!.rkSeq[rkSlot(tp, t, 0)]).toBe(tp.sndUna[t]);
  for (let i = 0; i < n; i++) expect(((rkEnd(tp, t, i) - tp.rk!.rkSeq[rkSlot(tp, t, i)]) | 0) > 0).toBe(true);
}

describe('tcp RACK-TLP', () => {
  it('the last two segments lost: loss probes and the SACKs they draw repair them, not the RTO (RFC 8985 §7)', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const dropped = new Set<number>();
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      if ((off === 8 * smss || off === 9 * smss) && !dropped.has(off)) {
        dropped.add(off);
        return true;
      }
      return false;
    };
    const t0 = e.clock.t;
    push(e, k, 10 * smss, 1, 1000);
    expect(dropped.size).toBe(2);
    // repaired in a few round trips of the pair link, far below the 200 ms RTO floor (a single
    // segment out waits 2·SRTT + the RTO floor for a delayed ACK, RFC 8985 §7.2: two are out here)
    expect(e.clock.t - t0).toBeLessThan(e.a.cfg.tcpRtoMinMs / 2);
    expect(tp.ext[TX_TIMEOUTS]).toBe(0);
    expect(tp.ext[TX_LOSSPROBES]).toBeGreaterThan(0);
    expect(tp.mib[TCP_RETRANSSEGS]).toBe(2); // each lost segment once: no duplicate
    expect(tp.ext[TX_SACKRESCUE]).toBe(0); // RACK's path, not RFC 6675's rescue
    e.tap.rule = null;
    expectClean(e);
  });

  it('a lost retransmission is found by RACK once later data is delivered, not by the RTO (RFC 8985 §6.2)', () => {
    const e = tcpPair();
    const k = connectPair(e, 81);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    // the second segment is lost twice: the original and its first retransmission
    let drops = 0;
    e.tap.rule = (s) => s.from === 'A' && s.len > 0 && ((s.seq - base) >>> 0) === smss && drops++ < 2;
    push(e, k, 40 * smss, 2, 2000);
    expect(drops).toBe(3); // the third transmission passed the rule
    expect(tp.ext[TX_TIMEOUTS]).toBe(0);
    expect(tp.ext[TX_LOSTRETRANSMIT]).toBeGreaterThan(0);
    expect(tp.ext[TX_SACKRECOVERY]).toBeGreaterThan(0);
    expectRecordsInStep(e, k.c);
    e.tap.rule = null;
    expectClean(e);
  });

  it('after an RTO only what the receiver does not hold is resent (every unSACKed record lost, not go-back-N)', () => {
    const e = tcpPair();
    const k = connectPair(e, 82);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    // the first segment is lost until the RTO fires; everything else gets through
    const sent = new Map<number, number>();
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      sent.set(off, (sent.get(off) ?? 0) + 1);
      return off === 0 && tp.ext[TX_TIMEOUTS] === 0;
    };
    push(e, k, 10 * smss, 3, 3000);
    expect(tp.ext[TX_TIMEOUTS]).toBe(1);
    // the nine segments the receiver SACKed went once; the first went until it got through
    for (let i = 1; i < 10; i++) expect(sent.get(i * smss), 'segment ' + i).toBe(1);
    expect(sent.get(0)).toBeGreaterThan(1);
    e.tap.rule = null;
    expectClean(e);
  });

  it('a dead path: at most TLP_MAX probes before the first RTO, none after it (the RTO backoff alone)', () => {
    const e = tcpPair();
    const k = connectPair(e, 83);
    run(e, 100);
    const tp = e.a.tcp;
    e.tap.rule = (s) => s.from === 'A';
    const n = 4 * tp.smss[k.c];
    expect(tcpSend(e.a, k.c, pattern(n, 4), 0, n)).toBe(n);
    run(e, 200 + 400 + 800 + 100);
    expect(tp.ext[TX_TIMEOUTS]).toBe(3);
    expect(tp.ext[TX_LOSSPROBES]).toBeGreaterThan(0);
    expect(tp.ext[TX_LOSSPROBES]).toBeLessThanOrEqual(TLP_MAX);
    const probes = tp.ext[TX_LOSSPROBES];
    run(e, 1600 + 100);
    expect(tp.ext[TX_TIMEOUTS]).toBe(4);
    expect(tp.ext[TX_LOSSPROBES]).toBe(probes);
    e.tap.rule = null;
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 10000)).toBe(true);
    expectClean(e);
  });

  it('records follow the send queue through loss, SACK and cumulative ACKs', () => {
    const e = tcpPair({ tcpSndBuf: 32768, tcpRcvBuf: 32768 });
    const k = connectPair(e, 84);
    const tp = e.a.tcp;
    let x = 12345;
    e.tap.rule = (s) => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      if ((x >>> 8) % 10 === 0) return true; // 10% both ways
      if (s.from === 'A') expectRecordsInStep(e, k.c);
      return false;
    };
    push(e, k, 300000, 5, 600000);
    expect(tp.mib[TCP_RETRANSSEGS]).toBeGreaterThan(0);
    e.tap.rule = null;
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 1000)).toBe(true);
    expect(tp.rk!.rkN[k.c]).toBe(0); // everything acknowledged: no record left
    expectClean(e);
  });

  it('RACK off (tcpRackSegs 0): the RFC 6675 rescue retransmission repairs the tail, no probe is sent', () => {
    const e = tcpPair({ tcpRackSegs: 0 });
    const k = connectPair(e, 85);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    let drops = 0;
    e.tap.rule = (s) => s.from === 'A' && s.len > 0 && [smss, 9 * smss].includes((s.seq - base) >>> 0) && drops++ < 2;
    push(e, k, 10 * smss, 6, 1000);
    expect(tp.ext[TX_LOSSPROBES]).toBe(0);
    expect(tp.ext[TX_SACKRESCUE]).toBe(1);
    expect(tp.M).toBe(0);
    e.tap.rule = null;
    expectClean(e);
  });
});
