/*
 * ip_input.ts — IPv4 receive (net/ipv4/ip_input.c, route.c input side).
 *
 *   eth_type_trans ─► ip_rcv: header checks (RFC 791 §3.1, RFC 1122
 *     §3.2.1: version, IHL, total length, checksum; Ethernet padding
 *     trimmed), martian sources, options (RFC 1122 §3.2.1.8: accepted and
 *     passed up; source routes dropped) ─► [PRE_ROUTING]
 *   ─► ip_rcv_finish / ip_route_input: local or broadcast ─► ip_local_deliver
 *                                      (also unicast UDP to st.ip.acceptUdpPort on a
 *                                      device with no address yet: DHCP, RFC 2131 §4.1)
 *                                      else ip_forward (cfg.ipForward) or drop
 *   ─► ip_local_deliver: ip_defrag when MF or offset != 0 ─► [LOCAL_IN]
 *   ─► ip_local_deliver_finish: pull the IP header; raw sockets get a copy;
 *      the protocol handler (inet_protos) or ICMP protocol unreachable.
 *
 * Also the loopback "device": datagrams sent to our own addresses are
 * queued by ip_output on st.ip.loopQ and fed to ip_rcv from a timer here.
 * Every drop is counted in st.mib.ip (Linux IPSTATS names).
 */
import type { Stack } from '../stack';
import type { TimerHandler } from '../core/timer';
import { SKB_NONE, SkbQueue } from '../core/skb';
import { get16 } from '../core/bytes';
import { getAddr } from '../core/inaddr';
import { ipCompute } from '../core/checksum';
import { u32 } from '../core/bits';
import {
  IP_INRECEIVES, IP_INHDRERRORS, IP_INADDRERRORS, IP_INUNKNOWNPROTOS, IP_INDISCARDS,
  IP_INDELIVERS, IP_INTRUNCATEDPKTS, IP_INCSUMERRORS, IP_REASMREQDS, IP_REASMFAILS,
} from '../core/mib';
import { devAddPack, PacketHandler } from '../link/dev';
import { ETH_P_IP } from '../link/ether';
import {
  IP_VERIHL, IP_TOTLEN, IP_FRAGOFF, IP_PROTO, IP_SADDR, IP_DADDR, IP_HLEN, IP_MF, IP_OFFSET,
  IPOPT_END, IPOPT_NOOP, IPOPT_LSRR, IPOPT_SSRR, INADDR_BROADCAST, IPPROTO_UDP,
  ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, ICMP_PARAMETERPROB,
  isMulticastAddr, isLoopbackAddr, isReservedAddr, isZeroNet,
} from './ip';
import { InetProtocol, RawDeliver, MAX_INET_PROTOS } from './protocol';
import { NfTable, nfHook, NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_ACCEPT, NF_STOLEN } from './netfilter';
import { ReasmTable, ipDefrag } from './ip_fragment';
import { ipForward } from './ip_forward';
import { FEATURE_FORWARD, FEATURE_NETFILTER, FEATURE_REASSEMBLY, FEATURE_DHCP } from '../features';
import { icmpSend } from './icmp';

class IpPacketType implements PacketHandler {
  constructor(readonly st: Stack) {}
  rcv(skb: number): void {
    ipRcv(this.st, skb);
  }
}

/** The loopback device's receive softirq: drain st.ip.loopQ into ip_rcv. */
class LoopbackTimer implements TimerHandler {
  constructor(readonly st: Stack) {}
  onTimer(arg: number): void {
    const st = this.st;
    const ip = st.ip;
    ip.loopRunning = true;
    // replies generated while draining are drained too, up to a bound
    const limit = ip.loopQ.limit * 4 + arg;
    let n = 0;
    while (n < limit) {
      const skb = ip.loopQ.dequeue();
      if (skb === SKB_NONE) break;
      n++;
      ip.loopRx++;
      ipRcv(st, skb);
    }
    ip.loopRunning = false;
    if (ip.loopQ.qlen > 0) st.timers.mod(ip.loopTimer, st.now());
  }
}

