/*
 * setup() of the compact board bundles (src/compact/setup.ts) in Node:
 * the Pico's board file, the ENC28J60 register-level model on a simulated
 * switch (drivers/sim/chipport.ts) with the simulation's DHCP server
 * (test/scenario/dhcp_util.ts), and Espruino's built-ins faked as the
 * setup contract (docs/API.md) says a mock replaces them (test/unit/setup_util.ts
 * FakeBoard). Timers are vitest's fake timers, stepped with the
 * simulation's virtual clock.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { FakeBoard, fakeTimers, restoreGlobals, ipStr } from './setup_util';
import { setupFor, SetupChip, EthApi, IpInfo } from '../../src/compact/setup';
import { encAttach, encPoll, encLinkUp, ENC_CNT_NAMES } from '../../src/compact/enc28j60';
import { Enc28j60Mock, Enc28j60SimPort } from '../../drivers/enc28j60/mock';
import { espruinoPicoEnc28j60 as PICO } from '../../boards/espruino-pico-enc28j60';
import { dhcpLan, DhcpLan, POOL0, SRV_IP, DNS1 } from '../scenario/dhcp_util';

const CHIP: SetupChip = {
  chip: 'enc28j60',
  attach: encAttach,
  poll: encPoll as SetupChip['poll'],
  linkUp: encLinkUp as SetupChip['linkUp'],
  cntNames: ENC_CNT_NAMES,
};
/** the Pico's hardware over an ENC28J60 model on lan's switch */
class Hw extends FakeBoard {
  constructor(lan: DhcpLan, serial: string) {
    const chip = new Enc28j60Mock('pico');
    new Enc28j60SimPort(chip, lan.sim.fabric, lan.sim.fabric.addPort(lan.sim.switches[0], 'pico.eth0'), lan.sim.clock);
    super(lan, chip, PICO, serial);
  }
}

const G = globalThis as unknown as { [k: string]: unknown };

