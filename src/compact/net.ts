/*
 * net.ts — the compact stack's core: the whole receive path from an
 * Ethernet frame to a transport, and the IPv4 output path, in a few large
 * functions (issue 8: on Espruino a module costs ~8 JsVars per function and
 * flash per name, whatever the function's size; the small boards' `full`
 * and `tiny` profiles are built from src/compact/, the PC and the large
 * boards from the general stack).
 *
 * Design (uIP's single-buffer model with smoltcp's flat state):
 * - One receive frame buffer (rx) and one transmit frame buffer (tx),
 *   allocated once. The chip driver (the ENC28J60 keeps 8 KB of received
 *   frames itself) copies one frame into rx and calls netInput; everything
 *   that answers builds its frame in tx and sends it at once (the driver
 *   copies it into the chip), so nothing is queued and nothing allocated
 *   per packet.
 * - An outgoing datagram whose next hop has no ARP entry is replaced by an
 *   ARP request (uIP, RFC 1122 §2.3.2.2 allows dropping it): TCP
 *   retransmits, and an ARP reply kicks TCP's output at once (tcpKick),
 *   DHCP and DNS retry by their own timers, a NetworkJS UDP send is told
 *   to try again.
 * - Addresses are signed 32-bit integers (x | 0) in network order.
 * - Every drop is counted (cnt, names in CNT_NAMES).
 * - Locals are `let`, not `const`, and two numbers compare with `==` / `!=`
 *   (`===` stays for null, objects and mixed types) in src/compact/: the
 *   minified bundle keeps both as written (issue 8: 2 and 1 bytes each).
 *
 * Implements: Ethernet II framing; ARP (RFC 826) requests, replies and a
 * small table with ageing; IPv4 input checks (RFC 791, RFC 1122 §3.2.1:
 * version, header length, total length, checksum, destination), fragments
 * dropped and counted (no reassembly on the small boards); IPv4 output
 * with a 20-byte header, next hop on the subnet or the default gateway;
 * ICMP echo replies (RFC 792, RFC 1122 §3.2.2.6) and port/protocol
 * unreachables (RFC 1122 §3.2.2.1, never for broadcasts, §3.2.2); UDP
 * (RFC 768) with checksums, delivered to the DHCP client, the DNS resolver
 * or one of a few one-datagram sockets (the NetworkJS adapter's).
 */
import type { Clock } from '../core/clock';
import { FEATURE_TCP, FEATURE_DHCP, FEATURE_DNS, RUNTIME_ESPRUINO } from '../features';
import { copyBytes as copy } from '../core/bytes';
import {
  IP_VERIHL, IP_TOTLEN, IP_ID, IP_TTL, IP_FRAGOFF, IP_PROTO, IP_CSUM, IP_SADDR, IP_DADDR, IP_HLEN, IP_MF, IP_OFFSET,
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP,
  ICMP_TYPE, ICMP_CODE, ICMP_CSUM, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, ICMP_PORT_UNREACH,
} from '../ipv4/ip';
import { ETH_HLEN, ETH_DEST, ETH_SOURCE, ETH_PROTO, ETH_P_IP, ETH_P_ARP } from '../link/ether';
import { tcpInput, tcpKick, tcpTick } from './tcp';
import { dhcpInput, dhcpTick } from './dhcp';
import { dnsInput, dnsTick } from './dns';
import { DHCP_CLIENT_PORT } from '../wire/dhcp';

/** The typed arrays' constructors by a short name (issue 8: the bundle spells each global in full at every use). */
export const U8 = Uint8Array;
const I32 = Int32Array;

/* Frame layout of everything we send: Ethernet, a 20-byte IP header, then L4. */
export const IP_OFF = ETH_HLEN;
export const L4_OFF = ETH_HLEN + IP_HLEN;
/** largest frame (no FCS): 14 + 1500 */
export const FRAME_MAX = 1514;
export const UDP_HLEN = 8;
/** UDP payload offset in tx */
export const UDP_DATA = L4_OFF + UDP_HLEN;

