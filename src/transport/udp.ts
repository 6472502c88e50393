/*
 * udp.ts — UDP over IPv4 (RFC 768; RFC 1122 §4.1), after net/ipv4/udp.c.
 *
 * Place in the packet path:
 *   receive: ip_local_deliver → udpRcv (__udp4_lib_rcv): length and
 *            checksum checks, socket lookup (connected match first, then
 *            bound address, then INADDR_ANY; SO_BINDTODEVICE sockets only
 *            for their device), sockQueueRcv onto the
 *            socket's bounded receive queue — or NoPorts + ICMP port
 *            unreachable (RFC 1122 §4.1.3.1).
 *            icmp_rcv → udpErr (__udp4_lib_err): hard ICMP errors become
 *            the pending error of a *connected* socket (RFC 1122 §4.1.3.3,
 *            as Linux without IP_RECVERR).
 *   send:    sendto → udpSendmsg: header + checksum (pseudo-header,
 *            0 sent as 0xffff, RFC 768) → ipBuildAndSend.
 * Broadcast (and multicast) datagrams go to every matching socket, each
 * a copy (__udp4_lib_mcast_deliver); nobody listening counts IgnoredMulti.
 * Ports are per protocol; ephemeral ports come from
 * cfg.ephemeralLow..High starting at a random point (RFC 6056 alg. 1).
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { get16, put16, copyBytes } from '../core/bytes';
import { getAddr, INADDR_NONE } from '../core/inaddr';
import { csumPartial, csumFold, csumFinish, csumTcpUdpMagic } from '../core/checksum';
import { s32 } from '../core/bits';
import {
  UDP_INDATAGRAMS, UDP_NOPORTS, UDP_INERRORS, UDP_OUTDATAGRAMS, UDP_RCVBUFERRORS, UDP_SNDBUFERRORS,
  UDP_INCSUMERRORS, UDP_IGNOREDMULTI, UDP_MEMERRORS,
} from '../core/mib';
import {
  EINVAL, EMSGSIZE, ENOBUFS, EADDRINUSE, EACCES, ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, EADDRNOTAVAIL,
  ECONNREFUSED, EHOSTDOWN,
} from '../core/errno';
import {
  SOCK_DGRAM, SS_OPEN, SF_BROADCAST, SF_REUSEADDR, sockQueueRcv, sockSetErr, skbCopyFrom,
} from '../socket/sock';
import { inetAddProtocol } from '../ipv4/protocol';
import { ipBuildAndSendOif, ipRouteOutput } from '../ipv4/ip_output';
import { icmpSend } from '../ipv4/icmp';
import {
  IP_SADDR as IPH_SADDR, IP_DADDR as IPH_DADDR, IP_PROTO as IPH_PROTO, IPPROTO_UDP, ICMP_DEST_UNREACH,
  ICMP_PORT_UNREACH, INADDR_BROADCAST, isMulticastAddr,
} from '../ipv4/ip';

/* UDP header (RFC 768) */
export const UDP_HLEN = 8;
export const UDP_SPORT = 0;
export const UDP_DPORT = 2;
export const UDP_LEN = 4;
export const UDP_CHECK = 6;
/** largest payload: 65535 - 20 (IP) - 8 (UDP) */
export const UDP_MAX_PAYLOAD = 65507;


/** Per-stack UDP state; also the inet protocol handler (struct net_protocol). */
export class UdpTable {
  constructor(readonly st: Stack) {}
  handler(skb: number): void {
    udpRcv(this.st, skb);
  }
  errHandler(skb: number, type: number, code: number, info: number): void {
    udpErr(this.st, skb, type, code, info);
  }
}

export function initUdp(st: Stack): UdpTable {
  const t = new UdpTable(st);
  inetAddProtocol(st, IPPROTO_UDP, t);
  return t;
}

/** daddr is the limited broadcast, a directed broadcast of a local subnet, or multicast. */
export function isBroadcastAddr(st: Stack, daddr0: number): boolean {
  const daddr = s32(daddr0);
  if (daddr === INADDR_BROADCAST) return true;
  if (isMulticastAddr(daddr)) return true;
  const ia = st.ifaddr;
  for (let i = 0; i < ia.count; i++) {
    if (ia.prefix[i] >= 31) continue;
    const m = ia.mask[i];
    if ((daddr & m) === (ia.addr[i] & m) && (daddr | m) === INADDR_BROADCAST) return true;
  }
  return false;
}

