/*
 * The main job (`npm start` = slabnet sim): runs the simulated LAN of
 * boards, must succeed, account for every skb, write a valid pcap, and
 * replay identically for the same seed.
 */
import { describe, it, expect, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSim } from '../../src/cli/sim';
import { readPcap } from '../../src/sim/pcap';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    const code = await runSim(args);
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}

describe('slabnet sim (npm start)', () => {
  it('runs the LAN of boards, writes a pcap, and every skb returns (--json)', async () => {
    const file = path.join(os.tmpdir(), 'slabnet-simcli-' + process.pid + '.pcap');
    const r = await run(['--seed', '3', '--pcap', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.ok).toBe(true);
    expect(rep.failures).toEqual([]);
    expect(rep.hosts.length).toBe(3);
    for (const h of rep.hosts) {
      expect(h.pool.inUse).toBe(0);
      expect(h.icmp.InEchoReps).toBeGreaterThan(0);
      expect(h.arp.length).toBe(2);
    }
    for (const p of rep.pings) expect(p.ok).toBe(p.count);
    expect(rep.pings.some((p: { len: number }) => p.len === 3000)).toBe(true);
    expect(rep.udp.every((u: { ok: number; count: number }) => u.ok === u.count)).toBe(true);
    expect(rep.frames.ipFragments).toBeGreaterThanOrEqual(6);
    expect(rep.timeline.length).toBeGreaterThan(20);
    const cap = readPcap(new Uint8Array(fs.readFileSync(file)));
    fs.unlinkSync(file);
    expect(cap).not.toBeNull();
    expect(cap!.records.length).toBe(rep.pcap.frames);
    expect(cap!.records.length).toBe(rep.switch.received);
    expect(rep.wallMs).toBeLessThan(5000);
  });

  it('the same seed replays the same report; the text report names the pcap file', async () => {
    const a = JSON.parse((await run(['--seed', '8', '--no-pcap', '--json'])).out);
    const b = JSON.parse((await run(['--seed', '8', '--no-pcap', '--json'])).out);
    delete a.wallMs;
    delete b.wallMs;
    expect(b).toEqual(a);
    const file = path.join(os.tmpdir(), 'slabnet-simcli2-' + process.pid + '.pcap');
    const t = await run(['--pcap', file]);
    expect(t.code).toBe(0);
    expect(t.out).toContain('pcap: ' + file);
    expect(t.out).toContain('timeline (virtual ms)');
    expect(t.out).toContain('ARP tables');
    expect(fs.existsSync(file)).toBe(true);
    fs.unlinkSync(file);
  });

  it('bad flags: usage and exit 2', async () => {
    const r = await run(['--loss', '7']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage');
    expect((await run(['--bogus'])).code).toBe(2);
  });
});
