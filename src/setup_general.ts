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
 * What it does, in order: checks the options and resolves the bus and
 * pins (throws at once on a bad one), makes the board's Stack
 * (src/espruino_board.ts createStackFor, Espruino's clock) and the MAC
 * (getSerial(), src/setup_common.ts), sets up SPI and pulses RESET; once
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
  DhcpClient, DhcpEventHandler, DHCP_STOPPED, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST, DHCP_EV_RELEASED,
} from './apps/dhcp_client';
import { DnsResolver } from './apps/dns_resolver';
import { networkJs } from './socket/networkjs';
import { espruinoSpiBus, espruinoIrqLine, EspruinoSpi } from '../drivers/espruino/spi';
import { FEATURE_DNS } from './features';
import { LINK_RXFRAMES, LINK_TXFRAMES } from './core/mib';
import {
  SetupOptions, IpInfo, EthApi, SetupCallback, LINK_EVERY, POLL_MS, ipInfo, staticOf, macOf, setupHw, setupNetworkJs,
  setupEvents,
} from './setup_common';

export type { SetupOptions, IpInfo, EthApi };

/* Espruino built-ins (docs/API.md says how a mock replaces them in tests) */
declare function setWatch(f: () => void, p: unknown, o: { edge: string; repeat: boolean }): number;
declare function clearWatch(id: number): void;
declare function setInterval(f: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;

/** The chip's general-stack driver, as the build picks it for the board. */
export interface SetupDriver {
  /** 'enc28j60' or 'w5500' */
  chip: string;
  /** attachW5500 / attachEnc28j60: the device index, or -errno when the chip did not come up */
  attach(st: Stack, spi: SpiBus, irq: IrqLine | null, mac: Uint8Array, name: string): number;
  /** the driver object's counter fields that stats() reports */
  statNames: string[];
}

/** The counters of drivers/w5500/driver.ts W5500Driver that stats() reports. */
export const W5500_STAT_NAMES = [
  'txFrames', 'txBytes', 'txBusyFsr', 'txBusySend', 'txOversize', 'rxFrames', 'rxBytes', 'rxLengthErrors',
  'rxResyncBytes', 'rxNoSkb', 'rxTooBig', 'rxBatches', 'spinTimeouts',
];
/** The counters of drivers/enc28j60/driver.ts Enc28j60Driver that stats() reports. */
export const ENC28J60_STAT_NAMES = [
  'rxFrames', 'rxBytes', 'rxBadStatus', 'rxOverruns', 'rxNoSkb', 'rxResyncs', 'txFrames', 'txBytes', 'txBusy',
  'txErrors', 'txTooBig', 'txStallResets', 'linkChanges',
];

/** The chip's PHY link state (both general drivers have it). */
interface LinkDriver extends NetDriver {
  linkUp(): boolean;
}

class GeneralEth implements EthApi, DhcpEventHandler {
  net: Stack;
  /** the chip driver (st.link.devs[ifi].driver), null until attached */
  dev: LinkDriver | null = null;
  /** its device index */
  ifi = -1;
  drv: SetupDriver;
  mac: Uint8Array;
  host: string;
  dhcpc: DhcpClient | null = null;
  /** the address settings start() applies (setup's options, or a setIP() before the chip was up) */
  addr: SetupOptions = {};
  /** the callback still to call (null once called) */
  cb: SetupCallback | null;
  dhcp = false;
  /** the address in use, from the lease or setIP (s32; 0 = none) */
  ip = 0;
  mask = 0;
  gw = 0;
  dns = 0;
  ipWas = 0;
  linkWas = false;
  polls = 0;
  /** when the callback gets a timeout error (st.now() ms) */
  due = 0;
  tmo: number;
  timer: unknown = null;
  watch: unknown = null;
  /** Espruino's own Object.prototype.on/emit; Node's from setupEvents */
  on!: (ev: string, fn: (a?: unknown) => void) => void;
  emit!: (ev: string, a?: unknown) => void;
  constructor(st: Stack, drv: SetupDriver, mac: Uint8Array, host: string, cb: SetupCallback | null, tmo: number) {
    this.net = st;
    this.drv = drv;
    this.mac = mac;
    this.host = host;
    this.cb = cb;
    this.tmo = tmo;
  }

  getIP(): IpInfo {
    return ipInfo(this.ip, this.mask, this.gw, this.dns, this.mac, this.dhcp);
  }

  setIP(o?: SetupOptions): boolean {
    let st = this.net;
    let c = this.dhcpc;
    if (c === null) {
      // the chip is not up yet: start() applies the latest address settings
      if (o !== undefined && o !== null && o.ip !== undefined && maskToPrefix(staticOf(o, parseIp)[1]) < 0) throw new Error('setup: bad subnet ' + o.subnet);
      this.addr = o || {};
      return true;
    }
    if (o === undefined || o === null || o.ip === undefined) {
      this.unset();
      if (c.state !== DHCP_STOPPED) c.stop(true);
      this.dhcp = true;
      this.due = st.now() + this.tmo;
      c.start(this.ifi, { hostName: this.host });
      return true;
    }
    let a = staticOf(o, parseIp);
    let plen = maskToPrefix(a[1]);
    if (plen < 0) throw new Error('setup: bad subnet ' + o.subnet);
    if (this.dhcp && c !== null) c.stop(true);
    this.dhcp = false;
    this.unset();
    if (ipAddrAdd(st, this.ifi, a[0], plen) < 0) throw new Error('setup: bad ip ' + o.ip);
    this.ip = a[0];
    this.mask = a[1];
    if (a[2] !== 0 && ipSetDefaultGateway(st, a[2], this.ifi) === 0) this.gw = a[2];
    this.dns = a[3];
    if (FEATURE_DNS && a[3] !== 0 && st.resolver !== null) st.resolver.setServers([a[3]]);
    return true;
  }

  /** Take a static address and its default route off the device (a lease is the DHCP client's to remove). */
  unset(): void {
    let st = this.net;
    if (!this.dhcp && this.ip !== 0) {
      ipAddrDel(st, this.ifi, this.ip);
      if (this.gw !== 0) ipRouteDel(st, 0, 0);
    }
    this.ip = this.mask = this.gw = this.dns = 0;
  }

  /** DHCP client events (inside a stack timer): only the address is noted; poll() tells the program. */
  onDhcpEvent(kind: number, _dev: number, _addr: number): void {
    let c = this.dhcpc!;
    if (kind === DHCP_EV_BOUND || kind === DHCP_EV_RENEWED) {
      this.ip = c.addr;
      this.mask = prefixMask(c.prefixLen);
      this.gw = c.router;
      this.dns = c.dnsCount > 0 ? c.dns[0] : 0;
    } else if ((kind === DHCP_EV_LOST || kind === DHCP_EV_RELEASED) && this.dhcp) this.ip = this.mask = this.gw = this.dns = 0;
  }

  /**
   * Flat counters: rx and tx (frames in and out, as the compact stack's
   * stats() names them, so a program reads them on either bundle), the
   * stack's MIB ("IpInReceives", "TcpRetransSegs", ...: block name +
   * counter name), the device's (rx_packets, ...), the driver's (rxFrames, ...).
   */
  stats(): { [name: string]: number } {
    let st = this.net;
    let o: { [name: string]: number } = { rx: st.mib.link[LINK_RXFRAMES], tx: st.mib.link[LINK_TXFRAMES] };
    let b = st.mib.blocks;
    for (let i = 0; i < b.length; i++) {
      let v = b[i].toObject();
      for (let k in v) o[b[i].name + k] = v[k];
    }
    let d = getDev(st, this.ifi);
    if (d !== null) {
      let v = d.stats.toObject();
      for (let k in v) o[k] = v[k];
    }
    let drv = this.dev as unknown as { [k: string]: number } | null;
    let n = this.drv.statNames;
    for (let i = 0; drv !== null && i < n.length; i++) o[n[i]] = drv[n[i]];
    return o;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.watch !== null) clearWatch(this.watch as number);
    this.timer = this.watch = null;
    let c = this.dhcpc;
    if (c !== null && c.state !== DHCP_STOPPED) c.stop(true);
    this.dhcp = false;
  }

  /** Callback once: the error, or the address. */
  done(err: Error | null): void {
    let cb = this.cb;
    this.cb = null;
    if (cb !== null) cb(err, err === null ? this.getIP() : undefined);
    else if (err !== null) throw err;
  }

  /** The INT line fell or the timer ran: the stack's poll (frames, timers), then what changed. */
  poll(): void {
    let d = this.dev;
    if (d === null) return;
    let st = this.net;
    st.poll();
    if (++this.polls >= LINK_EVERY) {
      this.polls = 0;
      let up = d.linkUp();
      if (up != this.linkWas) this.emit('link', (this.linkWas = up));
    }
    if (this.ip != this.ipWas) {
      this.ipWas = this.ip;
      if (this.ip == 0) this.emit('lost');
      else {
        if (this.dhcp) this.emit('lease', this.getIP());
        if (this.cb !== null) this.done(null);
      }
    }
    if (this.cb !== null && this.dhcp && st.now() > this.due) this.done(new Error('setup: no DHCP lease yet'));
  }

  /** After the reset: the chip, the device up, the resolver, NetworkJS, the timers, the address. */
  start(spi: EspruinoSpi, cs: unknown, irq: unknown, o: SetupOptions): void {
    let st = this.net;
    let ifi = -1;
    try {
      ifi = this.drv.attach(st, espruinoSpiBus(spi, cs), irq !== null ? espruinoIrqLine(irq) : null, this.mac, 'eth0');
    } catch (e) {
      ifi = -1;
    }
    let dv = ifi >= 0 ? getDev(st, ifi) : null;
    if (dv === null || devOpen(st, ifi) < 0) return this.done(new Error('setup: no ' + this.drv.chip + ' on SPI'));
    this.ifi = ifi;
    this.dev = dv.driver as LinkDriver;
    this.linkWas = this.dev.linkUp();
    // the stack's name service (st.resolver) before the DHCP client, which gives it the lease's servers
    if (FEATURE_DNS) new DnsResolver(st, { maxQueries: 2, cacheSize: 4 });
    this.dhcpc = new DhcpClient(st);
    this.dhcpc.handler = this;
    setupNetworkJs(networkJs(st));
    let me = this;
    let f = function (): void {
      me.poll();
    };
    if (irq !== null) this.watch = setWatch(f, irq, { edge: 'falling', repeat: true });
    this.timer = setInterval(f, o.pollMs || POLL_MS);
    this.setIP(this.addr);
  }
}

// Off Espruino (Node tests) the events Espruino gives every object
setupEvents(GeneralEth.prototype);

/**
 * setup() for board b with chip driver drv (the build binds both):
 * returns the Eth object at once; the callback follows (see the top).
 */
export function setupGeneralFor(b: Board, drv: SetupDriver, opts: SetupOptions | undefined, cb?: SetupCallback): EthApi {
  let o = opts || {};
  let mac = new Uint8Array(macOf(o.mac));
  let st = createStackFor(b, null, null, undefined)!;
  let eth = new GeneralEth(st, drv, mac, o.hostname || 'slabnet', cb || null, o.timeout || 30000);
  eth.setIP(o); // a bad address fails here, not after the reset
  setupHw(b, drv.chip, o, eth);
  return eth;
}
