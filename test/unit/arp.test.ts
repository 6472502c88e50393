/*
 * arp.test.ts — ARP / neighbour table (src/link/arp.ts) between two stacks
 * joined by a PairLink. Frames are captured on the wire (PairEnd.filter),
 * so the tests do not depend on whichever ETH_P_IP handler the receiving
 * stack has; the IP-ish payloads are deliberately invalid IPv4 (total
 * length 0) so any IPv4 layer drops them.
 */
import { describe, it, expect } from 'vitest';
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { SKB_NONE } from '../../src/core/skb';
import { get16, get32, put16, put32 } from '../../src/core/bytes';
import {
  LINK_ARPINREQUESTS, LINK_ARPINREPLIES, LINK_ARPINERRORS, LINK_ARPOUTREQUESTS, LINK_ARPOUTREPLIES,
  LINK_ARPUNSOLICITEDIGNORED, LINK_ARPNOTFORUS, LINK_ARPQUEUEDROPS, LINK_ARPRESOLVEFAILED,
  LINK_ARPTABLEFULL, LINK_ARPGRATUITOUSOUT, LINK_ARPCONFLICTS, LINK_TXNONEIGH,
} from '../../src/core/mib';
import { EHOSTUNREACH, ENOBUFS } from '../../src/core/errno';
import { rxFrame, devOpen, devClose } from '../../src/link/dev';
import { ETH_P_ARP, ETH_P_IP, formatMac } from '../../src/link/ether';
import { parseIpU } from './addr_util';
import {
  neighOutput, neighLookup, neighState, neighAddStatic, neighFlushAll, neighFlushDev, arpDump, arpAnnounce,
  NUD_INCOMPLETE, NUD_REACHABLE, NUD_STALE, NUD_PROBE, NUD_FAILED, NUD_PERMANENT,
  ARPOP_REQUEST, ARPOP_REPLY,
} from '../../src/link/arp';
import { createPairLink, PairLink, PairEnd } from '../../drivers/pair/pairlink';

const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);
const MAC_X = new Uint8Array([0x02, 0, 0, 0, 0, 0x99]);
const IP_A = parseIpU('192.0.2.1');
const IP_A2 = parseIpU('192.0.2.11');
const IP_B = parseIpU('192.0.2.2');
const IP_C = parseIpU('192.0.2.3');
const IP_X = parseIpU('192.0.2.99');

interface Frame {
  t: number;
  dst: string;
  type: number;
  op: number;
  sip: number;
  tip: number;
  sha: string;
  tha: string;
  tag: number;
}

class Capture {
  frames: Frame[] = [];
  pass = true;
  constructor(readonly clock: ManualClock) {}
  onFrame(_end: PairEnd, b: Uint8Array, o: number, len: number): boolean {
    const type = get16(b, o + 12);
    const f: Frame = {
      t: this.clock.now(), dst: formatMac(b, o), type, op: 0, sip: 0, tip: 0, sha: '', tha: '', tag: -1,
    };
    if (type === ETH_P_ARP && len >= 42) {
      f.op = get16(b, o + 20);
      f.sha = formatMac(b, o + 22);
      f.sip = get32(b, o + 28);
      f.tha = formatMac(b, o + 32);
      f.tip = get32(b, o + 38);
    } else if (type === ETH_P_IP && len >= 34) {
      f.tag = get16(b, o + 14 + 4);
    }
    this.frames.push(f);
    return this.pass;
  }
  arp(): Frame[] {
    return this.frames.filter((f) => f.type === ETH_P_ARP);
  }
  ip(): Frame[] {
    return this.frames.filter((f) => f.type === ETH_P_IP);
  }
}

interface Env {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  pl: PairLink;
  capA: Capture; // frames sent by A
  capB: Capture; // frames sent by B
}

function setup(over: Partial<StackConfig> | undefined, open: boolean): Env {
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', over, clock, undefined);
  const pl = createPairLink(a, b, MAC_A, MAC_B, 1500);
  a.ifaddr.add(pl.devA, IP_A, 24);
  b.ifaddr.add(pl.devB, IP_B, 24);
  const capA = new Capture(clock);
  const capB = new Capture(clock);
  pl.a.filter = capA;
  pl.b.filter = capB;
  const env = { clock, a, b, pl, capA, capB };
  if (open) {
    pl.open();
    pump(env);
    capA.frames.length = 0;
    capB.frames.length = 0;
  }
  return env;
}

