/*
 * tcp_rto_sack.test.ts — the SACK scoreboard across a retransmission
 * timeout (RFC 6675 §5.1, RFC 2018 §8 and errata 1610, Linux
 * tcp_enter_loss / tcp_check_sack_reneging): after an RTO only the holes
 * are resent, SACKed ranges are skipped; a receiver that reneges (drops
 * out-of-order data it SACKed) is detected and still gets every byte.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, transfer, sameBytes, lcg } from './tcp_util';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import { TX_TIMEOUTS, TX_SACKRENEGING } from '../../src/transport/tcp/tcp';

/* room for 5 SACKed ranges on both sides; the receiver reports 3 per ACK (timestamps on) */
const CFG = { tcpOooRanges: 8 };

describe('tcp SACK scoreboard across an RTO', () => {
  it('after an RTO only the holes are retransmitted, not the SACKed ranges above them', () => {
    const e = tcpPair(CFG);
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const nseg = 10; // the initial window: segments 0..9
    const n = nseg * smss;
    // even segments are lost, and every retransmission before the timeout too:
    // B holds (and SACKed) the odd ones, 5 separate ranges
    const afterRto: number[] = [];
    const seen = new Set<number>();
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      if (tp.ext[TX_TIMEOUTS] >= 1) {
        afterRto.push(off);
        return false;
      }
      const again = seen.has(off);
      seen.add(off);
      return again || off % (2 * smss) === 0;
    };
    const d = pattern(n, 11);
    expect(tcpSend(e.a, k.c, d, 0, n)).toBe(n);
    expect(runUntil(e, () => tp.ext[TX_TIMEOUTS] >= 1, 2000)).toBe(true);
    // the scoreboard survived the timeout
    expect(tp.sbN[k.c]).toBe(5);
    expect(tp.ext[TX_SACKRENEGING]).toBe(0);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 2000)).toBe(true);
    expect(tp.ext[TX_TIMEOUTS]).toBe(1);
    // exactly the five holes went out again, each once, none of the SACKed segments
    // (with the scoreboard cleared, the segment after each ACKed hole was resent too:
    // the receiver's ACKs report only its 3 most recent ranges)
    const holes = [0, 2, 4, 6, 8].map((i) => i * smss);
    expect(afterRto.slice().sort((x, y) => x - y)).toEqual(holes);
    e.tap.rule = null;
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 1000)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });

  it('a second RTO with no progress since the first forgets the scoreboard (the peer may have reneged)', () => {
    const e = tcpPair(CFG);
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const n = 10 * smss;
    // as above, and the hole at SND.UNA is also lost when the first RTO resends it
    const seen = new Set<number>();
    let sbAtSecond = -1;
    e.tap.rule = (s) => {
      if (s.from !== 'A' || s.len === 0) return false;
      const off = (s.seq - base) >>> 0;
      if (tp.ext[TX_TIMEOUTS] >= 2) {
        if (sbAtSecond < 0) sbAtSecond = tp.sbN[k.c];
        return false;
      }
      if (tp.ext[TX_TIMEOUTS] === 1) return off === 0;
      const again = seen.has(off);
      seen.add(off);
      return again || off % (2 * smss) === 0;
    };
    const d = pattern(n, 14);
    expect(tcpSend(e.a, k.c, d, 0, n)).toBe(n);
    expect(runUntil(e, () => tp.ext[TX_TIMEOUTS] >= 1, 2000)).toBe(true);
    expect(tp.sbN[k.c]).toBe(5);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 5000)).toBe(true);
    expect(tp.ext[TX_TIMEOUTS]).toBe(2);
    expect(tp.ext[TX_SACKRENEGING]).toBe(1);
    expect(sbAtSecond).toBe(0);
    e.tap.rule = null;
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 1000)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });

  it('a receiver that drops data it SACKed (reneging) is detected, and the transfer is byte-exact', () => {
    const e = tcpPair(CFG);
    const k = connectPair(e, 80);
    run(e, 100);
    const tp = e.a.tcp;
    const smss = tp.smss[k.c];
    const base = tp.sndNxt[k.c] >>> 0;
    const n = 10 * smss;
    // segment 0 is lost once; B SACKs 1..9, then forgets them (after its ACKs carried the SACKs)
    let dropped = false;
    let reneged = false;
    e.tap.rule = (s) => {
      if (s.from === 'A' && s.len > 0 && s.seq === base && !dropped) {
        dropped = true;
        return true;
      }
      if (s.from === 'B' && !reneged && e.b.tcp.oooN[k.s] > 0 &&
          ((e.b.tcp.oooE[k.s * e.b.tcp.K] - base) >>> 0) === n) {
        // the ACK holding the SACK of everything up to the end is on the wire: renege now
        e.b.tcp.oooN[k.s] = 0;
        reneged = true;
      }
      return false;
    };
    const d = pattern(n, 12);
    expect(tcpSend(e.a, k.c, d, 0, n)).toBe(n);
    expect(runUntil(e, () => tp.sndUna[k.c] === tp.sndMax[k.c], 5000)).toBe(true);
    expect(reneged).toBe(true);
    // detected at the ACK that stopped at the SACKed data: the scoreboard was cleared
    expect(tp.ext[TX_SACKRENEGING]).toBe(1);
    expect(tp.sbN[k.c]).toBe(0);
    const out = new Uint8Array(n);
    let got = 0;
    expect(runUntil(e, () => (got += Math.max(0, tcpRecv(e.b, k.s, out, got, n - got))) === n, 1000)).toBe(true);
    expect(sameBytes(out, d)).toBe(true);
    e.tap.rule = null;
    expectClean(e);
  });

  it('a receiver that reneges over and over under loss still gets a byte-exact transfer', () => {
    const e = tcpPair(Object.assign({ tcpSndBuf: 32768, tcpRcvBuf: 32768 }, CFG));
    const k = connectPair(e, 80);
    const rnd = lcg(77);
    const rnd2 = lcg(78);
    let reneges = 0;
    e.tap.rule = (s) => {
      if (s.from === 'B' && e.b.tcp.oooN[k.s] > 0 && rnd2() < 0.3) {
        e.b.tcp.oooN[k.s] = 0; // forget everything held out of order, after SACKing it
        reneges++;
      }
      return rnd() < 0.05;
    };
    const d = pattern(150000, 13);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 600000), d)).toBe(true);
    expect(reneges).toBeGreaterThan(5);
    expect(e.a.tcp.ext[TX_SACKRENEGING]).toBeGreaterThan(0);
    e.tap.rule = null;
    expectClean(e);
  });
});
