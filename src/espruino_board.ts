/*
 * espruino_board.ts — the API of a per-board Espruino bundle
 * (`npm run build` → dist/espruino/<board id>.min.js). Not on the packet
 * path. scripts/build-espruino.js wraps this module in a small generated
 * entry that adds, for one board: `BOARD` (its description), its chip
 * driver (drivers/<chip>/driver.ts, when present), `createBoardStack`,
 * and the optional pieces its features enable (dgram facade, UDP
 * echo/discard services, errnoName, arpDump). The generic bundle (src/espruino.ts →
 * dist/espruino/slabnet.min.js) exports everything for every board.
 *
 * What is here is the minimum a board program needs: the Stack, the
 * device layer a driver registers with, address and route configuration
 * (ifconfig), ICMP echo (icmpPing), the zero-allocation socket API and
 * the Espruino SPI/IRQ adapters the drivers run on.
 *
 *   const net = require('espruino-pico-enc28j60');   // the uploaded module
 *   const st = net.createBoardStack(null, null);     // this board, Espruino clock
 *   setInterval(function () { st.poll(); }, 10);
 */
import { Stack } from './stack';
import { StackConfig, makeConfig } from './config';
import { Clock } from './core/clock';
import { FEATURE_REASSEMBLY, FEATURE_FRAGMENT_OUT, FEATURE_TCP } from './features';
import type { Board } from '../boards/board';

/* Espruino built-in: seconds since power-on, as a float. */
declare function getTime(): number;

/** Espruino's clock: milliseconds from getTime(). */
export class EspruinoClock implements Clock {
  now(): number {
    return getTime() * 1000;
  }
}

/**
 * Build a Stack for board b with its config plus `over` (or null). `id`
 * may be null, b's id or b itself (so programs written for the generic
 * bundle's createBoardStack(id, over, clock) run unchanged); any other
 * id gives null. The clock defaults to Espruino's getTime(). With
 * reassembly compiled out, reasmSlots is 0, and skbLargeCount too when
 * output fragmentation is also out (before `over` applies).
 * Configuration time only: allocates everything.
 */
export function createStackFor(b: Board, id: string | Board | null, over: Partial<StackConfig> | null, clock: Clock | undefined): Stack | null {
  if (id !== null && id !== undefined && id !== b && id !== b.id) return null;
  const cfg = makeConfig(b.config);
  // compiled out (src/features.ts): no slot or large skb would ever be used
  if (!FEATURE_REASSEMBLY) cfg.reasmSlots = 0;
  if (!FEATURE_REASSEMBLY && !FEATURE_FRAGMENT_OUT) cfg.skbLargeCount = 0;
  if (!FEATURE_TCP) {
    cfg.tcpMaxSockets = 0;
    cfg.tcpSynQueue = 0;
    cfg.tcpTimeWaitSlots = 0;
  }
  if (over !== null && over !== undefined) {
    const src = over as { [k: string]: unknown };
    const dst = cfg as unknown as { [k: string]: unknown };
    for (const k in src) if (src[k] !== undefined) dst[k] = src[k];
  }
  return new Stack(b.id, cfg, clock !== undefined ? clock : new EspruinoClock(), undefined);
}

export { Stack, makeConfig };
export type { StackConfig, Clock, Board };
export { EV_READABLE, EV_WRITABLE, EV_CONNECTED, EV_CLOSED, EV_ERROR } from './stack';
export { SKB_NONE } from './core/skb';
export { registerNetdev, devOpen, devClose, rxFrame, devTxComplete, getDev } from './link/dev';
export { NETDEV_TX_OK, NETDEV_TX_BUSY } from './link/netdev';
export { parseMac, formatMac } from './link/ether';
export { parseIp, formatIp } from './link/ifaddr';
export { ifconfig, ipRouteAdd, ipSetDefaultGateway } from './ipv4/devinet';
export { icmpPing } from './ipv4/icmp';
export type { IcmpEchoHandler } from './ipv4/icmp';
export {
  socket, bind, connect, sendto, send, recvfrom, recv, recvLen, close, setsockopt, getsockopt,
  getsockname, getpeername, poll, sockErr,
} from './socket/socket';
export {
  SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW,
  SOL_SOCKET, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SOL_IP, IP_TOS, IP_TTL,
  IP_HDRINCL, INADDR_ANY, INADDR_BROADCAST,
} from './socket/sock';
export { EventMux, eventMux } from './socket/events';
export { EspruinoSpiBus, EspruinoIrqLine, espruinoSpiBus, espruinoIrqLine } from '../drivers/espruino/spi';
export type { SpiBus, IrqLine } from '../drivers/spi';
