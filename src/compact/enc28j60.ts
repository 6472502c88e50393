/*
 * enc28j60.ts — the compact stack's ENC28J60 driver (the small boards:
 * Espruino Pico + ENC28J60), the chip below src/compact/net.ts. The full
 * stack's driver is drivers/enc28j60/driver.ts; this one does the same
 * chip work in a few large functions (issue 8: ~8 JsVars per function on
 * Espruino) with flat state and nothing allocated per frame.
 *
 * Place in the packet path:
 *   RX: encPoll → EIR (RXERIF overrun, TXERIF, LINKIF) → EPKTCNT (errata 6:
 *       PKTIF/INT is not reliable, so EPKTCNT is the truth and an idle INT
 *       line is re-checked every IDLE_CHECK_EVERY polls) → per frame:
 *       ERDPT = next packet pointer, RBM the 6-byte header (next pointer +
 *       receive status vector, DS39662 §7.2.2 Table 7-3), check it, RBM the
 *       frame (minus FCS) into n.rx in one SPI transfer (RBM wraps ERXND →
 *       ERXST itself, §7.2.3), ERXRDPT = next - 1 (odd, errata 14; ERXND
 *       when next = ERXST), ECON2.PKTDEC (§7.2.4), then netInput(n, len)
 *       (replies go out through xmit at once) → netTick(n).
 *   TX: net.ts xmit → n.out.xmit(tx, len): wait (bounded) for the previous
 *       ECON1.TXRTS → TXRST pulse before every transmission (errata 12; it
 *       also ends a stalled or aborted one) → EWRPT = ETXST → WBM control
 *       byte 0 + the frame in one SPI transfer (§7.1) → ETXND → ECON1.TXRTS.
 *       The frame lives in chip SRAM from then on (the FrameOut contract).
 *
 * Init (§6): SRC soft reset, (errata 2: >= 1 ms delay hook) ESTAT.CLKRDY
 * polled (bounded), EREVID sanity, RX ring 0000h..19FFh (ERXST = 0,
 * errata 5), TX area 1A00h..1FFFh, ERXRDPT odd (errata 14), ERXFCON
 * unicast + broadcast + CRC check, MACON1/3/4, MAMXFL, MABBIPG, MAIPG,
 * MAADR, PHCON1 duplex matching MACON3.FULDPX, PHCON2.HDLDIS, PHIE, EIE,
 * ECON1.RXEN.
 *
 * Never throws on chip data: a next packet pointer that is odd, outside
 * the ring or disagrees with the byte count (§7.2.2: the next frame starts
 * at the even address after header + frame + FCS) resets the receive
 * logic (frames in the ring are lost, counted); EIR.RXERIF with no packet
 * pending (the ring reads full but holds nothing) does the same. Every
 * loop is bounded. Errata numbers: Rev. B7 silicon errata DS80349C.
 */
import type { SpiBus, IrqLine } from '../../drivers/spi';
import { ETIMEDOUT, ENODEV, EIO } from '../core/errno';
import { ETH_HLEN } from '../link/ether';
import { Net, FrameOut, FRAME_MAX, U8, netInput, netTick } from './net';
import {
  OP_RCR, OP_RBM, OP_WCR, OP_WBM, OP_BFS, OP_BFC, OP_SRC, ADDR_MASK, BANK_SHIFT, MACMII, COMMON_FIRST,
  EIE, EIR, ESTAT, ECON2, ECON1,
  ERDPTL, ERDPTH, EWRPTL, EWRPTH, ETXSTL, ETXSTH, ETXNDL, ETXNDH, ERXSTL, ERXSTH, ERXNDL, ERXNDH,
  ERXRDPTL, ERXRDPTH, ERXFCON, EPKTCNT,
  MACON1, MACON3, MACON4, MABBIPG, MAIPGL, MAIPGH, MAMXFLL, MAMXFLH, MICMD, MIREGADR, MIWRL, MIWRH,
  MIRDL, MIRDH, MISTAT, EREVID, MAADR1,
  EIE_INTIE, EIE_PKTIE, EIE_LINKIE, EIE_TXERIE, EIE_RXERIE,
  EIR_LINKIF, EIR_TXIF, EIR_TXERIF, EIR_RXERIF, ESTAT_CLKRDY, ESTAT_TXABRT, ESTAT_LATECOL,
  ECON2_AUTOINC, ECON2_PKTDEC, ECON1_TXRST, ECON1_RXRST, ECON1_TXRTS, ECON1_RXEN, ECON1_BSEL,
  ERXFCON_UCEN, ERXFCON_CRCEN, ERXFCON_BCEN,
  MACON1_MARXEN, MACON1_TXPAUS, MACON1_RXPAUS, MACON3_PADCFG0, MACON3_TXCRCEN, MACON3_FRMLNEN,
  MACON3_FULDPX, MACON4_DEFER, MICMD_MIIRD, MISTAT_BUSY,
  PHCON1, PHCON2, PHSTAT2, PHIE, PHIR, PHCON1_PDPXMD, PHCON2_HDLDIS, PHSTAT2_LSTAT, PHIE_PLNKIE, PHIE_PGEIE,
  RX_HDR_LEN, RSV2_RX_OK, ETH_FCS_LEN, RX_START, RX_END, TX_START, MAX_FRAME,
  MABBIPG_FD, MABBIPG_HD, MAIPGL_VALUE, MAIPGH_VALUE,
} from '../../drivers/enc28j60/regs';

