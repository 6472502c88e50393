/*
 * regs.ts — every WIZnet W5500 constant the driver (driver.ts) and the
 * behavioural model (mock.ts) use, in one place. Section numbers refer to
 * the W5500 Datasheet Version 1.0.9 (WIZnet):
 *   §2.2   SPI Frame: 16-bit Offset Address (address phase, MSB first),
 *          8-bit Control Phase, N-byte Data Phase
 *   §2.2.2 Control Phase: BSB[4:0] (bits 7..3), RWB (bit 2), OM[1:0] (bits 1..0)
 *   §2.3   Variable Length Data Mode (VDM, OM = 00): the frame lasts while SCSn is low
 *   §2.4   Fixed Length Data Mode (FDM, OM = 01/10/11: 1/2/4 data bytes, SCSn tied low)
 *   §3.1   Common Register Block     §3.2 Socket Register Block
 *   §3.3   Memory (TX/RX buffer blocks: 16 KB each, shared by the 8 sockets)
 *   §4.1   Common Registers          §4.2 Socket Registers
 * Place in the packet path: none (constants only).
 */

/* ---- §2.2.2 Control Phase ---- */
/** BSB occupies control bits 7..3: control = (bsb << 3) | rwb | om */
export const CTRL_BSB_SHIFT = 3;
/** RWB = 1: write access; 0: read access */
export const CTRL_RWB_WRITE = 0x04;
export const CTRL_RWB_READ = 0x00;
export const CTRL_OM_MASK = 0x03;
/** Variable Length Data Mode: data phase ends when SCSn goes high (§2.3) */
export const OM_VDM = 0x00;
/** Fixed Length Data Mode, 1 / 2 / 4 data bytes (§2.4) */
export const OM_FDM1 = 0x01;
export const OM_FDM2 = 0x02;
export const OM_FDM4 = 0x03;
/** address (2) + control (1) bytes in front of every data phase */
export const SPI_HDR_LEN = 3;

/* ---- §2.2.2 Table 3: block select bits ---- */
export const BSB_COMMON = 0x00;
/** socket n register block: BSB = 4n + 1 */
export function bsbSockReg(n: number): number {
  return n * 4 + 1;
}
/** socket n TX buffer block: BSB = 4n + 2 */
export function bsbSockTx(n: number): number {
  return n * 4 + 2;
}
/** socket n RX buffer block: BSB = 4n + 3 */
export function bsbSockRx(n: number): number {
  return n * 4 + 3;
}
export const BSB_S0_REG = 0x01;
export const BSB_S0_TX = 0x02;
export const BSB_S0_RX = 0x03;
export const W5500_SOCKETS = 8;

/* ---- §3.1 / §4.1 Common Register Block (offsets) ---- */
export const MR = 0x0000;
export const GAR = 0x0001; // 4 bytes
export const SUBR = 0x0005; // 4 bytes
export const SHAR = 0x0009; // 6 bytes, source MAC
export const SIPR = 0x000f; // 4 bytes
export const INTLEVEL = 0x0013; // 2 bytes
export const IR = 0x0015;
export const IMR = 0x0016;
export const SIR = 0x0017;
export const SIMR = 0x0018;
export const RTR = 0x0019; // 2 bytes
export const RCR = 0x001b;
export const PTIMER = 0x001c;
export const PMAGIC = 0x001d;
export const PHAR = 0x001e; // 6 bytes
export const PSID = 0x0024; // 2 bytes
export const PMRU = 0x0026; // 2 bytes
export const UIPR = 0x0028; // 4 bytes
export const UPORTR = 0x002c; // 2 bytes
export const PHYCFGR = 0x002e;
export const VERSIONR = 0x0039;
/** size of the modelled common block (offsets beyond read as 0) */
export const COMMON_BLOCK_LEN = 0x40;

/* MR bits (§4.1) */
export const MR_RST = 0x80;
export const MR_WOL = 0x20;
export const MR_PB = 0x10;
export const MR_PPPOE = 0x08;
export const MR_FARP = 0x02;

/* IR bits (§4.1) */
export const IR_CONFLICT = 0x80;
export const IR_UNREACH = 0x40;
export const IR_PPPOE = 0x20;
export const IR_MP = 0x10;

/* PHYCFGR bits (§4.1): RST, OPMD, OPMDC[2:0], DPX, SPD, LNK */
export const PHYCFGR_RST = 0x80;
export const PHYCFGR_OPMD = 0x40;
export const PHYCFGR_OPMDC_MASK = 0x38;
/** OPMDC = 111: all capable, auto-negotiation enabled (reset value) */
export const PHYCFGR_OPMDC_ALLAN = 0x38;
export const PHYCFGR_DPX = 0x04;
export const PHYCFGR_SPD = 0x02;
export const PHYCFGR_LNK = 0x01;

