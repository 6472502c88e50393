/*
 * tcp_sweep.test.ts — a seeded sweep of small two-way transfers (60 KB up,
 * 50 KB down) over the simulated LAN, across TCB configurations (board-
 * sized 1–2 KB rings without window scaling, one out-of-order range, no
 * timestamps, no SACK, large rings) and wire faults (20% and 10% loss, a
 * slow lossy link, loss + duplication + reordering, corruption). Every
 * run must finish byte-exact (checked against the seeded stream), with
 * no error, and end with every TCB, skb and wire slot free.
 * TCP_SWEEP_SEEDS=n runs n seeds per combination (default 3).
 */
import { describe, it, expect } from 'vitest';
import type { StackConfig } from '../../src/config';
import type { LinkFaultsInit } from '../../src/sim/link';
import { tcpLan, connect, Pump, runPumps, closeAllAndDrain, tcbInfo } from '../scenario/tcp_helpers';

const N = Number(process.env.TCP_SWEEP_SEEDS ?? '3');
const CFGS: { name: string; cfg: Partial<StackConfig> }[] = [
  { name: 'board-sized rings', cfg: { tcpSndBuf: 2048, tcpRcvBuf: 2048, tcpWindowScaling: false, tcpOooRanges: 2, tcpInitCwndSegs: 2 } },
  { name: '1 KB receive ring, one OOO range, no timestamps', cfg: { tcpSndBuf: 4096, tcpRcvBuf: 1024, tcpOooRanges: 1, tcpTimestamps: false } },
  { name: 'no SACK', cfg: { tcpSndBuf: 8192, tcpRcvBuf: 8192, tcpSack: false } },
  { name: '64 KB rings', cfg: { tcpSndBuf: 65536, tcpRcvBuf: 65536 } },
];
const FAULTS: { name: string; f: Partial<LinkFaultsInit> }[] = [
  { name: '20% loss', f: { delayMs: 1, loss: 0.2 } },
  { name: '10% loss', f: { delayMs: 1, loss: 0.1 } },
  { name: '1 Mbit/s, 3 ms, 2% loss', f: { delayMs: 3, loss: 0.02, rateBps: 1000000 } },
  { name: 'loss + dup + reorder', f: { delayMs: 1, loss: 0.05, dup: 0.05, reorder: 0.2, reorderMs: 5, jitterMs: 0.5 } },
  { name: '5% corruption', f: { delayMs: 1, corrupt: 0.05, corruptFrom: 34 } },
];

describe('tcp sweep: configurations x faults', () => {
  for (let ci = 0; ci < CFGS.length; ci++) {
    for (let fi = 0; fi < FAULTS.length; fi++) {
      it(`${CFGS[ci].name}, ${FAULTS[fi].name}: ${N} seeds`, () => {
        for (let k = 1; k <= N; k++) {
          const seed = 7000 + k * 100 + ci * 10 + fi;
          const lan = tcpLan(seed, CFGS[ci].cfg);
          const { sim, a, b } = lan;
          sim.setFaults(a.h, FAULTS[fi].f);
          const { c, s } = connect(lan, 5001, 600000);
          const pa = new Pump(a.h, c, 60000, seed * 7 + 1, seed * 7 + 2);
          const pb = new Pump(b.h, s, 50000, seed * 7 + 2, seed * 7 + 1);
          const ok = runPumps(sim, pa, pb, 3600000);
          const diag = `seed ${seed}: ${pa.got}/${pb.got} err ${pa.error}/${pb.error} | ${tcbInfo(a.h.st, c)} | ${tcbInfo(b.h.st, s)} ${sim.describe()}`;
          expect(ok, diag).toBe(true);
          expect(pa.error, diag).toBe(0);
          expect(pb.error, diag).toBe(0);
          expect(pb.got, diag).toBe(60000);
          expect(pa.got, diag).toBe(50000);
          expect(pb.mismatchAt, diag).toBe(-1);
          expect(pa.mismatchAt, diag).toBe(-1);
          expect(pb.recvHash.h, diag).toBe(pa.sendHash.h);
          expect(pa.recvHash.h, diag).toBe(pb.sendHash.h);
          closeAllAndDrain(sim);
        }
      });
    }
  }
});
