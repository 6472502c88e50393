/*
 * espruino-esp32-w5500.ts — an ESP32 module with PSRAM (ESP32-WROVER-B /
 * -E, e.g. on an ESP32-DevKitC-VE) running the Espruino ESP32 firmware,
 * with a WIZnet W5500 module on the VSPI bus, used in MACRAW mode
 * (socket 0) so slabnet does the TCP/IP. The first board here that runs
 * TCP: its Storage area holds the whole bundle with TCP compiled in.
 *
 * Figures from the Espruino firmware board file boards/ESP32_IDF4.py
 * (github.com/espruino/Espruino, commit fc43e3a3; the older IDF3 file
 * boards/ESP32.py, commit 0054b39c, has the same 64 x 4096 saved_code
 * area, at 0x2C0000, but 'variables': 2500): part ESP32, 'ram': 512
 * (KB), 'flash': 0 (external SPI flash: 4 MB on the module,
 * CONFIG_ESPTOOLPY_FLASHSIZE="4MB" in targets/esp32/IDF4/sdkconfig),
 * 'variables': 16383 with JSVAR_MALLOC, saved_code 64 pages x 4096 bytes
 * at 0x320000 (256 KB of Storage for saved JavaScript),
 * 'flash_available': 1344 (KB of firmware). The file's own table: 16383
 * JsVars -> 14 bytes per JsVar (16383 x 14 = 224 KB). 'variables' is a
 * ceiling: targets/esp32/main.c allocates (free heap at boot -
 * ESP_HEAP_SIZE 40000) / sizeof(JsVar) JsVars, capped at
 * 2^JSVARREF_BITS - 1 = 16383. With 4 MB of PSRAM in the heap the cap is
 * reached (Espruino forum, espruino/Discussion #7422: a PSRAM board adds
 * "up to another 16K JsVars"). On a WROOM-32 (no PSRAM) the same formula
 * gives only ~4,800 JsVars (~66 KB: a 2026 bench report on a classic
 * ESP32, IDF5 build with 70 KB reserved, saw 2,771 x 14-byte JsVars at
 * 68,420 bytes of free heap): too little for this config; use a WROVER,
 * or shrink tcpMaxSockets, the rings and the skb pool.
 *
 * Wiring (ours): SPI2 = VSPI in Espruino's ESP32 port (SPI1 = HSPI,
 * targets/esp32/jshardwareSpi.c) on its IO_MUX pins D18 SCK, D19 MISO,
 * D23 MOSI; CS D5 (the VSPI SS pin, driven as a GPIO); INT D21 (active
 * low; a pin jshCanWatch accepts for setWatch in targets/esp32/jshardware.c);
 * RESET D22. SPI at 20 MHz: the 80 MHz APB / 4, inside the W5500's 33.3 MHz
 * guaranteed SCLK and under the ESP32's 26.7 MHz limit for full-duplex
 * reads through the GPIO matrix (should the pins ever be re-routed).
 *
 * Memory: the JsVar area is 16383 x 14 = 229,362 bytes. Measured in the
 * board-sized interpreter (`npm run budget`): the bundle's module costs
 * ~4,500 JsVars with its code in flash (the 'storage' partition is
 * memory-mapped, main.c) and this config's stack ~6,000; with the peak of
 * the traffic of `npm run test:espruino` (Espruino's own http/net objects
 * per connection included) that leaves more than the 25% (4,096 JsVars)
 * a fitting board keeps for the user's program. Pools: 10 small skbs of
 * 1600 bytes and 1 large skb of 4224 bytes (one reassembly at a time of a
 * datagram up to 4096 bytes). TCP: 3 TCBs with 4 KB send and receive
 * rings (no window scaling: the window fits 16 bits), SACK on, 3
 * out-of-order ranges. The W5500's 16 KB RX buffer
 * (MACRAW socket 0) absorbs bursts between polls. Static RAM of this
 * config (typed-array bytes, boards/index.ts) is checked against the 96 KB
 * budget by test/unit/boards.test.ts.
 */
import type { Board } from './board';

export const espruinoEsp32W5500: Board = {
  id: 'espruino-esp32-w5500',
  name: 'Espruino ESP32 (WROVER, PSRAM) + W5500 (MACRAW)',
  mcu: 'ESP32-D0WD (ESP32-WROVER-B/E)',
  chip: 'w5500',
  spi: { bus: 'SPI2', sck: 'D18', miso: 'D19', mosi: 'D23', baud: 20000000 },
  csPin: 'D5',
  intPin: 'D21',
  resetPin: 'D22',
  ramBytes: 512 * 1024,
  flashBytes: 4 * 1024 * 1024,
  jsVars: 16383,
  jsVarBytes: 14,
  codeFlashBytes: 64 * 4096,
  stackRamBudget: 96 * 1024,
  config: {
    skbSmallCount: 10,
    skbSmallSize: 1600,
    skbLargeCount: 1,
    skbLargeSize: 4096 + 128,
    skbHeadroom: 64,
    maxDevices: 1,
    rxRingSize: 16,
    napiBudget: 8,
    txQueueLen: 8,
    timerMax: 64,
    timerSlots: 64,
    timerTickMs: 10,
    arpTableSize: 8,
    arpQueueLen: 3,
    routeTableSize: 4,
    ipAddrMax: 2,
    reasmSlots: 1,
    reasmMaxBytes: 4096,
    reasmMaxFrags: 16,
    nfHookSlots: 1,
    maxSockets: 12,
    sockRcvQueueLen: 6,
    sockRcvBufBytes: 8192,
    tcpMaxSockets: 3,
    tcpSndBuf: 4096,
    tcpRcvBuf: 4096,
    tcpSynQueue: 4,
    tcpAcceptQueue: 4,
    tcpTimeWaitSlots: 4,
    tcpWindowScaling: false,
    tcpSack: true,
    tcpInitCwndSegs: 3,
    tcpOooRanges: 3,
  },
  // Espruino bundle (npm run build → dist/espruino/espruino-esp32-w5500.min.js):
  // TCP ON (SOCK_STREAM calls, the net facade, the NetworkJS adapter) and
  // the UDP echo/discard services; reassembly, fragmentation and the dgram
  // facade kept (256 KB of Storage has room). One device: no forwarding;
  // no netfilter, raw sockets, errno names or ARP dump (debug aids).
  features: {
    forward: false,
    netfilter: false,
    raw: false,
    errnoNames: false,
    arpDump: false,
    udpServices: true,
    tcp: true,
    // RACK-TLP (FEATURE_TCP_RACK) off: its per-TCB records and state (~25 typed
    // arrays) cost more JsVars than the 83 this bundle's peak leaves above the
    // 4,096 floor, and 4 KB send buffers keep ~3 segments in flight, where
    // DupThresh/RFC 6675 recovery (with the receiver's quick ACKs) does nearly as well.
    // Without it the peak leaves 4,141 JsVars (npm run budget, 2026-12-08)
    tcpRack: false,
  },
  budgetNote:
    'Storage (256 KB) is shared with the user program and a save() image; the bundle leaves the rest',
};
