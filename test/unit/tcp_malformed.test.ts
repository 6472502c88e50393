/*
 * tcp_malformed.test.ts — hostile or broken segments are dropped and
 * counted, never thrown: short header, data offset out of range, bad
 * checksum, malformed options, port 0, broadcast destination; a segment
 * for no socket draws a RST; a RST for no socket does not.
 */
import { describe, it, expect } from 'vitest';
import { tcpPair, connectPair, expectClean, injectA, tcpFrame, IP_B, TEnv } from './tcp_util';
import { s32 } from '../../src/core/bits';
import { tcpSocket, tcpBind, tcpListen } from '../../src/transport/tcp/tcp_api';
import {
  TCPF_SYN, TCPF_FIN, TCPF_ACK, TCPF_RST, TCP_INERRS, TCP_INCSUMERRORS, TCP_INSEGS, TCP_OUTRSTS, TCP_ESTABLISHED,
} from '../../src/transport/tcp/tcp';

function counts(e: TEnv) {
  const m = e.a.tcp.mib;
  return { inErrs: m[TCP_INERRS], csum: m[TCP_INCSUMERRORS], inSegs: m[TCP_INSEGS], rsts: m[TCP_OUTRSTS] };
}

describe('tcp malformed input', () => {
  const base = { sport: 1234, dport: 80, seq: 1, flags: TCPF_SYN };
  const cases: [string, Record<string, unknown>, 'inErrs' | 'csum'][] = [
    ['header shorter than 20 bytes', { truncate: 12 }, 'inErrs'],
    ['data offset < 5', { doff: 4 }, 'inErrs'],
    ['data offset past the segment', { doff: 15 }, 'inErrs'],
    ['bad checksum', { badCsum: true }, 'csum'],
    ['option length 0', { opts: [2, 0, 0, 0] }, 'inErrs'],
    ['option running past the header', { opts: [1, 1, 8, 12] }, 'inErrs'],
    ['option kind without length byte', { opts: [1, 1, 1, 3] }, 'inErrs'],
    ['source port 0', { sport: 0 }, 'inErrs'],
    ['destination port 0', { dport: 0 }, 'inErrs'],
    ['to the subnet broadcast address', { daddr: s32(0xc00002ff) }, 'inErrs'],
  ];
  for (const [name, o, which] of cases) {
    it(`${name}: dropped and counted`, () => {
      const e = tcpPair();
      const before = counts(e);
      e.tap.clear();
      injectA(e, tcpFrame(Object.assign({}, base, o) as never));
      const after = counts(e);
      if (which === 'csum') expect(after.csum).toBe(before.csum + 1);
      expect(after.inErrs).toBe(before.inErrs + 1);
      expect(after.inSegs).toBe(before.inSegs);
      expect(e.tap.segs.length).toBe(0); // no RST for garbage
      expectClean(e);
    });
  }

  it('SYN+FIN to a listening port: dropped and counted in InErrs, no SYN-ACK, no request queued (as Linux)', () => {
    const e = tcpPair();
    const l = tcpSocket(e.a);
    expect(tcpBind(e.a, l, 0, 80)).toBe(0);
    expect(tcpListen(e.a, l, 4)).toBe(0);
    const before = counts(e);
    e.tap.clear();
    injectA(e, tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_SYN | TCPF_FIN, opts: [2, 4, 5, 0xb4] }));
    expect(counts(e).inErrs).toBe(before.inErrs + 1);
    expect(e.a.tcp.rqCount).toBe(0);
    expect(e.tap.segs.length).toBe(0);
    // the same SYN without FIN is answered: the listener works
    injectA(e, tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_SYN, opts: [2, 4, 5, 0xb4] }));
    expect(e.tap.with('A', TCPF_SYN | TCPF_ACK).length).toBe(1);
  });

  it('well-formed SYN to a closed port draws a RST; a RST to a closed port does not', () => {
    const e = tcpPair();
    injectA(e, tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_SYN, opts: [2, 4, 5, 0xb4, 1, 1, 1, 0] }));
    expect(e.a.tcp.mib[TCP_OUTRSTS]).toBe(1);
    const r = e.tap.with('A', TCPF_RST | TCPF_ACK)[0];
    expect(r.ack).toBe(100);
    injectA(e, tcpFrame({ sport: 1234, dport: 80, seq: 99, flags: TCPF_RST }));
    expect(e.a.tcp.mib[TCP_OUTRSTS]).toBe(1);
    expectClean(e);
  });

  it('garbage SACK blocks on an established connection are ignored', () => {
    const e = tcpPair();
    const k = connectPair(e, 80);
    const tp = e.a.tcp;
    // SACK block with end before start, one beyond snd_max, and a D-SACK below snd_una
    const una = tp.sndUna[k.c];
    const blk = (s: number, en: number) => [s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255, en >>> 24, (en >>> 16) & 255, (en >>> 8) & 255, en & 255];
    const opts = [1, 1, 5, 26, ...blk(una + 100, una + 50), ...blk(una + 10, una + 900000), ...blk(una - 100, una - 50)];
    injectA(e, tcpFrame({ sport: e.b.tcp.lport[k.s], dport: tp.lport[k.c], seq: tp.rcvNxt[k.c], ack: una, flags: TCPF_ACK, opts }));
    expect(tp.sbN[k.c]).toBe(0);
    expect(tp.state[k.c]).toBe(TCP_ESTABLISHED);
    expect(e.a.tcp.mib[TCP_INERRS]).toBe(0);
    expect(IP_B).not.toBe(0);
    expectClean(e);
  });
});
