/*
 * dns.ts — the DNS message format (RFC 1035 §4; RFC 2181 §8, §11; RFC
 * 2308 §2 for NXDOMAIN/NODATA; RFC 5452 §9.1 for matching answers to
 * questions) and a parser that treats every message as hostile, with the
 * lessons of RFC 9267 and the NAME:WRECK reports:
 *
 *   - a compression pointer points strictly before the start of the run
 *     of labels that holds it (so before the name's start, and after a
 *     jump before the jump's target): every jump goes backwards, no loop
 *     can form; never into the 12-byte header; at most DNS_PTR_MAX jumps
 *     per name;
 *   - a label is 1..63 bytes (0x40/0x80 label types are rejected), a name
 *     is at most 255 bytes uncompressed, counted as it is read;
 *   - nothing is read outside msg[base..end): every offset is checked
 *     before the byte is read;
 *   - counts are never trusted: a section is walked only as far as the
 *     bytes go, and a count that claims more records than the message
 *     holds makes the message malformed; RDLENGTH is checked against the
 *     end and against the record type (A: 4; CNAME: one name, exactly).
 *
 * Work per name is bounded (≤ 127 labels + DNS_PTR_MAX jumps, ≤ 255
 * bytes copied or compared); work per message by the answer limit of the
 * DnsAnswer scratch and the CNAME chain limit.
 *
 * Place in the packet path: none — header formats and parsing only
 * (smoltcp wire/ style): src/apps/dns_resolver.ts (the stub resolver)
 * and src/apps/dns_server.ts (the simulation's server) build and parse
 * with these. Nothing here allocates except the *String helpers, which
 * are for the application edge (names given as strings, diagnostics).
 *
 * Names inside slabnet are kept in the uncompressed wire form ("flat"):
 * length-prefixed labels ending with the zero byte, at most 255 bytes.
 */
import { get16, put16, get32 } from '../core/bytes';
import { getAddr } from '../core/inaddr';

export const DNS_PORT = 53;
/** largest message over UDP without EDNS (RFC 1035 §2.3.4, §4.2.1) */
export const DNS_UDP_MAX = 512;

/* header (RFC 1035 §4.1.1) */
export const DNS_HLEN = 12;
export const DNS_ID = 0;
export const DNS_FLAGS = 2;
export const DNS_QDCOUNT = 4;
export const DNS_ANCOUNT = 6;
export const DNS_NSCOUNT = 8;
export const DNS_ARCOUNT = 10;

/* flags word */
export const DNS_F_QR = 0x8000;
export const DNS_F_OPCODE = 0x7800;
export const DNS_F_AA = 0x0400;
export const DNS_F_TC = 0x0200;
export const DNS_F_RD = 0x0100;
export const DNS_F_RA = 0x0080;
export const DNS_F_Z = 0x0040;
export const DNS_F_AD = 0x0020;
export const DNS_F_CD = 0x0010;
export const DNS_F_RCODE = 0x000f;
export const DNS_OPCODE_SHIFT = 11;
export const DNS_OPCODE_QUERY = 0;

/* RCODE (RFC 1035 §4.1.1) */
export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_FORMERR = 1;
export const DNS_RCODE_SERVFAIL = 2;
export const DNS_RCODE_NXDOMAIN = 3;
export const DNS_RCODE_NOTIMP = 4;
export const DNS_RCODE_REFUSED = 5;

/* TYPE / QTYPE (RFC 1035 §3.2.2, §3.2.3; RFC 3596; RFC 6891) */
export const DNS_TYPE_A = 1;
export const DNS_TYPE_NS = 2;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_SOA = 6;
export const DNS_TYPE_PTR = 12;
export const DNS_TYPE_MX = 15;
export const DNS_TYPE_TXT = 16;
export const DNS_TYPE_AAAA = 28;
export const DNS_TYPE_OPT = 41;
export const DNS_TYPE_ANY = 255;
/* CLASS */
export const DNS_CLASS_IN = 1;
export const DNS_CLASS_ANY = 255;

