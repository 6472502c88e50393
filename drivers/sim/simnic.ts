/*
 * simnic.ts — the simulation's network card: the NetDriver of one device
 * of one simulated stack, plugged into a port of a virtual switch
 * (src/sim/switch.ts).
 *
 * Place in the packet path: the bottom of the transmit path and the top
 * of the receive path. dev_queue_xmit → qdisc → SimNic.startXmit copies
 * the frame into the wire's preallocated in-flight slots
 * (Fabric.hostTransmit) and reports TX-complete at once (devTxComplete
 * frees the skb). Frames arriving at their virtual time wait in the NIC's
 * bounded RX FIFO (the chip's receive buffer, slots threaded through the
 * frame pool); the NAPI poll (called by stack.poll) copies up to `budget`
 * of them into skbs with rxFrame (driver "DMA" + netif_rx).
 *
 * No allocation per frame. Counters: txFrames, txBytes, txDropped (the
 * wire refused: loss, outage, no slot), rxFrames, rxBytes, rxFifoDrops
 * (FIFO full or device down), rxRefused (rxFrame failed: pool/ring).
 */
import type { Stack } from '../../src/stack';
import { NetDevice, NetDriver, NETDEV_TX_OK } from '../../src/link/netdev';
import { rxFrame, devTxComplete, getDev } from '../../src/link/dev';
import type { Fabric, SimPort, PortEndpoint } from '../../src/sim/switch';

export class SimNic implements NetDriver, PortEndpoint {
  /** device index on st (set after registerNetdev) */
  devIndex = -1;
  /** RX FIFO of frame-pool slots */
  private rxHead = -1;
  private rxTail = -1;
  rxQueued = 0;
  rxFifoMax: number;
  txFrames = 0;
  txBytes = 0;
  txDropped = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxFifoDrops = 0;
  rxRefused = 0;

  constructor(
    readonly st: Stack,
    readonly fabric: Fabric,
    readonly port: SimPort,
    rxFifoMax: number,
  ) {
    this.rxFifoMax = rxFifoMax;
    port.endpoint = this;
  }

  startXmit(dev: NetDevice, skb: number): number {
    const st = this.st;
    const p = st.pool;
    const off = p.data[skb];
    const len = p.tail[skb] - off;
    this.txFrames++;
    this.txBytes += len;
    if (this.fabric.hostTransmit(this.port, st.clock.now(), p.buf[skb], off, len) === 0) this.txDropped++;
    devTxComplete(st, dev, skb);
    return NETDEV_TX_OK;
  }

  deliverFrame(fabric: Fabric, slot: number): boolean {
    const dev = getDev(this.st, this.devIndex);
    if (dev === null || !dev.up || this.rxQueued >= this.rxFifoMax) {
      this.rxFifoDrops++;
      return false;
    }
    const pool = fabric.pool;
    pool.next[slot] = -1;
    if (this.rxTail < 0) this.rxHead = slot;
    else pool.next[this.rxTail] = slot;
    this.rxTail = slot;
    this.rxQueued++;
    return true;
  }

  poll(dev: NetDevice, budget: number): number {
    const pool = this.fabric.pool;
    let n = 0;
    while (n < budget && this.rxHead >= 0) {
      const s = this.rxHead;
      this.rxHead = pool.next[s];
      if (this.rxHead < 0) this.rxTail = -1;
      this.rxQueued--;
      const len = pool.len[s];
      if (rxFrame(this.st, dev.index, pool.data, pool.off(s), len) === 0) {
        this.rxFrames++;
        this.rxBytes += len;
      } else {
        this.rxRefused++;
      }
      pool.free(s);
      n++;
    }
    return n;
  }

  /** Drop everything waiting in the RX FIFO (device down, teardown). */
  flush(): void {
    const pool = this.fabric.pool;
    while (this.rxHead >= 0) {
      const s = this.rxHead;
      this.rxHead = pool.next[s];
      pool.free(s);
    }
    this.rxTail = -1;
    this.rxQueued = 0;
  }
}
