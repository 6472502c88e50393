/*
 * link.test.ts — the device layer (src/link/dev.ts), Ethernet framing
 * (src/link/ether.ts) and the PairLink test driver (drivers/pair).
 * Frames are injected with rxFrame and transmitted through test drivers,
 * so nothing here depends on the IPv4 layer.
 */
import { describe, it, expect } from 'vitest';
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { SKB_NONE } from '../../src/core/skb';
import { put16 } from '../../src/core/bytes';
import { ENETDOWN, ENOBUFS, ENODEV, EINVAL, ENOSPC, EMSGSIZE } from '../../src/core/errno';
import {
  LINK_RXFRAMES, LINK_RXRUNTS, LINK_RXNOTFORUS, LINK_RXUNKNOWNTYPE, LINK_RXRINGOVERRUNS, LINK_RXNOSKB,
  LINK_TXFRAMES, LINK_TXQDISCDROPS,
  DEV_RX_PACKETS, DEV_RX_DROPPED, DEV_RX_OVER_ERRORS, DEV_TX_PACKETS, DEV_TX_BYTES, DEV_TX_DROPPED,
} from '../../src/core/mib';
import {
  registerNetdev, devAddPack, devOpen, devClose, rxFrame, netRxAction, devQueueXmit, devTxComplete,
  registerNetdevNotifier, getDev, NETDEV_UP, NETDEV_DOWN,
} from '../../src/link/dev';
import { NetDevice, NetDriver, NETDEV_TX_OK, NETDEV_TX_BUSY } from '../../src/link/netdev';
import {
  ethHeader, parseMac, formatMac, ETH_HLEN, ETH_P_IP, PACKET_HOST, PACKET_BROADCAST,
} from '../../src/link/ether';
import { createPairLink, PairEnd } from '../../drivers/pair/pairlink';

const MAC = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const OTHER = new Uint8Array([0x02, 0x99, 0x99, 0x99, 0x99, 0x99]);
const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** an ethertype nobody else registers (IEEE local experimental 1) */
const ETH_P_TEST = 0x88b5;

/** A driver with one TX buffer: busy while a frame is in flight, like a real chip. */
class HoldDriver implements NetDriver {
  st: Stack | null = null;
  inFlight = SKB_NONE;
  refuse = false;
  sent: number[] = []; // first payload byte of every frame taken
  startXmit(_dev: NetDevice, skb: number): number {
    if (this.refuse || this.inFlight !== SKB_NONE) return NETDEV_TX_BUSY;
    this.inFlight = skb;
    const p = (this.st as Stack).pool;
    this.sent.push(p.buf[skb][p.data[skb] + ETH_HLEN]);
    return NETDEV_TX_OK;
  }
  /** the TX-done interrupt */
  complete(dev: NetDevice): void {
    const skb = this.inFlight;
    this.inFlight = SKB_NONE;
    devTxComplete(this.st as Stack, dev, skb);
  }
}

/** Records frames handed to a ptype handler, then frees them. */
class Sink {
  got: number[] = [];
  types: number[] = [];
  constructor(readonly st: Stack) {}
  rcv(skb: number): void {
    const p = this.st.pool;
    this.got.push(p.len(skb));
    this.types.push(p.cb3[skb]);
    p.free(skb);
  }
}

function mkStack(over: Partial<StackConfig> | undefined): { st: Stack; clock: ManualClock } {
  const clock = new ManualClock(0);
  return { st: new Stack('t', over, clock, undefined), clock };
}

function mkDev(st: Stack, drv: NetDriver): number {
  const d = registerNetdev(st, 'eth0', MAC, 1500, drv);
  expect(d).toBeGreaterThanOrEqual(0);
  return d;
}

const fbuf = new Uint8Array(1600);
/** Build an Ethernet frame in fbuf: dst, src OTHER, ethertype, payload of n bytes (value k). */
function frame(dst: Uint8Array, type: number, n: number, k: number): number {
  for (let i = 0; i < 6; i++) {
    fbuf[i] = dst[i];
    fbuf[6 + i] = OTHER[i];
  }
  put16(fbuf, 12, type);
  for (let i = 0; i < n; i++) fbuf[14 + i] = k & 0xff;
  return 14 + n;
}

