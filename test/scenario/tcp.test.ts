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
import { TCP_ESTABLISHED, TCP_RETRANSSEGS, TCP_INCSUMERRORS, TX_TIMEWAITOVERFLOW } from '../../src/transport/tcp/tcp';
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

/** A TCP echo server: accepts, echoes everything back, closes after the peer's FIN. */
class EchoServer implements SimTicker {
  readonly l: number;
  readonly conns: number[] = [];
  readonly pend: Uint8Array[] = [];
  readonly pl: number[] = [];
  readonly buf = new Uint8Array(4096);
  accepted = 0;
  constructor(readonly h: SimHost, port: number) {
    this.l = tcpSocket(h.st);
    expect(tcpBind(h.st, this.l, 0, port)).toBe(0);
    expect(tcpListen(h.st, this.l, 4)).toBe(0);
  }
  onTick(): number {
    const st = this.h.st;
    let n = 0;
    for (;;) {
      const c = tcpAccept(st, this.l);
      if (c < 0) break;
      this.conns.push(c);
      this.pend.push(new Uint8Array(4096));
      this.pl.push(0);
      this.accepted++;
      n++;
    }
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const c = this.conns[i];
      if (this.pl[i] > 0) {
        const w = tcpSend(st, c, this.pend[i], 0, this.pl[i]);
        if (w > 0) {
          this.pend[i].copyWithin(0, w, this.pl[i]);
          this.pl[i] -= w;
          n++;
        }
        continue;
      }
      const r = tcpRecv(st, c, this.buf, 0, this.buf.length);
      if (r > 0) {
        const w = tcpSend(st, c, this.buf, 0, r);
        const ww = w > 0 ? w : 0;
        for (let j = ww; j < r; j++) this.pend[i][j - ww] = this.buf[j];
        this.pl[i] = r - ww;
        n++;
      } else if (r === 0 || (r < 0 && r !== -11)) {
        tcpClose(st, c);
        this.conns.splice(i, 1);
        this.pend.splice(i, 1);
        this.pl.splice(i, 1);
        n++;
      }
    }
    return n;
  }
}

describe('TCP connection churn on a faulty LAN', () => {
  for (const seed of [1, 2, 3]) {
    it(`two clients, 6 sequential echo connections each (TIME_WAIT table overflowing), seed ${seed}`, () => {
      const sim = new Sim({ seed });
      const over = { tcpTimeWaitSlots: 2, tcpMaxSockets: 4 };
      const [a, b, c] = makeLan(sim, 3, over);
      for (const x of [a, b, c]) ensureTcp(x.h.st);
      sim.setFaults(a.h, { loss: 0.03, reorder: 0.05, reorderMs: 4, delayMs: 1 });
      sim.setFaults(c.h, { loss: 0.03, dup: 0.02, delayMs: 2 });
      const srv = new EchoServer(b.h, 7);
      sim.addTicker(srv);
      let ok = 0;
      for (let round = 0; round < 6; round++) {
        for (const cl of [a, c]) {
          const st = cl.h.st;
          const t = tcpSocket(st);
          expect(t, sim.describe()).toBeGreaterThanOrEqual(0);
          expect(tcpConnect(st, t, b.ip, 7)).toBe(-EINPROGRESS);
          const msg = pattern(3000 + round * 700, seed * 100 + round);
          const got = new Uint8Array(msg.length);
          let sent = 0;
          let n = 0;
          const done = sim.runUntil(() => {
            if (st.tcp.state[t] === TCP_ESTABLISHED && sent < msg.length) {
              const w = tcpSend(st, t, msg, sent, msg.length - sent);
              if (w > 0) sent += w;
            }
            const r = tcpRecv(st, t, got, n, got.length - n);
            if (r > 0) n += r;
            return n === msg.length;
          }, 60000);
          expect(done, `round ${round} got ${n} ` + sim.describe()).toBe(true);
          expect(sameBytes(got, msg)).toBe(true);
          expect(tcpClose(st, t)).toBe(0); // active close: TIME_WAIT on the client
          ok++;
        }
      }
      expect(ok).toBe(12);
      expect(srv.accepted).toBe(12);
      sim.run(5000);
      sim.removeTicker(srv);
      expect(tcpClose(b.h.st, srv.l)).toBe(0);
      sim.run(2 * a.h.st.cfg.tcpMslMs + 70000);
      for (const x of [a, b, c]) {
        expect(x.h.st.tcp.inUse(), x.h.name + ' ' + sim.describe()).toBe(0);
        expect(x.h.st.tcp.twCount).toBe(0);
      }
      expect(a.h.st.tcp.ext[TX_TIMEWAITOVERFLOW] + c.h.st.tcp.ext[TX_TIMEWAITOVERFLOW]).toBeGreaterThan(0);
      expectAllFree(sim);
    });
  }
});
