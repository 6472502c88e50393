/*
 * apps_slots.test.ts — the TCP services' slot policy (src/apps/tcp_service.ts,
 * issue 10): header deadline against slowloris, eviction when every slot is
 * held by idle or half-request clients, the per-address cap, the zero-window
 * stall timeout, vanished peers reclaimed, and what must NOT be cut
 * (keep-alive, a slow but steady reader, a lossy download); the compact
 * stack's services (header deadline and eviction). A simulated LAN
 * (src/sim) in virtual time: the server on one host, each client on its own
 * host (its own address) unless a test wants one address for many.
 * Every simulated-LAN test ends with every TCB, skb and wire slot free.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { makeLan, LanHost } from '../scenario/helpers';
import { closeAllAndDrain } from '../scenario/tcp_helpers';
import { ensureTcp } from './tcp_util';
import { ServiceMux } from '../../src/apps/service';
import { HttpService, HTTP_PORT, defaultHttpOptions, HttpOptions } from '../../src/apps/http';
import { TcpEchoService, TCP_ECHO_PORT } from '../../src/apps/tcp_echo';
import { TcpDiscardService, TCP_DISCARD_PORT } from '../../src/apps/tcp_discard';
import { TcpService, perPeerCap, defaultTcpLimits, checkTcpLimits, IDLE_SENDING_FACTOR } from '../../src/apps/tcp_service';
import { patternByte } from '../../src/apps/http_parse';
import { SERVICE_TABLE, UP_CONFIG } from '../../src/cli/up';
import { tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED, TCP_FREE } from '../../src/transport/tcp/tcp';
import { EAGAIN, EINPROGRESS, ECONNRESET } from '../../src/core/errno';
import type { StackConfig } from '../../src/config';
import type { CompactApi } from '../../src/host/bundle';
import { CompactHttp, CompactTcpEcho } from '../../src/host/compact_services';
import * as cNet from '../../src/compact/net';
import * as cTcp from '../../src/compact/tcp';
import type { Net as CompactNet } from '../../src/compact/net';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { ifconfig } from '../../src/ipv4/devinet';
import { registerNetdev, rxFrame, devTxComplete, devOpen } from '../../src/link/dev';
import { NetDevice, NETDEV_TX_OK } from '../../src/link/netdev';
import { parseIp } from '../../src/link/ifaddr';
import * as sock from '../../src/socket/socket';
import { SOCK_STREAM } from '../../src/socket/sock';

const CFG: Partial<StackConfig> = { maxSockets: 40, tcpMaxSockets: 40, timerMax: 256, skbSmallCount: 192 };

interface World {
  sim: Sim;
  srv: LanHost;
  hosts: LanHost[];
  mux: ServiceMux;
  clients: Cl[];
}

/** A server host and n client hosts; svc builds the services on the server's stack. */
function world(n: number, svc: (w: { srv: LanHost }) => TcpService[], over?: Partial<StackConfig>): World {
  const sim = new Sim({ seed: 7 });
  const all = makeLan(sim, n + 1, Object.assign({}, CFG, over ?? {}));
  for (const h of all) ensureTcp(h.h.st);
  const srv = all[0];
  const mux = new ServiceMux(srv.h.st);
  for (const s of svc({ srv })) mux.add(s);
  expect(mux.start()).toBe(0);
  const w: World = { sim, srv, hosts: all.slice(1), mux, clients: [] };
  sim.addTicker({ onTick: () => mux.run() });
  sim.addTicker({
    onTick: () => {
      let k = 0;
      for (const c of w.clients) k += c.pump();
      return k;
    },
  });
  return w;
}