/** An skb holding a complete frame to MAC-less peer, first payload byte k. */
function txSkb(st: Stack, dev: number, k: number): number {
  const p = st.pool;
  const skb = p.alloc(46);
  expect(skb).not.toBe(SKB_NONE);
  const o = p.put(skb, 46);
  p.buf[skb].fill(k, o, o + 46);
  expect(ethHeader(st, skb, OTHER, 0, MAC, ETH_P_TEST)).toBe(0);
  p.dev[skb] = dev;
  return skb;
}

describe('device registration and state', () => {
  it('validates mac, mtu and the device limit', () => {
    const { st } = mkStack({ maxDevices: 2 });
    const drv = new HoldDriver();
    expect(registerNetdev(st, 'x', new Uint8Array(5), 1500, drv)).toBe(-EINVAL);
    expect(registerNetdev(st, 'x', MAC, 67, drv)).toBe(-EINVAL);
    expect(registerNetdev(st, 'x', MAC, 9000, drv)).toBe(-EINVAL); // does not fit a small skb
    expect(registerNetdev(st, 'a', MAC, 1500, drv)).toBe(0);
    expect(registerNetdev(st, 'b', MAC, 576, drv)).toBe(1);
    expect(registerNetdev(st, 'c', MAC, 1500, drv)).toBe(-ENOSPC);
    expect(getDev(st, 1)?.mtu).toBe(576);
    expect(getDev(st, 2)).toBe(null);
    expect(devOpen(st, 5)).toBe(-ENODEV);
    expect(devClose(st, -1)).toBe(-ENODEV);
  });

  it('the device copies the MAC it was given', () => {
    const { st } = mkStack(undefined);
    const m = new Uint8Array(MAC);
    const d = registerNetdev(st, 'a', m, 1500, new HoldDriver());
    m[0] = 0xee;
    expect(formatMac((getDev(st, d) as NetDevice).mac, 0)).toBe('02:11:22:33:44:55');
  });

  it('notifiers see UP and DOWN once each; open/close are idempotent', () => {
    const { st } = mkStack(undefined);
    const d = mkDev(st, new HoldDriver());
    const ev: number[] = [];
    registerNetdevNotifier(st, { onNetdevEvent: (_dev, e) => ev.push(e) });
    expect(devOpen(st, d)).toBe(0);
    expect(devOpen(st, d)).toBe(0);
    expect(devClose(st, d)).toBe(0);
    expect(devClose(st, d)).toBe(0);
    expect(ev).toEqual([NETDEV_UP, NETDEV_DOWN]);
  });

  it('the ptype table is bounded', () => {
    const { st } = mkStack(undefined);
    const s = new Sink(st);
    let rc = 0;
    let n = 0;
    for (; n < 8 && rc === 0; n++) rc = devAddPack(st, 0x9000 + n, s);
    expect(rc).toBe(-ENOSPC);
    expect(n).toBeLessThanOrEqual(5);
  });
});

