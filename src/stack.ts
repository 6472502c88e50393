/*
 * stack.ts — one slabnet instance: every pool, table and counter of one
 * network stack, allocated here once. There is no global mutable state
 * outside this object, so a simulation can hold many stacks.
 *
 * Layers keep their state in the objects below and expose kernel-named
 * functions that take the stack as first argument (ipRcv(st, skb), ...).
 * A layer calls the layer below through those functions and the layer
 * above only through handlers registered here at start-up (ptype table,
 * inet protocol table, netdev notifiers), as ptype_base / inet_protos do.
 *
 * Driving it: call poll() whenever the clock advances or a driver has
 * queued frames; it runs due timers, driver NAPI polls and net_rx_action.
 */
import { StackConfig, makeConfig } from './config';
import { Clock } from './core/clock';
import { Rng, XorShift32 } from './core/rng';
import { SkbPool } from './core/skb';
import { TimerWheel } from './core/timer';
import { Mib } from './core/mib';
import { LinkState, initLink, netRxAction, linkPollDrivers } from './link/dev';
import { IfAddrTable } from './link/ifaddr';
import { ArpTable, initArp } from './link/arp';
import { RouteTable } from './ipv4/route';
import { Ipv4State, initIpv4 } from './ipv4/ip_input';
import { IcmpState, initIcmp } from './ipv4/icmp';
import { UdpTable, initUdp } from './transport/udp';
import { RawTable, initRaw } from './transport/raw';
import { SocketTable, initSockets } from './socket/socket';
import { TcpState } from './transport/tcp/tcp';
import { initTcp } from './transport/tcp/tcp_ipv4';
import { FEATURE_TCP } from './features';

/** Readiness events delivered through Stack.onEvent (bit mask). */
export const EV_READABLE = 1;
export const EV_WRITABLE = 2;
export const EV_CONNECTED = 4;
export const EV_CLOSED = 8;
export const EV_ERROR = 16;

export interface StackEventHandler {
  onSocketEvent(fd: number, events: number): void;
}

/** Result of a name lookup: err 0 and addr (s32), or err < 0 (EAI_*, src/wire/dns.ts). */
export interface NameHandler {
  onResolved(tag: number, err: number, addr: number, ttl: number): void;
}

/**
 * The stack's name service (lwIP's dns.c behind netconn_gethostbyname):
 * what the `net` facade and the NetworkJS adapter call for a host that is
 * not a dotted quad. src/apps/dns_resolver.ts implements it and the first
 * DnsResolver made on a stack installs itself; the DHCP client gives it
 * the lease's servers.
 */
export interface NameResolver {
  /** Start a lookup; h.onResolved(tag, ...) follows (from a stack timer, or at once). 0 = answered already, > 0 = a handle, < 0 = error. */
  resolveWith(name: string, h: NameHandler, tag: number): number;
  /** Forget a lookup in flight (no callback). */
  cancel(handle: number): number;
  /** Use these servers (s32 or unsigned; zeros skipped). */
  setServers(list: Int32Array | number[]): number;
}

export class Stack {
  readonly cfg: StackConfig;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly pool: SkbPool;
  readonly timers: TimerWheel;
  readonly mib: Mib;
  readonly link: LinkState;
  readonly ifaddr: IfAddrTable;
  readonly arp: ArpTable;
  readonly route: RouteTable;
  readonly ip: Ipv4State;
  readonly icmp: IcmpState;
  readonly udp: UdpTable;
  readonly raw: RawTable;
  /** TCP state; absent (undefined) in a build with FEATURE_TCP off. */
  readonly tcp: TcpState;
  readonly sock: SocketTable;
  /** Socket readiness callback (one for the whole stack). */
  events: StackEventHandler | null = null;
  /** Host names for the net facade and the NetworkJS adapter (null: dotted quads only). */
  resolver: NameResolver | null = null;
  /** Name for logs and reports. */
  name: string;

  constructor(name: string, over: Partial<StackConfig> | undefined, clock: Clock, rng: Rng | undefined) {
    this.name = name;
    const c = makeConfig(over);
    this.cfg = c;
    this.clock = clock;
    this.rng = rng !== undefined ? rng : new XorShift32(c.seed);
    this.pool = new SkbPool({
      smallCount: c.skbSmallCount,
      smallSize: c.skbSmallSize,
      largeCount: c.skbLargeCount,
      largeSize: c.skbLargeSize,
      headroom: c.skbHeadroom,
    });
    this.timers = new TimerWheel(c.timerMax, c.timerSlots, c.timerTickMs);
    this.mib = new Mib();
    this.link = initLink(this);
    this.ifaddr = new IfAddrTable(c.ipAddrMax);
    this.arp = initArp(this);
    this.route = new RouteTable(c.routeTableSize);
    this.ip = initIpv4(this);
    this.icmp = initIcmp(this);
    this.udp = initUdp(this);
    this.raw = initRaw(this);
    this.tcp = FEATURE_TCP ? initTcp(this) : (undefined as unknown as TcpState);
    this.sock = initSockets(this);
  }

  now(): number {
    return this.clock.now();
  }

  /** Run timers, poll drivers, drain the RX ring. Returns packets processed. */
  poll(): number {
    this.timers.run(this.clock.now());
    linkPollDrivers(this);
    // NAPI rounds, bounded so a device that keeps refilling the ring
    // (a loop on the wire) cannot starve the caller.
    let n = 0;
    for (let round = 0; round < 8; round++) {
      const k = netRxAction(this, this.cfg.napiBudget);
      if (k === 0) break;
      n += k;
      linkPollDrivers(this);
    }
    return n;
  }

  /** Deliver socket readiness to the application. */
  emit(fd: number, ev: number): void {
    const h = this.events;
    if (h !== null) h.onSocketEvent(fd, ev);
  }
}
