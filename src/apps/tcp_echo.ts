/*
 * tcp_echo.ts — the Echo Protocol over TCP (RFC 862 §"TCP Based Echo
 * Service"): once a connection is established on port 7, every byte
 * received is sent back, until the client closes; then we close too.
 *
 * Place in the packet path: tcp_rcv_established queues the bytes in the
 * TCB's receive ring; TcpService.run() → serve() reads a chunk into the
 * slot's own buffer and sends it (tcp_sendmsg → tcp_write_xmit). A slot
 * reads again only when its previous chunk is fully queued, so a slow
 * reader on the other end slows the sender through both windows
 * (no unbounded buffering).
 * Portable: one buffer of maxConns × chunk bytes, allocated up front.
 */
import type { Stack } from '../stack';
import { streamRecv, streamSend } from './stream';
import { TcpService, TcpLimits, SERVE_CLOSE, SERVE_ABORT, NEG_EAGAIN, echoLimits } from './tcp_service';

export const TCP_ECHO_PORT = 7;
/** chunks moved per slot per run() */
const ECHO_BUDGET = 8;

export class TcpEchoService extends TcpService {
  readonly name = 'tcp-echo';
  private readonly chunk: number;
  private readonly buf: Uint8Array;
  private readonly pendOff: Int32Array;
  private readonly pendLen: Int32Array;
  private readonly eof: Uint8Array;
  sendErrors = 0;

  /**
   * maxConns slots of chunk bytes each; idleMs as in TcpLimits; lim: the
   * other slot limits (stallMs, evictMs, perPeer), defaultTcpLimits() otherwise.
   */
  constructor(st: Stack, port: number, maxConns: number, chunk: number, idleMs: number, lim?: Partial<TcpLimits>) {
    super(st, port, echoLimits(maxConns, idleMs, lim), maxConns);
    if (!(chunk >= 1) || Math.floor(chunk) !== chunk) throw new Error('tcp-echo: chunk must be an integer >= 1 (got ' + chunk + ')');
    this.chunk = chunk;
    this.buf = new Uint8Array(maxConns * chunk);
    this.pendOff = new Int32Array(maxConns);
    this.pendLen = new Int32Array(maxConns);
    this.eof = new Uint8Array(maxConns);
  }

  protected onOpen(i: number): void {
    this.pendOff[i] = 0;
    this.pendLen[i] = 0;
    this.eof[i] = 0;
  }

  protected serve(i: number, h: number): number {
    const st = this.st;
    const base = i * this.chunk;
    let work = 0;
    for (let k = 0; k < ECHO_BUDGET; k++) {
      if (this.pendLen[i] > 0) {
        const n = streamSend(st, h, this.buf, base + this.pendOff[i], this.pendLen[i]);
        if (n === NEG_EAGAIN) return work;
        if (n < 0) {
          this.sendErrors++;
          return SERVE_ABORT;
        }
        this.pendOff[i] += n;
        this.pendLen[i] -= n;
        this.bytesOut += n;
        if (n > 0) work++;
        if (this.pendLen[i] > 0) return work;
      }
      if (this.eof[i] !== 0) return SERVE_CLOSE;
      const r = streamRecv(st, h, this.buf, base, this.chunk);
      if (r === NEG_EAGAIN) return work;
      if (r === 0) {
        this.eof[i] = 1;
        continue;
      }
      if (r < 0) return SERVE_ABORT; // reset by the peer
      this.bytesIn += r;
      this.pendOff[i] = 0;
      this.pendLen[i] = r;
      work++;
    }
    return work;
  }

  protected addStats(o: { [k: string]: number }): void {
    o.sendErrors = this.sendErrors;
  }
}

