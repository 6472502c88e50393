/*
 * udp.ts — UDP (RFC 768). STUB: being implemented.
 */
import type { Stack } from '../stack';

export class UdpTable {}

export function initUdp(st: Stack): UdpTable {
  return st ? new UdpTable() : new UdpTable();
}
