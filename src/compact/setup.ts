/*
 * setup.ts — `require("slabnet").setup(opts, callback)`: the board
 * bundle's one-call start, in the shape of Espruino's own network modules
 * (`require("WIZnet").connect(spi, cs)`, `eth.setIP()`, `eth.getIP()`).
 * Configuration time and a poll timer, not the packet path: it finds the
 * board's SPI bus and pins (defaults from boards/<id>.ts), makes the
 * MAC (from getSerial(), locally administered: IEEE 802 §8.4), makes the
 * compact stack with the board's configuration, pulses the chip's RESET
 * pin, brings the chip up through its driver (src/compact/enc28j60.ts or
 * w5500.ts, chosen by the build: rollup.config.js compactEntrySource),
 * registers the stack as Espruino's network (NetworkJS), starts DHCP
 * (RFC 2131, src/compact/dhcp.ts) or sets a static address, and polls
 * the chip from its INT line (setWatch) and a timer, so a program never
 * calls a poll function.
 *
 *   var eth = require("slabnet").setup({}, function (err, info) {
 *     if (err) throw err;
 *     print(info.ip);                       // "192.0.2.100"
 *     require("http").createServer(...).listen(80);
 *   });
 *   eth.on("lease", function (info) {...}); eth.on("lost", ...); eth.on("link", function (up) {...});
 *   eth.getIP(); eth.setIP({ ip: "192.0.2.50", subnet: "255.255.255.0", gateway: "192.0.2.1" });
 *   eth.stats(); eth.close();
 *
 * A bad option (a pin or bus the board has not, a bad address or MAC,
 * the wrong chip) throws an Error at once, as Espruino's SPI.setup does;
 * what goes wrong later (a chip that does not answer, no lease within
 * opts.timeout) reaches the callback as an Error with a message, or is
 * thrown when there is no callback. docs/API.md documents every option.
 */
import type { Board } from '../../boards/board';
import { Net, netSetIp, netStats, ipQuad } from './net';
import { compactStackFor } from './board';
import { networkJsCompact } from './networkjs';
import { dhcpStart, dhcpRelease } from './dhcp';
import { espruinoSpiBus, espruinoIrqLine, EspruinoSpi } from '../../drivers/espruino/spi';
import type { SpiBus, IrqLine } from '../../drivers/spi';
import { RUNTIME_ESPRUINO } from '../features';

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function digitalWrite(p: unknown, v: number): void;
declare function setWatch(f: () => void, p: unknown, o: { edge: string; repeat: boolean }): number;
declare function clearWatch(id: number): void;
declare function getSerial(): string;
declare function Pin(name: string): unknown;
declare function setTimeout(f: () => void, ms: number): unknown;
declare function setInterval(f: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;
declare const global: { [k: string]: unknown };

/** The chip's driver, as the build picks it for the board. */
export interface SetupChip {
  /** 'enc28j60' or 'w5500' */
  chip: string;
  attach(n: Net, spi: SpiBus, irq: IrqLine | null): { cnt: Uint32Array } | null;
  poll(d: unknown, n: Net, budget: number): number;
  linkUp(d: unknown): boolean;
  /** names of the driver's counters (d.cnt) */
  cntNames: string[];
}

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

/** The object setup() returns. */
export interface EthApi {
  net: Net;
  dev: unknown;
  getIP(): IpInfo;
  setIP(o?: SetupOptions): boolean;
  on(ev: string, fn: (a?: unknown) => void): void;
  stats(): { [name: string]: number };
  close(): void;
}

/** polls between two reads of the link state (with the default 20 ms: every second) */
const LINK_EVERY = 50;
/** frames taken from the chip per poll */
const POLL_BUDGET = 4;
/** wait after RESET rises before talking to the chip (ms: ENC28J60 DS39662 §11.2 start-up, W5500 PLL lock) */
const RESET_WAIT_MS = 50;

function hex2(v: number): string {
  return (v < 16 ? '0' : '') + v.toString(16);
}

/** "a.b.c.d" of an address (0 → "0.0.0.0"). */
function ipStr(v: number): string {
  return (v >>> 24) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255);
}

