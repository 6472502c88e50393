/*
 * alloc.ts — measures how many bytes the JS heap grows per operation of a
 * workload in steady state (Node only; benchmarks and their tests).
 *
 * Method:
 *   1. get a gc() function (--expose-gc, or turned on at run time with
 *      v8.setFlagsFromString + vm.runInNewContext('gc'));
 *   2. warm the workload up (JIT, ARP caches, pools at steady state);
 *   3. for each window: gc(); t0; h0 = heapUsed; workload.run(k);
 *      h1 = heapUsed; t1. The window is synchronous, so only the workload
 *      (and the two heap reads) can allocate inside it;
 *   4. a PerformanceObserver on 'gc' entries records every collection;
 *      after the windows, any window whose [t0, t1] overlaps a collection
 *      is discarded (a scavenge inside it would hide allocation). A window
 *      with a collection halves k for the next windows;
 *   5. the fixed cost of reading the heap (process.memoryUsage() itself
 *      allocates a few hundred bytes) is measured with k = 0 windows and
 *      subtracted;
 *   6. result = min over clean windows of (h1 - h0 - overhead) / k, also
 *      the median. The minimum is the figure: allocation by the workload is
 *      deterministic, while the JIT compiling code mid-window only adds.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { PerformanceObserver, performance } from 'node:perf_hooks';

/** A workload: run(k) performs k operations (packets, round trips, ...). */
export interface AllocWorkload {
  run(k: number): void;
}

export interface AllocOptions {
  /** operations per window (halved after a window with a GC; never below minWindow) */
  window: number;
  /** clean windows wanted */
  windows: number;
  /** operations run before measuring */
  warmup: number;
  minWindow: number;
  /** give up after this many windows in total */
  maxWindows: number;
}

export interface AllocResult {
  /** bytes per operation: minimum over clean windows (>= 0 after rounding noise) */
  bytesPerOp: number;
  /** median over clean windows */
  medianBytesPerOp: number;
  /** windows kept / discarded because a GC ran inside */
  clean: number;
  discarded: number;
  /** operations in the last window */
  window: number;
  /** bytes the heap reads themselves cost per window (subtracted) */
  overhead: number;
}

export function defaultAllocOptions(): AllocOptions {
  return { window: 20000, windows: 7, warmup: 20000, minWindow: 256, maxWindows: 40 };
}

let gcFn: (() => void) | null = null;

/** A callable gc(), turning --expose-gc on at run time when needed. */
export function getGc(): () => void {
  if (gcFn !== null) return gcFn;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') {
    gcFn = g;
    return g;
  }
  v8.setFlagsFromString('--expose-gc');
  const f = vm.runInNewContext('gc') as () => void;
  if (typeof f !== 'function') throw new Error('cannot obtain gc(): run node with --expose-gc');
  gcFn = f;
  return f;
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Memory retained by setup(): gc, read, setup, gc, read. `bytes` is JS heap;
 * `external` is ArrayBuffer backing stores (typed arrays above V8's on-heap
 * limit live outside the heap).
 */
export function measureRetained(setup: () => unknown): { bytes: number; external: number; value: unknown } {
  const gc = getGc();
  gc();
  gc();
  const m0 = process.memoryUsage();
  const v = setup();
  gc();
  gc();
  const m1 = process.memoryUsage();
  return { bytes: m1.heapUsed - m0.heapUsed, external: m1.arrayBuffers - m0.arrayBuffers, value: v };
}

interface Win {
  t0: number;
  t1: number;
  k: number;
  delta: number;
}

/** Measure bytes the heap grows per operation of `w`. */
export async function measureAlloc(w: AllocWorkload, opt?: Partial<AllocOptions>): Promise<AllocResult> {
  const o = defaultAllocOptions();
  if (opt !== undefined) Object.assign(o, opt);
  const gc = getGc();

  const gcs: { start: number; end: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });

  try {
    // Warm up in slices so the JIT sees the loop at the window's shape.
    let left = o.warmup;
    while (left > 0) {
      const k = Math.min(left, o.window);
      w.run(k);
      left -= k;
    }

    // Cost of the heap reads themselves (k = 0 windows).
    const zero: Win[] = [];
    for (let i = 0; i < 9; i++) {
      gc();
      const t0 = performance.now();
      const h0 = heapUsed();
      w.run(0);
      const h1 = heapUsed();
      zero.push({ t0, t1: performance.now(), k: 0, delta: h1 - h0 });
    }

    let k = o.window;
    const wins: Win[] = [];
    let clean = 0;
    let discarded = 0;
    for (let n = 0; n < o.maxWindows && clean < o.windows; ) {
      // Measure a batch, then let the observer deliver the GC entries.
      const batch: Win[] = [];
      for (let i = 0; i < o.windows - clean && n < o.maxWindows; i++, n++) {
        gc();
        const t0 = performance.now();
        const h0 = heapUsed();
        w.run(k);
        const h1 = heapUsed();
        const t1 = performance.now();
        batch.push({ t0, t1, k, delta: h1 - h0 });
      }
      await tick();
      await tick();
      let hadGc = false;
      for (const b of batch) {
        if (overlapsGc(b, gcs)) {
          discarded++;
          hadGc = true;
        } else {
          wins.push(b);
          clean++;
        }
      }
      if (hadGc && k > o.minWindow) k = Math.max(o.minWindow, Math.floor(k / 2));
    }
    await tick();
    const zclean = zero.filter((z) => !overlapsGc(z, gcs)).map((z) => z.delta);
    const overhead = zclean.length > 0 ? median(zclean) : 0;
    const per = wins.map((x) => Math.max(0, x.delta - overhead) / x.k);
    return {
      bytesPerOp: per.length > 0 ? Math.min.apply(null, per) : NaN,
      medianBytesPerOp: median(per),
      clean,
      discarded,
      window: k,
      overhead,
    };
  } finally {
    obs.disconnect();
  }
}

function overlapsGc(w: Win, gcs: { start: number; end: number }[]): boolean {
  for (const g of gcs) {
    if (g.end >= w.t0 && g.start <= w.t1) return true;
  }
  return false;
}
