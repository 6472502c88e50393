/*
 * tcp_r3.test.ts — regression for tcp_repro.md R3: the RFC 6675 rescue
 * retransmission resent a hole that rule 1 had just resent (or new data
 * sent after loss was detected), so one hole went out twice in the same
 * instant. test/scenario/tcp_r3.repro.ts drives 4–16 flows through a
 * tail-drop queue and flags any (re)transmission of a sequence number
 * with no ACK of that flow in between; it exits 1 when it sees one.
 * Before the fix 14 of seeds 1..30 showed it.
 */
import { describe, it, expect } from 'vitest';
import { spawnAsync } from '../spawn_async';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function repro(args: string[]): Promise<{ status: number | null; out: string }> {
  const r = await spawnAsync(process.execPath, ['--import', 'tsx', 'test/scenario/tcp_r3.repro.ts'].concat(args), {
    cwd: root,
    timeout: 120000,
  });
  return { status: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

describe('R3: no duplicate retransmission of a SACK hole', () => {
  it('4 flows through a tail-drop queue with 1% loss, seeds 1..30', async () => {
    const r = await repro(['--sweep', '1..30']);
    expect(r.out).toMatch(/0 of 30 seeds show R3/);
    expect(r.status, r.out.slice(-3000)).toBe(0);
  });

  it('16 flows (the interop shape) and 1 flow with queue drops only', async () => {
    const a = await repro(['--flows', '16']);
    expect(a.out).toMatch(/REPEAT=0 \(of a hole: 0\) SPURIOUS=0/);
    expect(a.status, a.out.slice(-3000)).toBe(0);
    const b = await repro(['--flows', '1', '--rate', '50', '--loss', '0']);
    expect(b.out).toMatch(/REPEAT=0 \(of a hole: 0\) SPURIOUS=0/);
    expect(b.status, b.out.slice(-3000)).toBe(0);
  });
});
