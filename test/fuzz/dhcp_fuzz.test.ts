/*
 * Fuzz: DHCP (src/wire/dhcp.ts, src/apps/dhcp_client.ts, dhcp_server.ts).
 *
 *   1. the parser: 120,000 seeded cases per run — random bytes, and valid
 *      OFFER/ACK/NAK/REQUEST messages (overloaded file/sname, long option
 *      lists) bit-flipped, truncated, extended, with corrupted option
 *      lengths, codes and overload values, at random offsets in a larger
 *      buffer. The buffer is a bounds-checking proxy: any read outside
 *      b[off .. off+len) throws; reads are counted (bounded work: at most
 *      len + 64 per message). No exception, results consistent.
 *   2. the client: hostile replies carrying its own xid and MAC (so they
 *      reach the state machine), with random lease times, masks, routers
 *      and DNS lists, injected off the wire in every state while virtual
 *      time runs; the device's addresses and routes must always match the
 *      client's state, and every skb comes back.
 *   3. the server: random and mutated requests from many MACs.
 *
 * The seed: DHCP_FUZZ_SEED=N (default fixed seeds); every failure message
 * carries the seed and the case number, so `DHCP_FUZZ_SEED=N npx vitest run
 * test/fuzz/dhcp_fuzz.test.ts` replays it.
 */
import { describe, it, expect } from 'vitest';
import { SimRng } from '../../src/sim/prng';
import { Sim } from '../../src/sim/world';
import { rxFrame } from '../../src/link/dev';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpStrict } from '../../src/link/ifaddr';
import { put16, put32 } from '../../src/core/bytes';
import { csumPartial, csumFinish, csumTcpUdpMagic, ipCompute } from '../../src/core/checksum';
import { s32 } from '../../src/core/bits';
import {
  DhcpMsg, dhcpParse, dhcpPutHeader, dhcpPutOpt8, dhcpPutOpt16, dhcpPutOpt32, dhcpPutOptBytes, dhcpPutOptAddrs,
  dhcpPutEnd, DHCP_OPTIONS, DHCP_FILE, DHCP_SNAME, DHCP_PARSE_OK, DHCP_ESHORT, DHCP_EMAGIC, DHCP_ETRUNC,
  BOOTREPLY, BOOTREQUEST, DHCPOFFER, DHCPACK, DHCPNAK, DHCPREQUEST, DHCPDISCOVER, DHCPDECLINE, DHCPRELEASE,
  DHO_MSG_TYPE, DHO_SERVER_ID, DHO_LEASE_TIME, DHO_T1, DHO_T2, DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS, DHO_OVERLOAD,
  DHO_CLIENT_ID, DHO_HOST_NAME, DHO_PARAM_REQ, DHO_MESSAGE, DHO_REQUESTED_IP, DHO_MAX_MSG_SIZE, DHO_PAD, DHO_END,
  DHCP_FLAG_BROADCAST,
} from '../../src/wire/dhcp';
import {
  DhcpClient, DHCP_BOUND, DHCP_RENEWING, DHCP_REBINDING, DHCP_STOPPED, DHCP_PROBING,
} from '../../src/apps/dhcp_client';
import { DhcpServer } from '../../src/apps/dhcp_server';
import { neighFlushAll } from '../../src/link/arp';

const ENV_SEED = process.env.DHCP_FUZZ_SEED !== undefined ? Number(process.env.DHCP_FUZZ_SEED) : -1;
function seeds(defaults: number[]): number[] {
  return ENV_SEED >= 0 ? [ENV_SEED] : defaults;
}

/* ---------------- a bounds-checking buffer ---------------- */

class OutOfBounds extends Error {}

interface Probe {
  lo: number;
  hi: number;
  reads: number;
}

/** A proxy over b that throws on a read of an index outside [probe.lo, probe.hi) and counts reads. */
function checkedBuffer(b: Uint8Array, probe: Probe): Uint8Array {
  return new Proxy(b, {
    get(t, k) {
      if (typeof k === 'string') {
        const c = k.charCodeAt(0);
        if (c >= 48 && c <= 57) {
          const i = Number(k);
          probe.reads++;
          if (i < probe.lo || i >= probe.hi) throw new OutOfBounds('read b[' + i + '] outside [' + probe.lo + ', ' + probe.hi + ')');
          return t[i];
        }
        if (k === 'length') return t.length;
      }
      return Reflect.get(t, k, t);
    },
  }) as Uint8Array;
}

