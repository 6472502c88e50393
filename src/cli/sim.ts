/*
 * sim.ts — `slabnet sim` (what `npm start` runs): a virtual LAN of
 * simulated boards in virtual time (Node only).
 *
 *   slabnet sim [--seed N] [--loss P] [--pcap FILE | --no-pcap] [--json]
 *
 * Four stacks on one virtual switch: "host" (the PC board config) and
 * three boards named after real Espruino boards, each running what its
 * bundle runs. A board with a `compact` part (boards/*.ts; the Pico and
 * the WiFi) ships the compact stack (src/compact/) and runs here as a
 * SimCompactHost with its board's compact config and profile ('full': TCP,
 * DHCP, DNS; 'tiny': no TCP, so no TCP step is run on it); the others run
 * the general stack with the config their bundle runs (boards/index.ts
 * boardConfig: the board's pools, and tables of compiled-out features
 * sized 0): the esp32 (the ESP32 + W5500 board, whose bundle has TCP, DHCP
 * and DNS). The host is also the LAN's router,
 * DHCP server (src/apps/dhcp_server.ts: pool 192.0.2.100.., lease
 * LEASE_SEC), DNS server (src/apps/dns_server.ts: host.lan A 192.0.2.1,
 * www.lan CNAME host.lan) and web server (src/apps/http.ts on port 80).
 * Script: interfaces up (the host static, gratuitous ARP; the esp32, the
 * pico and the wifi without an address) → the esp32 leases its address with its DHCP
 * client (DISCOVER/OFFER/REQUEST/ACK, the RFC 5227 ARP probe, BOUND) → it
 * resolves www.lan with its DNS resolver (the server from the lease; a
 * CNAME to host.lan) and fetches http://www.lan/bytes/16384 from the host
 * (Connection: close; length and pattern checked) → the pico, then the
 * wifi, do the same with the compact API: dhcpStart (n.onLease),
 * dnsLookup, and the page over tcpConnect/tcpSend/tcpRecv/tcpClose → ARP
 * resolution and pings between every pair (the leased addresses; the pico's
 * and the wifi's own pings are the simulation's: the compact stack answers
 * echo requests but has no ping, see compactPing) → a 3000-byte ping each way between host and
 * esp32 (fragmented and reassembled) and one to the pico, whose compact
 * stack has no reassembly (dropped and counted: netStats fragDrop) → UDP
 * echo from two clients to a server on the pico (a compact one-datagram
 * socket: datagrams of at most its udpBuf): the host over the socket API,
 * the wifi over its compact stack (CompactUdpClient: udpOpen, udpSendTo,
 * and the datagram its socket holds, read as networkjs.ts reads it) →
 * HTTP/1.1 over TCP: the esp32
 * runs the HTTP service on port 80, the host connects with the socket API
 * and, on one keep-alive connection, GETs /bytes/200000 (length and
 * pattern checked) and PUTs 100000 bytes to /upload, then closes → the
 * pico, the wifi and then the esp32 release their leases (DHCPRELEASE) and
 * the host's servers stop.
 * The cable of the wifi board loses `--loss` of its frames (default 0.05)
 * in each direction, the esp32's 1% (ESP32_LOSS); pings and datagrams are
 * retried, DHCP and DNS retransmit, TCP retransmits.
 *
 * Prints a timeline (virtual ms; DHCP and DNS messages decoded from the
 * switch), per-host counters (Tcp too on hosts with TCP, the esp32's DHCP
 * client and DNS resolver), pool use and high-water marks, TCBs, the
 * esp32's socket listing while the HTTP connection was open, ARP tables,
 * link/switch statistics, and where the pcap of the whole switch was
 * written (default: os.tmpdir()/slabnet-sim.pcap).
 * --json prints one JSON object instead; a compact board's entry in hosts
 * has the general stack's shape (its counters under the MIB names they
 * match, compactHostReport), `stack: 'compact'` and its own counters in
 * `compact`, and compactBoards reports its lease, lookup and page. Exit 0 when every step succeeded
 * (lease, name resolution and every HTTP request included), every skb is
 * back in its pool and every TCB is free (TIME_WAIT run out), 1
 * otherwise, 2 on bad flags.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Sim, SimHost, SimTicker } from '../sim/world';
import { FEV_SWITCH, FEV_TX, FEV_RX, SimPort } from '../sim/switch';
import { PcapFile } from '../host/pcapfile';
import type { StackConfig } from '../config';
import { findBoard, boardConfig } from '../../boards/index';
import { ifconfig } from '../ipv4/devinet';
import { icmpPing } from '../ipv4/icmp';
import { parseIpStrict, formatIp } from '../link/ifaddr';
import { formatMac } from '../link/ether';
import { arpDump, neighFlushAll } from '../link/arp';
import { socket, bind, sendto, recvfrom, close, connect, send, recv, shutdown, poll, SHUT_WR } from '../socket/socket';
import { SOCK_DGRAM, SOCK_STREAM, SK_EV_WRITABLE, SK_EV_ERROR, SK_EV_CLOSED } from '../socket/sock';
import { ServiceMux } from '../apps/service';
import { HttpService, HTTP_PORT, defaultHttpOptions } from '../apps/http';
import { patternByte, fillPattern } from '../apps/http_parse';
import { socketList, formatSocketList } from '../socket/netstat';
import { eventMux } from '../socket/events';
import { DhcpServer } from '../apps/dhcp_server';
import {
  DhcpClient, DHCP_BOUND, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST, DHCP_EV_CONFLICT, DHCP_EV_NAK, DHCP_EV_RELEASED,
} from '../apps/dhcp_client';
import { DnsServer, DNS_PORT } from '../apps/dns_server';
import { DnsResolver } from '../apps/dns_resolver';
import {
  DhcpMsg, dhcpParse, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK,
  DHCPRELEASE, DHCPINFORM,
} from '../wire/dhcp';
import { DNS_HLEN, DNS_F_QR, DNS_F_RCODE, DNS_TYPE_A, DNS_TYPE_CNAME, dnsNameCopy, dnsNameEnd, dnsNameToString, dnsTtl, eaiName } from '../wire/dns';
import { get16 } from '../core/bytes';
import { getAddr } from '../core/inaddr';
import type { Stack } from '../stack';
import { EAGAIN, EINPROGRESS, ENOBUFS } from '../core/errno';
import { SimCompactHost } from '../sim/compact_host';
import { Net, netStats, netSetIp, udpOpen, udpClose, udpSendTo, ipSend, put16, L4_OFF, ARP_MAX_AGE_MS, C_ARP_MISS, CompactConfig } from '../compact/net';
import { tcpConnect, tcpRecv, tcpSend, tcpClose, tcpState, TCP_TIMEWAIT_MS } from '../compact/tcp';
import { dhcpStart, dhcpRelease, D_STATE, D_SERVER, D_REQAT, D_EXP, D_DROP, DS_BOUND } from '../compact/dhcp';
import { dnsLookup } from '../compact/dns';
import { csumPartial, csumFinish } from '../core/checksum';
import { IPPROTO_ICMP, ICMP_ECHO, ICMP_ECHOREPLY } from '../ipv4/ip';
import { TCP_FREE, TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_TIME_WAIT, TCP_CLOSE } from '../transport/tcp/tcp';

const USAGE =
  'usage: slabnet sim [--seed N] [--loss P] [--pcap FILE | --no-pcap] [--json]\n' +
  '  Simulate a LAN of boards in virtual time: an ESP32 board leases its\n' +
  '  address from the PC by DHCP, resolves www.lan through the PC\'s DNS server\n' +
  '  and fetches http://www.lan/bytes/16384 by name, and the Pico and the WiFi\n' +
  '  (the compact stack their bundles ship) do the same; then ARP, ping (incl. a\n' +
  '  fragmented 3000-byte ping), UDP echo, HTTP GET/PUT over TCP to the ESP32,\n' +
  '  and the boards release their leases; prints a timeline and per-host statistics.\n' +
  '  --seed N     PRNG seed (default 1): the same seed replays the same run\n' +
  '  --loss P     frame loss probability on one board\'s cable (default 0.05)\n' +
  '  --pcap FILE  capture the switch to FILE (default: <tmpdir>/slabnet-sim.pcap)\n' +
  '  --no-pcap    no capture\n' +
  '  --json       print the report as JSON\n';

/** frame loss on the ESP32's cable (each direction) */
const ESP32_LOSS = 0.01;

/* the host's DHCP and DNS service for the LAN */
const DHCP_POOL_START = '192.0.2.100';
const DHCP_POOL_SIZE = 16;
const LEASE_SEC = 600;
/** how long the esp32 may take to get its lease (virtual ms; the RFC 5227 probe alone takes 3-6 s) */
const DHCP_MAX_MS = 30000;
/** the esp32's address should DHCP fail (so the other steps still run) */
const ESP32_FALLBACK = '192.0.2.22';
const DNS_NAME = 'www.lan';
const DNS_A_NAME = 'host.lan';
const DNS_A_TTL = 300;
const DNS_CNAME_TTL = 600;
/** what the esp32 (and the compact boards, over the compact stack) fetch from the host by name */
const FETCH_LEN = 16384;
/** a compact board's address should DHCP fail (one without an address of its own in the board list) */
const COMPACT_FALLBACK = '192.0.2.20';

/** What a board running the compact stack did (the report's compactBoards). */
interface CompactReport {
  name: string;
  board: string;
  profile: 'full' | 'tiny';
  config: CompactConfig;
  dhcp: {
    server: string; addr: string; prefixLen: number; router: string; dns: string; leaseSec: number; boundMs: number; ok: boolean;
    released: boolean; serverReleased: boolean;
    /** DHCP replies the client dropped (n.dh[D_DROP]) */
    drops: number;
  };
  dns: { name: string; addr: string; cname: string; ms: number; ok: boolean; drops: number };
  /** null on a tiny board (no TCP) */
  httpByName: { url: string; status: number; bytes: number; ok: boolean; ms: number; connectMs: number; closed: boolean } | null;
  /** netStats(n): every counter of the compact stack by name */
  counters: { [k: string]: number };
  /** its ARP table just before its DHCPRELEASE (the address change flushes the table) */
  arp: { ip: string; mac: string; state: string }[];
}

/** The prefix length of a contiguous netmask (s32). */
function prefixLen(mask: number): number {
  let k = 0;
  while (k < 32 && ((mask << k) & 0x80000000) !== 0) k++;
  return k;
}

interface Opts {
  seed: number;
  loss: number;
  pcap: string | null;
  json: boolean;
}

function parseArgs(argv: string[]): Opts | string {
  const o: Opts = { seed: 1, loss: 0.05, pcap: path.join(os.tmpdir(), 'slabnet-sim.pcap'), json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string | null => (i + 1 < argv.length ? argv[++i] : null);
    if (a === '--seed') {
      const v = val();
      const n = v === null ? NaN : Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return 'bad --seed';
      o.seed = n;
    } else if (a === '--loss') {
      const v = val();
      const p = v === null ? NaN : Number(v);
      if (!(p >= 0 && p <= 0.5)) return 'bad --loss (0..0.5)';
      o.loss = p;
    } else if (a === '--pcap') {
      const v = val();
      if (v === null || v.length === 0) return 'bad --pcap';
      o.pcap = v;
    } else if (a === '--no-pcap') {
      o.pcap = null;
    } else if (a === '--json') {
      o.json = true;
    } else if (a === '--help' || a === '-h') {
      return '';
    } else {
      return 'unknown argument: ' + a;
    }
  }
  return o;
}

interface Node {
  name: string;
  /** the general stack's host, or null on a board that runs the compact stack */
  h: SimHost | null;
  /** the compact stack's host (boards with a `compact` part: what their bundle runs), or null */
  c: SimCompactHost | null;
  /** the compact profile ('full': TCP, DHCP, DNS; 'tiny': DHCP and DNS, no TCP), or null */
  profile: 'full' | 'tiny' | null;
  board: string;
  addr: string;
  ip: number;
  replies: Map<string, number>;
  /** compact boards: what the wire delivered to and took from the port (the general stack's NIC counts these) */
  nic: { txFrames: number; rxFrames: number; txBytes: number; rxBytes: number };
  /** compact boards: echo requests the simulation's ping sent from it, echo replies that came back to it */
  echoOut: number;
  echoRepIn: number;
}

