/*
 * bundle_services.ts — the small servers of `slabnet up` written over a
 * board bundle's public socket API (src/host/bundle.ts BundleApi), for
 * `slabnet up --board ID` (src/cli/up_board.ts): what a board program
 * would write on top of the bundle, so the kernel's ping, socat, nc and
 * curl meet the bundle's own UDP and TCP.
 *
 *   BundleUdpService   UDP echo (RFC 862) / discard (RFC 863): a loop of
 *                      recvfrom/sendto (used when the bundle has no
 *                      UdpEchoService/UdpDiscardService compiled in)
 *   BundleTcpEcho      TCP echo (port 7)                    } listen/accept/
 *   BundleTcpDiscard   TCP discard (port 9)                 } recv/send/
 *   BundleHttp         HTTP/1.1 on port 80: GET|HEAD /bytes/N (the       } shutdown/close
 *                      /bytes/N pattern, src/apps/http_parse.ts fillPattern),
 *                      PUT|POST /upload (Content-Length or chunked; answers
 *                      the byte count), GET / (the counters), 404/405/400/
 *                      431 otherwise; keep-alive as src/apps/http.ts
 *   BundleTcpSend      --send: connect, send N bytes of the pattern,
 *                      half-close, read until EOF, close (as
 *                      src/apps/tcp_send.ts)
 *
 * They implement NetService (src/apps/service.ts), so the source's
 * ServiceMux (which only sets st.events and calls the services) drives
 * them and the bundle's own UDP services alike, and their counters have
 * the names of the source services' (`slabnet up`'s JSON is the same).
 * Same shape as the source services: state per connection slot, socket
 * events only mark work, run() after each st.poll() does it. Node only
 * (the host side of a board program; allocates per connection).
 */
import type { Stack } from '../stack';
import type { NetService } from '../apps/service';
import { type BundleApi, namedCounters } from './bundle';
import { EAGAIN, EINPROGRESS, ETIMEDOUT } from '../core/errno';
import { SOCK_STREAM, SOCK_DGRAM, IPPROTO_TCP, IPPROTO_UDP, SOL_SOCKET, SO_LINGER, SHUT_WR } from '../socket/sock';
import { EV_ERROR } from '../stack';
import {
  HttpRequest, ChunkDecoder, httpHeaderEnd, httpParse, parseDec, fillPattern,
  M_GET, M_HEAD, M_PUT, M_POST,
} from '../apps/http_parse';

/** datagrams handled per run() */
const UDP_BUDGET = 16;
/** recv/send steps per connection per run() */
const TCP_BUDGET = 8;

/* ---------------- UDP echo / discard over the socket API ---------------- */

export class BundleUdpService implements NetService {
  readonly name: string;
  fd = -1;
  private readonly buf: Uint8Array;
  private readonly from = new Int32Array(2);
  private readable = true;
  datagrams = 0;
  bytes = 0;
  recvErrors = 0;
  truncated = 0;
  sendErrors = 0;

  constructor(
    readonly api: BundleApi,
    readonly st: Stack,
    readonly port: number,
    bufSize: number,
    /** true: echo each datagram back; false: discard */
    readonly echo: boolean,
  ) {
    this.name = echo ? 'udp-echo' : 'udp-discard';
    this.buf = new Uint8Array(bufSize);
  }

