/*
 * cli_flash.test.ts — `slabnet flash` (src/cli/flash.ts) without a board:
 * its arguments and their errors; the plan for a board (files, Storage
 * names, the espruino CLI's offline arguments, the read-back code) built
 * from a temporary root holding a stand-in bundle; the printed command,
 * parsed back by /bin/sh into exactly the arguments that are run; the
 * CRC-32 against zlib's; the read-back check; and the whole command's exit
 * codes: 0 with the files written and the command printed (no --port),
 * 2 for every user error, 1 when nothing answers on the port (the espruino
 * CLI itself exits 0 then). The upload to a real interpreter is
 * scripts/test-flash.js (npm run test:flash).
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  parseFlashArgs, planFlash, stageFiles, runFlash, crc32, verifyExpr, espruinoArgs, shellQuote,
  parseVerifyLines, verifyProblem, flashableBoards, FlashError, FlashOptions, ROOT, espruinoCli,
} from '../../src/cli/flash';

const BOARD = 'espruino-pico-enc28j60';
let tmp = '';
let root = '';
const BUNDLE = 'exports.setup=function(){};// bündle \u00ff\n';
const APP = 'var eth = require("slabnet").setup({}, function (e, i) { print(e || i.ip); });\n';

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-flash-'));
  root = path.join(tmp, 'root');
  fs.mkdirSync(path.join(root, 'dist', 'espruino'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dist', 'espruino', `${BOARD}.min.js`), BUNDLE);
  fs.writeFileSync(path.join(tmp, 'app.js'), APP);
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function opts(o: FlashOptions | string): FlashOptions {
  if (typeof o === 'string') throw new Error(o);
  return o;
}

/** runs runFlash with stdout/stderr captured */
async function run(argv: string[], r: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    const code = await runFlash(argv, r);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('parseFlashArgs', () => {
  it('reads every flag, in both spellings', () => {
    expect(parseFlashArgs(['--board', BOARD])).toEqual({ board: BOARD, port: null, app: null, out: null, dryRun: false, run: true, timeoutS: null, baud: null });
    expect(parseFlashArgs(['--board=x', '--port=/dev/ttyACM0', '--app', 'a.js', '--out', 'o', '--dry-run', '--no-run', '--timeout', '90', '--baud', '115200'])).toEqual({
      board: 'x', port: '/dev/ttyACM0', app: 'a.js', out: 'o', dryRun: true, run: false, timeoutS: 90, baud: 115200,
    });
    expect(opts(parseFlashArgs(['--port', 'tcp://127.0.0.1:2323', '--board', 'b'])).port).toBe('tcp://127.0.0.1:2323');
  });
  it('refuses what it does not know or what lacks a value', () => {
    expect(parseFlashArgs([])).toBe('--board ID is required');
    expect(parseFlashArgs(['--port', 'p'])).toBe('--board ID is required');
    expect(parseFlashArgs(['--board'])).toBe('--board needs a value');
    expect(parseFlashArgs(['--board', '--port', 'p'])).toBe('--board needs a value');
    expect(parseFlashArgs(['--board', 'b', '--app='])).toBe('--app needs a value');
    expect(parseFlashArgs(['--board', 'b', '--bord', 'x'])).toBe("unknown argument '--bord'");
    expect(parseFlashArgs(['--board', 'b', 'extra'])).toBe("unknown argument 'extra'");
    expect(parseFlashArgs(['--board', 'b', '--dry-run=1'])).toBe('--dry-run takes no value');
    expect(parseFlashArgs(['--board', 'b', '--timeout', '0'])).toMatch(/^--timeout wants a number/);
    expect(parseFlashArgs(['--board', 'b', '--timeout', '5s'])).toMatch(/^--timeout wants a number/);
    expect(parseFlashArgs(['--board', 'b', '--baud', '9600.5'])).toBe("--baud wants a whole number, not '9600.5'");
  });
});

describe('the plan', () => {
  it('sends the bundle as "slabnet" and the app as ".bootcde", through copies in the upload folder', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js', '--port', '/dev/ttyACM0'])), root, tmp);
    expect(p.board.id).toBe(BOARD);
    expect(p.outDir).toBe(path.join(root, 'dist', 'flash', BOARD));
    const b = Buffer.from(BUNDLE);
    expect(p.files).toEqual([
      { storage: 'slabnet', source: path.join(root, 'dist', 'espruino', `${BOARD}.min.js`), staged: path.join(p.outDir, 'slabnet.js'), bytes: b.length, crc: zlib.crc32(b) },
      { storage: '.bootcde', source: path.join(tmp, 'app.js'), staged: path.join(p.outDir, 'bootcde.js'), bytes: APP.length, crc: zlib.crc32(APP) },
    ]);
    const expr = verifyExpr(['slabnet', '.bootcde'], true, true);
    expect(p.args).toEqual([
      '--no-ble', '-p', '/dev/ttyACM0',
      '--config', 'BOARD_JSON_URL=', '--config', 'MODULE_URL=', '--config', 'COMPILATION=false', '--config', 'SERIAL_THROTTLE_SEND=1',
      '--storage', `slabnet:dist/flash/${BOARD}/slabnet.js`, '--storage', `.bootcde:dist/flash/${BOARD}/bootcde.js`,
      '-e', expr,
    ]);
    expect(p.args).toEqual(espruinoArgs('/dev/ttyACM0', [
      { storage: 'slabnet', path: `dist/flash/${BOARD}/slabnet.js` }, { storage: '.bootcde', path: `dist/flash/${BOARD}/bootcde.js` },
    ], expr));
    expect(p.command.startsWith('npx espruino --no-ble -p /dev/ttyACM0 --config BOARD_JSON_URL= ')).toBe(true);
    // 60 s + 2 ms per byte sent
    expect(p.timeoutMs).toBe(Math.round((60 + (b.length + APP.length) * 0.002) * 1000));
  });
  it('without --app: the bundle only, no .varimg erase, no restart; PORT stands in for a missing port', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--out', 'up', '--timeout', '7'])), root, tmp);
    expect(p.files.map((f) => f.storage)).toEqual(['slabnet']);
    expect(p.outDir).toBe(path.join(tmp, 'up'));
    expect(p.args.slice(0, 3)).toEqual(['--no-ble', '-p', 'PORT']);
    // outside the root: the copies are named by absolute path
    expect(p.args).toContain(`slabnet:${path.join(tmp, 'up', 'slabnet.js')}`);
    const e = p.args[p.args.length - 1];
    expect(e).toBe(verifyExpr(['slabnet'], false, false));
    expect(e).not.toContain('.varimg');
    expect(e).not.toContain('load()');
    expect(p.timeoutMs).toBe(7000);
  });
  it('--baud goes to the CLI as -b, right after the port', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--port', '/dev/ttyUSB0', '--baud', '115200'])), root, tmp);
    expect(p.args.slice(0, 5)).toEqual(['--no-ble', '-p', '/dev/ttyUSB0', '-b', '115200']);
    expect(p.command).toContain(' -p /dev/ttyUSB0 -b 115200 --config ');
  });
  it('--no-run keeps the .varimg erase but not the restart', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js', '--no-run'])), root, tmp);
    const e = p.args[p.args.length - 1];
    expect(e).toContain('S.erase(".varimg")');
    expect(e).not.toContain('load()');
  });
  it('names what the user must fix', () => {
    const plan = (a: string[]) => () => planFlash(opts(parseFlashArgs(a)), root, tmp);
    expect(plan(['--board', 'nope'])).toThrow(FlashError);
    expect(plan(['--board', 'nope'])).toThrow(/unknown board 'nope'; boards: espruino-pico-enc28j60, /);
    expect(plan(['--board', 'host'])).toThrow(/unknown board 'host'/);
    expect(plan(['--board', 'espruino-wifi-w5500'])).toThrow(/espruino-wifi-w5500.*run `npm run build` first/);
    expect(plan(['--board', BOARD, '--app', 'missing.js'])).toThrow(/app file missing.js not found/);
    expect(plan(['--board', BOARD, '--app', '.'])).toThrow(/not a file/);
    expect(plan(['--board', BOARD, '--out', 'a:b'])).toThrow(/may not contain ':'/);
  });
  it('offers every board that has a bundle, not the PC host', () => {
    const ids = flashableBoards().map((b) => b.id);
    expect(ids).toContain(BOARD);
    expect(ids).toContain('espruino-esp32-w5500');
    expect(ids).not.toContain('host');
  });
});

