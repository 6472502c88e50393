/*
 * dhcp_client.ts — a DHCP client (RFC 2131 §3.1, §3.2, §4.3–§4.4; options
 * RFC 2132) with the RFC 5227 §2.1 address probe, for one device.
 *
 * States (RFC 2131 figure 5, plus PROBING for RFC 5227):
 *
 *   INIT ─DISCOVER─► SELECTING ─OFFER/REQUEST─► REQUESTING ─ACK─► PROBING ─quiet─► BOUND
 *   INIT-REBOOT ─REQUEST(previous address)─► REBOOTING ─ACK─► PROBING
 *   PROBING ─conflict─► DECLINE, INIT after 10 s        REQUESTING/REBOOTING ─NAK─► INIT
 *   BOUND ─T1─► RENEWING (REQUEST unicast to the server) ─T2─► REBINDING (broadcast)
 *   RENEWING/REBINDING ─ACK─► BOUND (renewed)  ─NAK or lease expiry─► INIT (address lost)
 *
 * Retransmission (RFC 2131 §4.1): 4, 8, 16, 32, 64 s, each ±1 s drawn from
 * st.rng; DISCOVER is repeated every 64 s ± 1 s after that, a REQUEST in
 * REQUESTING/REBOOTING is given up after 5 sends (back to INIT). RENEWING
 * and REBINDING resend after half the time left to T2 / to the end of the
 * lease, at least 60 s (§4.4.5). The lease is counted from the first send
 * of the REQUEST that it answers (§4.4.1).
 * The probe (RFC 5227 §2.1.1): a random 0..PROBE_WAIT wait, PROBE_NUM ARP
 * probes PROBE_MIN..PROBE_MAX apart, then ANNOUNCE_WAIT; any ARP packet from
 * the candidate address, or another host's probe for it, is a conflict.
 * On BOUND the address goes on the device (ipAddrAdd: connected route and a
 * gratuitous ARP), the router becomes the default route and up to three DNS
 * servers are kept in `dns` (s32) for the resolver; expiry, NAK and
 * release take them away again.
 *
 * Place in the packet path: an application on the zero-allocation UDP
 * socket API (a socket on 0.0.0.0:68 with SO_BROADCAST, SO_REUSEADDR and
 * SO_BINDTODEVICE, so each device can have its own client), one ARP watcher
 * (src/link/arp.ts arpWatchAdd) and two stack timers. Replies before the
 * address exists arrive broadcast (the BROADCAST flag is set while ciaddr
 * is 0) or unicast through st.ip.acceptUdpPort (src/ipv4/ip_input.ts).
 * Readiness comes from the stack's EventMux (src/socket/events.ts); a
 * program whose ServiceMux owns st.events forwards onSocketEvent and calls
 * run() itself. Socket events and ARP packets are only noted: the work is
 * done from a timer, never inside the receive path.
 *
 * Self-contained: nothing in the stack core imports it (a board leaves it
 * out by not importing it). Portable (Espruino, Lua): buffers, the parsed
 * message and the timers are set up in the constructor and start(); the
 * timers and the receive path allocate nothing.
 */
import type { Stack } from '../stack';
import type { TimerHandler } from '../core/timer';
import { EAGAIN, EALREADY, ENODEV } from '../core/errno';
import { s32 } from '../core/bits';
import { INADDR_BROADCAST, isMulticast, isLoopback, isReserved, isZeronet, prefixMask } from '../core/inaddr';
import { getDev } from '../link/dev';
import { arpProbe, arpWatchAdd, arpWatchDel, ArpWatcher, ARPOP_REQUEST } from '../link/arp';
import { ipAddrAdd, ipAddrDel, ipSetDefaultGateway, ipRouteDel } from '../ipv4/devinet';
import {
  socket, bind, close, sendto, recvfrom, setsockopt,
  SOCK_DGRAM, IPPROTO_UDP, SOL_SOCKET, SO_BROADCAST, SO_REUSEADDR, SO_BINDTODEVICE,
} from '../socket/socket';
import { eventMux, SocketEventListener } from '../socket/events';
import {
  DhcpMsg, dhcpParse, dhcpChaddrIs, dhcpPutHeader, dhcpPutOpt8, dhcpPutOpt16, dhcpPutOpt32, dhcpPutOptBytes,
  dhcpPutEnd, maskToPrefix,
  DHCP_SERVER_PORT, DHCP_CLIENT_PORT, DHCP_MIN_MAX_MSG, DHCP_UDP_IP_OVERHEAD, DHCP_FLAG_BROADCAST, DHCP_INFINITE,
  DHCP_DNS_MAX, BOOTREQUEST, BOOTREPLY, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK,
  DHCPRELEASE, DHO_MSG_TYPE, DHO_CLIENT_ID, DHO_HOST_NAME, DHO_PARAM_REQ, DHO_MAX_MSG_SIZE, DHO_REQUESTED_IP,
  DHO_SERVER_ID, DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS, DHO_LEASE_TIME, DHO_T1, DHO_T2,
} from '../wire/dhcp';

