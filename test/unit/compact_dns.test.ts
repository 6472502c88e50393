/*
 * The compact stack's DNS stub resolver (src/compact/dns.ts) against the
 * simulation's DNS server (src/apps/dns_server.ts, on a general-stack
 * host) in virtual time: A, CNAME chains, NXDOMAIN, a CNAME loop, dotted
 * quads, bad names, no servers, full slots, a silent server (EAI_AGAIN
 * after four tries), forged answers (ID, question) and answers from the
 * wrong port or server, every kind of malformed answer the server can
 * send, a lossy link, and random or mutated bytes fed to dnsInput.
 */
import { describe, it, expect } from 'vitest';
import { Sim, SimTicker } from '../../src/sim/world';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpStrict } from '../../src/link/ifaddr';
import { ServiceMux } from '../../src/apps/service';
import {
  DnsServer, DNS_SRV_DROP, DNS_SRV_SERVFAIL, DNS_SRV_TC, DNS_SRV_MALFORMED, DNS_SPOOF_ID, DNS_SPOOF_QUESTION,
  DNS_MAL_PTR_LOOP, DNS_MAL_PTR_FORWARD, DNS_MAL_PTR_HEADER, DNS_MAL_LABEL_LONG, DNS_MAL_NAME_LONG, DNS_MAL_COUNT,
  DNS_MAL_RDLEN, DNS_MAL_SHORT, DNS_MAL_A_LEN, DNS_MAL_HEADER, DNS_MAL_QDCOUNT, DNS_FORGED_ADDR,
} from '../../src/apps/dns_server';
import { SimCompactHost } from '../../src/sim/compact_host';
import { Net, netSetIp, UDP_DATA, put16, put32 } from '../../src/compact/net';
import { dnsLookup, dnsInput, dnsTick, DNS_TRIES } from '../../src/compact/dns';
import {
  EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_MEMORY, EAI_NOSERVERS, EAI_TRUNCATED, EAI_BADNAME,
  DNS_F_QR, DNS_F_RD, DNS_F_RA, DNS_TYPE_A, DNS_TYPE_CNAME, DNS_CLASS_IN, dnsPutHeader, dnsNameFromString, eaiName,
} from '../../src/wire/dns';

const ip = (s: string): number => parseIpStrict(s);
const SRV = ip('192.0.2.53');
const ME = ip('192.0.2.20');

interface Env {
  sim: Sim;
  srv: DnsServer;
  n: Net;
}

function env(seed: number): Env {
  const sim = new Sim({ seed });
  const h = sim.addHost('dns');
  expect(ifconfig(h.st, h.dev(0), '192.0.2.53/24', null)).toBe(0);
  sim.up(h);
  const mux = new ServiceMux(h.st);
  const srv = new DnsServer(h.st, 53, 64);
  mux.add(srv);
  expect(mux.start()).toBe(0);
  const t: SimTicker = { onTick: () => mux.run() };
  sim.addTicker(t);
  srv.addA('host.example', ip('198.51.100.1'), 300);
  srv.addA('two.example', ip('198.51.100.2'), 300);
  srv.addA('two.example', ip('198.51.100.3'), 300);
  srv.addCname('www.example', 'web.example', 300);
  srv.addCname('web.example', 'host.example', 300);
  srv.addCname('loop1.example', 'loop2.example', 300);
  srv.addCname('loop2.example', 'loop1.example', 300);
  srv.addTxt('text.example', 300);
  const c = new SimCompactHost(sim, 'pico', null);
  netSetIp(c.n, ME, 0xffffff00 | 0, 0, SRV);
  sim.run(50);
  return { sim, srv, n: c.n };
}

interface Res {
  err: number;
  addr: number;
  at: number;
}

/** look name up; run until the callback (once) */
function lookup(e: Env, name: string, maxMs?: number): Res {
  const t0 = e.sim.now();
  let res: Res | null = null;
  const rc = dnsLookup(e.n, name, (err, addr) => {
    expect(res, 'callback ran twice').toBeNull();
    res = { err, addr, at: e.sim.now() - t0 };
  });
  expect(rc).toBe(0);
  e.sim.runUntil(() => res !== null, maxMs !== undefined ? maxMs : 20000);
  expect(res, 'no callback for ' + name).not.toBeNull();
  return res as unknown as Res;
}