  start(): number {
    const a = this.api;
    const fd = a.socket(this.st, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return fd;
    const rc = a.bind(this.st, fd, 0, this.port);
    if (rc < 0) {
      a.close(this.st, fd);
      return rc;
    }
    this.fd = fd;
    return 0;
  }

  owns(fd: number): boolean {
    return fd >= 0 && fd === this.fd;
  }

  onSocketEvent(_fd: number, events: number): void {
    if (events !== 0) this.readable = true;
  }

  run(): number {
    if (this.fd < 0 || !this.readable) return 0;
    const a = this.api;
    const st = this.st;
    let handled = 0;
    for (let i = 0; i < UDP_BUDGET; i++) {
      const len = a.recvLen(st, this.fd);
      const n = a.recvfrom(st, this.fd, this.buf, 0, this.buf.length, this.from);
      if (n === -EAGAIN) {
        this.readable = false;
        break;
      }
      if (n < 0) {
        this.recvErrors++;
        continue;
      }
      handled++;
      this.datagrams++;
      this.bytes += len > n ? len : n;
      if (!this.echo) continue;
      if (len > n) this.truncated++;
      if (a.sendto(st, this.fd, this.buf, 0, n, this.from[0], this.from[1]) < 0) this.sendErrors++;
    }
    return handled;
  }

  stop(): void {
    if (this.fd >= 0) this.api.close(this.st, this.fd);
    this.fd = -1;
  }

  stats(): { [k: string]: number } {
    const o: { [k: string]: number } = { datagrams: this.datagrams, bytes: this.bytes, recvErrors: this.recvErrors };
    if (this.echo) {
      o.truncated = this.truncated;
      o.sendErrors = this.sendErrors;
    } else o.port = this.port;
    return o;
  }
}

/* ---------------- TCP servers: one listener, connection slots ---------------- */

/** serve() results besides progress (> 0) and nothing to do (0) */
const SERVE_CLOSE = -1;
const SERVE_ABORT = -2;

/** The TCP calls a bundle has only with FEATURE_TCP: the service refuses to start without them. */
function tcpCalls(api: BundleApi): {
  listen: NonNullable<BundleApi['listen']>;
  accept: NonNullable<BundleApi['accept']>;
  shutdown: NonNullable<BundleApi['shutdown']>;
} {
  if (api.listen === undefined || api.accept === undefined || api.shutdown === undefined) {
    throw new Error('the bundle has no TCP (listen/accept/shutdown not exported)');
  }
  return { listen: api.listen, accept: api.accept, shutdown: api.shutdown };
}

export abstract class BundleTcpService implements NetService {
  abstract readonly name: string;
  lh = -1;
  readonly conn: Int32Array;
  readonly lastActive: Float64Array;
  accepted = 0;
  closed = 0;
  aborted = 0;
  idleClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  active = 0;
  maxActive = 0;
  protected readonly tcp: ReturnType<typeof tcpCalls>;

  constructor(
    readonly api: BundleApi,
    readonly st: Stack,
    readonly port: number,
    readonly maxConns: number,
    readonly idleMs: number,
    readonly backlog: number,
  ) {
    this.tcp = tcpCalls(api);
    this.conn = new Int32Array(maxConns).fill(-1);
    this.lastActive = new Float64Array(maxConns);
  }

  protected abstract onOpen(i: number): void;
  protected abstract serve(i: number, h: number): number;
  protected abstract addStats(o: { [k: string]: number }): void;
  /** idle limit of slot i (the HTTP linger after an error is shorter) */
  protected idleOf(_i: number): number {
    return this.idleMs;
  }

  start(): number {
    const a = this.api;
    const st = this.st;
    const fd = a.socket(st, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) return fd;
    let rc = a.bind(st, fd, 0, this.port);
    if (rc === 0) rc = this.tcp.listen(st, fd, this.backlog);
    if (rc < 0) {
      a.close(st, fd);
      return rc;
    }
    this.lh = fd;
    return 0;
  }

  owns(fd: number): boolean {
    if (this.lh < 0 || fd < 0) return false;
    if (fd === this.lh) return true;
    for (let i = 0; i < this.conn.length; i++) if (this.conn[i] === fd) return true;
    return false;
  }

  onSocketEvent(_fd: number, _events: number): void {
    // run() looks at every slot after each poll
  }

