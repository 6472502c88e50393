/*
 * compact_services.ts — the small servers of `slabnet up --board ID` for a
 * compact bundle (the small boards' src/compact/ stack, loaded by
 * src/host/bundle.ts, run by src/cli/up_compact.ts), written over the
 * bundle's exports only (its objects' property names are mangled): what a
 * Pico program would write on top of it. The general bundles' servers
 * (src/host/bundle_services.ts) keep the same ports, paths and counter
 * names, so run.sh and its counter checks read both alike.
 *
 *   CompactUdpService  UDP echo (port 7) / discard (port 9) through the
 *                      bundle's NetworkJS adapter (networkJsCompact: the
 *                      only UDP receive path the bundle exports), with its
 *                      binary strings and 8-byte address headers
 *   CompactTcpEcho     TCP echo (port 7)                  } tcpListen/Accept/
 *   CompactTcpDiscard  TCP discard (port 9)               } Recv/Send/Close
 *   CompactHttp        HTTP/1.1 (port 80): GET|HEAD /bytes/N (the
 *                      src/apps/http_parse.ts pattern), PUT|POST /upload
 *                      (Content-Length; answers the byte count), GET /
 *                      (the bundle's netStats); 404/405/400/431/501
 *                      otherwise; keep-alive
 *
 * Slots (as src/apps/tcp_service.ts, with what the compact API offers:
 * no abort, peer address or SIOCOUTQ, so no stall or per-address rule):
 * an HTTP request header must be complete within headerMs of accept or of
 * the previous response (a trickle does not extend it) → dropHeaderTimeout;
 * with every slot busy, a waiting connection takes the slot that has
 * waited longest for a request / made no progress, once that is evictMs
 * → evicted; idle connections go after idleMs → idleClosed. The drop is
 * tcpClose: a RST when unread data is left, else a FIN.
 *
 * Data moves with set/subarray only: each TCP read lands in a slot buffer
 * and goes back out from it; /bytes/N bodies are sent straight from one
 * precomputed period of the pattern (64,256 bytes: its byte at pos is
 * (pos mod 251 + floor(pos / 251)) mod 256). No callbacks in the compact
 * API: run() polls every slot after each netTick (src/cli/poll_loop.ts).
 * Node only (allocates per request).
 */
import type { CompactApi } from './bundle';
import type { NetworkJsObject } from '../socket/networkjs';
import type { Net as CompactNet } from '../compact/net';
import { ST_UDP, UDP_HEADER_LEN } from '../socket/networkjs';
import { HttpRequest, httpHeaderEnd, httpParse, parseDec, fillPattern, M_GET, M_HEAD, M_PUT, M_POST } from '../apps/http_parse';

/** datagrams per run() */
const UDP_BUDGET = 16;
/** recv/send steps per connection per run() */
const TCP_BUDGET = 8;
/** largest datagram read from the adapter (its header + an Ethernet frame's worth) */
const UDP_READ_MAX = UDP_HEADER_LEN + 1514;

/** What up_compact.ts runs: started once, run() after each tick (> 0: it did something), stopped once. */
export interface CompactService {
  readonly name: string;
  start(): number;
  run(): number;
  stop(): void;
  stats(): { [k: string]: number };
}

/* ---------------- UDP echo / discard through the NetworkJS adapter ---------------- */

export class CompactUdpService implements CompactService {
  readonly name: string;
  sk = -1;
  /** a datagram (adapter string, its header names the sender) still to send back: the next hop was being resolved */
  private pend = '';
  datagrams = 0;
  bytes = 0;
  recvErrors = 0;
  truncated = 0;
  sendErrors = 0;

  constructor(readonly nj: NetworkJsObject, readonly port: number, readonly echo: boolean) {
    this.name = echo ? 'udp-echo' : 'udp-discard';
  }

  start(): number {
    const s = this.nj.create(null, this.port, ST_UDP);
    if (s < 0) return s;
    this.sk = s;
    return 0;
  }

