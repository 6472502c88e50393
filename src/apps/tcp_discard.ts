/*
 * tcp_discard.ts — the Discard Protocol over TCP (RFC 863 §"TCP Based
 * Discard Service"): once a connection is established on port 9, every
 * byte received is thrown away and nothing is ever sent; when the client
 * closes, we close.
 *
 * Place in the packet path: tcp_rcv_established queues the bytes in the
 * TCB's receive ring; TcpService.run() → serve() reads them into one
 * scratch buffer (which reopens the window) and counts them.
 * Portable: one scratch buffer, allocated up front.
 */
import type { Stack } from '../stack';
import { streamRecv } from './stream';
import { TcpService, TcpLimits, SERVE_CLOSE, SERVE_ABORT, NEG_EAGAIN, echoLimits } from './tcp_service';

export const TCP_DISCARD_PORT = 9;
const DISCARD_BUDGET = 16;

export class TcpDiscardService extends TcpService {
  readonly name = 'tcp-discard';
  private readonly buf: Uint8Array;

  /** maxConns slots, one read buffer of bufSize; idleMs as in TcpLimits; lim: the other slot limits. */
  constructor(st: Stack, port: number, maxConns: number, bufSize: number, idleMs: number, lim?: Partial<TcpLimits>) {
    super(st, port, echoLimits(maxConns, idleMs, lim), maxConns);
    this.buf = new Uint8Array(bufSize > 0 ? bufSize : 1);
  }

  protected onOpen(_i: number): void {
    // no per-connection state
  }

  protected serve(_i: number, h: number): number {
    let work = 0;
    for (let k = 0; k < DISCARD_BUDGET; k++) {
      const r = streamRecv(this.st, h, this.buf, 0, this.buf.length);
      if (r === NEG_EAGAIN) return work;
      if (r === 0) return SERVE_CLOSE;
      if (r < 0) return SERVE_ABORT;
      this.bytesIn += r;
      work++;
    }
    return work;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.port = this.port;
  }
}
