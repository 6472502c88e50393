/*
 * arp.ts — ARP (RFC 826) and the IPv4 neighbour table (RFC 1122 §2.3.2),
 * as net/ipv4/arp.c + net/core/neighbour.c, without allocation.
 *
 * Place in the packet path:
 *   transmit: ip_output → neighOutput (resolve; queue while INCOMPLETE) → eth_header → dev_queue_xmit
 *   receive:  net_rx_action → eth_type_trans → arpRcv (ETH_P_ARP ptype handler)
 *
 * The table is a fixed set of cfg.arpTableSize entries in typed arrays
 * (ip, mac[6*i], dev, state, timestamps, retries, chosen source address)
 * plus, per entry, one bounded SkbQueue of packets waiting for resolution
 * (cfg.arpQueueLen; all entries together hold at most a quarter of the
 * small skb pool) and ONE timer-wheel timer registered at start-up.
 *
 * Entry states (struct neighbour nud_state, simplified):
 *   NONE        free slot
 *   INCOMPLETE  broadcast requests being sent (exponential backoff from
 *               cfg.arpRetryMs, cfg.arpRetries requests); packets queue.
 *               Exhausted → FAILED, queue purged (ArpResolveFailed).
 *   REACHABLE   confirmed; after cfg.arpReachableMs → STALE.
 *   STALE       usable; the first use starts a PROBE (RFC 1122 §2.3.2.1
 *               unicast poll). Unused for cfg.arpGcStaleMs → reclaimed.
 *   PROBE       usable while unicast requests are sent; a reply makes it
 *               REACHABLE, silence makes it FAILED.
 *   FAILED      neighOutput answers -EHOSTUNREACH for cfg.arpFailedHoldMs,
 *               then the slot is freed.
 *   PERMANENT   static (neighAddStatic); never aged or overwritten.
 *
 * Receive rules (RFC 826 "merge" algorithm, with the Linux refinements):
 *   - malformed (short, htype != 1, ptype != 0x0800, hlen != 6, plen != 4,
 *     op not 1/2, multicast sender MAC or IPs) → ArpInErrors;
 *   - sender IP 0 (RFC 5227 probe): a probe for our address is answered
 *     (address defence), nothing is learnt;
 *   - sender IP one of ours → ArpConflicts, dropped;
 *   - request for our address on this device → unicast reply, sender's
 *     entry created/confirmed (REACHABLE);
 *   - reply → only an existing entry is updated (no entry from an
 *     unsolicited reply: ArpUnsolicitedIgnored);
 *   - request for another host → ArpNotForUs, existing sender entry merged.
 * Watchers (arpWatchAdd: a DHCP client probing an address, RFC 5227) see
 * every well-formed packet first; arpProbe sends an RFC 5227 probe.
 * arpRcv never throws and frees every skb exactly once.
 */
import type { Stack } from '../stack';
import { FEATURE_ARP_DUMP, FEATURE_DHCP } from '../features';
import { SkbQueue, SKB_NONE } from '../core/skb';
import { TimerHandler } from '../core/timer';
import { get16, put16, copyBytes, fillBytes, equalBytes } from '../core/bytes';
import { s32 } from '../core/bits';
import { getAddr, putAddr, INADDR_BROADCAST, isMulticast, isReserved } from '../core/inaddr';
import { EHOSTUNREACH, ENOBUFS, ENODEV, ENETDOWN, ENOSPC, EINVAL } from '../core/errno';
import {
  LINK_ARPINREQUESTS, LINK_ARPINREPLIES, LINK_ARPINERRORS, LINK_ARPOUTREQUESTS, LINK_ARPOUTREPLIES,
  LINK_ARPUNSOLICITEDIGNORED, LINK_ARPNOTFORUS, LINK_ARPQUEUEDROPS, LINK_ARPRESOLVEFAILED,
  LINK_ARPTABLEFULL, LINK_ARPGRATUITOUSOUT, LINK_TXNONEIGH, LINK_TXNOSKB, LINK_ARPCONFLICTS,
  DEV_TX_DROPPED, DEV_TX_ERRORS,
} from '../core/mib';
import { NetDevice } from './netdev';
import { devAddPack, devQueueXmit, getDev, registerNetdevNotifier, NETDEV_UP, NETDEV_DOWN } from './dev';
import { ethHeader, formatMac, ETH_ALEN, ETH_P_ARP, ETH_P_IP, ETH_BROADCAST, isMulticastEther } from './ether';
import { formatIp } from './ifaddr';

