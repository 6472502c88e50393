/*
 * up_board.ts — `slabnet up --board ID [the flags of slabnet up]`: the
 * board's own Espruino bundle (dist/espruino/<ID>.min.js, `npm run
 * build`; or FILE, a bundle of that board built elsewhere), with its
 * compile-time features and its default configuration, run under Node on
 * a real network (Node only).
 *
 * The same bundle a board loads, proven against Linux: src/host/bundle.ts
 * loads it (Node supplies the Espruino built-ins it calls: E.sum,
 * E.toString, E.toUint8Array, getTime); the stack is the bundle's
 * createBoardStack(null, { seed, mtu }, clock) — the board's config, with
 * a per-process PRNG seed (as plain `slabnet up`) and --mtu (default 1500,
 * the config's default); the host frame driver (drivers/host/udpframes.ts)
 * sits under it through the bundle's own device calls (registerNetdev,
 * rxFrame, devTxComplete, getDev); addresses through its ifconfig; ping
 * is answered by the bundle's ICMP. Services are written over the
 * bundle's public socket API (src/host/bundle_services.ts), or are the
 * bundle's own UdpEchoService/UdpDiscardService when compiled in:
 *   echo     UDP port 7, plus TCP port 7 when the bundle has TCP
 *   discard  UDP port 9, plus TCP port 9 when the bundle has TCP
 *   http     port 80 (needs TCP): GET /bytes/N, PUT|POST /upload, GET /
 * DHCP (no --ip) and DNS (--dns, --send by name) use the bundle's
 * DhcpClient and DnsResolver.
 *
 * Output contracts are plain `slabnet up`'s (src/cli/up.ts): the `ready`
 * line, now ending with ` board=ID`; `send:`, `dns:`, `dhcp:` lines; on
 * SIGTERM/SIGINT the counters as one line of JSON, exit 0 — with the
 * source's counter names even when the bundle was built without them
 * (mibNames: false: its "c0", "c1", ... are renamed by index, see
 * src/host/bundle.ts namedCounters) and a `Board` object (id, bundle file,
 * bytes, whether the counter names came from the bundle or the source).
 *
 * A compact bundle (the small boards' src/compact/ stack: the bundle of a
 * board with a `compact` part, told by its export compactStack) is run by
 * src/cli/up_compact.ts instead: the same frame driver, loop, ready line
 * and services, written over its exports (src/host/compact_services.ts);
 * its JSON has Net (netStats) in place of the MIB blocks.
 *
 * Exit 2 (with a message): bad flags; an unknown board; a board without a
 * bundle (the host board) or whose bundle is not built (run `npm run
 * build`); a flag that needs what the bundle has compiled out (--serve
 * http or --send without TCP, no --ip without DHCP, --dns or a --send host
 * name without DNS, more TCP listeners than the board's TCBs leave room
 * for). A bundle older than its sources only gets a note on stderr.
 */
import { whenToStop } from './lifeline';
import { startPollLoop } from './poll_loop';
import { relative, resolve, sep } from 'node:path';
import type { Stack } from '../stack';
import type { Clock } from '../core/clock';
import { findBoard, BOARDS } from '../../boards/index';
import { parseUpArgs, UpOptions } from './up';
import { UdpFramesDriver, FrameTap } from '../../drivers/host/udpframes';
import { ServiceMux, NetService } from '../apps/service';
import { PcapFile } from '../host/pcapfile';
import { errnoName } from '../core/errno';
import { formatIp } from '../link/ifaddr';
import { DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST } from '../apps/dhcp_client';
import type { DhcpClient } from '../apps/dhcp_client';
import type { DnsResolver } from '../apps/dns_resolver';
import {
  BundleApi, CompactApi, PROJECT_ROOT, bundleFile, bundleState, loadBundle, bundleFeatures, namedCounters, namedBlock, hasCounterNames,
  isCompactBundle,
} from '../host/bundle';
import { runUpCompact } from './up_compact';
import { BundleUdpService, BundleTcpEcho, BundleTcpDiscard, BundleHttp, BundleTcpSend } from '../host/bundle_services';