/* ARP (RFC 826) over Ethernet/IPv4: offsets from the start of the ARP header. */
const ARP_HTYPE = 0;
const ARP_PTYPE = 2;
const ARP_HLEN_PLEN = 4;
const ARP_OP = 6;
const ARP_SHA = 8;
const ARP_SPA = 14;
const ARP_THA = 18;
const ARP_TPA = 24;
const ARP_LEN = 28;
const ARPOP_REQUEST = 1;
const ARPOP_REPLY = 2;
/** an entry older than this is asked for again (ms; Linux's reachable time is 15–45 s, uIP's 20 min) */
export const ARP_MAX_AGE_MS = 300000;

/* Counters (cnt): every drop has one. */
export const C_RX = 0;
export const C_TX = 1;
/** not for us: other MAC, other IP, other ethertype */
export const C_RX_OTHER = 2;
/** bad length, version, header length or checksum */
export const C_RX_BAD = 3;
/** IP fragments (no reassembly here) */
export const C_FRAG_DROP = 4;
/** datagrams replaced by an ARP request (next hop unknown) */
export const C_ARP_MISS = 5;
export const C_ECHO = 6;
/** UDP to no socket (port unreachable sent unless broadcast) */
export const C_UDP_NOPORT = 7;
/** UDP socket already holds a datagram */
export const C_UDP_FULL = 8;
/** no route (no address, no gateway) */
export const C_NO_ROUTE = 9;
export const C_TCP_RST_TX = 10;
export const C_TCP_RETRANS = 11;
/** TCP segments dropped (bad checksum, out of window, out of order, no room for a SYN) */
export const C_TCP_DROP = 12;
export const C_COUNT = 13;
export const CNT_NAMES = [
  'rx', 'tx', 'rxOther', 'rxBad', 'fragDrop', 'arpMiss', 'echo', 'udpNoPort', 'udpFull', 'noRoute',
  'tcpRstTx', 'tcpRetrans', 'tcpDrop',
];

export interface CompactConfig {
  /** ARP table entries */
  arpSize: number;
  /** TCP control blocks, listeners included (0 = no TCP) */
  tcbs: number;
  /** bytes per direction per TCP control block (send ring and receive ring) */
  tcpBuf: number;
  /** one-datagram UDP sockets (NetworkJS) */
  udpSocks: number;
  /** largest datagram a UDP socket holds */
  udpBuf: number;
}

export const COMPACT_DEFAULTS: CompactConfig = { arpSize: 4, tcbs: 3, tcpBuf: 2048, udpSocks: 2, udpBuf: 548 };

/** Where frames go: the chip driver (copies the frame out before returning). */
export interface FrameOut {
  xmit(b: Uint8Array, len: number): void;
}

/**
 * The compact stack. State is grouped by concern; each module (tcp.ts,
 * dhcp.ts, dns.ts) owns its group and its reset. Configuration is checked
 * once here (netCreate).
 */