/** ESTAT reads before init gives up on CLKRDY */
export const ENC_CLKRDY_POLLS = 1000;
/** MISTAT reads before an MII operation is declared stuck */
export const ENC_MII_POLLS = 100;
/** ECON1 reads waiting for the previous frame's TXRTS before the TX logic is taken as stalled (errata 12) */
export const ENC_TXRTS_POLLS = 64;
/** idle polls (INT not asserted) between unconditional EPKTCNT checks (errata 6) */
export const ENC_IDLE_CHECK_EVERY = 16;
/** bytes in the receive ring */
const RX_RING = RX_END - RX_START + 1;

/* Counters (Enc.cnt). */
/** frames whose status vector said not OK, or whose length was impossible */
export const E_RX_BAD = 0;
/** EIR.RXERIF: the chip dropped frames (ring full or EPKTCNT = 255) */
export const E_RX_OVER = 1;
/** receive logic reset: next packet pointer corrupt, or overrun with nothing pending */
export const E_RX_RESET = 2;
/** EIR.TXERIF: a transmission aborted (late collision, too many retries, giant) */
export const E_TX_ERR = 3;
/** TXRTS never cleared: the frame in the chip abandoned by the TXRST pulse (errata 12) */
export const E_TX_STALL = 4;
/** frames longer than FRAME_MAX not sent */
export const E_TX_DROP = 5;
export const E_COUNT = 6;
export const ENC_CNT_NAMES = ['rxBad', 'rxOver', 'rxReset', 'txErr', 'txStall', 'txDrop'];

/**
 * One chip: the SPI bus, its state and counters. It is the stack's
 * FrameOut (n.out) once attached.
 */
export class Enc implements FrameOut {
  spi: SpiBus;
  irq: IrqLine | null;
  /** host delay after SRC (errata 2); null on the PC */
  delayMs: ((ms: number) => void) | null;
  /** ECON1.BSEL as last written (-1 unknown) */
  bank = -1;
  /** where the next unread frame starts in the RX ring */
  next = RX_START;
  /** a frame was handed to the chip and may still be going out */
  txPend = false;
  /** polls skipped with INT idle since the last EPKTCNT check */
  idle = 0;
  /** last known PHSTAT2.LSTAT */
  link = false;
  /** SPI command/answer scratch and the receive header */
  cmd = new U8(3);
  res = new U8(3);
  hdr = new U8(RX_HDR_LEN);
  cnt = new Uint32Array(E_COUNT);

  constructor(spi: SpiBus, irq: IrqLine | null, delayMs: ((ms: number) => void) | null) {
    this.spi = spi;
    this.irq = irq;
    this.delayMs = delayMs;
  }

