/*
 * Scenario: the TCP state machine over the simulated LAN — every state
 * transition of a connection's life over a lossy link (each observed
 * transition must be one RFC 9293 §3.3.2 allows, and the union over the
 * seeds must cover the whole active/passive open and close paths),
 * simultaneous open and simultaneous close (clean and lossy), the RST
 * cases (refused connect, abortive close, a lost RST followed by more
 * data, a half-open connection after the peer forgot it, close with
 * unread data), and TIME_WAIT expiring after 2 MSL. Every case ends with
 * every TCB, TIME_WAIT slot, skb and wire slot free.
 */
import { describe, it, expect } from 'vitest';
import { tcpLan, connect, Pump, runPumps, expectStream, closeAllAndDrain, StateRecorder, TcpLan } from './tcp_helpers';
import {
  tcpSocket, tcpBind, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, tcpSetsockopt, SHUT_WR, SOL_SOCKET, SO_LINGER,
} from '../../src/transport/tcp/tcp_api';
import {
  TCP_ESTABLISHED, TCP_CLOSE, TCP_TIME_WAIT, TCP_ATTEMPTFAILS, TCP_OUTRSTS, TCP_ESTABRESETS, TX_ABORTONCLOSE, TX_ABORTONLINGER,
} from '../../src/transport/tcp/tcp';
import { SimPort, FrameObserver, FEV_RX } from '../../src/sim/switch';
import { neighAddStatic } from '../../src/link/arp';
import { EAGAIN, EINPROGRESS, ECONNREFUSED, ECONNRESET, EPIPE } from '../../src/core/errno';

const ENV_SEEDS = Number(process.env.TCP_SCENARIO_SEEDS ?? '0');
function seeds(def: number, base: number): number[] {
  const n = ENV_SEEDS > 0 ? ENV_SEEDS : def;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(base + i);
  return out;
}

/** Transitions RFC 9293 §3.3.2 (Figure 5) allows, plus slot allocation (FREE>CLOSE, FREE>SYN_RECV/ESTABLISHED for a child) and release (>FREE). */
const LEGAL = new Set([
  'FREE>SYN_SENT', 'FREE>LISTEN', 'FREE>CLOSE', 'CLOSE>FREE', 'CLOSE>LISTEN', 'CLOSE>SYN_SENT', 'LISTEN>FREE',
  'SYN_SENT>ESTABLISHED', 'SYN_SENT>SYN_RECV', 'SYN_SENT>CLOSE', 'SYN_SENT>FREE',
  'FREE>SYN_RECV', 'FREE>ESTABLISHED', 'SYN_RECV>ESTABLISHED', 'SYN_RECV>FIN_WAIT1', 'SYN_RECV>CLOSE', 'SYN_RECV>FREE',
  'ESTABLISHED>FIN_WAIT1', 'ESTABLISHED>CLOSE_WAIT', 'ESTABLISHED>CLOSE',
  'FIN_WAIT1>FIN_WAIT2', 'FIN_WAIT1>CLOSING', 'FIN_WAIT1>TIME_WAIT', 'FIN_WAIT1>CLOSE', 'FIN_WAIT1>FREE',
  'FIN_WAIT2>TIME_WAIT', 'FIN_WAIT2>CLOSE', 'FIN_WAIT2>FREE',
  'CLOSING>TIME_WAIT', 'CLOSING>CLOSE', 'CLOSING>FREE',
  'CLOSE_WAIT>LAST_ACK', 'CLOSE_WAIT>CLOSE',
  'LAST_ACK>CLOSE', 'LAST_ACK>FREE',
  'TIME_WAIT>FREE', 'TIME_WAIT>CLOSE',
]);

function expectLegal(lan: TcpLan, rec: StateRecorder): void {
  for (const tr of rec.seen) {
    expect(LEGAL.has(tr), 'illegal transition ' + tr + ' ' + JSON.stringify(rec.trans) + ' ' + lan.sim.describe()).toBe(true);
  }
}

