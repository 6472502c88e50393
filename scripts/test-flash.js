#!/usr/bin/env node
/*
 * test-flash.js — `npm run test:flash`: `slabnet flash` (src/cli/flash.ts)
 * against Espruino 2v29's own Linux interpreter, as against a board.
 *
 *   1. In a fresh temporary folder (its ./espruino.flash is the "board's"
 *      Storage) the STOCK interpreter serves its console on telnet
 *      (`espruino --telnet`, 127.0.0.1:2323 — fixed port, one client at a
 *      time: the test fails at once if something already listens there);
 *   2. `node bin/slabnet.js flash --board espruino-pico-enc28j60
 *      --port tcp://127.0.0.1:2323 --app examples/hello-server.js` uploads
 *      the board's bundle (Storage `slabnet`) and the program (Storage
 *      `.bootcde`) with the espruino CLI, offline; the command must exit 0
 *      with its `ok` line (the board's own read-back of both files matched);
 *   3. the interpreter is killed (SIGKILL: interactive mode ignores SIGTERM);
 *   4. Storage is read back by a file run in that folder (`espruino
 *      dump.js`: a file run does not run `.bootcde`): `slabnet` must be byte
 *      for byte the bundle, `.bootcde` the program; then another file run
 *      adds the board's hardware (scripts/test-examples.js writeStorage):
 *      Storage `hwmock` (dist/espruino/hwmock.min.js, src/testkit/hwmock.ts:
 *      the Pico's SPI2, pins and INT watch over a register-level ENC28J60
 *      model, its cable a file per frame in ./wire) and `.boot0`, the line
 *      that installs it;
 *   5. a fresh simulated LAN (src/testkit/lan_peer.ts in this process: DHCP
 *      server, HTTP client) on ./wire, then the stock interpreter started
 *      again in that folder with NO file argument and stdin a pipe nothing
 *      is ever written to: the saved program must start by itself, lease an
 *      address from the peer's DHCP server and serve the page the peer then
 *      fetches ("Hello from slabnet at IP"), all over slabnet;
 *   6. the same with the Pico-sized build (espruino_v5100), from the very
 *      same ./espruino.flash (the 64-bit and 32-bit builds share the format).
 *
 * What restarts the saved program on the Linux build (found with these
 * interpreters; the Linux build keeps Storage in ./espruino.flash of the
 * current folder, and both the 64-bit stock and the 32-bit board-sized
 * builds read the same file):
 *   - `espruino` with no argument (interactive mode; also with --telnet)
 *     runs `.boot0`, then `.bootcde` at start-up, as a board does at
 *     power-on; this is the "reset" used here;
 *   - `espruino -e CODE` runs `.boot0` and `.bootcde`, then CODE;
 *   - `espruino FILE` runs `.boot0` but NOT `.bootcde` (used for step 4);
 *   - `load()` (what `slabnet flash` sends after the upload) restarts the
 *     JavaScript into `.boot0` + `.bootcde` in the running interpreter, as
 *     on a board.
 *
 * Output: one `ok ...` or `FAIL what: reason` line per check, timings;
 * exit 1 when a check fails, 2 when it cannot start (no interpreters, no
 * bundle: `npm run build`, port 2323 busy). Every wait is bounded.
 * ESPRUINO_DIR names the interpreters' folder (default
 * ../shared/espruino/bin beside the repository).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BOARD = 'espruino-pico-enc28j60';
const TELNET_PORT = 2323;
const FLASH_MS = 180000;
const BOOT_MS = 60000;

if (!process.env.ESPRUINO_DIR) process.env.ESPRUINO_DIR = resolve(root, '..', 'shared', 'espruino', 'bin');
const { interpreterDir } = await import('./espruino-run.js');
const { hwmockBoot, writeStorage, CHECKS } = await import('./test-examples.js');

const started = new Set();
let failures = 0;
const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1) + ' s';
const ok = (what, t) => process.stdout.write(`ok   ${what}${t !== undefined ? ` (${secs(t)})` : ''}\n`);
const fail = (what, why) => {
  failures++;
  process.stdout.write(`FAIL ${what}: ${why}\n`);
};

/** An interpreter (or other child) of ours, with its output collected; killed at exit whatever happens. */
function start(cmd, args, cwd) {
  // its own process group: killing the group also ends what it started (slabnet flash's espruino CLI)
  const p = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  // stdin stays open and is never written: the interpreter's console reads it
  const c = { p, out: '', exited: false, code: null, signal: null };
  started.add(c);
  p.stdout.on('data', (d) => (c.out += d.toString('latin1')));
  p.stderr.on('data', (d) => (c.out += d.toString('latin1')));
  c.done = new Promise((res) =>
    p.on('close', (code, signal) => {
      c.exited = true;
      c.code = code;
      c.signal = signal;
      started.delete(c);
      res();
    }),
  );
  p.on('error', (e) => (c.out += `\nspawn error: ${e.message}\n`));
  return c;
}

