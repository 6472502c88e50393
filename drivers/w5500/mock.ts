/*
 * mock.ts — a register-level behavioural model of the WIZnet W5500 on the
 * SPI bus, so that the W5500 driver (driver.ts) runs on the PC:
 *   stack → W5500Driver → SpiBus → W5500Mock ⇄ wire ⇄ W5500Mock → driver → stack.
 *
 * Place in the packet path: below the driver, in place of the chip. Its
 * wire side either feeds another mock directly (attachWire(peer): back to
 * back) or a port of the simulation's virtual switch (simport.ts).
 *
 * Modelled (section numbers: W5500 Datasheet v1.0.9, see regs.ts):
 *  - §2.2 SPI frame parser: 16-bit offset address, control byte
 *    (BSB[4:0] / RWB / OM[1:0]), data phase of any length with the offset
 *    auto-incremented by one per byte. §2.3 VDM: the frame lasts while CS
 *    is low (select … deselect). §2.4 FDM: after 1/2/4 data bytes the next
 *    byte starts a new frame without a CS edge.
 *  - §4.1 common registers: MR (RST self-clears and resets every register;
 *    `resetBusyReads` keeps RST visible for that many reads), SHAR, IR
 *    (write 1 to clear), IMR, SIR (read only: bit n = Sn_IR & Sn_IMR ≠ 0),
 *    SIMR, PHYCFGR (LNK/SPD/DPX from `linkUp`), VERSIONR (`version`, 0x04).
 *    Other registers are plain storage with their reset values.
 *  - §4.2 socket registers (all 8 blocks stored; socket 0 behaves): Sn_MR,
 *    Sn_CR (OPEN, CLOSE, SEND, RECV executed on write; reads 0 afterwards,
 *    or the command for `cmdBusyReads` reads), Sn_SR (SOCK_MACRAW 0x42
 *    after OPEN with P = MACRAW on socket 0; TCP/UDP are not modelled and
 *    stay SOCK_CLOSED, counted in `unsupported`), Sn_IR (write 1 to
 *    clear), Sn_IMR, Sn_TX_FSR, Sn_TX_RD, Sn_TX_WR, Sn_RX_RSR, Sn_RX_RD,
 *    Sn_RX_WR, Sn_RXBUF_SIZE/Sn_TXBUF_SIZE (latched at OPEN; 0,1,2,4,8,16 KB).
 *  - §3.3 TX and RX buffer blocks as rings: pointers are free-running 16
 *    bits; a buffer-block offset addresses byte (offset & (size - 1)), so a
 *    burst that runs past the end of the ring continues at its start.
 *    Socket 0 owns the first `size` bytes of each 16 KB memory.
 *  - MACRAW receive: a frame from the wire is stored behind a 2-byte
 *    big-endian length that counts itself; Sn_RX_RSR = Sn_RX_WR − the
 *    Sn_RX_RD committed by the last RECV; Sn_IR.RECV. Dropped and counted:
 *    socket not open in MACRAW (rxDropClosed), no room (rxDropFull),
 *    runts < 14 (rxDropRunt), > 1514 (rxDropOversize), filtered
 *    (rxDropFilter: MFEN → only SHAR and broadcast; BCASTB, MMB, MIP6B).
 *  - SEND: the bytes between Sn_TX_RD and Sn_TX_WR leave as one frame
 *    (padded to 60 bytes as the MAC does), Sn_TX_RD catches up, SEND_OK.
 *    `stallTx` holds the SEND in progress until releaseTx() (a busy
 *    transmitter); frames > 1514 bytes are counted (txOversize), not sent.
 *  - INTn (IrqLine.asserted): (IR & IMR) | (SIR & SIMR) ≠ 0.
 *  - Every SPI byte is counted (`bytes`), frames in `spiFrames`.
 * Not modelled: TCP/UDP/IPRAW sockets, PPPoE, WOL, timing (INTLEVEL,
 * RTR/RCR), buffers of sockets 1-7 (accesses counted in `unmodelled`).
 *
 * Portable (Lua/Espruino): no allocation after construction.
 */
