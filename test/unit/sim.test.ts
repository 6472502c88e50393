/*
 * Unit tests of the simulation infrastructure: PRNG, pcap writer/reader,
 * learning switch, link fault models, determinism, slot exhaustion.
 * Frames are hand-built (ethertype 0x88b5, IEEE local experimental) and
 * sent with devQueueXmit, so these tests do not depend on ARP/IP.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimRng } from '../../src/sim/prng';
import { PcapWriter, readPcap, PCAP_MAGIC_US, PCAP_MAGIC_NS, LINKTYPE_ETHERNET } from '../../src/sim/pcap';
import { PcapFile } from '../../src/host/pcapfile';
import { Sim, SimHost } from '../../src/sim/world';
import { FEV_RX, FEV_SWITCH, SimPort } from '../../src/sim/switch';
import { devQueueXmit } from '../../src/link/dev';
import { SKB_NONE } from '../../src/core/skb';

const ETHERTYPE_TEST = 0x88b5;
const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Send a test frame of `len` bytes from h to dst carrying a 32-bit sequence number. */
function sendRaw(h: SimHost, dst: Uint8Array, len: number, seq: number, nic = 0): void {
  const st = h.st;
  const p = st.pool;
  const skb = p.alloc(len);
  expect(skb).not.toBe(SKB_NONE);
  const o = p.put(skb, len);
  const b = p.buf[skb];
  const mac = st.link.devs[h.dev(nic)].mac;
  for (let i = 0; i < 6; i++) {
    b[o + i] = dst[i];
    b[o + 6 + i] = mac[i];
  }
  b[o + 12] = ETHERTYPE_TEST >> 8;
  b[o + 13] = ETHERTYPE_TEST & 0xff;
  b[o + 14] = (seq >>> 24) & 0xff;
  b[o + 15] = (seq >>> 16) & 0xff;
  b[o + 16] = (seq >>> 8) & 0xff;
  b[o + 17] = seq & 0xff;
  for (let i = 18; i < len; i++) b[o + i] = (i + seq) & 0xff;
  p.dev[skb] = h.dev(nic);
  devQueueXmit(st, skb);
}

interface Seen {
  port: string;
  t: number;
  seq: number;
  intact: boolean;
}

/** Record every test frame delivered to a host (after the wire's faults). */
function watch(sim: Sim, ev = FEV_RX): Seen[] {
  const seen: Seen[] = [];
  sim.fabric.observer = {
    onFrame(e: number, port: SimPort, t: number, buf: Uint8Array, off: number, len: number) {
      if (e !== ev || len < 18) return;
      if (((buf[off + 12] << 8) | buf[off + 13]) !== ETHERTYPE_TEST) return;
      const seq = ((buf[off + 14] << 24) | (buf[off + 15] << 16) | (buf[off + 16] << 8) | buf[off + 17]) >>> 0;
      let intact = true;
      for (let i = 18; i < len; i++) if (buf[off + i] !== ((i + seq) & 0xff)) intact = false;
      seen.push({ port: port.name, t, seq, intact });
    },
  };
  return seen;
}

function lan(seed: number, n: number): { sim: Sim; hs: SimHost[] } {
  const sim = new Sim({ seed });
  const hs: SimHost[] = [];
  for (let i = 0; i < n; i++) {
    const h = sim.addHost('h' + i, { arpGratuitous: false });
    sim.up(h);
    hs.push(h);
  }
  return { sim, hs };
}

function macOf(h: SimHost): Uint8Array {
  return h.st.link.devs[h.dev(0)].mac;
}

function expectClean(sim: Sim): void {
  sim.run(50);
  for (const h of sim.hosts) expect(h.st.pool.inUse(), h.name + ' ' + sim.describe()).toBe(0);
  expect(sim.fabric.pool.inUse, sim.describe()).toBe(0);
}

describe('SimRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new SimRng(42);
    const b = new SimRng(42);
    const c = new SimRng(43);
    const va: number[] = [];
    const vc: number[] = [];
    for (let i = 0; i < 100; i++) {
      const x = a.next32();
      expect(b.next32()).toBe(x);
      va.push(x);
      vc.push(c.next32());
    }
    expect(vc).not.toEqual(va);
    for (const x of va) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(4294967296);
    }
  });

  it('next/below/chance have the right ranges and frequencies', () => {
    const r = new SimRng(7);
    let hits = 0;
    const buckets = new Array(10).fill(0);
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const f = r.next();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      const k = r.below(10);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThan(10);
      buckets[k]++;
      if (r.chance(0.3)) hits++;
    }
    expect(Math.abs(hits / N - 0.3)).toBeLessThan(0.02);
    for (const b of buckets) expect(Math.abs(b / N - 0.1)).toBeLessThan(0.015);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(r.below(1)).toBe(0);
  });

  it('seed 0 still produces a non-degenerate sequence', () => {
    const r = new SimRng(0);
    const s = new Set<number>();
    for (let i = 0; i < 50; i++) s.add(r.next32());
    expect(s.size).toBe(50);
  });
});

