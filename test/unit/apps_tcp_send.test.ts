/*
 * apps_tcp_send.test.ts — the active-open client of `slabnet up --send`
 * (src/apps/tcp_send.ts) on stack A (192.0.2.1, through a ServiceMux, as
 * `slabnet up` runs it) against a listener written directly on stack B's
 * TCP API (192.0.2.2), over a PairLink in virtual time: the pattern
 * arrives byte-exact, a closed port gives ECONNREFUSED, the connection
 * idling out gives ETIMEDOUT, stop() mid-transfer aborts. Each test ends
 * with every TCB and skb back in its pool.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, TEnv, IP_B, expectClean } from './tcp_util';
import { OVER } from './apps_tcp_util';
import { ServiceMux } from '../../src/apps/service';
import { TcpSendService, SEND_DONE, SEND_IDLE } from '../../src/apps/tcp_send';
import { patternByte } from '../../src/apps/http_parse';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpRecv, tcpSend, tcpClose } from '../../src/transport/tcp/tcp_api';
import { EAGAIN, EINPROGRESS, ECONNREFUSED, ETIMEDOUT } from '../../src/core/errno';
import { TCP_ESTABLISHED } from '../../src/transport/tcp/tcp';
import { measureAlloc, AllocWorkload } from '../../bench/alloc';

/** A listener on B that accepts one connection, keeps what arrives, closes after the EOF. */
class Sink {
  l: number;
  c = -1;
  got: Uint8Array;
  n = 0;
  eof = false;
  err = 0;
  /** bytes to send back before closing */
  reply = 0;
  private replied = 0;
  constructor(
    readonly e: TEnv,
    port: number,
    cap: number,
  ) {
    this.got = new Uint8Array(cap);
    this.l = tcpSocket(e.b);
    expect(tcpBind(e.b, this.l, 0, port)).toBe(0);
    expect(tcpListen(e.b, this.l, 4)).toBe(0);
  }
  pump(): void {
    const st = this.e.b;
    if (this.c < 0) {
      const c = tcpAccept(st, this.l);
      if (c < 0) return;
      this.c = c;
    }
    for (;;) {
      const r = tcpRecv(st, this.c, this.got, this.n, this.got.length - this.n);
      if (r > 0) {
        this.n += r;
        continue;
      }
      if (r === 0 && !this.eof) {
        this.eof = true;
        const junk = new Uint8Array(this.reply);
        while (this.replied < this.reply) {
          const s = tcpSend(st, this.c, junk, this.replied, this.reply - this.replied);
          if (s <= 0) break;
          this.replied += s;
        }
        tcpClose(st, this.c);
      } else if (r < 0 && r !== -EAGAIN) this.err = r;
      break;
    }
  }
  closeAll(): void {
    tcpClose(this.e.b, this.l);
  }
}

interface Env extends TEnv {
  mux: ServiceMux;
}

function setup(svc: (e: TEnv) => TcpSendService): { e: Env; s: TcpSendService } {
  const e = tcpPair(OVER) as Env;
  const mux = new ServiceMux(e.a);
  const s = svc(e);
  mux.add(s);
  expect(mux.start()).toBe(0);
  e.mux = mux;
  return { e, s };
}

function step(e: Env, sink: Sink | null): void {
  e.clock.advance(1);
  e.a.poll();
  if (e.mux.run() > 0) e.a.poll();
  e.b.poll();
  if (sink !== null) sink.pump();
}

function until(e: Env, sink: Sink | null, cond: () => boolean, maxMs: number): boolean {
  for (let i = 0; i < maxMs; i++) {
    if (cond()) return true;
    step(e, sink);
  }
  return cond();
}

function finish(e: Env): void {
  e.mux.stop();
  expectClean(e);
}

