/*
 * compact_w5500.test.ts — the compact W5500 driver (src/compact/w5500.ts)
 * on the register-level chip model (drivers/w5500/mock.ts) under the
 * compact stack (src/compact/net.ts): init (MACRAW socket 0, buffer sizes,
 * SHAR), a chip that is absent or does not come up, frames from the wire
 * to netInput and the replies back onto the wire, several frames per poll
 * and the budget (INTn), RX and TX ring wrap over many frames of mixed
 * size, a full-size frame sent intact, a torn Sn_RX_RSR read, corrupted MACRAW length headers
 * (no hang, no throw, socket 0 reopened), a stalled SEND, link state.
 */
import { describe, it, expect } from 'vitest';
import { W5500Mock, mockPeek } from '../../drivers/w5500/mock';
import type { SpiBus } from '../../drivers/spi';
import {
  BSB_COMMON, BSB_S0_REG, SHAR, SN_MR, SN_IR, SN_IR_SEND_OK, SN_MR_MACRAW, SN_MR_MFEN, SN_MR_MIP6B, SOCK_MACRAW, SN_RX_RSR, ctrlByte,
} from '../../drivers/w5500/regs';
import { ManualClock } from '../../src/core/clock';
import { ETIMEDOUT, ENODEV, EINVAL } from '../../src/core/errno';
import { Net, netCreate, netSetIp, C_ECHO, C_RX, get16, get32, put16 } from '../../src/compact/net';
import { MAC, PEER, OTHER, IP, PEER_IP, MASK, Wire, arpRequest, echoRequest, expectEchoReply } from './compact_util';
import {
  W5500, w5500Attach, w5500Init, w5500Poll, w5500LinkUp,
  W_RX_BAD, W_TX_DROP, W_TX_FULL, W_TX_STALL, W_TIMEOUT,
} from '../../src/compact/w5500';



interface Env {
  clock: ManualClock;
  chip: W5500Mock;
  wire: Wire;
  n: Net;
  w: W5500;
}

function setup(withIrq: boolean, rxKb?: number, txKb?: number): Env {
  const clock = new ManualClock(1000);
  const chip = new W5500Mock();
  const wire = new Wire();
  chip.attachWire(wire);
  const n = netCreate(null, MAC, clock, 1);
  const w = w5500Attach(n, chip, withIrq ? chip : null, rxKb, txKb);
  if (w === null) throw new Error('w5500Attach failed');
  netSetIp(n, IP, MASK, 0, 0);
  wire.frames.length = 0; // the gratuitous ARP
  return { clock, chip, wire, n, w };
}





function inject(env: Env, f: Uint8Array): boolean {
  return env.chip.receiveFromWire(f, 0, f.length);
}

/** What the driver must never make the model count. */
function expectCleanChip(chip: W5500Mock): void {
  expect(chip.spiShortFrames).toBe(0);
  expect(chip.spiStrayBytes).toBe(0);
  expect(chip.unsupported).toBe(0);
  expect(chip.unmodelled).toBe(0);
  expect(chip.sendWhileBusy).toBe(0);
  expect(chip.txOversize).toBe(0);
  expect(chip.memTooSmall).toBe(0);
}

/** A bus whose MISO always reads `v` (nothing there: FF floating, 00 pulled down). */
function deadBus(v: number): SpiBus {
  return {
    bytes: 0,
    select() {},
    deselect() {},
    transfer(_tx, _to, rx, ro, len) {
      if (rx !== null) rx.fill(v, ro, ro + len);
    },
  };
}

