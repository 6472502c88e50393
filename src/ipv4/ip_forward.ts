/*
 * ip_forward.ts — forwarding between interfaces (net/ipv4/ip_forward.c),
 * a RFC 1812 subset, active when cfg.ipForward is set.
 *
 *   ip_rcv ─► route input (not local) ─► ip_forward: TTL check (ICMP time
 *   exceeded 11/0), route lookup (ICMP net unreachable 3/0), MTU check
 *   with DF (ICMP fragmentation needed 3/4 with the next-hop MTU,
 *   RFC 1191), TTL decrement with an incremental checksum update
 *   (RFC 1624) ─► [FORWARD] ─► ip_forward_finish ─► [POST_ROUTING]
 *   ─► ip_finish_output (fragment when needed) ─► neigh_output.
 *
 * Directed broadcasts are not forwarded (RFC 2644).
 * No redirects are sent (RFC 1812 §5.2.7.2 makes them a SHOULD; we skip).
 */
import type { Stack } from '../stack';
import { get16, put16 } from '../core/bytes';
import { getAddr } from '../core/inaddr';
import { csumReplace2 } from '../core/checksum';
import {
  IP_INHDRERRORS, IP_INADDRERRORS, IP_INDISCARDS, IP_OUTDISCARDS, IP_FORWDATAGRAMS,
  IP_OUTFORWDATAGRAMS, IP_FRAGFAILS,
} from '../core/mib';
import { getDev } from '../link/dev';
import { PACKET_HOST } from '../link/ether';
import {
  IP_TTL, IP_PROTO, IP_CSUM, IP_DADDR, IP_FRAGOFF, IP_DF,
  ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, ICMP_HOST_UNREACH,
  ICMP_FRAG_NEEDED,
} from './ip';
import { nfHook, NF_INET_FORWARD, NF_INET_POST_ROUTING, NF_ACCEPT, NF_STOLEN } from './netfilter';
import { FEATURE_NETFILTER } from '../features';
import { ipFinishOutput } from './ip_output';
import { icmpSend } from './icmp';

/** ip_forward: skb data = nh = IP header (validated by ip_rcv). Consumes skb. */
export function ipForward(st: Stack, skb: number): void {
  const p = st.pool;
  const mib = st.mib.ip;
  const b = p.buf[skb];
  const nh = p.data[skb];
  if (p.cb3[skb] !== PACKET_HOST) {
    mib[IP_INADDRERRORS]++;
    p.free(skb);
    return;
  }
  const ttl = b[nh + IP_TTL];
  if (ttl <= 1) {
    icmpSend(st, skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
    mib[IP_INHDRERRORS]++;
    p.free(skb);
    return;
  }
  const daddr = getAddr(b, nh + IP_DADDR);
  const rt = st.route;
  const r = rt.lookup(daddr);
  if (r < 0) {
    icmpSend(st, skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
    mib[IP_INADDRERRORS]++;
    p.free(skb);
    return;
  }
  const indev = p.dev[skb];
  const outdev = rt.dev[r];
  if (st.ifaddr.isBroadcast(outdev, daddr)) {
    // directed broadcasts are not forwarded (RFC 2644)
    mib[IP_INADDRERRORS]++;
    p.free(skb);
    return;
  }
  const nexthop = rt.nexthop(r, daddr);
  const nd = getDev(st, outdev);
  if (nd === null || !nd.up) {
    icmpSend(st, skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
    mib[IP_OUTDISCARDS]++;
    p.free(skb);
    return;
  }
  if (p.len(skb) > nd.mtu && (get16(b, nh + IP_FRAGOFF) & IP_DF) !== 0) {
    icmpSend(st, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, nd.mtu);
    mib[IP_FRAGFAILS]++;
    p.free(skb);
    return;
  }
  // ip_decrease_ttl: the TTL shares a 16-bit word with the protocol
  const proto = b[nh + IP_PROTO];
  b[nh + IP_TTL] = (ttl - 1) & 0xff;
  put16(b, nh + IP_CSUM, csumReplace2(get16(b, nh + IP_CSUM), (ttl << 8) | proto, ((ttl - 1) << 8) | proto));
  let v = FEATURE_NETFILTER ? nfHook(st, NF_INET_FORWARD, skb, indev, outdev) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return;
    mib[IP_INDISCARDS]++;
    p.free(skb);
    return;
  }
  // ip_forward_finish
  mib[IP_FORWDATAGRAMS]++;
  mib[IP_OUTFORWDATAGRAMS]++;
  v = FEATURE_NETFILTER ? nfHook(st, NF_INET_POST_ROUTING, skb, indev, outdev) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return;
    mib[IP_OUTDISCARDS]++;
    p.free(skb);
    return;
  }
  ipFinishOutput(st, skb, outdev, nexthop);
}
