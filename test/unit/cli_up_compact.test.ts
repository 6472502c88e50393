/*
 * cli_up_compact.test.ts — `slabnet up --board ID` with a compact bundle
 * (the small boards' src/compact/ stack; src/cli/up_compact.ts,
 * src/host/compact_services.ts), without root: the Pico's compact bundle,
 * built here from the current sources (rollup, as `npm run build` does,
 * into a temporary file), loaded with Node's Espruino built-ins and wired
 * in-process to a source-built stack: ping, fragments dropped and counted,
 * UDP echo through its NetworkJS adapter (a datagram over its udpBuf
 * dropped and counted), ICMP port unreachable, TCP echo, HTTP GET
 * /bytes/N and PUT /upload, a refused connection (RST); then the whole
 * `slabnet up --board` process on loopback UDP: the ready line, ARP,
 * ping, UDP echo, its JSON counters, and its exit-2 errors.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { CompactApi, loadBundle, isCompactBundle, compactFeatures, espruinoGlobals } from '../../src/host/bundle';
import { CompactUdpService, CompactTcpEcho, CompactHttp, PATTERN_PERIOD } from '../../src/host/compact_services';
import { compactProblem } from '../../src/cli/up_compact';
import { parseUpArgs, UpOptions } from '../../src/cli/up';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { ifconfig } from '../../src/ipv4/devinet';
import { registerNetdev, rxFrame, devTxComplete, devOpen } from '../../src/link/dev';
import { NetDevice, NETDEV_TX_OK } from '../../src/link/netdev';
import { icmpPing } from '../../src/ipv4/icmp';
import * as sock from '../../src/socket/socket';
import { SOCK_STREAM, SOCK_DGRAM } from '../../src/socket/sock';
import { EINPROGRESS, EAGAIN, ECONNREFUSED } from '../../src/core/errno';
import { parseIp } from '../../src/link/ifaddr';
import { fillPattern } from '../../src/apps/http_parse';
import { put16, get16 } from '../../src/core/bytes';
import { ipCompute, csumPartial, csumFinish } from '../../src/core/checksum';
import type { Net as CompactNet } from '../../src/compact/net';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PICO = 'espruino-pico-enc28j60';

let tmp = '';
let picoFile = '';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slabnet-compact-'));
  picoFile = path.join(tmp, PICO + '.min.js');
  // the Pico's compact bundle (its default profile, full), as `npm run build` makes dist/espruino/<id>.min.js
  // @ts-expect-error plain JavaScript module without type declarations
  const cfg = await import('../../rollup.config.js');
  const { rollup } = await import('rollup');
  const mod = await import('../../boards/' + PICO);
  const board = mod.espruinoPicoEnc28j60;
  expect(board.compact.profile).toBe('full');
  const b = await rollup(cfg.espruinoInputOptions(false, { board, exportName: 'espruinoPicoEnc28j60', compact: 'full' }));
  await b.write(cfg.espruinoOutputOptions(picoFile, true));
  await b.close();
}, 180000);

afterAll(() => {
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

function opts(argv: string[]): UpOptions {
  const o = parseUpArgs(argv);
  if (typeof o === 'string') throw new Error(o);
  return o;
}

/* ---------------- in-process: the compact bundle against a source stack ---------------- */

const A = parseIp('192.0.2.3') as number;
const B = parseIp('192.0.2.1') as number;

interface Wire {
  api: CompactApi;
  n: CompactNet;
  b: Stack;
  svcs: { run(): number }[];
  run(ms: number): void;
}

