/*
 * ip_input.ts — IPv4 receive (net/ipv4/ip_input.c). STUB: being implemented.
 */
import type { Stack } from '../stack';

export class Ipv4State {}

export function initIpv4(st: Stack): Ipv4State {
  return st ? new Ipv4State() : new Ipv4State();
}
