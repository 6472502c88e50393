/*
 * dhcp_server.ts — a small DHCP server (RFC 2131 §4.3) for simulated LANs
 * and tests: one device, one fixed pool of consecutive addresses, one
 * lease time, a router and up to three DNS servers. No relays (giaddr),
 * no DHCPINFORM, no static bindings, no ICMP check before an OFFER.
 *
 *   DISCOVER → OFFER: the client's current or last address, else the
 *              requested one (option 50) when free, else the first free
 *              one; held for offerHoldMs.
 *   REQUEST  → ACK or NAK (§4.3.2): SELECTING (option 54 present: ours →
 *              ACK the offered address, another server's → forget our
 *              offer), INIT-REBOOT (option 50, ciaddr 0: NAK when on the
 *              wrong network or held by another client), RENEWING /
 *              REBINDING (ciaddr: extend when it is the client's).
 *   DECLINE  → the address is kept out of the pool for declineHoldMs.
 *   RELEASE  → the address is free again (the client keeps its affinity).
 * Replies (§4.1, giaddr 0): NAK broadcast; to ciaddr when set; broadcast
 * when the client set the BROADCAST flag; else unicast to yiaddr at
 * chaddr (a neighbour entry is written for the send).
 *
 * For tests it can be told to drop the next N OFFERs or ACKs (the binding
 * is still made: the message is "lost on the wire"), to NAK the next N
 * REQUESTs, or to stay silent.
 *
 * Place in the packet path: an application on the UDP socket API (0.0.0.0:67,
 * SO_BROADCAST, SO_BINDTODEVICE), like dhcp_client.ts; readiness through the
 * stack's EventMux or a ServiceMux (it is a NetService). Portable; the
 * receive path and timers allocate nothing (the unicast-to-chaddr case
 * writes a neighbour entry).
 */
import type { Stack } from '../stack';
import type { TimerHandler } from '../core/timer';
import { EAGAIN, EALREADY, EINVAL, ENODEV } from '../core/errno';
import { s32 } from '../core/bits';
import { INADDR_BROADCAST, prefixMask } from '../core/inaddr';
import { getDev } from '../link/dev';
import { neighFind, neighAddStatic, neighDel } from '../link/arp';
import {
  socket, bind, close, sendto, recvfrom, setsockopt,
  SOCK_DGRAM, IPPROTO_UDP, SOL_SOCKET, SO_BROADCAST, SO_BINDTODEVICE,
} from '../socket/socket';
import { eventMux, SocketEventListener } from '../socket/events';
import { NetService } from './service';
import {
  DhcpMsg, dhcpParse, dhcpPutHeader, dhcpPutOpt8, dhcpPutOpt32, dhcpPutOptAddrs, dhcpPutOptBytes, dhcpPutEnd,
  DHCP_SERVER_PORT, DHCP_CLIENT_PORT, DHCP_FLAG_BROADCAST, DHCP_DNS_MAX, BOOTREQUEST, BOOTREPLY, HTYPE_ETHER,
  DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE, DHCP_INFINITE,
  DHO_MSG_TYPE, DHO_SERVER_ID, DHO_LEASE_TIME, DHO_T1, DHO_T2, DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS, DHO_CLIENT_ID,
} from '../wire/dhcp';

export interface DhcpServerOptions {
  /** first address of the pool (either form) */
  poolStart: number;
  /** addresses in the pool */
  poolSize: number;
  /** prefix length of the subnet (option 1) */
  prefixLen: number;
  /** seconds (DHCP_INFINITE = forever) */
  leaseSec: number;
  /** T1/T2 seconds sent (default: not sent, the client uses 0.5 / 0.875) */
  t1Sec?: number;
  t2Sec?: number;
  /** option 3 (0 / absent: none) */
  router?: number;
  /** option 6, at most three */
  dns?: number[];
  /** server identifier (option 54); default the device's primary address at start() */
  serverIp?: number;
  /** how long an OFFER reserves its address (ms, default 60000) */
  offerHoldMs?: number;
  /** how long a DECLINEd address stays out of the pool (ms, default 600000) */
  declineHoldMs?: number;
}

