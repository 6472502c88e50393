/*
 * enc28j60_mock.test.ts — the ENC28J60 model at the SPI level, by raw
 * opcode bytes (DS39662 Table 4-1): framing, banks, the MAC/MII dummy
 * byte, buffer memory auto-increment and receive-ring wrap, PKTDEC, the
 * transmit path (padding, status vector), the MII/PHY, soft reset, and
 * the modelled errata.
 */
import { describe, it, expect } from 'vitest';
import { Enc28j60Mock, connectBackToBack, WirePeer } from '../../drivers/enc28j60/mock';
import {
  OP_RCR, OP_WCR, OP_BFS, OP_BFC, OP_RBM, OP_WBM, OP_SRC,
  ECON1, ECON2, EIR, ESTAT, EIE, ECON1_TXRTS, ECON1_TXRST, ECON1_RXEN, ECON2_PKTDEC, ECON2_AUTOINC,
  EIR_PKTIF, EIR_TXIF, EIR_RXERIF, EIE_INTIE, EIE_PKTIE, ESTAT_CLKRDY,
  ERDPTL, ERDPTH, EWRPTL, EWRPTH, ETXSTL, ETXSTH, ETXNDL, ETXNDH, ERXSTL, ERXSTH, ERXNDL, ERXNDH,
  ERXRDPTL, ERXRDPTH, EPKTCNT, ERXFCON, MACON1, MACON1_MARXEN, MACON3, MACON3_PADCFG0, MACON3_TXCRCEN,
  MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6, MICMD, MICMD_MIIRD, MIREGADR, MIRDL, MIRDH, MIWRL, MIWRH,
  MISTAT, MISTAT_BUSY, EREVID, EREVID_B7, PHID1, PHID1_VALUE, PHSTAT2, PHSTAT2_LSTAT, PHCON2,
  RSV2_RX_OK, RSV3_BROADCAST, TSV2_DONE, TSV3_BROADCAST, TXCTL_POVERRIDE, TXCTL_PPADEN, TXCTL_PCRCEN,
} from '../../drivers/enc28j60/regs';

/** A minimal SPI master for the tests (allocates: test code). */
class Master {
  constructor(readonly c: Enc28j60Mock) {}
  private xfer(bytes: number[]): number[] {
    const tx = new Uint8Array(bytes);
    const rx = new Uint8Array(bytes.length);
    this.c.select();
    this.c.transfer(tx, 0, rx, 0, tx.length);
    this.c.deselect();
    return Array.from(rx);
  }
  bank(reg: number): void {
    if ((reg & 0x1f) >= 0x1b) return;
    this.xfer([OP_BFC | ECON1, 0x03]);
    this.xfer([OP_BFS | ECON1, (reg >>> 5) & 3]);
  }
  rcrRaw(reg: number, n: number): number[] {
    this.bank(reg);
    const b = [OP_RCR | (reg & 0x1f)];
    for (let i = 1; i < n; i++) b.push(0);
    return this.xfer(b);
  }
  rcr(reg: number): number {
    const mac = (reg & 0x80) !== 0;
    const r = this.rcrRaw(reg, mac ? 3 : 2);
    return r[r.length - 1];
  }
  wcr(reg: number, v: number): void {
    this.bank(reg);
    this.xfer([OP_WCR | (reg & 0x1f), v]);
  }
  w16(l: number, h: number, v: number): void {
    this.wcr(l, v & 0xff);
    this.wcr(h, v >>> 8);
  }
  bfs(reg: number, m: number): void {
    this.bank(reg);
    this.xfer([OP_BFS | (reg & 0x1f), m]);
  }
  bfc(reg: number, m: number): void {
    this.bank(reg);
    this.xfer([OP_BFC | (reg & 0x1f), m]);
  }
  rbm(n: number): number[] {
    const b = [OP_RBM];
    for (let i = 0; i < n; i++) b.push(0);
    return this.xfer(b).slice(1);
  }
  wbm(data: number[]): void {
    this.xfer([OP_WBM].concat(data));
  }
  src(): void {
    this.xfer([OP_SRC]);
  }
  phyRead(r: number): number {
    this.wcr(MIREGADR, r);
    this.wcr(MICMD, MICMD_MIIRD);
    let polls = 0;
    while ((this.rcr(MISTAT) & MISTAT_BUSY) !== 0) polls++;
    expect(polls).toBeGreaterThan(0);
    this.wcr(MICMD, 0);
    return this.rcr(MIRDL) | (this.rcr(MIRDH) << 8);
  }
  phyWrite(r: number, v: number): void {
    this.wcr(MIREGADR, r);
    this.wcr(MIWRL, v & 0xff);
    this.wcr(MIWRH, v >>> 8);
    while ((this.rcr(MISTAT) & MISTAT_BUSY) !== 0);
  }
}