/* ---------------- templates ---------------- */

const MAC = new Uint8Array([2, 0x73, 0x6c, 1, 0, 0]);

function tmpl(build: (b: Uint8Array, o: number) => number, op: number, flags: number): Uint8Array {
  const b = new Uint8Array(900);
  let o = dhcpPutHeader(b, 0, op, 0x12345678, 3, flags, 0, parseIpStrict('192.0.2.100'), 0, MAC, 0);
  o = build(b, o);
  const n = dhcpPutEnd(b, 0, o);
  return b.slice(0, n);
}

function templates(): Uint8Array[] {
  const dns = new Int32Array([parseIpStrict('192.0.2.53'), parseIpStrict('192.0.2.54'), parseIpStrict('9.9.9.9')]);
  const name = new Uint8Array([112, 105, 99, 111]);
  const cid = new Uint8Array([1, 2, 0x73, 0x6c, 1, 0, 0]);
  const prl = new Uint8Array([1, 3, 6, 51, 58, 59]);
  const full = (type: number) => (b: Uint8Array, o0: number): number => {
    let o = dhcpPutOpt8(b, o0, DHO_MSG_TYPE, type);
    o = dhcpPutOpt32(b, o, DHO_SERVER_ID, parseIpStrict('192.0.2.1'));
    o = dhcpPutOpt32(b, o, DHO_LEASE_TIME, 300);
    o = dhcpPutOpt32(b, o, DHO_T1, 150);
    o = dhcpPutOpt32(b, o, DHO_T2, 262);
    o = dhcpPutOpt32(b, o, DHO_SUBNET_MASK, 0xffffff00);
    o = dhcpPutOpt32(b, o, DHO_ROUTER, parseIpStrict('192.0.2.1'));
    o = dhcpPutOptAddrs(b, o, DHO_DNS, dns, 3);
    o = dhcpPutOptBytes(b, o, DHO_CLIENT_ID, cid, 0, cid.length);
    return o;
  };
  const out: Uint8Array[] = [];
  out.push(tmpl(full(DHCPOFFER), BOOTREPLY, DHCP_FLAG_BROADCAST));
  out.push(tmpl(full(DHCPACK), BOOTREPLY, 0));
  out.push(tmpl((b, o0) => {
    let o = dhcpPutOpt8(b, o0, DHO_MSG_TYPE, DHCPNAK);
    o = dhcpPutOpt32(b, o, DHO_SERVER_ID, parseIpStrict('192.0.2.1'));
    return dhcpPutOptBytes(b, o, DHO_MESSAGE, name, 0, name.length);
  }, BOOTREPLY, 0));
  out.push(tmpl((b, o0) => {
    let o = dhcpPutOpt8(b, o0, DHO_MSG_TYPE, DHCPREQUEST);
    o = dhcpPutOptBytes(b, o, DHO_CLIENT_ID, cid, 0, cid.length);
    o = dhcpPutOpt16(b, o, DHO_MAX_MSG_SIZE, 576);
    o = dhcpPutOptBytes(b, o, DHO_HOST_NAME, name, 0, name.length);
    o = dhcpPutOptBytes(b, o, DHO_PARAM_REQ, prl, 0, prl.length);
    o = dhcpPutOpt32(b, o, DHO_REQUESTED_IP, parseIpStrict('192.0.2.100'));
    return dhcpPutOpt32(b, o, DHO_SERVER_ID, parseIpStrict('192.0.2.1'));
  }, BOOTREQUEST, DHCP_FLAG_BROADCAST));
  // an ACK whose options continue in file and sname (option 52 = 3)
  {
    const b = tmpl((bb, o0) => {
      let o = dhcpPutOpt8(bb, o0, DHO_MSG_TYPE, DHCPACK);
      return dhcpPutOpt8(bb, o, DHO_OVERLOAD, 3);
    }, BOOTREPLY, 0);
    let o = full(DHCPACK)(b, DHCP_FILE);
    b[o] = DHO_END;
    o = dhcpPutOpt32(b, DHCP_SNAME, DHO_LEASE_TIME, 0xffffffff);
    o = dhcpPutOptAddrs(b, o, DHO_DNS, dns, 2);
    b[o] = DHO_END;
    out.push(b);
  }
  // pads and many small options, no END
  {
    const b = new Uint8Array(600);
    let o = dhcpPutHeader(b, 0, BOOTREPLY, 0x12345678, 0, 0, 0, parseIpStrict('192.0.2.101'), 0, MAC, 0);
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, DHCPOFFER);
    for (let i = 0; i < 40; i++) b[o++] = DHO_PAD;
    for (let i = 0; o + 6 < b.length; i++) o = dhcpPutOpt32(b, o, 100 + (i % 100), i);
    out.push(b.slice(0, o));
  }
  return out;
}

