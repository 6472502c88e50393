/*
 * dns.ts — the compact stack's DNS stub resolver (small boards). Place in
 * the packet path: netInput offers it every UDP datagram once the
 * interface has an address (dnsInput, payload still in n.rx); it takes
 * those to a pending query's source port. netTick runs dnsTick, which
 * sends and resends the queries (built in n.tx at UDP_DATA, sent with
 * udpOut) and runs the callbacks — only there, never inside netInput.
 * State: DNS_SLOTS query slots in n.dq, created with the Net.
 *
 * Implements RFC 1035 §4.1 (A queries with RD, class IN, to n.dns port
 * 53; answers parsed as hostile input: every length checked against the
 * datagram, compression pointers (§4.1.4) followed only backwards, never
 * into the header and at most PTR_MAX per name), RFC 5452 §9.1 (random
 * ID and source port; an answer must match ID, server, port and echo the
 * question, else it is dropped and counted), RFC 1034 §4.3.2 / RFC 2181
 * §10.1 CNAME chains inside the answer (at most CHAIN_MAX links), RFC
 * 2308 NXDOMAIN (EAI_NONAME) and NODATA (EAI_NODATA). Malformed answers
 * are counted (n.dnsDrop) and ignored: the query is resent after 1 s,
 * four tries in all, then EAI_AGAIN. No cache, no TCP fallback (TC:
 * EAI_TRUNCATED).
 */
import { Net, type DnsQuery, rand, get16, get32, put16, put32, udpOut, ipQuad, UDP_DATA } from './net';
import {
  DNS_PORT, DNS_HLEN, DNS_ID, DNS_FLAGS, DNS_QDCOUNT, DNS_ANCOUNT, DNS_F_QR, DNS_F_OPCODE, DNS_F_TC, DNS_F_RD,
  DNS_F_RCODE, DNS_RCODE_NXDOMAIN, DNS_TYPE_A, DNS_TYPE_CNAME, DNS_CLASS_IN, DNS_LABEL_MAX, DNS_PTR_MAX,
  DNS_RR_TYPE, DNS_RR_CLASS, DNS_RR_RDLEN, DNS_RR_RDATA, DNS_Q_TYPE, DNS_Q_CLASS, DNS_Q_FIXED,
  EAI_OK, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_MEMORY, EAI_NOSERVERS, EAI_TRUNCATED, EAI_BADNAME,
} from '../wire/dns';

/** sends per query (RFC 1035 §4.2.1 leaves it to the resolver) */
export const DNS_TRIES = 4;
/** time between sends, ms */
export const DNS_RESEND_MS = 1000;
/** resend soon when the query became an ARP request (next hop unknown) */
const ARP_RETRY_MS = 250;
/** CNAME links followed inside one answer */
const CHAIN_MAX = 8;

const Q_FREE = 0;
const Q_PENDING = 1;
const Q_DONE = 2;

/**
 * Compare the (compressed) names at a and b of the message r[base..end):
 * 1 equal (ASCII case-insensitive), 0 different, -1 malformed (a pointer
 * forward, into the header or beyond PTR_MAX jumps; a reserved label type;
 * anything past end). Bounded: ≤ 2·PTR_MAX jumps, ≤ 128 labels.
 */
function nameCmp(r: Uint8Array, base: number, end: number, a: number, b: number): number {
  let ja = 0;
  let jb = 0;
  for (let k = 0; k < 128; k++) {
    while (a < end && (r[a] & 0xc0) == 0xc0) {
      let t = a + 1 < end ? base + (((r[a] & 0x3f) << 8) | r[a + 1]) : -1;
      if (t < base + DNS_HLEN || t >= a || ++ja > DNS_PTR_MAX) return -1;
      a = t;
    }
    while (b < end && (r[b] & 0xc0) == 0xc0) {
      let t = b + 1 < end ? base + (((r[b] & 0x3f) << 8) | r[b + 1]) : -1;
      if (t < base + DNS_HLEN || t >= b || ++jb > DNS_PTR_MAX) return -1;
      b = t;
    }
    if (a >= end || b >= end) return -1;
    let l = r[a];
    if (l > DNS_LABEL_MAX || r[b] > DNS_LABEL_MAX || a + l >= end || b + r[b] >= end) return -1;
    if (l != r[b]) return 0;
    if (l == 0) return 1;
    if (a != b) {
      for (let i = 1; i <= l; i++) {
        let x = r[a + i];
        let y = r[b + i];
        if (x >= 0x41 && x <= 0x5a) x += 0x20;
        if (y >= 0x41 && y <= 0x5a) y += 0x20;
        if (x != y) return 0;
      }
    }
    a += l + 1;
    b += l + 1;
  }
  return -1;
}

/**
 * Write the question for name at t[at..]: the name as labels (RFC 1035
 * §3.1), QTYPE A, QCLASS IN (§4.1.2). Returns where it ends.
 */
