/*
 * Shared helpers for the scenario tests (simulated LANs in virtual time).
 * Not a test file itself.
 */
import { u32 } from '../../src/core/bits';
import { expect } from 'vitest';
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import { socket, bind, sendto, recvfrom, close } from '../../src/socket/socket';
import { SOCK_DGRAM } from '../../src/socket/sock';
import { ENOBUFS, EHOSTUNREACH } from '../../src/core/errno';
import type { StackConfig } from '../../src/config';
import { ifconfig } from '../../src/ipv4/devinet';
import { icmpPing } from '../../src/ipv4/icmp';
import { parseIpU } from '../unit/addr_util';
import { neighFlushAll } from '../../src/link/arp';
import { ICMP_INCSUMERRORS, IP_INCSUMERRORS, IP_INHDRERRORS, UDP_INCSUMERRORS } from '../../src/core/mib';

/** Records echo replies seen by one stack. */
export class PingLog {
  readonly got = new Set<string>();
  replies = 0;
  constructor(readonly h: SimHost) {
    h.st.icmp.echoHandler = {
      onEchoReply: (saddr: number, ident: number, seq: number, len: number) => {
        this.replies++;
        // saddr arrives as s32 (src/core/inaddr.ts); the tests use the unsigned form
        this.got.add(u32(saddr) + ':' + ident + ':' + seq + ':' + len);
      },
    };
  }
  has(saddr: number, ident: number, seq: number, len: number): boolean {
    return this.got.has(saddr + ':' + ident + ':' + seq + ':' + len);
  }
}

export interface LanHost {
  h: SimHost;
  ip: number;
  ping: PingLog;
}

/** n more hosts on the first switch, h<k> with 192.0.2.(10+k)/24 (k = host index), devices up. */
export function makeLan(sim: Sim, n: number, over?: Partial<StackConfig>): LanHost[] {
  const out: LanHost[] = [];
  for (let i = 0; i < n; i++) {
    const k = sim.hosts.length;
    const h = sim.addHost('h' + k, over);
    const addr = '192.0.2.' + (10 + k);
    expect(ifconfig(h.st, h.dev(0), addr + '/24', null)).toBe(0);
    sim.up(h);
    out.push({ h, ip: parseIpU(addr), ping: new PingLog(h) });
  }
  return out;
}

/**
 * Ping `to` from `from` (payload len), retrying every intervalMs up to
 * `tries` times with increasing sequence numbers. Returns the attempt that
 * succeeded (1-based) or 0.
 */
export function pingWithRetries(
  sim: Sim, from: LanHost, to: number, ident: number, len: number, tries: number, intervalMs: number,
): number {
  for (let k = 0; k < tries; k++) {
    const seq = k + 1;
    icmpPing(from.h.st, to, ident, seq, len);
    if (sim.runUntil(() => from.ping.has(to, ident, seq, len), intervalMs)) return k + 1;
  }
  return 0;
}

/** Checksum/header errors detected by a stack (corrupted frames end up here). */
export function csumErrors(h: SimHost): number {
  const m = h.st.mib;
  return m.ip[IP_INCSUMERRORS] + m.ip[IP_INHDRERRORS] + m.icmp[ICMP_INCSUMERRORS] + m.udp[UDP_INCSUMERRORS];
}

/** Let everything drain (reassembly timeouts included), flush ARP queues, and assert every skb and wire slot is back. */
export function expectAllFree(sim: Sim): void {
  // incomplete reassemblies hold a large skb until they time out
  let wait = 100;
  for (const h of sim.hosts) if (h.st.cfg.reasmTimeoutMs + 100 > wait) wait = h.st.cfg.reasmTimeoutMs + 100;
  sim.run(wait);
  for (const h of sim.hosts) neighFlushAll(h.st, false);
  sim.run(100);
  for (const h of sim.hosts) {
    expect(h.st.pool.inUse(), h.name + ' skbs in use, ' + sim.describe()).toBe(0);
    expect(h.st.pool.badFrees, h.name + ' bad frees, ' + sim.describe()).toBe(0);
  }
  expect(sim.fabric.pool.inUse, 'wire slots in use, ' + sim.describe()).toBe(0);
}

/** A UDP echo server on one host: answers every datagram to its sender (a SimTicker). */
export class UdpEchoServer implements SimTicker {
  readonly fd: number;
  readonly buf = new Uint8Array(2048);
  readonly from = new Uint32Array(2);
  echoed = 0;
  constructor(readonly h: SimHost, port: number) {
    this.fd = socket(h.st, SOCK_DGRAM, 0);
    expect(this.fd).toBeGreaterThanOrEqual(0);
    expect(bind(h.st, this.fd, 0, port)).toBe(0);
  }
  onTick(): number {
    let n = 0;
    for (;;) {
      const r = recvfrom(this.h.st, this.fd, this.buf, 0, this.buf.length, this.from);
      if (r < 0) break;
      sendto(this.h.st, this.fd, this.buf, 0, r, this.from[0], this.from[1]);
      this.echoed++;
      n++;
    }
    return n;
  }
  close(): void {
    expect(close(this.h.st, this.fd)).toBe(0);
  }
}

/** Fill buf[0..len) with a pattern derived from tag. */
export function fillPattern(buf: Uint8Array, len: number, tag: number): void {
  for (let i = 0; i < len; i++) buf[i] = (tag * 31 + i * 7) & 0xff;
}

export function checkPattern(buf: Uint8Array, len: number, tag: number): boolean {
  for (let i = 0; i < len; i++) if (buf[i] !== ((tag * 31 + i * 7) & 0xff)) return false;
  return true;
}

/**
 * Send `count` UDP datagrams of `len` bytes from fd on `from` to (daddr, port),
 * each retried until its echo (right tag, intact payload) comes back.
 * Returns the number of datagrams echoed; `bad` counts mismatching echoes.
 */
export function udpExchange(
  sim: Sim, from: SimHost, fd: number, daddr: number, port: number, count: number, len: number, tries: number, waitMs: number,
): { ok: number; sends: number; bad: number } {
  const out = new Uint8Array(len);
  const inb = new Uint8Array(len + 16);
  const src = new Uint32Array(2);
  let ok = 0;
  let sends = 0;
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const tag = i + 1;
    fillPattern(out, len, tag);
    out[0] = tag & 0xff;
    let done = false;
    for (let k = 0; k < tries && !done; k++) {
      // -ENOBUFS (ARP queue full while resolving) and -EHOSTUNREACH (resolution
      // failed) are the datagram's loss, like any other: retried
      const rc = sendto(from.st, fd, out, 0, len, daddr, port);
      expect([len, -ENOBUFS, -EHOSTUNREACH]).toContain(rc);
      sends++;
      done = sim.runUntil(() => {
        for (;;) {
          const r = recvfrom(from.st, fd, inb, 0, inb.length, src);
          if (r < 0) return false;
          // late duplicates / retransmissions of earlier datagrams carry another tag
          if (r !== len || inb[0] !== (tag & 0xff) || src[0] !== daddr || src[1] !== port) continue;
          let same = true;
          for (let j = 1; j < len; j++) if (inb[j] !== out[j]) same = false;
          if (same) return true;
          bad++;
        }
      }, waitMs);
    }
    if (done) ok++;
  }
  return { ok, sends, bad };
}