/* ---- ARP packet (RFC 826), Ethernet/IPv4 only ---- */
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const ARP_HTYPE = 0;
export const ARP_PTYPE = 2;
export const ARP_HLEN = 4;
export const ARP_PLEN = 5;
export const ARP_OP = 6;
export const ARP_SHA = 8;
export const ARP_SIP = 14;
export const ARP_THA = 18;
export const ARP_TIP = 24;
/** bytes of an Ethernet/IPv4 ARP packet */
export const ARP_PKT_LEN = 28;

/* ---- neighbour states ---- */
export const NUD_NONE = 0;
export const NUD_INCOMPLETE = 1;
export const NUD_REACHABLE = 2;
export const NUD_STALE = 3;
export const NUD_PROBE = 4;
export const NUD_FAILED = 5;
export const NUD_PERMANENT = 6;

/**
 * Sees every well-formed ARP packet a device receives (after the checks
 * of arpRcv, before it acts): RFC 5227 §2.1.1 conflict detection while an
 * address is being probed (src/apps/dhcp_client.ts). Called inside the
 * receive path: note what was seen, do not send from here.
 */
export interface ArpWatcher {
  onArpRcv(dev: number, op: number, sip: number, tip: number): void;
}

const STATE_NAMES = ['NONE', 'INCOMPLETE', 'REACHABLE', 'STALE', 'PROBE', 'FAILED', 'PERMANENT'];

/** Longest backoff shift (retry interval = arpRetryMs << min(retries-1, MAX_SHIFT)). */
const MAX_SHIFT = 10;

export class ArpTable implements TimerHandler {
  readonly size: number;
  /** IPv4 address (host order, s32: src/core/inaddr.ts) */
  readonly ip: Int32Array;
  /** hardware address of entry i at mac[6*i .. 6*i+5] */
  readonly mac: Uint8Array;
  readonly dev: Int32Array;
  readonly state: Uint8Array;
  /** last confirmation / state change time (ms) */
  readonly updated: Float64Array;
  /** requests sent in the current INCOMPLETE / PROBE round */
  readonly retries: Uint8Array;
  /** source address used in our requests for this entry */
  readonly srcIp: Int32Array;
  readonly timer: Int32Array;
  readonly queue: SkbQueue[] = [];
  /** arpWatchAdd / arpWatchDel (configuration time) */
  readonly watchers: ArpWatcher[] = [];
  /** scratch for multicast MAC mapping (RFC 1112 §6.4) */
  readonly scratch: Uint8Array;
  /**
   * packets all entries together may hold while unresolved: a quarter of the
   * small skb pool (at least cfg.arpQueueLen). Packets to many addresses that
   * never answer (SYN-ACKs to a spoofed SYN flood) must not drain the pool
   * that established connections need; past it they are dropped (ArpQueueDrops).
   */
  readonly queueMax: number;

  constructor(
    readonly st: Stack,
    size: number,
  ) {
    this.size = size;
    this.ip = new Int32Array(size);
    this.mac = new Uint8Array(size * ETH_ALEN);
    this.dev = new Int32Array(size);
    this.state = new Uint8Array(size);
    this.updated = new Float64Array(size);
    this.retries = new Uint8Array(size);
    this.srcIp = new Int32Array(size);
    this.timer = new Int32Array(size);
    this.scratch = new Uint8Array(ETH_ALEN);
    const qm = Math.floor(st.cfg.skbSmallCount / 4);
    this.queueMax = qm > st.cfg.arpQueueLen ? qm : st.cfg.arpQueueLen;
    for (let i = 0; i < size; i++) {
      this.queue.push(new SkbQueue(st.pool, st.cfg.arpQueueLen));
      const id = st.timers.register(this, i);
      if (id < 0) throw new Error('arp: timer table full (raise cfg.timerMax)');
      this.timer[i] = id;
      this.dev[i] = -1;
    }
  }