function ready(): { c: Enc28j60Mock; m: Master } {
  const c = new Enc28j60Mock('t');
  const m = new Master(c);
  m.src();
  let n = 0;
  while ((m.rcr(ESTAT) & ESTAT_CLKRDY) === 0 && n < 100) n++;
  expect(m.rcr(ESTAT) & ESTAT_CLKRDY).toBe(ESTAT_CLKRDY);
  return { c, m };
}

function enableRx(m: Master, mac: number[]): void {
  m.w16(ERXSTL, ERXSTH, 0);
  m.w16(ERXNDL, ERXNDH, 0x00ff); // a tiny 256-byte ring to wrap quickly
  m.w16(ERXRDPTL, ERXRDPTH, 0x00ff);
  m.wcr(MACON1, MACON1_MARXEN);
  const regs = [MAADR1, MAADR2, MAADR3, MAADR4, MAADR5, MAADR6];
  for (let i = 0; i < 6; i++) m.wcr(regs[i], mac[i]);
  m.wcr(EIE, EIE_INTIE | EIE_PKTIE);
  m.bfs(ECON1, ECON1_RXEN);
}

const MAC = [0x02, 1, 2, 3, 4, 5];

function frame(dst: number[], len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < 6; i++) f[i] = dst[i];
  for (let i = 6; i < len; i++) f[i] = (i * 3 + seed) & 0xff;
  return f;
}

describe('enc28j60 model: SPI framing and registers', () => {
  it('counts every SPI byte and CS assertion', () => {
    const c = new Enc28j60Mock('t');
    const m = new Master(c);
    m.rcr(ESTAT); // common: 2 bytes, no bank switch
    expect(c.bytes).toBe(2);
    expect(c.selects).toBe(1);
    m.rcr(MACON3); // bank switch (2+2) + 3 with the dummy byte
    expect(c.bytes).toBe(2 + 4 + 3);
  });

  it('MAC/MII registers shift a dummy byte before the data; ETH registers do not', () => {
    const { m } = ready();
    m.wcr(MACON3, 0x33);
    const r = m.rcrRaw(MACON3, 3);
    expect(r).toEqual([0, 0, 0x33]);
    m.wcr(EREVID, 0x55); // read-only
    const e = m.rcrRaw(EREVID, 2);
    expect(e[1]).toBe(EREVID_B7);
  });

  it('banked registers are distinct; the common ones are reachable from every bank', () => {
    const { m, c } = ready();
    m.wcr(ERDPTL, 0x11); // bank 0 address 0x00
    m.wcr(0x20 | 0x00, 0x22); // bank 1 address 0x00 (EHT0)
    expect(m.rcr(ERDPTL)).toBe(0x11);
    expect(m.rcr(0x20)).toBe(0x22);
    for (let bank = 0; bank < 4; bank++) {
      m.bfc(ECON1, 3);
      m.bfs(ECON1, bank);
      m.wcr(EIE, 0x40 | bank);
      expect(c.peekReg(EIE)).toBe(0x40 | bank);
    }
  });

  it('BFS/BFC on a MAC register is refused and counted', () => {
    const { m, c } = ready();
    m.wcr(MACON3, 0x10);
    m.bfs(MACON3, 0x01);
    expect(c.protocolErrors).toBe(1);
    expect(m.rcr(MACON3)).toBe(0x10);
  });

  it('soft reset restores defaults and CLKRDY sets after the start-up time', () => {
    const c = new Enc28j60Mock('t');
    c.clkReadyAfterReads = 3;
    const m = new Master(c);
    m.src();
    expect(m.rcr(ESTAT) & ESTAT_CLKRDY).toBe(0);
    expect(m.rcr(ESTAT) & ESTAT_CLKRDY).toBe(0);
    expect(m.rcr(ESTAT) & ESTAT_CLKRDY).toBe(ESTAT_CLKRDY);
    expect(m.rcr(ECON2) & ECON2_AUTOINC).toBe(ECON2_AUTOINC);
    expect(m.rcr(ERXNDL) | (m.rcr(ERXNDH) << 8)).toBe(0x1fff);
    expect(m.rcr(ERXFCON)).toBe(0xa1);
  });
});