  run(): number {
    if (this.sk < 0) return 0;
    let work = 0;
    if (this.pend !== '' && !this.sendBack(this.pend)) return 0;
    for (let i = 0; i < UDP_BUDGET; i++) {
      const d = this.nj.recv(this.sk, UDP_READ_MAX);
      if (typeof d !== 'string') {
        this.recvErrors++;
        break;
      }
      if (d.length < UDP_HEADER_LEN) break; // '': nothing held
      work++;
      this.datagrams++;
      this.bytes += d.length - UDP_HEADER_LEN;
      // the header's length field says what arrived; the string what fitted
      if ((d.charCodeAt(6) | (d.charCodeAt(7) << 8)) > d.length - UDP_HEADER_LEN) this.truncated++;
      if (this.echo && !this.sendBack(d)) break;
    }
    return work;
  }

  /** Echo d (its header is the sender's address: the reply goes there). false: try again later. */
  private sendBack(d: string): boolean {
    const r = this.nj.send(this.sk, d);
    if (r === 0 && d.length > UDP_HEADER_LEN) {
      this.pend = d; // next hop being resolved
      return false;
    }
    this.pend = '';
    if (r < 0) this.sendErrors++;
    return true;
  }

  stop(): void {
    if (this.sk >= 0) this.nj.close(this.sk);
    this.sk = -1;
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

/** Slot limits of the compact TCP servers (ms). */
export interface CompactSlotLimits {
  /** an HTTP request header within this long of accept / the previous response */
  headerMs: number;
  /** with every slot busy, a slot waiting for a request or without progress this long goes to a newcomer */
  evictMs: number;
}

/** What `slabnet up --board` (a compact bundle) uses: the general `up`'s header and eviction times. */
export function defaultCompactSlotLimits(): CompactSlotLimits {
  return { headerMs: 5000, evictMs: 1000 };
}

/** The compact TCP calls (full profile only): the services refuse to start without them. */
type TcpCalls = Required<Pick<CompactApi, 'tcpListen' | 'tcpAccept' | 'tcpRecv' | 'tcpSend' | 'tcpClose' | 'tcpState'>>;

function tcpCalls(api: CompactApi): TcpCalls {
  const { tcpListen, tcpAccept, tcpRecv, tcpSend, tcpClose, tcpState } = api;
  if (!tcpListen || !tcpAccept || !tcpRecv || !tcpSend || !tcpClose || !tcpState) throw new Error('the compact bundle has no TCP (profile tiny)');
  return { tcpListen, tcpAccept, tcpRecv, tcpSend, tcpClose, tcpState };
}

export abstract class CompactTcpService implements CompactService {
  abstract readonly name: string;
  lt = -1;
  /** the control block of each slot, -1 = free */
  readonly conn: Int32Array;
  readonly lastActive: Float64Array;
  readonly tcp: TcpCalls;
  accepted = 0;
  closed = 0;
  aborted = 0;
  idleClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  active = 0;
  maxActive = 0;
  /** no request within headerMs */
  dropHeaderTimeout = 0;
  /** slots given to a newcomer */
  evicted = 0;
  /** now() since which slot i waits for a request (set by the subclass), -1 = not waiting */
  readonly waitSince: Float64Array;
  readonly lim: CompactSlotLimits;

  constructor(
    api: CompactApi, readonly n: CompactNet, readonly port: number, maxConns: number, readonly idleMs: number, readonly now: () => number,
    lim?: Partial<CompactSlotLimits>,
  ) {
    this.tcp = tcpCalls(api);
    this.conn = new Int32Array(maxConns).fill(-1);
    this.lastActive = new Float64Array(maxConns);
    this.waitSince = new Float64Array(maxConns).fill(-1);
    const l = defaultCompactSlotLimits();
    if (lim !== undefined && lim.headerMs !== undefined) l.headerMs = lim.headerMs;
    if (lim !== undefined && lim.evictMs !== undefined) l.evictMs = lim.evictMs;
    if (!(l.headerMs >= 0) || !(l.evictMs >= 0) || !(idleMs > 0)) {
      throw new Error('compact tcp service on port ' + port + ': headerMs and evictMs must be >= 0, idleMs > 0');
    }
    this.lim = l;
  }

  protected abstract onOpen(i: number): void;
  /** > 0 progress, 0 nothing to do, SERVE_CLOSE / SERVE_ABORT to end */
  protected abstract serve(i: number, t: number): number;
  protected abstract addStats(o: { [k: string]: number }): void;

  start(): number {
    const t = this.tcp.tcpListen(this.n, this.port);
    if (t < 0) return t;
    this.lt = t;
    return 0;
  }

  run(): number {
    if (this.lt < 0) return 0;
    const c = this.conn;
    const now = this.now();
    let work = 0;
    for (let k = 0; k < c.length; k++) {
      let i = -1;
      for (let j = 0; j < c.length && i < 0; j++) if (c[j] < 0) i = j;
      // every slot busy: only when one can be given up (the newcomer is not lost: no accept without a slot)
      const v = i < 0 ? this.victim(now) : -1;
      if (i < 0 && v < 0) break;
      const t = this.tcp.tcpAccept(this.n, this.lt);
      if (t < 0) break;
      if (i < 0) {
        this.evicted++;
        this.release(v, true);
        i = v;
      }
      c[i] = t;
      this.waitSince[i] = -1;
      this.lastActive[i] = now;
      this.accepted++;
      this.active++;
      if (this.active > this.maxActive) this.maxActive = this.active;
      this.onOpen(i);
      work++;
    }
    for (let i = 0; i < c.length; i++) {
      if (c[i] < 0) continue;
      const r = this.serve(i, c[i]);
      if (r > 0) {
        this.lastActive[i] = now;
        work += r;
      } else if (r === SERVE_CLOSE || r === SERVE_ABORT) {
        this.release(i, r === SERVE_ABORT);
        work++;
      } else if (now - this.lastActive[i] > this.idleMs) {
        this.idleClosed++;
        this.release(i, true);
        continue;
      }
      if (c[i] >= 0 && this.lim.headerMs > 0 && this.waitSince[i] >= 0 && now - this.waitSince[i] > this.lim.headerMs) {
        this.dropHeaderTimeout++;
        this.release(i, true);
      }
    }
    return work;
  }

  /** The slot waiting longest for a request / without progress, if that is at least evictMs; else -1. */
  private victim(now: number): number {
    let best = -1;
    let bestAge = -1;
    for (let i = 0; i < this.conn.length; i++) {
      if (this.conn[i] < 0) continue;
      const w = this.waitSince[i];
      const age = now - (w >= 0 ? w : this.lastActive[i]);
      if (age >= this.lim.evictMs && age > bestAge) {
        best = i;
        bestAge = age;
      }
    }
    return best;
  }

  /**
   * tcpClose: FIN after what is queued, or RST when unread data would be
   * lost (RFC 2525 §2.17); a failed connection is freed. `abort` only
   * counts it as such: the compact API has no separate abort.
   */
  protected release(i: number, abort: boolean): void {
    const t = this.conn[i];
    if (t < 0) return;
    if (abort) this.aborted++;
    else this.closed++;
    this.tcp.tcpClose(this.n, t);
    this.conn[i] = -1;
    this.active--;
  }

  stop(): void {
    for (let i = 0; i < this.conn.length; i++) this.release(i, true);
    if (this.lt >= 0) this.tcp.tcpClose(this.n, this.lt);
    this.lt = -1;
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
      dropHeaderTimeout: this.dropHeaderTimeout,
      evicted: this.evicted,
    };
    this.addStats(o);
    return o;
  }
}

/** TCP echo (RFC 862): each read goes back from the slot's buffer before the next read; close after the client's FIN. */
export class CompactTcpEcho extends CompactTcpService {
  readonly name = 'tcp-echo';
  private readonly buf: Uint8Array[] = [];
  private readonly pendOff: Int32Array;
  private readonly pendLen: Int32Array;
  private readonly eof: Uint8Array;
  sendErrors = 0;

