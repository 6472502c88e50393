/*
 * host.ts — the PC (Node 20): tests, simulation, benchmarks, interop.
 * Frames travel through the simulation's wire or a host transport
 * (drivers/host/), so there are no SPI pins. Default (generous) pools:
 * 64 small skbs, 4 large skbs able to hold a 65535-byte datagram
 * (full RFC 791 reassembly).
 */
import type { Board } from './board';

export const host: Board = {
  id: 'host',
  name: 'PC host (Node.js 20)',
  mcu: 'x86-64 / arm64',
  chip: 'host',
  spi: null,
  csPin: '',
  intPin: '',
  resetPin: '',
  ramBytes: 1024 * 1024 * 1024,
  flashBytes: 0,
  jsVars: 0,
  jsVarBytes: 0,
  codeFlashBytes: 0,
  stackRamBudget: 2 * 1024 * 1024,
  config: {},
};
