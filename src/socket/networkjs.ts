/*
 * networkjs.ts — the Espruino NetworkJS adapter: the object a board
 * program hands to `require("NetworkJS").create(obj)` so that Espruino's
 * own `net`, `http` and `dgram` modules run over slabnet:
 *
 *   const st = slabnet.createBoardStack(...);
 *   require("NetworkJS").create(slabnet.networkJs(st));
 *   require("http").createServer(...).listen(80);
 *
 * Not on the packet path: it maps Espruino's calls onto the
 * zero-allocation socket API (src/socket/socket.ts); Espruino polls
 * recv/accept/send from its idle loop, so no readiness events are used.
 * It allocates the strings Espruino exchanges (one per recv/send).
 *
 * The contract, from Espruino's libs/network/js/network_js.c and the
 * NetworkJS.create documentation in libs/network/js/jswrap_jsnetwork.c
 * (and the callers in libs/network/socketserver.c):
 * - create(host, port, socketType, options): host undefined = a server
 *   socket listening on port (UDP: bound to port); otherwise a client
 *   connecting to host:port. Espruino hands over the name as the program
 *   wrote it (net_js_gethostbyname keeps it; http.get("http://name/")
 *   arrives here as "name"): a dotted quad connects at once; a TCP client
 *   to a host name, with a resolver on the stack (st.resolver, a
 *   DnsResolver), gets its socket number now and connects when the name
 *   is resolved — until then recv answers SOCKET_ERR_NO_CONN and send 0,
 *   as while connecting; a failed lookup makes recv/send answer
 *   SOCKET_ERR_NOT_FOUND (no such name, no address, server failure) or
 *   SOCKET_ERR_TIMEOUT (no answer, no servers), which Espruino reports as
 *   the socket's 'error'. Without a resolver, and for UDP (Espruino puts
 *   255.255.255.255 in each datagram's header for a name: it cannot be
 *   told from a broadcast), a name is NOT_FOUND. Returns the socket
 *   number (>= 0) or < 0.
 * - close(sckt): returns nothing.
 * - accept(sckt): a new socket number, or -1 when nothing is waiting.
 * - recv(sckt, maxLen, socketType): a string of at most maxLen bytes
 *   ("" = no data yet), or a NEGATIVE number: the connection is over and
 *   Espruino closes it (SOCKET_ERR_CLOSED = -1 for an orderly end; other
 *   SocketError codes of libs/network/socketerrors.h are reported as
 *   'error'). A non-negative number is an error in Espruino's eyes
 *   ("JSNetwork.recv returned >=0"). While a client is still connecting
 *   it answers SOCKET_ERR_NO_CONN, which socketserver.c ignores until the
 *   connection is up (the first non-negative recv fires 'connect').
 * - send(sckt, data, socketType): the number of bytes of data consumed
 *   (0 = try again later; a positive count also tells socketserver.c that
 *   a client is connected, so nothing is taken while connecting), < 0 on
 *   error.
 * - socketType: ST_NORMAL 0 (TCP), ST_HTTP 1 (TCP carrying HTTP), ST_UDP
 *   2; bit ST_TLS 4 is not supported (BAD_ARG). For UDP every recv string
 *   and every send string starts with Espruino's JsNetUDPPacketHeader
 *   (8 bytes: host[4] in address order, port uint16 little-endian,
 *   length uint16 little-endian) followed by the payload.
 */
import type { Stack, NameHandler, NameResolver } from '../stack';
import { EAI_AGAIN, EAI_NOSERVERS } from '../wire/dns';
import {
  EAGAIN, EINPROGRESS, EMFILE, ENOBUFS, ENOMEM, EADDRINUSE, EADDRNOTAVAIL, EINVAL, ENETUNREACH, EHOSTUNREACH,
  ETIMEDOUT, ECONNRESET, ECONNREFUSED, EPIPE, ENOTCONN, EBADF, ECONNABORTED,
} from '../core/errno';
import { parseIp } from '../link/ifaddr';
import { s32 } from '../core/bits';
import {
  socket, bind, listen, accept, connect, send, sendto, recv, recvfrom, recvLen, close, setsockopt,
  SOCK_STREAM, SOCK_DGRAM, IPPROTO_TCP, IPPROTO_UDP, SOL_SOCKET, SO_BROADCAST,
} from './socket';
import { TCP_SYN_SENT, TCP_ESTABLISHED } from '../transport/tcp/tcp';
import { FEATURE_TCP } from '../features';

/* SocketType (libs/network/network.h) */
export const ST_NORMAL = 0;
export const ST_HTTP = 1;
export const ST_UDP = 2;
export const ST_TYPE_MASK = 3;
export const ST_TLS = 4;

