/*
 * interop_bridge.test.ts — test/interop/bridge.mjs (the impairing frame relay
 * that test/interop/loss_table.sh and hostile.sh put between the kernel and
 * the stack under test) checked on loopback UDP without root, by its own
 * self-check test/interop/bridge_selftest.mjs: loss rate per seed, blackhole,
 * delay, early frames, jitter, duplication, rate, queue cap, control errors,
 * exit on SIGTERM and when its parent is gone.
 */
import { describe, it, expect } from 'vitest';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnAsync } from '../spawn_async';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('interop bridge.mjs', () => {
  it('passes its self-check on loopback', async () => {
    const r = await spawnAsync(process.execPath, [join(root, 'test/interop/bridge_selftest.mjs')], { cwd: root, timeout: 120000 });
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/^\d+ passed, 0 failed$/m);
    expect(out).not.toMatch(/^FAIL /m);
    expect(r.status, out.slice(-3000)).toBe(0);
  }, 150000);
});
