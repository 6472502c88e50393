/*
 * peer.ts — the services of the scenario's peer stack (src/testkit/scenario.ts),
 * on the zero-allocation socket API of the same bundle as the board. Not
 * on the packet path: the far end of what the board's steps exercise.
 *
 *   UDP  7     echo
 *   TCP  5001  sink: checks every byte of the pattern, answers 'K' (all
 *              tcpBytes right) or 'E' after the sender's FIN, then closes
 *   TCP  8080  HTTP/1.1 server: any request → 200 with httpBytes of the
 *              pattern (Content-Length, Connection: close), then closes
 *   TCP  8007  echo
 *   UDP  9999  control: 'G' makes the peer GET /bytes/httpBytes from the
 *              board's port 80 (HTTP/1.1 client, checks the status and
 *              every body byte) and answer 'K' or 'E' to the sender
 *   UDP  53    DNS (RFC 1035 §4.1): an A query for PEER_NAME is answered
 *              with the peer's address (TTL 60), any other name with
 *              NXDOMAIN; a board resolves the peer by name through it
 * One connection at a time per service; everything is polled by serve().
 * The pattern: byte i of a stream is i % PAT_PERIOD.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

export const PAT_PERIOD = 251;
export const ECHO_PORT = 7;
export const SINK_PORT = 5001;
export const PEER_HTTP_PORT = 8080;
export const PEER_ECHO_PORT = 8007;
export const CONTROL_PORT = 9999;
export const BOARD_HTTP_PORT = 80;
export const DNS_PORT = 53;
/** the peer's host name, served by its DNS responder */
export const PEER_NAME = 'peer.test';

const K = 0x4b;
const E = 0x45;
const CR = 13;
const LF = 10;

/**
 * Continue a search for the CRLFCRLF that ends an HTTP head over b[0..n);
 * st[0] holds how many of its bytes matched so far (0 at the start).
 * Returns the index just after it, or -1 when it is not in b yet.
 */
function headerEnd(b: Uint8Array, n: number, st: number[]): number {
  for (let i = 0; i < n; i++) {
    const c = b[i];
    const s = st[0];
    if ((s === 0 || s === 2) && c === CR) st[0] = s + 1;
    else if ((s === 1 || s === 3) && c === LF) st[0] = s + 1;
    else st[0] = c === CR ? 1 : 0;
    if (st[0] === 4) return i + 1;
  }
  return -1;
}

/** Does b[off..off+n) continue the pattern at stream offset pos? */
export function patternOk(b: Uint8Array, off: number, n: number, pos: number): boolean {
  let c = pos % PAT_PERIOD;
  for (let i = 0; i < n; i++) {
    if (b[off + i] !== c) return false;
    c++;
    if (c === PAT_PERIOD) c = 0;
  }
  return true;
}

export class PeerServices {
  ok = true;
  private readonly buf = new Uint8Array(2048);
  private readonly out = new Uint8Array(512);
  private readonly from = new Int32Array(2);
  private readonly one = new Uint8Array(1);
  private readonly echoBuf = new Uint8Array(512);
  private udp = -1;
  private ctl = -1;
  // sink
  private sinkL = -1;
  private sink = -1;
  private sinkN = 0;
  private sinkBad = false;
  // http server
  private httpL = -1;
  private http = -1;
  private httpHdr = [0];
  private httpSent = -1;
  private httpHead = '';
  // echo
  private echoL = -1;
  private echo = -1;
  private echoOff = 0;
  private echoPend = 0;
  // http client
  private cli = -1;
  private cliReqOff = -1;
  private cliHdr = [0];
  private cliHead = '';
  private cliBody = -1;
  private cliBad = false;
  private cliFirst = true;
  private cliTo = new Int32Array(2);
  // dns
  private dns = -1;
  private readonly dnsBuf = new Uint8Array(512);
  private readonly dnsFrom = new Int32Array(2);

  constructor(
    private readonly m: any,
    private readonly st: any,
    private readonly pat: Uint8Array,
    private readonly boardAddr: number,
    private readonly tcpBytes: number,
    private readonly httpBytes: number,
    tcp: boolean,
    private readonly selfAddr: number,
  ) {
    this.udp = this.dgram(ECHO_PORT);
    if (!tcp) return;
    this.ctl = this.dgram(CONTROL_PORT);
    this.dns = this.dgram(DNS_PORT);
    this.sinkL = this.listener(SINK_PORT);
    this.httpL = this.listener(PEER_HTTP_PORT);
    this.echoL = this.listener(PEER_ECHO_PORT);
    this.httpHead = 'HTTP/1.1 200 OK\r\nContent-Length: ' + httpBytes + '\r\nConnection: close\r\n\r\n';
    this.cliHead = 'GET /bytes/' + httpBytes + ' HTTP/1.1\r\nHost: board\r\nConnection: close\r\n\r\n';
  }