describe('every state transition over a lossy link', () => {
  const union = new Set<string>();
  const S = seeds(12, 2000);
  for (const seed of S) {
    it(`open, 64 KB both ways, active close by the client, passive by the server; 10% loss, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.1 });
      const rec = new StateRecorder([a.h, b.h]);
      sim.addTicker(rec);
      const { c, s } = connect(lan, 80, 200000);
      const pa = new Pump(a.h, c, 65536, seed, seed + 1);
      const pb = new Pump(b.h, s, 65536, seed + 1, seed);
      pb.shutAfterEof = true;
      expect(runPumps(sim, pa, pb, 1200000), `a got ${pa.got} b got ${pb.got} ` + sim.describe()).toBe(true);
      expectStream(sim, pb, 65536, seed, 'b<-a');
      expectStream(sim, pa, 65536, seed + 1, 'a<-b');
      closeAllAndDrain(sim);
      rec.onTick();
      expectLegal(lan, rec);
      const ca = rec.trans[0][c];
      // the client's life: SYN_SENT → ESTABLISHED → FIN_WAIT1 → ... → TIME_WAIT (minisock; it expired) → FREE
      expect(ca.startsWith('FREE>SYN_SENT SYN_SENT>ESTABLISHED ESTABLISHED>FIN_WAIT1'), ca + ' ' + sim.describe()).toBe(true);
      expect(/>TIME_WAIT TIME_WAIT>(CLOSE CLOSE>)?FREE$/.test(ca), ca + ' ' + sim.describe()).toBe(true);
      expect(rec.twExpired[0], sim.describe()).toBe(1);
      expect(rec.twExpired[1], sim.describe()).toBe(0);
      // the server's child: ... → ESTABLISHED → CLOSE_WAIT → LAST_ACK → (CLOSE|FREE)
      const cb = rec.trans[1][s];
      expect(cb.includes('ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>'), cb + ' ' + sim.describe()).toBe(true);
      for (const tr of rec.seen) union.add(tr);
    });
  }
  it('the seeds together saw the whole open/close path', () => {
    for (const tr of [
      'FREE>LISTEN', 'FREE>SYN_SENT', 'SYN_SENT>ESTABLISHED', 'ESTABLISHED>FIN_WAIT1', 'FIN_WAIT1>FIN_WAIT2',
      'FIN_WAIT2>TIME_WAIT', 'ESTABLISHED>CLOSE_WAIT', 'CLOSE_WAIT>LAST_ACK', 'LISTEN>FREE',
    ]) {
      expect(union.has(tr), tr + ' never seen over seeds ' + S.join(',') + ': ' + [...union].join(' ')).toBe(true);
    }
    expect(union.has('FREE>SYN_RECV') || union.has('FREE>ESTABLISHED'), [...union].join(' ')).toBe(true);
  });
});

/** a binds 192.0.2.10:1111, b binds 192.0.2.11:2222, and both connect to each other at the same instant. */
function simultaneousOpen(lan: TcpLan, staticArp: boolean): { c: number; s: number } {
  const { sim, a, b } = lan;
  if (staticArp) {
    // no ARP exchange first: both SYNs leave at the same instant and cross
    expect(neighAddStatic(a.h.st, a.h.dev(0), b.ip, sim.macFor(b.h.index, 0), 0), sim.describe()).toBe(0);
    expect(neighAddStatic(b.h.st, b.h.dev(0), a.ip, sim.macFor(a.h.index, 0), 0), sim.describe()).toBe(0);
  }
  const c = tcpSocket(a.h.st);
  const s = tcpSocket(b.h.st);
  expect(tcpBind(a.h.st, c, 0, 1111), sim.describe()).toBe(0);
  expect(tcpBind(b.h.st, s, 0, 2222), sim.describe()).toBe(0);
  expect(tcpConnect(a.h.st, c, b.ip, 2222), sim.describe()).toBe(-EINPROGRESS);
  expect(tcpConnect(b.h.st, s, a.ip, 1111), sim.describe()).toBe(-EINPROGRESS);
  expect(
    sim.runUntil(() => a.h.st.tcp.state[c] === TCP_ESTABLISHED && b.h.st.tcp.state[s] === TCP_ESTABLISHED, 300000),
    'simultaneous open ' + sim.describe(),
  ).toBe(true);
  return { c, s };
}

describe('simultaneous open and close', () => {
  for (const seed of seeds(4, 2100)) {
    it(`clean link: SYN_SENT → SYN_RECV → ESTABLISHED and FIN_WAIT1 → CLOSING → TIME_WAIT on both sides, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1 });
      const rec = new StateRecorder([a.h, b.h]);
      sim.addTicker(rec);
      const { c, s } = simultaneousOpen(lan, true);
      const pa = new Pump(a.h, c, 20000, seed, seed + 1);
      const pb = new Pump(b.h, s, 20000, seed + 1, seed);
      pa.shutWhenDone = false;
      pb.shutWhenDone = false;
      sim.addTicker(pa);
      sim.addTicker(pb);
      expect(sim.runUntil(() => pa.got === 20000 && pb.got === 20000, 60000), sim.describe()).toBe(true);
      expect(tcpShutdown(a.h.st, c, SHUT_WR), sim.describe()).toBe(0);
      expect(tcpShutdown(b.h.st, s, SHUT_WR), sim.describe()).toBe(0);
      expect(sim.runUntil(() => pa.eof && pb.eof, 60000), sim.describe()).toBe(true);
      sim.removeTicker(pa);
      sim.removeTicker(pb);
      expectStream(sim, pb, 20000, seed, 'b<-a');
      expectStream(sim, pa, 20000, seed + 1, 'a<-b');
      closeAllAndDrain(sim);
      rec.onTick();
      expectLegal(lan, rec);
      for (const tr of [rec.trans[0][c], rec.trans[1][s]]) {
        expect(tr, sim.describe()).toMatch(
          /^FREE>SYN_SENT SYN_SENT>SYN_RECV SYN_RECV>ESTABLISHED ESTABLISHED>FIN_WAIT1 FIN_WAIT1>CLOSING CLOSING>TIME_WAIT TIME_WAIT>(CLOSE CLOSE>)?FREE$/,
        );
      }
      expect(rec.twExpired, sim.describe()).toEqual([1, 1]);
      {
      }
    });
  }
  for (const seed of seeds(10, 2200)) {
    it(`20% loss: simultaneous open, 100 KB both ways, simultaneous close, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.2 });
      const rec = new StateRecorder([a.h, b.h]);
      sim.addTicker(rec);
      const { c, s } = simultaneousOpen(lan, false);
      const pa = new Pump(a.h, c, 100000, seed, seed + 1);
      const pb = new Pump(b.h, s, 100000, seed + 1, seed);
      pa.shutWhenDone = false;
      pb.shutWhenDone = false;
      sim.addTicker(pa);
      sim.addTicker(pb);
      expect(sim.runUntil(() => pa.got === 100000 && pb.got === 100000, 3600000), `a ${pa.got} b ${pb.got} ` + sim.describe()).toBe(true);
      expect(tcpShutdown(a.h.st, c, SHUT_WR), sim.describe()).toBe(0);
      expect(tcpShutdown(b.h.st, s, SHUT_WR), sim.describe()).toBe(0);
      expect(sim.runUntil(() => pa.eof && pb.eof, 3600000), sim.describe()).toBe(true);
      sim.removeTicker(pa);
      sim.removeTicker(pb);
      expectStream(sim, pb, 100000, seed, 'b<-a');
      expectStream(sim, pa, 100000, seed + 1, 'a<-b');
      closeAllAndDrain(sim);
      rec.onTick();
      expectLegal(lan, rec);
      // both ends closed actively: each went through FIN_WAIT1 and TIME_WAIT, which expired
      for (const tr of [rec.trans[0][c], rec.trans[1][s]]) {
        expect(tr.includes('ESTABLISHED>FIN_WAIT1') && /TIME_WAIT>(CLOSE CLOSE>)?FREE$/.test(tr), tr + ' ' + sim.describe()).toBe(true);
      }
      expect(rec.twExpired, sim.describe()).toEqual([1, 1]);
    });
  }
});

/** Read until EOF/error (or nothing more now); returns the last tcpRecv result. */
function drain(lan: TcpLan, h: 'a' | 'b', t: number): number {
  const st = lan[h].h.st;
  const buf = new Uint8Array(4096);
  for (;;) {
    const r = tcpRecv(st, t, buf, 0, buf.length);
    if (r <= 0) return r;
  }
}

describe('RST cases over a lossy link', () => {
  for (const seed of seeds(8, 2300)) {
    it(`connect to a port nobody listens on: RST, ECONNREFUSED (SYN or RST may be lost), seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.2 });
      const c = tcpSocket(a.h.st);
      expect(tcpConnect(a.h.st, c, b.ip, 9), sim.describe()).toBe(-EINPROGRESS);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_CLOSE, 200000), sim.describe()).toBe(true);
      expect(drain(lan, 'a', c), sim.describe()).toBe(-ECONNREFUSED);
      expect(a.h.st.tcp.mib[TCP_ATTEMPTFAILS], sim.describe()).toBe(1);
      expect(b.h.st.tcp.mib[TCP_OUTRSTS], sim.describe()).toBeGreaterThanOrEqual(1);
      closeAllAndDrain(sim);
    });

    it(`abortive close (SO_LINGER 0) mid-transfer; the RST may be lost, later data draws another: ECONNRESET, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.1 });
      const { c, s } = connect(lan, 80, 200000);
      const pa = new Pump(a.h, c, 1 << 20, seed, seed + 1);
      const pb = new Pump(b.h, s, 0, seed + 1, seed);
      pb.shutWhenDone = false;
      sim.addTicker(pa);
      sim.addTicker(pb);
      expect(sim.runUntil(() => pb.got >= 50000, 3600000), sim.describe()).toBe(true);
      sim.removeTicker(pb);
      // b aborts: RST now, the TCB is gone at once
      expect(tcpSetsockopt(b.h.st, s, SOL_SOCKET, SO_LINGER, 0), sim.describe()).toBe(0);
      expect(tcpClose(b.h.st, s), sim.describe()).toBe(0);
      expect(b.h.st.tcp.ext[TX_ABORTONLINGER], sim.describe()).toBe(1);
      expect(sim.runUntil(() => pa.error !== 0 || a.h.st.tcp.state[c] === TCP_CLOSE, 3600000), sim.describe()).toBe(true);
      sim.removeTicker(pa);
      // the error is reported once: by the pump's send/recv, or by the next call
      const e = pa.error !== 0 ? pa.error : tcpSend(a.h.st, c, pa.out, 0, 1);
      expect(e, sim.describe()).toBe(-ECONNRESET);
      expect(a.h.st.tcp.state[c], sim.describe()).toBe(TCP_CLOSE);
      expect(tcpSend(a.h.st, c, pa.out, 0, 1), sim.describe()).toBe(-EPIPE);
      expect(a.h.st.tcp.mib[TCP_ESTABRESETS], sim.describe()).toBe(1);
      closeAllAndDrain(sim);
    });

    it(`half-open: b forgets the connection while the cable is down, a's next data draws RST: ECONNRESET, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.1 });
      const { c, s } = connect(lan, 80, 200000);
      sim.outage(b.h, 10000);
      // b's RST dies on the unplugged cable: a still believes in the connection
      expect(tcpSetsockopt(b.h.st, s, SOL_SOCKET, SO_LINGER, 0), sim.describe()).toBe(0);
      expect(tcpClose(b.h.st, s), sim.describe()).toBe(0);
      sim.run(10000);
      expect(a.h.st.tcp.state[c], sim.describe()).toBe(TCP_ESTABLISHED);
      expect(b.h.st.tcp.inUse(), 'b kept only its listener ' + sim.describe()).toBe(1);
      const buf = new Uint8Array(1000);
      expect(tcpSend(a.h.st, c, buf, 0, 1000), sim.describe()).toBe(1000);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_CLOSE, 600000), sim.describe()).toBe(true);
      expect(drain(lan, 'a', c), sim.describe()).toBe(-ECONNRESET);
      expect(b.h.st.tcp.mib[TCP_OUTRSTS], sim.describe()).toBeGreaterThanOrEqual(2);
      closeAllAndDrain(sim);
    });

    it(`close with unread data sends RST (RFC 2525): the peer's recv says ECONNRESET, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.1 });
      const { c, s } = connect(lan, 80, 200000);
      const buf = new Uint8Array(3000);
      expect(tcpSend(a.h.st, c, buf, 0, 3000), sim.describe()).toBe(3000);
      expect(sim.runUntil(() => b.h.st.tcp.rcvCount[s] === 3000, 600000), sim.describe()).toBe(true);
      expect(tcpClose(b.h.st, s), sim.describe()).toBe(0);
      expect(b.h.st.tcp.ext[TX_ABORTONCLOSE], sim.describe()).toBe(1);
      // if the RST is lost, a learns of it with its next segment
      let r = -EAGAIN;
      for (let k = 0; k < 20 && r === -EAGAIN; k++) {
        if (k > 0 && a.h.st.tcp.state[c] === TCP_ESTABLISHED) expect(tcpSend(a.h.st, c, buf, 0, 10), sim.describe()).toBe(10);
        sim.runUntil(() => (r = tcpRecv(a.h.st, c, buf, 0, buf.length)) !== -EAGAIN, 5000);
      }
      expect(r, sim.describe()).toBe(-ECONNRESET);
      closeAllAndDrain(sim);
    });
  }
});

/** Remembers when a port last received a TCP segment with FIN. */
class FinWatch implements FrameObserver {
  lastFinRx = -1;
  constructor(readonly port: SimPort) {}
  onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
    if (ev !== FEV_RX || port !== this.port || len < 54 || b[o + 12] !== 8 || b[o + 13] !== 0 || b[o + 23] !== 6) return;
    const th = o + 14 + (b[o + 14] & 15) * 4;
    if ((b[th + 13] & 1) !== 0) this.lastFinRx = t;
  }
}

describe('TIME_WAIT', () => {
  for (const seed of seeds(6, 2400)) {
    it(`lasts 2 MSL from the last FIN, then the slot is free; 10% loss, seed ${seed}`, () => {
      const lan = tcpLan(seed, { tcpMslMs: 5000 });
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.1 });
      const wire = new FinWatch(a.h.port(0));
      sim.fabric.observer = wire;
      const { c, s, l } = connect(lan, 80, 200000);
      expect(tcpClose(b.h.st, l), sim.describe()).toBe(0);
      expect(tcpShutdown(a.h.st, c, SHUT_WR), sim.describe()).toBe(0);
      expect(sim.runUntil(() => drain(lan, 'b', s) === 0, 600000), sim.describe()).toBe(true);
      expect(tcpClose(b.h.st, s), sim.describe()).toBe(0);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_TIME_WAIT || a.h.st.tcp.twCount === 1, 600000), sim.describe()).toBe(true);
      // a FIN retransmitted by b (our ACK lost) restarts the 2 MSL (RFC 9293 §3.10.7.4): time from the last FIN a received
      let entered = wire.lastFinRx;
      expect(entered, sim.describe()).toBeGreaterThan(0);
      expect(sim.runUntil(() => a.h.st.tcp.twCount === 0 && a.h.st.tcp.state[c] !== TCP_TIME_WAIT, 120000), sim.describe()).toBe(true);
      entered = wire.lastFinRx;
      const lived = sim.now() - entered;
      expect(lived, 'TIME_WAIT lifetime ' + sim.describe()).toBeGreaterThanOrEqual(2 * 5000 - 5);
      expect(lived, 'TIME_WAIT lifetime ' + sim.describe()).toBeLessThanOrEqual(2 * 5000 + 100);
      closeAllAndDrain(sim);
    });
  }
});
