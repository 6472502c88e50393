/*
 * tcp_rxcsum.test.ts — the receive fast path checksums in-order payload
 * while copying it into the receive ring's free space (tcpV4Rcv →
 * tcpRcvPrecopy) and commits it only after the checksum holds. A
 * segment with a valid header but a corrupted payload is dropped and
 * counted with no effect on the connection (rcvNxt, ring, ACK state,
 * window, timestamps, nothing sent); the retransmission completes the
 * stream byte-exact. Also: odd ring size (wrap split at odd offsets),
 * loss (out-of-order data held beyond rcvCount) and corruption together.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, expectClean, transfer, pattern, sameBytes, runUntil, tcpFrame, injectB, TEnv,
} from './tcp_util';
import { get16 } from '../../src/core/bytes';
import { rxFrame } from '../../src/link/dev';
import { PairEnd } from '../../drivers/pair/pairlink';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import { TCP_INERRS, TCP_INCSUMERRORS, TCP_INSEGS, TCPF_ACK } from '../../src/transport/tcp/tcp';

/** Offset and length of the TCP payload in an Ethernet frame (0 length: not TCP data). */
function payloadOf(b: Uint8Array, o: number, len: number): [number, number] {
  if (len < 54 || get16(b, o + 12) !== 0x0800 || b[o + 23] !== 6) return [0, 0];
  const ip = o + 14;
  const ihl = (b[ip] & 15) * 4;
  const tot = get16(b, ip + 2);
  const th = ip + ihl;
  const hlen = (b[th + 12] >>> 4) * 4;
  return [th + hlen, tot - ihl - hlen];
}

function snapshot(e: TEnv, s: number): number[] {
  const tp = e.b.tcp;
  return [
    tp.rcvNxt[s], tp.rcvCount[s], tp.rcvHead[s], tp.rcvEdge[s], tp.rcvUnacked[s], tp.rcvMss[s],
    tp.sndUna[s], tp.sndNxt[s], tp.sndWnd[s], tp.sndWl1[s], tp.sndWl2[s], tp.tsRecent[s],
    tp.rcvTstamp[s], tp.flags[s], tp.oooN[s], e.b.timers.pending(tp.tDack[s]) ? 1 : 0,
    e.link.b.txFrames, tp.mib[TCP_INSEGS],
  ];
}

