/*
 * driver.ts — the ENC28J60 NetDriver over any SpiBus (drivers/spi.ts):
 * Espruino's SPI on a board, Enc28j60Mock (mock.ts) on the PC.
 *
 * Place in the packet path: the bottom of the transmit path and the top of
 * the receive path.
 *   TX: dev_queue_xmit → qdisc → startXmit: (previous TXRTS done?) →
 *       TXRST pulse (errata 12) → EWRPT = ETXST → WBM control byte + frame
 *       straight from the skb's buffer → ETXND → ECON1.TXRTS →
 *       devTxComplete at once: the frame lives in chip SRAM from here on, so
 *       the skb is free; completion/abort of the chip's single TX buffer is
 *       checked (ECON1.TXRTS, EIR.TXERIF) on the next startXmit/poll. This
 *       frees skbs earliest and costs no extra SPI bytes per frame; while
 *       the chip still sends, startXmit answers NETDEV_TX_BUSY.
 *   RX: stack.poll → linkPollDrivers → poll(dev, budget) (NAPI): EIR
 *       (RXERIF overrun, LINKIF, TXERIF) → EPKTCNT (errata 6: PKTIF is not
 *       reliable, so EPKTCNT is the truth) → per packet: ERDPT = next packet
 *       pointer, RBM 6-byte header (next pointer + receive status vector,
 *       §7.2.2 Table 7-3), RBM the frame (minus FCS) straight into
 *       pool.buf[skb], netif_rx; ERXRDPT = next - 1 (odd, errata 14), or
 *       ERXND when next = ERXST; ECON2.PKTDEC.
 *
 * Init (§6): SRC soft reset, poll ESTAT.CLKRDY (bounded; -ETIMEDOUT),
 * EREVID sanity (-ENODEV when the bus reads 00/FF), RX ring 0000h..19FFh
 * (ERXST = 0, errata 5) with the TX area 1A00h..1FFFh, ERXRDPT odd,
 * ERXFCON UCEN|CRCEN|BCEN, MACON1/3/4, MABBIPG, MAIPG, MAMXFL, MAADR
 * (MAADR1 = first byte), PHCON1/PHCON2.HDLDIS, PHIE, EIE, ECON1.RXEN.
 * On silicon, errata 2 (CLKRDY not cleared by SRC) calls for a >= 1 ms
 * delay after SRC: pass a `delayMs` hook (Espruino: a busy-wait) to do it.
 *
 * Portable: no allocation after the constructor (all SPI scratch is
 * preallocated), no signed shifts, every byte masked.
 */
