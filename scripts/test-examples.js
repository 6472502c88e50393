#!/usr/bin/env node
/*
 * test-examples.js — `npm run test:examples`: every program in examples/
 * run AS IT IS in Espruino 2v29's own interpreter, on a board's bundle and
 * a simulated board, against a simulated LAN, with a concrete outcome
 * checked per program. Prints one line per run:
 *   ok <example> <board> <interp> <what was checked>     or     FAIL <example> <board> <interp> <why>
 * and exits 1 when any run fails (2: no interpreters / bundles).
 *
 * One run (runApp):
 *   1. a fresh folder; a loader run of the interpreter writes Storage
 *      (./espruino.flash) in 512-byte pieces: the board's bundle
 *      (dist/espruino/<board>.min.js) as "slabnet" (what require("slabnet")
 *      loads), the hardware mock (dist/espruino/hwmock.min.js,
 *      src/testkit/hwmock.ts) as "hwmock", and ".boot0" = one line that
 *      installs the mock with the board's bus and pins (boards/<id>.ts):
 *      Espruino runs .boot0 before the program, in a file run as at a
 *      board's start-up;
 *   2. the LAN peer (src/testkit/lan_peer.ts, in this Node process: DHCP,
 *      DNS, HTTP, a UDP listener, an HTTP client) on the mock chip's cable,
 *      a file per frame in <folder>/wire;
 *   3. the interpreter runs examples/<name>.js unchanged (`espruino
 *      /abs/examples/x.js`, stdin /dev/null), or, with bootFromStorage,
 *      starts with no file and runs the program saved in Storage
 *      (.bootcde, e.g. written by `slabnet flash`) after .boot0;
 *   4. check(ctx) decides; then the interpreter is killed (SIGKILL: the one
 *      process this run started) and the folder removed.
 *
 * Reuse (scripts/test-flash.js):
 *   import { runApp, fetchPage } from './test-examples.js';
 *   const r = await runApp({
 *     board: 'espruino-pico-enc28j60',   // boards/<id>.ts: its bundle, bus and pins
 *     interp: 'espruino',                // a file in ESPRUINO_DIR (espruino, espruino_v5100, ...)
 *     app: '/abs/path/app.js',           // the program file (with bootFromStorage: stored as .bootcde
 *                                        // first; null: .bootcde is already in dir's Storage)
 *     dir: null,                         // a folder whose espruino.flash to use (null: a temporary one)
 *     bootFromStorage: false,            // true: no file argument, the interpreter runs .boot0 + .bootcde
 *     bundle: true,                      // false: "slabnet" is already in dir's Storage (flashed)
 *     mock: true,                        // false: no hardware mock (.boot0 not written)
 *     timeoutMs: 60000,                  // the whole run
 *     keep: false,                       // keep the temporary folder (printed)
 *     allowUncaught: false,              // an 'Uncaught ...' in the output fails the run unless true
 *     check: async (ctx) => 'what was checked',  // throw an Error to fail
 *   });
 *   // r = { ok, what, error, out (the interpreter's output) }
 *   // ctx = { peer (LanPeer: fetch(host, path, ms), udp[], leases(), waitFor(cond, ms, what)),
 *   //         out() (output so far), waitOut(regexp, ms) → match, exited(), dir, board }
 *   fetchPage(ctx, ms[, staticIp]) → { ip, page }: waits for the board's DHCP lease (or its
 *   printed address), fetches http://<ip>/ from the peer and checks status 200.
 *   CHECKS[name]: each example's check; hwmockBoot(board[, memMs]) → the .boot0 line;
 *   writeStorage(dir, interp, bundleFile | null, boot | null[, appFile]); memPeak(out) →
 *   { usage, total } (the mock's @@mem samples in a board-sized build) or null.
 *
 * Options: --only NAME[,NAME] (examples by file name without .js), --keep
 * (keep the folders). ESPRUINO_DIR: the interpreters (default
 * ../shared/espruino/bin beside the clone). Builds the bundles (npm run
 * build) when one is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES_DIR = join(ROOT, 'examples');

/** The folder with Espruino's interpreters. */
export function espruinoDir() {
  const d = process.env.ESPRUINO_DIR || join(ROOT, '..', 'shared', 'espruino', 'bin');
  return resolve(d);
}

/** the interpreters this process started and has not seen exit: killed if it exits first */
const live = new Set();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

