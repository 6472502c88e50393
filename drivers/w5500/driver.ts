/*
 * driver.ts — the WIZnet W5500 in MACRAW mode as a slabnet NetDriver,
 * over any SpiBus (Espruino's SPI on a board, W5500Mock on the PC).
 *
 * Place in the packet path: the bottom of transmit and the top of receive.
 *   dev_queue_xmit → qdisc → W5500Driver.startXmit: Sn_TX_FSR check, the
 *     frame is written straight from the skb into socket 0's TX buffer at
 *     Sn_TX_WR, Sn_TX_WR advanced, SEND; devTxComplete frees the skb at
 *     once (the bytes are in the chip).
 *   INTn / stack.poll → W5500Driver.poll (NAPI): Sn_RX_RSR, then per frame
 *     the 2-byte MACRAW length header at Sn_RX_RD and the frame read
 *     straight into a fresh skb → netif_rx; one Sn_RX_RD update + RECV per
 *     batch.
 *
 * Datasheet references (W5500 Datasheet v1.0.9): §2.2 SPI frame (3-byte
 * header: 16-bit offset, control byte BSB/RWB/OM; VDM framing by CS);
 * §3.3 memory (16 KB TX + 16 KB RX shared by the sockets; a buffer-block
 * offset is taken modulo the socket's buffer size, so one burst may run
 * across the end of the ring); §4.1 MR.RST, SHAR, SIMR, PHYCFGR.LNK,
 * VERSIONR = 0x04; §4.2 Sn_MR (P = MACRAW on socket 0, MFEN), Sn_CR
 * (OPEN/SEND/RECV, auto-cleared), Sn_IR (write 1 to clear), Sn_SR
 * (SOCK_MACRAW = 0x42), Sn_RXBUF_SIZE/Sn_TXBUF_SIZE, Sn_TX_FSR/Sn_TX_WR
 * ("update Sn_TX_WR, then SEND"), Sn_RX_RSR/Sn_RX_RD ("update Sn_RX_RD,
 * then RECV"; pointers wrap at 16 bits).
 *
 * SPI cost: every register access is one VDM frame (3 header bytes + data).
 * The driver keeps shadows of Sn_TX_WR and Sn_RX_RD (it is their only
 * writer) instead of reading them back. The Sn_CR read-back after SEND and
 * RECV is skipped: the next SEND waits for SEND_OK and RECV is observed
 * through Sn_RX_RSR (init commands do wait for Sn_CR = 0, bounded).
 * With `splitWrap` a transfer that crosses the end of the ring is issued as
 * two frames (as a W5100/W5200 needs); the W5500 does not need it.
 *
 * Zero allocation after construction: the header and register scratch
 * buffers are preallocated; frame bytes move between skb buffers and the
 * chip without a copy in between. Errors are counted, never thrown.
 * Portable (Lua/Espruino): unsigned shifts only, explicit comparisons.
 */
import type { Stack } from '../../src/stack';
import type { SpiBus, IrqLine } from '../spi';
import { NetDevice, NetDriver, NETDEV_TX_OK, NETDEV_TX_BUSY } from '../../src/link/netdev';
import { registerNetdev, netifRx, devTxComplete } from '../../src/link/dev';
import { SKB_NONE } from '../../src/core/skb';
import { ETIMEDOUT, ENODEV, EINVAL } from '../../src/core/errno';
import {
  DEV_RX_DROPPED, DEV_RX_ERRORS, DEV_TX_DROPPED, DEV_TX_ERRORS, LINK_RXNOSKB, LINK_RXTOOBIG,
} from '../../src/core/mib';
import {
  SPI_HDR_LEN, BSB_COMMON, BSB_S0_REG, BSB_S0_TX, BSB_S0_RX, W5500_SOCKETS, bsbSockReg, ctrlByte,
  MR, SHAR, IMR, SIMR, PHYCFGR, VERSIONR, MR_RST, PHYCFGR_LNK, W5500_VERSION,
  SN_MR, SN_CR, SN_IR, SN_SR, SN_RXBUF_SIZE, SN_TX_FSR, SN_TX_WR, SN_RX_RSR, SN_RX_RD, SN_IMR,
  SN_MR_MACRAW, SN_MR_MFEN, SN_CR_OPEN, SN_CR_CLOSE, SN_CR_SEND, SN_CR_RECV, SN_IR_SEND_OK, SN_IR_RECV,
  SOCK_MACRAW, MACRAW_HDR_LEN, ETH_MAX_FRAME, validBufKb,
} from './regs';

