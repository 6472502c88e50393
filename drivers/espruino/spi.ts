/*
 * espruino/spi.ts — the SpiBus and IrqLine (drivers/spi.ts) over Espruino's
 * built-in SPI object and pins, for the chip drivers (drivers/enc28j60/,
 * drivers/w5500/) on a board. Not used on the PC (there the bus is a mock
 * chip). Part of the per-board Espruino bundles (scripts/build-espruino.js).
 *
 *   SPI2.setup({ sck: B13, miso: B14, mosi: B15, baud: 10000000, mode: 0 });
 *   const bus = net.espruinoSpiBus(SPI2, B10);   // CS pin B10
 *   const irq = net.espruinoIrqLine(B1);         // INT pin B1 (active low)
 *
 * Allocation (the one exception to the zero-GC rule, and unavoidable with
 * Espruino's API): `spi.send(data)` returns a NEW Uint8Array of the bytes
 * clocked in, and a view of tx (`subarray`) is a new object too. Both are
 * short-lived JsVars freed at once by Espruino's reference counting (no
 * garbage-collection pause), so a transfer costs a few JsVars
 * transiently, never a leak. Transfers that read nothing (rx null) use
 * `spi.write(view)`, which returns nothing. Chip select is driven here
 * with digitalWrite (select/deselect), not through send's nss argument,
 * because a driver frames one transaction over several transfer() calls.
 * Keep transfers large (whole frames) so the per-call cost is amortised.
 */
import type { SpiBus, IrqLine } from '../spi';

/** The part of Espruino's SPI class used here. */
export interface EspruinoSpi {
  send(data: Uint8Array | number): Uint8Array | number;
  write(data: Uint8Array): void;
}

/* Espruino built-ins. Pin is an Espruino Pin object (B10) or its name. */
declare function digitalWrite(pin: unknown, value: number): void;
declare function digitalRead(pin: unknown): number;

/** SpiBus over an Espruino SPI object (already set up) with CS on csPin. */
export class EspruinoSpiBus implements SpiBus {
  bytes = 0;
  /** zeros clocked out when the caller passes tx = null (grown on demand, at most one frame) */
  private zeros: Uint8Array;

  constructor(readonly spi: EspruinoSpi, readonly cs: unknown) {
    this.zeros = new Uint8Array(64);
    digitalWrite(cs, 1);
  }

  select(): void {
    digitalWrite(this.cs, 0);
  }

  deselect(): void {
    digitalWrite(this.cs, 1);
  }

  transfer(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void {
    if (len <= 0) return;
    this.bytes += len;
    let out: Uint8Array;
    if (tx !== null) {
      out = tx.subarray(txOff, txOff + len);
    } else {
      if (this.zeros.length < len) this.zeros = new Uint8Array(len);
      out = this.zeros.subarray(0, len);
    }
    if (rx === null) {
      this.spi.write(out);
      return;
    }
    // one native copy of what was clocked in (a Uint8Array of len bytes:
    // already bytes), not an interpreted step per byte
    const got = this.spi.send(out) as Uint8Array;
    rx.set(got.length === len ? got : got.subarray(0, len), rxOff);
  }
}

/** IrqLine over an Espruino input pin (the chip's INT, active low). */
export class EspruinoIrqLine implements IrqLine {
  constructor(readonly pin: unknown) {}

  asserted(): boolean {
    return digitalRead(this.pin) === 0;
  }
}

/** An SpiBus on an Espruino SPI object (call spi.setup first) with chip select csPin. */
export function espruinoSpiBus(spi: EspruinoSpi, csPin: unknown): EspruinoSpiBus {
  return new EspruinoSpiBus(spi, csPin);
}

/** The chip's interrupt line on an Espruino pin. */
export function espruinoIrqLine(pin: unknown): EspruinoIrqLine {
  return new EspruinoIrqLine(pin);
}