  /** ETH_P_ARP ptype handler. */
  rcv(skb: number): void {
    arpRcv(this.st, skb);
  }

  /** Netdev notifier: announce on UP, flush on DOWN. */
  onNetdevEvent(dev: NetDevice, event: number): void {
    const st = this.st;
    if (event === NETDEV_UP) {
      if (st.cfg.arpGratuitous) {
        const ia = st.ifaddr;
        for (let i = 0; i < ia.count; i++) {
          if (ia.dev[i] === dev.index) arpAnnounce(st, dev.index, ia.addr[i]);
        }
      }
    } else if (event === NETDEV_DOWN) {
      neighFlushDev(st, dev.index);
    }
  }

  /** Per-entry timer: retransmit, age, fail or reclaim. */
  onTimer(i: number): void {
    neighTimer(this.st, i);
  }
}

/** Create the neighbour table, register the ETH_P_ARP handler and the netdev notifier. */
export function initArp(st: Stack): ArpTable {
  const t = new ArpTable(st, st.cfg.arpTableSize);
  devAddPack(st, ETH_P_ARP, t);
  registerNetdevNotifier(st, t);
  return t;
}

/* ------------------------------------------------------------------ */
/* table helpers                                                       */
/* ------------------------------------------------------------------ */

/** Entry for addr on dev, or -1. */
export function neighFind(st: Stack, dev: number, addr: number): number {
  const t = st.arp;
  const a = s32(addr);
  for (let i = 0; i < t.size; i++) {
    if (t.state[i] !== NUD_NONE && t.ip[i] === a && t.dev[i] === dev) return i;
  }
  return -1;
}

/** Entry index for addr on any device, or -1. */
export function neighLookup(st: Stack, addr: number): number {
  const a = s32(addr);
  const t = st.arp;
  for (let i = 0; i < t.size; i++) {
    if (t.state[i] !== NUD_NONE && t.ip[i] === a) return i;
  }
  return -1;
}

/** State of entry i (NUD_*), NUD_NONE for a bad index. */
export function neighState(st: Stack, i: number): number {
  if (i < 0 || i >= st.arp.size) return NUD_NONE;
  return st.arp.state[i];
}

/** Packets held by all unresolved entries together. */
function neighQueued(st: Stack): number {
  const t = st.arp;
  let n = 0;
  for (let i = 0; i < t.size; i++) n += t.queue[i].qlen;
  return n;
}

/** Free slot i: stop its timer, drop anything queued. */
function neighRelease(st: Stack, i: number): void {
  const t = st.arp;
  st.timers.del(t.timer[i]);
  const q = t.queue[i];
  if (q.qlen > 0) {
    st.mib.link[LINK_TXNONEIGH] += q.qlen;
    q.purge();
  }
  t.state[i] = NUD_NONE;
  t.retries[i] = 0;
  t.dev[i] = -1;
  t.ip[i] = 0;
}

/** Replacement preference of a state (neigh_forced_gc): higher goes first; 0 never. */
function neighEvictRank(s: number): number {
  if (s === NUD_FAILED) return 4;
  if (s === NUD_INCOMPLETE) return 3;
  if (s === NUD_STALE) return 2;
  if (s === NUD_REACHABLE) return 1;
  return 0;
}

/**
 * Allocate a slot: a free one, else the oldest FAILED, else the oldest
 * INCOMPLETE, else the oldest STALE, else the least recently confirmed
 * REACHABLE entry (neigh_forced_gc: nothing holds a reference to an entry
 * here, so any but PERMANENT and one being probed may go). A flood of
 * packets to addresses that never answer (SYN-ACKs to spoofed SYNs) then
 * churns among its own unresolved entries and never pushes out a
 * confirmed neighbour while one of those is left; more live neighbours
 * than entries (50 clients, 16 entries) cost a re-resolution, not a
 * refusal. -1 when every entry is PROBE or PERMANENT.
 */