/** The byte offsets where options start in region [s, e) of t (for targeted corruption). */
function optionStarts(t: Uint8Array, s: number, e: number): number[] {
  const out: number[] = [];
  let i = s;
  while (i < e && i < t.length) {
    const c = t[i];
    if (c === DHO_PAD) {
      i++;
      continue;
    }
    if (c === DHO_END || i + 1 >= e) break;
    out.push(i);
    i += 2 + t[i + 1];
  }
  return out;
}

const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff, DHO_OVERLOAD, DHO_END, DHO_PAD, DHO_DNS, DHO_MSG_TYPE];

/** Mutate template t into w[0..); returns the message length. */
function mutate(r: SimRng, t: Uint8Array, w: Uint8Array): number {
  let len = t.length;
  for (let i = 0; i < len; i++) w[i] = t[i];
  const starts = optionStarts(t, DHCP_OPTIONS, t.length);
  const n = 1 + r.below(6);
  for (let k = 0; k < n; k++) {
    const kind = r.below(10);
    if (kind === 0) {
      len = r.below(len + 1); // truncate
    } else if (kind === 1) {
      const add = r.below(200); // extend with garbage
      for (let i = 0; i < add && len < w.length; i++) w[len++] = r.below(256);
    } else if (kind === 2 && len > 0) {
      w[r.below(len)] ^= 1 << r.below(8); // bit flip
    } else if (kind === 3 && len > 0) {
      w[r.below(len)] = INTERESTING[r.below(INTERESTING.length)];
    } else if (kind === 4 && starts.length > 0) {
      const s = starts[r.below(starts.length)];
      if (s + 1 < len) w[s + 1] = r.below(4) === 0 ? 255 : r.below(16); // option length
    } else if (kind === 5 && starts.length > 0) {
      const s = starts[r.below(starts.length)];
      if (s < len) w[s] = INTERESTING[r.below(INTERESTING.length)]; // option code
    } else if (kind === 6 && len >= DHCP_OPTIONS + 3) {
      // an overload option at the start of the options field
      w[DHCP_OPTIONS] = DHO_OVERLOAD;
      w[DHCP_OPTIONS + 1] = r.below(3) === 0 ? r.below(256) : 1;
      w[DHCP_OPTIONS + 2] = r.below(5);
    } else if (kind === 7 && len > DHCP_FILE + 128) {
      // garbage option soup in file or sname
      const base = r.below(2) === 0 ? DHCP_FILE : DHCP_SNAME;
      const span = base === DHCP_FILE ? 128 : 64;
      for (let i = 0; i < span; i++) w[base + i] = r.below(3) === 0 ? INTERESTING[r.below(INTERESTING.length)] : r.below(256);
    } else if (kind === 8 && len > 0) {
      const at = r.below(len);
      const cnt = 1 + r.below(16);
      for (let i = 0; i < cnt && at + i < len; i++) w[at + i] = r.below(256);
    } else if (kind === 9 && len >= DHCP_OPTIONS) {
      // a long run of valid-looking DNS options (DNS list overflow)
      let o = DHCP_OPTIONS;
      while (o + 2 + 16 < w.length && o < len + 100) {
        w[o] = DHO_DNS;
        w[o + 1] = 16;
        for (let i = 0; i < 16; i++) w[o + 2 + i] = r.below(256);
        o += 18;
      }
      if (o > len) len = o;
    }
  }
  return len;
}

