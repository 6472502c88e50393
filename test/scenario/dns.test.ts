/*
 * Scenario: the DNS stub resolver (src/apps/dns_resolver.ts) against the
 * simulation's DNS servers (src/apps/dns_server.ts) on a virtual LAN, in
 * virtual time: answers, literals, the cache and its expiry, resends,
 * server rotation, CNAME chains, NXDOMAIN/NODATA, TC, malformed and
 * forged answers, ICMP port unreachable, maxQueries and sockets running out,
 * a lossy LAN. Every scenario ends with every skb back in its pool and
 * every socket of the client closed.
 */
import { describe, it, expect } from 'vitest';
import { Sim, SimTicker } from '../../src/sim/world';
import { s32 } from '../../src/core/bits';
import { parseIpStrict } from '../../src/link/ifaddr';
import { ServiceMux } from '../../src/apps/service';
import { DnsResolver, DnsResolverOptions, DnsHandler, dottedQuad } from '../../src/apps/dns_resolver';
import {
  DnsServer, DNS_SRV_DROP, DNS_SRV_SERVFAIL, DNS_SRV_REFUSED, DNS_SRV_TC, DNS_SRV_MALFORMED, DNS_SPOOF_ID,
  DNS_SPOOF_QUESTION, DNS_MAL_PTR_LOOP, DNS_MAL_PTR_FORWARD, DNS_MAL_PTR_HEADER, DNS_MAL_LABEL_LONG,
  DNS_MAL_NAME_LONG, DNS_MAL_COUNT, DNS_MAL_RDLEN, DNS_MAL_SHORT, DNS_MAL_A_LEN, DNS_MAL_HEADER, DNS_MAL_QDCOUNT,
  DNS_SRV_LOG,
} from '../../src/apps/dns_server';
import {
  EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_MEMORY, EAI_NOSERVERS, EAI_TRUNCATED, EAI_BADNAME,
  eaiName,
} from '../../src/wire/dns';
import { makeLan, expectAllFree, LanHost } from './helpers';

const ip = (s: string) => parseIpStrict(s);

interface Result {
  err: number;
  addr: number;
  ttl: number;
  at: number;
}

class ServerHost implements SimTicker {
  readonly mux: ServiceMux;
  readonly srv: DnsServer;
  constructor(readonly lh: LanHost) {
    this.mux = new ServiceMux(lh.h.st);
    this.srv = new DnsServer(lh.h.st, 53, 64);
    this.mux.add(this.srv);
    expect(this.mux.start()).toBe(0);
  }
  onTick(): number {
    return this.mux.run();
  }
  /** the standard zone */
  zone(ttl: number): void {
    const s = this.srv;
    s.addA('host.example', ip('198.51.100.1'), ttl);
    s.addA('two.example', ip('198.51.100.2'), ttl);
    s.addA('two.example', ip('198.51.100.3'), ttl);
    s.addCname('www.example', 'web.example', ttl);
    s.addCname('web.example', 'host.example', ttl * 2);
    s.addCname('dangling.example', 'nowhere.example', ttl);
    s.addCname('loop1.example', 'loop2.example', ttl);
    s.addCname('loop2.example', 'loop1.example', ttl);
    // a long chain: c0 → c1 → ... → c9 → host
    for (let i = 0; i < 9; i++) s.addCname('c' + i + '.example', 'c' + (i + 1) + '.example', ttl);
    s.addCname('c9.example', 'host.example', ttl);
  }
}

interface Env {
  sim: Sim;
  client: LanHost;
  r: DnsResolver;
  servers: ServerHost[];
}

function env(seed: number, nServers: number, opts?: DnsResolverOptions, ttl?: number): Env {
  const sim = new Sim({ seed });
  const hosts = makeLan(sim, 1 + nServers);
  const client = hosts[0];
  const servers: ServerHost[] = [];
  for (let k = 1; k <= nServers; k++) {
    const sh = new ServerHost(hosts[k]);
    sh.zone(ttl !== undefined ? ttl : 300);
    sim.addTicker(sh);
    servers.push(sh);
  }
  const r = new DnsResolver(client.h.st, opts);
  r.setServers(servers.map((s) => s.lh.ip));
  sim.run(50);
  return { sim, client, r, servers };
}