/** VERSIONR always reads 0x04 on a W5500 (§4.1) */
export const W5500_VERSION = 0x04;

/* ---- §3.2 / §4.2 Socket Register Block (offsets) ---- */
export const SN_MR = 0x0000;
export const SN_CR = 0x0001;
export const SN_IR = 0x0002;
export const SN_SR = 0x0003;
export const SN_PORT = 0x0004; // 2 bytes
export const SN_DHAR = 0x0006; // 6 bytes
export const SN_DIPR = 0x000c; // 4 bytes
export const SN_DPORT = 0x0010; // 2 bytes
export const SN_MSSR = 0x0012; // 2 bytes
export const SN_TOS = 0x0015;
export const SN_TTL = 0x0016;
export const SN_RXBUF_SIZE = 0x001e;
export const SN_TXBUF_SIZE = 0x001f;
export const SN_TX_FSR = 0x0020; // 2 bytes, read only
export const SN_TX_RD = 0x0022; // 2 bytes, read only
export const SN_TX_WR = 0x0024; // 2 bytes
export const SN_RX_RSR = 0x0026; // 2 bytes, read only
export const SN_RX_RD = 0x0028; // 2 bytes
export const SN_RX_WR = 0x002a; // 2 bytes, read only
export const SN_IMR = 0x002c;
export const SN_FRAG = 0x002d; // 2 bytes
export const SN_KPALVTR = 0x002f;
/** size of the modelled socket block */
export const SOCK_BLOCK_LEN = 0x30;

/* Sn_MR bits (§4.2): in MACRAW mode bit 7 is MFEN, bit 6 BCASTB, bit 5 MMB, bit 4 MIP6B */
export const SN_MR_MFEN = 0x80;
export const SN_MR_BCASTB = 0x40;
export const SN_MR_MMB = 0x20;
export const SN_MR_MIP6B = 0x10;
export const SN_MR_P_MASK = 0x0f;
export const SN_MR_CLOSE = 0x00;
export const SN_MR_TCP = 0x01;
export const SN_MR_UDP = 0x02;
/** P[3:0] = 0100: MACRAW, valid on socket 0 only */
export const SN_MR_MACRAW = 0x04;

/* Sn_CR commands (§4.2): the chip clears Sn_CR to 0x00 once it has accepted the command */
export const SN_CR_OPEN = 0x01;
export const SN_CR_LISTEN = 0x02;
export const SN_CR_CONNECT = 0x04;
export const SN_CR_DISCON = 0x08;
export const SN_CR_CLOSE = 0x10;
export const SN_CR_SEND = 0x20;
export const SN_CR_SEND_MAC = 0x21;
export const SN_CR_SEND_KEEP = 0x22;
export const SN_CR_RECV = 0x40;

/* Sn_IR bits (§4.2): write 1 to clear */
export const SN_IR_SEND_OK = 0x10;
export const SN_IR_TIMEOUT = 0x08;
export const SN_IR_RECV = 0x04;
export const SN_IR_DISCON = 0x02;
export const SN_IR_CON = 0x01;

/* Sn_SR values (§4.2) */
export const SOCK_CLOSED = 0x00;
export const SOCK_INIT = 0x13;
export const SOCK_LISTEN = 0x14;
export const SOCK_ESTABLISHED = 0x17;
export const SOCK_UDP = 0x22;
export const SOCK_MACRAW = 0x42;

/* ---- §3.3 Memory ---- */
/** total TX memory and total RX memory (bytes), shared by the 8 sockets */
export const W5500_TX_MEM = 16384;
export const W5500_RX_MEM = 16384;
/** Sn_RXBUF_SIZE / Sn_TXBUF_SIZE reset value: 2 KB each */
export const SN_BUF_SIZE_DEFAULT_KB = 2;
/** MACRAW: each received frame is preceded by a 2-byte big-endian length that counts itself */
export const MACRAW_HDR_LEN = 2;
/** largest Ethernet frame without FCS the model stores/sends */
export const ETH_MAX_FRAME = 1514;
/** the MAC pads short frames to 60 bytes (+FCS) on transmit */
export const ETH_MIN_FRAME = 60;

/** Valid buffer sizes in KB (§4.2 Sn_RXBUF_SIZE): 0, 1, 2, 4, 8, 16. */
export function validBufKb(kb: number): boolean {
  return kb === 0 || kb === 1 || kb === 2 || kb === 4 || kb === 8 || kb === 16;
}

/** Control byte for a frame: block, write flag, VDM. */
export function ctrlByte(bsb: number, write: boolean): number {
  return ((bsb << CTRL_BSB_SHIFT) | (write ? CTRL_RWB_WRITE : CTRL_RWB_READ) | OM_VDM) & 0xff;
}