describe('PcapWriter', () => {
  it('writes the classic header and microsecond records that parse back', () => {
    const w = new PcapWriter({ initialSize: 100 });
    const frame = new Uint8Array(300);
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 7) & 0xff;
    w.record(0, frame, 0, 60);
    w.record(1234.5678, frame, 10, 290);
    w.record(2000000.001, frame, 5, 14);
    const b = w.bytes();
    expect(b.length).toBe(24 + 3 * 16 + 60 + 290 + 14);
    expect(w.total).toBe(b.length);
    expect(w.count).toBe(3);
    // magic, little-endian
    expect([b[0], b[1], b[2], b[3]]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    const info = readPcap(b)!;
    expect(info).not.toBeNull();
    expect(info.magic).toBe(PCAP_MAGIC_US);
    expect(info.versionMajor).toBe(2);
    expect(info.versionMinor).toBe(4);
    expect(info.linktype).toBe(LINKTYPE_ETHERNET);
    expect(info.snaplen).toBe(65535);
    expect(info.records.length).toBe(3);
    const r1 = info.records[1];
    expect(r1.sec).toBe(1);
    expect(r1.frac).toBe(234568);
    expect(r1.origLen).toBe(290);
    expect(Array.from(r1.data)).toEqual(Array.from(frame.subarray(10, 300)));
    expect(info.records[2].sec).toBe(2000);
    expect(info.records[2].frac).toBe(1);
    expect(info.records[0].data.length).toBe(60);
  });

  it('supports nanosecond timestamps and snaplen truncation', () => {
    const w = new PcapWriter({ nanos: true, snaplen: 32 });
    const frame = new Uint8Array(100).fill(0xab);
    w.record(1.000001, frame, 0, 100);
    const info = readPcap(w.bytes())!;
    expect(info.magic).toBe(PCAP_MAGIC_NS);
    expect(info.nanos).toBe(true);
    expect(info.snaplen).toBe(32);
    expect(info.records[0].sec).toBe(0);
    expect(info.records[0].frac).toBe(1000001);
    expect(info.records[0].origLen).toBe(100);
    expect(info.records[0].data.length).toBe(32);
  });

  it('readPcap rejects malformed files', () => {
    expect(readPcap(new Uint8Array(10))).toBeNull();
    const w = new PcapWriter();
    w.record(1, new Uint8Array(20), 0, 20);
    const b = w.bytes();
    expect(readPcap(b.subarray(0, b.length - 1))).toBeNull();
    const bad = new Uint8Array(b);
    bad[0] = 0;
    expect(readPcap(bad)).toBeNull();
  });

  it('PcapFile streams records to disk identical to an in-memory writer', () => {
    const file = path.join(os.tmpdir(), 'slabnet-simtest-' + process.pid + '.pcap');
    const f = new PcapFile(file);
    f.flushBytes = 200; // force several partial writes
    const w = new PcapWriter();
    const frame = new Uint8Array(150);
    for (let i = 0; i < 20; i++) {
      frame[0] = i;
      f.record(i * 3.5, frame, 0, 60 + i * 4);
      w.record(i * 3.5, frame, 0, 60 + i * 4);
    }
    f.close();
    const disk = new Uint8Array(fs.readFileSync(file));
    fs.unlinkSync(file);
    expect(f.count).toBe(20);
    expect(Array.from(disk)).toEqual(Array.from(w.bytes()));
    expect(readPcap(disk)!.records.length).toBe(20);
  });
});

