/*
 * mock.ts — a register-level behavioural model of the Microchip ENC28J60
 * (data sheet DS39662E, Rev. B7 errata DS80349C) that sits on the SpiBus
 * contract (drivers/spi.ts), so the real driver (driver.ts) runs on the PC:
 *
 *   stack → Enc28j60Driver → SpiBus → Enc28j60Mock → wire → Enc28j60Mock → driver → stack
 *
 * Place in the packet path: the "hardware" below the driver. What is
 * modelled:
 *   - SPI framing (§4.2, Table 4-1): 3-bit opcode + 5-bit argument in the
 *     first byte after CS falls; RCR (with the dummy byte of MAC/MII
 *     registers, Figure 4-4), RBM, WCR, WBM, BFS, BFC (ETH registers
 *     only), SRC. Every clocked byte is counted (`bytes`).
 *   - Banked control registers (ECON1.BSEL1:0), the common registers
 *     EIE/EIR/ESTAT/ECON2/ECON1 at 0x1B..0x1F in every bank (Table 3-1).
 *   - 8 KB buffer memory; ERDPT/EWRPT auto-increment (ECON2.AUTOINC);
 *     RBM wraps ERXND → ERXST inside the receive ring (§7.2.3).
 *   - Receive (§7.2): frames from the wire pass RXEN/MARXEN, the ERXFCON
 *     filters (UCEN with MAADR, MCEN, BCEN, CRCEN, AND/OR; PMEN/HTEN/MPEN
 *     never match), MAMXFL; they are written at the internal write pointer
 *     (ERXWRPT) as next-packet-pointer(2) + status vector(4) + frame + FCS
 *     (4), padded to an even length; EPKTCNT++, EIR.PKTIF, INT. A frame that
 *     would reach ERXRDPT (or EPKTCNT = 255) is dropped: EIR.RXERIF and
 *     `rxOverruns`. ECON2.PKTDEC decrements EPKTCNT (§7.2.4).
 *   - Transmit (§7.1): control byte at ETXST, frame ETXST+1..ETXND,
 *     ECON1.TXRTS sends it to the wire (padded to 60 bytes when the control
 *     byte or MACON3.PADCFG asks), the 7-byte status vector is written at
 *     ETXND+1, EIR.TXIF set, TXRTS cleared.
 *   - PHY through MIREGADR/MICMD/MIRD/MIWR with MISTAT.BUSY (§3.3):
 *     PHCON1 (PRST, PDPXMD), PHSTAT1 (LLSTAT latching low), PHSTAT2.LSTAT,
 *     PHCON2, PHIE/PHIR (read clears) → EIR.LINKIF.
 *   - Soft reset (SRC, §11.2): registers to their reset values, ESTAT.CLKRDY
 *     clear until the oscillator start-up time passes (modelled as a number
 *     of ESTAT reads, `clkReadyAfterReads`; < 0 = never ready).
 *   - Errata (DS80349C):
 *       item 5:  writing ERXST/ERXND may load 0000h into the internal write
 *                pointer instead of ERXST → modelled deterministically when
 *                ERXST != 0 (`erxstErrataHits`); use ERXST = 0.
 *       item 6:  PKTIF does not reliably report pending packets →
 *                `pktifUnreliable` hook (PKTIF/INT never raised by a frame);
 *                the driver trusts EPKTCNT.
 *       item 12: a transmit abort may stall the TX logic, TXRTS never clears
 *                until ECON1.TXRST is pulsed → `stallTx()` test hook;
 *                `txWithoutReset` counts transmissions not preceded by a
 *                TXRST pulse (the driver resets before every transmit).
 *       item 14: an even ERXRDPT may corrupt the receive ring →
 *                `evenRdptWrites` counts them; while ERXRDPT is even the
 *                model writes a corrupted (odd) next packet pointer and,
 *                when the write pointer meets it, treats the full ring as
 *                empty (`rdptErrataHits`).
 *
 * Wire side: attachWire(peer) — transmitted frames go to
 * peer.receiveFromWire(buf, off, len) (another mock back to back, or the
 * Enc28j60SimPort adapter onto a SimSwitch port). Frames on the wire carry
 * no FCS (as in src/sim/); short ones are seen as padded to 60.
 *
 * No allocation after construction.
 */
