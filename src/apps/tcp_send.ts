/*
 * tcp_send.ts — an active-open TCP client: connect to ADDR:PORT, send
 * BYTES bytes of the deterministic /bytes/N pattern (http_parse.ts
 * fillPattern, so a peer can hash what it got: test/interop/pattern.mjs),
 * shutdown(SHUT_WR), read (and count) until the peer's EOF, close.
 * `slabnet up --send tcp:ADDR:PORT:BYTES` runs one per target.
 *
 * Place in the packet path: the application on the zero-allocation socket
 * API (socket.ts SOCK_STREAM → tcp_api.ts tcpConnect → tcp_v4_connect:
 * SYN out, -EINPROGRESS; tcp_rcv_state_process / tcp_rcv_synsent_state
 * turns the SYN-ACK into EV_CONNECTED, a RST into EV_ERROR with
 * ECONNREFUSED; tcp_sendmsg as the send ring frees; tcp_recvmsg).
 * Driven by ServiceMux.run() after each st.poll(), like TcpService: socket
 * events only mark the service busy (sending from inside the receive path
 * would re-enter the stack).
 * Portable (Espruino, Lua): one chunk buffer allocated in the constructor,
 * nothing allocated in run().
 */
import type { Stack } from '../stack';
import { EAGAIN, EINPROGRESS, ETIMEDOUT } from '../core/errno';
import { socket, connect, send, recv, shutdown, close, sockErr, poll } from '../socket/socket';
import { SOCK_STREAM, SHUT_WR } from '../socket/sock';
import { EV_ERROR } from '../stack';
import { NetService } from './service';
import { fillPattern } from './http_parse';
import { streamAbort } from './stream';

/** Phases of a TcpSendService. */
export const SEND_IDLE = 0; // waiting for startAt
export const SEND_CONNECTING = 1; // SYN sent
export const SEND_SENDING = 2; // established, queueing the pattern
export const SEND_DRAINING = 3; // FIN queued, reading until the peer's EOF
export const SEND_DONE = 4; // finished: errno === 0 success, else the failure

/** send()/recv() calls per run() */
const SEND_BUDGET = 16;

export class TcpSendService implements NetService {
  readonly name: string;
  /** connection fd, -1 when none */
  fd = -1;
  phase = SEND_IDLE;
  /** st.now() at which to connect */
  startAt: number;
  /** pattern bytes taken by the send buffer */
  bytesSent = 0;
  /** bytes the peer sent us (read and dropped) */
  bytesRecv = 0;
  /** 0 = connected (and, once done, finished cleanly), else the positive errno */
  errno = 0;
  /** the result of connect(): -EINPROGRESS normally */
  connectRc = 0;
  /** 1 once established */
  connected = 0;
  /** st.now() of connect() and of the end (EOF or error) */
  t0 = 0;
  t1 = 0;
  /** st.now() of the last progress (for idleMs) */
  lastActive = 0;
  /** socket events seen (EV_* bits, OR-ed) */
  events = 0;
  private readonly buf: Uint8Array;
  /** buf holds pattern bytes [bufPos, bufPos + bufLen) */
  private bufPos = 0;
  private bufLen = 0;

  constructor(
    readonly st: Stack,
    /** destination (s32 or unsigned) */
    readonly addr: number,
    readonly port: number,
    /** bytes of pattern to send */
    readonly total: number,
    /** connect this many ms after start() */
    readonly delayMs: number,
    /** give up (ETIMEDOUT) after this long without progress */
    readonly idleMs: number,
    chunk: number,
    name: string,
  ) {
    this.name = name;
    this.buf = new Uint8Array(chunk);
    this.startAt = st.now() + delayMs;
  }

  /** Nothing to open yet: connect() happens in run() delayMs later (the interface is up by then). */
  start(): number {
    this.startAt = this.st.now() + this.delayMs;
    return 0;
  }

  owns(fd: number): boolean {
    return fd >= 0 && fd === this.fd;
  }

  onSocketEvent(_fd: number, events: number): void {
    this.events |= events;
  }

  /** Finished (successfully or not)? */
  finished(): boolean {
    return this.phase === SEND_DONE;
  }

  /** Elapsed ms from connect() to the end (or to now while running). */
  elapsedMs(): number {
    if (this.phase === SEND_IDLE) return 0;
    return (this.phase === SEND_DONE ? this.t1 : this.st.now()) - this.t0;
  }

