/*
 * chipport.ts — plugs the wire side of a register-level chip model
 * (drivers/enc28j60/mock.ts, drivers/w5500/mock.ts) into a port of the
 * simulation's virtual switch (src/sim/switch.ts), the way SimNic plugs in
 * a driver-level NIC:
 *   chip transmits → receiveFromWire → Fabric.hostTransmit (port.up)
 *   switch → port.down → deliverFrame → chip.receiveFromWire
 * The frame-pool slot is copied into the chip's memory and freed at once;
 * a frame the chip refuses is left to the fabric, which counts it in
 * port.rxRefused and frees the slot. No allocation per frame.
 */
import type { Clock } from '../../src/core/clock';
import type { Fabric, SimPort, PortEndpoint } from '../../src/sim/switch';

/** Something that takes frames off a cable. */
export interface FrameReceiver {
  /** A frame (no FCS) arrives; true when it was accepted. Must not keep buf. */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean;
}

/** The wire side every chip model has. */
export interface WireChip extends FrameReceiver {
  attachWire(peer: FrameReceiver | null): void;
}

export class ChipSimPort implements PortEndpoint, FrameReceiver {
  /** frames the chip sent */
  txFrames = 0;
  /** frames the chip sent that the cable refused (loss, outage, no slot) */
  txDropped = 0;

  constructor(
    readonly fabric: Fabric,
    readonly port: SimPort,
    readonly chip: WireChip,
    readonly clock: Clock,
  ) {
    port.endpoint = this;
    chip.attachWire(this);
  }

  /** The chip transmitted a frame: put it on the cable towards the switch. */
  receiveFromWire(buf: Uint8Array, off: number, len: number): boolean {
    this.txFrames++;
    if (this.fabric.hostTransmit(this.port, this.clock.now(), buf, off, len) === 0) {
      this.txDropped++;
      return false;
    }
    return true;
  }

  /** A frame reached this port's host end: into the chip's receive memory. */
  deliverFrame(fabric: Fabric, slot: number): boolean {
    const pool = fabric.pool;
    if (!this.chip.receiveFromWire(pool.data, pool.off(slot), pool.len[slot])) return false;
    pool.free(slot);
    return true;
  }
}
