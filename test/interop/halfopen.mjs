// test/interop/halfopen.mjs — "vanishing" clients for hostile.sh: N TCP
// connections, the i-th from local address BASE+i (secondary addresses the
// script put on the tap), each sends half an HTTP request header and then
// waits, until the process is killed (hostile.sh first blackholes the
// addresses in the bridge, so neither FIN nor RST reaches slabnet).
// usage: node halfopen.mjs HOST PORT N A.B.C.BASE [STAGGER_MS [WAIT_MS]]
// (one connection every STAGGER_MS, default 0). Prints `halfopen: K of N
// connected and sent half a request in T ms` once all are (or after WAIT_MS,
// default 5000), then sleeps (60 s at most); `halfopen: closed by the server: C` when
// the server closes any of them.
import * as net from 'node:net';

const [host, portA, nA, base, staggerA, waitA] = process.argv.slice(2);
const port = Number(portA), n = Number(nA), stagger = Number(staggerA || 0), waitMs = Number(waitA || 5000);
const bm = /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(base || '');
if (!host || !(port > 0) || !(n > 0) || !bm) {
  console.error('usage: node halfopen.mjs HOST PORT N A.B.C.BASE');
  process.exit(2);
}
const HALF = 'GET /bytes/1000 HTTP/1.1\r\nHost: halfopen\r\nUser-';
const t0 = Date.now();
let ready = 0, closed = 0, errors = 0, announced = false;
const announce = () => {
  if (announced) return;
  announced = true;
  console.log('halfopen: ' + ready + ' of ' + n + ' connected and sent half a request in ' + (Date.now() - t0) + ' ms' + (errors ? ', ' + errors + ' errors' : ''));
};
function open(i) {
  const localAddress = bm[1] + '.' + (Number(bm[2]) + i);
  const s = net.connect({ host, port, localAddress });
  s.on('connect', () => {
    s.write(HALF, () => {
      if (++ready === n) announce();
    });
  });
  s.on('data', () => {});
  s.on('error', () => errors++);
  s.on('close', () => {
    closed++;
    console.log('halfopen: closed by the server: ' + closed + ' (' + localAddress + ' after ' + (Date.now() - t0) + ' ms)');
  });
}
for (let i = 0; i < n; i++) {
  if (stagger > 0) setTimeout(() => open(i), i * stagger);
  else open(i);
}
setTimeout(announce, waitMs);
// wait to be killed, 60 s at most
setTimeout(() => {
  console.log('halfopen: 60 s, exiting');
  process.exit(0);
}, 60000);
