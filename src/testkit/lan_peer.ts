/*
 * lan_peer.ts — the simulated LAN a board program meets in
 * `npm run test:examples` (scripts/test-examples.js), Node only: one
 * slabnet Stack (src/stack.ts) on real time, wired to a board's chip model
 * inside Espruino's interpreter (src/testkit/hwmock.ts) by a file per frame
 * (drivers/host/fileframes.ts, the test kit's FileWire protocol). It is the
 * router, DHCP server, DNS server and web server of 192.0.2.0/24:
 *
 *   address     192.0.2.1/24 (PEER_IP)
 *   DHCP        src/apps/dhcp_server.ts: pool 192.0.2.100-.149, router and DNS 192.0.2.1
 *   DNS         src/apps/dns_server.ts: www.lan and peer.lan A 192.0.2.1
 *   HTTP :80    src/apps/http.ts: GET /bytes/N = N bytes of a known pattern, / = status page
 *   UDP  :5555  every datagram recorded (udp[]: from, port, text)
 *   fetch()     an HTTP/1.0 GET of a board's page through the stack's node-style
 *               net facade (src/socket/net.ts)
 *
 * Driven as `slabnet up` drives its stack (src/cli/poll_loop.ts); the inbox
 * is polled every 2 ms. Everything is bounded: fetch() and waitFor() take
 * a time limit. stop() ends the timers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from '../stack';
import type { Clock } from '../core/clock';
import { devOpen } from '../link/dev';
import { ipAddrAdd } from '../ipv4/devinet';
import { parseIpStrict, formatIp } from '../link/ifaddr';
import { FileFramesDriver } from '../../drivers/host/fileframes';
import { ServiceMux } from '../apps/service';
import { DhcpServer, LEASE_BOUND } from '../apps/dhcp_server';
import { DnsServer, DNS_PORT } from '../apps/dns_server';
import { HttpService, HTTP_PORT, defaultHttpOptions } from '../apps/http';
import { startPollLoop, PollLoop } from '../cli/poll_loop';
import { createConnection } from '../socket/net';
import { createSocket, DgramSocket, RemoteInfo } from '../socket/dgram';

export const PEER_IP = '192.0.2.1';
export const POOL_START = '192.0.2.100';
export const POOL_SIZE = 50;
export const UDP_PORT = 5555;
/** the names the DNS server answers, all with PEER_IP */
export const PEER_NAMES = ['www.lan', 'peer.lan'];

class HostClock implements Clock {
  now(): number {
    return performance.now();
  }
}

export interface PeerDatagram {
  from: string;
  port: number;
  text: string;
}

export interface FetchResult {
  status: number;
  head: string;
  body: string;
}

export class LanPeer {
  readonly st: Stack;
  readonly drv: FileFramesDriver;
  readonly dev: number;
  readonly dhcp: DhcpServer;
  readonly dns: DnsServer;
  readonly http: HttpService;
  readonly udp: PeerDatagram[] = [];
  private readonly mux: ServiceMux;
  private readonly usock: DgramSocket;
  private loop: PollLoop | null = null;
  private timer: NodeJS.Timeout | null = null;

