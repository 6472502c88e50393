/*
 * sim.ts — `slabnet sim` (what `npm start` runs): a virtual LAN of
 * simulated boards in virtual time (Node only).
 *
 *   slabnet sim [--seed N] [--loss P] [--pcap FILE | --no-pcap] [--json]
 *
 * Three stacks on one virtual switch: "host" (the PC board config) and
 * two boards named after real Espruino boards with their per-board pool
 * configs (boards/). Script: interfaces up (gratuitous ARP) → ARP
 * resolution → pings between every pair → one 3000-byte ping (fragmented
 * and reassembled) → UDP echo from two clients to a server on a board.
 * The cable of one board (the W5500 one) loses `--loss` of its frames
 * (default 0.05) in each direction; pings and datagrams are retried.
 *
 * Prints a timeline (virtual ms), per-host counters, pool use and
 * high-water marks, ARP tables, link/switch statistics, and where the
 * pcap of the whole switch was written (default: os.tmpdir()/slabnet-sim.pcap).
 * --json prints one JSON object instead. Exit 0 when every step succeeded
 * and every skb is back in its pool, 1 otherwise, 2 on bad flags.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Sim, SimHost, SimTicker } from '../sim/world';
import { FEV_SWITCH, SimPort } from '../sim/switch';
import { PcapFile } from '../host/pcapfile';
import type { StackConfig } from '../config';
import { findBoard } from '../../boards/index';
import { ifconfig } from '../ipv4/devinet';
import { icmpPing } from '../ipv4/icmp';
import { parseIpStrict, formatIp } from '../link/ifaddr';
import { formatMac } from '../link/ether';
import { arpDump, neighFlushAll } from '../link/arp';
import { socket, bind, sendto, recvfrom, close } from '../socket/socket';
import { SOCK_DGRAM } from '../socket/sock';

const USAGE =
  'usage: slabnet sim [--seed N] [--loss P] [--pcap FILE | --no-pcap] [--json]\n' +
  '  Simulate a LAN of boards in virtual time: ARP, ping (incl. a fragmented\n' +
  '  3000-byte ping), UDP echo; prints a timeline and per-host statistics.\n' +
  '  --seed N     PRNG seed (default 1): the same seed replays the same run\n' +
  '  --loss P     frame loss probability on one board\'s cable (default 0.05)\n' +
  '  --pcap FILE  capture the switch to FILE (default: <tmpdir>/slabnet-sim.pcap)\n' +
  '  --no-pcap    no capture\n' +
  '  --json       print the report as JSON\n';

interface Opts {
  seed: number;
  loss: number;
  pcap: string | null;
  json: boolean;
}

function parseArgs(argv: string[]): Opts | string {
  const o: Opts = { seed: 1, loss: 0.05, pcap: path.join(os.tmpdir(), 'slabnet-sim.pcap'), json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string | null => (i + 1 < argv.length ? argv[++i] : null);
    if (a === '--seed') {
      const v = val();
      const n = v === null ? NaN : Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return 'bad --seed';
      o.seed = n;
    } else if (a === '--loss') {
      const v = val();
      const p = v === null ? NaN : Number(v);
      if (!(p >= 0 && p <= 0.5)) return 'bad --loss (0..0.5)';
      o.loss = p;
    } else if (a === '--pcap') {
      const v = val();
      if (v === null || v.length === 0) return 'bad --pcap';
      o.pcap = v;
    } else if (a === '--no-pcap') {
      o.pcap = null;
    } else if (a === '--json') {
      o.json = true;
    } else if (a === '--help' || a === '-h') {
      return '';
    } else {
      return 'unknown argument: ' + a;
    }
  }
  return o;
}

interface Node {
  h: SimHost;
  board: string;
  addr: string;
  ip: number;
  replies: Map<string, number>;
}

interface TimelineEntry {
  t: number;
  what: string;
}

/** Decode the frames the switch sees into timeline lines (ARP only; the rest is counted). */
class FrameLog {
  arp = 0;
  ip = 0;
  frags = 0;
  constructor(
    readonly tl: TimelineEntry[],
    readonly names: Map<number, string>,
  ) {}
  onFrame(ev: number, port: SimPort, t: number, b: Uint8Array, o: number, len: number): void {
    if (ev !== FEV_SWITCH || len < 14) return;
    const type = (b[o + 12] << 8) | b[o + 13];
    if (type === 0x0806 && len >= 42) {
      this.arp++;
      const op = (b[o + 20] << 8) | b[o + 21];
      const sip = ((b[o + 28] << 24) | (b[o + 29] << 16) | (b[o + 30] << 8) | b[o + 31]) >>> 0;
      const tip = ((b[o + 38] << 24) | (b[o + 39] << 16) | (b[o + 40] << 8) | b[o + 41]) >>> 0;
      const sha = formatMac(b, o + 22);
      const who = port.name.split('.')[0];
      if (op === 1 && sip === tip) this.tl.push({ t, what: `${who}: gratuitous ARP ${formatIp(sip)} is-at ${sha}` });
      else if (op === 1) this.tl.push({ t, what: `${who}: ARP who-has ${formatIp(tip)} tell ${formatIp(sip)}` });
      else if (op === 2) this.tl.push({ t, what: `${who}: ARP reply ${formatIp(sip)} is-at ${sha}` });
    } else if (type === 0x0800 && len >= 34) {
      this.ip++;
      const frag = (b[o + 20] << 8) | b[o + 21];
      if ((frag & 0x3fff) !== 0) this.frags++;
    }
  }
}

