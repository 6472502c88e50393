#!/usr/bin/env node
/*
 * build-espruino.js — `npm run build`: the Espruino bundles.
 *
 *   1. rollup (rollup.config.js) → TypeScript (ES2019) → one CommonJS module
 *      → terser (mangle + compress, ES2015 output), once per target:
 *        generic  src/espruino.ts → dist/espruino/slabnet.min.js
 *                 (every feature, every board; no flash budget)
 *        testkit  src/testkit/espruino_testkit.ts → dist/espruino/testkit.min.js
 *                 (chip models + scenario for `npm run test:espruino`)
 *        selftest src/testkit/selftest.ts → dist/selftest.js (generic +
 *                 scenario through two ENC28J60 models; needs no wiring)
 *        hwmock   src/testkit/hwmock.ts → dist/espruino/hwmock.min.js (a
 *                 board's SPI bus, pins and chip model inside the
 *                 interpreter, for examples/: scripts/test-examples.js)
 *                 — the test bundles keep every property name
 *        <board>  a generated entry over src/espruino_board.ts with that
 *                 board, its chip driver (drivers/<chip>/driver.ts when
 *                 present) and its compile-time features (boards/*.ts
 *                 `features` → src/features.ts constants, dead code
 *                 dropped) → dist/espruino/<board id>.min.js
 *      for every board with a saved-code flash area (codeFlashBytes > 0).
 *   2. scripts/check-espruino.js over every bundle's AST: any construct
 *      Espruino 2v29 lacks fails the build (file:line:col and construct).
 *   3. size: a table of bundle size / codeFlashBytes per board. The build
 *      FAILS when a board's bundle exceeds its budget, unless that board
 *      says `enforceBudget: false` (with its reason in budgetNote, printed).
 *   4. what the optional clients cost (scripts/client-cost.js): every
 *      board bundle whose features enable the DHCP client or the DNS
 *      resolver (today the ESP32's) is bundled again with that one feature
 *      off (the board object copied with `{...features, dhcp: false}`;
 *      boards/*.ts unchanged) → dist/espruino/variants/<id>-no-<dhcp|dns>.min.js
 *      (never flashed; `npm run test:espruino` and `npm run budget` load
 *      them to measure the module JsVars without the client), and the
 *      difference goes to dist/espruino/feature-cost.json. With
 *      --generic-cost the generic bundle too (its FEATURE_ constant off and
 *      src/espruino.ts without that client's re-export; about 25 s more CPU
 *      time, so not by default).
 *      No second TypeScript run: once a bundle's rollup is done, a worker
 *      thread (this file, startVariants → variantJob) bundles its variants
 *      from the modules as TypeScript emitted them there, without the
 *      TypeScript plugin (rollup and terser only; byte-identical to a full
 *      build of the variant), while the main thread goes on with the other
 *      bundles (boards with clients are bundled first). The construct
 *      checker runs on the variants too (warnings only). The build prints
 *      how long they took and how long it waited for them.
 *
 * Options: --board ID (build the generic bundle and that board only, and
 * the board's variants), --generic-cost (step 4 for the generic bundle too),
 * --no-budget (report sizes, never fail on them), --lax-types (TypeScript
 * errors are warnings: for building while another layer is mid-edit;
 * never in CI), --verbose (largest modules of each bundle),
 * --no-mangle-props (keep every property name: to compare sizes or to rule
 * out the renaming when debugging on a board; see scripts/mangle-reserved.js).
 * Exit code 0 on success, 1 on any failure.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import * as acorn from 'acorn';
import { rollup } from 'rollup';
import { espruinoInputOptions, espruinoOutputOptions, ESPRUINO_OUT, resolveFeatures, featureConst } from '../rollup.config.js';
import { checkCode, formatFindings } from './check-espruino.js';
import { CLIENTS, clientsOf, variantFile, featureCostFile, thousands } from './client-cost.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const boardArg = args.indexOf('--board') >= 0 ? args[args.indexOf('--board') + 1] : null;
const noBudget = args.includes('--no-budget');
const laxTypes = args.includes('--lax-types');
const verbose = args.includes('--verbose');
const mangleProps = !args.includes('--no-mangle-props');
/** step 4 for the generic bundle too (about 25 s more CPU time; off by default) */
const genericCost = args.includes('--generic-cost');
if (isMainThread) process.chdir(root);

