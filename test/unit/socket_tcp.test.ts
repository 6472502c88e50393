/*
 * socket_tcp.test.ts — SOCK_STREAM through the zero-allocation socket API
 * (src/socket/socket.ts over src/transport/tcp/tcp_api.ts), two stacks on
 * a PairLink: connect/accept/send/recv/shutdown/close with readiness
 * events carrying the fd, ECONNREFUSED through EV_ERROR and SO_ERROR,
 * the listen backlog, option round trips, SO_LINGER 0 (RST), send-buffer
 * back-pressure, and the Linux errno for every wrong use.
 */
import { describe, it, expect } from 'vitest';
import { Stack, EV_READABLE, EV_WRITABLE, EV_CONNECTED, EV_CLOSED, EV_ERROR } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { u32 } from '../../src/core/bits';
import {
  EINPROGRESS, EAGAIN, ECONNREFUSED, ECONNRESET, EOPNOTSUPP, EPIPE, ENOTCONN, EINVAL, EALREADY, EISCONN,
  EADDRINUSE, EADDRNOTAVAIL, EPROTONOSUPPORT, ENOPROTOOPT, EMFILE, ENOBUFS, EBADF,
} from '../../src/core/errno';
import {
  socket, bind, listen, accept, connect, send, sendto, recv, recvfrom, recvLen, shutdown, close, setsockopt,
  getsockopt, getsockname, getpeername, poll, sockErr, SocketApi,
  SOCK_STREAM, SOCK_DGRAM, IPPROTO_TCP, IPPROTO_UDP, SOL_SOCKET, SO_TYPE, SO_ERROR, SO_RCVBUF, SO_SNDBUF,
  SO_KEEPALIVE, SO_LINGER, SOL_TCP, TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
  SHUT_WR, SHUT_RDWR, SO_REUSEADDR,
} from '../../src/socket/socket';
import { TCPF_RST, TCPF_FIN, TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { tcpPair, run, runUntil, pattern, sameBytes, IP_A, IP_B, TEnv } from './tcp_util';
import { expectAllClean } from './socket_tcp_util';

/** B listens on port (fd), A connects (fd), B accepts (fd). */
function streamPair(e: TEnv, port: number): { l: number; c: number; s: number } {
  const l = socket(e.b, SOCK_STREAM, 0);
  expect(l).toBeGreaterThanOrEqual(0);
  expect(bind(e.b, l, 0, port)).toBe(0);
  expect(listen(e.b, l, 4)).toBe(0);
  const c = socket(e.a, SOCK_STREAM, IPPROTO_TCP);
  expect(connect(e.a, c, IP_B, port)).toBe(-EINPROGRESS);
  let s = -1;
  expect(runUntil(e, () => (s = accept(e.b, l, null)) >= 0, 3000)).toBe(true);
  expect(runUntil(e, () => (poll(e.a, c) & EV_WRITABLE) !== 0, 3000)).toBe(true);
  return { l, c, s };
}

describe('socket API: SOCK_STREAM', () => {
  it('connect / accept / send / recv / shutdown / close, events carry the fds', () => {
    const e = tcpPair();
    // a UDP socket first: TCP fds share the table and must not collide with it
    const u = socket(e.b, SOCK_DGRAM, IPPROTO_UDP);
    expect(u).toBe(0);
    const l = socket(e.b, SOCK_STREAM, 0);
    expect(l).toBe(1);
    expect(bind(e.b, l, 0, 7000)).toBe(0);
    expect(listen(e.b, l, 4)).toBe(0);
    expect(getsockopt(e.b, l, SOL_SOCKET, SO_TYPE, null)).toBe(SOCK_STREAM);
    const ln = new Uint32Array(2);
    expect(getsockname(e.b, l, ln)).toBe(0);
    expect([ln[0], ln[1]]).toEqual([0, 7000]);
    expect(accept(e.b, l, null)).toBe(-EAGAIN);
    expect(poll(e.b, l)).toBe(0);

    const c = socket(e.a, SOCK_STREAM, 0);
    expect(c).toBe(0);
    expect(connect(e.a, c, IP_B, 7000)).toBe(-EINPROGRESS);
    expect(connect(e.a, c, IP_B, 7000)).toBe(-EALREADY);
    expect(getpeername(e.a, c, new Uint32Array(2))).toBe(-ENOTCONN);
    run(e, 10);
    expect(e.evA.any(c, EV_CONNECTED)).toBe(true);
    expect(e.evB.any(l, EV_READABLE)).toBe(true);
    expect(poll(e.b, l) & EV_READABLE).toBe(EV_READABLE);
    const peer = new Int32Array(2);
    const s = accept(e.b, l, peer);
    expect(s).toBe(2);
    const an = new Uint32Array(2);
    expect(getsockname(e.a, c, an)).toBe(0);
    expect(an[0]).toBe(u32(IP_A));
    expect(peer[0]).toBe(IP_A); // Int32Array: the s32 form
    expect(peer[1]).toBe(an[1]);
    const bp = new Uint32Array(2);
    expect(getpeername(e.b, s, bp)).toBe(0);
    expect([bp[0], bp[1]]).toEqual([u32(IP_A), an[1]]);
    expect(getpeername(e.a, c, bp)).toBe(0);
    expect([bp[0], bp[1]]).toEqual([u32(IP_B), 7000]);
    expect(connect(e.a, c, IP_B, 7000)).toBe(-EISCONN);
    expect(poll(e.a, c)).toBe(EV_WRITABLE);

    // A → B
    const msg = pattern(3000, 1);
    expect(send(e.a, c, msg, 0, msg.length)).toBe(3000);
    run(e, 20);
    expect(e.evB.any(s, EV_READABLE)).toBe(true);
    expect(recvLen(e.b, s)).toBe(3000);
    const got = new Uint8Array(4000);
    expect(recv(e.b, s, got, 0, 1000)).toBe(1000);
    expect(recv(e.b, s, got, 1000, 3000)).toBe(2000);
    expect(sameBytes(got.subarray(0, 3000), msg)).toBe(true);
    expect(recv(e.b, s, got, 0, 10)).toBe(-EAGAIN);
    // B → A with sendto/recvfrom: the address is ignored on a stream socket (Linux)
    const back = pattern(500, 2);
    expect(sendto(e.b, s, back, 0, 500, 0x01020304, 9)).toBe(500);
    run(e, 20);
    const from = new Uint32Array([7, 7]);
    expect(recvfrom(e.a, c, got, 0, 4000, from)).toBe(500);
    expect(sameBytes(got.subarray(0, 500), back)).toBe(true);
    expect([from[0], from[1]]).toEqual([7, 7]);

    // A shuts down writing: B reads the rest, then 0 (EOF), and can still send
    expect(send(e.a, c, msg, 0, 100)).toBe(100);
    expect(shutdown(e.a, c, SHUT_WR)).toBe(0);
    expect(send(e.a, c, msg, 0, 1)).toBe(-EPIPE);
    run(e, 20);
    expect(recv(e.b, s, got, 0, 4000)).toBe(100);
    expect(recv(e.b, s, got, 0, 4000)).toBe(0);
    expect(poll(e.b, s) & EV_READABLE).toBe(EV_READABLE);
    expect(send(e.b, s, back, 0, 200)).toBe(200);
    expect(close(e.b, s)).toBe(0);
    run(e, 50);
    expect(recv(e.a, c, got, 0, 4000)).toBe(200);
    expect(sameBytes(got.subarray(0, 200), back.subarray(0, 200))).toBe(true);
    expect(recv(e.a, c, got, 0, 4000)).toBe(0);
    expect(e.evA.any(c, EV_CLOSED)).toBe(true); // A went to TIME_WAIT: its socket's connection is over
    expect(poll(e.a, c) & EV_CLOSED).toBe(EV_CLOSED);
    expect(close(e.a, c)).toBe(0);
    expect(close(e.a, c)).toBe(-EBADF);
    expect(close(e.b, l)).toBe(0);
    expect(close(e.b, u)).toBe(0);
    expectAllClean(e);
  });

  it('connect to a closed port: EV_ERROR, SO_ERROR = ECONNREFUSED (read once), then recv 0', () => {
    const e = tcpPair();
    const c = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, c, IP_B, 9)).toBe(-EINPROGRESS);
    expect(send(e.a, c, new Uint8Array(4), 0, 4)).toBe(-EAGAIN); // still connecting
    run(e, 10);
    expect(e.evA.any(c, EV_ERROR)).toBe(true);
    expect(e.evA.any(c, EV_CONNECTED)).toBe(false);
    expect(poll(e.a, c) & EV_ERROR).toBe(EV_ERROR);
    const out = new Int32Array(1);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_ERROR, out)).toBe(ECONNREFUSED);
    expect(out[0]).toBe(ECONNREFUSED);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_ERROR, null)).toBe(0);
    expect(recv(e.a, c, new Uint8Array(4), 0, 4)).toBe(0);
    expect(close(e.a, c)).toBe(0);
    // the same through recv / sockErr
    const d = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, d, IP_B, 10)).toBe(-EINPROGRESS);
    run(e, 10);
    expect(sockErr(e.a, d)).toBe(-ECONNREFUSED);
    expect(sockErr(e.a, d)).toBe(0);
    const f = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, f, IP_B, 11)).toBe(-EINPROGRESS);
    run(e, 10);
    expect(recv(e.a, f, new Uint8Array(4), 0, 4)).toBe(-ECONNREFUSED);
    expectAllClean(e);
  });

  it('listen backlog: connections beyond it wait (SYN retransmitted) until accept makes room', () => {
    const e = tcpPair();
    const l = socket(e.b, SOCK_STREAM, 0);
    expect(bind(e.b, l, 0, 7100)).toBe(0);
    expect(listen(e.b, l, 2)).toBe(0);
    const cs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = socket(e.a, SOCK_STREAM, 0);
      expect(connect(e.a, c, IP_B, 7100)).toBe(-EINPROGRESS);
      cs.push(c);
      run(e, 5);
    }
    run(e, 100);
    expect(cs.filter((c) => e.evA.any(c, EV_CONNECTED)).length).toBe(2);
    const s1 = accept(e.b, l, null);
    const s2 = accept(e.b, l, null);
    expect(s1).toBeGreaterThanOrEqual(0);
    expect(s2).toBeGreaterThanOrEqual(0);
    expect(accept(e.b, l, null)).toBe(-EAGAIN);
    let s3 = -1;
    expect(runUntil(e, () => (s3 = accept(e.b, l, null)) >= 0, 4000)).toBe(true);
    expect(e.evA.any(cs[2], EV_CONNECTED)).toBe(true);
    expect(new Set([s1, s2, s3]).size).toBe(3);
    expectAllClean(e);
  });

  it('options round-trip; SOL_TCP on a datagram socket is ENOPROTOOPT', () => {
    const e = tcpPair();
    const { c, s } = streamPair(e, 7200);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_NODELAY, null)).toBe(0);
    expect(setsockopt(e.a, c, SOL_TCP, TCP_NODELAY, 1)).toBe(0);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_NODELAY, null)).toBe(1);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_KEEPALIVE, 1)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_KEEPALIVE, null)).toBe(1);
    expect(setsockopt(e.a, c, SOL_TCP, TCP_KEEPIDLE, 30)).toBe(0);
    expect(setsockopt(e.a, c, SOL_TCP, TCP_KEEPINTVL, 5)).toBe(0);
    expect(setsockopt(e.a, c, SOL_TCP, TCP_KEEPCNT, 3)).toBe(0);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_KEEPIDLE, null)).toBe(30);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_KEEPINTVL, null)).toBe(5);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_KEEPCNT, null)).toBe(3);
    expect(setsockopt(e.a, c, SOL_TCP, TCP_KEEPCNT, 0)).toBe(-EINVAL);
    expect(setsockopt(e.a, c, SOL_TCP, 99, 1)).toBe(-ENOPROTOOPT);
    expect(getsockopt(e.a, c, SOL_TCP, TCP_MAXSEG, null)).toBeGreaterThan(500);
    // SO_RCVBUF: an open window is never shrunk below what was promised; before connect it is taken as is
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_RCVBUF, 8192)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_RCVBUF, null)).toBe(e.a.cfg.tcpRcvBuf);
    const fresh = socket(e.a, SOCK_STREAM, 0);
    expect(setsockopt(e.a, fresh, SOL_SOCKET, SO_RCVBUF, 8192)).toBe(0);
    expect(getsockopt(e.a, fresh, SOL_SOCKET, SO_RCVBUF, null)).toBe(8192);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, 4096)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, null)).toBe(4096);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, 1 << 30)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, null)).toBe(e.a.cfg.tcpSndBuf); // clamped to the ring
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_SNDBUF, -1)).toBe(-EINVAL);
    const lg = new Int32Array(2);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_LINGER, lg)).toBe(0);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_LINGER, 5)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_LINGER, lg)).toBe(1);
    expect([lg[0], lg[1]]).toEqual([1, 5]);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_LINGER, -1)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_LINGER, lg)).toBe(0);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_LINGER, -2)).toBe(-EINVAL);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_REUSEADDR, 1)).toBe(0);
    expect(getsockopt(e.a, c, SOL_SOCKET, SO_REUSEADDR, null)).toBe(1);
    // the peer's options are its own
    expect(getsockopt(e.b, s, SOL_TCP, TCP_NODELAY, null)).toBe(0);
    const u = socket(e.a, SOCK_DGRAM, 0);
    expect(setsockopt(e.a, u, SOL_TCP, TCP_NODELAY, 1)).toBe(-ENOPROTOOPT);
    expect(getsockopt(e.a, u, SOL_TCP, TCP_NODELAY, null)).toBe(-ENOPROTOOPT);
    expect(setsockopt(e.a, u, SOL_SOCKET, SO_KEEPALIVE, 1)).toBe(0); // accepted, no effect (Linux)
    expect(getsockopt(e.a, u, SOL_SOCKET, SO_KEEPALIVE, null)).toBe(1);
    expectAllClean(e);
  });

  it('SO_LINGER 0: close sends RST, the peer sees ECONNRESET', () => {
    const e = tcpPair();
    const { c, s } = streamPair(e, 7300);
    expect(setsockopt(e.a, c, SOL_SOCKET, SO_LINGER, 0)).toBe(0);
    e.tap.clear();
    expect(close(e.a, c)).toBe(0);
    run(e, 10);
    expect(e.tap.with('A', TCPF_RST).length).toBe(1);
    expect(e.tap.with('A', TCPF_FIN).length).toBe(0);
    expect(e.evB.any(s, EV_ERROR)).toBe(true);
    expect(recv(e.b, s, new Uint8Array(8), 0, 8)).toBe(-ECONNRESET);
    expect(recv(e.b, s, new Uint8Array(8), 0, 8)).toBe(0);
    expect(send(e.b, s, new Uint8Array(8), 0, 8)).toBe(-EPIPE);
    expectAllClean(e);
  });

  it('send-buffer back-pressure: -EAGAIN when full, EV_WRITABLE when the peer reads', () => {
    const e = tcpPair({ tcpSndBuf: 8192, tcpRcvBuf: 8192 });
    const { c, s } = streamPair(e, 7400);
    const data = pattern(40000, 3);
    let off = 0;
    const fill = (): void => {
      for (;;) {
        const r = send(e.a, c, data, off, data.length - off);
        if (r === -EAGAIN) break;
        expect(r).toBeGreaterThan(0);
        off += r;
      }
    };
    fill();
    run(e, 50);
    fill(); // the receiver's window is full (nobody reads) and so is our ring
    expect(off).toBeGreaterThanOrEqual(8192);
    expect(off).toBeLessThan(data.length);
    expect(send(e.a, c, data, off, 10)).toBe(-EAGAIN);
    let more = 0;
    expect(poll(e.a, c) & EV_WRITABLE).toBe(0);
    e.evA.ev = [];
    const out = new Uint8Array(40000);
    let got = 0;
    for (let i = 0; i < 2000 && got < data.length; i++) {
      for (;;) {
        const r = recv(e.b, s, out, got, out.length - got);
        if (r <= 0) break;
        got += r;
      }
      if (off < data.length) {
        more = send(e.a, c, data, off, data.length - off);
        if (more > 0) off += more;
      }
      run(e, 1);
    }
    expect(e.evA.any(c, EV_WRITABLE)).toBe(true);
    expect(got).toBe(data.length);
    expect(sameBytes(out, data)).toBe(true);
    expectAllClean(e);
  });

  it('wrong use answers the Linux errno', () => {
    const e = tcpPair({ maxSockets: 6, tcpMaxSockets: 4 });
    const u = socket(e.a, SOCK_DGRAM, 0);
    expect(listen(e.a, u, 1)).toBe(-EOPNOTSUPP);
    expect(accept(e.a, u, null)).toBe(-EOPNOTSUPP);
    expect(shutdown(e.a, u, SHUT_WR)).toBe(-ENOTCONN);
    expect(listen(e.a, 5, 1)).toBe(-EBADF);
    expect(socket(e.a, SOCK_STREAM, IPPROTO_UDP)).toBe(-EPROTONOSUPPORT);
    const t = socket(e.a, SOCK_STREAM, 0);
    // never connected
    expect(send(e.a, t, new Uint8Array(4), 0, 4)).toBe(-EPIPE);
    expect(sendto(e.a, t, new Uint8Array(4), 0, 4, IP_B, 80)).toBe(-EPIPE);
    expect(recv(e.a, t, new Uint8Array(4), 0, 4)).toBe(-ENOTCONN);
    expect(shutdown(e.a, t, SHUT_RDWR)).toBe(-ENOTCONN);
    expect(shutdown(e.a, t, 3)).toBe(-EINVAL);
    expect(accept(e.a, t, null)).toBe(-EINVAL); // not listening
    expect(accept(e.a, t, new Uint32Array(1))).toBe(-EINVAL);
    expect(getpeername(e.a, t, new Uint32Array(2))).toBe(-ENOTCONN);
    expect(bind(e.a, t, 0x0a000001, 80)).toBe(-EADDRNOTAVAIL);
    expect(bind(e.a, t, IP_A, 80)).toBe(0);
    expect(bind(e.a, t, IP_A, 81)).toBe(-EINVAL); // already bound
    const t2 = socket(e.a, SOCK_STREAM, 0);
    expect(bind(e.a, t2, 0, 80)).toBe(-EADDRINUSE);
    expect(listen(e.a, t, 1)).toBe(0);
    expect(send(e.a, t, new Uint8Array(4), 0, 4)).toBe(-EPIPE);
    expect(recv(e.a, t, new Uint8Array(4), 0, 4)).toBe(-ENOTCONN);
    expect(connect(e.a, t, IP_B, 80)).toBe(-EINVAL);
    expect(connect(e.a, t2, IP_B, 0)).toBe(-EINVAL);
    // the TCB table (4) runs out before the fd table (6): -ENOBUFS; then the fd table: -EMFILE
    const t3 = socket(e.a, SOCK_STREAM, 0);
    const t4 = socket(e.a, SOCK_STREAM, 0);
    expect(t3).toBeGreaterThanOrEqual(0);
    expect(t4).toBeGreaterThanOrEqual(0);
    expect(socket(e.a, SOCK_STREAM, 0)).toBe(-ENOBUFS);
    expect(socket(e.a, SOCK_DGRAM, 0)).toBeGreaterThanOrEqual(0);
    expect(socket(e.a, SOCK_DGRAM, 0)).toBe(-EMFILE);
    expectAllClean(e);
  });

  it('accept with a full fd table: -EMFILE, the connection stays queued', () => {
    const e = tcpPair({ maxSockets: 2 });
    const l = socket(e.b, SOCK_STREAM, 0);
    expect(bind(e.b, l, 0, 7500)).toBe(0);
    expect(listen(e.b, l, 2)).toBe(0);
    const filler = socket(e.b, SOCK_DGRAM, 0);
    const c = socket(e.a, SOCK_STREAM, 0);
    expect(connect(e.a, c, IP_B, 7500)).toBe(-EINPROGRESS);
    run(e, 10);
    expect(accept(e.b, l, null)).toBe(-EMFILE);
    expect(close(e.b, filler)).toBe(0);
    const s = accept(e.b, l, null);
    expect(s).toBe(filler);
    expect(send(e.a, c, pattern(10, 4), 0, 10)).toBe(10);
    run(e, 10);
    const got = new Uint8Array(10);
    expect(recv(e.b, s, got, 0, 10)).toBe(10);
    expect(sameBytes(got, pattern(10, 4))).toBe(true);
    expectAllClean(e);
  });

  it('SocketApi methods on a single stack', () => {
    const clock = new ManualClock(0);
    const st = new Stack('x', undefined, clock, undefined);
    const api = new SocketApi(st);
    const fd = api.socket(SOCK_STREAM, 0);
    expect(fd).toBe(0);
    expect(st.tcp).toBeDefined();
    expect(api.bind(fd, 0, 1234)).toBe(0);
    expect(api.listen(fd, 1)).toBe(0);
    expect(api.accept(fd, null)).toBe(-EAGAIN);
    expect(api.shutdown(fd, SHUT_WR)).toBe(-ENOTCONN);
    expect(api.poll(fd)).toBe(0);
    expect(api.close(fd)).toBe(0);
    expect(st.tcp.inUse()).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  });

  it('readiness: EV_CONNECTED | EV_WRITABLE on the client, and the state behind the fd', () => {
    const e = tcpPair();
    const { c, s } = streamPair(e, 7600);
    const ev = e.evA.ev.filter((x) => x.fd === c && (x.ev & EV_CONNECTED) !== 0);
    expect(ev.length).toBe(1);
    expect(ev[0].ev & EV_WRITABLE).toBe(EV_WRITABLE);
    expect(e.a.tcp.state[e.a.sock.tcb[c]]).toBe(TCP_ESTABLISHED);
    expect(e.b.tcp.fd[e.b.sock.tcb[s]]).toBe(s);
    expectAllClean(e);
  });
});