/** A dotted address option, or dflt when absent; throws on a bad one. */
function ipOpt(s: string | undefined, what: string, dflt: number): number {
  if (s === undefined || s === null || s === '') return dflt;
  let v = ipQuad('' + s);
  if (v === null) throw new Error('setup: bad ' + what + ' ' + s);
  return v;
}

/** The static settings of o: [ip, subnet (default /24), gateway, dns (default the gateway)]; throws on a bad one. */
function staticOf(o: SetupOptions): number[] {
  let gw = ipOpt(o.gateway, 'gateway', 0);
  return [ipOpt(o.ip, 'ip', 0), ipOpt(o.subnet, 'subnet', 0xffffff00 | 0), gw, ipOpt(o.dns, 'dns', gw)];
}

/**
 * The MAC: opts.mac ("02:11:22:33:44:55" or 6 numbers), else one made from
 * getSerial(): two string hashes, first byte 0x02 (locally administered,
 * unicast), the same on every start of the same board.
 */
function macOf(m: string | number[] | undefined): number[] {
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

/** A pin or bus by name (global, then Pin(name)); the value itself when not a string; null for null/''. */
function hw(v: unknown): unknown {
  if (v === null || v === '') return null;
  if (typeof v !== 'string') return v;
  let p = global[v];
  if (p === undefined && typeof Pin === 'function') p = Pin(v);
  if (p === undefined) throw new Error('setup: no ' + v);
  return p;
}

class Eth implements EthApi {
  net: Net;
  dev: { cnt: Uint32Array } | null = null;
  ch: SetupChip;
  /** the callback still to call (null once called) */
  cb: ((err: Error | null, info?: IpInfo) => void) | null;
  dhcp = false;
  ipWas = 0;
  linkWas = false;
  polls = 0;
  /** when the callback gets a timeout error (ms since start, getTime) */
  due = 0;
  tmo: number;
  timer: unknown = null;
  watch: unknown = null;
  /** Espruino's own Object.prototype.on/emit; Node's below */
  on!: (ev: string, fn: (a?: unknown) => void) => void;
  emit!: (ev: string, a?: unknown) => void;
  constructor(n: Net, ch: SetupChip, cb: ((err: Error | null, info?: IpInfo) => void) | null, tmo: number) {
    this.net = n;
    this.ch = ch;
    this.cb = cb;
    this.tmo = tmo;
  }

  getIP(): IpInfo {
    let n = this.net;
    let m = '';
    for (let i = 0; i < 6; i++) m += (i > 0 ? ':' : '') + hex2(n.mac[i]);
    return { ip: ipStr(n.ip), subnet: ipStr(n.mask), gateway: ipStr(n.gw), dns: ipStr(n.dns), mac: m, dhcp: this.dhcp };
  }

  setIP(o?: SetupOptions): boolean {
    let n = this.net;
    if (o === undefined || o === null || o.ip === undefined) {
      this.dhcp = true;
      this.due = n.clock.now() + this.tmo;
      dhcpStart(n);
      return true;
    }
    let a = staticOf(o);
    if (this.dhcp) dhcpRelease(n);
    this.dhcp = false;
    netSetIp(n, a[0], a[1], a[2], a[3]);
    return true;
  }

  stats(): { [name: string]: number } {
    let o = netStats(this.net);
    let d = this.dev;
    for (let i = 0; d !== null && i < this.ch.cntNames.length; i++) o[this.ch.cntNames[i]] = d.cnt[i];
    return o;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.watch !== null) clearWatch(this.watch as number);
    this.timer = this.watch = null;
    if (this.dhcp && this.dev !== null) dhcpRelease(this.net);
    this.dhcp = false;
  }

  /** Callback once: the error, or the address. */
  done(err: Error | null): void {
    let cb = this.cb;
    this.cb = null;
    if (cb !== null) cb(err, err === null ? this.getIP() : undefined);
    else if (err !== null) throw err;
  }

  /** The INT line fell or the timer ran: frames in, timers, then what changed. */
  poll(): void {
    let n = this.net;
    let d = this.dev;
    if (d === null) return;
    this.ch.poll(d, n, POLL_BUDGET);
    if (++this.polls >= LINK_EVERY) {
      this.polls = 0;
      let up = this.ch.linkUp(d);
      if (up != this.linkWas) this.emit('link', (this.linkWas = up));
    }
    if (n.ip != this.ipWas) {
      this.ipWas = n.ip;
      if (n.ip == 0) this.emit('lost');
      else {
        if (this.dhcp) this.emit('lease', this.getIP());
        if (this.cb !== null) this.done(null);
      }
    }
    if (this.cb !== null && this.dhcp && n.clock.now() > this.due) this.done(new Error('setup: no DHCP lease yet'));
  }

  /** After the reset: the chip, NetworkJS, the timers, the address. */
  start(spi: EspruinoSpi, cs: unknown, irq: unknown, o: SetupOptions): void {
    let n = this.net;
    let d: { cnt: Uint32Array } | null = null;
    try {
      d = this.ch.attach(n, espruinoSpiBus(spi, cs), irq !== null ? espruinoIrqLine(irq) : null);
    } catch (e) {
      d = null;
    }
    if (d === null) return this.done(new Error('setup: no ' + this.ch.chip + ' on SPI'));
    this.dev = d;
    this.linkWas = this.ch.linkUp(d);
    // through global: Espruino's require; in Node tests a fake one (a bundler's own require shadows the name)
    (global.require as (m: string) => { create(o: unknown): void })('NetworkJS').create(networkJsCompact(n));
    let me = this;
    let f = function (): void {
      me.poll();
    };
    if (irq !== null) this.watch = setWatch(f, irq, { edge: 'falling', repeat: true });
    this.timer = setInterval(f, o.pollMs || 20);
    this.setIP(o);
  }
}

