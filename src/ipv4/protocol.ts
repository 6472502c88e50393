/*
 * protocol.ts — the inet protocol table (net/ipv4/protocol.c,
 * inet_protos[] / inet_add_protocol) and the raw-socket delivery slot.
 * ip_local_deliver_finish looks up the transport handler here by the
 * IP protocol number; icmp_rcv looks up the errHandler (err_handler)
 * for the protocol quoted in an ICMP error.
 */
import type { Stack } from '../stack';
import { EEXIST, EINVAL } from '../core/errno';

export interface InetProtocol {
  /**
   * Receive: skb data = th = transport header, nh = IP header offset,
   * pool.dev = receiving device (-1 for loopback). Consumes the skb.
   */
  handler(skb: number): void;
  /**
   * An ICMP error about a datagram of this protocol: skb data at the
   * inner (quoted) IP header, at least its header + 8 bytes present.
   * type/code from the ICMP header; info = next-hop MTU for
   * ICMP_FRAG_NEEDED, the pointer for ICMP_PARAMETERPROB, else 0.
   * Must not free the skb.
   */
  errHandler(skb: number, type: number, code: number, info: number): void;
}

/**
 * Raw sockets (raw_local_deliver): called by ip_local_deliver before the
 * protocol handler, with data = th = transport header and nh = IP header.
 * Takes copies; never frees or changes the skb. Returns true if any raw
 * socket took a copy (then an unknown protocol is not an error).
 */
export interface RawDeliver {
  deliver(skb: number, proto: number): boolean;
}

export const MAX_INET_PROTOS = 256;

/** inet_add_protocol. 0, -EEXIST when taken, -EINVAL for a bad number. */
export function inetAddProtocol(st: Stack, proto: number, h: InetProtocol): number {
  if (proto < 0 || proto >= MAX_INET_PROTOS) return -EINVAL;
  const t = st.ip.protos;
  if (t[proto] !== null) return -EEXIST;
  t[proto] = h;
  return 0;
}

/** inet_del_protocol. */
export function inetDelProtocol(st: Stack, proto: number, h: InetProtocol): number {
  if (proto < 0 || proto >= MAX_INET_PROTOS) return -EINVAL;
  const t = st.ip.protos;
  if (t[proto] !== h) return -EINVAL;
  t[proto] = null;
  return 0;
}

/** Install (or remove with null) the raw delivery hook. */
export function inetSetRaw(st: Stack, r: RawDeliver | null): void {
  st.ip.raw = r;
}
