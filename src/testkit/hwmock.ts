/*
 * hwmock.ts — dist/espruino/hwmock.min.js (`npm run build`): the "hardware"
 * of a board inside Espruino's Linux interpreter, so an example program
 * (examples/*.js) runs unchanged as it would on the board: its
 * `require("slabnet").setup(...)` finds an SPI bus, pins, an INT watch and
 * a chip that answers. Test-only, never flashed as the stack; loaded from
 * Storage beside the board bundle by scripts/test-examples.js (or as the
 * Storage file `.boot0`, run before a flashed `.bootcde`).
 *
 *   require("hwmock").install({ chip: "enc28j60", spi: "SPI2",
 *     pins: ["B13", "B14", "B15", "B10", "B1", "A8"], cs: "B10", int: "B1", reset: "A8",
 *     wire: ["w/b2p", "w/p2b"], memMs: 0 });
 *
 * What it installs (through `global.x = ...`, which overrides Espruino's
 * built-ins for code that calls them by name; docs/API.md, the setup
 * contract):
 *   - global[spi]: an SPI object (setup, send, write; on Espruino's own SPIn
 *     object its methods are replaced, the object itself cannot be) clocking bytes through
 *     the register-level chip model (drivers/enc28j60/mock.ts Enc28j60Mock
 *     or drivers/w5500/mock.ts W5500Mock), framed by the CS pin;
 *   - global[pin] for every pin name: a pin object (read/write/set/reset);
 *   - digitalWrite / digitalRead / setWatch / clearWatch: on those pins the
 *     model's (CS low/high = select/deselect; RESET low then high = a power-on
 *     reset of the model; INT reads 0 while the model asserts it; a watch on
 *     INT fires on its falling edge); on any other pin the built-in;
 *   - the model's cable joined to a FileWire (src/testkit/espruino_testkit.ts:
 *     one file per frame, `wire` = [outbox, inbox] folders), polled every
 *     pollMs (default 5) from a setInterval.
 * Small on purpose: it runs beside the Pico bundle in the Pico-sized
 * interpreter (5,100 JsVars); the model's buffer memory is its RAM.
 */
import { Enc28j60Mock } from '../../drivers/enc28j60/mock';
import { W5500Mock } from '../../drivers/w5500/mock';
import { FileWire } from './espruino_testkit';

/* Espruino built-ins */
declare const global: { [k: string]: any };
declare function require(name: string): any;
declare function setInterval(fn: () => void, ms: number): unknown;
declare function setTimeout(fn: () => void, ms: number): unknown;
declare function clearInterval(id: unknown): void;
declare function getTime(): number;
declare function print(s: string): void;
declare const process: { memory(): { usage: number; total: number } };

export interface HwMockOptions {
  /** "enc28j60" | "w5500" */
  chip: string;
  /** the SPI bus's global name ("SPI2") */
  spi: string;
  /** every pin name the board's program may name (sck, miso, mosi, cs, int, reset) */
  pins: string[];
  cs: string;
  int: string;
  /** RESET pin name or null */
  reset: string | null;
  /** FileWire folders: [outbox (frames the chip sends), inbox (frames it receives)] */
  wire: string[];
  /** ms between polls of the inbox (default 5) */
  pollMs?: number;
  /** W5500 model memory in KB (2, 4, 8, 16; default 16) */
  memKb?: number;
  /** Espruino's fs or one like it (default require("fs"); Node tests pass their own) */
  fs?: unknown;
  /** > 0: print `@@mem USAGE TOTAL` (process.memory() after a GC, in JsVars) every memMs */
  memMs?: number;
}

/** A pin: its name and level; the methods of Espruino's Pin go through the overrides. */
class MockPin {
  v = 1;
  constructor(public n: string) {}
  read(): number {
    return global.digitalRead(this);
  }
  write(v: number | boolean): void {
    global.digitalWrite(this, v ? 1 : 0);
  }
  set(): void {
    this.write(1);
  }
  reset(): void {
    this.write(0);
  }
  toString(): string {
    return this.n;
  }
}

type Chip = Enc28j60Mock | W5500Mock;

/* Espruino: a string's bytes */
declare const E: { toUint8Array(s: string): Uint8Array };

/** SPI data as bytes (a number, a string, an array or a Uint8Array, as Espruino's SPI takes them) */
function bytes(d: any): Uint8Array {
  return typeof d === 'number' ? new Uint8Array([d]) : typeof d === 'string' ? E.toUint8Array(d) : d instanceof Uint8Array ? d : new Uint8Array(d);
}