  run(): number {
    if (this.lh < 0) return 0;
    const st = this.st;
    const c = this.conn;
    const now = st.now();
    let work = 0;
    for (let i = 0; i < c.length; i++) {
      if (c[i] >= 0) continue;
      const h = this.tcp.accept(st, this.lh, null);
      if (h < 0) break;
      c[i] = h;
      this.lastActive[i] = now;
      this.accepted++;
      this.active++;
      if (this.active > this.maxActive) this.maxActive = this.active;
      this.onOpen(i);
      work++;
    }
    for (let i = 0; i < c.length; i++) {
      const h = c[i];
      if (h < 0) continue;
      const r = this.serve(i, h);
      if (r > 0) {
        this.lastActive[i] = now;
        work += r;
      } else if (r === SERVE_CLOSE || r === SERVE_ABORT) {
        this.release(i, r === SERVE_ABORT);
        work++;
      } else if (now - this.lastActive[i] > this.idleOf(i)) {
        this.idleClosed++;
        this.release(i, true);
      }
    }
    return work;
  }

  protected release(i: number, abort: boolean): void {
    const h = this.conn[i];
    if (h < 0) return;
    const a = this.api;
    if (abort) {
      a.setsockopt(this.st, h, SOL_SOCKET, SO_LINGER, 0);
      this.aborted++;
    } else this.closed++;
    a.close(this.st, h);
    this.conn[i] = -1;
    this.active--;
  }

  stop(): void {
    for (let i = 0; i < this.conn.length; i++) this.release(i, true);
    if (this.lh >= 0) this.api.close(this.st, this.lh);
    this.lh = -1;
  }

  stats(): { [k: string]: number } {
    const o: { [k: string]: number } = {
      accepted: this.accepted,
      closed: this.closed,
      aborted: this.aborted,
      idleClosed: this.idleClosed,
      active: this.active,
      maxActive: this.maxActive,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
    this.addStats(o);
    return o;
  }
}

/** TCP echo (RFC 862): each chunk read is sent back before the next read; close after the client's EOF. */
export class BundleTcpEcho extends BundleTcpService {
  readonly name = 'tcp-echo';
  private readonly buf: Uint8Array;
  private readonly pendOff: Int32Array;
  private readonly pendLen: Int32Array;
  private readonly eof: Uint8Array;
  sendErrors = 0;

  constructor(api: BundleApi, st: Stack, port: number, maxConns: number, readonly chunk: number, idleMs: number) {
    super(api, st, port, maxConns, idleMs, maxConns);
    this.buf = new Uint8Array(maxConns * chunk);
    this.pendOff = new Int32Array(maxConns);
    this.pendLen = new Int32Array(maxConns);
    this.eof = new Uint8Array(maxConns);
  }

  protected onOpen(i: number): void {
    this.pendOff[i] = 0;
    this.pendLen[i] = 0;
    this.eof[i] = 0;
  }

  protected serve(i: number, h: number): number {
    const a = this.api;
    const base = i * this.chunk;
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      if (this.pendLen[i] > 0) {
        const n = a.send(this.st, h, this.buf, base + this.pendOff[i], this.pendLen[i]);
        if (n === -EAGAIN) return work;
        if (n < 0) {
          this.sendErrors++;
          return SERVE_ABORT;
        }
        this.pendOff[i] += n;
        this.pendLen[i] -= n;
        this.bytesOut += n;
        if (n > 0) work++;
        if (this.pendLen[i] > 0) return work;
      }
      if (this.eof[i] !== 0) return SERVE_CLOSE;
      const r = a.recv(this.st, h, this.buf, base, this.chunk);
      if (r === -EAGAIN) return work;
      if (r === 0) {
        this.eof[i] = 1;
        continue;
      }
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      this.pendOff[i] = 0;
      this.pendLen[i] = r;
      work++;
    }
    return work;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.sendErrors = this.sendErrors;
  }
}

/** TCP discard (RFC 863): read and drop until EOF, then close. */
export class BundleTcpDiscard extends BundleTcpService {
  readonly name = 'tcp-discard';
  private readonly buf: Uint8Array;

  constructor(api: BundleApi, st: Stack, port: number, maxConns: number, chunk: number, idleMs: number) {
    super(api, st, port, maxConns, idleMs, maxConns);
    this.buf = new Uint8Array(chunk);
  }

  protected onOpen(_i: number): void {
    // nothing per connection
  }

  protected serve(_i: number, h: number): number {
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      const r = this.api.recv(this.st, h, this.buf, 0, this.buf.length);
      if (r === -EAGAIN) return work;
      if (r === 0) return SERVE_CLOSE;
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      work++;
    }
    return work;
  }

