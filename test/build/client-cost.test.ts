/*
 * client-cost.test.ts — scripts/client-cost.js, what `npm run budget` and
 * `npm run test:espruino` print for the optional clients (DHCP, DNS): the
 * rows from dist/espruino/feature-cost.json and measured.json entries, the
 * line format, and when the variant bundles count as stale. No build, no
 * interpreter: the inputs are written here.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript module without type declarations
import { CLIENTS, clientsOf, variantFile, clientCosts, costLine, thousands, variantsStale } from '../../scripts/client-cost.js';

interface Client {
  key: string;
  label: string;
}
interface Row {
  label: string;
  bytes: number | null;
  bytes_without: number | null;
  jsvars_module: number | null;
  jsvars_instance: number | null;
}
const costs = clientCosts as (clients: Client[], fc: unknown, m: unknown) => Record<string, Row>;

const FC = {
  bytes: 145085,
  bundleSha: 'x',
  dhcp: { bytes_without: 130912, bytes: 14173, file: 'dist/espruino/variants/b-no-dhcp.min.js' },
  dns: { bytes_without: 132347, bytes: 12738, file: 'dist/espruino/variants/b-no-dns.min.js' },
};
const M = {
  jsvarsModule: 5247,
  jsvarsDhcp: 276,
  jsvarsDns: 698,
  variants: {
    dhcp: { jsvarsModule: 4834, jsvarsModuleWith: 5247, ok: true },
    dns: { jsvarsModule: 4907, jsvarsModuleWith: 5247, ok: true },
  },
};

describe('client cost (scripts/client-cost.js)', () => {
  it('a board pays for the clients its features leave on (absent = on)', () => {
    expect((clientsOf({ tcp: true }) as Client[]).map((c) => c.key)).toEqual(['dhcp', 'dns']);
    expect((clientsOf({ dhcp: false }) as Client[]).map((c) => c.key)).toEqual(['dns']);
    expect(clientsOf({ dhcp: false, dns: false })).toEqual([]);
    expect(variantFile('espruino-esp32-w5500', 'dhcp')).toBe('dist/espruino/variants/espruino-esp32-w5500-no-dhcp.min.js');
  });

  it('rows: bytes from the build, module = with − without, instance from the load run', () => {
    const r = costs(CLIENTS, FC, M);
    expect(r.dhcp).toEqual({ label: 'DHCP client', bytes: 14173, bytes_without: 130912, jsvars_module: 413, jsvars_instance: 276 });
    expect(r.dns).toEqual({ label: 'DNS resolver', bytes: 12738, bytes_without: 132347, jsvars_module: 340, jsvars_instance: 698 });
    expect(costLine(r.dhcp)).toBe('DHCP client: +14,173 bytes of flash (bundle without it: 130,912), +413 JsVars module, +276 JsVars per instance');
  });

  it('the module figure comes from the pass that measured the variant, else from the entry', () => {
    const m = { ...M, jsvarsModule: 5300, variants: { dhcp: { jsvarsModule: 4834, ok: true } } };
    expect(costs(CLIENTS, FC, m).dhcp.jsvars_module).toBe(466);
    expect(costs(CLIENTS, FC, M).dhcp.jsvars_module).toBe(413);
  });

  it('what nobody measured is null, and the line says so', () => {
    const r = costs(CLIENTS, undefined, { jsvarsModule: 5247, variants: { dhcp: { jsvarsModule: 4834, ok: false } } });
    expect(r.dhcp).toEqual({ label: 'DHCP client', bytes: null, bytes_without: null, jsvars_module: null, jsvars_instance: null });
    expect(costLine(r.dhcp)).toBe('DHCP client: bytes not built, module JsVars not measured, instance JsVars not measured');
    expect(thousands(1234567)).toBe('1,234,567');
    expect(thousands(-1234)).toBe('-1,234');
    expect(thousands(999)).toBe('999');
  });

  it('variants are stale when missing or built beside another bundle', () => {
    const root = mkdtempSync(join(tmpdir(), 'slabnet-cost-'));
    try {
      mkdirSync(join(root, 'dist', 'espruino', 'variants'), { recursive: true });
      writeFileSync(join(root, 'dist', 'espruino', 'b.min.js'), 'bundle');
      const sha = createHash('sha256').update('bundle').digest('hex');
      const t = { id: 'b', file: 'dist/espruino/b.min.js', clients: CLIENTS.map((c: Client) => ({ ...c, file: variantFile('b', c.key) })) };
      const fc = { b: { ...FC, bundleSha: sha } };
      expect(variantsStale(root, t, fc)).toBe(true); // no variant files yet
      for (const c of t.clients) writeFileSync(join(root, c.file), 'v');
      expect(variantsStale(root, t, fc)).toBe(false);
      expect(variantsStale(root, t, { b: { ...FC, bundleSha: 'other' } })).toBe(true);
      expect(variantsStale(root, t, {})).toBe(true);
      expect(variantsStale(root, { ...t, clients: [] }, {})).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
