/*
 * dhcp_lua.test.ts — the DHCP lease cycle of dhcp_lua_smoke.ts on Node,
 * and the same code compiled with typescript-to-lua and run by lua5.3
 * with the typed-array shim: both must print the same summary (the
 * client, the server and src/wire/dhcp.ts are portable code).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { spawnAsync } from '../spawn_async';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dhcpSmoke } from './dhcp_lua_smoke';

const root = resolve(__dirname, '..', '..');

describe('DHCP client and server on Node and Lua 5.3', () => {
  it('the smoke passes on Node', () => {
    // B bound, R renewed, L lost, N nak, X released: bind, renew, rebind, expiry, bind, NAK (lost, bind),
    // stop/INIT-REBOOT (lost, bind), release, infinite lease (bind), release
    expect(dhcpSmoke()).toMatch(/^dhcp 192\.0\.2\.100\/24 gw=192\.0\.2\.1 dns=192\.0\.2\.53 events=BRRLBNLBLBXBX .* inf=1 pool=0\/0 .* ok$/);
  });

  it('Lua 5.3 prints the same summary as Node', async () => {
    const node = dhcpSmoke();
    if (spawnSync('lua5.3', ['-v']).status !== 0) {
      expect(node).toMatch(/ ok$/); // no interpreter here: the Node half still ran
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'slabnet-dhcp-lua-'));
    const entry = join(root, 'test/unit/dhcp_lua_main.ts');
    const cfg = {
      compilerOptions: {
        target: 'ES2020', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2020'], types: [],
        strict: true, noImplicitOverride: true, skipLibCheck: true, isolatedModules: true,
        rootDir: root, outDir: dir,
      },
      tstl: { luaTarget: '5.3', noImplicitSelf: false, noHeader: true, luaBundle: 'dhcp.lua', luaBundleEntry: entry },
      files: [entry],
    };
    const cfgPath = join(dir, 'tsconfig.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const c = await spawnAsync(join(root, 'node_modules', '.bin', 'tstl'), ['-p', cfgPath]);
    expect(c.stdout + c.stderr).toBe('');
    expect(c.status).toBe(0);
    const out = join(dir, 'dhcp.lua');
    expect(existsSync(out)).toBe(true);
    const r = await spawnAsync('lua5.3', ['-e', `dofile('${join(root, 'lua', 'typedarrays.lua')}')`, out]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(node);
  }, 120000);
});
