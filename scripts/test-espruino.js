#!/usr/bin/env node
/*
 * test-espruino.js — `npm run test:espruino`: every Espruino bundle judged
 * by Espruino 2v29's own interpreter (../shared/espruino/README.md), in its
 * board's memory size, loaded from Storage as the board loads it.
 *
 * For each board bundle (dist/espruino/<board>.min.js, from `npm run build`)
 * and the generic one (dist/espruino/slabnet.min.js, stock build):
 *   - the module and the board's default stack load; JsVars are reported
 *     after load, after stack creation, after the traffic, and the peak
 *     (scripts/espruino-run.js says what counts against the board);
 *   - the board's stack and a peer from the same module, joined through two
 *     register-level models of the board's chip, run the scenario
 *     (src/testkit/scenario.ts): ARP, ping, a fragmented ping where the
 *     profile has fragmentation, UDP echo, a 64 KB TCP transfer checked byte
 *     for byte, Espruino's own http (server and client) and net through the
 *     NetworkJS adapter where the profile has TCP.
 * Where the peer does not fit beside the board in the board's build, it
 * runs in a second interpreter (stock build) and the chips' wire is a file
 * per frame (src/testkit/espruino_testkit.ts FileWire: Espruino's one
 * network stays the board's). The board's module and default stack are
 * always measured in its own build (a load run); where the traffic does
 * not fit there beside the test kit, it runs in a larger build.
 *
 * Output: a line per check and per figure, then JSON lines in the bench
 * format ({"name","value","unit","board","interpreter"}): espruino_ping_ms,
 * espruino_tcp_segment_ms, espruino_http_get_16k_ms (the board's share:
 * time in its stack, driver and adapter less its chip model's, plus its SPI
 * bytes at its bus clock) and their *_elapsed_ms (the wall time of the
 * whole loop in the interpreter) — timed in one more run of the scenario,
 * in the stock build with the code in RAM (Modules.addCached: Espruino's
 * Linux build emulates flash with a file it reopens on every read, 3-5x
 * slower for that alone, where a board reads its flash as memory; the
 * run from Storage gives the same figures as *_storage_ms), and
 * espruino_jsvars_module, _stack,
 * _after_traffic, _peak, _total, and per client a board's features enable
 * (DHCP, DNS: scripts/client-cost.js) espruino_jsvars_<dhcp|dns>_module
 * (the bundle's module less that of its variant without the client, each
 * loaded in the board's build: two more load runs, under a second each)
 * and _instance (one `new DhcpClient(st)` / `new DnsResolver(st)` on the
 * default stack), with a line giving the bytes too. The results are also
 * written to dist/espruino/measured.json for `npm run budget`; missing or
 * stale variant bundles run `npm run build` first, as missing bundles do.
 *
 * Fails (exit 1) when a bundle's scenario fails in any build, or when a
 * board that must fit (its file has no `cannotFitYet`) runs out of memory
 * in its own build or misses the fit rule (scripts/budget.js).
 *
 * Also dist/selftest.js, run as a user runs it in the stock build: it must
 * print `selftest: N passed, 0 failed`.
 *
 * Options: --board ID[,ID] (those only; `generic` = the generic bundle,
 * `selftest` = dist/selftest.js), --json (only the JSON lines). ESPRUINO_DIR names the folder with
 * the interpreters (CI: ../shared/espruino/bin).
 */
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { interpreterDir, runSelftestFile } from './espruino-run.js';
import { loadBoards, fitOf } from './boards-load.js';
import { runCompactBoards } from './espruino-compact.js';
import { targets, runTarget, figureLines, measuredFile, measuredEntry, RUN_MS } from './espruino-measure.js';
import { readFeatureCost, variantsStale, clientCosts, costLine } from './client-cost.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const boardArg = args.indexOf('--board') >= 0 ? args[args.indexOf('--board') + 1].split(',') : null;
const MEASURED = measuredFile(root);
const say = (s) => {
  if (!json) process.stdout.write(s + '\n');
};

