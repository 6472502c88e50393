/*
 * inaddr.test.ts — the s32 IPv4 address convention (src/core/inaddr.ts,
 * docs/CODING.md "IPv4 addresses"): helpers for addresses >= 128.0.0.0,
 * broadcast, multicast, masks; tables and public entry points accept the
 * old unsigned form too. The shared checks also run in Lua (build:lua).
 */
import { describe, it, expect } from 'vitest';
import { inaddrChecks } from '../lua/smoke_inaddr';
import { getAddr, INADDR_BROADCAST, isMulticast, prefixMask } from '../../src/core/inaddr';
import { parseIp, parseIpStrict, formatIp } from '../../src/link/ifaddr';
import { u32 } from '../../src/core/bits';
import { twoStacks, settle } from './ipv4_util';
import { icmpPing } from '../../src/ipv4/icmp';
import { ipSelectSource, ipSelectSrc } from '../../src/ipv4/ip_output';
import { socket, bind, getsockname, close } from '../../src/socket/socket';
import { SOCK_DGRAM } from '../../src/socket/sock';

describe('inaddr helpers', () => {
  it('the cross-runtime checks pass in Node', () => {
    expect(inaddrChecks()).toMatch(/^inaddr=\d+$/);
  });

  it('getAddr yields small integers for every first octet', () => {
    const b = new Uint8Array(4);
    for (let o = 0; o < 256; o++) {
      b[0] = o;
      b[3] = 7;
      const a = getAddr(b, 0);
      expect(a | 0).toBe(a); // int32 range, i.e. a Smi on 64-bit V8
      expect(u32(a)).toBe(o * 0x1000000 + 7);
      expect(isMulticast(a)).toBe(o >= 224 && o <= 239);
    }
  });

  it('parseIp signals errors with null, not -1', () => {
    expect(parseIp('255.255.255.255')).toBe(INADDR_BROADCAST);
    expect(parseIp('')).toBeNull();
    expect(parseIp('1.2.3.4.5')).toBeNull();
    expect(parseIp('1.2.3.-1')).toBeNull();
    expect(() => parseIpStrict('300.0.0.1')).toThrow();
    expect(formatIp(parseIpStrict('203.0.113.254'))).toBe('203.0.113.254');
    expect(prefixMask(31)).toBe(-2);
  });
});

describe('public entry points accept both forms', () => {
  it('ping by signed and unsigned address; select source; socket outputs', () => {
    const e = twoStacks();
    const dst = parseIpStrict('192.0.2.3');
    expect(icmpPing(e.a, dst, 1, 1, 8)).toBe(0);
    expect(icmpPing(e.a, u32(dst), 1, 2, 8)).toBe(0);
    settle(e, 100);
    expect(e.a.mib.icmpB.get('InEchoReps')).toBe(2);
    // ipSelectSource keeps the unsigned result for the TCP layer; ipSelectSrc is s32
    expect(ipSelectSource(e.a, dst)).toBe(0xc0000202);
    expect(ipSelectSrc(e.a, u32(dst))).toBe(parseIpStrict('192.0.2.2'));
    const fd = socket(e.a, SOCK_DGRAM, 0);
    expect(bind(e.a, fd, parseIpStrict('192.0.2.2'), 4000)).toBe(0);
    const ou = new Uint32Array(2);
    const os = new Int32Array(2);
    expect(getsockname(e.a, fd, ou)).toBe(0);
    expect(getsockname(e.a, fd, os)).toBe(0);
    expect([ou[0], ou[1]]).toEqual([0xc0000202, 4000]);
    expect([os[0], os[1]]).toEqual([parseIpStrict('192.0.2.2'), 4000]);
    expect(close(e.a, fd)).toBe(0);
    expect(e.a.pool.inUse() + e.b.pool.inUse()).toBe(0);
  });
});
