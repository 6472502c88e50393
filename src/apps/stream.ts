/*
 * stream.ts — the tiny stream-socket adapter the TCP services (tcp_echo,
 * tcp_discard, http) are written against: listen, accept, recv, send,
 * shutdown(SHUT_WR), close, abort; and for the services' slot policy
 * (tcp_service.ts) accept readiness, the peer's address, SIOCOUTQ and
 * the peer's window.
 *
 * Place in the packet path: the application side of the zero-allocation
 * socket API (src/socket/socket.ts, SOCK_STREAM → tcp_api.ts: tcp_sendmsg
 * / tcp_recvmsg / tcp_close / inet_listen / inet_accept). A handle is a
 * socket fd, so readiness events (st.emit(fd, EV_*)) carry it and the
 * services share one ServiceMux with the datagram services. Each accepted
 * connection takes an fd: cfg.maxSockets must cover the services' slots.
 *
 * Every call returns >= 0 or -errno; recv returns 0 at end of stream.
 * Portable (Espruino, Lua): no allocation.
 */
import type { Stack } from '../stack';
import { socket, bind, listen, accept, recv, send, shutdown, close, setsockopt, poll, getpeername, sendQueueLen, sendWindow } from '../socket/socket';
import { SOCK_STREAM, IPPROTO_TCP, SOL_SOCKET, SO_LINGER, SOL_TCP, TCP_NODELAY, SHUT_WR, SK_EV_READABLE } from '../socket/sock';

/** A listening stream socket on port (any local address): fd or -errno. */
export function streamListen(st: Stack, port: number, backlog: number): number {
  const fd = socket(st, SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0) return fd;
  let rc = bind(st, fd, 0, port);
  if (rc === 0) rc = listen(st, fd, backlog);
  if (rc < 0) {
    close(st, fd);
    return rc;
  }
  return fd;
}

/** The next established connection of listener l (an fd), or -EAGAIN (-EMFILE: it stays queued). */
export function streamAccept(st: Stack, l: number): number {
  return accept(st, l, null);
}

/** Is a connection waiting in listener l's accept queue? */
export function streamAcceptReady(st: Stack, l: number): boolean {
  const m = poll(st, l);
  return m > 0 && (m & SK_EV_READABLE) !== 0;
}

/** The peer's address (unsigned, in out[0]) and port (out[1]) of connection h: 0 or -errno. */
export function streamPeer(st: Stack, h: number, out: Int32Array): number {
  return getpeername(st, h, out);
}

/** Bytes sent on h that the peer has not acknowledged yet (SIOCOUTQ), or -errno. */
export function streamOutq(st: Stack, h: number): number {
  return sendQueueLen(st, h);
}

/** The window the peer of h last advertised (0: it reads nothing), or -errno. */
export function streamPeerWindow(st: Stack, h: number): number {
  return sendWindow(st, h);
}

export function streamRecv(st: Stack, h: number, buf: Uint8Array, off: number, len: number): number {
  return recv(st, h, buf, off, len);
}

export function streamSend(st: Stack, h: number, buf: Uint8Array, off: number, len: number): number {
  return send(st, h, buf, off, len);
}

/** Send our FIN after the queued data; keep reading. */
export function streamShutdownWr(st: Stack, h: number): number {
  return shutdown(st, h, SHUT_WR);
}

/** Graceful close: the FIN goes after the queued data (RST if unread data is left, as Linux does). */
export function streamClose(st: Stack, h: number): number {
  return close(st, h);
}

/** Abortive close (SO_LINGER 0): RST now. */
export function streamAbort(st: Stack, h: number): number {
  setsockopt(st, h, SOL_SOCKET, SO_LINGER, 0);
  return close(st, h);
}

/** TCP_NODELAY on/off. */
export function streamNoDelay(st: Stack, h: number, on: boolean): number {
  return setsockopt(st, h, SOL_TCP, TCP_NODELAY, on ? 1 : 0);
}