import type { Stack } from '../../src/stack';
import type { SpiBus, IrqLine } from '../spi';
import { NetDevice, NetDriver, NETDEV_TX_OK, NETDEV_TX_BUSY } from '../../src/link/netdev';
import { registerNetdev, netifRx, devTxComplete, getDev } from '../../src/link/dev';
import { SKB_NONE } from '../../src/core/skb';
import { ETIMEDOUT, ENODEV, EIO } from '../../src/core/errno';
import { LINK_RXNOSKB } from '../../src/core/mib';
import { DEV_RX_DROPPED, DEV_RX_ERRORS, DEV_RX_OVER_ERRORS, DEV_TX_ERRORS, DEV_TX_DROPPED } from '../../src/core/mib';
import { ETH_HLEN } from '../../src/link/ether';
import {
  OP_RCR, OP_RBM, OP_WCR, OP_WBM, OP_BFS, OP_BFC, OP_SRC, ADDR_MASK, MACMII, COMMON_FIRST,
  EIE, EIR, ESTAT, ECON2, ECON1,
  ERDPTL, ERDPTH, EWRPTL, EWRPTH, ETXSTL, ETXSTH, ETXNDL, ETXNDH, ERXSTL, ERXSTH, ERXNDL, ERXNDH,
  ERXRDPTL, ERXRDPTH, ERXFCON, EPKTCNT,
  MACON1, MACON3, MACON4, MABBIPG, MAIPGL, MAIPGH, MAMXFLL, MAMXFLH, MICMD, MIREGADR, MIWRL, MIWRH,
  MIRDL, MIRDH, MISTAT, EREVID,
  MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6,
  EIE_INTIE, EIE_PKTIE, EIE_LINKIE, EIE_TXERIE, EIE_RXERIE,
  EIR_LINKIF, EIR_TXIF, EIR_TXERIF, EIR_RXERIF, ESTAT_CLKRDY,
  ECON2_AUTOINC, ECON2_PKTDEC, ECON1_TXRST, ECON1_RXRST, ECON1_TXRTS, ECON1_RXEN, ECON1_BSEL,
  ERXFCON_UCEN, ERXFCON_CRCEN, ERXFCON_BCEN,
  MACON1_MARXEN, MACON1_TXPAUS, MACON1_RXPAUS, MACON3_PADCFG0, MACON3_TXCRCEN, MACON3_FRMLNEN,
  MACON3_FULDPX, MACON4_DEFER, MICMD_MIIRD, MISTAT_BUSY,
  PHCON1, PHCON2, PHSTAT2, PHIE, PHIR, PHCON1_PDPXMD, PHCON2_HDLDIS, PHSTAT2_LSTAT, PHIE_PLNKIE, PHIE_PGEIE,
  RX_HDR_LEN, RSV2_RX_OK, ETH_FCS_LEN, RX_START, RX_END, TX_START, BUF_END, TSV_LEN, MAX_FRAME,
  MABBIPG_FD, MABBIPG_HD, MAIPGL_VALUE, MAIPGH_VALUE,
} from './regs';

/** ESTAT reads before init gives up on CLKRDY */
export const CLKRDY_POLLS = 1000;
/** MISTAT reads before an MII operation is declared stuck */
export const MII_POLLS = 100;
/** ECON1 reads per startXmit while the previous frame is still going out */
export const TXRTS_POLLS = 4;
/** consecutive busy startXmits before the TX logic is assumed stalled (errata 12) and reset */
export const TX_STALL_LIMIT = 64;
/** idle polls (INT not asserted) between unconditional EPKTCNT checks (errata 6) */
export const IDLE_CHECK_EVERY = 16;

/** Last byte usable for the frame: the 7-byte status vector follows ETXND. */
const TX_MAX_FRAME = BUF_END - TX_START - 1 - TSV_LEN + 1;

export interface Enc28j60Options {
  fullDuplex?: boolean;
  /** host delay after SRC (errata 2); absent on the PC */
  delayMs?: (ms: number) => void;
}

export class Enc28j60Driver implements NetDriver {
  devIndex = -1;
  /** last known PHSTAT2.LSTAT */
  carrier = false;
  readonly fullDuplex: boolean;
  /** next packet pointer: where the next unread frame starts in the RX ring */
  private nextPkt = RX_START;
  private bank = -1;
  private txPending = false;
  private txBusyCount = 0;
  private idlePolls = 0;
  private readonly cmd = new Uint8Array(4);
  private readonly res = new Uint8Array(4);
  private readonly hdr = new Uint8Array(RX_HDR_LEN);
  private readonly delayMs: ((ms: number) => void) | null;

  /* counters */
  rxFrames = 0;
  rxBytes = 0;
  /** frames whose status vector said not-OK or whose length was impossible */
  rxBadStatus = 0;
  /** EIR.RXERIF seen: the chip dropped frames (ring full or EPKTCNT = 255) */
  rxOverruns = 0;
  /** no skb for a frame (dropped in chip, space reclaimed) */
  rxNoSkb = 0;
  /** ring pointer corrupt → receive logic reset */
  rxResyncs = 0;
  txFrames = 0;
  txBytes = 0;
  txBusy = 0;
  txErrors = 0;
  txTooBig = 0;
  /** TX logic reset because TXRTS never cleared (errata 12) */
  txStallResets = 0;
  linkChanges = 0;
  /** SPI bytes spent in the last poll()/startXmit() (for per-packet budgets) */
  lastRxSpiBytes = 0;
  lastTxSpiBytes = 0;

