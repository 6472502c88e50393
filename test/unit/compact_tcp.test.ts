/*
 * The compact stack's TCP (src/compact/tcp.ts) against the general stack's
 * TCP in the simulation: handshakes both ways, bulk both ways with the
 * bytes checked, loss, orderly close both ways, RST for a closed port,
 * refused connect, a peer that vanishes (ETIMEDOUT), TIME-WAIT reuse.
 */
import { describe, it, expect } from 'vitest';
import { Sim } from '../../src/sim/world';
import { SimCompactHost } from '../../src/sim/compact_host';
import { makeLan, LanHost } from '../scenario/helpers';
import { netSetIp, netCreate, netAttach, netRxFrame, C_TCP_RETRANS, C_TCP_RST_TX, C_TCP_DROP } from '../../src/compact/net';
import { ManualClock } from '../../src/core/clock';
import { tcpFrame, MAC_A, IP_A } from './tcp_util';
import { TCPF_SYN, TCPF_FIN } from '../../src/transport/tcp/tcp';
import { tcpListen, tcpConnect, tcpAccept, tcpRecv, tcpSend, tcpClose, tcpState } from '../../src/compact/tcp';
import { socket, bind, listen, accept, connect, send, recv, close, ensureTcp } from '../../src/socket/socket';
import { SOCK_STREAM, IPPROTO_TCP } from '../../src/socket/sock';
import { parseIpU } from './addr_util';
import { TCP_FREE, TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_CLOSE, TCP_LISTEN } from '../../src/transport/tcp/tcp';
import { ECONNREFUSED, ETIMEDOUT, EAGAIN } from '../../src/core/errno';

const PICO = parseIpU('192.0.2.50') | 0;

function lan(seed: number, over?: { tcpBuf?: number; tcbs?: number }): { sim: Sim; g: LanHost; c: SimCompactHost } {
  const sim = new Sim({ seed });
  const [g] = makeLan(sim, 1);
  ensureTcp(g.h.st);
  const c = new SimCompactHost(sim, 'pico', over !== undefined ? over : null);
  netSetIp(c.n, PICO, 0xffffff00 | 0, 0, 0);
  return { sim, g, c };
}

/** Byte i of the test stream. */
function pat(i: number, seed: number): number {
  return (i * 31 + seed + (i >>> 8)) & 0xff;
}

/**
 * Move `total` bytes from the compact block t to the general socket fd
 * (or the other way when toCompact), checking every byte. Returns bytes received.
 */
function transfer(sim: Sim, x: { g: LanHost; c: SimCompactHost }, t: number, fd: number, total: number, toCompact: boolean, maxMs: number): number {
  const st = x.g.h.st;
  const n = x.c.n;
  const buf = new Uint8Array(4096);
  let sent = 0;
  let got = 0;
  let bad = -1;
  sim.runUntil(() => {
    for (let k = 0; k < 8 && sent < total; k++) {
      const len = Math.min(1000 + (sent % 700), total - sent);
      for (let i = 0; i < len; i++) buf[i] = pat(sent + i, 7);
      const r = toCompact ? send(st, fd, buf, 0, len) : tcpSend(n, t, buf, 0, len);
      if (r <= 0) break;
      sent += r;
    }
    for (let k = 0; k < 8; k++) {
      const r = toCompact ? tcpRecv(n, t, buf, 4096) : recv(st, fd, buf, 0, 4096);
      if (r <= 0) break;
      for (let i = 0; i < r; i++) if (buf[i] !== pat(got + i, 7) && bad < 0) bad = got + i;
      got += r;
    }
    return got >= total;
  }, maxMs);
  expect(bad, 'first wrong byte at ' + bad + ' ' + sim.describe()).toBe(-1);
  return got;
}

function generalListen(x: { g: LanHost }, port: number): number {
  const st = x.g.h.st;
  const fd = socket(st, SOCK_STREAM, IPPROTO_TCP);
  expect(bind(st, fd, 0, port)).toBe(0);
  expect(listen(st, fd, 4)).toBe(0);
  return fd;
}

