import { it } from 'vitest';
import { tcpPair, connectPair, transfer, pattern } from './tcp_util';
import { TX_NOSKB } from '../../src/transport/tcp/tcp';
it('dbg', () => {
  for (const n of [6, 8, 12]) {
  const e = tcpPair({ skbSmallCount: n });
  const k = connectPair(e, 5004);
  const data = pattern(200000, 9);
  const t0 = e.clock.now();
  const got = transfer(e, e.a, k.c, e.b, k.s, data, 120000);
  console.log(n, got.length, e.clock.now() - t0, e.a.tcp.ext[TX_NOSKB], e.b.tcp.ext[TX_NOSKB], e.a.pool.allocFails, e.b.pool.allocFails, JSON.stringify(e.a.mib.linkB.toObject()));
  }
});