const UDP_MAX_PAYLOAD = 65507;
const ECHO_PORT = 7;
const DISCARD_PORT = 9;
const HTTP_PORT = 80;
const TCP_IDLE_MS = 60000;
const SEND_DELAY_MS = 100;
const SEND_IDLE_MS = 30000;
/** the services of SERVICE_TABLE (src/cli/up.ts) written over a bundle's API */
const BOARD_SERVICES = ['echo', 'discard', 'http'];

/** Boards that have a bundle (a saved-code flash area). */
function bundleBoards(): string[] {
  return BOARDS.filter((b) => b.codeFlashBytes > 0).map((b) => b.id);
}

export const BOARD_USAGE =
  'usage: slabnet up --board ID [--bundle FILE] [the flags of slabnet up]\n' +
  '  runs the board\'s Espruino bundle, dist/espruino/ID.min.js (npm run build) or FILE, under\n' +
  '  Node with its compile-time features and default configuration; services over its socket\n' +
  '  API (echo: UDP, and TCP when the bundle has TCP; discard likewise; http needs TCP).\n' +
  '  The ready line ends with board=ID.\n' +
  '  boards: %BOARDS%\n';

/** `--board ID [--bundle FILE]` and the other flags. */
export interface BoardArgs {
  id: string;
  /** --bundle FILE, or null: dist/espruino/<id>.min.js */
  bundle: string | null;
  /** the flags of `slabnet up` */
  rest: string[];
}

/**
 * Split `--board ID` / `--board=ID` and `--bundle FILE` from the other
 * flags (every flag of `slabnet up` takes a value, so a value is never
 * taken for a flag). Returns them, or an error message.
 */
export function splitBoardArgs(argv: string[]): BoardArgs | string {
  let id: string | null = null;
  let bundle: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.substring(0, eq) : a;
    if (key !== '--board' && key !== '--bundle') {
      rest.push(a);
      if (a.startsWith('--') && eq < 0 && i + 1 < argv.length) rest.push(argv[++i]);
      continue;
    }
    let v: string;
    if (eq > 0 && a.startsWith('--')) v = a.substring(eq + 1);
    else {
      if (i + 1 >= argv.length) return 'missing value for ' + key;
      v = argv[++i];
    }
    if (key === '--bundle') {
      if (bundle !== null) return '--bundle given twice';
      if (v.length === 0) return 'missing value for --bundle';
      bundle = v;
      continue;
    }
    if (id !== null) return '--board given twice';
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(v)) return 'bad --board (a board id, e.g. ' + bundleBoards()[0] + '): ' + v;
    id = v;
  }
  if (id === null) return 'missing --board (--bundle goes with it)';
  return { id, bundle, rest };
}

/** What the flags ask of the bundle that it lacks: an error message, or null. */
export function featureProblem(id: string, o: UpOptions, f: { tcp: boolean; dhcp: boolean; dns: boolean }): string | null {
  const out = (what: string): string => ', which the ' + id + ' bundle has compiled out (boards/' + id + '.ts features.' + what + ')';
  if (!f.tcp && o.serve.indexOf('http') >= 0) return '--serve http needs TCP' + out('tcp');
  if (!f.tcp && o.send.length > 0) return '--send needs TCP' + out('tcp');
  if (!f.dhcp && o.addr === 0) return 'without --ip the address comes from DHCP' + out('dhcp') + ': give --ip A.B.C.D/N';
  if (!f.dns && o.dns.length > 0) return '--dns needs the DNS resolver' + out('dns');
  if (!f.dns && o.send.some((t) => t.name !== null)) return '--send to a host name needs the DNS resolver' + out('dns');
  return null;
}

export function fail(msg: string, code: number): number {
  process.stderr.write('slabnet up: ' + msg + '\n');
  return code;
}

function usage(msg: string): number {
  process.stderr.write('slabnet up: ' + msg + '\n' + BOARD_USAGE.replace('%BOARDS%', bundleBoards().join(', ')));
  return 2;
}

export class HostClock implements Clock {
  now(): number {
    return performance.now();
  }
}

export class PcapTap implements FrameTap {
  constructor(readonly w: PcapFile, readonly clock: Clock) {}
  onFrame(_dir: number, buf: Uint8Array, off: number, len: number): void {
    this.w.record(performance.timeOrigin + this.clock.now(), buf, off, len);
  }
}

