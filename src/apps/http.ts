/*
 * http.ts — a small HTTP/1.1 server (RFC 9110, RFC 9112) on port 80 for
 * demos, tests and throughput measurements:
 *
 *   GET|HEAD /          200 text/plain status page: the stack's counters
 *   GET|HEAD /sockets   200 text/plain `ss`-style socket listing (src/socket/netstat.ts; allocates)
 *   GET|HEAD /bytes/N   200 with exactly N bytes of a deterministic pattern
 *                       (http_parse.ts patternByte), generated into the send
 *                       buffer as space frees — never buffered whole
 *   PUT|POST /upload    the body (Content-Length or chunked) is read and
 *                       discarded; 200 with the decimal count of body bytes
 *   other paths 404, other methods 405 (with Allow), malformed 400,
 *   header section over hdrMax 431, transfer codings other than chunked
 *   501, HTTP/2+ on this port 505.
 *
 * Persistent connections (RFC 9112 §9.3): HTTP/1.1 keeps the connection
 * unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
 * Pipelined requests are served in order (the header buffer keeps what
 * follows a request). "Expect: 100-continue" gets the interim response.
 * After an error response the server half-closes and drains what the
 * client still sends (lingering close) so the client reads the response
 * instead of a reset. Slots cannot be held hostage (tcp_service.ts): a
 * request header must be complete within headerMs of accept, or of the
 * previous response being acknowledged on a kept-alive connection (bytes
 * trickling in do not extend it); stalled (zero window) and idle
 * connections are dropped; with all slots busy a newcomer takes the slot
 * that has waited longest for a request; one address is capped.
 *
 * Place in the packet path: an application on the stream adapter
 * (stream.ts → tcp_api.ts), driven by TcpService.run() after each poll.
 * Portable (Espruino, Lua): per-slot state in typed arrays and two
 * buffers of maxConns × (hdrMax, outMax) bytes, allocated up front;
 * requests and responses allocate nothing.
 */
import { socketList, formatSocketList } from '../socket/netstat';
import type { Stack } from '../stack';
import { MibBlock } from '../core/mib';
import { IntMibBlock } from '../transport/tcp/tcp';
import { streamRecv, streamSend, streamShutdownWr } from './stream';
import { TcpService, TcpLimits, SERVE_CLOSE, SERVE_ABORT, NEG_EAGAIN, checkTcpLimits } from './tcp_service';
import {
  HttpRequest, ChunkDecoder, httpHeaderEnd, httpParse, parseDec, eqBytes, putStr, putDec, putBytes, fillPattern,
  M_GET, M_HEAD, M_PUT, M_POST,
} from './http_parse';

export const HTTP_PORT = 80;

/** maxConns, idleMs, stallMs, headerMs, evictMs, perPeer: see TcpLimits (tcp_service.ts). */
export interface HttpOptions extends TcpLimits {
  /** largest request header section (bytes); larger → 431 */
  hdrMax: number;
  /** per-connection response buffer (headers + status page) */
  outMax: number;
  /** shared scratch buffer for body reads and pattern generation */
  scratch: number;
  /** after an error response, wait this long for the client to close */
  lingerMs: number;
}

/**
 * Defaults sized for a board-ish server (`slabnet up` sets its own in
 * src/cli/up.ts): a request within 5 s (Apache's KeepAliveTimeout; a
 * browser sends its header within one round trip, a lost segment is
 * retransmitted well inside it), 15 s idle, 5 s with a zero window,
 * a slot given away after 1 s without a request, perPeer auto
 * (half the slots, at least 2).
 */
export function defaultHttpOptions(): HttpOptions {
  return {
    maxConns: 16, hdrMax: 4096, outMax: 4096, scratch: 16384, idleMs: 15000, lingerMs: 2000,
    stallMs: 5000, headerMs: 5000, evictMs: 1000, perPeer: 0,
  };
}

/** '' when o is usable, else what is wrong. */
export function checkHttpOptions(o: HttpOptions): string {
  const t = checkTcpLimits(o);
  if (t !== '') return t;
  if (!(o.hdrMax >= 64) || Math.floor(o.hdrMax) !== o.hdrMax) return 'hdrMax must be an integer >= 64 (got ' + o.hdrMax + ')';
  if (!(o.outMax >= 256) || Math.floor(o.outMax) !== o.outMax) return 'outMax must be an integer >= 256 (got ' + o.outMax + ')';
  if (!(o.scratch >= 256) || Math.floor(o.scratch) !== o.scratch) return 'scratch must be an integer >= 256 (got ' + o.scratch + ')';
  if (!(o.lingerMs >= 0)) return 'lingerMs must be >= 0 (got ' + o.lingerMs + ')';
  if (!(o.headerMs > 0)) return 'headerMs must be > 0 for http (got ' + o.headerMs + ')';
  return '';
}

