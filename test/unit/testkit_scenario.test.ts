/*
 * testkit_scenario.test.ts — src/testkit/scenario.ts in Node: runScenario,
 * the traffic `npm run test:espruino` runs inside Espruino's interpreter,
 * run here on the TypeScript sources (m = the namespace of src/espruino.ts,
 * the chip models of drivers/, a Node host env), both chips, role 'both':
 * every @@check ok, the expected steps in order, positive figures, the
 * final 'selftest: 7 passed, 0 failed'; negative controls (a peer with no
 * TCP sockets, a wire that corrupts big frames) report failed checks
 * instead of throwing or hanging.
 *
 * The host env and the options carry the fields of both the datagram-wire
 * and the file-wire versions of the test kit (dgram/fs, wirePorts/wireDirs;
 * all null in role 'both'), so the test holds across that change.
 */
import { describe, it, expect } from 'vitest';
import * as slabnet from '../../src/espruino';
import { runScenario, ScenarioOptions, ChipKit } from '../../src/testkit/scenario';
import { Enc28j60Mock, connectBackToBack } from '../../drivers/enc28j60/mock';
import { W5500Mock } from '../../drivers/w5500/mock';

interface Check {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}
interface Figure {
  name: string;
  value: number;
  unit: string;
}
interface Result {
  lines: string[];
  checks: Check[];
  figures: Figure[];
  marks: string[];
  passed: number;
  failed: number;
  doneCalls: number;
  wallMs: number;
}

/** the Pico's pools with the large skb, the reassembly slot and the TCP tables (as the generic bundle's run) */
const SMALL = { skbLargeCount: 1, reasmSlots: 1, tcpMaxSockets: 3, tcpSynQueue: 2, tcpTimeWaitSlots: 3 };
/** the peer serves more than the board uses: room for its listeners and the board's connections */
const PEER = { skbLargeCount: 1, reasmSlots: 1, tcpMaxSockets: 5, tcpSynQueue: 2, tcpTimeWaitSlots: 3 };

function opts(chip: string, over?: Partial<ScenarioOptions>): ScenarioOptions {
  const o = {
    chip,
    board: 'espruino-pico-enc28j60',
    boardOver: SMALL,
    peerOver: PEER,
    frag: true,
    tcp: true,
    tcpBytes: 65536,
    httpBytes: 16384,
    stepMs: 20000,
    spiHz: 10000000,
    role: 'both',
    // the two-interpreter wire (datagram or file version of the kit): unused in role 'both'
    wirePorts: null,
    wireDirs: null,
  };
  return Object.assign(o, over !== undefined ? over : {});
}

const KIT: ChipKit = { Enc28j60Mock, connectBackToBack, W5500Mock };

/** Run the scenario with a Node env; resolves when env.done is called (or rejects after limitMs). */
function run(o: ScenarioOptions, kit: ChipKit, m: unknown, limitMs: number): Promise<Result> {
  const lines: string[] = [];
  const marks: string[] = [];
  const t0 = performance.now();
  return new Promise<Result>((resolve, reject) => {
    let doneCalls = 0;
    const timer = setTimeout(() => reject(new Error('the scenario did not finish in ' + limitMs + ' ms; output:\n' + lines.join('\n'))), limitMs);
    const env = {
      now: () => performance.now(),
      mem: () => -1,
      print: (l: string) => {
        lines.push(l);
      },
      str: (b: Uint8Array, off: number, len: number) => String.fromCharCode(...b.subarray(off, off + len)),
      later: (fn: () => void) => {
        setImmediate(fn);
      },
      mark: (p: string) => {
        marks.push(p);
      },
      networkJsCreate: null,
      http: null,
      net: null,
      // the two-interpreter wire's host module (datagram or file version of the kit)
      dgram: null,
      fs: null,
      clock: { now: (): number => performance.now() },
      done: (passed: number, failed: number) => {
        doneCalls++;
        clearTimeout(timer);
        // let a stray second done() show up before resolving
        setImmediate(() => {
          const checks: Check[] = [];
          const figures: Figure[] = [];
          for (const l of lines) {
            if (l.startsWith('@@check ')) checks.push(JSON.parse(l.substring(8)) as Check);
            else if (l.startsWith('@@figure ')) figures.push(JSON.parse(l.substring(9)) as Figure);
          }
          resolve({ lines, checks, figures, marks, passed, failed, doneCalls, wallMs: performance.now() - t0 });
        });
      },
    };
    try {
      runScenario(m, kit, env, o);
    } catch (e) {
      clearTimeout(timer);
      reject(e);
    }
  });
}

const STEPS = ['link', 'arp+ping', 'ping', 'ping-frag', 'udp-echo', 'tcp', 'quiesce'];

function fig(r: Result, name: string): number {
  const f = r.figures.filter((x) => x.name === name);
  expect(f.length, name).toBe(1);
  expect(f[0].unit).toBe('ms');
  return f[0].value;
}

