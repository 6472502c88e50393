/*
 * w5500.ts — the compact stack's WIZnet W5500 driver (the small boards:
 * Espruino + W5500 in MACRAW mode), the chip below src/compact/net.ts. The
 * full stack's driver is drivers/w5500/driver.ts; this one does the same
 * chip work in a few large functions (issue 8: ~8 JsVars per function on
 * Espruino) with flat state and nothing allocated per frame.
 *
 * Place in the packet path:
 *   RX: w5500Poll → (INTn idle and nothing left over: no SPI) → Sn_IR.RECV
 *       cleared (a frame stored after this re-asserts INTn) → Sn_RX_RSR →
 *       per frame: the 2-byte MACRAW length header at Sn_RX_RD (it counts
 *       itself), checked, then the frame read into n.rx in one SPI read
 *       (two when it runs across the end of the ring) → Sn_RX_RD advanced,
 *       RECV (the frame's space is free before the stack runs) →
 *       netInput(n, len) (replies go out through xmit at once) → netTick(n).
 *   TX: net.ts xmit → n.out.xmit(tx, len): wait (bounded) for the previous
 *       SEND's Sn_IR.SEND_OK (or TIMEOUT), Sn_TX_FSR >= len, the frame
 *       written at Sn_TX_WR (split at the end of the ring), Sn_TX_WR
 *       advanced, SEND. The frame lives in chip memory from then on (the
 *       FrameOut contract).
 *
 * W5500 Datasheet v1.0.9: §2.2 SPI frame (16-bit offset, control byte
 * BSB/RWB/OM; VDM, the frame lasts while CS is low); §3.3 memory (socket 0
 * gets all RX memory and a TX buffer, sockets 1-7 none); §4.1 MR.RST,
 * SHAR, IMR/SIMR, PHYCFGR.LNK, VERSIONR = 0x04; §4.2 socket registers:
 * Sn_MR (P = MACRAW on socket 0, MFEN: our MAC and broadcast only, MIP6B),
 * Sn_CR (OPEN, CLOSE, SEND, RECV; cleared by the chip once accepted),
 * Sn_IR (write 1 to clear), Sn_SR (SOCK_MACRAW), Sn_RXBUF_SIZE /
 * Sn_TXBUF_SIZE, Sn_TX_FSR, Sn_TX_WR ("write, update Sn_TX_WR, SEND"),
 * Sn_RX_RSR, Sn_RX_RD ("read, update Sn_RX_RD, RECV"); pointers are
 * free-running 16 bits, a buffer offset is taken modulo the buffer size.
 *
 * Init: VERSIONR (a floating or silent bus reads FF/00: -ENODEV), MR.RST
 * polled until it clears (bounded), buffer sizes for all 8 sockets (their
 * sum must fit the 16 KB), SHAR, interrupts (socket 0 RECV only, SIMR
 * when there is an INT line), Sn_MR, OPEN, Sn_SR = SOCK_MACRAW (bounded).
 *
 * Never throws on chip data: a MACRAW length header that is impossible (at
 * most its own 2 bytes, beyond a full frame, or beyond Sn_RX_RSR read
 * twice) means the ring cannot be followed: socket 0 is closed and opened
 * again (the frames in the ring are lost, counted). Every loop is bounded.
 * The shadows of Sn_TX_WR and Sn_RX_RD are kept here (the driver is their
 * only writer); Sn_CR is not read back after SEND and RECV (the next SEND
 * waits for SEND_OK; RECV shows in Sn_RX_RSR), as the full driver does.
 */
import type { SpiBus, IrqLine } from '../../drivers/spi';
import { ETIMEDOUT, ENODEV, EINVAL } from '../core/errno';
import { Net, FrameOut, FRAME_MAX, netInput, netTick, get16, put16 } from './net';
import {
  SPI_HDR_LEN, BSB_COMMON, BSB_S0_REG, BSB_S0_TX, BSB_S0_RX, W5500_SOCKETS, bsbSockReg, ctrlByte, validBufKb,
  MR, SHAR, IMR, SIMR, PHYCFGR, VERSIONR, MR_RST, PHYCFGR_LNK, W5500_VERSION,
  SN_MR, SN_CR, SN_IR, SN_SR, SN_RXBUF_SIZE, SN_TX_FSR, SN_TX_WR, SN_RX_RSR, SN_RX_RD, SN_IMR,
  SN_MR_MACRAW, SN_MR_MFEN, SN_MR_MIP6B, SN_CR_OPEN, SN_CR_CLOSE, SN_CR_SEND, SN_CR_RECV,
  SN_IR_SEND_OK, SN_IR_TIMEOUT, SN_IR_RECV, SOCK_MACRAW, MACRAW_HDR_LEN,
} from '../../drivers/w5500/regs';