describe('compact W5500 driver', () => {
  it('initialises the chip (socket 0 in MACRAW) and becomes the stack output', () => {
    const env = setup(true);
    expect(env.n.out).toBe(env.w);
    expect(env.w.up).toBe(true);
    expect(env.chip.resets).toBe(1);
    expect(env.chip.status()).toBe(SOCK_MACRAW);
    expect(env.chip.rxBufSize()).toBe(16384);
    expect(env.chip.txBufSize()).toBe(2048);
    expect(mockPeek(env.chip, BSB_S0_REG, SN_MR)).toBe(SN_MR_MACRAW | SN_MR_MFEN | SN_MR_MIP6B);
    for (let i = 0; i < 6; i++) expect(mockPeek(env.chip, BSB_COMMON, SHAR + i)).toBe(MAC[i]);
    expect(w5500LinkUp(env.w)).toBe(true);
    // the gratuitous ARP of netSetIp went out through the chip
    expect(env.chip.txFrames).toBe(1);
    expect(env.w.cnt[W_TIMEOUT]).toBe(0);
    expectCleanChip(env.chip);
  });

  it('returns null for a chip that does not answer, and reports why', () => {
    const n = netCreate(null, MAC, new ManualClock(0), 1);
    // nothing on the bus: MISO floating high or held low
    expect(w5500Attach(n, deadBus(0xff), null)).toBeNull();
    expect(w5500Attach(n, deadBus(0), null)).toBeNull();
    expect(n.out).toBeNull();
    expect(w5500Init(new W5500(deadBus(0xff), null, 16, 2), MAC)).toBe(-ENODEV);
    expect(w5500Init(new W5500(deadBus(0), null, 16, 2), MAC)).toBe(-ENODEV);
    // another chip (VERSIONR is not 0x04)
    const other = new W5500Mock();
    other.version = 0x51;
    other.reset();
    expect(w5500Attach(n, other, other)).toBeNull();
    expect(other.resets).toBe(1); // not reset by the driver
    // a W5500 whose reset never completes, or whose commands are never accepted
    const stuck = new W5500Mock();
    stuck.resetBusyReads = 1000000;
    const ws = new W5500(stuck, null, 16, 2);
    expect(w5500Init(ws, MAC)).toBe(-ETIMEDOUT);
    expect(ws.cnt[W_TIMEOUT]).toBe(1);
    const slow = new W5500Mock();
    slow.cmdBusyReads = 1000000;
    expect(w5500Init(new W5500(slow, null, 16, 2), MAC)).toBe(-ETIMEDOUT);
    // buffer sizes the chip cannot have, or a TX buffer a full frame does not fit
    const ok = new W5500Mock();
    expect(w5500Init(new W5500(ok, null, 3, 2), MAC)).toBe(-EINVAL);
    expect(w5500Init(new W5500(ok, null, 16, 1), MAC)).toBe(-EINVAL);
    expect(w5500Init(new W5500(ok, null, 32, 2), MAC)).toBe(-EINVAL);
    expect(n.out).toBeNull();
    // a board-sized model (4 KB RX, 2 KB TX) with matching buffers
    const small = new W5500Mock(4, 2);
    const w = w5500Attach(n, small, small, 4, 2);
    expect(w).not.toBeNull();
    expect(n.out).toBe(w);
    expect(small.memTooSmall).toBe(0);
    expect(small.status()).toBe(SOCK_MACRAW);
  });

  it('answers an ARP request for its address with an ARP reply on the wire', () => {
    const env = setup(true);
    expect(inject(env, arpRequest(IP))).toBe(true);
    expect(w5500Poll(env.w, env.n, 4)).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    const w = env.wire.frames[0];
    expect(w.length).toBe(60);
    expect(Array.from(w.subarray(0, 6))).toEqual(Array.from(PEER));
    expect(Array.from(w.subarray(6, 12))).toEqual(Array.from(MAC));
    expect(get16(w, 12)).toBe(0x0806);
    expect(get16(w, 20)).toBe(2);
    expect(Array.from(w.subarray(22, 28))).toEqual(Array.from(MAC));
    expect(get32(w, 28)).toBe(IP);
    expect(Array.from(w.subarray(32, 38))).toEqual(Array.from(PEER));
    expect(get32(w, 38)).toBe(PEER_IP);
    // an ARP request for someone else gets no answer; a frame to another MAC is filtered by the chip (MFEN)
    inject(env, arpRequest(PEER_IP + 5));
    const other = echoRequest(1, 8);
    other.set(OTHER, 0);
    expect(inject(env, other)).toBe(false);
    expect(w5500Poll(env.w, env.n, 4)).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    expect(env.chip.rxUsed()).toBe(0);
    expectCleanChip(env.chip);
  });

  it('answers an ICMP echo request', () => {
    const env = setup(true);
    inject(env, echoRequest(7, 56));
    expect(w5500Poll(env.w, env.n, 4)).toBe(1);
    expect(env.n.cnt[C_ECHO]).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    expectEchoReply(env.wire.frames[0], 7, 56);
    expect(env.chip.rxUsed()).toBe(0);
    expectCleanChip(env.chip);
  });

  it('takes several frames in one poll, and no more than the budget (INTn idle for the rest)', () => {
    for (const irq of [true, false]) {
      const env = setup(irq);
      for (let i = 0; i < 5; i++) inject(env, echoRequest(i, 100 + i));
      expect(w5500Poll(env.w, env.n, 16)).toBe(5);
      expect(env.wire.frames.length).toBe(5);
      for (let i = 0; i < 5; i++) expectEchoReply(env.wire.frames[i], i, 100 + i);
      expect(env.chip.rxUsed()).toBe(0);
      for (let i = 0; i < 5; i++) inject(env, echoRequest(10 + i, 20));
      expect(w5500Poll(env.w, env.n, 2)).toBe(2);
      // RECV was cleared by that poll: INTn is idle, yet frames are left
      if (irq) expect(env.chip.asserted()).toBe(false);
      expect(w5500Poll(env.w, env.n, 2)).toBe(2);
      expect(w5500Poll(env.w, env.n, 2)).toBe(1);
      expect(w5500Poll(env.w, env.n, 2)).toBe(0);
      expect(env.wire.frames.length).toBe(10);
      for (let i = 0; i < 5; i++) expectEchoReply(env.wire.frames[5 + i], 10 + i, 20);
      // an idle poll with INTn idle costs no SPI
      const b0 = env.chip.bytes;
      w5500Poll(env.w, env.n, 4);
      if (irq) expect(env.chip.bytes).toBe(b0);
      else expect(env.chip.bytes).toBeGreaterThan(b0);
      expectCleanChip(env.chip);
    }
  });

  it('follows the RX and TX rings across their ends over many frames of mixed size', () => {
    for (const rxKb of [16, 4, 2]) {
      const env = setup(true, rxKb, 2);
      const size = rxKb * 1024;
      let seq = 0;
      let rxCross = 0;
      let txCross = 0;
      const sizes = [1472, 300, 17, 999, 64, 1, 1000, 513];
      for (let round = 0; round < 60; round++) {
        const k = rxKb === 2 ? 1 : 3;
        let txAt = env.chip.txReadPtr();
        for (let j = 0; j < k; j++) {
          const sz = sizes[(round + j) % sizes.length];
          const at = env.chip.rxWritePtr();
          if ((at & (size - 1)) + 2 + 42 + sz > size) rxCross++;
          const reply = Math.max(60, 42 + sz);
          if ((txAt & 2047) + reply > 2048) txCross++;
          txAt += reply;
          expect(inject(env, echoRequest(seq + j, sz))).toBe(true);
        }
        const f0 = env.chip.spiFrames;
        const before = env.wire.frames.length;
        expect(w5500Poll(env.w, env.n, 8)).toBe(k);
        expect(env.wire.frames.length).toBe(before + k);
        for (let j = 0; j < k; j++) expectEchoReply(env.wire.frames[before + j], seq + j, sizes[(round + j) % sizes.length]);
        // per frame and its reply: header, data (two at a wrap), RX_RD, RECV; IR, IR clear, FSR, data, TX_WR, SEND
        expect((env.chip.spiFrames - f0) / k).toBeLessThanOrEqual(14);
        seq += k;
      }
      expect(rxCross).toBeGreaterThan(0);
      expect(txCross).toBeGreaterThan(0);
      expect(env.w.cnt[W_RX_BAD]).toBe(0);
      expect(env.w.cnt[W_TX_STALL] + env.w.cnt[W_TX_FULL] + env.w.cnt[W_TX_DROP]).toBe(0);
      expect(env.chip.rxDropFull).toBe(0);
      expect(env.n.cnt[C_ECHO]).toBe(seq);
      expectCleanChip(env.chip);
    }
  });

  it('sends a 1514-byte frame intact, back to back across the TX ring end; drops a longer one', () => {
    const env = setup(true);
    const f = new Uint8Array(1514);
    f.set(PEER, 0);
    f.set(MAC, 6);
    put16(f, 12, 0x88b5);
    for (let i = 14; i < f.length; i++) f[i] = (i * 7 + 3) & 0xff;
    for (let k = 0; k < 4; k++) {
      f[100] = k;
      env.w.xmit(f, 1514);
      expect(env.wire.frames.length).toBe(k + 1);
      expect(env.wire.frames[k].length).toBe(1514);
      expect(Buffer.compare(Buffer.from(env.wire.frames[k]), Buffer.from(f))).toBe(0);
    }
    env.w.xmit(new Uint8Array(1600), 1515);
    env.w.xmit(f, 0);
    expect(env.w.cnt[W_TX_DROP]).toBe(2);
    expect(env.wire.frames.length).toBe(4);
    expectCleanChip(env.chip);
  });

  it('drops (and counts) a frame while a SEND is stuck or Sn_TX_FSR is short, then sends again', () => {
    const env = setup(true);
    const f = echoRequest(1, 40);
    const g = echoRequest(2, 40);
    env.chip.stallTx = true;
    env.w.xmit(f, f.length);
    expect(env.wire.frames.length).toBe(0);
    env.w.xmit(g, g.length);
    expect(env.w.cnt[W_TX_STALL]).toBe(1);
    env.chip.releaseTx();
    expect(env.wire.frames.length).toBe(1);
    expect(Array.from(env.wire.frames[0])).toEqual(Array.from(f));
    env.chip.stallTx = false;
    env.w.xmit(g, g.length);
    expect(env.wire.frames.length).toBe(2);
    expect(Array.from(env.wire.frames[1])).toEqual(Array.from(g));
    // SEND_OK raised while the frame still occupies the buffer: the next full frame does not fit
    const big = new Uint8Array(1514);
    big.set(PEER, 0);
    env.chip.stallTx = true;
    env.w.xmit(big, 1514);
    env.chip.sock[SN_IR] |= SN_IR_SEND_OK;
    env.w.xmit(big, 1514);
    expect(env.w.cnt[W_TX_FULL]).toBe(1);
    env.chip.releaseTx();
    env.chip.stallTx = false;
    env.w.xmit(g, g.length);
    expect(env.wire.frames.length).toBe(4);
    expect(Array.from(env.wire.frames[3])).toEqual(Array.from(g));
    expectCleanChip(env.chip);
  });

  it('reopens socket 0 on a corrupted MACRAW length header, without hanging or throwing', () => {
    const env = setup(true);
    // at most its own 2 bytes, beyond a full frame, beyond what the chip holds
    const bad = [0, 1, 2, 0xffff, 1517, 42 + 30 + 2 + 200];
    let count = 0;
    for (const h of bad) {
      const out = env.wire.frames.length;
      inject(env, echoRequest(1, 30));
      env.chip.corruptNextHeader = h;
      inject(env, echoRequest(2, 30));
      const opens = env.chip.commands;
      let got = -1;
      expect(() => {
        got = w5500Poll(env.w, env.n, 8);
      }).not.toThrow();
      count++;
      expect(got).toBe(1);
      expect(env.w.cnt[W_RX_BAD]).toBe(count);
      expect(env.chip.commands).toBeGreaterThan(opens);
      expect(env.chip.status()).toBe(SOCK_MACRAW);
      expect(env.chip.rxUsed()).toBe(0);
      expect(env.wire.frames.length).toBe(out + 1);
      expectEchoReply(env.wire.frames[out], 1, 30);
      // the chip receives and sends again
      inject(env, echoRequest(3, 30));
      expect(w5500Poll(env.w, env.n, 8)).toBe(1);
      expectEchoReply(env.wire.frames[out + 1], 3, 30);
    }
    expectCleanChip(env.chip);
  });

  it('reads Sn_RX_RSR again when a header claims more than it said (a torn 16-bit read)', () => {
    const env = setup(false);
    inject(env, echoRequest(1, 300));
    // the next Sn_RX_RSR read answers with its high byte 0 (344 reads as 88: less than the frame's 346)
    const chip = env.chip;
    const transfer = chip.transfer.bind(chip);
    let rsrHdr = false;
    let torn = 0;
    chip.transfer = (tx, txOff, rx, rxOff, len): void => {
      transfer(tx, txOff, rx, rxOff, len);
      if (rsrHdr && rx !== null && len === 2 && torn === 0) {
        rx[rxOff] = 0;
        torn++;
      }
      rsrHdr = tx !== null && len === 3 && get16(tx, txOff) === SN_RX_RSR && tx[txOff + 2] === ctrlByte(BSB_S0_REG, false);
    };
    expect(w5500Poll(env.w, env.n, 4)).toBe(1);
    expect(torn).toBe(1);
    expect(env.w.cnt[W_RX_BAD]).toBe(0);
    expectEchoReply(env.wire.frames[0], 1, 300);
    expectCleanChip(env.chip);
  });

  it('keeps trying to reopen socket 0 when the reopen fails; frames meanwhile are dropped', () => {
    const env = setup(true);
    inject(env, echoRequest(1, 30));
    env.chip.corruptNextHeader = 0;
    inject(env, echoRequest(2, 30));
    env.chip.cmdBusyReads = 300;
    expect(w5500Poll(env.w, env.n, 8)).toBe(1);
    expect(env.w.up).toBe(false);
    expect(env.w.cnt[W_TIMEOUT]).toBe(1);
    const f = echoRequest(9, 9);
    env.w.xmit(f, f.length);
    expect(env.w.cnt[W_TX_DROP]).toBe(1);
    env.chip.cmdBusyReads = 0;
    expect(w5500Poll(env.w, env.n, 8)).toBe(0);
    expect(env.w.up).toBe(true);
    const out = env.wire.frames.length;
    inject(env, echoRequest(3, 30));
    expect(w5500Poll(env.w, env.n, 8)).toBe(1);
    expectEchoReply(env.wire.frames[out], 3, 30);
    expect(env.chip.status()).toBe(SOCK_MACRAW);
  });

  it('survives random garbage in the receive ring (bounded, never throws)', () => {
    const env = setup(true, 4, 2);
    let x = 12345;
    const rnd = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const mask = env.chip.rxBufSize() - 1;
    for (let round = 0; round < 300; round++) {
      const k = 1 + (rnd() % 3);
      for (let i = 0; i < k; i++) inject(env, echoRequest(round, rnd() % 600));
      // scribble over the next header or anywhere in the ring
      const at = (rnd() & 1) === 0 ? env.w.rxRd + (rnd() % 3) : rnd();
      env.chip.rxMem[at & mask] = rnd() & 0xff;
      const f0 = env.chip.spiFrames;
      expect(() => w5500Poll(env.w, env.n, 8)).not.toThrow();
      expect(env.chip.spiFrames - f0).toBeLessThan(8 * 20 + 4 * 200 + 20);
      expect(env.w.up).toBe(true);
    }
    expect(env.w.cnt[W_RX_BAD]).toBeGreaterThan(10);
    // still works afterwards
    w5500Poll(env.w, env.n, 64);
    const out = env.wire.frames.length;
    inject(env, echoRequest(1000, 10));
    expect(w5500Poll(env.w, env.n, 8)).toBe(1);
    expectEchoReply(env.wire.frames[out], 1000, 10);
    expectCleanChip(env.chip);
  });

  it('reads the link from PHYCFGR', () => {
    const env = setup(true);
    env.chip.setLink(false);
    expect(w5500LinkUp(env.w)).toBe(false);
    env.chip.setLink(true);
    expect(w5500LinkUp(env.w)).toBe(true);
    expect(env.n.cnt[C_RX]).toBe(0);
  });
});