let peerMod = null;
let boardsMod = null;
/** src/testkit/lan_peer.ts and boards/index.ts through tsx (loaded once). */
async function tsModules() {
  if (peerMod === null) {
    const { register } = await import('tsx/esm/api');
    register();
    peerMod = await import(pathToFileURL(join(ROOT, 'src', 'testkit', 'lan_peer.ts')).href);
    boardsMod = await import(pathToFileURL(join(ROOT, 'boards', 'index.ts')).href);
  }
  return { peer: peerMod, boards: boardsMod };
}

/** The board object of id (boards/index.ts). */
async function boardOf(id) {
  const { boards } = await tsModules();
  const b = boards.BOARDS.find((x) => x.id === id);
  if (b === undefined) throw new Error(`no board ${id} in boards/index.ts`);
  return b;
}

/**
 * The .boot0 line that installs the hardware mock of board b, its cable in
 * ./wire; memMs > 0: the mock prints `@@mem USAGE TOTAL` that often (memPeak).
 */
export function hwmockBoot(b, memMs) {
  const pins = [b.spi.sck, b.spi.miso, b.spi.mosi, b.csPin, b.intPin, b.resetPin].filter((p) => typeof p === 'string' && p !== '');
  const o = { chip: b.chip, spi: b.spi.bus, pins, cs: b.csPin, int: b.intPin, reset: b.resetPin || null, wire: ['wire/b2p', 'wire/p2b'], memMs: memMs || 0 };
  return `require("hwmock").install(${JSON.stringify(o)});`;
}