import type { SpiBus, IrqLine } from '../spi';
import { burstCopy } from '../spi';
import {
  CTRL_BSB_SHIFT, CTRL_RWB_WRITE, CTRL_OM_MASK, OM_FDM1, OM_FDM2, OM_FDM4,
  BSB_COMMON, BSB_S0_REG, BSB_S0_TX, BSB_S0_RX, W5500_SOCKETS,
  MR, SHAR, IR, IMR, SIR, SIMR, RTR, RCR, PTIMER, PMRU, PHYCFGR, VERSIONR, COMMON_BLOCK_LEN,
  MR_RST, PHYCFGR_RST, PHYCFGR_OPMDC_ALLAN, PHYCFGR_DPX, PHYCFGR_SPD, PHYCFGR_LNK, W5500_VERSION,
  SN_MR, SN_CR, SN_IR, SN_SR, SN_DHAR, SN_TTL, SN_RXBUF_SIZE, SN_TXBUF_SIZE, SN_TX_FSR, SN_TX_RD, SN_TX_WR,
  SN_RX_RSR, SN_RX_RD, SN_RX_WR, SN_IMR, SN_FRAG, SOCK_BLOCK_LEN,
  SN_MR_MFEN, SN_MR_BCASTB, SN_MR_MMB, SN_MR_MIP6B, SN_MR_P_MASK, SN_MR_MACRAW,
  SN_CR_OPEN, SN_CR_CLOSE, SN_CR_SEND, SN_CR_RECV, SN_IR_SEND_OK, SN_IR_RECV,
  SOCK_CLOSED, SOCK_MACRAW, SN_BUF_SIZE_DEFAULT_KB, MACRAW_HDR_LEN,
  ETH_MAX_FRAME, ETH_MIN_FRAME, validBufKb,
} from './regs';

/** Whatever is at the other end of the chip's cable: another chip, a switch port adapter, a recorder. */
export interface WireReceiver {
  /** A frame arrives off the wire (buf[off..off+len)). Returns true when accepted. Must not keep buf. */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean;
}

export class W5500Mock implements SpiBus, IrqLine, WireReceiver {
  /* ---- SpiBus ---- */
  bytes = 0;
  /* ---- knobs (survive a chip reset) ---- */
  /** what VERSIONR reads (a wrong value models a different/absent chip) */
  version = W5500_VERSION;
  /** PHY link state reported in PHYCFGR; a link-down chip neither sends nor receives */
  linkUp = true;
  /** after a reset, MR reads with RST still set this many times */
  resetBusyReads = 0;
  /** after a command, Sn_CR reads back the command this many times before 0 */
  cmdBusyReads = 0;
  /** hold SENDs in progress (no SEND_OK, Sn_TX_RD does not move) until releaseTx() */
  stallTx = false;
  /** when >= 0, the next stored frame gets this value as its length header (fault injection) */
  corruptNextHeader = -1;
  /* ---- counters ---- */
  spiFrames = 0;
  /** frames cut short by CS (header incomplete) */
  spiShortFrames = 0;
  /** bytes clocked with CS high (ignored by the chip) */
  spiStrayBytes = 0;
  resets = 0;
  commands = 0;
  unsupported = 0;
  unmodelled = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxDropClosed = 0;
  rxDropFull = 0;
  rxDropRunt = 0;
  rxDropOversize = 0;
  rxDropFilter = 0;
  rxDropLinkDown = 0;
  txFrames = 0;
  txBytes = 0;
  txOversize = 0;
  txLinkDown = 0;
  sendWhileBusy = 0;
  /** copy buffer bursts with subarray views and set() (see Enc28j60Mock.nativeCopy) */
  nativeCopy = false;
  /** OPENs asking for more buffer than this model has (constructor memKb) */
  memTooSmall = 0;
  /** KB of RX and of TX memory in this model */
  readonly memKb: number;
  readonly txMemKb: number;

