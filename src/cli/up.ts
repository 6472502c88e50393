/*
 * up.ts — `slabnet up`: one Stack on a real network (Node only).
 *
 *   slabnet up --ip 192.0.2.2/24 [--gw 192.0.2.1] --frames udp:LPORT:RPORT
 *              [--serve echo,discard] [--pcap FILE] [--mac aa:bb:cc:dd:ee:ff]
 *              [--loss P [--loss-seed N]] [--send tcp:ADDR:PORT:BYTES[,...]]...
 *
 * Ethernet frames travel one per UDP datagram (drivers/host/udpframes.ts):
 * in on 127.0.0.1:LPORT, out to 127.0.0.1:RPORT — what socat's TUN address
 * and QEMU's -netdev dgram speak, so a TAP device in a network namespace
 * puts the Linux kernel on the other end of the wire (test/interop/).
 *
 * Clock: performance.now(). Loop (src/cli/poll_loop.ts): a poll right after each received
 * datagram (setImmediate, coalesced) and a timer armed for the stack's
 * next timer expiry (capped), each followed by the services' run().
 * Prints one line containing `ready` when the interface is up. On SIGTERM,
 * SIGINT or SIGHUP, or when the process that started it is gone (a SIGTERM
 * to npx alone; src/cli/lifeline.ts), prints the counters as one line of
 * JSON and exits 0.
 * Bad flags: usage on stderr, exit 2.
 *
 * --loss P (0 <= P < 1) loses each frame with probability P in both
 * directions inside the frame driver (seeded PRNG, --loss-seed N, default 1):
 * loss tests against the kernel without sch_netem. Counted as Driver.lostRx /
 * Driver.lostTx in the JSON; the ready line then ends with ` loss=P seed=N`.
 *
 * --send tcp:ADDR:PORT:BYTES (repeatable, or comma-separated) opens a TCP
 * connection to ADDR:PORT SEND_DELAY_MS after the interface is up and sends
 * BYTES bytes of the /bytes/N pattern (src/apps/tcp_send.ts), half-closes,
 * reads until EOF, closes; prints `send: done N bytes to ADDR:PORT in T ms`
 * or `send: error ENAME to ADDR:PORT after T ms (N bytes sent)`. Its
 * counters are Services.tcp-send (then tcp-send-2, ...) in the JSON; the
 * ready line then ends with ` send=tcp:ADDR:PORT:BYTES[,...]`. ADDR may be
 * a host name: it is resolved (src/apps/dns_resolver.ts) once the interface
 * has its address, and `dns: NAME A.B.C.D ttl=T` (or `dns: NAME error E`)
 * is printed first.
 *
 * Without --ip the address comes from DHCP (src/apps/dhcp_client.ts,
 * --hostname NAME as option 12): the ready line is printed only once
 * bound, with the leased address, and ends with ` dhcp=SERVER lease=SECs
 * dns=A,B`; then `dhcp: renewed ip=A/N lease=SECs` on each renewal and
 * `dhcp: lost` when the lease ends. --dns A.B.C.D[,...] sets the resolver's
 * servers with a static --ip (DHCP's option 6 otherwise).
 *
 * --board ID (src/cli/up_board.ts): the same flags, but the stack is that
 * board's Espruino bundle (dist/espruino/ID.min.js from `npm run build`)
 * loaded into Node, with its compile-time features and default
 * configuration; the ready line then ends with ` board=ID`.
 */
import { whenToStop } from './lifeline';
import { startPollLoop } from './poll_loop';
import { Stack } from '../stack';
import type { Clock } from '../core/clock';
import { parseMac, formatMac } from '../link/ether';
import { parseIp, formatIp } from '../link/ifaddr';
import { devOpen, devClose } from '../link/dev';
import { ipAddrAdd, ipSetDefaultGateway } from '../ipv4/devinet';
import { UdpFramesDriver, FrameTap, LOSS_SEED_DEFAULT } from '../../drivers/host/udpframes';
import { NetService, ServiceMux } from '../apps/service';
import { UdpEchoService, ECHO_PORT } from '../apps/echo';
import { UdpDiscardService, DISCARD_PORT } from '../apps/discard';
import { UDP_MAX_PAYLOAD } from '../transport/udp';
import { TcpEchoService, TCP_ECHO_PORT } from '../apps/tcp_echo';
import { TcpDiscardService, TCP_DISCARD_PORT } from '../apps/tcp_discard';
import type { TcpLimits } from '../apps/tcp_service';
import { HttpService, HTTP_PORT, defaultHttpOptions } from '../apps/http';
import type { StackConfig } from '../config';
import { PcapFile } from '../host/pcapfile';
import { TcpSendService } from '../apps/tcp_send';
import { errnoName } from '../core/errno';
import { DhcpClient, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST } from '../apps/dhcp_client';
import { DnsResolver } from '../apps/dns_resolver';
import { splitFlag } from './flags';