describe('compact DNS resolver', () => {
  it('resolves A records and CNAME chains; NXDOMAIN, NODATA, loops, SERVFAIL, TC', () => {
    const e = env(1);
    let x = lookup(e, 'host.example');
    expect([eaiName(x.err), x.addr]).toEqual(['OK', ip('198.51.100.1')]);
    expect(x.at).toBeLessThan(1000);
    x = lookup(e, 'HOST.Example.');
    expect([eaiName(x.err), x.addr]).toEqual(['OK', ip('198.51.100.1')]);
    x = lookup(e, 'two.example');
    expect([x.err, x.addr]).toEqual([EAI_OK, ip('198.51.100.2')]);
    x = lookup(e, 'www.example');
    expect([x.err, x.addr]).toEqual([EAI_OK, ip('198.51.100.1')]);
    x = lookup(e, 'nope.example');
    expect([eaiName(x.err), x.addr]).toEqual(['EAI_NONAME', 0]);
    x = lookup(e, 'text.example');
    expect(eaiName(x.err)).toBe('EAI_NODATA');
    x = lookup(e, 'loop1.example');
    expect(eaiName(x.err)).toBe('EAI_FAIL');
    e.srv.mode = DNS_SRV_SERVFAIL;
    expect(lookup(e, 'host.example').err).toBe(EAI_FAIL);
    e.srv.mode = DNS_SRV_TC;
    expect(lookup(e, 'host.example').err).toBe(EAI_TRUNCATED);
    expect(e.n.dnsDrop).toBe(0);
  });

  it('answers dotted quads without a query; refuses bad names, no server, full slots', () => {
    const e = env(2);
    const q0 = e.srv.queries;
    const x = lookup(e, '10.1.2.3');
    expect([x.err, x.addr]).toEqual([EAI_OK, ip('10.1.2.3')]);
    expect(lookup(e, '255.255.255.255').addr).toBe(-1);
    expect(e.srv.queries).toBe(q0);
    // not a quad: looked up by name
    expect(lookup(e, '10.1.2.256').err).toBe(EAI_NONAME);
    // a part of more than 3 digits: not a quad either (net.ts ipQuad, parseIp's rule)
    expect(lookup(e, '0010.1.2.3').err).toBe(EAI_NONAME);
    const nop = (): void => {};
    for (const bad of ['', '.', 'a..b', '.a', 'a b', 'x'.repeat(64) + '.example', ('abcdefg.').repeat(32) + 'com', 'caf\u00e9']) {
      expect(dnsLookup(e.n, bad, nop), JSON.stringify(bad)).toBe(EAI_BADNAME);
    }
    expect(dnsLookup(e.n, 'x'.repeat(63) + '.example', nop)).toBe(0);
    expect(dnsLookup(e.n, 'host.example', nop)).toBe(0);
    expect(dnsLookup(e.n, 'host.example', nop)).toBe(EAI_MEMORY);
    e.sim.run(2000);
    expect(dnsLookup(e.n, 'host.example', nop)).toBe(0);
    e.sim.run(2000);
    e.n.dns = 0;
    expect(dnsLookup(e.n, 'host.example', nop)).toBe(EAI_NOSERVERS);
    expect(lookup(e, '192.0.2.1').addr).toBe(ip('192.0.2.1'));
  });

  it('gives EAI_AGAIN after four tries one second apart when nobody answers', () => {
    const e = env(3);
    e.srv.mode = DNS_SRV_DROP;
    const q0 = e.srv.queries;
    const x = lookup(e, 'host.example');
    expect(eaiName(x.err)).toBe('EAI_AGAIN');
    expect(e.srv.queries - q0).toBe(DNS_TRIES);
    expect(x.at).toBeGreaterThanOrEqual(DNS_TRIES * 1000);
    // + 250 ms: the first send became an ARP request for the server (not counted as a try)
    expect(x.at).toBeLessThan(DNS_TRIES * 1000 + 300);
    // the server's MAC known now: exactly four tries, one second apart
    const q1 = e.srv.queries;
    const x1 = lookup(e, 'two.example');
    expect([eaiName(x1.err), e.srv.queries - q1]).toEqual(['EAI_AGAIN', DNS_TRIES]);
    expect(x1.at).toBeGreaterThanOrEqual(DNS_TRIES * 1000);
    expect(x1.at).toBeLessThan(DNS_TRIES * 1000 + 50);
    // ID and port random per query
    e.srv.mode = 0;
    lookup(e, 'host.example');
    lookup(e, 'two.example');
    const k = e.srv.queries;
    const ids = [e.srv.logId[(k - 1) % 64], e.srv.logId[(k - 2) % 64]];
    const ports = [e.srv.logPort[(k - 1) % 64], e.srv.logPort[(k - 2) % 64]];
    expect(ids[0]).not.toBe(ids[1]);
    expect(ports[0]).not.toBe(ports[1]);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(49152);
    // a server that drops the first two queries: answered on the third try
    e.srv.dropNext = 2;
    const y = lookup(e, 'host.example');
    expect([y.err, y.addr]).toEqual([EAI_OK, ip('198.51.100.1')]);
    expect(y.at).toBeGreaterThanOrEqual(2000);
  });

  it('ignores forged answers (wrong ID, other question) and answers from the wrong port or server', () => {
    const e = env(4);
    e.srv.spoof = DNS_SPOOF_ID;
    let x = lookup(e, 'host.example');
    expect([x.err, x.addr]).toEqual([EAI_OK, ip('198.51.100.1')]);
    expect(e.n.dnsDrop).toBe(1);
    e.srv.spoof = DNS_SPOOF_QUESTION;
    x = lookup(e, 'host.example');
    expect([x.err, x.addr]).toEqual([EAI_OK, ip('198.51.100.1')]);
    expect(x.addr).not.toBe(DNS_FORGED_ADDR);
    expect(e.n.dnsDrop).toBe(2);
    // by hand: a pending query, a good answer from port 5353 or another host is dropped; other ports are not ours
    e.srv.spoof = 0;
    e.srv.mode = DNS_SRV_DROP;
    let got = -99;
    expect(dnsLookup(e.n, 'host.example', (err) => { got = err; })).toBe(0);
    e.sim.run(100);
    const q = e.n.dq.filter((s) => s.qState === 1)[0];
    const len = answer(e.n.rx, UDP_DATA, q.qId, 'host.example', ip('203.0.113.9'));
    expect(dnsInput(e.n, UDP_DATA, len, SRV, 5353, q.qPort)).toBe(true);
    expect(dnsInput(e.n, UDP_DATA, len, ip('192.0.2.99'), 53, q.qPort)).toBe(true);
    expect(dnsInput(e.n, UDP_DATA, len, SRV, 53, q.qPort ^ 1)).toBe(false);
    expect(e.n.dnsDrop).toBe(4);
    expect(q.qState).toBe(1);
    expect(dnsInput(e.n, UDP_DATA, len, SRV, 53, q.qPort)).toBe(true);
    dnsTick(e.n, e.sim.now());
    expect(got).toBe(EAI_OK);
  });

  it('counts and ignores every kind of malformed answer (then EAI_AGAIN)', () => {
    const e = env(5);
    e.srv.mode = DNS_SRV_MALFORMED;
    const kinds = [
      DNS_MAL_PTR_LOOP, DNS_MAL_PTR_FORWARD, DNS_MAL_PTR_HEADER, DNS_MAL_LABEL_LONG, DNS_MAL_NAME_LONG, DNS_MAL_COUNT,
      DNS_MAL_RDLEN, DNS_MAL_SHORT, DNS_MAL_A_LEN, DNS_MAL_HEADER, DNS_MAL_QDCOUNT,
    ];
    for (const k of kinds) {
      e.srv.malform = k;
      const d0 = e.n.dnsDrop;
      const x = lookup(e, 'www.example');
      expect(eaiName(x.err), 'malform ' + k).toBe('EAI_AGAIN');
      expect(e.n.dnsDrop - d0, 'malform ' + k).toBe(DNS_TRIES);
    }
    e.srv.mode = 0;
    expect(lookup(e, 'www.example').addr).toBe(ip('198.51.100.1'));
  });

  it('resolves over a link that loses 30% of the frames', () => {
    const e = env(6);
    e.sim.setFaults(e.sim.hosts[0], { loss: 0.3 });
    let ok = 0;
    for (let i = 0; i < 10; i++) {
      const x = lookup(e, i % 2 === 0 ? 'host.example' : 'www.example');
      if (x.err === EAI_OK) {
        ok++;
        expect(x.addr).toBe(ip('198.51.100.1'));
      } else {
        expect(x.err).toBe(EAI_AGAIN);
      }
    }
    expect(ok).toBeGreaterThanOrEqual(8);
  });

  it('random and mutated answers never throw', () => {
    const e = env(7);
    e.srv.mode = DNS_SRV_DROP;
    const n = e.n;
    const r = n.rx;
    let seed = 99;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    let results = 0;
    const cb = (): void => {
      results++;
    };
    const tmpl = new Uint8Array(600);
    for (let k = 0; k < 4000; k++) {
      let q = n.dq.filter((s) => s.qState === 1)[0];
      if (q === undefined) {
        expect(dnsLookup(n, k % 3 === 0 ? 'www.example' : 'host.example', cb)).toBe(0);
        q = n.dq.filter((s) => s.qState === 1)[0];
      }
      let len: number;
      if (k % 3 === 0) {
        len = rnd() % 520;
        for (let i = 0; i < len; i++) r[UDP_DATA + i] = rnd() & 0xff;
        put16(r, UDP_DATA, q.qId);
        r[UDP_DATA + 2] = 0x81;
      } else {
        len = answer(tmpl, 0, q.qId, q.qName, ip('198.51.100.1'));
        r.set(tmpl.subarray(0, len), UDP_DATA);
        const flips = 1 + (rnd() % 4);
        for (let f = 0; f < flips; f++) r[UDP_DATA + 2 + (rnd() % (len - 2))] = rnd() & 0xff;
        if (rnd() % 4 === 0) len = rnd() % len;
      }
      expect(() => dnsInput(n, UDP_DATA, len, SRV, 53, q.qPort)).not.toThrow();
      if (k % 10 === 0) dnsTick(n, e.sim.now());
    }
    dnsTick(n, e.sim.now());
    expect(results).toBeGreaterThan(0);
    expect(n.dnsDrop).toBeGreaterThan(0);
  });

  it('parses hand-built answers: CNAME after its A record, NODATA, a CNAME pointing at itself', () => {
    const e = env(8);
    e.srv.mode = DNS_SRV_DROP;
    const n = e.n;
    const run = (build: (id: number) => number): [number, number] => {
      let res: [number, number] = [1, 1];
      expect(dnsLookup(n, 'www.example', (err, addr) => { res = [err, addr]; })).toBe(0);
      e.sim.run(50);
      const q = n.dq.filter((s) => s.qState === 1)[0];
      const len = build(q.qId);
      expect(dnsInput(n, UDP_DATA, len, SRV, 53, q.qPort)).toBe(true);
      dnsTick(n, e.sim.now());
      return res;
    };
    // A for the target first, then the CNAME (out of order)
    expect(run((id) => {
      const b = n.rx;
      const o = UDP_DATA;
      let p = question(b, o, id, 'www.example', 2);
      p = rr(b, o, p, 'host.example', DNS_TYPE_A, 4);
      put32(b, p - 4, ip('198.51.100.7'));
      p = rr(b, o, p, '\u0000' + 12, DNS_TYPE_CNAME, 2);
      // the CNAME's RDATA: a pointer to the A record's owner (right after the question)
      put16(b, p - 2, 0xc000 | (12 + 13 + 4));
      return p - o;
    })).toEqual([EAI_OK, ip('198.51.100.7')]);
    // NOERROR, no answers: NODATA
    expect(run((id) => question(n.rx, UDP_DATA, id, 'www.example', 0) - UDP_DATA)).toEqual([EAI_NODATA, 0]);
    // a CNAME to itself: a chain that never ends
    expect(run((id) => {
      const b = n.rx;
      const o = UDP_DATA;
      let p = question(b, o, id, 'www.example', 1);
      p = rr(b, o, p, '\u0000' + 12, DNS_TYPE_CNAME, 2);
      put16(b, p - 2, 0xc000 | 12);
      return p - o;
    })).toEqual([EAI_FAIL, 0]);
  });
});

