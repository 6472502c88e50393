/*
 * bench-tcp.test.ts — the TCP bulk workload of `npm run bench` (bench/tcp.ts)
 * moves its bytes exactly (every byte checked against the pattern, in each
 * direction and both at once) and returns every skb; its --json rows; and
 * the hot-path byte helpers the benchmark drove (src/core/bytes.ts
 * copyBytes / copyToRing / copyFromRing, src/core/checksum.ts csumPartial /
 * csumPartialCopy / csumBlockAdd) against plain reference loops.
 * No timing thresholds.
 */
import { describe, it, expect, vi } from 'vitest';
import { TcpBulkWork, BULK_CONFIG } from '../../bench/tcp';
import { measureAlloc } from '../../bench/alloc';
import { runBench } from '../../bench/index';
import { copyBytes, copyToRing, copyFromRing } from '../../src/core/bytes';
import { csumPartial, csumPartialCopy, csumBlockAdd, csumFold } from '../../src/core/checksum';

function expectClean(w: TcpBulkWork): void {
  w.close();
  expect(w.a.tcp.inUse()).toBe(0);
  expect(w.b.tcp.inUse()).toBe(0);
  expect(w.a.pool.inUse()).toBe(0);
  expect(w.b.pool.inUse()).toBe(0);
}

describe('tcp bulk workload', () => {
  for (const dir of ['a_to_b', 'b_to_a', 'both'] as const) {
    it(`${dir}: N bytes arrive byte-exact, all skbs return`, () => {
      const w = new TcpBulkWork({ dir, verify: true });
      const segs = 700;
      w.run(segs);
      const want = segs * w.segBytes;
      expect(w.segBytes).toBe(1448); // MSS 1460 less 12 bytes of timestamps
      for (const f of w.flows) {
        expect(f.got).toBeGreaterThanOrEqual(want);
        expect(f.sent).toBeGreaterThanOrEqual(f.got);
      }
      expect(w.flows.length).toBe(dir === 'both' ? 2 : 1);
      expect(w.badBytes()).toBe(0);
      expect(w.sendErrors()).toBe(0);
      expect(w.flows[0].sSt).toBe(dir === 'b_to_a' ? w.b : w.a);
      // the stream ends: everything sent is received (close() drains) and nothing more
      w.close();
      for (const f of w.flows) expect(f.got).toBe(f.sent);
      expect(w.badBytes()).toBe(0);
      expect(w.a.pool.inUse() + w.b.pool.inUse()).toBe(0);
      expect(w.a.tcp.inUse() + w.b.tcp.inUse()).toBe(0);
    });
  }

  it('uses the configured buffers and pools', () => {
    const w = new TcpBulkWork({ dir: 'a_to_b', verify: false });
    expect(w.a.cfg.tcpSndBuf).toBe(BULK_CONFIG.tcpSndBuf);
    expect(w.b.cfg.tcpRcvBuf).toBe(BULK_CONFIG.tcpRcvBuf);
    expect(w.a.cfg.skbSmallCount).toBe(BULK_CONFIG.skbSmallCount);
    expect(w.a.tcp.sndRing[w.c].length).toBe(BULK_CONFIG.tcpSndBuf);
    expectClean(w);
  });

  it('steady state allocates < 1 byte per data segment', async () => {
    const w = new TcpBulkWork({ dir: 'a_to_b', verify: false });
    const r = await measureAlloc(w, { window: 2000, windows: 6, warmup: 10000 });
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeLessThan(1);
    expect(w.flows[0].got).toBeGreaterThan(10000 * 1448);
    expectClean(w);
  });
});

describe('runBench --json tcp_bulk', () => {
  it('prints tcp_bulk_mbps per direction and the per-segment allocation', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += typeof s === 'string' ? s : Buffer.from(s).toString();
      return true;
    });
    let rc: number;
    try {
      rc = await runBench(['--json', '--quick', '--only', 'tcp_bulk']);
    } finally {
      spy.mockRestore();
    }
    expect(rc).toBe(0);
    const rows = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { [k: string]: string | number });
    const mb = rows.filter((r) => r.name === 'tcp_bulk_mbps');
    expect(mb.map((r) => r.dir)).toEqual(['a_to_b', 'b_to_a', 'both']);
    for (const r of mb) {
      expect(r.unit).toBe('Mbit/s');
      expect(r.value as number).toBeGreaterThan(0);
      expect(r.mss).toBe(1448);
      expect(r.snd_buf).toBe(BULK_CONFIG.tcpSndBuf);
      expect(r.skbs_leaked).toBeUndefined();
    }
    const al = rows.find((r) => r.name === 'alloc_bytes_per_packet' && r.bench === 'tcp_bulk');
    expect(al).toBeDefined();
    expect(al!.per).toBe('data_segment');
    expect(typeof al!.value).toBe('number');
  }, 60000);
});

