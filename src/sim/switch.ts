/*
 * switch.ts — virtual learning switches (IEEE 802.1D transparent bridging,
 * without spanning tree) and the Fabric that moves frames between them and
 * the simulated NICs in virtual time.
 *
 * A frame sent by a host travels: SimNic.startXmit → Fabric.hostTransmit
 * → port.up (host→switch LinkDir: faults, delay) → [arrives] →
 * SimSwitch.ingress (learn source MAC, forward to the known port or flood)
 * → out-port.down (switch→host LinkDir) → [arrives] → the port's endpoint
 * (SimNic RX FIFO) → rxFrame on the next poll.
 *
 * Captures: a PcapWriter on a port records what its host sends (before
 * the wire's faults) and what it receives (after them); a PcapWriter on a
 * switch records every frame the switch receives (after the up-link
 * faults), i.e. one copy of all traffic.
 */
import { FramePool, LinkDir, KIND_TO_SWITCH, KIND_TO_HOST } from './link';
import type { SimRng } from './prng';

/** Where captured frames go: a PcapWriter (src/sim/pcap.ts) or a PcapFile (src/host/pcapfile.ts). */
export interface FrameSink {
  record(tsMs: number, buf: Uint8Array, off: number, len: number): void;
}

/** The host side of a port (a NIC). deliverFrame takes ownership of the slot when it returns true. */
export interface PortEndpoint {
  deliverFrame(fabric: Fabric, slot: number): boolean;
}

/** Watches frames (the CLI's timeline, tests). ev: 'tx' host sent, 'sw' switch ingress, 'rx' delivered to host. */
export interface FrameObserver {
  onFrame(ev: number, port: SimPort, t: number, buf: Uint8Array, off: number, len: number): void;
}
export const FEV_TX = 1;
export const FEV_SWITCH = 2;
export const FEV_RX = 3;

export class SimPort {
  /** host → switch */
  readonly up: LinkDir;
  /** switch → host */
  readonly down: LinkDir;
  endpoint: PortEndpoint | null = null;
  capture: FrameSink | null = null;
  /** frames the endpoint refused (queue full, device down) */
  rxRefused = 0;
  delivered = 0;
  constructor(
    readonly id: number,
    readonly sw: SimSwitch,
    readonly index: number,
    readonly name: string,
  ) {
    this.up = new LinkDir(name + '>' + sw.name);
    this.down = new LinkDir(sw.name + '>' + name);
  }
}

export class SimSwitch {
  readonly ports: SimPort[] = [];
  readonly macKey: Float64Array;
  readonly macPort: Int32Array;
  readonly macSeen: Float64Array;
  macCount = 0;
  capture: FrameSink | null = null;
  /** MAC entries older than this are forgotten (802.1D default 300 s) */
  ageMs = 300000;
  /* counters */
  received = 0;
  forwarded = 0;
  flooded = 0;
  /** dst is on the ingress port */
  filtered = 0;
  learned = 0;
  tableFull = 0;
  runts = 0;

  constructor(
    readonly name: string,
    tableSize: number,
  ) {
    this.macKey = new Float64Array(tableSize);
    this.macPort = new Int32Array(tableSize);
    this.macSeen = new Float64Array(tableSize);
  }

  /** Port currently learned for a MAC key, or -1. */
  lookup(key: number, now: number): number {
    for (let i = 0; i < this.macCount; i++) {
      if (this.macKey[i] === key) {
        if (now - this.macSeen[i] > this.ageMs) return -1;
        return this.macPort[i];
      }
    }
    return -1;
  }

  learn(key: number, port: number, now: number): void {
    let oldest = -1;
    for (let i = 0; i < this.macCount; i++) {
      if (this.macKey[i] === key) {
        this.macPort[i] = port;
        this.macSeen[i] = now;
        return;
      }
      if (oldest < 0 || this.macSeen[i] < this.macSeen[oldest]) oldest = i;
    }
    let i = this.macCount;
    if (i >= this.macKey.length) {
      this.tableFull++;
      if (oldest < 0 || now - this.macSeen[oldest] <= this.ageMs) return;
      i = oldest;
    } else {
      this.macCount++;
    }
    this.macKey[i] = key;
    this.macPort[i] = port;
    this.macSeen[i] = now;
    this.learned++;
  }
}