  /**
   * FrameOut: send len bytes of b (copied into the chip before this
   * returns). The chip has one TX buffer: wait (bounded) for the previous
   * frame; if TXRTS never clears the TX logic is stalled (errata 12) and
   * the TXRST pulse abandons that frame.
   */
  xmit(b: Uint8Array, len: number): void {
    let k = this.cnt;
    if (len > FRAME_MAX || len <= 0) {
      k[E_TX_DROP]++;
      return;
    }
    if (this.txPend) {
      for (let i = 0; (encRw(this, OP_RCR, ECON1, 0) & ECON1_TXRTS) != 0; i++) {
        if (i >= ENC_TXRTS_POLLS) {
          k[E_TX_STALL]++;
          break;
        }
      }
    }
    // errata 12: reset the transmit logic before every transmission
    encRw(this, OP_BFS, ECON1, ECON1_TXRST);
    encRw(this, OP_BFC, ECON1, ECON1_TXRST);
    if ((encRw(this, OP_RCR, EIR, 0) & EIR_TXERIF) != 0) {
      k[E_TX_ERR]++;
      encRw(this, OP_BFC, ESTAT, ESTAT_TXABRT | ESTAT_LATECOL);
    }
    encRw(this, OP_BFC, EIR, EIR_TXERIF | EIR_TXIF);
    // EWRPT = ETXST; WBM per-packet control byte (0: MACON3 decides) + frame (§7.1)
    encW16(this, EWRPTL, EWRPTH, TX_START);
    let c = this.cmd;
    let s = this.spi;
    c[0] = OP_WBM;
    c[1] = 0;
    s.select();
    s.transfer(c, 0, null, 0, 2);
    s.transfer(b, 0, null, 0, len);
    s.deselect();
    encW16(this, ETXNDL, ETXNDH, TX_START + len);
    encRw(this, OP_BFS, ECON1, ECON1_TXRTS);
    this.txPend = true;
  }
}

/**
 * One control register operation (§4.2, Table 4-1): op is OP_RCR, OP_WCR,
 * OP_BFS or OP_BFC (the last two on ETH registers only), reg a regs.ts
 * constant (bank in bits 6..5, selected here when it changes; MAC/MII
 * registers shift out a dummy byte on RCR, Figure 4-4). Returns the byte
 * read (RCR) or 0.
 */
function encRw(e: Enc, op: number, reg: number, v: number): number {
  let s = e.spi;
  let c = e.cmd;
  let a = reg & ADDR_MASK;
  if (a < COMMON_FIRST) {
    let b = (reg >>> BANK_SHIFT) & ECON1_BSEL;
    if (b != e.bank) {
      // ECON1.BSEL1:0 (Register 3-1): clear, then set, leaving the other bits alone (ECON1 is in every bank)
      e.bank = b;
      encRw(e, OP_BFC, ECON1, ECON1_BSEL);
      if (b != 0) encRw(e, OP_BFS, ECON1, b);
    }
  }
  c[0] = op | a;
  c[1] = v;
  c[2] = 0;
  let rd = op == OP_RCR;
  let n = rd && (reg & MACMII) != 0 ? 3 : 2;
  s.select();
  s.transfer(c, 0, rd ? e.res : null, 0, n);
  s.deselect();
  return rd ? e.res[n - 1] : 0;
}

/** A one-byte command (SRC, RBM), then (dst not null) len bytes read into dst, in one chip select. */
function encCmd(e: Enc, op: number, dst: Uint8Array | null, len: number): void {
  let s = e.spi;
  e.cmd[0] = op;
  s.select();
  s.transfer(e.cmd, 0, null, 0, 1);
  if (dst !== null) s.transfer(null, 0, dst, 0, len);
  s.deselect();
}

/** A 16-bit pointer register pair, low byte first (ERXRDPT latches on the high byte, §6.1). */
function encW16(e: Enc, regL: number, regH: number, v: number): void {
  encRw(e, OP_WCR, regL, v & 0xff);
  encRw(e, OP_WCR, regH, v >>> 8);
}

/**
 * A PHY register through the MII (§3.3): v < 0 reads it (returns the 16-bit
 * value), else writes v (returns 0). -1 when MISTAT.BUSY never clears.
 */
function encPhy(e: Enc, reg: number, v: number): number {
  encRw(e, OP_WCR, MIREGADR, reg);
  if (v < 0) {
    encRw(e, OP_WCR, MICMD, MICMD_MIIRD);
  } else {
    encRw(e, OP_WCR, MIWRL, v & 0xff);
    encRw(e, OP_WCR, MIWRH, v >>> 8); // starts the write (§3.3.2)
  }
  for (let i = 0; (encRw(e, OP_RCR, MISTAT, 0) & MISTAT_BUSY) != 0; i++) if (i >= ENC_MII_POLLS) return -1;
  if (v >= 0) return 0;
  encRw(e, OP_WCR, MICMD, 0);
  return encRw(e, OP_RCR, MIRDL, 0) | (encRw(e, OP_RCR, MIRDH, 0) << 8);
}