describe('the printed command', () => {
  it('is what runs: /bin/sh splits it back into the same arguments', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js', '--port', "tcp://127.0.0.1:2323"])), root, tmp);
    // print each argument on its own line (NUL-separated), as the shell parsed them
    const r = spawnSync('/bin/sh', ['-c', `set -- ${p.command}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(['npx', 'espruino', ...p.args]);
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a:b/c.js')).toBe('a:b/c.js');
  });
});

describe('CRC-32 and the read-back', () => {
  it('is zlib\'s CRC-32 (Espruino\'s E.CRC32 gives the same)', () => {
    const b = new Uint8Array(3000);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 255;
    expect(crc32(b)).toBe(zlib.crc32(b));
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('accepts only matching lengths and CRCs of every file', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js'])), root, tmp);
    const [s, a] = p.files;
    const good = `--] >\r\n--] slabnet-flash slabnet ${s.bytes} ${s.crc}\r\n--] slabnet-flash .bootcde ${a.bytes} ${a.crc}\r\n`;
    expect(verifyProblem(p.files, parseVerifyLines(good))).toBe('');
    expect(verifyProblem(p.files, parseVerifyLines(`slabnet-flash slabnet ${s.bytes} ${s.crc}\n`))).toBe('no read-back of ".bootcde"');
    expect(verifyProblem(p.files, parseVerifyLines(`slabnet-flash slabnet ${s.bytes} ${s.crc}\nslabnet-flash .bootcde -1 0\n`))).toBe('".bootcde" is not in Storage');
    expect(verifyProblem(p.files, parseVerifyLines(`slabnet-flash slabnet ${s.bytes - 1} ${s.crc}\nslabnet-flash .bootcde ${a.bytes} ${a.crc + 1}\n`))).toBe(
      `"slabnet" on the board is ${s.bytes - 1} bytes, CRC32 ${s.crc}; sent ${s.bytes} bytes, CRC32 ${s.crc}; ` +
        `".bootcde" on the board is ${a.bytes} bytes, CRC32 ${a.crc + 1}; sent ${a.bytes} bytes, CRC32 ${a.crc}`,
    );
    // the source of the -e code itself (were it echoed) is not a read-back line
    expect(parseVerifyLines(verifyExpr(['slabnet', '.bootcde'], true, true)).size).toBe(0);
  });
  it('stages byte-identical copies', () => {
    const p = planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js', '--out', 'stage'])), root, tmp);
    stageFiles(p);
    for (const f of p.files) expect(fs.readFileSync(f.staged).equals(fs.readFileSync(f.source))).toBe(true);
  });
});

describe('slabnet flash (runFlash)', () => {
  it('without --port: writes the files, prints the command, exits 0', async () => {
    const r = await run(['--board', BOARD, '--app', path.join(tmp, 'app.js'), '--out', path.join(tmp, 'o1')], root);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'o1', 'slabnet.js'), 'utf8')).toBe(BUNDLE);
    expect(fs.readFileSync(path.join(tmp, 'o1', 'bootcde.js'), 'utf8')).toBe(APP);
    const lines = r.out.trim().split('\n');
    expect(lines[lines.length - 1]).toBe(planFlash(opts(parseFlashArgs(['--board', BOARD, '--app', 'app.js', '--out', 'o1'])), root, tmp).command);
    expect(lines[lines.length - 1]).toContain(' -p PORT ');
  });
  it('--dry-run with a port prints the command with that port and sends nothing', async () => {
    const r = await run(['--board', BOARD, '--port', 'tcp://127.0.0.1:1', '--dry-run', '--out', path.join(tmp, 'o2')], root);
    expect(r.code).toBe(0);
    expect(r.out).toContain('npx espruino --no-ble -p tcp://127.0.0.1:1 ');
    expect(r.out).not.toContain('running in');
  });
  it('exits 2 with one clear line for each user error, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--board'], /^slabnet flash: --board needs a value\nusage: slabnet flash /],
      [['--port', 'x'], /^slabnet flash: --board ID is required\n/],
      [['--board', 'nope'], /^slabnet flash: unknown board 'nope'; boards: /],
      [['--board', 'espruino-esp32-w5500'], /^slabnet flash: no bundle .*espruino-esp32-w5500\.min\.js for espruino-esp32-w5500: run `npm run build` first\n$/],
      [['--board', BOARD, '--app', path.join(tmp, 'nope.js')], /^slabnet flash: app file .*nope\.js not found \(or not a file\)\n$/],
    ];
    for (const [argv, want] of cases) {
      const r = await run(argv, root);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(want);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
  it('exits 1 when nothing answers on the port', async () => {
    expect(espruinoCli(ROOT)).not.toBeNull();
    // a port nobody listens on: bind one, close it
    const port = await new Promise<number>((res) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => res(p));
      });
    });
    // the stand-in root has no node_modules: the real one's CLI is needed, so link it
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    fs.writeFileSync(path.join(root, 'package.json'), '{}');
    const r = await run(['--board', BOARD, '--port', `tcp://127.0.0.1:${port}`, '--out', path.join(tmp, 'o3'), '--timeout', '30'], root);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/slabnet flash: FAILED: the board did not answer \(is it on tcp:\/\/127\.0\.0\.1:\d+\? the espruino CLI exited with 0\)/);
  });
});