/** Two compact stacks on one switch (a: 192.0.2.1, ring bufA; b: 192.0.2.2, ring bufB), a connected to b's port 7 and accepted. */
function compactPair(seed: number, bufA: number, bufB: number): { sim: Sim; A: SimCompactHost; B: SimCompactHost; t: number; u: number } {
  const sim = new Sim({ seed });
  const A = new SimCompactHost(sim, 'a', { tcbs: 3, tcpBuf: bufA });
  const B = new SimCompactHost(sim, 'b', { tcbs: 2, tcpBuf: bufB });
  netSetIp(A.n, parseIpU('192.0.2.1') | 0, 0xffffff00 | 0, 0, 0);
  netSetIp(B.n, parseIpU('192.0.2.2') | 0, 0xffffff00 | 0, 0, 0);
  const L = tcpListen(B.n, 7);
  const t = tcpConnect(A.n, parseIpU('192.0.2.2') | 0, 7);
  let u = -1;
  expect(sim.runUntil(() => (u = tcpAccept(B.n, L)) >= 0, 1000)).toBe(true);
  return { sim, A, B, t, u };
}

describe('compact TCP against the general stack', () => {
  it('passive open on the compact side, 64 KB each way, orderly close from the general side', () => {
    const x = lan(11);
    const { sim, g, c } = x;
    const l = tcpListen(c.n, 80);
    expect(l).toBeGreaterThanOrEqual(0);
    const st = g.h.st;
    const fd = socket(st, SOCK_STREAM, IPPROTO_TCP);
    connect(st, fd, PICO >>> 0, 80);
    let t = -1;
    expect(sim.runUntil(() => (t = tcpAccept(c.n, l)) >= 0, 3000), sim.describe()).toBe(true);
    expect(tcpState(c.n, t)).toBe(TCP_ESTABLISHED);
    expect(transfer(sim, x, t, fd, 65536, true, 30000)).toBe(65536);
    expect(transfer(sim, x, t, fd, 65536, false, 30000)).toBe(65536);
    close(st, fd);
    const b = new Uint8Array(16);
    expect(sim.runUntil(() => tcpRecv(c.n, t, b, 16) === -1, 2000)).toBe(true);
    tcpClose(c.n, t);
    expect(sim.runUntil(() => tcpState(c.n, t) === TCP_FREE, 3000), sim.describe()).toBe(true);
    tcpClose(c.n, l);
    expect(tcpState(c.n, l)).toBe(TCP_FREE);
  });

  it('active open from the compact side, 200 KB with 5% loss each way, close from the compact side', () => {
    const x = lan(12);
    const { sim, g, c } = x;
    const lfd = generalListen(x, 7000);
    sim.setFaults(g.h, { loss: 0.05 });
    const t = tcpConnect(c.n, g.ip | 0, 7000);
    expect(t).toBeGreaterThanOrEqual(0);
    let fd = -1;
    expect(sim.runUntil(() => (fd = accept(g.h.st, lfd, null)) >= 0, 10000), sim.describe()).toBe(true);
    expect(sim.runUntil(() => tcpState(c.n, t) === TCP_ESTABLISHED, 10000)).toBe(true);
    expect(transfer(sim, x, t, fd, 200000, false, 120000)).toBe(200000);
    expect(transfer(sim, x, t, fd, 200000, true, 120000)).toBe(200000);
    expect(c.n.cnt[C_TCP_RETRANS]).toBeGreaterThan(0);
    tcpClose(c.n, t);
    const b = new Uint8Array(16);
    expect(sim.runUntil(() => recv(g.h.st, fd, b, 0, 16) === 0, 20000), sim.describe()).toBe(true);
    close(g.h.st, fd);
    expect(sim.runUntil(() => tcpState(c.n, t) === TCP_TIME_WAIT || tcpState(c.n, t) === TCP_FREE, 20000), sim.describe()).toBe(true);
  });

  it('a SYN to a closed port gets a RST; connect to a closed port is refused', () => {
    const x = lan(13);
    const { sim, g, c } = x;
    const st = g.h.st;
    const fd = socket(st, SOCK_STREAM, IPPROTO_TCP);
    connect(st, fd, PICO >>> 0, 81);
    const b = new Uint8Array(4);
    expect(sim.runUntil(() => recv(st, fd, b, 0, 4) === -ECONNREFUSED, 3000), sim.describe()).toBe(true);
    expect(c.n.cnt[C_TCP_RST_TX]).toBeGreaterThan(0);
    const t = tcpConnect(c.n, g.ip | 0, 82);
    expect(sim.runUntil(() => tcpRecv(c.n, t, b, 4) === -ECONNREFUSED, 3000), sim.describe()).toBe(true);
    expect(tcpState(c.n, t)).toBe(TCP_CLOSE);
    tcpClose(c.n, t);
    expect(tcpState(c.n, t)).toBe(TCP_FREE);
  });

  it('a peer that vanishes: the connection times out (ETIMEDOUT) with backed-off retransmissions', () => {
    const x = lan(14);
    const { sim, g, c } = x;
    const lfd = generalListen(x, 7001);
    const t = tcpConnect(c.n, g.ip | 0, 7001);
    let fd = -1;
    expect(sim.runUntil(() => (fd = accept(g.h.st, lfd, null)) >= 0, 3000)).toBe(true);
    sim.setFaults(g.h, { loss: 1 });
    const data = new Uint8Array(500);
    expect(tcpSend(c.n, t, data, 0, 500)).toBe(500);
    const b = new Uint8Array(4);
    expect(sim.runUntil(() => tcpRecv(c.n, t, b, 4) === -ETIMEDOUT, 600000), sim.describe()).toBe(true);
    const r = c.n.cnt[C_TCP_RETRANS];
    expect(r).toBeGreaterThanOrEqual(10);
    expect(r).toBeLessThan(20);
    tcpClose(c.n, t);
    expect(recv(g.h.st, fd, b, 0, 4)).toBe(-EAGAIN);
  });

  it('more connections than blocks: TIME-WAIT blocks are reused, a refused SYN is retried', () => {
    const x = lan(15, { tcbs: 2 });
    const { sim, g, c } = x;
    const lfd = generalListen(x, 7002);
    for (let k = 0; k < 5; k++) {
      const t = tcpConnect(c.n, g.ip | 0, 7002);
      expect(t, 'connect ' + k).toBeGreaterThanOrEqual(0);
      let fd = -1;
      expect(sim.runUntil(() => (fd = accept(g.h.st, lfd, null)) >= 0, 5000), 'accept ' + k + ' ' + sim.describe()).toBe(true);
      expect(sim.runUntil(() => tcpState(c.n, t) === TCP_ESTABLISHED, 5000)).toBe(true);
      tcpClose(c.n, t);
      const b = new Uint8Array(4);
      expect(sim.runUntil(() => recv(g.h.st, fd, b, 0, 4) === 0, 5000)).toBe(true);
      close(g.h.st, fd);
      expect(sim.runUntil(() => tcpState(c.n, t) === TCP_TIME_WAIT, 5000), 'tw ' + k + ' ' + sim.describe()).toBe(true);
    }
  });

  for (const seed of [21, 22, 23, 24, 25, 26]) {
    it('seed ' + seed + ': 40 KB each way through 10% loss, duplication, reordering, corruption and 20 ms delay', () => {
      const x = lan(seed, { tcpBuf: 1024 });
      const { sim, g, c } = x;
      const lfd = generalListen(x, 7100);
      sim.setFaults(g.h, { loss: 0.1, dup: 0.05, reorder: 0.1, reorderMs: 30, corrupt: 0.03, corruptFrom: 14, delayMs: 10 });
      const t = tcpConnect(c.n, g.ip | 0, 7100);
      let fd = -1;
      expect(sim.runUntil(() => (fd = accept(g.h.st, lfd, null)) >= 0, 30000), sim.describe()).toBe(true);
      expect(transfer(sim, x, t, fd, 40000, false, 300000)).toBe(40000);
      expect(transfer(sim, x, t, fd, 40000, true, 300000)).toBe(40000);
      tcpClose(c.n, t);
      close(g.h.st, fd);
      expect(sim.runUntil(() => tcpState(c.n, t) === TCP_TIME_WAIT || tcpState(c.n, t) === TCP_FREE, 120000), sim.describe()).toBe(true);
    });
  }

  it('compact to compact with unequal buffers (1536 and 1024): no silly-window deadlock (RFC 1122 §4.2.3.4 half-window rule)', () => {
    const { sim, A, B, t, u } = compactPair(1, 1536, 1024);
    const blk = new Uint8Array(1460);
    for (let i = 0; i < 1460; i++) blk[i] = pat(i, 3);
    const buf = new Uint8Array(1460);
    let sent = 0;
    let got = 0;
    let bad = -1;
    // the sender offers the rest of a 1460-byte block at a time: the receiver's window settles at 664
    for (let k = 0; k < 400 && got < 11 * 1460; k++) {
      if (sent < 11 * 1460) {
        const r = tcpSend(A.n, t, blk, sent % 1460, 1460 - (sent % 1460));
        if (r > 0) sent += r;
      }
      sim.run(1);
      let g;
      while ((g = tcpRecv(B.n, u, buf, 1460)) > 0) {
        for (let i = 0; i < g; i++) if (buf[i] !== blk[(got + i) % 1460] && bad < 0) bad = got + i;
        got += g;
      }
    }
    expect(got).toBe(11 * 1460);
    expect(bad).toBe(-1);
  });

  it('closing a listener leaves other listeners and owned connections alone, and sends no RST', () => {
    const x = lan(31);
    const { c } = x;
    const a = tcpListen(c.n, 7);
    const b = tcpListen(c.n, 80);
    expect(a).toBe(0);
    expect(b).toBe(1);
    tcpClose(c.n, a);
    expect(tcpState(c.n, a)).toBe(TCP_FREE);
    expect(tcpState(c.n, b)).toBe(TCP_LISTEN);
    expect(c.n.cnt[C_TCP_RST_TX]).toBe(0);
  });

  it('a sender with a 1 KB ring and a receiver with a large one: no delayed-ACK stall per segment (MSS at most half the ring, ACK every second segment as received)', () => {
    const { sim, A, B, t, u } = compactPair(2, 1024, 2920);
    const blk = new Uint8Array(1024);
    const buf = new Uint8Array(4096);
    let sent = 0;
    let got = 0;
    const t0 = sim.now();
    // 32 KB: with one segment in flight and a 40 ms delayed ACK per segment this takes > 1 s
    expect(sim.runUntil(() => {
      while (sent < 32768) {
        const w = tcpSend(A.n, t, blk, 0, Math.min(1024, 32768 - sent));
        if (w <= 0) break;
        sent += w;
      }
      let g;
      while ((g = tcpRecv(B.n, u, buf, 4096)) > 0) got += g;
      return got >= 32768;
    }, 5000), sim.describe()).toBe(true);
    expect(sim.now() - t0).toBeLessThan(300);
  });
});

