/*
 * net.ts — a node-style `net` facade (createServer, connect /
 * createConnection, Socket, Server) over the zero-allocation SOCK_STREAM
 * socket API. Application side: it allocates (one Uint8Array per 'data'
 * chunk, pending-write entries, Error objects, address strings).
 *
 * Not on the packet path. Readiness events reach the facade through the
 * stack's EventMux (events.ts, shared with dgram sockets). They are NOT
 * acted on inside the callback: the callback runs in the middle of TCP
 * input processing, where closing a socket or sending would change a TCB
 * that tcp_input is still working on. Each event is recorded per fd and
 * a stack timer armed for "now" runs the facade at the start of the next
 * st.poll() (like a softirq waking a process), where reads, writes and
 * closes are ordinary application calls.
 *
 * Reading uses one module-wide buffer: each chunk read is copied out into
 * its own Uint8Array for 'data'. A socket reads only while it has a
 * 'data' listener and is not paused (node's flowing mode): otherwise the
 * bytes wait in the TCP receive ring, and the window closes (back-pressure
 * to the peer). write() hands bytes to TCP at once; what the send buffer
 * cannot take waits in a small JS list (write returns false), flushed on
 * EV_WRITABLE, then 'drain'.
 *
 * Events: Socket 'connect', 'data' (Uint8Array), 'end' (peer FIN, all
 * data read), 'finish' (our FIN queued), 'drain', 'timeout', 'error'
 * (Error with code 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', ... and
 * errno, syscall), 'close' (hadError). Server 'listening', 'connection',
 * 'error', 'close'. Differences from node: 'listening' and listen errors
 * are synchronous (attach listeners first); host names go to the stack's
 * resolver (st.resolver: a DnsResolver made on the stack; 'lookup' is
 * emitted before connecting, a failure is an 'error' with code ENOTFOUND,
 * EAI_AGAIN or EAI_FAIL), without one only dotted quads and 'localhost'
 * (others give ENOTFOUND); an 'error'
 * nobody listens to is dropped, not thrown; a socket whose connection is
 * over closes itself (emits 'close') even if the application never calls
 * destroy(). Espruino-safe: no Map/Set, spread/rest or default parameters.
 */
import type { Stack, NameHandler } from '../stack';
import type { TimerHandler } from '../core/timer';
import { copyBytes } from '../core/bytes';
import { EAGAIN, EINVAL, EPIPE, ECONNRESET, ENOTCONN, EINPROGRESS, errnoName } from '../core/errno';
import { FEATURE_ERRNO_NAMES } from '../features';
import { parseIp, formatIp } from '../link/ifaddr';
import {
  socket, bind, listen, accept, connect as sockConnect, send, recv, shutdown, close, setsockopt, getsockname,
  getpeername, poll, sockErr, recvLen, SOCK_STREAM, IPPROTO_TCP, SOL_SOCKET, SO_KEEPALIVE, SOL_TCP,
  TCP_NODELAY, TCP_KEEPIDLE, SHUT_WR,
} from './socket';
import { SK_EV_READABLE, SK_EV_WRITABLE, SK_EV_CONNECTED, SK_EV_CLOSED, SK_EV_ERROR } from './sock';
import { Emitter, EventMux, eventMux, SocketEventListener } from './events';
import { utf8Encode } from './dgram';
import { EAI_NONAME, EAI_NODATA, EAI_BADNAME, EAI_AGAIN, EAI_NOSERVERS, EAI_FAIL } from '../wire/dns';

/** An Error with node's `code` / `errno` / `syscall` fields. */
export interface NetError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function netError(syscall: string, rc: number): NetError {
  const name = FEATURE_ERRNO_NAMES ? errnoName(rc) : 'errno ' + (rc < 0 ? -rc : rc);
  const e = new Error(syscall + ' ' + name) as NetError;
  e.code = name;
  e.errno = rc;
  e.syscall = syscall;
  return e;
}

function namedError(syscall: string, code: string, errno: number): NetError {
  const e = new Error(syscall + ' ' + code) as NetError;
  e.code = code;
  e.errno = errno;
  e.syscall = syscall;
  return e;
}

