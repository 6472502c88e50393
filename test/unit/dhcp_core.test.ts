/*
 * dhcp_core.test.ts — the three small changes to the stack core that the
 * DHCP client (src/apps/dhcp_client.ts) needs, each on its own:
 *   - ip_rcv: unicast UDP to st.ip.acceptUdpPort on a device with no
 *     address is delivered (an OFFER/ACK sent to the offered address,
 *     RFC 2131 §4.1), and nothing else is;
 *   - udp_rcv: a socket bound to a device (SO_BINDTODEVICE) only gets what
 *     arrives on that device (two DHCP clients on one stack);
 *   - ARP: arpProbe (RFC 5227 §2.1.1: sender IP 0) and the watchers that
 *     see every well-formed ARP packet (conflict detection).
 * Every test ends with every skb back in the pool.
 */
import { describe, it, expect } from 'vitest';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { get16 } from '../../src/core/bytes';
import { getAddr } from '../../src/core/inaddr';
import { IP_INADDRERRORS, LINK_ARPOUTREQUESTS } from '../../src/core/mib';
import { EAGAIN } from '../../src/core/errno';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpStrict } from '../../src/link/ifaddr';
import { arpProbe, arpWatchAdd, arpWatchDel, arpAnnounce, ArpWatcher } from '../../src/link/arp';
import { createPairLink, PairLink } from '../../drivers/pair/pairlink';
import {
  socket, bind, recvfrom, close, setsockopt, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_BINDTODEVICE,
} from '../../src/socket/socket';
import { udpFrame, inject, bytes, MAC_A, MAC_B } from './udp_util';

const SRV = parseIpStrict('192.0.2.1');
const OFFERED = parseIpStrict('192.0.2.100');
const buf = new Uint8Array(2048);
const from = new Int32Array(2);

interface Env {
  clock: ManualClock;
  c: Stack;
  d: Stack;
  l: PairLink;
}

/** c (no address) — d (192.0.2.1/24) on a PairLink. */
function env(): Env {
  const clock = new ManualClock(1000);
  const c = new Stack('c', undefined, clock, undefined);
  const d = new Stack('d', { seed: 5 }, clock, undefined);
  const l = createPairLink(c, d, MAC_A, MAC_B, 1500);
  expect(ifconfig(d, l.devB, '192.0.2.1/24', null)).toBe(0);
  l.open();
  return { clock, c, d, l };
}

function run(e: Env, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    e.clock.advance(10);
    e.c.poll();
    e.d.poll();
  }
}

