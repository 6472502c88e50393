/*
 * ip_output.ts — IPv4 transmit (net/ipv4/ip_output.c, route.c output side):
 *
 *   ip_build_and_send_pkt / ip_queue_xmit ─► ip_route_output ─► [LOCAL_OUT]
 *     ─► ip_output ─► [POST_ROUTING] ─► ip_finish_output ─► ip_fragment? ─► neigh_output
 *   raw_send_hdrinc ─► (same from LOCAL_OUT)
 *
 * Datagrams to one of our own addresses (or 127/8) are looped back: they
 * are queued on st.ip.loopQ and handed to ip_rcv from a timer callback
 * (the loopback device's softirq), never from the sender's call stack.
 *
 * RFC 791 §3.2 (fragmentation: 8-byte offsets, MF, option copy flag),
 * RFC 1122 §3.3.1 (routing outbound datagrams), §3.3.4.2 (source address).
 * Every function here consumes the skb it is given.
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { get16, put16, copyBytes } from '../core/bytes';
import { s32, u32 } from '../core/bits';
import { getAddr, putAddr } from '../core/inaddr';
import { ipCompute } from '../core/checksum';
import { ENETUNREACH, EMSGSIZE, ENOBUFS, EINVAL, EPERM, ENODEV } from '../core/errno';
import {
  IP_OUTREQUESTS, IP_OUTDISCARDS, IP_OUTNOROUTES, IP_FRAGOKS, IP_FRAGFAILS, IP_FRAGCREATES,
} from '../core/mib';
import { getDev } from '../link/dev';
import { neighOutput } from '../link/arp';
import {
  IP_VERIHL, IP_TOS, IP_TOTLEN, IP_ID, IP_FRAGOFF, IP_TTL, IP_PROTO, IP_CSUM, IP_SADDR, IP_DADDR,
  IP_HLEN, IP_DF, IP_MF, IP_OFFSET, IP_MAX_PACKET, IPOPT_END, IPOPT_NOOP, IPOPT_COPY,
  INADDR_BROADCAST, INADDR_LOOPBACK, isLoopbackAddr,
} from './ip';
import { nfHook, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING, NF_ACCEPT, NF_STOLEN } from './netfilter';
import { FEATURE_NETFILTER, FEATURE_FRAGMENT_OUT } from '../features';

/** ip_route_output result: the datagram is for this host (loop it back). */
export const RTO_LOCAL = 1;
/** ip_route_output result: send it out st.ip.outDev toward st.ip.outNexthop. */
export const RTO_UNICAST = 0;

/** ip_select_ident: next IP ID from the per-stack counter (seeded from st.rng). */
export function ipSelectIdent(st: Stack): number {
  const ip = st.ip;
  const id = ip.ipId;
  ip.ipId = (id + 1) & 0xffff;
  return id;
}

/** Recompute the header checksum of the IP header at nh. */
export function ipSendCheck(b: Uint8Array, nh: number): void {
  const hlen = (b[nh + IP_VERIHL] & 0x0f) * 4;
  put16(b, nh + IP_CSUM, 0);
  put16(b, nh + IP_CSUM, ipCompute(b, nh, hlen));
}

/**
 * ip_route_output: where does a datagram to daddr go? oif >= 0 forces the
 * output device (SO_BINDTODEVICE; needed for 255.255.255.255 before any
 * address exists, e.g. DHCP). Results in st.ip.outDev / outNexthop /
 * outSrc (s32). Returns RTO_LOCAL, RTO_UNICAST or -ENETUNREACH. daddr may
 * be given signed or unsigned.
 */
