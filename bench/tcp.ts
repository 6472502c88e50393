/*
 * tcp.ts — the TCP bulk-transfer workload (Node only): stack A and stack
 * B in one process joined by a pair link (drivers/pair/pairlink.ts), MTU
 * 1500 (MSS 1460; 1448 payload per segment with RFC 7323 timestamps), no
 * loss, driven through the zero-allocation TCP API
 * (src/transport/tcp/tcp_api.ts: tcpSend/tcpRecv).
 *
 * One iteration of the loop: the sender(s) tcpSend as much as the send
 * ring takes (tcp_sendmsg → tcp_write_xmit → ... → pair link → peer RX
 * ring), the virtual clock advances 1 ms, both stacks poll (receiver
 * first: data in, ACKs out; then the sender: ACKs in, more data out), and
 * the receiver(s) tcpRecv everything queued. run(k) moves k segments'
 * worth of payload (k * smss bytes) in the chosen direction(s), so
 * bench/alloc.ts reports bytes per data segment and bench/micro.ts's
 * timeRun gives segments per second (→ Mbit/s of payload, wall clock).
 *
 * The payload is a fixed pseudo-random pattern with a period (65521, a
 * prime) that is not a multiple of any segment size; with verify on, the
 * receiver checks every byte against it (tests), otherwise only counts.
 */
import { Stack } from '../src/stack';
import type { StackConfig } from '../src/config';
import { ManualClock } from '../src/core/clock';
import { s32 } from '../src/core/bits';
import { ifconfig } from '../src/ipv4/devinet';
import { neighAddStatic } from '../src/link/arp';
import { createPairLink, PairLink } from '../drivers/pair/pairlink';
import { initTcp } from '../src/transport/tcp/tcp_ipv4';
import type { TcpState } from '../src/transport/tcp/tcp';
import { TCP_ESTABLISHED } from '../src/transport/tcp/tcp';
import {
  tcpSocket, tcpBind, tcpListen, tcpConnect, tcpAccept, tcpSend, tcpRecv, tcpClose,
} from '../src/transport/tcp/tcp_api';
import type { AllocWorkload } from './alloc';
import { MAC_A, MAC_B } from './pair';

/** TCP is not (yet) created by the Stack constructor: create it once (a one-liner to drop later). */
export function ensureTcp(st: Stack): TcpState {
  const s = st as unknown as { tcp: TcpState | undefined };
  if (s.tcp === undefined) initTcp(st);
  return st.tcp;
}

/** The pool and buffer sizes of the bulk test (reported as extra JSON keys). */
export const BULK_CONFIG: Partial<StackConfig> = {
  mtu: 1500,
  tcpSndBuf: 262144,
  tcpRcvBuf: 262144,
  skbSmallCount: 512,
  txQueueLen: 256,
  rxRingSize: 256,
  napiBudget: 256,
};

const PATTERN_PERIOD = 65521;
const PORT = 5001;
const RX_CHUNK = 65536;

export type BulkDir = 'a_to_b' | 'b_to_a' | 'both';

