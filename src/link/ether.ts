/*
 * ether.ts — Ethernet II framing (IEEE 802.3 / RFC 894): header layout,
 * ethertypes, address helpers, and eth_type_trans / eth_header.
 * The one place Ethernet offsets and constants are defined.
 */
import { get16, put16, copyBytes } from '../core/bytes';
import type { Stack } from '../stack';
import { LINK_RXRUNTS, LINK_RXNOTFORUS } from '../core/mib';

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60; /* minimum frame without FCS */
export const ETH_DATA_LEN = 1500;
export const ETH_FRAME_LEN = 1514;
export const ETH_DEST = 0;
export const ETH_SOURCE = 6;
export const ETH_PROTO = 12;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

/** skb packet type, as skb->pkt_type, stored in pool.cb3 by ethTypeTrans */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;

export const ETH_BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function isBroadcastEther(b: Uint8Array, o: number): boolean {
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
}

export function isMulticastEther(b: Uint8Array, o: number): boolean {
  return (b[o] & 1) !== 0;
}

export function isZeroEther(b: Uint8Array, o: number): boolean {
  return (b[o] | b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5]) === 0;
}

/**
 * eth_type_trans: classify a received frame at skb.data, set skb.proto
 * (ethertype), skb.cb3 (PACKET_*), skb.nh and pull the header. Returns
 * the ethertype, or -1 when the frame is dropped (runt or not for us;
 * counted, skb NOT freed: the caller frees).
 */
export function ethTypeTrans(st: Stack, skb: number, devMac: Uint8Array): number {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  if (p.tail[skb] - d < ETH_HLEN) {
    st.mib.link[LINK_RXRUNTS]++;
    return -1;
  }
  let type = PACKET_HOST;
  if (isMulticastEther(b, d + ETH_DEST)) {
    type = isBroadcastEther(b, d + ETH_DEST) ? PACKET_BROADCAST : PACKET_MULTICAST;
  } else {
    for (let i = 0; i < ETH_ALEN; i++) {
      if (b[d + ETH_DEST + i] !== devMac[i]) {
        type = PACKET_OTHERHOST;
        break;
      }
    }
  }
  if (type === PACKET_OTHERHOST || type === PACKET_MULTICAST) {
    // no multicast groups are joined: not for us
    st.mib.link[LINK_RXNOTFORUS]++;
    return -1;
  }
  const proto = get16(b, d + ETH_PROTO);
  p.proto[skb] = proto;
  p.cb3[skb] = type;
  p.pull(skb, ETH_HLEN);
  p.nh[skb] = p.data[skb];
  return proto;
}

/** eth_header: push the 14-byte header onto skb. Returns 0 or -1 without headroom. */
export function ethHeader(
  st: Stack,
  skb: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  proto: number,
): number {
  const p = st.pool;
  const d = p.push(skb, ETH_HLEN);
  if (d < 0) return -1;
  const b = p.buf[skb];
  copyBytes(b, d + ETH_DEST, dst, dstOff, ETH_ALEN);
  copyBytes(b, d + ETH_SOURCE, src, 0, ETH_ALEN);
  put16(b, d + ETH_PROTO, proto);
  return 0;
}

/** Parse "aa:bb:cc:dd:ee:ff" into 6 bytes (allocates: configuration only). Null on error. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(':');
  if (parts.length !== 6) return null;
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const v = parseInt(parts[i], 16);
    if (!(v >= 0 && v <= 255) || parts[i].length === 0 || parts[i].length > 2) return null;
    m[i] = v;
  }
  return m;
}

export function formatMac(m: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const h = m[o + i].toString(16);
    s += (i > 0 ? ':' : '') + (h.length < 2 ? '0' + h : h);
  }
  return s;
}