export function ipRouteOutput(st: Stack, daddr0: number, oif: number): number {
  const daddr = s32(daddr0);
  const ip = st.ip;
  const ifa = st.ifaddr;
  if (ifa.isLocal(daddr) || isLoopbackAddr(daddr)) {
    ip.outDev = -1;
    ip.outNexthop = daddr;
    ip.outSrc = isLoopbackAddr(daddr) ? INADDR_LOOPBACK : daddr;
    return RTO_LOCAL;
  }
  const rt = st.route;
  if (daddr === INADDR_BROADCAST) {
    let dev = oif;
    if (dev < 0) {
      const i = rt.lookup(daddr);
      if (i >= 0) dev = rt.dev[i];
      else {
        const devs = st.link.devs;
        for (let k = 0; k < devs.length; k++) {
          if (devs[k].up) {
            dev = k;
            break;
          }
        }
      }
    }
    if (dev < 0) return -ENETUNREACH;
    ip.outDev = dev;
    ip.outNexthop = daddr;
    ip.outSrc = ifa.primary(dev);
    return RTO_UNICAST;
  }
  const i = rt.lookup(daddr);
  if (oif >= 0 && (i < 0 || rt.dev[i] !== oif)) {
    // bound to a device the route does not use: assume on-link there
    ip.outDev = oif;
    ip.outNexthop = daddr;
    ip.outSrc = ifa.primary(oif);
    return RTO_UNICAST;
  }
  if (i < 0) return -ENETUNREACH;
  const dev = rt.dev[i];
  ip.outDev = dev;
  ip.outNexthop = rt.nexthop(i, daddr);
  const ps = rt.prefsrc[i];
  ip.outSrc = ps !== 0 ? ps : ifa.primary(dev);
  return RTO_UNICAST;
}

/**
 * inet_select_addr for a destination: the source used to reach daddr, 0
 * when unroutable. Returns the UNSIGNED form (the public contract of
 * docs/ARCHITECTURE.md, for applications and tests); inside the stack use
 * ipSelectSrc (s32: an unsigned result >= 2^31 is a boxed HeapNumber on V8).
 */
export function ipSelectSource(st: Stack, daddr: number): number {
  const r = ipRouteOutput(st, daddr, -1);
  return r < 0 ? 0 : u32(st.ip.outSrc);
}

/** ipSelectSource returning the s32 form (0 when unroutable). */
export function ipSelectSrc(st: Stack, daddr: number): number {
  const r = ipRouteOutput(st, daddr, -1);
  return r < 0 ? 0 : st.ip.outSrc;
}

/** ip_build_and_send_pkt: skb data at the transport header. Consumes skb. 0 or -errno. */
export function ipBuildAndSend(
  st: Stack,
  skb: number,
  saddr: number,
  daddr: number,
  proto: number,
  ttl: number,
  tos: number,
  df: boolean,
): number {
  return ipBuildAndSendOif(st, skb, saddr, daddr, proto, ttl, tos, df, -1);
}

/**
 * ipBuildAndSend with a forced output device (oif >= 0), or -1 to route.
 * saddr/daddr may be given signed (s32) or unsigned.
 */
export function ipBuildAndSendOif(
  st: Stack,
  skb: number,
  saddr0: number,
  daddr0: number,
  proto: number,
  ttl: number,
  tos: number,
  df: boolean,
  oif: number,
): number {
  const p = st.pool;
  const mib = st.mib.ip;
  const saddr = s32(saddr0);
  const daddr = s32(daddr0);
  if (daddr === 0) {
    mib[IP_OUTNOROUTES]++;
    p.free(skb);
    return -EINVAL;
  }
  const r = ipRouteOutput(st, daddr, oif);
  if (r < 0) {
    mib[IP_OUTNOROUTES]++;
    p.free(skb);
    return r;
  }
  const ip = st.ip;
  const dev = ip.outDev;
  const nexthop = ip.outNexthop;
  const src = saddr !== 0 ? saddr : ip.outSrc;
  const tot = p.len(skb) + IP_HLEN;
  if (tot > IP_MAX_PACKET) {
    mib[IP_OUTDISCARDS]++;
    p.free(skb);
    return -EMSGSIZE;
  }
  const h = p.push(skb, IP_HLEN);
  if (h < 0) {
    mib[IP_OUTDISCARDS]++;
    p.free(skb);
    return -ENOBUFS;
  }
  const b = p.buf[skb];
  b[h + IP_VERIHL] = 0x45;
  b[h + IP_TOS] = tos & 0xff;
  put16(b, h + IP_TOTLEN, tot);
  put16(b, h + IP_ID, ipSelectIdent(st));
  put16(b, h + IP_FRAGOFF, df ? IP_DF : 0);
  b[h + IP_TTL] = ttl & 0xff;
  b[h + IP_PROTO] = proto & 0xff;
  putAddr(b, h + IP_SADDR, src);
  putAddr(b, h + IP_DADDR, daddr);
  ipSendCheck(b, h);
  p.nh[skb] = h;
  mib[IP_OUTREQUESTS]++;
  return ipLocalOut(st, skb, dev, nexthop, r === RTO_LOCAL);
}