/** The general stack of n (throws on a compact board: a step that needs the general stack's API). */
function gh(n: Node): SimHost {
  if (n.h === null) throw new Error('sim: ' + n.name + ' runs the compact stack');
  return n.h;
}

/** The compact stack of n (throws on a general-stack board). */
function cn(n: Node): Net {
  if (n.c === null) throw new Error('sim: ' + n.name + ' runs the general stack');
  return n.c.n;
}

/** n's switch port. */
function portOf(n: Node): SimPort {
  return n.c !== null ? n.c.port : gh(n).port(0);
}

interface TimelineEntry {
  t: number;
  what: string;
}

const DHCP_TYPES = ['', 'DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPDECLINE', 'DHCPACK', 'DHCPNAK', 'DHCPRELEASE', 'DHCPINFORM'];
const DNS_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Decode the frames the switch sees into timeline lines (ARP, DHCP and DNS; the rest is counted). */
class FrameLog {
  arp = 0;
  ip = 0;
  frags = 0;
  dhcp = 0;
  dns = 0;
  /** the CNAMEs of the last DNS answer seen, in order */
  lastCnames: string[] = [];
  private readonly msg = new DhcpMsg();
  private readonly nb = new Uint8Array(255);
  constructor(
    readonly tl: TimelineEntry[],
    readonly names: Map<number, string>,
  ) {}
  onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
    if (ev !== FEV_SWITCH || len < 14) return;
    const type = (b[o + 12] << 8) | b[o + 13];
    const who = port.name.split('.')[0];
    if (type === 0x0806 && len >= 42) {
      this.arp++;
      const op = (b[o + 20] << 8) | b[o + 21];
      const sip = ((b[o + 28] << 24) | (b[o + 29] << 16) | (b[o + 30] << 8) | b[o + 31]) >>> 0;
      const tip = ((b[o + 38] << 24) | (b[o + 39] << 16) | (b[o + 40] << 8) | b[o + 41]) >>> 0;
      const sha = formatMac(b, o + 22);
      if (op === 1 && sip === 0) this.tl.push({ t, what: `${who}: ARP probe who-has ${formatIp(tip)} (RFC 5227: is it in use?)` });
      else if (op === 1 && sip === tip) this.tl.push({ t, what: `${who}: gratuitous ARP ${formatIp(sip)} is-at ${sha}` });
      else if (op === 1) this.tl.push({ t, what: `${who}: ARP who-has ${formatIp(tip)} tell ${formatIp(sip)}` });
      else if (op === 2) this.tl.push({ t, what: `${who}: ARP reply ${formatIp(sip)} is-at ${sha}` });
    } else if (type === 0x0800 && len >= 34) {
      this.ip++;
      const frag = (b[o + 20] << 8) | b[o + 21];
      if ((frag & 0x3fff) !== 0) this.frags++;
      const ihl = (b[o + 14] & 15) * 4;
      const u = o + 14 + ihl;
      // whole UDP datagrams only (DHCP and DNS here are never fragmented)
      if ((frag & 0x3fff) !== 0 || b[o + 23] !== 17 || u + 8 > o + len) return;
      const sp = get16(b, u);
      const dp = get16(b, u + 2);
      let ulen = get16(b, u + 4);
      if (ulen < 8) return;
      if (u + ulen > o + len) ulen = o + len - u;
      if ((sp === DHCP_CLIENT_PORT && dp === DHCP_SERVER_PORT) || (sp === DHCP_SERVER_PORT && dp === DHCP_CLIENT_PORT)) {
        this.dhcp++;
        const line = this.dhcpLine(b, u + 8, ulen - 8);
        if (line !== null) this.tl.push({ t, what: `${who}: ${line}` });
      } else if (sp === DNS_PORT || dp === DNS_PORT) {
        this.dns++;
        const line = this.dnsLine(b, u + 8, ulen - 8);
        if (line !== null) this.tl.push({ t, what: `${who}: ${line}` });
      }
    }
  }
  private dhcpLine(b: Uint8Array, off: number, len: number): string | null {
    const m = this.msg;
    if (dhcpParse(b, off, len, m) !== 0) return 'DHCP (malformed)';
    const name = m.msgType > 0 && m.msgType <= DHCPINFORM ? DHCP_TYPES[m.msgType] : 'DHCP type ' + m.msgType;
    switch (m.msgType) {
      case DHCPDISCOVER:
        return name;
      case DHCPOFFER:
        return `${name} ${formatIp(m.yiaddr)}`;
      case DHCPREQUEST:
        return `${name} ${formatIp(m.requestedIp !== 0 ? m.requestedIp : m.ciaddr)}`;
      case DHCPACK:
        return `${name} ${formatIp(m.yiaddr)}${m.leaseTime >= 0 ? ' lease ' + m.leaseTime + ' s' : ''}`;
      case DHCPDECLINE:
        return `${name} ${formatIp(m.requestedIp)}`;
      case DHCPRELEASE:
        return `${name} ${formatIp(m.ciaddr)}`;
      default: // DHCPNAK, DHCPINFORM
        return name;
    }
  }
  /** A DNS query or answer at b[m .. m+len) as one line (names decoded, compression followed). */
  private dnsLine(b: Uint8Array, m: number, len: number): string | null {
    const end = m + len;
    if (len < DNS_HLEN || get16(b, m + 4) !== 1) return null;
    const flags = get16(b, m + 2);
    const qn = dnsNameCopy(b, m, end, m + DNS_HLEN, this.nb, 0) < 0 ? '?' : dnsNameToString(this.nb, 0);
    let p = dnsNameEnd(b, m, end, m + DNS_HLEN);
    if (p < 0 || p + 4 > end) return 'DNS (malformed)';
    const qtype = get16(b, p);
    p += 4;
    const qt = qtype === DNS_TYPE_A ? 'A' : 'type ' + qtype;
    if ((flags & DNS_F_QR) === 0) return `DNS query ${qt} ${qn}`;
    const rcode = flags & DNS_F_RCODE;
    if (rcode !== 0) return `DNS answer ${qn}: ${rcode < DNS_RCODES.length ? DNS_RCODES[rcode] : 'RCODE ' + rcode}`;
    const parts: string[] = [];
    const cnames: string[] = [];
    const an = get16(b, m + 6);
    for (let i = 0; i < an; i++) {
      const f = dnsNameEnd(b, m, end, p);
      if (f < 0 || f + 10 > end) return `DNS answer ${qn}: ${parts.join(', ')} (malformed)`;
      const rt = get16(b, f);
      const ttl = dnsTtl(b, f);
      const rd = f + 10;
      const rdlen = get16(b, f + 8);
      if (rd + rdlen > end) return `DNS answer ${qn}: ${parts.join(', ')} (malformed)`;
      if (rt === DNS_TYPE_CNAME && dnsNameCopy(b, m, end, rd, this.nb, 0) >= 0) {
        const target = dnsNameToString(this.nb, 0);
        cnames.push(target);
        parts.push(`CNAME ${target} (ttl ${ttl})`);
      } else if (rt === DNS_TYPE_A && rdlen === 4) {
        parts.push(`A ${formatIp(getAddr(b, rd))} (ttl ${ttl})`);
      } else {
        parts.push(`type ${rt}`);
      }
      p = rd + rdlen;
    }
    this.lastCnames = cnames;
    return `DNS answer ${qn}: ${parts.length > 0 ? parts.join(', ') : 'no records'}`;
  }
}

/** UDP echo server (an application on top of the socket API). */
class EchoServer implements SimTicker {
  readonly fd: number;
  readonly buf = new Uint8Array(2048);
  readonly from = new Int32Array(2); // s32 source address: no boxing when echoed back
  echoed = 0;
  constructor(
    readonly n: Node,
    readonly port: number,
  ) {
    this.fd = socket(gh(n).st, SOCK_DGRAM, 0);
    if (this.fd >= 0) bind(gh(n).st, this.fd, 0, port);
  }
  onTick(): number {
    let k = 0;
    if (this.fd < 0) return 0;
    for (;;) {
      const st = gh(this.n).st;
      const r = recvfrom(st, this.fd, this.buf, 0, this.buf.length, this.from);
      if (r < 0) break;
      sendto(st, this.fd, this.buf, 0, r, this.from[0], this.from[1]);
      this.echoed++;
      k++;
    }
    return k;
  }
}

/**
 * UDP echo server on a compact board: its one-datagram socket (udpOpen),
 * read the way the NetworkJS adapter reads it (src/compact/networkjs.ts
 * recv: n.udpLen holds length + 1, 0 = empty), answered with udpSendTo.
 */
class CompactEchoServer implements SimTicker {
  readonly s: number;
  readonly buf: Uint8Array;
  echoed = 0;
  /** answers that became an ARP request (next hop unknown: the client retries) */
  arpMisses = 0;
  constructor(
    readonly n: Net,
    readonly port: number,
  ) {
    this.s = udpOpen(n, port);
    this.buf = new Uint8Array(n.cfg.udpBuf);
  }
  onTick(): number {
    const n = this.n;
    const s = this.s;
    if (s < 0) return 0;
    const len = n.udpLen[s] - 1;
    if (len < 0) return 0;
    const o = s * n.cfg.udpBuf;
    this.buf.set(n.udpData.subarray(o, o + len), 0);
    n.udpLen[s] = 0;
    const rc = udpSendTo(n, s, n.udpFrom[s], n.udpFromPort[s], this.buf, 0, len);
    if (rc === len) this.echoed++;
    else this.arpMisses++;
    return 1;
  }
}

/**
 * UDP client on a compact board: an ephemeral-port socket (udpOpen(n, 0)),
 * datagrams out with udpSendTo, and what comes back read the way the
 * NetworkJS adapter reads it (src/compact/networkjs.ts recv: n.udpLen
 * holds length + 1, 0 = empty; the source in udpFrom/udpFromPort; taking
 * it frees the socket for the next datagram). A datagram that arrives
 * while one is held is dropped and counted (udpFull).
 */
class CompactUdpClient {
  readonly s: number;
  from = 0;
  fromPort = 0;
  constructor(readonly n: Net) {
    this.s = udpOpen(n, 0);
  }
  /** len: sent; 0: the next hop is unknown and an ARP request went instead; -1: no route or bad socket */
  sendTo(dst: number, port: number, b: Uint8Array, len: number): number {
    return udpSendTo(this.n, this.s, dst, port, b, 0, len);
  }
  /** the held datagram into b (its length, the rest beyond b.length discarded), -1 when none */
  recv(b: Uint8Array): number {
    const n = this.n;
    const s = this.s;
    if (s < 0) return -1;
    let len = n.udpLen[s] - 1;
    if (len < 0) return -1;
    if (len > b.length) len = b.length;
    const o = s * n.cfg.udpBuf;
    b.set(n.udpData.subarray(o, o + len), 0);
    this.from = n.udpFrom[s];
    this.fromPort = n.udpFromPort[s];
    n.udpLen[s] = 0;
    return len;
  }
  close(): void {
    if (this.s >= 0) udpClose(this.n, this.s);
  }
}

/**
 * An ICMP echo request from a compact board (RFC 792: identifier, sequence,
 * len bytes of data), built in n.tx and sent with net.ts ipSend. The
 * compact stack answers echo requests but has no ping of its own (and its
 * bundle exports no ipSend): this is the simulation's ping application,
 * and the reply is seen on the board's port (FEV_RX), since netInput
 * drops echo replies uncounted. 0, or -1 when the next hop is unknown (an
 * ARP request went out instead) or there is no route.
 */
function compactPing(n: Net, dst: number, ident: number, seq: number, len: number): number {
  const t = n.tx;
  const o = L4_OFF;
  t[o] = ICMP_ECHO;
  t[o + 1] = 0;
  put16(t, o + 2, 0);
  put16(t, o + 4, ident);
  put16(t, o + 6, seq);
  for (let i = 0; i < len; i++) t[o + 8 + i] = i & 0xff;
  put16(t, o + 2, csumFinish(csumPartial(t, o, 8 + len, 0)));
  return ipSend(n, dst, IPPROTO_ICMP, 8 + len, false);
}