/** A client connection on a host: writes what it is given (trickle: one byte every trickleMs), reads unless paused. */
class Cl {
  readonly t: number;
  out = '';
  sent = 0;
  got: number[] = [];
  eof = false;
  err = 0;
  paused = false;
  /** > 0: send one byte every trickleMs */
  trickleMs = 0;
  private nextAt = 0;
  /** stop reading after this many bytes (slow reader: readBudget per readEveryMs) */
  readEveryMs = 0;
  readBudget = 0;
  private readAt = 0;
  closedAt = -1;
  private readonly buf = new Uint8Array(8192);
  constructor(
    readonly w: World,
    readonly h: LanHost,
    port: number,
  ) {
    this.t = tcpSocket(h.h.st);
    expect(this.t).toBeGreaterThanOrEqual(0);
    expect(tcpConnect(h.h.st, this.t, w.srv.ip, port)).toBe(-EINPROGRESS);
    w.clients.push(this);
  }
  established(): boolean {
    return this.h.h.st.tcp.state[this.t] === TCP_ESTABLISHED;
  }
  write(s: string): void {
    this.out += s;
  }
  pump(): number {
    const st = this.h.h.st;
    const now = this.w.sim.now();
    let k = 0;
    if (this.err !== 0 || this.t < 0) return 0;
    if (this.sent < this.out.length && this.established()) {
      let len = this.out.length - this.sent;
      if (this.trickleMs > 0) {
        if (now < this.nextAt) len = 0;
        else {
          len = 1;
          this.nextAt = now + this.trickleMs;
        }
      }
      if (len > 0) {
        const b = new TextEncoder().encode(this.out.substr(this.sent, len));
        const r = tcpSend(st, this.t, b, 0, b.length);
        if (r > 0) {
          this.sent += r;
          k++;
        } else if (r < 0 && r !== -EAGAIN) this.fail(r);
      }
    }
    if (this.paused) return k;
    let budget = 1 << 30;
    if (this.readEveryMs > 0) {
      if (now < this.readAt) return k;
      this.readAt = now + this.readEveryMs;
      budget = this.readBudget;
    }
    while (budget > 0) {
      const r = tcpRecv(st, this.t, this.buf, 0, budget < this.buf.length ? budget : this.buf.length);
      if (r > 0) {
        for (let i = 0; i < r; i++) this.got.push(this.buf[i]);
        budget -= r;
        k++;
        continue;
      }
      if (r === 0) {
        if (!this.eof) this.closedAt = now;
        this.eof = true;
      } else if (r !== -EAGAIN) this.fail(r);
      break;
    }
    return k;
  }
  private fail(r: number): void {
    this.err = r;
    if (this.closedAt < 0) this.closedAt = this.w.sim.now();
  }
  /** closed by the server (EOF or reset) */
  gone(): boolean {
    return this.eof || this.err !== 0;
  }
  text(): string {
    return String.fromCharCode(...this.got.slice(0, 4096));
  }
  /** a complete response (Content-Length framed) at the start of what was read: its body length, else -1 */
  response(): { status: number; body: number[]; size: number } | null {
    const g = this.got;
    for (let i = 3; i < g.length; i++) {
      if (g[i - 3] === 13 && g[i - 2] === 10 && g[i - 1] === 13 && g[i] === 10) {
        const head = String.fromCharCode(...g.slice(0, i + 1));
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
        const cl = /Content-Length: (\d+)/i.exec(head);
        const len = cl === null ? 0 : Number(cl[1]);
        if (g.length < i + 1 + len) return null;
        return { status: m === null ? 0 : Number(m[1]), body: g.slice(i + 1, i + 1 + len), size: i + 1 + len };
      }
    }
    return null;
  }
  consume(n: number): void {
    this.got = this.got.slice(n);
  }
  close(): void {
    if (this.t >= 0 && this.h.h.st.tcp.state[this.t] !== TCP_FREE) tcpClose(this.h.h.st, this.t);
  }
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 192.0.2.10\r\n${extra}\r\n`;

function http(o: Partial<HttpOptions>): (w: { srv: LanHost }) => TcpService[] {
  return (w) => [new HttpService(w.srv.h.st, HTTP_PORT, Object.assign(defaultHttpOptions(), o))];
}

function svc<T extends TcpService>(w: World): T {
  return w.mux.services[0] as T;
}

/** Wait until every client in cs is established (their handshake done). */
function established(w: World, cs: Cl[]): void {
  expect(w.sim.runUntil(() => cs.every((c) => c.established()), 3000)).toBe(true);
}

/** Stop the services, close all clients, run out every timer: nothing left anywhere. */
function finish(w: World): void {
  w.mux.stop();
  for (const c of w.clients) c.close();
  w.clients.length = 0;
  closeAllAndDrain(w.sim);
}

/** Server-side TCBs (not free) whose peer is host h. */
function tcbsTo(w: World, h: LanHost): number {
  const tp = w.srv.h.st.tcp;
  let n = 0;
  for (let t = 0; t < tp.n; t++) if (tp.state[t] !== TCP_FREE && tp.raddr[t] >>> 0 === h.ip >>> 0) n++;
  return n;
}

describe('http slots: header deadline (slowloris)', () => {
  it('a header trickling one byte every 200 ms is cut at headerMs from accept; the trickle does not extend it', () => {
    const w = world(3, http({ maxConns: 4, headerMs: 3000 }));
    const slow = [0, 1].map((k) => new Cl(w, w.hosts[k], HTTP_PORT));
    for (const c of slow) {
      c.trickleMs = 200;
      c.write(GET('/bytes/10', 'X-Slow: ' + 'a'.repeat(4000)));
    }
    established(w, slow);
    const t0 = w.sim.now();
    // meanwhile another client is served (free slots)
    const ok = new Cl(w, w.hosts[2], HTTP_PORT);
    ok.write(GET('/bytes/1000', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => ok.eof, 2000)).toBe(true);
    expect(ok.response()!.status).toBe(200);
    expect(ok.response()!.body.length).toBe(1000);
    expect(w.sim.runUntil(() => slow.every((c) => c.gone()), 10000)).toBe(true);
    for (const c of slow) {
      // reset at the deadline (3 s after accept, one poll interval of slack), not later
      expect(c.closedAt - t0).toBeGreaterThanOrEqual(2900);
      expect(c.closedAt - t0).toBeLessThanOrEqual(3100);
      expect(c.err).toBe(-ECONNRESET);
      expect(c.sent).toBeGreaterThan(10); // it was trickling all along
    }
    const s = svc<HttpService>(w).stats();
    expect(s.dropHeaderTimeout).toBe(2);
    expect(s.idleClosed + s.dropStall + s.evicted + s.dropPerPeer).toBe(0);
    expect(s.active).toBe(0);
    finish(w);
  });

  it('24 slowloris clients on one address against 4 slots: another address is served within evictMs each time', () => {
    const w = world(2, http({ maxConns: 4, headerMs: 5000, evictMs: 1000 }), { tcpAcceptQueue: 32, tcpSynQueue: 32 });
    const slow: Cl[] = [];
    for (let k = 0; k < 24; k++) {
      const c = new Cl(w, w.hosts[0], HTTP_PORT);
      c.trickleMs = 3000;
      c.write(GET('/bytes/10', 'X-Slow: ' + 'a'.repeat(4000)));
      slow.push(c);
    }
    w.sim.run(1500);
    // 6 GETs from another address, one every 2 s, each on a new connection
    for (let r = 0; r < 6; r++) {
      const c = new Cl(w, w.hosts[1], HTTP_PORT);
      c.write(GET('/bytes/10000', 'Connection: close\r\n'));
      const t = w.sim.now();
      expect(w.sim.runUntil(() => c.eof, 5000)).toBe(true);
      expect(w.sim.now() - t).toBeLessThanOrEqual(1200);
      const res = c.response()!;
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(10000);
      w.sim.run(2000 - (w.sim.now() - t) > 0 ? 2000 - (w.sim.now() - t) : 0);
    }
    const s = svc<HttpService>(w).stats();
    expect(s.evicted).toBeGreaterThanOrEqual(6);
    expect(s.responses2xx).toBe(6);
    expect(s.dropHeaderTimeout + s.evicted + s.dropPerPeer).toBeGreaterThanOrEqual(6);
    finish(w);
  });
});

describe('http slots: eviction and vanished clients', () => {
  it('4 clients send half a request and vanish (no FIN/RST): a 5th is served at once by eviction, the rest reclaimed at the header deadline', () => {
    const w = world(5, http({ maxConns: 4, headerMs: 5000, evictMs: 1000 }));
    const half = [0, 1, 2, 3].map((k) => new Cl(w, w.hosts[k], HTTP_PORT));
    for (const c of half) c.write('GET /bytes/1000 HTTP/1.1\r\nHost: x\r\nUser-');
    established(w, half);
    w.sim.run(200);
    expect(svc<HttpService>(w).stats().active).toBe(4);
    // they vanish: their cables go dark (frames both ways lost)
    for (let k = 0; k < 4; k++) w.sim.outage(w.hosts[k].h, 600000);
    w.sim.run(1000);
    const t = w.sim.now();
    const c = new Cl(w, w.hosts[4], HTTP_PORT);
    c.write(GET('/bytes/5000', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => c.eof, 5000)).toBe(true);
    expect(w.sim.now() - t).toBeLessThan(100); // the slots had waited > evictMs already
    expect(c.response()!.body.length).toBe(5000);
    const s = svc<HttpService>(w).stats();
    expect(s.evicted).toBe(1);
    // the other 3 go at their header deadline, their TCBs freed at once (RST, no FIN retransmissions)
    expect(w.sim.runUntil(() => svc<HttpService>(w).stats().dropHeaderTimeout === 3, 5000)).toBe(true);
    expect(svc<HttpService>(w).stats().active).toBe(0);
    w.sim.run(10);
    for (let k = 0; k < 4; k++) expect(tcbsTo(w, w.hosts[k])).toBe(0); // RST: no orphan retransmitting a FIN
    finish(w);
  });

  it('a newcomer while every slot is young and busy waits in the accept queue (no eviction before evictMs)', () => {
    const w = world(3, http({ maxConns: 2, headerMs: 5000, evictMs: 1000 }));
    const a = new Cl(w, w.hosts[0], HTTP_PORT);
    const b = new Cl(w, w.hosts[1], HTTP_PORT);
    a.write('GET /byt');
    b.write('GET /byt');
    established(w, [a, b]);
    const c = new Cl(w, w.hosts[2], HTTP_PORT);
    c.write(GET('/bytes/10', 'Connection: close\r\n'));
    established(w, [c]);
    const t = w.sim.now();
    w.sim.run(500);
    expect(c.got.length).toBe(0);
    expect(svc<HttpService>(w).stats().evicted).toBe(0);
    expect(w.sim.runUntil(() => c.eof, 2000)).toBe(true);
    expect(w.sim.now() - t).toBeLessThanOrEqual(1100);
    expect(c.response()!.status).toBe(200);
    expect(svc<HttpService>(w).stats().evicted).toBe(1);
    // the victim was the one waiting longest for its request (a: accepted first)
    expect(w.sim.runUntil(() => a.gone(), 100)).toBe(true);
    expect(b.gone()).toBe(false);
    finish(w);
  });

  it('a client that stops answering mid-download (window open) is reclaimed by idleMs × IDLE_SENDING_FACTOR, not stallMs', () => {
    const w = world(1, http({ maxConns: 2, idleMs: 2000, stallMs: 2000 }));
    const c = new Cl(w, w.hosts[0], HTTP_PORT);
    c.write(GET('/bytes/3000000'));
    expect(w.sim.runUntil(() => c.got.length > 100000, 5000)).toBe(true);
    w.sim.outage(w.hosts[0].h, 600000);
    const t = w.sim.now();
    expect(w.sim.runUntil(() => svc<HttpService>(w).stats().active === 0, 20000)).toBe(true);
    const took = w.sim.now() - t;
    expect(took).toBeGreaterThanOrEqual(IDLE_SENDING_FACTOR * 2000 - 100);
    expect(took).toBeLessThanOrEqual(IDLE_SENDING_FACTOR * 2000 + 200);
    const s = svc<HttpService>(w).stats();
    expect(s.idleClosed).toBe(1);
    expect(s.dropStall).toBe(0);
    w.sim.run(10);
    expect(tcbsTo(w, w.hosts[0])).toBe(0); // aborted: no orphan left retransmitting
    finish(w);
  });
});

describe('http slots: per-address cap', () => {
  it('one address fills every free slot, another address displaces one of them at once; the first address is refused at its cap', () => {
    const w = world(2, http({ maxConns: 4, perPeer: 2, evictMs: 1000 }));
    expect(perPeerCap(svc<HttpService>(w).lim)).toBe(2);
    const x = [0, 1, 2, 3].map(() => new Cl(w, w.hosts[0], HTTP_PORT));
    for (const c of x) c.write(GET('/bytes/10'));
    expect(w.sim.runUntil(() => x.every((c) => c.response() !== null), 2000)).toBe(true);
    expect(svc<HttpService>(w).stats().active).toBe(4); // kept alive: all 4 slots on one address
    // another address: served at once, though X's slots are young
    const y = new Cl(w, w.hosts[1], HTTP_PORT);
    y.write(GET('/bytes/10', 'Connection: close\r\n'));
    const t = w.sim.now();
    expect(w.sim.runUntil(() => y.eof, 2000)).toBe(true);
    expect(w.sim.now() - t).toBeLessThan(50);
    expect(y.response()!.status).toBe(200);
    let s = svc<HttpService>(w).stats();
    expect(s.evicted).toBe(1);
    expect(x.filter((c) => c.gone()).length).toBe(1);
    // X again: 3 slots (over its cap of 2), all busy, none of its own idle for evictMs: refused with a RST
    const x5 = new Cl(w, w.hosts[0], HTTP_PORT);
    x5.write(GET('/bytes/10'));
    expect(w.sim.runUntil(() => x5.gone(), 2000)).toBe(true);
    expect(x5.err).toBe(-ECONNRESET);
    s = svc<HttpService>(w).stats();
    expect(s.dropPerPeer).toBe(1);
    // once X's own slots have waited evictMs, X's newcomer replaces one of them (not Y's)
    w.sim.run(1200);
    const x6 = new Cl(w, w.hosts[0], HTTP_PORT);
    x6.write(GET('/bytes/10', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => x6.eof, 2000)).toBe(true);
    expect(x6.response()!.status).toBe(200);
    s = svc<HttpService>(w).stats();
    expect(s.evicted).toBe(2);
    expect(s.dropPerPeer).toBe(1);
    expect(x.filter((c) => c.gone()).length).toBe(2);
    finish(w);
  });

  it('an address at its cap cannot take another address\'s idle slot: its newcomer is refused instead', () => {
    const w = world(2, http({ maxConns: 4, perPeer: 2, evictMs: 1000 }));
    const y = new Cl(w, w.hosts[1], HTTP_PORT);
    y.write(GET('/bytes/10'));
    expect(w.sim.runUntil(() => y.response() !== null, 2000)).toBe(true);
    w.sim.run(1500); // Y's kept-alive slot has waited longer than evictMs
    const x = [0, 1, 2].map(() => new Cl(w, w.hosts[0], HTTP_PORT));
    for (const c of x) c.write(GET('/bytes/10'));
    expect(w.sim.runUntil(() => x.every((c) => c.response() !== null), 2000)).toBe(true);
    const x4 = new Cl(w, w.hosts[0], HTTP_PORT);
    x4.write(GET('/bytes/10'));
    expect(w.sim.runUntil(() => x4.gone(), 2000)).toBe(true);
    expect(x4.err).toBe(-ECONNRESET);
    const s = svc<HttpService>(w).stats();
    expect(s.dropPerPeer).toBe(1);
    expect(s.evicted).toBe(0);
    expect(y.gone()).toBe(false);
    // Y, under its cap, displaces one of X's over-cap slots (they go before its own older idle one)
    const y2 = new Cl(w, w.hosts[1], HTTP_PORT);
    y2.write(GET('/bytes/10', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => y2.eof, 2000)).toBe(true);
    expect(svc<HttpService>(w).stats().evicted).toBe(1);
    expect(y.gone()).toBe(false);
    expect(x.filter((c) => c.gone()).length).toBe(1);
    finish(w);
  });

  it('a single address may use every slot while nobody else wants one (16 parallel downloads, 16 slots, cap 8)', () => {
    const w = world(1, http({ maxConns: 16 }));
    expect(svc<HttpService>(w).cap).toBe(8);
    const cs: Cl[] = [];
    for (let k = 0; k < 16; k++) {
      const c = new Cl(w, w.hosts[0], HTTP_PORT);
      c.write(GET('/bytes/100000', 'Connection: close\r\n'));
      cs.push(c);
    }
    expect(w.sim.runUntil(() => cs.every((c) => c.eof), 60000)).toBe(true);
    for (const c of cs) {
      const r = c.response()!;
      expect(r.body.length).toBe(100000);
      let same = true;
      for (let i = 0; i < 100000; i += 991) if (r.body[i] !== patternByte(i)) same = false;
      expect(same).toBe(true);
    }
    const s = svc<HttpService>(w).stats();
    expect(s.maxActive).toBeGreaterThan(8); // more than its cap: nobody else wanted a slot
    expect(s.accepted).toBe(16);
    expect(s.evicted + s.dropPerPeer + s.dropHeaderTimeout + s.dropStall + s.idleClosed).toBe(0);
    finish(w);
  });
});

describe('slots: zero window (sockstress)', () => {
  it('an http client that never reads (zero window) is dropped stallMs after its window closed; another client served meanwhile', () => {
    const w = world(2, http({ maxConns: 2, stallMs: 3000, idleMs: 20000 }));
    const z = new Cl(w, w.hosts[0], HTTP_PORT);
    z.paused = true;
    z.write(GET('/bytes/2000000'));
    // its window fills: the server's SIOCOUTQ stops falling
    const tcb = (): number => z.h.h.st.tcp.rcvCount[z.t];
    expect(w.sim.runUntil(() => tcb() > 0 && w.srv.h.st.tcp.sndWnd.some((v, i) => v === 0 && w.srv.h.st.tcp.state[i] === TCP_ESTABLISHED), 5000)).toBe(true);
    const t = w.sim.now();
    const ok = new Cl(w, w.hosts[1], HTTP_PORT);
    ok.write(GET('/bytes/20000', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => ok.eof, 2000)).toBe(true);
    expect(ok.response()!.body.length).toBe(20000);
    expect(w.sim.runUntil(() => svc<HttpService>(w).stats().dropStall === 1, 10000)).toBe(true);
    const took = w.sim.now() - t;
    expect(took).toBeGreaterThanOrEqual(2800);
    expect(took).toBeLessThanOrEqual(3300);
    const s = svc<HttpService>(w).stats();
    expect(s.idleClosed + s.dropHeaderTimeout + s.evicted).toBe(0);
    expect(s.active).toBe(0);
    w.sim.run(10);
    expect(tcbsTo(w, w.hosts[0])).toBe(0); // aborted: no orphan probing a zero window
    finish(w);
  });

  it('an echo client that sends 1 MB and never reads is dropped after stallMs (echo has no header deadline)', () => {
    const w = world(1, (x) => [new TcpEchoService(x.srv.h.st, TCP_ECHO_PORT, 2, 2048, 30000, { stallMs: 2000 })]);
    const z = new Cl(w, w.hosts[0], TCP_ECHO_PORT);
    z.paused = true;
    z.write('e'.repeat(1 << 20));
    expect(w.sim.runUntil(() => svc<TcpEchoService>(w).stats().dropStall === 1, 20000)).toBe(true);
    const s = svc<TcpEchoService>(w).stats();
    expect(s.idleClosed + s.evicted).toBe(0);
    expect(s.bytesOut).toBeGreaterThan(0);
    finish(w);
  });
});

describe('slots: what must not be cut', () => {
  it('keep-alive requests 3 s apart (under headerMs 5 s) on one connection; the deadline counts from each response', () => {
    const w = world(1, http({ maxConns: 2, headerMs: 5000, idleMs: 15000 }));
    const c = new Cl(w, w.hosts[0], HTTP_PORT);
    for (let r = 0; r < 5; r++) {
      c.write(GET('/bytes/100'));
      expect(w.sim.runUntil(() => c.response() !== null, 2000)).toBe(true);
      expect(c.response()!.body.length).toBe(100);
      c.consume(c.response()!.size);
      w.sim.run(3000);
    }
    const s = svc<HttpService>(w).stats();
    expect(s.accepted).toBe(1);
    expect(s.requests).toBe(5);
    expect(s.dropHeaderTimeout + s.idleClosed).toBe(0);
    // and then the keep-alive wait ends at headerMs after the last response
    expect(w.sim.runUntil(() => c.gone(), 5000)).toBe(true);
    expect(svc<HttpService>(w).stats().dropHeaderTimeout).toBe(1);
    finish(w);
  });

  it('a slow but steady reader (4 KB every 1.5 s, 400 KB over ~150 s) is not cut by stall, idle or header limits', () => {
    const w = world(1, http({ maxConns: 2, stallMs: 3000, idleMs: 5000, headerMs: 2000 }), { tcpRcvBuf: 8192 });
    const c = new Cl(w, w.hosts[0], HTTP_PORT);
    c.readEveryMs = 1500;
    c.readBudget = 4096;
    c.write(GET('/bytes/400000', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => c.eof, 400000)).toBe(true);
    const r = c.response()!;
    expect(r.body.length).toBe(400000);
    let same = true;
    for (let i = 0; i < 400000; i += 997) if (r.body[i] !== patternByte(i)) same = false;
    expect(same).toBe(true);
    const s = svc<HttpService>(w).stats();
    expect(s.dropStall + s.idleClosed + s.dropHeaderTimeout + s.evicted).toBe(0);
    finish(w);
  });

  it('a download over a lossy path (10% each way) completes: RTO backoff is not a zero-window stall', () => {
    const w = world(1, http({ maxConns: 2, stallMs: 2000, idleMs: 30000 }));
    w.sim.setFaults(w.hosts[0].h, { loss: 0.1 });
    const c = new Cl(w, w.hosts[0], HTTP_PORT);
    c.write(GET('/bytes/300000', 'Connection: close\r\n'));
    expect(w.sim.runUntil(() => c.eof || c.err !== 0, 300000)).toBe(true);
    expect(c.err).toBe(0);
    expect(c.response()!.body.length).toBe(300000);
    const s = svc<HttpService>(w).stats();
    expect(s.dropStall + s.idleClosed).toBe(0);
    w.sim.setFaults(w.hosts[0].h, { loss: 0 });
    finish(w);
  });
});

describe('slots: echo and discard', () => {
  it('every echo slot held by idle clients: a new client is served after evictMs; the longest idle is the victim', () => {
    const w = world(3, (x) => [new TcpEchoService(x.srv.h.st, TCP_ECHO_PORT, 2, 1024, 30000, { evictMs: 500 })]);
    const a = new Cl(w, w.hosts[0], TCP_ECHO_PORT);
    a.write('a');
    w.sim.run(300);
    const b = new Cl(w, w.hosts[1], TCP_ECHO_PORT);
    b.write('b');
    expect(w.sim.runUntil(() => a.got.length === 1 && b.got.length === 1, 1000)).toBe(true);
    const c = new Cl(w, w.hosts[2], TCP_ECHO_PORT);
    c.write('hello');
    const t = w.sim.now();
    expect(w.sim.runUntil(() => c.got.length === 5, 2000)).toBe(true);
    expect(w.sim.now() - t).toBeLessThanOrEqual(600);
    expect(a.gone() || w.sim.runUntil(() => a.gone(), 50)).toBe(true);
    expect(b.gone()).toBe(false);
    expect(svc<TcpEchoService>(w).stats().evicted).toBe(1);
    finish(w);
  });

  it('discard: a fd table with no spare fd still lets a newcomer in (the victim is released before accept)', () => {
    // listener + 2 slots = every fd
    const w = world(3, (x) => [new TcpDiscardService(x.srv.h.st, TCP_DISCARD_PORT, 2, 1024, 30000, { evictMs: 200 })], { maxSockets: 3 });
    const a = new Cl(w, w.hosts[0], TCP_DISCARD_PORT);
    const b = new Cl(w, w.hosts[1], TCP_DISCARD_PORT);
    established(w, [a, b]);
    w.sim.run(300);
    const c = new Cl(w, w.hosts[2], TCP_DISCARD_PORT);
    c.write('x'.repeat(1000));
    expect(w.sim.runUntil(() => svc<TcpDiscardService>(w).stats().bytesIn === 1000, 2000)).toBe(true);
    expect(svc<TcpDiscardService>(w).stats().evicted).toBe(1);
    finish(w);
  });
});

describe('slot limits: configuration', () => {
  it('bad values are refused at construction with the field named', () => {
    const sim = new Sim({ seed: 1 });
    const [h] = makeLan(sim, 1, CFG);
    ensureTcp(h.h.st);
    const st = h.h.st;
    const bad: [Partial<HttpOptions>, RegExp][] = [
      [{ maxConns: 0 }, /maxConns/],
      [{ maxConns: 2.5 }, /maxConns/],
      [{ idleMs: 0 }, /idleMs/],
      [{ stallMs: -1 }, /stallMs/],
      [{ stallMs: NaN }, /stallMs/],
      [{ evictMs: -5 }, /evictMs/],
      [{ perPeer: 1.5 }, /perPeer/],
      [{ headerMs: 0 }, /headerMs/],
      [{ hdrMax: 10 }, /hdrMax/],
    ];
    for (const [o, re] of bad) {
      expect(() => new HttpService(st, HTTP_PORT, Object.assign(defaultHttpOptions(), o))).toThrow(re);
    }
    expect(() => new TcpEchoService(st, TCP_ECHO_PORT, 4, 1024, 1000, { stallMs: 0 })).toThrow(/stallMs/);
    expect(() => new TcpEchoService(st, TCP_ECHO_PORT, 4, 0, 1000)).toThrow(/chunk/);
    expect(checkTcpLimits(defaultTcpLimits())).toBe('');
    expect(perPeerCap(Object.assign(defaultTcpLimits(), { maxConns: 3 }))).toBe(2);
    expect(perPeerCap(Object.assign(defaultTcpLimits(), { maxConns: 20 }))).toBe(10);
    expect(perPeerCap(Object.assign(defaultTcpLimits(), { maxConns: 20, perPeer: 3 }))).toBe(3);
  });

  it('slabnet up: http 20 slots, header 5 s, idle 30 s, stall 10 s, evict 1 s, cap 10; echo/discard 16 slots, cap 8', () => {
    const sim = new Sim({ seed: 1 });
    const [h] = makeLan(sim, 1, CFG);
    ensureTcp(h.h.st);
    const http = SERVICE_TABLE.http(h.h.st)[0] as HttpService;
    expect([http.lim.maxConns, http.lim.headerMs, http.lim.idleMs, http.lim.stallMs, http.lim.evictMs, http.cap]).toEqual([20, 5000, 30000, 10000, 1000, 10]);
    for (const name of ['echo', 'discard']) {
      const t = SERVICE_TABLE[name](h.h.st)[1] as TcpService;
      expect([t.lim.maxConns, t.lim.headerMs, t.lim.idleMs, t.lim.stallMs, t.lim.evictMs, t.cap]).toEqual([16, 0, 30000, 10000, 1000, 8]);
    }
  });
});

describe('slots: the issue 10 attacks against `slabnet up`\'s http (20 slots, UP_CONFIG)', () => {
  /** The server with UP_CONFIG and SERVICE_TABLE.http; n client hosts with a small config. */
  function upWorld(n: number): World {
    const sim = new Sim({ seed: 11 });
    // UP_CONFIG, with room for every client's ARP entry (the default table holds 16 neighbours)
    const [srv] = makeLan(sim, 1, Object.assign({}, UP_CONFIG, { arpTableSize: 64 }));
    const hosts = makeLan(sim, n, CFG);
    ensureTcp(srv.h.st);
    for (const h of hosts) ensureTcp(h.h.st);
    const mux = new ServiceMux(srv.h.st);
    for (const s of SERVICE_TABLE.http(srv.h.st)) mux.add(s);
    expect(mux.start()).toBe(0);
    const w: World = { sim, srv, hosts, mux, clients: [] };
    sim.addTicker({ onTick: () => mux.run() });
    sim.addTicker({
      onTick: () => {
        let k = 0;
        for (const c of w.clients) k += c.pump();
        return k;
      },
    });
    return w;
  }

  /** GET /bytes/n from host h on a new connection: ms until the whole response is in. */
  function timedGet(w: World, h: LanHost, n: number, maxMs: number): number {
    const c = new Cl(w, h, HTTP_PORT);
    c.write(GET('/bytes/' + n, 'Connection: close\r\n'));
    const t = w.sim.now();
    expect(w.sim.runUntil(() => c.eof || c.err !== 0, maxMs)).toBe(true);
    const r = c.response();
    expect(r).not.toBe(null);
    expect(r!.body.length).toBe(n);
    return w.sim.now() - t;
  }

  it('24 slowloris connections (one byte every 3 s, one address): 6 GETs from another address each served within 2 s', () => {
    const w = upWorld(2);
    for (let k = 0; k < 24; k++) {
      const c = new Cl(w, w.hosts[0], HTTP_PORT);
      c.trickleMs = 3000;
      c.write(GET('/bytes/10', 'X-Slow: ' + 'a'.repeat(4000)));
    }
    w.sim.run(2000);
    const times: number[] = [];
    for (let r = 0; r < 6; r++) {
      times.push(timedGet(w, w.hosts[1], 10000, 5000));
      w.sim.run(3000);
    }
    for (const t of times) expect(t).toBeLessThanOrEqual(2000);
    const s = svc<HttpService>(w).stats();
    expect(s.dropHeaderTimeout + s.evicted).toBeGreaterThanOrEqual(6);
    finish(w);
  });

  it('50 clients (50 addresses) send half a request and vanish: another client is served within 5 s', () => {
    const w = upWorld(51);
    const half: Cl[] = [];
    for (let k = 0; k < 50; k++) {
      const c = new Cl(w, w.hosts[k], HTTP_PORT);
      c.write('GET /bytes/1000 HTTP/1.1\r\nHost: halfopen\r\nUser-');
      half.push(c);
      w.sim.run(20); // staggered, as test/interop/hostile.sh does
    }
    // each connected and sent its half (or was already evicted to make room for a later one)
    expect(w.sim.runUntil(() => half.every((c) => c.gone() || (c.established() && c.sent === c.out.length)), 10000)).toBe(true);
    for (let k = 0; k < 50; k++) w.sim.outage(w.hosts[k].h, 600000);
    w.sim.run(500);
    const t = timedGet(w, w.hosts[50], 10000, 10000);
    expect(t).toBeLessThanOrEqual(5000);
    const s = svc<HttpService>(w).stats();
    expect(s.evicted + s.dropHeaderTimeout).toBeGreaterThanOrEqual(1);
    // all of them are gone within the header deadline after their accept
    expect(w.sim.runUntil(() => svc<HttpService>(w).stats().active === 0, 20000)).toBe(true);
    finish(w);
  });

  it('32 zero-window connections (one address, never reading): a GET from another address is served within 2 s; they go at stallMs', () => {
    const w = upWorld(2);
    const z: Cl[] = [];
    for (let k = 0; k < 32; k++) {
      const c = new Cl(w, w.hosts[0], HTTP_PORT);
      c.paused = true;
      c.write(GET('/bytes/1000000'));
      z.push(c);
    }
    w.sim.run(3000);
    const t = timedGet(w, w.hosts[1], 100000, 5000);
    expect(t).toBeLessThanOrEqual(2000);
    // every one of them accepted, then dropped (they never read, so the server side is what tells)
    expect(w.sim.runUntil(() => tcbsTo(w, w.hosts[0]) === 0, 30000)).toBe(true);
    const s = svc<HttpService>(w).stats();
    expect(s.dropStall + s.evicted + s.dropPerPeer).toBe(32);
    expect(s.dropStall).toBeGreaterThanOrEqual(1);
    finish(w);
  });
});

describe('compact stack services (src/host/compact_services.ts): header deadline and eviction', () => {
  /** The compact stack from the sources (what a compact bundle exports) against a general stack b, frames copied. */
  function compactWire(tcbs: number): { api: CompactApi; n: CompactNet; b: Stack; clock: ManualClock; svcs: { run(): number }[]; run(ms: number): void } {
    const api = {
      netAttach: cNet.netAttach, netRxFrame: cNet.netRxFrame, netTick: cNet.netTick, netStats: cNet.netStats, netSetIp: cNet.netSetIp,
      tcpListen: cTcp.tcpListen, tcpAccept: cTcp.tcpAccept, tcpRecv: cTcp.tcpRecv, tcpSend: cTcp.tcpSend, tcpClose: cTcp.tcpClose, tcpState: cTcp.tcpState,
    } as unknown as CompactApi;
    const clock = new ManualClock(1000);
    const n = cNet.netCreate({ tcbs, tcpBuf: 2048, arpSize: 4 }, Uint8Array.from([2, 0, 0, 0, 0, 3]), clock, 5);
    const b = new Stack('b', { seed: 5, maxSockets: 16 }, clock, undefined);
    let db = -1;
    cNet.netAttach(n, { xmit: (f: Uint8Array, len: number) => rxFrame(b, db, f, 0, len) });
    const drvB = {
      startXmit(dev: NetDevice, skb: number): number {
        const q = b.pool;
        cNet.netRxFrame(n, q.buf[skb].subarray(q.data[skb]), q.tail[skb] - q.data[skb]);
        devTxComplete(b, dev, skb);
        return NETDEV_TX_OK;
      },
    };
    db = registerNetdev(b, 'eth0', Uint8Array.from([2, 0, 0, 0, 0, 1]), 1500, drvB);
    expect(ifconfig(b, db, '192.0.2.1/24', null)).toBe(0);
    devOpen(b, db);
    cNet.netSetIp(n, C_IP, parseIp('255.255.255.0') as number, 0, 0);
    const w = {
      api, n, b, clock, svcs: [] as { run(): number }[],
      run(ms: number): void {
        for (let i = 0; i < ms; i += 5) {
          clock.advance(5);
          cNet.netTick(n);
          b.poll();
          for (const s of w.svcs) s.run();
          b.poll();
        }
      },
    };
    return w;
  }
  const C_IP = parseIp('192.0.2.3') as number;

  /** A client socket on b connected to the compact stack's port, with what it has read. */
  class CCl {
    readonly fd: number;
    got = '';
    err = 0;
    eof = false;
    private readonly buf = new Uint8Array(4096);
    constructor(readonly b: Stack, port: number) {
      this.fd = sock.socket(b, SOCK_STREAM, 0);
      const rc = sock.connect(b, this.fd, C_IP, port);
      expect(rc === 0 || rc === -EINPROGRESS).toBe(true);
    }
    send(s: string): number {
      return sock.send(this.b, this.fd, Buffer.from(s, 'latin1'), 0, s.length);
    }
    read(): void {
      for (;;) {
        const r = sock.recv(this.b, this.fd, this.buf, 0, this.buf.length);
        if (r > 0) this.got += Buffer.from(this.buf.subarray(0, r)).toString('latin1');
        else {
          if (r === 0) this.eof = true;
          else if (r !== -EAGAIN) this.err = r;
          return;
        }
      }
    }
    gone(): boolean {
      this.read();
      return this.eof || this.err !== 0;
    }
  }

  it('http: a trickled header is cut at headerMs; with both slots trickling, a newcomer gets one after evictMs; keep-alive 2 s apart kept', () => {
    const w = compactWire(8);
    const h = new CompactHttp(w.api, w.n, 80, 2, 1024, 1024, 30000, () => w.clock.now(), { headerMs: 3000, evictMs: 1000 });
    expect(h.start()).toBe(0);
    w.svcs.push(h);
    const slow = [new CCl(w.b, 80), new CCl(w.b, 80)];
    const hdr = 'GET /bytes/10 HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(500);
    let pos = 0;
    const trickle = (ms: number): void => {
      for (let t = 0; t < ms; t += 200) {
        for (const c of slow) if (!c.gone()) c.send(hdr[pos % hdr.length]);
        pos++;
        w.run(200);
      }
    };
    trickle(400);
    expect(h.stats().active).toBe(2);
    const t0 = w.clock.now();
    const c = new CCl(w.b, 80);
    trickle(200); // its handshake (it waits in the accept queue)
    expect(c.send('GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n')).toBeGreaterThan(0);
    for (let k = 0; k < 20 && !c.got.includes('\r\n\r\n'); k++) {
      trickle(100);
      c.read();
    }
    expect(c.got.startsWith('HTTP/1.1 200')).toBe(true);
    expect(w.clock.now() - t0).toBeLessThanOrEqual(1400);
    expect(h.stats().evicted).toBe(1);
    // the newcomer's keep-alive requests 2 s apart are served (the clock restarts per response) while
    // the other trickler goes at its header deadline, though it kept sending
    for (let r = 0; r < 3; r++) {
      c.got = '';
      c.send('GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n');
      trickle(200);
      c.read();
      expect(c.got.startsWith('HTTP/1.1 200')).toBe(true);
      trickle(1800);
    }
    expect(slow.every((x) => x.gone())).toBe(true);
    expect(c.gone()).toBe(false);
    expect(h.stats().dropHeaderTimeout).toBe(1);
    // and then the kept-alive connection goes at headerMs after its last response
    w.run(1500);
    expect(c.gone()).toBe(true);
    expect(h.stats().dropHeaderTimeout).toBe(2);
    h.stop();
  });

  it('echo: every slot held by idle clients, a newcomer is served after evictMs (bad limits refused)', () => {
    const w = compactWire(8);
    expect(() => new CompactTcpEcho(w.api, w.n, 7, 2, 512, 30000, () => w.clock.now(), { evictMs: -1 })).toThrow(/evictMs/);
    const e = new CompactTcpEcho(w.api, w.n, 7, 2, 512, 30000, () => w.clock.now(), { evictMs: 500 });
    expect(e.start()).toBe(0);
    w.svcs.push(e);
    const idle = [new CCl(w.b, 7), new CCl(w.b, 7)];
    w.run(100);
    expect(e.stats().active).toBe(2);
    const c = new CCl(w.b, 7);
    w.run(50);
    c.send('hello');
    w.run(200);
    c.read();
    expect(c.got).toBe(''); // not before evictMs
    w.run(400);
    c.read();
    expect(c.got).toBe('hello');
    expect(e.stats().evicted).toBe(1);
    expect(idle.filter((x) => x.gone()).length).toBe(1);
    e.stop();
  });
});
