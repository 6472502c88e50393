/*
 * socket.ts — the zero-allocation socket API (the BSD calls of
 * net/socket.c + inet_dgram_ops / inet_sockraw_ops / inet_stream_ops), for
 * SOCK_DGRAM (UDP), SOCK_RAW (raw IPv4) and SOCK_STREAM (TCP, behind
 * FEATURE_TCP: src/transport/tcp/tcp_api.ts does the work).
 *
 * One fd table (cfg.maxSockets) for every type, as in Linux: a stream fd's
 * slot names its TCB (st.sock.tcb[fd]) and the TCB carries the fd
 * (tcpSetFd), so TCP readiness (EV_READABLE, EV_WRITABLE, EV_CONNECTED,
 * EV_CLOSED, EV_ERROR) reaches st.events with the fd. Stream calls:
 * listen, accept (→ new fd, peer in out[0..1], or -EAGAIN), connect
 * (-EINPROGRESS, then EV_CONNECTED or EV_ERROR with SO_ERROR set),
 * send/recv (recv 0 = end of stream; sendto/recvfrom ignore the address
 * as Linux does), shutdown, close (graceful; SO_LINGER 0 = RST). Wrong
 * use answers what Linux answers: listen/accept on a datagram socket
 * -EOPNOTSUPP, send on an unconnected stream -EPIPE, recv -ENOTCONN.
 *
 * Place in the packet path: the top. Applications call these; they call
 * udpSendmsg / rawSendmsg down the send path and read the receive queues
 * that udpRcv / rawLocalDeliver fill (src/socket/sock.ts).
 *
 * Every call takes the stack first and returns a number: >= 0 on success
 * (an fd, a byte count, an option value), -errno on failure (Linux
 * values, src/core/errno.ts). Wrong use (bad fd, wrong socket type,
 * offsets outside the buffer, out-of-range addresses) returns -EBADF /
 * -EINVAL / ... and never throws. Nothing allocates.
 *
 * Addresses are 32-bit numbers in host order: arguments may be unsigned or
 * signed (s32, the internal form; normalized here). Outputs (recvfrom's
 * from[0], getsockname/getpeername out[0]) are written in the UNSIGNED
 * form into the caller's Uint32Array or Int32Array. In JavaScript an
 * Int32Array converts them to s32; the Lua typed-array shim does not
 * convert plain writes, so there both array types hold the unsigned form.
 * Zero-allocation applications that pass the address back (an echo
 * server) should use an Int32Array on V8: an unsigned value >= 2^31 read
 * from a Uint32Array is boxed when passed to a function; all entry points
 * accept either form.
 * Ports are numbers.
 * Readiness: st.emit(fd, EV_READABLE) when a datagram lands on an empty
 * receive queue, EV_ERROR when an error becomes pending; poll() gives
 * the current mask.
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { copyBytes, get16 } from '../core/bytes';
import { s32, u32 } from '../core/bits';
import { getAddr, INADDR_NONE } from '../core/inaddr';
import {
  EBADF, EINVAL, EFAULT, EMFILE, EPROTONOSUPPORT, EAGAIN, EADDRNOTAVAIL, EACCES, ENOPROTOOPT, ENOTCONN,
  EDESTADDRREQ, ENETUNREACH, ENODEV, EOPNOTSUPP, EPIPE, ENOBUFS,
} from '../core/errno';
import {
  SocketTable, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_IP, IPPROTO_UDP, IPPROTO_RAW, SOL_SOCKET,
  SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_BINDTODEVICE, SOL_IP, IP_TOS, IP_TTL, IP_HDRINCL,
  SS_FREE, SS_OPEN, SF_BROADCAST, SF_REUSEADDR, SF_HDRINCL, SF_AUTOADDR, SF_KEEPALIVE, SOCK_MIN_RCVBUF,
  SK_EV_READABLE, SK_EV_WRITABLE, SK_EV_ERROR, IPPROTO_TCP, SO_KEEPALIVE, SO_LINGER, SOL_TCP,
  SHUT_RD, SHUT_RDWR,
} from './sock';
import { udpGetPort, udpSendmsg, udpSource, isBroadcastAddr } from '../transport/udp';
import { rawSendmsg } from '../transport/raw';
import { FEATURE_RAW, FEATURE_TCP } from '../features';
import {
  tcpSocket, tcpSetFd, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpShutdown, tcpClose,
  tcpSetsockopt, tcpGetsockopt, tcpGetsockname, tcpGetpeername, tcpPoll, tcpReadable, tcpOutq, tcpSndWnd,
} from '../transport/tcp/tcp_api';
import { TCP_SYN_SENT, TCP_SYN_RECV } from '../transport/tcp/tcp';
import { initTcp } from '../transport/tcp/tcp_ipv4';
import { IP_SADDR } from '../ipv4/ip';

export { SocketTable };
export {
  SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_IP, IPPROTO_UDP, IPPROTO_RAW, SOL_SOCKET, SO_REUSEADDR, SO_TYPE,
  SO_ERROR, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_BINDTODEVICE, SOL_IP, IP_TOS, IP_TTL, IP_HDRINCL,
};
export { IPPROTO_ICMP, IPPROTO_TCP, INADDR_ANY, INADDR_BROADCAST } from './sock';
export {
  SO_KEEPALIVE, SO_LINGER, SOL_TCP, TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
  SHUT_RD, SHUT_WR, SHUT_RDWR,
} from './sock';

/**
 * TCP state on the stack (st.tcp), created on first use until src/stack.ts
 * creates it in its constructor (then this is a no-op).
 */