/** The compact ARP table (no states there: an entry younger than ARP_MAX_AGE_MS is used, REACHABLE; older, asked for again, STALE). */
function compactArpDump(n: Net): { ip: string; mac: string; state: string }[] {
  const r: { ip: string; mac: string; state: string }[] = [];
  const now = n.clock.now();
  for (let i = 0; i < n.arpIp.length; i++) {
    if (n.arpIp[i] === 0) continue;
    r.push({ ip: formatIp(n.arpIp[i]), mac: formatMac(n.arpMac, i * 6), state: now - n.arpT[i] > ARP_MAX_AGE_MS ? 'STALE' : 'REACHABLE' });
  }
  return r;
}

/**
 * HTTP/1.1 GET over the compact TCP API (tcpSend/tcpRecv on one control
 * block), run as a ticker: sends the request head as the send ring takes
 * it and collects the response into a fixed buffer until the end of the
 * stream (Connection: close) or an error.
 */
class CompactHttpGet implements SimTicker {
  readonly rx: Uint8Array;
  rxLen = 0;
  eof = false;
  err = 0;
  private readonly head: Uint8Array;
  private headSent = 0;
  private readonly chunk = new Uint8Array(1460);
  constructor(
    readonly n: Net,
    readonly t: number,
    head: string,
    max: number,
  ) {
    this.head = new Uint8Array(head.length);
    for (let i = 0; i < head.length; i++) this.head[i] = head.charCodeAt(i) & 0xff;
    this.rx = new Uint8Array(max);
  }
  onTick(): number {
    const n = this.n;
    let k = 0;
    if (this.eof || this.err !== 0) return 0;
    if (this.headSent < this.head.length) {
      const r = tcpSend(n, this.t, this.head, this.headSent, this.head.length - this.headSent);
      if (r > 0) {
        this.headSent += r;
        k++;
      } else if (r < 0) this.err = r;
    }
    for (;;) {
      const room = this.rx.length - this.rxLen;
      const r = tcpRecv(n, this.t, this.chunk, room < this.chunk.length ? room : this.chunk.length);
      if (r > 0) {
        this.rx.set(this.chunk.subarray(0, r), this.rxLen);
        this.rxLen += r;
        k++;
        if (this.rxLen < this.rx.length) continue;
        this.err = -1; // more than the buffer holds
      } else if (r === -1) {
        this.eof = true;
        k++;
      } else if (r < 0) {
        this.err = r;
        k++;
      }
      break;
    }
    return k;
  }
}

/** A complete HTTP/1.1 response head at the start of b[0..len): status, body offset and Content-Length; null while incomplete. */
function parseHead(b: Uint8Array, len: number): { status: number; hdrEnd: number; cl: number } | null {
  let end = -1;
  for (let i = 3; i < len; i++) {
    if (b[i - 3] === 13 && b[i - 2] === 10 && b[i - 1] === 13 && b[i] === 10) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) return null;
  let head = '';
  for (let i = 0; i < end - 4; i++) head += String.fromCharCode(b[i]);
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
  if (m === null) return { status: -1, hdrEnd: end, cl: 0 };
  let cl = 0;
  for (let i = 1; i < lines.length; i++) {
    const k = lines[i].indexOf(':');
    if (k > 0 && lines[i].slice(0, k).toLowerCase() === 'content-length') cl = Number(lines[i].slice(k + 1).trim());
  }
  return { status: Number(m[1]), hdrEnd: end, cl: Number.isInteger(cl) && cl >= 0 ? cl : 0 };
}

/**
 * HTTP/1.1 client on a SOCK_STREAM socket (the zero-allocation socket
 * API), run as a ticker: sends the queued request head and a body of
 * /bytes/N pattern bytes as the send buffer allows, and collects what
 * comes back into a fixed buffer.
 */
class HttpClient implements SimTicker {
  fd = -1;
  readonly rx = new Uint8Array(256 * 1024);
  rxLen = 0;
  eof = false;
  err = 0;
  private head = new Uint8Array(0);
  private headSent = 0;
  private bodyRem = 0;
  private bodyPos = 0;
  private readonly chunk = new Uint8Array(4096);
  constructor(readonly st: Stack) {}
  request(head: string, bodyLen: number): void {
    const h = new Uint8Array(head.length);
    for (let i = 0; i < head.length; i++) h[i] = head.charCodeAt(i) & 0xff;
    this.head = h;
    this.headSent = 0;
    this.bodyRem = bodyLen;
    this.bodyPos = 0;
  }
  /** drop the first k received bytes (a response that was read) */
  consume(k: number): void {
    this.rx.copyWithin(0, k, this.rxLen);
    this.rxLen -= k;
  }
  onTick(): number {
    if (this.fd < 0) return 0;
    const st = this.st;
    let k = 0;
    for (;;) {
      let r = -1;
      if (this.headSent < this.head.length) {
        r = send(st, this.fd, this.head, this.headSent, this.head.length - this.headSent);
        if (r > 0) this.headSent += r;
      } else if (this.bodyRem > 0) {
        const n = this.bodyRem < this.chunk.length ? this.bodyRem : this.chunk.length;
        fillPattern(this.chunk, 0, n, this.bodyPos);
        r = send(st, this.fd, this.chunk, 0, n);
        if (r > 0) {
          this.bodyPos += r;
          this.bodyRem -= r;
        }
      }
      if (r <= 0) break;
      k++;
    }
    while (this.rxLen < this.rx.length) {
      const r = recv(st, this.fd, this.rx, this.rxLen, this.rx.length - this.rxLen);
      if (r > 0) {
        this.rxLen += r;
        k++;
        continue;
      }
      if (r === 0) {
        if (!this.eof) k++;
        this.eof = true;
      } else if (r !== -EAGAIN) {
        this.err = r;
      }
      break;
    }
    return k;
  }
}

/**
 * One request on cl's connection: send head (and bodyLen pattern bytes),
 * run the simulation until the whole response is in (at most maxMs).
 * The response (status, body, virtual ms) or null.
 */
function httpRequest(sim: Sim, cl: HttpClient, head: string, bodyLen: number, maxMs: number): { status: number; body: Uint8Array; ms: number } | null {
  const t1 = sim.now();
  cl.request(head, bodyLen);
  let res: { status: number; hdrEnd: number; cl: number } | null = null;
  const done = sim.runUntil(() => {
    res = parseHead(cl.rx, cl.rxLen);
    if (res !== null && res.status >= 0 && cl.rxLen >= res.hdrEnd + res.cl) return true;
    return cl.eof || cl.err !== 0 || (res !== null && res.status < 0);
  }, maxMs);
  const r = res as { status: number; hdrEnd: number; cl: number } | null;
  if (!done || r === null || r.status < 0 || cl.rxLen < r.hdrEnd + r.cl) return null;
  const body = cl.rx.slice(r.hdrEnd, r.hdrEnd + r.cl);
  cl.consume(r.hdrEnd + r.cl);
  return { status: r.status, body, ms: sim.now() - t1 };
}

/** Run until cl's connect() completes (at most maxMs); true when established. */
function tcpWaitConnected(sim: Sim, cl: HttpClient, maxMs: number): boolean {
  const st = cl.st;
  sim.runUntil(() => (poll(st, cl.fd) & (SK_EV_WRITABLE | SK_EV_ERROR | SK_EV_CLOSED)) !== 0, maxMs);
  const ev = poll(st, cl.fd);
  return (ev & SK_EV_WRITABLE) !== 0 && (ev & (SK_EV_ERROR | SK_EV_CLOSED)) === 0;
}

/** Every byte of body is the /bytes/N pattern. */
function patternOk(body: Uint8Array): boolean {
  for (let i = 0; i < body.length; i++) if (body[i] !== patternByte(i)) return false;
  return true;
}

/** milliseconds rounded to the microsecond (reports) */
function ms3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** the DHCP client's and the resolver's counters shown in the report */
const DHCP_COUNTERS = ['discovers', 'offers', 'requests', 'acks', 'naks', 'declines', 'releases', 'retransmits', 'probes', 'conflicts', 'badMsgs', 'sendErrors'];
const DNS_COUNTERS = ['requests', 'cacheHits', 'queries', 'resends', 'timeouts', 'responses', 'mismatched', 'cnameQueries', 'resolved', 'failures'];

function h0tcbs<T extends { tcbs: { size: number; inUse: number; timeWait: number; synRecv: number } | null }>(hs: T[]): (T & { tcbs: { size: number; inUse: number; timeWait: number; synRecv: number } })[] {
  return hs.filter((h) => h.tcbs !== null) as (T & { tcbs: { size: number; inUse: number; timeWait: number; synRecv: number } })[];
}

/** A compact stack's control blocks as the report counts TCBs (TIME-WAIT ones are in the blocks here). */
function compactTcbs(n: Net): { size: number; inUse: number; timeWait: number; synRecv: number } {
  let inUse = 0;
  let tw = 0;
  let sr = 0;
  for (let t = 0; t < n.cfg.tcbs; t++) {
    const st = tcpState(n, t);
    if (st === TCP_FREE) continue;
    inUse++;
    if (st === TCP_TIME_WAIT) tw++;
    else if (st === TCP_SYN_RECV) sr++;
  }
  return { size: n.cfg.tcbs, inUse, timeWait: tw, synRecv: sr };
}

/**
 * A compact board in the report's hosts, in the general stack's shape:
 * its counters (netStats) under the general MIB names they match —
 * fragDrop as Ip ReasmFails (fragments dropped, no reassembly), echo as
 * Icmp InEchos and OutEchoReps, udpNoPort as Udp NoPorts, rx/tx as Link
 * RxFrames/TxFrames, tcpRetrans/tcpRstTx as Tcp RetransSegs/OutRsts — and
 * Icmp OutEchos/InEchoReps of the simulation's ping from it; every counter
 * by its own name in `compact.counters`. No skb pool (one receive and one
 * transmit frame buffer, nothing held between frames): pool is all 0.
 */
function compactHostReport(n: Node, c: SimCompactHost, arp: { ip: string; mac: string; state: string }[]) {
  const k = netStats(c.n);
  const tcpOn = n.profile === 'full' && c.n.cfg.tcbs > 0;
  const cc = c.n.cfg;
  return {
    name: n.name,
    board: n.board,
    stack: 'compact' as const,
    addr: n.addr,
    mac: formatMac(c.n.mac, 0),
    ip: { ReasmFails: k.fragDrop } as { [k: string]: number },
    icmp: { InEchos: k.echo, InEchoReps: n.echoRepIn, OutEchos: n.echoOut, OutEchoReps: k.echo } as { [k: string]: number },
    udp: { NoPorts: k.udpNoPort } as { [k: string]: number },
    link: { RxFrames: k.rx, TxFrames: k.tx } as { [k: string]: number },
    tcp: tcpOn ? ({ RetransSegs: k.tcpRetrans, OutRsts: k.tcpRstTx } as { [k: string]: number }) : null,
    tcpExt: null as { [k: string]: number } | null,
    tcbs: tcpOn ? compactTcbs(c.n) : null,
    nic: { txFrames: n.nic.txFrames, rxFrames: n.nic.rxFrames, txBytes: n.nic.txBytes, rxBytes: n.nic.rxBytes },
    pool: { small: 0, large: 0, inUse: 0, highSmall: 0, highLarge: 0, allocs: 0, allocFails: 0 },
    arp,
    compact: {
      profile: n.profile as 'full' | 'tiny',
      config: { arpSize: cc.arpSize, tcbs: cc.tcbs, tcpBuf: cc.tcpBuf, udpSocks: cc.udpSocks, udpBuf: cc.udpBuf },
      counters: k,
      /** frames the simulated chip refused (its receive FIFO full) */
      rxFifoDrops: c.rxFifoDrops,
    },
  };
}