/* ---- client states ---- */
export const DHCP_STOPPED = 0;
export const DHCP_INIT = 1;
export const DHCP_SELECTING = 2;
export const DHCP_REQUESTING = 3;
/** RFC 5227 probe of the ACKed address */
export const DHCP_PROBING = 4;
export const DHCP_BOUND = 5;
export const DHCP_RENEWING = 6;
export const DHCP_REBINDING = 7;
/** waiting to send the REQUEST for the previous address */
export const DHCP_INIT_REBOOT = 8;
export const DHCP_REBOOTING = 9;

export const DHCP_STATE_NAMES = [
  'STOPPED', 'INIT', 'SELECTING', 'REQUESTING', 'PROBING', 'BOUND', 'RENEWING', 'REBINDING', 'INIT-REBOOT', 'REBOOTING',
];

/* ---- events (DhcpEventHandler.onDhcpEvent kind) ---- */
/** an address was configured (addr) */
export const DHCP_EV_BOUND = 1;
/** the lease on addr was extended (RENEWING or REBINDING) */
export const DHCP_EV_RENEWED = 2;
/** addr was taken off the device: lease expired, NAK, or a new address replaced it */
export const DHCP_EV_LOST = 3;
/** the probe found addr in use: DECLINE sent, INIT again in DECLINE_WAIT_MS */
export const DHCP_EV_CONFLICT = 4;
/** a server refused (addr: the address asked for) */
export const DHCP_EV_NAK = 5;
/** stop(true) released addr */
export const DHCP_EV_RELEASED = 6;

export interface DhcpEventHandler {
  /** kind: DHCP_EV_*; addr: s32 (src/core/inaddr.ts). Called from a stack timer. */
  onDhcpEvent(kind: number, dev: number, addr: number): void;
}

export interface DhcpClientOptions {
  /** option 12 (at most 63 bytes are sent) */
  hostName?: string;
  /** option 61, the whole value (type byte first; 2..64 bytes). Default: 1 (Ethernet) + the MAC */
  clientId?: Uint8Array;
  /** the previous lease's address (either form): start in INIT-REBOOT (RFC 2131 §3.2) */
  requestedIp?: number;
  /** set the BROADCAST flag while the client has no address (default true) */
  broadcastFlag?: boolean;
  /** ARP probes of an ACKed address before using it (RFC 5227 PROBE_NUM, default 3; 0 = no probe) */
  probeNum?: number;
  /** first DISCOVER after a random 0..startDelayMs (RFC 2131 §4.4.1 suggests 1-10 s; default 0) */
  startDelayMs?: number;
  /** option 57, the largest DHCP datagram taken, IP and UDP headers included (>= 576, default 576) */
  maxMessageSize?: number;
  /** give the lease's DNS servers (option 6) to the stack's resolver, st.resolver, on bind and renewal (default true; lwIP's LWIP_DHCP_PROVIDE_DNS_SERVERS) */
  dnsToResolver?: boolean;
}

/* ---- RFC 2131 / RFC 5227 timing (ms) ---- */
const BACKOFF_FIRST_MS = 4000;
const BACKOFF_MAX_MS = 64000;
const BACKOFF_JITTER_MS = 1000;
/** REQUEST sends in REQUESTING/REBOOTING before going back to INIT */
const REQUEST_TRIES = 5;
/** RFC 2131 §4.4.5: RENEWING/REBINDING resend no sooner than this */
const RENEW_MIN_MS = 60000;
/** RFC 2131 §3.1 step 5: wait this long after a DECLINE */
export const DECLINE_WAIT_MS = 10000;
const PROBE_WAIT_MS = 1000;
const PROBE_MIN_MS = 1000;
const PROBE_MAX_MS = 2000;
const ANNOUNCE_WAIT_MS = 2000;
/** leases shorter than this are stretched to it (a 0 s lease would loop) */
const MIN_LEASE_S = 20;
/** used when neither the ACK nor the OFFER gives a lease time */
const DEFAULT_LEASE_S = 3600;
/** datagrams handled per drain */
const RX_BUDGET = 8;

/* ---- what sendRequest is for ---- */
const REQ_SELECTING = 0;
const REQ_REBOOT = 1;
const REQ_RENEW = 2;
const REQ_REBIND = 3;

const TM_STATE = 0;
const TM_RX = 1;

/** option 55: subnet mask, router, DNS, lease time, T1, T2 */
const PARAM_REQ = [DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS, DHO_LEASE_TIME, DHO_T1, DHO_T2];

/** A usable unicast host address for a lease. */
function usableAddr(a: number): boolean {
  return a !== 0 && !isZeronet(a) && !isLoopback(a) && !isMulticast(a) && !isReserved(a);
}

/** Prefix length of the historical class of a (RFC 2132 §3.3 leaves the mask to the client). */
function classfulPrefix(a: number): number {
  const top = (a >>> 24) & 0xff;
  if (top < 128) return 8;
  if (top < 192) return 16;
  return 24;
}

export class DhcpClient implements TimerHandler, SocketEventListener, ArpWatcher {
  state = DHCP_STOPPED;
  dev = -1;
  fd = -1;
  handler: DhcpEventHandler | null = null;