/* names */
export const DNS_NAME_MAX = 255;
export const DNS_LABEL_MAX = 63;
/** compression pointers followed per name (legitimate compressors need 1-3) */
export const DNS_PTR_MAX = 16;
/** smallest resource record: root owner (1) + type, class, TTL, RDLENGTH (10) */
export const DNS_RR_MIN = 11;

/* resource record, offsets after the owner name (RFC 1035 §4.1.3) */
export const DNS_RR_TYPE = 0;
export const DNS_RR_CLASS = 2;
export const DNS_RR_TTL = 4;
export const DNS_RR_RDLEN = 8;
export const DNS_RR_RDATA = 10;
/* question, offsets after the name (RFC 1035 §4.1.2) */
export const DNS_Q_TYPE = 0;
export const DNS_Q_CLASS = 2;
export const DNS_Q_FIXED = 4;

/*
 * Resolver results (getaddrinfo style, negative; the EAI_* values are
 * glibc's, the others slabnet's own). Not errno values: a separate space,
 * passed to the resolver's callbacks only.
 */
export const EAI_OK = 0;
/** the name does not exist (NXDOMAIN) */
export const EAI_NONAME = -2;
/** temporary failure: no server answered in time (every try timed out) */
export const EAI_AGAIN = -3;
/** server failure: SERVFAIL/REFUSED/NOTIMP/FORMERR, malformed answers, a CNAME chain too long */
export const EAI_FAIL = -4;
/** the name exists but has no A record (NODATA) */
export const EAI_NODATA = -5;
/** no free query slot or socket */
export const EAI_MEMORY = -10;
/** no name servers configured */
export const EAI_NOSERVERS = -110;
/** the answer had TC set (no TCP fallback) */
export const EAI_TRUNCATED = -111;
/** the name is not a valid host name (empty, label > 63, name > 255, not printable ASCII) */
export const EAI_BADNAME = -112;

/** Name of an EAI_* code (allocates nothing: literals). */
export function eaiName(e: number): string {
  switch (e) {
    case EAI_OK: return 'OK';
    case EAI_NONAME: return 'EAI_NONAME';
    case EAI_AGAIN: return 'EAI_AGAIN';
    case EAI_FAIL: return 'EAI_FAIL';
    case EAI_NODATA: return 'EAI_NODATA';
    case EAI_MEMORY: return 'EAI_MEMORY';
    case EAI_NOSERVERS: return 'EAI_NOSERVERS';
    case EAI_TRUNCATED: return 'EAI_TRUNCATED';
    case EAI_BADNAME: return 'EAI_BADNAME';
  }
  return 'EAI?';
}

/* ---------------- header ---------------- */

export function dnsId(b: Uint8Array, base: number): number {
  return get16(b, base + DNS_ID);
}
export function dnsFlags(b: Uint8Array, base: number): number {
  return get16(b, base + DNS_FLAGS);
}
export function dnsRcode(flags: number): number {
  return flags & DNS_F_RCODE;
}
export function dnsOpcode(flags: number): number {
  return (flags & DNS_F_OPCODE) >>> DNS_OPCODE_SHIFT;
}

export function dnsPutHeader(
  b: Uint8Array, o: number, id: number, flags: number, qd: number, an: number, ns: number, ar: number,
): void {
  put16(b, o + DNS_ID, id);
  put16(b, o + DNS_FLAGS, flags);
  put16(b, o + DNS_QDCOUNT, qd);
  put16(b, o + DNS_ANCOUNT, an);
  put16(b, o + DNS_NSCOUNT, ns);
  put16(b, o + DNS_ARCOUNT, ar);
}

/* ---------------- names ---------------- */

/** expanded length of the last successful walk (module scratch: no allocation per call) */
const walkLen = new Int32Array(1);

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/**
 * The one name walker. Reads the (possibly compressed) name at `off` of
 * the message msg[base..end), checking the rules in the header. When
 * `out` is not null, writes the flat form at out[outOff..] (the caller
 * gives 255 bytes of room). When `cmp` is not null, compares with the
 * flat name at cmp[cmpOff..] (ASCII case-insensitive).
 * Returns the offset just after the name's bytes at `off` (after the
 * zero byte or the first pointer), -1 when malformed, -2 when it differs
 * from cmp. walkLen[0] gets the flat length.
 */
