/*
 * dgram.test.ts — the node-style dgram facade (src/socket/dgram.ts) and
 * the event plumbing under it (src/socket/events.ts).
 */
import { describe, it, expect } from 'vitest';
import { EV_READABLE } from '../../src/stack';
import { createSocket, DgramSocket, RemoteInfo, utf8Encode } from '../../src/socket/dgram';
import { Emitter, eventMux, EventMux } from '../../src/socket/events';
import { socket, bind, sendto, close, SOCK_DGRAM } from '../../src/socket/socket';
import { twoStacks, run, Env, IP_B } from './udp_util';

function text(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function finish(e: Env, socks: DgramSocket[]): void {
  for (const s of socks) s.close();
  run(e, 100);
  expect(e.a.sock.open).toBe(0);
  expect(e.b.sock.open).toBe(0);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

describe('dgram facade', () => {
  it('echo server and client', () => {
    const e = twoStacks(undefined);
    const server = createSocket(e.b, 'udp4');
    const events: string[] = [];
    server.on('listening', () => events.push('listening'));
    server.on('message', (msg: Uint8Array, rinfo: RemoteInfo) => {
      events.push('srv:' + text(msg) + '@' + rinfo.address + ':' + rinfo.port + '/' + rinfo.size);
      expect(rinfo.family).toBe('IPv4');
      server.send(msg, rinfo.port, rinfo.address);
    });
    let bound = false;
    server.bind(41234, () => {
      bound = true;
    });
    expect(bound).toBe(true);
    expect(server.address()).toEqual({ address: '0.0.0.0', port: 41234, family: 'IPv4' });

    const got: string[] = [];
    const client = createSocket(e.a, { type: 'udp4' }, (msg: Uint8Array, rinfo: RemoteInfo) => {
      got.push(text(msg) + '<' + rinfo.address + ':' + rinfo.port);
    });
    let sent = -1;
    client.send('hello', 41234, '192.0.2.2', (err?: Error | null, n?: number) => {
      expect(err).toBeNull();
      sent = n as number;
    });
    expect(sent).toBe(5);
    const cport = client.address().port;
    expect(cport).toBeGreaterThan(0);
    client.send(new Uint8Array([0x41, 0x42, 0x43, 0x44]), 1, 2, 41234, '192.0.2.2');
    run(e, 50);
    expect(events).toEqual([
      'listening',
      'srv:hello@192.0.2.1:' + cport + '/5',
      'srv:BC@192.0.2.1:' + cport + '/2',
    ]);
    expect(got).toEqual(['hello<192.0.2.2:41234', 'BC<192.0.2.2:41234']);
    let closed = 0;
    server.on('close', () => closed++);
    finish(e, [server, client]);
    expect(closed).toBe(1);
  });

  it('connect, errors as events and callbacks, ECONNREFUSED', () => {
    const e = twoStacks(undefined);
    const c = createSocket(e.a, 'udp4');
    const errs: string[] = [];
    c.on('error', (err: Error & { code: string }) => errs.push(err.code));
    let connected = false;
    c.connect(9, '192.0.2.2', () => {
      connected = true;
    });
    expect(connected).toBe(true);
    expect(c.remoteAddress()).toEqual({ address: '192.0.2.2', port: 9, family: 'IPv4' });
    c.send('x');
    run(e, 50);
    expect(errs).toEqual(['ECONNREFUSED']);
    // bad address → callback error, not an event
    let cbErr = '';
    c.send('y', 9, 'not-an-ip', (err?: Error | null) => {
      cbErr = (err as Error & { code: string }).code;
    });
    expect(cbErr).toBe('EINVAL');
    // bind conflict → 'error' event
    const d = createSocket(e.a, 'udp4');
    d.on('error', (err: Error & { code: string }) => errs.push(err.code));
    const port = c.address().port;
    d.bind(port);
    expect(errs).toEqual(['ECONNREFUSED', 'EADDRINUSE']);
    // broadcast needs setBroadcast
    const b = createSocket(e.a, 'udp4');
    const berr: string[] = [];
    b.send('z', 7, '192.0.2.255', (err?: Error | null) => berr.push(err ? (err as Error & { code: string }).code : 'ok'));
    b.setBroadcast(true);
    b.send('z', 7, '192.0.2.255', (err?: Error | null) => berr.push(err ? (err as Error & { code: string }).code : 'ok'));
    expect(berr).toEqual(['EACCES', 'ok']);
    expect(() => createSocket(e.a, 'udp6')).toThrow();
    finish(e, [c, d, b]);
  });

  it('the mux forwards events of fds it does not own to the previous handler', () => {
    const e = twoStacks(undefined);
    const seen: number[] = [];
    e.b.events = { onSocketEvent: (fd: number, ev: number) => seen.push(fd * 100 + ev) };
    const m = eventMux(e.b);
    expect(m).toBeInstanceOf(EventMux);
    expect(eventMux(e.b)).toBe(m);
    const raw = socket(e.b, SOCK_DGRAM, 0);
    const fac = createSocket(e.b, 'udp4');
    fac.bind(7000);
    let msgs = 0;
    fac.on('message', () => msgs++);
    // the plain fd gets its event through the fallback handler
    expect(bind(e.b, raw, 0, 7001)).toBe(0);
    const a = socket(e.a, SOCK_DGRAM, 0);
    const one = new Uint8Array(1);
    sendto(e.a, a, one, 0, 1, IP_B, 7001);
    sendto(e.a, a, one, 0, 1, IP_B, 7000);
    sendto(e.a, a, one, 0, 1, IP_B, 7000);
    run(e, 50);
    expect(seen).toEqual([raw * 100 + EV_READABLE]);
    expect(msgs).toBe(2);
    close(e.a, a);
    close(e.b, raw);
    finish(e, [fac]);
  });

  it('Emitter: on/once/off, listeners added during emit wait for the next round', () => {
    const em = new Emitter();
    const log: string[] = [];
    const f = (a: number) => log.push('f' + a);
    em.on('x', f);
    em.once('x', (a: number) => {
      log.push('once' + a);
      em.on('x', (b: number) => log.push('late' + b));
    });
    expect(em.emit('x', 1)).toBe(true);
    expect(em.emit('x', 2)).toBe(true);
    em.off('x', f);
    em.emit('x', 3);
    expect(em.emit('nothing', 0)).toBe(false);
    expect(log).toEqual(['f1', 'once1', 'f2', 'late2', 'late3']);
    expect(em.listenerCount('x')).toBe(1);
    em.removeAllListeners('x');
    expect(em.listenerCount('x')).toBe(0);
  });

  it('utf8Encode matches TextEncoder', () => {
    const s = 'héllo €𝄞!';
    expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
  });
});
