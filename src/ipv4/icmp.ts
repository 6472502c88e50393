/*
 * icmp.ts — ICMP (RFC 792, RFC 1122 §3.2.2). STUB: being implemented.
 */
import type { Stack } from '../stack';

export class IcmpState {}

export function initIcmp(st: Stack): IcmpState {
  return st ? new IcmpState() : new IcmpState();
}