/** UDP echo server (an application on top of the socket API). */
class EchoServer implements SimTicker {
  readonly fd: number;
  readonly buf = new Uint8Array(2048);
  readonly from = new Int32Array(2); // s32 source address: no boxing when echoed back
  echoed = 0;
  constructor(
    readonly n: Node,
    readonly port: number,
  ) {
    this.fd = socket(n.h.st, SOCK_DGRAM, 0);
    if (this.fd >= 0) bind(n.h.st, this.fd, 0, port);
  }
  onTick(): number {
    let k = 0;
    if (this.fd < 0) return 0;
    for (;;) {
      const r = recvfrom(this.n.h.st, this.fd, this.buf, 0, this.buf.length, this.from);
      if (r < 0) break;
      sendto(this.n.h.st, this.fd, this.buf, 0, r, this.from[0], this.from[1]);
      this.echoed++;
      k++;
    }
    return k;
  }
}

export async function runSim(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === 'string') {
    if (opts.length > 0) process.stderr.write(opts + '\n');
    process.stderr.write(USAGE);
    return opts.length > 0 ? 2 : 0;
  }
  const wall0 = Date.now();
  const sim = new Sim({ seed: opts.seed });
  const tl: TimelineEntry[] = [];
  const failures: string[] = [];
  const log = (what: string): void => {
    tl.push({ t: sim.now(), what });
  };

  // ---- the boards ----
  const spec: { name: string; board: string; addr: string }[] = [
    { name: 'host', board: 'host', addr: '192.0.2.1' },
    { name: 'pico', board: 'espruino-pico-enc28j60', addr: '192.0.2.20' },
    { name: 'wifi', board: 'espruino-wifi-w5500', addr: '192.0.2.21' },
  ];
  const nodes: Node[] = [];
  for (const s of spec) {
    const b = findBoard(s.board);
    let cfg: Partial<StackConfig> | undefined = b !== null ? b.config : undefined;
    if (b === null && s.board !== 'host') {
      // no board file: a small pool config
      cfg = { skbSmallCount: 8, skbLargeCount: 1, skbLargeSize: 4096 + 128, reasmSlots: 1, reasmMaxBytes: 4096 };
    }
    const h = sim.addHost(s.name, cfg);
    nodes.push({ h, board: b !== null ? b.name : s.board, addr: s.addr, ip: parseIpStrict(s.addr), replies: new Map() });
  }
  for (const n of nodes) {
    n.h.st.icmp.echoHandler = {
      onEchoReply: (saddr: number, ident: number, seq: number, len: number) => {
        n.replies.set(saddr + ':' + ident + ':' + seq + ':' + len, sim.now());
      },
    };
  }
  const [host, pico, wifi] = nodes;
  // cables: the ENC28J60 is 10BASE-T, the W5500 and the PC 100BASE-TX;
  // a few microseconds of propagation and switch latency, a little jitter
  sim.setFaults(host.h, { rateBps: 100000000, delayMs: 0.005 });
  sim.setFaults(pico.h, { rateBps: 10000000, delayMs: 0.005, jitterMs: 0.05 });
  sim.setFaults(wifi.h, { rateBps: 100000000, delayMs: 0.005, jitterMs: 0.05, loss: opts.loss });

  const names = new Map<number, string>();
  for (const n of nodes) names.set(n.ip, n.h.name);
  const frames = new FrameLog(tl, names);
  sim.fabric.observer = frames;
  let pcap: PcapFile | null = null;
  if (opts.pcap !== null) {
    try {
      pcap = new PcapFile(opts.pcap);
    } catch (e) {
      process.stderr.write('cannot write pcap ' + opts.pcap + ': ' + String(e) + '\n');
      return 1;
    }
    // capture everything the switch receives
    sim.captureSwitch(sim.switches[0], pcap);
  }

  // ---- interfaces up ----
  for (const n of nodes) {
    const rc = ifconfig(n.h.st, n.h.dev(0), n.addr + '/24', null);
    if (rc < 0) failures.push(`ifconfig ${n.h.name}: ${rc}`);
    sim.up(n.h);
    log(`${n.h.name}: eth0 up ${n.addr}/24 (${n.board})`);
  }
  sim.run(20);

  // ---- ping ----
  let ident = 0x100;
  let seqNo = 0;
  const ping = (from: Node, to: Node, len: number, count: number, tries: number): number => {
    ident++;
    let ok = 0;
    for (let i = 0; i < count; i++) {
      let done = false;
      for (let k = 0; k < tries && !done; k++) {
        const seq = ++seqNo;
        const key = to.ip + ':' + ident + ':' + seq + ':' + len;
        const t0 = sim.now();
        const rc = icmpPing(from.h.st, to.ip, ident, seq, len);
        log(`${from.h.name}: ping ${to.addr} ${len} bytes seq=${seq}${rc < 0 ? ' (send error ' + rc + ')' : ''}`);
        done = sim.runUntil(() => from.replies.has(key), 1000);
        if (done) {
          const rtt = (from.replies.get(key) as number) - t0;
          log(`${from.h.name}: reply from ${to.addr} seq=${seq} time=${rtt.toFixed(3)} ms`);
        } else {
          log(`${from.h.name}: no reply from ${to.addr} seq=${seq} (timeout 1000 ms)`);
        }
      }
      if (done) ok++;
      sim.run(100);
    }
    if (ok < count) failures.push(`ping ${from.h.name} -> ${to.h.name} (${len} bytes): ${ok}/${count}`);
    return ok;
  };
  const pings: { from: string; to: string; len: number; ok: number; count: number }[] = [];
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      pings.push({ from: a.h.name, to: b.h.name, len: 56, ok: ping(a, b, 56, 2, 8), count: 2 });
    }
  }
  pings.push({ from: 'host', to: 'pico', len: 3000, ok: ping(host, pico, 3000, 1, 5), count: 1 });
  // (not over wifi's lossy cable: a lost fragment would pin the W5500 board's
  // only large skb in a reassembly slot until its timeout)
  pings.push({ from: 'pico', to: 'host', len: 3000, ok: ping(pico, host, 3000, 1, 5), count: 1 });

  // ---- UDP echo: server on pico:7, clients host and wifi ----
  const srv = new EchoServer(pico, 7);
  if (srv.fd < 0) failures.push('udp: socket on pico: ' + srv.fd);
  sim.addTicker(srv);
  log('pico: UDP echo server on port 7');
  const udp = (from: Node, count: number, len: number): number => {
    const st = from.h.st;
    const fd = socket(st, SOCK_DGRAM, 0);
    if (fd < 0 || bind(st, fd, 0, 0) < 0) {
      failures.push('udp socket on ' + from.h.name + ': ' + fd);
      return 0;
    }
    const out = new Uint8Array(len);
    const inb = new Uint8Array(len + 16);
    const src = new Uint32Array(2);
    let ok = 0;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < len; j++) out[j] = (i * 13 + j) & 0xff;
      let done = false;
      for (let k = 0; k < 5 && !done; k++) {
        const t0 = sim.now();
        const rc = sendto(st, fd, out, 0, len, pico.ip, 7);
        log(`${from.h.name}: UDP ${len} bytes to ${pico.addr}:7 #${i + 1}${rc < 0 ? ' (send error ' + rc + ')' : ''}`);
        done = sim.runUntil(() => {
          for (;;) {
            const r = recvfrom(st, fd, inb, 0, inb.length, src);
            if (r < 0) return false;
            if (r !== len) continue;
            let same = true;
            for (let j = 0; j < len; j++) if (inb[j] !== out[j]) same = false;
            if (same) return true;
          }
        }, 500);
        if (done) log(`${from.h.name}: UDP echo #${i + 1} back in ${(sim.now() - t0).toFixed(3)} ms`);
        else log(`${from.h.name}: UDP echo #${i + 1} lost (timeout 500 ms)`);
      }
      if (done) ok++;
    }
    close(st, fd);
    if (ok < count) failures.push(`udp ${from.h.name} -> pico: ${ok}/${count}`);
    return ok;
  };
  const udps = [
    { from: 'host', ok: udp(host, 4, 512), count: 4 },
    { from: 'wifi', ok: udp(wifi, 3, 1200), count: 3 },
  ];
  close(pico.h.st, srv.fd);
  sim.removeTicker(srv);

  // ---- settle: let reassembly/ARP timers run, flush ARP queues ----
  sim.run(200);
  const arpTables: { [k: string]: { ip: string; mac: string; state: string }[] } = {};
  for (const n of nodes) arpTables[n.h.name] = arpDump(n.h.st).map((e) => ({ ip: e.ip, mac: e.mac, state: e.state }));
  let maxReasm = 0;
  for (const n of nodes) if (n.h.st.cfg.reasmTimeoutMs > maxReasm) maxReasm = n.h.st.cfg.reasmTimeoutMs;
  sim.run(maxReasm + 100);
  for (const n of nodes) neighFlushAll(n.h.st, false);
  sim.run(10);
  if (pcap !== null) pcap.close();

  // ---- report ----
  const pick = (o: { [k: string]: number }, keys: string[]): { [k: string]: number } => {
    const r: { [k: string]: number } = {};
    for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
    return r;
  };
  const hosts = nodes.map((n) => {
    const st = n.h.st;
    const m = st.mib;
    const p = st.pool;
    const nic = n.h.nics[0];
    return {
      name: n.h.name,
      board: n.board,
      addr: n.addr,
      mac: formatMac(st.link.devs[n.h.dev(0)].mac, 0),
      ip: pick(m.ipB.toObject(), ['InReceives', 'InDelivers', 'OutRequests', 'InHdrErrors', 'InCsumErrors', 'FragCreates', 'ReasmReqds', 'ReasmOKs', 'ReasmFails']),
      icmp: pick(m.icmpB.toObject(), ['InMsgs', 'InEchos', 'InEchoReps', 'OutEchos', 'OutEchoReps', 'InErrors']),
      udp: pick(m.udpB.toObject(), ['InDatagrams', 'OutDatagrams', 'NoPorts', 'InErrors']),
      link: pick(m.linkB.toObject(), ['RxFrames', 'TxFrames', 'RxNotForUs', 'ArpInRequests', 'ArpInReplies', 'ArpOutRequests', 'ArpOutReplies', 'ArpGratuitousOut', 'ArpQueueDrops']),
      nic: { txFrames: nic.txFrames, rxFrames: nic.rxFrames, txBytes: nic.txBytes, rxBytes: nic.rxBytes },
      pool: {
        small: p.smallCount,
        large: p.count - p.smallCount,
        inUse: p.inUse(),
        highSmall: p.highSmall,
        highLarge: p.highLarge,
        allocs: p.allocs,
        allocFails: p.allocFails,
      },
      arp: arpTables[n.h.name],
    };
  });
  const links = nodes.map((n) => ({
    port: n.h.port(0).name,
    up: n.h.port(0).up.stats(),
    down: n.h.port(0).down.stats(),
  }));
  const sw = sim.switches[0];
  let leaked = 0;
  for (const h of hosts) leaked += h.pool.inUse;
  if (leaked !== 0) failures.push(`skbs still in use: ${leaked}`);
  const report = {
    seed: opts.seed,
    loss: opts.loss,
    virtualMs: Math.round(sim.now() * 1000) / 1000,
    wallMs: Date.now() - wall0,
    ok: failures.length === 0,
    failures,
    pings,
    udp: udps,
    hosts,
    links,
    switch: { received: sw.received, forwarded: sw.forwarded, flooded: sw.flooded, filtered: sw.filtered, learned: sw.learned },
    frames: { arp: frames.arp, ip: frames.ip, ipFragments: frames.frags },
    pcap: opts.pcap !== null && pcap !== null ? { file: path.resolve(opts.pcap), frames: pcap.count } : null,
    timeline: tl.map((e) => ({ t: Math.round(e.t * 1000) / 1000, what: e.what })),
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return report.ok ? 0 : 1;
  }

  const out: string[] = [];
  const w = (s: string): void => {
    out.push(s);
  };
  w(`slabnet sim — seed ${opts.seed}, loss ${opts.loss} on wifi's cable (replay: slabnet sim --seed ${opts.seed}${opts.loss !== 0.05 ? ' --loss ' + opts.loss : ''})`);
  w('');
  w('boards on switch sw0:');
  for (const h of hosts) w(`  ${h.name.padEnd(5)} ${h.addr.padEnd(11)} ${h.mac}  ${h.board}  (skbs ${h.pool.small} small + ${h.pool.large} large)`);
  w('');
  w('timeline (virtual ms):');
  for (const e of tl) w(`  ${e.t.toFixed(3).padStart(10)}  ${e.what}`);
  w('');
  w('results:');
  for (const p of pings) w(`  ping ${p.from} -> ${p.to} ${p.len} bytes: ${p.ok}/${p.count}`);
  for (const u of udps) w(`  udp echo ${u.from} -> pico:7: ${u.ok}/${u.count}`);
  w('');
  w('counters:');
  const fmt = (o: { [k: string]: number }): string =>
    Object.keys(o)
      .map((k) => k + '=' + o[k])
      .join(' ');
  for (const h of hosts) {
    w(`  ${h.name}:`);
    w(`    Ip:   ${fmt(h.ip)}`);
    w(`    Icmp: ${fmt(h.icmp)}`);
    w(`    Udp:  ${fmt(h.udp)}`);
    w(`    Link: ${fmt(h.link)}`);
  }
  w('');
  w('skb pools (in use now / high-water / size):');
  for (const h of hosts) {
    const p = h.pool;
    w(`  ${h.name.padEnd(5)} in use ${p.inUse}; small high ${p.highSmall}/${p.small}; large high ${p.highLarge}/${p.large}; allocs ${p.allocs}, failed ${p.allocFails}`);
  }
  w('');
  w('ARP tables (before the final flush):');
  for (const h of hosts) {
    if (h.arp.length === 0) w(`  ${h.name}: (empty)`);
    for (const e of h.arp) w(`  ${h.name.padEnd(5)} ${e.ip.padEnd(12)} ${e.mac}  ${e.state}`);
  }
  w('');
  w('wire:');
  for (const l of links) {
    w(`  ${l.port} up:   ${fmt(pick(l.up, ['frames', 'lost', 'duplicated', 'corrupted']))}`);
    w(`  ${l.port} down: ${fmt(pick(l.down, ['frames', 'lost', 'duplicated', 'corrupted']))}`);
  }
  w(`  switch sw0: ${fmt(report.switch)}`);
  w(`  frames seen by the switch: ${frames.arp} ARP, ${frames.ip} IPv4 (${frames.frags} fragments)`);
  w('');
  if (report.pcap !== null) w(`pcap: ${report.pcap.file} (${report.pcap.frames} frames, the whole switch; open with wireshark or tshark -r)`);
  else w('pcap: not written (--no-pcap)');
  w(`virtual time ${report.virtualMs.toFixed(1)} ms, wall time ${report.wallMs} ms`);
  w(report.ok ? 'OK: every ping and datagram answered, every skb back in its pool' : 'FAILED: ' + failures.join('; '));
  process.stdout.write(out.join('\n') + '\n');
  return report.ok ? 0 : 1;
}