/* lease slot states */
export const LEASE_FREE = 0;
export const LEASE_OFFERED = 1;
export const LEASE_BOUND = 2;
export const LEASE_DECLINED = 3;

const RX_BUDGET = 16;
const RX_BUF = 1472;
const TX_BUF = 576 - 28;

export class DhcpServer implements NetService, TimerHandler, SocketEventListener {
  readonly name = 'dhcp-server';
  fd = -1;
  serverIp = 0;
  readonly poolStart: number;
  readonly poolSize: number;
  readonly prefixLen: number;
  readonly mask: number;
  leaseSec: number;
  t1Sec: number;
  t2Sec: number;
  router: number;
  readonly dns: Int32Array = new Int32Array(DHCP_DNS_MAX);
  dnsCount = 0;
  offerHoldMs: number;
  declineHoldMs: number;

  /* ---- the lease table, one slot per pool address ---- */
  readonly leaseState: Uint8Array;
  readonly leaseMac: Uint8Array;
  /** st.now() when the slot's state ends (ms) */
  readonly leaseEnd: Float64Array;

  /* ---- test knobs ---- */
  /** drop the next N OFFERs (the reservation is made) */
  dropOffers = 0;
  /** drop the next N ACKs (the binding is made) */
  dropAcks = 0;
  /** answer the next N REQUESTs with a NAK */
  nakRequests = 0;
  /** read and ignore everything */
  silent = false;

  /* ---- counters ---- */
  discovers = 0;
  requests = 0;
  declines = 0;
  releases = 0;
  offers = 0;
  acks = 0;
  naks = 0;
  /** replies dropped by dropOffers / dropAcks */
  dropped = 0;
  badMsgs = 0;
  ignored = 0;
  poolExhausted = 0;
  sendErrors = 0;

  private readonly tmRx: number;
  private readonly rx: Uint8Array = new Uint8Array(RX_BUF);
  private readonly tx: Uint8Array = new Uint8Array(TX_BUF);
  private readonly from: Int32Array = new Int32Array(2);
  private readonly msg: DhcpMsg = new DhcpMsg();
  private readable = false;
  private readonly configServerIp: number;

  constructor(
    readonly st: Stack,
    readonly dev: number,
    opts: DhcpServerOptions,
  ) {
    this.poolStart = s32(opts.poolStart);
    this.poolSize = opts.poolSize > 0 ? Math.floor(opts.poolSize) : 1;
    this.prefixLen = opts.prefixLen;
    this.mask = prefixMask(opts.prefixLen);
    this.leaseSec = opts.leaseSec;
    this.t1Sec = opts.t1Sec !== undefined ? opts.t1Sec : -1;
    this.t2Sec = opts.t2Sec !== undefined ? opts.t2Sec : -1;
    this.router = opts.router !== undefined ? s32(opts.router) : 0;
    if (opts.dns !== undefined) {
      for (let i = 0; i < opts.dns.length && i < DHCP_DNS_MAX; i++) this.dns[i] = s32(opts.dns[i]);
      this.dnsCount = opts.dns.length < DHCP_DNS_MAX ? opts.dns.length : DHCP_DNS_MAX;
    }
    this.configServerIp = opts.serverIp !== undefined ? s32(opts.serverIp) : 0;
    this.offerHoldMs = opts.offerHoldMs !== undefined ? opts.offerHoldMs : 60000;
    this.declineHoldMs = opts.declineHoldMs !== undefined ? opts.declineHoldMs : 600000;
    this.leaseState = new Uint8Array(this.poolSize);
    this.leaseMac = new Uint8Array(this.poolSize * 6);
    this.leaseEnd = new Float64Array(this.poolSize);
    const t = st.timers.register(this, 0);
    if (t < 0) throw new Error('dhcp server: timer table full (raise cfg.timerMax)');
    this.tmRx = t;
  }

