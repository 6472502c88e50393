/*
 * tcp_api.ts — the zero-allocation TCP calls behind SOCK_STREAM sockets
 * (net/ipv4/tcp.c: tcp_sendmsg, tcp_recvmsg, tcp_shutdown, tcp_close,
 * do_tcp_setsockopt; inet_stream_connect, inet_listen, inet_accept).
 *
 * Every call takes (st, t) where t is the TCB number returned by
 * tcpSocket / tcpAccept, and returns >= 0 or -errno. All calls are
 * non-blocking: tcpConnect answers -EINPROGRESS, tcpSend/tcpRecv/tcpAccept
 * answer -EAGAIN; readiness arrives through st.emit(fd, EV_*), where fd
 * is tp.fd[t] (t itself unless the socket layer set it with tcpSetFd).
 */
import type { Stack } from '../../stack';
import { s32 } from '../../core/bits';
import { inAddr } from '../../core/inaddr';
import { copyToRing, copyFromRing } from '../../core/bytes';
import {
  EINVAL, ENOBUFS, EADDRINUSE, EADDRNOTAVAIL, EISCONN, EALREADY, ENOTCONN, EPIPE, EAGAIN,
  EINPROGRESS, ENOPROTOOPT, EBADF, EOPNOTSUPP,
} from '../../core/errno';
import {
  TCP_FREE, TCP_CLOSE, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED, TCP_CLOSE_WAIT,
  TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_LAST_ACK, OWN_APP, OWN_ORPHAN, F_NODELAY, F_KEEPALIVE,
  F_LINGER0, F_LINGER, TCP_CLOSING, F_FIN_QUEUED, F_SND_SHUT, F_RCV_SHUT, F_CLOSED_APP, F_ACK_NOW, TX_ABORTONCLOSE,
  TX_ABORTONLINGER, TEV_READABLE, TEV_WRITABLE, TEV_ERROR, TEV_CLOSED, seqDiff, tcbAlloc, tcbFree,
  tcpSetState, tcpDone,
} from './tcp';
import {
  tcpWriteXmit, tcpSendActiveReset, tcpSendAck, tcpCanSend,
} from './tcp_output';
import { tcpV4Connect, tcpPickEphemeral, tcpPortInUse } from './tcp_ipv4';
import { reqPurgeListener } from './tcp_minisocks';
import { FEATURE_TCP_KEEPALIVE } from '../../features';

/* setsockopt levels and names (Linux values) */
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SOL_TCP = 6;
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_USER_TIMEOUT = 18;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

function valid(st: Stack, t: number): boolean {
  const tp = st.tcp;
  return t >= 0 && t < tp.n && tp.state[t] !== TCP_FREE && tp.owner[t] === OWN_APP;
}

/** socket(AF_INET, SOCK_STREAM, 0): a new TCB, or -ENOBUFS when the table is full. */
export function tcpSocket(st: Stack): number {
  const t = tcbAlloc(st);
  return t < 0 ? -ENOBUFS : t;
}

/** The socket layer's descriptor for readiness events on t. */
export function tcpSetFd(st: Stack, t: number, fd: number): number {
  if (!valid(st, t)) return -EBADF;
  st.tcp.fd[t] = fd;
  return 0;
}

/** bind: addr 0 = any local address; port 0 = an ephemeral port. */
export function tcpBind(st: Stack, t: number, addr: number, port: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  if (tp.state[t] !== TCP_CLOSE || tp.lport[t] !== 0) return -EINVAL;
  if (port < 0 || port > 65535) return -EINVAL;
  const a = inAddr(addr);
  if (a !== 0 && !st.ifaddr.isLocal(a)) return -EADDRNOTAVAIL;
  let p = port;
  if (p === 0) {
    p = tcpPickEphemeral(st, a);
    if (p === 0) return -EADDRINUSE;
  } else if (tcpPortInUse(st, a, p, t)) {
    return -EADDRINUSE;
  }
  tp.laddr[t] = a;
  tp.lport[t] = p;
  return 0;
}

/** listen: backlog clamped to 1 .. cfg.tcpAcceptQueue. */
export function tcpListen(st: Stack, t: number, backlog: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const s = tp.state[t];
  if (s !== TCP_CLOSE && s !== TCP_LISTEN) return -EINVAL;
  if (s === TCP_CLOSE && tp.rport[t] !== 0) return -EINVAL; // was connected
  let b = backlog;
  if (b < 1) b = 1;
  if (b > st.cfg.tcpAcceptQueue) b = st.cfg.tcpAcceptQueue;
  if (tp.lport[t] === 0) {
    const p = tcpPickEphemeral(st, tp.laddr[t]);
    if (p === 0) return -EADDRINUSE;
    tp.lport[t] = p;
  }
  tp.backlog[t] = b;
  tcpSetState(st, t, TCP_LISTEN);
  return 0;
}

