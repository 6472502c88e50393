/*
 * dns_server.ts — a small DNS server for the simulation and the tests
 * (RFC 1035 §4, §6.2 answers; RFC 1034 §4.3.2 CNAME processing; RFC
 * 2308 NXDOMAIN/NODATA), answering from a fixed table of A and CNAME
 * records with per-record TTLs, like a recursive server would (the whole
 * CNAME chain in one answer) or like an authoritative-only one
 * (fullChain false: the first CNAME only). Owner names in answers are
 * compression pointers (to the question, to the previous CNAME's target),
 * so resolvers parse real compressed messages. An answer that does not
 * fit DNS_UDP_MAX bytes is cut and sent with TC (RFC 2181 §9).
 *
 * For tests it misbehaves on demand: drop queries (dropNext, or mode
 * DNS_SRV_DROP), answer SERVFAIL / REFUSED / NXDOMAIN / TC for every
 * name, send malformed answers of several kinds (DNS_MAL_*: compression
 * loops and forward pointers, pointers into the header, a 64-byte label,
 * a 300-byte name, counts larger than the records, RDLENGTH past the
 * end, a cut message, A RDLENGTH 3, a bare header), and send a forged
 * answer (wrong ID or another question) before the real one. It logs the
 * ID and source port of the last queries (to check their randomness).
 *
 * Queries are parsed as hostile input too (src/wire/dns.ts): anything
 * that is not one well-formed question gets FORMERR (or nothing when the
 * header is short or QR is set).
 *
 * Place in the packet path: an application on the socket API (a
 * UdpService: one socket on port 53, drained by run()). Portable: tables
 * and buffers allocated in the constructor; answering allocates nothing
 * (addA/addCname encode their string arguments once).
 */
import type { Stack } from '../stack';
import { s32 } from '../core/bits';
import { get16, put16, put32 } from '../core/bytes';
import { putAddr, getAddr } from '../core/inaddr';
import { sendto } from '../socket/socket';
import { UdpService } from './udp_service';
import {
  DNS_PORT, DNS_UDP_MAX, DNS_HLEN, DNS_NAME_MAX, DNS_QDCOUNT, DNS_ANCOUNT, DNS_F_QR, DNS_F_OPCODE, DNS_F_AA,
  DNS_F_TC, DNS_F_RD, DNS_F_RA, DNS_RCODE_NOERROR, DNS_RCODE_FORMERR, DNS_RCODE_SERVFAIL, DNS_RCODE_NXDOMAIN,
  DNS_RCODE_NOTIMP, DNS_RCODE_REFUSED, DNS_TYPE_A, DNS_TYPE_CNAME, DNS_TYPE_TXT, DNS_TYPE_ANY, DNS_CLASS_IN, DNS_Q_FIXED,
  DNS_RR_RDATA, dnsFlags, dnsOpcode, dnsPutHeader, dnsNameCopy, dnsNameEnd, dnsNameFromString, dnsFlatEquals,
} from '../wire/dns';

export { DNS_PORT };

/* modes: how every query is answered */
export const DNS_SRV_ANSWER = 0;
export const DNS_SRV_DROP = 1;
export const DNS_SRV_SERVFAIL = 2;
export const DNS_SRV_REFUSED = 3;
export const DNS_SRV_NXDOMAIN = 4;
/** TC set, no records */
export const DNS_SRV_TC = 5;
/** the answer built normally, then broken as `malform` says */
export const DNS_SRV_MALFORMED = 6;