function walk(
  b: Uint8Array, base: number, end: number, off: number,
  out: Uint8Array | null, outOff: number, cmp: Uint8Array | null, cmpOff: number,
): number {
  let p = off;
  let seg = off; // a pointer must point before here
  let next = -1;
  let total = 0;
  let jumps = 0;
  let o = outOff;
  let c = cmpOff;
  let differs = false;
  if (base < 0 || end > b.length) return -1;
  for (;;) {
    if (p < base || p >= end) return -1;
    const l = b[p];
    if (l === 0) {
      total += 1;
      if (total > DNS_NAME_MAX) return -1;
      if (out !== null) out[o] = 0;
      if (cmp !== null && !differs && cmp[c] !== 0) differs = true;
      if (next < 0) next = p + 1;
      walkLen[0] = total;
      return differs ? -2 : next;
    }
    const kind = l & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) return -1;
      const t = base + (((l & 0x3f) << 8) | b[p + 1]);
      if (t >= seg || t < base + DNS_HLEN) return -1;
      jumps++;
      if (jumps > DNS_PTR_MAX) return -1;
      if (next < 0) next = p + 2;
      p = t;
      seg = t;
      continue;
    }
    if (kind !== 0) return -1; // 0x40 (extended label, RFC 6891 §5) and 0x80: reserved
    // a label of l = 1..63 bytes at p+1 .. p+l
    if (p + l >= end) return -1;
    total += l + 1;
    if (total + 1 > DNS_NAME_MAX) return -1; // the root byte still follows
    if (out !== null) {
      out[o] = l;
      for (let i = 1; i <= l; i++) out[o + i] = b[p + i];
      o += l + 1;
    }
    if (cmp !== null && !differs) {
      if (cmp[c] !== l) {
        differs = true;
      } else {
        for (let i = 1; i <= l; i++) {
          if (lower(cmp[c + i]) !== lower(b[p + i])) {
            differs = true;
            break;
          }
        }
        c += l + 1;
      }
    }
    p += l + 1;
  }
}

/**
 * Validate the name at off in msg[base..end). Returns the offset after its
 * bytes at off (where the next field starts), or -1 when malformed.
 */
export function dnsNameEnd(b: Uint8Array, base: number, end: number, off: number): number {
  return walk(b, base, end, off, null, 0, null, 0);
}

/**
 * Copy the name at off in msg[base..end) to out[outOff..] in flat form
 * (out needs 255 bytes of room from outOff, else -1). Returns the flat
 * length (1..255) or -1 when malformed.
 */
export function dnsNameCopy(b: Uint8Array, base: number, end: number, off: number, out: Uint8Array, outOff: number): number {
  if (outOff < 0 || outOff + DNS_NAME_MAX > out.length) return -1;
  const r = walk(b, base, end, off, out, outOff, null, 0);
  return r < 0 ? -1 : walkLen[0];
}

/**
 * Does the name at off in msg[base..end) equal the flat name at
 * name[nameOff..] (ASCII case-insensitive, RFC 4343)? false when malformed.
 */
export function dnsNameEquals(b: Uint8Array, base: number, end: number, off: number, name: Uint8Array, nameOff: number): boolean {
  return walk(b, base, end, off, null, 0, name, nameOff) >= 0;
}

/** Two flat names equal (ASCII case-insensitive)? Both must be well formed. */
export function dnsFlatEquals(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  let i = ao;
  let j = bo;
  for (let n = 0; n < 128; n++) {
    const l = a[i];
    if (l !== b[j]) return false;
    if (l === 0) return true;
    for (let k = 1; k <= l; k++) if (lower(a[i + k]) !== lower(b[j + k])) return false;
    i += l + 1;
    j += l + 1;
  }
  return false;
}

