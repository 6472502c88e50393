/*
 * sock.ts — struct sock for datagram and raw sockets: one fixed table of
 * socket slots (cfg.maxSockets), shared by UDP (src/transport/udp.ts),
 * raw IPv4 (src/transport/raw.ts) and TCP (a SOCK_STREAM slot names its
 * TCB in tcb[fd]; the TCB's readiness events carry the fd), plus the socket-level constants of the
 * API (Linux values: SOCK_*, IPPROTO_*, SOL_SOCKET/SO_*, IP_*).
 *
 * Place in the packet path: the bottom of the socket layer. A transport
 * protocol hands a received skb to sockQueueRcv (sock_queue_rcv_skb): the
 * skb stays on the socket's bounded receive queue until recvfrom copies
 * it out and frees it. Nothing here allocates after start-up.
 *
 * Every socket's fields live in typed arrays indexed by its fd (a small
 * integer): no object per socket, no object per packet.
 */
import type { Stack } from '../stack';
import { SkbQueue, SKB_NONE } from '../core/skb';
import { copyBytes } from '../core/bytes';

/* socket types (include/linux/net.h) */
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

/* protocols (include/uapi/linux/in.h) */
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_RAW = 255;

/* socket options: level SOL_SOCKET (asm-generic/socket.h) */
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
/** value: l_linger seconds (0 = abortive close: RST), -1 = off; getsockopt gives l_onoff, out[1] = l_linger */
export const SO_LINGER = 13;
/** bind to a device: value = device index, -1 = none (Linux takes a name) */
export const SO_BINDTODEVICE = 25;
/* level IPPROTO_TCP (uapi/linux/tcp.h) */
export const SOL_TCP = 6;
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
/* shutdown(2) how */
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/* level IPPROTO_IP (uapi/linux/in.h) */
export const SOL_IP = 0;
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;

export { INADDR_ANY, INADDR_BROADCAST } from '../core/inaddr';

/* slot states */
export const SS_FREE = 0;
export const SS_OPEN = 1;

/* flag bits (sock_flag / inet bits) */
export const SF_BROADCAST = 1;
export const SF_REUSEADDR = 2;
export const SF_HDRINCL = 4;
/** laddr was filled in by connect(), not by bind(): cleared on disconnect */
export const SF_AUTOADDR = 8;
/** SO_KEEPALIVE on a datagram socket (recorded, no effect, as in Linux) */
export const SF_KEEPALIVE = 16;

/*
 * Readiness bits: the same values as EV_READABLE / EV_ERROR in
 * src/stack.ts (repeated here so this file needs no value import of the
 * stack module: no import cycle for the Lua build). test/unit/socket
 * checks they agree.
 */
export const SK_EV_READABLE = 1;
export const SK_EV_WRITABLE = 2;
export const SK_EV_CONNECTED = 4;
export const SK_EV_CLOSED = 8;
export const SK_EV_ERROR = 16;

/** smallest receive buffer SO_RCVBUF accepts (bytes) */
export const SOCK_MIN_RCVBUF = 64;

export class SocketTable {
  readonly max: number;
  readonly state: Uint8Array;
  readonly type: Uint8Array;
  readonly proto: Uint8Array;
  readonly laddr: Int32Array;
  readonly lport: Int32Array;
  readonly raddr: Int32Array;
  readonly rport: Int32Array;
  readonly connected: Uint8Array;
  /** pending error (positive errno), 0 = none (sk->sk_err) */
  readonly err: Int32Array;
  readonly flags: Uint8Array;
  /** IP_TTL, -1 = the stack default */
  readonly ttl: Int32Array;
  readonly tos: Uint8Array;
  /** SO_BINDTODEVICE: output device index, -1 = route */
  readonly oif: Int32Array;
  /** receive buffer limit in payload bytes (SO_RCVBUF) */
  readonly rcvbuf: Int32Array;
  /** sk_receive_queue, bounded by cfg.sockRcvQueueLen packets */
  readonly rcvq: SkbQueue[];
  /** SOCK_STREAM: the TCB behind the fd (src/transport/tcp/), -1 otherwise */
  readonly tcb: Int32Array;
  /** SOCK_STREAM: SO_LINGER seconds, -1 = off */
  readonly linger: Int32Array;
  open = 0;

  constructor(st: Stack) {
    const n = st.cfg.maxSockets;
    this.max = n;
    this.state = new Uint8Array(n);
    this.type = new Uint8Array(n);
    this.proto = new Uint8Array(n);
    this.laddr = new Int32Array(n);
    this.lport = new Int32Array(n);
    this.raddr = new Int32Array(n);
    this.rport = new Int32Array(n);
    this.connected = new Uint8Array(n);
    this.err = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.ttl = new Int32Array(n);
    this.tos = new Uint8Array(n);
    this.rcvbuf = new Int32Array(n);
    this.oif = new Int32Array(n);
    this.oif.fill(-1);
    this.tcb = new Int32Array(n);
    this.tcb.fill(-1);
    this.linger = new Int32Array(n);
    this.linger.fill(-1);
    this.rcvq = [];
    for (let i = 0; i < n; i++) this.rcvq.push(new SkbQueue(st.pool, st.cfg.sockRcvQueueLen));
  }

  /** fd names an open socket. */
  valid(fd: number): boolean {
    return typeof fd === 'number' && fd >= 0 && fd < this.max && Math.floor(fd) === fd && this.state[fd] === SS_OPEN;
  }
}

/**
 * sock_queue_rcv_skb: put skb (data at what recvfrom returns) on fd's
 * receive queue. Returns false when the queue or the byte budget is full
 * (the caller frees and counts). Emits EV_READABLE on empty → non-empty.
 */
export function sockQueueRcv(st: Stack, fd: number, skb: number): boolean {
  const s = st.sock;
  const q = s.rcvq[fd];
  const p = st.pool;
  // like __udp_enqueue_schedule_skb: an empty queue takes any datagram
  if (q.qlen > 0 && q.bytes + (p.tail[skb] - p.data[skb]) > s.rcvbuf[fd]) return false;
  const wasEmpty = q.qlen === 0;
  if (!q.enqueue(skb)) return false;
  if (wasEmpty) st.emit(fd, SK_EV_READABLE);
  return true;
}

/** sk_error_report: record a pending error (positive errno) and wake the owner. */
export function sockSetErr(st: Stack, fd: number, errno: number): void {
  st.sock.err[fd] = errno;
  st.emit(fd, SK_EV_ERROR);
}

/**
 * Copy skb's bytes from `from` (an offset in its buffer, e.g. pool.nh) to
 * its tail into a fresh skb (skb_clone without shared data). The copy's
 * data and nh are at the copied `from` byte; th keeps its distance.
 * Returns the copy or SKB_NONE when the pool is empty.
 */
export function skbCopyFrom(st: Stack, skb: number, from: number): number {
  const p = st.pool;
  const len = p.tail[skb] - from;
  if (len < 0) return SKB_NONE;
  const c = p.alloc(len);
  if (c === SKB_NONE) return SKB_NONE;
  const o = p.put(c, len);
  copyBytes(p.buf[c], o, p.buf[skb], from, len);
  p.nh[c] = o;
  p.th[c] = o + (p.th[skb] - from);
  p.dev[c] = p.dev[skb];
  p.proto[c] = p.proto[skb];
  p.cb3[c] = p.cb3[skb];
  return c;
}