describe('receive path', () => {
  it('dispatches by ethertype, strips the header, classifies host/broadcast', () => {
    const { st } = mkStack(undefined);
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    expect(rxFrame(st, d, fbuf, 0, frame(MAC, ETH_P_TEST, 46, 1))).toBe(0);
    expect(rxFrame(st, d, fbuf, 0, frame(BCAST, ETH_P_TEST, 50, 2))).toBe(0);
    expect(st.pool.inUse()).toBe(2);
    expect(st.poll()).toBe(2);
    expect(s.got).toEqual([46, 50]);
    expect(s.types).toEqual([PACKET_HOST, PACKET_BROADCAST]);
    expect(st.mib.link[LINK_RXFRAMES]).toBe(2);
    expect((getDev(st, d) as NetDevice).stats.v[DEV_RX_PACKETS]).toBe(2);
    expect(st.pool.inUse()).toBe(0);
  });

  it('RX ring overrun: the frame is freed and counted', () => {
    const { st } = mkStack({ rxRingSize: 4 });
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    const len = frame(MAC, ETH_P_TEST, 46, 3);
    let refused = 0;
    for (let i = 0; i < 6; i++) if (rxFrame(st, d, fbuf, 0, len) === -ENOBUFS) refused++;
    expect(refused).toBe(2);
    expect(st.mib.link[LINK_RXRINGOVERRUNS]).toBe(2);
    expect((getDev(st, d) as NetDevice).stats.v[DEV_RX_OVER_ERRORS]).toBe(2);
    expect(st.pool.inUse()).toBe(4);
    st.poll();
    expect(s.got.length).toBe(4);
    expect(st.pool.inUse()).toBe(0);
  });

  it('net_rx_action honours the NAPI budget; poll drains in bounded rounds', () => {
    const { st } = mkStack({ rxRingSize: 16, napiBudget: 3 });
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    const len = frame(MAC, ETH_P_TEST, 46, 4);
    for (let i = 0; i < 10; i++) expect(rxFrame(st, d, fbuf, 0, len)).toBe(0);
    expect(netRxAction(st, 3)).toBe(3);
    expect(s.got.length).toBe(3);
    expect(st.link.ringCount).toBe(7);
    expect(st.poll()).toBe(7);
    expect(netRxAction(st, 3)).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  });

  it('the ring wraps around correctly over many frames', () => {
    const { st } = mkStack({ rxRingSize: 5, napiBudget: 2 });
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    for (let i = 0; i < 40; i++) {
      expect(rxFrame(st, d, fbuf, 0, frame(MAC, ETH_P_TEST, 46 + (i % 7), i))).toBe(0);
      if (i % 4 === 3) expect(netRxAction(st, 4)).toBe(4);
    }
    st.poll();
    expect(s.got.length).toBe(40);
    expect(s.got.slice(0, 7)).toEqual([46, 47, 48, 49, 50, 51, 52]);
    expect(st.pool.inUse()).toBe(0);
  });

  it('unknown ethertype is counted and freed', () => {
    const { st } = mkStack(undefined);
    const d = mkDev(st, new HoldDriver());
    devOpen(st, d);
    rxFrame(st, d, fbuf, 0, frame(MAC, 0x88b6, 46, 5));
    st.poll();
    expect(st.mib.link[LINK_RXUNKNOWNTYPE]).toBe(1);
    expect((getDev(st, d) as NetDevice).stats.v[DEV_RX_DROPPED]).toBe(1);
    expect(st.pool.inUse()).toBe(0);
  });

  it('frames for another MAC or a multicast group are counted and dropped', () => {
    const { st } = mkStack(undefined);
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    rxFrame(st, d, fbuf, 0, frame(OTHER, ETH_P_TEST, 46, 6));
    rxFrame(st, d, fbuf, 0, frame(new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 1]), ETH_P_TEST, 46, 6));
    const almost = new Uint8Array(MAC);
    almost[5] ^= 1;
    rxFrame(st, d, fbuf, 0, frame(almost, ETH_P_TEST, 46, 6));
    st.poll();
    expect(s.got.length).toBe(0);
    expect(st.mib.link[LINK_RXNOTFORUS]).toBe(3);
    expect(st.pool.inUse()).toBe(0);
  });

  it('runt frames (shorter than an Ethernet header) are counted and dropped', () => {
    const { st } = mkStack(undefined);
    const d = mkDev(st, new HoldDriver());
    const s = new Sink(st);
    devAddPack(st, ETH_P_TEST, s);
    devOpen(st, d);
    frame(MAC, ETH_P_TEST, 0, 0);
    for (const len of [0, 1, 13]) expect(rxFrame(st, d, fbuf, 0, len)).toBe(0);
    expect(rxFrame(st, d, fbuf, 0, 14)).toBe(0); // header only: delivered empty
    st.poll();
    expect(st.mib.link[LINK_RXRUNTS]).toBe(3);
    expect(s.got).toEqual([0]);
    expect(st.pool.inUse()).toBe(0);
  });

  it('oversized frames, down devices and an empty pool refuse frames without leaking', () => {
    const { st } = mkStack({ skbSmallCount: 2, skbLargeCount: 0 });
    const d = mkDev(st, new HoldDriver());
    const dev = getDev(st, d) as NetDevice;
    const len = frame(MAC, ETH_P_TEST, 46, 7);
    expect(rxFrame(st, d, fbuf, 0, len)).toBe(-ENETDOWN);
    devOpen(st, d);
    expect(rxFrame(st, d, fbuf, 0, 1500 + 14 + 5)).toBe(-EMSGSIZE);
    expect(rxFrame(st, d, fbuf, 0, -1)).toBe(-EMSGSIZE);
    expect(rxFrame(st, 9, fbuf, 0, len)).toBe(-ENODEV);
    expect(rxFrame(st, d, fbuf, 0, len)).toBe(0);
    expect(rxFrame(st, d, fbuf, 0, len)).toBe(0);
    expect(rxFrame(st, d, fbuf, 0, len)).toBe(-ENOBUFS); // pool empty
    expect(st.mib.link[LINK_RXNOSKB]).toBe(1);
    expect(dev.stats.v[DEV_RX_DROPPED]).toBe(4);
    st.poll(); // no handler: unknown type, freed
    expect(st.pool.inUse()).toBe(0);
  });
});

