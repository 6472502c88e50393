// test/interop/bridge.mjs — a UDP Ethernet-frame relay with a netem-like
// impairment, for interop tests on kernels without sch_netem.
//
// Place: between two frame endpoints that carry one Ethernet frame per UDP
// datagram (socat's TUN address, `slabnet up --frames udp:LPORT:RPORT`):
//
//   peer A ──► 127.0.0.1:LA ─[a→b: loss, dup, rate, delay]─► 127.0.0.1:SB ──► peer B
//   peer A ◄── 127.0.0.1:SA ◄─[b→a: loss, dup, rate, delay]─ 127.0.0.1:LB ◄── peer B
//
// Frames to SB are sent from the socket bound at LB and frames to SA from
// the one bound at LA, so each peer sees its frames come from the address
// it sends to.
//
// usage: node bridge.mjs --a LA:SA --b LB:SB [--profile SPEC] [--seed N]
//                        [--ctl PORT] [--parent PID] [--max-time S] [--qlimit N]
//
// SPEC (applied to each direction, each with its own seeded PRNG):
//   loss=P      drop P of the frames (0..1)
//   delay=MS    hold each frame MS ms
//   jitter=MS   delay uniform in [delay-MS, delay+MS] (≥ 0), per frame: frames
//               overtake each other, as netem's jitter without a rate does
//   early=P     P of the frames are sent at once, without the delay (overtake)
//   dup=P       P of the frames are sent twice (the copy takes its own delay)
//   rate=MBIT   serialise frames at MBIT Mbit/s (FIFO link before the delay)
//   none / ""   no impairment
// e.g. --profile loss=0.05   --profile delay=20,jitter=10   --profile delay=5,early=0.25
//
// Control (--ctl PORT, UDP on 127.0.0.1, one command per datagram, the reply
// goes back to the sender: "ok ..." or "error ..."):
//   profile SPEC          both directions; the PRNGs restart from the seed
//   profile ab|ba SPEC    one direction (ab: frames from A to B)
//   seed N                reseed both PRNGs
//   qlimit N              frames held per direction (default 1000, as netem's limit)
//   blackhole A.B.C.D     drop every frame whose IPv4 src/dst or ARP
//                         sender/target address is A.B.C.D (a vanished host)
//   unblackhole A.B.C.D   undo
//   stats                 ok {"ab":{...},"ba":{...},"blackholes":[...]}
//   stats reset           zero the counters
// Counters per direction: rx, forwarded, lost, dup, blackholed, qdrop
// (over --qlimit frames held: the oldest policy is netem's tail drop),
// queued (now held), maxQueued.
//
// Lifetime: exits 0 on SIGTERM/SIGINT, when --parent PID is gone (checked
// every 500 ms) and after --max-time S (default 900). Prints "bridge ready"
// on stdout once every socket is bound, and the final stats as one JSON line
// on exit. Bad arguments: message on stderr, exit 2.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

const ETH_HDR = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const IP_SRC = ETH_HDR + 12; // RFC 791 §3.1
const IP_DST = ETH_HDR + 16;
const ARP_SPA = ETH_HDR + 14; // RFC 826: sender protocol address (Ethernet/IPv4)
const ARP_TPA = ETH_HDR + 24; // target protocol address

// ---- arguments ---------------------------------------------------------------
function die(msg) {
  process.stderr.write('bridge: ' + msg + '\n');
  process.exit(2);
}
function portNum(s, what) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) die(`${what}: bad port '${s}'`);
  return n;
}
function portPair(s, what) {
  const m = /^(\d+):(\d+)$/.exec(s ?? '');
  if (m === null) die(`${what} wants LISTEN:SEND, got '${s}'`);
  return [portNum(m[1], what), portNum(m[2], what)];
}