export interface W5500Options {
  /** socket 0 RX / TX buffer in KB (0,1,2,4,8,16; default 16: all the chip's memory) */
  rxKb?: number;
  txKb?: number;
  /** Sn_MR.MFEN: the chip drops frames not for our MAC or broadcast (default true) */
  macFilter?: boolean;
  /** issue ring-crossing transfers as two SPI frames (default false, see the header) */
  splitWrap?: boolean;
  /** bound on register polls while waiting for reset / a command / a state (default 100) */
  spinMax?: number;
}

/** Init result codes beyond 0 / -errno, kept for the report. */
export const W5500_INIT_OK = 0;

export class W5500Driver implements NetDriver {
  devIndex = -1;
  /** 0 after a successful init(), else the -errno of the last init() */
  initError = -ENODEV;
  ready = false;
  readonly rxKb: number;
  readonly txKb: number;
  readonly macFilter: boolean;
  readonly splitWrap: boolean;
  readonly spinMax: number;
  /** VERSIONR as read by the last init() */
  version = -1;
  /* counters */
  txFrames = 0;
  txBytes = 0;
  /** NETDEV_TX_BUSY because Sn_TX_FSR < frame length */
  txBusyFsr = 0;
  /** NETDEV_TX_BUSY because the previous SEND has not completed (no SEND_OK yet) */
  txBusySend = 0;
  /** frames too large for the TX buffer / Ethernet, dropped */
  txOversize = 0;
  /** frames handed to the stack */
  rxFrames = 0;
  rxBytes = 0;
  /** bad MACRAW length headers (each one resyncs: all of Sn_RX_RSR is discarded) */
  rxLengthErrors = 0;
  rxResyncBytes = 0;
  /** frames read out of the chip and dropped: no skb / too big for the device */
  rxNoSkb = 0;
  rxTooBig = 0;
  /** polls that found the chip with data (RX batches) */
  rxBatches = 0;
  /** bounded waits that ran out */
  spinTimeouts = 0;

  private readonly hdr = new Uint8Array(SPI_HDR_LEN);
  private readonly reg = new Uint8Array(8);
  private readonly macAddr = new Uint8Array(6);
  private txSize = 0;
  private rxSize = 0;
  /** shadows of Sn_TX_WR and Sn_RX_RD (the driver is their only writer) */
  private txWr = 0;
  private rxRd = 0;
  private sendPending = false;
  /** a poll stopped at its budget with frames left (INTn will not re-assert for them) */
  private rxMore = false;

  constructor(
    readonly st: Stack,
    readonly spi: SpiBus,
    readonly irq: IrqLine | null,
    mac: Uint8Array,
    opts?: W5500Options,
  ) {
    const o: W5500Options = opts !== undefined ? opts : {};
    this.rxKb = o.rxKb !== undefined ? o.rxKb : 16;
    this.txKb = o.txKb !== undefined ? o.txKb : 16;
    this.macFilter = o.macFilter !== undefined ? o.macFilter : true;
    this.splitWrap = o.splitWrap !== undefined ? o.splitWrap : false;
    this.spinMax = o.spinMax !== undefined ? o.spinMax : 100;
    for (let i = 0; i < 6; i++) this.macAddr[i] = mac[i] & 0xff;
  }

  /* ================= SPI access (§2.2, VDM) ================= */

  private begin(bsb: number, addr: number, write: boolean): void {
    const h = this.hdr;
    h[0] = (addr >>> 8) & 0xff;
    h[1] = addr & 0xff;
    h[2] = ctrlByte(bsb, write);
    this.spi.select();
    this.spi.transfer(h, 0, null, 0, SPI_HDR_LEN);
  }