/** resolve and run until the callback (at most maxMs); the result with the virtual time it took */
function lookup(e: Env, name: string, maxMs?: number): Result {
  const t0 = e.sim.now();
  let res: Result | null = null;
  const h = e.r.resolve(name, (err, addr, ttl) => {
    expect(res, 'callback ran twice').toBeNull();
    res = { err, addr, ttl, at: e.sim.now() - t0 };
  });
  expect(h).toBeGreaterThanOrEqual(0);
  e.sim.runUntil(() => res !== null, maxMs !== undefined ? maxMs : 60000);
  expect(res, 'no callback for ' + name + ' ' + e.sim.describe()).not.toBeNull();
  return res as unknown as Result;
}

function done(e: Env): void {
  expect(e.r.active).toBe(0);
  expect(e.client.h.st.sock.open, 'client sockets left open').toBe(0);
  expectAllFree(e.sim);
}

const errName = (x: Result) => eaiName(x.err);

describe('DNS resolver: answers, literals, cache', () => {
  it('resolves an A record from one server', () => {
    const e = env(1, 1);
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    expect(x.addr).toBe(ip('198.51.100.1'));
    expect(x.ttl).toBe(300);
    expect(x.at).toBeLessThan(100);
    expect(e.servers[0].srv.queries).toBe(1);
    expect(e.r.queries).toBe(1);
    expect(e.r.resends).toBe(0);
    // the name is matched case-insensitively and a trailing dot is the same name
    const y = lookup(e, 'HOST.Example.');
    expect(y.addr).toBe(ip('198.51.100.1'));
    expect(e.r.cacheHits).toBe(1);
    done(e);
  });

  it('answers literals and localhost without a query, synchronously', () => {
    const e = env(2, 1);
    const got: number[] = [];
    expect(e.r.resolve('192.0.2.77', (err, addr) => got.push(err, addr))).toBe(0);
    expect(got).toEqual([EAI_OK, ip('192.0.2.77')]);
    expect(e.r.resolve('255.255.255.255', (err, addr) => got.push(err, addr))).toBe(0);
    expect(got.slice(2)).toEqual([EAI_OK, -1]);
    expect(e.r.resolve('localhost', (err, addr) => got.push(err, addr))).toBe(0);
    expect(e.r.resolve('a.LOCALHOST.', (err, addr) => got.push(err, addr))).toBe(0);
    expect(got.slice(4)).toEqual([EAI_OK, 0x7f000001, EAI_OK, 0x7f000001]);
    // not literals: five parts, 256, a letter → names (sent as queries: NXDOMAIN here)
    expect(dottedQuad('1.2.3.4.5')).toBe(-1);
    expect(dottedQuad('1.2.3.256')).toBe(-1);
    expect(dottedQuad('1.2.3')).toBe(-1);
    expect(dottedQuad('1..2.3')).toBe(-1);
    expect(dottedQuad('0.0.0.0')).toBe(0);
    expect(dottedQuad('255.255.255.255')).toBe(0xffffffff);
    expect(e.servers[0].srv.queries).toBe(0);
    expect(errName(lookup(e, '1.2.3.256'))).toBe('EAI_NONAME');
    expect(e.servers[0].srv.queries).toBe(1);
    done(e);
  });

  it('rejects invalid names without a query', () => {
    const e = env(3, 1);
    const bad = ['', '.', 'a..b', '.a', 'a'.repeat(64) + '.example', ('a'.repeat(63) + '.').repeat(4) + 'b', 'sp ace.example', 'caf\u00e9.example'];
    for (const n of bad) {
      let err = 1;
      expect(e.r.resolve(n, (x) => (err = x))).toBe(0);
      expect(eaiName(err), JSON.stringify(n)).toBe('EAI_BADNAME');
    }
    // the longest legal name (253 characters, 255 bytes on the wire) is sent
    const longest = ('a'.repeat(63) + '.').repeat(3) + 'b'.repeat(61);
    expect(longest.length).toBe(253);
    let e254 = 1;
    e.r.resolve(longest + 'b', (x) => (e254 = x));
    expect(eaiName(e254)).toBe('EAI_BADNAME');
    let e253dot = 1;
    e.r.resolve(longest + '.', (x) => (e253dot = x)); // the trailing dot is not part of the name: sent
    expect(errName(lookup(e, longest))).toBe('EAI_NONAME');
    expect(eaiName(e253dot)).toBe('EAI_NONAME');
    expect(e.servers[0].srv.queries).toBe(2);
    done(e);
  });

  it('caches answers for their TTL on the stack clock, then asks again', () => {
    const e = env(4, 1, undefined, 30);
    const a = lookup(e, 'host.example');
    expect(a.ttl).toBe(30);
    expect(e.r.cacheCount()).toBe(1);
    e.sim.run(10000);
    const b = lookup(e, 'host.example');
    expect(b.at).toBe(0);
    expect(b.addr).toBe(a.addr);
    expect(b.ttl).toBeLessThanOrEqual(20);
    expect(b.ttl).toBeGreaterThanOrEqual(19);
    expect(e.servers[0].srv.queries).toBe(1);
    e.sim.run(21000);
    expect(e.r.cacheCount()).toBe(0);
    // the record changed meanwhile: the new address comes back
    e.servers[0].srv.clear();
    e.servers[0].srv.addA('host.example', ip('198.51.100.9'), 0);
    const c = lookup(e, 'host.example');
    expect(c.addr).toBe(ip('198.51.100.9'));
    expect(e.servers[0].srv.queries).toBe(2);
    // TTL 0: used once, never cached (RFC 1035 §3.2.1)
    expect(c.ttl).toBe(0);
    lookup(e, 'host.example');
    expect(e.servers[0].srv.queries).toBe(3);
    expect(e.r.cacheHits).toBe(1);
    done(e);
  });

  it('keeps a fixed number of cache entries, replacing the one expiring first', () => {
    const e = env(5, 1, { cacheSize: 2 });
    const s = e.servers[0].srv;
    s.clear();
    s.addA('a.example', ip('198.51.100.11'), 100);
    s.addA('b.example', ip('198.51.100.12'), 50);
    s.addA('c.example', ip('198.51.100.13'), 200);
    lookup(e, 'a.example');
    lookup(e, 'b.example');
    lookup(e, 'c.example'); // b (expiring first) goes
    expect(e.r.cacheCount()).toBe(2);
    expect(s.queries).toBe(3);
    lookup(e, 'a.example');
    lookup(e, 'c.example');
    expect(s.queries).toBe(3);
    lookup(e, 'b.example');
    expect(s.queries).toBe(4);
    done(e);
  });

  it('serves the handler-object form with tags', () => {
    const e = env(6, 1);
    const got: string[] = [];
    const h: DnsHandler = {
      onResolved(tag: number, err: number, addr: number, ttl: number): void {
        got.push(tag + ':' + eaiName(err) + ':' + addr + ':' + ttl);
      },
    };
    expect(e.r.resolveWith('host.example', h, 7)).toBeGreaterThan(0);
    expect(e.r.resolveWith('two.example', h, 8)).toBeGreaterThan(0);
    expect(e.r.resolveWith('none.example', h, 9)).toBeGreaterThan(0);
    expect(e.r.resolveWith('10.0.0.1', h, 10)).toBe(0);
    e.sim.runUntil(() => got.length === 4, 5000);
    expect(got.sort()).toEqual([
      '10:OK:' + ip('10.0.0.1') + ':0',
      '7:OK:' + ip('198.51.100.1') + ':300',
      '8:OK:' + ip('198.51.100.2') + ':300',
      '9:EAI_NONAME:0:0',
    ]);
    done(e);
  });

  it('uses a fresh random query ID and source port for each query', () => {
    const e = env(7, 1);
    const s = e.servers[0].srv;
    for (let i = 0; i < 40; i++) expect(lookup(e, 'n' + i + '.example').err).toBe(EAI_NONAME);
    expect(s.queries).toBe(40);
    const ids = new Set<number>();
    const ports = new Set<number>();
    for (let i = 0; i < 40; i++) {
      ids.add(s.logId[i % DNS_SRV_LOG]);
      ports.add(s.logPort[i % DNS_SRV_LOG]);
    }
    expect(ids.size).toBeGreaterThanOrEqual(38);
    expect(ports.size).toBeGreaterThanOrEqual(38);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(e.client.h.st.cfg.ephemeralLow);
      expect(p).toBeLessThanOrEqual(e.client.h.st.cfg.ephemeralHigh);
    }
    done(e);
  });
});