export function ensureTcp(st: Stack): void {
  if ((st as unknown as { tcp: unknown }).tcp === undefined) initTcp(st);
}

/** scratch for tcpGetsockname / tcpGetpeername (their s32 addresses → unsigned outputs) */
const nameScratch = new Int32Array(2);

export function initSockets(st: Stack): SocketTable {
  return new SocketTable(st);
}

function isInt(v: number, lo: number, hi: number): boolean {
  return typeof v === 'number' && v >= lo && v <= hi && Math.floor(v) === v;
}

/** An IPv4 address argument: signed (s32, internal form) or unsigned. */
function isAddr(v: number): boolean {
  return isInt(v, -0x80000000, 0xffffffff);
}

/** -errno when buf[off..off+len) is not a valid range, else 0. */
function checkBuf(buf: Uint8Array, off: number, len: number): number {
  if (buf === null || buf === undefined || typeof buf.length !== 'number') return -EFAULT;
  if (!isInt(off, 0, buf.length) || !isInt(len, 0, buf.length) || off + len > buf.length) return -EINVAL;
  return 0;
}

function validFd(st: Stack, fd: number): boolean {
  return st.sock.valid(fd);
}

/** Take the pending error (sock_error): -errno, or 0 when none. */
export function sockErr(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) {
    const te = tcpGetsockopt(st, st.sock.tcb[fd], SOL_SOCKET, SO_ERROR);
    return te > 0 ? -te : 0;
  }
  const e = st.sock.err[fd];
  st.sock.err[fd] = 0;
  return e !== 0 ? -e : 0;
}

/** A free fd slot, or -1. */
function freeSlot(st: Stack): number {
  const s = st.sock;
  for (let i = 0; i < s.max; i++) if (s.state[i] === SS_FREE) return i;
  return -1;
}

/** Fill slot fd for a stream socket backed by TCB t. */
function streamSlot(st: Stack, fd: number, t: number): void {
  const s = st.sock;
  s.state[fd] = SS_OPEN;
  s.type[fd] = SOCK_STREAM;
  s.proto[fd] = IPPROTO_TCP;
  s.laddr[fd] = 0;
  s.lport[fd] = 0;
  s.raddr[fd] = 0;
  s.rport[fd] = 0;
  s.connected[fd] = 0;
  s.err[fd] = 0;
  s.flags[fd] = 0;
  s.ttl[fd] = -1;
  s.tos[fd] = 0;
  s.oif[fd] = -1;
  s.linger[fd] = -1;
  s.tcb[fd] = t;
  tcpSetFd(st, t, fd);
  s.open++;
}