// Off Espruino (Node tests) the events Espruino gives every object
if (!RUNTIME_ESPRUINO) {
  Eth.prototype.on = function (this: { h?: { [ev: string]: ((a?: unknown) => void)[] } }, ev: string, fn: (a?: unknown) => void): void {
    let h = this.h || (this.h = {});
    (h[ev] || (h[ev] = [])).push(fn);
  };
  Eth.prototype.emit = function (this: { h?: { [ev: string]: ((a?: unknown) => void)[] } }, ev: string, a?: unknown): void {
    let l = this.h !== undefined ? this.h[ev] : undefined;
    for (let i = 0; l !== undefined && i < l.length; i++) l[i](a);
  };
}

/**
 * setup() for board b with chip driver ch (the build binds both):
 * returns the Eth object at once; the callback follows (see the top).
 */
export function setupFor(b: Board, ch: SetupChip, opts: SetupOptions | undefined, cb?: (err: Error | null, info?: IpInfo) => void): EthApi {
  let o = opts || {};
  let w = b.spi!;
  if (o.chip !== undefined && o.chip !== ch.chip) throw new Error('setup: chip is ' + ch.chip);
  let spi = hw(o.spi !== undefined ? o.spi : w.bus) as EspruinoSpi & { setup(o: object): void };
  let cs = hw(o.cs !== undefined ? o.cs : b.csPin);
  let irq = hw(o.int !== undefined ? o.int : b.intPin);
  let rst = hw(o.reset !== undefined ? o.reset : b.resetPin);
  let n = compactStackFor(b, null, macOf(o.mac));
  n.hostname = o.hostname || 'slabnet';
  if (o.ip !== undefined) staticOf(o); // a bad address fails here, not after the reset
  let eth = new Eth(n, ch, cb || null, o.timeout || 30000);
  spi.setup({ sck: hw(o.sck || w.sck), miso: hw(o.miso || w.miso), mosi: hw(o.mosi || w.mosi), baud: o.baud || w.baud, mode: 0 });
  digitalWrite(cs, 1);
  let go = function (): void {
    eth.start(spi, cs, irq, o);
  };
  if (rst !== null) {
    digitalWrite(rst, 0);
    setTimeout(function () {
      digitalWrite(rst, 1);
      setTimeout(go, RESET_WAIT_MS);
    }, 2);
  } else setTimeout(go, 1);
  return eth;
}