/* malformations (need at least one record in the answer) */
/** the first answer's owner is a pointer to itself */
export const DNS_MAL_PTR_LOOP = 1;
/** the first answer's owner points forward */
export const DNS_MAL_PTR_FORWARD = 2;
/** the first answer's owner points into the header */
export const DNS_MAL_PTR_HEADER = 3;
/** the first answer's owner starts with a 64-byte label */
export const DNS_MAL_LABEL_LONG = 4;
/** the first answer's owner is 320 bytes long */
export const DNS_MAL_NAME_LONG = 5;
/** ANCOUNT claims one record more than present */
export const DNS_MAL_COUNT = 6;
/** the last record's RDLENGTH reaches past the end */
export const DNS_MAL_RDLEN = 7;
/** the message ends inside the last record (TC clear) */
export const DNS_MAL_SHORT = 8;
/** the last A record has RDLENGTH 3 */
export const DNS_MAL_A_LEN = 9;
/** a bare 8-byte header */
export const DNS_MAL_HEADER = 10;
/** QDCOUNT 2 */
export const DNS_MAL_QDCOUNT = 11;

/* forgeries sent before the real answer */
export const DNS_SPOOF_NONE = 0;
/** the answer with ID + 1 */
export const DNS_SPOOF_ID = 1;
/** the answer for another name (first byte of the question name changed) with a forged address */
export const DNS_SPOOF_QUESTION = 2;

const REC_A = 1;
const REC_CNAME = 5;
const REC_TXT = 16;
/** the address a forged answer carries (198.51.100.66) */
export const DNS_FORGED_ADDR = s32(0xc6336442);
/** CNAMEs followed when building an answer */
const CHAIN_MAX = 16;
/** queries remembered in the ID/port log */
export const DNS_SRV_LOG = 64;

export class DnsServer extends UdpService {
  readonly name = 'dns';
  readonly maxRecords: number;
  count = 0;
  private readonly rName: Uint8Array;
  private readonly rType: Uint8Array;
  private readonly rAddr: Int32Array;
  private readonly rTtl: Int32Array;
  private readonly rTarget: Uint8Array;
  private readonly rTargetLen: Int32Array;
  private readonly out: Uint8Array;
  private readonly qn: Uint8Array;
  private readonly cur: Uint8Array;
  /* behaviour */
  mode = DNS_SRV_ANSWER;
  malform = 0;
  spoof = DNS_SPOOF_NONE;
  /** drop this many queries, then answer */
  dropNext = 0;
  /** put the whole CNAME chain in one answer (a recursive server); false: the first CNAME only */
  fullChain = true;
  /* counters and log */
  queries = 0;
  answered = 0;
  droppedQueries = 0;
  formerr = 0;
  sendErrors = 0;
  /** ID and source port of the last DNS_SRV_LOG queries (ring; `queries` says how many were written) */
  readonly logId: Int32Array;
  readonly logPort: Int32Array;

  constructor(st: Stack, port: number, maxRecords: number) {
    super(st, port, DNS_UDP_MAX, 16);
    const n = maxRecords > 0 ? maxRecords : 1;
    this.maxRecords = n;
    this.rName = new Uint8Array(n * DNS_NAME_MAX);
    this.rType = new Uint8Array(n);
    this.rAddr = new Int32Array(n);
    this.rTtl = new Int32Array(n);
    this.rTarget = new Uint8Array(n * DNS_NAME_MAX);
    this.rTargetLen = new Int32Array(n);
    // room for the 320-byte owner of DNS_MAL_NAME_LONG past the normal limit
    this.out = new Uint8Array(DNS_UDP_MAX + 400);
    this.qn = new Uint8Array(DNS_NAME_MAX);
    this.cur = new Uint8Array(DNS_NAME_MAX);
    this.logId = new Int32Array(DNS_SRV_LOG);
    this.logPort = new Int32Array(DNS_SRV_LOG);
  }

  /** Add an A record. Returns its index, -1 when the table is full or the name invalid. */
  addA(name: string, addr: number, ttl: number): number {
    const i = this.newRecord(name, REC_A, ttl);
    if (i >= 0) this.rAddr[i] = s32(addr);
    return i;
  }

  /** Add a CNAME record name → target. Returns its index or -1. */
  addCname(name: string, target: string, ttl: number): number {
    if (this.count >= this.maxRecords) return -1;
    const tl = dnsNameFromString(target, this.rTarget, this.count * DNS_NAME_MAX);
    if (tl < 0) return -1;
    const i = this.newRecord(name, REC_CNAME, ttl);
    if (i >= 0) this.rTargetLen[i] = tl;
    return i;
  }