/** The hardware in place; returns { chip, wire, pins, stop } (for tests: counters, frames sent/received; stop ends the poll). */
export function install(o: HwMockOptions): { chip: Chip; wire: FileWire; pins: { [n: string]: MockPin }; stop: () => void } {
  let chip: Chip;
  if (o.chip === 'w5500') chip = new W5500Mock(o.memKb);
  else chip = new Enc28j60Mock('hwmock');
  chip.nativeCopy = true;
  let wire = new FileWire(o.fs || require('fs'), chip, o.wire[0], o.wire[1]);
  chip.attachWire(wire);
  let pins: { [n: string]: MockPin } = {};
  for (let i = 0; i < o.pins.length; i++) global[o.pins[i]] = pins[o.pins[i]] = new MockPin(o.pins[i]);
  let cs = pins[o.cs];
  let irq = pins[o.int];
  let rst = o.reset !== null ? pins[o.reset] : null;
  /* the built-ins for any other pin */
  let dw = global.digitalWrite;
  let dr = global.digitalRead;
  let sw = global.setWatch;
  let cw = global.clearWatch;
  /* the INT watches: id → callback (ids above Espruino's own) */
  let watches: { [id: string]: (e?: any) => void } = {};
  let nextId = 1000;
  let intWas = false;
  let firing = false;
  /* INT sampled after each transaction and each poll: a falling edge fires the watches (from the event loop, as Espruino does) */
  let sample = function (): void {
    let a = chip.asserted();
    if (a && !intWas && !firing) {
      firing = true;
      setTimeout(function () {
        firing = false;
        let t = getTime();
        for (let k in watches) watches[k]({ state: false, time: t, lastTime: t });
      }, 0);
    }
    intWas = a;
  };
  global.digitalWrite = function (p: any, v: any): void {
    if (!(p instanceof MockPin)) return dw(p, v);
    let b = v ? 1 : 0;
    if (p === cs && b !== p.v) {
      if (b === 0) chip.select();
      else {
        chip.deselect();
        sample();
      }
    }
    // RESET released: a power-on reset of the model (W5500: MR.RST; the ENC28J60 model's power-on state)
    if (p === rst && b === 1 && p.v === 0) {
      // (the ENC28J60 model's power-on state is private: reached by name, the test bundles keep names)
      if (chip instanceof W5500Mock) chip.reset();
      else (chip as any).powerOn();
      intWas = false;
    }
    p.v = b;
  };
  global.digitalRead = function (p: any): number {
    if (!(p instanceof MockPin)) return dr(p);
    return p === irq ? (chip.asserted() ? 0 : 1) : p.v;
  };
  global.setWatch = function (fn: () => void, p: any, opts: any): any {
    if (!(p instanceof MockPin)) return sw(fn, p, opts);
    let id = nextId++;
    watches[id] = fn;
    return id;
  };
  global.clearWatch = function (id: any): void {
    if (id === undefined) {
      watches = {};
      return cw();
    }
    if (watches[id] !== undefined) delete watches[id];
    else cw(id);
  };
  // an SPI object of Espruino's own (SPI1..3 exist in the Linux build too) cannot be replaced by
  // `global.SPI2 = ...` (the assignment is ignored): its methods are overridden on it instead
  let bus = global[o.spi];
  if (typeof bus !== 'object' || bus === null) global[o.spi] = bus = {};
  bus.setup = function (): void {};
  /* bytes clocked out → bytes clocked in (a new Uint8Array, as Espruino's send) */
  bus.send = function (d: any): any {
    let u = bytes(d);
    let r = new Uint8Array(u.length);
    chip.transfer(u, 0, r, 0, u.length);
    return typeof d === 'number' ? r[0] : r;
  };
  bus.write = function (d: any): void {
    let u = bytes(d);
    chip.transfer(u, 0, null, 0, u.length);
  };
  let iv = setInterval(function () {
    wire.poll();
    sample();
  }, o.pollMs || 5);
  let mv: unknown = null;
  if (o.memMs) {
    mv = setInterval(function () {
      let m = process.memory();
      print('@@mem ' + m.usage + ' ' + m.total);
    }, o.memMs);
  }
  return {
    chip: chip,
    wire: wire,
    pins: pins,
    stop: function (): void {
      clearInterval(iv);
      if (mv !== null) clearInterval(mv);
    },
  };
}