describe('DNS resolver: resends and server rotation', () => {
  it('resends a dropped query after the timeout, doubling it per round', () => {
    const e = env(10, 1, { queryTimeoutMs: 1000, attempts: 3 });
    e.servers[0].srv.dropNext = 2;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    // tries at 0, 1000, 1000 + 2000
    expect(x.at).toBeGreaterThanOrEqual(3000);
    expect(x.at).toBeLessThan(3100);
    expect(e.r.resends).toBe(2);
    expect(e.r.timeouts).toBe(2);
    expect(e.servers[0].srv.queries).toBe(3);
    done(e);
  });

  it('times out with EAI_AGAIN when no server answers (attempts rounds over every server)', () => {
    const e = env(11, 2, { queryTimeoutMs: 1000, attempts: 2 });
    for (const s of e.servers) s.srv.mode = DNS_SRV_DROP;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('EAI_AGAIN');
    // 1000 + 1000 (round 1), 2000 + 2000 (round 2)
    expect(x.at).toBeGreaterThanOrEqual(6000);
    expect(x.at).toBeLessThan(6100);
    expect(e.servers[0].srv.queries).toBe(2);
    expect(e.servers[1].srv.queries).toBe(2);
    done(e);
  });

  it('rotates to the next server when the first does not answer, and then starts there', () => {
    const e = env(12, 3, { queryTimeoutMs: 500 });
    e.servers[0].srv.mode = DNS_SRV_DROP;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    expect(x.at).toBeGreaterThanOrEqual(500);
    expect(x.at).toBeLessThan(600);
    expect(e.servers[0].srv.queries).toBe(1);
    expect(e.servers[1].srv.queries).toBe(1);
    // the next query goes straight to the server that answered
    const y = lookup(e, 'two.example');
    expect(y.at).toBeLessThan(100);
    expect(e.servers[0].srv.queries).toBe(1);
    expect(e.servers[1].srv.queries).toBe(2);
    expect(e.servers[2].srv.queries).toBe(0);
    done(e);
  });

  it('moves on at once after SERVFAIL or REFUSED; EAI_FAIL when every server fails', () => {
    const e = env(13, 3, { queryTimeoutMs: 1000 });
    e.servers[0].srv.mode = DNS_SRV_SERVFAIL;
    e.servers[1].srv.mode = DNS_SRV_REFUSED;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    expect(x.at).toBeLessThan(100);
    expect(e.r.rcodeErrors).toBe(2);
    expect(e.servers[2].srv.queries).toBe(1);
    e.servers[2].srv.mode = DNS_SRV_SERVFAIL;
    const y = lookup(e, 'two.example');
    expect(errName(y)).toBe('EAI_FAIL');
    expect(y.at).toBeLessThan(100);
    // attempts (2) rounds over three servers
    expect(e.r.rcodeErrors).toBe(2 + 6);
    done(e);
  });

  it('a server that answers with ICMP port unreachable is skipped without waiting', () => {
    const e = env(14, 2, { queryTimeoutMs: 2000 });
    e.servers[0].srv.stop(); // nothing on port 53 there
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    expect(x.at).toBeLessThan(100);
    expect(e.r.icmpErrors).toBe(1);
    expect(e.servers[1].srv.queries).toBe(1);
    done(e);
  });

  it('fails with EAI_NOSERVERS without servers, and takes new servers for the next try', () => {
    const e = env(15, 2, { queryTimeoutMs: 1000, attempts: 2 });
    const all = [e.servers[0].lh.ip, e.servers[1].lh.ip];
    expect(e.r.setServers([])).toBe(0);
    expect(errName(lookup(e, 'host.example'))).toBe('EAI_NOSERVERS');
    // zero, broadcast and repeats are skipped
    expect(e.r.setServers([0, 0xffffffff, all[0], all[0]])).toBe(1);
    e.servers[0].srv.mode = DNS_SRV_DROP;
    let res: Result | null = null;
    const t0 = e.sim.now();
    e.r.resolve('host.example', (err, addr, ttl) => (res = { err, addr, ttl, at: e.sim.now() - t0 }));
    e.sim.run(200);
    e.r.setServers(new Int32Array([s32(all[1])]));
    expect(e.r.serverCount()).toBe(1);
    expect(e.r.server(0)).toBe(s32(all[1]));
    e.sim.runUntil(() => res !== null, 5000);
    expect(res).not.toBeNull();
    expect(eaiName(res!.err)).toBe('OK');
    expect(res!.at).toBeGreaterThanOrEqual(1000);
    done(e);
  });

  for (const seed of [21, 22, 23, 24]) {
    it(`resolves on a lossy LAN (seed ${seed})`, () => {
      const e = env(seed, 2, { queryTimeoutMs: 300, attempts: 6, cacheSize: 0 });
      e.sim.setFaults(e.client.h, { loss: 0.25, dup: 0.05, reorder: 0.1, reorderMs: 5, corrupt: 0.03, corruptFrom: 14 });
      let ok = 0;
      for (let i = 0; i < 20; i++) {
        const x = lookup(e, i % 2 === 0 ? 'www.example' : 'two.example', 60000);
        if (x.err === EAI_OK) {
          ok++;
          expect(x.addr === ip('198.51.100.1') || x.addr === ip('198.51.100.2')).toBe(true);
        } else {
          expect(x.err).toBe(EAI_AGAIN);
        }
      }
      expect(ok, e.sim.describe()).toBeGreaterThanOrEqual(18);
      expect(e.r.resends).toBeGreaterThan(0);
      done(e);
    });
  }
});

