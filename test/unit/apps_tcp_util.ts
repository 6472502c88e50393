/*
 * apps_tcp_util.ts — fixtures for the TCP service tests: two stacks on a
 * PairLink (tcp_util.ts tcpPair: A = client 192.0.2.1, B = server
 * 192.0.2.2), the services on B through a ServiceMux, and a small client
 * on A's TCP API. Not a test file.
 */
import { expect } from 'vitest';
import { tcpPair, TEnv, IP_B, expectClean } from './tcp_util';
import { ServiceMux } from '../../src/apps/service';
import { NetService } from '../../src/apps/service';
import {
  tcpSocket, tcpConnect, tcpSend, tcpRecv, tcpShutdown, tcpClose, SHUT_WR,
} from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { EINPROGRESS, EAGAIN } from '../../src/core/errno';

export interface SEnv extends TEnv {
  mux: ServiceMux;
}

/** Host-like config: enough TCBs, timers and skbs for 16+ connections each side. */
export const OVER = { maxSockets: 48, tcpMaxSockets: 40, timerMax: 256, skbSmallCount: 128 };

export function serverPair(services: (e: TEnv) => NetService[]): SEnv {
  const e = tcpPair(OVER) as SEnv;
  const mux = new ServiceMux(e.b);
  for (const s of services(e)) mux.add(s);
  expect(mux.start()).toBe(0);
  e.mux = mux;
  return e;
}

/** One virtual millisecond: both stacks polled, the services run after B's poll (as `slabnet up` does). */
export function step(e: SEnv): void {
  e.clock.advance(1);
  e.a.poll();
  e.b.poll();
  if (e.mux.run() > 0) e.b.poll();
}

export function runMs(e: SEnv, ms: number): void {
  for (let i = 0; i < ms; i++) step(e);
}

export function until(e: SEnv, cond: () => boolean, maxMs: number): boolean {
  for (let i = 0; i < maxMs; i++) {
    if (cond()) return true;
    step(e);
  }
  return cond();
}

export function connect(e: SEnv, port: number): number {
  const c = tcpSocket(e.a);
  expect(c).toBeGreaterThanOrEqual(0);
  expect(tcpConnect(e.a, c, IP_B, port)).toBe(-EINPROGRESS);
  expect(until(e, () => e.a.tcp.state[c] === TCP_ESTABLISHED, 5000)).toBe(true);
  return c;
}

/** A client connection on A that sends `out` (as the window allows) and collects what comes back. */
export class Client {
  out: Uint8Array = new Uint8Array(0);
  sent = 0;
  got: Uint8Array;
  n = 0;
  eof = false;
  err = 0;
  shutAfterSend = false;
  private shut = false;
  constructor(
    readonly e: SEnv,
    readonly c: number,
    cap: number,
  ) {
    this.got = new Uint8Array(cap);
  }
  write(b: Uint8Array | string): void {
    const x = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    const m = new Uint8Array(this.out.length - this.sent + x.length);
    m.set(this.out.subarray(this.sent));
    m.set(x, this.out.length - this.sent);
    this.out = m;
    this.sent = 0;
  }
  /** one round of sending and receiving (no clock advance) */
  pump(): void {
    const st = this.e.a;
    if (this.sent < this.out.length) {
      const r = tcpSend(st, this.c, this.out, this.sent, this.out.length - this.sent);
      if (r > 0) this.sent += r;
    }
    if (this.shutAfterSend && !this.shut && this.sent === this.out.length) {
      tcpShutdown(st, this.c, SHUT_WR);
      this.shut = true;
    }
    for (;;) {
      if (this.n === this.got.length) {
        const g = new Uint8Array(this.got.length * 2);
        g.set(this.got);
        this.got = g;
      }
      const r = tcpRecv(st, this.c, this.got, this.n, this.got.length - this.n);
      if (r > 0) {
        this.n += r;
        continue;
      }
      if (r === 0) this.eof = true;
      else if (r !== -EAGAIN) this.err = r;
      break;
    }
  }
  /** pump until cond or maxMs */
  runUntil(cond: () => boolean, maxMs: number): boolean {
    for (let i = 0; i < maxMs; i++) {
      this.pump();
      if (cond()) return true;
      step(this.e);
    }
    this.pump();
    return cond();
  }
  bytes(): Uint8Array {
    return this.got.subarray(0, this.n);
  }
  text(): string {
    return new TextDecoder('latin1').decode(this.bytes());
  }
  consume(k: number): void {
    this.got.copyWithin(0, k, this.n);
    this.n -= k;
  }
  close(): void {
    tcpClose(this.e.a, this.c);
  }
}

export interface Resp {
  status: number;
  headers: { [k: string]: string };
  body: Uint8Array;
  /** bytes the whole response took */
  size: number;
}

/** A complete HTTP response at the start of b (Content-Length framed), or null when not all there yet. */
export function parseResponse(b: Uint8Array, head = false): Resp | null {
  let end = -1;
  for (let i = 3; i < b.length; i++) {
    if (b[i - 3] === 13 && b[i - 2] === 10 && b[i - 1] === 13 && b[i] === 10) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) return null;
  const lines = new TextDecoder('latin1').decode(b.subarray(0, end - 4)).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
  if (m === null) throw new Error('bad status line: ' + lines[0]);
  const headers: { [k: string]: string } = {};
  for (const l of lines.slice(1)) {
    const k = l.indexOf(':');
    headers[l.slice(0, k).toLowerCase()] = l.slice(k + 1).trim();
  }
  const status = Number(m[1]);
  if (status === 100) return { status, headers, body: new Uint8Array(0), size: end };
  const cl = head ? 0 : Number(headers['content-length']);
  if (b.length < end + cl) return null;
  return { status, headers, body: b.subarray(end, end + cl), size: end + cl };
}

/** Send a request on a client and wait for the (final) response; consumes it from the client's buffer. */
export function request(cl: Client, req: string | Uint8Array, maxMs = 20000, head = false): Resp {
  cl.write(req);
  let r: Resp | null = null;
  const ok = cl.runUntil(() => {
    for (;;) {
      r = parseResponse(cl.bytes(), head);
      if (r !== null && r.status === 100) {
        cl.consume(r.size);
        continue;
      }
      return r !== null;
    }
  }, maxMs);
  expect(ok).toBe(true);
  const res = r as unknown as Resp;
  const copy: Resp = { status: res.status, headers: res.headers, body: res.body.slice(), size: res.size };
  cl.consume(res.size);
  return copy;
}

/** Stop the services, close everything, let all timers run out; every skb and TCB back. */
export function finish(e: SEnv): void {
  e.mux.stop();
  expectClean(e);
}