describe('tcp receive: checksum while copying', () => {
  it('a corrupted payload in the fast path is dropped, counted, changes nothing; the retransmission completes', () => {
    const e = tcpPair();
    const { c, s } = connectPair(e, 5001);
    // some data first: the ring head is not at 0 and the ACK state is not initial
    const d1 = pattern(3001, 11);
    expect(sameBytes(transfer(e, e.a, c, e.b, s, d1, 5000), d1)).toBe(true);

    // capture (and lose) the next data segment A sends
    let cap: Uint8Array | null = null;
    e.link.a.filter = {
      onFrame(_end: PairEnd, b: Uint8Array, o: number, len: number): boolean {
        if (cap !== null || payloadOf(b, o, len)[1] === 0) return true;
        cap = b.slice(o, o + len);
        return false;
      },
    };
    const d2 = pattern(1000, 22);
    expect(tcpSend(e.a, c, d2, 0, d2.length)).toBe(d2.length);
    expect(runUntil(e, () => cap !== null, 100)).toBe(true);
    e.link.a.filter = null;
    const frame = cap as unknown as Uint8Array;
    const [po, pl] = payloadOf(frame, 0, frame.length);
    expect(pl).toBe(1000);

    // corrupt one payload byte: the header (and the IP checksum) stay valid
    frame[po + 5] ^= 0x5a;
    const tp = e.b.tcp;
    const before = snapshot(e, s);
    const csum0 = tp.mib[TCP_INCSUMERRORS];
    const errs0 = tp.mib[TCP_INERRS];
    const ring = tp.rcvRing[s];
    const pos = (tp.rcvHead[s] + tp.rcvCount[s]) % ring.length;
    expect(rxFrame(e.b, e.link.devB, frame, 0, frame.length)).toBe(0);
    e.b.poll();
    expect(tp.mib[TCP_INCSUMERRORS]).toBe(csum0 + 1);
    expect(tp.mib[TCP_INERRS]).toBe(errs0 + 1);
    expect(snapshot(e, s)).toEqual(before); // no state change, no ACK sent
    expect(tcpRecv(e.b, s, new Uint8Array(16), 0, 16)).toBeLessThan(0); // nothing readable (-EAGAIN)
    // the fast path did copy it into free space (beyond rcvCount) while checksumming
    expect(ring[(pos + 5) % ring.length]).toBe(frame[po + 5]);
    expect(ring[(pos + 999) % ring.length]).toBe(d2[999]);

    // the sender retransmits the good copy: the stream completes byte-exact
    const out = new Uint8Array(d2.length);
    let got = 0;
    expect(runUntil(e, () => {
      for (;;) {
        const r = tcpRecv(e.b, s, out, got, out.length - got);
        if (r <= 0) break;
        got += r;
      }
      return got === out.length;
    }, 10000)).toBe(true);
    expect(sameBytes(out, d2)).toBe(true);
    expect(tp.mib[TCP_INCSUMERRORS]).toBe(csum0 + 1);
    expectClean(e);
  });

  it('odd ring size, loss and corruption together: every corrupted segment is counted, the stream is exact', () => {
    const e = tcpPair(undefined, { tcpRcvBuf: 5001 });
    const { c, s } = connectPair(e, 5002);
    let n = 0;
    let corrupted = 0;
    e.link.a.filter = {
      onFrame(_end: PairEnd, b: Uint8Array, o: number, len: number): boolean {
        const [po, pl] = payloadOf(b, o, len);
        if (pl === 0) return true;
        n++;
        if (n % 7 === 3) return false; // lost: later segments are held out of order
        if (n % 5 === 1) {
          b[po + ((n * 131) % pl)] ^= 0x81; // corrupted in flight (odd and even offsets)
          corrupted++;
        }
        return true;
      },
    };
    const data = pattern(60001, 33);
    const got = transfer(e, e.a, c, e.b, s, data, 120000);
    e.link.a.filter = null;
    expect(got.length).toBe(data.length);
    expect(sameBytes(got, data)).toBe(true);
    expect(corrupted).toBeGreaterThan(5);
    expect(e.b.tcp.mib[TCP_INCSUMERRORS]).toBe(corrupted);
    expectClean(e);
  });

  it('a corrupted in-order segment reaching into held out-of-order data cannot damage it', () => {
    const e = tcpPair();
    const { c, s } = connectPair(e, 5003);
    const tp = e.b.tcp;
    const d = pattern(300, 44);
    const base = { sport: e.a.tcp.lport[c], dport: 5003, ack: tp.sndNxt[s] >>> 0, flags: TCPF_ACK, toB: true };
    const r = tp.rcvNxt[s];
    // A sends the 300 bytes but the wire loses them; the test delivers crafted pieces instead
    e.link.a.filter = {
      onFrame(_end: PairEnd, b: Uint8Array, o: number, len: number): boolean {
        return payloadOf(b, o, len)[1] === 0;
      },
    };
    expect(tcpSend(e.a, c, d, 0, d.length)).toBe(d.length);
    expect(runUntil(e, () => e.link.a.lost > 0, 100)).toBe(true);
    e.link.a.filter = null;
    expect(tp.rcvNxt[s]).toBe(r);
    // [100, 300) arrives first: held out of order beyond rcvCount
    injectB(e, tcpFrame(Object.assign({}, base, { seq: (r + 100) >>> 0, payload: d.subarray(100, 300) })));
    expect(tp.oooN[s]).toBe(1);
    // [0, 200) with a byte inside the held range corrupted: dropped, the held bytes untouched
    const csum0 = tp.mib[TCP_INCSUMERRORS];
    const bad = tcpFrame(Object.assign({}, base, { seq: r >>> 0, payload: d.subarray(0, 200) }));
    bad[14 + 20 + 20 + 150] ^= 0xff;
    injectB(e, bad);
    expect(tp.mib[TCP_INCSUMERRORS]).toBe(csum0 + 1);
    expect(tp.rcvNxt[s]).toBe(r);
    expect(tp.rcvCount[s]).toBe(0);
    // [0, 100) fills the hole: 300 bytes readable, byte-exact
    injectB(e, tcpFrame(Object.assign({}, base, { seq: r >>> 0, payload: d.subarray(0, 100) })));
    expect(tp.rcvCount[s]).toBe(300);
    const out = new Uint8Array(300);
    expect(tcpRecv(e.b, s, out, 0, 300)).toBe(300);
    expect(sameBytes(out, d)).toBe(true);
    expectClean(e);
  });
});