  start(): number {
    const st = this.st;
    if (this.fd >= 0) return -EALREADY;
    if (getDev(st, this.dev) === null) return -ENODEV;
    this.serverIp = this.configServerIp !== 0 ? this.configServerIp : st.ifaddr.primary(this.dev);
    if (this.serverIp === 0) return -EINVAL;
    const fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return fd;
    let rc = setsockopt(st, fd, SOL_SOCKET, SO_BROADCAST, 1);
    if (rc === 0) rc = setsockopt(st, fd, SOL_SOCKET, SO_BINDTODEVICE, this.dev);
    if (rc === 0) rc = bind(st, fd, 0, DHCP_SERVER_PORT);
    if (rc < 0) {
      close(st, fd);
      return rc;
    }
    this.fd = fd;
    eventMux(st).set(fd, this);
    return 0;
  }

  stop(): void {
    if (this.fd < 0) return;
    eventMux(this.st).set(this.fd, null);
    close(this.st, this.fd);
    this.st.timers.del(this.tmRx);
    this.fd = -1;
  }

  owns(fd: number): boolean {
    return fd === this.fd;
  }

  onSocketEvent(fd: number, events: number): void {
    if (fd !== this.fd || events === 0) return;
    this.readable = true;
    this.st.timers.mod(this.tmRx, this.st.now());
  }

  onTimer(_arg: number): void {
    this.run();
  }

  run(): number {
    if (this.fd < 0 || !this.readable) return 0;
    const st = this.st;
    let n = 0;
    for (let i = 0; i < RX_BUDGET; i++) {
      const r = recvfrom(st, this.fd, this.rx, 0, this.rx.length, this.from);
      if (r === -EAGAIN) {
        this.readable = false;
        return n;
      }
      if (r < 0) continue;
      n++;
      if (!this.silent) this.input(r);
    }
    st.timers.mod(this.tmRx, st.now());
    return n;
  }

  /* ---------------- the pool ---------------- */

  /** Address of slot i (s32). */
  addrOf(i: number): number {
    return s32(this.poolStart + i);
  }

  /** Slot of address a, or -1 when a is outside the pool. */
  slotOf(a: number): number {
    const k = s32(s32(a) - this.poolStart);
    return k >= 0 && k < this.poolSize ? k : -1;
  }

  private macIs(i: number, b: Uint8Array, o: number): boolean {
    const m = this.leaseMac;
    for (let k = 0; k < 6; k++) if (m[i * 6 + k] !== b[o + k]) return false;
    return true;
  }

  /** Slot i may be given to anyone (free, or its offer/lease/decline hold is over). */
  private available(i: number): boolean {
    const s = this.leaseState[i];
    return s === LEASE_FREE || this.leaseEnd[i] <= this.st.now();
  }

  /** Slot i is held (offered or bound, not expired) by chaddr b[o..]. */
  private heldBy(i: number, b: Uint8Array, o: number): boolean {
    const s = this.leaseState[i];
    return (s === LEASE_OFFERED || s === LEASE_BOUND) && this.leaseEnd[i] > this.st.now() && this.macIs(i, b, o);
  }

  private setSlot(i: number, state: number, endMs: number, b: Uint8Array, o: number): void {
    this.leaseState[i] = state;
    this.leaseEnd[i] = endMs;
    for (let k = 0; k < 6; k++) this.leaseMac[i * 6 + k] = b[o + k];
  }

  /** The address to offer chaddr b[o..]: its own, the requested one, else the first free. -1 when none. */
  private pick(b: Uint8Array, o: number, requested: number): number {
    const n = this.poolSize;
    for (let i = 0; i < n; i++) if (this.heldBy(i, b, o)) return i;
    // its last address, when nobody took it meanwhile (affinity)
    for (let i = 0; i < n; i++) {
      if (this.leaseState[i] !== LEASE_DECLINED && this.available(i) && this.macIs(i, b, o)) return i;
    }
    const r = requested !== 0 ? this.slotOf(requested) : -1;
    if (r >= 0 && this.available(r)) return r;
    for (let i = 0; i < n; i++) if (this.available(i)) return i;
    return -1;
  }

  /** Slots currently bound (not expired). */
  boundCount(): number {
    let c = 0;
    const now = this.st.now();
    for (let i = 0; i < this.poolSize; i++) if (this.leaseState[i] === LEASE_BOUND && this.leaseEnd[i] > now) c++;
    return c;
  }