/** register reads before a wait (reset, command, socket state, SEND_OK) is given up */
export const W5500_POLLS = 200;

/* Counters (W5500.cnt). */
/** impossible MACRAW length headers (socket 0 reopened: the frames in the ring lost) */
export const W_RX_BAD = 0;
/** frames not sent: longer than FRAME_MAX or the TX buffer, or socket 0 not open */
export const W_TX_DROP = 1;
/** frames not sent: Sn_TX_FSR short of the frame */
export const W_TX_FULL = 2;
/** frames not sent: the previous SEND raised neither SEND_OK nor TIMEOUT in time */
export const W_TX_STALL = 3;
/** waits that ran out (reset, command, socket state) */
export const W_TIMEOUT = 4;
export const W_COUNT = 5;
export const W5500_CNT_NAMES = ['rxBad', 'txDrop', 'txFull', 'txStall', 'timeout'];

/**
 * One chip: the SPI bus, its state and counters. It is the stack's
 * FrameOut (n.out) once attached.
 */
export class W5500 implements FrameOut {
  spi: SpiBus;
  irq: IrqLine | null;
  /** socket 0 buffer sizes in bytes (Sn_RXBUF_SIZE / Sn_TXBUF_SIZE × 1024) */
  rxSize: number;
  txSize: number;
  /** socket 0 is open in MACRAW (else xmit drops and w5500Poll opens it again) */
  up = false;
  /** shadows of Sn_TX_WR and Sn_RX_RD */
  txWr = 0;
  rxRd = 0;
  /** a SEND was issued and its SEND_OK not yet seen */
  sendPend = false;
  /** a poll stopped at its budget with frames left (INTn will not re-assert for them) */
  more = false;
  /** SPI frame header and register data scratch */
  hdr = new Uint8Array(SPI_HDR_LEN);
  reg = new Uint8Array(2);
  cnt = new Uint32Array(W_COUNT);

  constructor(spi: SpiBus, irq: IrqLine | null, rxKb: number, txKb: number) {
    this.spi = spi;
    this.irq = irq;
    this.rxSize = rxKb * 1024;
    this.txSize = txKb * 1024;
  }

  /**
   * FrameOut: send len bytes of b (copied into the chip before this
   * returns). One SEND at a time: wait (bounded) for the previous one; a
   * frame that finds it still going, or too little room, is dropped and
   * counted (the stack's protocols retransmit).
   */
  xmit(b: Uint8Array, len: number): void {
    let k = this.cnt;
    if (!this.up || len <= 0 || len > FRAME_MAX || len > this.txSize) {
      k[W_TX_DROP]++;
      return;
    }
    if (this.sendPend) {
      for (let i = 0; (wRd(this, BSB_S0_REG, SN_IR, 1) & (SN_IR_SEND_OK | SN_IR_TIMEOUT)) === 0; i++) {
        if (i >= W5500_POLLS) {
          k[W_TX_STALL]++;
          return;
        }
      }
      wWr(this, BSB_S0_REG, SN_IR, SN_IR_SEND_OK | SN_IR_TIMEOUT, 1);
      this.sendPend = false;
    }
    if (wRd(this, BSB_S0_REG, SN_TX_FSR, 2) < len) {
      k[W_TX_FULL]++;
      return;
    }
    wRing(this, BSB_S0_TX, this.txSize, this.txWr, b, len, true);
    this.txWr = (this.txWr + len) & 0xffff;
    wWr(this, BSB_S0_REG, SN_TX_WR, this.txWr, 2);
    wWr(this, BSB_S0_REG, SN_CR, SN_CR_SEND, 1);
    this.sendPend = true;
  }
}

/**
 * One SPI frame (§2.2, VDM): len bytes at offset a of block bsb, read into
 * or written from b[off..].
 */
