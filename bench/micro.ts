/*
 * micro.ts — core micro-benchmarks (Node only): the Internet checksum
 * over 1500-byte buffers (src/core/checksum.ts) and skb pool alloc/free
 * (src/core/skb.ts). Each workload is an AllocWorkload so the same object
 * gives a rate (timeRun) and a heap-growth figure (bench/alloc.ts).
 */
import { performance } from 'node:perf_hooks';
import { csumPartial, csumFinish } from '../src/core/checksum';
import { SkbPool, SKB_NONE } from '../src/core/skb';
import type { AllocWorkload } from './alloc';

/** Run `w` in slices of `slice` ops for about `ms` wall milliseconds; returns ops per second. */
export function timeRun(w: AllocWorkload, slice: number, ms: number): { opsPerSec: number; ops: number; secs: number } {
  // short warm-up so the JIT has compiled the loop
  w.run(slice);
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    w.run(slice);
    ops += slice;
    t = performance.now();
  }
  const secs = (t - t0) / 1000;
  return { opsPerSec: ops / secs, ops, secs };
}

/** ipCompute over a 1500-byte buffer per op. */
export class ChecksumWork implements AllocWorkload {
  readonly buf = new Uint8Array(1500);
  /** folded result of the last op (keeps the work observable) */
  last = 0;
  constructor() {
    for (let i = 0; i < this.buf.length; i++) this.buf[i] = (i * 7 + 3) & 0xff;
  }
  run(k: number): void {
    const b = this.buf;
    let r = 0;
    for (let i = 0; i < k; i++) {
      b[0] = i & 0xff;
      r = csumFinish(csumPartial(b, 0, 1500, r & 0xff));
    }
    this.last = r;
  }
}

/** alloc(64) + put + free per op, with a few skbs held so the free list moves. */
export class SkbAllocFreeWork implements AllocWorkload {
  readonly pool = new SkbPool({ smallCount: 64, smallSize: 1600, largeCount: 2, largeSize: 4096, headroom: 64 });
  readonly held = new Int32Array(8);
  fails = 0;
  constructor() {
    for (let i = 0; i < this.held.length; i++) this.held[i] = this.pool.alloc(100);
  }
  run(k: number): void {
    const p = this.pool;
    const held = this.held;
    for (let i = 0; i < k; i++) {
      const h = p.alloc(64);
      if (h === SKB_NONE) {
        this.fails++;
        continue;
      }
      p.put(h, 64);
      // rotate: free an older skb, keep the new one
      const j = i & 7;
      p.free(held[j]);
      held[j] = h;
    }
  }
}