describe('virtual learning switch', () => {
  it('floods broadcast and unknown unicast, then forwards to the learned port only', () => {
    const { sim, hs } = lan(1, 3);
    const seen = watch(sim);
    const [a, b, c] = hs;
    sendRaw(a, BCAST, 64, 1);
    sim.run(5);
    expect(seen.map((s) => s.port).sort()).toEqual(['h1.eth0', 'h2.eth0']);
    // b is unknown to the switch: flooded to b and c
    seen.length = 0;
    sendRaw(a, macOf(b), 64, 2);
    sim.run(5);
    expect(seen.map((s) => s.port).sort()).toEqual(['h1.eth0', 'h2.eth0']);
    // b speaks: learned; now a→b reaches b only
    sendRaw(b, macOf(a), 64, 3);
    sim.run(5);
    seen.length = 0;
    sendRaw(a, macOf(b), 64, 4);
    sim.run(5);
    expect(seen.map((s) => s.port)).toEqual(['h1.eth0']);
    const sw = sim.switches[0];
    expect(sw.learned).toBe(2);
    expect(sw.flooded).toBe(2);
    expect(sw.forwarded).toBe(2);
    // a frame addressed to a MAC learned on the ingress port is filtered
    sendRaw(c, macOf(c), 64, 5);
    sim.run(5);
    sendRaw(c, macOf(c), 64, 6);
    sim.run(5);
    expect(sw.filtered).toBeGreaterThanOrEqual(1);
    // NICs handed every delivered frame to their stacks
    expect(b.nics[0].rxFrames).toBe(3);
    expect(c.nics[0].rxFrames).toBe(2);
    expectClean(sim);
  });

  it('two switches are separate broadcast domains; a router host sits on both', () => {
    const sim = new Sim({ seed: 5 });
    const sw1 = sim.addSwitch('sw1');
    const a = sim.addHost('a', { arpGratuitous: false });
    const r = sim.addHost('r', { arpGratuitous: false });
    sim.attach(r, sw1);
    const b = sim.addHost('b', { arpGratuitous: false }, sw1);
    sim.up(a);
    sim.up(r);
    sim.up(b);
    const seen = watch(sim);
    sendRaw(a, BCAST, 80, 1);
    sendRaw(r, BCAST, 80, 2, 1);
    sim.run(5);
    expect(seen.filter((s) => s.seq === 1).map((s) => s.port)).toEqual(['r.eth0']);
    expect(seen.filter((s) => s.seq === 2).map((s) => s.port)).toEqual(['b.eth0']);
    expect(r.dev(1)).toBe(1);
    expectClean(sim);
  });
});

describe('link faults', () => {
  for (const seed of [1, 2, 3]) {
    it(`loss, duplication and corruption match their probabilities (seed ${seed})`, () => {
      const { sim, hs } = lan(seed, 2);
      const seen = watch(sim);
      const [a, b] = hs;
      sim.setFaults(a, { loss: 0.2, dup: 0.1, corrupt: 0.1, corruptFrom: 18 }, 'tx');
      const N = 2000;
      for (let i = 0; i < N; i++) {
        sendRaw(a, macOf(b), 100, i);
        if (i % 16 === 15) sim.run(1);
      }
      sim.run(10);
      const up = a.port(0).up;
      const msg = sim.describe();
      expect(up.frames, msg).toBe(N);
      expect(Math.abs(up.lost / N - 0.2), msg).toBeLessThan(0.04);
      const kept = N - up.lost;
      expect(Math.abs(up.duplicated / kept - 0.1), msg).toBeLessThan(0.03);
      expect(seen.length, msg).toBe(kept + up.duplicated);
      const bad = seen.filter((s) => !s.intact).length;
      expect(bad, msg).toBe(up.corrupted);
      expect(Math.abs(bad / seen.length - 0.1), msg).toBeLessThan(0.03);
      expect(b.nics[0].rxFrames, msg).toBe(seen.length);
      expectClean(sim);
    });
  }

  it('fixed delay, jitter and reordering', () => {
    const { sim, hs } = lan(9, 2);
    const seen = watch(sim);
    const [a, b] = hs;
    // learn b first so frames are forwarded, not flooded
    sendRaw(b, macOf(a), 60, 999);
    sim.run(1);
    seen.length = 0;
    sim.setFaults(a, { delayMs: 7 }, 'tx');
    sim.setFaults(b, { delayMs: 3, jitterMs: 2 }, 'rx');
    const t0 = sim.now();
    sendRaw(a, macOf(b), 60, 1);
    sim.run(30);
    expect(seen.length).toBe(1);
    expect(seen[0].t - t0).toBeGreaterThanOrEqual(10);
    expect(seen[0].t - t0).toBeLessThan(12);
    // reordering: frames sent 1 ms apart, extra delay up to 20 ms
    seen.length = 0;
    sim.setFaults(a, { delayMs: 0, reorder: 0.5, reorderMs: 20 }, 'tx');
    for (let i = 0; i < 100; i++) {
      sendRaw(a, macOf(b), 60, i);
      sim.run(1);
    }
    sim.run(50);
    expect(seen.length).toBe(100);
    let inversions = 0;
    for (let i = 1; i < seen.length; i++) if (seen[i].seq < seen[i - 1].seq) inversions++;
    expect(inversions, sim.describe()).toBeGreaterThan(5);
    expect(a.port(0).up.reordered).toBeGreaterThan(30);
    expectClean(sim);
  });

  it('rate limit serialises frames back to back', () => {
    const { sim, hs } = lan(4, 2);
    const seen = watch(sim, FEV_SWITCH);
    const [a, b] = hs;
    sim.setFaults(a, { rateBps: 1000000 }, 'tx');
    const t0 = sim.now();
    for (let i = 0; i < 10; i++) sendRaw(a, macOf(b), 1000, i);
    sim.run(200);
    expect(seen.length).toBe(10);
    // 1000 bytes at 1 Mbit/s = 8 ms each
    for (let i = 0; i < 10; i++) expect(seen[i].t - t0).toBeCloseTo(8 * (i + 1), 6);
    // a bounded backlog drops what does not fit
    seen.length = 0;
    sim.setFaults(a, { queueLimitMs: 20 }, 'tx');
    for (let i = 0; i < 10; i++) sendRaw(a, macOf(b), 1000, i);
    sim.run(200);
    // accepted with backlogs 0, 8 and 16 ms; the 24 ms backlog exceeds 20
    expect(a.port(0).up.queueDrops).toBe(7);
    expect(seen.length).toBe(3);
    expectClean(sim);
  });

  it('an outage loses frames for its duration only', () => {
    const { sim, hs } = lan(6, 2);
    const seen = watch(sim);
    const [a, b] = hs;
    sim.outage(a, 50);
    for (let i = 0; i < 10; i++) {
      sendRaw(a, macOf(b), 60, i);
      sim.run(10);
    }
    // sent at t=0,10,20,30,40 are lost; 50..90 delivered
    expect(seen.map((s) => s.seq)).toEqual([5, 6, 7, 8, 9]);
    expect(a.port(0).up.outageDrops).toBe(5);
    expectClean(sim);
  });

  it('in-flight slot exhaustion drops and counts, and slots return', () => {
    const sim = new Sim({ seed: 2, slots: 4 });
    const a = sim.addHost('a', { arpGratuitous: false });
    const b = sim.addHost('b', { arpGratuitous: false });
    sim.up(a);
    sim.up(b);
    const seen = watch(sim);
    sim.setFaults(a, { delayMs: 5 }, 'tx');
    for (let i = 0; i < 10; i++) sendRaw(a, macOf(b), 60, i);
    sim.run(20);
    expect(a.port(0).up.noSlot).toBe(6);
    expect(sim.fabric.pool.exhausted).toBeGreaterThanOrEqual(6);
    // the first arrival needs a second slot for its switch→b copy while 3 are still in flight
    expect(b.port(0).down.noSlot).toBe(1);
    expect(seen.length + b.port(0).down.noSlot).toBe(4);
    expect(sim.fabric.pool.high).toBe(4);
    expectClean(sim);
  });

  it('frames to a host whose device is down are refused and counted', () => {
    const sim = new Sim({ seed: 3 });
    const a = sim.addHost('a', { arpGratuitous: false });
    const b = sim.addHost('b', { arpGratuitous: false });
    sim.up(a);
    sendRaw(a, BCAST, 60, 1);
    sim.run(5);
    expect(b.nics[0].rxFifoDrops).toBe(1);
    expect(b.port(0).rxRefused).toBe(1);
    expectClean(sim);
  });
});

