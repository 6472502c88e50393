/*
 * tcp_r3.repro.ts — deterministic reproduction of TCP bug R3
 * (test/scenario/tcp_repro.md): during SACK recovery one hole is
 * retransmitted several times with no ACK in between, and ranges are
 * retransmitted that the receiver never reported missing.
 *
 * Not a vitest file (it does not import vitest: vitest's expect cannot be
 * loaded outside its runner). Run:
 *
 *   npx tsx test/scenario/tcp_r3.repro.ts                 # the minimal case
 *   npx tsx test/scenario/tcp_r3.repro.ts --seed 4 --flows 16 --rate 20 --qms 1 --loss 0.01
 *   npx tsx test/scenario/tcp_r3.repro.ts --sweep 1..40   # search seeds, print a summary line each
 *
 * Setup: two hosts on one switch, a = client (192.0.2.10), b = server
 * (192.0.2.11). `flows` connections a→b:80; b sends `bytes` bytes on each
 * (the HTTP GET direction of the interop run) and shuts down. The
 * switch→a direction (where every flow's data meets) is rate-limited
 * with a transmit backlog of `qms` ms that drops on overflow (tail drop),
 * plus optional random loss. Everything follows from the seed.
 *
 * Detector (per flow, from a fabric observer at b's port, so it sees b's
 * transmissions and the ACKs b receives with their times):
 *   REPEAT   a sequence number sent again while no ACK of that flow
 *            arrived at b since its previous transmission, sooner than
 *            the minimum RTO and not by the retransmission timer;
 *   SPURIOUS a retransmission whose whole range the receiver had already
 *            cumulatively ACKed or SACKed (per the ACKs b had received
 *            when it was sent), outside RTO go-back-N.
 * Each offending transmission is printed with the flow's segment trace
 * around it and the TCB's recovery state and call stack at send time.
 * Exit code 1 when any is found, 0 when none.
 */
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import type { SimPort, FrameObserver } from '../../src/sim/switch';
import { FEV_TX, FEV_RX } from '../../src/sim/switch';
import type { StackConfig } from '../../src/config';
import { ifconfig } from '../../src/ipv4/devinet';
import { initTcp } from '../../src/transport/tcp/tcp_ipv4';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, SHUT_WR,
} from '../../src/transport/tcp/tcp_api';
import {
  TcpState, TCP_FREE, TCP_ESTABLISHED, F_SACK_RECOV, F_RENO_RECOV, TX_SACKRESCUE, TX_TIMEOUTS,
  TCP_RETRANSSEGS,
} from '../../src/transport/tcp/tcp';
import { tcpSackPipe } from '../../src/transport/tcp/tcp_cong';
import { EAGAIN } from '../../src/core/errno';

/* ---------------- parameters ---------------- */

interface Params {
  seed: number;
  flows: number;
  bytes: number;
  /** bottleneck rate, Mbit/s (switch → a) */
  rate: number;
  /** bottleneck backlog limit, ms (tail drop beyond it) */
  qms: number;
  /** random loss on switch → a */
  loss: number;
  /** one-way delay on a's cable, ms */
  delay: number;
  maxMs: number;
}

/*
 * The minimal deterministic case found by the sweep (see tcp_repro.md R3):
 * 4 flows, 20 Mbit/s, 1 ms backlog, 1 % loss, seed 4 shows both signatures
 * (a SACK hole resent by the rescue right after rule (3) resent it, and the
 * rescue resending new data sent in the same pass) within 0.6 s.
 * Also: --flows 16 (same seed/rate/qms/loss), and --flows 1 --rate 50 --loss 0
 * (queue drops only: the new-data signature in 33 ms).
 */
const DEFAULTS: Params = { seed: 4, flows: 4, bytes: 100000, rate: 20, qms: 1, loss: 0.01, delay: 1, maxMs: 600000 };

function parseArgs(argv: string[]): { p: Params; sweep: [number, number] | null; quiet: boolean } {
  const p: Params = Object.assign({}, DEFAULTS);
  let sweep: [number, number] | null = null;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--sweep') {
      const m = /^(\d+)\.\.(\d+)$/.exec(v);
      if (m === null) throw new Error('--sweep A..B');
      sweep = [Number(m[1]), Number(m[2])];
      i++;
    } else if (k === '--quiet') {
      quiet = true;
    } else if (k.startsWith('--') && v !== undefined && (k.slice(2) in p)) {
      (p as unknown as { [k: string]: number })[k.slice(2)] = Number(v);
      i++;
    } else {
      throw new Error('unknown argument ' + k);
    }
  }
  return { p, sweep, quiet };
}