/** socket(AF_INET, SOCK_STREAM, 0 | IPPROTO_TCP) */
function streamSocket(st: Stack, proto: number): number {
  if (proto !== IPPROTO_IP && proto !== IPPROTO_TCP) return -EPROTONOSUPPORT;
  ensureTcp(st);
  const fd = freeSlot(st);
  if (fd < 0) return -EMFILE;
  const t = tcpSocket(st);
  if (t < 0) return -ENOBUFS;
  streamSlot(st, fd, t);
  return fd;
}

/**
 * socket(2). type SOCK_DGRAM (proto 0 or IPPROTO_UDP), SOCK_RAW (proto
 * 1..255) or SOCK_STREAM (proto 0 or IPPROTO_TCP; -EPROTONOSUPPORT without
 * FEATURE_TCP, -ENOBUFS when every TCB is in use). Returns fd.
 */
export function socket(st: Stack, type: number, proto: number): number {
  if (type === SOCK_STREAM) return FEATURE_TCP ? streamSocket(st, proto) : -EPROTONOSUPPORT;
  if (type !== SOCK_DGRAM && (type !== SOCK_RAW || !FEATURE_RAW)) return -EINVAL; // raw: src/features.ts
  if (type === SOCK_DGRAM && proto !== IPPROTO_IP && proto !== IPPROTO_UDP) return -EPROTONOSUPPORT;
  if (type === SOCK_RAW && !isInt(proto, 1, 255)) return -EPROTONOSUPPORT;
  const s = st.sock;
  const fd = freeSlot(st);
  if (fd < 0) return -EMFILE;
  s.state[fd] = SS_OPEN;
  s.type[fd] = type;
  s.proto[fd] = type === SOCK_DGRAM ? IPPROTO_UDP : proto;
  s.laddr[fd] = 0;
  s.lport[fd] = 0;
  s.raddr[fd] = 0;
  s.rport[fd] = 0;
  s.connected[fd] = 0;
  s.err[fd] = 0;
  s.flags[fd] = type === SOCK_RAW && proto === IPPROTO_RAW ? SF_HDRINCL : 0;
  s.ttl[fd] = -1;
  s.tos[fd] = 0;
  s.rcvbuf[fd] = st.cfg.sockRcvBufBytes;
  s.oif[fd] = -1;
  s.linger[fd] = -1;
  s.tcb[fd] = -1;
  s.rcvq[fd].limit = st.cfg.sockRcvQueueLen;
  s.open++;
  return fd;
}

/** An address a socket may bind to: any, a local address, or a broadcast address. */
function bindableAddr(st: Stack, addr: number): boolean {
  return addr === 0 || st.ifaddr.isLocal(addr) || isBroadcastAddr(st, addr);
}

/** bind(2). port 0 = an ephemeral port (UDP). Returns 0 or -errno. */
export function bind(st: Stack, fd: number, addr0: number, port: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (!isAddr(addr0) || !isInt(port, 0, 0xffff)) return -EINVAL;
  const addr = s32(addr0);
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) return tcpBind(st, s.tcb[fd], addr, port);
  if (!bindableAddr(st, addr)) return -EADDRNOTAVAIL;
  if (s.type[fd] === SOCK_RAW) {
    s.laddr[fd] = addr;
    return 0;
  }
  if (s.lport[fd] !== 0) return -EINVAL; // already bound
  s.laddr[fd] = addr;
  const r = udpGetPort(st, fd, addr, port);
  if (r < 0) {
    s.laddr[fd] = 0;
    return r;
  }
  s.flags[fd] &= ~SF_AUTOADDR;
  return 0;
}

