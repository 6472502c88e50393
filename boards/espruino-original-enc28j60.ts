/*
 * espruino-original-enc28j60.ts — the Original Espruino board (rev 1.3/1.4)
 * with an ENC28J60 module on SPI1.
 *
 * Figures from the Espruino firmware board file boards/ESPRUINOBOARD.py
 * (github.com/espruino/Espruino, commit 0a63c069): part STM32F103RCT6,
 * 'ram': 48 (KB), 'flash': 256 (KB), 'variables': 2756, saved_code 10 pages
 * x 2048 bytes (20 KB for saved JavaScript). JsVars are 13 bytes in the
 * 2v29 build (the board-sized interpreter of ../shared/espruino reports
 * blocksize 13): 2756 x 13 = 35 KB of the 48 KB RAM.
 *
 * Wiring (ours): SPI1 on its STM32F103 default pins PA5 SCK, PA6 MISO,
 * PA7 MOSI (bottom header); CS B0, INT B1, RESET B10. SPI at 9 MHz (APB2
 * 72 MHz / 8; >= 8 MHz per the ENC28J60 errata).
 *
 * Memory: this is the tight one. It ships the compact stack's tiny profile
 * (no TCP; `compact` below): 2 NetworkJS UDP sockets of one 548-byte
 * datagram each, a 4-entry ARP table, the two 1514-byte frame buffers.
 * `config` and `features` describe the general stack on this board (the
 * generic bundle's createBoardStack and the static estimate use them):
 * 5 small skbs, no large one, no reassembly, one TCP connection with 1 KB
 * rings; its bundle (48 KB, module ~2,150 JsVars) could never fit here.
 */
import type { Board } from './board';

export const espruinoOriginalEnc28j60: Board = {
  id: 'espruino-original-enc28j60',
  name: 'Original Espruino + ENC28J60',
  mcu: 'STM32F103RCT6',
  chip: 'enc28j60',
  spi: { bus: 'SPI1', sck: 'A5', miso: 'A6', mosi: 'A7', baud: 9000000 },
  csPin: 'B0',
  intPin: 'B1',
  resetPin: 'B10',
  ramBytes: 48 * 1024,
  flashBytes: 256 * 1024,
  jsVars: 2756,
  jsVarBytes: 13,
  codeFlashBytes: 10 * 2048,
  stackRamBudget: 22 * 1024,
  config: {
    skbSmallCount: 5,
    skbSmallSize: 1600,
    skbLargeCount: 0,
    skbLargeSize: 0,
    skbHeadroom: 64,
    maxDevices: 1,
    rxRingSize: 4,
    napiBudget: 4,
    txQueueLen: 4,
    timerMax: 24,
    timerSlots: 16,
    timerTickMs: 20,
    arpTableSize: 4,
    arpQueueLen: 1,
    routeTableSize: 2,
    ipAddrMax: 1,
    reasmSlots: 0,
    reasmMaxBytes: 0,
    reasmMaxFrags: 0,
    nfHookSlots: 1,
    maxSockets: 4,
    sockRcvQueueLen: 2,
    sockRcvBufBytes: 2048,
    tcpMaxSockets: 1,
    tcpSndBuf: 1024,
    tcpRcvBuf: 1024,
    tcpSynQueue: 1,
    tcpAcceptQueue: 1,
    tcpTimeWaitSlots: 1,
    tcpWindowScaling: false,
    tcpSack: false,
    tcpInitCwndSegs: 1,
    tcpOooRanges: 1,
  },
  // The general stack's bundle (features below) was 48 KB against 20 KB and
  // did not come up in 2,756 JsVars: this board ships the compact stack's
  // tiny profile instead (`compact` below, src/compact/, issue 8). Measured
  // (`npm run budget`, espruino_v2756 from Storage): ~16.25 KB of 20 KB
  // (issue 8's goal 16 KB: about 130 bytes to spare), peak ~1,330 JsVars
  // after ping and UDP (goal 1,400).
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
    tcp: false,
    mibNames: false,
    // DHCP client and DNS resolver: not yet (no room at all; issue: the boards it is for)
    dhcp: false,
    dns: false,
  },
  // the compact stack (src/compact/, issue 8), its bundle dist/espruino/<id>.min.js:
  // profile tiny (no TCP), 2 NetworkJS UDP sockets
  // no setup(): with it (+3.6 KB, measured by npm run build) the tiny bundle is 20,013 of the
  // 20,480 bytes of saved-code flash, over issue 8's 16 KB and leaving no room for a program
  compact: {
    profile: 'tiny',
    config: { arpSize: 4, tcbs: 0, udpSocks: 2, udpBuf: 548 },
    noSetup: 'its 20 KB saved-code area: the tiny bundle with setup() is 20,013 bytes, over issue 8\'s 16 KB, leaving ~0.5 KB for a program',
  },
};