function checkResult(m: DhcpMsg, rc: number, off: number, len: number): string | null {
  if (rc !== DHCP_PARSE_OK && rc !== DHCP_ESHORT && rc !== DHCP_EMAGIC && rc !== DHCP_ETRUNC) return 'rc ' + rc;
  if (rc !== DHCP_PARSE_OK) return null;
  const end = off + len;
  if (m.dnsCount < 0 || m.dnsCount > 3) return 'dnsCount ' + m.dnsCount;
  for (const [o, l] of [[m.clientIdOff, m.clientIdLen], [m.hostNameOff, m.hostNameLen], [m.paramReqOff, m.paramReqLen], [m.messageOff, m.messageLen]]) {
    if (l > 0 && (o < off || o + l > end)) return 'option span ' + o + '+' + l;
  }
  for (const a of [m.ciaddr, m.yiaddr, m.siaddr, m.giaddr, m.serverId, m.router, m.mask, m.requestedIp, m.dns[0], m.dns[1], m.dns[2]]) {
    if (!Number.isInteger(a) || s32(a) !== a) return 'address ' + a;
  }
  for (const t of [m.leaseTime, m.t1, m.t2]) if (!Number.isInteger(t) || t < -1 || t > 0xffffffff) return 'time ' + t;
  if (m.msgType < 0 || m.msgType > 255 || m.overload < 0 || m.overload > 3) return 'type/overload';
  if (m.chaddrOff !== off + 28) return 'chaddr';
  return null;
}

describe('DHCP parser fuzz', () => {
  for (const seed of seeds([20250101, 777])) {
    it(`60,000 random and mutated messages, seed ${seed}: no exception, no read out of bounds, bounded work`, () => {
      const r = new SimRng(seed);
      const ts = templates();
      const backing = new Uint8Array(2048);
      const probe: Probe = { lo: 0, hi: 0, reads: 0 };
      const b = checkedBuffer(backing, probe);
      const w = new Uint8Array(1400);
      const m = new DhcpMsg();
      const CASES = 60000;
      const rcs = [0, 0, 0, 0];
      let maxRatio = 0;
      for (let i = 0; i < CASES; i++) {
        let len: number;
        if (r.below(5) === 0) {
          len = r.below(700);
          for (let k = 0; k < len; k++) w[k] = r.below(256);
          if (len >= 240 && r.below(2) === 0) put32(w, 236, 0x63825363);
        } else {
          len = mutate(r, ts[r.below(ts.length)], w);
        }
        const off = r.below(4) === 0 ? r.below(300) : 0;
        // (what lies around the message is never looked at: the proxy throws on such a read)
        for (let k = 0; k < len; k++) backing[off + k] = w[k];
        probe.lo = off;
        probe.hi = off + len;
        probe.reads = 0;
        let rc = 0;
        try {
          rc = dhcpParse(b, off, len, m);
        } catch (e) {
          throw new Error(`seed=${seed} case=${i} len=${len} off=${off}: ${(e as Error).message}`);
        }
        const bad = checkResult(m, rc, off, len);
        if (bad !== null) throw new Error(`seed=${seed} case=${i}: ${bad}`);
        if (probe.reads > len + 64) throw new Error(`seed=${seed} case=${i}: ${probe.reads} reads for ${len} bytes`);
        if (len > 0 && probe.reads / len > maxRatio) maxRatio = probe.reads / len;
        rcs[-rc]++;
      }
      // every outcome was reached
      for (let k = 0; k < 4; k++) expect(rcs[k], `seed=${seed} outcome ${-k}: ${rcs}`).toBeGreaterThan(100);
      expect(maxRatio).toBeLessThan(2);
      // a length past the end of the buffer is refused without a read
      probe.lo = 0;
      probe.hi = 0;
      probe.reads = 0;
      expect(dhcpParse(b, 2000, 300, m)).toBe(DHCP_ESHORT);
      expect(probe.reads).toBe(0);
    });
  }
});

/* ---------------- frames off the wire ---------------- */

