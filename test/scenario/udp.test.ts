/*
 * Scenario: UDP echo between stacks on a faulty LAN (loss, duplication,
 * reordering, corruption, a rate-limited link), over several seeds.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { socket, bind, close } from '../../src/socket/socket';
import { SOCK_DGRAM } from '../../src/socket/sock';
import { UDP_INDATAGRAMS, UDP_OUTDATAGRAMS } from '../../src/core/mib';
import { makeLan, UdpEchoServer, udpExchange, csumErrors, expectAllFree } from './helpers';

describe('UDP echo under faults', () => {
  it('clean LAN: every datagram comes back on the first try', () => {
    const sim = new Sim({ seed: 1 });
    const [a, b] = makeLan(sim, 2);
    const srv = new UdpEchoServer(b.h, 7);
    sim.addTicker(srv);
    const fd = socket(a.h.st, SOCK_DGRAM, 0);
    expect(bind(a.h.st, fd, 0, 0)).toBe(0);
    const r = udpExchange(sim, a.h, fd, b.ip, 7, 20, 200, 1, 500);
    expect(r.ok).toBe(20);
    expect(r.sends).toBe(20);
    expect(srv.echoed).toBe(20);
    expect(b.h.st.mib.udp[UDP_INDATAGRAMS]).toBe(20);
    expect(a.h.st.mib.udp[UDP_OUTDATAGRAMS]).toBe(20);
    expect(close(a.h.st, fd)).toBe(0);
    srv.close();
    expectAllFree(sim);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`lossy LAN (seed ${seed}): 30 datagrams from two clients all echoed`, () => {
      const sim = new Sim({ seed });
      const [a, b, c] = makeLan(sim, 3);
      sim.setFaults(a.h, { loss: 0.1, dup: 0.05, reorder: 0.2, reorderMs: 10, corrupt: 0.04, corruptFrom: 14 });
      sim.setFaults(b.h, { loss: 0.05, delayMs: 2, jitterMs: 2, rateBps: 2000000 });
      const srv = new UdpEchoServer(b.h, 7007);
      sim.addTicker(srv);
      const fa = socket(a.h.st, SOCK_DGRAM, 0);
      const fc = socket(c.h.st, SOCK_DGRAM, 0);
      expect(bind(a.h.st, fa, 0, 40000)).toBe(0);
      expect(bind(c.h.st, fc, 0, 0)).toBe(0);
      const ra = udpExchange(sim, a.h, fa, b.ip, 7007, 30, 300 + seed * 50, 60, 300);
      const rc = udpExchange(sim, c.h, fc, b.ip, 7007, 30, 1400, 60, 300);
      expect(ra.ok, sim.describe()).toBe(30);
      expect(rc.ok, sim.describe()).toBe(30);
      expect(ra.bad + rc.bad, 'corrupted payload delivered ' + sim.describe()).toBe(0);
      expect(ra.sends, sim.describe()).toBeGreaterThan(30);
      expect(srv.echoed).toBeGreaterThanOrEqual(60);
      const corrupted = a.h.port(0).up.corrupted + a.h.port(0).down.corrupted;
      expect(csumErrors(a.h) + csumErrors(b.h) + csumErrors(c.h)).toBeLessThanOrEqual(corrupted);
      expect(close(a.h.st, fa)).toBe(0);
      expect(close(c.h.st, fc)).toBe(0);
      srv.close();
      sim.removeTicker(srv);
      expectAllFree(sim);
    });
  }
});
