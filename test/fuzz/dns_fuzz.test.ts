/*
 * Fuzz: the DNS parser (src/wire/dns.ts) and the resolver's handling of
 * answers (src/apps/dns_resolver.ts) against random and mutated messages,
 * seeded (DNS_FUZZ_SEED=N replays; the seed and case are printed on a
 * failure, with the message in hex).
 *
 *   1. 120k messages straight into dnsParseResponse and the name walkers:
 *      nothing throws; names agree with an independent reference parser;
 *      the message sits inside a larger buffer between guard bytes, and
 *      parsing with other guard bytes gives the same result (a read
 *      outside msg[base..end) would show); every 16th case runs on a
 *      Proxy that fails any read outside the message and counts reads,
 *      bounded per message.
 *   2. 25k answers with the right ID and source fed to a live resolver
 *      (DnsResolver.input): it never throws, every request ends in exactly
 *      one callback, nothing leaks (maxQueries, sockets, timers, skbs).
 *   3. Random and mutated queries to the simulation's DNS server and
 *      random answers through the stack: every skb returns.
 */
import { describe, it, expect } from 'vitest';
import { SimRng } from '../../src/sim/prng';
import { Sim } from '../../src/sim/world';
import { parseIpStrict } from '../../src/link/ifaddr';
import { ServiceMux } from '../../src/apps/service';
import { DnsResolver } from '../../src/apps/dns_resolver';
import { DnsServer, DNS_SRV_DROP } from '../../src/apps/dns_server';
import { socket, bind, sendto, recvfrom, close, SOCK_DGRAM } from '../../src/socket/socket';
import {
  DnsAnswer, dnsParseResponse, dnsNameEnd, dnsNameCopy, dnsNameEquals, dnsNameFromString, dnsFlatLen, dnsRrEnd,
  DNS_ANS_ADDR, DNS_ANS_CNAME, DNS_ANS_NODATA, DNS_ANS_NXDOMAIN, DNS_ANS_RCODE, DNS_ANS_TRUNC, DNS_ANS_LOOP,
  DNS_ANS_MALFORMED, DNS_ANS_MISMATCH, DNS_NAME_MAX, DNS_PTR_MAX, DNS_TYPE_A, EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL,
  EAI_NODATA, EAI_TRUNCATED, EAI_NOSERVERS,
} from '../../src/wire/dns';
import { makeLan, expectAllFree } from '../scenario/helpers';

const BASE_SEED = process.env.DNS_FUZZ_SEED !== undefined ? Number(process.env.DNS_FUZZ_SEED) >>> 0 : 0x0d15ea5e;

const hex = (b: Uint8Array | number[], n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
};

/* ---------------- message generation ---------------- */

class Gen {
  constructor(readonly r: SimRng) {}
  int(n: number): number {
    return this.r.below(n);
  }
  chance(p: number): boolean {
    return this.r.next() < p;
  }
  label(): string {
    const n = 1 + this.int(this.chance(0.05) ? 63 : 8);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.chance(0.1) ? 0x41 + this.int(26) : 0x61 + this.int(26));
    return s;
  }
  name(): string[] {
    const n = 1 + this.int(4);
    const l: string[] = [];
    for (let i = 0; i < n; i++) l.push(this.label());
    return l;
  }
}

/** A DNS message writer with real name compression (RFC 1035 §4.1.4). */
class Writer {
  readonly b: number[] = [];
  private readonly seen = new Map<string, number>();
  constructor(readonly compress: boolean) {}
  u16(v: number): void {
    this.b.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number): void {
    this.b.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  name(labels: string[]): void {
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).join('.').toLowerCase();
      const at = this.seen.get(key);
      if (this.compress && at !== undefined) {
        this.b.push(0xc0 | (at >>> 8), at & 0xff);
        return;
      }
      if (this.b.length < 0x3fff) this.seen.set(key, this.b.length);
      const l = labels[i];
      this.b.push(l.length);
      for (let j = 0; j < l.length; j++) this.b.push(l.charCodeAt(j));
    }
    this.b.push(0);
  }
}

interface Built {
  msg: number[];
  qname: string[];
}

