/*
 * tcp_feature_rack.test.ts — TCP with FEATURE_TCP_RACK off (src/features.ts),
 * as the ESP32 bundle compiles it: no RACK state is allocated whatever
 * cfg.tcpRackSegs says, loss under SACK is recovered by RFC 6675 (DupThresh,
 * rescue retransmission, go-back-N after an RTO) with no loss probe and no
 * undo, exactly as with cfg.tcpRackSegs 0. vi.mock replaces the features
 * module as the Espruino build does.
 */
import { describe, it, expect, vi } from 'vitest';

vi.mock('../../src/features', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/features')>()),
  FEATURE_TCP_RACK: false,
}));

import * as features from '../../src/features';
import { tcpPair, connectPair, transfer, sameBytes, pattern, expectClean, lcg } from './tcp_util';
import {
  F_SACK, TX_SACKRECOVERY, TX_LOSSPROBES, TX_FULLUNDO, TX_DSACKUNDO, TX_LOSSUNDO, TX_RACKTIMEOUTS,
} from '../../src/transport/tcp/tcp';

describe('FEATURE_TCP_RACK off', () => {
  it('the mock is in effect', () => {
    expect(features.FEATURE_TCP_RACK).toBe(false);
    expect(features.FEATURE_TCP_SACK).toBe(true);
  });

  it('no RACK state, although cfg.tcpRackSegs asks for records', () => {
    const e = tcpPair({ tcpRackSegs: 64 });
    expect(e.a.tcp.M).toBe(0);
    expect(e.a.tcp.rk).toBe(null);
    expectClean(e);
  });

  it('a SACK transfer under loss both ways completes by RFC 6675 recovery: no probe, no undo', () => {
    const e = tcpPair({ tcpSndBuf: 32768, tcpRcvBuf: 32768 });
    const k = connectPair(e, 80);
    expect(e.a.tcp.flags[k.c] & F_SACK).not.toBe(0);
    const rnd = lcg(17);
    e.tap.rule = () => rnd() < 0.05;
    const d = pattern(300000, 1);
    expect(sameBytes(transfer(e, e.a, k.c, e.b, k.s, d, 600000), d)).toBe(true);
    const x = e.a.tcp.ext;
    expect(x[TX_SACKRECOVERY]).toBeGreaterThan(0);
    expect(x[TX_LOSSPROBES] + x[TX_RACKTIMEOUTS]).toBe(0);
    expect(x[TX_FULLUNDO] + x[TX_DSACKUNDO] + x[TX_LOSSUNDO]).toBe(0);
    e.tap.rule = null;
    expectClean(e);
  });
});