/** 48-bit MAC at b[o] as an exact number (fits a double and a Lua integer). */
export function macKey(b: Uint8Array, o: number): number {
  return (b[o] * 0x10000 + (b[o + 1] << 8) + b[o + 2]) * 0x1000000 + (b[o + 3] * 0x10000 + (b[o + 4] << 8) + b[o + 5]);
}

export class Fabric {
  readonly pool: FramePool;
  readonly switches: SimSwitch[] = [];
  readonly ports: SimPort[] = [];
  observer: FrameObserver | null = null;
  macTableSize = 64;

  constructor(
    readonly rng: SimRng,
    slots: number,
    slotSize: number,
  ) {
    this.pool = new FramePool(slots, slotSize);
  }

  addSwitch(name: string): SimSwitch {
    const sw = new SimSwitch(name, this.macTableSize);
    this.switches.push(sw);
    return sw;
  }

  addPort(sw: SimSwitch, name: string): SimPort {
    const p = new SimPort(this.ports.length, sw, sw.ports.length, name);
    this.ports.push(p);
    sw.ports.push(p);
    return p;
  }

  /** A host puts a frame on its cable at time now (the bytes are copied). */
  hostTransmit(port: SimPort, now: number, buf: Uint8Array, off: number, len: number): number {
    if (port.capture !== null) port.capture.record(now, buf, off, len);
    const ob = this.observer;
    if (ob !== null) ob.onFrame(FEV_TX, port, now, buf, off, len);
    return port.up.send(this.pool, this.rng, now, buf, off, len, KIND_TO_SWITCH, port.id);
  }

  /** Earliest in-flight arrival time, or -1. */
  nextTime(): number {
    return this.pool.nextTime();
  }

  /** Handle every frame due at or before now (in time order). Returns how many were handled. */
  deliverDue(now: number): number {
    const pool = this.pool;
    let n = 0;
    let s = pool.takeDue(now);
    while (s >= 0) {
      n++;
      const port = this.ports[pool.target[s]];
      if (pool.kind[s] === KIND_TO_SWITCH) {
        this.switchIngress(port, s, pool.time[s]);
        pool.free(s);
      } else if (pool.kind[s] === KIND_TO_HOST) {
        const t = pool.time[s];
        const o = pool.off(s);
        const len = pool.len[s];
        if (port.capture !== null) port.capture.record(t, pool.data, o, len);
        const ob = this.observer;
        if (ob !== null) ob.onFrame(FEV_RX, port, t, pool.data, o, len);
        const ep = port.endpoint;
        if (ep !== null && ep.deliverFrame(this, s)) {
          port.delivered++;
        } else {
          port.rxRefused++;
          pool.free(s);
        }
      } else {
        pool.free(s);
      }
      s = pool.takeDue(now);
    }
    return n;
  }

  private switchIngress(inPort: SimPort, s: number, t: number): void {
    const sw = inPort.sw;
    const pool = this.pool;
    const d = pool.data;
    const o = pool.off(s);
    const len = pool.len[s];
    sw.received++;
    if (sw.capture !== null) sw.capture.record(t, d, o, len);
    const ob = this.observer;
    if (ob !== null) ob.onFrame(FEV_SWITCH, inPort, t, d, o, len);
    if (len < 14) {
      sw.runts++;
      return;
    }
    // learn unicast sources (RFC-less: 802.1D 7.8)
    if ((d[o + 6] & 1) === 0) sw.learn(macKey(d, o + 6), inPort.index, t);
    let out = -1;
    if ((d[o] & 1) === 0) out = sw.lookup(macKey(d, o), t);
    if (out === inPort.index) {
      sw.filtered++;
      return;
    }
    if (out >= 0) {
      sw.forwarded++;
      const op = sw.ports[out];
      op.down.send(pool, this.rng, t, d, o, len, KIND_TO_HOST, op.id);
      return;
    }
    sw.flooded++;
    for (let i = 0; i < sw.ports.length; i++) {
      if (i === inPort.index) continue;
      const op = sw.ports[i];
      op.down.send(pool, this.rng, t, d, o, len, KIND_TO_HOST, op.id);
    }
  }
}
