/*
 * regs.ts — every ENC28J60 constant in one place: SPI opcodes, control
 * register addresses (banked), bit positions, PHY registers, status
 * vector layouts and the errata the driver works around.
 *
 * Place in the packet path: below drivers/enc28j60/driver.ts (the
 * NetDriver) and drivers/enc28j60/mock.ts (the register-level model).
 * Source: Microchip ENC28J60 data sheet DS39662E (section and table
 * numbers below) and the Rev. B7 silicon errata DS80349C.
 *
 * Register encoding used here: bits 4..0 = the 5-bit address sent in the
 * opcode byte, bits 6..5 = bank (ECON1.BSEL1:BSEL0), bit 7 = "MAC/MII
 * register" (RCR clocks a dummy byte before the data, DS39662 §4.2.1,
 * Figure 4-4). Addresses 0x1B..0x1F (EIE, EIR, ESTAT, ECON2, ECON1) are
 * present in every bank (Table 3-1); their bank bits are ignored.
 */

/* ---- SPI instruction set (DS39662 Table 4-1): 3-bit opcode + 5-bit argument ---- */
export const OP_RCR = 0x00; // 000a aaaa  Read Control Register
export const OP_RBM = 0x3a; // 0011 1010  Read Buffer Memory
export const OP_WCR = 0x40; // 010a aaaa  Write Control Register
export const OP_WBM = 0x7a; // 0111 1010  Write Buffer Memory
export const OP_BFS = 0x80; // 100a aaaa  Bit Field Set (ETH registers only)
export const OP_BFC = 0xa0; // 101a aaaa  Bit Field Clear (ETH registers only)
export const OP_SRC = 0xff; // 1111 1111  System Reset Command (soft reset)
/** argument field of RBM/WBM: the constant 11010b */
export const ARG_BM = 0x1a;

export const ADDR_MASK = 0x1f;
export const BANK_SHIFT = 5;
export const BANK_MASK = 0x60;
/** MAC/MII register flag: RCR returns a dummy byte first */
export const MACMII = 0x80;
/** first common (all-bank) register address */
export const COMMON_FIRST = 0x1b;

/* ---- common registers, every bank (DS39662 Table 3-1) ---- */
export const EIE = 0x1b;
export const EIR = 0x1c;
export const ESTAT = 0x1d;
export const ECON2 = 0x1e;
export const ECON1 = 0x1f;

/* ---- bank 0 (Table 3-1): buffer pointers ---- */
export const ERDPTL = 0x00;
export const ERDPTH = 0x01;
export const EWRPTL = 0x02;
export const EWRPTH = 0x03;
export const ETXSTL = 0x04;
export const ETXSTH = 0x05;
export const ETXNDL = 0x06;
export const ETXNDH = 0x07;
export const ERXSTL = 0x08;
export const ERXSTH = 0x09;
export const ERXNDL = 0x0a;
export const ERXNDH = 0x0b;
export const ERXRDPTL = 0x0c;
export const ERXRDPTH = 0x0d;
export const ERXWRPTL = 0x0e;
export const ERXWRPTH = 0x0f;
export const EDMASTL = 0x10;
export const EDMASTH = 0x11;
export const EDMANDL = 0x12;
export const EDMANDH = 0x13;
export const EDMADSTL = 0x14;
export const EDMADSTH = 0x15;
export const EDMACSL = 0x16;
export const EDMACSH = 0x17;

/* ---- bank 1: filters, packet count ---- */
export const EHT0 = 0x20 | 0x00;
export const EPMM0 = 0x20 | 0x08;
export const EPMCSL = 0x20 | 0x10;
export const EPMCSH = 0x20 | 0x11;
export const EPMOL = 0x20 | 0x14;
export const EPMOH = 0x20 | 0x15;
export const ERXFCON = 0x20 | 0x18;
export const EPKTCNT = 0x20 | 0x19;

/* ---- bank 2: MAC and MII (all MAC/MII: dummy byte on RCR) ---- */
export const MACON1 = MACMII | 0x40 | 0x00;
export const MACON3 = MACMII | 0x40 | 0x02;
export const MACON4 = MACMII | 0x40 | 0x03;
export const MABBIPG = MACMII | 0x40 | 0x04;
export const MAIPGL = MACMII | 0x40 | 0x06;
export const MAIPGH = MACMII | 0x40 | 0x07;
export const MACLCON1 = MACMII | 0x40 | 0x08;
export const MACLCON2 = MACMII | 0x40 | 0x09;
export const MAMXFLL = MACMII | 0x40 | 0x0a;
export const MAMXFLH = MACMII | 0x40 | 0x0b;
export const MICMD = MACMII | 0x40 | 0x12;
export const MIREGADR = MACMII | 0x40 | 0x14;
export const MIWRL = MACMII | 0x40 | 0x16;
export const MIWRH = MACMII | 0x40 | 0x17;
export const MIRDL = MACMII | 0x40 | 0x18;
export const MIRDH = MACMII | 0x40 | 0x19;