  protected addStats(_o: { [k: string]: number }): void {
    // the common counters say it all
  }
}

/* ---------------- HTTP ---------------- */

const P_HDR = 0; // reading the request header section
const P_BODY = 1; // reading an upload body
const P_SEND = 2; // sending the response
const P_DRAIN = 3; // after an error response: half-closed, reading until the client closes

const K_BYTES = 1;
const K_UPLOAD = 2;
const K_STATUS = 3;
const K_ERROR = 4;

const B_LENGTH = 1;
const B_CHUNKED = 2;

function reason(status: number): string {
  switch (status) {
    case 100: return 'Continue';
    case 200: return 'OK';
    case 400: return 'Bad Request';
    case 404: return 'Not Found';
    case 405: return 'Method Not Allowed';
    case 411: return 'Length Required';
    case 431: return 'Request Header Fields Too Large';
    case 501: return 'Not Implemented';
    case 505: return 'HTTP Version Not Supported';
    default: return 'Error';
  }
}

/** One connection of BundleHttp. */
class HttpConn {
  phase = P_HDR;
  readonly hdr: Uint8Array;
  hdrLen = 0;
  kind = 0;
  status = 0;
  /** /bytes/N: N */
  arg = 0;
  /** 1: GET/HEAD, 2: PUT/POST (the Allow header of a 405) */
  allow = 0;
  keep = true;
  head = false;
  bodyMode = 0;
  bodyRem = 0;
  bodyCount = 0;
  /** response bytes (status line, headers, short bodies) not yet sent */
  out: Uint8Array = new Uint8Array(0);
  outOff = 0;
  /** pattern bytes still to generate, and the stream position of the next */
  genRem = 0;
  genPos = 0;
  /** the chunk buffer holds pattern [chunkPos, chunkPos + chunkLen) */
  chunkPos = 0;
  chunkLen = 0;
  constructor(hdrMax: number) {
    this.hdr = new Uint8Array(hdrMax);
  }
}

export interface BundleHttpOptions {
  maxConns: number;
  hdrMax: number;
  idleMs: number;
  /** after an error response, wait this long for the client to close */
  lingerMs: number;
  /** pattern bytes generated per send() */
  chunk: number;
}

export class BundleHttp extends BundleTcpService {
  readonly name = 'http';
  private readonly c: HttpConn[] = [];
  private readonly req = new HttpRequest();
  private readonly chunks: ChunkDecoder;
  private readonly scratch: Uint8Array;
  private readonly pat: Uint8Array[] = [];
  requests = 0;
  responses2xx = 0;
  responses4xx = 0;
  responses5xx = 0;
  bodyBytes = 0;
  patternBytes = 0;

  constructor(api: BundleApi, st: Stack, port: number, readonly opt: BundleHttpOptions) {
    super(api, st, port, opt.maxConns, opt.idleMs, opt.maxConns);
    for (let i = 0; i < opt.maxConns; i++) {
      this.c.push(new HttpConn(opt.hdrMax));
      this.pat.push(new Uint8Array(opt.chunk));
    }
    this.chunks = new ChunkDecoder(opt.maxConns);
    this.scratch = new Uint8Array(16384);
  }

  protected override idleOf(i: number): number {
    return this.c[i].phase === P_DRAIN ? this.opt.lingerMs : this.idleMs;
  }

  protected onOpen(i: number): void {
    const c = this.c[i];
    c.phase = P_HDR;
    c.hdrLen = 0;
    c.out = new Uint8Array(0);
    c.outOff = 0;
    c.genRem = 0;
    c.chunkLen = 0;
  }

