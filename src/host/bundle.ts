/*
 * bundle.ts — a board's Espruino bundle (`npm run build` →
 * dist/espruino/<board id>.min.js) loaded into Node, so the very code a
 * board runs (its compile-time features, minified, properties renamed)
 * can be driven on the PC: `slabnet up --board ID` (src/cli/up_board.ts)
 * puts the host frame driver under it and the Linux kernel on the wire.
 *
 * Not on the packet path; Node only (excluded from the bundles).
 *
 * Loading: the bundle is CommonJS (`exports.x = ...`). It runs in this
 * realm (typed arrays are shared with the host side: no cross-realm
 * copies) inside `new Function`, wrapped twice so that the Espruino
 * built-ins it calls are in scope as parameters of an outer function and
 * a top-level declaration of the bundle with the same name (terser may
 * pick any free name) only shadows them:
 *   (function (E, getTime) { return function (exports, module) { BUNDLE }; })
 * The built-ins Node supplies (espruinoGlobals), for the calls a bundle
 * built with RUNTIME_ESPRUINO (src/features.ts) and the NetworkJS adapter
 * make, as Espruino 2v29 answers them (the same as test/unit/espruino_e.ts):
 * E.sum (the sum of the elements: RFC 1071 sums over a Uint16Array view),
 * E.convolve(a1, a2, offset) (sum of a1[i] * a2[(i + offset) % a2.length]:
 * the ping reply check), E.toString (bytes → binary string),
 * E.toUint8Array (binary string → bytes), E.hwRand() (32 random bits, signed:
 * the compact bundles seed their PRNG with it, so each process differs),
 * getTime() (seconds, a float, from performance.now()). The board
 * drivers' SPI/pin calls (digitalWrite, SPI, setWatch) are not supplied:
 * the host frame driver replaces the chip driver.
 *
 * What the host side may touch: the bundle's exports (rollup.config.js
 * boardEntrySource) and the public members of the objects they return
 * (the names scripts/mangle-reserved.js keeps): Stack fields (cfg, pool,
 * timers, mib, icmp, events, poll, now), SkbPool fields, NetDevice,
 * MibBlock, the apps' classes. Everything else inside is renamed.
 * BundleApi types those exports with the source's signatures: the
 * bundle's Stack has the source Stack's public shape (use nothing else).
 *
 * Counter names: a bundle built with mibNames: false reports its counters
 * as "c0", "c1", ... (MibBlock.nameOf); they sit at the same indexes as in
 * the source (src/core/mib.ts, test/unit/mib.test.ts), so namedCounters()
 * gives them the source's names again when a block has exactly as many
 * counters as the source's list.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Stack } from '../stack';
import type { StackConfig } from '../config';
import type { Clock } from '../core/clock';
import type { Board } from '../../boards/board';
import type { NetDevice, NetDriver } from '../link/netdev';
import type * as Sock from '../socket/socket';
import type { UdpEchoService } from '../apps/echo';
import type { UdpDiscardService } from '../apps/discard';
import type { DhcpClient } from '../apps/dhcp_client';
import type { DnsResolver } from '../apps/dns_resolver';
import { IP_NAMES, ICMP_NAMES, UDP_NAMES, LINK_NAMES, RAW_NAMES, DEV_NAMES } from '../core/mib';
import { TCP_NAMES, TCPEXT_NAMES } from '../transport/tcp/tcp';
import type { Net as CompactNet, CompactConfig, FrameOut } from '../compact/net';
import type * as CTcp from '../compact/tcp';
import type { NetworkJsObject } from '../socket/networkjs';

/** The project root (this file is src/host/bundle.ts). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a board bundle exports and the host side uses (rollup.config.js boardEntrySource). */
export interface BundleApi {
  BOARD: Board;
  createBoardStack(id: string | null, over: Partial<StackConfig> | null, clock: Clock | undefined): Stack | null;
  registerNetdev(st: Stack, name: string, mac: Uint8Array, mtu: number, driver: NetDriver): number;
  devOpen(st: Stack, index: number): number;
  devClose(st: Stack, index: number): number;
  rxFrame(st: Stack, devIndex: number, src: Uint8Array, off: number, len: number): number;
  devTxComplete(st: Stack, dev: NetDevice, skb: number): void;
  getDev(st: Stack, index: number): NetDevice | null;
  ifconfig(st: Stack, dev: number, cidr: string, gw: string | null): number;
  ipSetDefaultGateway(st: Stack, gw: number, dev: number): number;
  icmpPing(st: Stack, daddr: number, ident: number, seq: number, payloadLen: number): number;
  formatMac(mac: Uint8Array, off: number): string;
  formatIp(addr: number): string;
  parseIp(s: string): number | null;
  socket: typeof Sock.socket;
  bind: typeof Sock.bind;
  connect: typeof Sock.connect;
  sendto: typeof Sock.sendto;
  send: typeof Sock.send;
  recvfrom: typeof Sock.recvfrom;
  recv: typeof Sock.recv;
  recvLen: typeof Sock.recvLen;
  close: typeof Sock.close;
  setsockopt: typeof Sock.setsockopt;
  sockErr: typeof Sock.sockErr;
  poll: typeof Sock.poll;
  /** FEATURE_TCP only */
  listen?: typeof Sock.listen;
  accept?: typeof Sock.accept;
  shutdown?: typeof Sock.shutdown;
  /** FEATURE_UDP_SERVICES only */
  UdpEchoService?: typeof UdpEchoService;
  UdpDiscardService?: typeof UdpDiscardService;
  /** FEATURE_DHCP only */
  DhcpClient?: typeof DhcpClient;
  /** FEATURE_DNS only */
  DnsResolver?: typeof DnsResolver;
  SOCK_STREAM: number;
  SOCK_DGRAM: number;
  EAGAIN: number;
  EINPROGRESS: number;
  [k: string]: unknown;
}

