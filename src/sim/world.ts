/*
 * world.ts — the deterministic simulation: one virtual clock, one seeded
 * PRNG, virtual switches, and any number of slabnet stacks attached to
 * them through SimNics. Everything — fault injection, each stack's own
 * random source, event order — follows from the seed, so a failing run
 * replays exactly: print sim.describe() in assertion messages.
 *
 * Time advances only in run()/runUntil()/step(): to the next event, which
 * is the earliest of the next frame arrival, each stack's next timer
 * expiry and the step cap (stepMs), and at each instant the simulation
 * "settles": delivers every due frame and polls every stack until nothing
 * moves.
 *
 *   const sim = new Sim({ seed: 7 });
 *   const a = sim.addHost('a');            // Stack + SimNic on switch 0 (device down)
 *   const b = sim.addHost('b', { skbSmallCount: 16 });
 *   sim.setFaults(a, { loss: 0.1 });       // both directions of a's cable
 *   ... configure addresses, devOpen ...
 *   sim.runUntil(() => done, 5000);
 */
import { Stack } from '../stack';
import type { StackConfig } from '../config';
import { ManualClock } from '../core/clock';
import { XorShift32 } from '../core/rng';
import { registerNetdev, devOpen } from '../link/dev';
import { SimRng } from './prng';
import { Fabric, SimSwitch, SimPort, FrameSink } from './switch';
import { LinkFaultsInit } from './link';
import { SimNic } from '../../drivers/sim/simnic';

export interface SimOptions {
  seed?: number;
  /** largest virtual-time step without an event (ms, default 10) */
  stepMs?: number;
  /** in-flight frame slots (default 512) */
  slots?: number;
  /** bytes per slot (default 1536: a full Ethernet frame) */
  slotSize?: number;
  /** NIC RX FIFO length in frames (default 64) */
  nicRxFifo?: number;
  /** virtual start time (ms, default 0) */
  startMs?: number;
}

/** Application code run at every settled instant (servers, traffic generators). Returns work done (0 = idle). */
export interface SimTicker {
  onTick(sim: Sim): number;
}

export class SimHost {
  readonly nics: SimNic[] = [];
  constructor(
    readonly index: number,
    readonly name: string,
    readonly st: Stack,
  ) {}
  /** device index of this host's n-th NIC */
  dev(n: number): number {
    return this.nics[n].devIndex;
  }
  port(n: number): SimPort {
    return this.nics[n].port;
  }
}

export class Sim {
  readonly seed: number;
  readonly clock: ManualClock;
  readonly rng: SimRng;
  readonly fabric: Fabric;
  readonly hosts: SimHost[] = [];
  readonly tickers: SimTicker[] = [];
  stepMs: number;
  nicRxFifo: number;
  /** settle rounds per instant before giving up (a frame storm) */
  maxSettleRounds = 1000;
  /** instants where settle hit maxSettleRounds */
  settleOverruns = 0;
  steps = 0;

  constructor(opts?: SimOptions) {
    const o = opts !== undefined ? opts : {};
    this.seed = o.seed !== undefined ? o.seed : 1;
    this.clock = new ManualClock(o.startMs !== undefined ? o.startMs : 0);
    this.rng = new SimRng(this.seed);
    this.stepMs = o.stepMs !== undefined ? o.stepMs : 10;
    this.nicRxFifo = o.nicRxFifo !== undefined ? o.nicRxFifo : 64;
    this.fabric = new Fabric(this.rng, o.slots !== undefined ? o.slots : 512, o.slotSize !== undefined ? o.slotSize : 1536);
    this.fabric.addSwitch('sw0');
  }

  now(): number {
    return this.clock.t;
  }

  /** "seed=N t=Tms" for assertion messages: rerun with this seed to replay. */
  describe(): string {
    return 'seed=' + this.seed + ' t=' + this.clock.t + 'ms';
  }

  get switches(): SimSwitch[] {
    return this.fabric.switches;
  }

  addSwitch(name?: string): SimSwitch {
    return this.fabric.addSwitch(name !== undefined ? name : 'sw' + this.fabric.switches.length);
  }

  /** Deterministic locally administered MAC: 02:73:6c:HH:NN:00 (host index, NIC index). */
  macFor(hostIndex: number, nic: number): Uint8Array {
    return new Uint8Array([0x02, 0x73, 0x6c, hostIndex & 0xff, nic & 0xff, (hostIndex >>> 8) & 0xff]);
  }

  /**
   * Create a stack named `name` with its own seed drawn from the simulation
   * PRNG and one SimNic on `sw` (default: the first switch). The device is
   * registered DOWN: configure it, then devOpen (or sim.up(host)).
   */
  addHost(name: string, over?: Partial<StackConfig>, sw?: SimSwitch): SimHost {
    const seed = this.rng.next32();
    const cfg: Partial<StackConfig> = {};
    if (over !== undefined) {
      const src = over as { [k: string]: unknown };
      const dst = cfg as { [k: string]: unknown };
      for (const k in src) dst[k] = src[k];
    }
    if (cfg.seed === undefined) cfg.seed = seed;
    const st = new Stack(name, cfg, this.clock, new XorShift32(cfg.seed));
    const h = new SimHost(this.hosts.length, name, st);
    this.hosts.push(h);
    this.attach(h, sw !== undefined ? sw : this.fabric.switches[0]);
    return h;
  }