/** accept: the oldest established child, or -EAGAIN. */
export function tcpAccept(st: Stack, t: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  if (tp.state[t] !== TCP_LISTEN) return -EINVAL;
  let prev = -1;
  let c = tp.acceptHead[t];
  while (c >= 0 && tp.state[c] === TCP_SYN_RECV) {
    prev = c;
    c = tp.acceptNext[c];
  }
  if (c < 0) return -EAGAIN;
  if (prev < 0) tp.acceptHead[t] = tp.acceptNext[c];
  else tp.acceptNext[prev] = tp.acceptNext[c];
  tp.acceptLen[t]--;
  tp.acceptNext[c] = -1;
  tp.parent[c] = -1;
  tp.owner[c] = OWN_APP;
  tp.fd[c] = c;
  return c;
}

/** connect: -EINPROGRESS when the SYN is out (EV_CONNECTED or EV_ERROR follows). */
export function tcpConnect(st: Stack, t: number, addr: number, port: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const s = tp.state[t];
  if (s === TCP_SYN_SENT || s === TCP_SYN_RECV) return -EALREADY;
  if (s === TCP_LISTEN) return -EINVAL;
  if (s !== TCP_CLOSE) return -EISCONN;
  if (tp.rport[t] !== 0) return -EISCONN; // a finished connection is not reused
  if (port <= 0 || port > 65535 || inAddr(addr) === 0) return -EINVAL;
  const r = tcpV4Connect(st, t, inAddr(addr), port);
  return r < 0 ? r : -EINPROGRESS;
}

/** Bytes that tcpSend would accept now. */
export function tcpSendSpace(st: Stack, t: number): number {
  const tp = st.tcp;
  const q = seqDiff(tp.writeSeq[t], tp.sndBase[t]);
  const r = tp.sndLimit[t] - q;
  return r > 0 ? r : 0;
}

/** tcp_sendmsg: copy up to len bytes into the send ring; bytes taken or -errno. */
export function tcpSend(st: Stack, t: number, buf: Uint8Array, off: number, len: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  if (tp.err[t] !== 0) {
    const e = tp.err[t];
    tp.err[t] = 0;
    return -e;
  }
  const s = tp.state[t];
  if ((tp.flags[t] & F_SND_SHUT) !== 0) return -EPIPE;
  if (s === TCP_CLOSE) return tp.rport[t] !== 0 ? -EPIPE : -ENOTCONN;
  if (s === TCP_LISTEN) return -ENOTCONN;
  if (len <= 0) return 0;
  const room = tcpSendSpace(st, t);
  if (room === 0) return -EAGAIN;
  const n = len < room ? len : room;
  const ring = tp.sndRing[t];
  copyToRing(ring, (tp.sndHead[t] + seqDiff(tp.writeSeq[t], tp.sndBase[t])) % ring.length, buf, off, n);
  tp.writeSeq[t] = s32(tp.writeSeq[t] + n);
  tcpWriteXmit(st, t);
  return n;
}

/** Unread in-order bytes. */
export function tcpReadable(st: Stack, t: number): number {
  return st.tcp.rcvCount[t];
}

/**
 * Bytes queued for the peer and not yet acknowledged (Linux SIOCOUTQ:
 * write_seq - snd_una): unsent plus in flight. A server watches it to tell
 * a stalled peer (zero window, or not ACKing) from an idle one.
 */
export function tcpOutq(st: Stack, t: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const q = seqDiff(tp.writeSeq[t], tp.sndUna[t]);
  return q > 0 ? q : 0;
}

/** The send window the peer last advertised (bytes; 0 = zero window, RFC 9293 §3.8.6.1). */
export function tcpSndWnd(st: Stack, t: number): number {
  if (!valid(st, t)) return -EBADF;
  return st.tcp.sndWnd[t];
}

/**
 * tcp_cleanup_rbuf: after the application read, tell the peer when the
 * window grew enough (from zero, or doubled) — RFC 9293 §3.8.6.2.2. Not
 * per call: only when the window can open by at least min(MSS, rcvbuf/2)
 * (RFC 1122 §4.2.3.3 receiver SWS avoidance, the same rule as
 * tcpSelectWindow) and to at least twice what is advertised (Linux
 * tcp_cleanup_rbuf), so a reader taking 1 byte a call makes one update per
 * threshold's worth of bytes (test/unit/tcp_rcvwnd.test.ts).
 */
