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
import { UdpFramesDriver, LOSS_SEED_DEFAULT, TAP_RX, TAP_TX } from '../../drivers/host/udpframes';
import { SimRng } from '../../src/sim/prng';
import { DEV_RX_ERRORS } from '../../src/core/mib';
import { put16, get16 } from '../../src/core/bytes';
import { ipCompute, csumPartial, csumFinish, csumTcpUdpMagic } from '../../src/core/checksum';
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
    expect(d.loss).toBe(0); // no loss unless asked
    expect(d.lossSeed).toBe(LOSS_SEED_DEFAULT);
  });

  it('parses --loss and --loss-seed', () => {
    const base = ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2'];
    const o = parseUpArgs(base.concat(['--loss', '0.03', '--loss-seed', '42'])) as UpOptions;
    expect(typeof o).toBe('object');
    expect(o.loss).toBe(0.03);
    expect(o.lossSeed).toBe(42);
    const e = parseUpArgs(base.concat(['--loss=.5', '--loss-seed=4294967295'])) as UpOptions;
    expect(e.loss).toBe(0.5);
    expect(e.lossSeed).toBe(4294967295);
    const z = parseUpArgs(base.concat(['--loss', '0'])) as UpOptions;
    expect(z.loss).toBe(0);
    expect(z.lossSeed).toBe(LOSS_SEED_DEFAULT);
    for (const bad of [['--loss', '1'], ['--loss', '1.0'], ['--loss', '-0.1'], ['--loss', 'abc'], ['--loss', '0.1x'],
      ['--loss', ''], ['--loss'], ['--loss-seed', '-1'], ['--loss-seed', '4294967296'], ['--loss-seed', '1.5'],
      ['--loss', '0.1', '--loss-seed']]) {
      const r = parseUpArgs(base.concat(bad));
      expect(typeof r, bad.join(' ')).toBe('string');
      expect(r as string, bad.join(' ')).toContain('--loss');
    }
  });

  it('parses --send (repeatable and comma-separated) and rejects bad forms', () => {
    const base = ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2'];
    expect((parseUpArgs(base) as UpOptions).send).toEqual([]);
    const o = parseUpArgs(base.concat(['--send', 'tcp:192.0.2.1:5555:1500000,tcp:192.0.2.1:5556:0',
      '--send=tcp:10.0.0.255:65535:281474976710656'])) as UpOptions;
    expect(typeof o).toBe('object');
    expect(o.send.length).toBe(3);
    expect(o.send[0]).toEqual({ addr: -1073741311, name: null, port: 5555, bytes: 1500000 }); // 192.0.2.1 as s32
    expect(o.send[1]).toEqual({ addr: -1073741311, name: null, port: 5556, bytes: 0 });
    expect(o.send[2].addr).toBe(0x0a0000ff);
    expect(o.send[2].port).toBe(65535);
    expect(o.send[2].bytes).toBe(281474976710656);
    for (const bad of [['--send'], ['--send', ''], ['--send', 'udp:192.0.2.1:5555:10'], ['--send', 'tcp:192.0.2.1:5555'],
      ['--send', 'tcp:192.0.2.1:0:10'], ['--send', 'tcp:192.0.2.1:65536:10'], ['--send', 'tcp:192.0.2.256:1:10'],
      ['--send', 'tcp:0.0.0.0:1:10'], ['--send', 'tcp:255.255.255.255:1:10'], ['--send', 'tcp:224.0.0.1:1:10'],
      ['--send', 'tcp:192.0.2.1:1:-5'], ['--send', 'tcp:192.0.2.1:1:1e6'], ['--send', 'tcp:192.0.2.1:1:281474976710657'],
      ['--send', 'tcp:-host:1:10'], ['--send', 'tcp:a..b:1:10'], ['--send', 'tcp:h st:1:10'],
      ['--send', 'tcp:192.0.2.1:5555:10,'], ['--send', 'tcp:192.0.2.1:5555:10:extra']]) {
      const r = parseUpArgs(base.concat(bad));
      expect(typeof r, bad.join(' ')).toBe('string');
      expect(r as string, bad.join(' ')).toContain('--send');
    }
  });

  it('a --send host name is kept for DNS (address 0 until resolved)', () => {
    const o = parseUpArgs(['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--dns', '192.0.2.1', '--send', 'tcp:peer.test:7:100,tcp:host_1:9:0']) as UpOptions;
    expect(o.send[0]).toEqual({ addr: 0, name: 'peer.test', port: 7, bytes: 100 });
    expect(o.send[1].name).toBe('host_1');
    expect(o.dns).toEqual([-1073741311]);
  });

  it('without --ip: DHCP (addr 0), --hostname as option 12; --gw/--dns need --ip', () => {
    const o = parseUpArgs(['--frames', 'udp:1:2', '--hostname', 'board-7']) as UpOptions;
    expect(typeof o).toBe('object');
    expect(o.addr).toBe(0);
    expect(o.hostName).toBe('board-7');
    expect((parseUpArgs(['--frames', 'udp:1:2']) as UpOptions).hostName).toBe('slabnet');
    for (const bad of [['--gw', '192.0.2.1'], ['--dns', '192.0.2.1'], ['--hostname', 'bad name'], ['--hostname', 'x'.repeat(64)]]) {
      expect(typeof parseUpArgs(['--frames', 'udp:1:2'].concat(bad)), bad.join(' ')).toBe('string');
    }
  });

  it('rejects bad flags with a message', () => {
    const bad: string[][] = [
      [],
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
      ['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--dns', '192.0.2'],
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

describe('UdpFramesDriver: loss injection', () => {
  it('loses frames at the given rate, per direction, reproducibly from the seed', () => {
    const st = new Stack('l', undefined, new ManualClock(0), undefined);
    const a = new UdpFramesDriver(st, { lport: 1, rport: 2, loss: 0.03, lossSeed: 7 });
    const b = new UdpFramesDriver(st, { lport: 1, rport: 2, loss: 0.03, lossSeed: 7 });
    const c = new UdpFramesDriver(st, { lport: 1, rport: 2, loss: 0.03, lossSeed: 8 });
    const N = 20000;
    let la = 0;
    let same = true;
    let diffSeed = 0;
    let txVsRx = 0;
    for (let i = 0; i < N; i++) {
      const x = a.lose(TAP_RX);
      if (x) la++;
      if (b.lose(TAP_RX) !== x) same = false;
      if (c.lose(TAP_RX) !== x) diffSeed++;
      if (a.lose(TAP_TX) !== x) txVsRx++;
    }
    expect(same).toBe(true); // same seed → same fates
    expect(diffSeed).toBeGreaterThan(0); // another seed → another pattern
    expect(txVsRx).toBeGreaterThan(0); // the two directions are independent streams
    expect(la / N).toBeGreaterThan(0.025);
    expect(la / N).toBeLessThan(0.035);
    // no loss option: never loses; out-of-range loss refused at construction
    const n = new UdpFramesDriver(st, { lport: 1, rport: 2 });
    for (let i = 0; i < 1000; i++) expect(n.lose(TAP_RX) || n.lose(TAP_TX)).toBe(false);
    expect(n.loss).toBe(0);
    expect(() => new UdpFramesDriver(st, { lport: 1, rport: 2, loss: 1 })).toThrow(RangeError);
    expect(() => new UdpFramesDriver(st, { lport: 1, rport: 2, loss: -0.5 })).toThrow(RangeError);
  });

  it('drops received and transmitted frames over real UDP, counts them, frees every skb', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const st = new Stack('u', undefined, new ManualClock(0), undefined);
    const LOSS = 0.3;
    const SEED = 99;
    const drv = new UdpFramesDriver(st, { lport, rport: peer.port, loss: LOSS, lossSeed: SEED });
    const dev = drv.register('eth0', new Uint8Array(SLAB_MAC), 1500);
    await drv.open();
    drv.onRx = () => st.poll();
    const d = st.link.devs[dev];
    // the expected fates, from an independent PRNG with the same seed (rx stream)
    const ref = new SimRng(SEED);
    const N = 60;
    let wantLost = 0;
    for (let i = 0; i < N; i++) if (ref.next() < LOSS) wantLost++;
    expect(wantLost).toBeGreaterThan(0);
    expect(wantLost).toBeLessThan(N);
    // receive: N ARP requests, each survives or is lost
    for (let i = 0; i < N; i++) peer.s.send(arpRequest([192, 0, 2, 77]), lport, '127.0.0.1');
    expect(await until(() => drv.rxDatagrams === N, 3000)).toBe(true);
    st.poll();
    expect(drv.lostRx).toBe(wantLost);
    // every frame not lost reached rxFrame (refused there: the device is down, so nothing is sent back)
    expect(drv.rxRefused).toBe(N - wantLost);
    // transmit: N frames straight to startXmit
    let txDone = 0;
    for (let i = 0; i < N; i++) {
      const skb = st.pool.alloc(60);
      expect(skb).toBeGreaterThanOrEqual(0);
      st.pool.put(skb, 60);
      const b = st.pool.buf[skb];
      for (let j = 0; j < 60; j++) b[st.pool.data[skb] + j] = j === 59 ? i : 0xee;
      drv.startXmit(d, skb);
      txDone++;
    }
    expect(txDone).toBe(N);
    expect(drv.lostTx).toBeGreaterThan(0);
    expect(drv.lostTx).toBeLessThan(N);
    expect(drv.txDatagrams).toBe(N - drv.lostTx);
    expect(await until(() => peer.got.length === N - drv.lostTx, 3000)).toBe(true);
    const s = drv.stats();
    expect(s.lostRx).toBe(wantLost);
    expect(s.lostTx).toBe(drv.lostTx);
    expect(s.txErrors).toBe(0);
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
      expect(out).not.toContain('loss='); // the ready line is unchanged without --loss
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

  it('--loss: loses frames in the driver, reports them in the JSON counters', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const LOSS = 0.5;
    const SEED = 3;
    const N = 24;
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', '192.0.2.2/24', '--frames', `udp:${lport}:${peer.port}`,
      '--loss', String(LOSS), '--loss-seed', String(SEED),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => out.includes('ready'), 15000), err).toBe(true);
      expect(out.split('\n')[0]).toMatch(/ serve=- loss=0\.5 seed=3$/);
      // which of the N requests the receive stream loses: the same PRNG, same seed
      const ref = new SimRng(SEED);
      let wantLost = 0;
      for (let i = 0; i < N; i++) if (ref.next() < LOSS) wantLost++;
      for (let i = 0; i < N; i++) peer.s.send(arpRequest(SLAB_IP), lport, '127.0.0.1');
      // let the replies that survive the transmit stream arrive
      await new Promise((r) => setTimeout(r, 800));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      const c = JSON.parse(lines[lines.length - 1]);
      expect(c.Driver.rxDatagrams).toBe(N);
      expect(c.Driver.lostRx).toBe(wantLost);
      expect(c.Link.ArpInRequests).toBe(N - wantLost);
      // every frame sent (gratuitous ARP + one reply per request heard) is either on the wire or lost
      const sent = c.Driver.txDatagrams + c.Driver.lostTx;
      expect(sent).toBe(c.Dev.tx_packets);
      expect(c.Driver.lostTx).toBeGreaterThan(0);
      expect(c.Driver.txDatagrams).toBe(peer.got.length);
      expect(c.Link.ArpOutReplies).toBe(N - wantLost);
      expect(sent).toBeGreaterThanOrEqual(N - wantLost);
      expect(c.Pool.InUse).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      peer.s.close();
    }
  }, 30000);

  it('--send: resolves the peer by ARP, connects, prints `send: error ECONNREFUSED` for a RST, reports it in the JSON', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const mac = SLAB_MAC.map((b) => b.toString(16).padStart(2, '0')).join(':');
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', '192.0.2.2/24', '--frames', `udp:${lport}:${peer.port}`,
      '--mac', mac, '--send', 'tcp:192.0.2.1:5556:1000',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // the peer 192.0.2.1: answers ARP for itself, resets every SYN (a closed port)
    let syns = 0;
    peer.s.on('message', (m: Buffer) => {
      if (get16(m, 12) === 0x0806 && get16(m, 20) === 1 && m.subarray(38, 42).equals(Buffer.from(PEER_IP))) {
        const r = Buffer.alloc(60);
        for (let i = 0; i < 6; i++) {
          r[i] = m[6 + i];
          r[6 + i] = PEER_MAC[i];
          r[22 + i] = PEER_MAC[i];
          r[32 + i] = m[22 + i];
        }
        put16(r, 12, 0x0806);
        put16(r, 14, 1);
        put16(r, 16, 0x0800);
        r[18] = 6;
        r[19] = 4;
        put16(r, 20, 2);
        for (let i = 0; i < 4; i++) {
          r[28 + i] = PEER_IP[i];
          r[38 + i] = m[28 + i];
        }
        peer.s.send(r, lport, '127.0.0.1');
      } else if (get16(m, 12) === 0x0800 && m[23] === 6 && (m[14 + 20 + 13] & 0x02) !== 0) {
        syns++;
        const th = 14 + (m[14] & 0xf) * 4;
        const f = Buffer.alloc(14 + 20 + 20);
        for (let i = 0; i < 6; i++) {
          f[i] = m[6 + i];
          f[6 + i] = PEER_MAC[i];
        }
        put16(f, 12, 0x0800);
        f[14] = 0x45;
        put16(f, 16, 40);
        f[22] = 64;
        f[23] = 6;
        for (let i = 0; i < 4; i++) {
          f[26 + i] = m[30 + i];
          f[30 + i] = m[26 + i];
        }
        put16(f, 24, ipCompute(f, 14, 20));
        put16(f, 34, get16(m, th + 2));
        put16(f, 36, get16(m, th));
        const ack = (m.readUInt32BE(th + 4) + 1) >>> 0;
        f.writeUInt32BE(ack, 42);
        f[46] = 0x50;
        f[47] = 0x14; // RST | ACK
        const sum = csumTcpUdpMagic(f.readUInt32BE(26), f.readUInt32BE(30), 20, 6);
        put16(f, 50, csumFinish(csumPartial(f, 34, 20, sum)));
        peer.s.send(f, lport, '127.0.0.1');
      }
    });
    try {
      expect(await until(() => out.includes('ready'), 15000), err).toBe(true);
      expect(out.split('\n')[0]).toMatch(/ serve=- send=tcp:192\.0\.2\.1:5556:1000$/);
      expect(await until(() => out.includes('send: '), 10000), err).toBe(true);
      expect(out).toMatch(/\nsend: error ECONNREFUSED to 192\.0\.2\.1:5556 after [0-9.]+ ms \(0 bytes sent\)\n/);
      expect(syns).toBe(1);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      const c = JSON.parse(lines[lines.length - 1]);
      expect(c.Tcp.ActiveOpens).toBe(1);
      expect(c.Tcp.AttemptFails).toBeGreaterThanOrEqual(1);
      expect(c.Services['tcp-send'].errno).toBe(111);
      expect(c.Services['tcp-send'].done).toBe(0);
      expect(c.Services['tcp-send'].connected).toBe(0);
      expect(c.Pool.InUse).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      peer.s.close();
    }
  }, 30000);

  it('exits 2 with usage on a bad --send', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', '192.0.2.2/24',
      '--frames', 'udp:1:2', '--send', 'tcp:192.0.2.1:5555'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('bad --send');
    expect(err).toContain('--send tcp:ADDR:PORT:BYTES');
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
