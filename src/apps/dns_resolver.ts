/*
 * dns_resolver.ts — a DNS stub resolver for A records (RFC 1035 §7; RFC
 * 1123 §6.1.3; RFC 2181 §8 TTLs; RFC 2308 NXDOMAIN/NODATA; RFC 5452
 * forgery resilience; RFC 6761 §6.3 "localhost"), getaddrinfo style:
 *
 *   const r = new DnsResolver(st, { maxQueries: 4, cacheSize: 8 });
 *   r.setServers([parseIpStrict('192.0.2.53')]);     // or from DHCP
 *   r.resolve('www.example.com', (err, addr, ttl) => { ... });
 *   r.resolveWith('www.example.com', handler, tag);  // handler.onResolved(tag, err, addr, ttl)
 *
 * The callback runs exactly once (unless the request is cancelled): err
 * is EAI_OK (0) and addr the address (s32, src/core/inaddr.ts) with the
 * TTL left in seconds, or a negative EAI_* code (src/wire/dns.ts):
 * EAI_NONAME (NXDOMAIN), EAI_NODATA (no A record), EAI_AGAIN (every try
 * timed out), EAI_FAIL (servers answered with failures or malformed
 * messages, or the CNAME chain was too long), EAI_TRUNCATED (TC set: no
 * TCP fallback), EAI_NOSERVERS, EAI_MEMORY (no free query slot or
 * socket), EAI_BADNAME. Literal dotted quads, "localhost" and cache hits
 * are answered inside resolve() (it returns 0); otherwise resolve()
 * returns a handle > 0 (for cancel()) and the callback comes later from a
 * stack timer, never from inside the receive path.
 *
 * How a query runs: a fixed slot and one UDP socket (the zero-allocation
 * socket API) bound to a random port from st.rng, connect()ed to the
 * server of each try, so the UDP layer drops datagrams from anyone else
 * and an ICMP port unreachable comes back as the socket's error. Each
 * try has a fresh random ID from st.rng; try k goes to server
 * (first + k) mod N (rotation; `first` is the server that last gave a
 * usable answer), with queryTimeoutMs doubled per round over the list,
 * `attempts` rounds. A response counts only when its ID and source
 * (server, port 53) match a try of this query and its question is the
 * query's (dnsParseResponse); anything else is counted and ignored.
 * SERVFAIL/REFUSED/other RCODEs, malformed answers and ICMP errors move on
 * to the next try at once. A CNAME chain is followed inside the answer;
 * when it ends at a name the answer has no record for, that name is
 * queried next; at most maxCname CNAMEs in all. Answers go into a fixed
 * cache of cacheSize entries keyed by the name asked, each for the
 * smallest TTL along the chain (capped at maxTtl s; TTL 0 is not
 * cached), on the stack's clock.
 *
 * Place in the packet path: an application on the socket API. Readiness
 * arrives through the stack's EventMux (src/socket/events.ts: install the
 * application's own st.events handler before creating the resolver, it
 * becomes the mux's fallback); the resolver notes it and drains its
 * sockets from a stack timer, and drains again before each retry so a
 * lost event costs a timeout, never an answer.
 *
 * Portable (Espruino, Lua): every buffer, slot and timer is allocated in
 * the constructor; resolve() and the packet and timer paths allocate
 * nothing (names are encoded with charCodeAt). Uses st.timers: maxQueries + 1
 * timers, registered for good (create one resolver per stack).
 *
 * The first resolver made on a stack becomes its name service
 * (st.resolver, src/stack.ts NameResolver): the `net` facade and the
 * NetworkJS adapter then accept host names, and a DHCP client
 * (dhcp_client.ts) hands it the lease's servers.
 */