export interface NetAddressInfo {
  address: string;
  port: number;
  family: string;
}

/** pend[] bit: "look at this socket" without a stack event (new listener, resume, accept) */
const EV_KICK = 0x100;
/** bytes per read (one buffer for every socket of every stack) */
const READ_CHUNK = 2048;
/** node's default writableHighWaterMark: queueing beyond it while connecting makes write() return false */
const HIGH_WATER = 16384;
let readBuf: Uint8Array | null = null;

/** What the dispatcher drives: a Socket or a Server. */
interface NetEndpoint {
  onNetEvent(mask: number): void;
  checkTimeout(now: number): number;
}

class NoEndpoint implements NetEndpoint {
  onNetEvent(_mask: number): void {}
  checkTimeout(_now: number): number {
    return -1;
  }
}
const NO_ENDPOINT = new NoEndpoint();

/**
 * Per-stack event dispatcher: records readiness per fd from the EventMux
 * and runs the endpoints from a stack timer (see the header).
 */
export class NetDispatch implements SocketEventListener, TimerHandler {
  readonly st: Stack;
  private readonly mux: EventMux;
  private readonly pend: Int32Array;
  private readonly ends: NetEndpoint[] = [];
  private readonly tid: number;
  private armedAt = -1;
  private running = false;
  /** sockets with an idle timeout (setTimeout) */
  timed = 0;

  constructor(st: Stack) {
    this.st = st;
    this.mux = eventMux(st);
    const n = st.cfg.maxSockets;
    this.pend = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ends.push(NO_ENDPOINT);
    this.tid = st.timers.register(this, 0);
    if (this.tid < 0) throw new Error('net: timer table full (cfg.timerMax)');
  }

  attach(fd: number, ep: NetEndpoint): void {
    this.ends[fd] = ep;
    this.pend[fd] = 0;
    this.mux.set(fd, this);
  }

  detach(fd: number): void {
    if (fd < 0 || fd >= this.pend.length) return;
    this.ends[fd] = NO_ENDPOINT;
    this.pend[fd] = 0;
    this.mux.set(fd, null);
  }

  /** EventMux: remember, act later. */
  onSocketEvent(fd: number, ev: number): void {
    if (fd < 0 || fd >= this.pend.length) return;
    this.pend[fd] |= ev;
    this.arm(this.st.now());
  }

  /** Have fd looked at on the next run. */
  post(fd: number, ev: number): void {
    this.onSocketEvent(fd, ev | EV_KICK);
  }

  arm(at: number): void {
    if (this.armedAt >= 0 && this.armedAt <= at) return;
    this.armedAt = at;
    this.st.timers.mod(this.tid, at);
  }

  onTimer(_arg: number): void {
    this.armedAt = -1;
    if (this.running) return;
    this.running = true;
    try {
      // handlers may cause more events (a write, an accept): a few rounds
      for (let round = 0; round < 4; round++) {
        let any = false;
        for (let fd = 0; fd < this.pend.length; fd++) {
          const ev = this.pend[fd];
          if (ev === 0) continue;
          this.pend[fd] = 0;
          any = true;
          this.ends[fd].onNetEvent(ev);
        }
        if (!any) break;
      }
      if (this.timed > 0) {
        const now = this.st.now();
        let next = -1;
        for (let fd = 0; fd < this.ends.length; fd++) {
          const d = this.ends[fd].checkTimeout(now);
          if (d >= 0 && (next < 0 || d < next)) next = d;
        }
        if (next >= 0) this.arm(next);
      }
    } finally {
      this.running = false;
    }
    for (let fd = 0; fd < this.pend.length; fd++) {
      if (this.pend[fd] !== 0) {
        this.arm(this.st.now());
        break;
      }
    }
  }
}

/** The stack's dispatcher, created on first use. */
export function netDispatch(st: Stack): NetDispatch {
  const h = st as unknown as { netDispatch: NetDispatch | undefined };
  let d = h.netDispatch;
  if (d === undefined) {
    d = new NetDispatch(st);
    h.netDispatch = d;
  }
  return d;
}

