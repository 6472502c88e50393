/*
 * net.test.ts — the node-style net facade (src/socket/net.ts) between two
 * stacks on a PairLink: an echo server and a client exchanging 200 KB
 * byte-exact, back-pressure (write → false, then 'drain'), the order of
 * 'end' / 'finish' / 'close' on both sides, ECONNREFUSED as 'error',
 * listen errors, server close, setTimeout, and a dgram socket sharing the
 * stack's event callback with net sockets.
 */
import { describe, it, expect } from 'vitest';
import { createServer, connect, createConnection, Socket, Server, isIP } from '../../src/socket/net';
import { createSocket } from '../../src/socket/dgram';
import { tcpPair, run, runUntil, pattern, sameBytes, TEnv } from './tcp_util';
import { expectAllClean } from './socket_tcp_util';

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** An echo server on B:port; returns it and the server-side sockets as they come. */
function echoServer(e: TEnv, port: number): { srv: Server; socks: Socket[]; log: string[] } {
  const socks: Socket[] = [];
  const log: string[] = [];
  const srv = createServer(e.b, (s: Socket) => {
    socks.push(s);
    s.on('data', (d: Uint8Array) => {
      if (!s.write(d)) s.pause();
    });
    s.on('drain', () => s.resume());
    s.on('end', () => log.push('srv end'));
    s.on('finish', () => log.push('srv finish'));
    s.on('close', (hadError: boolean) => log.push('srv close ' + hadError));
  });
  let listening = false;
  srv.listen(port, () => {
    listening = true;
  });
  expect(listening).toBe(true);
  expect(srv.address()).toEqual({ address: '0.0.0.0', port, family: 'IPv4' });
  return { srv, socks, log };
}