function dnsQuestion(t: Uint8Array, at: number, nm: string): number {
  let p = at + 1;
  for (let i = 0; i < nm.length; i++) {
    let c = nm.charCodeAt(i);
    if (c == 0x2e) {
      t[at] = p - at - 1;
      at = p;
    } else {
      t[p] = c;
    }
    p++;
  }
  // the last label's length; 0 when the name ended with '.' (then that byte is the root)
  t[at] = p - at - 1;
  if (p - at - 1 != 0) t[p++] = 0;
  put16(t, p + DNS_Q_TYPE, DNS_TYPE_A);
  put16(t, p + DNS_Q_CLASS, DNS_CLASS_IN);
  return p + DNS_Q_FIXED;
}

/**
 * Look up the A record of name; cb(err, addr) runs later from dnsTick
 * (err 0 = EAI_OK, else an EAI_ code). A dotted quad (net.ts ipQuad) is answered without
 * a query. Returns 0 (cb will run) or, at once and without cb, EAI_BADNAME
 * (empty, a label empty or > 63 bytes, > 253 bytes, not printable ASCII),
 * EAI_NOSERVERS (n.dns is 0) or EAI_MEMORY (every slot busy).
 */
export function dnsLookup(n: Net, name: string, cb: (err: number, addr: number) => void): number {
  let len = name.length;
  if (len > 0 && name.charCodeAt(len - 1) == 0x2e) len--;
  if (len == 0 || len > 253) return EAI_BADNAME;
  // label rules
  let lab = 0;
  for (let i = 0; i < len; i++) {
    let c = name.charCodeAt(i);
    if (c == 0x2e) {
      if (lab == 0) return EAI_BADNAME;
      lab = 0;
    } else if (c < 0x21 || c > 0x7e || ++lab > DNS_LABEL_MAX) return EAI_BADNAME;
  }
  let quad = ipQuad(name);
  if (quad === null && n.dns == 0) return EAI_NOSERVERS;
  let q: DnsQuery | null = null;
  for (let i = 0; i < n.dq.length; i++) {
    if (n.dq[i].qState == Q_FREE) {
      q = n.dq[i];
      break;
    }
  }
  if (q === null) return EAI_MEMORY;
  q.qName = name;
  q.qCb = cb;
  q.qTries = 0;
  q.qDue = n.clock.now();
  q.qAddr = quad !== null ? quad : 0;
  q.qState = quad !== null ? Q_DONE : Q_PENDING;
  q.qId = rand(n) & 0xffff;
  // RFC 5452 §9.2: a random source port (49152..65535), not one in use here
  for (let k = 0; k < 8; k++) {
    q.qPort = 49152 + (rand(n) & 0x3fff);
    let used = false;
    for (let i = 0; i < n.udpPort.length; i++) if (n.udpPort[i] == q.qPort) used = true;
    for (let i = 0; i < n.dq.length; i++) if (n.dq[i] !== q && n.dq[i].qState != Q_FREE && n.dq[i].qPort == q.qPort) used = true;
    if (!used) break;
  }
  return EAI_OK;
}

/** Timers (from netTick): send and resend queries, time them out, run the callbacks of finished ones. */
export function dnsTick(n: Net, now: number): void {
  for (let s = 0; s < n.dq.length; s++) {
    let q = n.dq[s];
    if (q.qState == Q_PENDING && now >= q.qDue) {
      if (q.qTries >= DNS_TRIES) {
        q.qState = EAI_AGAIN;
      } else {
        // header (RFC 1035 §4.1.1), then the question: the name as labels, QTYPE A, QCLASS IN
        let t = n.tx;
        let o = UDP_DATA;
        let id = q.qId;
        // DNS_ID, DNS_FLAGS (RD), DNS_QDCOUNT 1, the other counts 0
        put32(t, o + DNS_ID, (id << 16) | DNS_F_RD);
        put32(t, o + DNS_ID + 4, 1 << 16);
        put32(t, o + DNS_ID + 8, 0);
        // a send that became an ARP request (next hop unknown) is retried soon and,
        // the first DNS_TRIES times, not counted as a try (q.qAddr counts them while pending)
        if (udpOut(n, q.qPort, n.dns, DNS_PORT, dnsQuestion(t, o + DNS_HLEN, q.qName) - o) < 0) {
          q.qDue = now + ARP_RETRY_MS;
          if (q.qAddr < DNS_TRIES) q.qAddr++;
          else q.qTries++;
        } else {
          q.qDue = now + DNS_RESEND_MS;
          q.qTries++;
        }
      }
    }
    if (q.qState != Q_PENDING && q.qState != Q_FREE) {
      let cb = q.qCb;
      let err = q.qState == Q_DONE ? EAI_OK : q.qState;
      let addr = q.qState == Q_DONE ? q.qAddr : 0;
      q.qState = Q_FREE;
      q.qCb = null;
      q.qName = '';
      if (cb !== null) cb(err, addr);
    }
  }
}

