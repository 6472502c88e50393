#!/usr/bin/env node
/*
 * budget.js — `npm run budget` / `npx slabnet budget [--board ID] [--json]`:
 * what each board's bundle costs the board, as the board counts it.
 *
 * Per board (and the profile its features give: `full` with TCP, `tiny`
 * without): the bundle's bytes against its saved-code flash, and the JsVars
 * measured in its board-sized Espruino interpreter (module + default stack
 * + the peak during the traffic of `npm run test:espruino`, see
 * scripts/espruino-run.js) against its JsVars; what is left for the user's
 * program in bytes of flash and in JsVars; and whether it fits
 * (scripts/boards-load.js: 4 KB of flash and 25% of the JsVars left, and
 * the module and stack come up in its own build).
 *
 * The measurements come from dist/espruino/measured.json when they were
 * made on the current bundle (same sha256; `npm run test:espruino` writes
 * it), else they are made now (ESPRUINO_DIR, as for test:espruino).
 * `--measure` always measures anew.
 *
 * The static estimate (boards/index.ts estimateStackJsVars) is checked
 * against the measured default stack: more than 10% apart fails.
 *
 * Exit status: 0 when every board whose file does not say `cannotFitYet`
 * fits and every estimate is within 10%; 1 otherwise; 2 on bad use.
 * Per board whose features enable the DHCP client or the DNS resolver, a
 * line per client: the bytes of flash it adds (the bundle less the same
 * bundle without it, dist/espruino/feature-cost.json from `npm run build`),
 * the module JsVars it adds (that variant loaded in the board's build) and
 * the JsVars of one instance on the default stack (scripts/client-cost.js).
 * The peak and the fit count the module with the clients but no instance.
 * Missing or stale variants run the build; client figures missing from
 * measured.json (or measured on other variants) are measured with load runs
 * only (the bundle's and each variant's, under a second each).
 *
 * --json: one object per board and profile:
 *   {"board","profile","bytes","flash_bytes","jsvars_peak","jsvars_total","fits", ...}
 * and, for a board with clients, "clients": {"dhcp": {"bytes","bytes_without",
 * "jsvars_module","jsvars_instance"}, "dns": {...}} (null: not measured).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { interpreterDir } from './espruino-run.js';
import { fitOf, fileSha, profileOf } from './boards-load.js';
import { targets, runTarget, figureLines, measuredFile, measuredEntry, measureClients, clientsStale } from './espruino-measure.js';
import { readFeatureCost, variantsStale, clientCosts, costLine } from './client-cost.js';
import { measureCompact, COMPACT_JSVAR_GOAL, COMPACT_FLASH_GOAL, GOAL_BOARDS } from './espruino-compact.js';
import { interpreterFor } from './espruino-run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const remeasure = args.includes('--measure');
const bi = args.indexOf('--board');
const boardArg = bi >= 0 ? args[bi + 1] : null;
/** the estimate may miss the measurement by this share */
const ESTIMATE_TOLERANCE = 0.1;

for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--json' || a === '--measure') continue;
  if (a === '--board' && i + 1 < args.length) {
    i++;
    continue;
  }
  process.stderr.write(`budget: unknown option '${a}'\nusage: budget [--board ID] [--json] [--measure]\n`);
  process.exit(2);
}

async function loadBoardsModule() {
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  try {
    return await import(pathToFileURL(join(root, 'boards', 'index.ts')).href);
  } finally {
    await unregister();
  }
}