/** Parse SPEC into an impairment; throws Error with a message on bad input. */
function parseProfile(spec) {
  const p = { loss: 0, delay: 0, jitter: 0, early: 0, dup: 0, rate: 0 };
  const s = spec.trim();
  if (s === '' || s === 'none') return p;
  for (const part of s.split(',')) {
    const m = /^(loss|delay|jitter|early|dup|rate)=([0-9]*\.?[0-9]+)(%?)$/.exec(part.trim());
    if (m === null) throw new Error(`bad profile item '${part}' (want loss|delay|jitter|early|dup|rate=NUMBER)`);
    let v = Number(m[2]);
    const prob = m[1] === 'loss' || m[1] === 'early' || m[1] === 'dup';
    if (m[3] === '%') {
      if (!prob) throw new Error(`'%' only for loss, early, dup: '${part}'`);
      v /= 100;
    }
    if (prob && v > 1) throw new Error(`${m[1]} is a fraction 0..1: '${part}'`);
    if (!prob && v > 60000 && m[1] !== 'rate') throw new Error(`${m[1]} over 60000 ms: '${part}'`);
    p[m[1]] = v;
  }
  return p;
}

function profileText(p) {
  const parts = [];
  for (const k of ['loss', 'delay', 'jitter', 'early', 'dup', 'rate']) if (p[k] !== 0) parts.push(`${k}=${p[k]}`);
  return parts.length === 0 ? 'none' : parts.join(',');
}

// mulberry32: small seeded PRNG, uniform in [0, 1)
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ipv4(s) {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s ?? '');
  if (m === null) return -1;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return -1;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