function wire(): Wire {
  const api = loadBundle(picoFile) as unknown as CompactApi;
  const clock = new ManualClock(1000);
  const n = api.compactStack(null, [2, 0, 0, 0, 0, 3], clock);
  const b = new Stack('b', { seed: 5 }, clock, undefined);
  let db = -1;
  // frames: the compact stack's out → the source device's rx; the source driver's tx → netRxFrame
  api.netAttach(n, { xmit: (f: Uint8Array, len: number) => rxFrame(b, db, f, 0, len) });
  const drvB = {
    startXmit(dev: NetDevice, skb: number): number {
      const q = b.pool;
      api.netRxFrame(n, q.buf[skb].subarray(q.data[skb]), q.tail[skb] - q.data[skb]);
      devTxComplete(b, dev, skb);
      return NETDEV_TX_OK;
    },
  };
  db = registerNetdev(b, 'eth0', Uint8Array.from([2, 0, 0, 0, 0, 1]), 1500, drvB);
  expect(ifconfig(b, db, '192.0.2.1/24', null)).toBe(0);
  devOpen(b, db);
  api.netSetIp(n, A, parseIp('255.255.255.0') as number, 0, 0);
  const w: Wire = {
    api, n, b, svcs: [],
    run(ms: number): void {
      for (let i = 0; i < ms / 5; i++) {
        clock.advance(5);
        api.netTick(n);
        b.poll();
        for (const s of w.svcs) s.run();
        b.poll();
      }
    },
  };
  return w;
}

/** A TCP client on b: connect to the compact stack's port, send req, read until EOF or `until`; returns what came back and the last recv result. */
function exchange(w: Wire, port: number, req: Uint8Array, until: (got: Buffer) => boolean): { got: Buffer; last: number } {
  const fd = sock.socket(w.b, SOCK_STREAM, 0);
  const rc = sock.connect(w.b, fd, A, port);
  expect(rc === 0 || rc === -EINPROGRESS).toBe(true);
  let sent = 0;
  let last = 0;
  let shut = false;
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(8192);
  for (let round = 0; round < 20000; round++) {
    w.run(5);
    if (sent < req.length) {
      const k = sock.send(w.b, fd, req, sent, req.length - sent);
      if (k > 0) sent += k;
    }
    last = sock.recv(w.b, fd, buf, 0, buf.length);
    if (last > 0) chunks.push(Buffer.from(buf.subarray(0, last)));
    else if (last !== -EAGAIN) break;
    if (!shut && until(Buffer.concat(chunks))) {
      shut = true;
      break;
    }
  }
  sock.close(w.b, fd);
  w.run(200);
  return { got: Buffer.concat(chunks), last };
}