  /** Forget every binding (a server that lost its lease database). */
  forgetAll(): void {
    for (let i = 0; i < this.poolSize; i++) {
      this.leaseState[i] = LEASE_FREE;
      this.leaseEnd[i] = 0;
      for (let k = 0; k < 6; k++) this.leaseMac[i * 6 + k] = 0;
    }
  }

  private leaseEndMs(): number {
    return this.leaseSec === DHCP_INFINITE ? Infinity : this.st.now() + this.leaseSec * 1000;
  }

  /* ---------------- input ---------------- */

  private input(n: number): void {
    const m = this.msg;
    const b = this.rx;
    if (dhcpParse(b, 0, n, m) < 0) {
      this.badMsgs++;
      return;
    }
    if (m.op !== BOOTREQUEST || m.htype !== HTYPE_ETHER || m.hlen !== 6 || m.giaddr !== 0) {
      this.ignored++;
      return;
    }
    switch (m.msgType) {
      case DHCPDISCOVER:
        this.discovers++;
        this.onDiscover(m);
        return;
      case DHCPREQUEST:
        this.requests++;
        this.onRequest(m);
        return;
      case DHCPDECLINE:
        this.declines++;
        this.onDecline(m);
        return;
      case DHCPRELEASE:
        this.releases++;
        this.onRelease(m);
        return;
    }
    this.ignored++;
  }

  private onDiscover(m: DhcpMsg): void {
    const b = this.rx;
    const i = this.pick(b, m.chaddrOff, m.requestedIp);
    if (i < 0) {
      this.poolExhausted++;
      return;
    }
    const now = this.st.now();
    if (!(this.leaseState[i] === LEASE_BOUND && this.heldBy(i, b, m.chaddrOff))) {
      this.setSlot(i, LEASE_OFFERED, now + this.offerHoldMs, b, m.chaddrOff);
    }
    if (this.dropOffers > 0) {
      this.dropOffers--;
      this.dropped++;
      return;
    }
    this.offers++;
    this.reply(m, DHCPOFFER, this.addrOf(i));
  }

  private onRequest(m: DhcpMsg): void {
    const b = this.rx;
    const ch = m.chaddrOff;
    if (m.serverId !== 0) {
      // SELECTING
      if (m.serverId !== this.serverIp) {
        // the client took another server's offer: ours is free again
        for (let i = 0; i < this.poolSize; i++) {
          if (this.leaseState[i] === LEASE_OFFERED && this.macIs(i, b, ch)) this.leaseState[i] = LEASE_FREE;
        }
        this.ignored++;
        return;
      }
      const i = this.slotOf(m.requestedIp);
      if (this.nakRequests > 0 || i < 0 || !this.heldBy(i, b, ch)) {
        this.nak(m);
        return;
      }
      this.ack(m, i);
      return;
    }
    if (m.ciaddr === 0) {
      // INIT-REBOOT: verify the client's notion of its address
      const a = m.requestedIp;
      if (a === 0) {
        this.ignored++;
        return;
      }
      if (this.nakRequests > 0 || (a & this.mask) !== (this.serverIp & this.mask)) {
        this.nak(m);
        return;
      }
      const i = this.slotOf(a);
      if (i < 0) {
        this.ignored++; // no record of it: silent (§4.3.2)
        return;
      }
      if (this.heldBy(i, b, ch) || (this.available(i) && this.leaseState[i] !== LEASE_DECLINED)) {
        this.ack(m, i);
        return;
      }
      this.nak(m);
      return;
    }
    // RENEWING (unicast) or REBINDING (broadcast): ciaddr is the client's address
    const i = this.slotOf(m.ciaddr);
    if (this.nakRequests > 0) {
      this.nak(m);
      return;
    }
    if (i >= 0 && (this.heldBy(i, b, ch) || (this.available(i) && this.macIs(i, b, ch)))) {
      this.ack(m, i);
      return;
    }
    if (i >= 0 || (m.ciaddr & this.mask) !== (this.serverIp & this.mask)) {
      this.nak(m);
      return;
    }
    this.ignored++;
  }

  private ack(m: DhcpMsg, i: number): void {
    this.setSlot(i, LEASE_BOUND, this.leaseEndMs(), this.rx, m.chaddrOff);
    if (this.dropAcks > 0) {
      this.dropAcks--;
      this.dropped++;
      return;
    }
    this.acks++;
    this.reply(m, DHCPACK, this.addrOf(i));
  }

