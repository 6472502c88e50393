/*
 * udp_service.ts — the common body of the small UDP servers (echo,
 * discard): one socket bound to a port, drained after each poll or
 * EV_READABLE into one preallocated buffer, a bounded number of datagrams
 * per run() so one busy socket cannot starve the loop. A subclass says
 * what to do with each datagram.
 *
 * Place in the packet path: an application on the zero-allocation socket
 * API (socket/bind/recvLen/recvfrom). Portable (Espruino, Lua): buffers are
 * allocated in the constructor; run() allocates nothing.
 */
import type { Stack } from '../stack';
import { EAGAIN } from '../core/errno';
import { socket, bind, recvfrom, recvLen, close, SOCK_DGRAM, IPPROTO_UDP } from '../socket/socket';
import { NetService } from './service';

export abstract class UdpService implements NetService {
  abstract readonly name: string;
  fd = -1;
  protected readonly buf: Uint8Array;
  /** Int32Array: the peer address comes back as s32 (a V8 Smi), passed on to sendto without boxing */
  protected readonly from: Int32Array;
  private readable = true;
  /* counters */
  datagrams = 0;
  /** payload bytes received (whole datagrams, even when longer than the buffer) */
  bytes = 0;
  recvErrors = 0;

  constructor(
    readonly st: Stack,
    readonly port: number,
    bufSize: number,
    /** datagrams handled per run() call */
    readonly budget: number,
  ) {
    this.buf = new Uint8Array(bufSize > 0 ? bufSize : 1);
    this.from = new Int32Array(2);
  }

  /** One datagram: n bytes are in buf (the datagram had `len` bytes; len > n when truncated). */
  protected abstract onDatagram(n: number, len: number): void;

  /** Extra counters of the subclass for stats(). */
  protected abstract addStats(o: { [k: string]: number }): void;

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
    let handled = 0;
    for (let i = 0; i < this.budget; i++) {
      const len = recvLen(st, fd);
      const n = recvfrom(st, fd, this.buf, 0, this.buf.length, this.from);
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
      this.bytes += len > n ? len : n;
      this.onDatagram(n, len);
    }
    return handled;
  }

  stop(): void {
    if (this.fd >= 0) close(this.st, this.fd);
    this.fd = -1;
  }

  stats(): { [k: string]: number } {
    const o: { [k: string]: number } = {
      datagrams: this.datagrams,
      bytes: this.bytes,
      recvErrors: this.recvErrors,
    };
    this.addStats(o);
    return o;
  }
}
