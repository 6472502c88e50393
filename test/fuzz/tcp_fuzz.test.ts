/*
 * Fuzz: thousands of seeded hostile TCP segments (valid checksums, so they
 * reach TCP) aimed at an established connection, a listener and closed
 * ports: random flags, sequence and acknowledgment numbers near and far
 * from the windows, random and malformed options, random payload sizes.
 * Nothing may throw; the established connection either survives and still
 * moves data byte-exact, or was reset through a legitimate path; every skb
 * and TCB comes back.
 */
import { describe, it, expect } from 'vitest';
import {
  tcpPair, connectPair, expectClean, tcpFrame, transfer, sameBytes, pattern, lcg, run,
} from '../unit/tcp_util';
import { rxFrame } from '../../src/link/dev';
import { TCP_ESTABLISHED, TCP_INSEGS, TCP_INERRS } from '../../src/transport/tcp/tcp';

describe('tcp fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`3000 hostile segments, seed ${seed}`, () => {
      const e = tcpPair();
      const k = connectPair(e, 80);
      const rnd = lcg(seed * 104729);
      const ri = (n: number) => Math.floor(rnd() * n);
      const tp = e.a.tcp;
      const sport = e.b.tcp.lport[k.s];
      const dport = tp.lport[k.c];
      let resets = 0;
      for (let i = 0; i < 3000; i++) {
        const alive = tp.state[k.c] === TCP_ESTABLISHED;
        const nearSeq = (tp.rcvNxt[k.c] + ri(70000) - 35000) | 0;
        const nearAck = (tp.sndUna[k.c] + ri(70000) - 35000) | 0;
        const seq = ri(4) === 0 ? (rnd() * 4294967296) >>> 0 : nearSeq;
        const ack = ri(4) === 0 ? (rnd() * 4294967296) >>> 0 : nearAck;
        // mostly ACK/PSH; sometimes SYN, RST, FIN, URG, everything
        let flags = 0x10;
        const f = ri(10);
        if (f === 0) flags = ri(256);
        else if (f === 1) flags |= 0x01;
        else if (f === 2) flags = 0x04;
        else if (f === 3) flags = 0x02;
        else if (f === 4) flags |= 0x20;
        const nopt = ri(5) === 0 ? ri(11) * 4 : 0;
        const opts: number[] = [];
        for (let j = 0; j < nopt; j++) opts.push(ri(3) === 0 ? ri(256) : [0, 1, 2, 3, 4, 5, 8][ri(7)]);
        const plen = ri(3) === 0 ? ri(1400) : 0;
        const payload = new Uint8Array(plen);
        for (let j = 0; j < plen; j++) payload[j] = ri(256);
        const target = ri(8);
        const dp = target === 0 ? 80 : target === 1 ? 1 + ri(65535) : dport;
        const sp = target === 0 ? 1 + ri(65535) : sport;
        const fr = tcpFrame({ sport: sp, dport: dp, seq, ack, flags, win: ri(65536), opts, payload, toB: target === 0 });
        const st = target === 0 ? e.b : e.a;
        const dev = target === 0 ? e.link.devB : e.link.devA;
        expect(() => {
          rxFrame(st, dev, fr, 0, fr.length);
          if (i % 4 === 0) run(e, 1);
        }).not.toThrow();
        if (alive && tp.state[k.c] !== TCP_ESTABLISHED) resets++;
      }
      run(e, 100);
      expect(e.a.tcp.mib[TCP_INSEGS] + e.a.tcp.mib[TCP_INERRS]).toBeGreaterThan(1000);
      // injected in-window data may have desynchronized the fuzzed connection (that is what
      // blind injection does); the stacks themselves must be intact: a new connection works
      const k2 = connectPair(e, 81);
      const d = pattern(20000, seed);
      expect(sameBytes(transfer(e, e.a, k2.c, e.b, k2.s, d, 60000), d)).toBe(true);
      expect(sameBytes(transfer(e, e.b, k2.s, e.a, k2.c, d, 60000), d)).toBe(true);
      expect(resets).toBeLessThanOrEqual(1);
      expectClean(e);
    });
  }
});