/** connect(2): set the default peer and filter incoming datagrams. addr 0 disconnects. */
export function connect(st: Stack, fd: number, addr0: number, port: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (!isAddr(addr0) || !isInt(port, 0, 0xffff)) return -EINVAL;
  const addr = s32(addr0);
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) return tcpConnect(st, s.tcb[fd], addr, port);
  if (addr === 0) {
    s.connected[fd] = 0;
    s.raddr[fd] = 0;
    s.rport[fd] = 0;
    if ((s.flags[fd] & SF_AUTOADDR) !== 0) {
      s.laddr[fd] = 0;
      s.flags[fd] &= ~SF_AUTOADDR;
    }
    return 0;
  }
  if ((s.flags[fd] & SF_BROADCAST) === 0 && isBroadcastAddr(st, addr)) return -EACCES;
  if (s.type[fd] === SOCK_RAW) {
    s.raddr[fd] = addr;
    s.connected[fd] = 1;
    return 0;
  }
  if (port === 0) return -EINVAL;
  if (s.lport[fd] === 0) {
    const r = udpGetPort(st, fd, s.laddr[fd], 0);
    if (r < 0) return r;
  }
  if (s.laddr[fd] === 0) {
    const sa = udpSource(st, fd, addr);
    if (sa === INADDR_NONE || sa === 0) return -ENETUNREACH;
    s.laddr[fd] = sa;
    s.flags[fd] |= SF_AUTOADDR;
  }
  s.raddr[fd] = addr;
  s.rport[fd] = port;
  s.connected[fd] = 1;
  return 0;
}

/**
 * sendto(2): send buf[off..off+len) as one datagram to addr:port (addr 0 =
 * the connected peer). Returns len or -errno (a pending error first).
 */
export function sendto(st: Stack, fd: number, buf: Uint8Array, off: number, len: number, addr: number, port: number): number {
  if (!validFd(st, fd)) return -EBADF;
  const cb = checkBuf(buf, off, len);
  if (cb < 0) return cb;
  if (!isAddr(addr) || !isInt(port, 0, 0xffff)) return -EINVAL;
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) return streamSend(st, fd, buf, off, len);
  const e = s.err[fd];
  if (e !== 0) {
    s.err[fd] = 0;
    return -e;
  }
  let da = s32(addr);
  let dp = port;
  if (da === 0) {
    if (s.connected[fd] === 0) return -EDESTADDRREQ;
    da = s.raddr[fd];
    dp = s.rport[fd];
  }
  if (FEATURE_RAW && s.type[fd] === SOCK_RAW) return rawSendmsg(st, fd, buf, off, len, da);
  return udpSendmsg(st, fd, buf, off, len, da, dp);
}

/**
 * tcp_sendmsg for a stream fd (the address of sendto is ignored, as in
 * Linux): bytes taken (possibly fewer than len), -EAGAIN while connecting
 * or when the send buffer is full, -EPIPE when not connected or shut down.
 */
function streamSend(st: Stack, fd: number, buf: Uint8Array, off: number, len: number): number {
  const t = st.sock.tcb[fd];
  const tp = st.tcp;
  const ts = tp.state[t];
  if (tp.err[t] === 0 && (ts === TCP_SYN_SENT || ts === TCP_SYN_RECV)) return -EAGAIN; // sk_stream_wait_connect
  const r = tcpSend(st, t, buf, off, len);
  return r === -ENOTCONN ? -EPIPE : r;
}

/** send(2): sendto the connected peer. */
export function send(st: Stack, fd: number, buf: Uint8Array, off: number, len: number): number {
  return sendto(st, fd, buf, off, len, 0, 0);
}

/**
 * recvfrom(2), non-blocking: copy the next datagram (UDP: its payload;
 * raw: the whole IP datagram from the IP header) into buf[off..off+len).
 * Bytes beyond len are discarded (MSG_TRUNC semantics). from (optional,
 * length >= 2) receives [source address, source port]. Returns the bytes
 * copied, -EAGAIN when nothing is queued, or a pending error.
 */
