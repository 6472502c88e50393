/*
 * raw.test.ts — raw IPv4 sockets (src/transport/raw.ts): copies of
 * delivered datagrams with data at the IP header, hand-built ICMP echo
 * sent with and without IP_HDRINCL, filters and queue limits.
 */
import { describe, it, expect } from 'vitest';
import { get16, get32, put16, put32 } from '../../src/core/bytes';
import { ipCompute } from '../../src/core/checksum';
import {
  RAW_INDATAGRAMS, RAW_OUTDATAGRAMS, RAW_RCVBUFERRORS, ICMP_INECHOS, ICMP_OUTECHOREPS, ICMP_INECHOREPS,
  ICMP_OUTDESTUNREACHS, UDP_INDATAGRAMS,
} from '../../src/core/mib';
import { EAGAIN, EINVAL, EACCES } from '../../src/core/errno';
import { icmpPing } from '../../src/ipv4/icmp';
import {
  socket, bind, connect, sendto, recvfrom, recvLen, close, setsockopt,
  SOCK_RAW, SOCK_DGRAM, IPPROTO_ICMP, IPPROTO_UDP, IPPROTO_RAW, SOL_IP, IP_HDRINCL,
} from '../../src/socket/socket';
import { twoStacks, run, Env, IP_A, IP_B, BCAST, inject, udpFrame, bytes } from './udp_util';

const buf = new Uint8Array(2000);
const from = new Uint32Array(2);