/**
 * A UDP datagram (payload at off, len bytes, in n.rx) from src:sport to
 * our dport. Returns false when it is not to a pending query's port (the
 * caller delivers it elsewhere), true when taken: answered the query, or
 * dropped and counted in n.dnsDrop (wrong server or ID, not an answer to
 * our question, malformed). Never throws, reads only r[off..off+len).
 */
export function dnsInput(n: Net, off: number, len: number, src: number, sport: number, dport: number): boolean {
  let q: DnsQuery | null = null;
  for (let i = 0; i < n.dq.length; i++) {
    if (n.dq[i].qState == Q_PENDING && n.dq[i].qPort == dport) {
      q = n.dq[i];
      break;
    }
  }
  if (q === null) return false;
  let r = n.rx;
  let end = off + len;
  // (read before the length check: the header fields are looked at only when it passes)
  let flags = get16(r, off + DNS_FLAGS);
  let rcode = flags & DNS_F_RCODE;
  let qd = get16(r, off + DNS_QDCOUNT);
  if (src != n.dns || sport != DNS_PORT || len < DNS_HLEN || end > r.length || get16(r, off + DNS_ID) != q.qId ||
    (flags & DNS_F_QR) == 0 || (flags & DNS_F_OPCODE) != 0 || qd > 1 || (qd == 0 && rcode == 0)) {
    n.dnsDrop++;
    return true;
  }
  // the question must be ours, uncompressed: the bytes dnsTick sent (rebuilt in n.tx,
  // free while netInput runs), the name's letters ASCII case-insensitive
  let qn = off + DNS_HLEN;
  let p = qn;
  if (qd == 1) {
    let t = n.tx;
    let o = UDP_DATA + DNS_HLEN;
    let ql = dnsQuestion(t, o, q.qName) - o;
    let same = p + ql <= end;
    for (let k = 0; same && k < ql; k++) {
      let x = r[p + k];
      let y = t[o + k];
      if (x >= 0x41 && x <= 0x5a) x += 0x20;
      if (y >= 0x41 && y <= 0x5a) y += 0x20;
      same = x == y;
    }
    if (!same) {
      n.dnsDrop++;
      return true;
    }
    p += ql;
  }
  if (rcode != 0 || (flags & DNS_F_TC) != 0) {
    q.qState = rcode == DNS_RCODE_NXDOMAIN ? EAI_NONAME : rcode != 0 ? EAI_FAIL : EAI_TRUNCATED;
    return true;
  }
  // the answer section, walked once per CNAME link (records may come in any order);
  // every record must lie inside the datagram, an A record's RDATA is 4 bytes
  let an = get16(r, off + DNS_ANCOUNT);
  let a0 = p;
  let tgt = qn;
  let hops = 0;
  let found = false;
  let bad = false;
  for (let pass = 0; pass <= CHAIN_MAX && !bad && !found; pass++) {
    let h0 = hops;
    p = a0;
    for (let i = 0; i < an && !bad; i++) {
      let own = p;
      // skip the owner: labels up to the root or a pointer
      for (;;) {
        let l = p < end ? r[p] : 0xff;
        if ((l & 0xc0) == 0xc0) {
          p += 2;
          break;
        }
        if (l > DNS_LABEL_MAX || p - own + l > 254) {
          bad = true;
          break;
        }
        p += l + 1;
        if (l == 0) break;
      }
      if (bad || p + DNS_RR_RDATA > end) {
        bad = true;
        break;
      }
      let type = get16(r, p + DNS_RR_TYPE);
      let rd = p + DNS_RR_RDATA;
      let rdlen = get16(r, p + DNS_RR_RDLEN);
      p = rd + rdlen;
      let inA = get16(r, rd - DNS_RR_RDATA + DNS_RR_CLASS) == DNS_CLASS_IN && (type == DNS_TYPE_A || type == DNS_TYPE_CNAME);
      if (p > end || (inA && type == DNS_TYPE_A && rdlen != 4)) {
        bad = true;
        break;
      }
      if (!inA || found) continue;
      let eq = nameCmp(r, off, end, own, tgt);
      if (eq < 0) {
        bad = true;
      } else if (eq == 1 && type == DNS_TYPE_A) {
        found = true;
        q.qAddr = get32(r, rd);
      } else if (eq == 1 && ++hops <= CHAIN_MAX) {
        tgt = rd;
      }
    }
    if (hops == h0 || hops > CHAIN_MAX) break;
  }
  if (bad) {
    n.dnsDrop++;
    return true;
  }
  q.qState = found ? Q_DONE : hops > CHAIN_MAX ? EAI_FAIL : EAI_NODATA;
  return true;
}