import type { SpiBus, IrqLine } from '../spi';
import { burstCopy } from '../spi';
import type { Fabric, SimPort } from '../../src/sim/switch';
import { ChipSimPort } from '../sim/chipport';
import type { Clock } from '../../src/core/clock';
import {
  OP_SRC, ARG_BM, ADDR_MASK, COMMON_FIRST,
  EIE, EIR, ESTAT, ECON2, ECON1,
  ERDPTL, EWRPTL, ETXSTL, ETXNDL, ERXSTL, ERXSTH, ERXNDL, ERXNDH, ERXRDPTL, ERXRDPTH, ERXWRPTL, ERXWRPTH,
  ERXFCON, EPKTCNT,
  MACON1, MACON3, MAMXFLL, MAMXFLH, MICMD, MIREGADR, MIWRL, MIWRH, MIRDL, MIRDH,
  MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6, MISTAT, EREVID, EREVID_B7,
  EIE_INTIE, EIR_PKTIF, EIR_LINKIF, EIR_TXIF, EIR_TXERIF, EIR_RXERIF,
  ESTAT_INT, ESTAT_CLKRDY, ESTAT_TXABRT, ESTAT_BUFER, ESTAT_LATECOL,
  ECON2_AUTOINC, ECON2_PKTDEC,
  ECON1_TXRST, ECON1_RXRST, ECON1_TXRTS, ECON1_RXEN, ECON1_BSEL,
  ERXFCON_UCEN, ERXFCON_ANDOR, ERXFCON_CRCEN, ERXFCON_MCEN, ERXFCON_BCEN,
  MACON1_MARXEN, MACON3_PADCFG0, MACON3_PADCFG_MASK, MACON3_TXCRCEN, MACON3_HFRMEN,
  MICMD_MIIRD, MISTAT_BUSY,
  PHCON1, PHSTAT1, PHID1, PHID2, PHCON2, PHSTAT2, PHIE, PHIR, PHLCON, PHID1_VALUE, PHID2_VALUE,
  PHCON1_PRST, PHCON1_PDPXMD, PHSTAT1_LLSTAT, PHSTAT2_LSTAT, PHSTAT2_DPXSTAT,
  PHIE_PLNKIE, PHIE_PGEIE, PHIR_PLNKIF, PHIR_PGIF,
  BUF_SIZE, BUF_END, RX_HDR_LEN, RSV2_RX_OK, RSV2_CRC_ERR, RSV3_MULTICAST, RSV3_BROADCAST,
  ETH_FCS_LEN, TXCTL_PPADEN, TXCTL_PCRCEN, TXCTL_POVERRIDE, TXCTL_PHUGEEN,
  TSV2_DONE, TSV3_MULTICAST, TSV3_BROADCAST, TSV3_GIANT, ETH_MIN_NOFCS,
} from './regs';

/** Whatever is at the other end of the chip's cable. */
export interface WirePeer {
  /** A frame (no FCS) arrives; returns true when it was accepted. */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean;
}

/* SPI transaction states */
const S_OPCODE = 0;
const S_RCR_DUMMY = 1;
const S_RCR_DATA = 2;
const S_RBM = 3;
const S_WCR = 4;
const S_WBM = 5;
const S_BFS = 6;
const S_BFC = 7;
const S_IGNORE = 8;

/** largest frame the model moves (buffer memory bounds it anyway) */
const WIRE_MAX = 1600;

/** register index (bank << 5 | addr) of a regs.ts constant */
function ri(reg: number): number {
  return reg & 0x7f;
}

export class Enc28j60Mock implements SpiBus, IrqLine, WirePeer {
  /** SPI bytes clocked since creation */
  bytes = 0;
  /**
   * Copy buffer-memory bursts with subarray views and set() (allocates a
   * view per burst; for interpreters such as Espruino, where a byte loop
   * costs ~100x a native copy) instead of a byte loop (no allocation).
   */
  nativeCopy = false;
  /** CS assertions (transactions) */
  selects = 0;
  /** control registers, 4 banks × 32; the common ones live in bank 0's slots */
  readonly reg = new Uint8Array(128);
  /** 8 KB buffer memory */
  readonly mem = new Uint8Array(BUF_SIZE);
  /** PHY registers (16 bit) */
  readonly phy = new Int32Array(32);
  /** internal receive write pointer (mirrored to ERXWRPT) */
  wrPtr = 0;
  /** ERXRDPT as latched when ERXRDPTH is written */
  rdPtr = 0;
  /** ESTAT reads until CLKRDY sets after a reset; < 0: never */
  clkReadyAfterReads = 2;
  private clkCountdown = 0;
  /** MISTAT reads that still report BUSY after an MII command */
  miBusyReads = 1;
  private miBusy = 0;
  /** link partner present */
  private link = true;
  private wire: WirePeer | null = null;
  private state = S_OPCODE;
  private arg = 0;
  private readonly txBuf = new Uint8Array(WIRE_MAX);
  private txStalled = false;
  private txResetSeen = true;
  /** test hook: the next n received frames have a bad FCS */
  injectCrcErrors = 0;
  /** errata 6 hook: EIR.PKTIF (and so INT) is not raised for received packets; EPKTCNT still counts */
  pktifUnreliable = false;
  /** model errata 14 corruption (not only count it) */
  errataCorrupt = true;

