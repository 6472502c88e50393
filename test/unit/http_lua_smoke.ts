/*
 * http_lua_smoke.ts — the TCP services smoke that runs unchanged on Node
 * (test/unit/http_lua.test.ts) and on Lua 5.3 (typescript-to-lua bundle
 * whose entry is test/unit/http_lua_main.ts): two stacks on a PairLink,
 * HttpService and TcpEchoService on B through a ServiceMux (the sockets
 * API), a client on A's TCP API: GET /bytes/20000 (pattern checked),
 * a chunked POST /upload on the same connection, a 404, then an echo
 * connection; everything closed, every TCB, fd and skb free. Both
 * runtimes must print the same summary. Not a test file.
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { s32 } from '../../src/core/bits';
import type { StackConfig } from '../../src/config';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { neighAddStatic } from '../../src/link/arp';
import { tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, SHUT_WR } from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { ServiceMux } from '../../src/apps/service';
import { HttpService, HTTP_PORT, defaultHttpOptions } from '../../src/apps/http';
import { TcpEchoService, TCP_ECHO_PORT } from '../../src/apps/tcp_echo';
import { httpHeaderEnd, putStr, patternByte, parseDec } from '../../src/apps/http_parse';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('http smoke: ' + what);
}

class Env {
  readonly clock = new ManualClock(1000);
  readonly a: Stack;
  readonly b: Stack;
  readonly mux: ServiceMux;
  readonly ipB = s32(0xc0000202);
  readonly buf = new Uint8Array(32768);
  n = 0;
  constructor() {
    const over: Partial<StackConfig> = {
      skbSmallCount: 32, skbLargeCount: 1, skbLargeSize: 2048, tcpMaxSockets: 6, tcpSndBuf: 4096,
      tcpRcvBuf: 4096, tcpMslMs: 1000, tcpSynQueue: 2, tcpTimeWaitSlots: 4, maxSockets: 8,
    };
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
    const o = defaultHttpOptions();
    o.maxConns = 2;
    o.hdrMax = 1024;
    o.outMax = 2048;
    o.scratch = 2048;
    this.mux.add(new HttpService(this.b, HTTP_PORT, o));
    this.mux.add(new TcpEchoService(this.b, TCP_ECHO_PORT, 1, 512, 30000));
    check(this.mux.start() === 0, 'services');
  }
  step(): void {
    this.clock.advance(1);
    this.a.poll();
    this.b.poll();
    if (this.mux.run() > 0) this.b.poll();
  }
  connect(port: number): number {
    const c = tcpSocket(this.a);
    check(tcpConnect(this.a, c, this.ipB, port) === -115, 'connect');
    for (let t = 0; t < 5000 && this.a.tcp.state[c] !== TCP_ESTABLISHED; t++) this.step();
    check(this.a.tcp.state[c] === TCP_ESTABLISHED, 'established');
    return c;
  }
  /** Send out[0..len), then read until `want` bytes (or EOF when want < 0). Returns bytes read into buf. */
  exchange(c: number, out: Uint8Array, len: number, want: number): number {
    let sent = 0;
    this.n = 0;
    for (let t = 0; t < 100000; t++) {
      if (sent < len) {
        const r = tcpSend(this.a, c, out, sent, len - sent);
        if (r > 0) sent += r;
      }
      const r = tcpRecv(this.a, c, this.buf, this.n, this.buf.length - this.n);
      if (r > 0) this.n += r;
      if (r === 0 && want < 0) return this.n;
      if (want >= 0 && this.n >= want && sent === len) return this.n;
      this.step();
    }
    return this.n;
  }
  /** Read one response: returns [status, header bytes, body bytes] after waiting for the whole of it. */
  response(c: number, out: Uint8Array, len: number, res: Int32Array): void {
    this.exchange(c, out, len, 0);
    let end = -1;
    for (let t = 0; t < 100000 && end < 0; t++) {
      const r = tcpRecv(this.a, c, this.buf, this.n, this.buf.length - this.n);
      if (r > 0) this.n += r;
      end = httpHeaderEnd(this.buf, 0, this.n);
      if (end < 0) this.step();
    }
    check(end > 0, 'response header');
    res[0] = parseDec(this.buf, 9, 3);
    // Content-Length value
    const key = 'Content-Length: ';
    let cl = -1;
    for (let i = 0; i + key.length < end && cl < 0; i++) {
      let m = true;
      for (let j = 0; j < key.length && m; j++) if (this.buf[i + j] !== key.charCodeAt(j)) m = false;
      if (m) {
        let k = i + key.length;
        while (this.buf[k] >= 0x30 && this.buf[k] <= 0x39) k++;
        cl = parseDec(this.buf, i + key.length, k - i - key.length);
      }
    }
    check(cl >= 0, 'content-length');
    for (let t = 0; t < 100000 && this.n < end + cl; t++) {
      const r = tcpRecv(this.a, c, this.buf, this.n, this.buf.length - this.n);
      if (r > 0) this.n += r;
      else this.step();
    }
    check(this.n === end + cl, 'body length ' + this.n + ' ' + (end + cl));
    res[1] = end;
    res[2] = cl;
  }
}

