/*
 * board.ts — the shape of a board description (data only). One file per
 * board in boards/ exports a Board; boards/index.ts lists them.
 *
 * A board says which Ethernet chip hangs off which SPI pins, how much
 * memory the microcontroller has, how much of it the stack may take, and
 * the StackConfig overrides (pool sizes) that fit that budget. The
 * budgets are checked by test/unit/boards.test.ts (static RAM) and by
 * `npm run build` (bundle size against codeFlashBytes).
 */
import type { StackConfig } from '../src/config';
import type { CompactConfig } from '../src/compact/net';

export type EthChip = 'enc28j60' | 'w5500' | 'host';

export interface SpiWiring {
  /** Espruino SPI peripheral name ('SPI1', 'SPI2', ...) */
  bus: string;
  sck: string;
  miso: string;
  mosi: string;
  /** SPI clock in Hz */
  baud: number;
}

export interface Board {
  /** short id, also the file name */
  id: string;
  /** human name */
  name: string;
  /** microcontroller part number */
  mcu: string;
  /** Ethernet chip driven over SPI ('host' = PC, frames through a host transport or the simulation) */
  chip: EthChip;
  /** SPI wiring; null on the host */
  spi: SpiWiring | null;
  /** chip-select, interrupt and reset pins (Espruino pin names; '' when not wired) */
  csPin: string;
  intPin: string;
  resetPin: string;
  /** microcontroller RAM and flash (bytes) */
  ramBytes: number;
  flashBytes: number;
  /** Espruino JsVars in the firmware build, and bytes per JsVar */
  jsVars: number;
  jsVarBytes: number;
  /** flash area for saved JavaScript (Storage): the bundle must fit; 0 = no limit */
  codeFlashBytes: number;
  /** bytes of RAM the stack's static allocation may use (typed arrays + objects) */
  stackRamBudget: number;
  /** StackConfig overrides for this board */
  config: Partial<StackConfig>;
  /**
   * Compile-time features of this board's Espruino bundle (src/features.ts;
   * a key is the FEATURE_ name in camelCase: forward = FEATURE_FORWARD,
   * fragmentOut = FEATURE_FRAGMENT_OUT). Missing keys are on. Applied by
   * `npm run build` (scripts/build-espruino.js); Node, tests and Lua get all.
   */
  features?: BoardFeatures;
  /**
   * `npm run build` fails when this board's bundle exceeds codeFlashBytes.
   * Only a board that cannot fit with reasonable features off may set
   * false, and it must say why in budgetNote (printed by the build).
   */
  enforceBudget?: boolean;
  /** why the budget is not enforced, or any note about the board's bundle size */
  budgetNote?: string;
  /**
   * Why this board cannot fit yet (flash or JsVars, as `npm run budget`
   * measures them in its board-sized Espruino build). Absent: the board
   * must fit, with FLASH_LEFT bytes and JSVARS_LEFT of its JsVars left for
   * the user (scripts/boards-load.js), or `npm run budget` and
   * `npm run test:espruino` fail.
   */
  cannotFitYet?: string;
  /**
   * The compact stack (src/compact/) for this small board: `npm run build`
   * makes dist/espruino/<id>.full.min.js (ARP, IPv4, ICMP, UDP, TCP, DHCP,
   * DNS, NetworkJS, the chip driver) and <id>.tiny.min.js (the same
   * without TCP); `profile` is the one the board uses by default. Absent:
   * the board has the general stack's bundle only.
   */
  compact?: CompactBoard;
}

export interface CompactBoard {
  profile: 'full' | 'tiny';
  config: Partial<CompactConfig>;
  /**
   * Why the bundle has no setup() (src/compact/setup.ts, ~3.6 KB): absent,
   * it has. Programs for such a board use the lower API (src/compact/board.ts).
   */
  noSetup?: string;
}

/** Per-board compile-time features (src/features.ts); absent = on. */
export interface BoardFeatures {
  forward?: boolean;
  netfilter?: boolean;
  raw?: boolean;
  reassembly?: boolean;
  fragmentOut?: boolean;
  dgramFacade?: boolean;
  errnoNames?: boolean;
  arpDump?: boolean;
  udpServices?: boolean;
  tcp?: boolean;
  /** MIB counter names (FEATURE_MIB_NAMES); off: generic "c0", "c1", ... */
  mibNames?: boolean;
  /** DHCP client (FEATURE_DHCP) */
  dhcp?: boolean;
  /** DNS stub resolver (FEATURE_DNS) */
  dns?: boolean;
  /** TCP SACK (FEATURE_TCP_SACK); off: NewReno only */
  tcpSack?: boolean;
  /** TCP RACK-TLP loss detection and recovery undo (FEATURE_TCP_RACK); off: RFC 6675 DupThresh recovery */
  tcpRack?: boolean;
  /** TCP timestamps (FEATURE_TCP_TIMESTAMPS); off: no TSopt, Karn RTT sampling */
  tcpTimestamps?: boolean;
  /** TCP window scaling (FEATURE_TCP_WSCALE); off: windows at most 65535 */
  tcpWscale?: boolean;
  /** TCP out-of-order queue (FEATURE_TCP_OOO); off: out-of-order segments dropped, duplicate ACK */
  tcpOoo?: boolean;
  /** TCP SYN cookies (FEATURE_TCP_SYNCOOKIES); off: SYN queue full drops the SYN */
  tcpSyncookies?: boolean;
  /** TCP keep-alives (FEATURE_TCP_KEEPALIVE); off: SO_KEEPALIVE is ENOPROTOOPT */
  tcpKeepalive?: boolean;
  /** TCP path MTU discovery (FEATURE_TCP_PMTU); off: DF clear */
  tcpPmtu?: boolean;
}