/** Length of the flat name at b[o..] (1..255), -1 when it is not well formed within b. */
export function dnsFlatLen(b: Uint8Array, o: number): number {
  let p = o;
  for (let n = 0; n < 128; n++) {
    if (p >= b.length) return -1;
    const l = b[p];
    if (l === 0) return p + 1 - o <= DNS_NAME_MAX ? p + 1 - o : -1;
    if (l > DNS_LABEL_MAX) return -1;
    p += l + 1;
  }
  return -1;
}

/**
 * Encode the host name s ("www.example.com", one trailing dot allowed)
 * in flat form at out[off..] (255 bytes of room needed). Labels 1..63
 * bytes of printable ASCII other than '.' (0x21..0x7e; a caller with an
 * international name passes its A-label form). Returns the flat length,
 * or -1 for an empty or invalid name. Allocates nothing.
 */
export function dnsNameFromString(s: string, out: Uint8Array, off: number): number {
  const n = s.length;
  if (off < 0 || off + DNS_NAME_MAX > out.length) return -1;
  let end = n;
  if (end > 0 && s.charCodeAt(end - 1) === 0x2e) end--;
  if (end === 0) return -1;
  let lenAt = off; // where the current label's length byte goes
  let o = off + 1;
  let l = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (l === 0) return -1;
      out[lenAt] = l;
      lenAt = o;
      o++;
      l = 0;
      continue;
    }
    if (c < 0x21 || c > 0x7e) return -1;
    if (l >= DNS_LABEL_MAX) return -1;
    if (o - off >= DNS_NAME_MAX - 1) return -1; // room for this byte and the root
    out[o] = c;
    o++;
    l++;
  }
  if (l === 0) return -1;
  out[lenAt] = l;
  out[o] = 0;
  return o + 1 - off;
}

/**
 * The flat name at b[o..] as text ("www.example.com"; '.', '\' and bytes
 * outside 0x21..0x7e escaped as \DDD, RFC 1035 §5.1). Allocates: for the
 * application edge and diagnostics.
 */
export function dnsNameToString(b: Uint8Array, o: number): string {
  let s = '';
  let p = o;
  for (let n = 0; n < 128 && p < b.length; n++) {
    const l = b[p];
    if (l === 0 || l > DNS_LABEL_MAX) break;
    if (s.length > 0) s += '.';
    for (let i = 1; i <= l && p + i < b.length; i++) {
      const c = b[p + i];
      if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
      else if (c < 0x21 || c > 0x7e) s += '\\' + (c < 100 ? (c < 10 ? '00' : '0') : '') + c;
      else s += String.fromCharCode(c);
    }
    p += l + 1;
  }
  return s.length > 0 ? s : '.';
}

/**
 * Write a query for (name, qtype, IN) at b[o..]: header with id, flags
 * (DNS_F_RD for a stub resolver), QDCOUNT 1, then the question. The flat
 * name is copied from name[nameOff..nameOff+nameLen). Returns the message
 * length.
 */
export function dnsPutQuery(
  b: Uint8Array, o: number, id: number, flags: number, name: Uint8Array, nameOff: number, nameLen: number, qtype: number,
): number {
  dnsPutHeader(b, o, id, flags, 1, 0, 0, 0);
  let p = o + DNS_HLEN;
  for (let i = 0; i < nameLen; i++) b[p + i] = name[nameOff + i];
  p += nameLen;
  put16(b, p + DNS_Q_TYPE, qtype);
  put16(b, p + DNS_Q_CLASS, DNS_CLASS_IN);
  return p + DNS_Q_FIXED - o;
}

/**
 * Offset after the resource record at off in msg[base..end) (owner name,
 * fixed fields and RDATA all inside the message), or -1 when malformed.
 */
export function dnsRrEnd(b: Uint8Array, base: number, end: number, off: number): number {
  const p = dnsNameEnd(b, base, end, off);
  if (p < 0 || p + DNS_RR_RDATA > end) return -1;
  const r = p + DNS_RR_RDATA + get16(b, p + DNS_RR_RDLEN);
  return r <= end ? r : -1;
}

