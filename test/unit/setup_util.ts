/*
 * Shared by the setup() tests (compact_setup, setup_general): a board's
 * hardware as the setup contract (docs/API.md) says a mock replaces
 * Espruino's built-ins — its SPI bus object and pin names as globals,
 * digitalWrite/digitalRead/setWatch/clearWatch, getTime (the simulation's
 * clock), getSerial, require("NetworkJS") — over one register-level chip
 * model already on a simulated switch, and a step that runs the
 * simulation and vitest's fake timers together, handing the chip's
 * falling INT edges to the watch. Not a test file itself.
 */
import { expect, vi } from 'vitest';
import type { Board } from '../../boards/board';
import type { DhcpLan } from '../scenario/dhcp_util';

/** What a chip model offers the fake bus (both models: drivers/enc28j60/mock.ts, drivers/w5500/mock.ts). */
export interface ChipModel {
  transfer(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void;
  select(): void;
  deselect(): void;
  asserted(): boolean;
}

const G = globalThis as unknown as { [k: string]: unknown };
const BUILTINS = ['digitalWrite', 'digitalRead', 'setWatch', 'clearWatch', 'getTime', 'getSerial', 'require'];
/** the id setWatch hands out */
export const WATCH_ID = 7;

/** "a.b.c.d" of a 32-bit address. */
export function ipStr(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** Board b's hardware as globals over chip (pins read as 'pin:NAME'); a log of pin writes and the NetworkJS object. */
export class FakeBoard {
  pins: string[] = [];
  spiSetup: { [k: string]: unknown } | null = null;
  watch: (() => void) | null = null;
  watches = 0;
  /** falling INT edges handed to the watch */
  edges = 0;
  intWas = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  nj: any = null;
  readonly names: string[];
  constructor(
    readonly lan: DhcpLan,
    readonly chip: ChipModel,
    b: Board,
    serial: string,
  ) {
    const w = b.spi!;
    const cs = 'pin:' + b.csPin;
    const int = 'pin:' + b.intPin;
    this.names = [w.bus, w.sck, w.miso, w.mosi, b.csPin, b.intPin, b.resetPin];
    const c = chip;
    G[w.bus] = {
      setup: (o: { [k: string]: unknown }) => {
        this.spiSetup = o;
      },
      send: (d: Uint8Array) => {
        const r = new Uint8Array(d.length);
        c.transfer(d, 0, r, 0, d.length);
        return r;
      },
      write: (d: Uint8Array) => c.transfer(d, 0, null, 0, d.length),
    };
    for (const p of this.names.slice(1)) G[p] = 'pin:' + p;
    G.digitalWrite = (p: string, v: number) => {
      this.pins.push(p + '=' + v);
      if (p === cs) {
        if (v === 0) c.select();
        else c.deselect();
      }
    };
    G.digitalRead = (p: string) => (p === int && c.asserted() ? 0 : 1);
    G.setWatch = (f: () => void, p: string, o: { edge: string; repeat: boolean }) => {
      expect([p, o.edge, o.repeat]).toEqual([int, 'falling', true]);
      this.watch = f;
      this.watches++;
      return WATCH_ID;
    };
    G.clearWatch = (id: number) => {
      expect(id).toBe(WATCH_ID);
      this.watch = null;
    };
    G.getTime = () => lan.sim.now() / 1000;
    G.getSerial = () => serial;
    G.require = (m: string) => {
      expect(m).toBe('NetworkJS');
      return {
        create: (o: unknown) => {
          this.nj = o;
        },
      };
    };
  }

  /** ms of virtual time: the simulation and the timers together, INT's falling edges to the watch. */
  run(ms: number, until?: () => boolean): boolean {
    for (let t = 0; t < ms; t += 5) {
      this.lan.sim.run(5);
      vi.advanceTimersByTime(5);
      const a = this.chip.asserted();
      if (a && !this.intWas && this.watch !== null) {
        this.edges++;
        this.watch();
      }
      this.intWas = a;
      if (until !== undefined && until()) return true;
    }
    return false;
  }
}

/** vitest's fake timers for setup()'s setTimeout/setInterval (beforeEach). */
export function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearInterval', 'clearTimeout'] });
}

/** Real timers again, and every global a FakeBoard of board b installed removed (afterEach). */
export function restoreGlobals(b: Board): void {
  vi.useRealTimers();
  const w = b.spi!;
  for (const k of [w.bus, w.sck, w.miso, w.mosi, b.csPin, b.intPin, b.resetPin, ...BUILTINS]) delete G[k];
}
