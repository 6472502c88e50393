/*
 * spi.ts — the only way a chip driver talks to its chip: a full-duplex SPI
 * bus with a chip-select line, and an interrupt line the driver polls or
 * is told about. On a board this wraps Espruino's SPI object; on the PC it
 * is a mock chip (a register-level model) on the same interface.
 *
 * transfer() clocks len bytes: tx[txOff..] out, rx[rxOff..] in (rx may be
 * null when the read bytes are not wanted; tx may be null to clock out
 * zeros). A transaction is framed by select() / deselect() (CS low/high).
 * Nothing here allocates; every byte is counted for the SPI time model.
 */

export interface SpiBus {
  select(): void;
  deselect(): void;
  transfer(tx: Uint8Array | null, txOff: number, rx: Uint8Array | null, rxOff: number, len: number): void;
  /** bytes clocked since creation (for budgets and the SPI-time model) */
  bytes: number;
}

/** The chip's INT pin, active low on both ENC28J60 and W5500. */
export interface IrqLine {
  /** true while the chip asserts its interrupt */
  asserted(): boolean;
}

/** SPI bytes at a given clock to milliseconds (8 bits per byte, no gaps). */
export function spiBytesToMs(bytes: number, hz: number): number {
  return (bytes * 8 * 1000) / hz;
}

/**
 * Copy len bytes of src[soff..] to dst[doff..] (no overlap) for a chip
 * model's buffer-memory burst: with native set() over a subarray view
 * (allocates the view; what an interpreter such as Espruino wants) or a
 * byte loop (no allocation; what V8 wants on the hot path).
 */
export function burstCopy(src: Uint8Array, soff: number, dst: Uint8Array, doff: number, len: number, native: boolean): void {
  if (native) {
    dst.set(src.subarray(soff, soff + len), doff);
    return;
  }
  for (let i = 0; i < len; i++) dst[doff + i] = src[soff + i];
}