  private nak(m: DhcpMsg): void {
    if (this.nakRequests > 0) this.nakRequests--;
    this.naks++;
    this.reply(m, DHCPNAK, 0);
  }

  private onDecline(m: DhcpMsg): void {
    const i = this.slotOf(m.requestedIp);
    if (m.serverId !== this.serverIp || i < 0 || !this.macIs(i, this.rx, m.chaddrOff)) {
      this.ignored++;
      return;
    }
    this.leaseState[i] = LEASE_DECLINED;
    this.leaseEnd[i] = this.st.now() + this.declineHoldMs;
  }

  private onRelease(m: DhcpMsg): void {
    const i = this.slotOf(m.ciaddr);
    if (m.serverId !== this.serverIp || i < 0 || !this.heldBy(i, this.rx, m.chaddrOff)) {
      this.ignored++;
      return;
    }
    this.leaseState[i] = LEASE_FREE;
    this.leaseEnd[i] = 0;
  }

  /* ---------------- output ---------------- */

  private reply(m: DhcpMsg, type: number, yiaddr: number): void {
    const st = this.st;
    const b = this.tx;
    const rb = this.rx;
    let o = dhcpPutHeader(b, 0, BOOTREPLY, m.xid, 0, m.flags, type === DHCPNAK ? 0 : m.ciaddr, yiaddr, 0, rb, m.chaddrOff);
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, type);
    o = dhcpPutOpt32(b, o, DHO_SERVER_ID, this.serverIp);
    if (type !== DHCPNAK) {
      o = dhcpPutOpt32(b, o, DHO_LEASE_TIME, this.leaseSec);
      if (this.t1Sec >= 0) o = dhcpPutOpt32(b, o, DHO_T1, this.t1Sec);
      if (this.t2Sec >= 0) o = dhcpPutOpt32(b, o, DHO_T2, this.t2Sec);
      o = dhcpPutOpt32(b, o, DHO_SUBNET_MASK, this.mask);
      if (this.router !== 0) o = dhcpPutOpt32(b, o, DHO_ROUTER, this.router);
      if (this.dnsCount > 0) o = dhcpPutOptAddrs(b, o, DHO_DNS, this.dns, this.dnsCount);
    }
    // RFC 6842: echo the client identifier
    if (m.clientIdLen > 0 && m.clientIdLen <= 64) o = dhcpPutOptBytes(b, o, DHO_CLIENT_ID, rb, m.clientIdOff, m.clientIdLen);
    const len = dhcpPutEnd(b, 0, o);
    // destination (RFC 2131 §4.1, giaddr 0)
    if (type === DHCPNAK || (m.ciaddr === 0 && (m.flags & DHCP_FLAG_BROADCAST) !== 0)) {
      this.xmit(len, INADDR_BROADCAST);
      return;
    }
    if (m.ciaddr !== 0) {
      this.xmit(len, m.ciaddr);
      return;
    }
    // unicast to yiaddr at chaddr: the client cannot answer ARP yet
    const had = neighFind(st, this.dev, yiaddr) >= 0;
    if (!had && neighAddStatic(st, this.dev, yiaddr, rb, m.chaddrOff) < 0) {
      this.xmit(len, INADDR_BROADCAST);
      return;
    }
    this.xmit(len, yiaddr);
    if (!had) neighDel(st, yiaddr);
  }

  private xmit(len: number, daddr: number): void {
    if (sendto(this.st, this.fd, this.tx, 0, len, daddr, DHCP_CLIENT_PORT) < 0) this.sendErrors++;
  }

  stats(): { [k: string]: number } {
    return {
      discovers: this.discovers,
      requests: this.requests,
      declines: this.declines,
      releases: this.releases,
      offers: this.offers,
      acks: this.acks,
      naks: this.naks,
      dropped: this.dropped,
      badMsgs: this.badMsgs,
      ignored: this.ignored,
      poolExhausted: this.poolExhausted,
      sendErrors: this.sendErrors,
      bound: this.boundCount(),
    };
  }
}