  /** Add a TXT record (one empty string): a name that exists without an A record (NODATA for A). */
  addTxt(name: string, ttl: number): number {
    return this.newRecord(name, REC_TXT, ttl);
  }

  /** Change the TTL of every record of name. */
  setTtl(name: string, ttl: number): void {
    if (dnsNameFromString(name, this.qn, 0) < 0) return;
    for (let i = 0; i < this.count; i++) if (dnsFlatEquals(this.rName, i * DNS_NAME_MAX, this.qn, 0)) this.rTtl[i] = ttl;
  }

  clear(): void {
    this.count = 0;
  }

  private newRecord(name: string, type: number, ttl: number): number {
    if (this.count >= this.maxRecords) return -1;
    const i = this.count;
    if (dnsNameFromString(name, this.rName, i * DNS_NAME_MAX) < 0) return -1;
    this.rType[i] = type;
    this.rTtl[i] = ttl;
    this.count++;
    return i;
  }

  /** Records of `type` whose name is the flat name in this.cur, from index `from`; -1 when none. */
  private find(type: number, from: number): number {
    for (let i = from; i < this.count; i++) {
      if (this.rType[i] === type && dnsFlatEquals(this.rName, i * DNS_NAME_MAX, this.cur, 0)) return i;
    }
    return -1;
  }

  private exists(): boolean {
    for (let i = 0; i < this.count; i++) if (dnsFlatEquals(this.rName, i * DNS_NAME_MAX, this.cur, 0)) return true;
    return false;
  }

