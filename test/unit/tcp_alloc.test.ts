/*
 * tcp_alloc.test.ts — the TCP hot path allocates nothing in steady state:
 * a bulk transfer between two stacks (send ring → segments → IP → pair
 * link → IP → receive ring → recv, ACKs back, delayed-ACK and RTO timers)
 * measured with bench/alloc.ts (heap growth per transferred segment).
 */
import { describe, it, expect } from 'vitest';
import { measureAlloc, AllocWorkload } from '../../bench/alloc';
import { tcpPair, connectPair, TEnv, Conn, pattern, expectClean } from './tcp_util';
import { tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
import { TX_SACKRECOVERY, TX_OFOQUEUE } from '../../src/transport/tcp/tcp';
import { PairFilter, PairEnd } from '../../drivers/pair/pairlink';

class Bulk implements AllocWorkload {
  readonly out = pattern(1448, 3);
  readonly inb = new Uint8Array(65536);
  moved = 0;
  constructor(readonly e: TEnv, readonly k: Conn) {}
  run(n: number): void {
    const e = this.e;
    for (let i = 0; i < n; i++) {
      tcpSend(e.a, this.k.c, this.out, 0, 1448);
      e.clock.advance(1);
      e.a.poll();
      e.b.poll();
      for (;;) {
        const r = tcpRecv(e.b, this.k.s, this.inb, 0, 65536);
        if (r <= 0) break;
        this.moved += r;
      }
    }
  }
}

/** Loses every 29th frame A sends: fast retransmit, SACK recovery, out-of-order queueing. */
class EveryNth implements PairFilter {
  n = 0;
  lost = 0;
  onFrame(_end: PairEnd, _b: Uint8Array, _o: number, len: number): boolean {
    if (len < 200) return true;
    this.n++;
    if (this.n % 29 === 0) {
      this.lost++;
      return false;
    }
    return true;
  }
}

describe('tcp allocation', () => {
  it('steady-state bulk transfer allocates ~0 bytes per segment', async () => {
    const e = tcpPair();
    e.link.a.filter = null;
    e.link.b.filter = null;
    e.a.events = null;
    e.b.events = null;
    const k = connectPair(e, 7000);
    const w = new Bulk(e, k);
    const r = await measureAlloc(w, { window: 2000, windows: 8, warmup: 20000 });
    expect(w.moved).toBeGreaterThan(1000000);
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeLessThan(1);
    e.link.a.filter = null;
    expectClean(e);
  });

  it('bulk transfer with periodic loss (SACK recovery, OOO queue) allocates ~0 bytes per segment', async () => {
    const e = tcpPair();
    const f = new EveryNth();
    e.link.a.filter = f;
    e.link.b.filter = null;
    e.a.events = null;
    e.b.events = null;
    const k = connectPair(e, 7001);
    const w = new Bulk(e, k);
    const r = await measureAlloc(w, { window: 2000, windows: 8, warmup: 20000 });
    expect(f.lost).toBeGreaterThan(100);
    expect(e.a.tcp.ext[TX_SACKRECOVERY]).toBeGreaterThan(10);
    expect(e.b.tcp.ext[TX_OFOQUEUE]).toBeGreaterThan(10);
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeLessThan(1);
    e.link.a.filter = null;
    expectClean(e);
  });
});
