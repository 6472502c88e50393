/*
 * setup_general.ts — `require("slabnet").setup(opts, callback)` for the
 * GENERAL stack's board bundles (the ESP32 + W5500: boards/espruino-esp32-
 * w5500.ts → dist/espruino/espruino-esp32-w5500.min.js), with the same
 * options, returned object, errors and hardware access as the compact
 * stack's setup() (src/compact/setup.ts; the contract is docs/API.md).
 * rollup.config.js boardEntrySource binds it to the board and its chip's
 * driver (drivers/<chip>/driver.ts) when the board's features have DHCP
 * and TCP. Configuration time and a poll timer, not the packet path.
 *
 * What it does, in order: makes the MAC (getSerial(), src/setup_common.ts)
 * and the board's Stack (src/espruino_board.ts createStackFor, Espruino's
 * clock), checks the address options and resolves the bus and pins (a bad
 * option throws at once, before any hardware is touched), sets up SPI and
 * pulses RESET; once
 * the chip has woken it attaches the driver (attachW5500 /
 * attachEnc28j60) and opens the device, makes a DNS resolver
 * (src/apps/dns_resolver.ts: it becomes st.resolver), registers the stack
 * as Espruino's network (require("NetworkJS").create(networkJs(st)),
 * src/socket/networkjs.ts: http.get("http://name/") resolves through
 * st.resolver), and starts DHCP (src/apps/dhcp_client.ts: the lease's
 * address, default route and DNS servers) or sets a static address
 * (ipAddrAdd + default gateway + the resolver's server). st.poll() runs
 * from the INT line's falling edge (setWatch) and a timer (default 20 ms).
 *
 *   var eth = require("slabnet").setup({}, function (err, info) {
 *     if (err) throw err;
 *     require("http").get("http://example.com/", function (res) {...});
 *   });
 *
 * DHCP events are only noted inside the stack's timers (onDhcpEvent); the
 * program's 'lease'/'lost' handlers and the callback run after st.poll()
 * returns, so a handler that throws or calls setIP()/close() never runs
 * inside the stack.
 *
 * One function whose state is its local variables and whose methods are
 * closures made when setup() runs: on a board a module's functions and
 * class methods cost JsVars as soon as the bundle is loaded, whether or not
 * the program calls setup(); these cost only in a program that does
 * (the ESP32's JsVar budget, npm run budget, counts the loaded module).
 */
import type { Board } from '../boards/board';
import type { Stack } from './stack';
import type { SpiBus, IrqLine } from '../drivers/spi';
import type { NetDriver } from './link/netdev';
import { createStackFor } from './espruino_board';
import { getDev, devOpen } from './link/dev';
import { parseIp } from './link/ifaddr';
import { ipAddrAdd, ipAddrDel, ipSetDefaultGateway, ipRouteDel } from './ipv4/devinet';
import { prefixMask } from './core/inaddr';
import { maskToPrefix } from './wire/dhcp';
import {
  DhcpClient, DHCP_STOPPED, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST, DHCP_EV_RELEASED,
} from './apps/dhcp_client';
import { DnsResolver } from './apps/dns_resolver';
import { networkJs } from './socket/networkjs';
import { espruinoSpiBus, espruinoIrqLine, EspruinoSpi } from '../drivers/espruino/spi';
import { FEATURE_DNS } from './features';
import { LINK_RXFRAMES, LINK_TXFRAMES } from './core/mib';
import {
  SetupOptions, IpInfo, EthApi, SetupCallback, LINK_EVERY, POLL_MS, ipInfo, staticOf, macOf, setupHw, setupEvents,
} from './setup_common';

