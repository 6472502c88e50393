/*
 * dhcp.ts — the compact stack's DHCP client (small boards). Place in the
 * packet path: netInput hands it the payload of every UDP datagram to
 * port 68 (dhcpInput, still in n.rx); netTick drives its timers
 * (dhcpTick); it builds its messages in n.tx at UDP_DATA and sends them
 * with udpOut. State: DH_FIELDS numbers in n.dh (D_* below), nothing
 * allocated after netCreate.
 *
 * Implements RFC 2131 §4.4 (client states INIT/SELECTING, REQUESTING,
 * BOUND, RENEWING, REBINDING; §4.4.5 T1/T2 defaults 0.5 and 0.875 of the
 * lease, lease time counted from the REQUEST), §4.1 retransmission
 * (4, 8, 16, 32, 64 s, ±1 s random; RENEWING/REBINDING: half the time
 * left, at least 60 s), §4.4.1 table 5 (REQUEST in SELECTING carries
 * 50 and 54, RENEWING/REBINDING carry ciaddr only; RELEASE 53, 61, 54),
 * and RFC 2132 options 1, 3, 6, 12, 50, 51, 53, 54, 55, 57, 58, 59, 61.
 * Replies are checked (op, htype/hlen, xid, chaddr, magic cookie, every
 * option inside the datagram); anything else is counted in D_DROP.
 * Option overload (52) is ignored; INIT-REBOOT and the RFC 5227 probe are
 * not done (the general stack's src/apps/dhcp_client.ts does them).
 */
import { Net, rand, get16, get32, put16, put32, udpOut, netSetIp, UDP_DATA } from './net';
import {
  DHCP_SERVER_PORT, DHCP_CLIENT_PORT, DHCP_OP, DHCP_XID, DHCP_SECS, DHCP_FLAGS, DHCP_CIADDR,
  DHCP_YIADDR, DHCP_CHADDR, DHCP_COOKIE, DHCP_OPTIONS, DHCP_MIN_LEN, BOOTP_MIN_LEN, DHCP_MIN_MAX_MSG, DHCP_MAGIC,
  BOOTREQUEST, BOOTREPLY, HTYPE_ETHER, DHCP_FLAG_BROADCAST, DHO_PAD, DHO_END, DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS,
  DHO_HOST_NAME, DHO_REQUESTED_IP, DHO_LEASE_TIME, DHO_MSG_TYPE, DHO_SERVER_ID, DHO_PARAM_REQ, DHO_MAX_MSG_SIZE,
  DHO_T1, DHO_T2, DHO_CLIENT_ID, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, DHCPNAK, DHCPRELEASE,
} from '../wire/dhcp';

/* n.dh fields (DH_FIELDS in net.ts) */
/** DS_* below */
export const D_STATE = 0;
/** transaction id of the current exchange (s32) */
export const D_XID = 1;
/** time of the next send or state change (ms) */
export const D_DUE = 2;
/** messages sent in this state (retransmission backoff) */
export const D_TRIES = 3;
/** offered, then leased address */
export const D_IP = 4;
/** server identifier (option 54) */
export const D_SERVER = 5;
/** start of the exchange (the secs field) */
export const D_BEGIN = 6;
/** first REQUEST of the exchange: the lease is counted from here (§4.4.1) */
export const D_REQAT = 7;
/** absolute T1, T2 and expiry (ms; Infinity for an infinite lease) */
export const D_T1 = 8;
export const D_T2 = 9;
export const D_EXP = 10;
/** replies dropped (malformed, not ours, unexpected) */
export const D_DROP = 11;

/* D_STATE values */
export const DS_OFF = 0;
export const DS_SELECTING = 1;
export const DS_REQUESTING = 2;
export const DS_BOUND = 3;
export const DS_RENEWING = 4;
export const DS_REBINDING = 5;

