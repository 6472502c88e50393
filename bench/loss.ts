/*
 * bench/loss.ts — the loss-recovery profiles of issue 10 in the simulation
 * (virtual time, Node only; not part of any bundle): one 2,000,000-byte
 * transfer from a server configured as `slabnet up` configures its stack
 * (src/cli/up.ts UP_CONFIG: 64 KB buffers) to a client, over a simulated
 * cable with the profile's faults on both directions. Used by
 * test/scenario/tcp_loss_profiles.test.ts (assertions) and by
 * `slabnet bench --only loss_profiles` (a table of virtual seconds).
 *
 * The path without faults has a 1 ms round trip and 100 Mbit/s (the
 * TAP-bridge path the issue measured on). Profiles (LOSS_PROFILES):
 *   loss5 / loss10 / loss20  uniform loss both ways
 *   jitter20                 data delayed 20 ms ± 10 ms (netem on one side;
 *                            the jitter reorders it)
 *   reorder25                data: 25% of frames at once, 75% with an extra
 *                            delay in [0, 5 ms) (src/sim/link.ts reorder;
 *                            netem's "delay 5ms reorder 25%" sends the rest
 *                            at exactly 5 ms)
 * No allocation matters here (a benchmark harness, not stack code).
 */
import { Sim, SimHost, SimTicker } from '../src/sim/world';
import type { LinkFaultsInit } from '../src/sim/link';
import type { StackConfig } from '../src/config';
import { ifconfig } from '../src/ipv4/devinet';
import { initTcp } from '../src/transport/tcp/tcp_ipv4';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, SHUT_WR,
} from '../src/transport/tcp/tcp_api';
import {
  TcpState, TCP_RETRANSSEGS, TX_TIMEOUTS, TX_DSACKRECV, TX_FASTRETRANS, TX_SPURIOUSRTOS, TX_OFODROP,
  TCP_FREE,
} from '../src/transport/tcp/tcp';
import { EAGAIN } from '../src/core/errno';
import { UP_CONFIG } from '../src/cli/up';

export interface LossProfile {
  name: string;
  /** faults of the data direction (server → client: the client cable's switch → client side) */
  data: Partial<LinkFaultsInit>;
  /** faults of the ACK direction (client → server) */
  ack: Partial<LinkFaultsInit>;
  /** what Linux took for the same GET through the TAP bridge (issue 10), seconds; -1 not measured */
  linuxS: number;
}

/** the path without faults: 1 ms round trip (0.5 ms each way), 100 Mbit/s */
const PATH = { delayMs: 0.5, rateBps: 100000000 };

export const LOSS_PROFILES: LossProfile[] = [
  { name: 'loss5', data: { ...PATH, loss: 0.05 }, ack: { ...PATH, loss: 0.05 }, linuxS: 1.1 },
  { name: 'loss10', data: { ...PATH, loss: 0.1 }, ack: { ...PATH, loss: 0.1 }, linuxS: 1.5 },
  { name: 'loss20', data: { ...PATH, loss: 0.2 }, ack: { ...PATH, loss: 0.2 }, linuxS: 3.4 },
  // netem "delay 20ms 10ms" on one interface: 10-30 ms one way (uniform), the data reordered by it
  { name: 'jitter20', data: { rateBps: PATH.rateBps, delayMs: 10, jitterMs: 20 }, ack: PATH, linuxS: 0.44 },
  // "delay 5ms reorder 25%": a quarter of the frames at once, the rest later (here: an extra
  // delay uniform in [0, 5 ms) for 75%, src/sim/link.ts reorder)
  { name: 'reorder25', data: { rateBps: PATH.rateBps, delayMs: 0.5, reorder: 0.75, reorderMs: 5 }, ack: PATH, linuxS: -1 },
];

export const LOSS_BYTES = 2000000;

/** One end's seeded byte stream (xorshift32, as test/scenario/tcp_helpers.ts StreamGen). */
class Gen {
  private x: number;
  constructor(seed: number) {
    this.x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  }
  byte(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.x = x;
    return (x >>> 11) & 0xff;
  }
}

/** Server side: writes `total` bytes then shuts down writing. */
class Sender implements SimTicker {
  private readonly buf = new Uint8Array(8192);
  private len = 0;
  private off = 0;
  private readonly g: Gen;
  sent = 0;
  shut = false;
  error = 0;
  constructor(readonly h: SimHost, public t: number, readonly total: number, seed: number) {
    this.g = new Gen(seed);
  }
  onTick(): number {
    if (this.t < 0 || this.shut) return 0;
    const st = this.h.st;
    let n = 0;
    while (this.sent < this.total) {
      if (this.off === this.len) {
        let k = this.total - this.sent;
        if (k > this.buf.length) k = this.buf.length;
        for (let i = 0; i < k; i++) this.buf[i] = this.g.byte();
        this.len = k;
        this.off = 0;
      }
      const r = tcpSend(st, this.t, this.buf, this.off, this.len - this.off);
      if (r <= 0) {
        if (r < 0 && r !== -EAGAIN) this.error = r;
        break;
      }
      this.off += r;
      this.sent += r;
      n++;
    }
    if (this.sent === this.total) {
      tcpShutdown(st, this.t, SHUT_WR);
      this.shut = true;
      n++;
    }
    return n;
  }
}