  /* counters */
  resets = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxOverruns = 0;
  rxFilterDrops = 0;
  rxDisabledDrops = 0;
  rxTooLong = 0;
  /** frames written across ERXND → ERXST */
  rxWrapped = 0;
  rxNoLink = 0;
  txFrames = 0;
  txBytes = 0;
  txAborts = 0;
  txStalls = 0;
  txResetPulses = 0;
  txNoWire = 0;
  /** errata 12 workaround missing: TXRTS set without a TXRST pulse since the last transmit */
  txWithoutReset = 0;
  /** errata 14: even values written to ERXRDPT */
  evenRdptWrites = 0;
  /** errata 14: frames written while ERXRDPT was even (corrupted pointer) or full ring taken as empty */
  rdptErrataHits = 0;
  /** errata 5: ERXST/ERXND written with ERXST != 0 (write pointer loaded with 0000h) */
  erxstErrataHits = 0;
  /** PKTDEC with EPKTCNT already 0 */
  pktdecUnderflows = 0;
  /** RBM/WBM/opcodes that make no sense (bad opcode, WBM while not selected, ...) */
  protocolErrors = 0;

  constructor(readonly name: string) {
    this.powerOn();
  }

  /* ------------------------------------------------------------------ wire */

  attachWire(peer: WirePeer | null): void {
    this.wire = peer;
  }

  /** Plug/unplug the cable: PHSTAT2.LSTAT, PHSTAT1.LLSTAT (latch low), PHIR.PLNKIF → EIR.LINKIF. */
  setLink(up: boolean): void {
    if (this.link === up) return;
    this.link = up;
    const p = this.phy;
    if (up) p[PHSTAT2] = p[PHSTAT2] | PHSTAT2_LSTAT;
    else {
      p[PHSTAT2] = p[PHSTAT2] & ~PHSTAT2_LSTAT & 0xffff;
      p[PHSTAT1] = p[PHSTAT1] & ~PHSTAT1_LLSTAT & 0xffff;
    }
    p[PHIR] = p[PHIR] | PHIR_PLNKIF;
    if ((p[PHIE] & PHIE_PLNKIE) !== 0 && (p[PHIE] & PHIE_PGEIE) !== 0) {
      p[PHIR] = p[PHIR] | PHIR_PGIF;
      this.reg[EIR] = this.reg[EIR] | EIR_LINKIF;
    }
  }

  /** Errata 12 hook: the next TXRTS will never complete until TXRST is pulsed. */
  stallTx(): void {
    this.txStalled = true;
  }

  /** SRAM read for tests (no SPI). */
  peek(addr: number): number {
    return this.mem[addr & BUF_END];
  }

  /** A register value for tests (no SPI, no side effects). reg = a regs.ts constant. */
  peekReg(reg: number): number {
    return this.reg[this.idx(reg & ADDR_MASK, (reg >>> 5) & 3)];
  }

  epktcnt(): number {
    return this.reg[ri(EPKTCNT)];
  }

  /* ------------------------------------------------------------------ IrqLine */

  asserted(): boolean {
    const eie = this.reg[EIE];
    return (eie & EIE_INTIE) !== 0 && (eie & this.reg[EIR] & 0x7b) !== 0;
  }

  /* ------------------------------------------------------------------ SpiBus */

  select(): void {
    this.selects++;
    this.state = S_OPCODE;
  }

  deselect(): void {
    this.state = S_OPCODE;
  }