import type { Stack, NameHandler, NameResolver } from '../stack';
import type { TimerHandler } from '../core/timer';
import { s32 } from '../core/bits';
import { get16 } from '../core/bytes';
import { EAGAIN, ENOBUFS } from '../core/errno';
import { INADDR_LOOPBACK } from '../core/inaddr';
import { rand16 } from '../core/rng';
import {
  socket, bind, connect, send, recvfrom, recvLen, close, sockErr, SOCK_DGRAM, IPPROTO_UDP,
} from '../socket/socket';
import { EventMux, eventMux, SocketEventListener } from '../socket/events';
import {
  DNS_PORT, DNS_UDP_MAX, DNS_HLEN, DNS_NAME_MAX, DNS_F_RD, DNS_TYPE_A, DnsAnswer, dnsParseResponse, dnsPutQuery,
  dnsNameFromString, dnsFlatEquals, DNS_ANS_ADDR, DNS_ANS_CNAME, DNS_ANS_NODATA, DNS_ANS_NXDOMAIN, DNS_ANS_RCODE,
  DNS_ANS_TRUNC, DNS_ANS_LOOP, DNS_ANS_MALFORMED, DNS_ANS_MISMATCH, EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL,
  EAI_NODATA, EAI_MEMORY, EAI_NOSERVERS, EAI_TRUNCATED, EAI_BADNAME,
} from '../wire/dns';

/** Closure form of the result (the application edge: it may allocate). addr is s32. */
export type DnsCallback = (err: number, addr: number, ttl: number) => void;

/** Handler-object form: one object for many requests, told apart by tag (the stack's NameHandler). */
export type DnsHandler = NameHandler;

export interface DnsResolverOptions {
  /** concurrent queries (each holds one UDP socket while it runs); default 4 */
  maxQueries?: number;
  /** cache entries; default 8 (0: no cache) */
  cacheSize?: number;
  /** servers kept by setServers; default 3 (MAXNS) */
  maxServers?: number;
  /** first try's timeout (ms), doubled per round over the servers; default 2000 */
  queryTimeoutMs?: number;
  /** cap of one try's timeout (ms); default 8000 */
  maxQueryTimeoutMs?: number;
  /** rounds over the server list; default 2 */
  attempts?: number;
  /** CNAMEs followed per resolution; default 8 */
  maxCname?: number;
  /** TTL cap (s) for the cache; default 86400 */
  maxTtl?: number;
}

const S_FREE = 0;
const S_WAIT = 1;
/** the dispatch timer's arg; slot timers carry the slot number */
const DISPATCH = -1;

function noop(_err: number, _addr: number, _ttl: number): void {}
class NoHandler implements DnsHandler {
  onResolved(_tag: number, _err: number, _addr: number, _ttl: number): void {}
}
/** placeholders (arrays hold no nulls: a Lua table would lose them) */
const NO_CB: DnsCallback = noop;
const NO_HANDLER = new NoHandler();

/** "localhost" in flat form (RFC 6761 §6.3) */
const LOCALHOST = new Uint8Array([9, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74, 0]);