function pump(e: Env): void {
  for (let i = 0; i < 6; i++) {
    e.a.poll();
    e.b.poll();
  }
}

/** Advance virtual time in steps, polling both stacks. */
function run(e: Env, ms: number, step: number): void {
  for (let t = 0; t < ms; t += step) {
    e.clock.advance(step);
    pump(e);
  }
}

/** An IP-ish payload skb: version 4, total length 0 (invalid for any IPv4 layer), tag in the ID field. */
function payload(st: Stack, tag: number, saddr: number): number {
  const p = st.pool;
  const skb = p.alloc(40);
  expect(skb).not.toBe(SKB_NONE);
  const o = p.put(skb, 40);
  const b = p.buf[skb];
  for (let i = 0; i < 40; i++) b[o + i] = 0;
  b[o] = 0x45;
  put16(b, o + 4, tag);
  put32(b, o + 12, saddr);
  return skb;
}

const frameBuf = new Uint8Array(128);
/** Inject a raw ARP frame into st's device as if received from the wire. */
function injectArp(
  st: Stack, dev: number, ethDst: Uint8Array, op: number, sha: Uint8Array, sip: number, tha: Uint8Array,
  tip: number, arpLen: number,
): void {
  const b = frameBuf;
  b.fill(0);
  for (let i = 0; i < 6; i++) {
    b[i] = ethDst[i];
    b[6 + i] = sha[i];
  }
  put16(b, 12, ETH_P_ARP);
  put16(b, 14, 1);
  put16(b, 16, ETH_P_IP);
  b[18] = 6;
  b[19] = 4;
  put16(b, 20, op);
  for (let i = 0; i < 6; i++) {
    b[22 + i] = sha[i];
    b[32 + i] = tha[i];
  }
  put32(b, 28, sip);
  put32(b, 38, tip);
  expect(rxFrame(st, dev, b, 0, 14 + arpLen)).toBe(0);
}

const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO = new Uint8Array(6);

function finish(e: Env): void {
  pump(e);
  neighFlushAll(e.a, true);
  neighFlushAll(e.b, true);
  pump(e);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
  expect(e.a.pool.badFrees).toBe(0);
  expect(e.b.pool.badFrees).toBe(0);
}

