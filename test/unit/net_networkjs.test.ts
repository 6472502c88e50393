/*
 * net_networkjs.test.ts — the Espruino NetworkJS adapter
 * (src/socket/networkjs.ts), driven the way Espruino's socketserver.c
 * drives it: create / accept / recv / send / close polled from an idle
 * loop, binary strings, SocketError codes. One stack uses the adapter,
 * the other the plain socket API, over a PairLink.
 */
import { describe, it, expect } from 'vitest';
import {
  networkJs, NetworkJs, ST_NORMAL, ST_HTTP, ST_UDP, ST_TLS, SOCKET_ERR_CLOSED, SOCKET_ERR_NO_CONN, SOCKET_ERR_RESET,
  SOCKET_ERR_NOT_FOUND, SOCKET_ERR_BAD_ARG, SOCKET_ERR_BUSY, SOCKET_ERR_MAX_SOCK, UDP_HEADER_LEN, socketErrorOf,
} from '../../src/socket/networkjs';
import {
  socket, bind, listen, accept, connect, send, recv, sendto, recvfrom, close, getsockname, SOCK_STREAM, SOCK_DGRAM,
} from '../../src/socket/socket';
import { EINPROGRESS, EAGAIN, ETIMEDOUT, ENETUNREACH } from '../../src/core/errno';
import { tcpPair, run, runUntil, pattern, IP_A, IP_B, TEnv } from './tcp_util';
import { expectAllClean } from './socket_tcp_util';

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

/** Poll recv like Espruino's idle loop until it returns something other than '' (or time runs out). */
function pollRecv(e: TEnv, nj: NetworkJs, sckt: number, type: number, maxMs: number): string | number {
  let r: string | number = '';
  runUntil(e, () => {
    r = nj.recv(sckt, 536, type);
    return r !== '' && r !== SOCKET_ERR_NO_CONN;
  }, maxMs);
  return r;
}

