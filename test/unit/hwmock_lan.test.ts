/*
 * hwmock_lan.test.ts — the pieces of `npm run test:examples` under Node:
 * the hardware mock (src/testkit/hwmock.ts: SPI bus, pins, INT watch,
 * RESET over the ENC28J60 model, its cable a FileWire) under the compact
 * stack's real ENC28J60 driver through drivers/espruino/spi.ts (the
 * board's SpiBus over `SPI2` and `digitalWrite`), against the simulated LAN
 * (src/testkit/lan_peer.ts over drivers/host/fileframes.ts) in a temporary
 * folder, on real time. Espruino's built-ins the mock and the driver call
 * by name (digitalWrite, ..., E, getTime) are installed on globalThis as
 * the mock installs them in the interpreter; fs is Node's with Espruino's
 * answers (statSync of a missing file: undefined; binary strings).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { install } from '../../src/testkit/hwmock';
import { LanPeer, wireDirs, PEER_IP } from '../../src/testkit/lan_peer';
import { espruinoSpiBus, espruinoIrqLine } from '../../drivers/espruino/spi';
import { encAttach, encPoll } from '../../src/compact/enc28j60';
import { netCreate } from '../../src/compact/net';
import { dhcpStart } from '../../src/compact/dhcp';
import { formatIp } from '../../src/link/ifaddr';

const g = globalThis as any;
const espruinoFs = {
  statSync: (n: string) => (existsSync(n) ? statSync(n) : undefined),
  readFileSync: (n: string) => {
    const s = readFileSync(n, 'latin1');
    return s.length === 0 ? undefined : s;
  },
  writeFileSync: (n: string, s: string) => writeFileSync(n, s, 'latin1'),
  unlinkSync: (n: string) => unlinkSync(n),
};
const saved: { [k: string]: unknown } = {};
const NAMES = ['digitalWrite', 'digitalRead', 'setWatch', 'clearWatch', 'E', 'getTime', 'SPI2', 'B13', 'B14', 'B15', 'B10', 'B1', 'A8'];

beforeAll(() => {
  for (const k of NAMES) saved[k] = g[k];
  g.E = {
    toString: (u: Uint8Array) => Buffer.from(u).toString('latin1'),
    toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, 'latin1')),
  };
  g.getTime = () => performance.now() / 1000;
});

afterAll(() => {
  for (const k of NAMES) g[k] = saved[k];
});

describe('hardware mock + simulated LAN', () => {
  it('the compact ENC28J60 driver over the mock leases an address from the peer; INT watch, RESET and SPI framing work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slabnet-hwmock-'));
    const w = wireDirs(dir);
    const peer = new LanPeer(w.p2b, w.b2p);
    peer.start();
    const hw = install({
      chip: 'enc28j60', spi: 'SPI2', pins: ['B13', 'B14', 'B15', 'B10', 'B1', 'A8'], cs: 'B10', int: 'B1', reset: 'A8',
      wire: [w.b2p, w.p2b], fs: espruinoFs, pollMs: 2,
    });
    let iv: NodeJS.Timeout | null = null;
    try {
      // pins are the mock's; INT idle high; SPI2 is the mock's bus
      expect(String(g.B10)).toBe('B10');
      expect(g.digitalRead(g.B1)).toBe(1);
      expect(typeof g.SPI2.send).toBe('function');
      // an ENC28J60 read of EREVID (bank 3, 0x12) by hand: each transaction framed by CS
      const econ1Bank = (): number => (hw.chip as any).reg[0x1f] & 3;
      g.digitalWrite(g.B10, 0);
      g.SPI2.write(new Uint8Array([0x80 | 0x1f, 0x03])); // BFS ECON1: bank 3
      g.digitalWrite(g.B10, 1);
      g.digitalWrite(g.B10, 0);
      const rev = g.SPI2.send(new Uint8Array([0x12, 0]));
      g.digitalWrite(g.B10, 1);
      expect(rev[1]).toBe(6); // EREVID of a Rev. B7
      expect(econ1Bank()).toBe(3);
      // RESET low then high: the model's power-on reset (ECON1 back to 0)
      g.digitalWrite(g.A8, 0);
      expect(econ1Bank()).toBe(3);
      g.digitalWrite(g.A8, 1);
      expect(econ1Bank()).toBe(0);
      // the compact stack with its driver on the board's SpiBus (drivers/espruino/spi.ts) and INT watch
      const n = netCreate({ tcbs: 1, tcpBuf: 1024, udpSocks: 2, udpBuf: 600, arpSize: 4 }, new Uint8Array([2, 0x73, 0x6c, 9, 9, 9]), { now: () => performance.now() }, 7);
      g.digitalWrite(g.A8, 0);
      g.digitalWrite(g.A8, 1);
      const e = encAttach(n, espruinoSpiBus(g.SPI2, g.B10), espruinoIrqLine(g.B1));
      expect(e).not.toBeNull();
      let watched = 0;
      g.setWatch(() => {
        watched++;
        encPoll(e!, n, 4);
      }, g.B1, { edge: 'falling', repeat: true });
      iv = setInterval(() => encPoll(e!, n, 4), 20);
      dhcpStart(n);
      await peer.waitFor(() => n.ip !== 0, 10000, 'the board stack bound by DHCP');
      expect(peer.leases()).toEqual([formatIp(n.ip)]);
      expect(formatIp(n.gw)).toBe(PEER_IP);
      expect(formatIp(n.dns)).toBe(PEER_IP);
      // the offer and the ack came in on the INT line's falling edges
      expect(watched).toBeGreaterThan(0);
      expect(hw.wire.sent).toBeGreaterThan(1);
      expect(hw.wire.received).toBeGreaterThan(1);
      expect(peer.dhcp.acks).toBe(1);
      expect(peer.drv.rxFrames).toBeGreaterThan(1);
    } finally {
      if (iv !== null) clearInterval(iv);
      hw.stop();
      peer.stop();
      rmSync(dir, { recursive: true, force: true });
      // the mock fires INT watches from a 0 ms timeout (as Espruino's event loop): let any
      // such timeout run while the fake built-ins (getTime) are still installed (afterAll)
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 20000);
});
