/*
 * dns_alloc.test.ts — resolving a name allocates nothing in steady state:
 * resolveWith (handler-object form) on stack A, a DnsServer on stack B
 * over a PairLink, cache off so every resolution is a query: name
 * encoding, random port and ID, connect + send, the server's parse and
 * answer (a CNAME chain, compressed), readiness through the EventMux, the
 * dispatch timer, matching and parsing the answer, the callback, closing
 * the socket. Measured with bench/alloc.ts, with V8's default flags as
 * the UDP/ICMP echo allocation tests (bench-echo.test.ts). With TurboFan
 * inlining off (--no-turbo-inlining) it measures ~80 B: st.rng.next32()
 * returns an unsigned 32-bit value, a HeapNumber when >= 2^31 and not
 * inlined (two draws per query: port and ID, ~48 B), and recvfrom()
 * writes the unsigned source address through u32() (~16 B per datagram,
 * client and server) — both in the stack's core API, not in the resolver.
 */
import { describe, it, expect } from 'vitest';
import { measureAlloc, AllocWorkload } from '../../bench/alloc';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { s32 } from '../../src/core/bits';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { neighAddStatic } from '../../src/link/arp';
import { ServiceMux } from '../../src/apps/service';
import { DnsResolver, DnsHandler } from '../../src/apps/dns_resolver';
import { DnsServer } from '../../src/apps/dns_server';
import { EAI_OK } from '../../src/wire/dns';

class Results implements DnsHandler {
  ok = 0;
  bad = 0;
  done = 0;
  addr = 0;
  onResolved(_tag: number, err: number, addr: number, _ttl: number): void {
    this.done++;
    if (err === EAI_OK) this.ok++;
    else this.bad++;
    this.addr = addr;
  }
}

class Lookups implements AllocWorkload {
  constructor(
    readonly clock: ManualClock,
    readonly a: Stack,
    readonly b: Stack,
    readonly mux: ServiceMux,
    readonly r: DnsResolver,
    readonly h: Results,
  ) {}
  step(): void {
    this.clock.advance(1);
    this.a.poll();
    this.b.poll();
    if (this.mux.run() > 0) this.b.poll();
  }
  run(n: number): void {
    for (let i = 0; i < n; i++) {
      const before = this.h.done;
      this.r.resolveWith('www.example', this.h, i);
      for (let t = 0; t < 50 && this.h.done === before; t++) this.step();
      if (this.h.done === before) this.h.bad++;
    }
  }
}

describe('dns allocation', () => {
  it('a resolution (query, CNAME chain answer, callback) allocates ~0 bytes', async () => {
    const clock = new ManualClock(1000);
    const over = { skbSmallCount: 16, skbLargeCount: 1, skbLargeSize: 2048, maxSockets: 4, tcpMaxSockets: 1 };
    const a = new Stack('a', over, clock, undefined);
    const b = new Stack('b', { ...over, seed: 9 }, clock, undefined);
    const macA = new Uint8Array([2, 0, 0, 0, 0, 1]);
    const macB = new Uint8Array([2, 0, 0, 0, 0, 2]);
    const link = createPairLink(a, b, macA, macB, 1500);
    expect(ifconfig(a, link.devA, '192.0.2.1/24', null)).toBe(0);
    expect(ifconfig(b, link.devB, '192.0.2.2/24', null)).toBe(0);
    link.open();
    neighAddStatic(a, link.devA, s32(0xc0000202), macB, 0);
    neighAddStatic(b, link.devB, s32(0xc0000201), macA, 0);
    const mux = new ServiceMux(b);
    const srv = new DnsServer(b, 53, 4);
    mux.add(srv);
    expect(mux.start()).toBe(0);
    srv.addCname('www.example', 'web.example', 60);
    srv.addA('web.example', s32(0xc6336401), 60);
    const r = new DnsResolver(a, { cacheSize: 0 });
    r.setServers([s32(0xc0000202)]);
    const h = new Results();
    const w = new Lookups(clock, a, b, mux, r, h);
    // a real allocation shows in every attempt; a busy machine's noise (JIT, another process's
    // GC pressure) rarely twice in a row: up to three attempts, the smallest counts
    let res = await measureAlloc(w, { window: 2000, windows: 6, warmup: 20000, minWindow: 50 });
    for (let k = 0; k < 2 && !(res.bytesPerOp < 1); k++) {
      const again = await measureAlloc(w, { window: 2000, windows: 6, warmup: 2000, minWindow: 50 });
      if (again.bytesPerOp < res.bytesPerOp || !(res.bytesPerOp >= 0)) res = again;
    }
    expect(h.bad).toBe(0);
    expect(h.ok).toBe(h.done);
    expect(h.addr).toBe(s32(0xc6336401));
    expect(r.queries).toBe(h.done);
    expect(res.clean).toBeGreaterThan(0);
    console.log('dns resolution alloc: ' + res.bytesPerOp.toFixed(2) + ' B/resolution (median ' + res.medianBytesPerOp.toFixed(2) + ', young ' + res.youngBytesPerOp.toFixed(2) + ', ' + res.clean + ' clean windows)');
    expect(res.bytesPerOp).toBeLessThan(1);
    expect(a.sock.open).toBe(0);
    expect(a.pool.inUse()).toBe(0);
    expect(b.pool.inUse()).toBe(0);
  }, 120000);
});