describe('ARP resolution over a PairLink', () => {
  it('resolves, flushes the queued packet, and then sends directly', () => {
    const e = setup(undefined, true);
    const { a, b, pl } = e;
    // setup's gratuitous ARPs were already counted: measure from here
    const aOut0 = a.mib.link[LINK_ARPOUTREQUESTS];
    const bIn0 = b.mib.link[LINK_ARPINREQUESTS];
    expect(neighOutput(a, payload(a, 0x1111, IP_A), pl.devA, IP_B)).toBe(0);
    const i = neighLookup(a, IP_B);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(neighState(a, i)).toBe(NUD_INCOMPLETE);
    expect(arpDump(a)[0].queued).toBe(1);
    const req = e.capA.arp();
    expect(req.length).toBe(1);
    expect(req[0].dst).toBe('ff:ff:ff:ff:ff:ff');
    expect(req[0].op).toBe(ARPOP_REQUEST);
    expect(req[0].sip).toBe(IP_A);
    expect(req[0].tip).toBe(IP_B);
    expect(req[0].sha).toBe(formatMac(MAC_A, 0));
    expect(req[0].tha).toBe('00:00:00:00:00:00');
    pump(e);
    // B answered with a unicast reply and learnt A
    const rep = e.capB.arp();
    expect(rep.length).toBe(1);
    expect(rep[0].op).toBe(ARPOP_REPLY);
    expect(rep[0].dst).toBe(formatMac(MAC_A, 0));
    expect(rep[0].sip).toBe(IP_B);
    expect(rep[0].tip).toBe(IP_A);
    expect(rep[0].tha).toBe(formatMac(MAC_A, 0));
    expect(neighState(b, neighLookup(b, IP_A))).toBe(NUD_REACHABLE);
    // A resolved and flushed its queue to B's MAC
    expect(neighState(a, i)).toBe(NUD_REACHABLE);
    expect(arpDump(a)[0].mac).toBe(formatMac(MAC_B, 0));
    let ip = e.capA.ip();
    expect(ip.length).toBe(1);
    expect(ip[0].tag).toBe(0x1111);
    expect(ip[0].dst).toBe(formatMac(MAC_B, 0));
    // second packet: no new request
    expect(neighOutput(a, payload(a, 0x2222, IP_A), pl.devA, IP_B)).toBe(0);
    ip = e.capA.ip();
    expect(ip.length).toBe(2);
    expect(ip[1].tag).toBe(0x2222);
    expect(e.capA.arp().length).toBe(1);
    expect(a.mib.link[LINK_ARPOUTREQUESTS] - aOut0).toBe(1);
    expect(a.mib.link[LINK_ARPINREPLIES]).toBe(1);
    expect(b.mib.link[LINK_ARPINREQUESTS] - bIn0).toBe(1);
    expect(b.mib.link[LINK_ARPOUTREPLIES]).toBe(1);
    // B can answer A without asking (it learnt A from the request)
    expect(neighOutput(b, payload(b, 0x3333, IP_B), pl.devB, IP_A)).toBe(0);
    expect(e.capB.arp().length).toBe(1);
    expect(e.capB.ip()[0].tag).toBe(0x3333);
    finish(e);
  });

  it('flushes every queued packet in order on the reply; overflow is counted', () => {
    const e = setup({ arpQueueLen: 3 }, true);
    const { a, pl } = e;
    for (let k = 0; k < 3; k++) expect(neighOutput(a, payload(a, 100 + k, IP_A), pl.devA, IP_B)).toBe(0);
    expect(neighOutput(a, payload(a, 999, IP_A), pl.devA, IP_B)).toBe(-ENOBUFS);
    expect(a.mib.link[LINK_ARPQUEUEDROPS]).toBe(1);
    expect(e.capA.arp().length).toBe(1); // one request, not one per packet
    pump(e);
    expect(e.capA.ip().map((f) => f.tag)).toEqual([100, 101, 102]);
    finish(e);
  });

  it('retries with exponential backoff, then FAILED: queue freed, -EHOSTUNREACH, slot freed after hold', () => {
    const e = setup({ arpRetries: 3, arpRetryMs: 1000, arpFailedHoldMs: 3000 }, true);
    const { a, pl } = e;
    e.capA.pass = false; // the cable loses everything A sends
    const t0 = e.clock.now();
    expect(neighOutput(a, payload(a, 1, IP_A), pl.devA, IP_B)).toBe(0);
    expect(neighOutput(a, payload(a, 2, IP_A), pl.devA, IP_B)).toBe(0);
    expect(a.pool.inUse()).toBe(2);
    run(e, 6900, 50);
    expect(neighState(a, neighLookup(a, IP_B))).toBe(NUD_INCOMPLETE);
    run(e, 200, 50);
    const times = e.capA.arp().map((f) => f.t - t0);
    expect(times.length).toBe(3);
    expect(times[0]).toBe(0);
    expect(times[1]).toBeGreaterThanOrEqual(1000);
    expect(times[1]).toBeLessThan(1100);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(2000);
    expect(times[2] - times[1]).toBeLessThan(2100);
    const i = neighLookup(a, IP_B);
    expect(neighState(a, i)).toBe(NUD_FAILED);
    expect(a.mib.link[LINK_ARPRESOLVEFAILED]).toBe(1);
    expect(a.mib.link[LINK_TXNONEIGH]).toBe(2);
    expect(a.pool.inUse()).toBe(0);
    expect(neighOutput(a, payload(a, 3, IP_A), pl.devA, IP_B)).toBe(-EHOSTUNREACH);
    expect(a.pool.inUse()).toBe(0);
    expect(e.capA.arp().length).toBe(3); // no request while FAILED
    run(e, 3100, 100);
    expect(neighLookup(a, IP_B)).toBe(-1);
    // resolution may be attempted again (and now succeeds)
    e.capA.pass = true;
    expect(neighOutput(a, payload(a, 4, IP_A), pl.devA, IP_B)).toBe(0);
    pump(e);
    expect(neighState(a, neighLookup(a, IP_B))).toBe(NUD_REACHABLE);
    expect(e.capA.ip().filter((f) => f.tag === 4).length).toBe(1);
    finish(e);
  });

  it('ages REACHABLE to STALE, re-probes with a unicast request on use, and reclaims unused STALE entries', () => {
    const e = setup({ arpReachableMs: 5000, arpGcStaleMs: 20000 }, true);
    const { a, pl } = e;
    neighOutput(a, payload(a, 1, IP_A), pl.devA, IP_B);
    pump(e);
    const i = neighLookup(a, IP_B);
    expect(neighState(a, i)).toBe(NUD_REACHABLE);
    run(e, 4800, 100);
    expect(neighState(a, i)).toBe(NUD_REACHABLE);
    run(e, 300, 100);
    expect(neighState(a, i)).toBe(NUD_STALE);
    // use it: the packet goes straight out, plus a unicast probe
    const nArp = e.capA.arp().length;
    expect(neighOutput(a, payload(a, 2, IP_A), pl.devA, IP_B)).toBe(0);
    const ip = e.capA.ip();
    expect(ip[ip.length - 1].tag).toBe(2);
    expect(ip[ip.length - 1].dst).toBe(formatMac(MAC_B, 0));
    const arps = e.capA.arp();
    expect(arps.length).toBe(nArp + 1);
    expect(arps[arps.length - 1].op).toBe(ARPOP_REQUEST);
    expect(arps[arps.length - 1].dst).toBe(formatMac(MAC_B, 0)); // unicast poll (RFC 1122 2.3.2.1)
    expect(neighState(a, i)).toBe(NUD_PROBE);
    pump(e);
    expect(neighState(a, i)).toBe(NUD_REACHABLE);
    // now let it go stale and unused: reclaimed after arpGcStaleMs
    run(e, 5100, 100);
    expect(neighState(a, i)).toBe(NUD_STALE);
    run(e, 19000, 500);
    expect(neighLookup(a, IP_B)).toBe(i);
    run(e, 1500, 500);
    expect(neighLookup(a, IP_B)).toBe(-1);
    finish(e);
  });

  it('a STALE entry whose unicast probes go unanswered becomes FAILED', () => {
    const e = setup({ arpReachableMs: 1000, arpRetries: 2, arpRetryMs: 500 }, true);
    const { a, pl } = e;
    neighOutput(a, payload(a, 1, IP_A), pl.devA, IP_B);
    pump(e);
    run(e, 1100, 100);
    const i = neighLookup(a, IP_B);
    expect(neighState(a, i)).toBe(NUD_STALE);
    e.capA.pass = false;
    neighOutput(a, payload(a, 2, IP_A), pl.devA, IP_B);
    expect(neighState(a, i)).toBe(NUD_PROBE);
    run(e, 2000, 100);
    expect(neighState(a, i)).toBe(NUD_FAILED);
    expect(a.mib.link[LINK_ARPRESOLVEFAILED]).toBe(1);
    finish(e);
  });

  it('uses the packet source address (when ours on the device) as the ARP sender address', () => {
    const e = setup(undefined, true);
    const { a, pl } = e;
    a.ifaddr.add(pl.devA, IP_A2, 24);
    neighOutput(a, payload(a, 1, IP_A2), pl.devA, IP_B);
    expect(e.capA.arp()[0].sip).toBe(IP_A2);
    // a packet whose source is not ours: the device address in the target's subnet
    neighOutput(a, payload(a, 2, parseIpU('198.18.0.1')), pl.devA, IP_C);
    expect(e.capA.arp()[1].sip).toBe(IP_A);
    finish(e);
  });

  it('broadcast and multicast next hops go out without ARP', () => {
    const e = setup(undefined, true);
    const { a, pl } = e;
    expect(neighOutput(a, payload(a, 1, IP_A), pl.devA, 0xffffffff)).toBe(0);
    expect(neighOutput(a, payload(a, 2, IP_A), pl.devA, parseIpU('192.0.2.255'))).toBe(0);
    expect(neighOutput(a, payload(a, 3, IP_A), pl.devA, parseIpU('224.0.0.251'))).toBe(0);
    expect(e.capA.arp().length).toBe(0);
    const ip = e.capA.ip();
    expect(ip.map((f) => f.dst)).toEqual(['ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:fb']);
    expect(arpDump(a).length).toBe(0);
    finish(e);
  });

  it('a full table reclaims FAILED, then the oldest INCOMPLETE, STALE, REACHABLE entry; never a static one', () => {
    const e = setup({ arpTableSize: 2, arpRetries: 1, arpRetryMs: 100, arpFailedHoldMs: 60000 }, true);
    const { a, pl } = e;
    const IP_Y = parseIpU('192.0.2.77');
    e.capA.pass = false;
    expect(neighOutput(a, payload(a, 1, IP_A), pl.devA, IP_X)).toBe(0);
    expect(neighOutput(a, payload(a, 2, IP_A), pl.devA, IP_C)).toBe(0);
    // both unresolved: the oldest (X) makes room, its queued packet counted as TxNoNeigh
    expect(neighOutput(a, payload(a, 3, IP_A), pl.devA, IP_Y)).toBe(0);
    expect(neighLookup(a, IP_X)).toBe(-1);
    expect(a.mib.link[LINK_TXNONEIGH]).toBe(1);
    expect(a.mib.link[LINK_ARPTABLEFULL]).toBe(0);
    expect(a.pool.inUse()).toBe(2);
    run(e, 200, 50); // C and Y fail
    expect(neighState(a, neighLookup(a, IP_C))).toBe(NUD_FAILED);
    expect(neighState(a, neighLookup(a, IP_Y))).toBe(NUD_FAILED);
    e.capA.pass = true;
    // a FAILED entry makes room; B resolves
    expect(neighOutput(a, payload(a, 4, IP_A), pl.devA, IP_B)).toBe(0);
    pump(e);
    expect(neighState(a, neighLookup(a, IP_B))).toBe(NUD_REACHABLE);
    // a flood of packets to addresses that never answer churns the other slot, never B's
    e.capA.pass = false;
    for (let k = 0; k < 5; k++) {
      expect(neighOutput(a, payload(a, 10 + k, IP_A), pl.devA, parseIpU('192.0.2.' + (200 + k)))).toBe(0);
      expect(neighState(a, neighLookup(a, IP_B))).toBe(NUD_REACHABLE);
    }
    expect(neighState(a, neighLookup(a, parseIpU('192.0.2.204')))).toBe(NUD_INCOMPLETE);
    expect(a.pool.inUse()).toBe(1);
    // more live neighbours than entries: the least recently confirmed REACHABLE one makes room
    expect(neighAddStatic(a, pl.devA, parseIpU('192.0.2.204'), MAC_X, 0)).toBeGreaterThanOrEqual(0);
    e.capA.pass = true;
    expect(neighOutput(a, payload(a, 20, IP_A), pl.devA, IP_C)).toBe(0);
    expect(neighLookup(a, IP_B)).toBe(-1);
    expect(neighState(a, neighLookup(a, IP_C))).toBe(NUD_INCOMPLETE);
    // every entry static: dropped and counted
    expect(neighAddStatic(a, pl.devA, IP_C, MAC_X, 0)).toBeGreaterThanOrEqual(0);
    expect(neighOutput(a, payload(a, 21, IP_A), pl.devA, IP_X)).toBe(-ENOBUFS);
    expect(a.mib.link[LINK_ARPTABLEFULL]).toBe(1);
    expect(a.pool.inUse()).toBe(0);
    finish(e);
  });

  it('packets to many addresses that never answer hold at most a quarter of the skb pool', () => {
    const e = setup({ arpTableSize: 64, arpQueueLen: 3, skbSmallCount: 64 }, true);
    const { a, pl } = e;
    e.capA.pass = false;
    const before = a.mib.link[LINK_ARPQUEUEDROPS];
    let ok = 0;
    for (let k = 0; k < 40; k++) {
      for (let j = 0; j < 2; j++) {
        if (neighOutput(a, payload(a, k, IP_A), pl.devA, parseIpU('192.0.2.' + (100 + k))) === 0) ok++;
      }
    }
    expect(a.pool.inUse()).toBe(16);
    expect(ok).toBe(16);
    expect(a.mib.link[LINK_ARPQUEUEDROPS] - before).toBe(64);
    // every address is still being resolved: the entries exist, only the packets were dropped
    expect(neighState(a, neighLookup(a, parseIpU('192.0.2.139')))).toBe(NUD_INCOMPLETE);
    finish(e);
  });

  it('devClose flushes the device entries and frees their queues', () => {
    const e = setup(undefined, true);
    const { a, pl } = e;
    e.capA.pass = false;
    neighOutput(a, payload(a, 1, IP_A), pl.devA, IP_B);
    neighOutput(a, payload(a, 2, IP_A), pl.devA, IP_C);
    expect(a.pool.inUse()).toBe(2);
    devClose(a, pl.devA);
    expect(a.pool.inUse()).toBe(0);
    expect(arpDump(a).length).toBe(0);
    expect(neighOutput(a, payload(a, 3, IP_A), pl.devA, IP_B)).toBeLessThan(0);
    expect(a.pool.inUse()).toBe(0);
    finish(e);
  });

  it('static (PERMANENT) entries are used without ARP and never aged or overwritten', () => {
    const e = setup({ arpReachableMs: 1000, arpGcStaleMs: 1000 }, true);
    const { a, pl } = e;
    const i = neighAddStatic(a, pl.devA, IP_X, MAC_X, 0);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(neighOutput(a, payload(a, 7, IP_A), pl.devA, IP_X)).toBe(0);
    expect(e.capA.arp().length).toBe(0);
    expect(e.capA.ip()[0].dst).toBe(formatMac(MAC_X, 0));
    run(e, 5000, 500);
    expect(neighState(a, i)).toBe(NUD_PERMANENT);
    // a reply/gratuitous ARP claiming another MAC does not change it
    injectArp(a, pl.devA, BCAST, ARPOP_REQUEST, MAC_B, IP_X, ZERO, IP_X, 28);
    pump(e);
    expect(arpDump(a)[0].mac).toBe(formatMac(MAC_X, 0));
    expect(neighFlushDev(a, pl.devA)).toBe(0); // permanent entries survive a flush
    finish(e);
  });
});