function frame(
  out: Uint8Array, dmac: Uint8Array, smac: Uint8Array, saddr: number, daddr: number, sport: number, dport: number,
  payload: Uint8Array, plen: number,
): number {
  for (let i = 0; i < 6; i++) {
    out[i] = dmac[i];
    out[6 + i] = smac[i];
  }
  put16(out, 12, 0x0800);
  const ip = 14;
  out[ip] = 0x45;
  out[ip + 1] = 0;
  put16(out, ip + 2, 28 + plen);
  put16(out, ip + 4, 1);
  put16(out, ip + 6, 0);
  out[ip + 8] = 64;
  out[ip + 9] = 17;
  put16(out, ip + 10, 0);
  put32(out, ip + 12, saddr);
  put32(out, ip + 16, daddr);
  put16(out, ip + 10, ipCompute(out, ip, 20));
  const u = ip + 20;
  put16(out, u, sport);
  put16(out, u + 2, dport);
  put16(out, u + 4, 8 + plen);
  put16(out, u + 6, 0);
  for (let i = 0; i < plen; i++) out[u + 8 + i] = payload[i];
  let c = csumFinish(csumPartial(out, u, 8 + plen, csumTcpUdpMagic(saddr, daddr, 8 + plen, 17)));
  if (c === 0) c = 0xffff;
  put16(out, u + 6, c);
  return 42 + plen;
}

const BMAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const SMAC = new Uint8Array([2, 0x11, 0x22, 0x33, 0x44, 0x55]);
const SRV = parseIpStrict('192.0.2.1');

/** A hostile reply to client c: its xid and MAC (mostly), random type, addresses and lease parameters. */
function hostileReply(r: SimRng, c: DhcpClient, mac: Uint8Array, w: Uint8Array, ts: Uint8Array[]): number {
  if (r.below(6) === 0) return mutate(r, ts[r.below(ts.length)], w);
  const yi = r.below(4) === 0 ? r.next32() : s32(parseIpStrict('192.0.2.100') + r.below(4));
  const types = [DHCPOFFER, DHCPACK, DHCPNAK, DHCPACK, DHCPOFFER, r.below(256)];
  const type = types[r.below(types.length)];
  const xid = r.below(8) === 0 ? r.next32() : c.xid;
  let o = dhcpPutHeader(w, 0, r.below(10) === 0 ? BOOTREQUEST : BOOTREPLY, xid, 0, 0, 0, yi, 0, mac, 0);
  if (r.below(10) > 0) o = dhcpPutOpt8(w, o, DHO_MSG_TYPE, type);
  const sid = [SRV, SRV, SRV, 0, r.next32()][r.below(5)];
  if (sid !== 0) o = dhcpPutOpt32(w, o, DHO_SERVER_ID, sid);
  const times = [0, 1, 19, 20, 30, 60, 300, 0xffffffff, 0xfffffffe, r.next32()];
  if (r.below(4) > 0) o = dhcpPutOpt32(w, o, DHO_LEASE_TIME, times[r.below(times.length)]);
  if (r.below(3) === 0) o = dhcpPutOpt32(w, o, DHO_T1, times[r.below(times.length)]);
  if (r.below(3) === 0) o = dhcpPutOpt32(w, o, DHO_T2, times[r.below(times.length)]);
  const masks = [0xffffff00, 0xffff0000, 0xfffffffc, 0xffffffff, 0, 0xff00ff00, r.next32()];
  if (r.below(4) > 0) o = dhcpPutOpt32(w, o, DHO_SUBNET_MASK, masks[r.below(masks.length)]);
  const routers = [SRV, 0, -1, parseIpStrict('10.0.0.1'), r.next32(), yi];
  if (r.below(3) > 0) o = dhcpPutOpt32(w, o, DHO_ROUTER, routers[r.below(routers.length)]);
  if (r.below(3) > 0) {
    const n = r.below(6);
    const a = new Int32Array(n > 0 ? n : 1);
    for (let i = 0; i < n; i++) a[i] = r.below(3) === 0 ? r.next32() : s32(parseIpStrict('192.0.2.53') + i);
    if (n > 0) o = dhcpPutOptAddrs(w, o, DHO_DNS, a, n);
  }
  if (r.below(8) === 0) o = dhcpPutOpt8(w, o, DHO_OVERLOAD, r.below(5));
  return dhcpPutEnd(w, 0, o);
}