  /** common register block (§3.1) */
  readonly common = new Uint8Array(COMMON_BLOCK_LEN);
  /** the 8 socket register blocks (§3.2), SOCK_BLOCK_LEN bytes each */
  readonly sock = new Uint8Array(W5500_SOCKETS * SOCK_BLOCK_LEN);
  /** TX and RX memories (§3.3) */
  readonly txMem: Uint8Array;
  readonly rxMem: Uint8Array;
  /** the frame being put on the wire (padded) */
  private readonly txFrame = new Uint8Array(ETH_MAX_FRAME);

  /* socket 0 internal state */
  private txSize = 0;
  private rxSize = 0;
  private txRd = 0;
  private rxWr = 0;
  /** Sn_RX_RD as of the last RECV (what Sn_RX_RSR is computed from) */
  private rxRdCommitted = 0;
  private sendInFlight = false;
  private crBusy = 0;
  private lastCmd = 0;
  private mrBusy = 0;

  /* SPI frame state */
  private selected = false;
  private pos = 0;
  private addr = 0;
  private ctrl = 0;
  private fdmLeft = 0;

  private wire: WireReceiver | null = null;

  /**
   * memKb / txMemKb: KB of RX and of TX memory the model allocates (the
   * chip has 16 of each; default 16, txMemKb defaults to memKb). A smaller
   * model, for a test host short of RAM such as a board-sized interpreter,
   * holds a socket-0 buffer of at most that: a larger Sn_RXBUF_SIZE /
   * Sn_TXBUF_SIZE gets no memory at OPEN (counted in `memTooSmall`), so
   * configure the driver's rxKb/txKb to fit.
   */
  constructor(memKb?: number, txMemKb?: number) {
    const kb = memKb === 2 || memKb === 4 || memKb === 8 ? memKb : 16;
    const tkb = txMemKb === undefined ? kb : txMemKb === 2 || txMemKb === 4 || txMemKb === 8 ? txMemKb : 16;
    this.memKb = kb;
    this.txMemKb = tkb;
    this.txMem = new Uint8Array(tkb * 1024);
    this.rxMem = new Uint8Array(kb * 1024);
    this.reset();
    this.resets = 0;
  }

  /** Connect the chip's cable: frames it sends go to `w` (null: unplugged). */
  attachWire(w: WireReceiver | null): void {
    this.wire = w;
  }

  /* ================= SpiBus ================= */

  select(): void {
    if (this.selected && this.pos > 0) this.endFrame();
    this.selected = true;
    this.pos = 0;
  }

  deselect(): void {
    if (this.selected && this.pos > 0) this.endFrame();
    this.selected = false;
    this.pos = 0;
  }

