/*
 * dgram.ts — a node-style `dgram` facade (createSocket('udp4')) over the
 * zero-allocation socket API. Application side: it allocates (one
 * Uint8Array per received datagram, rinfo objects, Error objects).
 *
 * Not on the packet path. The stack's readiness callback is multiplexed
 * by EventMux (events.ts) to the facade socket owning the fd; on
 * EV_READABLE the socket drains its receive queue (recvLen sizes each
 * datagram, recvfrom copies it straight into a fresh Uint8Array) and
 * emits 'message' (msg, rinfo {address, port, family: 'IPv4', size}); on
 * EV_ERROR it emits 'error' with the pending error (e.g. ECONNREFUSED on
 * a connected socket after an ICMP port unreachable).
 *
 * Differences from node: callbacks and 'listening' / 'connect' / 'close'
 * events run synchronously (virtual time has no event loop), so attach
 * listeners before calling bind(); names are not resolved (dotted quads
 * only); an 'error' nobody listens to is dropped rather than thrown.
 * Espruino-safe: no Map/Set, spread/rest or default parameters.
 */
import type { Stack } from '../stack';
import { EAGAIN, EINVAL, errnoName } from '../core/errno';
import { FEATURE_ERRNO_NAMES } from '../features';
import { parseIp, formatIp } from '../link/ifaddr';
import {
  socket, bind, connect, sendto, recvfrom, recvLen, close, setsockopt, getsockopt, getsockname,
  getpeername, sockErr, SOCK_DGRAM, IPPROTO_UDP, SOL_SOCKET, SO_BROADCAST, SO_RCVBUF, SOL_IP, IP_TTL,
} from './socket';
import { SK_EV_READABLE, SK_EV_ERROR } from './sock';
import { Emitter, EventMux, eventMux } from './events';

export interface RemoteInfo {
  address: string;
  port: number;
  family: string;
  size: number;
}

export interface AddressInfo {
  address: string;
  port: number;
  family: string;
}

/** An Error with node's `code` / `errno` / `syscall` fields. */
export interface DgramError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function dgramError(syscall: string, rc: number): DgramError {
  const name = FEATURE_ERRNO_NAMES ? errnoName(rc) : 'errno ' + (rc < 0 ? -rc : rc);
  const e = new Error(syscall + ' ' + name) as DgramError;
  e.code = name;
  e.errno = rc;
  e.syscall = syscall;
  return e;
}

