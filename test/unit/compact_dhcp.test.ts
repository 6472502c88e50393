/*
 * The compact stack's DHCP client (src/compact/dhcp.ts) against the
 * simulation's DHCP server (src/apps/dhcp_server.ts, on a general-stack
 * host) in virtual time: a lease (address, mask, gateway, DNS, onLease),
 * renewal at T1, a silent server (rebinding at T2, expiry clears the
 * address, a new lease when it is back), a NAK, RELEASE, a lossy link,
 * and random bytes fed to dhcpInput.
 */
import { describe, it, expect } from 'vitest';
import { SimCompactHost } from '../../src/sim/compact_host';
import { Net, UDP_DATA, put32, put16 } from '../../src/compact/net';
import {
  dhcpStart, dhcpRelease, dhcpInput, dhcpTick, D_STATE, D_T1, D_T2, D_EXP, D_DROP, D_XID, DS_BOUND, DS_RENEWING,
  DS_REBINDING, DS_SELECTING, DS_REQUESTING, DS_OFF,
} from '../../src/compact/dhcp';
import {
  DHCP_OP, DHCP_HTYPE, DHCP_HLEN, DHCP_XID, DHCP_CHADDR, DHCP_COOKIE, DHCP_OPTIONS, DHCP_MAGIC, BOOTREPLY,
  HTYPE_ETHER, DHO_MSG_TYPE, DHO_SERVER_ID, DHCPOFFER, DHCPDISCOVER, DHCPREQUEST, DHCPACK, DHCPNAK, DHCPRELEASE,
} from '../../src/wire/dhcp';
import { dhcpLan, decodeCapture, ofType, SRV_IP, POOL0, DNS1, DhcpLan } from '../scenario/dhcp_util';

const MASK24 = 0xffffff00 | 0;

function compact(lan: DhcpLan): { c: SimCompactHost; leases: number[] } {
  const c = new SimCompactHost(lan.sim, 'pico', null);
  const leases: number[] = [];
  c.n.hostname = 'pico';
  c.n.onLease = (ip: number) => {
    leases.push(ip);
  };
  return { c, leases };
}