  /* ---- the lease in use (valid in BOUND, RENEWING, REBINDING) ---- */
  /** address on the device, 0 = none (s32) */
  addr = 0;
  prefixLen = 0;
  /** default gateway installed, 0 = none */
  router = 0;
  /** the server that granted it (option 54) */
  serverId = 0;
  /** DNS servers (s32), dnsCount of them: what a resolver reads */
  readonly dns: Int32Array = new Int32Array(DHCP_DNS_MAX);
  dnsCount = 0;
  /** seconds as granted (DHCP_INFINITE = forever) */
  leaseSec = 0;
  t1Sec = 0;
  t2Sec = 0;
  /** st.now() of the lease start, T1, T2 and expiry (ms; -1 = never) */
  leaseStart = 0;
  t1At = -1;
  t2At = -1;
  expireAt = -1;

  /* ---- counters ---- */
  discovers = 0;
  requests = 0;
  declines = 0;
  releases = 0;
  offers = 0;
  acks = 0;
  naks = 0;
  /** messages sent again after a timeout */
  retransmits = 0;
  /** datagrams that do not parse */
  badMsgs = 0;
  /** parsed but not for us / not expected now */
  ignored = 0;
  conflicts = 0;
  probes = 0;
  sendErrors = 0;
  /** ipAddrAdd / ipSetDefaultGateway refused (address table or route table full, address already there) */
  configErrors = 0;
  /** leases obtained (BOUND events) */
  bounds = 0;
  renewals = 0;
  losses = 0;

  /* ---- exchange state ---- */
  /** current transaction id (unsigned) */
  xid = 0;
  /** sends of the current message */
  private tries = 0;
  /** st.now() when this acquisition started (secs field) */
  private t0 = 0;
  /** st.now() of the first send of the current REQUEST (the lease start) */
  private reqT0 = 0;
  /** the address offered/ACKed and being requested or probed */
  private cand = 0;
  /** its server (option 54 of the OFFER or ACK) */
  private candServer = 0;
  /** lease time of the OFFER, -1 = none */
  private offerLease = -1;
  /* the ACK under probe: applied by bindLease() */
  private ackPrefix = 0;
  private ackRouter = 0;
  private ackLease = 0;
  private ackT1 = 0;
  private ackT2 = 0;
  private readonly ackDns: Int32Array = new Int32Array(DHCP_DNS_MAX);
  private ackDnsCount = 0;
  /** probes sent for cand */
  private probesSent = 0;
  /** an ARP packet showed cand in use (set by onArpRcv) */
  private conflict = false;
  /** consecutive NAKs (restart backoff) */
  private nakRun = 0;
  /** address hint for the next DISCOVER (option 50), 0 = none */
  private hint = 0;
  private readable = false;
  /** bumped by start() and stop(): a handler that restarts or stops the client ends the work in progress */
  private gen = 0;

  /* ---- configuration (start) ---- */
  private bcastFlag = true;
  private dnsToResolver = true;
  private probeNum = 3;
  private startDelayMs = 0;
  private maxMsg = DHCP_MIN_MAX_MSG;
  private readonly cid: Uint8Array = new Uint8Array(64);
  private cidLen = 0;
  private readonly host: Uint8Array = new Uint8Array(63);
  private hostLen = 0;
  private readonly mac: Uint8Array = new Uint8Array(6);

  private readonly tmState: number;
  private readonly tmRx: number;
  private rx: Uint8Array;
  private readonly tx: Uint8Array;
  private readonly from: Int32Array = new Int32Array(2);
  private readonly msg: DhcpMsg = new DhcpMsg();
  private readonly prl: Uint8Array;

  /** Registers the client's two timers (start-up: throws when the timer table is full). */
  constructor(readonly st: Stack) {
    const a = st.timers.register(this, TM_STATE);
    const b = st.timers.register(this, TM_RX);
    if (a < 0 || b < 0) throw new Error('dhcp: timer table full (raise cfg.timerMax)');
    this.tmState = a;
    this.tmRx = b;
    this.rx = new Uint8Array(DHCP_MIN_MAX_MSG - DHCP_UDP_IP_OVERHEAD);
    this.tx = new Uint8Array(DHCP_MIN_MAX_MSG - DHCP_UDP_IP_OVERHEAD);
    this.prl = new Uint8Array(PARAM_REQ.length);
    for (let i = 0; i < PARAM_REQ.length; i++) this.prl[i] = PARAM_REQ[i];
  }

