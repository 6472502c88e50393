/*
 * testkit_scripts.test.ts — the harness side of `npm run test:espruino` /
 * `npm run budget`, plain ESM JavaScript: scripts/espruino-run.js parseRun
 * (an interpreter transcript → checks, figures, JsVars per phase and the
 * derived module/stack/peak figures, the ok flag) on synthetic
 * transcripts as Espruino prints them (\r\n, '>' prompts, ESC[J), and
 * scripts/boards-load.js fitOf (the fit rule: >= 4096 bytes of flash left
 * and the peak leaving >= 25% of the JsVars, in the board's own build).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript module without type declarations
import { parseRun } from '../../scripts/espruino-run.js';
// @ts-expect-error plain JavaScript module without type declarations
import { fitOf, FLASH_LEFT, JSVARS_LEFT } from '../../scripts/boards-load.js';

interface Run {
  checks: { name: string; ok: boolean; ms: number; detail: string }[];
  figures: { name: string; value: number; unit: string }[];
  mem: { [phase: string]: number };
  peak: number;
  total: number;
  blocksize: number;
  errors: string[];
  passed: number;
  failed: number;
  oom: boolean;
  code: number;
  killed: boolean;
  ms: number;
  out: string;
  finished?: boolean;
  ok: boolean;
  jsvarsModule?: number;
  jsvarsStack?: number;
  jsvarsAttach?: number;
  jsvarsPeak?: number;
  jsvarsAfter?: number;
}
const parse = parseRun as (out: string, code: number | null, killed: boolean, ms: number) => Run;

interface Fit {
  fits: boolean;
  why: string;
  bytes: number;
  flashLeft: number | null;
  jsvarsLeft: number | null;
}
interface Target {
  file: string;
  flash: number;
  jsVars: number;
}
const fit = fitOf as (t: Target, r: { jsvarsPeak?: number }, ownBuildOom: boolean, root?: string) => Fit;

const ESC_J = '\x1b[J';

function mem(phase: string, usage: number, extra?: string): string {
  return '@@mem {"phase":"' + phase + '","usage":' + usage + (extra !== undefined ? extra : '') + '}';
}

/**
 * A transcript as the interpreter prints it: the banner, prompts, ESC[J
 * (erase below) before the prompt, \r\n line ends, the marks of a full
 * traffic run (base, module, kit, chips, created, stack, peer, traffic,
 * peak), checks, figures and the summary.
 */
function transcript(o: { failed?: number; extra?: string[]; peak?: number; summary?: boolean }): string {
  const lines = [
    ' ____                 _ ',
    '|  __|___ ___ ___ _ _|_|___ ___ ',
    ' 2v29 (c) 2025 G.Williams',
    '',
    ESC_J + '>' + mem('base', 612, ',"total":5100,"blocksize":16'),
    mem('module', 1912, ',"total":5100,"blocksize":16'),
    mem('kit', 2400),
    mem('chips', 2500),
    mem('created', 3100),
    mem('stack', 3350),
    mem('peer', 4200),
    '@@check {"name":"link","ok":true,"ms":0,"detail":""}',
    '@@check {"name":"arp+ping","ok":true,"ms":12,"detail":"1 x 56 bytes, last 11.9 ms"}',
    '@@figure {"name":"espruino_ping_ms","value":4.25,"unit":"ms"}',
    '@@figure {"name":"espruino_ping_elapsed_ms","value":9.5,"unit":"ms"}',
    ESC_J + '>@@check {"name":"tcp","ok":' + (o.failed ? 'false' : 'true') + ',"ms":2100,"detail":"65536 bytes checked by the peer, 2100 ms"}',
    ...(o.extra !== undefined ? o.extra : []),
    mem('traffic', 4300),
    mem('peak', o.peak !== undefined ? o.peak : 4650),
  ];
  if (o.summary !== false) lines.push('selftest: ' + (o.failed ? '2 passed, 1 failed' : '3 passed, 0 failed'));
  lines.push(ESC_J + '>');
  return lines.join('\r\n') + '\r\n';
}

