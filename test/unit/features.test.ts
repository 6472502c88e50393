/*
 * features.test.ts — the stack with every compile-time feature OFF
 * (src/features.ts; what a small board's Espruino bundle compiles): each
 * switched-off piece fails soft — dropped and counted, or a -errno — and
 * the rest of the stack (ARP, ping, UDP) still works. vi.mock replaces the
 * features module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', () => ({
  FEATURE_FORWARD: false,
  FEATURE_NETFILTER: false,
  FEATURE_RAW: false,
  FEATURE_REASSEMBLY: false,
  FEATURE_FRAGMENT_OUT: false,
  FEATURE_DGRAM_FACADE: false,
  FEATURE_ERRNO_NAMES: false,
  FEATURE_ARP_DUMP: false,
  FEATURE_UDP_SERVICES: false,
  FEATURE_TCP: false,
}));

import * as features from '../../src/features';
import { twoStacks, settle, ipFrame, inject, pattern, addTestProto, EchoRec, Two, MAC_A, MAC_B, IP_A, IP_B } from './ipv4_util';
import { icmpPing } from '../../src/ipv4/icmp';
import { nfRegisterHook, NF_INET_LOCAL_IN, NF_INET_PRE_ROUTING, NF_DROP } from '../../src/ipv4/netfilter';
import { socket, bind, sendto, recvfrom, close } from '../../src/socket/socket';
import { SOCK_RAW, SOCK_DGRAM, IPPROTO_ICMP } from '../../src/socket/sock';
import { EINVAL, EMSGSIZE } from '../../src/core/errno';
import { dgramError } from '../../src/socket/dgram';
import { arpDump } from '../../src/link/arp';
import { parseIpU } from './addr_util';

const ipc = (e: Two, n: string): number => e.b.mib.ipB.get(n);

function done(e: Two): void {
  settle(e, 50);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

describe('compile-time features off (src/features.ts)', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_REASSEMBLY).toBe(false);
    expect(features.FEATURE_RAW).toBe(false);
  });

  it('reassembly off: every fragment for us is dropped and counted, nothing delivered', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const d = pattern(2000, 3);
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id: 5, offset: 0, mf: true, payload: d.subarray(0, 1480) }));
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id: 5, offset: 1480, mf: false, payload: d.subarray(1480) }));
    settle(e, 20);
    expect(t.got.length).toBe(0);
    expect(ipc(e, 'ReasmReqds')).toBe(2);
    expect(ipc(e, 'ReasmFails')).toBe(2);
    expect(ipc(e, 'ReasmOKs')).toBe(0);
    expect(e.b.ip.reasm.active).toBe(0);
    // an unfragmented datagram still goes through
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, payload: d.subarray(0, 100) }));
    settle(e, 20);
    expect(t.got.length).toBe(1);
    done(e);
  });

  it('fragmentation off: a datagram over the MTU is refused with -EMSGSIZE and counted', () => {
    const e = twoStacks();
    const rec = new EchoRec();
    e.a.icmp.echoHandler = rec;
    expect(icmpPing(e.a, IP_B, 1, 1, 3000)).toBe(-EMSGSIZE);
    expect(e.a.mib.ipB.get('FragFails')).toBe(1);
    expect(e.a.mib.ipB.get('FragCreates')).toBe(0);
    // one that fits is sent and answered
    expect(icmpPing(e.a, IP_B, 1, 2, 1000)).toBe(0);
    settle(e, 50);
    expect(rec.replies.length).toBe(1);
    expect(rec.replies[0].seq).toBe(2);
    done(e);
  });

  it('raw sockets off: socket(SOCK_RAW) is -EINVAL, UDP sockets still work', () => {
    const e = twoStacks();
    expect(socket(e.a, SOCK_RAW, IPPROTO_ICMP)).toBe(-EINVAL);
    const fa = socket(e.a, SOCK_DGRAM, 0);
    const fb = socket(e.b, SOCK_DGRAM, 0);
    expect(bind(e.b, fb, 0, 7000)).toBe(0);
    expect(sendto(e.a, fa, Uint8Array.from([1, 2, 3]), 0, 3, IP_B, 7000)).toBe(3);
    settle(e, 50);
    const buf = new Uint8Array(8);
    expect(recvfrom(e.b, fb, buf, 0, 8, null)).toBe(3);
    expect(Array.from(buf.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(e.b.raw.deliver(0, 1)).toBe(false);
    close(e.a, fa);
    close(e.b, fb);
    done(e);
  });

  it('forwarding off: as cfg.ipForward false even when the config asks for it', () => {
    const e = twoStacks({ ipForward: true });
    const t = addTestProto(e.b);
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: parseIpU('198.18.0.1'), payload: pattern(64, 1) }));
    settle(e, 20);
    expect(ipc(e, 'InAddrErrors')).toBe(1);
    expect(ipc(e, 'ForwDatagrams')).toBe(0);
    expect(ipc(e, 'OutNoRoutes')).toBe(0);
    expect(t.got.length).toBe(0);
    done(e);
  });

  it('netfilter off: registered hooks are never run', () => {
    const e = twoStacks();
    let calls = 0;
    const drop = { hook: () => { calls++; return NF_DROP; } };
    expect(nfRegisterHook(e.b, NF_INET_LOCAL_IN, drop, 0)).toBe(0);
    expect(nfRegisterHook(e.b, NF_INET_PRE_ROUTING, drop, 0)).toBe(0);
    const rec = new EchoRec();
    e.a.icmp.echoHandler = rec;
    expect(icmpPing(e.a, IP_B, 9, 1, 32)).toBe(0);
    settle(e, 50);
    expect(calls).toBe(0);
    expect(rec.replies.length).toBe(1);
    done(e);
  });

  it('errno names off: dgram errors carry the number', () => {
    const err = dgramError('bind', -98);
    expect(err.code).toBe('errno 98');
    expect(err.errno).toBe(-98);
  });

  it('ARP dump off: an empty list, the table itself still works', () => {
    const e = twoStacks();
    const rec = new EchoRec();
    e.a.icmp.echoHandler = rec;
    expect(icmpPing(e.a, IP_B, 2, 1, 8)).toBe(0);
    settle(e, 50);
    expect(rec.replies.length).toBe(1);
    expect(arpDump(e.a)).toEqual([]);
    done(e);
  });
});
