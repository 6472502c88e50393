/*
 * simport.ts — plugs a W5500Mock's cable into a port of the simulation's
 * virtual switch: the shared ChipSimPort (drivers/sim/chipport.ts), named
 * for the W5500. The chip's MACRAW RX buffer takes each delivered frame;
 * the driver's NAPI poll reads it over SPI later. No allocation per frame.
 */
import type { Clock } from '../../src/core/clock';
import type { Fabric, SimPort } from '../../src/sim/switch';
import type { W5500Mock } from './mock';
import { ChipSimPort } from '../sim/chipport';

export class W5500SimPort extends ChipSimPort {
  constructor(fabric: Fabric, port: SimPort, chip: W5500Mock, clock: Clock) {
    super(fabric, port, chip, clock);
  }
}
