/*
 * ifaddr.ts — IPv4 addresses configured on devices (struct in_ifaddr
 * hanging off in_device). Read by ARP (is this target ours?) and by IP
 * (local delivery, source selection, broadcast). A fixed table.
 * Addresses are unsigned 32-bit numbers in host order.
 */
import { u32 } from '../core/bits';

export class IfAddrTable {
  readonly max: number;
  readonly addr: Float64Array;
  readonly mask: Float64Array;
  readonly prefix: Int32Array;
  readonly dev: Int32Array;
  count = 0;
  constructor(max: number) {
    this.max = max;
    this.addr = new Float64Array(max);
    this.mask = new Float64Array(max);
    this.prefix = new Int32Array(max);
    this.dev = new Int32Array(max);
  }

  /** Add addr/prefixLen on dev. Returns the slot or -1 when full/duplicate. */
  add(dev: number, addr: number, prefixLen: number): number {
    if (this.find(addr) >= 0) return -1;
    if (this.count >= this.max || prefixLen < 0 || prefixLen > 32) return -1;
    const i = this.count++;
    this.addr[i] = u32(addr);
    this.mask[i] = prefixMask(prefixLen);
    this.prefix[i] = prefixLen;
    this.dev[i] = dev;
    return i;
  }

  remove(addr: number): boolean {
    const i = this.find(addr);
    if (i < 0) return false;
    const last = this.count - 1;
    this.addr[i] = this.addr[last];
    this.mask[i] = this.mask[last];
    this.prefix[i] = this.prefix[last];
    this.dev[i] = this.dev[last];
    this.count--;
    return true;
  }

  /** Slot holding addr, or -1. */
  find(addr: number): number {
    for (let i = 0; i < this.count; i++) if (this.addr[i] === addr) return i;
    return -1;
  }

  /** addr is configured on dev (ARP target check, RFC 826). */
  onDev(dev: number, addr: number): boolean {
    for (let i = 0; i < this.count; i++) if (this.dev[i] === dev && this.addr[i] === addr) return true;
    return false;
  }

  /** First (primary) address of dev, or 0 when none. */
  primary(dev: number): number {
    for (let i = 0; i < this.count; i++) if (this.dev[i] === dev) return this.addr[i];
    return 0;
  }

  /** addr is a local unicast address of any device (inet_addr_type == RTN_LOCAL). */
  isLocal(addr: number): boolean {
    return this.find(addr) >= 0;
  }

  /** addr is the limited broadcast or a directed broadcast of one of dev's subnets. */
  isBroadcast(dev: number, addr: number): boolean {
    if (addr === 0xffffffff) return true;
    for (let i = 0; i < this.count; i++) {
      if (this.dev[i] !== dev || this.prefix[i] >= 31) continue;
      const m = this.mask[i];
      if (u32(addr & m) === u32(this.addr[i] & m) && u32(addr | m) === 0xffffffff) return true;
    }
    return false;
  }
}

/** Netmask for a prefix length, as an unsigned 32-bit number. */
export function prefixMask(len: number): number {
  if (len <= 0) return 0;
  if (len >= 32) return 0xffffffff;
  return u32(0xffffffff - (Math.pow(2, 32 - len) - 1));
}

/** "192.0.2.1" → number, or -1 when malformed (allocates: configuration only). */
export function parseIp(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3) return -1;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j);
      if (c < 48 || c > 57) return -1;
    }
    const n = parseInt(p, 10);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

/** number → "a.b.c.d" (allocates: logs and reports only). */
export function formatIp(a: number): string {
  return (
    ((a >>> 24) & 0xff) + '.' + ((a >>> 16) & 0xff) + '.' + ((a >>> 8) & 0xff) + '.' + (a & 0xff)
  );
}