/* SocketError (libs/network/socketerrors.h) */
export const SOCKET_ERR_CLOSED = -1;
export const SOCKET_ERR_MEM = -2;
export const SOCKET_ERR_TIMEOUT = -3;
export const SOCKET_ERR_NO_ROUTE = -4;
export const SOCKET_ERR_BUSY = -5;
export const SOCKET_ERR_NOT_FOUND = -6;
export const SOCKET_ERR_MAX_SOCK = -7;
export const SOCKET_ERR_UNSENT_DATA = -8;
export const SOCKET_ERR_RESET = -9;
export const SOCKET_ERR_UNKNOWN = -10;
export const SOCKET_ERR_NO_CONN = -11;
export const SOCKET_ERR_BAD_ARG = -12;

/** bytes of JsNetUDPPacketHeader */
export const UDP_HEADER_LEN = 8;

/** A -errno of the socket API as an Espruino SocketError. */
export function socketErrorOf(rc: number): number {
  switch (-rc) {
    case EMFILE:
    case ENOBUFS:
      return SOCKET_ERR_MAX_SOCK;
    case ENOMEM:
      return SOCKET_ERR_MEM;
    case EADDRINUSE:
      return SOCKET_ERR_BUSY;
    case EADDRNOTAVAIL:
    case EINVAL:
      return SOCKET_ERR_BAD_ARG;
    case ENETUNREACH:
    case EHOSTUNREACH:
      return SOCKET_ERR_NO_ROUTE;
    case ETIMEDOUT:
      return SOCKET_ERR_TIMEOUT;
    case ECONNRESET:
    case ECONNREFUSED: // a RST answered our SYN
    case ECONNABORTED:
      return SOCKET_ERR_RESET;
    case EPIPE:
    case EBADF:
      return SOCKET_ERR_CLOSED;
    case ENOTCONN:
      return SOCKET_ERR_NO_CONN;
  }
  return SOCKET_ERR_UNKNOWN;
}

/** The object NetworkJS.create expects (the names are Espruino's: kept by the bundle). */
export interface NetworkJsObject {
  create(host: string | undefined | null, port: number, socketType?: number, options?: unknown): number;
  close(sckt: number): void;
  accept(sckt: number): number;
  recv(sckt: number, maxLen: number, socketType?: number): string | number;
  send(sckt: number, data: string, socketType?: number): number;
}

function isUdp(socketType: number | undefined): boolean {
  return typeof socketType === 'number' && (socketType & ST_TYPE_MASK) === ST_UDP;
}

export class NetworkJs implements NetworkJsObject, NameHandler {
  readonly st: Stack;
  /** listen backlog of server sockets */
  backlog: number;
  private buf = new Uint8Array(0);
  private readonly from = new Int32Array(2);
  /** per fd: the resolver handle of its name lookup (-1 while resolveWith runs, 0 = none) */
  private readonly look: Int32Array;
  /** per fd: the port to connect to once the name is resolved */
  private readonly lookPort: Int32Array;
  /** per fd: the SocketError a failed lookup or connect left (0 = none) */
  private readonly lookErr: Int32Array;

  constructor(st: Stack, backlog?: number) {
    this.st = st;
    this.backlog = typeof backlog === 'number' && backlog > 0 ? backlog : 4;
    const n = st.cfg.maxSockets;
    this.look = new Int32Array(n);
    this.lookPort = new Int32Array(n);
    this.lookErr = new Int32Array(n);
  }

  private scratch(n: number): Uint8Array {
    if (this.buf.length < n) this.buf = new Uint8Array(n < 536 ? 536 : n);
    return this.buf;
  }

  create(host: string | undefined | null, port: number, socketType?: number, _options?: unknown): number {
    const st = this.st;
    const t = typeof socketType === 'number' ? socketType : ST_NORMAL;
    if ((t & ST_TLS) !== 0) return SOCKET_ERR_BAD_ARG; // no TLS here
    if (typeof port !== 'number' || port < 0 || port > 65535 || Math.floor(port) !== port) return SOCKET_ERR_BAD_ARG;
    const server = host === undefined || host === null;
    let addr = 0;
    let byName = false;
    if (!server) {
      const a = parseIp(host as string);
      if (a !== null) addr = a;
      else if (st.resolver !== null && !isUdp(t) && typeof host === 'string') byName = true;
      else return SOCKET_ERR_NOT_FOUND;
    }
    if (isUdp(t)) {
      const fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
      if (fd < 0) return socketErrorOf(fd);
      setsockopt(st, fd, SOL_SOCKET, SO_BROADCAST, 1);
      // a server binds its port; a client gets an ephemeral port (each send names its peer)
      const rc = bind(st, fd, 0, server ? port : 0);
      if (rc < 0) {
        close(st, fd);
        return socketErrorOf(rc);
      }
      return fd;
    }
    if (!FEATURE_TCP) return SOCKET_ERR_BAD_ARG;
    const fd = socket(st, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) return socketErrorOf(fd);
    this.look[fd] = 0;
    this.lookErr[fd] = 0;
    if (byName) return this.lookupThenConnect(fd, host as string, port);
    let rc: number;
    if (server) {
      rc = bind(st, fd, 0, port);
      if (rc === 0) rc = listen(st, fd, this.backlog);
    } else {
      rc = connect(st, fd, addr, port);
      if (rc === -EINPROGRESS) rc = 0;
    }
    if (rc < 0) {
      close(st, fd);
      return socketErrorOf(rc);
    }
    return fd;
  }

