/*
 * flash.ts — `slabnet flash`: puts a board's bundle (and the user's
 * program) into the board's Storage with Espruino's own command-line tool
 * (npm package `espruino`, a devDependency), fully offline (Node only).
 *
 *   slabnet flash --board ID [--port PORT] [--app FILE] [--out DIR]
 *                 [--baud N] [--dry-run] [--no-run] [--timeout SECONDS]
 *   (also: npm run flash -- --board ID ...)
 *
 * What it uploads:
 *   - dist/espruino/<ID>.min.js (from `npm run build`) as the Storage file
 *     `slabnet`, so that `require("slabnet")` on the board loads it from
 *     Storage;
 *   - with --app FILE, FILE as the Storage file `.bootcde`: the code Espruino
 *     runs at start-up, so the program survives a reset or power cycle. Any
 *     RAM image from an earlier save() (`.varimg`) is erased, else it would
 *     start beside the new program. Then `load()` restarts the board's
 *     JavaScript into the new program (as the Web IDE's "save on send to
 *     flash" does); --no-run leaves that to the next reset.
 * Both are written byte for byte (the CLI's `--storage NAME:FILE`, base64
 * chunks through `require("Storage").write`), not run through the CLI's
 * code transforms: the program's `require("slabnet")` resolves on the board.
 *
 * The files are first copied into the upload folder (dist/flash/<ID>/ or
 * --out DIR) as slabnet.js and bootcde.js, and the command names those
 * copies, so what is sent is what was checked. After the upload the same
 * command's `-e` reads both files back on the board and prints a line
 * `slabnet-flash NAME LENGTH CRC32` per file; the upload counts only when
 * every length and CRC-32 (E.CRC32) match the local files. (The CLI itself
 * exits 0 even when it cannot connect, so its exit code proves nothing.)
 *
 * PORT is passed to the CLI as it is: a serial device (/dev/ttyACM0) or
 * tcp://HOST:PORT (an Espruino's telnet console, e.g. the Linux build's
 * `espruino --telnet`). --baud N is the CLI's `-b N`, for a board behind a
 * USB-serial bridge (an ESP32 at 115200; the CLI's default is 9600; USB
 * boards such as the Pico ignore it). The CLI opens only a serial port that
 * its port list shows (`npx espruino --list`; serialport's list, which on
 * Linux asks udevadm): a pseudo-terminal is not listed, so
 * scripts/test-flash.js goes through telnet.
 * Offline options always passed: --no-ble, --config
 * BOARD_JSON_URL= (no board JSON from espruino.com; the CLI then prints a
 * harmless ENOENT for /LINUX.json or /<BOARD>.json), MODULE_URL= (no module
 * downloads), COMPILATION=false (no online compiler), and
 * SERIAL_THROTTLE_SEND=1 (CLI 0.1.67 never completes uploads shorter than
 * 512 bytes without it; see ../shared/espruino/README.md).
 *
 * Without --port (or with --dry-run) nothing is sent: the files are written
 * to the upload folder and the exact command is printed (PORT as a
 * placeholder when no port was given), exit 0. The command is run from the
 * repository root, where `npx espruino` is the installed devDependency.
 *
 * Exit codes: 0 done; 2 bad flags, unknown board, missing bundle (run
 * `npm run build`), missing app file, CLI not installed; 1 the upload failed
 * (the CLI failed or timed out, or the board's read-back did not match).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOARDS } from '../../boards/index';
import type { Board } from '../../boards/board';
import { splitFlag } from './flags';

/** the repository root (src/cli/ is two levels down) */
export const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

export interface FlashOptions {
  board: string;
  port: string | null;
  app: string | null;
  out: string | null;
  dryRun: boolean;
  /** restart the board's JavaScript into the new program after the upload (not with --no-run) */
  run: boolean;
  /** seconds the CLI may take; null = from the bytes to send */
  timeoutS: number | null;
  /** serial baud rate (the CLI's -b); null = the CLI's default */
  baud: number | null;
}

