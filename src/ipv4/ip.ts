/*
 * ip.ts — IPv4 header layout and protocol constants (RFC 791 §3.1,
 * include/uapi/linux/ip.h, in.h, icmp.h). The one place IPv4 and ICMP
 * offsets, flags and numbers are defined. Addresses are s32 numbers in
 * host order (src/core/inaddr.ts; read with getAddr/ipSaddr/ipDaddr).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   |         Identification        |Flags|      Fragment Offset    |
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options                    |    Padding    |
 */
import { getAddr, isMulticast, isLoopback, isReserved, isZeronet } from '../core/inaddr';

/* ---- header offsets ---- */
export const IP_VERIHL = 0;
export const IP_TOS = 1;
export const IP_TOTLEN = 2;
export const IP_ID = 4;
export const IP_FRAGOFF = 6;
export const IP_TTL = 8;
export const IP_PROTO = 9;
export const IP_CSUM = 10;
export const IP_SADDR = 12;
export const IP_DADDR = 16;
export const IP_OPTIONS = 20;

export const IP_HLEN = 20;
export const IP_MAX_HLEN = 60;
export const IP_MAX_PACKET = 65535;
/** RFC 791 / RFC 1122 §3.3.2: every host accepts 576-byte datagrams */
export const IP_MIN_REASM = 576;

/* ---- frag_off field (16 bits) ---- */
export const IP_CE = 0x8000;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFSET = 0x1fff;

/* ---- TOS ---- */
export const IPTOS_TOS_MASK = 0x1e;
export const IPTOS_PREC_INTERNETCONTROL = 0xc0;

/* ---- options (RFC 791 §3.1) ---- */
export const IPOPT_END = 0;
export const IPOPT_NOOP = 1;
export const IPOPT_COPY = 0x80;
export const IPOPT_RR = 7;
export const IPOPT_LSRR = 0x83;
export const IPOPT_SSRR = 0x89;
export const IPOPT_TS = 0x44;
export const IPOPT_RA = 0x94;

/* ---- protocol numbers ---- */
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_RAW = 255;

/* ---- special addresses (s32 form, src/core/inaddr.ts) ---- */
export { INADDR_ANY, INADDR_BROADCAST, INADDR_LOOPBACK } from '../core/inaddr';

export function isMulticastAddr(a: number): boolean {
  return isMulticast(a);
}

export function isLoopbackAddr(a: number): boolean {
  return isLoopback(a);
}

/** Class E (240/4) incl. the limited broadcast. */
export function isReservedAddr(a: number): boolean {
  return isReserved(a);
}

/** 0.0.0.0/8 "this network". */
export function isZeroNet(a: number): boolean {
  return isZeronet(a);
}

/** Source address of the IP header at nh, as s32. */
export function ipSaddr(b: Uint8Array, nh: number): number {
  return getAddr(b, nh + IP_SADDR);
}

/** Destination address of the IP header at nh, as s32. */
export function ipDaddr(b: Uint8Array, nh: number): number {
  return getAddr(b, nh + IP_DADDR);
}

export function ipHdrLen(b: Uint8Array, nh: number): number {
  return (b[nh + IP_VERIHL] & 0x0f) * 4;
}

/* ---- ICMP (RFC 792) ---- */
export const ICMP_HLEN = 8;
export const ICMP_TYPE = 0;
export const ICMP_CODE = 1;
export const ICMP_CSUM = 2;
/** echo identifier / unused / gateway / pointer / next-hop MTU word */
export const ICMP_ID = 4;
export const ICMP_SEQ = 6;
export const ICMP_UN = 4;

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_ROUTERADVERT = 9;
export const ICMP_ROUTERSOLICIT = 10;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;
export const ICMP_INFO_REQUEST = 15;
export const ICMP_INFO_REPLY = 16;
export const ICMP_ADDRESS = 17;
export const ICMP_ADDRESSREPLY = 18;

/* codes for ICMP_DEST_UNREACH */
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
/* codes for ICMP_TIME_EXCEEDED */
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

/** Types that are errors (RFC 1122 §3.2.2: never answer an error with an error). */
export function icmpIsError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETERPROB
  );
}
