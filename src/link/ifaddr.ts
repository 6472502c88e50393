/*
 * ifaddr.ts — IPv4 addresses configured on devices (struct in_ifaddr
 * hanging off in_device). Read by ARP (is this target ours?) and by IP
 * (local delivery, source selection, broadcast). A fixed table.
 * Addresses are held as s32 (src/core/inaddr.ts, docs/CODING.md "IPv4
 * addresses"); every method normalizes its address arguments with s32(),
 * so callers still passing the unsigned form keep working.
 */
import { s32 } from '../core/bits';
import { prefixMask, INADDR_BROADCAST } from '../core/inaddr';

export { prefixMask };

export class IfAddrTable {
  readonly max: number;
  readonly addr: Int32Array;
  readonly mask: Int32Array;
  readonly prefix: Int32Array;
  readonly dev: Int32Array;
  count = 0;
  constructor(max: number) {
    this.max = max;
    this.addr = new Int32Array(max);
    this.mask = new Int32Array(max);
    this.prefix = new Int32Array(max);
    this.dev = new Int32Array(max);
  }

  /** Add addr/prefixLen on dev. Returns the slot or -1 when full/duplicate. */
  add(dev: number, addr: number, prefixLen: number): number {
    const a = s32(addr);
    if (this.find(a) >= 0) return -1;
    if (this.count >= this.max || prefixLen < 0 || prefixLen > 32) return -1;
    const i = this.count++;
    this.addr[i] = a;
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
    const a = s32(addr);
    for (let i = 0; i < this.count; i++) if (this.addr[i] === a) return i;
    return -1;
  }

  /** addr is configured on dev (ARP target check, RFC 826). */
  onDev(dev: number, addr: number): boolean {
    const a = s32(addr);
    for (let i = 0; i < this.count; i++) if (this.dev[i] === dev && this.addr[i] === a) return true;
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
    const a = s32(addr);
    if (a === INADDR_BROADCAST) return true;
    for (let i = 0; i < this.count; i++) {
      if (this.dev[i] !== dev || this.prefix[i] >= 31) continue;
      const m = this.mask[i];
      if ((a & m) === (this.addr[i] & m) && (a | m) === INADDR_BROADCAST) return true;
    }
    return false;
  }
}

/**
 * "192.0.2.1" → the address as s32, or null when malformed (-1 is now a
 * valid address: 255.255.255.255). Allocates: configuration only.
 */
export function parseIp(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3) return null;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j);
      if (c < 48 || c > 57) return null;
    }
    const n = parseInt(p, 10);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return s32(v);
}

/** address (s32 or unsigned) → "a.b.c.d" (allocates: logs and reports only). */
export function formatIp(a: number): string {
  return (
    ((a >>> 24) & 0xff) + '.' + ((a >>> 16) & 0xff) + '.' + ((a >>> 8) & 0xff) + '.' + (a & 0xff)
  );
}

/**
 * parseIp for literals known to be valid (configuration, tests): the s32
 * address, throws on a malformed string. Allocates.
 */
export function parseIpStrict(s: string): number {
  const a = parseIp(s);
  if (a === null) throw new Error('bad IPv4 address: ' + s);
  return a;
}
