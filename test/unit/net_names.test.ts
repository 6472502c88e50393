/*
 * net_names.test.ts — host names in the `net` facade (src/socket/net.ts)
 * and the Espruino NetworkJS adapter (src/socket/networkjs.ts) through
 * the stack's resolver (st.resolver, src/stack.ts NameResolver; the first
 * DnsResolver made on a stack installs itself). Stack B serves DNS
 * (src/apps/dns_server.ts) and listens on TCP; stack A connects by name.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, IP_B, TEnv } from './tcp_util';
import { expectAllClean } from './socket_tcp_util';
import { connect as netConnect, Socket, NetError } from '../../src/socket/net';
import { networkJs, ST_NORMAL, ST_HTTP, ST_UDP, SOCKET_ERR_NO_CONN, SOCKET_ERR_NOT_FOUND, SOCKET_ERR_TIMEOUT, SOCKET_ERR_CLOSED } from '../../src/socket/networkjs';
import { socket, bind, listen, accept, send, recv, close, SOCK_STREAM } from '../../src/socket/socket';
import { DnsResolver } from '../../src/apps/dns_resolver';
import { DnsServer, DNS_SRV_DROP } from '../../src/apps/dns_server';
import { ServiceMux } from '../../src/apps/service';
import { EAI_NONAME, EAI_AGAIN } from '../../src/wire/dns';
import { EAGAIN } from '../../src/core/errno';

interface NEnv {
  e: TEnv;
  mux: ServiceMux;
  srv: DnsServer;
  r: DnsResolver;
  /** listening fd on B:8080 */
  l: number;
}

function env(): NEnv {
  const e = tcpPair();
  const mux = new ServiceMux(e.b);
  const srv = new DnsServer(e.b, 53, 8);
  srv.addA('host.lan', IP_B, 300);
  srv.addCname('www.lan', 'host.lan', 300);
  mux.add(srv);
  expect(mux.start()).toBe(0);
  const r = new DnsResolver(e.a, { queryTimeoutMs: 500, attempts: 2 });
  r.setServers([IP_B]);
  const l = socket(e.b, SOCK_STREAM, 0);
  expect(bind(e.b, l, 0, 8080)).toBe(0);
  expect(listen(e.b, l, 2)).toBe(0);
  return { e, mux, srv, r, l };
}

/** Advance 1 ms steps, polling both stacks and B's DNS server, until done() or maxMs. */
function runUntil(n: NEnv, done: () => boolean, maxMs: number): boolean {
  for (let t = 0; t < maxMs; t++) {
    if (done()) return true;
    n.e.clock.advance(1);
    n.e.a.poll();
    n.e.b.poll();
    n.mux.run();
  }
  return done();
}

function finish(n: NEnv): void {
  runUntil(n, () => false, 200);
  n.mux.stop();
  close(n.e.b, n.l);
  // TIME_WAIT and FIN timeouts run out
  runUntil(n, () => false, 130000);
  expect(n.r.stats().active).toBe(0);
  expectAllClean(n.e);
}

function str(b: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
  return s;
}