function expectConsistent(c: DhcpClient, sim: Sim, tag: string): void {
  const st = c.st;
  const dev = c.dev;
  const s = c.state;
  if (s === DHCP_BOUND || s === DHCP_RENEWING || s === DHCP_REBINDING) {
    if (c.addr === 0 || !st.ifaddr.onDev(dev, c.addr) || st.ifaddr.count !== 1) {
      throw new Error(`${tag}: state ${c.stateName()} addr ${c.addr}, ifaddr count ${st.ifaddr.count} ${sim.describe()}`);
    }
    if (c.dnsCount < 0 || c.dnsCount > 3) throw new Error(tag + ': dnsCount ' + c.dnsCount);
  } else if (st.ifaddr.count !== 0 || st.route.count !== 0 || c.addr !== 0) {
    throw new Error(`${tag}: state ${c.stateName()} but ifaddr ${st.ifaddr.count} routes ${st.route.count} ${sim.describe()}`);
  }
  if (st.route.count > 2) throw new Error(tag + ': routes ' + st.route.count);
}

describe('DHCP client fuzz: hostile replies in every state', () => {
  for (const seed of seeds([4242, 99])) {
    it(`4,000 hostile replies, seed ${seed}: no exception, device consistent with the state, nothing leaked`, () => {
      const r = new SimRng(seed);
      const sim = new Sim({ seed, stepMs: 200 });
      const peer = sim.addHost('peer');
      expect(ifconfig(peer.st, peer.dev(0), '192.0.2.1/24', null)).toBe(0);
      sim.up(peer);
      const h = sim.addHost('cli');
      sim.up(h);
      const st = h.st;
      const dev = h.dev(0);
      const mac = st.link.devs[dev].mac;
      const c = new DhcpClient(st);
      let events = 0;
      c.handler = { onDhcpEvent: () => { events++; } };
      expect(c.start(dev, { probeNum: 1 + r.below(2), broadcastFlag: r.below(2) === 0 })).toBe(0);
      const ts = templates();
      const w = new Uint8Array(1400);
      const f = new Uint8Array(1600);
      const seen = new Set<number>();
      let maxInUse = 0;
      for (let i = 0; i < 4000; i++) {
        const tag = `seed=${seed} case=${i}`;
        try {
          const n = hostileReply(r, c, mac, w, ts);
          const to = r.below(3) === 0 && c.addr !== 0 ? c.addr : r.below(4) === 0 ? s32(parseIpStrict('192.0.2.100')) : -1;
          const dmac = to === -1 ? BMAC : mac;
          const len = frame(f, dmac, SMAC, SRV, to, 67, r.below(20) === 0 ? 67 : 68, w, n);
          rxFrame(st, dev, f, 0, len);
          const k = r.below(10);
          sim.run(k < 6 ? 1 + r.below(50) : k < 9 ? r.below(5000) : r.below(400000));
          if (r.below(300) === 0) {
            c.stop(r.below(2) === 0);
            expect(c.start(dev, { requestedIp: r.below(2) === 0 ? parseIpStrict('192.0.2.101') : 0, probeNum: r.below(3) })).toBe(0);
          }
        } catch (e) {
          throw new Error(`${tag}: ${(e as Error).stack}`);
        }
        expectConsistent(c, sim, tag);
        seen.add(c.state);
        const u = st.pool.inUse();
        if (u > maxInUse) maxInUse = u;
      }
      // the state machine was really driven
      for (const s of [DHCP_BOUND, DHCP_PROBING, DHCP_RENEWING, DHCP_REBINDING]) expect(seen.has(s), `seed=${seed} state ${s}`).toBe(true);
      expect(events).toBeGreaterThan(20);
      expect(c.badMsgs + c.ignored).toBeGreaterThan(100);
      expect(maxInUse).toBeLessThan(16);
      c.stop(true);
      expect(c.state).toBe(DHCP_STOPPED);
      sim.run(5000);
      neighFlushAll(st, false);
      neighFlushAll(peer.st, false);
      sim.run(100);
      expect(st.pool.inUse(), `seed=${seed}`).toBe(0);
      expect(peer.st.pool.inUse(), `seed=${seed}`).toBe(0);
      expect(st.sock.open).toBe(0);
      expect(sim.fabric.pool.inUse).toBe(0);
    });
  }
});

