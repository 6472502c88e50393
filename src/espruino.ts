/*
 * espruino.ts — the entry of the Espruino bundle (`npm run build` →
 * dist/espruino/slabnet.min.js, checked by scripts/check-espruino.js).
 *
 * Not on the packet path: it gathers the public API a board program
 * needs — the Stack, its configuration and the board descriptions, the
 * device layer, address/route configuration, ICMP echo, the socket API
 * and the portable drivers — and adds a factory that builds a Stack for a
 * board with Espruino's clock. Upload the bundle as a module, then:
 *
 *   const net = require('slabnet');
 *   const st = net.createBoardStack('espruino-pico-enc28j60', null);
 *   setInterval(function () { st.poll(); }, 10);
 *
 * Keep this file in step with src/ and drivers/: every portable piece an
 * application uses is re-exported here (Node-only code, src/cli, src/host
 * and drivers/host, must never be imported).
 */
import { Stack } from './stack';
import { StackConfig, makeConfig, defaultConfig } from './config';
import { Clock, ManualClock } from './core/clock';
import { Board, BOARDS, findBoard, boardConfig, estimateStaticRam } from '../boards/index';

/* Espruino built-in: seconds since power-on, as a float. */
declare function getTime(): number;

/** Espruino's clock: milliseconds from getTime(). */
export class EspruinoClock implements Clock {
  now(): number {
    return getTime() * 1000;
  }
}

/**
 * Build a Stack for a board (by id or Board object) with extra overrides
 * (or null). The clock defaults to Espruino's getTime(). Returns null for
 * an unknown board id. Configuration time only: allocates everything.
 */
export function createBoardStack(board: string | Board, over: Partial<StackConfig> | null, clock?: Clock): Stack | null {
  const b = typeof board === 'string' ? findBoard(board) : board;
  if (b === null) return null;
  const cfg = boardConfig(b);
  if (over !== null) {
    const src = over as { [k: string]: unknown };
    const dst = cfg as unknown as { [k: string]: unknown };
    for (const k in src) if (src[k] !== undefined) dst[k] = src[k];
  }
  return new Stack(b.id, cfg, clock !== undefined ? clock : new EspruinoClock(), undefined);
}

export { Stack, makeConfig, defaultConfig, ManualClock, BOARDS, findBoard, boardConfig, estimateStaticRam };
export type { StackConfig, Clock, Board };
export { EV_READABLE, EV_WRITABLE, EV_CONNECTED, EV_CLOSED, EV_ERROR } from './stack';
export * from './core/errno';
export { SKB_NONE } from './core/skb';
export { registerNetdev, devOpen, devClose, rxFrame, devTxComplete, getDev } from './link/dev';
export { NETDEV_TX_OK, NETDEV_TX_BUSY } from './link/netdev';
export { parseMac, formatMac } from './link/ether';
export { parseIp, formatIp, prefixMask } from './link/ifaddr';
export {
  ifconfig, ipAddrAdd, ipAddrDel, ipRouteAdd, ipRouteDel, ipSetDefaultGateway,
} from './ipv4/devinet';
export { icmpPing } from './ipv4/icmp';
export type { IcmpEchoHandler } from './ipv4/icmp';
export {
  socket, bind, connect, sendto, send, recvfrom, recv, recvLen, close, setsockopt, getsockopt,
  getsockname, getpeername, poll, sockErr, SocketApi,
} from './socket/socket';
export {
  SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW,
  SOL_SOCKET, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SOL_IP, IP_TOS, IP_TTL,
  IP_HDRINCL, INADDR_ANY, INADDR_BROADCAST,
} from './socket/sock';
export { EventMux, eventMux, Emitter } from './socket/events';
export { createSocket as dgramCreateSocket } from './socket/dgram';
export { listen, accept, shutdown } from './socket/socket';
export {
  SO_KEEPALIVE, SO_LINGER, SOL_TCP, TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SHUT_RD, SHUT_WR,
  SHUT_RDWR,
} from './socket/sock';
export {
  createServer as netCreateServer, connect as netConnect, createConnection as netCreateConnection,
} from './socket/net';
export { networkJs, NetworkJs } from './socket/networkjs';
export { ServiceMux } from './apps/service';
export { UdpEchoService, ECHO_PORT } from './apps/echo';
export { UdpDiscardService, DISCARD_PORT } from './apps/discard';
export { createPairLink, PairLink, PairEnd } from '../drivers/pair/pairlink';
export { EspruinoSpiBus, EspruinoIrqLine, espruinoSpiBus, espruinoIrqLine } from '../drivers/espruino/spi';
export { attachEnc28j60, Enc28j60Driver } from '../drivers/enc28j60/driver';
export { attachW5500, W5500Driver } from '../drivers/w5500/driver';
export { DhcpClient, DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_LOST, DHCP_EV_CONFLICT, DHCP_EV_NAK, DHCP_EV_RELEASED } from './apps/dhcp_client';
export { DnsResolver } from './apps/dns_resolver';
