/*
 * espruino_native.test.ts — the stack built as for Espruino
 * (src/features.ts RUNTIME_ESPRUINO true, as rollup.config.js sets it for
 * every Espruino bundle), run under Node with Espruino's E shimmed
 * (test/unit/espruino_e.ts): the native copy paths (set over a subarray,
 * memmove-safe), fill, csumPartialCopy, and whole-stack traffic through
 * them — ping with fragmentation, UDP, TCP both ways under loss (ring
 * wraps, odd first pieces, csumBlockAdd) — byte-exact, all skbs back.
 */
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/features')>();
  return { ...orig, RUNTIME_ESPRUINO: true };
});

import { RUNTIME_ESPRUINO } from '../../src/features';
import { copyBytes, copyToRing, copyFromRing, fillBytes } from '../../src/core/bytes';
import { csumPartial, csumPartialCopy, csumFold } from '../../src/core/checksum';
import { icmpPing } from '../../src/ipv4/icmp';
import { socket, bind, sendto, recvfrom, close } from '../../src/socket/socket';
import { SOCK_DGRAM } from '../../src/socket/sock';
import { tcpClose } from '../../src/transport/tcp/tcp_api';
import { TCP_RETRANSSEGS } from '../../src/transport/tcp/tcp';
import { installEspruinoE } from './espruino_e';
import { twoStacks, settle, EchoRec, IP_A, IP_B, MAC_A, MAC_B, ipFrame, inject } from './ipv4_util';
import { put16 } from '../../src/core/bytes';
import { ipCompute } from '../../src/core/checksum';
import { icmpPatternByte } from '../../src/ipv4/icmp';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, lcg, run } from './tcp_util';

/** memmove reference */
function refMove(dst: Uint8Array, doff: number, src: Uint8Array, soff: number, len: number): void {
  const tmp = Array.from(src.subarray(soff, soff + len));
  for (let i = 0; i < len; i++) dst[doff + i] = tmp[i];
}

