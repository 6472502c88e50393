/*
 * Scenario: 1 MB TCP bulk transfers over the simulated LAN, byte-exact
 * (compared byte by byte against the sender's seeded stream, and by
 * FNV-1a hash), under random loss 0/1/5/10/20 %, duplication,
 * reordering, corruption (the wire delivers corrupted frames: the TCP
 * checksum must catch every one, counted in InCsumErrors), a 30 s
 * outage mid-transfer, and both directions at once; many seeds each.
 * Every case ends with an orderly close, TIME_WAIT run out, and every
 * TCB, skb and wire slot free. TCP_SCENARIO_SEEDS=n runs n seeds per
 * condition instead of the default.
 */
import { describe, it, expect } from 'vitest';
import type { LinkFaultsInit } from '../../src/sim/link';
import { tcpLan, connect, Pump, runPumps, expectStream, closeAllAndDrain, tcbInfo, TcpWire } from './tcp_helpers';
import { TCP_RETRANSSEGS, TCP_INCSUMERRORS, TCP_INERRS } from '../../src/transport/tcp/tcp';
import { csumErrors } from './helpers';

const MB = 1 << 20;
const ENV_SEEDS = Number(process.env.TCP_SCENARIO_SEEDS ?? '0');

function seeds(def: number, base: number): number[] {
  const n = ENV_SEEDS > 0 ? ENV_SEEDS : def;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(base + i);
  return out;
}

interface Case {
  name: string;
  faults: Partial<LinkFaultsInit>;
  /** faults of the ACK direction (switch → a) when they differ */
  faultsRx?: Partial<LinkFaultsInit>;
  up: number;
  down: number;
  seeds: number[];
  maxMs: number;
  /** a 30 s outage of a's cable once b has this many bytes (-1: none) */
  outageAt?: number;
  /** expect retransmissions */
  retrans?: boolean;
  /** frames corrupted after the IP header: exact InCsumErrors accounting */
  exactCsum?: boolean;
}

const base = { delayMs: 1 };
const CASES: Case[] = [
  { name: 'no loss', faults: base, up: MB, down: 0, seeds: seeds(8, 100), maxMs: 120000 },
  { name: '1% loss', faults: { ...base, loss: 0.01 }, up: MB, down: 0, seeds: seeds(10, 200), maxMs: 600000, retrans: true },
  { name: '5% loss', faults: { ...base, loss: 0.05 }, up: MB, down: 0, seeds: seeds(10, 300), maxMs: 1200000, retrans: true },
  { name: '10% loss', faults: { ...base, loss: 0.1 }, up: MB, down: 0, seeds: seeds(10, 400), maxMs: 3600000, retrans: true },
  { name: '20% loss', faults: { ...base, loss: 0.2 }, up: MB, down: 0, seeds: seeds(10, 500), maxMs: 4 * 3600000, retrans: true },
  {
    name: '20% loss on the data path, 10% on the ACK path', faults: { ...base, loss: 0.2 }, faultsRx: { ...base, loss: 0.1 }, up: MB,
    down: 0, seeds: seeds(4, 550), maxMs: 4 * 3600000, retrans: true,
  },
  { name: '10% duplication', faults: { ...base, dup: 0.1 }, up: MB, down: 0, seeds: seeds(10, 600), maxMs: 600000 },
  {
    name: '20% reordering (up to 8 ms) + jitter', faults: { ...base, jitterMs: 0.5, reorder: 0.2, reorderMs: 8 }, up: MB, down: 0, seeds: seeds(10, 700),
    maxMs: 600000,
  },
  {
    name: '3% corruption after the IP header', faults: { ...base, corrupt: 0.03, corruptFrom: 34 }, up: MB, down: 0,
    seeds: seeds(10, 800), maxMs: 1200000, retrans: true, exactCsum: true,
  },
  {
    name: '3% corruption anywhere in the frame', faults: { ...base, corrupt: 0.03 }, up: MB, down: 0,
    seeds: seeds(8, 900), maxMs: 1200000, retrans: true,
  },
  {
    name: '30 s outage mid-transfer', faults: base, up: MB, down: 0, seeds: seeds(8, 1000), maxMs: 600000, outageAt: 300000,
    retrans: true,
  },
  {
    name: 'both directions at once, 5% loss + dup + reorder + jitter', faults: { ...base, jitterMs: 0.5, loss: 0.05, dup: 0.02, reorder: 0.1, reorderMs: 4 },
    up: MB, down: MB, seeds: seeds(10, 1100), maxMs: 1200000, retrans: true,
  },
  {
    name: 'both directions at once, 10% loss + 2% corruption + 10 Mbit/s', up: MB, down: MB / 2, seeds: seeds(8, 1200),
    faults: { ...base, loss: 0.1, corrupt: 0.02, corruptFrom: 34, rateBps: 10000000 }, maxMs: 3600000, retrans: true, exactCsum: true,
  },
];