export function recvfrom(st: Stack, fd: number, buf: Uint8Array, off: number, len: number, from: Uint32Array | Int32Array | null): number {
  if (!validFd(st, fd)) return -EBADF;
  const cb = checkBuf(buf, off, len);
  if (cb < 0) return cb;
  if (from !== null && from !== undefined && from.length < 2) return -EINVAL;
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) return tcpRecv(st, s.tcb[fd], buf, off, len); // from: untouched
  const e = s.err[fd];
  if (e !== 0) {
    s.err[fd] = 0;
    return -e;
  }
  const skb = s.rcvq[fd].dequeue();
  if (skb === SKB_NONE) return -EAGAIN;
  const p = st.pool;
  const b = p.buf[skb];
  const d = p.data[skb];
  const dlen = p.tail[skb] - d;
  const n = dlen < len ? dlen : len;
  copyBytes(buf, off, b, d, n);
  if (from !== null && from !== undefined) {
    from[0] = u32(getAddr(b, p.nh[skb] + IP_SADDR)); // unsigned; an Int32Array converts (see header)
    from[1] = s.type[fd] === SOCK_DGRAM ? get16(b, p.th[skb]) : 0;
  }
  p.free(skb);
  return n;
}

/** recv(2). */
export function recv(st: Stack, fd: number, buf: Uint8Array, off: number, len: number): number {
  return recvfrom(st, fd, buf, off, len, null);
}

/**
 * Size of the next queued datagram (FIONREAD on a datagram socket),
 * -EAGAIN when none; on a stream socket the unread bytes (0 when none).
 */
export function recvLen(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) return tcpReadable(st, st.sock.tcb[fd]);
  const h = st.sock.rcvq[fd].peek();
  if (h === SKB_NONE) return -EAGAIN;
  return st.pool.tail[h] - st.pool.data[h];
}

/**
 * SIOCOUTQ (ioctl(2) on a stream socket): bytes sent by the application
 * that the peer has not acknowledged yet; 0 on a datagram socket.
 */
export function sendQueueLen(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) return tcpOutq(st, st.sock.tcb[fd]);
  return 0;
}

/** A stream socket's send window as the peer last advertised it (bytes; 0: zero window), else -EOPNOTSUPP. */
export function sendWindow(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) return tcpSndWnd(st, st.sock.tcb[fd]);
  return -EOPNOTSUPP;
}

/**
 * close(2): free queued datagrams and return the slot. A stream socket
 * lets go of its TCB (tcpClose: FIN after the queued data, the TCB lives
 * on as an orphan until the protocol is done; RST when unread data is
 * left or SO_LINGER is 0; a listener resets its unaccepted children).
 */
export function close(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) {
    tcpClose(st, s.tcb[fd]);
    s.tcb[fd] = -1;
  }
  s.linger[fd] = -1;
  s.rcvq[fd].purge();
  s.state[fd] = SS_FREE;
  s.type[fd] = 0;
  s.proto[fd] = 0;
  s.laddr[fd] = 0;
  s.lport[fd] = 0;
  s.raddr[fd] = 0;
  s.rport[fd] = 0;
  s.connected[fd] = 0;
  s.err[fd] = 0;
  s.flags[fd] = 0;
  s.open--;
  return 0;
}

/** listen(2): a stream socket starts accepting (backlog clamped to 1 .. cfg.tcpAcceptQueue). */
export function listen(st: Stack, fd: number, backlog: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (!FEATURE_TCP || st.sock.type[fd] !== SOCK_STREAM) return -EOPNOTSUPP;
  if (typeof backlog !== 'number' || Math.floor(backlog) !== backlog) return -EINVAL;
  return tcpListen(st, st.sock.tcb[fd], backlog);
}

