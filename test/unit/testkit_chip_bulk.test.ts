/*
 * testkit_chip_bulk.test.ts — the chip models' bulk path for buffer-memory
 * bursts (Enc28j60Mock.bufBulk for RBM/WBM, W5500Mock.bufBulk for socket
 * 0's TX/RX buffer blocks) and their `nativeCopy` flag (drivers/spi.ts
 * burstCopy): a burst of N bytes in one transfer() must leave the chip
 * exactly as N transfers of one byte, and as the per-byte reference
 * (ENC28J60: readBufByte/writeBufByte; W5500: FDM1 frames, which still
 * take the per-byte data phase), byte for byte: the data clocked out, the
 * buffer memory, the pointers and every register. Covered: the ENC28J60
 * read-pointer wrap ERXND → ERXST (§7.2.3), the 8 KB wrap on writes,
 * AUTOINC off, the W5500 address wrap inside the socket buffer size and
 * a socket without memory. Then W5500Mock(memKb, txMemKb): a driver that
 * fits (rxKb 4, txKb 2) carries pings, one asking for more (rxKb 8) gets
 * no RX memory, counted in memTooSmall.
 */
import { describe, it, expect } from 'vitest';
import { Enc28j60Mock, connectBackToBack } from '../../drivers/enc28j60/mock';
import {
  OP_RCR, OP_WCR, OP_BFS, OP_BFC, OP_RBM, OP_WBM, OP_SRC, ECON1, ECON2, ECON2_AUTOINC, ESTAT, ESTAT_CLKRDY,
  ERDPTL, ERDPTH, EWRPTL, EWRPTH, ERXSTL, ERXSTH, ERXNDL, ERXNDH, BUF_SIZE,
} from '../../drivers/enc28j60/regs';
import { W5500Mock } from '../../drivers/w5500/mock';
import { attachW5500, W5500Options } from '../../drivers/w5500/driver';
import {
  BSB_COMMON, BSB_S0_REG, BSB_S0_TX, BSB_S0_RX, OM_FDM1, OM_FDM2, OM_FDM4, SN_MR, SN_CR, SN_RXBUF_SIZE, SN_TXBUF_SIZE,
  SN_CR_OPEN, SN_MR_MACRAW, SOCK_MACRAW, SHAR, ctrlByte,
} from '../../drivers/w5500/regs';
import { attachEnc28j60 } from '../../drivers/enc28j60/driver';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { ifconfig } from '../../src/ipv4/devinet';
import { devOpen } from '../../src/link/dev';
import { icmpPing, IcmpEchoHandler } from '../../src/ipv4/icmp';
import { parseIpStrict } from '../../src/link/ifaddr';

/** the first index where two byte arrays differ (-1: equal, -2: lengths differ); cheaper than toEqual on 16 KB */
function firstDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** a byte pattern that tells addresses apart (not periodic in 256) */
function pat(i: number, seed: number): number {
  return (i * 7 + (i >>> 8) * 13 + seed) & 0xff;
}

/* ================================================================ ENC28J60 */

/** one SPI transaction on the ENC28J60 (CS low, bytes, CS high); returns MISO */
function encXfer(c: Enc28j60Mock, bytes: number[]): number[] {
  const tx = new Uint8Array(bytes);
  const rx = new Uint8Array(bytes.length);
  c.select();
  c.transfer(tx, 0, rx, 0, tx.length);
  c.deselect();
  return Array.from(rx);
}
function encBank(c: Enc28j60Mock, reg: number): void {
  if ((reg & 0x1f) >= 0x1b) return;
  encXfer(c, [OP_BFC | ECON1, 0x03]);
  encXfer(c, [OP_BFS | ECON1, (reg >>> 5) & 3]);
}
function encWcr(c: Enc28j60Mock, reg: number, v: number): void {
  encBank(c, reg);
  encXfer(c, [OP_WCR | (reg & 0x1f), v & 0xff]);
}
function encRcr(c: Enc28j60Mock, reg: number): number {
  encBank(c, reg);
  return encXfer(c, [OP_RCR | (reg & 0x1f), 0])[1];
}
function encW16(c: Enc28j60Mock, l: number, h: number, v: number): void {
  encWcr(c, l, v & 0xff);
  encWcr(c, h, (v >>> 8) & 0xff);
}
function encR16(c: Enc28j60Mock, l: number, h: number): number {
  return encRcr(c, l) | (encRcr(c, h) << 8);
}

interface EncSetup {
  erxst: number;
  erxnd: number;
  /** ERDPT or EWRPT at the start of the burst */
  ptr: number;
  autoinc: boolean;
}

/**
 * A fresh chip brought up by SPI (SRC, CLKRDY), its 8 KB filled through
 * WBM one byte per transfer with a pattern, then ERXST/ERXND, ERDPT/EWRPT
 * and ECON2.AUTOINC programmed by WCR.
 */