describe('compact DHCP client', () => {
  it('gets a lease, renews at T1, rebinds at T2, loses it at expiry, gets a new one, releases', () => {
    const lan = dhcpLan(3);
    const { sim, server } = lan;
    const { c, leases } = compact(lan);
    const n = c.n;
    dhcpStart(n);
    expect(sim.runUntil(() => n.ip !== 0, 10000)).toBe(true);
    expect([n.ip, n.mask, n.gw, n.dns]).toEqual([POOL0, MASK24, SRV_IP, DNS1]);
    expect(leases).toEqual([POOL0]);
    expect(n.dh[D_STATE]).toBe(DS_BOUND);
    let w = decodeCapture(lan.pcap).filter((e) => e.kind === 'dhcp');
    expect(w.map((e) => e.type)).toEqual([DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK]);
    const req = w[2];
    expect([req.src, req.dst, req.requestedIp, req.serverId]).toEqual([0, -1, POOL0, SRV_IP]);
    for (const e of w) expect(e.xid).toBe(w[0].xid);
    // lease 300 s: T1 150 s, T2 262 s, counted from the REQUEST
    expect(n.dh[D_T1] - req.t).toBeGreaterThanOrEqual(150000 - 100);
    expect(n.dh[D_T1] - req.t).toBeLessThanOrEqual(150000);
    expect(n.dh[D_T2] - n.dh[D_T1]).toBe(112000);
    expect(n.dh[D_EXP] - n.dh[D_T1]).toBe(150000);

    // ---- T1: a unicast REQUEST with ciaddr, ACK: still bound, same address, later expiry
    const t1 = n.dh[D_T1];
    const exp0 = n.dh[D_EXP];
    const acks = server.acks;
    expect(sim.runUntil(() => server.acks === acks + 1, 160000)).toBe(true);
    sim.run(200);
    expect(sim.now()).toBeGreaterThanOrEqual(t1);
    expect(n.dh[D_STATE]).toBe(DS_BOUND);
    expect(n.ip).toBe(POOL0);
    expect(n.dh[D_EXP]).toBeGreaterThan(exp0);
    w = ofType(decodeCapture(lan.pcap).filter((e) => e.t >= t1 - 1), DHCPREQUEST);
    expect([w[0].src, w[0].dst, w[0].ciaddr, w[0].requestedIp, w[0].serverId]).toEqual([POOL0, SRV_IP, POOL0, 0, 0]);
    expect(leases.length).toBe(1);

    // ---- the server goes silent: RENEWING, REBINDING (broadcast), expiry takes the address away
    server.silent = true;
    const t1b = n.dh[D_T1];
    const t2b = n.dh[D_T2];
    const expb = n.dh[D_EXP];
    const seen: number[] = [];
    expect(sim.runUntil(() => {
      const s = n.dh[D_STATE];
      if (seen[seen.length - 1] !== s) seen.push(s);
      return n.ip === 0;
    }, 400000)).toBe(true);
    expect(seen).toEqual([DS_BOUND, DS_RENEWING, DS_REBINDING, DS_SELECTING]);
    expect(sim.now() - expb).toBeLessThanOrEqual(100);
    expect(sim.now()).toBeGreaterThanOrEqual(expb);
    expect([n.ip, n.mask, n.gw, n.dns]).toEqual([0, 0, 0, 0]);
    w = ofType(decodeCapture(lan.pcap).filter((e) => e.t >= t1b - 1), DHCPREQUEST);
    // renewing: T1, T1 + 60 s (RFC 2131 §4.4.5 minimum), unicast; rebinding at T2, broadcast
    // (38 s to expiry: the 60 s minimum puts the next try past it)
    expect(w.map((e) => e.dst)).toEqual([SRV_IP, SRV_IP, -1]);
    expect(Math.round(w[0].t - t1b)).toBeLessThan(150);
    expect(Math.round(w[1].t - t1b)).toBeGreaterThanOrEqual(60000);
    expect(w[2].t - t2b).toBeGreaterThanOrEqual(0);
    expect(w[2].t - t2b).toBeLessThan(150);
    for (const e of w) expect(e.ciaddr).toBe(POOL0);

    // ---- the server is back: a new lease from DISCOVER
    server.silent = false;
    expect(sim.runUntil(() => n.ip !== 0, 120000)).toBe(true);
    expect(n.ip).toBe(POOL0);
    expect(leases).toEqual([POOL0, POOL0]);

    // ---- RELEASE: unicast to the server, address gone, client stopped
    const rel = server.releases;
    dhcpRelease(n);
    expect([n.ip, n.dh[D_STATE]]).toEqual([0, DS_OFF]);
    sim.run(500);
    expect(server.releases).toBe(rel + 1);
    const r = ofType(decodeCapture(lan.pcap), DHCPRELEASE);
    expect([r.length, r[0].dst, r[0].ciaddr]).toEqual([1, SRV_IP, POOL0]);
    sim.run(400000);
    expect(n.ip).toBe(0);
    expect(n.dh[D_DROP]).toBe(0);
  });

  it('starts again after a NAK', () => {
    const lan = dhcpLan(4);
    const { sim, server } = lan;
    const { c, leases } = compact(lan);
    server.nakRequests = 1;
    dhcpStart(c.n);
    expect(sim.runUntil(() => c.n.ip !== 0, 30000)).toBe(true);
    expect(c.n.ip).toBe(POOL0);
    expect(leases).toEqual([POOL0]);
    const w = decodeCapture(lan.pcap).filter((e) => e.kind === 'dhcp').map((e) => e.type);
    expect(w).toEqual([DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPNAK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK]);
  });

  it('retransmits DISCOVER at 4, 8, 16, 32, 64 s (±1 s) with no server', () => {
    const lan = dhcpLan(5);
    const { sim, server } = lan;
    server.silent = true;
    const { c } = compact(lan);
    dhcpStart(c.n);
    sim.run(200000);
    const d = ofType(decodeCapture(lan.pcap), DHCPDISCOVER);
    const want = [4000, 8000, 16000, 32000, 64000, 64000];
    expect(d.length).toBeGreaterThanOrEqual(want.length + 1);
    for (let i = 0; i < want.length; i++) {
      const g = d[i + 1].t - d[i].t;
      expect(g >= want[i] - 1000 && g <= want[i] + 1100, 'gap ' + i + ': ' + g).toBe(true);
    }
  });

  it('gets a lease over a link that loses 30% of the frames', () => {
    for (const seed of [6, 7, 8]) {
      const lan = dhcpLan(seed);
      lan.sim.setFaults(lan.srvHost, { loss: 0.3 });
      const { c } = compact(lan);
      dhcpStart(c.n);
      expect(lan.sim.runUntil(() => c.n.ip !== 0, 300000), 'seed ' + seed).toBe(true);
      expect([c.n.ip, c.n.gw, c.n.dns]).toEqual([POOL0, SRV_IP, DNS1]);
    }
  });

  it('drops malformed and foreign replies; random bytes never throw', () => {
    const lan = dhcpLan(9);
    lan.server.silent = true;
    const { c } = compact(lan);
    const n: Net = c.n;
    dhcpStart(n);
    expect(n.dh[D_STATE]).toBe(DS_SELECTING);
    const r = n.rx;
    const off = UDP_DATA;
    /** a well-formed OFFER for us, options at DHCP_OPTIONS */
    const offer = (xid: number): number => {
      r.fill(0, off, off + 300);
      r[off + DHCP_OP] = BOOTREPLY;
      r[off + DHCP_HTYPE] = HTYPE_ETHER;
      r[off + DHCP_HLEN] = 6;
      put32(r, off + DHCP_XID, xid);
      r.set(n.mac, off + DHCP_CHADDR);
      put32(r, off + DHCP_COOKIE, DHCP_MAGIC);
      put32(r, off + 16, 0); // yiaddr stays 0: never acceptable
      let p = off + DHCP_OPTIONS;
      r[p++] = DHO_MSG_TYPE;
      r[p++] = 1;
      r[p++] = DHCPOFFER;
      r[p++] = DHO_SERVER_ID;
      r[p++] = 4;
      put32(r, p, SRV_IP);
      p += 4;
      r[p++] = 255;
      return p - off;
    };
    const xid = n.dh[D_XID];
    let drops = n.dh[D_DROP];
    // wrong xid, wrong chaddr, wrong cookie, wrong op, short, option past the end, yiaddr 0
    const cases: ((len: number) => number)[] = [
      (l) => { put32(r, off + DHCP_XID, xid + 1); return l; },
      (l) => { r[off + DHCP_CHADDR + 5] ^= 1; return l; },
      (l) => { r[off + DHCP_COOKIE] ^= 1; return l; },
      (l) => { r[off + DHCP_OP] = 1; return l; },
      () => 239,
      (l) => { r[off + DHCP_OPTIONS + 4] = 200; return l; },
      (l) => l,
    ];
    for (const f of cases) {
      const len = f(offer(xid));
      dhcpInput(n, off, len);
      expect(n.dh[D_DROP]).toBe(drops + 1);
      drops++;
      expect(n.dh[D_STATE]).toBe(DS_SELECTING);
    }
    // a good OFFER (yiaddr set) moves to REQUESTING
    const good = offer(xid);
    put32(r, off + 16, POOL0);
    dhcpInput(n, off, good);
    expect(n.dh[D_STATE]).toBe(DS_REQUESTING);
    // random bytes, then random options behind a valid header, in every state the client passes through
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let k = 0; k < 3000; k++) {
      const len = rnd() % 600;
      if (k % 2 === 0) {
        for (let i = 0; i < len; i++) r[off + i] = rnd() & 0xff;
      } else {
        offer(n.dh[D_XID]);
        put32(r, off + 16, rnd() << 16 | rnd());
        for (let i = DHCP_OPTIONS; i < len; i++) r[off + i] = (rnd() & 7) === 0 ? [DHO_MSG_TYPE, 1, DHCPACK, DHCPNAK, 51, 4][rnd() % 6] : rnd() & 0xff;
        put16(r, off + DHCP_OPTIONS, DHO_MSG_TYPE << 8 | 1);
        r[off + DHCP_OPTIONS + 2] = [DHCPOFFER, DHCPACK, DHCPNAK][rnd() % 3];
      }
      expect(() => dhcpInput(n, off, Math.max(len, 0))).not.toThrow();
      expect(() => dhcpTick(n, lan.sim.now() + k * 1000)).not.toThrow();
      if (n.dh[D_STATE] === DS_OFF) dhcpStart(n);
    }
    expect(n.dh[D_DROP]).toBeGreaterThan(drops);
  });
});
