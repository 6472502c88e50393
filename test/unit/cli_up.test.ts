/*
 * cli_up.test.ts — `slabnet up` without root: argument parsing, the
 * UDP-framed Ethernet driver (drivers/host/udpframes.ts) on real loopback
 * UDP sockets, and the whole process (spawned) answering ARP and ping and
 * printing its counters as one line of JSON on SIGTERM.
 */
import { describe, it, expect } from 'vitest';
import * as dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseUpArgs, UpOptions } from '../../src/cli/up';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { devOpen } from '../../src/link/dev';
import { ifconfig } from '../../src/ipv4/devinet';
import { UdpFramesDriver } from '../../drivers/host/udpframes';
import { DEV_RX_ERRORS } from '../../src/core/mib';
import { put16, get16 } from '../../src/core/bytes';
import { ipCompute, csumPartial, csumFinish } from '../../src/core/checksum';
import { readPcap } from '../../src/sim/pcap';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PEER_MAC = [0x02, 0, 0, 0, 0, 0x01];
const PEER_IP = [192, 0, 2, 1];
const SLAB_IP = [192, 0, 2, 2];
const SLAB_MAC = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

function arpRequest(targetIp: number[]): Buffer {
  const f = Buffer.alloc(60);
  for (let i = 0; i < 6; i++) {
    f[i] = 0xff;
    f[6 + i] = PEER_MAC[i];
    f[22 + i] = PEER_MAC[i];
  }
  put16(f, 12, 0x0806);
  put16(f, 14, 1);
  put16(f, 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);
  for (let i = 0; i < 4; i++) {
    f[28 + i] = PEER_IP[i];
    f[38 + i] = targetIp[i];
  }
  return f;
}

function icmpEcho(dmac: number[], seq: number, payload: number): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + payload);
  for (let i = 0; i < 6; i++) {
    f[i] = dmac[i];
    f[6 + i] = PEER_MAC[i];
  }
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, 20 + 8 + payload);
  put16(f, 18, 0x4242);
  f[22] = 64;
  f[23] = 1;
  for (let i = 0; i < 4; i++) {
    f[26 + i] = PEER_IP[i];
    f[30 + i] = SLAB_IP[i];
  }
  put16(f, 24, ipCompute(f, 14, 20));
  f[34] = 8;
  put16(f, 38, 0x77);
  put16(f, 40, seq);
  for (let i = 0; i < payload; i++) f[42 + i] = i & 0xff;
  put16(f, 36, csumFinish(csumPartial(f, 34, 8 + payload, 0)));
  return f;
}

/** A UDP socket on 127.0.0.1 (port 0 = any) collecting datagrams. */
async function peerSocket(): Promise<{ s: dgram.Socket; port: number; got: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { s, port: s.address().port, got };
}

async function freePort(): Promise<number> {
  const p = await peerSocket();
  const port = p.port;
  await new Promise<void>((r) => p.s.close(() => r()));
  return port;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('slabnet up: arguments', () => {
  it('parses the documented flags', () => {
    const o = parseUpArgs([
      '--ip', '192.0.2.2/24', '--gw', '192.0.2.1', '--frames', 'udp:47001:47002', '--serve', 'echo,discard',
      '--pcap', '/tmp/x.pcap', '--mac', 'aa:bb:cc:dd:ee:f0',
    ]) as UpOptions;
    expect(typeof o).toBe('object');
    expect(o.prefixLen).toBe(24);
    expect(o.lport).toBe(47001);
    expect(o.rport).toBe(47002);
    expect(o.serve).toEqual(['echo', 'discard']);
    expect(o.pcap).toBe('/tmp/x.pcap');
    expect(Array.from(o.mac)).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0]);
    expect(o.gw).not.toBe(0);
    const d = parseUpArgs(['--ip=192.0.2.9/24', '--frames=udp:1:2']) as UpOptions;
    expect(d.serve).toEqual([]);
    expect(d.gw).toBe(0);
    expect(Array.from(d.mac)).toEqual([0x02, 0x73, 0x6c, 0, 2, 9]); // derived, locally administered
  });

  it('rejects bad flags with a message', () => {
    const bad: string[][] = [
      [],
      ['--frames', 'udp:1:2'],
      ['--ip', '192.0.2.2/24'],
      ['--ip', '192.0.2.2', '--frames', 'udp:1:2'],
      ['--ip', '192.0.2.300/24', '--frames', 'udp:1:2'],
      ['--ip', '192.0.2.2/33', '--frames', 'udp:1:2'],
      ['--ip', '192.0.2.2/24', '--frames', 'tcp:1:2'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:0:2'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:70000'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--serve', 'echo,gopher'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--mac', 'zz:bb:cc:dd:ee:ff'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--mac', '01:00:5e:00:00:01'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--gw', 'router'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--mtu', '40'],
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--bogus'],
      ['--ip'],
    ];
    for (const b of bad) expect(typeof parseUpArgs(b), b.join(' ')).toBe('string');
  });
});