describe('compact TCP at a listener, crafted segments', () => {
  it('SYN+FIN is dropped and counted (no SYN-ACK, no block taken); the same SYN without FIN is answered', () => {
    const sent: Uint8Array[] = [];
    const n = netCreate(null, MAC_A, new ManualClock(0), 7);
    netAttach(n, { xmit: (b: Uint8Array, len: number) => sent.push(b.slice(0, len)) });
    netSetIp(n, IP_A, 0xffffff00 | 0, 0, 0);
    const l = tcpListen(n, 80);
    expect(l).toBeGreaterThanOrEqual(0);
    sent.length = 0;
    const drops = n.cnt[C_TCP_DROP];
    const synFin = tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_SYN | TCPF_FIN, opts: [2, 4, 5, 0xb4] });
    netRxFrame(n, synFin, synFin.length);
    expect(n.cnt[C_TCP_DROP]).toBe(drops + 1);
    expect(sent.length).toBe(0);
    for (let t = 0; t < n.cfg.tcbs; t++) expect([TCP_FREE, TCP_LISTEN]).toContain(tcpState(n, t));
    const syn = tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_SYN, opts: [2, 4, 5, 0xb4] });
    netRxFrame(n, syn, syn.length);
    // a SYN-ACK, or the ARP request for B that stands in for it (no ARP entry yet)
    expect(sent.length).toBe(1);
    expect(n.cnt[C_TCP_DROP]).toBe(drops + 1);
  });
});
