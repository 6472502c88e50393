/*
 * client-cost.js — what the optional clients (the DHCP client, FEATURE_DHCP;
 * the DNS resolver, FEATURE_DNS) cost a board, for scripts/build-espruino.js,
 * scripts/espruino-measure.js, scripts/test-espruino.js and scripts/budget.js.
 *
 * Bytes: `npm run build` bundles each board whose features enable a client
 * a second time with that one feature off (dist/espruino/variants/<id>-no-<key>.min.js,
 * never flashed) and writes the sizes to dist/espruino/feature-cost.json:
 *   { "<board id>": { "bytes": N, "bundleSha": sha256 of the board's bundle,
 *       "dhcp": { "bytes_without": N2, "bytes": N - N2, "file": "dist/espruino/variants/<id>-no-dhcp.min.js" },
 *       "dns": { ... } }, "generic": { ... } }
 * JsVars: the 'load' run (scripts/espruino-run.js) of each variant in the
 * board's own interpreter build gives the module JsVars without the client
 * (module cost = with − without); the board's own load run constructs each
 * client on the default stack (new DhcpClient(st), new DnsResolver(st))
 * after `created` (instance cost). dist/espruino/measured.json keeps, per
 * board, jsvarsDhcp / jsvarsDns (instance) and variants.<key> ({ bundle,
 * bundleSha, jsvarsModule, jsvarsModuleWith, ok, interpreter }).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSha } from './boards-load.js';

/**
 * The clients: board `features` key, the bundle's export, the @@mem phase
 * of its instance, the label, the measured.json field of its instance
 * JsVars, its module (the generic bundle's variant drops its re-export).
 */
export const CLIENTS = [
  { key: 'dhcp', exportName: 'DhcpClient', phase: 'dhcp', label: 'DHCP client', measuredField: 'jsvarsDhcp', module: 'src/apps/dhcp_client.ts' },
  { key: 'dns', exportName: 'DnsResolver', phase: 'dns', label: 'DNS resolver', measuredField: 'jsvarsDns', module: 'src/apps/dns_resolver.ts' },
];

/** The clients a board's `features` enable (absent keys are on, as in src/features.ts). */
export function clientsOf(features) {
  const f = features || {};
  return CLIENTS.filter((c) => f[c.key] !== false);
}

/** The variant bundle of target id without client key (relative to the repository). */
export function variantFile(id, key) {
  return `dist/espruino/variants/${id}-no-${key}.min.js`;
}

/** where the build writes the bytes */
export function featureCostFile(root) {
  return join(root, 'dist', 'espruino', 'feature-cost.json');
}

export function readFeatureCost(root) {
  const f = featureCostFile(root);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
}

/**
 * Whether target t's variants (t.clients[].file) are missing, or were not
 * built beside its current bundle (feature-cost.json `fc` has no entry with
 * that bundle's sha256): then `npm run build` has to run.
 */
export function variantsStale(root, t, fc) {
  if ((t.clients || []).length === 0) return false;
  const e = fc[t.id];
  const base = join(root, t.file);
  if (!e || !existsSync(base) || e.bundleSha !== fileSha(base)) return true;
  return t.clients.some((c) => !existsSync(join(root, c.file)) || !e[c.key]);
}

/**
 * The cost rows of one board from its build entry `fc` (feature-cost.json,
 * or undefined) and its measurement `m` (measured.json, or undefined):
 * { key: { label, bytes, bytes_without, jsvars_module, jsvars_instance } }
 * for each client in `clients` (CLIENTS entries); a figure nobody measured is null.
 * Pure: no files, no interpreter.
 */
export function clientCosts(clients, fc, m) {
  const out = {};
  for (const c of clients) {
    const b = fc && fc[c.key] ? fc[c.key] : null;
    const v = m && m.variants && m.variants[c.key] ? m.variants[c.key] : null;
    // the bundle's module JsVars from the same pass as the variant's (else the entry's)
    const withIt = v !== null && typeof v.jsvarsModuleWith === 'number' ? v.jsvarsModuleWith : m && typeof m.jsvarsModule === 'number' ? m.jsvarsModule : null;
    const mod = v !== null && v.ok !== false && typeof v.jsvarsModule === 'number' && withIt !== null ? withIt - v.jsvarsModule : null;
    const inst = m && typeof m[c.measuredField] === 'number' ? m[c.measuredField] : null;
    out[c.key] = {
      label: c.label,
      bytes: b !== null ? b.bytes : null,
      bytes_without: b !== null ? b.bytes_without : null,
      jsvars_module: mod,
      jsvars_instance: inst,
    };
  }
  return out;
}

/** 1234567 → "1,234,567"; null → "-" */
export function thousands(n) {
  if (n === null || n === undefined) return '-';
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? '-' + s : s;
}

function signed(n) {
  return n === null || n === undefined ? '?' : (n >= 0 ? '+' : '') + thousands(n);
}

/** "DHCP client: +5,123 bytes of flash (bundle without it: 139,962), +210 JsVars module, +95 JsVars per instance" */
export function costLine(row) {
  const parts = [];
  parts.push(row.bytes !== null ? `${signed(row.bytes)} bytes of flash (bundle without it: ${thousands(row.bytes_without)})` : 'bytes not built');
  parts.push(row.jsvars_module !== null ? `${signed(row.jsvars_module)} JsVars module` : 'module JsVars not measured');
  parts.push(row.jsvars_instance !== null ? `${signed(row.jsvars_instance)} JsVars per instance` : 'instance JsVars not measured');
  return `${row.label}: ${parts.join(', ')}`;
}
