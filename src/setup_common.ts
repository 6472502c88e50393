/*
 * setup_common.ts — what the two `setup(opts, callback)` implementations
 * share: the compact stack's (src/compact/setup.ts, the small boards'
 * bundles) and the general stack's (src/setup_general.ts, the ESP32
 * bundle). Configuration time only, never the packet path: the option,
 * address and event shapes (docs/API.md), the MAC derived from
 * getSerial(), a pin or bus by name, the SPI set-up and RESET pulse
 * before the chip is attached, and the events Espruino gives every object
 * (added off Espruino for the Node tests). Few module-level functions:
 * on a board each costs JsVars as soon as the bundle is loaded, so the
 * helpers of one function are its inner functions.
 *
 * How this touches the hardware is the setup contract
 * (docs/API.md): names resolve through
 * `global[name]`, then `Pin(name)`; spi.setup({sck, miso, mosi, baud,
 * mode: 0}); digitalWrite(cs, 1) idle; digitalWrite(reset, 0), >= 1 ms
 * later (setTimeout) digitalWrite(reset, 1), then a wait for the chip.
 */
import type { Board } from '../boards/board';
import type { EspruinoSpi } from '../drivers/espruino/spi';
import { RUNTIME_ESPRUINO } from './features';

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function digitalWrite(p: unknown, v: number): void;
declare function getSerial(): string;
declare function Pin(name: string): unknown;
declare function setTimeout(f: () => void, ms: number): unknown;
declare const global: { [k: string]: unknown };

/** setup()'s options; every one optional (docs/API.md). */
export interface SetupOptions {
  chip?: string;
  spi?: EspruinoSpi | string;
  sck?: unknown;
  miso?: unknown;
  mosi?: unknown;
  cs?: unknown;
  int?: unknown;
  reset?: unknown;
  baud?: number;
  mac?: string | number[];
  hostname?: string;
  ip?: string;
  subnet?: string;
  gateway?: string;
  dns?: string;
  timeout?: number;
  pollMs?: number;
}

/** What getIP() returns and the callback and 'lease' get. */
export interface IpInfo {
  ip: string;
  subnet: string;
  gateway: string;
  dns: string;
  mac: string;
  dhcp: boolean;
}

/** The object setup() returns (net and dev: the stack and the chip driver, typed by each stack). */
export interface EthApi {
  net: unknown;
  dev: unknown;
  getIP(): IpInfo;
  setIP(o?: SetupOptions): boolean;
  on(ev: string, fn: (a?: unknown) => void): void;
  stats(): { [name: string]: number };
  close(): void;
}

/** The callback's type. */
export type SetupCallback = (err: Error | null, info?: IpInfo) => void;

/** polls between two reads of the link state (with the default 20 ms: every second) */
export const LINK_EVERY = 50;
/** the poll timer's default period (ms) */
export const POLL_MS = 20;
/** wait after RESET rises before talking to the chip (ms: ENC28J60 DS39662 §11.2 start-up, W5500 PLL lock) */
const RESET_WAIT_MS = 50;

/** The IpInfo of an address set ([ip, mask, gateway, dns] as numbers, mac as 6 bytes). */
export function ipInfo(a: number[], mac: ArrayLike<number>, dhcp: boolean): IpInfo {
  // inner helpers: created per call (getIP is rare), not a module-level function each (JsVars on a board)
  let q = function (v: number): string {
    return (v >>> 24) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255);
  };
  let m = '';
  for (let i = 0; i < 6; i++) m += (i > 0 ? ':' : '') + (mac[i] < 16 ? '0' : '') + mac[i].toString(16);
  return { ip: q(a[0]), subnet: q(a[1]), gateway: q(a[2]), dns: q(a[3]), mac: m, dhcp: dhcp };
}

/**
 * The static settings of o: [ip, subnet (default /24), gateway, dns (default
 * the gateway)]; throws on a bad one. quad: the stack's dotted-quad parser (s32 or null).
 */
export function staticOf(o: SetupOptions, quad: (s: string) => number | null): number[] {
  let opt = function (s: string | undefined, what: string, dflt: number): number {
    if (s === undefined || s === null || s === '') return dflt;
    let v = quad('' + s);
    if (v === null) throw new Error('setup: bad ' + what + ' ' + s);
    return v;
  };
  let gw = opt(o.gateway, 'gateway', 0);
  return [opt(o.ip, 'ip', 0), opt(o.subnet, 'subnet', 0xffffff00 | 0), gw, opt(o.dns, 'dns', gw)];
}