  read8(bsb: number, addr: number): number {
    this.begin(bsb, addr, false);
    this.spi.transfer(null, 0, this.reg, 0, 1);
    this.spi.deselect();
    return this.reg[0];
  }

  read16(bsb: number, addr: number): number {
    this.begin(bsb, addr, false);
    this.spi.transfer(null, 0, this.reg, 0, 2);
    this.spi.deselect();
    return ((this.reg[0] << 8) | this.reg[1]) & 0xffff;
  }

  write8(bsb: number, addr: number, v: number): void {
    this.reg[0] = v & 0xff;
    this.begin(bsb, addr, true);
    this.spi.transfer(this.reg, 0, null, 0, 1);
    this.spi.deselect();
  }

  write16(bsb: number, addr: number, v: number): void {
    this.reg[0] = (v >>> 8) & 0xff;
    this.reg[1] = v & 0xff;
    this.begin(bsb, addr, true);
    this.spi.transfer(this.reg, 0, null, 0, 2);
    this.spi.deselect();
  }

  /** Burst read of len bytes of a ring (size bytes) at pointer ptr into dst[off..]. */
  private readRing(bsb: number, size: number, ptr: number, dst: Uint8Array, off: number, len: number): void {
    const o = ptr & (size - 1);
    let first = len;
    if (this.splitWrap && o + len > size) first = size - o;
    this.begin(bsb, ptr & 0xffff, false);
    this.spi.transfer(null, 0, dst, off, first);
    this.spi.deselect();
    if (first < len) {
      this.begin(bsb, (ptr + first) & 0xffff, false);
      this.spi.transfer(null, 0, dst, off + first, len - first);
      this.spi.deselect();
    }
  }

  /** Burst write of src[off..off+len) into a ring at pointer ptr. */
  private writeRing(bsb: number, size: number, ptr: number, src: Uint8Array, off: number, len: number): void {
    const o = ptr & (size - 1);
    let first = len;
    if (this.splitWrap && o + len > size) first = size - o;
    this.begin(bsb, ptr & 0xffff, true);
    this.spi.transfer(src, off, null, 0, first);
    this.spi.deselect();
    if (first < len) {
      this.begin(bsb, (ptr + first) & 0xffff, true);
      this.spi.transfer(src, off + first, null, 0, len - first);
      this.spi.deselect();
    }
  }

  /** Issue a socket-0 command and wait (bounded) until the chip clears Sn_CR. 0 or -ETIMEDOUT. */
  private command(cmd: number): number {
    this.write8(BSB_S0_REG, SN_CR, cmd);
    for (let i = 0; i < this.spinMax; i++) {
      if (this.read8(BSB_S0_REG, SN_CR) === 0) return 0;
    }
    this.spinTimeouts++;
    return -ETIMEDOUT;
  }

  /* ================= bring-up ================= */