  constructor(
    readonly st: Stack,
    readonly spi: SpiBus,
    readonly irq: IrqLine | null,
    mac: Uint8Array,
    opts?: Enc28j60Options,
  ) {
    this.mac = new Uint8Array(6);
    for (let i = 0; i < 6; i++) this.mac[i] = mac[i] & 0xff;
    this.fullDuplex = opts !== undefined && opts.fullDuplex === true;
    this.delayMs = opts !== undefined && opts.delayMs !== undefined ? opts.delayMs : null;
  }
  readonly mac: Uint8Array;

  /* ------------------------------------------------------------------ SPI primitives */

  private setBank(reg: number): void {
    if ((reg & ADDR_MASK) >= COMMON_FIRST) return;
    const b = (reg >>> 5) & 3;
    if (b === this.bank) return;
    // BSEL1:BSEL0 = ECON1<1:0> (Register 3-1)
    this.op2(OP_BFC | ECON1, ECON1_BSEL);
    if (b !== 0) this.op2(OP_BFS | ECON1, b);
    this.bank = b;
  }

  /** a 2-byte transaction: opcode, data */
  private op2(op: number, data: number): void {
    const c = this.cmd;
    c[0] = op & 0xff;
    c[1] = data & 0xff;
    const s = this.spi;
    s.select();
    s.transfer(c, 0, null, 0, 2);
    s.deselect();
  }

  /** RCR (§4.2.1): MAC/MII registers shift out a dummy byte first. */
  rcr(reg: number): number {
    this.setBank(reg);
    const c = this.cmd;
    const n = (reg & MACMII) !== 0 ? 3 : 2;
    c[0] = OP_RCR | (reg & ADDR_MASK);
    c[1] = 0;
    c[2] = 0;
    const s = this.spi;
    s.select();
    s.transfer(c, 0, this.res, 0, n);
    s.deselect();
    return this.res[n - 1];
  }

  wcr(reg: number, v: number): void {
    this.setBank(reg);
    this.op2(OP_WCR | (reg & ADDR_MASK), v);
  }

  /** BFS/BFC: ETH registers only (§4.2.5). */
  bfs(reg: number, mask: number): void {
    this.setBank(reg);
    this.op2(OP_BFS | (reg & ADDR_MASK), mask);
  }

  bfc(reg: number, mask: number): void {
    this.setBank(reg);
    this.op2(OP_BFC | (reg & ADDR_MASK), mask);
  }

  /** 16-bit register pair, low byte first (ERXRDPT latches on the high byte, §6.1). */
  private wcr16(regL: number, regH: number, v: number): void {
    this.wcr(regL, v & 0xff);
    this.wcr(regH, (v >>> 8) & 0x1f);
  }

  private rbm(dst: Uint8Array, off: number, len: number): void {
    const c = this.cmd;
    c[0] = OP_RBM;
    const s = this.spi;
    s.select();
    s.transfer(c, 0, null, 0, 1);
    s.transfer(null, 0, dst, off, len);
    s.deselect();
  }

  /** PHY read through the MII (§3.3.1). Returns the 16-bit value or -ETIMEDOUT. */
  phyRead(reg: number): number {
    this.wcr(MIREGADR, reg);
    this.wcr(MICMD, MICMD_MIIRD);
    if (!this.miiWait()) return -ETIMEDOUT;
    this.wcr(MICMD, 0);
    const lo = this.rcr(MIRDL);
    const hi = this.rcr(MIRDH);
    return lo | (hi << 8);
  }

  /** PHY write through the MII (§3.3.2): MIWRL then MIWRH starts it. 0 or -ETIMEDOUT. */
  phyWrite(reg: number, v: number): number {
    this.wcr(MIREGADR, reg);
    this.wcr(MIWRL, v & 0xff);
    this.wcr(MIWRH, (v >>> 8) & 0xff);
    return this.miiWait() ? 0 : -ETIMEDOUT;
  }

  private miiWait(): boolean {
    for (let i = 0; i < MII_POLLS; i++) if ((this.rcr(MISTAT) & MISTAT_BUSY) === 0) return true;
    return false;
  }

