/*
 * espruino-pico-enc28j60.ts — Espruino Pico (rev 1.3) with a Microchip
 * ENC28J60 module on SPI2.
 *
 * Figures from the Espruino firmware board file boards/PICO_R1_3.py
 * (github.com/espruino/Espruino, commit 0a63c069): part STM32F401CDU6,
 * 'ram': 96 (KB), 'flash': 384 (KB), 'variables': 5100, saved_code 3 pages
 * x 16384 bytes at 0x08004000 (48 KB for saved JavaScript). JsVars are 13
 * bytes in the 2v29 build (the board-sized interpreter of ../shared/espruino
 * reports blocksize 13): 5100 x 13 = 66 KB of the 96 KB RAM.
 *
 * Wiring (ours): SPI2 on its STM32F401 alternate-function pins PB13 SCK,
 * PB14 MISO, PB15 MOSI; CS B10, INT B1 (active low, falling edge), RESET A8.
 * SPI at 10 MHz: the ENC28J60 accepts up to 20 MHz, and its silicon errata
 * (DS80349) ask for >= 8 MHz for reliable MAC/MII register writes; SPI2
 * sits on the 42 MHz APB1 of the F401, so Espruino picks 42/4 = 10.5 MHz.
 *
 * Memory: the stack may use 44 KB of the 66 KB JsVar area (about 2800
 * JsVars; typed arrays are flat storage). Pools: 5 small skbs of
 * 1600 bytes (64 headroom + 14 + 1500 MTU + spare) and ONE large skb of
 * 4224 bytes, so IP reassembly (which needs a large skb per slot) is
 * limited to one datagram of at most 4096 bytes at a time. TCP: 3
 * connections with 2 KB send and receive rings (no window scaling needed).
 */
import type { Board } from './board';

export const espruinoPicoEnc28j60: Board = {
  id: 'espruino-pico-enc28j60',
  name: 'Espruino Pico + ENC28J60',
  mcu: 'STM32F401CDU6',
  chip: 'enc28j60',
  spi: { bus: 'SPI2', sck: 'B13', miso: 'B14', mosi: 'B15', baud: 10000000 },
  csPin: 'B10',
  intPin: 'B1',
  resetPin: 'A8',
  ramBytes: 96 * 1024,
  flashBytes: 384 * 1024,
  jsVars: 5100,
  jsVarBytes: 13,
  codeFlashBytes: 3 * 16384,
  stackRamBudget: 44 * 1024,
  config: {
    // 5, not 8: each 1600-byte skb is ~142 JsVars in the interpreter; with 8 the
    // module and the default stack did not come up in the Pico's 5,100 JsVars
    // (the ENC28J60 buffers 8 KB of received frames itself, so a burst waits
    // in the chip, not in skbs)
    skbSmallCount: 5,
    skbSmallSize: 1600,
    skbLargeCount: 1,
    skbLargeSize: 4096 + 128,
    skbHeadroom: 64,
    maxDevices: 1,
    rxRingSize: 8,
    napiBudget: 4,
    txQueueLen: 6,
    timerMax: 32,
    timerSlots: 32,
    timerTickMs: 10,
    arpTableSize: 8,
    arpQueueLen: 2,
    routeTableSize: 4,
    ipAddrMax: 2,
    reasmSlots: 1,
    reasmMaxBytes: 4096,
    reasmMaxFrags: 16,
    nfHookSlots: 2,
    maxSockets: 8,
    sockRcvQueueLen: 4,
    sockRcvBufBytes: 4096,
    tcpMaxSockets: 3,
    tcpSndBuf: 2048,
    tcpRcvBuf: 2048,
    tcpSynQueue: 2,
    tcpAcceptQueue: 2,
    tcpTimeWaitSlots: 3,
    tcpWindowScaling: false,
    tcpInitCwndSegs: 2,
    tcpOooRanges: 2,
  },
  // The general stack's bundle for this board (features below) was 48 KB
  // without TCP and did not fit the 5,100 JsVars (module ~2,110 + stack
  // ~2,570): this board ships the compact stack instead (`compact` below,
  // src/compact/, issue 8). `config` and `features` describe the general
  // stack on this board: the generic bundle's createBoardStack and the
  // static estimate use them.
  features: {
    forward: false,
    netfilter: false,
    raw: false,
    reassembly: false,
    fragmentOut: false,
    dgramFacade: false,
    errnoNames: false,
    arpDump: false,
    udpServices: false,
    // TCP minifies to ~39 KB: with it the bundle is ~87 KB against this
    // board's 48 KB saved-code area. UDP/ICMP only until TCP is trimmed
    // or loaded from Storage (see the issue notes).
    tcp: false,
    // MIB counter names (~1.2 KB of strings): the counters stay, at the same
    // indexes, and read out as "c0", "c1", ... (src/core/mib.ts nameOf)
    mibNames: false,
    // DHCP client and DNS resolver: not yet (the 48 KB flash has ~1 KB left; issue: the boards it is for)
    dhcp: false,
    dns: false,
  },
  // the compact stack (src/compact/, issue 8), its bundle dist/espruino/<id>.min.js:
  // profile full (TCP, DHCP, DNS, NetworkJS, the ENC28J60 driver), 3 TCP blocks with
  // 1 KB rings each way (a listener and two connections; MSS and window 1024), 2
  // NetworkJS UDP sockets. Measured (npm run budget, espruino_v5100 from Storage):
  // module ~880 + stack ~1,030 JsVars, peak ~2,380 after ping, TCP and http.get
  // (1.5 KB rings: ~2,600, over issue 8's 2,500)
  compact: { profile: 'full', config: { arpSize: 4, tcbs: 3, tcpBuf: 1024, udpSocks: 2, udpBuf: 548 } },
};