function tcpCleanupRbuf(st: Stack, t: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if (s !== TCP_ESTABLISHED && s !== TCP_FIN_WAIT1 && s !== TCP_FIN_WAIT2) return;
  let cur = seqDiff(tp.rcvEdge[t], tp.rcvNxt[t]);
  if (cur < 0) cur = 0;
  const free = tp.rcvLimit[t] - tp.rcvCount[t];
  const half = Math.floor(tp.rcvLimit[t] / 2);
  const thresh = tp.advMss[t] < half ? tp.advMss[t] : half;
  if (free - cur >= thresh && free >= 2 * cur) {
    tp.flags[t] |= F_ACK_NOW;
    tcpSendAck(st, t);
  }
}

/** tcp_recvmsg: up to len bytes; 0 at end of stream; -EAGAIN when nothing yet. */
export function tcpRecv(st: Stack, t: number, buf: Uint8Array, off: number, len: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const avail = tp.rcvCount[t];
  if (avail > 0 && len > 0) {
    const n = len < avail ? len : avail;
    tp.rcvHead[t] = copyFromRing(buf, off, tp.rcvRing[t], tp.rcvHead[t], n);
    tp.rcvCount[t] = avail - n;
    tcpCleanupRbuf(st, t);
    return n;
  }
  if (len <= 0) return 0;
  if (tp.err[t] !== 0) {
    const e = tp.err[t];
    tp.err[t] = 0;
    return -e;
  }
  if ((tp.flags[t] & F_RCV_SHUT) !== 0) return 0;
  const s = tp.state[t];
  if (s === TCP_LISTEN || (s === TCP_CLOSE && tp.rport[t] === 0)) return -ENOTCONN;
  if (s === TCP_CLOSE) return 0;
  return -EAGAIN;
}

/** Queue our FIN after the data (tcp_close_state + tcp_send_fin). */
function tcpSendFin(st: Stack, t: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if ((tp.flags[t] & F_FIN_QUEUED) !== 0) return;
  if (s === TCP_ESTABLISHED || s === TCP_SYN_RECV) tcpSetState(st, t, TCP_FIN_WAIT1);
  else if (s === TCP_CLOSE_WAIT) tcpSetState(st, t, TCP_LAST_ACK);
  else return;
  tp.flags[t] |= F_FIN_QUEUED | F_SND_SHUT;
  tcpWriteXmit(st, t);
}

/** shutdown(how) */
export function tcpShutdown(st: Stack, t: number, how: number): number {
  if (!valid(st, t)) return -EBADF;
  if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
  const tp = st.tcp;
  const s = tp.state[t];
  if (s === TCP_LISTEN || s === TCP_CLOSE) return -ENOTCONN;
  if (how !== SHUT_WR) tp.flags[t] |= F_RCV_SHUT;
  if (how !== SHUT_RD) {
    if (s === TCP_SYN_SENT) {
      tcpDone(st, t);
      return 0;
    }
    tp.flags[t] |= F_SND_SHUT;
    tcpSendFin(st, t);
  }
  return 0;
}

/** Abort: RST to the peer (if synchronized) and CLOSE. */
function tcpAbort(st: Stack, t: number): void {
  const tp = st.tcp;
  const s = tp.state[t];
  if (s !== TCP_CLOSE && s !== TCP_LISTEN && s !== TCP_SYN_SENT) tcpSendActiveReset(st, t);
  tcpDone(st, t);
}

/**
 * tcp_close: the application lets go of t. A listener drops its SYN
 * queue and resets unaccepted children; unread data or SO_LINGER 0 means
 * an abortive close (RST, RFC 9293 §3.10.4 / RFC 2525 §2.17); otherwise
 * the FIN goes after the queued data and the TCB lives on as an orphan.
 * SO_LINGER > 0 (close never blocks here): what the peer has not
 * acknowledged l_linger seconds later is abandoned with a RST.
 */
