/*
 * route.ts — the IPv4 forwarding table (FIB): a fixed array of routes with
 * longest-prefix match (fib_lookup), connected routes per interface and a
 * default gateway. RFC 1122 §3.3.1 (next-hop selection), RFC 1812 §5.2.4.3.
 * Addresses and masks are s32 (src/core/inaddr.ts); add/del/lookup
 * normalize their address arguments, so the unsigned form still works.
 */
import { s32 } from '../core/bits';
import { prefixMask } from '../core/inaddr';

export const RT_NONE = -1;

export class RouteTable {
  readonly max: number;
  readonly dst: Int32Array;
  readonly mask: Int32Array;
  readonly prefix: Int32Array;
  /** next-hop gateway, 0 for directly connected */
  readonly gw: Int32Array;
  readonly dev: Int32Array;
  /** preferred source address, 0 = choose from the device */
  readonly prefsrc: Int32Array;
  readonly metric: Int32Array;
  count = 0;
  lookups = 0;
  misses = 0;

  constructor(max: number) {
    this.max = max;
    this.dst = new Int32Array(max);
    this.mask = new Int32Array(max);
    this.prefix = new Int32Array(max);
    this.gw = new Int32Array(max);
    this.dev = new Int32Array(max);
    this.prefsrc = new Int32Array(max);
    this.metric = new Int32Array(max);
  }

  /** Add a route. Returns its slot, or -1 when full or invalid. Replaces an identical prefix+metric. */
  add(dst: number, prefixLen: number, gw: number, dev: number, metric: number, prefsrc: number): number {
    if (prefixLen < 0 || prefixLen > 32) return -1;
    const m = prefixMask(prefixLen);
    const d = s32(dst) & m;
    let i = 0;
    for (; i < this.count; i++) {
      if (this.dst[i] === d && this.prefix[i] === prefixLen && this.metric[i] === metric) break;
    }
    if (i === this.count) {
      if (this.count >= this.max) return -1;
      this.count++;
    }
    this.dst[i] = d;
    this.mask[i] = m;
    this.prefix[i] = prefixLen;
    this.gw[i] = s32(gw);
    this.dev[i] = dev;
    this.metric[i] = metric;
    this.prefsrc[i] = s32(prefsrc);
    return i;
  }

  del(dst: number, prefixLen: number): boolean {
    const m = prefixMask(prefixLen);
    const d = s32(dst) & m;
    for (let i = 0; i < this.count; i++) {
      if (this.dst[i] === d && this.prefix[i] === prefixLen) {
        this.removeAt(i);
        return true;
      }
    }
    return false;
  }

  /** Remove every route through dev (device down). */
  flushDev(dev: number): void {
    let i = 0;
    while (i < this.count) {
      if (this.dev[i] === dev) this.removeAt(i);
      else i++;
    }
  }

  private removeAt(i: number): void {
    const last = this.count - 1;
    this.dst[i] = this.dst[last];
    this.mask[i] = this.mask[last];
    this.prefix[i] = this.prefix[last];
    this.gw[i] = this.gw[last];
    this.dev[i] = this.dev[last];
    this.metric[i] = this.metric[last];
    this.prefsrc[i] = this.prefsrc[last];
    this.count--;
  }

  /** Longest-prefix match, lowest metric on ties. Returns the slot or RT_NONE. */
  lookup(daddr: number): number {
    this.lookups++;
    const a = s32(daddr);
    let best = RT_NONE;
    for (let i = 0; i < this.count; i++) {
      if ((a & this.mask[i]) !== (this.dst[i] & this.mask[i])) continue;
      if (
        best === RT_NONE ||
        this.prefix[i] > this.prefix[best] ||
        (this.prefix[i] === this.prefix[best] && this.metric[i] < this.metric[best])
      ) {
        best = i;
      }
    }
    if (best === RT_NONE) this.misses++;
    return best;
  }

  /** Next hop for daddr through route i. */
  nexthop(i: number, daddr: number): number {
    const g = this.gw[i];
    return g !== 0 ? g : s32(daddr);
  }
}