  /** Give a host one more NIC, on switch sw (a router's second leg). Returns the NIC. */
  attach(h: SimHost, sw: SimSwitch, mtu?: number, mac?: Uint8Array): SimNic {
    const n = h.nics.length;
    const port = this.fabric.addPort(sw, h.name + '.eth' + n);
    const nic = new SimNic(h.st, this.fabric, port, this.nicRxFifo);
    const m = mac !== undefined ? mac : this.macFor(h.index, n);
    const dev = registerNetdev(h.st, 'eth' + h.st.link.devs.length, m, mtu !== undefined ? mtu : h.st.cfg.mtu, nic);
    if (dev < 0) throw new Error('Sim.attach: registerNetdev failed: ' + dev);
    nic.devIndex = dev;
    h.nics.push(nic);
    return nic;
  }

  host(name: string): SimHost {
    for (let i = 0; i < this.hosts.length; i++) if (this.hosts[i].name === name) return this.hosts[i];
    throw new Error('no such host: ' + name);
  }

  /** devOpen every device of a host (NETDEV_UP: gratuitous ARP when addresses exist). */
  up(h: SimHost): void {
    for (let i = 0; i < h.nics.length; i++) devOpen(h.st, h.nics[i].devIndex);
  }

  /** Set faults on a host's cable (nic n, default 0). dir: 'tx' host→switch, 'rx' switch→host, 'both'. */
  setFaults(h: SimHost, f: Partial<LinkFaultsInit>, dir?: 'tx' | 'rx' | 'both', nic?: number): void {
    const p = h.nics[nic !== undefined ? nic : 0].port;
    const d = dir !== undefined ? dir : 'both';
    if (d !== 'rx') p.up.faults.set(f);
    if (d !== 'tx') p.down.faults.set(f);
  }

  /** Unplug a host's cable (both directions) for ms of virtual time. */
  outage(h: SimHost, ms: number, nic?: number): void {
    const p = h.nics[nic !== undefined ? nic : 0].port;
    p.up.outage(this.clock.t, ms);
    p.down.outage(this.clock.t, ms);
  }

  /** Capture a host's cable (what it sends and receives). */
  capturePort(h: SimHost, w: FrameSink, nic?: number): void {
    h.nics[nic !== undefined ? nic : 0].port.capture = w;
  }

  /** Capture everything a switch receives. */
  captureSwitch(sw: SimSwitch, w: FrameSink): void {
    sw.capture = w;
  }

  addTicker(t: SimTicker): void {
    this.tickers.push(t);
  }

  removeTicker(t: SimTicker): void {
    const i = this.tickers.indexOf(t);
    if (i >= 0) this.tickers.splice(i, 1);
  }

  /** Deliver due frames and poll every stack until nothing moves at this instant. */
  settle(): number {
    const now = this.clock.t;
    let total = 0;
    for (let round = 0; round < this.maxSettleRounds; round++) {
      let n = this.fabric.deliverDue(now);
      for (let i = 0; i < this.hosts.length; i++) n += this.hosts[i].st.poll();
      for (let i = 0; i < this.tickers.length; i++) n += this.tickers[i].onTick(this);
      total += n;
      if (n === 0) return total;
    }
    this.settleOverruns++;
    return total;
  }

  /** The next instant something happens, capped at `limit`. */
  nextEventTime(limit: number): number {
    const now = this.clock.t;
    let next = now + this.stepMs;
    if (limit < next) next = limit;
    const ft = this.fabric.nextTime();
    if (ft >= 0 && ft < next) next = ft;
    for (let i = 0; i < this.hosts.length; i++) {
      const e = this.hosts[i].st.timers.nextExpiry();
      if (e >= 0 && e < next) next = e;
    }
    // a timer already due (re-armed in the past) fires on the wheel's next tick
    if (next <= now) next = now + 1 < limit ? now + 1 : limit;
    return next;
  }

  /** Advance to the next event (at most to `limit`) and settle. */
  step(limit: number): void {
    const t = this.nextEventTime(limit);
    this.clock.set(t);
    this.steps++;
    this.settle();
  }

  /** Run for ms of virtual time. */
  run(ms: number): void {
    const end = this.clock.t + ms;
    this.settle();
    while (this.clock.t < end) this.step(end);
  }

  /** Run until pred() holds (checked after every settled instant) or maxMs pass. Returns pred's final value. */
  runUntil(pred: () => boolean, maxMs: number): boolean {
    const end = this.clock.t + maxMs;
    this.settle();
    if (pred()) return true;
    while (this.clock.t < end) {
      this.step(end);
      if (pred()) return true;
    }
    return false;
  }

  /** skbs in use, summed over all stacks (0 when every packet was freed). */
  skbsInUse(): number {
    let n = 0;
    for (let i = 0; i < this.hosts.length; i++) n += this.hosts[i].st.pool.inUse();
    return n;
  }
}