function neighAlloc(st: Stack, dev: number, addr: number): number {
  const t = st.arp;
  let victim = -1;
  let rank = 0;
  for (let i = 0; i < t.size; i++) {
    const s = t.state[i];
    if (s === NUD_NONE) {
      victim = i;
      break;
    }
    const k = neighEvictRank(s);
    if (k > rank || (k === rank && k > 0 && t.updated[i] < t.updated[victim])) {
      victim = i;
      rank = k;
    }
  }
  if (victim < 0) return -1;
  if (t.state[victim] !== NUD_NONE) neighRelease(st, victim);
  t.ip[victim] = s32(addr);
  t.dev[victim] = dev;
  t.retries[victim] = 0;
  t.srcIp[victim] = 0;
  t.updated[victim] = st.now();
  fillBytes(t.mac, victim * ETH_ALEN, ETH_ALEN, 0);
  return victim;
}

/** Backoff interval before the next retransmission (retries already counts the one just sent). */
function retryDelay(st: Stack, retries: number): number {
  let d = st.cfg.arpRetryMs;
  let n = retries - 1;
  if (n > MAX_SHIFT) n = MAX_SHIFT;
  for (let k = 0; k < n; k++) d = d * 2;
  return d;
}

/** Arm entry i's timer for its current state. */
function neighArm(st: Stack, i: number): void {
  const t = st.arp;
  const c = st.cfg;
  const id = t.timer[i];
  const now = st.now();
  const s = t.state[i];
  if (s === NUD_INCOMPLETE || s === NUD_PROBE) st.timers.mod(id, now + retryDelay(st, t.retries[i]));
  else if (s === NUD_REACHABLE) st.timers.mod(id, t.updated[i] + c.arpReachableMs);
  else if (s === NUD_STALE) st.timers.mod(id, now + c.arpGcStaleMs);
  else if (s === NUD_FAILED) st.timers.mod(id, now + c.arpFailedHoldMs);
  else st.timers.del(id);
}

/** Send everything queued on entry i to its (now known) hardware address. */
function neighFlushQueue(st: Stack, i: number): void {
  const t = st.arp;
  const q = t.queue[i];
  let skb = q.dequeue();
  while (skb !== SKB_NONE) {
    neighXmit(st, skb, t.dev[i], t.mac, i * ETH_ALEN);
    skb = q.dequeue();
  }
}

/** Push the Ethernet header (ETH_P_IP) and hand to the device. Consumes skb. */
function neighXmit(st: Stack, skb: number, dev: number, dst: Uint8Array, dstOff: number): number {
  const d = getDev(st, dev);
  if (d === null) {
    st.pool.free(skb);
    return -ENODEV;
  }
  st.pool.dev[skb] = dev;
  st.pool.proto[skb] = ETH_P_IP;
  if (ethHeader(st, skb, dst, dstOff, d.mac, ETH_P_IP) < 0) {
    d.stats.v[DEV_TX_ERRORS]++;
    st.pool.free(skb);
    return -ENOBUFS;
  }
  return devQueueXmit(st, skb);
}

/** Set entry i's hardware address and state; flush its queue when it became usable. */
function neighUpdate(st: Stack, i: number, mb: Uint8Array, mo: number, state: number): void {
  const t = st.arp;
  copyBytes(t.mac, i * ETH_ALEN, mb, mo, ETH_ALEN);
  t.state[i] = state;
  t.retries[i] = 0;
  t.updated[i] = st.now();
  neighArm(st, i);
  if (t.queue[i].qlen > 0) neighFlushQueue(st, i);
}

/** Source address for a request to tip on dev (RFC 1122 §3.3.4.3: an address of that interface). */
function arpSourceFor(st: Stack, dev: number, tip: number): number {
  const ia = st.ifaddr;
  for (let k = 0; k < ia.count; k++) {
    if (ia.dev[k] !== dev) continue;
    const m = ia.mask[k];
    if ((tip & m) === (ia.addr[k] & m)) return ia.addr[k];
  }
  return ia.primary(dev);
}