describe('enc28j60 model: buffer memory', () => {
  it('WBM/RBM auto-increment; RBM wraps ERXND → ERXST', () => {
    const { m } = ready();
    m.w16(ERXSTL, ERXSTH, 0);
    m.w16(ERXNDL, ERXNDH, 0x00ff);
    m.w16(EWRPTL, EWRPTH, 0x00fe);
    m.wbm([1, 2]);
    m.w16(EWRPTL, EWRPTH, 0x0000);
    m.wbm([3, 4]);
    expect(m.rcr(EWRPTL)).toBe(2);
    m.w16(ERDPTL, ERDPTH, 0x00fe);
    expect(m.rbm(4)).toEqual([1, 2, 3, 4]);
    expect(m.rcr(ERDPTL) | (m.rcr(ERDPTH) << 8)).toBe(2);
    // without AUTOINC the pointer stays
    m.bfc(ECON2, ECON2_AUTOINC);
    m.w16(ERDPTL, ERDPTH, 0x00fe);
    expect(m.rbm(3)).toEqual([1, 1, 1]);
  });
});

describe('enc28j60 model: receive', () => {
  it('writes next pointer + status vector + frame + FCS, counts EPKTCNT, raises INT, PKTDEC', () => {
    const { m, c } = ready();
    enableRx(m, MAC);
    expect(c.asserted()).toBe(false);
    const f = frame(MAC, 61, 0);
    expect(c.receiveFromWire(f, 0, f.length)).toBe(true);
    expect(m.rcr(EPKTCNT)).toBe(1);
    expect(m.rcr(EIR) & EIR_PKTIF).toBe(EIR_PKTIF);
    expect(c.asserted()).toBe(true);
    m.w16(ERDPTL, ERDPTH, 0);
    const h = m.rbm(6);
    const next = h[0] | (h[1] << 8);
    expect(next).toBe(6 + 61 + 4 + 1); // padded to even
    expect(h[2] | (h[3] << 8)).toBe(65);
    expect(h[4] & RSV2_RX_OK).toBe(RSV2_RX_OK);
    const data = m.rbm(61);
    expect(data).toEqual(Array.from(f));
    m.bfs(ECON2, ECON2_PKTDEC);
    expect(m.rcr(EPKTCNT)).toBe(0);
    expect(m.rcr(EIR) & EIR_PKTIF).toBe(0);
    expect(c.asserted()).toBe(false);
    expect(m.rcr(ECON2) & ECON2_PKTDEC).toBe(0); // self-clearing
    m.bfs(ECON2, ECON2_PKTDEC);
    expect(c.pktdecUnderflows).toBe(1);
  });

  it('short frames are padded to 60; broadcast flagged; other unicast filtered', () => {
    const { m, c } = ready();
    enableRx(m, MAC);
    const bc = frame([255, 255, 255, 255, 255, 255], 42, 1);
    expect(c.receiveFromWire(bc, 0, 42)).toBe(true);
    m.w16(ERDPTL, ERDPTH, 0);
    const h = m.rbm(6);
    expect(h[2] | (h[3] << 8)).toBe(64);
    expect(h[5] & RSV3_BROADCAST).toBe(RSV3_BROADCAST);
    expect(c.receiveFromWire(frame([2, 9, 9, 9, 9, 9], 60, 0), 0, 60)).toBe(false);
    expect(c.rxFilterDrops).toBe(1);
    // promiscuous when no filter is enabled
    m.wcr(ERXFCON, 0);
    expect(c.receiveFromWire(frame([2, 9, 9, 9, 9, 9], 60, 0), 0, 60)).toBe(true);
  });

  it('the ring fills up to ERXRDPT, then overruns (RXERIF) until space is freed; frames wrap', () => {
    const { m, c } = ready();
    enableRx(m, MAC);
    // 256-byte ring, each 100-byte frame takes 110
    expect(c.receiveFromWire(frame(MAC, 100, 1), 0, 100)).toBe(true);
    expect(c.receiveFromWire(frame(MAC, 100, 2), 0, 100)).toBe(true);
    expect(c.receiveFromWire(frame(MAC, 100, 3), 0, 100)).toBe(false);
    expect(c.rxOverruns).toBe(1);
    expect(m.rcr(EIR) & EIR_RXERIF).toBe(EIR_RXERIF);
    // free the first frame: ERXRDPT = next - 1 (odd)
    m.w16(ERXRDPTL, ERXRDPTH, 110 - 1);
    m.bfs(ECON2, ECON2_PKTDEC);
    expect(c.receiveFromWire(frame(MAC, 100, 4), 0, 100)).toBe(true);
    expect(c.rxWrapped).toBe(1);
    // read the wrapped frame at 220: header + data straddle 0x00ff
    m.w16(ERDPTL, ERDPTH, 220);
    const h = m.rbm(6);
    expect(h[0] | (h[1] << 8)).toBe((220 + 110) % 256);
    expect(m.rbm(100)).toEqual(Array.from(frame(MAC, 100, 4)));
    expect(c.evenRdptWrites).toBe(0);
  });

  it('errata 14: an even ERXRDPT is counted and corrupts the next packet pointer', () => {
    const { m, c } = ready();
    enableRx(m, MAC);
    m.w16(ERXRDPTL, ERXRDPTH, 0x00fe);
    expect(c.evenRdptWrites).toBe(1);
    expect(c.receiveFromWire(frame(MAC, 60, 0), 0, 60)).toBe(true);
    m.w16(ERDPTL, ERDPTH, 0);
    const h = m.rbm(2);
    expect((h[0] | (h[1] << 8)) & 1).toBe(1);
    expect(c.rdptErrataHits).toBeGreaterThan(0);
  });

  it('errata 5: ERXST != 0 loads 0000h into the write pointer', () => {
    const { m, c } = ready();
    m.w16(ERXSTL, ERXSTH, 0x0100);
    expect(c.erxstErrataHits).toBeGreaterThan(0);
    expect(c.wrPtr).toBe(0);
  });

  it('RXEN off drops and counts', () => {
    const { m, c } = ready();
    enableRx(m, MAC);
    m.bfc(ECON1, ECON1_RXEN);
    expect(c.receiveFromWire(frame(MAC, 60, 0), 0, 60)).toBe(false);
    expect(c.rxDisabledDrops).toBe(1);
  });
});

