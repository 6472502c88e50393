// test/interop/synflood.mjs — spoofed TCP SYNs as raw Ethernet frames, one
// per UDP datagram, straight into slabnet's frame port (drivers/host/
// udpframes.ts accepts a datagram from any source), for hostile.sh.
// Each SYN looks like Linux's (MSS 1460, SACK-permitted, timestamps, window
// scale 7: RFC 9293 §3.1, RFC 7323, RFC 2018) from a source address in a
// range nobody owns (so slabnet's SYN-ACKs wait on ARP that never answers),
// a random port and ISN; paced at --rate per second.
// usage: node synflood.mjs --to PORT --dmac MAC --dst A.B.C.D [--dport 80]
//          [--count 3000] [--rate 1500] [--src A.B.C.LO-HI] [--seed N]
// prints `synflood: start MS`, then `synflood: end MS sent N from K addresses in T ms (R/s)`
// (MS = epoch milliseconds).
import * as dgram from 'node:dgram';

function args() {
  const o = { to: 0, dmac: '', dst: '', dport: 80, count: 3000, rate: 1500, src: '192.0.2.160-254', seed: 1 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const k = a[i].replace(/^--/, '');
    if (!(k in o) || a[i + 1] === undefined) usage('bad flag ' + a[i]);
    o[k] = typeof o[k] === 'number' ? Number(a[i + 1]) : a[i + 1];
  }
  if (!o.to || !o.dmac || !o.dst) usage('--to, --dmac and --dst are needed');
  return o;
}
function usage(m) {
  console.error('synflood: ' + m + '\nusage: node synflood.mjs --to PORT --dmac MAC --dst A.B.C.D [--dport 80] [--count N] [--rate R] [--src A.B.C.LO-HI] [--seed N]');
  process.exit(2);
}
const o = args();
const ip4 = (s) => s.split('.').map(Number);
const dmac = o.dmac.split(':').map((h) => parseInt(h, 16));
const dst = ip4(o.dst);
const m = /^(\d+\.\d+\.\d+)\.(\d+)-(\d+)$/.exec(o.src);
if (!m) usage('--src wants A.B.C.LO-HI');
const srcNet = ip4(m[1]);
const lo = Number(m[2]);
const hi = Number(m[3]);

// xorshift32: the same flood for the same seed
let rs = o.seed >>> 0 || 1;
function rnd() {
  rs ^= rs << 13; rs >>>= 0;
  rs ^= rs >>> 17;
  rs ^= rs << 5; rs >>>= 0;
  return rs;
}

function csum(buf, off, len, init) {
  let s = init;
  for (let i = 0; i < len - 1; i += 2) s += (buf[off + i] << 8) | buf[off + i + 1];
  if (len & 1) s += buf[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return (~s) & 0xffff;
}

const ETH = 14, IPH = 20, TCPH = 40;
function frame(srcLast, sport, isn, ipId, tsval) {
  const f = Buffer.alloc(ETH + IPH + TCPH);
  // Ethernet: to slabnet, from a locally administered MAC of the spoofed host
  dmac.forEach((b, i) => (f[i] = b));
  f.set([0x02, 0x00, 0x5e, 0xee, srcNet[2], srcLast], 6);
  f.writeUInt16BE(0x0800, 12);
  // IPv4 (RFC 791): DF, TTL 64, TCP
  const ip = ETH;
  f[ip] = 0x45;
  f.writeUInt16BE(IPH + TCPH, ip + 2);
  f.writeUInt16BE(ipId, ip + 4);
  f.writeUInt16BE(0x4000, ip + 6);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  f.set([srcNet[0], srcNet[1], srcNet[2], srcLast], ip + 12);
  f.set(dst, ip + 16);
  f.writeUInt16BE(csum(f, ip, IPH, 0), ip + 10);
  // TCP SYN with Linux's options
  const t = ip + IPH;
  f.writeUInt16BE(sport, t);
  f.writeUInt16BE(o.dport, t + 2);
  f.writeUInt32BE(isn, t + 4);
  f[t + 12] = (TCPH / 4) << 4;
  f[t + 13] = 0x02;
  f.writeUInt16BE(64240, t + 14);
  f.set([2, 4, 0x05, 0xb4, 4, 2, 8, 10], t + 20);
  f.writeUInt32BE(tsval, t + 28);
  f.writeUInt32BE(0, t + 32);
  f.set([1, 3, 3, 7], t + 36);
  // pseudo-header sum (RFC 9293 §3.1)
  let ps = 6 + TCPH;
  for (let i = 0; i < 8; i += 2) ps += (f[ip + 12 + i] << 8) | f[ip + 13 + i];
  f.writeUInt16BE(csum(f, t, TCPH, ps), t + 16);
  return f;
}

const sock = dgram.createSocket('udp4');
const used = new Set();
let sent = 0;
let errors = 0;
const t0 = Date.now();
console.log('synflood: start ' + t0);
const TICK = 10;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(o.count, Math.floor(((Date.now() - t0 + TICK) * o.rate) / 1000));
    const batch = [];
    while (sent + batch.length < due) {
      const last = lo + (rnd() % (hi - lo + 1));
      used.add(last);
      batch.push(frame(last, 1024 + (rnd() % 64512), rnd(), rnd() & 0xffff, rnd()));
    }
    let pending = batch.length;
    const next = () => {
      if (sent >= o.count) resolve();
      else setTimeout(tick, TICK);
    };
    if (pending === 0) return next();
    for (const f of batch) {
      sock.send(f, o.to, '127.0.0.1', (err) => {
        if (err) errors++;
        sent++;
        if (--pending === 0) next();
      });
    }
  };
  tick();
});
const t1 = Date.now();
sock.close();
const ms = Math.max(1, t1 - t0);
console.log('synflood: end ' + t1 + ' sent ' + (sent - errors) + ' from ' + used.size + ' addresses in ' + ms + ' ms (' + Math.round(((sent - errors) * 1000) / ms) + '/s)' + (errors ? ' send errors ' + errors : ''));
