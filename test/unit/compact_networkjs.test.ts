/*
 * compact_networkjs.test.ts — the compact stack's NetworkJS adapter
 * (src/compact/networkjs.ts), driven the way Espruino's socketserver.c
 * drives it: create / accept / recv / send / close polled between the
 * simulation's instants, binary strings, SocketError codes. The board is a
 * SimCompactHost (192.0.2.99); its peer a general-stack SimHost on the
 * same switch (192.0.2.10) using the plain socket API, and in the name
 * tests a DnsServer on that host. Mirrors test/unit/net_networkjs.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { Sim, SimTicker } from '../../src/sim/world';
import { SimCompactHost } from '../../src/sim/compact_host';
import { netSetIp } from '../../src/compact/net';
import { networkJsCompact, NJ_NAMES } from '../../src/compact/networkjs';
import {
  NetworkJsObject, ST_NORMAL, ST_HTTP, ST_UDP, ST_TLS, SOCKET_ERR_CLOSED, SOCKET_ERR_NO_CONN, SOCKET_ERR_RESET,
  SOCKET_ERR_NOT_FOUND, SOCKET_ERR_BAD_ARG, SOCKET_ERR_BUSY, SOCKET_ERR_MAX_SOCK, SOCKET_ERR_TIMEOUT, UDP_HEADER_LEN,
} from '../../src/socket/networkjs';
import {
  socket, bind, listen, accept, connect, send, recv, sendto, recvfrom, close, SOCK_STREAM, SOCK_DGRAM,
} from '../../src/socket/socket';
import { EINPROGRESS, EAGAIN } from '../../src/core/errno';
import { parseIpStrict } from '../../src/link/ifaddr';
import { ServiceMux } from '../../src/apps/service';
import { DnsServer, DNS_SRV_DROP } from '../../src/apps/dns_server';
import { TcpEchoService } from '../../src/apps/tcp_echo';
import { TCP_FREE } from '../../src/transport/tcp/tcp';
import { tcpState } from '../../src/compact/tcp';
import { makeLan, LanHost, expectAllFree } from '../scenario/helpers';
import { installEspruinoE } from './espruino_e';

const IP_C = parseIpStrict('192.0.2.99');
const MASK = parseIpStrict('255.255.255.0');

function str(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 16;
  }
  return b;
}

/** A JsNetUDPPacketHeader for ip (s32) : port, payload length len. */
function udpHdr(ip: number, port: number, len: number): string {
  return String.fromCharCode((ip >>> 24) & 0xff, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff, port & 0xff, port >>> 8, len & 0xff, len >>> 8);
}

class DnsHost implements SimTicker {
  readonly mux: ServiceMux;
  readonly srv: DnsServer;
  constructor(lh: LanHost) {
    this.mux = new ServiceMux(lh.h.st);
    this.srv = new DnsServer(lh.h.st, 53, 16);
    this.mux.add(this.srv);
    expect(this.mux.start()).toBe(0);
  }
  onTick(): number {
    return this.mux.run();
  }
}

interface Env {
  sim: Sim;
  peer: LanHost;
  c: SimCompactHost;
  nj: NetworkJsObject;
  dns: DnsHost | null;
}

function env(seed: number, withDns?: boolean, over?: { tcbs?: number; udpSocks?: number; tcpBuf?: number }): Env {
  const sim = new Sim({ seed });
  const peer = makeLan(sim, 1)[0];
  const c = new SimCompactHost(sim, 'pico', over || null);
  let dns: DnsHost | null = null;
  if (withDns) {
    dns = new DnsHost(peer);
    dns.srv.addA('peer.example', peer.ip, 300);
    sim.addTicker(dns);
  }
  netSetIp(c.n, IP_C, MASK, 0, withDns ? peer.ip : 0);
  sim.run(20);
  return { sim, peer, c, nj: networkJsCompact(c.n), dns };
}

/** After the closes: every tcb free (TIME-WAIT over), every UDP socket closed, the peer's sockets closed and skbs back. */
function expectClean(e: Env): void {
  e.sim.run(40000);
  const n = e.c.n;
  for (let t = 0; t < n.cfg.tcbs; t++) expect(tcpState(n, t), 'tcb ' + t).toBe(TCP_FREE);
  for (let s = 0; s < n.udpPort.length; s++) expect(n.udpPort[s], 'udp ' + s).toBe(0);
  if (e.dns === null) expect(e.peer.h.st.sock.open, 'peer sockets left open').toBe(0);
  expectAllFree(e.sim);
}

