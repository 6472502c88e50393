/*
 * pairlink.ts — a zero-allocation point-to-point "cable" between two
 * stacks in one process (the test driver; a veth pair).
 *
 * Place in the packet path: the bottom of the transmit path and the top
 * of the receive path. dev_queue_xmit → qdisc → PairEnd.startXmit copies
 * the frame bytes straight into the peer stack with rxFrame (driver
 * "DMA" + netif_rx on the peer), then reports TX-complete at once
 * (devTxComplete frees the skb). The peer processes the frame on its
 * next poll() (net_rx_action). No Ethernet padding, no FCS.
 *
 * Test hooks (all optional, all allocation-free):
 *   - end.busy = true        startXmit answers NETDEV_TX_BUSY (frame stays on the qdisc)
 *   - end.dropNext = n       silently lose the next n frames sent by this end
 *   - end.filter = {onFrame} inspect every frame sent by this end; return false to lose it
 *   - end.carrier = false    lose everything (cable unplugged)
 * Counters per end: txFrames (handed to the wire), txBytes, delivered,
 * lost (dropNext/filter/carrier), peerRefused (rxFrame failed on the peer).
 *
 * Portable: no Node APIs, no allocation after createPairLink.
 */
import type { Stack } from '../../src/stack';
import { NetDevice, NetDriver, NETDEV_TX_OK, NETDEV_TX_BUSY } from '../../src/link/netdev';
import { registerNetdev, rxFrame, devTxComplete, devOpen, devClose } from '../../src/link/dev';

/** Inspect (and optionally lose) a frame on the wire. buf[off..off+len) is the whole frame. */
export interface PairFilter {
  /** Return true to deliver the frame, false to lose it. Must not keep a reference to buf. */
  onFrame(end: PairEnd, buf: Uint8Array, off: number, len: number): boolean;
}

/** One end of the cable: the NetDriver of one device on one stack. */
export class PairEnd implements NetDriver {
  /** device index on `st` (set by createPairLink) */
  devIndex = -1;
  peer: PairEnd | null = null;
  busy = false;
  carrier = true;
  dropNext = 0;
  filter: PairFilter | null = null;
  txFrames = 0;
  txBytes = 0;
  delivered = 0;
  lost = 0;
  peerRefused = 0;

  constructor(readonly st: Stack) {}

  startXmit(dev: NetDevice, skb: number): number {
    if (this.busy) return NETDEV_TX_BUSY;
    const st = this.st;
    const p = st.pool;
    const b = p.buf[skb];
    const off = p.data[skb];
    const len = p.tail[skb] - off;
    this.txFrames++;
    this.txBytes += len;
    let pass = this.carrier;
    if (pass && this.dropNext > 0) {
      this.dropNext--;
      pass = false;
    }
    const f = this.filter;
    if (pass && f !== null && !f.onFrame(this, b, off, len)) pass = false;
    const peer = this.peer;
    if (!pass || peer === null) {
      this.lost++;
    } else if (rxFrame(peer.st, peer.devIndex, b, off, len) === 0) {
      this.delivered++;
    } else {
      this.peerRefused++;
    }
    devTxComplete(st, dev, skb);
    return NETDEV_TX_OK;
  }
}

/** The cable: end a on stack A, end b on stack B. */
export class PairLink {
  readonly a: PairEnd;
  readonly b: PairEnd;
  /** device index on stack A / stack B (negative errno when registration failed) */
  devA = -1;
  devB = -1;
  constructor(stA: Stack, stB: Stack) {
    this.a = new PairEnd(stA);
    this.b = new PairEnd(stB);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }
  /** devOpen both ends (fires NETDEV_UP: gratuitous ARP). */
  open(): void {
    devOpen(this.a.st, this.devA);
    devOpen(this.b.st, this.devB);
  }
  close(): void {
    devClose(this.a.st, this.devA);
    devClose(this.b.st, this.devB);
  }
}

/**
 * Register one device on each stack, joined by a PairLink. The devices are
 * registered DOWN: add addresses, then call link.open() (or devOpen).
 * Throws only at configuration time when registration fails.
 */
export function createPairLink(stA: Stack, stB: Stack, macA: Uint8Array, macB: Uint8Array, mtu: number): PairLink {
  const l = new PairLink(stA, stB);
  const da = registerNetdev(stA, 'eth' + stA.link.devs.length, macA, mtu, l.a);
  const db = registerNetdev(stB, 'eth' + stB.link.devs.length, macB, mtu, l.b);
  if (da < 0 || db < 0) throw new Error('createPairLink: registerNetdev failed ' + da + ' ' + db);
  l.devA = da;
  l.devB = db;
  l.a.devIndex = da;
  l.b.devIndex = db;
  return l;
}
