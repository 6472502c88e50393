/*
 * stream.ts — the tiny stream-socket adapter the TCP services (tcp_echo,
 * tcp_discard, http) are written against: listen, accept, recv, send,
 * shutdown(SHUT_WR), close, abort.
 *
 * Place in the packet path: the application side of the TCP API
 * (src/transport/tcp/tcp_api.ts: tcp_sendmsg / tcp_recvmsg / tcp_close /
 * inet_listen / inet_accept). Today it calls tcp_api.ts directly, with a
 * handle = the TCB number and readiness events on fd = STREAM_FD_BASE + t
 * (tcpSetFd), so they never collide with the datagram socket fds of
 * src/socket/socket.ts in one ServiceMux. When socket.ts routes
 * SOCK_STREAM, only the bodies below change (handle = fd).
 *
 * Every call returns >= 0 or -errno; recv returns 0 at end of stream.
 * Portable (Espruino, Lua): no allocation.
 */
import type { Stack } from '../stack';
import { initTcp } from '../transport/tcp/tcp_ipv4';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpRecv, tcpSend, tcpShutdown, tcpClose, tcpSetFd,
  tcpSetsockopt, SHUT_WR, SOL_SOCKET, SO_LINGER, SOL_TCP, TCP_NODELAY,
} from '../transport/tcp/tcp_api';

/** readiness events of stream handle h arrive as st.emit(STREAM_FD_BASE + h, ev) */
export const STREAM_FD_BASE = 4096;

/** Create the TCP state when the Stack constructor did not (until FEATURE_TCP wires it into stack.ts). */
export function ensureTcp(st: Stack): void {
  if ((st as unknown as { tcp: unknown }).tcp === undefined) initTcp(st);
}

/** A listening stream socket on port (any local address): handle or -errno. */
export function streamListen(st: Stack, port: number, backlog: number): number {
  ensureTcp(st);
  const t = tcpSocket(st);
  if (t < 0) return t;
  let rc = tcpSetFd(st, t, STREAM_FD_BASE + t);
  if (rc === 0) rc = tcpBind(st, t, 0, port);
  if (rc === 0) rc = tcpListen(st, t, backlog);
  if (rc < 0) {
    tcpClose(st, t);
    return rc;
  }
  return t;
}

/** The next established connection of listener l (handle), or -EAGAIN. */
export function streamAccept(st: Stack, l: number): number {
  const c = tcpAccept(st, l);
  if (c < 0) return c;
  tcpSetFd(st, c, STREAM_FD_BASE + c);
  return c;
}

/** The fd its readiness events carry. */
export function streamFd(h: number): number {
  return STREAM_FD_BASE + h;
}

export function streamRecv(st: Stack, h: number, buf: Uint8Array, off: number, len: number): number {
  return tcpRecv(st, h, buf, off, len);
}

export function streamSend(st: Stack, h: number, buf: Uint8Array, off: number, len: number): number {
  return tcpSend(st, h, buf, off, len);
}

/** Send our FIN after the queued data; keep reading. */
export function streamShutdownWr(st: Stack, h: number): number {
  return tcpShutdown(st, h, SHUT_WR);
}

/** Graceful close: the FIN goes after the queued data (RST if unread data is left, as Linux does). */
export function streamClose(st: Stack, h: number): number {
  return tcpClose(st, h);
}

/** Abortive close (SO_LINGER 0): RST now. */
export function streamAbort(st: Stack, h: number): number {
  tcpSetsockopt(st, h, SOL_SOCKET, SO_LINGER, 0);
  return tcpClose(st, h);
}

/** TCP_NODELAY on/off. */
export function streamNoDelay(st: Stack, h: number, on: boolean): number {
  return tcpSetsockopt(st, h, SOL_TCP, TCP_NODELAY, on ? 1 : 0);
}
