/*
 * tcp_conn_alloc.test.ts — TCP connection setup and teardown allocate
 * nothing in steady state: whole connections between two stacks on a
 * PairLink (A connects: route/source selection, ephemeral port, RFC 6528
 * ISN, SYN; B answers from its listener: request sock, SYN-ACK, child
 * TCB, accept; both close: FIN handshake, A's TIME_WAIT minisock expires),
 * measured with bench/alloc.ts (heap growth per connection, GC-free
 * windows). TurboFan inlining is off in this file's worker (as in
 * apps_tcp_alloc.test.ts): a number >= 2^31 or a float passed to or
 * returned from a call is then boxed even where inlining would hide it,
 * as on a colder path in production. Before the fix (tcpSecureIsn's
 * unsigned hash arithmetic, the unsigned ipSelectSource result) this
 * measured ~270 bytes per connection.
 */
import { describe, it, expect } from 'vitest';
import v8 from 'node:v8';
import { measureAlloc, AllocWorkload } from '../../bench/alloc';
import { tcpPair, TEnv, IP_B, expectClean } from './tcp_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpClose } from '../../src/transport/tcp/tcp_api';
import { TCP_ESTABLISHED, TCP_ACTIVEOPENS, TCP_PASSIVEOPENS, TX_TW } from '../../src/transport/tcp/tcp';
import { EINPROGRESS } from '../../src/core/errno';

v8.setFlagsFromString('--no-turbo-inlining');

const PORT = 7200;
const OVER = { tcpMslMs: 20, tcpTimeWaitSlots: 8 };

function step(e: TEnv): void {
  e.clock.advance(1);
  e.a.poll();
  e.b.poll();
}

/** One operation: connect + accept + close (A closes first) + A's TIME_WAIT expiry. */
class Conns implements AllocWorkload {
  done = 0;
  bad = 0;
  constructor(
    readonly e: TEnv,
    readonly l: number,
  ) {}
  run(n: number): void {
    const e = this.e;
    const msl2 = 2 * e.a.cfg.tcpMslMs;
    for (let i = 0; i < n; i++) {
      const c = tcpSocket(e.a);
      if (c < 0 || tcpConnect(e.a, c, IP_B, PORT) !== -EINPROGRESS) {
        this.bad++;
        if (c >= 0) tcpClose(e.a, c);
        continue;
      }
      let s = -1;
      let t = 0;
      for (; t < 200 && (s < 0 || e.a.tcp.state[c] !== TCP_ESTABLISHED); t++) {
        step(e);
        if (s < 0) s = tcpAccept(e.b, this.l);
      }
      if (s < 0 || e.a.tcp.state[c] !== TCP_ESTABLISHED) this.bad++;
      tcpClose(e.a, c);
      step(e);
      if (s >= 0) tcpClose(e.b, s);
      // FIN exchange, then A's TIME_WAIT (2 MSL) runs out
      for (t = 0; t < msl2 + 20 && (e.a.tcp.inUse() !== 0 || e.b.tcp.inUse() !== 1 || e.a.tcp.twCount !== 0); t++) step(e);
      if (e.a.tcp.inUse() !== 0 || e.b.tcp.inUse() !== 1 || e.a.tcp.twCount !== 0) this.bad++;
      this.done++;
    }
  }
}

describe('tcp connection allocation', () => {
  it('connect + accept + close + TIME_WAIT expiry allocates ~0 bytes per connection', async () => {
    const e = tcpPair(OVER);
    // the fixture's wire tap and event log allocate per segment / event: off
    e.link.a.filter = null;
    e.link.b.filter = null;
    e.a.events = null;
    e.b.events = null;
    const l = tcpSocket(e.b);
    expect(tcpBind(e.b, l, 0, PORT)).toBe(0);
    expect(tcpListen(e.b, l, 4)).toBe(0);
    const w = new Conns(e, l);
    const r = await measureAlloc(w, { window: 1000, windows: 6, warmup: 4000, minWindow: 100 });
    expect(w.bad).toBe(0);
    expect(w.done).toBeGreaterThan(9000);
    expect(e.a.tcp.mib[TCP_ACTIVEOPENS]).toBe(w.done);
    expect(e.b.tcp.mib[TCP_PASSIVEOPENS]).toBe(w.done);
    expect(e.a.tcp.ext[TX_TW]).toBe(w.done);
    expect(r.clean).toBeGreaterThan(0);
    console.log('tcp connection alloc: ' + r.bytesPerOp.toFixed(2) + ' B/conn (median ' + r.medianBytesPerOp.toFixed(2) + ', young ' + r.youngBytesPerOp.toFixed(2) + ', ' + r.clean + ' clean windows)');
    expect(r.bytesPerOp).toBeLessThan(1);
    tcpClose(e.b, l);
    expectClean(e);
  }, 120000);
});