/** Program the RX ring (§6.1; ERXST = 0, errata 5; ERXRDPT odd, errata 14) and start reading it at its start. */
function encRxRing(e: Enc): void {
  encW16(e, ERXSTL, ERXSTH, RX_START);
  encW16(e, ERXNDL, ERXNDH, RX_END);
  encW16(e, ERXRDPTL, ERXRDPTH, RX_END);
  e.next = RX_START;
}

/**
 * The receive ring cannot be trusted: reset the receive logic and start
 * the ring over (the frames in it are lost). PKTDEC until EPKTCNT = 0
 * (bounded: it is 8 bits).
 */
function encRxReset(e: Enc): void {
  e.cnt[E_RX_RESET]++;
  encRw(e, OP_BFC, ECON1, ECON1_RXEN);
  encRw(e, OP_BFS, ECON1, ECON1_RXRST);
  encRw(e, OP_BFC, ECON1, ECON1_RXRST);
  encRxRing(e);
  for (let i = 0; i < 256 && encRw(e, OP_RCR, EPKTCNT, 0) > 0; i++) encRw(e, OP_BFS, ECON2, ECON2_PKTDEC);
  encRw(e, OP_BFC, EIR, EIR_RXERIF);
  encRw(e, OP_BFS, ECON1, ECON1_RXEN);
}

/** PHSTAT2.LSTAT now (an MII read); also kept in e.link. */
export function encLinkUp(e: Enc): boolean {
  let v = encPhy(e, PHSTAT2, -1);
  e.link = v >= 0 && (v & PHSTAT2_LSTAT) != 0;
  return e.link;
}

/**
 * Reset and configure the chip for the MAC mac (§6). fullDuplex must match
 * the link partner: the ENC28J60 does not auto-negotiate, so a partner
 * that does (most switches) runs half duplex (DS39662 §6.6). Returns 0,
 * -ETIMEDOUT (no CLKRDY), -ENODEV (the bus reads 00/FF) or -EIO (MII stuck).
 */
export function encInit(e: Enc, mac: Uint8Array, fullDuplex: boolean): number {
  encCmd(e, OP_SRC, null, 0);
  e.bank = 0; // ECON1 resets to 0
  if (e.delayMs !== null) e.delayMs(2); // errata 2: CLKRDY may not clear on SRC
  for (let i = 0; (encRw(e, OP_RCR, ESTAT, 0) & ESTAT_CLKRDY) == 0; i++) if (i >= ENC_CLKRDY_POLLS) return -ETIMEDOUT;
  let rev = encRw(e, OP_RCR, EREVID, 0);
  if (rev == 0 || rev == 0xff) return -ENODEV;
  encRxRing(e);
  let fd = fullDuplex;
  // (register, value) pairs, written in this order
  let w = [
    ETXSTL, TX_START & 0xff, ETXSTH, TX_START >>> 8, ERDPTL, RX_START & 0xff, ERDPTH, RX_START >>> 8,
    // §6.3 receive filters: our unicast, broadcast, drop bad CRC
    ERXFCON, ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN,
    // §6.5 MAC (MAIPGH: half duplex only; 0, its reset value, in full duplex)
    MACON1, MACON1_MARXEN | (fd ? MACON1_TXPAUS | MACON1_RXPAUS : 0),
    MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN | MACON3_FRMLNEN | (fd ? MACON3_FULDPX : 0),
    MACON4, fd ? 0 : MACON4_DEFER,
    MAMXFLL, MAX_FRAME & 0xff, MAMXFLH, MAX_FRAME >>> 8,
    MABBIPG, fd ? MABBIPG_FD : MABBIPG_HD,
    MAIPGL, MAIPGL_VALUE, MAIPGH, fd ? 0 : MAIPGH_VALUE,
  ];
  for (let i = 0; i < w.length; i += 2) encRw(e, OP_WCR, w[i], w[i + 1]);
  // MAADR1 is the first byte on the wire (Table 3-1, §6.5 step 9): MAADR1..6 are E4, E5, E2, E3, E0, E1
  for (let i = 0; i < 6; i++) encRw(e, OP_WCR, MAADR1 - (i & 6) + (i & 1), mac[i]);
  // §6.6 PHY: duplex as MACON3.FULDPX; HDLDIS stops half-duplex loopback; link change interrupts
  if (encPhy(e, PHCON1, fd ? PHCON1_PDPXMD : 0) < 0 || encPhy(e, PHCON2, PHCON2_HDLDIS) < 0 || encPhy(e, PHIE, PHIE_PGEIE | PHIE_PLNKIE) < 0) return -EIO;
  encLinkUp(e);
  encRw(e, OP_BFS, ECON2, ECON2_AUTOINC);
  encRw(e, OP_WCR, EIR, 0);
  encRw(e, OP_WCR, EIE, EIE_INTIE | EIE_PKTIE | EIE_LINKIE | EIE_TXERIE | EIE_RXERIE);
  encRw(e, OP_BFS, ECON1, ECON1_RXEN);
  e.txPend = false;
  e.idle = 0;
  return 0;
}