describe('net facade', () => {
  it('echo: 200 KB through an echo server, byte-exact, then end → end/finish/close on both sides', () => {
    const e = tcpPair();
    const { srv, socks, log } = echoServer(e, 8000);
    const data = pattern(200 * 1024, 11);
    const got: Uint8Array[] = [];
    let connected = false;
    let drains = 0;
    let falses = 0;
    const c = connect(e.a, 8000, '192.0.2.2', () => {
      connected = true;
    });
    c.on('data', (d: Uint8Array) => got.push(d));
    c.on('drain', () => drains++);
    c.on('end', () => log.push('cli end'));
    c.on('finish', () => log.push('cli finish'));
    c.on('close', (hadError: boolean) => log.push('cli close ' + hadError));
    let sent = 0;
    const step = 8192;
    const pump = (): void => {
      while (sent < data.length) {
        const n = Math.min(step, data.length - sent);
        const ok = c.write(data.subarray(sent, sent + n));
        sent += n;
        if (!ok) {
          falses++;
          return;
        }
      }
    };
    c.on('drain', pump);
    expect(runUntil(e, () => connected, 1000)).toBe(true);
    expect(c.remoteAddress).toBe('192.0.2.2');
    expect(c.remotePort).toBe(8000);
    expect(c.localAddress).toBe('192.0.2.1');
    expect(socks.length).toBe(1);
    expect(socks[0].remotePort).toBe(c.localPort);
    expect(socks[0].remoteAddress).toBe('192.0.2.1');
    pump();
    expect(runUntil(e, () => concat(got).length >= data.length, 60000)).toBe(true);
    expect(falses).toBeGreaterThan(0);
    expect(drains).toBeGreaterThan(0);
    const all = concat(got);
    expect(all.length).toBe(data.length);
    expect(sameBytes(all, data)).toBe(true);
    expect(c.bytesWritten).toBe(data.length);
    expect(c.bytesRead).toBe(data.length);
    expect(socks[0].bytesRead).toBe(data.length);
    c.end();
    expect(runUntil(e, () => log.length >= 6, 5000)).toBe(true);
    // the client's FIN → server 'end' → (allowHalfOpen false) server ends → client 'end'; both close without error
    expect(log.indexOf('cli finish')).toBeLessThan(log.indexOf('srv end'));
    expect(log.indexOf('srv end')).toBeLessThan(log.indexOf('srv finish'));
    expect(log.indexOf('srv finish')).toBeLessThan(log.indexOf('cli end'));
    expect(log.indexOf('srv end')).toBeLessThan(log.indexOf('srv close false'));
    expect(log.indexOf('cli end')).toBeLessThan(log.indexOf('cli close false'));
    expect(c.destroyed).toBe(true);
    let closed = false;
    srv.close(() => {
      closed = true;
    });
    expect(closed).toBe(true);
    expect(srv.address()).toBe(null);
    expectAllClean(e);
  });

  it('back-pressure: write returns false when TCP and the peer are full, then drain', () => {
    const e = tcpPair({ tcpSndBuf: 4096, tcpRcvBuf: 4096 });
    let server: Socket | null = null;
    const srv = createServer(e.b, (s: Socket) => {
      server = s; // no 'data' listener: nothing is read, the window closes
    });
    srv.listen(8001);
    const c = createConnection(e.a, { port: 8001, host: '192.0.2.2' });
    let drained = 0;
    c.on('drain', () => drained++);
    expect(runUntil(e, () => server !== null && !c.connecting, 1000)).toBe(true);
    const blob = pattern(20000, 5);
    expect(c.write(blob)).toBe(false);
    expect(c.writableLength).toBeGreaterThan(0);
    run(e, 200);
    expect(drained).toBe(0);
    expect(c.writableLength).toBeGreaterThan(20000 - 4096 - 4096 - 1);
    // the server starts reading: everything flows, 'drain' once the JS list is empty
    const got: Uint8Array[] = [];
    (server as unknown as Socket).on('data', (d: Uint8Array) => got.push(d));
    expect(runUntil(e, () => drained > 0, 10000)).toBe(true);
    expect(c.writableLength).toBe(0);
    expect(runUntil(e, () => concat(got).length === blob.length, 10000)).toBe(true);
    expect(sameBytes(concat(got), blob)).toBe(true);
    c.destroy();
    srv.close();
    expect(runUntil(e, () => (server as unknown as Socket).destroyed, 2000)).toBe(true);
    expectAllClean(e);
  });

  it('write before connect is queued and sent after connect; end(data) half-closes (allowHalfOpen)', () => {
    const e = tcpPair();
    const got: Uint8Array[] = [];
    const order: string[] = [];
    let srvSock: Socket | null = null;
    const srv = createServer(e.b, { allowHalfOpen: true }, (s: Socket) => {
      srvSock = s;
      s.on('data', (d: Uint8Array) => got.push(d));
      s.on('end', () => {
        order.push('srv end');
        // half-open: the server may still answer after the client's FIN
        s.end('bye');
      });
      s.on('close', () => order.push('srv close'));
    });
    srv.listen({ port: 8002, host: '192.0.2.2' });
    const c = connect(e.a, { port: 8002, host: '192.0.2.2' });
    expect(c.write('hello ')).toBe(true);
    c.end('world');
    const back: Uint8Array[] = [];
    c.on('data', (d: Uint8Array) => back.push(d));
    c.on('end', () => order.push('cli end'));
    c.on('close', (h: boolean) => order.push('cli close ' + h));
    expect(runUntil(e, () => order.length >= 4, 3000)).toBe(true);
    expect(new TextDecoder().decode(concat(got))).toBe('hello world');
    expect(new TextDecoder().decode(concat(back))).toBe('bye');
    expect(order[0]).toBe('srv end');
    expect(order).toContain('cli close false');
    expect(srvSock).not.toBe(null);
    srv.close();
    expectAllClean(e);
  });

  it('connect to a closed port: error ECONNREFUSED, then close(true)', () => {
    const e = tcpPair();
    const ev: string[] = [];
    let err: (Error & { code?: string; syscall?: string }) | null = null;
    const c = connect(e.a, 9, '192.0.2.2', () => ev.push('connect'));
    c.on('error', (x: Error) => {
      err = x;
      ev.push('error');
    });
    c.on('close', (h: boolean) => ev.push('close ' + h));
    run(e, 20);
    expect(ev).toEqual(['error', 'close true']);
    expect(err).not.toBe(null);
    expect((err as unknown as { code: string }).code).toBe('ECONNREFUSED');
    expect((err as unknown as { syscall: string }).syscall).toBe('connect');
    expect(c.write('x')).toBe(false); // after destroy: EPIPE 'error'
    expectAllClean(e);
  });

  it('bad host, bad port, listen errors', () => {
    const e = tcpPair();
    const codes: string[] = [];
    const c = connect(e.a, 80, 'no.such.host');
    c.on('error', (x: Error & { code: string }) => codes.push(x.code));
    const d = connect(e.a, 0, '192.0.2.2');
    d.on('error', (x: Error & { code: string }) => codes.push(x.code));
    run(e, 5);
    expect(codes).toEqual(['ENOTFOUND', 'EINVAL']);
    const s1 = createServer(e.b);
    s1.listen(8003);
    const s2 = createServer(e.b);
    const errs: string[] = [];
    s2.on('error', (x: Error & { code: string }) => errs.push(x.code));
    s2.listen(8003);
    s2.listen(8004, '10.9.9.9');
    expect(errs).toEqual(['EADDRINUSE', 'EADDRNOTAVAIL']);
    expect(isIP('192.0.2.1')).toBe(4);
    expect(isIP('nope')).toBe(0);
    s1.close();
    expectAllClean(e);
  });

  it('destroy() by the client: the server sees end and close; server.close waits for its connections', () => {
    const e = tcpPair();
    const { srv, socks, log } = echoServer(e, 8005);
    const c = connect(e.a, 8005, '192.0.2.2');
    const got: Uint8Array[] = [];
    c.on('data', (d: Uint8Array) => got.push(d));
    c.write('ping');
    expect(runUntil(e, () => got.length > 0, 2000)).toBe(true);
    let srvClosed = false;
    srv.close(() => {
      srvClosed = true;
    });
    expect(srvClosed).toBe(false); // one connection still open
    let n = 0;
    srv.getConnections((_e: Error | null, k: number) => {
      n = k;
    });
    expect(n).toBe(1);
    c.destroy();
    expect(runUntil(e, () => srvClosed, 3000)).toBe(true);
    expect(log).toContain('srv end');
    expect(log).toContain('srv close false');
    expect(socks[0].destroyed).toBe(true);
    expectAllClean(e);
  });

  it('peer reset: error ECONNRESET, close(true)', () => {
    const e = tcpPair();
    let srvSock: Socket | null = null;
    const srv = createServer(e.b, (s: Socket) => {
      srvSock = s;
    });
    srv.listen(8006);
    const c = connect(e.a, 8006, '192.0.2.2');
    const ev: string[] = [];
    c.on('error', (x: Error & { code: string }) => ev.push('error ' + x.code));
    c.on('close', (h: boolean) => ev.push('close ' + h));
    c.on('data', () => ev.push('data'));
    c.write('unread by the server');
    expect(runUntil(e, () => srvSock !== null, 1000)).toBe(true);
    run(e, 20);
    // the server never read the bytes: destroy() aborts with RST
    (srvSock as unknown as Socket).destroy();
    run(e, 20);
    expect(ev).toEqual(['error ECONNRESET', 'close true']);
    srv.close();
    expectAllClean(e);
  });

  it('setTimeout: timeout after idle time, re-armed by activity; keepalive/nodelay options reach TCP', () => {
    const e = tcpPair();
    const { srv } = echoServer(e, 8007);
    const c = connect(e.a, 8007, '192.0.2.2');
    let timeouts = 0;
    expect(runUntil(e, () => !c.connecting, 1000)).toBe(true);
    c.setNoDelay(true);
    c.setKeepAlive(true, 5000);
    const t = e.a.tcp;
    const tcb = e.a.sock.tcb[c.fd];
    expect(t.keepIdle[tcb]).toBe(5000);
    c.setTimeout(1000, () => timeouts++);
    run(e, 900);
    c.write('x');
    c.on('data', () => {});
    run(e, 900);
    expect(timeouts).toBe(0);
    run(e, 200);
    expect(timeouts).toBe(1);
    c.setTimeout(0);
    run(e, 3000);
    expect(timeouts).toBe(1);
    c.end();
    run(e, 100);
    srv.close();
    expectAllClean(e);
  });

  it('a dgram socket and net sockets share the stack event callback', () => {
    const e = tcpPair();
    const { srv } = echoServer(e, 8008);
    const u = createSocket(e.b, 'udp4');
    const msgs: string[] = [];
    u.on('message', (m: Uint8Array) => msgs.push(new TextDecoder().decode(m)));
    u.bind(5353);
    const ua = createSocket(e.a, 'udp4');
    const c = connect(e.a, 8008, '192.0.2.2');
    const got: Uint8Array[] = [];
    c.on('data', (d: Uint8Array) => got.push(d));
    c.write('tcp!');
    ua.send('udp!', 5353, '192.0.2.2');
    expect(runUntil(e, () => got.length > 0 && msgs.length > 0, 2000)).toBe(true);
    expect(new TextDecoder().decode(concat(got))).toBe('tcp!');
    expect(msgs).toEqual(['udp!']);
    // the test's own event log (installed before the mux) still sees fds nobody claimed
    c.destroy();
    u.close();
    ua.close();
    srv.close();
    run(e, 50);
    expectAllClean(e);
  });

  it('Socket objects: new Socket().connect, pause/resume hold data in TCP', () => {
    const e = tcpPair();
    const { srv } = echoServer(e, 8009);
    const c = new Socket(e.a);
    const got: Uint8Array[] = [];
    c.connect(8009, '192.0.2.2');
    c.on('data', (d: Uint8Array) => got.push(d));
    c.pause();
    c.write('abc');
    run(e, 100);
    expect(got.length).toBe(0);
    expect(e.a.tcp.rcvCount[e.a.sock.tcb[c.fd]]).toBe(3);
    c.resume();
    run(e, 5);
    expect(new TextDecoder().decode(concat(got))).toBe('abc');
    c.end();
    run(e, 100);
    expect(c.destroyed).toBe(true);
    srv.close();
    expectAllClean(e);
  });
});