/** REQUESTs sent in REQUESTING before going back to DISCOVER (§4.4.1) */
const REQ_TRIES = 5;
/** shortest retransmission interval in RENEWING/REBINDING (§4.4.5) */
const RENEW_MIN_MS = 60000;
/** retry after a send that became an ARP request (next hop unknown) */
const ARP_RETRY_MS = 1000;

/** Reset to state st with a new xid; the first message goes at `due`. The drop counter is kept. */
function dhcpReset(n: Net, st: number, due: number): void {
  let d = n.dh;
  let drop = d[D_DROP];
  d.fill(0);
  d[D_DROP] = drop;
  d[D_STATE] = st;
  d[D_XID] = rand(n);
  d[D_DUE] = due;
  d[D_BEGIN] = due;
}

/**
 * Build DISCOVER, REQUEST or RELEASE (type) for the current state in
 * n.tx and send it. Returns udpOut's result (-1: not sent).
 */
function dhcpSend(n: Net, type: number, now: number): number {
  let d = n.dh;
  let t = n.tx;
  let o = UDP_DATA;
  let st = d[D_STATE];
  let renew = st == DS_RENEWING || type == DHCPRELEASE;
  t.fill(0, o, o + BOOTP_MIN_LEN);
  // op, htype, hlen, hops 0 (DHCP_OP ... DHCP_HOPS)
  put32(t, o + DHCP_OP, (BOOTREQUEST << 24) | (HTYPE_ETHER << 16) | (6 << 8));
  put32(t, o + DHCP_XID, d[D_XID]);
  let secs = Math.floor((now - d[D_BEGIN]) / 1000);
  put16(t, o + DHCP_SECS, secs > 0xffff ? 0xffff : secs);
  // no address yet: ask for broadcast replies (§4.1); afterwards ciaddr is ours
  if (st <= DS_REQUESTING) put16(t, o + DHCP_FLAGS, DHCP_FLAG_BROADCAST);
  else put32(t, o + DHCP_CIADDR, n.ip);
  t.set(n.mac, o + DHCP_CHADDR);
  put32(t, o + DHCP_COOKIE, DHCP_MAGIC);
  let p = o + DHCP_OPTIONS;
  // message type; client identifier: hardware type + MAC (RFC 2132 §9.14)
  put32(t, p, (DHO_MSG_TYPE << 24) | (1 << 16) | (type << 8) | DHO_CLIENT_ID);
  put16(t, p + 4, (7 << 8) | HTYPE_ETHER);
  t.set(n.mac, p + 6);
  p += 12;
  if (type == DHCPRELEASE || (type == DHCPREQUEST && st == DS_REQUESTING)) {
    t[p] = DHO_SERVER_ID;
    t[p + 1] = 4;
    put32(t, p + 2, d[D_SERVER]);
    p += 6;
  }
  if (type != DHCPRELEASE) {
    if (type == DHCPREQUEST && st == DS_REQUESTING) {
      t[p] = DHO_REQUESTED_IP;
      t[p + 1] = 4;
      put32(t, p + 2, d[D_IP]);
      p += 6;
    }
    let h = n.hostname;
    let hl = h.length < 63 ? h.length : 63;
    if (hl > 0) {
      t[p] = DHO_HOST_NAME;
      t[p + 1] = hl;
      for (let i = 0; i < hl; i++) t[p + 2 + i] = h.charCodeAt(i) & 0xff;
      p += 2 + hl;
    }
    put32(t, p, (DHO_PARAM_REQ << 24) | (6 << 16) | (DHO_SUBNET_MASK << 8) | DHO_ROUTER);
    put32(t, p + 4, (DHO_DNS << 24) | (DHO_LEASE_TIME << 16) | (DHO_T1 << 8) | DHO_T2);
    put32(t, p + 8, (DHO_MAX_MSG_SIZE << 24) | (2 << 16) | DHCP_MIN_MAX_MSG);
    p += 12;
  }
  t[p] = DHO_END;
  p++;
  let len = p - o < BOOTP_MIN_LEN ? BOOTP_MIN_LEN : p - o;
  return udpOut(n, DHCP_CLIENT_PORT, renew ? d[D_SERVER] | 0 : -1, DHCP_SERVER_PORT, len);
}