const USAGE =
  'usage: slabnet up [--ip A.B.C.D/N [--gw A.B.C.D] [--dns A.B.C.D[,...]]] [--hostname NAME]\n' +
  '                  --frames udp:LPORT:RPORT\n' +
  '                  [--serve SVC[,SVC...]] [--pcap FILE] [--mac aa:bb:cc:dd:ee:ff] [--mtu N]\n' +
  '                  [--loss P [--loss-seed N]] [--send tcp:ADDR:PORT:BYTES[,...]]...\n' +
  '                  [--board ID [--bundle FILE]]\n' +
  '  Ethernet frames travel one per UDP datagram: received on 127.0.0.1:LPORT,\n' +
  '  sent to 127.0.0.1:RPORT (socat TUN / QEMU -netdev dgram framing).\n' +
  '  services: ' +
  '%SERVICES%' +
  '\n' +
  '  --loss P: lose each frame with probability P (0 <= P < 1) in both directions\n' +
  '  (seeded PRNG, --loss-seed N, default ' + LOSS_SEED_DEFAULT + '; counted as Driver.lostRx/lostTx).\n' +
  '  --send tcp:ADDR:PORT:BYTES: connect to ADDR:PORT, send BYTES bytes of the /bytes/N pattern,\n' +
  '  half-close, read until EOF; prints `send: done ...` or `send: error ...` (repeatable;\n' +
  '  ADDR may be a host name, resolved by DNS).\n' +
  '  Without --ip: DHCP (ready once bound; --hostname NAME is sent as option 12).\n' +
  '  --board ID: run that board\'s Espruino bundle (dist/espruino/ID.min.js from npm run build, or\n' +
  '  --bundle FILE) instead of the sources, with its compile-time features and default configuration.\n' +
  '  SIGTERM/SIGINT/SIGHUP, or the parent process gone (npx killed): print the counters as one\n' +
  '  line of JSON ("Signal": the signal, or "PARENT") and exit 0.\n';

/**
 * `slabnet up`'s slot limits per TCP service (tcp_service.ts TcpLimits): 16
 * slots (20 for http); a request header within 5 s of accept or of the
 * previous response (Apache's KeepAliveTimeout; slowloris is cut there);
 * 30 s without a byte read or acknowledged (a vanished peer, or one that
 * stopped ACKing: long enough for a lossy path in RTO backoff); 10 s with
 * a zero window and nothing acknowledged (sockstress); with all slots busy
 * a newcomer takes a slot after 1 s of it waiting for a request or
 * without progress; one address keeps at most half the slots when others
 * want them (perPeer 0 = auto: 8 of 16, 10 of 20).
 */
const TCP_SERVICE_CONNS = 16;
const TCP_IDLE_MS = 30000;
const TCP_LIMITS: Partial<TcpLimits> = { stallMs: 10000, evictMs: 1000, perPeer: 0 };
const HTTP_HEADER_MS = 5000;
/** --send: connect this long after the interface is up (its gratuitous ARP out first) */
const SEND_DELAY_MS = 100;
/** --send: give up (ETIMEDOUT) after this long without progress */
const SEND_IDLE_MS = 30000;
/** --send: bytes of pattern generated per send() */
const SEND_CHUNK = 16384;
/** --send: BYTES at most (2^48, as HTTP's Content-Length) */
const SEND_MAX_BYTES = 281474976710656;

/** One --send target. */
export interface SendTarget {
  /** destination address (s32); 0 while `name` is being resolved */
  addr: number;
  /** the host name given instead of an address, or null */
  name: string | null;
  port: number;
  bytes: number;
}

