/*
 * apps_slots_alloc.test.ts — the slot policy of src/apps/tcp_service.ts
 * allocates nothing per connection: whole TCP echo connections where every
 * newcomer evicts the slot that waited longest (accept readiness, the
 * peer's address, victim choice, abort), sampled with V8's sampling heap
 * profiler as apps_tcp_alloc.test.ts does (TCP's own connect path
 * allocates, so only frames in src/apps/ are counted; TurboFan inlining
 * off in this worker so a callee is not blamed on its caller).
 */
import { describe, it, expect } from 'vitest';
import { Session } from 'node:inspector';
import v8 from 'node:v8';
import { tcpPair, IP_B, expectClean, TEnv } from './tcp_util';
import { ServiceMux } from '../../src/apps/service';
import { TcpEchoService, TCP_ECHO_PORT } from '../../src/apps/tcp_echo';
import { tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';

v8.setFlagsFromString('--no-turbo-inlining');

const OVER = { maxSockets: 48, tcpMaxSockets: 40, timerMax: 256, skbSmallCount: 128, tcpMslMs: 50, tcpTimeWaitSlots: 32 };

function step(e: TEnv, mux: ServiceMux): void {
  e.clock.advance(1);
  e.a.poll();
  e.b.poll();
  if (mux.run() > 0) e.b.poll();
}

/**
 * One connection per operation: connect, 100 bytes echoed, and left open;
 * with 2 slots busy the newcomer evicts the oldest (RST), whose client end
 * is closed when the next operation starts.
 */
class EvictingConns {
  readonly out = new Uint8Array(100);
  readonly inb = new Uint8Array(256);
  readonly open: number[] = [-1, -1, -1];
  done = 0;
  bad = 0;
  constructor(
    readonly e: TEnv,
    readonly mux: ServiceMux,
  ) {}
  run(n: number): void {
    const e = this.e;
    for (let i = 0; i < n; i++) {
      // the connection from 3 operations ago was evicted 2 operations ago: its end is closed here
      const k = i % 3;
      if (this.open[k] >= 0) tcpClose(e.a, this.open[k]);
      const c = tcpSocket(e.a);
      this.open[k] = c;
      if (c < 0) {
        this.bad++;
        continue;
      }
      tcpConnect(e.a, c, IP_B, TCP_ECHO_PORT);
      let t = 0;
      for (; t < 1000 && e.a.tcp.state[c] !== TCP_ESTABLISHED; t++) step(e, this.mux);
      tcpSend(e.a, c, this.out, 0, 100);
      let got = 0;
      for (; t < 2000 && got < 100; t++) {
        step(e, this.mux);
        for (;;) {
          const r = tcpRecv(e.a, c, this.inb, 0, this.inb.length);
          if (r <= 0) break;
          got += r;
        }
      }
      if (got !== 100) this.bad++;
      this.done++;
    }
  }
}

type ProfNode = { callFrame: { url: string; functionName: string; lineNumber: number }; selfSize: number; children: ProfNode[] };

function post<T>(s: Session, m: string, p?: object): Promise<T> {
  return new Promise((res, rej) => s.post(m, p ?? {}, (err, r) => (err ? rej(err) : res(r as T))));
}

/** Run w.run(n) under the sampling heap profiler; bytes sampled with / without an src/apps/ allocating frame. */
async function sampleAlloc(w: EvictingConns, n: number): Promise<{ apps: number; other: number; where: string[] }> {
  const s = new Session();
  s.connect();
  await post(s, 'HeapProfiler.enable');
  await post(s, 'HeapProfiler.startSampling', {
    samplingInterval: 32, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
  w.run(n);
  const { profile } = await post<{ profile: { head: ProfNode } }>(s, 'HeapProfiler.stopSampling');
  s.disconnect();
  const out = { apps: 0, other: 0, where: [] as string[] };
  const walk = (node: ProfNode, path: string): void => {
    const f = node.callFrame;
    const here = f.url.indexOf('/src/apps/') >= 0;
    const p = path + ' <- ' + f.functionName + '@' + f.url.split('/').slice(-2).join('/') + ':' + (f.lineNumber + 1);
    if (node.selfSize > 0) {
      if (here) {
        out.apps += node.selfSize;
        out.where.push(p + ' [' + node.selfSize + ' B]');
      } else out.other += node.selfSize;
    }
    for (const c of node.children) walk(c, p);
  };
  walk(profile.head, '');
  return out;
}

describe('tcp service slot policy allocation', () => {
  it('connections that each evict the longest-waiting slot: nothing allocated in src/apps/', async () => {
    const e = tcpPair(OVER);
    e.link.a.filter = null;
    e.link.b.filter = null;
    e.a.events = null;
    const mux = new ServiceMux(e.b);
    const ec = new TcpEchoService(e.b, TCP_ECHO_PORT, 2, 1024, 30000, { evictMs: 0, perPeer: 2 });
    mux.add(ec);
    expect(mux.start()).toBe(0);
    const w = new EvictingConns(e, mux);
    w.run(3000); // warm up: JIT (the first thousand connections re-optimise run() several times), TIME_WAIT slots cycling
    const ev0 = ec.stats().evicted;
    const n = 3000;
    const r = await sampleAlloc(w, n);
    expect(w.bad).toBe(0);
    // (almost) every connection took an evicted slot (one may find a slot its client's close freed)
    expect(ec.stats().evicted - ev0).toBeGreaterThanOrEqual(n - 2);
    expect(r.apps + r.other).toBeGreaterThan(0);
    expect(r.apps / n, r.where.join('\n')).toBeLessThan(4);
    for (const c of w.open) if (c >= 0) tcpClose(e.a, c);
    mux.stop();
    expectClean(e);
  });
});
