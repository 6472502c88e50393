/*
 * tcp_boards.test.ts — TCP with each board's configuration (boards/):
 * tiny rings (1–2 KB, below one window of full segments), one or two
 * out-of-order ranges, no window scaling, few TCBs and skbs. A transfer
 * both ways under loss must still complete byte-exact, with the sender's
 * and receiver's SWS avoidance and the persist timer keeping it moving.
 */
import { describe, it, expect } from 'vitest';
import { BOARDS, boardConfig } from '../../boards/index';
import { makeConfig } from '../../src/config';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, lcg } from './tcp_util';

describe('tcp on board configurations', () => {
  for (const b of BOARDS) {
    // the board's own table sizes; the simulation models TCP even where the bundle compiles it out
    const cfg = makeConfig(b.config);
    if (b.features !== undefined && b.features.tcp === false) {
      it(`${b.id}: TCP compiled out of the bundle, its tables are sized 0`, () => {
        const bc = boardConfig(b);
        expect(bc.tcpMaxSockets).toBe(0);
        expect(bc.tcpSynQueue).toBe(0);
        expect(bc.tcpTimeWaitSlots).toBe(0);
      });
    }
    if (cfg.tcpMaxSockets < 2) {
      it(`${b.id}: one TCB — an active open to a peer with the host config`, () => {
        const e = tcpPair(cfg, { tcpMaxSockets: 4, skbSmallCount: 64 }, cfg.mtu);
        expect(e.a.tcp.n).toBe(1);
        const k = connectPair(e, 80);
        const rnd = lcg(7);
        e.tap.rule = () => rnd() < 0.02;
        const d = pattern(60000, 1);
        expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 300000), d)).toBe(true);
        expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d, 300000), d)).toBe(true);
        e.tap.rule = null;
        expectClean(e);
      });
      continue;
    }
    it(`${b.id}: 60 KB each way under 2% loss between two boards`, () => {
      const e = tcpPair(cfg, undefined, cfg.mtu);
      const k = connectPair(e, 80);
      const rnd = lcg(11);
      e.tap.rule = () => rnd() < 0.02;
      const d = pattern(60000, 2);
      expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 300000), d)).toBe(true);
      expect(sameBytes(transfer(e, e.b, k.s, e.a, k.c, d, 300000), d)).toBe(true);
      e.tap.rule = null;
      expectClean(e);
    });
  }
});