async function main() {
  let dir;
  try {
    dir = interpreterDir();
  } catch (e) {
    process.stderr.write(`test:espruino: ${e.message}\n`);
    return 2;
  }
  const boards = await loadBoards(root);
  let list = targets(boards);
  if (boardArg !== null) {
    const unknown = boardArg.filter((id) => id !== 'selftest' && !list.some((t) => t.id === id));
    if (unknown.length > 0) {
      process.stderr.write(`test:espruino: no such board: ${unknown.join(', ')}; ids: selftest, ${list.map((t) => t.id).join(', ')}\n`);
      return 2;
    }
    list = list.filter((t) => boardArg.includes(t.id));
  }
  const missing = [join(root, 'dist', 'espruino', 'testkit.min.js'), join(root, 'dist', 'selftest.js'), ...list.map((t) => join(root, t.file))].filter((f) => !existsSync(f));
  // the variants without one client (scripts/client-cost.js), built beside the bundles
  const fc0 = readFeatureCost(root);
  if (missing.length > 0 || list.some((t) => variantsStale(root, t, fc0))) {
    say('test:espruino: bundles missing, running npm run build');
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-espruino.js')], { cwd: root, stdio: json ? 'ignore' : 'inherit' });
    if (b.status !== 0) {
      process.stderr.write('test:espruino: the build failed\n');
      return 1;
    }
  }
  // dist/selftest.js in the stock build, as a user runs it
  const wantSelftest = boardArg === null || boardArg.includes('selftest');
  let selftest = null;
  const runSelftest = async () => {
    say('test:espruino: selftest ...');
    selftest = await runSelftestFile(dir, join(root, 'dist', 'selftest.js'), RUN_MS);
  };
  // two at a time (the machine has 2 cores; a run is one interpreter, or two when the peer is separate)
  const results = new Array(list.length);
  let next = 0;
  let selftestTaken = !wantSelftest;
  const worker = async () => {
    if (!selftestTaken) {
      selftestTaken = true;
      await runSelftest();
    }
    while (next < list.length) {
      const i = next++;
      const id = list[i].id;
      say(`test:espruino: ${id} ...`);
      results[i] = await runTarget(root, dir, list[i], (c) => say(`  [${id}] ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} ${c.ms} ms ${c.detail}`));
    }
  };
  await Promise.all([worker(), worker()]);

  let failures = 0;
  const measured = existsSync(MEASURED) ? JSON.parse(readFileSync(MEASURED, 'utf8')) : {};
  const fc = readFeatureCost(root);
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    const { r, tries, ownBuildOom } = results[i];
    say(`\n== ${t.id}: ${t.file} in ${r.interpreter} (${r.mode}; ${(r.ms / 1000).toFixed(1)} s)`);
    for (const x of tries.slice(0, -1)) say(`   ${x.interpreter}, ${x.mode}: ${x.ok ? 'ok' : x.oom ? 'OUT OF MEMORY' : 'failed'}, JsVars ${JSON.stringify(x.mem)}`);
    for (const c of t.clients) {
      const v = r.variants && r.variants[c.key];
      if (v && v.missing) say(`   ${v.bundle}: missing`);
      else if (v) say(`   ${v.interpreter}, load only, without the ${c.label}: ${v.ok ? 'ok' : 'failed'}, module ${v.jsvarsModule} JsVars (${(v.ms / 1000).toFixed(1)} s)`);
    }
    if (r.memFrom) say(`   JsVars of the ${r.memFrom}`);
    for (const c of r.checks) say(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(10)} ${String(c.ms).padStart(6)} ms  ${c.detail}`);
    for (const e of r.errors) say(`   ERROR ${e}`);
    if (r.oom) say('   OUT OF MEMORY');
    if (r.killed) say(`   TIMED OUT after ${RUN_MS} ms`);
    const fit = fitOf(t, r, ownBuildOom, root);
    const lines = figureLines(t, r);
    for (const l of lines) {
      if (json) process.stdout.write(JSON.stringify(l) + '\n');
      else say(`   ${l.name.padEnd(34)} ${String(l.value).padStart(9)} ${l.unit}`);
    }
    measured[t.id] = measuredEntry(root, t, r, ownBuildOom, lines);
    const costs = clientCosts(t.clients, fc[t.id], measured[t.id]);
    for (const c of t.clients) say(`   ${costLine(costs[c.key])}`);
    for (const e of r.clientErrors || []) say(`   the ${e.phase} client could not be constructed on the default stack: ${e.error}`);
    let bad = '';
    if (!r.ok) bad = 'the scenario failed in the real interpreter';
    else if (t.mustFit && !fit.fits) bad = `must fit but does not: ${fit.why}`;
    const ran = new Set(r.checks.map((c) => c.name));
    const want = ['link', 'arp+ping', 'ping', 'udp-echo', 'quiesce'].concat(t.frag ? ['ping-frag'] : [], t.tcp ? ['tcp', 'http-srv', 'http-cli', 'net'] : []);
    const notRun = want.filter((n) => !ran.has(n));
    if (bad === '' && notRun.length > 0) bad = `steps not run: ${notRun.join(', ')}`;
    if (bad !== '') {
      failures++;
      say(`   FAILED: ${bad}`);
    } else if (t.jsVars > 0) say(`   ${fit.fits ? 'fits' : 'does not fit'}: ${fit.why}${t.mustFit ? '' : ` (marked in its board file: ${t.cannotFitYet})`}`);
    if (!r.ok && !json) process.stdout.write(r.out.slice(-2500).replace(/\r/g, '') + '\n');
  }
  if (selftest !== null) {
    const ok = selftest.ok;
    say(`\n== selftest: dist/selftest.js in espruino (${(selftest.ms / 1000).toFixed(1)} s): ${ok ? 'ok' : 'FAILED'}`);
    for (const l of selftest.lines) say(`   ${l}`);
    if (!ok) {
      failures++;
      if (!json) process.stdout.write(selftest.out.slice(-2500).replace(/\r/g, '') + '\n');
    }
  }
  // the compact bundles of the small boards (src/compact/, scripts/espruino-compact.js)
  const compact = await runCompactBoards(root, dir, boards, boardArg, say);
  failures += compact.failed;
  writeFileSync(MEASURED, JSON.stringify(measured, null, 1) + '\n');
  const total = list.length + (selftest !== null ? 1 : 0) + compact.runs;
  say(`\ntest:espruino: ${total - failures} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`test:espruino: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
