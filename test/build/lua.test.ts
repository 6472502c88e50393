/*
 * lua.test.ts — `npm run build:lua` compiles the portable core with
 * typescript-to-lua with zero diagnostics and the Lua 5.3 smoke test
 * (test/lua/smoke.ts) passes; the same smoke code run under Node prints the
 * identical summary line (the core is deterministic on both runtimes).
 * Needs the lua5.3 interpreter: when it is missing this test FAILS and says so.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { spawnAsync } from '../spawn_async';
import { join } from 'node:path';
import { runSmoke, SMOKE_OK } from '../lua/smoke_lib';

const root = join(__dirname, '..', '..');

describe('npm run build:lua', () => {
  it('lua5.3 is installed', () => {
    const p = spawnSync('lua5.3', ['-v'], { encoding: 'utf8' });
    expect(p.error === undefined && p.status === 0, 'lua5.3 not found: apt-get install -y lua5.3').toBe(true);
  });

  it('compiles with zero diagnostics and the Lua smoke test passes with the same result as Node', async () => {
    const node = runSmoke();
    expect(node.startsWith(SMOKE_OK)).toBe(true);
    const r = await spawnAsync(process.execPath, [join(root, 'scripts', 'build-lua.js')], { cwd: root, timeout: 240000 });
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/compiled with 0 diagnostics/);
    const line = r.stdout.split('\n').find((l) => l.startsWith(SMOKE_OK));
    expect(line, out).toBeDefined();
    expect(line).toBe(node);
  }, 240000);
});
