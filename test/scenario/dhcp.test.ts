/*
 * Scenario: the DHCP client (src/apps/dhcp_client.ts) against the
 * simulation's DHCP server (src/apps/dhcp_server.ts) on a virtual LAN, in
 * virtual time. Every exchange is read back from a pcap of the switch:
 * message types, addresses, xids and the retransmission times.
 *   - a whole lease: DISCOVER/OFFER/REQUEST/ACK, RFC 5227 probe, BOUND
 *     (address, prefix, default route, DNS servers); RENEWING at T1
 *     (unicast); REBINDING at T2 (broadcast) after lost ACKs; expiry with
 *     a silent server (everything taken away) and a new lease; a NAK while
 *     renewing; RELEASE;
 *   - INIT-REBOOT with the previous address (ACK), with a wrong-network
 *     address (NAK) and with an unknown one (silence: five REQUESTs, INIT);
 *   - lost OFFERs and ACKs: 4, 8, 16, 32, 64, 64 s ± 1 s, randomised;
 *   - an address in use (a host answers the probe, or probes it too):
 *     DECLINE, 10 s, a new lease;
 *   - unicast OFFER/ACK to a client without an address; two clients;
 *     two clients on two devices of one stack.
 * Every scenario ends with every skb back in its pool.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpStrict, formatIp } from '../../src/link/ifaddr';
import { arpProbe } from '../../src/link/arp';
import { LINK_ARPCONFLICTS } from '../../src/core/mib';
import { u32 } from '../../src/core/bits';
import {
  DHCP_BOUND, DHCP_INIT, DHCP_PROBING, DHCP_REBINDING, DHCP_STOPPED, DhcpClient,
} from '../../src/apps/dhcp_client';
import { DhcpServer, LEASE_DECLINED } from '../../src/apps/dhcp_server';
import { DnsResolver } from '../../src/apps/dns_resolver';
import {
  DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE, DHCP_FLAG_BROADCAST,
} from '../../src/wire/dhcp';
import { expectAllFree, PingLog, pingWithRetries } from './helpers';
import {
  dhcpLan, addClient, decodeCapture, describeWire, ofType, macStr, EventLog, ClientHost, SRV_IP, POOL0, DNS1, DNS2, WireEv,
} from './dhcp_util';

const BCAST = -1;
const FAR = parseIpStrict('198.51.100.7');

function since(evs: WireEv[], t: number): WireEv[] {
  return evs.filter((e) => e.t >= t);
}

/** Times (ms) of evs, each checked to be within 5 ms after the expected one (ARP resolution may delay a unicast). */
function expectTimes(evs: WireEv[], want: number[], msg: string): void {
  expect(evs.length, msg).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const d = evs[i].t - want[i];
    expect(d >= 0 && d <= 5, 'message ' + i + ' at ' + evs[i].t + ', expected ' + want[i] + '\n' + msg).toBe(true);
  }
}

function gaps(evs: WireEv[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < evs.length; i++) out.push(Math.round(evs[i].t - evs[i - 1].t));
  return out;
}