class Catch implements WirePeer {
  frames: number[][] = [];
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    this.frames.push(Array.from(buf.subarray(off, off + len)));
    return true;
  }
}

describe('enc28j60 model: transmit', () => {
  function load(m: Master, ctl: number, data: number[]): void {
    m.w16(ETXSTL, ETXSTH, 0x1a00);
    m.w16(EWRPTL, EWRPTH, 0x1a00);
    m.wbm([ctl].concat(data));
    m.w16(ETXNDL, ETXNDH, 0x1a00 + data.length);
  }

  it('TXRTS sends, pads to 60 per MACON3.PADCFG, writes the status vector, sets TXIF, clears TXRTS', () => {
    const { m, c } = ready();
    const w = new Catch();
    c.attachWire(w);
    m.wcr(MACON3, MACON3_PADCFG0 | MACON3_TXCRCEN);
    const data = Array.from(frame([255, 255, 255, 255, 255, 255], 42, 0));
    load(m, 0, data);
    m.bfs(ECON1, ECON1_TXRST);
    m.bfc(ECON1, ECON1_TXRST);
    m.bfs(ECON1, ECON1_TXRTS);
    expect(w.frames.length).toBe(1);
    expect(w.frames[0].length).toBe(60);
    expect(w.frames[0].slice(0, 42)).toEqual(data);
    expect(w.frames[0].slice(42)).toEqual(new Array(18).fill(0));
    expect(m.rcr(ECON1) & ECON1_TXRTS).toBe(0);
    expect(m.rcr(EIR) & EIR_TXIF).toBe(EIR_TXIF);
    const nd = 0x1a00 + 42;
    expect(c.peek(nd + 1) | (c.peek(nd + 2) << 8)).toBe(64);
    expect(c.peek(nd + 3) & TSV2_DONE).toBe(TSV2_DONE);
    expect(c.peek(nd + 4) & TSV3_BROADCAST).toBe(TSV3_BROADCAST);
    expect(c.txWithoutReset).toBe(0);
  });

  it('the per-packet control byte overrides MACON3; TXRTS without a TXRST pulse is counted (errata 12)', () => {
    const { m, c } = ready();
    const w = new Catch();
    c.attachWire(w);
    m.wcr(MACON3, MACON3_PADCFG0);
    load(m, TXCTL_POVERRIDE, Array.from(frame(MAC, 42, 0))); // override: no padding
    m.bfs(ECON1, ECON1_TXRTS);
    m.bfs(ECON1, ECON1_TXRTS); // already clear after the instant transmit: a second send
    expect(w.frames.map((f) => f.length)).toEqual([42, 42]);
    expect(c.txWithoutReset).toBe(1); // the second one had no TXRST before it
    load(m, TXCTL_POVERRIDE | TXCTL_PPADEN | TXCTL_PCRCEN, Array.from(frame(MAC, 42, 0)));
    m.bfs(ECON1, ECON1_TXRST);
    m.bfc(ECON1, ECON1_TXRST);
    m.bfs(ECON1, ECON1_TXRTS);
    expect(w.frames[2].length).toBe(60);
  });

  it('errata 12: a stalled TX logic keeps TXRTS set until TXRST is pulsed', () => {
    const { m, c } = ready();
    const w = new Catch();
    c.attachWire(w);
    load(m, 0, Array.from(frame(MAC, 60, 0)));
    c.stallTx();
    m.bfs(ECON1, ECON1_TXRTS);
    expect(m.rcr(ECON1) & ECON1_TXRTS).toBe(ECON1_TXRTS);
    expect(w.frames.length).toBe(0);
    m.bfs(ECON1, ECON1_TXRST);
    m.bfc(ECON1, ECON1_TXRST);
    expect(m.rcr(ECON1) & ECON1_TXRTS).toBe(0);
    m.bfs(ECON1, ECON1_TXRTS);
    expect(w.frames.length).toBe(1);
    expect(c.txResetPulses).toBe(1);
  });

  it('two chips back to back: what one sends the other receives', () => {
    const a = ready();
    const b = ready();
    connectBackToBack(a.c, b.c);
    enableRx(b.m, MAC);
    load(a.m, 0, Array.from(frame(MAC, 80, 5)));
    a.m.bfs(ECON1, ECON1_TXRST);
    a.m.bfc(ECON1, ECON1_TXRST);
    a.m.bfs(ECON1, ECON1_TXRTS);
    expect(b.m.rcr(EPKTCNT)).toBe(1);
    b.m.w16(ERDPTL, ERDPTH, 6);
    expect(b.m.rbm(80)).toEqual(Array.from(frame(MAC, 80, 5)));
  });
});

describe('enc28j60 model: PHY', () => {
  it('MII read/write with MISTAT.BUSY; PHID1, PHSTAT2.LSTAT, PHCON2', () => {
    const { m, c } = ready();
    expect(m.phyRead(PHID1)).toBe(PHID1_VALUE);
    expect(m.phyRead(PHSTAT2) & PHSTAT2_LSTAT).toBe(PHSTAT2_LSTAT);
    m.phyWrite(PHCON2, 0x0100);
    expect(m.phyRead(PHCON2)).toBe(0x0100);
    c.setLink(false);
    expect(m.phyRead(PHSTAT2) & PHSTAT2_LSTAT).toBe(0);
    // a frame on a dead cable is lost
    enableRx(m, MAC);
    expect(c.receiveFromWire(frame(MAC, 60, 0), 0, 60)).toBe(false);
    expect(c.rxNoLink).toBe(1);
  });
});