function finish(e: Env): void {
  for (const st of [e.a, e.b]) for (let fd = 0; fd < st.sock.max; fd++) if (st.sock.valid(fd)) close(st, fd);
  run(e, 100);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

/** An ICMP echo request (type 8) with a correct checksum. */
function echo(id: number, seq: number, payload: number): Uint8Array {
  const m = new Uint8Array(8 + payload);
  m[0] = 8;
  put16(m, 4, id);
  put16(m, 6, seq);
  for (let i = 0; i < payload; i++) m[8 + i] = (i + seq) & 0xff;
  put16(m, 2, ipCompute(m, 0, m.length));
  return m;
}

/** Check buf holds an IPv4 datagram carrying ICMP of `type` for id/seq; returns the IP header length. */
function expectIcmp(n: number, type: number, id: number, seq: number, saddr: number, daddr: number): number {
  expect(buf[0] >> 4).toBe(4);
  const ihl = (buf[0] & 15) * 4;
  expect(get16(buf, 2)).toBe(n);
  expect(buf[9]).toBe(IPPROTO_ICMP);
  expect(get32(buf, 12)).toBe(saddr);
  expect(get32(buf, 16)).toBe(daddr);
  expect(buf[ihl]).toBe(type);
  expect(get16(buf, ihl + 4)).toBe(id);
  expect(get16(buf, ihl + 6)).toBe(seq);
  expect(ipCompute(buf, ihl, n - ihl)).toBe(0);
  return ihl;
}

describe('raw sockets', () => {
  it('a raw ICMP socket sees echo requests and replies (the stack still answers)', () => {
    const e = twoStacks(undefined);
    const rb = socket(e.b, SOCK_RAW, IPPROTO_ICMP);
    const ra = socket(e.a, SOCK_RAW, IPPROTO_ICMP);
    expect(icmpPing(e.a, IP_B, 0x4242, 1, 32)).toBe(0);
    run(e, 50);
    expect(e.b.mib.icmp[ICMP_INECHOS]).toBe(1);
    expect(e.b.mib.icmp[ICMP_OUTECHOREPS]).toBe(1);
    expect(e.b.mib.raw[RAW_INDATAGRAMS]).toBe(1);
    const n = recvfrom(e.b, rb, buf, 0, buf.length, from);
    expect(n).toBe(20 + 8 + 32);
    expect([from[0], from[1]]).toEqual([IP_A, 0]);
    expectIcmp(n, 8, 0x4242, 1, IP_A, IP_B);
    const m = recvfrom(e.a, ra, buf, 0, buf.length, from);
    expect(m).toBe(n);
    expectIcmp(m, 0, 0x4242, 1, IP_B, IP_A);
    expect(recvfrom(e.a, ra, buf, 0, buf.length, from)).toBe(-EAGAIN);
    finish(e);
  });

  it('sends a hand-built ICMP echo without IP_HDRINCL and reads the reply', () => {
    const e = twoStacks(undefined);
    const ra = socket(e.a, SOCK_RAW, IPPROTO_ICMP);
    const req = echo(7, 1, 56);
    expect(sendto(e.a, ra, req, 0, req.length, IP_B, 0)).toBe(req.length);
    run(e, 50);
    expect(e.a.mib.raw[RAW_OUTDATAGRAMS]).toBe(1);
    expect(e.b.mib.icmp[ICMP_INECHOS]).toBe(1);
    expect(e.a.mib.icmp[ICMP_INECHOREPS]).toBe(1);
    // our own request is not looped back to us; the reply is
    const n = recvfrom(e.a, ra, buf, 0, buf.length, from);
    expect(n).toBe(20 + 64);
    const ihl = expectIcmp(n, 0, 7, 1, IP_B, IP_A);
    for (let i = 0; i < 56; i++) expect(buf[ihl + 8 + i]).toBe(req[8 + i]);
    expect(recvLen(e.a, ra)).toBe(-EAGAIN);
    finish(e);
  });

  it('sends a complete IP datagram with IP_HDRINCL (source and ID filled in)', () => {
    const e = twoStacks(undefined);
    const ra = socket(e.a, SOCK_RAW, IPPROTO_ICMP);
    expect(setsockopt(e.a, ra, SOL_IP, IP_HDRINCL, 1)).toBe(0);
    const req = echo(9, 3, 16);
    const d = new Uint8Array(20 + req.length);
    d[0] = 0x45;
    put16(d, 2, d.length);
    d[8] = 33;
    d[9] = IPPROTO_ICMP;
    put32(d, 12, 0); // let the stack choose
    put32(d, 16, IP_B);
    d.set(req, 20);
    let seenTtl = -1;
    let seenSrc = -1;
    e.link.a.filter = {
      onFrame(_end, b, o) {
        if (get16(b, o + 12) === 0x0800 && b[o + 14 + 9] === IPPROTO_ICMP) {
          seenTtl = b[o + 14 + 8];
          seenSrc = get32(b, o + 14 + 12);
        }
        return true;
      },
    };
    expect(sendto(e.a, ra, d, 0, d.length, IP_B, 0)).toBe(d.length);
    run(e, 50);
    expect(seenTtl).toBe(33);
    expect(seenSrc).toBe(IP_A);
    expect(e.b.mib.icmp[ICMP_INECHOS]).toBe(1);
    const n = recvfrom(e.a, ra, buf, 0, buf.length, from);
    expectIcmp(n, 0, 9, 3, IP_B, IP_A);
    // too short for an IP header
    expect(sendto(e.a, ra, d, 0, 19, IP_B, 0)).toBe(-EINVAL);
    // IPPROTO_RAW sockets are send-only with IP_HDRINCL implied
    const rr = socket(e.a, SOCK_RAW, IPPROTO_RAW);
    expect(sendto(e.a, rr, d, 0, d.length, IP_B, 0)).toBe(d.length);
    run(e, 50);
    expect(e.b.mib.icmp[ICMP_INECHOS]).toBe(2);
    expect(recvfrom(e.a, ra, buf, 0, buf.length, from)).toBe(n);
    expect(recvLen(e.a, rr)).toBe(-EAGAIN);
    finish(e);
  });

  it('raw UDP socket gets a copy while the UDP socket still gets the datagram; bind/connect filter', () => {
    const e = twoStacks(undefined);
    const ru = socket(e.b, SOCK_RAW, IPPROTO_UDP);
    const rOther = socket(e.b, SOCK_RAW, IPPROTO_UDP);
    expect(connect(e.b, rOther, 0xc0000263, 0)).toBe(0); // only from 192.0.2.99
    const rBound = socket(e.b, SOCK_RAW, IPPROTO_UDP);
    expect(bind(e.b, rBound, IP_B, 0)).toBe(0);
    const ub = socket(e.b, SOCK_DGRAM, 0);
    bind(e.b, ub, 0, 5353);
    const ua = socket(e.a, SOCK_DGRAM, 0);
    expect(sendto(e.a, ua, bytes(12, 1), 0, 12, IP_B, 5353)).toBe(12);
    run(e, 50);
    expect(e.b.mib.udp[UDP_INDATAGRAMS]).toBe(1);
    expect(recvfrom(e.b, ub, buf, 0, 100, null)).toBe(12);
    const n = recvfrom(e.b, ru, buf, 0, 100, from);
    expect(n).toBe(20 + 8 + 12);
    expect(buf[9]).toBe(IPPROTO_UDP);
    expect(get16(buf, 22)).toBe(5353);
    expect(recvfrom(e.b, rBound, buf, 0, 100, null)).toBe(n);
    expect(recvLen(e.b, rOther)).toBe(-EAGAIN);
    // an unknown protocol taken by a raw socket is not answered with protocol unreachable
    const r253 = socket(e.b, SOCK_RAW, 253);
    inject(e.b, e.link.devB, (() => {
      const f = udpFrame({ saddr: IP_A, daddr: IP_B, sport: 1, dport: 2, payload: bytes(4, 0), proto: 253 });
      for (let i = 0; i < 6; i++) f[i] = e.b.link.devs[e.link.devB].mac[i];
      return f;
    })());
    run(e, 50);
    expect(recvfrom(e.b, r253, buf, 0, 100, null)).toBe(32);
    expect(buf[9]).toBe(253);
    expect(e.b.mib.icmp[ICMP_OUTDESTUNREACHS]).toBe(0);
    finish(e);
  });

  it('raw receive queue overflow is counted; broadcast needs SO_BROADCAST', () => {
    const e = twoStacks({ sockRcvQueueLen: 2 });
    const rb = socket(e.b, SOCK_RAW, IPPROTO_ICMP);
    for (let i = 0; i < 3; i++) icmpPing(e.a, IP_B, 1, i, 8);
    run(e, 100);
    expect(e.b.mib.icmp[ICMP_INECHOS]).toBe(3);
    expect(e.b.mib.raw[RAW_INDATAGRAMS]).toBe(2);
    expect(e.b.mib.raw[RAW_RCVBUFERRORS]).toBe(1);
    const ra = socket(e.a, SOCK_RAW, IPPROTO_ICMP);
    const req = echo(1, 1, 0);
    expect(sendto(e.a, ra, req, 0, req.length, BCAST, 0)).toBe(-EACCES);
    expect(rb).toBeGreaterThanOrEqual(0);
    finish(e);
  });

  it('a raw socket type check: UDP-only calls on raw sockets do not crash', () => {
    const e = twoStacks(undefined);
    const r = socket(e.a, SOCK_RAW, IPPROTO_ICMP);
    const u = socket(e.a, SOCK_DGRAM, IPPROTO_UDP);
    expect(connect(e.a, r, IP_B, 0)).toBe(0);
    const req = echo(5, 5, 4);
    expect(sendto(e.a, r, req, 0, req.length, 0, 0)).toBe(req.length); // to the connected peer
    run(e, 50);
    expect(recvfrom(e.a, r, buf, 0, buf.length, from)).toBeGreaterThan(0);
    expect(from[0]).toBe(IP_B);
    expect(u).toBeGreaterThanOrEqual(0);
    finish(e);
  });
});
