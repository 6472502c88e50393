/*
 * cli_up_board.test.ts — `slabnet up --board ID` without root: its
 * arguments; Node's Espruino built-ins; the host-side services written
 * over a bundle's socket API (src/host/bundle_services.ts) run over the
 * source stack's identical API (two stacks on a PairLink: HTTP GET/PUT,
 * keep-alive, errors, TCP echo, --send); the Pico board's bundle, built
 * here from the current sources (rollup, as `npm run build` does, into a
 * temporary file), answering ARP, ping and UDP echo from a source-built
 * stack in-process and dropping (and counting) fragments — reassembly is
 * compiled out of it; and the whole `slabnet up --board` process on real
 * loopback UDP: ready line, ping, UDP echo, the JSON counters with the
 * source's names, and its exit-2 errors.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { splitBoardArgs, featureProblem } from '../../src/cli/up_board';
import { parseUpArgs, UpOptions } from '../../src/cli/up';
import {
  BundleApi, espruinoGlobals, loadBundle, bundleFeatures, namedCounters, namedBlock, bundleState, hasCounterNames,
} from '../../src/host/bundle';
import { BundleHttp, BundleTcpEcho, BundleUdpService, BundleTcpSend } from '../../src/host/bundle_services';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { registerNetdev, rxFrame, devTxComplete, devOpen, getDev } from '../../src/link/dev';
import { NetDevice, NETDEV_TX_OK } from '../../src/link/netdev';
import { icmpPing } from '../../src/ipv4/icmp';
import * as sock from '../../src/socket/socket';
import { SOCK_STREAM, SOCK_DGRAM } from '../../src/socket/sock';
import { EAGAIN, EINPROGRESS } from '../../src/core/errno';
import { parseIp } from '../../src/link/ifaddr';
import { fillPattern } from '../../src/apps/http_parse';
import { put16, get16 } from '../../src/core/bytes';
import { ipCompute, csumPartial, csumFinish } from '../../src/core/checksum';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PICO = 'espruino-pico-enc28j60';

/** The source stack's socket and device calls under the names a board bundle exports. */
const SOURCE_API = {
  ...sock,
  SOCK_STREAM,
  SOCK_DGRAM,
  EAGAIN,
  EINPROGRESS,
} as unknown as BundleApi;

function opts(argv: string[]): UpOptions {
  const o = parseUpArgs(argv);
  if (typeof o === 'string') throw new Error(o);
  return o;
}

describe('slabnet up --board: arguments', () => {
  it('splits --board / --bundle from the flags of up, whatever their order', () => {
    expect(splitBoardArgs(['--board', PICO, '--ip', '192.0.2.3/24', '--frames', 'udp:1:2'])).toEqual({
      id: PICO, bundle: null, rest: ['--ip', '192.0.2.3/24', '--frames', 'udp:1:2'],
    });
    expect(splitBoardArgs(['--frames=udp:1:2', '--board=' + PICO, '--bundle', '/tmp/b.js', '--serve', 'echo'])).toEqual({
      id: PICO, bundle: '/tmp/b.js', rest: ['--frames=udp:1:2', '--serve', 'echo'],
    });
    // a flag's value is never read as --board
    expect(splitBoardArgs(['--hostname', 'x', '--board', PICO])).toEqual({ id: PICO, bundle: null, rest: ['--hostname', 'x'] });
  });

  it('rejects a missing, repeated or malformed --board', () => {
    expect(splitBoardArgs(['--board'])).toBe('missing value for --board');
    expect(splitBoardArgs(['--board', 'a', '--board', 'b'])).toBe('--board given twice');
    expect(splitBoardArgs(['--board', '../x'])).toMatch(/^bad --board/);
    expect(splitBoardArgs(['--bundle', 'f.js'])).toMatch(/^missing --board/);
    expect(splitBoardArgs(['--board', PICO, '--bundle='])).toBe('missing value for --bundle');
  });

  it('names the feature a flag needs when the bundle has it compiled out', () => {
    const none = { tcp: false, dhcp: false, dns: false };
    const all = { tcp: true, dhcp: true, dns: true };
    const base = ['--ip', '192.0.2.3/24', '--frames', 'udp:1:2'];
    expect(featureProblem(PICO, opts([...base, '--serve', 'echo,discard']), none)).toBe(null);
    expect(featureProblem(PICO, opts([...base, '--serve', 'echo,http']), none)).toMatch(/^--serve http needs TCP, which the espruino-pico-enc28j60 bundle has compiled out \(boards\/espruino-pico-enc28j60\.ts features\.tcp\)/);
    expect(featureProblem(PICO, opts([...base, '--send', 'tcp:192.0.2.1:5555:10']), none)).toMatch(/^--send needs TCP/);
    expect(featureProblem(PICO, opts(['--frames', 'udp:1:2']), none)).toMatch(/^without --ip the address comes from DHCP, .*features\.dhcp\): give --ip/);
    expect(featureProblem(PICO, opts([...base, '--dns', '192.0.2.1']), { tcp: true, dhcp: true, dns: false })).toMatch(/^--dns needs the DNS resolver/);
    expect(featureProblem(PICO, opts([...base, '--send', 'tcp:peer.test:5555:10']), { tcp: true, dhcp: true, dns: false })).toMatch(/host name needs the DNS/);
    expect(featureProblem(PICO, opts(['--frames', 'udp:1:2', '--serve', 'http', '--send', 'tcp:peer.test:1:1']), all)).toBe(null);
  });
});

