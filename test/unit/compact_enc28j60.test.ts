/*
 * compact_enc28j60.test.ts — the compact ENC28J60 driver
 * (src/compact/enc28j60.ts) on the register-level chip model
 * (drivers/enc28j60/mock.ts) under the compact stack (src/compact/net.ts):
 * init, frames from the wire to netInput and the replies back onto the
 * wire, several frames per poll and the budget, ring wrap, overrun,
 * corrupted next packet pointers (no hang, no throw, RX reset), TX of a
 * full-size frame, TX stall and abort recovery (errata 12), INT idle with
 * unreliable PKTIF (errata 6), link changes, and the errata counters of
 * the model (ERXRDPT always odd, TXRST before every transmission).
 */
import { describe, it, expect } from 'vitest';
import { Enc28j60Mock } from '../../drivers/enc28j60/mock';
import type { SpiBus } from '../../drivers/spi';
import { MAMXFLL, MAMXFLH, RX_END, RX_START, OP_BFS, ECON1, ECON1_TXRTS } from '../../drivers/enc28j60/regs';
import { ManualClock } from '../../src/core/clock';
import { ETIMEDOUT, ENODEV } from '../../src/core/errno';
import { Net, netCreate, netSetIp, C_ECHO, C_RX, get16, get32, put16 } from '../../src/compact/net';
import { MAC, PEER, OTHER, IP, PEER_IP, MASK, Wire, arpRequest, echoRequest, expectEchoReply } from './compact_util';
import {
  Enc, encAttach, encInit, encPoll, encLinkUp,
  E_RX_BAD, E_RX_OVER, E_RX_RESET, E_TX_ERR, E_TX_STALL, E_TX_DROP, ENC_IDLE_CHECK_EVERY,
} from '../../src/compact/enc28j60';



interface Env {
  clock: ManualClock;
  chip: Enc28j60Mock;
  wire: Wire;
  n: Net;
  e: Enc;
}

function setup(withIrq: boolean): Env {
  const clock = new ManualClock(1000);
  const chip = new Enc28j60Mock('pico');
  const wire = new Wire();
  chip.attachWire(wire);
  const n = netCreate(null, MAC, clock, 1);
  const e = encAttach(n, chip, withIrq ? chip : null);
  if (e === null) throw new Error('encAttach failed');
  netSetIp(n, IP, MASK, 0, 0);
  wire.frames.length = 0; // the gratuitous ARP
  return { clock, chip, wire, n, e };
}





function inject(env: Env, f: Uint8Array): boolean {
  return env.chip.receiveFromWire(f, 0, f.length);
}

/** Errata the model counts: the driver must never trigger them. */
function expectCleanChip(chip: Enc28j60Mock): void {
  expect(chip.evenRdptWrites).toBe(0);
  expect(chip.rdptErrataHits).toBe(0);
  expect(chip.erxstErrataHits).toBe(0);
  expect(chip.txWithoutReset).toBe(0);
  expect(chip.pktdecUnderflows).toBe(0);
  expect(chip.protocolErrors).toBe(0);
}