/**
 * Bundle one target to `file`; returns the code or null (error printed).
 * onLoaded(Map id → code): called after the rollup, before terser, with
 * every module as TypeScript emitted it (step 4 starts from there).
 */
async function bundle(target, file, entry, onLoaded) {
  const t0 = Date.now();
  let b;
  try {
    const opts = espruinoInputOptions(laxTypes, target);
    // a test entry (test kit, selftest): every feature, its own input
    if (entry !== undefined) opts.input = entry;
    b = await rollup(opts);
    if (onLoaded) onLoaded(new Map(b.cache.modules.map((m) => [m.id, m.originalCode])));
  } catch (e) {
    process.stderr.write(`build: FAILED: ${file}: rollup: ${e.message}\n`);
    if (e.loc) process.stderr.write(`  at ${e.loc.file}:${e.loc.line}:${e.loc.column}\n`);
    if (e.frame) process.stderr.write(e.frame + '\n');
    return null;
  }
  // test entries keep every property name: they meet Espruino's http/net
  // objects and, for the test kit, a board bundle's objects by public names only
  const { output } = await b.generate(espruinoOutputOptions(file, entry === undefined ? mangleProps : false));
  await b.close();
  const code = output[0].code;
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), code);
  const mods = output[0].modules || {};
  const names = Object.keys(mods);
  process.stdout.write(`build: ${file} bundled in ${Date.now() - t0} ms (${names.length} modules)\n`);
  if (verbose) {
    // biggest modules (rendered size before minification): where the flash goes
    const sizes = names.map((n) => [relative(root, n.replace(/^\0/, '')), mods[n].renderedLength]).sort((a, c) => c[1] - a[1]);
    let total = 0;
    for (const x of sizes) total += x[1];
    for (const [n, l] of sizes.slice(0, 12)) process.stdout.write(`  ${String(l).padStart(7)}  ${((100 * l) / total).toFixed(1).padStart(5)}%  ${n}\n`);
  }
  return code;
}

/** Run the construct checker; returns the number of findings (printed). */
function check(file, code) {
  const findings = checkCode(code, 'script');
  for (const l of formatFindings(file, findings)) process.stderr.write(l + '\n');
  return findings.length;
}

/** [entry, output, note]: bundles for testing in Espruino's interpreter, never flashed as the stack */
const TEST_BUNDLES = [
  ['src/testkit/espruino_testkit.ts', 'dist/espruino/testkit.min.js', 'test kit: chip models + scenario (npm run test:espruino)'],
  ['src/testkit/selftest.ts', 'dist/selftest.js', 'selftest: two stacks through two ENC28J60 models, no wiring'],
  ['src/testkit/hwmock.ts', 'dist/espruino/hwmock.min.js', 'hardware mock: a board\'s SPI, pins and chip model for examples/ (npm run test:examples)'],
];

/* ---------------- step 4: the bundles without one client ---------------- */

/**
 * A rollup plugin that strips, from the generic entry (src/espruino.ts, as
 * TypeScript emitted it), the re-exports of `module` (the client's file):
 * the generic bundle has no feature switch for its exports.
 */
function stripReexport(module) {
  const entry = join(root, 'src', 'espruino.ts');
  const target = join(root, module).replace(/\.ts$/, '');
  return {
    name: 'slabnet-strip-reexport',
    transform(code, id) {
      if (id !== entry) return null;
      const cuts = [];
      for (const n of acorn.parse(code, { ecmaVersion: 2020, sourceType: 'module' }).body) {
        if ((n.type === 'ExportNamedDeclaration' || n.type === 'ExportAllDeclaration') && n.source && join(dirname(id), n.source.value).replace(/\.ts$/, '') === target) cuts.push(n);
      }
      if (cuts.length === 0) throw new Error(`src/espruino.ts does not re-export ${module}`);
      let out = code;
      for (const n of cuts.reverse()) out = out.slice(0, n.start) + out.slice(n.end);
      return { code: out, map: null };
    },
  };
}