/* connection phases */
const P_HDR = 0; // reading the request header section
const P_BODY = 1; // reading (and discarding) the request body
const P_SEND = 2; // sending the response
const P_LINGER = 3; // half-closed after a final response: drain until the client closes

/* body framing */
const B_NONE = 0;
const B_LENGTH = 1;
const B_CHUNKED = 2;

/* what to answer once the request is read */
const K_ERROR = 0;
const K_STATUS = 1;
const K_BYTES = 2;
/** GET /sockets: the ss-style socket listing (allocates: a report page, like /proc/net/tcp) */
const K_SOCKETS = 4;
const K_UPLOAD = 3;

/** request handling rounds per slot per run() */
const HTTP_BUDGET = 16;

export class HttpService extends TcpService {
  readonly name = 'http';
  readonly opt: HttpOptions;
  private readonly req = new HttpRequest();
  private readonly scratch: Uint8Array;
  private readonly hdrBuf: Uint8Array;
  private readonly outBuf: Uint8Array;
  private readonly phase: Uint8Array;
  private readonly hdrLen: Int32Array;
  private readonly outOff: Int32Array;
  private readonly outLen: Int32Array;
  private readonly genPos: Float64Array;
  private readonly genRem: Float64Array;
  private readonly keep: Uint8Array;
  private readonly bodyMode: Uint8Array;
  private readonly bodyRem: Float64Array;
  private readonly bodyCount: Float64Array;
  private readonly kind: Uint8Array;
  private readonly status: Int32Array;
  private readonly arg: Float64Array;
  private readonly head: Uint8Array;
  private readonly allow: Uint8Array;
  private readonly lingerAt: Float64Array;
  private readonly chunk: ChunkDecoder;
  private readonly startedAt: number;
  /* counters */
  requests = 0;
  responses2xx = 0;
  responses4xx = 0;
  responses5xx = 0;
  bodyBytes = 0;
  patternBytes = 0;

  constructor(st: Stack, port: number, o: HttpOptions) {
    super(st, port, o, o.maxConns);
    const bad = checkHttpOptions(o);
    if (bad !== '') throw new Error('http on port ' + port + ': ' + bad);
    this.opt = o;
    const n = o.maxConns;
    this.scratch = new Uint8Array(o.scratch);
    this.hdrBuf = new Uint8Array(n * o.hdrMax);
    this.outBuf = new Uint8Array(n * o.outMax);
    this.phase = new Uint8Array(n);
    this.hdrLen = new Int32Array(n);
    this.outOff = new Int32Array(n);
    this.outLen = new Int32Array(n);
    this.genPos = new Float64Array(n);
    this.genRem = new Float64Array(n);
    this.keep = new Uint8Array(n);
    this.bodyMode = new Uint8Array(n);
    this.bodyRem = new Float64Array(n);
    this.bodyCount = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.status = new Int32Array(n);
    this.arg = new Float64Array(n);
    this.head = new Uint8Array(n);
    this.allow = new Uint8Array(n);
    this.lingerAt = new Float64Array(n);
    this.chunk = new ChunkDecoder(n);
    this.startedAt = st.now();
  }

  protected onOpen(i: number): void {
    this.phase[i] = P_HDR;
    this.hdrLen[i] = 0;
    this.outOff[i] = 0;
    this.outLen[i] = 0;
    this.genRem[i] = 0;
    this.keep[i] = 1;
    this.bodyMode[i] = B_NONE;
    this.waitSince[i] = this.st.now(); // the header deadline runs from accept
  }

  protected serve(i: number, h: number): number {
    let work = 0;
    for (let k = 0; k < HTTP_BUDGET; k++) {
      const ph = this.phase[i];
      let r: number;
      if (ph === P_SEND) r = this.sendSome(i, h);
      else if (ph === P_HDR) r = this.readHeader(i, h);
      else if (ph === P_BODY) r = this.readBody(i, h);
      else r = this.linger(i, h);
      if (r < 0) return r;
      if (r === 0) return work;
      work += r;
    }
    return work;
  }

  /* ---------------- reading a request ---------------- */

