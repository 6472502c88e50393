/*
 * smoke_lib.ts — the cross-runtime smoke test: the same code runs under
 * Node (test/build/lua.test.ts calls runSmoke directly) and under Lua 5.3
 * (test/lua/smoke.ts is the entry of the typescript-to-lua bundle that
 * `npm run build:lua` runs). Both must print the SAME summary line: the
 * core is deterministic, so any difference is a Lua miscompilation or a
 * shim bug.
 *
 * Exercises: skb pool and queues, timer wheel, checksum, 32-bit
 * arithmetic helpers, PRNG; then two stacks on a PairLink that ARP-resolve
 * each other and exchange an ICMP echo (icmpPing), ending with every skb
 * back in the pool; the s32 IPv4 address helpers (smoke_inaddr.ts). Throws (Lua: error → non-zero exit) on any mismatch.
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { SkbPool, SkbQueue, SKB_NONE } from '../../src/core/skb';
import { TimerWheel, TimerHandler } from '../../src/core/timer';
import { ipCompute, csumPartial, csumFinish, csumReplace2 } from '../../src/core/checksum';
import { u32, s32, before, after } from '../../src/core/bits';
import { get16, get32, put16, put32, copyBytes } from '../../src/core/bytes';
import { XorShift32 } from '../../src/core/rng';
import { smokeNet } from './smoke_net';
import { inaddrChecks } from './smoke_inaddr';

export const SMOKE_OK = 'SLABNET-LUA-SMOKE OK';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('smoke: ' + what);
}

class Counter implements TimerHandler {
  fired = 0;
  sum = 0;
  onTimer(arg: number): void {
    this.fired++;
    this.sum += arg;
  }
}

function smokeCore(): string {
  /* pool and queue */
  const p = new SkbPool({ smallCount: 4, smallSize: 256, largeCount: 1, largeSize: 2048, headroom: 32 });
  const a = p.alloc(100);
  const b = p.alloc(1000); // large
  const c = p.alloc(5000); // too big
  check(a !== SKB_NONE && b !== SKB_NONE && c === SKB_NONE, 'alloc');
  check(p.inUse() === 2, 'inUse 2');
  const o = p.put(a, 20);
  check(o === 32 && p.len(a) === 20, 'put');
  const q = new SkbQueue(p, 1);
  check(q.enqueue(a) && !q.enqueue(b), 'queue limit');
  check(q.dequeue() === a && q.dequeue() === SKB_NONE, 'dequeue');
  p.free(a);
  p.free(b);
  p.free(b); // double free is counted, not fatal
  check(p.inUse() === 0 && p.badFrees === 1, 'free');

  /* bytes + checksum (RFC 1071 example words 0001 f203 f4f5 f6f7 → sum ddf2, cksum 220d) */
  const buf = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  check(ipCompute(buf, 0, 8) === 0x220d, 'rfc1071 checksum');
  const odd = csumFinish(csumPartial(buf, 0, 7, 0));
  put16(buf, 0, 0x1234);
  put32(buf, 4, 0xdeadbeef);
  check(get16(buf, 0) === 0x1234 && get32(buf, 4) === 0xdeadbeef, 'get/put');
  copyBytes(buf, 1, buf, 0, 6); // overlapping move
  check(buf[1] === 0x12 && buf[2] === 0x34 && buf[6] === 0xad && buf[7] === 0xef, 'memmove');
  const inc = csumReplace2(0x220d, 0x0001, 0x0002);
  const full = ipCompute(new Uint8Array([0x00, 0x02, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8);
  check(inc === full, 'incremental checksum');

  /* 32-bit arithmetic */
  check(u32(0xffffffff + 2) === 1 && u32(-1) === 0xffffffff, 'u32');
  check(s32(0xffffffff) === -1 && s32(0x7fffffff) === 0x7fffffff, 's32');
  check(before(0xfffffff0, 5) && after(5, 0xfffffff0) && !before(5, 5), 'seq compare');

  /* prng: fixed sequence on every runtime */
  const r = new XorShift32(12345);
  let x = 0;
  for (let i = 0; i < 100; i++) x = r.next32();
  check(x >= 0 && x <= 0xffffffff, 'rng range');

  /* timer wheel */
  const tw = new TimerWheel(8, 16, 10);
  const h = new Counter();
  const t1 = tw.register(h, 1);
  const t2 = tw.register(h, 2);
  tw.run(0);
  tw.mod(t1, 25);
  tw.mod(t2, 1000);
  tw.run(20);
  check(h.fired === 0, 'timer early');
  tw.run(30);
  check(h.fired === 1 && h.sum === 1 && tw.pending(t2), 'timer fired');
  tw.del(t2);
  tw.run(2000);
  check(h.fired === 1 && tw.active === 0, 'timer del');

  return 'core csum7=' + odd + ' rng=' + x;
}

/** Run everything; returns the summary line (starts with SMOKE_OK). */
export function runSmoke(): string {
  const core = smokeCore();
  const clock = new ManualClock(0);
  const st = new Stack('lua', { skbSmallCount: 8, skbLargeCount: 0, skbLargeSize: 0 }, clock, undefined);
  check(st.pool.inUse() === 0, 'stack pool');
  const net = smokeNet();
  const ia = inaddrChecks();
  return SMOKE_OK + ' ' + core + ' ' + net + ' ' + ia;
}