function wXfer(w: W5500, bsb: number, a: number, b: Uint8Array, off: number, len: number, write: boolean): void {
  let s = w.spi;
  let h = w.hdr;
  put16(h, 0, a & 0xffff);
  h[2] = ctrlByte(bsb, write);
  s.select();
  s.transfer(h, 0, null, 0, SPI_HDR_LEN);
  s.transfer(write ? b : null, off, write ? null : b, off, len);
  s.deselect();
}

/** A 1- or 2-byte register (big-endian, §4). */
function wRd(w: W5500, bsb: number, a: number, len: number): number {
  let r = w.reg;
  wXfer(w, bsb, a, r, 0, len, false);
  return len === 1 ? r[0] : get16(r, 0);
}
function wWr(w: W5500, bsb: number, a: number, v: number, len: number): void {
  let r = w.reg;
  if (len === 1) r[0] = v;
  else put16(r, 0, v);
  wXfer(w, bsb, a, r, 0, len, true);
}

/**
 * len bytes of b (from 0) to or from socket 0's TX or RX ring (size bytes)
 * at pointer ptr: one SPI frame, two when they run across the end of the ring.
 */
function wRing(w: W5500, bsb: number, size: number, ptr: number, b: Uint8Array, len: number, write: boolean): void {
  let first = size - (ptr & (size - 1));
  if (first > len) first = len;
  wXfer(w, bsb, ptr, b, 0, first, write);
  if (first < len) wXfer(w, bsb, ptr + first, b, first, len - first, write);
}

/** Issue a socket 0 command and wait (bounded) until the chip clears Sn_CR. 0 or -ETIMEDOUT. */
function wCmd(w: W5500, cmd: number): number {
  wWr(w, BSB_S0_REG, SN_CR, cmd, 1);
  for (let i = 0; wRd(w, BSB_S0_REG, SN_CR, 1) !== 0; i++) {
    if (i >= W5500_POLLS) {
      w.cnt[W_TIMEOUT]++;
      return -ETIMEDOUT;
    }
  }
  return 0;
}

/**
 * (Re)open socket 0 in MACRAW (§4.2: CLOSE, OPEN, Sn_SR = SOCK_MACRAW):
 * the rings start empty; pointers read back. 0 or -ETIMEDOUT.
 */
function wOpen(w: W5500): number {
  w.up = false;
  w.sendPend = false;
  w.more = false;
  if (wCmd(w, SN_CR_CLOSE) < 0 || wCmd(w, SN_CR_OPEN) < 0) return -ETIMEDOUT;
  for (let i = 0; wRd(w, BSB_S0_REG, SN_SR, 1) !== SOCK_MACRAW; i++) {
    if (i >= W5500_POLLS) {
      w.cnt[W_TIMEOUT]++;
      return -ETIMEDOUT;
    }
  }
  wWr(w, BSB_S0_REG, SN_IR, 0xff, 1);
  w.txWr = wRd(w, BSB_S0_REG, SN_TX_WR, 2);
  w.rxRd = wRd(w, BSB_S0_REG, SN_RX_RD, 2);
  w.up = true;
  return 0;
}

/** PHYCFGR.LNK (§4.1): the PHY reports link up (one register read). */
export function w5500LinkUp(w: W5500): boolean {
  return (wRd(w, BSB_COMMON, PHYCFGR, 1) & PHYCFGR_LNK) !== 0;
}

/**
 * Reset and configure the chip for the MAC mac and open socket 0 in
 * MACRAW (see the top of the file). Returns 0, -ENODEV (VERSIONR is not
 * 0x04: no W5500 on the bus), -ETIMEDOUT (reset or OPEN never completed)
 * or -EINVAL (buffer sizes not 1, 2, 4, 8 or 16 KB, or TX under 2 KB:
 * a full frame must fit).
 */