function makePattern(): Uint8Array {
  const b = new Uint8Array(PATTERN_PERIOD);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** One direction of the stream: sender (st, t) → receiver (st, t). */
class Flow {
  sent = 0; // stream offset written into the send ring
  got = 0; // stream offset read by the receiver
  bad = 0; // bytes that did not match the pattern (verify on)
  sendErrors = 0;
  constructor(
    readonly sSt: Stack,
    readonly sT: number,
    readonly rSt: Stack,
    readonly rT: number,
  ) {}
}

export interface BulkOptions {
  dir: BulkDir;
  /** check every received byte against the pattern */
  verify: boolean;
  /** config overrides on top of BULK_CONFIG (both stacks) */
  config?: Partial<StackConfig>;
}

export class TcpBulkWork implements AllocWorkload {
  readonly clock = new ManualClock(1000);
  readonly a: Stack;
  readonly b: Stack;
  readonly link: PairLink;
  readonly cfg: Partial<StackConfig>;
  readonly pat = makePattern();
  readonly rxBuf = new Uint8Array(RX_CHUNK);
  readonly flows: Flow[] = [];
  readonly verify: boolean;
  readonly dir: BulkDir;
  /** TCBs: listener on B, client on A, accepted on B */
  readonly l: number;
  readonly c: number;
  readonly s: number;
  /** payload bytes per full segment (smss) of the sending side(s) */
  readonly segBytes: number;
  /** loop iterations (1 ms of virtual time each) */
  iterations = 0;

  constructor(o: BulkOptions) {
    this.dir = o.dir;
    this.verify = o.verify;
    const cfg: Partial<StackConfig> = {};
    Object.assign(cfg, BULK_CONFIG);
    if (o.config !== undefined) Object.assign(cfg, o.config);
    this.cfg = cfg;
    const ca: Partial<StackConfig> = Object.assign({ seed: 11 }, cfg);
    const cb: Partial<StackConfig> = Object.assign({ seed: 22 }, cfg);
    this.a = new Stack('A', ca, this.clock, undefined);
    this.b = new Stack('B', cb, this.clock, undefined);
    ensureTcp(this.a);
    ensureTcp(this.b);
    const mtu = cfg.mtu !== undefined ? cfg.mtu : 1500;
    this.link = createPairLink(this.a, this.b, MAC_A, MAC_B, mtu);
    const ipA = s32(0xc0000201);
    const ipB = s32(0xc0000202);
    if (ifconfig(this.a, this.link.devA, '192.0.2.1/24', null) < 0) throw new Error('ifconfig A');
    if (ifconfig(this.b, this.link.devB, '192.0.2.2/24', null) < 0) throw new Error('ifconfig B');
    this.link.open();
    neighAddStatic(this.a, this.link.devA, ipB, MAC_B, 0);
    neighAddStatic(this.b, this.link.devB, ipA, MAC_A, 0);
    this.step(20);

    const a = this.a;
    const b = this.b;
    this.l = tcpSocket(b);
    if (this.l < 0) throw new Error('tcpSocket B: ' + this.l);
    let rc = tcpBind(b, this.l, 0, PORT);
    if (rc < 0) throw new Error('tcpBind: ' + rc);
    rc = tcpListen(b, this.l, 1);
    if (rc < 0) throw new Error('tcpListen: ' + rc);
    this.c = tcpSocket(a);
    if (this.c < 0) throw new Error('tcpSocket A: ' + this.c);
    rc = tcpConnect(a, this.c, ipB, PORT);
    let s = -1;
    for (let i = 0; i < 5000 && s < 0; i++) {
      this.step(1);
      s = tcpAccept(b, this.l);
    }
    if (s < 0) throw new Error('tcp bulk: no connection (connect rc ' + rc + ')');
    this.s = s;
    for (let i = 0; i < 100 && a.tcp.state[this.c] !== TCP_ESTABLISHED; i++) this.step(1);
    if (a.tcp.state[this.c] !== TCP_ESTABLISHED) throw new Error('tcp bulk: client not ESTABLISHED');
    if (this.dir !== 'b_to_a') this.flows.push(new Flow(a, this.c, b, this.s));
    if (this.dir !== 'a_to_b') this.flows.push(new Flow(b, this.s, a, this.c));
    const f0 = this.flows[0];
    this.segBytes = f0.sSt.tcp.smss[f0.sT];
    if (!(this.segBytes > 0)) throw new Error('tcp bulk: no smss');
  }

  private step(n: number): void {
    for (let i = 0; i < n; i++) {
      this.clock.advance(1);
      this.a.poll();
      this.b.poll();
    }
  }

  private push(f: Flow): void {
    const pat = this.pat;
    for (;;) {
      const off = f.sent % PATTERN_PERIOD;
      const r = tcpSend(f.sSt, f.sT, pat, off, PATTERN_PERIOD - off);
      if (r > 0) {
        f.sent += r;
        if (r === PATTERN_PERIOD - off) continue; // ring may have more room
        return;
      }
      if (r !== 0 && r !== -11) f.sendErrors++; // -EAGAIN: ring full
      return;
    }
  }

  private pull(f: Flow): void {
    const buf = this.rxBuf;
    for (;;) {
      const r = tcpRecv(f.rSt, f.rT, buf, 0, RX_CHUNK);
      if (r <= 0) return;
      if (this.verify) {
        const pat = this.pat;
        let p = f.got % PATTERN_PERIOD;
        for (let i = 0; i < r; i++) {
          if (buf[i] !== pat[p]) f.bad++;
          p++;
          if (p === PATTERN_PERIOD) p = 0;
        }
      }
      f.got += r;
    }
  }

  /** Move k segments' worth of payload (k * segBytes) in each direction of the workload. */
  run(k: number): void {
    const flows = this.flows;
    const nf = flows.length;
    const want = k * this.segBytes;
    const target0 = flows[0].got + want;
    const target1 = nf > 1 ? flows[1].got + want : 0;
    let stall = 0;
    for (;;) {
      const f0 = flows[0];
      const done0 = f0.got >= target0;
      const done1 = nf < 2 || flows[1].got >= target1;
      if (done0 && done1) return;
      const g0 = f0.got + (nf > 1 ? flows[1].got : 0);
      for (let i = 0; i < nf; i++) this.push(flows[i]);
      this.clock.advance(1);
      this.iterations++;
      // receiver(s) first: take the data, send ACKs; then the other side
      if (this.dir === 'b_to_a') {
        this.a.poll();
        this.b.poll();
      } else {
        this.b.poll();
        this.a.poll();
      }
      for (let i = 0; i < nf; i++) this.pull(flows[i]);
      if (f0.got + (nf > 1 ? flows[1].got : 0) === g0) {
        if (++stall > 20000) throw new Error('tcp bulk stalled: ' + this.describe());
      } else {
        stall = 0;
      }
    }
  }

  /** Bytes received in total (all flows). */
  received(): number {
    let n = 0;
    for (const f of this.flows) n += f.got;
    return n;
  }

  badBytes(): number {
    let n = 0;
    for (const f of this.flows) n += f.bad;
    return n;
  }

  sendErrors(): number {
    let n = 0;
    for (const f of this.flows) n += f.sendErrors;
    return n;
  }

  describe(): string {
    const parts: string[] = [];
    for (const f of this.flows) parts.push(f.sSt.name + '→' + f.rSt.name + ' sent=' + f.sent + ' got=' + f.got);
    return parts.join(', ');
  }

  /** Stop: drain what is in flight, close both ends, let timers run out. */
  close(): void {
    // drain the in-flight data so the close is orderly
    for (let i = 0; i < 2000; i++) {
      let inflight = 0;
      for (const f of this.flows) {
        this.pull(f);
        inflight += f.sent - f.got;
      }
      if (inflight === 0) break;
      this.step(1);
    }
    tcpClose(this.a, this.c);
    tcpClose(this.b, this.s);
    tcpClose(this.b, this.l);
    const msl = Math.max(this.a.cfg.tcpMslMs, this.b.cfg.tcpMslMs);
    const fin = Math.max(this.a.cfg.tcpFinTimeoutMs, this.b.cfg.tcpFinTimeoutMs);
    const end = 2 * msl + fin + 130000;
    for (let t = 0; t < end; t += 100) {
      this.clock.advance(100);
      this.a.poll();
      this.b.poll();
    }
  }
}

/** The extra JSON keys describing the configuration used. */
export function bulkConfigKeys(w: TcpBulkWork): { [k: string]: number | string } {
  const c = w.a.cfg;
  return {
    mtu: c.mtu,
    mss: w.a.tcp.smss[w.c],
    snd_buf: c.tcpSndBuf,
    rcv_buf: c.tcpRcvBuf,
    skb_small: c.skbSmallCount,
    tx_queue_len: c.txQueueLen,
    rx_ring: c.rxRingSize,
    napi_budget: c.napiBudget,
    timestamps: c.tcpTimestamps ? 1 : 0,
    sack: c.tcpSack ? 1 : 0,
    api: 'tcp_api',
  };
}
