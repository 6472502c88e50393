/*
 * inline-helpers.test.ts — rollup.config.js inlineHelpersPlugin: the calls
 * of s32/u32/before/after (src/core/bits.ts) and seqDiff (tcp.ts) it
 * rewrites in the Espruino bundles compute what the functions compute, on
 * values across the 32-bit wrap, nested and with side-effecting arguments
 * evaluated once and in order.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { s32, u32, before, after } from '../../src/core/bits';
import { seqDiff } from '../../src/transport/tcp/tcp';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore: plain JavaScript module
import { inlineHelpersPlugin } from '../../rollup.config.js';

const root = join(__dirname, '..', '..');
const plugin = inlineHelpersPlugin() as { transform(code: string, id: string): { code: string } | null };

function inlined(body: string, fromTcp: boolean): string {
  const imp = fromTcp
    ? "import { seqDiff } from './tcp';\nimport { s32, u32, before, after } from '../../core/bits';\n"
    : "import { s32, u32, before, after } from '../core/bits';\n";
  const id = join(root, fromTcp ? 'src/transport/tcp/tcp_input.ts' : 'src/ipv4/x.ts');
  const r = plugin.transform(imp + 'function t(log, a, b) {\n' + body + '\n}\n', id);
  expect(r).not.toBeNull();
  return (r as { code: string }).code.split('\n').slice(2).join('\n') + '\nreturn t(log, a, b);';
}

describe('inlineHelpersPlugin (Espruino bundles)', () => {
  it('every rewritten call equals the function, across the wrap, nested, arguments once and in order', () => {
    const src = 'return [s32(a + b), u32(a - b), before(a, b), after(a, b), seqDiff(a, b), s32(u32(a) + s32(b * 3)), before(s32(a), after(a, b) ? b : a), s32(log(a), 0), u32(log(b)), after(log(a), log(b))];';
    const code = inlined(src, true);
    expect(code).not.toMatch(/\b(s32|u32|before|after|seqDiff)\(log\(a\)\)|\bs32\(a \+ b\)|\bseqDiff\(/);
    // a call with the wrong argument count stays a call
    expect(code).toContain('s32(log(a), 0)');
    const f = new Function('s32', 'u32', 'before', 'after', 'seqDiff', 'log', 'a', 'b', code) as (...x: unknown[]) => unknown[];
    const g = new Function('s32', 'u32', 'before', 'after', 'seqDiff', 'log', 'a', 'b', 'function t(log, a, b) {\n' + src + '\n}\nreturn t(log, a, b);') as (...x: unknown[]) => unknown[];
    const vals = [0, 1, -1, 0x7fffffff, -0x80000000, 0x80000000, 0xffffffff, 12345, -98765, 0x7ffffff0, 0x100000010];
    for (const a of vals) {
      for (const b of vals) {
        const la: number[] = [];
        const lb: number[] = [];
        const got = f(s32, u32, before, after, seqDiff, (x: number) => (la.push(x), x), a, b);
        const want = g(s32, u32, before, after, seqDiff, (x: number) => (lb.push(x), x), a, b);
        expect(got, `a=${a} b=${b}`).toEqual(want);
        expect(la).toEqual(lb);
      }
    }
  });

  it('leaves modules that do not import the helpers, and bits.ts itself, alone', () => {
    expect(plugin.transform('function s32(x) { return x; }\nexport const y = s32(5);', join(root, 'src/ipv4/y.ts'))).toBeNull();
    expect(plugin.transform("export function before(a, b) { return s32(a - b) < 0; }", join(root, 'src/core/bits.ts'))).toBeNull();
  });
});