describe('DHCP server fuzz: random and mutated requests', () => {
  for (const seed of seeds([31337])) {
    it(`6,000 requests from many clients, seed ${seed}: no exception, pool bounded, nothing leaked`, () => {
      const r = new SimRng(seed);
      const sim = new Sim({ seed, stepMs: 200 });
      const sh = sim.addHost('srv');
      expect(ifconfig(sh.st, sh.dev(0), '192.0.2.1/24', null)).toBe(0);
      sim.up(sh);
      const other = sim.addHost('other');
      sim.up(other);
      const srv = new DhcpServer(sh.st, sh.dev(0), {
        poolStart: parseIpStrict('192.0.2.100'), poolSize: 6, prefixLen: 24, leaseSec: 60, router: SRV, dns: [SRV],
      });
      expect(srv.start()).toBe(0);
      const st = sh.st;
      const ts = templates();
      const w = new Uint8Array(1400);
      const f = new Uint8Array(1600);
      const cmac = new Uint8Array(6);
      const types = [DHCPDISCOVER, DHCPREQUEST, DHCPDECLINE, DHCPRELEASE, 8, r.below(256)];
      for (let i = 0; i < 6000; i++) {
        const tag = `seed=${seed} case=${i}`;
        try {
          cmac[0] = 2;
          for (let k = 1; k < 6; k++) cmac[k] = k === 5 ? r.below(12) : 0;
          let n: number;
          if (r.below(5) === 0) {
            n = mutate(r, ts[r.below(ts.length)], w);
          } else {
            let o = dhcpPutHeader(w, 0, BOOTREQUEST, r.next32(), r.below(100), r.below(2) === 0 ? DHCP_FLAG_BROADCAST : 0,
              r.below(3) === 0 ? s32(parseIpStrict('192.0.2.100') + r.below(8)) : 0, 0, 0, cmac, 0);
            o = dhcpPutOpt8(w, o, DHO_MSG_TYPE, types[r.below(types.length)]);
            if (r.below(2) === 0) o = dhcpPutOpt32(w, o, DHO_REQUESTED_IP, r.below(4) === 0 ? r.next32() : s32(parseIpStrict('192.0.2.98') + r.below(10)));
            if (r.below(2) === 0) o = dhcpPutOpt32(w, o, DHO_SERVER_ID, r.below(3) === 0 ? r.next32() : SRV);
            if (r.below(2) === 0) {
              const cl = r.below(80);
              for (let k = 0; k < cl; k++) f[k] = r.below(256);
              o = dhcpPutOptBytes(w, o, DHO_CLIENT_ID, f, 0, cl);
            }
            n = dhcpPutEnd(w, 0, o);
          }
          const to = r.below(4) === 0 ? SRV : -1;
          const len = frame(f, to === -1 ? BMAC : st.link.devs[sh.dev(0)].mac, cmac, r.below(2) === 0 ? 0 : s32(parseIpStrict('192.0.2.100') + r.below(8)), to, 68, 67, w, n);
          rxFrame(st, sh.dev(0), f, 0, len);
          sim.run(r.below(4) === 0 ? r.below(100000) : 1 + r.below(20));
        } catch (e) {
          throw new Error(`${tag}: ${(e as Error).stack}`);
        }
        if (srv.boundCount() > 6) throw new Error(tag + ': bound ' + srv.boundCount());
        if (st.pool.inUse() > 16) throw new Error(tag + ': skbs ' + st.pool.inUse());
      }
      expect(srv.offers + srv.acks + srv.naks).toBeGreaterThan(500);
      expect(srv.badMsgs + srv.ignored).toBeGreaterThan(100);
      srv.stop();
      sim.run(1000);
      neighFlushAll(st, false);
      neighFlushAll(other.st, false);
      sim.run(100);
      expect(st.pool.inUse(), `seed=${seed}`).toBe(0);
      expect(other.st.pool.inUse()).toBe(0);
      expect(sim.fabric.pool.inUse).toBe(0);
    });
  }
});