  /**
   * Reset the chip and open socket 0 in MACRAW mode. Returns 0, -ETIMEDOUT
   * (reset or OPEN never completed), -ENODEV (VERSIONR is not 0x04: no
   * W5500 on the bus) or -EINVAL (bad buffer sizes). Every wait is bounded.
   */
  init(): number {
    this.ready = false;
    this.sendPending = false;
    this.rxMore = false;
    if (!validBufKb(this.rxKb) || !validBufKb(this.txKb) || this.rxKb === 0 || this.txKb === 0) {
      return this.fail(-EINVAL);
    }
    // §4.1 MR.RST: software reset, self-clearing
    this.write8(BSB_COMMON, MR, MR_RST);
    let i = 0;
    while (i < this.spinMax && (this.read8(BSB_COMMON, MR) & MR_RST) !== 0) i++;
    if (i >= this.spinMax) {
      this.spinTimeouts++;
      return this.fail(-ETIMEDOUT);
    }
    this.version = this.read8(BSB_COMMON, VERSIONR);
    if (this.version !== W5500_VERSION) return this.fail(-ENODEV);
    // §4.2 Sn_RXBUF_SIZE / Sn_TXBUF_SIZE (adjacent): all memory to socket 0
    for (let n = 0; n < W5500_SOCKETS; n++) {
      const rk = n === 0 ? this.rxKb : 0;
      const tk = n === 0 ? this.txKb : 0;
      this.write16(bsbSockReg(n), SN_RXBUF_SIZE, ((rk << 8) | tk) & 0xffff);
    }
    this.rxSize = this.rxKb * 1024;
    this.txSize = this.txKb * 1024;
    // §4.1 SHAR: our MAC (used by the MFEN filter)
    this.begin(BSB_COMMON, SHAR, true);
    this.spi.transfer(this.macAddr, 0, null, 0, 6);
    this.spi.deselect();
    // interrupts: socket 0 RECV only (SEND_OK is polled when the next frame goes out)
    this.write8(BSB_COMMON, IMR, 0);
    this.write8(BSB_S0_REG, SN_IMR, SN_IR_RECV);
    this.write8(BSB_COMMON, SIMR, this.irq !== null ? 0x01 : 0);
    // §4.2 Sn_MR: MACRAW (+MFEN), then OPEN and wait for SOCK_MACRAW
    this.write8(BSB_S0_REG, SN_MR, SN_MR_MACRAW | (this.macFilter ? SN_MR_MFEN : 0));
    if (this.command(SN_CR_OPEN) < 0) return this.fail(-ETIMEDOUT);
    i = 0;
    while (i < this.spinMax && this.read8(BSB_S0_REG, SN_SR) !== SOCK_MACRAW) i++;
    if (i >= this.spinMax) {
      this.spinTimeouts++;
      return this.fail(-ETIMEDOUT);
    }
    this.write8(BSB_S0_REG, SN_IR, 0xff);
    this.txWr = this.read16(BSB_S0_REG, SN_TX_WR);
    this.rxRd = this.read16(BSB_S0_REG, SN_RX_RD);
    this.ready = true;
    this.initError = 0;
    return 0;
  }

  private fail(e: number): number {
    this.initError = e;
    return e;
  }

  /** CLOSE socket 0 (the driver stops moving frames until init() again). */
  shutdown(): number {
    this.ready = false;
    return this.command(SN_CR_CLOSE);
  }

  /** PHYCFGR.LNK (§4.1): true when the PHY reports link up. Costs one 4-byte SPI frame. */
  linkUp(): boolean {
    return (this.read8(BSB_COMMON, PHYCFGR) & PHYCFGR_LNK) !== 0;
  }

  /* ================= transmit ================= */

  startXmit(dev: NetDevice, skb: number): number {
    const st = this.st;
    const p = st.pool;
    const off = p.data[skb];
    const len = p.tail[skb] - off;
    if (!this.ready || len > this.txSize || len > ETH_MAX_FRAME || len <= 0) {
      // can never fit: drop now rather than block the queue forever
      if (this.ready) this.txOversize++;
      dev.stats.v[DEV_TX_DROPPED]++;
      dev.stats.v[DEV_TX_ERRORS]++;
      devTxComplete(st, dev, skb);
      return NETDEV_TX_OK;
    }
    // §4.2 Sn_TX_FSR: room for the whole frame?
    if (this.read16(BSB_S0_REG, SN_TX_FSR) < len) {
      this.txBusyFsr++;
      return NETDEV_TX_BUSY;
    }
    // one SEND at a time: the previous one must have raised SEND_OK
    if (this.sendPending) {
      if ((this.read8(BSB_S0_REG, SN_IR) & SN_IR_SEND_OK) === 0) {
        this.txBusySend++;
        return NETDEV_TX_BUSY;
      }
      this.write8(BSB_S0_REG, SN_IR, SN_IR_SEND_OK); // write 1 to clear
      this.sendPending = false;
    }
    this.writeRing(BSB_S0_TX, this.txSize, this.txWr, p.buf[skb], off, len);
    this.txWr = (this.txWr + len) & 0xffff;
    this.write16(BSB_S0_REG, SN_TX_WR, this.txWr);
    this.write8(BSB_S0_REG, SN_CR, SN_CR_SEND);
    this.sendPending = true;
    this.txFrames++;
    this.txBytes += len;
    devTxComplete(st, dev, skb);
    return NETDEV_TX_OK;
  }