/* ---- bank 3: MAC address (note the byte order, §6.5 / Table 3-1), MISTAT, EREVID ---- */
/** MAADR1 holds the FIRST byte of the MAC address (the one sent first on the wire). */
export const MAADR5 = MACMII | 0x60 | 0x00;
export const MAADR6 = MACMII | 0x60 | 0x01;
export const MAADR3 = MACMII | 0x60 | 0x02;
export const MAADR4 = MACMII | 0x60 | 0x03;
export const MAADR1 = MACMII | 0x60 | 0x04;
export const MAADR2 = MACMII | 0x60 | 0x05;
export const EBSTSD = 0x60 | 0x06;
export const EBSTCON = 0x60 | 0x07;
export const EBSTCSL = 0x60 | 0x08;
export const EBSTCSH = 0x60 | 0x09;
export const MISTAT = MACMII | 0x60 | 0x0a;
export const EREVID = 0x60 | 0x12;
export const ECOCON = 0x60 | 0x15;
export const EFLOCON = 0x60 | 0x17;
export const EPAUSL = 0x60 | 0x18;
export const EPAUSH = 0x60 | 0x19;
/** EREVID value of silicon revision B7 (DS80349) */
export const EREVID_B7 = 0x06;

/** Register addresses of MAADR1..MAADR6 in MAC byte order: mac[i] goes to MAADR_ORDER[i]. */
export const MAADR_ORDER0 = MAADR1;
export const MAADR_ORDER1 = MAADR2;
export const MAADR_ORDER2 = MAADR3;
export const MAADR_ORDER3 = MAADR4;
export const MAADR_ORDER4 = MAADR5;
export const MAADR_ORDER5 = MAADR6;

/* ---- EIE (Register 12-2) ---- */
export const EIE_INTIE = 0x80;
export const EIE_PKTIE = 0x40;
export const EIE_DMAIE = 0x20;
export const EIE_LINKIE = 0x10;
export const EIE_TXIE = 0x08;
export const EIE_TXERIE = 0x02;
export const EIE_RXERIE = 0x01;

/* ---- EIR (Register 12-3) ---- */
export const EIR_PKTIF = 0x40;
export const EIR_DMAIF = 0x20;
export const EIR_LINKIF = 0x10;
export const EIR_TXIF = 0x08;
export const EIR_TXERIF = 0x02;
export const EIR_RXERIF = 0x01;

/* ---- ESTAT (Register 12-1) ---- */
export const ESTAT_INT = 0x80;
export const ESTAT_BUFER = 0x40;
export const ESTAT_LATECOL = 0x10;
export const ESTAT_RXBUSY = 0x04;
export const ESTAT_TXABRT = 0x02;
export const ESTAT_CLKRDY = 0x01;

/* ---- ECON2 (Register 3-2) ---- */
export const ECON2_AUTOINC = 0x80;
export const ECON2_PKTDEC = 0x40;
export const ECON2_PWRSV = 0x20;
export const ECON2_VRPS = 0x08;

/* ---- ECON1 (Register 3-1) ---- */
export const ECON1_TXRST = 0x80;
export const ECON1_RXRST = 0x40;
export const ECON1_DMAST = 0x20;
export const ECON1_CSUMEN = 0x10;
export const ECON1_TXRTS = 0x08;
export const ECON1_RXEN = 0x04;
export const ECON1_BSEL1 = 0x02;
export const ECON1_BSEL0 = 0x01;
export const ECON1_BSEL = 0x03;

/* ---- ERXFCON (Register 8-1) ---- */
export const ERXFCON_UCEN = 0x80;
export const ERXFCON_ANDOR = 0x40;
export const ERXFCON_CRCEN = 0x20;
export const ERXFCON_PMEN = 0x10;
export const ERXFCON_MPEN = 0x08;
export const ERXFCON_HTEN = 0x04;
export const ERXFCON_MCEN = 0x02;
export const ERXFCON_BCEN = 0x01;

/* ---- MACON1 (Register 6-1) ---- */
export const MACON1_TXPAUS = 0x08;
export const MACON1_RXPAUS = 0x04;
export const MACON1_PASSALL = 0x02;
export const MACON1_MARXEN = 0x01;

/* ---- MACON3 (Register 6-2) ---- */
export const MACON3_PADCFG2 = 0x80;
export const MACON3_PADCFG1 = 0x40;
export const MACON3_PADCFG0 = 0x20;
export const MACON3_PADCFG_MASK = 0xe0;
export const MACON3_TXCRCEN = 0x10;
export const MACON3_PHDREN = 0x08;
export const MACON3_HFRMEN = 0x04;
export const MACON3_FRMLNEN = 0x02;
export const MACON3_FULDPX = 0x01;

/* ---- MACON4 (Register 6-3) ---- */
export const MACON4_DEFER = 0x40;
export const MACON4_BPEN = 0x20;
export const MACON4_NOBKOFF = 0x10;