  private fail(errno: number, abort: boolean): void {
    this.errno = errno;
    this.end(abort);
  }

  private end(abort: boolean): void {
    if (this.fd >= 0) {
      if (abort) streamAbort(this.st, this.fd);
      else close(this.st, this.fd);
    }
    this.fd = -1;
    this.t1 = this.st.now();
    this.phase = SEND_DONE;
  }

  run(): number {
    const st = this.st;
    const ph = this.phase;
    if (ph === SEND_DONE) return 0;
    const now = st.now();
    if (ph === SEND_IDLE) {
      if (now < this.startAt) return 0;
      this.t0 = now;
      this.lastActive = now;
      const fd = socket(st, SOCK_STREAM, 0);
      if (fd < 0) {
        this.connectRc = fd;
        this.fail(-fd, false);
        return 1;
      }
      this.fd = fd;
      const rc = connect(st, fd, this.addr, this.port);
      this.connectRc = rc;
      if (rc !== -EINPROGRESS && rc !== 0) {
        this.fail(-rc, false);
        return 1;
      }
      this.phase = SEND_CONNECTING;
      return 1;
    }
    const fd = this.fd;
    if ((poll(st, fd) & EV_ERROR) !== 0) {
      const e = sockErr(st, fd);
      if (e < 0) {
        this.fail(-e, true);
        return 1;
      }
    }
    let work = 0;
    if (this.phase === SEND_CONNECTING || this.phase === SEND_SENDING) {
      for (let k = 0; k < SEND_BUDGET; k++) {
        const left = this.total - this.bytesSent;
        if (left <= 0) break;
        if (this.bufLen === 0) {
          const n = left < this.buf.length ? left : this.buf.length;
          fillPattern(this.buf, 0, n, this.bytesSent);
          this.bufPos = this.bytesSent;
          this.bufLen = n;
        }
        const o = this.bytesSent - this.bufPos;
        const r = send(st, fd, this.buf, o, this.bufLen - o);
        if (r === -EAGAIN) break;
        if (r < 0) {
          this.fail(-r, true);
          return work + 1;
        }
        this.connected = 1;
        this.phase = SEND_SENDING;
        this.bytesSent += r;
        if (this.bytesSent - this.bufPos >= this.bufLen) this.bufLen = 0;
        if (r > 0) work++;
        if (r === 0) break;
      }
      if (this.phase === SEND_CONNECTING && this.total === 0) {
        // nothing to send: established once send() of 0 bytes stops saying -EAGAIN
        const r = send(st, fd, this.buf, 0, 0);
        if (r === 0) {
          this.connected = 1;
          this.phase = SEND_SENDING;
        } else if (r !== -EAGAIN) {
          this.fail(-r, true);
          return work + 1;
        }
      }
      if (this.phase === SEND_SENDING && this.bytesSent >= this.total) {
        const r = shutdown(st, fd, SHUT_WR);
        if (r < 0) {
          this.fail(-r, true);
          return work + 1;
        }
        this.phase = SEND_DRAINING;
        work++;
      }
    }
    if (this.phase === SEND_SENDING || this.phase === SEND_DRAINING) {
      for (let k = 0; k < SEND_BUDGET; k++) {
        const r = recv(st, fd, this.buf, 0, this.buf.length);
        if (r === -EAGAIN) break;
        if (r === 0) {
          if (this.phase === SEND_DRAINING) {
            this.end(false);
            return work + 1;
          }
          break; // the peer finished first: keep sending, the EOF is seen again after our FIN
        }
        if (r < 0) {
          this.fail(-r, true);
          return work + 1;
        }
        this.bytesRecv += r;
        work++;
      }
    }
    if (work > 0) this.lastActive = now;
    else if (now - this.lastActive > this.idleMs) this.fail(ETIMEDOUT, true);
    return work;
  }

  stop(): void {
    if (this.phase !== SEND_DONE && this.phase !== SEND_IDLE) this.fail(ETIMEDOUT, true);
    else if (this.fd >= 0) {
      close(this.st, this.fd);
      this.fd = -1;
    }
  }

  stats(): { [k: string]: number } {
    return {
      port: this.port,
      bytes: this.total,
      bytesSent: this.bytesSent,
      bytesRecv: this.bytesRecv,
      connected: this.connected,
      connectRc: this.connectRc,
      errno: this.errno,
      elapsedMs: Math.round(this.elapsedMs()),
      done: this.phase === SEND_DONE && this.errno === 0 ? 1 : 0,
    };
  }
}