describe('DHCP: a whole lease', () => {
  it('bind (probe), renew at T1, rebind at T2 after lost ACKs, expiry, new lease, NAK, release', () => {
    const lan = dhcpLan(11);
    const { sim, server } = lan;
    const a = addClient(lan, 'a', { hostName: 'pico', startDelayMs: 0 });
    const st = a.h.st;
    const dev = a.h.dev(0);
    const mac = macStr(a.h);
    const where = (): string => sim.describe() + '\n' + describeWire(decodeCapture(lan.pcap));

    // ---- INIT → SELECTING → REQUESTING → PROBING → BOUND
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 20000), where()).toBe(true);
    let w = decodeCapture(lan.pcap);
    const dh = w.filter((e) => e.kind === 'dhcp');
    expect(dh.map((e) => e.type), where()).toEqual([DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK]);
    for (const e of dh) expect(e.xid).toBe(dh[0].xid);
    const [disc, offer, req, ack] = dh;
    expect([disc.src, disc.dst, disc.ciaddr, disc.flags & DHCP_FLAG_BROADCAST]).toEqual([0, BCAST, 0, DHCP_FLAG_BROADCAST]);
    expect([offer.yiaddr, offer.serverId, offer.dst]).toEqual([POOL0, SRV_IP, BCAST]);
    expect([req.src, req.dst, req.ciaddr, req.requestedIp, req.serverId]).toEqual([0, BCAST, 0, POOL0, SRV_IP]);
    expect([ack.yiaddr, ack.dst]).toEqual([POOL0, BCAST]);
    // RFC 5227: PROBE_WAIT (0..1 s), three probes 1..2 s apart, ANNOUNCE_WAIT (2 s)
    const probes = w.filter((e) => e.kind === 'arp' && e.smac === mac && e.sip === 0);
    expect(probes.length, where()).toBe(3);
    for (const p of probes) expect([p.tip, p.dstMacBroadcast]).toEqual([POOL0, true]);
    expect(probes[0].t - ack.t).toBeLessThanOrEqual(1001);
    for (const g of gaps(probes)) expect(g >= 1000 && g <= 2001, 'probe gap ' + g).toBe(true);
    expect(a.log.kinds()).toEqual(['BOUND']);
    expect(a.log.ev[0].t - probes[2].t).toBeGreaterThanOrEqual(2000);
    expect(a.log.ev[0].t - probes[2].t).toBeLessThanOrEqual(2011);
    // the device, the route table and the DNS list
    expect(st.ifaddr.onDev(dev, POOL0)).toBe(true);
    expect(st.ifaddr.prefix[st.ifaddr.find(POOL0)]).toBe(24);
    expect(a.c.prefixLen).toBe(24);
    const r = st.route.lookup(FAR);
    expect(r).toBeGreaterThanOrEqual(0);
    expect(st.route.gw[r]).toBe(SRV_IP);
    expect([a.c.dnsCount, a.c.dns[0], a.c.dns[1]]).toEqual([2, DNS1, DNS2]);
    expect([a.c.leaseSec, a.c.t1Sec, a.c.t2Sec]).toEqual([300, 150, 262]);
    expect(a.c.leaseStart).toBe(req.t);
    expect(a.c.t1At).toBe(req.t + 150000);
    // announced, and usable: the server answers a ping from the new address
    sim.run(100);
    w = decodeCapture(lan.pcap);
    expect(w.some((e) => e.kind === 'arp' && e.smac === mac && e.sip === POOL0 && e.tip === POOL0)).toBe(true);
    const ping = new PingLog(a.h);
    expect(pingWithRetries(sim, { h: a.h, ip: POOL0, ping }, u32(SRV_IP), 9, 32, 1, 1000)).toBe(1);

    // ---- T1: RENEWING, unicast to the server, ACK unicast back
    const t1 = a.c.t1At;
    expect(sim.runUntil(() => a.log.count('RENEWED') === 1, 200000), where()).toBe(true);
    w = since(decodeCapture(lan.pcap), t1);
    let rq = ofType(w, DHCPREQUEST);
    expectTimes(rq, [t1], where());
    expect([rq[0].src, rq[0].dst, rq[0].ciaddr, rq[0].requestedIp, rq[0].serverId, rq[0].flags]).toEqual([POOL0, SRV_IP, POOL0, 0, 0, 0]);
    let ak = ofType(w, DHCPACK);
    expect([ak.length, ak[0].dst, ak[0].xid]).toEqual([1, POOL0, rq[0].xid]);
    expect(rq[0].xid).not.toBe(dh[0].xid);
    expect(a.c.state).toBe(DHCP_BOUND);
    expect(a.c.leaseStart).toBe(t1);

    // ---- two ACKs lost: REQUEST again at T1 + 60 s (RFC 2131 §4.4.5 minimum), then T2: REBINDING (broadcast)
    server.dropAcks = 2;
    const t1b = a.c.t1At;
    const t2b = a.c.t2At;
    expect(t2b - t1b).toBe(112000);
    expect(sim.runUntil(() => a.log.count('RENEWED') === 2, 300000), where()).toBe(true);
    w = since(decodeCapture(lan.pcap), t1b);
    rq = ofType(w, DHCPREQUEST);
    expectTimes(rq, [t1b, t1b + 60000, t2b], where());
    expect(rq.map((e) => e.dst)).toEqual([SRV_IP, SRV_IP, BCAST]);
    for (const e of rq) expect([e.ciaddr, e.src, e.xid]).toEqual([POOL0, POOL0, rq[0].xid]);
    ak = ofType(w, DHCPACK);
    expect(ak.length).toBe(1); // the first two were "lost"
    expect(server.dropped).toBe(2);
    expect(a.c.leaseStart).toBe(t1b); // counted from the first REQUEST of the exchange

    // ---- the server goes silent: renew, rebind, then the lease expires and everything goes
    server.silent = true;
    const t1c = a.c.t1At;
    const exp = a.c.expireAt;
    expect(sim.runUntil(() => a.log.last() === 'LOST', 400000), where()).toBe(true);
    expect(sim.now()).toBe(exp);
    expect(a.log.ev[a.log.ev.length - 1].addr).toBe('192.0.2.100');
    w = since(decodeCapture(lan.pcap), t1c);
    rq = ofType(w, DHCPREQUEST);
    expectTimes(rq, [t1c, t1c + 60000, t1c + 112000], where());
    expect(st.ifaddr.onDev(dev, POOL0)).toBe(false);
    expect(st.ifaddr.count).toBe(0);
    expect(st.route.lookup(FAR)).toBe(-1);
    expect(st.route.count).toBe(0);
    expect(a.c.dnsCount).toBe(0);
    expect(a.c.addr).toBe(0);
    expect(a.c.state).toBe(DHCP_INIT); // DISCOVER on the next timer tick
    const lostAt = sim.now();
    sim.run(30000);
    const d = ofType(since(decodeCapture(lan.pcap), lostAt), DHCPDISCOVER);
    expect(d.length).toBeGreaterThanOrEqual(3);
    expect(d[0].t - lostAt).toBeLessThanOrEqual(10);
    expect(d[0].requestedIp).toBe(POOL0); // the old address as a hint
    server.silent = false;
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 80000), where()).toBe(true);
    expect(a.c.addr).toBe(POOL0); // the server remembers the client
    expect(st.ifaddr.onDev(dev, POOL0)).toBe(true);
    expect(st.route.gw[st.route.lookup(FAR)]).toBe(SRV_IP);
    expect(a.log.kinds()).toEqual(['BOUND', 'RENEWED', 'RENEWED', 'LOST', 'BOUND']);

    // ---- a NAK while renewing: address gone, INIT at once, a new lease
    server.nakRequests = 1;
    const t1d = a.c.t1At;
    expect(sim.runUntil(() => a.log.count('BOUND') === 3, 200000), where()).toBe(true);
    w = since(decodeCapture(lan.pcap), t1d);
    expect(w.filter((e) => e.kind === 'dhcp').map((e) => e.type), where()).toEqual([
      DHCPREQUEST, DHCPNAK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK,
    ]);
    const nak = ofType(w, DHCPNAK)[0];
    expect([nak.dst, nak.yiaddr, nak.serverId]).toEqual([BCAST, 0, SRV_IP]);
    expect(ofType(w, DHCPDISCOVER)[0].t - nak.t).toBeLessThanOrEqual(20); // at once (next timer tick)
    expect(a.log.kinds().slice(5)).toEqual(['NAK', 'LOST', 'BOUND']);
    expect(a.c.naks).toBe(1);
    expect(st.ifaddr.onDev(dev, a.c.addr)).toBe(true);

    // ---- release
    const tr = sim.now();
    expect(server.boundCount()).toBe(1);
    a.c.stop(true);
    sim.run(1000);
    const rel = ofType(since(decodeCapture(lan.pcap), tr), DHCPRELEASE);
    expect(rel.length).toBe(1);
    expect([rel[0].src, rel[0].dst, rel[0].ciaddr, rel[0].serverId]).toEqual([POOL0, SRV_IP, POOL0, SRV_IP]);
    expect(server.boundCount()).toBe(0);
    expect(a.log.last()).toBe('RELEASED');
    expect(st.ifaddr.count).toBe(0);
    expect(st.route.count).toBe(0);
    expect(a.c.state).toBe(DHCP_STOPPED);
    expect([a.c.badMsgs, a.c.sendErrors, a.c.configErrors, server.badMsgs, server.sendErrors]).toEqual([0, 0, 0, 0, 0]);
    expect(st.sock.open).toBe(0);
    server.stop();
    expectAllFree(sim);
  });

  it('INIT-REBOOT: the previous address (ACK), a wrong network (NAK), an unknown address (silence, INIT)', () => {
    const lan = dhcpLan(12);
    const { sim, server } = lan;
    const a = addClient(lan, 'a', null);
    const dev = a.h.dev(0);
    const where = (): string => sim.describe() + '\n' + describeWire(decodeCapture(lan.pcap));
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 20000)).toBe(true);
    const prev = a.c.addr;
    a.c.stop(false);
    expect(a.log.kinds()).toEqual(['BOUND', 'LOST']);
    expect(a.h.st.ifaddr.count).toBe(0);

    // the previous address: REQUEST (option 50, no server id, ciaddr 0) → ACK, no DISCOVER
    let t = sim.now();
    expect(a.c.start(dev, { requestedIp: prev })).toBe(0);
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 20000), where()).toBe(true);
    let w = since(decodeCapture(lan.pcap), t).filter((e) => e.kind === 'dhcp');
    expect(w.map((e) => e.type)).toEqual([DHCPREQUEST, DHCPACK]);
    expect([w[0].ciaddr, w[0].requestedIp, w[0].serverId, w[0].dst]).toEqual([0, prev, 0, BCAST]);
    expect(a.c.addr).toBe(prev);
    expect(a.c.serverId).toBe(SRV_IP);
    expect(a.h.st.ifaddr.onDev(dev, prev)).toBe(true);

    // an address from another network: NAK, then DISCOVER without a hint
    a.c.stop(false);
    t = sim.now();
    expect(a.c.start(dev, { requestedIp: parseIpStrict('10.9.8.7') })).toBe(0);
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 20000), where()).toBe(true);
    w = since(decodeCapture(lan.pcap), t).filter((e) => e.kind === 'dhcp');
    expect(w.map((e) => e.type)).toEqual([DHCPREQUEST, DHCPNAK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK]);
    expect(w[2].requestedIp).toBe(0);
    expect(a.log.kinds().slice(-2)).toEqual(['NAK', 'BOUND']);

    // an address of this subnet the server has no record of: it stays silent (RFC 2131 §4.3.2);
    // five REQUESTs 4, 8, 16, 32 s ± 1 s apart, 64 ± 1 s later INIT (DISCOVER, a new xid)
    a.c.stop(false);
    t = sim.now();
    const unknown = parseIpStrict('192.0.2.50');
    expect(a.c.start(dev, { requestedIp: unknown })).toBe(0);
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 200000), where()).toBe(true);
    w = since(decodeCapture(lan.pcap), t).filter((e) => e.kind === 'dhcp');
    const rq = w.filter((e) => e.type === DHCPREQUEST);
    expect(rq.length).toBe(6);
    const g = gaps(rq.slice(0, 5));
    const base = [4000, 8000, 16000, 32000];
    for (let i = 0; i < 4; i++) expect(Math.abs(g[i] - base[i]) <= 1000, 'gap ' + i + ': ' + g).toBe(true);
    for (let i = 0; i < 5; i++) expect([rq[i].requestedIp, rq[i].xid]).toEqual([unknown, rq[0].xid]);
    const disc = w.filter((e) => e.type === DHCPDISCOVER)[0];
    expect(Math.abs(disc.t - rq[4].t - 64000)).toBeLessThanOrEqual(1000);
    expect(disc.xid).not.toBe(rq[0].xid);
    expect(disc.requestedIp).toBe(unknown); // still a hint; the server offers from its pool
    expect(a.c.addr).toBe(POOL0);
    a.c.stop(true);
    server.stop();
    expectAllFree(sim);
  });
});

