/*
 * udp.test.ts — UDP (src/transport/udp.ts) between two stacks on a
 * PairLink, plus hand-made malformed datagrams injected off the wire.
 * Every test ends with all sockets closed and every skb back in the pool.
 */
import { describe, it, expect } from 'vitest';
import { EV_READABLE, EV_ERROR, Stack } from '../../src/stack';
import {
  UDP_INDATAGRAMS, UDP_NOPORTS, UDP_INERRORS, UDP_OUTDATAGRAMS, UDP_RCVBUFERRORS, UDP_INCSUMERRORS,
  UDP_IGNOREDMULTI, UDP_SNDBUFERRORS, ICMP_OUTDESTUNREACHS, ICMP_INDESTUNREACHS, IP_REASMOKS, IP_FRAGCREATES,
} from '../../src/core/mib';
import { EAGAIN, ECONNREFUSED, ENOBUFS, ENETUNREACH } from '../../src/core/errno';
import { ManualClock } from '../../src/core/clock';
import { get16, get32 } from '../../src/core/bytes';
import { csumFold, csumPartial, csumTcpUdpMagic } from '../../src/core/checksum';
import { ifconfig } from '../../src/ipv4/devinet';
import { createPairLink } from '../../drivers/pair/pairlink';
import {
  socket, bind, connect, sendto, send, recvfrom, recvLen, close, setsockopt, poll, sockErr,
  SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, SO_BROADCAST, SO_BINDTODEVICE, SOL_IP, IP_TTL,
} from '../../src/socket/socket';
import { udpErr } from '../../src/transport/udp';
import { twoStacks, run, udpFrame, inject, bytes, Env, IP_A, IP_B, BCAST, MAC_A, MAC_B } from './udp_util';

class EvLog {
  ev: number[][] = [];
  onSocketEvent(fd: number, e: number): void {
    this.ev.push([fd, e]);
  }
  count(fd: number, bit: number): number {
    let n = 0;
    for (const x of this.ev) if (x[0] === fd && (x[1] & bit) !== 0) n++;
    return n;
  }
}

function udpSock(st: Stack, port: number): number {
  const fd = socket(st, SOCK_DGRAM, 0);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(bind(st, fd, 0, port)).toBe(0);
  return fd;
}

