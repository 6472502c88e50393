/*
 * arp.ts — ARP (RFC 826, RFC 1122 §2.3.2) and the neighbour table.
 * STUB: being implemented. Contract:
 *   initArp(st)                      create the table, register ETH_P_ARP and a netdev notifier
 *   neighOutput(st, skb, dev, nexthop)  send skb (data at the IP header) to nexthop on dev:
 *                                    push Ethernet header and devQueueXmit when resolved, else
 *                                    queue (bounded) and send a request. Always consumes skb.
 *                                    Returns 0 or -errno.
 */
import type { Stack } from '../stack';
import { EHOSTUNREACH } from '../core/errno';

export class ArpTable {
  constructor(readonly size: number) {}
}

export function initArp(st: Stack): ArpTable {
  return new ArpTable(st.cfg.arpTableSize);
}

export function neighOutput(st: Stack, skb: number, dev: number, nexthop: number): number {
  st.pool.free(skb);
  return dev < 0 || nexthop < 0 ? -EHOSTUNREACH : -EHOSTUNREACH;
}