function udpSock(st: Stack, port: number, dev: number): number {
  const fd = socket(st, SOCK_DGRAM, 0);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(setsockopt(st, fd, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
  if (dev >= 0) expect(setsockopt(st, fd, SOL_SOCKET, SO_BINDTODEVICE, dev)).toBe(0);
  expect(bind(st, fd, 0, port)).toBe(0);
  return fd;
}

function toClient(daddr: number, dport: number, proto?: number): Uint8Array {
  return udpFrame({ saddr: SRV, daddr, sport: 67, dport, payload: bytes(300, 3), proto });
}

describe('ip_rcv: unicast to the DHCP client port on a device without an address', () => {
  it('dropped by default, delivered with st.ip.acceptUdpPort, and only that', () => {
    const e = env();
    const st = e.c;
    const dev = e.l.devA;
    const fd = udpSock(st, 68, -1);
    const drops0 = st.mib.ip[IP_INADDRERRORS];
    // off: not for us
    inject(st, dev, toClient(OFFERED, 68));
    run(e, 20);
    expect(recvfrom(st, fd, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(st.mib.ip[IP_INADDRERRORS]).toBe(drops0 + 1);
    // on: delivered to the socket on 0.0.0.0:68
    st.ip.acceptUdpPort = 68;
    inject(st, dev, toClient(OFFERED, 68));
    run(e, 20);
    expect(recvfrom(st, fd, buf, 0, buf.length, from)).toBe(300);
    expect([from[0], from[1]]).toEqual([SRV, 67]);
    expect(st.ip.unconfDelivers).toBe(1);
    // another port, another protocol, a multicast destination, a later fragment: still dropped
    const fd69 = udpSock(st, 69, -1);
    inject(st, dev, toClient(OFFERED, 69));
    inject(st, dev, toClient(OFFERED, 68, 6));
    inject(st, dev, toClient(parseIpStrict('239.1.2.3'), 68));
    const frag = toClient(OFFERED, 68);
    frag[14 + 6] = 0x00;
    frag[14 + 7] = 0x10; // offset 16 bytes
    frag[14 + 10] = 0;
    frag[14 + 11] = 0;
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += get16(frag, 14 + i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    frag[14 + 10] = (~s >>> 8) & 0xff;
    frag[14 + 11] = ~s & 0xff;
    inject(st, dev, frag);
    run(e, 20);
    expect(recvfrom(st, fd, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(recvfrom(st, fd69, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(st.ip.unconfDelivers).toBe(1);
    // once the device has an address, other destinations are not ours any more
    expect(ifconfig(st, dev, '192.0.2.7/24', null)).toBe(0);
    inject(st, dev, toClient(OFFERED, 68));
    run(e, 20);
    expect(recvfrom(st, fd, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(st.ip.unconfDelivers).toBe(1);
    close(st, fd);
    close(st, fd69);
    run(e, 50);
    expect(st.pool.inUse()).toBe(0);
    expect(e.d.pool.inUse()).toBe(0);
  });
});

describe('udp_rcv: SO_BINDTODEVICE sockets receive only from their device', () => {
  it('two sockets on port 68, one per device: broadcast and unicast reach the right one; an unbound socket hears both', () => {
    const clock = new ManualClock(1000);
    const c = new Stack('c', undefined, clock, undefined);
    const d0 = new Stack('d0', { seed: 5 }, clock, undefined);
    const d1 = new Stack('d1', { seed: 6 }, clock, undefined);
    const l0 = createPairLink(c, d0, MAC_A, MAC_B, 1500);
    const macA1 = new Uint8Array([2, 0, 0, 0, 1, 0x0a]);
    const l1 = createPairLink(c, d1, macA1, new Uint8Array([2, 0, 0, 0, 1, 0x0b]), 1500);
    l0.open();
    l1.open();
    const s0 = udpSock(c, 68, l0.devA);
    const s1 = udpSock(c, 68, l1.devA);
    const poll = (): void => {
      clock.advance(10);
      c.poll();
    };
    // broadcast on dev 1: only s1
    inject(c, l1.devA, udpFrame({ saddr: SRV, daddr: -1, sport: 67, dport: 68, payload: bytes(10, 1), dmac: macA1 }));
    poll();
    expect(recvfrom(c, s0, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(recvfrom(c, s1, buf, 0, buf.length, from)).toBe(10);
    // unicast to an address of dev 0 arriving on dev 0: only s0
    expect(ifconfig(c, l0.devA, '192.0.2.9/24', null)).toBe(0);
    expect(ifconfig(c, l1.devA, '198.51.100.9/24', null)).toBe(0);
    inject(c, l0.devA, udpFrame({ saddr: SRV, daddr: parseIpStrict('192.0.2.9'), sport: 67, dport: 68, payload: bytes(11, 1) }));
    poll();
    expect(recvfrom(c, s1, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(recvfrom(c, s0, buf, 0, buf.length, from)).toBe(11);
    // the same datagram arriving on dev 1 (weak host model): s1, not s0
    inject(c, l1.devA, udpFrame({ saddr: SRV, daddr: parseIpStrict('192.0.2.9'), sport: 67, dport: 68, payload: bytes(12, 1), dmac: macA1 }));
    poll();
    expect(recvfrom(c, s0, buf, 0, buf.length, from)).toBe(-EAGAIN);
    expect(recvfrom(c, s1, buf, 0, buf.length, from)).toBe(12);
    // an unbound socket gets datagrams from both devices
    close(c, s0);
    close(c, s1);
    const any = udpSock(c, 68, -1);
    inject(c, l0.devA, udpFrame({ saddr: SRV, daddr: -1, sport: 67, dport: 68, payload: bytes(13, 1) }));
    inject(c, l1.devA, udpFrame({ saddr: SRV, daddr: -1, sport: 67, dport: 68, payload: bytes(14, 1), dmac: macA1 }));
    poll();
    expect(recvfrom(c, any, buf, 0, buf.length, from)).toBe(13);
    expect(recvfrom(c, any, buf, 0, buf.length, from)).toBe(14);
    close(c, any);
    for (let i = 0; i < 10; i++) poll();
    expect(c.pool.inUse()).toBe(0);
  });
});

class Seen implements ArpWatcher {
  readonly ev: number[][] = [];
  onArpRcv(dev: number, op: number, sip: number, tip: number): void {
    this.ev.push([dev, op, sip, tip]);
  }
}

describe('ARP: RFC 5227 probe and watchers', () => {
  it('arpProbe sends sender IP 0 to the broadcast; watchers see every well-formed packet until removed', () => {
    const e = env();
    const sent: Uint8Array[] = [];
    e.l.a.filter = {
      onFrame(_end, b, o, len) {
        if (get16(b, o + 12) === 0x0806) sent.push(b.slice(o, o + len));
        return true;
      },
    };
    const w = new Seen();
    arpWatchAdd(e.d, w);
    arpWatchAdd(e.d, w); // once only
    expect(e.d.arp.watchers.length).toBe(1);
    const reqs0 = e.c.mib.link[LINK_ARPOUTREQUESTS];
    expect(arpProbe(e.c, e.l.devA, OFFERED)).toBe(0);
    run(e, 20);
    expect(sent.length).toBe(1);
    const f = sent[0];
    for (let i = 0; i < 6; i++) expect(f[i]).toBe(0xff);
    expect([get16(f, 20), getAddr(f, 28), getAddr(f, 38)]).toEqual([1, 0, OFFERED]);
    expect(e.c.mib.link[LINK_ARPOUTREQUESTS]).toBe(reqs0 + 1);
    expect(w.ev).toEqual([[e.l.devB, 1, 0, OFFERED]]);
    // a probe for d's own address is defended: c sees the reply (sender = the address)
    const wc = new Seen();
    arpWatchAdd(e.c, wc);
    expect(arpProbe(e.c, e.l.devA, SRV)).toBe(0);
    run(e, 20);
    expect(wc.ev).toEqual([[e.l.devA, 2, SRV, 0]]);
    // removed: no more calls
    arpWatchDel(e.d, w);
    arpWatchDel(e.d, w);
    expect(arpAnnounce(e.c, e.l.devA, OFFERED)).toBe(0);
    run(e, 20);
    expect(w.ev.length).toBe(2);
    arpWatchDel(e.c, wc);
    run(e, 50);
    expect(e.c.pool.inUse()).toBe(0);
    expect(e.d.pool.inUse()).toBe(0);
  });
});
