/*
 * echo.ts — the ICMP and UDP echo workloads (Node only): stack A and
 * stack B joined by a pair link (bench/pair.ts), NET.1/24 and NET.2/24
 * via ifconfig (src/ipv4/devinet.ts); NET is 192.0.2 unless `--net`.
 *
 *   icmp_echo: A icmpPing(B, ident, seq, 56) → B answers in icmp_rcv →
 *              A's st.icmp.echoHandler counts the reply.
 *   udp_echo:  a UDP echo server on B (socket/bind/recvfrom/sendto,
 *              src/socket/socket.ts) and a client on A sending 64-byte
 *              datagrams and reading the echo back.
 *
 * One round trip per iteration, lock-step: send, B.poll(), (server),
 * A.poll(), receive. run(k) = k round trips; every buffer the loop uses
 * is allocated in the constructor, so whatever the heap grows by in
 * run() is the stack's doing.
 */
import type { Stack } from '../src/stack';
import { ifconfig } from '../src/ipv4/devinet';
import { icmpPing, IcmpEchoHandler } from '../src/ipv4/icmp';
import { socket, bind, sendto, recvfrom, close, SOCK_DGRAM } from '../src/socket/socket';
import { parseIpStrict } from '../src/link/ifaddr';
import type { AllocWorkload } from './alloc';
import { makePair, Pair } from './pair';

/** default subnet (/24): A is .1, B is .2 */
export const DEFAULT_NET = '192.0.2';
const ECHO_PORT = 7;
const UDP_PAYLOAD = 64;
const PING_PAYLOAD = 56;

function setupPair(net: string): Pair {
  const pr = makePair();
  let rc = ifconfig(pr.a, pr.link.devA, net + '.1/24', null);
  if (rc < 0) throw new Error('ifconfig A: ' + rc);
  rc = ifconfig(pr.b, pr.link.devB, net + '.2/24', null);
  if (rc < 0) throw new Error('ifconfig B: ' + rc);
  pr.link.open();
  settle(pr);
  return pr;
}

function settle(pr: Pair): void {
  for (let i = 0; i < 4; i++) {
    pr.a.poll();
    pr.b.poll();
  }
}

class EchoCounter implements IcmpEchoHandler {
  replies = 0;
  lastSeq = -1;
  badLen = 0;
  onEchoReply(saddr: number, ident: number, seq: number, payloadLen: number, ttl: number): void {
    this.replies++;
    this.lastSeq = seq;
    if (payloadLen !== PING_PAYLOAD) this.badLen++;
  }
}

export class IcmpEchoWork implements AllocWorkload {
  readonly pair: Pair;
  readonly counter = new EchoCounter();
  readonly daddr: number;
  sent = 0;
  sendErrors = 0;
  lost = 0;
  seq = 0;
  constructor(net: string) {
    this.pair = setupPair(net);
    this.daddr = parseIpStrict(net + '.2');
    this.pair.a.icmp.echoHandler = this.counter;
    // resolve ARP before timing
    this.run(4);
    if (this.counter.replies === 0) throw new Error('no echo reply (ICMP path not working)');
  }
  run(k: number): void {
    const a = this.pair.a;
    const b = this.pair.b;
    const c = this.counter;
    for (let i = 0; i < k; i++) {
      const before = c.replies;
      this.seq = (this.seq + 1) & 0xffff;
      const rc = icmpPing(a, this.daddr, 0x5b5b, this.seq, PING_PAYLOAD);
      if (rc < 0) this.sendErrors++;
      else this.sent++;
      b.poll();
      a.poll();
      if (c.replies === before) {
        // ARP resolution (first packets) needs another exchange
        b.poll();
        a.poll();
        if (c.replies === before) this.lost++;
      }
    }
  }
}