function headEnd(b: Buffer): number {
  const i = b.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/** A whole response (header + Content-Length body) is at the end of b. */
function complete(b: Buffer): boolean {
  const e = b.lastIndexOf('HTTP/1.1 ');
  const h = headEnd(b.subarray(e));
  if (e < 0 || h < 0) return false;
  const m = /Content-Length: (\d+)/.exec(b.subarray(e, e + h).toString('latin1'));
  return m !== null && b.length >= e + h + Number(m[1]);
}

describe('the Pico compact bundle in Node (in-process)', () => {
  it('is a compact bundle: compactStack, netStats, the full profile (TCP, DHCP, DNS); E.hwRand seeds it', () => {
    const api = loadBundle(picoFile) as unknown as CompactApi;
    expect(isCompactBundle(api)).toBe(true);
    expect(api.BOARD.id).toBe(PICO);
    expect(compactFeatures(api)).toEqual({ tcp: true, dhcp: true, dns: true });
    const g = espruinoGlobals();
    const r = new Set([g.E.hwRand(), g.E.hwRand(), g.E.hwRand()]);
    expect(r.size).toBe(3);
    for (const v of r) expect(v).toBe(v | 0);
    const n = api.compactStack(null, [2, 0, 0, 0, 0, 3], new ManualClock(0));
    expect(Object.keys(api.netStats(n))).toContain('fragDrop');
  });

  it('ping, fragments dropped and counted, UDP echo (over udpBuf dropped), port unreachable', () => {
    const w = wire();
    const echo = new CompactUdpService(w.api.networkJsCompact(w.n), 7, true);
    expect(echo.start()).toBe(0);
    w.svcs.push(echo);
    const replies: number[] = [];
    w.b.icmp.echoHandler = { onEchoReply: (_s: number, _id: number, seq: number, len: number) => replies.push(seq, len) };
    expect(icmpPing(w.b, A, 9, 1, 56)).toBe(0);
    w.run(50);
    expect(icmpPing(w.b, A, 9, 2, 4000)).toBe(0); // 3 fragments: dropped, no reassembly
    w.run(50);
    expect(replies).toEqual([1, 56]);
    const u = sock.socket(w.b, SOCK_DGRAM, 0);
    const got = new Uint8Array(2000);
    for (const len of [32, 548, 1472]) {
      const d = Uint8Array.from({ length: len }, (_, i) => (i * 7 + len) & 0xff);
      expect(sock.sendto(w.b, u, d, 0, len, A, 7)).toBe(len);
      w.run(50);
      const r = sock.recvfrom(w.b, u, got, 0, got.length, null);
      if (len === 1472) expect(r).toBe(-EAGAIN); // over the board's udpBuf (548): dropped, counted udpFull
      else expect(Buffer.compare(Buffer.from(got.subarray(0, r)), Buffer.from(d))).toBe(0);
    }
    // a closed port: ICMP port unreachable, which b turns into ECONNREFUSED on a connected socket
    const c = sock.socket(w.b, SOCK_DGRAM, 0);
    expect(sock.connect(w.b, c, A, 4444)).toBe(0);
    expect(sock.send(w.b, c, Uint8Array.from([1]), 0, 1)).toBe(1);
    w.run(50);
    expect(sock.recv(w.b, c, got, 0, got.length)).toBe(-ECONNREFUSED);
    const s = w.api.netStats(w.n);
    expect(s).toMatchObject({ echo: 1, fragDrop: 3, udpFull: 1, udpNoPort: 1, rxBad: 0 });
    expect(echo.stats()).toEqual({ datagrams: 2, bytes: 580, recvErrors: 0, truncated: 0, sendErrors: 0 });
    sock.close(w.b, u);
    sock.close(w.b, c);
    echo.stop();
  });

  it('TCP echo, HTTP GET /bytes/N, PUT /upload (100-continue), errors, keep-alive; a refused connection gets RST', () => {
    const w = wire();
    const now = (): number => 0;
    const echo = new CompactTcpEcho(w.api, w.n, 7, 1, 1536, 60000, now);
    const http = new CompactHttp(w.api, w.n, 80, 1, 2048, 1536, 60000, now);
    expect(echo.start()).toBe(0);
    expect(http.start()).toBe(0);
    w.svcs.push(echo, http);
    const data = Buffer.alloc(30000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 0xff;
    const e = exchange(w, 7, data, (b) => b.length >= data.length);
    expect(Buffer.compare(e.got, data)).toBe(0);
    expect(echo.stats()).toMatchObject({ accepted: 1, bytesIn: 30000, bytesOut: 30000, sendErrors: 0 });

    const N = PATTERN_PERIOD + 5000; // across the pattern's period
    const g = exchange(w, 80, Buffer.from('GET /bytes/' + N + '?x=1 HTTP/1.1\r\nHost: a\r\n\r\n'), complete);
    const h = headEnd(g.got);
    expect(g.got.subarray(0, h).toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 69256\r\nConnection: keep-alive\r\n\r\n$/);
    const want = new Uint8Array(N);
    fillPattern(want, 0, N, 0);
    expect(Buffer.compare(g.got.subarray(h), Buffer.from(want))).toBe(0);

    const body = Buffer.alloc(20000, 7);
    const up = exchange(w, 80, Buffer.concat([Buffer.from('PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n'), body]), complete);
    expect(up.got.toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n20000\n$/);
    const two = exchange(w, 80, Buffer.from('HEAD /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n'), (b) => b.toString().includes('Not Found\n'));
    expect(two.got.toString()).toMatch(/^HTTP\/1\.1 200 OK[^]*Content-Length: 3\r\n[^]*\r\n\r\nHTTP\/1\.1 404 Not Found\r\n[^]*Connection: close\r\n\r\nNot Found\n$/);
    expect(exchange(w, 80, Buffer.from('DELETE /upload HTTP/1.1\r\nHost: a\r\n\r\n'), complete).got.toString()).toMatch(/^HTTP\/1\.1 405 [^]*Allow: PUT, POST/);
    expect(exchange(w, 80, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), complete).got.toString()).toMatch(/\nNet\.rx [1-9]/);

    // nobody listens on port 9: RST, ECONNREFUSED
    const before = w.api.netStats(w.n).tcpRstTx;
    const r = exchange(w, 9, new Uint8Array(0), () => false);
    expect(r.last).toBe(-ECONNREFUSED);
    expect(w.api.netStats(w.n).tcpRstTx).toBe(before + 1);

    const s = http.stats();
    expect(s).toMatchObject({ patternBytes: N, bodyBytes: 20000, responses2xx: 4, responses4xx: 2, responses5xx: 0, active: 0 });
    expect(w.api.netStats(w.n)).toMatchObject({ rxBad: 0, tcpDrop: 0 });
    echo.stop();
    http.stop();
  }, 60000);

  it('names what a compact bundle cannot do (exit 2)', () => {
    const base = ['--ip', '192.0.2.3/24', '--frames', 'udp:1:2'];
    const f = { tcp: true };
    expect(compactProblem(PICO, opts([...base, '--serve', 'echo,http']), f, 3)).toBe(null);
    expect(compactProblem(PICO, opts(['--frames', 'udp:1:2']), f, 3)).toMatch(/^without --ip the address comes from DHCP, which slabnet up does not do with a compact bundle/);
    expect(compactProblem(PICO, opts([...base, '--send', 'tcp:192.0.2.1:5:5']), f, 3)).toMatch(/^--send, which/);
    expect(compactProblem(PICO, opts([...base, '--dns', '192.0.2.1']), f, 3)).toMatch(/^--dns, which/);
    expect(compactProblem(PICO, opts([...base, '--mtu', '1400']), f, 3)).toMatch(/^--mtu 1400/);
    expect(compactProblem(PICO, opts([...base, '--serve', 'echo,discard,http']), f, 3)).toMatch(/need 3 TCP listeners \+ 1 connection, but board espruino-pico-enc28j60 has 3 TCP blocks/);
    expect(compactProblem(PICO, opts([...base, '--serve', 'http']), { tcp: false }, 3)).toMatch(/^--serve http needs TCP/);
  });
});

/* ---------------- the process ---------------- */

const PEER_MAC = [0x02, 0, 0, 0, 0, 0x01];
const PEER_IP = [192, 0, 2, 1];
const SLAB_IP = [192, 0, 2, 3];
const SLAB_MAC = [0x02, 0x11, 0x22, 0x33, 0x44, 0x03];

function ethIp(proto: number, l4: Buffer): Buffer {
  const f = Buffer.alloc(14 + 20 + l4.length);
  for (let i = 0; i < 6; i++) {
    f[i] = SLAB_MAC[i];
    f[6 + i] = PEER_MAC[i];
  }
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, 20 + l4.length);
  put16(f, 18, 0x4243);
  f[22] = 64;
  f[23] = proto;
  for (let i = 0; i < 4; i++) {
    f[26 + i] = PEER_IP[i];
    f[30 + i] = SLAB_IP[i];
  }
  put16(f, 24, ipCompute(f, 14, 20));
  l4.copy(f, 34);
  return f;
}