/**
 * accept(2), non-blocking: the oldest established connection of a
 * listening fd as a new fd, or -EAGAIN (-EINVAL when not listening,
 * -EMFILE when the fd table is full: the connection stays queued).
 * out (optional, length >= 2) receives [peer address (unsigned), peer port].
 */
export function accept(st: Stack, fd: number, out: Uint32Array | Int32Array | null): number {
  if (!validFd(st, fd)) return -EBADF;
  if (!FEATURE_TCP || st.sock.type[fd] !== SOCK_STREAM) return -EOPNOTSUPP;
  if (out !== null && out !== undefined && out.length < 2) return -EINVAL;
  const nfd = freeSlot(st);
  if (nfd < 0) return -EMFILE;
  const c = tcpAccept(st, st.sock.tcb[fd]);
  if (c < 0) return c;
  streamSlot(st, nfd, c);
  if (out !== null && out !== undefined && tcpGetpeername(st, c, nameScratch) === 0) {
    out[0] = u32(nameScratch[0]);
    out[1] = nameScratch[1];
  }
  return nfd;
}

/**
 * shutdown(2): how = SHUT_RD / SHUT_WR / SHUT_RDWR. A stream socket sends
 * its FIN after the queued data (SHUT_WR); a datagram socket must be
 * connected (-ENOTCONN) and nothing else happens.
 */
export function shutdown(st: Stack, fd: number, how: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (!isInt(how, SHUT_RD, SHUT_RDWR)) return -EINVAL;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) return tcpShutdown(st, st.sock.tcb[fd], how);
  return st.sock.connected[fd] !== 0 ? 0 : -ENOTCONN;
}

function setFlag(st: Stack, fd: number, bit: number, on: boolean): void {
  if (on) st.sock.flags[fd] |= bit;
  else st.sock.flags[fd] &= ~bit;
}

/** setsockopt(2) with an integer value. Returns 0 or -errno (-ENOPROTOOPT for unknown options). */
export function setsockopt(st: Stack, fd: number, level: number, opt: number, value: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (typeof value !== 'number' || Math.floor(value) !== value) return -EINVAL;
  const s = st.sock;
  const stream = FEATURE_TCP && s.type[fd] === SOCK_STREAM;
  if (level === SOL_TCP) return stream ? tcpSetsockopt(st, s.tcb[fd], SOL_TCP, opt, value) : -ENOPROTOOPT;
  if (level === SOL_SOCKET && opt === SO_LINGER) {
    if (value < -1) return -EINVAL;
    s.linger[fd] = value;
    return stream ? tcpSetsockopt(st, s.tcb[fd], SOL_SOCKET, SO_LINGER, value) : 0;
  }
  if (level === SOL_SOCKET && stream && (opt === SO_KEEPALIVE || opt === SO_SNDBUF || opt === SO_RCVBUF)) {
    if (value < 0) return -EINVAL;
    return tcpSetsockopt(st, s.tcb[fd], SOL_SOCKET, opt, value);
  }
  if (level === SOL_SOCKET) {
    switch (opt) {
      case SO_KEEPALIVE:
        setFlag(st, fd, SF_KEEPALIVE, value !== 0);
        return 0;
      case SO_RCVBUF:
        if (value < 0) return -EINVAL;
        s.rcvbuf[fd] = value < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : value > 0x7fffffff ? 0x7fffffff : value;
        return 0;
      case SO_SNDBUF:
        return value < 0 ? -EINVAL : 0; // sends are not buffered in the socket
      case SO_BROADCAST:
        setFlag(st, fd, SF_BROADCAST, value !== 0);
        return 0;
      case SO_REUSEADDR:
        setFlag(st, fd, SF_REUSEADDR, value !== 0);
        return 0;
      case SO_BINDTODEVICE:
        if (value !== -1 && !isInt(value, 0, st.link.devs.length - 1)) return -ENODEV;
        s.oif[fd] = value;
        return 0;
    }
    return -ENOPROTOOPT;
  }
  if (level === SOL_IP) {
    switch (opt) {
      case IP_TTL:
        if (value !== -1 && !isInt(value, 1, 255)) return -EINVAL;
        s.ttl[fd] = value;
        return 0;
      case IP_TOS:
        if (!isInt(value, 0, 255)) return -EINVAL;
        s.tos[fd] = value;
        return 0;
      case IP_HDRINCL:
        if (s.type[fd] !== SOCK_RAW) return -ENOPROTOOPT;
        setFlag(st, fd, SF_HDRINCL, value !== 0);
        return 0;
    }
    return -ENOPROTOOPT;
  }
  return -ENOPROTOOPT;
}