describe("Node's Espruino built-ins and counter names", () => {
  it('E.sum, E.convolve, E.toString, E.toUint8Array, getTime', () => {
    const g = espruinoGlobals();
    expect(g.E.sum(new Uint16Array([1, 2, 65535]))).toBe(65538);
    expect(g.E.sum(new Uint8Array(0))).toBe(0);
    expect(g.E.convolve([1, 2, 3], [1, 2, 3], 0)).toBe(14);
    expect(g.E.convolve([1, 2, 3], [1, 2, 3], 1)).toBe(1 * 2 + 2 * 3 + 3 * 1);
    expect(g.E.convolve([1, 2], [5], -1)).toBe(15);
    const b = Uint8Array.from([0, 1, 0x7f, 0x80, 0xff]);
    const s = g.E.toString(b.subarray(1));
    expect(s).toBe('\x01\x7f\x80\xff');
    expect(Array.from(g.E.toUint8Array(s))).toEqual([1, 0x7f, 0x80, 0xff]);
    expect(g.E.toString('ab', 67, [68, 69])).toBe('abCDE');
    expect(Array.from(g.E.toUint8Array([1, 2], 'A'))).toEqual([1, 2, 65]);
    const t = g.getTime();
    expect(t).toBeGreaterThan(0);
    expect(Math.abs(t * 1000 - performance.now())).toBeLessThan(50);
  });

  it('gives counters named "c0", "c1", ... the source names, by index, only when the count matches', () => {
    const ip: { [k: string]: number } = {};
    for (let i = 0; i < 21; i++) ip['c' + i] = i;
    const n = namedCounters({ Ip: ip, Mine: { c0: 5 } });
    expect(n.Ip.InReceives).toBe(0);
    expect(n.Ip.ReasmFails).toBe(13);
    expect(n.Ip.OutForwDatagrams).toBe(20);
    expect(n.Mine).toEqual({ c0: 5 });
    expect(hasCounterNames({ Ip: ip })).toBe(false);
    expect(hasCounterNames(n)).toBe(true);
    // a different count (a bundle older or newer than the sources): left as it is
    expect(namedBlock('Icmp', { c0: 1, c1: 2 })).toEqual({ c0: 1, c1: 2 });
    expect(namedBlock('Dev', { rx_packets: 3 })).toEqual({ rx_packets: 3 });
  });

  it('a missing bundle file is null', () => {
    expect(bundleState(path.join(os.tmpdir(), 'no-such-bundle-' + process.pid + '.min.js'))).toBe(null);
  });
});

/* ---------------- the services, over the source API ---------------- */

interface Pair {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  run(ms: number): void;
}

function pair(seed: number): Pair {
  const clock = new ManualClock(1000);
  const a = new Stack('a', { seed, tcpSndBuf: 4096, tcpRcvBuf: 4096 }, clock, undefined);
  const b = new Stack('b', { seed: seed + 1 }, clock, undefined);
  const l = createPairLink(a, b, Uint8Array.from([2, 0, 0, 0, 0, 2]), Uint8Array.from([2, 0, 0, 0, 0, 1]), 1500);
  expect(ifconfig(a, l.devA, '192.0.2.2/24', null)).toBe(0);
  expect(ifconfig(b, l.devB, '192.0.2.1/24', null)).toBe(0);
  l.open();
  return {
    clock, a, b,
    run(ms: number): void {
      for (let i = 0; i < ms / 10; i++) {
        clock.advance(10);
        a.poll();
        b.poll();
      }
    },
  };
}