export function httpSmoke(): string {
  const e = new Env();
  const req = new Uint8Array(1024);
  const res = new Int32Array(3);
  const c = e.connect(HTTP_PORT);
  // GET /bytes/20000
  let len = putStr(req, 0, 'GET /bytes/20000 HTTP/1.1\r\nHost: b\r\n\r\n');
  e.response(c, req, len, res);
  check(res[0] === 200 && res[2] === 20000, 'get ' + res[0] + ' ' + res[2]);
  let sum = 0;
  for (let i = 0; i < 20000; i++) {
    check(e.buf[res[1] + i] === patternByte(i), 'pattern ' + i);
    sum = (sum + e.buf[res[1] + i] * ((i % 251) + 1)) % 65521;
  }
  // chunked POST on the same connection
  len = putStr(req, 0, 'POST /upload HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n');
  e.response(c, req, len, res);
  check(res[0] === 200 && e.buf[res[1]] === 0x32 && e.buf[res[1] + 1] === 0x31, 'upload');
  len = putStr(req, 0, 'GET /nope HTTP/1.1\r\nHost: b\r\n\r\n');
  e.response(c, req, len, res);
  check(res[0] === 404, 'not found');
  tcpClose(e.a, c);
  // echo
  const ec = e.connect(TCP_ECHO_PORT);
  for (let i = 0; i < 600; i++) req[i] = (i * 7) & 0xff;
  let sent = 0;
  e.n = 0;
  let shut = false;
  let eof = false;
  for (let t = 0; t < 100000 && !eof; t++) {
    if (sent < 600) {
      const r = tcpSend(e.a, ec, req, sent, 600 - sent);
      if (r > 0) sent += r;
    } else if (!shut) {
      tcpShutdown(e.a, ec, SHUT_WR);
      shut = true;
    }
    const r = tcpRecv(e.a, ec, e.buf, e.n, e.buf.length - e.n);
    if (r > 0) e.n += r;
    else if (r === 0) eof = true;
    else e.step();
  }
  check(eof && e.n === 600, 'echo ' + e.n);
  for (let i = 0; i < 600; i++) check(e.buf[i] === req[i], 'echo byte ' + i);
  tcpClose(e.a, ec);
  e.mux.stop();
  for (let i = 0; i < 300; i++) {
    e.clock.advance(100);
    e.a.poll();
    e.b.poll();
  }
  check(e.a.tcp.inUse() === 0 && e.b.tcp.inUse() === 0, 'tcbs');
  check(e.b.sock.open === 0, 'fds ' + e.b.sock.open);
  check(e.a.pool.inUse() === 0 && e.b.pool.inUse() === 0, 'pools');
  return 'http get=20000 sum=' + sum + ' upload=21 404 echo=600 ok';
}