/** The `ready` line of `slabnet up --board` (plain `slabnet up`'s, ending with ` board=ID`). */
export function boardReadyLine(o: UpOptions, id: string, mac: string, addr: number, prefixLen: number, gw: number, extra: string): string {
  return 'slabnet up: ready ip=' + formatIp(addr) + '/' + prefixLen +
    ' gw=' + (gw !== 0 ? formatIp(gw) : '-') +
    ' mac=' + mac +
    ' mtu=' + o.mtu +
    ' frames=udp:127.0.0.1:' + o.lport + '->127.0.0.1:' + o.rport +
    ' serve=' + (o.serve.length > 0 ? o.serve.join(',') : '-') +
    (o.pcap !== null ? ' pcap=' + o.pcap : '') +
    (o.loss > 0 ? ' loss=' + o.loss + ' seed=' + o.lossSeed : '') +
    (o.send.length > 0 ? ' send=' + o.send.map((t) => 'tcp:' + (t.name !== null ? t.name : formatIp(t.addr)) + ':' + t.port + ':' + t.bytes).join(',') : '') +
    extra + ' board=' + id + '\n';
}

/** `slabnet up --board ID ...` (argv: all of up's arguments, --board among them). */
export async function runUpBoard(argv: string[]): Promise<number> {
  const sp = splitBoardArgs(argv);
  if (typeof sp === 'string') return usage(sp);
  const id = sp.id;
  const board = findBoard(id);
  if (board === null) return usage('unknown board ' + id + ' (boards with a bundle: ' + bundleBoards().join(', ') + ')');
  if (!(board.codeFlashBytes > 0)) {
    return usage('board ' + id + ' has no Espruino bundle (boards with one: ' + bundleBoards().join(', ') + '); run it without --board');
  }
  const o = parseUpArgs(sp.rest);
  if (typeof o === 'string') return usage(o);
  const file = sp.bundle !== null ? resolve(sp.bundle) : bundleFile(id);
  const rel = file.startsWith(PROJECT_ROOT + sep) ? relative(PROJECT_ROOT, file) : file;
  const bs = bundleState(file);
  if (bs === null) {
    if (sp.bundle !== null) return fail('--bundle ' + sp.bundle + ': no such file', 2);
    return fail('no bundle for board ' + id + ': ' + rel + ' is missing; run `npm run build` (or `node scripts/build-espruino.js --board ' + id + ' --no-budget`)', 2);
  }
  if (bs.newerSource !== null) {
    process.stderr.write('slabnet up: note: ' + rel + ' is older than ' + bs.newerSource + ': run `npm run build` to test the current sources\n');
  }
  let api: BundleApi;
  try {
    api = loadBundle(file);
  } catch (e) {
    return fail('cannot load ' + rel + ': ' + String(e), 1);
  }
  for (const n of o.serve) if (BOARD_SERVICES.indexOf(n) < 0) return fail('--serve ' + n + ' is not available with --board (' + BOARD_SERVICES.join(', ') + ')', 2);
  if (isCompactBundle(api)) {
    // the small boards' compact stack (src/compact/): its own runner
    if (api.BOARD === undefined || api.BOARD.id !== id) {
      return fail(rel + ' is not the bundle of board ' + id + ' (its BOARD.id: ' + (api.BOARD !== undefined ? api.BOARD.id : '-') + ')', 2);
    }
    return runUpCompact(api as unknown as CompactApi, board, o, rel, bs.bytes);
  }
  if (api.BOARD === undefined || api.BOARD.id !== id || typeof api.createBoardStack !== 'function') {
    return fail(rel + ' is not the bundle of board ' + id + ' (its BOARD.id: ' + (api.BOARD !== undefined ? api.BOARD.id : '-') + ')', 2);
  }
  const feat = bundleFeatures(api);
  const fp = featureProblem(id, o, feat);
  if (fp !== null) return fail(fp, 2);

  const clock = new HostClock();
  const seed = ((Date.now() ^ (process.pid << 16)) >>> 0) | 1;
  const st = api.createBoardStack(null, { seed, mtu: o.mtu }, clock);
  if (st === null) return fail('createBoardStack(null, ...) of ' + rel + ' gave null', 1);

  // TCP: each listener holds a TCB; at least one must be left for a connection, one per --send
  const listeners = feat.tcp ? o.serve.length : 0;
  const tcbs = st.cfg.tcpMaxSockets;
  if (feat.tcp && listeners + Math.max(1, o.send.length) > tcbs) {
    return fail(
      '--serve ' + o.serve.join(',') + (o.send.length > 0 ? ' and ' + o.send.length + ' --send' : '') + ' need ' + listeners +
        ' TCP listeners + ' + Math.max(1, o.send.length) + ' connection(s), but board ' + id + ' has tcpMaxSockets ' + tcbs + ': serve fewer',
      2,
    );
  }
  const conns = Math.max(1, tcbs - listeners);

  const drv = new UdpFramesDriver(st, { lport: o.lport, rport: o.rport, loss: o.loss, lossSeed: o.lossSeed }, api);
  const dev = drv.register('eth0', o.mac, o.mtu);
  if (dev < 0) return fail('registerNetdev failed: ' + dev + ' (mtu ' + o.mtu + ' vs the board\'s skbs?)', 1);
  let pcap: PcapFile | null = null;
  if (o.pcap !== null) {
    try {
      pcap = new PcapFile(o.pcap);
    } catch (e) {
      return fail('cannot open pcap ' + o.pcap + ': ' + String(e), 1);
    }
    drv.tap = new PcapTap(pcap, clock);
  }
  try {
    await drv.open();
  } catch (e) {
    if (pcap !== null) pcap.close();
    return fail('cannot bind 127.0.0.1:' + o.lport + ': ' + String(e), 1);
  }
  if (o.addr !== 0) {
    const rc = api.ifconfig(st, dev, api.formatIp(o.addr) + '/' + o.prefixLen, o.gw !== 0 ? api.formatIp(o.gw) : null);
    if (rc < 0) {
      drv.close();
      return fail('ifconfig failed: ' + rc, 1);
    }
  }

  // services
  const mux = new ServiceMux(st);
  const sndBuf = st.cfg.tcpSndBuf;
  for (const n of o.serve) {
    const ss: NetService[] = [];
    if (n === 'echo') {
      ss.push(api.UdpEchoService !== undefined ? new api.UdpEchoService(st, ECHO_PORT, UDP_MAX_PAYLOAD) : new BundleUdpService(api, st, ECHO_PORT, UDP_MAX_PAYLOAD, true));
      if (feat.tcp) ss.push(new BundleTcpEcho(api, st, ECHO_PORT, conns, 8192, TCP_IDLE_MS));
    } else if (n === 'discard') {
      ss.push(api.UdpDiscardService !== undefined ? new api.UdpDiscardService(st, DISCARD_PORT, 2048) : new BundleUdpService(api, st, DISCARD_PORT, 2048, false));
      if (feat.tcp) ss.push(new BundleTcpDiscard(api, st, DISCARD_PORT, conns, 16384, TCP_IDLE_MS));
    } else if (n === 'http') {
      ss.push(new BundleHttp(api, st, HTTP_PORT, { maxConns: conns, hdrMax: 4096, idleMs: TCP_IDLE_MS, lingerMs: 2000, chunk: Math.max(1024, Math.min(16384, sndBuf)) }));
    }
    for (const s of ss) mux.add(s);
  }
  const senders: (BundleTcpSend | null)[] = o.send.map(() => null);
  const reported: boolean[] = o.send.map(() => false);
  const startSender = (i: number, addr: number): void => {
    const t = o.send[i];
    const s = new BundleTcpSend(api, st, addr, t.port, t.bytes, SEND_DELAY_MS, SEND_IDLE_MS, 16384, i === 0 ? 'tcp-send' : 'tcp-send-' + (i + 1));
    senders[i] = s;
    mux.add(s);
    s.start();
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
    drv.close();
    return fail('starting services failed: ' + src, 1);
  }
  api.devOpen(st, dev);

  let resolver: DnsResolver | null = null;
  if (api.DnsResolver !== undefined) {
    resolver = new api.DnsResolver(st, {});
    if (o.dns.length > 0) resolver.setServers(o.dns);
  }
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
      const h = resolver === null ? -1 : resolver.resolve(name, (err: number, a: number, ttl: number) => {
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
  const macText = (): string => {
    const d = api.getDev(st, dev);
    return d !== null ? api.formatMac(d.mac, 0) : '-';
  };
  const readyLine = (addr: number, prefixLen: number, gw: number, extra: string): string =>
    boardReadyLine(o, id, macText(), addr, prefixLen, gw, extra);

  let dhcp: DhcpClient | null = null;
  let announced = false;
  if (o.addr === 0 && api.DhcpClient !== undefined) {
    const c = new api.DhcpClient(st);
    dhcp = c;
    c.handler = {
      onDhcpEvent(kind: number, _dev: number, addr: number): void {
        const dnsList: number[] = [];
        for (let i = 0; i < c.dnsCount; i++) dnsList.push(c.dns[i]);
        if (kind === DHCP_EV_BOUND) {
          if (o.dns.length === 0 && dnsList.length > 0 && resolver !== null) resolver.setServers(dnsList);
          const extra = ' dhcp=' + formatIp(c.serverId) + ' lease=' + c.leaseSec + 's dns=' + (dnsList.length > 0 ? dnsList.map(formatIp).join(',') : '-');
          if (!announced) {
            announced = true;
            process.stdout.write(readyLine(addr, c.prefixLen, c.router, extra));
            sendAll();
          } else process.stdout.write('dhcp: bound ip=' + formatIp(addr) + '/' + c.prefixLen + extra + '\n');
        } else if (kind === DHCP_EV_RENEWED) {
          if (o.dns.length === 0 && dnsList.length > 0 && resolver !== null) resolver.setServers(dnsList);
          process.stdout.write('dhcp: renewed ip=' + formatIp(addr) + '/' + c.prefixLen + ' lease=' + c.leaseSec + 's\n');
        } else if (kind === DHCP_EV_LOST) process.stdout.write('dhcp: lost ip=' + formatIp(addr) + '\n');
      },
    };
    const r = c.start(dev, { hostName: o.hostName, dnsToResolver: o.dns.length === 0 });
    if (r < 0) {
      drv.close();
      return fail('DHCP start failed: ' + r, 1);
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
  st.poll();
  mux.run();
  const dhcpReport = dhcp !== null ? Object.assign({ State: dhcp.stateName(), Addr: formatIp(dhcp.addr) }, dhcp.stats()) : null;
  if (dhcp !== null) dhcp.stop(true);
  if (resolver !== null) resolver.cancelAll();
  st.poll();
  if (dhcp !== null) await new Promise<void>((resolve) => setTimeout(resolve, 100));
  mux.stop();
  api.devClose(st, dev);
  st.poll();
  drv.close();
  if (pcap !== null) pcap.close();

  const r = report(st, api, dev, drv, mux, dhcpReport, resolver, id, rel, bs.bytes, sig);
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(r) + '\n', () => resolve()));
  return 0;
}

/** The counters JSON (the same keys as src/cli/up.ts, plus Board). */
function report(
  st: Stack, api: BundleApi, dev: number, drv: UdpFramesDriver, mux: ServiceMux,
  dhcpReport: { [k: string]: unknown } | null, resolver: DnsResolver | null, id: string, rel: string, bytes: number, sig: string,
): { [k: string]: unknown } {
  const raw = st.mib.toObject();
  const r: { [k: string]: unknown } = namedCounters(raw);
  const d = api.getDev(st, dev);
  if (d !== null) r.Dev = namedBlock('Dev', d.stats.toObject());
  const p = st.pool;
  r.Pool = {
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
  r.Driver = drv.stats();
  const svc: { [k: string]: unknown } = {};
  for (let i = 0; i < mux.services.length; i++) svc[mux.services[i].name] = mux.services[i].stats();
  r.Services = svc;
  if (dhcpReport !== null) r.Dhcp = dhcpReport;
  if (resolver !== null) r.Dns = resolver.stats();
  r.Board = { id, bundle: rel, bytes, counterNames: hasCounterNames(raw) ? 'bundle' : 'source' };
  r.Signal = sig;
  return r;
}
