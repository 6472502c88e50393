/*
 * sites.ts — where does a workload allocate? (Node only.) Runs the
 * workload under V8's sampling heap profiler (inspector HeapProfiler,
 * keeping samples of objects that garbage collection already freed) and
 * returns the allocation sites ranked by bytes, mapped back to the
 * TypeScript source lines when source maps are on (node
 * --enable-source-maps, which `slabnet bench --sites` arranges by
 * re-running itself in a child).
 */
import inspector from 'node:inspector';
import { findSourceMap } from 'node:module';
import type { AllocWorkload } from './alloc';

export interface AllocSite {
  /** bytes sampled at this site (an estimate, scaled by the profiler) */
  bytes: number;
  /** function name and file:line:col (1-based), TS source when mapped */
  fn: string;
  where: string;
  /** the caller chain, innermost first (up to 4 frames) */
  stack: string[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfNode[];
}

function post(s: inspector.Session, method: string, params: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    s.post(method, params, (err, res) => (err !== null && err !== undefined ? reject(err) : resolve(res)));
  });
}

function loc(cf: CallFrame): string {
  let file = cf.url;
  let line = cf.lineNumber; // 0-based
  let col = cf.columnNumber;
  try {
    const sm = file.length > 0 ? findSourceMap(file) : undefined;
    if (sm !== undefined) {
      const e = sm.findEntry(line, col) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (e !== undefined && e.originalSource !== undefined && e.originalLine !== undefined) {
        file = e.originalSource;
        line = e.originalLine;
        col = e.originalColumn !== undefined ? e.originalColumn : 0;
      }
    }
  } catch {
    /* unmapped */
  }
  file = file.replace(/^file:\/\//, '');
  const cwd = process.cwd() + '/';
  if (file.startsWith(cwd)) file = file.slice(cwd.length);
  return file + ':' + (line + 1) + ':' + (col + 1);
}

/** Sample allocations of w.run(k) (after a warm-up of `warm` ops). */
export async function profileSites(w: AllocWorkload, k: number, warm: number): Promise<AllocSite[]> {
  w.run(warm);
  const s = new inspector.Session();
  s.connect();
  try {
    await post(s, 'HeapProfiler.enable', {});
    await post(s, 'HeapProfiler.startSampling', {
      samplingInterval: 32,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    w.run(k);
    const res = (await post(s, 'HeapProfiler.stopSampling', {})) as { profile: { head: ProfNode } };
    await post(s, 'HeapProfiler.disable', {});
    const sites = new Map<string, AllocSite>();
    const walk = (n: ProfNode, chain: CallFrame[]): void => {
      const c = chain.concat([n.callFrame]);
      if (n.selfSize > 0) {
        const where = loc(n.callFrame);
        const key = where + '|' + (chain.length > 0 ? loc(chain[chain.length - 1]) : '');
        const stack: string[] = [];
        for (let i = c.length - 2; i >= 0 && stack.length < 4; i--) {
          stack.push((c[i].functionName || '(anon)') + ' ' + loc(c[i]));
        }
        const prev = sites.get(key);
        if (prev !== undefined) prev.bytes += n.selfSize;
        else sites.set(key, { bytes: n.selfSize, fn: n.callFrame.functionName || '(anon)', where, stack });
      }
      for (const ch of n.children) walk(ch, c);
    };
    walk(res.profile.head, []);
    const out = Array.from(sites.values()).filter((x) => !x.where.includes('bench/sites.ts'));
    out.sort((a, b) => b.bytes - a.bytes);
    return out;
  } finally {
    s.disconnect();
  }
}
