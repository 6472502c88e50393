/*
 * tcp_helpers.ts — shared fixtures for the TCP scenario tests
 * (test/scenario/tcp_*.test.ts): a two-host simulated LAN with TCP up,
 * seeded byte streams checked byte-exact (and by FNV-1a hash) without
 * allocating the whole transfer, a pump that drives one end of a
 * connection as a SimTicker, a state-transition recorder, a frame
 * observer that classifies TCP segments on the wire, and the end-of-test
 * check: every TCB, TIME_WAIT slot, request sock, skb and wire slot free.
 * Not a test file itself.
 */
import { expect } from 'vitest';
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import { SimPort, FrameObserver, FEV_RX, FEV_TX } from '../../src/sim/switch';
import type { StackConfig } from '../../src/config';
import type { Stack } from '../../src/stack';
import { makeLan, expectAllFree, LanHost } from './helpers';
import { ensureTcp } from '../unit/tcp_util';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose, tcpShutdown, SHUT_WR,
} from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED, TCP_STATE_NAMES, TCP_FREE, TCP_CLOSE, OWN_APP, TcpState } from '../../src/transport/tcp/tcp';
import { EAGAIN, EINPROGRESS } from '../../src/core/errno';
import { csumPartial, csumFold, csumTcpUdpMagic } from '../../src/core/checksum';
import { s32 } from '../../src/core/bits';

/** Two hosts a (192.0.2.10) and b (192.0.2.11) on one switch, TCP initialised on both. */
export interface TcpLan {
  sim: Sim;
  a: LanHost;
  b: LanHost;
}

export function tcpLan(seed: number, over?: Partial<StackConfig>, overB?: Partial<StackConfig>): TcpLan {
  const sim = new Sim({ seed });
  const [a] = makeLan(sim, 1, over);
  const [b] = makeLan(sim, 1, overB !== undefined ? Object.assign({}, over, overB) : over);
  ensureTcp(a.h.st);
  ensureTcp(b.h.st);
  return { sim, a, b };
}

/** A seeded byte stream (xorshift32): both ends generate the same bytes. */
export class StreamGen {
  private x: number;
  constructor(seed: number) {
    this.x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
    for (let i = 0; i < 4; i++) this.step();
  }
  private step(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.x = x;
    return x;
  }
  byte(): number {
    return (this.step() >>> 11) & 0xff;
  }
}

