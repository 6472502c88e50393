import { it } from 'vitest';
import { Sim, SimHost, SimTicker } from '../../src/sim/world';
import { makeLan } from './helpers';
import { ensureTcp, pattern } from '../unit/tcp_util';
import { get16, get32 } from '../../src/core/bytes';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpConnect, tcpSend, tcpRecv } from '../../src/transport/tcp/tcp_api';
const lines: string[] = [];
class Sink { constructor(readonly name: string) {} record(ts: number, b: Uint8Array, o: number, len: number) {
  if (get16(b, o + 12) !== 0x800 || b[o + 23] !== 6) return;
  const ip = o + 14; const th = ip + (b[ip] & 15) * 4; const hl = (b[th + 12] >> 4) * 4;
  let tsv = -1, tse = -1;
  for (let p = th + 20; p < th + hl;) { const k = b[p]; if (k === 1) { p++; continue; } if (k === 0) break; if (k === 8) { tsv = get32(b, p + 2); tse = get32(b, p + 6); } p += b[p + 1]; }
  lines.push(`${ts.toFixed(1)} ${this.name} ${get16(b, th)}>${get16(b, th + 2)} f=${b[th + 13].toString(16)} seq=${get32(b, th + 4)} ack=${get32(b, th + 8)} len=${get16(b, ip + 2) - (th - ip) - hl} win=${get16(b, th + 14)} tsv=${tsv} tse=${tse}`);
} }
class P implements SimTicker { sent = 0; got = 0; inb = new Uint8Array(2 << 20);
  constructor(readonly h: SimHost, public t: number, readonly out: Uint8Array) {}
  onTick() { const st = this.h.st; let n = 0; if (this.sent < this.out.length) { const r = tcpSend(st, this.t, this.out, this.sent, this.out.length - this.sent); if (r > 0) { this.sent += r; n++; } }
    for (;;) { const r = tcpRecv(st, this.t, this.inb, this.got, 4096); if (r > 0) { this.got += r; n++; } else break; } return n; } }
it('dbg', () => {
  const sim = new Sim({ seed: 1 });
  const [a, b] = makeLan(sim, 2);
  ensureTcp(a.h.st); ensureTcp(b.h.st);
  sim.capturePort(a.h, new Sink('a'));
  sim.setFaults(a.h, { loss: 0.02, dup: 0.01, reorder: 0.05, reorderMs: 5, corrupt: 0.01, corruptFrom: 14, delayMs: 2, jitterMs: 1 });
  sim.setFaults(b.h, { loss: 0.01, rateBps: 20000000, delayMs: 1 });
  const l = tcpSocket(b.h.st); tcpBind(b.h.st, l, 0, 8080); tcpListen(b.h.st, l, 2);
  const c = tcpSocket(a.h.st); tcpConnect(a.h.st, c, b.ip, 8080);
  let s = -1; sim.runUntil(() => (s = tcpAccept(b.h.st, l)) >= 0, 30000);
  const pa = new P(a.h, c, pattern(1 << 20, 1)); const pb = new P(b.h, s, pattern(256 << 10, 51));
  sim.addTicker(pa); sim.addTicker(pb);
  sim.run(60000);
  console.log(lines.slice(-5).join('\n')); for (const h of [a.h, b.h]) console.log(h.name, JSON.stringify(h.st.mib.linkB.toObject()), JSON.stringify(h.st.mib.ipB.toObject()), 'pool', h.st.pool.inUse(), h.st.pool.allocFails);
});