function finish(e: Env, fds: [Stack, number][]): void {
  for (const x of fds) expect(close(x[0], x[1])).toBe(0);
  run(e, 100);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

/**
 * Resolve ARP both ways first (one datagram each way): while a neighbour is
 * unresolved only cfg.arpQueueLen datagrams wait, the rest fail -ENOBUFS.
 */
function primeArp(e: Env, sa: number, sb: number): void {
  const pa = e.a.sock.lport[sa];
  const pb = e.b.sock.lport[sb];
  expect(sendto(e.a, sa, buf, 0, 1, IP_B, pb)).toBe(1);
  run(e, 50);
  expect(recvfrom(e.b, sb, buf, 0, 10, null)).toBe(1);
  expect(sendto(e.b, sb, buf, 0, 1, IP_A, pa)).toBe(1);
  run(e, 50);
  expect(recvfrom(e.a, sa, buf, 0, 10, null)).toBe(1);
  e.a.mib.udp.fill(0);
  e.b.mib.udp.fill(0);
}

const buf = new Uint8Array(70000);
const from = new Uint32Array(2);

describe('udp: exchange between two stacks', () => {
  it('datagrams both ways, source address/port reported, readiness emitted once per batch', () => {
    const e = twoStacks(undefined);
    const log = new EvLog();
    e.b.events = log;
    const sa = udpSock(e.a, 1111);
    const sb = udpSock(e.b, 2222);
    const m1 = bytes(100, 1);
    expect(sendto(e.a, sa, m1, 0, 100, IP_B, 2222)).toBe(100);
    expect(sendto(e.a, sa, m1, 10, 20, IP_B, 2222)).toBe(20);
    run(e, 50);
    expect(e.a.mib.udp[UDP_OUTDATAGRAMS]).toBe(2);
    expect(e.b.mib.udp[UDP_INDATAGRAMS]).toBe(2);
    expect(log.count(sb, EV_READABLE)).toBe(1); // empty → non-empty only
    expect(poll(e.b, sb) & EV_READABLE).toBe(EV_READABLE);
    expect(recvLen(e.b, sb)).toBe(100);
    expect(recvfrom(e.b, sb, buf, 0, buf.length, from)).toBe(100);
    for (let i = 0; i < 100; i++) expect(buf[i]).toBe(m1[i]);
    expect([from[0], from[1]]).toEqual([IP_A, 1111]);
    // MSG_TRUNC semantics: a short buffer gets the head, the rest is discarded
    expect(recvfrom(e.b, sb, buf, 5, 8, from)).toBe(8);
    for (let i = 0; i < 8; i++) expect(buf[5 + i]).toBe(m1[10 + i]);
    expect(recvfrom(e.b, sb, buf, 0, 100, from)).toBe(-EAGAIN);
    expect(poll(e.b, sb) & EV_READABLE).toBe(0);
    // reply
    expect(sendto(e.b, sb, bytes(3, 9), 0, 3, from[0], from[1])).toBe(3);
    run(e, 20);
    expect(recvfrom(e.a, sa, buf, 0, 10, from)).toBe(3);
    expect([from[0], from[1]]).toEqual([IP_B, 2222]);
    // zero-length datagram
    expect(sendto(e.a, sa, buf, 0, 0, IP_B, 2222)).toBe(0);
    run(e, 20);
    expect(recvLen(e.b, sb)).toBe(0);
    expect(recvfrom(e.b, sb, buf, 0, 10, from)).toBe(0);
    finish(e, [[e.a, sa], [e.b, sb]]);
  });

  it('IP_TTL reaches the wire; loopback to our own address works', () => {
    const e = twoStacks(undefined);
    let ttl = -1;
    e.link.a.filter = {
      onFrame(_end, b, o) {
        if (b[o + 23] === 17) ttl = b[o + 14 + 8];
        return true;
      },
    };
    const sa = udpSock(e.a, 1111);
    const sb = udpSock(e.b, 2222);
    expect(setsockopt(e.a, sa, SOL_IP, IP_TTL, 3)).toBe(0);
    expect(sendto(e.a, sa, buf, 0, 4, IP_B, 2222)).toBe(4);
    run(e, 20);
    expect(ttl).toBe(3);
    expect(recvfrom(e.b, sb, buf, 0, 10, null)).toBe(4);
    const s2 = udpSock(e.a, 3333);
    expect(sendto(e.a, sa, bytes(5, 3), 0, 5, IP_A, 3333)).toBe(5);
    run(e, 50);
    expect(recvfrom(e.a, s2, buf, 0, 10, from)).toBe(5);
    expect([from[0], from[1]]).toEqual([IP_A, 1111]);
    finish(e, [[e.a, sa], [e.a, s2], [e.b, sb]]);
  });

  it('lookup: a connected socket only gets its peer; others fall back to the wildcard socket', () => {
    const e = twoStacks(undefined);
    const wild = udpSock(e.b, 53);
    const conn = socket(e.b, SOCK_DGRAM, 0);
    expect(setsockopt(e.b, conn, SOL_SOCKET, 2 /* SO_REUSEADDR */, 1)).toBe(0);
    expect(setsockopt(e.b, wild, SOL_SOCKET, 2, 1)).toBe(0);
    expect(bind(e.b, conn, IP_B, 53)).toBe(0);
    expect(connect(e.b, conn, IP_A, 1000)).toBe(0);
    const s1000 = udpSock(e.a, 1000);
    const s2000 = udpSock(e.a, 2000);
    sendto(e.a, s1000, buf, 0, 1, IP_B, 53);
    sendto(e.a, s2000, buf, 0, 2, IP_B, 53);
    run(e, 30);
    expect(recvfrom(e.b, conn, buf, 0, 10, from)).toBe(1);
    expect(from[1]).toBe(1000);
    expect(recvfrom(e.b, conn, buf, 0, 10, from)).toBe(-EAGAIN);
    expect(recvfrom(e.b, wild, buf, 0, 10, from)).toBe(2);
    expect(from[1]).toBe(2000);
    // send() on the connected socket goes to the peer
    expect(send(e.b, conn, bytes(7, 1), 0, 7)).toBe(7);
    run(e, 20);
    expect(recvfrom(e.a, s1000, buf, 0, 10, from)).toBe(7);
    expect([from[0], from[1]]).toEqual([IP_B, 53]);
    finish(e, [[e.a, s1000], [e.a, s2000], [e.b, wild], [e.b, conn]]);
  });

  it('a 30000-byte datagram is fragmented, reassembled and delivered intact', () => {
    const e = twoStacks(undefined);
    const sa = udpSock(e.a, 1111);
    const sb = udpSock(e.b, 2222);
    const big = bytes(30000, 5);
    primeArp(e, sa, sb);
    expect(sendto(e.a, sa, big, 0, 30000, IP_B, 2222)).toBe(30000);
    run(e, 100);
    expect(e.a.mib.ip[IP_FRAGCREATES]).toBeGreaterThanOrEqual(21);
    expect(e.b.mib.ip[IP_REASMOKS]).toBe(1);
    expect(recvLen(e.b, sb)).toBe(30000);
    expect(recvfrom(e.b, sb, buf, 0, buf.length, from)).toBe(30000);
    let same = true;
    for (let i = 0; i < 30000; i++) if (buf[i] !== big[i]) same = false;
    expect(same).toBe(true);
    expect([from[0], from[1]]).toEqual([IP_A, 1111]);
    // and back: an echo of the same size
    expect(sendto(e.b, sb, buf, 0, 30000, IP_A, 1111)).toBe(30000);
    run(e, 100);
    expect(recvfrom(e.a, sa, buf, 0, buf.length, from)).toBe(30000);
    finish(e, [[e.a, sa], [e.b, sb]]);
  });
});

describe('udp: malformed and unwanted datagrams are dropped and counted', () => {
  it('bad checksum → InCsumErrors + InErrors; checksum 0 (none) accepted', () => {
    const e = twoStacks(undefined);
    const sa = udpSock(e.a, 4000);
    const good = udpFrame({ saddr: IP_B, daddr: IP_A, sport: 9, dport: 4000, payload: bytes(20, 1) });
    const bad = good.slice();
    bad[14 + 20 + 8 + 3] ^= 0x40; // payload corrupted after the checksum was computed
    inject(e.a, e.link.devA, bad);
    run(e, 20);
    expect(e.a.mib.udp[UDP_INCSUMERRORS]).toBe(1);
    expect(e.a.mib.udp[UDP_INERRORS]).toBe(1);
    expect(recvLen(e.a, sa)).toBe(-EAGAIN);
    const none = udpFrame({ saddr: IP_B, daddr: IP_A, sport: 9, dport: 4000, payload: bytes(20, 1), check: 0 });
    inject(e.a, e.link.devA, none);
    inject(e.a, e.link.devA, good);
    run(e, 20);
    expect(e.a.mib.udp[UDP_INDATAGRAMS]).toBe(2);
    expect(recvfrom(e.a, sa, buf, 0, 100, from)).toBe(20);
    expect(recvfrom(e.a, sa, buf, 0, 100, from)).toBe(20);
    expect(e.a.mib.udp[UDP_INERRORS]).toBe(1);
    finish(e, [[e.a, sa]]);
  });

  it('length field shorter than 8, longer than the IP payload, or a truncated header → InErrors', () => {
    const e = twoStacks(undefined);
    const sa = udpSock(e.a, 4000);
    const mk = (ulen: number) =>
      udpFrame({ saddr: IP_B, daddr: IP_A, sport: 9, dport: 4000, payload: bytes(12, 2), ulen: ulen, check: 0 });
    inject(e.a, e.link.devA, mk(7));
    inject(e.a, e.link.devA, mk(0));
    inject(e.a, e.link.devA, mk(21)); // IP payload is 20
    inject(e.a, e.link.devA, mk(0xffff));
    // IP datagram carrying only 4 bytes of UDP header
    const short = mk(20);
    short[14 + 3] = 24; // IP total length 24
    short[14 + 10] = 0;
    short[14 + 11] = 0;
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (short[14 + i] << 8) | short[14 + i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    short[14 + 10] = (~s >> 8) & 0xff;
    short[14 + 11] = ~s & 0xff;
    inject(e.a, e.link.devA, short);
    run(e, 20);
    expect(e.a.mib.udp[UDP_INERRORS]).toBe(5);
    expect(e.a.mib.udp[UDP_INDATAGRAMS]).toBe(0);
    expect(recvLen(e.a, sa)).toBe(-EAGAIN);
    // a UDP length below the IP payload is legal: the datagram is trimmed to it
    inject(e.a, e.link.devA, mk(8 + 5));
    run(e, 20);
    expect(e.a.mib.udp[UDP_INDATAGRAMS]).toBe(1);
    expect(recvfrom(e.a, sa, buf, 0, 100, from)).toBe(5);
    finish(e, [[e.a, sa]]);
  });

  it('receive queue overflow (packets and bytes) → RcvbufErrors, skbs freed', () => {
    const e = twoStacks({ sockRcvQueueLen: 4 });
    const sa = udpSock(e.a, 1111);
    const sb = udpSock(e.b, 2222);
    primeArp(e, sa, sb);
    for (let i = 0; i < 7; i++) expect(sendto(e.a, sa, bytes(10, i), 0, 10, IP_B, 2222)).toBe(10);
    run(e, 50);
    expect(e.b.mib.udp[UDP_INDATAGRAMS]).toBe(4);
    expect(e.b.mib.udp[UDP_RCVBUFERRORS]).toBe(3);
    expect(e.b.mib.udp[UDP_INERRORS]).toBe(3);
    expect(e.b.pool.inUse()).toBe(4); // exactly the queued ones
    // the first four arrived, in order
    for (let i = 0; i < 4; i++) {
      expect(recvfrom(e.b, sb, buf, 0, 100, from)).toBe(10);
      expect(buf[0]).toBe(bytes(10, i)[0]);
    }
    expect(e.b.pool.inUse()).toBe(0);
    // byte budget: SO_RCVBUF 1000 takes three 400-byte datagrams? no: two (800), the third would exceed
    expect(setsockopt(e.b, sb, SOL_SOCKET, SO_RCVBUF, 1000)).toBe(0);
    for (let i = 0; i < 3; i++) sendto(e.a, sa, bytes(400, i), 0, 400, IP_B, 2222);
    run(e, 50);
    expect(e.b.mib.udp[UDP_RCVBUFERRORS]).toBe(4);
    expect(e.b.sock.rcvq[sb].qlen).toBe(2);
    // close with datagrams still queued frees them
    finish(e, [[e.a, sa], [e.b, sb]]);
  });

  it('no socket → NoPorts and ICMP port unreachable → ECONNREFUSED on the connected sender', () => {
    const e = twoStacks(undefined);
    const log = new EvLog();
    e.a.events = log;
    const conn = socket(e.a, SOCK_DGRAM, 0);
    expect(connect(e.a, conn, IP_B, 9999)).toBe(0);
    const unconn = udpSock(e.a, 1234);
    expect(send(e.a, conn, bytes(8, 1), 0, 8)).toBe(8);
    run(e, 50);
    expect(e.b.mib.udp[UDP_NOPORTS]).toBe(1);
    expect(e.b.mib.icmp[ICMP_OUTDESTUNREACHS]).toBe(1);
    expect(e.a.mib.icmp[ICMP_INDESTUNREACHS]).toBe(1);
    expect(log.count(conn, EV_ERROR)).toBe(1);
    expect(poll(e.a, conn) & EV_ERROR).toBe(EV_ERROR);
    expect(recvfrom(e.a, conn, buf, 0, 10, null)).toBe(-ECONNREFUSED); // reported once
    expect(recvfrom(e.a, conn, buf, 0, 10, null)).toBe(-EAGAIN);
    // again, read through sockErr; the next send reports a pending error too
    send(e.a, conn, bytes(8, 1), 0, 8);
    run(e, 50);
    expect(sockErr(e.a, conn)).toBe(-ECONNREFUSED);
    expect(sockErr(e.a, conn)).toBe(0);
    send(e.a, conn, bytes(8, 1), 0, 8);
    run(e, 50);
    expect(send(e.a, conn, bytes(8, 1), 0, 8)).toBe(-ECONNREFUSED);
    run(e, 50);
    // an unconnected sender is not told (Linux without IP_RECVERR)
    sockErr(e.a, conn);
    sendto(e.a, unconn, bytes(8, 1), 0, 8, IP_B, 9998);
    run(e, 50);
    expect(e.b.mib.udp[UDP_NOPORTS]).toBe(4); // the send that reported the error sent nothing
    expect(sockErr(e.a, unconn)).toBe(0);
    expect(log.count(unconn, EV_ERROR)).toBe(0);
    finish(e, [[e.a, conn], [e.a, unconn]]);
  });

  it('udpErr ignores truncated quotes, soft errors and other protocols', () => {
    const e = twoStacks(undefined);
    const conn = socket(e.a, SOCK_DGRAM, 0);
    connect(e.a, conn, IP_B, 9999);
    const p = e.a.pool;
    const skb = p.alloc(28);
    const o = p.put(skb, 28);
    const f = udpFrame({ saddr: IP_A, daddr: IP_B, sport: e.a.sock.lport[conn], dport: 9999, payload: new Uint8Array(0) });
    for (let i = 0; i < 28; i++) p.buf[skb][o + i] = f[14 + i];
    udpErr(e.a, skb, 11, 0, 0); // time exceeded: soft
    expect(e.a.sock.err[conn]).toBe(0);
    udpErr(e.a, skb, 3, 4, 1400); // frag needed: not a hard error
    expect(e.a.sock.err[conn]).toBe(0);
    p.buf[skb][o + 9] = 6; // quoted protocol is not UDP
    udpErr(e.a, skb, 3, 3, 0);
    expect(e.a.sock.err[conn]).toBe(0);
    p.buf[skb][o + 9] = 17;
    p.tail[skb] = o + 22; // quote too short for the ports
    udpErr(e.a, skb, 3, 3, 0);
    expect(e.a.sock.err[conn]).toBe(0);
    p.tail[skb] = o + 28;
    udpErr(e.a, skb, 3, 3, 0);
    expect(e.a.sock.err[conn]).toBe(ECONNREFUSED);
    p.free(skb);
    finish(e, [[e.a, conn]]);
  });

  it('broadcast: every bound socket gets a copy; nobody listening → IgnoredMulti, no ICMP', () => {
    const e = twoStacks(undefined);
    const b1 = socket(e.b, SOCK_DGRAM, 0);
    const b2 = socket(e.b, SOCK_DGRAM, 0);
    setsockopt(e.b, b1, SOL_SOCKET, 2, 1);
    setsockopt(e.b, b2, SOL_SOCKET, 2, 1);
    expect(bind(e.b, b1, 0, 6000)).toBe(0);
    expect(bind(e.b, b2, 0, 6000)).toBe(0);
    const bOther = udpSock(e.b, 6001);
    const sa = udpSock(e.a, 1111);
    expect(setsockopt(e.a, sa, SOL_SOCKET, SO_BROADCAST, 1)).toBe(0);
    expect(sendto(e.a, sa, bytes(30, 4), 0, 30, BCAST, 6000)).toBe(30);
    expect(sendto(e.a, sa, bytes(31, 4), 0, 31, 0xffffffff, 6000)).toBe(31);
    run(e, 50);
    for (const fd of [b1, b2]) {
      expect(recvfrom(e.b, fd, buf, 0, 100, from)).toBe(30);
      expect([from[0], from[1]]).toEqual([IP_A, 1111]);
      expect(recvfrom(e.b, fd, buf, 0, 100, from)).toBe(31);
    }
    expect(recvLen(e.b, bOther)).toBe(-EAGAIN);
    expect(e.b.mib.udp[UDP_INDATAGRAMS]).toBe(4);
    sendto(e.a, sa, bytes(5, 4), 0, 5, BCAST, 6002);
    run(e, 50);
    expect(e.b.mib.udp[UDP_IGNOREDMULTI]).toBe(1);
    expect(e.b.mib.udp[UDP_NOPORTS]).toBe(0);
    expect(e.b.mib.icmp[ICMP_OUTDESTUNREACHS]).toBe(0);
    finish(e, [[e.a, sa], [e.b, b1], [e.b, b2], [e.b, bOther]]);
  });
});

describe('udp: send-side limits', () => {
  it('pool exhaustion on send → -ENOBUFS and SndbufErrors, nothing leaks', () => {
    const e = twoStacks({ skbSmallCount: 4, skbLargeCount: 1 });
    const sa = udpSock(e.a, 1111);
    const sb = udpSock(e.b, 2222);
    primeArp(e, sa, sb);
    const p = e.a.pool;
    const held: number[] = [];
    for (;;) {
      const h = p.alloc(100);
      if (h < 0) break;
      held.push(h);
    }
    expect(sendto(e.a, sa, buf, 0, 10, IP_B, 2222)).toBe(-ENOBUFS);
    expect(e.a.mib.udp[UDP_SNDBUFERRORS]).toBe(1);
    for (const h of held) p.free(h);
    expect(sendto(e.a, sa, buf, 0, 10, IP_B, 2222)).toBe(10);
    run(e, 30);
    expect(recvfrom(e.b, sb, buf, 0, 100, null)).toBe(10);
    finish(e, [[e.a, sa], [e.b, sb]]);
  });

  it('no route → -ENETUNREACH; limited broadcast from an unconfigured interface leaves with source 0 (DHCP)', () => {
    const clock = new ManualClock(0);
    const c = new Stack('c', undefined, clock, undefined);
    const d = new Stack('d', { seed: 3 }, clock, undefined);
    const l = createPairLink(c, d, MAC_B, MAC_A, 1500);
    ifconfig(d, l.devB, '192.0.2.1/24', null);
    l.open();
    const env: Env = { clock, a: c, b: d, link: l };
    const srv = udpSock(d, 67);
    const cli = socket(c, SOCK_DGRAM, 0);
    expect(bind(c, cli, 0, 68)).toBe(0);
    expect(sendto(c, cli, buf, 0, 4, IP_B, 67)).toBe(-ENETUNREACH);
    expect(setsockopt(c, cli, SOL_SOCKET, SO_BROADCAST, 1)).toBe(0);
    expect(setsockopt(c, cli, SOL_SOCKET, SO_BINDTODEVICE, l.devA)).toBe(0);
    let src = -1;
    let sum = -1;
    l.a.filter = {
      onFrame(_end, b, o) {
        if (b[o + 23] === 17) {
          src = get32(b, o + 26);
          sum = csumFold(csumPartial(b, o + 34, get16(b, o + 38), csumTcpUdpMagic(0, 0xffffffff, get16(b, o + 38), 17)));
        }
        return true;
      },
    };
    expect(sendto(c, cli, bytes(300, 1), 0, 300, 0xffffffff, 67)).toBe(300);
    run(env, 50);
    expect(src).toBe(0);
    expect(sum).toBe(0xffff); // checksum computed over the 0.0.0.0 pseudo-header
    const n = recvfrom(d, srv, buf, 0, 1000, from);
    expect([n, from[0], from[1]]).toEqual([300, 0, 68]); // the server sees 0.0.0.0:68
    close(c, cli);
    finish(env, [[d, srv]]);
  });
});
