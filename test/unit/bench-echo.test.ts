/*
 * bench-echo.test.ts — the benchmark workloads of `npm run bench`
 * (bench/pair.ts, bench/echo.ts) do what they claim: every round trip
 * comes back, nothing is lost, and every skb returns to its pool. Also
 * checks the --json output contract of runBench. No timing thresholds.
 */
import { describe, it, expect, vi } from 'vitest';
import { LinkEchoWork, AllocatingLinkEcho } from '../../bench/pair';
import { IcmpEchoWork, UdpEchoWork } from '../../bench/echo';
import { measureAlloc } from '../../bench/alloc';
import { runBench } from '../../bench/index';

describe('bench workloads', () => {
  it('link echo: every frame reflected and received, pools clean', () => {
    const w = new LinkEchoWork();
    const r0 = w.sink.got;
    w.run(300);
    expect(w.sink.got - r0).toBe(300);
    expect(w.sendFails).toBe(0);
    expect(w.pair.a.pool.inUse()).toBe(0);
    expect(w.pair.b.pool.inUse()).toBe(0);
  });

  it('icmp echo: one reply per ping, pools clean', () => {
    const w = new IcmpEchoWork('192.0.2');
    const s0 = w.sent;
    const r0 = w.counter.replies;
    w.run(300);
    expect(w.sent - s0).toBe(300);
    expect(w.counter.replies - r0).toBe(300);
    expect(w.lost).toBe(0);
    expect(w.counter.badLen).toBe(0);
    expect(w.pair.a.pool.inUse()).toBe(0);
    expect(w.pair.b.pool.inUse()).toBe(0);
  });

  it('udp echo: every datagram echoed intact, pools clean after close', () => {
    const w = new UdpEchoWork('192.0.2');
    const r0 = w.received;
    w.run(300);
    expect(w.received - r0).toBe(300);
    expect(w.lost).toBe(0);
    expect(w.badEcho).toBe(0);
    expect(w.sendErrors).toBe(0);
    w.close();
    expect(w.pair.a.pool.inUse()).toBe(0);
    expect(w.pair.b.pool.inUse()).toBe(0);
  });

  it('the deliberately allocating link echo measures above zero', async () => {
    const w = new AllocatingLinkEcho();
    const r = await measureAlloc(w, { window: 3000, windows: 5, warmup: 3000 });
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeGreaterThanOrEqual(12);
    expect(w.pair.a.pool.inUse()).toBe(0);
    expect(w.pair.b.pool.inUse()).toBe(0);
  });
});

describe('hot path allocation: nothing allocated per round trip', () => {
  // Addresses are held as s32 (src/core/inaddr.ts), so V8 keeps them as
  // small integers even at 192.0.2.0/24 where every address is >= 2^31;
  // unsigned values there would be boxed as 16-byte HeapNumbers wherever
  // they cross a non-inlined call. Both the default /24 and one below 2^31.
  for (const net of ['192.0.2', '10.0.0']) {
    it(`icmp echo over ${net}.0/24 allocates < 1 B per round trip`, async () => {
      const w = new IcmpEchoWork(net);
      const r = await measureAlloc(w, { window: 5000, windows: 7, warmup: 20000 });
      expect(r.clean).toBeGreaterThan(0);
      expect(r.bytesPerOp).toBeLessThan(1);
      expect(w.lost).toBe(0);
      expect(w.pair.a.pool.inUse() + w.pair.b.pool.inUse()).toBe(0);
    });

    it(`udp echo over ${net}.0/24 allocates < 1 B per round trip`, async () => {
      const w = new UdpEchoWork(net);
      const r = await measureAlloc(w, { window: 5000, windows: 7, warmup: 20000 });
      expect(r.clean).toBeGreaterThan(0);
      expect(r.bytesPerOp).toBeLessThan(1);
      expect(w.lost).toBe(0);
      w.close();
      expect(w.pair.a.pool.inUse() + w.pair.b.pool.inUse()).toBe(0);
    });
  }
});

describe('runBench --json', () => {
  it('prints one {name,value,unit} object per line', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += typeof s === 'string' ? s : Buffer.from(s).toString();
      return true;
    });
    let rc: number;
    try {
      rc = await runBench(['--json', '--quick', '--only', 'skb,icmp_echo']);
    } finally {
      spy.mockRestore();
    }
    expect(rc).toBe(0);
    const rows = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; value: number; unit: string; bench?: string });
    for (const r of rows) {
      expect(typeof r.name).toBe('string');
      expect(typeof r.value).toBe('number');
      expect(typeof r.unit).toBe('string');
    }
    const names = rows.map((r) => r.name);
    expect(names).toContain('skb_alloc_free_ops');
    expect(names).toContain('icmp_echo_pps');
    const alloc = rows.filter((r) => r.name === 'alloc_bytes_per_packet').map((r) => r.bench);
    expect(alloc).toContain('icmp_echo');
    expect(alloc).toContain('skb_alloc_free');
    expect(rows.find((r) => r.name === 'icmp_echo_pps')!.value).toBeGreaterThan(0);
  });

  it('rejects an unknown argument', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runBench(['--bogus'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });
});