describe('runScenario in Node on the TypeScript sources (role both)', () => {
  for (const chip of ['enc28j60', 'w5500']) {
    it(chip + ': every step passes, figures are positive, the last line is the summary', async () => {
      const r = await run(opts(chip), KIT, slabnet, 18000);
      const bad = r.checks.filter((c) => !c.ok);
      expect(bad, JSON.stringify(bad)).toEqual([]);
      expect(r.checks.map((c) => c.name)).toEqual(STEPS);
      for (const c of r.checks) {
        expect(typeof c.ms).toBe('number');
        expect(c.ms).toBeGreaterThanOrEqual(0);
        if (c.name !== 'link') expect(c.detail.length, c.name).toBeGreaterThan(0);
      }
      expect(r.checks.find((c) => c.name === 'tcp')?.detail).toMatch(/^65536 bytes checked by the peer/);
      expect(r.checks.find((c) => c.name === 'udp-echo')?.detail).toBe('64+512+1400 bytes echoed');
      expect(r.checks.find((c) => c.name === 'ping')?.detail).toMatch(/^5 x 56 bytes/);
      expect(r.checks.find((c) => c.name === 'ping-frag')?.detail).toMatch(/^1 x 3000 bytes/);
      for (const n of ['espruino_ping_ms', 'espruino_ping_elapsed_ms', 'espruino_tcp_segment_ms', 'espruino_tcp_segment_elapsed_ms']) {
        const v = fig(r, n);
        expect(Number.isFinite(v), n).toBe(true);
        expect(v, n).toBeGreaterThan(0);
      }
      // no http/net steps without Espruino's modules, so no http figure
      expect(r.figures.map((f) => f.name).sort()).toEqual(
        ['espruino_ping_elapsed_ms', 'espruino_ping_ms', 'espruino_tcp_segment_elapsed_ms', 'espruino_tcp_segment_ms'],
      );
      expect(r.lines[r.lines.length - 1]).toBe('selftest: 7 passed, 0 failed');
      expect([r.passed, r.failed, r.doneCalls]).toEqual([7, 0, 1]);
      // mem() is -1 (not measurable): no @@mem peak line; the phases were marked in order
      expect(r.lines.some((l) => l.startsWith('@@mem'))).toBe(false);
      expect(r.marks).toEqual(['chips', 'created', 'stack', 'peer', 'traffic']);
      // every line is one the harness parses
      for (const l of r.lines) expect(l).toMatch(/^(@@check |@@figure |selftest: )/);
    }, 20000);
  }

  it('tcp off and frag off: the steps shrink accordingly and still all pass', async () => {
    const r = await run(opts('w5500', { tcp: false, frag: false }), KIT, slabnet, 18000);
    expect(r.checks.map((c) => c.name)).toEqual(['link', 'arp+ping', 'ping', 'udp-echo', 'quiesce']);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.lines[r.lines.length - 1]).toBe('selftest: 5 passed, 0 failed');
    expect(r.figures.map((f) => f.name).sort()).toEqual(['espruino_ping_elapsed_ms', 'espruino_ping_ms']);
  }, 20000);

  for (const chip of ['enc28j60', 'w5500']) {
    it(chip + ': a peer without TCP sockets (tcpMaxSockets 0) makes checks fail, reported, not thrown or hung', async () => {
      const o = opts(chip, { peerOver: Object.assign({}, PEER, { tcpMaxSockets: 0 }), stepMs: 4000 });
      const r = await run(o, KIT, slabnet, 18000);
      expect(r.doneCalls).toBe(1);
      const byName = new Map(r.checks.map((c) => [c.name, c]));
      expect(r.checks.map((c) => c.name)).toEqual(STEPS);
      const tcp = byName.get('tcp') as Check;
      expect(tcp.ok).toBe(false);
      expect(tcp.detail.length).toBeGreaterThan(0);
      // what does not need TCP still works
      for (const n of ['arp+ping', 'ping', 'ping-frag', 'udp-echo']) expect((byName.get(n) as Check).ok, n).toBe(true);
      expect(r.failed).toBeGreaterThanOrEqual(1);
      expect(r.passed + r.failed).toBe(7);
      expect(r.lines[r.lines.length - 1]).toBe('selftest: ' + r.passed + ' passed, ' + r.failed + ' failed');
      // no TCP figure for a failed TCP step
      expect(r.figures.some((f) => f.name.startsWith('espruino_tcp'))).toBe(false);
    }, 20000);
  }

  it('a wire that corrupts every frame over 1000 bytes: ping-frag, the 1400-byte UDP echo and tcp fail, the rest passes', async () => {
    // a chip whose transmitted frames get one byte flipped in the IP payload when large
    class BadWireEnc extends Enc28j60Mock {
      override attachWire(peer: { receiveFromWire(b: Uint8Array, off: number, len: number): boolean } | null): void {
        if (peer === null) {
          super.attachWire(null);
          return;
        }
        super.attachWire({
          receiveFromWire(b: Uint8Array, off: number, len: number): boolean {
            if (len > 1000) b[off + len - 1] = b[off + len - 1] ^ 0x5a;
            return peer.receiveFromWire(b, off, len);
          },
        });
      }
    }
    const kit: ChipKit = { Enc28j60Mock: BadWireEnc, connectBackToBack, W5500Mock };
    const r = await run(opts('enc28j60', { stepMs: 1200 }), kit, slabnet, 18000);
    const byName = new Map(r.checks.map((c) => [c.name, c]));
    expect(r.checks.map((c) => c.name)).toEqual(STEPS);
    expect((byName.get('ping-frag') as Check).ok).toBe(false);
    expect((byName.get('ping-frag') as Check).detail).toMatch(/timed out/);
    expect((byName.get('udp-echo') as Check).ok).toBe(false);
    expect((byName.get('tcp') as Check).ok).toBe(false);
    for (const n of ['link', 'arp+ping', 'ping']) expect((byName.get(n) as Check).ok, n).toBe(true);
    expect(r.failed).toBeGreaterThanOrEqual(3);
    expect(r.passed + r.failed).toBe(7);
    expect(r.figures.some((f) => f.name.startsWith('espruino_tcp'))).toBe(false);
    expect(r.lines[r.lines.length - 1]).toBe('selftest: ' + r.passed + ' passed, ' + r.failed + ' failed');
  }, 20000);
});
