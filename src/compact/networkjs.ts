/*
 * networkjs.ts — the compact stack's Espruino NetworkJS adapter: the
 * object a small board's program hands to `require("NetworkJS").create()`
 * so that Espruino's own `net`, `http` and `dgram` run over src/compact/:
 *
 *   const n = netCreate(null, mac, clock, seed);   // + the chip driver
 *   require("NetworkJS").create(networkJsCompact(n));
 *   require("http").createServer(...).listen(80);
 *
 * The contract is the full stack's adapter's (src/socket/networkjs.ts,
 * from Espruino's libs/network/js/network_js.c and socketserver.c; its
 * ST_* and SOCKET_ERR_* constants are used here): create / close /
 * accept / recv / send, binary strings, a negative SocketError when a
 * connection is over, SOCKET_ERR_NO_CONN from recv and 0 from send while
 * a client connects (or its name is being looked up), UDP strings with
 * Espruino's 8-byte JsNetUDPPacketHeader (host[4] in address order, port
 * and length uint16 little-endian). Same behaviour, over the compact API
 * (tcp.ts, net.ts's UDP sockets, dns.ts), in one object of five methods,
 * two helpers (tcbOf, bstr) and the callback of a name lookup (issue 8:
 * every function costs JsVars on a Pico). One difference: a name lookup
 * refused at once because dns.ts has no free query slot is
 * SOCKET_ERR_MAX_SOCK (out of sockets), where the full adapter answers
 * NOT_FOUND for every lookup refused at once.
 *
 * Socket numbers: one space for everything Espruino holds —
 *   [0, tcbs)                      a TCP control block (listener or connection)
 *   [tcbs, tcbs + udpSocks)        a UDP socket (s + tcbs)
 *   [tcbs + udpSocks, + NJ_NAMES)  a TCP client created with a host name:
 *     its slot answers NO_CONN while dns.ts looks the name up, then
 *     stands for the connection's tcb (or keeps the lookup's SocketError)
 *     until Espruino closes it.
 *
 * Not on the packet path, and no buffers of its own: recv builds its
 * string in the receive frame buffer n.rx (which holds a frame only while
 * netInput runs; Espruino calls the adapter from its idle loop, never from
 * inside the driver's poll), send passes E.toUint8Array's array straight
 * to tcpSend/udpSendTo. Espruino's native conversions (E.toString,
 * E.toUint8Array) replace per-byte loops; the loops remain for Node and
 * for E.toString's undefined (no flat string could be made).
 */
import type { Net } from './net';
import { FRAME_MAX, UDP_DATA, C_ARP_MISS, udpOpen, udpClose, udpSendTo, ipQuad, get32, put32, copy } from './net';
import { tcpListen, tcpConnect, tcpAccept, tcpRecv, tcpSend, tcpClose, tcpState } from './tcp';
import { dnsLookup } from './dns';
import {
  ST_TLS, ST_TYPE_MASK, ST_UDP, SOCKET_ERR_CLOSED, SOCKET_ERR_MAX_SOCK, SOCKET_ERR_TIMEOUT, SOCKET_ERR_NO_ROUTE,
  SOCKET_ERR_BUSY, SOCKET_ERR_NOT_FOUND, SOCKET_ERR_NO_CONN, SOCKET_ERR_BAD_ARG, UDP_HEADER_LEN, socketErrorOf,
  NetworkJsObject,
} from '../socket/networkjs';
import { EAI_AGAIN, EAI_NOSERVERS, EAI_MEMORY } from '../wire/dns';
import { TCP_FREE, TCP_SYN_SENT } from '../transport/tcp/tcp';
import { FEATURE_TCP, FEATURE_DNS, RUNTIME_ESPRUINO } from '../features';

/** TCP clients created with a host name that may be open at once (their lookup, then their connection) */
export const NJ_NAMES = 2;
/* fields of a name slot (nm[k * NM_F + ...]) */
const NM_STATE = 0; // 0 free, 1 looking up, 2 connected (NM_TCB), < 0 the SocketError the lookup or connect left
const NM_TCB = 1;
const NM_PORT = 2;
const NM_GEN = 3; // bumped when the slot is freed: a late answer for an earlier owner is ignored
const NM_F = 4;
/** name slots exist (a TCP client by host name needs both) */
const NJ = FEATURE_TCP && FEATURE_DNS;

declare const E: { toString(b: Uint8Array): string | undefined; toUint8Array(s: string): Uint8Array } | undefined;

/**
 * The NetworkJS object for the compact stack n:
 * `require("NetworkJS").create(networkJsCompact(n))`. Methods as
 * NetworkJsObject (src/socket/networkjs.ts) documents; socket numbers as
 * this file's header says.
 */
