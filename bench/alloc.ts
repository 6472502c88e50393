/*
 * alloc.ts — measures how many bytes the JS heap grows per operation of a
 * workload in steady state (Node only; benchmarks and their tests).
 *
 * Method:
 *   1. get a gc() function (--expose-gc, or turned on at run time with
 *      v8.setFlagsFromString + vm.runInNewContext('gc'));
 *   2. warm the workload up (JIT, ARP caches, pools at steady state);
 *   3. for each window: gc(); t0; read heap; workload.run(k); read heap;
 *      t1. The window is synchronous, so only the workload (and the two
 *      heap reads) run inside it. A heap read is
 *      v8.getHeapSpaceStatistics(): total used bytes of all spaces, and
 *      "young" bytes (new_space + new_large_object_space), where fresh
 *      allocations land;
 *   4. a PerformanceObserver on 'gc' entries records every collection;
 *      after the windows, any window whose [t0, t1] overlaps a collection
 *      is discarded (a scavenge inside it would hide allocation). A window
 *      with a collection halves k for the next windows;
 *   5. the fixed cost of the heap reads themselves (they allocate their
 *      result) is measured with k = 0 windows, minimum over several;
 *   6. result = min over clean windows of (delta - overhead) / k, for the
 *      total and for young space; the median of the total is reported
 *      too. Minima, because the workload's allocation is deterministic
 *      while the noise only adds: V8 sporadically grows old space by
 *      ~200 KB right after a forced GC (sweeping / JIT code install,
 *      seen under the tsx loader), which a single window would report.
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
  /** the same counting only young-generation growth (where fresh objects land) */
  youngBytesPerOp: number;
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

/** Heap read into r: r[0] = used bytes (all spaces), r[1] = young (new + new large object) bytes. */
function readHeap(r: Float64Array): void {
  const sp = v8.getHeapSpaceStatistics();
  let total = 0;
  let young = 0;
  for (let i = 0; i < sp.length; i++) {
    const u = sp[i].space_used_size;
    total += u;
    const n = sp[i].space_name;
    if (n === 'new_space' || n === 'new_large_object_space') young += u;
  }
  r[0] = total;
  r[1] = young;
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
  young: number;
}

/** Measure bytes the heap grows per operation of `w`. */
export async function measureAlloc(w: AllocWorkload, opt?: Partial<AllocOptions>): Promise<AllocResult> {
  const o = defaultAllocOptions();
  if (opt !== undefined) Object.assign(o, opt);
  const gc = getGc();
  const h0 = new Float64Array(2);
  const h1 = new Float64Array(2);
  readHeap(h0);
  readHeap(h1);

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
      readHeap(h0);
      w.run(0);
      readHeap(h1);
      zero.push({ t0, t1: performance.now(), k: 0, delta: h1[0] - h0[0], young: h1[1] - h0[1] });
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
        readHeap(h0);
        w.run(k);
        readHeap(h1);
        const t1 = performance.now();
        batch.push({ t0, t1, k, delta: h1[0] - h0[0], young: h1[1] - h0[1] });
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
    const zclean = zero.filter((z) => !overlapsGc(z, gcs));
    const overhead = zclean.length > 0 ? Math.min.apply(null, zclean.map((z) => z.delta)) : 0;
    const overYoung = zclean.length > 0 ? Math.min.apply(null, zclean.map((z) => z.young)) : 0;
    const per = wins.map((x) => Math.max(0, x.delta - overhead) / x.k);
    const perYoung = wins.map((x) => Math.max(0, x.young - overYoung) / x.k);
    return {
      bytesPerOp: per.length > 0 ? Math.min.apply(null, per) : NaN,
      youngBytesPerOp: perYoung.length > 0 ? Math.min.apply(null, perYoung) : NaN,
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
