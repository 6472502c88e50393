/*
 * dhcp.ts — the DHCP message format (RFC 2131 §2 and §4.1, BOOTP RFC 951,
 * options RFC 2132, option overload RFC 2131 §4.1 / RFC 2132 §9.3): field
 * offsets, option codes, message types, a bounded parser into a reused
 * DhcpMsg and small writers for the options. The one place DHCP's wire
 * format is defined (src/apps/dhcp_client.ts, src/apps/dhcp_server.ts).
 *
 * Not on the packet path itself: the DHCP applications call it on the
 * payload of a UDP datagram (ports 67/68) read from their socket.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
 *   |                            xid (4)                            |
 *   |           secs (2)            |           flags (2)           |
 *   |                          ciaddr  (4)                          |
 *   |                          yiaddr  (4)                          |
 *   |                          siaddr  (4)                          |
 *   |                          giaddr  (4)                          |
 *   |                          chaddr  (16)                         |
 *   |                          sname   (64)                         |
 *   |                          file    (128)                        |
 *   |                  magic cookie 99.130.83.99 (4)                |
 *   |                          options (variable)                   |
 *
 * The parser reads only inside b[off .. off+len), touches each option byte
 * at most once (work is linear in len, at most three regions: options,
 * then file and sname when option 52 says they are overloaded), allocates
 * nothing and never throws: a malformed message is a negative return.
 * Addresses come out as s32 (src/core/inaddr.ts); times as unsigned
 * seconds (DHCP_INFINITE = 0xffffffff), -1 when absent.
 */
import { get16, get32, put16, put32, copyBytes, fillBytes } from '../core/bytes';
import { getAddr, putAddr } from '../core/inaddr';

/* ---- UDP ports (RFC 2131 §4.1) ---- */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/* ---- fixed header offsets ---- */
export const DHCP_OP = 0;
export const DHCP_HTYPE = 1;
export const DHCP_HLEN = 2;
export const DHCP_HOPS = 3;
export const DHCP_XID = 4;
export const DHCP_SECS = 8;
export const DHCP_FLAGS = 10;
export const DHCP_CIADDR = 12;
export const DHCP_YIADDR = 16;
export const DHCP_SIADDR = 20;
export const DHCP_GIADDR = 24;
export const DHCP_CHADDR = 28;
export const DHCP_SNAME = 44;
export const DHCP_FILE = 108;
export const DHCP_COOKIE = 236;
export const DHCP_OPTIONS = 240;

export const DHCP_CHADDR_LEN = 16;
export const DHCP_SNAME_LEN = 64;
export const DHCP_FILE_LEN = 128;
/** the fixed part plus the magic cookie: the shortest DHCP message */
export const DHCP_MIN_LEN = 240;
/** BOOTP's minimum (RFC 951 / RFC 1542 §2.1): messages are padded to it */
export const BOOTP_MIN_LEN = 300;
/** RFC 2131 §2: every client takes a 576-byte IP datagram: 576 - 20 (IP) - 8 (UDP) of DHCP */
export const DHCP_MIN_MAX_MSG = 576;
export const DHCP_UDP_IP_OVERHEAD = 28;
/** 99.130.83.99 */
export const DHCP_MAGIC = 0x63825363;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const HTYPE_ETHER = 1;
export const DHCP_FLAG_BROADCAST = 0x8000;
/** lease time meaning "forever" (RFC 2132 §9.2) */
export const DHCP_INFINITE = 0xffffffff;

/* ---- option codes (RFC 2132) ---- */
export const DHO_PAD = 0;
export const DHO_SUBNET_MASK = 1;
export const DHO_ROUTER = 3;
export const DHO_DNS = 6;
export const DHO_HOST_NAME = 12;
export const DHO_DOMAIN_NAME = 15;
export const DHO_BROADCAST = 28;
export const DHO_REQUESTED_IP = 50;
export const DHO_LEASE_TIME = 51;
export const DHO_OVERLOAD = 52;
export const DHO_MSG_TYPE = 53;
export const DHO_SERVER_ID = 54;
export const DHO_PARAM_REQ = 55;
export const DHO_MESSAGE = 56;
export const DHO_MAX_MSG_SIZE = 57;
export const DHO_T1 = 58;
export const DHO_T2 = 59;
export const DHO_CLIENT_ID = 61;
export const DHO_END = 255;