export const FLASH_USAGE =
  'usage: slabnet flash --board ID [--port PORT] [--app FILE] [--out DIR] [--baud N] [--dry-run] [--no-run] [--timeout SECONDS]\n' +
  '  --board ID      the board whose bundle dist/espruino/ID.min.js goes to Storage as "slabnet"\n' +
  '  --port PORT     serial device (/dev/ttyACM0) or tcp://HOST:PORT; without it the upload files\n' +
  '                  are written and the espruino command is printed, nothing is sent\n' +
  '  --app FILE      your program, saved as the boot code (Storage ".bootcde") so it survives a reset\n' +
  '  --out DIR       upload folder (default dist/flash/ID/)\n' +
  '  --baud N        serial baud rate (e.g. 115200 for an ESP32 on a USB-serial bridge; default the CLI\'s 9600)\n' +
  '  --dry-run       write the files and print the command, even with --port\n' +
  '  --no-run        do not restart into the program after the upload (it runs at the next reset)\n' +
  '  --timeout S     give up on the upload after S seconds (default: 60 + 2 ms per byte)\n';

/** Parses the flags after `flash`; returns the options or an error message. */
export function parseFlashArgs(argv: string[]): FlashOptions | string {
  const o: FlashOptions = { board: '', port: null, app: null, out: null, dryRun: false, run: true, timeoutS: null, baud: null };
  for (let i = 0; i < argv.length; i++) {
    const [key, val] = splitFlag(argv[i]);
    const need = (): string | null => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) return null;
      i++;
      return argv[i];
    };
    switch (key) {
      case '--board':
      case '--port':
      case '--app':
      case '--out':
      case '--baud':
      case '--timeout': {
        const v = need();
        if (v === null || v === '') return `${key} needs a value`;
        if (key === '--board') o.board = v;
        else if (key === '--port') o.port = v;
        else if (key === '--app') o.app = v;
        else if (key === '--out') o.out = v;
        else if (key === '--baud') {
          if (!/^[1-9][0-9]*$/.test(v)) return `--baud wants a whole number, not '${v}'`;
          o.baud = Number(v);
        } else {
          const n = Number(v);
          if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || !(n > 0)) return `--timeout wants a number of seconds > 0, not '${v}'`;
          o.timeoutS = n;
        }
        break;
      }
      case '--dry-run':
      case '--no-run':
        if (val !== undefined) return `${key} takes no value`;
        if (key === '--dry-run') o.dryRun = true;
        else o.run = false;
        break;
      default:
        return `unknown argument '${argv[i]}'`;
    }
  }
  if (o.board === '') return '--board ID is required';
  return o;
}

/** Boards that have an Espruino bundle (the PC host has none). */
export function flashableBoards(): Board[] {
  return BOARDS.filter((b) => b.codeFlashBytes > 0);
}

/** One Storage file to write: its name on the board, the local copy that is sent, its bytes. */
export interface FlashFile {
  storage: string;
  /** where it came from (the bundle, or the app as given) */
  source: string;
  /** the copy in the upload folder that the command sends */
  staged: string;
  bytes: number;
  crc: number;
}

export interface FlashPlan {
  board: Board;
  outDir: string;
  files: FlashFile[];
  /** the espruino CLI's arguments (the port is 'PORT' when none was given) */
  args: string[];
  /** the command line to print: `npx espruino ...`, run from ROOT */
  command: string;
  timeoutMs: number;
}

/** An error the user can fix (exit 2), as opposed to a failed upload (exit 1). */
export class FlashError extends Error {}

/** CRC-32 (IEEE 802.3, as zlib's and Espruino's E.CRC32). */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The `-e` code run on the board after the files are written: erase any
 * old RAM image when a program was sent, print `slabnet-flash NAME LENGTH
 * CRC32` per file, then (run) restart into the boot code a second later,
 * after the CLI has read the lines (it disconnects 0.5 s after the board
 * falls silent).
 */
export function verifyExpr(names: string[], eraseVarimg: boolean, run: boolean): string {
  return (
    '(function(S){' +
    (eraseVarimg ? 'S.erase(".varimg");' : '') +
    `${JSON.stringify(names)}.forEach(function(n){var d=S.read(n);` +
    'print("slabnet-flash "+n+" "+(d===undefined?-1:d.length)+" "+(d===undefined?0:E.CRC32(d)>>>0));});' +
    '})(require("Storage"))' +
    (run ? ';setTimeout(function(){load();},1000)' : '')
  );
}