/* ---------------- the wire observer ---------------- */

interface Ev {
  t: number;
  /** 'tx' = b sent data, 'ack' = b received an ACK */
  kind: 'tx' | 'ack';
  seq: number; // relative to the flow's ISN+1 (tx)
  len: number;
  ack: number; // relative (ack)
  sack: string;
  note: string;
}

interface Flow {
  port: number; // a's port
  isn: number; // b's ISN + 1 (first data byte), -1 unknown
  evs: Ev[];
  /** receiver knowledge as seen by b: highest cumulative ACK (relative), SACKed ranges (relative, sorted) */
  hiAck: number;
  sacked: [number, number][];
  /** number of ACKs that arrived at b */
  acks: number;
  /** per relative seq: [time, acks count, transmissions in a row without an ACK] of the last transmission */
  lastTx: Map<number, [number, number, number, boolean]>;
  /** highest relative end sent */
  sndMax: number;
  /** original segment boundaries (relative starts) */
  origStarts: Set<number>;
  timeoutsAtLastTx: number;
}

interface Offence {
  flow: Flow;
  idx: number; // index into flow.evs
  what: string;
}

const u32 = (x: number): number => x >>> 0;
const rel = (x: number, base: number): number => (x - base) >>> 0;

function addRange(r: [number, number][], s: number, e: number): void {
  r.push([s, e]);
  r.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const x of r) {
    if (out.length > 0 && x[0] <= out[out.length - 1][1]) {
      if (x[1] > out[out.length - 1][1]) out[out.length - 1][1] = x[1];
    } else out.push([x[0], x[1]]);
  }
  r.length = 0;
  for (const x of out) r.push(x);
}

function covered(f: Flow, s: number, e: number): boolean {
  if (e <= f.hiAck) return true;
  const s2 = s < f.hiAck ? f.hiAck : s;
  for (const [rs, re] of f.sacked) if (rs <= s2 && re >= e) return true;
  return false;
}

class R3Observer implements FrameObserver {
  readonly flows = new Map<number, Flow>();
  readonly offences: Offence[] = [];
  constructor(readonly b: SimHost, readonly bPort: string, readonly rtoMin: number) {}

  private flow(port: number): Flow {
    let f = this.flows.get(port);
    if (f === undefined) {
      f = {
        port, isn: -1, evs: [], hiAck: 0, sacked: [], acks: 0, lastTx: new Map(), sndMax: 0,
        origStarts: new Set(), timeoutsAtLastTx: 0,
      };
      this.flows.set(port, f);
    }
    return f;
  }

  /** b's TCB for a's port, -1 */
  private tcb(aport: number): number {
    const tp = this.b.st.tcp;
    for (let t = 0; t < tp.n; t++) if (tp.state[t] !== TCP_FREE && tp.rport[t] === aport && tp.lport[t] === 80) return t;
    return -1;
  }

  private tcbNote(t: number, f: Flow): string {
    if (t < 0) return '';
    const tp: TcpState = this.b.st.tcp;
    const r = (x: number): number => rel(u32(x), f.isn);
    const rec = (tp.flags[t] & F_SACK_RECOV) !== 0 ? 'SACK_RECOV' : (tp.flags[t] & F_RENO_RECOV) !== 0 ? 'RENO_RECOV' : 'open';
    let sb = '';
    for (let i = 0; i < tp.sbN[t]; i++) sb += ' ' + r(tp.sbS[t * tp.K + i]) + '-' + r(tp.sbE[t * tp.K + i]);
    // which function is sending (the stack is only captured for retransmissions, this is not the hot path)
    const lim = Error.stackTraceLimit;
    Error.stackTraceLimit = 60;
    const raw = new Error().stack ?? '';
    Error.stackTraceLimit = lim;
    const stack = raw.split('\n').map((l) => l.trim().replace(/^at /, '').split(' ')[0])
      .filter((n) => /^(tcp|sack|enter)/.test(n) && n !== 'tcpTransmitSkb' && n !== 'tcpXmitAt').slice(0, 4).join('<');
    return rec + ' una=' + r(tp.sndUna[t]) + ' nxt=' + r(tp.sndNxt[t]) + ' max=' + r(tp.sndMax[t]) +
      ' HighRxt=' + r(tp.highRxt[t]) + ' RescueRxt=' + r(tp.rescueRxt[t]) + ' recover=' + r(tp.recover[t]) +
      ' cwnd=' + tp.cwnd[t] + ' pipe=' + tcpSackPipe(this.b.st, t) + ' sb=[' + sb.trim() + '] via ' + stack;
  }