describe('parseRun: an Espruino transcript', () => {
  it('a clean run: checks, figures, JsVars per phase and the derived module/stack/peak figures, ok', () => {
    const r = parse(transcript({}), 0, false, 1234);
    expect(r.ok).toBe(true);
    expect(r.finished).toBe(true);
    expect([r.passed, r.failed]).toEqual([3, 0]);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([['link', true], ['arp+ping', true], ['tcp', true]]);
    expect(r.checks[1].detail).toBe('1 x 56 bytes, last 11.9 ms');
    expect(r.figures).toEqual([
      { name: 'espruino_ping_ms', value: 4.25, unit: 'ms' },
      { name: 'espruino_ping_elapsed_ms', value: 9.5, unit: 'ms' },
    ]);
    expect(r.mem).toEqual({ base: 612, module: 1912, kit: 2400, chips: 2500, created: 3100, stack: 3350, peer: 4200, traffic: 4300 });
    expect(r.peak).toBe(4650);
    expect([r.total, r.blocksize]).toEqual([5100, 16]);
    expect(r.jsvarsModule).toBe(1912 - 612); // module − base
    expect(r.jsvarsStack).toBe(3350 - 2500); // stack − chips
    expect(r.jsvarsAttach).toBe(3350 - 3100); // stack − created
    expect(r.jsvarsPeak).toBe(1300 + 850 + (4650 - 4200)); // module + stack + (peak − peer)
    expect(r.jsvarsAfter).toBe(1300 + 850 + (4300 - 4200));
    expect(r.errors).toEqual([]);
    expect(r.oom).toBe(false);
    expect([r.code, r.killed, r.ms]).toEqual([0, false, 1234]);
  });

  it('the ESC[J sequences and prompts do not hide lines; LF-only line ends parse too', () => {
    const t = transcript({});
    const lf = parse(t.replace(/\r\n/g, '\n'), 0, false, 1);
    const crlf = parse(t, 0, false, 1);
    expect(lf.checks).toEqual(crlf.checks);
    expect(lf.mem).toEqual(crlf.mem);
    expect(lf.ok).toBe(true);
    expect(crlf.mem.base).toBe(612); // the line that starts with ESC[J>
    expect(crlf.checks.find((c) => c.name === 'tcp')?.ok).toBe(true);
  });

  it('a peak below the usage once the peer was up adds nothing (never negative)', () => {
    const r = parse(transcript({ peak: 4000 }), 0, false, 1);
    expect(r.jsvarsPeak).toBe(1300 + 850);
  });

  it('a failed check: the summary counts it, ok is false', () => {
    const r = parse(transcript({ failed: 1 }), 0, false, 1);
    expect([r.passed, r.failed]).toEqual([2, 1]);
    expect(r.checks.find((c) => c.name === 'tcp')?.ok).toBe(false);
    expect(r.ok).toBe(false);
  });

  it("OUT OF MEMORY: oom, not ok, even with 'selftest: N passed, 0 failed'", () => {
    const r = parse(transcript({ extra: ['ERROR: Out of Memory!', 'Execution Interrupted', 'OUT OF MEMORY'] }), 0, false, 1);
    expect(r.finished).toBe(true);
    expect(r.failed).toBe(0);
    expect(r.oom).toBe(true);
    expect(r.ok).toBe(false);
    const low = parse(transcript({ extra: ['WARNING: LOW_MEMORY'] }), 0, false, 1);
    expect(low.oom).toBe(true);
    expect(low.ok).toBe(false);
  });

  it('an Uncaught error is collected (trimmed) and makes the run not ok', () => {
    const r = parse(transcript({ extra: [ESC_J + 'Uncaught TypeError: Cannot read property \'cfg\' of null  ', ' at line 1 col 20'] }), 0, false, 1);
    expect(r.errors).toEqual(["Uncaught TypeError: Cannot read property 'cfg' of null"]);
    expect(r.ok).toBe(false);
  });

  it('@@error lines are collected', () => {
    const r = parse(transcript({ extra: ['@@error "stored slabnet is not 60000 bytes"'] }), 0, false, 1);
    expect(r.errors).toEqual(['stored slabnet is not 60000 bytes']);
    expect(r.ok).toBe(false);
  });

  it('no summary line (killed, or it never finished): not ok', () => {
    const r = parse(transcript({ summary: false }), null, true, 60000);
    expect(r.finished).toBeUndefined();
    expect(r.ok).toBe(false);
    const k = parse(transcript({}), null, true, 60000);
    expect(k.finished).toBe(true);
    expect(k.ok).toBe(false); // killed by the timer even though the summary was printed
  });

  it('load only: no chips mark, the stack is created − module; no peak without the peer mark', () => {
    const t = [
      '>' + mem('base', 500, ',"total":2756,"blocksize":14'),
      mem('module', 1700),
      mem('created', 2100),
      'selftest: 1 passed, 0 failed',
      ESC_J + '>',
    ].join('\r\n');
    const r = parse(t, 0, false, 10);
    expect(r.jsvarsModule).toBe(1200);
    expect(r.jsvarsStack).toBe(400);
    expect(r.jsvarsAttach).toBeUndefined();
    expect(r.jsvarsPeak).toBeUndefined();
    expect(r.jsvarsAfter).toBeUndefined();
    expect([r.total, r.blocksize]).toEqual([2756, 14]);
    expect(r.ok).toBe(true);
  });

  it('an empty transcript: nothing derived, not ok', () => {
    const r = parse('', 1, false, 0);
    expect(r.checks).toEqual([]);
    expect(r.jsvarsModule).toBeUndefined();
    expect(r.jsvarsStack).toBeUndefined();
    expect(r.peak).toBe(-1);
    expect(r.ok).toBe(false);
  });
});

