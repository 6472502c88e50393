/*
 * apps_tcp.test.ts — the TCP echo (RFC 862) and discard (RFC 863)
 * services of src/apps/ on stack B (through a ServiceMux, as `slabnet up`
 * runs them), driven by clients on stack A's TCP API over a PairLink in
 * virtual time. Each test ends with every TCB and skb back in its pool.
 */
import { describe, it, expect } from 'vitest';
import { serverPair, connect, Client, finish, runMs, until } from './apps_tcp_util';
import { pattern, sameBytes } from './tcp_util';
import { TcpEchoService, TCP_ECHO_PORT } from '../../src/apps/tcp_echo';
import { TcpDiscardService, TCP_DISCARD_PORT } from '../../src/apps/tcp_discard';
import { TCP_FREE } from '../../src/transport/tcp/tcp';
import { TcpService } from '../../src/apps/tcp_service';
import { ServiceMux } from '../../src/apps/service';
import { SERVICE_TABLE, UP_CONFIG, parseUpArgs } from '../../src/cli/up';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';

describe('tcp echo service', () => {
  it('echoes 200 KB byte-exact, then closes after the client does', () => {
    let echo: TcpEchoService | null = null;
    const e = serverPair((x) => [(echo = new TcpEchoService(x.b, TCP_ECHO_PORT, 4, 2048, 30000))]);
    const c = connect(e, TCP_ECHO_PORT);
    const cl = new Client(e, c, 1024);
    const data = pattern(200 * 1024, 5);
    cl.write(data);
    cl.shutAfterSend = true;
    expect(cl.runUntil(() => cl.eof, 60000)).toBe(true);
    expect(cl.n).toBe(data.length);
    expect(sameBytes(cl.bytes(), data)).toBe(true);
    const s = echo!.stats();
    expect(s.bytesIn).toBe(data.length);
    expect(s.bytesOut).toBe(data.length);
    expect(s.accepted).toBe(1);
    expect(s.closed).toBe(1);
    expect(s.active).toBe(0);
    cl.close();
    finish(e);
  });

  it('serves 3 clients at once, each getting its own bytes back; owns only its fds', () => {
    let echo: TcpEchoService | null = null;
    const e = serverPair((x) => [(echo = new TcpEchoService(x.b, TCP_ECHO_PORT, 4, 1024, 30000))]);
    const cls: Client[] = [];
    const datas: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      const cl = new Client(e, connect(e, TCP_ECHO_PORT), 1024);
      datas.push(pattern(30000 + k * 1000, 100 + k));
      cl.write(datas[k]);
      cl.shutAfterSend = true;
      cls.push(cl);
    }
    const ok = until(e, () => {
      for (const cl of cls) cl.pump();
      return cls.every((cl) => cl.eof);
    }, 60000);
    expect(ok).toBe(true);
    for (let k = 0; k < 3; k++) expect(sameBytes(cls[k].bytes(), datas[k])).toBe(true);
    expect(echo!.stats().maxActive).toBe(3);
    expect(echo!.owns(echo!.lh)).toBe(true);
    expect(echo!.owns(echo!.lh + 100)).toBe(false);
    expect(echo!.owns(-1)).toBe(false);
    for (const cl of cls) cl.close();
    finish(e);
  });

  it('closes an idle connection after idleMs (abortive: the client sees a reset or EOF)', () => {
    let echo: TcpEchoService | null = null;
    const e = serverPair((x) => [(echo = new TcpEchoService(x.b, TCP_ECHO_PORT, 2, 512, 500))]);
    const cl = new Client(e, connect(e, TCP_ECHO_PORT), 64);
    cl.write('hi');
    expect(cl.runUntil(() => cl.n === 2, 1000)).toBe(true);
    expect(cl.runUntil(() => cl.eof || cl.err !== 0, 3000)).toBe(true);
    expect(echo!.stats().idleClosed).toBe(1);
    expect(echo!.stats().active).toBe(0);
    cl.close();
    finish(e);
  });
});