  private readHeader(i: number, h: number): number {
    const max = this.opt.hdrMax;
    const base = i * max;
    const buf = this.hdrBuf;
    let len = this.hdrLen[i];
    // on a kept-alive connection the clock starts once our previous response is acknowledged
    if (len === 0 && this.outq[i] > 0) this.waitSince[i] = this.st.now();
    let end = len > 0 ? httpHeaderEnd(buf, base, len) : -1;
    if (end < 0) {
      if (len >= max) {
        this.error(i, 431);
        return 1;
      }
      const r = streamRecv(this.st, h, buf, base + len, max - len);
      if (r === NEG_EAGAIN) return 0;
      if (r === 0) return SERVE_CLOSE; // the client is done (or gave up mid-request)
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      len += r;
      this.hdrLen[i] = len;
      end = httpHeaderEnd(buf, base, len);
      if (end < 0) {
        if (len >= max) this.error(i, 431);
        return 1;
      }
    }
    // a complete header section in buf[base .. end): the deadline is met
    this.requests++;
    this.waitSince[i] = -1;
    const req = this.req;
    const bad = httpParse(buf, base, end, req);
    if (bad === 0) this.route(i, req);
    // keep what follows (body start or a pipelined request) at the front
    const rest = base + len - end;
    for (let j = 0; j < rest; j++) buf[base + j] = buf[end + j];
    this.hdrLen[i] = rest;
    if (bad !== 0) {
      this.error(i, bad);
      return 1;
    }
    this.head[i] = req.method === M_HEAD ? 1 : 0;
    this.keep[i] = req.close ? 0 : 1;
    if (req.chunked) {
      this.bodyMode[i] = B_CHUNKED;
      this.chunk.reset(i);
    } else if (req.contentLength > 0) {
      this.bodyMode[i] = B_LENGTH;
      this.bodyRem[i] = req.contentLength;
    } else {
      this.bodyMode[i] = B_NONE;
    }
    this.bodyCount[i] = 0;
    if (this.bodyMode[i] === B_NONE) {
      this.respond(i);
      return 1;
    }
    if (this.kind[i] !== K_UPLOAD && req.expectContinue) {
      // refuse the body instead of inviting it (RFC 9110 §10.1.1); then close
      this.keep[i] = 0;
      this.respond(i);
      return 1;
    }
    if (req.expectContinue) {
      const o = i * this.opt.outMax;
      this.outOff[i] = 0;
      this.outLen[i] = putStr(this.outBuf, o, 'HTTP/1.1 100 Continue\r\n\r\n') - o;
    }
    this.phase[i] = P_BODY;
    return 1;
  }

  /** Decide the answer from method and target (the body, if any, is read first). */
  private route(i: number, req: HttpRequest): void {
    const t = this.hdrBuf;
    const off = req.targetOff;
    let len = req.targetLen;
    // path ends at '?'
    for (let j = 0; j < len; j++) {
      if (t[off + j] === 0x3f) {
        len = j;
        break;
      }
    }
    const m = req.method;
    const isGet = m === M_GET || m === M_HEAD;
    this.arg[i] = 0;
    this.allow[i] = 0;
    if (len === 1 && t[off] === 0x2f) {
      this.setAnswer(i, isGet ? K_STATUS : K_ERROR, isGet ? 200 : 405, 1);
    } else if (eqBytes(t, off, len, '/sockets')) {
      this.setAnswer(i, isGet ? K_SOCKETS : K_ERROR, isGet ? 200 : 405, 1);
    } else if (len > 7 && eqBytes(t, off, 7, '/bytes/')) {
      const n = parseDec(t, off + 7, len - 7);
      if (n < 0) this.setAnswer(i, K_ERROR, 404, 0);
      else {
        this.arg[i] = n;
        this.setAnswer(i, isGet ? K_BYTES : K_ERROR, isGet ? 200 : 405, 1);
      }
    } else if (eqBytes(t, off, len, '/upload')) {
      const up = m === M_PUT || m === M_POST;
      this.setAnswer(i, up ? K_UPLOAD : K_ERROR, up ? 200 : 405, 2);
    } else {
      this.setAnswer(i, K_ERROR, 404, 0);
    }
  }

  private setAnswer(i: number, kind: number, status: number, allow: number): void {
    this.kind[i] = kind;
    this.status[i] = status;
    if (status === 405) this.allow[i] = allow;
  }

