/*
 * http_parse.ts — HTTP/1.1 request parsing for the small http server
 * (RFC 9112 §2-§7, RFC 9110 §5, §10.1.1), plus the byte writers the
 * server builds its responses with.
 *
 *   httpHeaderEnd  — where the header section ends (after the empty line)
 *   httpParse      — request line + header fields into a preallocated
 *                    HttpRequest; returns 0 or the HTTP error status
 *                    (400 malformed, 501 unsupported transfer coding,
 *                    505 unsupported version)
 *   ChunkDecoder   — chunked transfer coding (RFC 9112 §7.1), a byte state
 *                    machine over per-connection typed arrays
 *   putStr/putDec  — response writers
 *
 * Portable (Espruino, Lua): no allocation, no strings created; header
 * names are compared byte by byte against constant strings.
 */

export const M_NONE = 0;
export const M_GET = 1;
export const M_HEAD = 2;
export const M_PUT = 3;
export const M_POST = 4;
/** a well-formed method token we do not implement */
export const M_OTHER = 5;

/** Largest Content-Length / chunk size accepted (2^48): beyond it is 400. */
export const HTTP_MAX_LENGTH = 281474976710656;

/** The parsed request (one per server, reused for every request). */
export class HttpRequest {
  method = M_NONE;
  /** request-target bytes: buf[targetOff .. targetOff + targetLen) */
  targetOff = 0;
  targetLen = 0;
  /** HTTP/1.x minor version */
  minor = 1;
  /** Content-Length, -1 when absent */
  contentLength = -1;
  chunked = false;
  /** the connection must close after this response (Connection: close, or HTTP/1.0 without keep-alive) */
  close = false;
  expectContinue = false;
  hasHost = false;
}

/* token characters (RFC 9110 §5.6.2) */
function isTchar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    c === 0x21 || c === 0x23 || c === 0x24 || c === 0x25 || c === 0x26 || c === 0x27 || c === 0x2a ||
    c === 0x2b || c === 0x2d || c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e
  );
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** buf[off..off+len) equals the lower-case constant s, ignoring ASCII case. */
export function eqNoCase(buf: Uint8Array, off: number, len: number, s: string): boolean {
  if (len !== s.length) return false;
  for (let i = 0; i < len; i++) if (lower(buf[off + i]) !== s.charCodeAt(i)) return false;
  return true;
}