/**
 * compute_score: how well fd matches a datagram (saddr:sport → daddr:dport)
 * that arrived on device dev, -1 when it does not. A connected match
 * outranks a bound address, which outranks INADDR_ANY; a socket bound to
 * a device (SO_BINDTODEVICE) takes only what arrives there (sk_bound_dev_if).
 */
function udpScore(st: Stack, fd: number, saddr: number, sport: number, daddr: number, dport: number, dev: number): number {
  const s = st.sock;
  if (s.state[fd] !== SS_OPEN || s.type[fd] !== SOCK_DGRAM || s.lport[fd] !== dport) return -1;
  let score = 0;
  const oif = s.oif[fd];
  if (oif >= 0) {
    if (oif !== dev) return -1;
    score += 1;
  }
  const la = s.laddr[fd];
  if (la !== 0) {
    if (la !== daddr) return -1;
    score += 2;
  }
  if (s.connected[fd] !== 0) {
    if (s.raddr[fd] !== saddr || s.rport[fd] !== sport) return -1;
    score += 4;
  }
  return score;
}

/** __udp4_lib_lookup: the best socket for a unicast datagram that arrived on dev (-1 loopback), or -1. */
export function udpLookup(st: Stack, saddr: number, sport: number, daddr: number, dport: number, dev: number): number {
  let best = -1;
  let bestScore = -1;
  const n = st.sock.max;
  for (let fd = 0; fd < n; fd++) {
    const sc = udpScore(st, fd, saddr, sport, daddr, dport, dev);
    if (sc > bestScore) {
      bestScore = sc;
      best = fd;
    }
  }
  return best;
}

/** udp_queue_rcv_skb: data moves to the payload; full queue → drop and count. Consumes skb. */
function udpQueueRcv(st: Stack, fd: number, skb: number): void {
  const p = st.pool;
  p.data[skb] = p.th[skb] + UDP_HLEN;
  if (!sockQueueRcv(st, fd, skb)) {
    st.mib.udp[UDP_RCVBUFERRORS]++;
    st.mib.udp[UDP_INERRORS]++;
    p.free(skb);
    return;
  }
  st.mib.udp[UDP_INDATAGRAMS]++;
}

/**
 * udp_rcv: skb data at the UDP header, pool.nh at the IP header.
 * Consumes skb on every path.
 */
