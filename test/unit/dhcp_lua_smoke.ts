/*
 * dhcp_lua_smoke.ts — a DHCP lease cycle that runs unchanged on Node
 * (test/unit/dhcp_lua.test.ts) and on Lua 5.3 (typescript-to-lua bundle
 * whose entry is test/unit/dhcp_lua_main.ts): a DhcpServer on stack S
 * (192.0.2.1/24) and a DhcpClient on stack C joined by a PairLink, in
 * virtual time skipping to the next timer: bind (with the ARP probe),
 * renew, rebind after a lost ACK, expiry with a silent server, a new
 * lease, a NAK, an INIT-REBOOT, an infinite lease, release. Both runtimes
 * must print the same summary. Not a test file.
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import type { StackConfig } from '../../src/config';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { formatIp, parseIpStrict } from '../../src/link/ifaddr';
import { neighFlushAll } from '../../src/link/arp';
import { DhcpClient, DhcpEventHandler, DHCP_BOUND, DHCP_STOPPED } from '../../src/apps/dhcp_client';
import { DhcpServer } from '../../src/apps/dhcp_server';
import { DHCP_INFINITE } from '../../src/wire/dhcp';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('dhcp smoke: ' + what);
}

const EV = ['', 'B', 'R', 'L', 'C', 'N', 'X'];

class Log implements DhcpEventHandler {
  s = '';
  onDhcpEvent(kind: number, _dev: number, _addr: number): void {
    this.s = this.s + EV[kind];
  }
}

class Env {
  readonly clock = new ManualClock(1000);
  readonly s: Stack;
  readonly c: Stack;
  readonly srv: DhcpServer;
  readonly cli: DhcpClient;
  readonly log = new Log();
  readonly dev: number;
  constructor() {
    const over: Partial<StackConfig> = { skbSmallCount: 16, skbLargeCount: 1, skbLargeSize: 2048, maxSockets: 4 };
    this.s = new Stack('s', over, this.clock, undefined);
    const overC: Partial<StackConfig> = { skbSmallCount: 16, skbLargeCount: 1, skbLargeSize: 2048, maxSockets: 4, seed: 9 };
    this.c = new Stack('c', overC, this.clock, undefined);
    const link = createPairLink(this.s, this.c, new Uint8Array([2, 0, 0, 0, 0, 1]), new Uint8Array([2, 0, 0, 0, 0, 2]), 1500);
    check(ifconfig(this.s, link.devA, '192.0.2.1/24', null) === 0, 'ifconfig');
    link.open();
    this.dev = link.devB;
    this.srv = new DhcpServer(this.s, link.devA, {
      poolStart: parseIpStrict('192.0.2.100'), poolSize: 4, prefixLen: 24, leaseSec: 60,
      router: parseIpStrict('192.0.2.1'), dns: [parseIpStrict('192.0.2.53')],
    });
    check(this.srv.start() === 0, 'server start');
    this.cli = new DhcpClient(this.c);
    this.cli.handler = this.log;
  }

  /** Advance virtual time to `end`, stopping at every timer expiry; poll both stacks. */
  runTo(end: number): void {
    for (let guard = 0; guard < 100000; guard++) {
      this.s.poll();
      this.c.poll();
      this.s.poll();
      this.c.poll();
      const now = this.clock.now();
      if (now >= end) return;
      let next = end;
      const a = this.s.timers.nextExpiry();
      const b = this.c.timers.nextExpiry();
      if (a >= 0 && a < next) next = a;
      if (b >= 0 && b < next) next = b;
      if (next <= now) next = now + 1;
      this.clock.set(next);
    }
    check(false, 'runTo: no progress');
  }

  /** Run in 1 s slices until pred holds (or maxMs). */
  until(pred: () => boolean, maxMs: number): boolean {
    const end = this.clock.now() + maxMs;
    while (this.clock.now() < end) {
      if (pred()) return true;
      this.runTo(this.clock.now() + 1000);
    }
    return pred();
  }
}

export function dhcpSmoke(): string {
  const e = new Env();
  const c = e.cli;
  const srv = e.srv;
  check(c.start(e.dev, { hostName: 'lua' }) === 0, 'client start');
  check(e.until(() => c.state === DHCP_BOUND, 30000), 'bind');
  const first = formatIp(c.addr) + '/' + c.prefixLen + ' gw=' + formatIp(c.router) + ' dns=' + formatIp(c.dns[0]);
  check(e.c.ifaddr.onDev(e.dev, c.addr), 'address on the device');
  // renew at T1
  check(e.until(() => c.renewals === 1, 60000), 'renew');
  // the RENEWING ACK is lost (T2 comes before the 60 s retransmission): REBINDING
  srv.dropAcks = 1;
  check(e.until(() => c.renewals === 2, 60000), 'rebind');
  // a silent server: expiry
  srv.silent = true;
  check(e.until(() => c.losses === 1, 120000), 'expiry');
  check(e.c.ifaddr.count === 0 && e.c.route.count === 0 && c.dnsCount === 0, 'all gone');
  srv.silent = false;
  check(e.until(() => c.state === DHCP_BOUND, 120000), 'bind again');
  // a NAK at the next renewal
  srv.nakRequests = 1;
  check(e.until(() => c.naks === 1 && c.state === DHCP_BOUND, 120000), 'nak');
  // INIT-REBOOT with the address we hold
  const prev = c.addr;
  c.stop(false);
  check(c.start(e.dev, { requestedIp: prev, probeNum: 1 }) === 0, 'restart');
  check(e.until(() => c.state === DHCP_BOUND, 30000), 'reboot');
  check(c.addr === prev, 'same address');
  // an infinite lease: no timers left
  c.stop(true);
  srv.leaseSec = DHCP_INFINITE;
  check(c.start(e.dev, { probeNum: 0 }) === 0, 'restart 2');
  check(e.until(() => c.state === DHCP_BOUND, 30000), 'infinite');
  const infinite = c.leaseSec === DHCP_INFINITE && c.t1At === -1 && c.expireAt === -1;
  e.runTo(e.clock.now() + 3600000);
  check(c.state === DHCP_BOUND, 'still bound');
  c.stop(true);
  check(c.state === DHCP_STOPPED, 'stopped');
  e.runTo(e.clock.now() + 1000);
  srv.stop();
  neighFlushAll(e.s, false);
  neighFlushAll(e.c, false);
  e.runTo(e.clock.now() + 100);
  return (
    'dhcp ' + first + ' events=' + e.log.s + ' disc=' + c.discovers + ' req=' + c.requests + ' probes=' + c.probes +
    ' rtx=' + c.retransmits + ' srv=' + srv.offers + '/' + srv.acks + '/' + srv.naks + '/' + srv.releases +
    ' bound=' + srv.boundCount() + ' inf=' + (infinite ? 1 : 0) + ' pool=' + e.s.pool.inUse() + '/' + e.c.pool.inUse() +
    ' t=' + Math.floor(e.clock.now() / 1000) + (e.s.pool.inUse() === 0 && e.c.pool.inUse() === 0 ? ' ok' : ' LEAK')
  );
}
