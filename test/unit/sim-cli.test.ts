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
import { espruinoEsp32W5500 } from '../../boards/espruino-esp32-w5500';

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
    expect(rep.hosts.length).toBe(4);
    for (const h of rep.hosts) {
      expect(h.pool.inUse).toBe(0);
      expect(h.icmp.InEchoReps).toBeGreaterThan(0);
      expect(h.arp.length).toBe(3);
    }
    // TCP: only the host and the ESP32 have TCBs (the Pico/WiFi bundles have TCP compiled out)
    const byName: { [k: string]: any } = {};
    for (const h of rep.hosts) byName[h.name] = h;
    expect(byName.pico.tcbs).toBeNull();
    expect(byName.wifi.tcbs).toBeNull();
    expect(byName.esp32.tcbs.size).toBe(espruinoEsp32W5500.config.tcpMaxSockets);
    for (const n of ['host', 'esp32']) {
      const h = byName[n];
      expect(h.tcbs.inUse).toBe(0);
      expect(h.tcbs.timeWait).toBe(0);
      expect(h.tcbs.synRecv).toBe(0);
      expect(h.tcp.CurrEstab).toBe(0);
    }
    expect(byName.host.tcp.ActiveOpens).toBe(1);
    expect(byName.esp32.tcp.PassiveOpens).toBe(1);
    expect(byName.esp32.tcp.OutSegs).toBeGreaterThan(200000 / 1460);
    expect(rep.tcp.connected).toBe(true);
    expect(rep.tcp.closed).toBe(true);
    expect(rep.http.length).toBe(2);
    const [get, put] = rep.http;
    expect(get).toMatchObject({ method: 'GET', path: '/bytes/200000', status: 200, bytes: 200000, ok: true });
    expect(put).toMatchObject({ method: 'PUT', path: '/upload', status: 200, bytes: 100000, ok: true, reply: '100000' });
    expect(get.ms).toBeGreaterThan(0);
    // the ss listing of the ESP32 taken while the connection was open
    expect(rep.tcp.esp32Sockets.some((l: string) => /^tcp\s+LISTEN\s.*\*:80\s/.test(l))).toBe(true);
    expect(rep.tcp.esp32Sockets.some((l: string) => /^tcp\s+ESTABLISHED\s.*192\.0\.2\.22:80\s+192\.0\.2\.1:/.test(l))).toBe(true);
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

  it('the same seed replays the same report and the same pcap bytes; the text report names the pcap file', async () => {
    const f1 = path.join(os.tmpdir(), 'slabnet-simcli-r1-' + process.pid + '.pcap');
    const f2 = path.join(os.tmpdir(), 'slabnet-simcli-r2-' + process.pid + '.pcap');
    const ra = await run(['--seed', '8', '--pcap', f1, '--json']);
    const rb = await run(['--seed', '8', '--pcap', f2, '--json']);
    expect(ra.code, ra.err).toBe(0);
    expect(rb.code, rb.err).toBe(0);
    const a = JSON.parse(ra.out);
    const b = JSON.parse(rb.out);
    delete a.wallMs;
    delete b.wallMs;
    delete a.pcap.file;
    delete b.pcap.file;
    expect(b).toEqual(a);
    const pa = fs.readFileSync(f1);
    const pb = fs.readFileSync(f2);
    fs.unlinkSync(f1);
    fs.unlinkSync(f2);
    expect(pa.length).toBeGreaterThan(24 + 16 * 300); // the TCP transfer is in the capture
    expect(Buffer.compare(pa, pb)).toBe(0);
    const file = path.join(os.tmpdir(), 'slabnet-simcli2-' + process.pid + '.pcap');
    const t = await run(['--pcap', file]);
    expect(t.code).toBe(0);
    expect(t.out).toContain('pcap: ' + file);
    expect(t.out).toContain('timeline (virtual ms)');
    expect(t.out).toContain('ARP tables');
    // the TCP part of the text report
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: TCP connect 192\.0\.2\.22:80$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: GET \/bytes\/200000 → 200, 200000 bytes in [\d.]+ ms \([\d.]+ Mbit\/s virtual\)$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: PUT \/upload 100000 bytes → "100000" in [\d.]+ ms$/m);
    expect(t.out).toMatch(/^\s+[\d.]+\s+host: TCP closed/m);
    expect(t.out).toContain('  http GET 200000 bytes: ok\n');
    expect(t.out).toContain('  http PUT 100000 bytes: ok\n');
    expect(t.out).toMatch(/^ {4}Tcp: {2}ActiveOpens=1 PassiveOpens=0 /m);
    expect(t.out).toMatch(/^ {4}Tcp: {2}ActiveOpens=0 PassiveOpens=1 /m);
    expect(t.out).toMatch(/^ {2}tcp +ESTABLISHED +\d+ +\d+ +192\.0\.2\.22:80 /m);
    expect(t.out).toMatch(/\nOK: [^\n]*\n$/);
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