/** Poll recv like Espruino's idle loop until it returns something other than '' / NO_CONN (or time runs out). */
function pollRecv(e: Env, sckt: number, type: number, maxMs: number): string | number {
  let r: string | number = '';
  e.sim.runUntil(() => {
    r = e.nj.recv(sckt, 536, type);
    return r !== '' && r !== SOCKET_ERR_NO_CONN;
  }, maxMs);
  return r;
}

/** Poll send until something is taken (Espruino retries a 0). */
function pollSend(e: Env, sckt: number, data: string, type: number, maxMs: number): number {
  let r = 0;
  e.sim.runUntil(() => (r = e.nj.send(sckt, data, type)) !== 0, maxMs);
  return r;
}

describe('compact NetworkJS adapter: UDP', () => {
  it('server socket receives with the 8-byte header, answers through a header; a client gets an ephemeral port', () => {
    const e = env(1);
    const st = e.peer.h.st;
    const u = e.nj.create(undefined, 5000, ST_UDP);
    expect(u).toBeGreaterThanOrEqual(0);
    expect(e.nj.recv(u, 536, ST_UDP)).toBe('');
    const a = socket(st, SOCK_DGRAM, 0);
    expect(bind(st, a, 0, 40001)).toBe(0);
    expect(sendto(st, a, bytes('ping!'), 0, 5, IP_C, 5000)).toBe(5);
    const r = pollRecv(e, u, ST_UDP, 200);
    expect(typeof r).toBe('string');
    const h = bytes(r as string);
    expect(Array.from(h.subarray(0, 4))).toEqual([192, 0, 2, 10]);
    expect(h[4] | (h[5] << 8)).toBe(40001);
    expect(h[6] | (h[7] << 8)).toBe(5);
    expect(str(h.subarray(UDP_HEADER_LEN))).toBe('ping!');
    expect(e.nj.recv(u, 536, ST_UDP)).toBe(''); // one datagram, taken
    // reply: header (192.0.2.10, 40001 LE, length 4 LE) + payload; 0 while the peer's MAC is asked for
    const hdr = udpHdr(e.peer.ip, 40001, 4);
    expect(pollSend(e, u, hdr + 'pong', ST_UDP, 200)).toBe(12);
    expect(e.nj.send(u, 'short', ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    e.sim.run(10);
    const got = new Uint8Array(16);
    const from = new Int32Array(2);
    expect(recvfrom(st, a, got, 0, 16, from)).toBe(4);
    expect(str(got.subarray(0, 4))).toBe('pong');
    expect(from[0]).toBe(IP_C);
    expect(from[1]).toBe(5000);
    // the header's length wins over a longer string; a shorter string wins over the header
    expect(e.nj.send(u, udpHdr(e.peer.ip, 40001, 2) + 'abcdef', ST_UDP)).toBe(10);
    e.sim.run(10);
    expect(recvfrom(st, a, got, 0, 16, from)).toBe(2);
    expect(str(got.subarray(0, 2))).toBe('ab');
    expect(e.nj.send(u, udpHdr(e.peer.ip, 40001, 99) + 'xyz', ST_UDP)).toBe(11);
    e.sim.run(10);
    expect(recvfrom(st, a, got, 0, 16, from)).toBe(3);
    // a client UDP socket gets an ephemeral port
    const cu = e.nj.create('192.0.2.10', 40001, ST_UDP);
    expect(cu).toBeGreaterThanOrEqual(0);
    expect(cu).not.toBe(u);
    expect(e.nj.send(cu, hdr + 'more', ST_UDP)).toBe(12);
    e.sim.run(10);
    expect(recvfrom(st, a, got, 0, 16, from)).toBe(4);
    expect(str(got.subarray(0, 4))).toBe('more');
    expect(from[1]).toBeGreaterThanOrEqual(49152);
    // the answer comes back to the client socket
    expect(sendto(st, a, bytes('back'), 0, 4, IP_C, from[1])).toBe(4);
    const r2 = pollRecv(e, cu, ST_UDP, 200);
    expect((r2 as string).substring(UDP_HEADER_LEN)).toBe('back');
    e.nj.close(cu);
    e.nj.close(u);
    e.nj.close(u); // twice: harmless
    expect(e.nj.recv(u, 536, ST_UDP)).toBe(SOCKET_ERR_CLOSED);
    expect(e.nj.send(u, hdr + 'pong', ST_UDP)).toBe(SOCKET_ERR_CLOSED);
    expect(Array.from(e.c.n.udpPort)).toEqual([0, 0]);
    close(st, a);
    expectClean(e);
  });

  it('binary payloads, maxLen truncates a datagram, broadcast; with Espruino E (native conversions) too', () => {
    for (const native of [false, true]) {
      const restore = native ? installEspruinoE() : () => {};
      try {
        const e = env(native ? 3 : 2);
        const st = e.peer.h.st;
        const u = e.nj.create(undefined, 6000, ST_UDP);
        const a = socket(st, SOCK_DGRAM, 0);
        expect(bind(st, a, 0, 6001)).toBe(0);
        const all = new Uint8Array(256);
        for (let i = 0; i < 256; i++) all[i] = 255 - i;
        expect(sendto(st, a, all, 0, 256, IP_C, 6000)).toBe(256);
        const r = pollRecv(e, u, ST_UDP, 200);
        expect((r as string).length).toBe(UDP_HEADER_LEN + 256);
        expect((r as string).substring(UDP_HEADER_LEN)).toBe(str(all));
        // a datagram larger than maxLen - 8: cut, the rest discarded (recvfrom's truncation)
        expect(sendto(st, a, all, 0, 100, IP_C, 6000)).toBe(100);
        let t: string | number = '';
        e.sim.runUntil(() => (t = e.nj.recv(u, 40, ST_UDP)) !== '', 200);
        const th = bytes(t as string);
        expect(th.length).toBe(40);
        expect(th[6] | (th[7] << 8)).toBe(32);
        expect(str(th.subarray(8))).toBe(str(all.subarray(0, 32)));
        expect(e.nj.recv(u, 536, ST_UDP)).toBe('');
        expect(e.nj.recv(u, 8, ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
        // binary out, every byte value
        expect(pollSend(e, u, udpHdr(e.peer.ip, 6001, 256) + str(all), ST_UDP, 200)).toBe(264);
        e.sim.run(10);
        const got = new Uint8Array(300);
        expect(recvfrom(st, a, got, 0, 300, null)).toBe(256);
        expect(str(got.subarray(0, 256))).toBe(str(all));
        // 255.255.255.255: no ARP needed, taken at once
        expect(e.nj.send(u, udpHdr(-1, 6001, 3) + 'all', ST_UDP)).toBe(11);
        e.sim.run(10);
        expect(recvfrom(st, a, got, 0, 300, null)).toBe(3);
        // an empty datagram is sent once, not retried forever
        expect(e.nj.send(u, udpHdr(e.peer.ip, 6001, 0), ST_UDP)).toBe(8);
        e.sim.run(10);
        expect(recvfrom(st, a, got, 0, 300, null)).toBe(0);
        expect(recvfrom(st, a, got, 0, 300, null)).toBe(-EAGAIN);
        e.nj.close(u);
        close(st, a);
        expectClean(e);
      } finally {
        restore();
      }
    }
  });

  it('errors: names, TLS, bad port, port in use, table full, bad socket numbers', () => {
    const e = env(4);
    const nj = e.nj;
    expect(nj.create('example.com', 53, ST_UDP)).toBe(SOCKET_ERR_NOT_FOUND);
    expect(nj.create('192.0.2.10', 443, ST_NORMAL | ST_TLS)).toBe(SOCKET_ERR_BAD_ARG);
    expect(nj.create(undefined, 70000, ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    expect(nj.create(undefined, -1, ST_NORMAL)).toBe(SOCKET_ERR_BAD_ARG);
    expect(nj.create(undefined, 1.5, ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    const u1 = nj.create(undefined, 7000, ST_UDP);
    expect(u1).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 7000, ST_UDP)).toBe(SOCKET_ERR_BUSY);
    const u2 = nj.create('192.0.2.10', 7000, ST_UDP);
    expect(u2).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 7001, ST_UDP)).toBe(SOCKET_ERR_MAX_SOCK); // udpSocks: 2
    expect(nj.accept(u1)).toBe(-1); // UDP: nothing to accept
    expect(nj.accept(99)).toBe(-1);
    expect(nj.recv(99, 536, ST_NORMAL)).toBe(SOCKET_ERR_CLOSED);
    expect(nj.send(99, 'x', ST_NORMAL)).toBe(SOCKET_ERR_CLOSED);
    expect(nj.recv(-1, 536, ST_NORMAL)).toBe(SOCKET_ERR_CLOSED);
    expect(nj.send(u1, 12 as unknown as string, ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    // too long for one frame (no fragmentation on the small boards)
    const big = udpHdr(e.peer.ip, 7000, 1500) + str(new Uint8Array(1500));
    expect(nj.send(u1, big, ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    nj.close(99); // harmless
    nj.close(u1);
    nj.close(u2);
    const u3 = nj.create(undefined, 7000, ST_UDP);
    expect(u3).toBeGreaterThanOrEqual(0);
    // socket numbers: TCP tcbs first, then UDP sockets
    expect(u1).toBeGreaterThanOrEqual(e.c.n.cfg.tcbs);
    nj.close(u3);
    expectClean(e);
  });
});

describe('compact NetworkJS adapter: TCP', () => {
  it('server socket: create(undefined, port) listens, accept, recv/send binary strings, peer close → CLOSED', () => {
    const e = env(10);
    const st = e.peer.h.st;
    const nj = e.nj;
    const srv = nj.create(undefined, 80, ST_HTTP);
    expect(srv).toBeGreaterThanOrEqual(0);
    expect(srv).toBeLessThan(e.c.n.cfg.tcbs);
    expect(nj.accept(srv)).toBe(-1);
    const c = socket(st, SOCK_STREAM, 0);
    expect(connect(st, c, IP_C, 80)).toBe(-EINPROGRESS);
    let sc = -1;
    expect(e.sim.runUntil(() => (sc = nj.accept(srv)) >= 0, 1000)).toBe(true);
    expect(sc).not.toBe(srv);
    expect(nj.recv(sc, 536, ST_HTTP)).toBe(''); // connected, no data yet
    const all = new Uint8Array(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    e.sim.runUntil(() => send(st, c, all, 0, 256) === 256, 500);
    expect(pollRecv(e, sc, ST_HTTP, 500)).toBe(str(all));
    // maxLen is honoured
    expect(send(st, c, all, 0, 100)).toBe(100);
    e.sim.runUntil(() => false, 300);
    expect(nj.recv(sc, 60, ST_NORMAL)).toBe(str(all.subarray(0, 60)));
    expect(nj.recv(sc, 60, ST_NORMAL)).toBe(str(all.subarray(60, 100)));
    expect(nj.recv(sc, 60, ST_NORMAL)).toBe('');
    expect(nj.send(sc, str(all), ST_NORMAL)).toBe(256);
    expect(nj.send(sc, '', ST_NORMAL)).toBe(0);
    e.sim.run(50);
    const got = new Uint8Array(300);
    expect(recv(st, c, got, 0, 300)).toBe(256);
    expect(str(got.subarray(0, 256))).toBe(str(all));
    // the client closes: recv answers SOCKET_ERR_CLOSED and Espruino closes its socket
    expect(close(st, c)).toBe(0);
    expect(pollRecv(e, sc, ST_NORMAL, 1000)).toBe(SOCKET_ERR_CLOSED);
    nj.close(sc);
    nj.close(srv);
    expectClean(e);
  });

  it('client socket: NO_CONN while connecting, send 0 until connected, then data both ways', () => {
    const e = env(11);
    const st = e.peer.h.st;
    const nj = e.nj;
    const l = socket(st, SOCK_STREAM, 0);
    expect(bind(st, l, 0, 8080)).toBe(0);
    expect(listen(st, l, 2)).toBe(0);
    const c = nj.create('192.0.2.10', 8080, ST_NORMAL, {});
    expect(c).toBeGreaterThanOrEqual(0);
    expect(nj.recv(c, 536, ST_NORMAL)).toBe(SOCKET_ERR_NO_CONN);
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_NORMAL)).toBe(0); // not taken: socketserver.c would think it connected
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(e.sim.runUntil(() => (r = nj.recv(c, 536, ST_NORMAL)) !== SOCKET_ERR_NO_CONN, 3000)).toBe(true);
    expect(r).toBe(''); // connected → socketserver.c fires 'connect'
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_NORMAL)).toBe(18);
    let s = -1;
    expect(e.sim.runUntil(() => (s = accept(st, l, null)) >= 0, 500)).toBe(true);
    const got = new Uint8Array(100);
    let g = -EAGAIN;
    expect(e.sim.runUntil(() => (g = recv(st, s, got, 0, 100)) !== -EAGAIN, 500)).toBe(true);
    expect(g).toBe(18);
    expect(str(got.subarray(0, 18))).toBe('GET / HTTP/1.0\r\n\r\n');
    const reply = bytes('HTTP/1.0 200 OK\r\n\r\nhi');
    expect(send(st, s, reply, 0, reply.length)).toBe(reply.length);
    expect(close(st, s)).toBe(0);
    expect(pollRecv(e, c, ST_NORMAL, 1000)).toBe(str(reply));
    expect(pollRecv(e, c, ST_NORMAL, 1000)).toBe(SOCKET_ERR_CLOSED);
    nj.close(c);
    close(st, l);
    expectClean(e);
  });

  it('a larger exchange the way socketserver.c chunks it (send consumes part, the rest is retried), both directions, with E', () => {
    const restore = installEspruinoE();
    try {
      const e = env(12, false, { tcpBuf: 1024 });
      const st = e.peer.h.st;
      const nj = e.nj;
      const srv = nj.create(undefined, 81, ST_NORMAL);
      const c = socket(st, SOCK_STREAM, 0);
      expect(connect(st, c, IP_C, 81)).toBe(-EINPROGRESS);
      let sc = -1;
      expect(e.sim.runUntil(() => (sc = nj.accept(srv)) >= 0, 1000)).toBe(true);
      const data = str(pattern(20000, 9));
      const up = pattern(12000, 5);
      let pending = data;
      let got = '';
      let gotUp = '';
      let upOff = 0;
      const buf = new Uint8Array(2048);
      let partial = 0;
      for (let t = 0; t < 20000 && (got.length < data.length || gotUp.length < up.length); t++) {
        if (pending.length > 0) {
          const chunk = pending.substring(0, 536); // net->chunkSize
          const k = nj.send(sc, chunk, ST_NORMAL);
          expect(k).toBeGreaterThanOrEqual(0);
          if (k > 0 && k < chunk.length) partial++;
          pending = pending.substring(k);
        }
        if (upOff < up.length) {
          const k = send(st, c, up, upOff, Math.min(1000, up.length - upOff));
          if (k > 0) upOff += k;
        }
        for (;;) {
          const r = recv(st, c, buf, 0, buf.length);
          if (r <= 0) break;
          got += str(buf.subarray(0, r));
        }
        for (;;) {
          const r = nj.recv(sc, 536, ST_NORMAL);
          if (typeof r !== 'string' || r === '') break;
          gotUp += r;
        }
        e.sim.run(1);
      }
      expect(got.length).toBe(data.length);
      expect(got === data).toBe(true);
      expect(gotUp === str(up)).toBe(true);
      expect(partial).toBeGreaterThan(0); // a 1024-byte ring cannot take every 536-byte chunk whole
      nj.close(sc);
      nj.close(srv);
      const b = new Uint8Array(64);
      let r = -EAGAIN;
      e.sim.runUntil(() => (r = recv(st, c, b, 0, 64)) !== -EAGAIN, 2000);
      expect(r).toBe(0); // the adapter's close reached the peer (FIN)
      close(st, c);
      expectClean(e);
    } finally {
      restore();
    }
  });

  it('connect to a closed port: recv reports a reset (not NO_CONN, which would wait forever)', () => {
    const e = env(13);
    const c = e.nj.create('192.0.2.10', 9, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(pollRecv(e, c, ST_NORMAL, 3000)).toBe(SOCKET_ERR_RESET);
    expect(e.nj.send(c, 'x', ST_NORMAL)).toBe(SOCKET_ERR_RESET);
    e.nj.close(c);
    expectClean(e);
  });

  it('against the general stack\'s TCP echo service: several connections at once, each echoed whole', () => {
    const e = env(15);
    const mux = new ServiceMux(e.peer.h.st);
    const echo = new TcpEchoService(e.peer.h.st, 7, 4, 512, 60000);
    mux.add(echo);
    expect(mux.start()).toBe(0);
    e.sim.addTicker({ onTick: () => mux.run() });
    const nj = e.nj;
    const socks: number[] = [];
    for (let i = 0; i < 3; i++) socks.push(nj.create('192.0.2.10', 7, ST_NORMAL));
    expect(new Set(socks).size).toBe(3);
    const out = socks.map((_, i) => str(pattern(3000, 100 + i)));
    const sent = [0, 0, 0];
    const got = ['', '', ''];
    e.sim.runUntil(() => {
      for (let i = 0; i < 3; i++) {
        if (sent[i] < out[i].length) {
          const k = nj.send(socks[i], out[i].substring(sent[i], sent[i] + 536), ST_NORMAL);
          expect(k).toBeGreaterThanOrEqual(0);
          sent[i] += k;
        }
        const r = nj.recv(socks[i], 536, ST_NORMAL);
        if (typeof r === 'string') got[i] += r;
        else expect(r).toBe(SOCKET_ERR_NO_CONN);
      }
      return got.every((g, i) => g.length === out[i].length);
    }, 20000);
    for (let i = 0; i < 3; i++) expect(got[i] === out[i], 'connection ' + i).toBe(true);
    for (const s of socks) nj.close(s);
    e.sim.run(1000);
    expect(echo.accepted).toBe(3);
    mux.stop();
    expectClean(e);
  });

  it('listener errors: port in use, every tcb taken', () => {
    const e = env(14);
    const nj = e.nj;
    const s1 = nj.create(undefined, 80, ST_NORMAL);
    expect(s1).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 80, ST_NORMAL)).toBe(SOCKET_ERR_BUSY);
    const s2 = nj.create(undefined, 81, ST_NORMAL);
    const s3 = nj.create(undefined, 82, ST_NORMAL);
    expect(s2).toBeGreaterThanOrEqual(0);
    expect(s3).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 83, ST_NORMAL)).toBe(SOCKET_ERR_MAX_SOCK); // tcbs: 3
    nj.close(s1);
    nj.close(s2);
    nj.close(s3);
    expectClean(e);
  });
});

describe('compact NetworkJS adapter: host names', () => {
  it('a TCP client to a name: NO_CONN during the lookup, then it connects and carries data', () => {
    const e = env(20, true);
    const st = e.peer.h.st;
    const nj = e.nj;
    const l = socket(st, SOCK_STREAM, 0);
    expect(bind(st, l, 0, 8080)).toBe(0);
    expect(listen(st, l, 2)).toBe(0);
    const c = nj.create('peer.example', 8080, ST_HTTP);
    expect(c).toBeGreaterThanOrEqual(e.c.n.cfg.tcbs + e.c.n.cfg.udpSocks); // a name slot
    expect(nj.recv(c, 536, ST_HTTP)).toBe(SOCKET_ERR_NO_CONN);
    expect(nj.send(c, 'hello', ST_HTTP)).toBe(0);
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(e.sim.runUntil(() => (r = nj.recv(c, 536, ST_HTTP)) !== SOCKET_ERR_NO_CONN, 5000)).toBe(true);
    expect(r).toBe('');
    expect(e.dns!.srv.queries).toBe(1);
    expect(nj.send(c, 'hello', ST_HTTP)).toBe(5);
    let s = -1;
    expect(e.sim.runUntil(() => (s = accept(st, l, null)) >= 0, 500)).toBe(true);
    const got = new Uint8Array(16);
    let g = -EAGAIN;
    expect(e.sim.runUntil(() => (g = recv(st, s, got, 0, 16)) !== -EAGAIN, 500)).toBe(true);
    expect(str(got.subarray(0, g))).toBe('hello');
    expect(send(st, s, bytes('world'), 0, 5)).toBe(5);
    expect(pollRecv(e, c, ST_HTTP, 1000)).toBe('world');
    // our close reaches the peer through the slot's tcb
    nj.close(c);
    expect(e.sim.runUntil(() => (g = recv(st, s, got, 0, 16)) !== -EAGAIN, 1000)).toBe(true);
    expect(g).toBe(0);
    close(st, s);
    close(st, l);
    expectClean(e);
  });

  it('lookup failures: no such name → NOT_FOUND, no answer → TIMEOUT, no server → an error at once or later', () => {
    const e = env(21, true);
    const nj = e.nj;
    const c = nj.create('nowhere.example', 80, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(pollRecv(e, c, ST_NORMAL, 10000)).toBe(SOCKET_ERR_NOT_FOUND);
    expect(nj.send(c, 'x', ST_NORMAL)).toBe(SOCKET_ERR_NOT_FOUND);
    nj.close(c);
    e.dns!.srv.mode = DNS_SRV_DROP;
    const d = nj.create('peer.example', 80, ST_NORMAL);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(pollRecv(e, d, ST_NORMAL, 60000)).toBe(SOCKET_ERR_TIMEOUT);
    nj.close(d);
    // no DNS server configured
    const f = env(22, false);
    expect(f.nj.create('peer.example', 80, ST_NORMAL)).toBe(SOCKET_ERR_TIMEOUT); // at once (EAI_NOSERVERS)
    expect(f.nj.create('bad..name', 80, ST_NORMAL)).toBe(SOCKET_ERR_NOT_FOUND);
    expectClean(e);
    expectClean(f);
  });

  it('name slots: a fixed table; a slot closed during its lookup ignores the late answer', () => {
    const e = env(23, true);
    const nj = e.nj;
    const st = e.peer.h.st;
    const l = socket(st, SOCK_STREAM, 0);
    expect(bind(st, l, 0, 8080)).toBe(0);
    expect(listen(st, l, 2)).toBe(0);
    // closed during its lookup, the slot reused at once for a name that does not exist:
    // the first lookup's answer (an address) must not connect the second owner
    const k0 = nj.create('peer.example', 8080, ST_NORMAL);
    expect(k0).toBeGreaterThanOrEqual(e.c.n.cfg.tcbs + e.c.n.cfg.udpSocks);
    nj.close(k0);
    const k1 = nj.create('nowhere.example', 8080, ST_NORMAL);
    expect(k1).toBe(k0);
    expect(pollRecv(e, k1, ST_NORMAL, 5000)).toBe(SOCKET_ERR_NOT_FOUND);
    nj.close(k1);
    e.sim.run(100);
    // NJ_NAMES slots at once, each following its own create
    const slots: number[] = [];
    for (let i = 0; i < NJ_NAMES; i++) {
      const k = nj.create('peer.example', i === 0 ? 8080 : 9, ST_NORMAL);
      expect(k).toBeGreaterThanOrEqual(0);
      slots.push(k);
    }
    expect(new Set(slots).size).toBe(NJ_NAMES);
    expect(nj.create('peer.example', 8080, ST_NORMAL)).toBe(SOCKET_ERR_MAX_SOCK);
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(e.sim.runUntil(() => (r = nj.recv(slots[0], 536, ST_NORMAL)) !== SOCKET_ERR_NO_CONN, 5000)).toBe(true);
    expect(r).toBe('');
    expect(pollRecv(e, slots[1], ST_NORMAL, 5000)).toBe(SOCKET_ERR_RESET); // port 9: refused
    nj.close(slots[0]);
    nj.close(slots[1]);
    e.sim.run(100);
    // a free name slot but every resolver slot still busy with closed owners' lookups: out of sockets
    const a = nj.create('peer.example', 8080, ST_NORMAL);
    const b = nj.create('peer.example', 8080, ST_NORMAL);
    nj.close(a);
    expect(nj.create('peer.example', 8080, ST_NORMAL)).toBe(SOCKET_ERR_MAX_SOCK);
    nj.close(b);
    let s = -1;
    while ((s = accept(st, l, null)) >= 0) close(st, s);
    close(st, l);
    e.sim.run(2000);
    // every tcb is back once the closes are done
    for (let i = 0; i < e.c.n.cfg.tcbs; i++) expect(nj.create(undefined, 100 + i, ST_NORMAL)).toBeGreaterThanOrEqual(0);
  });

  it('a dotted quad needs no lookup and no name slot', () => {
    const e = env(24, true);
    const c = e.nj.create('192.0.2.10', 8080, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThan(e.c.n.cfg.tcbs);
    e.sim.run(100);
    expect(e.dns!.srv.queries).toBe(0);
    e.nj.close(c);
    expectClean(e);
  });
});