describe('ARP announcements and merge', () => {
  it('sends a gratuitous ARP for each address when the device comes up', () => {
    const e = setup(undefined, false);
    const { a, b, pl } = e;
    a.ifaddr.add(pl.devA, IP_A2, 24);
    devOpen(b, pl.devB);
    devOpen(a, pl.devA);
    const g = e.capA.arp();
    expect(g.length).toBe(2);
    for (const f of g) {
      expect(f.op).toBe(ARPOP_REQUEST);
      expect(f.dst).toBe('ff:ff:ff:ff:ff:ff');
      expect(f.sip).toBe(f.tip);
    }
    expect(g.map((f) => f.sip)).toEqual([IP_A, IP_A2]);
    expect(a.mib.link[LINK_ARPGRATUITOUSOUT]).toBe(2);
    pump(e);
    // B is not the target: counted, no entry created, no reply
    expect(b.mib.link[LINK_ARPNOTFORUS]).toBe(2);
    expect(neighLookup(b, IP_A)).toBe(-1);
    expect(b.mib.link[LINK_ARPOUTREPLIES]).toBe(0);
    finish(e);
  });

  it('no gratuitous ARP when cfg.arpGratuitous is false; arpAnnounce still works', () => {
    const e = setup({ arpGratuitous: false }, false);
    const { a, pl } = e;
    pl.open();
    expect(e.capA.arp().length).toBe(0);
    expect(arpAnnounce(a, pl.devA, IP_A)).toBe(0);
    expect(e.capA.arp().length).toBe(1);
    finish(e);
  });

  it('a gratuitous ARP resolves a pending entry (RFC 826 merge) and updates a changed MAC', () => {
    const e = setup(undefined, false);
    const { a, b, pl } = e;
    devOpen(a, pl.devA);
    // B is down: A's request is refused on the wire, the entry stays INCOMPLETE
    neighOutput(a, payload(a, 5, IP_A), pl.devA, IP_B);
    pump(e);
    const i = neighLookup(a, IP_B);
    expect(neighState(a, i)).toBe(NUD_INCOMPLETE);
    devOpen(b, pl.devB); // B announces itself
    pump(e);
    expect(neighState(a, i)).toBe(NUD_STALE);
    expect(e.capA.ip().map((f) => f.tag)).toEqual([5]);
    // a gratuitous ARP with a new MAC for IP_B updates the entry
    injectArp(a, pl.devA, BCAST, ARPOP_REQUEST, MAC_X, IP_B, ZERO, IP_B, 28);
    pump(e);
    expect(arpDump(a)[0].mac).toBe(formatMac(MAC_X, 0));
    finish(e);
  });
});

