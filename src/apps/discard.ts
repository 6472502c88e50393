/*
 * discard.ts — the Discard Protocol over UDP (RFC 863 §"UDP Based
 * Discard Service"): every datagram received on port 9 is read and
 * thrown away; nothing is ever sent back.
 *
 * Place in the packet path: an application on the zero-allocation socket
 * API. udpRcv queues the datagram on the socket; run() (after each
 * st.poll(), or after EV_READABLE) reads it into one preallocated scratch
 * buffer, which frees the skb, and counts it.
 *
 * Portable (Espruino, Lua): the buffer is allocated in the constructor;
 * run() allocates nothing.
 */
import type { Stack } from '../stack';
import { EAGAIN } from '../core/errno';
import { socket, bind, recvfrom, recvLen, close, SOCK_DGRAM, IPPROTO_UDP } from '../socket/socket';
import { NetService } from './service';

export const DISCARD_PORT = 9;
const DISCARD_BUDGET = 32;

export class UdpDiscardService implements NetService {
  readonly name = 'udp-discard';
  fd = -1;
  private readonly buf: Uint8Array;
  private readable = true;
  /* counters */
  datagrams = 0;
  /** payload bytes discarded (whole datagrams, even when longer than the scratch buffer) */
  bytes = 0;
  recvErrors = 0;

  /** bufSize: scratch buffer; longer datagrams are still consumed whole. */
  constructor(
    readonly st: Stack,
    readonly port: number,
    bufSize: number,
  ) {
    this.buf = new Uint8Array(bufSize > 0 ? bufSize : 1);
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
    if (fd === this.fd && events !== 0) this.readable = true;
  }

  run(): number {
    if (this.fd < 0 || !this.readable) return 0;
    const st = this.st;
    const fd = this.fd;
    let handled = 0;
    for (let i = 0; i < DISCARD_BUDGET; i++) {
      const len = recvLen(st, fd);
      const n = recvfrom(st, fd, this.buf, 0, this.buf.length, null);
      if (n === -EAGAIN) {
        this.readable = false;
        break;
      }
      if (n < 0) {
        this.recvErrors++;
        continue;
      }
      handled++;
      this.datagrams++;
      this.bytes += len > n ? len : n;
    }
    return handled;
  }

  stop(): void {
    if (this.fd >= 0) close(this.st, this.fd);
    this.fd = -1;
  }

  stats(): { [k: string]: number } {
    return { datagrams: this.datagrams, bytes: this.bytes, recvErrors: this.recvErrors };
  }
}
