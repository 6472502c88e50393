/*
 * cli_lifeline.test.ts — `slabnet up` must not outlive what started it
 * (issue 10, src/cli/lifeline.ts): a shell starts it in the background and
 * is then killed alone (as a SIGTERM to npx alone ends npx and its shell,
 * not node); slabnet notices its parent has gone, prints its counters with
 * "Signal":"PARENT" and exits 0 within 2 s. SIGHUP also stops it cleanly.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** A UDP port free on 127.0.0.1 just now. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function readText(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

describe('slabnet up: lifeline', () => {
  it('exits with its counters when the process that started it is killed alone', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slabnet-lifeline-'));
    const out = path.join(tmp, 'out');
    const pidf = path.join(tmp, 'pid');
    const bin = path.join(ROOT, 'bin/slabnet.js');
    // frames to ports nobody uses on loopback; the shell waits (like npm exec) and is then SIGTERMed alone
    const lport = await freePort();
    const script = `"${process.execPath}" "${bin}" up --ip 192.0.2.2/24 --frames udp:${lport}:9 --serve echo >"${out}" 2>&1 & echo $! >"${pidf}"; wait`;
    const sh = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    let pid = 0;
    try {
      expect(await until(() => readText(out).includes('ready'), 20000), readText(out)).toBe(true);
      pid = parseInt(readText(pidf), 10);
      expect(pid).toBeGreaterThan(1);
      sh.kill('SIGTERM');
      const t0 = Date.now();
      expect(await until(() => !alive(pid), 4000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(2500);
      const lines = readText(out).trim().split('\n');
      const c = JSON.parse(lines[lines.length - 1]);
      expect(c.Signal).toBe('PARENT');
      expect(c.Pool.InUse).toBe(0);
    } finally {
      if (pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL');
      if (sh.exitCode === null) sh.kill('SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 40000);

  it('SIGHUP (the terminal gone) prints the counters and exits 0', async () => {
    const lport = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slabnet.js'), 'up', '--ip', '192.0.2.2/24',
      '--frames', `udp:${lport}:9`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => out.includes('ready'), 20000)).toBe(true);
      child.kill('SIGHUP');
      expect(await exited).toBe(0);
      const lines = out.trim().split('\n');
      expect(JSON.parse(lines[lines.length - 1]).Signal).toBe('SIGHUP');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 40000);
});