export type { SetupOptions, IpInfo, EthApi };

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function setWatch(f: () => void, p: unknown, o: { edge: string; repeat: boolean }): number;
declare function clearWatch(id: number): void;
declare function setInterval(f: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;
declare const global: { [k: string]: unknown };

/** The chip's general-stack driver, as the build picks it for the board. */
export interface SetupDriver {
  /** 'enc28j60' or 'w5500' */
  chip: string;
  /** attachW5500 / attachEnc28j60: the device index, or -errno when the chip did not come up */
  attach(st: Stack, spi: SpiBus, irq: IrqLine | null, mac: Uint8Array, name: string): number;
  /** the driver object's counter fields that stats() reports, space-separated (a string: no array at load) */
  statNames: string;
}

/** The counters of drivers/w5500/driver.ts W5500Driver that stats() reports. */
export const W5500_STAT_NAMES =
  'txFrames txBytes txBusyFsr txBusySend txOversize rxFrames rxBytes rxLengthErrors rxResyncBytes rxNoSkb rxTooBig rxBatches spinTimeouts';
/** The counters of drivers/enc28j60/driver.ts Enc28j60Driver that stats() reports. */
export const ENC28J60_STAT_NAMES =
  'rxFrames rxBytes rxBadStatus rxOverruns rxNoSkb rxResyncs txFrames txBytes txBusy txErrors txTooBig txStallResets linkChanges';

/** The chip's PHY link state (both general drivers have it). */
interface LinkDriver extends NetDriver {
  linkUp(): boolean;
}

/** The object setup() returns, with the general stack's types. */
export interface GeneralEth extends EthApi {
  net: Stack;
  dev: LinkDriver | null;
  /** Espruino's own Object.prototype.emit (Node's from setupEvents) */
  emit(ev: string, a?: unknown): void;
}

/**
 * setup() for board b with chip driver drv (the build binds both):
 * returns the Eth object at once; the callback follows (see the top).
 */
export function setupGeneralFor(b: Board, drv: SetupDriver, opts: SetupOptions | undefined, cb?: SetupCallback): EthApi {
  let o = opts || {};
  let mac = new Uint8Array(macOf(o.mac));
  let st = createStackFor(b, null, null, undefined)!;
  /** the callback still to call (null once called) */
  let pend: SetupCallback | null = cb || null;
  let tmo = o.timeout || 30000;
  let dhcpc: DhcpClient | null = null;
  /** the device index of the chip (-1 until attached) */
  let ifi = -1;
  let dhcp = false;
  /** the address in use, from the lease or setIP (s32; 0 = none) */
  let ip = 0;
  let mask = 0;
  let gw = 0;
  let dns = 0;
  let ipWas = 0;
  let linkWas = false;
  let polls = 0;
  /** when the callback gets a timeout error (st.now() ms) */
  let due = 0;
  let timer: unknown = null;
  let watch: unknown = null;
  /** the address settings start applies (setup's options, or a setIP() before the chip was up) */
  let addr: SetupOptions = o;

  /** Callback once: the error, or the address. */
  let done = function (err: Error | null): void {
    let f = pend;
    pend = null;
    if (f !== null) f(err, err === null ? eth.getIP() : undefined);
    else if (err !== null) throw err;
  };

  let api: Omit<GeneralEth, 'on' | 'emit'> = {
    net: st,
    dev: null,
    getIP: function (): IpInfo {
      return ipInfo([ip, mask, gw, dns], mac, dhcp);
    },

    setIP: function (a?: SetupOptions): boolean {
      let c = dhcpc;
      let s = a !== undefined && a !== null && a.ip !== undefined ? staticOf(a, parseIp) : null;
      let plen = s !== null ? maskToPrefix(s[1]) : 0;
      if (plen < 0) throw new Error('setup: bad subnet ' + a!.subnet);
      // the chip is not up yet: start applies the latest address settings
      if (c === null) {
        addr = a || {};
        return true;
      }
      if (c.state !== DHCP_STOPPED) c.stop(true);
      // a static address and its default route off the device (a lease is the DHCP client's to remove)
      if (!dhcp && ip !== 0) {
        ipAddrDel(st, ifi, ip);
        if (gw !== 0) ipRouteDel(st, 0, 0);
      }
      ip = mask = gw = dns = 0;
      dhcp = s === null;
      if (s === null) {
        due = st.now() + tmo;
        c.start(ifi, { hostName: o.hostname || 'slabnet' });
        return true;
      }
      if (ipAddrAdd(st, ifi, s[0], plen) < 0) throw new Error('setup: bad ip ' + a!.ip);
      ip = s[0];
      mask = s[1];
      if (s[2] !== 0 && ipSetDefaultGateway(st, s[2], ifi) === 0) gw = s[2];
      dns = s[3];
      if (FEATURE_DNS && s[3] !== 0 && st.resolver !== null) st.resolver.setServers([s[3]]);
      return true;
    },

    /**
     * Flat counters: rx and tx (frames in and out, as the compact stack's
     * stats() names them, so a program reads them on either bundle), the
     * stack's MIB ("IpInReceives", "TcpRetransSegs", ...: block name +
     * counter name), the device's (rx_packets, ...), the driver's (rxFrames, ...).
     */
    stats: function (): { [name: string]: number } {
      let r: { [name: string]: number } = { rx: st.mib.link[LINK_RXFRAMES], tx: st.mib.link[LINK_TXFRAMES] };
      let bl = st.mib.blocks;
      for (let i = 0; i < bl.length; i++) {
        let v = bl[i].toObject();
        for (let k in v) r[bl[i].name + k] = v[k];
      }
      let d = getDev(st, ifi);
      if (d !== null) {
        let v = d.stats.toObject();
        for (let k in v) r[k] = v[k];
        let n = drv.statNames.split(' ');
        let x = d.driver as unknown as { [k: string]: number };
        for (let i = 0; i < n.length; i++) r[n[i]] = x[n[i]];
      }
      return r;
    },

    close: function (): void {
      if (timer !== null) clearInterval(timer);
      if (watch !== null) clearWatch(watch as number);
      timer = watch = null;
      if (dhcpc !== null && dhcpc.state !== DHCP_STOPPED) dhcpc.stop(true);
      dhcp = false;
    },
  };
  // Espruino gives every object on/emit; off Espruino (Node tests) they are added here
  let eth = api as GeneralEth;
  setupEvents(eth);

  /** The INT line fell or the timer ran: the stack's poll (frames, timers), then what changed. */
  let poll = function (): void {
    let d = eth.dev;
    if (d === null) return;
    st.poll();
    if (++polls >= LINK_EVERY) {
      polls = 0;
      let up = d.linkUp();
      if (up != linkWas) eth.emit('link', (linkWas = up));
    }
    if (ip != ipWas) {
      ipWas = ip;
      if (ip == 0) eth.emit('lost');
      else {
        if (dhcp) eth.emit('lease', eth.getIP());
        if (pend !== null) done(null);
      }
    }
    if (pend !== null && dhcp && st.now() > due) done(new Error('setup: no DHCP lease yet'));
  };

  eth.setIP(o); // a bad address fails here, not after the reset
  // after the reset: the chip, the device up, the resolver, NetworkJS, the timers, the address
  setupHw(b, drv.chip, o, {
    start: function (spi: EspruinoSpi, cs: unknown, irq: unknown): void {
      try {
        ifi = drv.attach(st, espruinoSpiBus(spi, cs), irq !== null ? espruinoIrqLine(irq) : null, mac, 'eth0');
      } catch (e) {
        ifi = -1;
      }
      let dv = ifi >= 0 ? getDev(st, ifi) : null;
      if (dv === null || devOpen(st, ifi) < 0) return done(new Error('setup: no ' + drv.chip + ' on SPI'));
      let d = dv.driver as LinkDriver;
      eth.dev = d;
      linkWas = d.linkUp();
      // the stack's name service (st.resolver) before the DHCP client, which gives it the lease's servers
      if (FEATURE_DNS) new DnsResolver(st, { maxQueries: 2, cacheSize: 4 });
      let c = new DhcpClient(st);
      // DHCP client events (inside a stack timer): only the address is noted; poll() tells the program
      c.handler = {
        onDhcpEvent: function (kind: number): void {
          if (kind === DHCP_EV_BOUND || kind === DHCP_EV_RENEWED) {
            ip = c.addr;
            mask = prefixMask(c.prefixLen);
            gw = c.router;
            dns = c.dnsCount > 0 ? c.dns[0] : 0;
          } else if ((kind === DHCP_EV_LOST || kind === DHCP_EV_RELEASED) && dhcp) ip = mask = gw = dns = 0;
        },
      };
      dhcpc = c;
      // through global: Espruino's require; in Node tests a fake one (a bundler's own require shadows the name)
      (global.require as (m: string) => { create(o: unknown): void })('NetworkJS').create(networkJs(st));
      if (irq !== null) watch = setWatch(poll, irq, { edge: 'falling', repeat: true });
      timer = setInterval(poll, o.pollMs || POLL_MS);
      eth.setIP(addr);
    },
  });
  return eth;
}