function toBytes(data: Uint8Array | string | ArrayLike<number>): Uint8Array {
  if (typeof data === 'string') return utf8Encode(data);
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] & 0xff;
  return out;
}

/**
 * A failed lookup as node reports it (code ENOTFOUND for no such name or
 * no address, EAI_AGAIN when no server answered or none is known,
 * EAI_FAIL otherwise; errno is the resolver's EAI_* code).
 */
function lookupError(err: number, host: string): NetError {
  const code = err === EAI_NONAME || err === EAI_NODATA || err === EAI_BADNAME ? 'ENOTFOUND' : err === EAI_AGAIN || err === EAI_NOSERVERS ? 'EAI_AGAIN' : 'EAI_FAIL';
  const e = namedError('getaddrinfo', code, err);
  e.message = 'getaddrinfo ' + code + ' ' + host;
  return e;
}

/** A host string as an s32 address; null when it is not an IPv4 address. */
function hostAddr(host: string | undefined | null): number | null {
  if (host === undefined || host === null || host === '' || host === 'localhost') return 0x7f000001;
  return parseIp(host);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (a?: any, b?: any) => void;

interface PendingWrite {
  data: Uint8Array;
  off: number;
  cb: AnyFn | null;
}

export interface SocketOptions {
  allowHalfOpen?: boolean;
}

export class Socket extends Emitter implements NetEndpoint, NameHandler {
  readonly st: Stack;
  fd = -1;
  connecting = false;
  destroyed = false;
  remoteAddress: string | undefined = undefined;
  remotePort: number | undefined = undefined;
  remoteFamily: string | undefined = undefined;
  localAddress: string | undefined = undefined;
  localPort: number | undefined = undefined;
  bytesRead = 0;
  bytesWritten = 0;
  /** keep our side open after the peer's FIN (node's allowHalfOpen) */
  allowHalfOpen = false;
  /** the server that accepted this socket */
  server: Server | null = null;
  private readonly d: NetDispatch;
  private pending: PendingWrite[] = [];
  /** bytes waiting in the JS-side write list (node's writableLength) */
  writableLength = 0;
  private needDrain = false;
  private ending = false;
  private finished = false;
  private gotEnd = false;
  private paused = false;
  private hadError = false;
  private deferredErr: NetError | null = null;
  private timeoutMs = 0;
  private lastActive = 0;
  /** a name lookup in flight: its resolver handle (-1 while resolveWith runs), 0 = none */
  private lookup = 0;
  private lookupHost = '';
  private lookupPort = 0;

  constructor(st: Stack, opts?: SocketOptions) {
    super();
    this.st = st;
    this.d = netDispatch(st);
    if (opts !== undefined && opts !== null && opts.allowHalfOpen === true) this.allowHalfOpen = true;
  }

  /** Adopt an accepted fd (Server). */
  adopt(fd: number): void {
    this.fd = fd;
    this.d.attach(fd, this);
    this.fillAddresses();
    this.lastActive = this.st.now();
    this.d.post(fd, 0);
  }

  private fillAddresses(): void {
    const o = new Uint32Array(2);
    if (getsockname(this.st, this.fd, o) === 0) {
      this.localAddress = formatIp(o[0]);
      this.localPort = o[1];
    }
    if (getpeername(this.st, this.fd, o) === 0) {
      this.remoteAddress = formatIp(o[0]);
      this.remotePort = o[1];
      this.remoteFamily = 'IPv4';
    }
  }

  /** connect(port, host?, cb?) | connect({port, host}, cb?): 'connect' or 'error' follows. */
  connect(port: number | { port: number; host?: string }, host?: string | AnyFn, cb?: AnyFn): this {
    let p: number;
    let h: string | undefined;
    let c: AnyFn | undefined = cb;
    if (typeof port === 'object' && port !== null) {
      p = port.port;
      h = port.host;
      if (typeof host === 'function') c = host;
    } else {
      p = port;
      if (typeof host === 'function') c = host;
      else h = host;
    }
    if (c !== undefined && c !== null) this.once('connect', c);
    if (this.fd >= 0 || this.destroyed) {
      this.failLater(netError('connect', -EINVAL));
      return this;
    }
    const fd = socket(this.st, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
      // no fd to hang the deferred error on: report it now
      this.hadError = true;
      this.destroyed = true;
      this.emit('error', netError('connect', fd));
      this.emit('close', true);
      return this;
    }
    this.fd = fd;
    this.d.attach(fd, this);
    this.connecting = true;
    this.lastActive = this.st.now();
    if (typeof p !== 'number' || p <= 0 || p > 65535 || Math.floor(p) !== p) {
      this.failLater(netError('connect', -EINVAL));
      return this;
    }
    const addr = hostAddr(h);
    if (addr !== null) {
      this.connectTo(addr, p);
      return this;
    }
    // a host name: the stack's resolver (st.resolver), then connect (node: 'lookup', then 'connect')
    const r = this.st.resolver;
    if (r === null) {
      this.failLater(namedError('getaddrinfo', 'ENOTFOUND', EAI_NONAME));
      return this;
    }
    this.lookupHost = h as string;
    this.lookupPort = p;
    this.lookup = -1;
    const hd = r.resolveWith(this.lookupHost, this, 0);
    // answered inside resolveWith (a cache hit): onResolved has run and cleared lookup
    if (this.lookup === -1) {
      if (hd > 0) this.lookup = hd;
      else {
        this.lookup = 0;
        this.failLater(lookupError(hd < 0 ? hd : EAI_FAIL, this.lookupHost));
      }
    }
    return this;
  }

  private connectTo(addr: number, p: number): void {
    const rc = sockConnect(this.st, this.fd, addr, p);
    if (rc !== -EINPROGRESS && rc < 0) this.failLater(netError('connect', rc));
  }

  /** The resolver's answer for connect(port, name) (NameHandler; from a stack timer or inside resolveWith). */
  onResolved(_tag: number, err: number, addr: number, _ttl: number): void {
    this.lookup = 0;
    if (this.destroyed || this.fd < 0) return;
    const e = err === 0 ? null : lookupError(err, this.lookupHost);
    this.emit('lookup', e, e === null ? formatIp(addr) : undefined); // node adds family and host
    if (this.destroyed || this.fd < 0) return;
    if (e !== null) this.failLater(e);
    else this.connectTo(addr, this.lookupPort);
  }

  private failLater(e: NetError): void {
    this.deferredErr = e;
    if (this.fd >= 0) this.d.post(this.fd, 0);
  }

  override on(name: string, fn: AnyFn): this {
    super.on(name, fn);
    if (name === 'data' && this.fd >= 0 && !this.destroyed) this.d.post(this.fd, 0);
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    if (this.fd >= 0 && !this.destroyed) this.d.post(this.fd, 0);
    return this;
  }

  private flowing(): boolean {
    return !this.paused && this.listenerCount('data') > 0;
  }

  /** Dispatcher: act on the recorded events (ev) and the socket's state now. */
  onNetEvent(ev: number): void {
    if (this.destroyed || this.fd < 0) return;
    if (this.deferredErr !== null) {
      const e = this.deferredErr;
      this.deferredErr = null;
      this.destroy(e);
      return;
    }
    if (this.lookup !== 0) return; // the name is being looked up: no connection yet
    const st = this.st;
    let mask = ev | poll(st, this.fd);
    if (this.connecting) {
      if ((mask & (SK_EV_ERROR | SK_EV_CLOSED)) !== 0) {
        const e = sockErr(st, this.fd);
        this.destroy(netError('connect', e < 0 ? e : -ECONNRESET));
        return;
      }
      if ((mask & (SK_EV_CONNECTED | SK_EV_WRITABLE)) === 0) return;
      this.connecting = false;
      this.fillAddresses();
      this.lastActive = st.now();
      this.emit('connect');
      if (this.destroyed) return;
      mask = poll(st, this.fd);
    }
    if (this.flowing()) this.readAll();
    if (this.destroyed) return;
    if ((mask & SK_EV_ERROR) !== 0) {
      const e = sockErr(st, this.fd);
      if (e < 0) {
        this.destroy(netError('read', e));
        return;
      }
    }
    if (this.pending.length > 0 || this.ending) this.flush();
    if (this.destroyed) return;
    if ((poll(st, this.fd) & SK_EV_CLOSED) !== 0) {
      // the connection is over: what is unread waits for a reader, then close
      if (this.flowing() || recvLen(st, this.fd) <= 0) this.destroy(null);
    }
  }

  /** Read until the ring is empty: 'data' per chunk, 'end' at the peer's FIN. */
  private readAll(): void {
    if (readBuf === null) readBuf = new Uint8Array(READ_CHUNK);
    const b = readBuf;
    while (!this.destroyed && this.flowing()) {
      const r = recv(this.st, this.fd, b, 0, b.length);
      if (r === -EAGAIN) return;
      if (r < 0) {
        if (r !== -ENOTCONN) this.destroy(netError('read', r));
        return;
      }
      if (r === 0) {
        if (!this.gotEnd) {
          this.gotEnd = true;
          this.emit('end');
          if (!this.allowHalfOpen && !this.destroyed) this.end();
        }
        return;
      }
      const chunk = new Uint8Array(r);
      copyBytes(chunk, 0, b, 0, r);
      this.bytesRead += r;
      this.lastActive = this.st.now();
      this.emit('data', chunk);
    }
  }

  /** Hand queued bytes to TCP; 'drain' when the list empties; FIN after the last byte when ending. */
  private flush(): void {
    const st = this.st;
    while (this.pending.length > 0 && !this.destroyed) {
      const w = this.pending[0];
      const r = send(st, this.fd, w.data, w.off, w.data.length - w.off);
      if (r === -EAGAIN) return;
      if (r < 0) {
        this.destroy(netError('write', r));
        return;
      }
      w.off += r;
      this.writableLength -= r;
      this.bytesWritten += r;
      this.lastActive = st.now();
      if (w.off < w.data.length) return;
      this.pending.shift();
      if (w.cb !== null) w.cb(null);
    }
    if (this.destroyed) return;
    if (this.needDrain) {
      this.needDrain = false;
      this.emit('drain');
    }
    if (this.ending && !this.finished && this.pending.length === 0) {
      this.finished = true;
      shutdown(st, this.fd, SHUT_WR);
      this.emit('finish');
    }
  }

  /**
   * write(data, [encoding], [cb]): false when the bytes could not all go
   * to the TCP send buffer now (they wait here; 'drain' follows).
   */
  write(data: Uint8Array | string | ArrayLike<number>, enc?: string | AnyFn, cb?: AnyFn): boolean {
    let c: AnyFn | null = null;
    if (typeof enc === 'function') c = enc;
    else if (typeof cb === 'function') c = cb;
    if (this.destroyed || this.ending || this.fd < 0) {
      const e = namedError('write', 'EPIPE', -EPIPE);
      if (c !== null) c(e);
      this.emit('error', e);
      return false;
    }
    const bytes = toBytes(data);
    if (bytes.length === 0) {
      if (c !== null) c(null);
      return true;
    }
    this.pending.push({ data: bytes, off: 0, cb: c });
    this.writableLength += bytes.length;
    if (this.connecting) {
      if (this.writableLength >= HIGH_WATER) this.needDrain = true;
      return !this.needDrain;
    }
    this.needDrain = false; // set again below when bytes are left waiting
    this.flush();
    if (this.pending.length > 0) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** end([data], [encoding], [cb]): FIN after everything written; cb on 'finish'. */
  end(data?: Uint8Array | string | AnyFn, enc?: string | AnyFn, cb?: AnyFn): this {
    let c: AnyFn | null = null;
    if (typeof data === 'function') c = data;
    else if (typeof enc === 'function') c = enc;
    else if (typeof cb === 'function') c = cb;
    if (data !== undefined && data !== null && typeof data !== 'function') this.write(data);
    if (c !== null) this.once('finish', c);
    if (this.ending || this.destroyed) return this;
    this.ending = true;
    if (!this.connecting && this.fd >= 0) this.flush();
    return this;
  }

  /** destroy([err]): close the fd now (FIN, or RST when data is unread); 'error' (if err), then 'close'. */
  destroy(err?: Error | null): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.connecting = false;
    if (this.lookup > 0 && this.st.resolver !== null) this.st.resolver.cancel(this.lookup);
    this.lookup = 0;
    if (this.fd >= 0) {
      this.d.detach(this.fd);
      close(this.st, this.fd);
      this.fd = -1;
    }
    if (this.timeoutMs > 0) {
      this.timeoutMs = 0;
      this.d.timed--;
    }
    this.pending = [];
    this.writableLength = 0;
    if (err !== undefined && err !== null) {
      this.hadError = true;
      this.emit('error', err);
    }
    if (this.server !== null) this.server.connectionClosed();
    this.emit('close', this.hadError);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    if (this.fd >= 0) setsockopt(this.st, this.fd, SOL_TCP, TCP_NODELAY, noDelay === false ? 0 : 1);
    return this;
  }

  /** setKeepAlive([enable], [initialDelay ms]) */
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    if (this.fd < 0) return this;
    if (typeof initialDelay === 'number' && initialDelay > 0) {
      const s = Math.floor(initialDelay / 1000);
      setsockopt(this.st, this.fd, SOL_TCP, TCP_KEEPIDLE, s < 1 ? 1 : s);
    }
    setsockopt(this.st, this.fd, SOL_SOCKET, SO_KEEPALIVE, enable === true ? 1 : 0);
    return this;
  }

  /** setTimeout(ms, [cb]): 'timeout' after ms without reads or writes (0 = off); the socket stays open. */
  setTimeout(ms: number, cb?: AnyFn): this {
    if (cb !== undefined && cb !== null) this.once('timeout', cb);
    const on = ms > 0 && !this.destroyed;
    if (on && this.timeoutMs === 0) this.d.timed++;
    if (!on && this.timeoutMs > 0) this.d.timed--;
    this.timeoutMs = on ? ms : 0;
    this.lastActive = this.st.now();
    if (on) this.d.arm(this.lastActive + ms);
    return this;
  }

  /** Dispatcher: the next deadline (ms), or -1 when none. */
  checkTimeout(now: number): number {
    if (this.timeoutMs === 0 || this.destroyed) return -1;
    if (now - this.lastActive >= this.timeoutMs) {
      this.lastActive = now;
      this.emit('timeout');
    }
    return this.timeoutMs === 0 || this.destroyed ? -1 : this.lastActive + this.timeoutMs;
  }

  address(): NetAddressInfo {
    return { address: this.localAddress !== undefined ? this.localAddress : '0.0.0.0', port: this.localPort !== undefined ? this.localPort : 0, family: 'IPv4' };
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

export interface ServerOptions {
  allowHalfOpen?: boolean;
}

export class Server extends Emitter implements NetEndpoint {
  readonly st: Stack;
  fd = -1;
  listening = false;
  private readonly d: NetDispatch;
  private conns = 0;
  private closing = false;
  private closeEmitted = false;
  private readonly allowHalfOpen: boolean;
  private readonly peer = new Uint32Array(2);

  constructor(st: Stack, opts?: ServerOptions) {
    super();
    this.st = st;
    this.d = netDispatch(st);
    this.allowHalfOpen = opts !== undefined && opts !== null && opts.allowHalfOpen === true;
  }

  /**
   * listen(port, [host], [backlog], [cb]) | listen({port, host, backlog}, [cb]).
   * Synchronous: 'listening' (and cb) or 'error' before it returns.
   */
  listen(
    port?: number | { port?: number; host?: string; backlog?: number },
    host?: string | number | AnyFn,
    backlog?: number | AnyFn,
    cb?: AnyFn,
  ): this {
    let p = 0;
    let h: string | undefined;
    let bl = 8;
    let c: AnyFn | undefined;
    if (typeof port === 'object' && port !== null) {
      p = port.port !== undefined ? port.port : 0;
      h = port.host;
      if (port.backlog !== undefined) bl = port.backlog;
      if (typeof host === 'function') c = host;
    } else {
      if (typeof port === 'number') p = port;
      if (typeof host === 'function') c = host;
      else if (typeof host === 'number') bl = host;
      else h = host;
      if (typeof backlog === 'function') c = backlog;
      else if (typeof backlog === 'number') bl = backlog;
      if (typeof cb === 'function') c = cb;
    }
    if (this.listening || this.closing) {
      this.emit('error', netError('listen', -EINVAL));
      return this;
    }
    const addr = h === undefined || h === null || h === '' ? 0 : parseIp(h);
    if (addr === null) {
      this.emit('error', namedError('listen', 'ENOTFOUND', -3008));
      return this;
    }
    const fd = socket(this.st, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
      this.emit('error', netError('listen', fd));
      return this;
    }
    let rc = bind(this.st, fd, addr, p);
    if (rc === 0) rc = listen(this.st, fd, bl);
    if (rc < 0) {
      close(this.st, fd);
      this.emit('error', netError('listen', rc));
      return this;
    }
    this.fd = fd;
    this.listening = true;
    this.d.attach(fd, this);
    if (c !== undefined) this.once('listening', c);
    this.emit('listening');
    this.d.post(fd, 0); // connections that are already queued
    return this;
  }

  /** Dispatcher: accept every queued connection; 'connection' for each. */
  onNetEvent(_ev: number): void {
    if (!this.listening) return;
    for (;;) {
      const nfd = accept(this.st, this.fd, this.peer);
      if (nfd < 0) return; // -EAGAIN, or -EMFILE (stays queued; retried on the next event)
      const s = new Socket(this.st, { allowHalfOpen: this.allowHalfOpen });
      s.server = this;
      this.conns++;
      s.adopt(nfd);
      this.emit('connection', s);
      if (!this.listening) return;
    }
  }

  checkTimeout(_now: number): number {
    return -1;
  }

  /** A socket this server accepted has closed. */
  connectionClosed(): void {
    this.conns--;
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.closing && this.conns === 0 && !this.closeEmitted) {
      this.closeEmitted = true;
      this.emit('close');
    }
  }

  /** close([cb]): stop listening (queued, unaccepted connections are reset); 'close' once every connection has closed. */
  close(cb?: AnyFn): this {
    if (cb !== undefined && cb !== null) this.once('close', cb);
    if (this.closing) return this;
    this.closing = true;
    if (this.fd >= 0) {
      this.d.detach(this.fd);
      close(this.st, this.fd);
      this.fd = -1;
    }
    this.listening = false;
    this.maybeClosed();
    return this;
  }

  address(): NetAddressInfo | null {
    if (!this.listening) return null;
    const o = new Uint32Array(2);
    getsockname(this.st, this.fd, o);
    return { address: formatIp(o[0]), port: o[1], family: 'IPv4' };
  }

  getConnections(cb: AnyFn): this {
    cb(null, this.conns);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

/** net.createServer(stack, [options], [connectionListener]) */
export function createServer(st: Stack, opts?: ServerOptions | AnyFn, listener?: AnyFn): Server {
  let o: ServerOptions | undefined;
  let l: AnyFn | undefined = listener;
  if (typeof opts === 'function') l = opts;
  else o = opts;
  const s = new Server(st, o);
  if (l !== undefined && l !== null) s.on('connection', l);
  return s;
}

/** net.connect(stack, port, [host], [cb]) | net.connect(stack, {port, host, allowHalfOpen}, [cb]) */
export function connect(
  st: Stack,
  port: number | { port: number; host?: string; allowHalfOpen?: boolean },
  host?: string | AnyFn,
  cb?: AnyFn,
): Socket {
  const o = typeof port === 'object' && port !== null ? port : undefined;
  const s = new Socket(st, o);
  return s.connect(port, host, cb);
}

/** net.createConnection: the same as connect. */
export function createConnection(
  st: Stack,
  port: number | { port: number; host?: string; allowHalfOpen?: boolean },
  host?: string | AnyFn,
  cb?: AnyFn,
): Socket {
  return connect(st, port, host, cb);
}

/** net.isIPv4 / isIP (dotted quads only) */
export function isIPv4(s: string): boolean {
  return parseIp(s) !== null;
}

export function isIP(s: string): number {
  return parseIp(s) !== null ? 4 : 0;
}