/**
 * Receive up to `budget` frames into n.rx and hand each to netInput (see
 * the top of the file), then run the stack's timers (netTick). Returns the
 * frames taken out of the chip (bad ones included). With an IRQ line whose
 * INT is idle, the chip is only read every ENC_IDLE_CHECK_EVERY calls.
 */
export function encPoll(e: Enc, n: Net, budget: number): number {
  let done = 0;
  let irq = e.irq;
  if (irq === null || irq.asserted() || ++e.idle >= ENC_IDLE_CHECK_EVERY) {
    e.idle = 0;
    let k = e.cnt;
    let eir = encRw(e, OP_RCR, EIR, 0);
    if ((eir & EIR_TXERIF) != 0) {
      k[E_TX_ERR]++;
      encRw(e, OP_BFC, ESTAT, ESTAT_TXABRT | ESTAT_LATECOL);
      encRw(e, OP_BFC, EIR, EIR_TXERIF);
    }
    if ((eir & EIR_LINKIF) != 0) {
      encPhy(e, PHIR, -1); // reading PHIR clears it and EIR.LINKIF
      encLinkUp(e);
    }
    let left = encRw(e, OP_RCR, EPKTCNT, 0);
    if ((eir & EIR_RXERIF) != 0) {
      k[E_RX_OVER]++;
      encRw(e, OP_BFC, EIR, EIR_RXERIF);
      // full yet nothing pending: the ring pointers are inconsistent (harmless if a poll just emptied it)
      if (left == 0) encRxReset(e);
    }
    let h = e.hdr;
    for (; left > 0 && done < budget; left--) {
      encW16(e, ERDPTL, ERDPTH, e.next);
      // RBM: the header, then (ok) the frame, read on from ERDPT
      encCmd(e, OP_RBM, h, RX_HDR_LEN);
      let nx = h[0] | (h[1] << 8);
      let count = h[2] | (h[3] << 8);
      let d = nx - e.next;
      if (d <= 0) d += RX_RING;
      // §7.2.2: the next frame starts at the even address after header, frame and FCS
      if ((nx & 1) != 0 || nx < RX_START || nx > RX_END || d != ((RX_HDR_LEN + count + 1) & ~1)) {
        encRxReset(e);
        break;
      }
      let len = count - ETH_FCS_LEN;
      let ok = (h[4] & RSV2_RX_OK) != 0 && len >= ETH_HLEN && len <= FRAME_MAX;
      if (ok) {
        // ERDPT sits right after the header; RBM wraps ERXND → ERXST itself
        encCmd(e, OP_RBM, n.rx, len);
      }
      // free the frame's space before the stack runs (its replies go out meanwhile)
      e.next = nx;
      encW16(e, ERXRDPTL, ERXRDPTH, nx == RX_START ? RX_END : nx - 1);
      encRw(e, OP_BFS, ECON2, ECON2_PKTDEC);
      done++;
      if (ok) netInput(n, len);
      else k[E_RX_BAD]++;
    }
  }
  netTick(n);
  return done;
}

/**
 * Make a driver for the chip on spi (INT on irq, or null to read the chip
 * on every poll), initialise it with n.mac and make it n's FrameOut.
 * Returns it, or null when the chip does not come up (encInit's reasons;
 * n.out is left alone).
 */
export function encAttach(n: Net, spi: SpiBus, irq: IrqLine | null, fullDuplex?: boolean, delayMs?: (ms: number) => void): Enc | null {
  let e = new Enc(spi, irq, delayMs !== undefined ? delayMs : null);
  if (encInit(e, n.mac, fullDuplex === true) < 0) return null;
  n.out = e;
  return e;
}
