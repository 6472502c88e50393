/*
 * udpframes.ts — a host (Node-only) frame transport: one Ethernet frame
 * per UDP datagram, the framing QEMU's `-netdev dgram` and socat's TUN
 * address use. Frames arrive on 127.0.0.1:LPORT and leave for
 * 127.0.0.1:RPORT (or any host/port pair given).
 *
 * Place in the packet path: the bottom of both paths, a NetDriver.
 *   receive:  'message' → rxFrame(st, dev, buf, 0, len) (driver "DMA" + netif_rx)
 *             → the owner's onRx hook (schedules st.poll(): net_rx_action)
 *   transmit: devQueueXmit → qdisc → startXmit: the frame is copied into a
 *             Buffer, handed to the socket, and devTxComplete frees the skb
 *             at once (the kernel's socket holds the copy).
 * Runts (shorter than an Ethernet header) are dropped and counted here;
 * oversize frames are dropped and counted by rxFrame.
 *
 * Loss injection (tests against a real kernel where sch_netem is missing):
 * with `loss` = p > 0 each received datagram and each transmitted frame is
 * lost with probability p, drawn from two seeded SimRng streams (one per
 * direction, from `lossSeed`), so the k-th frame each way has the same fate
 * on every run. A lost received datagram never reaches rxFrame (counted in
 * lostRx, not seen by the tap); a lost transmitted frame is seen by the tap
 * (it left the "NIC"), freed, and counted in lostTx.
 *
 * Node only: allocates a Buffer per transmitted frame (the host side of
 * the wire is not the board's hot path). Excluded from the bundles.
 *
 * The device-layer calls (registerNetdev, rxFrame, devTxComplete, getDev)
 * are the source stack's by default; `slabnet up --board` passes a board
 * bundle's exports of the same names instead (FrameDevOps), so the same
 * driver sits under a stack loaded from dist/espruino/<id>.min.js
 * (src/host/bundle.ts). The driver touches only the public members of
 * the stack (st.pool.buf/data/tail, dev.stats), which the bundles keep.
 * A compact bundle (src/compact/: no device layer, no skbs) uses it with
 * st null: received frames go to its FrameDevOps.rxFrame (netRxFrame), and
 * its netAttach sink calls sendFrame (src/cli/up_compact.ts).
 */
import * as dgram from 'node:dgram';
import type { Stack } from '../../src/stack';
import { NetDevice, NetDriver, NETDEV_TX_OK } from '../../src/link/netdev';
import { registerNetdev, rxFrame, devTxComplete, getDev } from '../../src/link/dev';
import { ETH_HLEN } from '../../src/link/ether';
import { DEV_RX_ERRORS, DEV_TX_ERRORS } from '../../src/core/mib';
import { SimRng } from '../../src/sim/prng';

/** Sees every frame in (dir 0) and out (dir 1), e.g. a pcap writer. Must copy what it keeps. */
export interface FrameTap {
  onFrame(dir: number, buf: Uint8Array, off: number, len: number): void;
}
export const TAP_RX = 0;
export const TAP_TX = 1;

export interface UdpFramesOptions {
  /** local UDP port frames arrive on */
  lport: number;
  /** remote UDP port frames are sent to */
  rport: number;
  /** local bind address (default 127.0.0.1) */
  lhost?: string;
  /** remote address (default 127.0.0.1) */
  rhost?: string;
  /** probability (0 <= p < 1) of losing each frame, both directions (default 0) */
  loss?: number;
  /** seed of the loss PRNG (default 1) */
  lossSeed?: number;
}

/** The device-layer functions the driver calls: the source stack's, or a board bundle's exports. */
export interface FrameDevOps {
  registerNetdev(st: Stack, name: string, mac: Uint8Array, mtu: number, driver: NetDriver): number;
  rxFrame(st: Stack, devIndex: number, src: Uint8Array, off: number, len: number): number;
  devTxComplete(st: Stack, dev: NetDevice, skb: number): void;
  getDev(st: Stack, index: number): NetDevice | null;
}

/** The source stack's device layer (src/link/dev.ts). */
export const SOURCE_DEV_OPS: FrameDevOps = { registerNetdev, rxFrame, devTxComplete, getDev };

/** Default seed of the loss PRNG (runs are reproducible unless a seed is given). */
export const LOSS_SEED_DEFAULT = 1;

export class UdpFramesDriver implements NetDriver {
  devIndex = -1;
  readonly lport: number;
  readonly rport: number;
  readonly lhost: string;
  readonly rhost: string;
  /** called after each received datagram (the owner schedules st.poll()) */
  onRx: (() => void) | null = null;
  tap: FrameTap | null = null;
  /* counters */
  rxDatagrams = 0;
  rxRunts = 0;
  rxRefused = 0;
  txDatagrams = 0;
  txErrors = 0;
  lostRx = 0;
  lostTx = 0;
  readonly loss: number;
  readonly lossSeed: number;
  private lossRx: SimRng | null = null;
  private lossTx: SimRng | null = null;
  private sock: dgram.Socket | null = null;
  private closed = false;
  /** the device layer the frames go to and come from */
  readonly ops: FrameDevOps;