  private readBody(i: number, h: number): number {
    // an interim 100 Continue goes out first
    if (this.outLen[i] > this.outOff[i]) {
      const r = this.flushOut(i, h);
      if (r <= 0) return r;
    }
    const max = this.opt.hdrMax;
    const base = i * max;
    const hb = this.hdrBuf;
    const mode = this.bodyMode[i];
    let got = 0;
    // 1. body bytes that came with the header section
    const have = this.hdrLen[i];
    if (have > 0) {
      let used: number;
      if (mode === B_LENGTH) {
        used = have < this.bodyRem[i] ? have : this.bodyRem[i];
        this.bodyRem[i] -= used;
        this.bodyCount[i] += used;
      } else {
        const before = this.chunk.total[i];
        used = this.chunk.feed(i, hb, base, have);
        this.bodyCount[i] += this.chunk.total[i] - before;
      }
      for (let j = used; j < have; j++) hb[base + j - used] = hb[base + j];
      this.hdrLen[i] = have - used;
      got += used;
    } else {
      // 2. from the socket
      const sc = this.scratch;
      let want = sc.length;
      if (mode === B_LENGTH && this.bodyRem[i] < want) want = this.bodyRem[i];
      if (mode === B_CHUNKED && max < want) want = max; // what is left over must fit in hdrBuf
      const r = streamRecv(this.st, h, sc, 0, want);
      if (r === NEG_EAGAIN) return 0;
      if (r === 0) return SERVE_CLOSE; // body cut short: nothing sensible to answer
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      got += r;
      if (mode === B_LENGTH) {
        this.bodyRem[i] -= r;
        this.bodyCount[i] += r;
      } else {
        const before = this.chunk.total[i];
        const used = this.chunk.feed(i, sc, 0, r);
        this.bodyCount[i] += this.chunk.total[i] - before;
        if (used < r) {
          // the next (pipelined) request starts here
          this.hdrLen[i] = putBytes(hb, base, sc, used, r - used) - base;
        }
      }
    }
    if (mode === B_CHUNKED && this.chunk.failed(i)) {
      this.error(i, 400);
      return 1;
    }
    const done = mode === B_LENGTH ? this.bodyRem[i] === 0 : this.chunk.done(i);
    if (done) {
      this.bodyBytes += this.bodyCount[i];
      this.respond(i);
    }
    return got > 0 ? 1 : 0;
  }

  /* ---------------- answering ---------------- */

  /** A final error response; the connection closes after it. */
  private error(i: number, status: number): void {
    this.kind[i] = K_ERROR;
    this.status[i] = status;
    this.allow[i] = 0;
    this.keep[i] = 0;
    this.head[i] = 0;
    this.respond(i);
  }

  private respond(i: number): void {
    const ob = this.outBuf;
    const o = i * this.opt.outMax;
    const lim = o + this.opt.outMax;
    const status = this.status[i];
    const kind = this.kind[i];
    const sc = this.scratch;
    // the body (except the generated pattern) first, into scratch: its length goes in the header
    let bodyLen = 0;
    if (kind === K_STATUS) bodyLen = this.renderStatus(sc, this.opt.outMax - 200 < sc.length ? this.opt.outMax - 200 : sc.length);
    else if (kind === K_SOCKETS) {
      const max = this.opt.outMax - 200 < sc.length ? this.opt.outMax - 200 : sc.length;
      const txt = formatSocketList(socketList(this.st));
      bodyLen = putStr(sc, 0, txt.length > max ? txt.substring(0, max) : txt);
    }
    else if (kind === K_UPLOAD) {
      bodyLen = putDec(sc, 0, this.bodyCount[i]);
      sc[bodyLen++] = 0x0a;
    } else if (kind === K_ERROR) bodyLen = putStr(sc, putStr(sc, 0, reason(status)), '\n');
    let p = putStr(ob, o, 'HTTP/1.1 ');
    p = putDec(ob, p, status);
    p = putStr(ob, p, ' ');
    p = putStr(ob, p, reason(status));
    p = putStr(ob, p, '\r\nServer: slabnet\r\nContent-Type: ');
    p = putStr(ob, p, kind === K_BYTES ? 'application/octet-stream' : 'text/plain');
    p = putStr(ob, p, '\r\nContent-Length: ');
    p = putDec(ob, p, kind === K_BYTES ? this.arg[i] : bodyLen);
    if (this.allow[i] !== 0) p = putStr(ob, p, this.allow[i] === 1 ? '\r\nAllow: GET, HEAD' : '\r\nAllow: PUT, POST');
    p = putStr(ob, p, this.keep[i] !== 0 ? '\r\nConnection: keep-alive\r\n\r\n' : '\r\nConnection: close\r\n\r\n');
    if (this.head[i] === 0 && kind !== K_BYTES) p = putBytes(ob, p, sc, 0, bodyLen < lim - p ? bodyLen : lim - p);
    // (an interim 100 Continue already sent is gone from outBuf: flushOut ran first)
    this.outOff[i] = 0;
    this.outLen[i] = p - o;
    this.genPos[i] = 0;
    this.genRem[i] = kind === K_BYTES && this.head[i] === 0 ? this.arg[i] : 0;
    this.waitSince[i] = -1; // answering: no request is awaited until this one is done
    if (status >= 200 && status < 300) this.responses2xx++;
    else if (status < 500) this.responses4xx++;
    else this.responses5xx++;
    this.phase[i] = P_SEND;
  }