  /* ------------------------------------------------------------------ init (§6) */

  /** Reset and configure the chip. 0, -ETIMEDOUT (no CLKRDY), -ENODEV (no chip) or -EIO (MII stuck). */
  init(): number {
    const s = this.spi;
    const c = this.cmd;
    c[0] = OP_SRC;
    s.select();
    s.transfer(c, 0, null, 0, 1);
    s.deselect();
    this.bank = 0; // ECON1 resets to 0
    if (this.delayMs !== null) this.delayMs(2); // errata 2
    let ready = false;
    for (let i = 0; i < CLKRDY_POLLS; i++) {
      if ((this.rcr(ESTAT) & ESTAT_CLKRDY) !== 0) {
        ready = true;
        break;
      }
    }
    if (!ready) return -ETIMEDOUT;
    const rev = this.rcr(EREVID);
    if (rev === 0 || rev === 0xff) return -ENODEV;
    // §6.1 receive buffer: ERXST = 0 (errata 5), ERXND odd, ERXRDPT odd (errata 14)
    this.wcr16(ERXSTL, ERXSTH, RX_START);
    this.wcr16(ERXNDL, ERXNDH, RX_END);
    this.wcr16(ERXRDPTL, ERXRDPTH, RX_END);
    this.nextPkt = RX_START;
    this.wcr16(ETXSTL, ETXSTH, TX_START);
    this.wcr16(ERDPTL, ERDPTH, RX_START);
    // §6.3 receive filters: our unicast, broadcast, drop bad CRC
    this.wcr(ERXFCON, ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN);
    // §6.5 MAC
    const fd = this.fullDuplex;
    this.wcr(MACON1, MACON1_MARXEN | (fd ? MACON1_TXPAUS | MACON1_RXPAUS : 0));
    this.wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN | MACON3_FRMLNEN | (fd ? MACON3_FULDPX : 0));
    this.wcr(MACON4, fd ? 0 : MACON4_DEFER);
    this.wcr(MAMXFLL, MAX_FRAME & 0xff);
    this.wcr(MAMXFLH, (MAX_FRAME >>> 8) & 0xff);
    this.wcr(MABBIPG, fd ? MABBIPG_FD : MABBIPG_HD);
    this.wcr(MAIPGL, MAIPGL_VALUE);
    if (!fd) this.wcr(MAIPGH, MAIPGH_VALUE);
    // MAADR1 is the first byte on the wire (Table 3-1 / §6.5 step 9)
    const m = this.mac;
    this.wcr(MAADR1, m[0]);
    this.wcr(MAADR2, m[1]);
    this.wcr(MAADR3, m[2]);
    this.wcr(MAADR4, m[3]);
    this.wcr(MAADR5, m[4]);
    this.wcr(MAADR6, m[5]);
    // §6.6 PHY: duplex must match MACON3.FULDPX; HDLDIS stops half-duplex loopback
    if (this.phyWrite(PHCON1, fd ? PHCON1_PDPXMD : 0) < 0) return -EIO;
    if (this.phyWrite(PHCON2, PHCON2_HDLDIS) < 0) return -EIO;
    if (this.phyWrite(PHIE, PHIE_PGEIE | PHIE_PLNKIE) < 0) return -EIO;
    const ph = this.phyRead(PHSTAT2);
    if (ph < 0) return -EIO;
    this.carrier = (ph & PHSTAT2_LSTAT) !== 0;
    // interrupts, then enable reception
    this.bfs(ECON2, ECON2_AUTOINC);
    this.wcr(EIR, 0);
    this.wcr(EIE, EIE_INTIE | EIE_PKTIE | EIE_LINKIE | EIE_TXERIE | EIE_RXERIE);
    this.bfs(ECON1, ECON1_RXEN);
    this.setBank(ERDPTL);
    this.txPending = false;
    return 0;
  }

  /** PHSTAT2.LSTAT now (an MII read). */
  linkUp(): boolean {
    const v = this.phyRead(PHSTAT2);
    this.carrier = v >= 0 && (v & PHSTAT2_LSTAT) !== 0;
    return this.carrier;
  }

  /* ------------------------------------------------------------------ transmit */

  startXmit(dev: NetDevice, skb: number): number {
    const st = this.st;
    const p = st.pool;
    const spi = this.spi;
    const b0 = spi.bytes;
    const off = p.data[skb];
    const len = p.tail[skb] - off;
    if (len <= 0 || len > TX_MAX_FRAME || len + ETH_FCS_LEN > MAX_FRAME) {
      this.txTooBig++;
      dev.stats.v[DEV_TX_DROPPED]++;
      devTxComplete(st, dev, skb);
      return NETDEV_TX_OK;
    }
    if (this.txPending) {
      // the chip has one TX buffer: wait (bounded) for the previous TXRTS to clear
      let done = false;
      for (let i = 0; i < TXRTS_POLLS; i++) {
        if ((this.rcr(ECON1) & ECON1_TXRTS) === 0) {
          done = true;
          break;
        }
      }
      if (!done) {
        this.txBusyCount++;
        if (this.txBusyCount < TX_STALL_LIMIT) {
          this.txBusy++;
          this.lastTxSpiBytes = spi.bytes - b0;
          return NETDEV_TX_BUSY;
        }
        // errata 12: TXRTS stuck; the TXRST pulse below abandons that frame
        this.txStallResets++;
        this.txErrors++;
        dev.stats.v[DEV_TX_ERRORS]++;
      }
      this.txPending = false;
      this.txBusyCount = 0;
    }
    // errata 12 workaround: reset the transmit logic before every transmission
    this.bfs(ECON1, ECON1_TXRST);
    this.bfc(ECON1, ECON1_TXRST);
    const eir = this.rcr(EIR);
    if ((eir & EIR_TXERIF) !== 0) {
      this.txErrors++;
      dev.stats.v[DEV_TX_ERRORS]++;
    }
    this.bfc(EIR, EIR_TXERIF | EIR_TXIF);
    // EWRPT = ETXST; WBM per-packet control byte (0: use MACON3) + frame (§7.1)
    this.wcr16(EWRPTL, EWRPTH, TX_START);
    const c = this.cmd;
    c[0] = OP_WBM;
    c[1] = 0;
    spi.select();
    spi.transfer(c, 0, null, 0, 2);
    spi.transfer(p.buf[skb], off, null, 0, len);
    spi.deselect();
    this.wcr16(ETXNDL, ETXNDH, TX_START + len);
    this.bfs(ECON1, ECON1_TXRTS);
    this.txPending = true;
    this.txFrames++;
    this.txBytes += len;
    this.lastTxSpiBytes = spi.bytes - b0;
    devTxComplete(st, dev, skb);
    return NETDEV_TX_OK;
  }

  /* ------------------------------------------------------------------ receive (NAPI) */

  poll(dev: NetDevice, budget: number): number {
    const spi = this.spi;
    const b0 = spi.bytes;
    const irq = this.irq;
    if (irq !== null && !irq.asserted()) {
      // INT idle: skip the SPI traffic, but check EPKTCNT now and then (errata 6)
      this.idlePolls++;
      if (this.idlePolls < IDLE_CHECK_EVERY) {
        this.lastRxSpiBytes = 0;
        return 0;
      }
    }
    this.idlePolls = 0;
    const eir = this.rcr(EIR);
    if ((eir & EIR_RXERIF) !== 0) {
      this.rxOverruns++;
      dev.stats.v[DEV_RX_OVER_ERRORS]++;
      this.bfc(EIR, EIR_RXERIF);
    }
    if ((eir & EIR_TXERIF) !== 0 && this.txPending) {
      this.txErrors++;
      dev.stats.v[DEV_TX_ERRORS]++;
      this.bfc(EIR, EIR_TXERIF);
    }
    if ((eir & EIR_LINKIF) !== 0) {
      this.phyRead(PHIR); // clears PHIR and EIR.LINKIF
      const was = this.carrier;
      this.linkUp();
      if (was !== this.carrier) this.linkChanges++;
    }
    let cnt = this.rcr(EPKTCNT);
    let n = 0;
    while (cnt > 0 && n < budget) {
      if (!this.rxOne(dev)) break;
      cnt--;
      n++;
    }
    this.setBank(ERDPTL);
    this.lastRxSpiBytes = spi.bytes - b0;
    return n;
  }

  /** Take one packet out of the ring. false when the ring was found corrupt (receive logic reset). */
  private rxOne(dev: NetDevice): boolean {
    const st = this.st;
    const p = st.pool;
    const h = this.hdr;
    this.wcr16(ERDPTL, ERDPTH, this.nextPkt);
    this.rbm(h, 0, RX_HDR_LEN);
    const next = h[0] | (h[1] << 8);
    const count = h[2] | (h[3] << 8);
    if ((next & 1) !== 0 || next > RX_END) {
      this.rxReset(dev);
      return false;
    }
    const flen = count - ETH_FCS_LEN;
    if ((h[4] & RSV2_RX_OK) === 0 || flen < ETH_HLEN || flen > dev.mtu + ETH_HLEN + 4) {
      this.rxBadStatus++;
      dev.stats.v[DEV_RX_ERRORS]++;
    } else {
      const skb = p.alloc(flen);
      if (skb === SKB_NONE) {
        this.rxNoSkb++;
        dev.stats.v[DEV_RX_DROPPED]++;
        st.mib.link[LINK_RXNOSKB]++;
      } else {
        const o = p.put(skb, flen);
        // ERDPT sits right after the status vector; RBM wraps ERXND → ERXST itself
        this.rbm(p.buf[skb], o, flen);
        p.dev[skb] = dev.index;
        this.rxFrames++;
        this.rxBytes += flen;
        netifRx(st, skb);
      }
    }
    this.nextPkt = next;
    this.freeTo(next);
    this.bfs(ECON2, ECON2_PKTDEC);
    return true;
  }

  /** ERXRDPT = next - 1, always odd (errata 14); ERXND when next = ERXST. */
  private freeTo(next: number): void {
    const rd = next === RX_START ? RX_END : next - 1;
    this.wcr16(ERXRDPTL, ERXRDPTH, rd);
  }

  /** The ring pointer is garbage: reset the receive logic and start the ring over (frames lost). */
  private rxReset(dev: NetDevice): void {
    this.rxResyncs++;
    dev.stats.v[DEV_RX_ERRORS]++;
    this.bfc(ECON1, ECON1_RXEN);
    this.bfs(ECON1, ECON1_RXRST);
    this.bfc(ECON1, ECON1_RXRST);
    this.wcr16(ERXSTL, ERXSTH, RX_START);
    this.wcr16(ERXNDL, ERXNDH, RX_END);
    this.wcr16(ERXRDPTL, ERXRDPTH, RX_END);
    this.nextPkt = RX_START;
    for (let i = 0; i < 256 && this.rcr(EPKTCNT) > 0; i++) this.bfs(ECON2, ECON2_PKTDEC);
    this.bfc(EIR, EIR_RXERIF);
    this.bfs(ECON1, ECON1_RXEN);
  }
}

/**
 * Create an Enc28j60Driver on `spi`, initialise the chip and register a
 * stack device on it (registered DOWN: ifconfig, then devOpen). Returns the
 * device index or -errno (init failure, no device slot).
 */
export function attachEnc28j60(st: Stack, spi: SpiBus, irq: IrqLine | null, mac: Uint8Array, name: string, opts?: Enc28j60Options): number {
  const drv = new Enc28j60Driver(st, spi, irq, mac, opts);
  const rc = drv.init();
  if (rc < 0) return rc;
  const dev = registerNetdev(st, name, mac, st.cfg.mtu, drv);
  if (dev < 0) return dev;
  drv.devIndex = dev;
  return dev;
}

/** The Enc28j60Driver behind a device index, or null. */
export function enc28j60Of(st: Stack, dev: number): Enc28j60Driver | null {
  const d = getDev(st, dev);
  if (d === null) return null;
  return d.driver instanceof Enc28j60Driver ? d.driver : null;
}