describe('NetworkJS adapter', () => {
  it('server socket: create(undefined, port) listens, accept, recv/send binary strings, peer close → CLOSED', () => {
    const e = tcpPair();
    const nj = networkJs(e.b);
    const srv = nj.create(undefined, 80, ST_HTTP);
    expect(srv).toBeGreaterThanOrEqual(0);
    expect(nj.accept(srv)).toBe(-1);
    const c = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, c, IP_B, 80)).toBe(-EINPROGRESS);
    let sc = -1;
    expect(runUntil(e, () => (sc = nj.accept(srv)) >= 0, 1000)).toBe(true);
    expect(nj.recv(sc, 536, ST_HTTP)).toBe(''); // connected, no data yet
    const all = new Uint8Array(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    expect(send(e.a, c, all, 0, 256)).toBe(256);
    const r = pollRecv(e, nj, sc, ST_HTTP, 500);
    expect(r).toBe(str(all));
    // maxLen is honoured
    expect(send(e.a, c, all, 0, 100)).toBe(100);
    run(e, 60); // Nagle: held until the delayed ACK of the first 256 bytes
    expect(nj.recv(sc, 60, ST_NORMAL)).toBe(str(all.subarray(0, 60)));
    expect(nj.recv(sc, 60, ST_NORMAL)).toBe(str(all.subarray(60, 100)));
    expect(nj.send(sc, str(all), ST_NORMAL)).toBe(256);
    expect(nj.send(sc, '', ST_NORMAL)).toBe(0);
    run(e, 20);
    const got = new Uint8Array(300);
    expect(recv(e.a, c, got, 0, 300)).toBe(256);
    expect(str(got.subarray(0, 256))).toBe(str(all));
    // the client closes: recv answers SOCKET_ERR_CLOSED and Espruino closes its socket
    expect(close(e.a, c)).toBe(0);
    expect(pollRecv(e, nj, sc, ST_NORMAL, 500)).toBe(SOCKET_ERR_CLOSED);
    nj.close(sc);
    nj.close(srv);
    expectAllClean(e);
  });

  it('client socket: NO_CONN while connecting, send 0 until connected, then data both ways', () => {
    const e = tcpPair();
    const l = socket(e.b, SOCK_STREAM, 0);
    expect(bind(e.b, l, 0, 8080)).toBe(0);
    expect(listen(e.b, l, 2)).toBe(0);
    const nj = networkJs(e.a);
    const c = nj.create('192.0.2.2', 8080, ST_NORMAL, {});
    expect(c).toBeGreaterThanOrEqual(0);
    expect(nj.recv(c, 536, ST_NORMAL)).toBe(SOCKET_ERR_NO_CONN);
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_NORMAL)).toBe(0); // not taken: socketserver.c would think it connected
    run(e, 10);
    expect(nj.recv(c, 536, ST_NORMAL)).toBe(''); // connected → socketserver.c fires 'connect'
    expect(nj.send(c, 'GET / HTTP/1.0\r\n\r\n', ST_NORMAL)).toBe(18);
    let s = -1;
    expect(runUntil(e, () => (s = accept(e.b, l, null)) >= 0, 500)).toBe(true);
    run(e, 10);
    const got = new Uint8Array(100);
    expect(recv(e.b, s, got, 0, 100)).toBe(18);
    expect(str(got.subarray(0, 18))).toBe('GET / HTTP/1.0\r\n\r\n');
    const reply = bytes('HTTP/1.0 200 OK\r\n\r\nhi');
    expect(send(e.b, s, reply, 0, reply.length)).toBe(reply.length);
    expect(close(e.b, s)).toBe(0);
    expect(pollRecv(e, nj, c, ST_NORMAL, 500)).toBe(str(reply));
    expect(pollRecv(e, nj, c, ST_NORMAL, 500)).toBe(SOCKET_ERR_CLOSED);
    nj.close(c);
    expectAllClean(e);
  });

  it('a larger exchange the way socketserver.c chunks it (send consumes part, the rest is retried)', () => {
    const e = tcpPair({ tcpSndBuf: 4096, tcpRcvBuf: 4096 });
    const nj = networkJs(e.b);
    const srv = nj.create(undefined, 81, ST_NORMAL);
    const c = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, c, IP_B, 81)).toBe(-EINPROGRESS);
    let sc = -1;
    expect(runUntil(e, () => (sc = nj.accept(srv)) >= 0, 1000)).toBe(true);
    const data = str(pattern(30000, 9));
    let pending = data;
    let got = '';
    const buf = new Uint8Array(2048);
    let partial = 0;
    for (let t = 0; t < 20000 && got.length < data.length; t++) {
      if (pending.length > 0) {
        const chunk = pending.substring(0, 536); // net->chunkSize
        const n = nj.send(sc, chunk, ST_NORMAL);
        expect(n).toBeGreaterThanOrEqual(0);
        if (n > 0 && n < chunk.length) partial++;
        pending = pending.substring(n);
      }
      for (;;) {
        const r = recv(e.a, c, buf, 0, buf.length);
        if (r <= 0) break;
        got += str(buf.subarray(0, r));
      }
      run(e, 1);
    }
    expect(got.length).toBe(data.length);
    expect(got === data).toBe(true);
    expect(partial + (data.length > 4096 ? 1 : 0)).toBeGreaterThan(0);
    nj.close(sc);
    nj.close(srv);
    expect(pollRecvA(e, c)).toBe(0);
    expectAllClean(e);
  });

  it('connect to a closed port: recv reports a reset (not NO_CONN, which would wait forever)', () => {
    const e = tcpPair();
    const nj = networkJs(e.a);
    const c = nj.create('192.0.2.2', 9, ST_NORMAL);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(pollRecv(e, nj, c, ST_NORMAL, 500)).toBe(SOCKET_ERR_RESET);
    nj.close(c);
    expectAllClean(e);
  });

  it('UDP: server socket receives with the 8-byte header, answers through a header', () => {
    const e = tcpPair();
    const nj = networkJs(e.b);
    const u = nj.create(undefined, 5000, ST_UDP);
    expect(u).toBeGreaterThanOrEqual(0);
    expect(nj.recv(u, 536, ST_UDP)).toBe('');
    const a = socket(e.a, SOCK_DGRAM, 0);
    expect(bind(e.a, a, 0, 40001)).toBe(0);
    expect(sendto(e.a, a, bytes('ping!'), 0, 5, IP_B, 5000)).toBe(5);
    const r = pollRecv(e, nj, u, ST_UDP, 200);
    expect(typeof r).toBe('string');
    const h = bytes(r as string);
    expect(Array.from(h.subarray(0, 4))).toEqual([192, 0, 2, 1]);
    expect(h[4] | (h[5] << 8)).toBe(40001);
    expect(h[6] | (h[7] << 8)).toBe(5);
    expect(str(h.subarray(UDP_HEADER_LEN))).toBe('ping!');
    // reply: header (192.0.2.1, 40001 LE, length 4 LE) + payload
    const hdr = String.fromCharCode(192, 0, 2, 1, 40001 & 0xff, 40001 >>> 8, 4, 0);
    expect(nj.send(u, hdr + 'pong', ST_UDP)).toBe(12);
    expect(nj.send(u, 'short', ST_UDP)).toBe(SOCKET_ERR_BAD_ARG);
    run(e, 10);
    const got = new Uint8Array(16);
    const from = new Int32Array(2);
    expect(recvfrom(e.a, a, got, 0, 16, from)).toBe(4);
    expect(str(got.subarray(0, 4))).toBe('pong');
    expect(from[0]).toBe(IP_B);
    expect(from[1]).toBe(5000);
    // a client UDP socket gets an ephemeral port
    const cu = nj.create('192.0.2.1', 40001, ST_UDP);
    const nm = new Uint32Array(2);
    expect(getsockname(e.b, cu, nm)).toBe(0);
    expect(nm[1]).toBeGreaterThan(0);
    expect(nj.send(cu, hdr + 'more', ST_UDP)).toBe(12);
    run(e, 10);
    expect(recvfrom(e.a, a, got, 0, 16, from)).toBe(4);
    expect(from[1]).toBe(nm[1]);
    nj.close(cu);
    nj.close(u);
    close(e.a, a);
    expectAllClean(e);
  });

  it('errors: bad host, TLS, bad port, port in use, table full, bad socket numbers', () => {
    const e = tcpPair({ maxSockets: 3 });
    const nj = networkJs(e.b);
    expect(nj.create('example.com', 80, ST_NORMAL)).toBe(SOCKET_ERR_NOT_FOUND);
    expect(nj.create('192.0.2.1', 443, ST_NORMAL | ST_TLS)).toBe(SOCKET_ERR_BAD_ARG);
    expect(nj.create(undefined, 70000, ST_NORMAL)).toBe(SOCKET_ERR_BAD_ARG);
    const s1 = nj.create(undefined, 80, ST_NORMAL);
    expect(s1).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 80, ST_NORMAL)).toBe(SOCKET_ERR_BUSY);
    const s2 = nj.create(undefined, 81, ST_NORMAL);
    const s3 = nj.create(undefined, 82, ST_UDP);
    expect(s2).toBeGreaterThanOrEqual(0);
    expect(s3).toBeGreaterThanOrEqual(0);
    expect(nj.create(undefined, 83, ST_NORMAL)).toBe(SOCKET_ERR_MAX_SOCK);
    expect(nj.accept(s3)).toBe(-1); // UDP: nothing to accept
    expect(nj.recv(99, 536, ST_NORMAL)).toBe(SOCKET_ERR_CLOSED);
    expect(nj.send(99, 'x', ST_NORMAL)).toBe(SOCKET_ERR_CLOSED);
    expect(socketErrorOf(-ETIMEDOUT)).toBe(-3);
    expect(socketErrorOf(-ENETUNREACH)).toBe(-4);
    expect(socketErrorOf(-EAGAIN)).toBe(-10);
    nj.close(s1);
    nj.close(s2);
    nj.close(s3);
    nj.close(s3); // twice: harmless
    expectAllClean(e);
  });
});

/** Read what is left on A's fd c: 0 once the adapter's close reached it (EOF). */
function pollRecvA(e: TEnv, c: number): number {
  const b = new Uint8Array(64);
  let r = -EAGAIN;
  runUntil(e, () => {
    r = recv(e.a, c, b, 0, 64);
    return r !== -EAGAIN;
  }, 1000);
  return r;
}