/** buf[off..off+len) equals s exactly. */
export function eqBytes(buf: Uint8Array, off: number, len: number, s: string): boolean {
  if (len !== s.length) return false;
  for (let i = 0; i < len; i++) if (buf[off + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * End of the header section in buf[off..off+len): the index just after the
 * empty line (CRLF CRLF, bare LFs tolerated, RFC 9112 §2.2), or -1 when not
 * there yet. Empty lines before the request line are skipped (§2.2).
 */
export function httpHeaderEnd(buf: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let i = off;
  // leading empty lines
  while (i < end && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  for (; i < end; i++) {
    if (buf[i] !== 0x0a) continue;
    // a line ended at i: is the next line empty?
    let j = i + 1;
    if (j < end && buf[j] === 0x0d) j++;
    if (j < end && buf[j] === 0x0a) return j + 1;
  }
  return -1;
}

/** Decimal digits buf[off..off+len) → value, or -1 (empty, not digits, too large). */
export function parseDec(buf: Uint8Array, off: number, len: number): number {
  if (len <= 0 || len > 15) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = buf[off + i];
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v > HTTP_MAX_LENGTH ? -1 : v;
}

/** Trim optional whitespace (SP / HTAB) around buf[off..end): writes into trim[0..1] = off, end. */
function owsTrim(buf: Uint8Array, off: number, end: number, trim: Int32Array): void {
  let a = off;
  let b = end;
  while (a < b && (buf[a] === 0x20 || buf[a] === 0x09)) a++;
  while (b > a && (buf[b - 1] === 0x20 || buf[b - 1] === 0x09)) b--;
  trim[0] = a;
  trim[1] = b;
}

const scratch2 = new Int32Array(2);

/**
 * Parse the header section buf[off..end) (end from httpHeaderEnd) into req.
 * Returns 0, or the HTTP status to answer with: 400 (malformed), 501
 * (transfer coding other than chunked), 505 (not HTTP/1.x).
 */
export function httpParse(buf: Uint8Array, off: number, end: number, req: HttpRequest): number {
  req.method = M_NONE;
  req.targetOff = 0;
  req.targetLen = 0;
  req.minor = 1;
  req.contentLength = -1;
  req.chunked = false;
  req.close = false;
  req.expectContinue = false;
  req.hasHost = false;
  let i = off;
  while (i < end && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  /* ---- request-line = method SP request-target SP HTTP-version CRLF ---- */
  const m0 = i;
  while (i < end && isTchar(buf[i])) i++;
  const mlen = i - m0;
  if (mlen === 0 || i >= end || buf[i] !== 0x20) return 400;
  if (eqBytes(buf, m0, mlen, 'GET')) req.method = M_GET;
  else if (eqBytes(buf, m0, mlen, 'HEAD')) req.method = M_HEAD;
  else if (eqBytes(buf, m0, mlen, 'PUT')) req.method = M_PUT;
  else if (eqBytes(buf, m0, mlen, 'POST')) req.method = M_POST;
  else req.method = M_OTHER;
  i++;
  const t0 = i;
  while (i < end && buf[i] > 0x20 && buf[i] < 0x7f) i++;
  if (i === t0 || i >= end || buf[i] !== 0x20) return 400;
  req.targetOff = t0;
  req.targetLen = i - t0;
  i++;
  // HTTP-version = "HTTP/" DIGIT "." DIGIT
  if (end - i < 8) return 400;
  if (!eqBytes(buf, i, 5, 'HTTP/')) return 400;
  const maj = buf[i + 5];
  const min = buf[i + 7];
  if (maj < 0x30 || maj > 0x39 || buf[i + 6] !== 0x2e || min < 0x30 || min > 0x39) return 400;
  i += 8;
  if (i < end && buf[i] === 0x0d) i++;
  if (i >= end || buf[i] !== 0x0a) return 400;
  i++;
  if (maj !== 0x31) return 505;
  req.minor = min - 0x30;
  let keepAlive = false;
  let teSeen = false;
  /* ---- field-line = field-name ":" OWS field-value OWS CRLF ---- */
  while (i < end) {
    if (buf[i] === 0x0d || buf[i] === 0x0a) break; // the empty line
    if (buf[i] === 0x20 || buf[i] === 0x09) return 400; // obs-fold (§5.2)
    const n0 = i;
    while (i < end && isTchar(buf[i])) i++;
    const nlen = i - n0;
    if (nlen === 0 || i >= end || buf[i] !== 0x3a) return 400; // no name, or whitespace before ':' (§5.1)
    i++;
    const v0 = i;
    while (i < end && buf[i] !== 0x0a) {
      const c = buf[i];
      if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f) return 400;
      if (c === 0x0d && (i + 1 >= end || buf[i + 1] !== 0x0a)) return 400; // bare CR
      i++;
    }
    if (i >= end) return 400;
    let v1 = i;
    if (v1 > v0 && buf[v1 - 1] === 0x0d) v1--;
    i++;
    owsTrim(buf, v0, v1, scratch2);
    const va = scratch2[0];
    const vlen = scratch2[1] - va;
    if (eqNoCase(buf, n0, nlen, 'content-length')) {
      const v = parseDec(buf, va, vlen);
      if (v < 0) return 400;
      if (req.contentLength >= 0 && req.contentLength !== v) return 400; // conflicting duplicates (§6.3)
      req.contentLength = v;
    } else if (eqNoCase(buf, n0, nlen, 'transfer-encoding')) {
      // only "chunked" (case-insensitive), alone (§6.1, §7)
      if (teSeen || !eqNoCase(buf, va, vlen, 'chunked')) return 501;
      teSeen = true;
      req.chunked = true;
    } else if (eqNoCase(buf, n0, nlen, 'connection')) {
      // comma-separated options (§9.6)
      let k = va;
      const e = va + vlen;
      while (k < e) {
        let j = k;
        while (j < e && buf[j] !== 0x2c) j++;
        owsTrim(buf, k, j, scratch2);
        const ol = scratch2[1] - scratch2[0];
        if (eqNoCase(buf, scratch2[0], ol, 'close')) req.close = true;
        else if (eqNoCase(buf, scratch2[0], ol, 'keep-alive')) keepAlive = true;
        k = j + 1;
      }
    } else if (eqNoCase(buf, n0, nlen, 'expect')) {
      if (eqNoCase(buf, va, vlen, '100-continue')) req.expectContinue = true;
    } else if (eqNoCase(buf, n0, nlen, 'host')) {
      if (req.hasHost) return 400; // more than one Host (RFC 9112 §3.2)
      req.hasHost = true;
    }
  }
  // a message with both is a smuggling attempt or a broken proxy: reject (§6.3 item 3)
  if (req.chunked && req.contentLength >= 0) return 400;
  // HTTP/1.1 requests carry exactly one Host (§3.2)
  if (req.minor >= 1 && !req.hasHost) return 400;
  if (req.minor === 0 && !keepAlive) req.close = true;
  return 0;
}

/* ---------------- chunked transfer coding (RFC 9112 §7.1) ---------------- */

const CK_SIZE = 0; // chunk-size hex digits
const CK_EXT = 1; // chunk-ext until end of line
const CK_SIZE_LF = 2; // after CR of the size line
const CK_DATA = 3;
const CK_DATA_CR = 4;
const CK_DATA_LF = 5;
const CK_TRAILER = 6; // at the start of a trailer line (or the final empty line)
const CK_TRAILER_LINE = 7;
const CK_END_LF = 8; // after CR of the final empty line
export const CK_DONE = 9;
export const CK_ERROR = 10;

/**
 * A chunked-body decoder per connection slot: feed() consumes bytes and
 * counts the payload; the data is not kept (the server discards it).
 */
export class ChunkDecoder {
  readonly state: Uint8Array;
  /** bytes left in the current chunk, or the size being parsed */
  readonly rem: Float64Array;
  readonly digits: Uint8Array;
  /** payload bytes of the body so far */
  readonly total: Float64Array;

  constructor(slots: number) {
    this.state = new Uint8Array(slots);
    this.rem = new Float64Array(slots);
    this.digits = new Uint8Array(slots);
    this.total = new Float64Array(slots);
  }

  reset(i: number): void {
    this.state[i] = CK_SIZE;
    this.rem[i] = 0;
    this.digits[i] = 0;
    this.total[i] = 0;
  }

  done(i: number): boolean {
    return this.state[i] === CK_DONE;
  }

  failed(i: number): boolean {
    return this.state[i] === CK_ERROR;
  }

  /**
   * Consume buf[off..off+len) for slot i. Returns the bytes consumed: all of
   * them, or fewer when the body ended (the rest belongs to the next
   * request). On malformed input the state becomes CK_ERROR.
   */
  feed(i: number, buf: Uint8Array, off: number, len: number): number {
    let k = off;
    const end = off + len;
    let s = this.state[i];
    while (k < end && s !== CK_DONE && s !== CK_ERROR) {
      const c = buf[k];
      if (s === CK_DATA) {
        const left = this.rem[i];
        const avail = end - k;
        const take = avail < left ? avail : left;
        k += take;
        this.total[i] += take;
        this.rem[i] = left - take;
        if (this.rem[i] === 0) s = CK_DATA_CR;
        continue;
      }
      k++;
      if (s === CK_SIZE) {
        let d = -1;
        if (c >= 0x30 && c <= 0x39) d = c - 0x30;
        else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
        else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
        if (d >= 0) {
          if (this.digits[i] >= 12) s = CK_ERROR; // over 2^48
          else {
            this.rem[i] = this.rem[i] * 16 + d;
            this.digits[i]++;
          }
        } else if (this.digits[i] === 0) s = CK_ERROR;
        else if (c === 0x3b || c === 0x20 || c === 0x09) s = CK_EXT;
        else if (c === 0x0d) s = CK_SIZE_LF;
        else if (c === 0x0a) s = this.endSizeLine(i);
        else s = CK_ERROR;
      } else if (s === CK_EXT) {
        if (c === 0x0d) s = CK_SIZE_LF;
        else if (c === 0x0a) s = this.endSizeLine(i);
        else if (c < 0x20 && c !== 0x09) s = CK_ERROR;
      } else if (s === CK_SIZE_LF) {
        s = c === 0x0a ? this.endSizeLine(i) : CK_ERROR;
      } else if (s === CK_DATA_CR) {
        if (c === 0x0d) s = CK_DATA_LF;
        else if (c === 0x0a) s = CK_SIZE;
        else s = CK_ERROR;
      } else if (s === CK_DATA_LF) {
        s = c === 0x0a ? CK_SIZE : CK_ERROR;
      } else if (s === CK_TRAILER) {
        if (c === 0x0d) s = CK_END_LF;
        else if (c === 0x0a) s = CK_DONE;
        else s = CK_TRAILER_LINE;
      } else if (s === CK_TRAILER_LINE) {
        if (c === 0x0a) s = CK_TRAILER;
      } else if (s === CK_END_LF) {
        s = c === 0x0a ? CK_DONE : CK_ERROR;
      }
      if (s === CK_SIZE && this.state[i] !== CK_SIZE) {
        this.rem[i] = 0;
        this.digits[i] = 0;
      }
      this.state[i] = s;
    }
    this.state[i] = s;
    return k - off;
  }

  private endSizeLine(i: number): number {
    if (this.rem[i] === 0) return CK_TRAILER; // last-chunk
    return CK_DATA;
  }
}

/* ---------------- response writers ---------------- */

/** Write the ASCII string s at buf[off]; returns the new offset (stops at the end of buf). */
export function putStr(buf: Uint8Array, off: number, s: string): number {
  let o = off;
  const n = s.length;
  for (let i = 0; i < n && o < buf.length; i++) buf[o++] = s.charCodeAt(i) & 0xff;
  return o;
}

/** Write buf[srcOff..srcOff+len) of another buffer at dst[off]; returns the new offset. */
export function putBytes(dst: Uint8Array, off: number, src: Uint8Array, srcOff: number, len: number): number {
  let o = off;
  for (let i = 0; i < len && o < dst.length; i++) dst[o++] = src[srcOff + i];
  return o;
}

/** Write the non-negative integer v in decimal at buf[off]; returns the new offset. */
export function putDec(buf: Uint8Array, off: number, v: number): number {
  let x = v >= 0 ? Math.floor(v) : 0;
  let digits = 1;
  let p = 10;
  while (p <= x && digits < 16) {
    p *= 10;
    digits++;
  }
  if (off + digits > buf.length) return off;
  for (let i = digits - 1; i >= 0; i--) {
    const q = Math.floor(x / 10);
    buf[off + i] = (0x30 + (x - q * 10)) & 0xff;
    x = q;
  }
  return off + digits;
}

/** The deterministic byte at position pos of /bytes/N bodies: ((pos mod 251) + floor(pos / 251)) mod 256. */
export function patternByte(pos: number): number {
  const q = Math.floor(pos / 251);
  return ((pos - q * 251) + q) & 0xff;
}

/** Fill buf[off..off+len) with the /bytes/N pattern starting at stream position pos. */
export function fillPattern(buf: Uint8Array, off: number, len: number, pos: number): void {
  let q = Math.floor(pos / 251);
  let r = pos - q * 251;
  for (let i = 0; i < len; i++) {
    buf[off + i] = (r + q) & 0xff;
    r++;
    if (r === 251) {
      r = 0;
      q++;
    }
  }
}