describe('tcp send client (slabnet up --send)', () => {
  it('connects, sends 300,000 pattern bytes byte-exact, half-closes, reads the reply until EOF', () => {
    const N = 300000;
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5555, N, 10, 30000, 4096, 'tcp-send'));
    const sink = new Sink(e, 5555, N + 10);
    sink.reply = 1234;
    expect(s.phase).toBe(SEND_IDLE);
    step(e, sink);
    expect(s.phase).toBe(SEND_IDLE); // waits delayMs
    expect(until(e, sink, () => s.finished(), 60000)).toBe(true);
    expect(sink.eof).toBe(true);
    expect(sink.n).toBe(N);
    let bad = -1;
    for (let i = 0; i < N; i++) {
      if (sink.got[i] !== patternByte(i)) {
        bad = i;
        break;
      }
    }
    expect(bad).toBe(-1);
    const st = s.stats();
    expect(st.errno).toBe(0);
    expect(st.done).toBe(1);
    expect(st.connected).toBe(1);
    expect(st.connectRc).toBe(-EINPROGRESS);
    expect(st.bytesSent).toBe(N);
    expect(st.bytesRecv).toBe(1234);
    expect(st.elapsedMs).toBeGreaterThan(0);
    expect(s.fd).toBe(-1);
    expect(e.a.mib.toObject().Tcp.ActiveOpens).toBe(1);
    expect(s.owns(-1)).toBe(false);
    sink.closeAll();
    finish(e);
  });

  it('reports ECONNREFUSED when the peer answers the SYN with a RST (closed port)', () => {
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5556, 1000, 0, 30000, 512, 'tcp-send'));
    expect(until(e, null, () => s.finished(), 5000)).toBe(true);
    const st = s.stats();
    expect(st.errno).toBe(ECONNREFUSED);
    expect(st.done).toBe(0);
    expect(st.connected).toBe(0);
    expect(st.bytesSent).toBe(0);
    expect(st.elapsedMs).toBeLessThan(100);
    expect(e.b.mib.toObject().Tcp.OutRsts).toBeGreaterThanOrEqual(1);
    finish(e);
  });

  it('sends nothing for BYTES 0 but still connects, half-closes and sees EOF', () => {
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5557, 0, 0, 30000, 512, 'tcp-send'));
    const sink = new Sink(e, 5557, 16);
    expect(until(e, sink, () => s.finished(), 10000)).toBe(true);
    expect(s.stats().done).toBe(1);
    expect(s.stats().connected).toBe(1);
    expect(sink.n).toBe(0);
    expect(sink.eof).toBe(true);
    sink.closeAll();
    finish(e);
  });

  it('gives up with ETIMEDOUT when the peer stops reading (no progress for idleMs)', () => {
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5558, 10000000, 0, 2000, 4096, 'tcp-send'));
    // a listener that accepts but never reads: the windows fill, then nothing moves
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 5558)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    let c = -1;
    expect(until(e, null, () => {
      if (c < 0) c = tcpAccept(e.b, l);
      return s.finished();
    }, 60000)).toBe(true);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(e.b.tcp.state[c]).not.toBe(TCP_ESTABLISHED); // our abort (RST) reached it
    const st = s.stats();
    expect(st.errno).toBe(ETIMEDOUT);
    expect(st.done).toBe(0);
    expect(st.bytesSent).toBeGreaterThan(0);
    expect(st.bytesSent).toBeLessThan(10000000);
    tcpClose(e.b, c);
    tcpClose(e.b, l);
    finish(e);
  });

  it('stop() in the middle of a transfer aborts the connection and marks it failed', () => {
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5559, 5000000, 0, 30000, 4096, 'tcp-send'));
    const sink = new Sink(e, 5559, 5000000);
    expect(until(e, sink, () => sink.n > 100000, 30000)).toBe(true);
    e.mux.stop();
    expect(s.finished()).toBe(true);
    expect(s.stats().errno).toBe(ETIMEDOUT);
    expect(until(e, sink, () => sink.err !== 0 || sink.eof, 1000)).toBe(true);
    expect(sink.eof).toBe(false); // a reset, not a FIN
    expect(s.phase).toBe(SEND_DONE);
    if (sink.c >= 0) tcpClose(e.b, sink.c);
    sink.closeAll();
    finish(e);
  });

  it('allocates ~nothing per step while streaming (sender on A, a reader on B with a fixed buffer)', async () => {
    const { e, s } = setup((x) => new TcpSendService(x.a, IP_B, 5560, 1e12, 0, 30000, 4096, 'tcp-send'));
    // the fixture's wire tap and B's event log allocate per segment / event: off (A's handler is the mux)
    e.link.a.filter = null;
    e.link.b.filter = null;
    e.b.events = null;
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, 5560)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    const inb = new Uint8Array(65536);
    const w = {
      c: -1,
      got: 0,
      bad: 0,
      run(n: number): void {
        for (let i = 0; i < n; i++) {
          step(e, null);
          if (this.c < 0) this.c = tcpAccept(e.b, l);
          if (this.c < 0) continue;
          for (;;) {
            const r = tcpRecv(e.b, this.c, inb, 0, inb.length);
            if (r <= 0) {
              if (r !== -EAGAIN) this.bad++;
              break;
            }
            this.got += r;
          }
        }
      },
    };
    w.run(200);
    expect(w.c).toBeGreaterThanOrEqual(0);
    const r = await measureAlloc(w as AllocWorkload, { window: 500, windows: 6, warmup: 3000, minWindow: 50 });
    expect(w.bad).toBe(0);
    expect(w.got).toBeGreaterThan(1000000);
    expect(s.stats().errno).toBe(0);
    expect(r.clean).toBeGreaterThan(0);
    expect(r.bytesPerOp).toBeLessThan(16);
    e.mux.stop();
    tcpClose(e.b, w.c);
    tcpClose(e.b, l);
    expectClean(e);
  });
});
