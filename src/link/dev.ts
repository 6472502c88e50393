/*
 * dev.ts — the device layer (net/core/dev.c): device registration, the
 * receive ring that netif_rx fills from "interrupt" context and
 * net_rx_action drains with a NAPI budget, protocol dispatch through the
 * ptype table, and the transmit side: dev_queue_xmit → bounded qdisc →
 * driver start_xmit → TX-complete frees the skb.
 */
import type { Stack } from '../stack';
import { SKB_NONE } from '../core/skb';
import { copyBytes } from '../core/bytes';
import { ENOBUFS, ENODEV, ENOSPC, ENETDOWN, EINVAL, EMSGSIZE } from '../core/errno';
import {
  LINK_RXFRAMES, LINK_RXUNKNOWNTYPE, LINK_RXRINGOVERRUNS, LINK_RXNOSKB, LINK_TXFRAMES,
  LINK_TXQDISCDROPS, LINK_RXTOOBIG,
  DEV_RX_PACKETS, DEV_RX_BYTES, DEV_RX_DROPPED, DEV_RX_OVER_ERRORS, DEV_TX_PACKETS, DEV_TX_BYTES,
  DEV_TX_DROPPED,
} from '../core/mib';
import { NetDevice, NetDriver, NETDEV_TX_OK } from './netdev';
import { ethTypeTrans, ETH_HLEN } from './ether';

/** A protocol receive handler (struct packet_type). Takes ownership of the skb. */
export interface PacketHandler {
  rcv(skb: number): void;
}

/** Netdevice notifier (netdev_chain): NETDEV_UP / NETDEV_DOWN. */
export interface NetdevNotifier {
  onNetdevEvent(dev: NetDevice, event: number): void;
}
export const NETDEV_UP = 1;
export const NETDEV_DOWN = 2;

const PTYPE_MAX = 4;

export class LinkState {
  readonly devs: NetDevice[] = [];
  /** RX ring of skb handles (the backlog netif_rx fills). */
  readonly ring: Int32Array;
  ringHead = 0;
  ringCount = 0;
  readonly ptypeType: Int32Array;
  readonly ptypeHandler: PacketHandler[] = [];
  readonly notifiers: NetdevNotifier[] = [];
  constructor(ringSize: number) {
    this.ring = new Int32Array(ringSize);
    this.ptypeType = new Int32Array(PTYPE_MAX);
  }
}

export function initLink(st: Stack): LinkState {
  return new LinkState(st.cfg.rxRingSize);
}

/** register_netdev. Returns the device index or -errno. */
export function registerNetdev(st: Stack, name: string, mac: Uint8Array, mtu: number, driver: NetDriver): number {
  const l = st.link;
  if (l.devs.length >= st.cfg.maxDevices) return -ENOSPC;
  if (mac.length !== 6) return -EINVAL;
  if (mtu < 68 || mtu + ETH_HLEN + st.pool.headroom > st.pool.smallSize) return -EINVAL;
  const m = new Uint8Array(6);
  copyBytes(m, 0, mac, 0, 6);
  const dev = new NetDevice(l.devs.length, name, m, mtu, driver, st.pool, st.cfg.txQueueLen);
  l.devs.push(dev);
  return dev.index;
}

export function getDev(st: Stack, index: number): NetDevice | null {
  if (index < 0 || index >= st.link.devs.length) return null;
  return st.link.devs[index];
}

/** dev_add_pack: register the receive handler for an ethertype (start-up only). */
export function devAddPack(st: Stack, ethertype: number, h: PacketHandler): number {
  const l = st.link;
  if (l.ptypeHandler.length >= PTYPE_MAX) return -ENOSPC;
  l.ptypeType[l.ptypeHandler.length] = ethertype;
  l.ptypeHandler.push(h);
  return 0;
}

export function registerNetdevNotifier(st: Stack, n: NetdevNotifier): void {
  st.link.notifiers.push(n);
}

/** dev_open: bring a device up and tell the notifier chain (ARP announces). */
export function devOpen(st: Stack, index: number): number {
  const dev = getDev(st, index);
  if (dev === null) return -ENODEV;
  if (dev.up) return 0;
  dev.up = true;
  const ns = st.link.notifiers;
  for (let i = 0; i < ns.length; i++) ns[i].onNetdevEvent(dev, NETDEV_UP);
  return 0;
}

/** dev_close: bring a device down; its qdisc is purged. */
export function devClose(st: Stack, index: number): number {
  const dev = getDev(st, index);
  if (dev === null) return -ENODEV;
  if (!dev.up) return 0;
  dev.up = false;
  dev.qdisc.purge();
  const ns = st.link.notifiers;
  for (let i = 0; i < ns.length; i++) ns[i].onNetdevEvent(dev, NETDEV_DOWN);
  return 0;
}

/**
 * netif_rx: queue a received skb (skb.dev set, data at the Ethernet
 * header) on the RX ring. When the ring is full the skb is freed and the
 * overrun counted. Returns 0 or -ENOBUFS.
 */
export function netifRx(st: Stack, skb: number): number {
  const l = st.link;
  const ring = l.ring;
  if (l.ringCount >= ring.length) {
    const dev = getDev(st, st.pool.dev[skb]);
    if (dev !== null) dev.stats.v[DEV_RX_OVER_ERRORS]++;
    st.mib.link[LINK_RXRINGOVERRUNS]++;
    st.pool.free(skb);
    return -ENOBUFS;
  }
  let idx = l.ringHead + l.ringCount;
  if (idx >= ring.length) idx -= ring.length;
  ring[idx] = skb;
  l.ringCount++;
  return 0;
}