export class UdpEchoWork implements AllocWorkload {
  readonly pair: Pair;
  readonly srv: number;
  readonly cli: number;
  readonly daddr: number;
  readonly txBuf = new Uint8Array(UDP_PAYLOAD);
  readonly srvBuf = new Uint8Array(2048);
  readonly cliBuf = new Uint8Array(2048);
  /* Int32Array: the source address comes back as s32 (a Smi), so passing
     it on to sendto allocates nothing (src/socket/socket.ts header) */
  readonly from = new Int32Array(2);
  readonly cliFrom = new Int32Array(2);
  sent = 0;
  echoed = 0;
  received = 0;
  sendErrors = 0;
  badEcho = 0;
  lost = 0;
  constructor(net: string) {
    this.pair = setupPair(net);
    const a = this.pair.a;
    const b = this.pair.b;
    this.daddr = parseIpStrict(net + '.2');
    this.srv = socket(b, SOCK_DGRAM, 0);
    if (this.srv < 0) throw new Error('socket B: ' + this.srv);
    let rc = bind(b, this.srv, 0, ECHO_PORT);
    if (rc < 0) throw new Error('bind B: ' + rc);
    this.cli = socket(a, SOCK_DGRAM, 0);
    if (this.cli < 0) throw new Error('socket A: ' + this.cli);
    rc = bind(a, this.cli, 0, 0);
    if (rc < 0) throw new Error('bind A: ' + rc);
    for (let i = 0; i < UDP_PAYLOAD; i++) this.txBuf[i] = (i * 13 + 1) & 0xff;
    this.run(4);
    if (this.received === 0) throw new Error('no UDP echo (UDP/socket path not working)');
  }
  /** Server side on B: echo everything queued. */
  private serve(b: Stack): void {
    for (;;) {
      const n = recvfrom(b, this.srv, this.srvBuf, 0, this.srvBuf.length, this.from);
      if (n < 0) return;
      this.echoed++;
      sendto(b, this.srv, this.srvBuf, 0, n, this.from[0], this.from[1]);
    }
  }
  run(k: number): void {
    const a = this.pair.a;
    const b = this.pair.b;
    const tx = this.txBuf;
    for (let i = 0; i < k; i++) {
      tx[0] = i & 0xff;
      const rc = sendto(a, this.cli, tx, 0, UDP_PAYLOAD, this.daddr, ECHO_PORT);
      if (rc < 0) this.sendErrors++;
      else this.sent++;
      b.poll();
      this.serve(b);
      a.poll();
      let n = recvfrom(a, this.cli, this.cliBuf, 0, this.cliBuf.length, this.cliFrom);
      if (n < 0) {
        // ARP resolution (first packets) needs another exchange
        b.poll();
        this.serve(b);
        a.poll();
        n = recvfrom(a, this.cli, this.cliBuf, 0, this.cliBuf.length, this.cliFrom);
      }
      if (n < 0) {
        this.lost++;
        continue;
      }
      this.received++;
      if (n !== UDP_PAYLOAD || this.cliBuf[0] !== (i & 0xff)) this.badEcho++;
      // drain anything late
      while (recvfrom(a, this.cli, this.cliBuf, 0, this.cliBuf.length, this.cliFrom) >= 0) this.received++;
    }
  }
  close(): void {
    close(this.pair.b, this.srv);
    close(this.pair.a, this.cli);
  }
}

export function makeIcmpEcho(net: string): AllocWorkload | string {
  return new IcmpEchoWork(net);
}
export function makeUdpEcho(net: string): AllocWorkload | string {
  return new UdpEchoWork(net);
}
export function icmpExtra(w: AllocWorkload): { [k: string]: number | string } {
  const x = w as IcmpEchoWork;
  return {
    sent: x.sent,
    replies: x.counter.replies,
    lost: x.lost,
    send_errors: x.sendErrors,
    payload: PING_PAYLOAD,
    skbs_in_use: x.pair.a.pool.inUse() + x.pair.b.pool.inUse(),
  };
}
export function udpExtra(w: AllocWorkload): { [k: string]: number | string } {
  const x = w as UdpEchoWork;
  return {
    sent: x.sent,
    echoed: x.echoed,
    received: x.received,
    lost: x.lost,
    bad_echo: x.badEcho,
    send_errors: x.sendErrors,
    payload: UDP_PAYLOAD,
    skbs_in_use: x.pair.a.pool.inUse() + x.pair.b.pool.inUse(),
  };
}