describe('DNS resolver: CNAME chains, NXDOMAIN, NODATA', () => {
  it('follows a CNAME chain inside one answer, with the smallest TTL', () => {
    const e = env(30, 1, undefined, 120);
    const x = lookup(e, 'www.example');
    expect(errName(x)).toBe('OK');
    expect(x.addr).toBe(ip('198.51.100.1'));
    expect(x.ttl).toBe(120);
    expect(e.servers[0].srv.queries).toBe(1);
    expect(e.r.cnameQueries).toBe(0);
    done(e);
  });

  it('queries the target when the answer holds only the CNAME', () => {
    const e = env(31, 1);
    e.servers[0].srv.fullChain = false;
    e.servers[0].srv.setTtl('web.example', 40);
    const x = lookup(e, 'www.example');
    expect(errName(x)).toBe('OK');
    expect(x.addr).toBe(ip('198.51.100.1'));
    expect(x.ttl).toBe(40);
    expect(e.servers[0].srv.queries).toBe(3);
    expect(e.r.cnameQueries).toBe(2);
    // the cache holds the name that was asked
    lookup(e, 'www.example');
    expect(e.servers[0].srv.queries).toBe(3);
    done(e);
  });

  it('gives up on chains longer than maxCname and on CNAME loops', () => {
    const e = env(32, 1, { maxCname: 8 });
    expect(errName(lookup(e, 'c2.example'))).toBe('OK'); // 8 CNAMEs
    expect(errName(lookup(e, 'c1.example'))).toBe('EAI_FAIL'); // 9
    expect(errName(lookup(e, 'loop1.example'))).toBe('EAI_FAIL');
    e.servers[0].srv.fullChain = false;
    // one CNAME per answer: the same limit (8 CNAMEs, then the A in a ninth answer)
    e.r.cacheFlush();
    let q = e.servers[0].srv.queries;
    expect(errName(lookup(e, 'c2.example.'))).toBe('OK');
    expect(e.servers[0].srv.queries - q).toBe(9);
    expect(errName(lookup(e, 'c0.example'))).toBe('EAI_FAIL');
    q = e.servers[0].srv.queries;
    expect(errName(lookup(e, 'loop2.example'))).toBe('EAI_FAIL');
    expect(e.servers[0].srv.queries - q).toBe(9);
    expect(e.r.chainTooLong).toBe(4);
    done(e);
  });

  it('reports NXDOMAIN as EAI_NONAME and a name without A records as EAI_NODATA, without resends', () => {
    const e = env(33, 2);
    const s = e.servers[0].srv;
    s.addTxt('txt.example', 60);
    s.addCname('alias-txt.example', 'txt.example', 60);
    expect(errName(lookup(e, 'nope.example'))).toBe('EAI_NONAME');
    // a CNAME to a name that does not exist: NXDOMAIN (RFC 6604)
    expect(errName(lookup(e, 'dangling.example'))).toBe('EAI_NONAME');
    expect(errName(lookup(e, 'txt.example'))).toBe('EAI_NODATA');
    const q = s.queries;
    expect(errName(lookup(e, 'alias-txt.example'))).toBe('EAI_NODATA');
    expect(s.queries - q).toBe(2); // the chain, then its target
    expect(e.r.nxdomain).toBe(2);
    expect(e.r.nodata).toBe(2);
    expect(e.r.resends).toBe(0);
    expect(e.servers[1].srv.queries).toBe(0);
    // negative answers are not cached
    expect(errName(lookup(e, 'nope.example'))).toBe('EAI_NONAME');
    expect(e.r.cacheHits).toBe(0);
    done(e);
  });
});

