/*
 * tcp_r4.test.ts — regression test for bug R4 (test/scenario/tcp_repro.md).
 *
 * B received A's FIN and ACKed it at once with a pure ACK; its application
 * closed microseconds later and sent FIN+ACK. On a jittery path (the sim's
 * esp32 cable) the two swapped: the pure ACK, arriving after A's final ACK,
 * drew a TIME_WAIT re-ACK from A that B's closed port answered with a RST.
 * Like Linux (tcp_fin → pingpong mode), B now delays the ACK of the FIN, so
 * a prompt close sends exactly one FIN+ACK; a slow application still ACKs
 * the FIN when the delayed-ACK timer fires.
 */
import { describe, it, expect, vi } from 'vitest';
import { tcpPair, connectPair, run, runUntil, expectClean, Seg, TEnv } from './tcp_util';
import { tcpShutdown, tcpClose, tcpRecv, SHUT_WR } from '../../src/transport/tcp/tcp_api';
import {
  TCP_CLOSE_WAIT, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_LAST_ACK, TCP_OUTRSTS,
} from '../../src/transport/tcp/tcp';
import { runSim } from '../../src/cli/sim';

const FIN = 1;
const RST = 4;
const ACK = 16;

/** Step 1 ms at a time; after B's poll, when B has A's FIN, let B's application read EOF and close at once. */
function shutdownAndPromptClose(e: TEnv, c: number, s: number): void {
  expect(tcpShutdown(e.a, c, SHUT_WR)).toBe(0);
  const buf = new Uint8Array(16);
  let closed = false;
  for (let i = 0; i < 200 && !closed; i++) {
    e.clock.advance(1);
    e.a.poll();
    e.b.poll();
    if (e.b.tcp.state[s] === TCP_CLOSE_WAIT) {
      expect(tcpRecv(e.b, s, buf, 0, buf.length)).toBe(0); // EOF
      expect(tcpClose(e.b, s)).toBe(0);
      closed = true;
    }
  }
  expect(closed).toBe(true);
}

describe('R4: no stray ACK between the peer FIN and our FIN', () => {
  it('a prompt close answers the FIN with one FIN+ACK; B sends nothing more until A ACKs it; no RST', () => {
    const e = tcpPair();
    const k = connectPair(e, 8080);
    run(e, 100); // connection settled, no ACK owed
    e.tap.clear();
    shutdownAndPromptClose(e, k.c, k.s);
    expect(runUntil(e, () => e.a.tcp.twCount === 1, 2000)).toBe(true); // A in TIME_WAIT
    run(e, 500);
    const segs = e.tap.segs;
    const aFin = segs.findIndex((x) => x.from === 'A' && (x.flags & FIN) !== 0);
    expect(aFin).toBeGreaterThanOrEqual(0);
    const finSeq = segs[aFin].seq;
    const fromB = segs.filter((x, i) => x.from === 'B' && i > aFin);
    // exactly one segment from B: its FIN, carrying the ACK of A's FIN
    expect(fromB.length).toBe(1);
    expect(fromB[0].flags & (FIN | ACK)).toBe(FIN | ACK);
    expect(fromB[0].ack).toBe((finSeq + 1) >>> 0);
    // after B's FIN, B is silent until (and after) A's final ACK
    const bFin = segs.indexOf(fromB[0]);
    const aAck = segs.findIndex((x, i) => i > bFin && x.from === 'A' && (x.flags & ACK) !== 0);
    expect(aAck).toBeGreaterThan(bFin);
    expect(segs[aAck].ack).toBe((fromB[0].seq + 1) >>> 0);
    expect(segs.slice(bFin + 1).some((x) => x.from === 'B')).toBe(false);
    // A sent exactly one ACK after B's FIN (no TIME_WAIT re-ACK), and no RST anywhere
    expect(segs.slice(bFin + 1).filter((x) => x.from === 'A').length).toBe(1);
    expect(segs.some((x: Seg) => (x.flags & RST) !== 0)).toBe(false);
    expect(e.a.tcp.mib[TCP_OUTRSTS]).toBe(0);
    expect(e.b.tcp.mib[TCP_OUTRSTS]).toBe(0);
    expectClean(e);
  });

  it('a slow application still ACKs the FIN when the delayed-ACK timer fires; A does not retransmit it', () => {
    const e = tcpPair();
    const k = connectPair(e, 8081);
    run(e, 100);
    e.tap.clear();
    expect(tcpShutdown(e.a, k.c, SHUT_WR)).toBe(0);
    expect(runUntil(e, () => e.b.tcp.state[k.s] === TCP_CLOSE_WAIT, 100)).toBe(true);
    const t0 = e.clock.now();
    expect(e.a.tcp.state[k.c]).toBe(TCP_FIN_WAIT1);
    expect(runUntil(e, () => e.a.tcp.state[k.c] === TCP_FIN_WAIT2, 1000)).toBe(true);
    const dt = e.clock.now() - t0;
    expect(dt).toBeLessThanOrEqual(e.b.cfg.tcpDelAckMs + 2);
    expect(dt).toBeGreaterThanOrEqual(e.b.cfg.tcpDelAckMs - 2);
    const bAcks = e.tap.segs.filter((x) => x.from === 'B');
    expect(bAcks.length).toBe(1);
    expect(bAcks[0].flags & (FIN | ACK | RST)).toBe(ACK);
    expect(e.tap.segs.filter((x) => x.from === 'A' && (x.flags & FIN) !== 0).length).toBe(1);
    // later the application closes: FIN, final ACK, no RST
    run(e, 200);
    const buf = new Uint8Array(4);
    expect(tcpRecv(e.b, k.s, buf, 0, 4)).toBe(0);
    expect(tcpClose(e.b, k.s)).toBe(0);
    expect(e.b.tcp.state[k.s]).toBe(TCP_LAST_ACK);
    run(e, 500);
    expect(e.tap.segs.some((x) => (x.flags & RST) !== 0)).toBe(false);
    expectClean(e);
  });

  it('slabnet sim seeds 1..25: the esp32 (and the host) never send a RST', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      let out = '';
      const so = vi.spyOn(process.stdout, 'write').mockImplementation((x: string | Uint8Array) => {
        out += String(x);
        return true;
      });
      const se = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      let code: number;
      try {
        code = await runSim(['--seed', String(seed), '--no-pcap', '--json']);
      } finally {
        so.mockRestore();
        se.mockRestore();
      }
      expect(code, 'seed ' + seed).toBe(0);
      const rep = JSON.parse(out);
      expect(rep.ok, 'seed ' + seed).toBe(true);
      const esp = rep.hosts.find((h: { name: string }) => h.name === 'esp32');
      expect(esp.tcp.OutRsts, 'esp32 OutRsts, seed ' + seed).toBe(0);
      for (const h of rep.hosts) if (h.tcp !== null) expect(h.tcp.OutRsts, h.name + ' seed ' + seed).toBe(0);
    }
  }, 60000);
});