function encChip(s: EncSetup, nativeCopy: boolean): Enc28j60Mock {
  const c = new Enc28j60Mock('t');
  c.nativeCopy = nativeCopy;
  encXfer(c, [OP_SRC]);
  let n = 0;
  while ((encRcr(c, ESTAT) & ESTAT_CLKRDY) === 0 && n < 100) n++;
  expect(encRcr(c, ESTAT) & ESTAT_CLKRDY).toBe(ESTAT_CLKRDY);
  encW16(c, EWRPTL, EWRPTH, 0);
  const one = new Uint8Array(1);
  c.select();
  one[0] = OP_WBM;
  c.transfer(one, 0, null, 0, 1);
  for (let i = 0; i < BUF_SIZE; i++) {
    one[0] = pat(i, 0x5a);
    c.transfer(one, 0, null, 0, 1);
  }
  c.deselect();
  let bad = 0;
  for (let i = 0; i < BUF_SIZE; i++) if (c.mem[i] !== pat(i, 0x5a)) bad++;
  expect(bad).toBe(0);
  encW16(c, ERXSTL, ERXSTH, s.erxst);
  encW16(c, ERXNDL, ERXNDH, s.erxnd);
  encW16(c, ERDPTL, ERDPTH, s.ptr);
  encW16(c, EWRPTL, EWRPTH, s.ptr);
  if (!s.autoinc) encXfer(c, [OP_BFC | ECON2, ECON2_AUTOINC]);
  expect(c.peekReg(ECON2) & ECON2_AUTOINC).toBe(s.autoinc ? ECON2_AUTOINC : 0);
  return c;
}

/** the per-byte reference of the model (the code the bulk path replaces) */
interface EncPerByte {
  readBufByte(): number;
  writeBufByte(b: number): void;
}

/** how a burst is clocked */
type Mode = 'one' | 'bytes' | 'chunks' | 'ref';

/**
 * RBM (read) or WBM (write) of n bytes on chip c: 'one' = opcode and data
 * in one transfer, 'bytes' = the opcode then one transfer per byte,
 * 'chunks' = transfers of 1, 2, 3, ... bytes, 'ref' = the opcode, then the
 * model's per-byte readBufByte/writeBufByte. tx null / rx null when
 * nullData (zeros clocked out / MISO not kept). Returns the data bytes read.
 */
function encBurst(c: Enc28j60Mock, read: boolean, n: number, mode: Mode, nullData: boolean): number[] {
  const data = new Uint8Array(n + 1);
  data[0] = read ? OP_RBM : OP_WBM;
  if (!read) for (let i = 0; i < n; i++) data[1 + i] = pat(i, 0xc3) ^ 0xff;
  // MISO lands on garbage: a byte the chip fails to clock out shows
  const rx = new Uint8Array(n + 1).fill(0xee);
  const tx = nullData && !read ? null : data;
  const rxa = nullData && read ? null : rx;
  c.select();
  if (mode === 'one') {
    if (tx === null) {
      c.transfer(data, 0, null, 0, 1);
      c.transfer(null, 0, rxa, 1, n);
    } else c.transfer(tx, 0, rxa, 0, n + 1);
  } else if (mode === 'ref') {
    c.transfer(data, 0, rx, 0, 1);
    const pb = c as unknown as EncPerByte;
    for (let i = 0; i < n; i++) {
      if (read) {
        const v = pb.readBufByte();
        if (rxa !== null) rxa[1 + i] = v;
      } else {
        // clock() answers a WBM data byte with 0 on MISO, and transfer() stores it
        pb.writeBufByte(tx !== null ? tx[1 + i] : 0);
        if (rxa !== null) rxa[1 + i] = 0;
      }
    }
  } else {
    c.transfer(data, 0, rx, 0, 1);
    let i = 0;
    let k = 1;
    while (i < n) {
      let len = mode === 'bytes' ? 1 : k++;
      if (len > n - i) len = n - i;
      c.transfer(tx, 1 + i, rxa, 1 + i, len);
      i += len;
    }
  }
  c.deselect();
  return Array.from(rx.subarray(1));
}

interface EncCase {
  name: string;
  s: EncSetup;
  read: boolean;
  n: number;
}

