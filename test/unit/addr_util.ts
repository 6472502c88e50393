/*
 * Test helper: IPv4 literals in the UNSIGNED form (0 .. 2^32-1), the form
 * applications see (recvfrom from[0], getsockname) and get32 reads from
 * the wire. The stack's public entry points accept it and normalize to
 * the internal s32 form (src/core/inaddr.ts), so tests written with it
 * also exercise that compatibility path.
 */
import { u32 } from '../../src/core/bits';
import { parseIpStrict } from '../../src/link/ifaddr';

export function parseIpU(s: string): number {
  return u32(parseIpStrict(s));
}
