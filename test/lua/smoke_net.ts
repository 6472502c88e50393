/*
 * smoke_net.ts — the network half of the cross-runtime smoke test: two
 * stacks joined by a PairLink (drivers/pair), addresses from
 * src/ipv4/devinet.ts ifconfig, ARP resolution, ICMP echo (icmpPing) both
 * small and fragmented+reassembled, a UDP datagram through the socket
 * API, then every skb back in both pools.
 * Returns a summary of counters that must be identical on Node and Lua.
 */
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { createPairLink } from '../../drivers/pair/pairlink';
import { ifconfig } from '../../src/ipv4/devinet';
import { icmpPing, IcmpEchoHandler } from '../../src/ipv4/icmp';
import { parseIpStrict } from '../../src/link/ifaddr';
import { u32 } from '../../src/core/bits';
import { ICMP_INECHOREPS, ICMP_INECHOS, LINK_ARPOUTREQUESTS, LINK_TXFRAMES, IP_REASMOKS, IP_FRAGCREATES } from '../../src/core/mib';
import type { StackConfig } from '../../src/config';
import { socket, bind, sendto, recvfrom, close } from '../../src/socket/socket';
import { SOCK_DGRAM, IPPROTO_UDP } from '../../src/socket/sock';
import { UDP_INDATAGRAMS, UDP_OUTDATAGRAMS } from '../../src/core/mib';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error('smoke net: ' + what);
}

class Echo implements IcmpEchoHandler {
  replies = 0;
  lastSeq = -1;
  lastLen = -1;
  lastFrom = 0;
  onEchoReply(saddr: number, ident: number, seq: number, payloadLen: number, ttl: number): void {
    if (ident !== 0x1234 || ttl <= 0) return;
    this.replies++;
    this.lastSeq = seq;
    this.lastLen = payloadLen;
    this.lastFrom = saddr;
  }
}

/** Poll both stacks in 10 ms steps until cond() or maxSteps; returns steps taken. */
function run(clock: ManualClock, a: Stack, b: Stack, e: Echo, want: number, maxSteps: number): number {
  for (let i = 1; i <= maxSteps; i++) {
    clock.advance(10);
    a.poll();
    b.poll();
    if (e.replies >= want) return i;
  }
  return -1;
}

export function smokeNet(): string {
  const over: Partial<StackConfig> = {
    skbSmallCount: 16,
    skbLargeCount: 2,
    skbLargeSize: 4096 + 128,
    reasmSlots: 1,
    reasmMaxBytes: 4096,
    tcpMaxSockets: 1,
    tcpSndBuf: 2048,
    tcpRcvBuf: 2048,
  };
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', over, clock, undefined);
  const link = createPairLink(a, b, new Uint8Array([2, 0, 0, 0, 0, 1]), new Uint8Array([2, 0, 0, 0, 0, 2]), 1500);
  check(ifconfig(a, link.devA, '192.0.2.1/24', null) === 0, 'ifconfig a');
  check(ifconfig(b, link.devB, '192.0.2.2/24', null) === 0, 'ifconfig b');
  link.open();
  const e = new Echo();
  a.icmp.echoHandler = e;
  const dst = parseIpStrict('192.0.2.2');

  /* 1: unresolved next hop: the request waits for ARP */
  check(icmpPing(a, dst, 0x1234, 1, 56) >= 0, 'ping 1 send');
  const steps1 = run(clock, a, b, e, 1, 100);
  check(steps1 > 0 && e.lastSeq === 1 && e.lastLen === 56 && e.lastFrom === dst, 'ping 1 reply');

  /* 2: resolved: straight out */
  check(icmpPing(a, dst, 0x1234, 2, 100) >= 0, 'ping 2 send');
  const steps2 = run(clock, a, b, e, 2, 100);
  check(steps2 > 0 && e.lastSeq === 2 && e.lastLen === 100, 'ping 2 reply');

  /* 3: 3000-byte payload: fragmented by a, reassembled by b, reply fragmented by b */
  check(icmpPing(a, dst, 0x1234, 3, 3000) >= 0, 'ping 3 send');
  const steps3 = run(clock, a, b, e, 3, 100);
  check(steps3 > 0 && e.lastSeq === 3 && e.lastLen === 3000, 'ping 3 (fragmented) reply');

  /* 4: UDP through the zero-allocation socket API */
  const fa = socket(a, SOCK_DGRAM, IPPROTO_UDP);
  const fb = socket(b, SOCK_DGRAM, IPPROTO_UDP);
  check(fa >= 0 && fb >= 0, 'udp socket');
  check(bind(a, fa, 0, 5000) === 0 && bind(b, fb, 0, 6000) === 0, 'udp bind');
  const msg = new Uint8Array(300);
  for (let i = 0; i < msg.length; i++) msg[i] = (i * 7 + 3) & 0xff;
  check(sendto(a, fa, msg, 0, 300, dst, 6000) === 300, 'udp sendto');
  let got = -11;
  const rbuf = new Uint8Array(512);
  const from = new Uint32Array(2);
  for (let i = 0; i < 20 && got < 0; i++) {
    clock.advance(10);
    a.poll();
    b.poll();
    got = recvfrom(b, fb, rbuf, 0, 512, from);
  }
  check(got === 300, 'udp recvfrom ' + got);
  let same = true;
  for (let i = 0; i < 300; i++) if (rbuf[i] !== msg[i]) same = false;
  check(same, 'udp payload');
  // a Uint32Array receives the unsigned form (the Lua shim converts like JS)
  check(from[0] === u32(parseIpStrict('192.0.2.1')) && from[1] === 5000, 'udp source');
  check(close(a, fa) === 0 && close(b, fb) === 0, 'udp close');

  /* let timers settle, then everything must be back in the pools */
  for (let i = 0; i < 10; i++) {
    clock.advance(100);
    a.poll();
    b.poll();
  }
  check(a.pool.inUse() === 0, 'pool a inUse ' + a.pool.inUse());
  check(b.pool.inUse() === 0, 'pool b inUse ' + b.pool.inUse());
  return (
    'net replies=' + e.replies +
    ' steps=' + steps1 + '/' + steps2 + '/' + steps3 +
    ' a.arpReq=' + a.mib.link[LINK_ARPOUTREQUESTS] +
    ' a.tx=' + a.mib.link[LINK_TXFRAMES] +
    ' a.frag=' + a.mib.ip[IP_FRAGCREATES] +
    ' b.reasm=' + b.mib.ip[IP_REASMOKS] +
    ' b.echos=' + b.mib.icmp[ICMP_INECHOS] +
    ' a.echoReps=' + a.mib.icmp[ICMP_INECHOREPS] +
    ' udp=' + a.mib.udp[UDP_OUTDATAGRAMS] + '/' + b.mib.udp[UDP_INDATAGRAMS] +
    ' pool=0'
  );
}