  /**
   * The peer on the wire folders `outbox` (frames to the board) and
   * `inbox` (frames from it); both are created. Throws when a service
   * cannot start.
   */
  constructor(outbox: string, inbox: string) {
    mkdirSync(outbox, { recursive: true });
    mkdirSync(inbox, { recursive: true });
    const seed = ((Date.now() ^ (process.pid << 16)) >>> 0) | 1;
    this.st = new Stack('peer', { seed }, new HostClock(), undefined);
    this.drv = new FileFramesDriver(this.st, outbox, inbox);
    const dev = this.drv.register('eth0', new Uint8Array([0x02, 0x70, 0x65, 0x65, 0x72, 0x01]), 1500);
    if (dev < 0) throw new Error('lan peer: registerNetdev ' + dev);
    this.dev = dev;
    const me = parseIpStrict(PEER_IP);
    const rc = ipAddrAdd(this.st, dev, me, 24);
    if (rc < 0) throw new Error('lan peer: ipAddrAdd ' + rc);
    this.mux = new ServiceMux(this.st);
    this.dhcp = new DhcpServer(this.st, dev, { poolStart: parseIpStrict(POOL_START), poolSize: POOL_SIZE, prefixLen: 24, leaseSec: 3600, router: me, dns: [me] });
    this.dns = new DnsServer(this.st, DNS_PORT, 4);
    for (const n of PEER_NAMES) if (this.dns.addA(n, me, 60) < 0) throw new Error('lan peer: dns zone ' + n);
    const ho = defaultHttpOptions();
    ho.maxConns = 4;
    this.http = new HttpService(this.st, HTTP_PORT, ho);
    this.mux.add(this.dhcp);
    this.mux.add(this.dns);
    this.mux.add(this.http);
    const src = this.mux.start();
    if (src < 0) throw new Error('lan peer: services ' + src);
    // the facades (net, dgram) after the mux: their EventMux keeps it as the fallback
    this.usock = createSocket(this.st, 'udp4', (msg: Uint8Array, r: RemoteInfo) => {
      this.udp.push({ from: r.address, port: r.port, text: Buffer.from(msg).toString('latin1') });
    });
    this.usock.bind(UDP_PORT);
    devOpen(this.st, dev);
  }

  /** Start the loop and the inbox poll. */
  start(): void {
    const st = this.st;
    this.loop = startPollLoop({
      poll: () => st.poll(),
      nextExpiry: () => st.timers.nextExpiry(),
      now: () => st.clock.now(),
      work: () => this.mux.run(),
      after: () => {},
    });
    this.drv.onRx = this.loop.schedule;
    this.timer = setInterval(() => this.drv.pollInbox(), 2);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.loop !== null) this.loop.stop();
    this.loop = null;
    try {
      this.usock.close();
    } catch {
      /* already closed */
    }
  }

  /** The addresses the DHCP server has bound. */
  leases(): string[] {
    const r: string[] = [];
    for (let i = 0; i < this.dhcp.poolSize; i++) if (this.dhcp.leaseState[i] === LEASE_BOUND) r.push(formatIp(this.dhcp.addrOf(i)));
    return r;
  }

  /** Resolves when cond() holds (checked every 20 ms), or rejects after ms with `what`. */
  waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const iv = setInterval(() => {
        if (cond()) {
          clearInterval(iv);
          resolve();
        } else if (Date.now() - t0 > ms) {
          clearInterval(iv);
          reject(new Error('timed out after ' + ms + ' ms waiting for ' + what));
        }
      }, 20);
    });
  }

  /** GET http://host:port/path (HTTP/1.0, read to the end); rejects on an error or after ms. */
  fetch(host: string, path: string, ms: number, port?: number): Promise<FetchResult> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (err: Error | null): void => {
        if (done) return;
        done = true;
        clearTimeout(tm);
        if (err !== null) return reject(err);
        const all = Buffer.concat(chunks).toString('latin1');
        const e = all.indexOf('\r\n\r\n');
        const head = e >= 0 ? all.slice(0, e) : all;
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        resolve({ status: m !== null ? parseInt(m[1], 10) : 0, head, body: e >= 0 ? all.slice(e + 4) : '' });
      };
      const tm = setTimeout(() => {
        s.destroy();
        finish(new Error('fetch http://' + host + path + ': no complete answer in ' + ms + ' ms (' + Buffer.concat(chunks).length + ' bytes so far)'));
      }, ms);
      const s = createConnection(this.st, { port: port !== undefined ? port : 80, host }, () => {
        s.write('GET ' + path + ' HTTP/1.0\r\nHost: ' + host + '\r\nConnection: close\r\n\r\n');
      });
      s.on('data', (d: Uint8Array) => chunks.push(Buffer.from(d)));
      s.on('end', () => finish(null));
      s.on('close', () => finish(null));
      s.on('error', (e: Error) => finish(new Error('fetch http://' + host + path + ': ' + e.message)));
      if (this.loop !== null) this.loop.schedule();
    });
  }
}

/** The wire folders of a run directory: [board → peer, peer → board]. */
export function wireDirs(dir: string): { b2p: string; p2b: string } {
  return { b2p: join(dir, 'wire', 'b2p'), p2b: join(dir, 'wire', 'p2b') };
}