/** A service name → the services it starts (UDP and TCP on the same port for echo and discard). */
export type ServiceFactory = (st: Stack) => NetService[];
export const SERVICE_TABLE: { [name: string]: ServiceFactory } = {
  echo: (st) => [
    new UdpEchoService(st, ECHO_PORT, UDP_MAX_PAYLOAD),
    new TcpEchoService(st, TCP_ECHO_PORT, TCP_SERVICE_CONNS, 8192, TCP_IDLE_MS, TCP_LIMITS),
  ],
  discard: (st) => [
    new UdpDiscardService(st, DISCARD_PORT, 2048),
    new TcpDiscardService(st, TCP_DISCARD_PORT, TCP_SERVICE_CONNS, 16384, TCP_IDLE_MS, TCP_LIMITS),
  ],
  http: (st) => {
    const o = defaultHttpOptions();
    o.maxConns = TCP_SERVICE_CONNS + 4;
    o.idleMs = TCP_IDLE_MS;
    o.stallMs = TCP_LIMITS.stallMs as number;
    o.evictMs = TCP_LIMITS.evictMs as number;
    o.perPeer = TCP_LIMITS.perPeer as number;
    o.headerMs = HTTP_HEADER_MS;
    o.scratch = 65536;
    return [new HttpService(st, HTTP_PORT, o)];
  },
};

/**
 * The host's stack pools for `slabnet up`: room for every TCP service's
 * connections (16 each for echo and discard, 20 for http, plus listeners,
 * closing orphans and TIME_WAIT), an fd for each, a timer per neighbour
 * entry and several per TCB (RACK adds its own), and 256 KB send / 64 KB
 * receive buffers (window scaling) so one connection can fill a fast link.
 */
export const UP_CONFIG: Partial<StackConfig> = {
  maxSockets: 80,
  tcpMaxSockets: 80,
  tcpAcceptQueue: 16,
  tcpSynQueue: 32,
  tcpTimeWaitSlots: 64,
  // 256 KB to send: a window past the bandwidth-delay product of a LAN with some delay
  // (a 40 ms round trip at 5 MB/s is 200 KB; 64 KB capped a GET at 1.6 MB/s there)
  tcpSndBuf: 262144,
  tcpRcvBuf: 65536,
  tcpOooRanges: 16,
  // a RACK record per segment in flight: 256 KB is 180 full segments (64 would merge records)
  tcpRackSegs: 256,
  timerMax: 1024,
  // 1 ms timer ticks on a PC (boards keep 10): RACK's reordering timer and the loss probe are a
  // few ms on a LAN; 10 ms ticks made each one wait 10-20 ms
  timerTickMs: 1,
  timerSlots: 1024,
  skbSmallCount: 256,
  txQueueLen: 128,
  rxRingSize: 128,
  napiBudget: 64,
  // a host serving a LAN: a neighbour entry for every client it answers (Linux's gc_thresh1 is 128)
  arpTableSize: 128,
};

export interface UpOptions {
  /** 0: DHCP (no --ip) */
  addr: number;
  /** DHCP option 12 */
  hostName: string;
  /** --dns servers (s32) */
  dns: number[];
  prefixLen: number;
  gw: number;
  lport: number;
  rport: number;
  serve: string[];
  pcap: string | null;
  mac: Uint8Array;
  mtu: number;
  /** frame loss probability each way, 0 <= loss < 1 (0: none) */
  loss: number;
  /** seed of the loss PRNG */
  lossSeed: number;
  /** --send targets, in order */
  send: SendTarget[];
}

function parsePort(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s)) return -1;
  const v = parseInt(s, 10);
  return v >= 1 && v <= 65535 ? v : -1;
}

function validIp(s: string): boolean {
  return /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(s) && s.split('.').every((x) => parseInt(x, 10) <= 255);
}

/** A host name: letters, digits, '-', '_' in dot-separated labels of 1..63, at most 253 in all (RFC 1123 §2.1). */
function validHostName(s: string): boolean {
  return s.length <= 253 && /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(s) && !/^[0-9.]+$/.test(s);
}

/** One --send item `tcp:ADDR:PORT:BYTES` (ADDR an address or a host name): the target or null when malformed. */
export function parseSendTarget(s: string): SendTarget | null {
  const m = /^tcp:([^:]+):([0-9]{1,5}):([0-9]{1,15})$/.exec(s);
  if (m === null) return null;
  let addr = 0;
  let name: string | null = null;
  if (validIp(m[1])) {
    const a = parseIp(m[1]);
    if (a === null || a === 0 || a === -1 || ((a >>> 28) & 0xf) >= 0xe) return null; // unicast only
    addr = a;
  } else if (validHostName(m[1])) name = m[1];
  else return null;
  const port = parsePort(m[2]);
  if (port < 0) return null;
  const bytes = parseInt(m[3], 10);
  if (!(bytes >= 0 && bytes <= SEND_MAX_BYTES)) return null;
  return { addr, name, port, bytes };
}