describe('the Espruino build (RUNTIME_ESPRUINO) under Node', () => {
  let restore: () => void = () => {};
  let sums = 0;
  beforeAll(() => {
    restore = installEspruinoE();
    // count the native sums: the paths under test really run
    const E = (globalThis as unknown as { E: { sum(a: ArrayLike<number>): number } }).E;
    const raw = E.sum;
    E.sum = (a: ArrayLike<number>): number => {
      sums++;
      return raw(a);
    };
  });
  afterAll(() => restore());

  it('the mock is in effect and csumPartial goes through E.sum', () => {
    expect(RUNTIME_ESPRUINO).toBe(true);
    const n = sums;
    const b = pattern(100, 3);
    let s = 0;
    for (let i = 0; i < 100; i += 2) s += (b[i] << 8) | b[i + 1];
    expect(csumFold(csumPartial(b, 0, 100, 0))).toBe(csumFold(s));
    expect(sums).toBe(n + 1);
  });

  it('copyBytes is memmove: overlapping both ways, same and different views of one buffer', () => {
    const rnd = lcg(42);
    for (let k = 0; k < 500; k++) {
      const base = pattern(3000, k + 1);
      const a = base.slice();
      const r = base.slice();
      const soff = Math.floor(rnd() * 1500);
      const doff = Math.floor(rnd() * 1500);
      const len = Math.floor(rnd() * 1500);
      if (k % 3 === 0) {
        // two views of one buffer
        copyBytes(a.subarray(1), doff, a, soff, len);
        refMove(r.subarray(1), doff, r, soff, len);
      } else {
        copyBytes(a, doff, a, soff, len);
        refMove(r, doff, r, soff, len);
      }
      expect(sameBytes(a, r), `k ${k}`).toBe(true);
    }
    // different arrays, zero length
    const d = new Uint8Array(8);
    copyBytes(d, 2, Uint8Array.from([1, 2, 3]), 0, 3);
    copyBytes(d, 8, Uint8Array.from([9]), 0, 0);
    expect(Array.from(d)).toEqual([0, 0, 1, 2, 3, 0, 0, 0]);
  });

  it('ring copies wrap and fill fills', () => {
    const ring = new Uint8Array(100);
    const src = pattern(150, 9);
    expect(copyToRing(ring, 90, src, 5, 30)).toBe(20);
    const out = new Uint8Array(40);
    expect(copyFromRing(out, 3, ring, 90, 30)).toBe(20);
    expect(sameBytes(out.subarray(3, 33), src.subarray(5, 35))).toBe(true);
    expect(copyToRing(ring, 0, src, 0, 100)).toBe(0);
    expect(sameBytes(ring, src.subarray(0, 100))).toBe(true);
    fillBytes(out, 1, 4, 0x1ff);
    expect(Array.from(out.subarray(0, 6))).toEqual([0, 0xff, 0xff, 0xff, 0xff, src[7]]);
  });

  it('csumPartialCopy copies and sums like the reference', () => {
    const src = pattern(2000, 4);
    for (const [soff, doff, len] of [[0, 0, 1460], [1, 2, 1459], [3, 1, 64], [2, 3, 1], [5, 5, 0]]) {
      const d = new Uint8Array(1600);
      const s = csumPartialCopy(d, doff, src, soff, len, 7);
      expect(sameBytes(d.subarray(doff, doff + len), src.subarray(soff, soff + len))).toBe(true);
      let r = 7;
      for (let i = 0; i < len; i += 2) r += (src[soff + i] << 8) | (i + 1 < len ? src[soff + i + 1] : 0);
      expect(csumFold(s)).toBe(csumFold(r));
    }
  });

  it('ping, plain and fragmented, with the native paths', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    expect(icmpPing(e.a, IP_B, 7, 1, 56)).toBe(0);
    settle(e, 100);
    expect(icmpPing(e.a, IP_B, 7, 2, 4001)).toBe(0);
    settle(e, 200);
    expect(ra.replies.map((r) => r.len)).toEqual([56, 4001]);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    expect(e.b.mib.ipB.get('InHdrErrors')).toBe(0);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('echo replies are checked against the pattern without a byte loop (E.convolve): one wrong byte is counted', () => {
    const e = twoStacks();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    const reply = (len: number, bad: number, seq: number): Uint8Array => {
      const m = new Uint8Array(8 + len);
      m[0] = 0; // echo reply
      put16(m, 4, 0x99);
      put16(m, 6, seq);
      for (let i = 0; i < len; i++) m[8 + i] = icmpPatternByte(i);
      if (bad >= 0) m[8 + bad] ^= 0x01;
      put16(m, 2, ipCompute(m, 0, m.length));
      return ipFrame({ dstMac: MAC_A, srcMac: MAC_B, saddr: IP_B, daddr: IP_A, proto: 1, payload: m });
    };
    let seq = 0;
    let errs = 0;
    for (const [len, bad] of [[0, -1], [1, -1], [1, 0], [56, -1], [56, 55], [256, 255], [257, 256], [600, -1], [600, 300], [1400, 13]]) {
      expect(inject(e.a, e.link.devA, reply(len, bad, ++seq))).toBe(0);
      settle(e, 5);
      if (bad >= 0) errs++;
      expect(e.a.icmp.echoPatternErrors, `len ${len} bad ${bad}`).toBe(errs);
    }
    expect(ra.replies.length).toBe(seq);
    expect(e.a.pool.inUse()).toBe(0);
  });

  it('UDP datagrams of every length parity arrive intact (checksums verified by the receiver)', () => {
    const e = twoStacks();
    const fa = socket(e.a, SOCK_DGRAM, 0);
    const fb = socket(e.b, SOCK_DGRAM, 0);
    expect(bind(e.b, fb, 0, 9000)).toBe(0);
    const buf = new Uint8Array(1500);
    for (const n of [0, 1, 2, 3, 255, 1471, 1472]) {
      const d = pattern(n + 3, n);
      expect(sendto(e.a, fa, d, 3, n, IP_B, 9000)).toBe(n);
      settle(e, 20);
      expect(recvfrom(e.b, fb, buf, 1, 1400 + 99, null)).toBe(n);
      expect(sameBytes(buf.subarray(1, 1 + n), d.subarray(3, 3 + n))).toBe(true);
    }
    expect(e.b.mib.udpB.get('InCsumErrors')).toBe(0);
    close(e.a, fa);
    close(e.b, fb);
    settle(e, 20);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });

  it('TCP both ways under 2% loss, odd ring sizes: byte-exact', () => {
    const e = tcpPair({ tcpSndBuf: 4093, tcpRcvBuf: 3001 });
    const k = connectPair(e, 5050);
    const rnd = lcg(77);
    e.tap.rule = () => rnd() < 0.02;
    const d1 = pattern(150001, 1);
    const d2 = pattern(70003, 2);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d1, 600000), d1)).toBe(true);
    expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d2, 600000), d2)).toBe(true);
    expect(e.a.tcp.mib[TCP_RETRANSSEGS] + e.b.tcp.mib[TCP_RETRANSSEGS]).toBeGreaterThan(0);
    e.tap.rule = null;
    tcpClose(e.a, k.c);
    run(e, 1000);
    expectClean(e);
    expect(sums).toBeGreaterThan(1000);
  });
});