export class Net {
  cfg: CompactConfig;
  clock: Clock;
  out!: FrameOut | null;
  mac!: Uint8Array;
  /** the MAC's first four bytes and last two, as get32/get16 read them (the receive filter) */
  macHi!: number;
  macLo!: number;
  rx!: Uint8Array;
  tx!: Uint8Array;
  /* interface addresses (0 = none) */
  ip!: number;
  mask!: number;
  gw!: number;
  dns!: number;
  /** IP identification of the next datagram */
  ipId!: number;
  /** xorshift32 state (ISNs, ports, DHCP xid, DNS ids) */
  seed: number;
  cnt!: Uint32Array;
  /** when netTick last ran its timer pass (ms) */
  lastTick!: number;
  /* ARP table */
  arpIp: Int32Array;
  arpMac: Uint8Array;
  arpT: Float64Array;
  /* UDP sockets: port (0 = free), one held datagram each */
  udpPort: Int32Array;
  udpLen: Int32Array;
  udpFrom: Int32Array;
  udpFromPort: Int32Array;
  udpData: Uint8Array;
  /* TCP (tcp.ts): control blocks, flat, F_COUNT numbers each; rings */
  tcb!: Float64Array;
  tbuf!: Uint8Array;
  /* DHCP client (dhcp.ts) and DNS resolver (dns.ts) state */
  dh: Float64Array;
  dq: DnsQuery[];
  /** DNS answers dropped (malformed, or not matching a query: ID, source, question) */
  dnsDrop!: number;
  hostname!: string;
  onLease!: ((ip: number) => void) | null;
  constructor(cfg: CompactConfig, mac: Uint8Array, clock: Clock, seed: number) {
    // created in the order the packet path reads them: Espruino finds an
    // object's property by walking its list, so the hot ones go first
    // (without TCP there are no control blocks: no code that reads them is built in)
    if (FEATURE_TCP) {
      this.tcb = new Float64Array(cfg.tcbs * TCB_FIELDS);
      this.tbuf = new U8(cfg.tcbs * cfg.tcpBuf * 2);
    }
    this.rx = new U8(FRAME_MAX);
    this.tx = new U8(FRAME_MAX);
    this.macHi = get32(mac, 0);
    this.macLo = get16(mac, 4);
    this.cfg = cfg;
    this.cnt = new Uint32Array(C_COUNT);
    this.out = null;
    this.clock = clock;
    this.ip = 0;
    this.mask = 0;
    this.gw = 0;
    this.lastTick = -1e9;
    this.mac = new U8(6);
    this.mac.set(mac);
    this.dns = this.ipId = this.dnsDrop = 0;
    this.seed = seed | 0 || 0x2545f491;
    this.arpIp = new I32(cfg.arpSize);
    this.arpMac = new U8(cfg.arpSize * 6);
    this.arpT = new Float64Array(cfg.arpSize);
    this.udpPort = new I32(cfg.udpSocks);
    this.udpLen = new I32(cfg.udpSocks);
    this.udpFrom = new I32(cfg.udpSocks);
    this.udpFromPort = new I32(cfg.udpSocks);
    this.udpData = new U8(cfg.udpSocks * cfg.udpBuf);
    this.dh = new Float64Array(FEATURE_DHCP ? DH_FIELDS : 0);
    this.dq = [];
    this.hostname = '';
    this.onLease = null;
    for (let i = 0; FEATURE_DNS && i < DNS_SLOTS; i++) this.dq.push({ qName: '', qState: 0, qAddr: 0, qId: 0, qPort: 0, qTries: 0, qDue: 0, qCb: null });
  }
}

/** Numbers per TCP control block (tcp.ts F_*); here so Net can size it. */
export const TCB_FIELDS = 35;
/** Numbers of DHCP client state (dhcp.ts D_*). */
export const DH_FIELDS = 12;

/** DNS query slots (dns.ts): lookups in flight at once. */
export const DNS_SLOTS = 2;

/**
 * One DNS lookup slot (dns.ts), created once with the Net. A declared
 * class, not an interface: only a type, and its member names are renamed
 * in the bundles (every interface member's name is kept, scripts/mangle-reserved.js).
 */
export declare class DnsQuery {
  qName: string;
  /** 0 free, 1 pending, 2 answered (qAddr), < 0 failed (an EAI_ code); qCb runs on the next dnsTick */
  qState: number;
  /** the answer; while pending, sends that became ARP requests */
  qAddr: number;
  /** query ID and UDP source port (RFC 5452: both random) */
  qId: number;
  qPort: number;
  qTries: number;
  /** time of the next (re)send, ms */
  qDue: number;
  qCb: ((err: number, addr: number) => void) | null;
}

/**
 * Make a compact stack: checks the configuration (lwIP init.c style) and
 * allocates everything it will ever use. Throws on a bad configuration
 * (configuration time, never on the packet path): "slabnet: bad <key>"
 * (every value an integer >= 0, arpSize >= 1, tcpBuf 536..65535 when
 * tcbs > 0, udpBuf at most 1472) or "slabnet: bad MAC" (6 bytes, unicast).
 */