/**
 * A rollup plugin (after rollup.config.js's featuresPlugin) that turns
 * `name` (FEATURE_DHCP, ...) off in the generic bundle, whose features are
 * otherwise all on: the hooks the stack keeps for the client go too.
 */
function featureOff(name) {
  const file = join(root, 'src', 'features.ts');
  return {
    name: 'slabnet-feature-off',
    transform(code, id) {
      if (id !== file) return null;
      const on = `export const ${name} = true;`;
      if (!code.includes(on)) throw new Error(`src/features.ts as the build rewrote it has no '${on}'`);
      return { code: code.replace(on, `export const ${name} = false;`), map: null };
    },
  };
}

/**
 * Rollup options of the bundle `t` (undefined = generic) without client c.
 * `loaded` (Map id → JavaScript, from the rollup of the bundle itself):
 * serve every module as TypeScript emitted it there, without the
 * TypeScript plugin (no second program, no second type check; the other
 * plugins run as before). null: the full pipeline.
 */
function variantOptions(t, c, loaded, lax) {
  let opts;
  if (t === undefined) {
    opts = espruinoInputOptions(lax, undefined);
    opts.plugins.push(stripReexport(c.module), featureOff(featureConst(c.key)));
  } else {
    const features = Object.assign({}, t.board.features, { [c.key]: false });
    opts = espruinoInputOptions(lax, { board: Object.assign({}, t.board, { features }), exportName: t.exportName });
  }
  if (loaded !== null) {
    const load = { name: 'slabnet-loaded', load: (id) => (id.startsWith('\0') || !loaded.has(id) ? null : loaded.get(id)) };
    opts.plugins = [load].concat(opts.plugins.filter((p) => p.name !== 'typescript'));
  }
  opts.cache = false;
  return opts;
}

/** The bundles step 4 makes variants of: [{ id, t (undefined = generic), clients }]. */
function variantBases(boards) {
  const bases = genericCost ? [{ id: 'generic', t: undefined, clients: CLIENTS }] : [];
  for (const t of boards) {
    if (t.board.codeFlashBytes <= 0 || (boardArg !== null && boardArg !== t.board.id)) continue;
    const cs = clientsOf(t.board.features);
    if (cs.length > 0) bases.push({ id: t.board.id, t, clients: cs });
  }
  return bases;
}

/**
 * The worker thread's job (workerData: { id, t, keys, loaded: [[id, code]],
 * laxTypes, mangleProps }): bundle each variant, write it, check it.
 * Returns { variants: [{ id, key, file, bytes }], lines, errors, failed }.
 */
async function variantJob(job) {
  const loaded = job.loaded !== null ? new Map(job.loaded) : null;
  const out = { variants: [], lines: [], errors: [], failed: 0 };
  for (const c of CLIENTS.filter((x) => job.keys.includes(x.key))) {
    const file = variantFile(job.id, c.key);
    const t1 = Date.now();
    let b = null;
    for (const l of loaded !== null ? [loaded, null] : [null]) {
      try {
        b = await rollup(variantOptions(job.t, c, l, job.laxTypes));
        break;
      } catch (e) {
        // with `loaded`: a module its rollup did not load; then the full pipeline
        if (l === null) out.errors.push(`build: FAILED: ${file}: rollup: ${e.message}`);
      }
    }
    if (b === null) {
      out.failed++;
      continue;
    }
    const { output } = await b.generate(espruinoOutputOptions(file, job.mangleProps));
    await b.close();
    const code = output[0].code;
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), code);
    for (const l of formatFindings(file, checkCode(code, 'script'))) out.errors.push(`build: warning (variant, never flashed): ${l}`);
    out.lines.push(`build: ${file} bundled in ${Date.now() - t1} ms (worker thread)`);
    out.variants.push({ id: job.id, key: c.key, file, bytes: Buffer.byteLength(code) });
  }
  return out;
}

