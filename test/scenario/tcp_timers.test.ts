/*
 * Scenario: TCP timers and sequence space over the simulated LAN —
 * retransmission and SYN backoff read back from a pcap of the sender's
 * cable (each interval doubles, up to the retry limit, then ETIMEDOUT),
 * keepalive detecting a peer behind a dead cable, zero window and
 * persist probes while the receiver stops reading (with loss, so a lost
 * window update must be recovered by a probe), and window scaling with
 * both sequence spaces wrapping past 2^32 mid-transfer (ISN test hook
 * tp.isnOverride) under loss and reordering. Every case ends with every
 * TCB, TIME_WAIT slot, skb and wire slot free.
 */
import { describe, it, expect } from 'vitest';
import { tcpLan, connect, Pump, runPumps, expectStream, closeAllAndDrain, tcbInfo } from './tcp_helpers';
import { PcapWriter, readPcap } from '../../src/sim/pcap';
import { SimPort, FrameObserver, FEV_RX } from '../../src/sim/switch';
import {
  tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpSetsockopt, SOL_SOCKET, SO_KEEPALIVE, SOL_TCP, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
} from '../../src/transport/tcp/tcp_api';
import {
  TCP_ESTABLISHED, TCP_CLOSE, F_WS, TX_TIMEOUTS, TX_SYNRETRANS, TX_KEEPALIVE, TX_WINPROBE, TX_TOZEROWINDOWADV, TX_ABORTONTIMEOUT,
} from '../../src/transport/tcp/tcp';
import { neighAddStatic } from '../../src/link/arp';
import { EINPROGRESS, ETIMEDOUT } from '../../src/core/errno';

const ENV_SEEDS = Number(process.env.TCP_SCENARIO_SEEDS ?? '0');
function seeds(def: number, base: number): number[] {
  const n = ENV_SEEDS > 0 ? ENV_SEEDS : def;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(base + i);
  return out;
}

interface PSeg {
  t: number;
  seq: number;
  flags: number;
  len: number;
}

/** TCP segments in a pcap (a host's cable), in order. */
function pcapSegs(w: PcapWriter, fromIp: number): PSeg[] {
  const info = readPcap(w.bytes());
  expect(info, "pcap unreadable").not.toBeNull();
  const out: PSeg[] = [];
  for (const r of info!.records) {
    const b = r.data;
    if (b.length < 54 || b[12] !== 8 || b[13] !== 0 || b[23] !== 6) continue;
    const src = ((b[26] << 24) | (b[27] << 16) | (b[28] << 8) | b[29]) >>> 0;
    if (src !== fromIp >>> 0) continue;
    const th = 14 + (b[14] & 15) * 4;
    const tot = (b[16] << 8) | b[17];
    const hl = (b[th + 12] >>> 4) * 4;
    out.push({
      t: r.tsMs,
      seq: ((b[th + 4] << 24) | (b[th + 5] << 16) | (b[th + 6] << 8) | b[th + 7]) >>> 0,
      flags: b[th + 13],
      len: tot - (th - 14) - hl,
    });
  }
  return out;
}

