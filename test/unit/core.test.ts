/*
 * core.test.ts — src/core: skb pool and queues, timer wheel, Internet
 * checksum (RFC 1071 / RFC 1624), 32-bit helpers, byte access, PRNG.
 */
import { describe, it, expect } from 'vitest';
import { SkbPool, SkbQueue, SKB_NONE } from '../../src/core/skb';
import { TimerWheel, TimerHandler } from '../../src/core/timer';
import {
  csumPartial, csumFold, csumFinish, ipCompute, csumReplace2, csumReplace4, csumTcpUdpMagic,
} from '../../src/core/checksum';
import { u32, s32, before, after, idiv } from '../../src/core/bits';
import { get16, put16, get32, put32, copyBytes, fillBytes, equalBytes, put8 } from '../../src/core/bytes';
import { XorShift32 } from '../../src/core/rng';
import { ManualClock } from '../../src/core/clock';
import { errnoName, EAGAIN, ECONNRESET } from '../../src/core/errno';
import { Mib, IP_INRECEIVES, LINK_RXFRAMES } from '../../src/core/mib';

function pool(small: number, large: number): SkbPool {
  return new SkbPool({ smallCount: small, smallSize: 256, largeCount: large, largeSize: 4096, headroom: 32 });
}

describe('SkbPool', () => {
  it('allocates with headroom, empty, and frees back', () => {
    const p = pool(4, 1);
    const h = p.alloc(100);
    expect(h).not.toBe(SKB_NONE);
    expect(p.data[h]).toBe(32);
    expect(p.tail[h]).toBe(32);
    expect(p.len(h)).toBe(0);
    expect(p.headroomOf(h)).toBe(32);
    expect(p.tailroom(h)).toBe(256 - 32);
    expect(p.dev[h]).toBe(-1);
    expect(p.inUse()).toBe(1);
    p.free(h);
    expect(p.inUse()).toBe(0);
    expect(p.allocs).toBe(1);
    expect(p.frees).toBe(1);
  });

  it('resets metadata on reuse', () => {
    const p = pool(1, 0);
    const h = p.alloc(10);
    p.put(h, 10);
    p.cb0[h] = 7;
    p.proto[h] = 0x800;
    p.dev[h] = 3;
    p.free(h);
    const h2 = p.alloc(10);
    expect(h2).toBe(h);
    expect(p.len(h2)).toBe(0);
    expect(p.cb0[h2]).toBe(0);
    expect(p.proto[h2]).toBe(0);
    expect(p.dev[h2]).toBe(-1);
    p.free(h2);
  });

  it('exhausts small, falls back to large, then fails and counts', () => {
    const p = pool(2, 1);
    const a = p.alloc(10);
    const b = p.alloc(10);
    const c = p.alloc(10); // small exhausted → large
    expect(p.isLarge(a)).toBe(false);
    expect(p.isLarge(b)).toBe(false);
    expect(p.isLarge(c)).toBe(true);
    expect(p.alloc(10)).toBe(SKB_NONE);
    expect(p.allocFails).toBe(1);
    expect(p.highSmall).toBe(2);
    expect(p.highLarge).toBe(1);
    p.free(a);
    const d = p.alloc(10);
    expect(d).toBe(a);
    for (const h of [b, c, d]) p.free(h);
    expect(p.inUse()).toBe(0);
  });

  it('sizes: big requests take a large skb; too big fails', () => {
    const p = pool(2, 1);
    const big = p.alloc(1000);
    expect(p.isLarge(big)).toBe(true);
    expect(p.alloc(5000)).toBe(SKB_NONE);
    expect(p.alloc(256 - 32)).not.toBe(SKB_NONE); // exactly fits a small one
    expect(p.alloc(256 - 31)).toBe(SKB_NONE); // needs large, none left
    expect(p.allocFails).toBe(2);
    p.free(big);
    expect(p.inUse()).toBe(1);
  });

  it('push/pull/put/trim/reserve move the window and refuse to overrun', () => {
    const p = pool(1, 0);
    const h = p.alloc(50);
    expect(p.put(h, 20)).toBe(32);
    expect(p.len(h)).toBe(20);
    expect(p.push(h, 14)).toBe(18);
    expect(p.len(h)).toBe(34);
    expect(p.push(h, 19)).toBe(-1); // only 18 bytes of headroom left
    expect(p.data[h]).toBe(18);
    expect(p.pull(h, 14)).toBe(32);
    expect(p.pull(h, 21)).toBe(-1); // more than len
    expect(p.len(h)).toBe(20);
    p.trim(h, 5);
    expect(p.len(h)).toBe(5);
    p.trim(h, 50); // no-op when shorter
    expect(p.len(h)).toBe(5);
    expect(p.put(h, 256)).toBe(-1);
    expect(p.put(h, 256 - p.tail[h])).toBe(37);
    expect(p.tailroom(h)).toBe(0);
    p.free(h);
    const g = p.alloc(10);
    p.reserve(g, 8);
    expect(p.data[g]).toBe(40);
    expect(p.tail[g]).toBe(40);
    p.free(g);
  });

  it('double free and invalid handles are counted and ignored', () => {
    const p = pool(2, 0);
    const h = p.alloc(10);
    p.free(h);
    p.free(h);
    p.free(-1);
    p.free(99);
    expect(p.badFrees).toBe(3);
    expect(p.inUse()).toBe(0);
    // free list intact: still exactly two skbs
    const a = p.alloc(1);
    const b = p.alloc(1);
    expect(a).not.toBe(b);
    expect(p.alloc(1)).toBe(SKB_NONE);
    p.free(a);
    p.free(b);
  });
});