describe('transmit path', () => {
  it('driver busy: frames wait on the qdisc; TX complete restarts the queue in order', () => {
    const { st } = mkStack(undefined);
    const drv = new HoldDriver();
    drv.st = st;
    const d = mkDev(st, drv);
    const dev = getDev(st, d) as NetDevice;
    devOpen(st, d);
    for (let k = 1; k <= 3; k++) expect(devQueueXmit(st, txSkb(st, d, k))).toBe(0);
    expect(drv.sent).toEqual([1]);
    expect(dev.qdisc.qlen).toBe(2);
    expect(dev.txStopped).toBe(true);
    drv.complete(dev);
    expect(drv.sent).toEqual([1, 2]);
    drv.complete(dev);
    drv.complete(dev);
    expect(drv.sent).toEqual([1, 2, 3]);
    expect(dev.qdisc.qlen).toBe(0);
    expect(st.mib.link[LINK_TXFRAMES]).toBe(3);
    expect(dev.stats.v[DEV_TX_PACKETS]).toBe(3);
    expect(dev.stats.v[DEV_TX_BYTES]).toBe(3 * 60);
    expect(st.pool.inUse()).toBe(0);
  });

  it('qdisc full: the frame is dropped, freed and counted', () => {
    const { st } = mkStack({ txQueueLen: 2 });
    const drv = new HoldDriver();
    drv.st = st;
    drv.refuse = true;
    const d = mkDev(st, drv);
    const dev = getDev(st, d) as NetDevice;
    devOpen(st, d);
    expect(devQueueXmit(st, txSkb(st, d, 1))).toBe(0);
    expect(devQueueXmit(st, txSkb(st, d, 2))).toBe(0);
    expect(devQueueXmit(st, txSkb(st, d, 3))).toBe(-ENOBUFS);
    expect(st.mib.link[LINK_TXQDISCDROPS]).toBe(1);
    expect(dev.stats.v[DEV_TX_DROPPED]).toBe(1);
    expect(st.pool.inUse()).toBe(2);
    // the driver recovers: the next poll restarts the queue
    drv.refuse = false;
    st.poll();
    expect(drv.sent).toEqual([1]);
    drv.complete(dev);
    expect(drv.sent).toEqual([1, 2]);
    drv.complete(dev);
    expect(st.pool.inUse()).toBe(0);
  });

  it('a down device or a bad device index drops the frame; close purges the qdisc', () => {
    const { st } = mkStack(undefined);
    const drv = new HoldDriver();
    drv.st = st;
    const d = mkDev(st, drv);
    const dev = getDev(st, d) as NetDevice;
    expect(devQueueXmit(st, txSkb(st, d, 1))).toBe(-ENETDOWN);
    const bad = txSkb(st, d, 1);
    st.pool.dev[bad] = 7;
    expect(devQueueXmit(st, bad)).toBe(-ENODEV);
    expect(st.pool.inUse()).toBe(0);
    devOpen(st, d);
    drv.refuse = true;
    devQueueXmit(st, txSkb(st, d, 2));
    devQueueXmit(st, txSkb(st, d, 3));
    expect(dev.qdisc.qlen).toBe(2);
    devClose(st, d);
    expect(dev.qdisc.qlen).toBe(0);
    expect(st.pool.inUse()).toBe(0);
  });

  it('ethHeader needs headroom', () => {
    const { st } = mkStack(undefined);
    const p = st.pool;
    const skb = p.alloc(10);
    p.push(skb, p.headroomOf(skb) - 10);
    expect(ethHeader(st, skb, OTHER, 0, MAC, ETH_P_IP)).toBe(-1);
    p.free(skb);
  });
});