/** The Espruino built-ins a bundle may call, supplied by Node. */
export interface EspruinoGlobals {
  E: {
    sum(a: ArrayLike<number>): number;
    convolve(a1: ArrayLike<number>, a2: ArrayLike<number>, offset: number): number;
    toString(...args: unknown[]): string;
    toUint8Array(...args: unknown[]): Uint8Array;
    hwRand(): number;
  };
  getTime(): number;
}

/** Append the bytes of one E.toString / E.toUint8Array argument (string, number, array-like) to out. */
function pushBytes(out: number[], a: unknown): void {
  if (typeof a === 'string') {
    for (let i = 0; i < a.length; i++) out.push(a.charCodeAt(i) & 0xff);
  } else if (typeof a === 'number') {
    out.push(a & 0xff);
  } else if (a !== null && typeof a === 'object' && typeof (a as ArrayLike<unknown>).length === 'number') {
    const v = a as ArrayLike<unknown>;
    for (let i = 0; i < v.length; i++) pushBytes(out, v[i]);
  }
}

/** Node's versions of the Espruino built-ins (Espruino 2v29 semantics for the forms the bundles use). */
export function espruinoGlobals(): EspruinoGlobals {
  return {
    E: {
      sum(a: ArrayLike<number>): number {
        let s = 0;
        for (let i = 0; i < a.length; i++) s += a[i];
        return s;
      },
      convolve(a1: ArrayLike<number>, a2: ArrayLike<number>, offset: number): number {
        const l = a2.length;
        if (l === 0) throw new RangeError('E.convolve: empty second array (a division by zero in Espruino)');
        let o = offset % l;
        if (o < 0) o += l;
        let v = 0;
        for (let i = 0; i < a1.length; i++) v += a1[i] * a2[(i + o) % l];
        return v;
      },
      toString(...args: unknown[]): string {
        if (args.length === 1 && args[0] instanceof Uint8Array) {
          const u = args[0];
          return Buffer.from(u.buffer, u.byteOffset, u.length).toString('latin1');
        }
        const b: number[] = [];
        for (let i = 0; i < args.length; i++) pushBytes(b, args[i]);
        return Buffer.from(b).toString('latin1');
      },
      toUint8Array(...args: unknown[]): Uint8Array {
        if (args.length === 1 && typeof args[0] === 'string') return new Uint8Array(Buffer.from(args[0], 'latin1'));
        const b: number[] = [];
        for (let i = 0; i < args.length; i++) pushBytes(b, args[i]);
        return Uint8Array.from(b);
      },
      hwRand(): number {
        return randomBytes(4).readInt32LE(0);
      },
    },
    getTime(): number {
      return performance.now() / 1000;
    },
  };
}

