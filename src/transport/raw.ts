/*
 * raw.ts — raw IPv4 sockets (SOCK_RAW), after net/ipv4/raw.c.
 *
 * Place in the packet path:
 *   receive: ip_local_deliver → st.ip.raw.deliver(skb, proto)
 *            (raw_local_deliver / raw_v4_input): every open raw socket of
 *            that protocol (bound address and connected peer matching)
 *            gets a COPY of the datagram with data at the IP header, as
 *            Linux raw sockets read it. The original skb is never touched:
 *            ip_local_deliver still hands it to the protocol handler.
 *   send:    sendto → rawSendmsg (raw_sendmsg): the payload (e.g. a
 *            hand-built ICMP echo; the application fills its checksum)
 *            goes to ipBuildAndSend with the socket's protocol, or, with
 *            IP_HDRINCL (implied by IPPROTO_RAW), the caller's complete IP
 *            header goes to ipSendHdrincl (raw_send_hdrinc).
 * RFC 791 for the header; raw sockets themselves are not in an RFC.
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { copyBytes } from '../core/bytes';
import { getAddr } from '../core/inaddr';
import { RAW_INDATAGRAMS, RAW_OUTDATAGRAMS, RAW_RCVBUFERRORS, RAW_OUTERRORS } from '../core/mib';
import { EINVAL, EMSGSIZE, ENOBUFS, EACCES } from '../core/errno';
import { SOCK_RAW, SS_OPEN, SF_HDRINCL, SF_BROADCAST, sockQueueRcv, skbCopyFrom } from '../socket/sock';
import { inetSetRaw } from '../ipv4/protocol';
import { ipBuildAndSendOif, ipSendHdrincl } from '../ipv4/ip_output';
import { IP_SADDR, IP_DADDR, IP_HLEN, IP_MAX_PACKET } from '../ipv4/ip';
import { isBroadcastAddr } from './udp';
import { FEATURE_RAW } from '../features';

/** Per-stack raw state; also the IP layer's raw delivery hook (RawDeliver). */
export class RawTable {
  constructor(readonly st: Stack) {}
  deliver(skb: number, proto: number): boolean {
    return FEATURE_RAW && rawLocalDeliver(this.st, skb, proto);
  }
}

export function initRaw(st: Stack): RawTable {
  const t = new RawTable(st);
  inetSetRaw(st, t);
  return t;
}

/**
 * raw_local_deliver: copy the datagram (IP header at pool.nh .. tail) to
 * every matching raw socket. Returns true when at least one socket matched.
 */
export function rawLocalDeliver(st: Stack, skb: number, proto: number): boolean {
  const s = st.sock;
  const p = st.pool;
  const nh = p.nh[skb];
  const b = p.buf[skb];
  const saddr = getAddr(b, nh + IP_SADDR);
  const daddr = getAddr(b, nh + IP_DADDR);
  let hit = false;
  for (let fd = 0; fd < s.max; fd++) {
    if (s.state[fd] !== SS_OPEN || s.type[fd] !== SOCK_RAW || s.proto[fd] !== proto) continue;
    if (s.laddr[fd] !== 0 && s.laddr[fd] !== daddr) continue;
    if (s.connected[fd] !== 0 && s.raddr[fd] !== saddr) continue;
    hit = true;
    const c = skbCopyFrom(st, skb, nh);
    if (c === SKB_NONE) {
      st.mib.raw[RAW_RCVBUFERRORS]++;
      continue;
    }
    if (!sockQueueRcv(st, fd, c)) {
      st.mib.raw[RAW_RCVBUFERRORS]++;
      p.free(c);
      continue;
    }
    st.mib.raw[RAW_INDATAGRAMS]++;
  }
  return hit;
}

/**
 * raw_sendmsg: send buf[off..off+len) from raw socket fd to daddr
 * (bounds already checked by the caller). Returns len or -errno.
 */
export function rawSendmsg(st: Stack, fd: number, buf: Uint8Array, off: number, len: number, daddr: number): number {
  const s = st.sock;
  const hdrincl = (s.flags[fd] & SF_HDRINCL) !== 0;
  if ((s.flags[fd] & SF_BROADCAST) === 0 && isBroadcastAddr(st, daddr)) return -EACCES;
  if (hdrincl) {
    if (len < IP_HLEN) return -EINVAL;
    if (len > IP_MAX_PACKET) return -EMSGSIZE;
  } else if (len > IP_MAX_PACKET - IP_HLEN) {
    return -EMSGSIZE;
  }
  const p = st.pool;
  const skb = p.alloc(len);
  if (skb === SKB_NONE) {
    st.mib.raw[RAW_OUTERRORS]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, len);
  if (o < 0) {
    p.free(skb);
    st.mib.raw[RAW_OUTERRORS]++;
    return -ENOBUFS;
  }
  copyBytes(p.buf[skb], o, buf, off, len);
  let rc: number;
  if (hdrincl) {
    p.nh[skb] = o;
    rc = ipSendHdrincl(st, skb);
  } else {
    p.th[skb] = o;
    const ttl = s.ttl[fd] < 0 ? st.cfg.ipDefaultTtl : s.ttl[fd];
    rc = ipBuildAndSendOif(st, skb, s.laddr[fd], daddr, s.proto[fd], ttl, s.tos[fd], false, s.oif[fd]);
  }
  if (rc < 0) {
    st.mib.raw[RAW_OUTERRORS]++;
    return rc;
  }
  st.mib.raw[RAW_OUTDATAGRAMS]++;
  return len;
}
