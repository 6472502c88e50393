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
 *      --port tcp://127.0.0.1:2323 --app APP` uploads the board's bundle
 *      (Storage `slabnet`) and APP (Storage `.bootcde`) with the espruino
 *      CLI, offline; the command must exit 0 with its `ok` line (the board's
 *      own read-back of both files matched);
 *   3. the interpreter is killed (SIGKILL: interactive mode ignores SIGTERM);
 *   4. Storage is read back by a file run in that folder (`espruino
 *      dump.js`: a file run does not run `.bootcde`): `slabnet` must be byte
 *      for byte the bundle, `.bootcde` the app;
 *   5. the stock interpreter is started again in that folder with NO file
 *      argument and stdin a pipe nothing is ever written to: the saved boot
 *      code must run by itself, and the app must work over slabnet;
 *   6. the same with the Pico-sized build (espruino_v5100), from the very
 *      same ./espruino.flash.
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
 * Output: one `ok ...` or `FAIL ... (reason)` line per check, timings;
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
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BOARD = 'espruino-pico-enc28j60';
const TELNET_PORT = 2323;
const FLASH_MS = 180000;
const BOOT_MS = 60000;

if (!process.env.ESPRUINO_DIR) process.env.ESPRUINO_DIR = resolve(root, '..', 'shared', 'espruino', 'bin');
const { interpreterDir } = await import('./espruino-run.js');

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
  const p = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
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
async function stop(c) {
  if (!c.exited) c.p.kill('SIGKILL');
  await Promise.race([c.done, sleep(5000)]);
}

process.on('exit', () => {
  for (const c of started) c.p.kill('SIGKILL');
});

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

/**
 * The program flashed with the bundle, and how to tell it works in a
 * restarted interpreter: { file, check(interpreterName, dir, c) → Promise<string> ('' = ok, else why) }.
 */
function theApp(dir) {
  const file = join(dir, 'app.js');
  writeFileSync(
    file,
    '// test-flash.js: loads the flashed module from Storage and reports\n' +
      'var m = require("slabnet");\n' +
      'print("@@app " + (typeof m.setup) + " " + require("Storage").read("slabnet").length);\n',
  );
  return {
    file,
    name: 'a temporary app',
    async check(c) {
      const want = (o) => /@@app function \d+/.test(o);
      if (!(await waitFor(c, want, BOOT_MS))) return `no '@@app function N' line from the boot code within ${BOOT_MS / 1000} s`;
      return '';
    },
  };
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
  if (await accepts(TELNET_PORT, 1000)) {
    process.stderr.write(`test:flash: something already listens on 127.0.0.1:${TELNET_PORT} (another \`espruino --telnet\`?); the telnet console's port is fixed: stop it first\n`);
    return 2;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'slabnet-flash-'));
  const bundle = readFileSync(bundleFile);
  const app = theApp(tmp);
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
  const args = ['bin/slabnet.js', 'flash', '--board', BOARD, '--port', `tcp://127.0.0.1:${TELNET_PORT}`, '--app', app.file];
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

  // 5, 6. restart from Storage: no file argument, stdin never written
  for (const interp of ['espruino', 'espruino_v5100']) {
    t = Date.now();
    const c = start(join(dir, interp), [], tmp);
    const why = await app.check(c);
    await stop(c);
    if (why === '') ok(`${interp} restarted in that folder (no arguments) runs the flashed program: ${app.name} works`, t);
    else fail(`${interp} restarted from Storage`, `${why}\n     | ${tail(c.out)}`);
  }

  rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`test:flash: ${failures === 0 ? 'all checks passed' : `${failures} failed`} (${secs(t0)})\n`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`test:flash: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
