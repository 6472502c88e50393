// test/interop/bridge_selftest.mjs — checks test/interop/bridge.mjs on
// loopback UDP (no root, no namespace): loss rate and its seed, independence
// of the two directions, blackhole of IPv4 and ARP, delay (in order), early
// (overtakes), jitter (reorders), dup, rate, the queue cap, control errors,
// exit on SIGTERM and when --parent is gone.
// usage: node test/interop/bridge_selftest.mjs   → PASS/FAIL lines, "N passed, M failed", exit 1 on failure
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const BRIDGE = fileURLToPath(new URL('./bridge.mjs', import.meta.url));
let passed = 0, failed = 0;
const check = (ok, what) => {
  if (ok) passed++; else failed++;
  console.log((ok ? 'PASS ' : 'FAIL ') + what);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePorts(n) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    socks.push(s);
  }
  const ports = socks.map((s) => s.address().port);
  for (const s of socks) s.close();
  return ports;
}

const ip = (s) => Buffer.from(s.split('.').map(Number));
// Ethernet + IPv4 header (only the fields the bridge reads) + a 32-bit index at offset 34
function ipFrame(src, dst, n, size = 64) {
  const f = Buffer.alloc(size);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  ip(src).copy(f, 26);
  ip(dst).copy(f, 30);
  f.writeUInt32BE(n, 34);
  return f;
}
function arpFrame(spa, tpa) {
  const f = Buffer.alloc(60);
  f.writeUInt16BE(0x0806, 12);
  ip(spa).copy(f, 28);
  ip(tpa).copy(f, 38);
  return f;
}

// a peer socket that records (index, arrival time) of every frame
async function peer(port) {
  const s = dgram.createSocket('udp4');
  const got = [];
  s.on('message', (b) => got.push({ n: b.length >= 38 ? b.readUInt32BE(34) : -1, t: performance.now(), type: b.readUInt16BE(12) }));
  await new Promise((r) => s.bind(port, '127.0.0.1', r));
  return { s, got, clear: () => { got.length = 0; } };
}

// send frames (paced: 20 per batch, so no socket buffer overflows on a loaded machine) and return the send times
async function sendAll(sock, port, frames) {
  const times = [];
  for (let i = 0; i < frames.length; i++) {
    times.push(performance.now());
    sock.send(frames[i], port, '127.0.0.1');
    if (i % 20 === 19) await sleep(2);
  }
  return times;
}

function startBridge(args) {
  const p = spawn(process.execPath, [BRIDGE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no "bridge ready" in 5 s: ' + err)), 5000);
    p.stdout.on('data', () => { if (out.includes('bridge ready')) { clearTimeout(t); resolve(); } });
    p.on('exit', (c) => { clearTimeout(t); reject(new Error(`bridge exited ${c}: ${err}`)); });
  });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  return { p, ready, exited, out: () => out, err: () => err };
}