describe('host names through the stack resolver', () => {
  it('the first DnsResolver on a stack becomes st.resolver; a second one does not replace it', () => {
    const n = env();
    expect(n.e.a.resolver).toBe(n.r);
    const r2 = new DnsResolver(n.e.a, {});
    expect(n.e.a.resolver).toBe(n.r);
    expect(r2.serverCount()).toBe(0);
    expect(n.e.b.resolver).toBe(null);
    finish(n);
  });

  it('net.connect(port, name): lookup through a CNAME, then connect, data both ways, close', () => {
    const n = env();
    const ev: string[] = [];
    let looked: string | undefined;
    const s: Socket = netConnect(n.e.a, 8080, 'www.lan', () => ev.push('connect'));
    s.on('lookup', (err: Error | null, addr?: string) => {
      ev.push('lookup');
      expect(err).toBe(null);
      looked = addr;
    });
    let got = '';
    s.on('data', (d: Uint8Array) => (got += str(d, d.length)));
    s.on('close', () => ev.push('close'));
    expect(s.connecting).toBe(true);
    let fd = -1;
    expect(runUntil(n, () => (fd >= 0 || (fd = accept(n.e.b, n.l, null)) >= 0) && ev.includes('connect'), 3000)).toBe(true);
    expect(looked).toBe('192.0.2.2');
    expect(ev.slice(0, 2)).toEqual(['lookup', 'connect']);
    expect(s.remoteAddress).toBe('192.0.2.2');
    expect(n.r.stats().resolved).toBe(1);
    s.write('ping');
    const b = new Uint8Array(16);
    let k = -EAGAIN;
    expect(runUntil(n, () => (k = recv(n.e.b, fd, b, 0, 16)) > 0, 1000)).toBe(true);
    expect(str(b, k)).toBe('ping');
    expect(send(n.e.b, fd, new Uint8Array([0x70, 0x6f, 0x6e, 0x67]), 0, 4)).toBe(4);
    expect(runUntil(n, () => got.length === 4, 1000)).toBe(true);
    expect(got).toBe('pong');
    s.end();
    close(n.e.b, fd);
    expect(runUntil(n, () => ev.includes('close'), 3000)).toBe(true);
    // the second connect to the same name is a cache hit: answered inside resolveWith
    const s2 = netConnect(n.e.a, 8080, 'www.lan');
    let c2 = false;
    s2.on('connect', () => (c2 = true));
    let fd2 = -1;
    expect(runUntil(n, () => (fd2 >= 0 || (fd2 = accept(n.e.b, n.l, null)) >= 0) && c2, 3000)).toBe(true);
    expect(n.r.stats().cacheHits).toBe(1);
    expect(n.srv.queries).toBe(1);
    s2.destroy();
    close(n.e.b, fd2);
    finish(n);
  });

  it('net.connect to a name that does not exist: error ENOTFOUND (errno EAI_NONAME), no SYN sent', () => {
    const n = env();
    const s = netConnect(n.e.a, 8080, 'nosuch.lan');
    let err: NetError | null = null;
    let closed = false;
    s.on('error', (e: NetError) => (err = e));
    s.on('close', () => (closed = true));
    expect(runUntil(n, () => closed, 3000)).toBe(true);
    const e = err as unknown as NetError;
    expect(e.code).toBe('ENOTFOUND');
    expect(e.errno).toBe(EAI_NONAME);
    expect(e.message).toBe('getaddrinfo ENOTFOUND nosuch.lan');
    expect(n.e.a.tcp.mibB.get('ActiveOpens')).toBe(0);
    finish(n);
  });

  it('net.connect when the server never answers: error EAI_AGAIN after the retries', () => {
    const n = env();
    n.srv.mode = DNS_SRV_DROP;
    const s = netConnect(n.e.a, 8080, 'www.lan');
    let err: NetError | null = null;
    s.on('error', (e: NetError) => (err = e));
    expect(runUntil(n, () => err !== null, 10000)).toBe(true);
    expect((err as unknown as NetError).code).toBe('EAI_AGAIN');
    expect((err as unknown as NetError).errno).toBe(EAI_AGAIN);
    expect(n.srv.queries).toBe(2);
    finish(n);
  });

  it('destroy() during the lookup cancels it: no callback, no connection, the query slot is free', () => {
    const n = env();
    n.srv.mode = DNS_SRV_DROP;
    const s = netConnect(n.e.a, 8080, 'www.lan');
    let events = 0;
    s.on('lookup', () => events++);
    s.on('connect', () => events++);
    runUntil(n, () => false, 100);
    expect(n.r.stats().active).toBe(1);
    s.destroy();
    expect(n.r.stats().active).toBe(0);
    n.srv.mode = 0;
    runUntil(n, () => false, 3000);
    expect(events).toBe(0);
    expect(n.e.a.tcp.mibB.get('ActiveOpens')).toBe(0);
    finish(n);
  });

  it('without a resolver a name is ENOTFOUND at once, as before', () => {
    const e = tcpPair();
    const s = netConnect(e.a, 8080, 'www.lan');
    let err: NetError | null = null;
    s.on('error', (x: NetError) => (err = x));
    for (let i = 0; i < 20 && err === null; i++) {
      e.clock.advance(1);
      e.a.poll();
    }
    expect((err as unknown as NetError).code).toBe('ENOTFOUND');
    expectAllClean(e);
  });
});

