/*
 * Fuzz: thousands of random and mutated frames (seeded) fed into a stack
 * through rxFrame + poll: random bytes, and valid ARP / ICMP / UDP / IP
 * fragment frames that are truncated, bit-flipped, given bad lengths or
 * header fields (with the IP checksum sometimes fixed up so the damage
 * reaches the layers above). Nothing may throw, the drop counters must
 * account for what was refused, and every skb must come back.
 */
import { describe, it, expect } from 'vitest';
import { Sim, SimHost } from '../../src/sim/world';
import { SimRng } from '../../src/sim/prng';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpU } from '../unit/addr_util';
import { rxFrame } from '../../src/link/dev';
import { neighFlushAll } from '../../src/link/arp';
import { socket, bind, recv, close } from '../../src/socket/socket';
import { SOCK_DGRAM, SOCK_RAW } from '../../src/socket/sock';
import { ipCompute, csumPartial, csumFinish, csumTcpUdpMagic } from '../../src/core/checksum';
import { put16, put32 } from '../../src/core/bytes';
import {
  LINK_RXFRAMES, LINK_RXRUNTS, LINK_RXNOTFORUS, LINK_RXUNKNOWNTYPE,
  IP_INRECEIVES, IP_INHDRERRORS, IP_INCSUMERRORS, IP_INTRUNCATEDPKTS, IP_INADDRERRORS, IP_INDISCARDS,
  IP_INUNKNOWNPROTOS, IP_INDELIVERS, IP_REASMREQDS, ICMP_INCSUMERRORS, ICMP_INMSGS, UDP_INERRORS,
  UDP_INCSUMERRORS, UDP_INDATAGRAMS, UDP_NOPORTS, DEV_RX_DROPPED,
} from '../../src/core/mib';

const MY_IP = '192.0.2.2';
const PEER_IP = '192.0.2.99';
const PEER_MAC = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

function ethHdr(b: Uint8Array, dst: Uint8Array | number[], type: number): void {
  for (let i = 0; i < 6; i++) {
    b[i] = dst[i];
    b[6 + i] = PEER_MAC[i];
  }
  put16(b, 12, type);
}

function ipHdr(b: Uint8Array, o: number, totlen: number, proto: number, saddr: number, daddr: number, id: number, fragoff: number): void {
  b[o] = 0x45;
  b[o + 1] = 0;
  put16(b, o + 2, totlen);
  put16(b, o + 4, id);
  put16(b, o + 6, fragoff);
  b[o + 8] = 64;
  b[o + 9] = proto;
  put16(b, o + 10, 0);
  put32(b, o + 12, saddr);
  put32(b, o + 16, daddr);
  put16(b, o + 10, ipCompute(b, o, 20));
}

/** Valid frames addressed to the stack under test. */
function templates(myMac: Uint8Array): Uint8Array[] {
  const me = parseIpU(MY_IP);
  const peer = parseIpU(PEER_IP);
  const out: Uint8Array[] = [];
  const bc = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  // ARP request who-has MY_IP
  {
    const b = new Uint8Array(42);
    ethHdr(b, bc, 0x0806);
    put16(b, 14, 1);
    put16(b, 16, 0x0800);
    b[18] = 6;
    b[19] = 4;
    put16(b, 20, 1);
    for (let i = 0; i < 6; i++) b[22 + i] = PEER_MAC[i];
    put32(b, 28, peer);
    put32(b, 38, me);
    out.push(b);
    // ARP reply to us
    const r = new Uint8Array(b);
    for (let i = 0; i < 6; i++) r[i] = myMac[i];
    put16(r, 20, 2);
    for (let i = 0; i < 6; i++) r[32 + i] = myMac[i];
    out.push(r);
  }
  // ICMP echo request, 64 bytes payload
  {
    const plen = 64;
    const b = new Uint8Array(14 + 20 + 8 + plen);
    ethHdr(b, myMac, 0x0800);
    ipHdr(b, 14, 20 + 8 + plen, 1, peer, me, 0x1234, 0);
    b[34] = 8;
    b[35] = 0;
    put16(b, 38, 0x77);
    put16(b, 40, 1);
    for (let i = 0; i < plen; i++) b[42 + i] = i & 0xff;
    put16(b, 36, ipCompute(b, 34, 8 + plen));
    out.push(b);
  }
  // UDP to the bound port 5000 and to a closed port
  for (const dport of [5000, 5001]) {
    const plen = 40;
    const b = new Uint8Array(14 + 20 + 8 + plen);
    ethHdr(b, myMac, 0x0800);
    ipHdr(b, 14, 20 + 8 + plen, 17, peer, me, 0x2000 + dport, 0);
    put16(b, 34, 1234);
    put16(b, 36, dport);
    put16(b, 38, 8 + plen);
    for (let i = 0; i < plen; i++) b[42 + i] = (i * 3) & 0xff;
    const s = csumPartial(b, 34, 8 + plen, csumTcpUdpMagic(peer, me, 8 + plen, 17));
    let c = csumFinish(s);
    if (c === 0) c = 0xffff;
    put16(b, 40, c);
    out.push(b);
  }
  // two fragments of one ICMP echo (first with MF, second at offset 64)
  {
    const total = 8 + 120;
    const icmp = new Uint8Array(total);
    icmp[0] = 8;
    put16(icmp, 4, 0x99);
    put16(icmp, 6, 3);
    for (let i = 8; i < total; i++) icmp[i] = i & 0xff;
    put16(icmp, 2, ipCompute(icmp, 0, total));
    const f1 = new Uint8Array(14 + 20 + 64);
    ethHdr(f1, myMac, 0x0800);
    ipHdr(f1, 14, 20 + 64, 1, peer, me, 0x4444, 0x2000);
    for (let i = 0; i < 64; i++) f1[34 + i] = icmp[i];
    const f2 = new Uint8Array(14 + 20 + (total - 64));
    ethHdr(f2, myMac, 0x0800);
    ipHdr(f2, 14, 20 + total - 64, 1, peer, me, 0x4444, 64 / 8);
    for (let i = 64; i < total; i++) f2[34 + i - 64] = icmp[i];
    out.push(f1, f2);
  }
  return out;
}