describe('DHCP: the event handler', () => {
  it('a handler that stops the client on LOST (expiry) or restarts it on NAK leaves no half-run work behind', () => {
    const lan = dhcpLan(13, { leaseSec: 60 });
    const { sim, server } = lan;
    const a = addClient(lan, 'a', { probeNum: 1 });
    const kinds: string[] = [];
    let restarts = 0;
    a.c.handler = {
      onDhcpEvent(kind: number, dev: number, addr: number): void {
        a.log.onDhcpEvent(kind, dev, addr);
        kinds.push(a.log.last());
        if (kind === 5 && restarts === 0) {
          // NAK: restart from inside the event, INIT-REBOOT with the same address
          restarts++;
          a.c.stop(false);
          expect(a.c.start(dev, { requestedIp: addr, probeNum: 1 })).toBe(0);
        } else if (kind === 3 && a.log.count('LOST') === 2) {
          a.c.stop(false); // the second LOST (expiry): give up for good (the first came from stop() above)
        }
      },
    };
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 20000)).toBe(true);
    server.nakRequests = 1;
    expect(sim.runUntil(() => restarts === 1 && a.c.state === DHCP_BOUND, 100000)).toBe(true);
    // NAK → handler: stop (LOST, nothing after it) and start again; the old flow does not go on
    expect(kinds).toEqual(['BOUND', 'NAK', 'LOST', 'BOUND']);
    const t = sim.now();
    server.silent = true;
    expect(sim.runUntil(() => a.c.state === DHCP_STOPPED, 100000)).toBe(true);
    expect(kinds).toEqual(['BOUND', 'NAK', 'LOST', 'BOUND', 'LOST']);
    const lostAt = sim.now();
    sim.run(60000);
    // stopped inside LOST: no DISCOVER afterwards, no socket, no address
    const w = since(decodeCapture(lan.pcap), t);
    expect(ofType(w, DHCPDISCOVER).length).toBe(0);
    expect(w.filter((e) => e.kind === 'dhcp' && e.t > lostAt).length).toBe(0);
    expect(a.h.st.sock.open).toBe(0);
    expect(a.h.st.ifaddr.count + a.h.st.route.count).toBe(0);
    server.stop();
    expectAllFree(sim);
  });
});

