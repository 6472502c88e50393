/*
 * Scenario: two switches joined by a router stack (ipForward on, one NIC
 * on each switch). Hosts on either side ping and exchange UDP through it,
 * with faults on both legs; TTL is decremented on the way.
 */
import { u32 } from '../../src/core/bits';
import { describe, it, expect } from 'vitest';
import { Sim, SimHost } from '../../src/sim/world';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpU } from '../unit/addr_util';
import { socket, bind, close } from '../../src/socket/socket';
import { SOCK_DGRAM } from '../../src/socket/sock';
import { IP_FORWDATAGRAMS, IP_OUTNOROUTES } from '../../src/core/mib';
import { PingLog, LanHost, pingWithRetries, UdpEchoServer, udpExchange, expectAllFree } from './helpers';

function build(seed: number): { sim: Sim; a: LanHost; b: LanHost; r: SimHost; ttls: number[] } {
  const sim = new Sim({ seed });
  const sw1 = sim.addSwitch('sw1');
  const r = sim.addHost('router', { ipForward: true });
  sim.attach(r, sw1);
  expect(ifconfig(r.st, r.dev(0), '192.0.2.1/24', null)).toBe(0);
  expect(ifconfig(r.st, r.dev(1), '198.18.0.1/24', null)).toBe(0);
  const ha = sim.addHost('a');
  expect(ifconfig(ha.st, ha.dev(0), '192.0.2.10/24', '192.0.2.1')).toBe(0);
  const hb = sim.addHost('b', undefined, sw1);
  expect(ifconfig(hb.st, hb.dev(0), '198.18.0.20/24', '198.18.0.1')).toBe(0);
  sim.up(r);
  sim.up(ha);
  sim.up(hb);
  const a = { h: ha, ip: parseIpU('192.0.2.10'), ping: new PingLog(ha) };
  const ttls: number[] = [];
  ha.st.icmp.echoHandler = {
    onEchoReply: (saddr: number, ident: number, seq: number, len: number, ttl: number) => {
      a.ping.got.add(u32(saddr) + ':' + ident + ':' + seq + ':' + len);
      ttls.push(ttl);
    },
  };
  const b = { h: hb, ip: parseIpU('198.18.0.20'), ping: new PingLog(hb) };
  return { sim, a, b, r, ttls };
}

describe('router between two switches', () => {
  it('clean: ping and UDP cross the router, TTL decremented', () => {
    const { sim, a, b, r, ttls } = build(1);
    sim.run(10);
    expect(pingWithRetries(sim, a, b.ip, 1, 64, 2, 1000), sim.describe()).toBeGreaterThan(0);
    expect(pingWithRetries(sim, b, a.ip, 2, 64, 2, 1000), sim.describe()).toBeGreaterThan(0);
    expect(ttls[0]).toBe(r.st.cfg.ipDefaultTtl - 1);
    expect(r.st.mib.ip[IP_FORWDATAGRAMS]).toBeGreaterThanOrEqual(4);
    const srv = new UdpEchoServer(b.h, 9);
    sim.addTicker(srv);
    const fd = socket(a.h.st, SOCK_DGRAM, 0);
    expect(bind(a.h.st, fd, 0, 0)).toBe(0);
    const res = udpExchange(sim, a.h, fd, b.ip, 9, 10, 512, 2, 500);
    expect(res.ok).toBe(10);
    // a destination nobody routes to
    expect(r.st.mib.ip[IP_OUTNOROUTES]).toBe(0);
    expect(close(a.h.st, fd)).toBe(0);
    srv.close();
    expectAllFree(sim);
  });

  for (const seed of [2, 3, 4, 5]) {
    it(`lossy legs (seed ${seed}): big ping and UDP through the router`, () => {
      const { sim, a, b, r } = build(seed);
      sim.setFaults(r, { loss: 0.05, reorder: 0.2, reorderMs: 5 }, 'both', 0);
      sim.setFaults(r, { loss: 0.05, dup: 0.05, delayMs: 3, jitterMs: 3 }, 'both', 1);
      sim.run(10);
      expect(pingWithRetries(sim, a, b.ip, 10, 3000, 40, 1000), sim.describe()).toBeGreaterThan(0);
      const srv = new UdpEchoServer(b.h, 9);
      sim.addTicker(srv);
      const fd = socket(a.h.st, SOCK_DGRAM, 0);
      expect(bind(a.h.st, fd, 0, 0)).toBe(0);
      const res = udpExchange(sim, a.h, fd, b.ip, 9, 20, 800, 40, 400);
      expect(res.ok, sim.describe()).toBe(20);
      expect(res.bad).toBe(0);
      expect(r.st.mib.ip[IP_FORWDATAGRAMS]).toBeGreaterThan(20);
      expect(close(a.h.st, fd)).toBe(0);
      srv.close();
      expectAllFree(sim);
    });
  }
});