  protected serve(i: number, h: number): number {
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      const c = this.c[i];
      let r: number;
      if (c.phase === P_HDR) r = this.readHeader(i, h);
      else if (c.phase === P_BODY) r = this.readBody(i, h);
      else if (c.phase === P_SEND) r = this.sendSome(i, h);
      else r = this.drain(h);
      if (r < 0) return r;
      if (r === 0) break;
      work += r;
    }
    return work;
  }

  private readHeader(i: number, h: number): number {
    const c = this.c[i];
    // a pipelined request may already be in the buffer
    let end = c.hdrLen > 0 ? httpHeaderEnd(c.hdr, 0, c.hdrLen) : -1;
    if (end < 0) {
      if (c.hdrLen >= c.hdr.length) {
        this.error(c, 431);
        return 1;
      }
      const r = this.api.recv(this.st, h, c.hdr, c.hdrLen, c.hdr.length - c.hdrLen);
      if (r === -EAGAIN) return 0;
      if (r === 0) return SERVE_CLOSE; // the client is done (between requests, or mid-header)
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      c.hdrLen += r;
      end = httpHeaderEnd(c.hdr, 0, c.hdrLen);
      if (end < 0) {
        if (c.hdrLen >= c.hdr.length) this.error(c, 431);
        return 1;
      }
    }
    this.requests++;
    const req = this.req;
    const bad = httpParse(c.hdr, 0, end, req);
    // the path (up to '?'), before what follows the header section (body bytes or
    // the next request) moves to the front of the buffer
    let tlen = req.targetLen;
    for (let j = 0; j < tlen; j++) {
      if (c.hdr[req.targetOff + j] === 0x3f) {
        tlen = j;
        break;
      }
    }
    const target = bad === 0 ? Buffer.from(c.hdr.buffer, c.hdr.byteOffset + req.targetOff, tlen).toString('latin1') : '';
    c.hdr.copyWithin(0, end, c.hdrLen);
    c.hdrLen -= end;
    if (bad !== 0) {
      this.error(c, bad);
      return 1;
    }
    if (req.minor === 1 && !req.hasHost) {
      this.error(c, 400);
      return 1;
    }
    c.keep = !req.close;
    c.head = req.method === M_HEAD;
    this.route(c, req.method, target);
    c.bodyCount = 0;
    c.bodyMode = req.chunked ? B_CHUNKED : req.contentLength > 0 ? B_LENGTH : 0;
    c.bodyRem = req.contentLength > 0 ? req.contentLength : 0;
    if (c.bodyMode === 0) {
      this.respond(c);
      return 1;
    }
    if (c.kind !== K_UPLOAD) {
      // a body we do not want: answer, then close (without reading it)
      c.keep = false;
      this.respond(c);
      return 1;
    }
    if (c.bodyMode === B_CHUNKED) this.chunks.reset(i);
    if (req.expectContinue) {
      c.out = new Uint8Array(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1'));
      c.outOff = 0;
    }
    c.phase = P_BODY;
    return 1;
  }

  /** The answer to method + path (a body, if any, is read first). */
  private route(c: HttpConn, m: number, target: string): void {
    const isGet = m === M_GET || m === M_HEAD;
    c.arg = 0;
    c.allow = 0;
    if (target === '/') this.answer(c, isGet ? K_STATUS : K_ERROR, isGet ? 200 : 405, 1);
    else if (target.length > 7 && target.startsWith('/bytes/')) {
      const digits = Buffer.from(target.substring(7), 'latin1');
      const n = parseDec(digits, 0, digits.length);
      if (n < 0) this.answer(c, K_ERROR, 404, 0);
      else {
        c.arg = n;
        this.answer(c, isGet ? K_BYTES : K_ERROR, isGet ? 200 : 405, 1);
      }
    } else if (target === '/upload') {
      const up = m === M_PUT || m === M_POST;
      this.answer(c, up ? K_UPLOAD : K_ERROR, up ? 200 : 405, 2);
    } else this.answer(c, K_ERROR, 404, 0);
  }

  private answer(c: HttpConn, kind: number, status: number, allow: number): void {
    c.kind = kind;
    c.status = status;
    c.allow = status === 405 ? allow : 0;
  }

  private readBody(i: number, h: number): number {
    const c = this.c[i];
    if (c.outOff < c.out.length) {
      const r = this.flushOut(c, h);
      if (r <= 0) return r;
    }
    let got = 0;
    if (c.hdrLen > 0) {
      // body bytes that came with the header section
      let used: number;
      if (c.bodyMode === B_LENGTH) {
        used = c.hdrLen < c.bodyRem ? c.hdrLen : c.bodyRem;
        c.bodyRem -= used;
        c.bodyCount += used;
      } else {
        const before = this.chunks.total[i];
        used = this.chunks.feed(i, c.hdr, 0, c.hdrLen);
        c.bodyCount += this.chunks.total[i] - before;
      }
      c.hdr.copyWithin(0, used, c.hdrLen);
      c.hdrLen -= used;
      got = used;
    } else {
      const sc = this.scratch;
      let want = sc.length;
      if (c.bodyMode === B_LENGTH && c.bodyRem < want) want = c.bodyRem;
      if (c.bodyMode === B_CHUNKED && c.hdr.length < want) want = c.hdr.length;
      const r = this.api.recv(this.st, h, sc, 0, want);
      if (r === -EAGAIN) return 0;
      if (r === 0) return SERVE_CLOSE; // body cut short
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      got = r;
      if (c.bodyMode === B_LENGTH) {
        c.bodyRem -= r;
        c.bodyCount += r;
      } else {
        const before = this.chunks.total[i];
        const used = this.chunks.feed(i, sc, 0, r);
        c.bodyCount += this.chunks.total[i] - before;
        if (used < r) {
          c.hdr.set(sc.subarray(used, r), 0);
          c.hdrLen = r - used;
        }
      }
    }
    if (c.bodyMode === B_CHUNKED && this.chunks.failed(i)) {
      this.error(c, 400);
      return 1;
    }
    const done = c.bodyMode === B_LENGTH ? c.bodyRem === 0 : this.chunks.done(i);
    if (done) {
      this.bodyBytes += c.bodyCount;
      this.respond(c);
    }
    return got > 0 ? 1 : 0;
  }

  private error(c: HttpConn, status: number): void {
    c.kind = K_ERROR;
    c.status = status;
    c.allow = 0;
    c.keep = false;
    c.head = false;
    this.respond(c);
  }

  private statusPage(): string {
    const m = namedCounters(this.st.mib.toObject());
    let s = 'slabnet ' + this.st.name + ' (board bundle)\n';
    for (const b of Object.keys(m)) for (const k of Object.keys(m[b])) s += b + '.' + k + ' ' + m[b][k] + '\n';
    return s;
  }

  private respond(c: HttpConn): void {
    let body = '';
    if (c.kind === K_STATUS) body = this.statusPage();
    else if (c.kind === K_UPLOAD) body = c.bodyCount + '\n';
    else if (c.kind === K_ERROR) body = reason(c.status) + '\n';
    let hd = 'HTTP/1.1 ' + c.status + ' ' + reason(c.status) + '\r\nServer: slabnet\r\nContent-Type: ' +
      (c.kind === K_BYTES ? 'application/octet-stream' : 'text/plain') + '\r\nContent-Length: ' +
      (c.kind === K_BYTES ? c.arg : Buffer.byteLength(body, 'latin1'));
    if (c.allow !== 0) hd += c.allow === 1 ? '\r\nAllow: GET, HEAD' : '\r\nAllow: PUT, POST';
    hd += c.keep ? '\r\nConnection: keep-alive\r\n\r\n' : '\r\nConnection: close\r\n\r\n';
    if (!c.head && c.kind !== K_BYTES) hd += body;
    // an interim 100 Continue still unsent goes first
    const rest = c.outOff < c.out.length ? Buffer.from(c.out.subarray(c.outOff)).toString('latin1') : '';
    c.out = new Uint8Array(Buffer.from(rest + hd, 'latin1'));
    c.outOff = 0;
    c.genPos = 0;
    c.genRem = c.kind === K_BYTES && !c.head ? c.arg : 0;
    c.chunkLen = 0;
    if (c.status >= 200 && c.status < 300) this.responses2xx++;
    else if (c.status < 500) this.responses4xx++;
    else this.responses5xx++;
    c.phase = P_SEND;
  }

  /** 1 when all of c.out is queued, 0 when the send buffer is full, < 0 to end. */
  private flushOut(c: HttpConn, h: number): number {
    const left = c.out.length - c.outOff;
    const n = this.api.send(this.st, h, c.out, c.outOff, left);
    if (n === -EAGAIN) return 0;
    if (n < 0) return SERVE_ABORT;
    c.outOff += n;
    this.bytesOut += n;
    return n < left ? 0 : 1;
  }

  private sendSome(i: number, h: number): number {
    const c = this.c[i];
    if (c.outOff < c.out.length) {
      const r = this.flushOut(c, h);
      if (r <= 0) return r;
    }
    const buf = this.pat[i];
    let work = 0;
    while (c.genRem > 0) {
      if (c.chunkLen === 0) {
        const n = c.genRem < buf.length ? c.genRem : buf.length;
        fillPattern(buf, 0, n, c.genPos);
        c.chunkPos = c.genPos;
        c.chunkLen = n;
      }
      const o = c.genPos - c.chunkPos;
      const n = this.api.send(this.st, h, buf, o, c.chunkLen - o);
      if (n === -EAGAIN || n === 0) return work;
      if (n < 0) return SERVE_ABORT;
      c.genPos += n;
      c.genRem -= n;
      this.bytesOut += n;
      this.patternBytes += n;
      work = 1;
      if (c.genPos - c.chunkPos >= c.chunkLen) c.chunkLen = 0;
    }
    // the whole response is queued
    if (c.keep) {
      c.phase = P_HDR;
      c.out = new Uint8Array(0);
      c.outOff = 0;
      return 1;
    }
    if (c.kind === K_ERROR) {
      // lingering close: FIN, then read what the client still sends until it closes
      if (this.tcp.shutdown(this.st, h, SHUT_WR) < 0) return SERVE_ABORT;
      c.phase = P_DRAIN;
      return 1;
    }
    return SERVE_CLOSE;
  }

  private drain(h: number): number {
    const r = this.api.recv(this.st, h, this.scratch, 0, this.scratch.length);
    if (r === -EAGAIN) return 0;
    if (r <= 0) return SERVE_CLOSE;
    this.bytesIn += r;
    return 1;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.requests = this.requests;
    o.responses2xx = this.responses2xx;
    o.responses4xx = this.responses4xx;
    o.responses5xx = this.responses5xx;
    o.bodyBytes = this.bodyBytes;
    o.patternBytes = this.patternBytes;
  }
}