async function main() {
  const bm = await loadBoardsModule();
  let list = targets(bm.BOARDS).filter((t) => t.id !== 'generic');
  // the boards that ship the compact stack (src/compact/, scripts/espruino-compact.js)
  let compact = bm.BOARDS.filter((b) => b.compact !== undefined && b.codeFlashBytes > 0);
  if (boardArg !== null) {
    list = list.filter((t) => t.id === boardArg);
    compact = compact.filter((b) => b.id === boardArg);
    if (list.length === 0 && compact.length === 0) {
      process.stderr.write(`budget: no board '${boardArg}' with a saved-code flash area; boards: ${targets(bm.BOARDS).filter((t) => t.id !== 'generic').map((t) => t.id).join(', ')}\n`);
      return 2;
    }
  }
  const missing = list.map((t) => join(root, t.file)).concat(compact.map((b) => join(root, 'dist', 'espruino', b.id + '.min.js')), [join(root, 'dist', 'espruino', 'testkit.min.js')]).filter((f) => !existsSync(f));
  // and the variants without one client (missing, or not built beside the current bundle)
  const fc0 = readFeatureCost(root);
  const stale = missing.length === 0 && list.some((t) => variantsStale(root, t, fc0));
  if (missing.length > 0 || stale) {
    if (!json) process.stdout.write(`budget: ${missing.length > 0 ? 'bundles' : 'bundles without one client'} missing, running npm run build\n`);
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-espruino.js'), '--no-budget'], { cwd: root, stdio: json ? 'ignore' : 'inherit' });
    if (b.status !== 0) {
      process.stderr.write('budget: the build failed\n');
      return 1;
    }
  }
  const file = measuredFile(root);
  const measured = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  let dir = null;
  let fresh = false;
  for (const t of list) {
    const m = measured[t.id];
    const current = !remeasure && m && m.bundleSha === fileSha(join(root, t.file)) && m.jsvarsModule !== undefined;
    if (current && !clientsStale(root, t, m)) continue;
    if (dir === null) {
      try {
        dir = interpreterDir();
      } catch (e) {
        process.stderr.write(`budget: ${t.id} needs measuring: ${e.message}\n`);
        return 2;
      }
    }
    if (current) {
      // only the clients: load runs of the bundle and of its variants
      if (!json) process.stdout.write(`budget: measuring ${t.id}'s clients in Espruino's interpreter ...\n`);
      const c = await measureClients(root, dir, t);
      Object.assign(m, { jsvarsDhcp: c.jsvarsDhcp, jsvarsDns: c.jsvarsDns, variants: c.variants, clientErrors: c.clientErrors });
      fresh = true;
      continue;
    }
    if (!json) process.stdout.write(`budget: measuring ${t.id} in Espruino's interpreter ...\n`);
    const { r, ownBuildOom } = await runTarget(root, dir, t);
    measured[t.id] = measuredEntry(root, t, r, ownBuildOom, figureLines(t, r));
    fresh = true;
  }
  if (fresh) writeFileSync(file, JSON.stringify(measured, null, 1) + '\n');

  let failures = 0;
  const rows = [];
  const fc = readFeatureCost(root);
  for (const t of list) {
    const m = measured[t.id];
    const b = t.board0;
    const fit = fitOf(t, m, m.ownBuildOom === true, root);
    const est = bm.estimateStackJsVars(bm.boardConfig(b), b.jsVarBytes);
    const estOff = m.jsvarsStack !== undefined ? (est - m.jsvarsStack) / m.jsvarsStack : null;
    const estOk = estOff !== null && Math.abs(estOff) <= ESTIMATE_TOLERANCE;
    const row = {
      board: t.id,
      profile: profileOf(b),
      bytes: fit.bytes,
      flash_bytes: t.flash,
      flash_left: fit.flashLeft,
      jsvars_module: m.jsvarsModule,
      jsvars_stack: m.jsvarsStack,
      jsvars_peak: m.jsvarsPeak !== undefined ? m.jsvarsPeak : null,
      jsvars_total: t.jsVars,
      jsvars_left: fit.jsvarsLeft,
      fits: fit.fits,
      must_fit: t.mustFit,
      jsvars_stack_estimate: est,
      interpreter: m.interpreter,
      why: fit.why,
    };
    if (!t.mustFit) row.cannot_fit_yet = t.cannotFitYet;
    if (!m.ok) row.scenario = 'failed';
    if (t.clients.length > 0) {
      // what each optional client costs (scripts/client-cost.js); lines kept aside for the table
      const costs = clientCosts(t.clients, fc[t.id], m);
      row.clients = {};
      for (const c of t.clients) {
        const x = costs[c.key];
        row.clients[c.key] = { bytes: x.bytes, bytes_without: x.bytes_without, jsvars_module: x.jsvars_module, jsvars_instance: x.jsvars_instance };
      }
      Object.defineProperty(row, 'clientLines', { value: t.clients.map((c) => costLine(costs[c.key])), enumerable: false });
    }
    rows.push(row);
    if (t.mustFit && !fit.fits) failures++;
    if (!estOk) failures++;
    row.estimate_ok = estOk;
  }
  // compact boards: always measured now (one run from Storage in the board's build, a few seconds)
  for (const b of compact) {
    if (dir === null) {
      try {
        dir = interpreterDir();
      } catch (e) {
        process.stderr.write(`budget: ${b.id} needs measuring: ${e.message}\n`);
        return 2;
      }
    }
    const profile = b.compact.profile;
    const interp = interpreterFor(b.jsVars);
    if (!json) process.stdout.write(`budget: measuring ${b.id} (compact, ${profile}) in Espruino's interpreter ...\n`);
    const me = await measureCompact(dir, b, join(root, 'dist', 'espruino', b.id + '.min.js'), profile);
    const r = me.run;
    const j = me.jsvars;
    const t = { file: join('dist', 'espruino', b.id + '.min.js'), flash: b.codeFlashBytes, jsVars: b.jsVars };
    const ok = r.done && j !== null && r.checks.length > 0 && r.checks.every((c) => c.ok);
    const fit = fitOf(t, { jsvarsPeak: j !== null ? j.peak : undefined }, !ok || me.ownOom === true, root);
    const mustFit = typeof b.cannotFitYet !== 'string';
    const row = {
      board: b.id,
      profile,
      stack: 'compact',
      bytes: fit.bytes,
      flash_bytes: b.codeFlashBytes,
      flash_left: fit.flashLeft,
      jsvars_module: j !== null ? j.module : null,
      jsvars_stack: j !== null ? j.stack : null,
      jsvars_peak: j !== null ? j.peak : null,
      jsvars_total: b.jsVars,
      jsvars_left: fit.jsvarsLeft,
      fits: fit.fits,
      must_fit: mustFit,
      interpreter: interp,
      interpreter_traffic: me.trafficInterp,
      why: fit.why + (ok ? '' : '; the scenario failed: ' + r.checks.filter((c) => !c.ok).map((c) => c.name + ' (' + c.info + ')').join(', ')),
      goal_bytes: GOAL_BOARDS[b.id] === profile ? COMPACT_FLASH_GOAL[profile] : null,
      goal_jsvars: GOAL_BOARDS[b.id] === profile ? COMPACT_JSVAR_GOAL[profile] : null,
      goal_met: GOAL_BOARDS[b.id] === profile ? fit.bytes <= COMPACT_FLASH_GOAL[profile] && j !== null && j.peak <= COMPACT_JSVAR_GOAL[profile] : null,
      estimate_ok: true,
    };
    if (!mustFit) row.cannot_fit_yet = b.cannotFitYet;
    rows.push(row);
    if (mustFit && !fit.fits) failures++;
  }
  if (json) {
    for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
  } else {
    const pad = (s, n) => String(s === null || s === undefined ? '-' : s).padStart(n);
    process.stdout.write('budget: per board, measured in its board-sized Espruino 2v29 interpreter\n');
    process.stdout.write(`  ${'board'.padEnd(28)} ${'profile'.padEnd(7)} ${'bytes'.padStart(6)}/${'flash'.padEnd(6)} ${'left'.padStart(6)}  ${'module'.padStart(6)} ${'stack'.padStart(6)} ${'peak'.padStart(6)}/${'total'.padEnd(6)} ${'left'.padStart(6)}  fits\n`);
    for (const r of rows) {
      const status = r.fits ? 'yes' : r.must_fit ? 'NO (must fit)' : 'no (cannot fit yet)';
      process.stdout.write(
        `  ${r.board.padEnd(28)} ${r.profile.padEnd(7)} ${pad(r.bytes, 6)}/${String(r.flash_bytes).padEnd(6)} ${pad(r.flash_left, 6)}  ${pad(r.jsvars_module, 6)} ${pad(r.jsvars_stack, 6)} ${pad(r.jsvars_peak, 6)}/${String(r.jsvars_total).padEnd(6)} ${pad(r.jsvars_left, 6)}  ${status}\n`,
      );
      process.stdout.write(`  ${''.padEnd(28)} ${r.why}\n`);
      if (r.cannot_fit_yet) process.stdout.write(`  ${''.padEnd(28)} marked in its board file: ${r.cannot_fit_yet}\n`);
      if (r.stack === 'compact') {
        const goals = r.goal_bytes === null ? '' : `: issue 8 goals ${r.goal_bytes} bytes and ${r.goal_jsvars} JsVars: bytes ${r.bytes <= r.goal_bytes ? 'met' : 'not yet'}, JsVars ${r.jsvars_peak !== null && r.jsvars_peak <= r.goal_jsvars ? 'met' : 'not yet'}`;
        process.stdout.write(`  ${''.padEnd(28)} compact stack (src/compact/), profile ${r.profile}${goals}\n`);
        continue;
      }
      const off = r.jsvars_stack !== undefined ? (((r.jsvars_stack_estimate - r.jsvars_stack) / r.jsvars_stack) * 100).toFixed(1) + '%' : 'no measurement';
      process.stdout.write(`  ${''.padEnd(28)} stack estimate ${r.jsvars_stack_estimate} JsVars vs measured ${r.jsvars_stack ?? '-'} (${off})${r.estimate_ok ? '' : ': MORE THAN 10% OFF'}\n`);
      for (const l of r.clientLines || []) process.stdout.write(`  ${''.padEnd(28)} ${l}\n`);
    }
    process.stdout.write(failures === 0 ? 'budget: ok\n' : `budget: FAILED (${failures} problem(s))\n`);
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`budget: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