const ENC_CASES: EncCase[] = [
  // §7.2.3: the read pointer wraps from ERXND to ERXST inside the receive ring
  { name: 'RBM across ERXND → ERXST once', s: { erxst: 0x0400, erxnd: 0x07ff, ptr: 0x07f0, autoinc: true }, read: true, n: 64 },
  { name: 'RBM around a 256-byte ring several times', s: { erxst: 0x0400, erxnd: 0x04ff, ptr: 0x0480, autoinc: true }, read: true, n: 700 },
  { name: 'RBM starting exactly at ERXND', s: { erxst: 0x0000, erxnd: 0x05f9, ptr: 0x05f9, autoinc: true }, read: true, n: 5 },
  { name: 'RBM of one byte at ERXND', s: { erxst: 0x0100, erxnd: 0x01ff, ptr: 0x01ff, autoinc: true }, read: true, n: 1 },
  { name: 'RBM with ERXND at the end of memory: 0x1FFF → ERXST', s: { erxst: 0x1000, erxnd: 0x1fff, ptr: 0x1ff8, autoinc: true }, read: true, n: 40 },
  // above ERXND (the transmit area): no ring wrap, the 8 KB wrap to 0, then the ring rule again
  { name: 'RBM above ERXND: 0x1FFF → 0, then ERXND → ERXST', s: { erxst: 0x0000, erxnd: 0x00ff, ptr: 0x1ff0, autoinc: true }, read: true, n: 0x200 },
  { name: 'RBM below ERXST runs into the ring and wraps at ERXND', s: { erxst: 0x1000, erxnd: 0x10ff, ptr: 0x0ff0, autoinc: true }, read: true, n: 0x180 },
  { name: 'RBM with ERXST > ERXND (bounds inverted)', s: { erxst: 0x1800, erxnd: 0x0100, ptr: 0x00f0, autoinc: true }, read: true, n: 0x900 },
  { name: 'RBM of all 8 KB and more', s: { erxst: 0x0000, erxnd: 0x1fff, ptr: 0x0003, autoinc: true }, read: true, n: 9000 },
  // writes never wrap at ERXND: only at the end of the 8 KB
  { name: 'WBM across 0x1FFF → 0 (8 KB wrap)', s: { erxst: 0x0000, erxnd: 0x05f9, ptr: 0x1ff0, autoinc: true }, read: false, n: 64 },
  { name: 'WBM straight through ERXND (no ring wrap on writes)', s: { erxst: 0x0000, erxnd: 0x0fff, ptr: 0x0ff0, autoinc: true }, read: false, n: 48 },
  { name: 'WBM of more than 8 KB', s: { erxst: 0x0000, erxnd: 0x1fff, ptr: 0x1000, autoinc: true }, read: false, n: 8300 },
  // ECON2.AUTOINC clear: every byte at the same address, the pointer stays
  { name: 'RBM with AUTOINC off', s: { erxst: 0x0000, erxnd: 0x00ff, ptr: 0x00ff, autoinc: false }, read: true, n: 20 },
  { name: 'WBM with AUTOINC off', s: { erxst: 0x0000, erxnd: 0x00ff, ptr: 0x1234, autoinc: false }, read: false, n: 20 },
];

function expectSameEnc(x: Enc28j60Mock, y: Enc28j60Mock, withBytes: boolean): void {
  expect(firstDiff(x.mem, y.mem)).toBe(-1);
  expect(firstDiff(x.reg, y.reg)).toBe(-1);
  expect(x.wrPtr).toBe(y.wrPtr);
  expect(x.rdPtr).toBe(y.rdPtr);
  expect(x.protocolErrors).toBe(y.protocolErrors);
  expect(x.selects).toBe(y.selects);
  if (withBytes) expect(x.bytes).toBe(y.bytes);
}

/** where the pointer of the burst should be afterwards, by the data sheet's rules, one byte at a time */
function encExpectedPtr(s: EncSetup, read: boolean, n: number): number {
  if (!s.autoinc) return s.ptr;
  let p = s.ptr;
  for (let i = 0; i < n; i++) {
    if (read && p === s.erxnd) p = s.erxst;
    else p = (p + 1) & 0x1fff;
  }
  return p;
}