export function tcpClose(st: Stack, t: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const s = tp.state[t];
  tp.flags[t] |= F_CLOSED_APP | F_RCV_SHUT;
  if (s === TCP_LISTEN) {
    reqPurgeListener(st, t);
    let c = tp.acceptHead[t];
    while (c >= 0) {
      const nx = tp.acceptNext[c];
      tcpAbort(st, c); // frees it (owner ACCEPTQ)
      c = nx;
    }
    tp.acceptHead[t] = -1;
    tp.acceptLen[t] = 0;
    tcbFree(st, t);
    return 0;
  }
  if (s === TCP_CLOSE || s === TCP_SYN_SENT) {
    tcbFree(st, t);
    return 0;
  }
  tp.owner[t] = OWN_ORPHAN;
  if (tp.rcvCount[t] > 0 || (tp.flags[t] & F_LINGER0) !== 0) {
    tp.ext[tp.rcvCount[t] > 0 ? TX_ABORTONCLOSE : TX_ABORTONLINGER]++;
    tcpAbort(st, t); // frees (orphan)
    return 0;
  }
  if (s === TCP_FIN_WAIT2) {
    st.timers.mod(tp.tKeep[t], st.now() + st.cfg.tcpFinTimeoutMs);
    return 0;
  }
  tcpSendFin(st, t);
  const s2 = tp.state[t];
  if ((tp.flags[t] & F_LINGER) !== 0 && (s2 === TCP_FIN_WAIT1 || s2 === TCP_LAST_ACK || s2 === TCP_CLOSING)) {
    st.timers.mod(tp.tKeep[t], st.now() + tp.lingerMs[t]); // tcpKeepaliveTimer: linger expired
  }
  return 0;
}

/** setsockopt with an integer value (SO_LINGER: l_linger seconds, or -1 for off). */
export function tcpSetsockopt(st: Stack, t: number, level: number, name: number, val: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  if (level === SOL_SOCKET) {
    // FEATURE_TCP_KEEPALIVE off: SO_KEEPALIVE and TCP_KEEP* are unknown options (-ENOPROTOOPT)
    if (FEATURE_TCP_KEEPALIVE && name === SO_KEEPALIVE) {
      if (val !== 0) {
        tp.flags[t] |= F_KEEPALIVE;
        const s = tp.state[t];
        if (s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT) st.timers.mod(tp.tKeep[t], st.now() + tp.keepIdle[t]);
      } else {
        tp.flags[t] &= ~F_KEEPALIVE;
        if (tp.state[t] !== TCP_FIN_WAIT2) st.timers.del(tp.tKeep[t]);
      }
      return 0;
    }
    if (name === SO_LINGER) {
      // val: l_linger seconds, -1 = off. 0: close resets (abortive); > 0: close is graceful,
      // but what is not acknowledged within val seconds is abandoned with a RST
      tp.flags[t] &= ~(F_LINGER0 | F_LINGER);
      if (val === 0) tp.flags[t] |= F_LINGER0;
      else if (val > 0) {
        tp.flags[t] |= F_LINGER;
        tp.lingerMs[t] = (val < 2147483 ? val : 2147483) * 1000;
      }
      return 0;
    }
    if (name === SO_SNDBUF || name === SO_RCVBUF) {
      const ring = name === SO_SNDBUF ? tp.sndRing[t] : tp.rcvRing[t];
      let v = val;
      const min = 2 * tp.advMss[t] < ring.length ? 2 * tp.advMss[t] : ring.length;
      if (v < min) v = min;
      if (v > ring.length) v = ring.length;
      if (name === SO_SNDBUF) tp.sndLimit[t] = v;
      else {
        if (tp.state[t] !== TCP_CLOSE && tp.state[t] !== TCP_LISTEN) {
          // the advertised window never shrinks: keep what is promised
          const promised = tp.rcvCount[t] + seqDiff(tp.rcvEdge[t], tp.rcvNxt[t]);
          if (v < promised) v = promised > ring.length ? ring.length : promised;
        }
        tp.rcvLimit[t] = v;
      }
      return 0;
    }
    return -ENOPROTOOPT;
  }
  if (level === SOL_TCP) {
    if (name === TCP_NODELAY) {
      if (val !== 0) {
        tp.flags[t] |= F_NODELAY;
        if (tcpCanSend(tp.state[t])) tcpWriteXmit(st, t);
      } else tp.flags[t] &= ~F_NODELAY;
      return 0;
    }
    if (FEATURE_TCP_KEEPALIVE && (name === TCP_KEEPIDLE || name === TCP_KEEPINTVL)) {
      if (val < 1 || val > 32767) return -EINVAL;
      if (name === TCP_KEEPIDLE) tp.keepIdle[t] = val * 1000;
      else tp.keepIntvl[t] = val * 1000;
      return 0;
    }
    if (FEATURE_TCP_KEEPALIVE && name === TCP_KEEPCNT) {
      if (val < 1 || val > 127) return -EINVAL;
      tp.keepCnt[t] = val;
      return 0;
    }
    if (name === TCP_USER_TIMEOUT) {
      if (val < 0) return -EINVAL;
      tp.userTimeout[t] = val;
      return 0;
    }
    return -ENOPROTOOPT;
  }
  return -EOPNOTSUPP;
}

