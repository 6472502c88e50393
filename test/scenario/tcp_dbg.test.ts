import { it, expect } from 'vitest';
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import { makeLan } from './helpers';
import { ensureTcp, pattern, sameBytes } from '../unit/tcp_util';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv, tcpClose } from '../../src/transport/tcp/tcp_api';
class P implements SimTicker { sent = 0; got = 0; inb: Uint8Array;
  constructor(readonly h: SimHost, public t: number, readonly out: Uint8Array, n: number) { this.inb = new Uint8Array(n); }
  onTick() { const st = this.h.st; let n = 0; if (this.sent < this.out.length) { const r = tcpSend(st, this.t, this.out, this.sent, this.out.length - this.sent); if (r > 0) { this.sent += r; n++; } }
    for (;;) { const r = tcpRecv(st, this.t, this.inb, this.got, this.inb.length - this.got); if (r > 0) { this.got += r; n++; } else break; } return n; } }
const modes: any[] = [{}, { tcpSack: false }, { tcpTimestamps: false }, { tcpSndBuf: 4096, tcpRcvBuf: 4096 }, { tcpRcvBuf: 100000, tcpSndBuf: 100000 }];
for (let mi = 0; mi < modes.length; mi++) it('stress mode ' + mi, () => {
  const res: string[] = [];
  for (let seed = 1; seed <= 15; seed++) {
    const sim = new Sim({ seed });
    const [a, b] = makeLan(sim, 2, modes[mi]);
    ensureTcp(a.h.st); ensureTcp(b.h.st);
    sim.setFaults(a.h, { loss: 0.05, dup: 0.02, reorder: 0.1, reorderMs: 8, corrupt: 0.02, corruptFrom: 14, delayMs: 3, jitterMs: 2 });
    sim.setFaults(b.h, { loss: 0.03, rateBps: 10000000, delayMs: 1 });
    const l = tcpSocket(b.h.st); tcpBind(b.h.st, l, 0, 8080); tcpListen(b.h.st, l, 2);
    const c = tcpSocket(a.h.st); tcpConnect(a.h.st, c, b.ip, 8080);
    let s = -1; sim.runUntil(() => (s = tcpAccept(b.h.st, l)) >= 0, 60000);
    const up = pattern(300000, seed), down = pattern(200000, seed + 9);
    const pa = new P(a.h, c, up, down.length); const pb = new P(b.h, s, down, up.length);
    sim.addTicker(pa); sim.addTicker(pb);
    const t0 = sim.now();
    const ok = sim.runUntil(() => pa.got === down.length && pb.got === up.length, 900000);
    res.push(`${seed}:${ok ? Math.round(sim.now() - t0) : 'FAIL ' + pa.got + '/' + pb.got}`);
    if (ok) { expect(sameBytes(pb.inb, up)).toBe(true); expect(sameBytes(pa.inb, down)).toBe(true); }
    sim.removeTicker(pa); sim.removeTicker(pb);
    tcpClose(a.h.st, c); tcpClose(b.h.st, s); tcpClose(b.h.st, l);
    sim.run(200000);
    if (a.h.st.tcp.inUse() + b.h.st.tcp.inUse() + a.h.st.pool.inUse() + b.h.st.pool.inUse() !== 0) res.push('LEAK' + seed);
  }
  console.log('mode', mi, res.join(' '));
});