describe('Enc28j60Mock bulk RBM/WBM: the same as one byte at a time', () => {
  for (const cs of ENC_CASES) {
    for (const native of [false, true]) {
      it(cs.name + ' (nativeCopy ' + native + ')', () => {
        const mk = (): Enc28j60Mock => encChip(cs.s, native);
        const one = mk();
        const bytes = mk();
        const chunks = mk();
        const ref = mk();
        const rOne = encBurst(one, cs.read, cs.n, 'one', false);
        const rBytes = encBurst(bytes, cs.read, cs.n, 'bytes', false);
        const rChunks = encBurst(chunks, cs.read, cs.n, 'chunks', false);
        const rRef = encBurst(ref, cs.read, cs.n, 'ref', false);
        expect(firstDiff(rOne, rRef)).toBe(-1);
        expect(firstDiff(rBytes, rRef)).toBe(-1);
        expect(firstDiff(rChunks, rRef)).toBe(-1);
        expectSameEnc(one, bytes, true);
        expectSameEnc(one, chunks, true);
        expectSameEnc(one, ref, false);
        expect(one.bytes - ref.bytes).toBe(cs.n);
        // and what the data sheet says, independently of the model's own per-byte code
        const ptr = encExpectedPtr(cs.s, cs.read, cs.n);
        expect(encR16(one, cs.read ? ERDPTL : EWRPTL, cs.read ? ERDPTH : EWRPTH)).toBe(ptr);
        if (cs.read) {
          let p = cs.s.ptr;
          const want: number[] = [];
          for (let i = 0; i < cs.n; i++) {
            want.push(pat(p, 0x5a));
            if (!cs.s.autoinc) continue;
            p = p === cs.s.erxnd ? cs.s.erxst : (p + 1) & 0x1fff;
          }
          expect(firstDiff(rOne, want)).toBe(-1);
        } else {
          const mem = new Uint8Array(BUF_SIZE);
          for (let i = 0; i < BUF_SIZE; i++) mem[i] = pat(i, 0x5a);
          let p = cs.s.ptr;
          for (let i = 0; i < cs.n; i++) {
            mem[p] = pat(i, 0xc3) ^ 0xff;
            if (cs.s.autoinc) p = (p + 1) & 0x1fff;
          }
          expect(firstDiff(one.mem, mem)).toBe(-1);
        }
      });
    }
  }

  it('tx null (zeros clocked out) and rx null (MISO dropped) move the pointer the same way', () => {
    for (const cs of ENC_CASES) {
      for (const native of [false, true]) {
        const one = encChip(cs.s, native);
        const bytes = encChip(cs.s, native);
        const ref = encChip(cs.s, native);
        encBurst(one, cs.read, cs.n, 'one', true);
        encBurst(bytes, cs.read, cs.n, 'bytes', true);
        encBurst(ref, cs.read, cs.n, 'ref', true);
        expectSameEnc(one, bytes, true);
        expectSameEnc(one, ref, false);
        expect(encR16(one, cs.read ? ERDPTL : EWRPTL, cs.read ? ERDPTH : EWRPTH)).toBe(encExpectedPtr(cs.s, cs.read, cs.n));
      }
    }
  });

  it('a burst that continues over several transfers keeps the RBM state; a new CS ends it', () => {
    const s: EncSetup = { erxst: 0x0200, erxnd: 0x02ff, ptr: 0x02fe, autoinc: true };
    const c = encChip(s, true);
    const rx = new Uint8Array(6);
    c.select();
    c.transfer(new Uint8Array([OP_RBM]), 0, null, 0, 1);
    c.transfer(null, 0, rx, 0, 3);
    c.transfer(null, 0, rx, 3, 3);
    c.deselect();
    expect(Array.from(rx)).toEqual([0x2fe, 0x2ff, 0x200, 0x201, 0x202, 0x203].map((a) => pat(a, 0x5a)));
    expect(encR16(c, ERDPTL, ERDPTH)).toBe(0x204);
    // after CS goes high a byte is an opcode again: an RCR of ECON2, not buffer data
    expect(encXfer(c, [OP_RCR | ECON2, 0])[1]).toBe(ECON2_AUTOINC);
    expect(encR16(c, ERDPTL, ERDPTH)).toBe(0x204);
  });
});

/* ================================================================ W5500 */

function wHdr(addr: number, ctrl: number): number[] {
  return [(addr >>> 8) & 0xff, addr & 0xff, ctrl & 0xff];
}
function wWrite(m: W5500Mock, bsb: number, addr: number, data: number[]): void {
  const b = new Uint8Array(wHdr(addr, ctrlByte(bsb, true)).concat(data));
  m.select();
  m.transfer(b, 0, null, 0, b.length);
  m.deselect();
}

interface WSetup {
  memKb?: number;
  txMemKb?: number;
  /** Sn_RXBUF_SIZE / Sn_TXBUF_SIZE to OPEN with (undefined: no OPEN, the reset sizes) */
  rxKb?: number;
  txKb?: number;
}

/** A fresh W5500 model, socket 0 opened by SPI with the given sizes, both buffers filled by FDM1 writes. */
function wChip(s: WSetup, nativeCopy: boolean): W5500Mock {
  const m = new W5500Mock(s.memKb, s.txMemKb);
  m.nativeCopy = nativeCopy;
  if (s.rxKb !== undefined && s.txKb !== undefined) {
    wWrite(m, BSB_S0_REG, SN_RXBUF_SIZE, [s.rxKb, s.txKb]);
    wWrite(m, BSB_S0_REG, SN_MR, [SN_MR_MACRAW]);
    wWrite(m, BSB_S0_REG, SN_CR, [SN_CR_OPEN]);
    expect(m.status()).toBe(SOCK_MACRAW);
  }
  // fill both socket buffers through the per-byte path: FDM4 frames back to back in one CS window
  for (const bsb of [BSB_S0_TX, BSB_S0_RX]) {
    const size = bsb === BSB_S0_TX ? m.txBufSize() : m.rxBufSize();
    const seed = bsb === BSB_S0_TX ? 0x11 : 0x77;
    const frames: number[] = [];
    for (let a = 0; a < size; a += 4) {
      frames.push(...wHdr(a, ctrlByte(bsb, true) | OM_FDM4), pat(a, seed), pat(a + 1, seed), pat(a + 2, seed), pat(a + 3, seed));
    }
    const b = new Uint8Array(frames);
    m.select();
    m.transfer(b, 0, null, 0, b.length);
    m.deselect();
    const mem = bsb === BSB_S0_TX ? m.txMem : m.rxMem;
    let bad = 0;
    for (let a = 0; a < size; a++) if (mem[a] !== pat(a, seed)) bad++;
    expect(bad).toBe(0);
  }
  return m;
}

