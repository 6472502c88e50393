/*
 * espruino-check.test.ts — scripts/check-espruino.js rejects every
 * construct Espruino 2v29 lacks (DESIGN.md, docs/CODING.md) and accepts
 * what it supports; and the real bundle built by `npm run build` is clean.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript module without type declarations
import { checkCode } from '../../scripts/check-espruino.js';

interface Finding {
  construct: string;
  line: number;
  column: number;
}
const check = checkCode as (code: string, sourceType?: string) => Finding[];
const root = join(__dirname, '..', '..');

const BANNED: [string, string, RegExp][] = [
  ['default parameter', 'function f(a, b = 1) { return a + b; }', /default parameter/],
  ['default parameter (arrow)', 'const f = (a = 2) => a;', /default parameter/],
  ['rest parameter', 'function f(...xs) { return xs; }', /rest/],
  ['spread call', 'f(...xs);', /spread/],
  ['spread array', 'const a = [1, ...b];', /spread/],
  ['spread object', 'const o = { ...p };', /spread/],
  ['object destructuring', 'const { a, b } = o;', /destructuring/],
  ['array destructuring', 'let [x, y] = arr;', /destructuring/],
  ['destructuring param', 'function f({ a }) { return a; }', /destructuring/],
  ['destructuring assignment', '[a, b] = [b, a];', /destructuring/],
  ['labelled break', 'outer: for (;;) { for (;;) { break outer; } }', /labelled/],
  ['labelled continue', 'l: while (x) { continue l; }', /labelled/],
  ['Map', 'const m = new Map();', /\bMap\b/],
  ['Set', 'const s = new Set([1]);', /\bSet\b/],
  ['Symbol', 'const k = Symbol("k");', /Symbol/],
  ['Symbol.iterator', 'o[Symbol.iterator] = 1;', /Symbol/],
  ['WeakMap', 'const w = new WeakMap();', /WeakMap/],
  ['WeakSet', 'const w = new WeakSet();', /WeakSet/],
  ['async function', 'async function f() { return 1; }', /async/],
  ['await', 'async function f() { await g(); }', /await/],
  ['async arrow', 'const f = async () => 1;', /async/],
  ['generator', 'function* g() { yield 1; }', /generator/],
  ['optional member', 'const v = a?.b;', /optional chaining/],
  ['optional call', 'a.f?.();', /optional chaining/],
  ['exponent', 'const v = 2 ** 8;', /exponent/],
  ['exponent assign', 'x **= 2;', /exponent/],
  ['computed key object', 'const o = { [k]: 1 };', /computed key/],
  ['computed key class', 'class A { [k]() {} }', /computed key/],
  ['class field', 'class A { x = 1; }', /class field/],
  ['Array.from', 'const a = Array.from(b);', /Array\.from/],
  ['copyWithin', 'u.copyWithin(0, 1, 2);', /copyWithin/],
  ['Math.imul', 'const v = Math.imul(a, b);', /Math\.imul/],
  ['Math.clz32', 'const v = Math.clz32(a);', /Math\.clz32/],
  ['Math.trunc', 'const v = Math.trunc(a);', /Math\.trunc/],
  ['Math["trunc"]', 'const v = Math["trunc"](a);', /Math\.trunc/],
  ['Number.isInteger', 'if (Number.isInteger(a)) f();', /Number\.isInteger/],
  ['Number.isFinite', 'if (Number.isFinite(a)) f();', /Number\.isFinite/],
  ['Number.isNaN', 'if (Number.isNaN(a)) f();', /Number\.isNaN/],
  ['extends Error', 'class E extends Error {}', /extends Error/],
  ['extends TypeError', 'const E = class extends TypeError {};', /extends TypeError/],
  ['typed-array slice', 'const c = buf.slice(0, 4);', /slice/],
  ['slice on a call result', 'const c = get().slice(1);', /slice/],
  ['apply', 'f.apply(null, args);', /apply/],
  ['BigInt', 'const b = 10n;', /BigInt/],
];

describe('check-espruino: rejects what Espruino 2v29 lacks', () => {
  for (const [name, code, re] of BANNED) {
    it(name, () => {
      const f = check(code);
      expect(f.length).toBeGreaterThan(0);
      expect(f.some((x) => re.test(x.construct))).toBe(true);
      expect(f[0].line).toBe(1);
      expect(f[0].column).toBeGreaterThan(0);
    });
  }

  it('reports the position of a construct deep in a file', () => {
    const f = check('var a = 1;\nvar b = 2;\n  function g(x = 3) {}\n');
    expect(f.length).toBe(1);
    expect(f[0].line).toBe(3);
    expect(f[0].column).toBe(14);
  });
});

describe('check-espruino: accepts what Espruino 2v29 supports', () => {
  const CLEAN = [
    'class A { constructor(x) { this.x = x; } get() { return this.x; } }',
    'class B extends A { constructor() { super(1); } }',
    'const f = (a, b) => a + b; let g = function (x) { return x | 0; };',
    'for (let i = 0; i < 3; i++) {} for (const v of [1, 2]) {}',
    'const s = `a${1}b`; const t = "abc".slice(1); const u = `x`.slice(0, 1);',
    'const w = ("a" + n).slice(-2); const z = String(n).slice(1);',
    'const u = new Uint8Array(4); u.set([1], 0); u.fill(0); const v = u.subarray(1, 2);',
    'const d = new DataView(u.buffer); d.getUint16(0);',
    'try { f(); } catch (e) { g(e); } finally { h(); }',
    'const p = Promise.resolve(1); const n = a ?? b;',
    'const o = { Map: 1, Set: 2, a }; o.Map = 3; x.Symbol = 1;',
    'const v = Math.floor(a / b) + Math.pow(2, 8); const q = x >>> 0;',
    'const o2 = { get v() { return 1; }, m() { return 2; } };',
    'switch (x) { case 1: break; default: break; }',
  ];
  for (const code of CLEAN) {
    it(code.slice(0, 50), () => {
      expect(check(code)).toEqual([]);
    });
  }

  it('a parse error is a finding, not a crash', () => {
    const f = check('function (');
    expect(f.length).toBe(1);
    expect(f[0].construct).toMatch(/parse error/);
  });
});

describe('npm run build', () => {
  it('bundles src/espruino.ts and the bundle passes the Espruino check', () => {
    // --no-budget: the flash budgets are reported by the build; this test is about constructs.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-espruino.js'), '--no-budget'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120000,
    });
    expect(r.stderr + r.stdout).toMatch(/bundle size \d+ bytes/);
    expect(r.status, r.stderr).toBe(0);
    const code = readFileSync(join(root, 'dist', 'espruino', 'slabnet.min.js'), 'utf8');
    expect(code.length).toBeGreaterThan(1000);
    expect(check(code)).toEqual([]);
  });
});
