/*
 * index.ts — the board list and the static-RAM estimate of a stack.
 *
 * estimateStaticRam(cfg) adds up what the Stack constructor allocates for
 * a config: skb buffers and their metadata arrays, the RX ring, qdiscs,
 * the timer wheel, address/route/ARP/socket/reassembly tables, counters,
 * plus a per-typed-array overhead for Espruino (each typed array is an
 * object + ArrayBuffer + flat-string header: about 3 JsVars = 48 bytes).
 * It is an estimate from the config alone (no Stack is built), so it runs
 * on the board too; test/unit/boards.test.ts checks it, and a measurement
 * of a real Stack built in Node, against each board's stackRamBudget.
 *
 * Portable and allocation-light: may be part of the Espruino bundle.
 */
import { StackConfig, makeConfig } from '../src/config';
import type { Board, BoardFeatures } from './board';
import { host } from './host';
import { espruinoPicoEnc28j60 } from './espruino-pico-enc28j60';
import { espruinoWifiW5500 } from './espruino-wifi-w5500';
import { espruinoOriginalEnc28j60 } from './espruino-original-enc28j60';
import { espruinoEsp32W5500 } from './espruino-esp32-w5500';

export type { Board, BoardFeatures, EthChip, SpiWiring } from './board';
export { host, espruinoPicoEnc28j60, espruinoWifiW5500, espruinoOriginalEnc28j60, espruinoEsp32W5500 };

export const BOARDS: Board[] = [host, espruinoPicoEnc28j60, espruinoWifiW5500, espruinoOriginalEnc28j60, espruinoEsp32W5500];

/** The board with this id, or null. */
export function findBoard(id: string): Board | null {
  for (let i = 0; i < BOARDS.length; i++) if (BOARDS[i].id === id) return BOARDS[i];
  return null;
}

/** The full StackConfig of a board (defaults + its overrides). */
export function boardConfig(b: Board): StackConfig {
  const cfg = makeConfig(b.config);
  applyFeatureConfig(cfg, b.features);
  return cfg;
}

/**
 * The config a board's bundle really runs with: tables that only a
 * compiled-out feature would use are sized 0 (the same rule as
 * createStackFor in src/espruino_board.ts, which sees the constants).
 */
export function applyFeatureConfig(cfg: StackConfig, f: BoardFeatures | undefined): void {
  if (f === undefined) return;
  if (f.reassembly === false) cfg.reasmSlots = 0;
  if (f.reassembly === false && f.fragmentOut === false) cfg.skbLargeCount = 0;
  if (f.tcp === false) {
    cfg.tcpMaxSockets = 0;
    cfg.tcpSynQueue = 0;
    cfg.tcpTimeWaitSlots = 0;
  }
}

/** Bytes of Espruino bookkeeping per typed array (object + ArrayBuffer + flat string header). */
export const TYPED_ARRAY_OVERHEAD = 48;

/* counters: Ip 21, Icmp 21, Udp 9, Link 22, Raw 5 (src/core/mib.ts), room for Tcp/TcpExt */
const MIB_COUNTERS = 21 + 21 + 9 + 22 + 5 + 64;
const DEV_COUNTERS = 9;

export interface RamItem {
  what: string;
  bytes: number;
}