  transfer(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void {
    this.bytes += len;
    let i = 0;
    while (i < len) {
      // RBM/WBM data bytes in bulk (same effect as clocking them one by one,
      // with native copies: an interpreter runs a byte loop ~100x slower)
      if (this.state === S_RBM || this.state === S_WBM) {
        this.bufBulk(tx, txOff + i, rx, rxOff + i, len - i);
        return;
      }
      const b = tx !== null ? tx[txOff + i] : 0;
      const out = this.clock(b & 0xff);
      if (rx !== null) rx[rxOff + i] = out & 0xff;
      i++;
    }
  }

  /**
   * n bytes of an RBM (into rx) or WBM (from tx) transaction: the pointer
   * auto-increments with the §7.2.3 ERXND → ERXST wrap on reads and the
   * 8 KB wrap on writes, exactly as readBufByte/writeBufByte do per byte.
   */
  private bufBulk(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, n: number): void {
    const read = this.state === S_RBM;
    // a WBM data byte reads back 0 on MISO (as clock() answers it)
    if (!read && rx !== null) rx.fill(0, rxOff, rxOff + n);
    const inc = (this.reg[ECON2] & ECON2_AUTOINC) !== 0;
    const ptrReg = read ? ri(ERDPTL) : ri(EWRPTL);
    let p = this.get16(ptrReg) & BUF_END;
    if (!inc) {
      // no auto-increment: every byte hits the same address
      if (read) {
        if (rx !== null) rx.fill(this.mem[p], rxOff, rxOff + n);
      } else if (n > 0) this.mem[p] = tx !== null ? tx[txOff + n - 1] & 0xff : 0;
      return;
    }
    const nd = this.get16(ri(ERXNDL)) & BUF_END;
    let done = 0;
    while (done < n) {
      // run up to the wrap point: ERXND (reads inside the ring) or the end of memory
      const end = read && p <= nd ? nd : BUF_END;
      let k = end - p + 1;
      if (k > n - done) k = n - done;
      if (read) {
        if (rx !== null) burstCopy(this.mem, p, rx, rxOff + done, k, this.nativeCopy);
      } else if (tx !== null) burstCopy(tx, txOff + done, this.mem, p, k, this.nativeCopy);
      else this.mem.fill(0, p, p + k);
      done += k;
      if (p + k - 1 === end) p = read && end === nd ? this.get16(ri(ERXSTL)) & BUF_END : 0;
      else p = p + k;
    }
    this.set16(ptrReg, p);
  }

  /** One SPI byte: MOSI in, MISO out. */
  private clock(b: number): number {
    switch (this.state) {
      case S_OPCODE: {
        if (b === OP_SRC) {
          this.softReset();
          this.state = S_IGNORE;
          return 0;
        }
        const op = b >>> 5;
        const a = b & ADDR_MASK;
        this.arg = a;
        if (op === 0) this.state = this.isMacMii(a) ? S_RCR_DUMMY : S_RCR_DATA;
        else if (op === 1 && a === ARG_BM) this.state = S_RBM;
        else if (op === 2) this.state = S_WCR;
        else if (op === 3 && a === ARG_BM) this.state = S_WBM;
        else if (op === 4) this.state = S_BFS;
        else if (op === 5) this.state = S_BFC;
        else {
          this.protocolErrors++;
          this.state = S_IGNORE;
        }
        return 0;
      }
      case S_RCR_DUMMY:
        this.state = S_RCR_DATA;
        return 0;
      case S_RCR_DATA:
        this.state = S_IGNORE;
        return this.readReg(this.arg);
      case S_RBM:
        return this.readBufByte();
      case S_WCR:
        this.state = S_IGNORE;
        this.writeReg(this.arg, b);
        return 0;
      case S_WBM:
        this.writeBufByte(b);
        return 0;
      case S_BFS:
      case S_BFC: {
        const set = this.state === S_BFS;
        this.state = S_IGNORE;
        if (this.isMacMii(this.arg)) {
          // BFS/BFC only work on ETH registers (§4.2.5)
          this.protocolErrors++;
          return 0;
        }
        this.bitOp(this.arg, b, set);
        return 0;
      }
      default:
        return 0;
    }
  }

  /* ------------------------------------------------------------------ registers */

  private bank(): number {
    return this.reg[ECON1] & ECON1_BSEL;
  }

  private idx(a: number, bank: number): number {
    return a >= COMMON_FIRST ? a : (bank << 5) | a;
  }

  /** MAC/MII registers answer RCR after a dummy byte: bank 2 (all), MAADR1..6 and MISTAT in bank 3. */
  private isMacMii(a: number): boolean {
    if (a >= COMMON_FIRST) return false;
    const bank = this.bank();
    if (bank === 2) return true;
    if (bank === 3) return a <= 0x05 || a === 0x0a;
    return false;
  }

  private get16(i: number): number {
    return this.reg[i] | (this.reg[i + 1] << 8);
  }

  private set16(i: number, v: number): void {
    this.reg[i] = v & 0xff;
    this.reg[i + 1] = (v >>> 8) & 0x1f;
  }

  private readReg(a: number): number {
    const i = this.idx(a, this.bank());
    if (i === ESTAT) {
      if (this.clkCountdown > 0) {
        this.clkCountdown--;
        if (this.clkCountdown === 0) this.reg[ESTAT] = this.reg[ESTAT] | ESTAT_CLKRDY;
      }
      return (this.reg[ESTAT] & ~ESTAT_INT & 0xff) | (this.asserted() ? ESTAT_INT : 0);
    }
    if (i === ri(MISTAT)) {
      if (this.miBusy > 0) {
        this.miBusy--;
        return this.reg[i] | MISTAT_BUSY;
      }
      return this.reg[i] & ~MISTAT_BUSY & 0xff;
    }
    return this.reg[i];
  }

  private writeReg(a: number, v: number): void {
    const i = this.idx(a, this.bank());
    const old = this.reg[i];
    v = v & 0xff;
    switch (i) {
      case ECON1:
        this.writeEcon1(old, v);
        return;
      case ECON2:
        this.reg[ECON2] = v & ~ECON2_PKTDEC & 0xff;
        if ((v & ECON2_PKTDEC) !== 0) this.pktDec();
        return;
      case EIR:
        // flags are cleared by the host; PKTIF is read-only (follows EPKTCNT)
        this.reg[EIR] = (v & ~EIR_PKTIF & 0xff) | (old & EIR_PKTIF);
        return;
      case ESTAT:
        // only BUFER, LATECOL, TXABRT may be cleared; CLKRDY and INT are read-only
        this.reg[ESTAT] = old & (v | ~(ESTAT_BUFER | ESTAT_LATECOL | ESTAT_TXABRT)) & 0xff;
        return;
      case ri(EPKTCNT):
      case ri(ERXWRPTL):
      case ri(ERXWRPTH):
      case ri(EREVID):
        return; // read-only
      default:
        break;
    }
    this.reg[i] = v;
    if (i === ri(ERXSTH) || i === ri(ERXNDH)) {
      // §6.1: programming the receive buffer bounds loads ERXWRPT with ERXST
      // (modelled on the high-byte writes, after both bytes of the pair are in)
      const st = this.get16(ri(ERXSTL)) & BUF_END;
      if (st !== 0) {
        this.erxstErrataHits++; // errata 5: 0000h is loaded instead
        this.setWrPtr(0);
      } else {
        this.setWrPtr(st);
      }
    } else if (i === ri(ERXRDPTH)) {
      // ERXRDPT takes effect when the high byte is written (low byte first, §6.1)
      this.rdPtr = this.get16(ri(ERXRDPTL)) & BUF_END;
      if ((this.rdPtr & 1) === 0) this.evenRdptWrites++;
    } else if (i === ri(MICMD)) {
      if ((v & MICMD_MIIRD) !== 0) {
        const r = this.phyRead(this.reg[ri(MIREGADR)] & 0x1f);
        this.reg[ri(MIRDL)] = r & 0xff;
        this.reg[ri(MIRDH)] = (r >>> 8) & 0xff;
        this.miBusy = this.miBusyReads;
      }
    } else if (i === ri(MIWRH)) {
      // writing MIWRH starts the MII write (§3.3.2)
      this.phyWrite(this.reg[ri(MIREGADR)] & 0x1f, this.reg[ri(MIWRL)] | (v << 8));
      this.miBusy = this.miBusyReads;
    }
  }

  private writeEcon1(old: number, v: number): void {
    this.reg[ECON1] = v;
    if ((old & ECON1_TXRST) !== 0 && (v & ECON1_TXRST) === 0) {
      // end of a TX logic reset pulse (errata 12 workaround)
      this.txResetPulses++;
      this.txStalled = false;
      this.txResetSeen = true;
    }
    if ((v & ECON1_TXRST) !== 0) {
      // TX logic held in reset: a pending TXRTS is dropped
      this.reg[ECON1] = this.reg[ECON1] & ~ECON1_TXRTS & 0xff;
      return;
    }
    if ((v & ECON1_RXRST) !== 0) {
      this.setWrPtr(this.get16(ri(ERXSTL)) & BUF_END);
      this.reg[ri(EPKTCNT)] = 0;
      this.reg[EIR] = this.reg[EIR] & ~EIR_PKTIF & 0xff;
    }
    if ((old & ECON1_TXRTS) === 0 && (v & ECON1_TXRTS) !== 0) this.transmit();
  }

  private pktDec(): void {
    const i = ri(EPKTCNT);
    if (this.reg[i] === 0) {
      this.pktdecUnderflows++;
      return;
    }
    this.reg[i] = this.reg[i] - 1;
    if (this.reg[i] === 0) this.reg[EIR] = this.reg[EIR] & ~EIR_PKTIF & 0xff;
  }

  private setWrPtr(p: number): void {
    this.wrPtr = p;
    this.reg[ri(ERXWRPTL)] = p & 0xff;
    this.reg[ri(ERXWRPTH)] = (p >>> 8) & 0x1f;
  }

  /** Apply a BFS/BFC to an ETH register through the same side effects as WCR. */
  private bitOp(a: number, mask: number, set: boolean): void {
    const i = this.idx(a, this.bank());
    const old = this.reg[i];
    const v = set ? old | mask : old & ~mask & 0xff;
    this.writeReg(a, v);
  }

  /* ------------------------------------------------------------------ buffer memory */

  private readBufByte(): number {
    const p = this.get16(ri(ERDPTL)) & BUF_END;
    const v = this.mem[p];
    if ((this.reg[ECON2] & ECON2_AUTOINC) !== 0) {
      let n: number;
      // §7.2.3: the read pointer wraps from ERXND to ERXST inside the receive buffer
      if (p === (this.get16(ri(ERXNDL)) & BUF_END)) n = this.get16(ri(ERXSTL)) & BUF_END;
      else n = (p + 1) & BUF_END;
      this.set16(ri(ERDPTL), n);
    }
    return v;
  }

  private writeBufByte(b: number): void {
    const p = this.get16(ri(EWRPTL)) & BUF_END;
    this.mem[p] = b & 0xff;
    if ((this.reg[ECON2] & ECON2_AUTOINC) !== 0) this.set16(ri(EWRPTL), (p + 1) & BUF_END);
  }

  /* ------------------------------------------------------------------ reset */

  private powerOn(): void {
    this.link = true;
    this.resetPhy();
    this.softReset();
    this.resets = 0;
  }

  /** SRC / power-on: register reset values (Table 3-2 "Value on Reset"). */
  private softReset(): void {
    this.resets++;
    const r = this.reg;
    for (let i = 0; i < r.length; i++) r[i] = 0;
    r[ECON2] = ECON2_AUTOINC;
    this.set16(ri(ERDPTL), 0x05fa);
    this.set16(ri(ERXSTL), 0x05fa);
    this.set16(ri(ERXNDL), 0x1fff);
    this.set16(ri(ERXRDPTL), 0x05fa);
    r[ri(ERXFCON)] = ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN;
    r[ri(MAMXFLL)] = 0x00;
    r[ri(MAMXFLH)] = 0x06;
    r[ri(EREVID)] = EREVID_B7;
    this.rdPtr = 0x05fa;
    this.setWrPtr(0x05fa);
    this.txStalled = false;
    this.txResetSeen = true;
    this.miBusy = 0;
    this.state = S_IGNORE;
    // the oscillator start-up timer restarts; CLKRDY reads 0 until it expires
    if (this.clkReadyAfterReads === 0) r[ESTAT] = ESTAT_CLKRDY;
    this.clkCountdown = this.clkReadyAfterReads;
  }

  private resetPhy(): void {
    const p = this.phy;
    for (let i = 0; i < p.length; i++) p[i] = 0;
    p[PHSTAT1] = 0x1800 | (this.link ? PHSTAT1_LLSTAT : 0);
    p[PHID1] = PHID1_VALUE;
    p[PHID2] = PHID2_VALUE;
    p[PHSTAT2] = this.link ? PHSTAT2_LSTAT : 0;
    p[PHLCON] = 0x3422;
  }

  /* ------------------------------------------------------------------ PHY */

  private phyRead(r: number): number {
    const p = this.phy;
    const v = p[r] & 0xffff;
    if (r === PHIR) {
      // reading PHIR clears it and EIR.LINKIF (Register 11-5)
      p[PHIR] = 0;
      this.reg[EIR] = this.reg[EIR] & ~EIR_LINKIF & 0xff;
    } else if (r === PHSTAT1 && this.link) {
      p[PHSTAT1] = p[PHSTAT1] | PHSTAT1_LLSTAT; // latching low: re-arms on read
    }
    return v;
  }

  private phyWrite(r: number, v: number): void {
    v = v & 0xffff;
    const p = this.phy;
    if (r === PHCON1) {
      if ((v & PHCON1_PRST) !== 0) {
        this.resetPhy();
        return;
      }
      p[PHCON1] = v;
      p[PHSTAT2] = (p[PHSTAT2] & ~PHSTAT2_DPXSTAT & 0xffff) | ((v & PHCON1_PDPXMD) !== 0 ? PHSTAT2_DPXSTAT : 0);
      return;
    }
    if (r === PHSTAT1 || r === PHSTAT2 || r === PHID1 || r === PHID2 || r === PHIR) return;
    p[r] = v;
  }

  /* ------------------------------------------------------------------ transmit */

  private transmit(): void {
    const r = this.reg;
    if (!this.txResetSeen) this.txWithoutReset++;
    this.txResetSeen = false;
    if (this.txStalled) {
      // errata 12: TXRTS stays set until TXRST is pulsed
      this.txStalls++;
      return;
    }
    const st = this.get16(ri(ETXSTL)) & BUF_END;
    const nd = this.get16(ri(ETXNDL)) & BUF_END;
    const len = nd - st; // frame bytes at ETXST+1 .. ETXND
    const ctl = this.mem[st];
    let pad: boolean;
    let crc: boolean;
    let huge: boolean;
    if ((ctl & TXCTL_POVERRIDE) !== 0) {
      pad = (ctl & TXCTL_PPADEN) !== 0;
      crc = pad || (ctl & TXCTL_PCRCEN) !== 0;
      huge = (ctl & TXCTL_PHUGEEN) !== 0;
    } else {
      const m3 = r[ri(MACON3)];
      pad = (m3 & MACON3_PADCFG0) !== 0; // PADCFG = xx1: pad to 60 (VLAN-aware 101 not modelled)
      crc = (m3 & MACON3_PADCFG_MASK) !== 0 || (m3 & MACON3_TXCRCEN) !== 0;
      huge = (m3 & MACON3_HFRMEN) !== 0;
    }
    let wireLen = len;
    if (pad && wireLen < ETH_MIN_NOFCS) wireLen = ETH_MIN_NOFCS;
    const fcs = crc ? ETH_FCS_LEN : 0;
    const maxfl = this.get16(ri(MAMXFLL));
    let tsv2 = 0;
    let tsv3 = 0;
    let abort = false;
    if (len < 1 || len > WIRE_MAX || (!huge && wireLen + fcs > maxfl)) {
      abort = true;
      tsv3 = TSV3_GIANT;
    }
    if (!abort) {
      const b = this.txBuf;
      for (let k = 0; k < len; k++) b[k] = this.mem[(st + 1 + k) & BUF_END];
      for (let k = len; k < wireLen; k++) b[k] = 0;
      if ((b[0] & 1) !== 0) {
        if ((b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) === 0xff) tsv3 = TSV3_BROADCAST;
        else tsv3 = TSV3_MULTICAST;
      }
      tsv2 = TSV2_DONE;
      this.txFrames++;
      this.txBytes += wireLen;
      const w = this.wire;
      if (w === null || !this.link) this.txNoWire++;
      else w.receiveFromWire(b, 0, wireLen);
    } else {
      this.txAborts++;
      r[ESTAT] = r[ESTAT] | ESTAT_TXABRT;
      r[EIR] = r[EIR] | EIR_TXERIF;
    }
    // transmit status vector at ETXND+1 (Table 7-1)
    const cnt = abort ? 0 : wireLen + fcs;
    const m = this.mem;
    m[(nd + 1) & BUF_END] = cnt & 0xff;
    m[(nd + 2) & BUF_END] = (cnt >>> 8) & 0xff;
    m[(nd + 3) & BUF_END] = tsv2;
    m[(nd + 4) & BUF_END] = tsv3;
    m[(nd + 5) & BUF_END] = cnt & 0xff;
    m[(nd + 6) & BUF_END] = (cnt >>> 8) & 0xff;
    m[(nd + 7) & BUF_END] = 0;
    r[ECON1] = r[ECON1] & ~ECON1_TXRTS & 0xff;
    r[EIR] = r[EIR] | EIR_TXIF;
  }

  /* ------------------------------------------------------------------ receive */

  receiveFromWire(buf: Uint8Array, off: number, len0: number): boolean {
    const r = this.reg;
    if (!this.link) {
      this.rxNoLink++;
      return false;
    }
    if ((r[ECON1] & ECON1_RXEN) === 0 || (r[ECON1] & ECON1_RXRST) !== 0 || (r[ri(MACON1)] & MACON1_MARXEN) === 0) {
      this.rxDisabledDrops++;
      return false;
    }
    if (len0 < 14 || len0 > WIRE_MAX) {
      this.rxTooLong++;
      return false;
    }
    const len = len0 < ETH_MIN_NOFCS ? ETH_MIN_NOFCS : len0;
    let crcBad = false;
    if (this.injectCrcErrors > 0) {
      this.injectCrcErrors--;
      crcBad = true;
    }
    // receive filters (§8, Register 8-1)
    const fc = r[ri(ERXFCON)];
    if ((fc & ERXFCON_CRCEN) !== 0 && crcBad) {
      this.rxFilterDrops++;
      return false;
    }
    const bcast = (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
    const mcast = (buf[off] & 1) !== 0 && !bcast;
    const sel = fc & (ERXFCON_UCEN | 0x10 | 0x08 | 0x04 | ERXFCON_MCEN | ERXFCON_BCEN);
    if (sel !== 0) {
      let any = false;
      let all = true;
      if ((fc & ERXFCON_UCEN) !== 0) {
        const m = this.matchesMaadr(buf, off);
        any = any || m;
        all = all && m;
      }
      if ((fc & ERXFCON_MCEN) !== 0) {
        any = any || mcast;
        all = all && mcast;
      }
      if ((fc & ERXFCON_BCEN) !== 0) {
        any = any || bcast;
        all = all && bcast;
      }
      if ((fc & (0x10 | 0x08 | 0x04)) !== 0) all = false; // pattern, magic packet, hash: never match here
      const pass = (fc & ERXFCON_ANDOR) !== 0 ? all : any;
      if (!pass) {
        this.rxFilterDrops++;
        return false;
      }
    }
    const maxfl = this.get16(ri(MAMXFLL));
    if (len + ETH_FCS_LEN > maxfl && (r[ri(MACON3)] & MACON3_HFRMEN) === 0) {
      this.rxTooLong++;
      return false;
    }
    const rxst = this.get16(ri(ERXSTL)) & BUF_END;
    const rxnd = this.get16(ri(ERXNDL)) & BUF_END;
    const ring = rxnd - rxst + 1;
    let need = RX_HDR_LEN + len + ETH_FCS_LEN;
    if ((need & 1) !== 0) need++; // the next packet always starts at an even address
    if (ring <= 0 || r[ri(EPKTCNT)] === 255) {
      this.overrun();
      return false;
    }
    const w = this.wrPtr;
    let free = this.rdPtr - w;
    if (free < 0) free += ring;
    const rdEven = (this.rdPtr & 1) === 0;
    if (free === 0 && rdEven && this.errataCorrupt) {
      // errata 14: the hardware believes the full ring is empty
      this.rdptErrataHits++;
      free = ring;
    }
    if (need > free) {
      this.overrun();
      return false;
    }
    let next = w - rxst + need;
    if (next >= ring) next -= ring;
    next += rxst;
    let npp = next;
    if (rdEven && this.errataCorrupt) {
      this.rdptErrataHits++;
      npp = next ^ 1; // errata 14: corrupted next packet pointer
    }
    const cnt = len + ETH_FCS_LEN;
    if (w + need - 1 > rxnd) this.rxWrapped++;
    let p = w;
    p = this.ringPut(p, npp & 0xff, rxst, rxnd);
    p = this.ringPut(p, (npp >>> 8) & 0xff, rxst, rxnd);
    p = this.ringPut(p, cnt & 0xff, rxst, rxnd);
    p = this.ringPut(p, (cnt >>> 8) & 0xff, rxst, rxnd);
    p = this.ringPut(p, crcBad ? RSV2_CRC_ERR : RSV2_RX_OK, rxst, rxnd);
    p = this.ringPut(p, (bcast ? RSV3_BROADCAST : 0) | (mcast ? RSV3_MULTICAST : 0), rxst, rxnd);
    for (let k = 0; k < len0; k++) p = this.ringPut(p, buf[off + k], rxst, rxnd);
    for (let k = len0; k < len; k++) p = this.ringPut(p, 0, rxst, rxnd);
    for (let k = 0; k < ETH_FCS_LEN; k++) p = this.ringPut(p, 0xfc, rxst, rxnd);
    this.setWrPtr(next);
    r[ri(EPKTCNT)] = r[ri(EPKTCNT)] + 1;
    if (!this.pktifUnreliable) r[EIR] = r[EIR] | EIR_PKTIF;
    this.rxFrames++;
    this.rxBytes += len;
    return true;
  }

  private overrun(): void {
    this.rxOverruns++;
    this.reg[EIR] = this.reg[EIR] | EIR_RXERIF;
  }

  private matchesMaadr(b: Uint8Array, o: number): boolean {
    const r = this.reg;
    return (
      b[o] === r[ri(MAADR1)] &&
      b[o + 1] === r[ri(MAADR2)] &&
      b[o + 2] === r[ri(MAADR3)] &&
      b[o + 3] === r[ri(MAADR4)] &&
      b[o + 4] === r[ri(MAADR5)] &&
      b[o + 5] === r[ri(MAADR6)]
    );
  }

  private ringPut(p: number, v: number, rxst: number, rxnd: number): number {
    this.mem[p] = v & 0xff;
    return p === rxnd ? rxst : (p + 1) & BUF_END;
  }
}

/** Two chips on one cable (crossover): what one transmits, the other receives. */
export function connectBackToBack(a: Enc28j60Mock, b: Enc28j60Mock): void {
  a.attachWire(b);
  b.attachWire(a);
}

/**
 * Adapter: a mock chip as the host of a SimSwitch port (src/sim/switch.ts).
 * Frames the chip transmits go to Fabric.hostTransmit at the clock's time;
 * frames the switch delivers are copied into the chip's receive ring at
 * once (the slot goes back to the fabric's pool).
 */
export class Enc28j60SimPort extends ChipSimPort {
  constructor(chip: Enc28j60Mock, fabric: Fabric, port: SimPort, clock: Clock) {
    super(fabric, port, chip, clock);
  }
}