export function netCreate(over: Partial<CompactConfig> | null, mac: Uint8Array, clock: Clock, seed: number): Net {
  let c: { [k: string]: number } = {};
  let cfg = c as unknown as CompactConfig;
  let d = COMPACT_DEFAULTS as unknown as { [k: string]: number };
  let o = (over || {}) as { [k: string]: number | undefined };
  let bad: string | null = null;
  for (let k in d) {
    let v = o[k] !== undefined ? o[k] : d[k];
    if (typeof v !== 'number' || v != (v | 0) || v < 0) bad = k;
    c[k] = v as number;
  }
  if (cfg.arpSize < 1) bad = 'arpSize';
  if (cfg.tcbs > 0 && (cfg.tcpBuf < 536 || cfg.tcpBuf > 65535)) bad = 'tcpBuf';
  if (cfg.udpBuf > FRAME_MAX - UDP_DATA) bad = 'udpBuf';
  if (mac.length != 6 || (mac[0] & 1) != 0) bad = 'MAC';
  if (bad !== null) throw new Error('slabnet: bad ' + bad);
  return new Net(cfg, mac, clock, seed);
}

/** xorshift32: the next 32 random bits (signed). */
export function rand(n: Net): number {
  let x = n.seed;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  n.seed = x | 0;
  return n.seed;
}

/**
 * Copy len bytes src[soff..] → dst[doff..]: the project's copyBytes
 * (src/core/bytes.ts: one native set() on Espruino, a loop allocating
 * nothing on Node and Lua), by the short name the compact files use.
 */
export { copy };

/** Big-endian reads and writes (the only byte-order code in the compact stack). */
export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
export function get32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * "a.b.c.d" (four decimal parts of 1 to 3 digits, each 0..255) → the
 * address, else null (as src/link/ifaddr.ts parseIp and the full
 * resolver's dottedQuad).
 */
export function ipQuad(s: string): number | null {
  let a = 0;
  let v = 0;
  let d = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    let c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      if (d == 0 || ++parts > 4) return null;
      a = a * 256 + v;
      v = 0;
      d = 0;
    } else if (c < 0x30 || c > 0x39 || ++d > 3 || (v = v * 10 + c - 0x30) > 255) {
      return null;
    }
  }
  return parts == 4 ? a | 0 : null;
}

/* Espruino built-in: the sum of an array's elements. */
declare const E: { sum(a: Uint16Array): number };

/**
 * The Internet checksum (RFC 1071) of len bytes at off of b, plus sum (a
 * pseudo-header's), folded and complemented: what goes into a header, and
 * 0 when checking data that includes its checksum field. In Espruino
 * (RUNTIME_ESPRUINO) the 16-bit words are summed natively (E.sum over a
 * Uint16Array view, which needs an even address: the frame buffers are
 * their own, every header starts at an even offset) as little-endian
 * words, whose folded sum is the byte-swapped one (RFC 1071 §2(B)); a
 * loop elsewhere, and for a trailing odd byte or an odd address.
 */