/** SIGKILL (interactive Espruino ignores SIGTERM and SIGHUP) and wait for it, bounded. */
function killGroup(c) {
  try {
    process.kill(-c.p.pid, 'SIGKILL');
  } catch {
    c.p.kill('SIGKILL');
  }
}

async function stop(c) {
  if (!c.exited) killGroup(c);
  await Promise.race([c.done, sleep(5000)]);
}

process.on('exit', () => {
  for (const c of started) killGroup(c);
});
// Ctrl-C / a CI timeout: the 'exit' handler above still kills what this script started
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port within ms. */
function accepts(port, ms) {
  return new Promise((res) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      res(false);
    }, ms);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      res(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      res(false);
    });
  });
}

/** Waits (bounded) until pred(c.out) or the process ends; returns whether pred held. */
async function waitFor(c, pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred(c.out)) return true;
    if (c.exited) return pred(c.out);
    await sleep(50);
  }
  return pred(c.out);
}

const tail = (s, n = 1200) => s.replace(/\r/g, '').replace(/\x1b\[J/g, '').slice(-n).replace(/\n/g, '\n     | ');

/* --------------------------------------------------------------- the app */

/** The program flashed with the bundle (scripts/test-examples.js runs it, and the other examples, from a file). */
const EXAMPLE = join(root, 'examples', 'hello-server.js');

/**
 * The program at work in a restarted interpreter c: the simulated LAN
 * (src/testkit/lan_peer.ts, started before c) on the mock's wire hands out
 * a DHCP lease, the program prints its address, and the peer's GET / has
 * examples/hello-server.js's greeting and that address (scripts/test-examples.js's
 * check of hello-server, CHECKS). Returns '' when so, else why not.
 */
async function checkOverSlabnet(peer, c) {
  const ctx = {
    peer,
    waitOut: (re, ms) =>
      waitFor(c, (o) => re.test(o), ms).then((hit) => {
        if (!hit) throw new Error(`${c.exited ? 'the interpreter exited' : `no output matching ${re} in ${ms} ms`}`);
        return re.exec(c.out);
      }),
  };
  const t = Date.now();
  try {
    const what = await CHECKS['hello-server'](ctx);
    process.stdout.write(`     ${what} (${secs(t)} after the start)\n`);
    return '';
  } catch (e) {
    return e.message;
  }
}

/* ----------------------------------------------------------------- steps */

async function main() {
  let dir;
  try {
    dir = interpreterDir();
  } catch (e) {
    process.stderr.write(`test:flash: ${e.message}\n`);
    return 2;
  }
  const bundleFile = join(root, 'dist', 'espruino', `${BOARD}.min.js`);
  if (!existsSync(bundleFile)) {
    process.stderr.write(`test:flash: no ${bundleFile}: run \`npm run build\` first\n`);
    return 2;
  }
  const mockFile = join(root, 'dist', 'espruino', 'hwmock.min.js');
  if (!existsSync(mockFile)) {
    process.stderr.write(`test:flash: no ${mockFile} (the hardware mock, src/testkit/hwmock.ts): run \`npm run build\` first\n`);
    return 2;
  }
  // the board's pins and the simulated LAN, from the TypeScript sources
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  const { findBoard } = await import(pathToFileURL(join(root, 'boards', 'index.ts')).href);
  const { LanPeer, wireDirs } = await import(pathToFileURL(join(root, 'src', 'testkit', 'lan_peer.ts')).href);
  await unregister();
  const boardInfo = findBoard(BOARD);
  if (await accepts(TELNET_PORT, 1000)) {
    process.stderr.write(`test:flash: something already listens on 127.0.0.1:${TELNET_PORT} (another \`espruino --telnet\`?); the telnet console's port is fixed: stop it first\n`);
    return 2;
  }
  if (!existsSync(EXAMPLE)) {
    process.stderr.write(`test:flash: ${EXAMPLE} is missing\n`);
    return 2;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'slabnet-flash-'));
  const bundle = readFileSync(bundleFile);
  const app = { file: EXAMPLE, name: 'examples/hello-server.js' };
  process.stdout.write(`test:flash: ${BOARD} bundle (${bundle.length} bytes) and ${app.name} via telnet into ${tmp}/espruino.flash\n`);

  // 1. the "board": the stock interpreter's console on telnet
  let t = Date.now();
  const board = start(join(dir, 'espruino'), ['--telnet'], tmp);
  let up = false;
  for (let i = 0; i < 100 && !up && !board.exited; i++) {
    await sleep(100);
    up = await accepts(TELNET_PORT, 500);
  }
  if (!up) {
    fail('telnet console', `espruino --telnet did not listen on ${TELNET_PORT} within 10 s${board.exited ? ` (it exited: ${board.code ?? board.signal})` : ''}\n     | ${tail(board.out)}`);
    await stop(board);
    return 1;
  }
  ok(`espruino --telnet listens on 127.0.0.1:${TELNET_PORT}`, t);

  // 2. slabnet flash, exactly as a user runs it
  t = Date.now();
  const args = ['bin/slabnet.js', 'flash', '--board', BOARD, '--port', `tcp://127.0.0.1:${TELNET_PORT}`, '--app', 'examples/hello-server.js'];
  const fl = start(process.execPath, args, root);
  const flashed = await waitFor(fl, () => false, FLASH_MS).then(() => fl.exited);
  if (!flashed) {
    await stop(fl);
    fail('slabnet flash', `still running after ${FLASH_MS / 1000} s\n     | ${tail(fl.out)}`);
  } else if (fl.code !== 0 || !/slabnet flash: ok: "slabnet" \d+ bytes, "\.bootcde" \d+ bytes/.test(fl.out)) {
    fail('slabnet flash', `exit ${fl.code}\n     | ${tail(fl.out)}`);
  } else ok(`node ${args.join(' ')}: exit 0, both files read back on the board`, t);
  // the program started right after the upload (load()) in the telnet interpreter too
  // (its console is back on stdout once the CLI has gone)
  await sleep(1500);

  // 3. power off
  await stop(board);

  // 4. what Storage holds, read by a file run (which does not run .bootcde)
  t = Date.now();
  writeFileSync(
    join(tmp, 'dump.js'),
    'var S = require("Storage"), fs = require("fs");\n' +
      '["slabnet", ".bootcde"].forEach(function (n) {\n' +
      '  var d = S.read(n);\n' +
      '  if (d === undefined) print("@@dump " + n + " missing");\n' +
      '  else { fs.writeFileSync("dump" + n.replace(".", "-"), d); print("@@dump " + n + " " + d.length); }\n' +
      '});\n' +
      'print("@@list " + JSON.stringify(S.list()));\n' +
      'setTimeout(function () { quit(); }, 10);\n',
  );
  const dump = start(join(dir, 'espruino'), ['dump.js'], tmp);
  await waitFor(dump, () => false, 20000);
  await stop(dump);
  for (const [name, file, want] of [
    ['slabnet', 'dumpslabnet', bundle],
    ['.bootcde', 'dump-bootcde', readFileSync(app.file)],
  ]) {
    const got = existsSync(join(tmp, file)) ? readFileSync(join(tmp, file)) : null;
    if (got === null) fail(`Storage "${name}"`, `not read back\n     | ${tail(dump.out)}`);
    else if (!got.equals(want)) fail(`Storage "${name}"`, `${got.length} bytes, differs from the ${want.length} bytes sent`);
    else ok(`Storage "${name}" is byte for byte ${name === 'slabnet' ? `dist/espruino/${BOARD}.min.js` : 'the app'} (${got.length} bytes)`);
  }
  const list = /@@list (\[.*\])/.exec(dump.out);
  if (list) process.stdout.write(`     Storage files: ${list[1]}\n`);

  // the board's hardware for the restarts: Storage "hwmock" (the mock module) and ".boot0"
  // (installs it: Espruino runs .boot0 before .bootcde at start-up), written by a file run
  // (scripts/test-examples.js writeStorage; it reads each back by length)
  t = Date.now();
  try {
    await writeStorage(tmp, 'espruino', null, hwmockBoot(boardInfo));
  } catch (e) {
    fail('hardware mock into Storage', e.message);
    return 1;
  }
  ok(`hardware mock added for the restarts: Storage "hwmock" (dist/espruino/hwmock.min.js), ".boot0" = ${hwmockBoot(boardInfo)}`, t);

  // 5, 6. restart from Storage: no file argument, stdin never written
  for (const interp of ['espruino', 'espruino_v5100']) {
    t = Date.now();
    // a fresh wire and LAN per restart
    rmSync(join(tmp, 'wire'), { recursive: true, force: true });
    const wire = wireDirs(tmp);
    // the peer first: it makes the wire's folders, which the mock's FileWire uses at once
    const peer = new LanPeer(wire.p2b, wire.b2p);
    peer.start();
    const c = start(join(dir, interp), [], tmp);
    const why = await checkOverSlabnet(peer, c);
    peer.stop();
    await stop(c);
    if (why === '') ok(`${interp} restarted in that folder (no arguments, stdin never written) runs the flashed program from Storage: lease + page over slabnet`, t);
    else fail(`${interp} restarted from Storage`, `${why}\n     | ${tail(c.out)}`);
  }

  if (failures === 0) rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`test:flash: ${failures === 0 ? 'all checks passed' : `${failures} failed (folder kept: ${tmp})`} (${secs(t0)})\n`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`test:flash: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