async function main() {
  const [LA, SA, LB, SB, CTL] = await freePorts(5);
  const br = startBridge(['--a', `${LA}:${SA}`, '--b', `${LB}:${SB}`, '--ctl', String(CTL), '--seed', '7']);
  await br.ready;
  const A = await peer(SA), B = await peer(SB);
  const C = dgram.createSocket('udp4');
  await new Promise((r) => C.bind(0, '127.0.0.1', r));
  const replies = [];
  C.on('message', (m) => replies.push(m.toString()));
  const ctl = async (cmd) => {
    const before = replies.length;
    C.send(cmd, CTL, '127.0.0.1');
    for (let i = 0; i < 200 && replies.length === before; i++) await sleep(5);
    return replies[before] ?? '(no reply)';
  };
  const stats = async () => JSON.parse((await ctl('stats')).replace(/^ok /, ''));
  const settle = (ms = 150) => sleep(ms);
  const idx = (n) => Array.from({ length: n }, (_, i) => ipFrame('192.0.2.1', '192.0.2.2', i));
  const lostSet = (got, n) => { const s = new Set(got.map((g) => g.n)); return Array.from({ length: n }, (_, i) => i).filter((i) => !s.has(i)); };
  // frames that arrive after a frame sent later than them (were overtaken)
  const inversions = (got) => { let max = -1, k = 0; for (const g of got) { if (g.n < max) k++; else max = g.n; } return k; };

  // 1. loss 20%: the rate is within bounds, the counters agree, directions are independent
  const N = 2000;
  check((await ctl('profile loss=0.2')).startsWith('ok profile ab,ba loss=0.2'), 'profile loss=0.2 accepted');
  await ctl('stats reset');
  await sendAll(A.s, LA, idx(N));
  await sendAll(B.s, LB, idx(N));
  await settle();
  const lostAB = lostSet(B.got, N), lostBA = lostSet(A.got, N);
  let st = await stats();
  check(st.ab.rx === N && st.ba.rx === N, `the bridge received every frame sent (a→b ${st.ab.rx}, b→a ${st.ba.rx} of ${N})`);
  check(lostAB.length > 0.15 * N && lostAB.length < 0.25 * N, `loss=0.2 a→b: ${lostAB.length}/${N} lost (want 15–25%)`);
  check(lostBA.length > 0.15 * N && lostBA.length < 0.25 * N, `loss=0.2 b→a: ${lostBA.length}/${N} lost (want 15–25%)`);
  check(st.ab.lost === lostAB.length && st.ab.forwarded === B.got.length && st.ab.rx === N,
    `stats a→b agree: rx ${st.ab.rx} forwarded ${st.ab.forwarded} lost ${st.ab.lost}`);
  check(lostAB.join() !== lostBA.join(), 'the two directions lose different frames (own PRNG each)');
  // 2. the same seed loses the same frames again (profile restarts the PRNGs)
  A.clear(); B.clear();
  await ctl('profile loss=0.2');
  await sendAll(A.s, LA, idx(N));
  await settle();
  check(lostSet(B.got, N).join() === lostAB.join(), 'loss=0.2 again with seed 7: the same frames lost');
  B.clear();
  await ctl('seed 8');
  await sendAll(A.s, LA, idx(N));
  await settle();
  check(lostSet(B.got, N).join() !== lostAB.join(), 'seed 8: other frames lost');

  // 3. blackhole: IPv4 src or dst, ARP sender or target; unblackhole restores
  await ctl('profile none');
  A.clear(); B.clear();
  check((await ctl('blackhole 192.0.2.9')) === 'ok blackhole 192.0.2.9', 'blackhole 192.0.2.9 accepted');
  await ctl('stats reset');
  const mixed = [];
  for (let i = 0; i < 10; i++) mixed.push(ipFrame('192.0.2.9', '192.0.2.2', 100 + i), ipFrame('192.0.2.2', '192.0.2.9', 200 + i), ipFrame('192.0.2.1', '192.0.2.2', 300 + i));
  mixed.push(arpFrame('192.0.2.1', '192.0.2.9'), arpFrame('192.0.2.9', '192.0.2.1'), arpFrame('192.0.2.1', '192.0.2.2'));
  await sendAll(A.s, LA, mixed);
  await sendAll(B.s, LB, [ipFrame('192.0.2.2', '192.0.2.9', 400)]);
  await settle();
  st = await stats();
  const okIp = B.got.filter((g) => g.type === 0x0800).map((g) => g.n);
  check(okIp.length === 10 && okIp.every((n) => n >= 300 && n < 310) && B.got.filter((g) => g.type === 0x0806).length === 1 && A.got.length === 0,
    `blackhole: only the 10 IPv4 + 1 ARP frames not involving .9 pass (got ${B.got.length} a→b, ${A.got.length} b→a)`);
  check(st.ab.blackholed === 22 && st.ba.blackholed === 1, `blackhole counted: a→b ${st.ab.blackholed} (want 22), b→a ${st.ba.blackholed} (want 1)`);
  await ctl('unblackhole 192.0.2.9');
  B.clear();
  await sendAll(A.s, LA, mixed);
  await settle();
  check(B.got.length === mixed.length, `unblackhole: all ${mixed.length} frames pass (got ${B.got.length})`);

  // 4. delay 30 ms: all arrive, in order, none before 30 ms
  await ctl('profile delay=30');
  B.clear();
  let sent = await sendAll(A.s, LA, idx(100));
  await settle(200);
  let lat = B.got.map((g) => g.t - sent[g.n]);
  check(B.got.length === 100 && inversions(B.got) === 0 && Math.min(...lat) >= 29,
    `delay=30: ${B.got.length}/100 arrive, ${inversions(B.got)} out of order, latency ${Math.min(...lat).toFixed(1)}–${Math.max(...lat).toFixed(1)} ms`);

  // 5. delay 30 ms with 25% early: early frames overtake
  await ctl('profile delay=30,early=0.25');
  B.clear();
  sent = await sendAll(A.s, LA, idx(400));
  await settle(200);
  lat = B.got.map((g) => g.t - sent[g.n]);
  const early = lat.filter((l) => l < 15).length;
  check(B.got.length === 400 && inversions(B.got) > 0 && early > 0.15 * 400 && early < 0.35 * 400,
    `delay=30,early=0.25: ${B.got.length}/400 arrive, ${early} early (want 15–35%), ${inversions(B.got)} inversions (want > 0)`);

  // 6. delay 20 ± 10 ms: reorders, latencies within the band
  await ctl('profile delay=20,jitter=10');
  B.clear();
  sent = await sendAll(A.s, LA, idx(300));
  await settle(200);
  lat = B.got.map((g) => g.t - sent[g.n]);
  check(B.got.length === 300 && inversions(B.got) > 0 && Math.min(...lat) >= 9 && Math.max(...lat) < 500,
    `delay=20,jitter=10: ${B.got.length}/300, ${inversions(B.got)} inversions, latency ${Math.min(...lat).toFixed(1)}–${Math.max(...lat).toFixed(1)} ms`);

  // 7. dup 10%
  await ctl('profile dup=0.1');
  await ctl('stats reset');
  B.clear();
  await sendAll(A.s, LA, idx(1000));
  await settle();
  st = await stats();
  check(B.got.length > 1050 && B.got.length < 1150 && st.ab.dup === B.got.length - 1000,
    `dup=0.1: ${B.got.length} frames for 1000 sent, stats dup ${st.ab.dup}`);

  // 8. rate 1 Mbit/s: 60 frames of 1250 bytes (0.6 Mbit) take ≈ 0.6 s
  await ctl('profile rate=1');
  B.clear();
  const big = Array.from({ length: 60 }, (_, i) => ipFrame('192.0.2.1', '192.0.2.2', i, 1250));
  sent = await sendAll(A.s, LA, big);
  await settle(900);
  const span = B.got.length > 0 ? B.got[B.got.length - 1].t - sent[0] : 0;
  check(B.got.length === 60 && span > 550 && span < 2000 && inversions(B.got) === 0, `rate=1: 60 × 1250 B in ${span.toFixed(0)} ms (want ≈ 600), in order`);

  // 9. queue cap (qlimit 200): 300 frames held 300 ms → 100 dropped
  check((await ctl('qlimit 200')) === 'ok qlimit 200', 'qlimit 200 accepted');
  await ctl('profile delay=300');
  await ctl('stats reset');
  B.clear();
  await sendAll(A.s, LA, idx(300));
  await settle(500);
  st = await stats();
  check(B.got.length === 200 && st.ab.qdrop === 100 && st.ab.maxQueued === 200 && st.ab.queued === 0,
    `qlimit 200: ${B.got.length} of 300 delayed frames pass, qdrop ${st.ab.qdrop}, maxQueued ${st.ab.maxQueued}`);

  // 10. control errors
  const bad = [];
  for (const c of ['profile loss=2', 'profile lose=0.1', 'blackhole 300.1.1.1', 'qlimit 0', 'frobnicate']) bad.push([c, await ctl(c)]);
  check(bad.every(([, r]) => r.startsWith('error ')), 'bad commands get "error ...": ' + bad.map(([c, r]) => `${c} → ${r.slice(0, 40)}`).join('; '));

  // 11. SIGTERM: exit 0 with the stats line
  br.p.kill('SIGTERM');
  const code = await Promise.race([br.exited, sleep(3000).then(() => 'timeout')]);
  const last = br.out().trim().split('\n').pop();
  let lastOk = false;
  try { lastOk = JSON.parse(last).ab !== undefined; } catch { lastOk = false; }
  check(code === 0 && lastOk, `SIGTERM: exit ${code}, last stdout line is the stats JSON`);
  for (const s of [A.s, B.s, C]) s.close();

  // 12. --parent: exits when the parent is gone
  const parent = spawn('sleep', ['1'], { stdio: 'ignore' });
  const [la, sa, lb, sb] = await freePorts(4);
  const br2 = startBridge(['--a', `${la}:${sa}`, '--b', `${lb}:${sb}`, '--parent', String(parent.pid)]);
  await br2.ready;
  const t0 = performance.now();
  const c2 = await Promise.race([br2.exited, sleep(4000).then(() => 'timeout')]);
  if (c2 === 'timeout') br2.p.kill('SIGKILL');
  check(c2 === 0 && /parent \d+ gone/.test(br2.err()), `--parent ${parent.pid}: bridge exited ${c2} ${(performance.now() - t0).toFixed(0)} ms after start, '${br2.err().trim()}'`);

  // 13. bad arguments: exit 2
  const br3 = spawn(process.execPath, [BRIDGE, '--a', '1:2'], { stdio: 'ignore' });
  const c3 = await new Promise((r) => br3.on('exit', r));
  check(c3 === 2, `missing --b: exit ${c3} (want 2)`);
}

main().then(
  () => { console.log(`${passed} passed, ${failed} failed`); process.exit(failed === 0 ? 0 : 1); },
  (e) => { console.log('FAIL bridge_selftest: ' + (e.stack ?? e)); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); },
);