describe('SkbQueue', () => {
  it('is a bounded FIFO with byte accounting', () => {
    const p = pool(8, 0);
    const q = new SkbQueue(p, 3);
    const hs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const h = p.alloc(10);
      p.put(h, i + 1);
      hs.push(h);
    }
    expect(q.enqueue(hs[0])).toBe(true);
    expect(q.enqueue(hs[1])).toBe(true);
    expect(q.enqueue(hs[2])).toBe(true);
    expect(q.enqueue(hs[3])).toBe(false);
    expect(q.qlen).toBe(3);
    expect(q.bytes).toBe(1 + 2 + 3);
    expect(q.peek()).toBe(hs[0]);
    expect(q.dequeue()).toBe(hs[0]);
    expect(q.bytes).toBe(5);
    q.requeue(hs[0]); // front, ignores the limit
    q.requeue(hs[3]);
    expect(q.qlen).toBe(4);
    const order: number[] = [];
    let h = q.dequeue();
    while (h !== SKB_NONE) {
      order.push(h);
      h = q.dequeue();
    }
    expect(order).toEqual([hs[3], hs[0], hs[1], hs[2]]);
    expect(q.qlen).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.dequeue()).toBe(SKB_NONE);
    for (const x of hs) p.free(x);
    expect(p.inUse()).toBe(0);
  });

  it('requeue into an empty queue and purge free everything', () => {
    const p = pool(4, 0);
    const q = new SkbQueue(p, 2);
    const a = p.alloc(1);
    q.requeue(a);
    expect(q.peek()).toBe(a);
    const b = p.alloc(1);
    expect(q.enqueue(b)).toBe(true);
    expect(q.dequeue()).toBe(a);
    expect(q.dequeue()).toBe(b);
    q.enqueue(a);
    q.enqueue(b);
    q.purge();
    expect(q.qlen).toBe(0);
    expect(p.inUse()).toBe(0);
    expect(p.badFrees).toBe(0);
  });
});

class Rec implements TimerHandler {
  log: [number, number][] = [];
  rearm: ((arg: number) => void) | null = null;
  constructor(readonly clock: ManualClock) {}
  onTimer(arg: number): void {
    this.log.push([arg, this.clock.now()]);
    if (this.rearm !== null) this.rearm(arg);
  }
}