/** Start (or restart) the client: INIT → DISCOVER now. */
export function dhcpStart(n: Net): void {
  let now = n.clock.now();
  dhcpReset(n, DS_SELECTING, now);
  dhcpTick(n, now);
}

/** Give the lease back (RELEASE, unicast to the server, when bound), then no address; the client stops. */
export function dhcpRelease(n: Net): void {
  let st = n.dh[D_STATE];
  if (st >= DS_BOUND) dhcpSend(n, DHCPRELEASE, n.clock.now());
  dhcpReset(n, DS_OFF, 0);
  if (n.ip != 0) netSetIp(n, 0, 0, 0, 0);
}

/**
 * A datagram to port 68: off, len = the DHCP message in n.rx. Checks it
 * and moves the state machine (OFFER → REQUEST, ACK → bound, NAK →
 * restart). Never throws; a bad or unexpected message is counted.
 */
export function dhcpInput(n: Net, off: number, len: number): void {
  let d = n.dh;
  let r = n.rx;
  let st = d[D_STATE];
  let end = off + len;
  let c = off + DHCP_CHADDR;
  if (st == DS_OFF || st == DS_BOUND || len < DHCP_MIN_LEN || end > r.length ||
    // DHCP_OP, DHCP_HTYPE, DHCP_HLEN (then hops, any)
    get32(r, off + DHCP_OP) >>> 8 != ((BOOTREPLY << 16) | (HTYPE_ETHER << 8) | 6) || get32(r, off + DHCP_XID) != d[D_XID] ||
    get32(r, c) != get32(n.mac, 0) || get16(r, c + 4) != get16(n.mac, 4) || get32(r, off + DHCP_COOKIE) != DHCP_MAGIC) {
    d[D_DROP]++;
    return;
  }
  // options (RFC 2132): each inside the datagram; a known option of the wrong length is ignored
  let type = 0;
  let sid = 0;
  let mask = -1;
  let gw = 0;
  let dns = 0;
  let lease = -1;
  let t1 = -1;
  let t2 = -1;
  let p = off + DHCP_OPTIONS;
  while (p < end) {
    let code = r[p];
    if (code == DHO_PAD) {
      p++;
      continue;
    }
    if (code == DHO_END) break;
    if (p + 2 > end || p + 2 + r[p + 1] > end) {
      d[D_DROP]++;
      return;
    }
    let l = r[p + 1];
    let v = p + 2;
    // the first 4 bytes (past the end reads as 0: used only when l >= 4)
    let x = get32(r, v);
    if (l == 1 && code == DHO_MSG_TYPE) type = r[v];
    else if (l >= 4 && code == DHO_ROUTER) gw = x;
    else if (l >= 4 && code == DHO_DNS) dns = x;
    else if (l == 4) {
      if (code == DHO_SERVER_ID) sid = x;
      else if (code == DHO_SUBNET_MASK) mask = x;
      else if (code == DHO_LEASE_TIME) lease = x >>> 0;
      else if (code == DHO_T1) t1 = x >>> 0;
      else if (code == DHO_T2) t2 = x >>> 0;
    }
    p = v + l;
  }
  let yi = get32(r, off + DHCP_YIADDR);
  let a = yi >>> 24;
  let now = n.clock.now();
  let okAddr = a != 0 && a != 127 && a < 224;
  if (type == DHCPOFFER && st == DS_SELECTING && okAddr && sid != 0) {
    // the first acceptable offer (§4.4.1): REQUEST it
    d[D_IP] = yi;
    d[D_SERVER] = sid;
    d[D_STATE] = DS_REQUESTING;
    d[D_TRIES] = 0;
    d[D_DUE] = now;
    dhcpTick(n, now);
    return;
  }
  if (type == DHCPACK && st >= DS_REQUESTING && okAddr && lease > 0 && (sid == 0 || st != DS_REQUESTING || sid == d[D_SERVER])) {
    // bound (§4.4.1): times from the first REQUEST; T1/T2 defaults, or when inconsistent
    let base = d[D_REQAT];
    if (t2 < 0 || t2 > lease) t2 = Math.floor(lease * 0.875);
    if (t1 < 0 || t1 > t2) t1 = lease >>> 1;
    let inf = lease == 0xffffffff;
    d[D_T1] = inf ? Infinity : base + t1 * 1000;
    d[D_T2] = inf ? Infinity : base + t2 * 1000;
    d[D_EXP] = inf ? Infinity : base + lease * 1000;
    d[D_STATE] = DS_BOUND;
    d[D_TRIES] = 0;
    d[D_DUE] = d[D_T1];
    if (sid != 0) d[D_SERVER] = sid;
    let changed = n.ip != yi;
    d[D_IP] = yi;
    if (changed || n.mask != mask || n.gw != gw || n.dns != dns) netSetIp(n, yi, mask, gw, dns);
    if (changed && n.onLease !== null) n.onLease(yi);
    return;
  }
  if (type == DHCPNAK && st >= DS_REQUESTING && (st != DS_REQUESTING || sid == 0 || sid == d[D_SERVER])) {
    // §4.4.4: back to INIT, after a random wait of up to 1 s (no NAK storm)
    if (n.ip != 0) netSetIp(n, 0, 0, 0, 0);
    dhcpReset(n, DS_SELECTING, now + ((rand(n) >>> 0) % 1000));
    return;
  }
  d[D_DROP]++;
}