/* ---- option 52 values ---- */
export const OVERLOAD_FILE = 1;
export const OVERLOAD_SNAME = 2;

/* ---- message types (option 53, RFC 2132 §9.6) ---- */
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** DNS servers kept from option 6 */
export const DHCP_DNS_MAX = 3;

/* ---- dhcpParse results ---- */
export const DHCP_PARSE_OK = 0;
/** shorter than the fixed header and cookie */
export const DHCP_ESHORT = -1;
/** the magic cookie is wrong (a BOOTP or garbage message) */
export const DHCP_EMAGIC = -2;
/** an option runs past the end of its region */
export const DHCP_ETRUNC = -3;

/** One parsed message: created once, refilled by every dhcpParse. */
export class DhcpMsg {
  op = 0;
  htype = 0;
  hlen = 0;
  /** unsigned */
  xid = 0;
  secs = 0;
  flags = 0;
  ciaddr = 0;
  yiaddr = 0;
  siaddr = 0;
  giaddr = 0;
  /** offset of chaddr in the parsed buffer */
  chaddrOff = 0;
  /** option 53, 0 = absent (a BOOTP message) */
  msgType = 0;
  /** option 54, 0 = absent */
  serverId = 0;
  /** option 1 present */
  hasMask = false;
  mask = 0;
  /** first address of option 3, 0 = absent */
  router = 0;
  dnsCount = 0;
  readonly dns: Int32Array = new Int32Array(DHCP_DNS_MAX);
  /** seconds (unsigned), -1 = absent */
  leaseTime = -1;
  t1 = -1;
  t2 = -1;
  /** option 50, 0 = absent */
  requestedIp = 0;
  /** option 57, 0 = absent */
  maxMsgSize = 0;
  /** option 52 value, 0 = none */
  overload = 0;
  /** option 61 at clientIdOff, clientIdLen bytes (0 = absent) */
  clientIdOff = 0;
  clientIdLen = 0;
  /** option 12 */
  hostNameOff = 0;
  hostNameLen = 0;
  /** option 55 */
  paramReqOff = 0;
  paramReqLen = 0;
  /** option 56 (a server's error text) */
  messageOff = 0;
  messageLen = 0;
  /** options seen (all regions, pads and END excluded) */
  optionCount = 0;
  /** known options with a wrong length (ignored) */
  badOptions = 0;
}

function resetMsg(m: DhcpMsg): void {
  m.msgType = 0;
  m.serverId = 0;
  m.hasMask = false;
  m.mask = 0;
  m.router = 0;
  m.dnsCount = 0;
  m.leaseTime = -1;
  m.t1 = -1;
  m.t2 = -1;
  m.requestedIp = 0;
  m.maxMsgSize = 0;
  m.overload = 0;
  m.clientIdOff = 0;
  m.clientIdLen = 0;
  m.hostNameOff = 0;
  m.hostNameLen = 0;
  m.paramReqOff = 0;
  m.paramReqLen = 0;
  m.messageOff = 0;
  m.messageLen = 0;
  m.optionCount = 0;
  m.badOptions = 0;
}