export class Ipv4State {
  /** inet_protos[] */
  readonly protos: (InetProtocol | null)[] = [];
  /** raw socket delivery (src/transport/raw.ts installs it) */
  raw: RawDeliver | null = null;
  readonly nf: NfTable;
  readonly reasm: ReasmTable;
  /** next IP identification */
  ipId: number;
  /* ip_route_output results (scratch, read right after the call) */
  outDev = -1;
  /** s32 (src/core/inaddr.ts): always a Smi on V8 */
  outNexthop = 0;
  outSrc = 0;
  /* loopback */
  readonly loopQ: SkbQueue;
  readonly loopTimer: number;
  loopRunning = false;
  loopTx = 0;
  loopRx = 0;
  /** datagrams dropped for carrying a source-route option */
  srrDrops = 0;
  /**
   * UDP port (0 = off) whose unicast datagrams a device with no address
   * delivers whatever their destination (lwIP LWIP_IP_ACCEPT_UDP_PORT): a
   * DHCP server may unicast OFFER/ACK to the offered address before the
   * client has configured it (RFC 2131 §4.1). Set by src/apps/dhcp_client.ts.
   */
  acceptUdpPort = 0;
  /** datagrams delivered through acceptUdpPort */
  unconfDelivers = 0;

  constructor(st: Stack) {
    for (let i = 0; i < MAX_INET_PROTOS; i++) this.protos.push(null);
    this.nf = new NfTable(st.cfg.nfHookSlots);
    this.reasm = new ReasmTable(st);
    this.ipId = st.rng.next32() & 0xffff;
    this.loopQ = new SkbQueue(st.pool, st.cfg.rxRingSize);
    this.loopTimer = st.timers.register(new LoopbackTimer(st), 0);
  }
}

export function initIpv4(st: Stack): Ipv4State {
  const s = new Ipv4State(st);
  devAddPack(st, ETH_P_IP, new IpPacketType(st));
  return s;
}

/**
 * ip_rcv_options (subset of ip_options_compile): walk the options, drop
 * malformed ones (ICMP parameter problem) and source routes. Returns 0 to
 * continue or -1 when the skb was dropped (not freed: caller frees).
 */
function ipRcvOptions(st: Stack, skb: number, nh: number, ihl: number): number {
  const b = st.pool.buf[skb];
  let i = nh + IP_HLEN;
  const end = nh + ihl;
  while (i < end) {
    const t = b[i];
    if (t === IPOPT_END) break;
    if (t === IPOPT_NOOP) {
      i++;
      continue;
    }
    const ol = i + 1 < end ? b[i + 1] : 0;
    if (ol < 2 || i + ol > end) {
      st.mib.ip[IP_INHDRERRORS]++;
      icmpSend(st, skb, ICMP_PARAMETERPROB, 0, u32((i + 1 - nh) * 0x1000000));
      return -1;
    }
    if (t === IPOPT_LSRR || t === IPOPT_SSRR) {
      // accept_source_route = 0 (RFC 1122 §3.3.5 lets a host refuse)
      st.ip.srrDrops++;
      st.mib.ip[IP_INDISCARDS]++;
      return -1;
    }
    i += ol;
  }
  return 0;
}

/** ip_rcv: skb data = nh = IP header, pool.dev = device (-1 loopback). Consumes skb. */
export function ipRcv(st: Stack, skb: number): void {
  const p = st.pool;
  const mib = st.mib.ip;
  const b = p.buf[skb];
  const d = p.data[skb];
  const len = p.tail[skb] - d;
  mib[IP_INRECEIVES]++;
  if (len < IP_HLEN) {
    mib[IP_INHDRERRORS]++;
    p.free(skb);
    return;
  }
  const ihl = (b[d + IP_VERIHL] & 0x0f) * 4;
  if (b[d + IP_VERIHL] >>> 4 !== 4 || ihl < IP_HLEN || ihl > len) {
    mib[IP_INHDRERRORS]++;
    p.free(skb);
    return;
  }
  if (ipCompute(b, d, ihl) !== 0) {
    mib[IP_INCSUMERRORS]++;
    mib[IP_INHDRERRORS]++;
    p.free(skb);
    return;
  }
  const tot = get16(b, d + IP_TOTLEN);
  if (tot > len) {
    mib[IP_INTRUNCATEDPKTS]++;
    p.free(skb);
    return;
  }
  if (tot < ihl) {
    mib[IP_INHDRERRORS]++;
    p.free(skb);
    return;
  }
  p.trim(skb, tot); // Ethernet padding
  p.nh[skb] = d;
  const dev = p.dev[skb];
  const saddr = getAddr(b, d + IP_SADDR);
  let daddr = getAddr(b, d + IP_DADDR);
  // martian sources and destinations (ip_route_input_slow)
  if (
    isMulticastAddr(saddr) ||
    isReservedAddr(saddr) ||
    (isZeroNet(saddr) && daddr !== INADDR_BROADCAST) ||
    (dev >= 0 && (isLoopbackAddr(saddr) || isLoopbackAddr(daddr) || st.ifaddr.isBroadcast(dev, saddr))) ||
    daddr === 0
  ) {
    mib[IP_INADDRERRORS]++;
    p.free(skb);
    return;
  }
  if (ihl > IP_HLEN && ipRcvOptions(st, skb, d, ihl) < 0) {
    p.free(skb);
    return;
  }
  const v = FEATURE_NETFILTER ? nfHook(st, NF_INET_PRE_ROUTING, skb, dev, -1) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return;
    mib[IP_INDISCARDS]++;
    p.free(skb);
    return;
  }
  // ip_rcv_finish → ip_route_input (a hook may have rewritten the header)
  daddr = getAddr(b, p.data[skb] + IP_DADDR);
  if (
    st.ifaddr.isLocal(daddr) ||
    daddr === INADDR_BROADCAST ||
    (dev >= 0 ? st.ifaddr.isBroadcast(dev, daddr) : isLoopbackAddr(daddr))
  ) {
    ipLocalDeliver(st, skb);
    return;
  }
  // a DHCP client's OFFER/ACK before the device has an address (compiled out with FEATURE_DHCP)
  if (FEATURE_DHCP && st.ip.acceptUdpPort !== 0 && dev >= 0 && ipAcceptUnconfigured(st, skb, dev)) {
    st.ip.unconfDelivers++;
    ipLocalDeliver(st, skb);
    return;
  }
  if (FEATURE_FORWARD && st.cfg.ipForward && dev >= 0 && !isMulticastAddr(daddr)) {
    ipForward(st, skb);
    return;
  }
  mib[IP_INADDRERRORS]++;
  p.free(skb);
}