describe('tcp discard service', () => {
  it('reads and counts 300 KB, sends nothing, closes after the client', () => {
    let d: TcpDiscardService | null = null;
    const e = serverPair((x) => [(d = new TcpDiscardService(x.b, TCP_DISCARD_PORT, 4, 4096, 30000))]);
    const c = connect(e, TCP_DISCARD_PORT);
    const cl = new Client(e, c, 64);
    const data = pattern(300 * 1024, 9);
    cl.write(data);
    cl.shutAfterSend = true;
    expect(cl.runUntil(() => cl.eof, 60000)).toBe(true);
    expect(cl.n).toBe(0);
    expect(d!.stats().bytesIn).toBe(data.length);
    expect(d!.stats().bytesOut).toBe(0);
    expect(d!.stats().closed).toBe(1);
    cl.close();
    finish(e);
  });

  it('echo and discard side by side; stop() frees every server TCB', () => {
    let d: TcpDiscardService | null = null;
    let ec: TcpEchoService | null = null;
    const e = serverPair((x) => [
      (ec = new TcpEchoService(x.b, TCP_ECHO_PORT, 2, 512, 30000)),
      (d = new TcpDiscardService(x.b, TCP_DISCARD_PORT, 2, 512, 30000)),
    ]);
    const a = new Client(e, connect(e, TCP_ECHO_PORT), 64);
    const b = new Client(e, connect(e, TCP_DISCARD_PORT), 64);
    a.write('ping');
    b.write('into the void');
    expect(a.runUntil(() => a.n === 4, 2000)).toBe(true);
    expect(b.runUntil(() => d!.stats().bytesIn === 13, 2000)).toBe(true);
    runMs(e, 100);
    b.pump();
    expect(b.n).toBe(0);
    expect(ec!.stats().bytesOut).toBe(4);
    e.mux.stop();
    runMs(e, 10);
    const tp = e.b.tcp;
    let appOwned = 0;
    for (let t = 0; t < tp.n; t++) if (tp.state[t] !== TCP_FREE && tp.owner[t] === 1) appOwned++;
    expect(appOwned).toBe(0);
    a.close();
    b.close();
    finish(e);
  });
});

describe('slabnet up service table', () => {
  it('echo and discard start UDP and TCP servers, http one more; UP_CONFIG has room for all their connections', () => {
    expect(parseUpArgs(['--ip', '192.0.2.2/24', '--frames', 'udp:1:2', '--serve', 'echo,discard,http'])).toMatchObject({
      serve: ['echo', 'discard', 'http'],
    });
    const st = new Stack('up', Object.assign({}, UP_CONFIG, { seed: 3 }), new ManualClock(0), undefined);
    const mux = new ServiceMux(st);
    const names: string[] = [];
    let slots = 0;
    for (const k of ['echo', 'discard', 'http']) {
      for (const s of SERVICE_TABLE[k](st)) {
        names.push(s.name);
        mux.add(s);
        if (s instanceof TcpService) slots += s.maxConns + 1;
      }
    }
    expect(names).toEqual(['udp-echo', 'tcp-echo', 'udp-discard', 'tcp-discard', 'http']);
    expect(mux.start()).toBe(0);
    expect(slots).toBeGreaterThanOrEqual(16 * 3);
    expect(st.cfg.tcpMaxSockets).toBeGreaterThanOrEqual(slots);
    // fds: every TCP slot and listener, plus the two UDP sockets
    expect(st.cfg.maxSockets).toBeGreaterThanOrEqual(slots + 2);
    // 3 timers per TCB must fit next to the stack's own
    expect(st.cfg.timerMax).toBeGreaterThanOrEqual(3 * st.cfg.tcpMaxSockets + 32);
    mux.stop();
    expect(st.tcp.inUse()).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  });
});