/** Parse `up` flags. Returns the options or an error message. */
export function parseUpArgs(argv: string[]): UpOptions | string {
  let ip: string | null = null;
  let gw: string | null = null;
  let frames: string | null = null;
  let serve = '';
  let pcap: string | null = null;
  let mac: string | null = null;
  let mtu = 1500;
  let loss = 0;
  let lossSeed = LOSS_SEED_DEFAULT;
  let hostName = 'slabnet';
  let dnsArg: string | null = null;
  const send: SendTarget[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [key, val] = splitFlag(argv[i]);
    const need = (): string | null => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) return null;
      i++;
      return argv[i];
    };
    let v: string | null;
    switch (key) {
      case '--ip':
      case '--gw':
      case '--frames':
      case '--serve':
      case '--pcap':
      case '--mac':
      case '--mtu':
      case '--loss':
      case '--loss-seed':
      case '--send':
      case '--hostname':
      case '--dns':
        v = need();
        if (v === null) return 'missing value for ' + key;
        break;
      default:
        return 'unknown argument: ' + argv[i];
    }
    if (key === '--ip') ip = v;
    else if (key === '--gw') gw = v;
    else if (key === '--frames') frames = v;
    else if (key === '--serve') serve = v;
    else if (key === '--hostname') {
      if (!validHostName(v) || v.length > 63) return 'bad --hostname (a host name of at most 63 characters): ' + v;
      hostName = v;
    } else if (key === '--dns') dnsArg = v;
    else if (key === '--pcap') pcap = v;
    else if (key === '--mac') mac = v;
    else if (key === '--mtu') {
      if (!/^[0-9]{2,5}$/.test(v)) return 'bad --mtu: ' + v;
      mtu = parseInt(v, 10);
      if (mtu < 68 || mtu > 1500) return 'bad --mtu (68..1500): ' + v;
    } else if (key === '--loss') {
      if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(v)) return 'bad --loss (want 0 <= P < 1): ' + v;
      loss = parseFloat(v);
      if (!(loss >= 0 && loss < 1)) return 'bad --loss (want 0 <= P < 1): ' + v;
    } else if (key === '--loss-seed') {
      if (!/^[0-9]{1,10}$/.test(v) || parseInt(v, 10) > 4294967295) return 'bad --loss-seed (0..4294967295): ' + v;
      lossSeed = parseInt(v, 10);
    } else if (key === '--send') {
      const items = v.split(',');
      for (let k = 0; k < items.length; k++) {
        const t = parseSendTarget(items[k].trim());
        if (t === null) return 'bad --send (want tcp:ADDR:PORT:BYTES): ' + items[k];
        send.push(t);
      }
    }
  }
  if (frames === null) return 'missing --frames udp:LPORT:RPORT';
  let addr = 0;
  let prefixLen = 0;
  if (ip !== null) {
    const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(ip);
    if (m === null || !validIp(m[1])) return 'bad --ip (want A.B.C.D/N): ' + ip;
    prefixLen = parseInt(m[2], 10);
    if (prefixLen < 1 || prefixLen > 32) return 'bad prefix length in --ip: ' + ip;
    const a = parseIp(m[1]);
    if (a === null || a === 0) return 'bad --ip: ' + ip;
    addr = a;
  } else if (gw !== null || dnsArg !== null) return '--gw and --dns go with --ip (DHCP gives both)';
  const dns: number[] = [];
  if (dnsArg !== null) {
    const items = dnsArg.split(',');
    for (let k = 0; k < items.length; k++) {
      const d = validIp(items[k].trim()) ? parseIp(items[k].trim()) : null;
      if (d === null || d === 0) return 'bad --dns (want A.B.C.D[,...]): ' + dnsArg;
      dns.push(d);
    }
  }
  let gwAddr = 0;
  if (gw !== null) {
    const g = validIp(gw) ? parseIp(gw) : null;
    if (g === null) return 'bad --gw: ' + gw;
    gwAddr = g;
  }
  const f = /^udp:([0-9]+):([0-9]+)$/.exec(frames);
  if (f === null) return 'bad --frames (want udp:LPORT:RPORT): ' + frames;
  const lport = parsePort(f[1]);
  const rport = parsePort(f[2]);
  if (lport < 0 || rport < 0) return 'bad port in --frames: ' + frames;
  const services: string[] = [];
  if (serve.length > 0) {
    const names = serve.split(',');
    for (let i = 0; i < names.length; i++) {
      const n = names[i].trim();
      if (!Object.prototype.hasOwnProperty.call(SERVICE_TABLE, n)) return 'unknown service in --serve: ' + names[i];
      if (services.indexOf(n) < 0) services.push(n);
    }
  }
  let macBytes: Uint8Array;
  if (mac !== null) {
    const mb = parseMac(mac);
    if (mb === null) return 'bad --mac: ' + mac;
    if ((mb[0] & 1) !== 0) return 'bad --mac (multicast): ' + mac;
    macBytes = mb;
  } else {
    // locally administered, derived from the address (with DHCP: from the frame ports): 02:73:6c:xx:xx:xx
    const k = addr !== 0 ? addr : (lport << 8) ^ rport;
    macBytes = new Uint8Array([0x02, 0x73, 0x6c, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff]);
  }
  return { addr, hostName, dns, prefixLen, gw: gwAddr, lport, rport, serve: services, pcap, mac: macBytes, mtu, loss, lossSeed, send };
}