describe('ether helpers', () => {
  it('parseMac / formatMac', () => {
    const m = parseMac('02:ab:0C:00:ff:9');
    expect(m).not.toBe(null);
    expect(formatMac(m as Uint8Array, 0)).toBe('02:ab:0c:00:ff:09');
    for (const bad of ['', '02:ab:0c:00:ff', '02:ab:0c:00:ff:100', '02:ab:0c:00:ff:zz', '02::0c:00:ff:01', '1:2:3:4:5:6:7']) {
      expect(parseMac(bad)).toBe(null);
    }
  });
});

describe('PairLink driver', () => {
  function pair(): { a: Stack; b: Stack; sa: Sink; sb: Sink; ea: PairEnd; eb: PairEnd; da: number; db: number } {
    const clock = new ManualClock(0);
    const a = new Stack('a', undefined, clock, undefined);
    const b = new Stack('b', undefined, clock, undefined);
    const pl = createPairLink(a, b, MAC, OTHER, 1500);
    const sa = new Sink(a);
    const sb = new Sink(b);
    devAddPack(a, ETH_P_TEST, sa);
    devAddPack(b, ETH_P_TEST, sb);
    pl.open();
    return { a, b, sa, sb, ea: pl.a, eb: pl.b, da: pl.devA, db: pl.devB };
  }

  it('delivers frames to the peer without allocating on the sender, TX completes at once', () => {
    const { a, b, sb, ea, da } = pair();
    for (let k = 0; k < 5; k++) expect(devQueueXmit(a, txSkb(a, da, k))).toBe(0);
    expect(a.pool.inUse()).toBe(0); // TX complete freed every skb
    expect(b.pool.inUse()).toBe(5); // copies waiting on B's RX ring
    b.poll();
    expect(sb.got).toEqual([46, 46, 46, 46, 46]);
    expect(ea.txFrames).toBe(5);
    expect(ea.delivered).toBe(5);
    expect(ea.txBytes).toBe(5 * 60);
    expect(b.pool.inUse()).toBe(0);
  });

  it('dropNext, filter and carrier lose frames; a down peer refuses them', () => {
    const { a, b, sb, ea, da, db } = pair();
    ea.dropNext = 2;
    for (let k = 0; k < 3; k++) devQueueXmit(a, txSkb(a, da, k));
    b.poll();
    expect(sb.got.length).toBe(1);
    expect(ea.lost).toBe(2);
    let seen = 0;
    ea.filter = {
      onFrame: (_e, buf, off, len) => {
        seen++;
        return buf[off + 14] !== 9 && len === 60;
      },
    };
    devQueueXmit(a, txSkb(a, da, 9));
    devQueueXmit(a, txSkb(a, da, 8));
    b.poll();
    expect(seen).toBe(2);
    expect(sb.got.length).toBe(2);
    ea.filter = null;
    ea.carrier = false;
    devQueueXmit(a, txSkb(a, da, 1));
    ea.carrier = true;
    devClose(b, db);
    devQueueXmit(a, txSkb(a, da, 1));
    expect(ea.peerRefused).toBe(1);
    expect(ea.lost).toBe(4);
    b.poll();
    expect(sb.got.length).toBe(2);
    expect(a.pool.inUse()).toBe(0);
    expect(b.pool.inUse()).toBe(0);
  });

  it('busy end keeps frames on the qdisc until poll', () => {
    const { a, b, sb, ea, da } = pair();
    ea.busy = true;
    devQueueXmit(a, txSkb(a, da, 1));
    devQueueXmit(a, txSkb(a, da, 2));
    expect(a.pool.inUse()).toBe(2);
    ea.busy = false;
    a.poll();
    b.poll();
    expect(sb.got.length).toBe(2);
    expect(a.pool.inUse()).toBe(0);
    expect(b.pool.inUse()).toBe(0);
  });
});