  /** A TCP client to a host name: look it up, connect in onResolved. Returns fd or a SocketError. */
  private lookupThenConnect(fd: number, name: string, port: number): number {
    const r = this.st.resolver as NameResolver;
    this.lookPort[fd] = port;
    this.look[fd] = -1;
    const hd = r.resolveWith(name, this, fd);
    if (this.look[fd] === -1) {
      // not answered inside resolveWith (a cache hit would have been)
      if (hd <= 0) {
        this.look[fd] = 0;
        close(this.st, fd);
        return SOCKET_ERR_NOT_FOUND;
      }
      this.look[fd] = hd;
    }
    return fd;
  }

  /** The resolver's answer for the name of socket fd (NameHandler: from a stack timer, or inside resolveWith). */
  onResolved(fd: number, err: number, addr: number, _ttl: number): void {
    this.look[fd] = 0;
    if (err !== 0) {
      this.lookErr[fd] = err === EAI_AGAIN || err === EAI_NOSERVERS ? SOCKET_ERR_TIMEOUT : SOCKET_ERR_NOT_FOUND;
      return;
    }
    const rc = connect(this.st, fd, addr, this.lookPort[fd]);
    if (rc < 0 && rc !== -EINPROGRESS) this.lookErr[fd] = socketErrorOf(rc);
  }

  /** A socket whose name is being looked up (NO_CONN) or whose lookup failed (its SocketError); 0 otherwise. */
  private lookState(fd: number): number {
    if (fd < 0 || fd >= this.look.length) return 0;
    return this.look[fd] !== 0 ? SOCKET_ERR_NO_CONN : this.lookErr[fd];
  }

  close(sckt: number): void {
    if (sckt >= 0 && sckt < this.look.length) {
      const r = this.st.resolver;
      if (this.look[sckt] > 0 && r !== null) r.cancel(this.look[sckt]);
      this.look[sckt] = 0;
      this.lookErr[sckt] = 0;
    }
    close(this.st, sckt);
  }

  accept(sckt: number): number {
    // Espruino's socket server asks every idle turn (hundreds of times per HTTP
    // exchange): the usual answer, nothing queued, without the socket API's walk
    if (FEATURE_TCP && this.idle(sckt) && this.st.tcp.acceptHead[this.st.sock.tcb[sckt]] < 0) return -1;
    const r = accept(this.st, sckt, null);
    return r >= 0 ? r : -1;
  }

  /** A stream fd with a TCB whose state only the slow paths change (no name lookup pending or failed). */
  private idle(fd: number): boolean {
    const st = this.st;
    return fd >= 0 && fd < this.look.length && st.sock.type[fd] === SOCK_STREAM && st.sock.tcb[fd] >= 0 && this.look[fd] === 0 && this.lookErr[fd] === 0;
  }