/** A plausible response: question, CNAME chain, A records, other records, sometimes an authority section. */
function buildResponse(g: Gen): Built {
  const w = new Writer(g.chance(0.8));
  const qname = g.name();
  w.u16(g.int(65536));
  let flags = 0x8180;
  if (g.chance(0.05)) flags |= 0x0200;
  if (g.chance(0.1)) flags = (flags & ~0xf) | g.int(6);
  w.u16(flags);
  w.u16(1);
  const anAt = w.b.length;
  w.u16(0);
  w.u16(0);
  w.u16(0);
  w.name(qname);
  w.u16(DNS_TYPE_A);
  w.u16(1);
  let an = 0;
  let cur = qname;
  const chain = g.chance(0.4) ? g.int(12) : 0;
  const rr = (owner: string[], type: number, cls: number, ttl: number, rdata: () => void) => {
    w.name(owner);
    w.u16(type);
    w.u16(cls);
    w.u32(ttl);
    const at = w.b.length;
    w.u16(0);
    rdata();
    const len = w.b.length - at - 2;
    w.b[at] = len >>> 8;
    w.b[at + 1] = len & 0xff;
    an++;
  };
  const ttl = () => (g.chance(0.05) ? 0x80000000 + g.int(1000) : g.int(100000));
  for (let i = 0; i < chain; i++) {
    const next = g.chance(0.2) ? g.name().concat(cur.slice(1)) : g.name();
    rr(cur, 5, 1, ttl(), () => w.name(next));
    cur = next;
  }
  const na = g.chance(0.8) ? g.int(5) : 0;
  for (let i = 0; i < na; i++) {
    const owner = g.chance(0.9) ? cur : g.name();
    if (g.chance(0.15)) rr(owner, 16, 1, ttl(), () => w.b.push(3, 0x61, 0x62, 0x63));
    else if (g.chance(0.1)) rr(owner, 28, 1, ttl(), () => { for (let k = 0; k < 16; k++) w.b.push(g.int(256)); });
    else if (g.chance(0.05)) rr(owner, 1, 3, ttl(), () => w.b.push(1, 2, 3, 4));
    else rr(owner, 1, 1, ttl(), () => w.b.push(198, 51, 100, g.int(256)));
  }
  w.b[anAt] = an >>> 8;
  w.b[anAt + 1] = an & 0xff;
  if (g.chance(0.2)) {
    // an authority SOA-ish record (never read by the parser, but it is part of the bytes)
    w.b[anAt + 3] = 1;
    w.name(cur.slice(1).length > 0 ? cur.slice(1) : cur);
    w.u16(6);
    w.u16(1);
    w.u32(60);
    w.u16(4);
    w.u32(0);
  }
  return { msg: w.b, qname };
}

function mutate(g: Gen, m: number[]): number[] {
  const b = m.slice();
  const ops = 1 + g.int(4);
  for (let k = 0; k < ops; k++) {
    const op = g.int(10);
    const at = b.length > 0 ? g.int(b.length) : 0;
    switch (op) {
      case 0: if (b.length > 0) b[at] ^= 1 << g.int(8); break;
      case 1: if (b.length > 0) b[at] = g.int(256); break;
      case 2: if (b.length > 1) { b[at] = 0xc0 | g.int(4); if (at + 1 < b.length) b[at + 1] = g.int(256); } break;
      case 3: if (b.length > 0) b[at] = [0, 0x3f, 0x40, 0x80, 0xc0, 63, 1][g.int(7)]; break;
      case 4: b.length = g.int(b.length + 1); break;
      case 5: { const n = 1 + g.int(8); const ins: number[] = []; for (let i = 0; i < n; i++) ins.push(g.int(256)); b.splice(at, 0, ...ins); break; }
      case 6: b.splice(at, 1 + g.int(8)); break;
      case 7: if (b.length >= 12) { const f = 4 + 2 * g.int(4); const v = g.chance(0.5) ? g.int(65536) : g.int(4); b[f] = v >>> 8; b[f + 1] = v & 0xff; } break;
      case 8: { const from = g.int(b.length + 1); const n = g.int(16); b.splice(at, 0, ...b.slice(from, from + n)); break; }
      default: if (b.length > 14) { const p = 12 + g.int(b.length - 12); const t = g.int(p); b[p] = 0xc0 | (t >>> 8); if (p + 1 < b.length) b[p + 1] = t & 0xff; } break;
    }
  }
  if (b.length > 1500) b.length = 1500;
  return b;
}