/**
 * Start the variants of `base` in a worker thread, from `loaded` (its
 * bundle's modules as TypeScript emitted them, or null). Returns a
 * promise of variantJob's result (plus ms), never rejected.
 */
function startVariants(base, loaded) {
  const t0 = Date.now();
  const data = {
    id: base.id, t: base.t, keys: base.clients.map((c) => c.key), loaded: loaded !== null ? Array.from(loaded) : null,
    laxTypes, mangleProps,
  };
  const w = new Worker(new URL(import.meta.url), { workerData: data });
  return new Promise((resolve) => {
    let res = null;
    w.on('message', (m) => (res = m));
    w.on('error', (e) => (res = { variants: [], lines: [], errors: [`build: FAILED: variants of ${base.id}: ${e && e.stack ? e.stack : e}`], failed: 1 }));
    w.on('exit', () => {
      if (res === null) res = { variants: [], lines: [], errors: [`build: FAILED: variants of ${base.id}: the worker ended without a result`], failed: 1 };
      res.ms = Date.now() - t0;
      resolve(res);
    });
  });
}

/**
 * Write dist/espruino/feature-cost.json from the bundles this build made
 * (`base`: id → { bytes, sha }) and the variants: entries of bundles not
 * built now (--board) are kept. Returns the table's lines.
 */
function writeFeatureCost(base, variants) {
  const file = featureCostFile(root);
  let all = {};
  try {
    if (existsSync(file)) all = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    all = {};
  }
  const lines = [];
  const ids = [];
  for (const v of variants) if (!ids.includes(v.id)) ids.push(v.id);
  for (const id of ids) {
    const b = base.get(id);
    if (b === undefined) continue;
    const e = { bytes: b.bytes, bundleSha: b.sha };
    const parts = [];
    for (const c of CLIENTS) {
      const v = variants.find((x) => x.id === id && x.key === c.key);
      if (v === undefined) continue;
      e[c.key] = { bytes_without: v.bytes, bytes: b.bytes - v.bytes, file: v.file };
      parts.push(`${c.label} +${thousands(b.bytes - v.bytes)} (without: ${thousands(v.bytes)})`);
    }
    all[id] = e;
    lines.push(`  ${(id === 'generic' ? 'generic (slabnet.min.js)' : id).padEnd(28)} ${parts.join('; ')}`);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 1) + '\n');
  return lines;
}

const sha256 = (code) => createHash('sha256').update(code).digest('hex');

async function loadBoards() {
  const { register } = await import('tsx/esm/api');
  const unregister = register();
  try {
    const m = await import(pathToFileURL(join(root, 'boards', 'index.ts')).href);
    const out = [];
    for (const b of m.BOARDS) {
      // the board's export name in boards/<id>.ts (the generated entry imports it)
      const mod = await import(pathToFileURL(join(root, 'boards', b.id + '.ts')).href);
      let exportName = null;
      for (const k of Object.keys(mod)) if (mod[k] === b) exportName = k;
      if (exportName === null) throw new Error(`boards/${b.id}.ts does not export the board '${b.id}'`);
      out.push({ board: b, exportName });
    }
    return out;
  } finally {
    await unregister();
  }
}

function offList(board) {
  const v = resolveFeatures(board.features);
  const off = Object.keys(v).filter((k) => !v[k]).map((k) => k.replace(/^FEATURE_/, '').toLowerCase());
  return off.length === 0 ? 'all features' : 'off: ' + off.join(',');
}

/** A compact board's bundle of `profile`: the default profile is the board's bundle. */
function compactFile(b, profile) {
  return b.compact.profile === profile ? `dist/espruino/${b.id}.min.js` : `dist/espruino/${b.id}.${profile}.min.js`;
}

/** issue 8's flash goals for the compact profiles: full within 32 KB, tiny within 16 KB */
const COMPACT_FLASH_GOAL = { full: 32768, tiny: 16384 };