describe('retransmission backoff read from a pcap', () => {
  for (const seed of seeds(4, 3000)) {
    it(`data into a dead link: RTO doubles each time (tcpRetries2 = 8), then ETIMEDOUT, seed ${seed}`, () => {
      const lan = tcpLan(seed, { tcpRetries2: 8 });
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1 });
      const { c } = connect(lan, 80, 10000);
      // a few RTT samples on the clean link
      const buf = new Uint8Array(1000);
      for (let i = 0; i < 5; i++) {
        expect(tcpSend(a.h.st, c, buf, 0, 1000), sim.describe()).toBe(1000);
        sim.run(100);
      }
      const w = new PcapWriter();
      sim.capturePort(a.h, w);
      sim.setFaults(a.h, { loss: 1 }, 'tx');
      const rto0 = a.h.st.tcp.rto[c];
      expect(rto0, sim.describe()).toBe(a.h.st.cfg.tcpRtoMinMs);
      expect(tcpSend(a.h.st, c, buf, 0, 1000), sim.describe()).toBe(1000);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_CLOSE, 3600000), tcbInfo(a.h.st, c) + ' ' + sim.describe()).toBe(true);
      const segs = pcapSegs(w, a.ip).filter((x) => x.len > 0);
      // the original and tcpRetries2 retransmissions of the same sequence number
      expect(segs.length, sim.describe()).toBe(1 + 8);
      for (const x of segs) expect(x.seq, sim.describe()).toBe(segs[0].seq);
      const tick = a.h.st.cfg.timerTickMs;
      for (let i = 1; i < segs.length; i++) {
        const want = Math.min(rto0 * 2 ** (i - 1), a.h.st.cfg.tcpRtoMaxMs);
        const got = segs[i].t - segs[i - 1].t;
        expect(Math.abs(got - want), `interval ${i}: ${got} ms, want ${want} ms, ` + sim.describe()).toBeLessThanOrEqual(2 * tick);
      }
      // the abort comes one more (doubled) RTO after the last retransmission
      // TCPTimeouts counts the timeouts that retransmitted (the aborting one is not counted, as in Linux)
      expect(a.h.st.tcp.ext[TX_TIMEOUTS], sim.describe()).toBe(8);
      expect(a.h.st.tcp.ext[TX_ABORTONTIMEOUT], sim.describe()).toBe(1);
      expect(tcpRecv(a.h.st, c, buf, 0, 1), sim.describe()).toBe(-ETIMEDOUT);
      sim.setFaults(a.h, { loss: 0 }, 'tx');
      void b;
      closeAllAndDrain(sim);
    });

    it(`SYNs into a dead link: 1, 2, 4, 8, 16, 32 s apart, then ETIMEDOUT, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      const w = new PcapWriter();
      sim.capturePort(a.h, w);
      // b's MAC is known: the SYNs leave at once, and every one is lost on a's cable
      expect(neighAddStatic(a.h.st, a.h.dev(0), b.ip, sim.macFor(b.h.index, 0), 0), sim.describe()).toBe(0);
      sim.setFaults(a.h, { loss: 1 }, 'tx');
      const c = tcpSocket(a.h.st);
      const t0 = sim.now();
      expect(tcpConnect(a.h.st, c, b.ip, 80), sim.describe()).toBe(-EINPROGRESS);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_CLOSE, 600000), sim.describe()).toBe(true);
      const syns = pcapSegs(w, a.ip).filter((x) => (x.flags & 0x12) === 0x02);
      const n = a.h.st.cfg.tcpSynRetries;
      expect(syns.length, sim.describe()).toBe(1 + n);
      const tick = a.h.st.cfg.timerTickMs;
      for (let i = 1; i < syns.length; i++) {
        const want = a.h.st.cfg.tcpRtoInitMs * 2 ** (i - 1);
        const got = syns[i].t - syns[i - 1].t;
        expect(Math.abs(got - want), `SYN interval ${i}: ${got} ms, want ${want}, ` + sim.describe()).toBeLessThanOrEqual(2 * tick);
      }
      const total = a.h.st.cfg.tcpRtoInitMs * (2 ** (n + 1) - 1);
      expect(Math.abs(sim.now() - syns[0].t - total), 'connect timeout ' + sim.describe()).toBeLessThanOrEqual(3 * tick);
      expect(sim.now() - t0, sim.describe()).toBeGreaterThanOrEqual(total);
      expect(a.h.st.tcp.ext[TX_SYNRETRANS], sim.describe()).toBe(n);
      expect(tcpRecv(a.h.st, c, new Uint8Array(1), 0, 1), sim.describe()).toBe(-ETIMEDOUT);
      sim.setFaults(a.h, { loss: 0 }, 'tx');
      closeAllAndDrain(sim);
    });
  }
});

/** Remembers when a port last delivered a TCP segment to its host. */
class LastRx implements FrameObserver {
  last = -1;
  constructor(readonly port: SimPort) {}
  onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
    if (ev === FEV_RX && port === this.port && len >= 54 && b[o + 23] === 6) this.last = t;
  }
}

describe('keepalive', () => {
  for (const seed of seeds(8, 3100)) {
    it(`probes (idle 10 s, intvl 2 s, cnt 5) keep an idle connection over a 5% lossy link; a 120 s outage kills it idle + cnt x intvl after the last segment, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.05 });
      const rx = new LastRx(a.h.port(0));
      sim.fabric.observer = rx;
      const { c, s } = connect(lan, 80, 60000);
      const idle = 10;
      const intvl = 2;
      const cnt = 5;
      expect(tcpSetsockopt(a.h.st, c, SOL_SOCKET, SO_KEEPALIVE, 1), sim.describe()).toBe(0);
      expect(tcpSetsockopt(a.h.st, c, SOL_TCP, TCP_KEEPIDLE, idle), sim.describe()).toBe(0);
      expect(tcpSetsockopt(a.h.st, c, SOL_TCP, TCP_KEEPINTVL, intvl), sim.describe()).toBe(0);
      expect(tcpSetsockopt(a.h.st, c, SOL_TCP, TCP_KEEPCNT, cnt), sim.describe()).toBe(0);
      expect(tcpSetsockopt(a.h.st, c, SOL_SOCKET, SO_KEEPALIVE, 1), sim.describe()).toBe(0);
      // healthy: 5 minutes idle, probes answered (a lost one is re-sent after intvl)
      sim.run(300000);
      expect(a.h.st.tcp.state[c], tcbInfo(a.h.st, c) + ' ' + sim.describe()).toBe(TCP_ESTABLISHED);
      expect(b.h.st.tcp.state[s], sim.describe()).toBe(TCP_ESTABLISHED);
      const probes = a.h.st.tcp.ext[TX_KEEPALIVE];
      expect(probes, sim.describe()).toBeGreaterThanOrEqual(Math.floor(300 / (idle + cnt * intvl)));
      // the peer goes away
      sim.outage(b.h, 120000);
      expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_CLOSE, 120000), sim.describe()).toBe(true);
      const died = sim.now() - rx.last;
      const want = (idle + cnt * intvl) * 1000;
      // from the last segment heard: idle, then cnt unanswered probes intvl apart
      expect(died, `died ${died} ms after the last segment, want ${want}, ` + sim.describe()).toBeGreaterThanOrEqual(want - 20);
      expect(died, `died ${died} ms after the last segment, want ${want}, ` + sim.describe()).toBeLessThanOrEqual(want + 20);
      expect(tcpRecv(a.h.st, c, new Uint8Array(1), 0, 1), sim.describe()).toBe(-ETIMEDOUT);
      sim.run(120000); // cable back: b's close then meets a's RST
      closeAllAndDrain(sim);
    });
  }
});