describe('NetworkJS adapter: create() with a host name (http.get("http://name/...") on a board)', () => {
  it('NO_CONN and send 0 while the name is looked up, then connected: data both ways', () => {
    const n = env();
    const nj = networkJs(n.e.a);
    const c = nj.create('www.lan', 8080, ST_HTTP);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(nj.recv(c, 536, ST_HTTP)).toBe(SOCKET_ERR_NO_CONN);
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_HTTP)).toBe(0);
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(runUntil(n, () => (r = nj.recv(c, 536, ST_HTTP)) !== SOCKET_ERR_NO_CONN, 3000)).toBe(true);
    expect(r).toBe(''); // connected: socketserver.c fires 'connect'
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_HTTP)).toBe(18);
    let fd = -1;
    expect(runUntil(n, () => (fd = accept(n.e.b, n.l, null)) >= 0, 1000)).toBe(true);
    const b = new Uint8Array(64);
    let k = -EAGAIN;
    expect(runUntil(n, () => (k = recv(n.e.b, fd, b, 0, 64)) > 0, 1000)).toBe(true);
    expect(str(b, k)).toBe('GET / HTTP/1.0\r\n\r\n');
    const reply = new Uint8Array([0x68, 0x69]);
    expect(send(n.e.b, fd, reply, 0, 2)).toBe(2);
    expect(close(n.e.b, fd)).toBe(0);
    expect(runUntil(n, () => (r = nj.recv(c, 536, ST_HTTP)) !== '', 1000)).toBe(true);
    expect(r).toBe('hi');
    expect(runUntil(n, () => (r = nj.recv(c, 536, ST_HTTP)) !== '', 1000)).toBe(true);
    expect(r).toBe(SOCKET_ERR_CLOSED);
    nj.close(c);
    finish(n);
  });

  it('a name that does not exist: the socket reports NOT_FOUND (recv and send); no server: TIMEOUT', () => {
    const n = env();
    const nj = networkJs(n.e.a);
    const c = nj.create('nosuch.lan', 80, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(runUntil(n, () => (r = nj.recv(c, 536, ST_NORMAL)) !== SOCKET_ERR_NO_CONN, 3000)).toBe(true);
    expect(r).toBe(SOCKET_ERR_NOT_FOUND);
    expect(nj.send(c, 'x', ST_NORMAL)).toBe(SOCKET_ERR_NOT_FOUND);
    nj.close(c);
    n.srv.mode = DNS_SRV_DROP;
    const c2 = nj.create('other.lan', 80, ST_NORMAL);
    expect(c2).toBeGreaterThanOrEqual(0);
    expect(runUntil(n, () => (r = nj.recv(c2, 536, ST_NORMAL)) !== SOCKET_ERR_NO_CONN, 10000)).toBe(true);
    expect(r).toBe(SOCKET_ERR_TIMEOUT);
    nj.close(c2);
    expect(n.e.a.tcp.mibB.get('ActiveOpens')).toBe(0);
    finish(n);
  });

  it('close() during the lookup cancels it; the fd is reused cleanly; UDP names stay NOT_FOUND', () => {
    const n = env();
    const nj = networkJs(n.e.a);
    n.srv.mode = DNS_SRV_DROP;
    const c = nj.create('www.lan', 8080, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    runUntil(n, () => false, 50);
    expect(n.r.stats().active).toBe(1);
    nj.close(c);
    expect(n.r.stats().active).toBe(0);
    n.srv.mode = 0;
    // the same fd number again, by address: nothing of the old lookup is left on it
    const c2 = nj.create('192.0.2.2', 8080, ST_NORMAL);
    expect(c2).toBe(c);
    let r: string | number = SOCKET_ERR_NO_CONN;
    expect(runUntil(n, () => (r = nj.recv(c2, 536, ST_NORMAL)) !== SOCKET_ERR_NO_CONN, 1000)).toBe(true);
    expect(r).toBe('');
    nj.close(c2);
    expect(nj.create('www.lan', 9, ST_UDP)).toBe(SOCKET_ERR_NOT_FOUND);
    // the pending connection on B is reset or accepted and closed
    const fd = accept(n.e.b, n.l, null);
    if (fd >= 0) close(n.e.b, fd);
    finish(n);
  });
});