  /** Send what is left of outBuf: 1 when all of it is queued, 0 when the send buffer is full, <0 to close. */
  private flushOut(i: number, h: number): number {
    const o = i * this.opt.outMax;
    const left = this.outLen[i] - this.outOff[i];
    const n = streamSend(this.st, h, this.outBuf, o + this.outOff[i], left);
    if (n === NEG_EAGAIN) return 0;
    if (n < 0) return SERVE_ABORT;
    this.outOff[i] += n;
    this.bytesOut += n;
    if (n < left) return 0;
    this.outOff[i] = 0;
    this.outLen[i] = 0;
    return 1;
  }

  private sendSome(i: number, h: number): number {
    if (this.outLen[i] > this.outOff[i]) {
      const r = this.flushOut(i, h);
      if (r <= 0) return r;
    }
    const st = this.st;
    const sc = this.scratch;
    let sent = 0;
    while (this.genRem[i] > 0) {
      const want = this.genRem[i] < sc.length ? this.genRem[i] : sc.length;
      fillPattern(sc, 0, want, this.genPos[i]);
      const n = streamSend(st, h, sc, 0, want);
      if (n === NEG_EAGAIN) return sent > 0 ? 1 : 0;
      if (n < 0) return SERVE_ABORT;
      this.genPos[i] += n;
      this.genRem[i] -= n;
      this.bytesOut += n;
      this.patternBytes += n;
      sent += n;
      if (n < want) return 1;
    }
    // the whole response is queued
    if (this.keep[i] !== 0) {
      this.phase[i] = P_HDR;
      this.waitSince[i] = st.now();
      return 1;
    }
    streamShutdownWr(st, h);
    this.phase[i] = P_LINGER;
    this.lingerAt[i] = st.now();
    return 1;
  }

  private linger(i: number, h: number): number {
    const r = streamRecv(this.st, h, this.scratch, 0, this.scratch.length);
    if (r === NEG_EAGAIN) {
      return this.st.now() - this.lingerAt[i] > this.opt.lingerMs ? SERVE_CLOSE : 0;
    }
    if (r === 0) return SERVE_CLOSE;
    if (r < 0) return SERVE_ABORT;
    return 1;
  }

  /** The status page into b[0..max): returns its length. */
  private renderStatus(b: Uint8Array, max: number): number {
    let p = putStr(b, 0, 'slabnet ');
    p = putStr(b, p, this.st.name);
    p = putStr(b, p, '\nuptime_ms ');
    p = putDec(b, p, this.st.now() - this.startedAt);
    p = putStr(b, p, '\nhttp.requests ');
    p = putDec(b, p, this.requests);
    p = putStr(b, p, '\nhttp.active ');
    p = putDec(b, p, this.active);
    p = putStr(b, p, '\npool.inUse ');
    p = putDec(b, p, this.st.pool.inUse());
    b[p++] = 0x0a;
    const blocks = this.st.mib.blocks;
    for (let k = 0; k < blocks.length; k++) {
      const blk: MibBlock = blocks[k];
      if (blk instanceof IntMibBlock) blk.sync();
      const v = blk.v;
      for (let j = 0; j < v.length; j++) {
        if (v[j] === 0) continue;
        // counter name, or "c<j>" without FEATURE_MIB_NAMES
        const cn = blk.nameOf(j);
        // room for the longest line: name lengths + 16 digits + separators
        if (p + blk.name.length + cn.length + 20 > max) return p;
        p = putStr(b, p, blk.name);
        b[p++] = 0x2e;
        p = putStr(b, p, cn);
        b[p++] = 0x20;
        p = putDec(b, p, v[j]);
        b[p++] = 0x0a;
      }
    }
    return p;
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

/** Reason phrase (RFC 9110 §15). */
export function reason(status: number): string {
  switch (status) {
    case 100:
      return 'Continue';
    case 200:
      return 'OK';
    case 400:
      return 'Bad Request';
    case 404:
      return 'Not Found';
    case 405:
      return 'Method Not Allowed';
    case 431:
      return 'Request Header Fields Too Large';
    case 501:
      return 'Not Implemented';
    case 505:
      return 'HTTP Version Not Supported';
    default:
      return 'Error';
  }
}