function arpRequest(): Buffer {
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
    f[38 + i] = SLAB_IP[i];
  }
  return f;
}

function icmpEcho(seq: number, n: number): Buffer {
  const m = Buffer.alloc(8 + n);
  m[0] = 8;
  put16(m, 4, 0x77);
  put16(m, 6, seq);
  for (let i = 0; i < n; i++) m[8 + i] = i & 0xff;
  put16(m, 2, csumFinish(csumPartial(m, 0, m.length, 0)));
  return ethIp(1, m);
}

function udpDatagram(sport: number, dport: number, data: Buffer): Buffer {
  const m = Buffer.alloc(8 + data.length);
  put16(m, 0, sport);
  put16(m, 2, dport);
  put16(m, 4, m.length);
  data.copy(m, 8); // checksum 0: none (RFC 768)
  return ethIp(17, m);
}

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

async function exitOf(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/slabnet.js'), 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, out, err };
}

describe('slabnet up --board with a compact bundle: the process', () => {
  it('runs the Pico compact bundle: ready line, ARP, ping, UDP echo, JSON counters (Net from netStats)', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const mac = SLAB_MAC.map((x) => x.toString(16).padStart(2, '0')).join(':');
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/slabnet.js'), 'up', '--board', PICO, '--bundle', picoFile, '--ip', '192.0.2.3/24', '--gw', '192.0.2.1',
      '--frames', `udp:${lport}:${peer.port}`, '--serve', 'echo,http', '--mac', mac,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => out.includes('ready'), 15000), err).toBe(true);
      expect(out.split('\n')[0]).toBe(
        `slabnet up: ready ip=192.0.2.3/24 gw=192.0.2.1 mac=${mac} mtu=1500 frames=udp:127.0.0.1:${lport}->127.0.0.1:${peer.port} serve=echo,http board=${PICO}`,
      );
      peer.s.send(arpRequest(), lport, '127.0.0.1');
      const isArpReply = (b: Buffer): boolean => get16(b, 12) === 0x0806 && get16(b, 20) === 2;
      expect(await until(() => peer.got.some(isArpReply), 5000)).toBe(true);
      for (let seq = 1; seq <= 3; seq++) peer.s.send(icmpEcho(seq, 500), lport, '127.0.0.1');
      const isEchoReply = (b: Buffer): boolean => get16(b, 12) === 0x0800 && b[23] === 1 && b[34] === 0;
      expect(await until(() => peer.got.filter(isEchoReply).length === 3, 5000)).toBe(true);
      const rep = peer.got.filter(isEchoReply)[0];
      expect(rep.length).toBe(14 + 20 + 8 + 500);
      expect(ipCompute(rep, 14, 20)).toBe(0);
      expect(csumFinish(csumPartial(rep, 34, rep.length - 34, 0))).toBe(0);
      peer.s.send(udpDatagram(4000, 7, Buffer.from('hello, board')), lport, '127.0.0.1');
      const isUdp = (b: Buffer): boolean => get16(b, 12) === 0x0800 && b[23] === 17 && get16(b, 34) === 7;
      expect(await until(() => peer.got.some(isUdp), 5000)).toBe(true);
      const u = peer.got.find(isUdp) as Buffer;
      expect(u.length).toBe(60); // padded to Ethernet's minimum frame (no FCS)
      expect(u.subarray(42, 34 + get16(u, 38)).toString()).toBe('hello, board');
      expect(get16(u, 36)).toBe(4000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines.length).toBe(2);
      const c = JSON.parse(lines[1]);
      expect(c.Net).toMatchObject({ rx: 5, echo: 3, rxBad: 0 });
      expect(c.Net.tx).toBeGreaterThanOrEqual(5);
      expect(c.Driver).toMatchObject({ rxDatagrams: 5, txErrors: 0 });
      expect(c.Services['udp-echo']).toMatchObject({ datagrams: 1, bytes: 12, sendErrors: 0 });
      expect(c.Services.http).toMatchObject({ accepted: 0, requests: 0 });
      expect(c.Board).toEqual({ id: PICO, bundle: picoFile, bytes: fs.statSync(picoFile).size, counterNames: 'bundle', stack: 'compact', profile: 'full' });
      expect(c.Signal).toBe('SIGTERM');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      peer.s.close();
    }
  }, 30000);

  it('exits 2 for what a compact bundle cannot do here', async () => {
    let r = await exitOf(['--board', PICO, '--bundle', picoFile, '--frames', 'udp:1:2']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('without --ip the address comes from DHCP, which slabnet up does not do with a compact bundle');
    r = await exitOf(['--board', PICO, '--bundle', picoFile, '--frames', 'udp:1:2', '--ip', '192.0.2.3/24', '--serve', 'echo,discard,http']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('3 TCP blocks');
    r = await exitOf(['--board', 'espruino-wifi-w5500', '--bundle', picoFile, '--frames', 'udp:1:2', '--ip', '192.0.2.3/24']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not the bundle of board espruino-wifi-w5500');
  }, 60000);
});
