/*
 * setup() of the general stack's board bundles (src/setup_general.ts) in
 * Node: the ESP32 + W5500 board file, the W5500 register-level model
 * (drivers/w5500/mock.ts) on the simulation's switch (drivers/w5500/simport.ts)
 * with a general Stack running the DHCP server (test/scenario/dhcp_util.ts)
 * and another one answering DNS, and Espruino's built-ins faked as the setup
 * contract (docs/API.md) says a mock replaces them: SPI2 and the pins as
 * globals, digitalWrite/digitalRead/setWatch/clearWatch, getTime,
 * getSerial, require("NetworkJS"). Timers are vitest's fake timers,
 * stepped with the simulation's virtual clock (deterministic, no wall time).
 */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { FakeBoard, fakeTimers, restoreGlobals, ipStr } from './setup_util';
import {
  setupGeneralFor, SetupDriver, EthApi, IpInfo, W5500_STAT_NAMES, ENC28J60_STAT_NAMES,
} from '../../src/setup_general';
import { macOf, ipInfo } from '../../src/setup_common';
import { attachW5500, W5500Driver } from '../../drivers/w5500/driver';
import { Enc28j60Driver } from '../../drivers/enc28j60/driver';
import { Enc28j60Mock } from '../../drivers/enc28j60/mock';
import { W5500Mock } from '../../drivers/w5500/mock';
import { W5500SimPort } from '../../drivers/w5500/simport';
import { espruinoEsp32W5500 as ESP32 } from '../../boards/espruino-esp32-w5500';
import { Stack } from '../../src/stack';
import { ServiceMux } from '../../src/apps/service';
import { DnsServer } from '../../src/apps/dns_server';
import { DnsResolver } from '../../src/apps/dns_resolver';
import { ifconfig } from '../../src/ipv4/devinet';
import { icmpPing } from '../../src/ipv4/icmp';
import { ICMP_INECHOREPS } from '../../src/core/mib';
import { parseIpStrict } from '../../src/link/ifaddr';
import { socket, bind, listen, accept, recv, SOCK_STREAM, IPPROTO_TCP } from '../../src/socket/socket';
import type { NetworkJsObject } from '../../src/socket/networkjs';
import { dhcpLan, DhcpLan, POOL0, SRV_IP, DNS1 } from '../scenario/dhcp_util';

const CHIP: SetupDriver = { chip: 'w5500', attach: attachW5500, statNames: W5500_STAT_NAMES };
/** the ESP32's hardware over a W5500 model on lan's switch */
class Hw extends FakeBoard {
  declare chip: W5500Mock;
  constructor(lan: DhcpLan, serial: string) {
    const chip = new W5500Mock();
    new W5500SimPort(lan.sim.fabric, lan.sim.fabric.addPort(lan.sim.switches[0], 'esp32.eth0'), chip, lan.sim.clock);
    super(lan, chip, ESP32, serial);
  }
}

const G = globalThis as unknown as { [k: string]: unknown };

/** A DNS server host on DNS1 (the lease's first DNS server) with www.lan → itself, and a TCP listener on it. */
function dnsHost(lan: DhcpLan): { st: Stack; lfd: number } {
  const h = lan.sim.addHost('dns');
  expect(ifconfig(h.st, h.dev(0), ipStr(DNS1) + '/24', null)).toBe(0);
  lan.sim.up(h);
  const mux = new ServiceMux(h.st);
  const srv = new DnsServer(h.st, 53, 8);
  mux.add(srv);
  expect(mux.start()).toBe(0);
  srv.addA('www.lan', DNS1, 300);
  lan.sim.addTicker({ onTick: () => mux.run() });
  const lfd = socket(h.st, SOCK_STREAM, IPPROTO_TCP);
  expect(bind(h.st, lfd, 0, 8080)).toBe(0);
  expect(listen(h.st, lfd, 2)).toBe(0);
  return { st: h.st, lfd };
}