export function csum(b: Uint8Array, off: number, len: number, sum: number): number {
  let s = sum;
  let i = 0;
  if (RUNTIME_ESPRUINO && ((b.byteOffset + off) & 1) == 0) {
    let w = E.sum(new Uint16Array(b.buffer, b.byteOffset + off, len >>> 1));
    w = (w & 0xffff) + (w >>> 16);
    w = (w & 0xffff) + (w >>> 16);
    s += ((w & 0xff) << 8) | (w >>> 8);
    i = len & ~1;
  }
  for (; i < len; i++) s += (i & 1) != 0 ? b[off + i] : b[off + i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * The TCP/UDP checksum of `len` bytes at `off` of b (the L4 header and
 * data) with the pseudo-header (RFC 768, RFC 9293 §3.1). 0 = correct when
 * checking a received segment whose checksum field is included.
 */
export function l4Csum(b: Uint8Array, off: number, len: number, src: number, dst: number, proto: number): number {
  return csum(b, off, len, (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len);
}

/** Send a frame of len bytes from tx (the driver copies it). */
function xmit(n: Net, len: number): void {
  if (n.out === null) return;
  n.cnt[C_TX]++;
  n.out.xmit(n.tx, len < 60 ? 60 : len);
}

/** Fill tx's Ethernet header: to `to` (6 bytes at toOff), type. */
function ethHeader(n: Net, to: Uint8Array, toOff: number, type: number): void {
  let t = n.tx;
  copy(t, ETH_DEST, to, toOff, 6);
  t.set(n.mac, ETH_SOURCE);
  put16(t, ETH_PROTO, type);
}

/** Send an ARP packet (op) for target IP tip to MAC tha (null = broadcast request). */
function arpSend(n: Net, op: number, tip: number, tha: Uint8Array | null, thaOff: number): void {
  let t = n.tx;
  if (tha === null) {
    t.fill(0xff, 0, 6);
    t.fill(0, ETH_HLEN + ARP_THA, ETH_HLEN + ARP_THA + 6);
  } else {
    copy(t, 0, tha, thaOff, 6);
    copy(t, ETH_HLEN + ARP_THA, tha, thaOff, 6);
  }
  t.set(n.mac, ETH_SOURCE);
  let a = ETH_HLEN;
  // ETH_PROTO ARP, then ARP_HTYPE 1 (Ethernet), ARP_PTYPE IPv4, ARP_HLEN_PLEN 6/4, ARP_OP
  put32(t, ETH_PROTO, (ETH_P_ARP << 16) | 1);
  put32(t, a + ARP_PTYPE, (ETH_P_IP << 16) | 0x0604);
  put16(t, a + ARP_OP, op);
  t.set(n.mac, a + ARP_SHA);
  put32(t, a + ARP_SPA, n.ip);
  put32(t, a + ARP_TPA, tip);
  xmit(n, a + ARP_LEN);
}

/** The ARP entry for ip, or -1. */
function arpFind(n: Net, ip: number): number {
  for (let i = 0; i < n.arpIp.length; i++) if (n.arpIp[i] == ip && ip != 0) return i;
  return -1;
}

/** Add or refresh ip → MAC at rx[macOff]; replaces the oldest entry when full. */
function arpUpdate(n: Net, ip: number, macOff: number, create: boolean): void {
  let e = arpFind(n, ip);
  if (e < 0) {
    if (!create) return;
    // a free entry, else the oldest
    e = 0;
    for (let i = 0; i < n.arpIp.length; i++) {
      if (n.arpIp[i] == 0) {
        e = i;
        break;
      }
      if (n.arpT[i] < n.arpT[e]) e = i;
    }
  }
  n.arpIp[e] = ip;
  copy(n.arpMac, e * 6, n.rx, macOff, 6);
  n.arpT[e] = n.clock.now();
}

/** Forget every ARP entry (address change). */
export function arpFlush(n: Net): void {
  n.arpIp.fill(0);
}

/** dst is 255.255.255.255 or our subnet's broadcast address (none on a /32). */
function bcastTo(n: Net, dst: number): boolean {
  return dst == -1 || (n.mask != -1 && n.ip != 0 && (dst | n.mask) == -1 && ((dst ^ n.ip) & n.mask) == 0);
}

/**
 * Send the IP datagram whose L4 part (l4len bytes) is at tx[L4_OFF]:
 * writes the IP and Ethernet headers (RFC 791 §3.1, DF clear, TTL 64).
 * dst -1 (255.255.255.255) goes to the Ethernet broadcast. `reply`: the
 * frame answers the one in rx, so it goes back to rx's source MAC (no
 * ARP look-up). Returns 0, or -1 when the next hop is unknown (an ARP
 * request went out instead) or there is no route.
 */
export function ipSend(n: Net, dst: number, proto: number, l4len: number, reply: boolean): number {
  let t = n.tx;
  let h = IP_OFF;
  let tl = IP_HLEN + l4len;
  let id = n.ipId++;
  // version/IHL, TOS, total length; ID, flags/fragment offset 0; TTL 64, protocol, checksum 0
  // (IP_VERIHL ... IP_CSUM as three words: no array is made per packet)
  put32(t, h + IP_VERIHL, 0x45000000 | tl);
  put32(t, h + IP_ID, (id & 0xffff) << 16);
  put32(t, h + IP_TTL, (64 << 24) | (proto << 16));
  put32(t, h + IP_SADDR, n.ip);
  put32(t, h + IP_DADDR, dst);
  put16(t, h + IP_CSUM, csum(t, h, IP_HLEN, 0));
  if (reply) {
    copy(t, ETH_DEST, n.rx, ETH_SOURCE, 6);
  } else if (bcastTo(n, dst)) {
    t.fill(0xff, 0, 6);
  } else {
    // next hop: on the subnet directly, else the gateway (RFC 1122 §3.3.1.1)
    let hop = n.ip != 0 && ((dst ^ n.ip) & n.mask) == 0 ? dst : n.gw;
    if (hop == 0) {
      n.cnt[C_NO_ROUTE]++;
      return -1;
    }
    let e = arpFind(n, hop);
    if (e < 0 || n.clock.now() - n.arpT[e] > ARP_MAX_AGE_MS) {
      if (e >= 0) n.arpIp[e] = 0;
      n.cnt[C_ARP_MISS]++;
      arpSend(n, ARPOP_REQUEST, hop, null, 0);
      return -1;
    }
    copy(t, ETH_DEST, n.arpMac, e * 6, 6);
  }
  t.set(n.mac, ETH_SOURCE);
  put16(t, ETH_PROTO, ETH_P_IP);
  xmit(n, L4_OFF + l4len);
  return 0;
}

/** Send a UDP datagram whose payload (len bytes) is at tx[UDP_DATA]. Returns ipSend's result. */
export function udpOut(n: Net, sport: number, dst: number, dport: number, len: number): number {
  let t = n.tx;
  let u = L4_OFF;
  let l = UDP_HLEN + len;
  // source port, destination port; length, checksum 0 (then the checksum)
  put32(t, u, (sport << 16) | dport);
  put32(t, u + 4, l << 16);
  let c = l4Csum(t, u, UDP_HLEN + len, n.ip, dst, IPPROTO_UDP);
  put16(t, u + 6, c == 0 ? 0xffff : c);
  return ipSend(n, dst, IPPROTO_UDP, UDP_HLEN + len, false);
}

/**
 * ICMP destination unreachable (code) for the datagram in rx at ip (header
 * length ihl): its IP header and first 8 bytes of data (RFC 792).
 * Never for a broadcast or multicast destination (RFC 1122 §3.2.2).
 */
function icmpUnreach(n: Net, ip: number, ihl: number, totlen: number, code: number): void {
  let t = n.tx;
  let q = ihl + 8 < totlen ? ihl + 8 : totlen;
  // type, code, checksum 0; unused 0 (RFC 792)
  put32(t, L4_OFF, (ICMP_DEST_UNREACH << 24) | (code << 16));
  put32(t, L4_OFF + 4, 0);
  copy(t, L4_OFF + 8, n.rx, ip, q);
  put16(t, L4_OFF + ICMP_CSUM, csum(t, L4_OFF, 8 + q, 0));
  ipSend(n, get32(n.rx, ip + IP_SADDR), IPPROTO_ICMP, 8 + q, true);
}

/** Count a dropped frame (netInput's `return drop(n, C_...)`). */
function drop(n: Net, c: number): void {
  n.cnt[c]++;
}

/**
 * The receive path: one frame of len bytes in rx. Ethernet → ARP or
 * IPv4 → ICMP, UDP or TCP. Everything not for us or malformed is counted
 * and dropped; nothing here throws.
 */
export function netInput(n: Net, len: number): void {
  let r = n.rx;
  n.cnt[C_RX]++;
  if (len < ETH_HLEN + ARP_LEN || len > FRAME_MAX) {
    return drop(n, C_RX_BAD);
  }
  // to us or broadcast (multicast: not joined): two word compares, not a loop per byte
  let hi = get32(r, ETH_DEST);
  let lo = get16(r, ETH_DEST + 4);
  if ((r[0] & 1) == 0 ? hi != n.macHi || lo != n.macLo : hi != -1 || lo != 0xffff) {
    return drop(n, C_RX_OTHER);
  }
  let type = get16(r, ETH_PROTO);
  if (type == ETH_P_ARP) {
    let a = ETH_HLEN;
    // ARP_HTYPE 1 (Ethernet) and ARP_PTYPE IPv4 in one word, ARP_HLEN_PLEN 6/4
    if (get32(r, a + ARP_HTYPE) != (0x10000 | ETH_P_IP) || get16(r, a + ARP_HLEN_PLEN) != 0x0604) {
      return drop(n, C_RX_BAD);
    }
    let sip = get32(r, a + ARP_SPA);
    let forUs = n.ip != 0 && get32(r, a + ARP_TPA) == n.ip;
    // RFC 826 "merge": refresh a known sender; add it when the packet is for us
    if (sip != 0) arpUpdate(n, sip, a + ARP_SHA, forUs);
    if (!forUs) {
      return drop(n, C_RX_OTHER);
    }
    let op = get16(r, a + ARP_OP);
    if (op == ARPOP_REQUEST) arpSend(n, ARPOP_REPLY, sip, r, a + ARP_SHA);
    else if (op == ARPOP_REPLY && FEATURE_TCP) tcpKick(n, sip);
    return;
  }
  if (type != ETH_P_IP) {
    return drop(n, C_RX_OTHER);
  }
  // RFC 1122 §3.2.1: version, header length, total length, checksum
  let ip = ETH_HLEN;
  let vh = r[ip + IP_VERIHL];
  let ihl = (vh & 15) * 4;
  let totlen = get16(r, ip + IP_TOTLEN);
  if (vh >>> 4 != 4 || ihl < IP_HLEN || totlen < ihl || ip + totlen > len || csum(r, ip, ihl, 0) != 0) {
    return drop(n, C_RX_BAD);
  }
  let dst = get32(r, ip + IP_DADDR);
  let src = get32(r, ip + IP_SADDR);
  let bcast = bcastTo(n, dst);
  let proto = r[ip + IP_PROTO];
  // before we have an address only DHCP (UDP, to us or broadcast) gets in
  if ((dst != n.ip && !bcast && !(n.ip == 0 && proto == IPPROTO_UDP)) || n.ip == 0 && proto != IPPROTO_UDP) {
    return drop(n, C_RX_OTHER);
  }
  if ((get16(r, ip + IP_FRAGOFF) & (IP_MF | IP_OFFSET)) != 0) {
    return drop(n, C_FRAG_DROP);
  }
  let l4 = ip + ihl;
  let l4len = totlen - ihl;
  if (proto == IPPROTO_ICMP) {
    if (l4len < 8 || csum(r, l4, l4len, 0) != 0) {
      return drop(n, C_RX_BAD);
    }
    if (r[l4 + ICMP_TYPE] != ICMP_ECHO || bcast) return;
    // RFC 792 echo reply: the same identifier, sequence and data
    if (l4len > FRAME_MAX - L4_OFF) return;
    n.cnt[C_ECHO]++;
    let t = n.tx;
    copy(t, L4_OFF, r, l4, l4len);
    t[L4_OFF + ICMP_TYPE] = ICMP_ECHOREPLY;
    t[L4_OFF + ICMP_CODE] = 0;
    put16(t, L4_OFF + ICMP_CSUM, 0);
    put16(t, L4_OFF + ICMP_CSUM, csum(t, L4_OFF, l4len, 0));
    ipSend(n, src, IPPROTO_ICMP, l4len, true);
    return;
  }
  if (proto == IPPROTO_UDP) {
    let ulen = get16(r, l4 + 4);
    if (l4len < UDP_HLEN || ulen < UDP_HLEN || ulen > l4len || (get16(r, l4 + 6) != 0 && l4Csum(r, l4, ulen, src, dst, IPPROTO_UDP) != 0)) {
      return drop(n, C_RX_BAD);
    }
    let sport = get16(r, l4);
    let dport = get16(r, l4 + 2);
    let data = l4 + UDP_HLEN;
    let dlen = ulen - UDP_HLEN;
    if (FEATURE_DHCP && dport == DHCP_CLIENT_PORT) {
      dhcpInput(n, data, dlen);
      return;
    }
    if (n.ip == 0) return;
    if (FEATURE_DNS && dnsInput(n, data, dlen, src, sport, dport)) return;
    for (let s = 0; s < n.udpPort.length; s++) {
      if (n.udpPort[s] != dport) continue;
      if (n.udpLen[s] > 0 || dlen > n.cfg.udpBuf) {
        return drop(n, C_UDP_FULL);
      }
      let b = s * n.cfg.udpBuf;
      copy(n.udpData, b, r, data, dlen);
      n.udpLen[s] = dlen + 1;
      n.udpFrom[s] = src;
      n.udpFromPort[s] = sport;
      return;
    }
    n.cnt[C_UDP_NOPORT]++;
    if (!bcast) icmpUnreach(n, ip, ihl, totlen, ICMP_PORT_UNREACH);
    return;
  }
  if (FEATURE_TCP && proto == IPPROTO_TCP && !bcast) {
    tcpInput(n, l4, l4len, src);
    return;
  }
  n.cnt[C_RX_OTHER]++;
  if (!bcast) icmpUnreach(n, ip, ihl, totlen, ICMP_PROT_UNREACH);
}

/** the timer pass's granularity (ms) */
export const NET_TICK_MS = 10;

/** Connect the stack to its chip driver (or any frame sink): where netInput's answers and every datagram go. */
export function netAttach(n: Net, out: FrameOut | null): void {
  n.out = out;
}

/**
 * A received frame from a driver that has it in its own buffer (a host
 * transport, a chip model): copies len bytes of f into rx and runs
 * netInput. A chip driver reads into n.rx itself and calls netInput.
 */
export function netRxFrame(n: Net, f: Uint8Array, len: number): void {
  if (len < 0 || len > FRAME_MAX || len > f.length) {
    n.cnt[C_RX]++;
    return drop(n, C_RX_BAD);
  }
  copy(n.rx, 0, f, 0, len);
  netInput(n, len);
}

/** The counters by name (CNT_NAMES): a new object (reports, not the packet path). */
export function netStats(n: Net): { [name: string]: number } {
  let o: { [name: string]: number } = {};
  for (let i = 0; i < C_COUNT; i++) o[CNT_NAMES[i]] = n.cnt[i];
  return o;
}

/**
 * Timers: call often (every poll). The timer pass runs at most every
 * NET_TICK_MS (the timers' granularity: a driver that polls per frame
 * pays for the pass once per 10 ms, not per frame); all work is due-time
 * driven.
 */
export function netTick(n: Net): void {
  let now = n.clock.now();
  if (now - n.lastTick < NET_TICK_MS && now >= n.lastTick) return;
  n.lastTick = now;
  if (FEATURE_TCP) tcpTick(n, now);
  if (FEATURE_DHCP) dhcpTick(n, now);
  if (FEATURE_DNS) dnsTick(n, now);
}

/** Set the address (ip/mask/gw/dns, 0 = none): flushes ARP; announces it with a gratuitous ARP request. */
export function netSetIp(n: Net, ip: number, mask: number, gw: number, dns: number): void {
  n.ip = ip | 0;
  n.mask = mask | 0;
  n.gw = gw | 0;
  n.dns = dns | 0;
  arpFlush(n);
  if (n.ip != 0) {
    arpSend(n, ARPOP_REQUEST, n.ip, null, 0);
    // ask for the gateway now so the first datagram to it is not replaced by the request
    if (n.gw != 0) arpSend(n, ARPOP_REQUEST, n.gw, null, 0);
  }
}

/** Open a UDP socket on port (0: an ephemeral port, 49152–65535). Returns the socket or -1 (none free or port taken). */
export function udpOpen(n: Net, port: number): number {
  let p = port;
  if (p == 0) p = 49152 + (rand(n) & 0x3fff);
  let f = -1;
  for (let s = 0; s < n.udpPort.length; s++) {
    if (n.udpPort[s] == p) return -1;
    if (f < 0 && n.udpPort[s] == 0) f = s;
  }
  if (f >= 0) {
    n.udpPort[f] = p;
    n.udpLen[f] = 0;
  }
  return f;
}

export function udpClose(n: Net, s: number): void {
  if (s >= 0 && s < n.udpPort.length) n.udpPort[s] = 0;
}

/**
 * Send len bytes of src at off from UDP socket s to dst:dport. Returns len,
 * 0 when the next hop is being resolved (try again), or -1 (bad socket,
 * too long, no route).
 */
export function udpSendTo(n: Net, s: number, dst: number, dport: number, src: Uint8Array, off: number, len: number): number {
  if (s < 0 || s >= n.udpPort.length || n.udpPort[s] == 0 || len > FRAME_MAX - UDP_DATA) return -1;
  copy(n.tx, UDP_DATA, src, off, len);
  let before = n.cnt[C_ARP_MISS];
  if (udpOut(n, n.udpPort[s], dst, dport, len) == 0) return len;
  return n.cnt[C_ARP_MISS] != before ? 0 : -1;
}