  constructor(api: CompactApi, n: CompactNet, port: number, maxConns: number, chunk: number, idleMs: number, now: () => number, lim?: Partial<CompactSlotLimits>) {
    super(api, n, port, maxConns, idleMs, now, lim);
    for (let i = 0; i < maxConns; i++) this.buf.push(new Uint8Array(chunk));
    this.pendOff = new Int32Array(maxConns);
    this.pendLen = new Int32Array(maxConns);
    this.eof = new Uint8Array(maxConns);
  }

  protected onOpen(i: number): void {
    this.pendOff[i] = 0;
    this.pendLen[i] = 0;
    this.eof[i] = 0;
  }

  protected serve(i: number, t: number): number {
    const b = this.buf[i];
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      if (this.pendLen[i] > 0) {
        const s = this.tcp.tcpSend(this.n, t, b, this.pendOff[i], this.pendLen[i]);
        if (s < 0) {
          this.sendErrors++;
          return SERVE_ABORT;
        }
        this.pendOff[i] += s;
        this.pendLen[i] -= s;
        this.bytesOut += s;
        if (s > 0) work++;
        if (this.pendLen[i] > 0) return work;
      }
      if (this.eof[i] !== 0) return SERVE_CLOSE;
      const r = this.tcp.tcpRecv(this.n, t, b, b.length);
      if (r === 0) return work;
      if (r === -1) {
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

/** TCP discard (RFC 863): read and drop until the client's FIN, then close. */
export class CompactTcpDiscard extends CompactTcpService {
  readonly name = 'tcp-discard';
  private readonly buf: Uint8Array;

  constructor(api: CompactApi, n: CompactNet, port: number, maxConns: number, chunk: number, idleMs: number, now: () => number, lim?: Partial<CompactSlotLimits>) {
    super(api, n, port, maxConns, idleMs, now, lim);
    this.buf = new Uint8Array(chunk);
  }

  protected onOpen(_i: number): void {
    // nothing per connection
  }

  protected serve(_i: number, t: number): number {
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      const r = this.tcp.tcpRecv(this.n, t, this.buf, this.buf.length);
      if (r === 0) return work;
      if (r === -1) return SERVE_CLOSE;
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

/** one period of the /bytes/N pattern */
export const PATTERN_PERIOD = 251 * 256;

const P_HDR = 0; // reading a request's header section
const P_BODY = 1; // reading an upload body (Content-Length)
const P_SEND = 2; // sending the response

const REASON: { [status: number]: string } = {
  200: 'OK', 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 411: 'Length Required',
  431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported',
};

/** One connection of CompactHttp. */
class HttpConn {
  phase = P_HDR;
  readonly hdr: Uint8Array;
  /** bytes in hdr: the header section being read, then what followed it (body, a pipelined request) */
  hdrLen = 0;
  keep = true;
  /** upload bytes still to read, and read so far */
  bodyRem = 0;
  bodyCount = 0;
  /** response head (and short body) not yet queued */
  out: Uint8Array = new Uint8Array(0);
  outOff = 0;
  /** /bytes/N: pattern bytes still to queue, and the stream position of the next */
  genRem = 0;
  genPos = 0;
  constructor(hdrMax: number) {
    this.hdr = new Uint8Array(hdrMax);
  }
}

export class CompactHttp extends CompactTcpService {
  readonly name = 'http';
  private readonly c: HttpConn[] = [];
  private readonly req = new HttpRequest();
  private readonly scratch: Uint8Array;
  /** one period of the pattern and one send's worth more: any stream position is a subarray */
  private readonly pat: Uint8Array;
  requests = 0;
  responses2xx = 0;
  responses4xx = 0;
  responses5xx = 0;
  bodyBytes = 0;
  patternBytes = 0;

  constructor(
    readonly api: CompactApi, n: CompactNet, port: number, maxConns: number, hdrMax: number, readonly chunk: number, idleMs: number, now: () => number,
    lim?: Partial<CompactSlotLimits>,
  ) {
    super(api, n, port, maxConns, idleMs, now, lim);
    for (let i = 0; i < maxConns; i++) this.c.push(new HttpConn(hdrMax));
    this.scratch = new Uint8Array(chunk);
    this.pat = new Uint8Array(PATTERN_PERIOD + chunk);
    fillPattern(this.pat, 0, this.pat.length, 0);
  }

  protected onOpen(i: number): void {
    const c = this.c[i];
    c.phase = P_HDR;
    c.hdrLen = 0;
    c.out = new Uint8Array(0);
    c.outOff = 0;
    c.genRem = 0;
    this.waitSince[i] = this.now(); // the header deadline runs from accept
  }

  protected serve(i: number, t: number): number {
    const c = this.c[i];
    const r0 = this.requests;
    let work = 0;
    for (let k = 0; k < TCP_BUDGET; k++) {
      const r = c.phase === P_HDR ? this.readHeader(c, t) : c.phase === P_BODY ? this.readBody(c, t) : this.sendSome(c, t);
      if (r < 0) return r;
      if (r === 0) break;
      work += r;
    }
    // the deadline clock: stopped while a request is read or answered, restarted once its response is queued
    if (c.phase !== P_HDR) this.waitSince[i] = -1;
    else if (this.waitSince[i] < 0 || this.requests !== r0) this.waitSince[i] = this.now();
    return work;
  }

  private readHeader(c: HttpConn, t: number): number {
    // a pipelined request may already be in the buffer
    let end = c.hdrLen > 0 ? httpHeaderEnd(c.hdr, 0, c.hdrLen) : -1;
    if (end < 0) {
      if (c.hdrLen >= c.hdr.length) return this.error(c, 431);
      const r = this.tcp.tcpRecv(this.n, t, c.hdr.subarray(c.hdrLen), c.hdr.length - c.hdrLen);
      if (r === 0) return 0;
      if (r === -1) return SERVE_CLOSE; // the client is done
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      c.hdrLen += r;
      end = httpHeaderEnd(c.hdr, 0, c.hdrLen);
      if (end < 0) return c.hdrLen >= c.hdr.length ? this.error(c, 431) : 1;
    }
    this.requests++;
    const req = this.req;
    const bad = httpParse(c.hdr, 0, end, req);
    let target = '';
    if (bad === 0) {
      const q = c.hdr.subarray(req.targetOff, req.targetOff + req.targetLen).indexOf(0x3f); // the path ends at '?'
      target = Buffer.from(c.hdr.buffer, c.hdr.byteOffset + req.targetOff, q >= 0 ? q : req.targetLen).toString('latin1');
    }
    // what follows the header section (body bytes, the next request) moves to the front
    c.hdr.copyWithin(0, end, c.hdrLen);
    c.hdrLen -= end;
    if (bad !== 0) return this.error(c, bad);
    if (req.minor === 1 && !req.hasHost) return this.error(c, 400);
    c.keep = !req.close;
    const get = req.method === M_GET || req.method === M_HEAD;
    const put = req.method === M_PUT || req.method === M_POST;
    const hasBody = req.chunked || req.contentLength > 0;
    if (target === '/upload') {
      if (!put) return this.respond(c, 405, 'Method Not Allowed\n', 'PUT, POST', 0, false);
      if (req.chunked) return this.error(c, 501); // uploads with Content-Length only
      c.bodyRem = req.contentLength > 0 ? req.contentLength : 0;
      c.bodyCount = 0;
      if (req.expectContinue) this.queue(c, 'HTTP/1.1 100 Continue\r\n\r\n');
      c.phase = P_BODY;
      return 1;
    }
    // a body nobody reads: answer, then close
    if (hasBody) c.keep = false;
    if (target === '/' || target.startsWith('/bytes/')) {
      if (!get) return this.respond(c, 405, 'Method Not Allowed\n', 'GET, HEAD', 0, false);
      if (target === '/') return this.respond(c, 200, this.statusPage(), '', 0, req.method === M_HEAD);
      const d = Buffer.from(target.substring(7), 'latin1');
      const len = parseDec(d, 0, d.length);
      if (len < 0) return this.error(c, 404);
      return this.respond(c, 200, '', '', len, req.method === M_HEAD);
    }
    return this.error(c, 404);
  }

  private readBody(c: HttpConn, t: number): number {
    if (c.outOff < c.out.length) {
      const r = this.flushOut(c, t);
      if (r <= 0) return r;
    }
    let got: number;
    if (c.hdrLen > 0) {
      // body bytes that came with the header section
      got = c.hdrLen < c.bodyRem ? c.hdrLen : c.bodyRem;
      c.hdr.copyWithin(0, got, c.hdrLen);
      c.hdrLen -= got;
    } else if (c.bodyRem > 0) {
      got = this.tcp.tcpRecv(this.n, t, this.scratch, c.bodyRem < this.scratch.length ? c.bodyRem : this.scratch.length);
      if (got === -1) return SERVE_CLOSE; // body cut short
      if (got < 0) return SERVE_ABORT;
      this.bytesIn += got;
    } else got = 0;
    c.bodyRem -= got;
    c.bodyCount += got;
    if (c.bodyRem > 0) return got > 0 ? 1 : 0;
    this.bodyBytes += c.bodyCount;
    return this.respond(c, 200, c.bodyCount + '\n', '', 0, false);
  }

  private error(c: HttpConn, status: number): number {
    c.keep = false;
    return this.respond(c, status, (REASON[status] || 'Error') + '\n', '', 0, false);
  }

  private statusPage(): string {
    const s = this.api.netStats(this.n);
    let p = 'slabnet compact (board bundle)\n';
    for (const k of Object.keys(s)) p += 'Net.' + k + ' ' + s[k] + '\n';
    return p;
  }

  /** Queue a response: status, a text body (or `pattern` bytes of /bytes/N), an Allow header for a 405. */
  private respond(c: HttpConn, status: number, body: string, allow: string, pattern: number, head: boolean): number {
    const len = pattern > 0 ? pattern : Buffer.byteLength(body, 'latin1');
    let h = 'HTTP/1.1 ' + status + ' ' + (REASON[status] || 'Error') + '\r\nServer: slabnet\r\nContent-Type: ' +
      (pattern > 0 ? 'application/octet-stream' : 'text/plain') + '\r\nContent-Length: ' + len;
    if (allow !== '') h += '\r\nAllow: ' + allow;
    h += c.keep ? '\r\nConnection: keep-alive\r\n\r\n' : '\r\nConnection: close\r\n\r\n';
    this.queue(c, head || pattern > 0 ? h : h + body);
    c.genPos = 0;
    c.genRem = head ? 0 : pattern;
    if (status < 300) this.responses2xx++;
    else if (status < 500) this.responses4xx++;
    else this.responses5xx++;
    c.phase = P_SEND;
    return 1;
  }

  /** Add s to what c has still to send (an interim 100 Continue may be unsent). */
  private queue(c: HttpConn, s: string): void {
    const rest = c.out.subarray(c.outOff);
    const b = Buffer.from(s, 'latin1');
    const out = new Uint8Array(rest.length + b.length);
    out.set(rest, 0);
    out.set(b, rest.length);
    c.out = out;
    c.outOff = 0;
  }

  /** 1 when all of c.out is queued, 0 when the send ring is full, < 0 to end. */
  private flushOut(c: HttpConn, t: number): number {
    const left = c.out.length - c.outOff;
    const s = this.tcp.tcpSend(this.n, t, c.out, c.outOff, left);
    if (s < 0) return SERVE_ABORT;
    c.outOff += s;
    this.bytesOut += s;
    return s < left ? 0 : 1;
  }

  private sendSome(c: HttpConn, t: number): number {
    if (c.outOff < c.out.length) {
      const r = this.flushOut(c, t);
      if (r <= 0) return r;
    }
    let work = 0;
    while (c.genRem > 0) {
      const k = c.genRem < this.chunk ? c.genRem : this.chunk;
      const s = this.tcp.tcpSend(this.n, t, this.pat, c.genPos % PATTERN_PERIOD, k);
      if (s < 0) return SERVE_ABORT;
      if (s === 0) return work;
      c.genPos += s;
      c.genRem -= s;
      this.bytesOut += s;
      this.patternBytes += s;
      work = 1;
    }
    // the whole response is queued
    if (!c.keep) return SERVE_CLOSE;
    c.phase = P_HDR;
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