describe('compact ENC28J60 driver', () => {
  it('initialises the chip and becomes the stack output', () => {
    const env = setup(true);
    expect(env.n.out).toBe(env.e);
    expect(encLinkUp(env.e)).toBe(true);
    expect(env.chip.resets).toBe(1);
    // the gratuitous ARP of netSetIp went out through the chip
    expect(env.chip.txFrames).toBe(1);
    expectCleanChip(env.chip);
  });

  it('reports a chip that never gets its clock, or no chip at all', () => {
    const chip = new Enc28j60Mock('dead');
    chip.clkReadyAfterReads = -1;
    const n = netCreate(null, MAC, new ManualClock(0), 1);
    expect(encAttach(n, chip, null)).toBeNull();
    expect(n.out).toBeNull();
    expect(encInit(new Enc(chip, null, null), MAC, false)).toBe(-ETIMEDOUT);
    // a bus with nothing on it reads FF: CLKRDY "set", EREVID FF
    const floating: SpiBus = {
      bytes: 0,
      select() {},
      deselect() {},
      transfer(_tx, _to, rx, ro, len) {
        if (rx !== null) rx.fill(0xff, ro, ro + len);
      },
    };
    expect(encInit(new Enc(floating, null, null), MAC, false)).toBe(-ENODEV);
  });

  it('answers an ARP request for its address with an ARP reply on the wire', () => {
    const env = setup(true);
    expect(inject(env, arpRequest(IP))).toBe(true);
    expect(encPoll(env.e, env.n, 4)).toBe(1);
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
    // an ARP request for someone else gets no answer; a frame to another MAC is filtered by the chip
    inject(env, arpRequest(PEER_IP + 5));
    const other = echoRequest(1, 8);
    other.set(OTHER, 0);
    expect(inject(env, other)).toBe(false);
    expect(encPoll(env.e, env.n, 4)).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    expectCleanChip(env.chip);
  });

  it('answers an ICMP echo request', () => {
    const env = setup(true);
    inject(env, echoRequest(7, 56));
    expect(encPoll(env.e, env.n, 4)).toBe(1);
    expect(env.n.cnt[C_ECHO]).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    expectEchoReply(env.wire.frames[0], 7, 56);
    expectCleanChip(env.chip);
  });

  it('takes several frames in one poll, and no more than the budget', () => {
    const env = setup(true);
    for (let i = 0; i < 5; i++) inject(env, echoRequest(i, 100 + i));
    expect(encPoll(env.e, env.n, 16)).toBe(5);
    expect(env.wire.frames.length).toBe(5);
    for (let i = 0; i < 5; i++) expectEchoReply(env.wire.frames[i], i, 100 + i);
    expect(env.chip.epktcnt()).toBe(0);
    for (let i = 0; i < 5; i++) inject(env, echoRequest(10 + i, 20));
    expect(encPoll(env.e, env.n, 2)).toBe(2);
    expect(encPoll(env.e, env.n, 2)).toBe(2);
    expect(encPoll(env.e, env.n, 2)).toBe(1);
    expect(encPoll(env.e, env.n, 2)).toBe(0);
    expect(env.wire.frames.length).toBe(10);
    for (let i = 0; i < 5; i++) expectEchoReply(env.wire.frames[5 + i], 10 + i, 20);
    expectCleanChip(env.chip);
  });

  it('follows the ring across its wrap, full-size frames included, with few SPI transactions per frame', () => {
    const env = setup(true);
    let seq = 0;
    const sizes = [1472, 300, 17, 999, 64, 1];
    for (let round = 0; round < 40; round++) {
      for (let j = 0; j < 3; j++) {
        const sz = sizes[(round + j) % sizes.length];
        expect(inject(env, echoRequest(seq + j, sz))).toBe(true);
      }
      const sel0 = env.chip.selects;
      const bytes0 = env.chip.bytes;
      const before = env.wire.frames.length;
      expect(encPoll(env.e, env.n, 8)).toBe(3);
      expect(env.wire.frames.length).toBe(before + 3);
      for (let j = 0; j < 3; j++) expectEchoReply(env.wire.frames[before + j], seq + j, sizes[(round + j) % sizes.length]);
      if (round === 5) {
        // per received frame + its reply: a bounded number of transactions, bytes ≈ the two frames
        const perFrame = (env.chip.selects - sel0) / 3;
        expect(perFrame).toBeLessThan(40);
        let frameBytes = 0;
        for (let j = 0; j < 3; j++) frameBytes += 2 * (42 + sizes[(round + j) % sizes.length]);
        expect(env.chip.bytes - bytes0 - frameBytes).toBeLessThan(3 * 120);
      }
      seq += 3;
    }
    expect(env.chip.rxWrapped).toBeGreaterThan(0);
    expect(env.e.cnt[E_RX_RESET]).toBe(0);
    expect(env.e.cnt[E_RX_BAD]).toBe(0);
    expectCleanChip(env.chip);
  });

  it('counts an overrun and keeps the frames the chip did store', () => {
    const env = setup(true);
    let stored = 0;
    for (let i = 0; i < 20 && env.chip.rxOverruns === 0; i++) if (inject(env, echoRequest(i, 1000))) stored++;
    expect(env.chip.rxOverruns).toBe(1);
    expect(stored).toBeGreaterThan(3);
    expect(encPoll(env.e, env.n, 32)).toBe(stored);
    expect(env.e.cnt[E_RX_OVER]).toBe(1);
    expect(env.e.cnt[E_RX_RESET]).toBe(0);
    expect(env.wire.frames.length).toBe(stored);
    inject(env, echoRequest(99, 10));
    expect(encPoll(env.e, env.n, 32)).toBe(1);
    expectEchoReply(env.wire.frames[stored], 99, 10);
    expectCleanChip(env.chip);
  });

  it('resets the receive logic on a corrupt next packet pointer, without hanging or throwing', () => {
    const env = setup(true);
    const bad = [
      (at: number): number => at + 1, // odd
      (): number => 0x1ffe, // beyond ERXND
      (at: number): number => at + 2, // in the ring, even, but not where the byte count says
    ];
    let resets = 0;
    for (const nextOf of bad) {
      inject(env, echoRequest(1, 30));
      inject(env, echoRequest(2, 30));
      const at = env.e.next;
      const v = nextOf(at);
      env.chip.mem[at] = v & 0xff;
      env.chip.mem[at + 1] = v >>> 8;
      const out = env.wire.frames.length;
      expect(() => encPoll(env.e, env.n, 8)).not.toThrow();
      resets++;
      expect(env.e.cnt[E_RX_RESET]).toBe(resets);
      expect(env.wire.frames.length).toBe(out);
      expect(env.e.next).toBe(RX_START);
      expect(env.chip.epktcnt()).toBe(0);
      // the chip receives again
      inject(env, echoRequest(3, 30));
      expect(encPoll(env.e, env.n, 8)).toBe(1);
      expectEchoReply(env.wire.frames[out], 3, 30);
    }
    // a bad status vector: the frame is skipped and counted, the next one is fine
    inject(env, echoRequest(4, 30));
    inject(env, echoRequest(5, 30));
    env.chip.mem[env.e.next + 4] = 0x10; // RSV: CRC error, not OK
    expect(encPoll(env.e, env.n, 8)).toBe(2);
    expect(env.e.cnt[E_RX_BAD]).toBe(1);
    expectEchoReply(env.wire.frames[env.wire.frames.length - 1], 5, 30);
    expectCleanChip(env.chip);
  });

  it('survives random garbage in the receive ring (bounded, never throws)', () => {
    const env = setup(true);
    let x = 12345;
    const rnd = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let round = 0; round < 300; round++) {
      const k = 1 + (rnd() % 4);
      for (let i = 0; i < k; i++) inject(env, echoRequest(round, rnd() % 600));
      // scribble over a header or somewhere in the ring
      const at = (rnd() & 1) === 0 ? env.e.next + (rnd() % 6) : rnd() % (RX_END + 1);
      env.chip.mem[at] = rnd() & 0xff;
      const polls0 = env.chip.selects;
      expect(() => encPoll(env.e, env.n, 8)).not.toThrow();
      expect(env.chip.selects - polls0).toBeLessThan(8 * 200 + 1200);
      expect(env.e.next & 1).toBe(0);
      expect(env.e.next).toBeLessThanOrEqual(RX_END);
    }
    expect(env.e.cnt[E_RX_RESET]).toBeGreaterThan(10);
    // still works afterwards
    encPoll(env.e, env.n, 64);
    const out = env.wire.frames.length;
    inject(env, echoRequest(1000, 10));
    expect(encPoll(env.e, env.n, 8)).toBe(1);
    expectEchoReply(env.wire.frames[out], 1000, 10);
    expect(env.chip.evenRdptWrites).toBe(0);
    expect(env.chip.pktdecUnderflows).toBe(0);
  });

  it('sends a 1514-byte frame intact; drops a longer one', () => {
    const env = setup(true);
    const f = new Uint8Array(1514);
    f.set(PEER, 0);
    f.set(MAC, 6);
    put16(f, 12, 0x88b5);
    for (let i = 14; i < f.length; i++) f[i] = (i * 7 + 3) & 0xff;
    env.e.xmit(f, 1514);
    expect(env.wire.frames.length).toBe(1);
    expect(env.wire.frames[0].length).toBe(1514);
    expect(Buffer.compare(Buffer.from(env.wire.frames[0]), Buffer.from(f))).toBe(0);
    // back to back: the single TX buffer is reused
    f[100] ^= 0xff;
    env.e.xmit(f, 1514);
    expect(Buffer.compare(Buffer.from(env.wire.frames[1]), Buffer.from(f))).toBe(0);
    env.e.xmit(new Uint8Array(1600), 1515);
    expect(env.e.cnt[E_TX_DROP]).toBe(1);
    expect(env.wire.frames.length).toBe(2);
    expectCleanChip(env.chip);
  });

  it('recovers from a stalled transmitter (errata 12) and counts an aborted transmission', () => {
    const env = setup(true);
    const f = echoRequest(1, 40);
    // the stall must hit the TXRTS of this frame (the TXRST pulse before it would clear an earlier one)
    const chip = env.chip;
    const transfer = chip.transfer.bind(chip);
    let armed = true;
    chip.transfer = (tx, txOff, rx, rxOff, len): void => {
      if (armed && tx !== null && len === 2 && tx[txOff] === (OP_BFS | ECON1) && tx[txOff + 1] === ECON1_TXRTS) {
        armed = false;
        chip.stallTx();
      }
      transfer(tx, txOff, rx, rxOff, len);
    };
    env.e.xmit(f, f.length);
    expect(chip.txStalls).toBe(1);
    expect(env.wire.frames.length).toBe(0);
    const g = echoRequest(2, 40);
    env.e.xmit(g, g.length);
    expect(env.e.cnt[E_TX_STALL]).toBe(1);
    expect(env.wire.frames.length).toBe(1);
    expect(Array.from(env.wire.frames[0])).toEqual(Array.from(g));
    // an abort: MAMXFL below the frame (the model aborts giants) → TXERIF, seen by the next poll
    env.chip.reg[MAMXFLL & 0x7f] = 100;
    env.chip.reg[MAMXFLH & 0x7f] = 0;
    env.e.xmit(new Uint8Array(200), 200);
    expect(env.chip.txAborts).toBe(1);
    encPoll(env.e, env.n, 4);
    expect(env.e.cnt[E_TX_ERR]).toBe(1);
    env.chip.reg[MAMXFLL & 0x7f] = 1518 & 0xff;
    env.chip.reg[MAMXFLH & 0x7f] = 1518 >>> 8;
    env.e.xmit(g, g.length);
    expect(env.wire.frames.length).toBe(2);
    expect(env.e.cnt[E_TX_ERR]).toBe(1);
    expectCleanChip(env.chip);
  });

  it('with INT idle and PKTIF unreliable (errata 6) still finds frames within a few polls', () => {
    const env = setup(true);
    env.chip.pktifUnreliable = true;
    inject(env, echoRequest(1, 10));
    expect(env.chip.asserted()).toBe(false);
    let polls = 0;
    while (env.wire.frames.length === 0 && polls < 100) {
      encPoll(env.e, env.n, 4);
      polls++;
    }
    expect(polls).toBe(ENC_IDLE_CHECK_EVERY);
    expectEchoReply(env.wire.frames[0], 1, 10);
    // without an IRQ line every poll reads the chip
    const env2 = setup(false);
    env2.chip.pktifUnreliable = true;
    inject(env2, echoRequest(2, 10));
    expect(encPoll(env2.e, env2.n, 4)).toBe(1);
    // an idle poll with INT idle costs no SPI
    const b0 = env.chip.bytes;
    encPoll(env.e, env.n, 4);
    expect(env.chip.bytes).toBe(b0);
  });

  it('follows the link (LINKIF → PHSTAT2)', () => {
    const env = setup(true);
    expect(env.e.link).toBe(true);
    env.chip.setLink(false);
    expect(env.chip.asserted()).toBe(true);
    encPoll(env.e, env.n, 4);
    expect(env.e.link).toBe(false);
    expect(env.chip.asserted()).toBe(false);
    env.chip.setLink(true);
    encPoll(env.e, env.n, 4);
    expect(env.e.link).toBe(true);
    expect(encLinkUp(env.e)).toBe(true);
    expect(env.n.cnt[C_RX]).toBe(0);
  });
});
