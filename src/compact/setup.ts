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
 * The options, the MAC, pin names, the RESET pulse and NetworkJS
 * registration are shared with the general stack's setup()
 * (src/setup_general.ts) through src/setup_common.ts.
 */
import type { Board } from '../../boards/board';
import { Net, netSetIp, netStats, ipQuad } from './net';
import { compactStackFor } from './board';
import { networkJsCompact } from './networkjs';
import { dhcpStart, dhcpRelease } from './dhcp';
import { espruinoSpiBus, espruinoIrqLine, EspruinoSpi } from '../../drivers/espruino/spi';
import type { SpiBus, IrqLine } from '../../drivers/spi';
import type { Enc } from './enc28j60';
import type { W5500 } from './w5500';

/** A chip driver (its cnt: the counters cntNames names). Its classes, not a type literal: the build keeps every type literal's member names unmangled (scripts/mangle-reserved.js), and n.cnt is read on every packet. */
type Drv = Enc | W5500;
import {
  SetupOptions, IpInfo, EthApi, SetupCallback, LINK_EVERY, POLL_MS, ipInfo, staticOf, macOf, setupHw, setupEvents,
} from '../setup_common';

export type { SetupOptions, IpInfo, EthApi };

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function setWatch(f: () => void, p: unknown, o: { edge: string; repeat: boolean }): number;
declare function clearWatch(id: number): void;
declare function setInterval(f: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;
declare const global: { [k: string]: unknown };

/** The chip's driver, as the build picks it for the board. */
export interface SetupChip {
  /** 'enc28j60' or 'w5500' */
  chip: string;
  attach(n: Net, spi: SpiBus, irq: IrqLine | null): Drv | null;
  poll(d: unknown, n: Net, budget: number): number;
  linkUp(d: unknown): boolean;
  /** names of the driver's counters (d.cnt) */
  cntNames: string[];
}

/** frames taken from the chip per poll */
const POLL_BUDGET = 4;

class Eth implements EthApi {
  net: Net;
  dev: Drv | null = null;
  ch: SetupChip;
  /** the callback still to call (null once called) */
  cb: SetupCallback | null;
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
  constructor(n: Net, ch: SetupChip, cb: SetupCallback | null, tmo: number) {
    this.net = n;
    this.ch = ch;
    this.cb = cb;
    this.tmo = tmo;
  }

  getIP(): IpInfo {
    let n = this.net;
    return ipInfo([n.ip, n.mask, n.gw, n.dns], n.mac, this.dhcp);
  }

  setIP(o?: SetupOptions): boolean {
    let n = this.net;
    if (o === undefined || o === null || o.ip === undefined) {
      this.dhcp = true;
      this.due = n.clock.now() + this.tmo;
      dhcpStart(n);
      return true;
    }
    let a = staticOf(o, ipQuad);
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
    let d: Drv | null = null;
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
    this.timer = setInterval(f, o.pollMs || POLL_MS);
    this.setIP(o);
  }
}

// Off Espruino (Node tests) the events Espruino gives every object
setupEvents(Eth.prototype);

/**
 * setup() for board b with chip driver ch (the build binds both):
 * returns the Eth object at once; the callback follows (see the top).
 */
export function setupFor(b: Board, ch: SetupChip, opts: SetupOptions | undefined, cb?: SetupCallback): EthApi {
  let o = opts || {};
  let n = compactStackFor(b, null, macOf(o.mac));
  n.hostname = o.hostname || 'slabnet';
  if (o.ip !== undefined) staticOf(o, ipQuad); // a bad address fails here, not after the reset
  let eth = new Eth(n, ch, cb || null, o.timeout || 30000);
  setupHw(b, ch.chip, o, eth);
  return eth;
}
