/*
 * echo.ts — ICMP and UDP echo workloads over a pair link. Waiting for the
 * IPv4/ICMP/UDP/socket layers.
 */
import type { AllocWorkload } from './alloc';

export function makeIcmpEcho(): AllocWorkload | string {
  return 'ICMP layer not available yet';
}
export function makeUdpEcho(): AllocWorkload | string {
  return 'UDP socket layer not available yet';
}
export function icmpExtra(w: AllocWorkload): { [k: string]: number | string } {
  return w ? {} : {};
}
export function udpExtra(w: AllocWorkload): { [k: string]: number | string } {
  return w ? {} : {};
}