describe('zero window and persist', () => {
  for (const seed of seeds(8, 3200)) {
    it(`receiver stops reading for 60 s (5% loss): window 0, persist probes, then 1 MB arrives exact, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.stepMs = 50;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.05 });
      const { c, s } = connect(lan, 80, 60000);
      const pa = new Pump(a.h, c, 1 << 20, seed, seed + 1);
      const pb = new Pump(b.h, s, 0, seed + 1, seed);
      pb.shutAfterEof = true;
      sim.addTicker(pa);
      sim.addTicker(pb);
      expect(sim.runUntil(() => pb.got > 100000, 600000), sim.describe()).toBe(true);
      pb.paused = true;
      const probes0 = a.h.st.tcp.ext[TX_WINPROBE] + a.h.st.tcp.ext[TX_TIMEOUTS];
      sim.run(60000);
      const tp = a.h.st.tcp;
      // the receive buffer is full, up to less than one MSS (receiver SWS avoidance, RFC 9293 §3.8.6.2.2)
      const room = b.h.st.tcp.rcvLimit[s] - b.h.st.tcp.rcvCount[s];
      expect(room, sim.describe()).toBeGreaterThanOrEqual(0);
      expect(room, sim.describe()).toBeLessThan(b.h.st.tcp.advMss[s]);
      expect(tp.sndWnd[c], tcbInfo(a.h.st, c) + ' ' + sim.describe()).toBe(0);
      expect(b.h.st.tcp.ext[TX_TOZEROWINDOWADV], sim.describe()).toBeGreaterThanOrEqual(1);
      // zero-window probes (persist timer), or RTO retransmissions beyond the window when the segment in
      // flight as the window closed was lost: backed off, more than a few, far fewer than one per RTT
      const probes = tp.ext[TX_WINPROBE] + tp.ext[TX_TIMEOUTS] - probes0;
      expect(probes, sim.describe()).toBeGreaterThanOrEqual(3);
      expect(probes, sim.describe()).toBeLessThan(60);
      expect(tp.state[c], sim.describe()).toBe(TCP_ESTABLISHED);
      pb.paused = false;
      sim.removeTicker(pa);
      sim.removeTicker(pb);
      expect(runPumps(sim, pa, pb, 3600000), `b got ${pb.got} ` + tcbInfo(a.h.st, c) + ' ' + sim.describe()).toBe(true);
      expectStream(sim, pb, 1 << 20, seed, 'b<-a');
      closeAllAndDrain(sim);
    });
  }
});

describe('zero window for 30 minutes over a clean link', () => {
  for (const seed of seeds(3, 3250)) {
    it(`persist probes (backed off to tcpRtoMaxMs) keep the connection; then 256 KB arrives exact, seed ${seed}`, () => {
      const lan = tcpLan(seed);
      const { sim, a, b } = lan;
      sim.stepMs = 1000;
      sim.setFaults(a.h, { delayMs: 1 });
      const { c, s } = connect(lan, 80, 60000);
      const pa = new Pump(a.h, c, 1 << 18, seed, seed + 1);
      const pb = new Pump(b.h, s, 0, seed + 1, seed);
      pb.shutAfterEof = true;
      pb.paused = true;
      sim.addTicker(pa);
      sim.addTicker(pb);
      sim.run(1800000);
      const tp = a.h.st.tcp;
      expect(tp.state[c], tcbInfo(a.h.st, c) + ' ' + sim.describe()).toBe(TCP_ESTABLISHED);
      expect(tp.sndWnd[c], sim.describe()).toBe(0);
      const probes = tp.ext[TX_WINPROBE];
      // 0.2, 0.4, ... s then one every tcpRtoMaxMs: about 24 in 30 minutes
      expect(probes, sim.describe()).toBeGreaterThanOrEqual(15);
      expect(probes, sim.describe()).toBeLessThanOrEqual(40);
      expect(tp.ext[TX_TIMEOUTS], sim.describe()).toBe(0);
      pb.paused = false;
      sim.removeTicker(pa);
      sim.removeTicker(pb);
      expect(runPumps(sim, pa, pb, 600000), `b got ${pb.got} ` + sim.describe()).toBe(true);
      expectStream(sim, pb, 1 << 18, seed, 'b<-a');
      closeAllAndDrain(sim);
    });
  }
});

describe('window scaling across the 2^32 sequence wrap', () => {
  for (const seed of seeds(8, 3300)) {
    it(`256 KB buffers, ISNs 150 KB below 2^32, 1 MB both ways with 2% loss + reordering, seed ${seed}`, () => {
      const big = { tcpSndBuf: 262144, tcpRcvBuf: 262144, tcpMaxSockets: 3 };
      const lan = tcpLan(seed, big);
      const { sim, a, b } = lan;
      sim.stepMs = 50;
      sim.setFaults(a.h, { delayMs: 1, loss: 0.02, reorder: 0.05, reorderMs: 3, rateBps: 100000000 });
      const isnA = 0x100000000 - 150000 - seed;
      const isnB = 0x100000000 - 150000 - 7 * seed;
      a.h.st.tcp.isnOverride = isnA;
      b.h.st.tcp.isnOverride = isnB;
      const { c, s } = connect(lan, 80, 60000);
      a.h.st.tcp.isnOverride = -1;
      b.h.st.tcp.isnOverride = -1;
      expect(a.h.st.tcp.iss[c] >>> 0, sim.describe()).toBe(isnA);
      expect(b.h.st.tcp.iss[s] >>> 0, sim.describe()).toBe(isnB);
      for (const [st, t] of [[a.h.st, c], [b.h.st, s]] as const) {
        expect(st.tcp.flags[t] & F_WS, sim.describe()).toBe(F_WS);
        expect(st.tcp.sndWscale[t], sim.describe()).toBeGreaterThanOrEqual(2);
      }
      let maxWnd = 0;
      const watch = { onTick: () => ((maxWnd = Math.max(maxWnd, a.h.st.tcp.sndWnd[c])), 0) };
      sim.addTicker(watch);
      const pa = new Pump(a.h, c, 1 << 20, seed, seed + 1);
      const pb = new Pump(b.h, s, 1 << 20, seed + 1, seed);
      expect(runPumps(sim, pa, pb, 3600000), `a ${pa.got} b ${pb.got} ` + sim.describe()).toBe(true);
      sim.removeTicker(watch);
      expectStream(sim, pb, 1 << 20, seed, 'b<-a');
      expectStream(sim, pa, 1 << 20, seed + 1, 'a<-b');
      // a window larger than 64 KB was in use, and both sequence spaces wrapped
      expect(maxWnd, sim.describe()).toBeGreaterThan(65535);
      expect(a.h.st.tcp.sndUna[c] >>> 0, sim.describe()).toBeLessThan(isnA);
      expect(b.h.st.tcp.sndUna[s] >>> 0, sim.describe()).toBeLessThan(isnB);
      closeAllAndDrain(sim);
    });
  }
});