export function udpRcv(st: Stack, skb: number): void {
  const p = st.pool;
  const mib = st.mib.udp;
  const b = p.buf[skb];
  const d = p.data[skb];
  const nh = p.nh[skb];
  const len = p.tail[skb] - d;
  if (len < UDP_HLEN) {
    mib[UDP_INERRORS]++;
    p.free(skb);
    return;
  }
  const ulen = get16(b, d + UDP_LEN);
  if (ulen < UDP_HLEN || ulen > len) {
    mib[UDP_INERRORS]++;
    p.free(skb);
    return;
  }
  p.trim(skb, ulen);
  p.th[skb] = d;
  const saddr = getAddr(b, nh + IPH_SADDR);
  const daddr = getAddr(b, nh + IPH_DADDR);
  if (get16(b, d + UDP_CHECK) !== 0) {
    const sum = csumPartial(b, d, ulen, csumTcpUdpMagic(saddr, daddr, ulen, IPPROTO_UDP));
    if (csumFold(sum) !== 0xffff) {
      mib[UDP_INCSUMERRORS]++;
      mib[UDP_INERRORS]++;
      p.free(skb);
      return;
    }
  }
  const sport = get16(b, d + UDP_SPORT);
  const dport = get16(b, d + UDP_DPORT);
  const dev = p.dev[skb];

  if (isBroadcastAddr(st, daddr)) {
    // __udp4_lib_mcast_deliver: every matching socket gets the datagram
    const s = st.sock;
    let first = -1;
    for (let fd = 0; fd < s.max; fd++) {
      if (udpScore(st, fd, saddr, sport, daddr, dport, dev) < 0) continue;
      if (first < 0) {
        first = fd;
        continue;
      }
      const c = skbCopyFrom(st, skb, nh);
      if (c === SKB_NONE) {
        mib[UDP_MEMERRORS]++;
        mib[UDP_INERRORS]++;
        continue;
      }
      udpQueueRcv(st, fd, c);
    }
    if (first < 0) {
      mib[UDP_IGNOREDMULTI]++;
      p.free(skb);
      return;
    }
    udpQueueRcv(st, first, skb);
    return;
  }

  const fd = udpLookup(st, saddr, sport, daddr, dport, dev);
  if (fd >= 0) {
    udpQueueRcv(st, fd, skb);
    return;
  }
  mib[UDP_NOPORTS]++;
  icmpSend(st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
  p.free(skb);
}

/** icmp_err_convert for Destination Unreachable codes: hard errors only, 0 = ignore. */
function unreachErrno(code: number): number {
  switch (code) {
    case 2: return ENOPROTOOPT; // protocol unreachable
    case 3: return ECONNREFUSED; // port unreachable
    case 6: return ENETUNREACH; // net unknown
    case 7: return EHOSTDOWN; // host unknown
    case 8: return EHOSTUNREACH; // host isolated (ENONET)
    case 9: return ENETUNREACH; // net prohibited
    case 10: return EHOSTUNREACH; // host prohibited
    case 13: return EHOSTUNREACH; // filtered
    case 14: return EHOSTUNREACH; // precedence violation
    case 15: return EHOSTUNREACH; // precedence cutoff
  }
  return 0;
}

/**
 * __udp4_lib_err: skb data at the quoted IP header of our datagram.
 * A hard error about a connected socket's flow becomes its pending error
 * (EV_ERROR). Does not free skb.
 */
export function udpErr(st: Stack, skb: number, type: number, code: number, info: number): void {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  const len = p.tail[skb] - d;
  if (len < 20 || info < 0) return;
  const ihl = (b[d] & 0x0f) * 4;
  if (ihl < 20 || len < ihl + 4 || b[d + IPH_PROTO] !== IPPROTO_UDP) return;
  if (type !== ICMP_DEST_UNREACH) return; // time exceeded, quench: soft errors, ignored
  const e = unreachErrno(code);
  if (e === 0) return;
  const saddr = getAddr(b, d + IPH_SADDR);
  const daddr = getAddr(b, d + IPH_DADDR);
  const sport = get16(b, d + ihl + UDP_SPORT);
  const dport = get16(b, d + ihl + UDP_DPORT);
  // the quoted datagram went saddr:sport → daddr:dport; our socket is the sender
  const s = st.sock;
  for (let fd = 0; fd < s.max; fd++) {
    if (s.state[fd] !== SS_OPEN || s.type[fd] !== SOCK_DGRAM || s.connected[fd] === 0) continue;
    if (s.lport[fd] !== sport || s.raddr[fd] !== daddr || s.rport[fd] !== dport) continue;
    if (s.laddr[fd] !== 0 && s.laddr[fd] !== saddr) continue;
    sockSetErr(st, fd, e);
    return;
  }
}

/** Another UDP socket holds port on an overlapping address (and not both SO_REUSEADDR). */
export function udpPortConflict(st: Stack, exceptFd: number, addr0: number, port: number, reuse: boolean): boolean {
  const s = st.sock;
  const addr = s32(addr0);
  for (let fd = 0; fd < s.max; fd++) {
    if (fd === exceptFd || s.state[fd] !== SS_OPEN || s.type[fd] !== SOCK_DGRAM) continue;
    if (s.lport[fd] !== port) continue;
    const la = s.laddr[fd];
    if (la !== 0 && addr !== 0 && la !== addr) continue;
    if (reuse && (s.flags[fd] & SF_REUSEADDR) !== 0) continue;
    return true;
  }
  return false;
}

/**
 * udp_lib_get_port: give fd local port `port` on addr (0 = pick an
 * ephemeral port from a random starting point). Returns the port or -errno.
 */
export function udpGetPort(st: Stack, fd: number, addr: number, port: number): number {
  const s = st.sock;
  const reuse = (s.flags[fd] & SF_REUSEADDR) !== 0;
  if (port !== 0) {
    if (udpPortConflict(st, fd, addr, port, reuse)) return -EADDRINUSE;
    s.lport[fd] = port;
    return port;
  }
  const lo = st.cfg.ephemeralLow;
  const n = st.cfg.ephemeralHigh - lo + 1;
  if (n <= 0) return -EADDRINUSE;
  const start = st.rng.next32() % n;
  for (let i = 0; i < n; i++) {
    let k = start + i;
    if (k >= n) k -= n;
    const cand = lo + k;
    if (!udpPortConflict(st, fd, addr, cand, false)) {
      s.lport[fd] = cand;
      return cand;
    }
  }
  return -EADDRINUSE;
}

/**
 * Source address for a datagram from fd to daddr: the bound address, else
 * the route's source (ip_route_output honouring SO_BINDTODEVICE). May be 0
 * for the limited broadcast before any address is configured (DHCP).
 * Returns the s32 form, or INADDR_NONE (-1, never a valid source) when
 * daddr is unroutable.
 */
export function udpSource(st: Stack, fd: number, daddr: number): number {
  const la = st.sock.laddr[fd];
  if (la !== 0 && !isBroadcastAddr(st, la)) return la;
  if (ipRouteOutput(st, daddr, st.sock.oif[fd]) < 0) return INADDR_NONE;
  return st.ip.outSrc;
}

/**
 * udp_sendmsg: send buf[off..off+len) from fd to daddr:dport (the caller
 * checked the buffer bounds and resolved a connected destination).
 * Returns len or -errno.
 */
export function udpSendmsg(st: Stack, fd: number, buf: Uint8Array, off: number, len: number, daddr0: number, dport: number): number {
  const s = st.sock;
  const daddr = s32(daddr0);
  if (len > UDP_MAX_PAYLOAD) return -EMSGSIZE;
  if (dport <= 0 || dport > 0xffff) return -EINVAL;
  if ((s.flags[fd] & SF_BROADCAST) === 0 && isBroadcastAddr(st, daddr)) return -EACCES;
  if (s.lport[fd] === 0) {
    const r = udpGetPort(st, fd, s.laddr[fd], 0);
    if (r < 0) return r;
  }
  const saddr = udpSource(st, fd, daddr);
  if (saddr === INADDR_NONE) return -ENETUNREACH;
  if (saddr === 0 && daddr !== INADDR_BROADCAST) return -EADDRNOTAVAIL;
  const p = st.pool;
  const ulen = UDP_HLEN + len;
  const skb = p.alloc(ulen);
  if (skb === SKB_NONE) {
    st.mib.udp[UDP_SNDBUFERRORS]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, ulen);
  if (o < 0) {
    p.free(skb);
    st.mib.udp[UDP_SNDBUFERRORS]++;
    return -ENOBUFS;
  }
  const b = p.buf[skb];
  put16(b, o + UDP_SPORT, s.lport[fd]);
  put16(b, o + UDP_DPORT, dport);
  put16(b, o + UDP_LEN, ulen);
  put16(b, o + UDP_CHECK, 0);
  copyBytes(b, o + UDP_HLEN, buf, off, len);
  let c = csumFinish(csumPartial(b, o, ulen, csumTcpUdpMagic(saddr, daddr, ulen, IPPROTO_UDP)));
  if (c === 0) c = 0xffff;
  put16(b, o + UDP_CHECK, c);
  p.th[skb] = o;
  const ttl = s.ttl[fd] < 0 ? st.cfg.ipDefaultTtl : s.ttl[fd];
  const rc = ipBuildAndSendOif(st, skb, saddr, daddr, IPPROTO_UDP, ttl, s.tos[fd], false, s.oif[fd]);
  if (rc < 0) {
    if (rc === -ENOBUFS) st.mib.udp[UDP_SNDBUFERRORS]++;
    return rc;
  }
  st.mib.udp[UDP_OUTDATAGRAMS]++;
  return len;
}