/** Client side: reads to EOF, comparing every byte with the expected stream. */
class Receiver implements SimTicker {
  private readonly buf = new Uint8Array(8192);
  private readonly g: Gen;
  got = 0;
  mismatchAt = -1;
  eof = false;
  eofAt = -1;
  error = 0;
  constructor(readonly sim: Sim, readonly h: SimHost, readonly t: number, seed: number) {
    this.g = new Gen(seed);
  }
  onTick(): number {
    let n = 0;
    while (!this.eof) {
      const r = tcpRecv(this.h.st, this.t, this.buf, 0, this.buf.length);
      if (r > 0) {
        for (let i = 0; i < r; i++) if (this.mismatchAt < 0 && this.buf[i] !== this.g.byte()) this.mismatchAt = this.got + i;
        this.got += r;
        n++;
        continue;
      }
      if (r === 0) {
        this.eof = true;
        this.eofAt = this.sim.now();
        n++;
      } else if (r !== -EAGAIN) {
        this.error = r;
      }
      break;
    }
    return n;
  }
}

export interface LossResult {
  profile: string;
  seed: number;
  /** the transfer finished (EOF at the client) within the time limit */
  done: boolean;
  /** virtual seconds from connect() to the client's EOF */
  seconds: number;
  got: number;
  mismatchAt: number;
  /** server (sender) counters */
  retrans: number;
  timeouts: number;
  fastRetrans: number;
  dsackRecv: number;
  spuriousRtos: number;
  /** client (receiver) out-of-order drops */
  ofoDrop: number;
  /** every server TcpExt counter by name (probes, undos, ...; absent names on older builds read 0) */
  ext: { [k: string]: number };
  frames: number;
  lost: number;
  /** TCBs and skbs still in use after both ends closed and TIME_WAIT ran out */
  leakedTcbs: number;
  leakedSkbs: number;
}

function host(sim: Sim, name: string, addr: string, over: Partial<StackConfig>): SimHost {
  const h = sim.addHost(name, over);
  if (ifconfig(h.st, h.dev(0), addr + '/24', null) !== 0) throw new Error('ifconfig ' + addr);
  sim.up(h);
  initTcp(h.st);
  return h;
}

/** Run one profile with one seed. over: config overrides for both ends (on top of UP_CONFIG). */
export function runLossProfile(
  p: LossProfile, seed: number, over?: Partial<StackConfig>, maxMs = 3600000, onSim?: (sim: Sim) => void,
): LossResult {
  const sim = new Sim({ seed, slots: 1024 });
  if (onSim !== undefined) onSim(sim);
  sim.stepMs = 50;
  const cfg: Partial<StackConfig> = Object.assign({}, UP_CONFIG, over !== undefined ? over : {});
  const cli = host(sim, 'client', '192.0.2.10', cfg);
  const srv = host(sim, 'server', '192.0.2.11', cfg);
  sim.setFaults(cli, p.data, 'rx');
  sim.setFaults(cli, p.ack, 'tx');
  const ss = srv.st;
  const l = tcpSocket(ss);
  tcpBind(ss, l, 0, 80);
  tcpListen(ss, l, 4);
  const c = tcpSocket(cli.st);
  const t0 = sim.now();
  tcpConnect(cli.st, c, (192 << 24 | 2 << 8 | 11) >>> 0, 80);
  const dataSeed = seed * 31 + 7;
  const rx = new Receiver(sim, cli, c, dataSeed);
  const tx = new Sender(srv, -1, LOSS_BYTES, dataSeed);
  sim.addTicker(rx);
  sim.addTicker({
    onTick(): number {
      if (tx.t >= 0) return 0;
      const s = tcpAccept(ss, l);
      if (s < 0) return 0;
      tx.t = s;
      return 1;
    },
  });
  sim.addTicker(tx);
  const done = sim.runUntil(() => rx.eof || rx.error !== 0 || tx.error !== 0, maxMs);
  const seconds = (rx.eofAt >= 0 ? rx.eofAt - t0 : sim.now() - t0) / 1000;
  const tp = ss.tcp;
  const res: LossResult = {
    profile: p.name,
    seed,
    done: done && rx.eof,
    seconds,
    got: rx.got,
    mismatchAt: rx.mismatchAt,
    retrans: tp.mib[TCP_RETRANSSEGS],
    timeouts: tp.ext[TX_TIMEOUTS],
    fastRetrans: tp.ext[TX_FASTRETRANS],
    dsackRecv: tp.ext[TX_DSACKRECV],
    spuriousRtos: tp.ext[TX_SPURIOUSRTOS],
    ofoDrop: cli.st.tcp.ext[TX_OFODROP],
    ext: tp.extB.toObject(),
    frames: cli.port(0).up.frames + cli.port(0).down.frames,
    lost: cli.port(0).up.lost + cli.port(0).down.lost,
    leakedTcbs: 0,
    leakedSkbs: 0,
  };
  // orderly close and drain: both ends close, TIME_WAIT runs out
  tcpClose(cli.st, c);
  if (tx.t >= 0) tcpClose(ss, tx.t);
  tcpClose(ss, l);
  sim.stepMs = 1000;
  const idle = (h: SimHost): boolean => {
    const t: TcpState = h.st.tcp;
    return t.inUse() === 0 && t.twCount === 0 && t.rqCount === 0;
  };
  sim.runUntil(() => idle(cli) && idle(srv), 4 * 3600000);
  sim.run(2 * ss.cfg.tcpMslMs + 1000);
  for (const h of [cli, srv]) {
    const t: TcpState = h.st.tcp;
    for (let i = 0; i < t.n; i++) if (t.state[i] !== TCP_FREE) res.leakedTcbs++;
  }
  sim.run(60000);
  res.leakedSkbs = sim.skbsInUse();
  return res;
}

/** The median of a few seeds' seconds for each profile (the bench table). */
export function lossTable(seeds: number[], over?: Partial<StackConfig>): { p: LossProfile; r: LossResult[] }[] {
  const out: { p: LossProfile; r: LossResult[] }[] = [];
  for (const p of LOSS_PROFILES) {
    const r: LossResult[] = [];
    for (const s of seeds) r.push(runLossProfile(p, s, over));
    out.push({ p, r });
  }
  return out;
}
