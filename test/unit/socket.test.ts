/*
 * socket.test.ts — the zero-allocation socket API (src/socket/socket.ts):
 * argument errors, socket table limits, bind conflicts and ephemeral
 * ports, options, poll, close freeing queued skbs.
 */
import { describe, it, expect } from 'vitest';
import { Stack, EV_READABLE, EV_WRITABLE, EV_ERROR } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import {
  EBADF, EINVAL, EFAULT, EMFILE, EPROTONOSUPPORT, EAGAIN, EADDRINUSE, EADDRNOTAVAIL, ENOPROTOOPT,
  ENOTCONN, EDESTADDRREQ, EACCES, EMSGSIZE, ENODEV,
} from '../../src/core/errno';
import {
  socket, bind, connect, sendto, send, recvfrom, recv, recvLen, close, setsockopt, getsockopt,
  getsockname, getpeername, poll, sockErr, SocketApi,
  SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_RAW, IPPROTO_TCP, SOL_SOCKET,
  SO_RCVBUF, SO_BROADCAST, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_BINDTODEVICE, SOL_IP, IP_TTL, IP_TOS,
  IP_HDRINCL,
} from '../../src/socket/socket';
import { SK_EV_READABLE, SK_EV_WRITABLE, SK_EV_ERROR, SF_HDRINCL } from '../../src/socket/sock';
import { twoStacks, run, IP_A, IP_B, BCAST } from './udp_util';

function oneStack(over?: Partial<import('../../src/config').StackConfig>): Stack {
  return new Stack('s', over, new ManualClock(0), undefined);
}

describe('socket API: argument errors', () => {
  it('socket() validates type and protocol and fills the table', () => {
    const st = oneStack({ maxSockets: 3 });
    expect(socket(st, SOCK_STREAM, IPPROTO_UDP)).toBe(-EPROTONOSUPPORT); // TCP: test/unit/socket_tcp.test.ts
    expect(socket(st, 99, 0)).toBe(-EINVAL);
    expect(socket(st, SOCK_DGRAM, IPPROTO_TCP)).toBe(-EPROTONOSUPPORT);
    expect(socket(st, SOCK_RAW, 0)).toBe(-EPROTONOSUPPORT);
    expect(socket(st, SOCK_RAW, 256)).toBe(-EPROTONOSUPPORT);
    const a = socket(st, SOCK_DGRAM, 0);
    const b = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    const c = socket(st, SOCK_RAW, IPPROTO_ICMP);
    expect([a, b, c]).toEqual([0, 1, 2]);
    expect(socket(st, SOCK_DGRAM, 0)).toBe(-EMFILE);
    expect(close(st, b)).toBe(0);
    expect(socket(st, SOCK_DGRAM, 0)).toBe(1); // lowest free slot reused
    expect(getsockopt(st, c, SOL_SOCKET, SO_TYPE, null)).toBe(SOCK_RAW);
    expect(getsockopt(st, a, SOL_SOCKET, SO_TYPE, null)).toBe(SOCK_DGRAM);
    for (let fd = 0; fd < 3; fd++) expect(close(st, fd)).toBe(0);
    expect(st.sock.open).toBe(0);
  });

  it('bad and closed fds give -EBADF from every call, never a throw', () => {
    const st = oneStack(undefined);
    const buf = new Uint8Array(16);
    const from = new Uint32Array(2);
    const fd = socket(st, SOCK_DGRAM, 0);
    expect(close(st, fd)).toBe(0);
    for (const bad of [fd, -1, 1.5, 1000, NaN]) {
      expect(bind(st, bad, 0, 0)).toBe(-EBADF);
      expect(connect(st, bad, IP_B, 7)).toBe(-EBADF);
      expect(sendto(st, bad, buf, 0, 4, IP_B, 7)).toBe(-EBADF);
      expect(send(st, bad, buf, 0, 4)).toBe(-EBADF);
      expect(recvfrom(st, bad, buf, 0, 4, from)).toBe(-EBADF);
      expect(recv(st, bad, buf, 0, 4)).toBe(-EBADF);
      expect(recvLen(st, bad)).toBe(-EBADF);
      expect(close(st, bad)).toBe(-EBADF);
      expect(setsockopt(st, bad, SOL_SOCKET, SO_BROADCAST, 1)).toBe(-EBADF);
      expect(getsockopt(st, bad, SOL_SOCKET, SO_TYPE, null)).toBe(-EBADF);
      expect(getsockname(st, bad, from)).toBe(-EBADF);
      expect(getpeername(st, bad, from)).toBe(-EBADF);
      expect(poll(st, bad)).toBe(-EBADF);
      expect(sockErr(st, bad)).toBe(-EBADF);
    }
  });

  it('buffer ranges, addresses and ports are checked', () => {
    const st = oneStack(undefined);
    const fd = socket(st, SOCK_DGRAM, 0);
    const buf = new Uint8Array(16);
    expect(sendto(st, fd, buf, 10, 7, IP_B, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, -1, 4, IP_B, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0, -4, IP_B, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0.5, 4, IP_B, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, null as unknown as Uint8Array, 0, 4, IP_B, 7)).toBe(-EFAULT);
    expect(recvfrom(st, fd, buf, 17, 0, null)).toBe(-EINVAL);
    expect(recvfrom(st, fd, buf, 0, 4, new Uint32Array(1))).toBe(-EINVAL);
    // negative addresses down to -2^31 are the signed (s32) form and valid; below that is not
    expect(sendto(st, fd, buf, 0, 4, -0x80000001, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0, 4, 1.5, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0, 4, 0x100000000, 7)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0, 4, IP_B, 70000)).toBe(-EINVAL);
    expect(sendto(st, fd, buf, 0, 4, IP_B, 0)).toBe(-EINVAL);
    expect(send(st, fd, buf, 0, 4)).toBe(-EDESTADDRREQ);
    expect(bind(st, fd, 0, -1)).toBe(-EINVAL);
    expect(bind(st, fd, 0, 65536)).toBe(-EINVAL);
    expect(getsockname(st, fd, new Uint32Array(1))).toBe(-EINVAL);
    expect(getpeername(st, fd, new Uint32Array(2))).toBe(-ENOTCONN);
    expect(recvfrom(st, fd, buf, 0, 16, null)).toBe(-EAGAIN);
    expect(recvLen(st, fd)).toBe(-EAGAIN);
    expect(sendto(st, fd, new Uint8Array(65508), 0, 65508, IP_B, 7)).toBe(-EMSGSIZE);
    expect(close(st, fd)).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  });
});