describe('DHCP: lost OFFERs and ACKs', () => {
  it('retransmissions 4 s and 8 s ± 1 s apart (read from the pcap), randomised per seed; same xid; secs counts', () => {
    const firstGaps = new Set<number>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const lan = dhcpLan(seed);
      const { sim, server } = lan;
      server.dropOffers = 2;
      server.dropAcks = 2;
      const a = addClient(lan, 'a', null);
      const where = (): string => sim.describe() + '\n' + describeWire(decodeCapture(lan.pcap));
      expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 60000), where()).toBe(true);
      const w = decodeCapture(lan.pcap).filter((e) => e.kind === 'dhcp');
      expect(w.map((e) => e.type), where()).toEqual([
        DHCPDISCOVER, DHCPDISCOVER, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPREQUEST, DHCPREQUEST, DHCPACK,
      ]);
      for (const e of w) expect(e.xid).toBe(w[0].xid);
      const ds = ofType(w, DHCPDISCOVER);
      const rs = ofType(w, DHCPREQUEST);
      for (const x of [ds, rs]) {
        const g = gaps(x);
        expect(Math.abs(g[0] - 4000) <= 1000, where()).toBe(true);
        expect(Math.abs(g[1] - 8000) <= 1000, where()).toBe(true);
      }
      firstGaps.add(gaps(ds)[0]);
      firstGaps.add(gaps(rs)[0]);
      // secs: seconds since the acquisition began (the first DISCOVER)
      expect(ds[0].secs).toBe(0);
      expect(ds[2].secs).toBe(Math.floor((ds[2].t - ds[0].t) / 1000));
      expect(rs[2].secs).toBe(Math.floor((rs[2].t - ds[0].t) / 1000));
      expect([a.c.retransmits, server.dropped]).toEqual([4, 4]);
      expect(a.c.leaseStart).toBe(rs[0].t);
      a.c.stop(true);
      server.stop();
      expectAllFree(sim);
    }
    expect(firstGaps.size).toBeGreaterThan(3);
  });

  it('a long silence: DISCOVER after 4, 8, 16, 32, 64, 64 s ± 1 s', () => {
    const lan = dhcpLan(21);
    const { sim, server } = lan;
    server.dropOffers = 6;
    const a = addClient(lan, 'a', null);
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 300000)).toBe(true);
    const ds = ofType(decodeCapture(lan.pcap), DHCPDISCOVER);
    expect(ds.length).toBe(7);
    const g = gaps(ds);
    const base = [4000, 8000, 16000, 32000, 64000, 64000];
    for (let i = 0; i < 6; i++) expect(Math.abs(g[i] - base[i]) <= 1000, 'gaps ' + g).toBe(true);
    a.c.stop(true);
    server.stop();
    expectAllFree(sim);
  });

  it('five lost ACKs: REQUEST given up after 4, 8, 16, 32 s (± 1 s), INIT 64 ± 1 s later with a new xid', () => {
    const lan = dhcpLan(22);
    const { sim, server } = lan;
    server.dropAcks = 5;
    const a = addClient(lan, 'a', null);
    const where = (): string => sim.describe() + '\n' + describeWire(decodeCapture(lan.pcap));
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 300000), where()).toBe(true);
    const w = decodeCapture(lan.pcap).filter((e) => e.kind === 'dhcp');
    expect(w.map((e) => e.type)).toEqual([
      DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPREQUEST, DHCPREQUEST, DHCPREQUEST, DHCPREQUEST,
      DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK,
    ]);
    const rs = ofType(w, DHCPREQUEST);
    const g = gaps(rs.slice(0, 5));
    const base = [4000, 8000, 16000, 32000];
    for (let i = 0; i < 4; i++) expect(Math.abs(g[i] - base[i]) <= 1000, 'gaps ' + g).toBe(true);
    const d2 = ofType(w, DHCPDISCOVER)[1];
    expect(Math.abs(d2.t - rs[4].t - 64000)).toBeLessThanOrEqual(1000);
    expect(d2.xid).not.toBe(w[0].xid);
    expect(a.c.addr).toBe(POOL0); // the server kept the binding it made
    a.c.stop(true);
    server.stop();
    expectAllFree(sim);
  });
});

