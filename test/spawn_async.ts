/*
 * spawn_async.ts — spawnSync's result, without blocking the test worker.
 *
 * A vitest worker blocked for a minute (a spawnSync of a build, a Lua run or
 * Espruino's interpreter, slower still on a loaded 2-core machine) cannot
 * answer the runner: its pending RPC times out on resume ("[vitest-worker]:
 * Timeout calling onTaskUpdate", an unhandled error that fails `npm test`
 * with every test passed). Long child processes in tests go through here.
 */
import { spawn } from 'node:child_process';

export interface SpawnAsyncOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** written to the child's stdin, which is then closed */
  input?: string;
  encoding?: BufferEncoding;
  /** SIGTERM after this many ms (then status null, signal 'SIGTERM') */
  timeout?: number;
}

export interface SpawnAsyncResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** set when the command could not be started (ENOENT, ...) */
  error?: Error;
}

export function spawnAsync(cmd: string, args: string[], o: SpawnAsyncOptions = {}): Promise<SpawnAsyncResult> {
  return new Promise((resolve) => {
    const enc = o.encoding !== undefined ? o.encoding : 'utf8';
    const p = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    p.stdout.setEncoding(enc).on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding(enc).on('data', (d: string) => (stderr += d));
    p.stdin.on('error', () => undefined);
    p.stdin.end(o.input !== undefined ? o.input : '');
    const timer = o.timeout !== undefined ? setTimeout(() => p.kill('SIGTERM'), o.timeout) : null;
    p.on('error', (e) => {
      error = e;
    });
    p.on('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ status: code, signal, stdout, stderr, error });
    });
  });
}