/** Itemised static RAM of a stack built from cfg (bytes). */
export function estimateStaticRamItems(cfg: StackConfig): RamItem[] {
  const o = TYPED_ARRAY_OVERHEAD;
  const nSkb = cfg.skbSmallCount + cfg.skbLargeCount;
  const items: RamItem[] = [];
  items.push({ what: 'skb small buffers', bytes: cfg.skbSmallCount * (cfg.skbSmallSize + o) });
  items.push({ what: 'skb large buffers', bytes: cfg.skbLargeCount * (cfg.skbLargeSize + o) });
  // data tail nh th dev proto next cb0..cb3: 11 Int32Array; used: Uint8Array
  items.push({ what: 'skb metadata', bytes: nSkb * (11 * 4 + 1) + 12 * o });
  items.push({ what: 'rx ring', bytes: cfg.rxRingSize * 4 + o });
  // per device: MAC, counters (Float64), qdisc object
  items.push({ what: 'devices', bytes: cfg.maxDevices * (6 + DEV_COUNTERS * 8 + 2 * o + 64) });
  // args nextT prevT slotOf Int32 + expires Float64 per timer; slot heads Int32
  items.push({ what: 'timer wheel', bytes: cfg.timerMax * (4 * 4 + 8) + cfg.timerSlots * 4 + 6 * o });
  items.push({ what: 'counters', bytes: MIB_COUNTERS * 8 + 6 * o });
  // addr mask prefix dev (Int32; addresses are s32, src/core/inaddr.ts)
  items.push({ what: 'interface addresses', bytes: cfg.ipAddrMax * (4 + 4 + 4 + 4) + 4 * o });
  // dst mask gw prefsrc prefix dev metric (Int32)
  items.push({ what: 'routes', bytes: cfg.routeTableSize * (7 * 4) + 7 * o });
  // ip (Int32), mac (6), state/flags/timer/retries/queue head+tail/dev (Int32 x 7), updated (Float64)
  items.push({ what: 'arp table', bytes: cfg.arpTableSize * (4 + 6 + 7 * 4 + 8) + 10 * o });
  // per slot: key fields + timer + fragment offsets/ends (Int32 x 2 per fragment)
  items.push({ what: 'reassembly', bytes: cfg.reasmSlots * (48 + cfg.reasmMaxFrags * 8) + 8 * o });
  items.push({ what: 'netfilter hooks', bytes: 5 * cfg.nfHookSlots * 8 + o });
  // per socket: ~16 Int32/Float64 fields and a receive queue object
  items.push({ what: 'sockets', bytes: cfg.maxSockets * (16 * 8 + 48) + 16 * o });
  // TCP: per TCB a send ring and a receive ring plus ~40 numeric fields and the
  // out-of-order / SACK ranges; request socks and TIME_WAIT minisocks (~8 fields each)
  const c = cfg as unknown as { [k: string]: number };
  const tcbs = c.tcpMaxSockets !== undefined ? c.tcpMaxSockets : 0;
  if (tcbs > 0) {
    const ooo = c.tcpOooRanges !== undefined ? c.tcpOooRanges : 0;
    items.push({ what: 'tcp rings', bytes: tcbs * (c.tcpSndBuf + c.tcpRcvBuf + 2 * o) });
    items.push({ what: 'tcp control blocks', bytes: tcbs * (40 * 8 + ooo * 4 * 8) + 48 * o });
    items.push({ what: 'tcp request/time-wait socks', bytes: (c.tcpSynQueue + c.tcpTimeWaitSlots) * 8 * 8 + 16 * o });
  }
  return items;
}

/** Estimated static RAM (bytes) of a stack built from cfg. */
export function estimateStaticRam(cfg: StackConfig): number {
  const items = estimateStaticRamItems(cfg);
  let s = 0;
  for (let i = 0; i < items.length; i++) s += items[i].bytes;
  return s;
}

/**
 * JsVars of createBoardStack in Espruino, estimated from the config: the
 * typed arrays' bytes are flat storage, about (blocksize - 1.5) bytes a
 * JsVar (measured in 2v29: a 1600-byte Uint8Array takes ~140 JsVars of 13
 * bytes with its header), and the Stack's object graph (its layer objects,
 * their properties and the typed-array headers) a fixed share: measured
 * in the board-sized interpreters, `npm run budget` checks this estimate
 * against the measurement (within 10%).
 */
export function estimateStackJsVars(cfg: StackConfig, blocksize: number): number {
  const flat = Math.ceil(estimateStaticRam(cfg) / (blocksize - 1.5));
  return flat + STACK_OBJECT_JSVARS + (cfg.tcpMaxSockets > 0 ? TCP_OBJECT_JSVARS : 0);
}

/** JsVars of the Stack's object graph without TCP (measured: Pico, WiFi, Original bundles, 2v29) */
export const STACK_OBJECT_JSVARS = 990;
/** ... and what TCP's state objects add beyond their typed arrays: none measurable (the ESP32 bundle, with TCP, is within 5% without it) */
export const TCP_OBJECT_JSVARS = 0;

/** Estimated static RAM of a board's stack. */
export function boardStaticRam(b: Board): number {
  return estimateStaticRam(boardConfig(b));
}
