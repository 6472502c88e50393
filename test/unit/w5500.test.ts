/*
 * w5500.test.ts — the W5500 MACRAW driver (drivers/w5500/driver.ts) over
 * the register-level chip model (drivers/w5500/mock.ts): chip model unit
 * tests on raw SPI frames, bring-up and its failures, and whole-stack
 * traffic stack → driver → SPI → mock ⇄ wire ⇄ mock → driver → stack
 * (back to back and through the simulation's switch). Every test that
 * moves packets ends with every skb back in the pool.
 */
import { describe, it, expect } from 'vitest';
import { Stack } from '../../src/stack';
import { ManualClock } from '../../src/core/clock';
import { icmpPing } from '../../src/ipv4/icmp';
import { parseIpStrict } from '../../src/link/ifaddr';
import { devQueueXmit, registerNetdev, devOpen } from '../../src/link/dev';
import { SKB_NONE } from '../../src/core/skb';
import { ENODEV, ETIMEDOUT, EINVAL } from '../../src/core/errno';
import { DEV_RX_ERRORS, DEV_TX_DROPPED, LINK_RXNOTFORUS } from '../../src/core/mib';
import { socket, bind, sendto, recvfrom, close, setsockopt, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF } from '../../src/socket/socket';
import { W5500Mock } from '../../drivers/w5500/mock';
import { W5500Driver, attachW5500 } from '../../drivers/w5500/driver';
import {
  BSB_COMMON, BSB_S0_REG, BSB_S0_TX, CTRL_RWB_WRITE, OM_FDM1, OM_FDM2, VERSIONR, SHAR, MR, MR_RST, PHYCFGR,
  PHYCFGR_LNK, SN_MR, SN_CR, SN_IR, SN_SR, SN_TX_FSR, SN_TX_WR, SN_RXBUF_SIZE, SN_CR_OPEN, SN_CR_SEND,
  SN_IR_RECV, SN_IR_SEND_OK, SN_MR_MACRAW, SN_MR_MFEN, SOCK_MACRAW, SOCK_CLOSED, SIMR, SIR, ctrlByte,
  SPI_HDR_LEN, MACRAW_HDR_LEN,
} from '../../drivers/w5500/regs';
import { w5500Pair, run, EchoRec, MAC_A, MAC_B, IP_B_S, IP_A_S, W5500Env } from './w5500_util';

const IP_A = parseIpStrict(IP_A_S);
const IP_B = parseIpStrict(IP_B_S);

/* ---- raw SPI helpers for the chip-model tests ---- */
function spiWrite(m: W5500Mock, bsb: number, addr: number, data: number[]): void {
  const b = new Uint8Array(3 + data.length);
  b[0] = addr >>> 8;
  b[1] = addr & 0xff;
  b[2] = ctrlByte(bsb, true);
  for (let i = 0; i < data.length; i++) b[3 + i] = data[i];
  m.select();
  m.transfer(b, 0, null, 0, b.length);
  m.deselect();
}
function spiRead(m: W5500Mock, bsb: number, addr: number, n: number): number[] {
  const tx = new Uint8Array(3 + n);
  const rx = new Uint8Array(3 + n);
  tx[0] = addr >>> 8;
  tx[1] = addr & 0xff;
  tx[2] = ctrlByte(bsb, false);
  m.select();
  m.transfer(tx, 0, rx, 0, tx.length);
  m.deselect();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rx[3 + i]);
  return out;
}

function finish(e: W5500Env): void {
  run(e, 50);
  expect(e.a.pool.inUse()).toBe(0);
  expect(e.b.pool.inUse()).toBe(0);
}

/** A hand-made Ethernet frame of `len` bytes from A to B (local experimental ethertype 0x88b5). */
function xmitRaw(e: W5500Env, len: number, dst: Uint8Array): number {
  const p = e.a.pool;
  const skb = p.alloc(len);
  expect(skb).not.toBe(SKB_NONE);
  const o = p.put(skb, len);
  const b = p.buf[skb];
  for (let i = 0; i < 6; i++) b[o + i] = dst[i];
  for (let i = 0; i < 6; i++) b[o + 6 + i] = MAC_A[i];
  b[o + 12] = 0x88;
  b[o + 13] = 0xb5;
  for (let i = 14; i < len; i++) b[o + i] = i & 0xff;
  p.dev[skb] = e.da;
  return devQueueXmit(e.a, skb);
}

