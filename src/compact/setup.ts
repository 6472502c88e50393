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
declare const global: { [k: string]: unknown };
import type { Enc } from './enc28j60';
import type { W5500 } from './w5500';

/** A chip driver (its cnt: the counters cntNames names). Its classes, not a type literal: the build keeps every type literal's member names unmangled (scripts/mangle-reserved.js), and n.cnt is read on every packet. */
type Drv = Enc | W5500;
import {
  SetupOptions, IpInfo, EthApi, SetupCallback, LINK_EVERY, POLL_MS, ipInfo, staticOf, macOf, setupHw, setupEvents,
} from '../setup_common';
import { RUNTIME_ESPRUINO } from '../features';

export type { SetupOptions, IpInfo, EthApi };

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function setWatch(f: () => void, p: unknown, o: { edge: string; repeat: boolean }): number;
declare function clearWatch(id: number): void;
declare function setInterval(f: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;

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

/**
 * setup() for board b with chip driver ch (the build binds both):
 * returns the object at once; the callback follows (see the top). The
 * object's methods are closures over this call's state, made when the
 * program calls setup(): a module function costs JsVars on every board
 * whether the program uses it or not (issue 8), a closure only here.
 */
export function setupFor(b: Board, ch: SetupChip, opts: SetupOptions | undefined, cb?: SetupCallback): EthApi {
  let o = opts || {};
  let n = compactStackFor(b, null, macOf(o.mac));
  n.hostname = o.hostname || 'slabnet';
  if (o.ip !== undefined) staticOf(o, ipQuad); // a bad address fails here, not after the reset
  let tmo = o.timeout || 30000;
  /** the callback still to call (null once called) */
  let pend: SetupCallback | null = cb || null;
  let dhcp = false;
  let ipWas = 0;
  let linkWas = false;
  let polls = 0;
  /** when the callback gets a timeout error (the clock's ms) */
  let due = 0;
  let timer: unknown = null;
  let watch: unknown = null;
  /** the address settings start() applies: setup()'s options, or a setIP() made before the chip was up */
  let addr: SetupOptions = o;
  let eth = {
    net: n,
    dev: null as Drv | null,
    getIP(): IpInfo {
      return ipInfo([n.ip, n.mask, n.gw, n.dns], n.mac, dhcp);
    },
    setIP(s?: SetupOptions): boolean {
      if (eth.dev === null) {
        // before the chip is up: checked now, applied by start()
        if (s !== undefined && s !== null && s.ip !== undefined) staticOf(s, ipQuad);
        addr = s || {};
        return true;
      }
      if (s === undefined || s === null || s.ip === undefined) {
        dhcp = true;
        due = n.clock.now() + tmo;
        dhcpStart(n);
        return true;
      }
      let a = staticOf(s, ipQuad);
      if (dhcp) dhcpRelease(n);
      dhcp = false;
      netSetIp(n, a[0], a[1], a[2], a[3]);
      return true;
    },
    stats(): { [name: string]: number } {
      let r = netStats(n);
      for (let i = 0; eth.dev !== null && i < ch.cntNames.length; i++) r[ch.cntNames[i]] = eth.dev.cnt[i];
      return r;
    },
    close(): void {
      if (timer !== null) clearInterval(timer);
      if (watch !== null) clearWatch(watch as number);
      timer = watch = null;
      if (dhcp && eth.dev !== null) dhcpRelease(n);
      dhcp = false;
    },
    /** After the reset (setupHw): the chip, NetworkJS, the timers, the address. */
    start(spi: EspruinoSpi, cs: unknown, irq: unknown): void {
      let d: Drv | null = null;
      try {
        d = ch.attach(n, espruinoSpiBus(spi, cs), irq !== null ? espruinoIrqLine(irq) : null);
      } catch (e) {
        d = null;
      }
      if (d === null) return done(new Error('setup: no ' + ch.chip + ' on SPI'));
      eth.dev = d;
      linkWas = ch.linkUp(d);
      // through global: Espruino's require; in Node tests a fake one (a bundler's own require shadows the name)
      (global.require as (m: string) => { create(o: unknown): void })('NetworkJS').create(networkJsCompact(n));
      if (irq !== null) watch = setWatch(poll, irq, { edge: 'falling', repeat: true });
      timer = setInterval(poll, o.pollMs || POLL_MS);
      eth.setIP(addr);
    },
  };
  // on/emit: Espruino's own (every object has them; an own property would hide them), Node's from setupEvents
  let ev = eth as unknown as EthApi & { emit(e: string, a?: unknown): void };
  if (!RUNTIME_ESPRUINO) setupEvents(eth);
  /** Callback once: the error, or the address (no callback: the error is thrown). */
  let done = function (err: Error | null): void {
    let f = pend;
    pend = null;
    if (f !== null) f(err, err === null ? eth.getIP() : undefined);
    else if (err !== null) throw err;
  };
  /** The INT line fell or the timer ran: frames in, timers, then what changed. */
  let poll = function (): void {
    let d = eth.dev;
    if (d === null) return;
    ch.poll(d, n, POLL_BUDGET);
    if (++polls >= LINK_EVERY) {
      polls = 0;
      let up = ch.linkUp(d);
      if (up != linkWas) ev.emit('link', (linkWas = up));
    }
    if (n.ip != ipWas) {
      ipWas = n.ip;
      if (n.ip == 0) ev.emit('lost');
      else {
        if (dhcp) ev.emit('lease', eth.getIP());
        if (pend !== null) done(null);
      }
    }
    if (pend !== null && dhcp && n.clock.now() > due) done(new Error('setup: no DHCP lease yet'));
  };
  setupHw(b, ch.chip, o, eth);
  return ev;
}