  protected onDatagram(n: number, len: number): void {
    const q = this.buf;
    if (n < DNS_HLEN || len > n) {
      this.formerr++;
      return; // nothing to answer to
    }
    const qflags = dnsFlags(q, 0);
    if ((qflags & DNS_F_QR) !== 0) return; // a response: never answer those
    this.log(get16(q, 0), this.from[1]);
    this.queries++;
    if (this.mode === DNS_SRV_DROP || this.dropNext > 0) {
      if (this.dropNext > 0) this.dropNext--;
      this.droppedQueries++;
      return;
    }
    const o = this.out;
    const id = get16(q, 0);
    const rd = qflags & DNS_F_RD;
    // the question, parsed as hostile input
    let rcode = DNS_RCODE_NOERROR;
    let qe = -1;
    let ql = -1;
    if (dnsOpcode(qflags) !== 0) rcode = DNS_RCODE_NOTIMP;
    else if (get16(q, DNS_QDCOUNT) !== 1) rcode = DNS_RCODE_FORMERR;
    else {
      qe = dnsNameEnd(q, 0, n, DNS_HLEN);
      ql = dnsNameCopy(q, 0, n, DNS_HLEN, this.qn, 0);
      if (qe < 0 || ql < 0 || qe + DNS_Q_FIXED > n) rcode = DNS_RCODE_FORMERR;
    }
    if (rcode !== DNS_RCODE_NOERROR) {
      this.formerr++;
      dnsPutHeader(o, 0, id, DNS_F_QR | (qflags & DNS_F_OPCODE) | rd | DNS_F_RA | rcode, 0, 0, 0, 0);
      this.reply(DNS_HLEN);
      return;
    }
    const qtype = get16(q, qe);
    const qclass = get16(q, qe + 2);
    // header (counts patched below) and the question, echoed as asked
    let p = DNS_HLEN;
    for (let i = 0; i < ql; i++) o[p + i] = this.qn[i];
    p += ql;
    put16(o, p, qtype);
    put16(o, p + 2, qclass);
    p += DNS_Q_FIXED;
    let flags = DNS_F_QR | DNS_F_AA | rd | DNS_F_RA;
    let an = 0;
    let lastA = -1;
    const m = this.mode;
    if (m === DNS_SRV_SERVFAIL) rcode = DNS_RCODE_SERVFAIL;
    else if (m === DNS_SRV_REFUSED) rcode = DNS_RCODE_REFUSED;
    else if (m === DNS_SRV_NXDOMAIN) rcode = DNS_RCODE_NXDOMAIN;
    else if (m === DNS_SRV_TC) flags |= DNS_F_TC;
    else if (qclass !== DNS_CLASS_IN && qclass !== 255) rcode = DNS_RCODE_REFUSED;
    else {
      // RFC 1034 §4.3.2 step 3: CNAMEs, then the records of the final name
      for (let i = 0; i < ql; i++) this.cur[i] = this.qn[i];
      let curAt = DNS_HLEN;
      let lastRr = -1;
      let lastRd = -1;
      let full = false;
      for (let hop = 0; hop <= CHAIN_MAX && !full; hop++) {
        const c = qtype !== DNS_TYPE_CNAME ? this.find(REC_CNAME, 0) : -1;
        if (c >= 0) {
          const tl = this.rTargetLen[c];
          const sz = this.ownerLen(an) + 10 + tl;
          if (p + sz > DNS_UDP_MAX) {
            full = true;
            break;
          }
          lastRr = p;
          p = this.putOwner(p, curAt, an);
          put16(o, p, DNS_TYPE_CNAME);
          put16(o, p + 2, DNS_CLASS_IN);
          put32(o, p + 4, this.rTtl[c]);
          put16(o, p + 8, tl);
          p += DNS_RR_RDATA;
          lastRd = p;
          curAt = p;
          const to = c * DNS_NAME_MAX;
          for (let i = 0; i < tl; i++) {
            o[p + i] = this.rTarget[to + i];
            this.cur[i] = this.rTarget[to + i];
          }
          p += tl;
          an++;
          if (!this.fullChain) break;
          continue;
        }
        if (qtype === DNS_TYPE_A || qtype === DNS_TYPE_ANY) {
          for (let a = this.find(REC_A, 0); a >= 0; a = this.find(REC_A, a + 1)) {
            if (p + this.ownerLen(an) + 14 > DNS_UDP_MAX) {
              full = true;
              break;
            }
            lastRr = p;
            p = this.putOwner(p, curAt, an);
            put16(o, p, DNS_TYPE_A);
            put16(o, p + 2, DNS_CLASS_IN);
            put32(o, p + 4, this.rTtl[a]);
            put16(o, p + 8, 4);
            p += DNS_RR_RDATA;
            lastRd = p;
            lastA = p;
            putAddr(o, p, this.rAddr[a]);
            p += 4;
            an++;
          }
        }
        if (qtype === DNS_TYPE_TXT || qtype === DNS_TYPE_ANY) {
          for (let a = this.find(REC_TXT, 0); a >= 0 && !full; a = this.find(REC_TXT, a + 1)) {
            if (p + this.ownerLen(an) + 11 > DNS_UDP_MAX) {
              full = true;
              break;
            }
            lastRr = p;
            p = this.putOwner(p, curAt, an);
            put16(o, p, DNS_TYPE_TXT);
            put16(o, p + 2, DNS_CLASS_IN);
            put32(o, p + 4, this.rTtl[a]);
            put16(o, p + 8, 1);
            p += DNS_RR_RDATA;
            lastRd = p;
            o[p] = 0;
            p += 1;
            an++;
          }
        }
        // NXDOMAIN when the final name has no records at all (RFC 6604)
        if (!this.exists()) rcode = DNS_RCODE_NXDOMAIN;
        break;
      }
      if (full) flags |= DNS_F_TC;
      if (m === DNS_SRV_MALFORMED) p = this.breakIt(p, lastRr, lastRd, lastA);
    }
    dnsPutHeader(o, 0, id, flags | rcode, 1, an, 0, 0);
    if (m === DNS_SRV_MALFORMED) {
      if (this.malform === DNS_MAL_COUNT) put16(o, DNS_ANCOUNT, an + 1);
      if (this.malform === DNS_MAL_QDCOUNT) put16(o, DNS_QDCOUNT, 2);
      if (this.malform === DNS_MAL_HEADER) p = 8;
    }
    if (this.spoof !== DNS_SPOOF_NONE) this.forge(p, lastA);
    this.reply(p);
  }

