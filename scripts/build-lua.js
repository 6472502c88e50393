#!/usr/bin/env node
/*
 * build-lua.js — `npm run build:lua`: compile the portable core to Lua 5.3
 * with typescript-to-lua and run the Lua smoke test.
 *
 *   1. tstl -p tsconfig.lua.json: src/ (minus src/cli, src/host),
 *      drivers/pair/ and test/lua/ → dist/lua/slabnet.lua (one bundle whose
 *      entry is test/lua/smoke.ts). ANY diagnostic — TypeScript or TSTL,
 *      error or warning — fails the build.
 *   2. copy lua/typedarrays.lua (the Uint8Array/Int32Array/... shim) to dist/lua/.
 *   3. lua5.3 -e "dofile('dist/lua/typedarrays.lua')" dist/lua/slabnet.lua
 *      must exit 0 and print a line starting with "SLABNET-LUA-SMOKE OK".
 *
 * Options: --no-run (compile only), --lua <interpreter> (default lua5.3,
 * or $LUA). Exit code 0 on success, 1 on any failure.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tstl = require('typescript-to-lua');
const ts = require('typescript');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'lua');
const args = process.argv.slice(2);
const noRun = args.includes('--no-run');
const luaIdx = args.indexOf('--lua');
const luaBin = luaIdx >= 0 ? args[luaIdx + 1] : process.env.LUA || 'lua5.3';
const SMOKE_OK = 'SLABNET-LUA-SMOKE OK';

function fmtDiag(d) {
  const cat = d.category === ts.DiagnosticCategory.Error ? 'error' : d.category === ts.DiagnosticCategory.Warning ? 'warning' : 'message';
  const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.file !== undefined && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${relative(root, d.file.fileName)}:${line + 1}:${character + 1}: ${cat} TS${d.code === undefined ? '' : d.code}: ${msg}`;
  }
  return `${cat}: ${msg}`;
}

function compile() {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  const res = tstl.transpileProject(join(root, 'tsconfig.lua.json'));
  const diags = res.diagnostics;
  for (const d of diags) process.stderr.write(fmtDiag(d) + '\n');
  if (diags.length > 0 || res.emitSkipped) {
    process.stderr.write(`build:lua: FAILED: ${diags.length} diagnostic(s) from typescript-to-lua (zero allowed)\n`);
    return false;
  }
  copyFileSync(join(root, 'lua', 'typedarrays.lua'), join(outDir, 'typedarrays.lua'));
  process.stdout.write(`build:lua: dist/lua/slabnet.lua compiled with 0 diagnostics in ${Date.now() - t0} ms\n`);
  return true;
}

function runSmoke() {
  const probe = spawnSync(luaBin, ['-v'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    process.stderr.write(
      `build:lua: FAILED: Lua interpreter '${luaBin}' not found. Install it (apt-get install -y lua5.3) or pass --lua <path>.\n`,
    );
    return false;
  }
  const r = spawnSync(luaBin, ['-e', "dofile('dist/lua/typedarrays.lua')", 'dist/lua/slabnet.lua'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120000,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) {
    process.stderr.write(`build:lua: FAILED: Lua smoke test exited with status ${r.status}${r.signal ? ' signal ' + r.signal : ''}\n`);
    return false;
  }
  if (!r.stdout.split('\n').some((l) => l.startsWith(SMOKE_OK))) {
    process.stderr.write(`build:lua: FAILED: Lua smoke test did not print "${SMOKE_OK}"\n`);
    return false;
  }
  process.stdout.write('build:lua: Lua smoke test passed\n');
  return true;
}

if (!existsSync(join(root, 'tsconfig.lua.json'))) {
  process.stderr.write('build:lua: tsconfig.lua.json missing\n');
  process.exit(1);
}
let ok = compile();
if (ok && !noRun) ok = runSmoke();
process.exit(ok ? 0 : 1);