describe('TCP bulk transfers over a faulty simulated LAN', () => {
  for (const k of CASES) {
    describe(k.name, () => {
      for (const seed of k.seeds) {
        it(`${k.up} B up + ${k.down} B down, seed ${seed}`, () => {
          const lan = tcpLan(seed, { tcpSndBuf: 32768, tcpRcvBuf: 32768 });
          const { sim, a, b } = lan;
          const wire = new TcpWire();
          sim.fabric.observer = wire;
          sim.stepMs = 50;
          sim.setFaults(a.h, k.faults, 'tx');
          sim.setFaults(a.h, k.faultsRx !== undefined ? k.faultsRx : k.faults, 'rx');
          const { c, s } = connect(lan, 5001, 120000);
          const upSeed = seed * 7 + 1;
          const downSeed = seed * 7 + 2;
          const pa = new Pump(a.h, c, k.up, upSeed, downSeed);
          const pb = new Pump(b.h, s, k.down, downSeed, upSeed);
          let ok: boolean;
          if (k.outageAt !== undefined) {
            sim.addTicker(pa);
            sim.addTicker(pb);
            expect(sim.runUntil(() => pb.got >= (k.outageAt as number), k.maxMs), 'before outage ' + sim.describe()).toBe(true);
            const before = pb.got;
            sim.outage(a.h, 30000);
            sim.run(29000);
            // nothing crosses a cable that is down
            expect(pb.got - before, 'bytes during outage ' + sim.describe()).toBeLessThan(65536);
            sim.removeTicker(pa);
            sim.removeTicker(pb);
            ok = runPumps(sim, pa, pb, k.maxMs);
            expect(a.h.port(0).up.outageDrops, sim.describe()).toBeGreaterThan(0);
          } else {
            ok = runPumps(sim, pa, pb, k.maxMs);
          }
          const diag = `a got ${pa.got} b got ${pb.got} err ${pa.error}/${pb.error} | ${tcbInfo(a.h.st, c)} | ${tcbInfo(b.h.st, s)} `;
          expect(ok, 'finished: ' + diag + sim.describe()).toBe(true);
          expect(pa.error, sim.describe()).toBe(0);
          expect(pb.error, sim.describe()).toBe(0);
          expectStream(sim, pb, k.up, upSeed, 'b<-a');
          expectStream(sim, pa, k.down, downSeed, 'a<-b');
          expect(pa.sendHash.h, sim.describe()).toBe(pb.recvHash.h);
          const rtx = a.h.st.tcp.mib[TCP_RETRANSSEGS] + b.h.st.tcp.mib[TCP_RETRANSSEGS];
          if (k.retrans === true) expect(rtx, 'retransmissions ' + sim.describe()).toBeGreaterThan(0);
          if (k.faults.loss === undefined && k.faults.corrupt === undefined && k.outageAt === undefined && k.faults.dup === undefined) {
            // nothing lost: any retransmission is a spurious timeout (reordering may trigger fast retransmit)
            if (k.faults.reorder === undefined) expect(rtx, 'spurious retransmissions ' + sim.describe()).toBe(0);
          }
          const corrupted = a.h.port(0).up.corrupted + a.h.port(0).down.corrupted;
          const tcpCsum = a.h.st.tcp.mib[TCP_INCSUMERRORS] + b.h.st.tcp.mib[TCP_INCSUMERRORS];
          if (k.faults.corrupt !== undefined) {
            expect(corrupted, sim.describe()).toBeGreaterThan(0);
            expect(tcpCsum, 'TCP InCsumErrors ' + sim.describe()).toBeGreaterThan(0);
            // InErrs counts checksum errors too (Linux)
            expect(a.h.st.tcp.mib[TCP_INERRS] + b.h.st.tcp.mib[TCP_INERRS], sim.describe()).toBeGreaterThanOrEqual(
              tcpCsum + (k.exactCsum === true ? wire.badHdrDelivered : 0),
            );
            if (k.exactCsum === true && a.h.port(0).rxRefused + b.h.port(0).rxRefused === 0) {
              // every corrupted TCP segment delivered was caught by the TCP checksum, and nothing else was counted
              expect(tcpCsum, 'InCsumErrors vs bad segments on the wire ' + sim.describe()).toBe(wire.badCsumDelivered);
              expect(csumErrors(a.h) + csumErrors(b.h), 'IP-level errors ' + sim.describe()).toBe(0);
            }
          } else {
            expect(tcpCsum, sim.describe()).toBe(0);
            expect(wire.badCsumDelivered, sim.describe()).toBe(0);
          }
          closeAllAndDrain(sim);
        });
      }
    });
  }
});