/** The bundle file of a board. */
export function bundleFile(id: string, root?: string): string {
  return join(root !== undefined ? root : PROJECT_ROOT, 'dist', 'espruino', id + '.min.js');
}

/** Source directories a board bundle is built from (rollup.config.js: src/, drivers/, boards/ minus Node-only dirs). */
const BUNDLE_SOURCES = ['src', 'drivers', 'boards'];
const NOT_IN_BUNDLES = /^(src\/(cli|host|sim|testkit)|drivers\/host)(\/|$)/;

/** The newest source file a board bundle is built from: [path relative to root, mtime ms]. */
export function newestSource(root?: string): [string, number] {
  const r = root !== undefined ? root : PROJECT_ROOT;
  let best: [string, number] = ['', 0];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      const rel = relative(r, p).split('\\').join('/');
      if (NOT_IN_BUNDLES.test(rel)) continue;
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory()) walk(p);
      else if (n.endsWith('.ts') && s.mtimeMs > best[1]) best = [rel, s.mtimeMs];
    }
  };
  for (const d of BUNDLE_SOURCES) walk(join(r, d));
  for (const f of ['rollup.config.js', 'scripts/mangle-reserved.js']) {
    try {
      const s = statSync(join(r, f));
      if (s.mtimeMs > best[1]) best = [f, s.mtimeMs];
    } catch {
      // not there: nothing to compare
    }
  }
  return best;
}

/** A bundle that is missing (null), or its size and, when a source is newer, that source. */
export function bundleState(file: string, root?: string): { bytes: number; newerSource: string | null } | null {
  if (!existsSync(file)) return null;
  const s = statSync(file);
  const [src, t] = newestSource(root);
  return { bytes: s.size, newerSource: t > s.mtimeMs ? src : null };
}

/**
 * Load a bundle (its text, or the file at `file`) with Node's Espruino
 * built-ins; returns its exports. Throws what the bundle throws at load.
 */
export function loadBundleCode(code: string, g?: EspruinoGlobals): BundleApi {
  const globals = g !== undefined ? g : espruinoGlobals();
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const outer = new Function('E', 'getTime', 'return function (exports, module) {\n' + code + '\n};') as (
    e: EspruinoGlobals['E'],
    t: () => number,
  ) => (exports: Record<string, unknown>, module: { exports: Record<string, unknown> }) => void;
  const mod = { exports: {} as Record<string, unknown> };
  outer(globals.E, globals.getTime)(mod.exports, mod);
  return mod.exports as unknown as BundleApi;
}

export function loadBundle(file: string, g?: EspruinoGlobals): BundleApi {
  return loadBundleCode(readFileSync(file, 'utf8'), g);
}

/** What the loaded bundle has compiled in, judged by its exports. */
export interface BundleFeatures {
  tcp: boolean;
  udpServices: boolean;
  dhcp: boolean;
  dns: boolean;
}

export function bundleFeatures(api: BundleApi): BundleFeatures {
  return {
    tcp: typeof api.listen === 'function' && typeof api.accept === 'function' && typeof api.shutdown === 'function',
    udpServices: typeof api.UdpEchoService === 'function' && typeof api.UdpDiscardService === 'function',
    dhcp: typeof api.DhcpClient === 'function',
    dns: typeof api.DnsResolver === 'function',
  };
}