/** Encode a string as UTF-8 (allocates). */
export function utf8Encode(s: string): Uint8Array {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : 3;
    if (c >= 0xd800 && c < 0xdc00) i++;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >>> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c < 0xdc00) {
      const lo = i + 1 < s.length ? s.charCodeAt(i + 1) : 0xdc00;
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + ((lo - 0xdc00) & 0x3ff);
      out[o++] = 0xf0 | (c >>> 18);
      out[o++] = 0x80 | ((c >>> 12) & 0x3f);
      out[o++] = 0x80 | ((c >>> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xe0 | (c >>> 12);
      out[o++] = 0x80 | ((c >>> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

type Cb = (err?: Error | null, x?: number) => void;

/** A dotted quad, or 'localhost' → 127.0.0.1 (s32); null when not an IPv4 address. */
function toAddr(a: string | undefined | null, dflt: number): number | null {
  if (a === undefined || a === null || a === '') return dflt;
  if (a === 'localhost') return 0x7f000001;
  return parseIp(a);
}

function toBytes(msg: Uint8Array | string | ArrayLike<number>): Uint8Array {
  if (typeof msg === 'string') return utf8Encode(msg);
  if (msg instanceof Uint8Array) return msg;
  const out = new Uint8Array(msg.length);
  for (let i = 0; i < msg.length; i++) out[i] = msg[i] & 0xff;
  return out;
}

export class DgramSocket extends Emitter {
  readonly st: Stack;
  fd: number;
  private readonly mux: EventMux;
  private readonly from = new Uint32Array(2);
  private bound = false;
  private closed = false;

  constructor(st: Stack) {
    super();
    this.st = st;
    this.mux = eventMux(st);
    this.fd = socket(st, SOCK_DGRAM, IPPROTO_UDP);
    if (this.fd < 0) throw dgramError('socket', this.fd);
    this.mux.set(this.fd, this);
  }

  /** EventMux callback: the stack says fd is readable or has an error. */
  onSocketEvent(fd: number, ev: number): void {
    if (this.closed || fd !== this.fd) return;
    if ((ev & SK_EV_ERROR) !== 0) {
      const e = sockErr(this.st, fd);
      if (e < 0) this.emitError('recvmsg', e);
    }
    if ((ev & SK_EV_READABLE) !== 0) this.drain();
  }

  /** Read every queued datagram and emit 'message' for each. */
  drain(): void {
    const st = this.st;
    // bounded: at most what is queued now (a listener may send and refill the queue)
    let budget = st.sock.rcvq[this.fd].qlen + 1;
    while (!this.closed && budget-- > 0) {
      const n = recvLen(st, this.fd);
      if (n === -EAGAIN) return;
      if (n < 0) {
        const e = recvfrom(st, this.fd, new Uint8Array(0), 0, 0, null);
        if (e < 0 && e !== -EAGAIN) this.emitError('recvmsg', e);
        continue;
      }
      const msg = new Uint8Array(n);
      const r = recvfrom(st, this.fd, msg, 0, n, this.from);
      if (r < 0) {
        if (r === -EAGAIN) return;
        this.emitError('recvmsg', r);
        continue;
      }
      const rinfo: RemoteInfo = { address: formatIp(this.from[0]), port: this.from[1], family: 'IPv4', size: r };
      this.emit('message', msg, rinfo);
    }
  }

  private emitError(syscall: string, rc: number): void {
    const e = dgramError(syscall, rc);
    this.emit('error', e);
  }

  private fail(syscall: string, rc: number, cb: Cb | undefined): void {
    const e = dgramError(syscall, rc);
    if (cb !== undefined && cb !== null) cb(e);
    else this.emit('error', e);
  }

  /**
   * bind(port?, address?, cb?) or bind({port, address}, cb?). Port 0 or
   * none = ephemeral. Emits 'listening' (and calls cb) on success.
   */
  bind(port?: number | { port?: number; address?: string }, address?: string | Cb, cb?: Cb): this {
    let p = 0;
    let a: string | undefined;
    let c: Cb | undefined = cb;
    if (typeof port === 'object' && port !== null) {
      p = port.port !== undefined ? port.port : 0;
      a = port.address;
      if (typeof address === 'function') c = address;
    } else {
      if (typeof port === 'number') p = port;
      else if (typeof port === 'function') c = port as unknown as Cb;
      if (typeof address === 'function') c = address;
      else a = address;
    }
    if (this.closed) {
      this.fail('bind', -EINVAL, undefined);
      return this;
    }
    const addr = toAddr(a, 0);
    if (addr === null) {
      this.fail('bind', -EINVAL, undefined);
      return this;
    }
    const rc = bind(this.st, this.fd, addr, p);
    if (rc < 0) {
      this.fail('bind', rc, undefined);
      return this;
    }
    this.bound = true;
    if (c !== undefined && c !== null) this.once('listening', c);
    this.emit('listening');
    return this;
  }

  private autobind(): number {
    if (this.bound) return 0;
    const rc = bind(this.st, this.fd, 0, 0);
    if (rc < 0) return rc;
    this.bound = true;
    this.emit('listening');
    return 0;
  }

  /**
   * send(msg, port, address?, cb?) | send(msg, offset, length, port, address?, cb?)
   * | send(msg, cb?) / send(msg, offset, length, cb?) on a connected socket.
   * msg: Uint8Array, string or array of bytes. cb(err, bytes).
   */
  send(
    msg: Uint8Array | string | ArrayLike<number>,
    a?: number | string | Cb,
    b?: number | string | Cb,
    c?: number | string | Cb,
    d?: string | Cb,
    e?: Cb,
  ): void {
    const data = toBytes(msg);
    let off = 0;
    let len = data.length;
    let port = 0;
    let address: string | undefined;
    let cb: Cb | undefined;
    if (typeof a === 'number' && typeof b === 'number' && (typeof c === 'number' || c === undefined || typeof c === 'function')) {
      if (typeof c === 'number') {
        off = a;
        len = b;
        port = c;
        if (typeof d === 'function') cb = d;
        else {
          address = d;
          cb = e;
        }
      } else {
        // (msg, offset, length, cb?) on a connected socket
        off = a;
        len = b;
        cb = c as Cb | undefined;
      }
    } else if (typeof a === 'number') {
      port = a;
      if (typeof b === 'function') cb = b;
      else {
        address = b as string | undefined;
        cb = c as Cb | undefined;
      }
    } else if (typeof a === 'function') {
      cb = a;
    }
    if (this.closed) {
      this.fail('send', -EINVAL, cb);
      return;
    }
    let addr = 0;
    if (port !== 0) {
      const ta = toAddr(address, 0x7f000001);
      if (ta === null) {
        this.fail('send', -EINVAL, cb);
        return;
      }
      addr = ta;
    }
    const ab = this.autobind();
    if (ab < 0) {
      this.fail('send', ab, cb);
      return;
    }
    const rc = sendto(this.st, this.fd, data, off, len, addr, port);
    if (rc < 0) {
      this.fail('send', rc, cb);
      return;
    }
    if (cb !== undefined && cb !== null) cb(null, rc);
  }

  /** connect(port, address?, cb?): emits 'connect'. */
  connect(port: number, address?: string | Cb, cb?: Cb): void {
    let a: string | undefined;
    let c = cb;
    if (typeof address === 'function') c = address;
    else a = address;
    const addr = toAddr(a, 0x7f000001);
    if (addr === null || addr === 0) {
      this.fail('connect', -EINVAL, c);
      return;
    }
    const ab = this.autobind();
    if (ab < 0) {
      this.fail('connect', ab, c);
      return;
    }
    const rc = connect(this.st, this.fd, addr, port);
    if (rc < 0) {
      this.fail('connect', rc, c);
      return;
    }
    if (c !== undefined && c !== null) this.once('connect', c);
    this.emit('connect');
  }

  disconnect(): void {
    connect(this.st, this.fd, 0, 0);
  }

  /** close(cb?): frees the socket; emits 'close'. */
  close(cb?: () => void): this {
    if (this.closed) return this;
    this.closed = true;
    close(this.st, this.fd);
    this.mux.set(this.fd, null);
    this.fd = -1;
    if (cb !== undefined && cb !== null) this.once('close', cb);
    this.emit('close');
    return this;
  }

  /** {address, port, family}; throws (like node) when not bound. */
  address(): AddressInfo {
    const o = new Uint32Array(2);
    const rc = getsockname(this.st, this.fd, o);
    if (rc < 0 || !this.bound) throw dgramError('getsockname', rc < 0 ? rc : -9);
    return { address: formatIp(o[0]), port: o[1], family: 'IPv4' };
  }

  remoteAddress(): AddressInfo {
    const o = new Uint32Array(2);
    const rc = getpeername(this.st, this.fd, o);
    if (rc < 0) throw dgramError('getpeername', rc);
    return { address: formatIp(o[0]), port: o[1], family: 'IPv4' };
  }

  setBroadcast(flag: boolean): void {
    setsockopt(this.st, this.fd, SOL_SOCKET, SO_BROADCAST, flag ? 1 : 0);
  }

  setTTL(ttl: number): number {
    const rc = setsockopt(this.st, this.fd, SOL_IP, IP_TTL, ttl);
    if (rc < 0) throw dgramError('setTTL', rc);
    return ttl;
  }

  setRecvBufferSize(n: number): void {
    setsockopt(this.st, this.fd, SOL_SOCKET, SO_RCVBUF, n);
  }

  getRecvBufferSize(): number {
    return getsockopt(this.st, this.fd, SOL_SOCKET, SO_RCVBUF, null);
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

/**
 * dgram.createSocket(stack, 'udp4' | {type: 'udp4'}, onMessage?).
 * Throws for an unsupported type or when the socket table is full.
 */
export function createSocket(
  st: Stack,
  type: string | { type: string },
  onMessage?: (msg: Uint8Array, rinfo: RemoteInfo) => void,
): DgramSocket {
  const t = typeof type === 'string' ? type : type.type;
  if (t !== 'udp4') throw new Error('dgram: unsupported socket type ' + t);
  const s = new DgramSocket(st);
  if (onMessage !== undefined && onMessage !== null) s.on('message', onMessage);
  return s;
}
