/*
 * Scenario: TCP bulk transfers over the simulated LAN with faults (loss,
 * duplication, reordering, corruption, delay/jitter, a rate-limited
 * link), both directions at once, over several seeds; byte-exact, then
 * an orderly close, TIME_WAIT expiry and every skb, wire slot and TCB free.
 */
import { describe, it, expect } from 'vitest';
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import { makeLan, expectAllFree, csumErrors } from './helpers';
import { ensureTcp, pattern, sameBytes } from '../unit/tcp_util';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, SHUT_WR,
} from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED, TCP_RETRANSSEGS, TCP_INCSUMERRORS } from '../../src/transport/tcp/tcp';
import { EINPROGRESS } from '../../src/core/errno';

/** Pushes `out` into t and reads everything t receives into `inb`; shuts down writing when done. */
class Pump implements SimTicker {
  sent = 0;
  got = 0;
  eof = false;
  readonly inb: Uint8Array;
  constructor(readonly h: SimHost, public t: number, readonly out: Uint8Array, expectIn: number) {
    this.inb = new Uint8Array(expectIn);
  }
  onTick(): number {
    if (this.t < 0) return 0;
    const st = this.h.st;
    let n = 0;
    if (this.sent < this.out.length) {
      const r = tcpSend(st, this.t, this.out, this.sent, this.out.length - this.sent);
      if (r > 0) {
        this.sent += r;
        n++;
        if (this.sent === this.out.length) tcpShutdown(st, this.t, SHUT_WR);
      }
    }
    for (;;) {
      const room = this.inb.length - this.got;
      const r = tcpRecv(st, this.t, this.inb, this.got, room > 0 ? room : 0);
      if (r > 0) {
        this.got += r;
        n++;
        continue;
      }
      if (r === 0 && room > 0) this.eof = true;
      if (r === 0 && room === 0) {
        // buffer full: probe for EOF with a scratch byte
        const one = new Uint8Array(1);
        if (tcpRecv(st, this.t, one, 0, 1) === 0) this.eof = true;
      }
      break;
    }
    return n;
  }
}

describe('TCP over a faulty simulated LAN', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    it(`1 MB one way + 256 KB the other at once, seed ${seed}`, () => {
      const sim = new Sim({ seed });
      const [a, b] = makeLan(sim, 2);
      ensureTcp(a.h.st);
      ensureTcp(b.h.st);
      sim.setFaults(a.h, { loss: 0.02, dup: 0.01, reorder: 0.05, reorderMs: 5, corrupt: 0.01, corruptFrom: 14, delayMs: 2, jitterMs: 1 });
      sim.setFaults(b.h, { loss: 0.01, rateBps: 20000000, delayMs: 1 });
      const l = tcpSocket(b.h.st);
      expect(tcpBind(b.h.st, l, 0, 8080)).toBe(0);
      expect(tcpListen(b.h.st, l, 2)).toBe(0);
      const c = tcpSocket(a.h.st);
      expect(tcpConnect(a.h.st, c, b.ip, 8080)).toBe(-EINPROGRESS);
      let s = -1;
      expect(sim.runUntil(() => (s = tcpAccept(b.h.st, l)) >= 0, 30000), sim.describe()).toBe(true);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_ESTABLISHED, 30000), sim.describe()).toBe(true);
      const up = pattern(1 << 20, seed);
      const down = pattern(256 * 1024, seed + 50);
      const pa = new Pump(a.h, c, up, down.length);
      const pb = new Pump(b.h, s, down, up.length);
      sim.addTicker(pa);
      sim.addTicker(pb);
      const ok = sim.runUntil(() => pa.eof && pb.eof, 600000);
      if (!ok) {
        for (const [h, t] of [[a.h, c], [b.h, s]] as const) {
          const tp = h.st.tcp;
          console.log(h.name, 'state', tp.state[t], 'una', tp.sndUna[t], 'nxt', tp.sndNxt[t], 'max', tp.sndMax[t], 'wseq', tp.writeSeq[t],
            'base', tp.sndBase[t], 'sndWnd', tp.sndWnd[t], 'cwnd', tp.cwnd[t], 'ssth', tp.ssthresh[t], 'rcvNxt', tp.rcvNxt[t], 'edge', tp.rcvEdge[t],
            'rcvCount', tp.rcvCount[t], 'flags', tp.flags[t].toString(16), 'err', tp.err[t], 'rtxPending', h.st.timers.pending(tp.tRtx[t]),
            'exp', h.st.timers.expires[tp.tRtx[t]], 'backoff', tp.backoff[t], 'rto', tp.rto[t], 'retrans', tp.retransmits[t], 'sbN', tp.sbN[t], 'oooN', tp.oooN[t],
            'dup', tp.dupAcks[t], 'recover', tp.recover[t], 'highRxt', tp.highRxt[t], 'pool', h.st.pool.inUse());
          console.log(JSON.stringify(tp.extB.toObject()));
        }
      }
      expect(ok, `a got ${pa.got} b got ${pb.got} ` + sim.describe()).toBe(true);
      expect(pb.got).toBe(up.length);
      expect(pa.got).toBe(down.length);
      expect(sameBytes(pb.inb, up), sim.describe()).toBe(true);
      expect(sameBytes(pa.inb, down), sim.describe()).toBe(true);
      expect(a.h.st.tcp.mib[TCP_RETRANSSEGS], sim.describe()).toBeGreaterThan(0);
      // corrupted frames were caught by some checksum, never delivered as data
      const corrupted = a.h.port(0).up.corrupted + a.h.port(0).down.corrupted;
      expect(corrupted).toBeGreaterThan(0);
      expect(csumErrors(a.h) + csumErrors(b.h) + a.h.st.tcp.mib[TCP_INCSUMERRORS] + b.h.st.tcp.mib[TCP_INCSUMERRORS])
        .toBeGreaterThan(0);
      sim.removeTicker(pa);
      sim.removeTicker(pb);
      expect(tcpClose(a.h.st, c)).toBe(0);
      expect(tcpClose(b.h.st, s)).toBe(0);
      expect(tcpClose(b.h.st, l)).toBe(0);
      sim.run(2 * a.h.st.cfg.tcpMslMs + 5000);
      for (const h of [a.h, b.h]) {
        expect(h.st.tcp.inUse(), h.name + ' ' + sim.describe()).toBe(0);
        expect(h.st.tcp.twCount, h.name + ' ' + sim.describe()).toBe(0);
      }
      expectAllFree(sim);
    });
  }
});
