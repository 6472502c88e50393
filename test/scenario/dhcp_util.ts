/*
 * dhcp_util.ts — fixtures for the DHCP scenarios: a simulated LAN with a
 * DhcpServer on 192.0.2.1 and clients without addresses, a capture of
 * the switch, and a decoder that turns the pcap back into DHCP and ARP
 * events (what a reader would see in Wireshark). Not a test file.
 */
import { expect } from 'vitest';
import { Sim, SimHost } from '../../src/sim/world';
import { PcapWriter, readPcap } from '../../src/sim/pcap';
import { ifconfig } from '../../src/ipv4/devinet';
import { parseIpStrict, formatIp } from '../../src/link/ifaddr';
import { get16 } from '../../src/core/bytes';
import { getAddr } from '../../src/core/inaddr';
import { DhcpServer, DhcpServerOptions } from '../../src/apps/dhcp_server';
import { DhcpClient, DhcpClientOptions, DhcpEventHandler } from '../../src/apps/dhcp_client';
import { DhcpMsg, dhcpParse, DHCP_SERVER_PORT, DHCP_CLIENT_PORT } from '../../src/wire/dhcp';

export const SRV_IP = parseIpStrict('192.0.2.1');
export const POOL0 = parseIpStrict('192.0.2.100');
export const DNS1 = parseIpStrict('192.0.2.53');
export const DNS2 = parseIpStrict('192.0.2.54');

export const EV_NAMES = ['', 'BOUND', 'RENEWED', 'LOST', 'CONFLICT', 'NAK', 'RELEASED'];

export class EventLog implements DhcpEventHandler {
  readonly ev: { t: number; kind: string; dev: number; addr: string }[] = [];
  constructor(readonly sim: Sim) {}
  onDhcpEvent(kind: number, dev: number, addr: number): void {
    this.ev.push({ t: this.sim.now(), kind: EV_NAMES[kind], dev, addr: formatIp(addr) });
  }
  kinds(): string[] {
    return this.ev.map((e) => e.kind);
  }
  last(): string {
    return this.ev.length > 0 ? this.ev[this.ev.length - 1].kind : '';
  }
  count(kind: string): number {
    return this.ev.filter((e) => e.kind === kind).length;
  }
}

export interface DhcpLan {
  sim: Sim;
  pcap: PcapWriter;
  srvHost: SimHost;
  server: DhcpServer;
}

/** A LAN with the server host 'srv' (192.0.2.1/24) running a DhcpServer over 192.0.2.100+. */
export function dhcpLan(seed: number, over?: Partial<DhcpServerOptions>): DhcpLan {
  const sim = new Sim({ seed, stepMs: 100 });
  const pcap = new PcapWriter();
  sim.captureSwitch(sim.switches[0], pcap);
  const srvHost = sim.addHost('srv');
  expect(ifconfig(srvHost.st, srvHost.dev(0), '192.0.2.1/24', null)).toBe(0);
  sim.up(srvHost);
  const o: DhcpServerOptions = {
    poolStart: POOL0,
    poolSize: 8,
    prefixLen: 24,
    leaseSec: 300,
    router: SRV_IP,
    dns: [DNS1, DNS2],
  };
  if (over !== undefined) Object.assign(o, over);
  const server = new DhcpServer(srvHost.st, srvHost.dev(0), o);
  expect(server.start()).toBe(0);
  return { sim, pcap, srvHost, server };
}

export interface ClientHost {
  h: SimHost;
  c: DhcpClient;
  log: EventLog;
}

/** A host without an address, device up, and a started DhcpClient on it. */
export function addClient(lan: DhcpLan, name: string, opts: DhcpClientOptions | null): ClientHost {
  const h = lan.sim.addHost(name);
  lan.sim.up(h);
  const c = new DhcpClient(h.st);
  const log = new EventLog(lan.sim);
  c.handler = log;
  expect(c.start(h.dev(0), opts)).toBe(0);
  return { h, c, log };
}