describe('ARP receive rules', () => {
  it('replies only for its own address; requests for others are counted, no entry', () => {
    const e = setup(undefined, true);
    const { b, pl } = e;
    injectArp(b, pl.devB, BCAST, ARPOP_REQUEST, MAC_X, IP_X, ZERO, IP_C, 28);
    pump(e);
    expect(b.mib.link[LINK_ARPNOTFORUS]).toBe(1);
    expect(b.mib.link[LINK_ARPOUTREPLIES]).toBe(0);
    expect(e.capB.arp().length).toBe(0);
    expect(neighLookup(b, IP_X)).toBe(-1);
    injectArp(b, pl.devB, BCAST, ARPOP_REQUEST, MAC_X, IP_X, ZERO, IP_B, 28);
    pump(e);
    expect(b.mib.link[LINK_ARPOUTREPLIES]).toBe(1);
    const r = e.capB.arp();
    expect(r.length).toBe(1);
    expect(r[0].dst).toBe(formatMac(MAC_X, 0));
    expect(r[0].sip).toBe(IP_B);
    expect(r[0].sha).toBe(formatMac(MAC_B, 0));
    expect(r[0].tip).toBe(IP_X);
    expect(neighState(b, neighLookup(b, IP_X))).toBe(NUD_REACHABLE);
    finish(e);
  });

  it('creates no entry from an unsolicited reply', () => {
    const e = setup(undefined, true);
    const { a, pl } = e;
    injectArp(a, pl.devA, MAC_A, ARPOP_REPLY, MAC_X, IP_X, MAC_A, IP_A, 28);
    pump(e);
    expect(a.mib.link[LINK_ARPINREPLIES]).toBe(1);
    expect(a.mib.link[LINK_ARPUNSOLICITEDIGNORED]).toBe(1);
    expect(neighLookup(a, IP_X)).toBe(-1);
    finish(e);
  });

  it('a reply from the wrong host does not resolve someone else; the right one does', () => {
    const e = setup(undefined, true);
    const { a, pl } = e;
    e.capA.pass = false;
    neighOutput(a, payload(a, 9, IP_A), pl.devA, IP_X);
    injectArp(a, pl.devA, MAC_A, ARPOP_REPLY, MAC_B, IP_C, MAC_A, IP_A, 28);
    pump(e);
    expect(neighState(a, neighLookup(a, IP_X))).toBe(NUD_INCOMPLETE);
    e.capA.pass = true;
    injectArp(a, pl.devA, MAC_A, ARPOP_REPLY, MAC_X, IP_X, MAC_A, IP_A, 28);
    pump(e);
    expect(neighState(a, neighLookup(a, IP_X))).toBe(NUD_REACHABLE);
    const ip = e.capA.ip();
    expect(ip.length).toBe(1);
    expect(ip[0].dst).toBe(formatMac(MAC_X, 0));
    finish(e);
  });

  it('answers an RFC 5227 probe (sender 0.0.0.0) for its address without learning', () => {
    const e = setup(undefined, true);
    const { b, pl } = e;
    injectArp(b, pl.devB, BCAST, ARPOP_REQUEST, MAC_X, 0, ZERO, IP_B, 28);
    pump(e);
    const r = e.capB.arp();
    expect(r.length).toBe(1);
    expect(r[0].op).toBe(ARPOP_REPLY);
    expect(r[0].dst).toBe(formatMac(MAC_X, 0));
    expect(arpDump(b).length).toBe(0);
    finish(e);
  });

  it('counts (and ignores) ARP claiming one of our addresses', () => {
    const e = setup(undefined, true);
    const { b, pl } = e;
    injectArp(b, pl.devB, BCAST, ARPOP_REQUEST, MAC_X, IP_B, ZERO, IP_B, 28);
    pump(e);
    expect(b.mib.link[LINK_ARPCONFLICTS]).toBe(1);
    expect(e.capB.arp().length).toBe(0);
    expect(arpDump(b).length).toBe(0);
    finish(e);
  });

  const bad: [string, (b: Uint8Array) => void, number][] = [
    ['short (27 bytes)', () => {}, 27],
    ['htype 6', (b) => put16(b, 14, 6), 28],
    ['ptype 0x86dd', (b) => put16(b, 16, 0x86dd), 28],
    ['hlen 8', (b) => (b[18] = 8), 28],
    ['plen 16', (b) => (b[19] = 16), 28],
    ['op 3', (b) => put16(b, 20, 3), 28],
    ['op 0', (b) => put16(b, 20, 0), 28],
    ['multicast sender MAC', (b) => (b[22] = 0x01), 28],
    ['sender MAC is ours', (b) => { for (let i = 0; i < 6; i++) b[22 + i] = MAC_B[i]; }, 28],
    ['multicast sender IP', (b) => put32(b, 28, parseIpU('224.0.0.1')), 28],
    ['limited broadcast target IP', (b) => put32(b, 38, 0xffffffff), 28],
  ];
  for (const [name, mutate, len] of bad) {
    it('malformed ARP is counted and dropped: ' + name, () => {
      const e = setup(undefined, true);
      const { b, pl } = e;
      const f = frameBuf;
      f.fill(0);
      for (let i = 0; i < 6; i++) {
        f[i] = 0xff;
        f[6 + i] = MAC_X[i];
        f[22 + i] = MAC_X[i];
      }
      put16(f, 12, ETH_P_ARP);
      put16(f, 14, 1);
      put16(f, 16, ETH_P_IP);
      f[18] = 6;
      f[19] = 4;
      put16(f, 20, ARPOP_REQUEST);
      put32(f, 28, IP_X);
      put32(f, 38, IP_B);
      mutate(f);
      expect(rxFrame(b, pl.devB, f, 0, 14 + len)).toBe(0);
      pump(e);
      expect(b.mib.link[LINK_ARPINERRORS]).toBe(1);
      expect(b.mib.link[LINK_ARPINREQUESTS]).toBe(0);
      expect(e.capB.arp().length).toBe(0);
      expect(arpDump(b).length).toBe(0);
      finish(e);
    });
  }

  it('an ARP frame with trailing padding (60-byte frame) is accepted', () => {
    const e = setup(undefined, true);
    const { b, pl } = e;
    injectArp(b, pl.devB, BCAST, ARPOP_REQUEST, MAC_X, IP_X, ZERO, IP_B, 46);
    pump(e);
    expect(b.mib.link[LINK_ARPINERRORS]).toBe(0);
    expect(b.mib.link[LINK_ARPOUTREPLIES]).toBe(1);
    finish(e);
  });

  it('survives a burst of random garbage ARP frames without leaking or throwing', () => {
    const e = setup(undefined, true);
    const { b, pl } = e;
    let s = 12345;
    const rnd = (): number => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s >>> 16;
    };
    for (let k = 0; k < 300; k++) {
      const len = 14 + (rnd() % 40);
      for (let i = 0; i < len; i++) frameBuf[i] = rnd() & 0xff;
      for (let i = 0; i < 6; i++) frameBuf[i] = 0xff;
      put16(frameBuf, 12, ETH_P_ARP);
      if (k % 2 === 0 && len >= 42) {
        put16(frameBuf, 14, 1);
        put16(frameBuf, 16, ETH_P_IP);
        frameBuf[18] = 6;
        frameBuf[19] = 4;
      }
      rxFrame(b, pl.devB, frameBuf, 0, len);
      if (k % 16 === 0) pump(e);
    }
    pump(e);
    expect(b.mib.link[LINK_ARPINERRORS]).toBeGreaterThan(0);
    finish(e);
  });
});