  transfer(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void {
    let i = 0;
    while (i < len) {
      // the data phase of a variable-length frame on socket 0's TX/RX buffer
      // in bulk (same effect as byte by byte, with native copies: an
      // interpreter runs a byte loop ~100x slower)
      if (this.selected && this.pos === 3 && this.fdmLeft === 0) {
        const bsb = this.ctrl >>> CTRL_BSB_SHIFT;
        if (bsb === BSB_S0_TX || bsb === BSB_S0_RX) {
          this.bufBulk(bsb, tx, txOff + i, rx, rxOff + i, len - i);
          break;
        }
      }
      const o = this.clockByte(tx !== null ? tx[txOff + i] : 0);
      if (rx !== null) rx[rxOff + i] = o & 0xff;
      i++;
    }
    this.bytes += len;
  }

  /** n data bytes at this.addr of socket 0's TX or RX buffer (the address wraps in the buffer's size). */
  private bufBulk(bsb: number, tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, n: number): void {
    const mem = bsb === BSB_S0_TX ? this.txMem : this.rxMem;
    const size = bsb === BSB_S0_TX ? this.txSize : this.rxSize;
    const write = (this.ctrl & CTRL_RWB_WRITE) !== 0;
    // a write's data bytes read back 0 on MISO (as clockByte() answers them)
    if (write && rx !== null) rx.fill(0, rxOff, rxOff + n);
    if (size === 0) {
      // no memory given to the socket: reads are 0, writes vanish (as readByte/writeByte)
      if (!write && rx !== null) rx.fill(0, rxOff, rxOff + n);
      this.addr = (this.addr + n) & 0xffff;
      return;
    }
    let done = 0;
    while (done < n) {
      const a = this.addr & (size - 1);
      let k = size - a;
      if (k > n - done) k = n - done;
      if (write) {
        if (tx !== null) burstCopy(tx, txOff + done, mem, a, k, this.nativeCopy);
        else mem.fill(0, a, a + k);
      } else if (rx !== null) burstCopy(mem, a, rx, rxOff + done, k, this.nativeCopy);
      done += k;
      this.addr = (this.addr + k) & 0xffff;
    }
  }

  /* ================= IrqLine ================= */

  asserted(): boolean {
    const c = this.common;
    return ((c[IR] & c[IMR]) | (c[SIR] & c[SIMR])) !== 0;
  }

  /* ================= SPI frame parser (§2.2) ================= */

  private endFrame(): void {
    if (this.pos < 3) this.spiShortFrames++;
    else this.spiFrames++;
    this.pos = 0;
  }

  private clockByte(b: number): number {
    if (!this.selected) {
      this.spiStrayBytes++;
      return 0;
    }
    const pos = this.pos;
    if (pos === 0) {
      this.addr = (b & 0xff) << 8;
      this.pos = 1;
      return 0;
    }
    if (pos === 1) {
      this.addr = this.addr | (b & 0xff);
      this.pos = 2;
      return 0;
    }
    if (pos === 2) {
      this.ctrl = b & 0xff;
      const om = b & CTRL_OM_MASK;
      this.fdmLeft = om === OM_FDM1 ? 1 : om === OM_FDM2 ? 2 : om === OM_FDM4 ? 4 : 0;
      this.pos = 3;
      return 0;
    }
    // data phase (§2.2.3)
    const bsb = this.ctrl >>> CTRL_BSB_SHIFT;
    let out = 0;
    if ((this.ctrl & CTRL_RWB_WRITE) !== 0) this.writeByte(bsb, this.addr, b & 0xff);
    else out = this.readByte(bsb, this.addr);
    this.addr = (this.addr + 1) & 0xffff;
    if (this.fdmLeft > 0) {
      this.fdmLeft--;
      if (this.fdmLeft === 0) {
        // §2.4: a fixed-length frame ends by itself; the next byte is a new address phase
        this.spiFrames++;
        this.pos = 0;
      }
    }
    return out;
  }

  private readByte(bsb: number, a: number): number {
    if (bsb === BSB_COMMON) {
      if (a >= COMMON_BLOCK_LEN) return 0;
      if (a === MR && this.mrBusy > 0) {
        this.mrBusy--;
        return this.common[MR] | MR_RST;
      }
      return this.common[a];
    }
    if (bsb === BSB_S0_TX) return this.txSize === 0 ? 0 : this.txMem[a & (this.txSize - 1)];
    if (bsb === BSB_S0_RX) return this.rxSize === 0 ? 0 : this.rxMem[a & (this.rxSize - 1)];
    const kind = bsb & 3;
    const n = (bsb - kind) >>> 2;
    if (kind === 1 && n < W5500_SOCKETS) {
      if (a >= SOCK_BLOCK_LEN) return 0;
      if (n === 0 && a === SN_CR && this.crBusy > 0) {
        this.crBusy--;
        return this.lastCmd;
      }
      return this.sock[n * SOCK_BLOCK_LEN + a];
    }
    this.unmodelled++;
    return 0;
  }

  private writeByte(bsb: number, a: number, v: number): void {
    if (bsb === BSB_COMMON) {
      this.writeCommon(a, v);
      return;
    }
    if (bsb === BSB_S0_TX) {
      if (this.txSize !== 0) this.txMem[a & (this.txSize - 1)] = v;
      return;
    }
    if (bsb === BSB_S0_RX) {
      // the RX buffer is writable over SPI on the real chip too; the model allows it
      if (this.rxSize !== 0) this.rxMem[a & (this.rxSize - 1)] = v;
      return;
    }
    const kind = bsb & 3;
    const n = (bsb - kind) >>> 2;
    if (kind === 1 && n < W5500_SOCKETS) {
      if (a < SOCK_BLOCK_LEN) this.writeSock(n, a, v);
      return;
    }
    this.unmodelled++;
  }

  private writeCommon(a: number, v: number): void {
    if (a >= COMMON_BLOCK_LEN) return;
    const c = this.common;
    if (a === MR) {
      if ((v & MR_RST) !== 0) {
        this.reset();
        return;
      }
      c[MR] = v;
      return;
    }
    if (a === IR) {
      c[IR] = c[IR] & ~v & 0xff; // write 1 to clear
      return;
    }
    if (a === SIR || a === VERSIONR) return; // read only
    if (a === PHYCFGR) {
      // RST/OPMD/OPMDC are writable; DPX/SPD/LNK are status
      // RST/OPMD/OPMDC are writable (RST = 0 resets the PHY, which completes at once
      // and reads back 1); DPX/SPD/LNK are status
      c[PHYCFGR] = ((v & 0xf8) | PHYCFGR_RST | (c[PHYCFGR] & 0x07)) & 0xff;
      return;
    }
    c[a] = v;
  }

  private writeSock(n: number, a: number, v: number): void {
    const base = n * SOCK_BLOCK_LEN;
    const s = this.sock;
    switch (a) {
      case SN_CR:
        s[base + SN_CR] = v;
        if (n === 0) {
          this.lastCmd = v;
          this.command(v);
        }
        else this.unsupported++;
        s[base + SN_CR] = 0; // §4.2: cleared once the command is accepted
        if (n === 0) this.crBusy = this.cmdBusyReads;
        return;
      case SN_IR:
        s[base + SN_IR] = s[base + SN_IR] & ~v & 0xff;
        this.sync();
        return;
      case SN_SR:
      case SN_TX_FSR:
      case SN_TX_FSR + 1:
      case SN_TX_RD:
      case SN_TX_RD + 1:
      case SN_RX_RSR:
      case SN_RX_RSR + 1:
      case SN_RX_WR:
      case SN_RX_WR + 1:
        return; // read only
      default:
        s[base + a] = v;
        if (n === 0 && (a === SN_TX_WR || a === SN_TX_WR + 1 || a === SN_IMR)) this.sync();
    }
  }

  /* ================= reset and derived registers ================= */

  /** MR.RST (§4.1): every register back to its reset value; buffer contents are kept. */
  reset(): void {
    const c = this.common;
    for (let i = 0; i < c.length; i++) c[i] = 0;
    c[RTR] = 0x07;
    c[RTR + 1] = 0xd0;
    c[RCR] = 0x08;
    c[PTIMER] = 0x28;
    c[PMRU] = 0xff;
    c[PMRU + 1] = 0xff;
    c[VERSIONR] = this.version & 0xff;
    c[PHYCFGR] = PHYCFGR_RST | PHYCFGR_OPMDC_ALLAN;
    for (let i = 0; i < this.sock.length; i++) this.sock[i] = 0;
    for (let n = 0; n < W5500_SOCKETS; n++) {
      const b = n * SOCK_BLOCK_LEN;
      for (let i = 0; i < 6; i++) this.sock[b + SN_DHAR + i] = 0xff;
      this.sock[b + SN_TTL] = 0x80;
      this.sock[b + SN_RXBUF_SIZE] = SN_BUF_SIZE_DEFAULT_KB;
      this.sock[b + SN_TXBUF_SIZE] = SN_BUF_SIZE_DEFAULT_KB;
      this.sock[b + SN_TX_FSR] = (SN_BUF_SIZE_DEFAULT_KB * 1024) >>> 8;
      this.sock[b + SN_IMR] = 0xff;
      this.sock[b + SN_FRAG] = 0x40;
    }
    this.txSize = SN_BUF_SIZE_DEFAULT_KB * 1024;
    this.rxSize = SN_BUF_SIZE_DEFAULT_KB * 1024;
    this.txRd = 0;
    this.rxWr = 0;
    this.rxRdCommitted = 0;
    this.sendInFlight = false;
    this.crBusy = 0;
    this.mrBusy = this.resetBusyReads;
    this.resets++;
    this.sync();
  }

  private put16(base: number, a: number, v: number): void {
    this.sock[base + a] = (v >>> 8) & 0xff;
    this.sock[base + a + 1] = v & 0xff;
  }

  private get16(base: number, a: number): number {
    return ((this.sock[base + a] << 8) | this.sock[base + a + 1]) & 0xffff;
  }

  /** Recompute socket 0's read-only registers, SIR and PHYCFGR. */
  private sync(): void {
    const txUsed = (this.get16(0, SN_TX_WR) - this.txRd) & 0xffff;
    this.put16(0, SN_TX_FSR, txUsed >= this.txSize ? 0 : this.txSize - txUsed);
    this.put16(0, SN_TX_RD, this.txRd);
    this.put16(0, SN_RX_WR, this.rxWr);
    this.put16(0, SN_RX_RSR, (this.rxWr - this.rxRdCommitted) & 0xffff);
    let sir = 0;
    for (let n = 0; n < W5500_SOCKETS; n++) {
      const b = n * SOCK_BLOCK_LEN;
      if ((this.sock[b + SN_IR] & this.sock[b + SN_IMR]) !== 0) sir = sir | (1 << n);
    }
    const c = this.common;
    c[SIR] = sir & 0xff;
    const link = this.linkUp ? PHYCFGR_LNK | PHYCFGR_SPD | PHYCFGR_DPX : 0;
    c[PHYCFGR] = (c[PHYCFGR] & 0xf8) | link;
  }

  /** Change the cable state (PHYCFGR.LNK). */
  setLink(up: boolean): void {
    this.linkUp = up;
    this.sync();
  }

  /* ================= socket 0 commands (§4.2 Sn_CR) ================= */

  private command(cmd: number): void {
    this.commands++;
    const s = this.sock;
    if (cmd === SN_CR_OPEN) {
      const p = s[SN_MR] & SN_MR_P_MASK;
      if (p !== SN_MR_MACRAW) {
        // TCP, UDP, IPRAW are not modelled; a socket without a protocol stays closed
        this.unsupported++;
        s[SN_SR] = SOCK_CLOSED;
        return;
      }
      const rk = s[SN_RXBUF_SIZE];
      const tk = s[SN_TXBUF_SIZE];
      this.rxSize = validBufKb(rk) && rk <= this.memKb ? rk * 1024 : 0;
      this.txSize = validBufKb(tk) && tk <= this.txMemKb ? tk * 1024 : 0;
      if (rk > this.memKb || tk > this.txMemKb) this.memTooSmall++;
      this.txRd = 0;
      this.rxWr = 0;
      this.rxRdCommitted = 0;
      this.put16(0, SN_TX_WR, 0);
      this.put16(0, SN_RX_RD, 0);
      this.sendInFlight = false;
      s[SN_SR] = SOCK_MACRAW;
      this.sync();
      return;
    }
    if (cmd === SN_CR_CLOSE) {
      s[SN_SR] = SOCK_CLOSED;
      this.sendInFlight = false;
      this.sync();
      return;
    }
    if (s[SN_SR] !== SOCK_MACRAW) {
      this.unsupported++;
      return;
    }
    if (cmd === SN_CR_SEND) {
      if (this.sendInFlight) {
        this.sendWhileBusy++;
        return;
      }
      this.sendInFlight = true;
      if (!this.stallTx) this.completeSend();
      return;
    }
    if (cmd === SN_CR_RECV) {
      this.rxRdCommitted = this.get16(0, SN_RX_RD);
      this.sync();
      return;
    }
    this.unsupported++;
  }

  /** The transmitter finished: the bytes Sn_TX_RD..Sn_TX_WR leave as one frame. */
  private completeSend(): void {
    const end = this.get16(0, SN_TX_WR);
    const len = (end - this.txRd) & 0xffff;
    if (len > ETH_MAX_FRAME || len > this.txSize) {
      this.txOversize++;
    } else if (len > 0) {
      const f = this.txFrame;
      const mask = this.txSize - 1;
      for (let i = 0; i < len; i++) f[i] = this.txMem[(this.txRd + i) & mask];
      let flen = len;
      while (flen < ETH_MIN_FRAME) f[flen++] = 0;
      if (!this.linkUp) {
        this.txLinkDown++;
      } else {
        this.txFrames++;
        this.txBytes += flen;
        const w = this.wire;
        if (w !== null) w.receiveFromWire(f, 0, flen);
      }
    }
    this.txRd = end;
    this.sendInFlight = false;
    this.sock[SN_IR] = this.sock[SN_IR] | SN_IR_SEND_OK;
    this.sync();
  }

  /** stallTx: let the held SEND complete now. */
  releaseTx(): void {
    if (this.sendInFlight) this.completeSend();
  }

  /* ================= wire side: MACRAW receive ================= */

  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    const s = this.sock;
    if (!this.linkUp) {
      this.rxDropLinkDown++;
      return false;
    }
    if (s[SN_SR] !== SOCK_MACRAW) {
      this.rxDropClosed++;
      return false;
    }
    if (len < 14) {
      this.rxDropRunt++;
      return false;
    }
    if (len > ETH_MAX_FRAME) {
      this.rxDropOversize++;
      return false;
    }
    const mr = s[SN_MR];
    const bcast =
      buf[off] === 0xff && buf[off + 1] === 0xff && buf[off + 2] === 0xff &&
      buf[off + 3] === 0xff && buf[off + 4] === 0xff && buf[off + 5] === 0xff;
    const mcast = !bcast && (buf[off] & 1) !== 0;
    let pass = true;
    if ((mr & SN_MR_MFEN) !== 0 && !bcast) {
      // MAC filter: only frames to SHAR (and broadcast)
      const c = this.common;
      for (let i = 0; i < 6; i++) if (buf[off + i] !== c[SHAR + i]) pass = false;
    }
    if ((mr & SN_MR_BCASTB) !== 0 && bcast) pass = false;
    if ((mr & SN_MR_MMB) !== 0 && mcast) pass = false;
    if ((mr & SN_MR_MIP6B) !== 0 && buf[off + 12] === 0x86 && buf[off + 13] === 0xdd) pass = false;
    if (!pass) {
      this.rxDropFilter++;
      return false;
    }
    const need = len + MACRAW_HDR_LEN;
    const used = (this.rxWr - this.rxRdCommitted) & 0xffff;
    if (this.rxSize === 0 || used + need > this.rxSize) {
      this.rxDropFull++;
      return false;
    }
    const mask = this.rxSize - 1;
    let hdr = need;
    if (this.corruptNextHeader >= 0) {
      hdr = this.corruptNextHeader & 0xffff;
      this.corruptNextHeader = -1;
    }
    const m = this.rxMem;
    const w = this.rxWr;
    m[w & mask] = (hdr >>> 8) & 0xff;
    m[(w + 1) & mask] = hdr & 0xff;
    for (let i = 0; i < len; i++) m[(w + MACRAW_HDR_LEN + i) & mask] = buf[off + i];
    this.rxWr = (w + need) & 0xffff;
    this.rxFrames++;
    this.rxBytes += len;
    s[SN_IR] = s[SN_IR] | SN_IR_RECV;
    this.sync();
    return true;
  }

  /* ================= inspection helpers (tests) ================= */

  /** Sn_SR of socket 0. */
  status(): number {
    return this.sock[SN_SR];
  }

  /** Bytes waiting in socket 0's RX ring (Sn_RX_RSR). */
  rxUsed(): number {
    return (this.rxWr - this.rxRdCommitted) & 0xffff;
  }

  /** Socket 0's ring sizes as latched at OPEN. */
  rxBufSize(): number {
    return this.rxSize;
  }

  txBufSize(): number {
    return this.txSize;
  }

  /** Socket 0's internal write pointer (Sn_RX_WR). */
  rxWritePtr(): number {
    return this.rxWr;
  }

  /** Socket 0's Sn_TX_RD. */
  txReadPtr(): number {
    return this.txRd;
  }
}

/** Read-only view of a W5500 block register for tests: BSB + offset. */
export function mockPeek(m: W5500Mock, bsb: number, a: number): number {
  if (bsb === BSB_COMMON) return m.common[a];
  if (bsb === BSB_S0_REG) return m.sock[a];
  return 0;
}
