/*
 * smoke_inaddr.ts — IPv4 address helpers (src/core/inaddr.ts) checked the
 * same way in Node (test/unit/inaddr.test.ts) and in Lua 5.3 (the
 * build:lua smoke), where integers are 64-bit and `<<`, `>>>`, `&` on
 * negative numbers behave differently: addresses >= 128.0.0.0, the
 * limited broadcast, multicast, masks and masked comparisons.
 * Throws on the first failed check; returns a summary for the smoke line.
 */
import { u32, s32 } from '../../src/core/bits';
import {
  getAddr, putAddr, INADDR_ANY, INADDR_BROADCAST, INADDR_NONE, INADDR_LOOPBACK, prefixMask, isMulticast,
  isLoopback, isZeronet, isReserved, isLimitedBroadcast, sameNet, inAddr,
} from '../../src/core/inaddr';
import { parseIp, formatIp, IfAddrTable } from '../../src/link/ifaddr';
import { RouteTable } from '../../src/ipv4/route';
import { csumTcpUdpMagic } from '../../src/core/checksum';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('inaddr: ' + what);
}

export function inaddrChecks(): string {
  let n = 0;
  const b = new Uint8Array(8);
  b[0] = 192; b[1] = 0; b[2] = 2; b[3] = 1;
  b[4] = 255; b[5] = 255; b[6] = 255; b[7] = 255;
  const a = getAddr(b, 0);
  check(a === -1073741311 && a === s32(0xc0000201), 'getAddr 192.0.2.1 is s32'); n++;
  check(getAddr(b, 4) === INADDR_BROADCAST && INADDR_BROADCAST === -1, 'getAddr broadcast'); n++;
  b[0] = 10; b[1] = 1; b[2] = 2; b[3] = 3;
  check(getAddr(b, 0) === 0x0a010203, 'getAddr below 2^31'); n++;
  // putAddr takes either form and masks every byte
  putAddr(b, 0, a);
  check(b[0] === 192 && b[1] === 0 && b[2] === 2 && b[3] === 1, 'putAddr s32'); n++;
  putAddr(b, 4, 0xc6120005);
  check(b[4] === 198 && b[5] === 18 && b[6] === 0 && b[7] === 5, 'putAddr unsigned'); n++;
  check(getAddr(b, 4) === inAddr(0xc6120005) && u32(getAddr(b, 4)) === 0xc6120005, 'round trip'); n++;
  // parse / format
  check(parseIp('192.0.2.1') === a, 'parseIp s32'); n++;
  check(parseIp('255.255.255.255') === -1 && parseIp('0.0.0.0') === INADDR_ANY, 'parseIp edges'); n++;
  check(parseIp('1.2.3') === null && parseIp('256.1.1.1') === null && parseIp('a.b.c.d') === null, 'parseIp errors'); n++;
  check(formatIp(a) === '192.0.2.1' && formatIp(0xc0000201) === '192.0.2.1', 'formatIp both forms'); n++;
  check(formatIp(-1) === '255.255.255.255' && formatIp(INADDR_LOOPBACK) === '127.0.0.1', 'formatIp edges'); n++;
  // masks
  check(prefixMask(0) === 0 && prefixMask(32) === -1 && prefixMask(24) === -256, 'prefixMask s32'); n++;
  check(prefixMask(1) === s32(0x80000000) && prefixMask(8) === s32(0xff000000), 'prefixMask /1 /8'); n++;
  const m24 = prefixMask(24);
  const other = parseIp('192.0.2.200') as number;
  const far = parseIp('192.0.3.1') as number;
  const low = parseIp('64.0.2.1') as number;
  check(sameNet(a, other, m24) && !sameNet(a, far, m24), 'sameNet /24'); n++;
  check((a & m24) === (other & m24) && (a & m24) !== (far & m24), 'masked compare'); n++;
  check(!sameNet(a, low, prefixMask(1)) && sameNet(a, far, prefixMask(16)), 'sameNet /1 /16'); n++;
  check(sameNet(a, low, 0), 'sameNet /0'); n++;
  check(((parseIp('192.0.2.255') as number) | m24) === INADDR_BROADCAST, 'host bits all ones'); n++;
  // classification with >>> and a mask, never < / >= on the raw value
  check(isMulticast(parseIp('224.0.0.1') as number) && isMulticast(parseIp('239.255.255.255') as number), 'multicast'); n++;
  check(!isMulticast(a) && !isMulticast(-1) && !isMulticast(parseIp('223.255.255.255') as number), 'not multicast'); n++;
  check(isMulticast(0xe0000001), 'multicast unsigned form'); n++;
  check(isReserved(-1) && isReserved(parseIp('240.0.0.1') as number) && !isReserved(a), 'class E'); n++;
  check(isLoopback(INADDR_LOOPBACK) && !isLoopback(a) && isZeronet(parseIp('0.1.2.3') as number), 'loopback/zeronet'); n++;
  check(isLimitedBroadcast(-1) && isLimitedBroadcast(0xffffffff) && !isLimitedBroadcast(a), 'limited broadcast'); n++;
  check(INADDR_NONE === INADDR_BROADCAST, 'INADDR_NONE'); n++;
  // the pseudo-header sum is the same for both forms
  check(csumTcpUdpMagic(a, -1, 8, 17) === csumTcpUdpMagic(0xc0000201, 0xffffffff, 8, 17), 'pseudo header'); n++;
  check(csumTcpUdpMagic(a, -1, 8, 17) === 0xc000 + 0x0201 + 0xffff + 0xffff + 8 + 17, 'pseudo header value'); n++;
  // tables normalize: the unsigned form finds the s32 entry
  const ifa = new IfAddrTable(2);
  check(ifa.add(0, 0xc0000201, 24) === 0 && ifa.addr[0] === a, 'ifaddr add unsigned'); n++;
  check(ifa.isLocal(a) && ifa.isLocal(0xc0000201) && ifa.find(a) === 0, 'ifaddr find both forms'); n++;
  check(ifa.isBroadcast(0, parseIp('192.0.2.255') as number) && ifa.isBroadcast(0, 0xc00002ff), 'directed broadcast'); n++;
  check(ifa.isBroadcast(0, -1) && ifa.isBroadcast(0, 0xffffffff) && !ifa.isBroadcast(0, other), 'broadcast'); n++;
  const rt = new RouteTable(4);
  check(rt.add(0, 0, 0xc0000201, 0, 0, 0) >= 0 && rt.add(a, 24, 0, 1, 0, a) >= 0, 'route add'); n++;
  const r1 = rt.lookup(0xc00002fe);
  check(r1 >= 0 && rt.dev[r1] === 1 && rt.nexthop(r1, 0xc00002fe) === s32(0xc00002fe), 'route lookup /24'); n++;
  const r2 = rt.lookup(parseIp('203.0.113.9') as number);
  check(r2 >= 0 && rt.prefix[r2] === 0 && rt.nexthop(r2, 1) === a, 'route default via s32 gw'); n++;
  check(rt.del(0xc0000200, 24) && rt.lookup(a) === r2, 'route del unsigned'); n++;
  return 'inaddr=' + n;
}