class HostClock implements Clock {
  now(): number {
    return performance.now();
  }
}

/** Frames in/out → pcap file. */
class PcapTap implements FrameTap {
  constructor(
    readonly w: PcapFile,
    readonly clock: Clock,
  ) {}
  onFrame(_dir: number, buf: Uint8Array, off: number, len: number): void {
    // wall-clock timestamps, so the capture lines up with tshark's on the TAP
    this.w.record(performance.timeOrigin + this.clock.now(), buf, off, len);
  }
}

function usage(msg: string): number {
  const names = Object.keys(SERVICE_TABLE).join(', ');
  process.stderr.write('slabnet up: ' + msg + '\n' + USAGE.replace('%SERVICES%', names));
  return 2;
}

export async function runUp(argv: string[]): Promise<number> {
  if (argv.indexOf('--help') >= 0 || argv.indexOf('-h') >= 0) {
    process.stdout.write(USAGE.replace('%SERVICES%', Object.keys(SERVICE_TABLE).join(', ')));
    return 0;
  }
  if (argv.some((a) => a === '--board' || a.startsWith('--board=') || a === '--bundle' || a.startsWith('--bundle='))) {
    const m = await import('./up_board');
    return m.runUpBoard(argv);
  }
  const o = parseUpArgs(argv);
  if (typeof o === 'string') return usage(o);

  const clock = new HostClock();
  const seed = ((Date.now() ^ (process.pid << 16)) >>> 0) | 1;
  const st = new Stack('up', Object.assign({}, UP_CONFIG, { seed, mtu: o.mtu }), clock, undefined);
  const drv = new UdpFramesDriver(st, { lport: o.lport, rport: o.rport, loss: o.loss, lossSeed: o.lossSeed });
  const dev = drv.register('eth0', o.mac, o.mtu);
  if (dev < 0) {
    process.stderr.write('slabnet up: registerNetdev failed: ' + dev + '\n');
    return 1;
  }
  let pcap: PcapFile | null = null;
  if (o.pcap !== null) {
    try {
      pcap = new PcapFile(o.pcap);
    } catch (e) {
      process.stderr.write('slabnet up: cannot open pcap ' + o.pcap + ': ' + String(e) + '\n');
      return 1;
    }
    drv.tap = new PcapTap(pcap, clock);
  }
  try {
    await drv.open();
  } catch (e) {
    process.stderr.write('slabnet up: cannot bind 127.0.0.1:' + o.lport + ': ' + String(e) + '\n');
    if (pcap !== null) pcap.close();
    return 1;
  }

  const rc = o.addr !== 0 ? ipAddrAdd(st, dev, o.addr, o.prefixLen) : 0;
  if (rc < 0) {
    process.stderr.write('slabnet up: ipAddrAdd failed: ' + rc + '\n');
    drv.close();
    return 1;
  }
  if (o.gw !== 0) {
    const g = ipSetDefaultGateway(st, o.gw, dev);
    if (g < 0) {
      process.stderr.write('slabnet up: ipSetDefaultGateway failed: ' + g + '\n');
      drv.close();
      return 1;
    }
  }

  const mux = new ServiceMux(st);
  for (let i = 0; i < o.serve.length; i++) {
    const ss = SERVICE_TABLE[o.serve[i]](st);
    for (let j = 0; j < ss.length; j++) mux.add(ss[j]);
  }
  // --send: each target's service once the interface has its address and the target's name its address
  const senders: (TcpSendService | null)[] = o.send.map(() => null);
  const reported: boolean[] = o.send.map(() => false);
  const startSender = (i: number, addr: number): void => {
    const t = o.send[i];
    const s = new TcpSendService(st, addr, t.port, t.bytes, SEND_DELAY_MS, SEND_IDLE_MS, SEND_CHUNK,
      i === 0 ? 'tcp-send' : 'tcp-send-' + (i + 1));
    senders[i] = s;
    mux.add(s);
    const r = s.start();
    if (r < 0) process.stdout.write('send: error ' + errnoName(-r) + ' to ' + formatIp(addr) + ':' + t.port + ' (start)\n');
  };
  const reportSends = (): void => {
    for (let i = 0; i < senders.length; i++) {
      const s = senders[i];
      if (s === null || reported[i] || !s.finished()) continue;
      reported[i] = true;
      const to = formatIp(s.addr) + ':' + s.port;
      const ms = s.elapsedMs().toFixed(1);
      process.stdout.write(
        s.errno === 0
          ? 'send: done ' + s.bytesSent + ' bytes to ' + to + ' in ' + ms + ' ms\n'
          : 'send: error ' + errnoName(s.errno) + ' to ' + to + ' after ' + ms + ' ms (' + s.bytesSent + ' bytes sent)\n',
      );
    }
  };
  const src = mux.start();
  if (src < 0) {
    process.stderr.write('slabnet up: starting services failed: ' + src + '\n');
    drv.close();
    return 1;
  }
  devOpen(st, dev);

  // DNS: --dns servers, or the lease's (option 6)
  const resolver = new DnsResolver(st, {});
  if (o.dns.length > 0) resolver.setServers(o.dns);
  const sendAll = (): void => {
    for (let i = 0; i < o.send.length; i++) {
      const t = o.send[i];
      if (senders[i] !== null) continue;
      if (t.name === null) {
        startSender(i, t.addr);
        continue;
      }
      const name = t.name;
      const k = i;
      const h = resolver.resolve(name, (err: number, a: number, ttl: number) => {
        if (err !== 0) {
          process.stdout.write('dns: ' + name + ' error ' + err + '\n');
          process.stdout.write('send: error EHOSTUNREACH to ' + name + ':' + t.port + ' (not resolved)\n');
          reported[k] = true;
          return;
        }
        process.stdout.write('dns: ' + name + ' ' + formatIp(a) + ' ttl=' + ttl + '\n');
        startSender(k, a);
      });
      if (h < 0) {
        process.stdout.write('dns: ' + name + ' error ' + h + '\n');
        reported[k] = true;
      }
    }
  };
  const sendSuffix = (): string =>
    o.send.length > 0
      ? ' send=' + o.send.map((t) => 'tcp:' + (t.name !== null ? t.name : formatIp(t.addr)) + ':' + t.port + ':' + t.bytes).join(',')
      : '';
  const readyLine = (addr: number, prefixLen: number, gw: number, extra: string): string =>
    'slabnet up: ready ip=' + formatIp(addr) + '/' + prefixLen +
    ' gw=' + (gw !== 0 ? formatIp(gw) : '-') +
    ' mac=' + formatMac(st.link.devs[dev].mac, 0) +
    ' mtu=' + o.mtu +
    ' frames=udp:127.0.0.1:' + o.lport + '->127.0.0.1:' + o.rport +
    ' serve=' + (o.serve.length > 0 ? o.serve.join(',') : '-') +
    (o.pcap !== null ? ' pcap=' + o.pcap : '') +
    (o.loss > 0 ? ' loss=' + o.loss + ' seed=' + o.lossSeed : '') +
    sendSuffix() + extra + '\n';

  // DHCP when there is no --ip: ready once bound
  let dhcp: DhcpClient | null = null;
  let announced = false;
  if (o.addr === 0) {
    const c = new DhcpClient(st);
    dhcp = c;
    c.handler = {
      onDhcpEvent(kind: number, _dev: number, addr: number): void {
        const dnsList: number[] = [];
        for (let i = 0; i < c.dnsCount; i++) dnsList.push(c.dns[i]);
        if (kind === DHCP_EV_BOUND) {
          if (o.dns.length === 0 && dnsList.length > 0) resolver.setServers(dnsList);
          const extra = ' dhcp=' + formatIp(c.serverId) + ' lease=' + c.leaseSec + 's dns=' + (dnsList.length > 0 ? dnsList.map(formatIp).join(',') : '-');
          if (!announced) {
            announced = true;
            process.stdout.write(readyLine(addr, c.prefixLen, c.router, extra));
            sendAll();
          } else process.stdout.write('dhcp: bound ip=' + formatIp(addr) + '/' + c.prefixLen + extra + '\n');
        } else if (kind === DHCP_EV_RENEWED) {
          if (o.dns.length === 0 && dnsList.length > 0) resolver.setServers(dnsList);
          process.stdout.write('dhcp: renewed ip=' + formatIp(addr) + '/' + c.prefixLen + ' lease=' + c.leaseSec + 's\n');
        } else if (kind === DHCP_EV_LOST) process.stdout.write('dhcp: lost ip=' + formatIp(addr) + '\n');
      },
    };
    const r = c.start(dev, { hostName: o.hostName, dnsToResolver: o.dns.length === 0 });
    if (r < 0) {
      process.stderr.write('slabnet up: DHCP start failed: ' + r + '\n');
      drv.close();
      return 1;
    }
  }

  // SIGTERM, SIGINT, SIGHUP, or the parent (npx, a shell) gone: src/cli/lifeline.ts
  const stopSignal = whenToStop();

  /* ---- the loop (src/cli/poll_loop.ts) ---- */
  let lastFlush = clock.now();
  const loop = startPollLoop({
    poll: () => {
      st.poll();
    },
    nextExpiry: () => st.timers.nextExpiry(),
    now: () => clock.now(),
    work: () => {
      if (dhcp !== null) dhcp.run();
      return mux.run();
    },
    after: () => {
      if (o.send.length > 0) reportSends();
      if (pcap !== null && clock.now() - lastFlush >= 1000) {
        lastFlush = clock.now();
        pcap.flush();
      }
    },
  });
  drv.onRx = loop.schedule;

  if (o.addr !== 0) {
    process.stdout.write(readyLine(o.addr, o.prefixLen, o.gw, o.dns.length > 0 ? ' dns=' + o.dns.map(formatIp).join(',') : ''));
    sendAll();
  }

  const sig = await stopSignal;
  loop.stop();
  // last drain of anything already received, then shut down
  st.poll();
  mux.run();
  // a lease is given back (DHCPRELEASE, RFC 2131 §4.4.6) before the interface goes down
  const dhcpReport = dhcp !== null ? Object.assign({ State: dhcp.stateName(), Addr: formatIp(dhcp.addr) }, dhcp.stats()) : null;
  if (dhcp !== null) dhcp.stop(true);
  resolver.cancelAll();
  st.poll();
  // let the socket write what was just sent (the DHCPRELEASE) before it closes
  if (dhcp !== null) await new Promise<void>((resolve) => setTimeout(resolve, 100));
  mux.stop();
  devClose(st, dev);
  st.poll();
  drv.close();
  if (pcap !== null) pcap.close();

  const d = st.link.devs[dev];
  const p = st.pool;
  const report: { [k: string]: unknown } = st.mib.toObject();
  report.Dev = d.stats.toObject();
  report.Pool = {
    InUse: p.inUse(),
    InUseSmall: p.inUseSmall,
    InUseLarge: p.inUseLarge,
    HighSmall: p.highSmall,
    HighLarge: p.highLarge,
    Allocs: p.allocs,
    Frees: p.frees,
    AllocFails: p.allocFails,
    BadFrees: p.badFrees,
  };
  report.Driver = drv.stats();
  const svc: { [k: string]: unknown } = {};
  for (let i = 0; i < mux.services.length; i++) svc[mux.services[i].name] = mux.services[i].stats();
  report.Services = svc;
  if (dhcpReport !== null) report.Dhcp = dhcpReport;
  report.Dns = resolver.stats();
  report.Signal = sig;
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(report) + '\n', () => resolve()));
  return 0;
}
