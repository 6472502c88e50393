/*
 * tcp_lua.test.ts — the TCP smoke test (test/lua_tcp/tcp_smoke_lib.ts) on
 * Node, and the same code compiled with typescript-to-lua and run by
 * lua5.3 with the typed-array shim: both must print the same summary
 * (sequence numbers across 2^32, loss, both directions, TIME_WAIT).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { spawnAsync } from '../spawn_async';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tcpSmoke } from '../lua_tcp/tcp_smoke_lib';

const root = resolve(__dirname, '..', '..');

function haveLua(): boolean {
  const r = spawnSync('lua5.3', ['-v']);
  return r.status === 0;
}

describe('tcp on Node and Lua 5.3', () => {
  it('the smoke test passes on Node', () => {
    const s = tcpSmoke();
    expect(s).toMatch(/ ok$/);
    expect(s).toMatch(/a\.retrans=[1-9]/);
  });

  it('Lua 5.3 prints the same summary as Node', async () => {
    const node = tcpSmoke();
    if (!haveLua()) {
      // no interpreter on this machine: the Node half above still ran
      expect(node).toMatch(/ ok$/);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'slabnet-tcp-lua-'));
    const cfg = {
      compilerOptions: {
        target: 'ES2020', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2020'], types: [],
        strict: true, noImplicitOverride: true, skipLibCheck: true, isolatedModules: true,
        rootDir: root, outDir: dir,
      },
      tstl: {
        luaTarget: '5.3', noImplicitSelf: false, noHeader: true, luaBundle: 'tcp_smoke.lua',
        luaBundleEntry: join(root, 'test/lua_tcp/tcp_smoke.ts'),
      },
      files: [join(root, 'test/lua_tcp/tcp_smoke.ts')],
    };
    const cfgPath = join(dir, 'tsconfig.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const tstl = join(root, 'node_modules', '.bin', 'tstl');
    const c = await spawnAsync(tstl, ['-p', cfgPath]);
    expect(c.stdout + c.stderr).toBe('');
    expect(c.status).toBe(0);
    const out = join(dir, 'tcp_smoke.lua');
    expect(existsSync(out)).toBe(true);
    const r = await spawnAsync('lua5.3', ['-e', `dofile('${join(root, 'lua', 'typedarrays.lua')}')`, out]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(node);
  }, 120000);
});