/**
 * raw_send_hdrinc: the caller built the whole IP header at skb.data. Fills
 * tot_len, the ID when 0, the source when 0 and the checksum. Consumes skb.
 * -EINVAL for a malformed header, -EMSGSIZE beyond the device MTU.
 */
export function ipSendHdrincl(st: Stack, skb: number): number {
  const p = st.pool;
  const mib = st.mib.ip;
  const d = p.data[skb];
  const len = p.len(skb);
  const b = p.buf[skb];
  if (len < IP_HLEN || b[d + IP_VERIHL] >>> 4 !== 4) {
    p.free(skb);
    return -EINVAL;
  }
  const ihl = (b[d + IP_VERIHL] & 0x0f) * 4;
  if (ihl < IP_HLEN || ihl > len) {
    p.free(skb);
    return -EINVAL;
  }
  if (len > IP_MAX_PACKET) {
    p.free(skb);
    return -EMSGSIZE;
  }
  const daddr = getAddr(b, d + IP_DADDR);
  const r = ipRouteOutput(st, daddr, -1);
  if (r < 0) {
    mib[IP_OUTNOROUTES]++;
    p.free(skb);
    return r;
  }
  const ip = st.ip;
  const dev = ip.outDev;
  const nexthop = ip.outNexthop;
  if (r !== RTO_LOCAL) {
    const nd = getDev(st, dev);
    if (nd === null || len > nd.mtu) {
      mib[IP_FRAGFAILS]++;
      p.free(skb);
      return -EMSGSIZE;
    }
  }
  put16(b, d + IP_TOTLEN, len);
  if (get16(b, d + IP_ID) === 0) put16(b, d + IP_ID, ipSelectIdent(st));
  if (getAddr(b, d + IP_SADDR) === 0) putAddr(b, d + IP_SADDR, ip.outSrc);
  ipSendCheck(b, d);
  p.nh[skb] = d;
  mib[IP_OUTREQUESTS]++;
  return ipLocalOut(st, skb, dev, nexthop, r === RTO_LOCAL);
}

/**
 * __ip_local_out + ip_output: LOCAL_OUT and POST_ROUTING hooks, then the
 * loopback queue or ip_finish_output. skb data = nh = a complete header.
 */
export function ipLocalOut(st: Stack, skb: number, dev: number, nexthop: number, loop: boolean): number {
  const p = st.pool;
  let v = FEATURE_NETFILTER ? nfHook(st, NF_INET_LOCAL_OUT, skb, -1, dev) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return 0;
    st.mib.ip[IP_OUTDISCARDS]++;
    p.free(skb);
    return -EPERM;
  }
  v = FEATURE_NETFILTER ? nfHook(st, NF_INET_POST_ROUTING, skb, -1, dev) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return 0;
    st.mib.ip[IP_OUTDISCARDS]++;
    p.free(skb);
    return -EPERM;
  }
  if (loop) return ipLoopbackXmit(st, skb);
  return ipFinishOutput(st, skb, dev, nexthop);
}

/**
 * loopback_xmit: queue a locally addressed datagram (data = nh = IP header)
 * for ip_rcv, run from the loopback timer on the next poll. Consumes skb.
 */
export function ipLoopbackXmit(st: Stack, skb: number): number {
  const ip = st.ip;
  const p = st.pool;
  p.dev[skb] = -1;
  p.cb3[skb] = 0; // PACKET_HOST
  p.nh[skb] = p.data[skb];
  if (!ip.loopQ.enqueue(skb)) {
    st.mib.ip[IP_OUTDISCARDS]++;
    p.free(skb);
    return -ENOBUFS;
  }
  ip.loopTx++;
  if (!st.timers.pending(ip.loopTimer) && !ip.loopRunning) st.timers.mod(ip.loopTimer, st.now());
  return 0;
}

/**
 * ip_finish_output: fragment when longer than the device MTU (or fail with
 * -EMSGSIZE when DF is set), then neigh_output. data = nh = IP header.
 */
