/*
 * w5500_util.ts — fixtures for the W5500 tests: two stacks, each with its
 * own W5500Mock (the SPI bus and INT line) and W5500Driver, cabled back to
 * back (chip A's wire into chip B and vice versa), or through the
 * simulation's virtual switch (W5500SimPort).
 */
import { Stack } from '../../src/stack';
import type { StackConfig } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { ifconfig } from '../../src/ipv4/devinet';
import { devOpen, getDev } from '../../src/link/dev';
import { u32 } from '../../src/core/bits';
import type { IcmpEchoHandler } from '../../src/ipv4/icmp';
import { W5500Mock } from '../../drivers/w5500/mock';
import { W5500Driver, W5500Options, attachW5500 } from '../../drivers/w5500/driver';
import { W5500SimPort } from '../../drivers/w5500/simport';
import { Sim } from '../../src/sim/world';

export const MAC_A = new Uint8Array([0x02, 0x55, 0, 0, 0, 0x0a]);
export const MAC_B = new Uint8Array([0x02, 0x55, 0, 0, 0, 0x0b]);
export const IP_A_S = '192.0.2.2';
export const IP_B_S = '192.0.2.3';

export interface W5500Env {
  clock: ManualClock;
  a: Stack;
  b: Stack;
  ca: W5500Mock;
  cb: W5500Mock;
  da: number;
  db: number;
  wa: W5500Driver;
  wb: W5500Driver;
  sim: Sim | null;
}

export function driverOf(st: Stack, dev: number): W5500Driver {
  const d = getDev(st, dev);
  if (d === null) throw new Error('no dev');
  return d.driver as W5500Driver;
}

/** Advance virtual time in 1 ms steps, moving switch frames (if any) and polling both stacks. */
export function run(e: W5500Env, ms: number): void {
  for (let t = 0; t < ms; t++) {
    e.clock.advance(1);
    if (e.sim !== null) e.sim.fabric.deliverDue(e.clock.t);
    e.a.poll();
    e.b.poll();
  }
}

export interface PairOpts {
  over?: Partial<StackConfig>;
  optsA?: W5500Options;
  optsB?: W5500Options;
  /** cable through the simulation's switch instead of back to back */
  viaSwitch?: boolean;
  /** give the drivers the INT line (default true) */
  irq?: boolean;
}

/** A = 192.0.2.2/24 on chip A, B = 192.0.2.3/24 on chip B; both up. */
export function w5500Pair(o?: PairOpts): W5500Env {
  const opts: PairOpts = o !== undefined ? o : {};
  const over = opts.over !== undefined ? opts.over : {};
  let sim: Sim | null = null;
  let clock: ManualClock;
  if (opts.viaSwitch === true) {
    sim = new Sim({ seed: 11 });
    clock = sim.clock;
  } else {
    clock = new ManualClock(1000);
  }
  const a = new Stack('a', over, clock, undefined);
  const b = new Stack('b', Object.assign({}, over, { seed: 7 }), clock, undefined);
  const ca = new W5500Mock();
  const cb = new W5500Mock();
  if (sim !== null) {
    const sw = sim.switches[0];
    new W5500SimPort(sim.fabric, sim.fabric.addPort(sw, 'a.eth0'), ca, clock);
    new W5500SimPort(sim.fabric, sim.fabric.addPort(sw, 'b.eth0'), cb, clock);
  } else {
    ca.attachWire(cb);
    cb.attachWire(ca);
  }
  const irq = opts.irq !== false;
  const da = attachW5500(a, ca, irq ? ca : null, MAC_A, 'eth0', opts.optsA);
  const db = attachW5500(b, cb, irq ? cb : null, MAC_B, 'eth0', opts.optsB);
  if (da < 0 || db < 0) throw new Error('attachW5500 ' + da + ' ' + db);
  if (ifconfig(a, da, IP_A_S + '/24', null) !== 0) throw new Error('ifconfig a');
  if (ifconfig(b, db, IP_B_S + '/24', null) !== 0) throw new Error('ifconfig b');
  devOpen(a, da);
  devOpen(b, db);
  const e: W5500Env = { clock, a, b, ca, cb, da, db, wa: driverOf(a, da), wb: driverOf(b, db), sim };
  run(e, 20);
  return e;
}

export class EchoRec implements IcmpEchoHandler {
  replies: { saddr: number; ident: number; seq: number; len: number }[] = [];
  onEchoReply(saddr: number, ident: number, seq: number, payloadLen: number): void {
    this.replies.push({ saddr: u32(saddr), ident, seq, len: payloadLen });
  }
}
