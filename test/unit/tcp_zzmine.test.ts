import { it } from 'vitest';
import { tcpLan, connect, Pump } from '../scenario/tcp_helpers';
it('r2', () => {
  const bad: string[] = [];
  for (let seed = 3200; seed < 3240; seed++) {
    const lan = tcpLan(seed);
    const { sim, a, b } = lan;
    sim.stepMs = 50;
    sim.setFaults(a.h, { delayMs: 1, loss: 0.05 });
    const { c, s } = connect(lan, 80, 60000);
    const pa = new Pump(a.h, c, 1 << 20, seed, seed + 1);
    const pb = new Pump(b.h, s, 0, seed + 1, seed);
    pb.shutAfterEof = true;
    sim.addTicker(pa); sim.addTicker(pb);
    sim.runUntil(() => pb.got > 100000, 600000);
    pb.paused = true;
    sim.run(1800000);
    if (a.h.st.tcp.state[c] !== 1 || pa.error !== 0) bad.push(seed + ' ' + a.h.st.tcp.state[c] + ' ' + pa.error);
  }
  console.log('BAD', bad.length, bad.join(';'));
}, 600000);