describe('DNS resolver: hostile and broken answers', () => {
  it('answers TC with EAI_TRUNCATED (no TCP fallback), also when the answer did not fit 512 bytes', () => {
    const e = env(40, 2);
    e.servers[0].srv.mode = DNS_SRV_TC;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('EAI_TRUNCATED');
    expect(e.servers[1].srv.queries).toBe(0);
    e.servers[0].srv.mode = 0;
    for (let i = 0; i < 40; i++) e.servers[0].srv.addA('many.example', ip('198.51.100.' + (100 + i)), 60);
    expect(errName(lookup(e, 'many.example'))).toBe('EAI_TRUNCATED');
    expect(e.r.truncated).toBe(2);
    expect(e.r.cacheCount()).toBe(0);
    // 29 records fit (12 + 16 + 29 * 16 = 492 bytes): a full answer, the first address
    e.servers[0].srv.clear();
    for (let i = 0; i < 29; i++) e.servers[0].srv.addA('fits.example', ip('198.51.100.' + (100 + i)), 60);
    const y = lookup(e, 'fits.example');
    expect(errName(y)).toBe('OK');
    expect(y.addr).toBe(ip('198.51.100.100'));
    done(e);
  });

  const kinds: [string, number][] = [
    ['compression loop', DNS_MAL_PTR_LOOP],
    ['forward pointer', DNS_MAL_PTR_FORWARD],
    ['pointer into the header', DNS_MAL_PTR_HEADER],
    ['64-byte label', DNS_MAL_LABEL_LONG],
    ['320-byte name', DNS_MAL_NAME_LONG],
    ['ANCOUNT too large', DNS_MAL_COUNT],
    ['RDLENGTH past the end', DNS_MAL_RDLEN],
    ['message cut inside a record', DNS_MAL_SHORT],
    ['A RDLENGTH 3', DNS_MAL_A_LEN],
    ['QDCOUNT 2', DNS_MAL_QDCOUNT],
  ];
  for (const [what, kind] of kinds) {
    it(`a malformed answer (${what}) counts as a server failure: the next server answers`, () => {
      const e = env(41 + kind, 2, { queryTimeoutMs: 1000 });
      e.servers[0].srv.mode = DNS_SRV_MALFORMED;
      e.servers[0].srv.malform = kind;
      const x = lookup(e, 'www.example');
      expect(errName(x)).toBe('OK');
      expect(x.addr).toBe(ip('198.51.100.1'));
      expect(x.at).toBeLessThan(100);
      expect(e.r.malformed).toBe(1);
      // only broken servers: EAI_FAIL after attempts rounds
      e.servers[1].srv.mode = DNS_SRV_MALFORMED;
      e.servers[1].srv.malform = kind;
      const y = lookup(e, 'two.example');
      expect(errName(y)).toBe('EAI_FAIL');
      expect(e.r.malformed).toBe(5);
      expect(e.r.cacheCount()).toBe(1);
      done(e);
    });
  }

  it('a bare 8-byte header is ignored (no ID to match): the try times out', () => {
    const e = env(60, 1, { queryTimeoutMs: 500, attempts: 2 });
    e.servers[0].srv.mode = DNS_SRV_MALFORMED;
    e.servers[0].srv.malform = DNS_MAL_HEADER;
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('EAI_AGAIN');
    expect(e.r.mismatched).toBe(2);
    done(e);
  });

  it('ignores forged answers (wrong ID, another question) and takes the real one', () => {
    for (const spoof of [DNS_SPOOF_ID, DNS_SPOOF_QUESTION]) {
      const e = env(61 + spoof, 1);
      e.servers[0].srv.spoof = spoof;
      const x = lookup(e, 'host.example');
      expect(errName(x)).toBe('OK');
      expect(x.addr).toBe(ip('198.51.100.1'));
      expect(e.r.mismatched).toBe(1);
      expect(e.servers[0].srv.answered).toBe(2);
      done(e);
    }
  });

  it('ignores datagrams from a host that is not the server', () => {
    const e = env(63, 2, { queryTimeoutMs: 1000 });
    // the second "server" sends answers to the client's query port from elsewhere: the connected
    // socket never sees them (port unreachable); fed straight in, they do not match either
    const r = e.r;
    let res: Result | null = null;
    const h = r.resolve('host.example', (err, addr, ttl) => (res = { err, addr, ttl, at: 0 }));
    expect(h).toBeGreaterThan(0);
    const fake = new Uint8Array(64);
    fake[2] = 0x81;
    fake[3] = 0x80;
    for (let id = 0; id < 65536; id += 1) {
      fake[0] = id >>> 8;
      fake[1] = id & 0xff;
      r.input(h - 1, fake, 64, e.servers[1].lh.ip, 53);
    }
    r.input(h - 1, fake, 64, e.servers[0].lh.ip, 5353);
    expect(r.mismatched).toBe(65537);
    e.sim.runUntil(() => res !== null, 5000);
    expect(eaiName(res!.err)).toBe('OK');
    done(e);
  });
});