function randomMessage(g: Gen): number[] {
  const n = g.int(g.chance(0.3) ? 40 : 600);
  const b: number[] = [];
  for (let i = 0; i < n; i++) b.push(g.int(256));
  if (b.length >= 12 && g.chance(0.7)) {
    b[2] |= 0x80;
    b[2] &= 0x87;
    b[4] = 0;
    b[5] = 1;
    b[6] = 0;
    b[7] = g.int(8);
  }
  return b;
}

/* ---------------- an independent reference name parser ---------------- */

/** [end offset after the in-place bytes, flat bytes] or null; the same rules, written plainly. */
function refName(b: ArrayLike<number>, base: number, end: number, off: number): [number, number[]] | null {
  const flat: number[] = [];
  let p = off;
  let limit = off;
  let after = -1;
  let jumps = 0;
  for (;;) {
    if (p < base || p >= end) return null;
    const l = b[p];
    if (l >= 0xc0) {
      if (p + 1 >= end) return null;
      const t = base + (l - 0xc0) * 256 + b[p + 1];
      if (!(t < limit) || t < base + 12) return null;
      if (++jumps > DNS_PTR_MAX) return null;
      if (after < 0) after = p + 2;
      p = t;
      limit = t;
      continue;
    }
    if (l >= 0x40) return null;
    if (l === 0) {
      flat.push(0);
      if (flat.length > 255) return null;
      return [after >= 0 ? after : p + 1, flat];
    }
    if (p + l >= end) return null;
    flat.push(l);
    for (let i = 1; i <= l; i++) flat.push(b[p + i]);
    if (flat.length + 1 > 255) return null;
    p += l + 1;
  }
}

/* ---------------- out-of-bounds detection ---------------- */

class OobError extends Error {}