/* ---------------- --send: an active open ---------------- */

const SEND_IDLE = 0;
const SEND_CONNECTING = 1;
const SEND_SENDING = 2;
const SEND_DRAINING = 3;
const SEND_DONE = 4;

export class BundleTcpSend implements NetService {
  fd = -1;
  phase = SEND_IDLE;
  startAt = 0;
  bytesSent = 0;
  bytesRecv = 0;
  errno = 0;
  connectRc = 0;
  connected = 0;
  t0 = 0;
  t1 = 0;
  lastActive = 0;
  private readonly buf: Uint8Array;
  private bufPos = 0;
  private bufLen = 0;
  private readonly tcp: ReturnType<typeof tcpCalls>;

  constructor(
    readonly api: BundleApi,
    readonly st: Stack,
    readonly addr: number,
    readonly port: number,
    readonly total: number,
    readonly delayMs: number,
    readonly idleMs: number,
    chunk: number,
    readonly name: string,
  ) {
    this.tcp = tcpCalls(api);
    this.buf = new Uint8Array(chunk);
  }

  start(): number {
    this.startAt = this.st.now() + this.delayMs;
    return 0;
  }

  owns(fd: number): boolean {
    return fd >= 0 && fd === this.fd;
  }

  onSocketEvent(_fd: number, _events: number): void {
    // run() polls
  }