describe('fitOf: the fit rule', () => {
  let dir = '';
  const SIZE = 50000;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slabnet-fit-'));
    writeFileSync(join(dir, 'bundle.min.js'), Buffer.alloc(SIZE, 0x61));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the constants: 4096 bytes of flash, 25% of the JsVars', () => {
    expect(FLASH_LEFT).toBe(4096);
    expect(JSVARS_LEFT).toBe(0.25);
  });

  it('fits at the boundaries: exactly 4096 bytes of flash and exactly 25% of the JsVars left', () => {
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: SIZE + 4096, jsVars: 4000 }, { jsvarsPeak: 3000 }, false);
    expect(f.fits).toBe(true);
    expect(f.bytes).toBe(SIZE);
    expect(f.flashLeft).toBe(4096);
    expect(f.jsvarsLeft).toBe(1000);
    expect(f.why).toBe('flash leaves 4096 bytes; peak 3000 of 4000 JsVars leaves 1000');
  });

  it('a file relative to root', () => {
    const f = fit({ file: 'bundle.min.js', flash: SIZE + 10000, jsVars: 4000 }, { jsvarsPeak: 100 }, false, dir);
    expect(f.fits).toBe(true);
    expect(f.bytes).toBe(SIZE);
    expect(f.flashLeft).toBe(10000);
  });

  it('one byte of flash short: does not fit', () => {
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: SIZE + 4095, jsVars: 4000 }, { jsvarsPeak: 100 }, false);
    expect(f.fits).toBe(false);
    expect(f.flashLeft).toBe(4095);
    expect(f.why).toMatch(/^flash 50000 of 54095 bytes leaves 4095 \(< 4096\)/);
  });

  it('one JsVar too many: does not fit (the 25% rounds up in the message)', () => {
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: 0, jsVars: 2756 }, { jsvarsPeak: 2068 }, false);
    expect(f.fits).toBe(false);
    expect(f.jsvarsLeft).toBe(688);
    expect(f.flashLeft).toBeNull(); // no flash figure: no flash rule
    expect(f.why).toBe('peak 2068 of 2756 JsVars leaves 688 (< 689)');
    const ok = fit({ file: join(dir, 'bundle.min.js'), flash: 0, jsVars: 2756 }, { jsvarsPeak: 2067 }, false);
    expect(ok.fits).toBe(true); // 689 >= 0.25 * 2756 = 689
  });

  it('out of memory in its own build: does not fit, whatever a larger build measured', () => {
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: SIZE + 20000, jsVars: 8190 }, { jsvarsPeak: 1000 }, true);
    expect(f.fits).toBe(false);
    expect(f.why).toContain('out of memory in its own 8190-JsVar build');
  });

  it('a JsVar board without a measurement does not fit; a board without JsVars (growing store) needs none', () => {
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: SIZE + 20000, jsVars: 5100 }, {}, false);
    expect(f.fits).toBe(false);
    expect(f.jsvarsLeft).toBeNull();
    expect(f.why).toContain('no JsVar measurement');
    const g = fit({ file: join(dir, 'bundle.min.js'), flash: 0, jsVars: 0 }, {}, false);
    expect(g.fits).toBe(true);
    expect(g.why).toBe('');
  });

  it('with parseRun: a transcript measured as peak 2600 in a 5100-JsVar build fits', () => {
    const r = parse(transcript({}), 0, false, 1);
    const f = fit({ file: join(dir, 'bundle.min.js'), flash: SIZE + 8192, jsVars: r.total }, r, false);
    expect(r.jsvarsPeak).toBe(2600);
    expect(f.fits).toBe(true);
    expect(f.jsvarsLeft).toBe(2500);
  });
});