/** One option (code, value at b[v .. v+l)). `main`: the options field proper (only it may carry option 52). */
function takeOption(m: DhcpMsg, b: Uint8Array, code: number, v: number, l: number, main: boolean): void {
  m.optionCount++;
  switch (code) {
    case DHO_MSG_TYPE:
      if (l === 1) m.msgType = b[v];
      else m.badOptions++;
      return;
    case DHO_SERVER_ID:
      if (l === 4) m.serverId = getAddr(b, v);
      else m.badOptions++;
      return;
    case DHO_SUBNET_MASK:
      if (l === 4) {
        m.hasMask = true;
        m.mask = getAddr(b, v);
      } else m.badOptions++;
      return;
    case DHO_ROUTER:
      if (l >= 4 && (l & 3) === 0) {
        if (m.router === 0) m.router = getAddr(b, v);
      } else m.badOptions++;
      return;
    case DHO_DNS:
      if (l >= 4 && (l & 3) === 0) {
        // several instances concatenate (RFC 3396): keep the first DHCP_DNS_MAX addresses
        for (let k = 0; k < l && m.dnsCount < DHCP_DNS_MAX; k += 4) {
          m.dns[m.dnsCount] = getAddr(b, v + k);
          m.dnsCount++;
        }
      } else m.badOptions++;
      return;
    case DHO_LEASE_TIME:
      if (l === 4) m.leaseTime = get32(b, v);
      else m.badOptions++;
      return;
    case DHO_T1:
      if (l === 4) m.t1 = get32(b, v);
      else m.badOptions++;
      return;
    case DHO_T2:
      if (l === 4) m.t2 = get32(b, v);
      else m.badOptions++;
      return;
    case DHO_REQUESTED_IP:
      if (l === 4) m.requestedIp = getAddr(b, v);
      else m.badOptions++;
      return;
    case DHO_MAX_MSG_SIZE:
      if (l === 2) m.maxMsgSize = get16(b, v);
      else m.badOptions++;
      return;
    case DHO_OVERLOAD:
      if (main && l === 1 && b[v] >= 1 && b[v] <= 3) m.overload = b[v];
      else m.badOptions++;
      return;
    case DHO_CLIENT_ID:
      if (l >= 2) {
        m.clientIdOff = v;
        m.clientIdLen = l;
      } else m.badOptions++;
      return;
    case DHO_HOST_NAME:
      if (l >= 1) {
        m.hostNameOff = v;
        m.hostNameLen = l;
      } else m.badOptions++;
      return;
    case DHO_PARAM_REQ:
      m.paramReqOff = v;
      m.paramReqLen = l;
      return;
    case DHO_MESSAGE:
      m.messageOff = v;
      m.messageLen = l;
      return;
  }
}

/** Walk one option region b[start .. end). 0, or DHCP_ETRUNC when an option runs past end. */
function parseRegion(m: DhcpMsg, b: Uint8Array, start: number, end: number, main: boolean): number {
  let i = start;
  while (i < end) {
    const code = b[i];
    if (code === DHO_PAD) {
      i++;
      continue;
    }
    if (code === DHO_END) return 0;
    if (i + 1 >= end) return DHCP_ETRUNC;
    const l = b[i + 1];
    if (i + 2 + l > end) return DHCP_ETRUNC;
    takeOption(m, b, code, i + 2, l, main);
    i += 2 + l;
  }
  // no END option: tolerated (many BOOTP relays and servers pad without one)
  return 0;
}

/**
 * Parse the DHCP message b[off .. off+len) into m. Returns DHCP_PARSE_OK
 * or a negative DHCP_E* code (m is then partly filled: ignore it).
 * Never reads outside the range, never throws, allocates nothing.
 */
export function dhcpParse(b: Uint8Array, off: number, len: number, m: DhcpMsg): number {
  resetMsg(m);
  if (len < DHCP_MIN_LEN || off < 0 || off + len > b.length) return DHCP_ESHORT;
  m.op = b[off + DHCP_OP];
  m.htype = b[off + DHCP_HTYPE];
  m.hlen = b[off + DHCP_HLEN];
  m.xid = get32(b, off + DHCP_XID);
  m.secs = get16(b, off + DHCP_SECS);
  m.flags = get16(b, off + DHCP_FLAGS);
  m.ciaddr = getAddr(b, off + DHCP_CIADDR);
  m.yiaddr = getAddr(b, off + DHCP_YIADDR);
  m.siaddr = getAddr(b, off + DHCP_SIADDR);
  m.giaddr = getAddr(b, off + DHCP_GIADDR);
  m.chaddrOff = off + DHCP_CHADDR;
  if (get32(b, off + DHCP_COOKIE) !== DHCP_MAGIC) return DHCP_EMAGIC;
  let rc = parseRegion(m, b, off + DHCP_OPTIONS, off + len, true);
  if (rc < 0) return rc;
  // RFC 2131 §4.1: the options field first, then file, then sname
  if ((m.overload & OVERLOAD_FILE) !== 0) {
    rc = parseRegion(m, b, off + DHCP_FILE, off + DHCP_FILE + DHCP_FILE_LEN, false);
    if (rc < 0) return rc;
  }
  if ((m.overload & OVERLOAD_SNAME) !== 0) {
    rc = parseRegion(m, b, off + DHCP_SNAME, off + DHCP_SNAME + DHCP_SNAME_LEN, false);
    if (rc < 0) return rc;
  }
  return DHCP_PARSE_OK;
}