  /**
   * Start on device dev (it should be up): INIT, or INIT-REBOOT with
   * opts.requestedIp. Configuration time (may allocate a larger receive
   * buffer). 0 or -errno (-EALREADY when running, -ENODEV, a socket error).
   */
  start(dev: number, opts: DhcpClientOptions | null): number {
    const st = this.st;
    if (this.state !== DHCP_STOPPED) return -EALREADY;
    const d = getDev(st, dev);
    if (d === null) return -ENODEV;
    const o: DhcpClientOptions = opts !== null && opts !== undefined ? opts : {};
    for (let i = 0; i < 6; i++) this.mac[i] = d.mac[i];
    this.bcastFlag = o.broadcastFlag !== false;
    this.dnsToResolver = o.dnsToResolver !== false;
    this.probeNum = o.probeNum !== undefined && o.probeNum >= 0 ? Math.floor(o.probeNum) : 3;
    this.startDelayMs = o.startDelayMs !== undefined && o.startDelayMs > 0 ? Math.floor(o.startDelayMs) : 0;
    let mm = o.maxMessageSize !== undefined ? Math.floor(o.maxMessageSize) : DHCP_MIN_MAX_MSG;
    if (mm < DHCP_MIN_MAX_MSG) mm = DHCP_MIN_MAX_MSG;
    if (mm > 0xffff) mm = 0xffff;
    this.maxMsg = mm;
    if (this.rx.length < mm - DHCP_UDP_IP_OVERHEAD) this.rx = new Uint8Array(mm - DHCP_UDP_IP_OVERHEAD);
    if (o.clientId !== undefined && o.clientId.length >= 2) {
      const n = o.clientId.length < this.cid.length ? o.clientId.length : this.cid.length;
      for (let i = 0; i < n; i++) this.cid[i] = o.clientId[i] & 0xff;
      this.cidLen = n;
    } else {
      this.cid[0] = 1; // RFC 2132 §9.14: hardware type + address
      for (let i = 0; i < 6; i++) this.cid[1 + i] = this.mac[i];
      this.cidLen = 7;
    }
    this.hostLen = 0;
    if (o.hostName !== undefined) {
      const s = o.hostName;
      const n = s.length < this.host.length ? s.length : this.host.length;
      for (let i = 0; i < n; i++) this.host[i] = s.charCodeAt(i) & 0xff;
      this.hostLen = n;
    }
    const fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return fd;
    let rc = setsockopt(st, fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (rc === 0) rc = setsockopt(st, fd, SOL_SOCKET, SO_BROADCAST, 1);
    if (rc === 0) rc = setsockopt(st, fd, SOL_SOCKET, SO_BINDTODEVICE, dev);
    if (rc === 0) rc = bind(st, fd, 0, DHCP_CLIENT_PORT);
    if (rc < 0) {
      close(st, fd);
      return rc;
    }
    this.fd = fd;
    this.dev = dev;
    this.gen++;
    eventMux(st).set(fd, this);
    arpWatchAdd(st, this);
    st.ip.acceptUdpPort = DHCP_CLIENT_PORT;
    this.nakRun = 0;
    this.readable = false;
    this.conflict = false;
    this.clearLease();
    const req = o.requestedIp !== undefined ? s32(o.requestedIp) : 0;
    this.hint = usableAddr(req) ? req : 0;
    this.state = this.hint !== 0 ? DHCP_INIT_REBOOT : DHCP_INIT;
    this.cand = this.hint;
    this.armIn(this.startDelayMs > 0 ? this.rand(this.startDelayMs + 1) : 0);
    return 0;
  }

  /**
   * Stop: with `release` and a lease, send a RELEASE to its server first
   * (RFC 2131 §4.4.6). The address, route and DNS servers are removed
   * (DHCP_EV_RELEASED). The socket closes; start() may be called again.
   */
  stop(release: boolean): void {
    const st = this.st;
    if (this.state === DHCP_STOPPED) return;
    const had = this.addr;
    if (release && had !== 0 && this.serverId !== 0) this.sendRelease();
    this.unconfigure();
    st.timers.del(this.tmState);
    st.timers.del(this.tmRx);
    if (this.fd >= 0) {
      eventMux(st).set(this.fd, null);
      close(st, this.fd);
    }
    this.fd = -1;
    arpWatchDel(st, this);
    this.state = DHCP_STOPPED;
    this.gen++;
    this.clearLease();
    if (had !== 0) this.emit(release ? DHCP_EV_RELEASED : DHCP_EV_LOST, had);
  }

  /** Name of the current state (reports). */
  stateName(): string {
    return DHCP_STATE_NAMES[this.state];
  }

  /* ---------------- readiness and timers ---------------- */

  /** Socket readiness (EventMux or a ServiceMux forwarding it): only noted. */
  onSocketEvent(fd: number, events: number): void {
    if (fd !== this.fd || events === 0) return;
    this.readable = true;
    this.st.timers.mod(this.tmRx, this.st.now());
  }

  /** ARP watcher (inside the receive path): note a conflict with the probed address. */
  onArpRcv(dev: number, op: number, sip: number, tip: number): void {
    if (this.state !== DHCP_PROBING || dev !== this.dev || this.conflict) return;
    const c = this.cand;
    if (sip === c || (sip === 0 && op === ARPOP_REQUEST && tip === c)) {
      this.conflict = true;
      this.st.timers.mod(this.tmRx, this.st.now());
    }
  }

  onTimer(arg: number): void {
    if (this.state === DHCP_STOPPED) return;
    if (arg === TM_RX) {
      this.run();
      return;
    }
    // a conflict or a reply already noted wins over the timeout (and datagrams
    // whose readiness event went to another handler are read here at the latest)
    const s0 = this.state;
    const g = this.gen;
    this.readable = true;
    this.run();
    if (this.gen === g && this.state === s0 && !this.st.timers.pending(this.tmState)) this.stateTimer();
  }

  /** Handle a conflict and queued datagrams. Returns datagrams handled. */
  run(): number {
    if (this.state === DHCP_STOPPED) return 0;
    if (this.conflict) {
      this.conflict = false;
      if (this.state === DHCP_PROBING) this.decline();
    }
    return this.readable ? this.drain() : 0;
  }

  private drain(): number {
    const st = this.st;
    let n = 0;
    for (let i = 0; i < RX_BUDGET && this.fd >= 0; i++) {
      const r = recvfrom(st, this.fd, this.rx, 0, this.rx.length, this.from);
      if (r === -EAGAIN) {
        this.readable = false;
        return n;
      }
      if (r < 0) continue; // a pending socket error: nothing to do with it
      n++;
      this.input(r);
    }
    // budget used up: come back on the next tick
    if (this.fd >= 0) st.timers.mod(this.tmRx, st.now());
    return n;
  }

  private stateTimer(): void {
    switch (this.state) {
      case DHCP_INIT:
        this.newExchange();
        this.state = DHCP_SELECTING;
        this.sendDiscover();
        this.armBackoff();
        return;
      case DHCP_INIT_REBOOT:
        this.newExchange();
        this.state = DHCP_REBOOTING;
        this.reqT0 = this.st.now();
        this.sendRequest(REQ_REBOOT);
        this.armBackoff();
        return;
      case DHCP_SELECTING:
        this.retransmits++;
        this.sendDiscover();
        this.armBackoff();
        return;
      case DHCP_REQUESTING:
      case DHCP_REBOOTING:
        if (this.tries >= REQUEST_TRIES) {
          // RFC 2131 §4.4.1: neither ACK nor NAK: back to INIT
          this.restart(0);
          return;
        }
        this.retransmits++;
        this.sendRequest(this.state === DHCP_REQUESTING ? REQ_SELECTING : REQ_REBOOT);
        this.armBackoff();
        return;
      case DHCP_PROBING:
        this.probeStep();
        return;
      case DHCP_BOUND:
        // T1: RENEWING, a new transaction unicast to the server
        this.state = DHCP_RENEWING;
        this.newExchange();
        this.reqT0 = this.st.now();
        this.sendRequest(REQ_RENEW);
        this.armRenew();
        return;
      case DHCP_RENEWING:
        if (this.st.now() >= this.t2At) {
          // same xid (a late ACK to a RENEWING request still counts), lease still counted from reqT0
          this.state = DHCP_REBINDING;
          this.sendRequest(REQ_REBIND);
        } else {
          this.retransmits++;
          this.sendRequest(REQ_RENEW);
        }
        this.armRenew();
        return;
      case DHCP_REBINDING:
        if (this.expireAt >= 0 && this.st.now() >= this.expireAt) {
          this.expire();
          return;
        }
        this.retransmits++;
        this.sendRequest(REQ_REBIND);
        this.armRenew();
        return;
    }
  }

  /* ---------------- timing ---------------- */

  /** uniform integer in [0, n) from the stack's RNG */
  private rand(n: number): number {
    return n > 0 ? this.st.rng.next32() % n : 0;
  }

  private armIn(ms: number): void {
    this.st.timers.mod(this.tmState, this.st.now() + ms);
  }

  /** RFC 2131 §4.1: 4 s before the 2nd send, 8 s before the 3rd, ... 64 s, each ±1 s. */
  private armBackoff(): void {
    let base = BACKOFF_FIRST_MS;
    for (let k = 1; k < this.tries && base < BACKOFF_MAX_MS; k++) base = base * 2;
    if (base > BACKOFF_MAX_MS) base = BACKOFF_MAX_MS;
    this.armIn(base - BACKOFF_JITTER_MS + this.rand(2 * BACKOFF_JITTER_MS + 1));
  }

  /** RENEWING: half the time to T2; REBINDING: half the time to expiry; at least 60 s, never past the deadline. */
  private armRenew(): void {
    const now = this.st.now();
    const end = this.state === DHCP_RENEWING ? this.t2At : this.expireAt;
    if (end < 0) {
      this.armIn(RENEW_MIN_MS);
      return;
    }
    let wait = Math.floor((end - now) / 2);
    if (wait < RENEW_MIN_MS) wait = RENEW_MIN_MS;
    let at = now + wait;
    if (at > end) at = end;
    this.st.timers.mod(this.tmState, at);
  }

  private newExchange(): void {
    this.xid = this.st.rng.next32();
    this.tries = 0;
    this.t0 = this.st.now();
  }

  /** Back to INIT after delayMs (the lease, if any, was already dropped). */
  private restart(delayMs: number): void {
    this.state = DHCP_INIT;
    this.cand = 0;
    this.candServer = 0;
    this.offerLease = -1;
    this.armIn(delayMs);
  }

  /* ---------------- input ---------------- */

  private input(n: number): void {
    const m = this.msg;
    const b = this.rx;
    if (dhcpParse(b, 0, n, m) < 0) {
      this.badMsgs++;
      return;
    }
    if (m.op !== BOOTREPLY || m.xid !== this.xid || !dhcpChaddrIs(b, m, this.mac, 0)) {
      this.ignored++;
      return;
    }
    const s = this.state;
    if (m.msgType === DHCPOFFER) {
      if (s !== DHCP_SELECTING || !usableAddr(m.yiaddr) || m.serverId === 0) {
        this.ignored++;
        return;
      }
      this.offers++;
      // the first acceptable offer (RFC 2131 §4.4.1 lets the client choose)
      this.cand = m.yiaddr;
      this.candServer = m.serverId;
      this.offerLease = m.leaseTime;
      this.state = DHCP_REQUESTING;
      this.tries = 0;
      this.reqT0 = this.st.now();
      this.sendRequest(REQ_SELECTING);
      this.armBackoff();
      return;
    }
    if (m.msgType === DHCPACK) {
      if (s === DHCP_REQUESTING) {
        if ((m.serverId !== 0 && m.serverId !== this.candServer) || m.yiaddr !== this.cand) {
          this.ignored++;
          return;
        }
      } else if (s === DHCP_REBOOTING) {
        if (m.yiaddr !== this.cand) {
          this.ignored++;
          return;
        }
        this.candServer = m.serverId !== 0 ? m.serverId : this.from[0];
      } else if (s === DHCP_RENEWING || s === DHCP_REBINDING) {
        if (!usableAddr(m.yiaddr)) {
          this.ignored++;
          return;
        }
      } else {
        this.ignored++;
        return;
      }
      this.acks++;
      this.takeAck(m);
      if (s === DHCP_RENEWING || s === DHCP_REBINDING) {
        if (m.yiaddr === this.addr) {
          if (m.serverId !== 0) this.serverId = m.serverId;
          this.applyLease(true);
          return;
        }
        // a different address: the old one goes, the new one is probed
        if (!this.loseLease()) return;
        this.cand = m.yiaddr;
        this.candServer = m.serverId !== 0 ? m.serverId : this.from[0];
      }
      this.startProbe();
      return;
    }
    if (m.msgType === DHCPNAK) {
      if (s === DHCP_REQUESTING) {
        if (m.serverId !== 0 && m.serverId !== this.candServer) {
          this.ignored++;
          return;
        }
      } else if (s !== DHCP_REBOOTING && s !== DHCP_RENEWING && s !== DHCP_REBINDING) {
        this.ignored++;
        return;
      }
      this.naks++;
      const asked = s === DHCP_RENEWING || s === DHCP_REBINDING ? this.addr : this.cand;
      if (!this.emit(DHCP_EV_NAK, asked)) return;
      if (this.addr !== 0 && !this.loseLease()) return;
      this.hint = 0; // the server said no: do not ask for it again
      // consecutive NAKs back off (1, 2, 4 ... 64 s); the first restarts at once
      let d = 0;
      if (this.nakRun > 0) {
        d = 1000;
        for (let k = 1; k < this.nakRun && d < BACKOFF_MAX_MS; k++) d = d * 2;
        if (d > BACKOFF_MAX_MS) d = BACKOFF_MAX_MS;
      }
      this.nakRun++;
      this.restart(d);
      return;
    }
    this.ignored++;
  }

  /** Keep the lease parameters of an ACK (applied when the probe is over). */
  private takeAck(m: DhcpMsg): void {
    let plen = -1;
    if (m.hasMask) plen = maskToPrefix(m.mask);
    if (plen < 1 || plen > 30) plen = classfulPrefix(m.yiaddr);
    this.ackPrefix = plen;
    this.ackRouter = usableAddr(m.router) ? m.router : 0;
    this.ackDnsCount = 0;
    for (let i = 0; i < m.dnsCount; i++) {
      if (!usableAddr(m.dns[i])) continue;
      this.ackDns[this.ackDnsCount] = m.dns[i];
      this.ackDnsCount++;
    }
    let lease = m.leaseTime >= 0 ? m.leaseTime : this.offerLease >= 0 ? this.offerLease : DEFAULT_LEASE_S;
    if (lease < MIN_LEASE_S) lease = MIN_LEASE_S;
    this.ackLease = lease;
    if (lease === DHCP_INFINITE) {
      this.ackT1 = DHCP_INFINITE;
      this.ackT2 = DHCP_INFINITE;
      return;
    }
    // RFC 2131 §4.4.5: defaults 0.5 and 0.875 of the lease; inconsistent values are replaced
    let t2 = m.t2 >= 0 && m.t2 < lease ? m.t2 : Math.floor(lease * 0.875);
    let t1 = m.t1 >= 0 && m.t1 <= t2 ? m.t1 : Math.floor(lease * 0.5);
    if (t1 > t2) t1 = t2;
    if (t2 < t1) t2 = t1;
    this.ackT1 = t1;
    this.ackT2 = t2;
  }

  /* ---------------- RFC 5227 probe ---------------- */

  private startProbe(): void {
    this.state = DHCP_PROBING;
    this.probesSent = 0;
    this.conflict = false;
    if (this.probeNum === 0) {
      this.bindLease();
      return;
    }
    this.armIn(this.rand(PROBE_WAIT_MS + 1));
  }

  private probeStep(): void {
    if (this.probesSent < this.probeNum) {
      arpProbe(this.st, this.dev, this.cand);
      this.probes++;
      this.probesSent++;
      if (this.probesSent < this.probeNum) this.armIn(PROBE_MIN_MS + this.rand(PROBE_MAX_MS - PROBE_MIN_MS + 1));
      else this.armIn(ANNOUNCE_WAIT_MS);
      return;
    }
    this.bindLease();
  }

  /** The probed address is in use: DECLINE it, INIT again after DECLINE_WAIT_MS. */
  private decline(): void {
    const c = this.cand;
    this.conflicts++;
    this.sendDecline();
    this.hint = 0;
    this.restart(DECLINE_WAIT_MS);
    this.emit(DHCP_EV_CONFLICT, c);
  }

  /* ---------------- the lease ---------------- */

  /** The probe passed: configure cand with the ACK's parameters. */
  private bindLease(): void {
    this.addr = this.cand;
    this.serverId = this.candServer;
    this.prefixLen = this.ackPrefix;
    this.hint = this.cand;
    // -EEXIST (configured by hand) leaves it as it is; -ENOSPC: the lease is kept, counted
    if (ipAddrAdd(this.st, this.dev, this.addr, this.prefixLen) < 0) this.configErrors++;
    this.applyLease(false);
  }

  /** Routes, DNS and timers from the last ACK; BOUND; the event. */
  private applyLease(renewed: boolean): void {
    const st = this.st;
    if (this.ackRouter !== this.router) {
      this.delRoute();
      if (this.ackRouter !== 0 && ipSetDefaultGateway(st, this.ackRouter, this.dev) < 0) this.configErrors++;
      this.router = this.ackRouter;
    }
    this.dnsCount = this.ackDnsCount;
    for (let i = 0; i < DHCP_DNS_MAX; i++) this.dns[i] = i < this.ackDnsCount ? this.ackDns[i] : 0;
    // the resolver skips the zeros after dnsCount
    if (this.dnsToResolver && this.dnsCount > 0 && st.resolver !== null) st.resolver.setServers(this.dns);
    this.leaseSec = this.ackLease;
    this.t1Sec = this.ackT1;
    this.t2Sec = this.ackT2;
    this.leaseStart = this.reqT0;
    if (this.ackLease === DHCP_INFINITE) {
      this.t1At = -1;
      this.t2At = -1;
      this.expireAt = -1;
      st.timers.del(this.tmState);
    } else {
      this.t1At = this.reqT0 + this.ackT1 * 1000;
      this.t2At = this.reqT0 + this.ackT2 * 1000;
      this.expireAt = this.reqT0 + this.ackLease * 1000;
      st.timers.mod(this.tmState, this.t1At);
    }
    this.state = DHCP_BOUND;
    this.nakRun = 0;
    if (renewed) {
      this.renewals++;
      this.emit(DHCP_EV_RENEWED, this.addr);
    } else {
      this.bounds++;
      this.emit(DHCP_EV_BOUND, this.addr);
    }
  }

  /** The lease ran out in REBINDING (RFC 2131 §4.4.5): stop using the address, INIT. */
  private expire(): void {
    if (this.loseLease()) this.restart(0);
  }

  /** Take the address, route and DNS list away (DHCP_EV_LOST). False when the handler stopped or restarted the client. */
  private loseLease(): boolean {
    const a = this.addr;
    this.unconfigure();
    this.losses++;
    this.clearLease();
    return a !== 0 ? this.emit(DHCP_EV_LOST, a) : true;
  }

  private unconfigure(): void {
    this.delRoute();
    this.router = 0;
    if (this.addr !== 0) ipAddrDel(this.st, this.dev, this.addr);
    this.dnsCount = 0;
    for (let i = 0; i < DHCP_DNS_MAX; i++) this.dns[i] = 0;
  }

  /** Remove the default route we installed (only when it is still ours). */
  private delRoute(): void {
    if (this.router === 0) return;
    const rt = this.st.route;
    // RouteTable.del removes the first 0/0 entry: only when that one is ours
    for (let i = 0; i < rt.count; i++) {
      if (rt.prefix[i] !== 0) continue;
      if (rt.dev[i] === this.dev && rt.gw[i] === this.router) ipRouteDel(this.st, 0, 0);
      return;
    }
  }

  private clearLease(): void {
    this.addr = 0;
    this.prefixLen = 0;
    this.router = 0;
    this.serverId = 0;
    this.dnsCount = 0;
    for (let i = 0; i < DHCP_DNS_MAX; i++) this.dns[i] = 0;
    this.leaseSec = 0;
    this.t1Sec = 0;
    this.t2Sec = 0;
    this.t1At = -1;
    this.t2At = -1;
    this.expireAt = -1;
  }

  /** Tell the handler. False when it stopped or restarted the client meanwhile (the caller then returns). */
  private emit(kind: number, addr: number): boolean {
    const h = this.handler;
    if (h === null) return true;
    const g = this.gen;
    h.onDhcpEvent(kind, this.dev, addr);
    return this.gen === g;
  }

  /* ---------------- output ---------------- */

  private secs(): number {
    const s = Math.floor((this.st.now() - this.t0) / 1000);
    return s < 0 ? 0 : s > 0xffff ? 0xffff : s;
  }

  /** Header for a message from ciaddr (0 = none yet: BROADCAST flag when configured so). */
  private header(ciaddr: number, secs: number): number {
    const flags = ciaddr === 0 && this.bcastFlag ? DHCP_FLAG_BROADCAST : 0;
    return dhcpPutHeader(this.tx, 0, BOOTREQUEST, this.xid, secs, flags, ciaddr, 0, 0, this.mac, 0);
  }

  /** Options every DISCOVER and REQUEST carries after the message type. */
  private commonOpts(o0: number): number {
    const b = this.tx;
    let o = dhcpPutOptBytes(b, o0, DHO_CLIENT_ID, this.cid, 0, this.cidLen);
    o = dhcpPutOpt16(b, o, DHO_MAX_MSG_SIZE, this.maxMsg);
    if (this.hostLen > 0) o = dhcpPutOptBytes(b, o, DHO_HOST_NAME, this.host, 0, this.hostLen);
    return dhcpPutOptBytes(b, o, DHO_PARAM_REQ, this.prl, 0, this.prl.length);
  }

  private xmit(len: number, daddr: number): void {
    const r = sendto(this.st, this.fd, this.tx, 0, len, daddr, DHCP_SERVER_PORT);
    if (r < 0) this.sendErrors++;
  }

  private sendDiscover(): void {
    const b = this.tx;
    this.tries++;
    this.discovers++;
    let o = this.header(0, this.secs());
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, DHCPDISCOVER);
    o = this.commonOpts(o);
    if (this.hint !== 0) o = dhcpPutOpt32(b, o, DHO_REQUESTED_IP, this.hint);
    this.xmit(dhcpPutEnd(b, 0, o), INADDR_BROADCAST);
  }