describe('socket API: bind, ports, options', () => {
  it('bind conflicts, SO_REUSEADDR, address checks and ephemeral ports', () => {
    const e = twoStacks(undefined);
    const st = e.a;
    const s1 = socket(st, SOCK_DGRAM, 0);
    const s2 = socket(st, SOCK_DGRAM, 0);
    const s3 = socket(st, SOCK_DGRAM, 0);
    expect(bind(st, s1, 0, 5000)).toBe(0);
    expect(bind(st, s1, 0, 5001)).toBe(-EINVAL); // already bound
    expect(bind(st, s2, 0, 5000)).toBe(-EADDRINUSE);
    expect(bind(st, s2, IP_A, 5000)).toBe(-EADDRINUSE); // overlaps INADDR_ANY
    expect(bind(st, s2, IP_B, 5002)).toBe(-EADDRNOTAVAIL); // not ours
    expect(bind(st, s2, IP_A, 5001)).toBe(0);
    expect(bind(st, s3, IP_A, 5001)).toBe(-EADDRINUSE);
    // SO_REUSEADDR on both sockets lets them share
    expect(setsockopt(st, s2, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
    expect(setsockopt(st, s3, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
    expect(getsockopt(st, s3, SOL_SOCKET, SO_REUSEADDR, null)).toBe(1);
    expect(bind(st, s3, IP_A, 5001)).toBe(0);
    const nm = new Uint32Array(2);
    expect(getsockname(st, s3, nm)).toBe(0);
    expect([nm[0], nm[1]]).toEqual([IP_A, 5001]);
    // raw sockets have no ports: no conflict with UDP
    const r = socket(st, SOCK_RAW, IPPROTO_UDP);
    expect(bind(st, r, IP_A, 5000)).toBe(0);
    expect(close(st, r)).toBe(0);
    // closing frees the port
    expect(close(st, s1)).toBe(0);
    const s4 = socket(st, SOCK_DGRAM, 0);
    expect(bind(st, s4, 0, 5000)).toBe(0);
    for (const fd of [s2, s3, s4]) expect(close(st, fd)).toBe(0);
  });

  it('ephemeral ports: in range, distinct, random start, exhaustion', () => {
    const e = twoStacks({ ephemeralLow: 40000, ephemeralHigh: 40003, maxSockets: 8 });
    const st = e.a;
    const fds: number[] = [];
    const ports: number[] = [];
    const nm = new Uint32Array(2);
    for (let i = 0; i < 4; i++) {
      const fd = socket(st, SOCK_DGRAM, 0);
      expect(bind(st, fd, 0, 0)).toBe(0);
      getsockname(st, fd, nm);
      expect(nm[1]).toBeGreaterThanOrEqual(40000);
      expect(nm[1]).toBeLessThanOrEqual(40003);
      fds.push(fd);
      ports.push(nm[1]);
    }
    expect(new Set(ports).size).toBe(4);
    const last = socket(st, SOCK_DGRAM, 0);
    expect(bind(st, last, 0, 0)).toBe(-EADDRINUSE);
    // sendto on an unbound socket autobinds, and fails the same way when the range is full
    expect(sendto(st, last, new Uint8Array(1), 0, 1, IP_B, 9)).toBe(-EADDRINUSE);
    close(st, fds[2]);
    expect(sendto(st, last, new Uint8Array(1), 0, 1, IP_B, 9)).toBe(1);
    getsockname(st, last, nm);
    expect(nm[1]).toBe(ports[2]);
    close(st, last);
    for (const fd of fds) close(st, fd);
    run(e, 100);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);

    // a different seed starts the search elsewhere
    const starts: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = new Stack('x', { seed: seed }, new ManualClock(0), undefined);
      const fd = socket(s, SOCK_DGRAM, 0);
      bind(s, fd, 0, 0);
      getsockname(s, fd, nm);
      expect(nm[1]).toBeGreaterThanOrEqual(s.cfg.ephemeralLow);
      expect(nm[1]).toBeLessThanOrEqual(s.cfg.ephemeralHigh);
      starts.push(nm[1]);
      close(s, fd);
    }
    expect(new Set(starts).size).toBeGreaterThan(1);
  });

  it('options: set, get, range checks, unknown options', () => {
    const st = oneStack(undefined);
    const u = socket(st, SOCK_DGRAM, 0);
    const r = socket(st, SOCK_RAW, IPPROTO_ICMP);
    const out = new Int32Array(1);
    expect(getsockopt(st, u, SOL_IP, IP_TTL, out)).toBe(st.cfg.ipDefaultTtl);
    expect(out[0]).toBe(st.cfg.ipDefaultTtl);
    expect(setsockopt(st, u, SOL_IP, IP_TTL, 5)).toBe(0);
    expect(getsockopt(st, u, SOL_IP, IP_TTL, null)).toBe(5);
    expect(setsockopt(st, u, SOL_IP, IP_TTL, 0)).toBe(-EINVAL);
    expect(setsockopt(st, u, SOL_IP, IP_TTL, 256)).toBe(-EINVAL);
    expect(setsockopt(st, u, SOL_IP, IP_TTL, -1)).toBe(0);
    expect(getsockopt(st, u, SOL_IP, IP_TTL, null)).toBe(st.cfg.ipDefaultTtl);
    expect(setsockopt(st, u, SOL_IP, IP_TOS, 0x10)).toBe(0);
    expect(getsockopt(st, u, SOL_IP, IP_TOS, null)).toBe(0x10);
    expect(setsockopt(st, u, SOL_IP, IP_TOS, 300)).toBe(-EINVAL);
    expect(setsockopt(st, u, SOL_SOCKET, SO_RCVBUF, 1000)).toBe(0);
    expect(getsockopt(st, u, SOL_SOCKET, SO_RCVBUF, null)).toBe(1000);
    expect(setsockopt(st, u, SOL_SOCKET, SO_RCVBUF, -1)).toBe(-EINVAL);
    expect(setsockopt(st, u, SOL_SOCKET, SO_BROADCAST, 1)).toBe(0);
    expect(getsockopt(st, u, SOL_SOCKET, SO_BROADCAST, null)).toBe(1);
    expect(setsockopt(st, u, SOL_SOCKET, SO_BROADCAST, 0)).toBe(0);
    expect(getsockopt(st, u, SOL_SOCKET, SO_BROADCAST, null)).toBe(0);
    expect(setsockopt(st, u, SOL_IP, IP_HDRINCL, 1)).toBe(-ENOPROTOOPT);
    expect(getsockopt(st, u, SOL_IP, IP_HDRINCL, null)).toBe(-ENOPROTOOPT);
    expect(setsockopt(st, r, SOL_IP, IP_HDRINCL, 1)).toBe(0);
    expect(getsockopt(st, r, SOL_IP, IP_HDRINCL, null)).toBe(1);
    expect(setsockopt(st, u, SOL_SOCKET, 999, 1)).toBe(-ENOPROTOOPT);
    expect(setsockopt(st, u, 42, 1, 1)).toBe(-ENOPROTOOPT);
    expect(getsockopt(st, u, SOL_SOCKET, 999, null)).toBe(-ENOPROTOOPT);
    expect(setsockopt(st, u, SOL_SOCKET, SO_BINDTODEVICE, 3)).toBe(-ENODEV);
    expect(getsockopt(st, u, SOL_SOCKET, SO_BINDTODEVICE, null)).toBe(-ENODEV);
    expect(getsockopt(st, u, SOL_SOCKET, SO_ERROR, null)).toBe(0);
    // IPPROTO_RAW implies IP_HDRINCL
    const rr = socket(st, SOCK_RAW, IPPROTO_RAW);
    expect((st.sock.flags[rr] & SF_HDRINCL) !== 0).toBe(true);
    expect(getsockopt(st, rr, SOL_IP, IP_HDRINCL, null)).toBe(1);
    close(st, u);
    close(st, r);
    close(st, rr);
    // a reopened slot starts from defaults
    const u2 = socket(st, SOCK_DGRAM, 0);
    expect(getsockopt(st, u2, SOL_IP, IP_TTL, null)).toBe(st.cfg.ipDefaultTtl);
    expect(getsockopt(st, u2, SOL_SOCKET, SO_RCVBUF, null)).toBe(st.cfg.sockRcvBufBytes);
    close(st, u2);
  });

  it('readiness constants agree with the stack, poll reports state', () => {
    expect(SK_EV_READABLE).toBe(EV_READABLE);
    expect(SK_EV_WRITABLE).toBe(EV_WRITABLE);
    expect(SK_EV_ERROR).toBe(EV_ERROR);
    const st = oneStack(undefined);
    const fd = socket(st, SOCK_DGRAM, 0);
    expect(poll(st, fd)).toBe(EV_WRITABLE);
    st.sock.err[fd] = 111;
    expect(poll(st, fd) & EV_ERROR).toBe(EV_ERROR);
    expect(getsockopt(st, fd, SOL_SOCKET, SO_ERROR, null)).toBe(111);
    expect(poll(st, fd) & EV_ERROR).toBe(0);
    st.sock.err[fd] = 111;
    expect(sockErr(st, fd)).toBe(-111);
    expect(sockErr(st, fd)).toBe(0);
    close(st, fd);
  });

  it('broadcast needs SO_BROADCAST; connect sets and clears the peer', () => {
    const e = twoStacks(undefined);
    const st = e.a;
    const fd = socket(st, SOCK_DGRAM, 0);
    const buf = new Uint8Array(4);
    expect(sendto(st, fd, buf, 0, 4, BCAST, 9)).toBe(-EACCES);
    expect(sendto(st, fd, buf, 0, 4, 0xffffffff, 9)).toBe(-EACCES);
    expect(connect(st, fd, BCAST, 9)).toBe(-EACCES);
    expect(connect(st, fd, IP_B, 0)).toBe(-EINVAL);
    expect(connect(st, fd, IP_B, 9)).toBe(0);
    const o = new Uint32Array(2);
    expect(getpeername(st, fd, o)).toBe(0);
    expect([o[0], o[1]]).toEqual([IP_B, 9]);
    expect(getsockname(st, fd, o)).toBe(0);
    expect(o[0]).toBe(IP_A); // the route's source address
    expect(o[1]).toBeGreaterThan(0); // autobound
    expect(connect(st, fd, 0, 0)).toBe(0);
    expect(getpeername(st, fd, o)).toBe(-ENOTCONN);
    getsockname(st, fd, o);
    expect(o[0]).toBe(0); // the address chosen by connect is forgotten
    close(st, fd);
  });

  it('SocketApi object form delegates to the same table', () => {
    const e = twoStacks(undefined);
    const api = new SocketApi(e.a);
    const apiB = new SocketApi(e.b);
    const fa = api.socket(SOCK_DGRAM, IPPROTO_UDP);
    const fb = apiB.socket(SOCK_DGRAM, IPPROTO_UDP);
    expect(apiB.bind(fb, 0, 7777)).toBe(0);
    const msg = new Uint8Array([1, 2, 3, 4, 5]);
    expect(api.sendto(fa, msg, 1, 3, IP_B, 7777)).toBe(3);
    run(e, 50);
    expect(apiB.poll(fb) & EV_READABLE).toBe(EV_READABLE);
    expect(apiB.recvLen(fb)).toBe(3);
    const out = new Uint8Array(8);
    const from = new Uint32Array(2);
    expect(apiB.recvfrom(fb, out, 2, 6, from)).toBe(3);
    expect(Array.from(out.subarray(2, 5))).toEqual([2, 3, 4]);
    expect(from[0]).toBe(IP_A);
    const nm = new Uint32Array(2);
    api.getsockname(fa, nm);
    expect(from[1]).toBe(nm[1]);
    expect(api.close(fa)).toBe(0);
    expect(apiB.close(fb)).toBe(0);
    run(e, 20);
    expect(e.a.pool.inUse()).toBe(0);
    expect(e.b.pool.inUse()).toBe(0);
  });
});