async function main() {
  const t0 = Date.now();
  const boards = await loadBoards();
  if (boardArg !== null && !boards.some((t) => t.board.id === boardArg)) {
    process.stderr.write(`build: FAILED: unknown board '${boardArg}' (boards/index.ts)\n`);
    return 1;
  }
  let failed = 0;
  const rows = [];
  /** id → { bytes, sha } of the bundles the variants are compared with */
  const base = new Map();
  // step 4: a worker thread per bundle with clients, started once its rollup is done
  const bases = variantBases(boards);
  const jobs = [];
  const variantsOf = (id) => {
    const vb = bases.find((x) => x.id === id);
    return vb === undefined ? undefined : (loaded) => jobs.push(startVariants(vb, loaded));
  };

  const generic = await bundle(undefined, ESPRUINO_OUT, undefined, variantsOf('generic'));
  if (generic === null) return 1;
  base.set('generic', { bytes: Buffer.byteLength(generic), sha: sha256(generic) });
  failed += check(ESPRUINO_OUT, generic) > 0 ? 1 : 0;
  rows.push({ id: 'generic (slabnet.min.js)', size: Buffer.byteLength(generic), gz: gzipSync(generic).length, budget: 0, enforce: false, note: 'every feature and board; no budget' });

  // the test kit (chip models + scenario, beside a board bundle in
  // `npm run test:espruino`) and dist/selftest.js (generic + kit, no wiring)
  for (const [entry, file, note] of TEST_BUNDLES) {
    const code = await bundle(undefined, file, entry);
    if (code === null) return 1;
    failed += check(file, code) > 0 ? 1 : 0;
    rows.push({ id: file.replace(/^dist\//, ''), size: Buffer.byteLength(code), gz: gzipSync(code).length, budget: 0, enforce: false, note });
  }

  // the boards with clients first, so their variants are made while the others are bundled
  const order = boards.filter((t) => variantsOf(t.board.id) !== undefined).concat(boards.filter((t) => variantsOf(t.board.id) === undefined));
  const boardRows = new Map();
  for (const t of order) {
    const b = t.board;
    // a board with a compact part ships the compact stack (below), not the general one
    if (b.codeFlashBytes <= 0 || b.compact !== undefined) continue;
    if (boardArg !== null && boardArg !== b.id) continue;
    const file = `dist/espruino/${b.id}.min.js`;
    const code = await bundle(t, file, undefined, variantsOf(b.id));
    if (code === null) {
      failed++;
      continue;
    }
    if (check(file, code) > 0) failed++;
    base.set(b.id, { bytes: Buffer.byteLength(code), sha: sha256(code) });
    const enforce = b.enforceBudget !== false;
    if (!enforce && !(typeof b.budgetNote === 'string' && b.budgetNote.length > 0)) {
      process.stderr.write(`build: FAILED: boards/${b.id}.ts sets enforceBudget: false without a budgetNote saying why\n`);
      failed++;
    }
    boardRows.set(b.id, { id: b.id, size: Buffer.byteLength(code), gz: gzipSync(code).length, budget: b.codeFlashBytes, enforce, note: offList(b) + (b.budgetNote ? '; ' + b.budgetNote : '') });
  }
  // the compact bundles (src/compact/) of the small boards: the default profile is
  // the board's bundle (dist/espruino/<id>.min.js, enforced against its saved-code
  // flash), the other one beside it (<id>.<profile>.min.js); issue 8's goals printed
  for (const t of boards) {
    const b = t.board;
    if (b.compact === undefined || (boardArg !== null && boardArg !== b.id)) continue;
    for (const profile of ['full', 'tiny']) {
      const file = compactFile(b, profile);
      const code = await bundle(Object.assign({}, t, { compact: profile }), file, undefined);
      if (code === null) {
        failed++;
        continue;
      }
      if (check(file, code) > 0) failed++;
      const goal = COMPACT_FLASH_GOAL[profile];
      const size = Buffer.byteLength(code);
      const row = { id: b.compact.profile === profile ? b.id : `${b.id}.${profile}`, size, gz: gzipSync(code).length, budget: b.codeFlashBytes, enforce: b.compact.profile === profile,
        note: `compact stack, profile ${profile}${b.compact.profile === profile ? ' (the board\'s default)' : ''}; goal <= ${goal} bytes: ${size <= goal ? 'met' : 'not yet (' + (size - goal) + ' over)'}` };
      boardRows.set(row.id, row);
    }
  }
  // the table in boards/index.ts order
  for (const t of boards) {
    if (boardRows.has(t.board.id)) rows.push(boardRows.get(t.board.id));
    for (const p of ['full', 'tiny']) if (boardRows.has(t.board.id + '.' + p)) rows.push(boardRows.get(t.board.id + '.' + p));
  }

  process.stdout.write(failed === 0 ? 'build: Espruino construct check: clean\n' : '');
  process.stdout.write('build: bundle size / saved-code flash budget\n');
  process.stdout.write(`  ${'bundle'.padEnd(28)} ${'bytes'.padStart(7)} ${'gzip'.padStart(6)} ${'budget'.padStart(7)}  use   status\n`);
  let over = 0;
  for (const r of rows) {
    let status = 'no budget';
    let use = '';
    if (r.budget > 0) {
      use = ((100 * r.size) / r.budget).toFixed(0) + '%';
      if (r.size <= r.budget) status = 'ok';
      else if (!r.enforce) status = 'OVER BUDGET (not enforced)';
      else {
        status = 'OVER BUDGET';
        over++;
      }
    }
    process.stdout.write(`  ${r.id.padEnd(28)} ${String(r.size).padStart(7)} ${String(r.gz).padStart(6)} ${String(r.budget || '-').padStart(7)}  ${use.padStart(4)}  ${status}\n`);
    process.stdout.write(`  ${''.padEnd(28)} ${r.note}\n`);
  }
  if (over > 0 && !noBudget) {
    process.stderr.write(`build: FAILED: ${over} board bundle(s) exceed their flash budget (boards/*.ts codeFlashBytes)\n`);
    failed++;
  }

  // step 4: the variants (worker threads, since each bundle's rollup)
  if (jobs.length > 0) {
    const tWait = Date.now();
    const done = await Promise.all(jobs);
    const waited = Date.now() - tWait;
    const variants = [];
    let ms = 0;
    for (const v of done) {
      for (const l of v.lines) process.stdout.write(l + '\n');
      for (const l of v.errors) process.stderr.write(l + '\n');
      failed += v.failed;
      for (const x of v.variants) variants.push(x);
      ms += v.ms;
    }
    process.stdout.write('build: what each client costs in flash: the bundle minus the same bundle without it (dist/espruino/feature-cost.json)\n');
    for (const l of writeFeatureCost(base, variants)) process.stdout.write(l + '\n');
    process.stdout.write(
      `build: variants: ${variants.length} bundles, ${(ms / 1000).toFixed(1)} s in ${jobs.length} worker thread(s) beside the other bundles; ` +
        `the build waited ${(waited / 1000).toFixed(1)} s for them (build ${((Date.now() - t0) / 1000).toFixed(1)} s in all)\n`,
    );
  }
  if (failed > 0) {
    process.stderr.write(`build: FAILED (${failed} problem(s))\n`);
    return 1;
  }
  process.stdout.write('build: ok\n');
  return 0;
}

if (isMainThread) {
  main().then(
    (rc) => process.exit(rc),
    (e) => {
      process.stderr.write(`build: FAILED: ${e && e.stack ? e.stack : e}\n`);
      process.exit(1);
    },
  );
} else {
  // a step-4 worker (startVariants)
  variantJob(workerData).then(
    (r) => parentPort.postMessage(r),
    (e) => parentPort.postMessage({ variants: [], lines: [], errors: [`build: FAILED: variants of ${workerData.id}: ${e && e.stack ? e.stack : e}`], failed: 1 }),
  );
}
