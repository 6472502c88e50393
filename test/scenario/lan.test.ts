/*
 * Scenario: ARP + ICMP echo across a simulated LAN of 4 stacks on one
 * virtual switch, with loss, duplication, reordering and corruption on
 * every cable. Every pair must eventually ping (retries), corrupted
 * frames must be counted, never crash anything, and all skbs return.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { arpDump } from '../../src/link/arp';
import { ICMP_INECHOS, ICMP_OUTECHOREPS, LINK_ARPINREPLIES } from '../../src/core/mib';
import { makeLan, pingWithRetries, csumErrors, expectAllFree } from './helpers';
import { formatIp } from '../../src/link/ifaddr';
import { PcapWriter, readPcap } from '../../src/sim/pcap';

describe('LAN: ARP + ping', () => {
  it('clean LAN: every host resolves and pings every other host on the first try', () => {
    const sim = new Sim({ seed: 1 });
    const hs = makeLan(sim, 3);
    sim.run(10);
    for (const a of hs) {
      for (const b of hs) {
        if (a === b) continue;
        expect(pingWithRetries(sim, a, b.ip, 0x100 + a.h.index, 56, 1, 1000), sim.describe()).toBe(1);
      }
    }
    for (const a of hs) {
      const tab = arpDump(a.h.st);
      expect(tab.length, a.h.name).toBe(2);
      for (const e of tab) expect(['REACHABLE', 'STALE', 'PERMANENT', 'DELAY', 'PROBE']).toContain(e.state);
      expect(a.h.st.mib.icmp[ICMP_INECHOS]).toBe(2);
      expect(a.h.st.mib.icmp[ICMP_OUTECHOREPS]).toBe(2);
    }
    expectAllFree(sim);
  });

  const seeds = [1, 2, 3, 4, 5, 6];
  let detected = 0;
  let corrupted = 0;
  for (const seed of seeds) {
    it(`lossy LAN (seed ${seed}): pings between all pairs eventually succeed`, () => {
      const sim = new Sim({ seed });
      const hs = makeLan(sim, 4);
      for (const x of hs) {
        sim.setFaults(x.h, { loss: 0.15, dup: 0.05, reorder: 0.1, reorderMs: 8, corrupt: 0.05, corruptFrom: 14, jitterMs: 1 });
      }
      sim.run(10);
      let attempts = 0;
      for (const a of hs) {
        for (const b of hs) {
          if (a === b) continue;
          // ARP has no checksum: a corrupted reply can poison a cache entry until it
          // goes STALE (30 s) and its unicast probes fail, so allow ~75 s.
          const k = pingWithRetries(sim, a, b.ip, 0x200 + a.h.index, 100, 50, 1500);
          expect(k, `${a.h.name} -> ${formatIp(b.ip)} never answered, ${sim.describe()}`).toBeGreaterThan(0);
          attempts += k;
        }
      }
      // faults really happened
      let lost = 0;
      let dups = 0;
      for (const x of hs) {
        const p = x.h.port(0);
        lost += p.up.lost + p.down.lost;
        dups += p.up.duplicated + p.down.duplicated;
        corrupted += p.up.corrupted + p.down.corrupted;
        detected += csumErrors(x.h);
        expect(x.h.st.mib.link[LINK_ARPINREPLIES] + x.h.st.mib.link[0]).toBeGreaterThan(0);
      }
      expect(lost, sim.describe()).toBeGreaterThan(0);
      expect(dups, sim.describe()).toBeGreaterThan(0);
      expect(attempts, sim.describe()).toBeGreaterThanOrEqual(12);
      expectAllFree(sim);
    });
  }

  it('corrupted frames were detected as checksum/header errors', () => {
    expect(corrupted).toBeGreaterThan(0);
    expect(detected).toBeGreaterThan(0);
    expect(detected).toBeLessThanOrEqual(corrupted);
  });

  it('an outage delays but does not prevent a ping', () => {
    const sim = new Sim({ seed: 77 });
    const hs = makeLan(sim, 2);
    sim.run(10);
    sim.outage(hs[1].h, 3000);
    const t0 = sim.now();
    const k = pingWithRetries(sim, hs[0], hs[1].ip, 7, 32, 10, 1000);
    expect(k, sim.describe()).toBeGreaterThan(1);
    expect(sim.now() - t0).toBeGreaterThanOrEqual(3000);
    expectAllFree(sim);
  });
});

describe('LAN replay', () => {
  function runOnce(seed: number): { pcap: Uint8Array; counters: string } {
    const sim = new Sim({ seed });
    const w = new PcapWriter();
    sim.captureSwitch(sim.switches[0], w);
    const hs = makeLan(sim, 3);
    for (const x of hs) sim.setFaults(x.h, { loss: 0.1, dup: 0.05, reorder: 0.2, corrupt: 0.03, corruptFrom: 14, jitterMs: 2 });
    sim.run(10);
    for (const a of hs) for (const b of hs) if (a !== b) pingWithRetries(sim, a, b.ip, 0x300, 1200, 10, 700);
    expectAllFree(sim);
    return { pcap: new Uint8Array(w.bytes()), counters: JSON.stringify(sim.hosts.map((h) => h.st.mib.toObject())) };
  }

  it('the same seed replays byte for byte (pcap and every counter); another seed differs', () => {
    const x = runOnce(21);
    const y = runOnce(21);
    const z = runOnce(22);
    expect(x.pcap.length).toBeGreaterThan(2000);
    expect(Buffer.from(x.pcap).equals(Buffer.from(y.pcap))).toBe(true);
    expect(y.counters).toBe(x.counters);
    expect(Buffer.from(x.pcap).equals(Buffer.from(z.pcap))).toBe(false);
    expect(readPcap(x.pcap)!.records.length).toBeGreaterThan(20);
  });
});
