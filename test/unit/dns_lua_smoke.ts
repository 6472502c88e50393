/*
 * dns_lua_smoke.ts — the DNS resolver and server smoke that runs unchanged
 * on Node (test/unit/dns_lua.test.ts) and on Lua 5.3 (typescript-to-lua
 * bundle whose entry is test/unit/dns_lua_main.ts): two stacks on a
 * PairLink, a DnsServer on B (through a ServiceMux), a DnsResolver on A:
 * an A record, a CNAME chain, a split chain, NXDOMAIN, a literal, a cache
 * hit and its expiry, a dropped query retried, a malformed answer, TC, and
 * the hostile-name rules on hand-made names; every socket and skb free.
 * Both runtimes must print the same summary. Not a test file.
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { s32 } from '../../src/core/bits';
import type { StackConfig } from '../../src/config';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { neighAddStatic } from '../../src/link/arp';
import { ServiceMux } from '../../src/apps/service';
import { DnsResolver } from '../../src/apps/dns_resolver';
import { DnsServer, DNS_SRV_MALFORMED, DNS_SRV_TC, DNS_MAL_PTR_LOOP } from '../../src/apps/dns_server';
import { dnsNameEnd, dnsNameCopy, DNS_NAME_MAX, EAI_OK } from '../../src/wire/dns';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('dns smoke: ' + what);
}

class Env {
  readonly clock = new ManualClock(1000);
  readonly a: Stack;
  readonly b: Stack;
  readonly mux: ServiceMux;
  readonly srv: DnsServer;
  readonly r: DnsResolver;
  readonly ipB = s32(0xc0000202);
  err = 1;
  addr = 0;
  ttl = 0;
  done = false;
  constructor() {
    const over: Partial<StackConfig> = { skbSmallCount: 16, skbLargeCount: 1, skbLargeSize: 2048, maxSockets: 6, tcpMaxSockets: 2 };
    this.a = new Stack('a', over, this.clock, undefined);
    const overB: Partial<StackConfig> = {};
    for (const k in over) (overB as { [k: string]: unknown })[k] = (over as { [k: string]: unknown })[k];
    overB.seed = 7;
    this.b = new Stack('b', overB, this.clock, undefined);
    const macA = new Uint8Array([2, 0, 0, 0, 0, 1]);
    const macB = new Uint8Array([2, 0, 0, 0, 0, 2]);
    const link = createPairLink(this.a, this.b, macA, macB, 1500);
    check(ifconfig(this.a, link.devA, '192.0.2.1/24', null) === 0, 'ifconfig a');
    check(ifconfig(this.b, link.devB, '192.0.2.2/24', null) === 0, 'ifconfig b');
    link.open();
    neighAddStatic(this.a, link.devA, this.ipB, macB, 0);
    neighAddStatic(this.b, link.devB, s32(0xc0000201), macA, 0);
    this.mux = new ServiceMux(this.b);
    this.srv = new DnsServer(this.b, 53, 8);
    this.mux.add(this.srv);
    check(this.mux.start() === 0, 'server');
    this.srv.addA('host.example', s32(0xc6336401), 60);
    this.srv.addCname('www.example', 'web.example', 30);
    this.srv.addCname('web.example', 'host.example', 45);
    this.r = new DnsResolver(this.a, { queryTimeoutMs: 500, attempts: 2 });
    const servers = new Int32Array(1);
    servers[0] = this.ipB;
    // a plain array (a Lua table indexed from 1 after typescript-to-lua) and a typed array (from 0)
    const list: number[] = [0, this.ipB, this.ipB, s32(0xc0000203)];
    check(this.r.setServers(list) === 2 && this.r.server(1) === s32(0xc0000203), 'servers from an array');
    check(this.r.setServers(servers) === 1 && this.r.server(0) === this.ipB, 'servers');
  }
  step(): void {
    this.clock.advance(1);
    this.a.poll();
    this.b.poll();
    if (this.mux.run() > 0) this.b.poll();
  }
  lookup(name: string): number {
    this.done = false;
    this.r.resolve(name, (err: number, addr: number, ttl: number) => {
      this.err = err;
      this.addr = addr;
      this.ttl = ttl;
      this.done = true;
    });
    for (let t = 0; t < 20000 && !this.done; t++) this.step();
    check(this.done, 'no answer for ' + name);
    return this.err;
  }
}

export function dnsSmoke(): string {
  const e = new Env();
  let out = 'dns';
  check(e.lookup('host.example') === EAI_OK && e.addr === s32(0xc6336401) && e.ttl === 60, 'A');
  check(e.lookup('www.example') === EAI_OK && e.addr === s32(0xc6336401) && e.ttl === 30, 'CNAME chain');
  e.srv.fullChain = false;
  check(e.lookup('web.example') === EAI_OK && e.ttl === 45, 'split chain');
  e.srv.fullChain = true;
  out += ' nx=' + e.lookup('nope.example');
  out += ' lit=' + e.lookup('10.1.2.3') + ':' + e.addr;
  const q = e.srv.queries;
  check(e.lookup('HOST.example.') === EAI_OK && e.srv.queries === q, 'cache hit');
  for (let t = 0; t < 61000; t++) e.clock.advance(1);
  check(e.lookup('host.example') === EAI_OK && e.srv.queries === q + 1, 'cache expiry');
  e.srv.dropNext = 1;
  check(e.lookup('two.example') === -2 && e.r.resends === 1, 'retry');
  e.srv.mode = DNS_SRV_MALFORMED;
  e.srv.malform = DNS_MAL_PTR_LOOP;
  out += ' cached=' + e.lookup('host.example.');
  e.r.cacheFlush();
  out += ' mal=' + e.lookup('host.example') + ':' + e.r.malformed;
  e.srv.mode = DNS_SRV_TC;
  out += ' tc=' + e.lookup('web.example');
  // hand-made names
  const m = new Uint8Array(64);
  const flat = new Uint8Array(DNS_NAME_MAX);
  m[12] = 0xc0;
  m[13] = 12;
  out += ' loop=' + dnsNameEnd(m, 0, 64, 12);
  m[20] = 3;
  m[21] = 0x61;
  m[22] = 0x62;
  m[23] = 0x63;
  m[24] = 0;
  m[25] = 0xc0;
  m[26] = 20;
  out += ' ptr=' + dnsNameEnd(m, 0, 64, 25) + ':' + dnsNameCopy(m, 0, 64, 25, flat, 0);
  m[20] = 64;
  out += ' long=' + dnsNameEnd(m, 0, 64, 20);
  for (let t = 0; t < 100; t++) e.step();
  check(e.a.sock.open === 0 && e.r.active === 0, 'sockets');
  check(e.a.pool.inUse() === 0 && e.b.pool.inUse() === 0, 'skbs');
  out += ' queries=' + e.r.queries + ' responses=' + e.r.responses + ' server=' + e.srv.queries + ' ok';
  return out;
}