export function ipFinishOutput(st: Stack, skb: number, dev: number, nexthop: number): number {
  const p = st.pool;
  const nd = getDev(st, dev);
  if (nd === null) {
    st.mib.ip[IP_OUTDISCARDS]++;
    p.free(skb);
    return -ENODEV;
  }
  const len = p.len(skb);
  if (len > nd.mtu) {
    const b = p.buf[skb];
    // fragmentation compiled out (src/features.ts): as if DF were set
    if (!FEATURE_FRAGMENT_OUT || (get16(b, p.data[skb] + IP_FRAGOFF) & IP_DF) !== 0) {
      st.mib.ip[IP_FRAGFAILS]++;
      p.free(skb);
      return -EMSGSIZE;
    }
    return ipFragment(st, skb, dev, nexthop, nd.mtu);
  }
  p.dev[skb] = dev;
  return neighOutput(st, skb, dev, nexthop);
}

/**
 * Length of the header carried by the 2nd..nth fragments: the base header
 * plus the options whose copy flag is set (RFC 791 §3.1), padded to 4.
 * When dst is non-null the header is written there at doff.
 */
function fragHeader(b: Uint8Array, nh: number, hlen: number, dst: Uint8Array | null, doff: number): number {
  if (dst !== null) copyBytes(dst, doff, b, nh, IP_HLEN);
  let o = IP_HLEN;
  let i = nh + IP_HLEN;
  const end = nh + hlen;
  while (i < end) {
    const t = b[i];
    if (t === IPOPT_END) break;
    if (t === IPOPT_NOOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const ol = b[i + 1];
    if (ol < 2 || i + ol > end) break;
    if ((t & IPOPT_COPY) !== 0) {
      if (dst !== null) copyBytes(dst, doff + o, b, i, ol);
      o += ol;
    }
    i += ol;
  }
  while ((o & 3) !== 0) {
    if (dst !== null) dst[doff + o] = IPOPT_END;
    o++;
  }
  if (dst !== null) dst[doff + IP_VERIHL] = 0x40 | ((o >>> 2) & 0x0f);
  return o;
}

/**
 * ip_fragment (RFC 791 §3.2): split the datagram at skb (data = nh = IP
 * header) into small skbs of at most mtu bytes, each sent through
 * neigh_output. Offsets are multiples of 8; every fragment but the last
 * carries MF (the last keeps the original MF, so fragments of fragments
 * stay correct when forwarding). Consumes skb. 0 or the first -errno.
 */
export function ipFragment(st: Stack, skb: number, dev: number, nexthop: number, mtu: number): number {
  const p = st.pool;
  const mib = st.mib.ip;
  const b = p.buf[skb];
  const nh = p.data[skb];
  const hlen = (b[nh + IP_VERIHL] & 0x0f) * 4;
  const tot = p.len(skb);
  const foff = get16(b, nh + IP_FRAGOFF);
  const origOff = (foff & IP_OFFSET) * 8;
  const origMF = foff & IP_MF;
  const ohlen = hlen > IP_HLEN ? fragHeader(b, nh, hlen, null, 0) : IP_HLEN;
  const payload = tot - hlen;
  let off = 0;
  let err = 0;
  while (off < payload) {
    const fh = off === 0 ? hlen : ohlen;
    const maxData = Math.floor((mtu - fh) / 8) * 8;
    if (maxData <= 0) {
      mib[IP_FRAGFAILS]++;
      p.free(skb);
      return -EMSGSIZE;
    }
    let chunk = payload - off;
    let last = true;
    if (chunk > maxData) {
      chunk = maxData;
      last = false;
    }
    const f = p.alloc(fh + chunk);
    if (f === SKB_NONE) {
      mib[IP_FRAGFAILS]++;
      p.free(skb);
      return -ENOBUFS;
    }
    const fo = p.put(f, fh + chunk);
    const fb = p.buf[f];
    if (off === 0) copyBytes(fb, fo, b, nh, hlen);
    else fragHeader(b, nh, hlen, fb, fo);
    copyBytes(fb, fo + fh, b, nh + hlen + off, chunk);
    put16(fb, fo + IP_TOTLEN, fh + chunk);
    put16(fb, fo + IP_FRAGOFF, ((origOff + off) >>> 3) | (last ? origMF : IP_MF));
    ipSendCheck(fb, fo);
    p.nh[f] = fo;
    p.dev[f] = dev;
    mib[IP_FRAGCREATES]++;
    const rc = neighOutput(st, f, dev, nexthop);
    if (rc < 0 && err === 0) err = rc;
    off += chunk;
  }
  mib[IP_FRAGOKS]++;
  p.free(skb);
  return err;
}