export function networkJsCompact(n: Net): NetworkJsObject {
  let T = FEATURE_TCP ? n.cfg.tcbs : 0;
  let U = T + n.cfg.udpSocks; // first name slot's socket number
  let nm = new Int32Array(NJ ? NJ_NAMES * NM_F : 0);
  /** the tcb socket number sk stands for; -1 for UDP and unknown numbers; a name slot's NO_CONN / SocketError (< -1) */
  function tcbOf(sk: number): number {
    if (sk >= 0 && sk < T) return sk;
    if (!NJ) return -1;
    let k = (sk - U) * NM_F;
    if (sk < U || k >= nm.length) return -1;
    let s = nm[k + NM_STATE];
    return s == 2 ? nm[k + NM_TCB] : s == 1 ? SOCKET_ERR_NO_CONN : s < 0 ? s : SOCKET_ERR_CLOSED;
  }
  return {
    create(host: string | undefined | null, port: number, socketType?: number): number {
      let ty = typeof socketType === 'number' ? socketType : 0;
      if ((ty & ST_TLS) != 0 || typeof port !== 'number' || port < 0 || port > 65535 || Math.floor(port) != port) return SOCKET_ERR_BAD_ARG;
      let server = host === undefined || host === null;
      let addr = server ? 0 : ipQuad('' + host);
      let udp = (ty & ST_TYPE_MASK) == ST_UDP;
      if (udp) {
        // a name: Espruino sends 255.255.255.255 in each header, not to be told from a broadcast
        if (addr === null) return SOCKET_ERR_NOT_FOUND;
        // a server binds its port; a client an ephemeral one (each send names its peer)
        let s = udpOpen(n, server ? port : 0);
        if (s < 0 && (!server || port == 0)) s = udpOpen(n, 0); // another ephemeral port
        if (s >= 0) return T + s;
        for (s = 0; s < n.udpPort.length; s++) if (server && port != 0 && n.udpPort[s] == port) return SOCKET_ERR_BUSY;
        return SOCKET_ERR_MAX_SOCK;
      }
      if (!FEATURE_TCP) return SOCKET_ERR_BAD_ARG;
      let t: number;
      if (server) t = tcpListen(n, port);
      else if (addr !== null) t = tcpConnect(n, addr, port);
      else {
        if (!NJ) return SOCKET_ERR_NOT_FOUND;
        // a host name: a slot now, the connection once dns.ts answers
        let k = 0;
        while (k < nm.length && nm[k + NM_STATE] != 0) k += NM_F;
        if (k >= nm.length) return SOCKET_ERR_MAX_SOCK;
        nm[k + NM_STATE] = 1;
        nm[k + NM_PORT] = port;
        let g = nm[k + NM_GEN];
        let rc = dnsLookup(n, '' + host, (err: number, a: number): void => {
          if (nm[k + NM_GEN] != g || nm[k + NM_STATE] != 1) return; // closed meanwhile
          let r = SOCKET_ERR_NOT_FOUND;
          if (err != 0) {
            if (err == EAI_AGAIN || err == EAI_NOSERVERS) r = SOCKET_ERR_TIMEOUT;
          } else {
            r = tcpConnect(n, a, nm[k + NM_PORT]);
            nm[k + NM_TCB] = r;
            if (r >= 0) r = 2;
            else r = r < -1 ? socketErrorOf(r) : SOCKET_ERR_MAX_SOCK;
          }
          nm[k + NM_STATE] = r;
        });
        if (rc < 0 && nm[k + NM_STATE] == 1) {
          nm[k + NM_STATE] = 0;
          nm[k + NM_GEN]++;
          // no server: as an unanswered query; every dns.ts slot busy: out of sockets
          return rc == EAI_NOSERVERS ? SOCKET_ERR_TIMEOUT : rc == EAI_MEMORY ? SOCKET_ERR_MAX_SOCK : SOCKET_ERR_NOT_FOUND;
        }
        return U + k / NM_F;
      }
      return t >= 0 ? t : t < -1 ? socketErrorOf(t) : SOCKET_ERR_MAX_SOCK;
    },

    close(sckt: number): void {
      if (sckt >= T && sckt < U) {
        udpClose(n, sckt - T);
        return;
      }
      if (!FEATURE_TCP) return;
      let t = tcbOf(sckt);
      if (t >= 0 && tcpState(n, t) != TCP_FREE) tcpClose(n, t);
      let k = (sckt - U) * NM_F;
      if (NJ && sckt >= U && k < nm.length && nm[k + NM_STATE] != 0) {
        nm[k + NM_STATE] = 0;
        nm[k + NM_GEN]++;
      }
    },

    accept(sckt: number): number {
      if (!FEATURE_TCP || sckt < 0 || sckt >= T) return -1;
      let r = tcpAccept(n, sckt);
      return r >= 0 ? r : -1;
    },

    recv(sckt: number, maxLen: number): string | number {
      let b = n.rx;
      let max = typeof maxLen === 'number' && maxLen > 0 ? Math.floor(maxLen) : 536;
      if (max > b.length) max = b.length;
      if (sckt >= T && sckt < U) {
        let s = sckt - T;
        if (n.udpPort[s] == 0) return SOCKET_ERR_CLOSED;
        if (max <= UDP_HEADER_LEN) return SOCKET_ERR_BAD_ARG;
        let len = n.udpLen[s] - 1;
        if (len < 0) return '';
        if (len > max - UDP_HEADER_LEN) len = max - UDP_HEADER_LEN; // the rest is discarded, as recvfrom does
        let a = n.udpFrom[s];
        let p = n.udpFromPort[s];
        put32(b, 0, a);
        b[4] = p;
        b[5] = p >>> 8;
        b[6] = len;
        b[7] = len >>> 8;
        let o = s * n.cfg.udpBuf;
        copy(b, UDP_HEADER_LEN, n.udpData, o, len);
        n.udpLen[s] = 0;
        return bstr(b, UDP_HEADER_LEN + len);
      }
      if (!FEATURE_TCP) return SOCKET_ERR_CLOSED;
      let t = tcbOf(sckt);
      if (t < -1) return t; // a name being looked up (NO_CONN) or whose lookup failed
      if (t < 0 || tcpState(n, t) == TCP_FREE) return SOCKET_ERR_CLOSED;
      let r = tcpRecv(n, t, b, max);
      if (r > 0) return bstr(b, r);
      if (r == 0) return tcpState(n, t) == TCP_SYN_SENT ? SOCKET_ERR_NO_CONN : ''; // no 'connect' before it is
      return r == -1 ? SOCKET_ERR_CLOSED : socketErrorOf(r);
    },

    send(sckt: number, data: string): number {
      if (typeof data !== 'string') return SOCKET_ERR_BAD_ARG;
      let udp = sckt >= T && sckt < U;
      let t = -1;
      let len = data.length;
      let off = 0;
      let dst = 0;
      let dport = 0;
      if (udp) {
        if (n.udpPort[sckt - T] == 0) return SOCKET_ERR_CLOSED;
        if (len < UDP_HEADER_LEN) return SOCKET_ERR_BAD_ARG;
        // the header's bytes, in n.rx (free here, as in recv)
        let h = n.rx;
        for (let i = 0; i < UDP_HEADER_LEN; i++) h[i] = data.charCodeAt(i) & 0xff;
        dst = get32(h, 0);
        dport = h[4] | (h[5] << 8);
        off = UDP_HEADER_LEN;
        len -= off;
        let l = h[6] | (h[7] << 8);
        if (l < len) len = l;
        if (len > FRAME_MAX - UDP_DATA) return SOCKET_ERR_BAD_ARG; // no fragmentation here
      } else {
        if (!FEATURE_TCP) return SOCKET_ERR_CLOSED;
        t = tcbOf(sckt);
        if (t < -1) return t == SOCKET_ERR_NO_CONN ? 0 : t;
        if (t < 0) return SOCKET_ERR_CLOSED;
        let st = tcpState(n, t);
        if (st == TCP_FREE) return SOCKET_ERR_CLOSED;
        if (st == TCP_SYN_SENT || len == 0) return 0; // nothing taken while connecting
      }
      let src: Uint8Array;
      if (RUNTIME_ESPRUINO || typeof E !== 'undefined') {
        // (an Espruino bundle has E: no loop there)
        src = E!.toUint8Array(off == 0 ? data : data.substring(off, off + len));
      } else {
        src = n.rx;
        if (len > src.length) len = src.length;
        for (let i = 0; i < len; i++) src[i] = data.charCodeAt(off + i) & 0xff;
      }
      if (FEATURE_TCP && !udp) {
        let r = tcpSend(n, t, src, 0, len);
        return r >= 0 ? r : socketErrorOf(r);
      }
      let miss = n.cnt[C_ARP_MISS];
      let r = udpSendTo(n, sckt - T, dst, dport, src, 0, len);
      if (r < 0) return SOCKET_ERR_NO_ROUTE;
      // 0: the next hop is being asked for (an empty datagram that went out also returns 0)
      if (r == 0 && (len > 0 || n.cnt[C_ARP_MISS] != miss)) return 0;
      return UDP_HEADER_LEN + len;
    },
  };
}

/** Bytes b[0..len) as a binary string (one char per byte), the way Espruino holds data. */
function bstr(b: Uint8Array, len: number): string {
  if (RUNTIME_ESPRUINO || typeof E !== 'undefined') {
    let s = E!.toString(b.subarray(0, len));
    if (typeof s === 'string') return s;
  }
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[i]);
  return s;
}
