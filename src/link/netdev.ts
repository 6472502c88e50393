/*
 * netdev.ts — struct net_device: one network interface and the driver
 * contract beneath it. A driver moves frames between a chip (or a wire
 * model) and skbs; it never sees IP.
 *
 * Transmit: the stack calls driver.startXmit(dev, skb) with skb.data at
 * the Ethernet header. Return NETDEV_TX_OK when the driver took the skb
 * (it must later call stack.link.devTxComplete(dev, skb), possibly from
 * inside startXmit) or NETDEV_TX_BUSY to leave it on the qdisc.
 * Receive: the driver copies each frame into an skb (stack.link.rxFrame),
 * which goes onto the RX ring (netif_rx) for net_rx_action to process.
 */
import { MibBlock, DEV_NAMES, DEV_COUNT } from '../core/mib';
import { FEATURE_MIB_NAMES } from '../features';
import { SkbQueue, SkbPool } from '../core/skb';

export const NETDEV_TX_OK = 0;
export const NETDEV_TX_BUSY = 16;

export interface NetDriver {
  /** Hand a frame (skb.data .. skb.tail) to the hardware. */
  startXmit(dev: NetDevice, skb: number): number;
  /** NAPI poll: pull up to `budget` received frames from the hardware. Optional. */
  poll?(dev: NetDevice, budget: number): number;
}

export class NetDevice {
  up = false;
  /** Per-device counters (rtnl_link_stats64 names). */
  readonly stats: MibBlock;
  /** TX qdisc: a bounded FIFO (pfifo_fast without bands). */
  readonly qdisc: SkbQueue;
  /** The driver refused a frame; retried on the next TX completion or poll. */
  txStopped = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly mac: Uint8Array,
    public mtu: number,
    readonly driver: NetDriver,
    pool: SkbPool,
    txQueueLen: number,
  ) {
    this.stats = new MibBlock(name, FEATURE_MIB_NAMES ? DEV_NAMES : null, DEV_COUNT);
    this.qdisc = new SkbQueue(pool, txQueueLen);
  }
}