/**
 * Build and send one ARP packet on dev. ethDst/ethOff: link destination;
 * tha null → zeros. Returns 0 or -errno (counted).
 */
export function arpSend(
  st: Stack,
  op: number,
  dev: number,
  ethDst: Uint8Array,
  ethOff: number,
  sip: number,
  tip: number,
  tha: Uint8Array | null,
  thaOff: number,
): number {
  const d = getDev(st, dev);
  if (d === null) return -ENODEV;
  if (!d.up) return -ENETDOWN;
  const p = st.pool;
  const skb = p.alloc(ARP_PKT_LEN);
  if (skb === SKB_NONE) {
    st.mib.link[LINK_TXNOSKB]++;
    d.stats.v[DEV_TX_DROPPED]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, ARP_PKT_LEN);
  const b = p.buf[skb];
  put16(b, o + ARP_HTYPE, ARPHRD_ETHER);
  put16(b, o + ARP_PTYPE, ETH_P_IP);
  b[o + ARP_HLEN] = ETH_ALEN;
  b[o + ARP_PLEN] = 4;
  put16(b, o + ARP_OP, op);
  copyBytes(b, o + ARP_SHA, d.mac, 0, ETH_ALEN);
  putAddr(b, o + ARP_SIP, sip);
  if (tha !== null) copyBytes(b, o + ARP_THA, tha, thaOff, ETH_ALEN);
  else fillBytes(b, o + ARP_THA, ETH_ALEN, 0);
  putAddr(b, o + ARP_TIP, tip);
  p.dev[skb] = dev;
  p.proto[skb] = ETH_P_ARP;
  if (ethHeader(st, skb, ethDst, ethOff, d.mac, ETH_P_ARP) < 0) {
    p.free(skb);
    return -ENOBUFS;
  }
  st.mib.link[op === ARPOP_REQUEST ? LINK_ARPOUTREQUESTS : LINK_ARPOUTREPLIES]++;
  return devQueueXmit(st, skb);
}

/** Send entry i's next request: broadcast while INCOMPLETE, unicast while PROBE. */
function neighSolicit(st: Stack, i: number): void {
  const t = st.arp;
  t.retries[i]++;
  if (t.state[i] === NUD_PROBE) {
    arpSend(st, ARPOP_REQUEST, t.dev[i], t.mac, i * ETH_ALEN, t.srcIp[i], t.ip[i], null, 0);
  } else {
    arpSend(st, ARPOP_REQUEST, t.dev[i], ETH_BROADCAST, 0, t.srcIp[i], t.ip[i], null, 0);
  }
}

/** The per-entry timer (neigh_timer_handler). */
export function neighTimer(st: Stack, i: number): void {
  const t = st.arp;
  const s = t.state[i];
  if (s === NUD_INCOMPLETE || s === NUD_PROBE) {
    if (t.retries[i] < st.cfg.arpRetries) {
      neighSolicit(st, i);
      neighArm(st, i);
      return;
    }
    // resolution failed: drop what waited (RFC 1122 §2.3.2.2), hold FAILED
    st.mib.link[LINK_ARPRESOLVEFAILED]++;
    const q = t.queue[i];
    if (q.qlen > 0) {
      st.mib.link[LINK_TXNONEIGH] += q.qlen;
      q.purge();
    }
    t.state[i] = NUD_FAILED;
    t.retries[i] = 0;
    t.updated[i] = st.now();
    neighArm(st, i);
  } else if (s === NUD_REACHABLE) {
    t.state[i] = NUD_STALE;
    neighArm(st, i);
  } else if (s === NUD_STALE || s === NUD_FAILED) {
    neighRelease(st, i);
  }
}

/* ------------------------------------------------------------------ */
/* output                                                              */
/* ------------------------------------------------------------------ */