describe('compact setup()', () => {
  beforeEach(fakeTimers);
  afterEach(() => restoreGlobals(PICO));

  it('resets the chip, leases an address by DHCP, registers NetworkJS, calls back once, then events and stats', () => {
    const lan = dhcpLan(11);
    const hw = new Hw(lan, '33ffd605-41573033-15720843');
    const calls: [Error | null, IpInfo | undefined][] = [];
    const leases: IpInfo[] = [];
    const eth: EthApi = setupFor(PICO, CHIP, { hostname: 'pico1' }, (err, info) => calls.push([err, info]));
    eth.on('lease', (i) => leases.push(i as IpInfo));
    // the board file's bus and pins, RESET low then high, CS idle high
    expect(hw.spiSetup).toEqual({ sck: 'pin:B13', miso: 'pin:B14', mosi: 'pin:B15', baud: 10000000, mode: 0 });
    expect(hw.pins.slice(0, 2)).toEqual(['pin:B10=1', 'pin:A8=0']);
    expect(hw.run(10000, () => calls.length > 0)).toBe(true);
    expect(hw.pins).toContain('pin:A8=1');
    expect(hw.nj).not.toBeNull();
    expect(typeof hw.nj!.create).toBe('function');
    expect(calls.length).toBe(1);
    const [err, info] = calls[0];
    expect(err).toBeNull();
    expect(info!.ip).toBe(ipStr(POOL0));
    expect(info!.gateway).toBe(ipStr(SRV_IP));
    expect(info!.subnet).toBe('255.255.255.0');
    expect(info!.dhcp).toBe(true);
    // the MAC from getSerial: locally administered unicast, the same for the same serial
    expect(info!.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(leases.map((l) => l.ip)).toEqual([ipStr(POOL0)]);
    expect(eth.getIP()).toEqual(info);
    expect(info!.dns).toBe(ipStr(DNS1));
    expect(lan.server.boundCount()).toBe(1);
    const s = eth.stats();
    expect(s.rx).toBeGreaterThan(0);
    expect(s.tx).toBeGreaterThan(0);
    expect(s.rxBad).toBe(0);
    // static: the lease given back (RELEASE), the new address at once
    const lost: number[] = [];
    eth.on('lost', () => lost.push(1));
    expect(eth.setIP({ ip: '192.0.2.50', subnet: '255.255.255.0', gateway: '192.0.2.1' })).toBe(true);
    expect(eth.getIP()).toMatchObject({ ip: '192.0.2.50', gateway: '192.0.2.1', dns: '192.0.2.1', dhcp: false });
    hw.run(100);
    expect(calls.length).toBe(1);
    // back to DHCP, then close: the timer and the watch stop
    eth.setIP();
    expect(hw.run(10000, () => eth.getIP().ip !== '192.0.2.50' && eth.getIP().ip !== '0.0.0.0')).toBe(true);
    eth.close();
    expect(hw.watch).toBeNull();
    const rx = eth.stats().rx;
    hw.run(200);
    expect(eth.stats().rx).toBe(rx);
    expect(calls.length).toBe(1);
  });

  it('a setIP() made before the chip is up is what applies once it is (no DHCP then)', () => {
    const lan = dhcpLan(15);
    const hw = new Hw(lan, 's');
    const calls: [Error | null, IpInfo | undefined][] = [];
    const eth = setupFor(PICO, CHIP, {}, (err, info) => calls.push([err, info]));
    expect(() => eth.setIP({ ip: '192.0.2.999' })).toThrow(/bad ip/);
    expect(eth.setIP({ ip: '192.0.2.60', gateway: '192.0.2.1' })).toBe(true);
    expect(hw.run(2000, () => calls.length > 0)).toBe(true);
    expect(calls[0][0]).toBeNull();
    expect(calls[0][1]).toMatchObject({ ip: '192.0.2.60', gateway: '192.0.2.1', dhcp: false });
    hw.run(1000);
    expect(lan.server.boundCount()).toBe(0);
    eth.close();
  });

  it("emits 'link' when the cable is pulled and plugged again (read about once a second)", () => {
    const lan = dhcpLan(16);
    const hw = new Hw(lan, 'l');
    const chip = hw.chip as Enc28j60Mock;
    const links: unknown[] = [];
    const eth = setupFor(PICO, CHIP, { ip: '192.0.2.61' }, () => undefined);
    eth.on('link', (up) => links.push(up));
    hw.run(200);
    expect(links).toEqual([]);
    chip.setLink(false);
    expect(hw.run(2000, () => links.length > 0)).toBe(true);
    expect(links).toEqual([false]);
    chip.setLink(true);
    expect(hw.run(2000, () => links.length > 1)).toBe(true);
    expect(links).toEqual([false, true]);
    eth.close();
  });

  it('derives the same MAC from the same serial and another from another', () => {
    const macs: string[] = [];
    for (const serial of ['33ffd605-41573033-15720843', '33ffd605-41573033-15720843', '33ffd605-41573033-15720844']) {
      const lan = dhcpLan(12);
      new Hw(lan, serial);
      macs.push(setupFor(PICO, CHIP, { ip: '192.0.2.9' }).getIP().mac);
    }
    expect(macs[0]).toBe(macs[1]);
    expect(macs[2]).not.toBe(macs[0]);
  });

  it('throws at once on a bad option; a chip that does not answer and a missing lease reach the callback', () => {
    const lan = dhcpLan(13);
    const hw = new Hw(lan, 'x');
    expect(() => setupFor(PICO, CHIP, { chip: 'w5500' })).toThrow(/chip is enc28j60/);
    expect(() => setupFor(PICO, CHIP, { cs: 'C99' })).toThrow(/no C99/);
    expect(() => setupFor(PICO, CHIP, { ip: '192.0.2.300' })).toThrow(/bad ip/);
    expect(() => setupFor(PICO, CHIP, { ip: '192.0.2.3', gateway: 'x' })).toThrow(/bad gateway/);
    expect(() => setupFor(PICO, CHIP, { mac: '03:00:00:00:00:01' })).toThrow(/bad mac/);
    expect(() => setupFor(PICO, CHIP, { mac: [2, 0, 0, 0, 0] })).toThrow(/bad mac/);
    // a bus that reads all ones: no chip
    G.SPI2 = { setup: () => undefined, send: (d: Uint8Array) => new Uint8Array(d.length).fill(0xff), write: () => undefined };
    const errs: (Error | null)[] = [];
    setupFor(PICO, CHIP, {}, (e) => errs.push(e));
    hw.run(200);
    expect(errs.length).toBe(1);
    expect(String(errs[0])).toMatch(/no enc28j60 on SPI/);
    // a working chip but no DHCP server on its switch: the timeout, once
    const lan2 = dhcpLan(14);
    lan2.server.stop();
    const hw2 = new Hw(lan2, 'y');
    const errs2: (Error | null)[] = [];
    const eth = setupFor(PICO, CHIP, { timeout: 3000 }, (e) => errs2.push(e));
    hw2.run(5000);
    expect(errs2.length).toBe(1);
    expect(String(errs2[0])).toMatch(/no DHCP lease/);
    expect(eth.getIP().ip).toBe('0.0.0.0');
    eth.close();
  });
});
