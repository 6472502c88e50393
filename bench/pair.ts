/*
 * pair.ts — two stacks in one process joined by drivers/pair/pairlink.ts,
 * the fixture every echo benchmark runs on, plus the link-layer echo
 * workload (no IP: a private ethertype reflected by a ptype handler on B).
 *
 * Time never advances (ManualClock fixed): ARP entries stay REACHABLE and
 * no timer fires inside a measured window.
 */
import { Stack } from '../src/stack';
import { ManualClock } from '../src/core/clock';
import { SKB_NONE } from '../src/core/skb';
import { devAddPack, devQueueXmit, PacketHandler } from '../src/link/dev';
import { ethHeader } from '../src/link/ether';
import { createPairLink, PairLink } from '../drivers/pair/pairlink';
import type { AllocWorkload } from './alloc';

export const MAC_A = new Uint8Array([0x02, 0, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0, 0, 0, 0, 0x0b]);

export interface Pair {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  link: PairLink;
}

/** Two stacks and the cable between them (devices registered DOWN). */
export function makePair(): Pair {
  const clock = new ManualClock(1000);
  const a = new Stack('A', { seed: 11 }, clock, undefined);
  const b = new Stack('B', { seed: 22 }, clock, undefined);
  const link = createPairLink(a, b, MAC_A, MAC_B, 1500);
  return { clock, a, b, link };
}

/** IEEE 802 "local experimental" ethertype. */
export const ETH_P_BENCH = 0x88b5;
const FRAME_PAYLOAD = 64;

/** On B: send every bench frame straight back to its source. */
class Reflector implements PacketHandler {
  reflected = 0;
  constructor(readonly st: Stack) {}
  rcv(skb: number): void {
    const st = this.st;
    const p = st.pool;
    // data is past the Ethernet header (eth_type_trans pulled it); nh = data
    const b = p.buf[skb];
    const mac = p.data[skb] - 14;
    // re-expose the received Ethernet header and swap its addresses
    p.push(skb, 14);
    for (let i = 0; i < 6; i++) {
      const t = b[mac + i];
      b[mac + i] = b[mac + 6 + i];
      b[mac + 6 + i] = t;
    }
    this.reflected++;
    devQueueXmit(st, skb);
  }
}

/** On A: count and free the reflected frames. */
class Sink implements PacketHandler {
  got = 0;
  constructor(readonly st: Stack) {}
  rcv(skb: number): void {
    this.got++;
    this.st.pool.free(skb);
  }
}

/**
 * Link-layer round trip: A builds a 64-byte frame of a private ethertype,
 * dev_queue_xmit → pair → B's RX ring; B.poll() reflects it; A.poll()
 * receives it. run(k) = k round trips.
 */
export class LinkEchoWork implements AllocWorkload {
  readonly pair: Pair;
  readonly sink: Sink;
  readonly refl: Reflector;
  sendFails = 0;
  constructor() {
    this.pair = makePair();
    const { a, b, link } = this.pair;
    this.refl = new Reflector(b);
    this.sink = new Sink(a);
    if (devAddPack(b, ETH_P_BENCH, this.refl) < 0) throw new Error('devAddPack B');
    if (devAddPack(a, ETH_P_BENCH, this.sink) < 0) throw new Error('devAddPack A');
    link.open();
    a.poll();
    b.poll();
    a.poll();
  }
  run(k: number): void {
    const a = this.pair.a;
    const b = this.pair.b;
    const p = a.pool;
    const dev = this.pair.link.devA;
    for (let i = 0; i < k; i++) {
      const skb = p.alloc(FRAME_PAYLOAD);
      if (skb === SKB_NONE) {
        this.sendFails++;
        a.poll();
        b.poll();
        continue;
      }
      const o = p.put(skb, FRAME_PAYLOAD);
      const buf = p.buf[skb];
      buf[o] = i & 0xff;
      p.dev[skb] = dev;
      ethHeader(a, skb, MAC_B, 0, MAC_A, ETH_P_BENCH);
      devQueueXmit(a, skb);
      b.poll();
      a.poll();
    }
  }
}

/** Method check for the alloc measurement: LinkEchoWork plus one small object per round trip. */
const allocSink: { o: unknown } = { o: null };
export class AllocatingLinkEcho extends LinkEchoWork {
  override run(k: number): void {
    for (let i = 0; i < k; i++) {
      allocSink.o = { i };
      super.run(1);
    }
  }
}