/** One DHCP message or ARP packet as captured on the switch. */
export interface WireEv {
  t: number;
  kind: 'dhcp' | 'arp';
  /** DHCP: message type (1..8); ARP: op */
  type: number;
  src: number;
  dst: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  requestedIp: number;
  serverId: number;
  /** ARP sender/target IP */
  sip: number;
  tip: number;
  /** Ethernet source, "aa:bb:.." */
  smac: string;
  dstMacBroadcast: boolean;
}

const TYPE = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];
export function typeName(e: WireEv): string {
  return e.kind === 'arp' ? (e.sip === 0 ? 'ARP-PROBE' : e.type === 1 ? 'ARP-REQ' : 'ARP-REPLY') : TYPE[e.type];
}

/** Decode the capture: every DHCP message (ports 67/68) and every ARP packet, in order. */
export function decodeCapture(pcap: PcapWriter): WireEv[] {
  const f = readPcap(new Uint8Array(pcap.bytes()));
  expect(f).not.toBeNull();
  const out: WireEv[] = [];
  const m = new DhcpMsg();
  for (const r of f!.records) {
    const d = r.data;
    if (d.length < 14) continue;
    const et = get16(d, 12);
    let smac = '';
    for (let i = 6; i < 12; i++) smac += (i > 6 ? ':' : '') + d[i].toString(16).padStart(2, '0');
    const bc = d[0] === 0xff && d[1] === 0xff && d[2] === 0xff && d[3] === 0xff && d[4] === 0xff && d[5] === 0xff;
    const base = {
      t: r.tsMs, src: 0, dst: 0, xid: 0, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, requestedIp: 0, serverId: 0,
      sip: 0, tip: 0, smac, dstMacBroadcast: bc,
    };
    if (et === 0x0806 && d.length >= 42) {
      out.push(Object.assign(base, { kind: 'arp' as const, type: get16(d, 20), sip: getAddr(d, 28), tip: getAddr(d, 38) }));
      continue;
    }
    if (et !== 0x0800 || d.length < 42 || d[23] !== 17) continue;
    const ihl = (d[14] & 15) * 4;
    const u = 14 + ihl;
    const sp = get16(d, u);
    const dp = get16(d, u + 2);
    if (!((sp === DHCP_CLIENT_PORT && dp === DHCP_SERVER_PORT) || (sp === DHCP_SERVER_PORT && dp === DHCP_CLIENT_PORT))) continue;
    const ulen = get16(d, u + 4);
    expect(dhcpParse(d, u + 8, ulen - 8, m)).toBe(0);
    out.push(Object.assign(base, {
      kind: 'dhcp' as const, type: m.msgType, src: getAddr(d, 26), dst: getAddr(d, 30), xid: m.xid, secs: m.secs,
      flags: m.flags, ciaddr: m.ciaddr, yiaddr: m.yiaddr, requestedIp: m.requestedIp, serverId: m.serverId,
    }));
  }
  return out;
}

/** One line per event, for failure messages. */
export function describeWire(evs: WireEv[]): string {
  return evs
    .map((e) =>
      (e.t / 1000).toFixed(3) + ' ' + typeName(e) + ' ' +
      (e.kind === 'dhcp'
        ? formatIp(e.src) + '>' + formatIp(e.dst) + ' xid=' + e.xid.toString(16) + ' ci=' + formatIp(e.ciaddr) +
          ' yi=' + formatIp(e.yiaddr) + ' req=' + formatIp(e.requestedIp) + ' sid=' + formatIp(e.serverId)
        : formatIp(e.sip) + '>' + formatIp(e.tip) + ' ' + e.smac))
    .join('\n');
}

/** DHCP messages of one type, optionally only from one Ethernet source. */
export function ofType(evs: WireEv[], type: number, smac?: string): WireEv[] {
  return evs.filter((e) => e.kind === 'dhcp' && e.type === type && (smac === undefined || e.smac === smac));
}

export function macStr(h: SimHost): string {
  const m = h.st.link.devs[h.dev(0)].mac;
  let s = '';
  for (let i = 0; i < 6; i++) s += (i > 0 ? ':' : '') + m[i].toString(16).padStart(2, '0');
  return s;
}