  recv(sckt: number, maxLen: number, socketType?: number): string | number {
    const st = this.st;
    const max = typeof maxLen === 'number' && maxLen > 0 ? Math.floor(maxLen) : 536;
    if (isUdp(socketType)) {
      if (max <= UDP_HEADER_LEN) return SOCKET_ERR_BAD_ARG;
      const n = recvLen(st, sckt);
      if (n === -EAGAIN) return '';
      if (n < 0) return socketErrorOf(n);
      const b = this.scratch(max);
      const r = recvfrom(st, sckt, b, UDP_HEADER_LEN, max - UDP_HEADER_LEN, this.from);
      if (r === -EAGAIN) return '';
      if (r < 0) return socketErrorOf(r);
      const a = s32(this.from[0]);
      b[0] = (a >>> 24) & 0xff;
      b[1] = (a >>> 16) & 0xff;
      b[2] = (a >>> 8) & 0xff;
      b[3] = a & 0xff;
      b[4] = this.from[1] & 0xff;
      b[5] = (this.from[1] >>> 8) & 0xff;
      b[6] = r & 0xff;
      b[7] = (r >>> 8) & 0xff;
      return bytesToString(b, UDP_HEADER_LEN + r);
    }
    // the usual answer of an idle poll, cheaply: established, nothing to read
    if (FEATURE_TCP && this.idle(sckt)) {
      const t = st.sock.tcb[sckt];
      if (st.tcp.rcvCount[t] === 0 && st.tcp.state[t] === TCP_ESTABLISHED && st.sock.err[sckt] === 0) return '';
    }
    const ls = this.lookState(sckt);
    if (ls !== 0) return ls;
    const b = this.scratch(max);
    const r = recv(st, sckt, b, 0, max);
    if (r > 0) return bytesToString(b, r);
    if (r === 0) return SOCKET_ERR_CLOSED; // the peer's FIN, everything read
    if (r === -EAGAIN) {
      // still connecting: tell socketserver.c it is not connected yet (no 'connect' event)
      return stillConnecting(st, sckt) ? SOCKET_ERR_NO_CONN : '';
    }
    return socketErrorOf(r);
  }

  send(sckt: number, data: string, socketType?: number): number {
    const st = this.st;
    if (typeof data !== 'string') return SOCKET_ERR_BAD_ARG;
    if (isUdp(socketType)) {
      if (data.length < UDP_HEADER_LEN) return SOCKET_ERR_BAD_ARG;
      const addr = s32(
        ((data.charCodeAt(0) & 0xff) << 24) | ((data.charCodeAt(1) & 0xff) << 16) | ((data.charCodeAt(2) & 0xff) << 8) | (data.charCodeAt(3) & 0xff),
      );
      const port = (data.charCodeAt(4) & 0xff) | ((data.charCodeAt(5) & 0xff) << 8);
      let len = (data.charCodeAt(6) & 0xff) | ((data.charCodeAt(7) & 0xff) << 8);
      if (len > data.length - UDP_HEADER_LEN) len = data.length - UDP_HEADER_LEN;
      const b = this.scratch(len);
      stringToBytes(data, UDP_HEADER_LEN, b, len);
      const r = sendto(st, sckt, b, 0, len, addr, port);
      if (r === -EAGAIN) return 0;
      if (r < 0) return socketErrorOf(r);
      return UDP_HEADER_LEN + len;
    }
    const ls = this.lookState(sckt);
    if (ls !== 0) return ls === SOCKET_ERR_NO_CONN ? 0 : ls;
    const n = data.length;
    const b = this.scratch(n < 536 ? 536 : n);
    stringToBytes(data, 0, b, n);
    const r = send(st, sckt, b, 0, n);
    if (r === -EAGAIN) return 0; // connecting, or the send buffer is full: Espruino retries
    if (r < 0) return socketErrorOf(r);
    return r;
  }
}

/** A stream fd whose connect has not finished (SYN sent, no answer yet). */
function stillConnecting(st: Stack, fd: number): boolean {
  if (!FEATURE_TCP || st.sock.type[fd] !== SOCK_STREAM) return false;
  const t = st.sock.tcb[fd];
  return t >= 0 && st.tcp.state[t] === TCP_SYN_SENT;
}

/*
 * Espruino's native conversions (E.toString of a Uint8Array view, E.toUint8Array
 * of a string): one call instead of an interpreted step per byte (a 536-byte
 * chunk: ~3 ms of loop on a server CPU, far more on a board). Elsewhere (Node,
 * Lua) and when Espruino cannot make a flat string (E.toString gives
 * undefined), the byte loops below.
 */
declare const E: { toString(b: Uint8Array): string | undefined; toUint8Array(s: string): Uint8Array } | undefined;

/** len bytes of the binary string data from index off into b[0..len). */
function stringToBytes(data: string, off: number, b: Uint8Array, len: number): void {
  if (typeof E !== 'undefined' && len > 0) {
    b.set(E.toUint8Array(off === 0 && data.length === len ? data : data.substring(off, off + len)), 0);
    return;
  }
  for (let i = 0; i < len; i++) b[i] = data.charCodeAt(off + i) & 0xff;
}

/** Bytes b[0..n) as a binary string (one char per byte), the way Espruino holds data. */
function bytesToString(b: Uint8Array, n: number): string {
  if (typeof E !== 'undefined') {
    const s = E.toString(b.subarray(0, n));
    if (typeof s === 'string') return s;
  }
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The adapter for st: require("NetworkJS").create(networkJs(st)). */
export function networkJs(st: Stack, backlog?: number): NetworkJs {
  return new NetworkJs(st, backlog);
}