/** Mutate a copy of frame t into buf; returns the length to feed. */
function mutate(r: SimRng, t: Uint8Array, buf: Uint8Array): number {
  let len = t.length;
  for (let i = 0; i < len; i++) buf[i] = t[i];
  const kind = r.below(8);
  if (kind === 0) {
    len = r.below(len + 1); // truncate
  } else if (kind === 1) {
    const n = 1 + r.below(4);
    for (let k = 0; k < n; k++) buf[r.below(len)] ^= 1 + r.below(255);
  } else if (kind === 2 && len >= 34) {
    put16(buf, 16, r.below(65536)); // IP total length
  } else if (kind === 3 && len >= 34) {
    buf[14] = (buf[14] & 0xf0) | r.below(16); // IHL
  } else if (kind === 4 && len >= 42) {
    put16(buf, 38, r.below(65536)); // UDP length / ICMP id
  } else if (kind === 5 && len >= 34) {
    put16(buf, 20, r.below(65536)); // flags + fragment offset
  } else if (kind === 6) {
    const extra = r.below(200); // trailing garbage (Ethernet padding)
    for (let i = 0; i < extra && len < buf.length; i++) buf[len++] = r.below(256);
  } else {
    buf[14 + r.below(Math.max(1, len - 14))] = r.below(256);
  }
  // half the time fix the IP header checksum so the damage goes deeper
  if (len >= 34 && buf[12] === 0x08 && buf[13] === 0x00 && r.chance(0.5)) {
    const ihl = (buf[14] & 0x0f) * 4;
    if (ihl >= 20 && 14 + ihl <= len) {
      put16(buf, 24, 0);
      put16(buf, 24, ipCompute(buf, 14, ihl));
    }
  }
  return len;
}

function sumIpDrops(h: SimHost): number {
  const m = h.st.mib.ip;
  return m[IP_INHDRERRORS] + m[IP_INCSUMERRORS] + m[IP_INTRUNCATEDPKTS] + m[IP_INADDRERRORS] + m[IP_INDISCARDS] + m[IP_INUNKNOWNPROTOS];
}