describe('DHCP: address conflict (RFC 5227 probe)', () => {
  it('a host already using the offered address answers the probe: DECLINE, 10 s, another address', () => {
    const lan = dhcpLan(31);
    const { sim, server } = lan;
    const sq = sim.addHost('squatter');
    expect(ifconfig(sq.st, sq.dev(0), '192.0.2.100/24', null)).toBe(0);
    sim.up(sq);
    const a = addClient(lan, 'a', null);
    const mac = macStr(a.h);
    const where = (): string => sim.describe() + '\n' + describeWire(decodeCapture(lan.pcap));
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 60000), where()).toBe(true);
    const w = decodeCapture(lan.pcap);
    const dh = w.filter((e) => e.kind === 'dhcp');
    expect(dh.map((e) => e.type), where()).toEqual([
      DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK,
    ]);
    const dec = ofType(w, DHCPDECLINE)[0];
    expect([dec.requestedIp, dec.serverId, dec.ciaddr, dec.src, dec.dst]).toEqual([POOL0, SRV_IP, 0, 0, BCAST]);
    // the probe drew the squatter's reply (sender = the address), and nothing more was probed
    const reply = w.filter((e) => e.kind === 'arp' && e.type === 2 && e.sip === POOL0);
    expect(reply.length).toBe(1);
    expect(dec.t).toBeGreaterThanOrEqual(reply[0].t);
    expect(dec.t - reply[0].t).toBeLessThanOrEqual(2);
    const d2 = ofType(w, DHCPDISCOVER)[1];
    expect(d2.t - dec.t).toBeGreaterThanOrEqual(10000);
    expect(d2.t - dec.t).toBeLessThanOrEqual(10010);
    const second = POOL0 + 1;
    expect(ofType(w, DHCPOFFER)[1].yiaddr).toBe(second);
    expect(a.c.addr).toBe(second);
    expect(a.log.kinds()).toEqual(['CONFLICT', 'BOUND']);
    expect(a.log.ev[0].addr).toBe('192.0.2.100');
    expect(server.leaseState[0]).toBe(LEASE_DECLINED);
    // the client never used the squatter's address
    expect(w.some((e) => e.kind === 'arp' && e.smac === mac && e.sip === POOL0)).toBe(false);
    expect(a.h.st.ifaddr.onDev(a.h.dev(0), POOL0)).toBe(false);
    sim.run(500);
    expect(sq.st.mib.link[LINK_ARPCONFLICTS]).toBe(0);
    expect(a.c.conflicts).toBe(1);
    a.c.stop(true);
    server.stop();
    expectAllFree(sim);
  });

  it('another host probing the same address at the same time is a conflict too', () => {
    const lan = dhcpLan(32);
    const { sim, server } = lan;
    const other = sim.addHost('other');
    sim.up(other);
    const a = addClient(lan, 'a', { probeNum: 3 });
    expect(sim.runUntil(() => a.c.state === DHCP_PROBING, 20000)).toBe(true);
    expect(arpProbe(other.st, other.dev(0), POOL0)).toBe(0);
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND, 60000)).toBe(true);
    expect(a.log.kinds()).toEqual(['CONFLICT', 'BOUND']);
    expect(a.c.addr).toBe(POOL0 + 1);
    expect(ofType(decodeCapture(lan.pcap), DHCPDECLINE).length).toBe(1);
    a.c.stop(true);
    server.stop();
    expectAllFree(sim);
  });
});

