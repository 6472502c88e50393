/*
 * Scenario: a 4000-byte ping (three fragments each way, reassembled on
 * both ends) over a lossy, reordering link, over several seeds.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { IP_FRAGCREATES, IP_REASMOKS, IP_REASMREQDS } from '../../src/core/mib';
import { makeLan, pingWithRetries, expectAllFree } from './helpers';

describe('big ping over a lossy link', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`4000-byte echo is fragmented, reassembled and answered (seed ${seed})`, () => {
      const sim = new Sim({ seed });
      const [a, b] = makeLan(sim, 2, { reasmTimeoutMs: 2000 });
      sim.setFaults(b.h, { loss: 0.08, reorder: 0.3, reorderMs: 4, dup: 0.05 });
      sim.run(10);
      let ok = 0;
      for (let i = 0; i < 4; i++) {
        const k = pingWithRetries(sim, a, b.ip, 0x4000 + i, 4000, 40, 1000);
        expect(k, 'ping ' + i + ' ' + sim.describe()).toBeGreaterThan(0);
        ok++;
      }
      expect(ok).toBe(4);
      const ma = a.h.st.mib.ip;
      const mb = b.h.st.mib.ip;
      expect(ma[IP_FRAGCREATES], sim.describe()).toBeGreaterThanOrEqual(12);
      expect(mb[IP_REASMREQDS], sim.describe()).toBeGreaterThanOrEqual(12);
      expect(mb[IP_REASMOKS], sim.describe()).toBeGreaterThanOrEqual(4);
      expect(ma[IP_REASMOKS], sim.describe()).toBeGreaterThanOrEqual(4);
      // reassembly slots time out and free their large skbs
      sim.run(3000);
      expectAllFree(sim);
    });
  }

  it('a small-memory board (1 large skb) still answers a 3000-byte ping', () => {
    const sim = new Sim({ seed: 9 });
    const a = makeLan(sim, 1)[0];
    const small = makeLan(sim, 1, {
      skbSmallCount: 8, skbLargeCount: 1, skbLargeSize: 4096 + 128, reasmSlots: 1, reasmMaxBytes: 4096,
      rxRingSize: 8, napiBudget: 4, txQueueLen: 6,
    })[0];
    sim.run(10);
    const k = pingWithRetries(sim, a, small.ip, 0x55, 3000, 5, 1000);
    expect(small.ip).not.toBe(a.ip);
    expect(k, sim.describe()).toBeGreaterThan(0);
    expectAllFree(sim);
  });
});
