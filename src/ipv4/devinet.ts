/*
 * devinet.ts — IPv4 interface configuration (net/ipv4/devinet.c,
 * fib_frontend.c): adding an address also adds its connected route
 * (fib_add_ifaddr) and announces it with a gratuitous ARP when the
 * device is up; static routes and the default gateway (RFC 1122 §3.3.1).
 * Configuration time only: these may allocate (ifconfig parses strings).
 * Address arguments may be signed (s32, the internal form) or unsigned.
 */
import type { Stack } from '../stack';
import { s32 } from '../core/bits';
import { EINVAL, EEXIST, ENOSPC, ENODEV, EADDRNOTAVAIL, ENETUNREACH } from '../core/errno';
import { getDev } from '../link/dev';
import { parseIp } from '../link/ifaddr';
import { arpAnnounce } from '../link/arp';
import { isMulticastAddr, INADDR_BROADCAST } from './ip';

/** ip addr add addr/prefixLen dev. 0 or -errno. */
export function ipAddrAdd(st: Stack, dev: number, addr: number, prefixLen: number): number {
  const d = getDev(st, dev);
  if (d === null) return -ENODEV;
  const a = s32(addr);
  if (prefixLen < 0 || prefixLen > 32 || a === 0 || a === INADDR_BROADCAST || isMulticastAddr(a)) return -EINVAL;
  if (st.ifaddr.find(a) >= 0) return -EEXIST;
  if (st.ifaddr.add(dev, a, prefixLen) < 0) return -ENOSPC;
  if (st.route.add(a, prefixLen, 0, dev, 0, a) < 0) {
    st.ifaddr.remove(a);
    return -ENOSPC;
  }
  if (d.up) arpAnnounce(st, dev, a);
  return 0;
}

/** ip addr del addr dev: removes the address and its connected route. */
export function ipAddrDel(st: Stack, dev: number, addr: number): number {
  const ifa = st.ifaddr;
  const a = s32(addr);
  const i = ifa.find(a);
  if (i < 0 || ifa.dev[i] !== dev) return -EADDRNOTAVAIL;
  const plen = ifa.prefix[i];
  ifa.remove(a);
  // keep the connected route while another address of the same subnet remains
  let shared = false;
  for (let k = 0; k < ifa.count; k++) {
    if (ifa.dev[k] === dev && ifa.prefix[k] === plen && (ifa.addr[k] & ifa.mask[k]) === (a & ifa.mask[k])) {
      shared = true;
    }
  }
  if (!shared) st.route.del(a, plen);
  return 0;
}

/**
 * ip route add dst/prefixLen via gw dev. gw 0 = directly connected. dev < 0
 * = the device of the route that reaches gw. 0 or -errno.
 */
export function ipRouteAdd(st: Stack, dst: number, prefixLen: number, gw: number, dev: number): number {
  if (prefixLen < 0 || prefixLen > 32) return -EINVAL;
  let dv = dev;
  if (dv < 0) {
    if (s32(gw) === 0) return -EINVAL;
    const r = st.route.lookup(gw);
    if (r < 0) return -ENETUNREACH;
    dv = st.route.dev[r];
  }
  if (getDev(st, dv) === null) return -ENODEV;
  if (st.route.add(dst, prefixLen, gw, dv, 0, 0) < 0) return -ENOSPC;
  return 0;
}

export function ipRouteDel(st: Stack, dst: number, prefixLen: number): number {
  return st.route.del(dst, prefixLen) ? 0 : -EADDRNOTAVAIL;
}

/** ip route add default via gw dev. */
export function ipSetDefaultGateway(st: Stack, gw: number, dev: number): number {
  return ipRouteAdd(st, 0, 0, gw, dev);
}

/**
 * ifconfig(st, dev, "192.0.2.2/24", "192.0.2.1" | null): address with
 * prefix (default /32 when omitted) and optional default gateway.
 * 0 or -EINVAL (or the -errno of ipAddrAdd / ipSetDefaultGateway).
 */
export function ifconfig(st: Stack, dev: number, cidr: string, gw: string | null): number {
  const slash = cidr.indexOf('/');
  const as = slash >= 0 ? cidr.substring(0, slash) : cidr;
  let plen = 32;
  if (slash >= 0) {
    const ps = cidr.substring(slash + 1);
    if (ps.length === 0 || ps.length > 2) return -EINVAL;
    for (let i = 0; i < ps.length; i++) {
      const c = ps.charCodeAt(i);
      if (c < 48 || c > 57) return -EINVAL;
    }
    plen = parseInt(ps, 10);
    if (plen > 32) return -EINVAL;
  }
  const a = parseIp(as);
  if (a === null) return -EINVAL;
  let g: number | null = null;
  if (gw !== null) {
    g = parseIp(gw);
    if (g === null) return -EINVAL;
  }
  const rc = ipAddrAdd(st, dev, a, plen);
  if (rc < 0) return rc;
  if (g !== null) return ipSetDefaultGateway(st, g, dev);
  return 0;
}
