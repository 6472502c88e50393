/*
 * raw.ts — raw IPv4 sockets. STUB: being implemented.
 */
import type { Stack } from '../stack';

export class RawTable {}

export function initRaw(st: Stack): RawTable {
  return st ? new RawTable() : new RawTable();
}
