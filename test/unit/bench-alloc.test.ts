/*
 * bench-alloc.test.ts — validates the heap-growth measurement used by
 * `npm run bench` (bench/alloc.ts): a loop that creates one small object
 * per operation must measure clearly above zero, a loop of typed-array
 * writes must measure near zero. No timing thresholds.
 */
import { describe, it, expect } from 'vitest';
import { measureAlloc, measureRetained, AllocWorkload } from '../../bench/alloc';

const sinkHolder: { o: unknown; arr: unknown[] } = { o: null, arr: [] };

class Allocating implements AllocWorkload {
  run(k: number): void {
    for (let i = 0; i < k; i++) {
      // stored in a reachable place so escape analysis cannot remove it
      sinkHolder.o = { a: i, b: i + 1, c: i + 2 };
    }
  }
}

class TypedWrites implements AllocWorkload {
  readonly ta = new Uint8Array(2048);
  readonly u32 = new Uint32Array(64);
  run(k: number): void {
    const ta = this.ta;
    const u = this.u32;
    for (let i = 0; i < k; i++) {
      ta[i & 2047] = (ta[(i + 1) & 2047] + i) & 0xff;
      u[i & 63] = (u[i & 63] + 0x9e3779b9) >>> 0;
    }
  }
}

class BigAllocating implements AllocWorkload {
  run(k: number): void {
    for (let i = 0; i < k; i++) sinkHolder.o = new Array(50).fill(i);
  }
}

describe('bench/alloc measureAlloc', () => {
  it('sees one small object per operation', async () => {
    const r = await measureAlloc(new Allocating(), { window: 5000, windows: 5, warmup: 5000 });
    expect(r.clean).toBeGreaterThan(0);
    // an object with three fields is at least 12 bytes even with pointer compression
    expect(r.bytesPerOp).toBeGreaterThanOrEqual(12);
  });

  it('scales with the size of what is allocated', async () => {
    const r = await measureAlloc(new BigAllocating(), { window: 2000, windows: 5, warmup: 2000 });
    expect(r.clean).toBeGreaterThan(0);
    // 50 element slots: at least 4 bytes each (8 without pointer compression)
    expect(r.bytesPerOp).toBeGreaterThanOrEqual(200);
  });

  it('reports about zero for typed-array writes', async () => {
    const r = await measureAlloc(new TypedWrites(), { window: 20000, windows: 5, warmup: 20000 });
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeLessThan(0.5);
  });

  it('measureRetained sees a retained buffer', () => {
    const r = measureRetained(() => {
      sinkHolder.arr.push(new Array(100000).fill(1));
      return 1;
    });
    expect(r.bytes).toBeGreaterThan(300000);
    sinkHolder.arr.length = 0;
  });
});