/** A Uint8Array look-alike that throws on a read outside [lo, hi) and counts reads. */
function guarded(buf: Uint8Array, lo: number, hi: number, counter: { reads: number }): Uint8Array {
  return new Proxy(buf, {
    get(t, k) {
      if (typeof k === 'string') {
        const c = k.charCodeAt(0);
        if (c >= 48 && c <= 57) {
          const i = Number(k);
          counter.reads++;
          if (i < lo || i >= hi) throw new OobError('read at ' + i + ' outside [' + lo + ',' + hi + ')');
          return t[i];
        }
      }
      const v = (t as unknown as Record<string | symbol, unknown>)[k];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as Uint8Array;
}

/** The parser's outputs as one string (to compare two runs). */
function outKey(r: number, a: DnsAnswer): string {
  let k = r + ':' + a.rcode + ':' + a.naddr + ':' + a.ttl + ':' + a.chain;
  if (r === DNS_ANS_ADDR) k += ':' + a.addr;
  if (r === DNS_ANS_ADDR || r === DNS_ANS_CNAME) k += ':' + hex(a.target, a.targetLen);
  return k;
}

const RESULTS = [
  DNS_ANS_ADDR, DNS_ANS_CNAME, DNS_ANS_NODATA, DNS_ANS_NXDOMAIN, DNS_ANS_RCODE, DNS_ANS_TRUNC, DNS_ANS_LOOP,
  DNS_ANS_MALFORMED, DNS_ANS_MISMATCH,
];

class FuzzFailure extends Error {}

describe('DNS parser fuzz', () => {
  it('120k random and mutated messages: no exception, no read outside the message, bounded work, names as the reference parses them', () => {
    const seed = BASE_SEED;
    const g = new Gen(new SimRng(seed));
    const ans = new DnsAnswer(48);
    const qn = new Uint8Array(DNS_NAME_MAX);
    const flat = new Uint8Array(DNS_NAME_MAX);
    const seen = new Map<number, number>();
    let maxReads = 0;
    let proxied = 0;
    let deep = 0;
    const CASES = Number(process.env.DNS_FUZZ_CASES ?? 120000);
    for (let c = 0; c < CASES; c++) {
      const kind = c % 10;
      let msg: number[];
      let qlabels: string[];
      if (kind === 0) {
        msg = randomMessage(g);
        qlabels = g.name();
      } else {
        const b = buildResponse(g);
        qlabels = b.qname;
        msg = kind === 1 ? b.msg : mutate(g, b.msg);
      }
      const len = msg.length;
      const base = g.int(64);
      const end = base + len;
      const where = () => 'seed=' + seed + ' case=' + c + ' base=' + base + ' msg=' + hex(msg, len);
      const check = (cond: boolean, what: string) => {
        if (!cond) throw new FuzzFailure(what);
      };
      try {
        check(dnsNameFromString(qlabels.join('.'), qn, 0) > 0, 'question name');
        // the message between guard bytes (0x00), then again with other guard bytes: same results
        const big = new Uint8Array(end + 64);
        for (let i = 0; i < len; i++) big[base + i] = msg[i];
        const maxChain = g.int(10);
        const r1 = dnsParseResponse(big, base, len, qn, 0, DNS_TYPE_A, maxChain, ans);
        const k1 = outKey(r1, ans);
        check(RESULTS.indexOf(r1) >= 0, 'result ' + r1);
        const guard = g.chance(0.5) ? 0xc0 : g.int(256);
        big.fill(guard, 0, base);
        big.fill(guard, end);
        const r2 = dnsParseResponse(big, base, len, qn, 0, DNS_TYPE_A, maxChain, ans);
        check(outKey(r2, ans) === k1, 'guard bytes changed the result: ' + k1 + ' / ' + outKey(r2, ans));
        seen.set(r1, (seen.get(r1) ?? 0) + 1);
        if (r1 === DNS_ANS_ADDR || r1 === DNS_ANS_CNAME) {
          deep++;
          check(ans.naddr > 0 || r1 === DNS_ANS_CNAME, 'naddr');
          check(ans.ttl >= (r1 === DNS_ANS_ADDR ? 0 : -1) && ans.ttl < 0x80000000, 'ttl ' + ans.ttl);
          check(dnsFlatLen(ans.target, 0) === ans.targetLen, 'target');
          check(ans.chain <= maxChain, 'chain');
        }
        // the name walkers at a few offsets, against the reference
        for (let k = 0; k < 3; k++) {
          const off = base + (len > 0 ? g.int(len + 2) : 0);
          const ref = refName(big, base, end, off);
          const e = dnsNameEnd(big, base, end, off);
          const n = dnsNameCopy(big, base, end, off, flat, 0);
          if (ref === null) {
            check(e === -1 && n === -1, 'name at ' + off + ': reference says malformed, got ' + e + '/' + n);
          } else {
            check(e === ref[0] && n === ref[1].length, 'name at ' + off + ': ' + e + '/' + n + ' vs ' + ref[0] + '/' + ref[1].length);
            check(hex(flat, n) === hex(ref[1], ref[1].length), 'name bytes at ' + off);
            check(dnsNameEquals(big, base, end, off, flat, 0), 'equals at ' + off);
          }
          const re = dnsRrEnd(big, base, end, off);
          check(re === -1 || (re > off && re <= end), 'rr end ' + re);
        }
        // exact bounds and read counting on a share of the cases
        if (c % 16 === 0) {
          proxied++;
          const counter = { reads: 0 };
          const gb = guarded(big, base, end, counter);
          const r3 = dnsParseResponse(gb, base, len, qn, 0, DNS_TYPE_A, maxChain, ans);
          check(outKey(r3, ans) === k1, 'proxied result differs');
          // bound: every answer record validated once, then compared once per chain step
          const rrs = Math.floor(len / 11) + 1;
          const bound = 600 + rrs * 620 + (maxChain + 1) * rrs * 560;
          check(counter.reads <= bound, 'reads ' + counter.reads + ' > ' + bound);
          if (counter.reads > maxReads) maxReads = counter.reads;
          for (let k = 0; k < 2; k++) {
            const off = base + g.int(len + 1);
            counter.reads = 0;
            dnsNameEnd(gb, base, end, off);
            dnsNameCopy(gb, base, end, off, flat, 0);
            check(counter.reads <= 2 * (DNS_NAME_MAX + 2 * DNS_PTR_MAX + 2), 'name reads ' + counter.reads);
          }
        }
      } catch (err) {
        throw new Error(where() + ': ' + (err instanceof Error ? err.constructor.name + ' ' + err.message : String(err)));
      }
    }
    // the generator reached every outcome
    for (const r of RESULTS) expect(seen.get(r) ?? 0, 'outcome ' + r + ' seen ' + JSON.stringify([...seen])).toBeGreaterThan(0);
    expect(deep).toBeGreaterThan(CASES / 20);
    expect(proxied).toBeGreaterThanOrEqual(CASES / 16);
    expect(maxReads).toBeGreaterThan(0);
    console.log('dns parser fuzz: seed=' + seed + ' cases=' + CASES + ' outcomes=' + JSON.stringify([...seen]) + ' max reads/message=' + maxReads);
  });

  it('hand-made hostile names: loops, forward pointers, pointer chains, long labels and names', () => {
    const m = new Uint8Array(600);
    const flat = new Uint8Array(DNS_NAME_MAX);
    // 12: a name pointing to itself; 14: a label then a pointer back to the label (a loop through the segment start)
    m.set([0xc0, 12], 12);
    expect(dnsNameEnd(m, 0, 600, 12)).toBe(-1);
    m.set([1, 0x61, 0xc0, 14], 14);
    expect(dnsNameEnd(m, 0, 600, 14)).toBe(-1);
    // a pointer to a later offset
    m.set([0xc0, 40], 20);
    expect(dnsNameEnd(m, 0, 600, 20)).toBe(-1);
    // into the header
    m.set([0xc0, 4], 22);
    expect(dnsNameEnd(m, 0, 600, 22)).toBe(-1);
    // a chain of pointers each to the previous one: 16 allowed, 17 not
    m[100] = 0;
    for (let i = 0; i < 20; i++) m.set([0xc0, 100 + 2 * i], 102 + 2 * i);
    expect(dnsNameEnd(m, 0, 600, 100 + 2 * 16)).toBe(100 + 2 * 16 + 2);
    expect(dnsNameEnd(m, 0, 600, 100 + 2 * 17)).toBe(-1);
    // a 63-byte label is fine, 64 (0x40) is not; 0x80 neither
    m[200] = 63;
    m.fill(0x61, 201, 264);
    m[264] = 0;
    expect(dnsNameCopy(m, 0, 600, 200, flat, 0)).toBe(65);
    m[200] = 64;
    expect(dnsNameEnd(m, 0, 600, 200)).toBe(-1);
    m[200] = 0x80;
    expect(dnsNameEnd(m, 0, 600, 200)).toBe(-1);
    // 255 bytes flat is the limit: 4 labels 63+63+63+61 = 255
    let p = 300;
    for (const l of [63, 63, 63, 61]) {
      m[p] = l;
      m.fill(0x62, p + 1, p + 1 + l);
      p += l + 1;
    }
    m[p] = 0;
    expect(dnsNameCopy(m, 0, 600, 300, flat, 0)).toBe(255);
    m[300 + 64 * 3] = 62;
    m[300 + 64 * 3 + 63] = 0x62;
    m[300 + 64 * 3 + 64] = 0; // 256
    expect(dnsNameEnd(m, 0, 600, 300)).toBe(-1);
    // the end of the message cuts a label, a pointer, or comes before the root
    m.set([3, 0x61, 0x62, 0x63, 0], 20);
    expect(dnsNameEnd(m, 0, 25, 20)).toBe(25);
    expect(dnsNameEnd(m, 0, 24, 20)).toBe(-1);
    expect(dnsNameEnd(m, 0, 23, 20)).toBe(-1);
    m.set([0xc0, 20], 30);
    expect(dnsNameEnd(m, 0, 31, 30)).toBe(-1);
    expect(dnsNameEnd(m, 0, 32, 30)).toBe(32);
    // a base offset: pointers are relative to it
    const n = new Uint8Array(100);
    n.set([3, 0x61, 0x62, 0x63, 0, 0xc0, 12], 50 + 12);
    expect(dnsNameEnd(n, 50, 100, 50 + 17)).toBe(50 + 19);
    expect(dnsNameCopy(n, 50, 100, 50 + 17, flat, 0)).toBe(5);
    expect(dnsNameEnd(n, 50, 69, 50 + 17)).toBe(50 + 19);
    expect(dnsNameEnd(n, 51, 100, 50 + 17)).toBe(-1);
  });
});

describe('DNS resolver fuzz', () => {
  it('25k answers with the right ID and source into a live resolver: one callback per request, nothing leaks', () => {
    const seed = BASE_SEED ^ 0x1234567;
    const g = new Gen(new SimRng(seed));
    const sim = new Sim({ seed: 5 });
    const [c, sv] = makeLan(sim, 2);
    const mux = new ServiceMux(sv.h.st);
    const srv = new DnsServer(sv.h.st, 53, 4);
    srv.mode = DNS_SRV_DROP;
    mux.add(srv);
    expect(mux.start()).toBe(0);
    sim.addTicker({ onTick: () => mux.run() });
    const r = new DnsResolver(c.h.st, { maxQueries: 2, cacheSize: 4, queryTimeoutMs: 5000, maxCname: 6 });
    r.setServers([sv.ip]);
    const priv = r as unknown as {
      txId: Int32Array; nTx: Int32Array; maxTx: number; cur: Uint8Array; curLen: Int32Array; state: Uint8Array;
      tid: Int32Array; dtid: number;
    };
    const outcomes = new Map<number, number>();
    /** callbacks per request: each must run exactly once */
    const calls: number[] = [];
    const names = ['host.example', 'a.b.example', 'x.example'];
    const request = () => {
      const i = calls.length;
      calls.push(0);
      // a new name mostly; a repeat may be a cache hit (answered inside resolve)
      const name = g.chance(0.8) ? 'n' + i + '.' + names[g.int(names.length)] : names[g.int(names.length)];
      r.resolve(name + (g.chance(0.5) ? '' : '.'), (err: number, addr: number, ttl: number) => {
        calls[i]++;
        outcomes.set(err, (outcomes.get(err) ?? 0) + 1);
        expect([EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_TRUNCATED, EAI_NOSERVERS]).toContain(err);
        if (err === EAI_OK) expect(ttl).toBeGreaterThanOrEqual(0);
        else expect(addr).toBe(0);
      });
    };
    const CASES = 25000;
    const flatName = new Uint8Array(DNS_NAME_MAX);
    for (let k = 0; k < CASES; k++) {
      const where = () => 'seed=' + seed + ' case=' + k;
      while (r.active === 0) {
        // every earlier request has had its one callback
        if (calls.length > 0 && calls[calls.length - 1] !== 1) throw new Error(where() + ': no callback');
        request();
      }
      // the slot in use and its current question and last ID
      let slot = 0;
      while (priv.state[slot] === 0) slot++;
      const o = slot * DNS_NAME_MAX;
      const cl = priv.curLen[slot];
      for (let i = 0; i < cl; i++) flatName[i] = priv.cur[o + i];
      // build an answer for the current question, then mutate it (half the time)
      const b = buildResponse(g);
      const w = new Writer(false);
      const qlabels: string[] = [];
      for (let p = 0; flatName[p] !== 0; p += flatName[p] + 1) {
        let s = '';
        for (let i = 1; i <= flatName[p]; i++) s += String.fromCharCode(flatName[p + i]);
        qlabels.push(s);
      }
      w.name(qlabels);
      // splice our question in place of the generated one
      const gq = new Writer(false);
      gq.name(b.qname);
      const msg = b.msg.slice(0, 12).concat(w.b, b.msg.slice(12 + gq.b.length));
      const m = g.chance(0.5) ? mutate(g, msg) : msg;
      const tx = slot * priv.maxTx + ((priv.nTx[slot] - 1) % priv.maxTx);
      const id = priv.txId[tx];
      if (m.length >= 2 && g.chance(0.95)) {
        m[0] = id >>> 8;
        m[1] = id & 0xff;
      }
      const buf = Uint8Array.from(m);
      try {
        r.input(slot, buf, buf.length, g.chance(0.97) ? sv.ip : c.ip, g.chance(0.98) ? 53 : 5353);
        if (k % 64 === 0) sim.run(1);
      } catch (err) {
        throw new Error(where() + ' msg=' + hex(m, m.length) + ': ' + String(err));
      }
      if (calls[calls.length - 1] > 1) throw new Error(where() + ': two callbacks for one request');
    }
    r.cancelAll();
    expect(r.active).toBe(0);
    expect(calls.slice(0, -1).every((n) => n === 1), 'seed=' + seed).toBe(true);
    expect(calls.length, 'seed=' + seed).toBeGreaterThan(2000);
    sim.run(100);
    expect(c.h.st.sock.open, 'seed=' + seed).toBe(0);
    // resolutions of every kind happened
    for (const e of [EAI_OK, EAI_NONAME, EAI_FAIL, EAI_NODATA, EAI_TRUNCATED]) expect(outcomes.get(e) ?? 0, 'outcome ' + e).toBeGreaterThan(0);
    console.log('dns resolver fuzz: seed=' + seed + ' requests=' + calls.length + ' ' + JSON.stringify(r.stats()));
    expect(r.malformed).toBeGreaterThan(1000);
    expect(r.mismatched).toBeGreaterThan(1000);
    // still works afterwards
    srv.mode = 0;
    srv.addA('host.example', parseIpStrict('198.51.100.7'), 60);
    r.cacheFlush();
    let got = 1;
    r.resolve('host.example', (err) => (got = err));
    sim.runUntil(() => got !== 1, 5000);
    expect(got).toBe(EAI_OK);
    // no timer of the resolver's is left armed
    expect(c.h.st.timers.pending(priv.dtid)).toBe(false);
    for (let i = 0; i < priv.tid.length; i++) expect(c.h.st.timers.pending(priv.tid[i])).toBe(false);
    expectAllFree(sim);
  });

  it('random and mutated datagrams through the stack to the server and to the resolver: every skb returns', () => {
    const seed = BASE_SEED ^ 0x7777;
    const g = new Gen(new SimRng(seed));
    const sim = new Sim({ seed: 6 });
    const [c, sv, ev] = makeLan(sim, 3);
    const mux = new ServiceMux(sv.h.st);
    const srv = new DnsServer(sv.h.st, 53, 8);
    srv.addA('host.example', parseIpStrict('198.51.100.1'), 60);
    srv.addCname('www.example', 'host.example', 60);
    mux.add(srv);
    expect(mux.start()).toBe(0);
    sim.addTicker({ onTick: () => mux.run() });
    // an "evil" host sending garbage to the server and to the client's ephemeral ports
    const efd = socket(ev.h.st, SOCK_DGRAM, 0);
    expect(bind(ev.h.st, efd, 0, 53)).toBe(0);
    const r = new DnsResolver(c.h.st, { queryTimeoutMs: 200, attempts: 2, cacheSize: 0 });
    r.setServers([sv.ip, ev.ip]);
    let calls = 0;
    let started = 0;
    const rx = new Uint8Array(600);
    const from = new Int32Array(2);
    let k = 0;
    try {
      for (; k < 3000; k++) step(k);
    } catch (err) {
      throw new Error('seed=' + seed + ' case=' + k + ': ' + String(err));
    }
    function step(k: number): void {
      const b = buildResponse(g);
      const m = g.chance(0.3) ? randomMessage(g) : mutate(g, b.msg);
      if (g.chance(0.5)) m[2] &= 0x7f; // a query
      const buf = Uint8Array.from(m);
      sendto(ev.h.st, efd, buf, 0, buf.length, sv.ip, 53);
      if (k % 10 === 0 && r.active < 2) {
        started++;
        r.resolve(g.chance(0.5) ? 'www.example' : 'nope' + k + '.example', () => calls++);
      }
      // answer whatever the client asked the evil server with mutated garbage (matching ID half the time)
      for (;;) {
        const n = recvfrom(ev.h.st, efd, rx, 0, rx.length, from);
        if (n < 0) break;
        const a = mutate(g, b.msg);
        if (a.length >= 2 && g.chance(0.5)) {
          a[0] = rx[0];
          a[1] = rx[1];
        }
        const ab = Uint8Array.from(a);
        sendto(ev.h.st, efd, ab, 0, ab.length, from[0], from[1]);
      }
      if (k % 4 === 0) sim.run(5);
    }
    sim.runUntil(() => calls === started, 10000);
    expect(calls, 'seed=' + seed).toBe(started);
    expect(srv.queries + srv.formerr, 'seed=' + seed).toBeGreaterThan(1000);
    expect(close(ev.h.st, efd)).toBe(0);
    expect(c.h.st.sock.open, 'seed=' + seed).toBe(0);
    expectAllFree(sim);
  });
});