/** The source's counter names per MIB block name (src/core/mib.ts, src/transport/tcp/tcp.ts). */
const SOURCE_NAMES: { [block: string]: string[] } = {
  Ip: IP_NAMES,
  Icmp: ICMP_NAMES,
  Udp: UDP_NAMES,
  Link: LINK_NAMES,
  Raw: RAW_NAMES,
  Tcp: TCP_NAMES,
  TcpExt: TCPEXT_NAMES,
  Dev: DEV_NAMES,
};

/**
 * One block's counters with the source's names when the bundle has none
 * ("c0", "c1", ... and exactly as many as the source names): the counters
 * are at the same indexes. Anything else is returned as it is.
 */
export function namedBlock(block: string, o: { [k: string]: number }): { [k: string]: number } {
  const names = SOURCE_NAMES[block];
  const keys = Object.keys(o);
  if (names === undefined || keys.length !== names.length) return o;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== 'c' + i) return o;
  const out: { [k: string]: number } = {};
  for (let i = 0; i < keys.length; i++) out[names[i]] = o[keys[i]];
  return out;
}

/** Every block of st.mib.toObject() through namedBlock. */
export function namedCounters(m: { [block: string]: { [k: string]: number } }): { [block: string]: { [k: string]: number } } {
  const out: { [block: string]: { [k: string]: number } } = {};
  for (const k of Object.keys(m)) out[k] = namedBlock(k, m[k]);
  return out;
}

/** Whether a bundle's counters carry names (false: "c0", ... from a mibNames: false build). */
export function hasCounterNames(m: { [block: string]: { [k: string]: number } }): boolean {
  const ip = m.Ip;
  return ip !== undefined && !Object.prototype.hasOwnProperty.call(ip, 'c0');
}

/**
 * What a compact board bundle exports (rollup.config.js compactEntrySource:
 * the small boards' src/compact/ stack), typed with the source's
 * signatures. The Net it returns is opaque here: its property names are
 * mangled, so the host side uses these functions only. The TCP calls are
 * there with the full profile, dhcpStart/dnsLookup with DHCP/DNS.
 */
export interface CompactApi {
  BOARD: Board;
  compactStack(over: Partial<CompactConfig> | null, mac: ArrayLike<number>, clock?: Clock): CompactNet;
  netAttach(n: CompactNet, out: FrameOut | null): void;
  netRxFrame(n: CompactNet, f: Uint8Array, len: number): void;
  netTick(n: CompactNet): void;
  netSetIp(n: CompactNet, ip: number, mask: number, gw: number, dns: number): void;
  netStats(n: CompactNet): { [name: string]: number };
  networkJsCompact(n: CompactNet): NetworkJsObject;
  tcpListen?: typeof CTcp.tcpListen;
  tcpAccept?: typeof CTcp.tcpAccept;
  tcpRecv?: typeof CTcp.tcpRecv;
  tcpSend?: typeof CTcp.tcpSend;
  tcpClose?: typeof CTcp.tcpClose;
  tcpState?: typeof CTcp.tcpState;
  dhcpStart?: (n: CompactNet) => void;
  dnsLookup?: (n: CompactNet, name: string, cb: (err: number, addr: number) => void) => number;
  [k: string]: unknown;
}

/** A compact bundle is told from a general one by its export compactStack. */
export function isCompactBundle(api: BundleApi | CompactApi): boolean {
  return typeof api.compactStack === 'function';
}

/** What a compact bundle has compiled in, by its exports (the profile: full has TCP, tiny not). */
export function compactFeatures(api: CompactApi): { tcp: boolean; dhcp: boolean; dns: boolean } {
  return {
    tcp: ['tcpListen', 'tcpAccept', 'tcpRecv', 'tcpSend', 'tcpClose', 'tcpState'].every((k) => typeof api[k] === 'function'),
    dhcp: typeof api.dhcpStart === 'function',
    dns: typeof api.dnsLookup === 'function',
  };
}