/**
 * getsockopt(2): returns the (non-negative) option value or -errno; also
 * stores it in out[0] when out is given. SO_ERROR reads and clears.
 */
export function getsockopt(st: Stack, fd: number, level: number, opt: number, out: Int32Array | Uint32Array | null): number {
  if (!validFd(st, fd)) return -EBADF;
  const s = st.sock;
  let v = -ENOPROTOOPT;
  const stream = FEATURE_TCP && s.type[fd] === SOCK_STREAM;
  if (level === SOL_TCP) {
    v = stream ? tcpGetsockopt(st, s.tcb[fd], SOL_TCP, opt) : -ENOPROTOOPT;
  } else if (level === SOL_SOCKET && opt === SO_LINGER) {
    v = s.linger[fd] >= 0 ? 1 : 0; // l_onoff; out[1] = l_linger
    if (out !== null && out !== undefined && out.length > 1) out[1] = s.linger[fd] >= 0 ? s.linger[fd] : 0;
  } else if (level === SOL_SOCKET && stream && (opt === SO_KEEPALIVE || opt === SO_SNDBUF || opt === SO_RCVBUF || opt === SO_ERROR)) {
    v = tcpGetsockopt(st, s.tcb[fd], SOL_SOCKET, opt);
  } else if (level === SOL_SOCKET) {
    switch (opt) {
      case SO_KEEPALIVE: v = (s.flags[fd] & SF_KEEPALIVE) !== 0 ? 1 : 0; break;
      case SO_TYPE: v = s.type[fd]; break;
      case SO_ERROR: v = s.err[fd]; s.err[fd] = 0; break;
      case SO_RCVBUF: v = s.rcvbuf[fd]; break;
      case SO_SNDBUF: v = st.pool.largeSize; break;
      case SO_BROADCAST: v = (s.flags[fd] & SF_BROADCAST) !== 0 ? 1 : 0; break;
      case SO_REUSEADDR: v = (s.flags[fd] & SF_REUSEADDR) !== 0 ? 1 : 0; break;
      case SO_BINDTODEVICE: v = s.oif[fd] >= 0 ? s.oif[fd] : -ENODEV; break; // -ENODEV: not bound
    }
  } else if (level === SOL_IP) {
    switch (opt) {
      case IP_TTL: v = s.ttl[fd] < 0 ? st.cfg.ipDefaultTtl : s.ttl[fd]; break;
      case IP_TOS: v = s.tos[fd]; break;
      case IP_HDRINCL:
        v = s.type[fd] !== SOCK_RAW ? -ENOPROTOOPT : (s.flags[fd] & SF_HDRINCL) !== 0 ? 1 : 0;
        break;
    }
  }
  if (v >= 0 && out !== null && out !== undefined && out.length > 0) out[0] = v;
  return v;
}

/** getsockname / getpeername: out[0] = address (written unsigned), out[1] = port. */
function sockName(st: Stack, fd: number, out: Uint32Array | Int32Array, peer: boolean): number {
  if (!validFd(st, fd)) return -EBADF;
  if (out === null || out === undefined || out.length < 2) return -EINVAL;
  const s = st.sock;
  if (FEATURE_TCP && s.type[fd] === SOCK_STREAM) {
    const r = peer ? tcpGetpeername(st, s.tcb[fd], nameScratch) : tcpGetsockname(st, s.tcb[fd], nameScratch);
    if (r < 0) return r;
    out[0] = u32(nameScratch[0]);
    out[1] = nameScratch[1];
    return 0;
  }
  if (peer && s.connected[fd] === 0) return -ENOTCONN;
  out[0] = u32(peer ? s.raddr[fd] : s.laddr[fd]);
  out[1] = peer ? s.rport[fd] : s.lport[fd];
  return 0;
}

