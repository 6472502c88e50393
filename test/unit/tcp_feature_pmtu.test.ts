/*
 * tcp_feature_pmtu.test.ts — TCP with FEATURE_TCP_PMTU off (src/features.ts):
 * no RFC 1191 path MTU discovery. TCB segments go with DF clear, so a router
 * onto a smaller-MTU link fragments them (no ICMP fragmentation-needed) and
 * the receiver reassembles; the MSS stays what the handshake gave; an ICMP
 * fragmentation-needed is ignored. vi.mock replaces the features module as
 * the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_PMTU: false,
}));

import * as features from '../../src/features';
import { Sim } from '../../src/sim/world';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpU } from './addr_util';
import { PingLog } from '../scenario/helpers';
import { connect, Pump, runPumps, expectStream, closeAllAndDrain } from '../scenario/tcp_helpers';
import { ensureTcp, tcpPair, connectPair, injectA, icmpErrorFrame, transfer, pattern, sameBytes, expectClean } from './tcp_util';
import { TX_TIMEOUTS, F_NOPMTU } from '../../src/transport/tcp/tcp';
import { IP_FRAGCREATES, IP_REASMOKS, ICMP_OUTDESTUNREACHS } from '../../src/core/mib';

describe('FEATURE_TCP_PMTU off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_PMTU).toBe(false);
    expect(features.FEATURE_REASSEMBLY).toBe(true);
  });

  it('through a router onto a 1006-byte MTU link: DF clear, the router fragments, the MSS stays', () => {
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
    expect(tp.smss[c]).toBe(1500 - 40 - 12); // b advertised 1460
    const pa = new Pump(ha, c, 200000, 11, 12);
    const pb = new Pump(hb, s, 0, 12, 11);
    expect(runPumps(sim, pa, pb, 60000), sim.describe()).toBe(true);
    expectStream(sim, pb, 200000, 11, 'b<-a');
    expect(tp.smss[c]).toBe(1500 - 40 - 12);
    expect(tp.ext[TX_TIMEOUTS]).toBe(0);
    expect(r.st.mib.ip[IP_FRAGCREATES]).toBeGreaterThan(0);
    expect(hb.st.mib.ip[IP_REASMOKS]).toBeGreaterThan(0);
    expect(r.st.mib.icmp[ICMP_OUTDESTUNREACHS]).toBe(0);
    closeAllAndDrain(sim);
  });

  it('an ICMP fragmentation-needed for a connection is ignored', () => {
    const e = tcpPair();
    const k = connectPair(e, 81);
    const tp = e.a.tcp;
    injectA(e, icmpErrorFrame(3, 4, 296, tp.lport[k.c], 81, tp.sndUna[k.c]));
    expect(tp.advMss[k.c]).toBe(1460);
    expect(tp.smss[k.c]).toBe(1448);
    expect(tp.flags[k.c] & F_NOPMTU).toBe(0);
    expect(tp.softErr[k.c]).toBe(0);
    const d = pattern(20000, 3);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 10000), d)).toBe(true);
    expect(Math.max(...e.tap.segs.filter((x) => x.from === 'A').map((x) => x.len))).toBe(1448);
    expectClean(e);
  });
});