/** "a.b.c.d" with four decimal parts 0..255 → the unsigned address, else -1. Allocates nothing. */
export function dottedQuad(s: string): number {
  const n = s.length;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      digits++;
      part = part * 10 + (c - 0x30);
      if (digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

function opt(v: number | undefined, d: number): number {
  return v !== undefined && v >= 0 ? Math.floor(v) : d;
}

export class DnsResolver implements SocketEventListener, TimerHandler, NameResolver {
  readonly st: Stack;
  readonly maxQueries: number;
  readonly cacheSize: number;
  readonly maxServers: number;
  readonly queryTimeoutMs: number;
  readonly maxQueryTimeoutMs: number;
  readonly attempts: number;
  readonly maxCname: number;
  readonly maxTtl: number;
  /* servers (s32) */
  private readonly srv: Int32Array;
  private nsrv = 0;
  /** index of the server that last gave a usable answer: queries start there */
  private preferred = 0;
  /* query slots */
  private readonly state: Uint8Array;
  private readonly fd: Int32Array;
  private readonly tid: Int32Array;
  private readonly tries: Int32Array;
  private readonly first: Int32Array;
  private readonly failed: Uint8Array;
  private readonly pend: Uint8Array;
  private readonly chain: Int32Array;
  private readonly ttl: Int32Array;
  private readonly nTx: Int32Array;
  /** per slot: the ID and server of each try (maxTx of them) */
  private readonly maxTx: number;
  private readonly txId: Int32Array;
  private readonly txSrv: Int32Array;
  /** per slot: the name asked (the cache key) and the name being queried now, flat */
  private readonly qname: Uint8Array;
  private readonly qlen: Int32Array;
  private readonly cur: Uint8Array;
  private readonly curLen: Int32Array;
  private readonly cbs: DnsCallback[] = [];
  private readonly hs: DnsHandler[] = [];
  private readonly tags: Int32Array;
  /* cache */
  private readonly cName: Uint8Array;
  private readonly cLen: Int32Array;
  private readonly cAddr: Int32Array;
  private readonly cExp: Float64Array;
  /* scratch */
  private readonly nbuf: Uint8Array;
  private readonly tx: Uint8Array;
  private readonly rx: Uint8Array;
  /** Int32Array: the source comes back as s32 in JavaScript (the Lua shim keeps it unsigned: s32() below) */
  private readonly from: Int32Array;
  private readonly ans: DnsAnswer;
  private readonly mux: EventMux;
  private readonly dtid: number;
  private armedAt = -1;
  private running = false;
  /** queries in flight */
  active = 0;
  /* counters */
  requests = 0;
  literals = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** datagrams sent (first tries and resends) */
  queries = 0;
  resends = 0;
  timeouts = 0;
  sendErrors = 0;
  /** responses accepted (ID, source and question matched) */
  responses = 0;
  /** datagrams ignored: unknown ID, wrong source, another question, not a response */
  mismatched = 0;
  malformed = 0;
  /** datagrams larger than DNS_UDP_MAX (dropped) */
  oversize = 0;
  truncated = 0;
  /** SERVFAIL, REFUSED, NOTIMP, FORMERR, ... */
  rcodeErrors = 0;
  icmpErrors = 0;
  nxdomain = 0;
  nodata = 0;
  cnameQueries = 0;
  chainTooLong = 0;
  resolved = 0;
  failures = 0;

  constructor(st: Stack, o?: DnsResolverOptions) {
    const p = o !== undefined ? o : {};
    this.st = st;
    this.maxQueries = opt(p.maxQueries, 4);
    if (this.maxQueries < 1) this.maxQueries = 1;
    this.cacheSize = opt(p.cacheSize, 8);
    this.maxServers = opt(p.maxServers, 3);
    if (this.maxServers < 1) this.maxServers = 1;
    this.queryTimeoutMs = opt(p.queryTimeoutMs, 2000);
    this.maxQueryTimeoutMs = opt(p.maxQueryTimeoutMs, 8000);
    this.attempts = opt(p.attempts, 2);
    if (this.attempts < 1) this.attempts = 1;
    this.maxCname = opt(p.maxCname, 8);
    this.maxTtl = opt(p.maxTtl, 86400);
    const n = this.maxQueries;
    this.srv = new Int32Array(this.maxServers);
    this.state = new Uint8Array(n);
    this.fd = new Int32Array(n);
    this.fd.fill(-1);
    this.tid = new Int32Array(n);
    this.tries = new Int32Array(n);
    this.first = new Int32Array(n);
    this.failed = new Uint8Array(n);
    this.pend = new Uint8Array(n);
    this.chain = new Int32Array(n);
    this.ttl = new Int32Array(n);
    this.nTx = new Int32Array(n);
    this.maxTx = this.attempts * this.maxServers;
    this.txId = new Int32Array(n * this.maxTx);
    this.txSrv = new Int32Array(n * this.maxTx);
    this.qname = new Uint8Array(n * DNS_NAME_MAX);
    this.qlen = new Int32Array(n);
    this.cur = new Uint8Array(n * DNS_NAME_MAX);
    this.curLen = new Int32Array(n);
    this.tags = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.cbs.push(NO_CB);
      this.hs.push(NO_HANDLER);
    }
    const c = this.cacheSize;
    this.cName = new Uint8Array(c * DNS_NAME_MAX + 1);
    this.cLen = new Int32Array(c + 1);
    this.cAddr = new Int32Array(c + 1);
    this.cExp = new Float64Array(c + 1);
    this.nbuf = new Uint8Array(DNS_NAME_MAX);
    this.tx = new Uint8Array(DNS_HLEN + DNS_NAME_MAX + 4);
    this.rx = new Uint8Array(DNS_UDP_MAX);
    this.from = new Int32Array(2);
    // a 512-byte message holds at most (512 - 12 - 5) / 11 = 45 answer records
    this.ans = new DnsAnswer(48);
    this.mux = eventMux(st);
    this.dtid = st.timers.register(this, DISPATCH);
    for (let i = 0; i < n; i++) {
      this.tid[i] = st.timers.register(this, i);
      if (this.tid[i] < 0) this.dtid = -1;
    }
    if (this.dtid < 0) throw new Error('dns: timer table full (cfg.timerMax)');
    // the stack's name service (net facade, NetworkJS adapter) unless one is set already
    if (st.resolver === null) st.resolver = this;
  }

  /* ---------------- servers ---------------- */

  /**
   * Use these servers (addresses, s32 or unsigned; 0 and 255.255.255.255
   * and repeats skipped), at most maxServers. Queries in flight use the
   * new list from their next try. Returns how many are kept.
   */
  setServers(list: Int32Array | number[]): number {
    this.nsrv = 0;
    this.preferred = 0;
    // two loops: typescript-to-lua indexes a Lua array (number[]) from 1, a typed array from 0
    if (list instanceof Int32Array) {
      for (let i = 0; i < list.length; i++) this.addServer(list[i]);
    } else {
      for (let i = 0; i < list.length; i++) this.addServer(list[i]);
    }
    return this.nsrv;
  }

  /** Add one server at the end of the list. Returns the new count, or -1 (invalid, a repeat, or the list full). */
  addServer(addr: number): number {
    const a = s32(addr);
    if (a === 0 || a === -1 || this.nsrv >= this.maxServers) return -1;
    for (let j = 0; j < this.nsrv; j++) if (this.srv[j] === a) return -1;
    this.srv[this.nsrv] = a;
    this.nsrv++;
    return this.nsrv;
  }

  serverCount(): number {
    return this.nsrv;
  }

  /** The i-th server (s32). */
  server(i: number): number {
    return i >= 0 && i < this.nsrv ? this.srv[i] : 0;
  }

  /* ---------------- requests ---------------- */

  /** Resolve name to an IPv4 address; cb(err, addr, ttl). Returns 0 (answered already) or a handle > 0. */
  resolve(name: string, cb: DnsCallback): number {
    return this.start(name, cb, NO_HANDLER, 0);
  }

  /** resolve() with a handler object: h.onResolved(tag, err, addr, ttl). */
  resolveWith(name: string, h: DnsHandler, tag: number): number {
    return this.start(name, NO_CB, h, tag);
  }

  /** Forget a request in flight (its callback never runs). Returns 0, or -1 for an unknown handle. */
  cancel(handle: number): number {
    const i = handle - 1;
    if (i < 0 || i >= this.maxQueries || this.state[i] !== S_WAIT) return -1;
    this.release(i);
    return 0;
  }

  /** Cancel everything in flight (no callbacks). */
  cancelAll(): void {
    for (let i = 0; i < this.maxQueries; i++) if (this.state[i] === S_WAIT) this.release(i);
  }

  private start(name: string, cb: DnsCallback, h: DnsHandler, tag: number): number {
    this.requests++;
    const lit = dottedQuad(name);
    if (lit >= 0) {
      this.literals++;
      this.call(cb, h, tag, EAI_OK, s32(lit), 0);
      return 0;
    }
    const nb = this.nbuf;
    const len = dnsNameFromString(name, nb, 0);
    if (len < 0) {
      this.call(cb, h, tag, EAI_BADNAME, 0, 0);
      return 0;
    }
    if (isLocalhost(nb, len)) {
      this.literals++;
      this.call(cb, h, tag, EAI_OK, INADDR_LOOPBACK, 0);
      return 0;
    }
    const ci = this.cacheFind(nb, len);
    if (ci >= 0) {
      this.cacheHits++;
      const left = Math.floor((this.cExp[ci] - this.st.now() + 999) / 1000);
      this.call(cb, h, tag, EAI_OK, this.cAddr[ci], left > 0 ? left : 0);
      return 0;
    }
    this.cacheMisses++;
    if (this.nsrv === 0) {
      this.failures++;
      this.call(cb, h, tag, EAI_NOSERVERS, 0, 0);
      return 0;
    }
    let slot = -1;
    for (let i = 0; i < this.maxQueries; i++) {
      if (this.state[i] === S_FREE) {
        slot = i;
        break;
      }
    }
    const fd = slot >= 0 ? this.openSocket() : -1;
    if (fd < 0) {
      this.failures++;
      this.call(cb, h, tag, EAI_MEMORY, 0, 0);
      return 0;
    }
    const o = slot * DNS_NAME_MAX;
    for (let i = 0; i < len; i++) {
      this.qname[o + i] = nb[i];
      this.cur[o + i] = nb[i];
    }
    this.qlen[slot] = len;
    this.curLen[slot] = len;
    this.state[slot] = S_WAIT;
    this.fd[slot] = fd;
    this.cbs[slot] = cb;
    this.hs[slot] = h;
    this.tags[slot] = tag;
    this.chain[slot] = 0;
    this.ttl[slot] = -1;
    this.failed[slot] = 0;
    this.pend[slot] = 0;
    this.tries[slot] = 0;
    this.nTx[slot] = 0;
    this.first[slot] = this.preferred < this.nsrv ? this.preferred : 0;
    this.active++;
    this.mux.set(fd, this);
    this.transmit(slot);
    return slot + 1;
  }

  /** A UDP socket on a random port (RFC 5452 §4.5), or -1. */
  private openSocket(): number {
    const st = this.st;
    const fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return -1;
    const lo = st.cfg.ephemeralLow;
    const span = st.cfg.ephemeralHigh - lo + 1;
    let rc = -1;
    // 16 random bits per try (the ephemeral range is at most 65536 wide)
    for (let k = 0; k < 4 && rc < 0 && span > 0; k++) rc = bind(st, fd, 0, lo + (rand16(st.rng) % span));
    if (rc < 0) rc = bind(st, fd, 0, 0); // udpGetPort: a random start, then the first free port
    if (rc < 0) {
      close(st, fd);
      return -1;
    }
    return fd;
  }

  private call(cb: DnsCallback, h: DnsHandler, tag: number, err: number, addr: number, ttl: number): void {
    if (h !== NO_HANDLER) h.onResolved(tag, err, addr, ttl);
    else cb(err, addr, ttl);
  }

  /** Timeout of try k (0-based) with ns servers: queryTimeoutMs doubled per round. */
  private timeoutFor(k: number, ns: number): number {
    const round = ns > 0 ? Math.floor(k / ns) : 0;
    let t = this.queryTimeoutMs;
    for (let r = 0; r < round && t < this.maxQueryTimeoutMs; r++) t = t * 2;
    return t < this.maxQueryTimeoutMs ? t : this.maxQueryTimeoutMs;
  }

  /** Send the next try of slot: the next server, a fresh ID. */
  private transmit(slot: number): void {
    const st = this.st;
    const ns = this.nsrv;
    if (ns === 0) {
      this.finish(slot, EAI_NOSERVERS, 0, 0);
      return;
    }
    const k = this.tries[slot];
    this.tries[slot] = k + 1;
    const addr = this.srv[(this.first[slot] + k) % ns];
    const id = rand16(st.rng);
    const t = slot * this.maxTx + (this.nTx[slot] % this.maxTx);
    this.txId[t] = id;
    this.txSrv[t] = addr;
    this.nTx[slot]++;
    if (k > 0) this.resends++;
    const fd = this.fd[slot];
    st.timers.mod(this.tid[slot], st.now() + this.timeoutFor(k, ns));
    sockErr(st, fd); // an ICMP error about an earlier try is spent
    // disconnect first: the source address is chosen again for this server's route
    if (k > 0) connect(st, fd, 0, 0);
    let rc = connect(st, fd, addr, DNS_PORT);
    if (rc >= 0) {
      const len = dnsPutQuery(this.tx, 0, id, DNS_F_RD, this.cur, slot * DNS_NAME_MAX, this.curLen[slot], DNS_TYPE_A);
      rc = send(st, fd, this.tx, 0, len);
    }
    if (rc < 0) {
      this.sendErrors++;
      // no route, no neighbour, ...: on to the next try at once; a full pool is a loss like any other
      if (rc !== -ENOBUFS) st.timers.mod(this.tid[slot], st.now());
      return;
    }
    this.queries++;
  }

  /* ---------------- readiness and timers ---------------- */

  /** EventMux: note it; the sockets are drained from the dispatch timer. */
  onSocketEvent(fd: number, _events: number): void {
    for (let i = 0; i < this.maxQueries; i++) {
      if (this.fd[i] === fd && this.state[i] === S_WAIT) {
        this.pend[i] = 1;
        this.arm();
        return;
      }
    }
  }

  private arm(): void {
    const now = this.st.now();
    if (this.armedAt >= 0 && this.armedAt <= now && this.st.timers.pending(this.dtid)) return;
    this.armedAt = now;
    this.st.timers.mod(this.dtid, now);
  }

  onTimer(arg: number): void {
    if (arg < 0) {
      this.armedAt = -1;
      if (this.running) return;
      this.running = true;
      try {
        for (let i = 0; i < this.maxQueries; i++) {
          if (this.pend[i] !== 0) {
            this.pend[i] = 0;
            if (this.state[i] === S_WAIT) this.drain(i);
          }
        }
      } finally {
        this.running = false;
      }
      return;
    }
    this.timeout(arg);
  }

  private timeout(slot: number): void {
    if (this.state[slot] !== S_WAIT) return;
    const tid = this.tid[slot];
    this.drain(slot); // a reply whose event went elsewhere
    if (this.state[slot] !== S_WAIT || this.st.timers.pending(tid)) return;
    this.timeouts++;
    this.next(slot);
  }

  /** The current try failed (timeout or server failure): the next one, or the end. */
  private next(slot: number): void {
    const ns = this.nsrv;
    if (ns === 0) {
      this.finish(slot, EAI_NOSERVERS, 0, 0);
      return;
    }
    if (this.tries[slot] >= this.attempts * ns) {
      this.finish(slot, this.failed[slot] !== 0 ? EAI_FAIL : EAI_AGAIN, 0, 0);
      return;
    }
    this.transmit(slot);
  }

  /** Read what slot's socket holds (bounded), handling each datagram. */
  private drain(slot: number): void {
    const st = this.st;
    const fd = this.fd[slot];
    const budget = st.cfg.sockRcvQueueLen + 1;
    for (let k = 0; k < budget; k++) {
      if (this.state[slot] !== S_WAIT || this.fd[slot] !== fd) return;
      const ql = recvLen(st, fd);
      const n = recvfrom(st, fd, this.rx, 0, this.rx.length, this.from);
      if (n === -EAGAIN) return;
      if (n < 0) {
        // ICMP unreachable from the server of the current try (the socket is connected to it)
        this.icmpErrors++;
        this.serverFailed(slot);
        continue;
      }
      if (ql > this.rx.length) {
        this.oversize++;
        continue;
      }
      this.input(slot, this.rx, n, this.from[0], this.from[1]);
    }
    if (this.state[slot] === S_WAIT && this.fd[slot] === fd && recvLen(st, fd) >= 0) {
      this.pend[slot] = 1;
      this.arm();
    }
  }

  private serverFailed(slot: number): void {
    this.failed[slot] = 1;
    this.st.timers.del(this.tid[slot]);
    this.next(slot);
  }

  /**
   * One datagram for slot: msg[0..len) from (fromAddr, fromPort). Public
   * for the fuzz tests, which feed the parser and the state machine
   * directly; the socket path calls it for each datagram received.
   */
  input(slot: number, msg: Uint8Array, len: number, fromAddr: number, fromPort: number): void {
    if (slot < 0 || slot >= this.maxQueries || this.state[slot] !== S_WAIT) return;
    if (len < DNS_HLEN || len > msg.length || fromPort !== DNS_PORT) {
      this.mismatched++;
      return;
    }
    const id = get16(msg, 0);
    const src = s32(fromAddr);
    const base = slot * this.maxTx;
    const sent = this.nTx[slot] < this.maxTx ? this.nTx[slot] : this.maxTx;
    let match = false;
    for (let j = 0; j < sent; j++) {
      if (this.txId[base + j] === id && this.txSrv[base + j] === src) {
        match = true;
        break;
      }
    }
    if (!match) {
      this.mismatched++;
      return;
    }
    const ans = this.ans;
    const left = this.maxCname - this.chain[slot];
    const r = dnsParseResponse(msg, 0, len, this.cur, slot * DNS_NAME_MAX, DNS_TYPE_A, left > 0 ? left : 0, ans);
    if (r === DNS_ANS_MISMATCH) {
      this.mismatched++;
      return;
    }
    this.responses++;
    if (r === DNS_ANS_MALFORMED || r === DNS_ANS_RCODE) {
      if (r === DNS_ANS_MALFORMED) this.malformed++;
      else this.rcodeErrors++;
      this.serverFailed(slot);
      return;
    }
    this.prefer(src);
    if (r === DNS_ANS_TRUNC) {
      this.truncated++;
      this.finish(slot, EAI_TRUNCATED, 0, 0);
      return;
    }
    if (r === DNS_ANS_NXDOMAIN) {
      this.nxdomain++;
      this.finish(slot, EAI_NONAME, 0, 0);
      return;
    }
    if (r === DNS_ANS_NODATA) {
      this.nodata++;
      this.finish(slot, EAI_NODATA, 0, 0);
      return;
    }
    if (r === DNS_ANS_LOOP) {
      this.chainTooLong++;
      this.finish(slot, EAI_FAIL, 0, 0);
      return;
    }
    // the smallest TTL along the whole chain
    let ttl = this.ttl[slot];
    if (ans.ttl >= 0 && (ttl < 0 || ans.ttl < ttl)) ttl = ans.ttl;
    this.ttl[slot] = ttl;
    if (r === DNS_ANS_ADDR) {
      if (ttl < 0) ttl = 0;
      if (ttl > this.maxTtl) ttl = this.maxTtl;
      this.cacheAdd(slot, ans.addr, ttl);
      this.finish(slot, EAI_OK, ans.addr, ttl);
      return;
    }
    // DNS_ANS_CNAME: query the last target, a fresh first try
    this.chain[slot] += ans.chain;
    if (this.chain[slot] > this.maxCname) {
      this.chainTooLong++;
      this.finish(slot, EAI_FAIL, 0, 0);
      return;
    }
    const o = slot * DNS_NAME_MAX;
    const tl = ans.targetLen;
    for (let i = 0; i < tl; i++) this.cur[o + i] = ans.target[i];
    this.curLen[slot] = tl;
    this.cnameQueries++;
    this.tries[slot] = 0;
    this.nTx[slot] = 0;
    this.failed[slot] = 0;
    this.first[slot] = this.preferred;
    this.st.timers.del(this.tid[slot]);
    this.transmit(slot);
  }

  private prefer(addr: number): void {
    for (let i = 0; i < this.nsrv; i++) {
      if (this.srv[i] === addr) {
        this.preferred = i;
        return;
      }
    }
  }

  /** Free slot and its socket and timer. */
  private release(slot: number): void {
    this.st.timers.del(this.tid[slot]);
    const fd = this.fd[slot];
    if (fd >= 0) {
      this.mux.set(fd, null);
      close(this.st, fd);
    }
    this.fd[slot] = -1;
    this.state[slot] = S_FREE;
    this.pend[slot] = 0;
    this.cbs[slot] = NO_CB;
    this.hs[slot] = NO_HANDLER;
    this.active--;
  }

  private finish(slot: number, err: number, addr: number, ttl: number): void {
    const cb = this.cbs[slot];
    const h = this.hs[slot];
    const tag = this.tags[slot];
    this.release(slot);
    if (err === EAI_OK) this.resolved++;
    else this.failures++;
    this.call(cb, h, tag, err, addr, ttl);
  }

  /* ---------------- cache ---------------- */

  private cacheFind(name: Uint8Array, len: number): number {
    const now = this.st.now();
    for (let i = 0; i < this.cacheSize; i++) {
      if (this.cLen[i] !== len || !dnsFlatEquals(this.cName, i * DNS_NAME_MAX, name, 0)) continue;
      if (this.cExp[i] > now) return i;
      this.cLen[i] = 0; // expired
      return -1;
    }
    return -1;
  }

  private cacheAdd(slot: number, addr: number, ttl: number): void {
    if (this.cacheSize === 0 || ttl <= 0) return;
    const now = this.st.now();
    const o = slot * DNS_NAME_MAX;
    const len = this.qlen[slot];
    let same = -1;
    let free = -1;
    let soonest = -1;
    for (let i = 0; i < this.cacheSize; i++) {
      if (this.cLen[i] === len && dnsFlatEquals(this.cName, i * DNS_NAME_MAX, this.qname, o)) {
        same = i;
        break;
      }
      if (this.cLen[i] === 0 || this.cExp[i] <= now) {
        if (free < 0) free = i;
      } else if (soonest < 0 || this.cExp[i] < this.cExp[soonest]) {
        soonest = i;
      }
    }
    const victim = same >= 0 ? same : free >= 0 ? free : soonest;
    const co = victim * DNS_NAME_MAX;
    for (let i = 0; i < len; i++) this.cName[co + i] = this.qname[o + i];
    this.cLen[victim] = len;
    this.cAddr[victim] = addr;
    this.cExp[victim] = now + ttl * 1000;
  }

  /** Empty the cache. */
  cacheFlush(): void {
    for (let i = 0; i < this.cacheSize; i++) this.cLen[i] = 0;
  }

  /** Live cache entries. */
  cacheCount(): number {
    const now = this.st.now();
    let n = 0;
    for (let i = 0; i < this.cacheSize; i++) if (this.cLen[i] !== 0 && this.cExp[i] > now) n++;
    return n;
  }

  /** Counters for reports (allocates: reports only). */
  stats(): { [k: string]: number } {
    return {
      requests: this.requests, literals: this.literals, cacheHits: this.cacheHits, cacheMisses: this.cacheMisses,
      queries: this.queries, resends: this.resends, timeouts: this.timeouts, sendErrors: this.sendErrors,
      responses: this.responses, mismatched: this.mismatched, malformed: this.malformed, oversize: this.oversize,
      truncated: this.truncated, rcodeErrors: this.rcodeErrors, icmpErrors: this.icmpErrors, nxdomain: this.nxdomain,
      nodata: this.nodata, cnameQueries: this.cnameQueries, chainTooLong: this.chainTooLong, resolved: this.resolved,
      failures: this.failures, active: this.active,
    };
  }
}

/** Is the flat name "localhost" or a name under it (RFC 6761 §6.3)? */
function isLocalhost(nb: Uint8Array, len: number): boolean {
  // the last label starts where the byte after it is the root
  let p = 0;
  for (let n = 0; n < 128 && p < len; n++) {
    const l = nb[p];
    if (l === 0) return false;
    if (nb[p + l + 1] === 0) return dnsFlatEquals(nb, p, LOCALHOST, 0);
    p += l + 1;
  }
  return false;
}