/**
 * A VDM burst of n data bytes at addr of block bsb: 'one' = header and data
 * in one transfer, 'bytes' = the header then one byte per transfer,
 * 'chunks' = transfers of 1, 2, 3, ... bytes, 'ref' = n FDM1 frames at
 * addr, addr+1, ... (16-bit wrap), each clocked through the per-byte data
 * phase. Returns the data bytes read.
 */
function wBurst(m: W5500Mock, bsb: number, write: boolean, addr: number, n: number, mode: Mode, nullData: boolean): number[] {
  // MISO lands on garbage: a byte the chip fails to clock out shows
  const out = new Uint8Array(n).fill(0xee);
  const data = new Uint8Array(n);
  if (write) for (let i = 0; i < n; i++) data[i] = pat(i, 0x3c) ^ 0xa5;
  const tx = nullData && write ? null : data;
  const rxa = nullData && !write ? null : out;
  m.select();
  if (mode === 'ref') {
    for (let i = 0; i < n; i++) {
      const h = new Uint8Array(wHdr((addr + i) & 0xffff, ctrlByte(bsb, write) | OM_FDM1));
      m.transfer(h, 0, null, 0, 3);
      m.transfer(tx, i, rxa, i, 1);
    }
  } else {
    const h = new Uint8Array(wHdr(addr, ctrlByte(bsb, write)));
    if (mode === 'one') {
      const all = new Uint8Array(3 + n);
      all.set(h, 0);
      all.set(data, 3);
      const rx = new Uint8Array(3 + n).fill(0xee);
      if (tx === null) {
        m.transfer(h, 0, null, 0, 3);
        m.transfer(null, 0, rxa, 0, n);
      } else {
        m.transfer(all, 0, rxa !== null ? rx : null, 0, 3 + n);
        if (rxa !== null) rxa.set(rx.subarray(3));
      }
    } else {
      m.transfer(h, 0, null, 0, 3);
      let i = 0;
      let k = 1;
      while (i < n) {
        let len = mode === 'bytes' ? 1 : k++;
        if (len > n - i) len = n - i;
        m.transfer(tx, i, rxa, i, len);
        i += len;
      }
    }
  }
  m.deselect();
  return Array.from(out);
}

function expectSameW(x: W5500Mock, y: W5500Mock, full: boolean): void {
  expect(firstDiff(x.txMem, y.txMem)).toBe(-1);
  expect(firstDiff(x.rxMem, y.rxMem)).toBe(-1);
  expect(firstDiff(x.common, y.common)).toBe(-1);
  expect(firstDiff(x.sock, y.sock)).toBe(-1);
  expect(x.unmodelled).toBe(y.unmodelled);
  expect(x.spiStrayBytes).toBe(y.spiStrayBytes);
  if (full) {
    expect(x.bytes).toBe(y.bytes);
    expect(x.spiFrames).toBe(y.spiFrames);
    expect(x.spiShortFrames).toBe(y.spiShortFrames);
  }
}

interface WCase {
  name: string;
  s: WSetup;
  bsb: number;
  write: boolean;
  addr: number;
  n: number;
}

const W_CASES: WCase[] = [
  { name: 'TX write across the 2 KB reset-size buffer end', s: {}, bsb: BSB_S0_TX, write: true, addr: 0x07f0, n: 64 },
  { name: 'TX write at a free-running pointer past 0xFFFF', s: { rxKb: 4, txKb: 8 }, bsb: BSB_S0_TX, write: true, addr: 0xfff0, n: 100 },
  { name: 'TX write longer than the buffer (wraps twice)', s: { rxKb: 2, txKb: 1 }, bsb: BSB_S0_TX, write: true, addr: 0x13fe, n: 2500 },
  { name: 'TX read back across the buffer end', s: { rxKb: 4, txKb: 4 }, bsb: BSB_S0_TX, write: false, addr: 0x2ffa, n: 40 },
  { name: 'RX read across the 4 KB buffer end', s: { rxKb: 4, txKb: 2 }, bsb: BSB_S0_RX, write: false, addr: 0x0fe0, n: 1514 },
  { name: 'RX read of a 16 KB buffer at 0xFFF8 (16-bit and buffer wrap together)', s: { rxKb: 16, txKb: 16 }, bsb: BSB_S0_RX, write: false, addr: 0xfff8, n: 300 },
  { name: 'RX read longer than a 1 KB buffer', s: { rxKb: 1, txKb: 2 }, bsb: BSB_S0_RX, write: false, addr: 0x0123, n: 3000 },
  { name: 'RX write (the model allows it) across the buffer end', s: { rxKb: 8, txKb: 2 }, bsb: BSB_S0_RX, write: true, addr: 0x1ff0, n: 64 },
  // a socket without memory: reads are 0, writes vanish, the address still moves
  { name: 'RX read with Sn_RXBUF_SIZE 0', s: { rxKb: 0, txKb: 2 }, bsb: BSB_S0_RX, write: false, addr: 0x0010, n: 50 },
  { name: 'TX write with Sn_TXBUF_SIZE 0', s: { rxKb: 2, txKb: 0 }, bsb: BSB_S0_TX, write: true, addr: 0x0010, n: 50 },
  { name: 'RX read of a buffer larger than the model (no memory given)', s: { memKb: 2, rxKb: 4, txKb: 2 }, bsb: BSB_S0_RX, write: false, addr: 0x0000, n: 20 },
  { name: 'TX write in a 2 KB TX model (W5500Mock(4, 2))', s: { memKb: 4, txMemKb: 2, rxKb: 4, txKb: 2 }, bsb: BSB_S0_TX, write: true, addr: 0x07ff, n: 2100 },
];