/* ---------------- hot-path byte helpers ---------------- */

function refSum(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  if ((len & 1) !== 0) s += b[off + len - 1] << 8;
  return csumFold(s);
}

function rnd(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function filled(n: number, seed: number): Uint8Array {
  const r = rnd(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}

describe('copyBytes / copyToRing / copyFromRing', () => {
  it('copyBytes matches a byte loop for all short lengths and offsets, and never writes outside', () => {
    const src = filled(200, 1);
    for (let len = 0; len <= 40; len++) {
      for (let so = 0; so < 9; so++) {
        for (let d = 0; d < 9; d++) {
          const dst = new Uint8Array(64);
          copyBytes(dst, d, src, so, len);
          let bad = 0;
          for (let i = 0; i < 64; i++) if (dst[i] !== (i >= d && i < d + len ? src[so + i - d] : 0)) bad++;
          expect(bad).toBe(0);
        }
      }
    }
  });

  it('copyBytes is a memmove for overlapping regions in both directions', () => {
    for (const [so, d, len] of [[0, 3, 50], [3, 0, 50], [10, 11, 17], [11, 10, 17], [5, 5, 20], [0, 8, 8]]) {
      const b = filled(80, so * 31 + d);
      const ref = Array.from(b);
      const tmp = ref.slice(so, so + len);
      for (let i = 0; i < len; i++) ref[d + i] = tmp[i];
      copyBytes(b, d, b, so, len);
      expect(Array.from(b)).toEqual(ref);
    }
  });

  it('ring copies wrap and return the next position', () => {
    const ring = new Uint8Array(37);
    const src = filled(100, 7);
    const out = new Uint8Array(100);
    const r = rnd(9);
    let wpos = 0;
    let rpos = 0;
    let stream = 0;
    for (let k = 0; k < 200; k++) {
      const n = r() % 38; // 0..37: whole ring at most
      const so = r() % (100 - n + 1);
      wpos = copyToRing(ring, wpos, src, so, n);
      const p2 = copyFromRing(out, 0, ring, rpos, n);
      let bad = 0;
      for (let i = 0; i < n; i++) if (out[i] !== src[so + i]) bad++;
      expect(bad).toBe(0);
      rpos = p2;
      stream += n;
      expect(wpos).toBe(stream % 37);
      expect(rpos).toBe(wpos);
    }
  });
});

describe('csumPartial / csumPartialCopy / csumBlockAdd', () => {
  it('csumPartial equals the word-at-a-time RFC 1071 sum (odd/even offsets and lengths, large start sums)', () => {
    const b = filled(70000, 3);
    const r = rnd(5);
    const cases: number[][] = [[0, 0], [0, 1], [1, 1], [0, 7], [1, 8], [3, 1447], [78, 1448], [0, 1500], [1, 65535], [0, 69999]];
    for (let k = 0; k < 60; k++) {
      const len = r() % 3000;
      cases.push([r() % (70000 - len), len]);
    }
    for (const [off, len] of cases) {
      for (const start of [0, 0xffff, 0x3fffffff, 0xfffffffe]) {
        expect(csumFold(csumPartial(b, off, len, start))).toBe(refSum(b, off, len, start));
      }
    }
    // an all-0xff buffer drives the partial sums to their largest values
    const ff = new Uint8Array(140000).fill(0xff);
    expect(csumFold(csumPartial(ff, 1, 139999, 0xffffffff))).toBe(refSum(ff, 1, 139999, 0xffffffff));
    expect(csumPartial(ff, 0, 139999, 0xffffffff)).toBeLessThan(2 ** 32);
  });

  it('csumPartialCopy copies and sums like copyBytes + csumPartial', () => {
    const src = filled(5000, 11);
    const r = rnd(13);
    for (let k = 0; k < 80; k++) {
      const len = k < 20 ? k : r() % 4000;
      const so = r() % (5000 - len);
      const d = r() % 16;
      const dst = new Uint8Array(4100);
      const start = k * 977;
      const s = csumPartialCopy(dst, d, src, so, len, start);
      expect(csumFold(s)).toBe(refSum(src, so, len, start));
      let bad = 0;
      for (let i = 0; i < len; i++) if (dst[d + i] !== src[so + i]) bad++;
      expect(bad).toBe(0);
      expect(dst[d + len]).toBe(0);
    }
  });

  it('csumBlockAdd joins the sums of two pieces split at an odd or even point', () => {
    const b = filled(3000, 17);
    for (const [len, split] of [[1448, 0], [1448, 1], [1448, 777], [1448, 1000], [1447, 5], [3000, 2999]]) {
      const whole = refSum(b, 0, len, 12345);
      let s = csumPartial(b, 0, split, 12345);
      s = csumBlockAdd(s, csumPartial(b, split, len - split, 0), split);
      expect(csumFold(s)).toBe(whole);
    }
  });
});