describe('rx fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`random and mutated frames never throw and every skb returns (seed ${seed})`, () => {
      const sim = new Sim({ seed });
      const h = sim.addHost('dut', { reasmTimeoutMs: 500, icmpRatePerSec: 1000, icmpRateBurst: 100 });
      expect(ifconfig(h.st, h.dev(0), MY_IP + '/24', '192.0.2.1')).toBe(0);
      sim.up(h);
      const st = h.st;
      const dev = h.dev(0);
      const myMac = st.link.devs[dev].mac;
      const fd = socket(st, SOCK_DGRAM, 0);
      expect(bind(st, fd, 0, 5000)).toBe(0);
      const rawFd = socket(st, SOCK_RAW, 1);
      expect(rawFd).toBeGreaterThanOrEqual(0);
      const sink = new Uint8Array(2048);
      const r = new SimRng(seed * 7919);
      const tpl = templates(myMac);
      const buf = new Uint8Array(1600);
      const N = 6000;
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < N; i++) {
        let len: number;
        const what = r.below(10);
        if (what === 0) {
          // pure random bytes, sometimes with a plausible header
          len = r.below(1515);
          for (let k = 0; k < len; k++) buf[k] = r.below(256);
          if (len >= 14 && r.chance(0.5)) {
            for (let k = 0; k < 6; k++) buf[k] = myMac[k];
            put16(buf, 12, r.chance(0.5) ? 0x0800 : 0x0806);
          }
        } else if (what === 1) {
          // an intact template
          const t = tpl[r.below(tpl.length)];
          for (let k = 0; k < t.length; k++) buf[k] = t[k];
          len = t.length;
        } else {
          len = mutate(r, tpl[r.below(tpl.length)], buf);
        }
        let rc = 0;
        expect(() => {
          rc = rxFrame(st, dev, buf, 0, len);
          st.poll();
        }, `frame ${i} ${sim.describe()}`).not.toThrow();
        if (rc === 0) accepted++;
        else refused++;
        if (i % 50 === 49) {
          while (recv(st, fd, sink, 0, sink.length) >= 0);
          while (recv(st, rawFd, sink, 0, sink.length) >= 0);
          sim.run(20);
        }
      }
      sim.run(1000);
      while (recv(st, fd, sink, 0, sink.length) >= 0);
      while (recv(st, rawFd, sink, 0, sink.length) >= 0);
      const L = st.mib.link;
      const I = st.mib.ip;
      const msg = sim.describe();
      // every frame was either refused by the driver helper (counted) or received
      expect(L[LINK_RXFRAMES], msg).toBe(accepted);
      expect(st.link.devs[dev].stats.v[DEV_RX_DROPPED], msg).toBeGreaterThanOrEqual(refused);
      // the malformed classes were seen and counted
      expect(L[LINK_RXRUNTS] + L[LINK_RXNOTFORUS] + L[LINK_RXUNKNOWNTYPE], msg).toBeGreaterThan(0);
      expect(I[IP_INRECEIVES], msg).toBeGreaterThan(0);
      expect(I[IP_INHDRERRORS] + I[IP_INTRUNCATEDPKTS], msg).toBeGreaterThan(0);
      expect(I[IP_INCSUMERRORS], msg).toBeGreaterThan(0);
      expect(sumIpDrops(h), msg).toBeLessThanOrEqual(I[IP_INRECEIVES]);
      expect(I[IP_INDELIVERS] + sumIpDrops(h), msg).toBeLessThanOrEqual(I[IP_INRECEIVES]);
      expect(I[IP_REASMREQDS], msg).toBeGreaterThan(0);
      expect(st.mib.icmp[ICMP_INMSGS], msg).toBeGreaterThan(0);
      expect(st.mib.icmp[ICMP_INCSUMERRORS], msg).toBeGreaterThan(0);
      const U = st.mib.udp;
      expect(U[UDP_INDATAGRAMS], msg).toBeGreaterThan(0);
      expect(U[UDP_NOPORTS], msg).toBeGreaterThan(0);
      expect(U[UDP_INERRORS] + U[UDP_INCSUMERRORS], msg).toBeGreaterThan(0);
      expect(close(st, fd)).toBe(0);
      expect(close(st, rawFd)).toBe(0);
      neighFlushAll(st, false);
      sim.run(100);
      expect(st.pool.inUse(), msg).toBe(0);
      expect(st.pool.badFrees, msg).toBe(0);
    });
  }

  it('frames longer than the MTU and zero-length frames are refused and counted', () => {
    const sim = new Sim({ seed: 4 });
    const h = sim.addHost('dut');
    sim.up(h);
    const st = h.st;
    const big = new Uint8Array(3000);
    expect(rxFrame(st, h.dev(0), big, 0, 3000)).toBeLessThan(0);
    expect(rxFrame(st, h.dev(0), big, 0, 0)).toBe(0);
    st.poll();
    expect(st.mib.link[LINK_RXRUNTS]).toBe(1);
    expect(st.link.devs[h.dev(0)].stats.v[DEV_RX_DROPPED]).toBeGreaterThanOrEqual(2);
    expect(st.pool.inUse()).toBe(0);
  });
});
