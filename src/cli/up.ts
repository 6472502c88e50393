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
 * Clock: performance.now(). Loop: a poll right after each received
 * datagram (setImmediate, coalesced) and a timer armed for the stack's
 * next timer expiry (capped), each followed by the services' run().
 * Prints one line containing `ready` when the interface is up. On SIGTERM
 * or SIGINT prints the counters as one line of JSON and exits 0.
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
 * ready line then ends with ` send=tcp:ADDR:PORT:BYTES[,...]`.
 */
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
import { HttpService, HTTP_PORT, defaultHttpOptions } from '../apps/http';
import type { StackConfig } from '../config';
import { PcapFile } from '../host/pcapfile';
import { TcpSendService } from '../apps/tcp_send';
import { errnoName } from '../core/errno';

const USAGE =
  'usage: slabnet up --ip A.B.C.D/N [--gw A.B.C.D] --frames udp:LPORT:RPORT\n' +
  '                  [--serve SVC[,SVC...]] [--pcap FILE] [--mac aa:bb:cc:dd:ee:ff] [--mtu N]\n' +
  '                  [--loss P [--loss-seed N]] [--send tcp:ADDR:PORT:BYTES[,...]]...\n' +
  '  Ethernet frames travel one per UDP datagram: received on 127.0.0.1:LPORT,\n' +
  '  sent to 127.0.0.1:RPORT (socat TUN / QEMU -netdev dgram framing).\n' +
  '  services: ' +
  '%SERVICES%' +
  '\n' +
  '  --loss P: lose each frame with probability P (0 <= P < 1) in both directions\n' +
  '  (seeded PRNG, --loss-seed N, default ' + LOSS_SEED_DEFAULT + '; counted as Driver.lostRx/lostTx).\n' +
  '  --send tcp:ADDR:PORT:BYTES: connect to ADDR:PORT, send BYTES bytes of the /bytes/N pattern,\n' +
  '  half-close, read until EOF; prints `send: done ...` or `send: error ...` (repeatable).\n' +
  '  SIGTERM/SIGINT: print the counters as one line of JSON and exit 0.\n';

/** concurrent connections per TCP service; idle connections closed after TCP_IDLE_MS */
const TCP_SERVICE_CONNS = 16;
const TCP_IDLE_MS = 60000;
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
  /** destination address (s32) */
  addr: number;
  port: number;
  bytes: number;
}

/** A service name → the services it starts (UDP and TCP on the same port for echo and discard). */
export type ServiceFactory = (st: Stack) => NetService[];
export const SERVICE_TABLE: { [name: string]: ServiceFactory } = {
  echo: (st) => [
    new UdpEchoService(st, ECHO_PORT, UDP_MAX_PAYLOAD),
    new TcpEchoService(st, TCP_ECHO_PORT, TCP_SERVICE_CONNS, 8192, TCP_IDLE_MS),
  ],
  discard: (st) => [
    new UdpDiscardService(st, DISCARD_PORT, 2048),
    new TcpDiscardService(st, TCP_DISCARD_PORT, TCP_SERVICE_CONNS, 16384, TCP_IDLE_MS),
  ],
  http: (st) => {
    const o = defaultHttpOptions();
    o.maxConns = TCP_SERVICE_CONNS + 4;
    o.idleMs = TCP_IDLE_MS;
    o.scratch = 65536;
    return [new HttpService(st, HTTP_PORT, o)];
  },
};

/**
 * The host's stack pools for `slabnet up`: room for every TCP service's
 * connections (16 each for echo and discard, 20 for http, plus listeners,
 * closing orphans and TIME_WAIT), an fd for each, 3 timers per TCB, and
 * 64 KB socket buffers (window scaling) so one connection can fill a fast link.
 */
export const UP_CONFIG: Partial<StackConfig> = {
  maxSockets: 80,
  tcpMaxSockets: 80,
  tcpAcceptQueue: 16,
  tcpSynQueue: 32,
  tcpTimeWaitSlots: 64,
  tcpSndBuf: 65536,
  tcpRcvBuf: 65536,
  timerMax: 512,
  skbSmallCount: 256,
  txQueueLen: 128,
  rxRingSize: 128,
  napiBudget: 64,
};