/** RR TTL in seconds; a value with the top bit set is 0 (RFC 2181 §8). */
export function dnsTtl(b: Uint8Array, fixedOff: number): number {
  const t = get32(b, fixedOff + DNS_RR_TTL);
  return t >= 0x80000000 ? 0 : t;
}

/* ---------------- answers (the resolver's parser) ---------------- */

/* dnsParseResponse results */
/** an A record for the question name (after the CNAMEs): addr, ttl */
export const DNS_ANS_ADDR = 0;
/** a CNAME chain whose last target has no record in this message: target, ttl */
export const DNS_ANS_CNAME = 1;
/** NOERROR without an A record (RFC 2308 §2.2) */
export const DNS_ANS_NODATA = 2;
/** NXDOMAIN (RFC 2308 §2.1) */
export const DNS_ANS_NXDOMAIN = 3;
/** another RCODE (SERVFAIL, REFUSED, NOTIMP, FORMERR, ...): rcode */
export const DNS_ANS_RCODE = 4;
/** TC set */
export const DNS_ANS_TRUNC = 5;
/** the CNAME chain in the message is longer than allowed (or loops) */
export const DNS_ANS_LOOP = 6;
/** malformed message */
export const DNS_ANS_MALFORMED = -1;
/** not an answer to this question (QR clear, opcode, other question): ignore it (RFC 5452 §9.1) */
export const DNS_ANS_MISMATCH = -2;

/** The parser's output and scratch, allocated once by its owner. */
export class DnsAnswer {
  /** RCODE of the last message */
  rcode = 0;
  /** A result, s32 (the first A record for the final name) */
  addr = 0;
  /** A records for the final name */
  naddr = 0;
  /** smallest TTL (s) along the chain and the answer */
  ttl = 0;
  /** CNAMEs followed in the message */
  chain = 0;
  /** the name the answer is for: the question, or the last CNAME target (flat) */
  readonly target: Uint8Array;
  targetLen = 0;
  /** answer RR offsets (owner name), at most rrOff.length are looked at */
  readonly rrOff: Int32Array;
  /** offset after each RR's owner name */
  readonly rrFix: Int32Array;
  constructor(maxRrs: number) {
    this.target = new Uint8Array(DNS_NAME_MAX);
    this.rrOff = new Int32Array(maxRrs > 0 ? maxRrs : 1);
    this.rrFix = new Int32Array(maxRrs > 0 ? maxRrs : 1);
  }
}

/**
 * Parse the response msg[base..base+len) to the A (qtype) question for
 * the flat name qname[qOff..], following CNAMEs inside the message up to
 * maxChain. ID and source are the caller's to match. Returns a DNS_ANS_*
 * code; results in ans. Validates every answer record (owner, bounds,
 * A RDLENGTH 4, CNAME RDATA exactly one name); the authority and
 * additional sections are not used and not read.
 */
