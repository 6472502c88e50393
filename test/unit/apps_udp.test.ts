/*
 * apps_udp.test.ts — the UDP echo (RFC 862) and discard (RFC 863) services
 * of src/apps/ on stack A, driven by a client socket on stack B over a
 * PairLink, in virtual time. Each test ends with every skb back in the pool.
 */
import { describe, it, expect } from 'vitest';
import { twoStacks, run, IP_A, Env } from './udp_util';
import { socket, bind, sendto, recvfrom, close, SOCK_DGRAM, IPPROTO_UDP } from '../../src/socket/socket';
import { EAGAIN } from '../../src/core/errno';
import { ServiceMux } from '../../src/apps/service';
import { UdpEchoService, ECHO_PORT } from '../../src/apps/echo';
import { UdpDiscardService, DISCARD_PORT } from '../../src/apps/discard';
import { UDP_INDATAGRAMS, UDP_OUTDATAGRAMS } from '../../src/core/mib';

/** Run services on A, polling both stacks; mux.run() after A's poll as `slabnet up` does. */
function runWith(e: Env, mux: ServiceMux, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    e.clock.advance(10);
    e.a.poll();
    if (mux.run() > 0) e.a.poll();
    e.b.poll();
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function setup(echoBuf: number): { e: Env; mux: ServiceMux; echo: UdpEchoService; discard: UdpDiscardService; cfd: number } {
  const e = twoStacks();
  const mux = new ServiceMux(e.a);
  const echo = new UdpEchoService(e.a, ECHO_PORT, echoBuf);
  const discard = new UdpDiscardService(e.a, DISCARD_PORT, 64);
  mux.add(echo);
  mux.add(discard);
  expect(mux.start()).toBe(0);
  expect(e.a.events).toBe(mux);
  const cfd = socket(e.b, SOCK_DGRAM, IPPROTO_UDP);
  expect(cfd).toBeGreaterThanOrEqual(0);
  expect(bind(e.b, cfd, 0, 40000)).toBe(0);
  // warm-up exchange: resolves ARP both ways (only a few datagrams may wait on ARP)
  const w = new Uint8Array(4);
  expect(sendto(e.b, cfd, w, 0, 4, IP_A, ECHO_PORT)).toBe(4);
  runWith(e, mux, 100);
  expect(recvfrom(e.b, cfd, w, 0, 4, null)).toBe(4);
  echo.datagrams = 0;
  echo.bytes = 0;
  e.a.mib.udp[UDP_INDATAGRAMS] = 0;
  e.a.mib.udp[UDP_OUTDATAGRAMS] = 0;
  return { e, mux, echo, discard, cfd };
}

function finish(x: { e: Env; mux: ServiceMux; cfd: number }): void {
  close(x.e.b, x.cfd);
  x.mux.stop();
  expect(x.e.a.events).toBe(null);
  run(x.e, 50);
  expect(x.e.a.pool.inUse()).toBe(0);
  expect(x.e.b.pool.inUse()).toBe(0);
}

describe('UDP echo service', () => {
  it('echoes datagrams byte for byte, including ones fragmented by IP', () => {
    const x = setup(8192);
    const from = new Uint32Array(2);
    const got = new Uint8Array(8192);
    const sizes = [0, 1, 100, 1472, 3000];
    for (let k = 0; k < sizes.length; k++) {
      const msg = pattern(sizes[k], k);
      expect(sendto(x.e.b, x.cfd, msg, 0, msg.length, IP_A, ECHO_PORT)).toBe(msg.length);
      runWith(x.e, x.mux, 200);
      const n = recvfrom(x.e.b, x.cfd, got, 0, got.length, from);
      expect(n).toBe(msg.length);
      for (let i = 0; i < n; i++) if (got[i] !== msg[i]) expect(`byte ${i}`).toBe('equal');
      expect(from[0]).toBe(IP_A);
      expect(from[1]).toBe(ECHO_PORT);
    }
    expect(recvfrom(x.e.b, x.cfd, got, 0, got.length, from)).toBe(-EAGAIN);
    expect(x.echo.datagrams).toBe(sizes.length);
    expect(x.echo.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(x.echo.truncated).toBe(0);
    expect(x.echo.sendErrors).toBe(0);
    expect(x.e.a.mib.udp[UDP_INDATAGRAMS]).toBe(sizes.length);
    expect(x.e.a.mib.udp[UDP_OUTDATAGRAMS]).toBe(sizes.length);
    finish(x);
  });

  it('answers a burst larger than its per-run budget', () => {
    const x = setup(256);
    const msg = pattern(10, 3);
    const N = 12; // under the socket queue limit, above nothing: all must come back
    for (let i = 0; i < N; i++) {
      msg[0] = i;
      expect(sendto(x.e.b, x.cfd, msg, 0, msg.length, IP_A, ECHO_PORT)).toBe(10);
    }
    runWith(x.e, x.mux, 300);
    const got = new Uint8Array(64);
    const seen: number[] = [];
    for (let i = 0; i < N + 1; i++) {
      const n = recvfrom(x.e.b, x.cfd, got, 0, got.length, null);
      if (n < 0) break;
      seen.push(got[0]);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(x.echo.datagrams).toBe(N);
    finish(x);
  });

  it('echoes a datagram larger than its buffer truncated, and counts it', () => {
    const x = setup(100);
    const msg = pattern(300, 9);
    expect(sendto(x.e.b, x.cfd, msg, 0, msg.length, IP_A, ECHO_PORT)).toBe(300);
    runWith(x.e, x.mux, 200);
    const got = new Uint8Array(400);
    expect(recvfrom(x.e.b, x.cfd, got, 0, got.length, null)).toBe(100);
    for (let i = 0; i < 100; i++) expect(got[i]).toBe(msg[i]);
    expect(x.echo.truncated).toBe(1);
    finish(x);
  });

  it('fails to start when the port is taken, and never throws', () => {
    const e = twoStacks();
    const fd = socket(e.a, SOCK_DGRAM, IPPROTO_UDP);
    expect(bind(e.a, fd, 0, ECHO_PORT)).toBe(0);
    const echo = new UdpEchoService(e.a, ECHO_PORT, 64);
    expect(echo.start()).toBeLessThan(0);
    expect(echo.fd).toBe(-1);
    expect(echo.run()).toBe(0);
    echo.stop();
    close(e.a, fd);
    expect(e.a.pool.inUse()).toBe(0);
  });
});

describe('UDP discard service', () => {
  it('reads and drops every datagram without replying', () => {
    const x = setup(64);
    const sizes = [0, 10, 64, 1000, 2500];
    for (let k = 0; k < sizes.length; k++) {
      const msg = pattern(sizes[k], k);
      expect(sendto(x.e.b, x.cfd, msg, 0, msg.length, IP_A, DISCARD_PORT)).toBe(msg.length);
    }
    runWith(x.e, x.mux, 300);
    const got = new Uint8Array(64);
    expect(recvfrom(x.e.b, x.cfd, got, 0, got.length, null)).toBe(-EAGAIN);
    expect(x.discard.datagrams).toBe(sizes.length);
    // whole datagrams counted even past the 64-byte scratch buffer
    expect(x.discard.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(x.e.a.mib.udp[UDP_OUTDATAGRAMS]).toBe(0);
    expect(x.e.a.sock.rcvq[x.discard.fd].qlen).toBe(0);
    finish(x);
  });
});
