/*
 * tcp_rcvwnd.test.ts — window updates are not sent per application call.
 * A read that frees receive-buffer space sends a window update only when
 * the window can open by at least min(MSS, rcvbuf/2) (RFC 1122 §4.2.3.3,
 * receiver SWS avoidance; RFC 9293 §3.8.6.2.2) and to at least twice what
 * is advertised (Linux tcp_cleanup_rbuf): a reader pulling 1 byte a call,
 * as Espruino's socket loop can, makes one segment per min(MSS, rcvbuf/2)
 * bytes, not one per call.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, pattern, sameBytes } from './tcp_util';
import { tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';

describe('receive window updates (receiver SWS avoidance)', () => {
  for (const rcvbuf of [16384, 2048, 3000]) {
    it(`a full ${rcvbuf}-byte buffer drained 1 byte a call: one update per min(MSS, rcvbuf/2) bytes`, () => {
      const e = tcpPair({ tcpWindowScaling: false }, { tcpRcvBuf: rcvbuf });
      const k = connectPair(e, 6001);
      const tp = e.b.tcp;
      const limit = tp.rcvLimit[k.s];
      const mss = tp.advMss[k.s];
      const thresh = Math.min(mss, Math.floor(limit / 2));
      // fill B's buffer: the window closes
      const data = pattern(limit + 8000, 3);
      let off = 0;
      expect(
        runUntil(e, () => {
          const r = tcpSend(e.a, k.c, data, off, data.length - off);
          if (r > 0) off += r;
          return tp.rcvCount[k.s] === limit;
        }, 20000),
      ).toBe(true);
      run(e, 300);
      e.tap.clear();
      // drain up to 2.5 thresholds, 1 byte a call, with no time passing between calls
      const calls = Math.min(Math.floor(thresh * 2.5), limit);
      const got = new Uint8Array(calls);
      for (let i = 0; i < calls; i++) expect(tcpRecv(e.b, k.s, got, i, 1)).toBe(1);
      expect(sameBytes(got, data.subarray(0, calls))).toBe(true);
      const fromB = e.tap.segs.filter((s) => s.from === 'B');
      // the window opened (so the sender can go on) but only once per threshold's worth of reads
      expect(fromB.length).toBeGreaterThanOrEqual(1);
      expect(fromB.length).toBeLessThanOrEqual(2);
      // every update moved the right edge by at least the threshold
      let edge = -1;
      for (const s of fromB) {
        expect(s.len).toBe(0);
        const right = s.ack + s.win;
        if (edge >= 0) expect(right - edge).toBeGreaterThanOrEqual(thresh);
        edge = right;
      }
      expect(fromB[0].win).toBeGreaterThanOrEqual(thresh);
      // the rest of the data still arrives, read 1 byte a call
      const all = new Uint8Array(data.length);
      all.set(got, 0);
      let n = calls;
      const sentBefore = e.tap.segs.filter((s) => s.from === 'B').length;
      for (let step = 0; step < 60000 && n < data.length; step++) {
        if (off < data.length) {
          const r = tcpSend(e.a, k.c, data, off, data.length - off);
          if (r > 0) off += r;
        }
        for (let j = 0; j < 64 && n < data.length; j++) {
          if (tcpRecv(e.b, k.s, all, n, 1) !== 1) break;
          n++;
        }
        run(e, 1);
      }
      expect(n).toBe(data.length);
      expect(sameBytes(all, data)).toBe(true);
      // segments from B (ACKs of data and window updates) against the reads that made room
      const segsB = e.tap.segs.filter((s) => s.from === 'B').length - sentBefore;
      expect(segsB).toBeLessThan((data.length - calls) / 100);
      tcpClose(e.a, k.c);
      tcpClose(e.b, k.s);
      run(e, 1000);
      expectClean(e);
    });
  }
});