/** getsockopt: the value (>= 0) or -errno. SO_ERROR reads and clears the pending error. */
export function tcpGetsockopt(st: Stack, t: number, level: number, name: number): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  if (level === SOL_SOCKET) {
    if (FEATURE_TCP_KEEPALIVE && name === SO_KEEPALIVE) return (tp.flags[t] & F_KEEPALIVE) !== 0 ? 1 : 0;
    if (name === SO_LINGER) return (tp.flags[t] & (F_LINGER0 | F_LINGER)) !== 0 ? 1 : 0; // l_onoff
    if (name === SO_SNDBUF) return tp.sndLimit[t];
    if (name === SO_RCVBUF) return tp.rcvLimit[t];
    if (name === SO_ERROR) {
      const e = tp.err[t];
      tp.err[t] = 0;
      return e;
    }
    return -ENOPROTOOPT;
  }
  if (level === SOL_TCP) {
    if (name === TCP_NODELAY) return (tp.flags[t] & F_NODELAY) !== 0 ? 1 : 0;
    if (name === TCP_MAXSEG) return tp.smss[t];
    if (FEATURE_TCP_KEEPALIVE && name === TCP_KEEPIDLE) return Math.floor(tp.keepIdle[t] / 1000);
    if (FEATURE_TCP_KEEPALIVE && name === TCP_KEEPINTVL) return Math.floor(tp.keepIntvl[t] / 1000);
    if (FEATURE_TCP_KEEPALIVE && name === TCP_KEEPCNT) return tp.keepCnt[t];
    if (name === TCP_USER_TIMEOUT) return tp.userTimeout[t];
    return -ENOPROTOOPT;
  }
  return -EOPNOTSUPP;
}

/** getsockname: out[0] = address, out[1] = port. */
export function tcpGetsockname(st: Stack, t: number, out: Uint32Array | Int32Array | Float64Array | number[]): number {
  if (!valid(st, t)) return -EBADF;
  out[0] = st.tcp.laddr[t];
  out[1] = st.tcp.lport[t];
  return 0;
}

/** getpeername: out[0] = address, out[1] = port; -ENOTCONN before connect. */
export function tcpGetpeername(st: Stack, t: number, out: Uint32Array | Int32Array | Float64Array | number[]): number {
  if (!valid(st, t)) return -EBADF;
  const tp = st.tcp;
  const s = tp.state[t];
  if (tp.rport[t] === 0 || s === TCP_LISTEN || s === TCP_SYN_SENT) return -ENOTCONN;
  out[0] = tp.raddr[t];
  out[1] = tp.rport[t];
  return 0;
}

/** tcp_poll: the EV_* readiness mask of t now. */
export function tcpPoll(st: Stack, t: number): number {
  if (!valid(st, t)) return TEV_ERROR;
  const tp = st.tcp;
  const s = tp.state[t];
  let m = 0;
  if (s === TCP_LISTEN) return tp.acceptHead[t] >= 0 ? TEV_READABLE : 0;
  if (tp.rcvCount[t] > 0 || (tp.flags[t] & F_RCV_SHUT) !== 0) m |= TEV_READABLE;
  if (tp.err[t] !== 0) m |= TEV_ERROR;
  if (s === TCP_CLOSE && tp.rport[t] !== 0) m |= TEV_CLOSED;
  if ((s === TCP_ESTABLISHED || s === TCP_CLOSE_WAIT) && (tp.flags[t] & F_SND_SHUT) === 0 && tcpSendSpace(st, t) > 0) {
    m |= TEV_WRITABLE;
  }
  return m;
}

/** TCP state number of t (TCP_ESTABLISHED, ...), for tests and diagnostics. */
export function tcpState(st: Stack, t: number): number {
  return st.tcp.state[t];
}

/** The window we last advertised (bytes), for tests and diagnostics. */
export function tcpAdvertisedWindow(st: Stack, t: number): number {
  const tp = st.tcp;
  const w = seqDiff(tp.rcvEdge[t], tp.rcvNxt[t]);
  return w > 0 ? w : 0;
}