/**
 * neigh_output: send skb (data at the IP header) to nexthop on dev.
 * Consumes skb. Returns 0 (sent or queued) or -errno.
 */
export function neighOutput(st: Stack, skb: number, dev: number, nexthop: number): number {
  const p = st.pool;
  const d = getDev(st, dev);
  if (d === null) {
    p.free(skb);
    return -ENODEV;
  }
  if (!d.up) {
    d.stats.v[DEV_TX_DROPPED]++;
    p.free(skb);
    return -ENETDOWN;
  }
  const nh = s32(nexthop);
  const t = st.arp;
  // broadcast and multicast next hops need no resolution
  if (nh === INADDR_BROADCAST || st.ifaddr.isBroadcast(dev, nh)) {
    return neighXmit(st, skb, dev, ETH_BROADCAST, 0);
  }
  if (isMulticast(nh)) {
    // RFC 1112 §6.4: 01:00:5e + low 23 bits of the group
    const m = t.scratch;
    m[0] = 0x01;
    m[1] = 0x00;
    m[2] = 0x5e;
    m[3] = (nh >>> 16) & 0x7f;
    m[4] = (nh >>> 8) & 0xff;
    m[5] = nh & 0xff;
    return neighXmit(st, skb, dev, m, 0);
  }
  if (nh === 0 || isReserved(nh)) {
    st.mib.link[LINK_TXNONEIGH]++;
    p.free(skb);
    return -EINVAL;
  }
  let i = neighFind(st, dev, nh);
  if (i >= 0) {
    const s = t.state[i];
    if (s === NUD_REACHABLE || s === NUD_PERMANENT || s === NUD_PROBE) {
      return neighXmit(st, skb, dev, t.mac, i * ETH_ALEN);
    }
    if (s === NUD_STALE) {
      // RFC 1122 §2.3.2.1: keep using it, validate with unicast polls
      t.state[i] = NUD_PROBE;
      t.retries[i] = 0;
      if (t.srcIp[i] === 0) t.srcIp[i] = arpSourceFor(st, dev, nh);
      neighSolicit(st, i);
      neighArm(st, i);
      return neighXmit(st, skb, dev, t.mac, i * ETH_ALEN);
    }
    if (s === NUD_FAILED) {
      st.mib.link[LINK_TXNONEIGH]++;
      p.free(skb);
      return -EHOSTUNREACH;
    }
    // INCOMPLETE: wait in the bounded queue (per entry, and all entries together)
    if (neighQueued(st) >= t.queueMax || !t.queue[i].enqueue(skb)) {
      st.mib.link[LINK_ARPQUEUEDROPS]++;
      p.free(skb);
      return -ENOBUFS;
    }
    return 0;
  }
  i = neighAlloc(st, dev, nh);
  if (i < 0) {
    st.mib.link[LINK_ARPTABLEFULL]++;
    p.free(skb);
    return -ENOBUFS;
  }
  // source: the packet's own source address when it is ours on dev (arp_solicit)
  let src = 0;
  const o = p.data[skb];
  if (p.tail[skb] - o >= 20 && (p.buf[skb][o] >>> 4) === 4) {
    const sa = getAddr(p.buf[skb], o + 12);
    if (st.ifaddr.onDev(dev, sa)) src = sa;
  }
  if (src === 0) src = arpSourceFor(st, dev, nh);
  t.srcIp[i] = src;
  t.state[i] = NUD_INCOMPLETE;
  p.dev[skb] = dev;
  let rc = 0;
  if (neighQueued(st) >= t.queueMax) {
    st.mib.link[LINK_ARPQUEUEDROPS]++;
    p.free(skb);
    rc = -ENOBUFS;
  } else t.queue[i].enqueue(skb);
  neighSolicit(st, i);
  neighArm(st, i);
  return rc;
}

/** Send a gratuitous ARP request announcing addr on dev (RFC 5227 §3 / RFC 826). */
export function arpAnnounce(st: Stack, dev: number, addr: number): number {
  const rc = arpSend(st, ARPOP_REQUEST, dev, ETH_BROADCAST, 0, addr, addr, null, 0);
  if (rc === 0) st.mib.link[LINK_ARPGRATUITOUSOUT]++;
  return rc;
}

