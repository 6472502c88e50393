/*
 * enc28j60_util.ts — fixtures for the ENC28J60 tests: two stacks, each on
 * its own Enc28j60Mock + Enc28j60Driver, the chips cabled back to back.
 */
import { Stack } from '../../src/stack';
import { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { ifconfig } from '../../src/ipv4/devinet';
import { devOpen } from '../../src/link/dev';
import { Enc28j60Mock, connectBackToBack } from '../../drivers/enc28j60/mock';
import { attachEnc28j60, enc28j60Of, Enc28j60Driver } from '../../drivers/enc28j60/driver';
import { parseIpU } from './addr_util';

export const MAC_A = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x0b]);
export const IP_A = parseIpU('192.0.2.1');
export const IP_B = parseIpU('192.0.2.2');

export interface EncEnv {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  ca: Enc28j60Mock;
  cb: Enc28j60Mock;
  da: Enc28j60Driver;
  db: Enc28j60Driver;
  devA: number;
  devB: number;
}

export function encPair(over?: Partial<StackConfig>): EncEnv {
  const clock = new ManualClock(1000);
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', Object.assign({}, over === undefined ? {} : over, { seed: 7 }), clock, undefined);
  const ca = new Enc28j60Mock('a');
  const cb = new Enc28j60Mock('b');
  connectBackToBack(ca, cb);
  const devA = attachEnc28j60(a, ca, ca, MAC_A, 'eth0');
  const devB = attachEnc28j60(b, cb, cb, MAC_B, 'eth0');
  if (devA < 0 || devB < 0) throw new Error('attachEnc28j60 failed ' + devA + ' ' + devB);
  if (ifconfig(a, devA, '192.0.2.1/24', null) !== 0) throw new Error('ifconfig a');
  if (ifconfig(b, devB, '192.0.2.2/24', null) !== 0) throw new Error('ifconfig b');
  devOpen(a, devA);
  devOpen(b, devB);
  const da = enc28j60Of(a, devA);
  const db = enc28j60Of(b, devB);
  if (da === null || db === null) throw new Error('no driver');
  const e: EncEnv = { clock, a, b, ca, cb, da, db, devA, devB };
  encRun(e, 50);
  return e;
}

/** Advance virtual time in 10 ms steps for `ms`, polling both stacks. */
export function encRun(e: EncEnv, ms: number): void {
  for (let t = 0; t < ms; t += 10) {
    e.clock.advance(10);
    e.a.poll();
    e.b.poll();
  }
}

/** An Ethernet frame of `len` bytes (no FCS) to dst from src, ethertype 0x88b5 (local experimental), payload i & 0xff. */
export function ethFrame(dst: Uint8Array, src: Uint8Array, len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < 6; i++) {
    f[i] = dst[i];
    f[6 + i] = src[i];
  }
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < len; i++) f[i] = (i + seed) & 0xff;
  return f;
}