export async function runSim(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === 'string') {
    if (opts.length > 0) process.stderr.write(opts + '\n');
    process.stderr.write(USAGE);
    return opts.length > 0 ? 2 : 0;
  }
  const wall0 = Date.now();
  const sim = new Sim({ seed: opts.seed });
  const tl: TimelineEntry[] = [];
  const failures: string[] = [];
  const log = (what: string): void => {
    tl.push({ t: sim.now(), what });
  };

  // ---- the boards ----
  // (addr null: the board gets its address by DHCP; a compact board always asks DHCP, and its
  // addr here is its static fallback should that fail)
  const spec: { name: string; board: string; addr: string | null }[] = [
    { name: 'host', board: 'host', addr: '192.0.2.1' },
    { name: 'pico', board: 'espruino-pico-enc28j60', addr: '192.0.2.20' },
    { name: 'wifi', board: 'espruino-wifi-w5500', addr: '192.0.2.21' },
    { name: 'esp32', board: 'espruino-esp32-w5500', addr: null },
  ];
  const nodes: Node[] = [];
  for (const s of spec) {
    const b = findBoard(s.board);
    const addr = s.addr !== null ? s.addr : '0.0.0.0';
    const node: Node = {
      name: s.name, h: null, c: null, profile: null, board: b !== null ? b.name : s.board, addr, ip: parseIpStrict(addr), replies: new Map(),
      nic: { txFrames: 0, rxFrames: 0, txBytes: 0, rxBytes: 0 }, echoOut: 0, echoRepIn: 0,
    };
    if (b !== null && b.compact !== undefined) {
      // a board with a compact part ships the compact stack as its bundle (issue 8): here it
      // runs that stack with the board's compact config; its profile says what it may use
      node.c = new SimCompactHost(sim, s.name, b.compact.config);
      node.profile = b.compact.profile;
    } else {
      // the config the board's bundle runs with: what its compiled-out features would use is
      // sized 0 (boards/index.ts applyFeatureConfig: no TCBs without TCP, no reassembly slot
      // or large skb without reassembly), so a board here does what its bundle does
      const cfg: Partial<StackConfig> | undefined = b !== null ? boardConfig(b) : undefined;
      node.h = sim.addHost(s.name, cfg);
    }
    nodes.push(node);
  }
  for (const n of nodes) {
    if (n.h === null) continue;
    n.h.st.icmp.echoHandler = {
      onEchoReply: (saddr: number, ident: number, seq: number, len: number) => {
        n.replies.set(saddr + ':' + ident + ':' + seq + ':' + len, sim.now());
      },
    };
  }
  const [host, pico, wifi, esp] = nodes;
  // cables: the ENC28J60 is 10BASE-T, the W5500 and the PC 100BASE-TX;
  // a few microseconds of propagation and switch latency, a little jitter
  const setFaults = (n: Node, f: { rateBps: number; delayMs: number; jitterMs?: number; loss?: number }): void => {
    portOf(n).up.faults.set(f);
    portOf(n).down.faults.set(f);
  };
  setFaults(host, { rateBps: 100000000, delayMs: 0.005 });
  setFaults(pico, { rateBps: 10000000, delayMs: 0.005, jitterMs: 0.05 });
  setFaults(wifi, { rateBps: 100000000, delayMs: 0.005, jitterMs: 0.05, loss: opts.loss });
  // the ESP32's cable loses a little (ESP32_LOSS) so the TCP transfer shows its recovery
  setFaults(esp, { rateBps: 100000000, delayMs: 0.005, jitterMs: 0.05, loss: ESP32_LOSS });

  const names = new Map<number, string>();
  for (const n of nodes) if (n.ip !== 0) names.set(n.ip, n.name);
  const frames = new FrameLog(tl, names);
  // the compact boards' NIC counts and the echo replies to their pings, seen on their ports
  const compactByPort = new Map<SimPort, Node>();
  for (const n of nodes) if (n.c !== null) compactByPort.set(n.c.port, n);
  sim.fabric.observer = {
    onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
      frames.onFrame(ev, port, t, b, o, len);
      const n = compactByPort.get(port);
      if (n === undefined) return;
      if (ev === FEV_TX) {
        n.nic.txFrames++;
        n.nic.txBytes += len;
      } else if (ev === FEV_RX) {
        n.nic.rxFrames++;
        n.nic.rxBytes += len;
        // an unfragmented ICMP echo reply to the board's address
        if (len < 42 || ((b[o + 12] << 8) | b[o + 13]) !== 0x0800 || b[o + 23] !== IPPROTO_ICMP) return;
        if ((((b[o + 20] << 8) | b[o + 21]) & 0x3fff) !== 0 || getAddr(b, o + 30) !== cn(n).ip) return;
        const ihl = (b[o + 14] & 15) * 4;
        const u = o + 14 + ihl;
        const tot = get16(b, o + 16);
        if (u + 8 > o + len || b[u] !== ICMP_ECHOREPLY || 14 + tot > len) return;
        n.echoRepIn++;
        n.replies.set(getAddr(b, o + 26) + ':' + get16(b, u + 4) + ':' + get16(b, u + 6) + ':' + (tot - ihl - 8), t);
      }
    },
  };
  let pcap: PcapFile | null = null;
  if (opts.pcap !== null) {
    try {
      pcap = new PcapFile(opts.pcap);
    } catch (e) {
      process.stderr.write('cannot write pcap ' + opts.pcap + ': ' + String(e) + '\n');
      return 1;
    }
    // capture everything the switch receives
    sim.captureSwitch(sim.switches[0], pcap);
  }

  // ---- interfaces up (the esp32 and the compact boards without an address: they ask DHCP) ----
  for (const n of nodes) {
    if (n.c !== null) {
      // (the compact stack has no interface state: its port is up, and it has no address until netSetIp)
      const cc = n.c.n.cfg;
      log(
        `${n.name}: eth0 up, no address (DHCP) (${n.board}; compact stack, ${n.profile} profile: ` +
          `${n.profile === 'full' ? cc.tcbs + ' TCBs x ' + cc.tcpBuf + ' B, ' : 'no TCP, '}ARP ${cc.arpSize}, ${cc.udpSocks} UDP sockets x ${cc.udpBuf} B)`,
      );
      continue;
    }
    const h = gh(n);
    if (n === esp) {
      sim.up(h);
      log(`${n.name}: eth0 up, no address (DHCP) (${n.board})`);
      continue;
    }
    const rc = ifconfig(h.st, h.dev(0), n.addr + '/24', null);
    if (rc < 0) failures.push(`ifconfig ${n.name}: ${rc}`);
    sim.up(h);
    log(`${n.name}: eth0 up ${n.addr}/24 (${n.board})`);
  }

  // ---- the host serves the LAN: DHCP, DNS and HTTP (one ServiceMux, run as a ticker) ----
  const hst = gh(host).st;
  const hostMux = new ServiceMux(hst);
  const poolStart = parseIpStrict(DHCP_POOL_START);
  const dhcpSrv = new DhcpServer(hst, gh(host).dev(0), {
    poolStart,
    poolSize: DHCP_POOL_SIZE,
    prefixLen: 24,
    leaseSec: LEASE_SEC,
    router: host.ip,
    dns: [host.ip],
  });
  const dnsSrv = new DnsServer(hst, DNS_PORT, 4);
  if (dnsSrv.addA(DNS_A_NAME, host.ip, DNS_A_TTL) < 0 || dnsSrv.addCname(DNS_NAME, DNS_A_NAME, DNS_CNAME_TTL) < 0) failures.push('dns: zone on host');
  const hho = defaultHttpOptions();
  hho.maxConns = 4;
  const hostHttp = new HttpService(hst, HTTP_PORT, hho);
  hostMux.add(dhcpSrv);
  hostMux.add(dnsSrv);
  hostMux.add(hostHttp);
  const hostTicker: SimTicker = { onTick: () => hostMux.run() };
  const hsrc = hostMux.start();
  if (hsrc < 0) failures.push('host: starting the DHCP, DNS and HTTP servers: ' + hsrc);
  else {
    sim.addTicker(hostTicker);
    log(`host: DHCP server on eth0 (pool ${DHCP_POOL_START}-${formatIp(poolStart + DHCP_POOL_SIZE - 1)}, router and DNS ${host.addr}, lease ${LEASE_SEC} s)`);
    log(`host: DNS server on port ${DNS_PORT} (${DNS_A_NAME} A ${host.addr}, ${DNS_NAME} CNAME ${DNS_A_NAME})`);
    log(`host: HTTP server on port ${HTTP_PORT}`);
  }

  // ---- DHCP: the esp32 leases its address (DISCOVER/OFFER/REQUEST/ACK, then the RFC 5227 probe) ----
  const est = gh(esp).st;
  const dhcp = new DhcpClient(est);
  const dhcpT0 = sim.now();
  const lease = { server: '', addr: '', prefixLen: 0, router: '', dns: [] as string[], leaseSec: 0, boundMs: -1, released: false, serverReleased: false };
  dhcp.handler = {
    onDhcpEvent(kind: number, _dev: number, addr: number): void {
      const a = formatIp(addr);
      if (kind === DHCP_EV_BOUND) {
        const dnsList: string[] = [];
        for (let i = 0; i < dhcp.dnsCount; i++) dnsList.push(formatIp(dhcp.dns[i]));
        log(
          `esp32: bound ${a}/${dhcp.prefixLen} router ${dhcp.router !== 0 ? formatIp(dhcp.router) : '-'} dns ${dnsList.length > 0 ? dnsList.join(',') : '-'} ` +
            `lease ${dhcp.leaseSec} s (dhcp server ${formatIp(dhcp.serverId)})`,
        );
      } else if (kind === DHCP_EV_RENEWED) log(`esp32: lease on ${a} renewed (${dhcp.leaseSec} s)`);
      else if (kind === DHCP_EV_LOST) log(`esp32: lost ${a}`);
      else if (kind === DHCP_EV_CONFLICT) log(`esp32: ${a} is in use (probe answered): DHCPDECLINE`);
      else if (kind === DHCP_EV_NAK) log(`esp32: DHCPNAK for ${a}`);
      else if (kind === DHCP_EV_RELEASED) log(`esp32: released ${a} (address, default route and DNS servers removed)`);
    },
  };
  const drc = dhcp.start(gh(esp).dev(0), { hostName: 'esp32' });
  log(`esp32: DHCP client started (hostname esp32)${drc < 0 ? ' (error ' + drc + ')' : ''}`);
  // (seconds of mostly idle time: the step cap goes up meanwhile, the timers and frames still set the pace)
  const stepMs = sim.stepMs;
  sim.stepMs = 100;
  const bound = drc >= 0 && sim.runUntil(() => dhcp.state === DHCP_BOUND, DHCP_MAX_MS);
  sim.stepMs = stepMs;
  let leaseOk = bound;
  if (bound) {
    esp.ip = dhcp.addr;
    esp.addr = formatIp(dhcp.addr);
    lease.server = formatIp(dhcp.serverId);
    lease.addr = esp.addr;
    lease.prefixLen = dhcp.prefixLen;
    lease.router = dhcp.router !== 0 ? formatIp(dhcp.router) : '';
    for (let i = 0; i < dhcp.dnsCount; i++) lease.dns.push(formatIp(dhcp.dns[i]));
    lease.leaseSec = dhcp.leaseSec;
    lease.boundMs = ms3(sim.now() - dhcpT0);
    const inPool = dhcp.addr - poolStart >= 0 && dhcp.addr - poolStart < DHCP_POOL_SIZE;
    if (!inPool || dhcp.prefixLen !== 24 || dhcp.router !== host.ip || dhcp.serverId !== host.ip || dhcp.leaseSec !== LEASE_SEC) {
      leaseOk = false;
      failures.push(`dhcp esp32: unexpected lease ${esp.addr}/${dhcp.prefixLen} router ${lease.router} from ${lease.server}, ${dhcp.leaseSec} s`);
    }
  } else {
    // no lease: a static address, so the other steps still run
    failures.push(`dhcp esp32: no lease in ${DHCP_MAX_MS} ms (state ${dhcp.stateName()})`);
    dhcp.stop(false);
    esp.addr = ESP32_FALLBACK;
    esp.ip = parseIpStrict(ESP32_FALLBACK);
    const rc = ifconfig(est, gh(esp).dev(0), ESP32_FALLBACK + '/24', null);
    if (rc < 0) failures.push(`ifconfig esp32: ${rc}`);
    log(`esp32: no lease in ${DHCP_MAX_MS} ms: static ${ESP32_FALLBACK}/24 instead`);
  }
  names.set(esp.ip, esp.name);
  sim.run(20);

  // ---- DNS: the esp32 resolves www.lan (a CNAME to host.lan) through the server from its lease ----
  const resolver = new DnsResolver(est, { maxQueries: 2, cacheSize: 4 });
  resolver.setServers(dhcp.dns.subarray(0, dhcp.dnsCount));
  const dnsRes = { done: false, err: 0, addr: 0, ttl: 0 };
  const dnsT0 = sim.now();
  log(`esp32: resolve ${DNS_NAME} (DNS server ${lease.dns.length > 0 ? lease.dns.join(',') : 'none'})`);
  const hq = resolver.resolve(DNS_NAME, (err: number, a: number, ttl: number) => {
    dnsRes.done = true;
    dnsRes.err = err;
    dnsRes.addr = a;
    dnsRes.ttl = ttl;
  });
  if (hq < 0) {
    dnsRes.done = true;
    dnsRes.err = hq;
  }
  sim.runUntil(() => dnsRes.done, 20000);
  const dnsMs = ms3(sim.now() - dnsT0);
  const dnsOk = dnsRes.done && dnsRes.err === 0 && dnsRes.addr === host.ip;
  const cname = frames.lastCnames.length > 0 ? frames.lastCnames.join(' → ') : '';
  if (!dnsRes.done) log(`esp32: resolving ${DNS_NAME}: no answer`);
  else if (dnsRes.err !== 0) log(`esp32: resolving ${DNS_NAME}: ${eaiName(dnsRes.err)}`);
  else log(`esp32: resolved ${DNS_NAME} → ${formatIp(dnsRes.addr)} (ttl ${dnsRes.ttl} s${cname.length > 0 ? ', via CNAME ' + cname : ''}) in ${dnsMs.toFixed(3)} ms`);
  if (!dnsOk) failures.push(`dns esp32 ${DNS_NAME}: ${!dnsRes.done ? 'no answer' : dnsRes.err !== 0 ? eaiName(dnsRes.err) : formatIp(dnsRes.addr) + ', expected ' + host.addr}`);
  const dnsReport = { name: DNS_NAME, addr: dnsRes.done && dnsRes.err === 0 ? formatIp(dnsRes.addr) : '', ttl: dnsRes.done && dnsRes.err === 0 ? dnsRes.ttl : -1, cname, ms: dnsMs, ok: dnsOk };

  // ---- HTTP by name: the esp32 GETs http://www.lan/bytes/16384 from the host (Connection: close:
  // the server closes first, so the TIME_WAIT is the host's and the board's TCB frees at once) ----
  const byNameUrl = `http://${DNS_NAME}/bytes/${FETCH_LEN}`;
  const httpByName = { url: byNameUrl, status: 0, bytes: 0, ok: false, ms: -1 };
  if (dnsRes.done && dnsRes.err === 0) {
    const fc = new HttpClient(est);
    fc.fd = socket(est, SOCK_STREAM, 0);
    if (fc.fd < 0) failures.push('tcp: socket on esp32: ' + fc.fd);
    else {
      sim.addTicker(fc);
      const to = formatIp(dnsRes.addr);
      const crc = connect(est, fc.fd, dnsRes.addr, HTTP_PORT);
      const t0 = sim.now();
      log(`esp32: TCP connect ${to}:${HTTP_PORT} (${DNS_NAME})${crc !== -EINPROGRESS && crc !== 0 ? ' (error ' + crc + ')' : ''}`);
      if (tcpWaitConnected(sim, fc, 10000)) {
        log(`esp32: TCP established ${to}:${HTTP_PORT} in ${(sim.now() - t0).toFixed(3)} ms`);
        const g = httpRequest(sim, fc, `GET /bytes/${FETCH_LEN} HTTP/1.1\r\nHost: ${DNS_NAME}\r\nConnection: close\r\n\r\n`, 0, 20000);
        const gok = g !== null && g.status === 200 && g.body.length === FETCH_LEN && patternOk(g.body);
        if (g === null) log(`esp32: GET ${byNameUrl} → no complete response${fc.err !== 0 ? ' (error ' + fc.err + ')' : ''}`);
        else log(`esp32: GET ${byNameUrl} → ${g.status}, ${g.body.length} bytes in ${g.ms.toFixed(3)} ms${gok ? ' (pattern ok)' : ' (BAD: length or pattern)'}`);
        httpByName.status = g !== null ? g.status : 0;
        httpByName.bytes = g !== null ? g.body.length : 0;
        httpByName.ok = gok;
        httpByName.ms = g !== null ? ms3(g.ms) : -1;
      } else log(`esp32: TCP connect ${to}:${HTTP_PORT} failed`);
      if (!httpByName.ok) failures.push(`http esp32 GET ${byNameUrl}`);
      // the server's FIN (Connection: close), then ours after a moment for the application:
      // the ACKs of the last data and of the FIN leave well before our FIN (the cable's jitter
      // could put them after it, and the host, in TIME_WAIT by then, would answer each with an
      // ACK that meets a closed socket: a RST)
      const fin = sim.runUntil(() => fc.eof || fc.err !== 0, 10000);
      sim.run(1);
      sim.removeTicker(fc);
      close(est, fc.fd);
      fc.fd = -1;
      if (fin && fc.err === 0) log(`esp32: TCP closed (the server's FIN after the response, Connection: close; then ours)`);
      else {
        log(`esp32: TCP close ${to}:${HTTP_PORT} failed${fc.err !== 0 ? ' (error ' + fc.err + ')' : ''}`);
        failures.push(`tcp close esp32 -> host:${HTTP_PORT}`);
      }
    }
  }
  sim.run(100);

  // ---- the compact boards (the Pico, then the WiFi): the same with the compact stack's API — a lease from the
  // host's DHCP server (dhcpStart; n.onLease), www.lan by dnsLookup through the server from the
  // lease, and (full profile: TCP) the page over the compact TCP API (Connection: close) ----
  const compactBoards: CompactReport[] = [];
  for (const cnode of nodes) {
    if (cnode.c === null) continue;
    const n = cnode.c.n;
    const who = cnode.name;
    const cc = n.cfg;
    const rep: CompactReport = {
      name: who, board: cnode.board, profile: cnode.profile as 'full' | 'tiny',
      config: { arpSize: cc.arpSize, tcbs: cc.tcbs, tcpBuf: cc.tcpBuf, udpSocks: cc.udpSocks, udpBuf: cc.udpBuf },
      dhcp: { server: '', addr: '', prefixLen: 0, router: '', dns: '', leaseSec: 0, boundMs: -1, ok: false, released: false, serverReleased: false, drops: 0 },
      dns: { name: DNS_NAME, addr: '', cname: '', ms: -1, ok: false, drops: 0 },
      httpByName: null,
      counters: {},
      arp: [],
    };
    compactBoards.push(rep);
    // DHCP (RFC 2131; the compact client does no RFC 5227 probe)
    n.hostname = who;
    n.onLease = (a: number) => {
      const pl = prefixLen(n.mask);
      log(`${who}: bound ${formatIp(a)}/${pl} router ${n.gw !== 0 ? formatIp(n.gw) : '-'} dns ${n.dns !== 0 ? formatIp(n.dns) : '-'} lease ${Math.round((n.dh[D_EXP] - n.dh[D_REQAT]) / 1000)} s (dhcp server ${formatIp(n.dh[D_SERVER])})`);
    };
    const t0 = sim.now();
    dhcpStart(n);
    log(`${who}: DHCP client started (hostname ${who}; compact stack dhcpStart)`);
    const stepSave = sim.stepMs;
    sim.stepMs = 100;
    const cbound = sim.runUntil(() => n.dh[D_STATE] === DS_BOUND && n.ip !== 0, DHCP_MAX_MS);
    sim.stepMs = stepSave;
    const d = rep.dhcp;
    if (cbound) {
      cnode.ip = n.ip;
      cnode.addr = formatIp(n.ip);
      d.server = formatIp(n.dh[D_SERVER]);
      d.addr = cnode.addr;
      d.prefixLen = prefixLen(n.mask);
      d.router = n.gw !== 0 ? formatIp(n.gw) : '';
      d.dns = n.dns !== 0 ? formatIp(n.dns) : '';
      d.leaseSec = Math.round((n.dh[D_EXP] - n.dh[D_REQAT]) / 1000);
      d.boundMs = ms3(sim.now() - t0);
      const inPool = n.ip - poolStart >= 0 && n.ip - poolStart < DHCP_POOL_SIZE;
      d.ok = inPool && d.prefixLen === 24 && n.gw === host.ip && n.dh[D_SERVER] === host.ip && n.dns === host.ip && d.leaseSec === LEASE_SEC && n.ip !== esp.ip &&
        compactBoards.every((o) => o === rep || o.dhcp.addr !== cnode.addr);
      if (!d.ok) failures.push(`dhcp ${who}: unexpected lease ${cnode.addr}/${d.prefixLen} router ${d.router} dns ${d.dns} from ${d.server}, ${d.leaseSec} s`);
    } else {
      failures.push(`dhcp ${who}: no lease in ${DHCP_MAX_MS} ms`);
      dhcpRelease(n); // (stops the client)
      const fb = cnode.ip !== 0 ? cnode.addr : COMPACT_FALLBACK;
      cnode.addr = fb;
      cnode.ip = parseIpStrict(fb);
      netSetIp(n, cnode.ip, 0xffffff00 | 0, host.ip, host.ip);
      log(`${who}: no lease in ${DHCP_MAX_MS} ms: static ${fb}/24 instead`);
    }
    names.set(cnode.ip, who);
    sim.run(20);

    // DNS: www.lan (a CNAME to host.lan, followed inside the answer)
    const dq = { done: false, err: 0, addr: 0 };
    const dt0 = sim.now();
    log(`${who}: resolve ${DNS_NAME} (DNS server ${n.dns !== 0 ? formatIp(n.dns) : 'none'}; compact stack dnsLookup)`);
    const lrc = dnsLookup(n, DNS_NAME, (err: number, a: number) => {
      dq.done = true;
      dq.err = err;
      dq.addr = a;
    });
    if (lrc !== 0) {
      dq.done = true;
      dq.err = lrc;
    }
    sim.runUntil(() => dq.done, 20000);
    rep.dns.ms = ms3(sim.now() - dt0);
    rep.dns.ok = dq.done && dq.err === 0 && dq.addr === host.ip;
    const ccname = frames.lastCnames.length > 0 ? frames.lastCnames.join(' → ') : '';
    if (dq.done && dq.err === 0) {
      rep.dns.addr = formatIp(dq.addr);
      rep.dns.cname = ccname;
    }
    if (!dq.done) log(`${who}: resolving ${DNS_NAME}: no answer`);
    else if (dq.err !== 0) log(`${who}: resolving ${DNS_NAME}: ${eaiName(dq.err)}`);
    else log(`${who}: resolved ${DNS_NAME} → ${formatIp(dq.addr)}${ccname.length > 0 ? ' (via CNAME ' + ccname + ')' : ''} in ${rep.dns.ms.toFixed(3)} ms`);
    if (!rep.dns.ok) failures.push(`dns ${who} ${DNS_NAME}: ${!dq.done ? 'no answer' : dq.err !== 0 ? eaiName(dq.err) : formatIp(dq.addr) + ', expected ' + host.addr}`);

    // HTTP by name over the compact TCP API (full profile only: the tiny bundle has no TCP)
    if (cnode.profile !== 'full' || cc.tcbs === 0) continue;
    const hb = { url: byNameUrl, status: 0, bytes: 0, ok: false, ms: -1, connectMs: -1, closed: false };
    rep.httpByName = hb;
    if (!(dq.done && dq.err === 0)) {
      failures.push(`http ${who} GET ${byNameUrl}: no address`);
      continue;
    }
    const to = formatIp(dq.addr);
    const tb = tcpConnect(n, dq.addr, HTTP_PORT);
    const ct0 = sim.now();
    log(`${who}: TCP connect ${to}:${HTTP_PORT} (${DNS_NAME}; compact stack tcpConnect)${tb < 0 ? ' (error ' + tb + ')' : ''}`);
    if (tb < 0) {
      failures.push(`tcp: tcpConnect on ${who}: ${tb}`);
      continue;
    }
    sim.runUntil(() => tcpState(n, tb) !== TCP_SYN_SENT && tcpState(n, tb) !== TCP_SYN_RECV, 10000);
    if (tcpState(n, tb) !== TCP_ESTABLISHED) {
      log(`${who}: TCP connect ${to}:${HTTP_PORT} failed`);
      failures.push(`tcp connect ${who} -> host:${HTTP_PORT}`);
      tcpClose(n, tb);
      continue;
    }
    hb.connectMs = ms3(sim.now() - ct0);
    log(`${who}: TCP established ${to}:${HTTP_PORT} in ${hb.connectMs.toFixed(3)} ms`);
    const g = new CompactHttpGet(n, tb, `GET /bytes/${FETCH_LEN} HTTP/1.1\r\nHost: ${DNS_NAME}\r\nConnection: close\r\n\r\n`, FETCH_LEN + 1024);
    const gt0 = sim.now();
    sim.addTicker(g);
    // the whole response, then the server's FIN (Connection: close)
    sim.runUntil(() => g.eof || g.err !== 0, 20000);
    sim.removeTicker(g);
    const res = parseHead(g.rx, g.rxLen);
    hb.ms = ms3(sim.now() - gt0);
    if (res !== null && res.status >= 0) {
      hb.status = res.status;
      hb.bytes = g.rxLen - res.hdrEnd;
      hb.ok = res.status === 200 && res.cl === FETCH_LEN && hb.bytes === FETCH_LEN && patternOk(g.rx.subarray(res.hdrEnd, g.rxLen));
    }
    if (res === null || res.status < 0) log(`${who}: GET ${byNameUrl} → no complete response${g.err !== 0 ? ' (error ' + g.err + ')' : ''}`);
    else log(`${who}: GET ${byNameUrl} → ${hb.status}, ${hb.bytes} bytes in ${hb.ms.toFixed(3)} ms${hb.ok ? ' (pattern ok)' : ' (BAD: length or pattern)'}`);
    if (!hb.ok) failures.push(`http ${who} GET ${byNameUrl}`);
    // then ours: CLOSE-WAIT → LAST-ACK → freed at the server's ACK (the TIME-WAIT is the host's)
    sim.run(1);
    tcpClose(n, tb);
    hb.closed = g.eof && g.err === 0 && sim.runUntil(() => tcpState(n, tb) === TCP_FREE, 10000);
    if (hb.closed) log(`${who}: TCP closed (the server's FIN after the response, Connection: close; then ours)`);
    else {
      log(`${who}: TCP close ${to}:${HTTP_PORT} failed${g.err !== 0 ? ' (error ' + g.err + ')' : ''}`);
      failures.push(`tcp close ${who} -> host:${HTTP_PORT}`);
    }
  }
  sim.run(100);

  // ---- ping ----
  let ident = 0x100;
  let seqNo = 0;
  /** one echo request from `from` (a compact board: the simulation's ping over ipSend, after ARP if needed) */
  const sendPing = (from: Node, to: Node, id: number, seq: number, len: number): number => {
    if (from.c === null) return icmpPing(gh(from).st, to.ip, id, seq, len);
    const n = from.c.n;
    const miss = n.cnt[C_ARP_MISS];
    let rc = compactPing(n, to.ip, id, seq, len);
    if (rc < 0 && n.cnt[C_ARP_MISS] !== miss) {
      // the compact stack sends an ARP request instead of the datagram (RFC 1122 §2.3.2.2): send again once resolved
      log(`${from.name}: ping ${to.addr}: next hop unknown, an ARP request went instead`);
      const hop = ((to.ip ^ n.ip) & n.mask) === 0 ? to.ip : n.gw;
      sim.runUntil(() => n.arpIp.indexOf(hop) >= 0, 200);
      rc = compactPing(n, to.ip, id, seq, len);
    }
    if (rc === 0) from.echoOut++;
    return rc;
  };
  const ping = (from: Node, to: Node, len: number, count: number, tries: number): number => {
    ident++;
    let ok = 0;
    for (let i = 0; i < count; i++) {
      let done = false;
      for (let k = 0; k < tries && !done; k++) {
        const seq = ++seqNo;
        const key = to.ip + ':' + ident + ':' + seq + ':' + len;
        const t0 = sim.now();
        const rc = sendPing(from, to, ident, seq, len);
        log(`${from.name}: ping ${to.addr} ${len} bytes seq=${seq}${rc < 0 ? ' (send error ' + rc + ')' : ''}`);
        if (rc === -ENOBUFS && from.h !== null) {
          // no skb for the datagram: on a board with one large skb, a reply that lost a fragment
          // holds it in a reassembly slot until the slot times out; wait for it like a ping that
          // backs off, so the next try can go out
          const fst = from.h.st;
          const t1 = sim.now();
          if (sim.runUntil(() => fst.pool.inUse() === 0, fst.cfg.reasmTimeoutMs + 100)) log(`${from.name}: skbs free again after ${(sim.now() - t1).toFixed(3)} ms (a reassembly slot timed out)`);
          continue;
        }
        done = sim.runUntil(() => from.replies.has(key), 1000);
        if (done) {
          const rtt = (from.replies.get(key) as number) - t0;
          log(`${from.name}: reply from ${to.addr} seq=${seq} time=${rtt.toFixed(3)} ms`);
        } else {
          log(`${from.name}: no reply from ${to.addr} seq=${seq} (timeout 1000 ms)`);
        }
      }
      if (done) ok++;
      sim.run(100);
    }
    if (ok < count) failures.push(`ping ${from.name} -> ${to.name} (${len} bytes): ${ok}/${count}`);
    return ok;
  };
  const pings: { from: string; to: string; len: number; ok: number; count: number }[] = [];
  for (const n of nodes) if (n.c !== null) log(`${n.name}: its pings are the simulation's (echo requests through the compact stack's ipSend; it has no ping API)`);
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      pings.push({ from: a.name, to: b.name, len: 56, ok: ping(a, b, 56, 2, 8), count: 2 });
    }
  }
  // fragmented both ways with the esp32, whose bundle reassembles and fragments (the pico's
  // and the wifi's bundles, the compact stack, reassemble nothing: one such ping goes to the
  // pico below)
  pings.push({ from: 'host', to: 'esp32', len: 3000, ok: ping(host, esp, 3000, 1, 5), count: 1 });
  pings.push({ from: 'esp32', to: 'host', len: 3000, ok: ping(esp, host, 3000, 1, 5), count: 1 });
  // the Pico's bundle (the compact stack) has no reassembly: a fragmented ping to it is
  // dropped and counted (netStats fragDrop; Ip ReasmFails on the general stack), never answered
  const fragDrops = (n: Node): number => (n.c !== null ? netStats(n.c.n).fragDrop : gh(n).st.mib.ipB.get('ReasmFails'));
  const rf0 = fragDrops(pico);
  const fragId = ++ident;
  const fragSeq = ++seqNo;
  icmpPing(hst, pico.ip, fragId, fragSeq, 3000);
  log(`host: ping ${pico.addr} 3000 bytes seq=${fragSeq} (fragmented; the Pico bundle has no reassembly)`);
  const fragAnswered = sim.runUntil(() => host.replies.has(pico.ip + ':' + fragId + ':' + fragSeq + ':3000'), 1000);
  const fragN = fragDrops(pico) - rf0;
  // (reasmFails: the field's name from the general stack; fragDrop: the compact stack's counter)
  const fragToPico = { replies: fragAnswered ? 1 : 0, reasmFails: fragN, fragDrop: pico.c !== null ? fragN : 0, ok: false };
  fragToPico.ok = !fragAnswered && fragN > 0;
  log(`pico: ${fragN} fragment(s) dropped and counted (${pico.c !== null ? 'fragDrop' : 'Ip ReasmFails'})${fragAnswered ? ' — but a reply came back (BAD)' : ''}`);
  if (!fragToPico.ok) failures.push(`fragmented ping to pico: replies ${fragToPico.replies}, dropped fragments +${fragN} (expected no reply, counted drops)`);

  // ---- UDP echo: server on pico:7 (the compact stack's one-datagram socket), clients host and
  // wifi (a compact board's client: CompactUdpClient, its compact stack's UDP socket) ----
  const srv: EchoServer | CompactEchoServer = pico.c !== null ? new CompactEchoServer(pico.c.n, 7) : new EchoServer(pico, 7);
  const srvFd = srv instanceof CompactEchoServer ? srv.s : srv.fd;
  if (srvFd < 0) failures.push('udp: socket on pico: ' + srvFd);
  sim.addTicker(srv);
  log(`pico: UDP echo server on port 7${pico.c !== null ? ' (compact stack udpOpen; it holds one datagram of at most ' + pico.c.n.cfg.udpBuf + ' bytes)' : ''}`);
  /** the largest datagram the server takes (a compact socket drops a longer one, counted udpFull) */
  const udpMax = pico.c !== null ? pico.c.n.cfg.udpBuf : 1200;
  const udp = (from: Node, count: number, len: number): number => {
    const c = from.c !== null ? new CompactUdpClient(from.c.n) : null;
    const st = c === null ? gh(from).st : null;
    const fd = st !== null ? socket(st, SOCK_DGRAM, 0) : (c as CompactUdpClient).s;
    if (fd < 0 || (st !== null && bind(st, fd, 0, 0) < 0)) {
      failures.push('udp socket on ' + from.name + ': ' + fd);
      return 0;
    }
    if (c !== null) log(`${from.name}: UDP client on port ${c.n.udpPort[c.s]} (compact stack udpOpen; the echo is the datagram its socket holds)`);
    const out = new Uint8Array(len);
    const inb = new Uint8Array(len + 16);
    const src = new Uint32Array(2);
    let ok = 0;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < len; j++) out[j] = (i * 13 + j) & 0xff;
      let done = false;
      for (let k = 0; k < 5 && !done; k++) {
        const t0 = sim.now();
        let rc: number;
        if (c === null) rc = sendto(st as Stack, fd, out, 0, len, pico.ip, 7);
        else {
          rc = c.sendTo(pico.ip, 7, out, len);
          if (rc === 0) {
            // the compact stack sends an ARP request instead of the datagram (RFC 1122 §2.3.2.2): send again once resolved
            log(`${from.name}: UDP to ${pico.addr}:7: next hop unknown, an ARP request went instead`);
            const n = c.n;
            const hop = ((pico.ip ^ n.ip) & n.mask) === 0 ? pico.ip : n.gw;
            sim.runUntil(() => n.arpIp.indexOf(hop) >= 0, 200);
            rc = c.sendTo(pico.ip, 7, out, len);
          }
        }
        log(`${from.name}: UDP ${len} bytes to ${pico.addr}:7 #${i + 1}${rc < 0 ? ' (send error ' + rc + ')' : rc !== len ? ' (not sent: next hop unknown)' : ''}`);
        done = sim.runUntil(() => {
          for (;;) {
            const r = c === null ? recvfrom(st as Stack, fd, inb, 0, inb.length, src) : c.recv(inb);
            if (r < 0) return false;
            if (r !== len || (c !== null && ((c.from | 0) !== (pico.ip | 0) || c.fromPort !== 7))) continue;
            let same = true;
            for (let j = 0; j < len; j++) if (inb[j] !== out[j]) same = false;
            if (same) return true;
          }
        }, 500);
        if (done) log(`${from.name}: UDP echo #${i + 1} back in ${(sim.now() - t0).toFixed(3)} ms`);
        else log(`${from.name}: UDP echo #${i + 1} lost (timeout 500 ms)`);
      }
      if (done) ok++;
    }
    if (c !== null) c.close();
    else close(st as Stack, fd);
    if (ok < count) failures.push(`udp ${from.name} -> pico: ${ok}/${count}`);
    return ok;
  };
  const hostUdpLen = Math.min(512, udpMax);
  const wifiUdpLen = Math.min(1200, udpMax);
  const udps = [
    { from: 'host', ok: udp(host, 4, hostUdpLen), count: 4, len: hostUdpLen, stack: host.c !== null ? 'compact' : 'general' },
    { from: 'wifi', ok: udp(wifi, 3, wifiUdpLen), count: 3, len: wifiUdpLen, stack: wifi.c !== null ? 'compact' : 'general' },
  ];
  if (srv instanceof CompactEchoServer) udpClose(cn(pico), srv.s);
  else close(gh(pico).st, srv.fd);
  sim.removeTicker(srv);

  // ---- TCP: HTTP server on esp32:80 (the only board with TCP), client on host ----
  const GET_LEN = 200000;
  const PUT_LEN = 100000;
  const http: { method: string; path: string; bytes: number; status: number; ok: boolean; ms: number; reply?: string }[] = [];
  const tcpConn = { connected: false, closed: false, connectMs: -1 };
  let esp32Sockets: string[] = [];
  const mux = new ServiceMux(est);
  const ho = defaultHttpOptions();
  ho.maxConns = 2; // the listener + 2 connections of the board's 4 TCBs
  ho.hdrMax = 1024;
  ho.outMax = 1024;
  ho.scratch = 4096;
  mux.add(new HttpService(est, HTTP_PORT, ho));
  // the DHCP client and the resolver get their socket events through the stack's
  // EventMux; mux.start() takes st.events, so the EventMux goes back in front
  // with the mux as its fallback (the HTTP sockets)
  const espEvents = eventMux(est);
  const mrc = mux.start();
  espEvents.fallback = mux;
  est.events = espEvents;
  const muxTicker: SimTicker = { onTick: () => mux.run() };
  if (mrc < 0) failures.push('http: server on esp32: ' + mrc);
  else {
    sim.addTicker(muxTicker);
    log(`esp32: HTTP server on port ${HTTP_PORT}`);
  }
  const cl = new HttpClient(hst);
  cl.fd = socket(hst, SOCK_STREAM, 0);
  if (cl.fd < 0) failures.push('tcp: socket on host: ' + cl.fd);
  else {
    sim.addTicker(cl);
    const t0 = sim.now();
    const crc = connect(hst, cl.fd, esp.ip, HTTP_PORT);
    log(`host: TCP connect ${esp.addr}:${HTTP_PORT}${crc !== -EINPROGRESS && crc !== 0 ? ' (error ' + crc + ')' : ''}`);
    sim.runUntil(() => (poll(hst, cl.fd) & (SK_EV_WRITABLE | SK_EV_ERROR | SK_EV_CLOSED)) !== 0, 10000);
    const ev = poll(hst, cl.fd);
    tcpConn.connected = (ev & SK_EV_WRITABLE) !== 0 && (ev & (SK_EV_ERROR | SK_EV_CLOSED)) === 0;
    if (tcpConn.connected) {
      tcpConn.connectMs = Math.round((sim.now() - t0) * 1000) / 1000;
      log(`host: TCP established ${esp.addr}:${HTTP_PORT} in ${(sim.now() - t0).toFixed(3)} ms`);
    } else {
      log(`host: TCP connect ${esp.addr}:${HTTP_PORT} failed`);
      failures.push('tcp connect host -> esp32:' + HTTP_PORT);
    }
    // one request on the keep-alive connection: the response (status, body) or null
    const request = (method: string, pth: string, bodyLen: number, maxMs: number): { status: number; body: Uint8Array; ms: number } | null =>
      httpRequest(sim, cl, `${method} ${pth} HTTP/1.1\r\nHost: ${esp.addr}\r\n` + (bodyLen > 0 ? `Content-Length: ${bodyLen}\r\n` : '') + '\r\n', bodyLen, maxMs);
    if (tcpConn.connected) {
      const g = request('GET', '/bytes/' + GET_LEN, 0, 30000);
      let gok = g !== null && g.status === 200 && g.body.length === GET_LEN;
      if (g !== null && gok) for (let i = 0; i < GET_LEN && gok; i++) if (g.body[i] !== patternByte(i)) gok = false;
      if (g === null) log(`host: GET /bytes/${GET_LEN} → no complete response${cl.err !== 0 ? ' (error ' + cl.err + ')' : ''}`);
      else {
        const mbps = g.ms > 0 ? (g.body.length * 8) / (g.ms * 1000) : 0;
        log(`host: GET /bytes/${GET_LEN} → ${g.status}, ${g.body.length} bytes in ${g.ms.toFixed(3)} ms (${mbps.toFixed(1)} Mbit/s virtual)${gok ? '' : ' (BAD: length or pattern)'}`);
      }
      http.push({ method: 'GET', path: '/bytes/' + GET_LEN, bytes: g !== null ? g.body.length : 0, status: g !== null ? g.status : 0, ok: gok, ms: g !== null ? Math.round(g.ms * 1000) / 1000 : -1 });
      if (!gok) failures.push(`http GET /bytes/${GET_LEN}`);

      const p = gok ? request('PUT', '/upload', PUT_LEN, 30000) : null;
      let reply = '';
      if (p !== null) for (let i = 0; i < p.body.length; i++) reply += String.fromCharCode(p.body[i]);
      reply = reply.trim(); // the body is the decimal count and a newline
      const pok = p !== null && p.status === 200 && reply === String(PUT_LEN);
      if (p === null) log(`host: PUT /upload ${PUT_LEN} bytes → no complete response`);
      else log(`host: PUT /upload ${PUT_LEN} bytes → ${p.status === 200 ? '' : p.status + ' '}"${reply}" in ${p.ms.toFixed(3)} ms`);
      http.push({ method: 'PUT', path: '/upload', bytes: PUT_LEN, status: p !== null ? p.status : 0, ok: pok, ms: p !== null ? Math.round(p.ms * 1000) / 1000 : -1, reply });
      if (!pok) failures.push(`http PUT /upload ${PUT_LEN} bytes`);
      // the ESP32's sockets while the connection is open
      esp32Sockets = formatSocketList(socketList(est)).split('\n').filter((l) => l.length > 0);
    }
    // orderly close: our FIN, then the server's (it closes when the client is done)
    const t2 = sim.now();
    shutdown(hst, cl.fd, SHUT_WR);
    const closed = sim.runUntil(() => cl.eof || cl.err !== 0, 10000);
    sim.removeTicker(cl);
    close(hst, cl.fd);
    cl.fd = -1;
    tcpConn.closed = closed && cl.err === 0;
    if (tcpConn.closed) log(`host: TCP closed (FIN both ways in ${(sim.now() - t2).toFixed(3)} ms)`);
    else {
      log(`host: TCP close ${esp.addr}:${HTTP_PORT} failed${cl.err !== 0 ? ' (error ' + cl.err + ')' : ''}`);
      failures.push('tcp close host -> esp32');
    }
  }
  sim.run(100);
  mux.stop();
  sim.removeTicker(muxTicker);

  // ---- the esp32 gives its lease back (DHCPRELEASE); the host's servers stop ----
  // first every connection of the esp32 ends: an orphan in LAST_ACK whose final ACK was
  // lost must still retransmit its FIN from the leased address
  if (est.tcp !== undefined) sim.runUntil(() => est.tcp.inUse() === 0, 30000);
  // the compact boards first (dhcpRelease: a DHCPRELEASE unicast to the server when bound, then
  // no address, which flushes their ARP tables: the report shows them as they were just before)
  for (const r of compactBoards) {
    const cnode = nodes[nodes.findIndex((x) => x.name === r.name)];
    const n = cn(cnode);
    sim.runUntil(() => compactTcbs(n).inUse === 0, 30000);
    r.arp = compactArpDump(n);
    if (r.dhcp.addr === '' || n.dh[D_STATE] < DS_BOUND) continue;
    const had = n.ip;
    const before = dhcpSrv.releases;
    const tx0 = cnode.nic.txFrames;
    dhcpRelease(n);
    r.dhcp.released = cnode.nic.txFrames > tx0 && n.ip === 0;
    if (!r.dhcp.released) failures.push(`dhcp ${r.name}: no DHCPRELEASE sent`);
    else log(`${r.name}: released ${formatIp(had)} (compact stack dhcpRelease: address, gateway and DNS server removed)`);
    sim.runUntil(() => dhcpSrv.releases > before, 100);
    r.dhcp.serverReleased = dhcpSrv.releases > before && dhcpSrv.slotOf(had) >= 0;
    if (r.dhcp.serverReleased) log(`host: ${formatIp(had)} back in the DHCP pool (${dhcpSrv.boundCount()} leases bound)`);
  }
  if (bound) {
    const had = dhcp.addr;
    const releasesBefore = dhcpSrv.releases;
    dhcp.stop(true);
    lease.released = dhcp.releases > 0;
    if (!lease.released) failures.push('dhcp esp32: no DHCPRELEASE sent');
    sim.runUntil(() => dhcpSrv.releases > releasesBefore, 100);
    // (a RELEASE lost on the wire is not retried, RFC 2131 §4.4.6: the lease then runs out on the server)
    lease.serverReleased = dhcpSrv.releases > releasesBefore && dhcpSrv.slotOf(had) >= 0 && dhcpSrv.boundCount() === 0;
    if (lease.serverReleased) log(`host: ${formatIp(had)} back in the DHCP pool (${dhcpSrv.boundCount()} leases bound)`);
  }
  resolver.cancelAll();
  const dhcpStats = dhcp.stats();
  const dnsStats = resolver.stats();
  sim.run(10);
  hostMux.stop();
  sim.removeTicker(hostTicker);
  const hostServices = { dhcp: dhcpSrv.stats(), dns: dnsSrv.stats(), http: hostHttp.stats() };

  // ---- settle: let reassembly/ARP timers run, flush ARP queues ----
  sim.run(200);
  const arpTables: { [k: string]: { ip: string; mac: string; state: string }[] } = {};
  for (const n of nodes) {
    if (n.c !== null) {
      const r = compactBoards.find((x) => x.name === n.name);
      arpTables[n.name] = r !== undefined ? r.arp : compactArpDump(n.c.n);
    } else arpTables[n.name] = arpDump(gh(n).st).map((e) => ({ ip: e.ip, mac: e.mac, state: e.state }));
  }
  let maxReasm = 0;
  for (const n of nodes) if (n.h !== null && n.h.st.cfg.reasmTimeoutMs > maxReasm) maxReasm = n.h.st.cfg.reasmTimeoutMs;
  // TIME_WAIT (2 MSL) and orphans' FIN timeouts end too, so every TCB is free at the end
  for (const n of nodes) {
    if (n.c !== null) {
      if (n.c.n.cfg.tcbs > 0 && TCP_TIMEWAIT_MS + 1000 > maxReasm) maxReasm = TCP_TIMEWAIT_MS + 1000;
      continue;
    }
    const c = gh(n).st.cfg;
    if (c.tcpMaxSockets > 0 && 2 * c.tcpMslMs + 1000 > maxReasm) maxReasm = 2 * c.tcpMslMs + 1000;
  }
  sim.run(maxReasm + 100);
  for (const n of nodes) if (n.h !== null) neighFlushAll(n.h.st, false);
  sim.run(10);
  if (pcap !== null) pcap.close();

  // ---- report ----
  const pick = (o: { [k: string]: number }, keys: string[]): { [k: string]: number } => {
    const r: { [k: string]: number } = {};
    for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
    return r;
  };
  const hosts = nodes.map((n) => {
    if (n.c !== null) return compactHostReport(n, n.c, arpTables[n.name]);
    const h = gh(n);
    const st = h.st;
    const m = st.mib;
    const p = st.pool;
    const nic = h.nics[0];
    return {
      name: n.name,
      board: n.board,
      stack: 'general' as const,
      addr: n.addr,
      mac: formatMac(st.link.devs[h.dev(0)].mac, 0),
      ip: pick(m.ipB.toObject(), ['InReceives', 'InDelivers', 'OutRequests', 'InHdrErrors', 'InCsumErrors', 'FragCreates', 'ReasmReqds', 'ReasmOKs', 'ReasmFails']),
      icmp: pick(m.icmpB.toObject(), ['InMsgs', 'InEchos', 'InEchoReps', 'OutEchos', 'OutEchoReps', 'InErrors']),
      udp: pick(m.udpB.toObject(), ['InDatagrams', 'OutDatagrams', 'NoPorts', 'InErrors']),
      link: pick(m.linkB.toObject(), ['RxFrames', 'TxFrames', 'RxNotForUs', 'ArpInRequests', 'ArpInReplies', 'ArpOutRequests', 'ArpOutReplies', 'ArpGratuitousOut', 'ArpQueueDrops']),
      tcp: st.cfg.tcpMaxSockets > 0 && st.tcp !== undefined ? pick(st.tcp.mibB.toObject(), ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs', 'RetransSegs', 'InErrs', 'OutRsts']) : null,
      tcpExt: st.cfg.tcpMaxSockets > 0 && st.tcp !== undefined ? pick(st.tcp.extB.toObject(), ['TCPFastRetrans', 'TCPTimeouts', 'TCPSackRecovery', 'TCPOFOQueue', 'DelayedACKs', 'TW']) : null,
      tcbs: st.cfg.tcpMaxSockets > 0 && st.tcp !== undefined ? { size: st.tcp.n, inUse: st.tcp.inUse(), timeWait: st.tcp.twCount, synRecv: st.tcp.rqCount } : null,
      nic: { txFrames: nic.txFrames, rxFrames: nic.rxFrames, txBytes: nic.txBytes, rxBytes: nic.rxBytes },
      pool: {
        small: p.smallCount,
        large: p.count - p.smallCount,
        inUse: p.inUse(),
        highSmall: p.highSmall,
        highLarge: p.highLarge,
        allocs: p.allocs,
        allocFails: p.allocFails,
      },
      arp: arpTables[n.name],
      compact: null,
    };
  });
  for (const r of compactBoards) {
    const n = cn(nodes[nodes.findIndex((x) => x.name === r.name)]);
    r.counters = netStats(n);
    r.dhcp.drops = n.dh[D_DROP];
    r.dns.drops = n.dnsDrop;
  }
  const links = nodes.map((n) => ({
    port: portOf(n).name,
    up: portOf(n).up.stats(),
    down: portOf(n).down.stats(),
  }));
  const sw = sim.switches[0];
  let leaked = 0;
  for (const h of hosts) leaked += h.pool.inUse;
  if (leaked !== 0) failures.push(`skbs still in use: ${leaked}`);
  for (const h of hosts) {
    const t = h.tcbs;
    if (t !== null && (t.inUse !== 0 || t.timeWait !== 0 || t.synRecv !== 0)) failures.push(`TCBs still in use on ${h.name}: ${t.inUse} (+${t.timeWait} TIME_WAIT, ${t.synRecv} SYN_RECV)`);
  }
  const report = {
    seed: opts.seed,
    loss: opts.loss,
    virtualMs: Math.round(sim.now() * 1000) / 1000,
    wallMs: Date.now() - wall0,
    ok: failures.length === 0,
    failures,
    pings,
    fragToPico,
    udp: udps,
    http,
    tcp: { from: 'host', to: 'esp32:' + HTTP_PORT, connected: tcpConn.connected, connectMs: tcpConn.connectMs, closed: tcpConn.closed, esp32Sockets },
    dhcp: {
      client: 'esp32',
      server: lease.server,
      addr: lease.addr,
      prefixLen: lease.prefixLen,
      router: lease.router,
      dns: lease.dns,
      leaseSec: lease.leaseSec,
      boundMs: lease.boundMs,
      released: lease.released,
      serverReleased: lease.serverReleased,
      counters: pick(dhcpStats, DHCP_COUNTERS),
    },
    dns: Object.assign(dnsReport, { counters: pick(dnsStats, DNS_COUNTERS) }),
    httpByName,
    compactBoards,
    hostServices,
    hosts,
    links,
    switch: { received: sw.received, forwarded: sw.forwarded, flooded: sw.flooded, filtered: sw.filtered, learned: sw.learned },
    frames: { arp: frames.arp, ip: frames.ip, ipFragments: frames.frags, dhcp: frames.dhcp, dns: frames.dns },
    pcap: opts.pcap !== null && pcap !== null ? { file: path.resolve(opts.pcap), frames: pcap.count } : null,
    timeline: tl.map((e) => ({ t: Math.round(e.t * 1000) / 1000, what: e.what })),
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return report.ok ? 0 : 1;
  }

  const out: string[] = [];
  const w = (s: string): void => {
    out.push(s);
  };
  w(`slabnet sim — seed ${opts.seed}, loss ${opts.loss} on wifi's cable (replay: slabnet sim --seed ${opts.seed}${opts.loss !== 0.05 ? ' --loss ' + opts.loss : ''})`);
  w('');
  w('boards on switch sw0:');
  for (const h of hosts) {
    const how = h.name === 'esp32' && bound ? `, address by DHCP from ${lease.server}` : '';
    if (h.compact !== null) {
      const r = compactBoards.find((x) => x.name === h.name);
      const cc = h.compact.config;
      const by = r !== undefined && r.dhcp.addr !== '' ? `, address by DHCP from ${r.dhcp.server}` : '';
      w(
        `  ${h.name.padEnd(5)} ${h.addr.padEnd(11)} ${h.mac}  ${h.board}  (compact stack, ${h.compact.profile} profile: ` +
          `${h.compact.profile === 'full' ? cc.tcbs + ' TCBs x ' + cc.tcpBuf + ' B, ' : 'no TCP, '}ARP ${cc.arpSize}, ${cc.udpSocks} UDP sockets x ${cc.udpBuf} B${by})`,
      );
      continue;
    }
    w(`  ${h.name.padEnd(5)} ${h.addr.padEnd(11)} ${h.mac}  ${h.board}  (skbs ${h.pool.small} small + ${h.pool.large} large${how})`);
  }
  w('');
  w('timeline (virtual ms):');
  for (const e of tl) w(`  ${e.t.toFixed(3).padStart(10)}  ${e.what}`);
  w('');
  w('results:');
  w(`  dhcp esp32: ${bound ? `${lease.addr}/${lease.prefixLen} from ${lease.server}` : 'no lease'}: ${leaseOk ? 'ok' : 'FAILED'}`);
  w(`  dns esp32 ${DNS_NAME}: ${dnsReport.addr.length > 0 ? dnsReport.addr : 'no address'}: ${dnsOk ? 'ok' : 'FAILED'}`);
  w(`  http esp32 GET ${byNameUrl}: ${httpByName.ok ? 'ok' : 'FAILED'}`);
  for (const r of compactBoards) {
    w(`  dhcp ${r.name}: ${r.dhcp.addr !== '' ? `${r.dhcp.addr}/${r.dhcp.prefixLen} from ${r.dhcp.server}` : 'no lease'}: ${r.dhcp.ok ? 'ok' : 'FAILED'} (compact stack)`);
    w(`  dns ${r.name} ${r.dns.name}: ${r.dns.addr !== '' ? r.dns.addr : 'no address'}: ${r.dns.ok ? 'ok' : 'FAILED'} (compact stack)`);
    if (r.httpByName !== null) w(`  http ${r.name} GET ${r.httpByName.url}: ${r.httpByName.ok && r.httpByName.closed ? 'ok' : 'FAILED'} (compact TCP)`);
  }
  for (const p of pings) w(`  ping ${p.from} -> ${p.to} ${p.len} bytes: ${p.ok}/${p.count}`);
  w(`  ping host -> pico 3000 bytes: ${fragToPico.ok ? 'dropped and counted as its bundle does (no reassembly)' : 'FAILED'}`);
  for (const u of udps) w(`  udp echo ${u.from} -> pico:7: ${u.ok}/${u.count}`);
  w(`  tcp connect host -> esp32:${HTTP_PORT}: ${tcpConn.connected ? 'ok' : 'FAILED'}`);
  for (const x of http) w(`  http ${x.method} ${x.bytes} bytes: ${x.ok ? 'ok' : 'FAILED'}`);
  w(`  tcp close host -> esp32:${HTTP_PORT}: ${tcpConn.closed ? 'ok' : 'FAILED'}`);
  for (const r of compactBoards) {
    if (r.dhcp.addr !== '') w(`  dhcp release ${r.name}: ${r.dhcp.released ? (r.dhcp.serverReleased ? 'sent, the server freed the address' : 'sent (not seen by the server: lost on the wire)') : 'FAILED'}`);
  }
  if (bound) w(`  dhcp release esp32: ${lease.released ? (lease.serverReleased ? 'sent, the server freed the address' : 'sent (not seen by the server: lost on the wire)') : 'FAILED'}`);
  w('');
  w('counters:');
  const fmt = (o: { [k: string]: number }): string =>
    Object.keys(o)
      .map((k) => k + '=' + o[k])
      .join(' ');
  for (const h of hosts) {
    w(`  ${h.name}:`);
    w(`    Ip:   ${fmt(h.ip)}`);
    w(`    Icmp: ${fmt(h.icmp)}`);
    w(`    Udp:  ${fmt(h.udp)}`);
    w(`    Link: ${fmt(h.link)}`);
    if (h.tcp !== null) w(`    Tcp:  ${fmt(h.tcp)}`);
    if (h.tcpExt !== null) w(`    TcpExt: ${fmt(h.tcpExt)}`);
    if (h.name === 'esp32') {
      w(`    Dhcp: ${fmt(report.dhcp.counters)}`);
      w(`    Dns:  ${fmt(report.dns.counters)}`);
    }
    if (h.compact !== null) {
      // every counter of the compact stack by its own name (netStats), and its DHCP/DNS drops
      const r = compactBoards.find((x) => x.name === h.name);
      w(`    Compact: ${fmt(h.compact.counters)}`);
      if (r !== undefined) w(`    Compact: dhcpDrops=${r.dhcp.drops} dnsDrops=${r.dns.drops} rxFifoDrops=${h.compact.rxFifoDrops}`);
    }
  }
  w('');
  w('skb pools (in use now / high-water / size):');
  for (const h of hosts) {
    const p = h.pool;
    if (h.compact !== null) {
      w(`  ${h.name.padEnd(5)} none: the compact stack has one receive and one transmit frame buffer and holds nothing between frames`);
      continue;
    }
    w(`  ${h.name.padEnd(5)} in use ${p.inUse}; small high ${p.highSmall}/${p.small}; large high ${p.highLarge}/${p.large}; allocs ${p.allocs}, failed ${p.allocFails}`);
  }
  w('');
  if (h0tcbs(hosts).length > 0) {
    w('TCBs (in use now / size):');
    for (const h of h0tcbs(hosts)) w(`  ${h.name.padEnd(5)} in use ${h.tcbs.inUse}/${h.tcbs.size}; TIME_WAIT ${h.tcbs.timeWait}; SYN_RECV ${h.tcbs.synRecv}`);
    w('');
  }
  w('esp32 sockets while the HTTP connection was open (ss):');
  if (esp32Sockets.length === 0) w('  (none captured)');
  for (const l of esp32Sockets) w('  ' + l);
  w('');
  w(`ARP tables (before the final flush${compactBoards.length > 0 ? '; ' + compactBoards.map((r) => r.name).join(', ') + ': before its DHCPRELEASE, which flushes it' : ''}):`);
  for (const h of hosts) {
    if (h.arp.length === 0) w(`  ${h.name}: (empty)`);
    for (const e of h.arp) w(`  ${h.name.padEnd(5)} ${e.ip.padEnd(12)} ${e.mac}  ${e.state}`);
  }
  w('');
  w('wire:');
  for (const l of links) {
    w(`  ${l.port} up:   ${fmt(pick(l.up, ['frames', 'lost', 'duplicated', 'corrupted']))}`);
    w(`  ${l.port} down: ${fmt(pick(l.down, ['frames', 'lost', 'duplicated', 'corrupted']))}`);
  }
  w(`  switch sw0: ${fmt(report.switch)}`);
  w(`  frames seen by the switch: ${frames.arp} ARP, ${frames.ip} IPv4 (${frames.frags} fragments, ${frames.dhcp} DHCP, ${frames.dns} DNS)`);
  w('');
  if (report.pcap !== null) w(`pcap: ${report.pcap.file} (${report.pcap.frames} frames, the whole switch; open with wireshark or tshark -r)`);
  else w('pcap: not written (--no-pcap)');
  w(`virtual time ${report.virtualMs.toFixed(1)} ms, wall time ${report.wallMs} ms`);
  w(
    report.ok
      ? `OK: every ping and datagram answered, HTTP GET and PUT over TCP complete, esp32 leased ${lease.addr} by DHCP (released at the end), ` +
          `resolved ${DNS_NAME} and fetched ${byNameUrl} by name, ` +
          compactBoards
            .map((r) => `${r.name} (compact stack, ${r.profile} profile) leased ${r.dhcp.addr} by DHCP (released at the end), resolved ${r.dns.name}` + (r.httpByName !== null ? ` and fetched ${r.httpByName.url} over its TCP, ` : ', '))
            .join('') +
          `every skb back in its pool, every TCB free`
      : 'FAILED: ' + failures.join('; '),
  );
  process.stdout.write(out.join('\n') + '\n');
  return report.ok ? 0 : 1;
}