/**
 * Send an ARP probe for addr on dev (RFC 5227 §2.1.1): a broadcast request
 * with sender IP 0 and target addr, so no neighbour cache learns from it.
 */
export function arpProbe(st: Stack, dev: number, addr: number): number {
  return arpSend(st, ARPOP_REQUEST, dev, ETH_BROADCAST, 0, 0, addr, null, 0);
}

/** Register w to see received ARP packets (configuration time). */
export function arpWatchAdd(st: Stack, w: ArpWatcher): void {
  const ws = st.arp.watchers;
  for (let i = 0; i < ws.length; i++) if (ws[i] === w) return;
  ws.push(w);
}

/** Unregister w. */
export function arpWatchDel(st: Stack, w: ArpWatcher): void {
  const ws = st.arp.watchers;
  for (let i = 0; i < ws.length; i++) {
    if (ws[i] === w) {
      ws.splice(i, 1);
      return;
    }
  }
}

/* ------------------------------------------------------------------ */
/* receive                                                             */
/* ------------------------------------------------------------------ */

/**
 * arp_rcv / arp_process: skb data at the ARP header, skb.dev set.
 * Always frees the skb.
 */
export function arpRcv(st: Stack, skb: number): void {
  const p = st.pool;
  const mib = st.mib.link;
  const dev = p.dev[skb];
  const d = getDev(st, dev);
  const b = p.buf[skb];
  const o = p.data[skb];
  if (
    d === null ||
    p.tail[skb] - o < ARP_PKT_LEN ||
    get16(b, o + ARP_HTYPE) !== ARPHRD_ETHER ||
    get16(b, o + ARP_PTYPE) !== ETH_P_IP ||
    b[o + ARP_HLEN] !== ETH_ALEN ||
    b[o + ARP_PLEN] !== 4
  ) {
    mib[LINK_ARPINERRORS]++;
    p.free(skb);
    return;
  }
  const op = get16(b, o + ARP_OP);
  const sip = getAddr(b, o + ARP_SIP);
  const tip = getAddr(b, o + ARP_TIP);
  if (
    (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) ||
    isMulticastEther(b, o + ARP_SHA) ||
    equalBytes(b, o + ARP_SHA, d.mac, 0, ETH_ALEN) ||
    ((sip >>> 29) & 7) === 7 ||
    ((tip >>> 29) & 7) === 7
  ) {
    mib[LINK_ARPINERRORS]++;
    p.free(skb);
    return;
  }
  mib[op === ARPOP_REQUEST ? LINK_ARPINREQUESTS : LINK_ARPINREPLIES]++;
  if (FEATURE_DHCP) {
    // the DHCP client's RFC 5227 probe watches for a conflict
    const ws = st.arp.watchers;
    for (let k = 0; k < ws.length; k++) ws[k].onArpRcv(dev, op, sip, tip);
  }
  const forUs = st.ifaddr.onDev(dev, tip);
  if (sip === 0) {
    // RFC 5227 probe: defend our address, learn nothing
    if (op === ARPOP_REQUEST && forUs) {
      arpSend(st, ARPOP_REPLY, dev, b, o + ARP_SHA, tip, sip, b, o + ARP_SHA);
    }
    p.free(skb);
    return;
  }
  if (st.ifaddr.isLocal(sip)) {
    // someone else uses one of our addresses
    mib[LINK_ARPCONFLICTS]++;
    p.free(skb);
    return;
  }
  const t = st.arp;
  let i = neighFind(st, dev, sip);
  if (op === ARPOP_REQUEST && forUs) {
    arpSend(st, ARPOP_REPLY, dev, b, o + ARP_SHA, tip, sip, b, o + ARP_SHA);
    if (i < 0) {
      i = neighAlloc(st, dev, sip);
      if (i >= 0) t.srcIp[i] = tip;
      else mib[LINK_ARPTABLEFULL]++;
    }
    if (i >= 0 && t.state[i] !== NUD_PERMANENT) neighUpdate(st, i, b, o + ARP_SHA, NUD_REACHABLE);
  } else if (op === ARPOP_REPLY && forUs) {
    if (i < 0) mib[LINK_ARPUNSOLICITEDIGNORED]++;
    else if (t.state[i] !== NUD_PERMANENT) neighUpdate(st, i, b, o + ARP_SHA, NUD_REACHABLE);
  } else {
    // not addressed to us: RFC 826 merge into an existing entry only
    if (op === ARPOP_REQUEST) mib[LINK_ARPNOTFORUS]++;
    if (i < 0) {
      if (op === ARPOP_REPLY) mib[LINK_ARPUNSOLICITEDIGNORED]++;
    } else {
      const s = t.state[i];
      if (s === NUD_INCOMPLETE || s === NUD_FAILED) {
        neighUpdate(st, i, b, o + ARP_SHA, NUD_STALE);
      } else if (s !== NUD_PERMANENT && !equalBytes(t.mac, i * ETH_ALEN, b, o + ARP_SHA, ETH_ALEN)) {
        neighUpdate(st, i, b, o + ARP_SHA, NUD_STALE);
      }
    }
  }
  p.free(skb);
}