describe('UdpFramesDriver', () => {
  it('carries frames over loopback UDP, drops runts, answers ARP', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const clock = new ManualClock(0);
    const st = new Stack('u', undefined, clock, undefined);
    const drv = new UdpFramesDriver(st, { lport, rport: peer.port });
    const dev = drv.register('eth0', new Uint8Array(SLAB_MAC), 1500);
    expect(dev).toBe(0);
    await drv.open();
    let rx = 0;
    drv.onRx = () => {
      rx++;
      st.poll();
    };
    expect(ifconfig(st, dev, '192.0.2.2/24', null)).toBe(0);
    devOpen(st, dev);
    // the gratuitous ARP announcement goes out as one datagram
    expect(await until(() => peer.got.length >= 1, 2000)).toBe(true);
    expect(get16(peer.got[0], 12)).toBe(0x0806);
    // a runt (shorter than an Ethernet header): dropped and counted
    peer.s.send(Buffer.from([1, 2, 3, 4, 5]), lport, '127.0.0.1');
    expect(await until(() => drv.rxRunts === 1, 2000)).toBe(true);
    expect(st.link.devs[dev].stats.v[DEV_RX_ERRORS]).toBe(1);
    // an ARP request for our address: one ARP reply with our MAC
    const before = peer.got.length;
    peer.s.send(arpRequest(SLAB_IP), lport, '127.0.0.1');
    expect(await until(() => peer.got.length > before, 2000)).toBe(true);
    const r = peer.got[peer.got.length - 1];
    expect(get16(r, 12)).toBe(0x0806);
    expect(get16(r, 20)).toBe(2);
    expect(Array.from(r.subarray(22, 28))).toEqual(SLAB_MAC);
    expect(Array.from(r.subarray(0, 6))).toEqual(PEER_MAC);
    expect(rx).toBe(2);
    expect(drv.rxDatagrams).toBe(2);
    expect(drv.txErrors).toBe(0);
    drv.close();
    await new Promise<void>((res) => peer.s.close(() => res()));
    expect(st.pool.inUse()).toBe(0);
  });
});

describe('slabnet up: the process', () => {
  it('answers ARP and ping, captures a pcap, prints JSON counters on SIGTERM', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slabnet-up-'));
    const pcap = path.join(tmp, 'up.pcap');
    const mac = SLAB_MAC.map((b) => b.toString(16).padStart(2, '0')).join(':');
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', '192.0.2.2/24', '--gw', '192.0.2.1',
      '--frames', `udp:${lport}:${peer.port}`, '--serve', 'echo,discard', '--pcap', pcap, '--mac', mac,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => out.includes('ready'), 15000), err).toBe(true);
      expect(out).toContain('ip=192.0.2.2/24');
      expect(out).toContain('mac=' + mac);
      peer.s.send(arpRequest(SLAB_IP), lport, '127.0.0.1');
      const isArpReply = (b: Buffer) => get16(b, 12) === 0x0806 && get16(b, 20) === 2;
      expect(await until(() => peer.got.some(isArpReply), 5000)).toBe(true);
      // three echo requests: three replies, well-formed
      for (let seq = 1; seq <= 3; seq++) peer.s.send(icmpEcho(SLAB_MAC, seq, 1000), lport, '127.0.0.1');
      const isEchoReply = (b: Buffer) => get16(b, 12) === 0x0800 && b[23] === 1 && b[34] === 0;
      expect(await until(() => peer.got.filter(isEchoReply).length === 3, 5000)).toBe(true);
      const rep = peer.got.filter(isEchoReply)[0];
      expect(rep.length).toBe(14 + 20 + 8 + 1000);
      expect(ipCompute(rep, 14, 20)).toBe(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      const c = JSON.parse(lines[lines.length - 1]);
      expect(c.Icmp.InEchos).toBe(3);
      expect(c.Icmp.OutEchoReps).toBe(3);
      expect(c.Link.ArpInRequests).toBeGreaterThanOrEqual(1);
      expect(c.Dev.rx_packets).toBe(4);
      expect(c.Pool.InUse).toBe(0);
      expect(c.Services['udp-echo'].datagrams).toBe(0);
      expect(c.Driver.rxDatagrams).toBe(4);
      const cap = readPcap(new Uint8Array(fs.readFileSync(pcap)));
      expect(cap).not.toBe(null);
      // 4 in + (gratuitous ARP, ARP reply, 3 echo replies) out at least
      expect(cap!.records.length).toBeGreaterThanOrEqual(9);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      peer.s.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 30000);

  it('exits 2 with usage on bad flags', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', 'nope'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('usage: slabnet up');
  }, 30000);
});
