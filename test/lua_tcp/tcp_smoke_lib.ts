/*
 * tcp_smoke_lib.ts — a TCP smoke test that runs unchanged on Node
 * (test/unit/tcp_lua.test.ts) and on Lua 5.3 (typescript-to-lua bundle,
 * entry test/lua_tcp/tcp_smoke.ts): two stacks on a PairLink, sequence
 * numbers forced across 2^32, a lossy wire (every 13th frame of A lost),
 * data both ways, close, TIME_WAIT expiry, every skb and TCB free. Both
 * runtimes must print the same summary (deterministic core).
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { s32 } from '../../src/core/bits';
import type { StackConfig } from '../../src/config';
import { createPairLink, PairEnd, PairFilter } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { neighAddStatic } from '../../src/link/arp';
import { initTcp } from '../../src/transport/tcp/tcp_ipv4';
import { tcpCookieInitSeq, tcpCookieCheck } from '../../src/transport/tcp/tcp_syncookies';
import { TcpState, tcpSecureIsn, tcpTsOffset, TCP_OUTSEGS, TCP_RETRANSSEGS, TCP_INSEGS, TX_SACKRECOVERY, TX_TW } from '../../src/transport/tcp/tcp';
import {
  tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose,
} from '../../src/transport/tcp/tcp_api';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('tcp smoke: ' + what);
}

class EveryNth implements PairFilter {
  n = 0;
  constructor(readonly k: number) {}
  onFrame(_end: PairEnd, _b: Uint8Array, _o: number, _len: number): boolean {
    this.n++;
    return this.n % this.k !== 0;
  }
}

function tcpOf(st: Stack): TcpState {
  const s = st as unknown as { tcp: TcpState | undefined };
  if (s.tcp === undefined) initTcp(st);
  return st.tcp;
}

export function tcpSmoke(): string {
  const over: Partial<StackConfig> = {
    skbSmallCount: 24, skbLargeCount: 1, skbLargeSize: 2048, tcpMaxSockets: 2, tcpSndBuf: 4096,
    tcpRcvBuf: 4096, tcpMslMs: 1000, tcpSynQueue: 2, tcpTimeWaitSlots: 2,
  };
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const overB: Partial<StackConfig> = {};
  for (const k in over) (overB as { [k: string]: unknown })[k] = (over as { [k: string]: unknown })[k];
  overB.seed = 7;
  const b = new Stack('b', overB, clock, undefined);
  const ta = tcpOf(a);
  const tb = tcpOf(b);
  const macA = new Uint8Array([2, 0, 0, 0, 0, 1]);
  const macB = new Uint8Array([2, 0, 0, 0, 0, 2]);
  const link = createPairLink(a, b, macA, macB, 1500);
  check(ifconfig(a, link.devA, '192.0.2.1/24', null) === 0, 'ifconfig a');
  check(ifconfig(b, link.devB, '192.0.2.2/24', null) === 0, 'ifconfig b');
  link.open();
  const ipA = s32(0xc0000201);
  const ipB = s32(0xc0000202);
  neighAddStatic(a, link.devA, ipB, macB, 0);
  neighAddStatic(b, link.devB, ipA, macA, 0);
  // keyed hashes (RFC 6528 ISN, timestamp offset, SYN cookie) must agree across runtimes
  const hashes = (tcpSecureIsn(a, ipA, 1234, ipB, 80) >>> 0) + '/' + (tcpTsOffset(a, ipA, ipB) >>> 0) + '/' +
    (tcpCookieInitSeq(b, ipA, ipB, 1234, 80, 0x7fffffff, 3) >>> 0);
  check(tcpCookieCheck(b, ipA, ipB, 1234, 80, 0x7fffffff, tcpCookieInitSeq(b, ipA, ipB, 1234, 80, 0x7fffffff, 2)) === 2, 'cookie');
  link.a.filter = new EveryNth(13);
  ta.isnOverride = 0xffffffff - 5000;
  tb.isnOverride = 0xfffffff0;
  const l = tcpSocket(b);
  check(tcpBind(b, l, 0, 80) === 0 && tcpListen(b, l, 1) === 0, 'listen');
  const c = tcpSocket(a);
  check(tcpConnect(a, c, ipB, 80) === -115, 'connect');
  let s = -1;
  for (let i = 0; i < 5000 && s < 0; i++) {
    clock.advance(1);
    a.poll();
    b.poll();
    s = tcpAccept(b, l);
  }
  check(s >= 0, 'accept');
  const up = new Uint8Array(30000);
  const down = new Uint8Array(10000);
  for (let i = 0; i < up.length; i++) up[i] = (i * 7 + (i >>> 8)) & 0xff;
  for (let i = 0; i < down.length; i++) down[i] = (i * 13 + 5) & 0xff;
  const gotB = new Uint8Array(up.length);
  const gotA = new Uint8Array(down.length);
  let su = 0;
  let sd = 0;
  let ru = 0;
  let rd = 0;
  let steps = 0;
  while ((ru < up.length || rd < down.length) && steps < 200000) {
    if (su < up.length) {
      const r = tcpSend(a, c, up, su, up.length - su);
      if (r > 0) su += r;
    }
    if (sd < down.length) {
      const r = tcpSend(b, s, down, sd, down.length - sd);
      if (r > 0) sd += r;
    }
    let r = tcpRecv(b, s, gotB, ru, up.length - ru);
    if (r > 0) ru += r;
    r = tcpRecv(a, c, gotA, rd, down.length - rd);
    if (r > 0) rd += r;
    clock.advance(1);
    a.poll();
    b.poll();
    steps++;
  }
  check(ru === up.length && rd === down.length, 'transfer ' + ru + ' ' + rd);
  let sum = 0;
  for (let i = 0; i < up.length; i++) {
    check(gotB[i] === up[i], 'byte up ' + i);
    sum = (sum + gotB[i] * (i % 251)) % 65521;
  }
  for (let i = 0; i < down.length; i++) check(gotA[i] === down[i], 'byte down ' + i);
  check(tcpClose(a, c) === 0 && tcpClose(b, s) === 0 && tcpClose(b, l) === 0, 'close');
  for (let i = 0; i < 200; i++) {
    clock.advance(100);
    a.poll();
    b.poll();
  }
  check(ta.inUse() === 0 && tb.inUse() === 0, 'tcbs ' + ta.inUse() + ' ' + tb.inUse());
  check(ta.twCount === 0 && tb.twCount === 0, 'time-wait');
  check(a.pool.inUse() === 0 && b.pool.inUse() === 0, 'pools ' + a.pool.inUse() + ' ' + b.pool.inUse());
  return (
    'tcp steps=' + steps + ' sum=' + sum +
    ' a.out=' + ta.mib[TCP_OUTSEGS] + ' a.in=' + ta.mib[TCP_INSEGS] + ' a.retrans=' + ta.mib[TCP_RETRANSSEGS] +
    ' b.out=' + tb.mib[TCP_OUTSEGS] + ' b.retrans=' + tb.mib[TCP_RETRANSSEGS] +
    ' a.sackrec=' + ta.ext[TX_SACKRECOVERY] + ' tw=' + (ta.ext[TX_TW] + tb.ext[TX_TW]) + ' hashes=' + hashes + ' ok'
  );
}