/** Timers (from netTick): retransmissions, T1 (renew), T2 (rebind), expiry. */
export function dhcpTick(n: Net, now: number): void {
  let d = n.dh;
  let st = d[D_STATE];
  if (st == DS_OFF || now < d[D_DUE]) return;
  if (st >= DS_BOUND && now >= d[D_EXP]) {
    // the lease is gone (§4.4.5): no address, start again
    netSetIp(n, 0, 0, 0, 0);
    dhcpReset(n, DS_SELECTING, now);
    st = DS_SELECTING;
  } else if (st == DS_REQUESTING && d[D_TRIES] >= REQ_TRIES) {
    dhcpReset(n, DS_SELECTING, now);
    st = DS_SELECTING;
  } else if (st == DS_BOUND) {
    // T1: RENEWING, a new exchange
    st = DS_RENEWING;
    d[D_STATE] = st;
    d[D_XID] = rand(n);
    d[D_TRIES] = 0;
    d[D_BEGIN] = now;
  }
  if (st == DS_RENEWING && now >= d[D_T2]) {
    st = DS_REBINDING;
    d[D_STATE] = st;
    d[D_TRIES] = 0;
  }
  if (d[D_TRIES] == 0 && st != DS_SELECTING) d[D_REQAT] = now;
  let rc = dhcpSend(n, st == DS_SELECTING ? DHCPDISCOVER : DHCPREQUEST, now);
  let k = d[D_TRIES];
  d[D_TRIES] = k + 1;
  let next: number;
  if (st <= DS_REQUESTING) {
    // §4.1: 4, 8, 16, 32, 64, 64 ... s, each ±1 s
    next = now + (k < 4 ? 4000 << k : 64000) + ((rand(n) >>> 0) % 2001) - 1000;
  } else {
    // §4.4.5: half the time to T2 (RENEWING) or to expiry (REBINDING), at least 60 s, never past it
    let lim = st == DS_RENEWING ? d[D_T2] : d[D_EXP];
    let half = (lim - now) / 2;
    next = now + (half > RENEW_MIN_MS ? half : RENEW_MIN_MS);
    if (next > lim) next = lim;
  }
  if (rc < 0 && next > now + ARP_RETRY_MS) next = now + ARP_RETRY_MS;
  d[D_DUE] = next;
}
