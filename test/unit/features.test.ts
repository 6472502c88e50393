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
  FEATURE_TCP_SACK: false,
  FEATURE_TCP_RACK: false,
  FEATURE_TCP_TIMESTAMPS: false,
  FEATURE_TCP_WSCALE: false,
  FEATURE_TCP_OOO: false,
  FEATURE_TCP_SYNCOOKIES: false,
  FEATURE_TCP_KEEPALIVE: false,
  FEATURE_TCP_PMTU: false,
  FEATURE_MIB_NAMES: false,
  FEATURE_DHCP: false,
  FEATURE_DNS: false,
  // a runtime switch, not a feature: the Node build (the native Espruino paths: espruino_native.test.ts)
  RUNTIME_ESPRUINO: false,
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
import {
  MibBlock, IP_NAMES, ICMP_NAMES, UDP_NAMES, LINK_NAMES, RAW_NAMES, DEV_NAMES,
  IP_COUNT, ICMP_COUNT, UDP_COUNT, LINK_COUNT, RAW_COUNT, DEV_COUNT,
  IP_INADDRERRORS, IP_FORWDATAGRAMS, IP_OUTNOROUTES, IP_REASMREQDS, IP_REASMFAILS, IP_REASMOKS,
  IP_FRAGFAILS, IP_FRAGCREATES, IP_INHDRERRORS, ICMP_INECHOS, ICMP_OUTECHOREPS, LINK_RXFRAMES,
  DEV_RX_PACKETS,
} from '../../src/core/mib';
import { IntMibBlock, TCP_NAMES, TCPEXT_NAMES, TCP_COUNT, TCPEXT_COUNT, TCP_INSEGS } from '../../src/transport/tcp/tcp';

/* counter names are compiled out too (FEATURE_MIB_NAMES): read by index */
const ipc = (e: Two, i: number): number => e.b.mib.ip[i];

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

  it('the mock covers every switch src/features.ts declares', async () => {
    const real = await vi.importActual<typeof import('../../src/features')>('../../src/features');
    expect(Object.keys(features).sort()).toEqual(Object.keys(real).sort());
  });

  it('reassembly off: every fragment for us is dropped and counted, nothing delivered', () => {
    const e = twoStacks();
    const t = addTestProto(e.b);
    const d = pattern(2000, 3);
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id: 5, offset: 0, mf: true, payload: d.subarray(0, 1480) }));
    inject(e.b, e.link.devB, ipFrame({ dstMac: MAC_B, srcMac: MAC_A, saddr: IP_A, daddr: IP_B, id: 5, offset: 1480, mf: false, payload: d.subarray(1480) }));
    settle(e, 20);
    expect(t.got.length).toBe(0);
    expect(ipc(e, IP_REASMREQDS)).toBe(2);
    expect(ipc(e, IP_REASMFAILS)).toBe(2);
    expect(ipc(e, IP_REASMOKS)).toBe(0);
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
    expect(e.a.mib.ip[IP_FRAGFAILS]).toBe(1);
    expect(e.a.mib.ip[IP_FRAGCREATES]).toBe(0);
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
    expect(ipc(e, IP_INADDRERRORS)).toBe(1);
    expect(ipc(e, IP_FORWDATAGRAMS)).toBe(0);
    expect(ipc(e, IP_OUTNOROUTES)).toBe(0);
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

  it('MIB names off: every block keeps its counters (same count, same index) under "c<i>" names', () => {
    const e = twoStacks();
    const m = e.b.mib;
    const sizes: [MibBlock, number][] = [[m.ipB, IP_COUNT], [m.icmpB, ICMP_COUNT], [m.udpB, UDP_COUNT], [m.linkB, LINK_COUNT], [m.rawB, RAW_COUNT]];
    for (const [blk, n] of sizes) {
      expect(blk.names).toBe(null);
      expect(blk.v.length).toBe(n);
      const keys = Object.keys(blk.toObject());
      expect(keys.length).toBe(n);
      expect(keys[0]).toBe('c0');
      expect(keys[n - 1]).toBe('c' + (n - 1));
    }
    const dev = e.b.link.devs[e.link.devB].stats;
    expect(dev.names).toBe(null);
    expect(dev.v.length).toBe(DEV_COUNT);
    // the counters still count, at their usual indexes
    const rec = new EchoRec();
    e.a.icmp.echoHandler = rec;
    expect(icmpPing(e.a, IP_B, 3, 1, 16)).toBe(0);
    settle(e, 50);
    expect(rec.replies.length).toBe(1);
    expect(m.icmp[ICMP_INECHOS]).toBe(1);
    expect(m.icmpB.get('c' + ICMP_INECHOS)).toBe(1);
    expect(m.icmpB.toObject()['c' + ICMP_OUTECHOREPS]).toBe(1);
    expect(m.linkB.get('c' + LINK_RXFRAMES)).toBeGreaterThan(0);
    expect(dev.get('c' + DEV_RX_PACKETS)).toBe(dev.v[DEV_RX_PACKETS]);
    expect(dev.v[DEV_RX_PACKETS]).toBeGreaterThan(0);
    // a real name is unknown (-1), as is an index past the block
    expect(m.icmpB.get('InEchos')).toBe(-1);
    expect(m.ipB.get('c' + IP_COUNT)).toBe(-1);
    expect(m.toObject().Icmp['c' + ICMP_INECHOS]).toBe(1);
    done(e);
  });

  it('MIB names off: MibBlock/IntMibBlock built with null names and a count', () => {
    const b = new MibBlock('X', null, 3);
    b.v[IP_INHDRERRORS] = 7;
    expect(b.toObject()).toEqual({ c0: 0, c1: 7, c2: 0 });
    expect(b.get('c1')).toBe(7);
    expect(b.get('InHdrErrors')).toBe(-1);
    expect(b.nameOf(2)).toBe('c2');
    const t = new IntMibBlock('Tcp', null, TCP_COUNT);
    expect(t.iv.length).toBe(TCP_COUNT);
    expect(t.v.length).toBe(TCP_COUNT);
    t.iv[TCP_INSEGS] = 5;
    expect(t.get('c' + TCP_INSEGS)).toBe(5);
    expect(Object.keys(t.toObject()).length).toBe(TCP_COUNT);
    // with names (the default build) the same block reads by name
    const named = new MibBlock('Ip', IP_NAMES, IP_COUNT);
    named.v[IP_INHDRERRORS] = 4;
    expect(named.get('InHdrErrors')).toBe(4);
    expect(named.nameOf(IP_INHDRERRORS)).toBe('InHdrErrors');
  });

  it('every *_COUNT matches its names list (the block size never comes from the names)', () => {
    const pairs: [string[], number][] = [
      [IP_NAMES, IP_COUNT], [ICMP_NAMES, ICMP_COUNT], [UDP_NAMES, UDP_COUNT], [LINK_NAMES, LINK_COUNT],
      [RAW_NAMES, RAW_COUNT], [DEV_NAMES, DEV_COUNT], [TCP_NAMES, TCP_COUNT], [TCPEXT_NAMES, TCPEXT_COUNT],
    ];
    for (const [names, n] of pairs) expect(names.length).toBe(n);
  });
});