export function dnsParseResponse(
  b: Uint8Array, base: number, len: number, qname: Uint8Array, qOff: number, qtype: number, maxChain: number, ans: DnsAnswer,
): number {
  const end = base + len;
  ans.rcode = 0;
  ans.naddr = 0;
  ans.chain = 0;
  ans.ttl = -1;
  if (len < DNS_HLEN || base < 0 || end > b.length) return DNS_ANS_MALFORMED;
  const flags = dnsFlags(b, base);
  if ((flags & DNS_F_QR) === 0 || dnsOpcode(flags) !== DNS_OPCODE_QUERY) return DNS_ANS_MISMATCH;
  const rcode = dnsRcode(flags);
  ans.rcode = rcode;
  const qd = get16(b, base + DNS_QDCOUNT);
  if (qd === 0) {
    // servers answer FORMERR/NOTIMP/REFUSED without the question; the ID matched
    return rcode !== DNS_RCODE_NOERROR ? DNS_ANS_RCODE : DNS_ANS_MALFORMED;
  }
  if (qd !== 1) return DNS_ANS_MALFORMED;
  // the question must be ours
  let p = base + DNS_HLEN;
  const qe = dnsNameEnd(b, base, end, p);
  if (qe < 0 || qe + DNS_Q_FIXED > end) return DNS_ANS_MALFORMED;
  if (!dnsNameEquals(b, base, end, p, qname, qOff)) return DNS_ANS_MISMATCH;
  if (get16(b, qe + DNS_Q_TYPE) !== qtype || get16(b, qe + DNS_Q_CLASS) !== DNS_CLASS_IN) return DNS_ANS_MISMATCH;
  if ((flags & DNS_F_TC) !== 0) return DNS_ANS_TRUNC; // the sections may be cut short: read no further
  if (rcode === DNS_RCODE_NXDOMAIN) return DNS_ANS_NXDOMAIN;
  if (rcode !== DNS_RCODE_NOERROR) return DNS_ANS_RCODE;
  // walk the answer section: every record must be whole; the count is only a claim
  const an = get16(b, base + DNS_ANCOUNT);
  const max = ans.rrOff.length;
  let n = 0;
  p = qe + DNS_Q_FIXED;
  for (let i = 0; i < an; i++) {
    if (p + DNS_RR_MIN > end) return DNS_ANS_MALFORMED; // fewer records than counted
    const f = dnsNameEnd(b, base, end, p);
    if (f < 0 || f + DNS_RR_RDATA > end) return DNS_ANS_MALFORMED;
    const rdlen = get16(b, f + DNS_RR_RDLEN);
    const rd = f + DNS_RR_RDATA;
    if (rd + rdlen > end) return DNS_ANS_MALFORMED;
    const type = get16(b, f + DNS_RR_TYPE);
    if (get16(b, f + DNS_RR_CLASS) === DNS_CLASS_IN) {
      if (type === DNS_TYPE_A && rdlen !== 4) return DNS_ANS_MALFORMED;
      if (type === DNS_TYPE_CNAME && dnsNameEnd(b, base, rd + rdlen, rd) !== rd + rdlen) return DNS_ANS_MALFORMED;
    }
    if (n < max) {
      ans.rrOff[n] = p;
      ans.rrFix[n] = f;
      n++;
    }
    p = rd + rdlen;
  }
  // follow the chain from the question name
  const t = ans.target;
  let tl = dnsFlatLen(qname, qOff);
  if (tl < 0) return DNS_ANS_MISMATCH;
  for (let i = 0; i < tl; i++) t[i] = qname[qOff + i];
  ans.targetLen = tl;
  let ttl = -1;
  for (;;) {
    let cname = -1;
    for (let i = 0; i < n; i++) {
      const f = ans.rrFix[i];
      if (get16(b, f + DNS_RR_CLASS) !== DNS_CLASS_IN) continue;
      const type = get16(b, f + DNS_RR_TYPE);
      if (type !== qtype && type !== DNS_TYPE_CNAME) continue;
      if (!dnsNameEquals(b, base, end, ans.rrOff[i], t, 0)) continue;
      const rt = dnsTtl(b, f);
      if (type === DNS_TYPE_CNAME) {
        if (cname < 0) cname = i;
        continue;
      }
      if (ans.naddr === 0) {
        ans.addr = qtype === DNS_TYPE_A ? getAddr(b, f + DNS_RR_RDATA) : 0;
        ans.ttl = ttl < 0 || rt < ttl ? rt : ttl;
      } else if (rt < ans.ttl) {
        ans.ttl = rt;
      }
      ans.naddr++;
    }
    if (ans.naddr > 0) return DNS_ANS_ADDR;
    if (cname < 0) {
      ans.ttl = ttl;
      return ans.chain === 0 ? DNS_ANS_NODATA : DNS_ANS_CNAME;
    }
    if (ans.chain >= maxChain) return DNS_ANS_LOOP;
    ans.chain++;
    const f = ans.rrFix[cname];
    const rt = dnsTtl(b, f);
    if (ttl < 0 || rt < ttl) ttl = rt;
    tl = dnsNameCopy(b, base, end, f + DNS_RR_RDATA, t, 0);
    if (tl < 0) return DNS_ANS_MALFORMED; // validated above; kept for safety
    ans.targetLen = tl;
  }
}
