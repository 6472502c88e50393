/*
 * simport.ts — plugs a W5500Mock's cable into a port of the simulation's
 * virtual switch (src/sim/switch.ts), the way drivers/sim/simnic.ts plugs
 * in a SimNic:
 *   chip SEND → W5500SimPort.receiveFromWire → Fabric.hostTransmit (port.up)
 *   switch → port.down → W5500SimPort.deliverFrame → chip.receiveFromWire
 *     (MACRAW RX buffer; the driver's NAPI poll reads it over SPI later).
 * The frame-pool slot is copied into the chip's memory and freed at once;
 * a frame the chip refuses (buffer full, filtered, socket closed) is left
 * to the fabric, which counts it in port.rxRefused and frees the slot.
 * No allocation per frame.
 */
import type { Clock } from '../../src/core/clock';
import type { Fabric, SimPort, PortEndpoint } from '../../src/sim/switch';
import type { W5500Mock, WireReceiver } from './mock';

export class W5500SimPort implements PortEndpoint, WireReceiver {
  /** frames the chip sent that the cable refused (loss, outage, no slot) */
  txDropped = 0;

  constructor(
    readonly fabric: Fabric,
    readonly port: SimPort,
    readonly chip: W5500Mock,
    readonly clock: Clock,
  ) {
    port.endpoint = this;
    chip.attachWire(this);
  }

  /** The chip transmitted a frame: put it on the cable towards the switch. */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    if (this.fabric.hostTransmit(this.port, this.clock.now(), buf, off, len) === 0) {
      this.txDropped++;
      return false;
    }
    return true;
  }

  /** A frame reached this port's host end: into the chip's RX buffer. */
  deliverFrame(fabric: Fabric, slot: number): boolean {
    const pool = fabric.pool;
    if (!this.chip.receiveFromWire(pool.data, pool.off(slot), pool.len[slot])) return false;
    pool.free(slot);
    return true;
  }
}