// ---- time-ordered queue (binary min-heap on (time, seq)) ----------------------
class Heap {
  constructor() { this.a = []; }
  get size() { return this.a.length; }
  peek() { return this.a[0]; }
  static less(x, y) { return x.t < y.t || (x.t === y.t && x.seq < y.seq); }
  push(e) {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!Heap.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && Heap.less(a[l], a[m])) m = l;
        if (r < a.length && Heap.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function main() {
  const args = process.argv.slice(2);
  const opt = { profile: '', seed: 1, ctl: 0, parent: 0, maxTime: 900, qlimit: 1000 };
  let a = null, b = null;
  for (let i = 0; i < args.length; i++) {
    const k = args[i], v = args[i + 1];
    if (v === undefined) die(`${k} needs a value`);
    i++;
    if (k === '--a') a = portPair(v, '--a');
    else if (k === '--b') b = portPair(v, '--b');
    else if (k === '--profile') opt.profile = v;
    else if (k === '--seed') opt.seed = Number(v);
    else if (k === '--ctl') opt.ctl = portNum(v, '--ctl');
    else if (k === '--parent') opt.parent = Number(v);
    else if (k === '--max-time') opt.maxTime = Number(v);
    else if (k === '--qlimit') opt.qlimit = Number(v);
    else die(`unknown option ${k}`);
  }
  if (a === null || b === null) die('usage: node bridge.mjs --a LA:SA --b LB:SB [--profile SPEC] [--seed N] [--ctl PORT] [--parent PID] [--max-time S] [--qlimit N]');
  if (!Number.isInteger(opt.seed)) die('--seed wants an integer');
  if (!Number.isInteger(opt.parent) || opt.parent < 0) die('--parent wants a pid');
  if (!(opt.maxTime > 0)) die('--max-time wants seconds > 0');
  if (!Number.isInteger(opt.qlimit) || opt.qlimit < 1) die('--qlimit wants an integer ≥ 1');
  let initial;
  try { initial = parseProfile(opt.profile); } catch (e) { die(e.message); }

  // large receive buffers (the kernel caps them at net.core.rmem_max): a burst
  // from a TCP sender must not be lost here before the profile is applied
  const sockA = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const sockB = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const newCounts = () => ({ rx: 0, forwarded: 0, lost: 0, dup: 0, blackholed: 0, qdrop: 0, queued: 0, maxQueued: 0 });
  // a direction: frames received on `from`, sent by `out` to 127.0.0.1:dst
  const dirs = {
    ab: { name: 'ab', out: sockB, dst: b[1], prof: initial, rnd: null, linkFree: 0, c: newCounts(), seedMix: 0 },
    ba: { name: 'ba', out: sockA, dst: a[1], prof: initial, rnd: null, linkFree: 0, c: newCounts(), seedMix: 0x9e3779b9 },
  };
  let seed = opt.seed;
  const reseed = (d) => { d.rnd = prng((seed ^ d.seedMix) >>> 0); d.linkFree = 0; };
  reseed(dirs.ab);
  reseed(dirs.ba);
  const blackholes = new Set();

  // frames held for later, both directions, in send-time order
  const heap = new Heap();
  let seq = 0;
  let timer = null;
  let timerAt = Infinity;

  const send = (d, buf) => {
    d.c.forwarded++;
    d.out.send(buf, d.dst, '127.0.0.1');
  };
  const flush = () => {
    timer = null;
    timerAt = Infinity;
    const now = performance.now();
    while (heap.size > 0 && heap.peek().t <= now + 0.25) {
      const e = heap.pop();
      e.d.c.queued--;
      send(e.d, e.buf);
    }
    arm();
  };
  const arm = () => {
    if (heap.size === 0) return;
    const t = heap.peek().t;
    if (timer !== null && t >= timerAt) return;
    if (timer !== null) clearTimeout(timer);
    timerAt = t;
    timer = setTimeout(flush, Math.max(0, t - performance.now()));
  };

  const isBlackholed = (buf) => {
    if (blackholes.size === 0 || buf.length < ETH_HDR) return false;
    const type = buf.readUInt16BE(12);
    if (type === ETHERTYPE_IPV4 && buf.length >= IP_DST + 4) {
      return blackholes.has(buf.readUInt32BE(IP_SRC)) || blackholes.has(buf.readUInt32BE(IP_DST));
    }
    if (type === ETHERTYPE_ARP && buf.length >= ARP_TPA + 4) {
      return blackholes.has(buf.readUInt32BE(ARP_SPA)) || blackholes.has(buf.readUInt32BE(ARP_TPA));
    }
    return false;
  };

  // one copy of a frame through the direction's rate limiter and delay
  const schedule = (d, buf, now) => {
    const p = d.prof;
    let t = now;
    if (p.rate > 0) {
      d.linkFree = Math.max(d.linkFree, now) + (buf.length * 8) / (p.rate * 1000); // ms
      t = d.linkFree;
    }
    if (p.delay > 0 || p.jitter > 0) {
      const early = p.early > 0 && d.rnd() < p.early;
      if (!early) {
        let ms = p.delay;
        if (p.jitter > 0) ms += (2 * d.rnd() - 1) * p.jitter;
        t += Math.max(0, ms);
      }
    }
    if (t <= now) {
      send(d, buf);
      return;
    }
    if (d.c.queued >= opt.qlimit) {
      d.c.qdrop++;
      return;
    }
    d.c.queued++;
    if (d.c.queued > d.c.maxQueued) d.c.maxQueued = d.c.queued;
    heap.push({ t, seq: seq++, d, buf });
    arm();
  };

  const onFrame = (d, buf) => {
    d.c.rx++;
    if (isBlackholed(buf)) {
      d.c.blackholed++;
      return;
    }
    const p = d.prof;
    if (p.loss > 0 && d.rnd() < p.loss) {
      d.c.lost++;
      return;
    }
    const now = performance.now();
    const copies = p.dup > 0 && d.rnd() < p.dup ? 2 : 1;
    if (copies === 2) d.c.dup++;
    for (let i = 0; i < copies; i++) schedule(d, buf, now);
  };
  sockA.on('message', (buf) => onFrame(dirs.ab, buf));
  sockB.on('message', (buf) => onFrame(dirs.ba, buf));

  const stats = () => JSON.stringify({
    ab: { ...dirs.ab.c, profile: profileText(dirs.ab.prof) },
    ba: { ...dirs.ba.c, profile: profileText(dirs.ba.prof) },
    blackholes: [...blackholes].map((x) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.')),
    seed,
  });

  const command = (text) => {
    const words = text.trim().split(/\s+/);
    const cmd = words[0];
    if (cmd === 'profile') {
      let which = [dirs.ab, dirs.ba];
      let rest = words.slice(1);
      if (rest[0] === 'ab' || rest[0] === 'ba') {
        which = [dirs[rest[0]]];
        rest = rest.slice(1);
      }
      const p = parseProfile(rest.join(','));
      for (const d of which) { d.prof = p; reseed(d); }
      return `profile ${which.map((d) => d.name).join(',')} ${profileText(p)}`;
    }
    if (cmd === 'seed') {
      const n = Number(words[1]);
      if (!Number.isInteger(n)) throw new Error('seed wants an integer');
      seed = n;
      reseed(dirs.ab);
      reseed(dirs.ba);
      return `seed ${n}`;
    }
    if (cmd === 'qlimit') {
      const n = Number(words[1]);
      if (!Number.isInteger(n) || n < 1) throw new Error('qlimit wants an integer ≥ 1');
      opt.qlimit = n;
      return `qlimit ${n}`;
    }
    if (cmd === 'blackhole' || cmd === 'unblackhole') {
      const ip = ipv4(words[1]);
      if (ip < 0 || words.length !== 2) throw new Error(`${cmd} wants one IPv4 address`);
      if (cmd === 'blackhole') blackholes.add(ip); else blackholes.delete(ip);
      return `${cmd} ${words[1]}`;
    }
    if (cmd === 'stats') {
      if (words[1] === 'reset') {
        for (const d of [dirs.ab, dirs.ba]) { const q = d.c.queued; d.c = newCounts(); d.c.queued = q; }
        return 'stats reset';
      }
      return stats();
    }
    throw new Error(`unknown command '${cmd ?? ''}' (profile, seed, qlimit, blackhole, unblackhole, stats)`);
  };

  let ctl = null;
  if (opt.ctl > 0) {
    ctl = dgram.createSocket('udp4');
    ctl.on('message', (msg, rinfo) => {
      let reply;
      try { reply = 'ok ' + command(msg.toString('utf8')); } catch (e) { reply = 'error ' + e.message; }
      ctl.send(reply, rinfo.port, rinfo.address);
    });
  }

  let exiting = false;
  const exit = (why) => {
    if (exiting) return;
    exiting = true;
    process.stdout.write(stats() + '\n');
    if (why !== 'signal') process.stderr.write(`bridge: exiting (${why})\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => exit('signal'));
  process.on('SIGINT', () => exit('signal'));
  for (const s of [sockA, sockB, ctl]) if (s !== null) s.on('error', (e) => { process.stderr.write('bridge: ' + e.message + '\n'); process.exit(2); });
  setTimeout(() => exit(`--max-time ${opt.maxTime} s`), opt.maxTime * 1000).unref();
  if (opt.parent > 0) {
    setInterval(() => {
      try { process.kill(opt.parent, 0); } catch (e) { if (e.code === 'ESRCH') exit(`parent ${opt.parent} gone`); }
    }, 500).unref();
  }

  let bound = 0;
  const need = ctl === null ? 2 : 3;
  const onBound = () => { if (++bound === need) process.stdout.write(`bridge ready a ${a[0]}:${a[1]} b ${b[0]}:${b[1]} ctl ${opt.ctl} profile ${profileText(initial)} seed ${seed}\n`); };
  sockA.bind(a[0], '127.0.0.1', onBound);
  sockB.bind(b[0], '127.0.0.1', onBound);
  if (ctl !== null) ctl.bind(opt.ctl, '127.0.0.1', onBound);
}

main();
