/*
 * socket.ts — the zero-allocation socket API. STUB: being implemented.
 */
import type { Stack } from '../stack';

export class SocketTable {}

export function initSockets(st: Stack): SocketTable {
  return st ? new SocketTable() : new SocketTable();
}
