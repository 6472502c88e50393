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
 *                 — both test bundles keep every property name
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
 *
 * Options: --board ID (build the generic bundle and that board only),
 * --no-budget (report sizes, never fail on them), --lax-types (TypeScript
 * errors are warnings: for building while another layer is mid-edit;
 * never in CI), --verbose (largest modules of each bundle),
 * --no-mangle-props (keep every property name: to compare sizes or to rule
 * out the renaming when debugging on a board; see scripts/mangle-reserved.js).
 * Exit code 0 on success, 1 on any failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';
import { espruinoInputOptions, espruinoOutputOptions, ESPRUINO_OUT, resolveFeatures } from '../rollup.config.js';
import { checkCode, formatFindings } from './check-espruino.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const boardArg = args.indexOf('--board') >= 0 ? args[args.indexOf('--board') + 1] : null;
const noBudget = args.includes('--no-budget');
const laxTypes = args.includes('--lax-types');
const verbose = args.includes('--verbose');
const mangleProps = !args.includes('--no-mangle-props');
process.chdir(root);

/** Bundle one target to `file`; returns the code or null (error printed). */
async function bundle(target, file, entry) {
  const t0 = Date.now();
  let b;
  try {
    const opts = espruinoInputOptions(laxTypes, target);
    // a test entry (test kit, selftest): every feature, its own input
    if (entry !== undefined) opts.input = entry;
    b = await rollup(opts);
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
];

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

async function main() {
  const boards = await loadBoards();
  if (boardArg !== null && !boards.some((t) => t.board.id === boardArg)) {
    process.stderr.write(`build: FAILED: unknown board '${boardArg}' (boards/index.ts)\n`);
    return 1;
  }
  let failed = 0;
  const rows = [];

  const generic = await bundle(undefined, ESPRUINO_OUT);
  if (generic === null) return 1;
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

  for (const t of boards) {
    const b = t.board;
    if (b.codeFlashBytes <= 0) continue;
    if (boardArg !== null && boardArg !== b.id) continue;
    const file = `dist/espruino/${b.id}.min.js`;
    const code = await bundle(t, file);
    if (code === null) {
      failed++;
      continue;
    }
    if (check(file, code) > 0) failed++;
    const enforce = b.enforceBudget !== false;
    if (!enforce && !(typeof b.budgetNote === 'string' && b.budgetNote.length > 0)) {
      process.stderr.write(`build: FAILED: boards/${b.id}.ts sets enforceBudget: false without a budgetNote saying why\n`);
      failed++;
    }
    rows.push({ id: b.id, size: Buffer.byteLength(code), gz: gzipSync(code).length, budget: b.codeFlashBytes, enforce, note: offList(b) + (b.budgetNote ? '; ' + b.budgetNote : '') });
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
  if (failed > 0) {
    process.stderr.write(`build: FAILED (${failed} problem(s))\n`);
    return 1;
  }
  process.stdout.write('build: ok\n');
  return 0;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`build: FAILED: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
