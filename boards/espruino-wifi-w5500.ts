/*
 * espruino-wifi-w5500.ts — Espruino WiFi with a WIZnet W5500 module on
 * SPI2, used in MACRAW mode (socket 0) so slabnet does the TCP/IP, not the
 * chip's hardwired stack.
 *
 * Figures from the Espruino firmware board file boards/ESPRUINOWIFI.py
 * (github.com/espruino/Espruino, commit 27d9572c): part STM32F411CEU6,
 * 'ram': 128 (KB), 'flash': 512 (KB), 'variables': 8190 in 2v29 (RELEASE_2V29),
 * saved_code 1 page x 65536 bytes at 0x08010000 (64 KB for saved
 * JavaScript). JsVars are 13 bytes in that build (13-bit references; the
 * board-sized interpreter of ../shared/espruino reports blocksize 13):
 * 8190 x 13 = 104 KB of the 128 KB RAM.
 *
 * Wiring (ours): SPI2 on PB13 SCK, PB14 MISO, PB15 MOSI (left header);
 * CS B10, INT B1 (active low), RESET A10. SPI at 12 MHz (APB1 is 50 MHz on
 * the F411, 50/4 = 12.5 MHz; the W5500 is specified to 33.3 MHz
 * guaranteed, 80 MHz nominal). The W5500's own 16 KB RX buffer absorbs
 * bursts, so fewer skbs are needed than its 32 KB of socket memory suggests.
 *
 * Memory, as measured in the board-sized interpreter (`npm run budget`):
 * the bundle's module costs ~2,800 JsVars with its code in flash, and
 * each 1600-byte skb ~126; a fitting board leaves 25% (2,048) of its
 * 8,190 JsVars to the user. Pools: 6 small skbs of 1600 bytes (the
 * W5500's own 16 KB RX buffer absorbs bursts) and 1 large skb of 4224
 * bytes: one reassembly at a time of a datagram up to 4096 bytes. TCP
 * (not in this board's bundle yet): 3 connections with 4 KB rings.
 */
import type { Board } from './board';

export const espruinoWifiW5500: Board = {
  id: 'espruino-wifi-w5500',
  name: 'Espruino WiFi + W5500 (MACRAW)',
  mcu: 'STM32F411CEU6',
  chip: 'w5500',
  spi: { bus: 'SPI2', sck: 'B13', miso: 'B14', mosi: 'B15', baud: 12000000 },
  csPin: 'B10',
  intPin: 'B1',
  resetPin: 'A10',
  ramBytes: 128 * 1024,
  flashBytes: 512 * 1024,
  jsVars: 8190,
  jsVarBytes: 13,
  codeFlashBytes: 65536,
  stackRamBudget: 72 * 1024,
  config: {
    skbSmallCount: 6,
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
    arpQueueLen: 3,
    routeTableSize: 4,
    ipAddrMax: 2,
    reasmSlots: 1,
    reasmMaxBytes: 4096,
    reasmMaxFrags: 16,
    nfHookSlots: 2,
    maxSockets: 8,
    sockRcvQueueLen: 4,
    sockRcvBufBytes: 8192,
    tcpMaxSockets: 3,
    tcpSndBuf: 4096,
    tcpRcvBuf: 4096,
    tcpSynQueue: 4,
    tcpAcceptQueue: 4,
    tcpTimeWaitSlots: 4,
    tcpWindowScaling: false,
    tcpInitCwndSegs: 3,
    tcpOooRanges: 3,
  },
  // Espruino bundle (npm run build): one device, so no forwarding; no
  // netfilter, raw sockets, errno names or ARP dump. Keeps reassembly,
  // fragmentation, the dgram facade and the UDP echo/discard services.
  features: {
    forward: false,
    netfilter: false,
    raw: false,
    errnoNames: false,
    arpDump: false,
    // TCP minifies to ~39 KB: with it the bundle is ~98 KB against this
    // board's 64 KB saved-code area. UDP/ICMP only until TCP is trimmed
    // or loaded from Storage (see the issue notes).
    tcp: false,
    // DHCP client and DNS resolver: not yet (the 64 KB flash must keep 4 KB for the user: ~6 KB left; issue: the boards it is for)
    dhcp: false,
    dns: false,
  },
  // the compact stack (src/compact/, issue 8), its bundle dist/espruino/<id>.min.js:
  // profile full (TCP, DHCP, DNS, NetworkJS, the W5500 MACRAW driver), 4 TCP blocks
  // with 2 KB rings each way, 2 NetworkJS UDP sockets of a full 1472-byte datagram.
  // The general stack's bundle with TCP (~150 KB) cannot fit the 64 KB area.
  compact: { profile: 'full', config: { arpSize: 8, tcbs: 4, tcpBuf: 2048, udpSocks: 2, udpBuf: 1472 } },
};