  onFrame(ev: number, port: SimPort, t: number, buf: Uint8Array, o: number, len: number): void {
    if (port.name !== this.bPort || (ev !== FEV_TX && ev !== FEV_RX)) return;
    if (len < 54 || buf[o + 12] !== 0x08 || buf[o + 13] !== 0x00) return;
    const ip = o + 14;
    if (buf[ip + 9] !== 6) return;
    const ihl = (buf[ip] & 0xf) * 4;
    const tot = (buf[ip + 2] << 8) | buf[ip + 3];
    const th = ip + ihl;
    const hl = (buf[th + 12] >>> 4) * 4;
    const g32 = (p: number): number => u32((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
    const sport = (buf[th] << 8) | buf[th + 1];
    const dport = (buf[th + 2] << 8) | buf[th + 3];
    const seq = g32(th + 4);
    const ack = g32(th + 8);
    const flags = buf[th + 13];
    const dlen = tot - ihl - hl;
    if (ev === FEV_TX) {
      // b → a
      if (sport !== 80) return;
      const f = this.flow(dport);
      if ((flags & 0x02) !== 0) {
        f.isn = u32(seq + 1);
        return;
      }
      if (f.isn < 0 || dlen <= 0) return;
      const s = rel(seq, f.isn);
      const e = s + dlen;
      const retx = s < f.sndMax;
      let run = 1;
      const ev2: Ev = { t, kind: 'tx', seq: s, len: dlen, ack: 0, sack: '', note: '' };
      const idx = f.evs.length;
      f.evs.push(ev2);
      const tp = this.b.st.tcp;
      const tcb = this.tcb(dport);
      const timeouts = tp.ext[TX_TIMEOUTS];
      if (retx) {
        ev2.note = this.tcbNote(tcb, f);
        const orig = f.origStarts.has(s) && (e >= f.sndMax || f.origStarts.has(e));
        if (!orig) ev2.note = 're-segmented; ' + ev2.note;
        const prev = f.lastTx.get(s);
        const byTimer = ev2.note.indexOf('tcpRetransmitTimer') >= 0;
        if (prev !== undefined && prev[1] === f.acks && t - prev[0] < this.rtoMin && !byTimer) {
          run = prev[2] + 1;
          const prevKind = prev[3] ? 'a retransmission (hole)' : 'new data';
          this.offences.push({ flow: f, idx, what: 'REPEAT x' + run + ': seq ' + s + ' sent again ' + (t - prev[0]).toFixed(3) + ' ms after its previous transmission (' + prevKind + ') with no ACK of this flow in between' });
        }
        const inSackRecovery = tcb >= 0 && (tp.flags[tcb] & F_SACK_RECOV) !== 0;
        if (covered(f, s, e) && inSackRecovery) {
          this.offences.push({ flow: f, idx, what: 'SPURIOUS: ' + s + '-' + e + ' was already ACKed/SACKed by the receiver (ack ' + f.hiAck + ' sack ' + f.sacked.map((x) => x[0] + '-' + x[1]).join(',') + ')' });
        }
      } else {
        f.origStarts.add(s);
      }
      f.timeoutsAtLastTx = timeouts;
      f.lastTx.set(s, [t, f.acks, run, retx]);
      if (e > f.sndMax) f.sndMax = e;
      return;
    }
    // FEV_RX at b: a → b
    if (dport !== 80 || (flags & 0x10) === 0) return;
    const f = this.flow(sport);
    if (f.isn < 0) return;
    const a = rel(ack, f.isn);
    if (a > 0x7fffffff) return; // the SYN-ACK's ACK (before isn+1) etc.
    f.acks++;
    let sackStr = '';
    for (let p = th + 20; p < th + hl; ) {
      const kind = buf[p];
      if (kind === 0) break;
      if (kind === 1) {
        p++;
        continue;
      }
      const ol = buf[p + 1];
      if (ol < 2) break;
      if (kind === 5) {
        for (let q = p + 2; q + 8 <= p + ol; q += 8) {
          const ss = rel(g32(q), f.isn);
          const se = rel(g32(q + 4), f.isn);
          const dsack = se <= a || (q === p + 2 && ol >= 18 && ss >= rel(g32(q + 8), f.isn) && se <= rel(g32(q + 12), f.isn));
          sackStr += ' ' + ss + '-' + se + (dsack ? '(D)' : '');
          if (!dsack && se > a) addRange(f.sacked, ss, se);
        }
      }
      p += ol;
    }
    if (a > f.hiAck) f.hiAck = a;
    f.evs.push({ t, kind: 'ack', seq: 0, len: 0, ack: a, sack: sackStr.trim(), note: '' });
  }
}

/* ---------------- traffic ---------------- */

const CLIENT_BUF = new Uint8Array(8192);
const SERVER_BUF = new Uint8Array(8192);
for (let i = 0; i < SERVER_BUF.length; i++) SERVER_BUF[i] = (i * 31 + 7) & 0xff;

class Traffic implements SimTicker {
  readonly srv: number[] = [];
  readonly sent: number[] = [];
  readonly shut: boolean[] = [];
  readonly got: number[] = [];
  readonly eof: boolean[] = [];
  corrupt = 0;
  errors = 0;
  constructor(readonly a: SimHost, readonly b: SimHost, readonly l: number, readonly cli: number[], readonly bytes: number) {
    for (let i = 0; i < cli.length; i++) {
      this.got.push(0);
      this.eof.push(false);
    }
  }
  onTick(): number {
    let n = 0;
    const sb = this.b.st;
    const sa = this.a.st;
    for (;;) {
      const s = tcpAccept(sb, this.l);
      if (s < 0) break;
      this.srv.push(s);
      this.sent.push(0);
      this.shut.push(false);
      n++;
    }
    for (let k = 0; k < this.srv.length; k++) {
      const s = this.srv[k];
      while (this.sent[k] < this.bytes) {
        const off = this.sent[k] % SERVER_BUF.length;
        let want = this.bytes - this.sent[k];
        if (want > SERVER_BUF.length - off) want = SERVER_BUF.length - off;
        const r = tcpSend(sb, s, SERVER_BUF, off, want);
        if (r <= 0) {
          if (r < 0 && r !== -EAGAIN) this.errors++;
          break;
        }
        this.sent[k] += r;
        n++;
      }
      if (this.sent[k] === this.bytes && !this.shut[k]) {
        tcpShutdown(sb, s, SHUT_WR);
        this.shut[k] = true;
        n++;
      }
    }
    for (let k = 0; k < this.cli.length; k++) {
      while (!this.eof[k]) {
        const r = tcpRecv(sa, this.cli[k], CLIENT_BUF, 0, CLIENT_BUF.length);
        if (r > 0) {
          for (let i = 0; i < r; i++) {
            const off = (this.got[k] + i) % SERVER_BUF.length;
            if (CLIENT_BUF[i] !== SERVER_BUF[off]) this.corrupt++;
          }
          this.got[k] += r;
          n++;
          continue;
        }
        if (r === 0) {
          this.eof[k] = true;
          n++;
        } else if (r !== -EAGAIN) this.errors++;
        break;
      }
    }
    return n;
  }
  done(): boolean {
    for (let k = 0; k < this.cli.length; k++) if (!this.eof[k]) return false;
    return true;
  }
}

/* ---------------- one run ---------------- */

interface Result {
  p: Params;
  obs: R3Observer;
  finished: boolean;
  ms: number;
  corrupt: number;
  queueDrops: number;
  retrans: number;
  rescues: number;
  timeouts: number;
}

function run(p: Params): Result {
  const sim = new Sim({ seed: p.seed, slots: 2048 });
  const cfg: Partial<StackConfig> = {
    tcpMaxSockets: p.flows + 2, tcpSynQueue: p.flows, tcpAcceptQueue: p.flows, tcpTimeWaitSlots: p.flows,
    skbSmallCount: 256, timerMax: 256,
  };
  const a = sim.addHost('a', cfg);
  const b = sim.addHost('b', cfg);
  if (ifconfig(a.st, a.dev(0), '192.0.2.10/24', null) !== 0) throw new Error('ifconfig a');
  if (ifconfig(b.st, b.dev(0), '192.0.2.11/24', null) !== 0) throw new Error('ifconfig b');
  sim.up(a);
  sim.up(b);
  initTcp(a.st);
  initTcp(b.st);
  sim.setFaults(a, { delayMs: p.delay }, 'tx');
  sim.setFaults(a, { delayMs: p.delay, rateBps: p.rate * 1e6, queueLimitMs: p.qms, loss: p.loss }, 'rx');
  const obs = new R3Observer(b, b.port(0).name, b.st.cfg.tcpRtoMinMs);
  sim.fabric.observer = obs;
  const l = tcpSocket(b.st);
  if (tcpBind(b.st, l, 0, 80) !== 0 || tcpListen(b.st, l, p.flows) !== 0) throw new Error('listen');
  const cli: number[] = [];
  const bAddr = (192 << 24 | 0 << 16 | 2 << 8 | 11) >>> 0;
  for (let i = 0; i < p.flows; i++) {
    const c = tcpSocket(a.st);
    if (c < 0) throw new Error('socket ' + c);
    tcpConnect(a.st, c, bAddr, 80);
    cli.push(c);
  }
  const tr = new Traffic(a, b, l, cli, p.bytes);
  sim.addTicker(tr);
  const t0 = sim.now();
  const finished = sim.runUntil(() => tr.done(), p.maxMs);
  const ms = sim.now() - t0;
  sim.removeTicker(tr);
  for (const c of cli) tcpClose(a.st, c);
  for (const s of tr.srv) tcpClose(b.st, s);
  tcpClose(b.st, l);
  let ok = true;
  for (let k = 0; k < cli.length; k++) if (tr.got[k] !== p.bytes) ok = false;
  void TCP_ESTABLISHED;
  return {
    p, obs, finished: finished && ok, ms, corrupt: tr.corrupt + tr.errors,
    queueDrops: a.port(0).down.queueDrops, retrans: b.st.tcp.mib[TCP_RETRANSSEGS],
    rescues: b.st.tcp.ext[TX_SACKRESCUE], timeouts: b.st.tcp.ext[TX_TIMEOUTS],
  };
}

function maxRun(r: Result): number {
  let m = 0;
  for (const o of r.obs.offences) {
    const x = /^REPEAT x(\d+)/.exec(o.what);
    if (x !== null && Number(x[1]) > m) m = Number(x[1]);
  }
  return m;
}

function summary(r: Result): string {
  const rep = r.obs.offences.filter((o) => o.what.startsWith('REPEAT')).length;
  const hole = r.obs.offences.filter((o) => o.what.startsWith('REPEAT') && o.what.indexOf('(hole)') >= 0).length;
  const spu = r.obs.offences.filter((o) => o.what.startsWith('SPURIOUS')).length;
  const p = r.p;
  return 'seed=' + p.seed + ' flows=' + p.flows + ' bytes=' + p.bytes + ' rate=' + p.rate + 'Mbit/s qms=' + p.qms +
    ' loss=' + p.loss + ' delay=' + p.delay + ': ' + (r.finished ? 'done' : 'NOT DONE') + ' in ' + r.ms.toFixed(1) +
    ' ms, queueDrops=' + r.queueDrops + ' retrans=' + r.retrans + ' rescues=' + r.rescues + ' RTOs=' + r.timeouts +
    ' corrupt=' + r.corrupt + ' | REPEAT=' + rep + ' (of a hole: ' + hole + ') SPURIOUS=' + spu + ' maxRun=' + maxRun(r);
}

function fmtEv(e: Ev): string {
  const t = e.t.toFixed(3).padStart(10);
  if (e.kind === 'ack') return t + '  a>b  ack ' + e.ack + (e.sack.length > 0 ? ' sack ' + e.sack : '');
  return t + '  b>a  seq ' + e.seq + ' len ' + e.len + (e.note.length > 0 ? '   [' + e.note + ']' : '');
}

function report(r: Result, maxShown: number): void {
  console.log(summary(r));
  let shown = 0;
  for (const o of r.obs.offences) {
    if (shown >= maxShown) {
      console.log('... ' + (r.obs.offences.length - shown) + ' more offences');
      break;
    }
    shown++;
    const f = o.flow;
    console.log('\n' + o.what + '  (flow a:' + f.port + ' <- b:80, sequence numbers relative to b\'s ISN+1)');
    // the flow's trace from the last new-data transmission before the offending one's first copy
    const target = f.evs[o.idx];
    let from = o.idx;
    let back = 0;
    while (from > 0 && back < 14) {
      from--;
      back++;
      const e = f.evs[from];
      if (e.kind === 'tx' && e.seq === target.seq && back > 3) break;
    }
    for (let i = from; i <= o.idx + 2 && i < f.evs.length; i++) console.log((i === o.idx ? '>>' : '  ') + fmtEv(f.evs[i]));
  }
}

/* ---------------- main ---------------- */

const { p, sweep, quiet } = parseArgs(process.argv.slice(2));
if (sweep !== null) {
  let bad = 0;
  for (let s = sweep[0]; s <= sweep[1]; s++) {
    const r = run(Object.assign({}, p, { seed: s }));
    if (r.obs.offences.length > 0) bad++;
    console.log(summary(r));
  }
  console.log(bad + ' of ' + (sweep[1] - sweep[0] + 1) + ' seeds show R3');
  process.exit(bad > 0 ? 1 : 0);
}
const r = run(p);
report(r, quiet ? 0 : 6);
if (!r.finished) console.log('note: the transfers did not all complete byte-exact within ' + p.maxMs + ' ms');
process.exit(r.obs.offences.length > 0 ? 1 : 0);