  /* ================= receive (NAPI) ================= */

  poll(dev: NetDevice, budget: number): number {
    if (!this.ready || budget <= 0) return 0;
    const irq = this.irq;
    if (irq !== null) {
      if (!this.rxMore && !irq.asserted()) return 0;
      // clear RECV before reading Sn_RX_RSR: a frame stored after this read re-asserts INTn
      this.write8(BSB_S0_REG, SN_IR, SN_IR_RECV);
    }
    this.rxMore = false;
    let rsr = this.read16(BSB_S0_REG, SN_RX_RSR);
    if (rsr === 0) return 0;
    this.rxBatches++;
    const st = this.st;
    const p = st.pool;
    const hb = this.reg;
    const maxLen = dev.mtu + 14 + 4;
    let ptr = this.rxRd;
    let consumed = 0;
    let n = 0;
    while (consumed < rsr && n < budget) {
      let bad = rsr - consumed < MACRAW_HDR_LEN;
      let flen = 0;
      if (!bad) {
        this.readRing(BSB_S0_RX, this.rxSize, ptr, hb, 0, MACRAW_HDR_LEN);
        flen = ((hb[0] << 8) | hb[1]) & 0xffff;
        bad = flen <= MACRAW_HDR_LEN || flen > ETH_MAX_FRAME + MACRAW_HDR_LEN;
        if (!bad && flen > rsr - consumed) {
          // maybe a torn 16-bit read of Sn_RX_RSR (§4.2 note): read it once more
          rsr = this.read16(BSB_S0_REG, SN_RX_RSR);
          bad = flen > rsr - consumed;
        }
      }
      if (bad) {
        // resync: discard everything the chip holds now
        this.rxLengthErrors++;
        this.rxResyncBytes += rsr - consumed;
        dev.stats.v[DEV_RX_ERRORS]++;
        ptr = (ptr + (rsr - consumed)) & 0xffff;
        consumed = rsr;
        break;
      }
      const plen = flen - MACRAW_HDR_LEN;
      const dataPtr = (ptr + MACRAW_HDR_LEN) & 0xffff;
      if (plen > maxLen) {
        this.rxTooBig++;
        dev.stats.v[DEV_RX_DROPPED]++;
        st.mib.link[LINK_RXTOOBIG]++;
      } else {
        const skb = p.alloc(plen);
        if (skb === SKB_NONE) {
          this.rxNoSkb++;
          dev.stats.v[DEV_RX_DROPPED]++;
          st.mib.link[LINK_RXNOSKB]++;
        } else {
          const o = p.put(skb, plen);
          this.readRing(BSB_S0_RX, this.rxSize, dataPtr, p.buf[skb], o, plen);
          p.dev[skb] = dev.index;
          this.rxFrames++;
          this.rxBytes += plen;
          netifRx(st, skb);
        }
      }
      ptr = (ptr + flen) & 0xffff;
      consumed += flen;
      n++;
    }
    if (consumed < rsr) this.rxMore = true;
    // §4.2: update Sn_RX_RD, then RECV (once per batch)
    this.rxRd = ptr;
    this.write16(BSB_S0_REG, SN_RX_RD, ptr);
    this.write8(BSB_S0_REG, SN_CR, SN_CR_RECV);
    return n;
  }
}

/**
 * Bring up a W5500 on `spi` and register it as device `name`. Returns the
 * device index (registered DOWN: add addresses, then devOpen) or -errno
 * when the chip did not come up (see W5500Driver.init) or registration
 * failed. The driver is st.link.devs[index].driver.
 */
export function attachW5500(
  st: Stack,
  spi: SpiBus,
  irq: IrqLine | null,
  mac: Uint8Array,
  name: string,
  opts?: W5500Options,
): number {
  const d = new W5500Driver(st, spi, irq, mac, opts);
  const rc = d.init();
  if (rc < 0) return rc;
  const dev = registerNetdev(st, name, mac, st.cfg.mtu, d);
  if (dev < 0) return dev;
  d.devIndex = dev;
  return dev;
}
