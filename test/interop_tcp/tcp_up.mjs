/*
 * tcp_up.mjs — slabnet TCP against the Linux kernel (run by run.sh inside a
 * network namespace, with tsx): one stack on UDP frames (drivers/host),
 * TCP servers echo (7), discard (9) and source (19: SRC_N pattern bytes,
 * then close); CLIENT=port:bytes makes slabnet connect to 192.0.2.1:port
 * and send that many pattern bytes. LOSS=p drops that fraction of frames
 * in each direction (the container has no netem). SIGTERM prints the
 * Tcp/TcpExt counters as JSON.
 */
import { Stack } from '../../src/stack.ts';
import { UdpFramesDriver } from '../../drivers/host/udpframes.ts';
import { ipAddrAdd } from '../../src/ipv4/devinet.ts';
import { devOpen, devTxComplete } from '../../src/link/dev.ts';
import { s32 } from '../../src/core/bits.ts';
import { initTcp } from '../../src/transport/tcp/tcp_ipv4.ts';
import { tcpSocket, tcpBind, tcpListen, tcpAccept, tcpSend, tcpRecv, tcpClose, tcpConnect, tcpState } from '../../src/transport/tcp/tcp_api.ts';
const clock = { now: () => performance.now() };
const st = new Stack('up', { seed: 12345, tcpRcvBuf: 65536, tcpSndBuf: 65536, skbSmallCount: 128, tcpMaxSockets: 16, timerMax: 256 }, clock, undefined);
const drv = new UdpFramesDriver(st, { lport: 47001, rport: 47002 });
const dev = drv.register('eth0', new Uint8Array([2, 0, 0x5e, 0, 2, 2]), 1500);
const LOSS = Number(process.env.LOSS || 0);
let lostRx = 0, lostTx = 0;
if (LOSS > 0) {
  const om = drv.onMessage.bind(drv);
  drv.onMessage = (m) => { if (Math.random() < LOSS) { lostRx++; if (drv.onRx) drv.onRx(); return; } om(m); };
  const ox = drv.startXmit.bind(drv);
  drv.startXmit = (d, skb) => { if (Math.random() < LOSS) { lostTx++; devTxComplete(st, d, skb); return 0; } return ox(d, skb); };
}
await drv.open();
ipAddrAdd(st, dev, s32(0xc0000202), 24);
if (st.tcp === undefined) initTcp(st);
devOpen(st, dev);
const SRC_N = Number(process.env.SRC_N || 1000000);
const conns = [];
const lis = [];
for (const [port, kind] of [[7, 0], [9, 1], [19, 2]]) {
  const l = tcpSocket(st); tcpBind(st, l, 0, port); tcpListen(st, l, 8); lis.push([l, kind]);
}
const buf = new Uint8Array(65536);
let client = null;
const CLIENT = process.env.CLIENT; // "port:bytes" → connect to 192.0.2.1:port and send bytes
let totalDiscard = 0;
function pat(i) { return (i * 7 + (i >>> 10)) & 0xff; }
function run() {
  for (const [l, kind] of lis) { for (;;) { const c = tcpAccept(st, l); if (c < 0) break; conns.push({ t: c, kind, pend: new Uint8Array(65536), pl: 0, eof: false, sent: 0, got: 0 }); } }
  for (let i = conns.length - 1; i >= 0; i--) {
    const c = conns[i];
    if (c.kind === 2) { // source: send SRC_N pattern bytes then close
      while (c.sent < SRC_N) { const n = Math.min(65536, SRC_N - c.sent); for (let j = 0; j < n; j++) buf[j] = pat(c.sent + j); const r = tcpSend(st, c.t, buf, 0, n); if (r <= 0) break; c.sent += r; }
      if (c.sent >= SRC_N) { tcpClose(st, c.t); conns.splice(i, 1); }
      continue;
    }
    if (c.pl > 0) { const r = tcpSend(st, c.t, c.pend, 0, c.pl); if (r > 0) { c.pend.copyWithin(0, r, c.pl); c.pl -= r; } }
    for (;;) {
      if (c.kind === 0 && c.pl > 0) break;
      const r = tcpRecv(st, c.t, buf, 0, 65536);
      if (r > 0) { c.got += r; if (c.kind === 1) { totalDiscard += r; continue; } const w = tcpSend(st, c.t, buf, 0, r); const ww = w > 0 ? w : 0; c.pend.set(buf.subarray(ww, r), 0); c.pl = r - ww; continue; }
      if (r === 0) c.eof = true;
      break;
    }
    if (c.eof && c.pl === 0) { tcpClose(st, c.t); conns.splice(i, 1); console.log('closed conn kind', c.kind, 'bytes', c.got); }
  }
  if (client !== null) {
    const c = client;
    const [, nstr] = CLIENT.split(':'); const N = Number(nstr);
    while (c.sent < N) { const n = Math.min(65536, N - c.sent); for (let j = 0; j < n; j++) buf[j] = pat(c.sent + j); const r = tcpSend(st, c.t, buf, 0, n); if (r <= 0) break; c.sent += r; }
    if (c.sent >= N && !c.eof) { c.eof = true; tcpClose(st, c.t); console.log('client sent', c.sent, 'state', tcpState(st, c.t)); client = null; }
  }
}
let imm = null; let timer = null;
function tick() { imm = null; st.poll(); run(); st.poll(); run(); if (timer) clearTimeout(timer); const nx = st.timers.nextExpiry(); timer = setTimeout(tick, nx >= 0 ? Math.max(1, Math.min(20, Math.ceil(nx - clock.now()))) : 20); }
drv.onRx = () => { if (imm === null) imm = setImmediate(tick); };
tick();
if (CLIENT) setTimeout(() => { const [p] = CLIENT.split(':'); const t = tcpSocket(st); console.log('connect', tcpConnect(st, t, s32(0xc0000201), Number(p))); client = { t, kind: 3, pend: new Uint8Array(1), pl: 0, eof: false, sent: 0, got: 0 }; }, 500);
console.log('ready');
process.on('SIGTERM', () => { console.log(JSON.stringify({ tcp: st.tcp.mibB.toObject(), ext: st.tcp.extB.toObject(), pool: st.pool.inUse(), discard: totalDiscard, lostRx, lostTx })); process.exit(0); });