describe('TimerWheel', () => {
  it('fires in expiry order across slots, only when due', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(8, 16, 10);
    const r = new Rec(clock);
    const ids = [w.register(r, 0), w.register(r, 1), w.register(r, 2)];
    w.run(0);
    w.mod(ids[0], 50);
    w.mod(ids[1], 20);
    w.mod(ids[2], 35);
    expect(w.active).toBe(3);
    expect(w.nextExpiry()).toBe(20);
    clock.set(19);
    expect(w.run(19)).toBe(0);
    clock.set(100);
    expect(w.run(100)).toBe(3);
    expect(r.log.map((x) => x[0])).toEqual([1, 2, 0]);
    expect(w.active).toBe(0);
    expect(w.nextExpiry()).toBe(-1);
  });

  it('a timer armed before the first run() fires on the first run at or after its expiry', () => {
    // regression: the first run() used to start its walk at "now", so a timer
    // armed earlier for a tick already behind waited a whole revolution
    const clock = new ManualClock(5000);
    const w = new TimerWheel(4, 16, 10);
    const r = new Rec(clock);
    const a = w.register(r, 1);
    const b = w.register(r, 2);
    w.mod(a, 5000); // due immediately
    w.mod(b, 5020);
    clock.set(5030);
    expect(w.run(5030)).toBe(2);
    expect(r.log.map((x) => x[0])).toEqual([1, 2]);
    // and one armed "now" on a fresh wheel fires on the first run at now
    const w2 = new TimerWheel(4, 16, 10);
    const c = w2.register(r, 3);
    w2.mod(c, 123456);
    expect(w2.run(123456)).toBe(1);
  });

  it('does not fire a timer within the same tick before its expiry', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(4, 8, 10);
    const r = new Rec(clock);
    const id = w.register(r, 9);
    w.run(0);
    w.mod(id, 17);
    expect(w.run(15)).toBe(0);
    expect(w.pending(id)).toBe(true);
    expect(w.run(17)).toBe(1);
    expect(w.pending(id)).toBe(false);
  });

  it('del disarms; mod re-arms (moving the timer)', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(4, 8, 10);
    const r = new Rec(clock);
    const a = w.register(r, 1);
    const b = w.register(r, 2);
    w.run(0);
    w.mod(a, 30);
    w.mod(b, 30);
    w.del(a);
    w.del(a); // harmless
    expect(w.pending(a)).toBe(false);
    w.mod(b, 60); // moved later
    expect(w.active).toBe(1);
    expect(w.run(40)).toBe(0);
    expect(w.run(60)).toBe(1);
    expect(r.log).toEqual([[2, 0]]);
  });

  it('a callback may re-arm its own timer (periodic) and it does not spin', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(4, 8, 10);
    const r = new Rec(clock);
    const id = w.register(r, 5);
    r.rearm = () => w.mod(id, clock.now() + 25);
    w.run(0);
    w.mod(id, 25);
    let fired = 0;
    for (let t = 0; t <= 200; t += 5) {
      clock.set(t);
      fired += w.run(t);
    }
    expect(fired).toBe(8); // 25, 50, ..., 200
    // re-arming for "now" from the callback (here after a jump of more than one
    // revolution, so the new tick maps to the slot being walked) must not spin
    r.rearm = () => w.mod(id, clock.now());
    clock.set(300);
    expect(w.run(300)).toBe(1);
    expect(w.pending(id)).toBe(true);
    clock.set(310);
    const k = w.run(310); // the 300 expiry, then at most the one re-armed for 310
    expect(k).toBeGreaterThanOrEqual(1);
    expect(k).toBeLessThanOrEqual(2);
    expect(w.pending(id)).toBe(true);
  });

  it('a callback may arm another timer due in the same run', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(4, 8, 10);
    const r = new Rec(clock);
    const a = w.register(r, 1);
    const b = w.register(r, 2);
    r.rearm = (arg) => {
      if (arg === 1) w.mod(b, 45);
    };
    w.run(0);
    w.mod(a, 20);
    clock.set(50);
    expect(w.run(50)).toBe(2);
    expect(r.log.map((x) => x[0])).toEqual([1, 2]);
  });

  it('handles jumps over many revolutions and far-future timers', () => {
    const clock = new ManualClock(0);
    const w = new TimerWheel(8, 8, 10); // one revolution = 80 ms
    const r = new Rec(clock);
    const near = w.register(r, 1);
    const far = w.register(r, 2);
    const later = w.register(r, 3);
    w.run(0);
    w.mod(near, 30);
    w.mod(far, 1000); // 12+ revolutions ahead, same slot class as others
    w.mod(later, 10000);
    clock.set(500);
    expect(w.run(500)).toBe(1); // jump of 6 revolutions: only `near` is due
    expect(w.pending(far)).toBe(true);
    clock.set(999);
    expect(w.run(999)).toBe(0);
    clock.set(1000);
    expect(w.run(1000)).toBe(1);
    expect(w.nextExpiry()).toBe(10000);
    clock.set(123456);
    expect(w.run(123456)).toBe(1);
    expect(r.log.map((x) => x[0])).toEqual([1, 2, 3]);
    expect(w.active).toBe(0);
  });

  it('arming in the past fires on the next run; register refuses beyond max', () => {
    const clock = new ManualClock(1000);
    const w = new TimerWheel(2, 8, 10);
    const r = new Rec(clock);
    const a = w.register(r, 1);
    w.register(r, 2);
    expect(w.register(r, 3)).toBe(-1);
    w.run(1000);
    w.mod(a, 500);
    expect(w.run(1000)).toBe(1);
  });

  it('random schedule: every timer fires exactly once, never early, in order of expiry ticks', () => {
    const clock = new ManualClock(0);
    const n = 50;
    const w = new TimerWheel(n, 16, 10);
    const rng = new XorShift32(7);
    const r = new Rec(clock);
    const due: number[] = [];
    for (let i = 0; i < n; i++) w.register(r, i);
    w.run(0);
    for (let i = 0; i < n; i++) {
      due.push(1 + rng.below(5000));
      w.mod(i, due[i]);
    }
    for (let t = 0; t <= 6000; t += 1 + rng.below(300)) {
      clock.set(t);
      w.run(t);
    }
    clock.set(6000);
    w.run(6000);
    expect(r.log.length).toBe(n);
    const seen = new Set<number>();
    let lastDue = -1;
    for (const [id, at] of r.log) {
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      expect(at).toBeGreaterThanOrEqual(due[id]);
      // within one run timers may fire in slot order, but never before an earlier run's timers
      lastDue = Math.max(lastDue, due[id]);
    }
    expect(lastDue).toBe(Math.max(...due));
  });
});