describe('DHCP: more clients, unicast replies, two devices', () => {
  it('without the BROADCAST flag the server unicasts OFFER/ACK to chaddr/yiaddr; two clients, two addresses', () => {
    const lan = dhcpLan(41);
    const { sim, server } = lan;
    const a = addClient(lan, 'a', { broadcastFlag: false, probeNum: 1 });
    const b = addClient(lan, 'b', { broadcastFlag: false, probeNum: 1, clientId: new Uint8Array([0, 98, 111, 97, 114, 100]) });
    expect(sim.runUntil(() => a.c.state === DHCP_BOUND && b.c.state === DHCP_BOUND, 30000)).toBe(true);
    expect(a.c.addr).not.toBe(b.c.addr);
    const w = decodeCapture(lan.pcap);
    for (const t of [DHCPOFFER, DHCPACK]) {
      const x = ofType(w, t);
      expect(x.length).toBe(2);
      for (const e of x) {
        expect(e.dstMacBroadcast).toBe(false);
        expect(e.dst).toBe(e.yiaddr);
        expect(e.flags).toBe(0);
      }
    }
    // delivered on devices without an address through st.ip.acceptUdpPort
    expect(a.h.st.ip.unconfDelivers).toBe(2);
    expect(b.h.st.ip.unconfDelivers).toBe(2);
    // the server's temporary neighbour entries are gone
    expect(server.st.arp.state.filter((s) => s === 6).length).toBe(0);
    a.c.stop(true);
    b.c.stop(true);
    sim.run(1000);
    expect(server.boundCount()).toBe(0);
    server.stop();
    expectAllFree(sim);
  });

  it("the lease's DNS servers go to the stack's resolver (st.resolver) unless dnsToResolver is false", () => {
    const lan = dhcpLan(43);
    const { sim, server } = lan;
    // a resolver made before the lease: it installs itself as the stack's name service
    const pre = (name: string): { r: DnsResolver; ch: ClientHost } => {
      const h = lan.sim.addHost(name);
      lan.sim.up(h);
      const r = new DnsResolver(h.st, {});
      const c = new DhcpClient(h.st);
      return { r, ch: { h, c, log: new EventLog(lan.sim) } };
    };
    const a = pre('a');
    const b = pre('b');
    b.r.setServers([parseIpStrict('198.18.0.53')]);
    expect(a.ch.c.start(a.ch.h.dev(0), { probeNum: 1 })).toBe(0);
    expect(b.ch.c.start(b.ch.h.dev(0), { probeNum: 1, dnsToResolver: false })).toBe(0);
    expect(sim.runUntil(() => a.ch.c.state === DHCP_BOUND && b.ch.c.state === DHCP_BOUND, 30000)).toBe(true);
    expect(a.r.serverCount()).toBe(2);
    expect(a.r.server(0)).toBe(DNS1);
    expect(a.r.server(1)).toBe(DNS2);
    // told not to: the servers set by hand stay
    expect(b.r.serverCount()).toBe(1);
    expect(b.r.server(0)).toBe(parseIpStrict('198.18.0.53') | 0);
    a.ch.c.stop(true);
    b.ch.c.stop(true);
    sim.run(1000);
    server.stop();
    expectAllFree(sim);
  });

  it('two clients on two devices of one stack: each leases on its own LAN and renews through its own socket', () => {
    const sim = new Sim({ seed: 51, stepMs: 100 });
    const sw1 = sim.addSwitch('sw1');
    const s0 = sim.addHost('srv0');
    const s1 = sim.addHost('srv1', undefined, sw1);
    expect(ifconfig(s0.st, s0.dev(0), '192.0.2.1/24', null)).toBe(0);
    expect(ifconfig(s1.st, s1.dev(0), '198.51.100.1/24', null)).toBe(0);
    sim.up(s0);
    sim.up(s1);
    const srv0 = new DhcpServer(s0.st, s0.dev(0), { poolStart: POOL0, poolSize: 4, prefixLen: 24, leaseSec: 200 });
    const srv1 = new DhcpServer(s1.st, s1.dev(0), {
      poolStart: parseIpStrict('198.51.100.100'), poolSize: 4, prefixLen: 24, leaseSec: 100, router: parseIpStrict('198.51.100.1'),
    });
    expect(srv0.start()).toBe(0);
    expect(srv1.start()).toBe(0);
    const h = sim.addHost('twoleg');
    sim.attach(h, sw1);
    sim.up(h);
    const c0 = new DhcpClient(h.st);
    const c1 = new DhcpClient(h.st);
    const l0 = new EventLog(sim);
    const l1 = new EventLog(sim);
    c0.handler = l0;
    c1.handler = l1;
    expect(c0.start(h.dev(0), { probeNum: 1 })).toBe(0);
    expect(c1.start(h.dev(1), { probeNum: 1 })).toBe(0);
    expect(c0.start(h.dev(0), null)).toBeLessThan(0); // already running
    expect(sim.runUntil(() => l0.count('RENEWED') >= 2 && l1.count('RENEWED') >= 2, 400000)).toBe(true);
    expect(formatIp(c0.addr)).toBe('192.0.2.100');
    expect(formatIp(c1.addr)).toBe('198.51.100.100');
    expect(l0.ev[0].dev).toBe(h.dev(0));
    expect(l1.ev[0].dev).toBe(h.dev(1));
    expect(h.st.ifaddr.onDev(h.dev(0), c0.addr)).toBe(true);
    expect(h.st.ifaddr.onDev(h.dev(1), c1.addr)).toBe(true);
    expect(formatIp(h.st.route.gw[h.st.route.lookup(FAR + 0x01000000)])).toBe('198.51.100.1');
    expect(c0.ignored + c1.ignored).toBe(0);
    expect(l0.count('LOST') + l1.count('LOST')).toBe(0);
    c0.stop(true);
    c1.stop(true);
    sim.run(1000);
    expect(srv0.boundCount() + srv1.boundCount()).toBe(0);
    expect(h.st.ifaddr.count + h.st.route.count).toBe(0);
    srv0.stop();
    srv1.stop();
    expectAllFree(sim);
  });
});