/**
 * The MAC: opts.mac ("02:11:22:33:44:55" or 6 numbers), else one made from
 * getSerial(): two string hashes, first byte 0x02 (locally administered,
 * unicast: IEEE 802 §8.4), the same on every start of the same board.
 */
export function macOf(m: string | number[] | undefined): number[] {
  let r: number[] = [];
  if (m === undefined || m === null) {
    let s = getSerial();
    let h = 5381;
    let g = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      h = ((h << 5) + h + c) | 0;
      g = (c + (g << 6) + (g << 16) - g) | 0;
    }
    return [2, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, (g ^ (g >>> 8)) & 255];
  }
  let p = typeof m === 'string' ? m.split(':') : m;
  for (let i = 0; i < p.length; i++) r.push(typeof p[i] === 'string' ? parseInt(p[i] as unknown as string, 16) : (p[i] as number));
  if (r.length != 6 || r.some((v) => !(v >= 0 && v <= 255)) || (r[0] & 1) != 0) throw new Error('setup: bad mac ' + m);
  return r;
}

/** What setupHw starts once the chip has woken: the Eth object of either stack. */
export interface SetupStart {
  /** attach the chip on spi with chip select cs and interrupt irq (null: not wired); o: setup()'s options */
  start(spi: EspruinoSpi, cs: unknown, irq: unknown, o: SetupOptions): void;
}

/**
 * The chip option checked and the bus and pins resolved (opts, else board
 * b's): throws on a bad one before touching anything. Then spi.setup with
 * the pins, CS idle high, the RESET pulse (when wired), and
 * eth.start(spi, cs, int, o) once the chip has woken.
 */
export function setupHw(b: Board, chip: string, o: SetupOptions, eth: SetupStart): void {
  if (o.chip !== undefined && o.chip !== chip) throw new Error('setup: chip is ' + chip);
  // a pin or bus by name (global, then Pin(name)); the value itself when not a string; null for null/''
  let hw = function (v: unknown): unknown {
    if (v === null || v === '') return null;
    if (typeof v !== 'string') return v;
    let p = global[v];
    if (p === undefined && typeof Pin === 'function') p = Pin(v);
    if (p === undefined) throw new Error('setup: no ' + v);
    return p;
  };
  let w = b.spi!;
  let spi = hw(o.spi !== undefined ? o.spi : w.bus) as EspruinoSpi & { setup(o: object): void };
  let cs = hw(o.cs !== undefined ? o.cs : b.csPin);
  let irq = hw(o.int !== undefined ? o.int : b.intPin);
  let rst = hw(o.reset !== undefined ? o.reset : b.resetPin);
  let f = function (): void {
    eth.start(spi, cs, irq, o);
  };
  spi.setup({ sck: hw(o.sck || w.sck), miso: hw(o.miso || w.miso), mosi: hw(o.mosi || w.mosi), baud: o.baud || w.baud, mode: 0 });
  digitalWrite(cs, 1);
  if (rst !== null) {
    digitalWrite(rst, 0);
    setTimeout(function () {
      digitalWrite(rst, 1);
      setTimeout(f, RESET_WAIT_MS);
    }, 2);
  } else setTimeout(f, 1);
}

/** Off Espruino (Node tests): the on/emit Espruino gives every object, on a class's prototype. */
export function setupEvents(proto: object): void {
  if (RUNTIME_ESPRUINO) return;
  type Ev = { h?: { [ev: string]: ((a?: unknown) => void)[] } };
  let p = proto as { on: unknown; emit: unknown };
  p.on = function (this: Ev, ev: string, fn: (a?: unknown) => void): void {
    let h = this.h || (this.h = {});
    (h[ev] || (h[ev] = [])).push(fn);
  };
  p.emit = function (this: Ev, ev: string, a?: unknown): void {
    let l = this.h !== undefined ? this.h[ev] : undefined;
    for (let i = 0; l !== undefined && i < l.length; i++) l[i](a);
  };
}