/**
 * The driver-side receive helper ("DMA"): copy a frame of len bytes from
 * src[off..] into a fresh skb and netif_rx it. Returns 0 or -errno (the
 * frame is dropped and counted).
 */
export function rxFrame(st: Stack, devIndex: number, src: Uint8Array, off: number, len: number): number {
  const dev = getDev(st, devIndex);
  if (dev === null) return -ENODEV;
  if (!dev.up) {
    dev.stats.v[DEV_RX_DROPPED]++;
    return -ENETDOWN;
  }
  if (len > dev.mtu + ETH_HLEN + 4 || len < 0) {
    dev.stats.v[DEV_RX_DROPPED]++;
    st.mib.link[LINK_RXTOOBIG]++;
    return -EMSGSIZE;
  }
  const p = st.pool;
  const skb = p.alloc(len);
  if (skb === SKB_NONE) {
    dev.stats.v[DEV_RX_DROPPED]++;
    st.mib.link[LINK_RXNOSKB]++;
    return -ENOBUFS;
  }
  const o = p.put(skb, len);
  copyBytes(p.buf[skb], o, src, off, len);
  p.dev[skb] = devIndex;
  return netifRx(st, skb);
}

/** net_rx_action: process up to budget skbs from the RX ring. Returns how many. */
export function netRxAction(st: Stack, budget: number): number {
  const l = st.link;
  const ring = l.ring;
  let n = 0;
  while (n < budget && l.ringCount > 0) {
    const skb = ring[l.ringHead];
    l.ringHead++;
    if (l.ringHead >= ring.length) l.ringHead = 0;
    l.ringCount--;
    n++;
    netifReceiveSkb(st, skb);
  }
  return n;
}

/** __netif_receive_skb: count, classify, dispatch to the ptype handler. */
export function netifReceiveSkb(st: Stack, skb: number): void {
  const p = st.pool;
  const dev = getDev(st, p.dev[skb]);
  if (dev === null) {
    p.free(skb);
    return;
  }
  st.mib.link[LINK_RXFRAMES]++;
  dev.stats.v[DEV_RX_PACKETS]++;
  dev.stats.v[DEV_RX_BYTES] += p.len(skb);
  const proto = ethTypeTrans(st, skb, dev.mac);
  if (proto < 0) {
    dev.stats.v[DEV_RX_DROPPED]++;
    p.free(skb);
    return;
  }
  const l = st.link;
  for (let i = 0; i < l.ptypeHandler.length; i++) {
    if (l.ptypeType[i] === proto) {
      l.ptypeHandler[i].rcv(skb);
      return;
    }
  }
  st.mib.link[LINK_RXUNKNOWNTYPE]++;
  dev.stats.v[DEV_RX_DROPPED]++;
  p.free(skb);
}

/**
 * dev_queue_xmit: skb.data at the Ethernet header, skb.dev set. Always
 * consumes the skb. Returns 0 or -errno (dropped and counted).
 */
export function devQueueXmit(st: Stack, skb: number): number {
  const p = st.pool;
  const dev = getDev(st, p.dev[skb]);
  if (dev === null) {
    p.free(skb);
    return -ENODEV;
  }
  if (!dev.up) {
    dev.stats.v[DEV_TX_DROPPED]++;
    p.free(skb);
    return -ENETDOWN;
  }
  if (!dev.qdisc.enqueue(skb)) {
    dev.stats.v[DEV_TX_DROPPED]++;
    st.mib.link[LINK_TXQDISCDROPS]++;
    p.free(skb);
    return -ENOBUFS;
  }
  qdiscRun(st, dev);
  return 0;
}

/** qdisc_run: hand queued frames to the driver until it is busy or the queue is empty. */
export function qdiscRun(st: Stack, dev: NetDevice): void {
  const p = st.pool;
  const q = dev.qdisc;
  let skb = q.dequeue();
  while (skb !== SKB_NONE) {
    const len = p.len(skb);
    const rc = dev.driver.startXmit(dev, skb);
    if (rc !== NETDEV_TX_OK) {
      q.requeue(skb);
      dev.txStopped = true;
      return;
    }
    dev.txStopped = false;
    st.mib.link[LINK_TXFRAMES]++;
    dev.stats.v[DEV_TX_PACKETS]++;
    dev.stats.v[DEV_TX_BYTES] += len;
    skb = q.dequeue();
  }
}

/** TX-done interrupt: the driver is finished with skb; free it and restart the queue. */
export function devTxComplete(st: Stack, dev: NetDevice, skb: number): void {
  st.pool.free(skb);
  if (dev.txStopped && dev.qdisc.qlen > 0) qdiscRun(st, dev);
}

/** Let NAPI drivers pull frames, and restart stopped queues. */
export function linkPollDrivers(st: Stack): void {
  const devs = st.link.devs;
  for (let i = 0; i < devs.length; i++) {
    const dev = devs[i];
    if (!dev.up) continue;
    const d = dev.driver;
    if (d.poll !== undefined) d.poll(dev, st.cfg.napiBudget);
    if (dev.qdisc.qlen > 0) qdiscRun(st, dev);
  }
}