/** getsockname(2): out[0] = local address, out[1] = local port. */
export function getsockname(st: Stack, fd: number, out: Uint32Array | Int32Array): number {
  return sockName(st, fd, out, false);
}

/** getpeername(2): out[0] = peer address, out[1] = peer port; -ENOTCONN when not connected. */
export function getpeername(st: Stack, fd: number, out: Uint32Array | Int32Array): number {
  return sockName(st, fd, out, true);
}

/**
 * poll(2): EV_READABLE | EV_WRITABLE | EV_ERROR mask, or -EBADF. A stream
 * socket adds EV_CLOSED once its connection is over; a listener is
 * readable when accept() has a connection.
 */
export function poll(st: Stack, fd: number): number {
  if (!validFd(st, fd)) return -EBADF;
  if (FEATURE_TCP && st.sock.type[fd] === SOCK_STREAM) return tcpPoll(st, st.sock.tcb[fd]);
  const s = st.sock;
  let m = SK_EV_WRITABLE;
  if (s.rcvq[fd].qlen > 0) m |= SK_EV_READABLE;
  if (s.err[fd] !== 0) m |= SK_EV_ERROR;
  return m;
}

/**
 * The same API as methods on one object bound to a stack, for callers
 * that hold a socket-API handle: api.sendto(fd, buf, off, len, addr, port).
 */
export class SocketApi {
  constructor(readonly st: Stack) {}
  socket(type: number, proto: number): number {
    return socket(this.st, type, proto);
  }
  bind(fd: number, addr: number, port: number): number {
    return bind(this.st, fd, addr, port);
  }
  connect(fd: number, addr: number, port: number): number {
    return connect(this.st, fd, addr, port);
  }
  sendto(fd: number, buf: Uint8Array, off: number, len: number, addr: number, port: number): number {
    return sendto(this.st, fd, buf, off, len, addr, port);
  }
  send(fd: number, buf: Uint8Array, off: number, len: number): number {
    return send(this.st, fd, buf, off, len);
  }
  recvfrom(fd: number, buf: Uint8Array, off: number, len: number, from: Uint32Array | Int32Array | null): number {
    return recvfrom(this.st, fd, buf, off, len, from);
  }
  recv(fd: number, buf: Uint8Array, off: number, len: number): number {
    return recv(this.st, fd, buf, off, len);
  }
  listen(fd: number, backlog: number): number {
    return listen(this.st, fd, backlog);
  }
  accept(fd: number, out: Uint32Array | Int32Array | null): number {
    return accept(this.st, fd, out);
  }
  shutdown(fd: number, how: number): number {
    return shutdown(this.st, fd, how);
  }
  recvLen(fd: number): number {
    return recvLen(this.st, fd);
  }
  close(fd: number): number {
    return close(this.st, fd);
  }
  setsockopt(fd: number, level: number, opt: number, value: number): number {
    return setsockopt(this.st, fd, level, opt, value);
  }
  getsockopt(fd: number, level: number, opt: number, out: Int32Array | Uint32Array | null): number {
    return getsockopt(this.st, fd, level, opt, out);
  }
  getsockname(fd: number, out: Uint32Array | Int32Array): number {
    return getsockname(this.st, fd, out);
  }
  getpeername(fd: number, out: Uint32Array | Int32Array): number {
    return getpeername(this.st, fd, out);
  }
  poll(fd: number): number {
    return poll(this.st, fd);
  }
  sockErr(fd: number): number {
    return sockErr(this.st, fd);
  }
}