describe('W5500 chip model: SPI frames and registers', () => {
  it('parses VDM frames: VERSIONR, SHAR write/read with auto-increment, byte counting', () => {
    const m = new W5500Mock();
    expect(spiRead(m, BSB_COMMON, VERSIONR, 1)).toEqual([0x04]);
    spiWrite(m, BSB_COMMON, SHAR, [1, 2, 3, 4, 5, 6]);
    expect(spiRead(m, BSB_COMMON, SHAR, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(spiRead(m, BSB_COMMON, SHAR + 2, 2)).toEqual([3, 4]);
    expect(m.bytes).toBe(4 + 9 + 9 + 5);
    expect(m.spiFrames).toBe(4);
    // PHYCFGR: link up reported; then down
    expect(spiRead(m, BSB_COMMON, PHYCFGR, 1)[0] & PHYCFGR_LNK).toBe(PHYCFGR_LNK);
    m.setLink(false);
    expect(spiRead(m, BSB_COMMON, PHYCFGR, 1)[0] & PHYCFGR_LNK).toBe(0);
    // a frame cut short by CS is counted and ignored; bytes with CS high are stray
    m.select();
    m.transfer(new Uint8Array([0, 9]), 0, null, 0, 2);
    m.deselect();
    expect(m.spiShortFrames).toBe(1);
    m.transfer(new Uint8Array([1, 2, 3]), 0, null, 0, 3);
    expect(m.spiStrayBytes).toBe(3);
    expect(spiRead(m, BSB_COMMON, SHAR, 1)).toEqual([1]);
  });

  it('FDM frames end by themselves: two 1-byte writes and a 2-byte read in one CS window', () => {
    const m = new W5500Mock();
    const c1 = (BSB_COMMON << 3) | CTRL_RWB_WRITE | OM_FDM1;
    const c2 = (BSB_COMMON << 3) | OM_FDM2;
    const tx = new Uint8Array([0, SHAR, c1, 0xaa, 0, SHAR + 1, c1, 0xbb, 0, SHAR, c2, 0, 0]);
    const rx = new Uint8Array(tx.length);
    m.select();
    m.transfer(tx, 0, rx, 0, tx.length);
    m.deselect();
    expect([rx[11], rx[12]]).toEqual([0xaa, 0xbb]);
    expect(m.spiFrames).toBe(3);
  });

  it('MR.RST resets registers; Sn_CR executes and auto-clears; Sn_IR is write-1-to-clear; SIR follows', () => {
    const m = new W5500Mock();
    spiWrite(m, BSB_COMMON, SHAR, [9, 9, 9, 9, 9, 9]);
    spiWrite(m, BSB_COMMON, MR, [MR_RST]);
    expect(m.resets).toBe(1);
    expect(spiRead(m, BSB_COMMON, SHAR, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(spiRead(m, BSB_COMMON, MR, 1)).toEqual([0]);
    expect(spiRead(m, BSB_S0_REG, SN_RXBUF_SIZE, 2)).toEqual([2, 2]);
    expect(spiRead(m, BSB_S0_REG, SN_TX_FSR, 2)).toEqual([0x08, 0x00]);
    // OPEN without a protocol: stays closed
    spiWrite(m, BSB_S0_REG, SN_CR, [SN_CR_OPEN]);
    expect(spiRead(m, BSB_S0_REG, SN_SR, 1)).toEqual([SOCK_CLOSED]);
    spiWrite(m, BSB_S0_REG, SN_MR, [SN_MR_MACRAW]);
    spiWrite(m, BSB_S0_REG, SN_CR, [SN_CR_OPEN]);
    expect(spiRead(m, BSB_S0_REG, SN_CR, 1)).toEqual([0]);
    expect(spiRead(m, BSB_S0_REG, SN_SR, 1)).toEqual([SOCK_MACRAW]);
    // a 10-byte frame written at the end of the 2 KB ring wraps (offset masked by the size)
    spiWrite(m, BSB_S0_REG, SN_TX_WR, [0x07, 0xfb]);
    const got: number[][] = [];
    m.attachWire({
      receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
        const f: number[] = [];
        for (let i = 0; i < len; i++) f.push(buf[off + i]);
        got.push(f);
        return true;
      },
    });
    // move TX_RD to 0x07fb by sending an empty frame first
    spiWrite(m, BSB_S0_REG, SN_TX_WR, [0, 0]);
    spiWrite(m, BSB_S0_TX, 0x07fb, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(m.txMem[0]).toBe(6); // bytes 6.. wrapped to the ring start
    // TX_RD is 0 now; writing WR = 0x07fb + 14 and SEND sends 0x080a bytes > 1514: oversize
    spiWrite(m, BSB_S0_REG, SN_TX_WR, [0x08, 0x09]);
    expect(spiRead(m, BSB_S0_REG, SN_TX_FSR, 2)).toEqual([0, 0]);
    spiWrite(m, BSB_S0_REG, SN_CR, [SN_CR_SEND]);
    expect(m.txOversize).toBe(1);
    expect(got.length).toBe(0);
    expect(spiRead(m, BSB_S0_REG, SN_IR, 1)[0] & SN_IR_SEND_OK).toBe(SN_IR_SEND_OK);
    // SEND_OK with Sn_IMR = 0xff and SIMR = 0: SIR shows it, INTn stays high
    expect(spiRead(m, BSB_COMMON, SIR, 1)).toEqual([1]);
    expect(m.asserted()).toBe(false);
    spiWrite(m, BSB_COMMON, SIMR, [1]);
    expect(m.asserted()).toBe(true);
    spiWrite(m, BSB_S0_REG, SN_IR, [SN_IR_SEND_OK]);
    expect(spiRead(m, BSB_S0_REG, SN_IR, 1)).toEqual([0]);
    expect(m.asserted()).toBe(false);
    // now a real 14-byte frame across the wrap: TX_RD = 0x0809 → offset 9
    spiWrite(m, BSB_S0_TX, 0x0809 + 0x07f2, [0xaa]); // unrelated byte, masked into the ring
    spiWrite(m, BSB_S0_TX, 0x0809, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    spiWrite(m, BSB_S0_REG, SN_TX_WR, [0x08, 0x17]);
    spiWrite(m, BSB_S0_REG, SN_CR, [SN_CR_SEND]);
    expect(got.length).toBe(1);
    expect(got[0].length).toBe(60); // padded by the MAC
    expect(got[0].slice(0, 14)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(got[0].slice(14)).toEqual(new Array(46).fill(0));
  });

  it('MACRAW receive: length header, RSR, MAC filter, drops counted', () => {
    const m = new W5500Mock();
    const f = new Uint8Array(100);
    for (let i = 0; i < 6; i++) f[i] = MAC_B[i];
    // not open: dropped
    expect(m.receiveFromWire(f, 0, 64)).toBe(false);
    expect(m.rxDropClosed).toBe(1);
    spiWrite(m, BSB_COMMON, SHAR, Array.from(MAC_A));
    spiWrite(m, BSB_S0_REG, SN_MR, [SN_MR_MACRAW | SN_MR_MFEN]);
    spiWrite(m, BSB_S0_REG, SN_CR, [SN_CR_OPEN]);
    expect(m.receiveFromWire(f, 0, 64)).toBe(false); // to B's MAC, filtered
    expect(m.rxDropFilter).toBe(1);
    for (let i = 0; i < 6; i++) f[i] = MAC_A[i];
    expect(m.receiveFromWire(f, 0, 64)).toBe(true);
    for (let i = 0; i < 6; i++) f[i] = 0xff;
    expect(m.receiveFromWire(f, 0, 60)).toBe(true);
    expect(m.receiveFromWire(f, 0, 13)).toBe(false);
    expect(m.rxDropRunt).toBe(1);
    const big = new Uint8Array(1600);
    for (let i = 0; i < 6; i++) big[i] = 0xff;
    expect(m.receiveFromWire(big, 0, 1515)).toBe(false);
    expect(m.rxDropOversize).toBe(1);
    expect(spiRead(m, 1, 0x26, 2)).toEqual([0, 64 + 2 + 60 + 2]);
    expect(spiRead(m, 3, 0, 2)).toEqual([0, 66]); // header counts itself
    expect(spiRead(m, 3, 66, 2)).toEqual([0, 62]);
    expect(spiRead(m, BSB_S0_REG, SN_IR, 1)[0] & SN_IR_RECV).toBe(SN_IR_RECV);
    // fill the 2 KB ring: 1514+2 fits once more? used 128, 1516 fits, the next does not
    expect(m.receiveFromWire(big, 0, 1514)).toBe(true);
    expect(m.receiveFromWire(big, 0, 1514)).toBe(false);
    expect(m.rxDropFull).toBe(1);
    expect(m.rxFrames).toBe(3);
  });
});

describe('W5500 driver bring-up', () => {
  it('resets, checks VERSIONR, gives socket 0 all 16 KB, opens MACRAW with MFEN', () => {
    const st = new Stack('a', undefined, new ManualClock(0), undefined);
    const m = new W5500Mock();
    const dev = attachW5500(st, m, m, MAC_A, 'eth0');
    expect(dev).toBe(0);
    expect(m.status()).toBe(SOCK_MACRAW);
    expect(m.rxBufSize()).toBe(16384);
    expect(m.txBufSize()).toBe(16384);
    expect(spiRead(m, BSB_COMMON, SHAR, 6)).toEqual(Array.from(MAC_A));
    expect(spiRead(m, BSB_S0_REG, SN_MR, 1)).toEqual([SN_MR_MACRAW | SN_MR_MFEN]);
    expect(spiRead(m, 5, SN_RXBUF_SIZE, 2)).toEqual([0, 0]); // socket 1 gets nothing
    expect(m.resets).toBe(1);
    const d = st.link.devs[0].driver as W5500Driver;
    expect(d.linkUp()).toBe(true);
    m.setLink(false);
    expect(d.linkUp()).toBe(false);
  });

  it('a wrong VERSIONR fails with -ENODEV after a bounded number of SPI bytes', () => {
    const st = new Stack('a', undefined, new ManualClock(0), undefined);
    const m = new W5500Mock();
    m.version = 0x51; // a W5100S, say
    expect(attachW5500(st, m, m, MAC_A, 'eth0')).toBe(-ENODEV);
    expect(st.link.devs.length).toBe(0);
    expect(m.bytes).toBeLessThan(20);
    expect(m.status()).toBe(SOCK_CLOSED);
  });

  it('a chip stuck in reset or a command never accepted fails with -ETIMEDOUT, bounded', () => {
    const st = new Stack('a', undefined, new ManualClock(0), undefined);
    const m = new W5500Mock();
    m.resetBusyReads = 1000000;
    const d = new W5500Driver(st, m, m, MAC_A, { spinMax: 50 });
    expect(d.init()).toBe(-ETIMEDOUT);
    expect(d.spinTimeouts).toBe(1);
    expect(m.bytes).toBeLessThanOrEqual(4 + 50 * 4);
    // slow but finite reset and a slow command: fine
    const m2 = new W5500Mock();
    m2.resetBusyReads = 10;
    m2.cmdBusyReads = 5;
    const d2 = new W5500Driver(st, m2, m2, MAC_A, { spinMax: 50 });
    expect(d2.init()).toBe(0);
    const m3 = new W5500Mock();
    m3.cmdBusyReads = 1000000;
    const d3 = new W5500Driver(st, m3, m3, MAC_A, { spinMax: 20 });
    expect(d3.init()).toBe(-ETIMEDOUT);
    expect(d3.ready).toBe(false);
    expect(new W5500Driver(st, m, null, MAC_A, { rxKb: 3 }).init()).toBe(-EINVAL);
  });

  it('a driver that failed init drops frames (counted) and never polls', () => {
    const st = new Stack('a', undefined, new ManualClock(0), undefined);
    const m = new W5500Mock();
    m.version = 0;
    const d = new W5500Driver(st, m, m, MAC_A);
    expect(d.init()).toBe(-ENODEV);
    expect(d.initError).toBe(-ENODEV);
    const dev = registerNetdev(st, 'eth0', MAC_A, 1500, d);
    expect(devOpen(st, dev)).toBe(0);
    const b0 = m.bytes;
    const skb = st.pool.alloc(60);
    st.pool.put(skb, 60);
    st.pool.dev[skb] = dev;
    expect(devQueueXmit(st, skb)).toBe(0);
    expect(st.link.devs[dev].stats.v[DEV_TX_DROPPED]).toBe(1);
    expect(d.poll(st.link.devs[dev], 16)).toBe(0);
    expect(m.bytes).toBe(b0);
    expect(st.pool.inUse()).toBe(0);
  });
});

describe('W5500: two stacks over two mock chips', () => {
  it('ARP + ping both ways', () => {
    const e = w5500Pair();
    const ra = new EchoRec();
    const rb = new EchoRec();
    e.a.icmp.echoHandler = ra;
    e.b.icmp.echoHandler = rb;
    expect(icmpPing(e.a, IP_B, 0x77, 1, 56)).toBe(0);
    run(e, 20);
    expect(icmpPing(e.b, IP_A, 0x88, 2, 0)).toBe(0);
    run(e, 20);
    expect(ra.replies).toEqual([{ saddr: IP_B >>> 0, ident: 0x77, seq: 1, len: 56 }]);
    expect(rb.replies).toEqual([{ saddr: IP_A >>> 0, ident: 0x88, seq: 2, len: 0 }]);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    expect(e.wa.rxFrames).toBeGreaterThanOrEqual(2); // ARP reply + echo reply (+ request)
    expect(e.ca.txFrames).toBe(e.cb.rxFrames + e.cb.rxDropFilter);
    expect(e.wa.rxLengthErrors + e.wb.rxLengthErrors).toBe(0);
    finish(e);
  });

  it('a 3000-byte ping is fragmented, carried in 3 frames each way and reassembled', () => {
    const e = w5500Pair();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    expect(icmpPing(e.a, IP_B, 1, 1, 8)).toBe(0); // resolve ARP
    run(e, 20);
    const txA = e.ca.txFrames;
    const txB = e.cb.txFrames;
    expect(icmpPing(e.a, IP_B, 1, 2, 3000)).toBe(0);
    run(e, 30);
    expect(ra.replies.map((r) => r.len)).toEqual([8, 3000]);
    expect(e.a.icmp.echoPatternErrors).toBe(0);
    expect(e.ca.txFrames - txA).toBe(3);
    expect(e.cb.txFrames - txB).toBe(3);
    expect(e.b.mib.ipB.get('ReasmOKs')).toBe(1);
    expect(e.a.mib.ipB.get('ReasmOKs')).toBe(1);
    finish(e);
  });

  it('UDP datagrams both ways through the socket API', () => {
    const e = w5500Pair();
    const fa = socket(e.a, SOCK_DGRAM, 0);
    const fb = socket(e.b, SOCK_DGRAM, 0);
    expect(bind(e.a, fa, 0, 4000)).toBe(0);
    expect(bind(e.b, fb, 0, 5000)).toBe(0);
    const msg = new Uint8Array(1000);
    for (let i = 0; i < msg.length; i++) msg[i] = (i * 7) & 0xff;
    expect(sendto(e.a, fa, msg, 0, 1000, IP_B, 5000)).toBe(1000);
    run(e, 20);
    const buf = new Uint8Array(2000);
    const from = new Int32Array(2);
    expect(recvfrom(e.b, fb, buf, 0, 2000, from)).toBe(1000);
    expect(from[0]).toBe(IP_A);
    expect(from[1]).toBe(4000);
    for (let i = 0; i < 1000; i++) if (buf[i] !== msg[i]) throw new Error('payload mismatch at ' + i);
    expect(sendto(e.b, fb, msg, 10, 300, IP_A, 4000)).toBe(300);
    run(e, 20);
    expect(recvfrom(e.a, fa, buf, 0, 2000, null)).toBe(300);
    expect(buf[0]).toBe(msg[10]);
    expect(buf[299]).toBe(msg[309]);
    expect(close(e.a, fa)).toBe(0);
    expect(close(e.b, fb)).toBe(0);
    finish(e);
  });

  it('through the simulation switch: ping across W5500SimPorts', () => {
    const e = w5500Pair({ viaSwitch: true });
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    for (let s = 1; s <= 5; s++) {
      expect(icmpPing(e.a, IP_B, 3, s, 100 * s)).toBe(0);
      run(e, 10);
    }
    expect(ra.replies.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const sw = e.sim!.switches[0];
    expect(sw.received).toBeGreaterThanOrEqual(12);
    expect(sw.forwarded).toBeGreaterThanOrEqual(10);
    finish(e);
  });

  for (const v of [
    { name: '16 KB rings', optsB: {}, n: 120, size: 1000 },
    { name: '2 KB RX ring, split transfers', optsB: { rxKb: 2, txKb: 2, splitWrap: true }, n: 150, size: 700 },
  ]) {
    it('RX ring wraparound over many frames (' + v.name + ')', () => {
      const e = w5500Pair({ optsA: { splitWrap: v.optsB.splitWrap === true }, optsB: v.optsB });
      const ra = new EchoRec();
      e.a.icmp.echoHandler = ra;
      for (let s = 0; s < v.n; s++) {
        // odd sizes so frames straddle the ring end at many offsets
        expect(icmpPing(e.a, IP_B, 9, s, v.size + (s % 13))).toBe(0);
        run(e, 2);
      }
      run(e, 10);
      expect(ra.replies.length).toBe(v.n);
      for (let s = 0; s < v.n; s++) expect(ra.replies[s].len).toBe(v.size + (s % 13));
      expect(e.a.icmp.echoPatternErrors).toBe(0);
      // the free-running 16-bit pointers wrapped past 0xffff (more than 64 KB went through B)
      expect(e.cb.rxBytes + 2 * e.cb.rxFrames).toBeGreaterThan(65536);
      expect(e.cb.rxWritePtr()).toBe((e.cb.rxBytes + 2 * e.cb.rxFrames) & 0xffff);
      expect(e.cb.rxUsed()).toBe(0);
      expect(e.cb.rxDropFull).toBe(0);
      expect(e.wb.rxLengthErrors).toBe(0);
      finish(e);
    });
  }

  it('TX busy while the transmitter is stalled or the TX buffer is full, then recovery', () => {
    const e = w5500Pair({ optsA: { txKb: 2 } });
    const fa = socket(e.a, SOCK_DGRAM, 0);
    const fb = socket(e.b, SOCK_DGRAM, 0);
    expect(bind(e.b, fb, 0, 7)).toBe(0);
    expect(setsockopt(e.b, fb, SOL_SOCKET, SO_RCVBUF, 65536)).toBeGreaterThanOrEqual(0);
    const msg = new Uint8Array(1400);
    expect(sendto(e.a, fa, msg, 0, 10, IP_B, 7)).toBe(10); // resolve ARP
    run(e, 20);
    const buf = new Uint8Array(2000);
    expect(recvfrom(e.b, fb, buf, 0, 2000, null)).toBe(10);
    const tx0 = e.ca.txFrames;
    e.ca.stallTx = true;
    // first big datagram goes into the chip (SEND held); the second cannot fit in 2 KB
    for (let i = 0; i < 4; i++) {
      msg[0] = i;
      expect(sendto(e.a, fa, msg, 0, 1400, IP_B, 7)).toBe(1400);
    }
    run(e, 5);
    expect(e.wa.txBusyFsr).toBeGreaterThan(0);
    const dev = e.a.link.devs[e.da];
    expect(dev.txStopped).toBe(true);
    expect(dev.qdisc.qlen).toBe(3);
    expect(e.ca.txFrames).toBe(tx0); // the first datagram is held in the chip
    e.ca.releaseTx();
    run(e, 5); // second frame written and SEND issued (stall still on)
    expect(dev.qdisc.qlen).toBe(2);
    e.ca.stallTx = false;
    e.ca.releaseTx();
    run(e, 20);
    expect(dev.qdisc.qlen).toBe(0);
    expect(dev.txStopped).toBe(false);
    const got: number[] = [];
    let n = recvfrom(e.b, fb, buf, 0, 2000, null);
    while (n > 0) {
      got.push(buf[0]);
      n = recvfrom(e.b, fb, buf, 0, 2000, null);
    }
    expect(got).toEqual([0, 1, 2, 3]);
    expect(e.ca.sendWhileBusy).toBe(0);
    expect(close(e.a, fa)).toBe(0);
    expect(close(e.b, fb)).toBe(0);
    finish(e);
  });

  it('a small TX buffer with a tiny frame: busy on a pending SEND (no SEND_OK yet)', () => {
    const e = w5500Pair();
    const ra = new EchoRec();
    e.a.icmp.echoHandler = ra;
    expect(icmpPing(e.a, IP_B, 1, 1, 8)).toBe(0);
    run(e, 20);
    e.ca.stallTx = true;
    expect(icmpPing(e.a, IP_B, 1, 2, 8)).toBe(0);
    expect(icmpPing(e.a, IP_B, 1, 3, 8)).toBe(0);
    expect(e.wa.txBusySend).toBeGreaterThan(0);
    e.ca.stallTx = false;
    e.ca.releaseTx();
    run(e, 20);
    expect(ra.replies.map((r) => r.seq)).toEqual([1, 2, 3]);
    finish(e);
  });

  it('RX buffer full: frames beyond 16 KB are dropped and counted by the chip', () => {
    const e = w5500Pair({ over: { skbSmallCount: 64 } });
    const fa = socket(e.a, SOCK_DGRAM, 0);
    const fb = socket(e.b, SOCK_DGRAM, 0);
    expect(bind(e.b, fb, 0, 9)).toBe(0);
    expect(setsockopt(e.b, fb, SOL_SOCKET, SO_RCVBUF, 65536)).toBeGreaterThanOrEqual(0);
    const msg = new Uint8Array(1400);
    expect(sendto(e.a, fa, msg, 0, 1, IP_B, 9)).toBe(1);
    run(e, 20);
    const buf = new Uint8Array(2000);
    expect(recvfrom(e.b, fb, buf, 0, 2000, null)).toBe(1);
    // B is not polled while A sends 15 full frames (1442 + 2 bytes each in the chip)
    const N = 15;
    for (let i = 0; i < N; i++) {
      msg[0] = i;
      expect(sendto(e.a, fa, msg, 0, 1400, IP_B, 9)).toBe(1400);
      e.a.poll();
    }
    const fit = Math.floor(16384 / (1400 + 28 + 14 + 2));
    expect(e.cb.rxDropFull).toBe(N - fit);
    expect(e.cb.rxUsed()).toBe(fit * (1400 + 28 + 14 + 2));
    run(e, 20);
    const got: number[] = [];
    let n = recvfrom(e.b, fb, buf, 0, 2000, null);
    while (n > 0) {
      got.push(buf[0]);
      n = recvfrom(e.b, fb, buf, 0, 2000, null);
    }
    const want: number[] = [];
    for (let i = 0; i < fit; i++) want.push(i);
    expect(got).toEqual(want);
    // and traffic flows again
    expect(sendto(e.a, fa, msg, 0, 5, IP_B, 9)).toBe(5);
    run(e, 10);
    expect(recvfrom(e.b, fb, buf, 0, 2000, null)).toBe(5);
    expect(close(e.a, fa)).toBe(0);
    expect(close(e.b, fb)).toBe(0);
    finish(e);
  });

  for (const bad of [0xffff, 1, 2, 1000]) {
    it('a corrupted MACRAW length header (' + bad + ') is counted and the driver resyncs', () => {
      const e = w5500Pair();
      const ra = new EchoRec();
      e.a.icmp.echoHandler = ra;
      expect(icmpPing(e.a, IP_B, 1, 1, 8)).toBe(0);
      run(e, 20);
      e.cb.corruptNextHeader = bad;
      expect(icmpPing(e.a, IP_B, 1, 2, 100)).toBe(0);
      run(e, 20);
      expect(e.wb.rxLengthErrors).toBe(1);
      expect(e.wb.rxResyncBytes).toBe(100 + 8 + 20 + 14 + 2);
      expect(e.b.link.devs[e.db].stats.v[DEV_RX_ERRORS]).toBe(1);
      expect(e.cb.rxUsed()).toBe(0);
      expect(icmpPing(e.a, IP_B, 1, 3, 100)).toBe(0);
      run(e, 20);
      expect(ra.replies.map((r) => r.seq)).toEqual([1, 3]);
      finish(e);
    });
  }

  it('MAC filter: MFEN drops unicast for others in the chip; without it the stack drops them', () => {
    const other = new Uint8Array([0x02, 0x55, 0, 0, 0, 0x0c]);
    const e = w5500Pair();
    const r0 = e.cb.rxFrames;
    expect(xmitRaw(e, 64, other)).toBe(0);
    expect(e.cb.rxDropFilter).toBe(1);
    expect(e.cb.rxFrames).toBe(r0);
    const e2 = w5500Pair({ optsB: { macFilter: false } });
    const before = e2.cb.rxFrames;
    expect(xmitRaw(e2, 64, other)).toBe(0);
    expect(e2.cb.rxFrames).toBe(before + 1);
    run(e2, 5);
    expect(e2.b.mib.link[LINK_RXNOTFORUS]).toBe(1);
    finish(e);
    finish(e2);
  });

  it('oversize frames from the stack are dropped by the driver, not sent', () => {
    const e = w5500Pair({ over: { skbSmallSize: 2048 }, optsA: { txKb: 1 } });
    const tx = e.ca.txFrames;
    expect(xmitRaw(e, 1200, MAC_B)).toBe(0); // does not fit a 1 KB TX buffer
    expect(e.wa.txOversize).toBe(1);
    expect(e.ca.txFrames).toBe(tx);
    expect(xmitRaw(e, 1000, MAC_B)).toBe(0);
    expect(e.ca.txFrames).toBe(tx + 1);
    finish(e);
  });

  it('SPI bytes per frame: 64 and 1514 bytes, transmit and receive; idle polls cost nothing with INTn', () => {
    const e = w5500Pair();
    const res: { [k: string]: number } = {};
    for (const len of [64, 1514]) {
      xmitRaw(e, 60, MAC_B); // leaves a SEND pending: the steady state
      run(e, 2);
      const a0 = e.ca.bytes;
      expect(xmitRaw(e, len, MAC_B)).toBe(0);
      res['tx' + len] = e.ca.bytes - a0;
      const b0 = e.cb.bytes;
      expect(e.wb.poll(e.b.link.devs[e.db], 16)).toBe(1);
      res['rx' + len] = e.cb.bytes - b0;
      run(e, 2);
    }
    const H = SPI_HDR_LEN;
    // TX: FSR read, IR read, IR clear, data burst, TX_WR write, SEND
    const tx = (len: number): number => H + 2 + (H + 1) + (H + 1) + (H + len) + (H + 2) + (H + 1);
    // RX: IR clear, RSR read, length header, data burst, RX_RD write, RECV
    const rx = (len: number): number => H + 1 + (H + 2) + (H + MACRAW_HDR_LEN) + (H + len) + (H + 2) + (H + 1);
    expect(res).toEqual({ tx64: tx(64), rx64: rx(64), tx1514: tx(1514), rx1514: rx(1514) });
    expect(res.tx64).toBe(89);
    expect(res.rx64).toBe(90);
    // idle: INTn high, no SPI traffic at all
    const a0 = e.ca.bytes;
    const b0 = e.cb.bytes;
    run(e, 10);
    expect(e.ca.bytes - a0).toBe(0);
    expect(e.cb.bytes - b0).toBe(0);
    finish(e);
    // without the INT line every poll reads Sn_RX_RSR (5 bytes)
    const e2 = w5500Pair({ irq: false });
    const c0 = e2.ca.bytes;
    e2.a.poll();
    expect(e2.ca.bytes - c0).toBe(H + 2);
    finish(e2);
  });
});
