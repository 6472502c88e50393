/*
 * tcp_pmtu.test.ts — RFC 1191 path MTU discovery: TCP segments carry DF;
 * a router on a smaller-MTU link answers with ICMP fragmentation needed
 * (its next-hop MTU), the MSS drops and the segments in flight are sent
 * again at the new size, without fragmentation and without a timeout.
 * An RFC 792 router (MTU 0 in the ICMP) gets the next plateau; an MTU
 * below 552 clears DF instead (Linux min_pmtu).
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpU } from './addr_util';
import { PingLog } from '../scenario/helpers';
import { connect, Pump, runPumps, expectStream, closeAllAndDrain } from '../scenario/tcp_helpers';
import { ensureTcp, tcpPair, connectPair, injectA, icmpErrorFrame, transfer, pattern, sameBytes, expectClean } from './tcp_util';
import { TX_TIMEOUTS, F_NOPMTU } from '../../src/transport/tcp/tcp';
import { getDev } from '../../src/link/dev';
import { IP_FRAGCREATES, ICMP_OUTDESTUNREACHS } from '../../src/core/mib';

describe('tcp path MTU discovery', () => {
  it('through a router onto a 1006-byte MTU link: frag-needed lowers the MSS, no fragments, no timeout', () => {
    const sim = new Sim({ seed: 77 });
    const sw1 = sim.addSwitch('sw1');
    const r = sim.addHost('router', { ipForward: true });
    sim.attach(r, sw1, 1006);
    expect(ifconfig(r.st, r.dev(0), '192.0.2.1/24', null)).toBe(0);
    expect(ifconfig(r.st, r.dev(1), '198.18.0.1/24', null)).toBe(0);
    const ha = sim.addHost('a');
    expect(ifconfig(ha.st, ha.dev(0), '192.0.2.10/24', '192.0.2.1')).toBe(0);
    const hb = sim.addHost('b', undefined, sw1);
    expect(ifconfig(hb.st, hb.dev(0), '198.18.0.20/24', '198.18.0.1')).toBe(0);
    sim.up(r);
    sim.up(ha);
    sim.up(hb);
    ensureTcp(ha.st);
    ensureTcp(hb.st);
    const lan = {
      sim,
      a: { h: ha, ip: parseIpU('192.0.2.10'), ping: new PingLog(ha) },
      b: { h: hb, ip: parseIpU('198.18.0.20'), ping: new PingLog(hb) },
    };
    const { c, s } = connect(lan, 5001, 10000);
    const tp = ha.st.tcp;
    expect(tp.smss[c]).toBe(1500 - 40 - 12); // b advertised 1460: the path is not known yet
    const pa = new Pump(ha, c, 200000, 11, 12);
    const pb = new Pump(hb, s, 0, 12, 11);
    expect(runPumps(sim, pa, pb, 60000), sim.describe()).toBe(true);
    expectStream(sim, pb, 200000, 11, 'b<-a');
    expect(tp.smss[c]).toBe(1006 - 40 - 12);
    expect(tp.ext[TX_TIMEOUTS]).toBe(0);
    expect(r.st.mib.ip[IP_FRAGCREATES]).toBe(0);
    expect(r.st.mib.icmp[ICMP_OUTDESTUNREACHS]).toBeGreaterThan(0);
    closeAllAndDrain(sim);
  });

  it('an RFC 792 router (MTU 0): the next lower plateau; below 552: DF off, MSS 512', () => {
    const e = tcpPair();
    const k = connectPair(e, 81);
    const tp = e.a.tcp;
    injectA(e, icmpErrorFrame(3, 4, 0, tp.lport[k.c], 81, tp.sndUna[k.c]));
    expect(tp.advMss[k.c]).toBe(1006 - 40);
    expect(tp.flags[k.c] & F_NOPMTU).toBe(0);
    injectA(e, icmpErrorFrame(3, 4, 296, tp.lport[k.c], 81, tp.sndUna[k.c]));
    expect(tp.advMss[k.c]).toBe(512);
    expect(tp.smss[k.c]).toBe(500);
    expect(tp.flags[k.c] & F_NOPMTU).toBe(F_NOPMTU);
    const d = pattern(20000, 3);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 10000), d)).toBe(true);
    expect(Math.max(...e.tap.segs.filter((x) => x.from === 'A').map((x) => x.len))).toBe(500);
    expectClean(e);
  });

  it('the device MTU is lowered under a live connection: DF segments fail locally, the MSS follows', () => {
    const e = tcpPair();
    const k = connectPair(e, 82);
    const tp = e.a.tcp;
    const dev = getDev(e.a, e.link.devA)!;
    dev.mtu = 1000;
    const d = pattern(30000, 4);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 20000), d)).toBe(true);
    expect(tp.advMss[k.c]).toBe(960);
    expect(tp.smss[k.c]).toBe(948);
    expect(e.a.mib.ip[IP_FRAGCREATES]).toBe(0);
    dev.mtu = 1500;
    expectClean(e);
  });
});
