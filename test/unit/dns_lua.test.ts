/*
 * dns_lua.test.ts — the DNS smoke (dns_lua_smoke.ts: the resolver against
 * the server on two stacks; the hostile-name rules) on Node, and the same
 * code compiled with typescript-to-lua and run by lua5.3 with the
 * typed-array shim: both must print the same summary.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { spawnAsync } from '../spawn_async';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dnsSmoke } from './dns_lua_smoke';

const root = resolve(__dirname, '..', '..');

describe('DNS resolver and server on Node and Lua 5.3', () => {
  it('the smoke passes on Node', () => {
    expect(dnsSmoke()).toMatch(/^dns nx=-2 lit=0:\d+ cached=0 mal=-4:2 tc=-111 loop=-1 ptr=27:5 long=-1 queries=\d+ responses=\d+ server=\d+ ok$/);
  });

  it('Lua 5.3 prints the same summary as Node', async () => {
    const node = dnsSmoke();
    if (spawnSync('lua5.3', ['-v']).status !== 0) {
      // no interpreter on this machine: the Node half still ran
      expect(node).toMatch(/ ok$/);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'slabnet-dns-lua-'));
    const entry = join(root, 'test/unit/dns_lua_main.ts');
    const cfg = {
      compilerOptions: {
        target: 'ES2020', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2020'], types: [],
        strict: true, noImplicitOverride: true, skipLibCheck: true, isolatedModules: true,
        rootDir: root, outDir: dir,
      },
      tstl: { luaTarget: '5.3', noImplicitSelf: false, noHeader: true, luaBundle: 'dns.lua', luaBundleEntry: entry },
      files: [entry],
    };
    const cfgPath = join(dir, 'tsconfig.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const c = await spawnAsync(join(root, 'node_modules', '.bin', 'tstl'), ['-p', cfgPath]);
    expect(c.stdout + c.stderr).toBe('');
    expect(c.status).toBe(0);
    const out = join(dir, 'dns.lua');
    expect(existsSync(out)).toBe(true);
    const r = await spawnAsync('lua5.3', ['-e', `dofile('${join(root, 'lua', 'typedarrays.lua')}')`, out]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(node);
  }, 120000);
});