describe('checksum', () => {
  it('RFC 1071 example and a known IPv4 header', () => {
    const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(csumFold(csumPartial(b, 0, 8, 0))).toBe(0xddf2);
    expect(ipCompute(b, 0, 8)).toBe(0x220d);
    const ip = new Uint8Array([
      0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
      0xc0, 0xa8, 0x00, 0xc7,
    ]);
    expect(ipCompute(ip, 0, 20)).toBe(0xb861);
    put16(ip, 10, 0xb861);
    expect(ipCompute(ip, 0, 20)).toBe(0); // verifying a correct header gives 0
  });

  it('odd lengths pad with a zero byte; offsets and running sums compose', () => {
    expect(ipCompute(new Uint8Array([0x01]), 0, 1)).toBe(0xfeff);
    expect(ipCompute(new Uint8Array([0x00, 0x01, 0xf2]), 0, 3)).toBe(0x0dfe);
    expect(ipCompute(new Uint8Array([9, 9, 0x00, 0x01, 0xf2]), 2, 3)).toBe(0x0dfe);
    const rng = new XorShift32(3);
    const b = new Uint8Array(1001);
    for (let i = 0; i < b.length; i++) b[i] = rng.next32() & 0xff;
    const whole = ipCompute(b, 0, 1001);
    // split at an even boundary
    expect(csumFinish(csumPartial(b, 400, 601, csumPartial(b, 0, 400, 0)))).toBe(whole);
    expect(ipCompute(new Uint8Array(0), 0, 0)).toBe(0xffff);
  });

  it('large buffers do not overflow the running sum', () => {
    const b = new Uint8Array(65535).fill(0xff);
    // all-ones data sums to 0xffff (negative zero): checksum 0
    expect(ipCompute(b, 0, 65534)).toBe(0);
    const s = csumPartial(b, 0, 65535, 0);
    expect(s).toBeLessThan(0x100000000);
    expect(csumFold(s)).toBeLessThanOrEqual(0xffff);
  });

  it('RFC 1624 incremental update equals recomputation over random data', () => {
    const rng = new XorShift32(99);
    const b = new Uint8Array(64);
    for (let trial = 0; trial < 2000; trial++) {
      for (let i = 0; i < b.length; i++) b[i] = rng.next32() & 0xff;
      put16(b, 10, 0);
      const c = ipCompute(b, 0, b.length);
      const w = 2 * (rng.below(32));
      if (w === 10) continue;
      const oldW = get16(b, w);
      const newW = rng.next32() & 0xffff;
      put16(b, w, newW);
      expect(csumReplace2(c, oldW, newW)).toBe(ipCompute(b, 0, b.length));
      // 32-bit field (an address) at an even, non-checksum offset
      const oldV = get32(b, 12);
      const newV = rng.next32();
      put32(b, 12, newV);
      const c2 = ipCompute(b, 0, b.length);
      put32(b, 12, oldV);
      expect(csumReplace4(ipCompute(b, 0, b.length), oldV, newV)).toBe(c2);
    }
  });

  it('pseudo-header sum matches summing the pseudo-header bytes', () => {
    const ph = new Uint8Array(12);
    put32(ph, 0, 0xc0000201);
    put32(ph, 4, 0xc6120005);
    ph[9] = 17;
    put16(ph, 10, 1234);
    expect(csumFold(csumTcpUdpMagic(0xc0000201, 0xc6120005, 1234, 17))).toBe(csumFold(csumPartial(ph, 0, 12, 0)));
  });
});