  /** Bytes the owner name of answer record number `an` takes. */
  private ownerLen(an: number): number {
    if (this.mode === DNS_SRV_MALFORMED && an === 0) {
      if (this.malform === DNS_MAL_LABEL_LONG) return 67;
      if (this.malform === DNS_MAL_NAME_LONG) return 322;
    }
    return 2;
  }

  /** Write the owner of answer record `an`: a pointer to curAt (or the malformation). Returns the offset after it. */
  private putOwner(p: number, curAt: number, an: number): number {
    const o = this.out;
    let ptr = curAt;
    if (this.mode === DNS_SRV_MALFORMED && an === 0) {
      const k = this.malform;
      if (k === DNS_MAL_PTR_LOOP) ptr = p;
      else if (k === DNS_MAL_PTR_FORWARD) ptr = p + 2;
      else if (k === DNS_MAL_PTR_HEADER) ptr = 2;
      else if (k === DNS_MAL_LABEL_LONG || k === DNS_MAL_NAME_LONG) {
        const labels = k === DNS_MAL_LABEL_LONG ? 1 : 5;
        const l = k === DNS_MAL_LABEL_LONG ? 64 : 63;
        for (let j = 0; j < labels; j++) {
          o[p] = l;
          for (let i = 1; i <= l; i++) o[p + i] = 0x61;
          p += l + 1;
        }
      }
    }
    o[p] = 0xc0 | ((ptr >>> 8) & 0x3f);
    o[p + 1] = ptr & 0xff;
    return p + 2;
  }

  /** Apply the malformations that change the records; returns the new length. */
  private breakIt(p: number, lastRr: number, lastRd: number, lastA: number): number {
    const o = this.out;
    const k = this.malform;
    if (lastRr < 0) return p;
    if (k === DNS_MAL_RDLEN) put16(o, lastRd - 2, get16(o, lastRd - 2) + 40);
    if (k === DNS_MAL_SHORT) return lastRd + 1;
    if (k === DNS_MAL_A_LEN && lastA >= 0) put16(o, lastA - 2, 3);
    return p;
  }

  /**
   * Send a forged copy of the answer first (the real one follows): its
   * last A record says 198.51.100.66, so a resolver that took it would show.
   */
  private forge(len: number, lastA: number): void {
    const o = this.out;
    let a0 = 0;
    if (lastA >= 0) {
      a0 = getAddr(o, lastA);
      putAddr(o, lastA, DNS_FORGED_ADDR);
    }
    if (this.spoof === DNS_SPOOF_ID) {
      const id = get16(o, 0);
      put16(o, 0, id + 1);
      this.reply(len);
      put16(o, 0, id);
    } else {
      // another question: the first byte of the name's first label changed
      const b = o[DNS_HLEN + 1];
      o[DNS_HLEN + 1] = b ^ 0x01;
      this.reply(len);
      o[DNS_HLEN + 1] = b;
    }
    if (lastA >= 0) putAddr(o, lastA, a0);
  }

  private reply(len: number): void {
    const r = sendto(this.st, this.fd, this.out, 0, len, this.from[0], this.from[1]);
    if (r < 0) this.sendErrors++;
    else this.answered++;
  }

  private log(id: number, port: number): void {
    const i = this.queries % DNS_SRV_LOG;
    this.logId[i] = id;
    this.logPort[i] = port;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.queries = this.queries;
    o.answered = this.answered;
    o.droppedQueries = this.droppedQueries;
    o.formerr = this.formerr;
    o.sendErrors = this.sendErrors;
    o.records = this.count;
  }
}