  private dgram(port: number): number {
    const m = this.m;
    const fd = m.socket(this.st, m.SOCK_DGRAM, 0);
    if (fd < 0 || m.bind(this.st, fd, m.INADDR_ANY, port) !== 0) this.ok = false;
    return fd;
  }

  private listener(port: number): number {
    const m = this.m;
    const fd = m.socket(this.st, m.SOCK_STREAM, 0);
    if (fd < 0 || m.bind(this.st, fd, m.INADDR_ANY, port) !== 0 || m.listen(this.st, fd, 2) !== 0) this.ok = false;
    return fd;
  }

  /** Poll every service once. */
  serve(): void {
    const m = this.m;
    const st = this.st;
    const n = m.recvfrom(st, this.udp, this.buf, 0, this.buf.length, this.from);
    if (n > 0) m.sendto(st, this.udp, this.buf, 0, n, this.from[0], this.from[1]);
    if (this.sinkL < 0) return;
    this.serveSink();
    this.serveHttp();
    this.serveEcho();
    this.serveControl();
    this.serveDns();
  }

  /** One DNS query, if any: the answer for PEER_NAME, NXDOMAIN for others, nothing for garbage. */
  private serveDns(): void {
    const m = this.m;
    const b = this.dnsBuf;
    const n = m.recvfrom(this.st, this.dns, b, 0, 496, this.dnsFrom);
    if (n < 17 || (b[2] & 0x80) !== 0 || b[4] !== 0 || b[5] !== 1) return; // a query with one question
    // the question's name: labels from offset 12, compared with PEER_NAME
    let off = 12;
    let same = true;
    let pos = 0;
    while (off < n && b[off] !== 0) {
      const l = b[off];
      if (l > 63 || off + 1 + l >= n) return;
      if (pos > 0) same = same && PEER_NAME.charCodeAt(pos - 1) === 0x2e;
      for (let i = 0; i < l; i++) {
        const c = b[off + 1 + i] | (b[off + 1 + i] >= 0x41 && b[off + 1 + i] <= 0x5a ? 0x20 : 0);
        same = same && PEER_NAME.charCodeAt(pos + i) === c;
      }
      pos += l + 1;
      off += 1 + l;
    }
    const end = off + 5; // the root label, QTYPE, QCLASS
    if (end > n) return;
    same = same && pos - 1 === PEER_NAME.length;
    const isA = b[off + 1] === 0 && b[off + 2] === 1;
    b[2] = 0x81 | (b[2] & 0x01); // QR, opcode 0, RD copied
    b[3] = same ? 0x80 : 0x83; // RA; NXDOMAIN for another name
    b[6] = 0;
    b[7] = same && isA ? 1 : 0;
    b[8] = 0;
    b[9] = 0;
    b[10] = 0;
    b[11] = 0;
    let k = end;
    if (same && isA) {
      const a = this.selfAddr;
      const rr = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, (a >>> 24) & 255, (a >>> 16) & 255, (a >>> 8) & 255, a & 255];
      for (let i = 0; i < rr.length; i++) b[k++] = rr[i];
    }
    m.sendto(this.st, this.dns, b, 0, k, this.dnsFrom[0], this.dnsFrom[1]);
  }

  private serveSink(): void {
    const m = this.m;
    const st = this.st;
    if (this.sink < 0) {
      this.sink = m.accept(st, this.sinkL, null);
      if (this.sink < 0) return;
      this.sinkN = 0;
      this.sinkBad = false;
    }
    for (let k = 0; k < 4; k++) {
      const r = m.recv(st, this.sink, this.buf, 0, this.buf.length);
      if (r > 0) {
        if (!this.sinkBad && !patternOk(this.buf, 0, r, this.sinkN)) this.sinkBad = true;
        this.sinkN += r;
        continue;
      }
      if (r === 0) {
        this.one[0] = !this.sinkBad && this.sinkN === this.tcpBytes ? K : E;
        if (m.send(st, this.sink, this.one, 0, 1) !== 1) return; // try again next poll
      } else if (r === -m.EAGAIN) return;
      m.close(st, this.sink);
      this.sink = -1;
      return;
    }
  }

  private serveHttp(): void {
    const m = this.m;
    const st = this.st;
    if (this.http < 0) {
      this.http = m.accept(st, this.httpL, null);
      if (this.http < 0) return;
      this.httpHdr[0] = 0;
      this.httpSent = -1;
    }
    if (this.httpSent < 0) {
      // the request: read up to the blank line
      const r = m.recv(st, this.http, this.buf, 0, this.buf.length);
      if (r === -m.EAGAIN) return;
      if (r <= 0) return this.httpDone();
      if (headerEnd(this.buf, r, this.httpHdr) < 0) return;
      const h = this.httpHead;
      for (let i = 0; i < h.length; i++) this.out[i] = h.charCodeAt(i);
      if (m.send(st, this.http, this.out, 0, h.length) !== h.length) return this.httpDone();
      this.httpSent = 0;
    }
    while (this.httpSent < this.httpBytes) {
      let k = this.httpBytes - this.httpSent;
      if (k > 1024) k = 1024;
      const w = m.send(st, this.http, this.pat, this.httpSent % PAT_PERIOD, k);
      if (w === -m.EAGAIN) return;
      if (w <= 0) return this.httpDone();
      this.httpSent += w;
    }
    this.httpDone();
  }

  private httpDone(): void {
    this.m.close(this.st, this.http);
    this.http = -1;
  }

  private serveEcho(): void {
    const m = this.m;
    const st = this.st;
    if (this.echo < 0) {
      this.echo = m.accept(st, this.echoL, null);
      if (this.echo < 0) return;
      this.echoPend = 0;
    }
    if (this.echoPend > 0) {
      const w = m.send(st, this.echo, this.echoBuf, this.echoOff, this.echoPend);
      if (w === -m.EAGAIN) return;
      if (w < 0) return this.echoDone();
      this.echoOff += w;
      this.echoPend -= w;
      if (this.echoPend > 0) return;
    }
    const r = m.recv(st, this.echo, this.echoBuf, 0, this.echoBuf.length);
    if (r === -m.EAGAIN) return;
    if (r <= 0) return this.echoDone();
    this.echoOff = 0;
    this.echoPend = r;
  }

  private echoDone(): void {
    this.m.close(this.st, this.echo);
    this.echo = -1;
  }

  private serveControl(): void {
    const m = this.m;
    const st = this.st;
    if (this.cli < 0) {
      const n = m.recvfrom(st, this.ctl, this.one, 0, 1, this.cliTo);
      if (n !== 1 || this.one[0] !== 0x47) return; // 'G'
      this.cli = m.socket(st, m.SOCK_STREAM, 0);
      const rc = this.cli >= 0 ? m.connect(st, this.cli, this.boardAddr, BOARD_HTTP_PORT) : -1;
      if (rc !== 0 && rc !== -m.EINPROGRESS) return this.cliDone(false);
      this.cliReqOff = 0;
      this.cliHdr[0] = 0;
      this.cliBody = -1;
      this.cliBad = false;
      this.cliFirst = true;
    }
    if (this.cliReqOff >= 0) {
      const h = this.cliHead;
      for (let i = 0; i < h.length; i++) this.out[i] = h.charCodeAt(i);
      const w = m.send(st, this.cli, this.out, 0, h.length);
      if (w === -m.EAGAIN) return;
      if (w !== h.length) return this.cliDone(false);
      this.cliReqOff = -1;
    }
    for (let k = 0; k < 4; k++) {
      const r = m.recv(st, this.cli, this.buf, 0, this.buf.length);
      if (r === -m.EAGAIN) return;
      if (r < 0) return this.cliDone(false);
      if (r === 0) return this.cliDone(!this.cliBad && this.cliBody === this.httpBytes);
      let off = 0;
      if (this.cliBody < 0) {
        // the status line must say 200; the body starts after the blank line
        if (this.cliFirst && !(r > 11 && this.buf[9] === 0x32 && this.buf[10] === 0x30 && this.buf[11] === 0x30)) this.cliBad = true;
        this.cliFirst = false;
        const e = headerEnd(this.buf, r, this.cliHdr);
        if (e < 0) continue;
        off = e;
        this.cliBody = 0;
      }
      if (!this.cliBad && !patternOk(this.buf, off, r - off, this.cliBody)) this.cliBad = true;
      this.cliBody += r - off;
      // the whole body: done (the server may keep the connection open)
      if (this.cliBody >= this.httpBytes) return this.cliDone(!this.cliBad && this.cliBody === this.httpBytes);
    }
  }

  private cliDone(ok: boolean): void {
    const m = this.m;
    if (this.cli >= 0) m.close(this.st, this.cli);
    this.cli = -1;
    this.one[0] = ok ? K : E;
    m.sendto(this.st, this.ctl, this.one, 0, 1, this.cliTo[0], this.cliTo[1]);
  }
}
