/*
 * board.ts — the compact stack on a board: the Espruino clock, and the
 * compact stack made with the board's compact configuration (boards/*.ts
 * `compact`). Configuration time only, not on the packet path. The
 * compact board bundles (`npm run build` → dist/espruino/<board>.full.min.js
 * and .tiny.min.js, rollup.config.js compactEntrySource) export this with
 * src/compact/'s API.
 *
 *   var s = require("slabnet");
 *   SPI2.setup({ sck: B13, miso: B14, mosi: B15, baud: 10000000 });
 *   var n = s.compactStack(null, [0x02, 0x73, 0x6c, 1, 2, 3]);
 *   var e = s.encAttach(n, s.espruinoSpiBus(SPI2, B10), s.espruinoIrqLine(B1));
 *   require("NetworkJS").create(s.networkJsCompact(n));
 *   s.dhcpStart(n);
 *   setInterval(function () { s.encPoll(e, n, 4); }, 10);
 */
import type { Clock } from '../core/clock';
import type { Board } from '../../boards/board';
import { Net, netCreate, CompactConfig, U8 } from './net';
import { RUNTIME_ESPRUINO } from '../features';

/* Espruino built-ins: seconds since power-on; a hardware random 32-bit number. */
declare function getTime(): number;
declare const E: { hwRand?: () => number };

/** Espruino's clock: milliseconds from getTime(). */
export class EspruinoMsClock implements Clock {
  now(): number {
    return getTime() * 1000;
  }
}

/**
 * The compact stack for board b: its compact configuration plus `over`
 * (or null), MAC `mac` (6 bytes, array or Uint8Array), Espruino's clock
 * unless one is given, seeded from E.hwRand() when the firmware has it.
 * Throws on a bad configuration or MAC (netCreate).
 */
export function compactStackFor(b: Board, over: Partial<CompactConfig> | null, mac: ArrayLike<number>, clock?: Clock): Net {
  let cfg: { [k: string]: number } = {};
  let base = (b.compact !== undefined ? b.compact.config : {}) as { [k: string]: number };
  for (let k in base) cfg[k] = base[k];
  if (over !== null && over !== undefined) for (let k in over) cfg[k] = (over as { [k: string]: number })[k];
  let seed = (RUNTIME_ESPRUINO || typeof E !== 'undefined') && E.hwRand !== undefined ? E.hwRand() : getTime() * 1e6;
  return netCreate(cfg as Partial<CompactConfig>, new U8(mac), clock !== undefined ? clock : new EspruinoMsClock(), seed | 0);
}