  constructor(readonly st: Stack | null, o: UdpFramesOptions, ops?: FrameDevOps) {
    this.ops = ops !== undefined ? ops : SOURCE_DEV_OPS;
    this.lport = o.lport;
    this.rport = o.rport;
    this.lhost = o.lhost !== undefined ? o.lhost : '127.0.0.1';
    this.rhost = o.rhost !== undefined ? o.rhost : '127.0.0.1';
    const p = o.loss !== undefined ? o.loss : 0;
    if (!(p >= 0 && p < 1)) throw new RangeError('UdpFramesDriver: loss must be in [0, 1): ' + p);
    this.loss = p;
    this.lossSeed = o.lossSeed !== undefined ? o.lossSeed >>> 0 : LOSS_SEED_DEFAULT;
    if (p > 0) {
      // one stream per direction: the fate of the k-th frame each way does not depend on timing
      this.lossRx = new SimRng(this.lossSeed);
      this.lossTx = new SimRng((this.lossSeed ^ 0x5bd1e995) >>> 0);
    }
  }

  /** Whether the next frame in direction `dir` (TAP_RX / TAP_TX) is lost. */
  lose(dir: number): boolean {
    const r = dir === TAP_RX ? this.lossRx : this.lossTx;
    return r !== null && r.next() < this.loss;
  }

  /** Register the net device on the stack (DOWN). Returns the device index or -errno. */
  register(name: string, mac: Uint8Array, mtu: number): number {
    const d = this.ops.registerNetdev(this.st as Stack, name, mac, mtu, this);
    if (d >= 0) this.devIndex = d;
    return d;
  }

  /** Bind the UDP socket. Resolves when listening; rejects on bind errors. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      this.sock = s;
      let bound = false;
      s.on('error', (err) => {
        if (!bound) {
          reject(err);
          return;
        }
        this.txErrors++;
      });
      s.on('message', (msg: Buffer) => this.onMessage(msg));
      s.bind(this.lport, this.lhost, () => {
        bound = true;
        resolve();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sock !== null) this.sock.close();
  }

  private onMessage(msg: Buffer): void {
    this.rxDatagrams++;
    if (this.lossRx !== null && this.lose(TAP_RX)) {
      this.lostRx++;
      return;
    }
    const st = this.st as Stack;
    const u8 = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    if (msg.length < ETH_HLEN) {
      this.rxRunts++;
      const dev = this.ops.getDev(st, this.devIndex);
      if (dev !== null) dev.stats.v[DEV_RX_ERRORS]++;
    } else {
      if (this.tap !== null) this.tap.onFrame(TAP_RX, u8, 0, u8.length);
      if (this.ops.rxFrame(st, this.devIndex, u8, 0, u8.length) !== 0) this.rxRefused++;
    }
    if (this.onRx !== null) this.onRx();
  }

  startXmit(dev: NetDevice, skb: number): number {
    const st = this.st as Stack;
    const p = st.pool;
    const off = p.data[skb];
    this.sendFrame(p.buf[skb], off, p.tail[skb] - off, dev);
    this.ops.devTxComplete(st, dev, skb);
    return NETDEV_TX_OK;
  }

  /**
   * One frame out (b[off..off+len), copied): the tap, the loss draw, the
   * socket. dev (or null) has its tx_errors counted with the driver's.
   */
  sendFrame(b: Uint8Array, off: number, len: number, dev: NetDevice | null): void {
    if (this.tap !== null) this.tap.onFrame(TAP_TX, b, off, len);
    const s = this.sock;
    if (this.lossTx !== null && this.lose(TAP_TX)) {
      this.lostTx++;
    } else if (s !== null && !this.closed) {
      this.txDatagrams++;
      s.send(Buffer.from(b.subarray(off, off + len)), this.rport, this.rhost, (err) => {
        if (err) {
          this.txErrors++;
          if (dev !== null) dev.stats.v[DEV_TX_ERRORS]++;
        }
      });
    } else {
      this.txErrors++;
      if (dev !== null) dev.stats.v[DEV_TX_ERRORS]++;
    }
  }

  stats(): { [k: string]: number } {
    return {
      rxDatagrams: this.rxDatagrams,
      rxRunts: this.rxRunts,
      rxRefused: this.rxRefused,
      txDatagrams: this.txDatagrams,
      txErrors: this.txErrors,
      lostRx: this.lostRx,
      lostTx: this.lostTx,
    };
  }
}