/* ---- building answers by hand ---- */

/** header (QR RD RA, an answers) and the question for name; returns the offset after it */
function question(b: Uint8Array, o: number, id: number, name: string, an: number): number {
  dnsPutHeader(b, o, id, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, an, 0, 0);
  const l = dnsNameFromString(name, b, o + 12);
  let p = o + 12 + l;
  put16(b, p, DNS_TYPE_A);
  put16(b, p + 2, DNS_CLASS_IN);
  p += 4;
  return p;
}

/** a record: owner name (or '\0' + offset: a pointer), type, class IN, TTL 60, rdlen bytes of zero RDATA */
function rr(b: Uint8Array, o: number, p: number, owner: string, type: number, rdlen: number): number {
  if (owner.charCodeAt(0) === 0) {
    put16(b, p, 0xc000 | Number(owner.slice(1)));
    p += 2;
  } else {
    p += dnsNameFromString(owner, b, p);
  }
  put16(b, p, type);
  put16(b, p + 2, DNS_CLASS_IN);
  put32(b, p + 4, 60);
  put16(b, p + 8, rdlen);
  b.fill(0, p + 10, p + 10 + rdlen);
  return p + 10 + rdlen;
}

/** a whole answer: name → addr (owner a pointer to the question) */
function answer(b: Uint8Array, o: number, id: number, name: string, addr: number): number {
  let p = question(b, o, id, name, 1);
  p = rr(b, o, p, '\u0000' + 12, DNS_TYPE_A, 4);
  put32(b, p - 4, addr);
  return p - o;
}