describe('bits', () => {
  it('u32 and s32 wrap at 2^32', () => {
    expect(u32(-1)).toBe(0xffffffff);
    expect(u32(0x100000000)).toBe(0);
    expect(u32(0x100000005)).toBe(5);
    expect(u32(0xffffffff + 2)).toBe(1);
    expect(s32(0xffffffff)).toBe(-1);
    expect(s32(0x80000000)).toBe(-0x80000000);
    expect(s32(0x7fffffff)).toBe(0x7fffffff);
    expect(s32(-1)).toBe(-1);
    expect(s32(0x100000001)).toBe(1);
  });

  it('before/after across the wrap', () => {
    expect(before(0xfffffff0, 0x10)).toBe(true);
    expect(after(0x10, 0xfffffff0)).toBe(true);
    expect(before(0x10, 0xfffffff0)).toBe(false);
    expect(after(0xfffffff0, 0x10)).toBe(false);
    expect(before(5, 5)).toBe(false);
    expect(after(5, 5)).toBe(false);
    expect(before(1, 2)).toBe(true);
    expect(after(u32(0xffffffff + 1), 0xffffffff)).toBe(true);
    expect(before(0, 0x7fffffff)).toBe(true);
    expect(before(0, 0x80000001)).toBe(false); // more than 2^31 ahead counts as behind
    expect(idiv(7, 2)).toBe(3);
    expect(idiv(0xffffffff, 0x10000)).toBe(0xffff);
  });
});

describe('bytes', () => {
  it('big-endian get/put with masking', () => {
    const b = new Uint8Array(8);
    put16(b, 0, 0x1234);
    put32(b, 2, 0xdeadbeef);
    expect(Array.from(b.subarray(0, 6))).toEqual([0x12, 0x34, 0xde, 0xad, 0xbe, 0xef]);
    expect(get16(b, 0)).toBe(0x1234);
    expect(get32(b, 2)).toBe(0xdeadbeef);
    put16(b, 0, 0x12345);
    expect(get16(b, 0)).toBe(0x2345);
    put32(b, 2, 0xffffffff);
    expect(get32(b, 2)).toBe(0xffffffff);
    put8(b, 7, 0x1ff);
    expect(b[7]).toBe(0xff);
  });

  it('copyBytes is memmove; fill and equal', () => {
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    copyBytes(b, 2, b, 0, 5);
    expect(Array.from(b)).toEqual([1, 2, 1, 2, 3, 4, 5, 8]);
    copyBytes(b, 0, b, 3, 5);
    expect(Array.from(b)).toEqual([2, 3, 4, 5, 8, 4, 5, 8]);
    fillBytes(b, 1, 2, 0x1aa);
    expect(b[1]).toBe(0xaa);
    expect(b[2]).toBe(0xaa);
    expect(equalBytes(b, 1, b, 2, 1)).toBe(true);
    expect(equalBytes(b, 0, b, 1, 2)).toBe(false);
  });
});

describe('XorShift32 / errno / mib', () => {
  it('is deterministic per seed and matches the reference sequence', () => {
    const a = new XorShift32(1);
    expect(a.next32()).toBe(270369); // 1 ^ 1<<13 = 8193; ^ >>>17 = 8193; ^ <<5 = 0x42021
    const x = new XorShift32(42);
    const y = new XorShift32(42);
    const z = new XorShift32(43);
    let same = true;
    let diff = false;
    for (let i = 0; i < 1000; i++) {
      const v = x.next32();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(0xffffffff);
      expect(Number.isInteger(v)).toBe(true);
      if (v !== y.next32()) same = false;
      if (v !== z.next32()) diff = true;
    }
    expect(same).toBe(true);
    expect(diff).toBe(true);
    const zero = new XorShift32(0);
    expect(zero.next32()).not.toBe(0);
    for (let i = 0; i < 100; i++) {
      const v = x.below(10);
      expect(v >= 0 && v < 10).toBe(true);
    }
  });

  it('errno names and mib blocks', () => {
    expect(errnoName(-EAGAIN)).toBe('EAGAIN');
    expect(errnoName(ECONNRESET)).toBe('ECONNRESET');
    expect(errnoName(-4242)).toBe('E4242');
    const m = new Mib();
    m.ip[IP_INRECEIVES] += 3;
    m.link[LINK_RXFRAMES]++;
    expect(m.ipB.get('InReceives')).toBe(3);
    expect(m.ipB.get('NoSuchCounter')).toBe(-1);
    expect(m.toObject().Link.RxFrames).toBe(1);
  });
});