describe('DNS resolver: maxQueries, sockets, cancel, events', () => {
  it('runs queries side by side up to its maxQueries; one more gets EAI_MEMORY', () => {
    const e = env(70, 1, { maxQueries: 3 });
    const got: number[] = [];
    const hs: number[] = [];
    for (const n of ['host.example', 'two.example', 'www.example', 'c5.example']) hs.push(e.r.resolve(n, (err) => got.push(err)));
    expect(hs.slice(0, 3).every((h) => h > 0)).toBe(true);
    expect(hs[3]).toBe(0);
    expect(got).toEqual([EAI_MEMORY]);
    expect(e.r.active).toBe(3);
    expect(e.client.h.st.sock.open).toBe(3);
    e.sim.runUntil(() => got.length === 4, 5000);
    expect(got.slice(1)).toEqual([EAI_OK, EAI_OK, EAI_OK]);
    done(e);
  });

  it('fails with EAI_MEMORY when the stack has no free socket', () => {
    const sim = new Sim({ seed: 71 });
    const [c, sv] = makeLan(sim, 2, { maxSockets: 2 });
    const sh = new ServerHost(sv);
    sh.zone(60);
    sim.addTicker(sh);
    const r = new DnsResolver(c.h.st, { maxQueries: 4 });
    r.setServers([sv.ip]);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) r.resolve('host.example', (err) => got.push(err));
    expect(got).toEqual([EAI_MEMORY]);
    sim.runUntil(() => got.length === 3, 5000);
    expect(got).toEqual([EAI_MEMORY, EAI_OK, EAI_OK]);
    expect(c.h.st.sock.open).toBe(0);
    expectAllFree(sim);
  });

  it('cancel() forgets a query: no callback, socket closed, late answers dropped', () => {
    const e = env(72, 1);
    e.sim.setFaults(e.servers[0].lh.h, { delayMs: 50 });
    let called = 0;
    const h = e.r.resolve('host.example', () => called++);
    expect(h).toBeGreaterThan(0);
    e.sim.run(10);
    expect(e.r.cancel(h)).toBe(0);
    expect(e.r.cancel(h)).toBe(-1);
    e.sim.run(5000);
    expect(called).toBe(0);
    expect(e.servers[0].srv.queries).toBe(1);
    done(e);
  });

  it('a callback may resolve again (reentrancy), from a cache hit or a new query', () => {
    const e = env(73, 1);
    const got: string[] = [];
    e.r.resolve('host.example', (err) => {
      got.push('a' + err);
      e.r.resolve('host.example', (err2, _a, ttl) => got.push('b' + err2 + ':' + ttl)); // cache hit, inside
      e.r.resolve('two.example', (err3) => got.push('c' + err3));
    });
    e.sim.runUntil(() => got.length === 3, 5000);
    expect(got).toEqual(['a0', 'b0:300', 'c0']);
    done(e);
  });

  it('still resolves when the application replaced the stack event handler (drained at the timeout)', () => {
    const e = env(74, 1, { queryTimeoutMs: 700 });
    e.client.h.st.events = null; // the EventMux is gone: no readiness reaches the resolver
    const x = lookup(e, 'host.example');
    expect(errName(x)).toBe('OK');
    expect(x.at).toBeGreaterThanOrEqual(700);
    expect(x.at).toBeLessThan(800);
    expect(e.servers[0].srv.queries).toBe(1);
    done(e);
  });
});