const A = parseIp('192.0.2.2') as number;
const B = parseIp('192.0.2.1') as number;

/** A client on b: connect to a:port, send `req`, read until EOF or `until` says stop. */
function exchange(p: Pair, svc: { run(): number }, port: number, req: Uint8Array, until: (got: Buffer) => boolean): Buffer {
  const fd = sock.socket(p.b, SOCK_STREAM, 0);
  const rc = sock.connect(p.b, fd, A, port);
  expect(rc === 0 || rc === -EINPROGRESS).toBe(true);
  let sent = 0;
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(8192);
  for (let round = 0; round < 2000; round++) {
    p.run(10);
    svc.run();
    if (sent < req.length) {
      const n = sock.send(p.b, fd, req, sent, req.length - sent);
      if (n > 0) sent += n;
    }
    const r = sock.recv(p.b, fd, buf, 0, buf.length);
    if (r > 0) chunks.push(Buffer.from(buf.subarray(0, r)));
    if (r === 0 || until(Buffer.concat(chunks))) break;
  }
  sock.close(p.b, fd);
  p.run(100);
  svc.run();
  return Buffer.concat(chunks);
}

function headEnd(b: Buffer): number {
  const i = b.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/** A whole response (header + Content-Length body) is in b. */
function complete(b: Buffer): boolean {
  const e = headEnd(b);
  if (e < 0) return false;
  const m = /Content-Length: (\d+)/.exec(b.subarray(0, e).toString('latin1'));
  return m !== null && b.length >= e + Number(m[1]);
}

describe('bundle services over the socket API (source stacks on a PairLink)', () => {
  it('HTTP: GET /bytes/N (the pattern), HEAD, PUT /upload (length and chunked, 100-continue), 404, 405, keep-alive', () => {
    const p = pair(21);
    const http = new BundleHttp(SOURCE_API, p.a, 80, { maxConns: 2, hdrMax: 2048, idleMs: 60000, lingerMs: 2000, chunk: 4096 });
    expect(http.start()).toBe(0);
    const N = 50000;
    const r = exchange(p, http, 80, Buffer.from('GET /bytes/' + N + '?x=1 HTTP/1.1\r\nHost: a\r\n\r\n'), complete);
    const e = headEnd(r);
    expect(r.subarray(0, e).toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 50000\r\nConnection: keep-alive\r\n\r\n$/);
    const want = new Uint8Array(N);
    fillPattern(want, 0, N, 0);
    expect(Buffer.compare(r.subarray(e), Buffer.from(want))).toBe(0);

    const h = exchange(p, http, 80, Buffer.from('HEAD /bytes/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), () => false);
    expect(h.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 10\r\nConnection: close\r\n\r\n$/);

    const body = Buffer.alloc(20000, 7);
    const up = exchange(p, http, 80, Buffer.concat([Buffer.from('PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n'), body]), (b) => b.includes('\n20000\n'));
    expect(up.toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n20000\n$/);

    const ch = exchange(p, http, 80, Buffer.from('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n'), complete);
    expect(ch.toString()).toMatch(/\r\n\r\n8\n$/);

    // two requests on one connection (a 404 keeps it, as src/apps/http.ts does), then errors
    const two = exchange(p, http, 80, Buffer.from('GET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n'), (b) => b.toString().includes('Not Found\n'));
    expect(two.toString()).toMatch(/^HTTP\/1\.1 200 OK[^]*\r\n\r\n\x00\x01\x02HTTP\/1\.1 404 Not Found\r\n[^]*Connection: keep-alive\r\n\r\nNot Found\n$/);
    expect(exchange(p, http, 80, Buffer.from('DELETE / HTTP/1.1\r\nHost: a\r\n\r\n'), complete).toString()).toMatch(/^HTTP\/1\.1 405 [^]*Allow: GET, HEAD/);
    expect(exchange(p, http, 80, Buffer.from('GET / HTTP/1.1\r\n\r\n'), complete).toString()).toMatch(/^HTTP\/1\.1 400 /);
    const status = exchange(p, http, 80, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), complete).toString();
    expect(status).toMatch(/\nTcp\.PassiveOpens [1-9]/);

    p.run(3000);
    http.run();
    const s = http.stats();
    expect(s.patternBytes).toBe(N + 3);
    expect(s.bodyBytes).toBe(20008);
    expect(s.responses5xx).toBe(0);
    expect(s.active).toBe(0);
    http.stop();
    p.run(200);
    expect(p.a.pool.inUse()).toBe(0);
    expect(p.b.pool.inUse()).toBe(0);
  });

  it('TCP echo and UDP echo; --send to a listener on the peer', () => {
    const p = pair(31);
    const echo = new BundleTcpEcho(SOURCE_API, p.a, 7, 2, 2048, 60000);
    const uecho = new BundleUdpService(SOURCE_API, p.a, 7, 2048, true);
    expect(echo.start()).toBe(0);
    expect(uecho.start()).toBe(0);
    const data = Buffer.alloc(9000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 0xff;
    const back = exchange(p, echo, 7, data, (b) => b.length >= data.length);
    expect(Buffer.compare(back, data)).toBe(0);
    expect(echo.stats().bytesIn).toBe(9000);

    const u = sock.socket(p.b, SOCK_DGRAM, 0);
    expect(sock.sendto(p.b, u, Uint8Array.from([1, 2, 3]), 0, 3, A, 7)).toBe(3);
    p.run(20);
    uecho.run();
    p.run(20);
    const got = new Uint8Array(16);
    const from = new Int32Array(2);
    expect(sock.recvfrom(p.b, u, got, 0, 16, from)).toBe(3);
    expect(Array.from(got.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(from[1]).toBe(7);
    sock.close(p.b, u);

    // --send: a connects to b:5555, sends 30000 bytes of the pattern, half-closes, reads until b closes
    const l = sock.socket(p.b, SOCK_STREAM, 0);
    expect(sock.bind(p.b, l, 0, 5555)).toBe(0);
    expect(sock.listen(p.b, l, 2)).toBe(0);
    const snd = new BundleTcpSend(SOURCE_API, p.a, B, 5555, 30000, 0, 30000, 4096, 'tcp-send');
    expect(snd.start()).toBe(0);
    let c = -1;
    const rx: Buffer[] = [];
    const buf = new Uint8Array(8192);
    for (let i = 0; i < 1000 && !snd.finished(); i++) {
      p.run(10);
      snd.run();
      if (c < 0) c = sock.accept(p.b, l, null);
      if (c >= 0) {
        const r = sock.recv(p.b, c, buf, 0, buf.length);
        if (r > 0) rx.push(Buffer.from(buf.subarray(0, r)));
        if (r === 0) {
          sock.close(p.b, c);
          c = -2;
        }
      }
    }
    expect(snd.finished()).toBe(true);
    expect(snd.stats()).toMatchObject({ errno: 0, done: 1, bytesSent: 30000, connected: 1 });
    const want = new Uint8Array(30000);
    fillPattern(want, 0, 30000, 0);
    expect(Buffer.compare(Buffer.concat(rx), Buffer.from(want))).toBe(0);
    sock.close(p.b, l);
    echo.stop();
    uecho.stop();
    p.run(200);
    expect(p.a.pool.inUse()).toBe(0);
  });
});

/* ---------------- the Pico bundle, built from the current sources ---------------- */

let tmp = '';
let picoFile = '';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slabnet-board-'));
  picoFile = path.join(tmp, PICO + '.min.js');
  // the same rollup + terser pipeline as `npm run build` (scripts/build-espruino.js), into a
  // file of our own: dist/ may be rebuilt by another test meanwhile, or missing
  // @ts-expect-error plain JavaScript module without type declarations
  const cfg = await import('../../rollup.config.js');
  const { rollup } = await import('rollup');
  const mod = await import('../../boards/' + PICO);
  const board = mod.espruinoPicoEnc28j60;
  const b = await rollup(cfg.espruinoInputOptions(false, { board, exportName: 'espruinoPicoEnc28j60' }));
  await b.write(cfg.espruinoOutputOptions(picoFile, true));
  await b.close();
}, 180000);

afterAll(() => {
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the Pico bundle in Node (in-process)', () => {
  it('has TCP, DHCP, DNS and the UDP services compiled out, and its counters have no names', () => {
    const api = loadBundle(picoFile);
    expect(api.BOARD.id).toBe(PICO);
    expect(bundleFeatures(api)).toEqual({ tcp: false, udpServices: false, dhcp: false, dns: false });
    const st = api.createBoardStack(null, null, new ManualClock(0)) as Stack;
    expect(st.cfg.tcpMaxSockets).toBe(0);
    expect(st.cfg.reasmSlots).toBe(0);
    expect(Object.keys(st.mib.toObject().Ip)[0]).toBe('c0');
    // built for Espruino (RUNTIME_ESPRUINO): its sums and pattern checks call E, which Node supplies
    const code = fs.readFileSync(picoFile, 'utf8');
    expect(code).toContain('E.sum(new Uint16Array(');
    expect(code).toContain('E.convolve(');
  });

  it('answers ARP, ping and UDP echo from a source-built stack; drops and counts fragments', () => {
    const api = loadBundle(picoFile);
    const clock = new ManualClock(1000);
    const a = api.createBoardStack(null, null, clock) as Stack;
    const b = new Stack('b', { seed: 3 }, clock, undefined);
    // a wire between the bundle's device layer and the source's
    let da = -1;
    let db = -1;
    const drvA = {
      startXmit(dev: NetDevice, skb: number): number {
        const q = a.pool;
        rxFrame(b, db, q.buf[skb], q.data[skb], q.tail[skb] - q.data[skb]);
        api.devTxComplete(a, dev, skb);
        return NETDEV_TX_OK;
      },
    };
    const drvB = {
      startXmit(dev: NetDevice, skb: number): number {
        const q = b.pool;
        api.rxFrame(a, da, q.buf[skb], q.data[skb], q.tail[skb] - q.data[skb]);
        devTxComplete(b, dev, skb);
        return NETDEV_TX_OK;
      },
    };
    da = api.registerNetdev(a, 'eth0', Uint8Array.from([2, 0, 0, 0, 0, 3]), 1500, drvA);
    db = registerNetdev(b, 'eth0', Uint8Array.from([2, 0, 0, 0, 0, 1]), 1500, drvB);
    expect(da).toBe(0);
    expect(api.ifconfig(a, da, '192.0.2.3/24', null)).toBe(0);
    expect(ifconfig(b, db, '192.0.2.1/24', null)).toBe(0);
    expect(api.devOpen(a, da)).toBe(0);
    devOpen(b, db);
    const run = (ms: number): void => {
      for (let i = 0; i < ms / 10; i++) {
        clock.advance(10);
        a.poll();
        b.poll();
      }
    };
    const echo = new BundleUdpService(api, a, 7, 2048, true);
    expect(echo.start()).toBe(0);
    const pico = parseIp('192.0.2.3') as number;
    const replies: number[] = [];
    b.icmp.echoHandler = { onEchoReply: (_s: number, _id: number, seq: number, len: number) => replies.push(seq, len) };
    expect(icmpPing(b, pico, 9, 1, 56)).toBe(0);
    run(50);
    expect(icmpPing(b, pico, 9, 2, 4000)).toBe(0); // 3 fragments: dropped, no reassembly in the bundle
    run(50);
    expect(replies).toEqual([1, 56]);
    // the bundle's own ping: the reply's pattern is checked with E.convolve (RUNTIME_ESPRUINO)
    const mine: number[] = [];
    a.icmp.echoHandler = { onEchoReply: (_s: number, id: number, seq: number, len: number) => mine.push(id, seq, len) };
    expect(api.icmpPing(a, parseIp('192.0.2.1') as number, 0x51, 7, 600)).toBe(0);
    run(50);
    expect(mine).toEqual([0x51, 7, 600]);
    const u = sock.socket(b, SOCK_DGRAM, 0);
    const payload = Uint8Array.from({ length: 1472 }, (_, i) => (i * 7) & 0xff);
    expect(sock.sendto(b, u, payload, 0, payload.length, pico, 7)).toBe(1472);
    run(20);
    echo.run();
    run(20);
    const got = new Uint8Array(2000);
    expect(sock.recvfrom(b, u, got, 0, got.length, null)).toBe(1472);
    expect(Buffer.compare(Buffer.from(got.subarray(0, 1472)), Buffer.from(payload))).toBe(0);
    const c = namedCounters(a.mib.toObject());
    expect(c.Ip.ReasmReqds).toBe(3);
    expect(c.Ip.ReasmFails).toBe(3);
    expect(c.Icmp.InEchos).toBe(1);
    expect(c.Icmp.OutEchoReps).toBe(1);
    expect(c.Icmp.InEchoReps).toBe(1);
    expect(c.Udp.InDatagrams).toBe(1);
    expect(echo.stats()).toMatchObject({ datagrams: 1, bytes: 1472, sendErrors: 0 });
    const d = api.getDev(a, da) as NetDevice;
    expect(namedBlock('Dev', d.stats.toObject()).rx_packets).toBeGreaterThanOrEqual(6);
    echo.stop();
    sock.close(b, u);
    run(100);
    expect(a.pool.inUse()).toBe(0);
    expect(getDev(b, db)).not.toBe(null);
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

describe('slabnet up --board: the process', () => {
  it('runs the Pico bundle: ready line with board=, ARP, ping, UDP echo, JSON counters with the source names', async () => {
    const peer = await peerSocket();
    const lport = await freePort();
    const mac = SLAB_MAC.map((x) => x.toString(16).padStart(2, '0')).join(':');
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/slabnet.js'), 'up', '--board', PICO, '--bundle', picoFile, '--ip', '192.0.2.3/24', '--gw', '192.0.2.1',
      '--frames', `udp:${lport}:${peer.port}`, '--serve', 'echo', '--mac', mac,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => out.includes('ready'), 15000), err).toBe(true);
      expect(out.split('\n')[0]).toBe(
        `slabnet up: ready ip=192.0.2.3/24 gw=192.0.2.1 mac=${mac} mtu=1500 frames=udp:127.0.0.1:${lport}->127.0.0.1:${peer.port} serve=echo board=${PICO}`,
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
      expect(u.subarray(42).toString()).toBe('hello, board');
      expect(get16(u, 36)).toBe(4000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      const c = JSON.parse(lines[lines.length - 1]);
      expect(c.Icmp.InEchos).toBe(3);
      expect(c.Icmp.OutEchoReps).toBe(3);
      expect(c.Link.ArpInRequests).toBe(1);
      expect(c.Dev.rx_packets).toBe(5);
      expect(c.Pool.InUse).toBe(0);
      expect(c.Driver.rxDatagrams).toBe(5);
      expect(c.Services['udp-echo']).toMatchObject({ datagrams: 1, bytes: 12, sendErrors: 0 });
      expect(c.Board).toEqual({ id: PICO, bundle: picoFile, bytes: fs.statSync(picoFile).size, counterNames: 'source' });
      expect(c.Signal).toBe('SIGTERM');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      peer.s.close();
    }
  }, 30000);

  it('exits 2 with a clear message: unknown board, a board without a bundle, a missing bundle, features compiled out, bad flags', async () => {
    let r = await exitOf(['--board', 'nope', '--frames', 'udp:1:2', '--ip', '192.0.2.3/24']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown board nope \(boards with a bundle: .*espruino-pico-enc28j60/);
    r = await exitOf(['--board', 'host', '--frames', 'udp:1:2', '--ip', '192.0.2.3/24']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('board host has no Espruino bundle');
    r = await exitOf(['--board', PICO, '--bundle', path.join(tmp, 'nothing.js'), '--frames', 'udp:1:2', '--ip', '192.0.2.3/24']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--bundle .*nothing\.js: no such file/);
    r = await exitOf(['--board', PICO, '--bundle', picoFile, '--frames', 'udp:1:2', '--ip', '192.0.2.3/24', '--serve', 'echo,http']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--serve http needs TCP, which the espruino-pico-enc28j60 bundle has compiled out');
    r = await exitOf(['--board', PICO, '--bundle', picoFile, '--frames', 'udp:1:2']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('without --ip the address comes from DHCP');
    r = await exitOf(['--board', PICO, '--bundle', picoFile, '--frames', 'udp:1:2', '--ip', '192.0.2.3/24', '--send', 'tcp:192.0.2.1:5:5']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--send needs TCP');
    r = await exitOf(['--board', PICO, '--ip', 'nope', '--frames', 'udp:1:2']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad --ip');
    expect(r.err).toContain('usage: slabnet up --board ID');
    r = await exitOf(['--board']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('missing value for --board');
    // the board id must match the bundle's BOARD
    r = await exitOf(['--board', 'espruino-wifi-w5500', '--bundle', picoFile, '--frames', 'udp:1:2', '--ip', '192.0.2.3/24']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not the bundle of board espruino-wifi-w5500');
  }, 60000);
});
