/*
 * compact_host.ts — a compact stack (src/compact/, the small boards'
 * profiles) on a simulated switch port, next to general-stack SimHosts.
 * Not on any packet path: the simulation's glue. Frames the wire delivers
 * wait in a small FIFO of wire slots (the chip's receive buffer) and are
 * fed to netInput one by one in onTick, which also runs the compact
 * stack's timers; what the stack sends goes onto the cable at once.
 *
 *   const c = new SimCompactHost(sim, 'pico', null);
 *   netSetIp(c.n, ip, mask, 0, 0);
 */
import type { Sim, SimTicker } from './world';
import type { Fabric, PortEndpoint, SimPort, SimSwitch } from './switch';
import { Net, netCreate, netInput, netTick, CompactConfig, FrameOut } from '../compact/net';

/** frames the host's "chip" holds before it refuses more (an ENC28J60 holds ~5 full frames) */
export const COMPACT_RX_FIFO = 8;

export class SimCompactHost implements PortEndpoint, SimTicker, FrameOut {
  readonly port: SimPort;
  readonly n: Net;
  private fifo: Int32Array = new Int32Array(COMPACT_RX_FIFO);
  private head = 0;
  private count = 0;
  rxFifoDrops = 0;

  constructor(readonly sim: Sim, readonly name: string, over: Partial<CompactConfig> | null, sw?: SimSwitch, mac?: Uint8Array) {
    const s = sw !== undefined ? sw : sim.switches[0];
    this.port = sim.fabric.addPort(s, name + '.eth0');
    this.port.endpoint = this;
    // 02:73:6c:c0:PP:00 — locally administered, distinct from Sim.macFor's host MACs
    const m = mac !== undefined ? mac : new Uint8Array([0x02, 0x73, 0x6c, 0xc0, this.port.id & 0xff, 0]);
    this.n = netCreate(over, m, sim.clock, sim.rng.next32());
    this.n.out = this;
    sim.addTicker(this);
  }

  xmit(b: Uint8Array, len: number): void {
    this.sim.fabric.hostTransmit(this.port, this.sim.now(), b, 0, len);
  }

  deliverFrame(_fabric: Fabric, slot: number): boolean {
    if (this.count >= COMPACT_RX_FIFO) {
      this.rxFifoDrops++;
      return false;
    }
    this.fifo[(this.head + this.count) % COMPACT_RX_FIFO] = slot;
    this.count++;
    return true;
  }

  onTick(_sim: Sim): number {
    const pool = this.sim.fabric.pool;
    let done = 0;
    while (this.count > 0) {
      const s = this.fifo[this.head];
      this.head = (this.head + 1) % COMPACT_RX_FIFO;
      this.count--;
      const len = pool.len[s];
      const o = pool.off(s);
      this.n.rx.set(pool.data.subarray(o, o + len), 0);
      pool.free(s);
      netInput(this.n, len);
      done++;
    }
    netTick(this.n);
    return done;
  }
}