/** The espruino CLI's arguments for the given port and files (and baud rate, when not null). */
export function espruinoArgs(port: string, files: { storage: string; path: string }[], expr: string, baud: number | null = null): string[] {
  const a = [
    '--no-ble',
    '-p', port,
    ...(baud !== null ? ['-b', String(baud)] : []),
    '--config', 'BOARD_JSON_URL=',
    '--config', 'MODULE_URL=',
    '--config', 'COMPILATION=false',
    '--config', 'SERIAL_THROTTLE_SEND=1',
  ];
  for (const f of files) a.push('--storage', `${f.storage}:${f.path}`);
  a.push('-e', expr);
  return a;
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** A path as the command names it: relative to ROOT when inside it, else absolute. */
function cmdPath(root: string, p: string): string {
  const r = path.relative(root, p);
  return r !== '' && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
}

/**
 * Checks the board, the bundle and the app, and works out the files and
 * the command; writes nothing. Throws FlashError for what the user must fix.
 * `cwd` resolves --app and --out; `root` holds dist/ and node_modules/.
 */
export function planFlash(o: FlashOptions, root: string = ROOT, cwd: string = process.cwd()): FlashPlan {
  const boards = flashableBoards();
  const board = boards.find((b) => b.id === o.board);
  if (board === undefined) throw new FlashError(`unknown board '${o.board}'; boards: ${boards.map((b) => b.id).join(', ')}`);
  const bundle = path.join(root, 'dist', 'espruino', `${board.id}.min.js`);
  if (!isFile(bundle)) throw new FlashError(`no bundle ${path.relative(cwd, bundle) || bundle} for ${board.id}: run \`npm run build\` first`);
  let app: string | null = null;
  if (o.app !== null) {
    app = path.resolve(cwd, o.app);
    if (!isFile(app)) throw new FlashError(`app file ${o.app} not found (or not a file)`);
  }
  const outDir = o.out !== null ? path.resolve(cwd, o.out) : path.join(root, 'dist', 'flash', board.id);
  const srcs: { storage: string; source: string; name: string }[] = [{ storage: 'slabnet', source: bundle, name: 'slabnet.js' }];
  if (app !== null) srcs.push({ storage: '.bootcde', source: app, name: 'bootcde.js' });
  const files: FlashFile[] = srcs.map((s) => {
    const data = fs.readFileSync(s.source);
    return { storage: s.storage, source: s.source, staged: path.join(outDir, s.name), bytes: data.length, crc: crc32(data) };
  });
  const named = files.map((f) => ({ storage: f.storage, path: cmdPath(root, f.staged) }));
  // the CLI splits --storage NAME:FILE at the first ':'
  for (const n of named) if (n.path.indexOf(':') >= 0) throw new FlashError(`the upload folder's path may not contain ':' (${n.path}); choose another --out`);
  const expr = verifyExpr(files.map((f) => f.storage), app !== null, app !== null && o.run);
  const args = espruinoArgs(o.port !== null ? o.port : 'PORT', named, expr, o.baud);
  const command = ['npx', 'espruino', ...args].map(shellQuote).join(' ');
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const timeoutMs = Math.round((o.timeoutS !== null ? o.timeoutS : 60 + bytes * 0.002) * 1000);
  return { board, outDir, files, args, command, timeoutMs };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Copies the files into the upload folder (and checks the copies are what was planned). */
export function stageFiles(plan: FlashPlan): void {
  fs.mkdirSync(plan.outDir, { recursive: true });
  for (const f of plan.files) {
    const data = fs.readFileSync(f.source);
    if (data.length !== f.bytes || crc32(data) !== f.crc) throw new FlashError(`${f.source} changed while it was being read; try again`);
    fs.writeFileSync(f.staged, data);
  }
}

/** The `slabnet-flash NAME LENGTH CRC` lines in the CLI's output. */
export function parseVerifyLines(out: string): Map<string, { bytes: number; crc: number }> {
  const m = new Map<string, { bytes: number; crc: number }>();
  const re = /slabnet-flash (\S+) (-?\d+) (\d+)/g;
  let r: RegExpExecArray | null;
  while ((r = re.exec(out)) !== null) m.set(r[1], { bytes: Number(r[2]), crc: Number(r[3]) });
  return m;
}

/** '' when every file read back matches, else what did not. */
export function verifyProblem(files: FlashFile[], got: Map<string, { bytes: number; crc: number }>): string {
  const bad: string[] = [];
  for (const f of files) {
    const g = got.get(f.storage);
    if (g === undefined) bad.push(`no read-back of "${f.storage}"`);
    else if (g.bytes < 0) bad.push(`"${f.storage}" is not in Storage`);
    else if (g.bytes !== f.bytes || g.crc !== f.crc) bad.push(`"${f.storage}" on the board is ${g.bytes} bytes, CRC32 ${g.crc}; sent ${f.bytes} bytes, CRC32 ${f.crc}`);
  }
  return bad.join('; ');
}

/** The espruino CLI's script (the devDependency), or null when it is not installed. */
export function espruinoCli(root: string = ROOT): string | null {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('espruino/bin/espruino-cli.js');
  } catch {
    return null;
  }
}

/** Runs the CLI; resolves with its output and how it ended. Stops it once the read-back has been seen. */
function runCli(cli: string, plan: FlashPlan, root: string): Promise<{ out: string; code: number | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...plan.args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    let timedOut = false;
    let grace: NodeJS.Timeout | null = null;
    const onData = (d: Buffer, to: NodeJS.WriteStream) => {
      const s = d.toString('latin1');
      out += s;
      to.write(s);
      // a program that keeps printing keeps the CLI connected: once every file
      // has been read back, give it a few seconds, then stop it
      if (grace === null && parseVerifyLines(out).size >= plan.files.length) grace = setTimeout(() => child.kill('SIGKILL'), 5000);
    };
    child.stdout.on('data', (d: Buffer) => onData(d, process.stdout));
    child.stderr.on('data', (d: Buffer) => onData(d, process.stderr));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, plan.timeoutMs);
    // stopped from outside: stop the CLI too, not leave it behind
    const onSignal = () => {
      child.kill('SIGKILL');
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      clearTimeout(timer);
      if (grace !== null) clearTimeout(grace);
      resolve({ out, code, timedOut });
    };
    child.on('error', (e) => {
      out += `\n${e.message}\n`;
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}

/** `slabnet flash ...`: returns the exit code. */
export async function runFlash(argv: string[], root: string = ROOT): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(FLASH_USAGE);
    return 0;
  }
  const o = parseFlashArgs(argv);
  if (typeof o === 'string') {
    process.stderr.write(`slabnet flash: ${o}\n${FLASH_USAGE}`);
    return 2;
  }
  let plan: FlashPlan;
  try {
    plan = planFlash(o, root);
    stageFiles(plan);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`slabnet flash: ${msg}\n`);
    return 2;
  }
  const say = (s: string) => process.stdout.write(s + '\n');
  const total = plan.files.reduce((s, f) => s + f.bytes, 0);
  say(`slabnet flash: ${plan.board.id}: upload folder ${plan.outDir}`);
  for (const f of plan.files) say(`  Storage "${f.storage}": ${path.basename(f.staged)}, ${f.bytes} bytes, CRC32 ${f.crc} (from ${f.source})`);
  if (total > plan.board.codeFlashBytes) {
    process.stderr.write(`slabnet flash: warning: ${total} bytes is more than the ${plan.board.codeFlashBytes} bytes of Storage a ${plan.board.name} has\n`);
  }
  if (o.port === null || o.dryRun) {
    say(`the command${o.port === null ? ' (PORT: a serial device such as /dev/ttyACM0, or tcp://HOST:PORT)' : ''}, run in ${root}:`);
    say(plan.command);
    return 0;
  }
  const cli = espruinoCli(root);
  if (cli === null) {
    process.stderr.write('slabnet flash: the espruino CLI is not installed (devDependency `espruino`): run `npm install`\n');
    return 2;
  }
  say(`running in ${root}:`);
  say(plan.command);
  const t0 = Date.now();
  const r = await runCli(cli, plan, root);
  const got = parseVerifyLines(r.out);
  const problem = verifyProblem(plan.files, got);
  if (problem === '') {
    say(`slabnet flash: ok: ${plan.files.map((f) => `"${f.storage}" ${f.bytes} bytes`).join(', ')} in Storage on ${o.port}, CRC32 checked (${((Date.now() - t0) / 1000).toFixed(1)} s)` +
      (o.app !== null ? (o.run ? '; the program restarts now and at every reset' : '; the program runs at the next reset') : ''));
    return 0;
  }
  const notListed = /serial: Port "[^"]*" not found/.test(r.out);
  const why = r.timedOut
    ? `timed out after ${plan.timeoutMs / 1000} s (--timeout)`
    : notListed
      ? `the espruino CLI does not list ${o.port} among the serial ports (\`npx espruino --list\` shows them; on Linux the list comes from udevadm)`
      : got.size === 0
      ? `the board did not answer (is it on ${o.port}? the espruino CLI exited with ${r.code})`
      : problem;
  process.stderr.write(`slabnet flash: FAILED: ${why}\n`);
  return 1;
}