/** Run interp on args in dir until it exits or ms pass (then SIGKILL); resolves { code, out }. */
function runOnce(interp, args, dir, ms) {
  return new Promise((res) => {
    const p = spawn(join(espruinoDir(), interp), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('close', (code) => {
      live.delete(p);
      clearTimeout(t);
      res({ code, out });
    });
  });
}

/**
 * Write Storage in dir (./espruino.flash) with interp: "slabnet" (when
 * bundleFile), "hwmock" and ".boot0" (when boot is a string), ".bootcde"
 * (when appFile: the program a board runs at start-up). Each file is read
 * back and compared by length. Throws on a failure.
 */
export async function writeStorage(dir, interp, bundleFile, boot, appFile) {
  const files = [];
  if (bundleFile !== null) files.push(['slabnet', bundleFile]);
  if (boot !== null) files.push(['hwmock', join(ROOT, 'dist', 'espruino', 'hwmock.min.js')]);
  if (appFile) files.push(['.bootcde', appFile]);
  for (let i = 0; i < files.length; i++) copyFileSync(files[i][1], join(dir, `up${i}.js`));
  if (boot !== null) writeFileSync(join(dir, 'boot0.js'), boot);
  const src = `// generated by scripts/test-examples.js: files into Storage in 512-byte pieces
function put(name, path) {
  var fs = require("fs"), S = require("Storage");
  var total = fs.statSync(path).size, f = E.openFile(path, "r"), off = 0, c;
  S.erase(name);
  while ((c = f.read(512)) !== undefined && c.length > 0) { S.write(name, c, off, total); off += c.length; }
  f.close();
  var l = S.read(name).length;
  print("@@stored " + name + " " + l + (l === total ? " ok" : " SHORT of " + total));
}
${files.map((f, i) => `put(${JSON.stringify(f[0])}, "up${i}.js");`).join('\n')}
${boot !== null ? 'put(".boot0", "boot0.js");' : ''}
print("@@loaded");
setTimeout(function () { quit(); }, 1);
`;
  writeFileSync(join(dir, 'load.js'), src);
  const r = await runOnce(interp, ['load.js'], dir, 30000);
  for (let i = 0; i < files.length; i++) rmSync(join(dir, `up${i}.js`), { force: true });
  const bad = /@@stored (\S+) \d+ SHORT/.exec(r.out);
  if (bad !== null || !r.out.includes('@@loaded')) throw new Error(`writing Storage with ${interp} failed: ${bad !== null ? bad[0] : r.out.slice(-600)}`);
}

/**
 * One program on a simulated board against the LAN peer (see the top).
 * Resolves { ok, what, error, out }; never rejects.
 */
export async function runApp(o) {
  const interp = o.interp || 'espruino';
  const ms = o.timeoutMs || 60000;
  const own = o.dir === undefined || o.dir === null;
  const dir = own ? mkdtempSync(join(tmpdir(), 'slabnet-example-')) : o.dir;
  let proc = null;
  let peer = null;
  let out = '';
  let exited = false;
  let tAll = null;
  try {
    const { peer: pm } = await tsModules();
    const b = await boardOf(o.board);
    const bundleFile = join(ROOT, 'dist', 'espruino', `${b.id}.min.js`);
    if (o.bundle !== false && !existsSync(bundleFile)) throw new Error(`${bundleFile} is missing (npm run build)`);
    const mock = o.mock !== false;
    // in a board-sized build, the JsVars in use are sampled (memPeak) while the program runs
    const memMs = interp === 'espruino' ? 0 : 250;
    await writeStorage(dir, interp, o.bundle !== false ? bundleFile : null, mock ? hwmockBoot(b, memMs) : null, o.bootFromStorage && o.app ? o.app : null);
    const w = pm.wireDirs(dir);
    if (mock) {
      peer = new pm.LanPeer(w.p2b, w.b2p);
      peer.start();
    }
    const args = o.bootFromStorage ? [] : [resolve(o.app)];
    proc = spawn(join(espruinoDir(), interp), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const me = proc;
    live.add(me);
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const gone = new Promise((res) => proc.on('close', () => {
      exited = true;
      live.delete(me);
      res();
    }));
    const ctx = {
      peer,
      dir,
      board: b,
      out: () => out,
      exited: () => exited,
      waitOut(re, wms) {
        return new Promise((res, rej) => {
          const t0 = Date.now();
          const iv = setInterval(() => {
            const m = re.exec(out);
            if (m !== null) {
              clearInterval(iv);
              res(m);
            } else if (exited || Date.now() - t0 > wms) {
              clearInterval(iv);
              rej(new Error(`${exited ? 'the interpreter exited' : `no output matching ${re} in ${wms} ms`}; output: ${tailOf(out)}`));
            }
          }, 20);
        });
      },
    };
    const timeout = new Promise((_, rej) => {
      tAll = setTimeout(() => rej(new Error(`the run took over ${ms} ms; output: ${tailOf(out)}`)), ms);
    });
    const what = await Promise.race([o.check(ctx), timeout]);
    const unc = /Uncaught[^\n]*/.exec(out);
    if (unc !== null && o.allowUncaught !== true) throw new Error(`the program printed: ${unc[0].trim()}`);
    proc.kill('SIGKILL');
    await gone;
    return { ok: true, what, error: null, out };
  } catch (e) {
    return { ok: false, what: null, error: e && e.message ? e.message : String(e), out };
  } finally {
    if (tAll !== null) clearTimeout(tAll);
    if (proc !== null && !exited) proc.kill('SIGKILL');
    if (peer !== null) peer.stop();
    if (own && !o.keep) rmSync(dir, { recursive: true, force: true });
    else if (own) process.stderr.write(`test:examples: kept ${dir}\n`);
  }
}

/** The highest `@@mem USAGE TOTAL` the mock printed: { usage, total } or null. */
export function memPeak(out) {
  let r = null;
  const re = /@@mem (\d+) (\d+)/g;
  let m;
  while ((m = re.exec(out)) !== null) if (r === null || +m[1] > r.usage) r = { usage: +m[1], total: +m[2] };
  return r;
}

/** The last lines of the interpreter's output, without its prompts and escapes. */
function tailOf(out) {
  const s = out.replace(/\r/g, '').replace(/\x1b\[J/g, '').replace(/^>/gm, '');
  return JSON.stringify(s.slice(-700));
}

/** The board's address: its first DHCP lease, or the address it printed (static). */
async function boardIp(ctx, ms, staticIp) {
  if (staticIp !== undefined) {
    await ctx.waitOut(new RegExp(staticIp.replace(/\./g, '\\.')), ms);
    return staticIp;
  }
  await ctx.peer.waitFor(() => ctx.peer.leases().length > 0, ms, 'a DHCP lease for the board');
  const ip = ctx.peer.leases()[0];
  // the program prints its address once leased
  await ctx.waitOut(new RegExp(ip.replace(/\./g, '\\.')), ms);
  return ip;
}

/** Wait for the board's address, GET / from the peer, status 200. Returns { ip, page }. */
export async function fetchPage(ctx, ms, staticIp) {
  const ip = await boardIp(ctx, ms, staticIp);
  const r = await ctx.peer.fetch(ip, '/', ms);
  if (r.status !== 200) throw new Error(`GET http://${ip}/: status ${r.status} (${JSON.stringify(r.head.slice(0, 200))})`);
  return { ip, page: r.body };
}

/* ---------------- the examples and what each must do ---------------- */

const T = 25000;

export const CHECKS = {
  'hello-server': async (ctx) => {
    const { ip, page } = await fetchPage(ctx, T);
    if (!page.includes('Hello from slabnet') || !page.includes(ip)) throw new Error(`page of ${ip} lacks the greeting or the address: ${JSON.stringify(page.slice(0, 200))}`);
    return `DHCP lease ${ip}; the peer's GET / has "Hello from slabnet" and ${ip}`;
  },
  'http-counters': async (ctx) => {
    const { ip, page } = await fetchPage(ctx, T);
    // two fetches: the counters move between them
    const r2 = await ctx.peer.fetch(ip, '/', T);
    const rx1 = /"rx":(\d+)/.exec(page);
    const rx2 = /"rx":(\d+)/.exec(r2.body);
    if (rx1 === null || rx2 === null || !page.includes(`"ip":"${ip}"`)) throw new Error(`page lacks "rx" counters or "ip":"${ip}": ${JSON.stringify(page.slice(0, 300))}`);
    if (!(+rx2[1] > +rx1[1] && +rx1[1] > 0)) throw new Error(`rx did not grow between two fetches: ${rx1[1]} then ${rx2[1]}`);
    // eth.on("lease") (Espruino's own events on setup()'s object) printed the same address
    await ctx.waitOut(new RegExp('lease ' + ip.replace(/\./g, '\\.') + '\\b'), T);
    return `DHCP lease ${ip}; the "lease" event printed it; the page shows getIP() and stats(): rx ${rx1[1]} then ${rx2[1]} on the next GET`;
  },
  'http-client': async (ctx) => {
    const url = await ctx.waitOut(/GET (http:\/\/www\.lan\/bytes\/(\d+))/, T);
    const m = await ctx.waitOut(/status (\d+), (\d+) bytes/, T);
    if (m[1] !== '200' || m[2] !== url[2]) throw new Error(`${url[1]}: status ${m[1]}, ${m[2]} bytes (want 200, ${url[2]})`);
    if (ctx.peer.leases().length === 0) throw new Error('no DHCP lease seen at the peer');
    if (ctx.peer.dns.answered < 1 || ctx.peer.http.requests < 1) throw new Error(`the peer answered ${ctx.peer.dns.answered} DNS queries and ${ctx.peer.http.requests} HTTP requests`);
    return `DHCP lease ${ctx.peer.leases()[0]}; www.lan by the lease's DNS server (${ctx.peer.dns.answered} answer); the board printed status 200 and ${m[2]} bytes for ${url[1]}`;
  },
  'udp-sensor': async (ctx) => {
    await ctx.peer.waitFor(() => ctx.peer.udp.length >= 2, T, '2 datagrams on UDP port 5555');
    const d = ctx.peer.udp.slice(0, 2);
    const lease = ctx.peer.leases();
    for (const x of d) {
      if (!lease.includes(x.from)) throw new Error(`datagram from ${x.from}, not from the board's lease (${lease.join(',') || 'none'})`);
      let j;
      try {
        j = JSON.parse(x.text);
      } catch {
        throw new Error(`datagram from ${x.from} is not JSON: ${JSON.stringify(x.text)}`);
      }
      if (typeof j !== 'object' || j === null) throw new Error(`datagram is not a JSON object: ${x.text}`);
    }
    return `the peer received ${ctx.peer.udp.length} JSON datagrams on port 5555 from ${d[0].from}: ${d[0].text}`;
  },
  'static-ip': async (ctx) => {
    const { ip, page } = await fetchPage(ctx, T, '192.0.2.50');
    if (!page.includes(ip)) throw new Error(`page lacks ${ip}: ${JSON.stringify(page.slice(0, 200))}`);
    if (ctx.peer.leases().length !== 0) throw new Error(`a static board leased ${ctx.peer.leases().join(',')} by DHCP`);
    return `no DHCP; the peer's GET http://${ip}/ has ${ip}`;
  },
  selftest: async (ctx) => {
    const m = await ctx.waitOut(/selftest: (\d+) passed, (\d+) failed/, 60000);
    if (m[2] !== '0' || m[1] === '0') throw new Error(`${m[0]}; output: ${tailOf(ctx.out())}`);
    return m[0];
  },
};

/** [example, board, interp, options]: what npm run test:examples runs */
const PICO = 'espruino-pico-enc28j60';
const WIFI = 'espruino-wifi-w5500';
export const RUNS = [];
for (const n of ['hello-server', 'http-counters', 'http-client', 'udp-sensor', 'static-ip', 'selftest']) {
  // the default board in the stock build and in the Pico's own size (5,100 JsVars)
  const extra = n === 'selftest' ? { mock: false, timeoutMs: 90000 } : undefined;
  RUNS.push([n, PICO, 'espruino', extra], [n, PICO, 'espruino_v5100', extra]);
}
// the W5500 board: its bundle over the W5500 model, in the stock build and in the WiFi's size (8,190 JsVars)
// a program saved in Storage (.bootcde, as `slabnet flash` saves it) and run at start-up after .boot0
RUNS.push(['hello-server', PICO, 'espruino_v5100', { bootFromStorage: true, label: 'hello-server(boot)' }]);
RUNS.push(['hello-server', WIFI, 'espruino'], ['hello-server', WIFI, 'espruino_v8190'], ['selftest', WIFI, 'espruino', { mock: false, timeoutMs: 90000 }]);
// the ESP32's bundle is the general stack, with its own setup() (src/setup_general.ts): every example
// but the selftest (which is the compact stack's); in the stock build only: in the ESP32's own size
// (16,383 JsVars) the bundle, its stack and the W5500 model's 32 KB of socket memory do not fit together
for (const n of ['hello-server', 'http-counters', 'http-client', 'udp-sensor', 'static-ip']) RUNS.push([n, 'espruino-esp32-w5500', 'espruino']);
// the Original's bundle has no setup() and no TCP: the selftest alone (UDP), in its own size (2,756 JsVars)
RUNS.push(['selftest', 'espruino-original-enc28j60', 'espruino_v2756', { mock: false, timeoutMs: 90000 }]);

async function main() {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const p of live) p.kill('SIGKILL');
      process.exit(130);
    });
  }
  const args = process.argv.slice(2);
  const oi = args.indexOf('--only');
  const only = oi >= 0 ? args[oi + 1].split(',') : null;
  const keep = args.includes('--keep');
  const dir = espruinoDir();
  if (!existsSync(join(dir, 'espruino')) || !existsSync(join(dir, 'espruino_v5100'))) {
    process.stderr.write(`test:examples: no Espruino interpreters in ${dir} (set ESPRUINO_DIR; ../shared/espruino/README.md)\n`);
    return 2;
  }
  const runs = RUNS.filter((r) => only === null || only.includes(r[0]));
  const need = [join(ROOT, 'dist', 'espruino', 'hwmock.min.js')].concat(runs.map((r) => join(ROOT, 'dist', 'espruino', `${r[1]}.min.js`)));
  if (need.some((f) => !existsSync(f))) {
    process.stdout.write('test:examples: bundles missing, running npm run build\n');
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-espruino.js')], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) {
      process.stderr.write('test:examples: the build failed\n');
      return 2;
    }
  }
  let failed = 0;
  for (const [name, board, interp, extra] of runs) {
    const app = join(EXAMPLES_DIR, name + '.js');
    const r = existsSync(app)
      ? await runApp(Object.assign({ board, interp, app, keep, check: CHECKS[name] }, extra || {}))
      : { ok: false, error: `${app} is missing` };
    const label = extra && extra.label ? extra.label : name;
    const mem = r.ok ? memPeak(r.out) : null;
    if (r.ok) process.stdout.write(`ok ${label} ${board} ${interp} ${r.what}${mem !== null ? `; JsVars in use at most ${mem.usage} of ${mem.total} (bundle, mock chip, program)` : ''}\n`);
    else {
      failed++;
      process.stdout.write(`FAIL ${label} ${board} ${interp} ${r.error}\n`);
    }
  }
  process.stdout.write(`test:examples: ${runs.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (c) => process.exit(c),
    (e) => {
      process.stderr.write(`test:examples: ${e && e.stack ? e.stack : e}\n`);
      process.exit(1);
    },
  );
}