/* ------------------------------------------------------------------ */
/* administration (configuration time; may be called any time)         */
/* ------------------------------------------------------------------ */

/** Add (or overwrite) a PERMANENT entry. Returns the entry index or -errno. */
export function neighAddStatic(st: Stack, dev: number, addr: number, mac: Uint8Array, macOff: number): number {
  if (getDev(st, dev) === null) return -ENODEV;
  const a = s32(addr);
  if (a === 0 || ((a >>> 29) & 7) === 7) return -EINVAL;
  let i = neighFind(st, dev, a);
  if (i < 0) i = neighAlloc(st, dev, a);
  if (i < 0) return -ENOSPC;
  neighUpdate(st, i, mac, macOff, NUD_PERMANENT);
  return i;
}

/** Remove the entry for addr (any device, any state). Returns true when one was removed. */
export function neighDel(st: Stack, addr: number): boolean {
  const i = neighLookup(st, addr);
  if (i < 0) return false;
  neighRelease(st, i);
  return true;
}

/** Flush all non-permanent entries of dev (NETDEV_DOWN); queued skbs are freed. Returns how many. */
export function neighFlushDev(st: Stack, dev: number): number {
  const t = st.arp;
  let n = 0;
  for (let i = 0; i < t.size; i++) {
    const s = t.state[i];
    if (s !== NUD_NONE && s !== NUD_PERMANENT && t.dev[i] === dev) {
      neighRelease(st, i);
      n++;
    }
  }
  return n;
}

/** Flush every entry (permanent ones too when `permanent`). Returns how many. */
export function neighFlushAll(st: Stack, permanent: boolean): number {
  const t = st.arp;
  let n = 0;
  for (let i = 0; i < t.size; i++) {
    const s = t.state[i];
    if (s !== NUD_NONE && (permanent || s !== NUD_PERMANENT)) {
      neighRelease(st, i);
      n++;
    }
  }
  return n;
}

export interface ArpDumpEntry {
  ip: string;
  mac: string;
  state: string;
  dev: number;
  queued: number;
}

/** The table as plain objects (allocates: reports and tests only). */
export function arpDump(st: Stack): ArpDumpEntry[] {
  const t = st.arp;
  const out: ArpDumpEntry[] = [];
  if (!FEATURE_ARP_DUMP) return out; // compiled out (src/features.ts)
  for (let i = 0; i < t.size; i++) {
    const s = t.state[i];
    if (s === NUD_NONE) continue;
    out.push({
      ip: formatIp(t.ip[i]),
      mac: formatMac(t.mac, i * ETH_ALEN),
      state: STATE_NAMES[s],
      dev: t.dev[i],
      queued: t.queue[i].qlen,
    });
  }
  return out;
}