  /** REQUEST (RFC 2131 §4.3.2 table / §4.4.1): what it carries depends on why it is sent. */
  private sendRequest(why: number): void {
    const b = this.tx;
    this.tries++;
    this.requests++;
    const ci = why === REQ_RENEW || why === REQ_REBIND ? this.addr : 0;
    let o = this.header(ci, this.secs());
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, DHCPREQUEST);
    o = this.commonOpts(o);
    if (why === REQ_SELECTING || why === REQ_REBOOT) o = dhcpPutOpt32(b, o, DHO_REQUESTED_IP, this.cand);
    if (why === REQ_SELECTING) o = dhcpPutOpt32(b, o, DHO_SERVER_ID, this.candServer);
    const len = dhcpPutEnd(b, 0, o);
    this.xmit(len, why === REQ_RENEW && this.serverId !== 0 ? this.serverId : INADDR_BROADCAST);
  }

  private sendDecline(): void {
    const b = this.tx;
    this.declines++;
    let o = dhcpPutHeader(b, 0, BOOTREQUEST, this.xid, 0, 0, 0, 0, 0, this.mac, 0);
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, DHCPDECLINE);
    o = dhcpPutOptBytes(b, o, DHO_CLIENT_ID, this.cid, 0, this.cidLen);
    o = dhcpPutOpt32(b, o, DHO_REQUESTED_IP, this.cand);
    o = dhcpPutOpt32(b, o, DHO_SERVER_ID, this.candServer);
    this.xmit(dhcpPutEnd(b, 0, o), INADDR_BROADCAST);
  }

  private sendRelease(): void {
    const b = this.tx;
    this.releases++;
    this.xid = this.st.rng.next32();
    let o = dhcpPutHeader(b, 0, BOOTREQUEST, this.xid, 0, 0, this.addr, 0, 0, this.mac, 0);
    o = dhcpPutOpt8(b, o, DHO_MSG_TYPE, DHCPRELEASE);
    o = dhcpPutOptBytes(b, o, DHO_CLIENT_ID, this.cid, 0, this.cidLen);
    o = dhcpPutOpt32(b, o, DHO_SERVER_ID, this.serverId);
    this.xmit(dhcpPutEnd(b, 0, o), this.serverId);
  }

  /** Counters and the lease as a plain object (allocates: reports and tests). */
  stats(): { [k: string]: number } {
    return {
      state: this.state,
      addr: this.addr,
      prefixLen: this.prefixLen,
      router: this.router,
      serverId: this.serverId,
      dnsCount: this.dnsCount,
      leaseSec: this.leaseSec,
      discovers: this.discovers,
      requests: this.requests,
      declines: this.declines,
      releases: this.releases,
      offers: this.offers,
      acks: this.acks,
      naks: this.naks,
      retransmits: this.retransmits,
      badMsgs: this.badMsgs,
      ignored: this.ignored,
      conflicts: this.conflicts,
      probes: this.probes,
      sendErrors: this.sendErrors,
      configErrors: this.configErrors,
      bounds: this.bounds,
      renewals: this.renewals,
      losses: this.losses,
    };
  }
}

/** The netmask of a lease's prefix (s32), for reports. */
export function dhcpLeaseMask(c: DhcpClient): number {
  return prefixMask(c.prefixLen);
}