describe('W5500Mock bulk socket-0 buffer bursts: the same as one byte at a time', () => {
  for (const cs of W_CASES) {
    for (const native of [false, true]) {
      it(cs.name + ' (nativeCopy ' + native + ')', () => {
        const mk = (): W5500Mock => wChip(cs.s, native);
        const one = mk();
        const bytes = mk();
        const chunks = mk();
        const ref = mk();
        const rOne = wBurst(one, cs.bsb, cs.write, cs.addr, cs.n, 'one', false);
        const rBytes = wBurst(bytes, cs.bsb, cs.write, cs.addr, cs.n, 'bytes', false);
        const rChunks = wBurst(chunks, cs.bsb, cs.write, cs.addr, cs.n, 'chunks', false);
        const rRef = wBurst(ref, cs.bsb, cs.write, cs.addr, cs.n, 'ref', false);
        expect(firstDiff(rOne, rRef)).toBe(-1);
        expect(firstDiff(rBytes, rRef)).toBe(-1);
        expect(firstDiff(rChunks, rRef)).toBe(-1);
        expectSameW(one, bytes, true);
        expectSameW(one, chunks, true);
        expectSameW(one, ref, false);
        expect(one.bytes).toBe(bytes.bytes);
        // independently: byte i is at (addr + i) mod 2^16 mod size
        const tx = cs.bsb === BSB_S0_TX;
        const size = tx ? one.txBufSize() : one.rxBufSize();
        const seed = tx ? 0x11 : 0x77;
        if (!cs.write) {
          const want: number[] = [];
          for (let i = 0; i < cs.n; i++) want.push(size === 0 ? 0 : pat(((cs.addr + i) & 0xffff) & (size - 1), seed));
          expect(firstDiff(rOne, want)).toBe(-1);
        } else {
          const mem = tx ? one.txMem : one.rxMem;
          const wantMem = new Uint8Array(mem.length);
          for (let a = 0; a < size; a++) wantMem[a] = pat(a, seed);
          if (size > 0) for (let i = 0; i < cs.n; i++) wantMem[((cs.addr + i) & 0xffff) & (size - 1)] = pat(i, 0x3c) ^ 0xa5;
          expect(firstDiff(mem, wantMem)).toBe(-1);
        }
      });
    }
  }

  it('tx null (zeros written) and rx null (MISO dropped) behave the same', () => {
    for (const cs of W_CASES) {
      for (const native of [false, true]) {
        const one = wChip(cs.s, native);
        const bytes = wChip(cs.s, native);
        const ref = wChip(cs.s, native);
        wBurst(one, cs.bsb, cs.write, cs.addr, cs.n, 'one', true);
        wBurst(bytes, cs.bsb, cs.write, cs.addr, cs.n, 'bytes', true);
        wBurst(ref, cs.bsb, cs.write, cs.addr, cs.n, 'ref', true);
        expectSameW(one, bytes, true);
        expectSameW(one, ref, false);
      }
    }
  });

  it('the bulk path applies to VDM data on socket 0 buffers only: FDM frames and other blocks in one transfer still parse', () => {
    for (const native of [false, true]) {
      const m = wChip({ rxKb: 2, txKb: 2 }, native);
      const b0 = m.bytes;
      // FDM1 TX write, FDM2 TX read, then a VDM SHAR write in one CS window, one transfer
      const b = new Uint8Array([
        ...wHdr(0x0005, ctrlByte(BSB_S0_TX, true) | OM_FDM1), 0xee,
        ...wHdr(0x0004, ctrlByte(BSB_S0_TX, false) | OM_FDM2), 0, 0,
        ...wHdr(SHAR, ctrlByte(BSB_COMMON, true)), 1, 2, 3, 4, 5, 6,
      ]);
      const rx = new Uint8Array(b.length);
      m.select();
      m.transfer(b, 0, rx, 0, b.length);
      m.deselect();
      expect(m.txMem[5]).toBe(0xee);
      expect([rx[7], rx[8]]).toEqual([pat(4, 0x11), 0xee]);
      expect(Array.from(m.common.subarray(SHAR, SHAR + 6))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(m.bytes - b0).toBe(b.length);
    }
  });
});

/* ================================================================ W5500Mock(memKb, txMemKb) with the driver */

class Echo implements IcmpEchoHandler {
  replies: number[] = [];
  onEchoReply(_saddr: number, _ident: number, seq: number, _len: number): void {
    this.replies.push(seq);
  }
}

const MAC_A = new Uint8Array([0x02, 0x55, 0, 0, 0, 0x0a]);
const MAC_B = new Uint8Array([0x02, 0x55, 0, 0, 0, 0x0b]);

interface Pair {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  ca: W5500Mock;
  cb: W5500Mock;
  devA: number;
  devB: number;
}

function pairW(ca: W5500Mock, cb: W5500Mock, optsA: W5500Options, optsB: W5500Options): Pair {
  const clock = new ManualClock(1000);
  const a = new Stack('a', {}, clock, undefined);
  const b = new Stack('b', { seed: 7 }, clock, undefined);
  ca.attachWire(cb);
  cb.attachWire(ca);
  const devA = attachW5500(a, ca, ca, MAC_A, 'eth0', optsA);
  const devB = attachW5500(b, cb, cb, MAC_B, 'eth0', optsB);
  expect(devA).toBeGreaterThanOrEqual(0);
  expect(devB).toBeGreaterThanOrEqual(0);
  expect(ifconfig(a, devA, '192.0.2.2/24', null)).toBe(0);
  expect(ifconfig(b, devB, '192.0.2.3/24', null)).toBe(0);
  devOpen(a, devA);
  devOpen(b, devB);
  return { clock, a, b, ca, cb, devA, devB };
}

function runPair(p: Pair, ms: number): void {
  for (let t = 0; t < ms; t++) {
    p.clock.advance(1);
    p.a.poll();
    p.b.poll();
  }
}

describe('W5500Mock(memKb, txMemKb): a model with less memory than the chip', () => {
  it('the constructor sizes the memories (unknown sizes: 16 KB; txMemKb defaults to memKb)', () => {
    const m = new W5500Mock(4, 2);
    expect([m.memKb, m.txMemKb, m.rxMem.length, m.txMem.length]).toEqual([4, 2, 4096, 2048]);
    const d = new W5500Mock();
    expect([d.memKb, d.txMemKb, d.rxMem.length, d.txMem.length]).toEqual([16, 16, 16384, 16384]);
    const e = new W5500Mock(8);
    expect([e.memKb, e.txMemKb]).toEqual([8, 8]);
    const f = new W5500Mock(3, 5);
    expect([f.memKb, f.txMemKb]).toEqual([16, 16]);
    expect(m.memTooSmall + d.memTooSmall + e.memTooSmall + f.memTooSmall).toBe(0);
    // the reset sizes (2 KB each) fit the smallest model
    expect([m.rxBufSize(), m.txBufSize()]).toEqual([2048, 2048]);
  });

  for (const native of [false, true]) {
    it('a driver configured {rxKb: 4, txKb: 2} on W5500Mock(4, 2) carries pings both ways (nativeCopy ' + native + ')', () => {
      const ca = new W5500Mock(4, 2);
      const cb = new W5500Mock(4, 2);
      ca.nativeCopy = native;
      cb.nativeCopy = native;
      const p = pairW(ca, cb, { rxKb: 4, txKb: 2 }, { rxKb: 4, txKb: 2 });
      expect([ca.rxBufSize(), ca.txBufSize(), cb.rxBufSize(), cb.txBufSize()]).toEqual([4096, 2048, 4096, 2048]);
      expect(ca.memTooSmall + cb.memTooSmall).toBe(0);
      const ea = new Echo();
      const eb = new Echo();
      p.a.icmp.echoHandler = ea;
      p.b.icmp.echoHandler = eb;
      const ipA = parseIpStrict('192.0.2.2');
      const ipB = parseIpStrict('192.0.2.3');
      // enough traffic to wrap both rings: 12 echoes of 1400 bytes each way
      for (let i = 1; i <= 12; i++) {
        expect(icmpPing(p.a, ipB, 0x11, i, 1400)).toBe(0);
        runPair(p, 10);
        expect(icmpPing(p.b, ipA, 0x22, i, 1400)).toBe(0);
        runPair(p, 10);
      }
      expect(ea.replies).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(eb.replies).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(ca.rxDropFull + cb.rxDropFull + ca.txOversize + cb.txOversize).toBe(0);
      expect(ca.rxWritePtr()).toBeGreaterThan(4096); // the 4 KB RX ring wrapped
      expect(ca.txReadPtr()).toBeGreaterThan(2048); // the 2 KB TX ring wrapped
      runPair(p, 50);
      expect(p.a.pool.inUse()).toBe(0);
      expect(p.b.pool.inUse()).toBe(0);
    });
  }

  it('a driver asking {rxKb: 8} of W5500Mock(4, 2) gets no RX memory: memTooSmall counts it, nothing is received', () => {
    const ca = new W5500Mock(4, 2);
    const cb = new W5500Mock(4, 2);
    const p = pairW(ca, cb, { rxKb: 4, txKb: 2 }, { rxKb: 8, txKb: 2 });
    expect(ca.memTooSmall).toBe(0);
    expect(cb.memTooSmall).toBe(1);
    expect(cb.rxBufSize()).toBe(0);
    expect(cb.txBufSize()).toBe(2048);
    expect(cb.status()).toBe(SOCK_MACRAW);
    const ea = new Echo();
    p.a.icmp.echoHandler = ea;
    expect(icmpPing(p.a, parseIpStrict('192.0.2.3'), 0x11, 1, 56)).toBe(0);
    runPair(p, 200);
    expect(ea.replies).toEqual([]);
    expect(cb.rxFrames).toBe(0);
    expect(cb.rxDropFull).toBeGreaterThan(0);
    // the default txKb (16) does not fit a 2 KB TX model either: one more OPEN counted
    const cc = new W5500Mock(4, 2);
    const st = new Stack('c', {}, new ManualClock(0), undefined);
    expect(attachW5500(st, cc, cc, MAC_A, 'eth0', { rxKb: 4 })).toBeGreaterThanOrEqual(0);
    expect(cc.memTooSmall).toBe(1);
    expect(cc.txBufSize()).toBe(0);
    expect(cc.rxBufSize()).toBe(4096);
  });
});

/* ================================================================ nativeCopy end to end */

describe('nativeCopy changes nothing observable on the wire or the bus', () => {
  function encTraffic(native: boolean): number[] {
    const clock = new ManualClock(1000);
    const a = new Stack('a', {}, clock, undefined);
    const b = new Stack('b', { seed: 7 }, clock, undefined);
    const ca = new Enc28j60Mock('a');
    const cb = new Enc28j60Mock('b');
    ca.nativeCopy = native;
    cb.nativeCopy = native;
    connectBackToBack(ca, cb);
    const da = attachEnc28j60(a, ca, ca, MAC_A, 'eth0');
    const db = attachEnc28j60(b, cb, cb, MAC_B, 'eth0');
    expect(ifconfig(a, da, '192.0.2.2/24', null)).toBe(0);
    expect(ifconfig(b, db, '192.0.2.3/24', null)).toBe(0);
    devOpen(a, da);
    devOpen(b, db);
    const e = new Echo();
    a.icmp.echoHandler = e;
    for (let i = 1; i <= 10; i++) {
      expect(icmpPing(a, parseIpStrict('192.0.2.3'), 1, i, 1000 + i * 37)).toBe(0);
      for (let t = 0; t < 10; t++) {
        clock.advance(2);
        a.poll();
        b.poll();
      }
    }
    expect(e.replies.length).toBe(10);
    return [ca.bytes, cb.bytes, ca.txFrames, cb.txFrames, ca.rxFrames, cb.rxFrames, ca.rxWrapped + cb.rxWrapped, ca.selects];
  }

  it('ENC28J60 pair: the same SPI bytes and frames with and without nativeCopy', () => {
    const off = encTraffic(false);
    const on = encTraffic(true);
    expect(on).toEqual(off);
    expect(off[6]).toBeGreaterThan(0); // the receive rings wrapped
  });

  it('W5500 pair: the same SPI bytes and frames with and without nativeCopy', () => {
    const res: number[][] = [];
    for (const native of [false, true]) {
      const ca = new W5500Mock(4, 2);
      const cb = new W5500Mock(4, 2);
      ca.nativeCopy = native;
      cb.nativeCopy = native;
      const p = pairW(ca, cb, { rxKb: 4, txKb: 2 }, { rxKb: 4, txKb: 2 });
      const e = new Echo();
      p.a.icmp.echoHandler = e;
      for (let i = 1; i <= 10; i++) {
        expect(icmpPing(p.a, parseIpStrict('192.0.2.3'), 1, i, 1000 + i * 37)).toBe(0);
        runPair(p, 10);
      }
      expect(e.replies.length).toBe(10);
      res.push([ca.bytes, cb.bytes, ca.txFrames, cb.txFrames, ca.rxFrames, cb.rxFrames, ca.spiFrames, cb.spiFrames]);
    }
    expect(res[1]).toEqual(res[0]);
  });
});