/** FNV-1a, 32 bits, streaming. */
export class Fnv1a {
  h = 0x811c9dc5;
  update(b: Uint8Array, off: number, len: number): void {
    let h = this.h;
    for (let i = 0; i < len; i++) {
      h ^= b[off + i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    this.h = h;
  }
}

/**
 * Drives one end of a connection: sends `sendTotal` bytes of
 * StreamGen(sendSeed) (then shuts down writing when `shutWhenDone`), reads
 * everything and checks it against StreamGen(recvSeed) byte by byte.
 */
export class Pump implements SimTicker {
  readonly out = new Uint8Array(4096);
  readonly inb = new Uint8Array(4096);
  private outLen = 0;
  private outOff = 0;
  private readonly sgen: StreamGen;
  private readonly rgen: StreamGen;
  readonly sendHash = new Fnv1a();
  readonly recvHash = new Fnv1a();
  sent = 0;
  got = 0;
  eof = false;
  /** first received offset that differed from the expected stream, -1 none */
  mismatchAt = -1;
  /** first negative return other than -EAGAIN (send or recv) */
  error = 0;
  /** stop reading while true (zero window tests) */
  paused = false;
  shutWhenDone = true;
  /** with shutWhenDone: wait for the peer's FIN first (the passive closer) */
  shutAfterEof = false;
  shutDone = false;
  constructor(
    readonly h: SimHost,
    public t: number,
    readonly sendTotal: number,
    sendSeed: number,
    recvSeed: number,
  ) {
    this.sgen = new StreamGen(sendSeed);
    this.rgen = new StreamGen(recvSeed);
  }

  onTick(): number {
    if (this.t < 0) return 0;
    const st = this.h.st;
    let n = 0;
    while (this.sent < this.sendTotal) {
      if (this.outOff === this.outLen) {
        let k = this.sendTotal - this.sent;
        if (k > this.out.length) k = this.out.length;
        for (let i = 0; i < k; i++) this.out[i] = this.sgen.byte();
        this.sendHash.update(this.out, 0, k);
        this.outLen = k;
        this.outOff = 0;
      }
      const r = tcpSend(st, this.t, this.out, this.outOff, this.outLen - this.outOff);
      if (r <= 0) {
        if (r < 0 && r !== -EAGAIN && this.error === 0) this.error = r;
        break;
      }
      this.outOff += r;
      this.sent += r;
      n++;
    }
    if (
      this.sent === this.sendTotal && this.shutWhenDone && !this.shutDone && this.error === 0 &&
      (!this.shutAfterEof || this.eof)
    ) {
      this.shutDone = true;
      tcpShutdown(st, this.t, SHUT_WR);
      n++;
    }
    while (!this.paused && !this.eof) {
      const r = tcpRecv(st, this.t, this.inb, 0, this.inb.length);
      if (r > 0) {
        for (let i = 0; i < r; i++) {
          if (this.mismatchAt < 0 && this.inb[i] !== this.rgen.byte()) this.mismatchAt = this.got + i;
        }
        this.recvHash.update(this.inb, 0, r);
        this.got += r;
        n++;
        continue;
      }
      if (r === 0) {
        this.eof = true;
        n++;
      } else if (r !== -EAGAIN) {
        if (this.error === 0) this.error = r;
      }
      break;
    }
    return n;
  }

  /** FNV-1a of the first `len` bytes of StreamGen(seed) (what the peer should have received). */
  static expectedHash(seed: number, len: number): number {
    const g = new StreamGen(seed);
    const f = new Fnv1a();
    const b = new Uint8Array(4096);
    for (let done = 0; done < len; ) {
      const k = len - done < b.length ? len - done : b.length;
      for (let i = 0; i < k; i++) b[i] = g.byte();
      f.update(b, 0, k);
      done += k;
    }
    return f.h;
  }
}

/** Listener on b:port, a connects, b accepts; asserts both ends ESTABLISHED. Returns client/server TCBs and the listener. */
export function connect(lan: TcpLan, port: number, maxMs: number): { c: number; s: number; l: number } {
  const { sim, a, b } = lan;
  const l = tcpSocket(b.h.st);
  expect(l, sim.describe()).toBeGreaterThanOrEqual(0);
  expect(tcpBind(b.h.st, l, 0, port), sim.describe()).toBe(0);
  expect(tcpListen(b.h.st, l, 4), sim.describe()).toBe(0);
  const c = tcpSocket(a.h.st);
  expect(c, sim.describe()).toBeGreaterThanOrEqual(0);
  expect(tcpConnect(a.h.st, c, b.ip, port), sim.describe()).toBe(-EINPROGRESS);
  let s = -1;
  expect(sim.runUntil(() => (s = tcpAccept(b.h.st, l)) >= 0, maxMs), 'accept ' + sim.describe()).toBe(true);
  expect(sim.runUntil(() => a.h.st.tcp.state[c] === TCP_ESTABLISHED, maxMs), 'client established ' + sim.describe()).toBe(true);
  return { c, s, l };
}

/** One line of TCB diagnostics for a failure message. */
export function tcbInfo(st: Stack, t: number): string {
  const tp = st.tcp;
  return (
    st.name + '#' + t + ' ' + TCP_STATE_NAMES[tp.state[t]] + ' una=' + (tp.sndUna[t] >>> 0) + ' nxt=' + (tp.sndNxt[t] >>> 0) +
    ' wseq=' + (tp.writeSeq[t] >>> 0) + ' rcvNxt=' + (tp.rcvNxt[t] >>> 0) + ' sndWnd=' + tp.sndWnd[t] + ' cwnd=' + tp.cwnd[t] +
    ' rto=' + tp.rto[t] + ' backoff=' + tp.backoff[t] + ' rcvCount=' + tp.rcvCount[t] + ' flags=0x' + tp.flags[t].toString(16) +
    ' err=' + tp.err[t] + ' rtxPending=' + st.timers.pending(tp.tRtx[t])
  );
}

/**
 * Close every TCB the application still holds, run out FIN_WAIT2 / TIME_WAIT
 * (2 MSL + fin timeout + margin) and assert every TCB, TIME_WAIT slot,
 * request sock, skb and wire slot is free.
 */
export function closeAllAndDrain(sim: Sim): void {
  let msl = 0;
  let fin = 0;
  for (const h of sim.hosts) {
    const st = h.st;
    const tp = (st as unknown as { tcp: TcpState | undefined }).tcp;
    if (tp === undefined) continue;
    for (let t = 0; t < tp.n; t++) if (tp.state[t] !== TCP_FREE && tp.owner[t] === OWN_APP) tcpClose(st, t);
    if (st.cfg.tcpMslMs > msl) msl = st.cfg.tcpMslMs;
    if (st.cfg.tcpFinTimeoutMs > fin) fin = st.cfg.tcpFinTimeoutMs;
  }
  // an orphan in LAST_ACK / FIN_WAIT1 after a long backoff may retransmit for
  // many minutes (tcpRetries2 at up to tcpRtoMaxMs): wait for the table to
  // empty with coarse steps (every timer is still an event), then at least
  // 2 MSL + fin timeout so TIME_WAIT runs out
  const saved = sim.stepMs;
  sim.stepMs = 1000;
  const t0 = sim.now();
  sim.runUntil(() => {
    for (const h of sim.hosts) {
      const tp = (h.st as unknown as { tcp: TcpState | undefined }).tcp;
      if (tp !== undefined && (tp.inUse() !== 0 || tp.twCount !== 0 || tp.rqCount !== 0)) return false;
    }
    return true;
  }, 4 * 3600000);
  const waited = sim.now() - t0;
  if (waited < 2 * msl + fin + 10000) sim.run(2 * msl + fin + 10000 - waited);
  sim.stepMs = saved;
  for (const h of sim.hosts) {
    const tp = (h.st as unknown as { tcp: TcpState | undefined }).tcp;
    if (tp === undefined) continue;
    let left = '';
    for (let t = 0; t < tp.n; t++) if (tp.state[t] !== TCP_FREE) left += ' ' + tcbInfo(h.st, t);
    expect(tp.inUse(), h.name + ' TCBs in use:' + left + ' ' + sim.describe()).toBe(0);
    expect(tp.twCount, h.name + ' TIME_WAIT slots ' + sim.describe()).toBe(0);
    expect(tp.rqCount, h.name + ' request socks ' + sim.describe()).toBe(0);
  }
  expectAllFree(sim);
}

/**
 * Records every TCB state change (polled at each settled instant) on the
 * watched stacks. A connection entering TIME_WAIT leaves its TCB for a
 * TIME_WAIT minisock (twCount grows at the same instant): that is
 * recorded as "<state>>TIME_WAIT TIME_WAIT><TCB's new state>", and every
 * minisock that expires is counted in twExpired. A socket created and
 * connected (or put to listen) at one instant shows "FREE>SYN_SENT" /
 * "FREE>LISTEN" (CLOSE lasted no time).
 */
export class StateRecorder implements SimTicker {
  readonly last: Uint8Array[] = [];
  readonly lastTw: number[] = [];
  readonly twExpired: number[] = [];
  /** transitions in order, per host and TCB */
  readonly trans: string[][] = [];
  readonly seen = new Set<string>();
  constructor(readonly hosts: SimHost[]) {
    for (const h of hosts) {
      this.last.push(new Uint8Array(h.st.tcp.n));
      this.lastTw.push(h.st.tcp.twCount);
      this.twExpired.push(0);
      const per: string[] = [];
      for (let i = 0; i < h.st.tcp.n; i++) per.push('');
      this.trans.push(per);
    }
  }
  private add(k: number, t: number, tr: string): void {
    this.trans[k][t] += (this.trans[k][t].length > 0 ? ' ' : '') + tr;
    this.seen.add(tr);
  }
  onTick(): number {
    for (let k = 0; k < this.hosts.length; k++) {
      const tp = this.hosts[k].st.tcp;
      const last = this.last[k];
      let twNew = tp.twCount - this.lastTw[k];
      for (let t = 0; t < tp.n; t++) {
        const s = tp.state[t];
        if (s === last[t]) continue;
        const old = TCP_STATE_NAMES[last[t]];
        const closing = old === 'FIN_WAIT1' || old === 'FIN_WAIT2' || old === 'CLOSING';
        if (closing && (s === TCP_FREE || s === TCP_CLOSE) && twNew > 0) {
          twNew--;
          this.add(k, t, old + '>TIME_WAIT');
          this.add(k, t, 'TIME_WAIT>' + TCP_STATE_NAMES[s]);
        } else {
          this.add(k, t, old + '>' + TCP_STATE_NAMES[s]);
        }
        last[t] = s;
      }
      if (tp.twCount < this.lastTw[k]) this.twExpired[k] += this.lastTw[k] - tp.twCount;
      this.lastTw[k] = tp.twCount;
    }
    return 0;
  }
}

/** A TCP segment seen by the frame observer. */
export interface WireSeg {
  ev: number;
  port: string;
  t: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  len: number;
  csumOk: boolean;
  /** timestamp option (RFC 7323) or -1 */
  tsval: number;
  tsecr: number;
}

/**
 * Fabric observer: counts TCP frames delivered to hosts whose TCP checksum
 * is bad (with an intact IPv4 header), and optionally logs segments.
 */
export class TcpWire implements FrameObserver {
  /** bad checksum, header length valid: TCP must count InCsumErrors */
  badCsumDelivered = 0;
  /** bad checksum and an impossible data offset: dropped (InErrs) before the checksum is checked */
  badHdrDelivered = 0;
  tcpDelivered = 0;
  log: WireSeg[] | null = null;
  /** only log these events (FEV_TX / FEV_RX; 0 = both) */
  logEv = FEV_TX;
  onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
    if (ev !== FEV_RX && ev !== this.logEv && this.logEv !== 0) return;
    if (len < 54 || b[o + 12] !== 0x08 || b[o + 13] !== 0x00) return;
    const ip = o + 14;
    if (b[ip] !== 0x45 || b[ip + 9] !== 6) return;
    const tot = (b[ip + 2] << 8) | b[ip + 3];
    if (tot < 40 || 14 + tot > len) return;
    // the IPv4 header must be intact, or IP drops the frame before TCP sees it
    if (csumFold(csumPartial(b, ip, 20, 0)) !== 0xffff) return;
    const th = ip + 20;
    const tl = tot - 20;
    const saddr = s32((b[ip + 12] << 24) | (b[ip + 13] << 16) | (b[ip + 14] << 8) | b[ip + 15]);
    const daddr = s32((b[ip + 16] << 24) | (b[ip + 17] << 16) | (b[ip + 18] << 8) | b[ip + 19]);
    const ok = csumFold(csumPartial(b, th, tl, csumTcpUdpMagic(saddr, daddr, tl, 6))) === 0xffff;
    if (ev === FEV_RX) {
      this.tcpDelivered++;
      const hl = (b[th + 12] >>> 4) * 4;
      if (!ok && hl >= 20 && hl <= tl) this.badCsumDelivered++;
      else if (!ok) this.badHdrDelivered++;
    }
    if (this.log !== null && (ev === this.logEv || (this.logEv === 0 && ev !== 2))) {
      const hl = (b[th + 12] >>> 4) * 4;
      let tsval = -1;
      let tsecr = -1;
      for (let i = th + 20; i < th + hl && i < o + len; ) {
        const kind = b[i];
        if (kind === 0) break;
        if (kind === 1) {
          i++;
          continue;
        }
        const ol = b[i + 1];
        if (kind === 8 && ol === 10) {
          tsval = ((b[i + 2] << 24) | (b[i + 3] << 16) | (b[i + 4] << 8) | b[i + 5]) >>> 0;
          tsecr = ((b[i + 6] << 24) | (b[i + 7] << 16) | (b[i + 8] << 8) | b[i + 9]) >>> 0;
        }
        if (ol < 2) break;
        i += ol;
      }
      this.log.push({
        ev, port: port.name, t,
        sport: (b[th] << 8) | b[th + 1],
        dport: (b[th + 2] << 8) | b[th + 3],
        seq: ((b[th + 4] << 24) | (b[th + 5] << 16) | (b[th + 6] << 8) | b[th + 7]) >>> 0,
        ack: ((b[th + 8] << 24) | (b[th + 9] << 16) | (b[th + 10] << 8) | b[th + 11]) >>> 0,
        flags: b[th + 13],
        win: (b[th + 14] << 8) | b[th + 15],
        len: tl - hl,
        csumOk: ok,
        tsval,
        tsecr,
      });
    }
  }
}

/** Run a bulk exchange between two pumps until both saw EOF (or maxMs). Returns whether it finished. */
export function runPumps(sim: Sim, pa: Pump, pb: Pump, maxMs: number): boolean {
  sim.addTicker(pa);
  sim.addTicker(pb);
  const ok = sim.runUntil(() => pa.eof && pb.eof, maxMs);
  sim.removeTicker(pa);
  sim.removeTicker(pb);
  return ok;
}

/** Assert a pump received exactly `len` bytes of StreamGen(seed), hash included. */
export function expectStream(sim: Sim, p: Pump, len: number, seed: number, what: string): void {
  const d = what + ' ' + sim.describe();
  expect(p.mismatchAt, 'first corrupt byte, ' + d).toBe(-1);
  expect(p.got, 'bytes received, ' + d).toBe(len);
  expect(p.recvHash.h, 'FNV-1a, ' + d).toBe(Pump.expectedHash(seed, len));
  expect(p.eof, 'EOF, ' + d).toBe(true);
}