/** The message's chaddr is the 6-byte hardware address mac[moff ..]. */
export function dhcpChaddrIs(b: Uint8Array, m: DhcpMsg, mac: Uint8Array, moff: number): boolean {
  if (m.htype !== HTYPE_ETHER || m.hlen !== 6) return false;
  const c = m.chaddrOff;
  for (let i = 0; i < 6; i++) if (b[c + i] !== mac[moff + i]) return false;
  return true;
}

/* ---- writers: each returns the offset after what it wrote; the caller sizes the buffer ---- */

/**
 * Write the fixed header and the magic cookie at b[off ..], zeroing sname
 * and file. Returns the offset of the options field.
 */
export function dhcpPutHeader(
  b: Uint8Array, off: number, op: number, xid: number, secs: number, flags: number,
  ciaddr: number, yiaddr: number, siaddr: number, mac: Uint8Array, moff: number,
): number {
  fillBytes(b, off, DHCP_MIN_LEN, 0);
  b[off + DHCP_OP] = op & 0xff;
  b[off + DHCP_HTYPE] = HTYPE_ETHER;
  b[off + DHCP_HLEN] = 6;
  b[off + DHCP_HOPS] = 0;
  put32(b, off + DHCP_XID, xid);
  put16(b, off + DHCP_SECS, secs);
  put16(b, off + DHCP_FLAGS, flags);
  putAddr(b, off + DHCP_CIADDR, ciaddr);
  putAddr(b, off + DHCP_YIADDR, yiaddr);
  putAddr(b, off + DHCP_SIADDR, siaddr);
  copyBytes(b, off + DHCP_CHADDR, mac, moff, 6);
  put32(b, off + DHCP_COOKIE, DHCP_MAGIC);
  return off + DHCP_OPTIONS;
}

export function dhcpPutOpt8(b: Uint8Array, o: number, code: number, v: number): number {
  b[o] = code & 0xff;
  b[o + 1] = 1;
  b[o + 2] = v & 0xff;
  return o + 3;
}

export function dhcpPutOpt16(b: Uint8Array, o: number, code: number, v: number): number {
  b[o] = code & 0xff;
  b[o + 1] = 2;
  put16(b, o + 2, v);
  return o + 4;
}

/** A 4-byte value: an address (either form) or an unsigned time. */
export function dhcpPutOpt32(b: Uint8Array, o: number, code: number, v: number): number {
  b[o] = code & 0xff;
  b[o + 1] = 4;
  put32(b, o + 2, v);
  return o + 6;
}

/** An option of n addresses from a[0 .. n) (n >= 1). */
export function dhcpPutOptAddrs(b: Uint8Array, o: number, code: number, a: Int32Array, n: number): number {
  b[o] = code & 0xff;
  b[o + 1] = (n * 4) & 0xff;
  for (let k = 0; k < n; k++) putAddr(b, o + 2 + k * 4, a[k]);
  return o + 2 + n * 4;
}

/** An option carrying src[soff .. soff+n) (n <= 255). */
export function dhcpPutOptBytes(b: Uint8Array, o: number, code: number, src: Uint8Array, soff: number, n: number): number {
  b[o] = code & 0xff;
  b[o + 1] = n & 0xff;
  copyBytes(b, o + 2, src, soff, n);
  return o + 2 + n;
}

/** END, then pad with zeros up to BOOTP_MIN_LEN from off. Returns the message length. */
export function dhcpPutEnd(b: Uint8Array, off: number, o: number): number {
  b[o] = DHO_END;
  let e = o + 1;
  while (e - off < BOOTP_MIN_LEN) {
    b[e] = 0;
    e++;
  }
  return e - off;
}

/** Prefix length of a contiguous netmask (s32), or -1 when it is not contiguous. */
export function maskToPrefix(mask: number): number {
  let n = 0;
  let bit = 31;
  while (bit >= 0 && ((mask >>> bit) & 1) === 1) {
    n++;
    bit--;
  }
  while (bit >= 0) {
    if (((mask >>> bit) & 1) === 1) return -1;
    bit--;
  }
  return n;
}