export function w5500Init(w: W5500, mac: Uint8Array): number {
  w.up = false;
  let rk = w.rxSize >>> 10;
  let tk = w.txSize >>> 10;
  if (!validBufKb(rk) || rk === 0 || w.rxSize !== rk << 10 || !validBufKb(tk) || tk < 2 || w.txSize !== tk << 10) return -EINVAL;
  if (wRd(w, BSB_COMMON, VERSIONR, 1) !== W5500_VERSION) return -ENODEV;
  // §4.1 MR.RST: software reset, self-clearing
  wWr(w, BSB_COMMON, MR, MR_RST, 1);
  for (let i = 0; (wRd(w, BSB_COMMON, MR, 1) & MR_RST) !== 0; i++) {
    if (i >= W5500_POLLS) {
      w.cnt[W_TIMEOUT]++;
      return -ETIMEDOUT;
    }
  }
  // §4.2 Sn_RXBUF_SIZE, Sn_TXBUF_SIZE (adjacent): all to socket 0
  for (let i = 0; i < W5500_SOCKETS; i++) wWr(w, bsbSockReg(i), SN_RXBUF_SIZE, i === 0 ? (rk << 8) | tk : 0, 2);
  wXfer(w, BSB_COMMON, SHAR, mac, 0, 6, true);
  // interrupts: socket 0 RECV only (SEND_OK is polled by the next xmit)
  wWr(w, BSB_COMMON, IMR, 0, 1);
  wWr(w, BSB_S0_REG, SN_IMR, SN_IR_RECV, 1);
  wWr(w, BSB_COMMON, SIMR, w.irq !== null ? 1 << 0 : 0, 1);
  // MFEN: our MAC and broadcast only (multicast too is filtered); no IPv6 here
  wWr(w, BSB_S0_REG, SN_MR, SN_MR_MACRAW | SN_MR_MFEN | SN_MR_MIP6B, 1);
  return wOpen(w);
}

/**
 * Receive up to `budget` frames into n.rx and hand each to netInput (see
 * the top of the file), then run the stack's timers (netTick). Returns the
 * frames handed to the stack. With an IRQ line whose INTn is idle (and
 * nothing left over by the last poll) the chip is not read. When socket 0
 * is not open (a reopen that failed) it is opened again first.
 */
export function w5500Poll(w: W5500, n: Net, budget: number): number {
  let done = 0;
  let irq = w.irq;
  if (!w.up) wOpen(w);
  if (w.up && budget > 0 && (irq === null || w.more || irq.asserted())) {
    // clear RECV before reading Sn_RX_RSR: a frame stored after this read re-asserts INTn
    if (irq !== null) wWr(w, BSB_S0_REG, SN_IR, SN_IR_RECV, 1);
    w.more = false;
    let left = wRd(w, BSB_S0_REG, SN_RX_RSR, 2);
    let h = w.reg;
    for (; left > 0 && done < budget; done++) {
      let ptr = w.rxRd;
      let flen = 0;
      if (left >= MACRAW_HDR_LEN) {
        wRing(w, BSB_S0_RX, w.rxSize, ptr, h, MACRAW_HDR_LEN, false);
        flen = get16(h, 0);
        // beyond what the chip holds: perhaps a torn 16-bit read of Sn_RX_RSR (§4.2), read it again
        if (flen > left) left = wRd(w, BSB_S0_REG, SN_RX_RSR, 2);
      }
      if (flen <= MACRAW_HDR_LEN || flen > FRAME_MAX + MACRAW_HDR_LEN || flen > left) {
        w.cnt[W_RX_BAD]++;
        wOpen(w);
        break;
      }
      let len = flen - MACRAW_HDR_LEN;
      wRing(w, BSB_S0_RX, w.rxSize, ptr + MACRAW_HDR_LEN, n.rx, len, false);
      // §4.2: update Sn_RX_RD, then RECV; Sn_RX_RSR now counts from the next frame
      w.rxRd = (ptr + flen) & 0xffff;
      left -= flen;
      wWr(w, BSB_S0_REG, SN_RX_RD, w.rxRd, 2);
      wWr(w, BSB_S0_REG, SN_CR, SN_CR_RECV, 1);
      netInput(n, len);
    }
    if (left > 0 && w.up) w.more = true;
  }
  netTick(n);
  return done;
}

/**
 * Make a driver for the chip on spi (INTn on irq, or null to read the chip
 * on every poll) with socket 0 buffers of rxKb (default 16: all the chip's
 * RX memory) and txKb (default 2: one frame in flight at a time)
 * kilobytes, initialise it with n.mac and make it n's FrameOut. Returns
 * it, or null when the chip does not come up (w5500Init's reasons; n.out
 * is left alone).
 */
export function w5500Attach(n: Net, spi: SpiBus, irq: IrqLine | null, rxKb?: number, txKb?: number): W5500 | null {
  let w = new W5500(spi, irq, rxKb !== undefined ? rxKb : 16, txKb !== undefined ? txKb : 2);
  if (w5500Init(w, n.mac) < 0) return null;
  n.out = w;
  return w;
}