/* ---- MICMD / MISTAT (Registers 3-3, 3-4) ---- */
export const MICMD_MIISCAN = 0x02;
export const MICMD_MIIRD = 0x01;
export const MISTAT_NVALID = 0x04;
export const MISTAT_SCAN = 0x02;
export const MISTAT_BUSY = 0x01;

/* ---- PHY registers, 16 bits, through MII (Table 3-3) ---- */
export const PHCON1 = 0x00;
export const PHSTAT1 = 0x01;
export const PHID1 = 0x02;
export const PHID2 = 0x03;
export const PHCON2 = 0x10;
export const PHSTAT2 = 0x11;
export const PHIE = 0x12;
export const PHIR = 0x13;
export const PHLCON = 0x14;
export const PHID1_VALUE = 0x0083;
export const PHID2_VALUE = 0x1400;

export const PHCON1_PRST = 0x8000;
export const PHCON1_PLOOPBK = 0x4000;
export const PHCON1_PPWRSV = 0x0800;
export const PHCON1_PDPXMD = 0x0100;
export const PHSTAT1_LLSTAT = 0x0004;
export const PHCON2_FRCLNK = 0x4000;
export const PHCON2_TXDIS = 0x2000;
export const PHCON2_JABBER = 0x0400;
export const PHCON2_HDLDIS = 0x0100;
export const PHSTAT2_TXSTAT = 0x2000;
export const PHSTAT2_RXSTAT = 0x1000;
export const PHSTAT2_COLSTAT = 0x0800;
export const PHSTAT2_LSTAT = 0x0400;
export const PHSTAT2_DPXSTAT = 0x0200;
export const PHIE_PLNKIE = 0x0010;
export const PHIE_PGEIE = 0x0002;
export const PHIR_PLNKIF = 0x0010;
export const PHIR_PGIF = 0x0004;

/* ---- buffer memory (§3.2) ---- */
export const BUF_SIZE = 0x2000;
export const BUF_END = 0x1fff;

/* ---- receive: next packet pointer + receive status vector (§7.2.2, Table 7-3) ---- */
/** bytes before the frame: 2 next-packet pointer (LE) + 4 status vector */
export const RX_HDR_LEN = 6;
/** status vector byte 2 (bits 23..16) */
export const RSV2_LONG_DROP = 0x01; // bit 16 long event / drop event
export const RSV2_CARRIER = 0x04; // bit 18 carrier event previously seen
export const RSV2_CRC_ERR = 0x10; // bit 20 CRC error
export const RSV2_LEN_CHECK = 0x20; // bit 21 length check error
export const RSV2_LEN_RANGE = 0x40; // bit 22 length out of range
export const RSV2_RX_OK = 0x80; // bit 23 received OK
/** status vector byte 3 (bits 31..24) */
export const RSV3_MULTICAST = 0x01; // bit 24
export const RSV3_BROADCAST = 0x02; // bit 25
export const RSV3_DRIBBLE = 0x04; // bit 26
export const RSV3_CONTROL = 0x08; // bit 27
/** Ethernet FCS appended to every received frame and counted in the byte count */
export const ETH_FCS_LEN = 4;

/* ---- transmit: per-packet control byte (§7.1, Figure 7-1) ---- */
export const TXCTL_PHUGEEN = 0x08;
export const TXCTL_PPADEN = 0x04;
export const TXCTL_PCRCEN = 0x02;
export const TXCTL_POVERRIDE = 0x01;
/** transmit status vector written at ETXND+1 (§7.1, Table 7-1) */
export const TSV_LEN = 7;
export const TSV2_CRC_ERR = 0x10; // bit 20
export const TSV2_LEN_CHECK = 0x20; // bit 21
export const TSV2_LEN_RANGE = 0x40; // bit 22
export const TSV2_DONE = 0x80; // bit 23 transmit done
export const TSV3_MULTICAST = 0x01; // bit 24
export const TSV3_BROADCAST = 0x02; // bit 25
export const TSV3_LATE_COL = 0x20; // bit 29
export const TSV3_GIANT = 0x40; // bit 30
/** minimum frame without FCS when padding (PADCFG = 001/011/111) */
export const ETH_MIN_NOFCS = 60;

/* ---- the layout this driver programs (§6.1): RX ring at 0 (errata 5), TX area after it ---- */
export const RX_START = 0x0000;
/** odd, so the ring holds an even number of bytes and ERXRDPT may sit on ERXND (errata 14) */
export const RX_END = 0x19ff;
export const TX_START = 0x1a00;
/** largest frame accepted/sent (MAMXFL, §6.5 step 5): 1518 with FCS */
export const MAX_FRAME = 1518;
/** MABBIPG back-to-back gap: 0x15 full duplex, 0x12 half duplex (§6.5 steps 6) */
export const MABBIPG_FD = 0x15;
export const MABBIPG_HD = 0x12;
/** MAIPGL 0x12, MAIPGH 0x0C (half duplex only) (§6.5 step 7) */
export const MAIPGL_VALUE = 0x12;
export const MAIPGH_VALUE = 0x0c;
