/*
 * echo.ts — the Echo Protocol over UDP (RFC 862 §"UDP Based Echo
 * Service"): every datagram received on port 7 is sent back to its
 * source, byte for byte.
 *
 * Place in the packet path: an application on the zero-allocation socket
 * API (socket/bind/recvfrom/sendto). udpRcv queues the datagram on the
 * socket; run() (after each st.poll(), or after EV_READABLE) copies it into
 * one preallocated buffer and sendto()s it back (udpSendmsg →
 * ipBuildAndSend, fragmenting when larger than the MTU).
 * A datagram larger than the buffer is echoed truncated and counted.
 *
 * Portable (Espruino, Lua): the buffer and the address array are allocated
 * in the constructor; run() allocates nothing.
 */
import type { Stack } from '../stack';
import { EAGAIN } from '../core/errno';
import { socket, bind, recvfrom, recvLen, sendto, close, SOCK_DGRAM, IPPROTO_UDP } from '../socket/socket';
import { NetService } from './service';

export const ECHO_PORT = 7;
/** datagrams handled per run() call, so one busy socket cannot starve the loop */
const ECHO_BUDGET = 16;

export class UdpEchoService implements NetService {
  readonly name = 'udp-echo';
  fd = -1;
  private readonly buf: Uint8Array;
  /** Int32Array: the peer address comes back as s32 (a V8 Smi), passed on to sendto without boxing */
  private readonly from: Int32Array;
  private readable = true;
  /* counters */
  datagrams = 0;
  bytes = 0;
  truncated = 0;
  sendErrors = 0;
  recvErrors = 0;

  /** bufSize: the largest datagram echoed whole (65507 on a PC, ~1472 on a board). */
  constructor(
    readonly st: Stack,
    readonly port: number,
    bufSize: number,
  ) {
    this.buf = new Uint8Array(bufSize);
    this.from = new Int32Array(2);
  }

  start(): number {
    const st = this.st;
    const fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return fd;
    const rc = bind(st, fd, 0, this.port);
    if (rc < 0) {
      close(st, fd);
      return rc;
    }
    this.fd = fd;
    return 0;
  }

  owns(fd: number): boolean {
    return fd === this.fd;
  }

  onSocketEvent(fd: number, events: number): void {
    // only note it: sending from inside the receive path would re-enter the stack
    if (fd === this.fd && events !== 0) this.readable = true;
  }

  run(): number {
    if (this.fd < 0 || !this.readable) return 0;
    const st = this.st;
    const fd = this.fd;
    const buf = this.buf;
    const from = this.from;
    let handled = 0;
    for (let i = 0; i < ECHO_BUDGET; i++) {
      const want = recvLen(st, fd);
      const n = recvfrom(st, fd, buf, 0, buf.length, from);
      if (n === -EAGAIN) {
        this.readable = false;
        break;
      }
      if (n < 0) {
        // a pending socket error (e.g. ICMP unreachable from an earlier reply): counted, carry on
        this.recvErrors++;
        continue;
      }
      handled++;
      this.datagrams++;
      this.bytes += n;
      if (want > n) this.truncated++;
      const s = sendto(st, fd, buf, 0, n, from[0], from[1]);
      if (s < 0) this.sendErrors++;
    }
    return handled;
  }

  stop(): void {
    if (this.fd >= 0) close(this.st, this.fd);
    this.fd = -1;
  }

  stats(): { [k: string]: number } {
    return {
      datagrams: this.datagrams,
      bytes: this.bytes,
      truncated: this.truncated,
      sendErrors: this.sendErrors,
      recvErrors: this.recvErrors,
    };
  }
}