export interface UpOptions {
  addr: number;
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

/** One --send item `tcp:ADDR:PORT:BYTES`: the target or null when malformed. */
export function parseSendTarget(s: string): SendTarget | null {
  const m = /^tcp:([0-9.]+):([0-9]{1,5}):([0-9]{1,15})$/.exec(s);
  if (m === null || !validIp(m[1])) return null;
  const addr = parseIp(m[1]);
  if (addr === null || addr === 0 || addr === -1 || ((addr >>> 28) & 0xf) >= 0xe) return null; // unicast only
  const port = parsePort(m[2]);
  if (port < 0) return null;
  const bytes = parseInt(m[3], 10);
  if (!(bytes >= 0 && bytes <= SEND_MAX_BYTES)) return null;
  return { addr, port, bytes };
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
  const send: SendTarget[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let key = a;
    let val: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      key = a.slice(0, eq);
      val = a.slice(eq + 1);
    }
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
        v = need();
        if (v === null) return 'missing value for ' + key;
        break;
      default:
        return 'unknown argument: ' + a;
    }
    if (key === '--ip') ip = v;
    else if (key === '--gw') gw = v;
    else if (key === '--frames') frames = v;
    else if (key === '--serve') serve = v;
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
  if (ip === null) return 'missing --ip A.B.C.D/N';
  if (frames === null) return 'missing --frames udp:LPORT:RPORT';
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(ip);
  if (m === null || !validIp(m[1])) return 'bad --ip (want A.B.C.D/N): ' + ip;
  const prefixLen = parseInt(m[2], 10);
  if (prefixLen < 1 || prefixLen > 32) return 'bad prefix length in --ip: ' + ip;
  const addr = parseIp(m[1]);
  if (addr === null || addr === 0) return 'bad --ip: ' + ip;
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
    // locally administered, derived from the address: 02:73:6c:xx:xx:xx
    macBytes = new Uint8Array([0x02, 0x73, 0x6c, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]);
  }
  return { addr, prefixLen, gw: gwAddr, lport, rport, serve: services, pcap, mac: macBytes, mtu, loss, lossSeed, send };
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

  const rc = ipAddrAdd(st, dev, o.addr, o.prefixLen);
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
  const senders: TcpSendService[] = [];
  for (let i = 0; i < o.send.length; i++) {
    const t = o.send[i];
    const s = new TcpSendService(st, t.addr, t.port, t.bytes, SEND_DELAY_MS, SEND_IDLE_MS, SEND_CHUNK,
      i === 0 ? 'tcp-send' : 'tcp-send-' + (i + 1));
    senders.push(s);
    mux.add(s);
  }
  const reported: boolean[] = senders.map(() => false);
  const reportSends = (): void => {
    for (let i = 0; i < senders.length; i++) {
      const s = senders[i];
      if (reported[i] || !s.finished()) continue;
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

  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });

  /* ---- the loop ---- */
  let immediate: NodeJS.Immediate | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopping = false;
  let lastFlush = clock.now();
  const MAX_SLEEP_MS = 50;
  const tick = (): void => {
    immediate = null;
    if (stopping) return;
    st.poll();
    if (mux.run() > 0) {
      // replies went out; run again soon in case a budget was used up
      st.poll();
      schedule();
    }
    if (senders.length > 0) reportSends();
    if (pcap !== null && clock.now() - lastFlush >= 1000) {
      lastFlush = clock.now();
      pcap.flush();
    }
    armTimer();
  };
  const armTimer = (): void => {
    if (timer !== null) clearTimeout(timer);
    const next = st.timers.nextExpiry();
    let wait = MAX_SLEEP_MS;
    if (next >= 0) wait = Math.max(1, Math.min(MAX_SLEEP_MS, Math.ceil(next - clock.now())));
    timer = setTimeout(tick, wait);
  };
  const schedule = (): void => {
    if (immediate === null && !stopping) immediate = setImmediate(tick);
  };
  drv.onRx = schedule;
  tick();

  process.stdout.write(
    'slabnet up: ready ip=' + formatIp(o.addr) + '/' + o.prefixLen +
      ' gw=' + (o.gw !== 0 ? formatIp(o.gw) : '-') +
      ' mac=' + formatMac(st.link.devs[dev].mac, 0) +
      ' mtu=' + o.mtu +
      ' frames=udp:127.0.0.1:' + o.lport + '->127.0.0.1:' + o.rport +
      ' serve=' + (o.serve.length > 0 ? o.serve.join(',') : '-') +
      (o.pcap !== null ? ' pcap=' + o.pcap : '') +
      (o.loss > 0 ? ' loss=' + o.loss + ' seed=' + o.lossSeed : '') +
      (o.send.length > 0
        ? ' send=' + o.send.map((t) => 'tcp:' + formatIp(t.addr) + ':' + t.port + ':' + t.bytes).join(',')
        : '') +
      '\n',
  );

  const sig = await stopSignal;
  stopping = true;
  if (immediate !== null) clearImmediate(immediate);
  if (timer !== null) clearTimeout(timer);
  // last drain of anything already received, then shut down
  st.poll();
  mux.run();
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
  report.Signal = sig;
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(report) + '\n', () => resolve()));
  return 0;
}