  finished(): boolean {
    return this.phase === SEND_DONE;
  }

  elapsedMs(): number {
    if (this.phase === SEND_IDLE) return 0;
    return (this.phase === SEND_DONE ? this.t1 : this.st.now()) - this.t0;
  }

  private end(errno: number, abort: boolean): number {
    this.errno = errno;
    if (this.fd >= 0) {
      if (abort) this.api.setsockopt(this.st, this.fd, SOL_SOCKET, SO_LINGER, 0);
      this.api.close(this.st, this.fd);
    }
    this.fd = -1;
    this.t1 = this.st.now();
    this.phase = SEND_DONE;
    return 1;
  }

  run(): number {
    const a = this.api;
    const st = this.st;
    if (this.phase === SEND_DONE) return 0;
    const now = st.now();
    if (this.phase === SEND_IDLE) {
      if (now < this.startAt) return 0;
      this.t0 = now;
      this.lastActive = now;
      const fd = a.socket(st, SOCK_STREAM, 0);
      if (fd < 0) {
        this.connectRc = fd;
        return this.end(-fd, false);
      }
      this.fd = fd;
      const rc = a.connect(st, fd, this.addr, this.port);
      this.connectRc = rc;
      if (rc !== -EINPROGRESS && rc !== 0) return this.end(-rc, false);
      this.phase = SEND_CONNECTING;
      return 1;
    }
    const fd = this.fd;
    if ((a.poll(st, fd) & EV_ERROR) !== 0) {
      const e = a.sockErr(st, fd);
      if (e < 0) return this.end(-e, true);
    }
    let work = 0;
    if (this.phase === SEND_CONNECTING || this.phase === SEND_SENDING) {
      for (let k = 0; k < 16; k++) {
        const left = this.total - this.bytesSent;
        if (left <= 0) break;
        if (this.bufLen === 0) {
          const n = left < this.buf.length ? left : this.buf.length;
          fillPattern(this.buf, 0, n, this.bytesSent);
          this.bufPos = this.bytesSent;
          this.bufLen = n;
        }
        const o = this.bytesSent - this.bufPos;
        const r = a.send(st, fd, this.buf, o, this.bufLen - o);
        if (r === -EAGAIN) break;
        if (r < 0) return work + this.end(-r, true);
        this.connected = 1;
        this.phase = SEND_SENDING;
        this.bytesSent += r;
        if (this.bytesSent - this.bufPos >= this.bufLen) this.bufLen = 0;
        if (r > 0) work++;
        else break;
      }
      if (this.phase === SEND_CONNECTING && this.total === 0) {
        const r = a.send(st, fd, this.buf, 0, 0);
        if (r === 0) {
          this.connected = 1;
          this.phase = SEND_SENDING;
        } else if (r !== -EAGAIN) return work + this.end(-r, true);
      }
      if (this.phase === SEND_SENDING && this.bytesSent >= this.total) {
        const r = this.tcp.shutdown(st, fd, SHUT_WR);
        if (r < 0) return work + this.end(-r, true);
        this.phase = SEND_DRAINING;
        work++;
      }
    }
    if (this.phase === SEND_SENDING || this.phase === SEND_DRAINING) {
      for (let k = 0; k < 16; k++) {
        const r = a.recv(st, fd, this.buf, 0, this.buf.length);
        if (r === -EAGAIN) break;
        if (r === 0) {
          if (this.phase === SEND_DRAINING) return work + this.end(0, false);
          break;
        }
        if (r < 0) return work + this.end(-r, true);
        this.bytesRecv += r;
        work++;
      }
    }
    if (work > 0) this.lastActive = now;
    else if (now - this.lastActive > this.idleMs) return this.end(ETIMEDOUT, true);
    return work;
  }

  stop(): void {
    if (this.phase !== SEND_DONE && this.phase !== SEND_IDLE) this.end(ETIMEDOUT, true);
  }

  stats(): { [k: string]: number } {
    return {
      port: this.port,
      bytes: this.total,
      bytesSent: this.bytesSent,
      bytesRecv: this.bytesRecv,
      connected: this.connected,
      connectRc: this.connectRc,
      errno: this.errno,
      elapsedMs: Math.round(this.elapsedMs()),
      done: this.phase === SEND_DONE && this.errno === 0 ? 1 : 0,
    };
  }
}