describe('general setup()', () => {
  beforeEach(fakeTimers);
  afterEach(() => restoreGlobals(ESP32));

  it('resets the chip, leases by DHCP, registers NetworkJS with DNS, calls back once; events, stats, static, close', () => {
    const lan = dhcpLan(21);
    const dns = dnsHost(lan);
    const hw = new Hw(lan, '3c71bf9d-1234');
    const calls: [Error | null, IpInfo | undefined][] = [];
    const leases: IpInfo[] = [];
    const eth: EthApi = setupGeneralFor(ESP32, CHIP, { hostname: 'esp32' }, (err, info) => calls.push([err, info]));
    eth.on('lease', (i) => leases.push(i as IpInfo));
    // the board file's bus and pins, CS idle high, RESET low then (>= 1 ms later) high
    expect(hw.spiSetup).toEqual({ sck: 'pin:D18', miso: 'pin:D19', mosi: 'pin:D23', baud: 20000000, mode: 0 });
    expect(hw.pins.slice(0, 2)).toEqual(['pin:D5=1', 'pin:D22=0']);
    expect(hw.nj).toBeNull();
    vi.advanceTimersByTime(1);
    expect(hw.pins).not.toContain('pin:D22=1');
    expect(hw.run(20000, () => calls.length > 0)).toBe(true);
    expect(hw.pins).toContain('pin:D22=1');
    expect(hw.watches).toBe(1);
    expect(hw.edges).toBeGreaterThan(0);
    expect(calls.length).toBe(1);
    const [err, info] = calls[0];
    expect(err).toBeNull();
    expect(info).toEqual({
      ip: ipStr(POOL0), subnet: '255.255.255.0', gateway: ipStr(SRV_IP), dns: ipStr(DNS1), mac: info!.mac, dhcp: true,
    });
    // the MAC from getSerial, made as the compact setup() makes it
    expect(info!.mac).toBe(ipInfo([0, 0, 0, 0], macOf(undefined), true).mac);
    expect(info!.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(eth.getIP()).toEqual(info);
    expect(leases).toEqual([info]);
    expect(lan.server.boundCount()).toBe(1);
    // the stack and the driver objects, the lease's DNS server given to the stack's resolver
    const st = eth.net as Stack;
    expect(st).toBeInstanceOf(Stack);
    expect(eth.dev).toBeInstanceOf(W5500Driver);
    expect(st.resolver).not.toBeNull();
    const s = eth.stats();
    // rx/tx as the compact stack names them (a program reads them on either bundle), then the MIB, device, driver
    expect(Object.keys(s).slice(0, 3)).toEqual(['rx', 'tx', 'IpInReceives']);
    expect(s.rx).toBe(s.LinkRxFrames);
    expect(s.tx).toBe(s.LinkTxFrames);
    expect(s.rx).toBeGreaterThan(0);
    expect(s.tx).toBeGreaterThan(0);
    expect(s.IpInReceives).toBeGreaterThan(0);
    expect(s.UdpInDatagrams).toBeGreaterThan(0);
    expect(s.UdpOutDatagrams).toBeGreaterThan(0);
    expect(s.LinkArpOutRequests).toBeGreaterThan(0);
    expect(s.TcpActiveOpens).toBe(0);
    expect(s.rx_packets).toBeGreaterThan(0);
    expect(s.tx_packets).toBeGreaterThan(0);
    expect(s.rxFrames).toBe(s.rx_packets);
    expect(s.txFrames).toBeGreaterThan(0);
    expect(s.rxLengthErrors).toBe(0);
    for (const k of Object.keys(s)) expect(typeof s[k], k).toBe('number');

    // Espruino's network: a TCP client by host name resolves through DNS (the lease's server) and connects
    const nj = hw.nj!;
    expect(nj).not.toBeNull();
    const sk = nj.create('www.lan', 8080, 0);
    expect(sk).toBeGreaterThanOrEqual(0);
    let sent = 0;
    expect(hw.run(5000, () => (sent = nj.send(sk, 'hello', 0)) !== 0)).toBe(true);
    expect(sent).toBe(5);
    let afd = -1;
    const buf = new Uint8Array(16);
    let got = 0;
    expect(hw.run(2000, () => {
      if (afd < 0) afd = accept(dns.st, dns.lfd, null);
      if (afd >= 0) {
        const n = recv(dns.st, afd, buf, got, buf.length - got);
        if (n > 0) got += n;
      }
      return got >= 5;
    })).toBe(true);
    expect(String.fromCharCode(...buf.subarray(0, 5))).toBe('hello');
    expect(eth.stats().TcpActiveOpens).toBe(1);
    nj.close(sk);

    // static: the lease given back (RELEASE), the new address on the device at once, answering pings
    const lost: number[] = [];
    eth.on('lost', () => lost.push(1));
    const releases = lan.server.stats().releases;
    expect(eth.setIP({ ip: '192.0.2.50', subnet: '255.255.255.0', gateway: '192.0.2.1' })).toBe(true);
    expect(eth.getIP()).toMatchObject({ ip: '192.0.2.50', subnet: '255.255.255.0', gateway: '192.0.2.1', dns: '192.0.2.1', dhcp: false });
    hw.run(100);
    expect(lan.server.stats().releases).toBe(releases + 1);
    const srv = lan.srvHost.st;
    const replies = srv.mib.icmp[ICMP_INECHOREPS];
    expect(icmpPing(srv, parseIpStrict('192.0.2.50'), 1, 1, 56)).toBe(0);
    expect(hw.run(1000, () => srv.mib.icmp[ICMP_INECHOREPS] > replies)).toBe(true);
    expect(lost).toEqual([]);
    expect(calls.length).toBe(1);
    // a bad static address throws, the address stays
    expect(() => eth.setIP({ ip: '192.0.2.999' })).toThrow(/bad ip/);
    expect(() => eth.setIP({ ip: '192.0.2.51', subnet: '255.0.255.0' })).toThrow(/bad subnet/);
    expect(eth.getIP().ip).toBe('192.0.2.50');

    // back to DHCP: the static address goes ('lost'), a lease comes ('lease'), then close: timer and watch stop
    eth.setIP();
    expect(hw.run(20000, () => eth.getIP().ip !== '192.0.2.50' && eth.getIP().ip !== '0.0.0.0')).toBe(true);
    expect(lost).toEqual([1]);
    expect(leases.length).toBe(2);
    expect(eth.getIP().dhcp).toBe(true);
    eth.close();
    expect(hw.watch).toBeNull();
    const rx = eth.stats().rx_packets;
    hw.run(300);
    expect(eth.stats().rx_packets).toBe(rx);
    expect(calls.length).toBe(1);
  });

  it('takes a static address without DHCP; the same MAC from the same serial, another from another', () => {
    const macs: string[] = [];
    for (const serial of ['3c71bf9d-1234', '3c71bf9d-1234', '3c71bf9d-1235']) {
      const lan = dhcpLan(22);
      const hw = new Hw(lan, serial);
      const calls: [Error | null, IpInfo | undefined][] = [];
      const eth = setupGeneralFor(ESP32, CHIP, { ip: '192.0.2.9', dns: '192.0.2.53', reset: null }, (e, i) => calls.push([e, i]));
      expect(hw.pins).not.toContain('pin:D22=0');
      expect(hw.run(200, () => calls.length > 0)).toBe(true);
      expect(calls[0][0]).toBeNull();
      expect(calls[0][1]).toMatchObject({ ip: '192.0.2.9', subnet: '255.255.255.0', gateway: '0.0.0.0', dns: '192.0.2.53', dhcp: false });
      expect(((eth.net as Stack).resolver as DnsResolver).server(0)).toBe(DNS1);
      expect(lan.server.stats().discovers).toBe(0);
      macs.push(eth.getIP().mac);
      eth.close();
    }
    expect(macs[0]).toBe(macs[1]);
    expect(macs[2]).not.toBe(macs[0]);
  });

  it('a setIP() before the chip is up is what start applies', () => {
    const lan = dhcpLan(25);
    const hw = new Hw(lan, 's');
    const calls: [Error | null, IpInfo | undefined][] = [];
    const eth = setupGeneralFor(ESP32, CHIP, {}, (e, i) => calls.push([e, i]));
    expect(() => eth.setIP({ ip: '192.0.2.7', subnet: '255.255.0.255' })).toThrow(/bad subnet/);
    expect(eth.setIP({ ip: '192.0.2.7', gateway: '192.0.2.1' })).toBe(true);
    expect(hw.run(200, () => calls.length > 0)).toBe(true);
    expect(calls[0][0]).toBeNull();
    expect(calls[0][1]).toMatchObject({ ip: '192.0.2.7', gateway: '192.0.2.1', dhcp: false });
    hw.run(500);
    expect(lan.server.stats().discovers).toBe(0);
    eth.close();
  });

  it('throws at once on a bad option; a chip that does not answer and a missing lease reach the callback', () => {
    const lan = dhcpLan(23);
    const hw = new Hw(lan, 'x');
    expect(() => setupGeneralFor(ESP32, CHIP, { chip: 'enc28j60' })).toThrow(/chip is w5500/);
    expect(() => setupGeneralFor(ESP32, CHIP, { cs: 'C99' })).toThrow(/no C99/);
    expect(() => setupGeneralFor(ESP32, CHIP, { spi: 'SPI9' })).toThrow(/no SPI9/);
    expect(() => setupGeneralFor(ESP32, CHIP, { ip: '192.0.2.300' })).toThrow(/bad ip/);
    expect(() => setupGeneralFor(ESP32, CHIP, { ip: '192.0.2.3', gateway: 'x' })).toThrow(/bad gateway/);
    expect(() => setupGeneralFor(ESP32, CHIP, { ip: '192.0.2.3', subnet: '255.0.255.0' })).toThrow(/bad subnet/);
    expect(() => setupGeneralFor(ESP32, CHIP, { mac: '03:00:00:00:00:01' })).toThrow(/bad mac/);
    expect(() => setupGeneralFor(ESP32, CHIP, { mac: [2, 0, 0, 0, 0] })).toThrow(/bad mac/);
    expect(hw.spiSetup).toBeNull();
    // a bus that reads all ones: no chip
    G.SPI2 = { setup: () => undefined, send: (d: Uint8Array) => new Uint8Array(d.length).fill(0xff), write: () => undefined };
    const errs: (Error | null)[] = [];
    const dead = setupGeneralFor(ESP32, CHIP, {}, (e) => errs.push(e));
    hw.run(200);
    expect(errs.length).toBe(1);
    expect(errs[0]).toBeInstanceOf(Error);
    expect(String(errs[0])).toMatch(/no w5500 on SPI/);
    expect(hw.watches).toBe(0);
    expect(dead.getIP().ip).toBe('0.0.0.0');
    // a working chip but no DHCP server on its switch: the timeout, once
    const lan2 = dhcpLan(24);
    lan2.server.stop();
    const hw2 = new Hw(lan2, 'y');
    const errs2: (Error | null)[] = [];
    const eth = setupGeneralFor(ESP32, CHIP, { timeout: 3000 }, (e) => errs2.push(e));
    hw2.run(6000);
    expect(errs2.length).toBe(1);
    expect(String(errs2[0])).toMatch(/no DHCP lease/);
    expect(eth.getIP().ip).toBe('0.0.0.0');
    expect(eth.stats().UdpOutDatagrams).toBeGreaterThan(0);
    eth.close();
    expect(hw2.watch).toBeNull();
  });

  it('reports counters the drivers have', () => {
    const st = new Stack('t', ESP32.config, { now: () => 0 }, undefined);
    const w = new W5500Driver(st, new W5500Mock(), null, new Uint8Array(6)) as unknown as { [k: string]: unknown };
    for (const n of W5500_STAT_NAMES.split(' ')) expect(typeof w[n], n).toBe('number');
    const e = new Enc28j60Driver(st, new Enc28j60Mock('enc'), null, new Uint8Array(6)) as unknown as { [k: string]: unknown };
    for (const n of ENC28J60_STAT_NAMES.split(' ')) expect(typeof e[n], n).toBe('number');
  });
});