/**
 * A unicast UDP datagram to st.ip.acceptUdpPort arriving on a device that
 * has no address yet (a DHCP client's OFFER/ACK sent to the offered
 * address). First fragments and whole datagrams only. skb data = IP header.
 */
function ipAcceptUnconfigured(st: Stack, skb: number, dev: number): boolean {
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  if (b[d + IP_PROTO] !== IPPROTO_UDP || (get16(b, d + IP_FRAGOFF) & IP_OFFSET) !== 0) return false;
  const ihl = (b[d + IP_VERIHL] & 0x0f) * 4;
  if (p.tail[skb] - d < ihl + 4 || get16(b, d + ihl + 2) !== st.ip.acceptUdpPort) return false;
  if (isMulticastAddr(getAddr(b, d + IP_DADDR))) return false;
  return st.ifaddr.primary(dev) === 0;
}

/**
 * ip_local_deliver: skb data = nh = IP header. Reassembles fragments,
 * runs LOCAL_IN, then ip_local_deliver_finish. Consumes skb.
 */
export function ipLocalDeliver(st: Stack, skb0: number): void {
  const p = st.pool;
  const mib = st.mib.ip;
  let skb = skb0;
  if ((get16(p.buf[skb], p.data[skb] + IP_FRAGOFF) & (IP_MF | IP_OFFSET)) !== 0) {
    if (!FEATURE_REASSEMBLY) {
      // compiled out (src/features.ts): as with no reassembly slots
      mib[IP_REASMREQDS]++;
      mib[IP_REASMFAILS]++;
      p.free(skb);
      return;
    }
    skb = ipDefrag(st, skb);
    if (skb === SKB_NONE) return;
  }
  const v = FEATURE_NETFILTER ? nfHook(st, NF_INET_LOCAL_IN, skb, p.dev[skb], -1) : NF_ACCEPT;
  if (v !== NF_ACCEPT) {
    if (v === NF_STOLEN) return;
    mib[IP_INDISCARDS]++;
    p.free(skb);
    return;
  }
  // ip_local_deliver_finish
  const b = p.buf[skb];
  const nh = p.data[skb];
  p.nh[skb] = nh;
  const proto = b[nh + IP_PROTO];
  p.pull(skb, (b[nh + IP_VERIHL] & 0x0f) * 4);
  p.th[skb] = p.data[skb];
  const raw = st.ip.raw;
  const took = raw !== null && raw.deliver(skb, proto);
  const h = st.ip.protos[proto];
  if (h !== null) {
    mib[IP_INDELIVERS]++;
    h.handler(skb);
    return;
  }
  if (took) {
    mib[IP_INDELIVERS]++;
  } else {
    mib[IP_INUNKNOWNPROTOS]++;
    icmpSend(st, skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
  }
  p.free(skb);
}