describe('determinism', () => {
  function capture(seed: number): Uint8Array {
    const { sim, hs } = lan(seed, 3);
    const w = new PcapWriter();
    sim.captureSwitch(sim.switches[0], w);
    const [a, b, c] = hs;
    sim.setFaults(a, { loss: 0.1, dup: 0.1, reorder: 0.2, corrupt: 0.1, jitterMs: 1 });
    sim.setFaults(c, { loss: 0.05, delayMs: 1, rateBps: 10000000 });
    for (let i = 0; i < 200; i++) {
      sendRaw(a, macOf(b), 60 + (i % 500), i);
      sendRaw(c, i % 3 === 0 ? BCAST : macOf(a), 100, 1000 + i);
      sim.run(1);
    }
    sim.run(100);
    expectClean(sim);
    return new Uint8Array(w.bytes());
  }

  it('the same seed gives identical pcap bytes; another seed does not', () => {
    const x = capture(11);
    const y = capture(11);
    const z = capture(12);
    expect(x.length).toBeGreaterThan(1000);
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(true);
    expect(Buffer.from(x).equals(Buffer.from(z))).toBe(false);
    const info = readPcap(x)!;
    // switch timestamps never go backwards
    for (let i = 1; i < info.records.length; i++) expect(info.records[i].tsMs).toBeGreaterThanOrEqual(info.records[i - 1].tsMs);
  });

  it('runUntil stops at the instant the predicate holds', () => {
    const { sim, hs } = lan(8, 2);
    const [a, b] = hs;
    sim.setFaults(a, { delayMs: 37 }, 'tx');
    sendRaw(a, macOf(b), 60, 1);
    const ok = sim.runUntil(() => b.nics[0].rxFrames === 1, 1000);
    expect(ok).toBe(true);
    expect(sim.now()).toBe(37);
    expect(sim.runUntil(() => false, 100)).toBe(false);
    expect(sim.now()).toBe(137);
    expectClean(sim);
  });
});
